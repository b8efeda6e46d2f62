//! Scoring a batch CSV: split at row boundaries, scored on every core, the
//! parts joined in order, with their tallies and live-sample candidates.

use tablero_core::train::dataset::{FeatureSpec, Value};
use tablero_core::train::model::Model;

use crate::reservoir::{BatchSample, PartSampler};
use crate::window::Tally;

/// A scored CSV: the bytes, counts of label 0 and 1, the output columns.
pub struct ScoredCsv {
    /// The CSV.
    pub bytes: Vec<u8>,
    /// Customers predicted 0 and 1.
    pub counts: [u64; 2],
    /// Output columns.
    pub columns: Vec<String>,
    /// The rows on the model card's baseline bins (for the metrics).
    pub tally: Tally,
    /// Candidates for the live sample (empty unless asked for).
    pub sample: BatchSample,
}

/// Scores a CSV of customer feature rows: the input columns plus
/// `prediction_label`, `prediction_score` (probability of the predicted
/// label), `purchase_probability` and `Prediction`.
///
/// Rows are parsed, scored and written in one pass; the file is split at
/// row boundaries (`tablero_core::ingest::split_at_rows`: quoted newlines
/// stay in their row) and scored on every core, the parts joined in order.
pub fn score_csv(model: &Model, bytes: &[u8]) -> Result<ScoredCsv, String> {
    score_csv_sampled(model, bytes, 0, 0)
}

/// [`score_csv`], also keeping a uniform sample of up to `sample` rows per
/// part for the live sample (`seed` seeds the parts' draws).
pub fn score_csv_sampled(
    model: &Model,
    bytes: &[u8],
    sample: usize,
    seed: u64,
) -> Result<ScoredCsv, String> {
    std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not UTF-8 text (byte {}); send a CSV",
            e.valid_up_to()
        )
    })?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("not a CSV: {e}"))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let body_start = usize::try_from(rdr.position().byte())
        .map_err(|_| "the file is too large".to_string())?
        .min(bytes.len());
    let body = &bytes[body_start..];
    let features = &model.encoder.features;
    let missing: Vec<&str> = features
        .iter()
        .map(|f| f.name())
        .filter(|n| !header.iter().any(|h| h == n))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "not a CSV of customer features: missing columns {}",
            missing.join(", ")
        ));
    }
    let idx: Vec<usize> = features
        .iter()
        .map(|f| header.iter().position(|h| h == f.name()).unwrap_or(0))
        .collect();
    let mut columns = header.clone();
    columns.extend(
        [
            "prediction_label",
            "prediction_score",
            "purchase_probability",
            "Prediction",
        ]
        .map(String::from),
    );
    let mut out = csv::Writer::from_writer(Vec::with_capacity(bytes.len() * 2));
    out.write_record(&columns).map_err(|e| e.to_string())?;
    let mut out = out.into_inner().map_err(|e| e.to_string())?;

    // The one CSV reader's row splitter: quoted newlines stay inside a part.
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let parts = tablero_core::ingest::split_at_rows(body, workers);
    let width = header.len();
    let results: Vec<Result<ScoredPart, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .enumerate()
            .map(|(i, &(start, end, first_line))| {
                let first_line = first_line as usize;
                let idx = &idx;
                let sampler = PartSampler::new(
                    sample,
                    seed.wrapping_add((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
                );
                s.spawn(move || {
                    score_part(model, &body[start..end], idx, first_line, width, sampler)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("scoring failed".into())))
            .collect()
    });
    let mut tally = Tally::new(model);
    let mut batch_sample = BatchSample::default();
    for r in results {
        let (bytes, t, sampler) = r?;
        out.extend_from_slice(&bytes);
        tally.merge(&t);
        batch_sample.parts.push((sampler.seen, sampler.rows));
    }
    let counts = [tally.predictions - tally.positives, tally.positives];
    if counts[0] + counts[1] == 0 {
        return Err("the CSV has a header but no customer rows".into());
    }
    Ok(ScoredCsv {
        bytes: out,
        counts,
        columns,
        tally,
        sample: batch_sample,
    })
}

/// One part of a batch: its scored CSV rows, their tally, its sample.
type ScoredPart = (Vec<u8>, Tally, PartSampler);

/// Parses, scores and writes one part of a batch CSV, a block of rows at a
/// time (see [`Model::predict`]).
fn score_part(
    model: &Model,
    part: &[u8],
    idx: &[usize],
    first_line: usize,
    width: usize,
    mut sampler: PartSampler,
) -> Result<ScoredPart, String> {
    const BLOCK: usize = 256;
    let features = &model.encoder.features;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(part);
    let mut out = csv::Writer::from_writer(Vec::with_capacity(part.len() * 2));
    let mut recs: Vec<csv::ByteRecord> = vec![csv::ByteRecord::new(); BLOCK];
    let mut values: Vec<Vec<Value>> = (0..BLOCK)
        .map(|_| Vec::with_capacity(features.len()))
        .collect();
    let mut tally = Tally::new(model);
    let mut number = String::new();
    loop {
        let mut filled = 0;
        while filled < BLOCK {
            let rec = &mut recs[filled];
            let more = rdr.read_byte_record(rec).map_err(|e| {
                let line = e.position().map_or(0, |p| p.line() as usize);
                format!("line {}: {e}", first_line + line.saturating_sub(1))
            })?;
            if !more {
                break;
            }
            let line = first_line
                + rec
                    .position()
                    .map_or(0, |p| p.line() as usize)
                    .saturating_sub(1);
            if rec.len() != width {
                return Err(format!(
                    "line {line}: {} fields where the header has {width}",
                    rec.len()
                ));
            }
            let row = &mut values[filled];
            row.clear();
            for (f, &i) in features.iter().zip(idx) {
                let cell = std::str::from_utf8(rec.get(i).unwrap_or_default())
                    .unwrap_or_default()
                    .trim();
                row.push(match f {
                    FeatureSpec::Numeric { name, .. } => {
                        if cell.is_empty() {
                            Value::Num(f64::NAN)
                        } else {
                            match cell.parse::<f64>() {
                                Ok(x) if x.is_finite() => Value::Num(x),
                                _ => {
                                    return Err(format!(
                                        "line {line}: {name} = {cell:?} is not a number"
                                    ))
                                }
                            }
                        }
                    }
                    FeatureSpec::Categorical { .. } => {
                        Value::Text((!cell.is_empty()).then(|| cell.to_string()))
                    }
                });
            }
            filled += 1;
        }
        if filled == 0 {
            break;
        }
        let (preds, _) = model.predict(&values[..filled]);
        tally.add(model, &values[..filled], &preds);
        for row in &values[..filled] {
            sampler.offer(row);
        }
        for (rec, p) in recs.iter().zip(&preds) {
            for field in rec.iter() {
                out.write_field(field).map_err(|e| e.to_string())?;
            }
            let label_prob = if p.label == 1 { p.score } else { 1.0 - p.score };
            out.write_field(if p.label == 1 { "1" } else { "0" })
                .map_err(|e| e.to_string())?;
            use std::fmt::Write as _;
            number.clear();
            let _ = write!(number, "{label_prob}");
            out.write_field(&number).map_err(|e| e.to_string())?;
            number.clear();
            let _ = write!(number, "{}", p.score);
            out.write_field(&number).map_err(|e| e.to_string())?;
            out.write_field(if p.label == 1 {
                "Buy in 90 days"
            } else {
                "Will not buy in 90 days"
            })
            .map_err(|e| e.to_string())?;
            out.write_record(None::<&[u8]>).map_err(|e| e.to_string())?;
        }
        if filled < BLOCK {
            break;
        }
    }
    let bytes = out.into_inner().map_err(|e| e.to_string())?;
    Ok((bytes, tally, sampler))
}
