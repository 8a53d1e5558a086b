//! Sources from user code: a closure that restarts an iterator of chunks (re-iterable, exact),
//! or an iterator that can be read once (fitted online, approximate).
//!
//! The user's chunks may have any sizes; they are re-cut to the driver's chunk size so that
//! every pass sums in the same order.

use super::{Chunk, DataSource};
use crate::error::FitError;

/// Re-cuts a stream of arbitrarily sized chunks into chunks of a requested size.
struct Recut {
    pending: Chunk,
    offset: usize,
    pos: u64,
    k: usize,
    with_sigma: bool,
}

impl Recut {
    fn new(k: usize, with_sigma: bool) -> Self {
        Recut {
            pending: Chunk::empty(k, with_sigma),
            offset: 0,
            pos: 0,
            k,
            with_sigma,
        }
    }

    fn reset(&mut self) {
        self.pending.clear();
        self.offset = 0;
        self.pos = 0;
    }

    fn fill(
        &mut self,
        origin: &str,
        next: &mut dyn FnMut() -> Option<Chunk>,
        chunk: &mut Chunk,
        max_points: usize,
    ) -> Result<bool, FitError> {
        chunk.x.resize(self.k, Vec::new());
        chunk.clear();
        chunk.sigma = self
            .with_sigma
            .then(|| chunk.sigma.take().unwrap_or_default());
        while chunk.len() < max_points {
            if self.offset == self.pending.len() {
                let Some(c) = next() else { break };
                if c.x.len() != self.k || c.sigma.is_some() != self.with_sigma {
                    return Err(FitError::Source {
                        origin: origin.into(),
                        message: format!(
                            "a chunk has {} predictor columns{}, the source declared {}{}",
                            c.x.len(),
                            if c.sigma.is_some() { " and sigma" } else { "" },
                            self.k,
                            if self.with_sigma { " and sigma" } else { "" },
                        ),
                    });
                }
                c.check_lengths(origin)?;
                self.pending = c;
                self.offset = 0;
                continue;
            }
            let take = (max_points - chunk.len()).min(self.pending.len() - self.offset);
            let r = self.offset..self.offset + take;
            for (dst, src) in chunk.x.iter_mut().zip(&self.pending.x) {
                dst.extend_from_slice(&src[r.clone()]);
            }
            chunk.y.extend_from_slice(&self.pending.y[r.clone()]);
            if let (Some(dst), Some(src)) = (chunk.sigma.as_mut(), &self.pending.sigma) {
                dst.extend_from_slice(&src[r.clone()]);
            }
            self.offset += take;
            self.pos += take as u64;
        }
        Ok(!chunk.is_empty())
    }
}

/// A re-iterable source from a closure that starts the data over each time it is called.
///
/// ```
/// use nlsq_runtime::stream::{Chunk, FnSource};
/// // 10 blocks of 1000 points, generated again on every pass.
/// let source = FnSource::new(1, || {
///     (0..10).map(|b| {
///         let x: Vec<f64> = (0..1000).map(|i| (b * 1000 + i) as f64 * 1e-3).collect();
///         let y = x.iter().map(|x| 2.0 * x + 1.0).collect();
///         Chunk { x: vec![x], y, sigma: None }
///     })
/// });
/// ```
pub struct FnSource<F, I>
where
    F: FnMut() -> I,
    I: Iterator<Item = Chunk>,
{
    restart: F,
    iter: Option<I>,
    recut: Recut,
    len: Option<u64>,
}

impl<F, I> FnSource<F, I>
where
    F: FnMut() -> I,
    I: Iterator<Item = Chunk>,
{
    /// Chunks of `k` predictors (no sigma) from `restart()`.
    pub fn new(k: usize, restart: F) -> Self {
        FnSource {
            restart,
            iter: None,
            recut: Recut::new(k, false),
            len: None,
        }
    }

    /// Chunks carry sigma.
    pub fn with_sigma(mut self) -> Self {
        self.recut = Recut::new(self.recut.k, true);
        self
    }

    /// The total number of points, when known (lets the memory manager plan ahead).
    pub fn with_len(mut self, n: u64) -> Self {
        self.len = Some(n);
        self
    }
}

impl<F, I> DataSource for FnSource<F, I>
where
    F: FnMut() -> I + Send,
    I: Iterator<Item = Chunk> + Send,
{
    fn origin(&self) -> String {
        "closure".into()
    }

    fn n_inputs(&self) -> usize {
        self.recut.k
    }

    fn has_sigma(&self) -> bool {
        self.recut.with_sigma
    }

    fn len_hint(&self) -> Option<u64> {
        self.len
    }

    fn reiterable(&self) -> bool {
        true
    }

    fn rewind(&mut self) -> Result<(), FitError> {
        self.iter = Some((self.restart)());
        self.recut.reset();
        Ok(())
    }

    fn next_chunk(&mut self, chunk: &mut Chunk, max_points: usize) -> Result<bool, FitError> {
        let iter = self.iter.get_or_insert_with(&mut self.restart);
        self.recut
            .fill("closure", &mut || iter.next(), chunk, max_points)
    }

    fn cursor(&self) -> u64 {
        self.recut.pos
    }
}

/// An iterator of chunks that can be read once: fitted online ([`DataMode::Online`](crate::DataMode::Online)) unless it
/// fits in the host budget, in which case it is read into memory and fitted exactly.
pub struct OnePassSource<I: Iterator<Item = Chunk>> {
    iter: I,
    recut: Recut,
    started: bool,
}

impl<I: Iterator<Item = Chunk>> OnePassSource<I> {
    /// Chunks of `k` predictors (no sigma).
    pub fn new(k: usize, iter: I) -> Self {
        OnePassSource {
            iter,
            recut: Recut::new(k, false),
            started: false,
        }
    }

    /// Chunks carry sigma.
    pub fn with_sigma(mut self) -> Self {
        self.recut = Recut::new(self.recut.k, true);
        self
    }
}

impl<I: Iterator<Item = Chunk> + Send> DataSource for OnePassSource<I> {
    fn origin(&self) -> String {
        "one-pass iterator".into()
    }

    fn n_inputs(&self) -> usize {
        self.recut.k
    }

    fn has_sigma(&self) -> bool {
        self.recut.with_sigma
    }

    fn len_hint(&self) -> Option<u64> {
        None
    }

    fn reiterable(&self) -> bool {
        false
    }

    fn rewind(&mut self) -> Result<(), FitError> {
        if self.started {
            return Err(FitError::NotReiterable {
                origin: self.origin(),
                reason: "a one-pass iterator cannot be read again".into(),
            });
        }
        Ok(())
    }

    fn next_chunk(&mut self, chunk: &mut Chunk, max_points: usize) -> Result<bool, FitError> {
        self.started = true;
        let iter = &mut self.iter;
        self.recut
            .fill("one-pass iterator", &mut || iter.next(), chunk, max_points)
    }

    fn cursor(&self) -> u64 {
        self.recut.pos
    }
}
