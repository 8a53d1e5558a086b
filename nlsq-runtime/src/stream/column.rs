//! Columns of little-endian floats at a fixed stride, in a memory-mapped file or in memory,
//! and [`ColumnSource`], a re-iterable [`DataSource`] made of such columns.
//!
//! Raw files ([`RawFile`](super::RawFile)), `.npy` files ([`NpyFile`](super::NpyFile)) and
//! the command line's tables (`.npy` in any layout, `.npz` members, raw rows, standard input)
//! are all columns of this kind. A contiguous column of a mapped file releases its pages
//! (`MADV_DONTNEED`) as soon as a chunk has been decoded, so a pass over a file far larger
//! than memory keeps only about one chunk of it resident.

use super::{Chunk, io_error};
use crate::error::FitError;
use memmap2::{Advice, Mmap, UncheckedAdvice};
use std::fs::File;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// Element type of a raw or `.npy` column (little-endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawType {
    /// 8-byte IEEE 754 doubles.
    F64,
    /// 4-byte IEEE 754 floats (widened to `f64` when read).
    F32,
}

impl RawType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            RawType::F64 => 8,
            RawType::F32 => 4,
        }
    }
}

/// The bytes behind columns.
#[derive(Debug)]
pub enum ColumnBytes {
    /// A read-only memory-mapped file.
    Map(Mmap),
    /// Bytes in memory (standard input, a decompressed archive member).
    Owned(Vec<u8>),
}

impl ColumnBytes {
    /// Maps the file at `path` read-only (an empty file becomes empty owned bytes, which
    /// cannot be mapped).
    pub fn map(path: &Path) -> std::io::Result<Self> {
        let file = File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Ok(ColumnBytes::Owned(Vec::new()));
        }
        // SAFETY: the map is read-only; as with any file mapping, the file must not be
        // truncated or rewritten by another process while the fit reads it.
        let map = unsafe { Mmap::map(&file) }?;
        // Read-ahead hints only; failure is harmless.
        let _ = map.advise(Advice::Sequential);
        Ok(ColumnBytes::Map(map))
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            ColumnBytes::Map(m) => m,
            ColumnBytes::Owned(v) => v,
        }
    }
}

/// One column: `len` little-endian elements of one [`RawType`], the first at byte `offset` of
/// shared bytes, then one every `stride` bytes. Cloning shares the bytes.
///
/// ```
/// use nlsq_runtime::stream::{Column, ColumnBytes, RawType};
/// use std::sync::Arc;
/// // Two rows of (x, y) f64 pairs: the y column starts at byte 8, one value every 16 bytes.
/// let bytes: Vec<u8> = [1.0f64, 10.0, 2.0, 20.0].iter().flat_map(|v| v.to_le_bytes()).collect();
/// let y = Column::new("pairs", Arc::new(ColumnBytes::Owned(bytes)), 8, 16, RawType::F64, 2)
///     .unwrap();
/// let mut out = Vec::new();
/// y.read(0..2, &mut out);
/// assert_eq!(out, [10.0, 20.0]);
/// ```
#[derive(Clone, Debug)]
pub struct Column {
    origin: String,
    bytes: Arc<ColumnBytes>,
    offset: usize,
    stride: usize,
    ty: RawType,
    len: usize,
}

impl Column {
    /// A column over `bytes`, checked to lie inside them; `origin` names it in messages.
    pub fn new(
        origin: impl Into<String>,
        bytes: Arc<ColumnBytes>,
        offset: usize,
        stride: usize,
        ty: RawType,
        len: usize,
    ) -> Result<Self, FitError> {
        let origin = origin.into();
        let size = bytes.as_slice().len();
        let end = match len {
            0 => Some(offset),
            n => (n - 1)
                .checked_mul(stride)
                .and_then(|v| v.checked_add(offset + ty.size())),
        };
        if stride < ty.size() || end.is_none_or(|e| e > size) {
            return Err(FitError::Source {
                origin,
                message: format!(
                    "a column of {len} elements of {} bytes from byte {offset}, every {stride} \
                     bytes, does not fit in {size} bytes",
                    ty.size()
                ),
            });
        }
        Ok(Column {
            origin,
            bytes,
            offset,
            stride,
            ty,
            len,
        })
    }

    /// Maps `path`; the column is `len` contiguous elements of `ty` from byte `offset`
    /// (`None`: all that follows `offset`, which must be a whole number of elements).
    pub fn map_file(
        path: &Path,
        offset: usize,
        ty: RawType,
        len: Option<usize>,
    ) -> Result<Self, FitError> {
        let origin = path.display().to_string();
        let bytes = ColumnBytes::map(path).map_err(|e| io_error(&origin, "cannot open", e))?;
        let size = bytes.as_slice().len();
        let payload = size.checked_sub(offset).ok_or_else(|| FitError::Source {
            origin: origin.clone(),
            message: format!("the file has {size} bytes, fewer than its {offset}-byte header"),
        })?;
        let bad = |message: String| FitError::Source {
            origin: origin.clone(),
            message,
        };
        let len = match len {
            Some(n) if n.checked_mul(ty.size()) != Some(payload) => {
                return Err(bad(format!(
                    "the header promises {n} elements of {} bytes ({} bytes of data) but the \
                     file holds {payload} bytes after the header",
                    ty.size(),
                    n.saturating_mul(ty.size())
                )));
            }
            Some(n) => n,
            None if payload % ty.size() != 0 => {
                return Err(bad(format!(
                    "{payload} bytes is not a whole number of {}-byte elements (truncated file, \
                     or the wrong element type?)",
                    ty.size()
                )));
            }
            None => payload / ty.size(),
        };
        Column::new(origin, Arc::new(bytes), offset, ty.size(), ty, len)
    }

    /// Splits a contiguous column into `k` consecutive columns of equal length (a `K × N`
    /// C-order or `N × K` Fortran-order array: each predictor is contiguous).
    pub fn split(self, k: usize) -> Vec<Column> {
        let n = self.len / k.max(1);
        (0..k)
            .map(|c| Column {
                origin: if k == 1 {
                    self.origin.clone()
                } else {
                    format!("{} (column {c})", self.origin)
                },
                bytes: self.bytes.clone(),
                offset: self.offset + c * n * self.stride,
                stride: self.stride,
                ty: self.ty,
                len: n,
            })
            .collect()
    }

    /// Elements in the column.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the column has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements `range` of the column as a column of their own, over the same bytes (a
    /// rank's shard of a mapped file: only its pages are ever read). A range reaching past the
    /// end is cut at the end.
    pub fn slice(&self, range: Range<usize>) -> Column {
        let end = range.end.min(self.len);
        let start = range.start.min(end);
        Column {
            origin: self.origin.clone(),
            bytes: self.bytes.clone(),
            offset: self.offset + start * self.stride,
            stride: self.stride,
            ty: self.ty,
            len: end - start,
        }
    }

    /// What the column is named in messages.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Appends elements `range` (within `0..len`) as `f64` to `out`; a contiguous column of a
    /// mapped file then releases their pages.
    ///
    /// # Panics
    /// If `range` reaches past the column's end.
    pub fn read(&self, range: Range<usize>, out: &mut Vec<f64>) {
        assert!(
            range.end <= self.len,
            "rows {range:?} of a {}-row column",
            self.len
        );
        if range.is_empty() {
            return;
        }
        let size = self.ty.size();
        let a = self.offset + range.start * self.stride;
        let b = self.offset + (range.end - 1) * self.stride + size;
        let bytes = &self.bytes.as_slice()[a..b];
        let contiguous = self.stride == size;
        match (self.ty, contiguous) {
            (RawType::F64, true) => out.extend(bytes.chunks_exact(8).map(f64_at)),
            (RawType::F32, true) => out.extend(bytes.chunks_exact(4).map(|c| f32_at(c) as f64)),
            (RawType::F64, false) => {
                out.extend(bytes.chunks(self.stride).map(|c| f64_at(&c[..8])));
            }
            (RawType::F32, false) => {
                out.extend(bytes.chunks(self.stride).map(|c| f32_at(&c[..4]) as f64));
            }
        }
        if let (ColumnBytes::Map(map), true) = (&*self.bytes, contiguous) {
            // SAFETY: a read-only shared file mapping: dropped pages are read again from the
            // file if touched later; no reference into them is held past this point.
            let _ = unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, a, b - a) };
        }
    }
}

fn f64_at(c: &[u8]) -> f64 {
    f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
}

fn f32_at(c: &[u8]) -> f32 {
    f32::from_le_bytes([c[0], c[1], c[2], c[3]])
}

/// Reads the columns (x columns, y, then sigma) for points `pos..pos + max` into `chunk`; the
/// new position.
pub(crate) fn read_columns(
    xs: &[Column],
    y: &Column,
    sigma: Option<&Column>,
    pos: usize,
    max_points: usize,
    chunk: &mut Chunk,
) -> usize {
    let end = (pos + max_points).min(y.len);
    chunk.x.resize(xs.len(), Vec::new());
    chunk.clear();
    for (dst, col) in chunk.x.iter_mut().zip(xs) {
        col.read(pos..end, dst);
    }
    y.read(pos..end, &mut chunk.y);
    match sigma {
        Some(s) => {
            let mut v = chunk.sigma.take().unwrap_or_default();
            v.clear();
            s.read(pos..end, &mut v);
            chunk.sigma = Some(v);
        }
        None => chunk.sigma = None,
    }
    end
}

/// Checks that every column has as many elements as `y`.
pub(crate) fn check_column_lengths(
    xs: &[Column],
    y: &Column,
    sigma: Option<&Column>,
) -> Result<(), FitError> {
    for c in xs.iter().chain(sigma) {
        if c.len != y.len {
            return Err(FitError::Source {
                origin: c.origin.clone(),
                message: format!(
                    "{} values, but the observations `{}` have {}",
                    c.len, y.origin, y.len
                ),
            });
        }
    }
    Ok(())
}

/// Implements [`DataSource`](super::DataSource) for a source made of columns: a type with
/// fields `xs: Vec<Column>`, `y: Column`, `sigma: Option<Column>` and `pos: usize` (the next
/// point). Shared by [`ColumnSource`], [`RawFile`](super::RawFile) and
/// [`NpyFile`](super::NpyFile).
macro_rules! column_data_source {
    ($t:ty) => {
        impl $crate::stream::DataSource for $t {
            fn origin(&self) -> String {
                self.y.origin().to_string()
            }

            fn n_inputs(&self) -> usize {
                self.xs.len()
            }

            fn has_sigma(&self) -> bool {
                self.sigma.is_some()
            }

            fn len_hint(&self) -> Option<u64> {
                Some(self.y.len() as u64)
            }

            fn reiterable(&self) -> bool {
                true
            }

            fn rewind(&mut self) -> Result<(), $crate::error::FitError> {
                self.pos = 0;
                Ok(())
            }

            fn next_chunk(
                &mut self,
                chunk: &mut $crate::stream::Chunk,
                max_points: usize,
            ) -> Result<bool, $crate::error::FitError> {
                self.pos = $crate::stream::column::read_columns(
                    &self.xs,
                    &self.y,
                    self.sigma.as_ref(),
                    self.pos,
                    max_points,
                    chunk,
                );
                Ok(!chunk.is_empty())
            }

            fn cursor(&self) -> u64 {
                self.pos as u64
            }
        }
    };
}
pub(crate) use column_data_source;

/// Predictor columns, the observations and optionally their standard deviations, as a
/// re-iterable [`DataSource`](super::DataSource).
///
/// ```
/// use nlsq_runtime::stream::{Column, ColumnBytes, ColumnSource, DataSource, RawType};
/// use std::sync::Arc;
/// let rows: Vec<u8> = [0.0f64, 1.0, 1.0, 3.0, 2.0, 5.0].iter().flat_map(|v| v.to_le_bytes()).collect();
/// let bytes = Arc::new(ColumnBytes::Owned(rows));
/// let col = |j: usize| Column::new("rows", bytes.clone(), 8 * j, 16, RawType::F64, 3).unwrap();
/// let source = ColumnSource::new(vec![col(0)], col(1), None).unwrap();
/// assert_eq!(source.len_hint(), Some(3));
/// ```
#[derive(Clone, Debug)]
pub struct ColumnSource {
    xs: Vec<Column>,
    y: Column,
    sigma: Option<Column>,
    pos: usize,
}

impl ColumnSource {
    /// The source of `xs`, `y` and `sigma`, which must all have `y`'s length.
    pub fn new(xs: Vec<Column>, y: Column, sigma: Option<Column>) -> Result<Self, FitError> {
        check_column_lengths(&xs, &y, sigma.as_ref())?;
        Ok(ColumnSource {
            xs,
            y,
            sigma,
            pos: 0,
        })
    }
}

column_data_source!(ColumnSource);

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(values: &[f32]) -> Arc<ColumnBytes> {
        Arc::new(ColumnBytes::Owned(
            values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ))
    }

    #[test]
    fn strided_contiguous_and_split_reads() {
        let b = owned(&[1.0, 10.0, 2.0, 20.0, 3.0, 30.0]);
        let mut out = Vec::new();
        let second = Column::new("t", b.clone(), 4, 8, RawType::F32, 3).unwrap();
        second.read(1..3, &mut out);
        assert_eq!(out, [20.0, 30.0]);
        let halves = Column::new("t", b, 0, 4, RawType::F32, 6).unwrap().split(2);
        out.clear();
        halves[1].read(0..3, &mut out);
        assert_eq!(out, [20.0, 3.0, 30.0]);
        assert_eq!(halves[1].origin(), "t (column 1)");
    }

    #[test]
    fn slices_are_rows_of_the_same_column() {
        let b = owned(&[1.0, 10.0, 2.0, 20.0, 3.0, 30.0]);
        let second = Column::new("t", b, 4, 8, RawType::F32, 3).unwrap();
        let mut out = Vec::new();
        let tail = second.slice(1..3);
        tail.read(0..tail.len(), &mut out);
        assert_eq!(out, [20.0, 30.0]);
        assert_eq!(second.slice(2..9).len(), 1);
        // A range past the end, and a reversed one, are empty.
        let (from, to) = (5, 4);
        assert!(second.slice(3..5).is_empty() && second.slice(from..to).is_empty());
    }

    #[test]
    fn a_column_past_its_bytes_is_an_error() {
        let b = owned(&[1.0, 2.0, 3.0]);
        for (offset, stride, len) in [(4, 4, 3), (0, 8, 3), (0, 2, 1), (0, usize::MAX, 2)] {
            let e = Column::new("t", b.clone(), offset, stride, RawType::F32, len).unwrap_err();
            assert!(e.to_string().contains("does not fit in 12 bytes"), "{e}");
        }
        assert!(
            Column::new("t", b, 12, 4, RawType::F32, 0)
                .unwrap()
                .is_empty()
        );
    }
}
