//! `nlsq global`: three data files sharing one parameter give scipy's fit of the concatenated
//! problem (`tests/scipy/global_reference.json`) to 1e-9, with per-file models, labels and
//! per-data-set starting values; bad input exits with status 2 and a message naming it.

mod common;
use common::*;
use std::path::PathBuf;

const DECAY: &str = "a*exp(-k*x)+c";
const RISE: &str = "b*x*exp(-k*x)";

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

fn numbers(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// The reference's three data sets as `run0.csv`, `run1.csv`, `run2.csv` (x, y, s), and
/// scipy's popt.
fn files(name: &str) -> (Vec<PathBuf>, Vec<f64>) {
    let r = json(include_str!("../../tests/scipy/global_reference.json"));
    let dir = scratch(name);
    let paths = (0..3)
        .map(|i| {
            let x = numbers(&r["x"][i]);
            let y = numbers(&r["y"][i]);
            let s = if i == 1 {
                numbers(&r["sigma1"])
            } else {
                vec![1.0; x.len()]
            };
            let path = dir.join(format!("run{i}.csv"));
            std::fs::write(&path, csv(&["x", "y", "s"], &[&x, &y, &s])).unwrap();
            path
        })
        .collect();
    (paths, numbers(&r["popt"]))
}

fn global(paths: &[PathBuf]) -> assert_cmd::Command {
    let mut cmd = nlsq();
    cmd.arg("global").args(paths).args(["--sigma", "s"]);
    cmd
}

#[test]
fn three_files_sharing_a_rate_give_scipys_fit() {
    let (paths, want) = files("global_scipy");
    let out = run_ok(
        global(&paths).args([
            "--model",
            DECAY,
            "--model",
            DECAY,
            "--model",
            RISE,
            "--shared",
            "k",
            "--p0",
            "a=1,k=1,c=0,b=1",
            "--json",
        ]),
        0,
    );
    let j = json(&out);
    let names: Vec<&str> = j["param_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["a[run0]", "k", "c[run0]", "a[run1]", "c[run1]", "b[run2]"]
    );
    let got = popt(&j);
    for (g, w) in got.iter().zip(&want) {
        assert!(rel(*g, *w) < 1e-9, "{got:?} vs scipy {want:?}");
    }
    let datasets = j["datasets"].as_array().expect("datasets");
    assert_eq!(datasets.len(), 3);
    assert_eq!(datasets[2]["model"], RISE);
    assert_eq!(datasets[1]["n_points"], 30);
    assert_eq!(j["files"].as_array().unwrap().len(), 3);
}

#[test]
fn labels_and_per_data_set_starting_values() {
    let (paths, _) = files("global_labels");
    let two = &paths[..2];
    let text = run_ok(
        global(two).args([
            "--model",
            DECAY,
            "--shared",
            "k",
            "--labels",
            "cold,hot",
            "--p0",
            "a[cold]=2,a[hot]=1,k=1,c=0",
            "--bounds",
            "k=0:5",
        ]),
        0,
    );
    assert!(
        text.contains("a[cold]") && text.contains("c[hot]"),
        "{text}"
    );
    assert!(text.contains("dataset") && text.contains("cold"), "{text}");
}

#[test]
fn bad_global_input_names_the_problem() {
    let (paths, _) = files("global_bad");
    let e = run_bad(global(&paths).args(["--model", DECAY, "--model", RISE]));
    assert!(
        e.contains("--model is given 2 times for 3 data sets"),
        "{e}"
    );
    let e = run_bad(global(&paths).args(["--model", DECAY, "--p0", "q=1"]));
    assert!(e.contains("`q` is neither"), "{e}");
    let e = run_bad(global(&paths).args(["--model", DECAY, "--p0", "a[run9]=1"]));
    assert!(e.contains("`a[run9]`"), "{e}");
    let e = run_bad(global(&paths).args(["--model", DECAY, "--shared", "z"]));
    assert!(e.contains("`z` is not a parameter"), "{e}");
    let e = run_bad(global(&paths).args(["--model", DECAY, "--labels", "a,b"]));
    assert!(e.contains("--labels names 2 data sets"), "{e}");
    let e = run_bad(global(&paths[..1]).args(["--model", DECAY]).arg(&paths[0]));
    assert!(e.contains("two data sets are labelled `run0`"), "{e}");
    let out = paths[0].clone();
    let e = run_bad(global(&paths).args(["--model", DECAY, "--json"]).arg(&out));
    assert!(e.contains("would be written over"), "{e}");
}
