//! The SDK clients of one backend, built once from `[aws]`.

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use tablero_core::ports::Result;

use crate::config::AwsConfig;
use crate::runtime::block_on;

/// Static credentials (tests, and a harness acting as several people).
#[derive(Debug, Clone)]
pub struct StaticCredentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret.
    pub secret_access_key: String,
    /// Session token of temporary credentials.
    pub session_token: Option<String>,
}

/// The clients every adapter uses.
#[derive(Clone, Debug)]
pub struct Clients {
    /// S3 (path-style addressing when an endpoint URL is set).
    pub s3: aws_sdk_s3::Client,
    /// SageMaker.
    pub sagemaker: aws_sdk_sagemaker::Client,
    /// STS.
    pub sts: aws_sdk_sts::Client,
    /// API Gateway.
    pub apigateway: aws_sdk_apigateway::Client,
    /// ECS (the endpoint's service).
    pub ecs: aws_sdk_ecs::Client,
    /// CloudWatch (metrics, alarms).
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// CloudWatch Logs (the endpoint's EMF lines).
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// Lambda (the ETL function; `[aws.compute] lambda_endpoint_url`
    /// when set).
    pub lambda: aws_sdk_lambda::Client,
}

impl Clients {
    /// Clients for `config`: its profile, else `credentials` when given,
    /// else the standard chain; the SDK's standard retries (throttling,
    /// 5xx) apply.
    pub fn new(config: &AwsConfig, credentials: Option<StaticCredentials>) -> Result<Clients> {
        let region = config.region.clone();
        let profile = config.profile.clone();
        let endpoint = config.endpoint_url.clone();
        let lambda_endpoint = config
            .compute
            .as_ref()
            .and_then(|c| c.lambda_endpoint_url.clone());
        block_on(async move {
            let mut loader = aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new(region))
                .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3));
            if let Some(p) = profile {
                loader = loader.profile_name(p);
            }
            if let Some(c) = credentials {
                loader = loader.credentials_provider(Credentials::new(
                    c.access_key_id,
                    c.secret_access_key,
                    c.session_token,
                    None,
                    "tablero",
                ));
            }
            if let Some(url) = &endpoint {
                loader = loader.endpoint_url(url.clone());
            }
            let shared = loader.load().await;
            let s3 = aws_sdk_s3::config::Builder::from(&shared)
                .force_path_style(endpoint.is_some())
                .build();
            Ok(Clients {
                s3: aws_sdk_s3::Client::from_conf(s3),
                sagemaker: aws_sdk_sagemaker::Client::new(&shared),
                sts: aws_sdk_sts::Client::new(&shared),
                apigateway: aws_sdk_apigateway::Client::new(&shared),
                ecs: aws_sdk_ecs::Client::new(&shared),
                cloudwatch: aws_sdk_cloudwatch::Client::new(&shared),
                logs: aws_sdk_cloudwatchlogs::Client::new(&shared),
                lambda: match lambda_endpoint {
                    Some(url) => aws_sdk_lambda::Client::from_conf(
                        aws_sdk_lambda::config::Builder::from(&shared)
                            .endpoint_url(url)
                            .build(),
                    ),
                    None => aws_sdk_lambda::Client::new(&shared),
                },
            })
        })
    }
}

/// RFC 3339 (UTC, milliseconds) of an SDK time.
pub(crate) fn rfc3339(t: Option<&aws_smithy_types::DateTime>) -> String {
    t.and_then(|t| {
        chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    })
    .unwrap_or_default()
}

/// Now, RFC 3339 (UTC, milliseconds).
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// 16 random bytes as hex.
pub(crate) fn random_id() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // Unique enough without the OS generator: time and a counter.
        let t = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0) as u128;
        b = t.to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}
