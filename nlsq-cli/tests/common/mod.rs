//! Helpers of the command-line tests: a scratch directory per test, data writers, the binary.

#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The `nlsq` binary.
pub fn nlsq() -> Command {
    Command::cargo_bin("nlsq").expect("the nlsq binary is built")
}

/// An empty scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch directory");
    d
}

/// `.npy` bytes of an f8 (or f4) array of `shape`, C or Fortran order.
pub fn npy_bytes(shape: &[usize], fortran: bool, f32: bool, data: &[f64]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut h = format!(
        "{{'descr': '{}', 'fortran_order': {}, 'shape': {shape}, }}",
        if f32 { "<f4" } else { "<f8" },
        if fortran { "True" } else { "False" }
    );
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((h.len() as u16).to_le_bytes());
    v.extend(h.as_bytes());
    for x in data {
        if f32 {
            v.extend((*x as f32).to_le_bytes());
        } else {
            v.extend(x.to_le_bytes());
        }
    }
    v
}

/// Noisy decay data `2.5 exp(−1.3 x) + 0.4` on `[0, 5]`, deterministic.
pub fn decay(n: usize) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / (n - 1) as f64).collect();
    let y = x
        .iter()
        .enumerate()
        .map(|(i, x)| {
            2.5 * (-1.3 * x).exp() + 0.4 + 0.01 * ((i * 7919 % 1000) as f64 / 500.0 - 1.0)
        })
        .collect();
    (x, y)
}

/// CSV text with a header.
pub fn csv(header: &[&str], cols: &[&[f64]]) -> String {
    let mut s = header.join(",") + "\n";
    for i in 0..cols[0].len() {
        let row: Vec<String> = cols.iter().map(|c| format!("{:?}", c[i])).collect();
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

/// Runs the command, expects `code`, returns stdout.
pub fn run_ok(cmd: &mut Command, code: i32) -> String {
    let out = cmd.output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs the command, expects exit status 2, returns stderr.
pub fn run_bad(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `popt` of a JSON report.
pub fn popt(json: &serde_json::Value) -> Vec<f64> {
    json["popt"]
        .as_array()
        .expect("popt")
        .iter()
        .map(|v| v.as_f64().expect("finite popt"))
        .collect()
}

/// Parses JSON text.
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}
