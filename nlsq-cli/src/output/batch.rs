//! Per-fit results of `nlsq batch`: CSV, `.npy` or JSON.

use crate::error::CliError;
use nlsq::batch::BatchResult;
use std::io::Write;
use std::path::Path;

/// Writes the results to `path` by its extension (`.csv`, `.npy`, `.json`), or CSV to stdout.
pub fn write(
    path: Option<&Path>,
    names: &[String],
    labels: &[String],
    r: &BatchResult,
) -> Result<(), CliError> {
    let ext = path
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let bytes = match ext.as_deref() {
        None | Some("csv") => csv(names, labels, r).into_bytes(),
        Some("json") => json(names, labels, r)?.into_bytes(),
        Some("npy") => npy(r),
        Some(e) => {
            return Err(CliError::usage(format!(
                "--output: `.{e}` is not .csv, .npy or .json"
            )));
        }
    };
    match path {
        None => std::io::stdout()
            .write_all(&bytes)
            .map_err(|e| CliError::io("<stdout>", e)),
        Some(p) => std::fs::write(p, bytes).map_err(|e| CliError::io(p, e)),
    }
}

fn perr(r: &BatchResult, i: usize, j: usize) -> f64 {
    r.perr_of(i).map_or(f64::NAN, |p| p[j])
}

fn csv(names: &[String], labels: &[String], r: &BatchResult) -> String {
    let mut s = String::from("fit,state,chi2,iterations");
    for n in names {
        s.push_str(&format!(",{n}"));
    }
    for n in names {
        s.push_str(&format!(",{n}_err"));
    }
    s.push('\n');
    for (i, label) in labels.iter().enumerate().take(r.n_fits) {
        s.push_str(&format!(
            "{label},{:?},{},{}",
            r.states[i], r.chi2[i], r.iterations[i]
        ));
        for p in r.params_of(i) {
            s.push_str(&format!(",{p}"));
        }
        for j in 0..r.n_params {
            s.push_str(&format!(",{}", perr(r, i, j)));
        }
        s.push('\n');
    }
    s
}

fn finite(v: f64) -> serde_json::Value {
    if v.is_finite() {
        serde_json::Value::from(v)
    } else {
        serde_json::Value::Null
    }
}

fn json(names: &[String], labels: &[String], r: &BatchResult) -> Result<String, CliError> {
    let fits: Vec<serde_json::Value> = (0..r.n_fits)
        .map(|i| {
            let params: serde_json::Map<String, serde_json::Value> = names
                .iter()
                .zip(r.params_of(i))
                .map(|(n, p)| (n.clone(), finite(*p)))
                .collect();
            let errs: serde_json::Map<String, serde_json::Value> = names
                .iter()
                .enumerate()
                .map(|(j, n)| (n.clone(), finite(perr(r, i, j))))
                .collect();
            serde_json::json!({
                "fit": labels[i],
                "state": format!("{:?}", r.states[i]),
                "chi2": finite(r.chi2[i]),
                "iterations": r.iterations[i],
                "params": params,
                "perr": errs,
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "params": names,
        "backend": format!("{:?}", r.backend),
        "reason": r.reason,
        "fits": fits,
    }))
    .map_err(|e| CliError::usage(format!("cannot serialize the results: {e}")))
}

/// A `(fits, 2P + 3)` f8 array: parameters, standard errors, state code, χ², iterations.
fn npy(r: &BatchResult) -> Vec<u8> {
    let cols = 2 * r.n_params + 3;
    let mut header = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {cols}), }}",
        r.n_fits
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((header.len() as u16).to_le_bytes());
    v.extend(header.as_bytes());
    for i in 0..r.n_fits {
        let row = r
            .params_of(i)
            .iter()
            .copied()
            .chain((0..r.n_params).map(|j| perr(r, i, j)))
            .chain([
                f64::from(r.states[i].code()),
                r.chi2[i],
                f64::from(r.iterations[i]),
            ]);
        for x in row {
            v.extend(x.to_le_bytes());
        }
    }
    v
}
