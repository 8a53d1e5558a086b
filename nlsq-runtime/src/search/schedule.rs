//! The elimination schedule of a multi-start search (successive halving):
//!
//! 1. **Screen.** Cost-only K-vector passes ([`Objective::costs`]) at all K starts, at most
//!    [`LOCKSTEP_MAX`] vectors per pass (a K-pass holds K partial sums per chunk). Starts
//!    whose cost is not finite are dropped; of the rest, the best half (at least
//!    [`MultiStart::refine`], at most [`LOCKSTEP_MAX`]) go on, ties broken by start index.
//! 2. **Rounds.** While more than `refine` starts go on, all of them run the fit's own method
//!    and tolerances in lockstep (one K-vector pass per step of all running solves) for a
//!    budget of [`FIRST_ROUND_PASSES`] passes each, doubled every round, continuing from
//!    where the last round left them. A solve that converges within its budget has found a
//!    minimum and leaves the race; of the others, the better half by cost (at least `refine`)
//!    goes on to the next round, the rest are dropped.
//! 3. **Refine.** The remaining starts are solved to convergence in lockstep with the fit's
//!    own method and options, `max_nfev` included. A refinement that runs out of passes has
//!    found no minimum and is left out (unless no solve converged at all).
//! 4. **Cluster.** Every converged or refined solve is grouped into distinct minima
//!    ([`super::cluster`]), best first.
//!
//! A start whose solve fails (a first pass that is not finite, typically) is dropped; an
//! error of the objective itself ends the search.

use super::cluster::{Finished, distinct};
use super::lockstep::{Counts, solve_all};
use super::starts::{Hints, ranges, starts};
use super::{MultiStart, SearchReport};
use crate::error::FitError;
use crate::solve::{Method, Objective, SolverOptions};

/// Passes per start in the first round; each later round doubles it.
pub const FIRST_ROUND_PASSES: usize = 10;

/// The most starts that iterate in lockstep (one thread each) after screening, and the most
/// vectors of one screening pass.
pub const LOCKSTEP_MAX: usize = 256;

/// A start still in the race: its index, current point and cost there.
struct Runner {
    start: usize,
    x: Vec<f64>,
    cost: f64,
}

/// Runs the search of `ms` on `obj` from `p0` with `method` and `opts` (the fit's method and
/// checked options, bounds included). `ms` must have been checked.
pub(crate) fn search(
    obj: &mut dyn Objective,
    method: Method,
    opts: &SolverOptions,
    p0: &[f64],
    ms: &MultiStart,
    hints: &Hints,
) -> Result<SearchReport, FitError> {
    let ranges = ranges(p0, &opts.lower, &opts.upper, hints);
    let mut points = starts(p0, &ranges, ms.starts, ms.seed, ms.decades);
    let mut counts = Counts::default();
    // 1. Screen, the model's linear parameters solved at each start first.
    let linear = hints.linear();
    if !linear.is_empty() && points.len() > 1 {
        solve_linear(obj, &mut points[1..], &linear, opts, &mut counts)?;
    }
    let views: Vec<&[f64]> = points.iter().map(|p| p.as_slice()).collect();
    let mut costs = Vec::with_capacity(views.len());
    for batch in views.chunks(LOCKSTEP_MAX) {
        costs.extend(obj.costs(batch)?);
        counts.k_passes += 1;
        counts.vectors += batch.len();
    }
    let cost_floor = COST_FLOOR * costs.first().map_or(0.0, |c| c.abs().min(f64::MAX));
    let mut runners: Vec<Runner> = points
        .into_iter()
        .zip(costs)
        .enumerate()
        .filter(|(_, (_, c))| c.is_finite())
        .map(|(start, (x, cost))| Runner { start, x, cost })
        .collect();
    let finite = runners.len();
    let refine = ms.refine.max(1);
    let keep = runners.len().div_ceil(2).max(refine).min(LOCKSTEP_MAX);
    select_best(&mut runners, keep);
    // 2. Rounds.
    let mut finished = Vec::new();
    let mut budget = FIRST_ROUND_PASSES;
    let mut rounds = 0;
    while runners.len() > refine {
        rounds += 1;
        let round = SolverOptions {
            max_nfev: Some(budget),
            ..opts.clone()
        };
        let outs = solve_all(obj, method, &round, &xs(&runners), &mut counts)?;
        let mut next = Vec::new();
        for (r, out) in runners.into_iter().zip(outs) {
            let Ok(out) = out else { continue };
            let cost = out.pass.cost;
            if !cost.is_finite() {
                continue;
            }
            if out.status.converged() {
                finished.push(Finished {
                    start: r.start,
                    x: out.x,
                    cost,
                    status: out.status,
                });
            } else {
                next.push(Runner {
                    start: r.start,
                    x: out.x,
                    cost,
                });
            }
        }
        let keep = next.len().div_ceil(2).max(refine);
        select_best(&mut next, keep);
        runners = next;
        budget = budget.saturating_mul(2);
    }
    // 3. Refine. A refinement that ran out of passes ended at no minimum: it only counts
    // when no solve converged at all (the result is then the best point reached).
    let outs = solve_all(obj, method, opts, &xs(&runners), &mut counts)?;
    let mut unconverged = Vec::new();
    for (r, out) in runners.into_iter().zip(outs) {
        if let Ok(out) = out
            && out.pass.cost.is_finite()
        {
            let done = Finished {
                start: r.start,
                x: out.x,
                cost: out.pass.cost,
                status: out.status,
            };
            if out.status.converged() {
                finished.push(done);
            } else {
                unconverged.push(done);
            }
        }
    }
    if finished.is_empty() {
        finished = unconverged;
    }
    // 4. Cluster.
    let scales: Vec<f64> = ranges.iter().map(|r| r.scale()).collect();
    let converged = finished.len();
    let minima = distinct(finished, &scales, ms.distinct_tol, cost_floor);
    Ok(SearchReport {
        starts: ms.starts,
        seed: ms.seed,
        finite_starts: finite,
        rounds,
        solves: converged,
        k_passes: counts.k_passes,
        vectors: counts.vectors,
        minima,
    })
}

/// Moves each point's `linear` parameters to where the cost is least with the others held
/// (one Gauss–Newton step on them: exact for a model affine in them under the linear loss),
/// within the bounds. Points whose pass or step is not finite stay as they are.
fn solve_linear(
    obj: &mut dyn Objective,
    points: &mut [Vec<f64>],
    linear: &[usize],
    opts: &SolverOptions,
    counts: &mut Counts,
) -> Result<(), FitError> {
    for batch in points.chunks_mut(LOCKSTEP_MAX) {
        let views: Vec<&[f64]> = batch.iter().map(|p| p.as_slice()).collect();
        let passes = obj.passes(&views)?;
        counts.k_passes += 1;
        counts.vectors += batch.len();
        for (p, pass) in batch.iter_mut().zip(passes) {
            if !pass.is_finite() {
                continue;
            }
            let h = pass.jtj.select_rows(linear).select_columns(linear);
            let g = -pass.gradient.select_rows(linear);
            // Directions of `JᵀJ` below 1e-10 of its norm (columns below about 1e-5 of the
            // largest: a peak outside the data, say) are left alone, not fitted with huge
            // amplitudes.
            let eps = LINEAR_RCOND * h.norm();
            let Ok(step) = h.svd(true, true).solve(&g, eps) else {
                continue;
            };
            if step.iter().all(|s| s.is_finite()) {
                for (&j, s) in linear.iter().zip(step.iter()) {
                    let lo = opts.lower.get(j).copied().unwrap_or(f64::NEG_INFINITY);
                    let hi = opts.upper.get(j).copied().unwrap_or(f64::INFINITY);
                    p[j] = (p[j] + s).clamp(lo, hi);
                }
            }
        }
    }
    Ok(())
}

/// The relative size under which a direction of the linear parameters' `JᵀJ` is not solved
/// for ([`solve_linear`]).
const LINEAR_RCOND: f64 = 1e-10;

/// Below this fraction of the cost at p0, two costs count as equal (zero-residual minima).
const COST_FLOOR: f64 = 1e-14;

/// Keeps the `keep` runners of lowest cost (ties: lower start index first), in that order.
fn select_best(runners: &mut Vec<Runner>, keep: usize) {
    runners.sort_by(|a, b| a.cost.total_cmp(&b.cost).then(a.start.cmp(&b.start)));
    runners.truncate(keep);
}

fn xs(runners: &[Runner]) -> Vec<Vec<f64>> {
    runners.iter().map(|r| r.x.clone()).collect()
}
