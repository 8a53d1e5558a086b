//! Batch fits: the [`batch_fit`] pyfunction, which runs the runtime's `BatchFit` with the GIL
//! released and returns its result as numpy arrays, for a compiled model or a Python callable
//! (the [fallback], on the CPU).

use crate::arrays::{opt_slice, slice};
use crate::errors::{bad, fit_error};
use crate::fallback::{self, CallableModel, Points};
use crate::model::{PyCallable, PyModel};
use crate::options;
use nlsq_runtime::batch::{BatchFit, BatchResult, Estimator};
use nlsq_runtime::{Backend, FitError, Model, Precision};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A batch's arrays: the flat data, fit after fit, and its layout; per-point predictors and
/// weights; per-fit parameter arrays (`P` or `n_fits * P` values).
struct Arrays<'a> {
    y: &'a [f64],
    lengths: Option<&'a [usize]>,
    equal: Option<usize>,
    x_shared: Option<&'a [f64]>,
    x_per_point: Option<&'a [f64]>,
    p0: Option<&'a [f64]>,
    lower: Option<&'a [f64]>,
    upper: Option<&'a [f64]>,
    weights: Option<&'a [f64]>,
    fixed: Option<&'a [bool]>,
}

/// A batch's settings, checked.
struct Settings {
    estimator: Estimator,
    tolerance: Option<f64>,
    step_tolerance: Option<f64>,
    max_iterations: Option<u32>,
    covariance: bool,
    backend: Backend,
    precision: Precision,
}

/// Runs the batch of `model` (call it with the GIL released).
fn run<M: Model>(model: M, a: &Arrays<'_>, s: &Settings) -> Result<BatchResult, FitError> {
    let mut b = BatchFit::new(model)
        .data(a.y)
        .estimator(s.estimator)
        .covariance(s.covariance)
        .backend(s.backend)
        .precision(s.precision);
    if let Some(l) = a.lengths {
        b = b.lengths(l);
    }
    if let Some(n) = a.equal {
        b = b.equal_length(n);
    }
    if let Some(x) = a.x_shared {
        b = b.x_shared(x);
    }
    if let Some(x) = a.x_per_point {
        b = b.x(x);
    }
    if let Some(p) = a.p0 {
        b = b.p0(p);
    }
    if let (Some(l), Some(u)) = (a.lower, a.upper) {
        b = b.bounds(l, u);
    }
    if let Some(w) = a.weights {
        b = b.weights(w);
    }
    if let Some(f) = a.fixed {
        b = b.fixed(f);
    }
    if let Some(t) = s.tolerance {
        b = b.tolerance(t);
    }
    if let Some(t) = s.step_tolerance {
        b = b.step_tolerance(t);
    }
    if let Some(n) = s.max_iterations {
        b = b.max_iterations(n);
    }
    b.fit()
}

/// Runs the batch of a Python callable through the fallback, on the CPU (`backend` as Python
/// named it, for the error on a device backend; `id` tells the callable apart in model
/// hashes). The engine's predictor is each point's index in the flat data (the real `x`
/// stays in Python, so `a` has none); the callable is called once per fit and parameter
/// vector, `evaluate(fit, p)` and `jacobian(fit, p)`. A Python exception is raised rather than
/// the outcome.
fn run_callable(
    py: Python<'_>,
    c: &PyCallable,
    id: u64,
    a: &Arrays<'_>,
    mut s: Settings,
    backend: &str,
) -> PyResult<BatchResult> {
    s.backend = fallback::cpu_backend(&c.name, s.backend, backend)?;
    if a.x_shared.is_some() || a.x_per_point.is_some() {
        return Err(bad(format!(
            "`{}` is a Python callable: its x stays on the Python side, not in the batch",
            c.name
        )));
    }
    if c.n != a.y.len() {
        return Err(bad(format!(
            "the callable `{}` is for {} points, the batch has {}",
            c.name,
            c.n,
            a.y.len()
        )));
    }
    // Without lengths (or with equal length 0) there are no fits: the engine says why.
    let points = match (a.lengths, a.equal) {
        (Some(l), _) => Points::batch(l.iter().copied()),
        (None, Some(n)) => Points::batch(std::iter::repeat_n(
            n,
            a.y.len().checked_div(n).unwrap_or(0),
        )),
        (None, None) => Points::batch([]),
    };
    let index: Vec<f64> = (0..a.y.len()).map(|i| i as f64).collect();
    let a = Arrays {
        x_per_point: Some(&index),
        ..*a
    };
    let cm = CallableModel::with_points(
        c.name.clone(),
        c.names.clone(),
        points,
        c.evaluate.clone_ref(py),
        c.jacobian.clone_ref(py),
        id,
    );
    let r = py.detach(|| run(&cm, &a, &s));
    if let Some(e) = cm.take_error() {
        return Err(e);
    }
    let mut r = r.map_err(|e| fit_error(py, &e))?;
    r.reason = format!(
        "Python callable `{}` (not translated): vectorized calls per fit, finite-difference or \
         user Jacobian, on the CPU only; {}",
        c.name, r.reason
    );
    Ok(r)
}

/// The result as a dict of numpy arrays (`params` `(n_fits, P)`, `states`, `chi2`,
/// `iterations`, with covariances `covariance` `(n_fits, P, P)` and `perr`) and of where it
/// ran (`backend`, `precision`, `reason`).
fn to_dict(py: Python<'_>, r: BatchResult) -> PyResult<Bound<'_, PyDict>> {
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

/// Runs a batch of fits with the GIL released; returns a dict of numpy arrays. `y` is flat,
/// fit after fit; `lengths` per fit or `equal` for all; `x_shared` or `x_per_point` are
/// point-major predictors; per-fit arrays are flat, `P` or `n_fits * P` values. `model` is a
/// [`PyModel`] or, for the fallback, a [`PyCallable`] for all the batch's points (then without
/// `x`: the callable is called per fit, `evaluate(fit, p)`, on the CPU).
#[pyfunction]
#[pyo3(signature = (model, y, lengths=None, equal=None, x_shared=None, x_per_point=None,
    p0=None, lower=None, upper=None, weights=None, fixed=None, estimator="lse",
    tolerance=None, step_tolerance=None, max_iterations=None, covariance=true,
    backend="auto", precision="f64"))]
#[allow(clippy::too_many_arguments)]
pub fn batch_fit<'py>(
    py: Python<'py>,
    model: &Bound<'py, PyAny>,
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
    let a = Arrays {
        y: slice(&y, "y")?,
        lengths: lengths.as_deref(),
        equal,
        x_shared: opt_slice(&x_shared, "x")?,
        x_per_point: opt_slice(&x_per_point, "x")?,
        p0: opt_slice(&p0, "p0")?,
        lower: opt_slice(&lower, "lower bounds")?,
        upper: opt_slice(&upper, "upper bounds")?,
        weights: opt_slice(&weights, "weights")?,
        fixed: fixed.as_deref(),
    };
    if let Some(l) = a.lengths {
        options::check_lengths(l, a.y.len()).map_err(bad)?;
    }
    let s = Settings {
        estimator: options::estimator(estimator).map_err(bad)?,
        tolerance,
        step_tolerance,
        max_iterations,
        covariance,
        backend: options::backend(backend).map_err(bad)?,
        precision: options::precision(precision).map_err(bad)?,
    };
    let r = if let Ok(m) = model.cast::<PyModel>() {
        let m = &m.get().resolved.model;
        py.detach(|| run(m, &a, &s))
            .map_err(|e| fit_error(py, &e))?
    } else if let Ok(c) = model.cast::<PyCallable>() {
        let id = model.as_ptr() as usize as u64;
        run_callable(py, c.get(), id, &a, s, backend)?
    } else {
        return Err(PyTypeError::new_err(
            "model must be an nlsq_rs._native.Model or Callable",
        ));
    };
    to_dict(py, r)
}
