//! On the GPU machine (feature `cuda`): whole fits of host data through `Backend::Cuda`
//! (upload included): the first fit of a fresh process (device start-up and kernel build or
//! disk cache included), then warm fits. Beside `benches/nlsq_python.py` in one command:
//!
//! ```sh
//! cargo bench --features cuda --bench cuda_host_fits -- 1e6
//! ```
//! Prints `RESULT {...}`.

use nlsq::{Backend, CurveFit, Method, model};
use std::time::Instant;

#[model]
fn decay(x: f64, a: f64, b: f64, c: f64) -> f64 {
    a * (-b * x).exp() + c
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<f64>().ok())
        .map_or(1_000_000, |v| v as usize);
    let x: Vec<f64> = (0..n).map(|i| 5.0 * i as f64 / n as f64).collect();
    let mut s: u64 = 12345;
    let y: Vec<f64> = x
        .iter()
        .map(|x| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            2.5 * (-1.3 * x).exp() + 0.4 + 0.02 * ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
        })
        .collect();
    let fit = || {
        CurveFit::new(Decay)
            .p0([1.0, 1.0, 0.0])
            .method(Method::Lm)
            .backend(Backend::Cuda)
            .fit(&x, &y)
            .expect("fit")
    };
    let t = Instant::now();
    let first = fit();
    let cold = t.elapsed().as_secs_f64();
    let mut warm: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(fit());
            t.elapsed().as_secs_f64()
        })
        .collect();
    warm.sort_by(f64::total_cmp);
    let warm = warm[warm.len() / 2];
    println!(
        "nlsq (Rust, CUDA): N = {n}: first fit in process {:.1} ms, warm {:.2} ms, popt {:?}, {}",
        cold * 1e3,
        warm * 1e3,
        first.popt,
        first.backend
    );
    println!(
        "RESULT {{\"impl\":\"nlsq-rust-cuda\",\"n\":{n},\"cold_s\":{cold:.5},\"warm_s\":{warm:.6}}}"
    );
}
