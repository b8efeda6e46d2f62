//! Jobs: progress, commit, cancellation and failure.

use std::cell::RefCell;
use std::collections::BTreeMap;

use tablero_core::clean::Preset;
use tablero_core::job::{JobKind, JobRequest, JobStatus};
use tablero_core::ports::{put_bytes, ErrorKind};
use tablero_core::stages::StageReport;
use tablero_core::store::Bucket;
use tablero_core::train::TrainConfig;

use super::{features, key, refused, stage_raw, succeed, Harness, Persona};

/// A clean job goes queued → running → succeeded, reporting progress in
/// order up to 1; its output and report become visible; it is listed and
/// logged.
pub fn a_job_reports_progress_and_commits_its_output(h: &dyn Harness) {
    let b = h.backend(Persona::Trainer);
    stage_raw(&b, "s.csv");
    let job = b
        .jobs
        .submit(JobRequest::Clean {
            raw_key: "s.csv".into(),
            preset: Preset::Standard,
            out_key: None,
        })
        .expect("submit");
    assert_eq!((job.kind, job.status), (JobKind::Clean, JobStatus::Queued));
    assert_eq!(job.actor, b.identity.actor());
    let seen = RefCell::new(Vec::new());
    let done = b
        .jobs
        .run(&job.id, &|j| seen.borrow_mut().push((j.status, j.progress)))
        .expect("run");
    assert_eq!(done.status, JobStatus::Succeeded, "{:?}", done.error);
    let seen = seen.into_inner();
    assert!(
        seen.iter().any(|(s, _)| *s == JobStatus::Running),
        "{seen:?}"
    );
    assert!(
        seen.windows(2).all(|w| w[0].1 <= w[1].1),
        "progress goes forward: {seen:?}"
    );
    assert_eq!(seen.last().map(|s| s.0), Some(JobStatus::Succeeded));
    assert_eq!(done.progress, 1.0);
    let out = done.output.clone().expect("an output");
    assert_eq!(
        (out.bucket, out.key.as_str()),
        (Bucket::Clean, "s/transactions.parquet")
    );
    b.store
        .head(Bucket::Clean, &key(&out.key))
        .expect("the output is visible");
    b.store
        .head(Bucket::Clean, &key("s/transactions.report.json"))
        .expect("the report is visible");
    assert!(done
        .report
        .as_ref()
        .is_some_and(|r| matches!(r, StageReport::Clean(c) if c.rows_out > 0)));
    assert_eq!(b.jobs.job(&job.id).expect("job"), done);
    assert_eq!(b.jobs.jobs(10).expect("jobs")[0].id, job.id);
    assert!(!b.jobs.logs(&job.id).expect("logs").is_empty());
}

/// A clean job run keeping the features' input (`etl run`) gives the
/// features job after it the same table and report as a clean job run
/// plainly; what it kept serves only the table it wrote.
pub fn a_kept_clean_job_gives_the_features_job_the_same_table(h: &dyn Harness) {
    let b = h.backend(Persona::Trainer);
    stage_raw(&b, "s.csv");
    let clean = |out: &str, keep: bool| {
        let job = tablero_app::jobs::submit(
            &b,
            JobRequest::Clean {
                raw_key: "s.csv".into(),
                preset: Preset::Standard,
                out_key: Some(out.into()),
            },
        )
        .expect("submit clean");
        let done = if keep {
            b.jobs.run_keeping_features_input(&job.id, &|_| {})
        } else {
            b.jobs.run(&job.id, &|_| {})
        }
        .expect("run clean");
        assert_eq!(done.status, JobStatus::Succeeded, "{:?}", done.error);
    };
    let features = |table: &str, out: &str| {
        let done = succeed(
            &b,
            JobRequest::Features {
                clean_key: table.into(),
                preset: Preset::Standard,
                cutoff: None,
                horizon_days: 90,
                out_key: Some(out.into()),
            },
        );
        let bytes = b.store.read(Bucket::Clean, &key(out)).expect("features");
        (bytes, format!("{:?}", done.report))
    };
    clean("plain/t.parquet", false);
    let plain = features("plain/t.parquet", "plain/f.parquet");
    clean("kept/t.parquet", true);
    assert_eq!(features("kept/t.parquet", "kept/f.parquet"), plain);
    // Kept for one table, asked for another: the other is read as it is.
    clean("kept2/t.parquet", true);
    assert_eq!(features("plain/t.parquet", "again/f.parquet"), plain);
    assert_eq!(features("kept2/t.parquet", "kept2/f.parquet"), plain);
}

/// A job cancelled while queued never runs; one cancelled while running
/// (from another backend, as from another process) ends `cancelled` and
/// writes nothing; an ended job cannot be cancelled.
pub fn a_cancelled_job_writes_nothing(h: &dyn Harness) {
    let b = h.backend(Persona::Trainer);
    stage_raw(&b, "s.csv");
    let request = JobRequest::Clean {
        raw_key: "s.csv".into(),
        preset: Preset::Standard,
        out_key: Some("c/cancelled.parquet".into()),
    };
    let queued = b.jobs.submit(request.clone()).expect("submit");
    let cancelled = b.jobs.cancel(&queued.id).expect("cancel");
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    assert!(
        b.jobs.run(&queued.id, &|_| {}).is_err(),
        "a cancelled job does not run"
    );
    refused(
        b.jobs.cancel(&queued.id),
        ErrorKind::Refused,
        "already ended",
    );

    let other = h.backend(Persona::Admin);
    let job = b.jobs.submit(request).expect("submit");
    let asked = RefCell::new(false);
    let done = b
        .jobs
        .run(&job.id, &|j| {
            if j.status == JobStatus::Running && !*asked.borrow() {
                *asked.borrow_mut() = true;
                other.jobs.cancel(&j.id).expect("cancel while running");
            }
        })
        .expect("run");
    assert!(*asked.borrow());
    assert_eq!(done.status, JobStatus::Cancelled, "{:?}", done.error);
    assert!(done.output.is_none());
    refused(
        b.store.head(Bucket::Clean, &key("c/cancelled.parquet")),
        ErrorKind::NotFound,
        "cancelled.parquet",
    );
    refused(
        b.store.head(Bucket::Clean, &key("c/cancelled.report.json")),
        ErrorKind::NotFound,
        "cancelled.report.json",
    );
}

/// A job whose input is not what it needs fails with the reason, leaves
/// its input as it was and writes nothing; training on it registers
/// nothing.
pub fn a_failed_job_says_why_and_writes_nothing(h: &dyn Harness) {
    let b = h.backend(Persona::Trainer);
    let not_a_table = b"customer,when\n1,2\n";
    put_bytes(
        b.store.as_ref(),
        Bucket::Clean,
        &key("bad/transactions.parquet"),
        not_a_table,
        &BTreeMap::new(),
    )
    .expect("put");
    let job = super::run(
        &b,
        JobRequest::Features {
            clean_key: "bad/transactions.parquet".into(),
            preset: Preset::Standard,
            cutoff: None,
            horizon_days: 90,
            out_key: None,
        },
    );
    assert_eq!(job.status, JobStatus::Failed);
    assert!(
        job.error
            .as_deref()
            .is_some_and(|e| e.contains("not a Parquet table")),
        "{:?}",
        job.error
    );
    assert!(job.output.is_none());
    refused(
        b.store.head(Bucket::Clean, &key("bad/features.parquet")),
        ErrorKind::NotFound,
        "features.parquet",
    );
    assert_eq!(
        b.store
            .read(Bucket::Clean, &key("bad/transactions.parquet"))
            .expect("read"),
        not_a_table,
        "the input is untouched"
    );
    let trained = super::run(
        &b,
        JobRequest::Train {
            features_key: "bad/transactions.parquet".into(),
            group: "default".into(),
            config: TrainConfig::default(),
            resources: None,
        },
    );
    assert_eq!(trained.status, JobStatus::Failed);
    assert!(trained
        .error
        .as_deref()
        .is_some_and(|e| e.contains("not a features table")));
    assert!(b
        .registry
        .versions("default", None)
        .expect("versions")
        .is_empty());
    let log = b.jobs.logs(&job.id).expect("logs");
    assert!(log.iter().any(|l| l.level.name() == "error"), "{log:?}");
}

/// A job on a missing input is refused at once, `not_found`, and nothing
/// is queued; so is one by a user without the role, and a model group that
/// is not a valid name.
pub fn a_missing_input_is_refused_before_a_job_is_queued(h: &dyn Harness) {
    let b = h.backend(Persona::Trainer);
    refused(
        tablero_app::jobs::submit(
            &b,
            JobRequest::Clean {
                raw_key: "nope.csv".into(),
                preset: Preset::Standard,
                out_key: None,
            },
        ),
        ErrorKind::NotFound,
        "nope.csv",
    );
    let features_key = features(&b);
    let before = b.jobs.jobs(100).expect("jobs").len();
    let ops = h.backend(Persona::Ops);
    let err = refused(
        tablero_app::jobs::submit(
            &ops,
            super::quick_training(&features_key, tablero_core::train::models::Algorithm::Lr),
        ),
        ErrorKind::Permission,
        "train models",
    );
    assert!(
        err.missing()
            .is_some_and(|m| m.contains("analyst") && m.contains("ml_lead")),
        "{:?}",
        err.missing()
    );
    refused(
        tablero_app::jobs::submit(
            &ops,
            JobRequest::Clean {
                raw_key: "s.csv".into(),
                preset: Preset::Standard,
                out_key: None,
            },
        ),
        ErrorKind::Permission,
        "run ETL jobs",
    );
    let mut bad_group =
        super::quick_training(&features_key, tablero_core::train::models::Algorithm::Lr);
    if let JobRequest::Train { group, .. } = &mut bad_group {
        *group = "no spaces".into();
    }
    refused(
        tablero_app::jobs::submit(&b, bad_group),
        ErrorKind::Refused,
        "model group",
    );
    assert_eq!(b.jobs.jobs(100).expect("jobs").len(), before);
}
