//! [`PyFitResult`]: the runtime's [`FitResult`] of one fit, read by `nlsq_rs.FitResult`.

use crate::arrays::{columns, opt_slice};
use crate::errors::bad;
use crate::model::PyModel;
use nlsq_runtime::result::ParamKind;
use nlsq_runtime::{Bands, FitResult, Model};
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
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
    pub(crate) fn popt<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.popt)
    }
    /// Covariance of the parameters (`P x P`).
    #[getter]
    pub(crate) fn pcov<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let p = self.inner.popt.len();
        let flat: Vec<f64> = self.inner.pcov.iter().flatten().copied().collect();
        PyArray1::from_vec(py, flat).reshape([p, p])
    }
    /// A global fit's datasets: `(label, model, n_points, cost, params)` each, `params` the
    /// index of each of its model's parameters among the global ones (empty for one dataset).
    #[getter]
    fn datasets(&self) -> Vec<(String, String, usize, f64, Vec<usize>)> {
        self.inner
            .datasets
            .iter()
            .map(|d| {
                let p = d.params.clone();
                (d.label.clone(), d.model.clone(), d.n_points, d.cost, p)
            })
            .collect()
    }
    /// Correlation matrix of the parameters (`P x P`; NaN rows for fixed or undetermined
    /// parameters).
    #[getter]
    fn correlation<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let p = self.inner.popt.len();
        let flat: Vec<f64> = self.inner.correlation().into_iter().flatten().collect();
        PyArray1::from_vec(py, flat).reshape([p, p])
    }
    /// The fitted curve of `model` (the fit's model) at the predictors `x` (`(K, M)`) with
    /// its 95% bands (the runtime's `Bands`): a `(7, M)` array of the value, the standard
    /// errors of the curve and of a new observation, the confidence band's lower and upper
    /// edges and the prediction band's. `sigma` (`(M,)`): each new observation's sigma,
    /// relative or absolute as the fit's was (1 when not given).
    #[pyo3(signature = (model, x, sigma=None))]
    fn bands<'py>(
        &self,
        py: Python<'py>,
        model: PyRef<'py, PyModel>,
        x: PyReadonlyArray2<'py, f64>,
        sigma: Option<PyReadonlyArray1<'py, f64>>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let m = &model.resolved.model;
        let mut bands = Bands::new(m, &self.inner).map_err(|e| bad(e.to_string()))?;
        let cols = columns(&x)?;
        let n = cols.first().map_or(0, |c| c.len());
        if cols.len() != m.n_inputs() {
            return Err(bad(format!(
                "x has {} rows, the model has {} predictors",
                cols.len(),
                m.n_inputs()
            )));
        }
        let sigma = opt_slice(&sigma, "sigma")?;
        if sigma.is_some_and(|s| s.len() != n) {
            return Err(bad(format!("sigma must have one value per point ({n})")));
        }
        let out = py.detach(|| {
            let mut out = vec![0.0; 7 * n];
            let mut xs = vec![0.0; cols.len()];
            for i in 0..n {
                for (v, c) in xs.iter_mut().zip(&cols) {
                    *v = c[i];
                }
                let b = bands.at_sigma(&xs, sigma.map_or(1.0, |s| s[i]));
                let (c, p) = (b.confidence, b.prediction);
                for (k, v) in [b.value, b.se_fit, b.se_obs, c.0, c.1, p.0, p.1]
                    .into_iter()
                    .enumerate()
                {
                    out[k * n + i] = v;
                }
            }
            out
        });
        PyArray1::from_vec(py, out).reshape([7, n])
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
    /// Whether sigma was absolute.
    #[getter]
    fn absolute_sigma(&self) -> bool {
        self.inner.absolute_sigma
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
    /// What a multi-start search found, or `None`: `(starts, seed, finite_starts, rounds,
    /// solves, k_passes, vectors, minima)`, each minimum `(params, cost, starts, start,
    /// status)` (the runtime's `SearchReport` and `Minimum`; `status` is scipy's code).
    #[getter]
    #[allow(clippy::type_complexity)]
    fn search(
        &self,
    ) -> Option<(
        usize,
        u32,
        usize,
        usize,
        usize,
        usize,
        usize,
        Vec<(Vec<f64>, f64, usize, usize, i32)>,
    )> {
        self.inner.search.as_ref().map(|s| {
            let minima = s
                .minima
                .iter()
                .map(|m| (m.params.clone(), m.cost, m.starts, m.start, m.status.code()))
                .collect();
            (
                s.starts,
                s.seed,
                s.finite_starts,
                s.rounds,
                s.solves,
                s.k_passes,
                s.vectors,
                minima,
            )
        })
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
