//! Reading a [`DataSource`] pass after pass, a chunk at a time, validated as in-memory data
//! is: the [`ChunkReader`] every chunked and streamed objective reads through, and the
//! [`StreamStats`] a full pass learns.

use super::DataSource;
use super::prefetch::read_ahead;
use crate::backend::CHUNK;
use crate::data::{DataSummary, FitData, NanPolicy};
use crate::error::FitError;
use std::borrow::Cow;
use std::ops::Range;

/// What a full pass learned about the data: counts, and the mean and spread of `y` (merged
/// chunk by chunk with Chan's update, so no `N`-sized array is ever formed).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StreamStats {
    /// Points fitted.
    pub n: u64,
    /// Points dropped as non-finite (`NanPolicy::Omit`).
    pub omitted: u64,
    /// Chunks per pass.
    pub chunks: u64,
    /// Mean of `y` over the fitted points.
    pub mean_y: f64,
    /// `Σ (y − ȳ)²` over the fitted points.
    pub sst: f64,
}

impl StreamStats {
    fn add_chunk(&mut self, y: &[f64], omitted: usize) {
        self.chunks += 1;
        self.omitted += omitted as u64;
        if y.is_empty() {
            return;
        }
        let nb = y.len() as f64;
        let mean_b = y.iter().sum::<f64>() / nb;
        let m2_b: f64 = y.iter().map(|v| (v - mean_b) * (v - mean_b)).sum();
        let na = self.n as f64;
        let n = na + nb;
        let delta = mean_b - self.mean_y;
        self.mean_y += delta * nb / n;
        self.sst += m2_b + delta * delta * na * nb / n;
        self.n += y.len() as u64;
    }

    /// The sizes and spread the result statistics need.
    pub fn summary(&self) -> DataSummary {
        DataSummary {
            n: self.n as usize,
            omitted: self.omitted as usize,
            mean_y: self.mean_y,
            sst: self.sst,
        }
    }
}

/// Reads a source pass after pass, validating each chunk as in-memory data is validated
/// (lengths, finite sigma, non-finite `x`/`y` by the `nan_policy`, errors naming the point's
/// index in the whole source) and checking that every pass sees the same data.
pub struct ChunkReader<'s> {
    source: &'s mut dyn DataSource,
    policy: NanPolicy,
    chunk_points: usize,
    stats: Option<StreamStats>,
    passes: u64,
    aligned: bool,
}

impl<'s> ChunkReader<'s> {
    /// Hands over the source's chunks as they come, without re-cutting them at [`CHUNK`]
    /// boundaries (for the online mode, where a pass is not repeated).
    pub fn unaligned(mut self) -> Self {
        self.aligned = false;
        self
    }

    /// A reader of `source` in chunks of `chunk_points` points.
    pub fn new(source: &'s mut dyn DataSource, policy: NanPolicy, chunk_points: usize) -> Self {
        ChunkReader {
            source,
            policy,
            chunk_points: chunk_points.max(1),
            stats: None,
            passes: 0,
            aligned: true,
        }
    }

    /// The statistics of the first complete pass.
    pub fn stats(&self) -> Option<&StreamStats> {
        self.stats.as_ref()
    }

    /// Complete passes so far.
    pub fn passes(&self) -> u64 {
        self.passes
    }

    /// Points per chunk.
    pub fn chunk_points(&self) -> usize {
        self.chunk_points
    }

    /// Whether the source's chunks carry sigma (the data is weighted).
    pub fn has_sigma(&self) -> bool {
        self.source.has_sigma()
    }

    /// The source's name.
    pub fn origin(&self) -> String {
        self.source.origin()
    }

    /// One pass: `f(data, start)` for consecutive pieces of the validated data in order,
    /// `start` being the index of the piece's first point among the fitted points (its index
    /// in the source when nothing was omitted). Unless [`ChunkReader::unaligned`], whatever the
    /// source's chunk sizes, every piece
    /// but the last is a multiple of [`CHUNK`] points and starts at a multiple of [`CHUNK`]:
    /// the CPU backend then adds exactly the per-chunk rows the in-memory pass adds, in the
    /// same order, so a streamed pass has the in-memory pass's bits.
    pub fn pass(
        &mut self,
        mut f: impl FnMut(&FitData<'_>, u64) -> Result<(), FitError>,
    ) -> Result<StreamStats, FitError> {
        let origin = self.source.origin();
        if self.passes > 0 && !self.source.reiterable() {
            return Err(FitError::NotReiterable {
                origin,
                reason: "this fit needs another pass over a source that can be read once".into(),
            });
        }
        self.source.rewind()?;
        let k = self.source.n_inputs();
        let mut stats = StreamStats::default();
        let mut start = 0u64;
        let mut pending = Pending::new(k, self.source.has_sigma());
        let (policy, aligned) = (self.policy, self.aligned);
        read_ahead(&mut *self.source, self.chunk_points, |c| {
            c.check_lengths(&origin)?;
            if let Some(s) = &c.sigma
                && let Some(i) = s.iter().position(|v| !(v.is_finite() && *v > 0.0))
            {
                return Err(FitError::BadSigma(format!(
                    "sigma[{}] = {}: standard deviations must be positive and finite",
                    start + i as u64,
                    s[i]
                )));
            }
            let cols: Vec<&[f64]> = c.x.iter().map(|v| v.as_slice()).collect();
            let data = match FitData::new(cols, &c.y, c.sigma.as_deref(), policy, k) {
                Ok(d) => d,
                Err(FitError::NonFiniteData { what, index, value }) => {
                    return Err(FitError::NonFiniteData {
                        what,
                        index: index + start as usize,
                        value,
                    });
                }
                Err(e) => return Err(e),
            };
            let fitted_before = stats.n;
            stats.add_chunk(&data.y, data.omitted);
            start += c.len() as u64;
            if !aligned {
                if !data.is_empty() {
                    f(&data, fitted_before)?;
                }
                return Ok(());
            }
            // Complete a pending partial chunk first, then hand over the aligned middle in
            // place, and keep the tail for the next chunk.
            let n = data.len();
            let mut off = 0;
            if !pending.is_empty() {
                off = (CHUNK - pending.len()).min(n);
                pending.extend(&data, 0..off);
                if pending.len() == CHUNK {
                    f(&pending.data(), fitted_before - (CHUNK - off) as u64)?;
                    pending.clear();
                }
            }
            if pending.is_empty() && off < n {
                let whole = (n - off) / CHUNK * CHUNK;
                if whole > 0 {
                    f(
                        &slice_data(&data, off..off + whole),
                        fitted_before + off as u64,
                    )?;
                }
                pending.extend(&data, off + whole..n);
            }
            Ok(())
        })?;
        if !pending.is_empty() {
            f(&pending.data(), stats.n - pending.len() as u64)?;
        }
        if stats.n == 0 {
            return Err(FitError::EmptyData);
        }
        if let Some(first) = &self.stats
            && (first.n, first.omitted) != (stats.n, stats.omitted)
        {
            return Err(FitError::NotReiterable {
                origin,
                reason: format!(
                    "a later pass read {} points ({} omitted), the first {} ({} omitted): the data changed between passes",
                    stats.n, stats.omitted, first.n, first.omitted
                ),
            });
        }
        self.stats.get_or_insert(stats);
        self.passes += 1;
        Ok(stats)
    }
}

/// Validated points waiting to complete a [`CHUNK`].
struct Pending {
    x: Vec<Vec<f64>>,
    y: Vec<f64>,
    w: Option<Vec<f64>>,
}

impl Pending {
    fn new(k: usize, weighted: bool) -> Self {
        Pending {
            x: vec![Vec::with_capacity(CHUNK); k],
            y: Vec::with_capacity(CHUNK),
            w: weighted.then(|| Vec::with_capacity(CHUNK)),
        }
    }

    fn len(&self) -> usize {
        self.y.len()
    }

    fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    fn clear(&mut self) {
        self.x.iter_mut().for_each(Vec::clear);
        self.y.clear();
        if let Some(w) = &mut self.w {
            w.clear();
        }
    }

    fn extend(&mut self, data: &FitData<'_>, r: Range<usize>) {
        for (dst, src) in self.x.iter_mut().zip(&data.x) {
            dst.extend_from_slice(&src[r.clone()]);
        }
        self.y.extend_from_slice(&data.y[r.clone()]);
        if let (Some(dst), Some(src)) = (&mut self.w, &data.weights) {
            dst.extend_from_slice(&src[r]);
        }
    }

    fn data(&self) -> FitData<'_> {
        FitData {
            x: self.x.iter().map(|c| Cow::Borrowed(c.as_slice())).collect(),
            y: Cow::Borrowed(&self.y),
            weights: self.w.clone(),
            omitted: 0,
        }
    }
}

/// Points `r` of `data`, borrowed (weights copied).
fn slice_data<'d>(data: &'d FitData<'_>, r: Range<usize>) -> FitData<'d> {
    if r.start == 0 && r.end == data.len() {
        return FitData {
            x: data.x.iter().map(|c| Cow::Borrowed(&c[..])).collect(),
            y: Cow::Borrowed(&data.y[..]),
            weights: data.weights.clone(),
            omitted: 0,
        };
    }
    FitData {
        x: data
            .x
            .iter()
            .map(|c| Cow::Borrowed(&c[r.clone()]))
            .collect(),
        y: Cow::Borrowed(&data.y[r.clone()]),
        weights: data.weights.as_ref().map(|w| w[r].to_vec()),
        omitted: 0,
    }
}
