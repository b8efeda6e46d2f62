//! Drift: the population stability index (PSI) of live values against a
//! model card's baseline bins. 0.1 = watch, 0.25 = drift.

use crate::train::dataset::Value;
use crate::train::model::FeatureBaseline;

/// Proportion used in place of an empty bin, so the logarithm stays finite.
pub const EPSILON: f64 = 1e-4;

/// PSI above which a feature is worth watching.
pub const WATCH: f64 = 0.1;

/// PSI above which a feature has drifted.
pub const DRIFT: f64 = 0.25;

/// `Σ (actual − expected) · ln(actual / expected)` over bins, empty bins
/// (on either side) counted as [`EPSILON`].
///
/// ```
/// let psi = tablero_core::drift::psi(&[0.25, 0.25, 0.25, 0.25], &[0.10, 0.20, 0.30, 0.40]);
/// assert!((psi - 0.228218).abs() < 1e-6);
/// ```
pub fn psi(expected: &[f64], actual: &[f64]) -> f64 {
    expected
        .iter()
        .zip(actual)
        .map(|(&e, &a)| {
            let (e, a) = (e.max(EPSILON), a.max(EPSILON));
            (a - e) * (a / e).ln()
        })
        .sum()
}

/// How far a distribution moved, by its PSI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum DriftLevel {
    /// PSI below [`WATCH`].
    Ok,
    /// PSI below [`DRIFT`].
    Watch,
    /// PSI at [`DRIFT`] or above.
    Drift,
}

impl DriftLevel {
    /// `ok`, `watch` or `drift`.
    pub fn name(self) -> &'static str {
        match self {
            DriftLevel::Ok => "ok",
            DriftLevel::Watch => "watch",
            DriftLevel::Drift => "drift",
        }
    }
}

impl std::fmt::Display for DriftLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `ok` (PSI < [`WATCH`]), `watch` (< [`DRIFT`]) or `drift`.
pub fn level(psi: f64) -> DriftLevel {
    if psi >= DRIFT {
        DriftLevel::Drift
    } else if psi >= WATCH {
        DriftLevel::Watch
    } else {
        DriftLevel::Ok
    }
}

/// Counts live values into a baseline's bins ([`FeatureBaseline::bin_of_value`]):
/// numeric values into the baseline's decile bins, categories into the
/// baseline's categories with one extra bin (last) for categories the
/// baseline never saw; values of the wrong kind are not counted.
pub fn bin_counts(baseline: &FeatureBaseline, values: &[Value]) -> Vec<u64> {
    let mut counts = vec![0u64; baseline.counted_bins()];
    for v in values {
        if let Some(c) = baseline.bin_of_value(v).and_then(|b| counts.get_mut(b)) {
            *c += 1;
        }
    }
    counts
}

/// PSI of live bin counts against a baseline (the unseen-category bin of a
/// categorical baseline has an expected proportion of 0).
pub fn psi_of_counts(baseline: &FeatureBaseline, counts: &[u64]) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let actual: Vec<f64> = counts.iter().map(|&c| c as f64 / total as f64).collect();
    let mut expected = match baseline {
        FeatureBaseline::Numeric { proportions, .. }
        | FeatureBaseline::Categorical { proportions, .. } => proportions.clone(),
    };
    expected.resize(actual.len(), 0.0);
    Some(psi(&expected, &actual))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_by_hand() {
        // (0.10−0.25)ln(0.4) + (0.20−0.25)ln(0.8) + (0.30−0.25)ln(1.2) + (0.40−0.25)ln(1.6)
        // = 0.137444 + 0.011157 + 0.009116 + 0.070501 = 0.228218
        assert!((psi(&[0.25; 4], &[0.10, 0.20, 0.30, 0.40]) - 0.228_218).abs() < 1e-6);
        // An empty expected bin counts as 1e-4:
        // 0 + (0.25−0.5)ln(0.5) + (0.25−1e-4)ln(0.25/1e-4) = 0.173287 + 1.955229 = 2.128516
        assert!((psi(&[0.5, 0.5, 0.0], &[0.5, 0.25, 0.25]) - 2.128_516).abs() < 1e-6);
        assert_eq!(psi(&[0.3, 0.7], &[0.3, 0.7]), 0.0);
    }

    #[test]
    fn live_values_in_baseline_bins() {
        let num = |v: f64| Value::Num(v);
        let base = FeatureBaseline::numeric("x", &(0..100).map(f64::from).collect::<Vec<_>>());
        let same = bin_counts(
            &base,
            &(0..100).map(|v| num(f64::from(v))).collect::<Vec<_>>(),
        );
        assert!(psi_of_counts(&base, &same).unwrap() < 1e-9);
        let shifted = bin_counts(
            &base,
            &(0..100)
                .map(|v| num(f64::from(v) + 60.0))
                .collect::<Vec<_>>(),
        );
        assert!(psi_of_counts(&base, &shifted).unwrap() > DRIFT);
        assert_eq!(
            bin_counts(&base, &[num(f64::NAN), Value::Text(Some("7".into()))])
                .iter()
                .sum::<u64>(),
            0,
            "neither NaN nor text counts as a number"
        );
        let cat = FeatureBaseline::categorical("c", &[Some("a"), Some("a"), Some("b"), None]);
        let text = |t: &str| Value::Text(Some(t.into()));
        let counts = bin_counts(&cat, &[text("a"), text("zzz"), Value::Text(None)]);
        assert_eq!(counts, vec![1, 1, 0, 1], "'' (missing), a, b, unseen");
        assert!(psi_of_counts(&cat, &[0, 0, 0, 0]).is_none());
    }
}
