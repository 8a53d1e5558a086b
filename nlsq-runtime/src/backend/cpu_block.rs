//! The CPU pass's fast path: the model's block function (`#[model]` emits one, see
//! [`crate::block`]) over [`BLOCK`] points at a time, then sums over [`LANES`] accumulators
//! per entry, compiled three times — for AVX-512, for AVX2 and for the baseline — and chosen at
//! run time by what the processor has.
//!
//! The three builds perform the same IEEE operations in the same order (no fused
//! multiply-adds: Rust never contracts `a * b + c`), so they give the same bits; the choice only
//! changes how many points one instruction handles.

#![allow(clippy::needless_range_loop)] // lane loops index several arrays at once

use super::blocks::padded;
use crate::block::{BLOCK, Simd, TapeSession};
use crate::loss::Loss;
use crate::model::Model;
use kernels_gen::kernels::abi;

/// Accumulators per sum: one per vector lane of the widest instruction set used (AVX-512).
const LANES: usize = 8;

/// One chunk of points for the fast path.
pub(crate) struct Chunk<'c> {
    /// Predictor columns over the chunk (`1 <= K <= 8`).
    pub x: &'c [&'c [f64]],
    /// Observations over the chunk (at least one).
    pub y: &'c [f64],
    /// Weights over the chunk (empty when unweighted).
    pub w: &'c [f64],
}

/// What the fast path needs to know about the fit besides the data.
pub(crate) struct Setup<'s, M> {
    pub model: &'s M,
    pub p: &'s [f64],
    pub loss: Loss,
    pub f_scale: f64,
}

/// The chunk's reduction row (kernel ABI layout, count included, non-finite count zero).
/// Non-finite values are not tested per point: they make some sum non-finite, and the caller
/// then redoes the chunk on the checked path. `simd` must be [`Simd::resolve`]d.
pub(crate) fn row<M: Model, const P: usize, const WEIGHTED: bool, const LINEAR: bool>(
    setup: &Setup<'_, M>,
    chunk: &Chunk<'_>,
    simd: Simd,
) -> Vec<f64> {
    let (loss, f_scale) = (setup.loss, setup.f_scale);
    match setup.model.gradient_tape() {
        // The session is opened here, outside the instruction sets' functions: a closure does
        // not take on their target features, so it only calls one.
        Some((tape, tape_simd)) => tape.session(tape_simd, setup.p, |s| {
            row_of::<_, P, WEIGHTED, LINEAR>(s, loss, f_scale, chunk, simd)
        }),
        None => {
            let mut direct = Direct {
                model: setup.model,
                p: setup.p,
            };
            row_of::<_, P, WEIGHTED, LINEAR>(&mut direct, loss, f_scale, chunk, simd)
        }
    }
}

/// [`row`] with the blocks from `eval`, on the instruction set `simd`.
fn row_of<E: BlockEval, const P: usize, const WEIGHTED: bool, const LINEAR: bool>(
    eval: &mut E,
    loss: Loss,
    f_scale: f64,
    chunk: &Chunk<'_>,
    simd: Simd,
) -> Vec<f64> {
    match simd {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `resolve` chose AVX-512 only where the processor has AVX-512F, the only
        // feature the function enables.
        Simd::Avx512 => unsafe { row_avx512::<E, P, WEIGHTED, LINEAR>(eval, loss, f_scale, chunk) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, for AVX2.
        Simd::Avx2 => unsafe { row_avx2::<E, P, WEIGHTED, LINEAR>(eval, loss, f_scale, chunk) },
        _ => row_body::<Portable, E, P, WEIGHTED, LINEAR>(eval, loss, f_scale, chunk),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn row_avx512<E: BlockEval, const P: usize, const WEIGHTED: bool, const LINEAR: bool>(
    eval: &mut E,
    loss: Loss,
    f_scale: f64,
    chunk: &Chunk<'_>,
) -> Vec<f64> {
    row_body::<Avx512, E, P, WEIGHTED, LINEAR>(eval, loss, f_scale, chunk)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn row_avx2<E: BlockEval, const P: usize, const WEIGHTED: bool, const LINEAR: bool>(
    eval: &mut E,
    loss: Loss,
    f_scale: f64,
    chunk: &Chunk<'_>,
) -> Vec<f64> {
    row_body::<Avx2, E, P, WEIGHTED, LINEAR>(eval, loss, f_scale, chunk)
}

/// Per-lane sums of one chunk.
struct Sums<const P: usize> {
    cost: [f64; LANES],
    jtr: [[f64; LANES]; P],
    jtj: [[[f64; LANES]; P]; P],
}

/// `s[start..start + BLOCK]` as an array (the caller keeps it inside `s`).
#[inline(always)]
fn block(s: &[f64], start: usize) -> &[f64; BLOCK] {
    s[start..start + BLOCK]
        .try_into()
        .expect("a whole block lies inside the chunk")
}

/// Adds the first `valid` of `BLOCK` evaluated points (`MASKED`: fewer than all). `grad` is
/// scaled in place into the Jacobian rows.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn accumulate<
    I: Dot,
    const P: usize,
    const WEIGHTED: bool,
    const LINEAR: bool,
    const MASKED: bool,
>(
    sums: &mut Sums<P>,
    value: &[f64; BLOCK],
    grad: &mut [[f64; BLOCK]; P],
    y: &[f64; BLOCK],
    w: &[f64; BLOCK],
    valid: usize,
    loss: Loss,
    f_scale: f64,
) {
    // Element-wise passes over the block first (each one loop the compiler vectorizes) ...
    let mut r = [0.0; BLOCK];
    let mut cost = [0.0; BLOCK];
    for i in 0..BLOCK {
        r[i] = value[i] - y[i];
    }
    if WEIGHTED {
        for i in 0..BLOCK {
            r[i] *= w[i];
        }
    }
    if MASKED {
        r[valid..].fill(0.0);
    }
    if LINEAR {
        // The cost is Σ r², summed below as the dot product of r with itself.
        if WEIGHTED || MASKED {
            let mut s = *w;
            if MASKED {
                s[valid..].fill(0.0);
            }
            for g in grad.iter_mut() {
                for i in 0..BLOCK {
                    g[i] *= s[i];
                }
            }
        }
    } else {
        let mut s = [0.0; BLOCK];
        // One loop per loss, the loss a constant in each, so that the branch-free ones
        // (soft_l1, huber, cauchy's arithmetic) compile to vector code.
        let mut scale = |loss: Loss| {
            for i in 0..BLOCK {
                let (rho, sc, rs) = loss.scale(f_scale, r[i]);
                cost[i] = rho;
                s[i] = if WEIGHTED { w[i] * sc } else { sc };
                r[i] = rs;
            }
        };
        match loss {
            Loss::SoftL1 => scale(Loss::SoftL1),
            Loss::Huber => scale(Loss::Huber),
            Loss::Cauchy => scale(Loss::Cauchy),
            Loss::Arctan => scale(Loss::Arctan),
            Loss::Linear => scale(Loss::Linear),
        }
        if MASKED {
            cost[valid..].fill(0.0);
            s[valid..].fill(0.0);
        }
        for g in grad.iter_mut() {
            for i in 0..BLOCK {
                g[i] *= s[i];
            }
        }
    }
    // ... then the sums, `LANES` accumulators each (r · r rounds each r² and adds it, as
    // the cost's r² · 1 would).
    if LINEAR {
        I::dot(&mut sums.cost, &r, &r);
    } else {
        I::dot(&mut sums.cost, &cost, &[1.0; BLOCK]);
    }
    for a in 0..P {
        I::dot(&mut sums.jtr[a], &grad[a], &r);
        for c in a..P {
            I::dot(&mut sums.jtj[a][c], &grad[a], &grad[c]);
        }
    }
}

/// `acc[l] += Σ_b u[b·LANES + l] · v[b·LANES + l]`, in `b` order, for one instruction set.
/// Every implementation performs the same roundings in the same order.
trait Dot {
    /// See the trait.
    fn dot(acc: &mut [f64; LANES], u: &[f64; BLOCK], v: &[f64; BLOCK]);
}

/// Any processor.
struct Portable;

impl Dot for Portable {
    #[inline(always)]
    fn dot(acc: &mut [f64; LANES], u: &[f64; BLOCK], v: &[f64; BLOCK]) {
        for b in 0..BLOCK / LANES {
            for l in 0..LANES {
                acc[l] += u[b * LANES + l] * v[b * LANES + l];
            }
        }
    }
}

/// AVX-512F: one register per accumulator (only inlined into [`row_avx512`]).
#[cfg(target_arch = "x86_64")]
struct Avx512;

#[cfg(target_arch = "x86_64")]
impl Dot for Avx512 {
    #[inline(always)]
    fn dot(acc: &mut [f64; LANES], u: &[f64; BLOCK], v: &[f64; BLOCK]) {
        use std::arch::x86_64::*;
        // SAFETY: only reached from `row_avx512`, which runs when the processor has AVX-512F;
        // every load and store stays inside the arrays (BLOCK is a multiple of LANES = 8).
        unsafe {
            let mut a = _mm512_loadu_pd(acc.as_ptr());
            for b in (0..BLOCK).step_by(LANES) {
                let x = _mm512_loadu_pd(u.as_ptr().add(b));
                let y = _mm512_loadu_pd(v.as_ptr().add(b));
                a = _mm512_add_pd(a, _mm512_mul_pd(x, y));
            }
            _mm512_storeu_pd(acc.as_mut_ptr(), a);
        }
    }
}

/// AVX2: two registers per accumulator (only inlined into [`row_avx2`]).
#[cfg(target_arch = "x86_64")]
struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Dot for Avx2 {
    #[inline(always)]
    fn dot(acc: &mut [f64; LANES], u: &[f64; BLOCK], v: &[f64; BLOCK]) {
        use std::arch::x86_64::*;
        // SAFETY: only reached from `row_avx2`, which runs when the processor has AVX2 (and
        // so AVX); every load and store stays inside the arrays.
        unsafe {
            let mut lo = _mm256_loadu_pd(acc.as_ptr());
            let mut hi = _mm256_loadu_pd(acc.as_ptr().add(4));
            for b in (0..BLOCK).step_by(LANES) {
                let (x, y) = (u.as_ptr().add(b), v.as_ptr().add(b));
                lo = _mm256_add_pd(lo, _mm256_mul_pd(_mm256_loadu_pd(x), _mm256_loadu_pd(y)));
                hi = _mm256_add_pd(
                    hi,
                    _mm256_mul_pd(_mm256_loadu_pd(x.add(4)), _mm256_loadu_pd(y.add(4))),
                );
            }
            _mm256_storeu_pd(acc.as_mut_ptr(), lo);
            _mm256_storeu_pd(acc.as_mut_ptr().add(4), hi);
        }
    }
}

/// Values and gradients at a block of points.
trait BlockEval {
    fn eval(&mut self, x: &[&[f64; BLOCK]], value: &mut [f64; BLOCK], grad: &mut [[f64; BLOCK]]);
}

/// The model's block function at `p`.
struct Direct<'a, M> {
    model: &'a M,
    p: &'a [f64],
}

impl<M: Model> BlockEval for Direct<'_, M> {
    #[inline(always)]
    fn eval(&mut self, x: &[&[f64; BLOCK]], value: &mut [f64; BLOCK], grad: &mut [[f64; BLOCK]]) {
        self.model.eval_with_gradient_block(x, self.p, value, grad);
    }
}

/// A run-time model's tape, readied once for the chunk (the same bits as its block function).
impl BlockEval for TapeSession<'_> {
    #[inline(always)]
    fn eval(&mut self, x: &[&[f64; BLOCK]], value: &mut [f64; BLOCK], grad: &mut [[f64; BLOCK]]) {
        self.run(x, value, grad);
    }
}

#[inline(always)]
fn row_body<I: Dot, E: BlockEval, const P: usize, const WEIGHTED: bool, const LINEAR: bool>(
    eval: &mut E,
    loss: Loss,
    f_scale: f64,
    chunk: &Chunk<'_>,
) -> Vec<f64> {
    let n = chunk.y.len();
    let k = chunk.x.len();
    let mut sums = Sums::<P> {
        cost: [0.0; LANES],
        jtr: [[0.0; LANES]; P],
        jtj: [[[0.0; LANES]; P]; P],
    };
    let mut value = [0.0; BLOCK];
    let mut grad = [[0.0; BLOCK]; P];
    let ones = [1.0; BLOCK];
    let full = n / BLOCK * BLOCK;
    let mut xs: [&[f64; BLOCK]; 8] = [&ones; 8];
    for start in (0..full).step_by(BLOCK) {
        for (c, col) in chunk.x.iter().enumerate() {
            xs[c] = block(col, start);
        }
        eval.eval(&xs[..k], &mut value, &mut grad);
        let w = if WEIGHTED {
            block(chunk.w, start)
        } else {
            &ones
        };
        accumulate::<I, P, WEIGHTED, LINEAR, false>(
            &mut sums,
            &value,
            &mut grad,
            block(chunk.y, start),
            w,
            BLOCK,
            loss,
            f_scale,
        );
    }
    if full < n {
        // The last, shorter block: positions past the end repeat the last point, masked out.
        let mut cols = [[0.0; BLOCK]; 8];
        for (c, col) in chunk.x.iter().enumerate() {
            cols[c] = padded(&col[full..]);
        }
        for (c, col) in cols[..k].iter().enumerate() {
            xs[c] = col;
        }
        eval.eval(&xs[..k], &mut value, &mut grad);
        let w = if WEIGHTED {
            padded(&chunk.w[full..])
        } else {
            ones
        };
        accumulate::<I, P, WEIGHTED, LINEAR, true>(
            &mut sums,
            &value,
            &mut grad,
            &padded(&chunk.y[full..]),
            &w,
            n - full,
            loss,
            f_scale,
        );
    }
    let lane_sum = |v: &[f64; LANES]| v.iter().sum::<f64>();
    let mut row = vec![0.0; abi::reduction_width(P)];
    row[0] = lane_sum(&sums.cost);
    let mut e = 1;
    for a in 0..P {
        for c in a..P {
            row[e] = lane_sum(&sums.jtj[a][c]);
            e += 1;
        }
    }
    for a in 0..P {
        row[e + a] = lane_sum(&sums.jtr[a]);
    }
    row[abi::count_index(P)] = n as f64;
    row
}
