//! Who may call: an API key, within its rate, for the prediction routes;
//! the admin token, on loopback, for the admin routes (one guard layer over
//! the nested admin router).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arc_swap::ArcSwap;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tablero_core::ports::key_hash;

use crate::routes::{error, reject};
use crate::source::KeyInfo;
use crate::App;

struct TokenBucket {
    tokens: f64,
    last: Instant,
}

/// The active API keys (by hash) and each key's token bucket.
pub(crate) struct Keys {
    active: ArcSwap<HashMap<String, KeyInfo>>,
    buckets: Mutex<HashMap<String, TokenBucket>>,
    /// Keys and rates are checked upstream (API Gateway): every request
    /// that reaches the endpoint is let through.
    trust_gateway: bool,
}

/// The caller's name in logs when the gateway checked the key.
pub(crate) const GATEWAY: &str = "api-gateway";

impl Keys {
    pub(crate) fn new(trust_gateway: bool) -> Keys {
        Keys {
            active: ArcSwap::from_pointee(HashMap::new()),
            buckets: Mutex::new(HashMap::new()),
            trust_gateway,
        }
    }

    /// Replaces the active keys.
    pub(crate) fn replace(&self, keys: HashMap<String, KeyInfo>) {
        self.active.store(Arc::new(keys));
    }

    /// Checks the key and the key's rate. Returns the key name.
    pub(crate) fn authorise(&self, headers: &HeaderMap) -> Result<String, Box<Response>> {
        if self.trust_gateway {
            return Ok(GATEWAY.to_string());
        }
        let presented = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .or_else(|| {
                headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
            })
            .map(str::trim);
        let Some(key) = presented else {
            return Err(reject(
                StatusCode::UNAUTHORIZED,
                "missing API key: send `Authorization: Bearer <key>` or `x-api-key: <key>`",
            ));
        };
        let hash = key_hash(key);
        let keys = self.active.load();
        // Constant-time comparison against every active key's hash.
        let info = keys.iter().fold(None, |found, (h, info)| {
            if constant_time_eq(h.as_bytes(), hash.as_bytes()) {
                Some(info.clone())
            } else {
                found
            }
        });
        let Some(info) = info else {
            return Err(reject(
                StatusCode::UNAUTHORIZED,
                "unknown or revoked API key",
            ));
        };
        let mut buckets = self.buckets.lock().map_err(|_| {
            Box::new(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "rate limiter poisoned",
            ))
        })?;
        let now = Instant::now();
        let b = buckets.entry(info.name.clone()).or_insert(TokenBucket {
            tokens: info.rate,
            last: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * info.rate)
            .min(info.rate.max(1.0));
        b.last = now;
        if b.tokens < 1.0 {
            let wait = ((1.0 - b.tokens) / info.rate).ceil().max(1.0) as u64;
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "rate limit of {} requests/s exceeded for key {}",
                    info.rate, info.name
                ),
            );
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                r.headers_mut().insert("retry-after", v);
            }
            return Err(Box::new(r));
        }
        b.tokens -= 1.0;
        Ok(info.name)
    }
}

/// Compares without an early exit, so timing does not tell how much matched.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The admin routes' guard: loopback peers with the admin token only.
pub(crate) async fn admin_guard(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if !peer.ip().is_loopback() {
        return error(
            StatusCode::FORBIDDEN,
            "admin routes answer only on loopback",
        );
    }
    let token = request
        .headers()
        .get("x-admin-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !constant_time_eq(token.as_bytes(), app.admin_token().as_bytes()) {
        return error(StatusCode::UNAUTHORIZED, "bad admin token");
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn the_comparison_looks_at_every_byte_and_the_length() {
        assert!(constant_time_eq(b"abcdef", b"abcdef"));
        assert!(
            !constant_time_eq(b"abcdef", b"abcdeg"),
            "the last byte counts"
        );
        assert!(
            !constant_time_eq(b"xbcdef", b"abcdef"),
            "the first byte counts"
        );
        assert!(
            !constant_time_eq(b"abc", b"abcdef"),
            "a prefix is not equal"
        );
        assert!(constant_time_eq(b"", b""));
    }
}
