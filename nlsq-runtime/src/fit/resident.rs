//! Fits of data already resident on a GPU (CUDA or wgpu).

use super::{CurveFit, long};
use crate::data::DataSummary;
use crate::error::FitError;
use crate::loss::Loss;
use crate::model::Model;
use crate::result::FitResult;
use crate::solve::{IterationInfo, Objective};
use crate::summary::assemble;
use std::ops::ControlFlow;
use std::time::Instant;

/// What a resident fit needs to know of the device data.
struct Resident<'a> {
    n: usize,
    k: usize,
    weighted: bool,
    summary: &'a DataSummary,
    bytes_per_pass: usize,
    backend: String,
}

impl<M: Model> CurveFit<'_, M> {
    /// Fits data already resident on a GPU ([`crate::backend::cuda::DeviceData`]), uploaded once
    /// and reusable across fits and models. Bounds, losses, methods and callbacks work as in
    /// [`CurveFit::fit`]; the data's weights were fixed at upload. R² and RMSE are computed for
    /// unweighted linear fits (from the last pass) and are NaN otherwise.
    #[cfg(feature = "cuda")]
    pub fn fit_resident(
        self,
        data: &crate::backend::cuda::DeviceData,
    ) -> Result<FitResult, FitError> {
        let info = Resident {
            n: data.n,
            k: data.k,
            weighted: data.w.is_some(),
            summary: &data.summary,
            bytes_per_pass: data.bytes_per_pass(),
            backend: format!(
                "cuda {} ({}), {} (resident data)",
                data.gpu.name, data.gpu.arch, data.precision
            ),
        };
        self.fit_resident_with(info, |model, loss, f_scale| {
            crate::backend::cuda::CudaObjective::new(model, data, loss, f_scale)
        })
    }

    /// Fits data already resident on a wgpu device ([`crate::backend::wgpu::DeviceData`]),
    /// uploaded once and reusable across fits and models; as [`CurveFit::fit_resident`] for
    /// CUDA. The evaluation precision is the data's.
    #[cfg(feature = "wgpu")]
    pub fn fit_resident_wgpu(
        self,
        data: &crate::backend::wgpu::DeviceData,
    ) -> Result<FitResult, FitError> {
        let info = Resident {
            n: data.n,
            k: data.k,
            weighted: data.weighted,
            summary: &data.summary,
            bytes_per_pass: data.bytes_per_pass(),
            backend: format!(
                "wgpu {}, {} (resident data)",
                data.gpu.describe(),
                data.precision
            ),
        };
        self.fit_resident_with(info, |model, loss, f_scale| {
            crate::backend::wgpu::WgpuObjective::new(model, data, loss, f_scale)
        })
    }

    fn fit_resident_with<O: Objective>(
        mut self,
        data: Resident<'_>,
        objective: impl FnOnce(&M, Loss, f64) -> Result<O, FitError>,
    ) -> Result<FitResult, FitError> {
        let start = Instant::now();
        let session = self.long.begin();
        let (p0, method) = self.check_params()?;
        let np = p0.len();
        if data.k != self.model.n_inputs() {
            return Err(FitError::LengthMismatch {
                what: "x (number of predictor columns on the device)".into(),
                got: data.k,
                expected: self.model.n_inputs(),
            });
        }
        if data.n < np {
            return Err(FitError::TooFewPoints {
                points: data.n,
                params: np,
            });
        }
        let options = self.solver_options(np);
        let mut callback = self.callback.take();
        let cb = callback
            .as_mut()
            .map(|f| &mut **f as &mut dyn FnMut(&IterationInfo<'_>) -> ControlFlow<()>);
        let mut obj = objective(&self.model, self.loss, self.f_scale)?;
        // The data are on the device: their fingerprint is their size and spread.
        let identity = || {
            let mut fp = crate::checkpoint::fingerprint::DataFingerprint::default();
            fp.column(&[data.n as f64, data.k as f64, data.summary.sst]);
            let (loss, f_scale) = (self.loss, self.f_scale);
            long::identity(
                &self.model,
                method,
                &options,
                loss,
                f_scale,
                data.n,
                fp.finish(),
            )
        };
        let (out, extras) = self.long.run(
            &session,
            &mut obj,
            &self.model,
            &p0,
            &options,
            method,
            identity,
            cb,
            |_| 0,
        )?;
        let plain = !data.weighted && self.loss == Loss::Linear;
        let ssr = if plain { 2.0 * out.pass.cost } else { f64::NAN };
        let mut result = extras.apply(assemble(
            &self.model,
            data.summary,
            out,
            ssr,
            method,
            self.loss,
            self.f_scale,
            self.absolute_sigma,
            data.backend,
            start,
        ));
        result.data_plan.chunk_points = data.n;
        result.data_plan.data_bytes = Some(data.bytes_per_pass as u64);
        result.data_plan.reason = "data resident on the device".into();
        Ok(result)
    }
}
