//! Previews: the first rows of an object, its schema and per-column stats,
//! without reading more than the head of a CSV.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dates::DateFormat;
use crate::error::Result;
use crate::ingest::{self, Canonical, IngestSpec};
use crate::report::ColumnSummary;
use crate::table;

/// What `data preview` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Preview {
    /// `csv` or `parquet`.
    pub format: String,
    /// Column names and logical types.
    pub schema: Vec<SchemaColumn>,
    /// The first rows, as text.
    pub rows: Vec<Vec<String>>,
    /// Rows in the whole object, when known without reading it all (Parquet).
    pub total_rows: Option<u64>,
    /// Whether `stats` cover the whole object (`false`: only the rows read).
    pub stats_cover_all_rows: bool,
    /// Per-column statistics.
    pub stats: Vec<ColumnSummary>,
    /// For raw CSVs: how the file is read (the stored mapping).
    pub ingest: Option<IngestSpec>,
}

/// One column of a preview's schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SchemaColumn {
    /// Name.
    pub name: String,
    /// `text`, `integer`, `float`, `datetime`.
    pub dtype: String,
    /// The canonical column it maps to (raw CSVs).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub canonical: Option<Canonical>,
}

/// Rows of a CSV head used for the preview's statistics.
pub const CSV_STATS_ROWS: usize = 1000;

/// Previews the head of a CSV (`head_bytes` may be cut anywhere).
pub fn preview_csv(head_bytes: &[u8], spec: &IngestSpec, rows: usize) -> Result<Preview> {
    let (header, data) = ingest::head(head_bytes, spec, rows.max(CSV_STATS_ROWS))?;
    let date_format = DateFormat::new(&spec.date_format);
    let mut columns = Vec::with_capacity(header.len());
    let mut schema = Vec::with_capacity(header.len());
    for (i, name) in header.iter().enumerate() {
        let values: Vec<&str> = data
            .iter()
            .map(|r| r.get(i).map(String::as_str).unwrap_or(""))
            .collect();
        let canonical = spec
            .mapping
            .iter()
            .find(|m| &m.column == name)
            .map(|m| m.canonical);
        let col = typed_column(name, &values, canonical, date_format.as_ref())?;
        schema.push(SchemaColumn {
            name: name.clone(),
            dtype: table::dtype_name(col.dtype()).into(),
            canonical,
        });
        columns.push(col);
    }
    let df = DataFrame::new(data.len(), columns)?;
    Ok(Preview {
        format: "csv".into(),
        schema,
        rows: data.into_iter().take(rows).collect(),
        total_rows: None,
        stats_cover_all_rows: false,
        stats: table::summarise(&df, true)?,
        ingest: Some(spec.clone()),
    })
}

/// Types a column of text as the clean stage reads it: dates for the
/// mapped date column in the stored format, numbers (a decimal comma
/// included, `ingest::parse_num`) when every non-empty value is one, the
/// customer id as text, text otherwise.
fn typed_column(
    name: &str,
    values: &[&str],
    canonical: Option<Canonical>,
    dates: Option<&DateFormat>,
) -> Result<Column> {
    let non_empty = || values.iter().filter(|v| !v.is_empty());
    if let (Some(Canonical::InvoiceDate), Some(f)) = (canonical, dates) {
        let ns: Vec<Option<i64>> = values.iter().map(|v| f.parse(v)).collect();
        return Ok(
            Column::new(name.into(), ns).cast(&DataType::Datetime(TimeUnit::Nanoseconds, None))?
        );
    }
    if canonical != Some(Canonical::CustomerId) && non_empty().count() > 0 {
        if non_empty().all(|v| v.parse::<i64>().is_ok()) {
            let v: Vec<Option<i64>> = values.iter().map(|v| v.parse().ok()).collect();
            return Ok(Column::new(name.into(), v));
        }
        if non_empty().all(|v| ingest::parse_num(v).is_some()) {
            let v: Vec<Option<f64>> = values.iter().map(|v| ingest::parse_num(v)).collect();
            return Ok(Column::new(name.into(), v));
        }
    }
    let v: Vec<Option<&str>> = values
        .iter()
        .map(|v| (!v.is_empty()).then_some(*v))
        .collect();
    Ok(Column::new(name.into(), v))
}

/// Previews a Parquet file: head rows, schema, and stats over all rows.
pub fn preview_parquet(bytes: &[u8], rows: usize) -> Result<Preview> {
    let (head, total) = table::parquet_head(bytes, rows)?;
    let all = table::from_parquet(bytes)?;
    Ok(Preview {
        format: "parquet".into(),
        schema: head
            .columns()
            .iter()
            .map(|c| SchemaColumn {
                name: c.name().to_string(),
                dtype: table::dtype_name(c.dtype()).into(),
                canonical: None,
            })
            .collect(),
        rows: table::rows_as_strings(&head),
        total_rows: Some(total as u64),
        stats_cover_all_rows: true,
        stats: table::summarise(&all, true)?,
        ingest: None,
    })
}
