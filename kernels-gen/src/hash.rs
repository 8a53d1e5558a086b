//! The model hash: BLAKE3 over everything that determines the compiled kernels.
//!
//! Hashed, in order: a domain tag, the kernel ABI version, the generator version, the input
//! arity, the parameter count, the canonical IR of the value and every derivative (the
//! scheduled nodes renumbered densely, so it is independent of how the graph was built up), and
//! every emitted kernel source (CUDA and WGSL, f32 and f64; the fit modules, then the
//! batch-fit modules where the model has them). Names (of the function, its
//! arguments, its `let` variables), whitespace and comments never reach the IR or the sources,
//! so they cannot change the hash; any change to the mathematics or to the generator does.

use crate::ir::Node;
use crate::model::ModelIr;

/// A 32-byte BLAKE3 content hash of a model's kernels. Displays as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelHash(pub [u8; 32]);

impl ModelHash {
    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The lowercase hex spelling (64 characters).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The first 16 hex digits, for file names and logs.
    pub fn short(&self) -> String {
        self.to_hex()[..16].to_string()
    }
}

impl std::fmt::Display for ModelHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::fmt::Debug for ModelHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ModelHash({})", self.to_hex())
    }
}

/// The canonical byte encoding of the model's value and gradient.
pub fn canonical_ir(model: &ModelIr) -> Vec<u8> {
    let s = model.schedule();
    let g = &model.graph;
    let mut out = Vec::new();
    let mut put = |bytes: &[u8]| out.extend_from_slice(bytes);
    let slot = |id| (s.slot(id) as u32).to_le_bytes();
    put(&(s.order.len() as u32).to_le_bytes());
    for &id in &s.order {
        // A tag per node kind and operator (its Debug spelling is stable and unambiguous),
        // then the operands by position in the schedule.
        match *g.node(id) {
            Node::Const(bits) => {
                put(b"c");
                put(&bits.to_le_bytes());
            }
            Node::Bool(v) => put(if v { b"T" } else { b"F" }),
            Node::Input(k) => {
                put(b"x");
                put(&k.to_le_bytes());
            }
            Node::Param(j) => {
                put(b"p");
                put(&j.to_le_bytes());
            }
            Node::Unary(op, a) => {
                put(format!("u{op:?}").as_bytes());
                put(&slot(a));
            }
            Node::Binary(op, a, b) => {
                put(format!("b{op:?}").as_bytes());
                put(&slot(a));
                put(&slot(b));
            }
            Node::Cmp(op, a, b) => {
                put(format!("k{op:?}").as_bytes());
                put(&slot(a));
                put(&slot(b));
            }
            Node::And(a, b) => {
                put(b"&");
                put(&slot(a));
                put(&slot(b));
            }
            Node::Or(a, b) => {
                put(b"|");
                put(&slot(a));
                put(&slot(b));
            }
            Node::Not(a) => {
                put(b"!");
                put(&slot(a));
            }
            Node::Select(c, a, b) => {
                put(b"?");
                put(&slot(c));
                put(&slot(a));
                put(&slot(b));
            }
        }
        put(b";");
    }
    put(b"outputs");
    for &o in &s.outputs {
        put(&slot(o));
    }
    out
}

/// Hashes a model together with its emitted kernel sources.
pub fn model_hash<'a>(model: &ModelIr, sources: impl IntoIterator<Item = &'a str>) -> ModelHash {
    let mut h = blake3::Hasher::new();
    let mut field = |bytes: &[u8]| {
        // Length-prefixed fields: no two different field lists share an encoding.
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(b"nlsq model hash");
    field(&crate::kernels::abi::ABI_VERSION.to_le_bytes());
    field(env!("CARGO_PKG_VERSION").as_bytes());
    field(&(model.n_inputs() as u64).to_le_bytes());
    field(&(model.n_params() as u64).to_le_bytes());
    field(&canonical_ir(model));
    for src in sources {
        field(src.as_bytes());
    }
    ModelHash(*h.finalize().as_bytes())
}
