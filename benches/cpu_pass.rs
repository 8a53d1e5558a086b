//! One CPU pass (cost, JᵀJ, Jᵀr over all points) per instruction set, in ns per point, one
//! thread: what the vector paths of `backend::cpu_block` buy over the baseline.
//!
//! `RAYON_NUM_THREADS=1 cargo bench --bench cpu_pass` — the best of many repetitions, so that
//! other load on the machine shows as little as possible.

use nlsq::backend::{CpuBackend, Simd};
use nlsq::{FitData, Loss, Model, NanPolicy};
use nlsq_testkit::models::{Decay, Gaussian};
use std::hint::black_box;
use std::time::Instant;

/// Best time of one pass, in ns per point.
fn ns_per_point<M: Model>(m: M, data: &FitData<'_>, p: &[f64], loss: Loss, simd: Simd) -> f64 {
    let b = CpuBackend::new(m, data, loss, 1.0).with_simd(simd);
    let reps = (20_000_000 / data.len()).clamp(20, 2000);
    let mut best = f64::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        black_box(b.row(black_box(p)));
        best = best.min(t.elapsed().as_secs_f64());
    }
    best * 1e9 / data.len() as f64
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("processor: {:?}", Simd::Auto.resolve());
    println!("| N | pass | baseline (ns/pt) | AVX2 (ns/pt) | AVX-512 (ns/pt) |");
    println!("|---:|---|---:|---:|---:|");
    for n in [10_000usize, 1_000_000] {
        let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / n as f64).collect();
        let y: Vec<f64> = x.iter().map(|x| 2.5 * (-1.3 * x).exp() + 0.4).collect();
        let data = FitData::new(vec![&x[..]], &y, None, NanPolicy::Raise, 1).expect("valid");
        let row = |name: &str, f: &dyn Fn(Simd) -> f64| {
            let t: Vec<String> = [Simd::Baseline, Simd::Avx2, Simd::Avx512]
                .into_iter()
                .map(|s| {
                    if s.resolve() == s {
                        format!("{:.2}", f(s))
                    } else {
                        "n/a".to_string()
                    }
                })
                .collect();
            println!("| {n:.0e} | {name} | {} |", t.join(" | "));
        };
        let p = [2.0, 1.0, 0.3];
        row("decay", &|s| {
            ns_per_point(Decay, &data, &p, Loss::Linear, s)
        });
        row("gaussian", &|s| {
            ns_per_point(Gaussian, &data, &p, Loss::Linear, s)
        });
        row("decay, huber loss", &|s| {
            ns_per_point(Decay, &data, &p, Loss::Huber, s)
        });
    }
}
