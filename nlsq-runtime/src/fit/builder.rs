//! The [`CurveFit`] builder: every option of a fit, set step by step. Nothing here checks or
//! runs anything; [`CurveFit::fit`] and its siblings hand the builder to the pipeline.

use super::run::LongRun;
use crate::backend::{Backend, CudaDevices};
use crate::checkpoint::Every;
use crate::data::NanPolicy;
use crate::loss::Loss;
use crate::memory::MemoryLimits;
use crate::model::Model;
use crate::search::MultiStart;
use crate::solve::Method;
use crate::solve::{IterationInfo, SolverOptions, XScale};
use kernels_gen::Precision;
use nalgebra::DMatrix;
use std::ops::ControlFlow;
use std::path::Path;

/// Uncertainties of the observations.
#[derive(Clone, Debug, PartialEq)]
pub enum Sigma {
    /// Standard deviations, one per point (scipy's 1-D `sigma`).
    Std(Vec<f64>),
    /// A full covariance matrix of the observations (scipy's 2-D `sigma`; CPU only,
    /// `O(N²)` memory).
    Covariance(DMatrix<f64>),
}

/// Default `ftol`, `xtol` and `gtol` of [`CurveFit`].
pub const DEFAULT_TOL: f64 = 1e-12;

/// Default pass budget of [`CurveFit`], per parameter.
pub const DEFAULT_MAX_NFEV_PER_PARAM: usize = 1000;

pub(crate) type BoxedCallback<'a> = Box<dyn FnMut(&IterationInfo<'_>) -> ControlFlow<()> + 'a>;

/// A curve fit, configured step by step and run with [`CurveFit::fit`] (in-memory data),
/// [`CurveFit::fit_source`] (a [`DataSource`](crate::stream::DataSource) of any size) or
/// `CurveFit::fit_resident` (data already on a GPU).
///
/// ```
/// use nlsq_runtime::{CurveFit, ExprModel, Loss, Method};
/// let x: Vec<f64> = (0..50).map(|i| i as f64 * 0.1).collect();
/// let y: Vec<f64> = x.iter().map(|x| 3.0 * (-1.3 * x).exp() + 0.5).collect();
/// let model = ExprModel::parse("a * exp(-b * x) + c").unwrap();
/// let fit = CurveFit::new(&model)
///     .p0([1.0, 1.0, 0.0])
///     .bounds([0.0, 0.0, -1.0], [10.0, 10.0, 1.0])
///     .method(Method::Trf)
///     .fit(&x, &y)
///     .unwrap();
/// assert!((fit.popt[1] - 1.3).abs() < 1e-8);
/// println!("{fit}");
/// ```
#[must_use = "a CurveFit does nothing until `fit`, `fit_source` or `fit_resident` runs it"]
pub struct CurveFit<'a, M: Model> {
    pub(crate) model: M,
    pub(crate) p0: Option<Vec<f64>>,
    pub(crate) lower: Option<Vec<f64>>,
    pub(crate) upper: Option<Vec<f64>>,
    pub(crate) sigma: Option<Sigma>,
    pub(crate) absolute_sigma: bool,
    pub(crate) loss: Loss,
    pub(crate) f_scale: f64,
    pub(crate) method: Option<Method>,
    pub(crate) options: SolverOptions,
    pub(crate) nan_policy: NanPolicy,
    pub(crate) callback: Option<BoxedCallback<'a>>,
    pub(crate) backend: Backend,
    pub(crate) cuda_devices: CudaDevices,
    pub(crate) precision: Precision,
    pub(crate) limits: MemoryLimits,
    pub(crate) chunk_points: Option<usize>,
    pub(crate) online_tol: f64,
    pub(crate) long: LongRun,
    #[cfg(feature = "mpi")]
    pub(crate) dist: Option<std::rc::Rc<crate::distributed::Dist>>,
    pub(crate) multistart: Option<MultiStart>,
}

impl<'a, M: Model> CurveFit<'a, M> {
    /// A fit of `model` with the defaults: p0 all ones, no bounds, linear loss, method `lm`
    /// without bounds and a linear loss, `trf` otherwise.
    ///
    /// The default tolerances are [`DEFAULT_TOL`] and the default pass budget
    /// [`DEFAULT_MAX_NFEV_PER_PARAM`] per parameter: tighter and larger than scipy's
    /// (1e-8, 100 per parameter), because a stopping rule met at 1e-8 leaves only 4–6 correct
    /// digits on many real problems, while the extra iterations near a solution cost a few
    /// passes. On the 54 NIST StRD fits (27 problems, two starts; `tests/nist.rs`), 6 correct
    /// digits are reached by 34 with LM at scipy's settings, by 52 with LM and 50 with TRF at
    /// these defaults, and by all 54 with either at tolerance 1e-15.
    pub fn new(model: M) -> Self {
        CurveFit {
            model,
            p0: None,
            lower: None,
            upper: None,
            sigma: None,
            absolute_sigma: false,
            loss: Loss::Linear,
            f_scale: 1.0,
            method: None,
            options: SolverOptions {
                ftol: DEFAULT_TOL,
                xtol: DEFAULT_TOL,
                gtol: DEFAULT_TOL,
                ..SolverOptions::default()
            },
            nan_policy: NanPolicy::Raise,
            callback: None,
            backend: Backend::Auto,
            cuda_devices: CudaDevices::First,
            precision: Precision::F64,
            limits: MemoryLimits::default(),
            chunk_points: None,
            online_tol: super::DEFAULT_ONLINE_TOL,
            long: LongRun::default(),
            #[cfg(feature = "mpi")]
            dist: None,
            multistart: None,
        }
    }

    /// Where the passes run (default [`Backend::Auto`]).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// The CUDA devices the data is split over (default [`CudaDevices::First`]): with
    /// [`CudaDevices::All`] or a list, one dataset is cut into contiguous shares sized by each
    /// device's memory, every device passes over its share at once, and the partial passes are
    /// summed on the host in device order (see [`CudaDevices`]). For [`Backend::Cuda`], or
    /// [`Backend::Auto`] when it takes CUDA; any other setting than the default with
    /// [`Backend::Cpu`] or [`Backend::Wgpu`] is [`FitError::InvalidOption`](crate::FitError::InvalidOption).
    pub fn cuda_devices(mut self, devices: CudaDevices) -> Self {
        self.cuda_devices = devices;
        self
    }

    /// Precision of data and model evaluation on a GPU (default f64; f32 halves the bytes; CUDA
    /// still accumulates in f64, wgpu in compensated f32 lanes finished in f64 on the host).
    /// The CPU always evaluates in f64.
    pub fn precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// Starting values, one per flattened parameter.
    pub fn p0(mut self, p0: impl Into<Vec<f64>>) -> Self {
        self.p0 = Some(p0.into());
        self
    }

    /// Lower and upper bounds (use `f64::NEG_INFINITY` / `f64::INFINITY` for none).
    pub fn bounds(mut self, lower: impl Into<Vec<f64>>, upper: impl Into<Vec<f64>>) -> Self {
        self.lower = Some(lower.into());
        self.upper = Some(upper.into());
        self
    }

    /// Standard deviations of the observations (weights `1/sigma`).
    pub fn sigma(mut self, sigma: &[f64]) -> Self {
        self.sigma = Some(Sigma::Std(sigma.to_vec()));
        self
    }

    /// A full covariance matrix of the observations (CPU only).
    pub fn sigma_covariance(mut self, cov: DMatrix<f64>) -> Self {
        self.sigma = Some(Sigma::Covariance(cov));
        self
    }

    /// Whether sigma is absolute (pcov not rescaled by the residual variance).
    pub fn absolute_sigma(mut self, yes: bool) -> Self {
        self.absolute_sigma = yes;
        self
    }

    /// A robust loss.
    pub fn loss(mut self, loss: Loss) -> Self {
        self.loss = loss;
        self
    }

    /// The soft margin between inlier and outlier residuals (scipy's `f_scale`, default 1).
    pub fn f_scale(mut self, f_scale: f64) -> Self {
        self.f_scale = f_scale;
        self
    }

    /// The solver.
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    /// Tolerance on the relative reduction of the cost.
    pub fn ftol(mut self, v: f64) -> Self {
        self.options.ftol = v;
        self
    }

    /// Tolerance on the relative change of the parameters.
    pub fn xtol(mut self, v: f64) -> Self {
        self.options.xtol = v;
        self
    }

    /// Tolerance on the scaled gradient.
    pub fn gtol(mut self, v: f64) -> Self {
        self.options.gtol = v;
        self
    }

    /// Sets ftol, xtol and gtol together.
    pub fn tol(self, v: f64) -> Self {
        self.ftol(v).xtol(v).gtol(v)
    }

    /// Maximum number of passes over the data.
    pub fn max_nfev(mut self, n: usize) -> Self {
        self.options.max_nfev = Some(n);
        self
    }

    /// Characteristic parameter scales.
    pub fn x_scale(mut self, scale: impl Into<Vec<f64>>) -> Self {
        self.options.x_scale = XScale::Fixed(scale.into());
        self
    }

    /// Scale parameters by the inverse column norms of the Jacobian (scipy's `x_scale='jac'`).
    pub fn x_scale_jac(mut self) -> Self {
        self.options.x_scale = XScale::Jac;
        self
    }

    /// What to do with non-finite data points.
    pub fn nan_policy(mut self, policy: NanPolicy) -> Self {
        self.nan_policy = policy;
        self
    }

    /// Called after every iteration; return `ControlFlow::Break(())` to stop.
    pub fn callback(mut self, f: impl FnMut(&IterationInfo<'_>) -> ControlFlow<()> + 'a) -> Self {
        self.callback = Some(Box::new(f));
        self
    }

    /// Caps the host memory the fit may use for its data and chunk buffers (default: half of
    /// what is available). In-memory data larger than this is fitted chunk by chunk, and a
    /// [`DataSource`](crate::stream::DataSource) larger than this is streamed.
    pub fn max_host_bytes(mut self, bytes: u64) -> Self {
        self.limits.max_host_bytes = Some(bytes);
        self
    }

    /// Caps the device memory a GPU fit may use for data (default: 80% of what is free). Data
    /// larger than this goes through fixed-capacity device buffers (the chunked driver).
    pub fn max_device_bytes(mut self, bytes: u64) -> Self {
        self.limits.max_device_bytes = Some(bytes);
        self
    }

    /// Points per chunk for chunked, streamed and online fits, instead of the size the memory
    /// manager derives from the budget (this also forces chunked fits of in-memory data, and
    /// streamed or online fits of sources). Whatever the size, CPU passes are re-cut at
    /// [`CHUNK`](crate::backend::CHUNK) boundaries and give the in-memory fit's bits.
    pub fn chunk_points(mut self, points: usize) -> Self {
        self.chunk_points = Some(points.max(1));
        self
    }

    /// The convergence rule of online fits: the last chunk may move each parameter by at most
    /// this many standard errors (default
    /// [`DEFAULT_ONLINE_TOL`](super::DEFAULT_ONLINE_TOL)).
    pub fn online_tol(mut self, tol: f64) -> Self {
        self.online_tol = tol;
        self
    }

    /// Saves the solver's state to `path` every `every` (see [`crate::checkpoint`]), from a
    /// background thread that never blocks the solver. Writes are atomic; a failed write is
    /// logged and reported in [`FitResult::checkpoint`](crate::FitResult::checkpoint), and the
    /// fit goes on. An existing file at `path` that is not a checkpoint is never overwritten
    /// (the fit is refused).
    pub fn checkpoint(mut self, path: impl AsRef<Path>, every: Every) -> Self {
        self.long.checkpoint = Some((path.as_ref().to_path_buf(), every));
        self
    }

    /// Continues the fit saved in the checkpoint at `path` (its `p0` is not used): the result
    /// is the one the saved fit would have reached. The checkpoint must come from a fit of the
    /// same model, method, options (tolerances, `max_nfev`, scaling, bounds, loss, `f_scale`)
    /// and data; otherwise the fit fails with [`FitError::Checkpoint`](crate::FitError).
    pub fn resume_from(mut self, path: impl AsRef<Path>) -> Self {
        self.long.resume = Some(path.as_ref().to_path_buf());
        self
    }

    /// Makes the fit a global search ([`crate::search`]): local fits from `p0` and from
    /// `search.starts − 1` space-filling starts within the bounds (or around `p0` where a
    /// parameter is unbounded), cheapened by K-vector passes and early elimination; the result
    /// is the ordinary fit from the best minimum found, with every distinct minimum in
    /// [`FitResult::search`](crate::FitResult::search). Any method, loss, weights and bounds;
    /// not with checkpoints, resuming, or one-pass (online) sources. The iteration callback,
    /// the profile and the progress bar see the final local fit only.
    ///
    /// ```
    /// use nlsq_runtime::{CurveFit, ExprModel, MultiStart};
    /// // A narrow peak at x = 7: from a center guess of 2 a local fit sees no slope.
    /// let x: Vec<f64> = (0..200).map(|i| i as f64 * 0.05).collect();
    /// let y: Vec<f64> = x.iter().map(|x| 3.0 * (-(x - 7.0) * (x - 7.0) / 0.08).exp()).collect();
    /// let model = ExprModel::parse("a * exp(-pow(x - c, 2) / w)").unwrap();
    /// let fit = |starts: usize| {
    ///     CurveFit::new(&model)
    ///         .p0([1.0, 2.0, 0.1])
    ///         .bounds([0.0, 0.0, 0.01], [10.0, 10.0, 1.0])
    ///         .multistart(MultiStart::new(starts).seed(3))
    ///         .fit(&x, &y)
    ///         .unwrap()
    /// };
    /// assert!(fit(1).cost > 1.0); // p0 alone: stuck
    /// let found = fit(32);
    /// assert!((found.popt[1] - 7.0).abs() < 1e-8);
    /// let report = found.search.as_ref().unwrap();
    /// println!("{} distinct minima", report.minima.len());
    /// ```
    pub fn multistart(mut self, search: MultiStart) -> Self {
        self.multistart = Some(search);
        self
    }

    /// Attaches a [`ProfileReport`](crate::ProfileReport) to the result (also on with
    /// `NLSQ_PROFILE=1`).
    pub fn profile(mut self, on: bool) -> Self {
        self.long.profile = on;
        self
    }

    /// Shows a progress bar on stderr when it is a terminal (feature `progress`).
    #[cfg(feature = "progress")]
    pub fn progress(mut self, on: bool) -> Self {
        self.long.progress = on;
        self
    }
}

#[cfg(feature = "mpi")]
impl<M: Model> CurveFit<'_, M> {
    /// Fits over the processes of `comm` (feature `mpi`): every rank calls the same fit with its
    /// own shard of the data (in memory, or any [`DataSource`](crate::stream::DataSource)), and
    /// every rank gets the fit of all the data, equal to the single-process fit (see
    /// [`crate::distributed`]). This duplicates `comm`, a collective call: every rank of `comm`
    /// must build its fits in the same order. Checkpoints are written by rank 0; one-pass sources
    /// larger than the host budget (online fits) are refused.
    ///
    /// ```no_run
    /// use nlsq_runtime::{CurveFit, ExprModel, distributed::{mpi, shard}};
    /// let universe = mpi::initialize().unwrap();
    /// let world = universe.world();
    /// let x: Vec<f64> = (0..1000).map(|i| i as f64 * 0.01).collect();
    /// let y: Vec<f64> = x.iter().map(|x| 2.0 * (-0.5 * x).exp()).collect();
    /// let mine = shard(x.len(), &world);
    /// let fit = CurveFit::new(ExprModel::parse("a * exp(-b * x)").unwrap())
    ///     .communicator(&world)
    ///     .fit(&x[mine.clone()], &y[mine])
    ///     .unwrap();
    /// assert_eq!(fit.n_points, 1000);
    /// ```
    pub fn communicator<C: mpi::traits::Communicator>(mut self, comm: &C) -> Self {
        self.dist = Some(std::rc::Rc::new(crate::distributed::Dist::new(comm)));
        self
    }

    /// How the ranks' passes are summed (default
    /// [`Reduction::RankOrder`](crate::distributed::Reduction)); set after
    /// [`communicator`](Self::communicator). [`Reduction::ChunkOrder`](crate::distributed::Reduction)
    /// with shards of whole chunks ([`shard_aligned`](crate::distributed::shard_aligned)) makes
    /// the fit the single-process fit bit for bit.
    pub fn distributed_reduction(self, reduction: crate::distributed::Reduction) -> Self {
        if let Some(d) = &self.dist {
            d.set_reduction(reduction);
        }
        self
    }

    /// How long a rank of a distributed fit waits for the others at one exchange before the
    /// fit fails with [`FitError::Distributed`](crate::FitError::Distributed) (default
    /// [`DEFAULT_TIMEOUT`](crate::distributed::DEFAULT_TIMEOUT)); set after
    /// [`communicator`](Self::communicator).
    pub fn distributed_timeout(self, timeout: std::time::Duration) -> Self {
        if let Some(d) = &self.dist {
            d.set_timeout(timeout);
        }
        self
    }
}
