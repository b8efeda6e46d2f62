//! `bootstrap`: the ETL Lambda on the `provided.al2023` runtime. Each
//! invocation (an S3 `ObjectCreated` notification of the raw bucket, or a
//! job from the panel) runs `tablero_aws::etl::handle`, the same stage
//! code as a local job, and answers with the jobs' manifests.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{service_fn, Error, LambdaEvent};
use tablero_aws::etl::{self, Invocation, Limits, Payload};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let store = tablero_aws::lambda_store().map_err(|e| Error::from(e.to_string()))?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let store = store.clone();
        async move { handler(store, event).await }
    }))
    .await
}

async fn handler(
    store: tablero_aws::s3::S3Store,
    event: LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, Error> {
    let (payload, context) = event.into_parts();
    let payload = Payload::parse(&payload).map_err(Error::from)?;
    // The deadline is wall-clock milliseconds; the handler counts down on
    // the monotonic clock.
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let deadline = (context.deadline > 0)
        .then(|| Instant::now() + Duration::from_millis(context.deadline.saturating_sub(now_ms)));
    let invocation = Invocation {
        request_id: context.request_id.clone(),
        deadline,
        limits: Limits {
            memory_mb: u64::try_from(context.env_config.memory)
                .ok()
                .filter(|m| *m > 0)
                .unwrap_or(etl::LAMBDA_MAX_MEMORY_MB),
        },
    };
    // The stages are CPU-bound and synchronous: off the runtime's threads.
    let manifests =
        tokio::task::spawn_blocking(move || etl::handle(&store, &invocation, payload)).await?;
    Ok(serde_json::json!({ "jobs": manifests }))
}
