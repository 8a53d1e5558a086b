//! The resident route: data already on a GPU ([`ResidentData`]), uploaded once and reusable
//! across fits and models.

use super::CurveFit;
use super::finish::{Route, finish};
use crate::backend::ResidentData;
use crate::checkpoint::fingerprint::DataFingerprint;
use crate::data::DataSummary;
use crate::error::FitError;
use crate::memory::DataPlan;
use crate::model::Model;
use crate::profile::Began;
use crate::result::FitResult;
use crate::solve::{Objective, Pass, SolverOutput};

impl<M: Model> CurveFit<'_, M> {
    /// Fits data already resident on a GPU (`backend::cuda::DeviceData` or
    /// `backend::wgpu::DeviceData`), uploaded once and reusable across fits and models. Bounds,
    /// losses, methods and callbacks work as in [`CurveFit::fit`]; the data's weights and
    /// precision were fixed at upload. R² and RMSE are computed for unweighted linear fits
    /// (from the last pass) and are NaN otherwise (and in distributed fits of several ranks).
    pub fn fit_resident<D: ResidentData>(self, data: &D) -> Result<FitResult, FitError> {
        #[cfg(feature = "mpi")]
        let dist = self.dist.clone();
        let result = self.fit_resident_here(data);
        #[cfg(feature = "mpi")]
        if let (Err(e), Some(d)) = (&result, dist) {
            d.fail(e);
        }
        result
    }

    /// [`CurveFit::fit_resident`] on this process.
    fn fit_resident_here<D: ResidentData>(self, data: &D) -> Result<FitResult, FitError> {
        let start = Began::now();
        let (spec, callback) = self.into_spec()?;
        let (np, shape) = (spec.p0.len(), data.shape());
        if shape.k != spec.model.n_inputs() {
            return Err(FitError::LengthMismatch {
                what: "x (number of predictor columns on the device)".into(),
                got: shape.k,
                expected: spec.model.n_inputs(),
            });
        }
        if shape.n < np {
            return Err(FitError::TooFewPoints {
                points: shape.n,
                params: np,
            });
        }
        let objective = data.objective(&spec.model, spec.loss, spec.f_scale)?;
        let plan = DataPlan {
            chunk_points: shape.n,
            data_bytes: Some(shape.bytes_per_pass() as u64),
            reason: "data resident on the device".into(),
            ..DataPlan::default()
        };
        let mut route = Resident { data, objective };
        finish(&spec, callback, &mut route, plan, start)
    }

    /// Fits data resident on a wgpu device: the same as [`CurveFit::fit_resident`].
    #[cfg(feature = "wgpu")]
    pub fn fit_resident_wgpu(
        self,
        data: &crate::backend::wgpu::DeviceData,
    ) -> Result<FitResult, FitError> {
        self.fit_resident(data)
    }
}

struct Resident<'r, D: ResidentData> {
    data: &'r D,
    objective: Box<dyn Objective + 'r>,
}

impl<D: ResidentData> Route for Resident<'_, D> {
    fn objective(&mut self) -> &mut dyn Objective {
        &mut *self.objective
    }

    /// The data are on the device: their fingerprint is their size and spread.
    fn fingerprint(&self, _: Option<&Pass>) -> (usize, [u8; 32]) {
        let d = self.data.shape();
        let mut fp = DataFingerprint::default();
        fp.column(&[d.n as f64, d.k as f64, d.summary.sst]);
        (d.n, fp.finish())
    }

    fn first_nonfinite(&mut self, _: &[f64]) -> Result<usize, FitError> {
        Ok(0)
    }

    fn unweighted_ssr(&mut self, out: &SolverOutput, linear: bool) -> Result<f64, FitError> {
        let plain = linear && !self.data.shape().weighted;
        Ok(if plain { 2.0 * out.pass.cost } else { f64::NAN })
    }

    /// The residuals stay on the device: unknown.
    fn weighted_ssr(&mut self, _: &[f64]) -> Result<f64, FitError> {
        Ok(f64::NAN)
    }

    fn summary(&mut self, _: &mut DataPlan) -> DataSummary {
        self.data.shape().summary
    }

    fn backend(&self) -> String {
        let precision = self.data.shape().precision;
        format!("{}, {precision} (resident data)", self.data.device())
    }
}
