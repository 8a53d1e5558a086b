//! Exponentials and the power law: `exp_decay`, `exp_growth`, `exp_decay2`, `power_law`.
//!
//! Exponentials are estimated without iterating by the integral equation (J. Jacquelin,
//! "Régressions et équations intégrales", 2009): `y = a e^{r x} + c` satisfies
//! `y = y0 + r ∫(y - c)`, a linear regression of `y` on `1, x, ∫y` whose coefficient of `∫y`
//! is the rate `r`; then `a` and `c` by linear least squares. Two exponentials satisfy a
//! second-order equation; integrated twice, `y` is linear in `1, x, x², ∫y, ∫∫y` with the two
//! rates the roots of a quadratic.

use super::estimate::{Reason, Samples, cumtrapz, finite, lstsq_cols, weighted_line};

/// The rate `r` of `y ≈ a e^{r x} + c` by the integral equation, on `t = x - x[0]`.
fn rate(t: &[f64], y: &[f64]) -> Option<f64> {
    let s = cumtrapz(t, y);
    let c = lstsq_cols(y.len(), &[&|_| 1.0, &|i| t[i], &|i| s[i]], y)?;
    c[2].is_finite().then_some(c[2])
}

/// `(a', c)` of `y ≈ a' e^{r t} + c` by linear least squares.
fn amplitude(t: &[f64], y: &[f64], r: f64) -> Option<(f64, f64)> {
    let c = lstsq_cols(y.len(), &[&|i| (r * t[i]).exp(), &|_| 1.0], y)?;
    Some((c[0], c[1]))
}

/// `(amp, r, offset)` of `amp e^{r x} + offset`, the rate's sign given (`-1` decay, `1`
/// growth): a rate of the wrong sign or without curvature becomes `±1/span`.
fn single(s: &Samples, sign: f64) -> Result<(f64, f64, f64), Reason> {
    s.require(4)?;
    let (x, y) = (s.x0(), &s.y);
    let x0 = x[0];
    let t: Vec<f64> = x.iter().map(|v| v - x0).collect();
    let span = s.span();
    let r = match rate(&t, y) {
        Some(r) if r * sign * span > 1e-3 => r,
        _ => sign / span,
    };
    let (a, c) = amplitude(&t, y, r).ok_or("the amplitude regression is singular")?;
    Ok((a * (-r * x0).exp(), r, c))
}

/// `exp_decay` (amp, tau, offset).
pub(crate) fn exp_decay(s: &Samples) -> Result<Vec<f64>, Reason> {
    let (a, r, c) = single(s, -1.0)?;
    finite(vec![a, -1.0 / r, c])
}

/// `exp_growth` (amp, tau, offset).
pub(crate) fn exp_growth(s: &Samples) -> Result<Vec<f64>, Reason> {
    let (a, r, c) = single(s, 1.0)?;
    finite(vec![a, 1.0 / r, c])
}

/// The decay constants `k1 ≥ k2 > 0` of two exponentials by the double integral equation.
fn two_rates(t: &[f64], y: &[f64], span: f64) -> Option<(f64, f64)> {
    let s1 = cumtrapz(t, y);
    let s2 = cumtrapz(t, &s1);
    let cols: [&dyn Fn(usize) -> f64; 5] =
        [&|_| 1.0, &|i| t[i], &|i| t[i] * t[i], &|i| s1[i], &|i| {
            s2[i]
        }];
    let c = lstsq_cols(y.len(), &cols, y)?;
    // k1 + k2 = -c3, k1 k2 = -c4: roots of z² + c3 z - c4.
    let (sum, prod) = (-c[3], -c[4]);
    let disc = sum * sum - 4.0 * prod;
    let (k1, k2) = if disc > 0.0 {
        let q = 0.5 * (sum + sum.signum() * disc.sqrt());
        (q, prod / q)
    } else {
        (sum, 0.25 * sum)
    };
    let (k1, k2) = (k1.max(k2), k1.min(k2));
    (k2 * span > 1e-3 && k1.is_finite()).then_some((k1, k2))
}

/// `exp_decay2` (amp1, tau1, amp2, tau2, offset), the fast component first (`tau1 < tau2`).
pub(crate) fn exp_decay2(s: &Samples) -> Result<Vec<f64>, Reason> {
    s.require(6)?;
    let (x, y) = (s.x0(), &s.y);
    let x0 = x[0];
    let t: Vec<f64> = x.iter().map(|v| v - x0).collect();
    let (k1, k2) = match two_rates(&t, y, s.span()) {
        Some(k) => k,
        None => {
            let (_, r, _) = single(s, -1.0)?;
            (-3.0 * r, -r / 3.0)
        }
    };
    let cols: [&dyn Fn(usize) -> f64; 3] =
        [&|i| (-k1 * t[i]).exp(), &|i| (-k2 * t[i]).exp(), &|_| 1.0];
    let c = lstsq_cols(y.len(), &cols, y).ok_or("the amplitude regression is singular")?;
    finite(vec![
        c[0] * (k1 * x0).exp(),
        1.0 / k1,
        c[1] * (k2 * x0).exp(),
        1.0 / k2,
        c[2],
    ])
}

/// `power_law` (amp, exponent): needs `x > 0`; a regression of `ln|y|` on `ln x` over the
/// points with the sign of the largest values of `y`, weighted by `y²` (the variance of `ln|y|` under
/// additive noise is `σ²/y²`).
pub(crate) fn power_law(s: &Samples) -> Result<Vec<f64>, Reason> {
    s.require(3)?;
    let (x, y) = (s.x0(), &s.y);
    if x[0] <= 0.0 {
        return Err(format!(
            "a power law needs x > 0; the data have x = {}",
            x[0]
        ));
    }
    // The sign of the large values: noise dominates a plain sum when the curve is steep.
    let ymax = y.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    let sign = if y.iter().map(|v| v * (v / ymax).abs()).sum::<f64>() < 0.0 {
        -1.0
    } else {
        1.0
    };
    let keep: Vec<usize> = (0..y.len()).filter(|&i| sign * y[i] > 0.0).collect();
    if keep.len() < 2 {
        return Err("fewer than 2 points with y of one sign".into());
    }
    let u: Vec<f64> = keep.iter().map(|&i| x[i].ln()).collect();
    let v: Vec<f64> = keep.iter().map(|&i| (sign * y[i]).ln()).collect();
    let w: Vec<f64> = keep.iter().map(|&i| (y[i] / ymax).powi(2)).collect();
    let (c0, c1) = weighted_line(&u, &v, &w).ok_or("x takes a single value")?;
    finite(vec![sign * c0.exp(), c1])
}
