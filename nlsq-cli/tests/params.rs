//! Fixed and tied parameters from the command line: `--fix` and `--tie` agree with the fit of
//! the hand-substituted model, the JSON and the summary show each parameter's kind, and bad
//! input exits with status 2 and a message naming the problem.

mod common;
use common::*;

fn two_peaks(x: &[f64]) -> Vec<f64> {
    x.iter()
        .enumerate()
        .map(|(i, x)| {
            3.0 * (-(x - 2.0f64).powi(2) / (2.0 * 0.4f64.powi(2))).exp()
                + 1.5 * (-(x - 6.0f64).powi(2) / (2.0 * 0.4f64.powi(2))).exp()
                + 0.005 * ((i * 7919 % 1000) as f64 / 500.0 - 1.0)
        })
        .collect()
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

fn data(name: &str) -> std::path::PathBuf {
    let dir = scratch(name);
    let x: Vec<f64> = (0..400).map(|i| i as f64 * 0.02).collect();
    let path = dir.join("peaks.csv");
    std::fs::write(&path, csv(&["x", "y"], &[&x, &two_peaks(&x)])).unwrap();
    path
}

const TWO: &str = "a1 * exp(-(x - m1) * (x - m1) / (2 * s1 * s1)) \
                   + a2 * exp(-(x - m2) * (x - m2) / (2 * s2 * s2))";
const HAND: &str = "a1 * exp(-(x - m1) * (x - m1) / (2 * s1 * s1)) \
                    + (0.5 * a1) * exp(-(x - m2) * (x - m2) / (2 * (s1) * (s1)))";

#[test]
fn fix_and_tie_agree_with_the_hand_substituted_model() {
    let data = data("params-tie");
    let got = json(&run_ok(
        nlsq().arg("fit").arg(&data).args([
            "-m",
            TWO,
            "--tie",
            "a2=0.5*a1",
            "--tie",
            "s2 = s1",
            "--p0",
            "a1=2,m1=2.2,s1=0.5,m2=5.8",
            "--json",
        ]),
        0,
    ));
    let want = json(&run_ok(
        nlsq().arg("fit").arg(&data).args([
            "-m",
            HAND,
            "--p0",
            "a1=2,m1=2.2,s1=0.5,m2=5.8",
            "--json",
        ]),
        0,
    ));
    let (g, w) = (popt(&got), popt(&want));
    // a1 m1 s1 a2 m2 s2 against the hand model's a1 m1 s1 m2
    for (k, i) in [(0, 0), (1, 1), (2, 2), (4, 3)] {
        assert!(rel(g[k], w[i]) <= 1e-12, "{g:?} {w:?}");
    }
    assert!(rel(g[3], 0.5 * g[0]) <= 1e-15 && g[5] == g[2], "{g:?}");
    assert_eq!(got["param_kinds"][3]["kind"], "tied");
    assert_eq!(got["param_kinds"][3]["expr"], "0.5*a1");
    assert_eq!(got["param_kinds"][0]["kind"], "free");
    let cost = |v: &serde_json::Value| v["cost"].as_f64().unwrap();
    assert!(rel(cost(&got), cost(&want)) <= 1e-12);
}

/// Two library Gaussians, the first one's centre fixed and the second one's width tied.
const CONSTRAINED: [&str; 6] = [
    "-m",
    "gaussian:g1 + gaussian:g2",
    "--fix",
    "g1_mu=2",
    "--tie",
    "g2_sigma=g1_sigma",
];

#[test]
fn fixed_parameters_in_the_summary_json_and_library_models() {
    let data = data("params-fix");
    let got = json(&run_ok(
        nlsq().arg("fit").arg(&data).args(CONSTRAINED).args([
            "--bounds",
            "g1_sigma=0.01:5",
            "--json",
        ]),
        0,
    ));
    let p = popt(&got);
    assert_eq!(p[1], 2.0);
    assert_eq!(p[5], p[2]);
    assert!(got["perr"][1].is_null(), "{}", got["perr"]);
    assert_eq!(got["param_kinds"][1]["kind"], "fixed");
    assert!(got["correlation"][1][0].is_null() && got["correlation"][0][0] == 1.0);
    assert!((p[2] - 0.4).abs() < 0.01, "{p:?}");
    let curve = data.with_file_name("curve.csv");
    let text = run_ok(
        nlsq()
            .arg("fit")
            .arg(&data)
            .args(CONSTRAINED)
            .arg("--curve")
            .arg(&curve),
        0,
    );
    assert!(
        text.contains("(fixed)") && text.contains("(tied: = g1_sigma)"),
        "{text}"
    );
    assert!(
        text.contains("correlation of the fitted parameters"),
        "{text}"
    );
    // The bands of a constrained fit are finite and nested: fixed parameters add nothing.
    let rows = std::fs::read_to_string(&curve).unwrap();
    for row in rows.lines().skip(1) {
        let v: Vec<f64> = row.split(',').map(|v| v.parse().unwrap()).collect();
        assert!(
            v[6] < v[4] && v[4] <= v[2] && v[2] <= v[5] && v[5] < v[7],
            "{row}"
        );
    }
}

#[test]
fn bad_fixed_and_tied_parameters_are_usage_errors() {
    let data = data("params-bad");
    let bad = |extra: &[&str]| {
        run_bad(
            nlsq()
                .arg("fit")
                .arg(&data)
                .args(["-m", "a * exp(-b * x) + c"])
                .args(extra),
        )
    };
    let cases: [(&[&str], &str); 9] = [
        (&["--fix", "z=1"], "no parameter `z`"),
        (&["--fix", "b"], "not name=value"),
        (&["--tie", "a=b", "--tie", "b=a"], "cycle"),
        (&["--tie", "b=2*b"], "refers to `b` itself"),
        (&["--tie", "b=a+*2"], "tie `b = a+*2`"),
        (&["--fix", "a=1,b=2,c=3"], "at least one must be free"),
        (&["--fix", "b=1", "--bounds", "b=0:2"], "`b` is fixed"),
        (&["--tie", "c=a", "--p0", "c=1"], "`c` is tied"),
        (&["--tie", "c=q"], "`q` is not a parameter"),
    ];
    for (extra, want) in cases {
        let e = bad(extra);
        assert!(e.contains(want), "{extra:?}: {e}");
    }
}
