//! `nlsq fit --profile`: profile-likelihood intervals in the summary and the JSON, equal to the
//! runtime's `conf_interval` with the same refits (the profiled parameter's own bounds lifted,
//! the others' kept), and typed errors for names that are not free parameters.

mod common;
use common::*;
use nlsq::conf_interval::{ProfileInterval, Refit, conf_interval};
use nlsq::{CurveFit, ExprModel, FitError, FitResult, Method};

const MODEL: &str = "a*exp(-b*x)";

/// Twelve points of `3 exp(−0.9 x)` with a scatter of 0.4: few and noisy, so the decay
/// rate's interval is clearly asymmetric.
fn data() -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..12).map(|i| i as f64 * 0.5).collect();
    let y = x
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            3.0 * (-0.9 * x).exp() + 0.4 * ((i as f64 * 12.9898).sin() * 43758.5453).fract()
        })
        .collect();
    (x, y)
}

/// The `profile` entries of the JSON report, by name.
fn reported(r: &serde_json::Value, name: &str) -> serde_json::Value {
    r["profile"]
        .as_array()
        .expect("a profile array")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no profile of {name}: {}", r["profile"]))
        .clone()
}

fn assert_same(got: &serde_json::Value, want: &ProfileInterval) {
    let width = want.upper - want.lower;
    for (field, w) in [
        ("value", want.value),
        ("lower", want.lower),
        ("upper", want.upper),
    ] {
        let g = got[field].as_f64().unwrap();
        assert!(
            (g - w).abs() <= 1e-9 * width,
            "{} {field}: the CLI's {g}, the runtime's {w}",
            want.name
        );
    }
    for (field, w) in [("chi2_min", want.chi2_min), ("threshold", want.threshold)] {
        let g = got[field].as_f64().unwrap();
        assert!(
            (g - w).abs() <= 1e-12 * w,
            "{} {field}: {g} vs {w}",
            want.name
        );
    }
}

#[test]
fn profile_intervals_equal_the_runtime_s() {
    let dir = scratch("profile");
    let (x, y) = data();
    let file = dir.join("d.csv");
    std::fs::write(&file, csv(&["x", "y"], &[&x, &y])).unwrap();
    let report = dir.join("r.json");
    let stdout = run_ok(
        nlsq()
            .arg("fit")
            .arg(&file)
            .args(["-m", MODEL, "--p0", "a=1,b=1", "--profile", "b,a", "--json"])
            .arg(&report),
        0,
    );
    assert!(
        stdout.contains("profile-likelihood 95% intervals"),
        "{stdout}"
    );
    let r = json(&std::fs::read_to_string(&report).unwrap());
    let names: Vec<&str> = r["profile"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["b", "a"], "in the order asked");

    let model = ExprModel::parse(MODEL).unwrap();
    let fit = CurveFit::new(&model).p0([1.0, 1.0]).fit(&x, &y).unwrap();
    let refit = |r: &Refit<'_>| CurveFit::new(r.model).p0(r.p0.to_vec()).fit(&x, &y);
    for name in ["a", "b"] {
        let want = conf_interval(&model, &fit, name, refit).unwrap();
        assert_same(&reported(&r, name), &want);
        // The summary prints the same ends (seven significant digits).
        let row = stdout
            .lines()
            .rev()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap();
        let ends: Vec<f64> = row
            .split(['[', ',', ']', ' '])
            .filter_map(|t| t.parse().ok())
            .collect();
        let [_, lower, upper] = ends[..] else {
            panic!("{row}")
        };
        assert!(
            (lower - want.lower).abs() <= 1e-6 * want.lower.abs(),
            "{row}"
        );
        assert!(
            (upper - want.upper).abs() <= 1e-6 * want.upper.abs(),
            "{row}"
        );
    }
    let b = reported(&r, "b");
    let (lo, v, hi) = (
        b["lower"].as_f64().unwrap(),
        b["value"].as_f64().unwrap(),
        b["upper"].as_f64().unwrap(),
    );
    assert!(
        ((hi - v) / (v - lo) - 1.0).abs() > 0.1,
        "b's interval is not asymmetric: {b}"
    );
}

#[test]
fn the_profiled_parameter_s_bounds_are_lifted_and_the_others_kept() {
    let dir = scratch("profile-bounds");
    let (x, y) = data();
    let file = dir.join("d.csv");
    std::fs::write(&file, csv(&["x", "y"], &[&x, &y])).unwrap();
    let stdout = run_ok(
        nlsq().arg("fit").arg(&file).args([
            "-m",
            MODEL,
            "--p0",
            "a=1,b=1",
            "--bounds",
            "b=0.8:2",
            "--profile",
            "a,b",
            "--json",
        ]),
        0,
    );
    let r = json(&stdout);
    // The same in the runtime: trf as the fit, each refit bounded as the parameters it fits.
    let model = ExprModel::parse(MODEL).unwrap();
    let (lo, hi) = ([f64::NEG_INFINITY, 0.8], [f64::INFINITY, 2.0]);
    let fit = CurveFit::new(&model)
        .p0([1.0, 1.0])
        .bounds(lo, hi)
        .fit(&x, &y)
        .unwrap();
    assert_eq!(fit.method, Method::Trf);
    let refit = |r: &Refit<'_>| -> Result<FitResult, FitError> {
        let other = 1 - r.index;
        CurveFit::new(r.model)
            .p0(r.p0.to_vec())
            .method(Method::Trf)
            .bounds([lo[other]], [hi[other]])
            .fit(&x, &y)
    };
    for name in ["a", "b"] {
        let want = conf_interval(&model, &fit, name, refit).unwrap();
        assert_same(&reported(&r, name), &want);
    }
    // b's fit stops at its lower bound; its profile goes below it.
    let b = reported(&r, "b");
    assert!((b["value"].as_f64().unwrap() - 0.8).abs() <= 1e-9, "{b}");
    assert!(b["lower"].as_f64().unwrap() < 0.75, "{b}");
}

#[test]
fn names_that_are_not_free_parameters_are_refused_before_the_fit() {
    let dir = scratch("profile-names");
    let (x, y) = data();
    let file = dir.join("d.csv");
    std::fs::write(&file, csv(&["x", "y"], &[&x, &y])).unwrap();
    let err = run_bad(nlsq().arg("fit").arg(&file).args([
        "-m",
        MODEL,
        "--p0",
        "a=1,b=1",
        "--profile",
        "b,k",
    ]));
    assert!(
        err.contains("--profile: the fit has no parameter `k` (the free parameters: a, b)"),
        "{err}"
    );
    let err = run_bad(nlsq().arg("fit").arg(&file).args([
        "-m",
        "a*exp(-b*x)+c",
        "--fix",
        "c=0",
        "--p0",
        "a=1,b=1",
        "--profile",
        "c",
    ]));
    assert!(
        err.contains(
            "--profile: `c` was not a free parameter of the fit (the free parameters: a, b)"
        ),
        "{err}"
    );
}
