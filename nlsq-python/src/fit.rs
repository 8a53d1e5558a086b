//! One fit: the [`fit`] pyfunction, which runs the runtime's `CurveFit` on a compiled model or
//! on a Python callable (the [fallback]) with the GIL released, and stops on
//! Ctrl-C.

use crate::arrays::{columns, matrix, slice};
use crate::constraints::{self, Named};
use crate::errors::{bad, fit_error};
use crate::fallback::{self, CallableModel};
use crate::model::{PyCallable, PyModel};
use crate::options;
use crate::result::PyFitResult;
use crate::signals::{self, Signals};
use nlsq_runtime::Precision;
use nlsq_runtime::{
    Backend, CurveFit, FitError, FitResult, Loss, Method, Model, MultiStart, NanPolicy,
};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use std::ops::ControlFlow;

/// Every option of one fit, checked.
pub(crate) struct Options {
    p0: Vec<f64>,
    bounds: Option<(Vec<f64>, Vec<f64>)>,
    cov: Option<nalgebra::DMatrix<f64>>,
    absolute_sigma: bool,
    loss: Loss,
    f_scale: f64,
    method: Option<Method>,
    pub(crate) tols: [Option<f64>; 3],
    max_nfev: Option<usize>,
    x_scale: Option<Vec<f64>>,
    x_scale_jac: bool,
    nan_policy: NanPolicy,
    backend: Backend,
    precision: Precision,
    multistart: Option<MultiStart>,
}

/// The data of one fit: predictor columns, observations and their standard deviations.
pub(crate) struct Data<'a> {
    pub(crate) cols: Vec<&'a [f64]>,
    pub(crate) y: &'a [f64],
    pub(crate) sigma: Option<&'a [f64]>,
}

/// The runtime's outcome of a fit, and the Python exception that stopped it, if any (Ctrl-C
/// or whatever a signal handler raised, else an exception of the user's model function): that
/// one is raised instead of the outcome.
pub(crate) type Outcome = (Result<FitResult, FitError>, Option<PyErr>);

impl Options {
    /// The options of a call that gives only `p0`: the defaults of [`fit`]'s signature.
    pub(crate) fn with_p0(p0: Vec<f64>) -> Self {
        Options {
            p0,
            bounds: None,
            cov: None,
            absolute_sigma: false,
            loss: Loss::Linear,
            f_scale: 1.0,
            method: None,
            tols: [None; 3],
            max_nfev: None,
            x_scale: None,
            x_scale_jac: false,
            nan_policy: NanPolicy::Raise,
            backend: Backend::Auto,
            precision: Precision::F64,
            multistart: None,
        }
    }
}

/// Runs the fit of `model` with the GIL released; returns the runtime's outcome and the
/// exception a signal handler raised (Ctrl-C), if one stopped the fit. With `on_pool` the fit
/// runs on a worker thread of rayon's pool ([`nlsq_runtime::pool`]) while this thread checks
/// for signals; otherwise on this thread, which checks between iterations.
fn run<M: Model>(py: Python<'_>, model: &M, data: &Data<'_>, o: Options, on_pool: bool) -> Outcome {
    if on_pool {
        return signals::on_pool(py, |stopped| {
            builder(model, data, o)
                .callback(|_| {
                    if stopped() {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })
                .fit(data.cols.as_slice(), data.y)
        });
    }
    let mut signals = Signals::new();
    let result = py.detach(|| {
        builder(model, data, o)
            .callback(|_| signals.poll())
            .fit(data.cols.as_slice(), data.y)
    });
    (result, signals.interrupt)
}

/// The runtime's fit of `model` to `data` with the options `o`.
fn builder<'a, M: Model>(model: &'a M, data: &Data<'a>, o: Options) -> CurveFit<'a, &'a M> {
    let mut b = CurveFit::new(model)
        .p0(o.p0)
        .absolute_sigma(o.absolute_sigma)
        .loss(o.loss)
        .f_scale(o.f_scale)
        .nan_policy(o.nan_policy)
        .backend(o.backend)
        .precision(o.precision);
    if let Some((l, u)) = o.bounds {
        b = b.bounds(l, u);
    }
    if let Some(s) = data.sigma {
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
    if let Some(ms) = o.multistart {
        b = b.multistart(ms);
    }
    b
}

/// The fit of a compiled model, with its fixed and tied parameters; the result names it as
/// the model's `name`.
pub(crate) fn fit_compiled(
    py: Python<'_>,
    m: &PyModel,
    named: &Named,
    data: &Data<'_>,
    mut o: Options,
) -> PyResult<Outcome> {
    let free;
    let em = if named.is_empty() {
        &m.resolved.model
    } else {
        free = named.constrain(&m.resolved.model)?;
        constraints::narrow(&free, &mut o.p0, &mut o.bounds, &mut o.x_scale)?;
        &free
    };
    if data.cols.len() != em.n_inputs() {
        return Err(bad(format!(
            "xdata has {} predictor row(s), the model `{}` uses {}",
            data.cols.len(),
            m.name,
            em.n_inputs()
        )));
    }
    let on_pool = nlsq_runtime::pool::worth_entering(data.y.len());
    let (r, interrupt) = run(py, em, data, o, on_pool);
    let r = r.map(|mut r| {
        r.model.clone_from(&m.name);
        r
    });
    Ok((r, interrupt))
}

/// The fit of a Python callable through the fallback, on the CPU (`backend` as Python named
/// it, for the error on a device backend); `id` tells the callable apart in model hashes.
fn fit_callable(
    py: Python<'_>,
    c: &PyCallable,
    id: u64,
    data: &Data<'_>,
    mut o: Options,
    backend: &str,
) -> PyResult<Outcome> {
    o.backend = fallback::cpu_backend(&c.name, o.backend, backend)?;
    let cm = CallableModel::new(
        c.name.clone(),
        c.names.clone(),
        c.n,
        c.evaluate.clone_ref(py),
        c.jacobian.clone_ref(py),
        id,
    );
    // A Python callable stays on this thread (it takes the GIL for every evaluation).
    let (r, interrupt) = run(py, &cm, data, o, false);
    let r = r.map(|mut r| {
        r.backend = fallback::backend_note(&c.name);
        r
    });
    Ok((r, interrupt.or(cm.take_error())))
}

/// Runs one fit with the GIL released. Arguments are already normalised by the Python side:
/// `x` is `(K, N)` C-contiguous float64, options are names or `None`. `model` is a [`PyModel`]
/// or, for the fallback, a [`PyCallable`] (then `x` is the point index `0..N`, and the fit
/// runs on the CPU). `fixed` (name, value) and `ties` (name, expression) constrain a compiled
/// model's parameters; `p0`, bounds and `x_scale` are then given for every parameter.
/// `multistart` (K starts) makes the fit a global search (`CurveFit::multistart`) with the
/// Sobol `seed`.
#[pyfunction]
#[pyo3(signature = (model, x, y, p0, lower=None, upper=None, sigma=None, sigma_cov=None,
    absolute_sigma=false, loss="linear", f_scale=1.0, method=None, ftol=None, xtol=None,
    gtol=None, max_nfev=None, x_scale=None, x_scale_jac=false, nan_policy="raise",
    backend="auto", precision="f64", fixed=None, ties=None, multistart=None, seed=0))]
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
    fixed: Option<Vec<(String, f64)>>,
    ties: Option<Vec<(String, String)>>,
    multistart: Option<usize>,
    seed: u32,
) -> PyResult<PyFitResult> {
    let named = Named {
        fixed: fixed.unwrap_or_default(),
        ties: ties.unwrap_or_default(),
    };
    let data = Data {
        cols: columns(&x)?,
        y: slice(&y, "ydata")?,
        sigma: sigma.as_ref().map(|s| slice(s, "sigma")).transpose()?,
    };
    let o = Options {
        p0,
        bounds: lower.zip(upper),
        cov: sigma_cov.as_ref().map(|c| matrix(c, "sigma")).transpose()?,
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
        multistart: multistart.map(|k| MultiStart::new(k).seed(seed)),
    };
    let (result, stopped) = if let Ok(m) = model.cast::<PyModel>() {
        fit_compiled(py, m.get(), &named, &data, o)?
    } else if let Ok(c) = model.cast::<PyCallable>() {
        if !named.is_empty() {
            return Err(bad(format!(
                "fixed and tied parameters need a model the engine compiles (a model string, \
                 a library model or a translated function); `{}` runs through the fallback",
                c.get().name
            )));
        }
        let id = model.as_ptr() as usize as u64;
        fit_callable(py, c.get(), id, &data, o, backend)?
    } else {
        return Err(PyTypeError::new_err(
            "model must be an nlsq_rs._native.Model or Callable",
        ));
    };
    into_result(py, (result, stopped))
}

/// The Python result of a fit's outcome: the exception that stopped it, else the runtime's
/// error as its exception, else the result.
pub(crate) fn into_result(py: Python<'_>, (result, stopped): Outcome) -> PyResult<PyFitResult> {
    if let Some(e) = stopped {
        return Err(e);
    }
    result
        .map(|inner| PyFitResult { inner })
        .map_err(|e| fit_error(py, &e))
}
