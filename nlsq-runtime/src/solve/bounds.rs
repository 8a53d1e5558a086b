//! Bound-constraint utilities shared by the bounded solvers, after scipy's
//! `scipy/optimize/_lsq/common.py` (same names, same semantics; `lb`/`ub` may hold `∓∞`).

/// Whether `lb ≤ x ≤ ub` componentwise.
pub fn in_bounds(x: &[f64], lb: &[f64], ub: &[f64]) -> bool {
    x.iter()
        .zip(lb.iter().zip(ub))
        .all(|(&x, (&l, &u))| x >= l && x <= u)
}

/// The smallest `t ≥ 0` such that `x + t s` reaches a bound, and per variable whether it is hit
/// at that `t` (`-1` lower, `1` upper, `0` not hit).
///
/// As in scipy, variables with `s_i = 0` never hit; when no bound lies along `s` the step is `+∞`
/// and every variable that moves is reported as hitting.
pub fn step_size_to_bound(x: &[f64], s: &[f64], lb: &[f64], ub: &[f64]) -> (f64, Vec<i8>) {
    let steps: Vec<f64> = (0..x.len())
        .map(|i| {
            if s[i] == 0.0 {
                f64::INFINITY
            } else {
                let a = (lb[i] - x[i]) / s[i];
                let b = (ub[i] - x[i]) / s[i];
                if a.is_nan() || b.is_nan() {
                    f64::NAN
                } else {
                    a.max(b)
                }
            }
        })
        .collect();
    let min_step = steps.iter().copied().fold(f64::INFINITY, f64::min);
    let hits = steps
        .iter()
        .zip(s)
        .map(|(&t, &si)| {
            if t == min_step && si != 0.0 {
                if si > 0.0 { 1 } else { -1 }
            } else {
                0
            }
        })
        .collect();
    (min_step, hits)
}

/// Which bounds are active at `x`: `-1` at the lower bound, `1` at the upper, `0` free.
///
/// With `rtol > 0` a bound is active when `x` is within `rtol · max(1, |bound|)` of it (and not
/// nearer the other one); with `rtol = 0` only when `x` is on or beyond it.
pub fn find_active_constraints(x: &[f64], lb: &[f64], ub: &[f64], rtol: f64) -> Vec<i8> {
    (0..x.len())
        .map(|i| {
            let (x, l, u) = (x[i], lb[i], ub[i]);
            if rtol == 0.0 {
                return if x >= u {
                    1
                } else if x <= l {
                    -1
                } else {
                    0
                };
            }
            let lower_dist = x - l;
            let upper_dist = u - x;
            let lower_threshold = rtol * l.abs().max(1.0);
            let upper_threshold = rtol * u.abs().max(1.0);
            let mut active = 0;
            if l.is_finite() && lower_dist <= upper_dist.min(lower_threshold) {
                active = -1;
            }
            if u.is_finite() && upper_dist <= lower_dist.min(upper_threshold) {
                active = 1;
            }
            active
        })
        .collect()
}

/// Moves `x` into the interior: every variable at least `rstep · max(1, |bound|)` from its
/// nearest bound, or one ulp inside it with `rstep = 0`; variables whose bounds are too close
/// for that go to the middle of their interval.
pub fn make_strictly_feasible(x: &[f64], lb: &[f64], ub: &[f64], rstep: f64) -> Vec<f64> {
    let active = find_active_constraints(x, lb, ub, rstep);
    (0..x.len())
        .map(|i| {
            let (l, u) = (lb[i], ub[i]);
            let mut xi = match active[i] {
                -1 if rstep == 0.0 => l.next_up(),
                1 if rstep == 0.0 => u.next_down(),
                -1 => l + rstep * l.abs().max(1.0),
                1 => u - rstep * u.abs().max(1.0),
                _ => x[i],
            };
            if xi < l || xi > u {
                xi = 0.5 * (l + u);
            }
            xi
        })
        .collect()
}

/// The Coleman–Li scaling vector `v` and its derivative `dv` (diagonal of `∂v/∂x`):
/// `v_i = ub_i − x_i` (`dv_i = −1`) where `g_i < 0` and `ub_i` is finite, `v_i = x_i − lb_i`
/// (`dv_i = 1`) where `g_i > 0` and `lb_i` is finite, otherwise `v_i = 1`, `dv_i = 0`.
pub fn cl_scaling_vector(x: &[f64], g: &[f64], lb: &[f64], ub: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![1.0; x.len()];
    let mut dv = vec![0.0; x.len()];
    for i in 0..x.len() {
        if g[i] < 0.0 && ub[i].is_finite() {
            v[i] = ub[i] - x[i];
            dv[i] = -1.0;
        }
        if g[i] > 0.0 && lb[i].is_finite() {
            v[i] = x[i] - lb[i];
            dv[i] = 1.0;
        }
    }
    (v, dv)
}

/// The roots `t₋ ≤ t₊` of `‖x + t s‖ = Δ` (the line through `x` along `s` meets the sphere).
///
/// scipy raises when `s = 0` or `x` lies outside the sphere; here `s = 0` gives `(0, 0)` and a
/// point outside by rounding is treated as on the sphere.
pub fn intersect_trust_region(x: &[f64], s: &[f64], delta: f64) -> (f64, f64) {
    let a = dot(s, s);
    if a == 0.0 {
        return (0.0, 0.0);
    }
    let b = dot(x, s);
    let c = (dot(x, x) - delta * delta).min(0.0);
    let d = (b * b - a * c).max(0.0).sqrt();
    let q = -(b + d.copysign(b));
    if q == 0.0 {
        return (0.0, 0.0);
    }
    let t1 = q / a;
    let t2 = c / q;
    if t1 < t2 { (t1, t2) } else { (t2, t1) }
}

/// `Σ a_i b_i`.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// Euclidean norm, safe from overflow and underflow.
pub(crate) fn norm(a: &[f64]) -> f64 {
    let scale = norm_inf(a);
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    scale * a.iter().map(|v| (v / scale).powi(2)).sum::<f64>().sqrt()
}

/// Max-norm.
pub(crate) fn norm_inf(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m: f64, v| {
        if v.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(v.abs())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INF: f64 = f64::INFINITY;

    #[test]
    fn in_bounds_is_inclusive() {
        assert!(in_bounds(&[0.0, 1.0], &[0.0, -INF], &[1.0, 1.0]));
        assert!(!in_bounds(&[-1e-300, 1.0], &[0.0, -INF], &[1.0, 1.0]));
    }

    #[test]
    fn step_to_bound_finds_first_hit() {
        let (t, hits) = step_size_to_bound(
            &[0.0, 0.0, 0.0],
            &[1.0, -2.0, 0.0],
            &[-1.0, -1.0, -1.0],
            &[2.0, 2.0, 2.0],
        );
        assert_eq!(t, 0.5);
        assert_eq!(hits, [0, -1, 0]);
        let (t, hits) = step_size_to_bound(&[0.0], &[1.0], &[-INF], &[INF]);
        assert_eq!(t, INF);
        assert_eq!(hits, [1]);
    }

    #[test]
    fn active_constraints_like_scipy() {
        let lb = [0.0, -INF, 0.0, 100.0];
        let ub = [1.0, 1.0, INF, 200.0];
        let x = [1e-11, 1.0 - 1e-11, 5.0, 200.0 - 1e-9];
        assert_eq!(find_active_constraints(&x, &lb, &ub, 1e-10), [-1, 1, 0, 1]);
        assert_eq!(find_active_constraints(&x, &lb, &ub, 0.0), [0, 0, 0, 0]);
        assert_eq!(
            find_active_constraints(&[0.0, 1.0, 5.0, 150.0], &lb, &ub, 0.0),
            [-1, 1, 0, 0]
        );
    }

    #[test]
    fn strictly_feasible_moves_inside() {
        let lb = [0.0, -INF, 1000.0, 0.0];
        let ub = [1.0, 1.0, INF, 1e-12];
        let x = [0.0, 1.0, 1000.0, 0.0];
        let y = make_strictly_feasible(&x, &lb, &ub, 1e-10);
        assert_eq!(y[0], 1e-10);
        assert_eq!(y[1], 1.0 - 1e-10);
        assert_eq!(y[2], 1000.0 + 1e-7);
        assert_eq!(y[3], 0.5e-12);
        let z = make_strictly_feasible(&x, &lb, &ub, 0.0);
        assert_eq!(z[0], 0.0f64.next_up());
        assert_eq!(z[1], 1.0f64.next_down());
        assert_eq!(z[2], 1000.0f64.next_up());
    }

    #[test]
    fn cl_scaling() {
        let (v, dv) = cl_scaling_vector(
            &[0.5, 0.5, 0.5, 0.5],
            &[-1.0, 1.0, -1.0, 0.0],
            &[0.0, 0.0, -INF, 0.0],
            &[2.0, 2.0, INF, 2.0],
        );
        assert_eq!(v, [1.5, 0.5, 1.0, 1.0]);
        assert_eq!(dv, [-1.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn trust_region_intersection() {
        let (a, b) = intersect_trust_region(&[0.0, 0.0], &[3.0, 4.0], 10.0);
        assert!((a + 2.0).abs() < 1e-15 && (b - 2.0).abs() < 1e-15);
        let (a, b) = intersect_trust_region(&[1.0, 0.0], &[1.0, 0.0], 2.0);
        assert!((a + 3.0).abs() < 1e-15 && (b - 1.0).abs() < 1e-15);
    }

    #[test]
    fn norms() {
        assert_eq!(norm(&[3.0, 4.0]), 5.0);
        assert!((norm(&[3e200, 4e200]) / 5e200 - 1.0).abs() < 1e-15);
        assert_eq!(norm_inf(&[3.0, -4.0]), 4.0);
        assert_eq!(norm(&[]), 0.0);
    }
}
