//! The full leaderboard (7 candidates × 10 folds, seed 123) on the
//! `standard` features of the full Online Retail file. Prints the
//! leaderboard once, then times `train`.
//!
//! `cargo bench -p tablero-core --bench train`

use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

use tablero_core::clean::{self, Preset};
use tablero_core::features::{self, FeatureParams};
use tablero_core::ingest::{self, CsvOptions};
use tablero_core::job::NoProgress;
use tablero_core::table::{DataFrame, TableMeta};
use tablero_core::train::{self, TrainConfig};

fn features() -> Option<&'static (DataFrame, TableMeta)> {
    static F: OnceLock<Option<(DataFrame, TableMeta)>> = OnceLock::new();
    F.get_or_init(|| {
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
        let (spec, parsed) = ingest::inspect(&bytes, &CsvOptions::default()).ok()?;
        let (df, meta, _) = clean::clean(parsed, &spec, Preset::Standard, &NoProgress).ok()?;
        let (f, fmeta, _) =
            features::features(&df, Some(&meta), FeatureParams::default(), &NoProgress).ok()?;
        Some((f, fmeta))
    })
    .as_ref()
}

fn main() {
    let Some((df, meta)) = features() else {
        eprintln!(
            "SKIPPED: ../shared/data/online_retail.csv.gz is absent (or set TABLERO_FULL_DATASET)"
        );
        return;
    };
    let r = train::train(df, Some(meta), &TrainConfig::default(), &NoProgress).expect("train");
    println!(
        "{} customers; train {:?} test {:?} (positives {:?})",
        df.height(),
        r.evaluation.rows.0,
        r.evaluation.rows.1,
        r.positives
    );
    println!(
        "{:<22} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "model", "acc", "auc", "recall", "prec", "f1", "kappa", "mcc", "tt(s)"
    );
    for e in &r.evaluation.leaderboard {
        println!(
            "{:<22} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4}",
            e.name,
            e.accuracy.mean,
            e.auc.mean,
            e.recall.mean,
            e.precision.mean,
            e.f1.mean,
            e.kappa.mean,
            e.mcc.mean,
            e.train_seconds
        );
    }
    println!(
        "winner {:?}: holdout {:?}",
        r.evaluation.winner, r.evaluation.holdout
    );
    println!("leakage: {:?}", r.evaluation.leakage);
    divan::main();
}

#[divan::bench(sample_count = 5)]
fn full_leaderboard() -> usize {
    let (df, meta) = features().expect("features");
    train::train(df, Some(meta), &TrainConfig::default(), &NoProgress)
        .expect("train")
        .evaluation
        .leaderboard
        .len()
}
