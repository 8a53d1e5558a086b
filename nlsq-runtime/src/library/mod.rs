//! A library of well-known models, picked by name, with automatic starting values.
//!
//! Each [`LibraryModel`] is a formula in the model language ([`crate::ExprModel`]) with
//! named parameters, a one-line description, an estimator of `p0` from data
//! ([`LibraryModel::estimate_p0`]), a text saying how it estimates
//! ([`LibraryModel::p0_method`]) and the documented range in which its starting values lead
//! fits to the truth ([`LibraryModel::valid_range`]; measured by `examples/library_p0.rs`,
//! `benches/RESULTS.md`, "Model library: automatic p0").
//!
//! | name | parameters | formula |
//! |---|---|---|
//! | `gaussian` | amp, mu, sigma | `amp exp(-(x-mu)²/(2 sigma²))` |
//! | `lorentzian` | amp, mu, gamma | `amp gamma²/((x-mu)² + gamma²)` |
//! | `pseudo_voigt` | amp, mu, sigma, eta | `amp ((1-eta) exp(-ln2 (x-mu)²/sigma²) + eta sigma²/((x-mu)² + sigma²))` |
//! | `exp_decay` | amp, tau, offset | `amp exp(-x/tau) + offset` |
//! | `exp_growth` | amp, tau, offset | `amp exp(x/tau) + offset` |
//! | `exp_decay2` | amp1, tau1, amp2, tau2, offset | `amp1 exp(-x/tau1) + amp2 exp(-x/tau2) + offset` |
//! | `logistic` | amp, center, width, offset | `offset + amp/(1 + exp(-(x-center)/width))` |
//! | `power_law` | amp, exponent | `amp x^exponent` |
//! | `polynomialN`, `polyN` | c0 … cN | `c0 + c1 x + … + cN x^N` |
//! | `linear` | slope, intercept | `slope x + intercept` |
//! | `constant` | c | `c` |
//! | `damped_sine` | amp, decay, freq, phase, offset | `amp exp(-decay x) sin(2π freq x + phase) + offset` |
//! | `michaelis_menten` | vmax, km | `vmax x/(km + x)` |
//! | `hill` | vmax, k, n | `vmax xⁿ/(kⁿ + xⁿ)` |
//! | `gaussian2d` | amp, x0, y0, sigma_x, sigma_y, offset | `amp exp(-(x[0]-x0)²/(2 sigma_x²) - (x[1]-y0)²/(2 sigma_y²)) + offset` |
//! | `erf_step` | amp, center, sigma, offset | `offset + amp/2 (1 + erf((x-center)/(√2 sigma)))` |
//!
//! Model texts, library names and sums as well as expressions, are resolved by [`resolve`]
//! (the rule shared by the command line and the Python package).
//!
//! Sums of models are built by [`compose`]: `"gaussian:g1 + gaussian:g2 + linear"` names
//! the parameters `g1_amp`, `g1_mu`, ..., `slope`, `intercept`; [`Composite::estimate_p0`]
//! gives the rule by which a sum's starting values are estimated.
//!
//! Estimators skip non-finite points, accept unsorted x, look at most at
//! [`MAX_ESTIMATE_POINTS`] points (a deterministic subsample), use only non-iterative
//! methods, and end in a [`LibraryError`] rather than a panic or a non-finite p0.
//!
//! ```
//! use nlsq_runtime::{CurveFit, library};
//! let g = library::get("gaussian").unwrap();
//! assert_eq!(g.param_names(), ["amp", "mu", "sigma"]);
//! let x: Vec<f64> = (0..200).map(|i| i as f64 * 0.05).collect();
//! let y: Vec<f64> = x.iter().map(|x| 3.0 * (-(x - 4.0f64).powi(2) / 0.5).exp()).collect();
//! let p0 = g.estimate_p0(&[&x], &y).unwrap();
//! assert!((p0[1] - 4.0).abs() < 0.1);
//! let fit = CurveFit::new(g.model().unwrap()).p0(p0).fit(&x, &y).unwrap();
//! assert!((fit.popt[2] - 0.5).abs() < 1e-8);
//! ```

mod catalog;
mod compose;
mod error;
mod estimate;
mod exponential;
mod model;
mod oscillation;
mod peaks;
mod polynomial;
mod resolve;
mod saturation;
mod sigmoid;
mod spec;
mod surface;
mod texts;

pub use catalog::{MAX_POLYNOMIAL_DEGREE, get, models, names};
pub use compose::{Composite, compose};
pub use error::{LibraryError, SpecProblem};
pub use estimate::MAX_ESTIMATE_POINTS;
pub use model::LibraryModel;
pub use resolve::{ResolveError, Resolved, is_composition, resolve};
