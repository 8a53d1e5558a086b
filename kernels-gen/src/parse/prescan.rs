//! The pre-scan: bounds a token stream's length and nesting before syn parses it.
//!
//! syn parses by recursive descent, and it recurses without limit: a few hundred nested
//! parentheses already overflow a 2 MiB thread stack in a debug build. This scan walks the
//! tokens iteratively (an explicit stack of groups) and estimates, at every token, how much
//! of syn's stack the parse would be using there, in sixteenths of a *level* (about 1 KiB of
//! syn's stack each in a debug build; one pair of parentheses or brackets is one level). It
//! errs on the side of counting too much: it does not know the grammar, only which tokens
//! can open a construct that syn parses recursively.
//!
//! What counts, per construct (in sixteenths of a level; measured in debug builds of syn 2):
//!
//! - a `(...)` or `[...]` group: 16 (30 where a type may be written: after `as`, `:`, `->`,
//!   inside `<...>` and items);
//! - a `{...}` block: 22;
//! - a prefix `-`, `!`, `*` or `&` (unary operators): 6 each (31 for `&` and `*` in a type);
//! - the postfix forms `.method()`, `.field`, `?` and `as T`: 4 each, so that chains of
//!   method calls and casts, which the model compiler lowers recursively, stay bounded too;
//! - `if`: 4 (`else`: nothing); `fn`: 35; every other keyword (`let`, `mut`, `for`, `in`, `return`, ...): 13;
//! - `=` and the compound assignments: 9; `..`: 12; a closure's `|`: 16; `<` opening generic
//!   arguments: 49; `@`: 4; a lifetime or label: 4.
//!
//! The operators and keywords count until the construct they open can no longer continue:
//! prefix and postfix operators until the next binary operator, `,` or `;`; keywords,
//! assignments and closures until the next `;` (or the next statement after a block); generic
//! arguments until their `>`. Everything counts until its group closes. The estimate at a
//! token is the sum over the groups around it. A chain of binary operators (`a + b + c`)
//! adds nothing: syn parses it with a loop, and the compiler lowers it with one.

use super::{MAX_NESTING, MAX_TOKENS};
use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};

/// One level in sixteenths.
pub(super) const LEVEL: u32 = 16;

const GROUP: u32 = 16;
const TYPE_GROUP: u32 = 30;
const BRACE: u32 = 22;
const UNARY: u32 = 6;
const TYPE_POINTER: u32 = 31;
const POSTFIX: u32 = 4;
const IF: u32 = 4;
const FN: u32 = 35;
const KEYWORD: u32 = 13;
const ASSIGN: u32 = 9;
const RANGE: u32 = 12;
const CLOSURE: u32 = 16;
const ANGLE: u32 = 49;
const AT: u32 = 4;
const LIFETIME: u32 = 4;

/// The budget: [`MAX_NESTING`] levels.
const BUDGET: u32 = MAX_NESTING * LEVEL;

const KEYWORDS: &[&str] = &[
    "abstract", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "static",
    "struct", "trait", "try", "type", "typeof", "unsafe", "unsized", "use", "virtual", "where",
    "while", "yield",
];

/// Keywords after which everything up to the next `;` may be a type (items).
const ITEM_KEYWORDS: &[&str] = &[
    "enum", "extern", "impl", "mod", "struct", "trait", "type", "use",
];

/// Multi-character operators, longest first.
const OPERATORS: &[&str] = &[
    "<<=", ">>=", "...", "..=", "::", "->", "=>", "==", "!=", "<=", ">=", "&&", "||", "+=", "-=",
    "*=", "/=", "%=", "^=", "&=", "|=", "<<", ">>", "..",
];

/// The state of one group being scanned.
#[derive(Clone, Copy, Default)]
struct Level {
    /// The cost of the groups around this one, this group's own cost included.
    base: u32,
    /// Keywords, assignments, closures, ranges: open until `;`.
    loose: u32,
    /// Prefix and postfix operators: open until a binary operator, `,` or `;`.
    tight: u32,
    /// Open generic argument lists `<`.
    angles: u32,
    /// A type may be being written (after `as`, `:`, `->`, `fn`, `impl`, ...).
    type_ctx: bool,
    /// The whole group may hold types (opened where a type may be written).
    type_level: bool,
    /// An item keyword was seen: types until `;`.
    item: bool,
    /// The next token starts an operand (so `-`, `&`, `|`, `<` and `..` are prefixes).
    expect_operand: bool,
    /// The previous token closed a `{...}` group.
    after_brace: bool,
    /// The previous token was `.` (a field or method name follows).
    after_dot: bool,
    /// The previous token was a lifetime's `'`.
    after_tick: bool,
}

impl Level {
    fn cost(&self) -> u32 {
        self.base + self.loose + self.tight + self.angles * ANGLE
    }

    fn types(&self) -> bool {
        self.type_ctx || self.type_level || self.item || self.angles > 0
    }

    fn reset_statement(&mut self) {
        self.loose = 0;
        self.tight = 0;
        self.angles = 0;
        self.type_ctx = false;
        self.item = false;
    }
}

fn too_deep(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        format!(
            "the model nests too deeply here: the limit is {MAX_NESTING} levels, a level being \
             one pair of parentheses or brackets, or one call; blocks, unary operators, \
             keywords and type syntax count as fractions or multiples of a level (see \
             `kernels_gen::parse::MAX_NESTING`)"
        ),
    )
}

/// Checks `tokens` against [`MAX_TOKENS`] and [`MAX_NESTING`], iteratively.
pub(super) fn check(tokens: TokenStream) -> syn::Result<()> {
    let mut count = 0usize;
    let mut stack: Vec<(proc_macro2::token_stream::IntoIter, Level, Delimiter)> = Vec::new();
    let mut iter = tokens.into_iter();
    let mut level = Level {
        expect_operand: true,
        ..Level::default()
    };
    let mut delim = Delimiter::None;
    // A run of joined punctuation, as characters with the span of the first.
    let mut run: Vec<char> = Vec::new();
    let mut run_span = Span::call_site();
    loop {
        let Some(tt) = iter.next() else {
            flush(&mut run, run_span, &mut level)?;
            let Some((outer_iter, mut outer, outer_delim)) = stack.pop() else {
                return Ok(());
            };
            // The closed group is an operand of the enclosing level.
            outer.expect_operand = false;
            outer.after_brace = delim == Delimiter::Brace;
            if delim == Delimiter::Brace && !outer.item {
                // A type is never followed by a block: the block ended it.
                outer.type_ctx = false;
            }
            iter = outer_iter;
            level = outer;
            delim = outer_delim;
            continue;
        };
        count += 1;
        if count > MAX_TOKENS {
            return Err(syn::Error::new(
                tt.span(),
                format!(
                    "the model is too long: more than {MAX_TOKENS} tokens (see \
                     `kernels_gen::parse::MAX_TOKENS`)"
                ),
            ));
        }
        if let TokenTree::Punct(p) = &tt {
            if run.is_empty() {
                run_span = p.span();
            }
            run.push(p.as_char());
            if p.spacing() == Spacing::Alone || p.as_char() == '\'' {
                flush(&mut run, run_span, &mut level)?;
            }
            continue;
        }
        flush(&mut run, run_span, &mut level)?;
        match tt {
            TokenTree::Group(g) => {
                let d = g.delimiter();
                level.after_dot = false;
                level.after_tick = false;
                level.after_brace = false;
                let types = level.types();
                let own = match d {
                    Delimiter::Brace => BRACE,
                    _ if types => TYPE_GROUP,
                    _ => GROUP,
                };
                let base = level.cost() + own;
                if base > BUDGET {
                    return Err(too_deep(g.span_open()));
                }
                let inner = Level {
                    base,
                    type_level: if d == Delimiter::Brace {
                        level.item || level.type_level
                    } else {
                        types
                    },
                    expect_operand: true,
                    ..Level::default()
                };
                stack.push((
                    std::mem::replace(&mut iter, g.stream().into_iter()),
                    level,
                    delim,
                ));
                level = inner;
                delim = d;
                continue;
            }
            TokenTree::Ident(id) => {
                let s = id.to_string();
                let after_dot = std::mem::take(&mut level.after_dot);
                let after_tick = std::mem::take(&mut level.after_tick);
                if std::mem::take(&mut level.after_brace) && s != "else" && s != "as" {
                    // A new statement after a block-like one.
                    level.reset_statement();
                }
                if after_tick {
                    // A lifetime or label: its `'` was counted.
                    continue;
                }
                if after_dot || !KEYWORDS.contains(&s.as_str()) && s != "as" {
                    level.expect_operand = false;
                    continue;
                }
                if s == "else" {
                    // Free: an `else if` chain costs its `if`s.
                } else if s == "as" {
                    level.tight += POSTFIX;
                    level.type_ctx = true;
                } else if s == "if" {
                    level.loose += IF;
                } else if s == "fn" {
                    level.loose += FN;
                    level.type_ctx = true;
                } else {
                    level.loose += KEYWORD;
                    if s == "dyn" || s == "where" {
                        level.type_ctx = true;
                    }
                }
                if ITEM_KEYWORDS.contains(&s.as_str()) {
                    level.item = true;
                }
                level.expect_operand = true;
                if level.cost() > BUDGET {
                    return Err(too_deep(id.span()));
                }
            }
            TokenTree::Literal(_) => {
                level.after_dot = false;
                level.after_tick = false;
                if std::mem::take(&mut level.after_brace) {
                    level.reset_statement();
                }
                level.expect_operand = false;
            }
            // Punctuation was handled above, with the runs it belongs to.
            TokenTree::Punct(_) => {}
        }
    }
}

/// Splits a run of joined punctuation into operators and applies each.
fn flush(run: &mut Vec<char>, span: Span, level: &mut Level) -> syn::Result<()> {
    let mut rest: &[char] = run;
    while !rest.is_empty() {
        let op = OPERATORS
            .iter()
            .find(|op| op.len() <= rest.len() && op.chars().zip(rest).all(|(a, &b)| a == b))
            .copied();
        let len = op.map_or(1, str::len);
        let text: String = rest[..len].iter().collect();
        rest = &rest[len..];
        operator(&text, level);
        if level.cost() > BUDGET {
            return Err(too_deep(span));
        }
    }
    run.clear();
    Ok(())
}

/// Applies one operator to the state of its group.
fn operator(op: &str, level: &mut Level) {
    level.after_dot = false;
    level.after_tick = false;
    // An operator after a block continues the expression (`;` resets below).
    level.after_brace = false;
    match op {
        ";" => {
            level.reset_statement();
            level.expect_operand = true;
            return;
        }
        "'" => {
            level.loose += LIFETIME;
            level.after_tick = true;
            return;
        }
        "." => {
            level.tight += POSTFIX;
            level.after_dot = true;
            level.expect_operand = true;
            return;
        }
        "?" => {
            level.tight += POSTFIX;
            return;
        }
        "::" | "#" => {
            if op == "#" {
                level.loose += 1;
            }
            level.expect_operand = true;
            return;
        }
        "@" => {
            level.loose += AT;
            level.expect_operand = true;
            return;
        }
        _ => {}
    }
    if level.expect_operand {
        match op {
            "-" | "!" => {
                level.tight += UNARY;
                return;
            }
            "*" | "&" | "&&" => {
                let one = if level.types() { TYPE_POINTER } else { UNARY };
                level.tight += if op == "&&" { 2 * one } else { one };
                return;
            }
            "|" | "||" => {
                level.loose += CLOSURE;
                return;
            }
            ".." | "..=" | "..." => {
                level.loose += RANGE;
                return;
            }
            "<" => {
                level.angles += 1;
                return;
            }
            _ => {}
        }
    }
    // A binary operator (or a stray token syn will reject): the operand before it is complete.
    level.tight = 0;
    level.expect_operand = true;
    match op {
        "<" if level.types() => level.angles += 1,
        ">" | ">=" => level.angles = level.angles.saturating_sub(1),
        ">>" => level.angles = level.angles.saturating_sub(2),
        ">>=" => {
            level.angles = level.angles.saturating_sub(2);
            level.loose += ASSIGN;
        }
        "=" | "+=" | "-=" | "*=" | "/=" | "%=" | "^=" | "&=" | "|=" | "<<=" => {
            level.loose += ASSIGN;
            if level.angles == 0 && !level.item {
                level.type_ctx = false;
            }
        }
        ".." | "..=" | "..." => level.loose += RANGE,
        ":" | "->" => level.type_ctx = true,
        "," => {
            if level.angles == 0 {
                level.type_ctx = false;
            }
        }
        "+" => {}
        _ => {
            if level.angles == 0 {
                level.type_ctx = false;
            }
        }
    }
}
