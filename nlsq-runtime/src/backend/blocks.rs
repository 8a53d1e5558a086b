//! Data in blocks of points for a model's block functions. The CPU evaluations outside the
//! fixed-size pass (the checked pass, residuals, sums of squares, the first-non-finite search,
//! the whitened objective) walk their points through here, so a model given at run time runs
//! on its block tapes on every path, and a `#[model]` computes the same bits on every path.

use crate::block::BLOCK;
use crate::data::FitData;
use crate::model::Model;
use std::ops::Range;

/// Calls `f(start, len, x)` for the blocks of points `range` of the predictor columns `cols`,
/// in order: `x[k][i]` is predictor `k` of point `start + i` for `i < len`; a last, shorter
/// block repeats its last point in the lanes past `len`.
pub(crate) fn for_each_block<C: AsRef<[f64]>>(
    cols: &[C],
    range: Range<usize>,
    mut f: impl FnMut(usize, usize, &[&[f64; BLOCK]]),
) {
    if range.is_empty() {
        return;
    }
    let full_end = range.start + range.len() / BLOCK * BLOCK;
    let tail: Vec<[f64; BLOCK]> = if full_end < range.end {
        cols.iter()
            .map(|c| padded(&c.as_ref()[full_end..range.end]))
            .collect()
    } else {
        Vec::new()
    };
    let unused = [0.0; BLOCK];
    let mut x: Vec<&[f64; BLOCK]> = vec![&unused; cols.len()];
    for start in (range.start..full_end).step_by(BLOCK) {
        for (xk, c) in x.iter_mut().zip(cols) {
            *xk = c.as_ref()[start..start + BLOCK]
                .try_into()
                .expect("a whole block lies inside the range");
        }
        f(start, BLOCK, &x);
    }
    if !tail.is_empty() {
        for (xk, c) in x.iter_mut().zip(&tail) {
            *xk = c;
        }
        f(full_end, range.end - full_end, &x);
    }
}

/// `src` (1 to `BLOCK` values) padded to a block by repeating its last value.
pub(crate) fn padded(src: &[f64]) -> [f64; BLOCK] {
    let mut out = [0.0; BLOCK];
    out[..src.len()].copy_from_slice(src);
    if let Some(&last) = src.last() {
        out[src.len()..].fill(last);
    }
    out
}

/// Calls `f(i, value)` for every point `i` of `range` in order, with the model's value there.
pub(crate) fn for_each_value<M: Model + ?Sized>(
    model: &M,
    data: &FitData<'_>,
    p: &[f64],
    range: Range<usize>,
    mut f: impl FnMut(usize, f64),
) {
    let mut value = [0.0; BLOCK];
    for_each_block(&data.x, range, |start, len, x| {
        model.eval_block(x, p, &mut value);
        for (i, &v) in value[..len].iter().enumerate() {
            f(start + i, v);
        }
    });
}

/// Calls `f(i, value, gradient)` for every point `i` of `range` in order, with the model's
/// value and gradient there (`gradient.len() == P`; `f` may overwrite it).
pub(crate) fn for_each_gradient<M: Model + ?Sized>(
    model: &M,
    data: &FitData<'_>,
    p: &[f64],
    range: Range<usize>,
    mut f: impl FnMut(usize, f64, &mut [f64]),
) {
    let mut value = [0.0; BLOCK];
    let mut grad = vec![[0.0; BLOCK]; p.len()];
    let mut g = vec![0.0; p.len()];
    for_each_block(&data.x, range, |start, len, x| {
        model.eval_with_gradient_block(x, p, &mut value, &mut grad);
        for (i, &v) in value[..len].iter().enumerate() {
            for (gj, col) in g.iter_mut().zip(&grad) {
                *gj = col[i];
            }
            f(start + i, v, &mut g);
        }
    });
}

/// The predictors of one small problem (a batch fit) in padded blocks, kept for its repeated
/// evaluations and reused while the next problem shares the same predictors.
#[derive(Debug, Default)]
pub(crate) struct PointBlocks {
    /// Block `b`'s predictor `k` at `b * K + k`.
    blocks: Vec<[f64; BLOCK]>,
    k: usize,
    n: usize,
    /// Address and length of the predictors the blocks hold (`None`: the point index).
    source: Option<(usize, usize)>,
    loaded: bool,
}

impl PointBlocks {
    /// Holds `n` points of `k` predictors: `x` point-major (`n * k` values), or the point index
    /// as the one predictor when `x` is `None`. Reuses the blocks when `x` is the slice they
    /// were made from (the caller does not change it meanwhile).
    pub(crate) fn load(&mut self, x: Option<&[f64]>, k: usize, n: usize) {
        let source = x.map(|x| (x.as_ptr() as usize, x.len()));
        if self.loaded && (self.source, self.k, self.n) == (source, k, n) {
            return;
        }
        self.blocks.clear();
        for start in (0..n).step_by(BLOCK) {
            for kk in 0..k {
                let mut b = [0.0; BLOCK];
                for (i, v) in b.iter_mut().enumerate() {
                    let at = (start + i).min(n - 1);
                    *v = x.map_or(at as f64, |x| x[at * k + kk]);
                }
                self.blocks.push(b);
            }
        }
        (self.source, self.k, self.n, self.loaded) = (source, k, n, true);
    }

    /// Calls `f(start, len, x)` for each block, as [`for_each_block`] does.
    pub(crate) fn for_each(&self, mut f: impl FnMut(usize, usize, &[&[f64; BLOCK]])) {
        let unused = [0.0; BLOCK];
        let mut x: [&[f64; BLOCK]; 8] = [&unused; 8];
        let mut wide: Vec<&[f64; BLOCK]> = Vec::new();
        for (b, cols) in self.blocks.chunks(self.k.max(1)).enumerate() {
            let start = b * BLOCK;
            let len = (self.n - start).min(BLOCK);
            if self.k <= x.len() {
                for (xk, c) in x.iter_mut().zip(cols) {
                    *xk = c;
                }
                f(start, len, &x[..self.k]);
            } else {
                wide.clear();
                wide.extend(cols);
                f(start, len, &wide);
            }
        }
    }
}
