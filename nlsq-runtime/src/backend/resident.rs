//! Data resident on a GPU, uploaded once and fitted by any number of fits and models: one
//! abstraction, implemented by the CUDA and the wgpu device data.

use crate::data::DataSummary;
use crate::error::FitError;
use crate::loss::Loss;
use crate::model::Model;
use crate::solve::Objective;

/// Data resident on a device: what a fit needs to know of it, and its pass objective.
/// Implemented by `backend::cuda::DeviceData` and `backend::wgpu::DeviceData`; fitted with
/// `CurveFit::fit_resident`.
pub trait ResidentData {
    /// Points on the device.
    fn n_points(&self) -> usize;
    /// Predictor columns.
    fn n_inputs(&self) -> usize;
    /// Whether weights were uploaded with the data.
    fn weighted(&self) -> bool;
    /// Sizes and spread of `y`, for the result statistics.
    fn summary(&self) -> &DataSummary;
    /// Bytes one pass reads.
    fn bytes_per_pass(&self) -> usize;
    /// The device and precision, as the result's backend reason names them.
    fn describe(&self) -> String;
    /// The fused-pass objective of `model` over this data, with `loss` and `f_scale`.
    fn objective<'d, M: Model + ?Sized>(
        &'d self,
        model: &M,
        loss: Loss,
        f_scale: f64,
    ) -> Result<Box<dyn Objective + 'd>, FitError>;
}
