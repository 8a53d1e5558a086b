//! The fused pass on a wgpu device: one `nlsq_pass` dispatch per chunk of data, the
//! per-workgroup rows copied back together and summed on the host in f64, in chunk then
//! workgroup order (the same order on every run: bit-identical re-runs). The K-vector pass of
//! multi-start searches is one `nlsq_pass_k` dispatch per chunk for up to [`K_VECTORS_MAX`]
//! parameter vectors and one read-back of all their rows, each vector's rows summed in the
//! order of its single pass: bit for bit the same passes.

use super::cache::Pipelines;
use super::data::DeviceData;
use super::{Gpu, backend_error, from_bytes, to_bytes};
use crate::error::FitError;
use crate::loss::Loss;
use crate::model::Model;
use kernels_gen::kernels::abi;
use std::sync::Arc;

/// Most workgroups of one pass dispatch on a GPU: enough to fill a large one, few enough that
/// the rows read back stay small. Fixed for a given chunk size and adapter, so re-runs reduce in
/// the same order.
pub const MAX_PASS_WORKGROUPS: usize = 2048;

/// Most workgroups of one pass dispatch on a software adapter (lavapipe): its workgroup
/// barriers are costly, so fewer, longer-running workgroups (still several per core).
pub const MAX_PASS_WORKGROUPS_SOFTWARE: usize = 64;

/// Workgroups of a pass dispatch over `len` points on `gpu`.
pub fn pass_workgroups(gpu: &Gpu, len: usize) -> u32 {
    let max = if gpu.is_software() {
        MAX_PASS_WORKGROUPS_SOFTWARE
    } else {
        MAX_PASS_WORKGROUPS
    };
    len.div_ceil(abi::WGSL_WORKGROUP as usize).clamp(1, max) as u32
}

/// The most parameter vectors of one K-vector dispatch (`nlsq_pass_k`); more take several,
/// and fewer fit where the device's buffer limits are smaller than their rows.
pub const K_VECTORS_MAX: usize = 64;

/// The most bytes the K-vector pass's rows and their read-back take on the device together
/// (each `K` times the single pass's): data of many chunks gets fewer vectors per dispatch.
pub const K_BUFFER_BUDGET: u64 = 256 << 20;

struct ChunkRun {
    pass_bind: wgpu::BindGroup,
    partials: wgpu::Buffer,
    grid: u32,
    uniforms: wgpu::Buffer,
}

/// Passes over [`DeviceData`] on its device.
pub struct WgpuObjective<'d> {
    data: &'d DeviceData,
    pipes: Arc<Pipelines>,
    params: wgpu::Buffer,
    runs: Vec<ChunkRun>,
    readback: wgpu::Buffer,
    rows: usize,
    np: usize,
    f_scale: f64,
    /// The K-vector pass's buffers, allocated at its first use.
    k_runs: Option<KRuns>,
}

/// The buffers of the K-vector pass: `k_max` vectors' parameters, each chunk's rows of
/// `k_max` vectors and their bind group, and one read-back buffer for all of them.
struct KRuns {
    k_max: usize,
    params: wgpu::Buffer,
    chunks: Vec<(wgpu::BindGroup, wgpu::Buffer)>,
    readback: wgpu::Buffer,
}

/// The kernel ABI's uniform block for `n` points of one chunk.
fn uniforms(n: usize, loss: Loss, weighted: bool) -> [u8; 32] {
    let u = [
        n as u32,
        n as u32,
        0,
        loss.code(),
        u32::from(weighted),
        0,
        0,
        0,
    ];
    let mut b = [0u8; 32];
    for (i, v) in u.iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
    }
    b
}

pub(crate) fn buffer(gpu: &Gpu, label: &str, size: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
    gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: size.max(16),
        usage,
        mapped_at_creation: false,
    })
}

/// Runs `make` (buffer and bind-group creation) inside out-of-memory and validation error
/// scopes: what the device refuses is an error about `what`, never a panic.
fn allocated<T>(gpu: &Gpu, what: &str, make: impl FnOnce() -> T) -> Result<T, FitError> {
    let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let invalid = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
    let made = make();
    let invalid = pollster::block_on(invalid.pop());
    if let Some(e) = pollster::block_on(scope.pop()) {
        return Err(backend_error(format!(
            "allocating {what}: the device is out of memory ({e})"
        )));
    }
    if let Some(e) = invalid {
        return Err(backend_error(format!("the device refused {what}: {e}")));
    }
    Ok(made)
}

fn bind(gpu: &Gpu, layout: &wgpu::BindGroupLayout, buffers: [&wgpu::Buffer; 6]) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry<'_>> = buffers
        .iter()
        .enumerate()
        .map(|(i, b)| wgpu::BindGroupEntry {
            binding: i as u32,
            resource: b.as_entire_binding(),
        })
        .collect();
    gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout,
        entries: &entries,
    })
}

/// Adds the reduction rows `rows` (each `row.len()` values) into `row`, in order: the one
/// summation order of every pass on the host.
fn add_rows(row: &mut [f64], rows: &[f64]) {
    for r in rows.chunks_exact(row.len()) {
        for (a, v) in row.iter_mut().zip(r) {
            *a += v;
        }
    }
}

/// Copies `bytes` bytes of `buf` (`MAP_READ`) back to the host.
pub(crate) fn read_back(gpu: &Gpu, buf: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>, FitError> {
    let slice = buf.slice(..bytes);
    let (tx, rx) = std::sync::mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    gpu.wait()?;
    rx.recv()
        .map_err(|_| backend_error("the read-back was never completed"))?
        .map_err(|e| backend_error(format!("reading results back: {e}")))?;
    let v = slice
        .get_mapped_range()
        .map_err(|e| backend_error(format!("reading results back: {e}")))?
        .to_vec();
    buf.unmap();
    Ok(v)
}

impl<'d> WgpuObjective<'d> {
    /// Builds (or fetches from the cache) the model's pipelines and allocates the parameter,
    /// uniform and reduction buffers.
    pub fn new<M: Model + ?Sized>(
        model: &M,
        data: &'d DeviceData,
        loss: Loss,
        f_scale: f64,
    ) -> Result<Self, FitError> {
        let gpu = &data.gpu;
        let pipes = gpu
            .cache
            .lock()
            .map_err(|_| backend_error("pipeline cache lock poisoned"))?
            .pipelines(gpu, model, data.shape.precision)?;
        let np = model.n_params();
        let what = format!("model `{}`: the pass buffers or bindings", model.name());
        let (params, runs, rows, readback) =
            allocated(gpu, &what, || Self::allocate(data, &pipes, np, loss))?;
        Ok(WgpuObjective {
            data,
            pipes,
            params,
            runs,
            readback,
            rows,
            np,
            f_scale,
            k_runs: None,
        })
    }

    /// The parameter buffer, each chunk's dispatch, the rows and the read-back buffer of the
    /// single pass.
    fn allocate(
        data: &DeviceData,
        pipes: &Pipelines,
        np: usize,
        loss: Loss,
    ) -> (wgpu::Buffer, Vec<ChunkRun>, usize, wgpu::Buffer) {
        let gpu = &data.gpu;
        let width = abi::reduction_width(np) as u64;
        let elem = Gpu::elem_bytes(data.shape.precision);
        use wgpu::BufferUsages as U;
        let params = buffer(
            gpu,
            "params",
            (np as u64 + 1) * elem,
            U::STORAGE | U::COPY_DST,
        );
        let mut rows = 0;
        let runs: Vec<ChunkRun> = data
            .chunks
            .iter()
            .map(|c| {
                let grid = pass_workgroups(gpu, c.len);
                rows += grid as usize;
                let u = buffer(gpu, "uniforms", 32, U::UNIFORM | U::COPY_DST);
                gpu.queue
                    .write_buffer(&u, 0, &uniforms(c.len, loss, data.shape.weighted));
                let partials = buffer(
                    gpu,
                    "partials",
                    grid as u64 * width * elem,
                    U::STORAGE | U::COPY_SRC,
                );
                ChunkRun {
                    pass_bind: bind(
                        gpu,
                        &pipes.layout,
                        [&c.x, &c.y, &c.w, &params, &u, &partials],
                    ),
                    partials,
                    grid,
                    uniforms: u,
                }
            })
            .collect();
        let readback = buffer(
            gpu,
            "readback",
            rows as u64 * width * elem,
            U::MAP_READ | U::COPY_DST,
        );
        (params, runs, rows, readback)
    }

    fn set_params(&self, p: &[f64]) {
        let mut v = p.to_vec();
        v.push(self.f_scale);
        self.data
            .gpu
            .queue
            .write_buffer(&self.params, 0, &to_bytes(&v, self.data.shape.precision));
    }

    /// The per-workgroup rows of the pass at `p`, in chunk then workgroup order.
    pub fn rows(&mut self, p: &[f64]) -> Result<Vec<f64>, FitError> {
        let gpu = &self.data.gpu;
        self.set_params(p);
        let width = abi::reduction_width(self.np) as u64;
        let elem = Gpu::elem_bytes(self.data.shape.precision);
        let mut enc = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            pass.set_pipeline(&self.pipes.pass);
            for r in &self.runs {
                pass.set_bind_group(0, &r.pass_bind, &[]);
                pass.dispatch_workgroups(r.grid, 1, 1);
            }
        }
        let mut offset = 0;
        for r in &self.runs {
            let bytes = r.grid as u64 * width * elem;
            enc.copy_buffer_to_buffer(&r.partials, 0, &self.readback, offset, bytes);
            offset += bytes;
        }
        gpu.queue.submit([enc.finish()]);
        let bytes = read_back(gpu, &self.readback, self.rows as u64 * width * elem)?;
        Ok(from_bytes(&bytes, self.data.shape.precision))
    }

    /// The reduction row at `p` (kernel ABI layout), summed in f64 in workgroup order.
    pub fn row(&mut self, p: &[f64]) -> Result<Vec<f64>, FitError> {
        let width = abi::reduction_width(self.np);
        let mut row = vec![0.0; width];
        add_rows(&mut row, &self.rows(p)?);
        Ok(row)
    }

    /// The residuals `w_i (f(x_i; p) - y_i)` of every point at `p`, by `nlsq_residuals`.
    pub fn residuals(&mut self, p: &[f64]) -> Result<Vec<f64>, FitError> {
        let gpu = &self.data.gpu;
        self.set_params(p);
        let elem = Gpu::elem_bytes(self.data.shape.precision);
        let mut out = Vec::with_capacity(self.data.shape.n);
        use wgpu::BufferUsages as U;
        for (c, r) in self.data.chunks.iter().zip(&self.runs) {
            let bytes = c.len as u64 * elem;
            let dev = buffer(gpu, "residuals", bytes, U::STORAGE | U::COPY_SRC);
            let host = buffer(gpu, "residuals readback", bytes, U::MAP_READ | U::COPY_DST);
            let bg = bind(
                gpu,
                &self.pipes.layout,
                [&c.x, &c.y, &c.w, &self.params, &r.uniforms, &dev],
            );
            let grid = c
                .len
                .div_ceil(abi::WGSL_WORKGROUP as usize)
                .clamp(1, gpu.limits.max_compute_workgroups_per_dimension as usize);
            let mut enc = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
                pass.set_pipeline(&self.pipes.residuals);
                pass.set_bind_group(0, &bg, &[]);
                pass.dispatch_workgroups(grid as u32, 1, 1);
            }
            enc.copy_buffer_to_buffer(&dev, 0, &host, 0, bytes.max(16));
            gpu.queue.submit([enc.finish()]);
            let v = from_bytes(&read_back(gpu, &host, bytes)?, self.data.shape.precision);
            out.extend_from_slice(&v[..c.len]);
        }
        Ok(out)
    }
}

impl WgpuObjective<'_> {
    /// The reduction rows at each of `ps`, each that of [`WgpuObjective::row`] bit for bit, in
    /// K-vector dispatches of up to [`K_VECTORS_MAX`] vectors (fewer where the device's buffer
    /// limits say so).
    pub fn rows_k(&mut self, ps: &[&[f64]]) -> Result<Vec<Vec<f64>>, FitError> {
        if ps.len() < 2 {
            return ps.iter().map(|p| self.row(p)).collect();
        }
        let k_max = self.k_runs()?.k_max;
        let mut rows = Vec::with_capacity(ps.len());
        for batch in ps.chunks(k_max) {
            if let [p] = batch {
                rows.push(self.row(p)?);
            } else {
                rows.extend(self.dispatch_k(batch)?);
            }
        }
        Ok(rows)
    }

    /// The K-vector buffers, allocated at the first K-vector pass.
    fn k_runs(&mut self) -> Result<&KRuns, FitError> {
        if self.k_runs.is_none() {
            let gpu = &self.data.gpu;
            let what = "the K-vector pass's buffers or bindings";
            let runs = allocated(gpu, what, || self.allocate_k())?;
            self.k_runs = Some(runs);
        }
        self.k_runs
            .as_ref()
            .ok_or_else(|| backend_error("the K-vector buffers were not allocated"))
    }

    /// How many vectors one K-vector dispatch takes: [`K_VECTORS_MAX`], or fewer where a
    /// chunk's rows or the read-back of all rows would pass the device's buffer limits, or
    /// the rows of all chunks and their read-back together would pass [`K_BUFFER_BUDGET`]
    /// (data of many chunks); at least one.
    fn k_max(&self) -> usize {
        let gpu = &self.data.gpu;
        let row = abi::reduction_width(self.np) as u64 * Gpu::elem_bytes(self.data.shape.precision);
        let chunk_rows = self.runs.iter().map(|r| r.grid as u64).max().unwrap_or(1);
        let all_rows = self.rows.max(1) as u64 * row;
        let binding = gpu
            .limits
            .max_storage_buffer_binding_size
            .min(gpu.limits.max_buffer_size)
            .min(u64::from(u32::MAX));
        let fit = (binding / (chunk_rows * row))
            .min(gpu.limits.max_buffer_size / all_rows)
            .min(K_BUFFER_BUDGET / (2 * all_rows));
        (fit as usize).clamp(1, K_VECTORS_MAX)
    }

    fn allocate_k(&self) -> KRuns {
        let gpu = &self.data.gpu;
        let k_max = self.k_max();
        let width = abi::reduction_width(self.np) as u64;
        let elem = Gpu::elem_bytes(self.data.shape.precision);
        use wgpu::BufferUsages as U;
        let per_vector = (self.np as u64 + 1) * elem;
        let params = buffer(
            gpu,
            "K params",
            k_max as u64 * per_vector,
            U::STORAGE | U::COPY_DST,
        );
        let chunks = self
            .data
            .chunks
            .iter()
            .zip(&self.runs)
            .map(|(c, r)| {
                let bytes = k_max as u64 * r.grid as u64 * width * elem;
                let partials = buffer(gpu, "K partials", bytes, U::STORAGE | U::COPY_SRC);
                let bg = bind(
                    gpu,
                    &self.pipes.layout,
                    [&c.x, &c.y, &c.w, &params, &r.uniforms, &partials],
                );
                (bg, partials)
            })
            .collect();
        let bytes = k_max as u64 * self.rows as u64 * width * elem;
        let readback = buffer(gpu, "K readback", bytes, U::MAP_READ | U::COPY_DST);
        KRuns {
            k_max,
            params,
            chunks,
            readback,
        }
    }

    /// One `nlsq_pass_k` dispatch per chunk over `ps` (at most the K-vector buffers' `k_max`),
    /// one read-back, and each vector's rows summed in its single pass's order.
    fn dispatch_k(&mut self, ps: &[&[f64]]) -> Result<Vec<Vec<f64>>, FitError> {
        let gpu = &self.data.gpu;
        let precision = self.data.shape.precision;
        let (k, width) = (ps.len(), abi::reduction_width(self.np));
        let elem = Gpu::elem_bytes(precision);
        let pipeline = self.pipes.pass_k(gpu)?;
        let kr = self
            .k_runs
            .as_ref()
            .ok_or_else(|| backend_error("the K-vector buffers were not allocated"))?;
        let flat: Vec<f64> = ps
            .iter()
            .flat_map(|p| p.iter().copied().chain([self.f_scale]))
            .collect();
        gpu.queue
            .write_buffer(&kr.params, 0, &to_bytes(&flat, precision));
        let mut enc = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            pass.set_pipeline(pipeline);
            for (r, (bg, _)) in self.runs.iter().zip(&kr.chunks) {
                pass.set_bind_group(0, bg, &[]);
                pass.dispatch_workgroups(k as u32, r.grid, 1);
            }
        }
        let mut offset = 0;
        for (r, (_, partials)) in self.runs.iter().zip(&kr.chunks) {
            let bytes = k as u64 * r.grid as u64 * width as u64 * elem;
            enc.copy_buffer_to_buffer(partials, 0, &kr.readback, offset, bytes);
            offset += bytes;
        }
        gpu.queue.submit([enc.finish()]);
        let all = from_bytes(&read_back(gpu, &kr.readback, offset)?, precision);
        // Chunk by chunk, vector v's rows follow the other vectors' (the kernel ABI's layout);
        // each vector adds its rows in chunk then workgroup order, as `row` does.
        if all.len() != k * self.rows * width {
            return Err(backend_error(
                "the K-vector pass read back another number of rows",
            ));
        }
        let mut rows = vec![vec![0.0; width]; k];
        let mut at = 0;
        for r in &self.runs {
            for row in rows.iter_mut() {
                let len = r.grid as usize * width;
                add_rows(row, &all[at..at + len]);
                at += len;
            }
        }
        Ok(rows)
    }
}

objective_from_row!(WgpuObjective<'_>, |s| s.np, rows: rows_k);
