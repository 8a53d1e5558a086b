//! Data resident on the device: uploaded once, reusable across fits and models.

use super::CudaObjective;
use super::staging;
use super::{Gpu, driver_error};
use crate::backend::DataShape;
use crate::data::FitData;
use crate::error::FitError;
use crate::model::Model;
use cudarc::driver::{CudaFunction, CudaSlice, LaunchArgs, LaunchConfig, PushKernelArg};
use kernels_gen::Precision;
use kernels_gen::kernels::abi;
use std::sync::Arc;

/// A device buffer of the data's precision.
pub enum DeviceBuffer {
    /// Single precision.
    F32(CudaSlice<f32>),
    /// Double precision.
    F64(CudaSlice<f64>),
}

impl DeviceBuffer {
    /// `columns` one after another in `precision`, through the pinned staging buffers.
    fn upload(gpu: &Gpu, columns: &[&[f64]], precision: Precision) -> Result<Self, FitError> {
        Ok(match precision {
            Precision::F64 => DeviceBuffer::F64(staging::upload_columns(gpu, columns)?),
            Precision::F32 => DeviceBuffer::F32(staging::upload_columns(gpu, columns)?),
        })
    }

    fn arg<'a>(&'a self, b: &mut LaunchArgs<'a>) {
        match self {
            DeviceBuffer::F32(s) => b.arg(s),
            DeviceBuffer::F64(s) => b.arg(s),
        };
    }
}

/// Predictors (column-major, `K` columns of `n`), observations and weights on the device.
pub struct DeviceData {
    /// The device holding the data.
    pub gpu: Arc<Gpu>,
    /// `K · n` predictors, column after column.
    pub x: DeviceBuffer,
    /// `n` observations.
    pub y: DeviceBuffer,
    /// `n` residual weights, if any.
    pub w: Option<DeviceBuffer>,
    /// Its size, layout, precision and spread.
    pub shape: DataShape,
}

impl DeviceData {
    /// Uploads validated host data in `precision`.
    pub fn upload(
        gpu: &Arc<Gpu>,
        data: &FitData<'_>,
        precision: Precision,
    ) -> Result<Self, FitError> {
        let columns: Vec<&[f64]> = data.x.iter().map(|c| &c[..]).collect();
        let x = DeviceBuffer::upload(gpu, &columns, precision)?;
        let y = DeviceBuffer::upload(gpu, &[&data.y[..]], precision)?;
        let w = data
            .weights
            .as_deref()
            .map(|w| DeviceBuffer::upload(gpu, &[w], precision))
            .transpose()?;
        Ok(DeviceData {
            gpu: gpu.clone(),
            x,
            y,
            w,
            shape: DataShape::of(data, precision),
        })
    }
}

impl DeviceData {
    /// The first point whose `y` or any predictor is NaN or infinite, found on the device
    /// (`nlsq_data_check` of `model`'s module, the module its passes use), or `None`. The
    /// device-side form of [`FitData`]'s finiteness check, for data uploaded unchecked; a fit
    /// runs it through [`CudaObjective::first_nonfinite`], which has the module already.
    pub fn first_nonfinite<M: Model + ?Sized>(&self, model: &M) -> Result<Option<usize>, FitError> {
        let gpu = &self.gpu;
        let module = gpu
            .lock_cache()?
            .module(&gpu.ctx, &gpu.arch, model, self.shape.precision)?;
        let check = module
            .load_function("nlsq_data_check")
            .map_err(|e| driver_error("loading nlsq_data_check", e))?;
        data_check(self, &check)
    }
}

/// Runs `nlsq_data_check` (`check`) over `data`: the first non-finite point, or `None`.
pub(crate) fn data_check(
    data: &DeviceData,
    check: &CudaFunction,
) -> Result<Option<usize>, FitError> {
    let gpu = &data.gpu;
    let map = |e| driver_error("checking the data", e);
    let mut first = gpu.stream.clone_htod(&[u64::MAX]).map_err(map)?;
    crate::profile::record_h2d(8);
    let n = data.shape.n as u64;
    let block = abi::CUDA_REGISTER_BLOCK;
    let mut b = gpu.stream.launch_builder(check);
    data.x.arg(&mut b);
    data.y.arg(&mut b);
    b.arg(&n).arg(&n).arg(&mut first);
    let cfg = LaunchConfig {
        grid_dim: (gpu.pass_grid(data.shape.n, block), 1, 1),
        block_dim: (block, 1, 1),
        shared_mem_bytes: 0,
    };
    // SAFETY: `nlsq_data_check(x, y, n, x_stride, first)` of the kernel ABI over the buffers'
    // n points (x at stride n), `first` one u64.
    unsafe { b.launch(cfg) }.map_err(|e| driver_error("launching nlsq_data_check", e))?;
    let first = gpu.stream.clone_dtoh(&first).map_err(map)?;
    crate::profile::record_d2h(8);
    Ok(first
        .first()
        .and_then(|&i| usize::try_from(i).ok())
        .filter(|&i| i < data.shape.n))
}

resident_data!(DeviceData, CudaObjective, |s| format!(
    "cuda {} ({})",
    s.gpu.name, s.gpu.arch
));
