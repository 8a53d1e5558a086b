//! The models Python passes to fits: [`PyModel`], a compiled model-language expression or
//! model-library name (compiled once per text, cached), and [`PyCallable`], a Python callable
//! fitted through the [fallback](crate::fallback).

use crate::arrays::columns;
use crate::errors::{bad, py_error};
use nlsq_runtime::library::{self, ResolveError, Resolved};
use nlsq_runtime::{ExprModel, Model};
use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use std::sync::{Arc, Mutex};

/// Compiled models by (text, parameter names): compiling is the slow part of a small fit.
type Cache = Vec<((String, Option<Vec<String>>), Arc<Resolved>)>;
static CACHE: Mutex<Cache> = Mutex::new(Vec::new());
/// Models kept in [`CACHE`].
const CACHE_SIZE: usize = 128;

/// A compiled model: a model-language expression or a model-library name or sum.
#[pyclass(module = "nlsq_rs._native", name = "Model", frozen)]
pub struct PyModel {
    /// The compiled model, its parameter names and library entry.
    pub(crate) resolved: Arc<Resolved>,
    spec: String,
    /// How reports name the model.
    pub(crate) name: String,
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

/// A Python callable as a model (the fallback; see [`fallback`](crate::fallback)):
/// `evaluate(p)` gives the `N` values, `jacobian(p)` the `N x P` derivatives.
#[pyclass(module = "nlsq_rs._native", name = "Callable", frozen)]
pub struct PyCallable {
    pub(crate) evaluate: Py<PyAny>,
    pub(crate) jacobian: Py<PyAny>,
    /// The callable's name, for messages and reports.
    pub(crate) name: String,
    pub(crate) names: Vec<String>,
    pub(crate) n: usize,
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
