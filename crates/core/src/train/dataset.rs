//! From a features table to a numeric matrix: which columns are features,
//! mean imputation of numeric gaps, one-hot encoding of categories. The
//! encoder is fitted on the training part and saved inside the model, so
//! prediction encodes records exactly as training did.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::table::FeatureRoles;

/// How one input feature is encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FeatureSpec {
    /// A number; a missing value becomes the training mean.
    Numeric {
        /// Column name.
        name: String,
        /// Training mean, used for missing values.
        mean: f64,
    },
    /// A category, one-hot encoded over the categories seen in training;
    /// an unknown category encodes as all zeros (and is counted).
    Categorical {
        /// Column name.
        name: String,
        /// Categories seen in training, sorted.
        categories: Vec<String>,
    },
}

impl FeatureSpec {
    /// The input column name.
    pub fn name(&self) -> &str {
        match self {
            FeatureSpec::Numeric { name, .. } | FeatureSpec::Categorical { name, .. } => name,
        }
    }

    /// Number of encoded columns.
    pub fn width(&self) -> usize {
        match self {
            FeatureSpec::Numeric { .. } => 1,
            FeatureSpec::Categorical { categories, .. } => categories.len(),
        }
    }
}

/// The fitted encoder: input features in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoder {
    /// Features, in encoding order.
    pub features: Vec<FeatureSpec>,
}

/// A raw feature value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number (NaN = missing).
    Num(f64),
    /// Text (None = missing).
    Text(Option<String>),
}

impl Encoder {
    /// Encoded width.
    pub fn width(&self) -> usize {
        self.features.iter().map(FeatureSpec::width).sum()
    }

    /// Names of the encoded columns (`Country=France` for one-hot columns).
    pub fn column_names(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.width());
        for f in &self.features {
            match f {
                FeatureSpec::Numeric { name, .. } => out.push(name.clone()),
                FeatureSpec::Categorical { name, categories } => {
                    out.extend(categories.iter().map(|c| format!("{name}={c}")))
                }
            }
        }
        out
    }

    /// Encodes one record (values in `features` order) into `out`; returns
    /// how many categories were unknown.
    pub fn encode_into(&self, values: &[Value], out: &mut Vec<f64>) -> usize {
        let mut unknown = 0;
        for (f, v) in self.features.iter().zip(values) {
            match (f, v) {
                (FeatureSpec::Numeric { mean, .. }, Value::Num(x)) => {
                    out.push(if x.is_finite() { *x } else { *mean })
                }
                (FeatureSpec::Numeric { mean, .. }, Value::Text(_)) => out.push(*mean),
                (FeatureSpec::Categorical { categories, .. }, v) => {
                    let text = match v {
                        Value::Text(Some(s)) => Some(s.as_str()),
                        _ => None,
                    };
                    let hit =
                        text.and_then(|t| categories.binary_search_by(|c| c.as_str().cmp(t)).ok());
                    if hit.is_none() {
                        unknown += 1;
                    }
                    out.extend(
                        (0..categories.len()).map(|i| if Some(i) == hit { 1.0 } else { 0.0 }),
                    );
                }
            }
        }
        unknown
    }
}

/// A features table read for training: raw values per feature, the target.
#[derive(Debug, Clone)]
pub struct RawTable {
    /// Feature names, in order.
    pub names: Vec<String>,
    /// Per feature: numeric values (NaN = missing) or text values.
    pub columns: Vec<RawColumn>,
    /// Target, 0/1.
    pub y: Vec<u8>,
}

/// One raw feature column.
#[derive(Debug, Clone)]
pub enum RawColumn {
    /// Numbers (NaN = missing).
    Numeric(Vec<f64>),
    /// Text (None = missing).
    Text(Vec<Option<String>>),
}

impl RawTable {
    /// Rows.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Reads the feature columns of a features table: every column except
    /// identifiers, the target and `not_features`.
    pub fn from_features(df: &DataFrame, roles: &FeatureRoles) -> Result<RawTable> {
        let target = df
            .column(&roles.target)
            .map_err(|_| {
                Error::WrongInput(format!(
                    "the features table has no target column {}",
                    roles.target
                ))
            })?
            .cast(&DataType::Int64)?;
        let mut y = Vec::with_capacity(df.height());
        for v in target.i64()?.iter() {
            match v {
                Some(0) => y.push(0),
                Some(1) => y.push(1),
                other => {
                    return Err(Error::WrongInput(format!(
                        "target {} must be 0 or 1, found {other:?}",
                        roles.target
                    )))
                }
            }
        }
        let mut names = Vec::new();
        let mut columns = Vec::new();
        for col in df.columns() {
            let name = col.name().as_str();
            if name == roles.target
                || roles.identifiers.iter().any(|i| i == name)
                || roles.not_features.iter().any(|i| i == name)
            {
                continue;
            }
            let categorical =
                roles.categorical.iter().any(|c| c == name) || col.dtype() == &DataType::String;
            if categorical {
                let s = col.cast(&DataType::String)?;
                columns.push(RawColumn::Text(
                    s.str()?.iter().map(|v| v.map(str::to_string)).collect(),
                ));
            } else {
                let s = col.cast(&DataType::Float64)?;
                columns.push(RawColumn::Numeric(
                    s.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect(),
                ));
            }
            names.push(name.to_string());
        }
        if names.is_empty() {
            return Err(Error::WrongInput(
                "the features table has no feature columns".into(),
            ));
        }
        Ok(RawTable { names, columns, y })
    }

    /// The raw values of row `i`, in feature order.
    pub fn row(&self, i: usize) -> Vec<Value> {
        self.columns
            .iter()
            .map(|c| match c {
                RawColumn::Numeric(v) => Value::Num(v[i]),
                RawColumn::Text(v) => Value::Text(v[i].clone()),
            })
            .collect()
    }

    /// Fits the encoder on the rows `rows`. Numeric columns with no value
    /// there are dropped (nothing to learn from them).
    pub fn fit_encoder(&self, rows: &[usize]) -> Encoder {
        let mut features = Vec::new();
        for (name, col) in self.names.iter().zip(&self.columns) {
            match col {
                RawColumn::Numeric(v) => {
                    let present: Vec<f64> = rows
                        .iter()
                        .map(|&r| v[r])
                        .filter(|x| x.is_finite())
                        .collect();
                    if present.is_empty() {
                        continue;
                    }
                    let mean = present.iter().sum::<f64>() / present.len() as f64;
                    features.push(FeatureSpec::Numeric {
                        name: name.clone(),
                        mean,
                    });
                }
                RawColumn::Text(v) => {
                    let mut cats: Vec<String> = rows.iter().filter_map(|&r| v[r].clone()).collect();
                    cats.sort();
                    cats.dedup();
                    if cats.is_empty() {
                        continue;
                    }
                    features.push(FeatureSpec::Categorical {
                        name: name.clone(),
                        categories: cats,
                    });
                }
            }
        }
        Encoder { features }
    }

    /// Encodes all rows: a row-major matrix `len × encoder.width()`.
    pub fn encode(&self, encoder: &Encoder) -> Matrix {
        let index: BTreeMap<&str, usize> = self
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let cols: Vec<usize> = encoder.features.iter().map(|f| index[f.name()]).collect();
        let width = encoder.width();
        let mut data = Vec::with_capacity(self.len() * width);
        for i in 0..self.len() {
            let values: Vec<Value> = cols
                .iter()
                .map(|&c| match &self.columns[c] {
                    RawColumn::Numeric(v) => Value::Num(v[i]),
                    RawColumn::Text(v) => Value::Text(v[i].clone()),
                })
                .collect();
            encoder.encode_into(&values, &mut data);
        }
        Matrix {
            data,
            rows: self.len(),
            cols: width,
        }
    }
}

/// A dense row-major matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Values, row after row.
    pub data: Vec<f64>,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
}

impl Matrix {
    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// The rows at `idx`, in that order.
    pub fn take(&self, idx: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(idx.len() * self.cols);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Matrix {
            data,
            rows: idx.len(),
            cols: self.cols,
        }
    }

    /// Column `j` as a vector.
    pub fn column(&self, j: usize) -> Vec<f64> {
        (0..self.rows)
            .map(|i| self.data[i * self.cols + j])
            .collect()
    }
}
