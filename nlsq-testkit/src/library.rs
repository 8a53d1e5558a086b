//! Random problems for the model library's p0 estimators (`nlsq::library`): for each model
//! true parameters drawn across its documented range, noisy data at unsorted, unevenly
//! spaced x, and the success rule of a fit started from the estimated p0.
//!
//! Success: the fit converges (a tolerance met) and every parameter, put in canonical form
//! (positive widths, a damped sine's amplitude positive and phase wrapped, a logistic's width
//! positive, the faster exponential first), lies within `5 perr + 1e-6 |truth|` of the
//! truth. With Gaussian noise and a correct model, the fitted parameters scatter around the
//! truth by about `perr`, so a fit at the global minimum passes with probability ≈ 1 − 6e-7
//! per parameter; failures are fits that stopped elsewhere.

use crate::batch::support::Rng;
use nlsq::library::{self, LibraryModel};
use nlsq::{CurveFit, ExprModel};
use std::f64::consts::PI;

/// The models measured, with the row label of the table (names as looked up).
pub const MODELS: [&str; 17] = [
    "gaussian",
    "lorentzian",
    "pseudo_voigt",
    "exp_decay",
    "exp_growth",
    "exp_decay2",
    "logistic",
    "power_law",
    "constant",
    "linear",
    "polynomial2",
    "poly3",
    "polynomial5",
    "damped_sine",
    "michaelis_menten",
    "hill",
    "gaussian2d",
];

/// One random problem: predictor columns, observations, the truth and the noise's sigma.
pub struct Case {
    /// Predictor columns.
    pub x: Vec<Vec<f64>>,
    /// Noisy observations.
    pub y: Vec<f64>,
    /// The true parameters.
    pub truth: Vec<f64>,
    /// Standard deviation of the noise.
    pub noise: f64,
}

/// `10^u` for `u` uniform in `[log10 lo, log10 hi)`.
pub fn log_uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    10f64.powf(rng.uniform(lo.log10(), hi.log10()))
}

/// `±m` with a random sign and `m` log-uniform in `[lo, hi)`.
pub fn signed(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    let m = log_uniform(rng, lo, hi);
    if rng.uniform(0.0, 1.0) < 0.5 { -m } else { m }
}

/// `n` uniform random (unsorted) points in `[lo, hi)`.
pub fn uniform_points(rng: &mut Rng, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| rng.uniform(lo, hi)).collect()
}

/// A random problem for `name` with `n` points (`n` for 2-D models too).
pub fn case(name: &str, rng: &mut Rng, n: usize) -> Case {
    let model = library::get(name).expect("a library model");
    let (x, truth, noise) = draw(name, rng, n);
    let m = model.model().expect("library models compile");
    let y = (0..n)
        .map(|i| {
            let xi: Vec<f64> = x.iter().map(|c| c[i]).collect();
            nlsq::Model::eval(&m, &xi, &truth) + noise * rng.normal()
        })
        .collect();
    Case { x, y, truth, noise }
}

/// The predictors, truth and noise sigma of a random problem (the documented ranges).
fn draw(name: &str, rng: &mut Rng, n: usize) -> (Vec<Vec<f64>>, Vec<f64>, f64) {
    let span = log_uniform(rng, 1e-2, 1e2);
    let start = rng.uniform(-1.0, 1.0) * span;
    let noise_frac = rng.uniform(0.01, 0.03);
    let amp = signed(rng, 0.1, 1e3);
    let line = |rng: &mut Rng, lo: f64| vec![uniform_points(rng, n, lo, lo + span)];
    let (x, truth, scale) = match name {
        "gaussian" | "lorentzian" | "pseudo_voigt" => {
            let mu = start + span * rng.uniform(0.1, 0.9);
            let min_hwhm = 2.5 * span / n as f64;
            let (w, extra) = match name {
                "gaussian" => (log_uniform(rng, min_hwhm / 1.1774, span / 6.0), vec![]),
                "lorentzian" => (log_uniform(rng, min_hwhm, span / 12.0), vec![]),
                _ => (
                    log_uniform(rng, min_hwhm, span / 12.0),
                    vec![rng.uniform(0.0, 1.0)],
                ),
            };
            let mut t = vec![amp, mu, w];
            t.extend(extra);
            (line(rng, start), t, amp.abs())
        }
        "exp_decay" | "exp_growth" => {
            let tau = log_uniform(rng, span / 20.0, 2.0 * span);
            let offset = rng.uniform(-1.0, 1.0) * amp.abs();
            let a = if name == "exp_decay" {
                amp
            } else {
                amp * (-span / tau).exp()
            };
            (line(rng, 0.0), vec![a, tau, offset], amp.abs())
        }
        "exp_decay2" => {
            let tau1 = log_uniform(rng, span / 30.0, span / 8.0);
            let tau2 = tau1 * rng.uniform(4.0, 10.0);
            let amp2 = amp * log_uniform(rng, 1.0 / 3.0, 3.0);
            let offset = rng.uniform(-0.5, 0.5) * amp.abs();
            let t = vec![amp, tau1, amp2, tau2, offset];
            // Noise 0.5 % of amp1 + amp2.
            let scale = (amp + amp2).abs() * 0.005 / noise_frac;
            (line(rng, 0.0), t, scale)
        }
        "logistic" => {
            let center = start + span * rng.uniform(0.2, 0.8);
            let width = span * rng.uniform(0.02, 0.25) / (2.0 * 9f64.ln());
            let offset = rng.uniform(-1.0, 1.0) * amp.abs();
            (
                line(rng, start),
                vec![amp, center, width, offset],
                amp.abs(),
            )
        }
        "power_law" => {
            let lo = log_uniform(rng, 1e-2, 1e2);
            let hi = lo * log_uniform(rng, 3.0, 100.0);
            let b = rng.uniform(-3.0, 3.0);
            let ymax = amp.abs() * lo.powf(b).max(hi.powf(b));
            (vec![uniform_points(rng, n, lo, hi)], vec![amp, b], ymax)
        }
        "damped_sine" => {
            let periods = log_uniform(rng, 1.5, n as f64 / 10.0);
            let decay = rng.uniform(0.0, 2.0) / span;
            let lo = rng.uniform(0.0, 1.0) * span;
            let a = amp.abs() * (decay * lo).exp();
            let t = vec![
                a,
                decay,
                periods / span,
                rng.uniform(-PI, PI),
                rng.uniform(-1.0, 1.0) * amp.abs(),
            ];
            (line(rng, lo), t, amp.abs())
        }
        "michaelis_menten" => {
            let km = log_uniform(rng, span / 30.0, span);
            (line(rng, 0.0), vec![amp, km], amp.abs())
        }
        "hill" => {
            let k = span * rng.uniform(0.1, 0.5);
            let t = vec![amp.abs(), k, rng.uniform(0.5, 4.0)];
            (line(rng, 0.0), t, amp.abs())
        }
        "gaussian2d" => {
            let (sx, sy) = (span, span * log_uniform(rng, 0.5, 2.0));
            let (ox, oy) = (start, rng.uniform(-1.0, 1.0) * sy);
            let x0 = ox + sx * rng.uniform(0.2, 0.8);
            let y0 = oy + sy * rng.uniform(0.2, 0.8);
            let wx = sx * rng.uniform(1.0 / 12.0, 0.2);
            let wy = sy * rng.uniform(1.0 / 12.0, 0.2);
            let offset = rng.uniform(-1.0, 1.0) * amp.abs();
            let x = vec![
                uniform_points(rng, n, ox, ox + sx),
                uniform_points(rng, n, oy, oy + sy),
            ];
            (x, vec![amp, x0, y0, wx, wy, offset], amp.abs())
        }
        poly => {
            let model = library::get(poly).expect("a polynomial");
            let k = model.param_names().len();
            let t: Vec<f64> = (0..k).map(|_| amp * rng.uniform(-1.0, 1.0)).collect();
            let t = if poly == "linear" {
                vec![t[0] / span, t[1]]
            } else {
                t
            };
            (line(rng, start), t, amp.abs())
        }
    };
    (x, truth, noise_frac * scale)
}

/// The outcome of one trial.
pub struct Outcome {
    /// Whether the fit converged to the truth.
    pub ok: bool,
    /// Solver iterations (0 when no fit ran).
    pub iterations: usize,
    /// Why it failed (empty on success).
    pub why: String,
}

/// Estimates p0 for `case`, fits from it and applies the success rule.
pub fn trial(name: &str, lib: &LibraryModel, model: &ExprModel, case: &Case) -> Outcome {
    let cols: Vec<&[f64]> = case.x.iter().map(Vec::as_slice).collect();
    let fail = |why: String, iterations| Outcome {
        ok: false,
        iterations,
        why,
    };
    let p0 = match lib.estimate_p0(&cols, &case.y) {
        Ok(p) => p,
        Err(e) => return fail(format!("estimate: {e}"), 0),
    };
    let fit = match CurveFit::new(model).p0(p0.clone()).fit(&cols[..], &case.y) {
        Ok(f) => f,
        Err(e) => return fail(format!("fit: {e} (p0 {p0:?})"), 0),
    };
    if !fit.status.converged() {
        return fail(
            format!("status {:?} (p0 {p0:?})", fit.status),
            fit.iterations,
        );
    }
    let got = canonical(name, &fit.popt);
    let truth = canonical(name, &case.truth);
    for (j, (g, t)) in got.iter().zip(&truth).enumerate() {
        let mut d = (g - t).abs();
        if name == "damped_sine" && j == 3 {
            d = (d + PI).rem_euclid(2.0 * PI) - PI;
            d = d.abs();
        }
        if !(d <= 5.0 * fit.perr[j] + 1e-6 * t.abs()) {
            let why = format!(
                "{}: got {g}, truth {t}, perr {} (p0 {p0:?}, truth {truth:?}, popt {got:?})",
                lib.param_names()[j],
                fit.perr[j]
            );
            return fail(why, fit.iterations);
        }
    }
    Outcome {
        ok: true,
        iterations: fit.iterations,
        why: String::new(),
    }
}

/// Parameters in canonical form (the same curve, one representative).
pub fn canonical(name: &str, p: &[f64]) -> Vec<f64> {
    let mut p = p.to_vec();
    match name {
        "gaussian" | "lorentzian" | "pseudo_voigt" => p[2] = p[2].abs(),
        "gaussian2d" => (p[3], p[4]) = (p[3].abs(), p[4].abs()),
        "logistic" if p[2] < 0.0 => p = vec![-p[0], p[1], -p[2], p[3] + p[0]],
        "exp_decay2" if p[1] > p[3] => p = vec![p[2], p[3], p[0], p[1], p[4]],
        "damped_sine" => {
            if p[2] < 0.0 {
                (p[0], p[2], p[3]) = (-p[0], -p[2], -p[3]);
            }
            if p[0] < 0.0 {
                (p[0], p[3]) = (-p[0], p[3] + PI);
            }
            p[3] = (p[3] + PI).rem_euclid(2.0 * PI) - PI;
        }
        _ => {}
    }
    p
}

/// Success count and iterations of `trials` problems of `name`.
pub struct Summary {
    /// Trials run.
    pub trials: usize,
    /// Fits that met the success rule.
    pub successes: usize,
    /// Median solver iterations over all trials.
    pub median_iterations: usize,
    /// The reasons of the first few failures.
    pub failures: Vec<String>,
}

/// Runs `trials` random problems of `name` with `n` points from `seed`.
pub fn run(name: &str, trials: usize, n: usize, seed: u64) -> Summary {
    let lib = library::get(name).expect("a library model");
    let model = lib.model().expect("library models compile");
    let mut rng = Rng::new(seed);
    let (mut successes, mut iterations, mut failures) = (0, Vec::new(), Vec::new());
    for t in 0..trials {
        let c = case(name, &mut rng, n);
        let o = trial(name, &lib, &model, &c);
        successes += usize::from(o.ok);
        iterations.push(o.iterations);
        if !o.ok && failures.len() < 5 {
            failures.push(format!("trial {t}: {}", o.why));
        }
    }
    iterations.sort_unstable();
    Summary {
        trials,
        successes,
        median_iterations: iterations.get(trials / 2).copied().unwrap_or(0),
        failures,
    }
}
