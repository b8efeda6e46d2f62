//! `tablero-serve --workspace DIR [--port 8080] [--host 127.0.0.1]`: serves the
//! workspace's deployed model. Writes `<workspace>/endpoint.json` (pid, port,
//! admin token) while it runs; stops on SIGINT/SIGTERM or `POST /admin/shutdown`.
//!
//! In its container (ECS Fargate, no workspace) it is configured by its
//! environment instead: `MODEL_URI` (`s3://bucket/key` of the artifact) and
//! `MODEL_VERSION` (`group/vN`), `TABLERO_AUTH=gateway` (API Gateway checks
//! the keys), `TABLERO_METRICS=emf` (EMF lines on stdout),
//! `TABLERO_ENDPOINT`, `TABLERO_METRICS_NAMESPACE`, `TABLERO_LIVE_SAMPLE_URI`.
//!
//! This is the binary's composition point: the one place in `tablero-serve`
//! that names a backend. It builds the backend once and gives the server its
//! three seams over the backend's ports, or the container's.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use tablero_core::ports::BackendKind;
use tablero_serve::{ServeArgs, Sources};

#[derive(Parser)]
#[command(
    name = "tablero-serve",
    version,
    about = "Tablero's inference endpoint"
)]
struct Args {
    /// Workspace folder (not in the container).
    #[arg(long, env = "TABLERO_WORKSPACE")]
    workspace: Option<PathBuf>,
    /// Backend (default: the workspace's `[backend] kind`, else local).
    #[arg(long)]
    backend: Option<String>,
    /// Port, address, metrics window.
    #[command(flatten)]
    serve: ServeArgs,
    /// The container's settings.
    #[command(flatten)]
    container: ContainerArgs,
}

/// The endpoint in its container, without a workspace.
#[derive(clap::Args)]
struct ContainerArgs {
    /// The artifact to serve, `s3://bucket/key` (empty: nothing yet).
    #[arg(long, env = "MODEL_URI")]
    model_uri: Option<String>,
    /// The version it is, `group/vN`.
    #[arg(long, env = "MODEL_VERSION")]
    model_version: Option<String>,
    /// `keys` (the endpoint checks API keys) or `gateway` (API Gateway
    /// checks them; the endpoint must be reachable only through it).
    #[arg(long, env = "TABLERO_AUTH", default_value = "gateway")]
    auth: String,
    /// `emf` (CloudWatch Embedded Metric Format lines on stdout).
    #[arg(long, env = "TABLERO_METRICS", default_value = "emf")]
    metrics: String,
    /// The endpoint's name (the metrics' `Endpoint` dimension).
    #[arg(long, env = "TABLERO_ENDPOINT", default_value = "tablero")]
    endpoint_name: String,
    /// CloudWatch namespace of the metrics.
    #[arg(long, env = "TABLERO_METRICS_NAMESPACE", default_value = tablero_core::emf::DEFAULT_NAMESPACE)]
    metrics_namespace: String,
    /// Where to keep the live sample, `s3://bucket/prefix/`.
    #[arg(long, env = "TABLERO_LIVE_SAMPLE_URI")]
    live_sample_uri: Option<String>,
    /// Records kept in the live sample.
    #[arg(long, env = "TABLERO_LIVE_SAMPLE", default_value_t = 1000)]
    live_sample: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let Some(workspace) = args.workspace.clone() else {
        if args.container.model_uri.is_none() {
            anyhow::bail!(
                "give the workspace (--workspace or TABLERO_WORKSPACE), or, in the endpoint's container, MODEL_URI (empty until a model is promoted)"
            );
        }
        return container(args);
    };
    let env = std::env::var("TABLERO_BACKEND").ok();
    let kind = tablero_local::choose_backend(&workspace, args.backend.as_deref(), env.as_deref())?;
    let ws = tablero_local::Workspace::open(&workspace).context("opening the workspace")?;
    let backend = match kind {
        BackendKind::Local => ws.into_backend(),
        #[cfg(feature = "aws")]
        BackendKind::Aws => {
            let config = tablero_aws::AwsConfig::load(&ws.config_path())?;
            tablero_aws::compose(ws, config, None)?
        }
        #[cfg(not(feature = "aws"))]
        BackendKind::Aws => anyhow::bail!(
            "this build of tablero-serve has no AWS backend: build it with --features aws"
        ),
    };
    let state = tablero_local::endpoint::state_file(&workspace);
    tablero_serve::run(
        Sources::from_backend(&backend),
        args.serve.options(Some(state)),
    )
}

#[cfg(feature = "aws")]
fn container(args: Args) -> anyhow::Result<()> {
    use std::sync::Arc;
    use tablero_core::store::ObjectKey;
    use tablero_serve::container::{split_uri, EmfSink, GatewayKeys, UriModel};

    let c = args.container;
    if c.auth != "gateway" {
        anyhow::bail!("TABLERO_AUTH={:?}: without a workspace the endpoint has no keys to check; use `gateway` (API Gateway checks them)", c.auth);
    }
    if c.metrics != "emf" {
        anyhow::bail!(
            "TABLERO_METRICS={:?}: without a workspace the metrics go to stdout as EMF; use `emf`",
            c.metrics
        );
    }
    let uri = c.model_uri.filter(|u| !u.is_empty());
    let version = c.model_version.filter(|v| !v.is_empty());
    let wanted = match &version {
        Some(v) => Some(
            tablero_aws::ecs::parse_model_version(v)
                .with_context(|| format!("MODEL_VERSION={v:?} is not group/vN"))?,
        ),
        None => None,
    };
    let (bucket, key) = match &uri {
        Some(u) => {
            let (b, k) = split_uri(u)?;
            (
                Some(b),
                Some(ObjectKey::new(&k).with_context(|| format!("MODEL_URI={u:?}"))?),
            )
        }
        None => (None, None),
    };
    let live = match c.live_sample_uri.filter(|u| !u.is_empty()) {
        Some(u) => {
            // s3://bucket/prefix/ → this task's object under the prefix.
            let (b, prefix) =
                split_uri(&format!("{}/{}.json", u.trim_end_matches('/'), task_id()))?;
            Some((b, ObjectKey::new(&prefix)?))
        }
        None => None,
    };
    let models_bucket = bucket
        .clone()
        .or_else(|| live.as_ref().map(|(b, _)| b.clone()));
    let store = match &models_bucket {
        Some(b) => tablero_aws::container_store(b)?,
        // Nothing to read or write: a store is never asked.
        None => tablero_aws::container_store("unused")?,
    };
    if let (Some(b), Some((lb, _))) = (&bucket, &live) {
        if b != lb {
            anyhow::bail!("MODEL_URI and TABLERO_LIVE_SAMPLE_URI must name the same (models) bucket, not {b} and {lb}");
        }
    }
    let loaded = Arc::new(std::sync::Mutex::new(None));
    let sources = Sources {
        model: Arc::new(UriModel::new(store.clone(), key, wanted, loaded.clone())?),
        keys: Arc::new(GatewayKeys),
        metrics: Arc::new(EmfSink::new(
            std::io::stdout(),
            &c.metrics_namespace,
            loaded,
            live.map(|(_, k)| (store, k)),
            c.live_sample,
        )),
        endpoint: c.endpoint_name,
    };
    tablero_serve::run(sources, args.serve.options(None))
}

/// This task's id (ECS sets the metadata URI; its last part names the
/// task), else the host name.
#[cfg(feature = "aws")]
fn task_id() -> String {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    env("ECS_CONTAINER_METADATA_URI_V4")
        .and_then(|u| u.rsplit('/').next().map(str::to_string))
        .or_else(|| env("HOSTNAME"))
        .unwrap_or_else(|| format!("pid-{}", std::process::id()))
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(not(feature = "aws"))]
fn container(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("this build of tablero-serve has no AWS backend: build it with --features aws to run it in its container")
}
