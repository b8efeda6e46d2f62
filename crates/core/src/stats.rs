//! Small numeric routines that must agree bit for bit with the pandas/numpy
//! pipeline this product replaces: linear-interpolation quantiles,
//! `qcut`, compensated sums and Welford variance.

/// Quantile of sorted values with numpy's `linear` method, including its
/// two-sided interpolation (`b - (b - a)(1 - t)` when `t >= 0.5`).
/// `sorted` must be sorted ascending and not empty.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let virtual_index = (n as f64 - 1.0) * q;
    if virtual_index >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    if virtual_index <= 0.0 {
        return sorted[0];
    }
    let prev = virtual_index.floor();
    let t = virtual_index - prev;
    let a = sorted[prev as usize];
    let b = sorted[prev as usize + 1];
    lerp(a, b, t)
}

fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// Quantile of timestamps (ns) as pandas computes it on `datetime64[ns]`:
/// numpy's linear quantile in float64 on the int64 values, then truncated.
pub fn quantile_ns_sorted(sorted: &[i64], q: f64) -> i64 {
    let n = sorted.len();
    let virtual_index = (n as f64 - 1.0) * q;
    if virtual_index >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    if virtual_index <= 0.0 {
        return sorted[0];
    }
    let prev = virtual_index.floor();
    let t = virtual_index - prev;
    lerp_ns(sorted[prev as usize], sorted[prev as usize + 1], t)
}

/// numpy's `_lerp` on two timestamps, truncated to ns.
fn lerp_ns(a: i64, b: i64, t: f64) -> i64 {
    let d = (b - a) as f64;
    let v = if t >= 0.5 {
        b as f64 - d * (1.0 - t)
    } else {
        a as f64 + d * t
    };
    v as i64
}

/// [`quantile_ns_sorted`] of values in any order, by selection (linear
/// time where sorting is n log n); reorders `values`. `None` when empty.
pub fn quantile_ns(values: &mut [i64], q: f64) -> Option<i64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let virtual_index = (n as f64 - 1.0) * q;
    if virtual_index >= (n - 1) as f64 {
        return values.iter().copied().max();
    }
    if virtual_index <= 0.0 {
        return values.iter().copied().min();
    }
    let prev = virtual_index.floor() as usize;
    let (_, &mut a, rest) = values.select_nth_unstable(prev);
    // The next value in sorted order: the smallest of those after `prev`.
    let b = rest.iter().copied().min().unwrap_or(a);
    Some(lerp_ns(a, b, virtual_index - prev as f64))
}

/// The edges `pd.qcut(x, 5)` uses: quantiles at `linspace(0, 1, 6)`.
pub fn quintile_edges(sorted: &[f64]) -> [f64; 6] {
    // np.linspace(0, 1, 6), as numpy computes it (0.6000000000000001).
    let qs = [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0];
    qs.map(|q| quantile_sorted(sorted, q))
}

/// Bin (0..5) of `x` in right-closed intervals of `edges`, the lowest edge
/// included, as `pd.qcut` assigns them.
pub fn qcut_bin(edges: &[f64; 6], x: f64) -> usize {
    if x == edges[0] {
        return 0;
    }
    // searchsorted(edges, x, side="left") - 1
    let below = edges.iter().take_while(|e| **e < x).count();
    below.saturating_sub(1).min(4)
}

/// Whether all edges differ (pandas refuses duplicate edges).
pub fn edges_unique(edges: &[f64; 6]) -> bool {
    edges.windows(2).all(|w| w[0] < w[1])
}

/// Kahan–Babuska compensated sum, as pandas' grouped `sum` and `mean`.
#[derive(Debug, Clone, Copy, Default)]
pub struct KahanSum {
    sum: f64,
    comp: f64,
}

impl KahanSum {
    /// Adds a value.
    pub fn add(&mut self, x: f64) {
        // pandas' groupby: y = val - comp; t = sum + y; comp = t - sum - y; sum = t
        let y = x - self.comp;
        let t = self.sum + y;
        self.comp = t - self.sum - y;
        self.sum = t;
    }

    /// The sum so far.
    pub fn value(&self) -> f64 {
        self.sum
    }
}

/// Welford's running mean and variance, as pandas' grouped `std`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Welford {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Welford {
    /// Adds a value.
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        let old = self.mean;
        self.mean += (x - old) / self.n as f64;
        self.m2 += (x - old) * (x - self.mean);
    }

    /// Sample standard deviation; `None` for fewer than two values.
    pub fn sample_std(&self) -> Option<f64> {
        (self.n >= 2).then(|| (self.m2 / (self.n - 1) as f64).sqrt())
    }
}

/// Ranks 1..n by value, ties broken by position (`rank(method="first")`).
pub fn rank_first(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let mut ranks = vec![0.0; values.len()];
    for (r, i) in order.into_iter().enumerate() {
        ranks[i] = (r + 1) as f64;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_by_selection_equals_the_sorted_one() {
        let mut x: u64 = 7;
        for n in [1usize, 2, 3, 10, 101, 1000] {
            let mut v: Vec<i64> = (0..n)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (x >> 40) as i64 % 1000
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_unstable();
            for q in [0.0, 0.1, 0.5, 0.7, 0.99, 1.0] {
                assert_eq!(
                    quantile_ns(&mut v, q),
                    Some(quantile_ns_sorted(&sorted, q)),
                    "n {n} q {q}"
                );
            }
        }
        assert_eq!(quantile_ns(&mut [], 0.7), None);
    }

    #[test]
    fn quantile_matches_numpy() {
        // np.quantile([1, 2, 3, 4], 0.7) == 3.0999999999999996
        assert_eq!(
            quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.7),
            3.0999999999999996
        );
        assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.2), 1.6);
        assert_eq!(quantile_sorted(&[5.0], 0.5), 5.0);
    }

    #[test]
    fn qcut_assigns_like_pandas() {
        // pd.qcut([1..10], 5, labels=False) -> 0 0 1 1 2 2 3 3 4 4
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        let e = quintile_edges(&v);
        let bins: Vec<usize> = v.iter().map(|&x| qcut_bin(&e, x)).collect();
        assert_eq!(bins, vec![0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    }

    #[test]
    fn rank_first_breaks_ties_by_position() {
        assert_eq!(rank_first(&[3.0, 1.0, 3.0, 2.0]), vec![3.0, 1.0, 4.0, 2.0]);
    }

    #[test]
    fn welford_std() {
        let mut w = Welford::default();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            w.add(x);
        }
        assert!((w.sample_std().unwrap() - 2.138089935299395).abs() < 1e-12);
        let mut one = Welford::default();
        one.add(1.0);
        assert_eq!(one.sample_std(), None);
    }

    #[test]
    fn datetime_quantile_truncates() {
        assert_eq!(quantile_ns_sorted(&[0, 10], 0.7), 7);
        assert_eq!(quantile_ns_sorted(&[0, 3], 0.5), 1);
    }
}
