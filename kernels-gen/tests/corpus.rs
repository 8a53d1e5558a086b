//! The corpus through the compiler: at least 30 real models parse, differentiate, and have
//! gradients that agree with central finite differences at NIST starting and certified points.

mod support;

#[path = "corpus/samples.rs"]
mod samples;

use kernels_gen::{Compiled, Precision};

#[test]
fn corpus_has_nist_and_general_models() {
    let models = support::corpus();
    assert!(models.len() >= 35, "only {} corpus models", models.len());
    for name in [
        "misra1a",
        "bennett5",
        "nelson",
        "gaussian_2d",
        "multi_gaussian",
    ] {
        assert!(models.iter().any(|m| m.name == name), "{name} missing");
    }
    let nelson = models.iter().find(|m| m.name == "nelson").unwrap();
    assert_eq!(nelson.n_inputs(), 2);
    let multi = models.iter().find(|m| m.name == "multi_gaussian").unwrap();
    assert_eq!(multi.n_params(), 10);
    assert_eq!(multi.param_names()[0], "amp[0]");
}

#[test]
fn every_sample_names_a_corpus_model_and_every_model_has_a_sample() {
    let models = support::corpus();
    for (name, x, p) in samples::SAMPLES {
        let m = models
            .iter()
            .find(|m| m.name == *name)
            .unwrap_or_else(|| panic!("sample for unknown model {name}"));
        assert_eq!(x.len(), m.n_inputs(), "{name}");
        assert_eq!(p.len(), m.n_params(), "{name}");
    }
    for m in &models {
        assert!(
            samples::SAMPLES.iter().any(|(n, _, _)| *n == m.name),
            "no sample for {}",
            m.name
        );
    }
}

/// Central differences with Richardson extrapolation (error O(h^4)).
fn richardson(f: impl Fn(f64) -> f64, p: f64) -> f64 {
    let h = 1e-5 * p.abs().max(1e-3);
    let d1 = (f(p + h) - f(p - h)) / (2.0 * h);
    let d2 = (f(p + h / 2.0) - f(p - h / 2.0)) / h;
    (4.0 * d2 - d1) / 3.0
}

#[test]
fn gradients_match_finite_differences_at_every_sample() {
    let models = support::corpus();
    let mut checked = 0;
    for (name, x, p) in samples::SAMPLES {
        let m = models.iter().find(|m| m.name == *name).unwrap();
        let (f, grad) = m.eval_with_gradient(x, p);
        assert!(f.is_finite(), "{name}: value {f}");
        for j in 0..p.len() {
            let fd = richardson(
                |v| {
                    let mut q = p.to_vec();
                    q[j] = v;
                    m.eval_with_gradient(x, &q).0
                },
                p[j],
            );
            let scale = grad[j].abs().max(fd.abs()).max(1e-300);
            // Relative agreement, with an absolute floor tied to the value's own size.
            let tol = 1e-6 * scale + 1e-9 * f.abs() / p[j].abs().max(1e-3);
            assert!(
                (grad[j] - fd).abs() <= tol,
                "{name}: d/d{} symbolic {} vs finite difference {fd}",
                m.param_names()[j],
                grad[j]
            );
            checked += 1;
        }
    }
    println!("{checked} partial derivatives checked against finite differences");
}

#[test]
fn every_model_emits_every_target() {
    let mut n = 0;
    for m in support::all_models() {
        let name = m.name.clone();
        let ops = m.op_count();
        let c = Compiled::new(m);
        for p in Precision::ALL {
            assert!(c.cuda_source(p).contains("nlsq_pass("), "{name}");
            assert!(c.wgsl_source(p).contains("fn nlsq_pass("), "{name}");
        }
        assert!(c.rust_source().contains("fn value_and_gradient("));
        assert!(ops > 0, "{name}");
        n += 1;
    }
    println!("{n} models emitted to Rust, CUDA (f32, f64) and WGSL (f32, f64)");
}
