//! The one validation of a fit's specification: every option of the builder is checked here,
//! once, before any data is read, and turned into the [`Spec`] the data routes and the
//! finishing step read.

use super::builder::{BoxedCallback, CurveFit, DEFAULT_MAX_NFEV_PER_PARAM, Sigma};
use super::run::LongRun;
use crate::backend::{Backend, CudaDevices};
use crate::data::NanPolicy;
use crate::error::FitError;
use crate::loss::Loss;
use crate::memory::MemoryLimits;
use crate::model::Model;
use crate::search::MultiStart;
use crate::solve::Method;
use crate::solve::{SolverOptions, XScale};
use kernels_gen::Precision;

/// A checked fit: the model and the settings every route and the finishing step read.
pub(crate) struct Spec<M> {
    pub(crate) model: M,
    /// Starting values, one per parameter, within the bounds.
    pub(crate) p0: Vec<f64>,
    pub(crate) method: Method,
    /// Tolerances, scaling, bounds and the pass budget, filled in for this model.
    pub(crate) options: SolverOptions,
    pub(crate) loss: Loss,
    pub(crate) f_scale: f64,
    pub(crate) sigma: Option<Sigma>,
    pub(crate) absolute_sigma: bool,
    pub(crate) nan_policy: NanPolicy,
    pub(crate) backend: Backend,
    /// The CUDA devices in-memory data is split over.
    pub(crate) cuda_devices: CudaDevices,
    pub(crate) precision: Precision,
    pub(crate) memory: MemoryOptions,
    pub(crate) long: LongRun,
    /// The processes of a distributed fit (feature `mpi`).
    #[cfg(feature = "mpi")]
    pub(crate) dist: Option<std::rc::Rc<crate::distributed::Dist>>,
    /// The multi-start search, when the fit is one.
    pub(crate) multistart: Option<MultiStart>,
}

/// What the data plan reads: the memory caps and the user's chunk size.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MemoryOptions {
    pub(crate) limits: MemoryLimits,
    pub(crate) chunk_points: Option<usize>,
    pub(crate) online_tol: f64,
}

impl<M> Spec<M> {
    /// The covariance sigma, when one was given.
    pub(crate) fn covariance(&self) -> Option<&nalgebra::DMatrix<f64>> {
        match &self.sigma {
            Some(Sigma::Covariance(c)) => Some(c),
            _ => None,
        }
    }

    /// The 1-D sigma, when one was given.
    pub(crate) fn std_sigma(&self) -> Option<&[f64]> {
        match &self.sigma {
            Some(Sigma::Std(s)) => Some(s),
            _ => None,
        }
    }
}

impl<'a, M: Model> CurveFit<'a, M> {
    /// Checks every option against the model and each other, and returns the checked fit
    /// and the iteration callback.
    pub(crate) fn into_spec(self) -> Result<(Spec<M>, Option<BoxedCallback<'a>>), FitError> {
        let np = self.model.n_params();
        let p0 = self.p0.clone().unwrap_or_else(|| vec![1.0; np]);
        check_lengths(&self, &p0, np)?;
        check_bounds(&self, &p0)?;
        let bounded = self
            .lower
            .iter()
            .chain(&self.upper)
            .flatten()
            .any(|v| v.is_finite());
        let method = self
            .method
            .unwrap_or(if bounded || self.loss != Loss::Linear {
                Method::Trf
            } else {
                Method::Lm
            });
        if method == Method::Lm && bounded {
            return Err(invalid(
                "method",
                "Levenberg–Marquardt does not handle bounds; use trf or dogbox".into(),
            ));
        }
        check_scalars(&self, np)?;
        check_multistart(&self)?;
        check_devices(&self)?;
        let options = SolverOptions {
            max_nfev: self
                .options
                .max_nfev
                .or(Some(DEFAULT_MAX_NFEV_PER_PARAM * np)),
            lower: self.lower.unwrap_or_default(),
            upper: self.upper.unwrap_or_default(),
            ..self.options
        };
        let spec = Spec {
            model: self.model,
            p0,
            method,
            options,
            loss: self.loss,
            f_scale: self.f_scale,
            sigma: self.sigma,
            absolute_sigma: self.absolute_sigma,
            nan_policy: self.nan_policy,
            backend: self.backend,
            cuda_devices: self.cuda_devices,
            precision: self.precision,
            memory: MemoryOptions {
                limits: self.limits,
                chunk_points: self.chunk_points,
                online_tol: self.online_tol,
            },
            long: self.long,
            #[cfg(feature = "mpi")]
            dist: self.dist,
            multistart: self.multistart,
        };
        #[cfg(feature = "mpi")]
        let spec = {
            let mut spec = spec;
            // Rank 0 writes the checkpoints; every rank resumes from them.
            spec.long.follower = spec.dist.as_ref().is_some_and(|d| d.rank() != 0);
            spec
        };
        Ok((spec, self.callback))
    }
}

/// The CUDA devices: a usable list, and a setting other than the default only where CUDA may
/// run the fit.
fn check_devices<M: Model>(fit: &CurveFit<'_, M>) -> Result<(), FitError> {
    fit.cuda_devices
        .check()
        .map_err(|reason| invalid("cuda_devices", reason))?;
    if fit.cuda_devices != CudaDevices::First && matches!(fit.backend, Backend::Cpu | Backend::Wgpu)
    {
        return Err(invalid(
            "cuda_devices",
            format!(
                "CUDA devices `{}` were chosen for the {:?} backend; use Backend::Cuda or Backend::Auto",
                fit.cuda_devices, fit.backend
            ),
        ));
    }
    Ok(())
}

fn invalid(option: &str, reason: String) -> FitError {
    FitError::InvalidOption {
        option: option.into(),
        reason,
    }
}

/// p0 and the bounds: one value per parameter, p0 finite.
fn check_lengths<M: Model>(fit: &CurveFit<'_, M>, p0: &[f64], np: usize) -> Result<(), FitError> {
    for (what, v) in [
        ("p0", Some(p0)),
        ("lower bounds", fit.lower.as_deref()),
        ("upper bounds", fit.upper.as_deref()),
    ] {
        if let Some(v) = v
            && v.len() != np
        {
            return Err(FitError::LengthMismatch {
                what: what.into(),
                got: v.len(),
                expected: np,
            });
        }
        if what == "p0"
            && let Some(j) = p0.iter().position(|v| !v.is_finite())
        {
            return Err(FitError::NonFiniteP0 {
                name: fit.model.param_name(j).to_string(),
                value: p0[j],
            });
        }
    }
    Ok(())
}

/// Each parameter's bounds are ordered, not NaN, and hold its p0.
fn check_bounds<M: Model>(fit: &CurveFit<'_, M>, p0: &[f64]) -> Result<(), FitError> {
    let lo = |j: usize| fit.lower.as_ref().map_or(f64::NEG_INFINITY, |v| v[j]);
    let hi = |j: usize| fit.upper.as_ref().map_or(f64::INFINITY, |v| v[j]);
    for (j, &start) in p0.iter().enumerate() {
        let (l, h) = (lo(j), hi(j));
        let reason = if l.is_nan() || h.is_nan() {
            "a bound is NaN".to_string()
        } else if l >= h {
            format!("lower bound {l} is not below upper bound {h}")
        } else if !(l <= start && start <= h) {
            format!("p0 = {start} is outside its bounds [{l}, {h}]")
        } else {
            continue;
        };
        return Err(FitError::BadBounds {
            name: fit.model.param_name(j).to_string(),
            reason,
        });
    }
    Ok(())
}

/// f_scale, the tolerances, x_scale, the online tolerance and the checkpoint interval.
fn check_scalars<M: Model>(fit: &CurveFit<'_, M>, np: usize) -> Result<(), FitError> {
    if !(fit.f_scale > 0.0 && fit.f_scale.is_finite()) {
        return Err(invalid(
            "f_scale",
            format!("{} must be positive and finite", fit.f_scale),
        ));
    }
    // A robust loss works in units of f_scale²: it must be a normal f64 and finite, or every
    // point's (r / f_scale)² overflows (or vanishes) whatever the data.
    let (lo, hi) = (f64::MIN_POSITIVE.sqrt(), f64::MAX.sqrt());
    if fit.loss != Loss::Linear && !(lo..=hi).contains(&fit.f_scale) {
        return Err(invalid(
            "f_scale",
            format!(
                "{} is degenerate for the {} loss: f_scale² (the loss's unit) {} f64's range \
                 (f_scale must lie in [{lo:.3e}, {hi:.3e}]); choose f_scale near the size of \
                 the inliers' residuals",
                fit.f_scale,
                fit.loss,
                if fit.f_scale < lo {
                    "underflows below"
                } else {
                    "overflows"
                }
            ),
        ));
    }
    let tols = [fit.options.ftol, fit.options.xtol, fit.options.gtol];
    if tols.iter().all(|t| *t < f64::EPSILON) {
        // scipy's least_squares raises the same ValueError.
        return Err(invalid(
            "tol",
            format!(
                "ftol {}, xtol {} and gtol {} are all below machine epsilon: no convergence test \
                 could ever be met; set at least one to 2.2e-16 or more (the default is 1e-8)",
                tols[0], tols[1], tols[2]
            ),
        ));
    }
    for (opt, v) in [
        ("ftol", fit.options.ftol),
        ("xtol", fit.options.xtol),
        ("gtol", fit.options.gtol),
    ] {
        if v.is_nan() || v < 0.0 {
            return Err(invalid(opt, format!("{v} must be non-negative")));
        }
    }
    if let XScale::Fixed(s) = &fit.options.x_scale
        && !s.is_empty()
        && (s.len() != np || s.iter().any(|v| !(v.is_finite() && *v > 0.0)))
    {
        return Err(invalid(
            "x_scale",
            format!("needs {np} positive finite values"),
        ));
    }
    if fit.online_tol.is_nan() || fit.online_tol <= 0.0 {
        return Err(invalid(
            "online_tol",
            format!("{} must be positive", fit.online_tol),
        ));
    }
    fit.long.check()
}

/// The search's settings, and what it cannot be combined with.
fn check_multistart<M: Model>(fit: &CurveFit<'_, M>) -> Result<(), FitError> {
    let Some(ms) = &fit.multistart else {
        return Ok(());
    };
    ms.check()?;
    if fit.long.needs_identity() {
        return Err(invalid(
            "multistart",
            "a multi-start search cannot write or resume checkpoints (its many solves have no \
             single state); fit from the best minimum found with checkpoints instead"
                .into(),
        ));
    }
    Ok(())
}
