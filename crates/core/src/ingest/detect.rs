//! Detection: the delimiter, the header, the column mapping, the date format.

use super::*;

/// Counts candidate delimiters outside quotes in the header line.
pub(super) fn detect_delimiter(header: &str) -> Option<u8> {
    let mut best = None;
    let mut best_count = 0;
    for d in [b',', b';', b'\t', b'|'] {
        let mut in_quotes = false;
        let mut count = 0;
        for &b in header.as_bytes() {
            if b == b'"' {
                in_quotes = !in_quotes;
            } else if b == d && !in_quotes {
                count += 1;
            }
        }
        if count > best_count {
            best = Some(d);
            best_count = count;
        }
    }
    best
}

pub(super) fn read_header(text: &str, delimiter: u8) -> Result<Vec<String>, IngestError> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    Ok(rdr
        .headers()
        .map_err(|e| malformed(&e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect())
}

pub(super) fn normalise(h: &str) -> String {
    h.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

pub(super) fn map_columns(
    header: &[String],
    given: &[(String, Canonical)],
) -> Result<Vec<MappedColumn>, IngestError> {
    let mut mapping: Vec<MappedColumn> = Vec::new();
    for (col, c) in given {
        if !header.iter().any(|h| h == col) {
            return Err(IngestError::BadMapping {
                entry: format!("{col}={c}"),
                reason: format!(
                    "the file has no column {col:?}; columns found: {}",
                    header.join(", ")
                ),
            });
        }
        if let Some(prev) = mapping.iter().find(|m| m.canonical == *c) {
            return Err(IngestError::BadMapping {
                entry: format!("{col}={c}"),
                reason: format!("{c} is already mapped to {:?}", prev.column),
            });
        }
        mapping.push(MappedColumn {
            column: col.clone(),
            canonical: *c,
            how: "given".into(),
        });
    }
    for h in header {
        if mapping.iter().any(|m| &m.column == h) {
            continue;
        }
        let n = normalise(h);
        if let Some(c) = Canonical::ALL
            .into_iter()
            .find(|c| c.aliases().contains(&n.as_str()))
        {
            if !mapping.iter().any(|m| m.canonical == c) {
                mapping.push(MappedColumn {
                    column: h.clone(),
                    canonical: c,
                    how: "alias".into(),
                });
            }
        }
    }
    let has = |c: Canonical| mapping.iter().any(|m| m.canonical == c);
    let mut missing: Vec<String> = [
        Canonical::CustomerId,
        Canonical::InvoiceDate,
        Canonical::Quantity,
    ]
    .into_iter()
    .filter(|c| !has(*c))
    .map(|c| c.name().to_string())
    .collect();
    if !has(Canonical::UnitPrice) && !has(Canonical::Amount) {
        missing.push("unit_price (or amount)".into());
    }
    if !missing.is_empty() {
        return Err(IngestError::MissingColumns {
            missing,
            found: header.to_vec(),
        });
    }
    mapping.sort_by_key(|m| Canonical::ALL.iter().position(|c| *c == m.canonical));
    Ok(mapping)
}

/// Up to `max` non-empty values of one column, spread over the whole file.
pub(super) fn sample_column(
    text: &str,
    delimiter: u8,
    idx: usize,
    max: usize,
    stop: &AtomicBool,
) -> Result<Vec<String>, IngestError> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rec = csv::ByteRecord::new();
    let mut all = Vec::new();
    let mut stride = 1usize;
    let mut seen = 0usize;
    while rdr.read_byte_record(&mut rec).map_err(|e| malformed(&e))? {
        seen += 1;
        if seen.is_multiple_of(STOP_CHECK_ROWS) && stop.load(Ordering::Relaxed) {
            return Err(IngestError::Stopped);
        }
        if !seen.is_multiple_of(stride) {
            continue;
        }
        if let Some(v) = rec.get(idx).and_then(|v| std::str::from_utf8(v).ok()) {
            let v = v.trim();
            if !v.is_empty() {
                all.push(v.to_string());
            }
        }
        if all.len() >= max * 2 {
            // Keep every other value and sample half as often from now on.
            all = all.into_iter().step_by(2).collect();
            stride *= 2;
        }
    }
    Ok(all)
}

/// The candidate format that parses the most sampled values (ties: the
/// earlier candidate), if any parses at least one.
pub(super) fn detect_best_format(samples: &[String]) -> Option<DateFormat> {
    if let Some(f) = dates::detect_format(samples.iter().map(String::as_str)) {
        return Some(f);
    }
    dates::CANDIDATE_FORMATS
        .iter()
        .filter_map(|p| DateFormat::new(p))
        .map(|f| (samples.iter().filter(|s| f.parse(s).is_some()).count(), f))
        .filter(|(n, _)| *n > 0)
        .fold(
            None,
            |best: Option<(usize, DateFormat)>, (n, f)| match best {
                Some((bn, bf)) if bn >= n => Some((bn, bf)),
                _ => Some((n, f)),
            },
        )
        .map(|(_, f)| f)
}
