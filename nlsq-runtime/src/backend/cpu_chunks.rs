//! The CPU's chunked objective: a pass reads a [`DataSource`](crate::stream::DataSource)
//! chunk by chunk through a [`ChunkReader`] and adds each chunk's reduction rows, in order,
//! into one running row with the CPU backend's accumulation ([`CpuBackend::add_rows`]). With
//! chunks a multiple of [`CHUNK`](super::CHUNK) points (as the memory manager sizes them) the
//! pass performs the very additions of the in-memory pass, so the fit is the in-memory fit.

use super::chunked::ChunkedObjective;
use super::cpu::{CpuBackend, pass_from_row};
use crate::error::FitError;
use crate::loss::Loss;
use crate::model::Model;
use crate::solve::{Objective, Pass};
use crate::stream::ChunkReader;
use kernels_gen::kernels::abi;

/// Passes over the chunks of a [`ChunkReader`] on the CPU.
pub(crate) struct CpuChunked<'s, M: Model> {
    model: M,
    reader: ChunkReader<'s>,
    loss: Loss,
    f_scale: f64,
}

impl<'s, M: Model> CpuChunked<'s, M> {
    /// The chunked objective of `model` over `reader`.
    pub(crate) fn new(model: M, reader: ChunkReader<'s>, loss: Loss, f_scale: f64) -> Self {
        CpuChunked {
            model,
            reader,
            loss,
            f_scale,
        }
    }

    /// The reduction row at `p` (kernel ABI layout).
    fn row(&mut self, p: &[f64]) -> Result<Vec<f64>, FitError> {
        let mut total = vec![0.0; abi::reduction_width(p.len())];
        let (model, loss, f_scale) = (&self.model, self.loss, self.f_scale);
        self.reader.pass(|data, _| {
            CpuBackend::new(model, data, loss, f_scale).add_rows(p, &mut total);
            Ok(())
        })?;
        Ok(total)
    }
}

impl<M: Model> Objective for CpuChunked<'_, M> {
    fn n_params(&self) -> usize {
        self.model.n_params()
    }

    fn pass(&mut self, p: &[f64]) -> Result<Pass, FitError> {
        Ok(pass_from_row(p.len(), &self.row(p)?))
    }

    /// Every read chunk's [`CHUNK`](super::CHUNK)-point rows, in order.
    fn chunk_rows(&mut self, p: &[f64]) -> Option<Result<Vec<Vec<f64>>, FitError>> {
        let mut rows = Vec::new();
        let (model, loss, f_scale) = (&self.model, self.loss, self.f_scale);
        let read = self.reader.pass(|data, _| {
            rows.extend(CpuBackend::new(model, data, loss, f_scale).rows(p));
            Ok(())
        });
        Some(read.map(|_| rows))
    }
}

impl<'s, M: Model> ChunkedObjective<'s> for CpuChunked<'s, M> {
    fn reader_mut(&mut self) -> &mut ChunkReader<'s> {
        &mut self.reader
    }
}

/// The index among the fitted points of the first point where `model` is not finite at `p`,
/// by one pass of `reader` on the CPU.
pub(crate) fn first_nonfinite_in<M: Model>(
    model: &M,
    reader: &mut ChunkReader<'_>,
    p: &[f64],
) -> Result<Option<u64>, FitError> {
    let mut found = None;
    reader.pass(|data, start| {
        if found.is_none() {
            found = super::cpu::first_nonfinite(model, data, p).map(|i| start + i as u64);
        }
        Ok(())
    })?;
    Ok(found)
}

/// `Σ (w_i (f(x_i; p) − y_i))²`, weighted, by one pass of `reader` on the CPU.
pub(crate) fn weighted_ssr<M: Model>(
    model: &M,
    reader: &mut ChunkReader<'_>,
    p: &[f64],
) -> Result<f64, FitError> {
    let mut ssr = 0.0;
    reader.pass(|data, _| {
        let r = CpuBackend::new(model, data, Loss::Linear, 1.0).residuals(p);
        ssr += r.iter().map(|r| r * r).sum::<f64>();
        Ok(())
    })?;
    Ok(ssr)
}

/// `Σ (y_i − f(x_i; p))²`, unweighted, by one pass of `reader` on the CPU.
pub(crate) fn unweighted_ssr<M: Model>(
    model: &M,
    reader: &mut ChunkReader<'_>,
    p: &[f64],
) -> Result<f64, FitError> {
    let mut ssr = 0.0;
    reader.pass(|data, _| {
        ssr += CpuBackend::new(model, data, Loss::Linear, 1.0).unweighted_ssr(p);
        Ok(())
    })?;
    Ok(ssr)
}
