//! Steps: `logistic` and `erf_step` (the Gaussian CDF).
//!
//! Estimation: the two asymptotes as medians of the first and last 10 % of the points (by x);
//! the data (running median of 3) scaled to rise from 0 to 1 between them; the positions where that
//! crosses 10 %, 50 % and 90 % ([`level_position`]: the length of x below the level, which
//! cancels noise that crosses back and forth); the 10–90 % width converted to the model's
//! width (`2 ln 9` logistic widths, `2 · 1.2816` erf sigmas).

use super::estimate::{Reason, Samples, finite, level_position, median, smooth};

/// `z` of the standard normal's 90 % quantile.
const NORMAL_Z90: f64 = 1.281_551_565_544_600_5;

/// Asymptotes, mid crossing and 10–90 % width of a step.
struct Step {
    low: f64,
    high: f64,
    centre: f64,
    width_10_90: f64,
}

fn step(s: &Samples) -> Result<Step, Reason> {
    s.require(6)?;
    let (x, y) = (s.x0(), &s.y);
    let n = y.len();
    let edge = (n / 10).max(2);
    let low = median(&y[..edge]);
    let high = median(&y[n - edge..]);
    let amp = high - low;
    if amp == 0.0 || !amp.is_finite() {
        return Err("no step: both ends of the data have the same level".into());
    }
    // Level positions average the noise out themselves: a running median of 3 is enough.
    let f: Vec<f64> = smooth(y, 0).iter().map(|v| (v - low) / amp).collect();
    let (x10, x50, x90) = (
        level_position(x, &f, 0.1),
        level_position(x, &f, 0.5),
        level_position(x, &f, 0.9),
    );
    let spacing = s.span() / (n - 1) as f64;
    Ok(Step {
        low,
        high,
        centre: x50,
        width_10_90: (x90 - x10).max(spacing),
    })
}

/// `logistic` (amp, center, width, offset): `offset + amp / (1 + exp(-(x - center) / width))`.
pub(crate) fn logistic(s: &Samples) -> Result<Vec<f64>, Reason> {
    let st = step(s)?;
    let width = st.width_10_90 / (2.0 * 9f64.ln());
    finite(vec![st.high - st.low, st.centre, width, st.low])
}

/// `erf_step` (amp, center, sigma, offset):
/// `offset + amp / 2 · (1 + erf((x - center) / (sqrt 2 · sigma)))`.
pub(crate) fn erf_step(s: &Samples) -> Result<Vec<f64>, Reason> {
    let st = step(s)?;
    let sigma = st.width_10_90 / (2.0 * NORMAL_Z90);
    finite(vec![st.high - st.low, st.centre, sigma, st.low])
}
