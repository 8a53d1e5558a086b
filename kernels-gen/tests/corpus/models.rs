//! The model corpus: real `#[model]` functions written in the nlsq model language.
//!
//! Every function here is a model someone actually fits, written only with the constructs
//! the model compiler accepts (`let`/`let mut` with `=`, `+=`, `-=`, `*=`, `/=`, arithmetic,
//! unary minus, float literals, `std::f64::consts`, the whitelisted `f64` methods, `if`/`else`
//! on comparisons, `for i in 0..N` over constant ranges with `a[i]` and `i as f64`). Each one is
//! also ordinary Rust, so it can be called directly to cross-check generated kernels.
//!
//! The first 27 functions are the NIST StRD nonlinear regression problems
//! (<https://www.itl.nist.gov/div898/strd/nls/nls_main.shtml>; data files in
//! `shared/data/nist-strd/`). Each is transcribed from the model formula in the header of its
//! `.dat` file, with the parameters named `b1, b2, ...` as NIST names them; the doc line gives
//! the problem, NIST's difficulty rating and the formula as printed (runs of spaces collapsed).
//! Several problems share a formula (Misra1a/BoxBOD, Chwirut1/2, Lanczos1/2/3, Gauss1/2/3,
//! Hahn1/Thurber); each still gets its own function. Transcription is checked by reproducing the
//! certified residual sum of squares over the full data at the certified parameters.
//!
//! The remaining functions are general models (peaks, growth curves, decays, piecewise and
//! non-smooth models, 2-D inputs, array parameters with loops) chosen to exercise the rest of
//! the language. Sample evaluation points for every function are in `samples.rs`.

use nlsq::model;

// ---------------------------------------------------------------------------------------------
// NIST StRD nonlinear regression: lower difficulty
// ---------------------------------------------------------------------------------------------

/// NIST StRD Misra1a (lower difficulty): `y = b1*(1-exp[-b2*x]) + e`
#[model]
pub fn misra1a(x: f64, b1: f64, b2: f64) -> f64 {
    b1 * (1.0 - (-b2 * x).exp())
}

/// NIST StRD Chwirut2 (lower difficulty): `y = exp(-b1*x)/(b2+b3*x) + e`
#[model]
pub fn chwirut2(x: f64, b1: f64, b2: f64, b3: f64) -> f64 {
    (-b1 * x).exp() / (b2 + b3 * x)
}

/// NIST StRD Chwirut1 (lower difficulty): `y = exp[-b1*x]/(b2+b3*x) + e`
#[model]
pub fn chwirut1(x: f64, b1: f64, b2: f64, b3: f64) -> f64 {
    (-b1 * x).exp() / (b2 + b3 * x)
}

/// NIST StRD Lanczos3 (lower difficulty): `y = b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x) + e`
#[model]
pub fn lanczos3(x: f64, b1: f64, b2: f64, b3: f64, b4: f64, b5: f64, b6: f64) -> f64 {
    b1 * (-b2 * x).exp() + b3 * (-b4 * x).exp() + b5 * (-b6 * x).exp()
}

/// NIST StRD Gauss1 (lower difficulty):
/// `y = b1*exp( -b2*x ) + b3*exp( -(x-b4)**2 / b5**2 ) + b6*exp( -(x-b7)**2 / b8**2 ) + e`
#[model]
pub fn gauss1(
    x: f64,
    b1: f64,
    b2: f64,
    b3: f64,
    b4: f64,
    b5: f64,
    b6: f64,
    b7: f64,
    b8: f64,
) -> f64 {
    b1 * (-b2 * x).exp()
        + b3 * (-(x - b4).powi(2) / b5.powi(2)).exp()
        + b6 * (-(x - b7).powi(2) / b8.powi(2)).exp()
}

/// NIST StRD Gauss2 (lower difficulty):
/// `y = b1*exp( -b2*x ) + b3*exp( -(x-b4)**2 / b5**2 ) + b6*exp( -(x-b7)**2 / b8**2 ) + e`
#[model]
pub fn gauss2(
    x: f64,
    b1: f64,
    b2: f64,
    b3: f64,
    b4: f64,
    b5: f64,
    b6: f64,
    b7: f64,
    b8: f64,
) -> f64 {
    b1 * (-b2 * x).exp()
        + b3 * (-(x - b4).powi(2) / b5.powi(2)).exp()
        + b6 * (-(x - b7).powi(2) / b8.powi(2)).exp()
}

/// NIST StRD DanWood (lower difficulty): `y = b1*x**b2 + e`
#[model]
pub fn dan_wood(x: f64, b1: f64, b2: f64) -> f64 {
    b1 * x.powf(b2)
}

/// NIST StRD Misra1b (lower difficulty): `y = b1 * (1-(1+b2*x/2)**(-2)) + e`
#[model]
pub fn misra1b(x: f64, b1: f64, b2: f64) -> f64 {
    b1 * (1.0 - (1.0 + b2 * x / 2.0).powi(-2))
}

// ---------------------------------------------------------------------------------------------
// NIST StRD nonlinear regression: average difficulty
// ---------------------------------------------------------------------------------------------

/// NIST StRD Kirby2 (average difficulty): `y = (b1 + b2*x + b3*x**2) / (1 + b4*x + b5*x**2) + e`
#[model]
pub fn kirby2(x: f64, b1: f64, b2: f64, b3: f64, b4: f64, b5: f64) -> f64 {
    (b1 + b2 * x + b3 * x.powi(2)) / (1.0 + b4 * x + b5 * x.powi(2))
}

/// NIST StRD Hahn1 (average difficulty):
/// `y = (b1+b2*x+b3*x**2+b4*x**3) / (1+b5*x+b6*x**2+b7*x**3) + e`
#[model]
pub fn hahn1(x: f64, b1: f64, b2: f64, b3: f64, b4: f64, b5: f64, b6: f64, b7: f64) -> f64 {
    (b1 + b2 * x + b3 * x.powi(2) + b4 * x.powi(3))
        / (1.0 + b5 * x + b6 * x.powi(2) + b7 * x.powi(3))
}

/// NIST StRD Nelson (average difficulty): `log[y] = b1 - b2*x1 * exp[-b3*x2] + e`.
/// Two predictors, `x = [x1, x2]`; the fitted response is `ln(y)` (natural log), not `y`.
#[model]
pub fn nelson(x: [f64; 2], b1: f64, b2: f64, b3: f64) -> f64 {
    b1 - b2 * x[0] * (-b3 * x[1]).exp()
}

/// NIST StRD MGH17 (average difficulty): `y = b1 + b2*exp[-x*b4] + b3*exp[-x*b5] + e`
#[model]
pub fn mgh17(x: f64, b1: f64, b2: f64, b3: f64, b4: f64, b5: f64) -> f64 {
    b1 + b2 * (-x * b4).exp() + b3 * (-x * b5).exp()
}

/// NIST StRD Lanczos1 (average difficulty): `y = b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x) + e`
#[model]
pub fn lanczos1(x: f64, b1: f64, b2: f64, b3: f64, b4: f64, b5: f64, b6: f64) -> f64 {
    b1 * (-b2 * x).exp() + b3 * (-b4 * x).exp() + b5 * (-b6 * x).exp()
}

/// NIST StRD Lanczos2 (average difficulty): `y = b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x) + e`
#[model]
pub fn lanczos2(x: f64, b1: f64, b2: f64, b3: f64, b4: f64, b5: f64, b6: f64) -> f64 {
    b1 * (-b2 * x).exp() + b3 * (-b4 * x).exp() + b5 * (-b6 * x).exp()
}

/// NIST StRD Gauss3 (average difficulty):
/// `y = b1*exp( -b2*x ) + b3*exp( -(x-b4)**2 / b5**2 ) + b6*exp( -(x-b7)**2 / b8**2 ) + e`
#[model]
pub fn gauss3(
    x: f64,
    b1: f64,
    b2: f64,
    b3: f64,
    b4: f64,
    b5: f64,
    b6: f64,
    b7: f64,
    b8: f64,
) -> f64 {
    b1 * (-b2 * x).exp()
        + b3 * (-(x - b4).powi(2) / b5.powi(2)).exp()
        + b6 * (-(x - b7).powi(2) / b8.powi(2)).exp()
}

/// NIST StRD Misra1c (average difficulty): `y = b1 * (1-(1+2*b2*x)**(-.5)) + e`
#[model]
pub fn misra1c(x: f64, b1: f64, b2: f64) -> f64 {
    b1 * (1.0 - (1.0 + 2.0 * b2 * x).powf(-0.5))
}

/// NIST StRD Misra1d (average difficulty): `y = b1*b2*x*((1+b2*x)**(-1)) + e`
#[model]
pub fn misra1d(x: f64, b1: f64, b2: f64) -> f64 {
    b1 * b2 * x * (1.0 + b2 * x).powi(-1)
}

/// NIST StRD Roszman1 (average difficulty):
/// `pi = 3.141592653589793238462643383279E0; y = b1 - b2*x - arctan[b3/(x-b4)]/pi + e`
#[model]
pub fn roszman1(x: f64, b1: f64, b2: f64, b3: f64, b4: f64) -> f64 {
    b1 - b2 * x - (b3 / (x - b4)).atan() / std::f64::consts::PI
}

/// NIST StRD ENSO (average difficulty):
/// `y = b1 + b2*cos( 2*pi*x/12 ) + b3*sin( 2*pi*x/12 ) + b5*cos( 2*pi*x/b4 ) + b6*sin( 2*pi*x/b4 )
/// + b8*cos( 2*pi*x/b7 ) + b9*sin( 2*pi*x/b7 ) + e`
#[model]
pub fn enso(
    x: f64,
    b1: f64,
    b2: f64,
    b3: f64,
    b4: f64,
    b5: f64,
    b6: f64,
    b7: f64,
    b8: f64,
    b9: f64,
) -> f64 {
    b1 + b2 * (2.0 * std::f64::consts::PI * x / 12.0).cos()
        + b3 * (2.0 * std::f64::consts::PI * x / 12.0).sin()
        + b5 * (2.0 * std::f64::consts::PI * x / b4).cos()
        + b6 * (2.0 * std::f64::consts::PI * x / b4).sin()
        + b8 * (2.0 * std::f64::consts::PI * x / b7).cos()
        + b9 * (2.0 * std::f64::consts::PI * x / b7).sin()
}

// ---------------------------------------------------------------------------------------------
// NIST StRD nonlinear regression: higher difficulty
// ---------------------------------------------------------------------------------------------

/// NIST StRD MGH09 (higher difficulty): `y = b1*(x**2+x*b2) / (x**2+x*b3+b4) + e`
#[model]
pub fn mgh09(x: f64, b1: f64, b2: f64, b3: f64, b4: f64) -> f64 {
    b1 * (x.powi(2) + x * b2) / (x.powi(2) + x * b3 + b4)
}

/// NIST StRD Thurber (higher difficulty):
/// `y = (b1 + b2*x + b3*x**2 + b4*x**3) / (1 + b5*x + b6*x**2 + b7*x**3) + e`
#[model]
pub fn thurber(x: f64, b1: f64, b2: f64, b3: f64, b4: f64, b5: f64, b6: f64, b7: f64) -> f64 {
    (b1 + b2 * x + b3 * x.powi(2) + b4 * x.powi(3))
        / (1.0 + b5 * x + b6 * x.powi(2) + b7 * x.powi(3))
}

/// NIST StRD BoxBOD (higher difficulty): `y = b1*(1-exp[-b2*x]) + e`
#[model]
pub fn box_bod(x: f64, b1: f64, b2: f64) -> f64 {
    b1 * (1.0 - (-b2 * x).exp())
}

/// NIST StRD Rat42 (higher difficulty): `y = b1 / (1+exp[b2-b3*x]) + e`
#[model]
pub fn rat42(x: f64, b1: f64, b2: f64, b3: f64) -> f64 {
    b1 / (1.0 + (b2 - b3 * x).exp())
}

/// NIST StRD MGH10 (higher difficulty): `y = b1 * exp[b2/(x+b3)] + e`
#[model]
pub fn mgh10(x: f64, b1: f64, b2: f64, b3: f64) -> f64 {
    b1 * (b2 / (x + b3)).exp()
}

/// NIST StRD Eckerle4 (higher difficulty): `y = (b1/b2) * exp[-0.5*((x-b3)/b2)**2] + e`
#[model]
pub fn eckerle4(x: f64, b1: f64, b2: f64, b3: f64) -> f64 {
    (b1 / b2) * (-0.5 * ((x - b3) / b2).powi(2)).exp()
}

/// NIST StRD Rat43 (higher difficulty): `y = b1 / ((1+exp[b2-b3*x])**(1/b4)) + e`
#[model]
pub fn rat43(x: f64, b1: f64, b2: f64, b3: f64, b4: f64) -> f64 {
    b1 / (1.0 + (b2 - b3 * x).exp()).powf(1.0 / b4)
}

/// NIST StRD Bennett5 (higher difficulty): `y = b1 * (b2+x)**(-1/b3) + e`
#[model]
pub fn bennett5(x: f64, b1: f64, b2: f64, b3: f64) -> f64 {
    b1 * (b2 + x).powf(-1.0 / b3)
}

// ---------------------------------------------------------------------------------------------
// General models
// ---------------------------------------------------------------------------------------------

/// Gaussian peak: `amp * exp(-(x - mu)^2 / (2 sigma^2))`.
#[model]
pub fn gaussian(x: f64, amp: f64, mu: f64, sigma: f64) -> f64 {
    amp * (-(x - mu).powi(2) / (2.0 * sigma.powi(2))).exp()
}

/// Lorentzian (Cauchy) peak of height `amp` and half width at half maximum `gamma`:
/// `amp * gamma^2 / ((x - x0)^2 + gamma^2)`.
#[model]
pub fn lorentzian(x: f64, amp: f64, x0: f64, gamma: f64) -> f64 {
    amp * gamma.powi(2) / ((x - x0).powi(2) + gamma.powi(2))
}

/// Logistic sigmoid with offset: `l / (1 + exp(-k (x - x0))) + b`.
#[model]
pub fn sigmoid(x: f64, l: f64, k: f64, x0: f64, b: f64) -> f64 {
    l / (1.0 + (-k * (x - x0)).exp()) + b
}

/// Power law: `a * x^b` (x > 0).
#[model]
pub fn power_law(x: f64, a: f64, b: f64) -> f64 {
    a * x.powf(b)
}

/// Exponential decay to a baseline: `a * exp(-b x) + c`.
#[model]
pub fn exp_decay(x: f64, a: f64, b: f64, c: f64) -> f64 {
    a * (-b * x).exp() + c
}

/// Damped oscillation: `a * exp(-x / tau) * cos(omega x + phi) + c`.
#[model]
pub fn damped_oscillation(x: f64, a: f64, tau: f64, omega: f64, phi: f64, c: f64) -> f64 {
    a * (-x / tau).exp() * (omega * x + phi).cos() + c
}

/// Three Gaussian peaks on a constant baseline (array parameters and a loop):
/// `c + sum_i amp[i] * exp(-(x - mu[i])^2 / (2 sigma[i]^2))`.
#[model]
pub fn multi_gaussian(x: f64, amp: [f64; 3], mu: [f64; 3], sigma: [f64; 3], c: f64) -> f64 {
    let mut s = c;
    for i in 0..3 {
        s += amp[i] * (-(x - mu[i]).powi(2) / (2.0 * sigma[i].powi(2))).exp();
    }
    s
}

/// Gpufit's 2-D Gaussian (`GAUSS_2D`), `x = [x, y]` pixel coordinates:
/// `amp * exp(-((x0 - x)^2 + (y0 - y)^2) / (2 sigma^2)) + b`.
#[model]
pub fn gaussian_2d(x: [f64; 2], amp: f64, x0: f64, y0: f64, sigma: f64, b: f64) -> f64 {
    amp * (-((x0 - x[0]).powi(2) + (y0 - x[1]).powi(2)) / (2.0 * sigma.powi(2))).exp() + b
}

/// Broken power law (piecewise, `if`): `a (x/x_b)^(-alpha1)` below the break `x_b`,
/// `a (x/x_b)^(-alpha2)` above it; continuous at `x = x_b` (x > 0).
#[model]
pub fn broken_power_law(x: f64, a: f64, x_b: f64, alpha1: f64, alpha2: f64) -> f64 {
    let r = x / x_b;
    if x < x_b {
        a * r.powf(-alpha1)
    } else {
        a * r.powf(-alpha2)
    }
}

/// Linear-then-plateau (segmented regression, `if`): `a + b x` for `x < x0`, `a + b x0` after.
#[model]
pub fn linear_plateau(x: f64, a: f64, b: f64, x0: f64) -> f64 {
    if x < x0 { a + b * x } else { a + b * x0 }
}

/// Pseudo-Voigt peak: `amp * (eta * L + (1 - eta) * G)` with a Lorentzian `L` and a Gaussian `G`
/// sharing the centre `x0` and full width at half maximum `fwhm`.
#[model]
pub fn pseudo_voigt(x: f64, amp: f64, x0: f64, fwhm: f64, eta: f64) -> f64 {
    let u = (x - x0) / fwhm;
    let lorentz = 1.0 / (1.0 + 4.0 * u * u);
    let gauss = (-4.0 * std::f64::consts::LN_2 * u * u).exp();
    amp * (eta * lorentz + (1.0 - eta) * gauss)
}

/// Michaelis–Menten enzyme kinetics: `vmax * x / (km + x)`.
#[model]
pub fn michaelis_menten(x: f64, vmax: f64, km: f64) -> f64 {
    vmax * x / (km + x)
}

/// Hill equation (cooperative binding): `vmax * x^n / (k^n + x^n)` (x > 0).
#[model]
pub fn hill(x: f64, vmax: f64, k: f64, n: f64) -> f64 {
    vmax * x.powf(n) / (k.powf(n) + x.powf(n))
}

/// Four-parameter logistic dose–response curve on a log10 concentration scale (GraphPad's
/// "log(agonist) vs. response -- variable slope"):
/// `bottom + (top - bottom) / (1 + 10^((log_ec50 - log10(x)) * hill_slope))` (x > 0).
#[model]
pub fn dose_response_4pl(x: f64, bottom: f64, top: f64, log_ec50: f64, hill_slope: f64) -> f64 {
    // 10^u written as exp(u ln 10)
    let u = (log_ec50 - x.log10()) * hill_slope;
    bottom + (top - bottom) / (1.0 + (u * std::f64::consts::LN_10).exp())
}

/// Amplitude response of a driven damped harmonic oscillator (`hypot`):
/// `f / sqrt((omega0^2 - x^2)^2 + (gamma x)^2)`, x the drive frequency.
#[model]
pub fn oscillator_amplitude(x: f64, f: f64, omega0: f64, gamma: f64) -> f64 {
    f / (omega0.powi(2) - x.powi(2)).hypot(gamma * x)
}

/// Phase lag of a driven damped harmonic oscillator (`atan2`):
/// `atan2(gamma x, omega0^2 - x^2) + phi0`, x the drive frequency.
#[model]
pub fn oscillator_phase(x: f64, omega0: f64, gamma: f64, phi0: f64) -> f64 {
    (gamma * x).atan2(omega0.powi(2) - x.powi(2)) + phi0
}

/// Laplace (double-exponential) peak (`abs`): `amp * exp(-|x - mu| / b)`.
#[model]
pub fn laplace_peak(x: f64, amp: f64, mu: f64, b: f64) -> f64 {
    amp * (-(x - mu).abs() / b).exp()
}

/// Linear detector response clipped to its floor and saturation level (`max`/`min`):
/// `min(max(a + b x, lo), hi)`.
#[model]
pub fn clipped_linear(x: f64, a: f64, b: f64, lo: f64, hi: f64) -> f64 {
    (a + b * x).max(lo).min(hi)
}

/// Truncated Fourier series with three harmonics (loop with `i as f64`):
/// `a0 + sum_{k=1..3} (a[k-1] cos(k omega x) + b[k-1] sin(k omega x))`.
#[model]
pub fn fourier_series(x: f64, a0: f64, a: [f64; 3], b: [f64; 3], omega: f64) -> f64 {
    let mut s = a0;
    for i in 0..3 {
        let k = i as f64 + 1.0;
        s += a[i] * (k * omega * x).cos() + b[i] * (k * omega * x).sin();
    }
    s
}

/// Planck black-body spectrum with free scale (`/=`): `scale * x^-5 / (exp(c2 / (x t)) - 1)`,
/// x the wavelength in micrometres, t the temperature in kelvin,
/// c2 = hc/k = 1.438776877e4 um K (second radiation constant).
#[model]
pub fn planck(x: f64, scale: f64, t: f64) -> f64 {
    let c2 = 1.438776877e4;
    let mut b = scale / x.powi(5);
    b /= (c2 / (x * t)).exp() - 1.0;
    b
}

/// First-order approach to equilibrium, e.g. Newton's law of cooling (`-=`):
/// `y_inf - (y_inf - y0) * exp(-k x)`.
#[model]
pub fn exp_approach(x: f64, y_inf: f64, y0: f64, k: f64) -> f64 {
    let mut y = y_inf;
    y -= (y_inf - y0) * (-k * x).exp();
    y
}

/// Bi-exponential decay (`let mut` with `+=`): `a1 exp(-x / tau1) + a2 exp(-x / tau2) + c`.
#[model]
pub fn biexponential(x: f64, a1: f64, tau1: f64, a2: f64, tau2: f64, c: f64) -> f64 {
    let mut y = c;
    y += a1 * (-x / tau1).exp();
    y += a2 * (-x / tau2).exp();
    y
}

/// Gompertz growth curve: `a * exp(-b * exp(-c x))`.
#[model]
pub fn gompertz(x: f64, a: f64, b: f64, c: f64) -> f64 {
    a * (-b * (-c * x).exp()).exp()
}

/// Log-normal peak (`ln`): `amp / x * exp(-(ln x - mu)^2 / (2 sigma^2))` (x > 0).
#[model]
pub fn log_normal(x: f64, amp: f64, mu: f64, sigma: f64) -> f64 {
    amp / x * (-(x.ln() - mu).powi(2) / (2.0 * sigma.powi(2))).exp()
}

/// Smoothed step / domain-wall profile (`tanh`): `a * tanh((x - x0) / w) + c`.
#[model]
pub fn tanh_step(x: f64, a: f64, x0: f64, w: f64, c: f64) -> f64 {
    a * ((x - x0) / w).tanh() + c
}

/// Catenary (hanging cable, `cosh`): `a * cosh((x - x0) / a) + c`.
#[model]
pub fn catenary(x: f64, a: f64, x0: f64, c: f64) -> f64 {
    a * ((x - x0) / a).cosh() + c
}

/// Gaussian peak on a linear background, written with intermediate `let`s and `*=`:
/// `c0 + c1 x + amp * exp(-((x - mu) / sigma)^2 / 2)`.
#[model]
pub fn gaussian_linear_bg(x: f64, amp: f64, mu: f64, sigma: f64, c0: f64, c1: f64) -> f64 {
    let d = (x - mu) / sigma;
    let mut peak = (-0.5 * d * d).exp();
    peak *= amp;
    c0 + c1 * x + peak
}
