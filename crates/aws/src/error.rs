//! AWS errors in the product's words: who may not do what (the IAM
//! permission named), what is not there, and when AWS cannot be reached,
//! one `offline` error rather than a cascade.

use std::fmt::Debug;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use tablero_core::ports::{BackendError, ErrorKind};

/// One AWS call, for its errors: the IAM permission it needs and, in
/// words, what it does (after "cannot").
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    /// `s3:PutObject`, `sagemaker:UpdateModelPackage`, …
    pub iam: &'a str,
    /// `upload raw/sales.csv`, …
    pub what: &'a str,
}

/// Codes that mean "not allowed", whatever the service.
const DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Forbidden",
    "AuthorizationError",
    "NotAuthorized",
];

/// Codes that mean the credentials themselves were refused.
const BAD_CREDENTIALS: &[&str] = &[
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "InvalidToken",
    "UnauthorizedException",
];

/// [`classify`] for `map_err`: `.map_err(fail("s3:PutObject", &what))`.
pub(crate) fn fail<'a, E>(
    iam: &'a str,
    what: &'a str,
) -> impl FnOnce(SdkError<E, HttpResponse>) -> BackendError + 'a
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| classify(e, Call { iam, what })
}

/// The error's service code, message and HTTP status.
pub(crate) fn parts<E: ProvideErrorMetadata>(
    e: &SdkError<E, HttpResponse>,
) -> (Option<String>, Option<String>, Option<u16>) {
    let status = e.raw_response().map(|r| r.status().as_u16());
    (
        e.code().map(str::to_string),
        e.message().map(str::to_string),
        status,
    )
}

/// Whether the error is S3's or another service's "no such thing".
pub(crate) fn is_not_found<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    let (code, _, status) = parts(e);
    status == Some(404)
        || matches!(
            code.as_deref(),
            Some("NoSuchKey" | "NotFound" | "NoSuchVersion" | "ResourceNotFound")
        )
}

/// Whether the error is a failed precondition (`If-None-Match: *` on an
/// existing object).
pub(crate) fn is_precondition_failed<E: ProvideErrorMetadata>(
    e: &SdkError<E, HttpResponse>,
) -> bool {
    let (code, _, status) = parts(e);
    status == Some(412) || code.as_deref() == Some("PreconditionFailed")
}

/// The error in the product's words.
pub(crate) fn classify<E>(e: SdkError<E, HttpResponse>, call: Call<'_>) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let what = call.what;
    // No credentials anywhere in the chain (no profile, no environment, no
    // SSO session, no instance role) is not a network problem.
    let mut chain = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    let lower = chain.to_lowercase();
    if matches!(
        e,
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_)
    ) && (lower.contains("credential") || lower.contains("profile"))
    {
        return BackendError::permission(
            format!(
                "no usable AWS credentials: cannot {what} ({chain}); set [aws] profile or AWS_PROFILE, \
                 sign in (`aws sso login`), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ),
            "AWS credentials",
        );
    }
    match &e {
        SdkError::DispatchFailure(d) => {
            let cause = e.to_string();
            let detail = std::error::Error::source(&e)
                .map(|s| format!("{cause}: {s}"))
                .unwrap_or(cause);
            let why = if d.is_timeout() {
                "timed out"
            } else {
                "could not connect"
            };
            return BackendError::new(
                ErrorKind::Offline,
                format!("AWS is unreachable: cannot {what} ({why}: {detail}); check the network and [aws] endpoint_url"),
            );
        }
        SdkError::TimeoutError(_) => {
            return BackendError::new(
                ErrorKind::Offline,
                format!("AWS is unreachable: cannot {what} (the call timed out)"),
            );
        }
        SdkError::ConstructionFailure(_) => {
            let detail = std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.to_string());
            return BackendError::refused(format!("cannot {what}: {detail}"));
        }
        _ => {}
    }
    let (code, message, status) = parts(&e);
    let said = match (&code, &message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.clone(),
        (None, Some(m)) => m.clone(),
        (None, None) => format!("HTTP {}", status.unwrap_or(0)),
    };
    let code_s = code.as_deref().unwrap_or("");
    if BAD_CREDENTIALS.contains(&code_s) {
        return BackendError::permission(
            format!(
                "AWS refused the credentials: cannot {what} ({said}); sign in again (`aws sso login`) or check [aws] profile"
            ),
            "valid AWS credentials",
        );
    }
    if DENIED.contains(&code_s)
        || (status == Some(403) && code.is_none())
        || (status == Some(403) && code_s == "Forbidden")
    {
        return BackendError::permission(
            format!(
                "permission denied: cannot {what}: your AWS role lacks {} ({said})",
                call.iam
            ),
            call.iam,
        );
    }
    if matches!(status, Some(500..=599)) || code_s == "ThrottlingException" || code_s == "SlowDown"
    {
        return BackendError::new(
            ErrorKind::Offline,
            format!("AWS is unavailable: cannot {what} ({said}) after retrying; try again shortly"),
        );
    }
    if is_not_found(&e) {
        return BackendError::not_found(format!("cannot {what}: not found ({said})"));
    }
    BackendError::refused(format!("cannot {what}: {said}"))
}
