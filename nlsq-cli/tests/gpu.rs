//! `--backend cuda` and `--backend wgpu` from the command line (features `cuda`, `wgpu`):
//! fits and batches on the device agree with the CPU; without a device, the device backend is
//! a clear error (exit status 2) and `auto` runs on the CPU. The CUDA execution tests need an
//! NVIDIA GPU (ignored here; on the GPU machine `cargo test -p nlsq-cli --features cuda --test
//! gpu -- --ignored`); the wgpu ones run on any adapter, Mesa's lavapipe included.

#![cfg(any(feature = "cuda", feature = "wgpu"))]

mod common;
use common::*;
use std::path::Path;

const MODEL: &str = "a*exp(-b*x)+c";

fn data(dir: &Path) -> std::path::PathBuf {
    let (x, y) = decay(300_000);
    let rows: Vec<f64> = x.iter().zip(&y).flat_map(|(a, b)| [*a, *b]).collect();
    let p = dir.join("d.npy");
    std::fs::write(&p, npy_bytes(&[300_000, 2], false, false, &rows)).unwrap();
    p
}

fn fit(data: &Path, backend: &str) -> serde_json::Value {
    json(&run_ok(
        nlsq().arg("fit").arg(data).args([
            "-m",
            MODEL,
            "--p0",
            "a=1,b=1,c=0",
            "-q",
            "--json",
            "--backend",
            backend,
        ]),
        0,
    ))
}

fn agrees_with_the_cpu(backend: &str) {
    let dir = scratch(&format!("gpu-{backend}"));
    let d = data(&dir);
    let cpu = fit(&d, "cpu");
    let dev = fit(&d, backend);
    assert!(
        dev["backend"].as_str().unwrap().starts_with(backend),
        "{}",
        dev["backend"]
    );
    let (a, b) = (popt(&cpu), popt(&dev));
    for j in 0..3 {
        assert!((a[j] - b[j]).abs() <= 1e-9 * a[j].abs(), "{a:?} vs {b:?}");
    }
    // A batch of 1,000 decays on the device against the CPU.
    let grid: Vec<f64> = (0..30).map(|i| i as f64 * 0.2).collect();
    let y: Vec<f64> = (0..1000)
        .flat_map(|i| {
            let (amp, rate) = (1.0 + 0.001 * i as f64, 0.5 + 0.0005 * i as f64);
            grid.iter()
                .map(move |x| amp * (-rate * x).exp())
                .collect::<Vec<_>>()
        })
        .collect();
    let m = dir.join("m.npy");
    std::fs::write(&m, npy_bytes(&[1000, 30], false, false, &y)).unwrap();
    let batch = |b: &str| {
        run_ok(
            nlsq().arg("batch").arg(&m).args([
                "-m",
                "a*exp(-b*x)",
                "--p0",
                "a=1,b=0.5",
                "-q",
                "--backend",
                b,
            ]),
            0,
        )
    };
    let (c, g) = (batch("cpu"), batch(backend));
    for (lc, lg) in c.lines().zip(g.lines()).skip(1) {
        let pc: Vec<f64> = lc
            .split(',')
            .skip(4)
            .take(2)
            .map(|v| v.parse().unwrap())
            .collect();
        let pg: Vec<f64> = lg
            .split(',')
            .skip(4)
            .take(2)
            .map(|v| v.parse().unwrap())
            .collect();
        for k in 0..2 {
            assert!((pc[k] - pg[k]).abs() <= 1e-6 * pc[k].abs(), "{lc} vs {lg}");
        }
    }
}

#[cfg(feature = "cuda")]
#[test]
#[ignore = "needs a CUDA GPU: on the GPU machine, run with -- --ignored"]
fn cuda_agrees_with_the_cpu() {
    agrees_with_the_cpu("cuda");
}

#[cfg(feature = "cuda")]
#[test]
fn without_a_cuda_device_cuda_is_an_error_and_auto_runs_on_the_cpu() {
    if nlsq::backend::cuda::Gpu::shared().is_ok() {
        eprintln!("a CUDA device is present: the no-device paths are not exercised here");
        return;
    }
    let dir = scratch("no-cuda");
    let d = data(&dir);
    let e = run_bad(
        nlsq()
            .arg("fit")
            .arg(&d)
            .args(["-m", MODEL, "--backend", "cuda"]),
    );
    assert!(e.to_lowercase().contains("cuda"), "{e}");
    assert!(
        fit(&d, "auto")["backend"]
            .as_str()
            .unwrap()
            .starts_with("cpu")
    );
}

#[cfg(feature = "wgpu")]
#[test]
fn wgpu_agrees_with_the_cpu() {
    agrees_with_the_cpu("wgpu");
}
