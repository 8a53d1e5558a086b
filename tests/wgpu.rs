//! The wgpu backend against the CPU and NIST (feature `wgpu`). Runs on any adapter, Mesa's
//! lavapipe included (Debian: `mesa-vulkan-drivers libvulkan1`); without one the tests say they
//! skipped, except under `CI=true`, where a missing adapter fails them.

#![cfg(feature = "wgpu")]
#![allow(clippy::too_many_arguments)]

#[path = "../kernels-gen/tests/corpus/models.rs"]
mod models;

#[path = "common/corpus_dispatch.rs"]
mod corpus_dispatch;

#[path = "common/nist.rs"]
mod nist;

use nlsq::backend::wgpu::{DeviceData, Gpu, WgpuObjective, cache};
use nlsq::{Backend, CurveFit, FitData, FitError, Loss, Method, Model, NanPolicy, Precision};
use nlsq::{ModelHash, model};
use std::sync::Arc;

#[model]
fn decay(x: f64, a: f64, b: f64, c: f64) -> f64 {
    a * (-b * x).exp() + c
}

#[model]
fn gaussian(x: f64, amp: f64, mu: f64, sigma: f64, c: f64) -> f64 {
    let d = x - mu;
    amp * (-(d * d) / (2.0 * sigma * sigma)).exp() + c
}

/// The shared adapter, or `None` after saying the test skipped (a failure under `CI=true`).
fn gpu() -> Option<Arc<Gpu>> {
    match Gpu::shared() {
        Ok(g) => {
            eprintln!("wgpu adapter: {} (f64: {})", g.describe(), g.has_f64);
            Some(g)
        }
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but no wgpu adapter: {e} (install mesa-vulkan-drivers libvulkan1)")
        }
        Err(e) => {
            eprintln!("SKIPPED: no wgpu adapter ({e}); install mesa-vulkan-drivers libvulkan1");
            None
        }
    }
}

/// Decay data with deterministic noise of amplitude `noise` and per-point sigma of the same
/// scale.
fn data(n: usize, noise: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / n as f64).collect();
    let mut s: u64 = 99;
    let y = x
        .iter()
        .map(|x| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let e = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            2.5 * (-1.3 * x).exp() + 0.4 + noise * e
        })
        .collect();
    let sigma = (0..n)
        .map(|i| noise * (0.8 + 0.4 * ((i % 7) as f64)))
        .collect();
    (x, y, sigma)
}

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

#[test]
fn wgpu_f64_fits_equal_cpu_fits() {
    let Some(gpu) = gpu() else { return };
    if !gpu.has_f64 {
        eprintln!("SKIPPED: adapter has no SHADER_F64");
        return;
    }
    // Low noise: the solution is determined far below the 1e-10 compared (with noisy data the
    // cost is flat to rounding over ~1e-9 of the parameters and any two summation orders stop
    // at different points of that flat region). Robust losses still see the same z = (r/f_scale)²
    // distribution: sigma is scaled with the noise.
    let (x, y, sigma) = data(20_000, 1e-4);
    for loss in [Loss::Linear, Loss::Huber, Loss::Cauchy] {
        for method in [Method::Lm, Method::Trf] {
            let fit = |backend| {
                CurveFit::new(Decay)
                    .p0([1.0, 1.0, 0.0])
                    .sigma(&sigma)
                    .loss(loss)
                    .f_scale(0.5)
                    .method(method)
                    .backend(backend)
                    .fit(&x, &y)
                    .unwrap()
            };
            let (cpu, dev) = (fit(Backend::Cpu), fit(Backend::Wgpu));
            assert!(dev.backend.starts_with("wgpu"), "{}", dev.backend);
            for j in 0..3 {
                assert!(
                    rel(dev.popt[j], cpu.popt[j]) < 1e-10,
                    "{loss} {method}: p{j} wgpu {} CPU {}",
                    dev.popt[j],
                    cpu.popt[j]
                );
                assert!(
                    rel(dev.pcov[j][j], cpu.pcov[j][j]) < 1e-8,
                    "{loss} {method}"
                );
            }
            // Re-runs on the device are bit-identical.
            let again = fit(Backend::Wgpu);
            let bits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&dev.popt), bits(&again.popt), "{loss} {method}");
        }
    }
}

/// Values of `expr` (a model in `x` with one parameter `a`, evaluated at `a = 1`) at `xs` by
/// the device's `nlsq_residuals` kernel (with `y = 0`).
fn device_values(gpu: &Arc<Gpu>, expr: &str, xs: &[f64], precision: Precision) -> Vec<f64> {
    let model = nlsq::ExprModel::parse(expr).unwrap();
    let zeros = vec![0.0; xs.len()];
    let data = FitData::new(vec![xs], &zeros, None, NanPolicy::Raise, 1).unwrap();
    let dev = DeviceData::upload(gpu, &data, precision).unwrap();
    let mut obj = WgpuObjective::new(&model, &dev, Loss::Linear, 1.0).unwrap();
    obj.residuals(&[1.0]).unwrap()
}

#[test]
fn f64_math_on_the_device_is_accurate() {
    let Some(gpu) = gpu() else { return };
    if !gpu.has_f64 {
        eprintln!("SKIPPED: adapter has no SHADER_F64");
        return;
    }
    let grid = |lo: f64, hi: f64| -> Vec<f64> {
        (0..4001)
            .map(|i| lo + (hi - lo) * i as f64 / 4000.0)
            .collect()
    };
    let cases: [(&str, fn(f64) -> f64, Vec<f64>); 12] = [
        ("a * exp(x)", f64::exp, grid(-700.0, 700.0)),
        ("a * ln(x)", f64::ln, grid(1e-300, 1e300)),
        ("a * ln(x)", f64::ln, grid(0.5, 2.0)),
        ("a * sin(x)", f64::sin, grid(-100.0, 100.0)),
        ("a * cos(x)", f64::cos, grid(-100.0, 100.0)),
        ("a * tan(x)", f64::tan, grid(-1.5, 1.5)),
        ("a * atan(x)", f64::atan, grid(-50.0, 50.0)),
        ("a * asin(x)", f64::asin, grid(-1.0, 1.0)),
        ("a * tanh(x)", f64::tanh, grid(-20.0, 20.0)),
        ("a * sinh(x)", f64::sinh, grid(-20.0, 20.0)),
        ("a * log10(x)", f64::log10, grid(1e-3, 1e6)),
        ("a * cbrt(x)", f64::cbrt, grid(-1e6, 1e6)),
    ];
    for (expr, f, xs) in cases {
        let got = device_values(&gpu, expr, &xs, Precision::F64);
        let mut worst = (0.0f64, 0.0);
        for (&x, &g) in xs.iter().zip(&got) {
            let want = f(x);
            let err = if want == 0.0 { g.abs() } else { rel(g, want) };
            if err > worst.0 {
                worst = (err, x);
            }
        }
        println!(
            "{expr:<14} worst relative error {:.2e} at x = {:e}",
            worst.0, worst.1
        );
        assert!(
            worst.0 < 1e-14,
            "{expr}: {:.3e} at x = {}",
            worst.0,
            worst.1
        );
    }
}
