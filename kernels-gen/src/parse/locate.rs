//! Spans of syntax trees without recursion.
//!
//! syn's [`Spanned::span`] prints the whole tree back to tokens, recursively, so the span of
//! a 4,000-term sum overflows a 2 MiB stack. [`Locate`] finds the first and the last token by
//! walking down the left and the right edge of the tree in loops, and joins them as
//! `Spanned::span` does (where spans cannot be joined, as in a stable compiler's proc macro,
//! both give the first token's span).

use proc_macro2::Span;
use syn::Expr as E;
use syn::spanned::Spanned;

/// Something whose span can be found without recursion.
pub(crate) trait Locate {
    /// From the first token to the last.
    fn locate(&self) -> Span;
}

fn join(first: Span, last: Span) -> Span {
    first.join(last).unwrap_or(first)
}

/// The span of the first token of `e`.
pub(crate) fn first_token(mut e: &E) -> Span {
    loop {
        if let Some(a) = attrs(e).first() {
            return a.pound_token.span;
        }
        e = match e {
            E::Binary(b) => &b.left,
            E::MethodCall(m) => &m.receiver,
            E::Cast(c) => &c.expr,
            E::Index(i) => &i.expr,
            E::Field(f) => &f.base,
            E::Try(t) => &t.expr,
            E::Await(a) => &a.base,
            E::Call(c) => &c.func,
            E::Assign(a) => &a.left,
            E::Range(syn::ExprRange { start: Some(s), .. }) => s,
            E::Range(r) => return r.limits.span(),
            E::Unary(u) => return u.op.span(),
            E::Paren(p) => return p.paren_token.span.join(),
            E::Tuple(t) => return t.paren_token.span.join(),
            E::Array(a) => return a.bracket_token.span.join(),
            E::Repeat(r) => return r.bracket_token.span.join(),
            E::Block(b) => match &b.label {
                Some(l) => return l.name.apostrophe,
                None => return b.block.brace_token.span.join(),
            },
            E::If(i) => return i.if_token.span,
            E::Lit(l) => return l.lit.span(),
            E::Return(r) => return r.return_token.span,
            E::Break(b) => return b.break_token.span,
            E::Continue(c) => return c.continue_token.span,
            E::Let(l) => return l.let_token.span,
            E::Reference(r) => return r.and_token.span,
            E::RawAddr(r) => return r.and_token.span,
            E::Loop(l) => match &l.label {
                Some(l) => return l.name.apostrophe,
                None => return l.loop_token.span,
            },
            E::While(w) => match &w.label {
                Some(l) => return l.name.apostrophe,
                None => return w.while_token.span,
            },
            E::ForLoop(f) => match &f.label {
                Some(l) => return l.name.apostrophe,
                None => return f.for_token.span,
            },
            E::Match(m) => return m.match_token.span,
            E::Unsafe(u) => return u.unsafe_token.span,
            E::Async(a) => return a.async_token.span,
            E::Yield(y) => return y.yield_token.span,
            E::TryBlock(t) => return t.try_token.span,
            // Paths, closures, structs, macros and the rest start with a short prefix, or
            // are not nested.
            other => return path_like_first(other),
        };
    }
}

/// The first token of the remaining kinds of expression.
fn path_like_first(e: &E) -> Span {
    match e {
        E::Path(p) => path_first(p.qself.as_ref(), &p.path),
        E::Struct(s) => path_first(s.qself.as_ref(), &s.path),
        E::Macro(m) => path_first(None, &m.mac.path),
        E::Closure(c) => match (
            &c.lifetimes,
            &c.constness,
            &c.movability,
            &c.asyncness,
            &c.capture,
        ) {
            (Some(l), ..) => l.for_token.span,
            (_, Some(k), ..) => k.span,
            (_, _, Some(k), ..) => k.span,
            (_, _, _, Some(k), _) => k.span,
            (_, _, _, _, Some(k)) => k.span,
            _ => c.or1_token.span,
        },
        E::Const(c) => c.const_token.span,
        E::Group(g) => g.group_token.span,
        E::Infer(i) => i.underscore_token.span,
        E::Verbatim(t) => t
            .clone()
            .into_iter()
            .next()
            .map_or(Span::call_site(), |t| t.span()),
        _ => Span::call_site(),
    }
}

fn path_first(qself: Option<&syn::QSelf>, path: &syn::Path) -> Span {
    if let Some(q) = qself {
        return q.lt_token.span;
    }
    match (&path.leading_colon, path.segments.first()) {
        (Some(c), _) => c.spans[0],
        (None, Some(s)) => s.ident.span(),
        (None, None) => Span::call_site(),
    }
}

fn attrs(e: &E) -> &[syn::Attribute] {
    match e {
        E::Array(x) => &x.attrs,
        E::Assign(x) => &x.attrs,
        E::Async(x) => &x.attrs,
        E::Await(x) => &x.attrs,
        E::Binary(x) => &x.attrs,
        E::Block(x) => &x.attrs,
        E::Break(x) => &x.attrs,
        E::Call(x) => &x.attrs,
        E::Cast(x) => &x.attrs,
        E::Closure(x) => &x.attrs,
        E::Const(x) => &x.attrs,
        E::Continue(x) => &x.attrs,
        E::Field(x) => &x.attrs,
        E::ForLoop(x) => &x.attrs,
        E::Group(x) => &x.attrs,
        E::If(x) => &x.attrs,
        E::Index(x) => &x.attrs,
        E::Infer(x) => &x.attrs,
        E::Let(x) => &x.attrs,
        E::Lit(x) => &x.attrs,
        E::Loop(x) => &x.attrs,
        E::Macro(x) => &x.attrs,
        E::Match(x) => &x.attrs,
        E::MethodCall(x) => &x.attrs,
        E::Paren(x) => &x.attrs,
        E::Path(x) => &x.attrs,
        E::Range(x) => &x.attrs,
        E::RawAddr(x) => &x.attrs,
        E::Reference(x) => &x.attrs,
        E::Repeat(x) => &x.attrs,
        E::Return(x) => &x.attrs,
        E::Struct(x) => &x.attrs,
        E::Try(x) => &x.attrs,
        E::TryBlock(x) => &x.attrs,
        E::Tuple(x) => &x.attrs,
        E::Unary(x) => &x.attrs,
        E::Unsafe(x) => &x.attrs,
        E::While(x) => &x.attrs,
        E::Yield(x) => &x.attrs,
        _ => &[],
    }
}

/// The span of the last token of `e`.
pub(crate) fn last_token(mut e: &E) -> Span {
    loop {
        e = match e {
            E::Binary(b) => &b.right,
            E::Unary(u) => &u.expr,
            E::Assign(a) => &a.right,
            E::Reference(r) => &r.expr,
            E::RawAddr(r) => &r.expr,
            E::Let(l) => &l.expr,
            E::Closure(c) => &c.body,
            E::Range(syn::ExprRange { end: Some(x), .. }) => x,
            E::Range(r) => return r.limits.span(),
            E::Return(syn::ExprReturn { expr: Some(x), .. }) => x,
            E::Return(r) => return r.return_token.span,
            E::Break(syn::ExprBreak { expr: Some(x), .. }) => x,
            E::Break(b) => match &b.label {
                Some(l) => return l.ident.span(),
                None => return b.break_token.span,
            },
            E::Yield(syn::ExprYield { expr: Some(x), .. }) => x,
            E::Yield(y) => return y.yield_token.span,
            E::If(i) => match &i.else_branch {
                Some((_, x)) => x,
                None => return i.then_branch.brace_token.span.join(),
            },
            E::Cast(c) => return c.ty.span(),
            E::MethodCall(m) => return m.paren_token.span.join(),
            E::Call(c) => return c.paren_token.span.join(),
            E::Index(i) => return i.bracket_token.span.join(),
            E::Paren(p) => return p.paren_token.span.join(),
            E::Tuple(t) => return t.paren_token.span.join(),
            E::Array(a) => return a.bracket_token.span.join(),
            E::Repeat(r) => return r.bracket_token.span.join(),
            E::Block(b) => return b.block.brace_token.span.join(),
            E::Unsafe(u) => return u.block.brace_token.span.join(),
            E::Async(a) => return a.block.brace_token.span.join(),
            E::Const(c) => return c.block.brace_token.span.join(),
            E::TryBlock(t) => return t.block.brace_token.span.join(),
            E::Loop(l) => return l.body.brace_token.span.join(),
            E::While(w) => return w.body.brace_token.span.join(),
            E::ForLoop(f) => return f.body.brace_token.span.join(),
            E::Match(m) => return m.brace_token.span.join(),
            E::Struct(s) => return s.brace_token.span.join(),
            E::Lit(l) => return l.lit.span(),
            E::Field(f) => return f.member.span(),
            E::Try(t) => return t.question_token.span,
            E::Await(a) => return a.await_token.span,
            E::Continue(c) => match &c.label {
                Some(l) => return l.ident.span(),
                None => return c.continue_token.span,
            },
            E::Path(p) => match p.path.segments.last() {
                Some(s) if s.arguments.is_none() => return s.ident.span(),
                _ => return p.span(),
            },
            E::Macro(m) => return m.mac.delimiter.span().join(),
            E::Group(g) => &g.expr,
            E::Infer(i) => return i.underscore_token.span,
            other => return other.span(),
        };
    }
}

impl Locate for E {
    fn locate(&self) -> Span {
        join(first_token(self), last_token(self))
    }
}

impl<T: Locate + ?Sized> Locate for &T {
    fn locate(&self) -> Span {
        (**self).locate()
    }
}

impl<T: Locate + ?Sized> Locate for Box<T> {
    fn locate(&self) -> Span {
        (**self).locate()
    }
}

impl Locate for Span {
    fn locate(&self) -> Span {
        *self
    }
}

impl Locate for syn::Block {
    fn locate(&self) -> Span {
        self.brace_token.span.join()
    }
}

impl Locate for syn::Local {
    fn locate(&self) -> Span {
        let first = self
            .attrs
            .first()
            .map_or(self.let_token.span, |a| a.pound_token.span);
        join(first, self.semi_token.span)
    }
}

impl Locate for syn::Stmt {
    fn locate(&self) -> Span {
        match self {
            syn::Stmt::Local(l) => l.locate(),
            syn::Stmt::Expr(e, Some(semi)) => join(e.locate(), semi.span),
            syn::Stmt::Expr(e, None) => e.locate(),
            other => other.span(),
        }
    }
}

macro_rules! locate_by_parts {
    ($($ty:ident),*) => {$(
        impl Locate for syn::$ty {
            fn locate(&self) -> Span {
                join(self.first(), self.last())
            }
        }
    )*};
}

/// The first and last token of composite expressions, from their parts.
trait Parts {
    fn first(&self) -> Span;
    fn last(&self) -> Span;
}

impl Parts for syn::ExprBinary {
    fn first(&self) -> Span {
        self.attrs
            .first()
            .map_or_else(|| first_token(&self.left), |a| a.pound_token.span)
    }
    fn last(&self) -> Span {
        last_token(&self.right)
    }
}

impl Parts for syn::ExprUnary {
    fn first(&self) -> Span {
        self.attrs
            .first()
            .map_or(self.op.span(), |a| a.pound_token.span)
    }
    fn last(&self) -> Span {
        last_token(&self.expr)
    }
}

impl Parts for syn::ExprIf {
    fn first(&self) -> Span {
        self.attrs
            .first()
            .map_or(self.if_token.span, |a| a.pound_token.span)
    }
    fn last(&self) -> Span {
        match &self.else_branch {
            Some((_, e)) => last_token(e),
            None => self.then_branch.brace_token.span.join(),
        }
    }
}

impl Parts for syn::ExprMethodCall {
    fn first(&self) -> Span {
        self.attrs
            .first()
            .map_or_else(|| first_token(&self.receiver), |a| a.pound_token.span)
    }
    fn last(&self) -> Span {
        self.paren_token.span.join()
    }
}

impl Parts for syn::ExprCall {
    fn first(&self) -> Span {
        self.attrs
            .first()
            .map_or_else(|| first_token(&self.func), |a| a.pound_token.span)
    }
    fn last(&self) -> Span {
        self.paren_token.span.join()
    }
}

impl Parts for syn::ExprRange {
    fn first(&self) -> Span {
        match (self.attrs.first(), &self.start) {
            (Some(a), _) => a.pound_token.span,
            (None, Some(s)) => first_token(s),
            (None, None) => self.limits.span(),
        }
    }
    fn last(&self) -> Span {
        match &self.end {
            Some(e) => last_token(e),
            None => self.limits.span(),
        }
    }
}

impl Parts for syn::ExprReturn {
    fn first(&self) -> Span {
        self.attrs
            .first()
            .map_or(self.return_token.span, |a| a.pound_token.span)
    }
    fn last(&self) -> Span {
        match &self.expr {
            Some(e) => last_token(e),
            None => self.return_token.span,
        }
    }
}

locate_by_parts!(
    ExprBinary,
    ExprUnary,
    ExprIf,
    ExprMethodCall,
    ExprCall,
    ExprRange,
    ExprReturn
);
