//! Start points: `p0` and `K − 1` points of an Owen-scrambled Sobol sequence
//! ([`sobol_burley`]), each coordinate mapped into its parameter's range by one rule
//! ([`Range`]): uniform within two finite bounds, log-uniform in distance from a single finite
//! bound, and log-uniform in magnitude around `p0` with both signs where a parameter is
//! unbounded. Where the model says what a parameter does ([`Hints`]) and the data's ranges are
//! known, a parameter not bounded on both sides follows its role instead: a location within
//! its predictor's range, a rate over length scales of that range. The rules depend on the
//! bounds, `p0`, the model's expression and the predictors' ranges, never on the observations.

use kernels_gen::roles::Role;

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
    /// A rate of power `power` of a predictor whose data span `span` ([`Role::Rate`]):
    /// `sign · ℓ^−power`, the length `ℓ` log-uniform from `span / 100` to `10 span` (both signs
    /// when `sign` is 0, as for [`Range::Free`]), within `[lo, hi]`.
    Length {
        sign: f64,
        power: i32,
        span: f64,
        lo: f64,
        hi: f64,
    },
}

/// The shortest length scale of a rate's starts, as a fraction of its predictor's span.
pub(crate) const SHORTEST: f64 = 1e-2;
/// The longest length scale of a rate's starts, in spans of its predictor.
pub(crate) const LONGEST: f64 = 10.0;

/// What the model and the data say about where starts should lie.
#[derive(Clone, Debug, Default)]
pub(crate) struct Hints {
    /// Each parameter's role in the model, when the model knows them.
    pub(crate) roles: Option<Vec<Role>>,
    /// Each predictor's smallest and largest finite value in the data, when known.
    pub(crate) inputs: Option<Vec<(f64, f64)>>,
}

impl Hints {
    /// The parameters the model is affine in, jointly (solved at each start).
    pub(crate) fn linear(&self) -> Vec<usize> {
        self.roles
            .iter()
            .flatten()
            .enumerate()
            .filter(|(_, r)| **r == Role::Linear)
            .map(|(j, _)| j)
            .collect()
    }

    /// The range of predictor `k` in the data, when known and of positive width.
    fn input(&self, k: u32) -> Option<(f64, f64)> {
        let (lo, hi) = *self.inputs.as_ref()?.get(k as usize)?;
        (lo.is_finite() && hi.is_finite() && hi > lo).then_some((lo, hi))
    }

    /// The range parameter `j` (start `p0`, bounds `lo`, `hi`, not both finite) takes from
    /// its role, when it has one the data can size.
    fn range(&self, j: usize, p0: f64, lo: f64, hi: f64) -> Option<Range> {
        match *self.roles.as_ref()?.get(j)? {
            Role::Location { input } => {
                let (a, b) = self.input(input)?;
                let (a, b) = (a.max(lo), b.min(hi));
                (a < b).then_some(Range::Box { lo: a, hi: b })
            }
            Role::Rate { input, power } => {
                let (a, b) = self.input(input)?;
                let sign = if p0 > 0.0 || (p0 == 0.0 && lo >= 0.0) {
                    1.0
                } else if p0 < 0.0 || (p0 == 0.0 && hi <= 0.0) {
                    -1.0
                } else {
                    0.0
                };
                Some(Range::Length {
                    sign,
                    power,
                    span: b - a,
                    lo,
                    hi,
                })
            }
            Role::Linear | Role::Other => None,
        }
    }
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
            Range::Length { power, span, .. } => span.powi(-power),
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
            Range::Length {
                sign,
                power,
                span,
                lo,
                hi,
            } => {
                let (t, s) = if sign != 0.0 {
                    (u, sign)
                } else if u < 0.5 {
                    (2.0 * u, 1.0)
                } else {
                    (2.0 * u - 1.0, -1.0)
                };
                let length = span * SHORTEST * (LONGEST / SHORTEST).powf(t);
                (s * length.powi(-power)).clamp(lo, hi)
            }
        }
    }
}

/// The ranges of every parameter: by its role where `hints` give one and it is not bounded on
/// both sides, else by its bounds and `p0`.
pub(crate) fn ranges(p0: &[f64], lower: &[f64], upper: &[f64], hints: &Hints) -> Vec<Range> {
    let bound = |v: &[f64], j: usize, none: f64| v.get(j).copied().unwrap_or(none);
    p0.iter()
        .enumerate()
        .map(|(j, &p)| {
            let (lo, hi) = (
                bound(lower, j, f64::NEG_INFINITY),
                bound(upper, j, f64::INFINITY),
            );
            let boxed = lo.is_finite() && hi.is_finite();
            let by_role = if boxed {
                None
            } else {
                hints.range(j, p, lo, hi)
            };
            by_role.unwrap_or_else(|| Range::new(p, lo, hi))
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
        let r = ranges(&p0, &lo, &hi, &Hints::default());
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
    fn roles_give_locations_within_the_data_and_rates_over_its_length_scales() {
        let hints = Hints {
            roles: Some(vec![
                Role::Linear,
                Role::Location { input: 0 },
                Role::Rate { input: 0, power: 2 },
                Role::Rate {
                    input: 1,
                    power: -1,
                },
                Role::Location { input: 1 },
                Role::Other,
            ]),
            inputs: Some(vec![(2.0, 6.0), (-1.0, 1.0)]),
        };
        let p0 = [5.0, 50.0, 70.0, -3.0, 0.5, 2.0];
        let inf = f64::INFINITY;
        let lo = [-inf, -inf, 0.0, -inf, 0.0, -inf];
        let hi = [inf, inf, inf, inf, 0.25, inf];
        let r = ranges(&p0, &lo, &hi, &hints);
        assert_eq!(
            r[0],
            Range::new(5.0, -inf, inf),
            "linear: solved, not drawn"
        );
        assert_eq!(r[1], Range::Box { lo: 2.0, hi: 6.0 });
        assert_eq!(
            r[4],
            Range::Box { lo: 0.0, hi: 0.25 },
            "both bounds: the box"
        );
        assert_eq!(r[5], Range::new(2.0, -inf, inf));
        let s = starts(&p0, &r, 512, 3, 2.0);
        for p in &s[1..] {
            assert!((2.0..=6.0).contains(&p[1]));
            // w = ℓ⁻², ℓ from 4/100 to 40: w from 1/1600 to 625.
            assert!(
                p[2] > 0.0 && (1.0 / 1600.0 * 0.999..=625.0 * 1.001).contains(&p[2]),
                "{}",
                p[2]
            );
            // s = −ℓ (p0's sign), ℓ from 2/100 to 20.
            assert!((-20.0 * 1.001..=-0.02 * 0.999).contains(&p[3]), "{}", p[3]);
        }
        // The lengths spread over the whole range, log-uniformly.
        let short = s[1..]
            .iter()
            .filter(|p| p[2] > 1.0 / 0.4f64.powi(2))
            .count();
        assert!(
            (100..=200).contains(&short),
            "{short} of 511 below a tenth of the span"
        );
        // Without the data's ranges, a role gives no range.
        let bare = Hints {
            inputs: None,
            ..hints.clone()
        };
        assert_eq!(
            ranges(&p0, &lo, &hi, &bare),
            ranges(&p0, &lo, &hi, &Hints::default())
        );
        assert_eq!(hints.linear(), [0]);
    }

    #[test]
    fn many_parameters_get_distinct_coordinates() {
        let p0 = vec![1.0; 600];
        let r = ranges(&p0, &[], &[], &Hints::default());
        let s = starts(&p0, &r, 4, 1, 1.0);
        assert_ne!(s[1][3], s[1][3 + DIMENSIONS]);
    }
}
