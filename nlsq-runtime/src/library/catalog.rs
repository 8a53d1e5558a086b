//! The table of library models and the lookup by name, with "did you mean" suggestions.

use super::error::{LibraryError, SpecProblem};
use super::model::{Estimator, LibraryModel};
use super::{exponential, oscillation, peaks, polynomial, saturation, sigmoid, surface};

/// The largest degree of `polynomialN` / `polyN`.
pub const MAX_POLYNOMIAL_DEGREE: usize = 12;

/// Shorthand for a table entry.
fn entry(
    name: &str,
    expr: &str,
    params: &[&str],
    description: &str,
    p0_method: &'static str,
    valid_range: &'static str,
    estimator: Estimator,
) -> LibraryModel {
    LibraryModel {
        name: name.to_string(),
        expr: expr.to_string(),
        params: params.iter().map(|p| p.to_string()).collect(),
        n_inputs: if expr.contains("x[1]") { 2 } else { 1 },
        description: description.to_string(),
        p0_method,
        valid_range,
        estimator,
    }
}

/// The fixed-name models, in the order they are listed.
const FIXED: [&str; 15] = [
    "gaussian",
    "lorentzian",
    "pseudo_voigt",
    "exp_decay",
    "exp_growth",
    "exp_decay2",
    "logistic",
    "power_law",
    "linear",
    "constant",
    "damped_sine",
    "michaelis_menten",
    "hill",
    "gaussian2d",
    "erf_step",
];

/// Every listed model: the fixed ones, then `polynomial2` standing for `polynomialN`.
pub fn models() -> Vec<LibraryModel> {
    FIXED
        .iter()
        .filter_map(|n| fixed(n))
        .chain(std::iter::once(polynomial_model(2)))
        .collect()
}

/// The names [`get`] accepts, with `polynomialN` / `polyN` for polynomials of any degree N
/// up to [`MAX_POLYNOMIAL_DEGREE`].
pub fn names() -> Vec<&'static str> {
    FIXED
        .iter()
        .copied()
        .chain(["polynomialN", "polyN"])
        .collect()
}

/// The model called `name` (case-insensitive): a fixed name, or `polynomialN` / `polyN`.
pub fn get(name: &str) -> Result<LibraryModel, LibraryError> {
    lookup(name, 0)
}

/// [`get`] for a name found at byte `position` of a spec.
pub(crate) fn lookup(name: &str, position: usize) -> Result<LibraryModel, LibraryError> {
    let lower = name.to_ascii_lowercase();
    if let Some(m) = fixed(&lower) {
        return Ok(m);
    }
    let digits = lower
        .strip_prefix("polynomial")
        .or_else(|| lower.strip_prefix("poly"))
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    if let Some(d) = digits {
        return match d.parse::<usize>() {
            Ok(n) if n <= MAX_POLYNOMIAL_DEGREE => Ok(polynomial_model(n)),
            _ => Err(LibraryError::BadSpec {
                position,
                problem: SpecProblem::DegreeTooLarge(d.parse().unwrap_or(usize::MAX)),
            }),
        };
    }
    Err(LibraryError::UnknownModel {
        name: name.to_string(),
        suggestion: suggest(&lower),
        position,
    })
}

/// The closest listed name within an edit distance of about a third of its length.
fn suggest(name: &str) -> Option<String> {
    let mut candidates: Vec<&str> = names().into_iter().filter(|n| !n.ends_with('N')).collect();
    candidates.extend(["polynomial2", "poly2"]);
    let (best, d) = candidates
        .iter()
        .map(|c| (*c, edit_distance(name, c)))
        .min_by_key(|&(_, d)| d)?;
    // A polynomial without its degree: suggest the degree-2 form.
    let limit = (best.len() / 3).max(2);
    (d <= limit || name.starts_with("poly") && best.starts_with("poly")).then(|| best.to_string())
}

/// Levenshtein distance over bytes.
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// `polynomialN`.
fn polynomial_model(degree: usize) -> LibraryModel {
    let names: Vec<String> = (0..=degree).map(|k| format!("c{k}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut m = entry(
        &format!("polynomial{degree}"),
        &polynomial::formula(degree),
        &refs,
        "",
        "exact linear least squares (SVD) on x shifted and scaled to [-1, 1], expanded back to powers of x",
        "any coefficients; at least N + 1 points with distinct x; N ≤ MAX_POLYNOMIAL_DEGREE",
        Estimator::Polynomial {
            degree,
            descending: false,
        },
    );
    m.description =
        format!("polynomial of degree {degree}: c0 + c1 x + ... + c{degree} x^{degree}");
    m
}

/// The `erf_step` model (the Gaussian CDF, through `erf`).
fn erf_step() -> LibraryModel {
    entry(
        "erf_step",
        "offset + 0.5 * amp * (1 + erf((x - center) / (SQRT_2 * sigma)))",
        &["amp", "center", "sigma", "offset"],
        "step shaped as the Gaussian CDF: from offset to offset + amp around center, width sigma",
        super::texts::STEP_P0,
        super::texts::STEP_RANGE,
        Estimator::Curve(sigmoid::erf_step),
    )
}

/// A fixed-name model (lower case), `None` for unknown names.
#[rustfmt::skip]
fn fixed(name: &str) -> Option<LibraryModel> {
    use super::texts as t;
    let (e, c, p) = (entry, Estimator::Curve, Estimator::Peak);
    Some(match name {
        "gaussian" => e("gaussian", "amp * exp(-(x - mu) * (x - mu) / (2 * sigma * sigma))", &["amp", "mu", "sigma"], "Gaussian peak of height amp at mu, standard deviation sigma", t::PEAK_P0, t::GAUSSIAN_RANGE, p(peaks::gaussian)),
        "lorentzian" => e("lorentzian", "amp * gamma * gamma / ((x - mu) * (x - mu) + gamma * gamma)", &["amp", "mu", "gamma"], "Lorentzian (Cauchy) peak of height amp at mu, half width at half maximum gamma", t::PEAK_P0, t::LORENTZIAN_RANGE, p(peaks::lorentzian)),
        "pseudo_voigt" => e("pseudo_voigt", "amp * ((1 - eta) * exp(-LN_2 * (x - mu) * (x - mu) / (sigma * sigma)) + eta * sigma * sigma / ((x - mu) * (x - mu) + sigma * sigma))", &["amp", "mu", "sigma", "eta"], "pseudo-Voigt peak of height amp at mu: (1 - eta) Gaussian + eta Lorentzian sharing the half width at half maximum sigma", t::PSEUDO_VOIGT_P0, t::PSEUDO_VOIGT_RANGE, p(peaks::pseudo_voigt)),
        "exp_decay" => e("exp_decay", "amp * exp(-x / tau) + offset", &["amp", "tau", "offset"], "exponential decay with time constant tau (tau > 0) towards offset", t::EXP_P0, t::EXP_DECAY_RANGE, c(exponential::exp_decay)),
        "exp_growth" => e("exp_growth", "amp * exp(x / tau) + offset", &["amp", "tau", "offset"], "exponential growth with time constant tau (tau > 0) from offset", t::EXP_P0, t::EXP_GROWTH_RANGE, c(exponential::exp_growth)),
        "exp_decay2" => e("exp_decay2", "amp1 * exp(-x / tau1) + amp2 * exp(-x / tau2) + offset", &["amp1", "tau1", "amp2", "tau2", "offset"], "two exponential decays (fast tau1 < slow tau2) and an offset", t::EXP2_P0, t::EXP_DECAY2_RANGE, c(exponential::exp_decay2)),
        "logistic" => e("logistic", "offset + amp / (1 + exp(-(x - center) / width))", &["amp", "center", "width", "offset"], "logistic step from offset to offset + amp around center, width > 0", t::STEP_P0, t::LOGISTIC_RANGE, c(sigmoid::logistic)),
        "power_law" => e("power_law", "amp * pow(x, exponent)", &["amp", "exponent"], "power law amp * x^exponent, x > 0", t::POWER_P0, t::POWER_RANGE, c(exponential::power_law)),
        "linear" => e("linear", "slope * x + intercept", &["slope", "intercept"], "straight line", t::LINEAR_P0, t::LINEAR_RANGE, Estimator::Polynomial { degree: 1, descending: true }),
        "constant" => e("constant", "c", &["c"], "constant", t::LINEAR_P0, t::LINEAR_RANGE, Estimator::Polynomial { degree: 0, descending: false }),
        "damped_sine" => e("damped_sine", "amp * exp(-decay * x) * sin(2 * pi * freq * x + phase) + offset", &["amp", "decay", "freq", "phase", "offset"], "exponentially damped sine: amplitude amp at x = 0, decay rate, frequency freq (cycles per unit x), phase", t::SINE_P0, t::SINE_RANGE, c(oscillation::damped_sine)),
        "michaelis_menten" => e("michaelis_menten", "vmax * x / (km + x)", &["vmax", "km"], "Michaelis-Menten saturation: vmax at x >> km, half of it at x = km", t::MM_P0, t::MM_RANGE, c(saturation::michaelis_menten)),
        "hill" => e("hill", "vmax * pow(x, n) / (pow(k, n) + pow(x, n))", &["vmax", "k", "n"], "Hill equation: saturation at vmax, half of it at x = k, Hill coefficient n", t::HILL_P0, t::HILL_RANGE, c(saturation::hill)),
        "gaussian2d" => e("gaussian2d", "amp * exp(-(x[0] - x0) * (x[0] - x0) / (2 * sigma_x * sigma_x) - (x[1] - y0) * (x[1] - y0) / (2 * sigma_y * sigma_y)) + offset", &["amp", "x0", "y0", "sigma_x", "sigma_y", "offset"], "axis-aligned 2-D Gaussian on predictors x[0], x[1] with a constant offset", t::GAUSS2D_P0, t::GAUSS2D_RANGE, c(surface::gaussian2d)),
        "erf_step" => erf_step(),
        _ => return None,
    })
}
