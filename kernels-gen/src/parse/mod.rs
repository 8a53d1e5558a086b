//! From Rust source to IR: a `fn` item (what `#[model]` sees) or an expression string
//! (models built at run time, the CLI).
//!
//! Every rejection is a [`syn::Error`] at the span of the offending construct, naming it and
//! listing what the model language supports ([`SUPPORTED`]).
//!
//! # Limits
//!
//! Models given as strings come from people and from programs, so every input, however large,
//! deep or malformed, ends in a model or an error, in bounded time and memory, without
//! overflowing a thread's stack (the default 2 MiB is enough, in debug builds too). The
//! limits, each reported with the span where it was hit and the name of its constant:
//!
//! - [`MAX_SOURCE_LEN`] bytes of source text;
//! - [`MAX_TOKENS`] tokens (identifiers, literals, punctuation characters, groups);
//! - [`MAX_NESTING`] levels of nesting, checked on the tokens before syn parses them (syn
//!   itself recurses on nesting): a pair of parentheses or brackets, or a call, is one level;
//!   a block counts 1.4, a prefix operator (`-x`, `!c`) 0.4, a method call or cast in a chain
//!   0.25, a keyword 0.8 (`if` 0.25), and type syntax outside the model language (generics,
//!   references, pointers) up to 3 levels; chains of binary operators (`a + b + c`) count
//!   nothing. A syntax tree built elsewhere (given to [`model_from_fn`]) is bounded while
//!   it is lowered, at `4 *` [`MAX_NESTING`] nested expressions;
//! - [`MAX_INPUTS`] predictors (`x: [f64; K]`, or `x[k]` in an expression, `k < K`);
//! - [`MAX_PARAMS`] flattened parameters;
//! - [`MAX_LOWERED`] expressions lowered, counting every iteration of an unrolled loop
//!   (and at most 10,000 loop iterations in all);
//! - [`MAX_NODES`] nodes in the expression graph, the derivatives included, and
//!   [`MAX_DIFF_VISITS`] steps of differentiation (parameters times the nodes that depend
//!   on each).
//!
//! The limits are far above real models: the largest in the corpus
//! (`kernels-gen/tests/corpus`) has 205 tokens and 84 graph nodes (57 operations for value
//! and gradient), and a 256-parameter model with a loop makes 1,784 nodes. They keep the worst
//! case of each stage small in a debug build: syn's stack within about 1.1 MiB (measured per
//! construct, up to 51 KiB for one level of generics), a pathological input rejected in well
//! under a second, and 1,024 parameters differentiated in about 0.3 s.

mod locate;
mod lower;
mod prescan;

use crate::ir::Graph;
use crate::model::{InputShape, ModelIr, ParamDecl};
use locate::Locate;
use lower::{Binding, Lower, Value};
use syn::spanned::Spanned;

/// What a model body may contain; appended to every rejection. Expression strings
/// ([`model_from_expr`]) also have free-function calls (`exp(u)`, `log(u)`, `pow(a, b)`, ...),
/// `pi`, and the error functions `erf(u)` and `erfc(u)`, which a `#[model]` body cannot use.
pub const SUPPORTED: &str = "a #[model] body may use: `let` / `let mut` with `=`, `+=`, `-=`, \
`*=`, `/=`; `+ - * /`; unary minus; float literals; `std::f64::consts::*`; the f64 methods \
exp, ln, log10, log2, sqrt, cbrt, powi, powf, sin, cos, tan, asin, acos, atan, atan2, sinh, \
cosh, tanh, abs, hypot, min, max; `if`/`else` on comparisons (`< <= > >= == !=`, `&&`, `||`, \
`!`); `for i in a..b` over constant ranges; indexing `x[k]` / `p[i]` of array arguments";

/// Most bytes of source text a string model may have.
pub const MAX_SOURCE_LEN: usize = 256 * 1024;

/// Most tokens a model may have: identifiers, literals, punctuation characters and bracketed
/// groups each count one. It bounds the work of parsing, and the depth of syn's syntax tree for
/// chains of binary operators (which syn builds and drops recursively).
pub const MAX_TOKENS: usize = 8192;

/// Most levels of nesting (see the [module docs](self#limits) for what counts as a level):
/// about 17 KiB of stack per level in a debug build of syn, so that parsing stays within 1.1
/// MiB.
pub const MAX_NESTING: u32 = 64;

/// Most predictors (components of `x`) a model may have.
pub const MAX_INPUTS: usize = 256;

/// Most flattened parameters a model may have.
pub const MAX_PARAMS: usize = 1024;

/// Most expressions lowered for one model, every iteration of an unrolled loop counted.
pub const MAX_LOWERED: usize = 100_000;

/// Most nodes in a model's expression graph, its value and every derivative together.
pub const MAX_NODES: usize = 50_000;

/// Most graph nodes visited while differentiating (each parameter's derivative walks the
/// part of the value that depends on it): bounds the time of many parameters times a large
/// value.
pub const MAX_DIFF_VISITS: usize = 2_000_000;

/// Checks a model's tokens against [`MAX_TOKENS`] and [`MAX_NESTING`] without recursion, so
/// that syn can then parse them without overflowing the stack. `#[model]` calls this before
/// parsing its item; [`model_from_source`] and [`model_from_expr`] call it on their text.
pub fn check_tokens(tokens: &proc_macro2::TokenStream) -> syn::Result<()> {
    prescan::check(tokens.clone())
}

/// Lexes `src` after checking its length, then checks its tokens ([`check_tokens`]).
fn lex(src: &str) -> syn::Result<proc_macro2::TokenStream> {
    if src.len() > MAX_SOURCE_LEN {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            format!(
                "the model is too long: {} bytes, more than MAX_SOURCE_LEN = {MAX_SOURCE_LEN}",
                src.len()
            ),
        ));
    }
    // The lexer is iterative; a lexing error is left to syn, which reports it as before.
    let tokens: proc_macro2::TokenStream = src.parse()?;
    prescan::check(tokens.clone())?;
    Ok(tokens)
}

/// A rejection with its location, for models parsed from strings.
#[derive(Debug, thiserror::Error)]
#[error("{}:{}: {}", .line, .column + 1, .error)]
pub struct ParseError {
    /// 1-based line of the offending construct in the parsed string.
    pub line: usize,
    /// 0-based column.
    pub column: usize,
    /// The underlying error, whose span points at the construct.
    #[source]
    pub error: syn::Error,
}

impl From<syn::Error> for ParseError {
    fn from(error: syn::Error) -> Self {
        let start = error.span().start();
        ParseError {
            line: start.line,
            column: start.column,
            error,
        }
    }
}

fn err<T>(span: impl Spanned, what: impl std::fmt::Display) -> syn::Result<T> {
    Err(syn::Error::new(
        span.span(),
        format!("{what}\n  = note: {SUPPORTED}"),
    ))
}

/// Compiles a `fn` item written in the model language.
///
/// ```
/// let item: syn::ItemFn = syn::parse_quote! {
///     fn gaussian(x: f64, amp: f64, mu: f64, sigma: f64) -> f64 {
///         let d = x - mu;
///         amp * (-(d * d) / (2.0 * sigma * sigma)).exp()
///     }
/// };
/// let m = kernels_gen::parse::model_from_fn(&item).unwrap();
/// assert_eq!(m.param_names(), ["amp", "mu", "sigma"]);
/// ```
pub fn model_from_fn(item: &syn::ItemFn) -> syn::Result<ModelIr> {
    let sig = &item.sig;
    if let Some(c) = &sig.constness {
        return err(c, "a model cannot be a `const fn`");
    }
    if let Some(a) = &sig.asyncness {
        return err(a, "a model cannot be an `async fn`");
    }
    if let Some(u) = &sig.unsafety {
        return err(u, "a model cannot be an `unsafe fn`");
    }
    if let Some(abi) = &sig.abi {
        return err(abi, "a model cannot declare an ABI");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return err(
            &sig.generics,
            "a model cannot be generic: its arguments are all f64",
        );
    }
    if let Some(v) = &sig.variadic {
        return err(v, "a model cannot be variadic");
    }
    match &sig.output {
        syn::ReturnType::Type(_, ty) if is_f64(ty) => {}
        other => {
            return err(
                other,
                "a model must return `f64`: write `-> f64` after the arguments",
            );
        }
    }
    let mut args = Vec::new();
    let mut n_params = 0usize;
    for arg in &sig.inputs {
        let syn::FnArg::Typed(pt) = arg else {
            return err(arg, "a model is a free function; `self` is not allowed");
        };
        let syn::Pat::Ident(pi) = &*pt.pat else {
            return err(&pt.pat, "model arguments must be plain names like `amp`");
        };
        if pi.by_ref.is_some() || pi.subpat.is_some() {
            return err(&pt.pat, "model arguments must be plain names like `amp`");
        }
        let len = arg_len(&pt.ty)?;
        if args.is_empty() {
            if len.unwrap_or(1) > MAX_INPUTS {
                return err(
                    &pt.ty,
                    format!("a model has at most MAX_INPUTS = {MAX_INPUTS} predictors"),
                );
            }
        } else {
            n_params += len.unwrap_or(1);
            if n_params > MAX_PARAMS {
                return err(
                    arg,
                    format!(
                        "a model has at most MAX_PARAMS = {MAX_PARAMS} parameters (flattened); this argument makes {n_params}"
                    ),
                );
            }
        }
        args.push((pi.ident.to_string(), len, pt.ty.span()));
    }
    let Some(((input_name, input_len, _), params)) = args.split_first() else {
        return err(
            &sig.ident,
            "a model takes the independent variable first (`x: f64` or `x: [f64; K]`), then at least one parameter",
        );
    };
    if params.is_empty() {
        return err(
            &sig.inputs,
            "a model needs at least one fitted parameter after the independent variable",
        );
    }
    let input = match input_len {
        None => InputShape::Scalar,
        Some(k) => InputShape::Array(*k),
    };
    let decls: Vec<ParamDecl> = params
        .iter()
        .map(|(name, len, _)| ParamDecl {
            name: name.clone(),
            len: *len,
        })
        .collect();

    let mut lower = Lower::new(Graph::new(), false);
    bind_arguments(&mut lower, input_name, input, &decls);
    let value = lower.fn_body(&item.block)?;
    differentiate(
        sig.ident.to_string(),
        input,
        decls,
        lower.into_graph(),
        value,
        item.block.locate(),
    )
}

/// Differentiates within [`MAX_NODES`].
fn differentiate(
    name: String,
    input: InputShape,
    decls: Vec<ParamDecl>,
    graph: Graph,
    value: crate::ir::NodeId,
    at: proc_macro2::Span,
) -> syn::Result<ModelIr> {
    match ModelIr::new_within(name, input, decls, graph, value, MAX_NODES, MAX_DIFF_VISITS) {
        Some(m) => Ok(m),
        None => err(
            at,
            format!(
                "the model and its derivatives are too large: more than MAX_NODES = {MAX_NODES} operations, or more than MAX_DIFF_VISITS = {MAX_DIFF_VISITS} steps to differentiate"
            ),
        ),
    }
}

/// Compiles a `fn` item given as source text.
///
/// ```
/// let m = kernels_gen::parse::model_from_source(
///     "fn decay(x: f64, a: f64, b: f64) -> f64 { a * (-b * x).exp() }",
/// ).unwrap();
/// assert_eq!(m.n_params(), 2);
/// ```
pub fn model_from_source(src: &str) -> Result<ModelIr, ParseError> {
    let item: syn::ItemFn = syn::parse2(lex(src)?)?;
    Ok(model_from_fn(&item)?)
}

/// Compiles an expression in `x` such as `"a * exp(-b * x) + c"`.
///
/// In expressions, free functions may be called (`exp(u)`, `ln(u)` or `log(u)` for the
/// natural log, `pow(a, b)`, `atan2(y, x)`, ...) besides the method forms, integer literals are
/// reals, and `pi` / `PI` are π. Expressions may also use the error function `erf(u)` and
/// its complement `erfc(u)` (`scipy.special.erf` / `erfc`; `erfc` keeps its digits in the tail
/// where `1 - erf(u)` cancels), which `#[model]` functions cannot (Rust has no stable
/// `f64::erf`). The independent variable is `x`; `x[k]` makes it a
/// `K`-vector. With `params` the parameters are named and ordered explicitly; otherwise
/// they are the other free identifiers in order of first appearance.
///
/// ```
/// let m = kernels_gen::parse::model_from_expr("a * exp(-b * x) + c", None).unwrap();
/// assert_eq!(m.param_names(), ["a", "b", "c"]);
/// let (f, grad) = m.eval_with_gradient(&[0.0], &[2.0, 1.0, 0.5]);
/// assert_eq!(f, 2.5);
/// assert_eq!(grad, [1.0, 0.0, 1.0]);
/// ```
pub fn model_from_expr(expr: &str, params: Option<&[&str]>) -> Result<ModelIr, ParseError> {
    let e: syn::Expr = syn::parse2(lex(expr)?)?;
    let mut scan = lower::FreeNames::default();
    scan.scan(&e);
    let input = match scan.max_x_index {
        Some((k, at)) if k >= MAX_INPUTS => {
            return Err(syn::Error::new(
                at,
                format!(
                    "`x[{k}]` makes {} predictors: a model has at most MAX_INPUTS = {MAX_INPUTS}",
                    k as u128 + 1
                ),
            )
            .into());
        }
        Some((k, _)) => InputShape::Array(k + 1),
        None => InputShape::Scalar,
    };
    let names: Vec<String> = match params {
        Some(p) if p.len() > MAX_PARAMS => {
            return Err(syn::Error::new(
                e.locate(),
                format!(
                    "{} parameters named: a model has at most MAX_PARAMS = {MAX_PARAMS}",
                    p.len()
                ),
            )
            .into());
        }
        Some(p) => p.iter().map(|s| s.to_string()).collect(),
        None => {
            let names: Vec<(String, proc_macro2::Span)> = scan
                .names
                .into_iter()
                .filter(|(n, _)| n.as_str() != "x")
                .collect();
            if let Some((n, at)) = names.get(MAX_PARAMS) {
                return Err(syn::Error::new(
                    *at,
                    format!(
                        "`{n}` would be parameter {}: a model has at most MAX_PARAMS = {MAX_PARAMS}",
                        MAX_PARAMS + 1
                    ),
                )
                .into());
            }
            names.into_iter().map(|(n, _)| n).collect()
        }
    };
    if names.is_empty() {
        return Err(syn::Error::new(
            e.locate(),
            "the expression has no parameters to fit: use names other than `x`, e.g. `a * x + b`",
        )
        .into());
    }
    let decls: Vec<ParamDecl> = names
        .into_iter()
        .map(|name| ParamDecl { name, len: None })
        .collect();
    let mut lower = Lower::new(Graph::new(), true);
    bind_arguments(&mut lower, "x", input, &decls);
    let value = lower.expr(&e)?;
    let value = lower.real(value, &e)?;
    Ok(differentiate(
        "expr".to_string(),
        input,
        decls,
        lower.into_graph(),
        value,
        e.locate(),
    )?)
}

fn bind_arguments(lower: &mut Lower, input_name: &str, input: InputShape, params: &[ParamDecl]) {
    let xv = match input {
        InputShape::Scalar => Value::Real(lower.graph().input(0)),
        InputShape::Array(k) => {
            Value::Array((0..k as u32).map(|i| lower.graph().input(i)).collect())
        }
    };
    lower.bind(input_name, Binding::immutable(xv));
    let mut j = 0u32;
    for p in params {
        let v = match p.len {
            None => {
                j += 1;
                Value::Real(lower.graph().param(j - 1))
            }
            Some(m) => {
                let ids = (j..j + m as u32).map(|i| lower.graph().param(i)).collect();
                j += m as u32;
                Value::Array(ids)
            }
        };
        lower.bind(&p.name, Binding::immutable(v));
    }
}

fn is_f64(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(tp) if tp.qself.is_none() && tp.path.is_ident("f64"))
}

/// `None` for `f64`, `Some(n)` for `[f64; n]`; anything else is rejected.
fn arg_len(ty: &syn::Type) -> syn::Result<Option<usize>> {
    if is_f64(ty) {
        return Ok(None);
    }
    if let syn::Type::Array(arr) = ty
        && is_f64(&arr.elem)
    {
        if let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(n),
            ..
        }) = &arr.len
        {
            let n: usize = n.base10_parse()?;
            if n == 0 {
                return err(&arr.len, "array arguments need at least one element");
            }
            return Ok(Some(n));
        }
        return err(
            &arr.len,
            "array lengths must be integer literals, e.g. `[f64; 3]`",
        );
    }
    err(
        ty,
        "model arguments must be `f64` or `[f64; N]` (f32, integers, references and other types are not supported)",
    )
}
