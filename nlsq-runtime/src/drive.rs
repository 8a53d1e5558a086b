//! Running a solver: the first pass checked for finiteness (naming the model and the first
//! bad point), then handed to the solver so that it is not computed twice.

use crate::error::FitError;
use crate::model::Model;
use crate::result::Method;
use crate::solve::{self, Objective, SolverOptions, SolverOutput};

pub(crate) fn run<M: Model>(
    obj: &mut dyn Objective,
    model: &M,
    p0: &[f64],
    options: &SolverOptions,
    method: Method,
    callback: Option<solve::Callback<'_>>,
    first_bad: impl Fn(&[f64]) -> usize,
) -> Result<SolverOutput, FitError> {
    let start = obj.pass(p0)?;
    if !start.is_finite() {
        return Err(FitError::NonFiniteModelAtP0 {
            model: model.name().to_string(),
            count: start.n_nonfinite.max(1) as usize,
            points: (start.n_points + start.n_nonfinite) as usize,
            first: first_bad(p0),
        });
    }
    tracing::debug!(model = model.name(), %method, cost = start.cost, "starting fit");
    // The solvers begin with a pass at p0: hand them this one instead of a second pass.
    let mut obj = FirstPass {
        inner: obj,
        first: Some((p0.to_vec(), start)),
    };
    match method {
        Method::Lm => solve::lm::solve(&mut obj, p0, options, callback),
        Method::Trf => solve::trf::solve(&mut obj, p0, options, callback),
        Method::Dogbox => solve::dogbox::solve(&mut obj, p0, options, callback),
    }
}

/// Serves one already computed pass, once, when it is asked for at the same parameters.
pub(crate) struct FirstPass<'o> {
    pub(crate) inner: &'o mut dyn Objective,
    pub(crate) first: Option<(Vec<f64>, solve::Pass)>,
}

impl Objective for FirstPass<'_> {
    fn n_params(&self) -> usize {
        self.inner.n_params()
    }

    fn pass(&mut self, p: &[f64]) -> Result<solve::Pass, FitError> {
        match self.first.take() {
            Some((q, pass)) if q == p => Ok(pass),
            _ => self.inner.pass(p),
        }
    }
}
