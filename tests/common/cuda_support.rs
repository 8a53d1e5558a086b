//! Helpers of the CUDA tests: the decay model, its seeded data, and the `NLSQ_TEST_CUDA` gate.

#![allow(dead_code)]

use nlsq::model;

/// `a exp(-b x) + c`.
#[model]
pub fn decay(x: f64, a: f64, b: f64, c: f64) -> f64 {
    a * (-b * x).exp() + c
}

/// Whether CUDA execution tests run (`NLSQ_TEST_CUDA=1`); says it skipped otherwise.
pub fn gpu_tests_enabled() -> bool {
    if std::env::var("NLSQ_TEST_CUDA").is_ok_and(|v| v == "1") {
        return true;
    }
    eprintln!("SKIPPED: CUDA execution tests need a GPU; set NLSQ_TEST_CUDA=1 to run them");
    false
}

/// `(x, y, sigma)` of `n` noisy decay points on `[0, 5)` (seeded, reproducible).
pub fn data(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / n as f64).collect();
    let mut s: u64 = 99;
    let y = x
        .iter()
        .map(|x| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let e = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            2.5 * (-1.3 * x).exp() + 0.4 + 0.05 * e
        })
        .collect();
    let sigma = (0..n).map(|i| 0.04 + 0.02 * ((i % 7) as f64)).collect();
    (x, y, sigma)
}
