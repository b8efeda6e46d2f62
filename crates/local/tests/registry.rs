//! The model registry on a real workspace: training registers a version,
//! and every approval transition and refusal, the audit trail, the
//! concurrent-approval race and cancellation.

use std::path::{Path, PathBuf};

use tablero_core::clean::Preset;
use tablero_core::ingest::CsvOptions;
use tablero_core::job::{JobRequest, JobStatus};
use tablero_core::ports::{Backend, BackendError, JobRunner};
use tablero_core::registry::ApprovalStatus;
use tablero_core::train::models::Algorithm;
use tablero_core::train::TrainConfig;
use tablero_local::Workspace;

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/sample/online_retail_sample.csv")
}

/// A workspace with users alice (analyst, ml_lead), bob and carol
/// (ml_lead), dave (analyst), `--as` allowed, and the sample's features
/// tables (standard and parity) built.
fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let ws = Workspace::init(&root).unwrap();
    let me = tablero_local::workspace::os_user();
    std::fs::write(
        ws.config_path(),
        format!(
            "[roles]\n\"{me}\" = [\"analyst\", \"ml_lead\", \"ops\"]\nalice = [\"analyst\", \"ml_lead\"]\n\
             bob = [\"ml_lead\"]\ncarol = [\"ml_lead\"]\ndave = [\"analyst\"]\n\
             [policy]\nfour_eyes = true\nallow_as = true\n"
        ),
    )
    .unwrap();
    let ws = Workspace::open(&root).unwrap();
    let backend = Workspace::open(&root).unwrap().into_backend();
    tablero_app::data::upload(
        &backend,
        &sample(),
        Some("s.csv"),
        &CsvOptions::default(),
        false,
        &|_, _| {},
        &|| false,
    )
    .unwrap();
    for preset in [Preset::Standard, Preset::Parity] {
        let run = |r| {
            let j = ws.submit(r).unwrap();
            let j = ws.run(&j.id, &|_| {}).unwrap();
            assert_eq!(j.status, JobStatus::Succeeded, "{:?}", j.error);
            j.output.unwrap().key
        };
        let clean = run(JobRequest::Clean {
            raw_key: "s.csv".into(),
            preset,
            out_key: None,
        });
        run(JobRequest::Features {
            clean_key: clean,
            preset,
            cutoff: None,
            horizon_days: 90,
            out_key: None,
        });
    }
    (dir, root)
}

/// The backend acting as `user`, as the CLI builds it for `--as user`.
fn as_user(root: &Path, user: &str) -> Backend {
    match Workspace::open(root).unwrap().act_as(user) {
        Ok(ws) => ws.into_backend(),
        Err(e) => panic!("act as {user}: {e}"),
    }
}

fn quick() -> TrainConfig {
    TrainConfig {
        folds: 3,
        candidates: vec![Algorithm::Lr, Algorithm::Nb, Algorithm::Tree],
        ..TrainConfig::default()
    }
}

fn train(ws: &Backend, features: &str) -> tablero_core::job::Job {
    let job = tablero_app::jobs::submit(
        ws,
        JobRequest::Train {
            features_key: features.into(),
            group: "default".into(),
            config: quick(),
            resources: None,
        },
    )
    .unwrap();
    ws.jobs.run(&job.id, &|_| {}).unwrap()
}

/// A job's report as the CLI prints it.
fn report_of(job: &tablero_core::job::Job) -> serde_json::Value {
    serde_json::to_value(job.report.as_ref().expect("a report")).unwrap()
}

#[test]
fn training_registers_a_pending_version_with_its_card_and_artifact() {
    let (_d, root) = workspace();
    let alice = as_user(&root, "alice");
    let job = train(&alice, "s/features.parquet");
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let report = report_of(&job);
    assert_eq!(report["version"], 1);
    assert_eq!(report["leaderboard"].as_array().unwrap().len(), 3);
    for field in [
        "accuracy",
        "auc",
        "recall",
        "precision",
        "f1",
        "kappa",
        "mcc",
    ] {
        assert!(
            report["leaderboard"][0][field]["mean"].is_number(),
            "{field}"
        );
        assert!(report["holdout"][field].is_number(), "{field}");
    }
    assert!(report["leaderboard"][0]["train_seconds"].is_number());
    assert_eq!(report["leakage"], serde_json::json!([]));
    assert_eq!(job.output.unwrap().key, "default/v1/model.json");

    let v = alice.registry.version("default", 1).unwrap();
    assert_eq!(v.status, ApprovalStatus::PendingManualApproval);
    assert_eq!(v.created_by, "alice");
    assert_eq!(v.dataset_uri, "tablero://clean/s/features.parquet");
    assert_eq!(v.dataset_sha256.len(), 64);
    let card = alice.registry.card("default", 1).unwrap();
    assert_eq!((card.group.as_str(), card.version), ("default", 1));
    assert_eq!(card.params.folds, 3);
    assert!(root.join("buckets/models/default/v1/model.json").is_file());
    assert!(root.join("buckets/models/default/v1/card.json").is_file());
    // The next training is version 2.
    assert_eq!(
        report_of(&train(&alice, "s/features.parquet"))["version"],
        2
    );
    let listed: Vec<u32> = alice
        .registry
        .versions("default", None)
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(listed, vec![2, 1]);
}

#[test]
fn every_transition_and_refusal() {
    let (_d, root) = workspace();
    let alice = as_user(&root, "alice");
    for _ in 0..3 {
        assert_eq!(
            train(&alice, "s/features.parquet").status,
            JobStatus::Succeeded
        );
    }
    let refused = |r: Result<tablero_core::registry::ModelVersion, BackendError>| match r {
        Err(e) => e.to_string(),
        Ok(v) => panic!("expected a refusal, got {v:?}"),
    };

    // Four eyes: the trainer cannot approve.
    let msg = refused(tablero_app::models::approve(
        &alice,
        "default",
        1,
        "looks good",
        false,
    ));
    assert!(
        msg.contains("four-eyes") && msg.contains("alice trained version 1"),
        "{msg}"
    );
    // Wrong role: an analyst cannot approve or reject.
    let dave = as_user(&root, "dave");
    let msg = refused(tablero_app::models::approve(
        &dave, "default", 1, "ok", false,
    ));
    assert!(
        msg.contains("dave cannot approve models: it needs the ml_lead role"),
        "{msg}"
    );
    assert!(refused(tablero_app::models::reject(&dave, "default", 1, "no")).contains("ml_lead"));
    // A comment is required.
    let bob = as_user(&root, "bob");
    assert!(refused(tablero_app::models::approve(
        &bob, "default", 1, "  ", false
    ))
    .contains("comment is required"));
    // Unknown version.
    assert!(refused(tablero_app::models::approve(
        &bob, "default", 99, "ok", false
    ))
    .contains("does not exist"));

    let v = tablero_app::models::approve(&bob, "default", 1, "metrics fine", false).unwrap();
    assert_eq!(v.status, ApprovalStatus::Approved);
    assert_eq!(v.decided_by.as_deref(), Some("bob"));
    assert_eq!(v.comment.as_deref(), Some("metrics fine"));
    let msg = refused(tablero_app::models::approve(
        &as_user(&root, "carol"),
        "default",
        1,
        "again",
        false,
    ));
    assert!(msg.contains("already Approved"), "{msg}");
    assert!(refused(tablero_app::models::reject(
        &bob,
        "default",
        1,
        "changed my mind"
    ))
    .contains("already Approved"));

    let v = tablero_app::models::reject(&bob, "default", 2, "worse than v1").unwrap();
    assert_eq!(v.status, ApprovalStatus::Rejected);
    assert!(refused(tablero_app::models::approve(
        &as_user(&root, "carol"),
        "default",
        2,
        "ok",
        false
    ))
    .contains("already Rejected"));
    // The trainer may reject their own version.
    assert_eq!(
        tablero_app::models::reject(&alice, "default", 3, "mislabelled")
            .unwrap()
            .status,
        ApprovalStatus::Rejected
    );

    let pending = bob
        .registry
        .versions("default", Some(ApprovalStatus::PendingManualApproval))
        .unwrap();
    assert!(pending.is_empty());
    assert_eq!(
        bob.registry
            .versions("default", Some(ApprovalStatus::Rejected))
            .unwrap()
            .len(),
        2
    );

    // Four eyes off (an audited decision): the trainer may then approve.
    let v4 = report_of(&train(&alice, "s/features.parquet"))["version"]
        .as_u64()
        .unwrap() as u32;
    let lead = as_user(&root, "bob");
    tablero_app::policy::set_four_eyes(&lead, false).unwrap();
    let alice = as_user(&root, "alice");
    assert_eq!(
        tablero_app::models::approve(&alice, "default", v4, "own model, policy off", false)
            .unwrap()
            .status,
        ApprovalStatus::Approved
    );

    let log = alice.audit.audit_since("1970-01-01T00:00:00Z").unwrap();
    // Editing tablero.toml by hand (as this test's set-up did) is audited too.
    assert!(log.iter().any(|e| e.action == "policy.edited"));
    let decisions: Vec<(String, String, Option<String>, Option<String>)> = log
        .iter()
        .filter(|e| e.action.starts_with("model.") || e.action == "policy.four_eyes")
        .map(|e| {
            (
                e.action.clone(),
                e.actor.clone(),
                e.after.clone(),
                e.comment.clone(),
            )
        })
        .collect();
    assert_eq!(
        decisions[0],
        (
            "model.register".into(),
            "alice".into(),
            Some("PendingManualApproval".into()),
            None
        )
    );
    assert!(decisions.contains(&(
        "model.approve".into(),
        "bob".into(),
        Some("Approved".into()),
        Some("metrics fine".into())
    )));
    assert!(decisions.contains(&(
        "model.reject".into(),
        "bob".into(),
        Some("Rejected".into()),
        Some("worse than v1".into())
    )));
    assert!(decisions.contains(&(
        "policy.four_eyes".into(),
        "bob".into(),
        Some("off".into()),
        None
    )));
    // The audit records the OS user behind --as.
    let me = tablero_local::workspace::os_user();
    assert!(log
        .iter()
        .filter(|e| e.actor == "bob")
        .all(|e| e.os_user == me));
}

#[test]
fn leaky_versions_need_an_explicit_acceptance() {
    let (_d, root) = workspace();
    let alice = as_user(&root, "alice");
    let job = train(&alice, "s/features.parity.parquet");
    let leakage = report_of(&job)["leakage"].clone();
    let flagged: Vec<&str> = leakage
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["feature"].as_str().unwrap())
        .collect();
    assert!(
        flagged.contains(&"Recency"),
        "parity Recency leaks: {flagged:?}"
    );
    let bob = as_user(&root, "bob");
    let err = tablero_app::models::approve(&bob, "default", 1, "ok", false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--accept-leakage-risk") && err.contains("Recency"),
        "{err}"
    );
    assert_eq!(
        bob.registry.version("default", 1).unwrap().status,
        ApprovalStatus::PendingManualApproval
    );
    assert_eq!(
        tablero_app::models::approve(&bob, "default", 1, "parity check only", true)
            .unwrap()
            .status,
        ApprovalStatus::Approved
    );
}

#[test]
fn two_concurrent_approvals_end_in_one_consistent_state() {
    let (_d, root) = workspace();
    train(&as_user(&root, "alice"), "s/features.parquet");
    for round in 0..5 {
        if round > 0 {
            train(&as_user(&root, "alice"), "s/features.parquet");
        }
        let version = round + 1;
        let barrier = std::sync::Barrier::new(2);
        let outcomes: Vec<Result<String, String>> = std::thread::scope(|s| {
            let handles: Vec<_> = ["bob", "carol"]
                .into_iter()
                .map(|user| {
                    let (root, barrier) = (&root, &barrier);
                    s.spawn(move || {
                        let ws = as_user(root, user);
                        barrier.wait();
                        tablero_app::models::approve(
                            &ws,
                            "default",
                            version,
                            &format!("approved by {user}"),
                            false,
                        )
                        .map(|v| v.decided_by.unwrap_or_default())
                        .map_err(|e| e.to_string())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
        let losers: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        assert!(losers[0].contains("already Approved"), "{}", losers[0]);
        let v = as_user(&root, "bob")
            .registry
            .version("default", version)
            .unwrap();
        assert_eq!(v.status, ApprovalStatus::Approved);
        assert_eq!(v.decided_by.as_ref(), Some(winners[0]));
        assert_eq!(v.comment, Some(format!("approved by {}", winners[0])));
        let approvals = as_user(&root, "bob")
            .audit
            .audit_since("1970-01-01T00:00:00Z")
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "model.approve" && e.target == format!("default/v{version}"))
            .count();
        assert_eq!(approvals, 1, "exactly one approval is audited");
    }
}

#[test]
fn a_cancelled_training_registers_nothing() {
    let (_d, root) = workspace();
    let alice = as_user(&root, "alice");
    let config = TrainConfig {
        folds: 5,
        ..TrainConfig::default()
    };
    let job = alice
        .jobs
        .submit(JobRequest::Train {
            features_key: "s/features.parquet".into(),
            group: "default".into(),
            config,
            resources: None,
        })
        .unwrap();
    let id = job.id.clone();
    let asked = std::cell::Cell::new(false);
    // Another process (here another connection) asks the job to stop as soon
    // as it has started comparing candidates.
    let job = alice
        .jobs
        .run(&id, &|j| {
            if j.progress > 0.02 && !asked.get() {
                asked.set(true);
                Workspace::open(&root).unwrap().cancel(&id).unwrap();
            }
        })
        .unwrap();
    assert!(asked.get());
    assert_eq!(job.status, JobStatus::Cancelled);
    assert!(job.output.is_none());
    assert!(alice.registry.versions("default", None).unwrap().is_empty());
    assert!(!root.join("buckets/models/default").exists());
}

#[test]
fn training_refuses_what_is_not_a_features_table() {
    let (_d, root) = workspace();
    let ws = as_user(&root, "alice");
    let job = train(&ws, "s/transactions.parquet");
    assert_eq!(job.status, JobStatus::Failed);
    assert!(job.error.unwrap().contains("not a features table"));
    let err = tablero_app::jobs::submit(
        &ws,
        JobRequest::Train {
            features_key: "s/features.parquet".into(),
            group: "no spaces".into(),
            config: quick(),
            resources: None,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("model group"), "{err}");
    // An analyst-only user may train; an ml_lead-only user too; ops-only may not.
    let bob = as_user(&root, "bob");
    assert_eq!(
        train(&bob, "s/features.parquet").status,
        JobStatus::Succeeded
    );
}
