//! The ETL Lambda on the full Online Retail file (../shared/data; ignored
//! unless asked for, as the other full-dataset tests): the same outputs as
//! a local run, nothing duplicated when run twice. Prints the handler's
//! time and peak memory as the emulator measured them.

mod support;

use std::io::Read;
use std::path::PathBuf;

#[test]
#[ignore = "needs ../shared/data"]
fn the_lambda_on_the_full_file_writes_what_a_local_run_writes() {
    let gz = std::env::var_os("TABLERO_FULL_DATASET")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/data/online_retail.csv.gz")
        });
    assert!(gz.is_file(), "{} is absent", gz.display());
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("online_retail.csv");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    std::fs::write(&csv, &bytes).unwrap();
    let moto = support::Moto::shared();
    let cfg = support::provision(
        support::config(&moto.url, "full"),
        &support::admin_credentials(),
    );
    let emulator = support::LambdaEmulator::start(&cfg, &[]);
    let measured = support::etl::object_created_matches_local(&cfg, &emulator, &csv);
    println!(
        "the handler on the full file: {} s, peak RSS {} kB",
        measured["seconds"], measured["vmhwm_kb"]
    );
}
