//! The CPU backend: the model's compiled Rust value-and-gradient, in parallel over fixed
//! chunks of points, with per-chunk sums added in chunk order, so a pass gives bit-identical
//! results run after run and whatever the number of threads.

use super::{blocks, cpu_block};
pub use crate::block::Simd;
use crate::data::FitData;
use crate::error::FitError;
use crate::loss::Loss;
use crate::model::Model;
use crate::solve::{Objective, Pass};
use kernels_gen::kernels::abi;
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

/// Points per chunk: the unit of parallel work and of the fixed summation order.
pub const CHUNK: usize = 4096;

/// Passes over fewer chunks than this stay on the calling thread when it is not one of the
/// pool's (see [`crate::pool`]).
pub const SERIAL_BELOW_CHUNKS: usize = 8;

/// (chunk, vector) items of a pass evaluated before their rows are added to the totals: bounds
/// the partial rows a pass holds at once, whatever the data's size and the number of vectors.
pub const WINDOW_ITEMS: usize = 1024;

/// Whether a pass over `items` work items (chunks, or chunk and vector pairs) spreads over the
/// pool's threads: from two items on a worker thread (see [`crate::pool`]), from
/// [`SERIAL_BELOW_CHUNKS`] elsewhere, and never in a one-thread pool.
pub(crate) fn spread(items: usize) -> bool {
    let from = match rayon::current_thread_index() {
        Some(_) => 2,
        None => SERIAL_BELOW_CHUNKS,
    };
    items >= from && rayon::current_num_threads() > 1
}

/// Largest parameter count served by the fixed-size fast path.
pub const FAST_MAX_P: usize = 8;

/// Passes over in-memory data on the CPU.
pub struct CpuBackend<'d, M: Model> {
    model: M,
    data: &'d FitData<'d>,
    loss: Loss,
    f_scale: f64,
    simd: Simd,
}

impl<'d, M: Model> CpuBackend<'d, M> {
    /// A backend for `model` over `data` with a robust `loss` of scale `f_scale`.
    pub fn new(model: M, data: &'d FitData<'d>, loss: Loss, f_scale: f64) -> Self {
        CpuBackend {
            model,
            data,
            loss,
            f_scale,
            simd: Simd::Auto.resolve(),
        }
    }

    /// Uses the vector instructions `simd` (resolved against the processor) instead of the
    /// widest available. Every choice gives the same bits; this is for tests and diagnosis.
    pub fn with_simd(mut self, simd: Simd) -> Self {
        self.simd = simd.resolve();
        self
    }

    /// The vector instructions this backend's passes use.
    pub fn simd(&self) -> Simd {
        self.simd
    }

    /// The reduction row (kernel ABI layout) of points `range`: the fixed-size fast path for
    /// up to [`FAST_MAX_P`] parameters, the general path otherwise.
    fn chunk_row(&self, p: &[f64], range: std::ops::Range<usize>) -> Vec<f64> {
        let weighted = self.data.weights.is_some();
        let linear = self.loss == Loss::Linear;
        macro_rules! fast {
            ($p:literal) => {
                match (weighted, linear) {
                    (false, true) => self.chunk_fast::<$p, false, true>(p, range),
                    (true, true) => self.chunk_fast::<$p, true, true>(p, range),
                    (false, false) => self.chunk_fast::<$p, false, false>(p, range),
                    (true, false) => self.chunk_fast::<$p, true, false>(p, range),
                }
            };
        }
        match p.len() {
            1 => fast!(1),
            2 => fast!(2),
            3 => fast!(3),
            4 => fast!(4),
            5 => fast!(5),
            6 => fast!(6),
            7 => fast!(7),
            8 => fast!(8),
            _ => self.chunk_checked(p, range),
        }
    }

    /// Fixed `P` (and weighting and loss known at compile time): the model's block function in
    /// vector registers ([`super::cpu_block`]), no per-point finiteness test. A non-finite value
    /// anywhere makes some sum non-finite; the chunk is then redone by
    /// [`Self::chunk_checked`], which skips and counts such points.
    fn chunk_fast<const P: usize, const WEIGHTED: bool, const LINEAR: bool>(
        &self,
        p: &[f64],
        range: std::ops::Range<usize>,
    ) -> Vec<f64> {
        let k = self.data.n_inputs();
        if k > 8 || range.is_empty() {
            return self.chunk_checked(p, range);
        }
        let mut cols: [&[f64]; 8] = [&[]; 8];
        for (c, col) in self.data.x.iter().enumerate() {
            cols[c] = &col[range.clone()];
        }
        let chunk = cpu_block::Chunk {
            x: &cols[..k],
            y: &self.data.y[range.clone()],
            w: match (&self.data.weights, WEIGHTED) {
                (Some(w), true) => &w[range.clone()],
                _ => &[],
            },
        };
        let setup = cpu_block::Setup {
            model: &self.model,
            p,
            loss: self.loss,
            f_scale: self.f_scale,
        };
        let row = cpu_block::row::<M, P, WEIGHTED, LINEAR>(&setup, &chunk, self.simd);
        if row.iter().all(|v| v.is_finite()) {
            row
        } else {
            self.chunk_checked(p, range)
        }
    }

    /// Any `P`, with every point tested: non-finite residuals or gradients are skipped and
    /// counted. The model is still evaluated a block at a time.
    fn chunk_checked(&self, p: &[f64], range: std::ops::Range<usize>) -> Vec<f64> {
        let mut row = vec![0.0; abi::reduction_width(p.len())];
        blocks::for_each_gradient(&self.model, self.data, p, range, |i, f, g| {
            let w = self.data.weight(i);
            for v in g.iter_mut() {
                *v *= w;
            }
            accumulate_point(
                &mut row,
                (f - self.data.y[i]) * w,
                g,
                self.loss,
                self.f_scale,
            );
        });
        row
    }

    /// The whole reduction row at `p`, summed over chunks in order.
    pub fn row(&self, p: &[f64]) -> Vec<f64> {
        let mut total = vec![0.0; abi::reduction_width(p.len())];
        self.add_rows(p, &mut total);
        total
    }

    /// Adds the reduction rows of this data's [`CHUNK`]-point chunks at `p` to `total`, one
    /// after the other in chunk order. A chunked or streamed pass whose pieces are multiples
    /// of [`CHUNK`] points, added into one running `total`, performs exactly the additions of
    /// the in-memory pass: the same bits.
    pub fn add_rows(&self, p: &[f64], total: &mut [f64]) {
        self.add_rows_k(&[p], &mut [total]);
    }

    /// The reduction rows of this data's [`CHUNK`]-point chunks at `p`, in chunk order.
    pub(crate) fn rows(&self, p: &[f64]) -> Vec<Vec<f64>> {
        let n = self.data.len();
        let chunks = n.div_ceil(CHUNK);
        let chunk = |c: usize| self.chunk_row(p, c * CHUNK..((c + 1) * CHUNK).min(n));
        // Few chunks off the pool, or a one-thread pool: stay on this thread (see
        // `crate::pool`). Same chunks, same order: the same bits either way.
        if spread(chunks) {
            (0..chunks).into_par_iter().map(chunk).collect()
        } else {
            (0..chunks).map(chunk).collect()
        }
    }

    /// The K-vector pass: adds the reduction rows at each of `ps` to `totals[k]`
    /// (`totals.len() == ps.len()`), in one walk of the data. The work items are the
    /// ([`CHUNK`], vector) pairs in chunk-major order, so consecutive items (which one thread
    /// takes together) evaluate one chunk of points, read from memory once, at successive
    /// vectors while it is in cache; with fewer chunks than threads the K vectors still spread
    /// over the threads. Spread over threads, items run [`WINDOW_ITEMS`] at a time (the partial
    /// rows held at once); on one thread each row is added as it comes. Each vector's chunk
    /// rows are added in chunk order, so `totals[k]` gets exactly the
    /// additions of [`Self::add_rows`] at `ps[k]`: the same bits, whatever the threads.
    /// [`add_rows`](Self::add_rows) is this pass with K = 1.
    pub fn add_rows_k(&self, ps: &[&[f64]], totals: &mut [&mut [f64]]) {
        let k = ps.len();
        let n = self.data.len();
        let items = n.div_ceil(CHUNK) * k;
        let item = |i: usize| {
            let c = i / k;
            self.chunk_row(ps[i % k], c * CHUNK..((c + 1) * CHUNK).min(n))
        };
        // Few items off the pool, or a one-thread pool: stay on this thread (see
        // `crate::pool`). The same items, added in the same order: the same bits either way.
        let mut add = |i: usize, r: &[f64]| {
            for (t, v) in totals[i % k].iter_mut().zip(r) {
                *t += v;
            }
        };
        if !spread(items) {
            for i in 0..items {
                add(i, &item(i));
            }
            return;
        }
        for start in (0..items).step_by(WINDOW_ITEMS) {
            let window = start..(start + WINDOW_ITEMS).min(items);
            let rows: Vec<Vec<f64>> = window.clone().into_par_iter().map(item).collect();
            for (i, r) in window.zip(&rows) {
                add(i, r);
            }
        }
    }

    /// The reduction rows at each of `ps` (the K-vector form of [`Self::row`]).
    pub fn rows_k(&self, ps: &[&[f64]]) -> Vec<Vec<f64>> {
        let mut totals: Vec<Vec<f64>> = ps
            .iter()
            .map(|p| vec![0.0; abi::reduction_width(p.len())])
            .collect();
        let mut views: Vec<&mut [f64]> = totals.iter_mut().map(|t| t.as_mut_slice()).collect();
        self.add_rows_k(ps, &mut views);
        totals
    }

    /// `Σ (y_i − f(x_i; p))²`, unweighted.
    pub fn unweighted_ssr(&self, p: &[f64]) -> f64 {
        let n = self.data.len();
        let parts: Vec<f64> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut sum = 0.0;
                let range = c * CHUNK..((c + 1) * CHUNK).min(n);
                blocks::for_each_value(&self.model, self.data, p, range, |i, f| {
                    let r = self.data.y[i] - f;
                    sum += r * r;
                });
                sum
            })
            .collect();
        parts.iter().sum()
    }

    /// Weighted residuals `w_i (f(x_i; p) − y_i)` of every point.
    pub fn residuals(&self, p: &[f64]) -> Vec<f64> {
        let mut r = Vec::with_capacity(self.data.len());
        blocks::for_each_value(&self.model, self.data, p, 0..self.data.len(), |i, f| {
            r.push((f - self.data.y[i]) * self.data.weight(i));
        });
        r
    }
}

/// Adds one point to a reduction row (kernel ABI layout), as the kernels do: a non-finite
/// residual or Jacobian row is counted and skipped; otherwise the robust loss scales the row
/// `jac` (overwritten) and the residual, and the cost, `JᵀJ` and `Jᵀr` entries grow.
pub fn accumulate_point(row: &mut [f64], r: f64, jac: &mut [f64], loss: Loss, f_scale: f64) {
    let np = jac.len();
    if !r.is_finite() || jac.iter().any(|v| !v.is_finite()) {
        row[abi::nonfinite_index(np)] += 1.0;
        return;
    }
    let (rho, s, rs) = loss.scale(f_scale, r);
    for v in jac.iter_mut() {
        *v *= s;
    }
    row[0] += rho;
    let t = np * (np + 1) / 2;
    let mut e = 1;
    for j in 0..np {
        let gj = jac[j];
        for gk in &jac[j..] {
            row[e] += gj * gk;
            e += 1;
        }
        row[1 + t + j] += gj * rs;
    }
    row[abi::count_index(np)] += 1.0;
}

/// Index of the first point where the model's value or gradient is not finite at `p`.
pub(crate) fn first_nonfinite<M: Model>(model: &M, data: &FitData<'_>, p: &[f64]) -> Option<usize> {
    let mut first = None;
    blocks::for_each_gradient(model, data, p, 0..data.len(), |i, f, g| {
        if first.is_none() && (!f.is_finite() || g.iter().any(|v| !v.is_finite())) {
            first = Some(i);
        }
    });
    first
}

/// Unpacks a reduction row (kernel ABI layout) into a [`Pass`].
pub(crate) fn pass_from_row(np: usize, row: &[f64]) -> Pass {
    let t = np * (np + 1) / 2;
    let mut jtj = DMatrix::zeros(np, np);
    let mut e = 1;
    for j in 0..np {
        for k in j..np {
            jtj[(j, k)] = row[e];
            jtj[(k, j)] = row[e];
            e += 1;
        }
    }
    let gradient = DVector::from_iterator(np, row[1 + t..1 + t + np].iter().copied());
    let n_nonfinite = row[abi::nonfinite_index(np)] as u64;
    Pass {
        cost: if n_nonfinite > 0 {
            f64::INFINITY
        } else {
            0.5 * row[0]
        },
        jtj,
        gradient,
        n_points: row[abi::count_index(np)] as u64,
        n_nonfinite,
    }
}

impl<M: Model> Objective for CpuBackend<'_, M> {
    fn n_params(&self) -> usize {
        self.model.n_params()
    }

    fn pass(&mut self, p: &[f64]) -> Result<Pass, FitError> {
        Ok(pass_from_row(p.len(), &self.row(p)))
    }

    fn chunk_rows(&mut self, p: &[f64]) -> Option<Result<Vec<Vec<f64>>, FitError>> {
        Some(Ok(self.rows(p)))
    }

    /// The K-vector pass ([`CpuBackend::add_rows_k`]): one read of the data for all of `ps`.
    fn passes(&mut self, ps: &[&[f64]]) -> Result<Vec<Pass>, FitError> {
        Ok(self
            .rows_k(ps)
            .iter()
            .zip(ps)
            .map(|(row, p)| pass_from_row(p.len(), row))
            .collect())
    }

    /// The costs of the K-vector pass: screening costs what a full pass costs on the CPU,
    /// whose vectorized path outruns a value-only walk with its per-point loss, and gives the
    /// pass's own cost bits.
    fn costs(&mut self, ps: &[&[f64]]) -> Result<Vec<f64>, FitError> {
        Ok(self.passes(ps)?.into_iter().map(|p| p.cost).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExprModel;
    use crate::data::NanPolicy;
    use crate::solve::dense::DenseObjective;

    fn synthetic(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let x: Vec<f64> = (0..n).map(|i| i as f64 * 4.0 / n as f64).collect();
        let y: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, x)| 2.0 * (-0.7 * x).exp() + 0.3 + 0.05 * ((i * 7919 % 13) as f64 - 6.0))
            .collect();
        let s: Vec<f64> = (0..n).map(|i| 0.5 + (i % 5) as f64 * 0.1).collect();
        (x, y, s)
    }

    #[test]
    fn pass_equals_dense_normal_equations() {
        let (x, y, s) = synthetic(10_000);
        let m = ExprModel::parse("a * exp(-b * x) + c").unwrap();
        let data = FitData::new(vec![&x], &y, Some(&s), NanPolicy::Raise, 1).unwrap();
        let p = [1.8, 0.6, 0.2];
        let mut cpu = CpuBackend::new(&m, &data, Loss::Linear, 1.0);
        let got = cpu.pass(&p).unwrap();
        let mut dense = DenseObjective::new(3, |p: &[f64]| {
            let n = x.len();
            let mut r = DVector::zeros(n);
            let mut j = DMatrix::zeros(n, 3);
            for i in 0..n {
                let e = (-p[1] * x[i]).exp();
                let w = 1.0 / s[i];
                r[i] = (p[0] * e + p[2] - y[i]) * w;
                j[(i, 0)] = e * w;
                j[(i, 1)] = -p[0] * x[i] * e * w;
                j[(i, 2)] = w;
            }
            (r, j)
        });
        let want = dense.pass(&p).unwrap();
        assert!((got.cost - want.cost).abs() < 1e-12 * want.cost);
        assert!((&got.jtj - &want.jtj).norm() < 1e-12 * want.jtj.norm());
        assert!((&got.gradient - &want.gradient).norm() < 1e-10 * want.gradient.norm());
        assert_eq!(got.n_points, 10_000);
    }

    #[test]
    fn pass_is_bit_identical_across_thread_counts() {
        let (x, y, _) = synthetic(50_000);
        let m = ExprModel::parse("a * exp(-b * x) + c").unwrap();
        let data = FitData::new(vec![&x], &y, None, NanPolicy::Raise, 1).unwrap();
        let p = [1.8, 0.6, 0.2];
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| CpuBackend::new(&m, &data, Loss::Huber, 0.1).row(&p))
        };
        let a = run(1);
        let b = run(2);
        let c = run(2);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(bits(&b), bits(&c));
    }

    #[test]
    fn robust_gradient_is_the_gradient_of_the_robust_cost() {
        let (x, y, _) = synthetic(2_000);
        let m = ExprModel::parse("a * exp(-b * x) + c").unwrap();
        let data = FitData::new(vec![&x], &y, None, NanPolicy::Raise, 1).unwrap();
        for loss in Loss::ALL {
            let mut cpu = CpuBackend::new(&m, &data, loss, 0.05);
            let p = [1.9, 0.65, 0.25];
            let pass = cpu.pass(&p).unwrap();
            for j in 0..3 {
                let h = 1e-6;
                let mut hi = p;
                let mut lo = p;
                hi[j] += h;
                lo[j] -= h;
                let fd = (cpu.pass(&hi).unwrap().cost - cpu.pass(&lo).unwrap().cost) / (2.0 * h);
                let g = pass.gradient[j];
                assert!(
                    (g - fd).abs() < 1e-6 * (1.0 + g.abs()),
                    "{loss}: d/dp{j} {g} vs {fd}"
                );
            }
        }
    }

    #[test]
    fn non_finite_model_values_are_counted() {
        let x = [1.0, -1.0, 2.0];
        let y = [0.0, 0.0, 0.0];
        let m = ExprModel::parse("a * ln(x)").unwrap();
        let data = FitData::new(vec![&x], &y, None, NanPolicy::Raise, 1).unwrap();
        let mut cpu = CpuBackend::new(&m, &data, Loss::Linear, 1.0);
        let pass = cpu.pass(&[1.0]).unwrap();
        assert_eq!((pass.n_nonfinite, pass.n_points), (1, 2));
        assert!(pass.cost.is_infinite());
        assert_eq!(first_nonfinite(&m, &data, &[1.0]), Some(1));
    }
}
