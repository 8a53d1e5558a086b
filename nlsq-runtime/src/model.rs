//! The model interface every solver and backend works against.

use crate::block::BLOCK;
use kernels_gen::{Compiled, ModelHash, Precision, eval::Tape};
use std::cell::RefCell;

/// A model `f(x; p)` with its exact gradient and device kernels.
///
/// Implemented by `#[model]` for compiled functions and by [`ExprModel`] for models given as
/// strings at run time. `x` holds [`Model::n_inputs`] predictors, `p` holds
/// [`Model::n_params`] flattened parameters; callers guarantee those lengths.
pub trait Model: Send + Sync {
    /// The model's name, for messages and reports.
    fn name(&self) -> &str;
    /// Number of flattened parameters `P`.
    fn n_params(&self) -> usize;
    /// Number of predictors `K`.
    fn n_inputs(&self) -> usize;
    /// Name of flattened parameter `j < P` (`amp`, or `amp[2]` for an array parameter).
    fn param_name(&self, j: usize) -> &str;
    /// All parameter names, in order.
    fn param_names(&self) -> Vec<&str> {
        (0..self.n_params()).map(|j| self.param_name(j)).collect()
    }
    /// The model value at one point.
    fn eval(&self, x: &[f64], p: &[f64]) -> f64;
    /// The model value at one point, with `∂f/∂p_j` written to `grad[j]` (`grad.len() == P`).
    fn eval_with_gradient(&self, x: &[f64], p: &[f64], grad: &mut [f64]) -> f64;
    /// Values and gradients at [`BLOCK`] points: `x[k][i]` is predictor `k` of point `i`
    /// (`x.len() == K`); the values go to `value[i]`, `∂f/∂p_j` at point `i` to `grad[j][i]`
    /// (`grad.len() == P`).
    ///
    /// `#[model]` emits a loop the CPU backend compiles to vector instructions (see
    /// [`crate::block`]); this default calls [`Model::eval_with_gradient`] point by point.
    #[inline(always)]
    fn eval_with_gradient_block(
        &self,
        x: &[&[f64; BLOCK]],
        p: &[f64],
        value: &mut [f64; BLOCK],
        grad: &mut [[f64; BLOCK]],
    ) {
        // Two small allocations per block: nothing beside 64 point-by-point evaluations.
        let mut xs = vec![0.0; x.len()];
        let mut g = vec![0.0; grad.len()];
        for (i, v) in value.iter_mut().enumerate() {
            for (xk, col) in xs.iter_mut().zip(x) {
                *xk = col[i];
            }
            *v = self.eval_with_gradient(&xs, p, &mut g);
            for (gj, row) in g.iter().zip(grad.iter_mut()) {
                row[i] = *gj;
            }
        }
    }
    /// The CUDA C module (kernel ABI in `kernels_gen::kernels::abi`).
    fn cuda_source(&self, precision: Precision) -> &str;
    /// The WGSL module (kernel ABI in `kernels_gen::kernels::abi`).
    fn wgsl_source(&self, precision: Precision) -> &str;
    /// The CUDA batch-fit module (kernel ABI in `kernels_gen::kernels::abi`, "Batch fits"), or
    /// `None` when the model has none (more than `kernels_gen::kernels::abi::BATCH_MAX_P`
    /// parameters, or a hand-written model without device code): batch fits then run on the
    /// CPU only.
    fn cuda_batch_source(&self, precision: Precision) -> Option<&str> {
        let _ = precision;
        None
    }
    /// The WGSL batch-fit module, or `None` (see [`Model::cuda_batch_source`]).
    fn wgsl_batch_source(&self, precision: Precision) -> Option<&str> {
        let _ = precision;
        None
    }
    /// Content hash of the kernels; keys every kernel cache.
    fn hash(&self) -> ModelHash;
}

impl<M: Model + ?Sized> Model for &M {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn n_params(&self) -> usize {
        (**self).n_params()
    }
    fn n_inputs(&self) -> usize {
        (**self).n_inputs()
    }
    fn param_name(&self, j: usize) -> &str {
        (**self).param_name(j)
    }
    fn eval(&self, x: &[f64], p: &[f64]) -> f64 {
        (**self).eval(x, p)
    }
    fn eval_with_gradient(&self, x: &[f64], p: &[f64], grad: &mut [f64]) -> f64 {
        (**self).eval_with_gradient(x, p, grad)
    }
    #[inline(always)]
    fn eval_with_gradient_block(
        &self,
        x: &[&[f64; BLOCK]],
        p: &[f64],
        value: &mut [f64; BLOCK],
        grad: &mut [[f64; BLOCK]],
    ) {
        (**self).eval_with_gradient_block(x, p, value, grad)
    }
    fn cuda_source(&self, precision: Precision) -> &str {
        (**self).cuda_source(precision)
    }
    fn wgsl_source(&self, precision: Precision) -> &str {
        (**self).wgsl_source(precision)
    }
    fn cuda_batch_source(&self, precision: Precision) -> Option<&str> {
        (**self).cuda_batch_source(precision)
    }
    fn wgsl_batch_source(&self, precision: Precision) -> Option<&str> {
        (**self).wgsl_batch_source(precision)
    }
    fn hash(&self) -> ModelHash {
        (**self).hash()
    }
}

/// A model compiled at run time from an expression string, evaluated on the CPU by the
/// `kernels-gen` interpreter; its kernels are the same as a `#[model]`'s.
///
/// ```
/// use nlsq_runtime::{ExprModel, Model};
/// let m = ExprModel::parse("a * exp(-b * x) + c").unwrap();
/// assert_eq!(m.param_names(), ["a", "b", "c"]);
/// let mut g = [0.0; 3];
/// let f = m.eval_with_gradient(&[0.0], &[2.0, 1.0, 0.5], &mut g);
/// assert_eq!((f, g), (2.5, [1.0, 0.0, 1.0]));
/// ```
#[derive(Clone, Debug)]
pub struct ExprModel {
    compiled: Compiled,
    names: Vec<String>,
    value: Tape,
    with_gradient: Tape,
}

thread_local! {
    /// The interpreter's scratch values and outputs, reused across calls on each thread.
    static SCRATCH: RefCell<(Vec<f64>, Vec<f64>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

impl ExprModel {
    /// Parses an expression in `x`; parameters are its other names in order of appearance.
    pub fn parse(expr: &str) -> Result<Self, kernels_gen::parse::ParseError> {
        Ok(Self::from_ir(kernels_gen::parse::model_from_expr(
            expr, None,
        )?))
    }

    /// Parses an expression in `x` with the parameters named and ordered explicitly.
    pub fn parse_with_params(
        expr: &str,
        params: &[&str],
    ) -> Result<Self, kernels_gen::parse::ParseError> {
        Ok(Self::from_ir(kernels_gen::parse::model_from_expr(
            expr,
            Some(params),
        )?))
    }

    /// Wraps an already compiled model.
    pub fn from_ir(ir: kernels_gen::ModelIr) -> Self {
        let names = ir.param_names();
        let value = Tape::new(&ir.graph, &[ir.value]);
        let with_gradient = ir.tape();
        ExprModel {
            compiled: Compiled::new(ir),
            names,
            value,
            with_gradient,
        }
    }

    /// The compiled model behind this one.
    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }
}

impl Model for ExprModel {
    fn name(&self) -> &str {
        &self.compiled.ir.name
    }
    fn n_params(&self) -> usize {
        self.names.len()
    }
    fn n_inputs(&self) -> usize {
        self.compiled.ir.n_inputs()
    }
    fn param_name(&self, j: usize) -> &str {
        &self.names[j]
    }
    fn eval(&self, x: &[f64], p: &[f64]) -> f64 {
        let mut out = [0.0];
        SCRATCH.with_borrow_mut(|(s, _)| self.value.eval_into(x, p, s, &mut out));
        out[0]
    }
    fn eval_with_gradient(&self, x: &[f64], p: &[f64], grad: &mut [f64]) -> f64 {
        SCRATCH.with_borrow_mut(|(s, out)| {
            out.resize(grad.len() + 1, 0.0);
            self.with_gradient.eval_into(x, p, s, out);
            grad.copy_from_slice(&out[1..]);
            out[0]
        })
    }
    fn cuda_source(&self, precision: Precision) -> &str {
        self.compiled.cuda_source(precision)
    }
    fn wgsl_source(&self, precision: Precision) -> &str {
        self.compiled.wgsl_source(precision)
    }
    fn cuda_batch_source(&self, precision: Precision) -> Option<&str> {
        self.compiled.cuda_batch_source(precision)
    }
    fn wgsl_batch_source(&self, precision: Precision) -> Option<&str> {
        self.compiled.wgsl_batch_source(precision)
    }
    fn hash(&self) -> ModelHash {
        self.compiled.hash
    }
}

#[cfg(test)]
mod tests {
    use super::ExprModel;

    /// Pathological strings through the runtime's entry: each ends in a typed error naming
    /// the limit, quickly, on a thread with the default 2 MiB stack (no abort).
    #[test]
    fn pathological_strings_are_errors_on_a_default_stack() {
        let cases = [
            (
                format!("{}a * x{}", "(".repeat(100_000), ")".repeat(100_000)),
                "MAX_NESTING",
            ),
            (format!("{}a * x", "- ".repeat(100_000)), "MAX_NESTING"),
            (vec!["a * x"; 100_000].join(" + "), "MAX_SOURCE_LEN"),
            (vec!["a * x"; 5_000].join(" + "), "MAX_TOKENS"),
            ("a * x[1000000000000000000]".to_string(), "MAX_INPUTS"),
            (
                (0..1100)
                    .map(|i| format!("p{i}"))
                    .collect::<Vec<_>>()
                    .join(" + ")
                    + " * x",
                "MAX_PARAMS",
            ),
        ];
        let handle = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                for (src, limit) in cases {
                    let start = std::time::Instant::now();
                    let e = ExprModel::parse(&src).err().map(|e| e.to_string());
                    assert!(
                        e.as_deref().is_some_and(|e| e.contains(limit)),
                        "{limit}: {e:?}"
                    );
                    assert!(
                        start.elapsed().as_secs_f64() < 1.0,
                        "{limit}: {:?}",
                        start.elapsed()
                    );
                }
                // And a model within the limits still works.
                let m = ExprModel::parse("a * exp(-b * x) + c").map(|m| m.names.len());
                assert_eq!(m.ok(), Some(3));
            })
            .expect("spawn a thread");
        assert!(handle.join().is_ok(), "a pathological string panicked");
    }
}
