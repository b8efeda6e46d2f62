//! The training entry point on the standard features of the full Online
//! Retail file (../shared/data; ignored unless asked for, as the other
//! full-dataset tests).

mod support;

use std::io::Read;
use std::path::PathBuf;

#[test]
#[ignore = "needs ../shared/data"]
fn the_entry_point_trains_what_local_training_trains_on_the_full_file() {
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
    support::the_container_trains_what_local_training_trains(&csv);
}
