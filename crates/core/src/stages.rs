//! Running a stage: read its input, run the step, write its output and its
//! report, register a trained model — one function for clean, features and
//! train ([`run`]), the same wherever a job runs (in-process locally, in a
//! Lambda, in a training container). It reaches storage only through the
//! ports it is given, and writes nothing visible before its last
//! cancellation check.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::features::{self, FeatureParams};
use crate::ingest;
use crate::job::{JobRequest, LogLevel};
use crate::ports::{put_bytes, BackendError, ObjectReader, ObjectStore, Registry};
use crate::preset::Preset;
use crate::progress::Progress;
use crate::registry::{self, ApprovalStatus, ModelVersion};
use crate::report::{CleanReport, FeatureReport};
use crate::store::{Bucket, ObjectInfo, ObjectKey, ObjectRef};
use crate::table::{self, DataFrame, TableMeta};
use crate::train::metrics::Confusion;
use crate::train::model::{DatasetRef, ModelArtifact, ModelCard};
use crate::train::models::Algorithm;
use crate::train::{self, Holdout, Importance, LeaderboardEntry, LeakageFlag, TrainConfig};
use crate::{clean, Error};

/// Rows or positives in the training and test parts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Split {
    /// In the training part.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub train: u64,
    /// In the test part.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub test: u64,
}

/// What a training job reports: the leaderboard and the registered version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrainReport {
    /// The version registered.
    pub version: u32,
    /// Its group.
    pub group: String,
    /// Its status (`PendingManualApproval`).
    pub status: ApprovalStatus,
    /// The winning candidate.
    pub winner: Algorithm,
    /// Every candidate, best first.
    pub leaderboard: Vec<LeaderboardEntry>,
    /// The winner's holdout metrics.
    pub holdout: Holdout,
    /// Features flagged as likely target leaks.
    pub leakage: Vec<LeakageFlag>,
    /// The winner's confusion matrix on the test part.
    pub confusion: Confusion,
    /// Permutation importance, largest first.
    pub importance: Vec<Importance>,
    /// Customers in each part.
    pub rows: Split,
    /// Positives in each part.
    pub positives: Split,
    /// The artifact.
    pub artifact: ObjectRef,
    /// The model card.
    pub card: ObjectRef,
}

/// A stage's report, as the job keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(untagged)]
pub enum StageReport {
    /// Training.
    Train(Box<TrainReport>),
    /// Clean.
    Clean(Box<CleanReport>),
    /// Features.
    Features(Box<FeatureReport>),
}

/// What a stage wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct StageOutput {
    /// Its output (the table, or the model artifact).
    pub output: ObjectRef,
    /// Its report.
    pub report: StageReport,
}

/// What a stage runs with.
pub struct StageContext<'a> {
    /// The buckets.
    pub store: &'a dyn ObjectStore,
    /// Where a trained model is registered.
    pub registry: &'a dyn Registry,
    /// Who runs the job (the model card's trainer, outputs' `produced_by`).
    pub actor: &'a str,
    /// Progress, and the way to stop.
    pub progress: &'a dyn Progress,
    /// The job's log: `(level, message)`.
    pub log: &'a dyn Fn(LogLevel, &str),
    /// Whether a raw object with no stored ingest spec (put in the bucket
    /// by something other than Tablero's upload) is read the way the
    /// upload dialog would read it (delimiter, encoding, date format and
    /// mapping inferred), failing with the dialog's message. Off: such an
    /// object is refused.
    pub infer_spec: bool,
    /// Memory the stage may use, in MiB (the workspace's
    /// [`crate::ports::Limits::memory_budget_mb`]). A stage that would need
    /// more (see [`memory_need_mb`]) is refused before its work begins,
    /// saying what it needs: never killed by the system halfway.
    pub memory_mb: u64,
    /// The hand-over from a clean stage to the features stage after it in
    /// this process (`etl run`); `None` where stages run apart (Lambda).
    pub carry: Option<&'a Carry>,
}

/// What a clean stage hands the features stage that follows it in the same
/// process: the features' input, gathered as the clean table was made, so
/// that the features stage does not read the table back. It holds one
/// table's input at most, for the one clean job asked to keep it
/// ([`Carry::keep_next`]); the features stage takes it when it reads that
/// very object (same key, size and modification time), and reads the table
/// otherwise.
#[derive(Default)]
pub struct Carry {
    keep: std::sync::atomic::AtomicBool,
    kept: std::sync::Mutex<Option<Carried>>,
}

struct Carried {
    key: ObjectKey,
    size: u64,
    modified: String,
    input: features::Input,
}

impl Carry {
    /// The next clean stage run with this carry keeps the features' input.
    pub fn keep_next(&self) {
        self.keep.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Takes back [`Carry::keep_next`] if no clean stage has used it.
    pub fn stop_keeping(&self) {
        self.keep.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether the clean stage starting now keeps it (asked once).
    fn keeping(&self) -> bool {
        self.keep.swap(false, std::sync::atomic::Ordering::SeqCst)
    }

    /// Whether an input is kept now.
    fn holds(&self) -> bool {
        self.kept.lock().is_ok_and(|kept| kept.is_some())
    }

    fn put(&self, carried: Option<Carried>) {
        if let Ok(mut kept) = self.kept.lock() {
            *kept = carried;
        }
    }

    /// The input kept for `info` (the clean table as it is now), if any;
    /// whatever was kept is let go either way.
    fn take(&self, info: &ObjectInfo) -> Option<features::Input> {
        let kept = self.kept.lock().ok()?.take()?;
        (kept.key.as_str() == info.key && kept.size == info.size && kept.modified == info.modified)
            .then_some(kept.input)
    }
}

/// What a stage's peak memory grows with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryUse {
    /// A clean stage on an uploaded file, which streams (both presets):
    /// one hash per row for the duplicate rule and the output table;
    /// `parity` adds a bit per row and a country and a price per kept row,
    /// within the same measured line.
    CleanStreaming {
        /// Data rows of the raw file.
        rows: u64,
    },
    /// A clean stage that holds its input (a file without a stored spec,
    /// read as the upload dialog would): the file, its rows and the table.
    CleanInMemory {
        /// The raw file's size.
        bytes: u64,
        /// Its data rows.
        rows: u64,
    },
    /// What a clean stage keeps for the features stage after it
    /// ([`Carry`]), on top of its own need: about 48 bytes a kept row.
    Kept {
        /// Data rows of the raw file.
        rows: u64,
    },
    /// The features stage: the clean table's file and its rows.
    Features {
        /// The clean table's size.
        bytes: u64,
        /// Its rows.
        rows: u64,
    },
}

/// A stage's expected peak memory in MiB: a line in the input's size and
/// rows, fitted to the peaks measured at 1x, 10x and 92x the reference file
/// (docs/ARCHITECTURE.md, "Memory"), with a quarter more for the part that
/// grows.
pub fn memory_need_mb(usage: MemoryUse) -> u64 {
    // (fixed MiB, bytes per input byte, bytes per row)
    let (fixed, per_byte, per_row, bytes, rows) = match usage {
        // Measured (standard, parity): 255-293 MiB at 0.54 M rows, 532 MiB
        // (standard) at 5.4 M, 3,251 and 3,248 MiB at 49.9 M (x92).
        MemoryUse::CleanStreaming { rows } => (320, 0.0, 64.0, 0, rows),
        // Measured: 314 MiB at 49 MB, 2,772 MiB at 494 MB.
        MemoryUse::CleanInMemory { bytes, rows } => (96, 5.8, 0.0, bytes, rows),
        // Measured: 119 MiB at 0.39 M rows, 2,862 MiB at 36.1 M (x92).
        MemoryUse::Features { bytes, rows } => (96, 1.0, 72.0, bytes, rows),
        // Its columns: a timestamp, three numbers and four text ids a row.
        MemoryUse::Kept { rows } => (0, 0.0, 48.0, 0, rows),
    };
    let grows = 1.25 * (bytes as f64 * per_byte + rows as f64 * per_row);
    fixed + (grows / (1 << 20) as f64).ceil() as u64
}

/// Data rows of a raw object: as counted at upload, else estimated from
/// its size (40 bytes a row, short for a transactions CSV).
fn raw_rows(info: &crate::store::ObjectInfo) -> u64 {
    info.metadata
        .get("rows")
        .and_then(|r| r.parse().ok())
        .unwrap_or(info.size / 40)
}

/// Refuses a stage whose expected need is over the budget.
fn within_budget(ctx: &StageContext, usage: MemoryUse, what: &str) -> Result<(), BackendError> {
    let need = memory_need_mb(usage);
    if need <= ctx.memory_mb {
        return Ok(());
    }
    let hint = match usage {
        MemoryUse::CleanInMemory { .. } => {
            ", or upload the file with `tablero data upload` (a file with a stored spec streams)"
        }
        _ => "",
    };
    Err(BackendError::refused(format!(
        "{what} needs about {need} MB of memory, over the budget of {} MB ([limits] memory_mb in tablero.toml; \
         0 means half of this machine's RAM). Nothing was written. \
         Set memory_mb to at least {need} on a machine that has it{hint}",
        ctx.memory_mb
    )))
}

/// Default clean output key: `<raw stem>/transactions[.parity].parquet`.
pub fn default_clean_key(raw: &ObjectKey, preset: Preset) -> String {
    match preset {
        Preset::Standard => format!("{}/transactions.parquet", raw.stem()),
        Preset::Parity => format!("{}/transactions.parity.parquet", raw.stem()),
    }
}

/// Default features output key: beside the clean table,
/// `<folder>/features[.parity].parquet`.
pub fn default_features_key(clean: &ObjectKey, preset: Preset) -> String {
    let name = match preset {
        Preset::Standard => "features.parquet",
        Preset::Parity => "features.parity.parquet",
    };
    match clean.parent() {
        "" => format!("{}.{name}", clean.stem()),
        dir => format!("{dir}/{name}"),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn progress(ctx: &StageContext, fraction: f64, phase: &str) -> Result<(), BackendError> {
    Ok(ctx.progress.update(fraction, phase)?)
}

/// Runs a stage to its end. A cancelled stage fails with kind `cancelled`;
/// a failed or cancelled stage has written nothing visible.
pub fn run(request: &JobRequest, ctx: &StageContext) -> Result<StageOutput, BackendError> {
    match request {
        JobRequest::Clean {
            raw_key,
            preset,
            out_key,
        } => {
            let key = ObjectKey::new(raw_key)?;
            progress(ctx, 0.02, "reading raw object")?;
            let info = ctx.store.head(Bucket::Raw, &key)?;
            let stored = if ctx.infer_spec && !info.metadata.contains_key(ingest::INGEST_META) {
                None
            } else {
                Some(ingest::stored_spec(&info)?)
            };
            let out = match out_key {
                Some(k) => ObjectKey::new(k)?,
                None => ObjectKey::new(&default_clean_key(&key, *preset))?,
            };
            let rows = raw_rows(&info);
            let what = format!(
                "cleaning raw/{raw_key} ({} preset, {} bytes, about {rows} rows)",
                preset.name(),
                info.size
            );
            if let Some(spec) = &stored {
                // Read, cleaned and written a block at a time.
                // Ranged reads of 16 MiB: few requests to an object store.
                let open = || {
                    let reader: Box<dyn std::io::Read + Send + '_> = match ctx
                        .store
                        .open_file(Bucket::Raw, &key)
                        .map_err(|e| ingest::IngestError::Read(format!("raw/{raw_key}: {e}")))?
                    {
                        // A file on this machine is read in place.
                        Some(file) => Box::new(std::io::Read::take(file, info.size)),
                        None => Box::new(ObjectReader::new(
                            ctx.store,
                            Bucket::Raw,
                            &key,
                            info.size,
                            16 << 20,
                        )),
                    };
                    Ok(ingest::BlockReader::new(
                        reader,
                        spec.encoding,
                        ingest::BLOCK_BYTES,
                    ))
                };
                within_budget(ctx, MemoryUse::CleanStreaming { rows }, &what)?;
                let mut gather = match ctx.carry {
                    Some(carry) if carry.keeping() => {
                        carry.put(None);
                        keep_within_budget(ctx, rows).then(|| {
                            features::Input::new(&clean::table_meta(*preset, spec), rows as usize)
                        })
                    }
                    _ => None,
                };
                let (bytes, _, report) = match preset {
                    Preset::Standard => clean::clean_blocks(
                        open()?,
                        info.size,
                        spec,
                        ctx.progress,
                        gather.as_mut(),
                    )?,
                    Preset::Parity => clean::clean_blocks_parity(
                        open,
                        info.size,
                        spec,
                        ctx.progress,
                        gather.as_mut(),
                    )?,
                };
                log_clean(ctx, raw_key, &report);
                let report = StageReport::Clean(Box::new(report));
                let (done, written) = commit_bytes(ctx, bytes, &out, &report)?;
                if let (Some(carry), Some(input)) = (ctx.carry, gather) {
                    carry.put(Some(Carried {
                        key: out,
                        size: written.size,
                        modified: written.modified,
                        input,
                    }));
                }
                return Ok(done);
            }
            within_budget(
                ctx,
                MemoryUse::CleanInMemory {
                    bytes: info.size,
                    rows,
                },
                &what,
            )?;
            let bytes = ctx.store.read(Bucket::Raw, &key)?;
            progress(ctx, 0.1, "parsing CSV")?;
            let (spec, parsed) = match stored {
                Some(spec) => {
                    let parsed = ingest::parse(&bytes, &spec).map_err(Error::from)?;
                    (spec, parsed)
                }
                None => {
                    (ctx.log)(
                        LogLevel::Info,
                        &format!(
                            "raw/{raw_key} has no stored ingest spec: reading it as the upload dialog would"
                        ),
                    );
                    ingest::inspect(&bytes, &ingest::CsvOptions::default()).map_err(Error::from)?
                }
            };
            drop(bytes);
            let (mut df, meta, report) = clean::clean(parsed, &spec, *preset, ctx.progress)?;
            log_clean(ctx, raw_key, &report);
            let report = StageReport::Clean(Box::new(report));
            commit(ctx, &mut df, &meta, &out, &report)
        }
        JobRequest::Features {
            clean_key,
            preset,
            cutoff,
            horizon_days,
            out_key,
        } => {
            let key = ObjectKey::new(clean_key)?;
            let params = FeatureParams {
                preset: *preset,
                cutoff: *cutoff,
                horizon_days: *horizon_days,
            };
            let out = match out_key {
                Some(k) => ObjectKey::new(k)?,
                None => ObjectKey::new(&default_features_key(&key, *preset))?,
            };
            if let Some(carry) = ctx.carry.filter(|c| c.holds()) {
                let info = ctx.store.head(Bucket::Clean, &key)?;
                if let Some(input) = carry.take(&info) {
                    let rows = input.rows() as u64;
                    within_budget(
                        ctx,
                        MemoryUse::Features { bytes: 0, rows },
                        &format!("the features of clean/{clean_key} ({rows} rows)"),
                    )?;
                    (ctx.log)(
                        LogLevel::Info,
                        &format!(
                            "clean/{clean_key}: its {rows} rows were handed over by the clean job before this one: the table is not read back"
                        ),
                    );
                    let (mut out_df, out_meta, report) =
                        features::features_of(input, params, ctx.progress)?;
                    return finish_features(ctx, &mut out_df, &out_meta, &out, report);
                }
            }
            progress(ctx, 0.02, "reading clean table")?;
            let bytes = ctx.store.read(Bucket::Clean, &key)?;
            if !bytes.starts_with(b"PAR1") {
                return Err(BackendError::refused(format!(
                    "clean/{clean_key} is not a Parquet table; give the key of a clean transactions table"
                )));
            }
            // A row group at a time, the next decoded while one is read.
            let (rows, pieces) =
                table::parquet_row_groups(&bytes, &features::input_columns(*preset))?;
            within_budget(
                ctx,
                MemoryUse::Features {
                    bytes: bytes.len() as u64,
                    rows,
                },
                &format!(
                    "the features of clean/{clean_key} ({} bytes, {rows} rows)",
                    bytes.len()
                ),
            )?;
            let meta = table::parquet_meta(&bytes)?;
            let (mut out_df, out_meta, report) = std::thread::scope(|s| {
                let (tx, rx) = std::sync::mpsc::sync_channel(1);
                s.spawn(move || {
                    for piece in pieces {
                        if tx.send(piece).is_err() {
                            break;
                        }
                    }
                });
                features::features_from(
                    rx.into_iter(),
                    rows as usize,
                    meta.as_ref(),
                    params,
                    ctx.progress,
                )
            })?;
            drop(bytes);
            finish_features(ctx, &mut out_df, &out_meta, &out, report)
        }
        JobRequest::Train {
            features_key,
            group,
            config,
            ..
        } => run_training(ctx, features_key, group, config),
    }
}

/// Logs a features stage's result and commits its table.
fn finish_features(
    ctx: &StageContext,
    df: &mut DataFrame,
    meta: &TableMeta,
    out: &ObjectKey,
    report: crate::report::FeatureReport,
) -> Result<StageOutput, BackendError> {
    (ctx.log)(
        LogLevel::Info,
        &format!(
            "{} customers, {} positives, cut-off {}",
            report.customers, report.positives, report.cutoff
        ),
    );
    let report = StageReport::Features(Box::new(report));
    commit(ctx, df, meta, out, &report)
}

/// Whether a clean stage of about `rows` rows may also keep the features'
/// input: when both fit the budget together. Otherwise the features stage
/// reads the table back, as a stage run alone does.
fn keep_within_budget(ctx: &StageContext, rows: u64) -> bool {
    let need = memory_need_mb(MemoryUse::CleanStreaming { rows })
        + memory_need_mb(MemoryUse::Kept { rows });
    let fits = need <= ctx.memory_mb;
    if !fits {
        (ctx.log)(
            LogLevel::Info,
            &format!(
                "the clean rows are not kept for the features stage: with them it would need about {need} MB, over the budget of {} MB; the features stage reads the table back",
                ctx.memory_mb
            ),
        );
    }
    fits
}

/// A trained model before it is registered: what a training container
/// hands over (`model.json`, `card.json`, `training.json` in
/// `/opt/ml/model/`), and what a local training job registers at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trained {
    /// The model card (`version` 0 until registered).
    pub card: ModelCard,
    /// Positives in the training and test parts.
    pub positives: Split,
}

/// What a model is trained on.
pub struct TrainInput<'a> {
    /// The features table (Parquet).
    pub bytes: &'a [u8],
    /// How messages name it (`clean/<key>`, a file path).
    pub name: &'a str,
    /// Its URI, for the card.
    pub dataset_uri: &'a str,
    /// The model group.
    pub group: &'a str,
    /// Training parameters.
    pub config: &'a TrainConfig,
    /// Who trains it (the card's `trained_by`).
    pub trained_by: &'a str,
}

/// Trains and compares the candidates on a features table: the model
/// artifact and what is registered with it. Registers nothing; the one
/// training function of local jobs and of the training container.
pub fn train_table(
    input: &TrainInput,
    progress: &dyn Progress,
    log: &dyn Fn(LogLevel, &str),
) -> Result<(Trained, Vec<u8>), BackendError> {
    let TrainInput {
        bytes,
        name,
        dataset_uri,
        group,
        config,
        trained_by,
    } = *input;
    registry::check_group(group)?;
    let meta = if bytes.starts_with(b"PAR1") {
        table::parquet_meta(bytes)?
    } else {
        None
    };
    let Some(meta) = meta.filter(|m| m.kind == "features") else {
        return Err(BackendError::refused(format!(
            "{name} is not a features table; give the key written by `tablero etl features`"
        )));
    };
    let sha = sha256_hex(bytes);
    let df = table::from_parquet(bytes)?;
    let result = train::train(&df, Some(&meta), config, progress)?;
    drop(df);
    for e in &result.evaluation.leaderboard {
        log(
            LogLevel::Info,
            &format!(
                "{:<20} accuracy {:.4} auc {:.4} f1 {:.4}",
                e.name, e.accuracy.mean, e.auc.mean, e.f1.mean
            ),
        );
    }
    for l in &result.evaluation.leakage {
        log(
            LogLevel::Warn,
            &format!(
                "possible target leakage: {} has univariate AUC {:.4}",
                l.feature, l.auc
            ),
        );
    }
    let roles = meta
        .roles
        .clone()
        .ok_or_else(|| BackendError::refused("the features table has no column roles"))?;
    let card = ModelCard {
        group: group.to_string(),
        version: 0,
        trained_by: trained_by.to_string(),
        trained_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        dataset: DatasetRef {
            uri: dataset_uri.to_string(),
            sha256: sha,
            preset: meta.preset.name().into(),
            target: roles.target.clone(),
            horizon_days: roles.horizon_days,
            cutoff: roles.cutoff.clone(),
        },
        params: config.clone(),
        feature_schema: result.model.encoder.features.clone(),
        evaluation: result.evaluation.clone(),
        threshold: result.model.threshold,
        unknown_categories: "encoded as all zeros and counted as a warning".into(),
        baseline: result.model.baseline.clone(),
    };
    let artifact = ModelArtifact::new(result.model).to_bytes()?;
    let trained = Trained {
        card,
        positives: Split {
            train: result.positives.0 as u64,
            test: result.positives.1 as u64,
        },
    };
    Ok((trained, artifact))
}

/// The report of a training job whose model was registered as `version`.
pub fn train_report(trained: &Trained, version: &ModelVersion) -> TrainReport {
    let evaluation = trained.card.evaluation.clone();
    TrainReport {
        version: version.version,
        group: version.group.clone(),
        status: version.status,
        winner: evaluation.winner,
        leaderboard: evaluation.leaderboard,
        holdout: evaluation.holdout,
        leakage: evaluation.leakage,
        confusion: evaluation.confusion,
        importance: evaluation.importance,
        rows: Split {
            train: evaluation.rows.0 as u64,
            test: evaluation.rows.1 as u64,
        },
        positives: trained.positives,
        artifact: version.artifact.clone(),
        card: version.card.clone(),
    }
}

/// Trains and compares the candidates on a features table and registers the
/// winner as the next version of `group`.
fn run_training(
    ctx: &StageContext,
    features_key: &str,
    group: &str,
    config: &TrainConfig,
) -> Result<StageOutput, BackendError> {
    registry::check_group(group)?;
    let key = ObjectKey::new(features_key)?;
    progress(ctx, 0.005, "reading features table")?;
    let bytes = ctx.store.read(Bucket::Clean, &key)?;
    let uri = ctx.store.uri(Bucket::Clean, features_key);
    let input = TrainInput {
        bytes: &bytes,
        name: &format!("clean/{features_key}"),
        dataset_uri: &uri,
        group,
        config,
        trained_by: ctx.actor,
    };
    let (trained, artifact) = train_table(&input, ctx.progress, ctx.log)?;
    drop(bytes);
    // Last chance to stop: after this the version exists.
    progress(ctx, 0.98, "registering")?;
    let version = ctx
        .registry
        .register(group, trained.card.clone(), &artifact)?;
    (ctx.log)(
        LogLevel::Info,
        &format!(
            "registered {group} version {} (PendingManualApproval)",
            version.version
        ),
    );
    let report = train_report(&trained, &version);
    Ok(StageOutput {
        output: version.artifact,
        report: StageReport::Train(Box::new(report)),
    })
}

/// Writes a stage's table and its report (`<key stem>.report.json`) after
/// the last cancellation check.
fn log_clean(ctx: &StageContext, raw_key: &str, report: &CleanReport) {
    (ctx.log)(
        LogLevel::Info,
        &format!("read {} rows from raw/{raw_key}", report.rows_in),
    );
    for r in &report.rules {
        (ctx.log)(
            LogLevel::Info,
            &format!("rule {}: removed {} rows", r.rule, r.removed),
        );
    }
}

fn commit(
    ctx: &StageContext,
    df: &mut DataFrame,
    meta: &TableMeta,
    out: &ObjectKey,
    report: &StageReport,
) -> Result<StageOutput, BackendError> {
    progress(ctx, 0.96, "writing output")?;
    let bytes = table::to_parquet(df, meta)?;
    Ok(commit_bytes(ctx, bytes, out, report)?.0)
}

/// Writes a stage's output (a Parquet file's bytes) and its report.
fn commit_bytes(
    ctx: &StageContext,
    bytes: Vec<u8>,
    out: &ObjectKey,
    report: &StageReport,
) -> Result<(StageOutput, ObjectInfo), BackendError> {
    let report_key = ObjectKey::new(&format!("{}.report.json", out.stem()))?;
    let report_bytes = serde_json::to_vec_pretty(report)
        .map_err(|e| BackendError::refused(format!("the report does not serialise: {e}")))?;
    // Last chance to stop before anything becomes visible.
    progress(ctx, 0.98, "committing")?;
    let meta_map = BTreeMap::from([("produced_by".to_string(), ctx.actor.to_string())]);
    put_bytes(
        ctx.store,
        Bucket::Clean,
        &report_key,
        &report_bytes,
        &meta_map,
    )?;
    let written = put_bytes(ctx.store, Bucket::Clean, out, &bytes, &meta_map)?;
    Ok((
        StageOutput {
            output: ObjectRef {
                bucket: Bucket::Clean,
                key: out.to_string(),
            },
            report: report.clone(),
        },
        written,
    ))
}
