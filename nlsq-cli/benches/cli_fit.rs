//! The command line against the library, side by side in one run:
//!
//! - a fit of 1e7 points from a `.npy` file by `nlsq fit` (the release binary, a whole
//!   process: start, read, compile the model, fit, report) against reading the same file
//!   into memory plus the library fit of those slices (`CurveFit::fit`); target: at most 1.5×;
//! - the rate at which `nlsq fit` parses CSV (the same data as text, one pass into memory),
//!   from its whole time minus the library fit's.
//!
//! `cargo bench -p nlsq-cli --bench cli_fit` (`NLSQ_BENCH_POINTS` changes the size; the files
//! go to the system's temporary directory and are removed afterwards).

use nlsq::{CurveFit, ExprModel};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const MODEL: &str = "a*exp(-b*x)+c";
const ROUNDS: usize = 5;

fn npy(path: &Path, x: &[f64], y: &[f64]) {
    let mut h = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, 2), }}",
        x.len()
    );
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((h.len() as u16).to_le_bytes());
    v.extend(h.as_bytes());
    v.reserve(16 * x.len());
    for (a, b) in x.iter().zip(y) {
        v.extend(a.to_le_bytes());
        v.extend(b.to_le_bytes());
    }
    std::fs::write(path, v).expect("write .npy");
}

/// Reads the `.npy` written by [`npy`] into two columns.
fn read_npy(path: &Path) -> (Vec<f64>, Vec<f64>) {
    let bytes = std::fs::read(path).expect("read");
    let h = nlsq::stream::NpyHeader::parse(&bytes).expect("header");
    let data = &bytes[h.data_offset..];
    let mut x = Vec::with_capacity(data.len() / 16);
    let mut y = Vec::with_capacity(data.len() / 16);
    for row in data.chunks_exact(16) {
        x.push(f64::from_le_bytes(row[..8].try_into().expect("8 bytes")));
        y.push(f64::from_le_bytes(row[8..].try_into().expect("8 bytes")));
    }
    (x, y)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn cli(file: &Path) -> f64 {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_nlsq"))
        .arg("fit")
        .arg(file)
        .args([
            "-m",
            MODEL,
            "--p0",
            "a=1,b=1,c=0",
            "--backend",
            "cpu",
            "-q",
            "--json",
            "-",
        ])
        .output()
        .expect("nlsq runs");
    let s = t.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!((r["popt"][1].as_f64().expect("b") - 1.3).abs() < 1e-3);
    s
}

fn main() {
    let n: usize = std::env::var("NLSQ_BENCH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let dir = std::env::temp_dir().join(format!("nlsq-cli-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / n as f64).collect();
    let y: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, x)| {
            2.5 * (-1.3 * x).exp() + 0.4 + 0.01 * ((i * 7919 % 1000) as f64 / 500.0 - 1.0)
        })
        .collect();
    let npy_path = dir.join("d.npy");
    let csv_path = dir.join("d.csv");
    npy(&npy_path, &x, &y);
    let mut text = String::with_capacity(40 * n + 8);
    text.push_str("x,y\n");
    for (a, b) in x.iter().zip(&y) {
        text.push_str(&format!("{a:?},{b:?}\n"));
    }
    std::fs::write(&csv_path, text).expect("write csv");
    drop((x, y));

    let model = ExprModel::parse(MODEL).expect("model");
    let (mut read, mut fit, mut whole, mut whole_csv) = (vec![], vec![], vec![], vec![]);
    // Interleaved rounds: the machine's drift hits every column alike.
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let (x, y) = read_npy(&npy_path);
        read.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let r = CurveFit::new(&model)
            .p0([1.0, 1.0, 0.0])
            .backend(nlsq::Backend::Cpu)
            .fit(&x, &y)
            .expect("fit");
        fit.push(t.elapsed().as_secs_f64());
        assert!((r.popt[1] - 1.3).abs() < 1e-3);
        drop((x, y));
        whole.push(cli(&npy_path));
        whole_csv.push(cli(&csv_path));
    }
    let (read, fit, whole, whole_csv) =
        (median(read), median(fit), median(whole), median(whole_csv));
    let csv_bytes = std::fs::metadata(&csv_path).map(|m| m.len()).unwrap_or(0);
    println!(
        "| N | read .npy (s) | library fit (s) | `nlsq fit` .npy (s) | ratio | `nlsq fit` .csv (s) | CSV parse rate |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let parse = (whole_csv - fit).max(1e-9);
    println!(
        "| {n:.0e} | {read:.3} | {fit:.3} | {whole:.3} | {:.2}x | {whole_csv:.3} | {:.1} M rows/s ({:.0} MB/s) |",
        whole / (read + fit),
        n as f64 / parse / 1e6,
        csv_bytes as f64 / parse / 1e6
    );
    let _ = std::fs::remove_dir_all(&dir);
}
