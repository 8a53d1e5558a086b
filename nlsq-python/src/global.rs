//! Global fits: the [`global_fit`] pyfunction runs the runtime's `GlobalFit` on compiled models
//! with the GIL released, and stops on Ctrl-C.

use crate::arrays::{columns, slice};
use crate::errors::{bad, fit_error};
use crate::model::PyModel;
use crate::options;
use crate::result::PyFitResult;
use crate::signals::Signals;
use nlsq_runtime::fit::global::{Dataset, GlobalFit};
use nlsq_runtime::{Backend, ExprModel, Model, NanPolicy, Precision};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

/// One dataset's settings, checked.
struct Part<'a> {
    model: &'a ExprModel,
    x: Vec<&'a [f64]>,
    y: &'a [f64],
    sigma: Option<&'a [f64]>,
    p0: Vec<f64>,
    bounds: Option<(Vec<f64>, Vec<f64>)>,
    label: String,
    backend: Backend,
}

/// Fits several datasets together with the parameters `shared` shared (the runtime's
/// `GlobalFit`). Per dataset, in the same order in every list: its compiled model, `x`
/// (`(K, N)` C-contiguous float64), `y`, sigma (or `None`), `p0`, lower and upper bounds (or
/// `None`), label and backend name. Returns the engine's result, whose `datasets` field says
/// each dataset's part.
#[pyfunction]
#[pyo3(signature = (models, xs, ys, sigmas, p0s, lowers, uppers, labels, backends, shared,
    absolute_sigma=false, loss="linear", f_scale=1.0, method=None, ftol=None, xtol=None,
    gtol=None, max_nfev=None, nan_policy="raise", precision="f64"))]
#[allow(clippy::too_many_arguments)]
pub fn global_fit(
    py: Python<'_>,
    models: Vec<PyRef<'_, PyModel>>,
    xs: Vec<PyReadonlyArray2<'_, f64>>,
    ys: Vec<PyReadonlyArray1<'_, f64>>,
    sigmas: Vec<Option<PyReadonlyArray1<'_, f64>>>,
    p0s: Vec<Vec<f64>>,
    lowers: Vec<Option<Vec<f64>>>,
    uppers: Vec<Option<Vec<f64>>>,
    labels: Vec<String>,
    backends: Vec<String>,
    shared: Vec<String>,
    absolute_sigma: bool,
    loss: &str,
    f_scale: f64,
    method: Option<&str>,
    ftol: Option<f64>,
    xtol: Option<f64>,
    gtol: Option<f64>,
    max_nfev: Option<usize>,
    nan_policy: &str,
    precision: &str,
) -> PyResult<PyFitResult> {
    let n = models.len();
    let lengths = [
        xs.len(),
        ys.len(),
        sigmas.len(),
        p0s.len(),
        lowers.len(),
        uppers.len(),
        labels.len(),
        backends.len(),
    ];
    if lengths.iter().any(|&l| l != n) {
        return Err(bad(format!(
            "every per-dataset list needs {n} entries, one per dataset: {lengths:?}"
        )));
    }
    let mut parts = Vec::with_capacity(n);
    for i in 0..n {
        let model = &models[i].resolved.model;
        let x = columns(&xs[i])?;
        if x.len() != model.n_inputs() {
            return Err(bad(format!(
                "dataset {}: xdata has {} predictor row(s), the model `{}` uses {}",
                labels[i],
                x.len(),
                models[i].name,
                model.n_inputs()
            )));
        }
        parts.push(Part {
            model,
            x,
            y: slice(&ys[i], "ydata")?,
            sigma: sigmas[i].as_ref().map(|s| slice(s, "sigma")).transpose()?,
            p0: p0s[i].clone(),
            bounds: lowers[i].clone().zip(uppers[i].clone()),
            label: labels[i].clone(),
            backend: options::backend(&backends[i]).map_err(bad)?,
        });
    }
    let loss = options::loss(loss).map_err(bad)?;
    let method = options::method(method).map_err(bad)?;
    let nan_policy: NanPolicy = options::nan_policy(nan_policy).map_err(bad)?;
    let precision: Precision = options::precision(precision).map_err(bad)?;
    let mut signals = Signals::new();
    let result = py.detach(|| {
        let mut fit = GlobalFit::new()
            .shared(shared)
            .loss(loss)
            .f_scale(f_scale)
            .absolute_sigma(absolute_sigma)
            .callback(|_| signals.poll());
        if let Some(m) = method {
            fit = fit.method(m);
        }
        if let Some(v) = ftol {
            fit = fit.ftol(v);
        }
        if let Some(v) = xtol {
            fit = fit.xtol(v);
        }
        if let Some(v) = gtol {
            fit = fit.gtol(v);
        }
        if let Some(v) = max_nfev {
            fit = fit.max_nfev(v);
        }
        for p in &parts {
            let mut d = Dataset::new(p.model as &dyn Model, p.x.as_slice(), p.y)
                .label(p.label.clone())
                .p0(p.p0.clone())
                .nan_policy(nan_policy)
                .backend(p.backend)
                .precision(precision);
            if let Some((l, u)) = &p.bounds {
                d = d.bounds(l.clone(), u.clone());
            }
            if let Some(s) = p.sigma {
                d = d.sigma(s);
            }
            fit = fit.dataset(d);
        }
        fit.fit()
    });
    if let Some(e) = signals.interrupt {
        return Err(e);
    }
    result
        .map(|inner| PyFitResult { inner })
        .map_err(|e| fit_error(py, &e))
}
