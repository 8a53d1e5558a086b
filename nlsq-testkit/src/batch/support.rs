//! Helpers of the batch-fitting tests: a seeded generator, the models, and a model with some
//! parameters held at given values (the single-fit reference for fixed parameters).

use nlsq::{Model, ModelHash, Precision, model};

pub use crate::models::{Decay, decay};

/// SplitMix64 with Box–Muller normals: reproducible random problems without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform(f64::MIN_POSITIVE, 1.0);
        let v = self.uniform(0.0, 1.0);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    /// A Poisson draw (Knuth's method for small means, a rounded normal beyond).
    pub fn poisson(&mut self, mean: f64) -> f64 {
        if mean > 50.0 {
            return (mean + mean.sqrt() * self.normal()).round().max(0.0);
        }
        let l = (-mean).exp();
        let (mut k, mut p) = (0.0, 1.0);
        loop {
            p *= self.uniform(0.0, 1.0);
            if p <= l {
                return k;
            }
            k += 1.0;
        }
    }
}

#[model(crate = nlsq)]
pub fn gauss1d(x: f64, amp: f64, mu: f64, sigma: f64, bg: f64) -> f64 {
    let d = x - mu;
    amp * (-(d * d) / (2.0 * sigma * sigma)).exp() + bg
}

/// Gpufit's GAUSS_2D: amplitude, centre, width, background.
#[model(crate = nlsq)]
pub fn gauss2d(x: [f64; 2], amp: f64, x0: f64, y0: f64, s: f64, bg: f64) -> f64 {
    let dx = x[0] - x0;
    let dy = x[1] - y0;
    amp * (-(dx * dx + dy * dy) / (2.0 * s * s)).exp() + bg
}

/// The 5 x 5 grid of Gpufit's benchmark, point-major (`x0, x1` per point).
pub fn grid5() -> Vec<f64> {
    (0..25)
        .flat_map(|i| [(i % 5) as f64, (i / 5) as f64])
        .collect()
}

/// `(y, p0)` of `n_fits` 2-D Gaussians on [`grid5`] with Poisson counts: per fit, the true
/// parameters from `truth`, then 25 counts, and p0 off the truth by +10 % (amplitude, width),
/// ±0.1 px (centre) and -10 % (background).
pub fn gauss2d_poisson(
    rng: &mut Rng,
    n_fits: usize,
    truth: impl Fn(&mut Rng) -> [f64; 5],
) -> (Vec<f64>, Vec<f64>) {
    let x = grid5();
    let (mut y, mut p0) = (Vec::new(), Vec::new());
    for _ in 0..n_fits {
        let t = truth(rng);
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
        p0.extend([t[0] * 1.1, t[1] + 0.1, t[2] - 0.1, t[3] * 1.1, t[4] * 0.9]);
    }
    (y, p0)
}

/// Largest parameter count [`Reduced`] handles (its scratch lives on the stack).
pub const REDUCED_MAX_P: usize = 16;

/// `inner` with the parameters where `values[j]` is `Some` held at that value: a model of the
/// free parameters only, evaluated on the CPU (its kernel sources are the inner model's and
/// must not be used).
pub struct Reduced<'a> {
    pub inner: &'a dyn Model,
    pub values: Vec<Option<f64>>,
    free: Vec<usize>,
}

impl<'a> Reduced<'a> {
    pub fn new(inner: &'a dyn Model, values: Vec<Option<f64>>) -> Self {
        assert!(values.len() <= REDUCED_MAX_P);
        let free = (0..values.len()).filter(|&j| values[j].is_none()).collect();
        Reduced {
            inner,
            values,
            free,
        }
    }
    fn full(&self, p: &[f64]) -> [f64; REDUCED_MAX_P] {
        let mut full = [0.0; REDUCED_MAX_P];
        let mut it = p.iter();
        for (j, v) in self.values.iter().enumerate() {
            full[j] = v.unwrap_or_else(|| *it.next().unwrap());
        }
        full
    }
}

impl Model for Reduced<'_> {
    fn name(&self) -> &str {
        "reduced"
    }
    fn n_params(&self) -> usize {
        self.free.len()
    }
    fn n_inputs(&self) -> usize {
        self.inner.n_inputs()
    }
    fn param_name(&self, j: usize) -> &str {
        self.inner.param_name(self.free[j])
    }
    fn eval(&self, x: &[f64], p: &[f64]) -> f64 {
        self.inner.eval(x, &self.full(p)[..self.values.len()])
    }
    fn eval_with_gradient(&self, x: &[f64], p: &[f64], grad: &mut [f64]) -> f64 {
        let n = self.values.len();
        let mut gf = [0.0; REDUCED_MAX_P];
        let f = self
            .inner
            .eval_with_gradient(x, &self.full(p)[..n], &mut gf[..n]);
        for (g, &j) in grad.iter_mut().zip(&self.free) {
            *g = gf[j];
        }
        f
    }
    fn cuda_source(&self, precision: Precision) -> &str {
        self.inner.cuda_source(precision)
    }
    fn wgsl_source(&self, precision: Precision) -> &str {
        self.inner.wgsl_source(precision)
    }
    fn hash(&self) -> ModelHash {
        self.inner.hash()
    }
}
