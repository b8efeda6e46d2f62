//! The `[aws]` table of a workspace's `tablero.toml`: where the team's AWS
//! resources are. It holds names, never a secret: credentials come from
//! the profile or the standard chain (environment, SSO, shared config,
//! instance or container role).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tablero_core::ports::{BackendError, Role};
use tablero_core::store::Bucket;

/// The three bucket names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Buckets {
    /// Raw CSVs.
    pub raw: String,
    /// Cleaned tables and features.
    pub clean: String,
    /// Artifacts, cards, the audit trail.
    pub models: String,
}

impl Buckets {
    /// The S3 bucket behind a Tablero bucket.
    pub fn name(&self, bucket: Bucket) -> &str {
        match bucket {
            Bucket::Raw => &self.raw,
            Bucket::Clean => &self.clean,
            Bucket::Models => &self.models,
        }
    }
}

/// `[aws]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AwsConfig {
    /// Region, e.g. `eu-west-1`.
    pub region: String,
    /// A profile of the shared config (`~/.aws/config`); without one, the
    /// standard credential chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Another endpoint for every service (an S3-compatible store, a
    /// test server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    /// The buckets.
    pub buckets: Buckets,
    /// The SageMaker model package group of Tablero's `default` group
    /// (another group `g` is `<this>-g`). Its tags hold the team's policy.
    pub model_package_group: String,
    /// API Gateway REST API id (the endpoint's API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_api_id: Option<String>,
    /// API Gateway usage plan the endpoint's keys join.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_plan_id: Option<String>,
    /// IAM role (or user) name → Tablero roles: which actions the panel
    /// offers. IAM decides what is allowed.
    #[serde(default)]
    pub roles: BTreeMap<String, Vec<Role>>,
    /// The endpoint on ECS Fargate and its CloudWatch metrics. Without it
    /// deployments, the endpoint and its metrics stay in the workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<EndpointConfig>,
    /// Where jobs run: the ETL Lambda and SageMaker training. Without it
    /// jobs run on this machine against the S3 data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute: Option<ComputeConfig>,
}

/// `[aws.compute]`: jobs on AWS: clean and features on the ETL Lambda,
/// training as a SageMaker training job (the stack's outputs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComputeConfig {
    /// The ETL Lambda function's name or ARN.
    pub etl_function: String,
    /// Another endpoint for Lambda only (a local Lambda emulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda_endpoint_url: Option<String>,
    /// The training image (ECR URI with tag or digest).
    pub training_image: String,
    /// The SageMaker execution role's ARN.
    pub training_role_arn: String,
    /// The instance type of training jobs.
    #[serde(default = "defaults::instance_type")]
    pub instance_type: String,
    /// The ML storage volume, GB.
    #[serde(default = "defaults::volume_gb")]
    pub volume_gb: i32,
    /// Longest run of a training job, seconds.
    #[serde(default = "defaults::max_runtime_s")]
    pub max_runtime_s: i32,
    /// Managed spot training (no checkpoints: an interrupted job starts
    /// again from the beginning).
    #[serde(default)]
    pub spot: bool,
    /// Where SageMaker writes `model.tar.gz`, under the models bucket.
    #[serde(default = "defaults::training_prefix")]
    pub training_prefix: String,
    /// Seconds between two looks at a running job.
    #[serde(default = "defaults::job_poll_s")]
    pub poll_s: u64,
    /// Training jobs are named `<job_prefix>-<group>-<time>-<hex>` (the
    /// stack's name: its policies allow that prefix).
    #[serde(default = "defaults::job_prefix")]
    pub job_prefix: String,
}

/// `[aws.endpoint]`: the endpoint's ECS service, its logs and metrics
/// (the stack of packaging/aws gives each value as an output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointConfig {
    /// ECS cluster name.
    pub cluster: String,
    /// ECS service name.
    pub service: String,
    /// The container running `tablero-serve` in the task definition.
    #[serde(default = "defaults::container")]
    pub container: String,
    /// The log group the awslogs driver writes the endpoint's lines to.
    pub log_group: String,
    /// The CloudWatch namespace of the endpoint's EMF metrics.
    #[serde(default = "defaults::namespace")]
    pub namespace: String,
    /// The endpoint's name: the `Endpoint` dimension of its metrics.
    #[serde(default = "defaults::name")]
    pub name: String,
    /// The alarms are `<alarm_prefix>-feature-drift`, `-error-rate` and
    /// `-latency-p99` (the stack's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_prefix: Option<String>,
    /// The endpoint's public URL (API Gateway's stage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Tasks when started (stop scales to 0).
    #[serde(default = "defaults::desired_count")]
    pub desired_count: u32,
    /// How long a promotion follows ECS's rollout before saying it is
    /// still going; 0 returns as soon as the service is updated.
    #[serde(default = "defaults::rollout_timeout_s")]
    pub rollout_timeout_s: u64,
    /// Seconds between two looks at the rollout.
    #[serde(default = "defaults::poll_s")]
    pub poll_s: u64,
    /// API Gateway's `ApiName` and `Stage` dimensions, for its metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_name: Option<String>,
    /// The stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
}

mod defaults {
    pub(super) fn container() -> String {
        "serve".into()
    }
    pub(super) fn namespace() -> String {
        tablero_core::emf::DEFAULT_NAMESPACE.into()
    }
    pub(super) fn name() -> String {
        "tablero".into()
    }
    pub(super) fn desired_count() -> u32 {
        1
    }
    pub(super) fn rollout_timeout_s() -> u64 {
        900
    }
    pub(super) fn poll_s() -> u64 {
        10
    }
    pub(super) fn instance_type() -> String {
        "ml.m5.large".into()
    }
    pub(super) fn volume_gb() -> i32 {
        10
    }
    pub(super) fn max_runtime_s() -> i32 {
        3600
    }
    pub(super) fn training_prefix() -> String {
        "training/".into()
    }
    pub(super) fn job_poll_s() -> u64 {
        5
    }
    pub(super) fn job_prefix() -> String {
        "tablero".into()
    }
}

impl EndpointConfig {
    /// Where the endpoint keeps its live sample in the models bucket.
    pub fn live_sample_prefix(&self) -> String {
        format!("live-sample/{}/", self.name)
    }
}

impl AwsConfig {
    /// The `[aws]` table of `path`'s text; a missing table is refused with
    /// an example of one.
    pub fn load(path: &Path) -> Result<AwsConfig, BackendError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            BackendError::new(
                tablero_core::ports::ErrorKind::NotInitialised,
                format!("{}: {e}", path.display()),
            )
        })?;
        AwsConfig::parse(&text, &path.display().to_string())
    }

    /// The `[aws]` table of a `tablero.toml`'s text (`from` names it).
    pub fn parse(text: &str, from: &str) -> Result<AwsConfig, BackendError> {
        #[derive(Deserialize)]
        struct Only {
            aws: Option<toml::Value>,
        }
        let only: Only =
            toml::from_str(text).map_err(|e| BackendError::refused(format!("{from}: {e}")))?;
        let table = only.aws.ok_or_else(|| {
            BackendError::refused(format!(
                "{from} has no [aws] table: the AWS backend needs one, e.g.\n{}",
                AwsConfig::example()
            ))
        })?;
        let config: AwsConfig = table
            .try_into()
            .map_err(|e| BackendError::refused(format!("[aws] in {from}: {e}")))?;
        config
            .check()
            .map_err(|m| BackendError::refused(format!("[aws] in {from}: {m}")))?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        if self.region.trim().is_empty() {
            return Err("region is empty".into());
        }
        for (what, name) in [
            ("buckets.raw", &self.buckets.raw),
            ("buckets.clean", &self.buckets.clean),
            ("buckets.models", &self.buckets.models),
        ] {
            let ok = (3..=63).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
            if !ok {
                return Err(format!(
                    "{what} = {name:?} is not an S3 bucket name (3 to 63 lowercase letters, digits, '-' or '.')"
                ));
            }
        }
        if self.model_package_group.trim().is_empty() {
            return Err("model_package_group is empty".into());
        }
        if let Some(c) = &self.compute {
            for (what, value) in [
                ("compute.etl_function", &c.etl_function),
                ("compute.training_image", &c.training_image),
                ("compute.training_role_arn", &c.training_role_arn),
            ] {
                if value.trim().is_empty() {
                    return Err(format!("{what} is empty"));
                }
            }
            if !(1..=432_000).contains(&c.max_runtime_s) {
                return Err(format!(
                    "compute.max_runtime_s = {} is outside SageMaker's 1 to 432000 seconds",
                    c.max_runtime_s
                ));
            }
        }
        Ok(())
    }

    /// An `[aws]` table to start from (docs/aws.md explains each line).
    pub fn example() -> &'static str {
        "[aws]\n\
         region = \"eu-west-1\"\n\
         # profile = \"tablero\"            # else the standard credential chain\n\
         # endpoint_url = \"http://127.0.0.1:5000\"  # S3-compatible stores, tests\n\
         model_package_group = \"tablero-churn\"\n\
         # rest_api_id = \"a1b2c3d4e5\"      # API Gateway, for `tablero keys`\n\
         # usage_plan_id = \"u1v2w3\"\n\
         [aws.buckets]\n\
         raw = \"acme-tablero-raw\"\n\
         clean = \"acme-tablero-clean\"\n\
         models = \"acme-tablero-models\"\n\
         [aws.roles]\n\
         tablero-analyst = [\"analyst\"]\n\
         tablero-ml-lead = [\"ml_lead\"]\n\
         tablero-ops = [\"ops\"]\n\
         # [aws.endpoint]                  # the ECS Fargate endpoint, CloudWatch\n\
         # cluster = \"tablero\"\n\
         # service = \"tablero-serve\"\n\
         # log_group = \"/tablero/tablero/serve\"\n\
         # alarm_prefix = \"tablero\"\n\
         # [aws.compute]                   # jobs on AWS: ETL Lambda, SageMaker training\n\
         # etl_function = \"tablero-etl\"\n\
         # training_image = \"123456789012.dkr.ecr.eu-west-1.amazonaws.com/tablero-train:1\"\n\
         # training_role_arn = \"arn:aws:iam::123456789012:role/tablero-sagemaker\"\n"
    }

    /// Writes this table into the `tablero.toml` at `path`, keeping every
    /// other table as it is, and sets `[backend] kind = "aws"`.
    pub fn save(&self, path: &Path) -> Result<(), BackendError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| BackendError::refused(format!("{}: {e}", path.display())))?;
        let mut doc: toml::Table = toml::from_str(&text)
            .map_err(|e| BackendError::refused(format!("{}: {e}", path.display())))?;
        let value = toml::Value::try_from(self)
            .map_err(|e| BackendError::refused(format!("[aws]: {e}")))?;
        doc.insert("aws".into(), value);
        let mut backend = toml::Table::new();
        backend.insert("kind".into(), toml::Value::String("aws".into()));
        doc.insert("backend".into(), toml::Value::Table(backend));
        let out =
            toml::to_string(&doc).map_err(|e| BackendError::refused(format!("[aws]: {e}")))?;
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, out)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| BackendError::refused(format!("{}: {e}", path.display())))
    }

    /// This table as TOML (`[aws]` and its sub-tables).
    pub fn to_toml(&self) -> String {
        let mut doc = toml::Table::new();
        if let Ok(v) = toml::Value::try_from(self) {
            doc.insert("aws".into(), v);
        }
        toml::to_string(&doc).unwrap_or_default()
    }

    /// The SageMaker group behind Tablero's group `group`.
    pub fn sagemaker_group(&self, group: &str) -> String {
        if group == "default" {
            self.model_package_group.clone()
        } else {
            format!("{}-{}", self.model_package_group, group.replace('_', "-"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_and_bad_tables_say_why() {
        let c = AwsConfig::parse(AwsConfig::example(), "t.toml").unwrap();
        assert_eq!(c.buckets.name(Bucket::Clean), "acme-tablero-clean");
        assert_eq!(c.roles["tablero-ml-lead"], vec![Role::MlLead]);
        assert_eq!(c.sagemaker_group("default"), "tablero-churn");
        assert_eq!(c.sagemaker_group("q_2"), "tablero-churn-q-2");
        let e = AwsConfig::parse("[roles]\n", "t.toml").unwrap_err();
        assert!(e.to_string().contains("no [aws] table"), "{e}");
        let bad = AwsConfig::example().replace("acme-tablero-raw", "Bad_Name");
        let e = AwsConfig::parse(&bad, "t.toml").unwrap_err();
        assert!(e.to_string().contains("buckets.raw"), "{e}");
    }

    #[test]
    fn save_keeps_the_other_tables() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tablero.toml");
        std::fs::write(
            &p,
            "[roles]\nana = [\"analyst\"]\n\n[policy]\nfour_eyes = true\nallow_as = false\n",
        )
        .unwrap();
        let c = AwsConfig::parse(AwsConfig::example(), "t").unwrap();
        c.save(&p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("ana = [\"analyst\"]"), "{text}");
        assert_eq!(AwsConfig::load(&p).unwrap(), c);
        assert!(text.contains("kind = \"aws\""), "{text}");
    }
}
