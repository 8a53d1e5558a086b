//! Data, models and file helpers shared by the streaming tests.

use nlsq::stream::DataSource;
use nlsq::{CurveFit, FitResult, model};
use std::path::PathBuf;

pub use crate::models::{Decay, decay};

#[model]
pub fn plane_wave(x: [f64; 2], a: f64, k: f64, w: f64) -> f64 {
    a * (k * x[0] - w * x[1]).cos()
}

#[model]
pub fn line(x: f64, m: f64, q: f64) -> f64 {
    m * x + q
}

/// A deterministic pseudo-random sequence in [-0.5, 0.5).
pub fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect()
}

pub fn decay_data(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / n as f64).collect();
    let e = noise(n, 7);
    let y = x
        .iter()
        .zip(&e)
        .map(|(x, e)| 2.5 * (-1.3 * x).exp() + 0.4 + 0.05 * e)
        .collect();
    let sigma = (0..n).map(|i| 0.04 + 0.02 * ((i % 7) as f64)).collect();
    (x, y, sigma)
}

pub fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

/// Parameters, covariance, cost and statistics agree to `tol` relative.
pub fn assert_same_fit(got: &FitResult, want: &FitResult, tol: f64) {
    let worst = |pairs: Vec<(f64, f64)>| {
        pairs
            .into_iter()
            .map(|(a, b)| rel(a, b))
            .fold(0.0, f64::max)
    };
    let mut pairs: Vec<(f64, f64)> = got
        .popt
        .iter()
        .copied()
        .zip(want.popt.iter().copied())
        .collect();
    pairs.extend(got.perr.iter().copied().zip(want.perr.iter().copied()));
    for (a, b) in got.pcov.iter().zip(&want.pcov) {
        pairs.extend(a.iter().copied().zip(b.iter().copied()));
    }
    pairs.extend([
        (got.cost, want.cost),
        (got.r_squared, want.r_squared),
        (got.rmse, want.rmse),
        (got.aic, want.aic),
    ]);
    let w = worst(pairs);
    assert!(
        w <= tol,
        "worst relative difference {w:e} > {tol:e}\n{got}\n{want}"
    );
    assert_eq!(
        (got.n_points, got.n_omitted),
        (want.n_points, want.n_omitted)
    );
}

/// A scratch directory of one test, removed when the test ends.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("nlsq-streaming-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn write_f64(path: &PathBuf, v: &[f64]) {
    let bytes: Vec<u8> = v.iter().flat_map(|a| a.to_le_bytes()).collect();
    std::fs::write(path, bytes).unwrap();
}

pub fn npy_bytes(descr: &str, shape: &str, payload: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((header.len() as u16).to_le_bytes());
    v.extend(header.as_bytes());
    v.extend(payload);
    v
}

/// Fits `source` streamed with a tiny budget (several passes, several chunks each).
pub fn streamed(source: &mut dyn DataSource) -> FitResult {
    CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .max_host_bytes(200_000)
        .fit_source(source)
        .unwrap()
}
