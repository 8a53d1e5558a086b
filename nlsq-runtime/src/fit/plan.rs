//! The data plan: where a fit's data lives (in memory, chunked, streamed, online), from the
//! host and device budgets. It reads the memory options and the chosen device, never the
//! builder.

use super::spec::{MemoryOptions, Spec};
use crate::backend::select::{Device, Work, device};
use crate::memory::{DataMode, DataPlan, host_chunk_points};
use crate::model::Model;
use crate::stream::Chunk;
use kernels_gen::Precision;

impl MemoryOptions {
    /// The plan of `n` points (unknown: `None`) of `bytes_per_point` bytes in host memory,
    /// before the mode is decided, and the points per chunk.
    pub(crate) fn host_plan(&self, n: Option<u64>, bytes_per_point: u64) -> DataPlan {
        let (budget, available) = self.limits.host_budget();
        let chunk = self
            .chunk_points
            .unwrap_or_else(|| host_chunk_points(budget, bytes_per_point, n));
        DataPlan {
            mode: DataMode::InMemory,
            approximate: false,
            data_bytes: n.map(|n| n * bytes_per_point),
            host_budget_bytes: budget,
            host_available_bytes: available,
            device_budget_bytes: None,
            chunk_points: chunk,
            chunks_per_pass: n.map_or(0, |n| n.div_ceil(chunk as u64)),
            reason: String::new(),
        }
    }

    /// The plan of in-memory data of `n` points with `k` predictors (and sigma) that `device`
    /// will fit, when it goes through chunk buffers: data beyond the host budget or the
    /// device's, or a chunk size set by the user. `None`: the plain in-memory fit.
    fn chunked(
        &self,
        n: usize,
        k: usize,
        sigma: bool,
        device: impl FnOnce() -> Device,
        precision: Precision,
    ) -> Option<DataPlan> {
        let mut plan = self.host_plan(Some(n as u64), Chunk::bytes_per_point(k, sigma));
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
        device().chunked_plan(&self.limits, n, k, sigma, precision, &plan)
    }

    /// The plan of a plain in-memory fit of `n` points.
    pub(crate) fn in_memory(&self, n: usize, k: usize, sigma: bool) -> DataPlan {
        let mut plan = self.host_plan(Some(n as u64), Chunk::bytes_per_point(k, sigma));
        plan.chunk_points = n;
        plan.chunks_per_pass = 1;
        plan.reason = "the data is in memory and within the budgets".into();
        plan
    }

    /// The plan of a re-iterable source larger than the host budget (or cut by the user's
    /// chunk size): streamed, one read of the source per pass.
    pub(crate) fn streaming(&self, mut plan: DataPlan) -> DataPlan {
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
        plan
    }
}

impl<M: Model> Spec<M> {
    /// The plan of in-memory data of `n` points with `k` predictors (and sigma) when it goes
    /// through chunk buffers (see [`MemoryOptions::chunked`]); `None`: the in-memory route. A
    /// covariance sigma is always fitted in memory.
    pub(crate) fn chunked_plan(&self, n: usize, k: usize, sigma: bool) -> Option<DataPlan> {
        if self.covariance().is_some() {
            return None;
        }
        // The device the in-memory route would choose (its errors are that route's to report).
        let chosen = || {
            let work = Work::Fit {
                points: n,
                dense: false,
                streamed: false,
            };
            device(self.backend, &self.cuda_devices, self.precision, &work)
        };
        self.memory.chunked(n, k, sigma, chosen, self.precision)
    }
}
