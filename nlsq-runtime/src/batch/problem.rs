//! Batch-level validation (shapes: these are [`FitError`]s) and the per-fit view with its own
//! checks (these end in a [`FitState`], never in an error).

use super::Estimator;
use super::result::FitState;
use crate::error::FitError;

/// Where each fit's points lie in the flat data.
#[derive(Clone, Debug)]
pub(crate) enum Layout {
    /// All fits have `n` points: fit `i` is `i * n .. (i + 1) * n`.
    Equal(usize),
    /// Fit `i` is `offsets[i] .. offsets[i + 1]`.
    Offsets(Vec<usize>),
}

/// Observations in the precision they were given in.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Values<'a> {
    /// Double precision.
    F64(&'a [f64]),
    /// Single precision (widened to f64 where the CPU reads them).
    F32(&'a [f32]),
}

impl<'a> Values<'a> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Values::F64(v) => v.len(),
            Values::F32(v) => v.len(),
        }
    }

    #[inline(always)]
    pub(crate) fn get(&self, i: usize) -> f64 {
        match self {
            Values::F64(v) => v[i],
            Values::F32(v) => f64::from(v[i]),
        }
    }

    pub(crate) fn slice(&self, r: std::ops::Range<usize>) -> Values<'a> {
        match self {
            Values::F64(v) => Values::F64(&v[r]),
            Values::F32(v) => Values::F32(&v[r]),
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// Predictors of the fits.
#[derive(Clone, Copy, Debug)]
pub(crate) enum XData<'a> {
    /// Point `i` of every fit is `x[i * K .. (i + 1) * K]` (fits use a prefix).
    Shared(&'a [f64]),
    /// Point `g` of the flat data (fit-major) is `x[g * K .. (g + 1) * K]`.
    PerFit(&'a [f64]),
    /// No predictors given (`K = 1`): point `i` of every fit is at `x = i`.
    Index,
}

/// A per-fit array given once for all fits (stride 0) or per fit (stride `P`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PerFit<'a, T> {
    pub data: &'a [T],
    pub stride: usize,
}

impl<'a, T> PerFit<'a, T> {
    pub(crate) fn new(
        data: &'a [T],
        what: &str,
        n_fits: usize,
        p: usize,
    ) -> Result<Self, FitError> {
        if data.len() == p {
            Ok(PerFit { data, stride: 0 })
        } else if data.len() == n_fits * p {
            Ok(PerFit { data, stride: p })
        } else {
            Err(FitError::LengthMismatch {
                what: format!("{what} (P = {p} for all fits, or n_fits * P)"),
                got: data.len(),
                expected: n_fits * p,
            })
        }
    }

    pub(crate) fn of(&self, i: usize, p: usize) -> &'a [T] {
        &self.data[i * self.stride..i * self.stride + p]
    }
}

/// A validated batch: every shape checked, per-fit contents not yet.
#[derive(Clone, Debug)]
pub(crate) struct Problem<'a> {
    pub n_fits: usize,
    pub n_params: usize,
    pub n_inputs: usize,
    pub layout: Layout,
    pub y: Values<'a>,
    pub x: XData<'a>,
    pub weights: Option<&'a [f64]>,
    pub p0: PerFit<'a, f64>,
    pub lower: Option<PerFit<'a, f64>>,
    pub upper: Option<PerFit<'a, f64>>,
    pub fixed: Option<PerFit<'a, bool>>,
    pub estimator: Estimator,
}

/// One fit's slices.
pub(crate) struct FitView<'a> {
    pub y: Values<'a>,
    /// `len * K` predictors (point-major) or `None` for the index predictor.
    pub x: Option<&'a [f64]>,
    pub weights: Option<&'a [f64]>,
    pub p0: &'a [f64],
    pub lower: Option<&'a [f64]>,
    pub upper: Option<&'a [f64]>,
    pub fixed: Option<&'a [bool]>,
}

impl<'a> Problem<'a> {
    /// Points of fit `i` in the flat data.
    pub(crate) fn range(&self, i: usize) -> std::ops::Range<usize> {
        match &self.layout {
            Layout::Equal(n) => i * n..(i + 1) * n,
            Layout::Offsets(o) => o[i]..o[i + 1],
        }
    }

    pub(crate) fn view(&self, i: usize) -> FitView<'a> {
        let r = self.range(i);
        let (p, k) = (self.n_params, self.n_inputs);
        FitView {
            y: self.y.slice(r.clone()),
            x: match self.x {
                XData::Shared(x) => Some(&x[..r.len() * k]),
                XData::PerFit(x) => Some(&x[r.start * k..r.end * k]),
                XData::Index => None,
            },
            weights: self.weights.map(|w| &w[r]),
            p0: self.p0.of(i, p),
            lower: self.lower.map(|l| l.of(i, p)),
            upper: self.upper.map(|u| u.of(i, p)),
            fixed: self.fixed.map(|f| f.of(i, p)),
        }
    }
}

impl FitView<'_> {
    /// The fit's own checks, in order: parameters and bounds, then data. `None` when the fit
    /// can run.
    pub(crate) fn check(&self, estimator: Estimator) -> Option<FitState> {
        let p = self.p0.len();
        let mut n_free = 0;
        for j in 0..p {
            let lo = self.lower.map_or(f64::NEG_INFINITY, |l| l[j]);
            let hi = self.upper.map_or(f64::INFINITY, |u| u[j]);
            let v = self.p0[j];
            if !v.is_finite() || lo.is_nan() || hi.is_nan() || lo > hi || v < lo || v > hi {
                return Some(FitState::InvalidInput);
            }
            n_free += usize::from(!self.fixed.is_some_and(|f| f[j]));
        }
        if self.y.len() < n_free {
            return Some(FitState::InvalidInput);
        }
        if let Some(w) = self.weights {
            if w.iter().any(|v| !v.is_finite()) {
                return Some(FitState::NonFinite);
            }
            if w.iter().any(|&v| v < 0.0) {
                return Some(FitState::InvalidInput);
            }
        }
        if self.y.iter().any(|v| !v.is_finite())
            || self.x.is_some_and(|x| x.iter().any(|v| !v.is_finite()))
        {
            return Some(FitState::NonFinite);
        }
        if estimator == Estimator::PoissonMle && self.y.iter().any(|v| v < 0.0) {
            return Some(FitState::InvalidInput);
        }
        None
    }
}
