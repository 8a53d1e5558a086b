//! The one-predictor models of the benches and tests: the decay and the Gaussian peak.

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

/// `(x, y, sigma)`: `n` decay points `2.5 exp(-1.3 x) + 0.4` on `[0, 5)` with seeded uniform
/// noise of amplitude `noise`, and per-point sigma of the same scale (`noise (0.8 + 0.4 (i %
/// 7))`).
pub fn decay_data(n: usize, noise: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / n as f64).collect();
    let mut s: u64 = 99;
    let y = x
        .iter()
        .map(|x| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let e = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            2.5 * (-1.3 * x).exp() + 0.4 + noise * e
        })
        .collect();
    let sigma = (0..n)
        .map(|i| noise * (0.8 + 0.4 * ((i % 7) as f64)))
        .collect();
    (x, y, sigma)
}

/// The source of [`decay`] and of [`gaussian`], for the same models given at run time.
const SOURCES: [(&str, &str); 2] = [
    (
        "decay",
        "fn decay(x: f64, a: f64, b: f64, c: f64) -> f64 { a * (-b * x).exp() + c }",
    ),
    (
        "gaussian",
        "fn gaussian(x: f64, amp: f64, mu: f64, sigma: f64) -> f64 { let d = x - mu; amp * (-(d * d) / (2.0 * sigma * sigma)).exp() }",
    ),
];

/// `"decay"` or `"gaussian"` as a model given at run time: the same source as [`Decay`] or
/// [`Gaussian`], so the same hash (the benches and `tests/expr_model_bits.rs` check it).
pub fn runtime_model(name: &str) -> Option<nlsq::ExprModel> {
    let (_, src) = SOURCES.iter().find(|(n, _)| *n == name)?;
    let ir = nlsq::kernels_gen::parse::model_from_source(src).ok()?;
    Some(nlsq::ExprModel::from_ir(ir))
}
