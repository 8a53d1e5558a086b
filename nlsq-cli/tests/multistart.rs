//! `nlsq fit --multistart K [--seed N]`: a global search from the command line, its minima in
//! the summary and in `--json`'s `search`, bad values as usage errors.

mod common;
use common::*;

/// Bard's problem (Moré, Garbow & Hillstrom 1981) from 10·x0: a local fit ends at
/// Σr² = 17.43, a 32-start search at the global minimum 8.21487e-3.
fn bard(dir: &std::path::Path) -> std::path::PathBuf {
    let y = [
        0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39,
    ];
    let u: Vec<f64> = (1..=15).map(f64::from).collect();
    let data = dir.join("bard.csv");
    std::fs::write(&data, csv(&["x", "y"], &[&u, &y])).unwrap();
    data
}

const BARD: &str = "p1 + x / ((16 - x) * p2 + min(x, 16 - x) * p3)";

#[test]
fn multistart_finds_bards_global_minimum() {
    let dir = scratch("multistart");
    let data = bard(&dir);
    let fit = |extra: &[&str]| {
        let mut c = nlsq();
        c.arg("fit")
            .arg(&data)
            .args(["-m", BARD, "--p0", "p1=10,p2=10,p3=10", "--json"])
            .args(extra);
        json(&run_ok(&mut c, 0))
    };
    let local = fit(&[]);
    assert!(2.0 * local["cost"].as_f64().unwrap() > 17.0, "{local}");
    assert!(local.get("search").is_none());
    let found = fit(&["--multistart", "32", "--seed", "1"]);
    let f = 2.0 * found["cost"].as_f64().unwrap();
    assert!((f - 8.21487e-3).abs() < 1e-5 * 8.21487e-3, "{f}");
    let search = &found["search"];
    assert_eq!(search["starts"], 32);
    assert_eq!(search["seed"], 1);
    assert!(!search["minima"].as_array().unwrap().is_empty());

    // The summary lists the minima.
    let mut c = nlsq();
    c.arg("fit").arg(&data).args([
        "-m",
        BARD,
        "--p0",
        "p1=10,p2=10,p3=10",
        "--multistart",
        "32",
    ]);
    let text = run_ok(&mut c, 0);
    assert!(text.contains("multistart: 32 starts"), "{text}");
    assert!(text.contains("reached by"), "{text}");
}

#[test]
fn bad_multistart_values_are_usage_errors() {
    let dir = scratch("multistart-bad");
    let data = bard(&dir);
    let fit = || {
        let mut c = nlsq();
        c.arg("fit").arg(&data).args(["-m", BARD, "-q"]);
        c
    };
    let e = run_bad(fit().args(["--multistart", "0"]));
    assert!(e.contains("multistart") && e.contains("0 starts"), "{e}");
    let e = run_bad(fit().args(["--multistart", "many"]));
    assert!(e.contains("many"), "{e}");
    let e = run_bad(fit().args(["--seed", "3"]));
    assert!(e.contains("--multistart"), "{e}");
}
