//! Running a [`BlockTape`]: the uniform program once, then each instruction as one loop over
//! the block's lanes, compiled for AVX-512, AVX2 and the baseline and chosen by [`Simd`].
//!
//! Each operation applies the function the code `#[model]` emits applies (see
//! [`kernels_gen::emit::rust`]): IEEE arithmetic, the block [`exp`] and [`ln`], the block
//! [`erf`] and [`erfc`] (`libm`'s, as the interpreter's), Rust's `f64` methods for the rest,
//! and `powi` by the binary powering LLVM and compiler-rt both use. The lane loops of
//! arithmetic, comparisons, selects, `exp`, `ln`, `sqrt`, `abs`, `min`, `max` and `powi`
//! vectorize; the other functions are one library call per lane, as in `#[model]`.

#![allow(clippy::needless_range_loop)] // lane loops index several arrays at once

use super::exp_lanes::exp_lanes;
use super::fused_loops::fused;
use super::loops::{Arg, Lane, Lanes, map1, map2, with_lanes};
use super::pair_loops::pair;
use super::tape::{BlockTape, Fill, Instr, Op, Src};
use super::{BLOCK, Simd, erf, erfc, exp, ln};
use kernels_gen::eval::apply_node;
use kernels_gen::ir::{BinaryOp, CmpOp, Node, UnaryOp, apply_unary};
use std::cell::RefCell;

/// Each thread's buffers, reused from call to call.
struct Scratch {
    slots: Vec<Lanes>,
    uniform: Vec<f64>,
    /// The run's table of blocks (see [`BlockTape`]): the slot entries stay while the same
    /// tape runs again; the outputs' and predictors' entries are rewritten by every run.
    table: Vec<*mut Lanes>,
    /// The [`BlockTape::id`] the table's slot entries and `uniform` belong to (0: none).
    tape: u64,
    /// The parameters `uniform` was computed at.
    p: Vec<f64>,
}

impl Scratch {
    /// No buffers yet, no tape.
    const fn new() -> Self {
        Scratch {
            slots: Vec::new(),
            uniform: Vec::new(),
            table: Vec::new(),
            tape: 0,
            p: Vec::new(),
        }
    }

    /// Readies the slot table and the uniform values for `tape` at `p`, recomputing only what
    /// changed since the last run on this thread: a pass runs one tape at one `p` over many
    /// blocks, and this set-up would otherwise cost as much as a short tape's instructions.
    fn prepare(&mut self, tape: &BlockTape, p: &[f64]) {
        if self.tape != tape.id {
            if self.slots.len() < tape.n_slots {
                self.slots.resize(tape.n_slots, [0.0; BLOCK]);
            }
            self.table.clear();
            let slots = self.slots[..tape.n_slots].iter_mut();
            self.table.extend(slots.map(|b| b as *mut Lanes));
            // The outputs' and predictors' entries, rewritten by every run.
            let rest = tape.n_outputs.max(1) + tape.n_inputs;
            self.table.resize(tape.n_slots + rest, std::ptr::null_mut());
            self.tape = tape.id;
            self.p.clear();
            tape.run_uniform(p, &mut self.uniform);
            self.p.extend_from_slice(p);
        } else if self.p.as_slice() != p {
            // NaN parameters compare unequal, so they are always recomputed (to NaN).
            tape.run_uniform(p, &mut self.uniform);
            self.p.clear();
            self.p.extend_from_slice(p);
        }
    }
}

thread_local! {
    // A constant initial value: no lazy initialisation to test on each block.
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch::new()) };
}

impl BlockTape {
    /// Evaluates the tape at [`BLOCK`] points: `x[k][i]` is predictor `k` of point `i`, `p` the
    /// parameters; output 0 goes to `first`, output `1 + j` to `rest[j]`. `simd` must be
    /// [`Simd::resolve`]d; every choice gives the same bits.
    ///
    /// # Panics
    /// If `x` has fewer columns than the model's predictors, `p` fewer parameters than it
    /// reads, or `rest` fewer blocks than the outputs after the first.
    pub fn run(&self, simd: Simd, x: &[&Lanes], p: &[f64], first: &mut Lanes, rest: &mut [Lanes]) {
        self.session(simd, p, |s| s.run(x, first, rest));
    }

    /// Readies the tape at `p` on this thread (its scratch, its values of the parameters
    /// alone) and lends it to `f`, which may then [`TapeSession::run`] it on block after block:
    /// the same bits as [`BlockTape::run`] on each, without its set-up per block. `f` must not
    /// run a tape itself (this thread's scratch is lent to the session: that would panic).
    #[inline(always)]
    pub(crate) fn session<R>(
        &self,
        simd: Simd,
        p: &[f64],
        f: impl FnOnce(&mut TapeSession<'_>) -> R,
    ) -> R {
        SCRATCH.with_borrow_mut(|scratch| {
            scratch.prepare(self, p);
            f(&mut TapeSession {
                tape: self,
                simd,
                scratch,
            })
        })
    }

    /// The uniform values at `p`, into `u`, with the block code's unary functions.
    fn run_uniform(&self, p: &[f64], u: &mut Vec<f64>) {
        u.clear();
        for &(node, [a, b, c]) in &self.uniform {
            // A leaf's indices are unused (and may point past the values so far).
            let args = [a, b, c].map(|i| u.get(i as usize).copied().unwrap_or(0.0));
            u.push(apply_node(node, args, &[], p, unary));
        }
    }

    /// # Safety
    /// `t` as in [`BlockTape::run`].
    unsafe fn run_instrs(&self, simd: Simd, t: &[*mut Lanes], u: &[f64]) {
        match simd {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `resolve` chose AVX-512 only where the processor has AVX-512F, the only
            // feature the function enables; `t` as the caller guarantees.
            Simd::Avx512 => unsafe { instrs_avx512(self, t, u) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above, for AVX2.
            Simd::Avx2 => unsafe { instrs_avx2(self, t, u) },
            // SAFETY: `t` as the caller guarantees.
            _ => unsafe { instrs(self, t, u) },
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn instrs_avx512(tape: &BlockTape, t: &[*mut Lanes], u: &[f64]) {
    // SAFETY: forwarded from the caller.
    unsafe { self::instrs(tape, t, u) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn instrs_avx2(tape: &BlockTape, t: &[*mut Lanes], u: &[f64]) {
    // SAFETY: forwarded from the caller.
    unsafe { self::instrs(tape, t, u) }
}

/// Runs `tape`'s instructions, then fills the outputs no instruction writes (here, so that
/// the fills' stores are as wide as the instructions').
///
/// # Safety
/// Every entry of `t` points to a live block no one else uses meanwhile, distinct entries
/// to distinct blocks; no instruction writes an entry it reads (the tape's invariant).
#[inline(always)]
unsafe fn instrs(tape: &BlockTape, t: &[*mut Lanes], u: &[f64]) {
    // SAFETY: forwarded from the caller.
    unsafe { run_each(&tape.instrs, t, u) };
    for &(o, fill) in &tape.fills {
        let dst = t[tape.n_slots + o as usize];
        match fill {
            // SAFETY: as the caller guarantees; a fill copies from a block other than its
            // own output.
            Fill::Copy(i) => unsafe { *dst = *t[i as usize] },
            // SAFETY: as above.
            Fill::Uniform(k) => unsafe { (*dst).fill(u[k as usize]) },
        }
    }
}

/// # Safety
/// As [`instrs`].
#[inline(always)]
unsafe fn run_each(instrs: &[Instr], t: &[*mut Lanes], u: &[f64]) {
    for ins in instrs {
        // SAFETY: the destination is a block no operand of this instruction points to.
        let out = unsafe { &mut *t[ins.dst as usize] };
        let r = Reader { t, u };
        match ins.op {
            Op::Splat(k) => out.fill(u[k as usize]),
            Op::Node(node, srcs) => step(node, out, &r, srcs),
            Op::Fused(f, [a, b, c]) => fused(f, out, r.arg(a), r.arg(b), r.arg(c)),
            Op::Pair(first, [a, b], s) => {
                // SAFETY: the second destination is another block no operand of the pair
                // points to (both destinations are assigned before their operands' slots are
                // given back, see `tape.rs`).
                let out2 = unsafe { &mut *t[s.dst as usize] };
                let [c, d] = s.args;
                pair(
                    first,
                    out,
                    r.arg(a),
                    r.arg(b),
                    s.op,
                    out2,
                    r.arg(c),
                    r.arg(d),
                );
            }
        }
    }
}

/// A tape readied at one parameter vector on this thread ([`BlockTape::session`]).
pub(crate) struct TapeSession<'a> {
    tape: &'a BlockTape,
    simd: Simd,
    scratch: &'a mut Scratch,
}

impl TapeSession<'_> {
    /// [`BlockTape::run`] at the session's parameters.
    ///
    /// # Panics
    /// As [`BlockTape::run`].
    #[inline(always)]
    pub(crate) fn run(&mut self, x: &[&Lanes], first: &mut Lanes, rest: &mut [Lanes]) {
        let (tape, s) = (self.tape, &mut *self.scratch);
        assert!(x.len() >= tape.n_inputs && rest.len() + 1 >= tape.n_outputs);
        let rest = &mut rest[..tape.n_outputs.saturating_sub(1)];
        let entries = &mut s.table[tape.n_slots..];
        let (outs, ins) = entries.split_at_mut(1 + rest.len());
        outs[0] = first as *mut Lanes;
        for (e, b) in outs[1..].iter_mut().zip(rest) {
            *e = b as *mut Lanes;
        }
        for (e, &b) in ins.iter_mut().zip(&x[..tape.n_inputs]) {
            *e = (b as *const Lanes).cast_mut();
        }
        // SAFETY: the table points to distinct live blocks (this thread's scratch slots,
        // which `prepare` keeps in step with `slots`, the caller's output blocks, which it
        // lends mutably, and its predictor blocks, which it lends shared and no instruction
        // writes: destinations are slots or outputs); nothing else touches them until the run
        // ends.
        unsafe { tape.run_instrs(self.simd, &s.table, &s.uniform) };
    }
}

/// The operands of one instruction: the table's blocks and the uniform values.
struct Reader<'a> {
    t: &'a [*mut Lanes],
    u: &'a [f64],
}

impl<'a> Reader<'a> {
    #[inline(always)]
    fn arg(&self, s: Src) -> Arg<'a> {
        match s {
            // SAFETY: an operand's block is not the instruction's destination (see `instrs`).
            Src::At(i) => Arg::Lanes(unsafe { &*self.t[i as usize] }),
            Src::Uniform(u) => Arg::Uniform(self.u[u as usize]),
        }
    }

    /// An operand the tape never reads in place as a uniform value.
    #[inline(always)]
    fn lanes(&self, s: Src) -> &'a Lanes {
        match self.arg(s) {
            Arg::Lanes(l) => l,
            Arg::Uniform(_) => unreachable!("only binary operations and comparisons read uniforms"),
        }
    }
}

/// One operation over the block (operands past the node's arity are ignored).
#[inline(always)]
fn step(node: Node, out: &mut Lanes, r: &Reader<'_>, [a, b, c]: [Src; 3]) {
    match node {
        Node::Unary(op, _) => unary_lanes(op, out, r.lanes(a)),
        Node::Binary(op, _, _) => {
            with_lanes!(r.arg(a), r.arg(b), |a, b| binary_lanes(op, out, a, b))
        }
        Node::Cmp(op, _, _) => with_lanes!(r.arg(a), r.arg(b), |a, b| compare_lanes(op, out, a, b)),
        _ => logic(node, out, r.lanes(a), || r.lanes(b), || r.lanes(c)),
    }
}

/// Logic and selects (operands fetched only as far as the node's arity).
#[inline(always)]
fn logic<'a>(
    node: Node,
    out: &mut Lanes,
    a: &Lanes,
    b: impl Fn() -> &'a Lanes,
    c: impl Fn() -> &'a Lanes,
) {
    match node {
        Node::And(..) => map2(out, a, b(), |a, b| truth((a != 0.0) & (b != 0.0))),
        Node::Or(..) => map2(out, a, b(), |a, b| truth((a != 0.0) | (b != 0.0))),
        Node::Not(_) => map1(out, a, |a| truth(a == 0.0)),
        Node::Select(..) => {
            let (b, c) = (b(), c());
            for i in 0..BLOCK {
                out[i] = if a[i] != 0.0 { b[i] } else { c[i] };
            }
        }
        _ => unreachable!("arithmetic is dispatched above; leaves are never instructions"),
    }
}

/// Booleans as the tape holds them.
#[inline(always)]
fn truth(v: bool) -> f64 {
    if v { 1.0 } else { 0.0 }
}

/// A unary function as the block code `#[model]` emits computes it, at one point.
fn unary(op: UnaryOp, a: f64) -> f64 {
    match op {
        UnaryOp::Exp => exp(a),
        UnaryOp::Ln => ln(a),
        UnaryOp::Erf => erf(a),
        UnaryOp::Erfc => erfc(a),
        UnaryOp::Powi(n) => {
            let mut v = [a; 1];
            powi(&mut v, n);
            v[0]
        }
        op => apply_unary(op, a),
    }
}

#[inline(always)]
fn unary_lanes(op: UnaryOp, out: &mut Lanes, a: &Lanes) {
    match op {
        UnaryOp::Neg => map1(out, a, |v| -v),
        UnaryOp::Exp => exp_lanes(out, |i| a[i]),
        UnaryOp::Ln => map1(out, a, ln),
        UnaryOp::Sqrt => map1(out, a, f64::sqrt),
        UnaryOp::Abs => map1(out, a, f64::abs),
        // The products binary powering forms, written out for the usual small exponents.
        UnaryOp::Powi(2) => map1(out, a, |v| v * v),
        UnaryOp::Powi(3) => map1(out, a, |v| v * (v * v)),
        UnaryOp::Powi(4) => map1(out, a, |v| (v * v) * (v * v)),
        UnaryOp::Powi(-1) => map1(out, a, |v| 1.0 / v),
        UnaryOp::Powi(-2) => map1(out, a, |v| 1.0 / (v * v)),
        UnaryOp::Powi(n) => {
            *out = *a;
            powi(out, n);
        }
        // Library functions, one call per lane, the function known in each loop.
        UnaryOp::Log10 => map1(out, a, f64::log10),
        UnaryOp::Log2 => map1(out, a, f64::log2),
        UnaryOp::Cbrt => map1(out, a, f64::cbrt),
        UnaryOp::Sin => map1(out, a, f64::sin),
        UnaryOp::Cos => map1(out, a, f64::cos),
        UnaryOp::Tan => map1(out, a, f64::tan),
        UnaryOp::Asin => map1(out, a, f64::asin),
        UnaryOp::Acos => map1(out, a, f64::acos),
        UnaryOp::Atan => map1(out, a, f64::atan),
        UnaryOp::Sinh => map1(out, a, f64::sinh),
        UnaryOp::Cosh => map1(out, a, f64::cosh),
        UnaryOp::Tanh => map1(out, a, f64::tanh),
        UnaryOp::Erf => map1(out, a, erf),
        UnaryOp::Erfc => map1(out, a, erfc),
    }
}

/// `v.powi(n)` in every lane by binary powering (compiler-rt's `__powidf2`, and LLVM's
/// expansion of a constant exponent): the same products, so the same bits.
#[inline(always)]
fn powi<const L: usize>(v: &mut [f64; L], n: i32) {
    let mut m = n.unsigned_abs();
    let mut square = *v;
    let mut r = [1.0; L];
    loop {
        if m & 1 == 1 {
            for i in 0..L {
                r[i] *= square[i];
            }
        }
        m >>= 1;
        if m == 0 {
            break;
        }
        for i in 0..L {
            square[i] *= square[i];
        }
    }
    if n < 0 {
        for i in 0..L {
            r[i] = 1.0 / r[i];
        }
    }
    *v = r;
}

#[inline(always)]
fn binary_lanes<A: Lane, B: Lane>(op: BinaryOp, out: &mut Lanes, a: A, b: B) {
    match op {
        BinaryOp::Add => map2(out, a, b, |a, b| a + b),
        BinaryOp::Sub => map2(out, a, b, |a, b| a - b),
        BinaryOp::Mul => map2(out, a, b, |a, b| a * b),
        BinaryOp::Div => map2(out, a, b, |a, b| a / b),
        BinaryOp::Min => map2(out, a, b, f64::min),
        BinaryOp::Max => map2(out, a, b, f64::max),
        BinaryOp::Powf => map2(out, a, b, f64::powf),
        BinaryOp::Atan2 => map2(out, a, b, f64::atan2),
        BinaryOp::Hypot => map2(out, a, b, f64::hypot),
    }
}

#[inline(always)]
fn compare_lanes<A: Lane, B: Lane>(op: CmpOp, out: &mut Lanes, a: A, b: B) {
    match op {
        CmpOp::Lt => map2(out, a, b, |a, b| truth(a < b)),
        CmpOp::Le => map2(out, a, b, |a, b| truth(a <= b)),
        CmpOp::Gt => map2(out, a, b, |a, b| truth(a > b)),
        CmpOp::Ge => map2(out, a, b, |a, b| truth(a >= b)),
        CmpOp::Eq => map2(out, a, b, |a, b| truth(a == b)),
        CmpOp::Ne => map2(out, a, b, |a, b| truth(a != b)),
    }
}
