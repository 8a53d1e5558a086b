//! Shared numerics of the p0 estimators: the cleaned sample they work on (finite points,
//! deterministic subsample, sorted by x), smoothing, quantiles, integrals, level crossings and
//! small linear least-squares problems.

use nalgebra::{DMatrix, DVector};

/// Most points an estimator looks at: larger data are subsampled with a fixed stride, so that
/// estimation takes milliseconds however many points there are.
pub const MAX_ESTIMATE_POINTS: usize = 20_000;

/// An estimator's failure: the reason, in words (the caller adds the model's name).
pub(crate) type Reason = String;

/// The points an estimator sees: finite, at most [`MAX_ESTIMATE_POINTS`] (every `stride`-th
/// finite point), and with one predictor sorted by `x`.
#[derive(Clone, Debug)]
pub(crate) struct Samples {
    /// Predictor columns.
    pub x: Vec<Vec<f64>>,
    /// Observations.
    pub y: Vec<f64>,
}

impl Samples {
    /// Keeps the points whose predictors and observation are all finite, subsamples them
    /// deterministically and sorts them by `x` when there is one predictor.
    pub fn new(x: &[&[f64]], y: &[f64]) -> Samples {
        let finite = |i: usize| y[i].is_finite() && x.iter().all(|c| c[i].is_finite());
        let count = (0..y.len()).filter(|&i| finite(i)).count();
        let stride = count.div_ceil(MAX_ESTIMATE_POINTS).max(1);
        let keep: Vec<usize> = (0..y.len())
            .filter(|&i| finite(i))
            .step_by(stride)
            .collect();
        let mut order = keep;
        if x.len() == 1 {
            order.sort_by(|&a, &b| x[0][a].total_cmp(&x[0][b]));
        }
        Samples {
            x: x.iter()
                .map(|c| order.iter().map(|&i| c[i]).collect())
                .collect(),
            y: order.iter().map(|&i| y[i]).collect(),
        }
    }

    /// The same points with other observations.
    pub fn with_y(&self, y: Vec<f64>) -> Samples {
        Samples {
            x: self.x.clone(),
            y,
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// The first predictor (sorted for 1-D samples).
    pub fn x0(&self) -> &[f64] {
        &self.x[0]
    }

    /// `max x - min x` of the first predictor (0 when empty).
    pub fn span(&self) -> f64 {
        let (lo, hi) = min_max(self.x0());
        if lo <= hi { hi - lo } else { 0.0 }
    }

    /// Fails unless there are at least `min` points, `x` spans an interval and `y` varies.
    pub fn require(&self, min: usize) -> Result<(), Reason> {
        if self.len() < min {
            return Err(format!(
                "{} usable (finite) points, at least {min} needed",
                self.len()
            ));
        }
        if self.x.iter().any(|c| {
            let (lo, hi) = min_max(c);
            hi - lo <= 0.0 || !(hi - lo).is_finite()
        }) {
            return Err("the predictor is constant (or its range overflows)".into());
        }
        let (lo, hi) = min_max(&self.y);
        if hi - lo <= 0.0 {
            return Err(format!("y is constant ({lo})"));
        }
        if !(hi - lo).is_finite() {
            return Err("the range of y overflows f64".into());
        }
        Ok(())
    }
}

/// Minimum and maximum (`(inf, -inf)` when empty).
pub(crate) fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &a| {
            (lo.min(a), hi.max(a))
        })
}

/// The `q`-quantile (`0 ≤ q ≤ 1`, nearest rank) of `v`; 0 when empty.
pub(crate) fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut w = v.to_vec();
    let k = ((w.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    let (_, m, _) = w.select_nth_unstable_by(k, f64::total_cmp);
    *m
}

/// The median of `v`; 0 when empty.
pub(crate) fn median(v: &[f64]) -> f64 {
    quantile(v, 0.5)
}

/// A robust scale of `v`: 1.4826 × the median absolute deviation.
pub(crate) fn mad_sigma(v: &[f64]) -> f64 {
    let m = median(v);
    let d: Vec<f64> = v.iter().map(|a| (a - m).abs()).collect();
    1.4826 * median(&d)
}

/// A running median of 3 followed by a running mean over `2 half + 1` points (shorter at
/// the ends): removes single spikes, then averages the noise down.
pub(crate) fn smooth(y: &[f64], half: usize) -> Vec<f64> {
    let n = y.len();
    let med: Vec<f64> = (0..n)
        .map(|i| {
            if i == 0 || i + 1 == n {
                return y[i];
            }
            let (a, b, c) = (y[i - 1], y[i], y[i + 1]);
            a.max(b).min(a.min(b).max(c))
        })
        .collect();
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    for v in &med {
        prefix.push(prefix[prefix.len() - 1] + v);
    }
    (0..n)
        .map(|i| {
            let (lo, hi) = (i.saturating_sub(half), (i + half + 1).min(n));
            (prefix[hi] - prefix[lo]) / (hi - lo) as f64
        })
        .collect()
}

/// The smoothing half-width for `n` points: about 1 % of them, at most 10.
pub(crate) fn smoothing_half(n: usize) -> usize {
    (n / 100).clamp(1, 10)
}

/// The cumulative trapezoidal integral of `y` over sorted `x`, 0 at the first point.
pub(crate) fn cumtrapz(x: &[f64], y: &[f64]) -> Vec<f64> {
    let mut s = Vec::with_capacity(y.len());
    let mut acc = 0.0;
    for i in 0..y.len() {
        if i > 0 {
            acc += 0.5 * (y[i] + y[i - 1]) * (x[i] - x[i - 1]);
        }
        s.push(acc);
    }
    s
}

/// Where a rising curve `f` over sorted `x` crosses the level `q`: `min x` plus the length of
/// x over which `f < q`. Noise that crosses the level back and forth cancels out, unlike a
/// search for the first crossing.
pub(crate) fn level_position(x: &[f64], f: &[f64], q: f64) -> f64 {
    let below: f64 = x
        .windows(2)
        .zip(f.windows(2))
        .map(|(xw, fw)| {
            let (f0, f1) = (fw[0], fw[1]);
            let frac = match (f0 < q, f1 < q) {
                (true, true) => 1.0,
                (false, false) => 0.0,
                // Linear in between: below q on the left part, or on the right part.
                (true, false) => (q - f0) / (f1 - f0),
                (false, true) => (q - f1) / (f0 - f1),
            };
            frac * (xw[1] - xw[0])
        })
        .sum();
    x.first().copied().unwrap_or(0.0) + below
}

/// Least squares `min |A c - b|` by SVD of the column-equilibrated matrix; `None` when an
/// entry or a coefficient is not finite or the SVD does not converge.
pub(crate) fn lstsq(a: DMatrix<f64>, b: &[f64]) -> Option<Vec<f64>> {
    let mut a = a;
    let scale: Vec<f64> = a
        .column_iter()
        .map(|c| {
            let n = c.norm();
            if n > 0.0 && n.is_finite() { n } else { 1.0 }
        })
        .collect();
    for (j, s) in scale.iter().enumerate() {
        a.column_mut(j).scale_mut(1.0 / s);
    }
    // Non-finite entries would keep the SVD iterating; the iteration count is bounded too.
    if a.iter().chain(b).any(|v| !v.is_finite()) || a.nrows() == 0 || a.ncols() == 0 {
        return None;
    }
    let b = DVector::from_column_slice(b);
    let svd = a.try_svd(true, true, f64::EPSILON, 10_000)?;
    let tol = 1e-12 * svd.singular_values.max();
    let c = svd.solve(&b, tol).ok()?;
    let c: Vec<f64> = c.iter().zip(&scale).map(|(c, s)| c / s).collect();
    c.iter().all(|v| v.is_finite()).then_some(c)
}

/// Least squares with the columns given as functions of the point index.
pub(crate) fn lstsq_cols(n: usize, cols: &[&dyn Fn(usize) -> f64], b: &[f64]) -> Option<Vec<f64>> {
    let a = DMatrix::from_fn(n, cols.len(), |i, j| cols[j](i));
    lstsq(a, b)
}

/// Weighted straight line `v ≈ c0 + c1 u`: `(c0, c1)`, `None` when degenerate.
pub(crate) fn weighted_line(u: &[f64], v: &[f64], w: &[f64]) -> Option<(f64, f64)> {
    let sw: f64 = w.iter().sum();
    if sw <= 0.0 || !sw.is_finite() {
        return None;
    }
    let mu = u.iter().zip(w).map(|(a, w)| a * w).sum::<f64>() / sw;
    let mv = v.iter().zip(w).map(|(a, w)| a * w).sum::<f64>() / sw;
    let (mut suu, mut suv) = (0.0, 0.0);
    for ((a, b), w) in u.iter().zip(v).zip(w) {
        suu += w * (a - mu) * (a - mu);
        suv += w * (a - mu) * (b - mv);
    }
    if suu <= 0.0 {
        return None;
    }
    let c1 = suv / suu;
    let c0 = mv - c1 * mu;
    (c0.is_finite() && c1.is_finite()).then_some((c0, c1))
}

/// Fails unless every value of `p` is finite.
pub(crate) fn finite(p: Vec<f64>) -> Result<Vec<f64>, Reason> {
    if p.iter().all(|v| v.is_finite()) {
        Ok(p)
    } else {
        Err(format!(
            "the estimate is not finite ({p:?}): the data are out of the model's documented range"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_position_of_a_ramp() {
        let x: Vec<f64> = (0..=100).map(|i| i as f64 / 100.0).collect();
        assert!((level_position(&x, &x, 0.3) - 0.3).abs() < 1e-12);
        let desc: Vec<f64> = x.iter().map(|v| -v).collect();
        // A falling curve is below the level from its crossing to the end.
        assert!((level_position(&x, &desc, -0.3) - 0.7).abs() < 1e-12);
    }

    #[test]
    fn samples_sort_filter_and_subsample() {
        let x = [3.0, f64::NAN, 1.0, 2.0];
        let y = [30.0, 1.0, 10.0, f64::INFINITY];
        let s = Samples::new(&[&x], &y);
        assert_eq!(
            (s.x[0].clone(), s.y.clone()),
            (vec![1.0, 3.0], vec![10.0, 30.0])
        );
        let big: Vec<f64> = (0..100_000).map(f64::from).collect();
        let s = Samples::new(&[&big], &big);
        assert!(s.len() <= MAX_ESTIMATE_POINTS && s.len() >= MAX_ESTIMATE_POINTS / 2);
    }

    #[test]
    fn smoothing_removes_a_spike() {
        let mut y = vec![1.0; 9];
        y[4] = 100.0;
        assert!(smooth(&y, 1).iter().all(|v| (v - 1.0).abs() < 1e-12));
    }
}
