//! `gaussian2d` (amp, x0, y0, sigma_x, sigma_y, offset) on two predictors `x[0]`, `x[1]`:
//! `amp · exp(-(x[0] - x0)²/(2 sigma_x²) - (x[1] - y0)²/(2 sigma_y²)) + offset`.
//!
//! Estimation: the offset as the median of y (the peak covers less than half of the
//! points); the sign of the peak from the larger excursion; the centre as the centroid of
//! the points above half of the largest excursion, weighted by their height; the widths from
//! the weighted second moments of those points (for uniformly spread points, the moment per
//! axis of a Gaussian cut at half maximum is 0.30685 σ², see `CUT_MOMENT`);
//! then amplitude and offset by linear least squares with the shape held.

use super::estimate::{Reason, Samples, finite, lstsq_cols, median, min_max};

/// `E[u]` for weights `e^{-u}` on `0 ≤ u ≤ ln 2` (`u = r²/2`, the region above half
/// maximum): `(1 − (1 + ln 2)/2) / (1/2)`, the weighted second moment per axis over `σ²`.
const CUT_MOMENT: f64 = 0.306_852_819_440_054_7;

/// `gaussian2d` (amp, x0, y0, sigma_x, sigma_y, offset).
pub(crate) fn gaussian2d(s: &Samples) -> Result<Vec<f64>, Reason> {
    s.require(7)?;
    let (u, v, y) = (&s.x[0], &s.x[1], &s.y);
    let off = median(y);
    let (lo, hi) = min_max(y);
    let sign = if hi - off >= off - lo { 1.0 } else { -1.0 };
    let r: Vec<f64> = y.iter().map(|a| sign * (a - off)).collect();
    let level = 0.5 * r.iter().fold(0.0f64, |a, &b| a.max(b));
    let (mut sw, mut su, mut sv) = (0.0, 0.0, 0.0);
    for i in 0..r.len() {
        if r[i] > level {
            sw += r[i];
            su += r[i] * u[i];
            sv += r[i] * v[i];
        }
    }
    let (cu, cv) = (su / sw, sv / sw);
    let (mut muu, mut mvv) = (0.0, 0.0);
    for i in 0..r.len() {
        if r[i] > level {
            muu += r[i] * (u[i] - cu).powi(2);
            mvv += r[i] * (v[i] - cv).powi(2);
        }
    }
    // A single point above half maximum has no spread: fall back to the smallest spacing
    // that could hide the peak, a fraction of the range.
    let floor = |c: &[f64]| {
        let (a, b) = min_max(c);
        (b - a) / (c.len() as f64).sqrt()
    };
    let su = (muu / sw / CUT_MOMENT).sqrt().max(0.25 * floor(u));
    let sv = (mvv / sw / CUT_MOMENT).sqrt().max(0.25 * floor(v));
    let shape =
        |i: usize| (-0.5 * ((u[i] - cu) / su).powi(2) - 0.5 * ((v[i] - cv) / sv).powi(2)).exp();
    let c = lstsq_cols(y.len(), &[&shape, &|_| 1.0], y)
        .ok_or("the amplitude regression is singular")?;
    finite(vec![c[0], cu, cv, su, sv, c[1]])
}
