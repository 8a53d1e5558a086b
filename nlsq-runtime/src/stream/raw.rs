//! Memory-mapped raw little-endian `f64` / `f32` files, one file per column.
//!
//! Pages are mapped with sequential read-ahead and released (`MADV_DONTNEED`) as soon as a
//! chunk has been decoded, so a pass over a file far larger than memory keeps only about one
//! chunk of it resident.

use super::{Chunk, io_error};
use crate::error::FitError;
use memmap2::{Advice, Mmap, UncheckedAdvice};
use std::fs::File;
use std::path::{Path, PathBuf};
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

/// One column of elements in a mapped file, from byte `offset` on.
pub(crate) struct MappedColumn {
    pub(crate) origin: String,
    map: Option<Arc<Mmap>>,
    offset: usize,
    pub(crate) len: usize,
    ty: RawType,
}

impl MappedColumn {
    /// Maps `path`; the column is `len` elements of `ty` from byte `offset` (`None`: all that
    /// follows `offset`, which must be a whole number of elements).
    pub(crate) fn open(
        path: &Path,
        offset: usize,
        ty: RawType,
        len: Option<usize>,
    ) -> Result<Self, FitError> {
        let origin = path.display().to_string();
        let file = File::open(path).map_err(|e| io_error(&origin, "cannot open", e))?;
        let size = file
            .metadata()
            .map_err(|e| io_error(&origin, "cannot stat", e))?
            .len() as usize;
        let payload = size.checked_sub(offset).ok_or_else(|| FitError::Source {
            origin: origin.clone(),
            message: format!("the file has {size} bytes, fewer than its {offset}-byte header"),
        })?;
        let len = match len {
            Some(n) if n.checked_mul(ty.size()) != Some(payload) => {
                return Err(FitError::Source {
                    origin,
                    message: format!(
                        "the header promises {n} elements of {} bytes ({} bytes of data) but the file holds {payload} bytes after the header",
                        ty.size(),
                        n.saturating_mul(ty.size())
                    ),
                });
            }
            Some(n) => n,
            None if payload % ty.size() != 0 => {
                return Err(FitError::Source {
                    origin,
                    message: format!(
                        "{payload} bytes is not a whole number of {}-byte elements (truncated file, or the wrong element type?)",
                        ty.size()
                    ),
                });
            }
            None => payload / ty.size(),
        };
        let map = if size == 0 {
            None
        } else {
            // SAFETY: the map is read-only; as with any file mapping, the file must not be
            // truncated or rewritten by another process while the fit reads it.
            let map =
                unsafe { Mmap::map(&file) }.map_err(|e| io_error(&origin, "cannot map", e))?;
            // Read-ahead hints only; failure is harmless.
            let _ = map.advise(Advice::Sequential);
            Some(Arc::new(map))
        };
        Ok(MappedColumn {
            origin,
            map,
            offset,
            len,
            ty,
        })
    }

    /// Splits the column into `k` consecutive columns of equal length (a `K × N` C-order or
    /// `N × K` Fortran-order array: each predictor is contiguous).
    pub(crate) fn split(self, k: usize) -> Vec<MappedColumn> {
        let n = self.len / k.max(1);
        (0..k)
            .map(|c| MappedColumn {
                origin: if k == 1 {
                    self.origin.clone()
                } else {
                    format!("{} (column {c})", self.origin)
                },
                map: self.map.clone(),
                offset: self.offset + c * n * self.ty.size(),
                len: n,
                ty: self.ty,
            })
            .collect()
    }

    /// Appends elements `range` as `f64` to `out`, then releases their pages.
    pub(crate) fn read(&self, range: std::ops::Range<usize>, out: &mut Vec<f64>) {
        let Some(map) = &self.map else { return };
        let (a, b) = (
            self.offset + range.start * self.ty.size(),
            self.offset + range.end * self.ty.size(),
        );
        let bytes = &map[a..b];
        match self.ty {
            RawType::F64 => out.extend(
                bytes
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])),
            ),
            RawType::F32 => out.extend(
                bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64),
            ),
        }
        // SAFETY: a read-only shared file mapping: dropped pages are read again from the file
        // if touched later; no reference into them is held past this point.
        let _ = unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, a, b - a) };
    }
}

/// Reads the columns of `cols` (x columns, y, then sigma) for points `pos..pos + max` into
/// `chunk`; the new position.
pub(crate) fn read_columns(
    xs: &[MappedColumn],
    y: &MappedColumn,
    sigma: Option<&MappedColumn>,
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
    xs: &[MappedColumn],
    y: &MappedColumn,
    sigma: Option<&MappedColumn>,
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

/// Implements [`DataSource`](super::DataSource) for a file source made of mapped columns: a
/// type with fields `xs: Vec<MappedColumn>`, `y: MappedColumn`, `sigma: Option<MappedColumn>`
/// and `pos: usize` (the next point). Shared by [`RawFile`] and [`NpyFile`](super::NpyFile).
macro_rules! mapped_data_source {
    ($t:ty) => {
        impl $crate::stream::DataSource for $t {
            fn origin(&self) -> String {
                self.y.origin.clone()
            }

            fn n_inputs(&self) -> usize {
                self.xs.len()
            }

            fn has_sigma(&self) -> bool {
                self.sigma.is_some()
            }

            fn len_hint(&self) -> Option<u64> {
                Some(self.y.len as u64)
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
                self.pos = $crate::stream::raw::read_columns(
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
pub(crate) use mapped_data_source;

/// Raw little-endian files, one per column (no header): a re-iterable source.
///
/// ```no_run
/// use nlsq_runtime::stream::RawFile;
/// let source = RawFile::f64("x.f64", "y.f64").unwrap();
/// ```
pub struct RawFile {
    xs: Vec<MappedColumn>,
    y: MappedColumn,
    sigma: Option<MappedColumn>,
    ty: RawType,
    pos: usize,
}

impl RawFile {
    /// One predictor and the observations, both `f64`.
    pub fn f64(x: impl AsRef<Path>, y: impl AsRef<Path>) -> Result<Self, FitError> {
        Self::new(RawType::F64, &[x.as_ref().to_path_buf()], y)
    }

    /// One predictor and the observations, both `f32`.
    pub fn f32(x: impl AsRef<Path>, y: impl AsRef<Path>) -> Result<Self, FitError> {
        Self::new(RawType::F32, &[x.as_ref().to_path_buf()], y)
    }

    /// `K` predictor files and the observations, all of element type `ty`.
    pub fn new(ty: RawType, xs: &[PathBuf], y: impl AsRef<Path>) -> Result<Self, FitError> {
        let xs = xs
            .iter()
            .map(|p| MappedColumn::open(p, 0, ty, None))
            .collect::<Result<Vec<_>, _>>()?;
        let y = MappedColumn::open(y.as_ref(), 0, ty, None)?;
        check_column_lengths(&xs, &y, None)?;
        Ok(RawFile {
            xs,
            y,
            sigma: None,
            ty,
            pos: 0,
        })
    }

    /// Standard deviations of the observations, from a file of the same element type.
    pub fn with_sigma(mut self, sigma: impl AsRef<Path>) -> Result<Self, FitError> {
        let s = MappedColumn::open(sigma.as_ref(), 0, self.ty, None)?;
        check_column_lengths(&[], &self.y, Some(&s))?;
        self.sigma = Some(s);
        Ok(self)
    }
}

mapped_data_source!(RawFile);
