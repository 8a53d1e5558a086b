//! Fixed and tied parameters: each case a model with constraints and the same model with the
//! constraints substituted by hand; the two fits must agree (`tests/params.rs` on the CPU,
//! `tests/params_wgpu.rs` on wgpu).

use crate::streaming::{noise, rel};
use nlsq::params::Constraints;
use nlsq::{Backend, CurveFit, ExprModel, FitResult, Loss, Method, Model, ParamKind};

/// The options of a case's fits, the same for both models.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Bounds of the free parameters.
    pub bounds: Option<(Vec<f64>, Vec<f64>)>,
    /// A robust loss and its f_scale.
    pub loss: Option<(Loss, f64)>,
    /// Per-point sigma.
    pub sigma: bool,
    /// Points per chunk (forces the chunked route).
    pub chunk_points: Option<usize>,
}

/// A model with fixed and tied parameters, and the hand-substituted model.
pub struct Case {
    /// For messages.
    pub name: &'static str,
    /// The model with all its parameters.
    pub model: &'static str,
    /// What is fixed and tied.
    pub constraints: Constraints,
    /// The model with the constraints written in.
    pub hand: &'static str,
    /// The free parameters, in order (the hand model's parameters).
    pub free: &'static [&'static str],
    /// Starting values of the free parameters.
    pub p0: Vec<f64>,
    /// The noiseless data.
    pub truth: fn(f64) -> f64,
    /// Fit options.
    pub options: Options,
}

const GAUSS2: &str = "a1 * exp(-(x - m1) * (x - m1) / (2 * s1 * s1)) \
                      + a2 * exp(-(x - m2) * (x - m2) / (2 * s2 * s2))";
const GAUSS2_HAND: &str = "a1 * exp(-(x - m1) * (x - m1) / (2 * s1 * s1)) \
                           + (0.5 * a1) * exp(-(x - m2) * (x - m2) / (2 * (s1) * (s1)))";

fn gauss2(x: f64) -> f64 {
    let g = |m: f64| (-(x - m) * (x - m) / (2.0 * 0.8 * 0.8)).exp();
    3.0 * g(3.0) + 1.5 * g(6.5)
}

fn gauss2_case(name: &'static str, options: Options) -> Case {
    Case {
        name,
        model: GAUSS2,
        constraints: Constraints::new().tie("a2", "0.5 * a1").tie("s2", "s1"),
        hand: GAUSS2_HAND,
        free: &["a1", "m1", "s1", "m2"],
        p0: vec![2.0, 2.8, 1.0, 6.8],
        truth: gauss2,
        options,
    }
}

fn both_case(name: &'static str, options: Options) -> Case {
    Case {
        name,
        model: "a * exp(-b * x) + c * x + d",
        constraints: Constraints::new().fix("d", 0.25).tie("c", "b * a / 10"),
        hand: "a * exp(-b * x) + (b * a / 10) * x + (0.25)",
        free: &["a", "b"],
        p0: vec![1.0, 1.0],
        truth: |x| 2.0 * (-0.5 * x).exp() + 0.1 * x + 0.25,
        options,
    }
}

/// Every case: fixed only, tied only, both, a chain of ties, bounds, a robust loss with
/// weights, chunked data.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "fixed",
            model: "a * exp(-b * x) + c",
            constraints: Constraints::new().fix("b", 0.7),
            hand: "a * exp(-(0.7) * x) + c",
            free: &["a", "c"],
            p0: vec![1.0, 0.0],
            truth: |x| 2.0 * (-0.7 * x).exp() + 0.3,
            options: Options::default(),
        },
        gauss2_case("tied", Options::default()),
        both_case("fixed and tied", Options::default()),
        Case {
            name: "chain of ties",
            model: "a * x + b * x * x + c * x * x * x + d",
            constraints: Constraints::new().tie("c", "b").tie("b", "2 * a"),
            hand: "a * x + (2 * a) * x * x + ((2 * a)) * x * x * x + d",
            free: &["a", "d"],
            p0: vec![1.0, 0.0],
            truth: |x| 0.3 * x + 0.6 * x * x + 0.6 * x * x * x + 1.0,
            options: Options::default(),
        },
        Case {
            p0: vec![2.0, 2.8, 0.6, 6.8],
            ..gauss2_case(
                "tied, bounds (one active)",
                Options {
                    bounds: Some((vec![0.0, 0.0, 0.1, 0.0], vec![10.0, 10.0, 0.7, 10.0])),
                    ..Options::default()
                },
            )
        },
        both_case(
            "robust loss and weights",
            Options {
                loss: Some((Loss::SoftL1, 0.01)),
                sigma: true,
                ..Options::default()
            },
        ),
        gauss2_case(
            "tied, chunked",
            Options {
                chunk_points: Some(300),
                ..Options::default()
            },
        ),
    ]
}

/// The case's data: 2,000 points on [0, 10] with small noise and, for a robust loss, outliers;
/// per-point sigma.
pub fn data(case: &Case) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = 2000;
    let x: Vec<f64> = (0..n).map(|i| 10.0 * i as f64 / n as f64).collect();
    let e = noise(n, 11);
    let robust = case.options.loss.is_some();
    let y = x
        .iter()
        .zip(&e)
        .enumerate()
        .map(|(i, (&x, e))| {
            let outlier = if robust && i % 97 == 0 { 0.5 } else { 0.0 };
            (case.truth)(x) + 1e-3 * e + outlier
        })
        .collect();
    let sigma = (0..n).map(|i| 0.01 * (1.0 + (i % 5) as f64)).collect();
    (x, y, sigma)
}

/// Fits `model` to the case's data on `backend` with the case's options.
pub fn fit(case: &Case, model: &ExprModel, backend: Backend) -> FitResult {
    let (x, y, sigma) = data(case);
    let o = &case.options;
    let mut b = CurveFit::new(model)
        .p0(case.p0.clone())
        .backend(backend)
        .tol(1e-12);
    if let Some((lo, hi)) = &o.bounds {
        b = b.bounds(lo.clone(), hi.clone()).method(Method::Trf);
    }
    if let Some((loss, f_scale)) = o.loss {
        b = b.loss(loss).f_scale(f_scale);
    }
    if o.sigma {
        b = b.sigma(&sigma);
    }
    if let Some(c) = o.chunk_points {
        b = b.chunk_points(c);
    }
    b.fit(&x, &y)
        .unwrap_or_else(|e| panic!("{}: {e}", case.name))
}

/// The constrained model, and the hand-substituted one.
pub fn models(case: &Case) -> (ExprModel, ExprModel) {
    let full = ExprModel::parse(case.model).expect("the case's model parses");
    let constrained = full
        .constrain(&case.constraints)
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let hand = ExprModel::parse_with_params(case.hand, case.free).expect("the hand model parses");
    assert_eq!(
        constrained.param_names(),
        hand.param_names(),
        "{}",
        case.name
    );
    (constrained, hand)
}

/// Fits both models of `case` on `backend` and checks that they agree to `tol` relative:
/// the free parameters, their covariance and the cost; and that the result reports every
/// parameter with its kind (fixed at its value without a standard error, tied at its tie).
pub fn check(case: &Case, backend: Backend, tol: f64) -> (FitResult, FitResult) {
    let (constrained, hand) = models(case);
    let got = fit(case, &constrained, backend);
    let want = fit(case, &hand, backend);
    let full = ExprModel::parse(case.model).expect("the case's model parses");
    let names = full.param_names();
    assert_eq!(got.param_names, names, "{}", case.name);
    let at = |n: &str| names.iter().position(|m| *m == n).expect("a free name");
    let idx: Vec<usize> = case.free.iter().map(|n| at(n)).collect();
    let c = case.name;
    assert!(
        rel(got.cost, want.cost) <= tol,
        "{c}: cost {} vs {}",
        got.cost,
        want.cost
    );
    for (i, &k) in idx.iter().enumerate() {
        let (g, w) = (got.popt[k], want.popt[i]);
        assert!(rel(g, w) <= tol, "{c}: {} = {g} vs {w}", names[k]);
        assert_eq!(got.active_mask[k], want.active_mask[i], "{c}");
        for (j, &l) in idx.iter().enumerate() {
            let scale = (want.pcov[i][i] * want.pcov[j][j]).sqrt();
            let d = (got.pcov[k][l] - want.pcov[i][j]).abs();
            assert!(
                d <= tol * scale,
                "{c}: pcov[{k}][{l}] {} vs {}",
                got.pcov[k][l],
                want.pcov[i][j]
            );
        }
    }
    assert_eq!((got.dof, got.n_free()), (want.dof, idx.len()), "{c}");
    check_kinds(case, &got, &names);
    (got, want)
}

/// Fixed parameters at their values, without standard errors, zero rows in `pcov`; tied ones
/// at their ties' values.
fn check_kinds(case: &Case, got: &FitResult, names: &[&str]) {
    for (k, name) in names.iter().enumerate() {
        let role = case.constraints.roles().iter().find(|(n, _)| n == name);
        match (role.map(|r| &r.1), &got.param_kinds[k]) {
            (None, ParamKind::Free) => {}
            (Some(nlsq::params::ParamRole::Fixed(v)), ParamKind::Fixed) => {
                assert_eq!(got.popt[k], *v);
                assert!(got.perr[k].is_nan() && got.ci95[k].0.is_nan());
                assert!(got.pcov[k].iter().all(|&c| c == 0.0));
            }
            (Some(nlsq::params::ParamRole::Tied(e)), ParamKind::Tied { expr }) => {
                assert_eq!(e, expr);
                let tie = ExprModel::parse_with_params(e, names).expect("the tie parses");
                let v = tie.eval(&[0.0], &got.popt);
                assert!(rel(got.popt[k], v) <= 1e-15, "{}: {name}", case.name);
                assert!(got.perr[k].is_finite(), "{}: {name}", case.name);
            }
            (r, kind) => panic!("{}: {name} is {r:?} but reported {kind:?}", case.name),
        }
    }
}
