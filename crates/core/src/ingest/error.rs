//! Why a file is refused.

use super::*;

/// Why a file is refused. Each names the problem and what was found, so the
/// user can fix the file or the mapping.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IngestError {
    /// The caller asked the validation to stop (see [`inspect_until`]).
    #[error("validation stopped: the upload was cancelled")]
    Stopped,
    /// Zero bytes, or only a byte-order mark and white space.
    #[error("the file is empty: there is no header and no data")]
    Empty,
    /// A header and nothing else.
    #[error("the file has a header ({columns} columns) but no data rows")]
    NoRows {
        /// Number of header columns.
        columns: usize,
    },
    /// Bytes that the encoding cannot decode.
    #[error(
        "byte 0x{byte:02X} at offset {offset} is not valid {encoding}; \
         declare the file's real encoding with --encoding (utf-8, windows-1252 or latin-1)"
    )]
    Encoding {
        /// The declared or detected encoding.
        encoding: &'static str,
        /// Offset of the first bad byte from the start of the file.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// The delimiter splits the header into a single column.
    #[error(
        "the delimiter {delimiter:?} yields a single column (header: {header:?}); \
         give the right one with --delimiter (',', ';', '\\t' or '|')"
    )]
    SingleColumn {
        /// The delimiter tried.
        delimiter: String,
        /// The header line as read.
        header: String,
    },
    /// Required canonical columns that no header maps to.
    #[error(
        "missing required column(s) {}; columns found: {}. Map them with --map \"HEADER=canonical,...\"",
        missing.join(", "), found.join(", ")
    )]
    MissingColumns {
        /// The canonical names missing.
        missing: Vec<String>,
        /// The headers found in the file.
        found: Vec<String>,
    },
    /// A row with a different number of fields than the header.
    #[error("line {line} has {found} fields, the header has {expected}; fix or remove that line")]
    Ragged {
        /// 1-based line number (the header is line 1).
        line: u64,
        /// Fields in the header.
        expected: usize,
        /// Fields on that line.
        found: usize,
    },
    /// A required column in which not a single value parses.
    #[error(
        "no value in column {column:?} (mapped to {canonical}) parses as {expected}; examples: {}",
        examples.join(" | ")
    )]
    NoParseableValue {
        /// The header.
        column: String,
        /// Its canonical meaning.
        canonical: Canonical,
        /// What was expected (a number, a date in a format…).
        expected: String,
        /// A few values as found.
        examples: Vec<String>,
    },
    /// A `--map` entry that cannot be used.
    #[error("bad column mapping {entry:?}: {reason}")]
    BadMapping {
        /// The entry as given.
        entry: String,
        /// Why.
        reason: String,
    },
    /// A `--date-format` that is not understood.
    #[error("date format {0:?} is not supported; use %Y %y %m %d %H %M %S and literal characters")]
    BadDateFormat(String),
    /// The file could not be read to its end.
    #[error("reading the file failed: {0}")]
    Read(String),
    /// The CSV structure itself is broken (for example an unclosed quote).
    #[error("line {line}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: u64,
        /// What the reader reported.
        reason: String,
    },
}

pub(super) fn malformed(e: &csv::Error) -> IngestError {
    IngestError::Malformed {
        line: e.position().map(|p| p.line()).unwrap_or(0),
        reason: e.to_string(),
    }
}
