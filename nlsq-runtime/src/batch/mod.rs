//! Batched fitting: many independent small fits of one model in one call (Gpufit's use case:
//! localization microscopy, spectroscopy maps, MRI), with variable lengths, per-fit bounds and
//! weights, fixed parameters, least squares or Poisson maximum likelihood, and per-fit states
//! instead of batch-wide failures.
//!
//! # Data layout
//!
//! * `y`: all fits' points in one flat array, fit after fit. Lengths: [`BatchFit::lengths`]
//!   (one per fit, may differ) or [`BatchFit::equal_length`].
//! * Predictors, point-major (predictor `k` of a point at `point * K + k`): either shared by
//!   every fit ([`BatchFit::x_shared`], `n_x * K` values; a fit of `n` points uses the first
//!   `n`), or one set per point of the flat data ([`BatchFit::x`], `total * K` values). Without
//!   either (and `K = 1`), point `i` of each fit is at `x = i`, as in Gpufit.
//! * Per-fit parameter arrays (p0, bounds, fixed mask): `n_fits * P` values, fit-major, or
//!   just `P` values shared by every fit.
//!
//! # Estimators
//!
//! See [`Estimator`] and [`lm::point_terms`] for the exact per-point terms. Weights multiply
//! the squared residual (`w = 1/σ²`, Gpufit's convention; scipy's `sigma` is `1/sqrt(w)`).
//!
//! # Algorithm and convergence
//!
//! Every backend runs the same per-fit Levenberg–Marquardt, documented step by step in
//! [`lm`]: Marquardt damping `diag(H)·(1+λ)`, `λ₀ = 1e-3`, `÷10` on an accepted step (χ² did
//! not increase), `×10` on a rejected one, steps clamped into the bounds, and Gpufit's
//! relative convergence rule `χ² - χ²' < tolerance · max(1, χ²')`, tested on accepted steps,
//! optionally with a step condition ([`BatchFit::step_tolerance`]; needed for parameters more
//! precise than about `sqrt(tolerance)`).
//!
//! # Backends
//!
//! The CPU (rayon, f64); CUDA with the `cuda` feature (`Model::cuda_batch_source`: one thread
//! per fit up to 64 points, one warp per fit beyond, f32 or f64, equal-length batches streamed
//! in chunks over two streams); wgpu with the `wgpu` feature (`Model::wgsl_batch_source`: one
//! invocation per fit, f32, or f64 where the adapter has `SHADER_F64`, fits dispatched in
//! chunks of [`BatchFit::device_chunk`]; llvmpipe ends a shader invocation's loops after 65535
//! iterations in all, so a fit needing more, roughly points × iterations (a few hundred
//! iterations of 30 points), is an error there). Models with more than 16 parameters have no device
//! modules and fit on the CPU.
//!
//! ```
//! use nlsq_runtime::ExprModel;
//! use nlsq_runtime::batch::{BatchFit, FitState};
//! let model = ExprModel::parse("a * exp(-b * x)").unwrap();
//! let x: Vec<f64> = (0..10).map(|i| i as f64 * 0.3).collect();
//! // Two fits of 10 points each.
//! let mut y = Vec::new();
//! for (a, b) in [(2.0, 0.5), (1.0, 1.5)] {
//!     y.extend(x.iter().map(|x| a * f64::exp(-b * x)));
//! }
//! let r = BatchFit::new(&model)
//!     .data(&y)
//!     .equal_length(10)
//!     .x_shared(&x)
//!     .p0(&[1.0, 1.0])
//!     .tolerance(1e-12)
//!     .max_iterations(100)
//!     .fit()
//!     .unwrap();
//! assert_eq!(r.states, [FitState::Converged; 2]);
//! assert!((r.params_of(1)[1] - 1.5).abs() < 1e-8);
//! ```

mod choose;
mod cpu;
#[cfg(feature = "cuda")]
mod cuda;
#[cfg(feature = "mpi")]
mod gather;
pub mod lm;
mod problem;
pub mod result;
#[cfg(feature = "wgpu")]
mod wgpu;

pub use result::{BatchResult, FitState};

use crate::backend::Backend;
use crate::error::FitError;
use crate::model::Model;
use kernels_gen::Precision;
use problem::{Layout, PerFit, Problem, Values, XData};

/// The quantity each fit minimises.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Estimator {
    /// Weighted least squares: `χ² = Σ w (f - y)²`.
    #[default]
    Lse,
    /// Poisson maximum likelihood (counts `y >= 0`, model `f > 0`), Gpufit's formulation:
    /// `χ² = 2 Σ (f - y) - 2 Σ_{y>0} y ln(f / y)` (the deviance, twice the negative
    /// log-likelihood up to a constant), gradient `Σ (1 - y/f) ∇f`, Hessian approximated by
    /// `Σ (y/f²) ∇f ∇fᵀ`. Unweighted.
    PoissonMle,
}

/// Default relative χ² tolerance (Gpufit's default).
pub const DEFAULT_TOLERANCE: f64 = 1e-4;
pub use crate::backend::AUTO_GPU_MIN_FITS;

/// Fits per chunk of a device batch of equal-length fits (default of
/// [`BatchFit::device_chunk`]): chunks alternate between two streams, so that one chunk's
/// upload overlaps the previous chunk's kernel and read-back.
pub const DEVICE_CHUNK_FITS: usize = 1 << 18;

/// Default iteration budget (Gpufit's default).
pub const DEFAULT_MAX_ITERATIONS: u32 = 25;

#[derive(Clone, Copy, Debug)]
enum Lengths<'a> {
    Equal(usize),
    PerFit(&'a [usize]),
}

#[derive(Clone, Copy, Debug)]
enum XInput<'a> {
    Shared(&'a [f64]),
    PerPoint(&'a [f64]),
}

/// A batch of fits of one model, configured step by step and run with [`BatchFit::fit`]. See
/// the [module documentation](self) for layouts and the algorithm.
#[derive(Clone, Debug)]
#[must_use = "a BatchFit does nothing until `fit` runs it"]
pub struct BatchFit<'a, M: Model> {
    model: M,
    y: Option<Values<'a>>,
    lengths: Option<Lengths<'a>>,
    x: Option<XInput<'a>>,
    p0: Option<&'a [f64]>,
    bounds: Option<(&'a [f64], &'a [f64])>,
    weights: Option<&'a [f64]>,
    fixed: Option<&'a [bool]>,
    estimator: Estimator,
    tolerance: f64,
    step_tolerance: Option<f64>,
    max_iterations: u32,
    covariance: bool,
    backend: Backend,
    precision: Precision,
    device_chunk: usize,
    #[cfg(feature = "mpi")]
    dist: Option<std::rc::Rc<crate::distributed::Dist>>,
    #[cfg(feature = "mpi")]
    results_on: crate::distributed::ResultsOn,
}

/// The flat outputs every backend writes.
#[derive(Clone, Debug)]
pub(crate) struct Outputs {
    pub params: Vec<f64>,
    pub states: Vec<FitState>,
    pub chi2: Vec<f64>,
    pub iterations: Vec<u32>,
    pub covariance: Option<Vec<f64>>,
}

impl<'a, M: Model> BatchFit<'a, M> {
    /// A batch of fits of `model` with the defaults: least squares, tolerance
    /// [`DEFAULT_TOLERANCE`], [`DEFAULT_MAX_ITERATIONS`], no covariance, [`Backend::Auto`],
    /// f64.
    pub fn new(model: M) -> Self {
        BatchFit {
            model,
            y: None,
            lengths: None,
            x: None,
            p0: None,
            bounds: None,
            weights: None,
            fixed: None,
            estimator: Estimator::Lse,
            tolerance: DEFAULT_TOLERANCE,
            step_tolerance: None,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            covariance: false,
            backend: Backend::Auto,
            precision: Precision::F64,
            device_chunk: DEVICE_CHUNK_FITS,
            #[cfg(feature = "mpi")]
            dist: None,
            #[cfg(feature = "mpi")]
            results_on: crate::distributed::ResultsOn::Every,
        }
    }

    /// Splits a batch over the processes of `comm` (feature `mpi`): every rank gives its own
    /// fits (usually [`shard`](crate::distributed::shard) of the whole batch) with the same
    /// options, fits them, and gets the results of every rank's fits, concatenated in rank
    /// order (or, with [`results_on`](Self::results_on), rank 0 only, or each rank its own).
    /// This duplicates `comm`, a collective call. A rank whose batch fails ends the batch on
    /// every rank ([`FitError::Distributed`] on the others).
    #[cfg(feature = "mpi")]
    pub fn communicator<C: mpi::traits::Communicator>(mut self, comm: &C) -> Self {
        self.dist = Some(std::rc::Rc::new(crate::distributed::Dist::new(comm)));
        self
    }

    /// Where the results of a distributed batch go (default
    /// [`ResultsOn::Every`](crate::distributed::ResultsOn::Every)); set with or after
    /// [`communicator`](Self::communicator).
    #[cfg(feature = "mpi")]
    pub fn results_on(mut self, results_on: crate::distributed::ResultsOn) -> Self {
        self.results_on = results_on;
        self
    }

    /// How long a rank waits for the others when the results are gathered (default
    /// [`DEFAULT_TIMEOUT`](crate::distributed::DEFAULT_TIMEOUT)); set after
    /// [`communicator`](Self::communicator).
    #[cfg(feature = "mpi")]
    pub fn distributed_timeout(self, timeout: std::time::Duration) -> Self {
        if let Some(d) = &self.dist {
            d.set_timeout(timeout);
        }
        self
    }

    /// The observations of every fit, one after the other.
    pub fn data(mut self, y: &'a [f64]) -> Self {
        self.y = Some(Values::F64(y));
        self
    }

    /// The observations in single precision (Gpufit's input type), instead of [`Self::data`]:
    /// an f32 device batch uploads them as they are, without a conversion copy; the CPU
    /// widens each value to f64.
    pub fn data_f32(mut self, y: &'a [f32]) -> Self {
        self.y = Some(Values::F32(y));
        self
    }

    /// The number of points of each fit (their sum must be the data's length).
    pub fn lengths(mut self, lengths: &'a [usize]) -> Self {
        self.lengths = Some(Lengths::PerFit(lengths));
        self
    }

    /// Every fit has `n` points (the data's length must be a multiple of `n`).
    pub fn equal_length(mut self, n: usize) -> Self {
        self.lengths = Some(Lengths::Equal(n));
        self
    }

    /// Predictors shared by every fit, point-major (`n_x * K` values).
    pub fn x_shared(mut self, x: &'a [f64]) -> Self {
        self.x = Some(XInput::Shared(x));
        self
    }

    /// Predictors of every point of the flat data, point-major (`total * K` values).
    pub fn x(mut self, x: &'a [f64]) -> Self {
        self.x = Some(XInput::PerPoint(x));
        self
    }

    /// Starting values: `n_fits * P` (fit-major) or `P` shared by all fits. Required.
    pub fn p0(mut self, p0: &'a [f64]) -> Self {
        self.p0 = Some(p0);
        self
    }

    /// Lower and upper bounds, each `n_fits * P` or `P` (infinities for none).
    pub fn bounds(mut self, lower: &'a [f64], upper: &'a [f64]) -> Self {
        self.bounds = Some((lower, upper));
        self
    }

    /// Weights of the squared residuals (`1/σ²`), one per point of the flat data.
    pub fn weights(mut self, w: &'a [f64]) -> Self {
        self.weights = Some(w);
        self
    }

    /// Parameters held at their p0 (`true` = fixed): `n_fits * P` or `P`.
    pub fn fixed(mut self, mask: &'a [bool]) -> Self {
        self.fixed = Some(mask);
        self
    }

    /// The estimator (default least squares).
    pub fn estimator(mut self, estimator: Estimator) -> Self {
        self.estimator = estimator;
        self
    }

    /// Relative χ² change for convergence (default [`DEFAULT_TOLERANCE`]).
    pub fn tolerance(mut self, tol: f64) -> Self {
        self.tolerance = tol;
        self
    }

    /// Also require every free parameter's last step to be at most `xtol · (|p_j| + xtol)`
    /// for convergence (default: no step condition, Gpufit's rule). Needed for parameters
    /// more precise than `sqrt(tolerance)`: χ² is too flat near its minimum to locate them.
    pub fn step_tolerance(mut self, xtol: f64) -> Self {
        self.step_tolerance = Some(xtol);
        self
    }

    /// Iteration budget per fit (default [`DEFAULT_MAX_ITERATIONS`]).
    pub fn max_iterations(mut self, n: u32) -> Self {
        self.max_iterations = n;
        self
    }

    /// Whether to compute covariances and standard errors (default no). Least squares: the
    /// inverse of `JᵀWJ` scaled by `χ²/(n - free)` (scipy's default, `absolute_sigma=False`;
    /// NaN for fits with no more points than free parameters);
    /// Poisson MLE: the inverse Fisher information `(Σ ∇f ∇fᵀ / f)⁻¹`.
    pub fn covariance(mut self, yes: bool) -> Self {
        self.covariance = yes;
        self
    }

    /// Where the fits run (default [`Backend::Auto`]: from [`AUTO_GPU_MIN_FITS`] fits, CUDA
    /// when built with the `cuda` feature and a device is present, else a hardware wgpu adapter
    /// (feature `wgpu`; never a software one such as lavapipe), where the model has batch
    /// kernels; else the CPU). The result says which and why.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Precision of data, model evaluation and the per-fit solve on a device (default f64;
    /// f32 is Gpufit's precision and the fast one). The CPU evaluates in f64.
    pub fn precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// Fits per device chunk (default [`DEVICE_CHUNK_FITS`]): CUDA streams equal-length batches
    /// in chunks of this many fits; wgpu dispatches every batch in chunks of at most this many
    /// (fewer where the device's binding size requires). Results do not depend on it.
    pub fn device_chunk(mut self, fits: usize) -> Self {
        self.device_chunk = fits.max(1);
        self
    }

    fn problem(&self) -> Result<Problem<'a>, FitError> {
        let p = self.model.n_params();
        let k = self.model.n_inputs();
        let y = self.y.ok_or_else(|| FitError::InvalidOption {
            option: "data".into(),
            reason: "no observations given (call .data)".into(),
        })?;
        let mismatch = |what: &str, got: usize, expected: usize| FitError::LengthMismatch {
            what: what.into(),
            got,
            expected,
        };
        let (n_fits, layout, max_len) = match self.lengths {
            None => {
                return Err(FitError::InvalidOption {
                    option: "lengths".into(),
                    reason: "give .lengths or .equal_length".into(),
                });
            }
            Some(Lengths::Equal(0)) => {
                return Err(FitError::InvalidOption {
                    option: "equal_length".into(),
                    reason: "fits must have at least one point".into(),
                });
            }
            Some(Lengths::Equal(n)) => {
                if y.len() % n != 0 {
                    return Err(mismatch(
                        "data (a multiple of equal_length)",
                        y.len(),
                        y.len().div_ceil(n) * n,
                    ));
                }
                (y.len() / n, Layout::Equal(n), n)
            }
            Some(Lengths::PerFit(lens)) => {
                let mut offsets = Vec::with_capacity(lens.len() + 1);
                offsets.push(0usize);
                let mut total = 0usize;
                for &l in lens {
                    total = total.saturating_add(l);
                    offsets.push(total);
                }
                if total != y.len() {
                    return Err(mismatch("data (the sum of lengths)", y.len(), total));
                }
                let max = lens.iter().copied().max().unwrap_or(0);
                (lens.len(), Layout::Offsets(offsets), max)
            }
        };
        if n_fits == 0 {
            return Err(FitError::EmptyData);
        }
        let x = match self.x {
            None if k == 1 => XData::Index,
            None => {
                return Err(FitError::InvalidOption {
                    option: "x".into(),
                    reason: format!("model `{}` has {k} predictors: give x", self.model.name()),
                });
            }
            Some(XInput::Shared(x)) => {
                if x.len() % k != 0 || x.len() / k < max_len {
                    return Err(mismatch(
                        "x_shared (K values per point, at least as many points as the longest fit)",
                        x.len(),
                        max_len * k,
                    ));
                }
                XData::Shared(x)
            }
            Some(XInput::PerPoint(x)) => {
                if x.len() != y.len() * k {
                    return Err(mismatch(
                        "x (K values per point of the data)",
                        x.len(),
                        y.len() * k,
                    ));
                }
                XData::PerFit(x)
            }
        };
        if let Some(w) = self.weights {
            if w.len() != y.len() {
                return Err(mismatch("weights", w.len(), y.len()));
            }
            if self.estimator == Estimator::PoissonMle {
                return Err(FitError::InvalidOption {
                    option: "weights".into(),
                    reason: "Poisson maximum likelihood is unweighted".into(),
                });
            }
        }
        if !(self.tolerance >= 0.0 && self.tolerance.is_finite()) {
            return Err(FitError::InvalidOption {
                option: "tolerance".into(),
                reason: format!("{} is not a finite value >= 0", self.tolerance),
            });
        }
        if let Some(x) = self.step_tolerance
            && !(x > 0.0 && x.is_finite())
        {
            return Err(FitError::InvalidOption {
                option: "step_tolerance".into(),
                reason: format!("{x} is not a finite value > 0"),
            });
        }
        if self.max_iterations == 0 {
            return Err(FitError::InvalidOption {
                option: "max_iterations".into(),
                reason: "at least one iteration".into(),
            });
        }
        let p0 = self.p0.ok_or_else(|| FitError::InvalidOption {
            option: "p0".into(),
            reason: "starting values are required (n_fits * P, or P for all fits)".into(),
        })?;
        let (lower, upper) = match self.bounds {
            Some((lo, hi)) => (
                Some(PerFit::new(lo, "lower bounds", n_fits, p)?),
                Some(PerFit::new(hi, "upper bounds", n_fits, p)?),
            ),
            None => (None, None),
        };
        Ok(Problem {
            n_fits,
            n_params: p,
            n_inputs: k,
            layout,
            y,
            x,
            weights: self.weights,
            p0: PerFit::new(p0, "p0", n_fits, p)?,
            lower,
            upper,
            fixed: self
                .fixed
                .map(|f| PerFit::new(f, "fixed", n_fits, p))
                .transpose()?,
            estimator: self.estimator,
        })
    }

    /// Runs every fit. Errors only for batch-level problems (shapes, options, an unavailable
    /// backend); each fit's own problems end in its [`FitState`].
    pub fn fit(self) -> Result<BatchResult, FitError> {
        #[cfg(feature = "mpi")]
        if let Some(dist) = self.dist.clone() {
            let on = self.results_on;
            let local = self.fit_here();
            return match local {
                Ok(r) => gather::results(&dist, r, on),
                Err(e) => {
                    dist.fail(&e);
                    Err(e)
                }
            };
        }
        self.fit_here()
    }

    /// [`BatchFit::fit`] of this process's fits.
    fn fit_here(self) -> Result<BatchResult, FitError> {
        let problem = self.problem()?;
        let settings = lm::LmSettings {
            tolerance: self.tolerance,
            max_iterations: self.max_iterations,
            step_tolerance: self.step_tolerance.unwrap_or(f64::INFINITY),
        };
        let (n, p) = (problem.n_fits, problem.n_params);
        let mut out = Outputs {
            params: vec![0.0; n * p],
            states: vec![FitState::InvalidInput; n],
            chi2: vec![f64::NAN; n],
            iterations: vec![0; n],
            covariance: self.covariance.then(|| vec![f64::NAN; n * p * p]),
        };
        let (backend, precision, reason) = self.run(&problem, settings, &mut out)?;
        let perr = out.covariance.as_ref().map(|c| {
            (0..n * p)
                .map(|e| c[(e / p) * p * p + (e % p) * (p + 1)].sqrt())
                .collect()
        });
        Ok(BatchResult {
            n_fits: n,
            n_params: p,
            params: out.params,
            states: out.states,
            chi2: out.chi2,
            iterations: out.iterations,
            covariance: out.covariance,
            perr,
            backend,
            precision,
            reason,
        })
    }
}
