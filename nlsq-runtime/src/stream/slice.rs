//! In-memory slices as a source: the CPU's chunked driver, and the reference for tests.

use super::{Chunk, DataSource};
use crate::error::FitError;

/// Borrowed predictor columns, observations and optional sigma, served in chunks.
pub struct SliceSource<'a> {
    x: Vec<&'a [f64]>,
    y: &'a [f64],
    sigma: Option<&'a [f64]>,
    pos: usize,
}

impl<'a> SliceSource<'a> {
    /// `K` predictor columns and the observations (lengths are checked when read).
    pub fn new(x: Vec<&'a [f64]>, y: &'a [f64]) -> Self {
        SliceSource {
            x,
            y,
            sigma: None,
            pos: 0,
        }
    }

    /// Standard deviations of the observations.
    pub fn with_sigma(mut self, sigma: &'a [f64]) -> Self {
        self.sigma = Some(sigma);
        self
    }
}

impl DataSource for SliceSource<'_> {
    fn origin(&self) -> String {
        "memory".into()
    }

    fn n_inputs(&self) -> usize {
        self.x.len()
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

    fn rewind(&mut self) -> Result<(), FitError> {
        self.pos = 0;
        Ok(())
    }

    fn next_chunk(&mut self, chunk: &mut Chunk, max_points: usize) -> Result<bool, FitError> {
        let n = self.y.len();
        for (k, c) in self.x.iter().enumerate() {
            if c.len() != n {
                return Err(FitError::LengthMismatch {
                    what: if self.x.len() == 1 {
                        "x".into()
                    } else {
                        format!("x[{k}]")
                    },
                    got: c.len(),
                    expected: n,
                });
            }
        }
        if let Some(s) = self.sigma
            && s.len() != n
        {
            return Err(FitError::LengthMismatch {
                what: "sigma".into(),
                got: s.len(),
                expected: n,
            });
        }
        let end = (self.pos + max_points).min(n);
        let r = self.pos..end;
        chunk.x.resize(self.x.len(), Vec::new());
        for (dst, src) in chunk.x.iter_mut().zip(&self.x) {
            dst.clear();
            dst.extend_from_slice(&src[r.clone()]);
        }
        chunk.y.clear();
        chunk.y.extend_from_slice(&self.y[r.clone()]);
        chunk.sigma = self.sigma.map(|s| {
            let mut v = chunk.sigma.take().unwrap_or_default();
            v.clear();
            v.extend_from_slice(&s[r.clone()]);
            v
        });
        self.pos = end;
        Ok(!chunk.is_empty())
    }

    fn cursor(&self) -> u64 {
        self.pos as u64
    }
}
