//! What long fits add to [`CurveFit`]: checkpoints, resuming, profiling and a progress bar;
//! and the one place where a fit's solver is run.

use super::CurveFit;
use crate::checkpoint::fingerprint::{DataFingerprint, options_fingerprint};
use crate::checkpoint::{
    self, CheckpointReport, CheckpointSink, CheckpointWriter, Every, FitIdentity,
};
use crate::data::FitData;
use crate::error::FitError;
use crate::model::Model;
use crate::profile::{self, Counters, ProfileReport, Profiled};
use crate::result::{FitResult, Method};
use crate::solve::state::{Hooks, StateSink};
use crate::solve::{self, IterationInfo, Objective, SolverOptions, SolverOutput, Status};
use nalgebra::DMatrix;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The long-fit settings of a [`CurveFit`].
#[derive(Clone, Debug, Default)]
pub(crate) struct LongRun {
    checkpoint: Option<(PathBuf, Every)>,
    resume: Option<PathBuf>,
    profile: bool,
    #[cfg(feature = "progress")]
    progress: bool,
}

impl<M: Model> CurveFit<'_, M> {
    /// Saves the solver's state to `path` every `every` (see [`crate::checkpoint`]), from a
    /// background thread that never blocks the solver. Writes are atomic; a failed write is
    /// logged and reported in [`FitResult::checkpoint`], and the fit goes on. An existing file
    /// at `path` that is not a checkpoint is never overwritten (the fit is refused).
    pub fn checkpoint(mut self, path: impl AsRef<Path>, every: Every) -> Self {
        self.long.checkpoint = Some((path.as_ref().to_path_buf(), every));
        self
    }

    /// Continues the fit saved in the checkpoint at `path` (its `p0` is not used): the result
    /// is the one the saved fit would have reached. The checkpoint must come from a fit of the
    /// same model, method, options (tolerances, `max_nfev`, scaling, bounds, loss, `f_scale`)
    /// and data; otherwise the fit fails with [`FitError::Checkpoint`].
    pub fn resume_from(mut self, path: impl AsRef<Path>) -> Self {
        self.long.resume = Some(path.as_ref().to_path_buf());
        self
    }

    /// Attaches a [`ProfileReport`] to the result (also on with `NLSQ_PROFILE=1`).
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

/// The fingerprint of in-memory data: predictors, `y`, weights and a covariance sigma.
pub(crate) fn data_fingerprint(data: &FitData<'_>, cov: Option<&DMatrix<f64>>) -> [u8; 32] {
    let mut h = DataFingerprint::default();
    for c in &data.x {
        h.column(c);
    }
    h.column(&data.y);
    h.column(data.weights.as_deref().unwrap_or(&[]));
    h.column(cov.map_or(&[][..], |c| c.as_slice()));
    h.finish()
}

/// One fit's run of a solver, from the start of [`CurveFit::fit`] to its result.
pub(crate) struct Session {
    before: Counters,
    start: Instant,
    profile: bool,
    print: bool,
    cursor: Arc<AtomicU64>,
}

impl Session {
    /// The data cursor of this fit, for a streaming driver: stamped on every checkpoint, and
    /// set from the checkpoint when resuming (before the first pass). 0 for in-memory fits.
    pub(crate) fn data_cursor(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.cursor)
    }
}

/// What a run adds to the result.
pub(crate) struct Extras {
    profile: Option<ProfileReport>,
    checkpoint: Option<CheckpointReport>,
    print: bool,
}

impl Extras {
    /// Puts the reports into `result` (and prints the profile under `NLSQ_PROFILE=1`).
    pub(crate) fn apply(self, mut result: FitResult) -> FitResult {
        if let (Some(p), true) = (&self.profile, self.print) {
            tracing::info!(target: "nlsq::profile", "{p}");
            eprintln!("{p}");
        }
        result.profile = self.profile;
        result.checkpoint = self.checkpoint;
        result
    }
}

impl LongRun {
    /// Starts the clock and the profile at the beginning of a fit.
    pub(crate) fn begin(&self) -> Session {
        let env = profile::enabled_by_env();
        Session {
            before: profile::counters(),
            start: Instant::now(),
            profile: self.profile || env,
            print: env,
            cursor: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Whether the fit needs its identity (to write or to resume a checkpoint).
    pub(crate) fn needs_identity(&self) -> bool {
        self.checkpoint.is_some() || self.resume.is_some()
    }

    /// Runs `method` on `obj` from `p0`, or from the checkpoint to resume, with the callback,
    /// checkpoints, profile and progress bar of this fit. `identity` is called only when
    /// [`LongRun::needs_identity`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run<M: Model>(
        &self,
        session: &Session,
        obj: &mut dyn Objective,
        model: &M,
        p0: &[f64],
        options: &SolverOptions,
        method: Method,
        identity: impl FnOnce() -> FitIdentity,
        callback: Option<solve::Callback<'_>>,
        first_bad: impl Fn(&[f64]) -> usize,
    ) -> Result<(SolverOutput, Extras), FitError> {
        let identity = self.needs_identity().then(identity);
        let resume = match (&self.resume, &identity) {
            (Some(path), Some(id)) => {
                let ckpt = checkpoint::read(path)?;
                ckpt.check_identity(id, &path.display().to_string())?;
                tracing::info!(
                    path = %path.display(),
                    iteration = ckpt.state.iteration(),
                    "resuming from checkpoint"
                );
                session.cursor.store(ckpt.data_cursor, Ordering::Release);
                Some(ckpt.state)
            }
            _ => None,
        };
        let mut sink = match (&self.checkpoint, identity) {
            (Some((path, every)), Some(id)) => {
                every.check()?;
                checkpoint::check_writable(path)?;
                let writer = CheckpointWriter::spawn(path.clone()).map_err(|e| {
                    checkpoint::CheckpointError::Io {
                        path: path.display().to_string(),
                        message: format!("cannot start the writer thread: {e}"),
                    }
                })?;
                Some(CheckpointSink::new(writer, *every, id).with_cursor(session.data_cursor()))
            }
            _ => None,
        };

        let mut profiled = Profiled::new(obj);
        #[cfg(feature = "progress")]
        let bar = if self.progress {
            crate::progress::Progress::new(options.max_nfev.unwrap_or(usize::MAX))
        } else {
            None
        };
        let mut callback = callback;
        let mut on_iteration = |info: &IterationInfo<'_>| {
            #[cfg(feature = "progress")]
            if let Some(bar) = &bar {
                bar.update(info);
            }
            match callback.as_mut() {
                Some(cb) => cb(info),
                None => ControlFlow::Continue(()),
            }
        };
        let hooks = Hooks {
            callback: Some(&mut on_iteration),
            resume,
            sink: sink.as_mut().map(|s| s as &mut dyn StateSink),
        };
        let out = solve_from(&mut profiled, model, p0, options, method, hooks, first_bad);
        #[cfg(feature = "progress")]
        if let Some(bar) = &bar {
            bar.finish();
        }
        // The latest state matters only to a fit that may be resumed.
        let flush = out.as_ref().map_or(true, |o| o.status == Status::Stopped);
        let checkpoint = sink.map(|s| s.finish(flush));
        let out = out?;
        let profile = session.profile.then(|| {
            let mut report = profiled.report(&session.before, session.start);
            if let Some(c) = &checkpoint {
                report.checkpoint_writes = c.written;
                report.checkpoint_failures = c.failed;
                report.checkpoint_write_time_s = c.write_time_s;
            }
            report
        });
        Ok((
            out,
            Extras {
                profile,
                checkpoint,
                print: session.print,
            },
        ))
    }
}

/// Checks the first pass at `p0` (unless resuming) and dispatches to the solver.
fn solve_from<M: Model>(
    obj: &mut dyn Objective,
    model: &M,
    p0: &[f64],
    options: &SolverOptions,
    method: Method,
    hooks: Hooks<'_>,
    first_bad: impl Fn(&[f64]) -> usize,
) -> Result<SolverOutput, FitError> {
    let first = if hooks.resume.is_none() {
        let start = obj.pass(p0)?;
        if !start.is_finite() {
            return Err(FitError::NonFiniteModelAtP0 {
                model: model.name().to_string(),
                count: start.n_nonfinite.max(1) as usize,
                points: (start.n_points + start.n_nonfinite) as usize,
                first: first_bad(p0),
            });
        }
        tracing::debug!(model = model.name(), %method, cost = start.cost, "starting fit");
        Some((p0.to_vec(), start))
    } else {
        None
    };
    // The solvers begin with a pass at p0: hand them this one instead of a second pass.
    let mut obj = FirstPass { inner: obj, first };
    solve::solve_with(method, &mut obj, p0, options, hooks)
}

/// Serves one already computed pass, once, when it is asked for at the same parameters.
pub(crate) struct FirstPass<'o> {
    pub(crate) inner: &'o mut dyn Objective,
    pub(crate) first: Option<(Vec<f64>, solve::Pass)>,
}

impl Objective for FirstPass<'_> {
    fn n_params(&self) -> usize {
        self.inner.n_params()
    }

    fn pass(&mut self, p: &[f64]) -> Result<solve::Pass, FitError> {
        match self.first.take() {
            Some((q, pass)) if q == p => Ok(pass),
            _ => self.inner.pass(p),
        }
    }
}

/// The identity of a fit of `model` with `options` to data with fingerprint `data`.
pub(crate) fn identity<M: Model>(
    model: &M,
    method: Method,
    options: &SolverOptions,
    loss: crate::loss::Loss,
    f_scale: f64,
    n_points: usize,
    data: [u8; 32],
) -> FitIdentity {
    FitIdentity {
        model: model.hash(),
        method,
        n_params: model.n_params(),
        options: options_fingerprint(options, loss, f_scale),
        n_points: n_points as u64,
        data,
    }
}
