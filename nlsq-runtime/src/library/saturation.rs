//! Saturating curves of x ≥ 0: `michaelis_menten` (vmax, km) and `hill` (vmax, k, n).
//!
//! Michaelis–Menten: the model multiplied out, `x·y = vmax·x − km·y`, is linear in
//! `(vmax, km)`; solved by least squares, then once more with the rows weighted by
//! `1 / (km + x)` (the equation's error is the noise times `km + x`).
//!
//! Hill: for a trial `vmax`, `logit(y / vmax) = n ln x − n ln k` is a straight line (fitted
//! over the points between 5 % and 95 % of `vmax`, weighted by `(p (1 − p))²`, the inverse
//! variance of the logit); trial values from 1.02 to 4 times the largest smoothed `y` are
//! scanned and the one whose curve (with its least-squares `vmax`) leaves the smallest sum
//! of squares is kept.

use super::estimate::{
    Reason, Samples, finite, lstsq_cols, median, smooth, smoothing_half, weighted_line,
};

/// Fails when some x is negative.
fn nonnegative(s: &Samples, model: &str) -> Result<(), Reason> {
    match s.x0().first() {
        Some(&x0) if x0 < 0.0 => Err(format!("{model} needs x ≥ 0; the data have x = {x0}")),
        _ => Ok(()),
    }
}

/// `michaelis_menten` (vmax, km): `vmax * x / (km + x)`.
pub(crate) fn michaelis_menten(s: &Samples) -> Result<Vec<f64>, Reason> {
    s.require(3)?;
    nonnegative(s, "michaelis_menten")?;
    let (x, y) = (s.x0(), &s.y);
    let solve = |km: f64| {
        let w = |i: usize| if km > 0.0 { 1.0 / (km + x[i]) } else { 1.0 };
        let rhs: Vec<f64> = (0..y.len()).map(|i| w(i) * x[i] * y[i]).collect();
        lstsq_cols(y.len(), &[&|i| w(i) * x[i], &|i| -w(i) * y[i]], &rhs)
    };
    let first = solve(0.0).ok_or("the linearised regression is singular")?;
    let c = solve(first[1]).unwrap_or(first);
    let (vmax, km) = (c[0], c[1]);
    if km > 0.0 && km.is_finite() && vmax.is_finite() {
        return Ok(vec![vmax, km]);
    }
    // No saturation visible: half of the largest smoothed y, and the x where it is reached.
    let ys = smooth(y, smoothing_half(y.len()));
    let top = ys
        .iter()
        .fold(0.0f64, |a, &b| if b.abs() > a.abs() { b } else { a });
    let half = x.iter().zip(&ys).find(|(_, v)| v.abs() >= 0.5 * top.abs());
    finite(vec![
        top,
        half.map_or(0.5 * s.span(), |(&x, _)| x.max(s.span() / 100.0)),
    ])
}

/// The fraction `x^n / (k^n + x^n)`, computed without overflow.
fn hill_fraction(x: f64, k: f64, n: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else {
        1.0 / (1.0 + (k / x).powf(n))
    }
}

/// `(k, n)` of the logit-log line for a trial `vmax` (`None` with fewer than 3 usable points).
fn logit_line(x: &[f64], ys: &[f64], vmax: f64) -> Option<(f64, f64)> {
    let (mut u, mut v, mut w) = (Vec::new(), Vec::new(), Vec::new());
    for (&xi, &yi) in x.iter().zip(ys) {
        let p = yi / vmax;
        if xi > 0.0 && p > 0.05 && p < 0.95 {
            u.push(xi.ln());
            v.push((p / (1.0 - p)).ln());
            w.push((p * (1.0 - p)).powi(2));
        }
    }
    if u.len() < 3 {
        return None;
    }
    let (c0, n) = weighted_line(&u, &v, &w)?;
    let k = (-c0 / n).exp();
    (n > 0.0 && k.is_finite() && k > 0.0).then_some((k, n))
}

/// `hill` (vmax, k, n): `vmax * x^n / (k^n + x^n)`.
pub(crate) fn hill(s: &Samples) -> Result<Vec<f64>, Reason> {
    s.require(4)?;
    nonnegative(s, "hill")?;
    let (x, y) = (s.x0(), &s.y);
    let sign = if median(y) < 0.0 { -1.0 } else { 1.0 };
    let ys: Vec<f64> = smooth(y, smoothing_half(y.len()))
        .iter()
        .map(|v| sign * v)
        .collect();
    let top = ys.iter().fold(f64::MIN, |a, &b| a.max(b));
    let mut best: Option<(f64, [f64; 3])> = None;
    for factor in [1.02, 1.05, 1.1, 1.2, 1.35, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0] {
        let Some((k, n)) = logit_line(x, &ys, factor * top) else {
            continue;
        };
        let g: Vec<f64> = x.iter().map(|&xi| hill_fraction(xi, k, n)).collect();
        let gg: f64 = g.iter().map(|v| v * v).sum();
        let vmax = g.iter().zip(y).map(|(a, b)| a * b).sum::<f64>() / gg;
        let sse: f64 = g.iter().zip(y).map(|(a, b)| (b - vmax * a).powi(2)).sum();
        if vmax.is_finite() && best.is_none_or(|(e, _)| sse < e) {
            best = Some((sse, [vmax, k, n]));
        }
    }
    let (_, p) = best.ok_or("no trial vmax leaves 3 points between 5 % and 95 % of it: the curve does not rise from 0 towards a plateau")?;
    finite(p.to_vec())
}
