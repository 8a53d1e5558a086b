//! The correlation matrix and the confidence and prediction bands against closed forms and
//! independent computations.

use nlsq_runtime::params::Constraints;
use nlsq_runtime::{Bands, CurveFit, ExprModel, FitResult, Loss, Model};
use statrs::distribution::{ContinuousCDF, StudentsT};

mod common;

/// Points 0.25 apart with a scatter of 0.05.
fn data(n: usize, f: impl Fn(f64) -> f64) -> (Vec<f64>, Vec<f64>) {
    common::scattered(n, 0.25, 0.05, f)
}

fn t975(dof: usize) -> f64 {
    StudentsT::new(0.0, 1.0, dof as f64)
        .unwrap()
        .inverse_cdf(0.975)
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

#[test]
fn linear_bands_equal_the_ols_closed_forms() {
    let (x, y) = data(30, |x| 1.5 + 0.7 * x);
    let model = ExprModel::parse("a + b * x").unwrap();
    let fit = CurveFit::new(&model).p0([0.0, 0.0]).fit(&x, &y).unwrap();
    let n = x.len() as f64;
    let xbar = x.iter().sum::<f64>() / n;
    let ybar = y.iter().sum::<f64>() / n;
    let sxx: f64 = x.iter().map(|x| (x - xbar).powi(2)).sum();
    let sxy: f64 = x.iter().zip(&y).map(|(x, y)| (x - xbar) * (y - ybar)).sum();
    let b = sxy / sxx;
    let a = ybar - b * xbar;
    let ssr: f64 = x.iter().zip(&y).map(|(x, y)| (y - a - b * x).powi(2)).sum();
    let s2 = ssr / (n - 2.0);
    let t = t975(x.len() - 2);
    let mut bands = Bands::new(&model, &fit).unwrap();
    for x0 in [-3.0, 0.0, 2.5, xbar, 7.25, 20.0] {
        let at = bands.at(&[x0]);
        let lever = 1.0 / n + (x0 - xbar).powi(2) / sxx;
        let (se_mean, se_pred) = ((s2 * lever).sqrt(), (s2 * (1.0 + lever)).sqrt());
        assert!(close(at.value, a + b * x0, 1e-10), "{x0}");
        assert!(close(at.se_fit, se_mean, 1e-10), "{} {se_mean}", at.se_fit);
        assert!(close(at.se_obs, se_pred, 1e-10), "{} {se_pred}", at.se_obs);
        let (fit_half, pred_half) = (at.confidence.1 - at.value, at.value - at.prediction.0);
        assert!(close(fit_half, t * se_mean, 1e-10));
        assert!(close(pred_half, t * se_pred, 1e-10));
    }
}

/// `sqrt(gᵀ pcov g)` with `g` by central differences.
fn se_by_differences(model: &dyn Model, fit: &FitResult, x: f64) -> f64 {
    let p = &fit.popt;
    let g: Vec<f64> = (0..p.len())
        .map(|j| {
            let h = 1e-6 * p[j].abs().max(1e-3);
            let (mut up, mut down) = (p.clone(), p.clone());
            up[j] += h;
            down[j] -= h;
            (model.eval(&[x], &up) - model.eval(&[x], &down)) / (2.0 * h)
        })
        .collect();
    let mut var = 0.0;
    for i in 0..p.len() {
        for j in 0..p.len() {
            var += g[i] * fit.pcov[i][j] * g[j];
        }
    }
    var.sqrt()
}

#[test]
fn nonlinear_band_equals_a_finite_difference_jacobian() {
    let (x, y) = data(40, |x| 2.0 * (-0.4 * x).exp() + 0.3);
    let model = ExprModel::parse("a * exp(-b * x) + c").unwrap();
    let fit = CurveFit::new(&model)
        .p0([1.0, 1.0, 0.0])
        .fit(&x, &y)
        .unwrap();
    let mut bands = Bands::new(&model, &fit).unwrap();
    for x0 in [0.0, 1.3, 5.0, 12.0] {
        let want = se_by_differences(&model, &fit, x0);
        let at = bands.at(&[x0]);
        assert!(close(at.se_fit, want, 1e-6), "{x0}: {} {want}", at.se_fit);
        assert!(close(
            at.se_obs.powi(2) - at.se_fit.powi(2),
            fit.reduced_chi2,
            1e-10
        ));
    }
}

#[test]
fn sigma_conventions_absolute_relative_and_robust() {
    let (x, y) = data(30, |x| 1.0 + 0.5 * x);
    let model = ExprModel::parse("a + b * x").unwrap();
    let sigma = vec![0.2; x.len()];
    let run = |absolute: bool, loss: Loss| {
        CurveFit::new(&model)
            .p0([0.0, 0.0])
            .sigma(&sigma)
            .absolute_sigma(absolute)
            .loss(loss)
            .fit(&x, &y)
            .unwrap()
    };
    let plain = CurveFit::new(&model).p0([0.0, 0.0]).fit(&x, &y).unwrap();
    let (abs, rel) = (run(true, Loss::Linear), run(false, Loss::Linear));
    assert!(abs.absolute_sigma && !rel.absolute_sigma);
    let noise = |fit: &FitResult, s: f64| {
        let at = Bands::new(&model, fit).unwrap().at_sigma(&[3.0], s);
        (at.se_fit, at.se_obs.powi(2) - at.se_fit.powi(2))
    };
    // Absolute: the new point's variance is its sigma².
    assert!(close(noise(&abs, 0.2).1, 0.04, 1e-10));
    assert!(close(noise(&abs, 1.0).1, 1.0, 1e-10));
    // Relative: reduced χ² times sigma²; the same bands as the unweighted fit for sigma
    // constant and the new point's sigma in the same units.
    assert!(close(noise(&rel, 0.2).1, rel.reduced_chi2 * 0.04, 1e-10));
    assert!(close(noise(&rel, 0.2).1, noise(&plain, 1.0).1, 1e-9));
    assert!(close(noise(&rel, 0.2).0, noise(&plain, 1.0).0, 1e-9));
    // Robust: Σρ / dof, the scale of pcov, not the reduced χ².
    let robust = run(false, Loss::SoftL1);
    let want = robust.sum_rho / robust.dof as f64 * 0.04;
    assert!(close(noise(&robust, 0.2).1, want, 1e-10));
}

#[test]
fn constrained_and_original_models_give_the_same_bands() {
    let (x, y) = data(60, |x| 2.0 * (-x).exp() + (-3.0 * x).exp());
    let model = ExprModel::parse("a1 * exp(-b * x) + a2 * exp(-c * x)").unwrap();
    let free = model
        .constrain(&Constraints::new().fix("c", 3.0).tie("a2", "0.5 * a1"))
        .unwrap();
    let fit = CurveFit::new(&free).p0([1.0, 2.0]).fit(&x, &y).unwrap();
    let (mut full, mut sub) = (
        Bands::new(&model, &fit).unwrap(),
        Bands::new(&free, &fit).unwrap(),
    );
    for x0 in [0.0, 0.5, 2.0, 8.0] {
        let (a, b) = (full.at(&[x0]), sub.at(&[x0]));
        assert!(close(a.value, b.value, 1e-14));
        assert!(
            close(a.se_fit, b.se_fit, 1e-10),
            "{} {}",
            a.se_fit,
            b.se_fit
        );
        assert!(close(a.se_obs, b.se_obs, 1e-12));
    }
    let other = ExprModel::parse("a1 * exp(-k * x)").unwrap();
    assert!(Bands::new(&other, &fit).is_err());
    let two = ExprModel::parse("a1 * exp(-c * x)").unwrap();
    let err = Bands::new(&two, &fit).err().unwrap().to_string();
    assert!(err.contains("`c` was not a free parameter"), "{err}");
}

#[test]
fn correlation_is_pcov_normalized_and_nan_for_fixed_parameters() {
    let (x, y) = data(50, |x| 2.0 * (-0.5 * x).exp() + 0.3 * x);
    let model = ExprModel::parse("a * exp(-b * x) + c * x + d").unwrap();
    let fixed = model.constrain(&Constraints::new().fix("d", 0.0)).unwrap();
    let fit = CurveFit::new(&fixed)
        .p0([1.0, 1.0, 0.0])
        .fit(&x, &y)
        .unwrap();
    let r = fit.correlation();
    let c = &fit.pcov;
    for i in 0..3 {
        for j in 0..3 {
            let want = c[i][j] / (c[i][i] * c[j][j]).sqrt();
            assert!(close(r[i][j], want, 1e-14), "{i} {j}");
        }
        assert!(r[i][3].is_nan() && r[3][i].is_nan());
    }
    assert!(r[3][3].is_nan() && r[0][0] == 1.0);
    assert!(
        r[0][1].abs() < 1.0 && (r[0][1] - r[1][0]).abs() < 1e-12,
        "{r:?}"
    );
    let text = fit.to_string();
    assert!(
        text.contains("correlation of the fitted parameters"),
        "{text}"
    );
    let after = &text[text.find("correlation of the fitted").unwrap()..];
    let line = after.lines().find(|l| l.starts_with("b ")).unwrap();
    assert!(line.contains(&format!("{:.4}", r[1][0])), "{text}");
}

#[test]
fn summary_flags_strong_correlations() {
    // Far from the origin, intercept and slope are almost perfectly anti-correlated.
    let (x, y) = data(20, |x| 1.0 + 0.1 * x);
    let x: Vec<f64> = x.iter().map(|x| x + 100.0).collect();
    let model = ExprModel::parse("a + b * x").unwrap();
    let fit = CurveFit::new(&model).p0([0.0, 0.0]).fit(&x, &y).unwrap();
    assert!(fit.correlation()[0][1] < -0.9);
    let text = fit.to_string();
    assert!(
        text.contains("strongly correlated (|r| >= 0.9): a–b -0.99"),
        "{text}"
    );
}
