//! Pathological models: every input ends in a model or a typed error naming the limit it hit,
//! in under a second and 100 MiB, on a thread with the default 2 MiB stack (these tests run in
//! debug builds, where stack frames are largest). See `kernels_gen::parse` for the limits.

#[path = "support/bounded.rs"]
mod bounded;

use bounded::bounded;
use kernels_gen::parse::{
    self, MAX_INPUTS, MAX_NESTING, MAX_PARAMS, MAX_TOKENS, ParseError, model_from_expr,
    model_from_source,
};
use kernels_gen::{Compiled, ModelIr};

/// Compiles an expression string all the way (kernels and hash included) under the budgets.
fn expr(name: &str, src: String) -> Result<ModelIr, ParseError> {
    bounded(name, move || {
        let m = model_from_expr(&src, None)?;
        let c = Compiled::new(m);
        Ok(c.ir)
    })
}

/// The same for a `fn` item.
fn source(name: &str, src: String) -> Result<ModelIr, ParseError> {
    bounded(name, move || {
        let m = model_from_source(&src)?;
        let c = Compiled::new(m);
        Ok(c.ir)
    })
}

fn nested(open: &str, inner: &str, close: &str, n: usize) -> String {
    format!("{}{inner}{}", open.repeat(n), close.repeat(n))
}

/// Expects an error whose message contains one of the `|`-separated phrases of `what`.
fn expect_err(r: Result<ModelIr, ParseError>, what: &str) -> String {
    match r {
        Ok(m) => panic!(
            "expected an error naming {what}, got a model with {} nodes",
            m.graph.len()
        ),
        Err(e) => {
            let s = e.to_string();
            assert!(
                what.split('|').any(|w| s.contains(w)),
                "expected {what}: {s}"
            );
            s
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_an_abort() {
    for n in [MAX_NESTING as usize + 1, 1000, 100_000] {
        let cases = [
            ("parens", nested("(", "a * x", ")", n)),
            ("calls", nested("exp(", "a * x", ")", n)),
            ("methods", nested("(", "a * x", ").exp()", n)),
            ("brackets", nested("[", "a * x", "]", n)),
            ("blocks", nested("{", "a * x", "}", n)),
            ("unary minus", format!("{}(a * x)", "-".repeat(n * 4))),
            ("not", format!("{}(a < x)", "!".repeat(n * 4))),
            ("method chain", format!("(a * x){}", ".exp()".repeat(n * 8))),
            ("casts", format!("(a * x){}", " as f64".repeat(n * 8))),
            (
                "else if",
                format!("{}{{ a }}", "if x < a { a } else ".repeat(n * 8)),
            ),
            ("closures", format!("{}x", "|x| ".repeat(n))),
            (
                "generics",
                format!("x as {}f64{}", "A<".repeat(n), ">".repeat(n)),
            ),
            ("references", format!("x as {}f64", "&".repeat(n))),
        ];
        for (name, src) in cases {
            let name = format!("{name} x {n}");
            // Just past the nesting limit, that limit is named; far past it, the length
            // limits may be hit first.
            let limits = if n == MAX_NESTING as usize + 1 {
                "MAX_NESTING"
            } else {
                "MAX_NESTING|MAX_SOURCE_LEN|MAX_TOKENS"
            };
            expect_err(expr(&name, src.clone()), limits);
            let body = format!("fn m(x: f64, a: f64) -> f64 {{ {src} }}");
            expect_err(source(&name, body), limits);
        }
    }
}

#[test]
fn nesting_within_the_limit_compiles() {
    // One level is left for the `fn` body's block in the item form, and the signature (`fn`
    // counts as a keyword of function types) takes two more.
    let n = MAX_NESTING as usize - 4;
    let m = expr("parens at the limit", nested("(", "a * x", ")", n)).unwrap();
    assert_eq!(m.eval_with_gradient(&[2.0], &[3.0]), (6.0, vec![2.0]));
    let calls = nested("abs(", "a * x", ")", n);
    expr("calls at the limit", calls.clone()).unwrap();
    source(
        "calls at the limit in a fn",
        format!(
            "fn m(x: f64, a: f64) -> f64 {{ {} }}",
            nested("f64::abs(", "a * x", ")", n)
        ),
    )
    .unwrap();
    let blocks = nested("{", "a * x", "}", n * 16 / 22 - 1);
    expr("blocks at the limit", blocks).unwrap();
    // Each unary minus is 6/16 of a level; there is room for about 170.
    let minus = format!("{}(a * x)", "- ".repeat(166));
    expr("unary minus at the limit", minus).unwrap();
    let chain = format!("(a * x){}", ".abs()".repeat(250));
    expr("method chain at the limit", chain).unwrap();
    let elif = format!("{}{{ a }}", "if x < a { a } else ".repeat(250));
    expr("else-if chain at the limit", elif).unwrap();
}

#[test]
fn long_sums_are_bounded_by_the_token_limit() {
    for terms in [MAX_TOKENS, 100_000] {
        let src = vec!["a * x"; terms].join(" + ");
        let e = expect_err(
            expr(&format!("sum of {terms}"), src),
            "MAX_TOKENS|MAX_SOURCE_LEN",
        );
        assert!(e.contains("too long"), "{e}");
    }
    // The longest sum that fits: a syntax tree about MAX_TOKENS / 2 deep, lowered and
    // dropped on a 2 MiB stack.
    let terms = (MAX_TOKENS - 1) / 2;
    let src = vec!["x"; terms].join(" - ") + " * a";
    let m = expr("longest chain", src).unwrap();
    assert_eq!(m.n_params(), 1);
    let terms = MAX_TOKENS / 4;
    let src = (0..terms)
        .map(|i| format!("p{}*x", i % 256))
        .collect::<Vec<_>>()
        .join(" + ");
    let m = expr("sum of 2048 products", src).unwrap();
    assert_eq!(m.n_params(), 256);
}

#[test]
fn huge_source_text_is_refused_before_lexing() {
    let src = format!("a * x{}", " ".repeat(parse::MAX_SOURCE_LEN));
    expect_err(expr("long text", src), "MAX_SOURCE_LEN");
}

#[test]
fn predictor_indices_are_bounded() {
    for (k, what) in [
        ("1000000000", "MAX_INPUTS"),
        ("1000000000000000000", "MAX_INPUTS"),
        ("18446744073709551615", "MAX_INPUTS"),
        // Beyond u64: not an index at all.
        ("18446744073709551616", "indexed"),
        ("99999999999999999999999999999999", "indexed"),
    ] {
        let src = format!("a * x[{k}]");
        let e = expect_err(expr(&format!("x[{k}]"), src), what);
        assert!(e.starts_with("1:"), "{e}");
    }
    let last = MAX_INPUTS - 1;
    let m = expr("x[K - 1]", format!("a * x[{last}]")).unwrap();
    assert_eq!(m.n_inputs(), MAX_INPUTS);
    expect_err(expr("x[K]", format!("a * x[{MAX_INPUTS}]")), "MAX_INPUTS");
    for len in ["257", "1000000000", "18446744073709551615"] {
        let src = format!("fn m(x: [f64; {len}], a: f64) -> f64 {{ a * x[0] }}");
        expect_err(source(&format!("x: [f64; {len}]"), src), "MAX_INPUTS");
    }
}

#[test]
fn parameter_counts_are_bounded() {
    let names = |n: usize| (0..n).map(|i| format!("p{i}")).collect::<Vec<_>>();
    expect_err(
        expr("10,000 parameters", names(10_000).join(" + ") + " + x"),
        "MAX_TOKENS",
    );
    let e = expect_err(
        expr(
            "MAX_PARAMS + 1 parameters",
            names(MAX_PARAMS + 1).join(" + ") + " + x",
        ),
        "MAX_PARAMS",
    );
    assert!(e.contains("`p1024`"), "{e}");
    let m = expr("MAX_PARAMS parameters", names(MAX_PARAMS).join(" * x + ")).unwrap();
    assert_eq!(m.n_params(), MAX_PARAMS);
    let e = bounded("explicit names", move || {
        let many = names(MAX_PARAMS + 1);
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        model_from_expr("a * x", Some(&refs)).map(|_| ())
    });
    assert!(e.unwrap_err().to_string().contains("MAX_PARAMS"));
    for decl in [
        "c: [f64; 1025]",
        "c: [f64; 18446744073709551615]",
        "c: [f64; 1000], d: [f64; 25]",
    ] {
        let src = format!("fn m(x: f64, {decl}) -> f64 {{ c[0] * x }}");
        expect_err(source(decl, src), "MAX_PARAMS");
    }
}

#[test]
fn loops_and_literals_stay_typed_errors() {
    let cases = [
        (
            "fn m(x: f64, a: f64) -> f64 { let mut s = a; for i in -9223372036854775807..9223372036854775807 { s += x; } s }",
            "unroll",
        ),
        (
            "fn m(x: f64, a: f64) -> f64 { let mut s = a; for i in 0..=9223372036854775807 { s += x; } s }",
            "unroll",
        ),
        (
            "fn m(x: f64, a: f64) -> f64 { a * x.powi(-(0 - 9223372036854775807 - 1)) }",
            "overflow",
        ),
        (
            "fn m(x: f64, a: f64) -> f64 { a * x * 1e999 }",
            "out of range",
        ),
        (
            "fn m(x: f64, a: f64) -> f64 { a * x * 1e999f64 }",
            "out of range",
        ),
        // 10,000 iterations of a large body: the lowering budget, not a hang.
        (
            "fn m(x: f64, a: f64) -> f64 { let mut s = a; for i in 0..10000 { s = s * x + (i as f64) * (s - x) / (s + x) - s * (s * x); } s }",
            "MAX_",
        ),
    ];
    for (src, what) in cases {
        expect_err(source(src, src.to_string()), what);
    }
    expect_err(expr("huge literal", "a * x * 1e400".into()), "out of range");
    let m = expr("tiny literal", "a * x * 1e-400".into()).unwrap();
    assert_eq!(m.eval_with_gradient(&[1.0], &[1.0]).0, 0.0);
}

/// A syntax tree nested deeper than any string could give, handed to `model_from_fn`: the
/// lowering refuses it without overflowing. (The tree is built with a loop and leaked: syn
/// would drop it recursively.)
#[test]
fn deep_syntax_trees_from_elsewhere_are_refused_while_lowering() {
    let r = bounded("deep tree", || {
        let mut e: syn::Expr = syn::parse_quote!(a * x);
        for _ in 0..20_000 {
            e = syn::Expr::Unary(syn::ExprUnary {
                attrs: Vec::new(),
                op: syn::UnOp::Neg(Default::default()),
                expr: Box::new(e),
            });
        }
        let mut item: syn::ItemFn = syn::parse_quote!(
            fn m(x: f64, a: f64) -> f64 {
                a
            }
        );
        item.block.stmts = vec![syn::Stmt::Expr(e, None)];
        let r = parse::model_from_fn(&item)
            .map(|_| ())
            .map_err(|e| e.to_string());
        std::mem::forget(item);
        r
    });
    assert!(r.unwrap_err().contains("nests too deeply"));
}

/// A small seeded generator (SplitMix64) for the random-bytes test.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[test]
fn random_bytes_end_in_a_model_or_an_error() {
    let mut state = 12345u64;
    let inputs: Vec<String> = (0..300)
        .map(|i| {
            let len = (splitmix(&mut state) % (if i % 10 == 0 { 20_000 } else { 200 })) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let b = splitmix(&mut state) as u8;
                    // Mostly the characters of the language, so that some inputs get far.
                    const LANGUAGE: &[u8] = b"ax()+-*/[]{}.;, 0123456789e|&<>!=^";
                    if b.is_multiple_of(2) {
                        LANGUAGE[(b as usize / 2) % LANGUAGE.len()]
                    } else {
                        b
                    }
                })
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        })
        .collect();
    bounded("random bytes", move || {
        for s in &inputs {
            let _ = model_from_expr(s, None).map(Compiled::new);
            let _ = model_from_source(s);
        }
    });
}

#[test]
fn errors_at_long_chains_have_spans() {
    let terms = (MAX_TOKENS - 1) / 2;
    let src = vec!["x"; terms].join(" - ");
    expect_err(expr("chain without parameters", src), "no parameters");
    let src = format!("({}).exp() * a", vec!["x"; terms - 8].join(" - "));
    expr("chain in parens", src).unwrap();
    let src = format!("({}) * a < 1.0", vec!["x"; terms - 8].join(" - "));
    expect_err(expr("chain, then a boolean", src), "expected a real");
}

#[test]
fn graph_size_and_differentiation_work_are_bounded() {
    // Every node of a long loop depends on all 1024 parameters: too much to differentiate.
    let src = "fn m(x: f64, c: [f64; 1024]) -> f64 {
        let mut s = 0.0;
        for i in 0..1024 { s += c[i]; }
        for i in 0..3000 { s = s * x + (i as f64); }
        s
    }";
    expect_err(
        source("all parameters everywhere", src.into()),
        "MAX_DIFF_VISITS",
    );
    // A loop making more nodes than the limit.
    let src = "fn m(x: f64, a: f64) -> f64 {
        let mut s = a;
        for i in 0..9000 { s = (s * x + a).sin(); }
        s
    }";
    expect_err(source("many nodes", src.into()), "MAX_NODES");
    // Large but within the limits: a model, in time.
    let src = "fn m(x: f64, c: [f64; 1024]) -> f64 {
        let mut s = 0.0;
        for i in 0..1024 { s += c[i] * (x * (i as f64)).sin(); }
        s
    }";
    let m = source("1024 parameters in a loop", src.into()).unwrap();
    assert_eq!(m.n_params(), 1024);
}
