//! The job port on AWS (`[aws.compute]`): clean and features run on the
//! ETL Lambda (an asynchronous Invoke; the job id is Lambda's request id,
//! the job's state in the clean bucket, [`crate::etl`]); training runs as
//! a SageMaker training job of the training image (the job id is its
//! name). When a training job has completed, Tablero registers its model
//! through the registry port as the person who created the job (the
//! `tablero:actor` tag), so the card, the leakage check and four-eyes are
//! those of a local training job.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_sagemaker::types::{
    AlgorithmSpecification, Channel, DataSource, MetricDefinition, OutputDataConfig,
    ResourceConfig, S3DataDistribution, S3DataSource, S3DataType, StoppingCondition, Tag,
    TrainingInputMode, TrainingInstanceType,
};
use tablero_core::job::{
    Job, JobKind, JobRequest, JobStatus, LogLevel, LogLine, TrainingResources,
};
use tablero_core::ports::{
    Audit, AuditEvent, BackendError, ErrorKind, Identity, JobRunner, ObjectStore, Registry, Result,
};
use tablero_core::stages::{self, StageReport, Trained};
use tablero_core::store::{Bucket, ObjectRef};
use tablero_core::train::container::{TrainingSpec, METRIC_DEFINITIONS, MODEL_FILE, TRAINED_FILE};

use crate::config::ComputeConfig;
use crate::error::{fail, is_not_found};
use crate::etl::{self, JobPayload, JobRecord};
use crate::runtime::block_on;
use crate::s3::S3Store;

/// The tag holding who created a training job.
pub const TAG_ACTOR: &str = "tablero:actor";
/// The tag holding the model group.
pub const TAG_GROUP: &str = "tablero:group";
/// The log group of SageMaker training jobs.
pub const TRAINING_LOG_GROUP: &str = "/aws/sagemaker/TrainingJobs";

/// Jobs on Lambda and SageMaker.
pub struct AwsJobs {
    s3: S3Store,
    lambda: aws_sdk_lambda::Client,
    sagemaker: aws_sdk_sagemaker::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    config: ComputeConfig,
    registry: Arc<dyn Registry>,
    audit: Arc<dyn Audit>,
    identity: Arc<dyn Identity>,
}

/// What a SageMaker training job says of itself.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingState {
    /// `InProgress`, `Completed`, `Failed`, `Stopping`, `Stopped`.
    pub status: String,
    /// Its secondary status (`Starting`, `Downloading`, `Training`, …).
    pub secondary: String,
    /// Each secondary status it went through: `(status, start, message)`.
    pub transitions: Vec<(String, String, String)>,
    /// Why it failed.
    pub failure: Option<String>,
    /// Where the model went (`s3://…/model.tar.gz`).
    pub artifact: Option<String>,
    /// Its ARN.
    pub arn: String,
}

/// The job's place in its life from SageMaker's secondary status.
fn training_fraction(secondary: &str) -> f64 {
    match secondary {
        "Starting" => 0.05,
        "LaunchingMLInstances" => 0.1,
        "PreparingTrainingStack" => 0.15,
        "Downloading" => 0.2,
        "DownloadingTrainingImage" => 0.25,
        "Training" => 0.5,
        "Uploading" => 0.9,
        "Completed" => 0.95,
        _ => 0.02,
    }
}

/// A training job's name: `<prefix>-<group>-<UTC time>-<4 hex>` (at
/// most 63 characters of letters, digits and `-`).
pub fn training_job_name(prefix: &str, group: &str) -> Result<String> {
    let mut b = [0u8; 2];
    getrandom::fill(&mut b).map_err(|e| BackendError::refused(format!("no random source: {e}")))?;
    let clean = |s: &str, n: usize| -> String {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(n)
            .collect()
    };
    let (prefix, group) = (clean(prefix, 20), clean(group, 22));
    Ok(format!(
        "{prefix}-{group}-{}-{:02x}{:02x}",
        chrono::Utc::now().format("%Y%m%d%H%M%S"),
        b[0],
        b[1]
    ))
}

/// `s3://bucket/key` → `(bucket, key)`.
fn split_s3(uri: &str) -> Option<(&str, &str)> {
    uri.strip_prefix("s3://")?.split_once('/')
}

/// The files of `model.tar.gz`.
fn untar(bytes: &[u8]) -> std::result::Result<BTreeMap<String, Vec<u8>>, String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut out = BTreeMap::new();
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path().map_err(|e| e.to_string())?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if name.is_empty() || !entry.header().entry_type().is_file() {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        out.insert(name, bytes);
    }
    Ok(out)
}

impl AwsJobs {
    /// Jobs on the functions and images of `config`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        s3: S3Store,
        lambda: aws_sdk_lambda::Client,
        sagemaker: aws_sdk_sagemaker::Client,
        logs: aws_sdk_cloudwatchlogs::Client,
        config: ComputeConfig,
        registry: Arc<dyn Registry>,
        audit: Arc<dyn Audit>,
        identity: Arc<dyn Identity>,
    ) -> AwsJobs {
        AwsJobs {
            s3,
            lambda,
            sagemaker,
            logs,
            config,
            registry,
            audit,
            identity,
        }
    }

    /// The configured resources with a request's overrides, checked.
    fn resources(&self, r: Option<&TrainingResources>) -> Result<ComputeConfig> {
        let mut c = self.config.clone();
        if let Some(r) = r {
            if let Some(t) = r
                .instance_type
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
            {
                if !t.starts_with("ml.") {
                    return Err(BackendError::invalid_input(format!(
                        "instance type {t:?} is not a SageMaker training instance type (ml.m5.large, ml.c5.xlarge, …)"
                    )));
                }
                c.instance_type = t.to_string();
            }
            if let Some(s) = r.spot {
                c.spot = s;
            }
            if let Some(m) = r.max_runtime_s {
                if !(60..=432_000).contains(&m) {
                    return Err(BackendError::invalid_input(format!(
                        "max runtime {m} s is outside 60 to 432000 seconds"
                    )));
                }
                c.max_runtime_s = m;
            }
        }
        Ok(c)
    }

    fn save(&self, record: &JobRecord) -> Result<()> {
        let bytes = serde_json::to_vec(record)
            .map_err(|e| BackendError::refused(format!("the job does not serialise: {e}")))?;
        self.s3
            .put_json(Bucket::Clean, &etl::progress_key(&record.job.id), bytes)
    }

    fn record(&self, id: &str) -> Result<JobRecord> {
        if id.is_empty() || id.contains('/') || id.contains("..") {
            return Err(BackendError::not_found(format!("there is no job {id:?}")));
        }
        etl::read_record(&self.s3, id)?
            .ok_or_else(|| BackendError::not_found(format!("there is no job {id}")))
    }

    /// Starts the ETL Lambda on a request (an asynchronous Invoke).
    fn invoke(&self, request: &JobRequest, actor: &str) -> Result<String> {
        let payload = serde_json::to_vec(&JobPayload {
            request: request.clone(),
            actor: actor.to_string(),
        })
        .map_err(|e| BackendError::refused(format!("the request does not serialise: {e}")))?;
        let (lambda, function) = (self.lambda.clone(), self.config.etl_function.clone());
        block_on(async move {
            let what = format!("start the ETL function {function}");
            let out = lambda
                .invoke()
                .function_name(&function)
                .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
                .payload(Blob::new(payload))
                .send()
                .await
                .map_err(fail("lambda:InvokeFunction", &what))?;
            use aws_sdk_lambda::operation::RequestId;
            out.request_id().map(str::to_string).ok_or_else(|| {
                BackendError::refused(format!(
                    "Lambda accepted the job but gave no request id ({function})"
                ))
            })
        })
    }

    /// Creates the SageMaker training job of a request.
    fn create_training(
        &self,
        name: &str,
        features_key: &str,
        group: &str,
        spec: &TrainingSpec,
        resources: &ComputeConfig,
    ) -> Result<()> {
        let c = resources.clone();
        let (sm, name) = (self.sagemaker.clone(), name.to_string());
        let input = format!("s3://{}/{features_key}", self.s3.bucket_name(Bucket::Clean));
        let output = format!(
            "s3://{}/{}",
            self.s3.bucket_name(Bucket::Models),
            c.training_prefix
        );
        let hyper: std::collections::HashMap<String, String> =
            spec.to_hyperparameters().into_iter().collect();
        let tags = vec![
            Tag::builder()
                .key(TAG_ACTOR)
                .value(&spec.trained_by)
                .build(),
            Tag::builder().key(TAG_GROUP).value(group).build(),
            Tag::builder()
                .key("tablero:features")
                .value(features_key)
                .build(),
        ];
        block_on(async move {
            let what = format!("create the training job {name}");
            let metrics = METRIC_DEFINITIONS
                .iter()
                .map(|(n, re)| MetricDefinition::builder().name(*n).regex(*re).build())
                .collect::<Vec<_>>();
            let algorithm = AlgorithmSpecification::builder()
                .training_image(&c.training_image)
                .training_input_mode(TrainingInputMode::File)
                .set_metric_definitions(Some(metrics))
                .build();
            let channel = Channel::builder()
                .channel_name("train")
                .data_source(
                    DataSource::builder()
                        .s3_data_source(
                            S3DataSource::builder()
                                .s3_data_type(S3DataType::S3Prefix)
                                .s3_uri(&input)
                                .s3_data_distribution_type(S3DataDistribution::FullyReplicated)
                                .build(),
                        )
                        .build(),
                )
                .build();
            let mut stopping = StoppingCondition::builder().max_runtime_in_seconds(c.max_runtime_s);
            if c.spot {
                // Spot waits at most as long again as the job may run.
                stopping = stopping.max_wait_time_in_seconds(c.max_runtime_s.saturating_mul(2));
            }
            sm.create_training_job()
                .training_job_name(&name)
                .algorithm_specification(algorithm)
                .role_arn(&c.training_role_arn)
                .input_data_config(channel)
                .output_data_config(OutputDataConfig::builder().s3_output_path(&output).build())
                .resource_config(
                    ResourceConfig::builder()
                        .instance_type(TrainingInstanceType::from(c.instance_type.as_str()))
                        .instance_count(1)
                        .volume_size_in_gb(c.volume_gb)
                        .build(),
                )
                .stopping_condition(stopping.build())
                .enable_managed_spot_training(c.spot)
                .set_hyper_parameters(Some(hyper))
                .environment("TABLERO_DATASET_URI", &input)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(fail("sagemaker:CreateTrainingJob", &what))?;
            Ok(())
        })
    }

    /// DescribeTrainingJob.
    pub fn describe_training(&self, name: &str) -> Result<TrainingState> {
        let (sm, name) = (self.sagemaker.clone(), name.to_string());
        block_on(async move {
            let what = format!("read the training job {name}");
            let out = sm
                .describe_training_job()
                .training_job_name(&name)
                .send()
                .await
                .map_err(|e| {
                    if is_not_found(&e) {
                        BackendError::not_found(format!("there is no training job {name}"))
                    } else {
                        fail("sagemaker:DescribeTrainingJob", &what)(e)
                    }
                })?;
            Ok(TrainingState {
                status: out
                    .training_job_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                secondary: out
                    .secondary_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                transitions: out
                    .secondary_status_transitions()
                    .iter()
                    .map(|t| {
                        (
                            t.status()
                                .map(|s| s.as_str().to_string())
                                .unwrap_or_default(),
                            t.start_time()
                                .map(|d| crate::clients::rfc3339(Some(d)))
                                .unwrap_or_default(),
                            t.status_message().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
                failure: out.failure_reason().map(str::to_string),
                artifact: out
                    .model_artifacts()
                    .and_then(|m| m.s3_model_artifacts().map(str::to_string)),
                arn: out.training_job_arn().unwrap_or_default().to_string(),
            })
        })
    }

    /// The training job's tags.
    fn training_tags(&self, arn: &str) -> Result<BTreeMap<String, String>> {
        let (sm, arn) = (self.sagemaker.clone(), arn.to_string());
        block_on(async move {
            let what = format!("read the tags of {arn}");
            let out = sm
                .list_tags()
                .resource_arn(&arn)
                .send()
                .await
                .map_err(fail("sagemaker:ListTags", &what))?;
            Ok(out
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect())
        })
    }

    /// Registers a completed training job's model as the job's creator.
    fn register_completed(&self, record: &mut JobRecord, state: &TrainingState) -> Result<()> {
        let id = record.job.id.clone();
        let JobRequest::Train {
            features_key,
            group,
            ..
        } = record.job.params.clone()
        else {
            return Err(BackendError::refused(format!(
                "job {id} is not a training job"
            )));
        };
        let no_artifact = |why: &str| {
            BackendError::refused(format!(
                "SageMaker reports training job {id} Completed, but {why}; nothing was registered"
            ))
        };
        let uri = state
            .artifact
            .clone()
            .ok_or_else(|| no_artifact("it names no model artifact"))?;
        let (bucket, key) = split_s3(&uri)
            .ok_or_else(|| no_artifact(&format!("its artifact {uri} is not an S3 URI")))?;
        if bucket != self.s3.bucket_name(Bucket::Models) {
            return Err(no_artifact(&format!(
                "its artifact {uri} is outside the models bucket"
            )));
        }
        let bytes = match self.s3.read_tagged(Bucket::Models, key)? {
            Some((b, _)) => b,
            None => return Err(no_artifact(&format!("it wrote no model artifact at {uri}"))),
        };
        let files = untar(&bytes).map_err(|e| {
            no_artifact(&format!(
                "its artifact {uri} is not a readable model.tar.gz ({e})"
            ))
        })?;
        let artifact = files
            .get(MODEL_FILE)
            .ok_or_else(|| no_artifact(&format!("{uri} holds no {MODEL_FILE}")))?;
        let mut trained: Trained = files
            .get(TRAINED_FILE)
            .ok_or_else(|| no_artifact(&format!("{uri} holds no {TRAINED_FILE}")))
            .and_then(|b| {
                serde_json::from_slice(b).map_err(|e| {
                    no_artifact(&format!("{uri}'s {TRAINED_FILE} is unreadable ({e})"))
                })
            })?;
        // The version is the creator's, whoever opens the job.
        let tags = self.training_tags(&state.arn)?;
        let creator = tags
            .get(TAG_ACTOR)
            .cloned()
            .unwrap_or_else(|| record.job.actor.clone());
        trained.card.trained_by = creator.clone();
        trained.card.group = group.clone();
        trained.card.dataset.uri = self.s3.uri(Bucket::Clean, &features_key);
        // One registration, whoever gets there first.
        let claim = format!("{}{id}/registering", etl::JOBS_PREFIX);
        if !self
            .s3
            .put_if_absent(Bucket::Clean, &claim, creator.clone().into_bytes())?
        {
            record.job.phase = "registering".into();
            return Ok(());
        }
        let version = match self
            .registry
            .register(&group, trained.card.clone(), artifact)
        {
            Ok(v) => v,
            Err(e) => {
                let _ = self.s3.remove(Bucket::Clean, &claim);
                return Err(e);
            }
        };
        let report = stages::train_report(&trained, &version);
        record.log(
            LogLevel::Info,
            &format!(
                "registered {group} version {} (PendingManualApproval) as {creator}",
                version.version
            ),
        );
        let job = &mut record.job;
        job.status = JobStatus::Succeeded;
        job.progress = 1.0;
        job.phase = "done".into();
        job.finished_at = Some(now());
        job.output = Some(version.artifact.clone());
        job.report = Some(StageReport::Train(Box::new(report)));
        Ok(())
    }

    /// A training job's record brought up to date with SageMaker.
    fn refresh_training(&self, record: &mut JobRecord) -> Result<()> {
        let state = self.describe_training(&record.job.id)?;
        for (status, at, message) in &state.transitions {
            let line = if message.is_empty() {
                format!("SageMaker: {status}")
            } else {
                format!("SageMaker: {status}: {message}")
            };
            if !record.logs.iter().any(|l| l.message == line) {
                record.logs.push(LogLine {
                    at: if at.is_empty() { now() } else { at.clone() },
                    level: LogLevel::Info,
                    message: line,
                });
            }
        }
        let job = &mut record.job;
        if job.started_at.is_none() && !state.status.is_empty() {
            job.started_at = Some(now());
        }
        job.phase = if state.secondary.is_empty() {
            state.status.clone()
        } else {
            state.secondary.clone()
        };
        match state.status.as_str() {
            "InProgress" | "Stopping" => {
                job.status = JobStatus::Running;
                job.progress = training_fraction(&state.secondary);
            }
            "Completed" => {
                job.status = JobStatus::Running;
                job.progress = 0.95;
                if let Err(e) = self.register_completed(record, &state) {
                    let msg = e.to_string();
                    record.log(LogLevel::Error, &msg);
                    let job = &mut record.job;
                    job.status = JobStatus::Failed;
                    job.error = Some(msg);
                    job.finished_at = Some(now());
                }
            }
            "Failed" => {
                let msg = format!(
                    "the training job failed: {}",
                    state
                        .failure
                        .as_deref()
                        .unwrap_or("SageMaker gave no reason")
                );
                job.status = JobStatus::Failed;
                job.error = Some(msg.clone());
                job.finished_at = Some(now());
                record.log(LogLevel::Error, &msg);
            }
            "Stopped" => {
                job.status = JobStatus::Cancelled;
                job.error = Some("stopped; nothing was registered".into());
                job.finished_at = Some(now());
                record.log(LogLevel::Warn, "stopped; nothing was registered");
            }
            _ => {}
        }
        Ok(())
    }

    /// An ETL job's record brought up to date: its manifest if it ended
    /// (finishing the copy of its outputs if that was cut short), or a
    /// failure when Lambda ended the invocation without one.
    fn refresh_etl(&self, record: &mut JobRecord) -> Result<()> {
        let id = record.job.id.clone();
        if let Some(m) = etl::read_manifest(&self.s3, &id)? {
            etl::publish(&self.s3, &m)?;
            etl::apply_manifest(record, &m);
            return Ok(());
        }
        let since = record
            .job
            .started_at
            .as_deref()
            .unwrap_or(&record.job.created_at);
        let age = chrono::DateTime::parse_from_rfc3339(since)
            .map(|t| chrono::Utc::now().signed_duration_since(t).num_seconds())
            .unwrap_or(0);
        if age > etl::LAMBDA_MAX_SECONDS as i64 + 120 {
            let msg = format!(
                "the ETL function ended without a result ({}s after the job started; Lambda stops an invocation at {} s or when it runs out of memory): see its log in CloudWatch Logs, /aws/lambda/{}; nothing was written",
                age,
                etl::LAMBDA_MAX_SECONDS,
                self.config.etl_function
            );
            // The failure is the job's end: a late invocation cannot commit.
            let manifest = etl::Manifest {
                job_id: id.clone(),
                status: JobStatus::Failed,
                input: record.job.input.clone(),
                input_version: String::new(),
                stages: vec![record.job.params.clone()],
                outputs: Vec::new(),
                tables: Vec::new(),
                reports: Vec::new(),
                error: Some(msg.clone()),
                finished_at: now(),
            };
            let bytes = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
            if !self
                .s3
                .put_if_absent(Bucket::Clean, &etl::manifest_key(&id), bytes)?
            {
                return self.refresh_etl(record);
            }
            etl::apply_manifest(record, &manifest);
            record.log(LogLevel::Error, &msg);
        }
        Ok(())
    }

    fn refresh(&self, id: &str) -> Result<JobRecord> {
        let mut record = self.record(id)?;
        if record.job.status.is_final() {
            return Ok(record);
        }
        let before = record.clone();
        match record.job.kind {
            JobKind::Train => self.refresh_training(&mut record)?,
            _ => self.refresh_etl(&mut record)?,
        }
        if record != before {
            self.save(&record)?;
        }
        Ok(record)
    }

    /// The training job's log lines from CloudWatch Logs.
    fn training_logs(&self, name: &str) -> Result<Vec<LogLine>> {
        let (logs, name) = (self.logs.clone(), name.to_string());
        block_on(async move {
            let what = format!("read the log of training job {name}");
            let mut out = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page = match logs
                    .filter_log_events()
                    .log_group_name(TRAINING_LOG_GROUP)
                    .log_stream_name_prefix(format!("{name}/"))
                    .set_next_token(token.clone())
                    .send()
                    .await
                {
                    Ok(p) => p,
                    // No log yet: the job has not started its container.
                    Err(e) if is_not_found(&e) => return Ok(out),
                    Err(e) => return Err(fail("logs:FilterLogEvents", &what)(e)),
                };
                for e in page.events() {
                    let at = e
                        .timestamp()
                        .and_then(chrono::DateTime::from_timestamp_millis)
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                        .unwrap_or_default();
                    let message = e.message().unwrap_or_default().trim_end().to_string();
                    let level = if message.starts_with("[error]") {
                        LogLevel::Error
                    } else if message.starts_with("[warn]") {
                        LogLevel::Warn
                    } else {
                        LogLevel::Info
                    };
                    out.push(LogLine { at, level, message });
                }
                match page.next_token() {
                    Some(t) if out.len() < 10_000 && token.as_deref() != Some(t) => {
                        token = Some(t.to_string())
                    }
                    _ => break,
                }
            }
            Ok(out)
        })
    }

    fn stop_training(&self, name: &str) -> Result<()> {
        let (sm, name) = (self.sagemaker.clone(), name.to_string());
        block_on(async move {
            let what = format!("stop the training job {name}");
            sm.stop_training_job()
                .training_job_name(&name)
                .send()
                .await
                .map_err(fail("sagemaker:StopTrainingJob", &what))?;
            Ok(())
        })
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl JobRunner for AwsJobs {
    fn submit(&self, request: JobRequest) -> Result<Job> {
        let actor = self.identity.actor();
        // Where a training job runs: the configured defaults and the
        // request's overrides.
        let mut ran_on = None;
        let (id, input) = match &request {
            JobRequest::Train {
                features_key,
                group,
                config,
                resources,
            } => {
                let name = training_job_name(&self.config.job_prefix, group)?;
                let spec = TrainingSpec {
                    group: group.clone(),
                    trained_by: actor.clone(),
                    config: config.clone(),
                };
                let c = self.resources(resources.as_ref())?;
                self.create_training(&name, features_key, group, &spec, &c)?;
                ran_on = Some(c);
                (
                    name,
                    ObjectRef {
                        bucket: Bucket::Clean,
                        key: features_key.clone(),
                    },
                )
            }
            JobRequest::Clean { raw_key, .. } => (
                self.invoke(&request, &actor)?,
                ObjectRef {
                    bucket: Bucket::Raw,
                    key: raw_key.clone(),
                },
            ),
            JobRequest::Features { clean_key, .. } => (
                self.invoke(&request, &actor)?,
                ObjectRef {
                    bucket: Bucket::Clean,
                    key: clean_key.clone(),
                },
            ),
        };
        let mut record = etl::new_record(&id, &actor, &input, &request);
        if let Some(c) = &ran_on {
            record.log(
                LogLevel::Info,
                &format!(
                    "created SageMaker training job {id} ({}, {}max {} s)",
                    c.instance_type,
                    if c.spot { "managed spot, " } else { "" },
                    c.max_runtime_s
                ),
            );
        } else {
            record.log(
                LogLevel::Info,
                &format!("invoked {} (request {id})", self.config.etl_function),
            );
        }
        // The function may already have written its own record.
        let bytes = serde_json::to_vec(&record)
            .map_err(|e| BackendError::refused(format!("the job does not serialise: {e}")))?;
        self.s3
            .put_if_absent(Bucket::Clean, &etl::progress_key(&id), bytes)?;
        self.audit
            .append_audit(&AuditEvent::new("job.submit", id.as_str()).after(format!(
                "{} {}/{} on {}",
                record.job.kind.name(),
                input.bucket,
                input.key,
                if record.job.kind == JobKind::Train {
                    "SageMaker"
                } else {
                    "Lambda"
                }
            )))?;
        Ok(self.refresh(&id).map(|r| r.job).unwrap_or(record.job))
    }

    fn run(&self, id: &str, observe: &dyn Fn(&Job)) -> Result<Job> {
        let mut last: Option<Job> = None;
        loop {
            let record = self.refresh(id)?;
            if last.as_ref() != Some(&record.job) {
                observe(&record.job);
                last = Some(record.job.clone());
            }
            if record.job.status.is_final() {
                return Ok(record.job);
            }
            let poll = if record.job.kind == JobKind::Train {
                self.config.poll_s
            } else {
                1
            };
            std::thread::sleep(Duration::from_secs(poll.max(1)));
        }
    }

    fn job(&self, id: &str) -> Result<Job> {
        Ok(self.refresh(id)?.job)
    }

    fn jobs(&self, limit: usize) -> Result<Vec<Job>> {
        let mut keys: Vec<(String, String)> = self
            .s3
            .keys(Bucket::Clean, etl::JOBS_PREFIX, None)?
            .into_iter()
            .filter(|(k, _)| k.ends_with("/progress.json"))
            .collect();
        keys.sort_by(|a, b| b.1.cmp(&a.1));
        let mut out = Vec::new();
        for (key, _) in keys {
            let id = key
                .trim_start_matches(etl::JOBS_PREFIX)
                .trim_end_matches("/progress.json");
            match self.refresh(id) {
                Ok(r) => out.push(r.job),
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        out.truncate(limit);
        Ok(out)
    }

    fn logs(&self, id: &str) -> Result<Vec<LogLine>> {
        let record = self.refresh(id)?;
        let mut logs = record.logs;
        if record.job.kind == JobKind::Train {
            match self.training_logs(id) {
                Ok(lines) => logs.extend(lines),
                Err(e) => logs.push(LogLine {
                    at: now(),
                    level: LogLevel::Warn,
                    message: format!("the training job's own log is not shown: {e}"),
                }),
            }
            logs.sort_by(|a, b| a.at.cmp(&b.at));
        }
        Ok(logs)
    }

    fn cancel(&self, id: &str) -> Result<Job> {
        let before = self.refresh(id)?;
        if before.job.status.is_final() {
            return Err(BackendError::refused(format!(
                "job {id} has already ended ({})",
                before.job.status.name()
            )));
        }
        if before.job.kind == JobKind::Train {
            self.stop_training(id)?;
        } else {
            self.s3
                .put_json(Bucket::Clean, &etl::cancel_key(id), b"{}".to_vec())?;
        }
        self.audit.append_audit(
            &AuditEvent::new("job.cancel", id)
                .before(before.job.status.name())
                .after("cancel requested"),
        )?;
        Ok(self.refresh(id)?.job)
    }

    fn remote_training(&self) -> Option<TrainingResources> {
        Some(TrainingResources {
            instance_type: Some(self.config.instance_type.clone()),
            spot: Some(self.config.spot),
            max_runtime_s: Some(self.config.max_runtime_s),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_job_names_fit_sagemaker() {
        let n = training_job_name(
            "a-stack-name-that-is-long",
            "a_very_long group name with spaces and more",
        )
        .unwrap();
        assert!(n.len() <= 63, "{n}");
        assert!(
            n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{n}"
        );
        assert!(
            n.starts_with("a-stack-name-that-is-a-very-long-group"),
            "{n}"
        );
    }

    #[test]
    fn model_tarballs_are_read() {
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        let mut header = tar::Header::new_gnu();
        header.set_size(2);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, "./model.json", &b"{}"[..])
            .unwrap();
        let gz = tar.into_inner().unwrap().finish().unwrap();
        let files = untar(&gz).unwrap();
        assert_eq!(files.get("model.json").map(Vec::as_slice), Some(&b"{}"[..]));
        assert!(untar(b"not a tarball").is_err());
    }

    #[test]
    fn s3_uris_split() {
        assert_eq!(split_s3("s3://b/k/x.tar.gz"), Some(("b", "k/x.tar.gz")));
        assert_eq!(split_s3("https://b/k"), None);
    }
}
