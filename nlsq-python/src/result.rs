//! [`PyFitResult`]: the runtime's [`FitResult`] of one fit, read by `nlsq_rs.FitResult`.

use crate::errors::bad;
use nlsq_runtime::FitResult;
use nlsq_runtime::result::ParamKind;
use numpy::{PyArray1, PyArray2, PyArrayMethods};
use pyo3::prelude::*;

/// The result of [`fit`](crate::fit::fit): the runtime's `FitResult`.
#[pyclass(module = "nlsq_rs._native", name = "NativeFitResult", frozen)]
pub struct PyFitResult {
    pub(crate) inner: FitResult,
}

#[pymethods]
impl PyFitResult {
    /// Best-fit parameters.
    #[getter]
    fn popt<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.popt)
    }
    /// Covariance of the parameters (`P x P`).
    #[getter]
    fn pcov<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let p = self.inner.popt.len();
        let flat: Vec<f64> = self.inner.pcov.iter().flatten().copied().collect();
        PyArray1::from_vec(py, flat).reshape([p, p])
    }
    /// Standard errors.
    #[getter]
    fn perr<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.perr)
    }
    /// 95% confidence intervals, `(P, 2)`.
    #[getter]
    fn ci95<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let flat: Vec<f64> = self.inner.ci95.iter().flat_map(|(a, b)| [*a, *b]).collect();
        PyArray1::from_vec(py, flat).reshape([self.inner.ci95.len(), 2])
    }
    /// Active bounds per parameter (-1 lower, 1 upper, 0 free).
    #[getter]
    fn active_mask<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i8>> {
        PyArray1::from_slice(py, &self.inner.active_mask)
    }
    /// Each parameter's kind: `"free"`, `"fixed"`, or `"tied: EXPR"` with its expression.
    #[getter]
    fn param_kinds(&self) -> Vec<String> {
        (0..self.inner.param_names.len())
            .map(|j| match self.inner.param_kind(j) {
                ParamKind::Free => "free".to_string(),
                ParamKind::Fixed => "fixed".to_string(),
                ParamKind::Tied { expr } => format!("tied: {expr}"),
            })
            .collect()
    }
    /// Parameter names.
    #[getter]
    fn param_names(&self) -> Vec<String> {
        self.inner.param_names.clone()
    }
    /// scipy's status code.
    #[getter]
    fn status(&self) -> i32 {
        self.inner.status.code()
    }
    /// The solver's stopping message.
    #[getter]
    fn message(&self) -> String {
        self.inner.message.clone()
    }
    /// Whether the solver converged.
    #[getter]
    fn success(&self) -> bool {
        self.inner.success
    }
    /// Where the passes ran, and why.
    #[getter]
    fn backend(&self) -> String {
        self.inner.backend.clone()
    }
    /// Where the data lived (in memory, chunked, ...), and why.
    #[getter]
    fn data_plan(&self) -> String {
        self.inner.data_plan.to_string()
    }
    /// The method used.
    #[getter]
    fn method(&self) -> String {
        self.inner.method.to_string()
    }
    /// The loss used.
    #[getter]
    fn loss(&self) -> String {
        self.inner.loss.to_string()
    }
    /// Whether the covariance could not be estimated (then `pcov` holds infinities).
    #[getter]
    fn covariance_indeterminate(&self) -> bool {
        self.inner.covariance_indeterminate
    }
    /// Why the covariance could not be estimated, in words.
    #[getter]
    fn covariance_issue(&self) -> Option<String> {
        self.inner.covariance_issue.as_ref().map(|c| c.to_string())
    }
    /// Scalar statistics, by name (cost, chi2, reduced_chi2, r_squared, rmse, aic, bic,
    /// optimality, f_scale, wall_time_s, sum_rho).
    fn stat(&self, name: &str) -> PyResult<f64> {
        let r = &self.inner;
        Ok(match name {
            "cost" => r.cost,
            "sum_rho" => r.sum_rho,
            "chi2" => r.chi2,
            "reduced_chi2" => r.reduced_chi2,
            "r_squared" => r.r_squared,
            "rmse" => r.rmse,
            "aic" => r.aic,
            "bic" => r.bic,
            "optimality" => r.optimality,
            "f_scale" => r.f_scale,
            "wall_time_s" => r.wall_time_s,
            _ => return Err(bad(format!("no statistic {name:?}"))),
        })
    }
    /// Counts by name (n_points, n_omitted, dof, nfev, njev, iterations).
    fn count(&self, name: &str) -> PyResult<usize> {
        let r = &self.inner;
        Ok(match name {
            "n_points" => r.n_points,
            "n_omitted" => r.n_omitted,
            "dof" => r.dof,
            "nfev" => r.nfev,
            "njev" => r.njev,
            "iterations" => r.iterations,
            _ => return Err(bad(format!("no count {name:?}"))),
        })
    }
    /// The runtime's JSON report of the fit.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| bad(e.to_string()))
    }
    /// The runtime's summary table.
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
}
