//! NumPy `.npy` files (format versions 1, 2 and 3), memory-mapped.
//!
//! Supported: little-endian `f8` / `f4` arrays; `y` (and sigma) one-dimensional `(N,)`; `x`
//! either `(N,)` for one predictor, or `(K, N)` in C order / `(N, K)` in Fortran order for `K`
//! predictors (scipy's `xdata` layout: each predictor contiguous). Anything else — a bad
//! magic string, a truncated or malformed header, another dtype, a file whose size does not
//! match its header — is a [`FitError::Source`].

use super::column::{Column, RawType, check_column_lengths, column_data_source};
use super::io_error;
use crate::error::FitError;
use std::io::Read;
use std::path::Path;

const MAGIC: &[u8] = b"\x93NUMPY";

/// The parsed header of a `.npy` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyHeader {
    /// Element type.
    pub dtype: RawType,
    /// Whether the array is stored in Fortran (column-major) order.
    pub fortran_order: bool,
    /// The array's shape.
    pub shape: Vec<usize>,
    /// Bytes before the data (magic, version, length field, header text).
    pub data_offset: usize,
}

impl NpyHeader {
    /// Parses the header at the start of `bytes` (which may hold more than the header).
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() < 10 || &bytes[..6] != MAGIC {
            return Err("not a .npy file (the magic string \\x93NUMPY is missing)".into());
        }
        let (len, start) = match bytes[6] {
            1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
            2 | 3 => {
                if bytes.len() < 12 {
                    return Err("truncated header".into());
                }
                (
                    u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                    12,
                )
            }
            v => return Err(format!("unsupported .npy format version {v}")),
        };
        let end = start + len;
        if bytes.len() < end {
            return Err(format!(
                "truncated header: {len} bytes announced, {} present",
                bytes.len() - start
            ));
        }
        let text = std::str::from_utf8(&bytes[start..end])
            .map_err(|_| "the header is not text".to_string())?;
        let dict = text.trim_end_matches(['\n', ' ', '\0']).trim();
        let inner = dict
            .strip_prefix('{')
            .and_then(|d| d.strip_suffix('}'))
            .ok_or_else(|| format!("the header `{dict}` is not a dictionary"))?;
        let descr = quoted(value_of(inner, "descr")?)?;
        let dtype = match descr {
            "<f8" => RawType::F64,
            "<f4" => RawType::F32,
            d => {
                return Err(format!(
                    "dtype `{d}` is not supported (little-endian f8 or f4 only)"
                ));
            }
        };
        let fortran_order = match value_of(inner, "fortran_order")?.trim() {
            "True" => true,
            "False" => false,
            v => return Err(format!("fortran_order `{v}` is not True or False")),
        };
        let shape_text = value_of(inner, "shape")?.trim();
        let body = shape_text
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .ok_or_else(|| format!("shape `{shape_text}` is not a tuple"))?;
        let shape = body
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.trim_end_matches('L')
                    .parse::<usize>()
                    .map_err(|_| format!("shape entry `{s}` is not a size"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NpyHeader {
            dtype,
            fortran_order,
            shape,
            data_offset: end,
        })
    }

    /// Elements in the array.
    pub fn elements(&self) -> Option<usize> {
        self.shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
    }
}

/// The text after `'key':` up to the next top-level comma (tuples kept whole).
fn value_of<'t>(dict: &'t str, key: &str) -> Result<&'t str, String> {
    let pat_single = format!("'{key}'");
    let pat_double = format!("\"{key}\"");
    let at = dict
        .find(&pat_single)
        .or_else(|| dict.find(&pat_double))
        .ok_or_else(|| format!("the header has no `{key}`"))?;
    let rest = &dict[at + key.len() + 2..];
    let rest = rest
        .trim_start()
        .strip_prefix(':')
        .ok_or_else(|| format!("`{key}` has no value"))?;
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => return Ok(&rest[..i]),
            _ => {}
        }
    }
    Ok(rest)
}

fn quoted(v: &str) -> Result<&str, String> {
    let v = v.trim();
    v.strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| v.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
        .ok_or_else(|| format!("`{v}` is not a string"))
}

/// Reads and parses the header of the file at `path`.
fn read_header(path: &Path) -> Result<NpyHeader, FitError> {
    let origin = path.display().to_string();
    let mut f = std::fs::File::open(path).map_err(|e| io_error(&origin, "cannot open", e))?;
    let mut head = Vec::new();
    // The largest header of a v1 file is 10 + 65535 bytes; v2/3 headers in practice are tiny.
    (&mut f)
        .take(1 << 17)
        .read_to_end(&mut head)
        .map_err(|e| io_error(&origin, "cannot read", e))?;
    NpyHeader::parse(&head).map_err(|message| FitError::Source { origin, message })
}

/// Maps `path` as an array with the columns its header describes (`K` of them for `x`).
fn open_columns(path: &Path, what: &str) -> Result<Vec<Column>, FitError> {
    let h = read_header(path)?;
    let origin = path.display().to_string();
    let bad = |message: String| FitError::Source {
        origin: origin.clone(),
        message,
    };
    let elements = h
        .elements()
        .ok_or_else(|| bad("the shape overflows".into()))?;
    let k = match (h.shape.as_slice(), h.fortran_order, what) {
        ([_], _, _) => 1,
        ([k, _], false, "x") => *k,
        ([_, k], true, "x") => *k,
        (s, f, _) => {
            return Err(bad(format!(
                "{what} of shape {s:?}{} is not supported: {}",
                if f { " (Fortran order)" } else { "" },
                if what == "x" {
                    "use (N,), (K, N) in C order or (N, K) in Fortran order"
                } else {
                    "use a one-dimensional (N,) array"
                }
            )));
        }
    };
    if k == 0 {
        return Err(bad("the array has no predictor columns".into()));
    }
    let col = Column::map_file(path, h.data_offset, h.dtype, Some(elements))?;
    Ok(col.split(k))
}

/// `.npy` files for `x` (one or `K` predictors), `y` and optionally sigma: a re-iterable,
/// memory-mapped source. Element types may differ between files.
///
/// ```no_run
/// use nlsq_runtime::stream::NpyFile;
/// let source = NpyFile::new("x.npy", "y.npy").unwrap();
/// ```
pub struct NpyFile {
    xs: Vec<Column>,
    y: Column,
    sigma: Option<Column>,
    pos: usize,
}

impl NpyFile {
    /// Opens and checks `x` and `y`.
    pub fn new(x: impl AsRef<Path>, y: impl AsRef<Path>) -> Result<Self, FitError> {
        let xs = open_columns(x.as_ref(), "x")?;
        let y = open_columns(y.as_ref(), "y")?.remove(0);
        check_column_lengths(&xs, &y, None)?;
        Ok(NpyFile {
            xs,
            y,
            sigma: None,
            pos: 0,
        })
    }

    /// Standard deviations of the observations, from a one-dimensional `.npy` file.
    pub fn with_sigma(mut self, sigma: impl AsRef<Path>) -> Result<Self, FitError> {
        let s = open_columns(sigma.as_ref(), "sigma")?.remove(0);
        check_column_lengths(&[], &self.y, Some(&s))?;
        self.sigma = Some(s);
        Ok(self)
    }
}

column_data_source!(NpyFile);

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, version: u8) -> Vec<u8> {
        let mut v = MAGIC.to_vec();
        v.extend([version, 0]);
        if version == 1 {
            v.extend((header.len() as u16).to_le_bytes());
        } else {
            v.extend((header.len() as u32).to_le_bytes());
        }
        v.extend(header.as_bytes());
        v
    }

    #[test]
    fn parses_numpy_headers() {
        let h = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 1000), }          \n";
        let p = NpyHeader::parse(&file(h, 1)).unwrap();
        assert_eq!(p.dtype, RawType::F64);
        assert!(!p.fortran_order);
        assert_eq!(p.shape, vec![3, 1000]);
        assert_eq!(p.data_offset, 10 + h.len());
        let h = "{'descr': '<f4', 'fortran_order': True, 'shape': (7,), }\n";
        let p = NpyHeader::parse(&file(h, 2)).unwrap();
        assert_eq!(
            (p.dtype, p.fortran_order, p.shape),
            (RawType::F32, true, vec![7])
        );
        assert_eq!(p.data_offset, 12 + h.len());
        let h = "{'descr': '<f8', 'fortran_order': False, 'shape': (), }\n";
        assert_eq!(NpyHeader::parse(&file(h, 1)).unwrap().elements(), Some(1));
    }

    #[test]
    fn rejects_bad_headers() {
        let ok = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n";
        for (bytes, want) in [
            (b"NUMPY\x01\x00".to_vec(), "magic"),
            (file(ok, 1)[..20].to_vec(), "truncated"),
            (file(ok, 9), "version"),
            (file(&ok.replace("<f8", ">f8"), 1), "not supported"),
            (file(&ok.replace("<f8", "<i8"), 1), "not supported"),
            (file(&ok.replace("False", "Maybe"), 1), "fortran_order"),
            (file(&ok.replace("(3,)", "(x,)"), 1), "not a size"),
            (file(&ok.replace("(3,)", "3"), 1), "not a tuple"),
            (file("{'descr': '<f8'}\n", 1), "no `fortran_order`"),
            (file("[1, 2]\n", 1), "not a dictionary"),
        ] {
            let e = NpyHeader::parse(&bytes).unwrap_err();
            assert!(e.contains(want), "{e} (wanted {want})");
        }
    }
}
