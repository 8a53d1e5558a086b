//! Scheduling: the nodes a set of outputs needs, in evaluation order.
//!
//! Every emitter and the interpreter walk the same [`Schedule`], so the CPU, CUDA and WGSL
//! code compute the same operations in the same order.

use crate::ir::{Graph, Node, NodeId};

/// The nodes needed for some outputs, in topological order, each computed once.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// Reachable nodes in evaluation order (ascending id, which is topological).
    pub order: Vec<NodeId>,
    /// The requested outputs.
    pub outputs: Vec<NodeId>,
    /// Position of each graph node in `order`, `u32::MAX` if unused.
    slot: Vec<u32>,
}

impl Schedule {
    /// Schedules the nodes `outputs` depend on.
    pub fn new(g: &Graph, outputs: &[NodeId]) -> Self {
        let mut live = vec![false; g.len()];
        let mut stack: Vec<NodeId> = outputs.to_vec();
        while let Some(n) = stack.pop() {
            if !std::mem::replace(&mut live[n.index()], true) {
                stack.extend(g.node(n).children());
            }
        }
        let order: Vec<NodeId> = (0..g.len())
            .filter(|&i| live[i])
            .map(|i| NodeId(i as u32))
            .collect();
        let mut slot = vec![u32::MAX; g.len()];
        for (k, id) in order.iter().enumerate() {
            slot[id.index()] = k as u32;
        }
        Schedule {
            order,
            outputs: outputs.to_vec(),
            slot,
        }
    }

    /// Position of a scheduled node in [`Schedule::order`].
    pub fn slot(&self, id: NodeId) -> usize {
        let s = self.slot[id.index()];
        debug_assert!(s != u32::MAX, "node {id:?} is not scheduled");
        s as usize
    }

    /// Number of arithmetic operations (every scheduled node that is not a leaf).
    pub fn op_count(&self, g: &Graph) -> usize {
        self.order
            .iter()
            .filter(|&&id| {
                !matches!(
                    g.node(id),
                    Node::Const(_) | Node::Bool(_) | Node::Input(_) | Node::Param(_)
                )
            })
            .count()
    }
}
