//! One dataset over several CUDA devices: contiguous shares sized by each device's memory,
//! passes launched on every device before any is read back, and the partial rows summed on
//! the host in device order ([`CudaDevices`](crate::CudaDevices)).

use super::data::DeviceData;
use super::{CudaObjective, Gpu};
use crate::data::FitData;
use crate::error::FitError;
use crate::loss::Loss;
use crate::model::Model;
use kernels_gen::Precision;
use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

/// Contiguous shares of `n` points in order, one per entry of `weights`, each in proportion
/// to its weight (a device's total memory); all equal when a weight is unknown (0). The last
/// share ends at `n`; a share may be empty when `n` is small.
///
/// ```
/// use nlsq_runtime::backend::cuda::multi::shares;
/// assert_eq!(shares(10, &[1, 1]), vec![0..5, 5..10]);
/// assert_eq!(shares(10, &[3, 1]), vec![0..7, 7..10]);
/// assert_eq!(shares(1, &[8, 8, 8]), vec![0..0, 0..0, 0..1]);
/// ```
pub fn shares(n: usize, weights: &[usize]) -> Vec<Range<usize>> {
    let equal = weights.contains(&0);
    let weight = |w: usize| if equal { 1 } else { w as u128 };
    let total: u128 = weights.iter().map(|&w| weight(w)).sum();
    let (mut start, mut acc) = (0, 0u128);
    let last = weights.len().saturating_sub(1);
    weights
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            acc += weight(w);
            let end = if i == last {
                n
            } else {
                (n as u128 * acc / total.max(1)) as usize
            };
            let share = start..end;
            start = end;
            share
        })
        .collect()
}

/// The points `range` of `data`, borrowed (the weights copied).
fn share<'d>(data: &'d FitData<'_>, range: Range<usize>) -> FitData<'d> {
    FitData {
        x: data
            .x
            .iter()
            .map(|c| Cow::Borrowed(&c[range.clone()]))
            .collect(),
        y: Cow::Borrowed(&data.y[range.clone()]),
        weights: data.weights.as_ref().map(|w| w[range.clone()].to_vec()),
        omitted: 0,
    }
}

/// One dataset uploaded in shares to several devices.
pub struct MultiDeviceData {
    /// Each non-empty share: the index of its first point, and the share on its device.
    pub parts: Vec<(usize, DeviceData)>,
}

impl MultiDeviceData {
    /// Cuts validated host data into [`shares`] by the devices' memory and uploads each to
    /// its device, in `precision`.
    pub fn upload(
        gpus: &[Arc<Gpu>],
        data: &FitData<'_>,
        precision: Precision,
    ) -> Result<Self, FitError> {
        let memory: Vec<usize> = gpus.iter().map(|g| g.total_memory).collect();
        let mut parts = Vec::with_capacity(gpus.len());
        for (gpu, range) in gpus.iter().zip(shares(data.len(), &memory)) {
            if range.is_empty() {
                continue;
            }
            let start = range.start;
            parts.push((
                start,
                DeviceData::upload(gpu, &share(data, range), precision)?,
            ));
        }
        Ok(MultiDeviceData { parts })
    }

    /// The pass objective of `model` over every share.
    pub fn objective<M: Model + ?Sized>(
        &self,
        model: &M,
        loss: Loss,
        f_scale: f64,
    ) -> Result<MultiCudaObjective<'_>, FitError> {
        let parts = self
            .parts
            .iter()
            .map(|(start, d)| Ok((*start, CudaObjective::new(model, d, loss, f_scale)?)))
            .collect::<Result<Vec<_>, FitError>>()?;
        Ok(MultiCudaObjective {
            parts,
            np: model.n_params(),
        })
    }
}

/// Passes over [`MultiDeviceData`]: every device's pass launched, then each row read back
/// and added in device order.
pub struct MultiCudaObjective<'d> {
    parts: Vec<(usize, CudaObjective<'d>)>,
    np: usize,
}

impl MultiCudaObjective<'_> {
    /// The reduction row at `p` (kernel ABI layout): the devices' rows summed in order.
    pub fn row(&mut self, p: &[f64]) -> Result<Vec<f64>, FitError> {
        for (_, part) in &mut self.parts {
            part.launch(p)?;
        }
        let mut sum: Vec<f64> = Vec::new();
        for (_, part) in &mut self.parts {
            let row = part.read_row()?;
            if sum.is_empty() {
                sum = row;
            } else {
                sum.iter_mut().zip(&row).for_each(|(s, r)| *s += r);
            }
        }
        Ok(sum)
    }

    /// The first point (over all shares) whose `y` or any predictor is not finite, found on
    /// the devices, or `None`.
    pub fn first_nonfinite(&self) -> Result<Option<usize>, FitError> {
        for (start, part) in &self.parts {
            if let Some(i) = part.first_nonfinite()? {
                return Ok(Some(start + i));
            }
        }
        Ok(None)
    }
}

objective_from_row!(MultiCudaObjective<'_>, |s| s.np);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_the_points_in_order_by_weight() {
        for n in [0, 1, 2, 7, 1000, 1_000_003] {
            for w in [
                vec![1],
                vec![1, 1],
                vec![80, 80, 40],
                vec![3, 0, 5],
                vec![5; 9],
            ] {
                let s = shares(n, &w);
                assert_eq!(s.len(), w.len());
                assert_eq!(s[0].start, 0);
                assert_eq!(s.last().unwrap().end, n);
                assert!(s.windows(2).all(|p| p[0].end == p[1].start));
                assert!(s.iter().all(|r| r.start <= r.end));
            }
        }
        // Proportional to memory: 141 GB and 80 GB devices.
        let s = shares(2_210_000, &[141, 80]);
        assert_eq!(s, vec![0..1_410_000, 1_410_000..2_210_000]);
        // An unknown memory size splits equally.
        assert_eq!(shares(9, &[0, 5, 5]), vec![0..3, 3..6, 6..9]);
    }
}
