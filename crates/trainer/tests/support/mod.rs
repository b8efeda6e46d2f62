//! Local training against the training entry point on the same features.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tablero_core::clean::Preset;
use tablero_core::ingest::CsvOptions;
use tablero_core::job::{JobRequest, JobStatus};
use tablero_core::ports::Backend;
use tablero_core::stages::{StageReport, Trained};
use tablero_core::store::{Bucket, ObjectKey};
use tablero_core::train::container::{TrainingSpec, CARD_FILE, MODEL_FILE, TRAINED_FILE};
use tablero_core::train::model::ModelArtifact;
use tablero_core::train::models::Algorithm;
use tablero_core::train::TrainConfig;
use tablero_local::Workspace;

pub fn run_job(ws: &Backend, request: JobRequest) -> tablero_core::job::Job {
    let job = ws.jobs.submit(request).unwrap();
    let job = ws.jobs.run(&job.id, &|_| {}).unwrap();
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    job
}

/// A workspace with `csv` uploaded, cleaned and turned into standard
/// features: the backend and the features table's bytes.
pub fn features_of(dir: &Path, csv: &Path) -> (Backend, String, Vec<u8>) {
    let ws = Workspace::init(&dir.join("ws")).unwrap().into_backend();
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
    let clean = run_job(
        &ws,
        JobRequest::Clean {
            raw_key: "retail.csv".into(),
            preset: Preset::Standard,
            out_key: None,
        },
    );
    let features = run_job(
        &ws,
        JobRequest::Features {
            clean_key: clean.output.unwrap().key,
            preset: Preset::Standard,
            cutoff: None,
            horizon_days: 90,
            out_key: None,
        },
    );
    let key = features.output.unwrap().key;
    let bytes = ws
        .store
        .read(Bucket::Clean, &ObjectKey::new(&key).unwrap())
        .unwrap();
    (ws, key, bytes)
}

pub fn config() -> TrainConfig {
    TrainConfig {
        folds: 3,
        seed: 7,
        candidates: vec![Algorithm::Lr, Algorithm::Tree, Algorithm::Forest],
        ..TrainConfig::default()
    }
}

/// An `/opt/ml`-style folder with the features in the train channel.
pub fn opt_ml(dir: &Path, features: &[u8], hyper: &BTreeMap<String, String>) -> PathBuf {
    let root = dir.join("opt/ml");
    std::fs::create_dir_all(root.join("input/config")).unwrap();
    std::fs::create_dir_all(root.join("input/data/train")).unwrap();
    std::fs::write(
        root.join("input/config/hyperparameters.json"),
        serde_json::to_vec(hyper).unwrap(),
    )
    .unwrap();
    std::fs::write(root.join("input/data/train/features.parquet"), features).unwrap();
    root
}

/// Runs the entry point as SageMaker does (`<image> train`).
pub fn entry_point(root: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tablero-train"))
        .arg("train")
        .env("TABLERO_OPT_ML", root)
        .output()
        .unwrap()
}

/// Local training and the entry point on the same features predict the
/// same: the same model, the same scores on every customer.
pub fn the_container_trains_what_local_training_trains(csv: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let (ws, key, bytes) = features_of(dir.path(), csv);
    let local = run_job(
        &ws,
        JobRequest::Train {
            features_key: key,
            group: "churn".into(),
            config: config(),
            resources: None,
        },
    );
    let Some(StageReport::Train(report)) = local.report else {
        panic!("a train report")
    };
    let local_model = ws.registry.artifact("churn", report.version).unwrap();

    let spec = TrainingSpec {
        group: "churn".into(),
        trained_by: "ana".into(),
        config: config(),
    };
    let root = opt_ml(dir.path(), &bytes, &spec.to_hyperparameters());
    let out = entry_point(&root);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!root.join("output/failure").exists());
    let artifact =
        ModelArtifact::from_bytes(&std::fs::read(root.join("model").join(MODEL_FILE)).unwrap())
            .unwrap();
    assert_eq!(artifact, local_model, "the same model as local training");
    let card: tablero_core::train::model::ModelCard =
        serde_json::from_slice(&std::fs::read(root.join("model").join(CARD_FILE)).unwrap())
            .unwrap();
    assert_eq!(card.trained_by, "ana");
    assert_eq!(card.params, config());
    let trained: Trained =
        serde_json::from_slice(&std::fs::read(root.join("model").join(TRAINED_FILE)).unwrap())
            .unwrap();
    assert_eq!(trained.positives, report.positives);
    assert_eq!(trained.card.evaluation.holdout, report.holdout);

    // The same scores on every customer of the table.
    let df = tablero_core::table::from_parquet(&bytes).unwrap();
    let meta = tablero_core::table::parquet_meta(&bytes).unwrap().unwrap();
    let raw =
        tablero_core::train::dataset::RawTable::from_features(&df, meta.roles.as_ref().unwrap())
            .unwrap();
    let records: Vec<Vec<_>> = (0..raw.len())
        .map(|i| {
            let row = raw.row(i);
            artifact
                .model
                .encoder
                .features
                .iter()
                .map(|f| row[raw.names.iter().position(|n| n == f.name()).unwrap()].clone())
                .collect()
        })
        .collect();
    assert!(!records.is_empty());
    assert_eq!(
        artifact.model.predict(&records),
        local_model.model.predict(&records)
    );

    // The metric lines the job's metric definitions parse.
    for (name, re) in tablero_core::train::container::METRIC_DEFINITIONS {
        let prefix = re.split('(').next().unwrap();
        let line = stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line for {name} in {stdout}"));
        let value: f64 = line[prefix.len()..].parse().unwrap();
        assert!((0.0..=1.0).contains(&value), "{line}");
    }
}
