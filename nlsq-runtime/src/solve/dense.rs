//! An [`Objective`] from a plain residual function and its Jacobian: for solver tests and for
//! problems small enough that forming `J` is free.

use super::{Objective, Pass};
use crate::error::FitError;
use nalgebra::{DMatrix, DVector};

/// Residuals `r(p)` (length `m`) and the Jacobian `J(p)` (`m × P`), with the plain
/// least-squares cost `½‖r‖²`.
pub struct DenseObjective<F>
where
    F: FnMut(&[f64]) -> (DVector<f64>, DMatrix<f64>),
{
    n_params: usize,
    f: F,
}

impl<F> DenseObjective<F>
where
    F: FnMut(&[f64]) -> (DVector<f64>, DMatrix<f64>),
{
    /// An objective over `n_params` parameters from `f(p) = (r, J)`.
    pub fn new(n_params: usize, f: F) -> Self {
        DenseObjective { n_params, f }
    }
}

impl<F> Objective for DenseObjective<F>
where
    F: FnMut(&[f64]) -> (DVector<f64>, DMatrix<f64>),
{
    fn n_params(&self) -> usize {
        self.n_params
    }

    fn pass(&mut self, p: &[f64]) -> Result<Pass, FitError> {
        let (r, j) = (self.f)(p);
        let nonfinite = (0..r.len())
            .filter(|&i| !r[i].is_finite() || j.row(i).iter().any(|v| !v.is_finite()))
            .count();
        let rows: Vec<usize> = (0..r.len())
            .filter(|&i| r[i].is_finite() && j.row(i).iter().all(|v| v.is_finite()))
            .collect();
        let jf = j.select_rows(&rows);
        let rf = r.select_rows(&rows);
        let cost = if nonfinite > 0 {
            f64::INFINITY
        } else {
            0.5 * rf.norm_squared()
        };
        Ok(Pass {
            cost,
            jtj: jf.transpose() * &jf,
            gradient: jf.transpose() * &rf,
            n_points: rows.len() as u64,
            n_nonfinite: nonfinite as u64,
        })
    }
}
