//! The syntax of composite specs: `part (+ part)*`, each part `name` or `name:prefix`,
//! whitespace anywhere between tokens.

use super::error::{LibraryError, SpecProblem};

/// One part of a spec, with byte offsets into the spec for error messages.
#[derive(Clone, Debug)]
pub(crate) struct PartSpec {
    /// The model name as written.
    pub name: String,
    /// Byte offset of the name.
    pub at: usize,
    /// The prefix after `:`, if any.
    pub prefix: Option<String>,
}

/// Whether `s` is an identifier: a letter or `_`, then letters, digits or `_`.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// `s` trimmed, with the byte offset of its start (`base` + leading whitespace).
fn trimmed(s: &str, base: usize) -> (&str, usize) {
    let start = s.len() - s.trim_start().len();
    (s.trim(), base + start)
}

/// Splits a spec into its parts.
pub(crate) fn parse(spec: &str) -> Result<Vec<PartSpec>, LibraryError> {
    let bad = |position, problem| Err(LibraryError::BadSpec { position, problem });
    let mut parts = Vec::new();
    let mut base = 0;
    for segment in spec.split('+') {
        let (text, at) = trimmed(segment, base);
        base += segment.len() + 1;
        if text.is_empty() {
            return bad(at, SpecProblem::EmptyPart);
        }
        let (name, prefix) = match text.split_once(':') {
            Some((n, p)) => (n, Some((p, at + n.len() + 1))),
            None => (text, None),
        };
        let (name, name_at) = trimmed(name, at);
        if name.is_empty() {
            return bad(name_at, SpecProblem::EmptyPart);
        }
        if !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            return bad(name_at, SpecProblem::BadName(name.to_string()));
        }
        let prefix = match prefix {
            Some((p, p_at)) => {
                let (p, p_at) = trimmed(p, p_at);
                if !is_identifier(p) {
                    return bad(p_at, SpecProblem::BadPrefix(p.to_string()));
                }
                Some(p.to_string())
            }
            None => None,
        };
        parts.push(PartSpec {
            name: name.to_string(),
            at: name_at,
            prefix,
        });
    }
    Ok(parts)
}

/// Replaces every identifier of `expr` that is a key of `map` by its value (names after a
/// `.` are method names and stay).
pub(crate) fn rename_identifiers(expr: &str, map: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(expr.len() + 16);
    let mut rest = expr;
    let mut after_dot = false;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_alphabetic() || c == '_' {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let word = &rest[..len];
            match map(word).filter(|_| !after_dot) {
                Some(new) => out.push_str(&new),
                None => out.push_str(word),
            }
            rest = &rest[len..];
            after_dot = false;
        } else if c.is_ascii_digit() {
            // A number (with an exponent such as `1e5`) is copied whole.
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                .unwrap_or(rest.len());
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            after_dot = false;
        } else {
            out.push(c);
            after_dot = c == '.';
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_whole_identifiers_only() {
        let map = |w: &str| (w == "a" || w == "mu").then(|| format!("g_{w}"));
        assert_eq!(
            rename_identifiers("a * exp(-(x - mu)) + ab + 1e5 + x.a()", &map),
            "g_a * exp(-(x - g_mu)) + ab + 1e5 + x.a()"
        );
    }

    #[test]
    fn parses_parts_with_positions() {
        let p = parse("  gaussian:g1 +linear ").unwrap();
        assert_eq!((p[0].name.as_str(), p[0].at), ("gaussian", 2));
        assert_eq!(p[0].prefix.as_deref(), Some("g1"));
        assert_eq!(
            (p[1].name.as_str(), p[1].at, p[1].prefix.clone()),
            ("linear", 15, None)
        );
        let e = parse("gaussian + ").unwrap_err();
        assert_eq!(
            e,
            LibraryError::BadSpec {
                position: 11,
                problem: SpecProblem::EmptyPart
            }
        );
    }
}
