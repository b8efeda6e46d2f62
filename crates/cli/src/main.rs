//! `tablero`: every panel action from a terminal.
//!
//! `--json` makes every command print exactly one JSON document on stdout
//! and never prompt. Exit codes: 0 success, 1 failed job or refused action,
//! 2 bad usage. See docs/cli.md.

mod backend;
mod demo;
mod human;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tablero_app::data::FileFormat;
use tablero_core::clean::Preset;
use tablero_core::ingest::{self, CsvOptions, Encoding};
use tablero_core::job::{Job, JobRequest, JobStatus};
use tablero_core::ports::{Backend, BackendError, EndpointOptions};
use tablero_core::registry::{self, ApprovalStatus};
use tablero_core::store::Bucket;
use tablero_core::train::metrics::Metric;
use tablero_core::train::models::Algorithm;

#[derive(Parser)]
#[command(
    name = "tablero",
    version,
    about = "Tablero: an MLOps control panel for retail purchase prediction"
)]
struct Cli {
    /// Workspace folder (default: the platform data dir, e.g. ~/.local/share/tablero).
    #[arg(long, global = true, env = "TABLERO_WORKSPACE")]
    workspace: Option<PathBuf>,
    /// Print exactly one JSON document on stdout and never prompt.
    #[arg(long, global = true)]
    json: bool,
    /// Act as another configured user (only when [policy] allow_as = true).
    #[arg(long = "as", global = true, value_name = "USER")]
    as_user: Option<String>,
    /// Backend: local (default: `[backend] kind` in the workspace's
    /// tablero.toml, else $TABLERO_BACKEND overriding it, else local).
    #[arg(long, global = true, value_name = "KIND")]
    backend: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the local workspace (safe to run again: nothing is overwritten).
    Init,
    /// Buckets and objects: upload, list, preview, download, delete.
    #[command(subcommand)]
    Data(DataCommand),
    /// Run pipeline stages (blocks until the job ends).
    #[command(subcommand)]
    Etl(EtlCommand),
    /// Jobs: list, show, cancel.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Train and compare candidate models on a features table; register the winner.
    Train(TrainArgs),
    /// The model registry: list, show, compare, approve, reject.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Workspace policy.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The local inference endpoint: start, stop, status.
    #[command(subcommand)]
    Endpoint(EndpointCommand),
    /// What the endpoint serves: status, promote, rollback, history.
    #[command(subcommand)]
    Deploy(DeployCommand),
    /// API keys for the endpoint.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// What the endpoint saw: per-interval metrics and drift.
    #[command(subcommand)]
    Monitor(MonitorCommand),
    /// Run the whole product on the bundled sample in a fresh workspace.
    Demo {
        /// Seconds of traffic to send.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Endpoint port (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
    /// Charts as SVG and PNG: of model versions (ROC, metrics, confusion
    /// matrices, importance, leaderboard) or of the endpoint (requests,
    /// latency, score distribution, drift heatmap).
    Report {
        /// Version numbers (comma-separated to overlay several, e.g. 1,3) or `endpoint`.
        target: String,
        /// Directory to write the charts to (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Model group (versions).
        #[arg(long, default_value = "default")]
        group: String,
        /// Endpoint traffic since a duration (1h, 24h, 7d) or a UTC date.
        #[arg(long, default_value = "24h")]
        since: String,
    },
    /// The audit log.
    Audit {
        /// Entries since a duration (1h, 24h, 7d) or a date ('YYYY-MM-DD[ HH:MM:SS]', UTC).
        #[arg(long, default_value = "24h")]
        since: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum BucketArg {
    Raw,
    Clean,
    Models,
}

impl From<BucketArg> for Bucket {
    fn from(b: BucketArg) -> Bucket {
        match b {
            BucketArg::Raw => Bucket::Raw,
            BucketArg::Clean => Bucket::Clean,
            BucketArg::Models => Bucket::Models,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum PresetArg {
    Standard,
    Parity,
}

impl From<PresetArg> for Preset {
    fn from(p: PresetArg) -> Preset {
        match p {
            PresetArg::Standard => Preset::Standard,
            PresetArg::Parity => Preset::Parity,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Csv,
    Parquet,
}

#[derive(Subcommand)]
enum DataCommand {
    /// Validate a CSV and store it in the raw bucket with its column mapping.
    Upload(UploadArgs),
    /// List objects of a bucket.
    Ls {
        /// raw, clean or models.
        bucket: BucketArg,
        /// Only keys starting with this.
        #[arg(default_value = "")]
        prefix: String,
        /// Objects per page (all pages are printed unless --page-token is given).
        #[arg(long, default_value_t = 1000)]
        page_size: usize,
        /// Print only the page after this token (from a previous `next_token`).
        #[arg(long)]
        page_token: Option<String>,
    },
    /// First rows, schema and per-column statistics of an object.
    Preview {
        /// raw, clean or models.
        bucket: BucketArg,
        /// Object key.
        key: String,
        /// Rows to show.
        #[arg(long, default_value_t = 20)]
        rows: usize,
    },
    /// Copy an object to a file, converting CSV ↔ Parquet if asked.
    Get {
        /// raw, clean or models.
        bucket: BucketArg,
        /// Object key.
        key: String,
        /// File to write.
        #[arg(long)]
        out: PathBuf,
        /// Output format (default: the object's own).
        #[arg(long)]
        format: Option<FormatArg>,
        /// Overwrite --out if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Delete an object (it is moved to the workspace trash).
    Rm {
        /// raw, clean or models.
        bucket: BucketArg,
        /// Object key.
        key: String,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// List deleted objects kept in the workspace trash, newest first.
    Trash,
    /// Put a deleted object back where it was (ID from `data trash` or `data rm`).
    Restore {
        /// `<bucket>/<time>/<key>`.
        id: String,
    },
}

#[derive(Args)]
struct UploadArgs {
    /// The CSV file.
    file: PathBuf,
    /// Key in the raw bucket (default: the file name).
    #[arg(long)]
    key: Option<String>,
    /// Column mapping: "Their Header=canonical_name,...". Canonical names:
    /// customer_id, invoice_date, quantity, unit_price, amount, invoice_id,
    /// product_id, description, country.
    #[arg(long)]
    map: Option<String>,
    /// utf-8 or latin-1 (default: detected).
    #[arg(long)]
    encoding: Option<String>,
    /// ',', ';', '\t' (or "tab") or '|' (default: detected).
    #[arg(long)]
    delimiter: Option<String>,
    /// Date format, e.g. '%m/%d/%Y %H:%M' (default: detected).
    #[arg(long)]
    date_format: Option<String>,
    /// Replace an existing object with this key (the old one goes to the trash).
    #[arg(long)]
    replace: bool,
}

#[derive(Subcommand)]
enum EtlCommand {
    /// Clean a raw CSV into typed Parquet in the clean bucket.
    Clean {
        /// Key in the raw bucket.
        raw_key: String,
        /// standard, or parity (reproduces the existing Python pipeline).
        #[arg(long, default_value = "standard")]
        preset: PresetArg,
        /// Output key (default: <raw stem>/transactions[.parity].parquet).
        #[arg(long)]
        out: Option<String>,
    },
    /// Build the per-customer features table from a clean table.
    Features {
        /// Key of a clean transactions table.
        clean_key: String,
        /// Must match the preset the clean table was made with.
        #[arg(long, default_value = "standard")]
        preset: PresetArg,
        /// Cut-off 'YYYY-MM-DD[ HH:MM:SS]' (default: the 0.7 quantile of invoice timestamps).
        #[arg(long)]
        cutoff: Option<String>,
        /// Days after the cut-off in which a purchase makes the target 1.
        #[arg(long, default_value_t = 90)]
        horizon_days: u32,
        /// Output key (default: beside the clean table, features[.parity].parquet).
        #[arg(long)]
        out: Option<String>,
    },
}

#[derive(Args)]
struct TrainArgs {
    /// Key of a features table in the clean bucket.
    features_key: String,
    /// Metric the leaderboard is sorted by: accuracy, auc, f1, recall, precision, kappa, mcc.
    #[arg(long, default_value = "accuracy")]
    sort: String,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 10)]
    folds: usize,
    /// Fraction of customers held out for the test part.
    #[arg(long, default_value_t = 0.2)]
    test_size: f64,
    /// Seed for the split, the folds and the estimators.
    #[arg(long, default_value_t = 123)]
    seed: u64,
    /// Candidates: lr, tree, forest, gbm, knn, nb, et (default: all).
    #[arg(long, value_delimiter = ',')]
    candidates: Option<Vec<String>>,
    /// Model group to register in.
    #[arg(long, default_value = "default")]
    group: String,
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Versions of a group, newest first.
    Ls {
        /// Model group.
        #[arg(long, default_value = "default")]
        group: String,
        /// pending, approved or rejected.
        #[arg(long)]
        status: Option<String>,
    },
    /// A version's model card.
    Show {
        /// Version number.
        version: u32,
        /// Model group.
        #[arg(long, default_value = "default")]
        group: String,
    },
    /// Versions side by side: metrics, deltas, schema differences.
    Compare {
        /// Two or more version numbers.
        #[arg(num_args = 2.., required = true)]
        versions: Vec<u32>,
        /// Model group.
        #[arg(long, default_value = "default")]
        group: String,
    },
    /// Approve a pending version (ml_lead; not its trainer under four-eyes).
    Approve {
        /// Version number.
        version: u32,
        /// Why (required).
        #[arg(long)]
        comment: String,
        /// Approve even though features are flagged as likely target leaks.
        #[arg(long)]
        accept_leakage_risk: bool,
        /// Model group.
        #[arg(long, default_value = "default")]
        group: String,
    },
    /// Reject a pending version (ml_lead).
    Reject {
        /// Version number.
        version: u32,
        /// Why (required).
        #[arg(long)]
        comment: String,
        /// Model group.
        #[arg(long, default_value = "default")]
        group: String,
    },
}

#[derive(Subcommand)]
enum EndpointCommand {
    /// Start the local endpoint as its own process (ops).
    Start {
        /// Port (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address to bind: 127.0.0.1 answers only this machine; 0.0.0.0
        /// every interface (the admin routes still answer only on loopback).
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Seconds per metrics window written to the workspace.
        #[arg(long, default_value_t = 60)]
        metrics_interval: u64,
    },
    /// Stop it; in-flight requests finish first (ops).
    Stop,
    /// Whether it runs, its URL, what it serves, its uptime.
    Status,
    /// Run the endpoint in this process (what `start` launches).
    #[command(hide = true)]
    Serve {
        /// Port.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Seconds per metrics window.
        #[arg(long, default_value_t = 60)]
        metrics_interval: u64,
    },
}

#[derive(Subcommand)]
enum DeployCommand {
    /// The deployed version, and what the endpoint actually serves.
    Status,
    /// Deploy an Approved version (ops); a running endpoint swaps to it.
    Promote {
        /// Version number.
        version: u32,
        /// Model group.
        #[arg(long, default_value = "default")]
        group: String,
    },
    /// Return to the previously deployed version (ops).
    Rollback,
    /// Promotions and rollbacks, newest first.
    History,
    /// What promoting VERSION would change: metric deltas against the
    /// deployed version, and drift between its training data and the
    /// sample of live traffic.
    Diff {
        /// Candidate version.
        version: u32,
        /// Model group.
        #[arg(long, default_value = "default")]
        group: String,
        /// Live traffic since a duration (1h, 24h, 7d) or a UTC date.
        #[arg(long, default_value = "24h")]
        since: String,
    },
}

#[derive(Subcommand)]
enum MonitorCommand {
    /// Per-interval requests, errors, latency percentiles, positive rate.
    Metrics {
        /// A duration (30m, 1h, 24h, 7d) or a UTC date.
        #[arg(long, default_value = "1h")]
        since: String,
        /// Endpoint name (the local backend has one: `local`).
        #[arg(long, default_value = "local")]
        endpoint: String,
    },
    /// PSI per feature and of the score against the model card's baseline.
    Drift {
        /// A duration (30m, 1h, 24h, 7d) or a UTC date.
        #[arg(long, default_value = "24h")]
        since: String,
        /// Version (default: the deployed one).
        #[arg(long)]
        version: Option<u32>,
        /// Model group (default: the deployed one's).
        #[arg(long)]
        group: Option<String>,
    },
    /// Alarm states (rules in tablero.toml [alarms]) and their history.
    Alarms,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key; it is printed once, only its SHA-256 is stored (ops).
    Create {
        /// Key name (shown in logs and metrics).
        #[arg(long)]
        name: String,
        /// Requests per second allowed.
        #[arg(long, default_value_t = tablero_core::ports::DEFAULT_RATE)]
        rate: f64,
    },
    /// Keys (names, hashes, rates; never the keys).
    Ls,
    /// Revoke a key (ops).
    Revoke {
        /// Key name.
        name: String,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Turn the four-eyes rule on or off (ml_lead; audited).
    FourEyes {
        /// on or off.
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Newest jobs first.
    Ls {
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// One job with its report and log.
    Show {
        /// Job id (job-000001).
        id: String,
    },
    /// Ask a queued or running job to stop.
    Cancel {
        /// Job id.
        id: String,
    },
}

/// An error with the exit code it maps to.
struct Failure {
    code: u8,
    kind: &'static str,
    message: String,
}

impl Failure {
    fn refused(message: impl Into<String>) -> Failure {
        Failure {
            code: 1,
            kind: "refused",
            message: message.into(),
        }
    }

    fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            kind: "usage",
            message: message.into(),
        }
    }
}

impl From<BackendError> for Failure {
    fn from(e: BackendError) -> Failure {
        Failure {
            code: e.kind().exit_code(),
            kind: e.kind().name(),
            message: e.detailed(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        match e.downcast_ref::<BackendError>() {
            Some(b) => Failure::from(b.clone()),
            None => Failure::refused(format!("{e:#}")),
        }
    }
}

impl From<tablero_core::Error> for Failure {
    fn from(e: tablero_core::Error) -> Failure {
        Failure::from(BackendError::from(e))
    }
}

fn main() -> ExitCode {
    let json = std::env::args().any(|a| a == "--json");
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) || !json {
                let _ = e.print();
                return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
            }
            print_json(&json!({"error": {"kind": "usage", "message": e.to_string().trim()}}));
            return ExitCode::from(2);
        }
    };
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            if cli.json {
                print_json(&json!({"error": {"kind": f.kind, "message": f.message}}));
            } else {
                eprintln!("error: {}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}

fn print_json(v: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, v);
    let _ = writeln!(out);
}

fn emit<T: serde::Serialize>(cli: &Cli, value: &T, human: impl FnOnce()) {
    if cli.json {
        print_json(&serde_json::to_value(value).unwrap_or(serde_json::Value::Null));
    } else {
        human();
    }
}

fn root(cli: &Cli) -> PathBuf {
    cli.workspace.clone().unwrap_or_else(backend::default_root)
}

/// The backend, built once for this command.
fn open(cli: &Cli) -> Result<Backend, Failure> {
    backend::open(&root(cli), cli.backend.as_deref(), cli.as_user.as_deref())
}

fn run(cli: &Cli) -> Result<u8, Failure> {
    match &cli.command {
        Command::Init => {
            let made = backend::init(&root(cli), cli.backend.as_deref())?;
            let b = &made.backend;
            let user = b.identity.actor();
            let out = json!({
                "workspace": b.location,
                "config": made.config,
                "user": user,
                "roles": b.identity.users().get(&user),
                "backend": b.kind,
            });
            emit(cli, &out, || {
                println!("Workspace ready at {} ({} backend)", b.location, b.kind);
                println!(
                    "  config: {} (you, {user}, are analyst, ml_lead and ops)",
                    made.config.display(),
                );
                println!("  next:   tablero data upload FILE.csv");
            });
            Ok(0)
        }
        Command::Data(cmd) => data(cli, cmd),
        Command::Etl(cmd) => etl(cli, cmd),
        Command::Jobs(cmd) => jobs(cli, cmd),
        Command::Train(args) => train(cli, args),
        Command::Models(cmd) => models(cli, cmd),
        Command::Endpoint(EndpointCommand::Serve {
            port,
            host,
            metrics_interval,
        }) => {
            backend::serve(
                &root(cli),
                cli.backend.as_deref(),
                host,
                *port,
                *metrics_interval,
            )?;
            Ok(0)
        }
        Command::Endpoint(cmd) => {
            let b = open(cli)?;
            let out = match cmd {
                EndpointCommand::Start {
                    port,
                    host,
                    metrics_interval,
                } => serde_json::to_value(tablero_app::deploy::start_endpoint(
                    &b,
                    &EndpointOptions {
                        port: *port,
                        host: host.clone(),
                        metrics_interval: *metrics_interval,
                    },
                )?),
                EndpointCommand::Stop => {
                    serde_json::to_value(tablero_app::deploy::stop_endpoint(&b)?)
                }
                EndpointCommand::Status => serde_json::to_value(b.deployer.endpoint_status()?),
                EndpointCommand::Serve { .. } => {
                    return Err(Failure::usage("serve runs the endpoint in the foreground"))
                }
            }
            .unwrap_or_default();
            emit(cli, &out, || human::endpoint(&out));
            Ok(0)
        }
        Command::Deploy(cmd) => deploy(cli, cmd),
        Command::Report {
            target,
            out,
            group,
            since,
        } => report(cli, target, out, group, since),
        Command::Demo { seconds, port } => {
            let out = demo::run(
                &root(cli),
                cli.backend.as_deref(),
                *seconds,
                *port,
                cli.json,
            )?;
            emit(cli, &out, || human::demo(&out));
            Ok(0)
        }
        Command::Monitor(MonitorCommand::Metrics { since, endpoint }) => {
            let b = open(cli)?;
            let endpoints = b.monitor.endpoints();
            if !endpoints.contains(endpoint) {
                let names: Vec<String> = endpoints.iter().map(|e| format!("`{e}`")).collect();
                return Err(Failure::refused(format!(
                    "no endpoint named {endpoint:?}: the {} backend has {} {}",
                    b.kind,
                    if names.len() == 1 {
                        "one endpoint,"
                    } else {
                        "the endpoints"
                    },
                    names.join(", ")
                )));
            }
            let since = parse_since(since)?;
            let windows: Vec<_> = b
                .monitor
                .metric_windows(&since)?
                .into_iter()
                .filter(|w| &w.endpoint == endpoint)
                .collect();
            let requests: u64 = windows.iter().map(|w| w.requests).sum();
            let errors: u64 = windows.iter().map(|w| w.errors).sum();
            let out =
                json!({"since": since, "requests": requests, "errors": errors, "windows": windows});
            emit(cli, &out, || human::metrics(&windows, requests, errors));
            Ok(0)
        }
        Command::Monitor(MonitorCommand::Alarms) => {
            let b = open(cli)?;
            let out = tablero_app::monitor::alarms(&b)?;
            emit(cli, &out, || human::alarms(&out));
            Ok(0)
        }
        Command::Monitor(MonitorCommand::Drift {
            since,
            version,
            group,
        }) => {
            let b = open(cli)?;
            let since = parse_since(since)?;
            let deployed = b.deployer.deployed()?;
            let group = group
                .clone()
                .or_else(|| deployed.as_ref().map(|d| d.group.clone()))
                .unwrap_or_else(|| "default".into());
            let version = match version.or_else(|| deployed.as_ref().map(|d| d.version)) {
                Some(v) => v,
                None => return Err(Failure::refused("nothing is deployed; give --version")),
            };
            let drift = tablero_app::monitor::drift_since(&b, &group, version, &since)?;
            let out =
                json!({"since": since, "group": group, "version": version, "features": drift});
            emit(cli, &out, || human::drift(&drift));
            Ok(0)
        }
        Command::Keys(cmd) => {
            let b = open(cli)?;
            match cmd {
                KeysCommand::Create { name, rate } => {
                    let key = tablero_app::keys::create(&b, name, *rate)?;
                    emit(
                        cli,
                        &json!({"name": name, "key": key, "rate": rate}),
                        || {
                            println!("Key {name} ({rate} requests/s). Copy it now, it is not shown again:\n{key}")
                        },
                    );
                }
                KeysCommand::Ls => {
                    let keys = b.keys.api_keys()?;
                    emit(cli, &json!({"keys": keys}), || human::keys(&keys));
                }
                KeysCommand::Revoke { name } => {
                    tablero_app::keys::revoke(&b, name)?;
                    emit(cli, &json!({"revoked": name}), || {
                        println!("Revoked {name}")
                    });
                }
            }
            Ok(0)
        }
        Command::Policy(PolicyCommand::FourEyes { state }) => {
            let b = open(cli)?;
            tablero_app::policy::set_four_eyes(&b, state == "on")?;
            emit(cli, &json!({"four_eyes": state == "on"}), || {
                println!("four-eyes rule is {state}")
            });
            Ok(0)
        }
        Command::Audit { since } => {
            let b = open(cli)?;
            let since = parse_since(since)?;
            let entries = b.audit.audit_since(&since)?;
            emit(cli, &json!({"since": since, "entries": entries}), || {
                human::audit(&entries)
            });
            Ok(0)
        }
    }
}

fn parse_since(s: &str) -> Result<String, Failure> {
    tablero_app::time::since(s).map_err(|e| Failure::usage(format!("--since {e}")))
}

fn parse_delimiter(s: &str) -> Result<u8, Failure> {
    match s {
        "\\t" | "\t" | "tab" | "TAB" => Ok(b'\t'),
        "," | ";" | "|" => Ok(s.as_bytes()[0]),
        other => Err(Failure::usage(format!(
            "--delimiter {other:?}: use ',', ';', '\\t' (or tab) or '|'"
        ))),
    }
}

fn bytes_bar(cli: &Cli, total: u64, msg: &str) -> ProgressBar {
    if cli.json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(msg.to_string());
    pb
}

fn data(cli: &Cli, cmd: &DataCommand) -> Result<u8, Failure> {
    let b = open(cli)?;
    match cmd {
        DataCommand::Upload(a) => {
            let opts = CsvOptions {
                encoding: match &a.encoding {
                    Some(e) => Some(Encoding::from_name(e).ok_or_else(|| {
                        Failure::usage(format!("--encoding {e:?}: use utf-8 or latin-1"))
                    })?),
                    None => None,
                },
                delimiter: a.delimiter.as_deref().map(parse_delimiter).transpose()?,
                date_format: a.date_format.clone(),
                mapping: match &a.map {
                    Some(m) => {
                        ingest::parse_mapping(m).map_err(|e| Failure::usage(e.to_string()))?
                    }
                    None => Vec::new(),
                },
            };
            let size = std::fs::metadata(&a.file)
                .with_context(|| format!("cannot read {}", a.file.display()))?
                .len();
            let pb = bytes_bar(cli, size, "uploading");
            let up = tablero_app::data::upload(
                &b,
                &a.file,
                a.key.as_deref(),
                &opts,
                a.replace,
                &|done, _| pb.set_position(done),
                &|| false,
            )?;
            pb.finish_and_clear();
            emit(cli, &up, || human::upload(&up));
            Ok(0)
        }
        DataCommand::Ls {
            bucket,
            prefix,
            page_size,
            page_token,
        } => {
            let bucket = Bucket::from(*bucket);
            if page_token.is_some() {
                let page = b
                    .store
                    .list(bucket, prefix, page_token.as_deref(), *page_size)?;
                emit(cli, &page, || {
                    human::listing(&page.objects, page.next_token.as_deref())
                });
                return Ok(0);
            }
            let mut all = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page = b.store.list(bucket, prefix, token.as_deref(), *page_size)?;
                all.extend(page.objects);
                match page.next_token {
                    Some(t) => token = Some(t),
                    None => break,
                }
            }
            emit(cli, &json!({"objects": all, "next_token": null}), || {
                human::listing(&all, None)
            });
            Ok(0)
        }
        DataCommand::Preview { bucket, key, rows } => {
            let p = tablero_app::data::preview(&b, (*bucket).into(), key, *rows)?;
            emit(cli, &p, || human::preview(&p));
            Ok(0)
        }
        DataCommand::Get {
            bucket,
            key,
            out,
            format,
            force,
        } => {
            let format = format.map(|f| match f {
                FormatArg::Csv => FileFormat::Csv,
                FormatArg::Parquet => FileFormat::Parquet,
            });
            let e = tablero_app::data::export(&b, (*bucket).into(), key, out, format, *force)?;
            emit(cli, &e, || {
                println!("Wrote {} ({} bytes)", e.path.display(), e.bytes)
            });
            Ok(0)
        }
        DataCommand::Rm { bucket, key, yes } => {
            let bucket = Bucket::from(*bucket);
            if !yes {
                if cli.json {
                    return Err(Failure::usage(
                        "data rm with --json needs --yes (it never prompts)",
                    ));
                }
                eprint!("Delete {bucket}/{key}? It will be moved to the workspace trash. [y/N] ");
                let mut answer = String::new();
                let _ = std::io::stdin().read_line(&mut answer);
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    eprintln!("Not deleted.");
                    return Ok(1);
                }
            }
            let trash = tablero_app::data::delete(&b, bucket, key)?;
            emit(
                cli,
                &json!({"deleted": {"bucket": bucket, "key": key}, "trash": trash.path, "trash_id": trash.id}),
                || {
                    println!("Deleted {bucket}/{key} (kept in {})", trash.path);
                    println!("Undo: tablero data restore {}", trash.id);
                },
            );
            Ok(0)
        }
        DataCommand::Trash => {
            let entries = b.store.trash()?;
            emit(cli, &json!({"trash": entries}), || human::trash(&entries));
            Ok(0)
        }
        DataCommand::Restore { id } => {
            let info = tablero_app::data::restore(&b, id)?;
            emit(cli, &json!({"restored": info}), || {
                println!(
                    "Restored {}/{} ({} bytes)",
                    info.bucket, info.key, info.size
                )
            });
            Ok(0)
        }
    }
}

fn etl(cli: &Cli, cmd: &EtlCommand) -> Result<u8, Failure> {
    let b = open(cli)?;
    let request = match cmd {
        EtlCommand::Clean {
            raw_key,
            preset,
            out,
        } => JobRequest::Clean {
            raw_key: raw_key.clone(),
            preset: (*preset).into(),
            out_key: out.clone(),
        },
        EtlCommand::Features {
            clean_key,
            preset,
            cutoff,
            horizon_days,
            out,
        } => JobRequest::Features {
            clean_key: clean_key.clone(),
            preset: (*preset).into(),
            cutoff: match cutoff {
                Some(c) => Some(
                    tablero_app::jobs::parse_cutoff(c)
                        .map_err(|e| Failure::usage(format!("--cutoff {e}")))?,
                ),
                None => None,
            },
            horizon_days: *horizon_days,
            out_key: out.clone(),
        },
    };
    run_job(cli, &b, request)
}

/// Submits a job, runs it here with a progress bar, and prints it. Ctrl-C
/// asks the job to stop (it writes nothing); a second Ctrl-C exits at once.
fn run_job(cli: &Cli, b: &Backend, request: JobRequest) -> Result<u8, Failure> {
    let job = tablero_app::jobs::submit(b, request)?;
    let jobs = b.jobs.clone();
    let id = job.id.clone();
    let pressed = std::sync::atomic::AtomicBool::new(false);
    let _ = ctrlc::set_handler(move || {
        if pressed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nCancelling {id} (press Ctrl-C again to quit at once)…");
        let _ = jobs.cancel(&id);
    });
    let pb = if cli.json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let pb = ProgressBar::new(1000);
        pb.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {percent:>3}% {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb.set_prefix(format!("{} {}", job.kind.name(), job.id));
        pb
    };
    let done = b.jobs.run(&job.id, &|j: &Job| {
        pb.set_position((j.progress * 1000.0) as u64);
        pb.set_message(j.phase.clone());
    })?;
    pb.finish_and_clear();
    emit(cli, &done, || human::job(&done, &[]));
    Ok(if done.status == JobStatus::Succeeded {
        0
    } else {
        1
    })
}

fn train(cli: &Cli, a: &TrainArgs) -> Result<u8, Failure> {
    let b = open(cli)?;
    let sort = Metric::from_name(&a.sort).ok_or_else(|| {
        Failure::usage(format!(
            "--sort {:?}: use accuracy, auc, f1, recall, precision, kappa or mcc",
            a.sort
        ))
    })?;
    let candidates = match &a.candidates {
        None => None,
        Some(list) => Some(
            list.iter()
                .map(|c| {
                    Algorithm::from_id(c).ok_or_else(|| {
                        Failure::usage(format!(
                            "--candidates: unknown {c:?}; use lr, tree, forest, gbm, knn, nb, et"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let config = tablero_app::jobs::TrainOptions {
        sort: Some(sort),
        folds: Some(a.folds),
        test_size: Some(a.test_size),
        seed: Some(a.seed),
        candidates,
    }
    .config();
    run_job(
        cli,
        &b,
        JobRequest::Train {
            features_key: a.features_key.clone(),
            group: a.group.clone(),
            config,
        },
    )
}

fn models(cli: &Cli, cmd: &ModelsCommand) -> Result<u8, Failure> {
    let b = open(cli)?;
    let ws = &b.registry;
    match cmd {
        ModelsCommand::Ls { group, status } => {
            let status = match status {
                Some(s) => Some(ApprovalStatus::from_name(s).ok_or_else(|| {
                    Failure::usage(format!("--status {s:?}: use pending, approved or rejected"))
                })?),
                None => None,
            };
            let versions = ws.versions(group, status)?;
            emit(cli, &json!({"group": group, "versions": versions}), || {
                human::versions(&versions)
            });
        }
        ModelsCommand::Show { version, group } => {
            let v = ws.version(group, *version)?;
            let card = ws.card(group, *version)?;
            if cli.json {
                print_json(&json!({"version": v, "card": card}));
            } else {
                human::card(&v, &card);
            }
        }
        ModelsCommand::Compare { versions, group } => {
            let cards = versions
                .iter()
                .map(|v| ws.card(group, *v))
                .collect::<Result<Vec<_>, _>>()?;
            let c = registry::compare(&cards);
            emit(cli, &c, || human::comparison(&c));
        }
        ModelsCommand::Approve {
            version,
            comment,
            accept_leakage_risk,
            group,
        } => {
            let v =
                tablero_app::models::approve(&b, group, *version, comment, *accept_leakage_risk)?;
            emit(cli, &v, || {
                println!(
                    "{} version {} is {} ({})",
                    v.group,
                    v.version,
                    v.status.name(),
                    comment
                )
            });
        }
        ModelsCommand::Reject {
            version,
            comment,
            group,
        } => {
            let v = tablero_app::models::reject(&b, group, *version, comment)?;
            emit(cli, &v, || {
                println!(
                    "{} version {} is {} ({})",
                    v.group,
                    v.version,
                    v.status.name(),
                    comment
                )
            });
        }
    }
    Ok(0)
}

fn report(
    cli: &Cli,
    target: &str,
    out: &std::path::Path,
    group: &str,
    since: &str,
) -> Result<u8, Failure> {
    let b = open(cli)?;
    let charts = if target == "endpoint" {
        tablero_app::monitor::endpoint_charts(&b, &parse_since(since)?)?
    } else {
        let mut cards = Vec::new();
        for v in target.split(',') {
            let v: u32 = v.trim().parse().map_err(|_| {
                Failure::usage(format!(
                    "{target:?}: give version numbers (e.g. 3 or 1,3) or `endpoint`"
                ))
            })?;
            cards.push(b.registry.card(group, v)?);
        }
        let refs: Vec<&_> = cards.iter().collect();
        tablero_core::charts::for_versions(&refs)
    };
    std::fs::create_dir_all(out)
        .map_err(|e| Failure::refused(format!("cannot create {}: {e}", out.display())))?;
    let mut files = Vec::new();
    for (name, chart) in &charts {
        for (ext, bytes) in [
            ("svg", tablero_core::charts::svg(chart)?.into_bytes()),
            ("png", tablero_core::charts::png(chart)?),
        ] {
            let path = out.join(format!("{name}.{ext}"));
            std::fs::write(&path, bytes)
                .map_err(|e| Failure::refused(format!("cannot write {}: {e}", path.display())))?;
            files.push(path.display().to_string());
        }
    }
    let done = json!({"target": target, "out": out.display().to_string(), "files": files});
    emit(cli, &done, || {
        println!("{} charts written to {}:", charts.len(), out.display());
        for f in &files {
            println!("  {f}");
        }
    });
    Ok(0)
}

/// A promotion's or rollback's reply: the deployment, and what the running
/// endpoint serves after it (`null` when none runs).
fn rollout_json(r: &tablero_core::ports::Rollout) -> serde_json::Value {
    let endpoint = match r.phase {
        tablero_core::ports::RolloutPhase::NotRunning => serde_json::Value::Null,
        _ => json!({"serving": r.serving}),
    };
    json!({"deployment": r.deployment, "endpoint": endpoint, "phase": r.phase})
}

fn deploy(cli: &Cli, cmd: &DeployCommand) -> Result<u8, Failure> {
    let b = open(cli)?;
    let out = match cmd {
        DeployCommand::Status => {
            let deployed = b.deployer.deployed()?;
            let endpoint = b.deployer.endpoint_status()?;
            json!({"deployed": deployed, "endpoint": endpoint})
        }
        DeployCommand::Promote { version, group } => {
            rollout_json(&tablero_app::deploy::promote(&b, group, *version, &|_| {})?)
        }
        DeployCommand::Rollback => rollout_json(&tablero_app::deploy::rollback(&b, &|_| {})?),
        DeployCommand::History => json!({"history": b.deployer.deployments()?}),
        DeployCommand::Diff {
            version,
            group,
            since,
        } => {
            let diff =
                tablero_app::monitor::promotion_diff(&b, group, *version, &parse_since(since)?)?;
            emit(cli, &diff, || human::promotion_diff(&diff));
            return Ok(0);
        }
    };
    emit(cli, &out, || human::deploy(&out));
    Ok(0)
}

fn jobs(cli: &Cli, cmd: &JobsCommand) -> Result<u8, Failure> {
    let b = open(cli)?;
    let ws = &b.jobs;
    match cmd {
        JobsCommand::Ls { limit } => {
            let jobs = ws.jobs(*limit)?;
            emit(cli, &json!({"jobs": jobs}), || human::jobs(&jobs));
        }
        JobsCommand::Show { id } => {
            let job = ws.job(id)?;
            let logs = ws.logs(id)?;
            if cli.json {
                let mut v = serde_json::to_value(&job).unwrap_or_default();
                v["logs"] = serde_json::to_value(&logs).unwrap_or_default();
                print_json(&v);
            } else {
                human::job(&job, &logs);
            }
        }
        JobsCommand::Cancel { id } => {
            let job = ws.cancel(id)?;
            emit(cli, &job, || {
                println!(
                    "Cancellation requested: {} is {}",
                    job.id,
                    job.status.name()
                )
            });
        }
    }
    Ok(0)
}
