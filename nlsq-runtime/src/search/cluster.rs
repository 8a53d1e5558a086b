//! Distinct minima: the finished solves grouped by where they ended.
//!
//! Two solves found the same minimum when their costs agree to [`COST_RTOL`] (relative, with
//! an absolute floor of `COST_RTOL` times the smallest positive scale of the problem's cost,
//! so that zero-residual minima agree) and every parameter agrees to `tol` relative to the
//! larger magnitude of the two, with a floor of `tol` times the parameter's range scale (so
//! that parameters converging to 0 agree). Solves are taken best first; each joins the first
//! minimum it matches (its representative is the best solve that reached it), or starts a new
//! one. The result is deterministic: ties are broken by start index.

use super::Minimum;
use crate::solve::Status;

/// Relative agreement of the costs of one minimum.
pub(crate) const COST_RTOL: f64 = 1e-6;

/// A finished solve: its start index, end point, cost and status.
#[derive(Clone, Debug)]
pub(crate) struct Finished {
    pub(crate) start: usize,
    pub(crate) x: Vec<f64>,
    pub(crate) cost: f64,
    pub(crate) status: Status,
}

/// Groups `finished` into distinct minima, best first. `scales` are the parameters' range
/// scales, `cost_floor` the cost below which two costs count as equal (both near zero).
pub(crate) fn distinct(
    mut finished: Vec<Finished>,
    scales: &[f64],
    tol: f64,
    cost_floor: f64,
) -> Vec<Minimum> {
    finished.sort_by(|a, b| a.cost.total_cmp(&b.cost).then(a.start.cmp(&b.start)));
    let mut minima: Vec<Minimum> = Vec::new();
    for f in finished {
        let same = |m: &Minimum| {
            let costs = (f.cost - m.cost).abs() <= COST_RTOL * f.cost.max(m.cost) + cost_floor;
            costs
                && f.x
                    .iter()
                    .zip(&m.params)
                    .zip(scales)
                    .all(|((a, b), s)| (a - b).abs() <= tol * a.abs().max(b.abs()).max(s.abs()))
        };
        match minima.iter_mut().find(|m| same(m)) {
            Some(m) => m.starts += 1,
            None => minima.push(Minimum {
                params: f.x,
                cost: f.cost,
                starts: 1,
                start: f.start,
                status: f.status,
            }),
        }
    }
    minima
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(start: usize, x: &[f64], cost: f64) -> Finished {
        Finished {
            start,
            x: x.to_vec(),
            cost,
            status: Status::Ftol,
        }
    }

    #[test]
    fn groups_by_cost_and_parameters() {
        let f = vec![
            done(3, &[1.0, 2.0], 5.0),
            done(1, &[1.0 + 1e-9, 2.0], 5.0 + 1e-9),
            done(0, &[-1.0, 2.0], 5.0),
            done(2, &[0.5, 0.5], 1.0),
        ];
        let m = distinct(f, &[1.0, 1.0], 1e-4, 0.0);
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].start, m[0].starts), (2, 1));
        assert_eq!((m[1].start, m[1].starts), (0, 1));
        assert_eq!((m[2].start, m[2].starts), (3, 2));
    }
}
