//! Test problems for the solver tests: NIST StRD datasets (parsed at test time from
//! `tests/data/nist-strd/` under the workspace root) with hand-written models and Jacobians,
//! Rosenbrock, and a bounded exponential fit.

use super::dense::DenseObjective;
use super::{Objective, SolverOptions, XScale};
use nalgebra::{DMatrix, DVector};

/// A NIST StRD nonlinear regression dataset.
#[derive(Clone)]
pub(crate) struct Nist {
    pub starts: [Vec<f64>; 2],
    pub certified: Vec<f64>,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

/// The workspace's one NIST StRD parser, from the dev-only fixtures crate (which depends on
/// nlsq, so unit tests here compile the file itself).
#[path = "../../../nlsq-testkit/src/nist_files.rs"]
pub(crate) mod nist_files;

/// `tests/data/nist-strd/<name>.dat` (single-predictor problems).
pub(crate) fn load_nist(name: &str) -> Nist {
    let p = nist_files::load(name);
    Nist {
        starts: p.starts,
        certified: p.certified,
        x: p.x[0].clone(),
        y: p.y,
    }
}

/// A model `f(x; b)` writing `∂f/∂b` into `grad`.
pub(crate) type ModelFn = fn(f64, &[f64], &mut [f64]) -> f64;

/// The hand-written model of a NIST problem.
pub(crate) fn nist_model(name: &str) -> ModelFn {
    match name {
        // y = b1*(1-exp[-b2*x])
        "Misra1a" | "BoxBOD" => |x, b, g| {
            let e = (-b[1] * x).exp();
            g[0] = 1.0 - e;
            g[1] = b[0] * x * e;
            b[0] * (1.0 - e)
        },
        // y = b1*(x**2+x*b2) / (x**2+x*b3+b4)
        "MGH09" => |x, b, g| {
            let num = x * x + x * b[1];
            let den = x * x + x * b[2] + b[3];
            g[0] = num / den;
            g[1] = b[0] * x / den;
            g[2] = -b[0] * num * x / (den * den);
            g[3] = -b[0] * num / (den * den);
            b[0] * num / den
        },
        // y = (b1/b2) * exp[-0.5*((x-b3)/b2)**2]
        "Eckerle4" => |x, b, g| {
            let u = (x - b[2]) / b[1];
            let e = (-0.5 * u * u).exp();
            g[0] = e / b[1];
            g[1] = b[0] * e * (u * u - 1.0) / (b[1] * b[1]);
            g[2] = b[0] * e * u / (b[1] * b[1]);
            b[0] / b[1] * e
        },
        // y = (b1 + b2*x + b3*x**2 + b4*x**3) / (1 + b5*x + b6*x**2 + b7*x**3)
        "Thurber" => |x, b, g| {
            let num = b[0] + b[1] * x + b[2] * x * x + b[3] * x * x * x;
            let den = 1.0 + b[4] * x + b[5] * x * x + b[6] * x * x * x;
            let mut xk = 1.0;
            for gk in &mut g[..4] {
                *gk = xk / den;
                xk *= x;
            }
            let mut xk = x;
            for gk in &mut g[4..7] {
                *gk = -num * xk / (den * den);
                xk *= x;
            }
            num / den
        },
        // y = b1 * exp[b2/(x+b3)]
        "MGH10" => |x, b, g| {
            let e = (b[1] / (x + b[2])).exp();
            g[0] = e;
            g[1] = b[0] * e / (x + b[2]);
            g[2] = -b[0] * e * b[1] / ((x + b[2]) * (x + b[2]));
            b[0] * e
        },
        // y = b1 / ((1+exp[b2-b3*x])**(1/b4))
        "Rat43" => |x, b, g| {
            let e = (b[1] - b[2] * x).exp();
            let base = 1.0 + e;
            let f = b[0] * base.powf(-1.0 / b[3]);
            g[0] = base.powf(-1.0 / b[3]);
            g[1] = -f / b[3] * e / base;
            g[2] = f / b[3] * e * x / base;
            g[3] = f * base.ln() / (b[3] * b[3]);
            f
        },
        // y = b1 * (b2+x)**(-1/b3)
        "Bennett5" => |x, b, g| {
            let base = b[1] + x;
            let f = b[0] * base.powf(-1.0 / b[2]);
            g[0] = base.powf(-1.0 / b[2]);
            g[1] = -f / (b[2] * base);
            g[2] = f * base.ln() / (b[2] * b[2]);
            f
        },
        _ => panic!("no hand-written model for {name}"),
    }
}

/// Residuals `f(x_i; b) − y_i` and their Jacobian for a NIST problem.
pub(crate) fn nist_objective(nist: Nist, model: ModelFn) -> impl Objective {
    let p = nist.certified.len();
    DenseObjective::new(p, move |b: &[f64]| {
        let m = nist.x.len();
        let mut r = DVector::zeros(m);
        let mut j = DMatrix::zeros(m, p);
        let mut g = vec![0.0; p];
        for i in 0..m {
            r[i] = model(nist.x[i], b, &mut g) - nist.y[i];
            for c in 0..p {
                j[(i, c)] = g[c];
            }
        }
        (r, j)
    })
}

/// Log relative error of the worst parameter (capped at 16).
pub(crate) fn lre(b: &[f64], certified: &[f64]) -> f64 {
    b.iter()
        .zip(certified)
        .map(|(b, c)| {
            let rel = ((b - c) / c).abs();
            if rel == 0.0 {
                16.0
            } else {
                (-rel.log10()).min(16.0)
            }
        })
        .fold(f64::INFINITY, f64::min)
}

/// Rosenbrock as least squares: `r = (10 (x₂ − x₁²), 1 − x₁)`.
pub(crate) fn rosenbrock() -> impl Objective {
    DenseObjective::new(2, |x: &[f64]| {
        (
            DVector::from_vec(vec![10.0 * (x[1] - x[0] * x[0]), 1.0 - x[0]]),
            DMatrix::from_row_slice(2, 2, &[-20.0 * x[0], 10.0, -1.0, 0.0]),
        )
    })
}

/// `y = a exp(−b t) + c` on `t = 0..20`, data `2.5 exp(−0.3 t) + 0.5 + 0.01 sin(1.3 i)` (the
/// same as `tests/scipy/trf_reference.py`).
pub(crate) fn expdecay() -> impl Objective {
    DenseObjective::new(3, |p: &[f64]| {
        let m = 21;
        let mut r = DVector::zeros(m);
        let mut j = DMatrix::zeros(m, 3);
        for i in 0..m {
            let t = i as f64;
            let y = 2.5 * (-0.3 * t).exp() + 0.5 + 0.01 * (1.3 * t).sin();
            let e = (-p[1] * t).exp();
            r[i] = p[0] * e + p[2] - y;
            j[(i, 0)] = e;
            j[(i, 1)] = -p[0] * t * e;
            j[(i, 2)] = 1.0;
        }
        (r, j)
    })
}

/// Asserts `|a_i − b_i| ≤ rtol |b_i|` for all `i`.
pub(crate) fn assert_close(a: &[f64], b: &[f64], rtol: f64) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= rtol * y.abs(),
            "{a:?} vs {b:?}: {x} differs from {y} by {:e} relative",
            ((x - y) / y).abs()
        );
    }
}

/// The problems of `tests/scipy/trf_reference.py`: objective, `x0` and options by case name.
pub(crate) fn reference_case(name: &str) -> (Box<dyn Objective>, Vec<f64>, SolverOptions) {
    const INF: f64 = f64::INFINITY;
    let exp_bounds = SolverOptions {
        lower: vec![0.0, 0.0, -INF],
        upper: vec![INF, INF, 0.3],
        ..SolverOptions::default()
    };
    let misra1a = || {
        Box::new(nist_objective(load_nist("Misra1a"), nist_model("Misra1a"))) as Box<dyn Objective>
    };
    match name {
        "rosenbrock" => (
            Box::new(rosenbrock()),
            vec![-1.2, 1.0],
            SolverOptions::default(),
        ),
        "rosenbrock_bounded" => (
            Box::new(rosenbrock()),
            vec![-1.2, 1.0],
            SolverOptions {
                upper: vec![0.8, INF],
                ..SolverOptions::default()
            },
        ),
        "rosenbrock_scipy_doc" => (
            Box::new(rosenbrock()),
            vec![2.0, 2.0],
            SolverOptions {
                lower: vec![-INF, 1.5],
                ..SolverOptions::default()
            },
        ),
        "expdecay_bounded" => (Box::new(expdecay()), vec![1.0, 0.1, 0.0], exp_bounds),
        "expdecay_bounded_jac" => (
            Box::new(expdecay()),
            vec![1.0, 0.1, 0.0],
            SolverOptions {
                x_scale: XScale::Jac,
                ..exp_bounds
            },
        ),
        "misra1a_start1" => (misra1a(), vec![500.0, 1e-4], SolverOptions::default()),
        "misra1a_start1_jac" => (
            misra1a(),
            vec![500.0, 1e-4],
            SolverOptions {
                x_scale: XScale::Jac,
                ..SolverOptions::default()
            },
        ),
        _ => panic!("no reference case {name}"),
    }
}

/// The signature of `trf::solve` and `dogbox::solve`.
pub(crate) type SolveFn = fn(
    &mut dyn Objective,
    &[f64],
    &SolverOptions,
    Option<super::Callback<'_>>,
) -> Result<super::SolverOutput, crate::FitError>;

/// A reference result printed by `tests/scipy/trf_reference.py`.
pub(crate) struct Reference {
    pub case: &'static str,
    pub popt: &'static [f64],
    pub status: i32,
    pub nfev: usize,
    pub active_mask: &'static [i8],
}

/// Runs `solver` on each reference case and checks `popt` to `1e-8` relative, the status and
/// the active mask; returns `(case, nfev, scipy's nfev)` for the caller to compare.
pub(crate) fn check_references(
    solver: SolveFn,
    refs: &[Reference],
) -> Vec<(&'static str, usize, usize)> {
    let mut nfevs = vec![];
    for r in refs {
        let (mut obj, x0, opts) = reference_case(r.case);
        let out = solver(obj.as_mut(), &x0, &opts, None).unwrap();
        println!(
            "{}: x {:?} status {} nfev {} (scipy {}) active {:?}",
            r.case,
            out.x,
            out.status.code(),
            out.nfev,
            r.nfev,
            out.active_mask
        );
        assert_close(&out.x, r.popt, 1e-8);
        assert_eq!(out.status.code(), r.status, "{}", r.case);
        assert_eq!(out.active_mask, r.active_mask, "{}", r.case);
        nfevs.push((r.case, out.nfev, r.nfev));
    }
    nfevs
}

/// Tolerances 1e-15 and an optional pass budget.
pub(crate) fn tight(max_nfev: Option<usize>) -> SolverOptions {
    SolverOptions {
        ftol: 1e-15,
        xtol: 1e-15,
        gtol: 1e-15,
        max_nfev,
        ..SolverOptions::default()
    }
}

/// A rank-deficient problem under default, tight, `'jac'`-scaled and bounded options: the
/// solver converges without panicking, finds the identifiable combinations and leaves the
/// ignored parameter where it started.
pub(crate) fn check_rank_deficient(solver: SolveFn) {
    // The residuals ignore p[2], and p[0] and p[3] enter only as their sum.
    let obj_fn = |p: &[f64]| {
        let m = 15;
        let mut r = DVector::zeros(m);
        let mut j = DMatrix::zeros(m, 4);
        for i in 0..m {
            let t = i as f64 * 0.3;
            let e = (-p[1] * t).exp();
            r[i] = (p[0] + p[3]) * e - 3.0 * (-0.7 * t).exp();
            j[(i, 0)] = e;
            j[(i, 1)] = -(p[0] + p[3]) * t * e;
            j[(i, 3)] = e;
        }
        (r, j)
    };
    for opts in [
        SolverOptions::default(),
        tight(None),
        SolverOptions {
            x_scale: XScale::Jac,
            ..SolverOptions::default()
        },
        SolverOptions {
            lower: vec![-10.0, 0.0, -1.0, -10.0],
            upper: vec![10.0, 5.0, 1.0, 10.0],
            ..SolverOptions::default()
        },
    ] {
        let out = solver(
            &mut DenseObjective::new(4, obj_fn),
            &[1.0, 0.2, 0.5, 1.0],
            &opts,
            None,
        )
        .unwrap();
        assert!(out.x.iter().all(|v| v.is_finite()));
        assert!(out.status.converged(), "{:?}", out.status);
        assert!((out.x[0] + out.x[3] - 3.0).abs() < 1e-6, "{:?}", out.x);
        assert!((out.x[1] - 0.7).abs() < 1e-6, "{:?}", out.x);
        assert_eq!(out.x[2], 0.5, "an ignored parameter stays put");
    }
}
