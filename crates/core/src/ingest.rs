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

/// The canonical columns every stage works with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Canonical {
    /// Who bought (required; missing values are dropped by the clean stage).
    CustomerId,
    /// When (required).
    InvoiceDate,
    /// How many units (required).
    Quantity,
    /// Price of one unit (required unless `amount` is given).
    UnitPrice,
    /// Line total (required unless `unit_price` is given).
    Amount,
    /// Order id (optional: when absent each row is one order).
    InvoiceId,
    /// Product id (optional).
    ProductId,
    /// Product description (optional).
    Description,
    /// Country (optional).
    Country,
}

impl Canonical {
    /// Every canonical column, in output order.
    pub const ALL: [Canonical; 9] = [
        Canonical::InvoiceId,
        Canonical::ProductId,
        Canonical::Description,
        Canonical::Quantity,
        Canonical::InvoiceDate,
        Canonical::UnitPrice,
        Canonical::Amount,
        Canonical::CustomerId,
        Canonical::Country,
    ];

    /// The snake_case name used in mappings, reports and the clean output.
    pub fn name(self) -> &'static str {
        match self {
            Canonical::CustomerId => "customer_id",
            Canonical::InvoiceDate => "invoice_date",
            Canonical::Quantity => "quantity",
            Canonical::UnitPrice => "unit_price",
            Canonical::Amount => "amount",
            Canonical::InvoiceId => "invoice_id",
            Canonical::ProductId => "product_id",
            Canonical::Description => "description",
            Canonical::Country => "country",
        }
    }

    /// Parses a canonical name as written in `--map`.
    pub fn from_name(s: &str) -> Option<Canonical> {
        Canonical::ALL.into_iter().find(|c| c.name() == s.trim())
    }

    /// The header names recognised without a mapping, normalised (lower
    /// case, letters and digits only).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Canonical::CustomerId => &[
                "customerid",
                "customer",
                "customerno",
                "customernumber",
                "custid",
                "clientid",
                "client",
            ],
            Canonical::InvoiceDate => &[
                "invoicedate",
                "date",
                "orderdate",
                "transactiondate",
                "purchasedate",
                "timestamp",
                "datetime",
            ],
            Canonical::Quantity => &["quantity", "qty", "units"],
            Canonical::UnitPrice => &["unitprice", "price", "priceperunit", "unitcost"],
            Canonical::Amount => &[
                "amount",
                "linetotal",
                "total",
                "totalvalue",
                "totalprice",
                "sales",
                "revenue",
            ],
            Canonical::InvoiceId => &[
                "invoiceno",
                "invoice",
                "invoiceid",
                "invoicenumber",
                "orderid",
                "orderno",
                "ordernumber",
                "transactionid",
            ],
            Canonical::ProductId => &[
                "stockcode",
                "productid",
                "product",
                "sku",
                "itemid",
                "productcode",
                "itemcode",
            ],
            Canonical::Description => &["description", "productname", "itemname", "desc"],
            Canonical::Country => &["country", "countryname"],
        }
    }
}

impl fmt::Display for Canonical {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Text encodings Tablero reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Encoding {
    /// UTF-8 (a leading byte-order mark is skipped).
    #[serde(rename = "utf-8")]
    Utf8,
    /// ISO-8859-1. Bytes 0x80–0x9F are control characters there and are
    /// refused, since they only appear when the file is really in another
    /// encoding.
    #[serde(rename = "latin-1")]
    Latin1,
}

impl Encoding {
    /// Parses `utf-8` / `utf8` / `latin-1` / `latin1` / `iso-8859-1`.
    pub fn from_name(s: &str) -> Option<Encoding> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" => Some(Encoding::Latin1),
            _ => None,
        }
    }

    /// The name used in specs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Latin1 => "latin-1",
        }
    }
}

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

/// Parses a `--map` value: `"Customer ID=customer_id,Price=unit_price"`.
pub fn parse_mapping(s: &str) -> Result<Vec<(String, Canonical)>, IngestError> {
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        let (header, canon) = part
            .split_once('=')
            .ok_or_else(|| IngestError::BadMapping {
                entry: part.to_string(),
                reason: "expected HEADER=canonical_name".into(),
            })?;
        let c = Canonical::from_name(canon).ok_or_else(|| IngestError::BadMapping {
            entry: part.to_string(),
            reason: format!(
                "{:?} is not a canonical column; use one of {}",
                canon.trim(),
                Canonical::ALL.map(|c| c.name()).join(", ")
            ),
        })?;
        out.push((header.trim().to_string(), c));
    }
    Ok(out)
}

/// One mapped column of a stored upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MappedColumn {
    /// The header as found in the file.
    pub column: String,
    /// What it means.
    pub canonical: Canonical,
    /// `given` (from `--map`) or `alias` (recognised by name).
    pub how: String,
}

/// How to read a stored raw object: fixed at upload, stored beside it, and
/// used by every later read so all stages agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IngestSpec {
    /// The file's encoding.
    pub encoding: Encoding,
    /// The delimiter, as a one-character string (`","`, `";"`, `"\t"`, `"|"`).
    pub delimiter: String,
    /// The date format of `invoice_date`.
    pub date_format: String,
    /// The header as found.
    pub columns: Vec<String>,
    /// Header → canonical column.
    pub mapping: Vec<MappedColumn>,
}

impl IngestSpec {
    fn delimiter_byte(&self) -> u8 {
        self.delimiter.as_bytes().first().copied().unwrap_or(b',')
    }

    /// The header mapped to `c`, if any.
    pub fn column_for(&self, c: Canonical) -> Option<&str> {
        self.mapping
            .iter()
            .find(|m| m.canonical == c)
            .map(|m| m.column.as_str())
    }
}

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
         declare the file's real encoding with --encoding (utf-8 or latin-1)"
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
    /// The CSV structure itself is broken (for example an unclosed quote).
    #[error("line {line}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: u64,
        /// What the reader reported.
        reason: String,
    },
}

/// Decodes the file's bytes: returns the text and the encoding used.
///
/// Without a declared encoding, UTF-8 is tried first and Latin-1 second.
pub fn decode(
    bytes: &[u8],
    declared: Option<Encoding>,
) -> Result<(Cow<'_, str>, Encoding), IngestError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match declared {
        Some(Encoding::Utf8) => std::str::from_utf8(bytes)
            .map(|s| (Cow::Borrowed(s), Encoding::Utf8))
            .map_err(|e| {
                let offset = e.valid_up_to();
                IngestError::Encoding {
                    encoding: "utf-8",
                    offset: offset + bom_len(bytes),
                    byte: bytes[offset],
                }
            }),
        Some(Encoding::Latin1) => decode_latin1(bytes).map(|s| (Cow::Owned(s), Encoding::Latin1)),
        None => match std::str::from_utf8(bytes) {
            Ok(s) => Ok((Cow::Borrowed(s), Encoding::Utf8)),
            Err(_) => decode_latin1(bytes).map(|s| (Cow::Owned(s), Encoding::Latin1)),
        },
    }
}

fn bom_len(_after_bom: &[u8]) -> usize {
    0
}

fn decode_latin1(bytes: &[u8]) -> Result<String, IngestError> {
    if let Some(offset) = bytes.iter().position(|&b| (0x80..=0x9F).contains(&b)) {
        return Err(IngestError::Encoding {
            encoding: "latin-1",
            offset,
            byte: bytes[offset],
        });
    }
    Ok(bytes.iter().map(|&b| b as char).collect())
}

/// Typed transaction rows in canonical columns. Optional columns are `None`
/// when the file has no such column. A missing customer id is `""`.
#[derive(Debug, Clone, Default)]
pub struct Transactions {
    /// Order ids.
    pub invoice_id: Option<StrCol>,
    /// Product ids.
    pub product_id: Option<StrCol>,
    /// Descriptions.
    pub description: Option<StrCol>,
    /// Countries.
    pub country: Option<StrCol>,
    /// Customer ids (`""` when missing), with `17850.0` written `17850`.
    pub customer_id: StrCol,
    /// Timestamps, ns since the epoch.
    pub invoice_date: Vec<i64>,
    /// Units.
    pub quantity: Vec<f64>,
    /// Price of one unit (`amount / quantity` when the file gives a line total).
    pub unit_price: Vec<f64>,
    /// Line total: `quantity * unit_price`, or the file's own when it has no unit price.
    pub amount: Vec<f64>,
    /// Source line of each row (the header is line 1), for examples in reports.
    pub line: Vec<u64>,
    /// 128-bit hash of the row's trimmed fields, for exact-duplicate detection.
    pub row_hash: Vec<u128>,
}

impl Transactions {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.invoice_date.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.invoice_date.is_empty()
    }

    /// The rows at `rows`, in that order.
    pub fn take(&self, rows: &[usize]) -> Transactions {
        let f = |v: &Vec<f64>| rows.iter().map(|&r| v[r]).collect::<Vec<_>>();
        Transactions {
            invoice_id: self.invoice_id.as_ref().map(|c| c.take(rows)),
            product_id: self.product_id.as_ref().map(|c| c.take(rows)),
            description: self.description.as_ref().map(|c| c.take(rows)),
            country: self.country.as_ref().map(|c| c.take(rows)),
            customer_id: self.customer_id.take(rows),
            invoice_date: rows.iter().map(|&r| self.invoice_date[r]).collect(),
            quantity: f(&self.quantity),
            unit_price: f(&self.unit_price),
            amount: f(&self.amount),
            line: rows.iter().map(|&r| self.line[r]).collect(),
            row_hash: rows.iter().map(|&r| self.row_hash[r]).collect(),
        }
    }

    /// The row at `i` as an example for a report.
    pub fn example(&self, i: usize, reason: Option<String>) -> RowExample {
        let mut values = BTreeMap::new();
        let mut put = |c: Canonical, v: String| {
            values.insert(c.name().to_string(), v);
        };
        if let Some(c) = &self.invoice_id {
            put(Canonical::InvoiceId, c.get(i).to_string());
        }
        if let Some(c) = &self.product_id {
            put(Canonical::ProductId, c.get(i).to_string());
        }
        if let Some(c) = &self.description {
            put(Canonical::Description, c.get(i).to_string());
        }
        put(Canonical::Quantity, fmt_num(self.quantity[i]));
        put(
            Canonical::InvoiceDate,
            dates::format_ns(self.invoice_date[i]),
        );
        put(Canonical::UnitPrice, fmt_num(self.unit_price[i]));
        put(Canonical::CustomerId, self.customer_id.get(i).to_string());
        if let Some(c) = &self.country {
            put(Canonical::Country, c.get(i).to_string());
        }
        RowExample {
            line: self.line[i],
            values,
            reason,
        }
    }

    fn append(&mut self, other: Transactions) {
        fn ext(a: &mut Option<StrCol>, b: &Option<StrCol>) {
            if let (Some(a), Some(b)) = (a.as_mut(), b.as_ref()) {
                a.extend(b);
            }
        }
        ext(&mut self.invoice_id, &other.invoice_id);
        ext(&mut self.product_id, &other.product_id);
        ext(&mut self.description, &other.description);
        ext(&mut self.country, &other.country);
        self.customer_id.extend(&other.customer_id);
        self.invoice_date.extend(other.invoice_date);
        self.quantity.extend(other.quantity);
        self.unit_price.extend(other.unit_price);
        self.amount.extend(other.amount);
        self.line.extend(other.line);
        self.row_hash.extend(other.row_hash);
    }
}

fn fmt_num(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
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
    let parsed = parse_text(&text, &spec, true, stop)?;
    Ok((spec, parsed))
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

fn malformed(e: &csv::Error) -> IngestError {
    IngestError::Malformed {
        line: e.position().map(|p| p.line()).unwrap_or(0),
        reason: e.to_string(),
    }
}

/// Counts candidate delimiters outside quotes in the header line.
fn detect_delimiter(header: &str) -> Option<u8> {
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

fn read_header(text: &str, delimiter: u8) -> Result<Vec<String>, IngestError> {
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

fn normalise(h: &str) -> String {
    h.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn map_columns(
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
fn sample_column(
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
        if seen % STOP_CHECK_ROWS == 0 && stop.load(Ordering::Relaxed) {
            return Err(IngestError::Stopped);
        }
        if seen % stride != 0 {
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
fn detect_best_format(samples: &[String]) -> Option<DateFormat> {
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

/// Values that mean "no customer" in exported files.
fn is_null_token(s: &str) -> bool {
    matches!(
        s,
        "" | "NA" | "N/A" | "NULL" | "null" | "NaN" | "nan" | "None" | "none"
    )
}

/// `17850.0` → `17850`, so float-written ids match integer-written ones.
fn normalise_customer(s: &str) -> &str {
    if let Some((int, frac)) = s.split_once('.') {
        if !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b == b'0')
        {
            return int;
        }
    }
    s
}

/// Parses a number; accepts a decimal comma (`2,55`) when there is no dot.
fn parse_num(s: &str) -> Option<f64> {
    let v = match s.parse::<f64>() {
        Ok(v) => v,
        Err(_) => {
            if s.contains(',') && !s.contains('.') && s.matches(',').count() == 1 {
                s.replace(',', ".").parse::<f64>().ok()?
            } else {
                return None;
            }
        }
    };
    v.is_finite().then_some(v)
}

#[derive(Clone, Copy)]
struct Columns {
    customer: usize,
    date: usize,
    quantity: usize,
    price: Option<usize>,
    amount: Option<usize>,
    invoice: Option<usize>,
    product: Option<usize>,
    description: Option<usize>,
    country: Option<usize>,
}

impl Columns {
    fn resolve(spec: &IngestSpec) -> Result<Columns, IngestError> {
        let idx = |c: Canonical| {
            spec.column_for(c)
                .and_then(|name| spec.columns.iter().position(|h| h == name))
        };
        let req = |c: Canonical| {
            idx(c).ok_or_else(|| IngestError::MissingColumns {
                missing: vec![c.name().to_string()],
                found: spec.columns.clone(),
            })
        };
        let cols = Columns {
            customer: req(Canonical::CustomerId)?,
            date: req(Canonical::InvoiceDate)?,
            quantity: req(Canonical::Quantity)?,
            price: idx(Canonical::UnitPrice),
            amount: idx(Canonical::Amount),
            invoice: idx(Canonical::InvoiceId),
            product: idx(Canonical::ProductId),
            description: idx(Canonical::Description),
            country: idx(Canonical::Country),
        };
        if cols.price.is_none() && cols.amount.is_none() {
            return Err(IngestError::MissingColumns {
                missing: vec!["unit_price (or amount)".into()],
                found: spec.columns.clone(),
            });
        }
        Ok(cols)
    }
}

/// Per-chunk result of the parallel parse.
#[derive(Default)]
struct Chunk {
    parsed: Parsed,
    /// Values that parsed, per required field: customer, date, quantity, price/amount.
    ok: [u64; 4],
    /// A few raw values per required field, for the "no value parses" message.
    raw_examples: [Vec<String>; 4],
}

/// How often (in rows) long loops look at the stop flag.
const STOP_CHECK_ROWS: usize = 4096;

fn parse_text(
    text: &str,
    spec: &IngestSpec,
    strict_validation: bool,
    stop: &AtomicBool,
) -> Result<Parsed, IngestError> {
    let cols = Columns::resolve(spec)?;
    let format = DateFormat::new(&spec.date_format)
        .ok_or_else(|| IngestError::BadDateFormat(spec.date_format.clone()))?;
    let delimiter = spec.delimiter_byte();
    let width = spec.columns.len();

    let header_end = header_end(text);
    let body = &text[header_end..];
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    let pieces = split_at_rows(
        body.as_bytes(),
        if body.len() < (1 << 20) { 1 } else { workers },
    );

    let results: Vec<Result<Chunk, IngestError>> = std::thread::scope(|s| {
        let handles: Vec<_> = pieces
            .iter()
            .map(|&(start, end, first_line)| {
                let chunk = &body[start..end];
                let format = &format;
                s.spawn(move || {
                    parse_chunk(chunk, first_line, delimiter, width, cols, format, stop)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(IngestError::Malformed {
                        line: 0,
                        reason: "parser thread panicked".into(),
                    })
                })
            })
            .collect()
    });

    let mut total = Chunk::default();
    let mut first = true;
    for r in results {
        let c = r?;
        if first {
            total = c;
            first = false;
            continue;
        }
        total.parsed.rows_read += c.parsed.rows_read;
        total.parsed.unparseable += c.parsed.unparseable;
        for e in c.parsed.unparseable_examples {
            if total.parsed.unparseable_examples.len() < 5 {
                total.parsed.unparseable_examples.push(e);
            }
        }
        for k in 0..4 {
            total.ok[k] += c.ok[k];
            for v in &c.raw_examples[k] {
                if total.raw_examples[k].len() < 3 {
                    total.raw_examples[k].push(v.clone());
                }
            }
        }
        total.parsed.rows.append(c.parsed.rows);
    }
    if total.parsed.rows_read == 0 {
        return Err(IngestError::NoRows { columns: width });
    }
    if strict_validation {
        let value_col = cols.price.or(cols.amount).unwrap_or(0);
        let checks = [
            (
                cols.customer,
                Canonical::CustomerId,
                "a customer id (all values are empty)",
            ),
            (cols.date, Canonical::InvoiceDate, "a date"),
            (cols.quantity, Canonical::Quantity, "a number"),
            (
                value_col,
                if cols.price.is_some() {
                    Canonical::UnitPrice
                } else {
                    Canonical::Amount
                },
                "a number",
            ),
        ];
        for (k, (idx, canonical, what)) in checks.into_iter().enumerate() {
            if total.ok[k] == 0 {
                let expected = if canonical == Canonical::InvoiceDate {
                    format!("a date in format {}", spec.date_format)
                } else {
                    what.to_string()
                };
                return Err(IngestError::NoParseableValue {
                    column: spec.columns[idx].clone(),
                    canonical,
                    expected,
                    examples: total.raw_examples[k].clone(),
                });
            }
        }
    }
    Ok(total.parsed)
}

/// Byte offset where the data rows start (after the header line).
fn header_end(text: &str) -> usize {
    // The header may contain a quoted newline: find the first newline
    // outside quotes.
    let mut in_quotes = false;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => return i + 1,
            _ => {}
        }
    }
    text.len()
}

/// Splits the body of a CSV (its rows, after the header) into about `n`
/// pieces at row boundaries — a newline is a row boundary when an even
/// number of quotes precedes it — for parsing or scoring the pieces in
/// parallel. Returns `(start, end, line number of the first row)`, the
/// header being line 1.
///
/// ```
/// let parts = tablero_core::ingest::split_at_rows(b"a,1\n\"b\nc\",2\nd,3\n", 3);
/// assert_eq!(parts.last().unwrap().1, 16);
/// // Rows start at 0, 4 and 12; the quoted newline at 6 is not a boundary.
/// assert!(parts.iter().all(|&(s, _, _)| s == 0 || s == 4 || s == 12));
/// ```
pub fn split_at_rows(bytes: &[u8], n: usize) -> Vec<(usize, usize, u64)> {
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut line = 2u64; // the header is line 1
    let target = bytes.len() / n.max(1);
    let mut quotes = 0usize;
    let mut newlines = 0u64;
    let mut i = 0usize;
    while out.len() + 1 < n {
        let goal = start + target;
        if goal >= bytes.len() {
            break;
        }
        // Count quotes and newlines up to the goal (a vectorised count),
        // then advance to a newline outside quotes.
        let span = &bytes[i..goal];
        quotes += span.iter().filter(|&&b| b == b'"').count();
        newlines += span.iter().filter(|&&b| b == b'\n').count() as u64;
        i = goal;
        while i < bytes.len() {
            let b = bytes[i];
            i += 1;
            if b == b'"' {
                quotes += 1;
            } else if b == b'\n' {
                newlines += 1;
                if quotes % 2 == 0 {
                    break;
                }
            }
        }
        if i >= bytes.len() {
            break;
        }
        out.push((start, i, line));
        line = 2 + newlines;
        start = i;
    }
    out.push((start, bytes.len(), line));
    out
}

fn parse_chunk(
    chunk: &str,
    first_line: u64,
    delimiter: u8,
    width: usize,
    cols: Columns,
    format: &DateFormat,
    stop: &AtomicBool,
) -> Result<Chunk, IngestError> {
    let est = chunk.len() / 80 + 16;
    let mut rows = Transactions {
        invoice_id: cols.invoice.map(|_| StrCol::with_capacity(est, 7)),
        product_id: cols.product.map(|_| StrCol::with_capacity(est, 6)),
        description: cols.description.map(|_| StrCol::with_capacity(est, 28)),
        country: cols.country.map(|_| StrCol::with_capacity(est, 14)),
        customer_id: StrCol::with_capacity(est, 5),
        ..Default::default()
    };
    let mut out = Chunk::default();
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(chunk.as_bytes());
    let mut rec = csv::StringRecord::new();
    let mut buf: Vec<u8> = Vec::with_capacity(256);
    let mut rows_seen = 0usize;
    loop {
        if rows_seen % STOP_CHECK_ROWS == 0 && stop.load(Ordering::Relaxed) {
            return Err(IngestError::Stopped);
        }
        rows_seen += 1;
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(IngestError::Malformed {
                    line: first_line + e.position().map(|p| p.line()).unwrap_or(1) - 1,
                    reason: e.to_string(),
                })
            }
        }
        let line = first_line + rec.position().map(|p| p.line()).unwrap_or(1) - 1;
        if rec.len() == 1 && rec.get(0).is_some_and(|f| f.trim().is_empty()) {
            continue; // a blank line
        }
        if rec.len() != width {
            return Err(IngestError::Ragged {
                line,
                expected: width,
                found: rec.len(),
            });
        }
        out.parsed.rows_read += 1;
        let fields = FieldsOf(&rec);

        let customer_raw = &fields[cols.customer];
        let customer = if is_null_token(customer_raw) {
            ""
        } else {
            normalise_customer(customer_raw)
        };
        let date = format.parse(&fields[cols.date]);
        let quantity = parse_num(&fields[cols.quantity]);
        let price = cols.price.map(|i| parse_num(&fields[i]));
        let amount = cols.amount.map(|i| parse_num(&fields[i]));
        let value = price.or(amount).flatten();

        if !customer.is_empty() {
            out.ok[0] += 1;
        }
        if date.is_some() {
            out.ok[1] += 1;
        }
        if quantity.is_some() {
            out.ok[2] += 1;
        }
        if value.is_some() {
            out.ok[3] += 1;
        }
        for (k, idx) in [
            cols.customer,
            cols.date,
            cols.quantity,
            cols.price.or(cols.amount).unwrap_or(0),
        ]
        .into_iter()
        .enumerate()
        {
            if out.raw_examples[k].len() < 3 && !&fields[idx].is_empty() {
                out.raw_examples[k].push(fields[idx].to_string());
            }
        }

        let (Some(date), Some(quantity), Some(value)) = (date, quantity, value) else {
            out.parsed.unparseable += 1;
            if out.parsed.unparseable_examples.len() < 5 {
                let mut why = Vec::new();
                if date.is_none() {
                    why.push(format!(
                        "{:?} is not a date in format {}",
                        &fields[cols.date],
                        format.pattern()
                    ));
                }
                if quantity.is_none() {
                    why.push(format!(
                        "quantity {:?} is not a number",
                        &fields[cols.quantity]
                    ));
                }
                if value.is_none() {
                    let i = cols.price.or(cols.amount).unwrap_or(0);
                    why.push(format!(
                        "{} {:?} is not a number",
                        if cols.price.is_some() {
                            "unit_price"
                        } else {
                            "amount"
                        },
                        &fields[i]
                    ));
                }
                out.parsed.unparseable_examples.push(RowExample {
                    line,
                    values: raw_values(&fields, &cols),
                    reason: Some(why.join("; ")),
                });
            }
            continue;
        };
        let (unit_price, amount) = if cols.price.is_some() {
            (value, quantity * value)
        } else if quantity != 0.0 {
            (value / quantity, value)
        } else {
            (f64::NAN, value)
        };

        buf.clear();
        for f in rec.iter() {
            buf.extend_from_slice(f.trim().as_bytes());
            buf.push(0x1f);
        }
        rows.row_hash.push(xxhash_rust::xxh3::xxh3_128(&buf));
        rows.customer_id.push(customer);
        rows.invoice_date.push(date);
        rows.quantity.push(quantity);
        rows.unit_price.push(unit_price);
        rows.amount.push(amount);
        rows.line.push(line);
        for (col, idx) in [
            (&mut rows.invoice_id, cols.invoice),
            (&mut rows.product_id, cols.product),
            (&mut rows.description, cols.description),
            (&mut rows.country, cols.country),
        ] {
            if let (Some(c), Some(i)) = (col.as_mut(), idx) {
                c.push(&fields[i]);
            }
        }
    }
    out.parsed.rows = rows;
    Ok(out)
}

/// Trimmed fields of a record, by index.
struct FieldsOf<'a>(&'a csv::StringRecord);

impl std::ops::Index<usize> for FieldsOf<'_> {
    type Output = str;
    fn index(&self, i: usize) -> &str {
        self.0.get(i).unwrap_or("").trim()
    }
}

fn raw_values(fields: &FieldsOf<'_>, cols: &Columns) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let pairs = [
        (Some(cols.customer), Canonical::CustomerId),
        (Some(cols.date), Canonical::InvoiceDate),
        (Some(cols.quantity), Canonical::Quantity),
        (cols.price, Canonical::UnitPrice),
        (cols.amount, Canonical::Amount),
        (cols.invoice, Canonical::InvoiceId),
        (cols.product, Canonical::ProductId),
        (cols.description, Canonical::Description),
        (cols.country, Canonical::Country),
    ];
    for (idx, c) in pairs {
        if let Some(i) = idx {
            m.insert(c.name().to_string(), fields[i].to_string());
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_validation_gives_up_and_an_unstopped_one_does_not() {
        let mut csv = String::from(
            "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n",
        );
        for i in 0..(3 * STOP_CHECK_ROWS) {
            csv.push_str(&format!(
                "{},A{},Mug,{},2011-01-0{} 10:00:00,1.5,{},UK\n",
                536_365 + i,
                i % 50,
                1 + i % 7,
                1 + i % 9,
                17_000 + i % 300
            ));
        }
        let opts = CsvOptions::default();
        let stopped = inspect_until(csv.as_bytes(), &opts, &AtomicBool::new(true));
        assert!(matches!(stopped, Err(IngestError::Stopped)), "{stopped:?}");
        let (spec, parsed) = inspect_until(csv.as_bytes(), &opts, &AtomicBool::new(false)).unwrap();
        assert_eq!(parsed.rows_read as usize, 3 * STOP_CHECK_ROWS);
        assert_eq!(inspect(csv.as_bytes(), &opts).unwrap().0, spec);
    }

    #[test]
    fn split_respects_quoted_newlines() {
        let body = "a,\"x\ny\",1\nb,c,2\nd,e,3\n";
        for n in 1..5 {
            let parts = split_at_rows(body.as_bytes(), n);
            let joined: String = parts.iter().map(|&(s, e, _)| &body[s..e]).collect();
            assert_eq!(joined, body);
            for &(s, _, _) in &parts {
                assert!(s == 0 || body.as_bytes()[s - 1] == b'\n');
                assert_ne!(&body[s..s.min(body.len()).max(s)], "y\",1\n");
            }
        }
        let parts = split_at_rows(body.as_bytes(), 3);
        assert!(parts.iter().all(|&(s, _, _)| !body[s..].starts_with("y\"")));
    }

    #[test]
    fn customer_ids_written_as_floats_match_integers() {
        assert_eq!(normalise_customer("17850.0"), "17850");
        assert_eq!(normalise_customer("17850"), "17850");
        assert_eq!(normalise_customer("A17.0"), "A17.0");
        assert_eq!(normalise_customer("17850.5"), "17850.5");
    }

    #[test]
    fn mapping_parses_and_rejects() {
        let m = parse_mapping("Customer ID=customer_id, Price=unit_price").unwrap();
        assert_eq!(
            m,
            vec![
                ("Customer ID".into(), Canonical::CustomerId),
                ("Price".into(), Canonical::UnitPrice)
            ]
        );
        assert!(matches!(
            parse_mapping("a=b"),
            Err(IngestError::BadMapping { .. })
        ));
        assert!(matches!(
            parse_mapping("ab"),
            Err(IngestError::BadMapping { .. })
        ));
    }

    #[test]
    fn decimal_comma_and_non_finite() {
        assert_eq!(parse_num("2,55"), Some(2.55));
        assert_eq!(parse_num("1,000.5"), None);
        assert_eq!(parse_num("inf"), None);
        assert_eq!(parse_num("NaN"), None);
    }
}
