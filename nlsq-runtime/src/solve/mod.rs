//! Solvers on the small `P × P` system.
//!
//! Every solver sees the data only through [`Objective::pass`]: for given parameters, the cost
//! `½ Σ ρ(r_i²)`, the (loss-scaled) Gauss–Newton matrix `JᵀJ` and the gradient `Jᵀr`
//! (see the kernel ABI in `kernels_gen::kernels::abi`). So every solver runs unchanged on every
//! backend and every driver. Everything here is `f64`, on the host.
//!
//! Solvers follow scipy's `least_squares` semantics for `ftol`, `xtol`, `gtol`, `x_scale`,
//! `max_nfev`, bounds and status codes.

pub(crate) mod bounds;
pub(crate) mod dense;
pub mod dogbox;
mod driver;
pub mod lm;
mod lmpar;
mod method;
pub mod state;
#[cfg(test)]
mod test_problems;
pub mod trf;
pub(crate) mod trust_region;

use crate::error::FitError;
pub use dense::DenseObjective;
pub use method::Method;
use nalgebra::{DMatrix, DVector};
use state::{DogboxState, Hooks, LmState, TrfState};
use std::ops::ControlFlow;

/// Minimizes the objective from `x0` by `method` (see [`lm`], [`trf`] and [`dogbox`]) with
/// [`Hooks`]: a callback, a state to resume from (then `x0` is only checked) and a sink for
/// checkpoint snapshots.
///
/// Errors: those of the method's `solve`; `InvalidOption` for a state to resume from of another
/// method, `LengthMismatch` for one of another size.
pub fn solve_with(
    method: Method,
    obj: &mut dyn Objective,
    x0: &[f64],
    opts: &SolverOptions,
    hooks: Hooks<'_>,
) -> Result<SolverOutput, FitError> {
    match method {
        Method::Lm => driver::run::<LmState>(obj, x0, opts, hooks),
        Method::Trf => driver::run::<TrfState>(obj, x0, opts, hooks),
        Method::Dogbox => driver::run::<DogboxState>(obj, x0, opts, hooks),
    }
}

/// The normal-equation pieces of one pass over all data at some parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Pass {
    /// `½ Σ f_scale² ρ(z_i)`; `½ Σ r_i²` for the linear loss. `+∞` when any residual or
    /// Jacobian entry was not finite (the solver then treats the point as unacceptable).
    pub cost: f64,
    /// `JᵀJ` of the loss-scaled Jacobian, full symmetric `P × P`.
    pub jtj: DMatrix<f64>,
    /// `Jᵀr` of the loss-scaled Jacobian and residuals: the gradient of `cost`.
    pub gradient: DVector<f64>,
    /// Points accumulated.
    pub n_points: u64,
    /// Points skipped because the residual or Jacobian row was not finite.
    pub n_nonfinite: u64,
}

impl Pass {
    /// Whether the pass can be a point of an iteration: every residual and Jacobian entry was
    /// finite, and so are the cost, `JᵀJ` and the gradient (sums of finite terms can still
    /// overflow).
    pub fn is_finite(&self) -> bool {
        self.n_nonfinite == 0
            && self.cost.is_finite()
            && self.jtj.iter().all(|v| v.is_finite())
            && self.gradient.iter().all(|v| v.is_finite())
    }
}

/// The first pass of a solve, which must be finite (scipy: "Residuals are not finite in the
/// initial point").
pub(crate) fn initial_pass(obj: &mut dyn Objective, x0: &[f64]) -> Result<Pass, FitError> {
    let pass = obj.pass(x0)?;
    if !pass.is_finite() && pass.n_nonfinite == 0 {
        // Every point finite, the sums not: the data's scale, not the model's domain. The
        // caller knows the model and loss; the fit pipeline checks its first pass itself.
        return Err(FitError::SumsOverflow {
            model: "objective".into(),
            points: pass.n_points as usize,
            loss: crate::loss::Loss::Linear,
            f_scale: 1.0,
        });
    }
    if !pass.is_finite() {
        return Err(FitError::NonFiniteModelAtP0 {
            model: "objective".into(),
            count: pass.n_nonfinite.max(1) as usize,
            points: (pass.n_points + pass.n_nonfinite) as usize,
            first: 0,
        });
    }
    Ok(pass)
}

/// What solvers see: passes at any parameter vector.
pub trait Objective {
    /// Number of parameters `P`.
    fn n_params(&self) -> usize;
    /// One pass at `p` (`p.len() == P`). Non-finite model values are reported in the pass
    /// (`n_nonfinite > 0`, `cost = +∞`), not as an error; errors are for failures of the
    /// backend itself.
    fn pass(&mut self, p: &[f64]) -> Result<Pass, FitError>;

    /// The reduction rows (the kernel ABI's layout) of the pass at `p`, one per chunk, in the
    /// order the pass adds them into one running row from zeros; `None` where the pass is not
    /// such a sum on the host (GPUs, dense objectives). A distributed fit in chunk order
    /// continues one running row from rank to rank with them.
    fn chunk_rows(&mut self, _p: &[f64]) -> Option<Result<Vec<Vec<f64>>, FitError>> {
        None
    }

    /// One pass at each of `ps` (the K-vector pass of multi-start searches, [`crate::search`]):
    /// `passes(ps)[k]` equals `pass(ps[k])` bit for bit. A backend that can evaluate several
    /// parameter vectors in one read of its data overrides this (the CPU backend does); the
    /// default makes one pass each.
    fn passes(&mut self, ps: &[&[f64]]) -> Result<Vec<Pass>, FitError> {
        ps.iter().map(|p| self.pass(p)).collect()
    }

    /// The cost alone at each of `ps`, for screening: `½ Σ f_scale² ρ(z_i)`, `+∞` where a
    /// residual is not finite. It may differ from `pass(p).cost` in the last bits (a backend
    /// that overrides it sums in its own order), but is deterministic. The default takes the
    /// cost of a full pass each.
    fn costs(&mut self, ps: &[&[f64]]) -> Result<Vec<f64>, FitError> {
        ps.iter().map(|p| Ok(self.pass(p)?.cost)).collect()
    }
}

/// How parameters are scaled for the trust region (scipy's `x_scale`).
#[derive(Clone, Debug, PartialEq)]
pub enum XScale {
    /// Fixed characteristic scales, one per parameter (all 1.0 is no scaling).
    Fixed(Vec<f64>),
    /// Inverse norms of the Jacobian's columns, updated each iteration (MINPACK's scaling).
    Jac,
}

/// Stopping rules and bounds shared by all solvers.
#[derive(Clone, Debug, PartialEq)]
pub struct SolverOptions {
    /// Relative reduction of the cost (scipy `ftol`, default 1e-8).
    pub ftol: f64,
    /// Relative change of the parameters (scipy `xtol`, default 1e-8).
    pub xtol: f64,
    /// Norm of the scaled gradient (scipy `gtol`, default 1e-8).
    pub gtol: f64,
    /// Maximum passes; `None` is scipy's default for the method (`100 P` for trf and dogbox,
    /// `100 (P + 1)` for lm).
    pub max_nfev: Option<usize>,
    /// Parameter scaling.
    pub x_scale: XScale,
    /// Lower bounds (`-∞` for none). Empty means unbounded.
    pub lower: Vec<f64>,
    /// Upper bounds (`+∞` for none). Empty means unbounded.
    pub upper: Vec<f64>,
}

impl Default for SolverOptions {
    fn default() -> Self {
        SolverOptions {
            ftol: 1e-8,
            xtol: 1e-8,
            gtol: 1e-8,
            max_nfev: None,
            x_scale: XScale::Fixed(Vec::new()),
            lower: Vec::new(),
            upper: Vec::new(),
        }
    }
}

impl SolverOptions {
    /// The scale of parameter `j` for `XScale::Fixed` (1.0 where none was given).
    pub fn fixed_scale(&self, j: usize) -> f64 {
        match &self.x_scale {
            XScale::Fixed(v) => v.get(j).copied().unwrap_or(1.0),
            XScale::Jac => 1.0,
        }
    }

    /// Lower bound of parameter `j`.
    pub fn lower(&self, j: usize) -> f64 {
        self.lower.get(j).copied().unwrap_or(f64::NEG_INFINITY)
    }

    /// Upper bound of parameter `j`.
    pub fn upper(&self, j: usize) -> f64 {
        self.upper.get(j).copied().unwrap_or(f64::INFINITY)
    }

    /// Whether any bound is finite.
    pub fn has_bounds(&self) -> bool {
        self.lower.iter().any(|v| v.is_finite()) || self.upper.iter().any(|v| v.is_finite())
    }
}

/// Why a solver stopped (scipy's `status` codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Status {
    /// The iteration callback asked to stop (scipy: -2).
    Stopped,
    /// `max_nfev` passes were used (0).
    MaxNfev,
    /// `gtol` satisfied (1).
    Gtol,
    /// `ftol` satisfied (2).
    Ftol,
    /// `xtol` satisfied (3).
    Xtol,
    /// Both `ftol` and `xtol` satisfied (4).
    FtolXtol,
}

impl Status {
    /// scipy's integer code.
    pub fn code(self) -> i32 {
        match self {
            Status::Stopped => -2,
            Status::MaxNfev => 0,
            Status::Gtol => 1,
            Status::Ftol => 2,
            Status::Xtol => 3,
            Status::FtolXtol => 4,
        }
    }

    /// Whether a tolerance was met.
    pub fn converged(self) -> bool {
        self.code() > 0
    }

    /// scipy's message for the status.
    pub fn message(self) -> &'static str {
        match self {
            Status::Stopped => "The iteration callback requested termination.",
            Status::MaxNfev => "The maximum number of function evaluations is exceeded.",
            Status::Gtol => "`gtol` termination condition is satisfied.",
            Status::Ftol => "`ftol` termination condition is satisfied.",
            Status::Xtol => "`xtol` termination condition is satisfied.",
            Status::FtolXtol => "Both `ftol` and `xtol` termination conditions are satisfied.",
        }
    }
}

/// What the iteration callback sees after each iteration.
#[derive(Clone, Debug)]
pub struct IterationInfo<'a> {
    /// Iteration number, from 1.
    pub iteration: usize,
    /// Passes so far.
    pub nfev: usize,
    /// Current cost.
    pub cost: f64,
    /// Current parameters.
    pub x: &'a [f64],
    /// Norm of the last step.
    pub step_norm: f64,
    /// First-order optimality (scipy's `optimality`: max-norm of the scaled gradient).
    pub optimality: f64,
}

/// Called after each iteration; return `ControlFlow::Break(())` to stop the fit.
pub type Callback<'a> = &'a mut dyn FnMut(&IterationInfo<'_>) -> ControlFlow<()>;

/// The result of a solve.
#[derive(Clone, Debug)]
pub struct SolverOutput {
    /// The solution.
    pub x: Vec<f64>,
    /// The pass at the solution (cost, `JᵀJ`, gradient).
    pub pass: Pass,
    /// Passes evaluated.
    pub nfev: usize,
    /// Passes whose Jacobian was used (every accepted point).
    pub njev: usize,
    /// Iterations.
    pub nit: usize,
    /// Why it stopped.
    pub status: Status,
    /// First-order optimality at the solution.
    pub optimality: f64,
    /// Per parameter: -1 at the lower bound, 1 at the upper bound, 0 free.
    pub active_mask: Vec<i8>,
}
