//! Views of the numpy arrays the Python side passes (already float64 and C-contiguous there;
//! anything else is a `ValueError`, not a copy).

use crate::errors::bad;
use numpy::{PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;

/// The rows of a C-contiguous `(K, N)` array, as column slices of K predictors.
pub fn columns<'a>(x: &'a PyReadonlyArray2<'_, f64>) -> PyResult<Vec<&'a [f64]>> {
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
pub fn slice<'a>(a: &'a PyReadonlyArray1<'_, f64>, what: &str) -> PyResult<&'a [f64]> {
    a.as_slice()
        .map_err(|_| bad(format!("{what} must be a contiguous float64 array")))
}

/// [`slice()`] of an optional array.
pub fn opt_slice<'a>(
    a: &'a Option<PyReadonlyArray1<'_, f64>>,
    what: &str,
) -> PyResult<Option<&'a [f64]>> {
    a.as_ref().map(|a| slice(a, what)).transpose()
}

/// A C-contiguous `(R, C)` array as a matrix.
pub fn matrix(a: &PyReadonlyArray2<'_, f64>, what: &str) -> PyResult<nalgebra::DMatrix<f64>> {
    let [r, c] = [a.shape()[0], a.shape()[1]];
    let flat = a
        .as_slice()
        .map_err(|_| bad(format!("{what} must be C-contiguous")))?;
    Ok(nalgebra::DMatrix::from_row_slice(r, c, flat))
}
