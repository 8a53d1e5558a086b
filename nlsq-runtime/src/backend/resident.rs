//! Data resident on a GPU, uploaded once and fitted by any number of fits and models: one
//! abstraction ([`ResidentData`], with the [`DataShape`] every device records), implemented by
//! the CUDA and the wgpu device data.

use crate::data::{DataSummary, FitData};
use crate::error::FitError;
use crate::loss::Loss;
use crate::model::Model;
use crate::solve::Objective;
use kernels_gen::Precision;

/// What a device's copy of the data records of it: size, layout, precision and spread.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DataShape {
    /// Points.
    pub n: usize,
    /// Predictors per point.
    pub k: usize,
    /// Whether weights were uploaded with the data.
    pub weighted: bool,
    /// Element type of the buffers (and of the model evaluation).
    pub precision: Precision,
    /// Sizes and spread of `y`, for the result statistics.
    pub summary: DataSummary,
}

impl DataShape {
    /// The shape of validated host data uploaded in `precision`.
    pub fn of(data: &FitData<'_>, precision: Precision) -> Self {
        DataShape {
            n: data.len(),
            k: data.n_inputs(),
            weighted: data.weights.is_some(),
            precision,
            summary: data.summary(),
        }
    }

    /// Bytes one pass reads.
    pub fn bytes_per_pass(&self) -> usize {
        let e = match self.precision {
            Precision::F32 => 4,
            Precision::F64 => 8,
        };
        self.n * e * (self.k + 1 + usize::from(self.weighted))
    }
}

/// Data resident on a device: its shape, the device, and its pass objective. Implemented by
/// `backend::cuda::DeviceData` and `backend::wgpu::DeviceData`; fitted with
/// `CurveFit::fit_resident`.
pub trait ResidentData {
    /// The data's shape.
    fn shape(&self) -> &DataShape;
    /// The device, as the result's backend reason names it (e.g. `cuda NVIDIA H200 (sm_90)`).
    fn device(&self) -> String;
    /// The fused-pass objective of `model` over this data, with `loss` and `f_scale`.
    fn objective<'d, M: Model + ?Sized>(
        &'d self,
        model: &M,
        loss: Loss,
        f_scale: f64,
    ) -> Result<Box<dyn Objective + 'd>, FitError>;
}

/// Implements [`ResidentData`] for a device's data type with a `shape` field, whose pass
/// objective is `$objective::new(model, &data, loss, f_scale)`; `$device` names the device.
#[cfg(any(feature = "cuda", feature = "wgpu"))]
macro_rules! resident_data {
    ($data:ty, $objective:ident, |$s:ident| $device:expr) => {
        impl $crate::backend::ResidentData for $data {
            fn shape(&self) -> &$crate::backend::DataShape {
                &self.shape
            }

            fn device(&self) -> String {
                let $s = self;
                $device
            }

            fn objective<'d, M: $crate::model::Model + ?Sized>(
                &'d self,
                model: &M,
                loss: $crate::loss::Loss,
                f_scale: f64,
            ) -> Result<Box<dyn $crate::solve::Objective + 'd>, $crate::error::FitError> {
                Ok(Box::new($objective::new(model, self, loss, f_scale)?))
            }
        }
    };
}
