//! Classification metrics, as PyCaret/scikit-learn define them.

use serde::{Deserialize, Serialize};

/// The metrics a leaderboard can sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// (TP + TN) / n.
    Accuracy,
    /// Area under the ROC curve.
    Auc,
    /// TP / (TP + FN).
    Recall,
    /// TP / (TP + FP).
    Precision,
    /// Harmonic mean of precision and recall.
    F1,
    /// Cohen's kappa.
    Kappa,
    /// Matthews correlation coefficient.
    Mcc,
}

impl Metric {
    /// All metrics, in leaderboard order.
    pub const ALL: [Metric; 7] = [
        Metric::Accuracy,
        Metric::Auc,
        Metric::Recall,
        Metric::Precision,
        Metric::F1,
        Metric::Kappa,
        Metric::Mcc,
    ];

    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::Auc => "auc",
            Metric::Recall => "recall",
            Metric::Precision => "precision",
            Metric::F1 => "f1",
            Metric::Kappa => "kappa",
            Metric::Mcc => "mcc",
        }
    }

    /// Its name for people: `Accuracy`, `AUC`, …
    pub fn title(self) -> &'static str {
        match self {
            Metric::Accuracy => "Accuracy",
            Metric::Auc => "AUC",
            Metric::Recall => "Recall",
            Metric::Precision => "Precision",
            Metric::F1 => "F1",
            Metric::Kappa => "Kappa",
            Metric::Mcc => "MCC",
        }
    }

    /// Parses a lowercase name.
    pub fn from_name(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// A 2×2 confusion matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Confusion {
    /// Predicted 1, actually 1.
    pub tp: u64,
    /// Predicted 1, actually 0.
    pub fp: u64,
    /// Predicted 0, actually 0.
    pub tn: u64,
    /// Predicted 0, actually 1.
    pub fn_: u64,
}

impl Confusion {
    /// Counts predictions `score >= threshold` against labels.
    pub fn of(scores: &[f64], y: &[u8], threshold: f64) -> Confusion {
        let mut c = Confusion::default();
        for (&s, &t) in scores.iter().zip(y) {
            match (s >= threshold, t == 1) {
                (true, true) => c.tp += 1,
                (true, false) => c.fp += 1,
                (false, false) => c.tn += 1,
                (false, true) => c.fn_ += 1,
            }
        }
        c
    }

    fn n(&self) -> f64 {
        (self.tp + self.fp + self.tn + self.fn_) as f64
    }

    /// Accuracy.
    pub fn accuracy(&self) -> f64 {
        ratio((self.tp + self.tn) as f64, self.n())
    }

    /// Precision (0 when nothing is predicted positive, as scikit-learn).
    pub fn precision(&self) -> f64 {
        ratio(self.tp as f64, (self.tp + self.fp) as f64)
    }

    /// Recall.
    pub fn recall(&self) -> f64 {
        ratio(self.tp as f64, (self.tp + self.fn_) as f64)
    }

    /// F1.
    pub fn f1(&self) -> f64 {
        ratio(
            2.0 * self.tp as f64,
            (2 * self.tp + self.fp + self.fn_) as f64,
        )
    }

    /// Cohen's kappa: (po − pe) / (1 − pe).
    pub fn kappa(&self) -> f64 {
        let n = self.n();
        if n == 0.0 {
            return 0.0;
        }
        let po = (self.tp + self.tn) as f64 / n;
        let pred1 = (self.tp + self.fp) as f64 / n;
        let true1 = (self.tp + self.fn_) as f64 / n;
        let pe = pred1 * true1 + (1.0 - pred1) * (1.0 - true1);
        if pe == 1.0 {
            0.0
        } else {
            (po - pe) / (1.0 - pe)
        }
    }

    /// Matthews correlation coefficient (0 when undefined, as scikit-learn).
    pub fn mcc(&self) -> f64 {
        let (tp, fp, tn, fn_) = (
            self.tp as f64,
            self.fp as f64,
            self.tn as f64,
            self.fn_ as f64,
        );
        let den = ((tp + fp) * (tp + fn_) * (tn + fp) * (tn + fn_)).sqrt();
        ratio(tp * tn - fp * fn_, den)
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// Area under the ROC curve (Mann–Whitney, ties counted half). 0.5 when a
/// class is missing.
pub fn auc(scores: &[f64], y: &[u8]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut pos, mut i) = (0.0, 0u64, 0usize);
    while i < idx.len() {
        let mut j = i;
        while j < idx.len() && scores[idx[j]] == scores[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j + 1) as f64 / 2.0; // ranks i+1 ..= j
        for &k in &idx[i..j] {
            if y[k] == 1 {
                rank_sum += avg_rank;
                pos += 1;
            }
        }
        i = j;
    }
    let neg = scores.len() as u64 - pos;
    if pos == 0 || neg == 0 {
        return 0.5;
    }
    (rank_sum - (pos * (pos + 1)) as f64 / 2.0) / (pos as f64 * neg as f64)
}

/// One point of a ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RocPoint {
    /// False positive rate.
    pub fpr: f64,
    /// True positive rate.
    pub tpr: f64,
    /// Scores at or above this are positive.
    pub threshold: f64,
}

/// The ROC curve: one point per distinct score, from (0, 0) to (1, 1).
pub fn roc(scores: &[f64], y: &[u8]) -> Vec<RocPoint> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let pos = y.iter().filter(|&&v| v == 1).count() as f64;
    let neg = y.len() as f64 - pos;
    // The first point's threshold is above every score (JSON has no infinity;
    // as scikit-learn before 1.3: the highest score + 1).
    let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut out = vec![RocPoint {
        fpr: 0.0,
        tpr: 0.0,
        threshold: if top.is_finite() { top + 1.0 } else { 1.0 },
    }];
    let (mut tp, mut fp, mut i) = (0.0, 0.0, 0usize);
    while i < idx.len() {
        let s = scores[idx[i]];
        while i < idx.len() && scores[idx[i]] == s {
            if y[idx[i]] == 1 {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        out.push(RocPoint {
            fpr: ratio(fp, neg),
            tpr: ratio(tp, pos),
            threshold: s,
        });
    }
    out
}

/// All metrics of scores against labels at a threshold.
pub fn all(scores: &[f64], y: &[u8], threshold: f64) -> [f64; 7] {
    let c = Confusion::of(scores, y, threshold);
    [
        c.accuracy(),
        auc(scores, y),
        c.recall(),
        c.precision(),
        c.f1(),
        c.kappa(),
        c.mcc(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kappa_and_mcc_of_a_small_confusion_matrix() {
        // tp=20 fp=5 tn=15 fn=10, n=50: po = 0.7; pred1 = 0.5, true1 = 0.6;
        // pe = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = (0.7-0.5)/0.5 = 0.4.
        // mcc = (20*15 - 5*10) / sqrt(25*30*20*25) = 250 / sqrt(375000).
        let c = Confusion {
            tp: 20,
            fp: 5,
            tn: 15,
            fn_: 10,
        };
        assert!((c.kappa() - 0.4).abs() < 1e-12);
        assert!((c.mcc() - 250.0 / 375_000f64.sqrt()).abs() < 1e-12);
        assert_eq!(c.accuracy(), 0.7);
        assert_eq!(c.precision(), 0.8);
        assert!((c.recall() - 20.0 / 30.0).abs() < 1e-15);
        assert!((c.f1() - 40.0 / 55.0).abs() < 1e-15);
        assert_eq!(Confusion::default().mcc(), 0.0);
    }

    #[test]
    fn auc_of_a_small_ranking() {
        // Positives at scores 0.9, 0.4; negatives at 0.8, 0.3, 0.1.
        // Pairs (pos > neg): 0.9 beats 3, 0.4 beats 2 → 5 of 6.
        let s = [0.9, 0.8, 0.4, 0.3, 0.1];
        let y = [1, 0, 1, 0, 0];
        assert!((auc(&s, &y) - 5.0 / 6.0).abs() < 1e-15);
        // A tie between a positive and a negative counts half.
        assert_eq!(auc(&[0.5, 0.5], &[1, 0]), 0.5);
        let r = roc(&s, &y);
        assert_eq!(r.first().map(|p| (p.fpr, p.tpr)), Some((0.0, 0.0)));
        assert_eq!(r.last().map(|p| (p.fpr, p.tpr)), Some((1.0, 1.0)));
        assert_eq!(r[2].tpr, 0.5);
        assert!((r[2].fpr - 1.0 / 3.0).abs() < 1e-15);
    }
}
