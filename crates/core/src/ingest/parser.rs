//! Parsing the rows into typed [`Transactions`], in parallel chunks.

use super::*;

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

    /// The rows of `parts`, in order, in columns allocated once.
    fn concat(mut parts: Vec<Transactions>) -> Transactions {
        if parts.len() <= 1 {
            return parts.pop().unwrap_or_default();
        }
        let rows: usize = parts.iter().map(Transactions::len).sum();
        let strcol = |f: &dyn Fn(&Transactions) -> Option<&StrCol>| {
            f(&parts[0])?;
            let bytes = parts.iter().filter_map(f).map(StrCol::text_len).sum();
            Some(StrCol::with_exact_capacity(rows, bytes))
        };
        let mut out = Transactions {
            invoice_id: strcol(&|t| t.invoice_id.as_ref()),
            product_id: strcol(&|t| t.product_id.as_ref()),
            description: strcol(&|t| t.description.as_ref()),
            country: strcol(&|t| t.country.as_ref()),
            customer_id: strcol(&|t| Some(&t.customer_id)).unwrap_or_default(),
            invoice_date: Vec::with_capacity(rows),
            quantity: Vec::with_capacity(rows),
            unit_price: Vec::with_capacity(rows),
            amount: Vec::with_capacity(rows),
            line: Vec::with_capacity(rows),
            row_hash: Vec::with_capacity(rows),
        };
        for part in parts {
            out.append(part);
        }
        out
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

pub(super) fn fmt_num(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Values that mean "no customer" in exported files.
pub(super) fn is_null_token(s: &str) -> bool {
    matches!(
        s,
        "" | "NA" | "N/A" | "NULL" | "null" | "NaN" | "nan" | "None" | "none"
    )
}

/// `17850.0` → `17850`, so float-written ids match integer-written ones.
pub(super) fn normalise_customer(s: &str) -> &str {
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
/// The one number reader of uploads, the clean stage and previews.
pub fn parse_num(s: &str) -> Option<f64> {
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
pub(super) struct Columns {
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
    pub(super) fn resolve(spec: &IngestSpec) -> Result<Columns, IngestError> {
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
pub(super) struct Chunk {
    pub(super) parsed: Parsed,
    /// Values that parsed, per required field: customer, date, quantity, price/amount.
    ok: [u64; 4],
    /// A few raw values per required field, for the "no value parses" message.
    raw_examples: [Vec<String>; 4],
}

impl Chunk {
    /// Adds a later chunk's counts and first examples (not its rows).
    pub(super) fn add_counts(&mut self, c: &mut Chunk) {
        self.parsed.rows_read += c.parsed.rows_read;
        self.parsed.unparseable += c.parsed.unparseable;
        for e in c.parsed.unparseable_examples.drain(..) {
            if self.parsed.unparseable_examples.len() < 5 {
                self.parsed.unparseable_examples.push(e);
            }
        }
        for k in 0..4 {
            self.ok[k] += c.ok[k];
            for v in c.raw_examples[k].drain(..) {
                if self.raw_examples[k].len() < 3 {
                    self.raw_examples[k].push(v);
                }
            }
        }
    }
}

/// How often (in rows) long loops look at the stop flag.
pub(super) const STOP_CHECK_ROWS: usize = 4096;

pub(super) fn parse_text(
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
    let mut parts = Vec::with_capacity(results.len());
    for r in results {
        let mut c = r?;
        total.add_counts(&mut c);
        parts.push(c.parsed.rows);
    }
    total.parsed.rows = Transactions::concat(parts);
    if total.parsed.rows_read == 0 {
        return Err(IngestError::NoRows { columns: width });
    }
    if strict_validation {
        check_required(&total, cols, spec)?;
    }
    Ok(total.parsed)
}

/// Upload validation's file-wide check: every required field has at least
/// one value that parses.
pub(super) fn check_required(
    total: &Chunk,
    cols: Columns,
    spec: &IngestSpec,
) -> Result<(), IngestError> {
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
    Ok(())
}

pub(super) fn parse_chunk(
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
    let mut last_date: (String, Option<i64>) = (String::new(), None);
    let mut tokens = Tokenizer::new(chunk, delimiter);
    let mut rec = tokens.record();
    let mut buf: Vec<u8> = Vec::with_capacity(256);
    let mut rows_seen = 0usize;
    loop {
        if rows_seen.is_multiple_of(STOP_CHECK_ROWS) && stop.load(Ordering::Relaxed) {
            return Err(IngestError::Stopped);
        }
        rows_seen += 1;
        let Some(newlines_before) = tokens.next(&mut rec) else {
            break;
        };
        let line = first_line + newlines_before;
        if rec.len() == 1 && rec.get(0).is_empty() {
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
        // Each field trimmed once, for the hash and the columns alike.
        let mut cached = [""; CACHED_FIELDS];
        let n = width.min(CACHED_FIELDS);
        for (i, slot) in cached[..n].iter_mut().enumerate() {
            *slot = rec.get(i);
        }
        let fields = FieldsOf {
            cached: &cached[..n],
            rec: &rec,
        };

        let customer_raw = &fields[cols.customer];
        let customer = if is_null_token(customer_raw) {
            ""
        } else {
            normalise_customer(customer_raw)
        };
        // An invoice's rows share their timestamp: parse each run once.
        let date_text = &fields[cols.date];
        let date = if date_text == last_date.0 {
            last_date.1
        } else {
            let d = format.parse(date_text);
            last_date = (date_text.to_string(), d);
            d
        };
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
        for i in 0..width {
            buf.extend_from_slice(fields[i].as_bytes());
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

/// Fields of a record trimmed once ahead ([`FieldsOf`]): as many as most
/// files have, and more.
const CACHED_FIELDS: usize = 32;

/// Trimmed fields of a record, by index: the first ones trimmed ahead.
pub(super) struct FieldsOf<'a, 't> {
    cached: &'a [&'a str],
    rec: &'a Record<'t>,
}

impl std::ops::Index<usize> for FieldsOf<'_, '_> {
    type Output = str;
    fn index(&self, i: usize) -> &str {
        match self.cached.get(i) {
            Some(f) => f,
            None => self.rec.get(i),
        }
    }
}

pub(super) fn raw_values(fields: &FieldsOf<'_, '_>, cols: &Columns) -> BTreeMap<String, String> {
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
