//! Reports written by the stages: what went in, what came out, and what was
//! dropped and why. Serialised as JSON beside each output and in job records.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ingest::IngestSpec;

/// A row shown as an example of a rule at work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RowExample {
    /// Line in the source file (the header is line 1).
    pub line: u64,
    /// Canonical column → value as read.
    pub values: BTreeMap<String, String>,
    /// Why it was dropped, where the rule alone does not say.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

/// One clean rule's effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RuleCount {
    /// Rule id: `unparseable`, `duplicate`, `missing_customer_id`,
    /// `cancellation`, `non_positive`, and for parity `geographic_filter`.
    pub rule: String,
    /// What the rule does, in words.
    pub description: String,
    /// Rows it removed.
    pub removed: u64,
    /// Up to 5 of them.
    pub examples: Vec<RowExample>,
}

/// One value of a column summary: a whole number, a number, or text (a
/// datetime is RFC 3339 text). Serialised as the bare JSON value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(untagged)]
pub enum Scalar {
    /// A whole number.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// Text, datetimes included.
    Text(String),
}

impl Scalar {
    /// A number, as a whole number when it is one (and fits).
    pub fn number(v: f64) -> Scalar {
        if v.fract() == 0.0 && v.abs() < 9e15 {
            Scalar::Int(v as i64)
        } else {
            Scalar::Float(v)
        }
    }
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Int(v) => write!(f, "{v}"),
            Scalar::Float(v) => write!(f, "{v}"),
            Scalar::Text(v) => f.write_str(v),
        }
    }
}

/// Summary of one output column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ColumnSummary {
    /// Column name.
    pub name: String,
    /// Logical type: `text`, `integer`, `float`, `datetime`.
    pub dtype: String,
    /// Smallest value (numbers and datetimes).
    pub min: Option<Scalar>,
    /// Largest value.
    pub max: Option<Scalar>,
    /// Mean (numbers).
    pub mean: Option<f64>,
    /// Missing values.
    pub nulls: u64,
    /// Distinct values (text).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub distinct: Option<u64>,
}

/// The clean stage's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CleanReport {
    /// `standard` or `parity`.
    pub preset: String,
    /// How the raw file was read (encoding, delimiter, date format, mapping).
    pub ingest: IngestSpec,
    /// Data rows in the file.
    pub rows_in: u64,
    /// Rows written.
    pub rows_out: u64,
    /// Distinct customers written.
    pub customers: u64,
    /// The rules, in the order they ran.
    pub rules: Vec<RuleCount>,
    /// Parity only: rows per country after the rules, with tier and region.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub countries: Option<Vec<CountryTier>>,
    /// Parity only: the 1st and 99th percentiles used to winsorise.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub winsor_limits: Option<(f64, f64)>,
    /// Per output column.
    pub columns: Vec<ColumnSummary>,
}

/// A country's tier and region in the parity geographic filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CountryTier {
    /// Country as written.
    pub country: String,
    /// Rows after the clean rules.
    pub rows: u64,
    /// 1 (>= 1000 rows), 2 (100..999), 3 (< 100).
    pub tier: u8,
    /// Europe, Asia-Pacific, Americas or Other.
    pub region: String,
    /// Whether its rows were kept.
    pub kept: bool,
}

/// The features stage's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FeatureReport {
    /// `standard` or `parity`.
    pub preset: String,
    /// Transaction rows read.
    pub rows_in: u64,
    /// Customers (rows) written.
    pub customers: u64,
    /// Customers with target 1.
    pub positives: u64,
    /// Customers with target 0.
    pub negatives: u64,
    /// Cut-off used, `YYYY-MM-DD HH:MM:SS[.fffffffff]`.
    pub cutoff: String,
    /// Whether the cut-off was given or computed (0.7 quantile).
    pub cutoff_source: String,
    /// Horizon in days.
    pub horizon_days: u32,
    /// Target column name.
    pub target: String,
    /// Features written as nulls because the input lacks a column.
    pub null_features: Vec<NullFeature>,
    /// Notes about choices made on this data (e.g. a quintile fallback).
    pub warnings: Vec<String>,
    /// Per output column.
    pub columns: Vec<ColumnSummary>,
}

/// A feature left empty, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NullFeature {
    /// Feature column.
    pub feature: String,
    /// The canonical input column it needs.
    pub needs: String,
}
