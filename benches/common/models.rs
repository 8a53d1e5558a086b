//! The one-predictor models of the CPU and CUDA pass benches and the CPU vector-path tests.

#![allow(dead_code)]

use nlsq::model;

/// `a exp(-b x) + c`.
#[model]
pub fn decay(x: f64, a: f64, b: f64, c: f64) -> f64 {
    a * (-b * x).exp() + c
}

/// `amp exp(-(x - mu)² / (2 sigma²))`.
#[model]
pub fn gaussian(x: f64, amp: f64, mu: f64, sigma: f64) -> f64 {
    let d = x - mu;
    amp * (-(d * d) / (2.0 * sigma * sigma)).exp()
}
