//! The fitting API: the [`CurveFit`] builder and scipy's [`curve_fit`] shortcut.

pub(crate) use crate::backend::choose::Chosen;
use crate::backend::choose::choose;
use crate::backend::cpu::first_nonfinite;
use crate::backend::whitened::WhitenedObjective;
use crate::backend::{Backend, CpuBackend};
use crate::data::{FitData, NanPolicy};
use crate::error::FitError;
use crate::loss::Loss;
use crate::model::Model;
use crate::predictors::Predictors;
use crate::result::{FitResult, Method};
use crate::solve::{IterationInfo, SolverOptions, XScale};
use crate::summary::assemble;
use kernels_gen::Precision;
use nalgebra::DMatrix;
use std::ops::ControlFlow;
use std::time::Instant;

pub(crate) mod long;
#[cfg(any(feature = "cuda", feature = "wgpu"))]
mod resident;

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

type BoxedCallback<'a> = Box<dyn FnMut(&IterationInfo<'_>) -> ControlFlow<()> + 'a>;

/// A curve fit, configured step by step and run with [`CurveFit::fit`].
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
    pub(crate) precision: Precision,
    pub(crate) limits: crate::memory::MemoryLimits,
    pub(crate) chunk_points: Option<usize>,
    pub(crate) online_tol: f64,
    pub(crate) long: long::LongRun,
}

impl<'a, M: Model> CurveFit<'a, M> {
    /// A fit of `model` with the defaults: p0 all ones, no bounds, linear loss, method `lm`
    /// without bounds and a linear loss, `trf` otherwise.
    ///
    /// The default tolerances are [`DEFAULT_TOL`] and the default pass budget
    /// [`DEFAULT_MAX_NFEV_PER_PARAM`] per parameter: tighter and larger than scipy's
    /// (1e-8, 100 per parameter), because a stopping rule met at 1e-8 leaves only 4–6 correct
    /// digits on many real problems (NIST StRD: 34/54 fits reach 6 digits at scipy's settings,
    /// 54/54 at these), while the extra iterations near a solution cost a few passes.
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
            precision: Precision::F64,
            long: long::LongRun::default(),
            limits: crate::memory::MemoryLimits::default(),
            chunk_points: None,
            online_tol: crate::stream::online::DEFAULT_ONLINE_TOL,
        }
    }

    /// Where the passes run (default [`Backend::Auto`]).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Precision of data and model evaluation on a GPU (default f64; f32 halves the bytes; CUDA
    /// still accumulates in f64, wgpu in compensated f32 lanes finished in f64 on the host).
    /// The CPU always evaluates in f64.
    pub fn precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// The backend of a fit of `n` points (`dense`: a covariance sigma), and why.
    pub(crate) fn choose(&self, n: usize, dense: bool) -> Result<Chosen, FitError> {
        choose(self.backend, self.precision, n, dense)
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

    /// The solver options of this fit for `np` parameters (bounds and default budget filled in).
    pub(crate) fn solver_options(&self, np: usize) -> SolverOptions {
        SolverOptions {
            max_nfev: self
                .options
                .max_nfev
                .or(Some(DEFAULT_MAX_NFEV_PER_PARAM * np)),
            lower: self.lower.clone().unwrap_or_default(),
            upper: self.upper.clone().unwrap_or_default(),
            ..self.options.clone()
        }
    }

    pub(crate) fn check_params(&self) -> Result<(Vec<f64>, Method), FitError> {
        let np = self.model.n_params();
        let name = |j: usize| self.model.param_name(j).to_string();
        let p0 = self.p0.clone().unwrap_or_else(|| vec![1.0; np]);
        if p0.len() != np {
            return Err(FitError::LengthMismatch {
                what: "p0".into(),
                got: p0.len(),
                expected: np,
            });
        }
        if let Some(j) = p0.iter().position(|v| !v.is_finite()) {
            return Err(FitError::NonFiniteP0 {
                name: name(j),
                value: p0[j],
            });
        }
        for (what, b) in [("lower bounds", &self.lower), ("upper bounds", &self.upper)] {
            if let Some(b) = b
                && b.len() != np
            {
                return Err(FitError::LengthMismatch {
                    what: what.into(),
                    got: b.len(),
                    expected: np,
                });
            }
        }
        let lo = |j: usize| self.lower.as_ref().map_or(f64::NEG_INFINITY, |v| v[j]);
        let hi = |j: usize| self.upper.as_ref().map_or(f64::INFINITY, |v| v[j]);
        for (j, &start) in p0.iter().enumerate() {
            let (l, h) = (lo(j), hi(j));
            if l.is_nan() || h.is_nan() {
                return Err(FitError::BadBounds {
                    name: name(j),
                    reason: "a bound is NaN".into(),
                });
            }
            if l >= h {
                return Err(FitError::BadBounds {
                    name: name(j),
                    reason: format!("lower bound {l} is not below upper bound {h}"),
                });
            }
            if !(l <= start && start <= h) {
                return Err(FitError::BadBounds {
                    name: name(j),
                    reason: format!("p0 = {start} is outside its bounds [{l}, {h}]"),
                });
            }
        }
        let bounded = (0..np).any(|j| lo(j).is_finite() || hi(j).is_finite());
        let method = self
            .method
            .unwrap_or(if bounded || self.loss != Loss::Linear {
                Method::Trf
            } else {
                Method::Lm
            });
        if method == Method::Lm && bounded {
            return Err(FitError::InvalidOption {
                option: "method".into(),
                reason: "Levenberg–Marquardt does not handle bounds; use trf or dogbox".into(),
            });
        }
        if !(self.f_scale > 0.0 && self.f_scale.is_finite()) {
            return Err(FitError::InvalidOption {
                option: "f_scale".into(),
                reason: format!("{} must be positive and finite", self.f_scale),
            });
        }
        for (opt, v) in [
            ("ftol", self.options.ftol),
            ("xtol", self.options.xtol),
            ("gtol", self.options.gtol),
        ] {
            if v.is_nan() || v < 0.0 {
                return Err(FitError::InvalidOption {
                    option: opt.into(),
                    reason: format!("{v} must be non-negative"),
                });
            }
        }
        if let XScale::Fixed(s) = &self.options.x_scale
            && !s.is_empty()
            && (s.len() != np || s.iter().any(|v| !(v.is_finite() && *v > 0.0)))
        {
            return Err(FitError::InvalidOption {
                option: "x_scale".into(),
                reason: format!("needs {np} positive finite values"),
            });
        }
        Ok((p0, method))
    }

    /// Fits `y ≈ f(x; p)`. `x` is one slice for a single predictor, or `K` column slices.
    pub fn fit<X: Predictors + ?Sized>(mut self, x: &X, y: &[f64]) -> Result<FitResult, FitError> {
        let start = Instant::now();
        let session = self.long.begin();
        let (p0, method) = self.check_params()?;
        let np = p0.len();
        let std_sigma = match &self.sigma {
            Some(Sigma::Std(s)) => Some(s.as_slice()),
            _ => None,
        };
        if let Some(plan) = self.in_memory_plan(y.len(), x.columns().len(), std_sigma.is_some()) {
            return self.fit_chunked(x.columns(), y, plan);
        }
        let data = FitData::new(
            x.columns(),
            y,
            std_sigma,
            self.nan_policy,
            self.model.n_inputs(),
        )?;
        if data.len() < np {
            return Err(FitError::TooFewPoints {
                points: data.len(),
                params: np,
            });
        }
        let options = self.solver_options(np);
        let cov = match &self.sigma {
            Some(Sigma::Covariance(c)) => Some(c),
            _ => None,
        };
        let mut callback = self.callback.take();
        let cb = callback
            .as_mut()
            .map(|f| &mut **f as &mut dyn FnMut(&IterationInfo<'_>) -> ControlFlow<()>);
        let chosen = choose(self.backend, self.precision, data.len(), cov.is_some())?;
        let plain = data.weights.is_none() && self.loss == Loss::Linear;
        let first_bad = |p: &[f64]| first_nonfinite(&self.model, &data, p).unwrap_or(0);
        let identity = || {
            let fp = long::data_fingerprint(&data, cov);
            let (loss, f_scale) = (self.loss, self.f_scale);
            long::identity(&self.model, method, &options, loss, f_scale, data.len(), fp)
        };
        // Σ(y − f)² for R² and RMSE: unweighted plain least squares has it in the solver's
        // last pass; otherwise one CPU evaluation at the solution, whatever backend fitted.
        let ssr = |out: &crate::solve::SolverOutput| {
            if plain {
                2.0 * out.pass.cost
            } else {
                CpuBackend::new(&self.model, &data, self.loss, self.f_scale).unweighted_ssr(&out.x)
            }
        };
        let run = |obj: &mut dyn crate::solve::Objective, cb| {
            self.long.run(
                &session,
                obj,
                &self.model,
                &p0,
                &options,
                method,
                identity,
                cb,
                first_bad,
            )
        };
        let ((out, extras), ssr, backend) = match (cov, chosen) {
            (None, Chosen::Cpu(why)) => {
                let mut obj = CpuBackend::new(&self.model, &data, self.loss, self.f_scale);
                let out = run(&mut obj, cb)?;
                let ssr = ssr(&out.0);
                (out, ssr, why)
            }
            #[cfg(feature = "cuda")]
            (None, Chosen::Cuda(gpu, why)) => {
                let dev = crate::backend::cuda::DeviceData::upload(&gpu, &data, self.precision)?;
                let mut obj = crate::backend::cuda::CudaObjective::new(
                    &self.model,
                    &dev,
                    self.loss,
                    self.f_scale,
                )?;
                let out = run(&mut obj, cb)?;
                let ssr = ssr(&out.0);
                (out, ssr, why)
            }
            #[cfg(feature = "wgpu")]
            (None, Chosen::Wgpu(gpu, why)) => {
                let dev = crate::backend::wgpu::DeviceData::upload(&gpu, &data, self.precision)?;
                let mut obj = crate::backend::wgpu::WgpuObjective::new(
                    &self.model,
                    &dev,
                    self.loss,
                    self.f_scale,
                )?;
                let out = run(&mut obj, cb)?;
                let ssr = ssr(&out.0);
                (out, ssr, why)
            }
            (Some(c), _) => {
                if self.nan_policy == NanPolicy::Omit && data.omitted > 0 {
                    return Err(FitError::InvalidOption {
                        option: "nan_policy".into(),
                        reason: "omitting points is not supported with a covariance sigma".into(),
                    });
                }
                let mut obj =
                    WhitenedObjective::new(&self.model, &data, c, self.loss, self.f_scale)?;
                let out = run(&mut obj, cb)?;
                let ssr = obj.unweighted_ssr(&out.0.x);
                (out, ssr, "cpu (dense, covariance sigma)".to_string())
            }
        };
        let mut result = extras.apply(assemble(
            &self.model,
            &data.summary(),
            out,
            ssr,
            method,
            self.loss,
            self.f_scale,
            self.absolute_sigma,
            backend,
            start,
        ));
        result.data_plan =
            self.in_memory_report(data.len(), data.n_inputs(), data.weights.is_some());
        Ok(result)
    }
}

/// scipy's `curve_fit`: fits `model` to `(x, y)` from `p0` with default settings and returns
/// `(popt, pcov)`.
///
/// ```
/// use nlsq_runtime::{ExprModel, curve_fit};
/// let x = [0.0, 1.0, 2.0, 3.0, 4.0];
/// let y = [1.0, 3.1, 4.9, 7.2, 8.8];
/// let (popt, pcov) = curve_fit(ExprModel::parse("a * x + b").unwrap(), &x, &y, &[1.0, 0.0]).unwrap();
/// assert!((popt[0] - 1.97).abs() < 1e-9 && pcov[0][0] > 0.0);
/// ```
pub fn curve_fit<M: Model, X: Predictors + ?Sized>(
    model: M,
    x: &X,
    y: &[f64],
    p0: &[f64],
) -> Result<(Vec<f64>, Vec<Vec<f64>>), FitError> {
    let r = CurveFit::new(model).p0(p0).fit(x, y)?;
    Ok((r.popt, r.pcov))
}
