//! `damped_sine` (amp, decay, freq, phase, offset):
//! `amp · exp(-decay · x) · sin(2π · freq · x + phase) + offset`.
//!
//! Estimation: the offset as the median; the frequency at the maximum of a periodogram of
//! the centred data (a Fourier sum weighted by the local spacing, so uneven x is fine; up to
//! 2,000 bin-averaged points, frequencies from 1/(2 span) to the mean Nyquist frequency in
//! steps of 1/(5 span), refined by a parabola through the maximum); the decay from the
//! amplitudes of sinusoids fitted by linear least squares to consecutive windows of about one
//! period (a weighted regression of their logarithms on the windows' centres); amplitude,
//! phase and offset by linear least squares with frequency and decay held.

use super::estimate::{Reason, Samples, finite, lstsq_cols, median, weighted_line};
use std::f64::consts::{PI, TAU};

/// Most points the periodogram sums over (bin averages beyond).
const MAX_PERIODOGRAM_POINTS: usize = 2000;

/// Consecutive points averaged into at most `max` bins.
fn bins(x: &[f64], y: &[f64], max: usize) -> (Vec<f64>, Vec<f64>) {
    let per = x.len().div_ceil(max).max(1);
    let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    (
        x.chunks(per).map(avg).collect(),
        y.chunks(per).map(avg).collect(),
    )
}

/// The frequency of the periodogram's maximum.
fn dominant_frequency(x: &[f64], r: &[f64], span: f64) -> f64 {
    let n = x.len();
    let df = 1.0 / (5.0 * span);
    let f0 = 0.5 / span;
    let count = ((0.5 * n as f64 / span - f0) / df).max(1.0) as usize + 1;
    let (mut re, mut im) = (vec![0.0; count], vec![0.0; count]);
    for i in 0..n {
        let w = 0.5 * (x[(i + 1).min(n - 1)] - x[i.saturating_sub(1)]) * r[i];
        // The phasor e^{-2πi f x} for f = f0 + k df, advanced by one rotation per step.
        let (mut zr, mut zi) = ((-TAU * f0 * x[i]).cos(), (-TAU * f0 * x[i]).sin());
        let (wr, wi) = ((-TAU * df * x[i]).cos(), (-TAU * df * x[i]).sin());
        for k in 0..count {
            re[k] += w * zr;
            im[k] += w * zi;
            (zr, zi) = (zr * wr - zi * wi, zr * wi + zi * wr);
        }
    }
    let p: Vec<f64> = re.iter().zip(&im).map(|(a, b)| a * a + b * b).collect();
    let k = (0..count)
        .max_by(|&a, &b| p[a].total_cmp(&p[b]))
        .unwrap_or(0);
    let shift = if k > 0 && k + 1 < count {
        let den = p[k - 1] - 2.0 * p[k] + p[k + 1];
        if den < 0.0 {
            (0.5 * (p[k - 1] - p[k + 1]) / den).clamp(-0.5, 0.5)
        } else {
            0.0
        }
    } else {
        0.0
    };
    f0 + (k as f64 + shift) * df
}

/// The decay rate from the amplitudes of one-period windows (0 with fewer than 2 windows).
fn decay_rate(x: &[f64], y: &[f64], omega: f64, span: f64) -> f64 {
    let len = (TAU / omega).max(span / 20.0);
    let (mut t, mut amp) = (Vec::new(), Vec::new());
    let mut start = 0;
    while start < x.len() {
        let end = x[start..].partition_point(|&v| v < x[start] + len) + start;
        let end = end.max(start + 6).min(x.len());
        let (xs, ys) = (&x[start..end], &y[start..end]);
        if xs.len() >= 6 && xs[xs.len() - 1] - xs[0] >= 0.6 * len {
            let cols: [&dyn Fn(usize) -> f64; 3] = [&|_| 1.0, &|i| (omega * xs[i]).sin(), &|i| {
                (omega * xs[i]).cos()
            }];
            if let Some(c) = lstsq_cols(xs.len(), &cols, ys) {
                t.push(xs.iter().sum::<f64>() / xs.len() as f64);
                amp.push(c[1].hypot(c[2]));
            }
        }
        start = end;
    }
    let ln: Vec<f64> = amp.iter().map(|a| a.max(f64::MIN_POSITIVE).ln()).collect();
    let w: Vec<f64> = amp.iter().map(|a| a * a).collect();
    weighted_line(&t, &ln, &w).map_or(0.0, |(_, slope)| -slope)
}

/// `damped_sine` (amp, decay, freq, phase, offset), with `amp > 0`, `freq > 0` and the phase
/// in `(-π, π]`.
pub(crate) fn damped_sine(s: &Samples) -> Result<Vec<f64>, Reason> {
    s.require(8)?;
    let (x, y) = (s.x0(), &s.y);
    let span = s.span();
    let off = median(y);
    let r: Vec<f64> = y.iter().map(|v| v - off).collect();
    let (xb, rb) = bins(x, &r, MAX_PERIODOGRAM_POINTS);
    let freq = dominant_frequency(&xb, &rb, span);
    let omega = TAU * freq;
    let decay = decay_rate(x, y, omega, span);
    let x0 = x[0];
    let env = |i: usize| (-decay * (x[i] - x0)).exp();
    let cols: [&dyn Fn(usize) -> f64; 3] = [
        &|i| env(i) * (omega * x[i]).sin(),
        &|i| env(i) * (omega * x[i]).cos(),
        &|_| 1.0,
    ];
    let c = lstsq_cols(y.len(), &cols, y).ok_or("the amplitude regression is singular")?;
    let amp = c[0].hypot(c[1]) * (decay * x0).exp();
    let mut phase = c[1].atan2(c[0]);
    if phase <= -PI {
        phase += TAU;
    }
    finite(vec![amp, decay, freq, phase, c[2]])
}
