//! The state of each solver before its first iteration (a resumed solve starts from a saved
//! [`super::state::SolverState`] instead).

use super::Objective;
use super::bounds::{cl_scaling_vector, make_strictly_feasible, norm, norm_inf};
use super::initial_pass;
use super::lm::check_pass;
use super::state::{DogboxState, LmState, TrfState};
use super::trust_region::jac_scale;
use crate::error::FitError;

/// Levenberg–Marquardt: the pass at `x0` (with at least `P` points); `D`, `Δ` and `‖D x‖` are
/// set by the first iteration.
pub(super) fn lm(obj: &mut dyn Objective, x0: &[f64]) -> Result<LmState, FitError> {
    let n = x0.len();
    let pass = initial_pass(obj, x0)?;
    check_pass(&pass, n)?;
    if (pass.n_points as usize) < n {
        return Err(FitError::TooFewPoints {
            points: pass.n_points as usize,
            params: n,
        });
    }
    Ok(LmState {
        x: x0.to_vec(),
        pass,
        nfev: 1,
        njev: 1,
        nit: 0,
        diag: vec![1.0; n],
        delta: 0.0,
        xnorm: 0.0,
        par: 0.0,
        first: true,
    })
}

/// The fixed scales and their inverses, or `'jac'` scaling from the first pass.
fn scales(fixed: Option<Vec<f64>>, jtj: &nalgebra::DMatrix<f64>) -> (Vec<f64>, Vec<f64>) {
    match fixed {
        Some(s) => {
            let inv = s.iter().map(|v| 1.0 / v).collect();
            (s, inv)
        }
        None => jac_scale(jtj, None),
    }
}

/// Trust region reflective: `x0` made strictly feasible as scipy does (`rstep = 1e-10`), the
/// pass there, the scaling and scipy's initial radius: the norm of the scaled `x0` (with the
/// Coleman–Li vector when bounded), 1 when that is zero.
pub(super) fn trf(
    obj: &mut dyn Objective,
    x0: &[f64],
    fixed_scale: Option<Vec<f64>>,
    lb: &[f64],
    ub: &[f64],
    bounded: bool,
) -> Result<TrfState, FitError> {
    let n = x0.len();
    let x = make_strictly_feasible(x0, lb, ub, 1e-10);
    let pass = initial_pass(obj, &x)?;
    let (scale, scale_inv) = scales(fixed_scale, &pass.jtj);
    let delta = if bounded {
        let (mut v, dv) = cl_scaling_vector(&x, pass.gradient.as_slice(), lb, ub);
        for j in 0..n {
            if dv[j] != 0.0 {
                v[j] *= scale_inv[j];
            }
        }
        norm(
            &(0..n)
                .map(|j| x[j] * scale_inv[j] / v[j].sqrt())
                .collect::<Vec<_>>(),
        )
    } else {
        norm(&(0..n).map(|j| x[j] * scale_inv[j]).collect::<Vec<_>>())
    };
    Ok(TrfState {
        x,
        pass,
        nfev: 1,
        njev: 1,
        nit: 0,
        scale,
        scale_inv,
        delta: if delta == 0.0 { 1.0 } else { delta },
        alpha: 0.0,
    })
}

/// Dogbox: the pass at `x0`, the scaling, scipy's initial radius (`‖x0 / scale‖∞`, 1 when
/// zero) and the variables `x0` puts on a bound.
pub(super) fn dogbox(
    obj: &mut dyn Objective,
    x0: &[f64],
    fixed_scale: Option<Vec<f64>>,
    lb: &[f64],
    ub: &[f64],
) -> Result<DogboxState, FitError> {
    let n = x0.len();
    let pass = initial_pass(obj, x0)?;
    let (scale, scale_inv) = scales(fixed_scale, &pass.jtj);
    let delta = norm_inf(&(0..n).map(|j| x0[j] * scale_inv[j]).collect::<Vec<_>>());
    let on_bound = (0..n)
        .map(|j| {
            if x0[j] == lb[j] {
                -1
            } else if x0[j] == ub[j] {
                1
            } else {
                0
            }
        })
        .collect();
    Ok(DogboxState {
        x: x0.to_vec(),
        pass,
        nfev: 1,
        njev: 1,
        nit: 0,
        scale,
        scale_inv,
        delta: if delta == 0.0 { 1.0 } else { delta },
        on_bound,
    })
}
