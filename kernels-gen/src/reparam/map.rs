//! The map from a reparameterized model's free parameters to all of the original model's
//! parameters, and its Jacobian.

use super::role::ParamRole;
use crate::diff;
use crate::eval::Tape;
use crate::ir::{Graph, NodeId};

/// Every parameter of a model as a function of its free parameters: free ones are
/// themselves, fixed ones constants, tied ones their expressions. Built by
/// [`reparameterize`](super::reparameterize) with the reparameterized model.
#[derive(Clone, Debug)]
pub struct ParamMap {
    names: Vec<String>,
    roles: Vec<ParamRole>,
    free: Vec<usize>,
    /// Outputs: the value of every parameter, then the Jacobian row by row.
    tape: Tape,
}

impl ParamMap {
    /// The map whose outputs are `values[k]` (parameter `k` of the original model) in `graph`
    /// over the free parameters; differentiates them.
    pub(crate) fn new(
        names: Vec<String>,
        roles: Vec<ParamRole>,
        mut graph: Graph,
        values: &[NodeId],
    ) -> Self {
        let free: Vec<usize> = (0..roles.len())
            .filter(|&k| roles[k] == ParamRole::Free)
            .collect();
        let n_free = free.len() as u32;
        let mut outputs = values.to_vec();
        for &v in values {
            outputs.extend(diff::gradient(&mut graph, v, n_free));
        }
        ParamMap {
            names,
            roles,
            free,
            tape: Tape::new(&graph, &outputs),
        }
    }

    /// The original model's parameter names, in its order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The role of each of the original model's parameters.
    pub fn roles(&self) -> &[ParamRole] {
        &self.roles
    }

    /// The original positions of the free parameters, in the reparameterized model's order.
    pub fn free(&self) -> &[usize] {
        &self.free
    }

    /// Number of the original model's parameters.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the original model has no parameters (never for a valid model).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Number of free parameters.
    pub fn n_free(&self) -> usize {
        self.free.len()
    }

    /// The free parameters picked from values of all parameters (in the original order).
    pub fn select_free(&self, all: &[f64]) -> Vec<f64> {
        self.free.iter().map(|&k| all[k]).collect()
    }

    /// All parameters, in the original order, at the free parameters `free` (fixed ones at
    /// their values, free ones copied exactly).
    pub fn values(&self, free: &[f64]) -> Vec<f64> {
        let out = self.eval(free);
        out[..self.len()].to_vec()
    }

    /// `∂ p_k / ∂ q_j` at the free parameters `free`: a row per parameter of the original
    /// model (`k`), a column per free parameter (`j`). Rows of free parameters are unit
    /// vectors, of fixed ones zero, of tied ones the gradient of the tie.
    pub fn jacobian(&self, free: &[f64]) -> Vec<Vec<f64>> {
        let out = self.eval(free);
        out[self.len()..]
            .chunks(self.n_free().max(1))
            .take(self.len())
            .map(<[f64]>::to_vec)
            .collect()
    }

    fn eval(&self, free: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.tape.n_outputs()];
        self.tape.eval_into(&[], free, &mut Vec::new(), &mut out);
        out
    }
}
