//! Polynomials (`constant`, `linear`, `polynomialN`): formulas, exact least-squares
//! coefficients, and the robust fit of a background under peaks.

use super::estimate::{Reason, Samples, lstsq_cols, mad_sigma, median};

/// The formula of a polynomial of `degree` in Horner form, with coefficients `c0..cN`:
/// `c0 + x * (c1 + x * c2)`.
pub(crate) fn formula(degree: usize) -> String {
    let mut s = format!("c{degree}");
    for k in (0..degree).rev() {
        s = if k + 1 == degree {
            format!("c{k} + x * {s}")
        } else {
            format!("c{k} + x * ({s})")
        };
    }
    s
}

/// Evaluates `c0 + c1 x + ...` by Horner's rule.
pub(crate) fn eval(c: &[f64], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ck| acc * x + ck)
}

/// Exact least-squares coefficients `c0..cN` of a polynomial of `degree` through `(x, y)`:
/// solved on x shifted and scaled to `[-1, 1]` (well conditioned), then expanded back.
pub(crate) fn fit(x: &[f64], y: &[f64], degree: usize) -> Result<Vec<f64>, Reason> {
    if y.len() < degree + 1 {
        return Err(format!(
            "{} usable (finite) points, at least {} needed",
            y.len(),
            degree + 1
        ));
    }
    let (lo, hi) = super::estimate::min_max(x);
    let (mid, half) = (0.5 * (lo + hi), 0.5 * (hi - lo));
    let half = if half > 0.0 && half.is_finite() {
        half
    } else {
        1.0
    };
    if degree > 0 && hi <= lo {
        return Err("x is constant: a polynomial of degree ≥ 1 is not determined".into());
    }
    let t: Vec<f64> = x.iter().map(|v| (v - mid) / half).collect();
    let cols: Vec<Box<dyn Fn(usize) -> f64>> = (0..=degree)
        .map(|k| {
            let t = &t;
            Box::new(move |i: usize| t[i].powi(k as i32)) as Box<dyn Fn(usize) -> f64>
        })
        .collect();
    let refs: Vec<&dyn Fn(usize) -> f64> = cols.iter().map(|c| c.as_ref()).collect();
    let a = lstsq_cols(y.len(), &refs, y).ok_or("the least-squares problem is singular")?;
    Ok(expand(&a, mid, half))
}

/// Coefficients in x of `Σ a_k ((x - mid) / half)^k`.
fn expand(a: &[f64], mid: f64, half: f64) -> Vec<f64> {
    let mut out = vec![0.0; a.len()];
    // power = ((x - mid) / half)^k as coefficients in x, built up one factor at a time.
    let mut power = vec![1.0];
    for &ak in a {
        for (o, p) in out.iter_mut().zip(&power) {
            *o += ak * p;
        }
        let mut next = vec![0.0; power.len() + 1];
        for (j, p) in power.iter().enumerate() {
            next[j + 1] += p / half;
            next[j] -= p * mid / half;
        }
        power = next;
    }
    out
}

/// A polynomial background under peaks or other features: first fitted to the outer 20 % of
/// the points on each side (degree ≤ 1) or to all points, then refitted five times to the
/// points within 2.5 robust standard deviations of it (sigma clipping), so that features
/// that cover less than about half the points do not pull it.
pub(crate) fn robust(s: &Samples, degree: usize) -> Result<Vec<f64>, Reason> {
    let (x, y) = (s.x0(), &s.y);
    let n = y.len();
    let mut keep: Vec<usize> = if degree <= 1 && n >= 10 {
        let edge = (n / 5).max(degree + 1);
        (0..edge).chain(n - edge..n).collect()
    } else {
        (0..n).collect()
    };
    let mut c = fit_subset(x, y, &keep, degree)?;
    for _ in 0..5 {
        let r: Vec<f64> = (0..n).map(|i| y[i] - eval(&c, x[i])).collect();
        let centre = median(&r);
        let spread = mad_sigma(&r).max(1e-12 * (centre.abs() + eval(&c, x[n / 2]).abs()));
        let next: Vec<usize> = (0..n)
            .filter(|&i| (r[i] - centre).abs() <= 2.5 * spread)
            .collect();
        if next.len() < (degree + 1).max(n / 10) || next == keep {
            break;
        }
        keep = next;
        c = fit_subset(x, y, &keep, degree)?;
    }
    Ok(c)
}

fn fit_subset(x: &[f64], y: &[f64], keep: &[usize], degree: usize) -> Result<Vec<f64>, Reason> {
    let xs: Vec<f64> = keep.iter().map(|&i| x[i]).collect();
    let ys: Vec<f64> = keep.iter().map(|&i| y[i]).collect();
    fit(&xs, &ys, degree)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_and_exact_fits() {
        assert_eq!(formula(0), "c0");
        assert_eq!(formula(2), "c0 + x * (c1 + x * c2)");
        let x: Vec<f64> = (0..20).map(|i| 1000.0 + i as f64 * 0.1).collect();
        let c = [3.0, -2.0, 0.5];
        let y: Vec<f64> = x.iter().map(|&v| eval(&c, v)).collect();
        let got = fit(&x, &y, 2).unwrap();
        for (g, t) in got.iter().zip(c) {
            // Far from x = 0 the expansion cancels digits; the curve itself is exact.
            assert!((g - t).abs() < 1e-3 * t.abs().max(1.0), "{got:?}");
        }
        let residual: f64 = x
            .iter()
            .zip(&y)
            .map(|(&v, w)| (eval(&got, v) - w).abs())
            .sum();
        assert!(residual < 1e-5, "{residual}");
    }
}
