//! The candidate estimators, written for this trainer: deterministic for a
//! seed, single-threaded (the comparison runs candidates and folds in
//! parallel instead), serialisable, and predicting exactly the same after a
//! save and a load. Trees use histogram splits on at most 64 bins per
//! feature (thresholds are real values, so prediction needs no binning).

use serde::{Deserialize, Serialize};

use super::dataset::Matrix;
use super::rng::Rng;

/// The candidates a leaderboard can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// Logistic regression on standardised inputs (L2, C = 1).
    Lr,
    /// A decision tree (CART, Gini).
    Tree,
    /// Random forest: 100 trees, bootstrap, √p features per split.
    Forest,
    /// Gradient-boosted trees: 100 stages of depth 3, learning rate 0.1.
    Gbm,
    /// k nearest neighbours (k = 5) on standardised inputs.
    Knn,
    /// Gaussian naive Bayes.
    Nb,
    /// Extra trees: 100 trees, random thresholds, √p features per split.
    Et,
}

impl Algorithm {
    /// All candidates, in default leaderboard order.
    pub const ALL: [Algorithm; 7] = [
        Algorithm::Lr,
        Algorithm::Tree,
        Algorithm::Forest,
        Algorithm::Gbm,
        Algorithm::Knn,
        Algorithm::Nb,
        Algorithm::Et,
    ];

    /// Short id (`lr`, `forest`…).
    pub fn id(self) -> &'static str {
        match self {
            Algorithm::Lr => "lr",
            Algorithm::Tree => "tree",
            Algorithm::Forest => "forest",
            Algorithm::Gbm => "gbm",
            Algorithm::Knn => "knn",
            Algorithm::Nb => "nb",
            Algorithm::Et => "et",
        }
    }

    /// Human name.
    pub fn title(self) -> &'static str {
        match self {
            Algorithm::Lr => "Logistic Regression",
            Algorithm::Tree => "Decision Tree",
            Algorithm::Forest => "Random Forest",
            Algorithm::Gbm => "Gradient Boosting",
            Algorithm::Knn => "K Neighbors",
            Algorithm::Nb => "Naive Bayes",
            Algorithm::Et => "Extra Trees",
        }
    }

    /// Parses an id.
    pub fn from_id(s: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.id() == s.trim())
    }
}

/// A fitted estimator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "algorithm", rename_all = "lowercase")]
pub enum Estimator {
    /// Logistic regression.
    Lr(Logistic),
    /// Decision tree.
    Tree(Forest),
    /// Random forest.
    Forest(Forest),
    /// Gradient boosting.
    Gbm(Boosting),
    /// k nearest neighbours.
    Knn(Neighbours),
    /// Gaussian naive Bayes.
    Nb(NaiveBayes),
    /// Extra trees.
    Et(Forest),
}

impl Estimator {
    /// Fits `algorithm` on rows of `x` with labels `y`.
    pub fn fit(algorithm: Algorithm, x: &Matrix, y: &[u8], seed: u64) -> Estimator {
        match algorithm {
            Algorithm::Lr => Estimator::Lr(Logistic::fit(x, y)),
            Algorithm::Tree => Estimator::Tree(Forest::fit(x, y, 1, false, false, seed)),
            Algorithm::Forest => Estimator::Forest(Forest::fit(x, y, 100, true, false, seed)),
            Algorithm::Et => Estimator::Et(Forest::fit(x, y, 100, false, true, seed)),
            Algorithm::Gbm => Estimator::Gbm(Boosting::fit(x, y)),
            Algorithm::Knn => Estimator::Knn(Neighbours::fit(x, y, 5)),
            Algorithm::Nb => Estimator::Nb(NaiveBayes::fit(x, y)),
        }
    }

    /// Which algorithm this is.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Estimator::Lr(_) => Algorithm::Lr,
            Estimator::Tree(_) => Algorithm::Tree,
            Estimator::Forest(_) => Algorithm::Forest,
            Estimator::Gbm(_) => Algorithm::Gbm,
            Estimator::Knn(_) => Algorithm::Knn,
            Estimator::Nb(_) => Algorithm::Nb,
            Estimator::Et(_) => Algorithm::Et,
        }
    }

    /// Probability of class 1 for one encoded row.
    pub fn predict_one(&self, row: &[f64]) -> f64 {
        match self {
            Estimator::Lr(m) => m.predict(row),
            Estimator::Tree(m) | Estimator::Forest(m) | Estimator::Et(m) => m.predict(row),
            Estimator::Gbm(m) => m.predict(row),
            Estimator::Knn(m) => m.predict(row),
            Estimator::Nb(m) => m.predict(row),
        }
    }

    /// Probabilities of class 1 for every row.
    pub fn predict(&self, x: &Matrix) -> Vec<f64> {
        (0..x.rows).map(|i| self.predict_one(x.row(i))).collect()
    }

    /// Probabilities of class 1 for rows stored row-major in `rows`
    /// (`cols` values each), appended to `out`. Equal bit for bit to
    /// [`Estimator::predict_one`] per row, but tree ensembles walk each tree
    /// for the whole block while its nodes are in cache, which is several
    /// times faster on large forests.
    pub fn predict_block(&self, rows: &[f64], cols: usize, out: &mut Vec<f64>) {
        let cols = cols.max(1);
        let n = rows.len() / cols;
        let sum_trees = |trees: &[Tree]| -> Vec<f64> {
            // Same additions in the same order as `Iterator::sum`, which
            // starts from -0.0.
            let mut acc = vec![-0.0; n];
            let lanes = n / LANES * LANES;
            for t in trees {
                for (a, group) in acc[..lanes]
                    .chunks_exact_mut(LANES)
                    .zip(rows.chunks_exact(cols * LANES))
                {
                    let group: [&[f64]; LANES] =
                        std::array::from_fn(|k| &group[k * cols..(k + 1) * cols]);
                    for (a, v) in a.iter_mut().zip(t.predict_lanes(group)) {
                        *a += v;
                    }
                }
                for (a, row) in acc[lanes..]
                    .iter_mut()
                    .zip(rows[lanes * cols..].chunks_exact(cols))
                {
                    *a += t.predict(row);
                }
            }
            acc
        };
        match self {
            Estimator::Tree(m) | Estimator::Forest(m) | Estimator::Et(m) => {
                let k = m.trees.len() as f64;
                out.extend(sum_trees(&m.trees).into_iter().map(|s| s / k));
            }
            Estimator::Gbm(m) => out.extend(
                sum_trees(&m.trees)
                    .into_iter()
                    .map(|s| sigmoid(m.init + m.learning_rate * s)),
            ),
            _ => out.extend(rows.chunks_exact(cols).map(|r| self.predict_one(r))),
        }
    }
}

/// Column means and standard deviations (population), 1 where constant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    /// Means.
    pub mean: Vec<f64>,
    /// Standard deviations.
    pub std: Vec<f64>,
}

impl Scaler {
    fn fit(x: &Matrix) -> Scaler {
        let n = x.rows.max(1) as f64;
        let mut mean = vec![0.0; x.cols];
        for i in 0..x.rows {
            for (m, v) in mean.iter_mut().zip(x.row(i)) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0; x.cols];
        for i in 0..x.rows {
            for ((s, v), m) in var.iter_mut().zip(x.row(i)).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        let std = var
            .into_iter()
            .map(|v| (v / n).sqrt())
            .map(|s| if s > 0.0 { s } else { 1.0 })
            .collect();
        Scaler { mean, std }
    }

    fn apply(&self, row: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.extend(
            row.iter()
                .zip(&self.mean)
                .zip(&self.std)
                .map(|((v, m), s)| (v - m) / s),
        );
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Logistic regression with L2 penalty (C = 1, intercept not penalised),
/// fitted by Newton's method on standardised inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    /// Input scaling.
    pub scaler: Scaler,
    /// Weights (standardised space).
    pub weights: Vec<f64>,
    /// Intercept.
    pub intercept: f64,
}

impl Logistic {
    fn fit(x: &Matrix, y: &[u8]) -> Logistic {
        let scaler = Scaler::fit(x);
        let p = x.cols;
        let mut z = Vec::with_capacity(x.rows * (p + 1));
        let mut buf = Vec::new();
        for i in 0..x.rows {
            scaler.apply(x.row(i), &mut buf);
            z.extend_from_slice(&buf);
            z.push(1.0);
        }
        let d = p + 1;
        let mut w = vec![0.0; d];
        let loss = |w: &[f64]| -> f64 {
            let mut l = 0.0;
            for i in 0..x.rows {
                let zi = &z[i * d..(i + 1) * d];
                let t: f64 = zi.iter().zip(w).map(|(a, b)| a * b).sum();
                // log(1 + e^t) - y t, computed stably.
                l += if t > 0.0 {
                    t + (-t).exp().ln_1p()
                } else {
                    t.exp().ln_1p()
                } - f64::from(y[i]) * t;
            }
            l + 0.5 * w[..p].iter().map(|v| v * v).sum::<f64>()
        };
        let mut current = loss(&w);
        for _ in 0..100 {
            let mut grad = vec![0.0; d];
            let mut hess = vec![0.0; d * d];
            for i in 0..x.rows {
                let zi = &z[i * d..(i + 1) * d];
                let t: f64 = zi.iter().zip(&w).map(|(a, b)| a * b).sum();
                let pr = sigmoid(t);
                let r = pr - f64::from(y[i]);
                let h = pr * (1.0 - pr);
                for a in 0..d {
                    grad[a] += r * zi[a];
                    let ha = h * zi[a];
                    for b in a..d {
                        hess[a * d + b] += ha * zi[b];
                    }
                }
            }
            for a in 0..p {
                grad[a] += w[a];
                hess[a * d + a] += 1.0;
            }
            for a in 0..d {
                for b in 0..a {
                    hess[a * d + b] = hess[b * d + a];
                }
            }
            let Some(step) = cholesky_solve(&mut hess, &grad, d) else {
                break;
            };
            let mut scale = 1.0;
            let mut improved = false;
            for _ in 0..30 {
                let trial: Vec<f64> = w.iter().zip(&step).map(|(a, s)| a - scale * s).collect();
                let l = loss(&trial);
                if l <= current {
                    let change = (current - l).abs();
                    w = trial;
                    current = l;
                    improved = change > 1e-10 * current.abs().max(1.0);
                    break;
                }
                scale *= 0.5;
            }
            if !improved {
                break;
            }
        }
        Logistic {
            scaler,
            intercept: w[p],
            weights: w[..p].to_vec(),
        }
    }

    fn predict(&self, row: &[f64]) -> f64 {
        let t: f64 = row
            .iter()
            .zip(&self.scaler.mean)
            .zip(&self.scaler.std)
            .zip(&self.weights)
            .map(|(((v, m), s), w)| (v - m) / s * w)
            .sum();
        sigmoid(t + self.intercept)
    }
}

/// Solves `A x = b` for symmetric positive definite `A` (overwritten).
fn cholesky_solve(a: &mut [f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    for j in 0..n {
        let mut s = a[j * n + j];
        for k in 0..j {
            s -= a[j * n + k] * a[j * n + k];
        }
        if s <= 0.0 || !s.is_finite() {
            return None;
        }
        let d = s.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * y[k];
        }
        y[i] = s / a[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in i + 1..n {
            s -= a[k * n + i] * x[k];
        }
        x[i] = s / a[i * n + i];
    }
    Some(x)
}

const MAX_BINS: usize = 64;

/// Features quantised to at most 64 bins, for histogram split search.
struct Binned {
    /// Column-major bin indices (one feature's bins are contiguous).
    bins: Vec<u8>,
    rows: usize,
    cols: usize,
    /// Per feature: split thresholds; bin b holds values in (t[b-1], t[b]].
    thresholds: Vec<Vec<f64>>,
}

impl Binned {
    fn of(x: &Matrix) -> Binned {
        let mut thresholds = Vec::with_capacity(x.cols);
        for j in 0..x.cols {
            let mut v = x.column(j);
            v.sort_by(f64::total_cmp);
            v.dedup();
            let t: Vec<f64> = if v.len() <= MAX_BINS {
                v.windows(2).map(|w| w[0] + (w[1] - w[0]) / 2.0).collect()
            } else {
                let mut t: Vec<f64> = (1..MAX_BINS)
                    .map(|k| {
                        let i = k * v.len() / MAX_BINS;
                        v[i - 1] + (v[i] - v[i - 1]) / 2.0
                    })
                    .collect();
                t.dedup();
                t
            };
            thresholds.push(t);
        }
        let mut bins = vec![0u8; x.rows * x.cols];
        for i in 0..x.rows {
            for (j, &v) in x.row(i).iter().enumerate() {
                bins[j * x.rows + i] = thresholds[j].partition_point(|&t| t < v) as u8;
            }
        }
        Binned {
            bins,
            rows: x.rows,
            cols: x.cols,
            thresholds,
        }
    }

    fn column(&self, f: usize) -> &[u8] {
        &self.bins[f * self.rows..(f + 1) * self.rows]
    }
}

/// A tree node. Leaves have `feature == u32::MAX`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Split feature (encoded column), or `u32::MAX` for a leaf.
    #[serde(rename = "f")]
    pub feature: u32,
    /// Go left when the value is `<=` this.
    #[serde(rename = "t")]
    pub threshold: f64,
    /// Left child.
    #[serde(rename = "l")]
    pub left: u32,
    /// Right child.
    #[serde(rename = "r")]
    pub right: u32,
    /// Leaf value: probability of class 1 (classification) or the Newton step (boosting).
    #[serde(rename = "v")]
    pub value: f64,
}

const LEAF: u32 = u32::MAX;

/// A fitted tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Nodes; the root is node 0.
    pub nodes: Vec<Node>,
}

/// Rows walked through a tree together by [`Tree::predict_lanes`].
const LANES: usize = 8;

impl Tree {
    /// Walks `LANES` rows through the tree at once, without branching on
    /// the data: the node loads of different rows overlap instead of each
    /// waiting for the previous comparison. Same results as [`Tree::predict`].
    fn predict_lanes(&self, rows: [&[f64]; LANES]) -> [f64; LANES] {
        let nodes = &self.nodes;
        let mut at = [0usize; LANES];
        loop {
            let mut moving = false;
            for (a, row) in at.iter_mut().zip(rows) {
                let n = &nodes[*a];
                let leaf = n.feature == LEAF;
                let f = if leaf { 0 } else { n.feature as usize };
                let next = if row[f] <= n.threshold {
                    n.left
                } else {
                    n.right
                } as usize;
                *a = if leaf { *a } else { next };
                moving |= !leaf;
            }
            if !moving {
                break;
            }
        }
        at.map(|a| nodes[a].value)
    }

    fn predict(&self, row: &[f64]) -> f64 {
        let mut i = 0usize;
        loop {
            let n = &self.nodes[i];
            if n.feature == LEAF {
                return n.value;
            }
            i = if row[n.feature as usize] <= n.threshold {
                n.left
            } else {
                n.right
            } as usize;
        }
    }
}

/// How a tree chooses and scores splits.
#[derive(Clone, Copy)]
struct TreeParams {
    max_depth: usize,
    /// Features tried per split (all when >= cols).
    max_features: usize,
    /// Extra trees: one random threshold per feature.
    random_thresholds: bool,
    /// Regression on gradients (boosting) instead of Gini classification.
    boosting: bool,
}

/// Per-row target for growing: classification uses (weight, weight·y);
/// boosting uses (residual, hessian).
struct Targets<'a> {
    a: &'a [f64],
    b: &'a [f64],
}

/// A node to grow: rows `idx[start..end]`, depth, and the parent slot to patch.
type Pending = (usize, usize, usize, Option<(usize, bool)>);

fn grow(
    binned: &Binned,
    mut idx: Vec<u32>,
    t: &Targets<'_>,
    params: TreeParams,
    rng: &mut Rng,
) -> Tree {
    let mut nodes: Vec<Node> = Vec::new();
    // Rows of a node are the range idx[start..end]; children are
    // partitioned in place. (start, end, depth, parent slot to patch)
    let mut stack: Vec<Pending> = vec![(0, idx.len(), 0, None)];
    let cols = binned.cols;
    let mut features: Vec<usize> = (0..cols).collect();
    let mut ha = [0.0f64; MAX_BINS];
    let mut hb = [0.0f64; MAX_BINS];
    let mut hn = [0u32; MAX_BINS];
    let mut ha2 = [0.0f64; MAX_BINS];
    let mut hb2 = [0.0f64; MAX_BINS];
    let mut hn2 = [0u32; MAX_BINS];
    // Parent score, for the gain.
    let score = |a: f64, b: f64| -> f64 {
        if params.boosting {
            // Variance reduction on residuals: S²/N (N = row count).
            if b > 0.0 {
                a * a / b
            } else {
                0.0
            }
        } else if a > 0.0 {
            // Weighted Gini impurity, negated: -(W - (P² + (W-P)²)/W).
            -(a - (b * b + (a - b) * (a - b)) / a)
        } else {
            0.0
        }
    };
    while let Some((start, end, depth, parent)) = stack.pop() {
        let rows = &idx[start..end];
        let (sa, sb): (f64, f64) = rows.iter().fold((0.0, 0.0), |acc, &r| {
            (acc.0 + t.a[r as usize], acc.1 + t.b[r as usize])
        });
        let id = nodes.len();
        let value = if params.boosting {
            if sb.abs() < 1e-12 {
                0.0
            } else {
                sa / sb
            }
        } else if sa > 0.0 {
            sb / sa
        } else {
            0.0
        };
        nodes.push(Node {
            feature: LEAF,
            threshold: 0.0,
            left: 0,
            right: 0,
            value,
        });
        if let Some((p, left)) = parent {
            if left {
                nodes[p].left = id as u32;
            } else {
                nodes[p].right = id as u32;
            }
        }
        let pure = !params.boosting && (sb <= 0.0 || sb >= sa);
        if depth >= params.max_depth || rows.len() < 2 || pure {
            continue;
        }
        let n = rows.len() as u32;
        let parent_score = if params.boosting {
            score(sa, f64::from(n))
        } else {
            score(sa, sb)
        };
        rng.shuffle(&mut features);
        let mut best: Option<(f64, usize, usize)> = None; // (gain, feature, bin)
        for (tried, &f) in features.iter().enumerate() {
            if tried >= params.max_features && best.is_some() {
                break;
            }
            let nb = binned.thresholds[f].len() + 1;
            if nb < 2 {
                continue;
            }
            let col = binned.column(f);
            // Two interleaved histograms break the store-to-load chain when
            // neighbouring rows fall in the same bin; summed afterwards.
            ha[..nb].fill(0.0);
            hb[..nb].fill(0.0);
            hn[..nb].fill(0);
            ha2[..nb].fill(0.0);
            hb2[..nb].fill(0.0);
            hn2[..nb].fill(0);
            let mut pairs = rows.chunks_exact(2);
            for pair in &mut pairs {
                let (r0, r1) = (pair[0] as usize, pair[1] as usize);
                let (b0, b1) = (col[r0] as usize, col[r1] as usize);
                ha[b0] += t.a[r0];
                hb[b0] += t.b[r0];
                hn[b0] += 1;
                ha2[b1] += t.a[r1];
                hb2[b1] += t.b[r1];
                hn2[b1] += 1;
            }
            for &r in pairs.remainder() {
                let b = col[r as usize] as usize;
                ha[b] += t.a[r as usize];
                hb[b] += t.b[r as usize];
                hn[b] += 1;
            }
            let (mut lo, mut hi) = (usize::MAX, 0usize);
            for k in 0..nb {
                ha[k] += ha2[k];
                hb[k] += hb2[k];
                hn[k] += hn2[k];
                if hn[k] > 0 {
                    lo = lo.min(k);
                    hi = k;
                }
            }
            if lo >= hi {
                continue; // constant in this node
            }
            // Extra trees try one random cut; the others every cut.
            let (first, last) = if params.random_thresholds {
                let c = lo + rng.below(hi - lo);
                (c, c)
            } else {
                (lo, hi - 1)
            };
            let (mut la, mut lb, mut ln) = (0.0, 0.0, 0u32);
            for k in lo..first {
                la += ha[k];
                lb += hb[k];
                ln += hn[k];
            }
            for cut in first..=last {
                la += ha[cut];
                lb += hb[cut];
                ln += hn[cut];
                let (ra, rb, rn) = (sa - la, sb - lb, n - ln);
                if ln == 0 || rn == 0 {
                    continue;
                }
                let gain = if params.boosting {
                    score(la, f64::from(ln)) + score(ra, f64::from(rn)) - parent_score
                } else {
                    score(la, lb) + score(ra, rb) - parent_score
                };
                if gain > 1e-12 && best.is_none_or(|(g, _, _)| gain > g) {
                    best = Some((gain, f, cut));
                }
            }
        }
        let Some((_, f, cut)) = best else { continue };
        nodes[id].feature = f as u32;
        nodes[id].threshold = binned.thresholds[f][cut];
        // Stable in-place partition: left rows first, order kept.
        let col = binned.column(f);
        let segment = &mut idx[start..end];
        let (mut left, mut right): (Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new());
        for &r in segment.iter() {
            if (col[r as usize] as usize) <= cut {
                left.push(r);
            } else {
                right.push(r);
            }
        }
        let mid = start + left.len();
        segment[..left.len()].copy_from_slice(&left);
        segment[left.len()..].copy_from_slice(&right);
        // Right is pushed first so the left subtree is numbered first.
        stack.push((mid, end, depth + 1, Some((id, false))));
        stack.push((start, mid, depth + 1, Some((id, true))));
    }
    Tree { nodes }
}

/// One or more classification trees whose leaf probabilities are averaged:
/// a decision tree (1 tree, all features, no bootstrap), a random forest
/// (bootstrap, √p features per split) or extra trees (random thresholds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forest {
    /// The trees.
    pub trees: Vec<Tree>,
}

impl Forest {
    fn fit(
        x: &Matrix,
        y: &[u8],
        n_trees: usize,
        bootstrap: bool,
        random_thresholds: bool,
        seed: u64,
    ) -> Forest {
        let binned = Binned::of(x);
        let sqrt = ((x.cols as f64).sqrt() as usize).max(1);
        let single = n_trees == 1;
        let params = TreeParams {
            max_depth: usize::MAX,
            max_features: if single { x.cols } else { sqrt },
            random_thresholds,
            boosting: false,
        };
        let yf: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
        let trees = (0..n_trees)
            .map(|k| {
                let mut rng = Rng::derive(seed, &[k as u64]);
                let mut w = vec![0.0; x.rows];
                if bootstrap {
                    for _ in 0..x.rows {
                        w[rng.below(x.rows)] += 1.0;
                    }
                } else {
                    w.fill(1.0);
                }
                let wy: Vec<f64> = w.iter().zip(&yf).map(|(a, b)| a * b).collect();
                let rows: Vec<u32> = (0..x.rows as u32)
                    .filter(|&r| w[r as usize] > 0.0)
                    .collect();
                grow(&binned, rows, &Targets { a: &w, b: &wy }, params, &mut rng)
            })
            .collect();
        Forest { trees }
    }

    fn predict(&self, row: &[f64]) -> f64 {
        self.trees.iter().map(|t| t.predict(row)).sum::<f64>() / self.trees.len() as f64
    }
}

/// Gradient boosting for log loss: 100 regression trees of depth 3 on the
/// residuals, Newton leaf values, learning rate 0.1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Boosting {
    /// Initial log-odds.
    pub init: f64,
    /// Learning rate.
    pub learning_rate: f64,
    /// The stages.
    pub trees: Vec<Tree>,
}

impl Boosting {
    fn fit(x: &Matrix, y: &[u8]) -> Boosting {
        let binned = Binned::of(x);
        let n = x.rows;
        let pos = y.iter().filter(|&&v| v == 1).count() as f64;
        let prior = (pos / n.max(1) as f64).clamp(1e-6, 1.0 - 1e-6);
        let init = (prior / (1.0 - prior)).ln();
        let learning_rate = 0.1;
        let mut f = vec![init; n];
        let mut trees = Vec::with_capacity(100);
        let params = TreeParams {
            max_depth: 3,
            max_features: x.cols,
            random_thresholds: false,
            boosting: true,
        };
        let rows: Vec<u32> = (0..n as u32).collect();
        let mut rng = Rng::new(0);
        for _ in 0..100 {
            let p: Vec<f64> = f.iter().map(|&v| sigmoid(v)).collect();
            let residual: Vec<f64> = p.iter().zip(y).map(|(p, &t)| f64::from(t) - p).collect();
            let hessian: Vec<f64> = p.iter().map(|p| (p * (1.0 - p)).max(1e-12)).collect();
            let tree = grow(
                &binned,
                rows.clone(),
                &Targets {
                    a: &residual,
                    b: &hessian,
                },
                params,
                &mut rng,
            );
            for (i, fi) in f.iter_mut().enumerate() {
                *fi += learning_rate * tree.predict(x.row(i));
            }
            trees.push(tree);
        }
        Boosting {
            init,
            learning_rate,
            trees,
        }
    }

    fn predict(&self, row: &[f64]) -> f64 {
        sigmoid(
            self.init + self.learning_rate * self.trees.iter().map(|t| t.predict(row)).sum::<f64>(),
        )
    }
}

/// k nearest neighbours (Euclidean on standardised inputs, uniform vote).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Neighbours {
    /// k.
    pub k: usize,
    /// Input scaling.
    pub scaler: Scaler,
    /// Standardised training rows, row-major.
    pub points: Vec<f64>,
    /// Their labels.
    pub labels: Vec<u8>,
}

impl Neighbours {
    fn fit(x: &Matrix, y: &[u8], k: usize) -> Neighbours {
        let scaler = Scaler::fit(x);
        let mut points = Vec::with_capacity(x.data.len());
        let mut buf = Vec::new();
        for i in 0..x.rows {
            scaler.apply(x.row(i), &mut buf);
            points.extend_from_slice(&buf);
        }
        Neighbours {
            k: k.min(x.rows).max(1),
            scaler,
            points,
            labels: y.to_vec(),
        }
    }

    fn predict(&self, row: &[f64]) -> f64 {
        let mut z = Vec::new();
        self.scaler.apply(row, &mut z);
        let d = z.len().max(1);
        // The k smallest distances; ties keep the earlier training row.
        let mut best: Vec<(f64, usize)> = Vec::with_capacity(self.k + 1);
        for (i, p) in self.points.chunks(d).enumerate() {
            let dist: f64 = p.iter().zip(&z).map(|(a, b)| (a - b) * (a - b)).sum();
            if best.len() < self.k || dist < best[best.len() - 1].0 {
                let pos = best.partition_point(|&(bd, _)| bd <= dist);
                best.insert(pos, (dist, i));
                best.truncate(self.k);
            }
        }
        best.iter()
            .map(|&(_, i)| f64::from(self.labels[i]))
            .sum::<f64>()
            / best.len().max(1) as f64
    }
}

/// Gaussian naive Bayes (variance smoothing 1e-9 × the largest variance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NaiveBayes {
    /// log P(class).
    pub log_prior: [f64; 2],
    /// Per class, per feature mean.
    pub mean: [Vec<f64>; 2],
    /// Per class, per feature variance.
    pub var: [Vec<f64>; 2],
}

impl NaiveBayes {
    fn fit(x: &Matrix, y: &[u8]) -> NaiveBayes {
        let p = x.cols;
        let mut count = [0.0f64; 2];
        let mut mean = [vec![0.0; p], vec![0.0; p]];
        for (i, &label) in y.iter().enumerate().take(x.rows) {
            let c = label as usize;
            count[c] += 1.0;
            for (m, v) in mean[c].iter_mut().zip(x.row(i)) {
                *m += v;
            }
        }
        for c in 0..2 {
            mean[c].iter_mut().for_each(|m| *m /= count[c].max(1.0));
        }
        let mut var = [vec![0.0; p], vec![0.0; p]];
        for (i, &label) in y.iter().enumerate().take(x.rows) {
            let c = label as usize;
            for ((s, v), m) in var[c].iter_mut().zip(x.row(i)).zip(&mean[c]) {
                *s += (v - m) * (v - m);
            }
        }
        for (v, n) in var.iter_mut().zip(count) {
            v.iter_mut().for_each(|s| *s /= n.max(1.0));
        }
        let all = Scaler::fit(x);
        let epsilon = 1e-9 * all.std.iter().map(|s| s * s).fold(0.0, f64::max);
        for v in &mut var {
            v.iter_mut().for_each(|s| *s += epsilon.max(1e-300));
        }
        let n = x.rows.max(1) as f64;
        let log_prior = [
            (count[0] / n).max(1e-300).ln(),
            (count[1] / n).max(1e-300).ln(),
        ];
        NaiveBayes {
            log_prior,
            mean,
            var,
        }
    }

    fn predict(&self, row: &[f64]) -> f64 {
        let ll = |c: usize| -> f64 {
            self.log_prior[c]
                + row
                    .iter()
                    .zip(&self.mean[c])
                    .zip(&self.var[c])
                    .map(|((v, m), s)| {
                        -0.5 * ((2.0 * std::f64::consts::PI * s).ln() + (v - m) * (v - m) / s)
                    })
                    .sum::<f64>()
        };
        let (a, b) = (ll(0), ll(1));
        sigmoid(b - a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Matrix, Vec<u8>) {
        // y = 1 when x0 + noise-free x1 > 1.
        let mut data = Vec::new();
        let mut y = Vec::new();
        let mut rng = Rng::new(7);
        for _ in 0..400 {
            let a = rng.unit() * 2.0;
            let b = rng.unit();
            data.extend([a, b, rng.unit()]);
            y.push(u8::from(a + b > 1.5));
        }
        (
            Matrix {
                data,
                rows: 400,
                cols: 3,
            },
            y,
        )
    }

    #[test]
    fn block_prediction_equals_row_prediction_bit_for_bit() {
        let (x, y) = toy();
        for alg in Algorithm::ALL {
            let m = Estimator::fit(alg, &x, &y, 5);
            // 397 rows: groups of LANES and a remainder.
            let mut block = Vec::new();
            m.predict_block(&x.data[..397 * x.cols], x.cols, &mut block);
            let rows: Vec<u64> = m.predict(&x)[..397].iter().map(|p| p.to_bits()).collect();
            let block: Vec<u64> = block.iter().map(|p| p.to_bits()).collect();
            assert_eq!(block, rows, "{alg:?}");
        }
    }

    #[test]
    fn every_algorithm_learns_a_separable_rule_and_is_deterministic() {
        let (x, y) = toy();
        for alg in Algorithm::ALL {
            let m = Estimator::fit(alg, &x, &y, 123);
            let p = m.predict(&x);
            let acc = p
                .iter()
                .zip(&y)
                .filter(|(p, &t)| (**p >= 0.5) == (t == 1))
                .count() as f64
                / y.len() as f64;
            assert!(acc > 0.85, "{alg:?} training accuracy {acc}");
            assert_eq!(
                Estimator::fit(alg, &x, &y, 123),
                m,
                "{alg:?} is deterministic"
            );
            // A saved model predicts exactly what it predicted before.
            let json = serde_json::to_string(&m).unwrap();
            let back: Estimator = serde_json::from_str(&json).unwrap();
            assert_eq!(back.predict(&x), p, "{alg:?} round trip");
        }
    }

    #[test]
    fn cholesky_solves() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let x = cholesky_solve(&mut a, &[2.0, 1.0], 2).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
    }
}
