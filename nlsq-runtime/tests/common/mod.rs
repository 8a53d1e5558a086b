//! Data shared by the statistics tests.

/// `n` points `x = i · step`, `y = f(x)` plus a deterministic, irregular scatter of amplitude
/// `noise` (in `(−noise, noise)`).
pub fn scattered(n: usize, step: f64, noise: f64, f: impl Fn(f64) -> f64) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| i as f64 * step).collect();
    let y = x
        .iter()
        .enumerate()
        .map(|(i, &x)| f(x) + noise * ((i as f64 * 12.9898).sin() * 43758.5453).fract())
        .collect();
    (x, y)
}
