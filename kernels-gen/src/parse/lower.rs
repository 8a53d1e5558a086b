//! Lowering of statements and expressions of the model language into the graph.
//!
//! Control flow is resolved here: `for` loops over constant ranges are unrolled, and `if`/`else`
//! (as an expression or as a statement assigning to `let mut` variables) becomes `Select`
//! nodes, so the IR is one straight-line DAG.

use super::locate::{Locate, first_token};
use super::{MAX_LOWERED, MAX_NESTING, MAX_NODES, err};
use crate::ir::{BinaryOp, CmpOp, Graph, NodeId, UnaryOp};
use std::collections::HashMap;
use syn::spanned::Spanned;

/// Unrolled loop iterations allowed in one model, to keep a runaway range from hanging the
/// compiler.
const UNROLL_LIMIT: i64 = 10_000;

/// Most nested expressions, blocks and `if`s while lowering (bounds the recursion here, for
/// syntax trees that did not come through the pre-scan).
const MAX_DEPTH: usize = 4 * MAX_NESTING as usize;

/// A value during lowering.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A real-valued node.
    Real(NodeId),
    /// A boolean node.
    Bool(NodeId),
    /// A compile-time integer: a loop counter, an index, a `powi` exponent.
    Int(i64),
    /// An array argument.
    Array(Vec<NodeId>),
}

/// A named value in scope.
#[derive(Clone, Debug)]
pub struct Binding {
    value: Value,
    mutable: bool,
}

impl Binding {
    /// An immutable binding.
    pub fn immutable(value: Value) -> Self {
        Binding {
            value,
            mutable: false,
        }
    }
}

/// The lowering state: the graph under construction and the lexical scopes.
pub struct Lower {
    g: Graph,
    scopes: Vec<HashMap<String, Binding>>,
    /// Expression-string mode: free function calls, integer literals as reals, `pi`.
    string_mode: bool,
    unrolled: i64,
    /// Current nesting of `expr` / `block` / `if_expr` calls.
    depth: usize,
    /// Expressions lowered so far, loop iterations counted.
    lowered: usize,
}

fn construct_name(e: &syn::Expr) -> &'static str {
    use syn::Expr::*;
    match e {
        Array(_) => "array literals are",
        Async(_) => "`async` blocks are",
        Await(_) => "`.await` is",
        Break(_) => "`break` is",
        Closure(_) => "closures are",
        Const(_) => "`const` blocks are",
        Continue(_) => "`continue` is",
        Field(_) => "field access is",
        Let(_) => "`let` conditions are",
        Loop(_) => "`loop` is",
        Macro(_) => "macro invocations are",
        Match(_) => "`match` is",
        Range(_) => "ranges outside `for` are",
        RawAddr(_) | Reference(_) => "references are",
        Repeat(_) => "array literals are",
        Struct(_) => "struct literals are",
        Try(_) => "the `?` operator is",
        TryBlock(_) => "`try` blocks are",
        Tuple(_) => "tuples are",
        Unsafe(_) => "`unsafe` blocks are",
        While(_) => "`while` loops are",
        Yield(_) => "`yield` is",
        _ => "this expression is",
    }
}

const REAL_CONSTS: &[(&str, f64)] = {
    use std::f64::consts::*;
    &[
        ("PI", PI),
        ("TAU", TAU),
        ("E", E),
        ("SQRT_2", SQRT_2),
        ("LN_2", LN_2),
        ("LN_10", LN_10),
        ("LOG2_E", LOG2_E),
        ("LOG10_E", LOG10_E),
        ("LOG2_10", LOG2_10),
        ("LOG10_2", LOG10_2),
        ("FRAC_PI_2", FRAC_PI_2),
        ("FRAC_PI_3", FRAC_PI_3),
        ("FRAC_PI_4", FRAC_PI_4),
        ("FRAC_PI_6", FRAC_PI_6),
        ("FRAC_PI_8", FRAC_PI_8),
        ("FRAC_1_PI", FRAC_1_PI),
        ("FRAC_2_PI", FRAC_2_PI),
        ("FRAC_2_SQRT_PI", FRAC_2_SQRT_PI),
        ("FRAC_1_SQRT_2", FRAC_1_SQRT_2),
    ]
};

fn unary_method(name: &str) -> Option<UnaryOp> {
    Some(match name {
        "exp" => UnaryOp::Exp,
        "ln" => UnaryOp::Ln,
        "log10" => UnaryOp::Log10,
        "log2" => UnaryOp::Log2,
        "sqrt" => UnaryOp::Sqrt,
        "cbrt" => UnaryOp::Cbrt,
        "sin" => UnaryOp::Sin,
        "cos" => UnaryOp::Cos,
        "tan" => UnaryOp::Tan,
        "asin" => UnaryOp::Asin,
        "acos" => UnaryOp::Acos,
        "atan" => UnaryOp::Atan,
        "sinh" => UnaryOp::Sinh,
        "cosh" => UnaryOp::Cosh,
        "tanh" => UnaryOp::Tanh,
        "abs" => UnaryOp::Abs,
        _ => return None,
    })
}

fn binary_method(name: &str) -> Option<BinaryOp> {
    Some(match name {
        "powf" => BinaryOp::Powf,
        "atan2" => BinaryOp::Atan2,
        "hypot" => BinaryOp::Hypot,
        "min" => BinaryOp::Min,
        "max" => BinaryOp::Max,
        _ => return None,
    })
}

impl Lower {
    pub fn new(g: Graph, string_mode: bool) -> Self {
        Lower {
            g,
            scopes: vec![HashMap::new()],
            string_mode,
            unrolled: 0,
            depth: 0,
            lowered: 0,
        }
    }

    pub fn graph(&mut self) -> &mut Graph {
        &mut self.g
    }

    pub fn into_graph(self) -> Graph {
        self.g
    }

    pub fn bind(&mut self, name: &str, b: Binding) {
        self.scopes
            .last_mut()
            .expect("a scope is always open")
            .insert(name.to_string(), b);
    }

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    fn lookup_mut(&mut self, name: &str) -> Option<&mut Binding> {
        self.scopes.iter_mut().rev().find_map(|s| s.get_mut(name))
    }

    /// Coerces a value to a real node.
    pub fn real(&mut self, v: Value, at: impl Locate) -> syn::Result<NodeId> {
        match v {
            Value::Real(id) => Ok(id),
            Value::Int(i) => Ok(self.g.constant(i as f64)),
            Value::Bool(_) => err(at.locate(), "expected a real number here, found a boolean"),
            Value::Array(_) => err(
                at.locate(),
                "expected a real number here, found an array: index it, e.g. `a[0]`",
            ),
        }
    }

    fn boolean(&mut self, v: Value, at: impl Locate) -> syn::Result<NodeId> {
        match v {
            Value::Bool(id) => Ok(id),
            _ => err(
                at.locate(),
                "expected a condition (a comparison such as `x < x0`)",
            ),
        }
    }

    fn int(&self, v: Value, at: impl Locate) -> syn::Result<i64> {
        match v {
            Value::Int(i) => Ok(i),
            _ => err(
                at.locate(),
                "expected a constant integer (a literal or a `for` loop counter)",
            ),
        }
    }

    /// Lowers a function body: statements, then a tail expression or a final `return`.
    pub fn fn_body(&mut self, block: &syn::Block) -> syn::Result<NodeId> {
        let (last, init) = match block.stmts.split_last() {
            Some(x) => x,
            None => {
                return err(
                    block.locate(),
                    "a model body must end with the model's value",
                );
            }
        };
        self.scopes.push(HashMap::new());
        for s in init {
            self.stmt(s)?;
        }
        let tail = match last {
            syn::Stmt::Expr(syn::Expr::Return(r), _) => match &r.expr {
                Some(e) => Some(self.expr(e)?),
                None => return err(r.locate(), "`return` needs the model's value"),
            },
            syn::Stmt::Expr(e, None) => Some(self.expr(e)?),
            other => {
                self.stmt(other)?;
                None
            }
        };
        self.scopes.pop();
        match tail {
            Some(v) => self.real(v, last),
            None => err(
                last.locate(),
                "a model body must end with the model's value (an expression without `;`)",
            ),
        }
    }

    /// Lowers a block in its own scope, returning its tail value if it has one.
    fn block(&mut self, block: &syn::Block) -> syn::Result<Option<Value>> {
        self.enter(block.brace_token.span.open())?;
        let r = self.block_inner(block);
        self.depth -= 1;
        r
    }

    /// One level deeper, within [`MAX_DEPTH`]. The error points at `at`'s first token only:
    /// the span of a whole syntax tree is found by walking it recursively.
    fn enter(&mut self, at: proc_macro2::Span) -> syn::Result<()> {
        if self.depth >= MAX_DEPTH {
            return err(
                at,
                format!(
                    "the model nests too deeply here: more than {MAX_DEPTH} nested expressions (4 * MAX_NESTING)"
                ),
            );
        }
        self.depth += 1;
        Ok(())
    }

    fn block_inner(&mut self, block: &syn::Block) -> syn::Result<Option<Value>> {
        self.scopes.push(HashMap::new());
        let mut tail = None;
        for (i, s) in block.stmts.iter().enumerate() {
            let last = i + 1 == block.stmts.len();
            match s {
                syn::Stmt::Expr(e, None) if last => match e {
                    syn::Expr::If(i) => tail = self.if_expr(i, false)?,
                    syn::Expr::ForLoop(_) | syn::Expr::Assign(_) => self.stmt_expr(e)?,
                    syn::Expr::Binary(b) if compound_op(&b.op).is_some() => self.stmt_expr(e)?,
                    _ => tail = Some(self.expr(e)?),
                },
                _ => self.stmt(s)?,
            }
        }
        self.scopes.pop();
        Ok(tail)
    }

    fn stmt(&mut self, s: &syn::Stmt) -> syn::Result<()> {
        match s {
            syn::Stmt::Local(local) => self.local(local),
            syn::Stmt::Item(item) => err(
                item,
                "items (fn, use, const, ...) inside a model are not supported",
            ),
            syn::Stmt::Macro(m) => err(m, "macro invocations are not supported in a model"),
            syn::Stmt::Expr(e, _) => self.stmt_expr(e),
        }
    }

    fn local(&mut self, local: &syn::Local) -> syn::Result<()> {
        let (pat, ty) = match &local.pat {
            syn::Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
            p => (p, None),
        };
        let syn::Pat::Ident(pi) = pat else {
            return err(pat, "`let` must bind a plain name, e.g. `let d = x - mu;`");
        };
        if let Some(ty) = ty
            && !super::is_f64(ty)
        {
            return err(ty, "`let` bindings in a model are `f64`");
        }
        let Some(init) = &local.init else {
            return err(
                local.locate(),
                "`let` needs an initial value, e.g. `let mut s = 0.0;`",
            );
        };
        if let Some((_, d)) = &init.diverge {
            return err(d.locate(), "`let ... else` is not supported in a model");
        }
        let v = self.expr(&init.expr)?;
        let v = match v {
            Value::Int(_) if ty.is_some() => Value::Real(self.real(v, &init.expr)?),
            v => v,
        };
        self.bind(
            &pi.ident.to_string(),
            Binding {
                value: v,
                mutable: pi.mutability.is_some(),
            },
        );
        Ok(())
    }

    /// An expression in statement position: assignments, loops, `if` without a value.
    fn stmt_expr(&mut self, e: &syn::Expr) -> syn::Result<()> {
        match e {
            syn::Expr::Assign(a) => {
                let v = self.expr(&a.right)?;
                self.assign(&a.left, v)
            }
            syn::Expr::Binary(b) if compound_op(&b.op).is_some() => {
                let op = compound_op(&b.op).expect("checked");
                let cur = self.expr(&b.left)?;
                let cur = self.real(cur, &b.left)?;
                let rhs = self.expr(&b.right)?;
                let rhs = self.real(rhs, &b.right)?;
                let v = self.g.binary(op, cur, rhs);
                self.assign(&b.left, Value::Real(v))
            }
            syn::Expr::ForLoop(f) => self.for_loop(f),
            syn::Expr::If(i) => self.if_expr(i, false).map(|_| ()),
            syn::Expr::Block(b) => self.block(&b.block).map(|_| ()),
            syn::Expr::Return(r) => err(
                r.locate(),
                "early `return` is not supported: make the value the last expression, using if/else",
            ),
            other => {
                // Evaluate for its errors; a bare value statement has no effect.
                self.expr(other).map(|_| ())
            }
        }
    }

    fn assign(&mut self, target: &syn::Expr, v: Value) -> syn::Result<()> {
        let syn::Expr::Path(p) = target else {
            return err(
                target.locate(),
                "only plain `let mut` variables can be assigned to",
            );
        };
        let Some(name) = p.path.get_ident().map(|i| i.to_string()) else {
            return err(
                target.locate(),
                "only plain `let mut` variables can be assigned to",
            );
        };
        let v = match v {
            Value::Int(i) => Value::Real(self.g.constant(i as f64)),
            v => v,
        };
        match self.lookup_mut(&name) {
            Some(b) if b.mutable => {
                b.value = v;
                Ok(())
            }
            Some(_) => err(
                target.locate(),
                format!("`{name}` is not mutable: declare it with `let mut`"),
            ),
            None => err(target.locate(), format!("cannot find variable `{name}`")),
        }
    }

    fn for_loop(&mut self, f: &syn::ExprForLoop) -> syn::Result<()> {
        let var = match &*f.pat {
            syn::Pat::Ident(pi) => Some(pi.ident.to_string()),
            syn::Pat::Wild(_) => None,
            p => return err(p, "a `for` loop variable must be a plain name"),
        };
        let syn::Expr::Range(r) = &*f.expr else {
            return err(
                f.expr.locate(),
                "`for` loops must run over a constant range such as `0..3` or `0..=n`",
            );
        };
        let bound = |this: &mut Self, e: &Option<Box<syn::Expr>>| -> syn::Result<i64> {
            match e {
                Some(e) => {
                    let v = this.expr(e)?;
                    this.int(v, e)
                }
                None => err(r.locate(), "`for` ranges need both bounds, e.g. `0..3`"),
            }
        };
        let start = bound(self, &r.start)?;
        let end = bound(self, &r.end)?;
        // In i128: no bound can overflow here.
        let mut end_wide = i128::from(end);
        if matches!(r.limits, syn::RangeLimits::Closed(_)) {
            end_wide += 1;
        }
        let count = (end_wide - i128::from(start)).max(0);
        if count > i128::from(UNROLL_LIMIT - self.unrolled) {
            return err(
                r.locate(),
                format!("loops unroll to more than {UNROLL_LIMIT} iterations in this model"),
            );
        }
        // `count <= UNROLL_LIMIT`, so this does not overflow.
        self.unrolled += count as i64;
        for i in (0..count as i64).map(|k| start + k) {
            self.scopes.push(HashMap::new());
            if let Some(v) = &var {
                self.bind(v, Binding::immutable(Value::Int(i)));
            }
            let res = self.block(&f.body);
            self.scopes.pop();
            res?;
        }
        Ok(())
    }

    /// Lowers `if`. With a constant condition only the taken arm is lowered. Otherwise both
    /// arms are lowered from the same state and every variable they assign is merged with a
    /// select; so is the value when both arms have one (required when `want_value`).
    fn if_expr(&mut self, i: &syn::ExprIf, want_value: bool) -> syn::Result<Option<Value>> {
        self.enter(i.if_token.span)?;
        let r = self.if_expr_inner(i, want_value);
        self.depth -= 1;
        r
    }

    fn if_expr_inner(&mut self, i: &syn::ExprIf, want_value: bool) -> syn::Result<Option<Value>> {
        let c = self.expr(&i.cond)?;
        let c = self.boolean(c, &i.cond)?;
        let else_branch = i.else_branch.as_ref().map(|(_, e)| &**e);
        if want_value && else_branch.is_none() {
            return err(i.locate(), "an `if` used as a value needs an `else` branch");
        }
        let run_else = |this: &mut Self| -> syn::Result<Option<Value>> {
            match else_branch {
                None => Ok(None),
                Some(syn::Expr::If(inner)) => this.if_expr(inner, want_value),
                Some(syn::Expr::Block(b)) => this.block(&b.block),
                Some(other) => this.expr(other).map(Some),
            }
        };
        match self.g.node(c) {
            crate::ir::Node::Bool(true) => return self.block(&i.then_branch),
            crate::ir::Node::Bool(false) => return run_else(self),
            _ => {}
        }
        let before = self.scopes.clone();
        let then_v = self.block(&i.then_branch)?;
        let after_then = std::mem::replace(&mut self.scopes, before);
        let else_v = run_else(self)?;
        // Merge assignments: the scopes have the same shape and names after both arms.
        // In name order: the order selects are created in must not depend on the hash map's.
        for (depth, scope) in after_then.into_iter().enumerate() {
            let mut scope: Vec<_> = scope.into_iter().collect();
            scope.sort_by(|a, b| a.0.cmp(&b.0));
            for (name, tb) in scope {
                let eb = &self.scopes[depth][&name];
                if eb.value == tb.value {
                    continue;
                }
                let merged = self.merge(c, tb.value, eb.value.clone(), i)?;
                self.scopes[depth]
                    .get_mut(&name)
                    .expect("same names in both arms")
                    .value = merged;
            }
        }
        match (want_value, then_v, else_v) {
            (_, Some(t), Some(e)) => self.merge(c, t, e, i).map(Some),
            (false, _, _) => Ok(None),
            (true, _, _) => err(
                i.locate(),
                "both arms of an `if` used as a value must end with a value",
            ),
        }
    }

    fn merge(&mut self, c: NodeId, t: Value, e: Value, at: &syn::ExprIf) -> syn::Result<Value> {
        Ok(match (t, e) {
            (Value::Bool(t), Value::Bool(e)) => {
                let a = self.g.and(c, t);
                let nc = self.g.not(c);
                let b = self.g.and(nc, e);
                Value::Bool(self.g.or(a, b))
            }
            (Value::Array(t), Value::Array(e)) if t.len() == e.len() => Value::Array(
                t.into_iter()
                    .zip(e)
                    .map(|(t, e)| self.g.select(c, t, e))
                    .collect(),
            ),
            (t @ (Value::Real(_) | Value::Int(_)), e @ (Value::Real(_) | Value::Int(_))) => {
                let t = self.real(t, at)?;
                let e = self.real(e, at)?;
                Value::Real(self.g.select(c, t, e))
            }
            _ => {
                return err(
                    at.locate(),
                    "the arms of this `if` give values of different kinds",
                );
            }
        })
    }

    /// Lowers an expression to a value, within [`MAX_DEPTH`], [`MAX_LOWERED`] and
    /// [`MAX_NODES`].
    pub fn expr(&mut self, e: &syn::Expr) -> syn::Result<Value> {
        self.lowered += 1;
        if self.lowered > MAX_LOWERED {
            return err(
                e,
                format!(
                    "the model is too large: more than MAX_LOWERED = {MAX_LOWERED} expressions, loop iterations counted"
                ),
            );
        }
        self.enter(first_token(e))?;
        let r = self.expr_inner(e);
        self.depth -= 1;
        if r.is_ok() && self.g.len() > MAX_NODES {
            return err(
                e,
                format!("the model is too large: more than MAX_NODES = {MAX_NODES} operations"),
            );
        }
        r
    }

    fn expr_inner(&mut self, e: &syn::Expr) -> syn::Result<Value> {
        match e {
            syn::Expr::Lit(l) => self.literal(&l.lit),
            syn::Expr::Paren(p) => self.expr(&p.expr),
            syn::Expr::Group(g) => self.expr(&g.expr),
            syn::Expr::Block(b) if b.label.is_none() => match self.block(&b.block)? {
                Some(v) => Ok(v),
                None => err(
                    e.locate(),
                    "this block has no value: end it with an expression without `;`",
                ),
            },
            syn::Expr::Path(p) => self.path(p),
            syn::Expr::Unary(u) => {
                let v = self.expr(&u.expr)?;
                match u.op {
                    syn::UnOp::Neg(_) => match v {
                        Value::Int(i) => match i.checked_neg() {
                            Some(n) => Ok(Value::Int(n)),
                            None => err(u.locate(), "integer overflow in a constant expression"),
                        },
                        v => {
                            let a = self.real(v, &u.expr)?;
                            Ok(Value::Real(self.g.neg(a)))
                        }
                    },
                    syn::UnOp::Not(_) => {
                        let b = self.boolean(v, &u.expr)?;
                        Ok(Value::Bool(self.g.not(b)))
                    }
                    _ => err(u.locate(), "dereferencing is not supported in a model"),
                }
            }
            syn::Expr::Binary(b) => self.binary(b),
            syn::Expr::MethodCall(m) => self.method_call(m),
            syn::Expr::Call(c) => self.call(c),
            syn::Expr::If(i) => match self.if_expr(i, true)? {
                Some(v) => Ok(v),
                None => err(
                    i.locate(),
                    "this `if` has no value: end both arms with an expression",
                ),
            },
            syn::Expr::Index(ix) => self.index(ix),
            syn::Expr::Cast(c) => {
                if !super::is_f64(&c.ty) {
                    return err(&c.ty, "only `as f64` casts are supported");
                }
                let v = self.expr(&c.expr)?;
                Ok(Value::Real(self.real(v, &c.expr)?))
            }
            syn::Expr::Assign(_) | syn::Expr::ForLoop(_) => err(
                e.locate(),
                "assignments and `for` loops are statements: end them with `;` and give the value last",
            ),
            syn::Expr::Return(_) => err(
                e.locate(),
                "early `return` is not supported: make the value the last expression, using if/else",
            ),
            other => err(
                other.locate(),
                format!("{} not supported in a model", construct_name(other)),
            ),
        }
    }

    fn literal(&mut self, lit: &syn::Lit) -> syn::Result<Value> {
        match lit {
            syn::Lit::Float(f) => {
                if !matches!(f.suffix(), "" | "f64") {
                    return err(f, "model literals are f64 (write `1.5` or `1.5f64`)");
                }
                self.finite(f.base10_parse::<f64>()?, f)
            }
            syn::Lit::Int(i) if i.suffix() == "f64" => self.finite(i.base10_parse::<f64>()?, i),
            syn::Lit::Int(i) => Ok(Value::Int(i.base10_parse()?)),
            other => err(other, "only number literals are supported in a model"),
        }
    }

    /// A literal's value, which must be a finite f64.
    fn finite(&mut self, v: f64, at: impl Spanned) -> syn::Result<Value> {
        if !v.is_finite() {
            return err(at, "this literal is out of range for f64");
        }
        Ok(Value::Real(self.g.constant(v)))
    }

    fn path(&mut self, p: &syn::ExprPath) -> syn::Result<Value> {
        if p.qself.is_some() {
            return err(p, "qualified paths are not supported in a model");
        }
        let segs: Vec<String> = p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if let [name] = segs.as_slice() {
            if let Some(b) = self.lookup(name) {
                return Ok(b.value.clone());
            }
            let constant = REAL_CONSTS
                .iter()
                .find(|(n, _)| n == name)
                .map(|&(_, v)| v)
                .or_else(|| (self.string_mode && name == "pi").then_some(std::f64::consts::PI));
            return match constant {
                Some(v) => Ok(Value::Real(self.g.constant(v))),
                None => err(
                    p,
                    format!(
                        "cannot find `{name}`: it is not an argument, a `let` variable or a known constant"
                    ),
                ),
            };
        }
        let (last, prefix) = segs.split_last().expect("paths have a segment");
        let prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
        let known_prefix = matches!(
            prefix.as_slice(),
            ["std", "f64", "consts"] | ["core", "f64", "consts"] | ["f64", "consts"] | ["consts"]
        );
        match REAL_CONSTS.iter().find(|(n, _)| n == last) {
            Some(&(_, v)) if known_prefix => Ok(Value::Real(self.g.constant(v))),
            _ => err(
                p,
                "only constants from `std::f64::consts` can be named by a path",
            ),
        }
    }

    /// Lowers a chain of binary operations `((a op b) op c) ...` with a loop down its left
    /// operands (chains as long as the model, such as a sum of many terms, nest that deep),
    /// in the order a recursive walk would: the innermost left operand, then each right
    /// operand and its operation, innermost first.
    fn binary(&mut self, top: &syn::ExprBinary) -> syn::Result<Value> {
        let mut chain = vec![top];
        let mut left = &*top.left;
        loop {
            if compound_op(&chain[chain.len() - 1].op).is_some() {
                return err(
                    chain[chain.len() - 1].locate(),
                    "compound assignments are statements: end them with `;`",
                );
            }
            match left {
                syn::Expr::Binary(b) => {
                    chain.push(b);
                    left = &b.left;
                }
                _ => break,
            }
        }
        let mut l = self.expr(left)?;
        for b in chain.into_iter().rev() {
            self.lowered += 1;
            let r = self.expr(&b.right)?;
            l = self.binary_op(b, l, r)?;
        }
        Ok(l)
    }

    /// Applies the operator of `b` to its lowered operands.
    fn binary_op(&mut self, b: &syn::ExprBinary, l: Value, r: Value) -> syn::Result<Value> {
        use syn::BinOp as B;
        // Integer arithmetic and comparisons (indices, loop counters) are folded right here.
        if let (Value::Int(x), Value::Int(y)) = (&l, &r) {
            let (x, y) = (*x, *y);
            let int = |v: Option<i64>| match v {
                Some(v) => Ok(Value::Int(v)),
                None => err(
                    b.locate(),
                    "integer overflow or division by zero in a constant expression",
                ),
            };
            let bool_ = |this: &mut Self, v: bool| Ok(Value::Bool(this.g.boolean(v)));
            match b.op {
                B::Add(_) => return int(x.checked_add(y)),
                B::Sub(_) => return int(x.checked_sub(y)),
                B::Mul(_) => return int(x.checked_mul(y)),
                B::Div(_) if !self.string_mode => return int(x.checked_div(y)),
                B::Rem(_) => return int(x.checked_rem(y)),
                B::Lt(_) => return bool_(self, x < y),
                B::Le(_) => return bool_(self, x <= y),
                B::Gt(_) => return bool_(self, x > y),
                B::Ge(_) => return bool_(self, x >= y),
                B::Eq(_) => return bool_(self, x == y),
                B::Ne(_) => return bool_(self, x != y),
                _ => {}
            }
        }
        let arith = |op| Some(op);
        let op = match b.op {
            B::Add(_) => arith(BinaryOp::Add),
            B::Sub(_) => arith(BinaryOp::Sub),
            B::Mul(_) => arith(BinaryOp::Mul),
            B::Div(_) => arith(BinaryOp::Div),
            _ => None,
        };
        if let Some(op) = op {
            let l = self.real(l, &b.left)?;
            let r = self.real(r, &b.right)?;
            return Ok(Value::Real(self.g.binary(op, l, r)));
        }
        let cmp = match b.op {
            B::Lt(_) => Some(CmpOp::Lt),
            B::Le(_) => Some(CmpOp::Le),
            B::Gt(_) => Some(CmpOp::Gt),
            B::Ge(_) => Some(CmpOp::Ge),
            B::Eq(_) => Some(CmpOp::Eq),
            B::Ne(_) => Some(CmpOp::Ne),
            _ => None,
        };
        if let Some(op) = cmp {
            let l = self.real(l, &b.left)?;
            let r = self.real(r, &b.right)?;
            return Ok(Value::Bool(self.g.cmp(op, l, r)));
        }
        match b.op {
            B::And(_) | B::Or(_) => {
                let l = self.boolean(l, &b.left)?;
                let r = self.boolean(r, &b.right)?;
                Ok(Value::Bool(if matches!(b.op, B::And(_)) {
                    self.g.and(l, r)
                } else {
                    self.g.or(l, r)
                }))
            }
            B::Rem(_) => err(
                b.locate(),
                "the `%` operator is not supported on reals in a model",
            ),
            B::BitXor(_) if self.string_mode => err(
                b.locate(),
                "`^` is not a power in Rust syntax: write `pow(x, 2)` or `x.powi(2)`",
            ),
            _ => err(b.locate(), "this operator is not supported in a model"),
        }
    }

    fn apply_named(
        &mut self,
        name: &syn::Ident,
        recv: NodeId,
        args: &[&syn::Expr],
        at: proc_macro2::Span,
    ) -> syn::Result<Value> {
        let n = name.to_string();
        let want = |k: usize| -> syn::Result<()> {
            if args.len() == k {
                Ok(())
            } else {
                err(
                    at,
                    format!("`{n}` takes {k} argument(s) besides its receiver"),
                )
            }
        };
        if let Some(op) = unary_method(&n) {
            want(0)?;
            return Ok(Value::Real(self.g.unary(op, recv)));
        }
        if n == "erf" || n == "erfc" {
            // Rust has no stable `f64::erf`: a `#[model]` function could not be compiled as
            // the Rust it is, so the error functions are for expression strings only.
            if !self.string_mode {
                return err(
                    name,
                    format!(
                        "`{n}` is only available in expression strings (`model_from_expr`, \
                         `ExprModel`), such as \"a / 2 * (1 + erf((x - mu) / (sqrt(2) * s)))\": \
                         Rust has no stable `f64::{n}` for a #[model] function"
                    ),
                );
            }
            want(0)?;
            let op = if n == "erf" {
                UnaryOp::Erf
            } else {
                UnaryOp::Erfc
            };
            return Ok(Value::Real(self.g.unary(op, recv)));
        }
        if n == "powi" {
            want(1)?;
            let v = self.expr(args[0])?;
            let k = self.int(v, args[0])?;
            let k = i32::try_from(k)
                .or_else(|_| err(args[0].locate(), "`powi` exponent out of range"))?;
            return Ok(Value::Real(self.g.unary(UnaryOp::Powi(k), recv)));
        }
        if let Some(op) = binary_method(&n) {
            want(1)?;
            let v = self.expr(args[0])?;
            let other = self.real(v, args[0])?;
            return Ok(Value::Real(self.g.binary(op, recv, other)));
        }
        err(
            name,
            format!("the method `{n}` is not supported in a model"),
        )
    }

    fn method_call(&mut self, m: &syn::ExprMethodCall) -> syn::Result<Value> {
        if m.turbofish.is_some() {
            return err(m.locate(), "turbofish is not supported in a model");
        }
        let recv = self.expr(&m.receiver)?;
        let recv = self.real(recv, &m.receiver)?;
        let args: Vec<&syn::Expr> = m.args.iter().collect();
        self.apply_named(&m.method, recv, &args, m.locate())
    }

    /// `f64::exp(x)` everywhere; free functions `exp(x)`, `pow(a, b)`, ... in string mode.
    fn call(&mut self, c: &syn::ExprCall) -> syn::Result<Value> {
        let syn::Expr::Path(p) = &*c.func else {
            return err(
                c.func.locate(),
                "only calls of f64 functions are supported in a model",
            );
        };
        let segs: Vec<&syn::Ident> = p.path.segments.iter().map(|s| &s.ident).collect();
        let name = match segs.as_slice() {
            [ty, f] if *ty == "f64" => *f,
            [f] if self.string_mode => *f,
            _ => {
                return err(
                    c.locate(),
                    "calling functions is not supported in a model; use f64 methods such as `x.exp()`",
                );
            }
        };
        let Some((first, rest)) = c
            .args
            .iter()
            .collect::<Vec<_>>()
            .split_first()
            .map(|(a, r)| (*a, r.to_vec()))
        else {
            return err(c.locate(), format!("`{name}` needs an argument"));
        };
        let recv = self.expr(first)?;
        let recv = self.real(recv, first)?;
        let alias = match name.to_string().as_str() {
            "log" if self.string_mode => Some("ln"),
            "pow" if self.string_mode => Some("powf"),
            _ => None,
        };
        match alias {
            Some(a) => {
                let ident = syn::Ident::new(a, name.span());
                self.apply_named(&ident, recv, &rest, c.locate())
            }
            None => self.apply_named(name, recv, &rest, c.locate()),
        }
    }

    fn index(&mut self, ix: &syn::ExprIndex) -> syn::Result<Value> {
        // An array variable is indexed in place: cloning it for each element would make a
        // loop over a large array quadratic.
        if let syn::Expr::Path(p) = &*ix.expr
            && let Some(name) = p.path.get_ident()
            && p.qself.is_none()
            && let Some(Binding {
                value: Value::Array(items),
                ..
            }) = self.lookup(&name.to_string())
        {
            let len = items.len();
            self.lowered += 1;
            let i = self.expr(&ix.index)?;
            let i = self.int(i, &ix.index)?;
            let found = match self.lookup(&name.to_string()) {
                Some(Binding {
                    value: Value::Array(items),
                    ..
                }) => usize::try_from(i).ok().and_then(|i| items.get(i)).copied(),
                _ => None,
            };
            return match found {
                Some(id) => Ok(Value::Real(id)),
                None => err(
                    ix.index.locate(),
                    format!("index {i} is out of bounds for an array of length {len}"),
                ),
            };
        }
        let base = self.expr(&ix.expr)?;
        let Value::Array(items) = base else {
            return err(
                ix.expr.locate(),
                "only array arguments (`[f64; N]`) can be indexed",
            );
        };
        let i = self.expr(&ix.index)?;
        let i = self.int(i, &ix.index)?;
        match usize::try_from(i).ok().and_then(|i| items.get(i)) {
            Some(&id) => Ok(Value::Real(id)),
            None => err(
                ix.index.locate(),
                format!(
                    "index {i} is out of bounds for an array of length {}",
                    items.len()
                ),
            ),
        }
    }
}

fn compound_op(op: &syn::BinOp) -> Option<BinaryOp> {
    use syn::BinOp as B;
    match op {
        B::AddAssign(_) => Some(BinaryOp::Add),
        B::SubAssign(_) => Some(BinaryOp::Sub),
        B::MulAssign(_) => Some(BinaryOp::Mul),
        B::DivAssign(_) => Some(BinaryOp::Div),
        _ => None,
    }
}

/// Free identifiers of an expression string, in order of first appearance with where each
/// first appears, and the largest constant index applied to `x` with where it is.
#[derive(Default)]
pub struct FreeNames {
    pub names: Vec<(String, proc_macro2::Span)>,
    seen: std::collections::HashSet<String>,
    pub max_x_index: Option<(usize, proc_macro2::Span)>,
}

impl FreeNames {
    pub fn scan(&mut self, e: &syn::Expr) {
        use syn::visit::Visit;
        self.visit_expr(e);
    }
}

impl<'ast> syn::visit::Visit<'ast> for FreeNames {
    fn visit_expr_binary(&mut self, top: &'ast syn::ExprBinary) {
        // A loop down the left operands (as in lowering): chains are as long as the model.
        let mut rights = vec![&*top.right];
        let mut left = &*top.left;
        while let syn::Expr::Binary(b) = left {
            rights.push(&b.right);
            left = &b.left;
        }
        self.visit_expr(left);
        for r in rights.into_iter().rev() {
            self.visit_expr(r);
        }
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        // The callee is a function name, not a parameter.
        for a in &c.args {
            self.visit_expr(a);
        }
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        self.visit_expr(&m.receiver);
        for a in &m.args {
            self.visit_expr(a);
        }
    }

    fn visit_expr_index(&mut self, ix: &'ast syn::ExprIndex) {
        if let syn::Expr::Path(p) = &*ix.expr
            && p.path.is_ident("x")
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(i),
                ..
            }) = &*ix.index
            && let Ok(k) = i.base10_parse::<usize>()
            && self.max_x_index.is_none_or(|(m, _)| k > m)
        {
            self.max_x_index = Some((k, i.span()));
        }
        syn::visit::visit_expr_index(self, ix);
    }

    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if let Some(id) = p.path.get_ident() {
            let n = id.to_string();
            let is_const = n == "pi" || REAL_CONSTS.iter().any(|(c, _)| *c == n);
            if !is_const && !self.seen.contains(&n) {
                self.seen.insert(n.clone());
                self.names.push((n, id.span()));
            }
        }
    }
}
