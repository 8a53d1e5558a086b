//! `#[model]` on the whole corpus: the generated model agrees with the original function, and
//! its gradient with finite differences of the original function.

use nlsq::{Model, Precision, model};
use nlsq_testkit::corpus::{self, models, samples};

#[test]
fn dispatch_covers_the_whole_corpus() {
    let declared = nlsq_testkit::corpus::SOURCE
        .lines()
        .filter(|l| l.trim() == "#[model]")
        .count();
    assert_eq!(
        corpus::COUNT,
        declared,
        "rerun nlsq-testkit/gen_corpus_dispatch.py"
    );
    assert!(declared >= 35);
}

#[test]
fn generated_value_equals_the_original_function() {
    for (name, x, p) in samples::SAMPLES {
        let (m, original) = corpus::lookup(name).expect("in dispatch");
        let want = original(x, p);
        let got = m.eval(x, p);
        let mut grad = vec![0.0; m.n_params()];
        let got2 = m.eval_with_gradient(x, p, &mut grad);
        assert!(
            (got - want).abs() <= 1e-15 * want.abs(),
            "{name}: model {got} vs original {want}"
        );
        assert_eq!(
            got.to_bits(),
            got2.to_bits(),
            "{name}: eval and eval_with_gradient differ"
        );
    }
}

/// The block function (`#[model]`'s vectorizable value and gradient) agrees with the
/// per-point one at every point: the same operations, except `exp`/`ln`, which are the
/// runtime's branch-free versions and differ from the system library by at most an ulp.
#[test]
fn block_values_and_gradients_equal_the_per_point_ones() {
    use nlsq::block::BLOCK;
    let close = |a: f64, b: f64| {
        a.to_bits() == b.to_bits() || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
    };
    let mut checked = 0;
    for (name, _, p) in samples::SAMPLES {
        let (m, _) = corpus::lookup(name).expect("in dispatch");
        // Every sample point of this model, cycled over the block, at this sample's parameters.
        let points: Vec<&[f64]> = samples::SAMPLES
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(_, x, _)| *x)
            .collect();
        let cols: Vec<[f64; BLOCK]> = (0..m.n_inputs())
            .map(|k| std::array::from_fn(|i| points[i % points.len()][k]))
            .collect();
        let x: Vec<&[f64; BLOCK]> = cols.iter().collect();
        let mut value = [0.0; BLOCK];
        let mut grad = vec![[0.0; BLOCK]; m.n_params()];
        m.eval_with_gradient_block(&x, p, &mut value, &mut grad);
        for i in 0..points.len().min(BLOCK) {
            let mut g = vec![0.0; m.n_params()];
            let want = m.eval_with_gradient(points[i], p, &mut g);
            assert!(
                close(value[i], want),
                "{name} point {i}: {} vs {want}",
                value[i]
            );
            for j in 0..m.n_params() {
                assert!(
                    close(grad[j][i], g[j]),
                    "{name} point {i} d/d{}: {} vs {}",
                    m.param_name(j),
                    grad[j][i],
                    g[j]
                );
            }
            checked += 1;
        }
    }
    println!("{checked} block evaluations checked against per-point values and gradients");
}

/// Central differences of the original function, with Richardson extrapolation.
fn derivative_of_original(f: corpus::Original, x: &[f64], p: &[f64], j: usize) -> f64 {
    let h = 1e-5 * p[j].abs().max(1e-3);
    let at = |d: f64| {
        let mut q = p.to_vec();
        q[j] += d;
        f(x, &q)
    };
    let d1 = (at(h) - at(-h)) / (2.0 * h);
    let d2 = (at(h / 2.0) - at(-h / 2.0)) / h;
    (4.0 * d2 - d1) / 3.0
}

#[test]
fn generated_gradient_matches_finite_differences_of_the_original() {
    let mut checked = 0;
    for (name, x, p) in samples::SAMPLES {
        let (m, original) = corpus::lookup(name).expect("in dispatch");
        let mut grad = vec![0.0; m.n_params()];
        let f = m.eval_with_gradient(x, p, &mut grad);
        for (j, &g) in grad.iter().enumerate() {
            let fd = derivative_of_original(original, x, p, j);
            let tol = 1e-6 * g.abs().max(fd.abs()) + 1e-9 * f.abs() / p[j].abs().max(1e-3);
            assert!(
                (g - fd).abs() <= tol,
                "{name}: d/d{} = {g} but finite differences give {fd}",
                m.param_name(j)
            );
            checked += 1;
        }
    }
    println!("{checked} generated partial derivatives checked against the original functions");
}

#[model]
fn decay(x: f64, amp: f64, rate: f64) -> f64 {
    amp * (-rate * x).exp()
}

#[model(name = RenamedDecay)]
fn decay_renamed(x: f64, amp: f64, rate: f64) -> f64 {
    // A comment, other whitespace, another name: the same kernels.
    amp * (-rate * x).exp()
}

#[model]
fn decay_faster(x: f64, amp: f64, rate: f64) -> f64 {
    amp * (-2.0 * rate * x).exp()
}

#[test]
fn model_value_describes_itself() {
    assert_eq!(Decay::NAME, "decay");
    assert_eq!(Decay.param_names(), ["amp", "rate"]);
    assert_eq!((Decay::N_PARAMS, Decay::N_INPUTS), (2, 1));
    assert_eq!(models::MultiGaussian::PARAM_NAMES[3], "mu[0]");
    assert_eq!(models::Nelson.n_inputs(), 2);
    for p in Precision::ALL {
        assert!(Decay.cuda_source(p).contains("extern \"C\" __global__"));
        assert!(Decay.wgsl_source(p).contains("@compute"));
    }
    // The original function is still callable.
    assert_eq!(decay(0.0, 3.0, 1.0), 3.0);
}

#[test]
fn hash_ignores_names_and_formatting_but_not_mathematics() {
    assert_eq!(Decay::HASH, RenamedDecay::HASH);
    assert_eq!(Decay.hash(), RenamedDecay.hash());
    assert_ne!(Decay::HASH, DecayFaster::HASH);
    // The runtime string parser builds the same kernels for the same mathematics.
    let expr =
        nlsq::ExprModel::parse_with_params("amp * (-rate * x).exp()", &["amp", "rate"]).unwrap();
    assert_eq!(expr.hash(), Decay::HASH);
}

#[model]
fn peak_on_a_slope(x: f64, height: f64, centre: f64, width: f64, slope: f64) -> f64 {
    height * (-(x - centre).powi(2) / width).exp() + slope * x
}

#[test]
fn roles_of_parameters_are_those_of_the_same_model_given_as_a_string() {
    use nlsq::search::Role;
    let at = Role::Location { input: 0 };
    assert_eq!(
        Decay.param_roles(),
        Some(vec![Role::Linear, Role::Rate { input: 0, power: 1 }])
    );
    let want = vec![
        Role::Linear,
        at,
        Role::Rate {
            input: 0,
            power: -2,
        },
        Role::Linear,
    ];
    assert_eq!(PeakOnASlope.param_roles(), Some(want.clone()));
    let string = nlsq::ExprModel::parse_with_params(
        "height * exp(-pow(x - centre, 2) / width) + slope * x",
        &["height", "centre", "width", "slope"],
    )
    .unwrap();
    assert_eq!(string.param_roles(), Some(want));
}
