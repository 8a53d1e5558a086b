//! Copying an expression from one graph into another, with its parameters replaced.

use crate::ir::{Graph, Node, NodeId};

/// Copies what `root` of `src` depends on into `dst`, parameter `j` becoming `param(j)`, and
/// returns the copy of `root`. Nodes are rebuilt with `dst`'s simplifying constructors, so
/// constants substituted for parameters fold as they would in a model written with them.
/// Iterative in node order (ids are topological), so any depth is fine.
pub(crate) fn embed(
    src: &Graph,
    root: NodeId,
    dst: &mut Graph,
    param: &dyn Fn(u32) -> NodeId,
) -> NodeId {
    let nodes = &src.nodes()[..=root.index()];
    let mut live = vec![false; nodes.len()];
    live[root.index()] = true;
    for i in (0..nodes.len()).rev() {
        if live[i] {
            for c in nodes[i].children() {
                live[c.index()] = true;
            }
        }
    }
    let mut copy = vec![root; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        if live[i] {
            copy[i] = rebuild(*node, &copy, dst, param);
        }
    }
    copy[root.index()]
}

/// One node in `dst`, its children already copied (`copy`).
fn rebuild(node: Node, copy: &[NodeId], dst: &mut Graph, param: &dyn Fn(u32) -> NodeId) -> NodeId {
    let c = |id: NodeId| copy[id.index()];
    match node {
        Node::Const(bits) => dst.constant(f64::from_bits(bits)),
        Node::Bool(v) => dst.boolean(v),
        Node::Input(k) => dst.input(k),
        Node::Param(j) => param(j),
        Node::Unary(op, a) => dst.unary(op, c(a)),
        Node::Binary(op, a, b) => dst.binary(op, c(a), c(b)),
        Node::Cmp(op, a, b) => dst.cmp(op, c(a), c(b)),
        Node::And(a, b) => dst.and(c(a), c(b)),
        Node::Or(a, b) => dst.or(c(a), c(b)),
        Node::Not(a) => dst.not(c(a)),
        Node::Select(k, a, b) => dst.select(c(k), c(a), c(b)),
    }
}

/// Whether `root` depends on the independent variable.
pub(crate) fn uses_input(g: &Graph, root: NodeId) -> bool {
    let nodes = &g.nodes()[..=root.index()];
    let mut live = vec![false; nodes.len()];
    live[root.index()] = true;
    for i in (0..nodes.len()).rev() {
        if live[i] {
            if let Node::Input(_) = nodes[i] {
                return true;
            }
            for c in nodes[i].children() {
                live[c.index()] = true;
            }
        }
    }
    false
}
