//! CSV ingestion: encoding, delimiter and date-format detection, the column
//! mapping, validation at upload, and parsing into typed [`Transactions`].
//!
//! There is one CSV reader in Tablero and it is this module: upload
//! validation, the clean stage and previews all go through it, so a file that
//! passes upload is read the same way by every later stage.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::dates::{self, DateFormat};
use crate::report::RowExample;
use crate::strcol::StrCol;

mod blocks;
mod columns;
mod detect;
mod encoding;
mod error;
mod parser;
mod split;
mod stream;
#[cfg(test)]
mod tests;
mod tokenize;

pub use blocks::{parse_blocks, Block, BlockReader, BLOCK_BYTES};
pub use columns::{parse_mapping, Canonical, IngestSpec, MappedColumn};
pub use encoding::{decode, Encoding};
pub use error::IngestError;
pub use parser::{parse_num, Transactions};
pub use split::split_at_rows;
pub use stream::{detect, read_head, validate, HEAD_BYTES};

use detect::*;
use error::*;
use parser::*;
use split::*;
use tokenize::*;

/// What the user says about a file at upload; everything unset is detected.
#[derive(Debug, Clone, Default)]
pub struct CsvOptions {
    /// Declared encoding.
    pub encoding: Option<Encoding>,
    /// Declared delimiter.
    pub delimiter: Option<u8>,
    /// Declared date format (strftime subset, see [`DateFormat`]).
    pub date_format: Option<String>,
    /// `--map` entries: header → canonical column. They win over aliases.
    pub mapping: Vec<(String, Canonical)>,
}

/// Object metadata key holding the upload's [`IngestSpec`] as JSON: how the
/// stored CSV is read again (by previews, the clean stage, exports).
pub const INGEST_META: &str = "ingest";

/// The way to read a stored CSV, from its object metadata.
pub fn stored_spec(info: &crate::store::ObjectInfo) -> crate::Result<IngestSpec> {
    let json = info.metadata.get(INGEST_META).ok_or_else(|| {
        crate::Error::WrongInput(format!(
            "{}/{} has no stored column mapping; upload CSVs with `tablero data upload`",
            info.bucket, info.key
        ))
    })?;
    serde_json::from_str(json).map_err(|e| {
        crate::Error::WrongInput(format!(
            "{}/{}: stored mapping is unreadable: {e}",
            info.bucket, info.key
        ))
    })
}

/// The result of reading a whole file.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// Rows whose required values all parsed.
    pub rows: Transactions,
    /// Data rows read (parsed or not).
    pub rows_read: u64,
    /// Rows refused because a required value did not parse.
    pub unparseable: u64,
    /// Up to 5 of them, with the reason.
    pub unparseable_examples: Vec<RowExample>,
}

/// Validates a file as at upload and parses it: the spec to store beside the
/// object and the parsed rows. Nothing is written by this function; the
/// caller writes only when it returns `Ok`.
pub fn inspect(bytes: &[u8], opts: &CsvOptions) -> Result<(IngestSpec, Parsed), IngestError> {
    inspect_until(bytes, opts, &AtomicBool::new(false))
}

/// [`inspect`] that gives up with [`IngestError::Stopped`] soon after `stop`
/// is set (the parser threads look at it every few thousand rows), so a
/// large upload can be cancelled while it is validated.
pub fn inspect_until(
    bytes: &[u8],
    opts: &CsvOptions,
    stop: &AtomicBool,
) -> Result<(IngestSpec, Parsed), IngestError> {
    let (text, spec) = detect_text(bytes, opts, stop)?;
    let parsed = parse_text(&text, &spec, true, stop)?;
    Ok((spec, parsed))
}

/// Decodes `bytes` (a whole file, or the head of one: whole records) and
/// works out how the file is read: encoding, delimiter, header, mapping and
/// date format. Returns the text too.
fn detect_text<'a>(
    bytes: &'a [u8],
    opts: &CsvOptions,
    stop: &AtomicBool,
) -> Result<(Cow<'a, str>, IngestSpec), IngestError> {
    if bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(bytes)
        .iter()
        .all(|b| b.is_ascii_whitespace())
    {
        return Err(IngestError::Empty);
    }
    let (text, encoding) = decode(bytes, opts.encoding)?;
    let header_line = text.lines().next().unwrap_or("");
    let delimiter = match opts.delimiter {
        Some(d) => d,
        None => detect_delimiter(header_line).ok_or_else(|| IngestError::SingleColumn {
            delimiter: ",".into(),
            header: header_line.to_string(),
        })?,
    };
    let header = read_header(&text, delimiter)?;
    if header.len() < 2 {
        return Err(IngestError::SingleColumn {
            delimiter: (delimiter as char).to_string(),
            header: header_line.to_string(),
        });
    }
    let mapping = map_columns(&header, &opts.mapping)?;
    let date_col = mapping
        .iter()
        .find(|m| m.canonical == Canonical::InvoiceDate)
        .map(|m| m.column.clone())
        .unwrap_or_default();
    let date_idx = header.iter().position(|h| *h == date_col).unwrap_or(0);
    let date_format = match &opts.date_format {
        Some(p) => DateFormat::new(p).ok_or_else(|| IngestError::BadDateFormat(p.clone()))?,
        None => {
            let samples = sample_column(&text, delimiter, date_idx, 20_000, stop)?;
            if samples.is_empty() {
                return Err(IngestError::NoRows {
                    columns: header.len(),
                });
            }
            detect_best_format(&samples).ok_or_else(|| IngestError::NoParseableValue {
                column: date_col.clone(),
                canonical: Canonical::InvoiceDate,
                expected: "a date (tried the formats in docs/cli.md; give one with --date-format)"
                    .into(),
                examples: samples.iter().take(3).cloned().collect(),
            })?
        }
    };
    let spec = IngestSpec {
        encoding,
        delimiter: (delimiter as char).to_string(),
        date_format: date_format.pattern().to_string(),
        columns: header,
        mapping,
    };
    Ok((text, spec))
}

/// Reads a stored raw object with its stored spec (used by the clean stage).
pub fn parse(bytes: &[u8], spec: &IngestSpec) -> Result<Parsed, IngestError> {
    if bytes.is_empty() {
        return Err(IngestError::Empty);
    }
    let (text, _) = decode(bytes, Some(spec.encoding))?;
    parse_text(&text, spec, false, &AtomicBool::new(false))
}

/// The header and up to `n` data rows as strings, for previews. Reads only
/// as much of `bytes` as needed; a cut last line is dropped.
pub fn head(
    bytes: &[u8],
    spec: &IngestSpec,
    n: usize,
) -> Result<(Vec<String>, Vec<Vec<String>>), IngestError> {
    let (text, _) = match decode(bytes, Some(spec.encoding)) {
        Ok(t) => t,
        // A range read may cut a multi-byte character at its end.
        Err(IngestError::Encoding { offset, .. })
            if spec.encoding == Encoding::Utf8 && offset + 4 > bytes.len() =>
        {
            decode(&bytes[..offset], Some(Encoding::Utf8))?
        }
        Err(e) => return Err(e),
    };
    let complete = match text.rfind('\n') {
        Some(p) => &text[..=p],
        None => &text[..],
    };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(spec.delimiter_byte())
        .flexible(true)
        .from_reader(complete.as_bytes());
    let header = rdr
        .headers()
        .map_err(|e| malformed(&e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for rec in rdr.records().take(n) {
        let rec = rec.map_err(|e| malformed(&e))?;
        rows.push(rec.iter().map(|f| f.trim().to_string()).collect());
    }
    Ok((header, rows))
}
