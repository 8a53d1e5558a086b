//! The NIST StRD nonlinear regression problems: all 27, from both starting points, with
//! Levenberg–Marquardt and trust-region reflective, at tight tolerances and at defaults.
//! Prints the table of LREs (correct significant digits of the worst parameter against the
//! certified value) and holds the bars of the CPU-fits issue: 54/54 at LRE ≥ 6 per method with
//! tight tolerances; at least 45/54 with default settings.

#![allow(clippy::too_many_arguments)]

#[path = "../kernels-gen/tests/corpus/models.rs"]
mod models;

#[path = "common/corpus_dispatch.rs"]
mod corpus_dispatch;

#[path = "common/nist.rs"]
mod nist;

use nlsq::{CurveFit, Method};

fn lre_of(problem: &nist::Problem, start: usize, method: Method, tight: bool) -> f64 {
    let (model, _) = corpus_dispatch::lookup(&problem.model_fn).expect("NIST model in corpus");
    let mut fit = CurveFit::new(model)
        .p0(problem.starts[start].clone())
        .method(method);
    if tight {
        fit = fit.tol(1e-15).max_nfev(10_000);
    }
    match fit.fit(&problem.x, &problem.y) {
        Ok(r) => nist::lre(&r.popt, &problem.certified),
        Err(_) => 0.0,
    }
}

fn table(tight: bool) -> Vec<(String, [f64; 4])> {
    nist::NAMES
        .iter()
        .map(|name| {
            let p = nist::load(name);
            let row = [
                lre_of(&p, 0, Method::Lm, tight),
                lre_of(&p, 1, Method::Lm, tight),
                lre_of(&p, 0, Method::Trf, tight),
                lre_of(&p, 1, Method::Trf, tight),
            ];
            (name.to_string(), row)
        })
        .collect()
}

fn print(title: &str, rows: &[(String, [f64; 4])]) -> [usize; 2] {
    println!("{title}");
    println!(
        "{:<10} {:>8} {:>8} {:>8} {:>8}",
        "problem", "LM s1", "LM s2", "TRF s1", "TRF s2"
    );
    for (name, r) in rows {
        println!(
            "{name:<10} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
            r[0], r[1], r[2], r[3]
        );
    }
    let ok = |cols: [usize; 2]| {
        rows.iter()
            .map(|(_, r)| cols.iter().filter(|&&c| r[c] >= 6.0).count())
            .sum::<usize>()
    };
    let counts = [ok([0, 1]), ok([2, 3])];
    println!("LRE >= 6: LM {}/54, TRF {}/54\n", counts[0], counts[1]);
    counts
}

#[test]
fn nist_strd_tight_tolerances_all_54_per_method() {
    let rows = table(true);
    let [lm, trf] = print("NIST StRD, ftol = xtol = gtol = 1e-15", &rows);
    assert_eq!(lm, 54, "LM reached LRE >= 6 on {lm}/54");
    assert_eq!(trf, 54, "TRF reached LRE >= 6 on {trf}/54");
}

#[test]
fn nist_strd_default_settings_at_least_45() {
    let rows = table(false);
    let [lm, trf] = print("NIST StRD, default settings", &rows);
    assert!(lm >= 45, "LM reached LRE >= 6 on {lm}/54 at defaults");
    assert!(trf >= 45, "TRF reached LRE >= 6 on {trf}/54 at defaults");
}
