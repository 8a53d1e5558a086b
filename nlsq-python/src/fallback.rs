//! The fallback for Python callables that cannot be translated: a [`Model`] whose values and
//! derivatives come from Python, vectorized.
//!
//! The fit's predictor is the point index `i` (`0, 1, ..., N-1`, exact in f64); the real `x`
//! stays on the Python side. At new parameters the first point evaluated calls Python once for
//! all `N` values (`evaluate(p)`), and once for the `N x P` Jacobian (`jacobian(p)`: the user's
//! `jac` or finite differences, see `nlsq_rs._fallback`) when derivatives are needed; every
//! point then reads those arrays. So a pass costs one or two vectorized Python calls, never
//! one per point. CPU only: there is no kernel to run on a GPU.
//!
//! An exception in Python is kept (the first one) and the model answers NaN from then on,
//! which ends the fit; [`CallableModel::take_error`] hands the exception back to be raised.

use nlsq_runtime::block::BLOCK;
use nlsq_runtime::{Backend, Model, ModelHash, Precision};
use numpy::{PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::sync::{Arc, Mutex, MutexGuard};

/// The arrays of the last parameters asked for.
#[derive(Default)]
struct Cache {
    p: Vec<f64>,
    value: Option<Arc<Vec<f64>>>,
    /// `N x P`, point-major.
    jac: Option<Arc<Vec<f64>>>,
}

/// Values and (when asked for) the Jacobian at some parameters.
type Arrays = (Arc<Vec<f64>>, Option<Arc<Vec<f64>>>);

/// A model computed by Python callables (see the [module docs](self)).
pub struct CallableModel {
    name: String,
    names: Vec<String>,
    n: usize,
    evaluate: Py<PyAny>,
    jacobian: Py<PyAny>,
    cache: Mutex<Cache>,
    error: Mutex<Option<PyErr>>,
    hash: ModelHash,
}

impl CallableModel {
    /// A model of `n` points named `name` with parameters `names`; `evaluate(p)` returns the
    /// `N` values, `jacobian(p)` the `N x P` derivatives, both float64 numpy arrays.
    pub fn new(
        name: String,
        names: Vec<String>,
        n: usize,
        evaluate: Py<PyAny>,
        jacobian: Py<PyAny>,
        id: u64,
    ) -> Self {
        let mut h = [0u8; 32];
        h[..8].copy_from_slice(&id.to_le_bytes());
        h[8..16].copy_from_slice(b"pyfallbk");
        CallableModel {
            name,
            names,
            n,
            evaluate,
            jacobian,
            cache: Mutex::new(Cache::default()),
            error: Mutex::new(None),
            hash: ModelHash(h),
        }
    }

    /// The first exception Python raised during the fit, if any.
    pub fn take_error(&self) -> Option<PyErr> {
        lock(&self.error).take()
    }

    fn failed(&self) -> bool {
        lock(&self.error).is_some()
    }

    fn fail(&self, e: PyErr) {
        let mut slot = lock(&self.error);
        if slot.is_none() {
            *slot = Some(e);
        }
    }

    /// Values (and with `grad` the Jacobian) at `p`, from the cache or from Python.
    fn arrays(&self, p: &[f64], grad: bool) -> Option<Arrays> {
        if self.failed() {
            return None;
        }
        let mut c = lock(&self.cache);
        if c.p.as_slice() != p {
            *c = Cache {
                p: p.to_vec(),
                ..Cache::default()
            };
        }
        let np = self.names.len();
        if c.value.is_none() {
            match self.call(&self.evaluate, p, [self.n, 1]) {
                Ok(v) => c.value = Some(Arc::new(v)),
                Err(e) => {
                    self.fail(e);
                    return None;
                }
            }
        }
        if grad && c.jac.is_none() {
            match self.call(&self.jacobian, p, [self.n, np]) {
                Ok(v) => c.jac = Some(Arc::new(v)),
                Err(e) => {
                    self.fail(e);
                    return None;
                }
            }
        }
        Some((c.value.clone()?, c.jac.clone()))
    }

    /// Calls `f(p)` with the GIL and copies its `(rows, cols)` float64 result.
    fn call(&self, f: &Py<PyAny>, p: &[f64], shape: [usize; 2]) -> PyResult<Vec<f64>> {
        Python::attach(|py| {
            let out = f.call1(py, (p.to_vec(),))?;
            let out = out.bind(py);
            let v = if shape[1] == 1 {
                let a: PyReadonlyArray1<'_, f64> = out.extract()?;
                a.as_slice()?.to_vec()
            } else {
                let a: PyReadonlyArray2<'_, f64> = out.extract()?;
                if a.shape() != shape {
                    return Err(pyo3::exceptions::PyValueError::new_err(format!(
                        "the Jacobian has shape {:?}, expected {shape:?}",
                        a.shape()
                    )));
                }
                a.as_slice()?.to_vec()
            };
            if v.len() != shape[0] * shape[1] {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "the model function returned {} values for {} points",
                    v.len(),
                    shape[0]
                )));
            }
            Ok(v)
        })
    }

    fn index(x: &[f64]) -> usize {
        x.first().map_or(0, |v| *v as usize)
    }
}

/// The backend of a fallback fit of `name`: the CPU for `Auto` and `Cpu`; an error naming
/// `asked` (the backend as Python named it) for a device, where there is no kernel to run.
pub fn cpu_backend(name: &str, backend: Backend, asked: &str) -> PyResult<Backend> {
    match backend {
        Backend::Auto | Backend::Cpu => Ok(Backend::Cpu),
        _ => Err(PyValueError::new_err(format!(
            "`{name}` is not translated into the model language: the fallback that calls it \
             runs on the CPU only, not on backend {asked:?}"
        ))),
    }
}

/// What a fallback fit of `name` reports as its backend.
pub fn backend_note(name: &str) -> String {
    format!(
        "cpu (Python callable `{name}`, not translated: vectorized calls, finite-difference \
         or user Jacobian)"
    )
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Model for CallableModel {
    fn name(&self) -> &str {
        &self.name
    }
    fn n_params(&self) -> usize {
        self.names.len()
    }
    fn n_inputs(&self) -> usize {
        1
    }
    fn param_name(&self, j: usize) -> &str {
        &self.names[j]
    }
    fn eval(&self, x: &[f64], p: &[f64]) -> f64 {
        let i = Self::index(x);
        match self.arrays(p, false) {
            Some((v, _)) => v.get(i).copied().unwrap_or(f64::NAN),
            None => f64::NAN,
        }
    }
    fn eval_with_gradient(&self, x: &[f64], p: &[f64], grad: &mut [f64]) -> f64 {
        let i = Self::index(x);
        let np = self.names.len();
        match self.arrays(p, true) {
            Some((v, Some(j))) if i < self.n => {
                grad.copy_from_slice(&j[i * np..(i + 1) * np]);
                v[i]
            }
            _ => {
                grad.fill(f64::NAN);
                f64::NAN
            }
        }
    }
    fn eval_block(&self, x: &[&[f64; BLOCK]], p: &[f64], value: &mut [f64; BLOCK]) {
        let arrays = self.arrays(p, false);
        for (k, out) in value.iter_mut().enumerate() {
            let i = x[0][k] as usize;
            *out = arrays
                .as_ref()
                .and_then(|(v, _)| v.get(i).copied())
                .unwrap_or(f64::NAN);
        }
    }
    fn eval_with_gradient_block(
        &self,
        x: &[&[f64; BLOCK]],
        p: &[f64],
        value: &mut [f64; BLOCK],
        grad: &mut [[f64; BLOCK]],
    ) {
        let np = self.names.len();
        let arrays = self.arrays(p, true);
        for (k, out) in value.iter_mut().enumerate() {
            let i = x[0][k] as usize;
            match &arrays {
                Some((v, Some(j))) if i < self.n => {
                    *out = v[i];
                    for (row, d) in grad.iter_mut().zip(&j[i * np..(i + 1) * np]) {
                        row[k] = *d;
                    }
                }
                _ => {
                    *out = f64::NAN;
                    for row in grad.iter_mut() {
                        row[k] = f64::NAN;
                    }
                }
            }
        }
    }
    fn cuda_source(&self, _precision: Precision) -> &str {
        ""
    }
    fn wgsl_source(&self, _precision: Precision) -> &str {
        ""
    }
    fn hash(&self) -> ModelHash {
        self.hash
    }
}
