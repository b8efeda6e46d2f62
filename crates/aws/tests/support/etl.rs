//! The ETL Lambda against a local job on the same file.

use std::path::Path;

use tablero_aws::etl::Manifest;
use tablero_aws::s3::S3Store;
use tablero_aws::{AwsConfig, Clients};
use tablero_core::clean::Preset;
use tablero_core::ingest::CsvOptions;
use tablero_core::job::{JobRequest, JobStatus};
use tablero_core::ports::{Backend, ObjectStore};
use tablero_core::stages::StageReport;
use tablero_core::store::{Bucket, ObjectKey};
use tablero_core::table;

use super::{admin_credentials, LambdaEmulator};

pub fn store(cfg: &AwsConfig) -> S3Store {
    let clients = Clients::new(cfg, Some(admin_credentials())).unwrap();
    S3Store::new(clients.s3, cfg.buckets.clone())
}

/// Puts `bytes` in the raw bucket as something else than Tablero would
/// (no ingest spec); its version id.
pub fn put_raw(cfg: &AwsConfig, key: &str, bytes: Vec<u8>) -> String {
    let clients = Clients::new(cfg, Some(admin_credentials())).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let out = clients
            .s3
            .put_object()
            .bucket(&cfg.buckets.raw)
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from(bytes))
            .send()
            .await
            .unwrap();
        out.version_id().unwrap().to_string()
    })
}

/// Every key of the clean bucket, job state included.
pub fn all_clean_keys(store: &S3Store) -> Vec<String> {
    store
        .keys(Bucket::Clean, "", None)
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

/// The keys the panel lists in the clean bucket.
pub fn visible_clean_keys(store: &S3Store) -> Vec<String> {
    let page = store.list(Bucket::Clean, "", None, 1000).unwrap();
    let mut keys: Vec<String> = page.objects.into_iter().map(|o| o.key).collect();
    keys.sort();
    keys
}

/// The manifests an invocation answered with.
pub fn manifests(answer: &serde_json::Value) -> Vec<Manifest> {
    serde_json::from_value(answer["jobs"].clone()).unwrap()
}

/// A local workspace's clean and features jobs on the same file.
pub fn local_run(dir: &Path, csv: &Path) -> (Backend, Vec<String>, Vec<StageReport>) {
    let ws = tablero_local::Workspace::init(&dir.join("local"))
        .unwrap()
        .into_backend();
    tablero_app::data::upload(
        &ws,
        csv,
        Some("retail.csv"),
        &CsvOptions::default(),
        false,
        &|_, _| {},
        &|| false,
    )
    .unwrap();
    let run = |request: JobRequest| {
        let job = ws.jobs.submit(request).unwrap();
        let job = ws.jobs.run(&job.id, &|_| {}).unwrap();
        assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
        job
    };
    let clean = run(JobRequest::Clean {
        raw_key: "retail.csv".into(),
        preset: Preset::Standard,
        out_key: None,
    });
    let clean_key = clean.output.unwrap().key;
    let features = run(JobRequest::Features {
        clean_key: clean_key.clone(),
        preset: Preset::Standard,
        cutoff: None,
        horizon_days: 90,
        out_key: None,
    });
    let keys = vec![clean_key, features.output.unwrap().key];
    let reports = vec![clean.report.unwrap(), features.report.unwrap()];
    (ws, keys, reports)
}

/// The Lambda's clean and features outputs equal the local ones: the
/// decoded tables, their schema and the reports.
pub fn assert_same_as_local(
    store: &S3Store,
    manifest: &Manifest,
    local: &Backend,
    local_keys: &[String],
    local_reports: &[StageReport],
) {
    assert_eq!(
        manifest.status,
        JobStatus::Succeeded,
        "{:?}",
        manifest.error
    );
    assert_eq!(manifest.reports, local_reports, "the same reports");
    assert_eq!(manifest.tables.len(), 2);
    for (remote, local_key) in manifest.tables.iter().zip(local_keys) {
        let a = store
            .read(Bucket::Clean, &ObjectKey::new(&remote.key).unwrap())
            .unwrap();
        let b = local
            .store
            .read(Bucket::Clean, &ObjectKey::new(local_key).unwrap())
            .unwrap();
        let (da, db) = (
            table::from_parquet(&a).unwrap(),
            table::from_parquet(&b).unwrap(),
        );
        assert_eq!(da.schema(), db.schema(), "{} schema", remote.key);
        assert!(
            da.equals_missing(&db),
            "{} differs from local {local_key}",
            remote.key
        );
        let (ma, mb) = (
            table::parquet_meta(&a).unwrap().unwrap(),
            table::parquet_meta(&b).unwrap().unwrap(),
        );
        assert_eq!(
            (ma.kind, ma.preset, ma.roles),
            (mb.kind, mb.preset, mb.roles)
        );
    }
}

/// Runs the S3 notification of `csv` (put without an ingest spec) through
/// the Lambda twice, checks it against a local run, and that the second
/// run duplicates nothing; the emulator's timing of the first run.
pub fn object_created_matches_local(
    cfg: &AwsConfig,
    emulator: &LambdaEmulator,
    csv: &Path,
) -> serde_json::Value {
    let store = store(cfg);
    let version = put_raw(cfg, "retail.csv", std::fs::read(csv).unwrap());
    let event = super::object_created(&cfg.buckets.raw, "retail.csv", Some(&version));
    let answer = emulator.invoke(&event);
    let first = manifests(&answer);
    assert_eq!(first.len(), 1);
    let dir = tempfile::tempdir().unwrap();
    let (local, keys, reports) = local_run(dir.path(), csv);
    assert_same_as_local(&store, &first[0], &local, &keys, &reports);
    assert_eq!(first[0].input_version, version);
    let visible = visible_clean_keys(&store);
    let mut expected: Vec<String> = first[0].outputs.iter().map(|o| o.key.clone()).collect();
    expected.sort();
    assert_eq!(
        visible, expected,
        "the outputs, and nothing else, are visible"
    );
    assert_eq!(
        expected.len(),
        4,
        "two tables and their reports: {expected:?}"
    );

    // The same object again: the same keys, nothing duplicated.
    let again = manifests(&emulator.invoke(&event));
    assert_eq!(again[0].status, JobStatus::Succeeded);
    assert_ne!(again[0].job_id, first[0].job_id);
    assert_eq!(again[0].outputs, first[0].outputs);
    assert_eq!(visible_clean_keys(&store), visible);
    // No staged copy is left behind.
    let all = all_clean_keys(&store);
    assert!(
        all.iter().all(|k| !k.contains("/staging/")),
        "staging left: {all:?}"
    );
    for m in [&first[0], &again[0]] {
        assert!(all.contains(&tablero_aws::etl::manifest_key(&m.job_id)));
    }
    // The emulator's measure of the invocation.
    let id = &first[0].job_id;
    emulator.result(id)
}
