//! Issue 11 A/B: `fit_cpu_decay/1000`'s work, fit after fit, for callgrind.
use nlsq::{CurveFit, model};

#[model]
fn decay(x: f64, a: f64, b: f64, c: f64) -> f64 {
    a * (-b * x).exp() + c
}

fn main() {
    let n = 1000;
    let fits: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    let x: Vec<f64> = (0..n).map(|i| i as f64 * 5.0 / n as f64).collect();
    let y: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, x)| 3.0 * (-1.3 * x).exp() + 0.5 + 0.01 * (((i * 7919) % 1000) as f64 / 500.0 - 1.0))
        .collect();
    let mut s = 0.0;
    for _ in 0..fits {
        let r = CurveFit::new(Decay).p0([1.0, 1.0, 0.0]).fit(x.as_slice(), &y).unwrap();
        s += r.popt[1] + r.nfev as f64;
    }
    println!("{s}");
}
