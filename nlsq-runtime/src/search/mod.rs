//! Global search by multi-start: many local fits from space-filling starts, cheap to run
//! together, and the distinct minima they reach.
//!
//! [`CurveFit::multistart`](crate::CurveFit::multistart) turns a fit into a search:
//!
//! - **starts** (`starts.rs`): `p0` and `K − 1` points of a scrambled Sobol sequence, mapped
//!   into each parameter's bounds, or log-uniformly over [`MultiStart::decades`] decades
//!   around `p0` (both signs) where a parameter is unbounded — unless the model says what the
//!   parameter does ([`Model::param_roles`](crate::Model::param_roles), [`Role`]; `#[model]`s
//!   and [`ExprModel`](crate::ExprModel)s do) and the data is in memory: a location (`x − c`)
//!   is then drawn within its predictor's range in the data, a rate (`k·x`, `w·(x − c)²`,
//!   `x / s`) over length scales from a hundredth of that range to ten times it, with p0's
//!   sign;
//! - **linear parameters** (those the model is affine in, [`Role::Linear`]): solved at each
//!   start (but p0) by one linear least-squares step on a K-vector pass before screening, so
//!   amplitudes match the data wherever the nonlinear parameters put the curve;
//! - **the K-vector pass** ([`Objective::passes`](crate::solve::Objective::passes),
//!   [`Objective::costs`](crate::solve::Objective::costs)): K parameter vectors evaluated in
//!   one read of the data (on the CPU, each chunk of points is evaluated at all K vectors while
//!   it is in cache), bit-identical to K single passes;
//! - **lockstep solves** (`lockstep.rs`): the fit's own solver, unchanged, from each surviving
//!   start, all of them served by one K-vector pass per step;
//! - **early elimination** (`schedule.rs`): screening by cost, then successive halving with
//!   doubling pass budgets, then full refinement of the best few;
//! - **distinct minima** (`cluster.rs`): the finished solves grouped by cost and parameters.
//!
//! The fit's result is then the ordinary local fit (same method, options, statistics) from the
//! best minimum found, with the search's [`SearchReport`] in
//! [`FitResult::search`](crate::FitResult::search). Everything is deterministic for a given
//! seed.
//!
//! ```
//! use nlsq_runtime::{CurveFit, ExprModel, search::MultiStart};
//! // A decaying oscillation: from a poor frequency guess a local fit stops in a side minimum.
//! let x: Vec<f64> = (0..200).map(|i| i as f64 * 0.05).collect();
//! let y: Vec<f64> = x.iter().map(|x| 2.0 * (-0.3 * x).exp() * (3.0 * x).cos()).collect();
//! let model = ExprModel::parse("a * exp(-b * x) * cos(w * x)").unwrap();
//! let fit = CurveFit::new(&model)
//!     .p0([1.0, 0.1, 1.0])
//!     .bounds([0.0, 0.0, 0.0], [10.0, 5.0, 10.0])
//!     .multistart(MultiStart::new(32).seed(1))
//!     .fit(&x, &y)
//!     .unwrap();
//! assert!((fit.popt[2] - 3.0).abs() < 1e-8);
//! let search = fit.search.as_ref().unwrap();
//! assert!(search.minima.len() >= 1 && search.minima[0].cost < 1e-20);
//! println!("{} distinct minima; best reached from {} starts", search.minima.len(), search.minima[0].starts);
//! ```

mod cluster;
mod lockstep;
mod schedule;
mod starts;

pub use kernels_gen::roles::Role;
pub(crate) use schedule::search;
pub use schedule::{FIRST_ROUND_PASSES, LOCKSTEP_MAX};
pub(crate) use starts::Hints;
pub use starts::MAX_STARTS;

use crate::error::FitError;
use crate::solve::Status;

/// The settings of a multi-start search ([`CurveFit::multistart`](crate::CurveFit::multistart)).
#[derive(Clone, Debug, PartialEq)]
pub struct MultiStart {
    /// Starts, `p0` included (1 to [`MAX_STARTS`]).
    pub starts: usize,
    /// The scrambling seed of the Sobol sequence (default 0).
    pub seed: u32,
    /// How many starts are solved to convergence at the end of the elimination schedule
    /// (default 8; at most [`LOCKSTEP_MAX`]). Starts that converge earlier count too.
    pub refine: usize,
    /// Where a parameter is unbounded on a side (and its role in the model gives no range),
    /// starts span this many decades on each side of its scale (`|p0|`, or the distance of p0
    /// from its one finite bound; default 2).
    pub decades: f64,
    /// Relative agreement of the parameters of one minimum (default 1e-4; see
    /// [`SearchReport::minima`]).
    pub distinct_tol: f64,
}

impl MultiStart {
    /// `starts` starts with the default settings.
    pub fn new(starts: usize) -> Self {
        MultiStart {
            starts,
            seed: 0,
            refine: 8,
            decades: 2.0,
            distinct_tol: 1e-4,
        }
    }

    /// The seed of the Sobol sequence's scrambling.
    pub fn seed(mut self, seed: u32) -> Self {
        self.seed = seed;
        self
    }

    /// Starts solved to convergence at the end of the schedule.
    pub fn refine(mut self, n: usize) -> Self {
        self.refine = n;
        self
    }

    /// Decades spanned on each side of an unbounded parameter's scale.
    pub fn decades(mut self, decades: f64) -> Self {
        self.decades = decades;
        self
    }

    /// Relative parameter tolerance under which two minima are one.
    pub fn distinct_tol(mut self, tol: f64) -> Self {
        self.distinct_tol = tol;
        self
    }

    /// Checks the settings: [`FitError::InvalidOption`] (option `multistart`) naming the bad
    /// one.
    pub fn check(&self) -> Result<(), FitError> {
        let bad = |reason: String| {
            Err(FitError::InvalidOption {
                option: "multistart".into(),
                reason,
            })
        };
        if self.starts == 0 || self.starts > MAX_STARTS {
            return bad(format!(
                "{} starts: the number of starts must be between 1 and {MAX_STARTS}",
                self.starts
            ));
        }
        if self.refine == 0 || self.refine > LOCKSTEP_MAX {
            return bad(format!(
                "refine = {} must be between 1 and {LOCKSTEP_MAX}",
                self.refine
            ));
        }
        if !(self.decades.is_finite() && self.decades > 0.0 && self.decades <= 100.0) {
            return bad(format!(
                "decades = {} must be positive and at most 100",
                self.decades
            ));
        }
        if !(self.distinct_tol.is_finite() && self.distinct_tol > 0.0 && self.distinct_tol < 1.0) {
            return bad(format!(
                "distinct_tol = {} must lie in (0, 1)",
                self.distinct_tol
            ));
        }
        Ok(())
    }
}

/// One distinct minimum found by a search.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Minimum {
    /// The parameters where the best solve reaching it ended: the fitted (free) parameters,
    /// in the order of the fitted model (for a model with fixed or tied parameters, not
    /// expanded as [`FitResult::popt`](crate::FitResult::popt) is).
    pub params: Vec<f64>,
    /// Its cost (`½ Σ ρ`, as [`FitResult::cost`](crate::FitResult::cost)).
    pub cost: f64,
    /// How many solves ended at it.
    pub starts: usize,
    /// The index of the start of its best solve (0 is `p0`).
    pub start: usize,
    /// Why that solve stopped.
    pub status: Status,
}

/// Minima listed by [`SearchReport`]'s `Display` (the summary of a fit); all are in
/// [`SearchReport::minima`].
pub const SHOWN_MINIMA: usize = 5;

impl std::fmt::Display for SearchReport {
    /// A line on the search, then the best minima (cost, starts that reached it, parameters).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "multistart: {} starts (seed {}, {} finite), {} distinct minima from {} solves, \
             {} K-vector passes over {} vectors",
            self.starts,
            self.seed,
            self.finite_starts,
            self.minima.len(),
            self.solves,
            self.k_passes,
            self.vectors
        )?;
        for m in self.minima.iter().take(SHOWN_MINIMA) {
            let params: Vec<String> = m.params.iter().map(|v| format!("{v:.6e}")).collect();
            writeln!(
                f,
                "  cost {:.6e}  reached by {:>3}  at [{}]",
                m.cost,
                m.starts,
                params.join(", ")
            )?;
        }
        if self.minima.len() > SHOWN_MINIMA {
            writeln!(f, "  ... {} more", self.minima.len() - SHOWN_MINIMA)?;
        }
        Ok(())
    }
}

/// What a multi-start search did and found ([`FitResult::search`](crate::FitResult::search)).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchReport {
    /// Starts, `p0` included.
    pub starts: usize,
    /// The Sobol seed.
    pub seed: u32,
    /// Starts whose cost was finite at screening.
    pub finite_starts: usize,
    /// Rounds of successive halving before the final refinement.
    pub rounds: usize,
    /// Solves that ended at a minimum (converged in a round, or refined).
    pub solves: usize,
    /// K-vector passes run (screening included): reads of the data.
    pub k_passes: usize,
    /// Parameter vectors evaluated in them.
    pub vectors: usize,
    /// The distinct minima, best first. Two solves reached the same minimum when their costs
    /// agree to 1e-6 (relative) and each parameter to [`MultiStart::distinct_tol`] relative
    /// to its magnitude (or to its start range's scale, near zero). A line or surface of
    /// minima (an unidentifiable model) shows as several minima of equal cost.
    pub minima: Vec<Minimum>,
}
