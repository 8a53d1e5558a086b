//! NIST StRD: the loader (problems, names, LRE) and the tables of fits on any backend.

pub use crate::nist_files::*;

use nlsq::{Backend, CurveFit, Method, Precision};

/// LREs of one problem fitted on `backend` in `precision`: LM start 1, 2, TRF start 1, 2; a
/// failed fit scores 0. `tight`: tolerances 1e-15 and at most 10,000 passes, else the
/// defaults. A fit that succeeds must say it ran on `backend` (its result's `backend` starts
/// with `backend_name`).
pub fn row(
    p: &Problem,
    backend: Backend,
    backend_name: &str,
    precision: Precision,
    tight: bool,
) -> [f64; 4] {
    let (model, _) = crate::corpus::lookup(&p.model_fn).expect("NIST model in corpus");
    let mut row = [0.0; 4];
    for (m, method) in [Method::Lm, Method::Trf].into_iter().enumerate() {
        for (s, start) in p.starts.iter().enumerate() {
            let mut fit = CurveFit::new(model)
                .p0(start.clone())
                .method(method)
                .backend(backend)
                .precision(precision);
            if tight {
                fit = fit.tol(1e-15).max_nfev(10_000);
            }
            row[2 * m + s] = match fit.fit(&p.x, &p.y) {
                Ok(r) => {
                    assert!(r.backend.starts_with(backend_name), "{}", r.backend);
                    lre(&r.popt, &p.certified)
                }
                Err(_) => 0.0,
            };
        }
    }
    row
}

/// All 27 problems by [`row`], printed under `title`; returns the rows and the counts at
/// LRE >= 6 per method (of 54: 27 problems, 2 starts).
pub fn table(
    title: &str,
    backend: Backend,
    backend_name: &str,
    precision: Precision,
    tight: bool,
) -> (Vec<[f64; 4]>, [usize; 2]) {
    println!("{title}");
    println!(
        "{:<10} {:>7} {:>7} {:>7} {:>7}",
        "problem", "LM s1", "LM s2", "TRF s1", "TRF s2"
    );
    let mut ok = [0usize; 2];
    let mut rows = Vec::new();
    for name in NAMES {
        let row = row(&load(name), backend, backend_name, precision, tight);
        rows.push(row);
        for (c, v) in row.iter().enumerate() {
            ok[c / 2] += usize::from(*v >= 6.0);
        }
        println!(
            "{name:<10} {:>7.1} {:>7.1} {:>7.1} {:>7.1}",
            row[0], row[1], row[2], row[3]
        );
    }
    println!("LRE >= 6: LM {}/54, TRF {}/54\n", ok[0], ok[1]);
    (rows, ok)
}
