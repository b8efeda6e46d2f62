//! The trainer: an AutoML-style comparison of candidate models in the manner
//! of PyCaret's `compare_models`, as a pure function from a features table
//! to a leaderboard, a fitted model and its model card.
//!
//! * Stratified train/test split (default 80/20, seed 123), stratified k-fold
//!   cross-validation on the training part (default 10 folds).
//! * Candidates × folds run on every core; each task has its own seed, so
//!   results do not depend on scheduling.
//! * The winner (best mean of the sort metric) is refitted on the whole
//!   training part and scored on the test part.

pub mod container;
pub mod dataset;
pub mod metrics;
pub mod model;
pub mod models;
pub mod rng;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::stats;
use crate::table::TableMeta;
use dataset::{Encoder, Matrix, RawColumn, RawTable};
use metrics::{Confusion, Metric, RocPoint};
use model::{Baseline, FeatureBaseline, Model};
use models::{Algorithm, Estimator};
use rng::Rng;

/// Training parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrainConfig {
    /// Metric the leaderboard is sorted by.
    pub sort: Metric,
    /// Cross-validation folds.
    pub folds: usize,
    /// Fraction held out for the test part.
    pub test_size: f64,
    /// Seed for the split, the folds and the estimators.
    pub seed: u64,
    /// Candidates to compare.
    pub candidates: Vec<Algorithm>,
    /// Decision threshold on the score.
    pub threshold: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            sort: Metric::Accuracy,
            folds: 10,
            test_size: 0.2,
            seed: 123,
            candidates: Algorithm::ALL.to_vec(),
            threshold: 0.5,
        }
    }
}

/// Mean and standard deviation (population, as PyCaret) over folds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MeanStd {
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub std: f64,
}

impl MeanStd {
    fn of(v: &[f64]) -> MeanStd {
        let n = v.len().max(1) as f64;
        let mean = v.iter().sum::<f64>() / n;
        let std = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt();
        MeanStd { mean, std }
    }
}

/// One candidate's line on the leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LeaderboardEntry {
    /// Candidate id (`lr`, `forest`…).
    pub model: Algorithm,
    /// Human name.
    pub name: String,
    /// Accuracy over folds.
    pub accuracy: MeanStd,
    /// AUC over folds.
    pub auc: MeanStd,
    /// Recall over folds.
    pub recall: MeanStd,
    /// Precision over folds.
    pub precision: MeanStd,
    /// F1 over folds.
    pub f1: MeanStd,
    /// Cohen's kappa over folds.
    pub kappa: MeanStd,
    /// MCC over folds.
    pub mcc: MeanStd,
    /// Mean fitting time per fold, seconds (the only non-deterministic field).
    pub train_seconds: f64,
    /// Per fold: `[accuracy, auc, recall, precision, f1, kappa, mcc]`.
    pub folds: Vec<[f64; 7]>,
}

impl LeaderboardEntry {
    /// The mean of a metric.
    pub fn mean(&self, m: Metric) -> f64 {
        match m {
            Metric::Accuracy => self.accuracy.mean,
            Metric::Auc => self.auc.mean,
            Metric::Recall => self.recall.mean,
            Metric::Precision => self.precision.mean,
            Metric::F1 => self.f1.mean,
            Metric::Kappa => self.kappa.mean,
            Metric::Mcc => self.mcc.mean,
        }
    }
}

/// Holdout metrics of the winner on the test part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Holdout {
    /// Accuracy.
    pub accuracy: f64,
    /// AUC.
    pub auc: f64,
    /// Recall.
    pub recall: f64,
    /// Precision.
    pub precision: f64,
    /// F1.
    pub f1: f64,
    /// Kappa.
    pub kappa: f64,
    /// MCC.
    pub mcc: f64,
}

/// A feature whose univariate AUC against the target is suspiciously high.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LeakageFlag {
    /// Feature.
    pub feature: String,
    /// max(AUC, 1 − AUC) on the training part.
    pub auc: f64,
}

/// Above this univariate AUC a feature is flagged as a likely leak.
pub const LEAKAGE_AUC: f64 = 0.95;

/// Permutation importance of one input feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Importance {
    /// Input feature (one-hot columns of a category count together).
    pub feature: String,
    /// Mean drop in test AUC when the feature is shuffled (5 repeats).
    pub importance: f64,
    /// Standard deviation over repeats.
    pub std: f64,
}

/// How the candidates compared and how good the winner is: part of both
/// the training result and the model card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Evaluation {
    /// Every candidate, best first.
    pub leaderboard: Vec<LeaderboardEntry>,
    /// The winner's id.
    pub winner: Algorithm,
    /// Its holdout metrics.
    pub holdout: Holdout,
    /// ROC curve on the test part.
    pub roc: Vec<RocPoint>,
    /// Confusion matrix on the test part at the threshold.
    pub confusion: Confusion,
    /// Permutation importance on the test part, largest first.
    pub importance: Vec<Importance>,
    /// Every numeric feature's univariate AUC above [`LEAKAGE_AUC`].
    pub leakage: Vec<LeakageFlag>,
    /// Rows in the training and test parts.
    pub rows: (usize, usize),
}

impl Evaluation {
    /// The winner's cross-validated mean of a metric (NaN when the
    /// leaderboard lacks the winner).
    pub fn winner_mean(&self, m: Metric) -> f64 {
        self.leaderboard
            .iter()
            .find(|e| e.model == self.winner)
            .map_or(f64::NAN, |e| e.mean(m))
    }
}

/// Everything training produced, before registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainResult {
    /// The comparison and the winner's quality.
    #[serde(flatten)]
    pub evaluation: Evaluation,
    /// Univariate AUC of every numeric feature (training part).
    pub univariate_auc: Vec<LeakageFlag>,
    /// Positives in the training and test parts.
    pub positives: (usize, usize),
    /// The fitted model (winner refitted on the training part).
    pub model: Model,
}

/// Stratified split: `test_size` of each class (rounded) goes to the test part.
pub fn stratified_split(y: &[u8], test_size: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = Rng::derive(seed, &[0x5EED_5917]);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for class in [0u8, 1] {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        rng.shuffle(&mut idx);
        let n_test = (idx.len() as f64 * test_size).round() as usize;
        test.extend_from_slice(&idx[..n_test]);
        train.extend_from_slice(&idx[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// Stratified k-fold on positions `0..y.len()`: the fold of each position.
pub fn stratified_folds(y: &[u8], k: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::derive(seed, &[0xF01D]);
    let mut fold = vec![0usize; y.len()];
    let mut offset = 0;
    for class in [0u8, 1] {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        rng.shuffle(&mut idx);
        for (j, &i) in idx.iter().enumerate() {
            fold[i] = (offset + j) % k;
        }
        offset += idx.len();
    }
    fold
}

/// Trains and compares the candidates on a features table.
pub fn train(
    df: &DataFrame,
    meta: Option<&TableMeta>,
    cfg: &TrainConfig,
    progress: &dyn Progress,
) -> Result<TrainResult> {
    let roles = meta
        .and_then(|m| m.roles.as_ref())
        .ok_or_else(|| Error::WrongInput("this is not a features table written by Tablero (no column roles); run `etl features` first".into()))?;
    if cfg.candidates.is_empty() {
        return Err(Error::InvalidParameter("no candidates to compare".into()));
    }
    if !(2..=50).contains(&cfg.folds) {
        return Err(Error::InvalidParameter(format!(
            "--folds must be between 2 and 50, not {}",
            cfg.folds
        )));
    }
    if !(cfg.test_size > 0.0 && cfg.test_size < 0.9) {
        return Err(Error::InvalidParameter(format!(
            "--test-size must be in (0, 0.9), not {}",
            cfg.test_size
        )));
    }
    progress.update(0.01, "preparing data")?;
    let raw = RawTable::from_features(df, roles)?;
    let positives = raw.y.iter().filter(|&&v| v == 1).count();
    let negatives = raw.len() - positives;
    let (train_rows, test_rows) = stratified_split(&raw.y, cfg.test_size, cfg.seed);
    let min_class = positives.min(negatives);
    if min_class < cfg.folds * 2 || test_rows.is_empty() {
        return Err(Error::WrongInput(format!(
            "too few customers to train: {positives} positives and {negatives} negatives; \
             {}-fold cross-validation needs at least {} of each",
            cfg.folds,
            cfg.folds * 2
        )));
    }
    let encoder = raw.fit_encoder(&train_rows);
    let x_all = raw.encode(&encoder);
    let x = x_all.take(&train_rows);
    let y: Vec<u8> = train_rows.iter().map(|&i| raw.y[i]).collect();
    let x_test = x_all.take(&test_rows);
    let y_test: Vec<u8> = test_rows.iter().map(|&i| raw.y[i]).collect();
    let fold_of = stratified_folds(&y, cfg.folds, cfg.seed);

    // Cross-validation: every (candidate, fold) is an independent task.
    let tasks: Vec<(usize, usize)> = (0..cfg.candidates.len())
        .flat_map(|c| (0..cfg.folds).map(move |f| (c, f)))
        .collect();
    let results = run_tasks(
        &tasks,
        progress,
        |&(c, f)| {
            let tr: Vec<usize> = (0..y.len()).filter(|&i| fold_of[i] != f).collect();
            let va: Vec<usize> = (0..y.len()).filter(|&i| fold_of[i] == f).collect();
            let xt = x.take(&tr);
            let yt: Vec<u8> = tr.iter().map(|&i| y[i]).collect();
            let start = Instant::now();
            let est = Estimator::fit(cfg.candidates[c], &xt, &yt, task_seed(cfg.seed, c, f));
            let secs = start.elapsed().as_secs_f64();
            let xv = x.take(&va);
            let yv: Vec<u8> = va.iter().map(|&i| y[i]).collect();
            (metrics::all(&est.predict(&xv), &yv, cfg.threshold), secs)
        },
        |&(c, f)| format!("{} fold {}/{}", cfg.candidates[c].title(), f + 1, cfg.folds),
    )?;

    let mut leaderboard: Vec<LeaderboardEntry> = cfg
        .candidates
        .iter()
        .enumerate()
        .map(|(c, &alg)| {
            let folds: Vec<[f64; 7]> = (0..cfg.folds)
                .map(|f| results[c * cfg.folds + f].0)
                .collect();
            let col = |k: usize| MeanStd::of(&folds.iter().map(|m| m[k]).collect::<Vec<_>>());
            LeaderboardEntry {
                model: alg,
                name: alg.title().into(),
                accuracy: col(0),
                auc: col(1),
                recall: col(2),
                precision: col(3),
                f1: col(4),
                kappa: col(5),
                mcc: col(6),
                train_seconds: (0..cfg.folds)
                    .map(|f| results[c * cfg.folds + f].1)
                    .sum::<f64>()
                    / cfg.folds as f64,
                folds,
            }
        })
        .collect();
    // Best first; ties keep the candidates' order.
    leaderboard.sort_by(|a, b| b.mean(cfg.sort).total_cmp(&a.mean(cfg.sort)));
    let winner = leaderboard[0].model;

    progress.update(
        0.9,
        &format!("refitting {} on the training part", winner.title()),
    )?;
    let c = cfg
        .candidates
        .iter()
        .position(|a| *a == winner)
        .unwrap_or(0);
    let estimator = Estimator::fit(winner, &x, &y, task_seed(cfg.seed, c, usize::MAX));
    let test_scores = estimator.predict(&x_test);
    let m = metrics::all(&test_scores, &y_test, cfg.threshold);
    let holdout = Holdout {
        accuracy: m[0],
        auc: m[1],
        recall: m[2],
        precision: m[3],
        f1: m[4],
        kappa: m[5],
        mcc: m[6],
    };

    progress.update(0.94, "permutation importance")?;
    let importance = permutation_importance(&estimator, &encoder, &x_test, &y_test, cfg.seed);
    let univariate = univariate_auc(&raw, &train_rows);
    let leakage: Vec<LeakageFlag> = univariate
        .iter()
        .filter(|f| f.auc > LEAKAGE_AUC)
        .cloned()
        .collect();
    let baseline = baseline(&raw, &train_rows, &encoder, &estimator.predict(&x));
    let model = Model {
        encoder,
        estimator,
        threshold: cfg.threshold,
        baseline,
    };
    progress.update(0.97, "done training")?;
    Ok(TrainResult {
        evaluation: Evaluation {
            leaderboard,
            winner,
            holdout,
            roc: metrics::roc(&test_scores, &y_test),
            confusion: Confusion::of(&test_scores, &y_test, cfg.threshold),
            importance,
            leakage,
            rows: (train_rows.len(), test_rows.len()),
        },
        univariate_auc: univariate,
        positives: (
            y.iter().filter(|&&v| v == 1).count(),
            y_test.iter().filter(|&&v| v == 1).count(),
        ),
        model,
    })
}

fn task_seed(seed: u64, candidate: usize, fold: usize) -> u64 {
    Rng::derive(seed, &[candidate as u64, fold as u64]).next_u64()
}

/// Runs tasks on every core, reporting progress from this thread; stops
/// early (with `Cancelled`) when progress says so. Results are in task order.
fn run_tasks<T: Sync, R: Send>(
    tasks: &[T],
    progress: &dyn Progress,
    work: impl Fn(&T) -> R + Sync,
    label: impl Fn(&T) -> String,
) -> Result<Vec<R>> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, tasks.len().max(1));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, R)>();
    let mut slots: Vec<Option<R>> = (0..tasks.len()).map(|_| None).collect();
    let mut outcome = Ok(());
    std::thread::scope(|s| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, stop, work) = (&next, &stop, &work);
            s.spawn(move || loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= tasks.len() {
                    break;
                }
                if tx.send((i, work(&tasks[i]))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut done = 0;
        for (i, r) in rx {
            slots[i] = Some(r);
            done += 1;
            let fraction = 0.02 + 0.86 * done as f64 / tasks.len() as f64;
            if let Err(e) = progress.update(fraction, &label(&tasks[i])) {
                stop.store(true, Ordering::Relaxed);
                outcome = Err(e);
                break;
            }
        }
    });
    outcome?;
    slots
        .into_iter()
        .map(|s| s.ok_or_else(|| Error::InvalidParameter("a training task did not finish".into())))
        .collect()
}

/// Drop in test AUC when each input feature is shuffled (5 repeats).
fn permutation_importance(
    est: &Estimator,
    enc: &Encoder,
    x: &Matrix,
    y: &[u8],
    seed: u64,
) -> Vec<Importance> {
    let base = metrics::auc(&est.predict(x), y);
    let mut out = Vec::new();
    let mut start = 0;
    for (k, f) in enc.features.iter().enumerate() {
        let cols: Vec<usize> = (start..start + f.width()).collect();
        start += f.width();
        let mut drops = Vec::new();
        for rep in 0..5u64 {
            let mut rng = Rng::derive(seed, &[0x1A9, k as u64, rep]);
            let mut perm: Vec<usize> = (0..x.rows).collect();
            rng.shuffle(&mut perm);
            let mut shuffled = x.clone();
            for (i, &p) in perm.iter().enumerate() {
                for &c in &cols {
                    shuffled.data[i * x.cols + c] = x.data[p * x.cols + c];
                }
            }
            drops.push(base - metrics::auc(&est.predict(&shuffled), y));
        }
        let ms = MeanStd::of(&drops);
        out.push(Importance {
            feature: f.name().to_string(),
            importance: ms.mean,
            std: ms.std,
        });
    }
    out.sort_by(|a, b| b.importance.total_cmp(&a.importance));
    out
}

/// max(AUC, 1 − AUC) of each numeric feature against the target, on the training part.
fn univariate_auc(raw: &RawTable, rows: &[usize]) -> Vec<LeakageFlag> {
    let y: Vec<u8> = rows.iter().map(|&i| raw.y[i]).collect();
    raw.names
        .iter()
        .zip(&raw.columns)
        .filter_map(|(name, col)| match col {
            RawColumn::Numeric(v) => {
                let s: Vec<f64> = rows
                    .iter()
                    .map(|&i| if v[i].is_finite() { v[i] } else { f64::MIN })
                    .collect();
                let a = metrics::auc(&s, &y);
                Some(LeakageFlag {
                    feature: name.clone(),
                    auc: a.max(1.0 - a),
                })
            }
            RawColumn::Text(_) => None,
        })
        .collect()
}

/// The drift baseline: 10 quantile bins per numeric feature, category
/// proportions per categorical feature, and 10 quantile bins of the score.
fn baseline(raw: &RawTable, rows: &[usize], enc: &Encoder, train_scores: &[f64]) -> Baseline {
    let mut features = Vec::new();
    for f in &enc.features {
        let k = raw.names.iter().position(|n| n == f.name()).unwrap_or(0);
        match &raw.columns[k] {
            RawColumn::Numeric(v) => {
                let vals: Vec<f64> = rows
                    .iter()
                    .map(|&i| v[i])
                    .filter(|x| x.is_finite())
                    .collect();
                features.push(FeatureBaseline::numeric(f.name(), &vals));
            }
            RawColumn::Text(v) => {
                let vals: Vec<Option<&str>> = rows.iter().map(|&i| v[i].as_deref()).collect();
                features.push(FeatureBaseline::categorical(f.name(), &vals));
            }
        }
    }
    Baseline {
        features,
        score: FeatureBaseline::numeric("score", train_scores),
    }
}

/// Quantile edges (deciles, deduplicated) of values.
pub(crate) fn decile_edges(values: &[f64]) -> Vec<f64> {
    if values.is_empty() {
        return Vec::new();
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = (1..10)
        .map(|k| stats::quantile_sorted(&sorted, k as f64 / 10.0))
        .collect();
    edges.dedup();
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_folds_are_stratified() {
        let y: Vec<u8> = (0..1000).map(|i| u8::from(i % 4 == 0)).collect(); // 250 positives
        let (train, test) = stratified_split(&y, 0.2, 123);
        assert_eq!(test.len(), 200);
        assert_eq!(test.iter().filter(|&&i| y[i] == 1).count(), 50);
        assert_eq!(train.len(), 800);
        let yt: Vec<u8> = train.iter().map(|&i| y[i]).collect();
        let folds = stratified_folds(&yt, 10, 123);
        for f in 0..10 {
            let members: Vec<usize> = (0..yt.len()).filter(|&i| folds[i] == f).collect();
            assert_eq!(members.len(), 80);
            assert_eq!(members.iter().filter(|&&i| yt[i] == 1).count(), 20);
        }
        assert_eq!(
            stratified_split(&y, 0.2, 123),
            (train, test),
            "deterministic"
        );
        assert_ne!(
            stratified_split(&y, 0.2, 124).1,
            stratified_split(&y, 0.2, 123).1
        );
    }
}
