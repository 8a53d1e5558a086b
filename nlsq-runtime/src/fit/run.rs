//! What long fits add to a solve: checkpoints, resuming, profiling and a progress bar; the
//! one place where a fit's solver is run.

use crate::checkpoint::fingerprint::{DataFingerprint, options_fingerprint};
use crate::checkpoint::{
    self, CheckpointReport, CheckpointSink, CheckpointWriter, Every, FitIdentity,
};
use crate::data::FitData;
use crate::error::FitError;
use crate::model::ParamSpace;
use crate::profile::{self, Began, Counters, PassTimer, ProfileReport, Timed};
use crate::result::FitResult;
use crate::solve::Method;
use crate::solve::state::{Hooks, SolverState, StateSink};
use crate::solve::{self, IterationInfo, Objective, SolverOptions, SolverOutput, Status};
use nalgebra::DMatrix;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The long-fit settings of a [`CurveFit`].
#[derive(Clone, Debug, Default)]
pub(crate) struct LongRun {
    pub(crate) checkpoint: Option<(PathBuf, Every)>,
    pub(crate) resume: Option<PathBuf>,
    pub(crate) profile: bool,
    #[cfg(feature = "progress")]
    pub(crate) progress: bool,
    /// Another process writes this fit's checkpoints (a distributed fit's ranks but 0).
    pub(crate) follower: bool,
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

/// One fit's run of a solver, from the start of the fit to its result.
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
    /// The clock and the profile of a fit that began at `began` (before its data was read or
    /// uploaded).
    pub(crate) fn begin(&self, began: Began) -> Session {
        let env = profile::enabled_by_env();
        Session {
            before: began.counters,
            start: began.at,
            profile: self.profile || env,
            print: env,
            cursor: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Whether the fit needs its identity (to write or to resume a checkpoint).
    pub(crate) fn needs_identity(&self) -> bool {
        self.checkpoint.is_some() || self.resume.is_some()
    }

    /// Whether the fit continues a checkpoint.
    pub(crate) fn resuming(&self) -> bool {
        self.resume.is_some()
    }

    /// Checks the checkpoint interval.
    pub(crate) fn check(&self) -> Result<(), FitError> {
        match &self.checkpoint {
            Some((_, every)) => every.check(),
            None => Ok(()),
        }
    }

    /// Reads the checkpoint to resume from, checks that it belongs to the fit `id`, and sets
    /// the session's data cursor from it.
    fn resume_state(
        &self,
        session: &Session,
        id: Option<&FitIdentity>,
    ) -> Result<Option<SolverState>, FitError> {
        let (Some(path), Some(id)) = (&self.resume, id) else {
            return Ok(None);
        };
        let ckpt = checkpoint::read(path)?;
        ckpt.check_identity(id, &path.display().to_string())?;
        tracing::info!(
            path = %path.display(),
            iteration = ckpt.state.iteration(),
            "resuming from checkpoint"
        );
        session.cursor.store(ckpt.data_cursor, Ordering::Release);
        Ok(Some(ckpt.state))
    }

    /// The checkpoint sink of the fit `id`, when it writes checkpoints.
    fn sink(
        &self,
        session: &Session,
        id: Option<FitIdentity>,
    ) -> Result<Option<CheckpointSink>, FitError> {
        let (Some((path, every)), Some(id)) = (&self.checkpoint, id) else {
            return Ok(None);
        };
        if self.follower {
            return Ok(None);
        }
        checkpoint::check_writable(path)?;
        let writer =
            CheckpointWriter::spawn(path.clone()).map_err(|e| checkpoint::CheckpointError::Io {
                path: path.display().to_string(),
                message: format!("cannot start the writer thread: {e}"),
            })?;
        Ok(Some(
            CheckpointSink::new(writer, *every, id).with_cursor(session.data_cursor()),
        ))
    }

    /// Runs `job.method` on `obj`, from `job.p0` (whose pass `job.first` is handed to the
    /// solver instead of a second pass) or from the checkpoint to resume, with the callback,
    /// checkpoints, profile and progress bar of this fit. `timer` has timed the passes so far.
    pub(crate) fn run(
        &self,
        session: &Session,
        obj: &mut dyn Objective,
        mut timer: PassTimer,
        job: Job<'_>,
        callback: Option<solve::Callback<'_>>,
    ) -> Result<(SolverOutput, Extras), FitError> {
        let resume = self.resume_state(session, job.identity.as_ref())?;
        let mut sink = self.sink(session, job.identity)?;
        #[cfg(feature = "progress")]
        let bar = if self.progress {
            crate::progress::Progress::new(job.options.max_nfev.unwrap_or(usize::MAX))
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
        let first = match (&resume, job.first) {
            (None, Some(pass)) => Some((job.p0.to_vec(), pass)),
            _ => None,
        };
        let hooks = Hooks {
            callback: Some(&mut on_iteration),
            resume,
            sink: sink.as_mut().map(|s| s as &mut dyn StateSink),
        };
        let mut timed = Timed::new(obj, &mut timer);
        let mut obj = FirstPass {
            inner: &mut timed,
            first,
        };
        let out = solve::solve_with(job.method, &mut obj, job.p0, job.options, hooks);
        #[cfg(feature = "progress")]
        if let Some(bar) = &bar {
            bar.finish();
        }
        // The latest state matters only to a fit that may be resumed.
        let flush = out.as_ref().map_or(true, |o| o.status == Status::Stopped);
        let checkpoint = sink.map(|s| s.finish(flush));
        let out = out?;
        let profile = session.profile.then(|| {
            let mut report = timer.report(&session.before, session.start);
            if let Some(c) = &checkpoint {
                report.checkpoint_writes = c.written;
                report.checkpoint_failures = c.failed;
                report.checkpoint_write_time_s = c.write_time_s;
            }
            report
        });
        let extras = Extras {
            profile,
            checkpoint,
            print: session.print,
        };
        Ok((out, extras))
    }
}

/// What one run of a solver solves.
pub(crate) struct Job<'j> {
    pub(crate) p0: &'j [f64],
    pub(crate) options: &'j SolverOptions,
    pub(crate) method: Method,
    /// The pass at `p0`, already computed (unused when resuming).
    pub(crate) first: Option<solve::Pass>,
    /// The fit's identity, when it writes or resumes a checkpoint.
    pub(crate) identity: Option<FitIdentity>,
}

/// Serves one already computed pass, once, when it is asked for at the same parameters.
struct FirstPass<'o> {
    inner: &'o mut dyn Objective,
    first: Option<(Vec<f64>, solve::Pass)>,
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
pub(crate) fn identity<M: ParamSpace>(
    model: &M,
    method: Method,
    options: &SolverOptions,
    loss: crate::loss::Loss,
    f_scale: f64,
    n_points: usize,
    data: [u8; 32],
) -> FitIdentity {
    FitIdentity {
        model: model.space_hash(),
        method,
        n_params: model.space_len(),
        options: options_fingerprint(options, loss, f_scale),
        n_points: n_points as u64,
        data,
    }
}
