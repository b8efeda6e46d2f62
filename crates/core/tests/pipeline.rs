//! The pure pipeline steps on hand-made fixtures in tests/data, compared in
//! full with expectations computed by hand.

use std::path::PathBuf;

use polars::prelude::*;
use tablero_core::clean::{self, Preset};
use tablero_core::dates::{self, parse_user_timestamp};
use tablero_core::features::{self, FeatureParams, COLUMNS, TARGET};
use tablero_core::ingest::{self, CsvOptions, IngestSpec, Parsed};
use tablero_core::job::NoProgress;
use tablero_core::table::{self, TableMeta};

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(path)
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(data(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn inspect(bytes: &[u8]) -> (IngestSpec, Parsed) {
    ingest::inspect(bytes, &CsvOptions::default()).expect("fixture is valid")
}

fn clean_standard(bytes: &[u8]) -> (DataFrame, TableMeta) {
    let (spec, parsed) = inspect(bytes);
    let (df, meta, _) = clean::clean(parsed, &spec, Preset::Standard, &NoProgress).unwrap();
    (df, meta)
}

/// Compares a table with an expected CSV: same columns, same rows; numbers
/// within 1e-12 relative, text exactly.
fn assert_table_eq(df: &DataFrame, expected_csv: &str) {
    let mut rdr = csv::Reader::from_path(data(expected_csv)).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, header, "columns of {expected_csv}");
    let got = table::rows_as_strings(df);
    let want: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(got.len(), want.len(), "rows of {expected_csv}");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        for (j, (a, b)) in g.iter().zip(w).enumerate() {
            let same = match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(x), Ok(y)) => (x - y).abs() <= 1e-12 * y.abs().max(1.0),
                _ => a == b,
            };
            assert!(
                same,
                "{expected_csv} row {i} column {}: got {a:?}, expected {b:?}",
                header[j]
            );
        }
    }
}

#[test]
fn clean_rules_count_exactly_in_order() {
    let (spec, parsed) = inspect(&read("clean/rules.csv"));
    let (df, _, report) = clean::clean(parsed, &spec, Preset::Standard, &NoProgress).unwrap();
    let expected: serde_json::Value =
        serde_json::from_slice(&read("clean/rules.expected.json")).unwrap();

    assert_eq!(report.rows_in, expected["rows_in"].as_u64().unwrap());
    assert_eq!(report.rows_out, expected["rows_out"].as_u64().unwrap());
    assert_eq!(report.customers, expected["customers"].as_u64().unwrap());
    let rules = expected["rules"].as_array().unwrap();
    assert_eq!(report.rules.len(), rules.len());
    for (got, want) in report.rules.iter().zip(rules) {
        assert_eq!(got.rule, want["rule"].as_str().unwrap());
        assert_eq!(
            got.removed,
            want["removed"].as_u64().unwrap(),
            "rule {}",
            got.rule
        );
        let lines: Vec<u64> = got.examples.iter().map(|e| e.line).collect();
        let want_lines: Vec<u64> = want["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(lines, want_lines, "example lines of {}", got.rule);
    }
    // Unparseable examples say why.
    let unparseable = &report.rules[0].examples;
    assert!(unparseable[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("not a date"));
    assert!(unparseable[1]
        .reason
        .as_deref()
        .unwrap()
        .contains("quantity \"x\" is not a number"));

    let kept = expected["kept"].as_array().unwrap();
    assert_eq!(df.height(), kept.len());
    let rows = table::rows_as_strings(&df);
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    for (row, want) in rows.iter().zip(kept) {
        for (field, value) in want.as_object().unwrap() {
            let idx = names.iter().position(|n| n == field).unwrap();
            match value {
                serde_json::Value::Number(n) => {
                    let got: f64 = row[idx].parse().unwrap();
                    assert_eq!(got, n.as_f64().unwrap(), "{field}");
                }
                v => assert_eq!(row[idx], v.as_str().unwrap(), "{field}"),
            }
        }
    }
}

#[test]
fn standard_features_match_the_hand_computed_table() {
    let (df, meta) = clean_standard(&read("features/transactions.csv"));
    let (out, out_meta, report) =
        features::features(&df, Some(&meta), FeatureParams::default(), &NoProgress).unwrap();
    assert_table_eq(&out, "features/expected_standard.csv");
    assert_eq!(report.cutoff, "2011-02-01 12:00:00");
    assert_eq!(
        (report.customers, report.positives, report.negatives),
        (5, 2, 3)
    );
    let roles = out_meta.roles.unwrap();
    assert_eq!(roles.identifiers, vec!["CustomerID"]);
    assert_eq!(roles.target, TARGET);
    assert_eq!(
        roles.categorical,
        vec!["MostFrequentCountry", "Customer_Segment"]
    );
    assert_eq!(roles.not_features, vec!["RFM_Score"]);
}

/// The parity clean table of the fixture, without the geographic filter
/// (every country here has < 100 rows, so the filter would drop them all).
fn parity_clean_of(bytes: &[u8]) -> (DataFrame, TableMeta) {
    let (mut df, mut meta) = clean_standard(bytes);
    for (from, to) in [
        ("invoice_id", "InvoiceNo"),
        ("product_id", "StockCode"),
        ("description", "Description"),
        ("quantity", "Quantity"),
        ("invoice_date", "InvoiceDate"),
        ("unit_price", "UnitPrice"),
        ("customer_id", "CustomerID"),
        ("country", "Country"),
        ("amount", "TotalValue"),
    ] {
        df.rename(from, to.into()).unwrap();
    }
    meta.preset = Preset::Parity;
    (df, meta)
}

#[test]
fn parity_features_match_the_hand_computed_table() {
    let (df, meta) = parity_clean_of(&read("features/transactions.csv"));
    let params = FeatureParams {
        preset: Preset::Parity,
        ..FeatureParams::default()
    };
    let (out, _, report) = features::features(&df, Some(&meta), params, &NoProgress).unwrap();
    assert_table_eq(&out, "features/expected_parity.csv");
    assert_eq!(report.preset, "parity");
}

#[test]
fn features_refuse_a_clean_table_of_the_other_preset() {
    let (df, meta) = clean_standard(&read("features/transactions.csv"));
    let params = FeatureParams {
        preset: Preset::Parity,
        ..FeatureParams::default()
    };
    let err = features::features(&df, Some(&meta), params, &NoProgress).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("made with --preset standard"), "{msg}");
    assert!(msg.contains("features --preset parity"), "{msg}");
    let err = features::features(&df, None, FeatureParams::default(), &NoProgress).unwrap_err();
    assert!(err
        .to_string()
        .contains("not a clean table written by Tablero"));
}

#[test]
fn missing_optional_columns_become_null_features() {
    // No country, no product: those features are null and listed.
    let csv = "Customer,Date,Qty,Price\n1,2011-01-01,1,2\n1,2011-01-02,2,2\n2,2011-01-03,1,5\n3,2011-01-04,1,1\n\
               4,2011-01-05,1,1\n5,2011-01-06,1,3\n1,2011-02-01,1,1\n2,2011-02-02,1,1\n";
    let (df, meta) = clean_standard(csv.as_bytes());
    let (out, _, report) =
        features::features(&df, Some(&meta), FeatureParams::default(), &NoProgress).unwrap();
    let missing: Vec<&str> = report
        .null_features
        .iter()
        .map(|n| n.feature.as_str())
        .collect();
    assert_eq!(missing, vec!["MostFrequentCountry", "ProductVariety"]);
    assert_eq!(
        out.column("MostFrequentCountry").unwrap().null_count(),
        out.height()
    );
    assert_eq!(
        out.column("ProductVariety").unwrap().null_count(),
        out.height()
    );
    assert!(report
        .warnings
        .iter()
        .any(|w| w.contains("each row counts as one order")));
    // Without invoice ids each row is one order.
    let freq = out.column("Frequency").unwrap().i64().unwrap().get(0);
    assert_eq!(freq, Some(2));
}

#[test]
fn parity_geographic_filter_and_derived_columns() {
    // 1000 UK rows (tier 1, Europe), 150 Germany (tier 2), 200 EIRE (tier 2,
    // Other), 99 USA (tier 3), 100 Japan (tier 2, Asia-Pacific).
    let mut csv = String::from(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n",
    );
    let mut n = 0;
    for (country, rows) in [
        ("United Kingdom", 1000),
        ("Germany", 150),
        ("EIRE", 200),
        ("USA", 99),
        ("Japan", 100),
    ] {
        for i in 0..rows {
            n += 1;
            // Prices 1..=101 cycling, plus the segment boundaries.
            let price = match n % 7 {
                0 => "0.5".to_string(),
                1 => "1".to_string(),
                2 => "5".to_string(),
                3 => "20".to_string(),
                4 => "20.5".to_string(),
                _ => format!("{}", (i % 101) + 1),
            };
            csv.push_str(&format!(
                "{n},S{i},ITEM,2,2011-01-01 10:00:00,{price},{},{country}\n",
                10_000 + n % 50
            ));
        }
    }
    let (spec, parsed) = inspect(csv.as_bytes());
    let (df, _, report) = clean::clean(parsed, &spec, Preset::Parity, &NoProgress).unwrap();
    assert_eq!(df.height(), 1250);
    let geo = report
        .rules
        .iter()
        .find(|r| r.rule == "geographic_filter")
        .unwrap();
    assert_eq!(geo.removed, 299);
    let tiers: Vec<(String, u8, String, bool)> = report
        .countries
        .unwrap()
        .into_iter()
        .map(|c| (c.country, c.tier, c.region, c.kept))
        .collect();
    assert!(tiers.contains(&("EIRE".into(), 2, "Other".into(), false)));
    assert!(tiers.contains(&("USA".into(), 3, "Americas".into(), false)));
    assert!(tiers.contains(&("Japan".into(), 2, "Asia-Pacific".into(), true)));
    assert!(tiers.contains(&("United Kingdom".into(), 1, "Europe".into(), true)));

    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "InvoiceNo",
            "StockCode",
            "Description",
            "Quantity",
            "InvoiceDate",
            "UnitPrice",
            "CustomerID",
            "Country",
            "Country_Tier",
            "Region",
            "UnitPrice_Log",
            "UnitPrice_Winsorized",
            "TotalValue",
            "TotalValue_Log",
            "Price_Segment"
        ]
    );
    let (lo, hi) = report.winsor_limits.unwrap();
    let mut prices: Vec<f64> = df
        .column("UnitPrice")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    prices.sort_by(f64::total_cmp);
    assert_eq!(lo, tablero_core::stats::quantile_sorted(&prices, 0.01));
    assert_eq!(hi, tablero_core::stats::quantile_sorted(&prices, 0.99));
    let rows = table::rows_as_strings(&df);
    for r in rows {
        let p: f64 = r[5].parse().unwrap();
        let expected_segment = if p <= 1.0 {
            "Bajo"
        } else if p <= 5.0 {
            "Medio"
        } else if p <= 20.0 {
            "Alto"
        } else {
            "Premium"
        };
        assert_eq!(r[14], expected_segment, "price {p}");
        assert_eq!(r[10].parse::<f64>().unwrap(), p.ln_1p());
        assert_eq!(r[11].parse::<f64>().unwrap(), p.clamp(lo, hi));
        assert_eq!(r[12].parse::<f64>().unwrap(), 2.0 * p);
        assert_eq!(
            r[9],
            if r[7] == "Japan" {
                "Asia-Pacific"
            } else {
                "Europe"
            }
        );
        assert_eq!(r[8], if r[7] == "United Kingdom" { "1" } else { "2" });
    }
}

/// A tiny deterministic generator (no external crates for one test).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

#[test]
fn standard_features_ignore_every_row_after_the_cutoff() {
    let base = String::from_utf8(read("features/transactions.csv")).unwrap();
    let cutoff = parse_user_timestamp("2011-02-01 12:00:00").unwrap();
    let params = FeatureParams {
        preset: Preset::Standard,
        cutoff: Some(cutoff),
        horizon_days: 90,
    };
    let run = |csv: &str| {
        let (df, meta) = clean_standard(csv.as_bytes());
        features::features(&df, Some(&meta), params, &NoProgress)
            .unwrap()
            .0
    };
    let reference = run(&base);
    let features_only: Vec<&str> = COLUMNS.iter().copied().filter(|c| *c != TARGET).collect();
    let mut rng = Lcg(123);
    for trial in 0..25 {
        // Append rows after the cut-off: existing and new customers, extreme
        // values, other countries and products, later years.
        let mut csv = base.clone();
        for k in 0..(1 + rng.next() % 40) {
            let customer = 100 + rng.next() % 10;
            let secs = 1 + rng.next() % (400 * 86_400);
            let when = dates::format_ns(cutoff + secs as i64 * 1_000_000_000);
            let qty = 1 + rng.next() % 1000;
            let price = (1 + rng.next() % 100_000) as f64 / 7.0;
            let country = ["Spain", "Japan", "Brazil", "United Kingdom"][(rng.next() % 4) as usize];
            csv.push_str(&format!(
                "X{trial}-{k},Q{},NEW,{qty},{when},{price},{customer},{country}\n",
                rng.next() % 9
            ));
        }
        let mutated = run(&csv);
        assert_eq!(
            mutated.height(),
            reference.height(),
            "trial {trial}: customers changed"
        );
        for col in &features_only {
            assert!(
                mutated
                    .column(col)
                    .unwrap()
                    .equals_missing(reference.column(col).unwrap()),
                "trial {trial}: feature {col} changed when only rows after the cut-off were added"
            );
        }
    }
}

/// The block-by-block clean stage (what jobs run for `standard`) against
/// the in-memory one, with blocks of 4 KiB so that hundreds of blocks meet
/// in one file and duplicates repeat rows of earlier blocks: the same
/// counts, the same examples, the same table.
#[test]
fn clean_block_by_block_equals_clean_in_memory() {
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/sample/online_retail_sample.csv");
    let mut bytes = std::fs::read(&sample).expect("the sample");
    // Repeat 200 rows from the start at the end: duplicates blocks apart.
    let text = String::from_utf8(bytes.clone()).expect("utf-8");
    let repeated: String = text
        .lines()
        .skip(1)
        .take(200)
        .map(|l| format!("{l}\n"))
        .collect();
    if !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(repeated.as_bytes());

    for (name, bytes) in [("rules.csv", read("clean/rules.csv")), ("sample", bytes)] {
        let (spec, parsed) = inspect(&bytes);
        let (df, meta, report) =
            clean::clean(parsed, &spec, Preset::Standard, &NoProgress).unwrap();
        let blocks = ingest::BlockReader::new(&bytes[..], spec.encoding, 4096);
        let (parquet, streamed_meta, streamed) =
            clean::clean_blocks(blocks, bytes.len() as u64, &spec, &NoProgress, None).unwrap();

        assert_eq!(streamed_meta, meta, "{name}");
        assert_eq!(streamed.rows_in, report.rows_in, "{name}");
        assert_eq!(streamed.rows_out, report.rows_out, "{name}");
        assert_eq!(streamed.customers, report.customers, "{name}");
        assert_eq!(streamed.rules, report.rules, "{name}: counts and examples");
        assert!(report.rules[1].removed > 0, "{name}: has duplicates");
        let table = table::from_parquet(&parquet).unwrap();
        assert_eq!(table::parquet_meta(&parquet).unwrap(), Some(meta), "{name}");
        assert!(table.equals_missing(&df), "{name}: the tables differ");
        // Column summaries to the last bit (the means included).
        assert_eq!(streamed.columns, report.columns, "{name}");

        // Parity, in two passes: the same report (rules, examples, country
        // tiers, limits, summaries) and table.
        let (df, meta, report) = clean::clean(
            ingest::parse(&bytes, &spec).unwrap(),
            &spec,
            Preset::Parity,
            &NoProgress,
        )
        .unwrap();
        let open = || Ok(ingest::BlockReader::new(&bytes[..], spec.encoding, 4096));
        let (parquet, streamed_meta, streamed) =
            clean::clean_blocks_parity(open, bytes.len() as u64, &spec, &NoProgress, None).unwrap();
        assert_eq!(streamed_meta, meta, "{name}");
        // Debug text: exact for floats (shortest round trip) and equal for
        // the NaN limits of a table with no rows.
        assert_eq!(
            format!("{streamed:?}"),
            format!("{report:?}"),
            "{name}: parity report"
        );
        assert!(report.rules[5].removed > 0 || name == "rules.csv");
        let table = table::from_parquet(&parquet).unwrap();
        assert!(
            table.equals_missing(&df),
            "{name}: the parity tables differ"
        );
        assert_eq!(table::parquet_meta(&parquet).unwrap(), Some(meta), "{name}");
    }
}

/// A file whose rows change between the two parity passes is refused.
#[test]
fn parity_block_by_block_refuses_a_file_changed_between_its_passes() {
    let bytes = read("clean/rules.csv");
    let (spec, _) = inspect(&bytes);
    let shorter: Vec<u8> = {
        let text = String::from_utf8(bytes.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        format!("{}\n", lines[..lines.len() - 1].join("\n")).into_bytes()
    };
    let calls = std::cell::Cell::new(0);
    let open = || {
        calls.set(calls.get() + 1);
        let b: &[u8] = if calls.get() == 1 { &bytes } else { &shorter };
        Ok(ingest::BlockReader::new(b, spec.encoding, 4096))
    };
    let err =
        clean::clean_blocks_parity(open, bytes.len() as u64, &spec, &NoProgress, None).unwrap_err();
    assert!(
        err.to_string().contains("changed while it was cleaned"),
        "{err}"
    );
}

/// `etl run`'s hand-over: the features' input kept as the clean stage
/// writes its table (both presets, blocks of 4 KiB so that the input grows
/// a block at a time) gives the same features table, metadata and report
/// as the features stage reading that table back, and the clean stage's
/// own table is unchanged by keeping it.
#[test]
fn features_of_the_kept_input_equal_features_of_the_table() {
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/sample/online_retail_sample.csv");
    let bytes = std::fs::read(&sample).expect("the sample");
    let (spec, _) = inspect(&bytes);
    for preset in [Preset::Standard, Preset::Parity] {
        let clean_with = |gather: Option<&mut features::Input>| {
            let blocks = || Ok(ingest::BlockReader::new(&bytes[..], spec.encoding, 4096));
            let size = bytes.len() as u64;
            match preset {
                Preset::Standard => {
                    clean::clean_blocks(blocks().unwrap(), size, &spec, &NoProgress, gather)
                }
                Preset::Parity => {
                    clean::clean_blocks_parity(blocks, size, &spec, &NoProgress, gather)
                }
            }
            .unwrap()
        };
        let (alone, _, alone_report) = clean_with(None);
        let mut input = features::Input::new(&clean::table_meta(preset, &spec), 0);
        let (kept_table, meta, report) = clean_with(Some(&mut input));
        assert_eq!(kept_table, alone, "{preset:?}: the clean table changed");
        assert_eq!(format!("{report:?}"), format!("{alone_report:?}"));
        assert_eq!(input.rows() as u64, report.rows_out, "{preset:?}");

        let params = FeatureParams {
            preset,
            ..FeatureParams::default()
        };
        let table = table::from_parquet(&kept_table).unwrap();
        let (want, want_meta, want_report) =
            features::features(&table, Some(&meta), params, &NoProgress).unwrap();
        let (got, got_meta, got_report) =
            features::features_of(input, params, &NoProgress).unwrap();
        assert!(want.height() > 100, "{preset:?}: customers");
        assert!(got.equals_missing(&want), "{preset:?}: the features differ");
        assert_eq!(got_meta, want_meta, "{preset:?}");
        assert_eq!(format!("{got_report:?}"), format!("{want_report:?}"));

        // The kept input is checked as a table's metadata is.
        let mut other = features::Input::new(&clean::table_meta(preset, &spec), 0);
        other.add(&table).unwrap();
        let wrong = FeatureParams {
            preset: match preset {
                Preset::Standard => Preset::Parity,
                Preset::Parity => Preset::Standard,
            },
            ..params
        };
        let err = features::features_of(other, wrong, &NoProgress).unwrap_err();
        assert!(err.to_string().contains("--preset"), "{err}");
    }
}
