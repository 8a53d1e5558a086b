//! Library models from the command line: `nlsq models`, fits by name with automatic p0,
//! sums of models with prefixes, per-fit automatic p0 in batches, and the errors of unknown
//! or malformed model names.

mod common;
use common::*;

fn peaks(x: &[f64]) -> Vec<f64> {
    x.iter()
        .enumerate()
        .map(|(i, x)| {
            3.0 * (-(x - 2.0f64).powi(2) / (2.0 * 0.3f64.powi(2))).exp()
                + 1.5 * (-(x - 6.0f64).powi(2) / (2.0 * 0.5f64.powi(2))).exp()
                + 0.1 * x
                + 0.5
                + 0.005 * ((i * 7919 % 1000) as f64 / 500.0 - 1.0)
        })
        .collect()
}

#[test]
fn models_lists_the_library() {
    let out = run_ok(nlsq().arg("models"), 0);
    for name in [
        "gaussian",
        "lorentzian",
        "pseudo_voigt",
        "exp_decay",
        "exp_growth",
        "exp_decay2",
        "logistic",
        "power_law",
        "linear",
        "constant",
        "damped_sine",
        "michaelis_menten",
        "hill",
        "gaussian2d",
        "polynomialN",
    ] {
        assert!(out.contains(name), "{name} missing:\n{out}");
    }
    let one = json(&run_ok(nlsq().args(["models", "gaussian", "--json"]), 0));
    assert_eq!(
        one[0]["parameters"],
        serde_json::json!(["amp", "mu", "sigma"])
    );
    assert!(one[0]["p0_method"].as_str().is_some_and(|s| !s.is_empty()));
    let e = run_bad(nlsq().args(["models", "gausian"]));
    assert!(e.contains("gaussian"), "{e}");
}

#[test]
fn fits_by_name_with_automatic_p0() {
    let dir = scratch("library-fit");
    let x: Vec<f64> = (0..400).map(|i| i as f64 * 0.02).collect();
    let y = peaks(&x);
    let data = dir.join("peaks.csv");
    std::fs::write(&data, csv(&["x", "y"], &[&x, &y])).unwrap();
    let r = json(&run_ok(
        nlsq().arg("fit").arg(&data).args([
            "-m",
            "gaussian:g1 + gaussian:g2 + linear",
            "-q",
            "--json",
        ]),
        0,
    ));
    let names: Vec<&str> = r["param_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "g1_amp",
            "g1_mu",
            "g1_sigma",
            "g2_amp",
            "g2_mu",
            "g2_sigma",
            "slope",
            "intercept"
        ]
    );
    let p = popt(&r);
    // The peaks may come out in either order.
    let (a, b) = if p[1] < p[4] { (0, 3) } else { (3, 0) };
    let want = [(a, [3.0, 2.0, 0.3]), (b, [1.5, 6.0, 0.5])];
    for (at, w) in want {
        for k in 0..3 {
            assert!((p[at + k] - w[k]).abs() < 0.01 * w[k].abs(), "{p:?}");
        }
    }
    assert!(
        (p[6] - 0.1).abs() < 0.01 && (p[7] - 0.5).abs() < 0.02,
        "{p:?}"
    );

    // A given value overrides the estimate; the others are still estimated.
    let r = json(&run_ok(
        nlsq().arg("fit").arg(&data).args([
            "-m",
            "gaussian + linear",
            "--p0",
            "mu=2",
            "-q",
            "--json",
        ]),
        0,
    ));
    assert!((popt(&r)[1] - 2.0).abs() < 0.05, "{:?}", popt(&r));

    let e = run_bad(
        nlsq()
            .arg("fit")
            .arg(&data)
            .args(["-m", "gausian + linear"]),
    );
    assert!(e.contains("gaussian"), "suggestion: {e}");
    let e = run_bad(
        nlsq()
            .arg("fit")
            .arg(&data)
            .args(["-m", "gaussian + gaussian"]),
    );
    assert!(e.contains("prefix"), "{e}");
}

#[test]
fn batch_estimates_p0_per_fit() {
    let dir = scratch("library-batch");
    // 40 decays with time constants from 1 to 9 on a shared grid.
    let grid: Vec<f64> = (0..60).map(|i| i as f64 * 0.5).collect();
    let truth: Vec<[f64; 3]> = (0..40)
        .map(|i| [2.0 + 0.1 * i as f64, 1.0 + 0.2 * i as f64, 0.3])
        .collect();
    let y: Vec<f64> = truth
        .iter()
        .flat_map(|[a, tau, c]| grid.iter().map(move |x| a * (-x / tau).exp() + c))
        .collect();
    let m = dir.join("m.npy");
    let g = dir.join("grid.npy");
    std::fs::write(&m, npy_bytes(&[40, 60], false, false, &y)).unwrap();
    std::fs::write(&g, npy_bytes(&[60], false, false, &grid)).unwrap();
    let out = run_ok(
        nlsq()
            .arg("batch")
            .arg(&m)
            .args(["-m", "exp_decay", "--tol", "1e-14", "--x-grid"])
            .arg(&g),
        0,
    );
    let rows: Vec<Vec<f64>> = out
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .skip(4)
                .take(3)
                .map(|v| v.parse().unwrap())
                .collect()
        })
        .collect();
    for (r, t) in rows.iter().zip(&truth) {
        for k in 0..3 {
            assert!(
                (r[k] - t[k]).abs() < 1e-6 * t[k].abs().max(1.0),
                "{r:?} vs {t:?}"
            );
        }
    }
}
