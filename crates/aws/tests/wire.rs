//! What the conformance suite cannot see, checked over the wire against
//! moto: no multipart parts left by an aborted upload, the four-eyes rule
//! comparing role and session name, the audit trail written by two
//! processes at once, API keys as API Gateway holds them, `offline`.

mod support;

use std::collections::BTreeMap;
use std::io::Read;
use std::ops::ControlFlow;

use support::{admin_credentials, assume, config, provision, workspace, Moto};
use tablero_aws::s3::S3Store;
use tablero_aws::{AwsConfig, Clients, StaticCredentials};
use tablero_conformance::suite::{features, train};
use tablero_core::ports::{AuditEvent, Backend, ErrorKind, ObjectStore};
use tablero_core::registry::ApprovalStatus;
use tablero_core::store::{Bucket, ObjectKey};
use tablero_core::train::models::Algorithm;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A provisioned `[aws]` table and a workspace for it.
struct Setup {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    cfg: AwsConfig,
}

fn setup(roles: &[(&str, &[tablero_core::ports::Role])]) -> Setup {
    let moto = Moto::shared();
    let mut cfg = provision(config(&moto.url, "w"), &admin_credentials());
    for (role, r) in roles {
        cfg.roles.insert(role.to_string(), r.to_vec());
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    workspace(&root, &cfg);
    Setup {
        _dir: dir,
        root,
        cfg,
    }
}

fn open(s: &Setup, creds: &StaticCredentials) -> Backend {
    tablero_aws::open(&s.root, Some(creds.clone())).unwrap()
}

/// A body of `len` bytes that stops the test's upload at `stop_after`.
struct Body {
    left: usize,
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.left).min(256 << 10);
        buf[..n].fill(b'x');
        self.left -= n;
        Ok(n)
    }
}

#[test]
fn a_multipart_upload_cancelled_midway_leaves_no_parts() {
    let s = setup(&[]);
    let clients = Clients::new(&s.cfg, Some(admin_credentials())).unwrap();
    let store = S3Store::new(clients.s3.clone(), s.cfg.buckets.clone()).with_part_size(5 << 20);
    let len = 12u64 << 20;
    let key = ObjectKey::new("big/sales.csv").unwrap();
    let mut seen = 0u64;
    let err = store
        .put(
            Bucket::Raw,
            &key,
            &mut Body { left: len as usize },
            len,
            &BTreeMap::new(),
            &mut |done, _| {
                seen = done;
                // Two parts are stored by then; stop in the third.
                if done > (10 << 20) + (1 << 20) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert!(
        seen > 10 << 20,
        "the upload was stopped midway, after two parts: {seen}"
    );
    let raw = s.cfg.buckets.raw.clone();
    let (uploads, objects) = rt().block_on(async {
        let u = clients
            .s3
            .list_multipart_uploads()
            .bucket(&raw)
            .send()
            .await
            .unwrap();
        let o = clients
            .s3
            .list_objects_v2()
            .bucket(&raw)
            .send()
            .await
            .unwrap();
        (u.uploads().len(), o.contents().len())
    });
    assert_eq!(
        uploads, 0,
        "ListMultipartUploads is empty: no orphaned parts"
    );
    assert_eq!(objects, 0);

    // The same upload, not stopped, is stored whole in three parts.
    let info = store
        .put(
            Bucket::Raw,
            &key,
            &mut Body { left: len as usize },
            len,
            &BTreeMap::new(),
            &mut |_, _| ControlFlow::Continue(()),
        )
        .unwrap();
    assert_eq!(info.size, len);
    let e_tag = rt().block_on(async {
        let h = clients
            .s3
            .head_object()
            .bucket(&raw)
            .key("big/sales.csv")
            .send()
            .await
            .unwrap();
        h.e_tag().unwrap_or_default().to_string()
    });
    assert!(
        e_tag.ends_with("-3\""),
        "a multipart object of three parts: {e_tag}"
    );
}

#[test]
fn metadata_larger_than_s3_allows_lives_in_a_sidecar() {
    let s = setup(&[]);
    let b = open(&s, &admin_credentials());
    let big = "m".repeat(5000);
    let meta = BTreeMap::from([
        ("ingest".to_string(), big),
        ("note".to_string(), "é".to_string()),
    ]);
    let key = ObjectKey::new("wide.csv").unwrap();
    tablero_core::ports::put_bytes(b.store.as_ref(), Bucket::Raw, &key, b"a,b\n1,2\n", &meta)
        .unwrap();
    assert_eq!(b.store.head(Bucket::Raw, &key).unwrap().metadata, meta);
    let listed = b.store.list(Bucket::Raw, "", None, 100).unwrap();
    assert_eq!(
        listed.objects.len(),
        1,
        "the sidecar is never listed: {listed:?}"
    );
    assert_eq!(listed.objects[0].metadata, meta);
}

#[test]
fn four_eyes_compares_role_and_session_name() {
    use tablero_core::ports::Role;
    let s = setup(&[
        ("lead-a", &[Role::Analyst, Role::MlLead]),
        ("lead-b", &[Role::MlLead]),
    ]);
    let admin = admin_credentials();
    let ana_a = open(&s, &assume(&s.cfg, &admin, "lead-a", "ana"));
    let bob_a = open(&s, &assume(&s.cfg, &admin, "lead-a", "bob"));
    let ana_b = open(&s, &assume(&s.cfg, &admin, "lead-b", "ana"));
    let ana_a_again = open(&s, &assume(&s.cfg, &admin, "lead-a", "ana"));
    assert_eq!(ana_a.identity.actor(), "lead-a/ana");

    let f = features(&ana_a);
    let v = train(&ana_a, &f, Algorithm::Lr);
    let version = ana_a.registry.version("default", v).unwrap();
    assert_eq!(
        version.created_by, "lead-a/ana",
        "the creator is recorded by Tablero"
    );
    // Same role, same session name (new credentials): refused.
    let err = tablero_app::models::approve(&ana_a_again, "default", v, "mine", false).unwrap_err();
    assert!(err.to_string().contains("four-eyes rule"), "{err}");
    // Either one differing is another identity.
    assert!(tablero_app::models::decision_refusal(&bob_a, &version, true).is_none());
    assert!(tablero_app::models::decision_refusal(&ana_b, &version, true).is_none());
    let approved =
        tablero_app::models::approve(&bob_a, "default", v, "metrics fine", false).unwrap();
    assert_eq!(
        (approved.status, approved.decided_by.as_deref()),
        (ApprovalStatus::Approved, Some("lead-a/bob"))
    );

    // SageMaker holds the status, the comment and every property.
    let clients = Clients::new(&s.cfg, Some(admin)).unwrap();
    let group = s.cfg.model_package_group.clone();
    let (status, description, props) = rt().block_on(async {
        let list = clients
            .sagemaker
            .list_model_packages()
            .model_package_group_name(&group)
            .send()
            .await
            .unwrap();
        let arn = list.model_package_summary_list()[0]
            .model_package_arn()
            .unwrap()
            .to_string();
        let d = clients
            .sagemaker
            .describe_model_package()
            .model_package_name(&arn)
            .send()
            .await
            .unwrap();
        (
            d.model_approval_status().map(|s| s.as_str().to_string()),
            d.approval_description().map(str::to_string),
            d.customer_metadata_properties()
                .cloned()
                .unwrap_or_default(),
        )
    });
    assert_eq!(status.as_deref(), Some("Approved"));
    assert_eq!(description.as_deref(), Some("metrics fine"));
    assert_eq!(
        props.get("tablero:created-by").map(String::as_str),
        Some("lead-a/ana")
    );
    assert_eq!(
        props.get("tablero:decided-by").map(String::as_str),
        Some("lead-a/bob")
    );
    assert!(
        props.contains_key("tablero:holdout-auc"),
        "the update resent every property: {props:?}"
    );
}

/// Run by `the_audit_trail_takes_two_processes_at_once` in two child
/// processes: appends 25 entries to the trail named by the environment.
#[test]
#[ignore = "a child of the_audit_trail_takes_two_processes_at_once"]
fn audit_writer_child() {
    let Ok(root) = std::env::var("TABLERO_TEST_AUDIT_ROOT") else {
        return;
    };
    let creds = StaticCredentials {
        access_key_id: std::env::var("TABLERO_TEST_AUDIT_KEY").unwrap(),
        secret_access_key: "secret".into(),
        session_token: None,
    };
    let who = std::env::var("TABLERO_TEST_AUDIT_WHO").unwrap();
    let b = tablero_aws::open(std::path::Path::new(&root), Some(creds)).unwrap();
    for i in 0..25 {
        b.audit
            .append_audit(&AuditEvent::new("test.append", format!("{who}-{i}")))
            .unwrap();
    }
}

#[test]
fn the_audit_trail_takes_two_processes_at_once() {
    let s = setup(&[]);
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let moto = Moto::shared();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["p1", "p2"]
        .into_iter()
        .map(|who| {
            std::process::Command::new(&exe)
                .args(["--exact", "audit_writer_child", "--ignored", "--nocapture"])
                .env("TABLERO_TEST_AUDIT_ROOT", &s.root)
                .env("TABLERO_TEST_AUDIT_KEY", admin_credentials().access_key_id)
                .env("TABLERO_TEST_AUDIT_WHO", who)
                .env("TABLERO_TEST_MOTO", &moto.url)
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let b = open(&s, &admin_credentials());
    let trail = b
        .audit
        .audit_since(&since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap();
    let mut targets: Vec<&str> = trail
        .iter()
        .filter(|e| e.action == "test.append")
        .map(|e| e.target.as_str())
        .collect();
    assert_eq!(targets.len(), 50, "every entry of both processes is kept");
    targets.sort_unstable();
    targets.dedup();
    assert_eq!(targets.len(), 50);
    for who in ["p1", "p2"] {
        let mine: Vec<usize> = trail
            .iter()
            .filter_map(|e| {
                e.target
                    .strip_prefix(&format!("{who}-"))
                    .and_then(|n| n.parse().ok())
            })
            .collect();
        assert_eq!(
            mine,
            (0..25).collect::<Vec<_>>(),
            "each process's entries in its order"
        );
    }
    // One object per entry, none rewritten.
    let clients = Clients::new(&s.cfg, Some(admin_credentials())).unwrap();
    let models = s.cfg.buckets.models.clone();
    let versions = rt().block_on(async {
        let v = clients
            .s3
            .list_object_versions()
            .bucket(&models)
            .prefix("audit/")
            .send()
            .await
            .unwrap();
        v.versions().len()
    });
    assert_eq!(versions, trail.len(), "one version per audit object");
}

#[test]
fn api_keys_live_in_api_gateway() {
    use tablero_core::ports::Role;
    let s = setup(&[("ops", &[Role::Ops])]);
    let admin = admin_credentials();
    let ops = open(&s, &assume(&s.cfg, &admin, "ops", "olga"));
    let plan_rate = tablero_app::keys::create(&ops, "web", 100.0).unwrap();
    let own_rate = tablero_app::keys::create(&ops, "batch", 5.0).unwrap();
    let clients = Clients::new(&s.cfg, Some(admin)).unwrap();
    let plan = s.cfg.usage_plan_id.clone().unwrap();
    let (keys, on_plan, plans) = rt().block_on(async {
        let keys = clients
            .apigateway
            .get_api_keys()
            .include_values(true)
            .send()
            .await
            .unwrap();
        let on_plan = clients
            .apigateway
            .get_usage_plan_keys()
            .usage_plan_id(&plan)
            .send()
            .await
            .unwrap();
        let plans = clients.apigateway.get_usage_plans().send().await.unwrap();
        (
            keys.items()
                .iter()
                .map(|k| {
                    (
                        k.name().unwrap().to_string(),
                        k.value().unwrap().to_string(),
                        k.enabled(),
                    )
                })
                .collect::<Vec<_>>(),
            on_plan
                .items()
                .iter()
                .map(|k| k.name().unwrap_or_default().to_string())
                .collect::<Vec<_>>(),
            plans
                .items()
                .iter()
                .map(|p| {
                    (
                        p.name().unwrap_or_default().to_string(),
                        p.throttle().map(|t| t.rate_limit()),
                    )
                })
                .collect::<Vec<_>>(),
        )
    });
    let value = |n: &str| keys.iter().find(|k| k.0 == n).map(|k| k.1.clone()).unwrap();
    assert_eq!(
        value("web"),
        plan_rate.key,
        "API Gateway holds the key shown once"
    );
    assert_eq!(value("batch"), own_rate.key);
    assert_eq!(
        on_plan,
        vec!["web".to_string()],
        "a key at the plan's rate joins it"
    );
    assert!(
        plans.contains(&("tablero-key-batch".to_string(), Some(5.0))),
        "a key at another rate gets its own plan at that rate: {plans:?}"
    );
    tablero_app::keys::revoke(&ops, "web").unwrap();
    let (enabled, on_plan) = rt().block_on(async {
        let keys = clients
            .apigateway
            .get_api_keys()
            .name_query("web")
            .send()
            .await
            .unwrap();
        let on_plan = clients
            .apigateway
            .get_usage_plan_keys()
            .usage_plan_id(&plan)
            .send()
            .await
            .unwrap();
        (keys.items()[0].enabled(), on_plan.items().len())
    });
    assert!(!enabled, "a revoked key is disabled");
    assert_eq!(on_plan, 0, "and off its plan");
}

#[test]
fn unreachable_aws_is_one_offline_error_and_as_is_refused() {
    let mut cfg = config("http://127.0.0.1:9", "o");
    cfg.usage_plan_id = Some("p".into());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    workspace(&root, &cfg);
    // The backend opens (the panel starts) and says offline on use.
    let b = tablero_aws::open(&root, Some(admin_credentials())).unwrap();
    let err = b.store.list(Bucket::Raw, "", None, 10).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Offline, "{err}");
    assert!(err.to_string().contains("AWS is unreachable"), "{err}");
    assert_eq!(b.identity.actor(), tablero_aws::identity::UNKNOWN_ACTOR);
    let err = b.identity.switch_user("someone").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("AWS credentials"), "{err}");
    // The check uses the standard chain: credentials in the environment.
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIAADMINTESTKEY0000");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret");
    let checks = tablero_aws::check(&cfg);
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(
        (checks[0].call.as_str(), checks[0].ok),
        ("sts:GetCallerIdentity", false)
    );
    assert!(
        checks[0].message.contains("unreachable"),
        "{}",
        checks[0].message
    );
}

#[test]
fn the_settings_check_names_each_bucket() {
    let s = setup(&[]);
    let mut cfg = s.cfg.clone();
    cfg.buckets.clean = "no-such-bucket-here".into();
    // The check uses the standard chain: moto accepts any key.
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIAADMINTESTKEY0000");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret");
    let checks = tablero_aws::check(&cfg);
    let calls: Vec<(&str, bool)> = checks.iter().map(|c| (c.call.as_str(), c.ok)).collect();
    assert_eq!(checks.len(), 4, "{checks:?}");
    assert!(checks[1].ok, "{checks:?}");
    assert_eq!(
        calls,
        vec![
            ("sts:GetCallerIdentity", true),
            (format!("s3:ListBucket {}", cfg.buckets.raw).as_str(), true),
            ("s3:ListBucket no-such-bucket-here", false),
            (
                format!("s3:ListBucket {}", cfg.buckets.models).as_str(),
                true
            ),
        ]
    );
    assert!(
        checks[2].message.contains("NoSuchBucket"),
        "{}",
        checks[2].message
    );
}

#[test]
fn an_archived_object_says_how_to_read_it() {
    let s = setup(&[]);
    let b = open(&s, &admin_credentials());
    let key = ObjectKey::new("cold/2009.csv").unwrap();
    tablero_core::ports::put_bytes(
        b.store.as_ref(),
        Bucket::Raw,
        &key,
        b"a,b\n",
        &BTreeMap::new(),
    )
    .unwrap();
    let clients = Clients::new(&s.cfg, Some(admin_credentials())).unwrap();
    S3Store::new(clients.s3, s.cfg.buckets.clone())
        .archive(Bucket::Raw, &key, "DEEP_ARCHIVE")
        .unwrap();
    let listed = b.store.list(Bucket::Raw, "cold/", None, 10).unwrap();
    assert_eq!(
        listed.objects[0].storage_class, "DEEP_ARCHIVE",
        "shown as archived"
    );
    let err = b.store.read(Bucket::Raw, &key).unwrap_err();
    assert!(
        err.to_string().contains("archived in DEEP_ARCHIVE"),
        "{err}"
    );
    assert!(err.to_string().contains("restore"), "{err}");
    let asked = b.store.restore_archived(Bucket::Raw, &key, 3).unwrap();
    assert_eq!(asked.days, 3);
}

#[test]
fn a_decision_claim_left_by_a_stopped_decider_goes_stale() {
    use tablero_core::ports::Role;
    let s = setup(&[("lead", &[Role::Analyst, Role::MlLead])]);
    let admin = admin_credentials();
    let tom = open(&s, &assume(&s.cfg, &admin, "lead", "tom"));
    let lena = open(&s, &assume(&s.cfg, &admin, "lead", "lena"));
    let f = features(&tom);
    let v = train(&tom, &f, Algorithm::Lr);
    let card = tom.registry.version("default", v).unwrap().card.key;
    let claim_key = card.replace("card.json", "decision.json");
    let claim = |at: chrono::DateTime<chrono::Utc>| {
        serde_json::json!({
            "status": "Approved", "by": "lead/gone",
            "at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "comment": "x"
        })
        .to_string()
        .into_bytes()
    };
    let clients = Clients::new(&s.cfg, Some(admin)).unwrap();
    let store = S3Store::new(clients.s3, s.cfg.buckets.clone());
    // A decider is recording a decision right now: wait for it.
    assert!(store
        .put_if_absent(Bucket::Models, &claim_key, claim(chrono::Utc::now()))
        .unwrap());
    let err = tablero_app::models::approve(&lena, "default", v, "fine", false).unwrap_err();
    assert!(
        err.to_string()
            .contains("lead/gone is recording a decision"),
        "{err}"
    );
    assert_eq!(
        lena.registry.version("default", v).unwrap().status,
        ApprovalStatus::PendingManualApproval
    );
    // It stopped two minutes ago and SageMaker never recorded it: taken over.
    let (_, etag) = store
        .read_tagged(Bucket::Models, &claim_key)
        .unwrap()
        .unwrap();
    assert!(store
        .put_if_match(
            Bucket::Models,
            &claim_key,
            claim(chrono::Utc::now() - chrono::Duration::minutes(2)),
            &etag
        )
        .unwrap());
    let approved = tablero_app::models::approve(&lena, "default", v, "fine", false).unwrap();
    assert_eq!(
        (approved.status, approved.decided_by.as_deref()),
        (ApprovalStatus::Approved, Some("lead/lena"))
    );
}

#[test]
fn missing_credentials_say_so_not_offline() {
    // No credentials anywhere: an empty environment and a profile that is
    // in no file.
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ] {
        std::env::remove_var(var);
    }
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("AWS_CONFIG_FILE", dir.path().join("config"));
    std::env::set_var(
        "AWS_SHARED_CREDENTIALS_FILE",
        dir.path().join("credentials"),
    );
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    let moto = Moto::shared();
    let mut cfg = config(&moto.url, "n");
    cfg.profile = Some("tablero-nobody".into());
    let root = dir.path().join("ws");
    workspace(&root, &cfg);
    let b = tablero_aws::open(&root, None).unwrap();
    let err = b.store.list(Bucket::Raw, "", None, 10).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permission, "{err}");
    assert!(
        err.to_string().contains("no usable AWS credentials"),
        "{err}"
    );
    assert_eq!(err.missing(), Some("AWS credentials"));
}
