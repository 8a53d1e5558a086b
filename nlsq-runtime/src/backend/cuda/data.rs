//! Data resident on the device: uploaded once, reusable across fits and models.

use super::{Gpu, driver_error};
use crate::data::{DataSummary, FitData};
use crate::error::FitError;
use crate::loss::Loss;
use crate::model::Model;
use crate::solve::Objective;
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
    /// Points.
    pub n: usize,
    /// Predictors per point.
    pub k: usize,
    /// Element type of the buffers (and of the model evaluation).
    pub precision: Precision,
    /// Sizes and spread of `y`, for the result statistics.
    pub summary: DataSummary,
}

impl DeviceData {
    /// Uploads validated host data in `precision`.
    pub fn upload(
        gpu: &Arc<Gpu>,
        data: &FitData<'_>,
        precision: Precision,
    ) -> Result<Self, FitError> {
        let n = data.len();
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
            summary: data.summary(),
            gpu: gpu.clone(),
            x,
            y,
            w,
            n,
            k,
            precision,
        })
    }

    /// Bytes one pass reads.
    pub fn bytes_per_pass(&self) -> usize {
        let e = match self.precision {
            Precision::F32 => 4,
            Precision::F64 => 8,
        };
        self.n * e * (self.k + 1 + usize::from(self.w.is_some()))
    }
}

impl crate::backend::ResidentData for DeviceData {
    fn n_points(&self) -> usize {
        self.n
    }
    fn n_inputs(&self) -> usize {
        self.k
    }
    fn weighted(&self) -> bool {
        self.w.is_some()
    }
    fn summary(&self) -> &DataSummary {
        &self.summary
    }
    fn bytes_per_pass(&self) -> usize {
        DeviceData::bytes_per_pass(self)
    }
    fn describe(&self) -> String {
        format!(
            "cuda {} ({}), {}",
            self.gpu.name, self.gpu.arch, self.precision
        )
    }
    fn objective<'d, M: Model + ?Sized>(
        &'d self,
        model: &M,
        loss: Loss,
        f_scale: f64,
    ) -> Result<Box<dyn Objective + 'd>, FitError> {
        Ok(Box::new(super::CudaObjective::new(
            model, self, loss, f_scale,
        )?))
    }
}
