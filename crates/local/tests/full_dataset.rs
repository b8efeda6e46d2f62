//! The acceptance numbers on the full UCI Online Retail file. It lives in
//! ../shared (not shipped with the project), so the test is ignored unless
//! asked for: `scripts/test.sh` runs it when the file is there
//! (`cargo nextest run --run-ignored only -E 'binary(full_dataset)'`), and
//! it fails, rather than passing unchecked, when asked for without the file.

use std::io::Read;
use std::path::PathBuf;

use tablero_core::clean::Preset;
use tablero_core::ingest::CsvOptions;
use tablero_core::job::{JobRequest, JobStatus};
use tablero_core::stages::StageReport;
use tablero_local::Workspace;

fn shared_dataset() -> Option<PathBuf> {
    let path = std::env::var_os("TABLERO_FULL_DATASET")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/data/online_retail.csv.gz")
        });
    path.is_file().then_some(path)
}

#[test]
#[ignore = "needs ../shared/data"]
fn full_online_retail_dataset_matches_the_acceptance_numbers() {
    let gz = shared_dataset().expect(
        "../shared/data/online_retail.csv.gz is absent (set TABLERO_FULL_DATASET to the file)",
    );
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("online_retail.csv");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    std::fs::write(&csv, &bytes).unwrap();
    drop(bytes);

    let ws = Workspace::init(&dir.path().join("ws"))
        .unwrap()
        .into_backend();
    let up = tablero_app::data::upload(
        &ws,
        &csv,
        Some("full.csv"),
        &CsvOptions::default(),
        false,
        &|_, _| {},
        &|| false,
    )
    .unwrap();
    assert_eq!(up.rows, 541_909);
    assert_eq!(up.unparseable, 0);

    let run = |request: JobRequest| {
        let job = ws.jobs.submit(request).unwrap();
        let job = ws.jobs.run(&job.id, &|_| {}).unwrap();
        assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
        job
    };
    let clean = run(JobRequest::Clean {
        raw_key: "full.csv".into(),
        preset: Preset::Standard,
        out_key: None,
    });
    let Some(StageReport::Clean(report)) = clean.report.clone() else {
        panic!("a clean report")
    };
    let counts: Vec<(&str, u64)> = report
        .rules
        .iter()
        .map(|r| (r.rule.as_str(), r.removed))
        .collect();
    assert_eq!(
        counts,
        vec![
            ("unparseable", 0),
            ("duplicate", 5_268),
            ("missing_customer_id", 135_037),
            ("cancellation", 8_872),
            ("non_positive", 40)
        ]
    );
    assert_eq!((report.rows_out, report.customers), (392_692, 4_338));

    let parity = run(JobRequest::Clean {
        raw_key: "full.csv".into(),
        preset: Preset::Parity,
        out_key: None,
    });
    let Some(StageReport::Clean(report)) = parity.report.clone() else {
        panic!("a clean report")
    };
    assert_eq!(report.rows_out, 383_446);

    let features = |clean_key: String, preset| {
        let job = run(JobRequest::Features {
            clean_key,
            preset,
            cutoff: None,
            horizon_days: 90,
            out_key: None,
        });
        match job.report {
            Some(StageReport::Features(r)) => *r,
            other => panic!("a features report: {other:?}"),
        }
    };
    let standard = features(clean.output.unwrap().key, Preset::Standard);
    assert_eq!((standard.customers, standard.positives), (3_703, 1_797));
    assert_eq!(standard.cutoff, "2011-10-07 13:17:00");
    let parity = features(parity.output.unwrap().key, Preset::Parity);
    // Cross-checked against the pandas reference (tests/reference/pipeline.py).
    assert_eq!((parity.customers, parity.positives), (3_670, 1_786));
    assert_eq!(parity.cutoff, "2011-10-07 15:18:00");
}
