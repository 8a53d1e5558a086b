//! The model hash: stable under names, whitespace and comments; sensitive to the mathematics;
//! pinned to golden values so that any change to the generator is noticed and re-pinned on
//! purpose (update the constants below, and say why in the commit).

use kernels_gen::{Compiled, ModelHash, parse};

fn hash_of(src: &str) -> ModelHash {
    Compiled::new(parse::model_from_source(src).unwrap()).hash
}

const GAUSSIAN: &str = "fn gaussian(x: f64, amp: f64, mu: f64, sigma: f64) -> f64 {
    let d = x - mu;
    amp * (-(d * d) / (2.0 * sigma * sigma)).exp()
}";

#[test]
fn names_whitespace_and_comments_do_not_change_the_hash() {
    let reformatted = "fn   peak ( t : f64 , height: f64, centre: f64, width: f64 ) -> f64
    {
        // the same Gaussian, renamed and reformatted
        let offset = t - centre; /* block comment */
        height * (-(offset * offset) / (2.0 * width * width)).exp()
    }";
    assert_eq!(hash_of(GAUSSIAN), hash_of(reformatted));
}

#[test]
fn equivalent_spellings_share_a_hash() {
    // Commutative operands are ordered canonically; method and path call forms are one node.
    let a = hash_of("fn f(x: f64, a: f64, b: f64) -> f64 { a * x + b }");
    let b = hash_of("fn f(x: f64, a: f64, b: f64) -> f64 { b + x * a }");
    assert_eq!(a, b);
    let c = hash_of("fn f(x: f64, a: f64) -> f64 { (a * x).exp() }");
    let d = hash_of("fn f(x: f64, a: f64) -> f64 { f64::exp(a * x) }");
    assert_eq!(c, d);
}

#[test]
fn any_change_to_the_mathematics_changes_the_hash() {
    let base = hash_of(GAUSSIAN);
    let variants = [
        // a different constant
        "fn g(x: f64, amp: f64, mu: f64, sigma: f64) -> f64 { let d = x - mu; amp * (-(d * d) / (2.5 * sigma * sigma)).exp() }",
        // a different operation
        "fn g(x: f64, amp: f64, mu: f64, sigma: f64) -> f64 { let d = x + mu; amp * (-(d * d) / (2.0 * sigma * sigma)).exp() }",
        // parameters in another order
        "fn g(x: f64, mu: f64, amp: f64, sigma: f64) -> f64 { let d = x - mu; amp * (-(d * d) / (2.0 * sigma * sigma)).exp() }",
        // one parameter more
        "fn g(x: f64, amp: f64, mu: f64, sigma: f64, c: f64) -> f64 { let d = x - mu; amp * (-(d * d) / (2.0 * sigma * sigma)).exp() + c }",
        // a 2-vector input
        "fn g(x: [f64; 2], amp: f64, mu: f64, sigma: f64) -> f64 { let d = x[0] - mu; amp * (-(d * d) / (2.0 * sigma * sigma)).exp() }",
    ];
    let mut seen = vec![base];
    for v in variants {
        let h = hash_of(v);
        assert!(!seen.contains(&h), "hash collision for {v}");
        seen.push(h);
    }
}

/// Golden values. A change here means the generated kernels changed: caches keyed by the old
/// hash will rebuild. Update deliberately. (Re-pinned when the batch-fit modules joined the
/// hashed sources, when the WGSL batch module gained its loop-limit sentinel and
/// its unrolled per-point accumulation, and for kernel ABI 2: the CUDA pass's FP64 diet —
/// integer counts, shared reciprocals, one finiteness test — and `nlsq_data_check`; and when
/// the pass kernels went back to plain divisions, which measured faster; and when the CUDA
/// module gained the K-vector pass `nlsq_pass_k`, and when the WGSL module did.)
const PINS: [(&str, &str); 4] = [
    (
        "a * exp(-b * x) + c",
        "6a2c5cf54cbdd268d457fda53cbdb30c76b3b65e8c29d531ac0791380b374201",
    ),
    (
        "amp * exp(-((x - mu) * (x - mu)) / (2 * sigma * sigma))",
        "0523dad2920d5a08efd76e0f86da9c52fa6722f7b18523559e5c4c16e038a3cc",
    ),
    (
        "a * x[0] + b * x[1].sin()",
        "25fdf8c1bfb39b5ec8f7b80ef3c1f44c6a4eaf68b9d1ded84d135357979d491c",
    ),
    // Pinned when erf and erfc joined the language (their WGSL is only in the modules of
    // models calling them, so the three pins above did not change); re-pinned for ABI 2.
    (
        "a / 2 * (1 + erf((x - mu) / (sqrt(2) * s))) + c",
        "c458ffa989bb0ba70016f45689de0339fa05f78264832c98e328ec52e22bc313",
    ),
];

#[test]
fn hashes_are_pinned() {
    let mut report = String::new();
    let mut ok = true;
    for (expr, pin) in PINS {
        let h = Compiled::new(parse::model_from_expr(expr, None).unwrap())
            .hash
            .to_hex();
        report.push_str(&format!("    (\"{expr}\", \"{h}\"),\n"));
        ok &= h == pin;
    }
    assert!(
        ok,
        "model hashes changed; if the generator change is intended, pin:\n{report}"
    );
}

#[test]
fn erf_is_its_own_operation_in_the_hash() {
    let e = Compiled::new(parse::model_from_expr("a * erf(x)", None).unwrap()).hash;
    let t = Compiled::new(parse::model_from_expr("a * tanh(x)", None).unwrap()).hash;
    assert_ne!(e, t);
    assert!(
        kernels_gen::hash::canonical_ir(&parse::model_from_expr("a * erf(x)", None).unwrap())
            .windows(4)
            .any(|w| w == b"uErf")
    );
}

#[test]
fn the_hash_covers_the_batch_modules() {
    // Same fit modules, different batch modules: a model above the batch limit has none, so
    // hashing it must differ from hashing only the fit modules of the same model.
    let m = parse::model_from_expr("a * exp(-b * x) + c", None).unwrap();
    let c = Compiled::new(m.clone());
    let fit_only = kernels_gen::hash::model_hash(
        &m,
        kernels_gen::Precision::ALL
            .iter()
            .map(|&p| c.cuda_source(p))
            .chain(
                kernels_gen::Precision::ALL
                    .iter()
                    .map(|&p| c.wgsl_source(p)),
            ),
    );
    assert_ne!(c.hash, fit_only);
    assert!(c.cuda_batch_source(kernels_gen::Precision::F32).is_some());
}

#[test]
fn variables_assigned_in_both_arms_of_an_if_hash_the_same_every_time() {
    // Several variables merged after an `if`: the selects must be created in one order, not
    // in the order of a hash map that differs from one map to the next.
    let src = "fn m(x: f64, a: f64, b: f64) -> f64 {
        let mut p = a; let mut q = b; let mut r = x; let mut s = a * b; let mut t = 1.0;
        if x > 0.0 { p = a * x; q = b + x; r = x * x; s = a - b; t = 2.0; }
        else { p = a - x; q = b * x; r = -x; s = a + b; t = 3.0; }
        p + q * r - s / t
    }";
    let first = hash_of(src);
    for _ in 0..32 {
        assert_eq!(hash_of(src), first);
    }
}
