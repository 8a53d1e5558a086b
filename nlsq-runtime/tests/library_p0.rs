//! The model library (`nlsq_runtime::library`): automatic p0 for every model across its
//! documented range (fits from p0 reach the truth in ≥ 99 % of random problems), composites,
//! the erf step's estimator, robustness on hostile data, and every error reachable from input.
//!
//! The success rule and the random problems are `nlsq_testkit::library`'s (shared with
//! `examples/library_p0.rs`, which runs 1,000 problems per model in release).

use nlsq_runtime::library::{self, LibraryError, SpecProblem};
use nlsq_runtime::{CurveFit, FitResult};
use nlsq_testkit::batch::support::Rng;
use nlsq_testkit::library::{MODELS, run, uniform_points};
use std::time::Instant;

/// Problems per model (the example runs 1,000 in release).
const TRIALS: usize = 100;
/// Points per problem.
const POINTS: usize = 200;

fn success_rate(name: &str, seed: u64) {
    let s = run(name, TRIALS, POINTS, seed);
    assert!(
        s.successes * 100 >= 99 * s.trials,
        "{name}: {} of {} fits reached the truth:\n{}",
        s.successes,
        s.trials,
        s.failures.join("\n")
    );
}

macro_rules! success_tests {
    ($($test:ident: $name:literal,)*) => {$(
        #[test]
        fn $test() {
            success_rate($name, 0xC0FFEE ^ (stringify!($test).len() as u64) << 8);
        }
    )*};
}

success_tests! {
    p0_gaussian: "gaussian",
    p0_lorentzian: "lorentzian",
    p0_pseudo_voigt: "pseudo_voigt",
    p0_exp_decay: "exp_decay",
    p0_exp_growth: "exp_growth",
    p0_exp_decay2: "exp_decay2",
    p0_logistic: "logistic",
    p0_power_law: "power_law",
    p0_constant: "constant",
    p0_linear: "linear",
    p0_polynomial2: "polynomial2",
    p0_poly3: "poly3",
    p0_polynomial5: "polynomial5",
    p0_damped_sine: "damped_sine",
    p0_michaelis_menten: "michaelis_menten",
    p0_hill: "hill",
    p0_gaussian2d: "gaussian2d",
}

#[test]
fn every_listed_model_is_measured() {
    for m in library::models() {
        let measured = MODELS.iter().any(|n| *n == m.name()) || m.name() == "erf_step";
        assert!(measured, "{} has no success-rate test", m.name());
    }
}

/// Fits `spec` to `(x, y)` from its estimated p0.
fn fit_composite(spec: &str, x: &[f64], y: &[f64]) -> (Vec<f64>, FitResult) {
    let c = library::compose(spec).unwrap();
    let p0 = c.estimate_p0(&[x], y).unwrap();
    let fit = CurveFit::new(c.model().unwrap())
        .p0(p0.clone())
        .fit(x, y)
        .unwrap();
    assert!(fit.status.converged(), "{spec}: {:?}", fit.status);
    (p0, fit)
}

/// Asserts every parameter within 5 standard errors of the truth.
fn assert_truth(what: &str, fit: &FitResult, truth: &[f64]) {
    for (j, t) in truth.iter().enumerate() {
        let (g, e) = (fit.popt[j], fit.perr[j]);
        assert!(
            (g - t).abs() <= 5.0 * e + 1e-9,
            "{what}: {} = {g} ± {e}, truth {t}",
            fit.param_names[j]
        );
    }
}

fn noisy(rng: &mut Rng, x: &[f64], sigma: f64, f: impl Fn(f64) -> f64) -> Vec<f64> {
    x.iter().map(|&v| f(v) + sigma * rng.normal()).collect()
}

fn gauss(a: f64, m: f64, s: f64) -> impl Fn(f64) -> f64 {
    move |x| a * (-(x - m) * (x - m) / (2.0 * s * s)).exp()
}

fn lor(a: f64, m: f64, g: f64) -> impl Fn(f64) -> f64 {
    move |x| a * g * g / ((x - m) * (x - m) + g * g)
}

#[test]
fn two_gaussians_on_a_linear_baseline() {
    let mut rng = Rng::new(7);
    for _ in 0..10 {
        let x = uniform_points(&mut rng, 400, 0.0, 10.0);
        let (a1, m1, s1) = (
            rng.uniform(3.0, 6.0),
            rng.uniform(2.0, 4.0),
            rng.uniform(0.2, 0.5),
        );
        let (a2, m2, s2) = (
            a1 * rng.uniform(0.3, 0.8),
            rng.uniform(6.0, 8.0),
            rng.uniform(0.2, 0.6),
        );
        let (slope, icpt) = (rng.uniform(-0.3, 0.3), rng.uniform(-2.0, 2.0));
        let (g1, g2) = (gauss(a1, m1, s1), gauss(a2, m2, s2));
        let y = noisy(&mut rng, &x, 0.05, |v| g1(v) + g2(v) + slope * v + icpt);
        let (_, fit) = fit_composite("gaussian:g1 + gaussian:g2 + linear", &x, &y);
        assert_eq!(fit.param_names[0], "g1_amp");
        assert_truth(
            "2 gaussians + linear",
            &fit,
            &[a1, m1, s1, a2, m2, s2, slope, icpt],
        );
    }
}

#[test]
fn gaussian_plus_constant() {
    let mut rng = Rng::new(8);
    for _ in 0..10 {
        let x = uniform_points(&mut rng, 300, -5.0, 5.0);
        let (a, m, s, c) = (
            rng.uniform(-4.0, 4.0),
            rng.uniform(-3.0, 3.0),
            rng.uniform(0.2, 1.0),
            rng.uniform(-10.0, 10.0),
        );
        let g = gauss(a, m, s);
        let y = noisy(&mut rng, &x, 0.02 * a.abs(), |v| g(v) + c);
        let (_, fit) = fit_composite("  gaussian +constant ", &x, &y);
        assert_truth("gaussian + constant", &fit, &[a, m, s, c]);
    }
}

#[test]
fn lorentzian_pair() {
    let mut rng = Rng::new(9);
    for _ in 0..10 {
        let x = uniform_points(&mut rng, 400, 0.0, 20.0);
        let (a1, m1, g1) = (
            rng.uniform(5.0, 10.0),
            rng.uniform(3.0, 8.0),
            rng.uniform(0.2, 0.6),
        );
        let (a2, m2, g2) = (
            a1 * rng.uniform(0.3, 0.9),
            rng.uniform(12.0, 17.0),
            rng.uniform(0.2, 0.6),
        );
        let (l1, l2) = (lor(a1, m1, g1), lor(a2, m2, g2));
        let y = noisy(&mut rng, &x, 0.05, |v| l1(v) + l2(v));
        let (_, fit) = fit_composite("lorentzian:l1 + lorentzian:l2", &x, &y);
        assert_truth("lorentzian pair", &fit, &[a1, m1, g1, a2, m2, g2]);
    }
}

#[test]
fn composite_expression_and_names() {
    let c = library::compose("gaussian:g1+linear").unwrap();
    assert_eq!(
        c.param_names(),
        ["g1_amp", "g1_mu", "g1_sigma", "slope", "intercept"]
    );
    assert_eq!(
        c.expr(),
        "g1_amp * exp(-(x - g1_mu) * (x - g1_mu) / (2 * g1_sigma * g1_sigma)) + (slope * x + intercept)"
    );
    assert_eq!((c.n_inputs(), c.parts().len()), (1, 2));
    assert_eq!(c.prefixes(), [Some("g1".to_string()), None]);
    let single = library::compose("Poly3").unwrap();
    assert_eq!(single.param_names(), ["c0", "c1", "c2", "c3"]);
    assert_eq!(single.expr(), "c0 + x * (c1 + x * (c2 + x * c3))");
    let two_d = library::compose("gaussian2d:a + gaussian2d:b").unwrap();
    assert_eq!(two_d.n_inputs(), 2);
    assert!(two_d.model().is_ok());
}

#[test]
fn erf_step_estimator_is_close_to_the_truth() {
    use statrs::function::erf::erf;
    let m = library::get("erf_step").unwrap();
    assert_eq!(m.param_names(), ["amp", "center", "sigma", "offset"]);
    let mut rng = Rng::new(11);
    for _ in 0..100 {
        let x = uniform_points(&mut rng, 300, 0.0, 10.0);
        let amp = nlsq_testkit::library::signed(&mut rng, 0.1, 1e3);
        let (center, offset) = (rng.uniform(2.0, 8.0), rng.uniform(-1.0, 1.0) * amp.abs());
        let sigma = 10.0 * rng.uniform(0.02, 0.25) / 2.563;
        let f = |v: f64| offset + 0.5 * amp * (1.0 + erf((v - center) / (2f64.sqrt() * sigma)));
        let y = noisy(&mut rng, &x, 0.02 * amp.abs(), f);
        let p = m.estimate_p0(&[&x], &y).unwrap();
        let ctx = format!("p0 {p:?}, truth {:?}", [amp, center, sigma, offset]);
        assert!((p[0] - amp).abs() < 0.1 * amp.abs(), "{ctx}");
        assert!((p[1] - center).abs() < 0.5 * sigma + 0.05, "{ctx}");
        assert!((p[2] / sigma - 1.0).abs() < 0.3, "{ctx}");
        assert!((p[3] - offset).abs() < 0.1 * amp.abs(), "{ctx}");
    }
    assert!(library::names().contains(&"erf_step"));
    assert!(m.model().is_ok());
}

/// Fits of `erf_step` from its p0.
#[test]
fn p0_erf_step() {
    success_rate("erf_step", 0xE8F);
}

/// Hostile inputs for every model: each ends in finite p0 or a typed error, quickly.
#[test]
fn hostile_data_give_finite_p0_or_errors() {
    let mut rng = Rng::new(12);
    let x: Vec<f64> = (0..50).map(|i| i as f64 * 0.1).collect();
    let noise: Vec<f64> = (0..50).map(|_| rng.normal()).collect();
    let cases: Vec<(&str, Vec<f64>, Vec<f64>)> = vec![
        ("empty", vec![], vec![]),
        ("one point", vec![1.0], vec![2.0]),
        ("nan", x.clone(), vec![f64::NAN; 50]),
        ("constant", x.clone(), vec![3.0; 50]),
        ("noise", x.clone(), noise.clone()),
        ("huge", x.clone(), noise.iter().map(|v| v * 1e300).collect()),
        (
            "tiny",
            x.clone(),
            noise.iter().map(|v| v * 1e-300).collect(),
        ),
        ("same x", vec![1.0; 50], noise.clone()),
        (
            "huge x",
            x.iter().map(|v| v * 1e300).collect(),
            noise.clone(),
        ),
        (
            "inf",
            x.clone(),
            (0..50)
                .map(|i| if i % 2 == 0 { f64::INFINITY } else { 1.0 })
                .collect(),
        ),
        (
            "spike",
            x.clone(),
            (0..50).map(|i| if i == 25 { 1e6 } else { 0.0 }).collect(),
        ),
        (
            "negative x",
            x.iter().map(|v| v - 2.5).collect(),
            noise.clone(),
        ),
    ];
    let models = library::models();
    for m in &models {
        for (what, xs, ys) in &cases {
            let start = Instant::now();
            let cols: Vec<&[f64]> = vec![xs.as_slice(); m.n_inputs()];
            match m.estimate_p0(&cols, ys) {
                Ok(p) => assert!(
                    p.iter().all(|v| v.is_finite()),
                    "{} on {what}: {p:?}",
                    m.name()
                ),
                Err(LibraryError::CannotEstimate { .. }) => {}
                Err(e) => panic!("{} on {what}: unexpected {e}", m.name()),
            }
            assert!(
                start.elapsed().as_secs_f64() < 2.0,
                "{} on {what}",
                m.name()
            );
        }
    }
}

#[test]
fn unsorted_input_gives_the_sorted_estimate() {
    let mut rng = Rng::new(13);
    let x = uniform_points(&mut rng, 300, 0.0, 10.0);
    let g = gauss(2.0, 4.0, 0.7);
    let y = noisy(&mut rng, &x, 0.02, |v| g(v) + 0.5);
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let (xs, ys): (Vec<f64>, Vec<f64>) = idx.iter().map(|&i| (x[i], y[i])).unzip();
    let c = library::compose("gaussian + constant").unwrap();
    assert_eq!(c.estimate_p0(&[&x], &y), c.estimate_p0(&[&xs], &ys));
}

#[test]
fn large_data_are_subsampled_and_fast() {
    let n = 2_000_000;
    let x: Vec<f64> = (0..n)
        .map(|i| (i as f64 * 0.618_033_988_749).fract() * 10.0)
        .collect();
    let mut rng = Rng::new(14);
    let y: Vec<f64> = x
        .iter()
        .map(|&v| 3.0 * (-v / 2.0).exp() + 1.0 + 0.01 * rng.normal())
        .collect();
    for spec in ["exp_decay", "damped_sine", "gaussian + linear", "hill"] {
        let start = Instant::now();
        let p = library::compose(spec).unwrap().estimate_p0(&[&x], &y);
        let t = start.elapsed().as_secs_f64();
        // Only exp_decay fits these data; the others must still end quickly and cleanly.
        let clean = match &p {
            Ok(p) => p.iter().all(|v| v.is_finite()),
            Err(e) => matches!(e, LibraryError::CannotEstimate { .. }),
        };
        assert!(clean, "{spec}: {p:?}");
        // A debug build; release is about 20 times faster.
        assert!(t < 3.0, "{spec}: {t} s for {n} points");
    }
    let p = library::get("exp_decay")
        .unwrap()
        .estimate_p0(&[&x], &y)
        .unwrap();
    assert!(
        (p[1] - 2.0).abs() < 0.02 && (p[0] - 3.0).abs() < 0.02,
        "{p:?}"
    );
}

fn spec_error(spec: &str) -> LibraryError {
    library::compose(spec).unwrap_err()
}

#[test]
fn unknown_names_suggest_the_closest() {
    let e = library::get("gausian").unwrap_err();
    assert_eq!(
        e,
        LibraryError::UnknownModel {
            name: "gausian".into(),
            suggestion: Some("gaussian".into()),
            position: 0
        }
    );
    assert!(e.to_string().contains("did you mean `gaussian`"), "{e}");
    match spec_error("gaussian + lorentzain") {
        LibraryError::UnknownModel {
            suggestion,
            position,
            ..
        } => {
            assert_eq!((suggestion.as_deref(), position), (Some("lorentzian"), 11));
        }
        e => panic!("{e}"),
    }
    assert!(
        matches!(spec_error("polynomial"), LibraryError::UnknownModel { suggestion: Some(s), .. } if s.starts_with("poly"))
    );
    assert!(matches!(
        spec_error("zzzzzzzzzzzz"),
        LibraryError::UnknownModel {
            suggestion: None,
            ..
        }
    ));
}

#[test]
fn malformed_specs_are_typed_errors_with_positions() {
    let cases = [
        ("", 0, SpecProblem::EmptyPart),
        ("gaussian + + linear", 11, SpecProblem::EmptyPart),
        ("gaussian +", 10, SpecProblem::EmptyPart),
        (" :g1", 1, SpecProblem::EmptyPart),
        ("gaussian:", 9, SpecProblem::BadPrefix(String::new())),
        ("gaussian: 1g", 10, SpecProblem::BadPrefix("1g".into())),
        ("gaussian:a:b", 9, SpecProblem::BadPrefix("a:b".into())),
        ("gauss-ian", 0, SpecProblem::BadName("gauss-ian".into())),
        ("linear + poly13", 9, SpecProblem::DegreeTooLarge(13)),
        (
            "gaussian2d + gaussian",
            13,
            SpecProblem::MixedPredictors {
                model: "gaussian".into(),
                inputs: 1,
                expected: 2,
            },
        ),
    ];
    for (spec, position, problem) in cases {
        let e = spec_error(spec);
        assert_eq!(e, LibraryError::BadSpec { position, problem }, "{spec:?}");
        assert!(
            e.to_string().contains(&format!("column {}", position + 1)),
            "{e}"
        );
    }
}

#[test]
fn duplicate_parameters_ask_for_prefixes() {
    let e = spec_error("gaussian + gaussian");
    assert_eq!(
        e,
        LibraryError::DuplicateParameter {
            name: "amp".into(),
            position: 11
        }
    );
    assert!(e.to_string().contains("prefixes"), "{e}");
    assert!(matches!(
        spec_error("gaussian:p + lorentzian:p"),
        LibraryError::DuplicateParameter { .. }
    ));
    // `g_amp` from a prefix and a plain part's names do not collide with each other here.
    assert!(library::compose("gaussian:g + gaussian").is_ok());
}

#[test]
fn data_errors() {
    let g = library::get("gaussian").unwrap();
    let x: Vec<f64> = (0..20).map(f64::from).collect();
    let y: Vec<f64> = x.iter().map(|v| (-(v - 10.0) * (v - 10.0)).exp()).collect();
    let reason = |e: LibraryError| match e {
        LibraryError::CannotEstimate { reason, .. } => reason,
        e => panic!("{e}"),
    };
    assert!(matches!(
        g.estimate_p0(&[&x, &x], &y),
        Err(LibraryError::BadData { .. })
    ));
    assert!(matches!(
        g.estimate_p0(&[&x[..5]], &y),
        Err(LibraryError::BadData { .. })
    ));
    assert!(reason(g.estimate_p0(&[&x], &[1.0; 20]).unwrap_err()).contains("constant"));
    assert!(reason(g.estimate_p0(&[&x[..2]], &y[..2]).unwrap_err()).contains("2 usable"));
    assert!(reason(g.estimate_p0(&[&x], &[f64::NAN; 20]).unwrap_err()).contains("0 usable"));
    let neg: Vec<f64> = x.iter().map(|v| v - 5.0).collect();
    let pl = library::get("power_law").unwrap();
    assert!(reason(pl.estimate_p0(&[&neg], &y).unwrap_err()).contains("x > 0"));
    let mm = library::get("michaelis_menten").unwrap();
    assert!(reason(mm.estimate_p0(&[&neg], &y).unwrap_err()).contains("x ≥ 0"));
    let c = library::compose("gaussian + constant").unwrap();
    assert!(matches!(
        c.estimate_p0(&[&x], &[2.0; 20]),
        Err(LibraryError::CannotEstimate { .. })
    ));
    assert!(matches!(
        c.estimate_p0(&[], &y),
        Err(LibraryError::BadData { .. })
    ));
}

#[test]
fn lookup_is_case_insensitive_and_lists_names() {
    assert_eq!(library::get("GAUSSIAN").unwrap().name(), "gaussian");
    assert_eq!(library::get("poly4").unwrap().name(), "polynomial4");
    assert_eq!(
        library::get("linear").unwrap().param_names(),
        ["slope", "intercept"]
    );
    for m in library::models() {
        assert!(
            !m.description().is_empty() && !m.p0_method().is_empty() && !m.valid_range().is_empty()
        );
        assert!(m.model().is_ok(), "{}", m.name());
        assert_eq!(library::get(m.name()).unwrap().expr(), m.expr());
    }
    assert!(library::names().contains(&"polynomialN"));
}
