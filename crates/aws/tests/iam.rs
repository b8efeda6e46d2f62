//! The persona policies of the stack (packaging/aws/tablero.template.json:
//! the inline policies of its analyst, ML lead and ops roles), enforced:
//! moto's server
//! checks every call against the caller's IAM policies once
//! `/moto-api/reset-auth` turns enforcement on. moto checks S3 actions
//! against their bucket and key ARNs, but other services' against `*` and
//! treats a statement with a Condition as a deny (and names CloudWatch's
//! actions `monitoring:…`, its signing name), so the policies are
//! loaded with their non-S3 resources widened to `*` (they have no
//! conditions); `policies_are_scoped` checks the real resources statically.

mod support;

use support::{admin_credentials, config, provision, template, workspace, Moto};
use tablero_aws::{AwsConfig, StaticCredentials};
use tablero_core::ports::{put_bytes, Backend, ErrorKind};
use tablero_core::registry::ApprovalStatus;
use tablero_core::store::{Bucket, ObjectKey};

/// The inline policy of persona `name`'s role in the template, its
/// `Fn::Sub` strings as plain strings with their `${…}` placeholders.
fn policy_file(name: &str) -> serde_json::Value {
    fn plain(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(o) if o.len() == 1 && o.contains_key("Fn::Sub") => {
                o["Fn::Sub"].as_str().expect("Fn::Sub of one string").into()
            }
            serde_json::Value::Object(o) => {
                serde_json::Value::Object(o.iter().map(|(k, v)| (k.clone(), plain(v))).collect())
            }
            serde_json::Value::Array(a) => a.iter().map(plain).collect(),
            other => other.clone(),
        }
    }
    let role = match name {
        "analyst" => "AnalystRole",
        "ml-lead" => "MlLeadRole",
        "ops" => "OpsRole",
        other => panic!("no persona {other}"),
    };
    let policies = &template()["Resources"][role]["Properties"]["Policies"];
    assert_eq!(
        policies.as_array().map(Vec::len),
        Some(1),
        "{role}: one inline policy"
    );
    plain(&policies[0]["PolicyDocument"])
}

/// A policy with the names filled in and, for moto, every non-S3
/// resource widened to `*`.
fn for_moto(name: &str, cfg: &AwsConfig) -> String {
    let endpoint = cfg.endpoint.clone().unwrap();
    let mut text = policy_file(name).to_string();
    for (k, v) in [
        ("${RawBucket}", cfg.buckets.raw.as_str()),
        ("${CleanBucket}", cfg.buckets.clean.as_str()),
        ("${ModelsBucket}", cfg.buckets.models.as_str()),
        ("${ModelPackageGroupName}", cfg.model_package_group.as_str()),
        ("${AWS::Region}", support::REGION),
        ("${AWS::AccountId}", "123456789012"),
        ("${AWS::StackName}", "tablero"),
        ("${Cluster}", endpoint.cluster.as_str()),
        ("${Service.Name}", endpoint.service.as_str()),
        (
            "${LogGroup.Arn}",
            "arn:aws:logs:us-east-1:123456789012:log-group:x:*",
        ),
        (
            "${TaskRole.Arn}",
            "arn:aws:iam::123456789012:role/tablero-task",
        ),
        (
            "${TaskExecutionRole.Arn}",
            "arn:aws:iam::123456789012:role/tablero-execution",
        ),
        (
            "${SageMakerExecutionRole.Arn}",
            "arn:aws:iam::123456789012:role/tablero-sagemaker",
        ),
    ] {
        text = text.replace(k, v);
    }
    assert!(!text.contains("${"), "a placeholder left: {text}");
    let mut p: serde_json::Value = serde_json::from_str(&text).unwrap();
    for st in p["Statement"].as_array_mut().unwrap() {
        let s3 = st["Action"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a.as_str().unwrap().starts_with("s3:"));
        if !s3 {
            st["Resource"] = "*".into();
        }
        // moto names an action by the service's signing name, which is
        // `monitoring` for CloudWatch.
        let aliases: Vec<serde_json::Value> = st["Action"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| {
                a.as_str()?
                    .strip_prefix("cloudwatch:")
                    .map(|op| format!("monitoring:{op}").into())
            })
            .collect();
        st["Action"].as_array_mut().unwrap().extend(aliases);
    }
    p.to_string()
}

/// An IAM call by moto's query API (before enforcement starts).
fn iam(url: &str, params: &[(&str, &str)]) -> String {
    let mut form: Vec<(&str, &str)> = vec![("Version", "2010-05-08")];
    form.extend_from_slice(params);
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent
        .post(format!("{url}/"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAADMINTESTKEY0000/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
        )
        .send(body.as_str())
        .unwrap();
    let text = resp.body_mut().read_to_string().unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{text}");
    text
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn between<'a>(text: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = text.find(&open).unwrap() + open.len();
    let end = text[start..].find(&format!("</{tag}>")).unwrap();
    &text[start..start + end]
}

/// An IAM user holding one persona policy; its credentials.
fn user(url: &str, name: &str, policy: &str) -> StaticCredentials {
    iam(url, &[("Action", "CreateUser"), ("UserName", name)]);
    iam(
        url,
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", name),
            ("PolicyName", "tablero"),
            ("PolicyDocument", policy),
        ],
    );
    let made = iam(url, &[("Action", "CreateAccessKey"), ("UserName", name)]);
    StaticCredentials {
        access_key_id: between(&made, "AccessKeyId").to_string(),
        secret_access_key: between(&made, "SecretAccessKey").to_string(),
        session_token: None,
    }
}

fn enforce(url: &str, on: bool) {
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let count = if on { "0" } else { "1000000000" };
    agent
        .post(format!("{url}/moto-api/reset-auth"))
        .send(count)
        .unwrap();
}

#[test]
fn personas_are_what_iam_allows() {
    let moto = Moto::shared();
    let cfg = provision(config(&moto.url, "i"), &admin_credentials());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    workspace(&root, &cfg);
    let analyst_creds = user(&moto.url, "ana", &for_moto("analyst", &cfg));
    let lead_creds = user(&moto.url, "lena", &for_moto("ml-lead", &cfg));
    let other_analyst_creds = user(&moto.url, "ari", &for_moto("analyst", &cfg));
    let ops_creds = user(&moto.url, "otto", &for_moto("ops", &cfg));
    // Someone whose role may do nothing but ask who they are.
    let nobody_creds = user(
        &moto.url,
        "nemo",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:GetCallerIdentity"],"Resource":"*"}]}"#,
    );
    enforce(&moto.url, true);
    let result = std::panic::catch_unwind(|| {
        let analyst: Backend = tablero_aws::open(&root, Some(analyst_creds.clone())).unwrap();
        let lead: Backend = tablero_aws::open(&root, Some(lead_creds.clone())).unwrap();
        assert_eq!(analyst.identity.actor(), "ana");

        // The analyst uploads, cleans, builds features and trains.
        let f = tablero_conformance::suite::features(&analyst);
        let v = tablero_conformance::suite::train(
            &analyst,
            &f,
            tablero_core::train::models::Algorithm::Lr,
        );
        // An analyst cannot approve (another one: the four-eyes rule would
        // refuse the trainer first): IAM refuses, naming the permission.
        let other: Backend = tablero_aws::open(&root, Some(other_analyst_creds.clone())).unwrap();
        let err =
            tablero_app::models::approve(&other, "default", v, "looks fine", false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Permission, "{err}");
        assert_eq!(err.missing(), Some("sagemaker:UpdateModelPackage"), "{err}");
        assert!(
            err.to_string().contains("sagemaker:UpdateModelPackage"),
            "{err}"
        );
        assert_eq!(
            analyst.registry.version("default", v).unwrap().status,
            ApprovalStatus::PendingManualApproval
        );

        // The ML lead cannot upload…
        let err = put_bytes(
            lead.store.as_ref(),
            Bucket::Raw,
            &ObjectKey::new("lead.csv").unwrap(),
            b"a,b\n",
            &Default::default(),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Permission, "{err}");
        assert_eq!(err.missing(), Some("s3:PutObject"), "{err}");
        assert!(err.to_string().contains("upload raw/lead.csv"), "{err}");
        // …and approves what the analyst trained.
        let approved =
            tablero_app::models::approve(&lead, "default", v, "metrics fine", false).unwrap();
        assert_eq!(approved.status, ApprovalStatus::Approved);
        assert_eq!(approved.decided_by.as_deref(), Some("lena"));
        // S3 answers a denied HEAD with a bare 403 (no error code): still
        // `permission`, naming the IAM action.
        let nobody: Backend = tablero_aws::open(&root, Some(nobody_creds.clone())).unwrap();
        let err = nobody
            .store
            .head(Bucket::Raw, &ObjectKey::new("s.csv").unwrap())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Permission, "{err}");
        assert_eq!(err.missing(), Some("s3:GetObject"), "{err}");
        let err = nobody.registry.versions("default", None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Permission, "{err}");
        assert_eq!(err.missing(), Some("sagemaker:ListModelPackages"), "{err}");
        // Both are in the audit trail, each under its own name.
        let trail = lead.audit.audit_since("2000-01-01T00:00:00Z").unwrap();
        assert!(trail
            .iter()
            .any(|e| e.action == "job.submit" && e.actor == "ana"));
        assert!(trail
            .iter()
            .any(|e| e.action == "model.register" && e.actor == "ana"));
        assert!(trail
            .iter()
            .any(|e| e.action == "model.approve" && e.actor == "lena"));

        // What each persona's role may do on the endpoint, as IAM says:
        // tried by the analyst, the ML lead, then ops.
        let ops: Backend = tablero_aws::open(&root, Some(ops_creds.clone())).unwrap();
        type Op = fn(&Backend, u32) -> tablero_core::ports::Result<()>;
        let table: [(&str, Op, [bool; 3]); 5] = [
            (
                "promote",
                |b, v| tablero_app::deploy::promote(b, "default", v, &|_| {}).map(|_| ()),
                [false, false, true],
            ),
            (
                "read the deployment history",
                |b, _| b.deployer.deployments().map(|_| ()),
                [false, false, true],
            ),
            (
                "read the alarms",
                |b, _| tablero_app::monitor::alarms(b).map(|_| ()),
                [false, false, true],
            ),
            (
                "read the metrics",
                |b, _| b.monitor.metric_windows("2000-01-01T00:00:00Z").map(|_| ()),
                // The ML lead may read the training jobs' log group only;
                // moto authorises logs:FilterLogEvents by action, not by
                // log group, so here it reads the endpoint's too
                // (`policies_are_scoped` checks the resource).
                [false, MOTO_SCOPES_NO_LOG_GROUP, true],
            ),
            (
                "stop the endpoint",
                |b, _| tablero_app::deploy::stop_endpoint(b).map(|_| ()),
                [false, false, true],
            ),
        ];
        // (API keys are left out: moto does not authorise API Gateway calls
        // by IAM's HTTP-verb actions; `policies_are_scoped` checks them.)
        let personas = [("analyst", &analyst), ("ML lead", &lead), ("ops", &ops)];
        for (what, op, allowed) in table {
            for ((who, b), may) in personas.iter().zip(allowed) {
                match op(b, v) {
                    Ok(()) => assert!(may, "the {who} could {what}"),
                    Err(e) => {
                        assert!(!may, "the {who} could not {what}: {e}");
                        assert_eq!(e.kind(), ErrorKind::Permission, "{who}, {what}: {e}");
                        assert!(
                            e.missing().is_some(),
                            "{who}, {what}: names the permission: {e}"
                        );
                    }
                }
            }
        }
        assert_eq!(ops.deployer.deployed().unwrap().map(|d| d.version), Some(v));
    });
    enforce(&moto.url, false);
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

/// moto checks `logs:` actions without their log group.
const MOTO_SCOPES_NO_LOG_GROUP: bool = true;

#[test]
fn policies_are_scoped() {
    for (name, may, may_not) in [
        (
            "analyst",
            &[
                "s3:PutObject",
                "sagemaker:CreateModelPackage",
                "lambda:InvokeFunction",
            ][..],
            &[
                "sagemaker:UpdateModelPackage",
                "sagemaker:AddTags",
                "apigateway:POST",
                "ecs:UpdateService",
                "cloudwatch:DescribeAlarms",
            ][..],
        ),
        (
            "ml-lead",
            &[
                "sagemaker:UpdateModelPackage",
                "sagemaker:AddTags",
                "sagemaker:CreateTrainingJob",
            ][..],
            &[
                "s3:DeleteObjectVersion",
                "apigateway:POST",
                "s3:RestoreObject",
                "ecs:UpdateService",
                "ecs:RegisterTaskDefinition",
            ][..],
        ),
        (
            "ops",
            &[
                "apigateway:POST",
                "apigateway:DELETE",
                "ecs:RegisterTaskDefinition",
                "ecs:UpdateService",
                "cloudwatch:GetMetricData",
                "cloudwatch:DescribeAlarms",
                "logs:FilterLogEvents",
            ][..],
            &[
                "sagemaker:UpdateModelPackage",
                "sagemaker:CreateModelPackage",
                "s3:DeleteObject",
                "lambda:InvokeFunction",
            ][..],
        ),
    ] {
        let p = policy_file(name);
        let statements = p["Statement"].as_array().unwrap();
        let mut actions = Vec::new();
        for st in statements {
            assert_eq!(st["Effect"], "Allow");
            assert!(
                st.get("NotAction").is_none() && st.get("NotResource").is_none(),
                "{name}: {st}"
            );
            let acts: Vec<&str> = st["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            for a in &acts {
                assert!(!a.contains('*'), "{name}: no wildcard actions: {a}");
            }
            actions.extend(acts.iter().map(|a| a.to_string()));
            let resources: Vec<&str> = match &st["Resource"] {
                serde_json::Value::String(s) => vec![s.as_str()],
                serde_json::Value::Array(a) => a.iter().map(|r| r.as_str().unwrap()).collect(),
                other => panic!("{name}: {other}"),
            };
            // Actions IAM cannot scope to a resource: "*" for them only.
            const UNSCOPABLE: [&str; 7] = [
                "sagemaker:ListTrainingJobs",
                "sts:GetCallerIdentity",
                "ecs:DeregisterTaskDefinition",
                "ecs:DescribeTaskDefinition",
                "ecs:ListTaskDefinitions",
                "ecs:RegisterTaskDefinition",
                "cloudwatch:GetMetricData",
            ];
            if resources == ["*"] {
                assert!(
                    acts.iter().all(|a| UNSCOPABLE.contains(a)),
                    "{name}: only {UNSCOPABLE:?} on *: {st}"
                );
                continue;
            }
            for r in resources {
                assert_ne!(r, "*", "{name}: {st}");
                let scoped = if r.starts_with("arn:aws:s3:::") {
                    r.contains("Bucket}")
                } else if r.starts_with("arn:aws:sagemaker:") {
                    r.contains("${ModelPackageGroupName}")
                        || r.contains(":training-job/${AWS::StackName}-")
                } else if r.starts_with("arn:aws:ecs:") {
                    r.contains("/${Cluster}/")
                } else if r.starts_with("arn:aws:cloudwatch:") {
                    r.ends_with(":alarm:${AWS::StackName}-*")
                } else if r.starts_with("arn:aws:lambda:") {
                    r.ends_with(":function:${AWS::StackName}-etl*")
                } else if acts.iter().all(|a| a.starts_with("logs:")) {
                    r == "${LogGroup.Arn}"
                        || r == "arn:aws:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/sagemaker/TrainingJobs:*"
                } else if acts == ["iam:PassRole"] {
                    matches!(
                        r,
                        "${TaskRole.Arn}"
                            | "${TaskExecutionRole.Arn}"
                            | "${SageMakerExecutionRole.Arn}"
                    )
                } else {
                    r.starts_with("arn:aws:apigateway:${AWS::Region}::/apikeys")
                        || r.starts_with("arn:aws:apigateway:${AWS::Region}::/usageplans")
                };
                assert!(
                    scoped,
                    "{name}: resource {r} names Tablero's buckets, group or API keys only"
                );
                // Writes to the models bucket only under registry/ and audit/;
                // to the clean bucket's job state only under jobs/.
                if r.starts_with("arn:aws:s3:::${ModelsBucket}/")
                    && acts
                        .iter()
                        .any(|a| a.starts_with("s3:Put") || a.starts_with("s3:Delete"))
                {
                    assert!(
                        r.ends_with("/registry/*") || r.ends_with("/audit/*"),
                        "{name}: {r}"
                    );
                }
            }
        }
        for a in may {
            assert!(actions.iter().any(|x| x == a), "{name} may {a}");
        }
        for a in may_not {
            assert!(!actions.iter().any(|x| x == a), "{name} may not {a}");
        }
    }
}
