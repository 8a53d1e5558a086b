//! Batch fitting: batch-level errors for shapes and options, per-fit states for per-fit
//! problems (the rest of the batch unaffected), and Poisson maximum likelihood against the
//! exact log-likelihood.

use nlsq::batch::{BatchFit, Estimator, FitState};
use nlsq::{Backend, FitError, Model};
use nlsq_testkit::batch::support::{Decay, Gauss2d, Rng, decay, gauss2d, gauss2d_poisson, grid5};

fn decay_data(n_fits: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| i as f64 * 0.25).collect();
    let mut y = Vec::new();
    for f in 0..n_fits {
        let b = 0.5 + 0.1 * f as f64;
        y.extend(x.iter().map(|&t| decay(t, 2.0, b, 0.5)));
    }
    (x, y)
}

#[test]
fn shape_errors_fail_the_batch() {
    let (x, y) = decay_data(3, 10);
    let base = || {
        BatchFit::new(Decay)
            .data(&y)
            .x_shared(&x)
            .p0(&[1.0, 1.0, 0.0])
    };
    let err = |r: Result<_, FitError>| r.expect_err("an error");
    assert!(matches!(
        err(base().lengths(&[10, 10, 9]).fit()),
        FitError::LengthMismatch {
            got: 30,
            expected: 29,
            ..
        }
    ));
    assert!(matches!(
        err(base().equal_length(7).fit()),
        FitError::LengthMismatch { .. }
    ));
    assert!(matches!(err(base().fit()), FitError::InvalidOption { .. }));
    assert!(matches!(
        err(base().equal_length(10).p0(&[1.0; 4]).fit()),
        FitError::LengthMismatch {
            got: 4,
            expected: 9,
            ..
        }
    ));
    assert!(matches!(
        err(base().equal_length(10).bounds(&[0.0; 3], &[1.0; 2]).fit()),
        FitError::LengthMismatch { .. }
    ));
    assert!(matches!(
        err(base().equal_length(10).weights(&[1.0; 29]).fit()),
        FitError::LengthMismatch {
            got: 29,
            expected: 30,
            ..
        }
    ));
    assert!(matches!(
        err(base().equal_length(10).fixed(&[true; 2]).fit()),
        FitError::LengthMismatch { .. }
    ));
    // Shared x shorter than the longest fit.
    assert!(matches!(
        err(base().lengths(&[5, 5, 20]).x_shared(&x).fit()),
        FitError::LengthMismatch {
            got: 10,
            expected: 20,
            ..
        }
    ));
    assert!(matches!(
        err(base().equal_length(10).x(&x).fit()),
        FitError::LengthMismatch {
            got: 10,
            expected: 30,
            ..
        }
    ));
    assert!(matches!(
        err(base().equal_length(10).tolerance(f64::NAN).fit()),
        FitError::InvalidOption { .. }
    ));
    assert!(matches!(
        err(base().equal_length(10).max_iterations(0).fit()),
        FitError::InvalidOption { .. }
    ));
    assert!(matches!(
        err(base()
            .equal_length(10)
            .weights(&[1.0; 30])
            .estimator(Estimator::PoissonMle)
            .fit()),
        FitError::InvalidOption { .. }
    ));
    assert!(matches!(
        err(BatchFit::new(Decay)
            .data(&[])
            .lengths(&[])
            .p0(&[1.0; 3])
            .fit()),
        FitError::EmptyData
    ));
    // Two predictors and no x.
    assert!(matches!(
        err(BatchFit::new(Gauss2d)
            .data(&[0.0; 25])
            .equal_length(25)
            .p0(&[1.0; 5])
            .fit()),
        FitError::InvalidOption { .. }
    ));
}

#[test]
fn per_fit_problems_end_in_states_and_leave_the_others_alone() {
    let n = 12;
    let (x, clean) = decay_data(8, n);
    let mut y = clean.clone();
    y[2 * n + 3] = f64::NAN; // fit 2: non-finite data
    let mut w = vec![1.0; 8 * n];
    w[3 * n] = -1.0; // fit 3: negative weight
    w[4 * n + 1] = f64::INFINITY; // fit 4: non-finite weight
    let mut p0 = [1.0, 1.0, 0.0].repeat(8);
    p0[5 * 3 + 1] = 5.0; // fit 5: p0 above its upper bound
    let lo = vec![0.0, 0.0, -1.0];
    let hi = vec![10.0, 3.0, 1.0];
    let mut fixed = vec![false; 24];
    fixed[6 * 3 + 2] = true; // fit 6: offset held at 0 (the truth is 0.5): still converges
    let fit = |y: &[f64]| {
        BatchFit::new(Decay)
            .data(y)
            .equal_length(n)
            .x_shared(&x)
            .weights(&w)
            .p0(&p0)
            .bounds(&lo, &hi)
            .fixed(&fixed)
            .tolerance(1e-12)
            .max_iterations(200)
            .covariance(true)
            .backend(Backend::Cpu)
            .fit()
            .unwrap()
    };
    let r = fit(&y);
    assert_eq!(r.states[2], FitState::NonFinite);
    assert_eq!(r.states[3], FitState::InvalidInput);
    assert_eq!(r.states[4], FitState::NonFinite);
    assert_eq!(r.states[5], FitState::InvalidInput);
    assert_eq!(r.params_of(5), &p0[15..18]);
    assert!(r.chi2[5].is_nan() && r.covariance_of(5).unwrap().iter().all(|v| v.is_nan()));
    assert_eq!(r.states[6], FitState::Converged);
    assert_eq!(r.params_of(6)[2], 0.0);
    assert_eq!(r.perr_of(6).unwrap()[2], 0.0);
    for i in [0, 1, 7] {
        assert_eq!(r.states[i], FitState::Converged, "fit {i}");
        let b = 0.5 + 0.1 * i as f64;
        let want = [2.0, b, 0.5];
        for (got, want) in r.params_of(i).iter().zip(want) {
            assert!((got - want).abs() < 1e-8, "fit {i}: {:?}", r.params_of(i));
        }
    }
    // The good fits are the same with every other fit clean.
    let r_clean = fit(&clean);
    for i in [0, 1, 6, 7] {
        assert_eq!(r.params_of(i), r_clean.params_of(i));
    }
    assert_eq!(r.count(FitState::Converged), 4);
}

#[test]
fn too_few_points_and_singular_fits() {
    // Fit 0 has 2 points for 3 parameters; fit 1 has x = 0 everywhere, where b has no
    // influence (a singular normal matrix); fit 2 is fine.
    let x = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0];
    let y = [1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.2, 0.9, 0.8, 0.7];
    let r = BatchFit::new(Decay)
        .data(&y)
        .lengths(&[2, 4, 4])
        .x(&x)
        .p0(&[1.0, 1.0, 0.0])
        .fit()
        .unwrap();
    assert_eq!(r.states[0], FitState::InvalidInput);
    assert_eq!(r.states[1], FitState::Singular);
    assert!(matches!(
        r.states[2],
        FitState::Converged | FitState::MaxIterations
    ));
}

#[test]
fn default_x_is_the_point_index_and_shared_x_serves_variable_lengths() {
    let (x, y) = decay_data(1, 12);
    let idx: Vec<f64> = (0..12).map(|i| i as f64).collect();
    let y_idx: Vec<f64> = idx.iter().map(|&t| decay(t, 2.0, 0.3, 0.5)).collect();
    let r = BatchFit::new(Decay)
        .data(&y_idx)
        .equal_length(12)
        .p0(&[1.0, 1.0, 0.0])
        .tolerance(1e-14)
        .step_tolerance(1e-12)
        .max_iterations(200)
        .fit()
        .unwrap();
    assert!((r.params[1] - 0.3).abs() < 1e-9, "{:?}", r.params);
    // The first 9 points of the shared grid serve a fit of 9 points.
    let mut flat = y[..9].to_vec();
    flat.extend_from_slice(&y);
    let r = BatchFit::new(Decay)
        .data(&flat)
        .lengths(&[9, 12])
        .x_shared(&x)
        .p0(&[1.0, 1.0, 0.0])
        .tolerance(1e-14)
        .step_tolerance(1e-12)
        .max_iterations(200)
        .fit()
        .unwrap();
    for i in 0..2 {
        assert!((r.params_of(i)[1] - 0.5).abs() < 1e-9, "{:?}", r.params);
    }
}

/// Exact Poisson negative log-likelihood `Σ f - y ln f`, from the model's value only.
fn nll(model: &dyn Model, x: &[f64], y: &[f64], p: &[f64]) -> f64 {
    (0..y.len())
        .map(|q| {
            let f = model.eval(&x[2 * q..2 * q + 2], p);
            f - y[q] * f.ln()
        })
        .sum()
}

#[test]
fn poisson_mle_zeroes_the_gradient_of_the_exact_likelihood() {
    // Low counts, where least squares and maximum likelihood differ clearly.
    let x = grid5();
    let n_fits = 200;
    let (y, p0) = gauss2d_poisson(&mut Rng::new(7), n_fits, |rng| {
        [
            rng.uniform(20.0, 60.0),
            rng.uniform(1.6, 2.4),
            rng.uniform(1.6, 2.4),
            rng.uniform(0.8, 1.3),
            rng.uniform(3.0, 6.0),
        ]
    });
    let fit = |est| {
        BatchFit::new(Gauss2d)
            .data(&y)
            .equal_length(25)
            .x_shared(&x)
            .p0(&p0)
            .estimator(est)
            .tolerance(1e-15)
            .step_tolerance(1e-13)
            .max_iterations(2000)
            .covariance(true)
            .fit()
            .unwrap()
    };
    let mle = fit(Estimator::PoissonMle);
    let lse = fit(Estimator::Lse);
    let mut checked = 0;
    let mut differs = 0;
    let mut worst = 0.0f64;
    for i in 0..n_fits {
        if mle.states[i] != FitState::Converged {
            // A width running off on very low counts is a legitimate outcome; it must be rare.
            continue;
        }
        checked += 1;
        let yi = &y[25 * i..25 * (i + 1)];
        let p = mle.params_of(i);
        // Central differences of the exact likelihood, and the distance to its minimum they
        // imply in standard errors (the Newton decrement sqrt(gᵀ C g), C the covariance).
        let perr = mle.perr_of(i).unwrap();
        let cov = mle.covariance_of(i).unwrap();
        let central = |j: usize, h: f64| {
            let (mut a, mut b) = (p.to_vec(), p.to_vec());
            a[j] += h;
            b[j] -= h;
            (nll(&Gauss2d, &x, yi, &a) - nll(&Gauss2d, &x, yi, &b)) / (2.0 * h)
        };
        // Richardson extrapolation removes the h² term (degenerate fits have large ones).
        let g: Vec<f64> = (0..5)
            .map(|j| {
                let h = 1e-3 * perr[j];
                (4.0 * central(j, h / 2.0) - central(j, h)) / 3.0
            })
            .collect();
        let decrement = (0..25)
            .map(|e| g[e / 5] * cov[e] * g[e % 5])
            .sum::<f64>()
            .sqrt();
        assert!(
            decrement < 1e-5,
            "fit {i}: gradient {g:?}, {decrement:e} standard errors from the minimum"
        );
        worst = worst.max(decrement);
        // Deviance of the result below the deviance of a nearby point and of the LSE result.
        let dev = mle.chi2[i];
        let nll_lse = nll(&Gauss2d, &x, yi, lse.params_of(i));
        let nll_mle = nll(&Gauss2d, &x, yi, p);
        assert!(
            nll_lse.is_nan() || nll_mle <= nll_lse + 1e-12 * nll_lse.abs(),
            "fit {i}: {nll_mle} vs LSE {nll_lse} ({:?} vs {:?}, {})",
            p,
            lse.params_of(i),
            lse.states[i]
        );
        let rel = (0..5)
            .map(|j| (p[j] - lse.params_of(i)[j]).abs() / perr[j])
            .fold(0.0, f64::max);
        differs += usize::from(rel > 1e-3);
        assert!(dev.is_finite());
    }
    println!(
        "Poisson MLE: {checked} of {n_fits} fits converged and checked (at most {worst:.1e} standard errors from the exact likelihood's minimum); {differs} differ from LSE by > 1e-3 standard errors"
    );
    assert!(checked >= n_fits * 95 / 100, "{checked} converged");
    assert!(
        differs > checked / 2,
        "MLE and LSE should differ on low counts"
    );
}

#[test]
fn single_precision_data_fits_like_the_same_values_in_double() {
    // Counts are exact in f32: the f32 input must give the very same CPU fits.
    let mut rng = Rng::new(5);
    let x = grid5();
    let mut y = Vec::new();
    for _ in 0..50 {
        for q in 0..25 {
            y.push(rng.poisson(gauss2d(
                [x[2 * q], x[2 * q + 1]],
                200.0,
                2.0,
                2.1,
                1.0,
                10.0,
            )));
        }
    }
    let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    let base = || {
        BatchFit::new(Gauss2d)
            .equal_length(25)
            .x_shared(&x)
            .p0(&[180.0, 1.9, 2.0, 1.1, 9.0])
            .estimator(Estimator::PoissonMle)
    };
    let a = base().data(&y).fit().unwrap();
    let b = base().data_f32(&y32).fit().unwrap();
    assert_eq!(a.params, b.params);
    assert_eq!(a.states, b.states);
    assert_eq!(a.count(FitState::Converged), 50);
    assert!(
        Gauss2d
            .cuda_batch_source(nlsq::Precision::F32)
            .is_some_and(|s| s.contains("nlsq_batch_lm"))
    );
    assert!(
        Gauss2d
            .wgsl_batch_source(nlsq::Precision::F64)
            .is_some_and(|s| s.contains("fn nlsq_batch_lm"))
    );
}
