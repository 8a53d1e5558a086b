//! Measures how often fits started from the model library's automatic p0 reach the truth:
//! for every model, 1,000 random problems across its documented range (200 points at
//! unsorted, uneven x, Gaussian noise of 1–3 % of the signal scale; `nlsq_testkit::library`),
//! and prints a markdown table.
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
    for (k, name) in MODELS.iter().enumerate() {
        let s = run(name, trials, n, 0x5EED + k as u64);
        let range = library::get(name)
            .map(|m| m.valid_range().to_string())
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
    for f in failures {
        eprintln!("{f}");
    }
}
