//! Validated fit data: predictor columns, observations and per-point weights.

use crate::error::FitError;
use crate::scan::{all_finite, lane_sum};
use std::borrow::Cow;

/// What to do with points whose `x` or `y` is NaN or infinite.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NanPolicy {
    /// Refuse the data, naming the first offending point (the default).
    #[default]
    Raise,
    /// Drop such points before fitting; the result reports how many.
    Omit,
}

/// Predictor columns, observations and optional weights, all of one length and finite.
#[derive(Clone, Debug)]
pub struct FitData<'a> {
    /// `K` predictor columns.
    pub x: Vec<Cow<'a, [f64]>>,
    /// Observations.
    pub y: Cow<'a, [f64]>,
    /// Residual weights `1 / sigma_i`, when sigma was given.
    pub weights: Option<Vec<f64>>,
    /// Points dropped under [`NanPolicy::Omit`].
    pub omitted: usize,
}

fn column_name(k: usize, n_inputs: usize) -> String {
    if n_inputs == 1 {
        "x".to_string()
    } else {
        format!("x[{k}]")
    }
}

/// What the result statistics need from the data: sizes and the spread of `y`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DataSummary {
    /// Points fitted.
    pub n: usize,
    /// Points dropped as non-finite.
    pub omitted: usize,
    /// `ȳ`, the mean of the fitted observations.
    pub mean_y: f64,
    /// `Σ (y − ȳ)²`.
    pub sst: f64,
}

impl DataSummary {
    /// The summary of the data of `self` and `other` together (Chan's update of the mean and
    /// spread), as if it were one dataset.
    ///
    /// ```
    /// use nlsq_runtime::data::DataSummary;
    /// let a = DataSummary { n: 2, omitted: 0, mean_y: 1.0, sst: 2.0 }; // y = 0, 2
    /// let b = DataSummary { n: 1, omitted: 1, mean_y: 4.0, sst: 0.0 }; // y = 4
    /// let ab = a.merged(&b);
    /// assert_eq!((ab.n, ab.omitted, ab.mean_y), (3, 1, 2.0));
    /// assert!((ab.sst - 8.0).abs() < 1e-12);
    /// ```
    pub fn merged(&self, other: &DataSummary) -> DataSummary {
        let omitted = self.omitted + other.omitted;
        if other.n == 0 {
            return DataSummary { omitted, ..*self };
        }
        if self.n == 0 {
            return DataSummary { omitted, ..*other };
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let n = self.n + other.n;
        let delta = other.mean_y - self.mean_y;
        DataSummary {
            n,
            omitted,
            mean_y: self.mean_y + delta * nb / n as f64,
            sst: self.sst + other.sst + delta * delta * na * nb / n as f64,
        }
    }
}

impl<'a> FitData<'a> {
    /// Sizes and the spread of `y`.
    pub fn summary(&self) -> DataSummary {
        let n = self.len();
        let mean = lane_sum(&self.y, |y| y) / n as f64;
        DataSummary {
            n,
            omitted: self.omitted,
            mean_y: mean,
            sst: lane_sum(&self.y, |y| (y - mean) * (y - mean)),
        }
    }

    /// Checks lengths, finiteness and sigma, applying `policy` to non-finite `x` / `y`.
    pub fn new(
        columns: Vec<&'a [f64]>,
        y: &'a [f64],
        sigma: Option<&[f64]>,
        policy: NanPolicy,
        n_inputs: usize,
    ) -> Result<Self, FitError> {
        Self::unscanned(columns, y, sigma, n_inputs)?.scan(policy)
    }

    /// Checks lengths and sigma but not the finiteness of `x` and `y`: that is left to
    /// [`FitData::scan`], or to a device that checks the data after uploading it (the CUDA
    /// backend's `nlsq_data_check`) and reports through [`FitData::nonfinite_error`].
    pub(crate) fn unscanned(
        columns: Vec<&'a [f64]>,
        y: &'a [f64],
        sigma: Option<&[f64]>,
        n_inputs: usize,
    ) -> Result<Self, FitError> {
        if columns.len() != n_inputs {
            return Err(FitError::LengthMismatch {
                what: "x (number of predictor columns)".into(),
                got: columns.len(),
                expected: n_inputs,
            });
        }
        let n = y.len();
        if n == 0 {
            return Err(FitError::EmptyData);
        }
        for (k, c) in columns.iter().enumerate() {
            if c.len() != n {
                return Err(FitError::LengthMismatch {
                    what: column_name(k, n_inputs),
                    got: c.len(),
                    expected: n,
                });
            }
        }
        let weights = match sigma {
            None => None,
            Some(s) => {
                if s.len() != n {
                    return Err(FitError::LengthMismatch {
                        what: "sigma".into(),
                        got: s.len(),
                        expected: n,
                    });
                }
                if let Some(i) = s.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
                    return Err(FitError::BadSigma(format!(
                        "sigma[{i}] = {}: standard deviations must be positive and finite",
                        s[i]
                    )));
                }
                Some(s.iter().map(|v| 1.0 / v).collect::<Vec<f64>>())
            }
        };
        Ok(FitData {
            x: columns.into_iter().map(Cow::Borrowed).collect(),
            y: Cow::Borrowed(y),
            weights,
            omitted: 0,
        })
    }

    /// Whether point `i`'s `y` or a predictor is not finite.
    fn is_bad(&self, i: usize) -> bool {
        !self.y[i].is_finite() || self.x.iter().any(|c| !c[i].is_finite())
    }

    /// The first point whose `y` or a predictor is not finite: whole-column scans first (they
    /// vectorize), the point-wise search only when one fails.
    pub(crate) fn first_nonfinite(&self) -> Option<usize> {
        let finite = all_finite(&self.y) && self.x.iter().all(|c| all_finite(c));
        if finite {
            None
        } else {
            (0..self.len()).find(|&i| self.is_bad(i))
        }
    }

    /// The error [`NanPolicy::Raise`] reports for point `index`: its first non-finite
    /// predictor, else its `y`.
    pub fn nonfinite_error(&self, index: usize) -> FitError {
        let n_inputs = self.n_inputs();
        let (what, value) = match self.x.iter().position(|c| !c[index].is_finite()) {
            Some(k) => (column_name(k, n_inputs), self.x[k][index]),
            None => ("y".to_string(), self.y[index]),
        };
        FitError::NonFiniteData { what, index, value }
    }

    /// Applies `policy` to points whose `x` or `y` is not finite: an error naming the first
    /// ([`NanPolicy::Raise`]), or the data without them ([`NanPolicy::Omit`]).
    pub(crate) fn scan(self, policy: NanPolicy) -> Result<Self, FitError> {
        let Some(first) = self.first_nonfinite() else {
            return Ok(self);
        };
        match policy {
            NanPolicy::Raise => Err(self.nonfinite_error(first)),
            NanPolicy::Omit => {
                let n = self.len();
                let keep: Vec<usize> = (0..n).filter(|&i| !self.is_bad(i)).collect();
                let pick = |v: &[f64]| keep.iter().map(|&i| v[i]).collect::<Vec<f64>>();
                Ok(FitData {
                    x: self.x.iter().map(|c| Cow::Owned(pick(c))).collect(),
                    y: Cow::Owned(pick(&self.y)),
                    weights: self.weights.as_deref().map(pick),
                    omitted: n - keep.len(),
                })
            }
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Number of predictors.
    pub fn n_inputs(&self) -> usize {
        self.x.len()
    }

    /// Writes the predictors of point `i` into `out` (length `K`).
    #[inline]
    pub fn point(&self, i: usize, out: &mut [f64]) {
        for (o, c) in out.iter_mut().zip(&self.x) {
            *o = c[i];
        }
    }

    /// The weight of point `i` (1 without sigma).
    #[inline]
    pub fn weight(&self, i: usize) -> f64 {
        self.weights.as_ref().map_or(1.0, |w| w[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_inputs_with_typed_errors() {
        let x = [1.0, 2.0, 3.0];
        let y = [1.0, f64::NAN, 3.0];
        let e = FitData::new(vec![&x], &y, None, NanPolicy::Raise, 1).unwrap_err();
        assert!(matches!(e, FitError::NonFiniteData { index: 1, ref what, .. } if what == "y"));
        let e = FitData::new(vec![&x[..2]], &y, None, NanPolicy::Raise, 1).unwrap_err();
        assert!(matches!(
            e,
            FitError::LengthMismatch {
                got: 2,
                expected: 3,
                ..
            }
        ));
        let e = FitData::new(vec![], &[], None, NanPolicy::Raise, 0).unwrap_err();
        assert_eq!(e, FitError::EmptyData);
        let e = FitData::new(vec![&x], &x, Some(&[1.0, 0.0, 1.0]), NanPolicy::Raise, 1);
        assert!(matches!(e, Err(FitError::BadSigma(_))));
        let d = FitData::new(vec![&x], &y, Some(&[1.0, 2.0, 4.0]), NanPolicy::Omit, 1).unwrap();
        assert_eq!((d.len(), d.omitted), (2, 1));
        assert_eq!(d.weights.as_deref(), Some(&[1.0, 0.25][..]));
    }

    #[test]
    fn unscanned_data_defers_the_finiteness_check_to_the_same_error() {
        let x0 = [1.0, 2.0, 3.0, 4.0];
        let x1 = [1.0, 2.0, f64::INFINITY, 4.0];
        let y = [1.0, 2.0, f64::NAN, f64::NAN];
        // Lengths and sigma are still checked; finiteness is not.
        let e = FitData::unscanned(vec![&x0, &x1], &y, Some(&[1.0, -1.0, 1.0, 1.0]), 2);
        assert!(matches!(e, Err(FitError::BadSigma(_))));
        let d = FitData::unscanned(vec![&x0, &x1], &y, None, 2).unwrap();
        assert_eq!(d.first_nonfinite(), Some(2));
        // Point 2: its second predictor is named before its y, as FitData::new does.
        let e = d.nonfinite_error(2);
        let from_new = FitData::new(vec![&x0, &x1], &y, None, NanPolicy::Raise, 2).unwrap_err();
        assert_eq!(e, from_new);
        assert!(matches!(e, FitError::NonFiniteData { index: 2, ref what, .. } if what == "x[1]"));
        assert!(
            matches!(d.nonfinite_error(3), FitError::NonFiniteData { index: 3, ref what, .. } if what == "y")
        );
        let omitted = d.scan(NanPolicy::Omit).unwrap();
        assert_eq!((omitted.len(), omitted.omitted), (2, 2));
        let clean = FitData::unscanned(vec![&x0], &x0, None, 1).unwrap();
        assert_eq!(clean.first_nonfinite(), None);
    }
}
