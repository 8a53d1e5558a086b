//! Profile-likelihood intervals: equal to `ci95` for a model linear in its parameters,
//! asymmetric around a decay rate, with `Δχ²` at the ends equal to the threshold.

use nlsq_runtime::conf_interval::{ProfileError, Refit, conf_interval};
use nlsq_runtime::params::Constraints;
use nlsq_runtime::{CurveFit, ExprModel, FitError, FitResult};

mod common;
use common::scattered as data;

fn refit<'a>(
    x: &'a [f64],
    y: &'a [f64],
) -> impl FnMut(&Refit<'_>) -> Result<FitResult, FitError> + 'a {
    move |r| CurveFit::new(r.model).p0(r.p0.to_vec()).fit(x, y)
}

#[test]
fn linear_model_profile_equals_ci95() {
    let (x, y) = data(25, 0.4, 0.3, |x| 1.0 - 0.6 * x + 0.05 * x * x);
    let model = ExprModel::parse("a + b * x + c * x * x").unwrap();
    let fit = CurveFit::new(&model)
        .p0([0.0, 0.0, 0.0])
        .fit(&x, &y)
        .unwrap();
    for (j, name) in ["a", "b", "c"].into_iter().enumerate() {
        let ci = conf_interval(&model, &fit, name, refit(&x, &y)).unwrap();
        let half = fit.ci95[j].1 - fit.popt[j];
        assert!(
            (ci.lower - fit.ci95[j].0).abs() <= 1e-6 * half,
            "{name}: {ci:?}"
        );
        assert!(
            (ci.upper - fit.ci95[j].1).abs() <= 1e-6 * half,
            "{name}: {ci:?}"
        );
        assert!((ci.chi2_min - fit.chi2).abs() <= 1e-12 * fit.chi2);
    }
}

#[test]
fn decay_rate_interval_is_asymmetric_and_reaches_the_threshold() {
    let (x, y) = data(12, 0.5, 0.4, |x| 3.0 * (-0.9 * x).exp());
    let model = ExprModel::parse("a * exp(-b * x)").unwrap();
    let fit = CurveFit::new(&model).p0([1.0, 1.0]).fit(&x, &y).unwrap();
    let ci = conf_interval(&model, &fit, "b", refit(&x, &y)).unwrap();
    let b = fit.popt[1];
    assert!(ci.lower < b && b < ci.upper, "{ci:?}");
    let (below, above) = (b - ci.lower, ci.upper - b);
    assert!(
        (above - below).abs() > 0.05 * (above + below),
        "not asymmetric: {ci:?}"
    );
    // Refitted at each end, independently: Δχ² is the threshold.
    for end in [ci.lower, ci.upper] {
        let m = model.constrain(&Constraints::new().fix("b", end)).unwrap();
        let r = CurveFit::new(&m).p0([fit.popt[0]]).fit(&x, &y).unwrap();
        let delta = r.chi2 - fit.chi2;
        assert!(
            (delta - ci.threshold).abs() <= 1e-6 * ci.threshold,
            "{delta} vs {}",
            ci.threshold
        );
    }
}

#[test]
fn fixed_parameters_stay_fixed_and_bad_names_are_errors() {
    let (x, y) = data(30, 0.2, 0.05, |x| 2.0 * (-0.7 * x).exp() + 0.4);
    let model = ExprModel::parse("a * exp(-b * x) + c + d * x").unwrap();
    let fixed = model.constrain(&Constraints::new().fix("d", 0.0)).unwrap();
    let fit = CurveFit::new(&fixed)
        .p0([1.0, 1.0, 0.0])
        .fit(&x, &y)
        .unwrap();
    let ci = conf_interval(&model, &fit, "c", refit(&x, &y)).unwrap();
    assert!(ci.lower < fit.popt[2] && fit.popt[2] < ci.upper, "{ci:?}");
    let err = conf_interval(&model, &fit, "d", refit(&x, &y)).unwrap_err();
    assert!(matches!(err, ProfileError::NotFree(_)), "{err}");
    let err = conf_interval(&model, &fit, "k", refit(&x, &y)).unwrap_err();
    assert!(matches!(err, ProfileError::UnknownParameter(_)), "{err}");
    // The closure sees the profiled value among every parameter's, and its errors come back.
    let err = conf_interval(&model, &fit, "c", |r: &Refit| {
        assert_eq!(r.values.len(), 4);
        assert!(r.values[r.index] != fit.popt[2] && r.values[3] == 0.0);
        Err(format!("no refit at c = {}", r.values[r.index]))
    })
    .unwrap_err();
    assert!(err.to_string().contains("no refit at c = "), "{err}");
}
