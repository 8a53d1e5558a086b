//! The route of a [`DataSource`]: [`CurveFit::fit_source`] reads a source that fits the host
//! budget into memory and hands it to the in-memory route; a larger re-iterable source goes to
//! the streamed route, a larger one-pass source to the online route.

use super::CurveFit;
use super::builder::BoxedCallback;
use super::memory::{Columns, fit_in_memory};
use super::online::fit_online;
use super::spec::Spec;
use super::streamed::fit_streamed;
use crate::error::FitError;
use crate::memory::DataPlan;
use crate::model::Model;
use crate::profile::Began;
use crate::result::FitResult;
use crate::stream::{Chunk, DataSource, SliceSource};

impl<M: Model> CurveFit<'_, M> {
    /// Fits the data of `source`. The memory manager decides how: a source that fits in the
    /// host budget is read once into memory and fitted there; a larger re-iterable source is
    /// streamed, one pass over it per solver pass (exact: the result equals the in-memory fit);
    /// a larger one-pass source is fitted online (approximate, see [`DataMode::Online`](crate::DataMode::Online)).
    /// `DataPlan` in the result says which and why. Sigma comes from the source
    /// ([`CurveFit::sigma`] is refused here). Predicted values are never materialized.
    pub fn fit_source(self, source: &mut dyn DataSource) -> Result<FitResult, FitError> {
        #[cfg(feature = "mpi")]
        let dist = self.dist.clone();
        let result = self.fit_source_here(source);
        #[cfg(feature = "mpi")]
        if let (Err(e), Some(d)) = (&result, dist) {
            d.fail(e);
        }
        result
    }

    /// [`CurveFit::fit_source`] on this process.
    fn fit_source_here(self, source: &mut dyn DataSource) -> Result<FitResult, FitError> {
        let start = Began::now();
        let (spec, callback) = self.into_spec()?;
        if spec.sigma.is_some() {
            return Err(FitError::InvalidOption {
                option: "sigma".into(),
                reason: "a fit of a data source takes sigma from the source".into(),
            });
        }
        check_inputs(source, &spec.model)?;
        let bpp = Chunk::bytes_per_point(source.n_inputs(), source.has_sigma());
        let plan = spec.memory.host_plan(source.len_hint(), bpp);
        let user_chunks = spec.memory.chunk_points.is_some();
        let fits = plan.data_bytes.is_some_and(|b| b <= plan.host_budget_bytes);
        // Sources of unknown size and one-pass sources are read into memory up to the budget:
        // if they end first, the fit is the in-memory fit.
        if !user_chunks && (fits || plan.data_bytes.is_none() || !source.reiterable()) {
            return read_and_fit(&spec, callback, source, plan, start);
        }
        if source.reiterable() {
            let plan = spec.memory.streaming(plan);
            fit_streamed(&spec, callback, source, plan, start)
        } else {
            fit_online(&spec, source, plan, start)
        }
    }
}

/// Checks that `source` has the model's number of predictor columns.
pub(crate) fn check_inputs<M: Model>(source: &dyn DataSource, model: &M) -> Result<(), FitError> {
    let k = source.n_inputs();
    if k != model.n_inputs() {
        return Err(FitError::LengthMismatch {
            what: format!("predictor columns of `{}`", source.origin()),
            got: k,
            expected: model.n_inputs(),
        });
    }
    Ok(())
}

/// Reads `source` into memory up to the host budget (all of it when its size is known to fit)
/// and fits it in memory; a source that does not end within the budget is streamed when
/// re-iterable, else fitted online after the part already read.
fn read_and_fit<M: Model>(
    spec: &Spec<M>,
    callback: Option<BoxedCallback<'_>>,
    source: &mut dyn DataSource,
    mut plan: DataPlan,
    start: Began,
) -> Result<FitResult, FitError> {
    let budget = plan.host_budget_bytes;
    let fits = plan.data_bytes.is_some_and(|b| b <= budget);
    let bpp = Chunk::bytes_per_point(source.n_inputs(), source.has_sigma());
    let limit = (!fits).then_some(budget);
    let (all, complete) = read_into_memory(source, plan.chunk_points, bpp, limit)?;
    if complete {
        let bytes = all.len() as u64 * bpp;
        plan.data_bytes = Some(bytes);
        plan.chunk_points = all.len();
        plan.chunks_per_pass = 1;
        plan.reason = format!(
            "{bytes} bytes of data fit the host budget of {budget} bytes: read once into memory"
        );
        let columns = Columns {
            x: all.x.iter().map(|c| c.as_slice()).collect(),
            y: &all.y,
            sigma: all.sigma.as_deref(),
        };
        let (k, weighted) = (columns.x.len(), columns.sigma.is_some());
        if let Some(device_plan) = spec.chunked_plan(all.len(), k, weighted) {
            let mut slices = SliceSource::new(columns.x, columns.y);
            if let Some(s) = columns.sigma {
                slices = slices.with_sigma(s);
            }
            return fit_streamed(spec, callback, &mut slices, device_plan, start);
        }
        return fit_in_memory(spec, callback, columns, Some(plan), start);
    }
    if source.reiterable() {
        drop(all);
        let plan = spec.memory.streaming(plan);
        return fit_streamed(spec, callback, source, plan, start);
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
    fit_online(spec, &mut rest, plan, start)
}

/// The chunks of `source` (from its start) in one chunk, until it ends (`true`) or holds more
/// than `limit` bytes at `bytes_per_point` (`false`).
pub(crate) fn read_into_memory(
    source: &mut dyn DataSource,
    chunk_points: usize,
    bytes_per_point: u64,
    limit: Option<u64>,
) -> Result<(Chunk, bool), FitError> {
    source.rewind()?;
    let (k, sigma) = (source.n_inputs(), source.has_sigma());
    let mut all = Chunk::empty(k, sigma);
    // Room for all of a source of known size that fits, so its columns are not copied as
    // they grow.
    if let Some(n) = source.len_hint().and_then(|n| usize::try_from(n).ok())
        && limit.is_none()
    {
        all.x.iter_mut().for_each(|c| c.reserve_exact(n));
        all.y.reserve_exact(n);
        if let Some(s) = all.sigma.as_mut() {
            s.reserve_exact(n);
        }
    }
    let mut buf = Chunk::empty(k, sigma);
    while source.next_chunk(&mut buf, chunk_points)? {
        buf.check_lengths(&source.origin())?;
        for (a, b) in all.x.iter_mut().zip(&buf.x) {
            a.extend_from_slice(b);
        }
        all.y.extend_from_slice(&buf.y);
        if let (Some(a), Some(b)) = (all.sigma.as_mut(), &buf.sigma) {
            a.extend_from_slice(b);
        }
        if limit.is_some_and(|l| all.len() as u64 * bytes_per_point > l) {
            return Ok((all, false));
        }
    }
    Ok((all, true))
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
