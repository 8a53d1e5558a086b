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
//! In a batch ([`Points::Batch`]) the predictor is the point's index in the flat data of all
//! fits; the model finds the fit from it and calls `evaluate(fit, p)` and
//! `jacobian(fit, p)` for that fit's points only. The arrays are cached by fit and
//! parameters, a few fits at a time, since the CPU batch runs fits on several threads at once
//! (the GIL serializes the calls themselves; the batch runs with the GIL released and every
//! call attaches).
//!
//! An exception in Python is kept (the first one) and the model answers NaN from then on,
//! which ends the fit (every fit of a batch); [`CallableModel::take_error`] hands the
//! exception back to be raised.

use nlsq_runtime::block::BLOCK;
use nlsq_runtime::{Backend, Model, ModelHash, Precision};
use numpy::{PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};

/// Fits whose arrays are cached at once: more than the threads that fit at the same time.
const CACHED_FITS: usize = 64;

/// The points a callable model computes, and how Python is called for them.
#[derive(Clone, Debug)]
pub enum Points {
    /// One fit of `N` points: `evaluate(p)`, `jacobian(p)`.
    Single(usize),
    /// The fits of a batch, fit `i` at `offsets[i]..offsets[i + 1]` of the flat data
    /// (`n_fits + 1` non-decreasing offsets from 0): `evaluate(i, p)`, `jacobian(i, p)`.
    Batch(Vec<usize>),
}

impl Points {
    /// The offsets of the fits of a batch from their lengths.
    pub fn batch(lengths: impl IntoIterator<Item = usize>) -> Self {
        let mut offsets = vec![0];
        let mut total = 0usize;
        for n in lengths {
            total = total.saturating_add(n);
            offsets.push(total);
        }
        Points::Batch(offsets)
    }

    /// The fit holding point `g` (an index in the flat data) and that fit's points.
    fn locate(&self, g: usize) -> Option<(usize, Range<usize>)> {
        match self {
            Points::Single(n) => (g < *n).then_some((0, 0..*n)),
            Points::Batch(o) => {
                if g >= *o.last()? {
                    return None;
                }
                // The last fit starting at or before g: empty fits before it are skipped.
                let fit = o.partition_point(|&s| s <= g) - 1;
                Some((fit, o[fit]..o[fit + 1]))
            }
        }
    }
}

/// One fit's arrays at the last parameters asked for.
struct Slot {
    fit: usize,
    p: Vec<f64>,
    value: Option<Arc<Vec<f64>>>,
    /// `n x P`, point-major.
    jac: Option<Arc<Vec<f64>>>,
    /// When it was last used (for eviction).
    used: u64,
}

/// The cached arrays, by fit.
#[derive(Default)]
struct Cache {
    slots: Vec<Slot>,
    clock: u64,
}

impl Cache {
    /// The slot of `fit` at `p`: kept if its parameters are `p`, else emptied for them; a new
    /// one (in place of the least recently used when full) for a fit not cached.
    fn slot(&mut self, fit: usize, p: &[f64]) -> &mut Slot {
        self.clock += 1;
        let at = match self.slots.iter().position(|s| s.fit == fit) {
            Some(at) => at,
            None if self.slots.len() < CACHED_FITS => {
                self.slots.push(Slot::new(fit, p));
                self.slots.len() - 1
            }
            None => {
                let at = (0..self.slots.len())
                    .min_by_key(|&i| self.slots[i].used)
                    .unwrap_or(0);
                self.slots[at] = Slot::new(fit, p);
                at
            }
        };
        let slot = &mut self.slots[at];
        if slot.p.as_slice() != p {
            *slot = Slot::new(fit, p);
        }
        slot.used = self.clock;
        slot
    }
}

impl Slot {
    fn new(fit: usize, p: &[f64]) -> Self {
        Slot {
            fit,
            p: p.to_vec(),
            value: None,
            jac: None,
            used: 0,
        }
    }
}

/// Values and (when asked for) the Jacobian of one fit at some parameters, and the points of
/// the flat data they belong to.
struct Arrays {
    value: Arc<Vec<f64>>,
    jac: Option<Arc<Vec<f64>>>,
    points: Range<usize>,
}

impl Arrays {
    /// The value and gradient row at point `g` of the flat data, if it is one of these points
    /// (and the Jacobian is here).
    fn at(&self, g: usize, np: usize) -> Option<(f64, Option<&[f64]>)> {
        if !self.points.contains(&g) {
            return None;
        }
        let i = g - self.points.start;
        let row = self.jac.as_ref().map(|j| &j[i * np..(i + 1) * np]);
        Some((self.value[i], row))
    }
}

/// A model computed by Python callables (see the [module docs](self)).
pub struct CallableModel {
    name: String,
    names: Vec<String>,
    points: Points,
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
        Self::with_points(name, names, Points::Single(n), evaluate, jacobian, id)
    }

    /// A model of `points` (one fit, or the fits of a batch: see [`Points`]).
    pub fn with_points(
        name: String,
        names: Vec<String>,
        points: Points,
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
            points,
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

    /// The arrays of the fit holding point `g` at `p` (with `grad` the Jacobian too), from the
    /// cache or from Python; `None` after an exception or for a point outside every fit.
    fn arrays(&self, g: usize, p: &[f64], grad: bool) -> Option<Arrays> {
        if self.failed() {
            return None;
        }
        let (fit, points) = self.points.locate(g)?;
        let n = points.len();
        // The lock is held during the calls: a thread wanting the same arrays waits for them
        // rather than calling Python again (a thread waiting here never holds the GIL).
        let mut cache = lock(&self.cache);
        if self.failed() {
            return None;
        }
        let slot = cache.slot(fit, p);
        if let Err(e) = self.fill(slot, n, grad) {
            self.fail(e);
            return None;
        }
        Some(Arrays {
            value: slot.value.clone()?,
            jac: slot.jac.clone(),
            points,
        })
    }

    /// Fills `slot` (a fit of `n` points) from Python: the values, and with `grad` the
    /// Jacobian, where it does not hold them yet.
    fn fill(&self, slot: &mut Slot, n: usize, grad: bool) -> PyResult<()> {
        if slot.value.is_none() {
            let v = self.call(&self.evaluate, slot.fit, &slot.p, n, None)?;
            slot.value = Some(Arc::new(v));
        }
        if grad && slot.jac.is_none() {
            let np = Some(self.names.len());
            let j = self.call(&self.jacobian, slot.fit, &slot.p, n, np)?;
            slot.jac = Some(Arc::new(j));
        }
        Ok(())
    }

    /// Calls `f(p)` (one fit) or `f(fit, p)` (a batch) with the GIL and copies its float64
    /// result: `n` values, or with `np = Some(P)` an `n x P` Jacobian (2-D even for `P = 1`).
    fn call(
        &self,
        f: &Py<PyAny>,
        fit: usize,
        p: &[f64],
        n: usize,
        np: Option<usize>,
    ) -> PyResult<Vec<f64>> {
        Python::attach(|py| {
            let out = match self.points {
                Points::Single(_) => f.call1(py, (p.to_vec(),))?,
                Points::Batch(_) => f.call1(py, (fit, p.to_vec()))?,
            };
            let out = out.bind(py);
            let Some(np) = np else {
                let a: PyReadonlyArray1<'_, f64> = out.extract()?;
                let v = a.as_slice()?;
                if v.len() != n {
                    return Err(PyValueError::new_err(format!(
                        "the model function returned {} values for {n} points",
                        v.len()
                    )));
                }
                return Ok(v.to_vec());
            };
            let a: PyReadonlyArray2<'_, f64> = out.extract()?;
            if a.shape() != [n, np] {
                return Err(PyValueError::new_err(format!(
                    "the Jacobian has shape {:?}, expected {:?}",
                    a.shape(),
                    [n, np]
                )));
            }
            Ok(a.as_slice()?.to_vec())
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
        let g = Self::index(x);
        self.arrays(g, p, false)
            .and_then(|a| a.at(g, 0).map(|(v, _)| v))
            .unwrap_or(f64::NAN)
    }
    fn eval_with_gradient(&self, x: &[f64], p: &[f64], grad: &mut [f64]) -> f64 {
        let g = Self::index(x);
        let np = self.names.len();
        match self.arrays(g, p, true).as_ref().and_then(|a| a.at(g, np)) {
            Some((v, Some(row))) => {
                grad.copy_from_slice(row);
                v
            }
            _ => {
                grad.fill(f64::NAN);
                f64::NAN
            }
        }
    }
    fn eval_block(&self, x: &[&[f64; BLOCK]], p: &[f64], value: &mut [f64; BLOCK]) {
        // A block's points lie in one fit (the last block of a fit repeats its last point).
        let arrays = self.arrays(x[0][0] as usize, p, false);
        for (k, out) in value.iter_mut().enumerate() {
            let g = x[0][k] as usize;
            *out = arrays
                .as_ref()
                .and_then(|a| a.at(g, 0))
                .map_or(f64::NAN, |(v, _)| v);
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
        let arrays = self.arrays(x[0][0] as usize, p, true);
        for (k, out) in value.iter_mut().enumerate() {
            let g = x[0][k] as usize;
            match arrays.as_ref().and_then(|a| a.at(g, np)) {
                Some((v, Some(row))) => {
                    *out = v;
                    for (col, d) in grad.iter_mut().zip(row) {
                        col[k] = *d;
                    }
                }
                _ => {
                    *out = f64::NAN;
                    for col in grad.iter_mut() {
                        col[k] = f64::NAN;
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
