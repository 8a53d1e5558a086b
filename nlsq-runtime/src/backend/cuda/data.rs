//! Data resident on the device: uploaded once, reusable across fits and models.

use super::CudaObjective;
use super::{Gpu, driver_error};
use crate::backend::DataShape;
use crate::data::FitData;
use crate::error::FitError;
use cudarc::driver::CudaSlice;
use kernels_gen::Precision;
use std::sync::Arc;

/// A device buffer of the data's precision.
pub enum DeviceBuffer {
    /// Single precision.
    F32(CudaSlice<f32>),
    /// Double precision.
    F64(CudaSlice<f64>),
}

impl DeviceBuffer {
    fn upload(gpu: &Gpu, v: &[f64], precision: Precision) -> Result<Self, FitError> {
        let r = match precision {
            Precision::F64 => gpu.stream.clone_htod(v).map(DeviceBuffer::F64),
            Precision::F32 => {
                let f: Vec<f32> = v.iter().map(|&a| a as f32).collect();
                gpu.stream.clone_htod(&f).map(DeviceBuffer::F32)
            }
        };
        if r.is_ok() {
            let width = match precision {
                Precision::F64 => 8,
                Precision::F32 => 4,
            };
            crate::profile::record_h2d((v.len() * width) as u64);
        }
        r.map_err(|e| driver_error("uploading data", e))
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
        let k = data.n_inputs();
        let x = if k == 1 {
            DeviceBuffer::upload(gpu, &data.x[0], precision)?
        } else {
            let flat: Vec<f64> = data.x.iter().flat_map(|c| c.iter().copied()).collect();
            DeviceBuffer::upload(gpu, &flat, precision)?
        };
        let y = DeviceBuffer::upload(gpu, &data.y, precision)?;
        let w = data
            .weights
            .as_deref()
            .map(|w| DeviceBuffer::upload(gpu, w, precision))
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

resident_data!(DeviceData, CudaObjective, |s| format!(
    "cuda {} ({})",
    s.gpu.name, s.gpu.arch
));
