//! The CPU backend of batch fitting: fits in parallel on rayon's pool, each by the per-fit LM
//! of [`super::lm`], evaluating the model in f64.

use super::lm::{self, FitObjective, LmSettings, Workspace, point_terms};
use super::problem::{FitView, Problem};
use super::result::FitState;
use super::{Estimator, Outputs};
use crate::backend::blocks::PointBlocks;
use crate::block::BLOCK;
use crate::model::Model;
use rayon::prelude::*;

/// Fits per rayon task: large enough to amortise the hand-off, small enough to balance.
const FITS_PER_TASK: usize = 64;

/// One fit's data as an [`FitObjective`].
struct FitData<'m, 'v, M: Model + ?Sized> {
    model: &'m M,
    view: &'v FitView<'v>,
    estimator: Estimator,
    /// Hessian weights `1/f` (the Fisher information) instead of Gpufit's `y/f²`.
    fisher: bool,
    /// The fit's predictors in blocks.
    points: &'v PointBlocks,
    value: [f64; BLOCK],
    block_grad: Vec<[f64; BLOCK]>,
    grad: Vec<f64>,
}

impl<M: Model + ?Sized> FitObjective for FitData<'_, '_, M> {
    fn evaluate(&mut self, p: &[f64], g: &mut [f64], h: &mut [f64]) -> f64 {
        let np = p.len();
        g.iter_mut().for_each(|v| *v = 0.0);
        h.iter_mut().for_each(|v| *v = 0.0);
        let FitData {
            model,
            view,
            estimator,
            fisher,
            points,
            value,
            block_grad,
            grad,
            ..
        } = self;
        let mut chi2 = 0.0;
        let mut bad = false;
        points.for_each(|start, len, x| {
            model.eval_with_gradient_block(x, p, value, block_grad);
            for (i, &f) in value[..len].iter().enumerate() {
                let at = start + i;
                let w = view.weights.map_or(1.0, |w| w[at]);
                let Some((c, gw, mut hw)) = point_terms(*estimator, f, view.y.get(at), w) else {
                    bad = true;
                    return;
                };
                if *fisher {
                    hw = 1.0 / f;
                }
                chi2 += c;
                for (gj, col) in grad.iter_mut().zip(block_grad.iter()) {
                    *gj = col[i];
                }
                for j in 0..np {
                    let gj = grad[j];
                    g[j] += gw * gj;
                    let hj = hw * gj;
                    for l in j..np {
                        h[j * np + l] += hj * grad[l];
                    }
                }
            }
        });
        if bad {
            return f64::NAN;
        }
        for j in 0..np {
            for l in 0..j {
                h[j * np + l] = h[l * np + j];
            }
        }
        if g.iter().chain(h.iter()).all(|v| v.is_finite()) {
            chi2
        } else {
            f64::NAN
        }
    }
}

/// Per-thread buffers, reused from fit to fit.
#[derive(Default)]
struct Scratch {
    lm: Workspace,
    lower: Vec<f64>,
    upper: Vec<f64>,
    fixed: Vec<bool>,
    points: PointBlocks,
    block_grad: Vec<[f64; BLOCK]>,
    grad: Vec<f64>,
}

/// One fit's result, before it is written into the flat outputs.
struct One {
    state: FitState,
    chi2: f64,
    iterations: u32,
}

fn fit_one<M: Model + ?Sized>(
    model: &M,
    problem: &Problem<'_>,
    settings: LmSettings,
    i: usize,
    params: &mut [f64],
    cov: Option<&mut [f64]>,
    s: &mut Scratch,
) -> One {
    let view = problem.view(i);
    let p = problem.n_params;
    params.copy_from_slice(view.p0);
    let nan_cov = |cov: Option<&mut [f64]>| {
        if let Some(c) = cov {
            c.iter_mut().for_each(|v| *v = f64::NAN);
        }
    };
    if let Some(state) = view.check(problem.estimator) {
        nan_cov(cov);
        return One {
            state,
            chi2: f64::NAN,
            iterations: 0,
        };
    }
    s.lower.clear();
    s.upper.clear();
    s.fixed.clear();
    match view.lower {
        Some(l) => s.lower.extend_from_slice(l),
        None => s.lower.resize(p, f64::NEG_INFINITY),
    }
    match view.upper {
        Some(u) => s.upper.extend_from_slice(u),
        None => s.upper.resize(p, f64::INFINITY),
    }
    match view.fixed {
        Some(f) => s.fixed.extend_from_slice(f),
        None => s.fixed.resize(p, false),
    }
    s.points.load(view.x, problem.n_inputs, view.y.len());
    let mut obj = FitData {
        model,
        view: &view,
        estimator: problem.estimator,
        fisher: false,
        points: &s.points,
        value: [0.0; BLOCK],
        block_grad: std::mem::take(&mut s.block_grad),
        grad: std::mem::take(&mut s.grad),
    };
    obj.block_grad.resize(p, [0.0; BLOCK]);
    obj.grad.resize(p, 0.0);
    let ws = &mut s.lm;
    let out = lm::solve(&mut obj, params, &s.lower, &s.upper, &s.fixed, settings, ws);
    if let Some(c) = cov {
        let usable = matches!(out.state, FitState::Converged | FitState::MaxIterations);
        let n = view.y.len();
        let n_free = ws.free().len();
        let ok = usable
            && match problem.estimator {
                Estimator::Lse => {
                    // scipy's default: scaled by the residual variance χ²/(n - free);
                    // unavailable without residual degrees of freedom.
                    let free = ws.free().to_vec();
                    n > n_free
                        && lm::inverse_free(
                            ws.hessian(),
                            p,
                            &free,
                            out.chi2 / (n - n_free) as f64,
                            c,
                        )
                }
                Estimator::PoissonMle => {
                    // The inverse Fisher information Σ ∇f ∇fᵀ / f at the result.
                    obj.fisher = true;
                    let (mut g, mut h) = (vec![0.0; p], vec![0.0; p * p]);
                    obj.evaluate(params, &mut g, &mut h).is_finite()
                        && lm::inverse_free(&h, p, ws.free(), 1.0, c)
                }
            };
        if !ok {
            nan_cov(Some(c));
        }
    }
    s.block_grad = obj.block_grad;
    s.grad = obj.grad;
    One {
        state: out.state,
        chi2: out.chi2,
        iterations: out.iterations,
    }
}

/// Runs every fit of `problem` on the CPU, writing into `out`.
pub(crate) fn run<M: Model + ?Sized>(
    model: &M,
    problem: &Problem<'_>,
    settings: LmSettings,
    out: &mut Outputs,
) {
    let p = problem.n_params;
    let pp = p * p;
    let chunks = problem.n_fits.div_ceil(FITS_PER_TASK);
    let with_cov = out.covariance.is_some();
    // Without covariances, one placeholder element per task keeps the zipped chunks aligned.
    let mut placeholder = Vec::new();
    let (cov, cov_chunk) = match out.covariance.as_mut() {
        Some(c) => (c.as_mut_slice(), FITS_PER_TASK * pp),
        None => {
            placeholder.resize(chunks, 0.0);
            (placeholder.as_mut_slice(), 1)
        }
    };
    out.params
        .par_chunks_mut(FITS_PER_TASK * p)
        .zip(cov.par_chunks_mut(cov_chunk))
        .zip(out.states.par_chunks_mut(FITS_PER_TASK))
        .zip(out.chi2.par_chunks_mut(FITS_PER_TASK))
        .zip(out.iterations.par_chunks_mut(FITS_PER_TASK))
        .enumerate()
        .for_each_init(
            Scratch::default,
            |ws, (c, ((((params, cov), states), chi2), iters))| {
                for local in 0..states.len() {
                    let one = fit_one(
                        model,
                        problem,
                        settings,
                        c * FITS_PER_TASK + local,
                        &mut params[local * p..(local + 1) * p],
                        with_cov.then(|| &mut cov[local * pp..(local + 1) * pp]),
                        ws,
                    );
                    states[local] = one.state;
                    chi2[local] = one.chi2;
                    iters[local] = one.iterations;
                }
            },
        );
}
