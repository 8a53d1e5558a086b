//! Measures how often fits started from the model library's automatic p0 reach the truth:
//! for every model, 1,000 random problems across its documented range (200 points at
//! unsorted, uneven x, Gaussian noise of 1–3 % of the signal scale; `nlsq_testkit::library`),
//! and prints a markdown table; then times the estimate on 1e7 points.
//!
//! ```sh
//! cargo run --release --example library_p0            # 1000 trials per model
//! cargo run --release --example library_p0 -- 200 500 # 200 trials of 500 points
//! ```

use nlsq::library;
use nlsq_testkit::library::{MODELS, run};
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let trials = args.first().copied().unwrap_or(1000);
    let n = args.get(1).copied().unwrap_or(200);
    println!("| model | documented range | points | trials | success % | median iterations |");
    println!("|---|---|---:|---:|---:|---:|");
    let mut failures = Vec::new();
    let start = Instant::now();
    for (k, name) in MODELS.iter().copied().enumerate() {
        let s = run(name, trials, n, 0x5EED + k as u64);
        let range = library::get(name)
            // A `|` in a cell (as in `|amp|`) would end it.
            .map(|m| m.valid_range().replace('|', "\\|"))
            .unwrap_or_default();
        println!(
            "| {name} | {range} | {n} | {} | {:.1} | {} |",
            s.trials,
            100.0 * s.successes as f64 / s.trials as f64,
            s.median_iterations
        );
        failures.extend(s.failures.into_iter().map(|f| format!("{name} {f}")));
    }
    eprintln!("{:.1} s", start.elapsed().as_secs_f64());
    large(10_000_000);
    for f in failures {
        eprintln!("{f}");
    }
}

/// Times p0 estimation on `n` points (a Gaussian on a line, unsorted x).
fn large(n: usize) {
    let x: Vec<f64> = (0..n)
        .map(|i| (i as f64 * 0.618_033_988_749_895).fract() * 10.0)
        .collect();
    let y: Vec<f64> = x
        .iter()
        .map(|&v| 3.0 * (-(v - 4.0) * (v - 4.0) / 0.5).exp() + 0.2 * v + 1.0)
        .collect();
    println!();
    println!("| spec | points | estimate (ms) |");
    println!("|---|---:|---:|");
    for spec in [
        "gaussian + linear",
        "exp_decay",
        "damped_sine",
        "logistic",
        "polynomial3",
    ] {
        let c = library::compose(spec).expect("a spec");
        let start = Instant::now();
        let ok = c.estimate_p0(&[&x], &y).is_ok();
        let ms = start.elapsed().as_secs_f64() * 1e3;
        println!(
            "| {spec} | {n:.0e} | {ms:.1}{} |",
            if ok { "" } else { " (error)" }
        );
    }
}
