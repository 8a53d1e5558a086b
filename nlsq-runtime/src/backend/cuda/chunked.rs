//! The chunked driver on CUDA: data larger than the device budget goes through two
//! fixed-capacity device buffers. Chunks are packed into page-locked (pinned) host blocks; the
//! copy of block `j + 1` runs on a copy stream while the pass of block `j` runs on the compute
//! stream (events order them). The pass kernel is the in-memory one: it takes the valid count
//! `n` and the column stride (the buffer capacity), so the shorter last block needs no other
//! kernel.
//!
//! Each block's partial rows are reduced on the device into one slot of a row buffer, and the
//! slots are summed in block order (slot 0 holding the running total when the buffer is full):
//! deterministic, with one read-back per pass.
//!
//! When the whole data fits the host budget in the device's precision, every block stays in
//! pinned memory after the first pass, and later passes are copies and kernels only: a pass
//! then runs at the host-to-device bandwidth (`benches/cuda_chunked.rs`). Otherwise two host
//! blocks are refilled from the source on every pass.

use super::{Gpu, driver_error};
use crate::backend::chunked::{ChunkedObjective, ChunkedSpec};
use crate::data::NanPolicy;
use crate::error::FitError;
use crate::loss::Loss;
use crate::memory::{DataMode, DataPlan, MemoryLimits};
use crate::model::Model;
use crate::stream::{ChunkReader, DataSource};
use cudarc::driver::{
    CudaEvent, CudaFunction, CudaSlice, CudaStream, DeviceRepr, LaunchConfig, PinnedHostSlice,
    PushKernelArg, ValidAsZeroBits,
};
use kernels_gen::Precision;
use kernels_gen::kernels::abi;
use std::sync::Arc;

/// Maps a driver error to a [`FitError`] saying what was being done.
fn err(what: &'static str) -> impl Fn(cudarc::driver::DriverError) -> FitError {
    move |e| driver_error(what, e)
}

/// Row slots reduced on the device before they are folded into slot 0.
const ROW_SLOTS: usize = 256;

/// The memory decision for `n` in-memory points of `k` predictors on `gpu`: `Some` (chunked)
/// when the data in `precision` exceeds the device budget of `limits`.
pub(crate) fn device_plan(
    gpu: &Gpu,
    limits: &MemoryLimits,
    n: usize,
    k: usize,
    sigma: bool,
    precision: Precision,
    host: &DataPlan,
) -> Option<DataPlan> {
    let free = gpu.ctx.mem_get_info().map(|(f, _)| f as u64).unwrap_or(0);
    let budget = limits.device_budget(free);
    let bytes = n as u64 * device_bytes_per_point(k, sigma, precision);
    if bytes <= budget {
        return None;
    }
    let capacity = device_capacity(budget, k, sigma, precision, n as u64);
    let mut plan = host.clone();
    plan.mode = DataMode::Chunked;
    plan.device_budget_bytes = Some(budget);
    plan.chunk_points = capacity;
    plan.chunks_per_pass = (n as u64).div_ceil(capacity as u64);
    plan.reason = format!(
        "{bytes} bytes of data exceed the device budget of {budget} bytes ({free} free): two device buffers of {capacity} points, copies overlapped with the passes"
    );
    Some(plan)
}

/// The chunked objective of `model` over `source` on `gpu`, sized by `plan` (its device budget
/// filled in from the free memory when unset, its chunk size set to the buffers' capacity).
pub(crate) fn chunked_objective<'s, M: Model>(
    model: &M,
    gpu: &Arc<Gpu>,
    source: &'s mut dyn DataSource,
    nan_policy: NanPolicy,
    spec: ChunkedSpec,
    plan: &mut DataPlan,
) -> Result<ChunkedCudaObjective<'s>, FitError> {
    let free = gpu.ctx.mem_get_info().map(|(f, _)| f as u64).unwrap_or(0);
    let device_budget = plan
        .device_budget_bytes
        .unwrap_or_else(|| spec.limits.device_budget(free));
    plan.device_budget_bytes = Some(device_budget);
    let config = ChunkedConfig {
        device_budget,
        host_budget: plan.host_budget_bytes,
        n_hint: source.len_hint(),
    };
    // Reader chunks of at most 4 Mi points are packed into the pinned blocks.
    let reader = ChunkReader::new(source, nan_policy, plan.chunk_points.min(1 << 22));
    let obj = ChunkedCudaObjective::new(
        model,
        gpu,
        reader,
        spec.precision,
        spec.loss,
        spec.f_scale,
        config,
    )?;
    plan.chunk_points = obj.capacity();
    Ok(obj)
}

/// Device bytes per point in `precision`.
pub fn device_bytes_per_point(k: usize, sigma: bool, precision: Precision) -> u64 {
    let e = match precision {
        Precision::F32 => 4,
        Precision::F64 => 8,
    };
    e * (k as u64 + 1 + u64::from(sigma))
}

/// Points per device buffer: two buffers within `budget`, a multiple of the CPU chunk, at
/// most the data.
pub fn device_capacity(budget: u64, k: usize, sigma: bool, precision: Precision, n: u64) -> usize {
    let unit = crate::backend::CHUNK as u64;
    let per = budget / 2 / device_bytes_per_point(k, sigma, precision);
    let c = (per / unit).max(1) * unit;
    c.min(n.div_ceil(unit).max(1) * unit) as usize
}

/// Element types of device data.
pub trait Real:
    DeviceRepr + ValidAsZeroBits + Copy + Default + Unpin + Send + Sync + 'static
{
    /// Rounds a double to this type.
    fn from_f64(v: f64) -> Self;
}

impl Real for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Real for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// A pinned host block: `K` columns at stride `capacity`, `y`, weights, and its valid count.
struct HostBlock<T: Real> {
    x: PinnedHostSlice<T>,
    y: PinnedHostSlice<T>,
    w: Option<PinnedHostSlice<T>>,
    n: usize,
}

/// One device buffer set and the event after the last pass that read it.
struct DevBlock<T: Real> {
    x: CudaSlice<T>,
    y: CudaSlice<T>,
    w: Option<CudaSlice<T>>,
    free: Option<CudaEvent>,
}

/// The engine for one element type.
struct Engine<T: Real> {
    gpu: Arc<Gpu>,
    compute: Arc<CudaStream>,
    copy: Arc<CudaStream>,
    pass_fn: CudaFunction,
    reduce_fn: CudaFunction,
    capacity: usize,
    k: usize,
    np: usize,
    host: Vec<HostBlock<T>>,
    keep_host: bool,
    staged: bool,
    dev: [DevBlock<T>; 2],
    params: CudaSlice<f64>,
    partials: CudaSlice<f64>,
    rows: CudaSlice<f64>,
    out: CudaSlice<f64>,
    grid: u32,
    block: u32,
    slot: usize,
    submitted: usize,
    loss: Loss,
    f_scale: f64,
}

impl<T: Real> Engine<T> {
    fn new_host_block(&self, weighted: bool) -> Result<HostBlock<T>, FitError> {
        let alloc = |len: usize| {
            // SAFETY: the block is written before it is read (only its first `n` points of
            // each column are ever passed to the kernel).
            unsafe { self.gpu.ctx.alloc_pinned::<T>(len) }
                .map_err(|e| driver_error("allocating pinned host memory", e))
        };
        Ok(HostBlock {
            x: alloc(self.k * self.capacity)?,
            y: alloc(self.capacity)?,
            w: if weighted {
                Some(alloc(self.capacity)?)
            } else {
                None
            },
            n: 0,
        })
    }

    /// Copies host block `j` to device buffer `j % 2` on the copy stream, then runs its pass
    /// and reduction on the compute stream.
    fn submit(&mut self, j: usize) -> Result<(), FitError> {
        let b = self.submitted % 2;
        let hb = &self.host[j];
        let dev = &mut self.dev[b];
        if let Some(ev) = &dev.free {
            self.copy.wait(ev).map_err(err("ordering the copy"))?;
        }
        self.copy
            .memcpy_htod(&hb.x, &mut dev.x)
            .map_err(err("copying x"))?;
        self.copy
            .memcpy_htod(&hb.y, &mut dev.y)
            .map_err(err("copying y"))?;
        if let (Some(hw), Some(dw)) = (&hb.w, &mut dev.w) {
            self.copy.memcpy_htod(hw, dw).map_err(err("copying w"))?;
        }
        let columns = hb.x.len() + hb.y.len() + hb.w.as_ref().map_or(0, |w| w.len());
        crate::profile::record_h2d((columns * std::mem::size_of::<T>()) as u64);
        let copied = self
            .copy
            .record_event(None)
            .map_err(err("recording the copy"))?;
        self.compute
            .wait(&copied)
            .map_err(err("ordering the pass"))?;
        let (n, stride) = (hb.n as u64, self.capacity as u64);
        let loss = self.loss.code() as i32;
        let null: u64 = 0;
        let mut l = self.compute.launch_builder(&self.pass_fn);
        l.arg(&dev.x).arg(&dev.y);
        match &dev.w {
            Some(w) => l.arg(w),
            None => l.arg(&null),
        };
        l.arg(&self.params)
            .arg(&n)
            .arg(&stride)
            .arg(&loss)
            .arg(&self.f_scale)
            .arg(&mut self.partials);
        let cfg = LaunchConfig {
            grid_dim: (self.grid, 1, 1),
            block_dim: (self.block, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: arguments follow the `nlsq_pass` ABI; the buffers hold `capacity >= n`
        // points per column at stride `capacity`, and `partials` grid * W doubles.
        unsafe { l.launch(cfg) }.map_err(err("launching nlsq_pass"))?;
        let width = abi::reduction_width(self.np);
        let grid = self.grid;
        self.reduce_into_slot(&grid, width)?;
        self.dev[b].free = Some(
            self.compute
                .record_event(None)
                .map_err(err("recording the pass"))?,
        );
        self.submitted += 1;
        Ok(())
    }

    /// Sums the block's partial rows into the next row slot; folds a full slot buffer into
    /// slot 0.
    fn reduce_into_slot(&mut self, grid: &u32, width: usize) -> Result<(), FitError> {
        let cfg = LaunchConfig::for_num_elems(width as u32);
        {
            let mut dst = self
                .rows
                .slice_mut(self.slot * width..(self.slot + 1) * width);
            let mut r = self.compute.launch_builder(&self.reduce_fn);
            r.arg(&self.partials).arg(grid).arg(&mut dst);
            // SAFETY: `nlsq_reduce(partials, n_blocks, out)` with W outputs.
            unsafe { r.launch(cfg) }.map_err(err("launching nlsq_reduce"))?;
        }
        self.slot += 1;
        if self.slot == ROW_SLOTS {
            self.fold()?;
        }
        Ok(())
    }

    /// Sums slots `0..slot` in order into `out`, and `out` back into slot 0.
    fn fold(&mut self) -> Result<(), FitError> {
        let width = abi::reduction_width(self.np);
        let slots = self.slot as u32;
        let mut r = self.compute.launch_builder(&self.reduce_fn);
        r.arg(&self.rows).arg(&slots).arg(&mut self.out);
        // SAFETY: `nlsq_reduce` over `slots` rows of W into W outputs.
        unsafe { r.launch(LaunchConfig::for_num_elems(width as u32)) }
            .map_err(err("launching nlsq_reduce"))?;
        let mut first = self.rows.slice_mut(0..width);
        self.compute
            .memcpy_dtod(&self.out, &mut first)
            .map_err(err("folding rows"))?;
        self.slot = 1;
        Ok(())
    }

    /// Packs `data` into host blocks (ring of two, or all kept), submitting each full block.
    fn pack(&mut self, data: &crate::data::FitData<'_>, cur: &mut usize) -> Result<(), FitError> {
        let weighted = data.weights.is_some();
        let mut done = 0;
        while done < data.len() {
            if *cur == self.host.len() {
                let hb = self.new_host_block(weighted)?;
                self.host.push(hb);
            }
            let cap = self.capacity;
            let hb = &mut self.host[*cur];
            let at = hb.n;
            let take = (cap - at).min(data.len() - done);
            let map = |e| driver_error("waiting for a pinned block", e);
            // Waits until the block's previous copy has finished, then converts in parallel.
            let xs = hb.x.as_mut_slice().map_err(map)?;
            for (c, col) in data.x.iter().enumerate() {
                convert(
                    &mut xs[c * cap + at..c * cap + at + take],
                    &col[done..done + take],
                );
            }
            let ys = hb.y.as_mut_slice().map_err(map)?;
            convert(&mut ys[at..at + take], &data.y[done..done + take]);
            if let (Some(hw), Some(w)) = (&mut hb.w, &data.weights) {
                let ws = hw.as_mut_slice().map_err(map)?;
                convert(&mut ws[at..at + take], &w[done..done + take]);
            }
            hb.n += take;
            done += take;
            if hb.n == cap {
                self.submit(*cur)?;
                *cur = self.next_block(*cur);
            }
        }
        Ok(())
    }

    fn next_block(&mut self, cur: usize) -> usize {
        let next = if self.keep_host {
            cur + 1
        } else {
            (cur + 1) % 2
        };
        if next < self.host.len() {
            self.host[next].n = 0;
        }
        next
    }

    fn start_pass(&mut self, p: &[f64]) -> Result<(), FitError> {
        self.compute
            .memcpy_htod(p, &mut self.params)
            .map_err(err("copying parameters"))?;
        crate::profile::record_h2d(std::mem::size_of_val(p) as u64);
        self.compute
            .memset_zeros(&mut self.rows)
            .map_err(err("clearing rows"))?;
        self.slot = 1;
        self.submitted = 0;
        Ok(())
    }

    fn finish_pass(&mut self) -> Result<Vec<f64>, FitError> {
        self.fold()?;
        let row = self
            .compute
            .clone_dtoh(&self.out)
            .map_err(|e| driver_error("reading the pass back", e))?;
        crate::profile::record_d2h(std::mem::size_of_val(row.as_slice()) as u64);
        Ok(row)
    }
}

/// `dst[i] = src[i]` in the device type, in parallel over blocks of points.
pub(crate) fn convert<T: Real>(dst: &mut [T], src: &[f64]) {
    use rayon::prelude::*;
    const BLOCK: usize = 1 << 16;
    dst.par_chunks_mut(BLOCK)
        .zip(src.par_chunks(BLOCK))
        .for_each(|(d, s)| {
            for (d, s) in d.iter_mut().zip(s) {
                *d = T::from_f64(*s);
            }
        });
}

enum Inner {
    F32(Engine<f32>),
    F64(Engine<f64>),
}

/// Passes over data of any size on a GPU, through two fixed-capacity device buffers.
pub struct ChunkedCudaObjective<'s> {
    inner: Inner,
    reader: ChunkReader<'s>,
}

/// Sizes of a chunked CUDA objective.
#[derive(Clone, Copy, Debug)]
pub struct ChunkedConfig {
    /// Device bytes the buffers may take.
    pub device_budget: u64,
    /// Host bytes the pinned blocks may take (all blocks are kept when the data fits).
    pub host_budget: u64,
    /// Points in the data, when known.
    pub n_hint: Option<u64>,
}

impl<'s> ChunkedCudaObjective<'s> {
    /// Builds the model's kernels and allocates the device buffers.
    pub fn new<M: Model + ?Sized>(
        model: &M,
        gpu: &Arc<Gpu>,
        reader: ChunkReader<'s>,
        precision: Precision,
        loss: Loss,
        f_scale: f64,
        config: ChunkedConfig,
    ) -> Result<Self, FitError> {
        let inner = match precision {
            Precision::F32 => Inner::F32(engine(
                model, gpu, &reader, precision, loss, f_scale, config,
            )?),
            Precision::F64 => Inner::F64(engine(
                model, gpu, &reader, precision, loss, f_scale, config,
            )?),
        };
        Ok(ChunkedCudaObjective { inner, reader })
    }

    /// The chunk reader (statistics of the data).
    pub fn reader_mut(&mut self) -> &mut ChunkReader<'s> {
        &mut self.reader
    }

    /// Points per device buffer.
    pub fn capacity(&self) -> usize {
        match &self.inner {
            Inner::F32(e) => e.capacity,
            Inner::F64(e) => e.capacity,
        }
    }

    /// The reduction row at `p`.
    pub fn row(&mut self, p: &[f64]) -> Result<Vec<f64>, FitError> {
        match &mut self.inner {
            Inner::F32(e) => run_pass(e, &mut self.reader, p),
            Inner::F64(e) => run_pass(e, &mut self.reader, p),
        }
    }
}

fn engine<T: Real, M: Model + ?Sized>(
    model: &M,
    gpu: &Arc<Gpu>,
    reader: &ChunkReader<'_>,
    precision: Precision,
    loss: Loss,
    f_scale: f64,
    config: ChunkedConfig,
) -> Result<Engine<T>, FitError> {
    let module = gpu
        .lock_cache()?
        .module(&gpu.ctx, &gpu.arch, model, precision)?;
    let load = |name: &str| {
        module
            .load_function(name)
            .map_err(|e| driver_error(&format!("loading {name}"), e))
    };
    let k = model.n_inputs();
    let weighted = reader.has_sigma();
    let n = config.n_hint.unwrap_or(u64::MAX / 2);
    let capacity = device_capacity(config.device_budget, k, weighted, precision, n);
    let np = model.n_params();
    let width = abi::reduction_width(np);
    let block = abi::cuda_block_size(np);
    let grid = gpu.pass_grid(capacity, block);
    let compute = gpu.ctx.new_stream().map_err(err("creating a stream"))?;
    let copy = gpu.ctx.new_stream().map_err(err("creating a stream"))?;
    let dev_block = || -> Result<DevBlock<T>, FitError> {
        let alloc = |len: usize| {
            compute
                .alloc_zeros::<T>(len)
                .map_err(err("allocating device buffers"))
        };
        Ok(DevBlock {
            x: alloc(k * capacity)?,
            y: alloc(capacity)?,
            w: if weighted {
                Some(alloc(capacity)?)
            } else {
                None
            },
            free: None,
        })
    };
    let zeros = |len: usize| {
        compute
            .alloc_zeros::<f64>(len)
            .map_err(err("allocating reduction buffers"))
    };
    let keep_host = config
        .n_hint
        .is_some_and(|n| n * device_bytes_per_point(k, weighted, precision) <= config.host_budget);
    Ok(Engine {
        pass_fn: load("nlsq_pass")?,
        reduce_fn: load("nlsq_reduce")?,
        dev: [dev_block()?, dev_block()?],
        params: zeros(np)?,
        partials: zeros(grid as usize * width)?,
        rows: zeros(ROW_SLOTS * width)?,
        out: zeros(width)?,
        gpu: gpu.clone(),
        compute,
        copy,
        capacity,
        k,
        np,
        host: Vec::new(),
        keep_host,
        staged: false,
        grid,
        block,
        slot: 1,
        submitted: 0,
        loss,
        f_scale,
    })
}

fn run_pass<T: Real>(
    e: &mut Engine<T>,
    reader: &mut ChunkReader<'_>,
    p: &[f64],
) -> Result<Vec<f64>, FitError> {
    e.start_pass(p)?;
    if e.staged {
        for j in 0..e.host.len() {
            e.submit(j)?;
        }
        return e.finish_pass();
    }
    let mut cur = 0;
    if let Some(hb) = e.host.first_mut() {
        hb.n = 0;
    }
    reader.pass(|data, _| e.pack(data, &mut cur))?;
    if cur < e.host.len() && e.host[cur].n > 0 {
        e.submit(cur)?;
        cur += 1;
    }
    if e.keep_host {
        e.host.truncate(cur);
        e.staged = true;
    }
    e.finish_pass()
}

objective_from_row!(ChunkedCudaObjective<'_>, |s| match &s.inner {
    Inner::F32(e) => e.np,
    Inner::F64(e) => e.np,
});

impl<'s> ChunkedObjective<'s> for ChunkedCudaObjective<'s> {
    fn reader_mut(&mut self) -> &mut ChunkReader<'s> {
        &mut self.reader
    }
}
