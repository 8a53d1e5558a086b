//! The common call of `curve_fit`: a compiled model, `xdata` and `ydata` as 1-D float64
//! arrays, `p0`, and tolerances at most. [`fit_plain`] takes such a call as it comes, without the
//! Python side's conversions of the general path (which cost a 1e3-point fit about a tenth of
//! its time), and runs the same fit as [`fit`](crate::fit::fit).

use crate::constraints::Named;
use crate::fit::{Data, Options, fit_compiled, into_result};
use crate::model::PyModel;
use nlsq_runtime::Model;
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// A 1-D float64 array, read-only, or `None` for anything else.
fn vector<'py>(a: &Bound<'py, PyAny>) -> Option<PyReadonlyArray1<'py, f64>> {
    a.cast::<PyArray1<f64>>().ok()?.try_readonly().ok()
}

/// Fits `model` (an `nlsq_rs._native.Model` of one predictor) to `(x, y)` from `p0` at the
/// defaults of [`fit`](crate::fit::fit) but the tolerances given, with the GIL released. Returns `(popt, pcov)` when the
/// fit converged with a covariance, the engine's result (a `NativeFitResult`) when it did not,
/// and `None`, without fitting, when the call is not of that shape: `x` or `y` not a
/// contiguous 1-D float64 array, their lengths different, `p0` not a sequence of as many
/// numbers as the model has parameters, or a model of several predictors. The general path
/// then checks and converts the arguments (and names what is wrong with them).
#[pyfunction]
#[pyo3(signature = (model, x, y, p0, ftol=None, xtol=None, gtol=None))]
#[allow(clippy::too_many_arguments)] // the Python signature
pub fn fit_plain<'py>(
    py: Python<'py>,
    model: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    p0: &Bound<'py, PyAny>,
    ftol: Option<f64>,
    xtol: Option<f64>,
    gtol: Option<f64>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Ok(m) = model.cast::<PyModel>() else {
        return Ok(None);
    };
    let m = m.get();
    let em = &m.resolved.model;
    let (Some(x), Some(y)) = (vector(x), vector(y)) else {
        return Ok(None);
    };
    let (Ok(xs), Ok(ys)) = (x.as_slice(), y.as_slice()) else {
        return Ok(None);
    };
    let Ok(p0) = p0.extract::<Vec<f64>>() else {
        return Ok(None);
    };
    if xs.len() != ys.len() || p0.len() != em.n_params() || em.n_inputs() != 1 {
        return Ok(None);
    }
    let data = Data {
        cols: vec![xs],
        y: ys,
        sigma: None,
    };
    let named = Named::default();
    let mut o = Options::with_p0(p0);
    o.tols = [ftol, xtol, gtol];
    let r = into_result(py, fit_compiled(py, m, &named, &data, o)?)?;
    if !r.inner.success || r.inner.covariance_indeterminate {
        return Ok(Some(Bound::new(py, r)?.into_any()));
    }
    let pair = PyTuple::new(py, [r.popt(py).into_any(), r.pcov(py)?.into_any()])?;
    Ok(Some(pair.into_any()))
}
