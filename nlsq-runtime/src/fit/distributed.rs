//! The route of a distributed fit (feature `mpi`): this rank's route, whose passes and answers
//! are summed over the ranks in rank order (see [`crate::distributed`]).

use super::route::Route;
use crate::backend::cpu::pass_from_row;
use crate::data::DataSummary;
use crate::distributed::{Dist, Reduction};
use crate::error::FitError;
use crate::memory::DataPlan;
use crate::solve::{Objective, Pass, SolverOutput};
use nalgebra::{DMatrix, DVector};

/// This rank's route, reduced over every rank.
pub(crate) struct DistRoute<'r> {
    pub(crate) inner: &'r mut dyn Route,
    pub(crate) dist: &'r Dist,
    pub(crate) n_params: usize,
    /// This rank's first pass (the pass at p0 unless resuming), for its fingerprint.
    pub(crate) first_local: Option<Pass>,
}

impl DistRoute<'_> {
    /// This rank's result of `f`, or its failure told to every rank.
    fn local<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Route) -> Result<T, FitError>,
    ) -> Result<T, FitError> {
        f(&mut *self.inner).inspect_err(|e| self.dist.fail(e))
    }

    /// Every rank's `values`, summed in rank order.
    fn sum(&self, values: &[f64]) -> Result<Vec<f64>, FitError> {
        let all = self.dist.all_gather(values)?;
        let mut sum = all[0].clone();
        for other in &all[1..] {
            for (s, v) in sum.iter_mut().zip(other) {
                *s += v;
            }
        }
        Ok(sum)
    }
}

/// A pass as `[cost, n_points, n_nonfinite, JᵀJ (column-major), gradient]`.
fn encode(pass: &Pass) -> Vec<f64> {
    let mut v = vec![pass.cost, pass.n_points as f64, pass.n_nonfinite as f64];
    v.extend_from_slice(pass.jtj.as_slice());
    v.extend_from_slice(pass.gradient.as_slice());
    v
}

impl Objective for DistRoute<'_> {
    fn n_params(&self) -> usize {
        self.n_params
    }

    /// Every rank's pass at `p`, summed in rank order (rank 0's first, so one rank's pass is
    /// its own bits), or in chunk order ([`Reduction::ChunkOrder`]). Point counts are exact
    /// below 2⁵³ points.
    fn pass(&mut self, p: &[f64]) -> Result<Pass, FitError> {
        if self.dist.reduction() == Reduction::ChunkOrder {
            return self.pass_in_chunk_order(p);
        }
        let local = self.local(|r| r.objective().pass(p))?;
        let encoded = encode(&local);
        if self.first_local.is_none() {
            self.first_local = Some(local);
        }
        let sum = self.sum(&encoded)?;
        let np = self.n_params;
        Ok(Pass {
            cost: sum[0],
            n_points: sum[1] as u64,
            n_nonfinite: sum[2] as u64,
            jtj: DMatrix::from_column_slice(np, np, &sum[3..3 + np * np]),
            gradient: DVector::from_column_slice(&sum[3 + np * np..3 + np * np + np]),
        })
    }
}

impl DistRoute<'_> {
    /// [`Reduction::ChunkOrder`]: this rank's chunk rows, added to the running row of the
    /// ranks before it (received from rank − 1) and handed on (to rank + 1); the last rank's
    /// total is then sent to every rank. A rank that failed hands on a failure mark, so that
    /// no rank waits for a row that will not come, and tells its error at the last exchange.
    fn pass_in_chunk_order(&mut self, p: &[f64]) -> Result<Pass, FitError> {
        let (rank, size, np) = (self.dist.rank(), self.dist.size(), self.n_params);
        let width = kernels_gen::kernels::abi::reduction_width(np);
        // Every rank at this pass first: a rank that failed before its first pass (its data)
        // tells it here, where no rank waits for its row.
        self.dist.all_gather(&[])?;
        let rows = match self.inner.objective().chunk_rows(p) {
            Some(rows) => rows,
            None => Err(FitError::InvalidOption {
                option: "reduction".into(),
                reason: format!(
                    "chunk order needs passes summed on the CPU; this rank's are not ({})",
                    self.inner.backend()
                ),
            }),
        };
        // [status, running row]: status 1 marks a failure upstream.
        if let (Ok(rows), None) = (&rows, &self.first_local) {
            // This rank's own pass, for its fingerprint (streamed data).
            let mut own = vec![0.0; width];
            for r in rows {
                for (t, v) in own.iter_mut().zip(r) {
                    *t += v;
                }
            }
            self.first_local = Some(pass_from_row(np, &own));
        }
        let mut running = if rank == 0 {
            vec![0.0; width + 1]
        } else {
            self.dist.receive(rank - 1, width + 1)?
        };
        match &rows {
            Ok(rows) if running[0] == 0.0 => {
                for r in rows {
                    for (t, v) in running[1..].iter_mut().zip(r) {
                        *t += v;
                    }
                }
            }
            Ok(_) => {}
            Err(_) => running[0] = 1.0,
        }
        if rank + 1 < size {
            self.dist.send(rank + 1, running.clone())?;
        }
        if let Err(e) = rows {
            self.dist.fail(&e);
            return Err(e);
        }
        let total = if rank + 1 == size {
            running
        } else {
            Vec::new()
        };
        let all = self.dist.all_gather(&total)?;
        let row = &all[size - 1][1..];
        Ok(pass_from_row(np, row))
    }
}

impl Route for DistRoute<'_> {
    fn objective(&mut self) -> &mut dyn Objective {
        self
    }

    /// Whether any rank's data is identified by its first pass.
    fn identified_by_first_pass(&self) -> bool {
        let own = f64::from(u8::from(self.inner.identified_by_first_pass()));
        // A failed exchange ends the fit at its next pass (`Dist::check`).
        self.sum(&[own]).is_ok_and(|s| s[0] > 0.0)
    }

    /// The points of every rank summed, and every rank's points and fingerprint hashed in rank
    /// order: the same shards on the same number of ranks have the same identity.
    fn fingerprint(&self, first: Option<&Pass>) -> (usize, [u8; 32]) {
        let (points, fp) = self.inner.fingerprint(self.first_local.as_ref().or(first));
        let mut own = vec![points as f64];
        own.extend(fp.iter().map(|&b| f64::from(b)));
        let Ok(all) = self.dist.all_gather(&own) else {
            return (0, [0; 32]);
        };
        let mut h = blake3::Hasher::new();
        h.update(b"nlsq distributed fit");
        h.update(&(all.len() as u64).to_le_bytes());
        let mut n = 0;
        for rank in &all {
            n += rank[0] as usize;
            h.update(&(rank[0] as u64).to_le_bytes());
            let bytes: Vec<u8> = rank[1..].iter().map(|&b| b as u8).collect();
            h.update(&bytes);
        }
        (n, *h.finalize().as_bytes())
    }

    /// The first rank with a non-finite point names it, counted over the ranks before.
    fn first_nonfinite(&mut self, p: &[f64]) -> Result<usize, FitError> {
        let local = self.local(|r| {
            let pass = r.objective().pass(p)?;
            let first = if pass.n_nonfinite > 0 {
                r.first_nonfinite(p)? as f64
            } else {
                -1.0
            };
            Ok(((pass.n_points + pass.n_nonfinite) as f64, first))
        })?;
        let all = self.dist.all_gather(&[local.0, local.1])?;
        let mut offset = 0;
        for rank in &all {
            if rank[1] >= 0.0 {
                return Ok(offset + rank[1] as usize);
            }
            offset += rank[0] as usize;
        }
        Ok(0)
    }

    /// Every rank's `Σ (y − f)²`, summed. One rank takes the linear-loss shortcut of a single
    /// process; several evaluate their residuals (the solver's pass is not theirs).
    fn unweighted_ssr(&mut self, out: &SolverOutput, linear: bool) -> Result<f64, FitError> {
        let shortcut = linear && self.dist.size() == 1;
        let own = self.local(|r| r.unweighted_ssr(out, shortcut))?;
        Ok(self.sum(&[own])?[0])
    }

    fn weighted_ssr(&mut self, p: &[f64]) -> Result<f64, FitError> {
        let own = self.local(|r| r.weighted_ssr(p))?;
        Ok(self.sum(&[own])?[0])
    }

    /// The smallest and largest of every rank's predictors (the same on every rank, so every
    /// rank draws the same starts); `None` when a rank does not hold its data on the host.
    fn input_ranges(&self) -> Option<Vec<(f64, f64)>> {
        let own: Vec<f64> = self
            .inner
            .input_ranges()
            .map(|r| r.iter().flat_map(|&(lo, hi)| [lo, hi]).collect())
            .unwrap_or_default();
        // A failed exchange ends the fit at its next pass (`Dist::check`).
        let all = self.dist.all_gather(&own).ok()?;
        let k = all[0].len();
        if k == 0 || all.iter().any(|r| r.len() != k) {
            return None;
        }
        let lo = |c: usize| all.iter().map(|r| r[2 * c]).fold(f64::INFINITY, f64::min);
        let hi = |c: usize| {
            all.iter()
                .map(|r| r[2 * c + 1])
                .fold(f64::NEG_INFINITY, f64::max)
        };
        Some((0..k / 2).map(|c| (lo(c), hi(c))).collect())
    }

    /// Every rank's summary merged in rank order; the plan is this rank's, its sizes summed.
    fn summary(&mut self, plan: &mut DataPlan) -> DataSummary {
        let own = self.inner.summary(plan);
        let bytes = plan.data_bytes.map_or(-1.0, |b| b as f64);
        let values = [own.n as f64, own.omitted as f64, own.mean_y, own.sst, bytes];
        // A failed exchange is this fit's error (`Dist::check` after the finishing step).
        let Ok(all) = self.dist.all_gather(&values) else {
            return own;
        };
        let mut merged: Option<DataSummary> = None;
        for rank in &all {
            let s = DataSummary {
                n: rank[0] as usize,
                omitted: rank[1] as usize,
                mean_y: rank[2],
                sst: rank[3],
            };
            merged = Some(merged.map_or(s, |m| m.merged(&s)));
        }
        if all.iter().all(|r| r[4] >= 0.0) {
            plan.data_bytes = Some(all.iter().map(|r| r[4] as u64).sum());
        }
        if self.dist.size() > 1 {
            plan.reason = format!(
                "{}; this rank ({} of {}) holds {} of the {} points",
                plan.reason,
                self.dist.rank(),
                self.dist.size(),
                own.n,
                merged.as_ref().map_or(0, |m| m.n)
            );
        }
        merged.unwrap_or(own)
    }

    fn backend(&self) -> String {
        format!("{} (MPI, {} ranks)", self.inner.backend(), self.dist.size())
    }
}
