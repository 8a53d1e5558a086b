//! Profile-likelihood intervals against a brute-force profile of the cost (issue 15, item 4),
//! computed without `conf_interval`, the solver or the expression compiler: the model is a
//! Rust closure, and for each value `v` of the profiled parameter the other parameter is
//! minimised by a dense grid and a golden-section refinement. The ends are where
//! `χ²(v) − χ²_min` crosses lmfit's F-test threshold `χ²_min · F₀.₉₅(1, ν) / ν` (`F₀.₉₅(1, ν) =
//! t₀.₉₇₅(ν)²`, from statrs), found by scanning `v` outward on a fine grid and bisecting the
//! crossing. Both ends must agree with `conf_interval`'s to `1e-6` of their distance from the
//! best fit (the test's stated tolerance; the brute force itself is far more precise).

use nlsq_runtime::conf_interval::{Refit, conf_interval};
use nlsq_runtime::{CurveFit, ExprModel, FitError, FitResult};
use statrs::distribution::{ContinuousCDF, StudentsT};

mod common;
use common::scattered as data;

/// Agreement required of each end, relative to its distance from the best fit.
const TOLERANCE: f64 = 1e-6;
/// Points of the inner parameter's grid.
const INNER_GRID: usize = 401;
/// Steps of the outer scan per standard error of the profiled parameter.
const OUTER_STEPS_PER_SE: f64 = 50.0;

/// A two-parameter model `f(x, p)` and its data.
struct Problem {
    f: fn(f64, [f64; 2]) -> f64,
    x: Vec<f64>,
    y: Vec<f64>,
}

impl Problem {
    fn chi2(&self, p: [f64; 2]) -> f64 {
        self.x
            .iter()
            .zip(&self.y)
            .map(|(&x, &y)| (y - (self.f)(x, p)).powi(2))
            .sum()
    }

    /// `min_q χ²` with parameter `j` at `v` and the other, `q`, searched in `[lo, hi]`: the
    /// best of a dense grid, then golden-section search between its neighbours.
    fn profile(&self, j: usize, v: f64, (lo, hi): (f64, f64)) -> f64 {
        let at = |q: f64| {
            let mut p = [0.0; 2];
            p[j] = v;
            p[1 - j] = q;
            self.chi2(p)
        };
        let grid: Vec<f64> = (0..INNER_GRID)
            .map(|i| lo + (hi - lo) * i as f64 / (INNER_GRID - 1) as f64)
            .collect();
        let best = (0..INNER_GRID)
            .min_by(|&a, &b| at(grid[a]).total_cmp(&at(grid[b])))
            .unwrap();
        assert!(
            best > 0 && best < INNER_GRID - 1,
            "the inner minimum at v = {v} is at the edge of [{lo}, {hi}]"
        );
        let (mut a, mut b) = (grid[best - 1], grid[best + 1]);
        let r = (5f64.sqrt() - 1.0) / 2.0;
        let (mut c, mut d) = (b - r * (b - a), a + r * (b - a));
        let (mut fc, mut fd) = (at(c), at(d));
        for _ in 0..200 {
            if b - a <= 1e-15 * (a.abs() + b.abs()) {
                break;
            }
            if fc < fd {
                (b, d, fd) = (d, c, fc);
                c = b - r * (b - a);
                fc = at(c);
            } else {
                (a, c, fc) = (c, d, fd);
                d = a + r * (b - a);
                fd = at(d);
            }
        }
        fc.min(fd).min(at(grid[best]))
    }

    /// The brute-force interval of parameter `j`: `(lower, upper, χ²_min, threshold)`.
    fn interval(&self, j: usize, fit: &FitResult) -> (f64, f64, f64, f64) {
        let (v0, se) = (fit.popt[j], fit.perr[j]);
        let (q0, qse) = (fit.popt[1 - j], fit.perr[1 - j]);
        let range = (q0 - 30.0 * qse, q0 + 30.0 * qse);
        let chi2_min = self.profile(j, v0, range);
        let dof = self.x.len() - 2;
        let t = StudentsT::new(0.0, 1.0, dof as f64)
            .unwrap()
            .inverse_cdf(0.975);
        let threshold = chi2_min * t * t / dof as f64;
        let excess = |v: f64| self.profile(j, v, range) - chi2_min - threshold;
        let end = |dir: f64| {
            let h = dir * se / OUTER_STEPS_PER_SE;
            let mut inside = v0;
            let mut k = 1.0;
            while excess(v0 + k * h) <= 0.0 {
                inside = v0 + k * h;
                k += 1.0;
                assert!(k < 100.0 * OUTER_STEPS_PER_SE, "no crossing within 100 se");
            }
            let mut outside = v0 + k * h;
            while (outside - inside).abs() > 1e-14 * (v0.abs() + se) {
                let mid = 0.5 * (inside + outside);
                if excess(mid) <= 0.0 {
                    inside = mid;
                } else {
                    outside = mid;
                }
            }
            0.5 * (inside + outside)
        };
        (end(-1.0), end(1.0), chi2_min, threshold)
    }
}

fn refit<'a>(
    x: &'a [f64],
    y: &'a [f64],
) -> impl FnMut(&Refit<'_>) -> Result<FitResult, FitError> + 'a {
    move |r| CurveFit::new(r.model).p0(r.p0.to_vec()).fit(x, y)
}

/// Fits `expr` (the same function as `problem.f`) and compares each parameter's interval;
/// returns the intervals `(lower, value, upper)`.
fn compare(expr: &str, names: [&str; 2], problem: &Problem, p0: [f64; 2]) -> Vec<(f64, f64, f64)> {
    let model = ExprModel::parse(expr).unwrap();
    let fit = CurveFit::new(&model)
        .p0(p0)
        .fit(&problem.x, &problem.y)
        .unwrap();
    assert!(fit.success, "{}", fit.message);
    assert_eq!(fit.param_names, names);
    (0..2)
        .map(|j| {
            let ci = conf_interval(&model, &fit, names[j], refit(&problem.x, &problem.y)).unwrap();
            let (lower, upper, chi2_min, threshold) = problem.interval(j, &fit);
            assert!(
                (chi2_min - ci.chi2_min).abs() <= 1e-10 * ci.chi2_min,
                "{}: χ²_min {chi2_min} vs {}",
                names[j],
                ci.chi2_min
            );
            assert!(
                (threshold - ci.threshold).abs() <= 1e-10 * ci.threshold,
                "{}: threshold {threshold} vs {}",
                names[j],
                ci.threshold
            );
            for (side, brute, got) in [("lower", lower, ci.lower), ("upper", upper, ci.upper)] {
                let scale = (brute - ci.value).abs();
                eprintln!(
                    "{} {side}: brute force {brute}, conf_interval {got}, relative {:e}",
                    names[j],
                    (brute - got).abs() / scale
                );
                assert!(
                    (brute - got).abs() <= TOLERANCE * scale,
                    "{} {side}: brute force {brute}, conf_interval {got} (relative {:e})",
                    names[j],
                    (brute - got).abs() / scale
                );
            }
            (ci.lower, ci.value, ci.upper)
        })
        .collect()
}

/// `(upper − value) / (value − lower)`.
fn skew((lower, value, upper): (f64, f64, f64)) -> f64 {
    (upper - value) / (value - lower)
}

#[test]
fn decay_profile_matches_brute_force_and_is_asymmetric() {
    let (x, y) = data(12, 0.5, 0.4, |x| 3.0 * (-0.9 * x).exp());
    let problem = Problem {
        f: |x, [a, b]| a * (-b * x).exp(),
        x,
        y,
    };
    let ci = compare("a * exp(-b * x)", ["a", "b"], &problem, [1.0, 1.0]);
    let s = skew(ci[1]);
    assert!(
        (s - 1.0).abs() > 0.1,
        "b's interval is not asymmetric: {ci:?}"
    );
}

#[test]
fn logistic_profiles_match_brute_force() {
    // Both parameters nonlinear: the midpoint and the width of a step.
    let (x, y) = data(30, 0.4, 0.15, |x| 1.0 / (1.0 + (-(x - 4.0) / 1.5).exp()));
    let problem = Problem {
        f: |x, [m, w]| 1.0 / (1.0 + (-(x - m) / w).exp()),
        x,
        y,
    };
    let ci = compare(
        "1 / (1 + exp(-(x - m) / w))",
        ["m", "w"],
        &problem,
        [3.0, 1.0],
    );
    assert!(
        ci.iter().any(|&c| (skew(c) - 1.0).abs() > 0.02),
        "no asymmetric interval: {ci:?}"
    );
}
