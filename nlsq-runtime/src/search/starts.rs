//! Start points: `p0` and `K − 1` points of an Owen-scrambled Sobol sequence
//! ([`sobol_burley`]), each coordinate mapped into its parameter's range by one rule
//! ([`Range`]): uniform within two finite bounds, log-uniform in distance from a single finite
//! bound, and log-uniform in magnitude around `p0` with both signs where a parameter is
//! unbounded. The rule depends on the bounds and `p0` only, never on the problem.

/// Coordinates of a Sobol point per sequence: the dimensions [`sobol_burley`] tabulates.
/// Parameter `j` uses dimension `j mod 256`, scrambled with a seed derived from `j / 256`, so
/// any number of parameters gets well-spread coordinates.
const DIMENSIONS: usize = sobol_burley::NUM_DIMENSIONS as usize;

/// The largest number of starts: the Sobol sequence's length (2¹⁶).
pub const MAX_STARTS: usize = 1 << 16;

/// How one parameter's coordinate `u ∈ [0, 1)` becomes a value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Range {
    /// Both bounds finite: `lo + u (hi − lo)`; log-uniform instead when `0 < lo` and
    /// `hi / lo ≥ 10³` (a positive range over several decades), and mirrored for
    /// `hi < 0`, `lo / hi ≥ 10³`.
    Box { lo: f64, hi: f64 },
    /// One finite bound `edge` (the other infinite): `edge + side · d`, with `d` log-uniform
    /// in `[s 10^−D, s 10^D]`, `s = |p0 − edge|` (or `max(|p0|, 1)` when p0 is on the bound),
    /// `side` +1 for a lower bound and −1 for an upper one.
    Half { edge: f64, side: f64, scale: f64 },
    /// No finite bound: `±m`, `m` log-uniform in `[s 10^−D, s 10^D]` with `s = |p0|`
    /// (1 when p0 = 0): the lower half of `u` gives p0's sign, the upper half the other.
    Free { scale: f64, sign: f64 },
}

impl Range {
    /// The range of a parameter with start `p0` within `[lo, hi]` (both may be infinite).
    pub(crate) fn new(p0: f64, lo: f64, hi: f64) -> Range {
        match (lo.is_finite(), hi.is_finite()) {
            (true, true) => Range::Box { lo, hi },
            (true, false) | (false, true) => {
                let (edge, side) = if lo.is_finite() {
                    (lo, 1.0)
                } else {
                    (hi, -1.0)
                };
                let d = (p0 - edge).abs();
                let scale = if d > 0.0 { d } else { p0.abs().max(1.0) };
                Range::Half { edge, side, scale }
            }
            (false, false) => Range::Free {
                scale: if p0 != 0.0 { p0.abs() } else { 1.0 },
                sign: if p0 < 0.0 { -1.0 } else { 1.0 },
            },
        }
    }

    /// The characteristic size of the range (for telling minima apart): the width of a box,
    /// the scale otherwise.
    pub(crate) fn scale(&self) -> f64 {
        match *self {
            Range::Box { lo, hi } => hi - lo,
            Range::Half { scale, .. } | Range::Free { scale, .. } => scale,
        }
    }

    /// The value at coordinate `u ∈ [0, 1)`, within the bounds, `decades` each side of the
    /// scale for the unbounded rules.
    pub(crate) fn value(&self, u: f64, decades: f64) -> f64 {
        let log_uniform = |t: f64, s: f64| s * 10f64.powf(decades * (2.0 * t - 1.0));
        match *self {
            Range::Box { lo, hi } => {
                let v = if lo > 0.0 && hi / lo >= 1e3 {
                    lo * (hi / lo).powf(u)
                } else if hi < 0.0 && lo / hi >= 1e3 {
                    hi * (lo / hi).powf(u)
                } else {
                    lo + u * (hi - lo)
                };
                v.clamp(lo, hi)
            }
            Range::Half { edge, side, scale } => {
                let v = edge + side * log_uniform(u, scale);
                // Rounding may land on the bound, never across it.
                if side > 0.0 { v.max(edge) } else { v.min(edge) }
            }
            Range::Free { scale, sign } => {
                let (t, s) = if u < 0.5 {
                    (2.0 * u, sign)
                } else {
                    (2.0 * u - 1.0, -sign)
                };
                s * log_uniform(t, scale)
            }
        }
    }
}

/// The ranges of every parameter.
pub(crate) fn ranges(p0: &[f64], lower: &[f64], upper: &[f64]) -> Vec<Range> {
    let bound = |v: &[f64], j: usize, none: f64| v.get(j).copied().unwrap_or(none);
    p0.iter()
        .enumerate()
        .map(|(j, &p)| {
            Range::new(
                p,
                bound(lower, j, f64::NEG_INFINITY),
                bound(upper, j, f64::INFINITY),
            )
        })
        .collect()
}

/// `k` starts: `p0` first, then Sobol points `0..k − 1` of the sequence scrambled by `seed`,
/// mapped through `ranges` (`k ≤` [`MAX_STARTS`]). Deterministic for a given seed.
pub(crate) fn starts(
    p0: &[f64],
    ranges: &[Range],
    k: usize,
    seed: u32,
    decades: f64,
) -> Vec<Vec<f64>> {
    let mut out = Vec::with_capacity(k);
    out.push(p0.to_vec());
    for i in 1..k.min(MAX_STARTS) {
        let point = ranges
            .iter()
            .enumerate()
            .map(|(j, range)| {
                let dim = (j % DIMENSIONS) as u32;
                let group = (j / DIMENSIONS) as u32;
                let s = seed ^ group.wrapping_mul(0x9E37_79B9);
                let u = f64::from(sobol_burley::sample((i - 1) as u32, dim, s));
                range.value(u, decades)
            })
            .collect();
        out.push(point);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_respect_bounds_and_begin_with_p0() {
        let p0 = [1.0, -3.0, 0.0, 5.0];
        let lo = [0.0, f64::NEG_INFINITY, f64::NEG_INFINITY, 2.0];
        let hi = [10.0, 0.0, f64::INFINITY, f64::INFINITY];
        let r = ranges(&p0, &lo, &hi);
        let s = starts(&p0, &r, 200, 7, 2.0);
        assert_eq!(s.len(), 200);
        assert_eq!(s[0], p0);
        for p in &s {
            for j in 0..4 {
                assert!(lo[j] <= p[j] && p[j] <= hi[j], "{p:?}");
            }
        }
        // The free parameter takes both signs, over several decades.
        assert!(s.iter().any(|p| p[2] < -10.0) && s.iter().any(|p| p[2] > 10.0));
        assert!(s.iter().any(|p| p[2].abs() < 0.1));
        assert_eq!(s, starts(&p0, &r, 200, 7, 2.0));
        assert_ne!(s, starts(&p0, &r, 200, 8, 2.0));
    }

    #[test]
    fn many_parameters_get_distinct_coordinates() {
        let p0 = vec![1.0; 600];
        let r = ranges(&p0, &[], &[]);
        let s = starts(&p0, &r, 4, 1, 1.0);
        assert_ne!(s[1][3], s[1][3 + DIMENSIONS]);
    }
}
