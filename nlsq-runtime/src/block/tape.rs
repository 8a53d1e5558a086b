//! A scheduled model as instructions over blocks of points: the fast CPU form of a model
//! given at run time.
//!
//! A [`BlockTape`] holds the operations of a `kernels-gen` [`Schedule`] in its order. Each
//! operation that depends on the predictors becomes one instruction that computes it for all
//! [`BLOCK`](super::BLOCK) points of a call, in a loop the compiler vectorizes (see
//! [`super::lanes`]), so the
//! dispatch is paid once per block rather than once per point. Operations of the parameters and
//! constants alone are computed once per call, as scalars. Every point sees the operations the
//! code `#[model]` emits performs, in the same order, with the same functions (the block
//! [`super::exp`] and [`super::ln`], Rust's `f64` methods otherwise): the same bits.
//!
//! Instructions write to slots (one block of values each), reused once their value is dead,
//! so the working set of a model of a hundred operations stays in the first-level cache.

use super::draft::{Arg, DraftOp, Fused};
use super::fuse::fuse;
use super::pair::{self, First};
use kernels_gen::ir::{BinaryOp, Graph, Node, NodeId};
use kernels_gen::schedule::Schedule;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where an instruction reads an operand: an entry of the run's table of blocks (see
/// [`BlockTape`]), or, for one operand of an arithmetic operation or comparison, a uniform
/// value, the same in every lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Src {
    /// Table entry `i`.
    At(u32),
    /// Uniform value `u`.
    Uniform(u32),
}

/// One operation over a block: a graph node whose children are [`Src`]s, or the broadcast of
/// a uniform value.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Op {
    /// Every lane gets uniform value `u`.
    Splat(u32),
    /// A graph operation (never a leaf); booleans are held as `1.0` / `0.0`.
    Node(Node, [Src; 3]),
    /// Two arithmetic operations in one loop (see [`Fused`]).
    Fused(Fused, [Src; 3]),
    /// A division (`a / b` or `-(a / b)`), and an independent operation computed in the same
    /// loop (see `pair.rs`).
    Pair(First, [Src; 2], Second),
}

/// The operation a [`Op::Pair`] computes beside its division: `dst = op(args)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Second {
    pub op: BinaryOp,
    pub args: [Src; 2],
    pub dst: u32,
}

/// An instruction: `op` over the block, written to table entry `dst` (a scratch slot or an
/// output, never one of its operands).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Instr {
    pub op: Op,
    pub dst: u32,
}

/// How an output no instruction writes is filled after the instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fill {
    /// A copy of table entry `i` (a predictor, or an output computed in place already).
    Copy(u32),
    /// A uniform value, the same at every point.
    Uniform(u32),
}

/// A model's outputs as block instructions (see the module documentation).
///
/// A run addresses blocks through one table: the scratch slots first, then the outputs
/// (which the instructions computing them write in place), then the predictor columns.
#[derive(Clone, Debug)]
pub struct BlockTape {
    /// The uniform program: graph nodes (leaves, or operations whose children are the
    /// earlier uniform values at the indices beside them).
    pub(crate) uniform: Vec<(Node, [u32; 3])>,
    pub(crate) instrs: Vec<Instr>,
    /// Outputs left to fill after the instructions, with how.
    pub(crate) fills: Vec<(u32, Fill)>,
    pub(crate) n_slots: usize,
    pub(crate) n_outputs: usize,
    pub(crate) n_inputs: usize,
    /// This program's identity (clones share it): a thread's scratch keeps the uniform values
    /// and slot table of the last program it ran (see `lanes.rs`).
    pub(crate) id: u64,
}

/// A new [`BlockTape::id`], never 0 (0 marks a scratch that has run no tape).
fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// What a scheduled node became.
#[derive(Clone, Copy, Debug)]
enum Place {
    Unscheduled,
    Uniform(u32),
    Input(u32),
    /// Virtual register: the index of the instruction that computes it.
    Varying(u32),
}

/// Instructions on virtual registers (the index of the defining instruction), before slots.
struct Draft {
    uniform: Vec<(Node, [u32; 3])>,
    ops: Vec<DraftOp>,
    /// For each instruction, its operands' virtual registers (inputs excluded).
    reads: Vec<Vec<u32>>,
    /// The register each uniform value was broadcast to, once it is.
    splats: Vec<Option<u32>>,
}

impl BlockTape {
    /// The tape computing `outputs` of `g` for a model of `n_inputs` predictors.
    pub fn new(g: &Graph, outputs: &[NodeId], n_inputs: usize) -> Self {
        let s = Schedule::new(g, outputs);
        let mut place = vec![Place::Unscheduled; g.len()];
        let mut d = Draft {
            uniform: Vec::new(),
            ops: Vec::new(),
            reads: Vec::new(),
            splats: Vec::new(),
        };
        for &id in &s.order {
            place[id.index()] = d.place_node(*g.node(id), &place);
        }
        let outputs: Vec<Place> = outputs.iter().map(|o| place[o.index()]).collect();
        let mut kept = vec![false; d.ops.len()];
        for o in &outputs {
            if let Place::Varying(v) = *o {
                kept[v as usize] = true;
            }
        }
        fuse(&mut d.ops, &mut d.reads, &kept);
        d.allocate(outputs, n_inputs)
    }

    /// Number of block instructions.
    pub fn len(&self) -> usize {
        self.instrs.len()
    }

    /// Whether the tape has no block instructions (every output uniform or a predictor).
    pub fn is_empty(&self) -> bool {
        self.instrs.is_empty()
    }

    /// Scratch blocks a run uses.
    pub fn slots(&self) -> usize {
        self.n_slots
    }

    /// Number of outputs.
    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }
}

impl Draft {
    /// Places one scheduled node: a leaf or an operation of uniform children is uniform, a
    /// predictor is read in place, anything else is an instruction.
    fn place_node(&mut self, node: Node, place: &[Place]) -> Place {
        match node {
            Node::Const(_) | Node::Bool(_) | Node::Param(_) => return self.uniform(node),
            Node::Input(k) => return Place::Input(k),
            _ => {}
        }
        let children: Vec<Place> = node.children().map(|c| place[c.index()]).collect();
        if let Some(args) = uniform_args(&children) {
            return self.uniform_op(node, args);
        }
        // Binary operations and comparisons read a uniform operand in place; other
        // operations read it broadcast.
        let scalar_ok = matches!(node, Node::Binary(..) | Node::Cmp(..));
        let mut args = [Arg::Input(0); 3];
        let mut reads = Vec::with_capacity(3);
        for (i, c) in children.iter().enumerate() {
            let v = match *c {
                Place::Input(k) => {
                    args[i] = Arg::Input(k);
                    continue;
                }
                Place::Uniform(u) if scalar_ok => {
                    args[i] = Arg::Uniform(u);
                    continue;
                }
                Place::Uniform(u) => self.splat(u),
                Place::Varying(v) => v,
                Place::Unscheduled => unreachable!("children are scheduled before parents"),
            };
            args[i] = Arg::Reg(v);
            reads.push(v);
        }
        Place::Varying(self.push(DraftOp::Node(node, args), reads))
    }

    fn uniform(&mut self, node: Node) -> Place {
        self.uniform_op(node, [0; 3])
    }

    fn uniform_op(&mut self, node: Node, args: [u32; 3]) -> Place {
        self.uniform.push((node, args));
        self.splats.push(None);
        Place::Uniform(self.uniform.len() as u32 - 1)
    }

    /// The register holding uniform `u` broadcast, emitting the broadcast on first use.
    fn splat(&mut self, u: u32) -> u32 {
        if let Some(v) = self.splats[u as usize] {
            return v;
        }
        let v = self.push(DraftOp::Splat(u), Vec::new());
        self.splats[u as usize] = Some(v);
        v
    }

    fn push(&mut self, op: DraftOp, reads: Vec<u32>) -> u32 {
        self.ops.push(op);
        self.reads.push(reads);
        self.ops.len() as u32 - 1
    }

    /// Assigns table entries, in the order of [`pair::schedule`]: an instruction computing an
    /// output writes that output in place; the others take scratch slots by a linear scan,
    /// each step (one instruction, or a pair) taking its slots before its operands' dead slots
    /// are given back (so it never overwrites an operand).
    fn allocate(self, outputs: Vec<Place>, n_inputs: usize) -> BlockTape {
        let n = self.ops.len();
        let (order, paired) = pair::schedule(&self.ops, &self.reads);
        // The step (position in `order`, a pair counted at its first) of the last instruction
        // reading each register, and the output each one is written to.
        let mut step_of = vec![0usize; order.len()];
        for p in 1..order.len() {
            step_of[p] = if paired[p - 1] { step_of[p - 1] } else { p };
        }
        let mut last_use: Vec<Option<usize>> = vec![None; n];
        for (p, &i) in order.iter().enumerate() {
            for &v in &self.reads[i as usize] {
                last_use[v as usize] = Some(step_of[p]);
            }
        }
        let mut written_to: Vec<Option<u32>> = vec![None; n];
        for (o, place) in outputs.iter().enumerate() {
            if let Place::Varying(v) = *place {
                written_to[v as usize].get_or_insert(o as u32);
            }
        }
        // Virtual register -> (is an output, index among scratch slots or outputs).
        let mut home = vec![Home::Slot(0); n];
        let mut free: Vec<u32> = Vec::new();
        let mut n_slots = 0u32;
        let mut p = 0;
        while p < order.len() {
            let step = if paired[p] { p..p + 2 } else { p..p + 1 };
            let mut dead: Vec<u32> = Vec::new();
            for &i in &order[step.clone()] {
                let i = i as usize;
                home[i] = match written_to[i] {
                    Some(o) => Home::Output(o),
                    None => Home::Slot(free.pop().unwrap_or_else(|| {
                        n_slots += 1;
                        n_slots - 1
                    })),
                };
                // An instruction nothing reads (none in a schedule) gives its slot straight back.
                if let (None, Home::Slot(s)) = (last_use[i], home[i]) {
                    dead.push(s);
                }
            }
            for &i in &order[step.clone()] {
                dead.extend(
                    self.reads[i as usize]
                        .iter()
                        .filter(|&&v| last_use[v as usize] == Some(p))
                        .filter_map(|&v| match home[v as usize] {
                            Home::Slot(s) => Some(s),
                            Home::Output(_) => None,
                        }),
                );
            }
            dead.sort_unstable();
            dead.dedup();
            free.extend(dead.into_iter().rev());
            p = step.end;
        }
        let table = Table {
            n_slots: n_slots as usize,
            n_outputs: outputs.len(),
        };
        let at = |a: Arg| match a {
            Arg::Reg(v) => Src::At(table.index(home[v as usize])),
            Arg::Input(k) => Src::At(table.input(k)),
            Arg::Uniform(u) => Src::Uniform(u),
        };
        let mut instrs = Vec::with_capacity(order.len());
        let mut p = 0;
        while p < order.len() {
            let i = order[p] as usize;
            let op = match self.ops[i] {
                ref division if paired[p] => {
                    let Some((first, [a, b])) = pair::division(division) else {
                        unreachable!("a pair starts with a division")
                    };
                    let c = order[p + 1] as usize;
                    let DraftOp::Node(Node::Binary(op, ..), [x, y, _]) = self.ops[c] else {
                        unreachable!("a division is paired with a binary operation")
                    };
                    p += 1;
                    let dst = table.index(home[c]);
                    let second = Second {
                        op,
                        args: [at(x), at(y)],
                        dst,
                    };
                    Op::Pair(first, [at(a), at(b)], second)
                }
                DraftOp::Splat(u) => Op::Splat(u),
                DraftOp::Node(node, args) => Op::Node(node, args.map(at)),
                DraftOp::Fused(f, args) => Op::Fused(f, args.map(at)),
                DraftOp::Removed => unreachable!("removed operations are not scheduled"),
            };
            instrs.push(Instr {
                dst: table.index(home[i]),
                op,
            });
            p += 1;
        }
        let fills = outputs
            .iter()
            .enumerate()
            .filter_map(|(o, place)| {
                let fill = match *place {
                    Place::Uniform(u) => Fill::Uniform(u),
                    Place::Input(k) => Fill::Copy(table.input(k)),
                    Place::Varying(v) => match home[v as usize] {
                        Home::Output(w) if w as usize == o => return None,
                        h => Fill::Copy(table.index(h)),
                    },
                    Place::Unscheduled => unreachable!("outputs are scheduled"),
                };
                Some((o as u32, fill))
            })
            .collect();
        BlockTape {
            uniform: self.uniform,
            instrs,
            fills,
            n_slots: table.n_slots,
            n_outputs: table.n_outputs,
            n_inputs,
            id: next_id(),
        }
    }
}

/// Where a virtual register lives.
#[derive(Clone, Copy, Debug)]
enum Home {
    Slot(u32),
    Output(u32),
}

/// The layout of a run's table: scratch slots, outputs, predictors.
#[derive(Clone, Copy)]
struct Table {
    n_slots: usize,
    n_outputs: usize,
}

impl Table {
    fn index(self, h: Home) -> u32 {
        match h {
            Home::Slot(s) => s,
            Home::Output(o) => (self.n_slots as u32) + o,
        }
    }

    fn input(self, k: u32) -> u32 {
        (self.n_slots + self.n_outputs) as u32 + k
    }
}

/// The uniform indices of `children` when all of them are uniform.
fn uniform_args(children: &[Place]) -> Option<[u32; 3]> {
    let mut args = [0; 3];
    for (a, c) in args.iter_mut().zip(children) {
        match *c {
            Place::Uniform(u) => *a = u,
            _ => return None,
        }
    }
    Some(args)
}

#[cfg(test)]
mod tests {
    use super::BlockTape;
    use kernels_gen::parse::model_from_expr;

    fn value_tape(expr: &str) -> BlockTape {
        let ir = model_from_expr(expr, None).expect("a model");
        BlockTape::new(&ir.graph, &[ir.value], ir.n_inputs())
    }

    fn gradient_tape(expr: &str) -> BlockTape {
        let ir = model_from_expr(expr, None).expect("a model");
        BlockTape::new(&ir.graph, &ir.outputs(), ir.n_inputs())
    }

    fn pairs(t: &BlockTape) -> usize {
        t.instrs
            .iter()
            .filter(|i| matches!(i.op, super::Op::Pair(..)))
            .count()
    }

    #[test]
    fn divisions_are_paired_with_the_numerators_arithmetic() {
        // Hahn1: seven divisions by the denominator (three of them negated), and the
        // numerator's products, which the schedule (`pair.rs`) moves beside them.
        let t = gradient_tape(
            "(b1 + b2*x + b3*x.powi(2) + b4*x.powi(3)) / (1.0 + b5*x + b6*x.powi(2) + b7*x.powi(3))",
        );
        assert_eq!((t.len(), pairs(&t)), (15, 6), "{:?}", t.instrs);
        // Nothing to pair without a division, or with divisions and nothing independent.
        assert_eq!(pairs(&gradient_tape("a * exp(-b * x) + c")), 0);
        assert_eq!(pairs(&gradient_tape("a / x")), 0);
    }

    #[test]
    fn a_sum_of_a_value_with_itself_is_fused_into_the_value() {
        // The Gaussian's `∂/∂mu` has `t + t` of `t = mu - x` (the derivative of the square):
        // one loop computes both, ten instructions become nine.
        let t = gradient_tape("amp * exp(-((x - mu) * (x - mu)) / (2 * sigma * sigma))");
        let twice = |i: &super::Instr| matches!(i.op, super::Op::Fused(f, _) if f.outer == super::super::draft::Outer::Twice);
        assert_eq!(
            t.instrs.iter().filter(|i| twice(i)).count(),
            1,
            "{:?}",
            t.instrs
        );
        assert_eq!(t.len(), 9, "{:?}", t.instrs);
        // Not where the value is read elsewhere too (`u` is also the product's factor).
        let t = value_tape("(x - a) + (x - a) * b");
        assert!(!t.instrs.iter().any(twice), "{:?}", t.instrs);
    }

    #[test]
    fn parameters_are_read_in_place_and_pairs_are_fused() {
        // `exp(-(b * x))` is one loop, `a * e + c` another.
        let t = value_tape("a * exp(-b * x) + c");
        assert_eq!(t.len(), 2, "{:?}", t.instrs);
        // The output is written in place: no scratch at all.
        assert_eq!(t.slots(), 1);
        // Nothing to fuse across a library call: `sin` stands alone.
        assert_eq!(value_tape("sin(a * x)").len(), 2);
    }
}
