//! Audit, API keys and identity.

use tablero_core::ports::{key_hash, Action, AuditEvent, ErrorKind};
use tablero_core::train::models::Algorithm;

use super::{features, refused, train, Harness, Persona};

/// Entries appended read back in order, with the actor and the time; the
/// ports' own mutations (jobs, decisions, deployments, keys, policy) are
/// in the trail; later appends never change earlier entries.
pub fn the_audit_trail_is_complete_and_append_only(h: &dyn Harness) {
    let trainer = h.backend(Persona::Trainer);
    let since = super::ago(60);
    let start = trainer.audit.audit_since(&since).expect("audit");
    trainer
        .audit
        .append_audit(&AuditEvent::new("upload", "raw/s.csv").after("5 bytes"))
        .expect("append");
    let features_key = features(&trainer);
    let v1 = train(&trainer, &features_key, Algorithm::Lr);
    let approver = h.backend(Persona::Approver);
    tablero_app::models::approve(&approver, "default", v1, "fine", false).expect("approve");
    let ops = h.backend(Persona::Ops);
    tablero_app::deploy::promote(&ops, "default", v1, &|_| {}).expect("promote");
    tablero_app::keys::create(&ops, "web", 10.0).expect("key");
    tablero_app::policy::set_four_eyes(&approver, false).expect("policy");
    let snapshot = trainer.audit.audit_since(&since).expect("audit");
    assert!(snapshot.len() > start.len());
    assert_eq!(snapshot[..start.len()], start[..]);

    let find = |action: &str| {
        snapshot
            .iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("no {action} in the audit trail: {snapshot:#?}"))
    };
    let upload = find("upload");
    assert_eq!(
        (upload.target.as_str(), upload.after.as_deref()),
        ("raw/s.csv", Some("5 bytes"))
    );
    assert_eq!(upload.actor, trainer.identity.actor());
    assert!(
        chrono::DateTime::parse_from_rfc3339(&upload.at).is_ok(),
        "{}",
        upload.at
    );
    assert_eq!(find("job.submit").actor, trainer.identity.actor());
    assert_eq!(find("model.register").target, "default/v1");
    let approve = find("model.approve");
    assert_eq!(
        (approve.actor.clone(), approve.comment.as_deref()),
        (approver.identity.actor(), Some("fine"))
    );
    assert_eq!(find("deploy.promote").after.as_deref(), Some("default/v1"));
    assert_eq!(find("key.create").target, "web");
    assert_eq!(find("policy.four_eyes").after.as_deref(), Some("off"));
    let order: Vec<&str> = snapshot.iter().map(|e| e.at.as_str()).collect();
    assert!(
        order.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {order:?}"
    );

    // More appends leave every earlier entry as it was.
    trainer
        .audit
        .append_audit(&AuditEvent::new("delete", "raw/s.csv"))
        .expect("append");
    let after = trainer.audit.audit_since(&since).expect("audit");
    assert_eq!(after[..snapshot.len()], snapshot[..]);
    assert_eq!(after.len(), snapshot.len() + 1);
    assert!(trainer
        .audit
        .audit_since(&super::ago(-3600))
        .expect("audit")
        .is_empty());
}

/// A key is shown once; listings show its name and SHA-256, never the key;
/// names are unique; revocation is recorded and not repeated; only ops
/// make keys.
pub fn api_keys_are_shown_once_listed_by_hash_and_revoked(h: &dyn Harness) {
    let ops = h.backend(Persona::Ops);
    let made = tablero_app::keys::create(&ops, "web", 50.0).expect("create");
    assert_eq!((made.name.as_str(), made.rate), ("web", 50.0));
    let key = made.key;
    assert!(key.len() >= 32, "a long random key");
    let listed = ops.keys.api_keys().expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].name.as_str(), listed[0].rate), ("web", 50.0));
    assert_eq!(listed[0].sha256, key_hash(&key));
    assert!(listed[0].revoked_at.is_none());
    assert!(
        !format!("{listed:?}").contains(&key),
        "the key itself is never listed"
    );
    refused(
        tablero_app::keys::create(&ops, "web", 5.0),
        ErrorKind::Refused,
        "web",
    );
    refused(
        tablero_app::keys::create(&ops, "no spaces", 5.0),
        ErrorKind::Refused,
        "key name",
    );
    refused(
        tablero_app::keys::create(&ops, "slow", 0.0),
        ErrorKind::Refused,
        "--rate",
    );
    let err = refused(
        tablero_app::keys::create(&h.backend(Persona::Analyst), "mine", 5.0),
        ErrorKind::Permission,
        "create API keys",
    );
    assert_eq!(err.missing(), Some("ops"));
    tablero_app::keys::revoke(&ops, "web").expect("revoke");
    assert!(ops.keys.api_keys().expect("list")[0].revoked_at.is_some());
    refused(
        tablero_app::keys::revoke(&ops, "web"),
        ErrorKind::Refused,
        "no active key named web",
    );
}

/// Identity: who acts and their roles; `authorize` names the missing role;
/// switching to someone unknown is refused; the four-eyes switch is an ML
/// lead's, and it shows in the policy.
pub fn identity_roles_and_policy(h: &dyn Harness) {
    let analyst = h.backend(Persona::Analyst);
    let me = analyst.identity.actor();
    let users = analyst.identity.users();
    assert_eq!(
        users.get(&me).map(Vec::as_slice),
        Some(Persona::Analyst.roles())
    );
    analyst
        .identity
        .authorize(Action::Upload)
        .expect("an analyst uploads");
    let err = refused(
        analyst.identity.authorize(Action::Approve),
        ErrorKind::Permission,
        "approve models",
    );
    assert_eq!(err.missing(), Some("ml_lead"));
    assert!(err.to_string().contains(&me));
    assert!(analyst.identity.switch_user("nobody-here").is_err());
    assert!(
        analyst.identity.policy().four_eyes,
        "a fresh backend has four-eyes on"
    );
    assert_eq!(
        refused(
            tablero_app::policy::set_four_eyes(&analyst, false),
            ErrorKind::Permission,
            "four-eyes"
        )
        .missing(),
        Some("ml_lead")
    );
    let approver = h.backend(Persona::Approver);
    tablero_app::policy::set_four_eyes(&approver, false).expect("an ML lead decides");
    assert!(!approver.identity.policy().four_eyes);
    assert!(
        !h.backend(Persona::Trainer).identity.policy().four_eyes,
        "shared by every identity"
    );
    assert!(approver.identity.limits().memory_budget_mb() > 0);
}
