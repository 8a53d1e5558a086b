//! Whole CPU fits (Levenberg–Marquardt, default tolerances) of an exponential decay and a
//! Gaussian at N = 1e3 … 1e6, on the same data `benches/scipy_cpu.py` gives scipy.
//! Run all of it side by side with `bash benches/run_cpu_vs_scipy.sh`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use nlsq::{CurveFit, Method};
use nlsq_testkit::models::{Decay, Gaussian};
use nlsq_testkit::streaming::noise;
use std::hint::black_box;
use std::time::Duration;

/// (x, y) for the decay (`x` in [0, 5)) or the Gaussian (`x` in [-5, 5)).
pub fn dataset(which: &str, n: usize) -> (Vec<f64>, Vec<f64>) {
    // Uniform deviates in [-0.5, 0.5) from the 64-bit LCG the scipy script reproduces bit for bit.
    let e = noise(n, 12345);
    match which {
        "decay" => {
            let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / n as f64).collect();
            let y = x
                .iter()
                .zip(&e)
                .map(|(x, e)| 2.5 * (-1.3 * x).exp() + 0.4 + 0.02 * e)
                .collect();
            (x, y)
        }
        _ => {
            let x: Vec<f64> = (0..n).map(|i| -5.0 + 10.0 * i as f64 / n as f64).collect();
            let y = x
                .iter()
                .zip(&e)
                .map(|(x, e)| 3.0 * (-(x - 0.4) * (x - 0.4) / (2.0 * 0.9 * 0.9)).exp() + 0.02 * e)
                .collect();
            (x, y)
        }
    }
}

fn bench(c: &mut Criterion) {
    for which in ["decay", "gaussian"] {
        let mut group = c.benchmark_group(format!("fit_cpu_{which}"));
        group.warm_up_time(Duration::from_millis(500));
        for n in [1_000usize, 10_000, 100_000, 1_000_000] {
            let (x, y) = dataset(which, n);
            group.sample_size(if n >= 1_000_000 { 10 } else { 30 });
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| {
                    let r = if which == "decay" {
                        CurveFit::new(Decay)
                            .p0([1.0, 1.0, 0.0])
                            .method(Method::Lm)
                            .fit(black_box(&x), black_box(&y))
                    } else {
                        CurveFit::new(Gaussian)
                            .p0([1.0, 0.0, 1.0])
                            .method(Method::Lm)
                            .fit(black_box(&x), black_box(&y))
                    }
                    .expect("fit");
                    assert!(r.success);
                    r.popt
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
