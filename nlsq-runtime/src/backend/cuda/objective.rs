//! The fused pass on the device: one `nlsq_pass` launch over all points, one `nlsq_reduce`
//! launch summing the per-block rows in block order, one copy of `W` doubles back.

use super::data::{DeviceBuffer, DeviceData, data_check};
use super::driver_error;
use crate::error::FitError;
use crate::loss::Loss;
use crate::model::Model;
use cudarc::driver::{CudaFunction, CudaSlice, LaunchConfig, PushKernelArg};
use kernels_gen::kernels::abi;

/// Passes over [`DeviceData`] on its device.
pub struct CudaObjective<'d> {
    data: &'d DeviceData,
    pass_fn: CudaFunction,
    reduce_fn: CudaFunction,
    check_fn: CudaFunction,
    params: CudaSlice<f64>,
    partials: CudaSlice<f64>,
    out: CudaSlice<f64>,
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
            reduce_fn: load("nlsq_reduce")?,
            check_fn: load("nlsq_data_check")?,
            params: alloc(np)?,
            partials: alloc(grid as usize * width)?,
            out: alloc(width)?,
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
        let (n, stride) = (self.data.shape.n as u64, self.data.shape.n as u64);
        let loss = self.loss.code() as i32;
        let null: u64 = 0;
        let mut b = stream.launch_builder(&self.pass_fn);
        match &self.data.x {
            DeviceBuffer::F32(s) => b.arg(s),
            DeviceBuffer::F64(s) => b.arg(s),
        };
        match &self.data.y {
            DeviceBuffer::F32(s) => b.arg(s),
            DeviceBuffer::F64(s) => b.arg(s),
        };
        match &self.data.w {
            Some(DeviceBuffer::F32(s)) => b.arg(s),
            Some(DeviceBuffer::F64(s)) => b.arg(s),
            None => b.arg(&null),
        };
        b.arg(&self.params)
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

objective_from_row!(CudaObjective<'_>, |s| s.np);
