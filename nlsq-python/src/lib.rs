#![warn(missing_docs)]
//! `nlsq_rs._native`: the Rust half of the `nlsq_rs` Python package.
//!
//! The Python half (`python/nlsq_rs`) handles scipy's argument conventions, translates Python
//! functions into the model language and wraps the results; this module compiles models
//! ([`PyModel`], cached by text), runs fits ([`fit`]) and batch fits ([`batch_fit`]) with the
//! GIL released, stops a fit on Ctrl-C, and turns the runtime's errors into the exceptions of
//! `nlsq_rs._errors`.

pub mod fallback;
pub mod options;

use fallback::CallableModel;

use nlsq_runtime::batch::BatchFit;
use nlsq_runtime::library::{self, ResolveError, Resolved};
use nlsq_runtime::{CurveFit, ExprModel, FitError, FitResult, Model};
use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

/// The exception class `name` of `nlsq_rs._errors`, raised with `msg`.
fn py_error(py: Python<'_>, name: &str, msg: String) -> PyErr {
    let class = py
        .import("nlsq_rs._errors")
        .and_then(|m| m.getattr(name))
        .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
    match class {
        Ok(c) => PyErr::from_type(c, msg),
        Err(e) => e,
    }
}

/// The Python exception for a runtime error: bad input is a `ValueError` (`InvalidInputError`),
/// device trouble a `BackendError`, numerical trouble a `NumericalError`.
fn fit_error(py: Python<'_>, e: &FitError) -> PyErr {
    let class = match e {
        FitError::EmptyData
        | FitError::LengthMismatch { .. }
        | FitError::TooFewPoints { .. }
        | FitError::NonFiniteData { .. }
        | FitError::BadBounds { .. }
        | FitError::NonFiniteP0 { .. }
        | FitError::BadSigma(_)
        | FitError::InvalidOption { .. } => "InvalidInputError",
        FitError::NonFiniteModelAtP0 { .. } | FitError::SumsOverflow { .. } => "NumericalError",
        FitError::Backend { .. } => "BackendError",
        _ => "FitError",
    };
    py_error(py, class, e.to_string())
}

/// A bad option name or value: `ValueError`.
fn bad(msg: String) -> PyErr {
    PyValueError::new_err(msg)
}

/// Compiled models by (text, parameter names): compiling is the slow part of a small fit.
type Cache = Vec<((String, Option<Vec<String>>), Arc<Resolved>)>;
static CACHE: Mutex<Cache> = Mutex::new(Vec::new());
/// Models kept in [`CACHE`].
const CACHE_SIZE: usize = 128;

/// A compiled model: a model-language expression or a model-library name or sum.
#[pyclass(module = "nlsq_rs._native", name = "Model", frozen)]
pub struct PyModel {
    resolved: Arc<Resolved>,
    spec: String,
    name: String,
}

#[pymethods]
impl PyModel {
    /// Compiles `spec`: with `params`, an expression whose parameters are `params` in that
    /// order; without, a library name or sum, or an expression (parameters in order of first
    /// appearance). `name` is how reports name the model (default: `spec`).
    #[new]
    #[pyo3(signature = (spec, params=None, name=None))]
    fn new(
        py: Python<'_>,
        spec: String,
        params: Option<Vec<String>>,
        name: Option<String>,
    ) -> PyResult<Self> {
        let name = name.unwrap_or_else(|| spec.clone());
        let key = (spec.clone(), params.clone());
        if let Ok(cache) = CACHE.lock()
            && let Some((_, r)) = cache.iter().find(|(k, _)| *k == key)
        {
            return Ok(PyModel {
                resolved: r.clone(),
                spec,
                name,
            });
        }
        let resolved = py
            .detach(|| compile(&spec, params.as_deref()))
            .map_err(|e| py_error(py, "ModelError", e))?;
        let resolved = Arc::new(resolved);
        if let Ok(mut cache) = CACHE.lock() {
            if cache.len() >= CACHE_SIZE {
                cache.remove(0);
            }
            cache.push((key, resolved.clone()));
        }
        Ok(PyModel {
            resolved,
            spec,
            name,
        })
    }

    /// The model text as given.
    #[getter]
    fn spec(&self) -> &str {
        &self.spec
    }

    /// How reports name the model.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The parameter names, in order.
    #[getter]
    fn param_names(&self) -> Vec<String> {
        self.resolved.names.clone()
    }

    /// The number of predictors (components of `x`).
    #[getter]
    fn n_inputs(&self) -> usize {
        self.resolved.model.n_inputs()
    }

    /// Whether the model comes from the model library (and can estimate p0).
    #[getter]
    fn is_library(&self) -> bool {
        self.resolved.library.is_some()
    }

    /// The model-language expression that was compiled.
    #[getter]
    fn expression(&self) -> String {
        match &self.resolved.library {
            Some(c) => c.expr().to_string(),
            None => self.spec.clone(),
        }
    }

    /// Starting values estimated from data, for a library model (`x`: `(K, N)`).
    fn estimate_p0(
        &self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f64>,
        y: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<Vec<f64>> {
        let Some(c) = &self.resolved.library else {
            return Err(bad(format!(
                "`{}` is not a library model: give p0",
                self.spec
            )));
        };
        let cols = columns(&x)?;
        let y = y.as_slice().map_err(|e| bad(e.to_string()))?;
        c.estimate_p0(&cols, y)
            .map_err(|e| py_error(py, "ModelError", format!("automatic p0: {e}; give p0")))
    }

    /// The model at parameters `p` for predictors `x` (`(K, N)`).
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
        p: Vec<f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let m = &self.resolved.model;
        if p.len() != m.n_params() {
            return Err(bad(format!(
                "{} parameters given, the model has {}",
                p.len(),
                m.n_params()
            )));
        }
        let cols = columns(&x)?;
        if cols.len() != m.n_inputs() {
            return Err(bad(format!(
                "x has {} rows, the model has {} predictors",
                cols.len(),
                m.n_inputs()
            )));
        }
        let n = cols.first().map_or(0, |c| c.len());
        let out = py.detach(|| {
            let mut xs = vec![0.0; cols.len()];
            (0..n)
                .map(|i| {
                    for (v, c) in xs.iter_mut().zip(&cols) {
                        *v = c[i];
                    }
                    m.eval(&xs, &p)
                })
                .collect::<Vec<f64>>()
        });
        Ok(PyArray1::from_vec(py, out))
    }

    fn __repr__(&self) -> String {
        format!("Model({:?}, params={:?})", self.spec, self.resolved.names)
    }
}

/// Compiles a model text (see [`PyModel::new`]).
fn compile(spec: &str, params: Option<&[String]>) -> Result<Resolved, String> {
    match params {
        None => library::resolve(spec).map_err(|e| match e {
            ResolveError::Library(e) => e.to_string(),
            ResolveError::Expression(e) => format!("model `{spec}`: {e}"),
        }),
        Some(names) => {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let model = ExprModel::parse_with_params(spec, &refs)
                .map_err(|e| format!("model `{spec}`: {e}"))?;
            Ok(Resolved {
                model,
                names: names.to_vec(),
                library: None,
            })
        }
    }
}

/// The rows of a C-contiguous `(K, N)` array, as column slices of K predictors.
fn columns<'a>(x: &'a PyReadonlyArray2<'_, f64>) -> PyResult<Vec<&'a [f64]>> {
    let shape = x.shape();
    let n = shape[1];
    let flat = x
        .as_slice()
        .map_err(|_| bad("x must be a C-contiguous float64 array".into()))?;
    if n == 0 {
        return Ok(vec![&flat[0..0]; shape[0]]);
    }
    Ok(flat.chunks(n).collect())
}

/// A contiguous 1-D view.
fn slice<'a>(a: &'a PyReadonlyArray1<'_, f64>, what: &str) -> PyResult<&'a [f64]> {
    a.as_slice()
        .map_err(|_| bad(format!("{what} must be a contiguous float64 array")))
}

/// The result of [`fit`]: the runtime's `FitResult`.
#[pyclass(module = "nlsq_rs._native", name = "NativeFitResult", frozen)]
pub struct PyFitResult {
    inner: FitResult,
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

/// A Python callable as a model (the fallback; see [`fallback`]): `evaluate(p)` gives the `N`
/// values, `jacobian(p)` the `N x P` derivatives.
#[pyclass(module = "nlsq_rs._native", name = "Callable", frozen)]
pub struct PyCallable {
    evaluate: Py<PyAny>,
    jacobian: Py<PyAny>,
    name: String,
    names: Vec<String>,
    n: usize,
}

#[pymethods]
impl PyCallable {
    /// A callable model of `n` points with parameters `names`.
    #[new]
    fn new(
        evaluate: Py<PyAny>,
        jacobian: Py<PyAny>,
        name: String,
        names: Vec<String>,
        n: usize,
    ) -> Self {
        PyCallable {
            evaluate,
            jacobian,
            name,
            names,
            n,
        }
    }

    /// The parameter names, in order.
    #[getter]
    fn param_names(&self) -> Vec<String> {
        self.names.clone()
    }
}

/// Every option of one fit, checked.
struct Options {
    p0: Vec<f64>,
    bounds: Option<(Vec<f64>, Vec<f64>)>,
    cov: Option<nalgebra::DMatrix<f64>>,
    absolute_sigma: bool,
    loss: nlsq_runtime::Loss,
    f_scale: f64,
    method: Option<nlsq_runtime::Method>,
    tols: [Option<f64>; 3],
    max_nfev: Option<usize>,
    x_scale: Option<Vec<f64>>,
    x_scale_jac: bool,
    nan_policy: nlsq_runtime::NanPolicy,
    backend: nlsq_runtime::Backend,
    precision: nlsq_runtime::Precision,
}

/// Runs the fit of `model` with the GIL released; returns the runtime's outcome and the
/// exception a signal handler raised (Ctrl-C), if one stopped the fit.
fn run<M: Model>(
    py: Python<'_>,
    model: &M,
    cols: &[&[f64]],
    y: &[f64],
    sigma: Option<&[f64]>,
    o: Options,
) -> (Result<FitResult, FitError>, Option<PyErr>) {
    let mut interrupt: Option<PyErr> = None;
    let result = py.detach(|| {
        let mut b = CurveFit::new(model)
            .p0(o.p0)
            .absolute_sigma(o.absolute_sigma)
            .loss(o.loss)
            .f_scale(o.f_scale)
            .nan_policy(o.nan_policy)
            .backend(o.backend)
            .precision(o.precision)
            .callback(|_| match Python::attach(|py| py.check_signals()) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    interrupt = Some(e);
                    ControlFlow::Break(())
                }
            });
        if let Some((l, u)) = o.bounds {
            b = b.bounds(l, u);
        }
        if let Some(s) = sigma {
            b = b.sigma(s);
        }
        if let Some(c) = o.cov {
            b = b.sigma_covariance(c);
        }
        if let Some(m) = o.method {
            b = b.method(m);
        }
        let [ftol, xtol, gtol] = o.tols;
        if let Some(v) = ftol {
            b = b.ftol(v);
        }
        if let Some(v) = xtol {
            b = b.xtol(v);
        }
        if let Some(v) = gtol {
            b = b.gtol(v);
        }
        if let Some(n) = o.max_nfev {
            b = b.max_nfev(n);
        }
        if let Some(s) = o.x_scale {
            b = b.x_scale(s);
        }
        if o.x_scale_jac {
            b = b.x_scale_jac();
        }
        b.fit(cols, y)
    });
    (result, interrupt)
}

/// Runs one fit with the GIL released. Arguments are already normalised by the Python side:
/// `x` is `(K, N)` C-contiguous float64, options are names or `None`. `model` is a [`PyModel`]
/// or, for the fallback, a [`PyCallable`] (then `x` is the point index `0..N`, and the fit
/// runs on the CPU).
#[pyfunction]
#[pyo3(signature = (model, x, y, p0, lower=None, upper=None, sigma=None, sigma_cov=None,
    absolute_sigma=false, loss="linear", f_scale=1.0, method=None, ftol=None, xtol=None,
    gtol=None, max_nfev=None, x_scale=None, x_scale_jac=false, nan_policy="raise",
    backend="auto", precision="f64"))]
#[allow(clippy::too_many_arguments)]
pub fn fit(
    py: Python<'_>,
    model: &Bound<'_, PyAny>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
    p0: Vec<f64>,
    lower: Option<Vec<f64>>,
    upper: Option<Vec<f64>>,
    sigma: Option<PyReadonlyArray1<'_, f64>>,
    sigma_cov: Option<PyReadonlyArray2<'_, f64>>,
    absolute_sigma: bool,
    loss: &str,
    f_scale: f64,
    method: Option<&str>,
    ftol: Option<f64>,
    xtol: Option<f64>,
    gtol: Option<f64>,
    max_nfev: Option<usize>,
    x_scale: Option<Vec<f64>>,
    x_scale_jac: bool,
    nan_policy: &str,
    backend: &str,
    precision: &str,
) -> PyResult<PyFitResult> {
    let cols = columns(&x)?;
    let y = slice(&y, "ydata")?;
    let sigma = sigma.as_ref().map(|s| slice(s, "sigma")).transpose()?;
    let cov = match &sigma_cov {
        Some(c) => {
            let [r, k] = [c.shape()[0], c.shape()[1]];
            let flat = c
                .as_slice()
                .map_err(|_| bad("sigma must be C-contiguous".into()))?;
            Some(nalgebra::DMatrix::from_row_slice(r, k, flat))
        }
        None => None,
    };
    let mut o = Options {
        p0,
        bounds: lower.zip(upper),
        cov,
        absolute_sigma,
        loss: options::loss(loss).map_err(bad)?,
        f_scale,
        method: options::method(method).map_err(bad)?,
        tols: [ftol, xtol, gtol],
        max_nfev,
        x_scale,
        x_scale_jac,
        nan_policy: options::nan_policy(nan_policy).map_err(bad)?,
        backend: options::backend(backend).map_err(bad)?,
        precision: options::precision(precision).map_err(bad)?,
    };
    let (result, interrupt, python_error) = if let Ok(m) = model.cast::<PyModel>() {
        let m = m.get();
        let em = &m.resolved.model;
        if cols.len() != em.n_inputs() {
            return Err(bad(format!(
                "xdata has {} predictor row(s), the model `{}` uses {}",
                cols.len(),
                m.name,
                em.n_inputs()
            )));
        }
        let (r, i) = run(py, em, &cols, y, sigma, o);
        (
            r.map(|mut r| {
                r.model.clone_from(&m.name);
                r
            }),
            i,
            None,
        )
    } else if let Ok(c) = model.cast::<PyCallable>() {
        let c = c.get();
        if !matches!(
            o.backend,
            nlsq_runtime::Backend::Auto | nlsq_runtime::Backend::Cpu
        ) {
            return Err(bad(format!(
                "`{}` is not translated into the model language: the fallback that calls it \
                 runs on the CPU only, not on backend {backend:?}",
                c.name
            )));
        }
        o.backend = nlsq_runtime::Backend::Cpu;
        let id = model.as_ptr() as usize as u64;
        let cm = Python::attach(|py| {
            CallableModel::new(
                c.name.clone(),
                c.names.clone(),
                c.n,
                c.evaluate.clone_ref(py),
                c.jacobian.clone_ref(py),
                id,
            )
        });
        let (r, i) = run(py, &cm, &cols, y, sigma, o);
        let r = r.map(|mut r| {
            r.backend = format!(
                "cpu (Python callable `{}`, not translated: vectorized calls, finite-difference \
                 or user Jacobian)",
                c.name
            );
            r
        });
        (r, i, cm.take_error())
    } else {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "model must be an nlsq_rs._native.Model or Callable",
        ));
    };
    // Ctrl-C (KeyboardInterrupt), or whatever a signal handler raised, as it is; then an
    // exception of the user's Python model function.
    if let Some(e) = interrupt.or(python_error) {
        return Err(e);
    }
    match result {
        Ok(inner) => Ok(PyFitResult { inner }),
        Err(e) => Err(fit_error(py, &e)),
    }
}

/// Runs a batch of fits with the GIL released; returns a dict of numpy arrays. `y` is flat,
/// fit after fit; `lengths` per fit or `equal` for all; `x_shared` or `x_per_point` are
/// point-major predictors; per-fit arrays are flat, `P` or `n_fits * P` values.
#[pyfunction]
#[pyo3(signature = (model, y, lengths=None, equal=None, x_shared=None, x_per_point=None,
    p0=None, lower=None, upper=None, weights=None, fixed=None, estimator="lse",
    tolerance=None, step_tolerance=None, max_iterations=None, covariance=true,
    backend="auto", precision="f64"))]
#[allow(clippy::too_many_arguments)]
pub fn batch_fit<'py>(
    py: Python<'py>,
    model: &PyModel,
    y: PyReadonlyArray1<'py, f64>,
    lengths: Option<Vec<usize>>,
    equal: Option<usize>,
    x_shared: Option<PyReadonlyArray1<'py, f64>>,
    x_per_point: Option<PyReadonlyArray1<'py, f64>>,
    p0: Option<PyReadonlyArray1<'py, f64>>,
    lower: Option<PyReadonlyArray1<'py, f64>>,
    upper: Option<PyReadonlyArray1<'py, f64>>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    fixed: Option<Vec<bool>>,
    estimator: &str,
    tolerance: Option<f64>,
    step_tolerance: Option<f64>,
    max_iterations: Option<u32>,
    covariance: bool,
    backend: &str,
    precision: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let m = &model.resolved.model;
    let y = slice(&y, "y")?;
    if let Some(l) = &lengths {
        options::check_lengths(l, y.len()).map_err(bad)?;
    }
    let x_shared = x_shared.as_ref().map(|a| slice(a, "x")).transpose()?;
    let x_per_point = x_per_point.as_ref().map(|a| slice(a, "x")).transpose()?;
    let p0 = p0.as_ref().map(|a| slice(a, "p0")).transpose()?;
    let lower = lower
        .as_ref()
        .map(|a| slice(a, "lower bounds"))
        .transpose()?;
    let upper = upper
        .as_ref()
        .map(|a| slice(a, "upper bounds"))
        .transpose()?;
    let weights = weights.as_ref().map(|a| slice(a, "weights")).transpose()?;
    let estimator = options::estimator(estimator).map_err(bad)?;
    let backend = options::backend(backend).map_err(bad)?;
    let precision = options::precision(precision).map_err(bad)?;
    let r = py.detach(|| {
        let mut b = BatchFit::new(m)
            .data(y)
            .estimator(estimator)
            .covariance(covariance)
            .backend(backend)
            .precision(precision);
        if let Some(l) = &lengths {
            b = b.lengths(l);
        }
        if let Some(n) = equal {
            b = b.equal_length(n);
        }
        if let Some(x) = x_shared {
            b = b.x_shared(x);
        }
        if let Some(x) = x_per_point {
            b = b.x(x);
        }
        if let Some(p) = p0 {
            b = b.p0(p);
        }
        if let (Some(l), Some(u)) = (lower, upper) {
            b = b.bounds(l, u);
        }
        if let Some(w) = weights {
            b = b.weights(w);
        }
        if let Some(f) = &fixed {
            b = b.fixed(f);
        }
        if let Some(t) = tolerance {
            b = b.tolerance(t);
        }
        if let Some(t) = step_tolerance {
            b = b.step_tolerance(t);
        }
        if let Some(n) = max_iterations {
            b = b.max_iterations(n);
        }
        b.fit()
    });
    let r = r.map_err(|e| fit_error(py, &e))?;
    let (nf, np) = (r.n_fits, r.n_params);
    let d = PyDict::new(py);
    d.set_item(
        "params",
        PyArray1::from_vec(py, r.params).reshape([nf, np])?,
    )?;
    let states: Vec<u8> = r.states.iter().map(|s| s.code()).collect();
    d.set_item("states", PyArray1::from_vec(py, states))?;
    d.set_item("chi2", PyArray1::from_vec(py, r.chi2))?;
    d.set_item("iterations", PyArray1::from_vec(py, r.iterations))?;
    if let Some(c) = r.covariance {
        d.set_item(
            "covariance",
            PyArray1::from_vec(py, c).reshape([nf, np, np])?,
        )?;
    }
    if let Some(e) = r.perr {
        d.set_item("perr", PyArray1::from_vec(py, e).reshape([nf, np])?)?;
    }
    d.set_item("backend", format!("{:?}", r.backend).to_lowercase())?;
    d.set_item("precision", format!("{:?}", r.precision).to_lowercase())?;
    d.set_item("reason", r.reason)?;
    Ok(d)
}

/// The names of the model library.
#[pyfunction]
pub fn library_names() -> Vec<&'static str> {
    library::names()
}

/// The Rust extension of `nlsq_rs`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyModel>()?;
    m.add_class::<PyFitResult>()?;
    m.add_class::<PyCallable>()?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(batch_fit, m)?)?;
    m.add_function(wrap_pyfunction!(library_names, m)?)?;
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
