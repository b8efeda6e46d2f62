//! The registry and the deployer: registration, approval under roles and
//! four-eyes, promotion of approved versions, rollback, and every refusal.

use std::cell::RefCell;

use tablero_core::job::{JobRequest, JobStatus};
use tablero_core::ports::{ErrorKind, RolloutPhase};
use tablero_core::registry::ApprovalStatus;
use tablero_core::store::Bucket;
use tablero_core::train::models::Algorithm;
use tablero_core::train::TrainConfig;

use super::{features, key, refused, train, Harness, Persona};

/// The whole way of a model version, with each refusal's kind and words:
/// the trainer cannot approve their own version (four eyes), an analyst
/// cannot approve at all, a comment is required, a decided version stays
/// decided; only Approved versions are promoted, not twice; rollback goes
/// to the previous deployment and not before the first.
pub fn register_approve_promote_rollback_with_every_refusal(h: &dyn Harness) {
    let trainer = h.backend(Persona::Trainer);
    let approver = h.backend(Persona::Approver);
    let analyst = h.backend(Persona::Analyst);
    let ops = h.backend(Persona::Ops);
    let features_key = features(&trainer);
    let v1 = train(&trainer, &features_key, Algorithm::Lr);
    let v2 = train(&trainer, &features_key, Algorithm::Nb);
    assert_eq!((v1, v2), (1, 2));
    let version = trainer.registry.version("default", v1).expect("version");
    assert_eq!(version.status, ApprovalStatus::PendingManualApproval);
    assert_eq!(version.created_by, trainer.identity.actor());
    assert!(tablero_app::models::decision_refusal(&trainer, &version, true).is_some());
    assert!(tablero_app::models::decision_refusal(&approver, &version, true).is_none());

    refused(
        tablero_app::models::approve(&trainer, "default", v1, "mine is good", false),
        ErrorKind::Refused,
        "four-eyes rule",
    );
    let err = refused(
        tablero_app::models::approve(&analyst, "default", v1, "ok", false),
        ErrorKind::Permission,
        "cannot approve models",
    );
    assert_eq!(err.missing(), Some("ml_lead"));
    refused(
        tablero_app::models::approve(&approver, "default", v1, "  ", false),
        ErrorKind::Refused,
        "comment is required",
    );
    refused(
        tablero_app::models::approve(&approver, "default", 99, "ok", false),
        ErrorKind::Refused,
        "does not exist",
    );

    let approved = tablero_app::models::approve(&approver, "default", v1, "metrics fine", false)
        .expect("approve");
    assert_eq!(approved.status, ApprovalStatus::Approved);
    assert_eq!(approved.decided_by, Some(approver.identity.actor()));
    assert_eq!(approved.comment.as_deref(), Some("metrics fine"));
    refused(
        tablero_app::models::approve(&approver, "default", v1, "again", false),
        ErrorKind::Refused,
        "already Approved",
    );
    refused(
        tablero_app::models::reject(&approver, "default", v1, "no"),
        ErrorKind::Refused,
        "already Approved",
    );

    // Deployment: refusals before anything is deployed.
    refused(
        tablero_app::deploy::promote(&ops, "default", v2, &|_| {}),
        ErrorKind::Refused,
        "only Approved versions",
    );
    refused(
        tablero_app::deploy::rollback(&ops, &|_| {}),
        ErrorKind::Refused,
        "nothing is deployed",
    );
    let err = refused(
        tablero_app::deploy::promote(&analyst, "default", v1, &|_| {}),
        ErrorKind::Permission,
        "promote models",
    );
    assert_eq!(err.missing(), Some("ops"));
    assert!(tablero_app::deploy::promotion_refusal(&ops, &approved).is_none());
    assert!(ops.deployer.deployed().expect("deployed").is_none());

    let phases = RefCell::new(Vec::new());
    let first =
        tablero_app::deploy::promote(&ops, "default", v1, &|r| phases.borrow_mut().push(r.phase))
            .expect("promote");
    assert_eq!(
        (first.deployment.version, first.deployment.from_version),
        (v1, None)
    );
    assert_eq!(first.deployment.action.name(), "promote");
    assert_eq!(first.deployment.actor, ops.identity.actor());
    // A backend that returns before its rollout ends says it is in progress.
    assert!(matches!(
        first.phase,
        RolloutPhase::Completed | RolloutPhase::NotRunning | RolloutPhase::InProgress
    ));
    assert_eq!(
        phases.borrow().last(),
        Some(&first.phase),
        "progress ends at the returned phase"
    );
    assert_eq!(
        ops.deployer
            .deployed()
            .expect("deployed")
            .map(|d| d.version),
        Some(v1)
    );
    refused(
        tablero_app::deploy::promote(&ops, "default", v1, &|_| {}),
        ErrorKind::Refused,
        "is already deployed",
    );
    assert!(tablero_app::deploy::promotion_refusal(&ops, &approved).is_some());
    refused(
        tablero_app::deploy::rollback(&ops, &|_| {}),
        ErrorKind::Refused,
        "is the first deployment",
    );
    assert!(tablero_app::deploy::rollback_refusal(&ops).is_some());

    // A second version, promoted, then rolled back to the previous deployment.
    tablero_app::models::approve(&approver, "default", v2, "also fine", false).expect("approve");
    let second = tablero_app::deploy::promote(&ops, "default", v2, &|_| {}).expect("promote");
    assert_eq!(
        (second.deployment.version, second.deployment.from_version),
        (v2, Some(v1))
    );
    assert!(tablero_app::deploy::rollback_refusal(&ops).is_none());
    let back = tablero_app::deploy::rollback(&ops, &|_| {}).expect("rollback");
    assert_eq!(
        (
            back.deployment.version,
            back.deployment.from_version,
            back.deployment.action.name()
        ),
        (v1, Some(v2), "rollback")
    );
    let history: Vec<(&str, u32)> = ops
        .deployer
        .deployments()
        .expect("history")
        .into_iter()
        .map(|d| (d.action.name(), d.version))
        .collect();
    assert_eq!(
        history,
        [("rollback", v1), ("promote", v2), ("promote", v1)]
    );

    // Rejection: by an ML lead, with a comment; the trainer may reject their own.
    let v3 = train(&trainer, &features_key, Algorithm::Tree);
    let rejected =
        tablero_app::models::reject(&trainer, "default", v3, "mislabelled").expect("reject");
    assert_eq!(rejected.status, ApprovalStatus::Rejected);
    refused(
        tablero_app::models::approve(&approver, "default", v3, "ok", false),
        ErrorKind::Refused,
        "already Rejected",
    );
    refused(
        tablero_app::deploy::promote(&ops, "default", v3, &|_| {}),
        ErrorKind::Refused,
        "only Approved versions",
    );
    let pending = approver
        .registry
        .versions("default", Some(ApprovalStatus::PendingManualApproval))
        .expect("versions");
    assert!(pending.is_empty(), "{pending:?}");
    let all: Vec<u32> = approver
        .registry
        .versions("default", None)
        .expect("versions")
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(all, [3, 2, 1], "newest first");
}

/// A result trained elsewhere is registered through the port: the next
/// version, pending, created by the card's trainer, with a loadable
/// artifact and its card.
pub fn a_remote_trainer_registers_its_result(h: &dyn Harness) {
    let trainer = h.backend(Persona::Trainer);
    let features_key = features(&trainer);
    let v1 = train(&trainer, &features_key, Algorithm::Lr);
    let mut card = trainer.registry.card("default", v1).expect("card");
    let artifact_key = trainer
        .registry
        .version("default", v1)
        .expect("version")
        .artifact
        .key;
    let artifact = trainer
        .store
        .read(Bucket::Models, &key(&artifact_key))
        .expect("artifact");
    card.trained_by = "remote-trainer".into();
    let registered = trainer
        .registry
        .register("default", card, &artifact)
        .expect("register");
    assert_eq!(registered.version, v1 + 1);
    assert_eq!(registered.status, ApprovalStatus::PendingManualApproval);
    assert_eq!(registered.created_by, "remote-trainer");
    let loaded = trainer
        .registry
        .artifact("default", registered.version)
        .expect("artifact");
    let original = trainer.registry.artifact("default", v1).expect("artifact");
    assert_eq!(loaded.model.threshold, original.model.threshold);
    let card = trainer
        .registry
        .card("default", registered.version)
        .expect("card");
    assert_eq!(
        (card.group.as_str(), card.version),
        ("default", registered.version)
    );
    // Four eyes follows the card's trainer: here the trainer may approve.
    let approver = h.backend(Persona::Approver);
    assert!(tablero_app::models::decision_refusal(&approver, &registered, true).is_none());
    refused(
        trainer.registry.register(
            "no spaces",
            trainer.registry.card("default", v1).expect("card"),
            &artifact,
        ),
        ErrorKind::Refused,
        "model group",
    );
}

/// A training cancelled midway registers nothing and writes no artifact.
pub fn a_cancelled_training_registers_nothing(h: &dyn Harness) {
    let trainer = h.backend(Persona::Trainer);
    let other = h.backend(Persona::Admin);
    let features_key = features(&trainer);
    let job = trainer
        .jobs
        .submit(JobRequest::Train {
            features_key,
            group: "default".into(),
            config: TrainConfig {
                folds: 5,
                ..TrainConfig::default()
            },
            resources: None,
        })
        .expect("submit");
    let asked = RefCell::new(false);
    let done = trainer
        .jobs
        .run(&job.id, &|j| {
            if j.progress > 0.02 && !*asked.borrow() {
                *asked.borrow_mut() = true;
                other.jobs.cancel(&j.id).expect("cancel");
            }
        })
        .expect("run");
    assert!(*asked.borrow());
    assert_eq!(done.status, JobStatus::Cancelled, "{:?}", done.error);
    assert!(trainer
        .registry
        .versions("default", None)
        .expect("versions")
        .is_empty());
    assert!(trainer
        .store
        .list(Bucket::Models, "", None, 10)
        .expect("list")
        .objects
        .is_empty());
}
