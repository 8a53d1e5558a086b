//! Quickstart: fit a Gaussian peak on a sloping background to embedded data and print the
//! summary.
//!
//! ```sh
//! cargo run --release --example quickstart
//! ```

use nlsq::{CurveFit, Loss, model};

/// A Gaussian peak on a linear background.
#[model]
fn peak(x: f64, amp: f64, mu: f64, sigma: f64, b0: f64, b1: f64) -> f64 {
    let d = (x - mu) / sigma;
    amp * (-0.5 * d * d).exp() + b0 + b1 * x
}

/// 61 points of a synthetic spectrum line, (x, y): amp 2, mu 0.15, sigma 0.7 on the background
/// 0.5 + 0.03 x, Gaussian noise of 0.02, and two glitches (x = 0.3 and x = 2.1).
#[rustfmt::skip]
const DATA: [(f64, f64); 61] = [
    (-3.0, 0.410), (-2.9, 0.419), (-2.8, 0.411), (-2.7, 0.402), (-2.6, 0.414), (-2.5, 0.407),
    (-2.4, 0.432), (-2.3, 0.462), (-2.2, 0.431), (-2.1, 0.436), (-2.0, 0.468), (-1.9, 0.478),
    (-1.8, 0.489), (-1.7, 0.491), (-1.6, 0.539), (-1.5, 0.593), (-1.4, 0.603), (-1.3, 0.686),
    (-1.2, 0.737), (-1.1, 0.847), (-1.0, 0.952), (-0.9, 1.118), (-0.8, 1.247), (-0.7, 1.441),
    (-0.6, 1.612), (-0.5, 1.781), (-0.4, 1.907), (-0.3, 2.107), (-0.2, 2.258), (-0.1, 2.376),
    (0.0, 2.424), (0.1, 2.488), (0.2, 2.481), (0.3, 3.747), (0.4, 2.410), (0.5, 2.264),
    (0.6, 2.144), (0.7, 2.008), (0.8, 1.812), (0.9, 1.651), (1.0, 1.489), (1.1, 1.331),
    (1.2, 1.161), (1.3, 1.059), (1.4, 0.975), (1.5, 0.825), (1.6, 0.799), (1.7, 0.726),
    (1.8, 0.665), (1.9, 0.685), (2.0, 0.636), (2.1, -0.420), (2.2, 0.595), (2.3, 0.598),
    (2.4, 0.580), (2.5, 0.596), (2.6, 0.581), (2.7, 0.597), (2.8, 0.614), (2.9, 0.574),
    (3.0, 0.595),
];

fn main() -> Result<(), nlsq::FitError> {
    let x: Vec<f64> = DATA.iter().map(|d| d.0).collect();
    let y: Vec<f64> = DATA.iter().map(|d| d.1).collect();

    // Least squares is pulled by the two glitches at x = 0.3 and x = 2.1 ...
    let plain = CurveFit::new(Peak)
        .p0([1.0, 0.0, 1.0, 0.0, 0.0])
        .fit(&x, &y)?;
    // ... a robust loss is not.
    let robust = CurveFit::new(Peak)
        .p0([1.0, 0.0, 1.0, 0.0, 0.0])
        .loss(Loss::SoftL1)
        .f_scale(0.05)
        .fit(&x, &y)?;

    println!("{plain}\n");
    println!("{robust}");
    Ok(())
}
