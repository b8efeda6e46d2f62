//! The backend conformance suite: what every backend must do, as cases over
//! the ports. A backend runs it by implementing [`Harness`] and listing
//! every case in [`conformance_suite!`](crate::conformance_suite). The cases
//! act through the ports, and through `tablero-app` where a rule of the
//! product applies (approvals, deployments, keys, the policy, who may run a
//! job), so a backend is checked with the rules every backend shares:
//!
//! ```ignore
//! tablero_conformance::conformance_suite!(LocalHarness::new();
//!     put_streams_with_progress,
//!     // …every case of CASES…
//!     #[ignore = "a local workspace never archives objects"]
//!     archived_object_is_restored,
//! );
//! ```
//!
//! A case a backend cannot do is listed with `#[ignore = "why"]`, so it shows
//! as skipped with its reason, never as passed; the macro's own test fails
//! when a case is missing from the list. Cases assert the kind of every
//! refusal and the words a user sees, so every backend refuses alike.

mod data;
mod governance;
mod jobs;
mod models;
mod monitoring;

use std::collections::BTreeMap;
use std::path::PathBuf;

use tablero_core::clean::Preset;
use tablero_core::ingest::{self, CsvOptions, INGEST_META};
use tablero_core::job::{Job, JobRequest, JobStatus};
use tablero_core::ports::{put_bytes, Backend, BackendError, ErrorKind, Role};
use tablero_core::store::{Bucket, ObjectKey};
use tablero_core::train::models::Algorithm;
use tablero_core::train::TrainConfig;

pub use data::*;
pub use governance::*;
pub use jobs::*;
pub use models::*;
pub use monitoring::*;

/// Who acts in a case. A harness gives each persona exactly these roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Persona {
    /// Every role (analyst, ml_lead, ops).
    Admin,
    /// analyst and ml_lead: uploads, runs ETL, trains.
    Trainer,
    /// ml_lead only: approves what others trained.
    Approver,
    /// analyst only.
    Analyst,
    /// ops only: promotes, rolls back, makes keys.
    Ops,
}

impl Persona {
    /// Every persona.
    pub const ALL: [Persona; 5] = [
        Persona::Admin,
        Persona::Trainer,
        Persona::Approver,
        Persona::Analyst,
        Persona::Ops,
    ];

    /// A name for it, for harnesses that name users after personas.
    pub fn name(self) -> &'static str {
        match self {
            Persona::Admin => "admin",
            Persona::Trainer => "trainer",
            Persona::Approver => "approver",
            Persona::Analyst => "analyst",
            Persona::Ops => "ops",
        }
    }

    /// The roles it holds.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Persona::Admin => &[Role::Analyst, Role::MlLead, Role::Ops],
            Persona::Trainer => &[Role::Analyst, Role::MlLead],
            Persona::Approver => &[Role::MlLead],
            Persona::Analyst => &[Role::Analyst],
            Persona::Ops => &[Role::Ops],
        }
    }
}

/// A backend under test: fresh state (empty buckets, no jobs, no versions,
/// no deployments, four-eyes on) shared by every backend it hands out.
pub trait Harness {
    /// The backend acting as `who`. Each call may build a new backend (a
    /// new process would); they all see the same state.
    fn backend(&self, who: Persona) -> Backend;

    /// Moves an object to archival storage (S3 Glacier) the way the
    /// backend's own lifecycle would; `false` when the backend never
    /// archives (its `archived_object_is_restored` case is then ignored).
    fn archive(&self, bucket: Bucket, key: &ObjectKey) -> bool {
        let _ = (bucket, key);
        false
    }
}

/// Every case, by name ([`conformance_suite!`](crate::conformance_suite)
/// checks that a backend lists them all).
pub const CASES: &[&str] = &[
    "put_streams_with_progress",
    "an_aborted_put_leaves_nothing",
    "a_put_of_the_wrong_length_leaves_nothing",
    "listing_pages_cover_every_object_once",
    "head_tells_size_time_class_and_metadata",
    "range_reads_are_exact",
    "missing_objects_are_not_found",
    "a_deleted_object_comes_back_from_the_trash",
    "restoring_an_object_that_is_not_archived_is_refused",
    "archived_object_is_restored",
    "a_job_reports_progress_and_commits_its_output",
    "a_kept_clean_job_gives_the_features_job_the_same_table",
    "a_cancelled_job_writes_nothing",
    "a_failed_job_says_why_and_writes_nothing",
    "a_missing_input_is_refused_before_a_job_is_queued",
    "register_approve_promote_rollback_with_every_refusal",
    "a_remote_trainer_registers_its_result",
    "a_cancelled_training_registers_nothing",
    "metric_windows_drift_and_alarms_round_trip",
    "the_audit_trail_is_complete_and_append_only",
    "api_keys_are_shown_once_listed_by_hash_and_revoked",
    "identity_roles_and_policy",
];

/// Instantiates the suite for a backend: one `#[test]` per case, each on a
/// fresh harness (`$harness` is evaluated per test), plus a test that every
/// case of [`CASES`] is listed. Cases the backend cannot do carry
/// `#[ignore = "why"]`.
#[macro_export]
macro_rules! conformance_suite {
    ($harness:expr; $( $(#[$attr:meta])* $case:ident ),* $(,)?) => {
        $(
            #[test]
            $(#[$attr])*
            fn $case() {
                let harness = $harness;
                $crate::suite::$case(&harness);
            }
        )*

        #[test]
        fn every_conformance_case_is_listed() {
            let mut listed: Vec<&str> = vec![$(stringify!($case)),*];
            listed.sort_unstable();
            let mut all: Vec<&str> = $crate::suite::CASES.to_vec();
            all.sort_unstable();
            assert_eq!(
                listed, all,
                "list every case of the conformance suite; mark those this backend cannot do #[ignore = \"why\"]"
            );
        }
    };
}

/// The bundled sample of the Online Retail data.
pub fn sample_csv() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/sample/online_retail_sample.csv");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A key.
pub fn key(k: &str) -> ObjectKey {
    ObjectKey::new(k).unwrap_or_else(|e| panic!("{k}: {e}"))
}

/// Puts the sample in the raw bucket at `raw_key` with the way to read it,
/// as an upload leaves it.
pub fn stage_raw(b: &Backend, raw_key: &str) {
    let bytes = sample_csv();
    let (spec, _) = ingest::inspect(&bytes, &CsvOptions::default()).expect("the sample reads");
    let meta = BTreeMap::from([(
        INGEST_META.to_string(),
        serde_json::to_string(&spec).expect("spec serialises"),
    )]);
    put_bytes(b.store.as_ref(), Bucket::Raw, &key(raw_key), &bytes, &meta)
        .expect("stage the sample");
}

/// Submits a job (checked as the panel and the CLI do) and runs it to its
/// end.
pub fn run(b: &Backend, request: JobRequest) -> Job {
    let job = tablero_app::jobs::submit(b, request).expect("submit");
    b.jobs.run(&job.id, &|_| {}).expect("run")
}

/// Runs a job that must succeed; returns its output key.
pub fn succeed(b: &Backend, request: JobRequest) -> Job {
    let job = run(b, request);
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    job
}

/// The sample cleaned and its features built (as `who`): the features key.
pub fn features(b: &Backend) -> String {
    stage_raw(b, "s.csv");
    let clean = succeed(
        b,
        JobRequest::Clean {
            raw_key: "s.csv".into(),
            preset: Preset::Standard,
            out_key: None,
        },
    );
    let out = clean.output.expect("clean output").key;
    let f = succeed(
        b,
        JobRequest::Features {
            clean_key: out,
            preset: Preset::Standard,
            cutoff: None,
            horizon_days: 90,
            out_key: None,
        },
    );
    f.output.expect("features output").key
}

/// A quick training request: one candidate, three folds.
pub fn quick_training(features_key: &str, algorithm: Algorithm) -> JobRequest {
    JobRequest::Train {
        features_key: features_key.into(),
        group: "default".into(),
        config: TrainConfig {
            folds: 3,
            candidates: vec![algorithm],
            ..TrainConfig::default()
        },
        resources: None,
    }
}

/// Trains one quick version; returns its number.
pub fn train(b: &Backend, features_key: &str, algorithm: Algorithm) -> u32 {
    let job = succeed(b, quick_training(features_key, algorithm));
    match job.report {
        Some(tablero_core::stages::StageReport::Train(t)) => t.version,
        other => panic!("a training job reports its version: {other:?}"),
    }
}

/// Asserts a refusal of `kind` whose message says `words`.
pub fn refused<T: std::fmt::Debug>(
    result: Result<T, BackendError>,
    kind: ErrorKind,
    words: &str,
) -> BackendError {
    match result {
        Ok(v) => panic!("expected a {kind} refusal saying {words:?}, got {v:?}"),
        Err(e) => {
            assert_eq!(e.kind(), kind, "{e}");
            assert!(
                e.to_string().contains(words),
                "expected {words:?} in {:?}",
                e.to_string()
            );
            e
        }
    }
}

/// Now, minus `seconds`, as RFC 3339.
pub fn ago(seconds: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::seconds(seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
