//! Tables as Parquet bytes: writing and reading with Tablero's metadata,
//! previews, CSV export and per-column summaries. Bytes in, bytes out; the
//! backends decide where the bytes live.

use std::io::Cursor;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dates;
use crate::error::{Error, Result};
use crate::preset::Preset;
use crate::report::{ColumnSummary, Scalar};

/// The Parquet key-value metadata key holding a [`TableMeta`] as JSON.
pub const META_KEY: &str = "tablero";

/// What a table is, stored inside its Parquet file so a later stage can
/// check it was given the right input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableMeta {
    /// `clean` or `features`.
    pub kind: String,
    /// The preset that produced it.
    pub preset: Preset,
    /// Layout version of this kind of table.
    pub schema_version: u32,
    /// Optional canonical columns the source file did not have (written as nulls).
    #[serde(default)]
    pub absent: Vec<String>,
    /// Features tables: what each column is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub roles: Option<FeatureRoles>,
}

/// Roles of a features table's columns, for the trainer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureRoles {
    /// Identifier columns: never features.
    pub identifiers: Vec<String>,
    /// The target column.
    pub target: String,
    /// Categorical feature columns (one-hot encoded by the trainer).
    pub categorical: Vec<String>,
    /// Columns that are not features (e.g. `RFM_Score`, a concatenation of scores).
    pub not_features: Vec<String>,
    /// Cut-off used.
    pub cutoff: String,
    /// Horizon in days.
    pub horizon_days: u32,
}

impl TableMeta {
    /// Metadata of a clean table.
    pub fn clean(preset: Preset, absent: Vec<String>) -> TableMeta {
        TableMeta {
            kind: "clean".into(),
            preset,
            schema_version: 1,
            absent,
            roles: None,
        }
    }
}

/// Snappy: the codec every Parquet reader has, and about a third of zstd
/// level 1's time to write a clean table, for a third more bytes
/// (scripts/side-by-side/README.md).
fn compression() -> ParquetCompression {
    ParquetCompression::Snappy
}

/// Writes `df` as Parquet (Snappy) with `meta` in the file's key-value metadata.
pub fn to_parquet(df: &mut DataFrame, meta: &TableMeta) -> Result<Vec<u8>> {
    let json = serde_json::to_string(meta).map_err(|e| Error::Parquet(e.to_string()))?;
    let mut out = Vec::new();
    ParquetWriter::new(&mut out)
        .with_compression(compression())
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(vec![(
            META_KEY.to_string(),
            json,
        )])))
        .finish(df)?;
    Ok(out)
}

/// A Parquet file (Snappy, [`TableMeta`] in its metadata, as
/// [`to_parquet`]) written a batch at a time, each batch its own row
/// groups: a table larger than memory is written as it is made.
pub struct TableWriter<W: std::io::Write> {
    inner: polars::io::parquet::write::BatchedWriter<W>,
}

impl<W: std::io::Write> TableWriter<W> {
    /// A writer for tables with `first`'s schema.
    pub fn new(out: W, meta: &TableMeta, first: &DataFrame) -> Result<TableWriter<W>> {
        let json = serde_json::to_string(meta).map_err(|e| Error::Parquet(e.to_string()))?;
        let inner = ParquetWriter::new(out)
            .with_compression(compression())
            .with_key_value_metadata(Some(KeyValueMetadata::from_static(vec![(
                META_KEY.to_string(),
                json,
            )])))
            .batched(first.schema())?;
        Ok(TableWriter { inner })
    }

    /// Appends the rows of `df` (same schema).
    pub fn write(&mut self, df: &DataFrame) -> Result<()> {
        if df.height() > 0 {
            self.inner.write_batch(df)?;
        }
        Ok(())
    }

    /// Writes the footer; returns the file's size.
    pub fn finish(self) -> Result<u64> {
        Ok(self.inner.finish()?)
    }
}

/// [`summarise`] of a table seen a batch at a time (without `distinct`),
/// the means summed row by row in order (Kahan), so a table gets the same
/// summary whether it came whole or in batches of any size.
#[derive(Debug, Default)]
pub struct Summaries {
    columns: Vec<Running>,
}

#[derive(Debug)]
struct Running {
    summary: ColumnSummary,
    min: Option<f64>,
    max: Option<f64>,
    sum: crate::stats::KahanSum,
    count: u64,
    first_ns: Option<i64>,
    last_ns: Option<i64>,
}

impl Summaries {
    /// Whether no batch was added.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// Adds a batch (the same columns every time).
    pub fn add(&mut self, df: &DataFrame) -> Result<()> {
        if self.columns.is_empty() {
            self.columns = df
                .columns()
                .iter()
                .map(|col| Running {
                    summary: ColumnSummary {
                        name: col.name().to_string(),
                        dtype: dtype_name(col.dtype()).into(),
                        min: None,
                        max: None,
                        mean: None,
                        nulls: 0,
                        distinct: None,
                    },
                    min: None,
                    max: None,
                    sum: Default::default(),
                    count: 0,
                    first_ns: None,
                    last_ns: None,
                })
                .collect();
        }
        for (run, col) in self.columns.iter_mut().zip(df.columns()) {
            run.summary.nulls += col.null_count() as u64;
            match run.summary.dtype.as_str() {
                "float" | "integer" => {
                    let f = col.cast(&DataType::Float64)?;
                    let ca = f.f64()?;
                    let fold =
                        |a: Option<f64>, b: Option<f64>, pick: fn(f64, f64) -> f64| match (a, b) {
                            (Some(a), Some(b)) => Some(pick(a, b)),
                            (a, b) => a.or(b),
                        };
                    run.min = fold(run.min, ca.min(), f64::min);
                    run.max = fold(run.max, ca.max(), f64::max);
                    // Row by row in one compensated sum: the same mean
                    // however the rows were cut into batches.
                    for v in ca.iter().flatten() {
                        run.sum.add(v);
                        run.count += 1;
                    }
                }
                "datetime" => {
                    let dt = col.datetime()?;
                    let to_ns = |v: i64| match dt.time_unit() {
                        TimeUnit::Nanoseconds => v,
                        TimeUnit::Microseconds => v * 1_000,
                        TimeUnit::Milliseconds => v * 1_000_000,
                    };
                    if let (Some(lo), Some(hi)) = (dt.physical().min(), dt.physical().max()) {
                        let (lo, hi) = (to_ns(lo), to_ns(hi));
                        run.first_ns = Some(run.first_ns.map_or(lo, |m| m.min(lo)));
                        run.last_ns = Some(run.last_ns.map_or(hi, |m| m.max(hi)));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The summaries of all batches together.
    pub fn finish(self) -> Vec<ColumnSummary> {
        self.columns
            .into_iter()
            .map(|r| {
                let mut s = r.summary;
                match s.dtype.as_str() {
                    "float" | "integer" => {
                        s.min = r.min.map(Scalar::number);
                        s.max = r.max.map(Scalar::number);
                        s.mean = (r.count > 0).then(|| r.sum.value() / r.count as f64);
                    }
                    "datetime" => {
                        s.min = r.first_ns.map(|n| Scalar::Text(dates::format_ns(n)));
                        s.max = r.last_ns.map(|n| Scalar::Text(dates::format_ns(n)));
                    }
                    _ => {}
                }
                s
            })
            .collect()
    }
}

/// Reads the [`TableMeta`] of a Parquet file, if it has one.
pub fn parquet_meta(bytes: &[u8]) -> Result<Option<TableMeta>> {
    let mut reader = ParquetReader::new(Cursor::new(bytes));
    let md = reader.get_metadata()?;
    let Some(kv) = md.key_value_metadata.as_ref() else {
        return Ok(None);
    };
    for entry in kv {
        if entry.key == META_KEY {
            if let Some(v) = &entry.value {
                return serde_json::from_str(v)
                    .map(Some)
                    .map_err(|e| Error::Parquet(format!("bad tablero metadata: {e}")));
            }
        }
    }
    Ok(None)
}

/// Reads a whole Parquet file.
pub fn from_parquet(bytes: &[u8]) -> Result<DataFrame> {
    Ok(ParquetReader::new(Cursor::new(bytes)).finish()?)
}

/// The rows of a Parquet file, and its named columns (all of them when
/// one is missing) a row group at a time: memory holds one group's
/// columns, not the file's.
pub fn parquet_row_groups<'a>(
    bytes: &'a [u8],
    columns: &[&str],
) -> Result<(u64, impl Iterator<Item = Result<DataFrame>> + Send + 'a)> {
    let mut reader = ParquetReader::new(Cursor::new(bytes));
    let md = reader.get_metadata()?.clone();
    let schema = reader.schema()?;
    let wanted: Option<Vec<String>> = columns
        .iter()
        .all(|c| schema.contains(c))
        .then(|| columns.iter().map(|c| c.to_string()).collect());
    let sizes: Vec<usize> = md.row_groups.iter().map(|g| g.num_rows()).collect();
    let total = md.num_rows as u64;
    let mut offset = 0usize;
    let groups = sizes.into_iter().map(move |rows| {
        let mut r = ParquetReader::new(Cursor::new(bytes));
        r.set_metadata(md.clone());
        let df = r
            .with_columns(wanted.clone())
            .with_slice(Some((offset, rows)))
            .finish()?;
        offset += rows;
        Ok(df)
    });
    Ok((total, groups))
}

/// Reads the first `n` rows of a Parquet file and the total row count.
pub fn parquet_head(bytes: &[u8], n: usize) -> Result<(DataFrame, usize)> {
    let mut reader = ParquetReader::new(Cursor::new(bytes));
    let total = reader.num_rows()?;
    let df = reader.with_slice(Some((0, n))).finish()?;
    Ok((df, total))
}

/// Writes `df` as CSV (comma, header, ISO timestamps).
pub fn to_csv(df: &mut DataFrame) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    CsvWriter::new(&mut out)
        .include_header(true)
        .with_datetime_format(Some("%Y-%m-%d %H:%M:%S".into()))
        .finish(df)?;
    Ok(out)
}

/// Logical type name of a column, in the words the reports use.
pub fn dtype_name(dt: &DataType) -> &'static str {
    match dt {
        DataType::String => "text",
        DataType::Datetime(_, _) => "datetime",
        DataType::Float32 | DataType::Float64 => "float",
        DataType::Boolean => "boolean",
        d if d.is_integer() => "integer",
        _ => "other",
    }
}

/// Timestamps of a datetime column as ns (nulls as `None`).
pub fn datetime_ns(col: &Column) -> Result<Vec<Option<i64>>> {
    let dt = col.datetime()?;
    let mult = match dt.time_unit() {
        TimeUnit::Nanoseconds => 1,
        TimeUnit::Microseconds => 1_000,
        TimeUnit::Milliseconds => 1_000_000,
    };
    Ok(dt.physical().iter().map(|v| v.map(|v| v * mult)).collect())
}

/// Timestamps of a datetime column as ns, `missing` for nulls.
pub fn datetime_ns_or(col: &Column, missing: i64) -> Result<Vec<i64>> {
    let dt = col.datetime()?;
    let mult = match dt.time_unit() {
        TimeUnit::Nanoseconds => 1,
        TimeUnit::Microseconds => 1_000,
        TimeUnit::Milliseconds => 1_000_000,
    };
    let mut out = Vec::with_capacity(dt.len());
    for arr in dt.physical().downcast_iter() {
        if arr.validity().is_none() && mult == 1 {
            out.extend_from_slice(arr.values());
        } else {
            out.extend(arr.iter().map(|v| v.map_or(missing, |v| v * mult)));
        }
    }
    Ok(out)
}

/// Per-column summary: type, min, max, mean, nulls, and with `distinct`
/// the number of distinct values of text columns (a hash pass per column:
/// the clean stage skips it on its large tables).
pub fn summarise(df: &DataFrame, distinct: bool) -> Result<Vec<ColumnSummary>> {
    let mut out = Vec::with_capacity(df.width());
    for col in df.columns() {
        let dtype = dtype_name(col.dtype());
        let nulls = col.null_count() as u64;
        let mut s = ColumnSummary {
            name: col.name().to_string(),
            dtype: dtype.into(),
            min: None,
            max: None,
            mean: None,
            nulls,
            distinct: None,
        };
        match dtype {
            "float" | "integer" => {
                let f = col.cast(&DataType::Float64)?;
                let ca = f.f64()?;
                s.min = ca.min().map(Scalar::number);
                s.max = ca.max().map(Scalar::number);
                s.mean = ca.mean();
            }
            "datetime" => {
                let v = datetime_ns(col)?;
                s.min = v
                    .iter()
                    .flatten()
                    .min()
                    .map(|n| Scalar::Text(dates::format_ns(*n)));
                s.max = v
                    .iter()
                    .flatten()
                    .max()
                    .map(|n| Scalar::Text(dates::format_ns(*n)));
            }
            "text" if distinct => {
                s.distinct = Some(col.n_unique()? as u64 - u64::from(nulls > 0));
            }
            _ => {}
        }
        out.push(s);
    }
    Ok(out)
}

/// Rows of a table as strings, for previews.
pub fn rows_as_strings(df: &DataFrame) -> Vec<Vec<String>> {
    let mut rows = vec![Vec::with_capacity(df.width()); df.height()];
    for col in df.columns() {
        let is_dt = matches!(col.dtype(), DataType::Datetime(_, _));
        let ns = if is_dt { datetime_ns(col).ok() } else { None };
        for (i, row) in rows.iter_mut().enumerate() {
            let text = match &ns {
                Some(v) => v[i].map(dates::format_ns).unwrap_or_default(),
                None => match col.get(i) {
                    Ok(AnyValue::Null) | Err(_) => String::new(),
                    Ok(AnyValue::String(s)) => s.to_string(),
                    // Shortest text that reads back as the same number.
                    Ok(AnyValue::Float64(v)) => v.to_string(),
                    Ok(AnyValue::Float32(v)) => v.to_string(),
                    Ok(v) => v.to_string(),
                },
            };
            row.push(text);
        }
    }
    rows
}

/// Re-exported so backends can name tables without depending on polars.
pub use polars::prelude::DataFrame;

/// A table of text columns (for lossless CSV → Parquet export).
pub fn text_table(header: &[String], rows: &[Vec<String>]) -> Result<DataFrame> {
    let columns = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            Column::new(
                h.as_str().into(),
                rows.iter()
                    .map(|r| r.get(i).map(String::as_str).unwrap_or(""))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    Ok(DataFrame::new(rows.len(), columns)?)
}
