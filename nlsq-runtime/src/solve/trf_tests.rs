//! Tests of [`super`]: the `trf` solver.

use super::*;
use crate::solve::IterationInfo;
use crate::solve::XScale;
use crate::solve::dense::DenseObjective;
use crate::solve::test_problems::{
    Reference, assert_close, check_rank_deficient, check_references, expdecay, load_nist, lre,
    nist_model, nist_objective, rosenbrock, tight,
};
use nalgebra::DVector;

const INF: f64 = f64::INFINITY;

#[test]
fn rosenbrock_unbounded() {
    let out = solve(&mut rosenbrock(), &[-1.2, 1.0], &tight(None), None).unwrap();
    assert!(out.status.converged(), "{:?}", out.status);
    assert_close(&out.x, &[1.0, 1.0], 1e-12);
    assert!(out.pass.cost < 1e-28);
    assert_eq!(out.active_mask, [0, 0]);
    assert!(out.njev <= out.nfev);
}

#[test]
fn rosenbrock_solution_on_a_bound() {
    // x1 <= 0.8 excludes (1, 1): the minimum is at x1 = 0.8, x2 = 0.64.
    let opts = SolverOptions {
        upper: vec![0.8, INF],
        ..tight(None)
    };
    let out = solve(&mut rosenbrock(), &[-1.2, 1.0], &opts, None).unwrap();
    assert!(out.status.converged(), "{:?}", out.status);
    assert_close(&out.x, &[0.8, 0.64], 1e-10);
    assert!(out.x[0] <= 0.8);
    assert_eq!(out.active_mask, [1, 0]);
}

#[test]
fn bounded_exponential_fit_has_an_active_bound() {
    let opts = SolverOptions {
        lower: vec![0.0, 0.0, -INF],
        upper: vec![INF, INF, 0.3],
        ..tight(None)
    };
    let out = solve(&mut expdecay(), &[1.0, 0.1, 0.0], &opts, None).unwrap();
    assert!(out.status.converged(), "{:?}", out.status);
    assert_eq!(out.active_mask, [0, 0, 1]);
    assert!((out.x[2] - 0.3).abs() < 1e-14 && out.x[2] <= 0.3);
    // First-order conditions: free gradient components vanish (scipy stops here too, by
    // ftol, with g[1] = -1.59e-8), and the gradient of c pushes against its upper bound
    // (g < 0: the cost decreases as c grows).
    let g = out.pass.gradient.as_slice();
    assert!(g[0].abs() < 1e-7 && g[1].abs() < 1e-7, "{g:?}");
    assert!(g[2] < -1.0, "{g:?}");
    assert!(out.optimality < 1e-7);
}

/// Printed by `nlsq-runtime/tests/scipy/trf_reference.py` (scipy 1.17.1, method='trf').
const SCIPY_TRF: &[Reference] = &[
    Reference {
        case: "rosenbrock",
        popt: &[1.0, 1.0],
        status: 1,
        nfev: 25,
        active_mask: &[0, 0],
    },
    Reference {
        case: "rosenbrock_bounded",
        popt: &[0.799999999999999, 0.6399999999818646],
        status: 1,
        nfev: 30,
        active_mask: &[1, 0],
    },
    Reference {
        case: "rosenbrock_scipy_doc",
        popt: &[1.2243707490009201, 1.500000000000023],
        status: 2,
        nfev: 9,
        active_mask: &[0, -1],
    },
    Reference {
        case: "expdecay_bounded",
        popt: &[2.5640585030715397, 0.22215501956871272, 0.29999999999999993],
        status: 2,
        nfev: 12,
        active_mask: &[0, 0, 1],
    },
    Reference {
        case: "expdecay_bounded_jac",
        popt: &[2.564058343199419, 0.22215498465212855, 0.29999999999999993],
        status: 2,
        nfev: 12,
        active_mask: &[0, 0, 1],
    },
    Reference {
        case: "misra1a_start1",
        popt: &[238.94212921034563, 0.0005501564317212871],
        status: 2,
        nfev: 15,
        active_mask: &[0, 0],
    },
    Reference {
        case: "misra1a_start1_jac",
        popt: &[238.9421291869329, 0.00055015643178422],
        status: 2,
        nfev: 11,
        active_mask: &[0, 0],
    },
];

#[test]
fn agrees_with_scipy() {
    // The same iterates up to rounding: scipy's SVD of J and the eigen-decomposition of
    // JᵀJ round differently, which can change the last few passes near a tight tolerance
    // (Misra1a unscaled: 16 passes here, 18 in scipy).
    for (case, nfev, scipy_nfev) in check_references(solve, SCIPY_TRF) {
        assert!(
            nfev.abs_diff(scipy_nfev) <= 2,
            "{case}: nfev {nfev}, scipy {scipy_nfev}"
        );
    }
}

fn nist_lre(name: &str, start: usize) -> (f64, SolverOutput) {
    let nist = load_nist(name);
    let mut obj = nist_objective(nist.clone(), nist_model(name));
    let p = nist.certified.len();
    let out = solve(&mut obj, &nist.starts[start], &tight(Some(1000 * p)), None).unwrap();
    (lre(&out.x, &nist.certified), out)
}

#[test]
fn nist_problems_to_six_digits() {
    for name in [
        "Misra1a", "MGH09", "Eckerle4", "BoxBOD", "Thurber", "MGH10", "Rat43", "Bennett5",
    ] {
        for start in 0..2 {
            let (l, out) = nist_lre(name, start);
            println!(
                "{name} start {}: LRE {l:.1} status {} nfev {}",
                start + 1,
                out.status.code(),
                out.nfev
            );
            assert!(l >= 6.0, "{name} start {}: LRE {l}", start + 1);
            assert!(out.status.converged());
        }
    }
}

#[test]
fn callback_sees_iterations_and_can_stop() {
    let mut seen = vec![];
    let mut cb = |info: &IterationInfo<'_>| {
        seen.push((info.iteration, info.nfev, info.cost, info.x.to_vec()));
        assert!(info.optimality.is_finite() && info.step_norm >= 0.0);
        if info.iteration == 3 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let out = solve(&mut rosenbrock(), &[-1.2, 1.0], &tight(None), Some(&mut cb)).unwrap();
    assert_eq!(out.status, Status::Stopped);
    assert_eq!(out.status.code(), -2);
    assert_eq!(out.nit, 3);
    assert_eq!(seen.len(), 3);
    assert_eq!(seen.last().unwrap().3, out.x);
    assert_eq!(seen.last().unwrap().1, out.nfev);
    assert!(
        seen.windows(2).all(|w| w[1].2 <= w[0].2),
        "cost never increases"
    );
}

#[test]
fn stops_at_max_nfev() {
    for max_nfev in [1, 2, 5] {
        let out = solve(
            &mut rosenbrock(),
            &[-1.2, 1.0],
            &tight(Some(max_nfev)),
            None,
        )
        .unwrap();
        assert_eq!(out.status, Status::MaxNfev);
        assert_eq!(out.nfev, max_nfev);
    }
    // The default is 100 P (Bennett5 from start 1 needs 357 passes).
    let nist = load_nist("Bennett5");
    let mut obj = nist_objective(nist.clone(), nist_model("Bennett5"));
    let opts = tight(None);
    let out = solve(&mut obj, &nist.starts[0], &opts, None).unwrap();
    assert_eq!(out.status, Status::MaxNfev);
    assert_eq!(out.nfev, 300);
}

/// `r_i = ln(p) − ln(0.1)`: the first trust-region step from p = 10 lands on p = 0, where
/// the residuals are not finite; the radius shrinks and the fit goes on.
fn log_objective(nonfinite: &mut usize) -> impl Objective + '_ {
    DenseObjective::new(1, move |p: &[f64]| {
        let r = DVector::from_element(3, p[0].ln() - 0.1f64.ln());
        let j = DMatrix::from_element(3, 1, 1.0 / p[0]);
        if !r[0].is_finite() || !j[(0, 0)].is_finite() {
            *nonfinite += 1;
        }
        (r, j)
    })
}

#[test]
fn non_finite_trial_point_shrinks_the_radius() {
    let mut nonfinite = 0;
    let out = solve(
        &mut log_objective(&mut nonfinite),
        &[10.0],
        &tight(None),
        None,
    )
    .unwrap();
    assert!(nonfinite >= 1, "a trial point was not finite");
    assert!(out.status.converged(), "{:?}", out.status);
    assert_close(&out.x, &[0.1], 1e-12);
    assert!(out.pass.is_finite());
}

#[test]
fn rank_deficient_problem_does_not_panic() {
    check_rank_deficient(solve);
}

#[test]
fn starts_strictly_inside_and_rejects_bad_input() {
    // x0 on a bound is moved inside before the first pass (scipy's make_strictly_feasible).
    let mut first = None;
    let mut obj = DenseObjective::new(2, |x: &[f64]| {
        first.get_or_insert(x.to_vec());
        (
            DVector::from_vec(vec![10.0 * (x[1] - x[0] * x[0]), 1.0 - x[0]]),
            DMatrix::from_row_slice(2, 2, &[-20.0 * x[0], 10.0, -1.0, 0.0]),
        )
    });
    let opts = SolverOptions {
        lower: vec![-1.2, -INF],
        ..SolverOptions::default()
    };
    solve(&mut obj, &[-1.2, 1.0], &opts, None).unwrap();
    assert_eq!(first.unwrap()[0], -1.2 + 1.2e-10);

    let bad =
        |opts: SolverOptions, x0: &[f64]| solve(&mut rosenbrock(), x0, &opts, None).unwrap_err();
    assert!(matches!(
        bad(
            SolverOptions {
                lower: vec![0.0, 0.0],
                ..Default::default()
            },
            &[-1.0, 1.0]
        ),
        FitError::BadBounds { .. }
    ));
    assert!(matches!(
        bad(
            SolverOptions {
                lower: vec![1.0, 0.0],
                upper: vec![1.0, 2.0],
                ..Default::default()
            },
            &[1.0, 1.0]
        ),
        FitError::BadBounds { .. }
    ));
    assert!(matches!(
        bad(
            SolverOptions {
                lower: vec![0.0],
                ..Default::default()
            },
            &[1.0, 1.0]
        ),
        FitError::LengthMismatch { .. }
    ));
    assert!(matches!(
        bad(SolverOptions::default(), &[1.0]),
        FitError::LengthMismatch { .. }
    ));
    assert!(matches!(
        bad(SolverOptions::default(), &[f64::NAN, 1.0]),
        FitError::NonFiniteP0 { .. }
    ));
    assert!(matches!(
        bad(
            SolverOptions {
                ftol: 0.0,
                xtol: 1e-17,
                gtol: 0.0,
                ..Default::default()
            },
            &[1.0, 1.0]
        ),
        FitError::InvalidOption { .. }
    ));
    assert!(matches!(
        bad(
            SolverOptions {
                max_nfev: Some(0),
                ..Default::default()
            },
            &[1.0, 1.0]
        ),
        FitError::InvalidOption { .. }
    ));
    assert!(matches!(
        bad(
            SolverOptions {
                x_scale: XScale::Fixed(vec![1.0, -1.0]),
                ..Default::default()
            },
            &[1.0, 1.0]
        ),
        FitError::InvalidOption { .. }
    ));
    let mut nan_at_start = DenseObjective::new(1, |_: &[f64]| {
        (
            DVector::from_element(2, f64::NAN),
            DMatrix::from_element(2, 1, 1.0),
        )
    });
    assert!(matches!(
        solve(&mut nan_at_start, &[1.0], &SolverOptions::default(), None).unwrap_err(),
        FitError::NonFiniteModelAtP0 { .. }
    ));
}

#[test]
fn fixed_x_scale_is_used() {
    // A scalar x_scale is broadcast; scaling changes the path but not the solution.
    for scale in [vec![0.1], vec![1.0, 100.0]] {
        let opts = SolverOptions {
            x_scale: XScale::Fixed(scale),
            ..tight(None)
        };
        let out = solve(&mut rosenbrock(), &[-1.2, 1.0], &opts, None).unwrap();
        assert!(out.status.converged());
        assert_close(&out.x, &[1.0, 1.0], 1e-10);
    }
}
