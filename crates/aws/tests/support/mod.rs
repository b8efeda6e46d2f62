//! Tests over the wire: moto's standalone server on 127.0.0.1 (a random
//! port, one server per test process: nextest runs each test in its own),
//! stopped when the process ends (it reads its stdin until EOF). Each
//! harness makes its own buckets, model package group and usage plan, so
//! nothing is shared between tests.

#![allow(dead_code)]

pub mod etl;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tablero_aws::config::EndpointConfig;
use tablero_aws::{AwsConfig, Clients, StaticCredentials};
use tablero_conformance::suite::{Harness, Persona};
use tablero_core::monitor::AlarmRule;
use tablero_core::ports::{Backend, Role};
use tablero_core::store::{Bucket, ObjectKey};

pub const REGION: &str = "us-east-1";

/// A client of the SDK crate `$sdk` that answers from aws-smithy-mocks
/// rules (`&[&Rule]`, matched in any order), never from the network.
#[allow(unused_macros)]
macro_rules! mocked {
    ($sdk:ident, $rules:expr) => {{
        let mut mocks = aws_smithy_mocks::MockResponseInterceptor::new()
            .rule_mode(aws_smithy_mocks::RuleMode::MatchAny);
        for r in $rules {
            mocks = mocks.with_rule(r);
        }
        $sdk::Client::from_conf(
            $sdk::Config::builder()
                .behavior_version($sdk::config::BehaviorVersion::latest())
                .region($sdk::config::Region::new("us-east-1"))
                .credentials_provider($sdk::config::Credentials::new(
                    "AKIDTEST", "secret", None, None, "test",
                ))
                .http_client(aws_smithy_mocks::create_mock_http_client())
                .interceptor(mocks)
                .build(),
        )
    }};
}
#[allow(unused_imports)]
pub(crate) use mocked;

/// The stack's template, packaging/aws/tablero.template.json.
pub fn template() -> serde_json::Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../packaging/aws/tablero.template.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A moto server of this process.
pub struct Moto {
    pub url: String,
    _child: Child,
}

/// The python with moto installed: `TABLERO_MOTO_PYTHON`, else python3.
fn python() -> String {
    std::env::var("TABLERO_MOTO_PYTHON").unwrap_or_else(|_| "python3".into())
}

const SERVE: &str = r#"
import sys, os
from moto.server import ThreadedMotoServer
s = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
s.start()
print("ready", flush=True)
sys.stdin.read()
s.stop()
os._exit(0)
"#;

impl Moto {
    /// Starts a server with `env` (e.g. `INITIAL_NO_AUTH_ACTION_COUNT`).
    pub fn start(env: &[(&str, &str)]) -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(python());
        cmd.args(["-c", SERVE, &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start moto with {} ({e}): pip install 'moto[server]==5.2.5' (scripts/setup.sh does)", python())
        });
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "moto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto {
            url: format!("http://127.0.0.1:{port}"),
            _child: child,
        }
    }

    /// This process's server (no IAM enforcement).
    pub fn shared() -> &'static Moto {
        static MOTO: OnceLock<Moto> = OnceLock::new();
        MOTO.get_or_init(|| {
            // Never ask an instance metadata service for anything.
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
            Moto::start(&[])
        })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(stdin) = self._child.stdin.as_mut() {
            let _ = stdin.flush();
        }
        let _ = self._child.kill();
        let _ = self._child.wait();
    }
}

pub fn admin_credentials() -> StaticCredentials {
    StaticCredentials {
        access_key_id: "AKIAADMINTESTKEY0000".into(),
        secret_access_key: "secret".into(),
        session_token: None,
    }
}

/// A random lowercase suffix for names.
pub fn suffix() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// An `[aws]` table for moto at `url` with fresh names.
pub fn config(url: &str, tag: &str) -> AwsConfig {
    let s = format!("{tag}-{}", suffix());
    let text = format!(
        "[aws]\nregion = \"{REGION}\"\nendpoint_url = \"{url}\"\nmodel_package_group = \"tablero-{s}\"\n\
         [aws.buckets]\nraw = \"raw-{s}\"\nclean = \"clean-{s}\"\nmodels = \"models-{s}\"\n"
    );
    AwsConfig::parse(&text, "test").unwrap()
}

/// Creates the buckets (versioned), the group and a usage plan; returns
/// the config with the plan.
pub fn provision(mut cfg: AwsConfig, creds: &StaticCredentials) -> AwsConfig {
    let clients = Clients::new(&cfg, Some(creds.clone())).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let plan = rt.block_on(async {
        for b in Bucket::ALL {
            let name = cfg.buckets.name(b).to_string();
            clients
                .s3
                .create_bucket()
                .bucket(&name)
                .send()
                .await
                .unwrap();
            clients
                .s3
                .put_bucket_versioning()
                .bucket(&name)
                .versioning_configuration(
                    aws_sdk_s3::types::VersioningConfiguration::builder()
                        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .unwrap();
        }
        clients
            .sagemaker
            .create_model_package_group()
            .model_package_group_name(&cfg.model_package_group)
            .send()
            .await
            .unwrap();
        let api = clients
            .apigateway
            .create_rest_api()
            .name("tablero")
            .send()
            .await
            .unwrap();
        let plan = clients
            .apigateway
            .create_usage_plan()
            .name("tablero-keys")
            .throttle(
                aws_sdk_apigateway::types::ThrottleSettings::builder()
                    .rate_limit(100.0)
                    .burst_limit(200)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        (
            api.id().unwrap().to_string(),
            plan.id().unwrap().to_string(),
        )
    });
    cfg.rest_api_id = Some(plan.0);
    cfg.usage_plan_id = Some(plan.1);
    cfg.endpoint = Some(provision_endpoint(&clients, &suffix()));
    cfg
}

/// The endpoint's cluster, task definition (`serve` container, nothing to
/// serve yet) and service, its log group and the three alarms, as the
/// stack of packaging/aws makes them. Promotions return once the service
/// is updated (moto never rolls a deployment out).
pub fn provision_endpoint(clients: &Clients, s: &str) -> EndpointConfig {
    use aws_sdk_ecs::types::{
        ContainerDefinition, DeploymentCircuitBreaker, DeploymentConfiguration, KeyValuePair,
        PortMapping,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cluster = format!("tablero-{s}");
    let family = format!("tablero-{s}-serve");
    let log_group = format!("/tablero/{s}/serve");
    let env = |k: &str, v: &str| KeyValuePair::builder().name(k).value(v).build();
    rt.block_on(async {
        clients
            .ecs
            .create_cluster()
            .cluster_name(&cluster)
            .send()
            .await
            .unwrap();
        let td = clients
            .ecs
            .register_task_definition()
            .family(&family)
            .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
            .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
            .cpu("512")
            .memory("1024")
            .task_role_arn("arn:aws:iam::123456789012:role/tablero-task")
            .execution_role_arn("arn:aws:iam::123456789012:role/tablero-execution")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("serve")
                    .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:latest")
                    .essential(true)
                    .command("--host")
                    .command("0.0.0.0")
                    .port_mappings(PortMapping::builder().container_port(8080).build())
                    .environment(env("MODEL_URI", ""))
                    .environment(env("MODEL_VERSION", ""))
                    .environment(env("TABLERO_AUTH", "gateway"))
                    .environment(env("TABLERO_METRICS", "emf"))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let arn = td
            .task_definition()
            .unwrap()
            .task_definition_arn()
            .unwrap()
            .to_string();
        clients
            .ecs
            .create_service()
            .cluster(&cluster)
            .service_name(&family)
            .task_definition(&arn)
            .desired_count(1)
            .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
            .deployment_configuration(
                DeploymentConfiguration::builder()
                    .deployment_circuit_breaker(
                        DeploymentCircuitBreaker::builder()
                            .enable(true)
                            .rollback(true)
                            .build(),
                    )
                    .minimum_healthy_percent(100)
                    .maximum_percent(200)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        clients
            .logs
            .create_log_group()
            .log_group_name(&log_group)
            .send()
            .await
            .unwrap();
        let rules = tablero_core::monitor::AlarmRules::default();
        for (rule, metric, threshold) in [
            (AlarmRule::FeatureDrift, "MaxFeaturePSI", rules.feature_psi),
            (AlarmRule::ErrorRate, "Errors", rules.error_rate),
            (AlarmRule::LatencyP99, "Latency", rules.p99_ms),
        ] {
            clients
                .cloudwatch
                .put_metric_alarm()
                .alarm_name(tablero_aws::cloudwatch::alarm_name(s, rule))
                .namespace("Tablero")
                .metric_name(metric)
                .statistic(aws_sdk_cloudwatch::types::Statistic::Maximum)
                .period(3600)
                .evaluation_periods(1)
                .threshold(threshold)
                .comparison_operator(
                    aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold,
                )
                .send()
                .await
                .unwrap();
        }
    });
    let text = format!(
        "cluster = \"{cluster}\"\nservice = \"{family}\"\nlog_group = \"{log_group}\"\n\
         alarm_prefix = \"{s}\"\nurl = \"https://api.example/prod\"\nrollout_timeout_s = 0\npoll_s = 1\n\
         api_name = \"{s}-endpoint\"\nstage = \"prod\"\n"
    );
    toml::from_str(&text).unwrap()
}

/// Credentials of role `role` assumed with session name `session`.
pub fn assume(
    cfg: &AwsConfig,
    admin: &StaticCredentials,
    role: &str,
    session: &str,
) -> StaticCredentials {
    let clients = Clients::new(cfg, Some(admin.clone())).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let out = clients
            .sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::123456789012:role/{role}"))
            .role_session_name(session)
            .send()
            .await
            .unwrap();
        let c = out.credentials().unwrap();
        StaticCredentials {
            access_key_id: c.access_key_id().to_string(),
            secret_access_key: c.secret_access_key().to_string(),
            session_token: Some(c.session_token().to_string()),
        }
    })
}

/// A workspace at `root` configured for `cfg`.
pub fn workspace(root: &Path, cfg: &AwsConfig) {
    tablero_local::Workspace::init(root).unwrap();
    cfg.save(&root.join("tablero.toml")).unwrap();
}

/// The conformance harness: a workspace on moto, one assumed role per
/// persona (`tablero-<persona>-<suffix>`, session name the persona's),
/// `[aws.roles]` mapping each role to the persona's roles.
pub struct AwsHarness {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub cfg: AwsConfig,
    creds: Vec<(Persona, StaticCredentials)>,
}

impl AwsHarness {
    pub fn new() -> AwsHarness {
        let moto = Moto::shared();
        let admin = admin_credentials();
        let mut cfg = provision(config(&moto.url, "c"), &admin);
        let s = suffix();
        let mut creds = Vec::new();
        for p in Persona::ALL {
            let role = format!("tablero-{}-{s}", p.name());
            cfg.roles.insert(role.clone(), p.roles().to_vec());
            creds.push((p, assume(&cfg, &admin, &role, p.name())));
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        workspace(&root, &cfg);
        AwsHarness {
            _dir: dir,
            root,
            cfg,
            creds,
        }
    }
}

impl Harness for AwsHarness {
    fn backend(&self, who: Persona) -> Backend {
        let creds = self
            .creds
            .iter()
            .find(|(p, _)| *p == who)
            .map(|(_, c)| c.clone())
            .unwrap();
        tablero_aws::open(&self.root, Some(creds)).unwrap()
    }

    fn archive(&self, bucket: Bucket, key: &ObjectKey) -> bool {
        let clients = Clients::new(&self.cfg, Some(admin_credentials())).unwrap();
        tablero_aws::s3::S3Store::new(clients.s3, self.cfg.buckets.clone())
            .archive(bucket, key, "GLACIER")
            .unwrap();
        true
    }
}

pub fn roles_of(p: Persona) -> Vec<Role> {
    p.roles().to_vec()
}

/// The local Lambda of scripts/lambda-emulator.py running this build's
/// ETL `bootstrap` against moto's S3 with `cfg`'s buckets.
pub struct LambdaEmulator {
    pub url: String,
    child: Child,
}

impl Drop for LambdaEmulator {
    fn drop(&mut self) {
        // SIGTERM: the emulator stops its bootstrap too.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// A binary of this build (the AWS test build makes `bootstrap` and
/// `tablero-serve`: scripts/setup.sh's TABLERO_AWS_BUILD).
pub fn built_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join(name);
    assert!(
        bin.exists(),
        "{} is not built: run the tests with $TABLERO_AWS_BUILD (scripts/setup.sh)",
        bin.display()
    );
    bin
}

impl LambdaEmulator {
    pub fn start(cfg: &AwsConfig, env: &[(&str, &str)]) -> LambdaEmulator {
        use std::io::BufRead;
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/lambda-emulator.py");
        let creds = admin_credentials();
        let mut cmd = Command::new("python3");
        cmd.arg(script)
            .arg("--bootstrap")
            .arg(built_binary("bootstrap"))
            .env("AWS_ENDPOINT_URL", cfg.endpoint_url.as_deref().unwrap())
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", &creds.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &creds.secret_access_key)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("TABLERO_RAW_BUCKET", &cfg.buckets.raw)
            .env("TABLERO_CLEAN_BUCKET", &cfg.buckets.clean)
            .env("TABLERO_MODELS_BUCKET", &cfg.buckets.models)
            .stdout(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the emulator said {line:?}"))
            .to_string();
        LambdaEmulator {
            url: format!("http://127.0.0.1:{port}"),
            child,
        }
    }

    /// Invokes the function synchronously with `payload`: its answer.
    pub fn invoke(&self, payload: &serde_json::Value) -> serde_json::Value {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(900)))
            .build()
            .into();
        let mut resp = agent
            .post(format!(
                "{}/2015-03-31/functions/tablero-etl/invocations",
                self.url
            ))
            .header("content-type", "application/json")
            .send(payload.to_string())
            .unwrap();
        let text = resp.body_mut().read_to_string().unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Waits for an invocation's end: `{status, body, seconds, vmhwm_kb}`.
    pub fn result(&self, request_id: &str) -> serde_json::Value {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(900)))
            .build()
            .into();
        let text = agent
            .get(format!("{}/_emulator/results/{request_id}", self.url))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

/// An S3 `ObjectCreated:Put` notification of `key` in `bucket`.
pub fn object_created(bucket: &str, key: &str, version: Option<&str>) -> serde_json::Value {
    // Keys arrive URL-encoded, spaces as '+'.
    let encoded: String = key
        .bytes()
        .map(|b| match b {
            b' ' => "+".to_string(),
            b if b.is_ascii_alphanumeric() || b"-_./".contains(&b) => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect();
    serde_json::json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": "2026-11-30T00:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAANALYST"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "tablero-etl",
            "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": encoded, "size": 1, "eTag": "x", "versionId": version, "sequencer": "0"}
        }
    }]})
}
