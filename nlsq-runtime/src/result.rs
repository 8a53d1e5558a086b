//! The result of a fit: parameters, uncertainties, goodness of fit and how the solver ended.

use crate::loss::Loss;
use crate::solve::Status;
use std::fmt;

pub use crate::solve::Method;

/// Everything a fit found. Serializes with serde; non-finite numbers (an indeterminate
/// covariance) round-trip as the strings `"inf"`, `"-inf"`, `"nan"`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FitResult {
    /// The model's name.
    pub model: String,
    /// Parameter names, flattened.
    pub param_names: Vec<String>,
    /// Best-fit parameters.
    #[serde(with = "crate::serde_float::vec")]
    pub popt: Vec<f64>,
    /// Covariance of the parameters (rows), scipy `curve_fit`'s `pcov`.
    #[serde(with = "crate::serde_float::rows")]
    pub pcov: Vec<Vec<f64>>,
    /// `pcov` could not be estimated; every entry is `+∞` (scipy's `OptimizeWarning`).
    pub covariance_indeterminate: bool,
    /// Standard errors `sqrt(diag(pcov))`.
    #[serde(with = "crate::serde_float::vec")]
    pub perr: Vec<f64>,
    /// 95% confidence intervals `popt ± t₀.₉₇₅(dof) · perr`.
    #[serde(with = "crate::serde_float::pairs")]
    pub ci95: Vec<(f64, f64)>,
    /// `½ Σ ρ` at the solution (scipy's `cost`).
    #[serde(with = "crate::serde_float::scalar")]
    pub cost: f64,
    /// `Σ ρ` (the weighted sum of squared residuals for the linear loss).
    #[serde(with = "crate::serde_float::scalar")]
    pub chi2: f64,
    /// `chi2 / dof`.
    #[serde(with = "crate::serde_float::scalar")]
    pub reduced_chi2: f64,
    /// `1 − Σ(y − f)² / Σ(y − ȳ)²` on unweighted residuals.
    #[serde(with = "crate::serde_float::scalar")]
    pub r_squared: f64,
    /// `sqrt(Σ(y − f)² / N)` on unweighted residuals.
    #[serde(with = "crate::serde_float::scalar")]
    pub rmse: f64,
    /// Akaike information criterion `N ln(chi2 / N) + 2P`.
    #[serde(with = "crate::serde_float::scalar")]
    pub aic: f64,
    /// Bayesian information criterion `N ln(chi2 / N) + P ln N`.
    #[serde(with = "crate::serde_float::scalar")]
    pub bic: f64,
    /// Points used.
    pub n_points: usize,
    /// Points dropped by `NanPolicy::Omit`.
    pub n_omitted: usize,
    /// Degrees of freedom `N − P`.
    pub dof: usize,
    /// Passes over the data.
    pub nfev: usize,
    /// Passes whose Jacobian was used.
    pub njev: usize,
    /// Solver iterations.
    pub iterations: usize,
    /// First-order optimality at the solution.
    #[serde(with = "crate::serde_float::scalar")]
    pub optimality: f64,
    /// Per parameter: -1 at its lower bound, 1 at its upper bound, 0 free.
    pub active_mask: Vec<i8>,
    /// Why the solver stopped.
    pub status: Status,
    /// scipy's message for `status`.
    pub message: String,
    /// Whether a tolerance was met.
    pub success: bool,
    /// The solver.
    pub method: Method,
    /// The robust loss.
    pub loss: Loss,
    /// The loss scale.
    #[serde(with = "crate::serde_float::scalar")]
    pub f_scale: f64,
    /// Where the passes ran, and why.
    pub backend: String,
    /// Where the data lived (in memory, chunked, streamed, online), whether the result is
    /// approximate (online mode only), and the memory figures behind the decision.
    #[serde(default)]
    pub data_plan: crate::memory::DataPlan,
    /// Wall time of the fit in seconds.
    pub wall_time_s: f64,
    /// What the fit did, when profiling was on ([`crate::CurveFit::profile`] or
    /// `NLSQ_PROFILE=1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<crate::profile::ProfileReport>,
    /// What the checkpoint writer did, for a fit with [`crate::CurveFit::checkpoint`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<crate::checkpoint::CheckpointReport>,
}

impl FitResult {
    /// The covariance as a matrix.
    pub fn pcov_matrix(&self) -> nalgebra::DMatrix<f64> {
        let p = self.popt.len();
        nalgebra::DMatrix::from_fn(p, p, |i, j| self.pcov[i][j])
    }

    /// The value of a parameter by name.
    pub fn param(&self, name: &str) -> Option<f64> {
        self.param_names
            .iter()
            .position(|n| n == name)
            .map(|j| self.popt[j])
    }
}

/// Seven significant digits: fixed notation for moderate magnitudes, scientific otherwise.
fn g(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if (1e-3..1e6).contains(&a) {
        let decimals = (6 - a.log10().floor() as i32).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{v:.6e}")
    }
}

impl fmt::Display for FitResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "nlsq fit of `{}`: method {}, loss {}{}, backend {}",
            self.model,
            self.method,
            self.loss,
            if self.loss == Loss::Linear {
                String::new()
            } else {
                format!(" (f_scale {})", self.f_scale)
            },
            self.backend
        )?;
        writeln!(
            f,
            "{} (status {}, {})",
            self.message,
            self.status.code(),
            if self.success {
                "converged"
            } else {
                "NOT converged"
            }
        )?;
        writeln!(
            f,
            "{} points{}, {} parameters, {} dof; {} passes, {} iterations, {:.3} ms",
            self.n_points,
            if self.n_omitted > 0 {
                format!(" ({} omitted as non-finite)", self.n_omitted)
            } else {
                String::new()
            },
            self.popt.len(),
            self.dof,
            self.nfev,
            self.iterations,
            self.wall_time_s * 1e3
        )?;
        let w = self
            .param_names
            .iter()
            .map(|n| n.len())
            .max()
            .unwrap_or(4)
            .max(9);
        writeln!(
            f,
            "{:<w$}  {:>14}  {:>12}  {:>31}",
            "parameter", "value", "std error", "95% confidence interval"
        )?;
        for j in 0..self.popt.len() {
            let bound = match self.active_mask.get(j) {
                Some(-1) => "  (at lower bound)",
                Some(1) => "  (at upper bound)",
                _ => "",
            };
            writeln!(
                f,
                "{:<w$}  {:>14}  {:>12}  [{:>14}, {:>14}]{bound}",
                self.param_names[j],
                g(self.popt[j]),
                if self.perr[j].is_finite() {
                    format!("{:.3e}", self.perr[j])
                } else {
                    "inf".into()
                },
                g(self.ci95[j].0),
                g(self.ci95[j].1),
            )?;
        }
        if self.data_plan.mode != crate::memory::DataMode::InMemory {
            writeln!(f, "{}", self.data_plan)?;
        }
        if self.covariance_indeterminate {
            writeln!(
                f,
                "warning: the covariance of the parameters could not be estimated"
            )?;
        }
        write!(
            f,
            "cost {}  chi2 {}  reduced chi2 {}  R² {:.6}  RMSE {}  AIC {:.4}  BIC {:.4}",
            g(self.cost),
            g(self.chi2),
            g(self.reduced_chi2),
            self.r_squared,
            g(self.rmse),
            self.aic,
            self.bic
        )
    }
}
