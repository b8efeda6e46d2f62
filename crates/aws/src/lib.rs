//! `tablero-aws`: the AWS backend, and the only crate that knows the AWS
//! SDK. Each port of `tablero_core::ports` on its service:
//!
//! | port | AWS |
//! |---|---|
//! | object store | S3, the three versioned buckets ([`s3`]) |
//! | registry | SageMaker Model Registry, cards and artifacts in the models bucket ([`registry`]) |
//! | audit | one object per event in the models bucket ([`audit`]) |
//! | API keys | API Gateway keys and usage plans ([`keys`]) |
//! | identity | the STS caller, `[aws.roles]`, the policy as a group tag ([`identity`]) |
//! | deployer | the ECS Fargate service of `[aws.endpoint]` ([`ecs`]) |
//! | monitor | CloudWatch: EMF lines in Logs, metrics, alarms ([`cloudwatch`]) |
//! | jobs | with `[aws.compute]`: the ETL Lambda and SageMaker training jobs ([`compute`], [`etl`]); without: the workspace's, on this machine against the S3 data |
//!
//! Without `[aws.endpoint]` the deployer and monitor stay the workspace's.
//!
//! The ports are synchronous; every SDK call runs on this crate's runtime
//! ([`runtime`]) and fails with the product's error kinds ([`error`]):
//! `permission` naming the IAM action, `offline` when AWS cannot be
//! reached, `not_found`, `refused`.

pub mod audit;
pub mod clients;
pub mod cloudwatch;
pub mod compute;
pub mod config;
pub mod ecs;
mod error;
pub mod etl;
pub mod identity;
pub mod keys;
pub mod registry;
mod runtime;
pub mod s3;

use std::path::Path;
use std::sync::Arc;

use tablero_core::ports::{
    Audit, Backend, BackendError, BackendKind, Deployer, Identity, Monitor, ObjectStore, Registry,
    Result,
};
use tablero_core::store::Bucket;
use tablero_local::{Remote, Workspace};

pub use clients::{Clients, StaticCredentials};
pub use config::AwsConfig;

/// The AWS backend of the workspace at `root` (its `[aws]` table; its
/// jobs, deployments and metrics stay in the workspace), with the
/// credentials of `[aws] profile` or the standard chain, or `credentials`.
pub fn open(root: &Path, credentials: Option<StaticCredentials>) -> Result<Backend> {
    let ws = Workspace::open(root).map_err(BackendError::from)?;
    let config = AwsConfig::load(&ws.config_path())?;
    compose(ws, config, credentials)
}

/// The AWS backend over an open workspace and its `[aws]` table.
pub fn compose(
    ws: Workspace,
    config: AwsConfig,
    credentials: Option<StaticCredentials>,
) -> Result<Backend> {
    let clients = Clients::new(&config, credentials)?;
    let caller = Arc::new(identity::Callers::new(clients.sts.clone()));
    let s3 = s3::S3Store::new(clients.s3.clone(), config.buckets.clone());
    let audit: Arc<dyn Audit> = Arc::new(audit::S3Audit::new(s3.clone(), caller.clone()));
    let registry: Arc<dyn Registry> = Arc::new(registry::SageMakerRegistry::new(
        clients.sagemaker.clone(),
        s3.clone(),
        config.clone(),
        audit.clone(),
    ));
    let identity: Arc<dyn Identity> = Arc::new(identity::AwsIdentity::new(
        caller.clone(),
        config.roles.clone(),
        ws.config().limits.clone(),
        clients.sagemaker.clone(),
        config.sagemaker_group("default"),
        audit.clone(),
    ));
    let keys = Arc::new(keys::ApiGatewayKeys::new(
        clients.apigateway.clone(),
        config.usage_plan_id.clone(),
        caller.clone(),
        audit.clone(),
    ));
    let s3_jobs = s3.clone();
    let store: Arc<dyn ObjectStore> = Arc::new(s3);
    let rules = Monitor::alarm_rules(&ws);
    let capacity = ws.live_sample_capacity();
    let ws = Arc::new(ws.with_remote(Remote {
        store: store.clone(),
        registry: registry.clone(),
        audit: audit.clone(),
        identity: identity.clone(),
    }));
    let (deployer, monitor): (Arc<dyn Deployer>, Arc<dyn Monitor>) = match &config.endpoint {
        Some(endpoint) => (
            Arc::new(ecs::EcsDeployer::new(
                clients.ecs.clone(),
                endpoint.clone(),
                registry.clone(),
                store.clone(),
                audit.clone(),
                caller,
            )),
            Arc::new(cloudwatch::CloudWatchMonitor::new(
                clients.cloudwatch.clone(),
                clients.logs.clone(),
                endpoint.clone(),
                rules,
                store.clone(),
                capacity,
                format!("tablero/{}", whoami_host()),
            )),
        ),
        None => (ws.clone(), ws.clone()),
    };
    let jobs: Arc<dyn tablero_core::ports::JobRunner> = match &config.compute {
        Some(compute) => Arc::new(compute::AwsJobs::new(
            s3_jobs,
            clients.lambda.clone(),
            clients.sagemaker.clone(),
            clients.logs.clone(),
            compute.clone(),
            registry.clone(),
            audit.clone(),
            identity.clone(),
        )),
        None => ws.clone(),
    };
    Ok(Backend {
        kind: BackendKind::Aws,
        location: format!(
            "aws {} (s3://{}, s3://{}, s3://{}; {})",
            config.region,
            config.buckets.raw,
            config.buckets.clean,
            config.buckets.models,
            config.model_package_group
        ),
        store,
        jobs,
        registry,
        deployer,
        monitor,
        keys,
        audit,
        identity,
    })
}

/// The object store of the endpoint in its container: S3 with
/// `models_bucket` as the models bucket, the task role's credentials (the
/// standard chain), the region of `AWS_REGION` (or `AWS_DEFAULT_REGION`)
/// and `AWS_ENDPOINT_URL` when set (an S3-compatible store, tests).
pub fn container_store(models_bucket: &str) -> Result<Arc<dyn ObjectStore>> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .ok_or_else(|| BackendError::refused("set AWS_REGION: the region of the models bucket"))?;
    let config = AwsConfig {
        region,
        profile: None,
        endpoint_url: env("AWS_ENDPOINT_URL"),
        buckets: config::Buckets {
            raw: models_bucket.to_string(),
            clean: models_bucket.to_string(),
            models: models_bucket.to_string(),
        },
        model_package_group: String::new(),
        rest_api_id: None,
        usage_plan_id: None,
        roles: Default::default(),
        endpoint: None,
        compute: None,
    };
    let clients = Clients::new(&config, None)?;
    Ok(Arc::new(s3::S3Store::new(clients.s3, config.buckets)))
}

/// The buckets of the ETL Lambda, from its environment:
/// `TABLERO_RAW_BUCKET`, `TABLERO_CLEAN_BUCKET`, `TABLERO_MODELS_BUCKET`,
/// the region of `AWS_REGION` and `AWS_ENDPOINT_URL` when set (tests); the
/// function role's credentials (the standard chain).
pub fn lambda_store() -> Result<s3::S3Store> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let need = |k: &str| {
        env(k).ok_or_else(|| {
            BackendError::refused(format!(
                "set {k}: the function's environment names the buckets"
            ))
        })
    };
    let region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .ok_or_else(|| BackendError::refused("set AWS_REGION"))?;
    let config = AwsConfig {
        region,
        profile: None,
        endpoint_url: env("AWS_ENDPOINT_URL"),
        buckets: config::Buckets {
            raw: need("TABLERO_RAW_BUCKET")?,
            clean: need("TABLERO_CLEAN_BUCKET")?,
            models: need("TABLERO_MODELS_BUCKET")?,
        },
        model_package_group: String::new(),
        rest_api_id: None,
        usage_plan_id: None,
        roles: Default::default(),
        endpoint: None,
        compute: None,
    };
    let clients = Clients::new(&config, None)?;
    Ok(s3::S3Store::new(clients.s3, config.buckets))
}

/// This machine's name, for the log stream of metrics it publishes.
fn whoami_host() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "workspace".into())
}

pub use tablero_core::ports::SettingsCheck as Check;

/// Checks an `[aws]` table: STS GetCallerIdentity, then a listing of each
/// bucket (and whether it is versioned). Each check says exactly which
/// call failed and why.
pub fn check(config: &AwsConfig) -> Vec<Check> {
    let mut out = Vec::new();
    let clients = match Clients::new(config, None) {
        Ok(c) => c,
        Err(e) => {
            out.push(Check {
                call: "load AWS configuration".into(),
                ok: false,
                message: e.to_string(),
            });
            return out;
        }
    };
    match identity::Caller::fetch(&clients.sts) {
        Ok(c) => {
            let roles = config
                .roles
                .get(&c.principal)
                .map(|r| r.iter().map(|r| r.name()).collect::<Vec<_>>().join(", "))
                .unwrap_or_else(|| {
                    "no [aws.roles] entry: every action is offered, IAM decides".into()
                });
            out.push(Check {
                call: "sts:GetCallerIdentity".into(),
                ok: true,
                message: format!("{} ({}); roles: {roles}", c.actor, c.arn),
            });
        }
        Err(e) => {
            out.push(Check {
                call: "sts:GetCallerIdentity".into(),
                ok: false,
                message: e.to_string(),
            });
            return out;
        }
    }
    for bucket in Bucket::ALL {
        let name = config.buckets.name(bucket).to_string();
        let s3 = clients.s3.clone();
        let n = name.clone();
        let listed = runtime::block_on(async move {
            let what = format!("list s3://{n}");
            s3.list_objects_v2()
                .bucket(&n)
                .max_keys(1)
                .send()
                .await
                .map_err(error::fail("s3:ListBucket", &what))?;
            let what = format!("read the versioning of s3://{n}");
            match s3.get_bucket_versioning().bucket(&n).send().await {
                Ok(v) => Ok(Some(
                    v.status().map_or("Suspended", |s| s.as_str()).to_string(),
                )),
                // An answer that is not S3's usual document (some
                // S3-compatible stores): readable, versioning unknown.
                Err(e) if error::parts(&e).2 == Some(200) => Ok(None),
                Err(e) => Err(error::fail("s3:GetBucketVersioning", &what)(e)),
            }
        });
        out.push(match listed {
            Ok(Some(status)) if status == "Enabled" => Check {
                call: format!("s3:ListBucket {name}"),
                ok: true,
                message: format!("{bucket} bucket readable, versioned"),
            },
            Ok(None) => Check {
                call: format!("s3:ListBucket {name}"),
                ok: true,
                message: format!("{bucket} bucket readable (its versioning could not be read: a deletion is undone only if it is versioned)"),
            },
            Ok(Some(_)) => Check {
                call: format!("s3:ListBucket {name}"),
                ok: false,
                message: format!("{bucket} bucket readable but not versioned: deletions could not be undone; turn versioning on"),
            },
            Err(e) => Check { call: format!("s3:ListBucket {name}"), ok: false, message: e.to_string() },
        });
    }
    out
}
