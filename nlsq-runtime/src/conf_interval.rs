//! Profile-likelihood confidence intervals (lmfit's `conf_interval`), which also serve
//! parameters whose intervals are not symmetric.
//!
//! For a parameter `p_j`, the profile `χ²(v)` is the minimum of the objective with `p_j`
//! fixed at `v` and the other free parameters refitted. The 95% interval is where
//!
//! ```text
//! Δχ²(v) = χ²(v) − χ²_min  <=  χ²_min · F₀.₉₅(1, N − P) / (N − P)
//! ```
//!
//! lmfit's F-test with one parameter fixed (`F₀.₉₅(1, ν) = t₀.₉₇₅(ν)²`), i.e.
//! `Δχ² <= t² s²` with `s² = χ²_min / (N − P)`. For a model linear in its parameters the
//! profile is an exact parabola and the interval is the fit's `ci95`, `popt ± t · perr` (with
//! relative sigma; with absolute sigma `ci95` takes the normal quantile instead of `t`); for a
//! nonlinear model it follows the objective and is in general not symmetric. `χ²` here is the
//! objective the solver minimised, `Σρ = 2 · cost` (the χ² for the linear loss).
//!
//! Each side is found by doubling a step (the standard error, or a tenth of the value when it
//! has none) until `Δχ²` exceeds the threshold, then by regula falsi (Illinois) to
//! `|Δχ² − threshold| <= 1e-10 · threshold`; a side whose `Δχ²` stays below the threshold for
//! 40 doublings is unbounded (`±∞`), and so is one where a refit's objective is not finite.
//! The fit's fixed and tied parameters stay fixed and tied in
//! every refit.
//!
//! **Bounds.** The profiled parameter is fixed in each refit, so its own bounds do not apply
//! while it is profiled: its interval may reach past them (as in lmfit), e.g. below a lower
//! bound where the fit stopped. The other free parameters keep theirs if the refit closure
//! passes them (the closure's [`Refit::model`] has only those parameters: give bounds for
//! its [`param_names`](crate::Model::param_names)); `nlsq fit --profile` and Python's
//! `FitResult.conf_interval` do so.

use crate::expr_model::ExprModel;
use crate::model::Model;
use crate::params::{ConstraintError, Constraints, free_values};
use crate::quantile::t_quantile_975;
use crate::result::{FitResult, ParamKind};

/// What a refit's closure may fail with.
pub type RefitError = Box<dyn std::error::Error + Send + Sync>;

/// Step doublings before a side is declared unbounded.
const MAX_DOUBLINGS: usize = 40;
/// Regula falsi iterations at most.
const MAX_ITERATIONS: usize = 100;
/// Relative tolerance on `Δχ² − threshold`.
const TOLERANCE: f64 = 1e-10;

/// A profile-likelihood 95% confidence interval of one parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileInterval {
    /// The parameter.
    pub name: String,
    /// Its best-fit value.
    pub value: f64,
    /// The lower end (`-∞` when the profile never reaches the threshold below the value).
    pub lower: f64,
    /// The upper end (`+∞` when the profile never reaches the threshold above the value).
    pub upper: f64,
    /// The objective at the best fit, `Σρ = 2 · cost`.
    pub chi2_min: f64,
    /// `Δχ²` at the ends: `χ²_min · t₀.₉₇₅(N − P)² / (N − P)`.
    pub threshold: f64,
}

/// Why a profile interval could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The fit has no parameter of that name.
    #[error("the fit has no parameter `{0}`")]
    UnknownParameter(String),
    /// The parameter was fixed or tied in the fit.
    #[error("`{0}` was not a free parameter of the fit")]
    NotFree(String),
    /// `N <= P`: no residual variance to set the threshold.
    #[error("no degrees of freedom to set the threshold")]
    NoDegreesOfFreedom,
    /// The model with the parameter fixed could not be built.
    #[error(transparent)]
    Constraint(#[from] ConstraintError),
    /// A refit failed (the closure's error, e.g. a `FitError`).
    #[error("a refit with the parameter fixed failed: {0}")]
    Fit(RefitError),
}

/// One refit of a profile: the fit's model with the profiled parameter fixed, and where to
/// start.
#[derive(Clone, Copy, Debug)]
pub struct Refit<'a> {
    /// The model of the free parameters: the original model with the profiled parameter fixed
    /// at its value and the fit's fixed and tied parameters fixed and tied.
    pub model: &'a ExprModel,
    /// The start of its free parameters (the previous refit's values).
    pub p0: &'a [f64],
    /// The same start for every parameter of the original model, the profiled one at the
    /// value it is fixed at.
    pub values: &'a [f64],
    /// The profiled parameter's index in [`values`](Refit::values).
    pub index: usize,
}

/// The 95% profile-likelihood interval of the free parameter `name` of `fit` of `model` (the
/// original, unconstrained model of the fit). `refit(m, p0)` fits the model `m` (`model` with
/// the parameter fixed, and the fit's fixed and tied parameters: [`Refit`]) to the same data
/// with the same options as `fit` (and the bounds of `m`'s parameters, if the fit had bounds:
/// the profiled parameter's own are lifted, see the [module docs](self)), and returns its
/// result or any error.
///
/// ```
/// use nlsq_runtime::conf_interval::{Refit, conf_interval};
/// use nlsq_runtime::{CurveFit, ExprModel};
/// let model = ExprModel::parse("a * exp(-b * x)").unwrap();
/// let x: Vec<f64> = (0..30).map(|i| i as f64 * 0.2).collect();
/// let y: Vec<f64> = x.iter().map(|x| 3.0 * (-0.8 * x).exp() + 0.01 * (9.0 * x).sin()).collect();
/// let fit = CurveFit::new(&model).p0([1.0, 1.0]).fit(&x, &y).unwrap();
/// let refit = |r: &Refit| CurveFit::new(r.model).p0(r.p0.to_vec()).fit(&x, &y);
/// let ci = conf_interval(&model, &fit, "b", refit).unwrap();
/// assert!(ci.lower < fit.popt[1] && fit.popt[1] < ci.upper);
/// ```
pub fn conf_interval<F, E>(
    model: &ExprModel,
    fit: &FitResult,
    name: &str,
    refit: F,
) -> Result<ProfileInterval, ProfileError>
where
    F: FnMut(&Refit<'_>) -> Result<FitResult, E>,
    E: Into<RefitError>,
{
    let j = fit
        .param_names
        .iter()
        .position(|n| n == name)
        .ok_or_else(|| ProfileError::UnknownParameter(name.to_string()))?;
    if *fit.param_kind(j) != ParamKind::Free {
        return Err(ProfileError::NotFree(name.to_string()));
    }
    if fit.dof == 0 {
        return Err(ProfileError::NoDegreesOfFreedom);
    }
    let chi2_min = 2.0 * fit.cost;
    let t = t_quantile_975(fit.dof);
    let threshold = chi2_min * t * t / fit.dof as f64;
    let value = fit.popt[j];
    let step = match fit.perr[j] {
        e if e.is_finite() && e > 0.0 => e,
        _ => 0.1 * value.abs().max(1.0),
    };
    let mut profile = Profile {
        model,
        fit,
        j,
        refit,
        chi2_min,
        threshold,
        warm: fit.popt.clone(),
    };
    let lower = profile.side(-step)?;
    let upper = profile.side(step)?;
    Ok(ProfileInterval {
        name: name.to_string(),
        value,
        lower,
        upper,
        chi2_min,
        threshold,
    })
}

/// One parameter's profile.
struct Profile<'a, F> {
    model: &'a ExprModel,
    fit: &'a FitResult,
    j: usize,
    refit: F,
    chi2_min: f64,
    threshold: f64,
    /// Every parameter's values from the last refit: the next one's start.
    warm: Vec<f64>,
}

impl<F, E> Profile<'_, F>
where
    F: FnMut(&Refit<'_>) -> Result<FitResult, E>,
    E: Into<RefitError>,
{
    /// `Δχ²(v) − threshold`.
    fn excess(&mut self, v: f64) -> Result<f64, ProfileError> {
        let mut c = Constraints::new();
        for (k, name) in self.fit.param_names.iter().enumerate() {
            match self.fit.param_kind(k) {
                _ if k == self.j => c = c.fix(name.clone(), v),
                ParamKind::Fixed => c = c.fix(name.clone(), self.fit.popt[k]),
                ParamKind::Tied { expr } => c = c.tie(name.clone(), expr.clone()),
                ParamKind::Free => {}
            }
        }
        let m = self.model.constrain(&c)?;
        let map = m.param_map().ok_or(ConstraintError::AlreadyConstrained)?;
        self.warm[self.j] = v;
        let p0 = free_values(map, &self.warm)?;
        let step = Refit {
            model: &m,
            p0: &p0,
            values: &self.warm,
            index: self.j,
        };
        let r = (self.refit)(&step).map_err(|e| ProfileError::Fit(e.into()))?;
        self.warm = r.popt;
        self.warm[self.j] = v;
        Ok(2.0 * r.cost - self.chi2_min - self.threshold)
    }

    /// The end of the interval in the direction of `step`.
    fn side(&mut self, step: f64) -> Result<f64, ProfileError> {
        let value = self.fit.popt[self.j];
        self.warm = self.fit.popt.clone();
        let (mut a, mut fa) = (value, -self.threshold);
        let mut h = step;
        let (mut b, mut fb) = (value + h, self.excess(value + h)?);
        let mut doublings = 0;
        while fb <= 0.0 || !fb.is_finite() {
            doublings += 1;
            if doublings > MAX_DOUBLINGS || !fb.is_finite() {
                return Ok(f64::INFINITY.copysign(step));
            }
            (a, fa) = (b, fb);
            h *= 2.0;
            (b, fb) = (value + h, self.excess(value + h)?);
        }
        for _ in 0..MAX_ITERATIONS {
            let c = b - fb * (b - a) / (fb - fa);
            let fc = self.excess(c)?;
            if fc.abs() <= TOLERANCE * self.threshold || c == a || c == b {
                return Ok(c);
            }
            if (fc > 0.0) == (fb > 0.0) {
                fa *= 0.5;
            } else {
                (a, fa) = (b, fb);
            }
            (b, fb) = (c, fc);
        }
        Ok(b)
    }
}
