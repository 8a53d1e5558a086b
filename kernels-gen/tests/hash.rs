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
/// hash will rebuild. Update deliberately.
const PINS: [(&str, &str); 3] = [
    (
        "a * exp(-b * x) + c",
        "a7e95df6d49659cbfb0681f52c7d29fc1b5a94c6d1a4c42bfafd0c450fdfde29",
    ),
    (
        "amp * exp(-((x - mu) * (x - mu)) / (2 * sigma * sigma))",
        "a3988ee18c295069aaa0c63160d3a7b4fe0b0d37157e32d67119806dbf98aff7",
    ),
    (
        "a * x[0] + b * x[1].sin()",
        "ac52af2781966d299659fe03c7ac38d923cb06839b8d3dab72eff8ecdf97bfaa",
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
