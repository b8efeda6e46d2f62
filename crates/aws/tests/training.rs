//! Training on SageMaker: the create, describe and list calls over the
//! wire against moto (whose jobs complete at once with no artifact), and
//! the job's life (InProgress → Completed / Failed / Stopped, secondary
//! statuses, stop) with SageMaker mocked, the buckets and the registry
//! still moto's: a completed job is registered as its creator, who cannot
//! approve it.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use aws_sdk_sagemaker::types::{
    ModelArtifacts, SecondaryStatus, SecondaryStatusTransition, Tag, TrainingJobStatus,
};
use aws_smithy_mocks::mock;
use support::{admin_credentials, assume, config, mocked, provision, workspace, Moto};
use tablero_aws::compute::{AwsJobs, TAG_ACTOR};
use tablero_aws::config::ComputeConfig;
use tablero_aws::{AwsConfig, Clients};
use tablero_core::clean::Preset;
use tablero_core::ingest::CsvOptions;
use tablero_core::job::{JobRequest, JobStatus};
use tablero_core::ports::{put_bytes, Backend, JobRunner, Role};
use tablero_core::stages::StageReport;
use tablero_core::store::{Bucket, ObjectKey};
use tablero_core::train::container::TrainingSpec;
use tablero_core::train::models::Algorithm;
use tablero_core::train::TrainConfig;

const FEATURES: &str = "retail/features.parquet";

fn compute() -> ComputeConfig {
    ComputeConfig {
        etl_function: "tablero-etl".into(),
        lambda_endpoint_url: None,
        training_image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/tablero-train:1".into(),
        training_role_arn: "arn:aws:iam::123456789012:role/tablero-sagemaker".into(),
        instance_type: "ml.m5.large".into(),
        volume_gb: 10,
        max_runtime_s: 1800,
        spot: true,
        training_prefix: "training/".into(),
        poll_s: 1,
        job_prefix: "tablero".into(),
    }
}

fn train_config() -> TrainConfig {
    TrainConfig {
        folds: 3,
        seed: 11,
        candidates: vec![Algorithm::Lr, Algorithm::Tree],
        ..TrainConfig::default()
    }
}

/// Standard features of the sample, made on this machine.
fn local_features() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let ws = tablero_local::Workspace::init(&dir.path().join("ws"))
        .unwrap()
        .into_backend();
    let csv = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/sample/online_retail_sample.csv");
    tablero_app::data::upload(
        &ws,
        &csv,
        Some("s.csv"),
        &CsvOptions::default(),
        false,
        &|_, _| {},
        &|| false,
    )
    .unwrap();
    let run = |r: JobRequest| {
        let j = ws.jobs.submit(r).unwrap();
        ws.jobs.run(&j.id, &|_| {}).unwrap()
    };
    let clean = run(JobRequest::Clean {
        raw_key: "s.csv".into(),
        preset: Preset::Standard,
        out_key: None,
    });
    let f = run(JobRequest::Features {
        clean_key: clean.output.unwrap().key,
        preset: Preset::Standard,
        cutoff: None,
        horizon_days: 90,
        out_key: None,
    });
    ws.store
        .read(
            Bucket::Clean,
            &ObjectKey::new(&f.output.unwrap().key).unwrap(),
        )
        .unwrap()
}

/// A team on moto with jobs on AWS: the trainer's and the approver's
/// backends, the features table in the clean bucket.
struct Team {
    _dir: tempfile::TempDir,
    cfg: AwsConfig,
    trainer: Backend,
    approver: Backend,
    features: Vec<u8>,
}

fn team(tag: &str) -> Team {
    let moto = Moto::shared();
    let admin = admin_credentials();
    let mut cfg = provision(config(&moto.url, tag), &admin);
    cfg.compute = Some(compute());
    let s = support::suffix();
    let (trainer_role, approver_role) = (
        format!("tablero-trainer-{s}"),
        format!("tablero-approver-{s}"),
    );
    cfg.roles
        .insert(trainer_role.clone(), vec![Role::Analyst, Role::MlLead]);
    cfg.roles.insert(approver_role.clone(), vec![Role::MlLead]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    workspace(&root, &cfg);
    let trainer =
        tablero_aws::open(&root, Some(assume(&cfg, &admin, &trainer_role, "trainer"))).unwrap();
    let approver = tablero_aws::open(
        &root,
        Some(assume(&cfg, &admin, &approver_role, "approver")),
    )
    .unwrap();
    let features = local_features();
    put_bytes(
        trainer.store.as_ref(),
        Bucket::Clean,
        &ObjectKey::new(FEATURES).unwrap(),
        &features,
        &BTreeMap::new(),
    )
    .unwrap();
    Team {
        _dir: dir,
        cfg,
        trainer,
        approver,
        features,
    }
}

fn request() -> JobRequest {
    JobRequest::Train {
        features_key: FEATURES.into(),
        group: "default".into(),
        config: train_config(),
        resources: None,
    }
}

#[test]
fn training_jobs_are_created_described_and_listed_over_the_wire() {
    let t = team("sm");
    let job = tablero_app::jobs::submit(&t.trainer, request()).unwrap();
    assert!(job.id.starts_with("tablero-default-"), "{}", job.id);
    assert_eq!(job.actor, t.trainer.identity.actor());
    // moto completes the job at once and writes no model: said in words.
    let done = t.trainer.jobs.run(&job.id, &|_| {}).unwrap();
    assert_eq!(done.status, JobStatus::Failed);
    let error = done.error.unwrap();
    assert!(
        error.contains(&format!("SageMaker reports training job {} Completed, but it wrote no model artifact at s3://{}/training/", job.id, t.cfg.buckets.models))
            && error.ends_with("nothing was registered"),
        "{error}"
    );
    assert!(t
        .trainer
        .registry
        .versions("default", None)
        .unwrap()
        .is_empty());

    // What SageMaker was asked for.
    let clients = Clients::new(&t.cfg, Some(admin_credentials())).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (described, tags, listed) = rt.block_on(async {
        let d = clients
            .sagemaker
            .describe_training_job()
            .training_job_name(&job.id)
            .send()
            .await
            .unwrap();
        let tags = clients
            .sagemaker
            .list_tags()
            .resource_arn(d.training_job_arn().unwrap())
            .send()
            .await
            .unwrap();
        let listed = clients
            .sagemaker
            .list_training_jobs()
            .name_contains("tablero-default")
            .send()
            .await
            .unwrap();
        (d, tags, listed)
    });
    let spec = TrainingSpec {
        group: "default".into(),
        trained_by: t.trainer.identity.actor(),
        config: train_config(),
    };
    let hyper: BTreeMap<String, String> = described
        .hyper_parameters()
        .unwrap()
        .clone()
        .into_iter()
        .collect();
    assert_eq!(hyper, spec.to_hyperparameters());
    let algorithm = described.algorithm_specification().unwrap();
    assert_eq!(
        algorithm.training_image(),
        Some(compute().training_image.as_str())
    );
    // (moto replaces the metric definitions with its own; their regexes
    // are checked against the entry point's lines in tablero-trainer.)
    assert_eq!(described.enable_managed_spot_training(), Some(true));
    assert_eq!(
        described
            .stopping_condition()
            .unwrap()
            .max_wait_time_in_seconds(),
        Some(3600)
    );
    let channel = &described.input_data_config()[0];
    assert_eq!(channel.channel_name(), Some("train"));
    assert_eq!(
        channel
            .data_source()
            .unwrap()
            .s3_data_source()
            .unwrap()
            .s3_uri(),
        Some(format!("s3://{}/{FEATURES}", t.cfg.buckets.clean).as_str())
    );
    assert_eq!(
        described
            .stopping_condition()
            .unwrap()
            .max_runtime_in_seconds(),
        Some(1800)
    );
    let tags: BTreeMap<_, _> = tags
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect();
    assert_eq!(tags.get(TAG_ACTOR), Some(&t.trainer.identity.actor()));
    assert!(listed
        .training_job_summaries()
        .iter()
        .any(|s| s.training_job_name() == Some(job.id.as_str())));

    // The panel's list and log.
    let jobs = t.trainer.jobs.jobs(10).unwrap();
    assert_eq!(jobs[0].id, job.id);
    let logs = t.trainer.jobs.logs(&job.id).unwrap();
    assert!(
        logs.iter()
            .any(|l| l.message.starts_with("created SageMaker training job")),
        "{logs:?}"
    );
    assert!(
        logs.iter().any(|l| l.message.contains("no model artifact")),
        "{logs:?}"
    );
    assert!(t
        .trainer
        .jobs
        .cancel(&job.id)
        .unwrap_err()
        .to_string()
        .contains("already ended"));
}

/// The model the training container would have uploaded: the entry point
/// run on an `/opt/ml` folder, its `model/` as `model.tar.gz`.
fn model_tarball(features: &[u8], actor: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("input/config")).unwrap();
    std::fs::create_dir_all(root.join("input/data/train")).unwrap();
    let spec = TrainingSpec {
        group: "default".into(),
        trained_by: actor.into(),
        config: train_config(),
    };
    std::fs::write(
        root.join("input/config/hyperparameters.json"),
        serde_json::to_vec(&spec.to_hyperparameters()).unwrap(),
    )
    .unwrap();
    std::fs::write(root.join("input/data/train/features.parquet"), features).unwrap();
    tablero_trainer::train(root, &mut std::io::sink()).unwrap();
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    tar.append_dir_all(".", root.join("model")).unwrap();
    tar.into_inner().unwrap().finish().unwrap()
}

fn state(
    status: TrainingJobStatus,
    secondary: SecondaryStatus,
    artifact: Option<&str>,
    failure: Option<&str>,
) -> aws_sdk_sagemaker::operation::describe_training_job::DescribeTrainingJobOutput {
    let mut transitions = vec![SecondaryStatusTransition::builder()
        .status(SecondaryStatus::Starting)
        .start_time(aws_smithy_types::DateTime::from_secs(1_700_000_000))
        .status_message("Preparing the instances for training")
        .build()];
    if secondary != SecondaryStatus::Starting {
        transitions.push(
            SecondaryStatusTransition::builder()
                .status(secondary.clone())
                .start_time(aws_smithy_types::DateTime::from_secs(1_700_000_100))
                .status_message(format!("now {}", secondary.as_str()))
                .build(),
        );
    }
    aws_sdk_sagemaker::operation::describe_training_job::DescribeTrainingJobOutput::builder()
        .training_job_name("job")
        .training_job_arn("arn:aws:sagemaker:us-east-1:123456789012:training-job/job")
        .training_job_status(status)
        .secondary_status(secondary)
        .set_secondary_status_transitions(Some(transitions))
        .set_failure_reason(failure.map(str::to_string))
        .set_model_artifacts(
            artifact.map(|a| ModelArtifacts::builder().s3_model_artifacts(a).build()),
        )
        .build()
}

fn jobs_with(t: &Team, who: &Backend, sagemaker: aws_sdk_sagemaker::Client) -> AwsJobs {
    let clients = Clients::new(&t.cfg, Some(admin_credentials())).unwrap();
    AwsJobs::new(
        tablero_aws::s3::S3Store::new(clients.s3.clone(), t.cfg.buckets.clone()),
        clients.lambda.clone(),
        sagemaker,
        clients.logs.clone(),
        compute(),
        who.registry.clone(),
        who.audit.clone(),
        who.identity.clone(),
    )
}

#[test]
fn a_completed_training_job_is_registered_as_its_creator_who_cannot_approve_it() {
    let t = team("life");
    let creator = t.trainer.identity.actor();
    let artifact_key = "training/job/output/model.tar.gz";
    put_bytes(
        t.trainer.store.as_ref(),
        Bucket::Models,
        &ObjectKey::new(artifact_key).unwrap(),
        &model_tarball(&t.features, "someone-else"),
        &BTreeMap::new(),
    )
    .unwrap();
    let uri = format!("s3://{}/{artifact_key}", t.cfg.buckets.models);
    let create = mock!(aws_sdk_sagemaker::Client::create_training_job).then_output(|| {
        aws_sdk_sagemaker::operation::create_training_job::CreateTrainingJobOutput::builder()
            .training_job_arn("arn:aws:sagemaker:us-east-1:123456789012:training-job/job")
            .build()
    });
    let uri2 = uri.clone();
    let describe = mock!(aws_sdk_sagemaker::Client::describe_training_job)
        .sequence()
        .output(|| {
            state(
                TrainingJobStatus::InProgress,
                SecondaryStatus::Starting,
                None,
                None,
            )
        })
        .output(|| {
            state(
                TrainingJobStatus::InProgress,
                SecondaryStatus::Training,
                None,
                None,
            )
        })
        .output(move || {
            state(
                TrainingJobStatus::Completed,
                SecondaryStatus::Completed,
                Some(&uri2),
                None,
            )
        })
        .repeatedly()
        .build();
    let actor = creator.clone();
    let tags = mock!(aws_sdk_sagemaker::Client::list_tags).then_output(move || {
        aws_sdk_sagemaker::operation::list_tags::ListTagsOutput::builder()
            .tags(Tag::builder().key(TAG_ACTOR).value(&actor).build())
            .build()
    });
    // Whoever follows the job (here the approver's panel), the version is
    // the creator's.
    let sm = mocked!(aws_sdk_sagemaker, [&create, &describe, &tags]);
    let creator_jobs = jobs_with(&t, &t.trainer, sm.clone());
    let job = creator_jobs.submit(request()).unwrap();
    assert_eq!(job.status, JobStatus::Running);
    assert_eq!(job.phase, "Starting");
    let follower = jobs_with(&t, &t.approver, sm);
    let seen = std::cell::RefCell::new(Vec::new());
    let done = follower
        .run(&job.id, &|j| {
            seen.borrow_mut().push((j.phase.clone(), j.progress))
        })
        .unwrap();
    assert_eq!(done.status, JobStatus::Succeeded, "{:?}", done.error);
    let phases: Vec<String> = seen.borrow().iter().map(|(p, _)| p.clone()).collect();
    assert!(
        phases.contains(&"Training".to_string())
            && phases.last().map(String::as_str) == Some("done"),
        "{phases:?}"
    );
    assert!(
        seen.borrow().windows(2).all(|w| w[0].1 <= w[1].1),
        "progress only grows"
    );
    let Some(StageReport::Train(report)) = &done.report else {
        panic!("a train report")
    };
    let version = t
        .trainer
        .registry
        .version("default", report.version)
        .unwrap();
    assert_eq!(
        version.created_by, creator,
        "registered as the job's creator"
    );
    assert_eq!(
        t.trainer
            .registry
            .card("default", report.version)
            .unwrap()
            .trained_by,
        creator
    );
    assert_eq!(
        version.dataset_uri,
        format!("s3://{}/{FEATURES}", t.cfg.buckets.clean)
    );
    let logs = follower.logs(&job.id).unwrap();
    assert!(
        logs.iter()
            .any(|l| l.message == "SageMaker: Training: now Training"),
        "{logs:?}"
    );
    assert!(
        logs.iter()
            .any(|l| l.message.contains(&format!("as {creator}"))),
        "{logs:?}"
    );
    // Registered once: following again changes nothing.
    assert_eq!(follower.job(&job.id).unwrap(), done);
    assert_eq!(
        t.trainer.registry.versions("default", None).unwrap().len(),
        1
    );

    // Four eyes: the creator cannot approve; another ML lead can.
    let err = tablero_app::models::approve(&t.trainer, "default", report.version, "mine", false)
        .unwrap_err();
    assert!(err.to_string().contains("four-eyes rule"), "{err}");
    tablero_app::models::approve(
        &t.approver,
        "default",
        report.version,
        "metrics fine",
        false,
    )
    .unwrap();
}

#[test]
fn failed_and_stopped_training_jobs_end_with_sagemakers_reason() {
    let t = team("fail");
    let create = mock!(aws_sdk_sagemaker::Client::create_training_job).then_output(|| {
        aws_sdk_sagemaker::operation::create_training_job::CreateTrainingJobOutput::builder()
            .training_job_arn("arn:x")
            .build()
    });
    let failed = mock!(aws_sdk_sagemaker::Client::describe_training_job).then_output(|| {
        state(
            TrainingJobStatus::Failed,
            SecondaryStatus::Failed,
            None,
            Some("AlgorithmError: clean/x is not a features table"),
        )
    });
    let jobs = jobs_with(
        &t,
        &t.trainer,
        mocked!(aws_sdk_sagemaker, [&create, &failed]),
    );
    let job = jobs.submit(request()).unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(
        job.error.as_deref(),
        Some("the training job failed: AlgorithmError: clean/x is not a features table")
    );

    // Stop: StopTrainingJob, then Stopping, then Stopped (cancelled).
    let create = mock!(aws_sdk_sagemaker::Client::create_training_job).then_output(|| {
        aws_sdk_sagemaker::operation::create_training_job::CreateTrainingJobOutput::builder()
            .training_job_arn("arn:x")
            .build()
    });
    let describe = mock!(aws_sdk_sagemaker::Client::describe_training_job)
        .sequence()
        .output(|| {
            state(
                TrainingJobStatus::InProgress,
                SecondaryStatus::Training,
                None,
                None,
            )
        })
        .times(2)
        .output(|| {
            state(
                TrainingJobStatus::Stopping,
                SecondaryStatus::Stopping,
                None,
                None,
            )
        })
        .output(|| {
            state(
                TrainingJobStatus::Stopped,
                SecondaryStatus::Stopped,
                None,
                None,
            )
        })
        .repeatedly()
        .build();
    let stop = mock!(aws_sdk_sagemaker::Client::stop_training_job).then_output(|| {
        aws_sdk_sagemaker::operation::stop_training_job::StopTrainingJobOutput::builder().build()
    });
    let jobs = jobs_with(
        &t,
        &t.trainer,
        mocked!(aws_sdk_sagemaker, [&create, &describe, &stop]),
    );
    let job = jobs.submit(request()).unwrap();
    assert_eq!(job.status, JobStatus::Running);
    jobs.cancel(&job.id).unwrap();
    assert_eq!(stop.num_calls(), 1);
    let done = jobs.run(&job.id, &|_| {}).unwrap();
    assert_eq!(done.status, JobStatus::Cancelled);
    assert!(t
        .trainer
        .registry
        .versions("default", None)
        .unwrap()
        .is_empty());
    let _ = Arc::clone(&t.trainer.registry);
}
