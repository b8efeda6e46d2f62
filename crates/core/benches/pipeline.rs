//! Clean + features on the full Online Retail file, both presets
//! (../shared/data/online_retail.csv.gz, decompressed once to a temporary
//! CSV so every iteration reads it from the page cache).
//!
//! `cargo bench -p tablero-core --bench pipeline`

use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

use tablero_core::clean::{self, Preset};
use tablero_core::features::{self, FeatureParams};
use tablero_core::ingest::{self, CsvOptions, IngestSpec};
use tablero_core::job::NoProgress;
use tablero_core::table;

fn main() {
    if dataset().is_none() {
        eprintln!(
            "SKIPPED: ../shared/data/online_retail.csv.gz is absent (or set TABLERO_FULL_DATASET)"
        );
        return;
    }
    divan::main();
}

struct Dataset {
    csv: PathBuf,
    spec: IngestSpec,
    _dir: tempfile_dir::Dir,
}

mod tempfile_dir {
    /// A folder removed on drop (std only, to keep bench deps small).
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn dataset() -> Option<&'static Dataset> {
    static D: OnceLock<Option<Dataset>> = OnceLock::new();
    D.get_or_init(|| {
        let gz = std::env::var_os("TABLERO_FULL_DATASET")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../../../shared/data/online_retail.csv.gz")
            });
        let file = std::fs::File::open(&gz).ok()?;
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut bytes)
            .ok()?;
        let dir = std::env::temp_dir().join(format!("tablero-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let csv = dir.join("online_retail.csv");
        std::fs::write(&csv, &bytes).ok()?;
        let (spec, _) = ingest::inspect(&bytes, &CsvOptions::default()).ok()?;
        Some(Dataset {
            csv,
            spec,
            _dir: tempfile_dir::Dir(dir),
        })
    })
    .as_ref()
}

/// CSV file → parsed → clean (parity) → features (parity), all in memory.
#[divan::bench(sample_count = 10)]
fn clean_and_features_parity() -> usize {
    let d = dataset().expect("dataset");
    let bytes = std::fs::read(&d.csv).expect("read csv");
    let parsed = ingest::parse(&bytes, &d.spec).expect("parse");
    drop(bytes);
    let (df, meta, _) = clean::clean(parsed, &d.spec, Preset::Parity, &NoProgress).expect("clean");
    let params = FeatureParams {
        preset: Preset::Parity,
        ..FeatureParams::default()
    };
    let (out, _, _) = features::features(&df, Some(&meta), params, &NoProgress).expect("features");
    out.height()
}

/// The same, as the jobs do it: the clean table goes through Parquet bytes
/// and the features table is written as Parquet.
#[divan::bench(sample_count = 10)]
fn clean_and_features_parity_with_parquet() -> usize {
    let d = dataset().expect("dataset");
    let bytes = std::fs::read(&d.csv).expect("read csv");
    let parsed = ingest::parse(&bytes, &d.spec).expect("parse");
    drop(bytes);
    let (mut df, meta, _) =
        clean::clean(parsed, &d.spec, Preset::Parity, &NoProgress).expect("clean");
    let clean_bytes = table::to_parquet(&mut df, &meta).expect("write clean");
    drop(df);
    let df = table::from_parquet(&clean_bytes).expect("read clean");
    let meta = table::parquet_meta(&clean_bytes).expect("meta");
    let params = FeatureParams {
        preset: Preset::Parity,
        ..FeatureParams::default()
    };
    let (mut out, out_meta, _) =
        features::features(&df, meta.as_ref(), params, &NoProgress).expect("features");
    table::to_parquet(&mut out, &out_meta)
        .expect("write features")
        .len()
}

/// The standard preset as the jobs run it: the CSV read block by block,
/// cleaned and written as Parquet per block (`clean::clean_blocks`), the
/// clean table's needed columns read back a row group at a time, the
/// features written.
#[divan::bench(sample_count = 10)]
fn clean_and_features_standard_blocks() -> usize {
    let d = dataset().expect("dataset");
    let file = std::fs::File::open(&d.csv).expect("open csv");
    let size = file.metadata().expect("size").len();
    let blocks = ingest::BlockReader::new(file, d.spec.encoding, ingest::BLOCK_BYTES);
    let (clean_bytes, _, _) =
        clean::clean_blocks(blocks, size, &d.spec, &NoProgress, None).expect("clean");
    let meta = table::parquet_meta(&clean_bytes).expect("meta");
    let (rows, groups) =
        table::parquet_row_groups(&clean_bytes, &features::input_columns(Preset::Standard))
            .expect("read clean");
    let (mut out, out_meta, _) = features::features_from(
        groups,
        rows as usize,
        meta.as_ref(),
        FeatureParams::default(),
        &NoProgress,
    )
    .expect("features");
    table::to_parquet(&mut out, &out_meta)
        .expect("write features")
        .len()
}

/// `etl run`'s path: the same clean stage, keeping the features' input as
/// it writes the table (`features::Input`), then the features from it,
/// without reading the table back.
#[divan::bench(sample_count = 10)]
fn clean_and_features_standard_kept() -> usize {
    let d = dataset().expect("dataset");
    let file = std::fs::File::open(&d.csv).expect("open csv");
    let size = file.metadata().expect("size").len();
    let blocks = ingest::BlockReader::new(file, d.spec.encoding, ingest::BLOCK_BYTES);
    let meta = clean::table_meta(Preset::Standard, &d.spec);
    let mut input = features::Input::new(&meta, 0);
    let (clean_bytes, _, _) =
        clean::clean_blocks(blocks, size, &d.spec, &NoProgress, Some(&mut input)).expect("clean");
    let (mut out, out_meta, _) =
        features::features_of(input, FeatureParams::default(), &NoProgress).expect("features");
    clean_bytes.len()
        + table::to_parquet(&mut out, &out_meta)
            .expect("write features")
            .len()
}

/// Only reading and parsing the CSV (where most of the time goes).
#[divan::bench(sample_count = 10)]
fn parse_only() -> usize {
    let d = dataset().expect("dataset");
    let bytes = std::fs::read(&d.csv).expect("read csv");
    ingest::parse(&bytes, &d.spec).expect("parse").rows.len()
}
