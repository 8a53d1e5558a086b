//! A parsed and differentiated model: the graph, its value and gradient, and its signature.

use crate::diff;
use crate::eval::Tape;
use crate::ir::{Graph, NodeId};
use crate::schedule::Schedule;

/// Shape of the independent variable.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InputShape {
    /// One predictor: `x: f64`.
    Scalar,
    /// `K` predictors: `x: [f64; K]`.
    Array(usize),
}

impl InputShape {
    /// Number of predictors.
    pub fn len(self) -> usize {
        match self {
            InputShape::Scalar => 1,
            InputShape::Array(k) => k,
        }
    }

    /// Whether there are no predictors (never true for a valid model).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// A fitted parameter as declared: `amp: f64` or `amp: [f64; 3]`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ParamDecl {
    /// The declared name.
    pub name: String,
    /// `None` for a scalar, `Some(m)` for `[f64; m]`.
    pub len: Option<usize>,
}

/// A model compiled to IR: `f(x; p)` and `df/dp_j` for every flattened parameter `j`.
#[derive(Clone, Debug)]
pub struct ModelIr {
    /// The model's name (the function name). It does not enter the hash.
    pub name: String,
    /// The independent variable's shape.
    pub input: InputShape,
    /// The declared parameters, in order; array parameters flatten in place.
    pub params: Vec<ParamDecl>,
    /// The expression graph holding the value and all derivatives.
    pub graph: Graph,
    /// The model value.
    pub value: NodeId,
    /// `d value / d p_j` for each flattened parameter `j`.
    pub gradient: Vec<NodeId>,
}

impl ModelIr {
    /// Differentiates `value` with respect to every parameter and assembles the model.
    pub fn new(
        name: String,
        input: InputShape,
        params: Vec<ParamDecl>,
        mut graph: Graph,
        value: NodeId,
    ) -> Self {
        let n: usize = params.iter().map(|p| p.len.unwrap_or(1)).sum();
        let gradient = diff::gradient(&mut graph, value, n as u32);
        ModelIr {
            name,
            input,
            params,
            graph,
            value,
            gradient,
        }
    }

    /// [`ModelIr::new`], or `None` as soon as the graph grows past `max_nodes` nodes or
    /// differentiating has visited more than `max_visits` nodes
    /// ([`diff::gradient_within`]).
    pub(crate) fn new_within(
        name: String,
        input: InputShape,
        params: Vec<ParamDecl>,
        mut graph: Graph,
        value: NodeId,
        max_nodes: usize,
        max_visits: usize,
    ) -> Option<Self> {
        let n: usize = params.iter().map(|p| p.len.unwrap_or(1)).sum();
        let gradient = diff::gradient_within(&mut graph, value, n as u32, max_nodes, max_visits)?;
        Some(ModelIr {
            name,
            input,
            params,
            graph,
            value,
            gradient,
        })
    }

    /// Number of predictors `K`.
    pub fn n_inputs(&self) -> usize {
        self.input.len()
    }

    /// Number of flattened parameters `P`.
    pub fn n_params(&self) -> usize {
        self.gradient.len()
    }

    /// Flattened parameter names: `amp` for a scalar, `amp[0]`, `amp[1]`, ... for an array.
    pub fn param_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.n_params());
        for p in &self.params {
            match p.len {
                None => names.push(p.name.clone()),
                Some(m) => names.extend((0..m).map(|i| format!("{}[{i}]", p.name))),
            }
        }
        names
    }

    /// The value followed by the gradient: the outputs every emitter computes.
    pub fn outputs(&self) -> Vec<NodeId> {
        std::iter::once(self.value)
            .chain(self.gradient.iter().copied())
            .collect()
    }

    /// The evaluation schedule of value and gradient.
    pub fn schedule(&self) -> Schedule {
        Schedule::new(&self.graph, &self.outputs())
    }

    /// The evaluation schedule of the value alone.
    pub fn value_schedule(&self) -> Schedule {
        Schedule::new(&self.graph, &[self.value])
    }

    /// Operations needed for the value and the full gradient together.
    pub fn op_count(&self) -> usize {
        self.schedule().op_count(&self.graph)
    }

    /// An interpreter tape producing `[value, d/dp_0, ..., d/dp_{P-1}]`.
    pub fn tape(&self) -> Tape {
        Tape::new(&self.graph, &self.outputs())
    }

    /// Evaluates value and gradient with the interpreter (for tools and tests).
    pub fn eval_with_gradient(&self, x: &[f64], p: &[f64]) -> (f64, Vec<f64>) {
        let out = crate::eval::eval_nodes(&self.graph, &self.outputs(), x, p);
        (out[0], out[1..].to_vec())
    }
}
