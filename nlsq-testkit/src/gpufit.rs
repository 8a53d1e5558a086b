//! Gpufit's standard benchmark problem, shared by the batch benches: a 2-D Gaussian on 5 x 5
//! pixels (amplitude 500, centre (2, 2) ± 0.5 px, width 1, background 10, each varied by a few
//! percent), Poisson noise, starting values off by up to 10 %; tolerance 1e-4, at most 10
//! iterations.

use nlsq::model;

/// Gpufit's GAUSS_2D.
#[model(crate = nlsq)]
pub fn gauss2d(x: [f64; 2], amp: f64, x0: f64, y0: f64, s: f64, bg: f64) -> f64 {
    let dx = x[0] - x0;
    let dy = x[1] - y0;
    amp * (-(dx * dx + dy * dy) / (2.0 * s * s)).exp() + bg
}

/// Tolerance of the benchmark.
pub const TOLERANCE: f64 = 1e-4;
/// Iteration budget of the benchmark.
pub const MAX_ITERATIONS: u32 = 10;

/// SplitMix64.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform(f64::MIN_POSITIVE, 1.0);
        let v = self.uniform(0.0, 1.0);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    /// Poisson by a rounded normal (means here are >= 10).
    pub fn poisson(&mut self, mean: f64) -> f64 {
        (mean + mean.sqrt() * self.normal()).round().max(0.0)
    }
}

/// The shared 5 x 5 grid, point-major.
pub fn grid() -> Vec<f64> {
    (0..25)
        .flat_map(|i| [(i % 5) as f64, (i / 5) as f64])
        .collect()
}

/// `(y, p0)` of `n_fits` problems.
pub fn problems(n_fits: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng(seed);
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
            y.push(rng.poisson(gauss2d(
                [x[2 * q], x[2 * q + 1]],
                t[0],
                t[1],
                t[2],
                t[3],
                t[4],
            )));
        }
        p0.extend(t.map(|v| v * rng.uniform(0.9, 1.1)));
    }
    (y, p0)
}
