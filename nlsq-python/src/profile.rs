//! [`conf_interval`]: the runtime's profile-likelihood interval of one parameter, each refit
//! done by a Python function (`nlsq_rs.FitResult.conf_interval` passes one that calls
//! [`fit`](crate::fit::fit) with the fit's own data and options).

use crate::errors::bad;
use crate::model::PyModel;
use crate::result::PyFitResult;
use nlsq_runtime::FitResult;
use nlsq_runtime::conf_interval::{ProfileError, Refit};
use pyo3::prelude::*;

/// The 95% profile-likelihood interval of the free parameter `name` of `result`, a fit of
/// `model` (`nlsq_runtime::conf_interval`). `refit(values, index)` fits again with parameter
/// `index` fixed at `values[index]`, starting from `values` (every parameter), and returns
/// the `NativeFitResult`; an exception it raises is raised here. Returns `(value, lower,
/// upper, chi2_min, threshold)`.
#[pyfunction]
pub fn conf_interval(
    model: PyRef<'_, PyModel>,
    result: PyRef<'_, PyFitResult>,
    name: &str,
    refit: &Bound<'_, PyAny>,
) -> PyResult<(f64, f64, f64, f64, f64)> {
    let once = |step: &Refit<'_>| -> PyResult<FitResult> {
        let out = refit.call1((step.values.to_vec(), step.index))?;
        let fit = out.cast::<PyFitResult>().map_err(PyErr::from)?;
        Ok(fit.get().inner.clone())
    };
    match nlsq_runtime::conf_interval::conf_interval(
        &model.resolved.model,
        &result.inner,
        name,
        once,
    ) {
        Ok(ci) => Ok((ci.value, ci.lower, ci.upper, ci.chi2_min, ci.threshold)),
        Err(ProfileError::Fit(e)) => Err(match e.downcast::<PyErr>() {
            Ok(py_err) => *py_err,
            Err(other) => bad(other.to_string()),
        }),
        Err(e) => Err(bad(e.to_string())),
    }
}
