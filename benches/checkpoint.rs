//! What checkpoints and profiling cost a CPU fit: the decay of `benches/fit_cpu.rs` (lm,
//! default tolerances) at N = 1e3 and 1e5, plain, with a checkpoint after every iteration
//! (the most frequent setting; the writer thread does the I/O, the solver only clones its
//! `P × P` state), and with the profile on. The checkpoint fits also hash the data once
//! (to refuse resuming against other data), which is part of the cost shown.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use nlsq::{CurveFit, Every, Method, model};
use std::hint::black_box;
use std::time::Duration;

#[model]
fn decay(x: f64, a: f64, b: f64, c: f64) -> f64 {
    a * (-b * x).exp() + c
}

fn dataset(n: usize) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / n as f64).collect();
    let y = x
        .iter()
        .enumerate()
        .map(|(i, x)| {
            2.5 * (-1.3 * x).exp() + 0.4 + 0.02 * (((i * 7919) % 1000) as f64 / 1e3 - 0.5)
        })
        .collect();
    (x, y)
}

fn bench(c: &mut Criterion) {
    let path = std::env::temp_dir().join(format!("nlsq-bench-{}.ckpt", std::process::id()));
    let mut group = c.benchmark_group("checkpoint_overhead");
    group.warm_up_time(Duration::from_millis(500));
    group.sample_size(30);
    for n in [1_000usize, 100_000] {
        let (x, y) = dataset(n);
        let base = || CurveFit::new(Decay).p0([1.0, 1.0, 0.0]).method(Method::Lm);
        for mode in ["plain", "checkpoint_every_iteration", "profile"] {
            group.bench_with_input(BenchmarkId::new(mode, n), &n, |b, _| {
                b.iter(|| {
                    let fit = match mode {
                        "plain" => base(),
                        "profile" => base().profile(true),
                        _ => base().checkpoint(&path, Every::Iterations(1)),
                    };
                    let r = fit.fit(black_box(&x), black_box(&y)).expect("fit");
                    assert!(r.success);
                    if let Some(c) = &r.checkpoint {
                        assert_eq!(c.failed, 0);
                    }
                    r.popt
                })
            });
        }
    }
    group.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, bench);
criterion_main!(benches);
