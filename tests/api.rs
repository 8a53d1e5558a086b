//! The fitting API: builder options, typed errors for every bad input, callbacks, results.

use nlsq::{CurveFit, FitError, Loss, Method, Model, NanPolicy, Status, curve_fit, model};
use std::ops::ControlFlow;

#[model]
fn decay(x: f64, a: f64, b: f64, c: f64) -> f64 {
    a * (-b * x).exp() + c
}

#[model]
fn plane(x: [f64; 2], a: f64, b: f64, c: f64) -> f64 {
    a * x[0] + b * x[1] + c
}

#[model]
fn log_model(x: f64, a: f64, b: f64) -> f64 {
    a * (x - b).ln()
}

fn data() -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..40).map(|i| i as f64 * 0.125).collect();
    let y = x
        .iter()
        .enumerate()
        .map(|(i, x)| 2.5 * (-1.3 * x).exp() + 0.4 + 0.01 * ((i * 37 % 11) as f64 - 5.0))
        .collect();
    (x, y)
}

#[test]
fn shortcut_and_builder_agree() {
    let (x, y) = data();
    let (popt, pcov) = curve_fit(Decay, &x, &y, &[1.0, 1.0, 0.0]).unwrap();
    let r = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .fit(&x, &y)
        .unwrap();
    assert_eq!(popt, r.popt);
    assert_eq!(pcov, r.pcov);
    assert!(r.success && r.status.converged());
    assert!((r.popt[1] - 1.3).abs() < 0.05);
    assert_eq!(r.param_names, ["a", "b", "c"]);
    assert_eq!(r.param("b"), Some(r.popt[1]));
    assert_eq!(r.dof, 37);
    assert!(r.r_squared > 0.99 && r.rmse < 0.05);
    for j in 0..3 {
        assert!(r.ci95[j].0 < r.popt[j] && r.popt[j] < r.ci95[j].1);
        assert!((r.perr[j] - r.pcov[j][j].sqrt()).abs() == 0.0);
    }
}

#[test]
fn several_predictors_as_columns() {
    let x0: Vec<f64> = (0..30).map(|i| (i % 6) as f64).collect();
    let x1: Vec<f64> = (0..30).map(|i| (i / 6) as f64).collect();
    let y: Vec<f64> = x0
        .iter()
        .zip(&x1)
        .map(|(a, b)| 2.0 * a - 0.5 * b + 1.0)
        .collect();
    let r = CurveFit::new(Plane).fit(&[&x0[..], &x1[..]], &y).unwrap();
    for (got, want) in r.popt.iter().zip([2.0, -0.5, 1.0]) {
        assert!((got - want).abs() < 1e-10);
    }
    let e = CurveFit::new(Plane).fit(&x0, &y).unwrap_err();
    assert!(
        matches!(
            e,
            FitError::LengthMismatch {
                got: 1,
                expected: 2,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn bad_inputs_give_typed_errors() {
    let (x, y) = data();
    let fit = || CurveFit::new(Decay).p0([1.0, 1.0, 0.0]);
    let e = fit().fit(&x[..10], &y).unwrap_err();
    assert!(
        matches!(
            e,
            FitError::LengthMismatch {
                got: 10,
                expected: 40,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        fit().fit(&[] as &[f64], &[]).unwrap_err(),
        FitError::EmptyData
    );
    let e = fit().fit(&x[..2], &y[..2]).unwrap_err();
    assert!(
        matches!(
            e,
            FitError::TooFewPoints {
                points: 2,
                params: 3
            }
        ),
        "{e}"
    );
    let mut yn = y.clone();
    yn[7] = f64::NAN;
    let e = fit().fit(&x, &yn).unwrap_err();
    assert!(matches!(e, FitError::NonFiniteData { index: 7, .. }), "{e}");
    let mut xn = x.clone();
    xn[3] = f64::INFINITY;
    let e = fit().fit(&xn, &y).unwrap_err();
    assert!(
        matches!(e, FitError::NonFiniteData { index: 3, ref what, .. } if what == "x"),
        "{e}"
    );
    let r = fit().nan_policy(NanPolicy::Omit).fit(&x, &yn).unwrap();
    assert_eq!((r.n_points, r.n_omitted), (39, 1));
    let e = fit()
        .bounds([0.0, 2.0, -1.0], [5.0, 3.0, 1.0])
        .fit(&x, &y)
        .unwrap_err();
    assert!(
        matches!(e, FitError::BadBounds { ref name, .. } if name == "b"),
        "{e}"
    );
    let e = fit()
        .bounds([0.0, 0.0, 1.0], [5.0, 3.0, -1.0])
        .fit(&x, &y)
        .unwrap_err();
    assert!(
        matches!(e, FitError::BadBounds { ref name, .. } if name == "c"),
        "{e}"
    );
    let e = fit().p0([1.0, f64::NAN, 0.0]).fit(&x, &y).unwrap_err();
    assert!(matches!(e, FitError::NonFiniteP0 { .. }), "{e}");
    let e = fit().p0([1.0, 1.0]).fit(&x, &y).unwrap_err();
    assert!(matches!(e, FitError::LengthMismatch { .. }), "{e}");
    let e = fit().sigma(&vec![0.0; 40]).fit(&x, &y).unwrap_err();
    assert!(matches!(e, FitError::BadSigma(_)), "{e}");
    let e = fit().sigma(&[1.0; 3]).fit(&x, &y).unwrap_err();
    assert!(matches!(e, FitError::LengthMismatch { .. }), "{e}");
    let e = fit()
        .f_scale(0.0)
        .loss(Loss::Huber)
        .fit(&x, &y)
        .unwrap_err();
    assert!(matches!(e, FitError::InvalidOption { .. }), "{e}");
    let e = fit()
        .bounds([0.0; 3], [5.0; 3])
        .method(Method::Lm)
        .fit(&x, &y)
        .unwrap_err();
    assert!(matches!(e, FitError::InvalidOption { .. }), "{e}");
    let cov = nalgebra::DMatrix::from_element(40, 40, 1.0);
    let e = fit().sigma_covariance(cov).fit(&x, &y).unwrap_err();
    assert!(matches!(e, FitError::BadSigma(_)), "{e}");
}

#[test]
fn a_model_that_is_not_finite_at_p0_is_reported_with_the_point() {
    let x = [0.5, 1.0, 2.0, 3.0];
    let y = [0.1, 0.2, 0.3, 0.4];
    let e = CurveFit::new(LogModel)
        .p0([1.0, 0.8])
        .fit(&x, &y)
        .unwrap_err();
    match e {
        FitError::NonFiniteModelAtP0 {
            ref model,
            count,
            first,
            ..
        } => {
            assert_eq!((model.as_str(), count, first), ("log_model", 1, 0));
        }
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("log_model"));
}

#[test]
fn the_callback_sees_iterations_and_can_stop_the_fit() {
    let (x, y) = data();
    for method in [Method::Lm, Method::Trf, Method::Dogbox] {
        let mut seen = Vec::new();
        let r = CurveFit::new(Decay)
            .p0([1.0, 1.0, 0.0])
            .method(method)
            .callback(|info| {
                seen.push((info.iteration, info.cost));
                if info.iteration == 2 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .fit(&x, &y)
            .unwrap();
        assert_eq!(r.status, Status::Stopped, "{method}");
        assert!(!r.success);
        assert_eq!(seen.len(), 2, "{method}");
        assert!(seen[1].1 <= seen[0].1);
    }
}

#[test]
fn results_serialize_and_print() {
    let (x, y) = data();
    let r = CurveFit::new(Decay)
        .p0([1.0, 1.0, 0.0])
        .fit(&x, &y)
        .unwrap();
    let json = serde_json::to_string(&r).unwrap();
    let back: nlsq::FitResult = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    let text = r.to_string();
    for needle in [
        "decay",
        "parameter",
        "95% confidence interval",
        "R²",
        "converged",
        "a ",
        "b ",
        "c ",
    ] {
        assert!(text.contains(needle), "summary lacks {needle}:\n{text}");
    }
}

#[test]
fn every_method_and_loss_fits() {
    let (x, y) = data();
    for method in [Method::Lm, Method::Trf, Method::Dogbox] {
        for loss in Loss::ALL {
            // Bounded losses with a small f_scale make the cost non-convex far from the data:
            // start near it, as one would.
            let r = CurveFit::new(Decay)
                .p0([2.0, 1.0, 0.3])
                .method(method)
                .loss(loss)
                .f_scale(0.05)
                .fit(&x, &y)
                .unwrap();
            assert!(r.success, "{method} {loss}: {}", r.message);
            assert!(
                (r.popt[1] - 1.3).abs() < 0.05,
                "{method} {loss}: {:?}",
                r.popt
            );
        }
    }
    // The model itself works through references and trait objects too.
    let m: &dyn Model = &Decay;
    assert!(CurveFit::new(m).p0([1.0, 1.0, 0.0]).fit(&x, &y).is_ok());
}

#[test]
fn indeterminate_covariance_round_trips_through_json() {
    // As many points as parameters: no degrees of freedom, pcov is all +inf (scipy's rule).
    let x = [0.0, 1.0, 2.0];
    let y = [2.9, 1.2, 0.7];
    let r = CurveFit::new(Decay)
        .p0([2.0, 1.0, 0.5])
        .fit(&x, &y)
        .unwrap();
    assert!(r.covariance_indeterminate);
    assert!(r.pcov.iter().flatten().all(|v| *v == f64::INFINITY));
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains("\"inf\""));
    let back: nlsq::FitResult = serde_json::from_str(&json).unwrap();
    assert_eq!(back.pcov, r.pcov);
    assert_eq!(back.popt, r.popt);
}
