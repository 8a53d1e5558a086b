//! Data sources: data of any size, produced a chunk at a time, and the [`ChunkReader`] that
//! reads them pass after pass.
//!
//! A pass summed over chunks *is* the pass, so the solvers run unchanged: a fit of a source
//! ([`CurveFit::fit_source`](crate::CurveFit::fit_source)) reads every chunk of a
//! [`DataSource`] once per pass and adds its reduction rows in a fixed order. Re-iterable
//! sources (in-memory slices, memory-mapped raw and `.npy` files, CSV files, a closure that
//! restarts an iterator) give the exact least-squares fit; a one-pass source larger than the
//! host budget is fitted online, chunk by chunk, and the result is labelled approximate (see
//! [`DataMode::Online`](crate::DataMode::Online)).
//!
//! ```
//! use nlsq_runtime::stream::SliceSource;
//! use nlsq_runtime::{CurveFit, ExprModel};
//! let x: Vec<f64> = (0..10_000).map(|i| i as f64 * 1e-3).collect();
//! let y: Vec<f64> = x.iter().map(|x| 2.0 * (-0.5 * x).exp() + 0.1).collect();
//! let model = ExprModel::parse("a * exp(-b * x) + c").unwrap();
//! let mut source = SliceSource::new(vec![&x[..]], &y);
//! let fit = CurveFit::new(&model)
//!     .p0([1.0, 1.0, 0.0])
//!     .max_host_bytes(1 << 20)
//!     .fit_source(&mut source)
//!     .unwrap();
//! assert!((fit.popt[1] - 0.5).abs() < 1e-9);
//! println!("{}", fit.data_plan);
//! ```

mod column;
mod csv_source;
mod fn_source;
mod npy;
mod prefetch;
mod raw;
mod reader;
mod slice;

pub use column::{Column, ColumnBytes, ColumnSource, RawType};
pub use csv_source::CsvSource;
pub use fn_source::{FnSource, OnePassSource};
pub use npy::{NpyFile, NpyHeader};
pub use raw::RawFile;
pub use reader::{ChunkReader, StreamStats};
pub use slice::SliceSource;

use crate::error::FitError;

/// A block of consecutive points: `K` predictor columns, observations, optional standard
/// deviations, all of one length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chunk {
    /// `K` predictor columns.
    pub x: Vec<Vec<f64>>,
    /// Observations.
    pub y: Vec<f64>,
    /// Standard deviations of the observations, when the source has them.
    pub sigma: Option<Vec<f64>>,
}

impl Chunk {
    /// An empty chunk for `k` predictors, with or without sigma.
    pub fn empty(k: usize, with_sigma: bool) -> Self {
        Chunk {
            x: vec![Vec::new(); k],
            y: Vec::new(),
            sigma: with_sigma.then(Vec::new),
        }
    }

    /// Points in the chunk.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether the chunk has no points.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Empties the chunk, keeping its allocations.
    pub fn clear(&mut self) {
        for c in &mut self.x {
            c.clear();
        }
        self.y.clear();
        if let Some(s) = &mut self.sigma {
            s.clear();
        }
    }

    /// Bytes one point takes in a chunk of `k` predictors.
    pub fn bytes_per_point(k: usize, with_sigma: bool) -> u64 {
        8 * (k as u64 + 1 + u64::from(with_sigma))
    }

    /// Checks that every column has the length of `y`, naming the source on failure.
    pub fn check_lengths(&self, origin: &str) -> Result<(), FitError> {
        let n = self.y.len();
        let bad = |what: String, got: usize| FitError::Source {
            origin: origin.into(),
            message: format!("a chunk's {what} has {got} values, its y has {n}"),
        };
        for (k, c) in self.x.iter().enumerate() {
            if c.len() != n {
                return Err(bad(format!("x[{k}]"), c.len()));
            }
        }
        match &self.sigma {
            Some(s) if s.len() != n => Err(bad("sigma".into(), s.len())),
            _ => Ok(()),
        }
    }
}

/// Produces a fit's data a chunk at a time.
///
/// Sources are `Send`: a pass reads the next chunk on a helper thread while it works on the
/// current one.
///
/// A pass calls [`DataSource::rewind`] and then [`DataSource::next_chunk`] until it returns
/// `false`. Sources fill the chunk to the requested size except at the end, so chunk
/// boundaries, and therefore the order of every sum, are the same on every pass.
pub trait DataSource: Send {
    /// A name for messages (usually the path).
    fn origin(&self) -> String;
    /// Predictors per point (`K`).
    fn n_inputs(&self) -> usize;
    /// Whether chunks carry standard deviations.
    fn has_sigma(&self) -> bool {
        false
    }
    /// Total points, when known without reading the data.
    fn len_hint(&self) -> Option<u64>;
    /// Whether [`DataSource::rewind`] can start the data over (multi-pass, exact fits).
    fn reiterable(&self) -> bool;
    /// Starts the data over at its first point. One-pass sources fail with
    /// [`FitError::NotReiterable`] once reading has begun.
    fn rewind(&mut self) -> Result<(), FitError>;
    /// Replaces `chunk`'s contents by the next up to `max_points` points (exactly
    /// `max_points` unless the data ends first); `false` when no point was left.
    fn next_chunk(&mut self, chunk: &mut Chunk, max_points: usize) -> Result<bool, FitError>;
    /// Points delivered since the last rewind: the position a checkpoint can record.
    fn cursor(&self) -> u64;
}

impl<S: DataSource + ?Sized> DataSource for &mut S {
    fn origin(&self) -> String {
        (**self).origin()
    }
    fn n_inputs(&self) -> usize {
        (**self).n_inputs()
    }
    fn has_sigma(&self) -> bool {
        (**self).has_sigma()
    }
    fn len_hint(&self) -> Option<u64> {
        (**self).len_hint()
    }
    fn reiterable(&self) -> bool {
        (**self).reiterable()
    }
    fn rewind(&mut self) -> Result<(), FitError> {
        (**self).rewind()
    }
    fn next_chunk(&mut self, chunk: &mut Chunk, max_points: usize) -> Result<bool, FitError> {
        (**self).next_chunk(chunk, max_points)
    }
    fn cursor(&self) -> u64 {
        (**self).cursor()
    }
}

pub(crate) fn io_error(origin: &str, what: &str, e: std::io::Error) -> FitError {
    FitError::Source {
        origin: origin.into(),
        message: format!("{what}: {e}"),
    }
}
