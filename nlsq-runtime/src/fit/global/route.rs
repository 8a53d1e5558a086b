//! The route of a global fit: one route per dataset (in memory, chunked or streamed, on any
//! backend), whose passes are summed into the pass of the global parameter vector.

use crate::data::DataSummary;
use crate::error::FitError;
use crate::fit::finish::Route;
use crate::memory::{DataMode, DataPlan};
use crate::solve::{Objective, Pass, SolverOutput};
use nalgebra::{DMatrix, DVector};

/// One dataset of a global fit: its route, the global index of each of its parameters, and the
/// data plan of its route.
pub(super) struct Part<'r> {
    pub(super) label: String,
    pub(super) route: Box<dyn Route + 'r>,
    pub(super) map: Vec<usize>,
    pub(super) plan: DataPlan,
    /// The dataset's parameters at the last pass (scratch).
    pub(super) p: Vec<f64>,
}

impl Part<'_> {
    /// The dataset's parameters at global parameters `p`.
    fn gather(&mut self, p: &[f64]) -> &[f64] {
        for (v, &g) in self.p.iter_mut().zip(&self.map) {
            *v = p[g];
        }
        &self.p
    }

    /// This dataset's pass at global parameters `p`.
    pub(super) fn pass(&mut self, p: &[f64]) -> Result<Pass, FitError> {
        self.gather(p);
        self.route.objective().pass(&self.p)
    }
}

/// The global objective: the sum of the datasets' passes, each scattered into the global
/// `JᵀJ` and gradient, in dataset order (so the sum does not depend on timing).
pub(super) struct GlobalRoute<'r> {
    pub(super) parts: Vec<Part<'r>>,
    pub(super) n_params: usize,
}

impl Objective for GlobalRoute<'_> {
    fn n_params(&self) -> usize {
        self.n_params
    }

    fn pass(&mut self, p: &[f64]) -> Result<Pass, FitError> {
        let np = self.n_params;
        let mut sum = Pass {
            cost: 0.0,
            jtj: DMatrix::zeros(np, np),
            gradient: DVector::zeros(np),
            n_points: 0,
            n_nonfinite: 0,
        };
        for part in &mut self.parts {
            let pass = part.pass(p)?;
            sum.cost += pass.cost;
            sum.n_points += pass.n_points;
            sum.n_nonfinite += pass.n_nonfinite;
            for (a, &ga) in part.map.iter().enumerate() {
                sum.gradient[ga] += pass.gradient[a];
                for (b, &gb) in part.map.iter().enumerate() {
                    sum.jtj[(ga, gb)] += pass.jtj[(a, b)];
                }
            }
        }
        Ok(sum)
    }
}

impl Route for GlobalRoute<'_> {
    fn objective(&mut self) -> &mut dyn Objective {
        self
    }

    fn identified_by_first_pass(&self) -> bool {
        self.parts
            .iter()
            .any(|p| p.route.identified_by_first_pass())
    }

    /// Every dataset's size and fingerprint, hashed in order.
    fn fingerprint(&self, first: Option<&Pass>) -> (usize, [u8; 32]) {
        let mut h = blake3::Hasher::new();
        let mut n = 0;
        for part in &self.parts {
            let (points, fp) = part.route.fingerprint(first);
            n += points;
            h.update(&(points as u64).to_le_bytes());
            h.update(&fp);
        }
        (n, *h.finalize().as_bytes())
    }

    /// The first dataset whose pass is not finite names the point, counted over the datasets
    /// before it.
    fn first_nonfinite(&mut self, p: &[f64]) -> Result<usize, FitError> {
        let mut offset = 0;
        for part in &mut self.parts {
            let pass = part.pass(p)?;
            if pass.n_nonfinite > 0 {
                let q = part.p.clone();
                return Ok(offset + part.route.first_nonfinite(&q)?);
            }
            offset += (pass.n_points + pass.n_nonfinite) as usize;
        }
        Ok(0)
    }

    fn unweighted_ssr(&mut self, out: &SolverOutput, _linear: bool) -> Result<f64, FitError> {
        let mut ssr = 0.0;
        for part in &mut self.parts {
            let mut own = out.clone();
            own.x = part.gather(&out.x).to_vec();
            // Not the linear-loss shortcut: the global pass is not this dataset's.
            ssr += part.route.unweighted_ssr(&own, false)?;
        }
        Ok(ssr)
    }

    fn weighted_ssr(&mut self, p: &[f64]) -> Result<f64, FitError> {
        let mut ssr = 0.0;
        for part in &mut self.parts {
            let q = part.gather(p).to_vec();
            ssr += part.route.weighted_ssr(&q)?;
        }
        Ok(ssr)
    }

    /// The datasets' summaries merged; the plan says how each dataset was read.
    fn summary(&mut self, plan: &mut DataPlan) -> DataSummary {
        let mut all: Option<DataSummary> = None;
        for part in &mut self.parts {
            let s = part.route.summary(&mut part.plan);
            all = Some(all.map_or(s, |a| a.merged(&s)));
        }
        *plan = self.plan();
        all.unwrap_or(DataSummary {
            n: 0,
            omitted: 0,
            mean_y: f64::NAN,
            sst: 0.0,
        })
    }

    fn backend(&self) -> String {
        let first = self.parts.first().map(|p| p.route.backend());
        if self.parts.iter().all(|p| Some(p.route.backend()) == first) {
            return first.unwrap_or_default();
        }
        let each: Vec<String> = self
            .parts
            .iter()
            .map(|p| format!("{}: {}", p.label, p.route.backend()))
            .collect();
        each.join("; ")
    }
}

impl GlobalRoute<'_> {
    /// The data plan of the whole fit: the least in-memory mode of any dataset, the sizes
    /// summed, and each dataset's mode and reason.
    fn plan(&self) -> DataPlan {
        let plans: Vec<&DataPlan> = self.parts.iter().map(|p| &p.plan).collect();
        let mode = plans
            .iter()
            .map(|p| p.mode)
            .find(|m| *m != DataMode::InMemory)
            .unwrap_or(DataMode::InMemory);
        let data_bytes = plans.iter().map(|p| p.data_bytes).sum::<Option<u64>>();
        let reason = self
            .parts
            .iter()
            .map(|p| format!("{}: {} ({})", p.label, p.plan.mode, p.plan.reason))
            .collect::<Vec<_>>()
            .join("; ");
        DataPlan {
            mode,
            approximate: plans.iter().any(|p| p.approximate),
            data_bytes,
            host_budget_bytes: plans.iter().map(|p| p.host_budget_bytes).max().unwrap_or(0),
            host_available_bytes: plans
                .iter()
                .map(|p| p.host_available_bytes)
                .max()
                .unwrap_or(0),
            device_budget_bytes: plans.iter().filter_map(|p| p.device_budget_bytes).max(),
            chunk_points: plans.iter().map(|p| p.chunk_points).max().unwrap_or(0),
            chunks_per_pass: plans.iter().map(|p| p.chunks_per_pass).sum(),
            reason,
        }
    }
}
