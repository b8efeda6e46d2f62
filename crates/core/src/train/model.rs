//! The model artifact (encoder + estimator + threshold, in a versioned
//! envelope) and the model card.

use serde::{Deserialize, Serialize};

use super::dataset::{Encoder, FeatureSpec, Value};
use super::models::{Algorithm, Estimator};
use super::{decile_edges, Evaluation, TrainConfig};
use crate::error::{Error, Result};

/// Layout version of [`ModelArtifact`].
pub const ARTIFACT_FORMAT: u32 = 1;

/// A fitted model: how to encode a record, the estimator, the threshold,
/// and the training distribution drift is measured against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Encoder fitted on the training part.
    pub encoder: Encoder,
    /// The estimator.
    pub estimator: Estimator,
    /// Scores at or above this are label 1.
    pub threshold: f64,
    /// Drift baseline.
    pub baseline: Baseline,
}

/// One prediction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Probability of a purchase in the horizon.
    pub score: f64,
    /// 1 when `score >= threshold`.
    pub label: u8,
}

impl Model {
    /// Scores records given as values in the encoder's feature order.
    /// Returns the predictions and how many unknown categories were seen
    /// (each encoded as all zeros).
    pub fn predict(&self, records: &[Vec<Value>]) -> (Vec<Prediction>, usize) {
        // Blocks of rows: large enough for tree ensembles to reuse each tree
        // from cache, small enough for the encoded rows to stay in cache too.
        const BLOCK: usize = 256;
        let width = self.encoder.width();
        let mut unknown = 0;
        let mut rows = Vec::with_capacity(width * BLOCK);
        let mut scores = Vec::with_capacity(records.len());
        for block in records.chunks(BLOCK) {
            rows.clear();
            for r in block {
                unknown += self.encoder.encode_into(r, &mut rows);
            }
            self.estimator.predict_block(&rows, width, &mut scores);
        }
        let preds = scores
            .into_iter()
            .map(|score| Prediction {
                score,
                label: u8::from(score >= self.threshold),
            })
            .collect();
        (preds, unknown)
    }
}

/// The model as stored: a versioned envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelArtifact {
    /// [`ARTIFACT_FORMAT`] when written.
    pub format_version: u32,
    /// The estimator's algorithm.
    pub algorithm: Algorithm,
    /// The input features, as the encoder expects them.
    pub feature_schema: Vec<FeatureSpec>,
    /// The model.
    pub model: Model,
}

impl ModelArtifact {
    /// Wraps a model.
    pub fn new(model: Model) -> ModelArtifact {
        ModelArtifact {
            format_version: ARTIFACT_FORMAT,
            algorithm: model.estimator.algorithm(),
            feature_schema: model.encoder.features.clone(),
            model,
        }
    }

    /// Serialises (JSON, floats written so they read back bit for bit).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self)
            .map_err(|e| Error::InvalidParameter(format!("cannot serialise the model: {e}")))
    }

    /// Reads an artifact, refusing formats this version does not know.
    pub fn from_bytes(bytes: &[u8]) -> Result<ModelArtifact> {
        #[derive(Deserialize)]
        struct Head {
            format_version: u32,
        }
        let head: Head = serde_json::from_slice(bytes)
            .map_err(|e| Error::WrongInput(format!("not a Tablero model artifact: {e}")))?;
        if head.format_version != ARTIFACT_FORMAT {
            return Err(Error::WrongInput(format!(
                "model artifact format {} is not supported by this Tablero (it reads format {ARTIFACT_FORMAT})",
                head.format_version
            )));
        }
        serde_json::from_slice(bytes)
            .map_err(|e| Error::WrongInput(format!("corrupt model artifact: {e}")))
    }
}

/// Training distribution of one feature (or of the score).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FeatureBaseline {
    /// Numeric: bins `(-inf, e0], (e0, e1], …, (e_last, inf)` and their proportions.
    Numeric {
        /// Feature.
        name: String,
        /// Inner bin edges (training deciles, deduplicated).
        edges: Vec<f64>,
        /// Proportion of training rows per bin (`edges.len() + 1` bins).
        proportions: Vec<f64>,
    },
    /// Categorical: proportion per category.
    Categorical {
        /// Feature.
        name: String,
        /// Categories (missing as `""`).
        categories: Vec<String>,
        /// Proportions.
        proportions: Vec<f64>,
    },
}

impl FeatureBaseline {
    /// The feature's name (`score` for the score baseline).
    pub fn name(&self) -> &str {
        match self {
            FeatureBaseline::Numeric { name, .. } | FeatureBaseline::Categorical { name, .. } => {
                name
            }
        }
    }

    /// Bins live values are counted in: numeric `edges + 1`; categorical one
    /// per category plus a last one for unseen categories.
    pub fn counted_bins(&self) -> usize {
        match self {
            FeatureBaseline::Numeric { edges, .. } => edges.len() + 1,
            FeatureBaseline::Categorical { categories, .. } => categories.len() + 1,
        }
    }

    /// The bin a live value falls in: a finite number by the edges of a
    /// numeric baseline; a category (missing as `""`) by a categorical one,
    /// unseen categories in the last bin. `None` for a value of the wrong
    /// kind or a number that is not finite. The one binning of live values,
    /// for the endpoint's windows and for drift.
    pub fn bin_of_value(&self, v: &crate::train::dataset::Value) -> Option<usize> {
        use crate::train::dataset::Value;
        match (self, v) {
            (FeatureBaseline::Numeric { edges, .. }, Value::Num(x)) if x.is_finite() => {
                Some(FeatureBaseline::bin_of(edges, *x))
            }
            (FeatureBaseline::Categorical { categories, .. }, Value::Text(t)) => {
                let t = t.as_deref().unwrap_or("");
                Some(
                    categories
                        .iter()
                        .position(|c| c == t)
                        .unwrap_or(categories.len()),
                )
            }
            _ => None,
        }
    }

    /// Bin index of a value in numeric edges.
    pub fn bin_of(edges: &[f64], v: f64) -> usize {
        edges.partition_point(|&e| e < v)
    }

    /// The baseline of numeric values: decile edges and proportions.
    pub fn numeric(name: &str, values: &[f64]) -> FeatureBaseline {
        let edges = decile_edges(values);
        let mut counts = vec![0.0; edges.len() + 1];
        for &v in values {
            counts[FeatureBaseline::bin_of(&edges, v)] += 1.0;
        }
        let n = values.len().max(1) as f64;
        FeatureBaseline::Numeric {
            name: name.into(),
            edges,
            proportions: counts.into_iter().map(|c| c / n).collect(),
        }
    }

    /// The baseline of categories: proportion per category (missing as `""`).
    pub fn categorical(name: &str, values: &[Option<&str>]) -> FeatureBaseline {
        let mut cats: Vec<String> = values.iter().map(|v| v.unwrap_or("").to_string()).collect();
        cats.sort();
        let mut categories = Vec::new();
        let mut proportions = Vec::new();
        let n = cats.len().max(1) as f64;
        for c in cats {
            if categories.last() == Some(&c) {
                if let Some(p) = proportions.last_mut() {
                    *p += 1.0 / n;
                }
            } else {
                categories.push(c);
                proportions.push(1.0 / n);
            }
        }
        FeatureBaseline::Categorical {
            name: name.into(),
            categories,
            proportions,
        }
    }
}

/// The drift baseline of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Baseline {
    /// Per input feature.
    pub features: Vec<FeatureBaseline>,
    /// The predicted score on the training part.
    pub score: FeatureBaseline,
}

/// Where the training data came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DatasetRef {
    /// URI, e.g. `tablero://clean/sales/features.parquet` or `s3://…`.
    pub uri: String,
    /// SHA-256 of the features file.
    pub sha256: String,
    /// `standard` or `parity`.
    pub preset: String,
    /// Target column.
    pub target: String,
    /// Horizon in days.
    pub horizon_days: u32,
    /// Cut-off of the features.
    pub cutoff: String,
}

/// The model card: what the model is, how it was trained, how good it is,
/// and the baseline for drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModelCard {
    /// Model group.
    pub group: String,
    /// Version within the group (assigned at registration).
    pub version: u32,
    /// Who trained it.
    pub trained_by: String,
    /// When (RFC 3339, UTC).
    pub trained_at: String,
    /// The training data.
    pub dataset: DatasetRef,
    /// Training parameters.
    pub params: TrainConfig,
    /// Input features.
    pub feature_schema: Vec<FeatureSpec>,
    /// How the candidates compared; the winner's holdout metrics, ROC,
    /// confusion matrix, importance and leakage flags; the row counts.
    #[serde(flatten)]
    pub evaluation: Evaluation,
    /// Decision threshold.
    pub threshold: f64,
    /// What happens to a category not seen in training.
    pub unknown_categories: String,
    /// Drift baseline.
    pub baseline: Baseline,
}
