//! Shared test fixtures: the model corpus and models that exercise the kernel paths.
#![allow(dead_code)]

pub mod pass;

use kernels_gen::{ModelIr, parse};

/// The corpus source (`corpus/models.rs`).
pub const CORPUS: &str = include_str!("../corpus/models.rs");

/// Every `fn` in the corpus, compiled.
pub fn corpus() -> Vec<ModelIr> {
    let file = syn::parse_file(CORPUS).expect("corpus parses as Rust");
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Fn(f) => Some(
                parse::model_from_fn(f)
                    .unwrap_or_else(|e| panic!("corpus model `{}`: {e}", f.sig.ident)),
            ),
            _ => None,
        })
        .collect()
}

/// Models beyond the corpus that exercise the larger-P (tiled) kernel path and string models.
pub fn extra_models() -> Vec<ModelIr> {
    let mut v = vec![
        parse::model_from_source(
            "fn poly11(x: f64, c: [f64; 12]) -> f64 {
                let mut s = 0.0;
                let mut xp = 1.0;
                for i in 0..12 { s += c[i] * xp; xp *= x; }
                s
            }",
        )
        .unwrap(),
        parse::model_from_source(
            "fn sines256(x: f64, c: [f64; 256]) -> f64 {
                let mut s = 0.0;
                for i in 0..256 { s += c[i] * (0.01 * (i as f64) * x).sin(); }
                s
            }",
        )
        .unwrap(),
        parse::model_from_expr("a * exp(-b * x) + c", None).unwrap(),
        // The error function (expression strings only): a smoothed step.
        parse::model_from_expr("a / 2 * (1 + erf((x - mu) / (sqrt(2) * s))) + c", None).unwrap(),
        // Its complement, which keeps its digits in the tail.
        parse::model_from_expr("a * erfc(x / s) + c", None).unwrap(),
    ];
    v[2].name = "expr_decay".into();
    v[3].name = "expr_erf_step".into();
    v[4].name = "expr_erfc_tail".into();
    v
}

/// Corpus plus extra models.
pub fn all_models() -> Vec<ModelIr> {
    let mut v = corpus();
    v.extend(extra_models());
    v
}
