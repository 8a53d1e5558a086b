//! Peaks on a zero baseline (a composite's background parts are subtracted before a peak is
//! estimated): `gaussian`, `lorentzian`, `pseudo_voigt`.
//!
//! Estimation: the extreme of the smoothed data (running median of 3, then a running mean
//! over about 1 % of the points) outside the regions already taken by other peaks; its height
//! from the lightly smoothed data; the half-maximum crossings walked outward from it (one side
//! is enough when the other leaves the data), corrected for the smoothing; the centre as the
//! height-weighted centroid of the points above half maximum.

use super::estimate::{Reason, Samples, lstsq_cols, smooth, smoothing_half};

/// `sqrt(2 ln 2)`: the half width at half maximum of a Gaussian over its sigma.
const HWHM_PER_SIGMA: f64 = 1.177_410_022_515_474_6;

/// A located peak: height (signed), centre and half width at half maximum.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peak {
    pub height: f64,
    pub centre: f64,
    pub hwhm: f64,
}

/// Locates the largest feature (by absolute smoothed value) whose position is outside every
/// `exclude` interval.
pub(crate) fn locate(s: &Samples, exclude: &[(f64, f64)]) -> Result<Peak, Reason> {
    s.require(5)?;
    let (x, y) = (s.x0(), &s.y);
    let half = smoothing_half(y.len());
    let ys = smooth(y, half);
    let light = smooth(y, 0);
    let free = |i: &usize| !exclude.iter().any(|&(lo, hi)| x[*i] >= lo && x[*i] <= hi);
    let i = (0..y.len())
        .filter(free)
        .max_by(|&a, &b| ys[a].abs().total_cmp(&ys[b].abs()))
        .ok_or("every point lies within a peak found before")?;
    let sign = if ys[i] < 0.0 { -1.0 } else { 1.0 };
    let (lo, hi) = (i.saturating_sub(half), (i + half + 1).min(y.len()));
    let height = sign * (lo..hi).map(|j| sign * light[j]).fold(f64::MIN, f64::max);
    if height == 0.0 {
        return Err("no peak: the data are zero".into());
    }
    let level = 0.5 * height.abs();
    let left = crossing(x, &ys, sign, level, i, -1);
    let right = crossing(x, &ys, sign, level, i, 1);
    let raw = match (left, right) {
        (Some(l), Some(r)) => 0.5 * (r - l),
        (Some(l), None) => x[i] - l,
        (None, Some(r)) => r - x[i],
        (None, None) => 0.5 * s.span(),
    };
    let spacing = (x[hi - 1] - x[lo]) / (hi - lo).saturating_sub(1).max(1) as f64;
    let box_var = spacing * spacing * (((2 * half + 1).pow(2) - 1) as f64) / 12.0;
    let hwhm = (raw * raw - 2.0 * std::f64::consts::LN_2 * box_var)
        .max(0.25 * raw * raw)
        .sqrt()
        .max(f64::MIN_POSITIVE);
    let (a, b) = (left.unwrap_or(x[i] - raw), right.unwrap_or(x[i] + raw));
    Ok(Peak {
        height,
        centre: centroid(x, y, sign, level, (a, b)).unwrap_or(x[i]),
        hwhm,
    })
}

/// The x where `sign * ys` falls below `level`, walking from `i` in direction `dir`
/// (interpolated linearly), or `None` when it never does.
fn crossing(x: &[f64], ys: &[f64], sign: f64, level: f64, i: usize, dir: isize) -> Option<f64> {
    let mut j = i;
    loop {
        let k = j.checked_add_signed(dir).filter(|&k| k < ys.len())?;
        let (a, b) = (sign * ys[j], sign * ys[k]);
        if b < level {
            let t = if a > b { (a - level) / (a - b) } else { 0.0 };
            return Some(x[j] + t.clamp(0.0, 1.0) * (x[k] - x[j]));
        }
        j = k;
    }
}

/// The centroid of the points in `(a, b)` above `level`, weighted by their height.
fn centroid(x: &[f64], y: &[f64], sign: f64, level: f64, (a, b): (f64, f64)) -> Option<f64> {
    let (mut sw, mut swx) = (0.0, 0.0);
    for (&xi, &yi) in x.iter().zip(y) {
        if xi >= a && xi <= b && sign * yi > level {
            sw += sign * yi - level;
            swx += (sign * yi - level) * xi;
        }
    }
    let c = swx / sw;
    (sw > 0.0 && c.is_finite()).then_some(c)
}

/// `gaussian` (amp, mu, sigma).
pub(crate) fn gaussian(s: &Samples, exclude: &[(f64, f64)]) -> Result<Vec<f64>, Reason> {
    let p = locate(s, exclude)?;
    Ok(vec![p.height, p.centre, p.hwhm / HWHM_PER_SIGMA])
}

/// `lorentzian` (amp, mu, gamma).
pub(crate) fn lorentzian(s: &Samples, exclude: &[(f64, f64)]) -> Result<Vec<f64>, Reason> {
    let p = locate(s, exclude)?;
    Ok(vec![p.height, p.centre, p.hwhm])
}

/// `pseudo_voigt` (amp, mu, sigma, eta): the peak as above, then the Lorentzian fraction
/// `eta` by linear least squares with the other three held, clamped to `[0, 1]`.
pub(crate) fn pseudo_voigt(s: &Samples, exclude: &[(f64, f64)]) -> Result<Vec<f64>, Reason> {
    let p = locate(s, exclude)?;
    let (x, y) = (s.x0(), &s.y);
    let u = |i: usize| ((x[i] - p.centre) / p.hwhm).powi(2);
    let gauss = |i: usize| (-std::f64::consts::LN_2 * u(i)).exp();
    let lor = |i: usize| 1.0 / (1.0 + u(i));
    // Only the points near the peak inform eta (far away both shapes vanish but noise stays).
    let near: Vec<usize> = (0..y.len()).filter(|&i| u(i) < 25.0).collect();
    let col = |k: usize| p.height * (lor(near[k]) - gauss(near[k]));
    let rhs: Vec<f64> = near.iter().map(|&i| y[i] - p.height * gauss(i)).collect();
    let eta = if near.len() < 2 {
        0.5
    } else {
        lstsq_cols(near.len(), &[&col], &rhs).map_or(0.5, |c| c[0].clamp(0.0, 1.0))
    };
    Ok(vec![p.height, p.centre, p.hwhm, eta])
}
