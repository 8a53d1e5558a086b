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
    /// Parameter names, flattened. For a model with fixed or tied parameters
    /// ([`crate::params`]), every parameter of the original model, in its order.
    pub param_names: Vec<String>,
    /// Whether each parameter was fitted, fixed or tied ([`crate::params`]). Empty in results
    /// written before this field existed (all free).
    #[serde(default)]
    pub param_kinds: Vec<ParamKind>,
    /// Best-fit parameters.
    #[serde(with = "crate::serde_float::vec")]
    pub popt: Vec<f64>,
    /// Covariance of the parameters (rows), scipy `curve_fit`'s `pcov`. With fixed or tied
    /// parameters, `G Σ Gᵀ` over all of them: `Σ` the free parameters' covariance, `G` the
    /// Jacobian of every parameter with respect to the free ones (zero rows and columns for
    /// fixed parameters, the delta method for tied ones).
    #[serde(with = "crate::serde_float::rows")]
    pub pcov: Vec<Vec<f64>>,
    /// `pcov` is not fully estimated: some or all parameters have infinite variance (scipy
    /// warns with an `OptimizeWarning`); [`FitResult::covariance_issue`] says why.
    pub covariance_indeterminate: bool,
    /// Why `pcov` is not fully estimated, when it is not: parameters the data do not determine
    /// (their rows and columns of `pcov` are `+∞`, the others keep their variances), no degrees
    /// of freedom, or a non-finite `JᵀJ` (then every entry is `+∞`). The rank rule and how it
    /// relates to scipy's, for each method, are in the docs of [`CovarianceIssue`].
    #[serde(default)]
    pub covariance_issue: Option<CovarianceIssue>,
    /// Standard errors `sqrt(diag(pcov))`; `NaN` for a fixed parameter (it has none).
    #[serde(with = "crate::serde_float::vec")]
    pub perr: Vec<f64>,
    /// 95% confidence intervals `popt ± q · perr` (`NaN` for a fixed parameter): `q` is
    /// Student's `t₀.₉₇₅(dof)` for relative sigma (the noise variance estimated from the
    /// residuals), the normal's 1.96 for absolute sigma (the variance known); infinite with no
    /// degrees of freedom.
    #[serde(with = "crate::serde_float::pairs")]
    pub ci95: Vec<(f64, f64)>,
    /// `½ Σ ρ` at the solution (scipy's `cost`, the objective the solver minimised).
    #[serde(with = "crate::serde_float::scalar")]
    pub cost: f64,
    /// The robust objective `Σ ρ_i = Σ f_scale² ρ((w_i r_i / f_scale)²) = 2 · cost`, which
    /// also scales `pcov` (scipy's rule, for every loss). For the linear loss it equals
    /// `chi2`; for a robust loss it is *not* a χ² (it is in units of `f_scale²`, and bounded
    /// per point for some losses). `NaN` in results written before this field existed.
    #[serde(default = "nan", with = "crate::serde_float::scalar")]
    pub sum_rho: f64,
    /// χ² `= Σ (w_i r_i)²`, the sum of squared weighted residuals at the solution, for every
    /// loss: `r_i = f(x_i; p) − y_i`, `w_i = 1/σ_i` with a 1-D sigma, 1 without, and `w r` the
    /// whitened residuals `L⁻¹ r` with a covariance sigma. For the linear loss it is `sum_rho`;
    /// for a robust loss it is the least-squares χ² of the robust solution (the residuals the
    /// loss down-weighted count in full). `NaN` for a robust fit on device-resident data (its
    /// residuals are not read back).
    #[serde(with = "crate::serde_float::scalar")]
    pub chi2: f64,
    /// `chi2 / dof` (`+∞` with no degrees of freedom).
    #[serde(with = "crate::serde_float::scalar")]
    pub reduced_chi2: f64,
    /// `1 − Σ(y − f)² / Σ(y − ȳ)²` on unweighted residuals, for every loss and sigma.
    #[serde(with = "crate::serde_float::scalar")]
    pub r_squared: f64,
    /// `sqrt(Σ(y − f)² / N)` on unweighted residuals, for every loss and sigma.
    #[serde(with = "crate::serde_float::scalar")]
    pub rmse: f64,
    /// Akaike information criterion `N ln(chi2 / N) + 2P` (Gaussian likelihood of the weighted
    /// residuals with an unknown common scale), from `chi2` for every loss.
    #[serde(with = "crate::serde_float::scalar")]
    pub aic: f64,
    /// Bayesian information criterion `N ln(chi2 / N) + P ln N`, from `chi2` for every loss.
    #[serde(with = "crate::serde_float::scalar")]
    pub bic: f64,
    /// Points used.
    pub n_points: usize,
    /// Points dropped by `NanPolicy::Omit`.
    pub n_omitted: usize,
    /// Degrees of freedom `N − P` (`P` the free parameters).
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
    /// Whether sigma was absolute (scipy's `absolute_sigma`): `pcov` is then `(JᵀJ)⁻¹`,
    /// unscaled, and a new observation's variance is its `σ²` ([`crate::bands`]). `false`
    /// in results written before this field existed.
    #[serde(default)]
    pub absolute_sigma: bool,
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
    /// Each dataset's part of a global fit ([`crate::fit::global::GlobalFit`]), in the order
    /// the datasets were given; empty for a fit of one dataset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<DatasetFit>,
    /// What a multi-start search found ([`crate::CurveFit::multistart`]): every distinct
    /// minimum with its cost and how many starts reached it. The rest of the result is the
    /// local fit from the best of them; its `nfev` counts that fit's passes only (the
    /// search's are in the report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<crate::search::SearchReport>,
}

/// One dataset's part of a global fit ([`crate::fit::global::GlobalFit`]).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DatasetFit {
    /// The dataset's label.
    pub label: String,
    /// Its model's name.
    pub model: String,
    /// Its points fitted.
    pub n_points: usize,
    /// Its share of [`FitResult::cost`]: `½ Σ ρ` over its points at the solution.
    #[serde(with = "crate::serde_float::scalar")]
    pub cost: f64,
    /// For each parameter of its model, in the model's order, the index of the global
    /// parameter it is (into [`FitResult::popt`], `pcov`, `param_names`).
    pub params: Vec<usize>,
}

impl DatasetFit {
    /// The dataset's model parameters at the solution, in its model's order: what its curve
    /// is evaluated with.
    pub fn popt(&self, result: &FitResult) -> Vec<f64> {
        self.params
            .iter()
            .map(|&g| result.popt.get(g).copied().unwrap_or(f64::NAN))
            .collect()
    }
}

fn nan() -> f64 {
    f64::NAN
}

/// What a parameter was in the fit ([`FitResult::param_kinds`]). Serializes as
/// `{"kind": "free"}`, `{"kind": "fixed"}` or `{"kind": "tied", "expr": "0.5 * a1"}`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ParamKind {
    /// Fitted.
    Free,
    /// Held at its value.
    Fixed,
    /// Computed from the other parameters by the expression.
    Tied {
        /// The tie's expression.
        expr: String,
    },
}

impl FitResult {
    /// The kind of parameter `j` (free when the result has no kinds).
    pub fn param_kind(&self, j: usize) -> &ParamKind {
        self.param_kinds.get(j).unwrap_or(&ParamKind::Free)
    }

    /// The number of fitted (free) parameters.
    pub fn n_free(&self) -> usize {
        (0..self.popt.len())
            .filter(|&j| *self.param_kind(j) == ParamKind::Free)
            .count()
    }
}

/// Why a fit's covariance is not fully estimated ([`FitResult::covariance_issue`]).
///
/// # The rank rule
///
/// The data do not determine a direction of the parameters when `JᵀJ` (at the solution,
/// scaled to unit diagonal, `D⁻¹ JᵀJ D⁻¹` with `D = sqrt(diag JᵀJ)`) has an eigenvalue
/// `μ_i <= eps · max(N, P) · μ_max` (`eps = f64::EPSILON`), or a parameter's column of `J` is
/// exactly zero. This is scipy's pseudo-inverse threshold `eps · max(M, N) · s_max` applied to
/// the eigenvalues of `JᵀJ` (`μ = s²`) instead of the singular values of `J`: `JᵀJ` summed in
/// f64 cannot resolve singular values below about `sqrt(eps) · s_max`, where an exactly
/// undetermined direction lands after rounding. The parameters with more than `sqrt(eps)` of
/// their squared weight in those directions get `+∞` variances (rows and columns of `pcov`);
/// the others are determined by the data and keep their variances.
///
/// # Relation to scipy's `curve_fit`
///
/// The rule is the same for every method here. scipy differs per method: `lm` inverts `R` of
/// MINPACK's pivoted QR of `J` and fills `pcov` with `+∞` (with an `OptimizeWarning`) only when
/// `R` is exactly singular — a zero column (`a·exp(−b x) + 0·c`) does that, nearly
/// proportional columns (`a·x + b·c`) give huge finite variances; `trf` and `dogbox` take the
/// pseudo-inverse from the SVD of `J` with the threshold above on `s`, which gives a discarded
/// direction *zero* variance, unflagged (`perr = 0` for `c` in `a·exp(−b x) + 0·c`), and fill
/// `pcov` with `+∞` only when it is not finite. Fits whose `JᵀJ` has full rank by this rule get
/// scipy's covariance.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum CovarianceIssue {
    /// The data do not determine some directions of the parameters: `directions` eigenvalues
    /// of the scaled `JᵀJ` fell below the rank threshold (or columns of `J` were zero);
    /// `parameters` take part in them and have infinite variance.
    RankDeficient {
        /// Undetermined directions.
        directions: usize,
        /// The parameters involved, by name.
        parameters: Vec<String>,
    },
    /// `N <= P` (without `absolute_sigma`): no degrees of freedom to estimate the residual
    /// variance; every entry of `pcov` is `+∞`.
    NoDegreesOfFreedom,
    /// `JᵀJ` or its inverse is not finite; every entry of `pcov` is `+∞`.
    NotFinite,
}

impl fmt::Display for CovarianceIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CovarianceIssue::RankDeficient {
                directions,
                parameters,
            } => write!(
                f,
                "the data do not determine {directions} direction{} of the parameters (JᵀJ is \
                 rank-deficient: eigenvalue <= eps·max(N, P)·largest, on unit diagonal); \
                 infinite variance for {}",
                if *directions == 1 { "" } else { "s" },
                parameters.join(", ")
            ),
            CovarianceIssue::NoDegreesOfFreedom => f.write_str(
                "no degrees of freedom (points <= parameters) to estimate the residual variance",
            ),
            CovarianceIssue::NotFinite => f.write_str("JᵀJ or its inverse is not finite"),
        }
    }
}

impl FitResult {
    /// The covariance as a matrix.
    pub fn pcov_matrix(&self) -> nalgebra::DMatrix<f64> {
        let p = self.popt.len();
        nalgebra::DMatrix::from_fn(p, p, |i, j| self.pcov[i][j])
    }

    /// The correlation matrix of the parameters, `pcov[i][j] / sqrt(pcov[i][i] · pcov[j][j])`,
    /// over every parameter in the order of [`param_names`](FitResult::param_names): 1 on the
    /// diagonal, and `NaN` in the rows and columns of parameters without a finite positive
    /// variance (fixed parameters, parameters the data do not determine, an indeterminate
    /// covariance). A tied parameter is correlated with the parameters of its expression
    /// (±1 for a tie proportional to one parameter).
    pub fn correlation(&self) -> Vec<Vec<f64>> {
        let p = self.popt.len();
        let cov = |i: usize, j: usize| {
            self.pcov
                .get(i)
                .and_then(|r| r.get(j))
                .copied()
                .unwrap_or(f64::NAN)
        };
        let sd: Vec<f64> = (0..p)
            .map(|j| {
                let v = cov(j, j);
                if v.is_finite() && v > 0.0 {
                    v.sqrt()
                } else {
                    f64::NAN
                }
            })
            .collect();
        (0..p)
            .map(|i| {
                (0..p)
                    .map(|j| match i == j && sd[i].is_finite() {
                        true => 1.0,
                        false => cov(i, j) / (sd[i] * sd[j]),
                    })
                    .collect()
            })
            .collect()
    }

    /// The value of a parameter by name.
    pub fn param(&self, name: &str) -> Option<f64> {
        self.param_names
            .iter()
            .position(|n| n == name)
            .map(|j| self.popt[j])
    }
}

impl FitResult {
    /// `3 parameters`, or `4 parameters (2 free, 1 fixed, 1 tied)`.
    fn count_parameters(&self) -> String {
        let n = self.popt.len();
        let free = self.n_free();
        if free == n {
            return format!("{n} parameters");
        }
        let fixed = (0..n)
            .filter(|&j| *self.param_kind(j) == ParamKind::Fixed)
            .count();
        format!(
            "{n} parameters ({free} free, {fixed} fixed, {} tied)",
            n - free - fixed
        )
    }

    /// The summary table's row of parameter `j`, names `w` wide.
    fn write_row(&self, f: &mut fmt::Formatter<'_>, j: usize, w: usize) -> fmt::Result {
        let note = match (self.param_kind(j), self.active_mask.get(j)) {
            (ParamKind::Fixed, _) => "  (fixed)".to_string(),
            (ParamKind::Tied { expr }, _) => format!("  (tied: = {expr})"),
            (_, Some(-1)) => "  (at lower bound)".to_string(),
            (_, Some(1)) => "  (at upper bound)".to_string(),
            _ => String::new(),
        };
        let (err, lo, hi) = if *self.param_kind(j) == ParamKind::Fixed {
            ("fixed".to_string(), "-".to_string(), "-".to_string())
        } else {
            (
                if self.perr[j].is_finite() {
                    format!("{:.3e}", self.perr[j])
                } else {
                    "inf".into()
                },
                format_g(self.ci95[j].0),
                format_g(self.ci95[j].1),
            )
        };
        writeln!(
            f,
            "{:<w$}  {:>14}  {:>12}  [{lo:>14}, {hi:>14}]{note}",
            self.param_names[j],
            format_g(self.popt[j]),
            err,
        )
    }
}

/// Correlations at least this large in magnitude are flagged in the summary table.
const STRONG_CORRELATION: f64 = 0.9;
/// The summary table prints the correlation matrix of at most this many free parameters.
const MAX_MATRIX: usize = 8;

impl FitResult {
    /// The summary table's correlations of the free parameters: the lower triangle of the
    /// matrix for 2 to [`MAX_MATRIX`] of them, and then (or alone, for more) the pairs with
    /// `|r| >= 0.9`, which the data barely tell apart.
    fn write_correlation(&self, f: &mut fmt::Formatter<'_>, w: usize) -> fmt::Result {
        let free: Vec<usize> = (0..self.popt.len())
            .filter(|&j| *self.param_kind(j) == ParamKind::Free)
            .collect();
        if free.len() < 2 {
            return Ok(());
        }
        let r = self.correlation();
        if free.len() <= MAX_MATRIX {
            writeln!(f, "correlation of the fitted parameters:")?;
            for (a, &i) in free.iter().enumerate().skip(1) {
                write!(f, "{:<w$}", self.param_names[i])?;
                for &j in &free[..a] {
                    write!(f, "  {:>8.4}", r[i][j])?;
                }
                writeln!(f)?;
            }
            let header: Vec<String> = free[..free.len() - 1]
                .iter()
                .map(|&j| format!("{:>8.8}", self.param_names[j]))
                .collect();
            writeln!(f, "{:<w$}  {}", "", header.join("  "))?;
        }
        let strong: Vec<String> = free
            .iter()
            .enumerate()
            .flat_map(|(a, &i)| free[..a].iter().map(move |&j| (j, i)))
            .filter(|&(i, j)| r[i][j].abs() >= STRONG_CORRELATION)
            .map(|(i, j)| {
                let (a, b) = (&self.param_names[i], &self.param_names[j]);
                format!("{a}–{b} {:.4}", r[i][j])
            })
            .collect();
        if !strong.is_empty() {
            writeln!(f, "strongly correlated (|r| >= 0.9): {}", strong.join(", "))?;
        }
        Ok(())
    }
}

/// Seven significant digits, as the summary table prints numbers: fixed notation for moderate
/// magnitudes, scientific otherwise.
///
/// ```
/// assert_eq!(nlsq_runtime::result::format_g(1.3), "1.300000");
/// assert_eq!(nlsq_runtime::result::format_g(2.5e-7), "2.500000e-7");
/// ```
pub fn format_g(v: f64) -> String {
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

impl FitResult {
    /// A global fit's datasets: label, model, points and share of the cost.
    fn write_datasets(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.datasets.is_empty() {
            return Ok(());
        }
        let w = self
            .datasets
            .iter()
            .map(|d| d.label.len())
            .max()
            .unwrap_or(0);
        let w = w.max(7);
        writeln!(
            f,
            "{:<w$}  {:>8}  {:>14}  model",
            "dataset", "points", "cost"
        )?;
        for d in &self.datasets {
            writeln!(
                f,
                "{:<w$}  {:>8}  {:>14}  {}",
                d.label,
                d.n_points,
                format_g(d.cost),
                d.model
            )?;
        }
        Ok(())
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
            "{} points{}, {}, {} dof; {} passes, {} iterations, {:.3} ms",
            self.n_points,
            if self.n_omitted > 0 {
                format!(" ({} omitted as non-finite)", self.n_omitted)
            } else {
                String::new()
            },
            self.count_parameters(),
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
            self.write_row(f, j, w)?;
        }
        self.write_correlation(f, w)?;
        self.write_datasets(f)?;
        if self.data_plan.mode != crate::memory::DataMode::InMemory {
            writeln!(f, "{}", self.data_plan)?;
        }
        if let Some(search) = &self.search {
            write!(f, "{search}")?;
        }
        if self.covariance_indeterminate {
            match &self.covariance_issue {
                Some(issue) => writeln!(
                    f,
                    "warning: the covariance of the parameters could not be fully estimated: {issue}"
                )?,
                None => writeln!(
                    f,
                    "warning: the covariance of the parameters could not be estimated"
                )?,
            }
        }
        if self.loss != Loss::Linear {
            writeln!(
                f,
                "robust objective ({} loss, f_scale {}): cost ½Σρ {}  Σρ {}",
                self.loss,
                format_g(self.f_scale),
                format_g(self.cost),
                format_g(self.sum_rho)
            )?;
            write!(
                f,
                "least-squares statistics of the robust solution, on all weighted residuals: "
            )?;
        } else {
            write!(f, "least squares: cost {}  ", format_g(self.cost))?;
        }
        write!(
            f,
            "chi2 {}  reduced chi2 {}  R² {:.6}  RMSE {}  AIC {:.4}  BIC {:.4}",
            format_g(self.chi2),
            format_g(self.reduced_chi2),
            self.r_squared,
            format_g(self.rmse),
            self.aic,
            self.bic
        )
    }
}
