//! Monte Carlo coverage of the 95% bands (issue 15, item 4): 1,000 datasets simulated from a
//! known nonlinear model with Gaussian noise, each fitted; at a few predictors, how often the
//! confidence band contains the true curve and how often the prediction band contains a
//! fresh observation. Each coverage must be 95% ± 2% (the Monte Carlo standard error of a
//! proportion near 0.95 over 1,000 datasets is 0.7%).
//!
//! The conventions checked, as `bands.rs` documents them, at 37 degrees of freedom (40 points),
//! and absolute sigma also at 5 (8 points), where the choice of quantile matters. (Relative
//! sigma at 5 degrees of freedom is not held to ±2%: there the delta method's linearization
//! of this curved model shows, and the confidence band at the bend covered 97.1% in a run of
//! 1,000 datasets.)
//!
//! - **absolute sigma**, the noise's standard deviations known and given (heteroscedastic):
//!   `pcov` is not rescaled, the prediction band's noise is the new point's own sigma
//!   (`at_sigma(x, σ(x))`), the quantile the normal's 1.96 (σ is known: Student's
//!   `t₀.₉₇₅(5) = 2.57` would cover 99%).
//! - **relative sigma**, weights known only up to a common factor (`σᵢ = 0.03 · wᵢ`, the fit
//!   given `wᵢ`): `pcov` scaled by `s² = χ²/(N − P)`, the prediction band's noise `s² w(x)²`
//!   (`at_sigma(x, w(x))`); Student's `t₀.₉₇₅(N − P)`, exact for a linear model.
//! - **no sigma** (relative, unit weights): the same with `w = 1` (`at(x)`).

use nlsq_runtime::{Bands, CurveFit, ExprModel};
use nlsq_testkit::batch::support::Rng;

/// Simulated datasets per convention.
const DATASETS: usize = 1000;
/// Points per dataset (37 degrees of freedom), evenly spaced over `[0, 9.75]`.
const N: usize = 40;
/// Points of the few-degrees-of-freedom datasets (5 degrees of freedom).
const FEW: usize = 8;
/// The true `a, b, c` of `a · exp(−b x) + c`.
const TRUTH: [f64; 3] = [2.0, 0.5, 0.3];
/// Where the bands are checked: the first point, the bend, the tail.
const AT: [f64; 3] = [0.0, 2.0, 6.0];
/// Coverage must be within this of 0.95.
const TOLERANCE: f64 = 0.02;

fn curve(x: f64) -> f64 {
    TRUTH[0] * (-TRUTH[1] * x).exp() + TRUTH[2]
}

/// How the noise is made and told to the fit.
struct Convention {
    name: &'static str,
    /// The noise's standard deviation at `x`.
    noise: fn(f64) -> f64,
    /// The sigma given to the fit and to `at_sigma` at `x` (`None`: no sigma, `at`).
    sigma: Option<fn(f64) -> f64>,
    absolute: bool,
    /// Points per dataset.
    points: usize,
}

/// Coverage of the confidence and prediction bands at each of [`AT`].
fn coverage(c: &Convention, seed: u64) -> ([f64; 3], [f64; 3]) {
    let model = ExprModel::parse("a * exp(-b * x) + c").unwrap();
    let step = 9.75 / (c.points - 1) as f64;
    let x: Vec<f64> = (0..c.points).map(|i| i as f64 * step).collect();
    let sigma: Option<Vec<f64>> = c.sigma.map(|s| x.iter().map(|&x| s(x)).collect());
    let mut rng = Rng::new(seed);
    let (mut conf, mut pred) = ([0usize; 3], [0usize; 3]);
    for _ in 0..DATASETS {
        let y: Vec<f64> = x
            .iter()
            .map(|&x| curve(x) + (c.noise)(x) * rng.normal())
            .collect();
        let mut b = CurveFit::new(&model)
            .p0([1.0, 1.0, 0.0])
            .absolute_sigma(c.absolute);
        if let Some(s) = &sigma {
            b = b.sigma(s);
        }
        let fit = b.fit(&x, &y).unwrap();
        assert!(fit.success, "{}: {}", c.name, fit.message);
        let mut bands = Bands::new(&model, &fit).unwrap();
        for (k, &x0) in AT.iter().enumerate() {
            let at = match c.sigma {
                Some(s) => bands.at_sigma(&[x0], s(x0)),
                None => bands.at(&[x0]),
            };
            let truth = curve(x0);
            let fresh = truth + (c.noise)(x0) * rng.normal();
            conf[k] += usize::from(at.confidence.0 <= truth && truth <= at.confidence.1);
            pred[k] += usize::from(at.prediction.0 <= fresh && fresh <= at.prediction.1);
        }
    }
    let rate = |n: [usize; 3]| n.map(|n| n as f64 / DATASETS as f64);
    (rate(conf), rate(pred))
}

fn check(c: Convention, seed: u64) {
    let (conf, pred) = coverage(&c, seed);
    eprintln!(
        "{}: confidence {conf:?}, prediction {pred:?} at x = {AT:?}",
        c.name
    );
    for (band, rates) in [("confidence", conf), ("prediction", pred)] {
        for (x0, r) in AT.iter().zip(rates) {
            assert!(
                (r - 0.95).abs() <= TOLERANCE,
                "{}: the {band} band at x = {x0} covers {r} (95% ± 2% expected); \
                 confidence {conf:?}, prediction {pred:?}",
                c.name
            );
        }
    }
}

#[test]
fn absolute_sigma_bands_cover_95_percent() {
    check(
        Convention {
            name: "absolute sigma",
            points: N,
            noise: |x| 0.04 + 0.01 * x,
            sigma: Some(|x| 0.04 + 0.01 * x),
            absolute: true,
        },
        0x5eed_0001,
    );
}

#[test]
fn relative_sigma_bands_cover_95_percent() {
    check(
        Convention {
            name: "relative sigma",
            points: N,
            noise: |x| 0.03 * (1.0 + 0.25 * x),
            sigma: Some(|x| 1.0 + 0.25 * x),
            absolute: false,
        },
        0x5eed_0002,
    );
}

#[test]
fn unweighted_bands_cover_95_percent() {
    check(
        Convention {
            name: "no sigma",
            points: N,
            noise: |_| 0.05,
            sigma: None,
            absolute: false,
        },
        0x5eed_0003,
    );
}

#[test]
fn absolute_sigma_bands_cover_95_percent_at_5_degrees_of_freedom() {
    check(
        Convention {
            name: "absolute sigma, 5 dof",
            points: FEW,
            noise: |x| 0.04 + 0.01 * x,
            sigma: Some(|x| 0.04 + 0.01 * x),
            absolute: true,
        },
        0x5eed_0004,
    );
}
