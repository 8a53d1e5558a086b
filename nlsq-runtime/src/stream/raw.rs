//! Raw little-endian `f64` / `f32` files, one file per column, memory-mapped (see
//! [`Column`](super::Column)).

use super::column::{Column, RawType, check_column_lengths, column_data_source};
use crate::error::FitError;
use std::path::{Path, PathBuf};

/// Raw little-endian files, one per column (no header): a re-iterable source.
///
/// ```no_run
/// use nlsq_runtime::stream::RawFile;
/// let source = RawFile::f64("x.f64", "y.f64").unwrap();
/// ```
pub struct RawFile {
    xs: Vec<Column>,
    y: Column,
    sigma: Option<Column>,
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
            .map(|p| Column::map_file(p, 0, ty, None))
            .collect::<Result<Vec<_>, _>>()?;
        let y = Column::map_file(y.as_ref(), 0, ty, None)?;
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
        let s = Column::map_file(sigma.as_ref(), 0, self.ty, None)?;
        check_column_lengths(&[], &self.y, Some(&s))?;
        self.sigma = Some(s);
        Ok(self)
    }
}

column_data_source!(RawFile);
