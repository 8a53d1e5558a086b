//! A solver's complete state at an iteration boundary, and the hooks through which a solver
//! hands it out (for checkpoints) and starts from it again (to resume).
//!
//! A state holds everything the next iteration reads: the iterate, the pass at it (cost, `JᵀJ`,
//! gradient; reused, not recomputed, so a resumed solve does not need an extra pass and is
//! bit-identical to an uninterrupted one on a deterministic objective), the trust-region
//! radius and the solver's other scalars, the parameter scaling and the counters. Solvers take
//! a snapshot only after an iteration that did not end the solve, right after the callback, at
//! the point where the next iteration begins.

use super::Method;
use super::{Callback, Pass};
use crate::error::FitError;

/// Levenberg–Marquardt's state (see [`super::lm`]).
#[derive(Clone, Debug, PartialEq)]
pub struct LmState {
    /// The current iterate.
    pub x: Vec<f64>,
    /// The pass at `x`.
    pub pass: Pass,
    /// Passes so far.
    pub nfev: usize,
    /// Passes whose `JᵀJ` was used.
    pub njev: usize,
    /// Iterations so far.
    pub nit: usize,
    /// MINPACK's scaling diagonal `D`.
    pub diag: Vec<f64>,
    /// The trust-region radius `Δ`.
    pub delta: f64,
    /// `‖D x‖`.
    pub xnorm: f64,
    /// The Levenberg–Marquardt parameter `λ`.
    pub par: f64,
    /// Whether no step was accepted yet.
    pub first: bool,
}

/// The trust-region reflective method's state (see [`super::trf`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TrfState {
    /// The current iterate.
    pub x: Vec<f64>,
    /// The pass at `x`.
    pub pass: Pass,
    /// Passes so far.
    pub nfev: usize,
    /// Passes whose `JᵀJ` was used.
    pub njev: usize,
    /// Iterations so far.
    pub nit: usize,
    /// Parameter scales.
    pub scale: Vec<f64>,
    /// Their inverses.
    pub scale_inv: Vec<f64>,
    /// The trust-region radius.
    pub delta: f64,
    /// The Levenberg–Marquardt parameter of the subproblem, carried between iterations.
    pub alpha: f64,
}

/// The dogbox method's state (see [`super::dogbox`]).
#[derive(Clone, Debug, PartialEq)]
pub struct DogboxState {
    /// The current iterate.
    pub x: Vec<f64>,
    /// The pass at `x`.
    pub pass: Pass,
    /// Passes so far.
    pub nfev: usize,
    /// Passes whose `JᵀJ` was used.
    pub njev: usize,
    /// Iterations so far.
    pub nit: usize,
    /// Parameter scales.
    pub scale: Vec<f64>,
    /// Their inverses.
    pub scale_inv: Vec<f64>,
    /// The trust-region radius.
    pub delta: f64,
    /// Per parameter: -1 on the lower bound, 1 on the upper bound, 0 free.
    pub on_bound: Vec<i8>,
}

/// What every state holds: the iterate, the pass there and the counters.
pub(crate) trait Point {
    /// The current iterate.
    fn x(&self) -> &[f64];
    /// The pass at the current iterate.
    fn pass(&self) -> &Pass;
    /// Passes, passes whose `JᵀJ` was used, iterations.
    fn counts(&self) -> (usize, usize, usize);
    /// The iterate and the pass there.
    fn into_point(self) -> (Vec<f64>, Pass);
}

/// [`Point`] for the states, whose fields of that name are the same, and their conversions
/// to and from [`SolverState`].
macro_rules! point {
    ($($method:ident: $state:ty),*) => {$(
        impl Point for $state {
            fn x(&self) -> &[f64] {
                &self.x
            }
            fn pass(&self) -> &Pass {
                &self.pass
            }
            fn counts(&self) -> (usize, usize, usize) {
                (self.nfev, self.njev, self.nit)
            }
            fn into_point(self) -> (Vec<f64>, Pass) {
                (self.x, self.pass)
            }
        }

        impl From<$state> for SolverState {
            fn from(state: $state) -> Self {
                SolverState::$method(state)
            }
        }

        impl TryFrom<SolverState> for $state {
            type Error = SolverState;
            fn try_from(state: SolverState) -> Result<Self, SolverState> {
                match state {
                    SolverState::$method(s) => Ok(s),
                    other => Err(other),
                }
            }
        }
    )*};
}
point!(Lm: LmState, Trf: TrfState, Dogbox: DogboxState);

/// A solver's state at an iteration boundary.
#[derive(Clone, Debug, PartialEq)]
pub enum SolverState {
    /// Levenberg–Marquardt.
    Lm(LmState),
    /// Trust-region reflective.
    Trf(TrfState),
    /// Dogbox.
    Dogbox(DogboxState),
}

impl SolverState {
    /// The method this state belongs to.
    pub fn method(&self) -> Method {
        match self {
            SolverState::Lm(_) => Method::Lm,
            SolverState::Trf(_) => Method::Trf,
            SolverState::Dogbox(_) => Method::Dogbox,
        }
    }

    /// The current iterate.
    pub fn x(&self) -> &[f64] {
        match self {
            SolverState::Lm(s) => &s.x,
            SolverState::Trf(s) => &s.x,
            SolverState::Dogbox(s) => &s.x,
        }
    }

    /// The pass at the current iterate.
    pub fn pass(&self) -> &Pass {
        match self {
            SolverState::Lm(s) => &s.pass,
            SolverState::Trf(s) => &s.pass,
            SolverState::Dogbox(s) => &s.pass,
        }
    }

    /// Iterations done.
    pub fn iteration(&self) -> usize {
        match self {
            SolverState::Lm(s) => s.nit,
            SolverState::Trf(s) => s.nit,
            SolverState::Dogbox(s) => s.nit,
        }
    }

    /// Passes done.
    pub fn nfev(&self) -> usize {
        match self {
            SolverState::Lm(s) => s.nfev,
            SolverState::Trf(s) => s.nfev,
            SolverState::Dogbox(s) => s.nfev,
        }
    }

    /// Checks that every vector has `n` entries and the pass is a finite `n × n` one, as a
    /// solver needs before starting from the state.
    pub fn check(&self, n: usize) -> Result<(), FitError> {
        let bad = |what: &str, got: usize| {
            Err(FitError::LengthMismatch {
                what: format!("resumed solver state: {what}"),
                got,
                expected: n,
            })
        };
        let pass = self.pass();
        let lens: Vec<(&str, usize)> = match self {
            SolverState::Lm(s) => vec![("x", s.x.len()), ("diag", s.diag.len())],
            SolverState::Trf(s) => vec![
                ("x", s.x.len()),
                ("scale", s.scale.len()),
                ("scale_inv", s.scale_inv.len()),
            ],
            SolverState::Dogbox(s) => vec![
                ("x", s.x.len()),
                ("scale", s.scale.len()),
                ("scale_inv", s.scale_inv.len()),
                ("on_bound", s.on_bound.len()),
            ],
        };
        for (what, got) in lens
            .into_iter()
            .chain([("gradient", pass.gradient.len()), ("JᵀJ", pass.jtj.nrows())])
        {
            if got != n {
                return bad(what, got);
            }
        }
        if pass.jtj.ncols() != n {
            return bad("JᵀJ columns", pass.jtj.ncols());
        }
        if !pass.is_finite() {
            return Err(FitError::InvalidOption {
                option: "resume".into(),
                reason: "the saved pass is not finite".into(),
            });
        }
        Ok(())
    }
}

/// Receives snapshots of a solver's state.
///
/// The solver asks [`StateSink::due`] after every iteration that did not end the solve and,
/// when it answers `true`, clones its state (`O(P²)`) into [`StateSink::put`]. Both are called
/// on the solver's thread: they must return at once (hand the state to another thread to
/// write it).
pub trait StateSink {
    /// Whether a snapshot is wanted after `iteration`.
    fn due(&mut self, iteration: usize) -> bool;
    /// Takes a snapshot.
    fn put(&mut self, state: SolverState);
}

/// What a solve is run with besides the objective, the start and the options.
#[derive(Default)]
pub struct Hooks<'a> {
    /// Called after each iteration.
    pub callback: Option<Callback<'a>>,
    /// Start from this state instead of `x0` (it must be of the solver's method).
    pub resume: Option<SolverState>,
    /// Receives snapshots for checkpoints.
    pub sink: Option<&'a mut dyn StateSink>,
}

impl<'a> Hooks<'a> {
    /// Hooks with only a callback (what the plain `solve` functions use).
    pub fn callback(callback: Option<Callback<'a>>) -> Self {
        Hooks {
            callback,
            ..Hooks::default()
        }
    }

    /// Offers a snapshot to the sink after `iteration`; `make` runs only when one is due.
    pub(crate) fn offer(&mut self, iteration: usize, make: impl FnOnce() -> SolverState) {
        if let Some(sink) = self.sink.as_mut()
            && sink.due(iteration)
        {
            sink.put(make());
        }
    }

    /// Takes the state to resume from, refusing one of another method or one that does not
    /// fit `n` parameters ([`SolverState::check`]).
    pub(crate) fn take_resume(
        &mut self,
        method: Method,
        n: usize,
    ) -> Result<Option<SolverState>, FitError> {
        match self.resume.take() {
            Some(s) if s.method() != method => Err(FitError::InvalidOption {
                option: "resume".into(),
                reason: format!("a {} state cannot resume a {method} solve", s.method()),
            }),
            Some(s) => {
                s.check(n)?;
                Ok(Some(s))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
