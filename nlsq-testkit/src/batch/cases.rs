//! The random problems of the batch acceptance tests (CPU and CUDA), and the comparison of
//! a batch with single fits of every problem.

use super::support::{Decay, Gauss1d, Gauss2d, Reduced, Rng, decay, gauss1d, gauss2d, grid5};
use nlsq::batch::{BatchFit, BatchResult, Estimator, FitState};
use nlsq::{Backend, CurveFit, Model, Precision};
use std::time::Instant;

/// One family of random problems, in the batch layout.
#[derive(Clone)]
pub struct Case {
    pub name: &'static str,
    pub model: &'static dyn Model,
    pub lengths: Vec<usize>,
    /// Shared predictors (point-major) or one set per point of the flat data.
    pub x_shared: bool,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub w: Option<Vec<f64>>,
    pub p0: Vec<f64>,
    pub bounds: Option<(Vec<f64>, Vec<f64>)>,
    pub fixed: Option<Vec<bool>>,
    pub estimator: Estimator,
}

impl Case {
    /// The tolerances every backend runs these problems with.
    pub const TOLERANCE: f64 = 1e-12;
    /// See [`Case::TOLERANCE`].
    pub const STEP_TOLERANCE: f64 = 1e-11;
    /// See [`Case::TOLERANCE`].
    pub const MAX_ITERATIONS: u32 = 1000;

    pub fn n_fits(&self) -> usize {
        self.lengths.len()
    }

    pub fn batch(&self, backend: Backend, precision: Precision) -> BatchResult {
        self.builder(backend, precision).fit().unwrap()
    }

    /// The batch of [`Case::batch`], configured but not run (to change an option).
    pub fn builder(
        &self,
        backend: Backend,
        precision: Precision,
    ) -> BatchFit<'_, &'static dyn Model> {
        let mut b = BatchFit::new(self.model)
            .data(&self.y)
            .lengths(&self.lengths)
            .p0(&self.p0)
            .tolerance(Self::TOLERANCE)
            .step_tolerance(Self::STEP_TOLERANCE)
            .max_iterations(Self::MAX_ITERATIONS)
            .covariance(true)
            .estimator(self.estimator)
            .backend(backend)
            .precision(precision);
        b = if self.x_shared {
            b.x_shared(&self.x)
        } else {
            b.x(&self.x)
        };
        if let Some(w) = &self.w {
            b = b.weights(w);
        }
        if let Some((lo, hi)) = &self.bounds {
            b = b.bounds(lo, hi);
        }
        if let Some(f) = &self.fixed {
            b = b.fixed(f);
        }
        b
    }

    /// The single-fit reference of fit `i`: (full parameters, full covariance).
    pub fn reference(&self, i: usize, start: usize) -> (Vec<f64>, Vec<f64>) {
        let p = self.model.n_params();
        let k = self.model.n_inputs();
        let n = self.lengths[i];
        let base = if self.x_shared { 0 } else { start };
        let cols: Vec<Vec<f64>> = (0..k)
            .map(|c| (0..n).map(|q| self.x[(base + q) * k + c]).collect())
            .collect();
        let y = &self.y[start..start + n];
        let p0 = &self.p0[i * p..(i + 1) * p];
        let fixed = |j: usize| self.fixed.as_ref().is_some_and(|f| f[i * p + j]);
        let values = (0..p).map(|j| fixed(j).then_some(p0[j])).collect();
        let free: Vec<usize> = (0..p).filter(|&j| !fixed(j)).collect();
        let reduced = Reduced::new(self.model, values);
        let pick = |v: &[f64]| free.iter().map(|&j| v[i * p + j]).collect::<Vec<_>>();
        let mut fit = CurveFit::new(&reduced)
            .p0(free.iter().map(|&j| p0[j]).collect::<Vec<_>>())
            .tol(1e-15)
            .backend(Backend::Cpu);
        let sigma: Vec<f64>;
        if let Some(w) = &self.w {
            sigma = w[start..start + n].iter().map(|w| 1.0 / w.sqrt()).collect();
            fit = fit.sigma(&sigma);
        }
        if let Some((lo, hi)) = &self.bounds {
            fit = fit.bounds(pick(lo), pick(hi));
        }
        let r = fit.fit(&cols, y).unwrap();
        assert!(
            r.success,
            "{} fit {i}: reference did not converge",
            self.name
        );
        let mut full = p0.to_vec();
        let mut cov = vec![0.0; p * p];
        for (a, &j) in free.iter().enumerate() {
            full[j] = r.popt[a];
            for (b, &l) in free.iter().enumerate() {
                cov[j * p + l] = r.pcov[a][b];
            }
        }
        (full, cov)
    }
}

fn decay_case(rng: &mut Rng, n_fits: usize) -> Case {
    let (mut lengths, mut x, mut y, mut w, mut p0) = (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..n_fits {
        let n = 8 + (rng.next_u64() % 23) as usize;
        let truth = [
            rng.uniform(1.0, 5.0),
            rng.uniform(0.5, 2.0),
            rng.uniform(0.5, 2.0),
        ];
        // At least three decay lengths: the decay and the offset are not confounded.
        let span = rng.uniform(3.0, 5.0) / truth[1];
        for q in 0..n {
            let t = span * q as f64 / n as f64 + rng.uniform(0.0, 0.05);
            let sigma = rng.uniform(0.002, 0.01);
            x.push(t);
            y.push(decay(t, truth[0], truth[1], truth[2]) + sigma * rng.normal());
            w.push(1.0 / (sigma * sigma));
        }
        lengths.push(n);
        p0.extend(truth.map(|v| v * rng.uniform(0.8, 1.2)));
    }
    Case {
        name: "decay",
        model: &Decay,
        lengths,
        x_shared: false,
        x,
        y,
        w: Some(w),
        p0,
        bounds: None,
        fixed: None,
        estimator: Estimator::Lse,
    }
}

fn gauss1d_case(rng: &mut Rng, n_fits: usize) -> Case {
    let x: Vec<f64> = (0..31).map(|q| q as f64 * 0.2).collect();
    let (mut y, mut p0, mut lo, mut hi) = (vec![], vec![], vec![], vec![]);
    for _ in 0..n_fits {
        let t = [
            rng.uniform(1.0, 3.0),
            rng.uniform(2.0, 4.0),
            rng.uniform(0.5, 1.2),
            rng.uniform(0.5, 1.0),
        ];
        y.extend(
            x.iter()
                .map(|&v| gauss1d(v, t[0], t[1], t[2], t[3]) + 0.02 * rng.normal()),
        );
        p0.extend([
            t[0] * rng.uniform(0.8, 1.2),
            t[1] + rng.uniform(-0.3, 0.3),
            t[2] * rng.uniform(0.8, 1.2),
            t[3] * rng.uniform(0.8, 1.2),
        ]);
        // Per-fit bounds that hold p0 and leave the optimum inside.
        lo.extend([0.0, t[1] - 1.5, 0.1, -5.0 - rng.uniform(0.0, 1.0)]);
        hi.extend([10.0 + rng.uniform(0.0, 1.0), t[1] + 1.5, 5.0, 5.0]);
    }
    Case {
        name: "gauss1d (bounds)",
        model: &Gauss1d,
        lengths: vec![x.len(); n_fits],
        x_shared: true,
        x,
        y,
        w: None,
        p0,
        bounds: Some((lo, hi)),
        fixed: None,
        estimator: Estimator::Lse,
    }
}

/// Gpufit's standard problem: a 2-D Gaussian on 5 x 5 pixels, with Gaussian noise of a
/// fiftieth of the shot noise (the agreement with single fits is limited by how sharply f64
/// locates the minimum; with more noise both solvers stop within ~1e-8 of it, in different
/// places).
/// With `fix`, each fit holds the width, the background or both at their (perturbed) p0.
fn gauss2d_case(rng: &mut Rng, n_fits: usize, fix: bool) -> Case {
    let x = grid5();
    let (mut y, mut p0, mut fixed) = (vec![], vec![], vec![]);
    for _ in 0..n_fits {
        let t = [
            rng.uniform(200.0, 500.0),
            rng.uniform(1.6, 2.4),
            rng.uniform(1.6, 2.4),
            rng.uniform(0.7, 1.1),
            rng.uniform(10.0, 30.0),
        ];
        for q in 0..25 {
            let f = gauss2d([x[2 * q], x[2 * q + 1]], t[0], t[1], t[2], t[3], t[4]);
            y.push(f + 0.02 * f.sqrt() * rng.normal());
        }
        p0.extend([
            t[0] * rng.uniform(0.8, 1.2),
            t[1] + rng.uniform(-0.3, 0.3),
            t[2] + rng.uniform(-0.3, 0.3),
            t[3] * rng.uniform(0.85, 1.15),
            t[4] * rng.uniform(0.8, 1.2),
        ]);
        let which = rng.next_u64() % 3;
        fixed.extend([false, false, false, which != 1, which != 0]);
    }
    Case {
        name: if fix {
            "gauss2d 5x5 (fixed)"
        } else {
            "gauss2d 5x5"
        },
        model: &Gauss2d,
        lengths: vec![25; n_fits],
        x_shared: true,
        x,
        y,
        w: None,
        p0,
        bounds: None,
        fixed: fix.then_some(fixed),
        estimator: Estimator::Lse,
    }
}

/// The 10,000 problems of the acceptance test.
pub fn acceptance_cases() -> Vec<Case> {
    let mut rng = Rng::new(0x5eed_ba7c);
    vec![
        decay_case(&mut rng, 2500),
        gauss1d_case(&mut rng, 2500),
        gauss2d_case(&mut rng, 2500, false),
        gauss2d_case(&mut rng, 2500, true),
    ]
}

/// Relative difference, against 1 for parameters below 1 in magnitude (a background that
/// fits to 0.01 has no meaningful relative error).
fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / b.abs().max(1.0)
    }
}

/// Compares every fit of `case` run on `backend` with its single-fit reference; returns the
/// number of fits that differ (printing the first ones).
pub fn compare_with_single_fits(case: &Case, backend: Backend, precision: Precision) -> usize {
    let p = case.model.n_params();
    let t = Instant::now();
    let r = case.batch(backend, precision);
    let batch_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (mut worst, mut worst_cov, mut iters) = (0.0f64, 0.0f64, 0u64);
    let mut failures = Vec::new();
    let mut start = 0;
    for i in 0..case.n_fits() {
        let (want, want_cov) = case.reference(i, start);
        start += case.lengths[i];
        if r.states[i] != FitState::Converged {
            failures.push(format!("fit {i}: {}", r.states[i]));
            continue;
        }
        iters += u64::from(r.iterations[i]);
        let got = r.params_of(i);
        let e = (0..p).map(|j| rel(got[j], want[j])).fold(0.0, f64::max);
        let cov = r.covariance_of(i).unwrap();
        // Covariances relative to the standard errors: |ΔC_jl| / sqrt(C_jj C_ll).
        let ec = (0..p * p)
            .filter(|&e| want_cov[e] != 0.0)
            .map(|e| {
                let (j, l) = (e / p, e % p);
                (cov[e] - want_cov[e]).abs() / (want_cov[j * p + j] * want_cov[l * p + l]).sqrt()
            })
            .fold(0.0, f64::max);
        if e > 1e-8 || ec > 1e-6 || !e.is_finite() || !ec.is_finite() {
            failures.push(format!(
                "fit {i}: params {got:?} vs {want:?} (rel {e:.1e}), cov rel {ec:.1e}"
            ));
        }
        worst = worst.max(e);
        worst_cov = worst_cov.max(ec);
    }
    println!(
        "{} on {:?}: {} fits, worst relative difference {worst:.1e} (params) {worst_cov:.1e} (covariance), {:.1} iterations on average; batch {batch_s:.3} s, single fits {:.3} s ({})",
        case.name,
        r.backend,
        case.n_fits(),
        iters as f64 / case.n_fits() as f64,
        t.elapsed().as_secs_f64(),
        r.reason,
    );
    if !failures.is_empty() {
        println!(
            "{}: {} of {} fits differ:\n{}",
            case.name,
            failures.len(),
            case.n_fits(),
            failures[..failures.len().min(10)].join("\n")
        );
    }
    failures.len()
}

/// The 10,000 problems of [`acceptance_cases`], their count checked.
pub fn ten_thousand_cases() -> Vec<Case> {
    let cases = acceptance_cases();
    assert_eq!(cases.iter().map(Case::n_fits).sum::<usize>(), 10_000);
    cases
}

/// The same per-fit states.
pub fn assert_equal_states(what: &str, cpu: &BatchResult, dev: &BatchResult) {
    assert_eq!(cpu.states, dev.states, "{what}");
}

/// The same states, and identical parameters and NaN patterns where a fit never started.
pub fn assert_same_states(what: &str, cpu: &BatchResult, dev: &BatchResult) {
    assert_eq!(cpu.states, dev.states, "{what}: states");
    let p = cpu.n_params;
    for i in 0..cpu.n_fits {
        if matches!(cpu.states[i], FitState::InvalidInput | FitState::NonFinite) {
            let bits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(cpu.params_of(i)),
                bits(dev.params_of(i)),
                "{what}: fit {i} keeps p0"
            );
            assert!(dev.chi2[i].is_nan(), "{what}: fit {i}");
        }
        if let (Some(a), Some(b)) = (cpu.covariance_of(i), dev.covariance_of(i)) {
            for e in 0..p * p {
                assert_eq!(
                    a[e].is_nan(),
                    b[e].is_nan(),
                    "{what}: fit {i} covariance {e}"
                );
                assert_eq!(a[e] == 0.0, b[e] == 0.0, "{what}: fit {i} covariance {e}");
            }
        }
    }
}
