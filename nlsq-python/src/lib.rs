#![warn(missing_docs)]
//! `nlsq_rs._native`: the Rust half of the `nlsq_rs` Python package.
//!
//! The Python half (`python/nlsq_rs`) handles scipy's argument conventions, translates Python
//! functions into the model language and wraps the results; this module compiles models
//! ([`model::PyModel`], cached by text), runs fits ([`fit::fit`]) and batch fits
//! ([`batch::batch_fit`]) with the GIL released, stops a fit on Ctrl-C, and turns the
//! runtime's errors into the exceptions of `nlsq_rs._errors` ([`errors`]). Python callables
//! that do not translate are fitted through the [`fallback`].
//!
//! Modules: [`model`] (the model classes), [`fit`], [`plain`] (`curve_fit`'s common call), [`global`] (global fits), [`batch`], [`result`] (one fit's result),
//! [`fallback`] (a `Model` computed by Python), [`constraints`] (fixed and tied parameters),
//! [`options`] (option names), [`profile`] (profile-likelihood intervals), [`errors`],
//! [`arrays`] (numpy views).

pub mod arrays;
pub mod batch;
pub mod constraints;
pub mod errors;
pub mod fallback;
pub mod fit;
pub mod global;
pub mod model;
pub mod options;
pub mod plain;
pub mod profile;
pub mod result;
mod signals;

use nlsq_runtime::library;
use pyo3::prelude::*;

/// The names of the model library.
#[pyfunction]
pub fn library_names() -> Vec<&'static str> {
    library::names()
}

/// The Rust extension of `nlsq_rs`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<model::PyModel>()?;
    m.add_class::<result::PyFitResult>()?;
    m.add_class::<model::PyCallable>()?;
    m.add_function(wrap_pyfunction!(fit::fit, m)?)?;
    m.add_function(wrap_pyfunction!(plain::fit_plain, m)?)?;
    m.add_function(wrap_pyfunction!(global::global_fit, m)?)?;
    m.add_function(wrap_pyfunction!(profile::conf_interval, m)?)?;
    m.add_function(wrap_pyfunction!(batch::batch_fit, m)?)?;
    m.add_function(wrap_pyfunction!(library_names, m)?)?;
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
