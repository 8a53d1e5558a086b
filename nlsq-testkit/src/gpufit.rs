//! Gpufit's standard benchmark problem, shared by the batch benches: a 2-D Gaussian on 5 x 5
//! pixels (amplitude 500, centre (2, 2) ± 0.5 px, width 1, background 10, each varied by a few
//! percent), Poisson noise, starting values off by up to 10 %; tolerance 1e-4, at most 10
//! iterations.

use crate::batch::support::Rng;

/// Gpufit's GAUSS_2D and its 5 x 5 grid (point-major), those of the batch tests.
pub use crate::batch::support::{Gauss2d, gauss2d, grid5 as grid};

/// Tolerance of the benchmark.
pub const TOLERANCE: f64 = 1e-4;
/// Iteration budget of the benchmark.
pub const MAX_ITERATIONS: u32 = 10;

/// A Poisson draw by a rounded normal (means here are >= 10).
fn poisson(rng: &mut Rng, mean: f64) -> f64 {
    (mean + mean.sqrt() * rng.normal()).round().max(0.0)
}

/// `(y, p0)` of `n_fits` problems.
pub fn problems(n_fits: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng::new(seed);
    let x = grid();
    let mut y = Vec::with_capacity(n_fits * 25);
    let mut p0 = Vec::with_capacity(n_fits * 5);
    for _ in 0..n_fits {
        let t = [
            500.0 * rng.uniform(0.95, 1.05),
            2.0 + rng.uniform(-0.5, 0.5),
            2.0 + rng.uniform(-0.5, 0.5),
            rng.uniform(0.95, 1.05),
            10.0 * rng.uniform(0.95, 1.05),
        ];
        for q in 0..25 {
            y.push(poisson(
                &mut rng,
                gauss2d([x[2 * q], x[2 * q + 1]], t[0], t[1], t[2], t[3], t[4]),
            ));
        }
        p0.extend(t.map(|v| v * rng.uniform(0.9, 1.1)));
    }
    (y, p0)
}
