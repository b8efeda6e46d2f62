//! The command line: every command and flag (clap), documented in
//! docs/cli.md.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tablero_core::clean::Preset;
use tablero_core::store::Bucket;
use tablero_serve::ServeArgs;

#[derive(Parser)]
#[command(
    name = "tablero",
    version,
    about = "Tablero: an MLOps control panel for retail purchase prediction"
)]
pub(crate) struct Cli {
    /// Workspace folder (default: the platform data dir, e.g. ~/.local/share/tablero).
    #[arg(long, global = true, env = "TABLERO_WORKSPACE")]
    pub(crate) workspace: Option<PathBuf>,
    /// Print exactly one JSON document on stdout and never prompt.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Act as another configured user (only when [policy] allow_as = true).
    #[arg(long = "as", global = true, value_name = "USER")]
    pub(crate) as_user: Option<String>,
    /// Backend: local or aws (default: `[backend] kind` in the workspace's
    /// tablero.toml, else $TABLERO_BACKEND overriding it, else local).
    #[arg(long, global = true, value_name = "KIND")]
    pub(crate) backend: Option<String>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
    /// The AWS backend's settings (the `[aws]` table, docs/aws.md).
    #[command(subcommand)]
    Aws(AwsCommand),
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
pub(crate) enum BucketArg {
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
pub(crate) enum PresetArg {
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
pub(crate) enum FormatArg {
    Csv,
    Parquet,
}

#[derive(Subcommand)]
pub(crate) enum DataCommand {
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
pub(crate) struct UploadArgs {
    /// The CSV file.
    pub(crate) file: PathBuf,
    /// Key in the raw bucket (default: the file name).
    #[arg(long)]
    pub(crate) key: Option<String>,
    /// Column mapping: "Their Header=canonical_name,...". Canonical names:
    /// customer_id, invoice_date, quantity, unit_price, amount, invoice_id,
    /// product_id, description, country.
    #[arg(long)]
    pub(crate) map: Option<String>,
    /// utf-8, windows-1252 or latin-1 (default: detected).
    #[arg(long)]
    pub(crate) encoding: Option<String>,
    /// ',', ';', '\t' (or "tab") or '|' (default: detected).
    #[arg(long)]
    pub(crate) delimiter: Option<String>,
    /// Date format, e.g. '%m/%d/%Y %H:%M' (default: detected).
    #[arg(long)]
    pub(crate) date_format: Option<String>,
    /// Replace an existing object with this key (the old one goes to the trash).
    #[arg(long)]
    pub(crate) replace: bool,
}

#[derive(Subcommand)]
pub(crate) enum EtlCommand {
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
    /// Clean a raw CSV, then build the features table from the clean
    /// table, in one go (the clean rows are handed to the features stage in
    /// memory: faster than `etl clean` then `etl features`).
    Run {
        /// Key in the raw bucket.
        raw_key: String,
        /// standard, or parity; used by both stages.
        #[arg(long, default_value = "standard")]
        preset: PresetArg,
        #[command(flatten)]
        target: TargetArgs,
        /// The clean table's key (default: <raw stem>/transactions[.parity].parquet).
        #[arg(long)]
        clean_out: Option<String>,
        /// The features table's key (default: beside the clean table, features[.parity].parquet).
        #[arg(long)]
        features_out: Option<String>,
    },
    /// Build the per-customer features table from a clean table.
    Features {
        /// Key of a clean transactions table.
        clean_key: String,
        /// Must match the preset the clean table was made with.
        #[arg(long, default_value = "standard")]
        preset: PresetArg,
        #[command(flatten)]
        target: TargetArgs,
        /// Output key (default: beside the clean table, features[.parity].parquet).
        #[arg(long)]
        out: Option<String>,
    },
}

/// The features stage's cut-off and horizon (`etl features`, `etl run`).
#[derive(Args)]
pub(crate) struct TargetArgs {
    /// Cut-off 'YYYY-MM-DD[ HH:MM:SS]' (default: the 0.7 quantile of invoice timestamps).
    #[arg(long)]
    pub(crate) cutoff: Option<String>,
    /// Days after the cut-off in which a purchase makes the target 1.
    #[arg(long, default_value_t = 90)]
    pub(crate) horizon_days: u32,
}

#[derive(Args)]
pub(crate) struct TrainArgs {
    /// Key of a features table in the clean bucket.
    pub(crate) features_key: String,
    /// Metric the leaderboard is sorted by: accuracy, auc, f1, recall, precision, kappa, mcc.
    #[arg(long, default_value = "accuracy")]
    pub(crate) sort: String,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 10)]
    pub(crate) folds: usize,
    /// Fraction of customers held out for the test part.
    #[arg(long, default_value_t = 0.2)]
    pub(crate) test_size: f64,
    /// Seed for the split, the folds and the estimators.
    #[arg(long, default_value_t = 123)]
    pub(crate) seed: u64,
    /// Candidates: lr, tree, forest, gbm, knn, nb, et (default: all).
    #[arg(long, value_delimiter = ',')]
    pub(crate) candidates: Option<Vec<String>>,
    /// Model group to register in.
    #[arg(long, default_value = "default")]
    pub(crate) group: String,
    /// SageMaker instance type (AWS with `[aws.compute]`; default there).
    #[arg(long)]
    pub(crate) instance_type: Option<String>,
    /// Managed spot training on SageMaker (no checkpoints: an interrupted
    /// job starts over).
    #[arg(long)]
    pub(crate) spot: bool,
    /// Longest run of the SageMaker training job, seconds.
    #[arg(long)]
    pub(crate) max_runtime: Option<i32>,
}

#[derive(Subcommand)]
pub(crate) enum ModelsCommand {
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
pub(crate) enum EndpointCommand {
    /// Start the local endpoint as its own process (ops).
    Start(ServeArgs),
    /// Stop it; in-flight requests finish first (ops).
    Stop,
    /// Whether it runs, its URL, what it serves, its uptime.
    Status,
    /// Run the endpoint in this process (what `start` launches).
    #[command(hide = true)]
    Serve(ServeArgs),
}

#[derive(Subcommand)]
pub(crate) enum DeployCommand {
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
pub(crate) enum MonitorCommand {
    /// Per-interval requests, errors, latency percentiles, positive rate.
    Metrics {
        /// A duration (30m, 1h, 24h, 7d) or a UTC date.
        #[arg(long, default_value = "1h")]
        since: String,
        /// Endpoint name (default: the backend's; `local` locally).
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// The platform's metrics around the endpoint (AWS: API Gateway's
    /// requests, errors and latency, the ECS service's CPU and memory).
    Service {
        /// A duration (30m, 1h, 24h, 7d) or a UTC date.
        #[arg(long, default_value = "1h")]
        since: String,
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
pub(crate) enum KeysCommand {
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
pub(crate) enum PolicyCommand {
    /// Turn the four-eyes rule on or off (ml_lead; audited).
    FourEyes {
        /// on or off.
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum JobsCommand {
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

#[derive(Subcommand)]
pub(crate) enum AwsCommand {
    /// Check the `[aws]` table: who the credentials are (STS
    /// GetCallerIdentity) and each bucket (listed, versioned); exits 1
    /// when a check fails, saying which call and why.
    Check,
}
