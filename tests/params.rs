//! Fixed and tied parameters on the CPU: every case of `nlsq_testkit::params` equals the fit of
//! the hand-substituted model to 1e-12 (parameters, covariance, cost); propagated standard
//! errors; library compositions; every error a typed one.

use nlsq::params::{ConstraintError, Constraints, ReparamError, free_bounds, free_values};
use nlsq::{Backend, CurveFit, ExprModel, Model, ParamKind, library};
use nlsq_testkit::params::{cases, check, data, fit, models};
use nlsq_testkit::streaming::rel;

#[test]
fn constrained_fits_equal_the_hand_substituted_fits() {
    for case in cases() {
        let (got, want) = check(&case, Backend::Cpu, 1e-12);
        eprintln!(
            "{}: cost {:e} (hand {:e}), {} passes",
            case.name, got.cost, want.cost, got.nfev
        );
        assert!(got.success, "{}: {}", case.name, got.message);
    }
}

#[test]
fn the_summary_table_shows_kinds() {
    let case = &cases()[2];
    let (m, _) = models(case);
    let text = fit(case, &m, Backend::Cpu).to_string();
    assert!(text.contains("(fixed)"), "{text}");
    assert!(text.contains("(tied: = b * a / 10)"), "{text}");
    assert!(
        text.contains("4 parameters (2 free, 1 fixed, 1 tied)"),
        "{text}"
    );
    let json = serde_json::to_value(fit(case, &m, Backend::Cpu)).unwrap();
    assert_eq!(json["param_kinds"][2]["kind"], "tied");
    assert_eq!(json["param_kinds"][2]["expr"], "b * a / 10");
    assert_eq!(json["param_kinds"][3]["kind"], "fixed");
}

/// The delta method, computed independently: for the linear tie `a2 = 0.5 a1` exactly
/// (`var = 0.25 var(a1)`, `cov(a2, m1) = 0.5 cov(a1, m1)`); for the nonlinear tie
/// `c = b a / 10` by central differences of the tie times the free covariance.
#[test]
fn tied_standard_errors_are_propagated() {
    let all = cases();
    let (g, _) = check(&all[1], Backend::Cpu, 1e-12);
    // a1 m1 s1 a2 m2 s2
    assert!(rel(g.pcov[3][3], 0.25 * g.pcov[0][0]) <= 1e-15);
    assert!(rel(g.pcov[3][1], 0.5 * g.pcov[0][1]) <= 1e-15);
    assert!(rel(g.perr[3], 0.5 * g.perr[0]) <= 1e-15);
    assert_eq!(g.pcov[5][5], g.pcov[2][2]);
    let (g, _) = check(&all[2], Backend::Cpu, 1e-12);
    // a b c d; c = b a / 10
    let tie = |a: f64, b: f64| b * a / 10.0;
    let (a, b) = (g.popt[0], g.popt[1]);
    let h = 1e-6;
    let grad = [
        (tie(a * (1.0 + h), b) - tie(a * (1.0 - h), b)) / (2.0 * a * h),
        (tie(a, b * (1.0 + h)) - tie(a, b * (1.0 - h))) / (2.0 * b * h),
    ];
    let mut var = 0.0;
    for i in 0..2 {
        for j in 0..2 {
            var += grad[i] * g.pcov[i][j] * grad[j];
        }
    }
    assert!(
        rel(g.perr[2], var.sqrt()) <= 1e-8,
        "{} vs {}",
        g.perr[2],
        var.sqrt()
    );
    assert!(g.perr[3].is_nan());
}

/// `gaussian:g1 + gaussian:g2` with `g2_sigma = g1_sigma`: p0 estimated for all parameters and
/// picked for the free ones; the fit equals the hand-substituted composite's.
#[test]
fn library_compositions_take_ties() {
    let r = library::resolve("gaussian:g1 + gaussian:g2").unwrap();
    let c = Constraints::new().tie("g2_sigma", "g1_sigma");
    let m = r.model.constrain(&c).unwrap();
    let composite = r.library.unwrap();
    let hand_expr = composite.expr().replace("g2_sigma", "(g1_sigma)");
    let free = ["g1_amp", "g1_mu", "g1_sigma", "g2_amp", "g2_mu"];
    let hand = ExprModel::parse_with_params(&hand_expr, &free).unwrap();
    let case = &cases()[1];
    let (x, y, _) = data(case);
    let p0 = composite.estimate_p0(&[&x], &y).unwrap();
    let p0 = free_values(m.param_map().unwrap(), &p0).unwrap();
    let got = CurveFit::new(&m).p0(p0.clone()).fit(&x, &y).unwrap();
    let want = CurveFit::new(&hand).p0(p0).fit(&x, &y).unwrap();
    assert_eq!(got.param_names[5], "g2_sigma");
    assert_eq!(got.popt[5], got.popt[2]);
    for (i, k) in [0, 1, 2, 3, 4].into_iter().enumerate() {
        assert!(rel(got.popt[k], want.popt[i]) <= 1e-12);
    }
    assert!(rel(got.cost, want.cost) <= 1e-12);
}

#[test]
fn every_problem_is_a_typed_error() {
    let m = ExprModel::parse("a * exp(-b * x) + c").unwrap();
    let e = |c: Constraints| m.constrain(&c).unwrap_err();
    let reparam = |c: Constraints| match e(c) {
        ConstraintError::Reparam(r) => r,
        other => panic!("{other}"),
    };
    let unknown = reparam(Constraints::new().fix("z", 1.0));
    assert!(matches!(unknown, ReparamError::UnknownParameter { .. }));
    assert_eq!(
        unknown.to_string(),
        "the model has no parameter `z`; its parameters are a, b, c"
    );
    assert!(matches!(
        reparam(Constraints::new().tie("a", "b").tie("b", "a")),
        ReparamError::Cycle { .. }
    ));
    assert!(matches!(
        reparam(Constraints::new().tie("b", "2 * b")),
        ReparamError::SelfTie { .. }
    ));
    let bad = reparam(Constraints::new().tie("b", "a +* 2"));
    assert!(matches!(bad, ReparamError::TieSyntax { .. }), "{bad}");
    assert!(bad.to_string().contains("tie `b = a +* 2`"), "{bad}");
    assert!(matches!(
        reparam(Constraints::new().tie("b", "q")),
        ReparamError::TieUnknownName { .. }
    ));
    assert!(matches!(
        reparam(Constraints::new().fix("a", 1.0).fix("b", 1.0).fix("c", 1.0)),
        ReparamError::NoFreeParameter
    ));
    assert!(matches!(
        reparam(Constraints::new().fix("a", f64::INFINITY)),
        ReparamError::NonFiniteValue { .. }
    ));
    let fixed = m.constrain(&Constraints::new().fix("b", 1.0)).unwrap();
    assert_eq!(
        fixed
            .constrain(&Constraints::new().fix("a", 1.0))
            .unwrap_err(),
        ConstraintError::AlreadyConstrained
    );
    let map = fixed.param_map().unwrap();
    let inf = f64::INFINITY;
    let bounded = free_bounds(map, &[0.0, 0.0, -inf], &[inf, 2.0, inf]).unwrap_err();
    assert_eq!(
        bounded,
        ConstraintError::BoundsOnNonFree {
            name: "b".into(),
            kind: "fixed"
        }
    );
    let (lo, hi) = free_bounds(map, &[0.0, -inf, -inf], &[inf, inf, 1.0]).unwrap();
    assert_eq!((lo, hi), (vec![0.0, -inf], vec![inf, 1.0]));
    assert!(matches!(
        free_values(map, &[1.0]),
        Err(ConstraintError::LengthMismatch { .. })
    ));
    assert_eq!(fixed.param_map().unwrap().roles()[1].label(), "fixed");
    assert_eq!(
        CurveFit::new(&fixed)
            .p0([1.0, 1.0, 1.0])
            .fit(&[0.0, 1.0], &[1.0, 2.0])
            .unwrap_err()
            .to_string(),
        "length mismatch: p0 has 3 entries, expected 2"
    );
    let _ = ParamKind::Free;
}
