//! One dataset of a [`GlobalFit`](super::GlobalFit): its model, its data, and the settings that
//! belong to it (starting values, bounds, sigma, where its passes run).

use crate::backend::Backend;
use crate::data::NanPolicy;
use crate::fit::CurveFit;
use crate::model::Model;
use crate::predictors::Predictors;
use crate::stream::DataSource;
use kernels_gen::Precision;

/// Where a dataset's observations come from.
pub(super) enum Data<'a> {
    /// In memory: predictor columns and observations.
    Slices { x: Vec<&'a [f64]>, y: &'a [f64] },
    /// A data source of any size (sigma comes from the source).
    Source(&'a mut dyn DataSource),
}

/// One dataset of a [`GlobalFit`](super::GlobalFit): a model and its data, with the settings
/// that are the dataset's own. The fit's method, loss, tolerances and callback are the global
/// fit's.
///
/// ```
/// use nlsq_runtime::{ExprModel, fit::global::Dataset};
/// let model = ExprModel::parse("a * exp(-k * x)").unwrap();
/// let (x, y) = ([0.0, 1.0, 2.0], [2.0, 1.2, 0.7]);
/// let d = Dataset::new(&model, &x[..], &y).label("run1").p0([2.0, 0.5]);
/// # let _ = d;
/// ```
#[must_use = "a Dataset does nothing until a GlobalFit fits it"]
pub struct Dataset<'a> {
    pub(super) label: Option<String>,
    pub(super) fit: CurveFit<'a, &'a dyn Model>,
    pub(super) data: Data<'a>,
}

impl<'a> Dataset<'a> {
    /// `y ≈ model(x; p)` on in-memory data: `x` is one slice for a single predictor, or `K`
    /// column slices.
    pub fn new<X: Predictors + ?Sized>(model: &'a dyn Model, x: &'a X, y: &'a [f64]) -> Self {
        Dataset {
            label: None,
            fit: CurveFit::new(model),
            data: Data::Slices { x: x.columns(), y },
        }
    }

    /// `y ≈ model(x; p)` on the data of `source`, of any size: read into memory when it fits
    /// the host budget, else streamed (one read per pass; the source must then be
    /// re-iterable). Sigma comes from the source.
    pub fn from_source(model: &'a dyn Model, source: &'a mut dyn DataSource) -> Self {
        Dataset {
            label: None,
            fit: CurveFit::new(model),
            data: Data::Source(source),
        }
    }

    /// The label that names the dataset's own parameters (`amp[label]`) and the dataset in
    /// reports; the default is its position among the datasets, from 0.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Starting values of the model's parameters (default all 1.0). A shared parameter starts
    /// from the first dataset that has it.
    pub fn p0(mut self, p0: impl Into<Vec<f64>>) -> Self {
        self.fit = self.fit.p0(p0);
        self
    }

    /// Bounds of the model's parameters. A shared parameter is bounded by every dataset's
    /// bounds on it (their intersection).
    pub fn bounds(mut self, lower: impl Into<Vec<f64>>, upper: impl Into<Vec<f64>>) -> Self {
        self.fit = self.fit.bounds(lower, upper);
        self
    }

    /// Standard deviations of the observations, one per point.
    pub fn sigma(mut self, sigma: &[f64]) -> Self {
        self.fit = self.fit.sigma(sigma);
        self
    }

    /// What to do with non-finite observations (default [`NanPolicy::Raise`]).
    pub fn nan_policy(mut self, policy: NanPolicy) -> Self {
        self.fit = self.fit.nan_policy(policy);
        self
    }

    /// Where this dataset's passes run (default [`Backend::Auto`]); datasets of one fit may
    /// run on different backends.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.fit = self.fit.backend(backend);
        self
    }

    /// The precision of this dataset's GPU passes (default f64).
    pub fn precision(mut self, precision: Precision) -> Self {
        self.fit = self.fit.precision(precision);
        self
    }

    /// Reads this dataset in chunks of `points` per pass (as [`CurveFit::chunk_points`]).
    pub fn chunk_points(mut self, points: usize) -> Self {
        self.fit = self.fit.chunk_points(points);
        self
    }

    /// The host memory this dataset's passes may use (as [`CurveFit::max_host_bytes`]).
    pub fn max_host_bytes(mut self, bytes: u64) -> Self {
        self.fit = self.fit.max_host_bytes(bytes);
        self
    }
}
