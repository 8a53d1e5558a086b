//! Fits of data of any size: the memory builder options of [`CurveFit`], the chunked path of
//! in-memory data, and [`CurveFit::fit_source`] for [`DataSource`]s.

use crate::backend::Backend;
use crate::error::FitError;
use crate::fit::long::{Extras, FirstPass, Session, identity};
use crate::fit::{Chosen, CurveFit, Sigma};
use crate::loss::Loss;
use crate::memory::{DataMode, DataPlan, host_chunk_points};
use crate::model::Model;
use crate::result::FitResult;
use crate::solve::{IterationInfo, Objective, SolverOutput};
use crate::stream::online::fit_online;
use crate::stream::{Chunk, ChunkReader, DataSource, SliceSource, StreamObjective, StreamStats};
use crate::summary::assemble;
use std::ops::ControlFlow;
use std::time::Instant;

impl<'a, M: Model> CurveFit<'a, M> {
    /// Caps the host memory the fit may use for its data and chunk buffers (default: half of
    /// what is available). In-memory data larger than this is fitted chunk by chunk, and a
    /// [`DataSource`] larger than this is streamed.
    pub fn max_host_bytes(mut self, bytes: u64) -> Self {
        self.limits.max_host_bytes = Some(bytes);
        self
    }

    /// Caps the device memory a GPU fit may use for data (default: 80% of what is free). Data
    /// larger than this goes through fixed-capacity device buffers (the chunked driver).
    pub fn max_device_bytes(mut self, bytes: u64) -> Self {
        self.limits.max_device_bytes = Some(bytes);
        self
    }

    /// Points per chunk for chunked, streamed and online fits, instead of the size the memory
    /// manager derives from the budget (this also forces chunked fits of in-memory data, and
    /// streamed or online fits of sources). Whatever the size, CPU passes are re-cut at
    /// [`CHUNK`](crate::backend::cpu::CHUNK) boundaries and give the in-memory fit's bits.
    pub fn chunk_points(mut self, points: usize) -> Self {
        self.chunk_points = Some(points.max(1));
        self
    }

    /// The convergence rule of online fits: the last chunk may move each parameter by at most
    /// this many standard errors (default
    /// [`DEFAULT_ONLINE_TOL`](crate::stream::online::DEFAULT_ONLINE_TOL)).
    pub fn online_tol(mut self, tol: f64) -> Self {
        self.online_tol = tol;
        self
    }

    fn host_plan(&self, n: Option<u64>, bytes_per_point: u64) -> (DataPlan, usize) {
        let (budget, available) = self.limits.host_budget();
        let chunk = self
            .chunk_points
            .unwrap_or_else(|| host_chunk_points(budget, bytes_per_point, n));
        let plan = DataPlan {
            mode: DataMode::InMemory,
            approximate: false,
            data_bytes: n.map(|n| n * bytes_per_point),
            host_budget_bytes: budget,
            host_available_bytes: available,
            device_budget_bytes: None,
            chunk_points: chunk,
            chunks_per_pass: n.map_or(0, |n| n.div_ceil(chunk as u64)),
            reason: String::new(),
        };
        (plan, chunk)
    }

    /// The memory decision for in-memory data of `n` points: `Some` when the fit should go
    /// through chunk buffers (data beyond the host budget, or beyond a GPU's budget), `None`
    /// for the plain in-memory fit.
    pub(crate) fn in_memory_plan(&self, n: usize, k: usize, sigma: bool) -> Option<DataPlan> {
        if matches!(self.sigma, Some(Sigma::Covariance(_))) {
            return None;
        }
        let bpp = Chunk::bytes_per_point(k, sigma);
        let (mut plan, _) = self.host_plan(Some(n as u64), bpp);
        let bytes = plan.data_bytes.unwrap_or(0);
        if self.chunk_points.is_some() {
            plan.mode = DataMode::Chunked;
            plan.reason = "chunk size set by the user".into();
            return Some(plan);
        }
        if bytes > plan.host_budget_bytes {
            plan.mode = DataMode::Chunked;
            plan.reason = format!(
                "{bytes} bytes of data exceed the host budget of {} bytes: passes go through chunk buffers, without O(N) copies",
                plan.host_budget_bytes
            );
            return Some(plan);
        }
        #[cfg(feature = "cuda")]
        if let Some(p) = crate::backend::cuda::chunked::device_plan(self, n, k, sigma, &plan) {
            return Some(p);
        }
        None
    }

    /// The data plan of a plain in-memory fit.
    pub(crate) fn in_memory_report(&self, n: usize, k: usize, sigma: bool) -> DataPlan {
        let (mut plan, _) = self.host_plan(Some(n as u64), Chunk::bytes_per_point(k, sigma));
        plan.chunk_points = n;
        plan.chunks_per_pass = 1;
        plan.reason = "the data is in memory and within the budgets".into();
        plan
    }

    /// Fits in-memory columns through chunk buffers (`plan.mode == Chunked`).
    pub(crate) fn fit_chunked(
        self,
        columns: Vec<&[f64]>,
        y: &[f64],
        plan: DataPlan,
    ) -> Result<FitResult, FitError> {
        let sigma = match &self.sigma {
            Some(Sigma::Std(s)) => Some(s.clone()),
            _ => None,
        };
        let mut source = SliceSource::new(columns, y);
        if let Some(s) = &sigma {
            source = source.with_sigma(s);
        }
        self.fit_streamed(&mut source, plan, Instant::now())
    }

    /// Fits the data of `source`. The memory manager decides how: a source that fits in the
    /// host budget is read once into memory and fitted there; a larger re-iterable source is
    /// streamed, one pass over it per solver pass (exact: the result equals the in-memory fit);
    /// a larger one-pass source is fitted online (approximate, see [`crate::stream::online`]).
    /// `DataPlan` in the result says which and why. Sigma comes from the source
    /// ([`CurveFit::sigma`] is refused here). Predicted values are never materialized.
    pub fn fit_source(mut self, source: &mut dyn DataSource) -> Result<FitResult, FitError> {
        let start = Instant::now();
        self.check_params()?;
        if self.sigma.is_some() {
            return Err(FitError::InvalidOption {
                option: "sigma".into(),
                reason: "a fit of a data source takes sigma from the source".into(),
            });
        }
        let k = source.n_inputs();
        if k != self.model.n_inputs() {
            return Err(FitError::LengthMismatch {
                what: format!("predictor columns of `{}`", source.origin()),
                got: k,
                expected: self.model.n_inputs(),
            });
        }
        let bpp = Chunk::bytes_per_point(k, source.has_sigma());
        let (mut plan, chunk) = self.host_plan(source.len_hint(), bpp);
        let budget = plan.host_budget_bytes;
        let fits = plan.data_bytes.is_some_and(|b| b <= budget) && self.chunk_points.is_none();
        // Sources of unknown size and one-pass sources are read into memory up to the budget:
        // if they end first, the fit is the in-memory fit.
        let attempt = self.chunk_points.is_none()
            && (fits || plan.data_bytes.is_none() || !source.reiterable());
        if attempt {
            // Read it into memory, up to the budget.
            source.rewind()?;
            let mut all = Chunk::empty(k, source.has_sigma());
            let mut buf = Chunk::empty(k, source.has_sigma());
            let mut complete = true;
            loop {
                if !source.next_chunk(&mut buf, chunk)? {
                    break;
                }
                buf.check_lengths(&source.origin())?;
                for (a, b) in all.x.iter_mut().zip(&buf.x) {
                    a.extend_from_slice(b);
                }
                all.y.extend_from_slice(&buf.y);
                if let (Some(a), Some(b)) = (all.sigma.as_mut(), &buf.sigma) {
                    a.extend_from_slice(b);
                }
                if all.len() as u64 * bpp > budget && !fits {
                    complete = false;
                    break;
                }
            }
            if complete {
                if let Some(s) = all.sigma.take() {
                    self.sigma = Some(Sigma::Std(s));
                }
                plan.data_bytes = Some(all.len() as u64 * bpp);
                plan.chunk_points = all.len();
                plan.chunks_per_pass = 1;
                plan.reason = format!(
                    "{} bytes of data fit the host budget of {budget} bytes: read once into memory",
                    all.len() as u64 * bpp
                );
                let cols: Vec<&[f64]> = all.x.iter().map(|c| c.as_slice()).collect();
                let mut r = self.fit(&cols[..], &all.y)?;
                r.data_plan = plan;
                return Ok(r);
            }
            if source.reiterable() {
                drop(all);
                return self.fit_streaming(source, plan, start);
            }
            let mut prefix = SliceSource::new(all.x.iter().map(|c| c.as_slice()).collect(), &all.y);
            if let Some(s) = all.sigma.as_deref() {
                prefix = prefix.with_sigma(s);
            }
            let mut rest = Prefixed {
                prefix,
                rest: source,
                in_prefix: true,
            };
            plan.mode = DataMode::Online;
            return self.fit_online(&mut rest, plan, chunk, start);
        }
        if !source.reiterable() {
            plan.mode = DataMode::Online;
            return self.fit_online(source, plan, chunk, start);
        }
        self.fit_streaming(source, plan, start)
    }

    /// Multi-pass fit of a re-iterable source, with the reason in the plan.
    fn fit_streaming(
        self,
        source: &mut dyn DataSource,
        mut plan: DataPlan,
        start: Instant,
    ) -> Result<FitResult, FitError> {
        let budget = plan.host_budget_bytes;
        plan.mode = DataMode::Streaming;
        plan.reason = match plan.data_bytes {
            Some(b) if self.chunk_points.is_none() => {
                format!("{b} bytes of data exceed the host budget of {budget} bytes")
            }
            None if self.chunk_points.is_none() => {
                format!("the source holds more than the host budget of {budget} bytes")
            }
            _ => "chunk size set by the user".into(),
        } + ": streamed, one read of the source per pass";
        self.fit_streamed(source, plan, start)
    }

    /// Multi-pass fit of a re-iterable source (`Chunked` or `Streaming` mode).
    fn fit_streamed(
        mut self,
        source: &mut dyn DataSource,
        mut plan: DataPlan,
        start: Instant,
    ) -> Result<FitResult, FitError> {
        let session = self.long.begin();
        let (p0, method) = self.check_params()?;
        let np = p0.len();
        let options = self.solver_options(np);
        let mut callback = self.callback.take();
        let cb = callback
            .as_mut()
            .map(|f| &mut **f as &mut dyn FnMut(&IterationInfo<'_>) -> ControlFlow<()>);
        let has_sigma = source.has_sigma();
        let plain = !has_sigma && self.loss == Loss::Linear;
        let n_hint = source.len_hint().unwrap_or(0) as usize;
        let chosen = if plan.device_budget_bytes.is_some() {
            self.choose(n_hint.max(crate::backend::AUTO_GPU_MIN_POINTS), false)?
        } else if self.backend == Backend::Cpu {
            Chosen::Cpu(format!("cpu ({} data)", plan.mode))
        } else {
            // Auto: a GPU for sources known to be large enough, as for in-memory data.
            match self.choose(n_hint, false)? {
                Chosen::Cpu(why) => Chosen::Cpu(format!("{why}, {} data", plan.mode)),
                #[cfg(feature = "wgpu")]
                Chosen::Wgpu(gpu, _) => Chosen::Cpu(format!(
                    "cpu (auto: the wgpu backend ({}) fits in-memory data only; {} data)",
                    gpu.describe(),
                    plan.mode
                )),
                #[cfg(feature = "cuda")]
                gpu => gpu,
            }
        };
        let ((out, extras), ssr, stats, backend) = match chosen {
            Chosen::Cpu(why) => {
                let mut obj = StreamObjective::new(
                    &self.model,
                    source,
                    self.loss,
                    self.f_scale,
                    self.nan_policy,
                    plan.chunk_points,
                )?;
                let out = self.solve_passes(&session, &mut obj, &p0, method, &options, cb)?;
                let ssr = if plain {
                    2.0 * out.0.pass.cost
                } else {
                    obj.unweighted_ssr(&out.0.x)?
                };
                let stats = obj.reader().stats().copied().unwrap_or_default();
                (out, ssr, stats, why)
            }
            #[cfg(feature = "wgpu")]
            Chosen::Wgpu(gpu, _) => {
                return Err(FitError::InvalidOption {
                    option: "backend".into(),
                    reason: format!(
                        "the wgpu backend ({}) fits in-memory data only; {} data runs on the CPU or CUDA",
                        gpu.describe(),
                        plan.mode
                    ),
                });
            }
            #[cfg(feature = "cuda")]
            Chosen::Cuda(gpu, why) => {
                let free = gpu.ctx.mem_get_info().map(|(f, _)| f as u64).unwrap_or(0);
                let device_budget = plan
                    .device_budget_bytes
                    .unwrap_or_else(|| self.limits.device_budget(free));
                plan.device_budget_bytes = Some(device_budget);
                let config = crate::backend::cuda::ChunkedConfig {
                    device_budget,
                    host_budget: plan.host_budget_bytes,
                    n_hint: source.len_hint(),
                };
                // Reader chunks of at most 4 Mi points are packed into the pinned blocks.
                let reader =
                    ChunkReader::new(source, self.nan_policy, plan.chunk_points.min(1 << 22));
                let mut obj = crate::backend::cuda::ChunkedCudaObjective::new(
                    &self.model,
                    &gpu,
                    reader,
                    self.precision,
                    self.loss,
                    self.f_scale,
                    config,
                )?;
                plan.chunk_points = obj.capacity();
                let out = self.solve_passes(&session, &mut obj, &p0, method, &options, cb)?;
                let ssr = if plain {
                    2.0 * out.0.pass.cost
                } else {
                    crate::stream::objective_ssr(&self.model, obj.reader_mut(), &out.0.x)?
                };
                let stats = obj.reader_mut().stats().copied().unwrap_or_default();
                (out, ssr, stats, format!("{why}, chunked"))
            }
        };
        plan.chunks_per_pass = stats.chunks;
        plan.data_bytes = Some(
            (stats.n + stats.omitted) * Chunk::bytes_per_point(self.model.n_inputs(), has_sigma),
        );
        let mut r = extras.apply(assemble(
            &self.model,
            &stats.summary(),
            out,
            ssr,
            method,
            self.loss,
            self.f_scale,
            self.absolute_sigma,
            backend,
            start,
        ));
        r.data_plan = plan;
        Ok(r)
    }

    /// The solver on a chunked objective, with the in-memory fit's checks: a first pass that
    /// validates the data and counts it, enough points, a finite start.
    fn solve_passes<O: Objective + FirstBad>(
        &self,
        session: &Session,
        obj: &mut O,
        p0: &[f64],
        method: crate::result::Method,
        options: &crate::solve::SolverOptions,
        cb: Option<crate::solve::Callback<'_>>,
    ) -> Result<(SolverOutput, Extras), FitError> {
        let first = obj.pass(p0)?;
        // A checkpoint identifies streamed data by its size and its first pass (a function of
        // every point), computed here anyway.
        let fingerprint = {
            let mut fp = crate::checkpoint::fingerprint::DataFingerprint::default();
            fp.column(&[first.n_points as f64, first.n_nonfinite as f64, first.cost]);
            fp.column(first.gradient.as_slice());
            fp.finish()
        };
        let n_points = first.n_points as usize;
        let n = (first.n_points + first.n_nonfinite) as usize;
        if n < p0.len() {
            return Err(FitError::TooFewPoints {
                points: n,
                params: p0.len(),
            });
        }
        let finite = first.is_finite();
        let result = {
            let mut cached = FirstPass {
                inner: obj,
                first: Some((p0.to_vec(), first)),
            };
            let id = || {
                let (loss, f_scale) = (self.loss, self.f_scale);
                identity(
                    &self.model,
                    method,
                    options,
                    loss,
                    f_scale,
                    n_points,
                    fingerprint,
                )
            };
            self.long.run(
                session,
                &mut cached,
                &self.model,
                p0,
                options,
                method,
                id,
                cb,
                |_| 0,
            )
        };
        match result {
            Err(FitError::NonFiniteModelAtP0 {
                model,
                count,
                points,
                ..
            }) if !finite => Err(FitError::NonFiniteModelAtP0 {
                model,
                count,
                points,
                first: obj.first_bad(&self.model, p0)?.unwrap_or(0) as usize,
            }),
            r => r,
        }
    }

    /// One pass over a source too large for the budget, updating the fit chunk by chunk.
    fn fit_online(
        self,
        source: &mut dyn DataSource,
        mut plan: DataPlan,
        chunk: usize,
        start: Instant,
    ) -> Result<FitResult, FitError> {
        if self.long.needs_identity() {
            return Err(FitError::InvalidOption {
                option: "checkpoint".into(),
                reason: "checkpoints of online (one-pass) fits are not supported yet; give a \
                         re-iterable source or a larger host budget"
                    .into(),
            });
        }
        let (p0, method) = self.check_params()?;
        let options = self.solver_options(p0.len());
        let has_sigma = source.has_sigma();
        let mut reader = ChunkReader::new(source, self.nan_policy, chunk).unaligned();
        let online = fit_online(
            &self.model,
            &mut reader,
            &p0,
            &options,
            method,
            self.loss,
            self.f_scale,
        )?;
        let stats: StreamStats = reader.stats().copied().unwrap_or_default();
        if (stats.n as usize) < p0.len() {
            return Err(FitError::TooFewPoints {
                points: stats.n as usize,
                params: p0.len(),
            });
        }
        plan.approximate = true;
        plan.chunks_per_pass = online.chunks;
        plan.data_bytes = Some(
            (stats.n + stats.omitted) * Chunk::bytes_per_point(self.model.n_inputs(), has_sigma),
        );
        plan.reason = format!(
            "a one-pass source larger than the host budget of {} bytes: fitted online by incremental Gauss–Newton (approximate)",
            plan.host_budget_bytes
        );
        let mut r = assemble(
            &self.model,
            &stats.summary(),
            online.out,
            online.ssr,
            method,
            self.loss,
            self.f_scale,
            self.absolute_sigma,
            "cpu (online)".into(),
            start,
        );
        // One chunk: the fit of that chunk, converged or not by the solver's own rules.
        r.success = if online.chunks == 1 {
            r.success
        } else {
            online.last_step_in_se <= self.online_tol
        };
        r.message = format!(
            "online fit of {} chunks: the last chunk moved the parameters by at most {:.3} standard errors ({} the online_tol of {})",
            online.chunks,
            online.last_step_in_se,
            if r.success { "within" } else { "NOT within" },
            self.online_tol
        );
        r.data_plan = plan;
        Ok(r)
    }
}

/// Objectives that can name the first point where the model is not finite.
pub(crate) trait FirstBad {
    fn first_bad<N: Model>(&mut self, model: &N, p: &[f64]) -> Result<Option<u64>, FitError>;
}

impl<M: Model> FirstBad for StreamObjective<'_, M> {
    fn first_bad<N: Model>(&mut self, _: &N, p: &[f64]) -> Result<Option<u64>, FitError> {
        self.first_nonfinite(p)
    }
}

/// A one-pass source with its first chunks already read into memory.
struct Prefixed<'p, 's> {
    prefix: SliceSource<'p>,
    rest: &'s mut dyn DataSource,
    in_prefix: bool,
}

impl DataSource for Prefixed<'_, '_> {
    fn origin(&self) -> String {
        self.rest.origin()
    }
    fn n_inputs(&self) -> usize {
        self.rest.n_inputs()
    }
    fn has_sigma(&self) -> bool {
        self.rest.has_sigma()
    }
    fn len_hint(&self) -> Option<u64> {
        None
    }
    fn reiterable(&self) -> bool {
        false
    }
    fn rewind(&mut self) -> Result<(), FitError> {
        Ok(())
    }
    fn next_chunk(&mut self, chunk: &mut Chunk, max_points: usize) -> Result<bool, FitError> {
        if self.in_prefix {
            if self.prefix.next_chunk(chunk, max_points)? {
                return Ok(true);
            }
            self.in_prefix = false;
        }
        self.rest.next_chunk(chunk, max_points)
    }
    fn cursor(&self) -> u64 {
        self.prefix.cursor()
            + if self.in_prefix {
                0
            } else {
                self.rest.cursor()
            }
    }
}
