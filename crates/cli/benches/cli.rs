//! Clean + features, both presets, on the full Online Retail file through
//! the `tablero` binary (process start, SQLite job records, Parquet written
//! to the workspace): what a user waits for.
//!
//! `cargo bench -p tablero-cli --bench cli`

use std::io::Read;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

fn main() {
    let Some(ws) = workspace() else {
        eprintln!(
            "SKIPPED: ../shared/data/online_retail.csv.gz is absent (or set TABLERO_FULL_DATASET)"
        );
        return;
    };
    divan::main();
    if let Some(dir) = ws.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn tablero(ws: &PathBuf, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_tablero"))
        .args(args)
        .arg("--json")
        .env("TABLERO_WORKSPACE", ws)
        .output()
        .expect("tablero runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A workspace with the full file uploaded as `full.csv`.
fn workspace() -> Option<&'static PathBuf> {
    static W: OnceLock<Option<PathBuf>> = OnceLock::new();
    W.get_or_init(|| {
        let gz = std::env::var_os("TABLERO_FULL_DATASET")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../../../shared/data/online_retail.csv.gz")
            });
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(gz).ok()?)
            .read_to_end(&mut bytes)
            .ok()?;
        let dir = std::env::temp_dir().join(format!("tablero-cli-bench-{}", std::process::id()));
        let csv = dir.join("online_retail.csv");
        std::fs::create_dir_all(&dir).ok()?;
        std::fs::write(&csv, bytes).ok()?;
        let ws = dir.join("ws");
        tablero(&ws, &["init"]);
        tablero(&ws, &["data", "upload", csv.to_str()?, "--key", "full.csv"]);
        Some(ws)
    })
    .as_ref()
}

#[divan::bench(sample_count = 5)]
fn etl_clean_and_features_parity() {
    let ws = workspace().expect("workspace");
    tablero(ws, &["etl", "clean", "full.csv", "--preset", "parity"]);
    tablero(
        ws,
        &[
            "etl",
            "features",
            "full/transactions.parity.parquet",
            "--preset",
            "parity",
        ],
    );
}

/// The standard preset (the clean stage reads the CSV block by block) in
/// two commands: the side-by-side benchmark's `tablero-2cmd`.
#[divan::bench(sample_count = 5)]
fn etl_clean_and_features_standard() {
    let ws = workspace().expect("workspace");
    tablero(ws, &["etl", "clean", "full.csv"]);
    tablero(ws, &["etl", "features", "full/transactions.parquet"]);
}

/// `etl run`: the same two stages in one process, the clean rows handed to
/// the features stage in memory: the side-by-side benchmark's `tablero`.
#[divan::bench(sample_count = 5)]
fn etl_run_standard() {
    let ws = workspace().expect("workspace");
    tablero(ws, &["etl", "run", "full.csv"]);
}
