//! The training container's entry point outside a container, on an
//! `/opt/ml`-style folder: the same model as local training, the failure
//! file on bad input.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use support::*;

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/sample/online_retail_sample.csv")
}

#[test]
fn the_entry_point_trains_what_local_training_trains_on_the_sample() {
    the_container_trains_what_local_training_trains(&sample());
}

fn failure_of(root: &std::path::Path) -> String {
    let out = entry_point(root);
    assert!(!out.status.success(), "a bad input fails the job");
    assert!(
        !root.join("model/model.json").exists(),
        "no model on failure"
    );
    std::fs::read_to_string(root.join("output/failure")).expect("the failure file")
}

#[test]
fn bad_input_writes_the_failure_file() {
    let dir = tempfile::tempdir().unwrap();
    let hyper = BTreeMap::from([("group".to_string(), "churn".to_string())]);

    // Not a features table.
    let root = opt_ml(dir.path(), b"CustomerID,Recency\n1,2\n", &hyper);
    let reason = failure_of(&root);
    assert!(reason.contains("is not a features table"), "{reason}");

    // A bad hyperparameter, named.
    let dir = tempfile::tempdir().unwrap();
    let mut bad = hyper.clone();
    bad.insert("folds".into(), "ten".into());
    let root = opt_ml(dir.path(), b"PAR1", &bad);
    let reason = failure_of(&root);
    assert!(reason.contains("hyperparameter folds"), "{reason}");

    // An empty train channel.
    let dir = tempfile::tempdir().unwrap();
    let root = opt_ml(dir.path(), b"", &hyper);
    std::fs::remove_file(root.join("input/data/train/features.parquet")).unwrap();
    let reason = failure_of(&root);
    assert!(reason.contains("train channel"), "{reason}");

    // Group missing.
    let dir = tempfile::tempdir().unwrap();
    let root = opt_ml(dir.path(), b"PAR1", &BTreeMap::new());
    let reason = failure_of(&root);
    assert!(reason.contains("group"), "{reason}");
}

#[test]
fn an_unknown_command_is_refused() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tablero-train"))
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command"));
}
