//! The ETL Lambda: this build's `bootstrap` under a local Lambda
//! (scripts/lambda-emulator.py: the Invoke and Runtime APIs on loopback)
//! against moto's S3, given real S3 notifications and panel jobs.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use support::etl::*;
use support::{admin_credentials, config, provision, workspace, LambdaEmulator, Moto};
use tablero_aws::etl::{self, Manifest};
use tablero_core::ingest::{self, CsvOptions};
use tablero_core::job::{JobRequest, JobStatus};
use tablero_core::preset::Preset;
use tablero_core::stages::StageReport;
use tablero_core::store::Bucket;

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/sample/online_retail_sample.csv")
}

fn setup(tag: &str) -> tablero_aws::AwsConfig {
    let moto = Moto::shared();
    provision(config(&moto.url, tag), &admin_credentials())
}

#[test]
fn an_object_created_notification_cleans_and_builds_features_as_a_local_job_does() {
    let cfg = setup("etl");
    let emulator = LambdaEmulator::start(&cfg, &[]);
    object_created_matches_local(&cfg, &emulator, &sample());
}

#[test]
fn a_bad_file_fails_with_the_upload_dialogs_message_and_nothing_visible() {
    let cfg = setup("bad");
    let emulator = LambdaEmulator::start(&cfg, &[]);
    let store = store(&cfg);
    let cases: [(&str, &[u8]); 3] = [
        ("one-column.csv", b"just one column\nA\nB\n"),
        ("no-dates.csv", b"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n1,A,x,1,not a date,1.0,1,UK\n"),
        ("empty.csv", b"\n\n"),
    ];
    for (key, bytes) in cases {
        let version = put_raw(&cfg, key, bytes.to_vec());
        let dialog = ingest::inspect(bytes, &CsvOptions::default())
            .map(|_| ())
            .unwrap_err()
            .to_string();
        let answer = emulator.invoke(&support::object_created(
            &cfg.buckets.raw,
            key,
            Some(&version),
        ));
        let m: Vec<Manifest> = manifests(&answer);
        assert_eq!(m[0].status, JobStatus::Failed, "{key}");
        assert_eq!(
            m[0].error.as_deref(),
            Some(dialog.as_str()),
            "{key}: the dialog's message"
        );
        assert!(m[0].outputs.is_empty());
        let record = etl::read_record(&store, &m[0].job_id).unwrap().unwrap();
        assert_eq!(record.job.status, JobStatus::Failed);
        assert!(
            record.logs.iter().any(|l| l.message == dialog),
            "{:?}",
            record.logs
        );
    }
    assert!(visible_clean_keys(&store).is_empty());
    let all = all_clean_keys(&store);
    assert!(
        all.iter()
            .all(|k| k.starts_with("jobs/") && !k.contains("/staging/")),
        "{all:?}"
    );
}

#[test]
fn tablero_s_own_objects_in_the_raw_bucket_are_not_data() {
    let cfg = setup("own");
    let emulator = LambdaEmulator::start(&cfg, &[]);
    let answer = emulator.invoke(&support::object_created(
        &cfg.buckets.raw,
        ".tablero/trash/x.json",
        None,
    ));
    assert!(manifests(&answer).is_empty());
    assert!(all_clean_keys(&store(&cfg)).is_empty());
}

fn panel(
    cfg: &tablero_aws::AwsConfig,
    emulator: &LambdaEmulator,
) -> (tempfile::TempDir, tablero_core::ports::Backend) {
    let mut cfg = cfg.clone();
    cfg.compute = Some(tablero_aws::config::ComputeConfig {
        etl_function: "tablero-etl".into(),
        lambda_endpoint_url: Some(emulator.url.clone()),
        training_image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/tablero-train:1".into(),
        training_role_arn: "arn:aws:iam::123456789012:role/tablero-sagemaker".into(),
        instance_type: "ml.m5.large".into(),
        volume_gb: 10,
        max_runtime_s: 3600,
        spot: false,
        training_prefix: "training/".into(),
        poll_s: 1,
        job_prefix: "tablero".into(),
    });
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    workspace(&root, &cfg);
    let backend = tablero_aws::open(&root, Some(admin_credentials())).unwrap();
    (dir, backend)
}

#[test]
fn jobs_started_from_the_panel_run_on_the_lambda_and_show_progress() {
    let cfg = setup("panel");
    let emulator = LambdaEmulator::start(&cfg, &[]);
    let (_dir, b) = panel(&cfg, &emulator);
    let up = tablero_app::data::upload(
        &b,
        &sample(),
        Some("retail.csv"),
        &CsvOptions::default(),
        false,
        &|_, _| {},
        &|| false,
    )
    .unwrap();
    let job = tablero_app::jobs::submit(
        &b,
        JobRequest::Clean {
            raw_key: "retail.csv".into(),
            preset: Preset::Standard,
            out_key: None,
        },
    )
    .unwrap();
    let seen = std::cell::RefCell::new(Vec::new());
    let done = b
        .jobs
        .run(&job.id, &|j| seen.borrow_mut().push((j.status, j.progress)))
        .unwrap();
    assert_eq!(done.status, JobStatus::Succeeded, "{:?}", done.error);
    let Some(StageReport::Clean(report)) = &done.report else {
        panic!("a clean report: {done:?}")
    };
    assert_eq!(report.rows_in, up.rows);
    let seen = seen.into_inner();
    assert!(seen.len() >= 2, "progress was observed: {seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0].1 <= w[1].1),
        "progress only grows: {seen:?}"
    );
    let clean_key = done.output.clone().unwrap().key;
    let (version, _) = store(&cfg).version_of(Bucket::Raw, "retail.csv").unwrap();
    assert_eq!(
        clean_key,
        etl::derived_clean_key("retail.csv", &version, Preset::Standard).unwrap()
    );

    // The features of that table, then the list and the log.
    let f = tablero_app::jobs::submit(
        &b,
        JobRequest::Features {
            clean_key: clean_key.clone(),
            preset: Preset::Standard,
            cutoff: None,
            horizon_days: 90,
            out_key: None,
        },
    )
    .unwrap();
    let f = b.jobs.run(&f.id, &|_| {}).unwrap();
    assert_eq!(f.status, JobStatus::Succeeded, "{:?}", f.error);
    let jobs = b.jobs.jobs(10).unwrap();
    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, vec![f.id.as_str(), job.id.as_str()], "newest first");
    let logs = b.jobs.logs(&job.id).unwrap();
    assert!(
        logs.iter().any(|l| l.message.contains("rule duplicate")),
        "{logs:?}"
    );
    assert!(b
        .jobs
        .cancel(&job.id)
        .unwrap_err()
        .to_string()
        .contains("already ended"));
    // A job that is not there.
    assert_eq!(
        b.jobs.job("nope").unwrap_err().kind(),
        tablero_core::ports::ErrorKind::NotFound
    );
}

#[test]
fn a_cancelled_job_leaves_nothing_visible() {
    let cfg = setup("cancel");
    let emulator = LambdaEmulator::start(&cfg, &[]);
    let (_dir, b) = panel(&cfg, &emulator);
    let s = store(&cfg);
    // Big enough to be caught running: the sample eight times over.
    let text = std::fs::read_to_string(sample()).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    let mut big = String::from(header);
    big.push('\n');
    for _ in 0..8 {
        big.push_str(body);
    }
    put_raw(&cfg, "big.csv", big.into_bytes());
    let job = tablero_app::jobs::submit(
        &b,
        JobRequest::Clean {
            raw_key: "big.csv".into(),
            preset: Preset::Standard,
            out_key: None,
        },
    )
    .unwrap();
    // Cancel as soon as it runs.
    let start = Instant::now();
    loop {
        let j = b.jobs.job(&job.id).unwrap();
        if j.status == tablero_core::job::JobStatus::Running {
            break;
        }
        assert!(
            !j.status.is_final(),
            "ended before it could be cancelled: {j:?}"
        );
        assert!(start.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(20));
    }
    b.jobs.cancel(&job.id).unwrap();
    let done = b.jobs.run(&job.id, &|_| {}).unwrap();
    assert_eq!(done.status, JobStatus::Cancelled, "{done:?}");
    assert!(done.output.is_none());
    assert!(visible_clean_keys(&s).is_empty());
    assert!(all_clean_keys(&s).iter().all(|k| !k.contains("/staging/")));
    let m = etl::read_manifest(&s, &job.id).unwrap().unwrap();
    assert_eq!(m.status, JobStatus::Cancelled);
}
