//! The fused pass's test problems and its CPU reference: the reduction row computed in f64
//! from the model's tape, shared by the kernel tests on a GPU (`cuda_exec.rs`) and on the host
//! (`cuda_host.rs`).

use super::{corpus, extra_models};
use kernels_gen::kernels::abi;
use kernels_gen::{ModelIr, Precision};

/// Deterministic pseudo-random numbers in [0, 1).
pub struct Lcg(pub u64);
impl Lcg {
    /// The next number.
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Data of one pass: `x` column-major (`K` columns of `n`), `y`, weights, parameters.
pub struct Problem {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub w: Vec<f64>,
    pub p: Vec<f64>,
    pub n: usize,
}

/// `n` points of `m` at parameters `p`, `x` uniform in `x_range`, `y` perturbed (with
/// outliers every 97 points), weights in [0.5, 1.5).
pub fn problem(m: &ModelIr, n: usize, x_range: (f64, f64), p: Vec<f64>, seed: u64) -> Problem {
    let mut rng = Lcg(seed);
    let k = m.n_inputs();
    let mut x = vec![0.0; k * n];
    for v in x.iter_mut() {
        *v = x_range.0 + (x_range.1 - x_range.0) * rng.next();
    }
    let tape = m.tape();
    let mut scratch = Vec::new();
    let mut out = vec![0.0; m.n_params() + 1];
    let mut y = vec![0.0; n];
    let w: Vec<f64> = (0..n).map(|_| 0.5 + rng.next()).collect();
    for i in 0..n {
        let xi: Vec<f64> = (0..k).map(|c| x[c * n + i]).collect();
        tape.eval_into(&xi, &p, &mut scratch, &mut out);
        // Perturb so residuals are not all zero, with a few outliers for the robust losses.
        let noise = 0.05 * (rng.next() - 0.5) + if i % 97 == 0 { 3.0 } else { 0.0 };
        y[i] = out[0] * (1.0 + noise) + noise;
    }
    Problem { x, y, w, p, n }
}

/// scipy's robust loss: (f_scale^2 rho, s, scaled residual).
pub fn loss(code: u32, f_scale: f64, r: f64) -> (f64, f64, f64) {
    if code == abi::LOSS_LINEAR {
        return (r * r, 1.0, r);
    }
    let z = (r / f_scale).powi(2);
    let (p0, p1, p2) = match code {
        abi::LOSS_SOFT_L1 => {
            let t = 1.0 + z;
            (2.0 * (t.sqrt() - 1.0), t.powf(-0.5), -0.5 * t.powf(-1.5))
        }
        abi::LOSS_HUBER if z <= 1.0 => (z, 1.0, 0.0),
        abi::LOSS_HUBER => (2.0 * z.sqrt() - 1.0, z.powf(-0.5), -0.5 * z.powf(-1.5)),
        abi::LOSS_CAUCHY => ((1.0 + z).ln(), 1.0 / (1.0 + z), -1.0 / (1.0 + z).powi(2)),
        _ => (
            z.atan(),
            1.0 / (1.0 + z * z),
            -2.0 * z / (1.0 + z * z).powi(2),
        ),
    };
    let s = (p1 + 2.0 * p2 * z).max(f64::EPSILON).sqrt();
    (f_scale * f_scale * p0, s, r * p1 / s)
}

/// The reduction row, computed on the CPU in f64 from data rounded to `precision`, and the
/// same row summing absolute values of the terms (the scale rounding errors are relative to).
pub fn cpu_row(
    m: &ModelIr,
    pr: &Problem,
    precision: Precision,
    code: u32,
    f_scale: f64,
) -> (Vec<f64>, Vec<f64>) {
    let round = |v: f64| match precision {
        Precision::F32 => v as f32 as f64,
        Precision::F64 => v,
    };
    let np = m.n_params();
    let k = m.n_inputs();
    let tape = m.tape();
    let mut scratch = Vec::new();
    let mut out = vec![0.0; np + 1];
    let mut row = vec![0.0; abi::reduction_width(np)];
    let mut abs = vec![0.0; abi::reduction_width(np)];
    let p: Vec<f64> = pr.p.iter().map(|&v| round(v)).collect();
    for i in 0..pr.n {
        let xi: Vec<f64> = (0..k).map(|c| round(pr.x[c * pr.n + i])).collect();
        tape.eval_into(&xi, &p, &mut scratch, &mut out);
        let wi = round(pr.w[i]);
        let r = (out[0] - round(pr.y[i])) * wi;
        let jac: Vec<f64> = out[1..].iter().map(|g| g * wi).collect();
        if !r.is_finite() || jac.iter().any(|v| !v.is_finite()) {
            row[abi::nonfinite_index(np)] += 1.0;
            continue;
        }
        let (rho, s, rs) = loss(code, f_scale, r);
        let mut add = |e: usize, v: f64| {
            row[e] += v;
            abs[e] += v.abs();
        };
        add(0, rho);
        for a in 0..np {
            for b in a..np {
                add(abi::jtj_index(np, a, b), jac[a] * s * jac[b] * s);
            }
            add(abi::jtr_index(np, a), jac[a] * s * rs);
        }
        add(abi::count_index(np), 1.0);
    }
    (row, abs)
}

/// Every entry within `tol` of the sum of the absolute values of its terms.
pub fn compare(name: &str, what: &str, gpu: &[f64], cpu: &(Vec<f64>, Vec<f64>), tol: f64) {
    for (e, ((g, c), a)) in gpu.iter().zip(&cpu.0).zip(&cpu.1).enumerate() {
        let err = (g - c).abs() / a.max(f64::MIN_POSITIVE);
        assert!(
            err <= tol || g == c,
            "{name} {what}: entry {e}: GPU {g} vs CPU {c} (error {err:.2e} of the term magnitude)"
        );
    }
}

/// A model, its point count, the x range and the true parameters.
pub type Case = (ModelIr, usize, (f64, f64), Vec<f64>);

pub fn cases() -> Vec<Case> {
    let extra = extra_models();
    let corpus = corpus();
    let find = |n: &str| corpus.iter().find(|m| m.name == n).unwrap().clone();
    vec![
        (extra[2].clone(), 200_003, (0.0, 5.0), vec![2.0, 0.7, 0.3]),
        (find("gaussian"), 100_000, (-3.0, 3.0), vec![1.5, 0.2, 0.8]),
        (find("nelson"), 50_000, (1.0, 40.0), vec![2.5, 5.6e-3, 0.05]),
        (
            find("multi_gaussian"),
            60_000,
            (-5.0, 5.0),
            vec![1.0, 0.5, 0.8, -2.0, 0.0, 2.5, 0.6, 0.9, 1.2, 0.1],
        ),
        (
            extra[0].clone(),
            40_000,
            (-1.0, 1.0),
            (0..12).map(|i| 1.0 / (1.0 + i as f64)).collect(),
        ),
        (
            extra[1].clone(),
            3_000,
            (0.0, 3.0),
            (0..256).map(|i| ((i % 7) as f64 - 3.0) * 0.1).collect(),
        ),
    ]
}
