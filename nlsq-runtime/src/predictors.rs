//! Predictor data accepted by [`crate::CurveFit::fit`]: one slice, or `K` column slices.

/// Predictor data: one slice for a single predictor, or `K` column slices.
pub trait Predictors {
    /// The predictor columns.
    fn columns(&self) -> Vec<&[f64]>;
}

impl Predictors for [f64] {
    fn columns(&self) -> Vec<&[f64]> {
        vec![self]
    }
}

impl Predictors for Vec<f64> {
    fn columns(&self) -> Vec<&[f64]> {
        vec![self.as_slice()]
    }
}

impl<const N: usize> Predictors for [f64; N] {
    fn columns(&self) -> Vec<&[f64]> {
        vec![self.as_slice()]
    }
}

impl Predictors for [&[f64]] {
    fn columns(&self) -> Vec<&[f64]> {
        self.to_vec()
    }
}

impl<const K: usize> Predictors for [&[f64]; K] {
    fn columns(&self) -> Vec<&[f64]> {
        self.to_vec()
    }
}

impl Predictors for [Vec<f64>] {
    fn columns(&self) -> Vec<&[f64]> {
        self.iter().map(Vec::as_slice).collect()
    }
}

impl Predictors for Vec<Vec<f64>> {
    fn columns(&self) -> Vec<&[f64]> {
        self.iter().map(Vec::as_slice).collect()
    }
}
