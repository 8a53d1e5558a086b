//! The fused pass on the device: one `nlsq_pass` launch over all points, one `nlsq_reduce`
//! launch summing the per-block rows in block order, one copy of `W` doubles back. The
//! K-vector pass of multi-start searches is one `nlsq_pass_k` launch for up to
//! [`K_VECTORS_MAX`] parameter vectors (the blocks of every vector that read the same points
//! adjacent in launch order, so that they can share the L2 cache), one `nlsq_reduce` per
//! vector and one copy of `K · W` doubles: each row that of the vector's single pass, bit for
//! bit.

use super::data::{DeviceBuffer, DeviceData, data_check};
use super::driver_error;
use crate::error::FitError;
use crate::loss::Loss;
use crate::model::Model;
use cudarc::driver::{CudaFunction, CudaSlice, LaunchConfig, PushKernelArg};
use kernels_gen::kernels::abi;

/// The most parameter vectors of one K-vector launch (`nlsq_pass_k`); more are done in
/// launches of this many.
pub const K_VECTORS_MAX: usize = 64;

/// Passes over [`DeviceData`] on its device.
pub struct CudaObjective<'d> {
    data: &'d DeviceData,
    pass_fn: CudaFunction,
    pass_k_fn: CudaFunction,
    reduce_fn: CudaFunction,
    check_fn: CudaFunction,
    params: CudaSlice<f64>,
    partials: CudaSlice<f64>,
    out: CudaSlice<f64>,
    /// The K-vector pass's parameters, partial rows and rows, allocated at its first use.
    k_buffers: Option<KBuffers>,
    grid: u32,
    block: u32,
    np: usize,
    loss: Loss,
    f_scale: f64,
}

impl<'d> CudaObjective<'d> {
    /// Builds (or fetches from the cache) the model's kernels and allocates the reduction
    /// buffers.
    pub fn new<M: Model + ?Sized>(
        model: &M,
        data: &'d DeviceData,
        loss: Loss,
        f_scale: f64,
    ) -> Result<Self, FitError> {
        let gpu = &data.gpu;
        let module = gpu
            .lock_cache()?
            .module(&gpu.ctx, &gpu.arch, model, data.shape.precision)?;
        let load = |name: &str| {
            module
                .load_function(name)
                .map_err(|e| driver_error(&format!("loading {name}"), e))
        };
        let np = model.n_params();
        let width = abi::reduction_width(np);
        let block = abi::cuda_block_size(np);
        let grid = gpu.pass_grid(data.shape.n, block);
        let alloc = |len: usize| {
            gpu.stream
                .alloc_zeros::<f64>(len)
                .map_err(|e| driver_error("allocating reduction buffers", e))
        };
        Ok(CudaObjective {
            pass_fn: load("nlsq_pass")?,
            pass_k_fn: load("nlsq_pass_k")?,
            reduce_fn: load("nlsq_reduce")?,
            check_fn: load("nlsq_data_check")?,
            params: alloc(np)?,
            partials: alloc(grid as usize * width)?,
            out: alloc(width)?,
            k_buffers: None,
            grid,
            block,
            np,
            data,
            loss,
            f_scale,
        })
    }

    /// The first point of the data whose `y` or any predictor is not finite, found on the
    /// device (`nlsq_data_check`), or `None`.
    pub fn first_nonfinite(&self) -> Result<Option<usize>, FitError> {
        data_check(self.data, &self.check_fn)
    }

    /// The reduction row at `p` (kernel ABI layout).
    pub fn row(&mut self, p: &[f64]) -> Result<Vec<f64>, FitError> {
        self.launch(p)?;
        self.read_row()
    }

    /// Queues the pass at `p` on the device's stream (the parameters' copy, `nlsq_pass` and
    /// `nlsq_reduce`) without waiting for it: several devices then work at once, and
    /// [`CudaObjective::read_row`] collects each one's row.
    pub fn launch(&mut self, p: &[f64]) -> Result<(), FitError> {
        let stream = &self.data.gpu.stream;
        stream
            .memcpy_htod(p, &mut self.params)
            .map_err(|e| driver_error("copying parameters", e))?;
        crate::profile::record_h2d(std::mem::size_of_val(p) as u64);
        let scalars = PassScalars::new(self.data, self.loss, self.f_scale);
        let mut b = stream.launch_builder(&self.pass_fn);
        push_pass_args(
            &mut b,
            self.data,
            &scalars,
            &self.params,
            &mut self.partials,
        );
        let cfg = LaunchConfig {
            grid_dim: (self.grid, 1, 1),
            block_dim: (self.block, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: arguments match the kernel ABI of `nlsq_pass` (kernels_gen::kernels::abi),
        // the buffers hold n points and grid * W partials.
        unsafe { b.launch(cfg) }.map_err(|e| driver_error("launching nlsq_pass", e))?;
        let width = abi::reduction_width(self.np);
        let mut r = stream.launch_builder(&self.reduce_fn);
        r.arg(&self.partials).arg(&self.grid).arg(&mut self.out);
        // SAFETY: `nlsq_reduce(partials, n_blocks, out)` with W outputs.
        unsafe { r.launch(LaunchConfig::for_num_elems(width as u32)) }
            .map_err(|e| driver_error("launching nlsq_reduce", e))?;
        Ok(())
    }

    /// The reduction row of the pass last [launched](CudaObjective::launch), once the device
    /// has finished it.
    pub fn read_row(&mut self) -> Result<Vec<f64>, FitError> {
        let row = self
            .data
            .gpu
            .stream
            .clone_dtoh(&self.out)
            .map_err(|e| driver_error("reading the pass back", e))?;
        crate::profile::record_d2h(std::mem::size_of_val(row.as_slice()) as u64);
        Ok(row)
    }
}

impl CudaObjective<'_> {
    /// The reduction rows at each of `ps`, each that of [`CudaObjective::row`] bit for bit, in
    /// K-vector launches of up to [`K_VECTORS_MAX`] vectors.
    pub fn rows(&mut self, ps: &[&[f64]]) -> Result<Vec<Vec<f64>>, FitError> {
        let mut rows = Vec::with_capacity(ps.len());
        for batch in ps.chunks(K_VECTORS_MAX) {
            if let [p] = batch {
                rows.push(self.row(p)?);
            } else {
                rows.extend(self.rows_k(batch)?);
            }
        }
        Ok(rows)
    }

    /// One `nlsq_pass_k` launch over `ps` (at most [`K_VECTORS_MAX`]).
    fn rows_k(&mut self, ps: &[&[f64]]) -> Result<Vec<Vec<f64>>, FitError> {
        let (k, width) = (ps.len(), abi::reduction_width(self.np));
        let per_vector = self.grid as usize * width;
        let bufs = match &mut self.k_buffers {
            Some(bufs) => bufs,
            slot @ None => slot.insert(KBuffers::new(self.data, self.np, per_vector)?),
        };
        let stream = &self.data.gpu.stream;
        let flat: Vec<f64> = ps.iter().flat_map(|p| p.iter().copied()).collect();
        stream
            .memcpy_htod(&flat, &mut bufs.params.slice_mut(0..flat.len()))
            .map_err(|e| driver_error("copying parameter vectors", e))?;
        crate::profile::record_h2d(std::mem::size_of_val(flat.as_slice()) as u64);
        let scalars = PassScalars::new(self.data, self.loss, self.f_scale);
        let k_vectors = k as u32;
        let mut b = stream.launch_builder(&self.pass_k_fn);
        push_pass_args(
            &mut b,
            self.data,
            &scalars,
            &bufs.params,
            &mut bufs.partials,
        );
        b.arg(&k_vectors);
        let cfg = LaunchConfig {
            grid_dim: (self.grid * k_vectors, 1, 1),
            block_dim: (self.block, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: arguments match `nlsq_pass_k` (`nlsq_pass`'s, then the vector count); the
        // buffers hold k · P parameters and k · grid · W partials.
        unsafe { b.launch(cfg) }.map_err(|e| driver_error("launching nlsq_pass_k", e))?;
        for v in 0..k {
            let partials = bufs.partials.slice(v * per_vector..(v + 1) * per_vector);
            let mut out = bufs.out.slice_mut(v * width..(v + 1) * width);
            let mut r = stream.launch_builder(&self.reduce_fn);
            r.arg(&partials).arg(&self.grid).arg(&mut out);
            // SAFETY: `nlsq_reduce(partials, n_blocks, out)` over vector v's grid · W partials
            // into its W outputs.
            unsafe { r.launch(LaunchConfig::for_num_elems(width as u32)) }
                .map_err(|e| driver_error("launching nlsq_reduce", e))?;
        }
        let all = stream
            .clone_dtoh(&bufs.out.slice(0..k * width))
            .map_err(|e| driver_error("reading the passes back", e))?;
        crate::profile::record_d2h(std::mem::size_of_val(all.as_slice()) as u64);
        Ok(all.chunks(width).map(<[f64]>::to_vec).collect())
    }
}

/// The device buffers of [`K_VECTORS_MAX`] vectors' passes.
struct KBuffers {
    params: CudaSlice<f64>,
    partials: CudaSlice<f64>,
    out: CudaSlice<f64>,
}

impl KBuffers {
    fn new(data: &DeviceData, np: usize, per_vector: usize) -> Result<Self, FitError> {
        let alloc = |len: usize| {
            data.gpu
                .stream
                .alloc_zeros::<f64>(len)
                .map_err(|e| driver_error("allocating K-vector buffers", e))
        };
        let width = abi::reduction_width(np);
        Ok(KBuffers {
            params: alloc(K_VECTORS_MAX * np)?,
            partials: alloc(K_VECTORS_MAX * per_vector)?,
            out: alloc(K_VECTORS_MAX * width)?,
        })
    }
}

/// The scalar arguments of a pass kernel, kept alive for its launch.
struct PassScalars {
    n: u64,
    stride: u64,
    loss: i32,
    f_scale: f64,
    /// The null pointer passed for absent weights.
    null: u64,
}

impl PassScalars {
    fn new(data: &DeviceData, loss: Loss, f_scale: f64) -> Self {
        let n = data.shape.n as u64;
        PassScalars {
            n,
            stride: n,
            loss: loss.code() as i32,
            f_scale,
            null: 0,
        }
    }
}

/// The arguments `nlsq_pass` and `nlsq_pass_k` share, in the kernel ABI's order: x, y, the
/// weights (or a null pointer), the parameters, n, the stride, the loss, f_scale, the partials.
fn push_pass_args<'a>(
    b: &mut cudarc::driver::LaunchArgs<'a>,
    data: &'a DeviceData,
    s: &'a PassScalars,
    params: &'a CudaSlice<f64>,
    partials: &'a mut CudaSlice<f64>,
) {
    match &data.x {
        DeviceBuffer::F32(x) => b.arg(x),
        DeviceBuffer::F64(x) => b.arg(x),
    };
    match &data.y {
        DeviceBuffer::F32(y) => b.arg(y),
        DeviceBuffer::F64(y) => b.arg(y),
    };
    match &data.w {
        Some(DeviceBuffer::F32(w)) => b.arg(w),
        Some(DeviceBuffer::F64(w)) => b.arg(w),
        None => b.arg(&s.null),
    };
    b.arg(params)
        .arg(&s.n)
        .arg(&s.stride)
        .arg(&s.loss)
        .arg(&s.f_scale)
        .arg(partials);
}

objective_from_row!(CudaObjective<'_>, |s| s.np, rows: rows);
