//! Errors as Python exceptions: the runtime's [`FitError`]s become the classes of
//! `nlsq_rs._errors`, bad options `ValueError`s.

use nlsq_runtime::FitError;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// The exception class `name` of `nlsq_rs._errors`, raised with `msg`.
pub fn py_error(py: Python<'_>, name: &str, msg: String) -> PyErr {
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
pub fn fit_error(py: Python<'_>, e: &FitError) -> PyErr {
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
pub fn bad(msg: String) -> PyErr {
    PyValueError::new_err(msg)
}
