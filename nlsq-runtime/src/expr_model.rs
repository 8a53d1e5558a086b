//! Models given as strings at run time: compiled by `kernels-gen`, evaluated on the CPU by
//! block tapes ([`crate::block::BlockTape`]) as fast as a `#[model]` and with the same bits.

use crate::block::{BLOCK, BlockTape, ModelTapes, Simd, tapes_for};
use crate::model::Model;
use crate::params::{ConstraintError, Constraints};
use kernels_gen::reparam::{ParamMap, reparameterize};
use kernels_gen::{Compiled, ModelHash, Precision, eval::Tape};
use std::cell::RefCell;
use std::sync::Arc;

/// A model compiled at run time from an expression string; its kernels are the same as a
/// `#[model]`'s.
///
/// On the CPU, blocks of points (the passes of every backend's CPU side, residuals, batch
/// fits) run on the model's block tapes: per point the operations, order and functions of the
/// block code `#[model]` emits, so the same bits at about the same speed. Single points
/// ([`Model::eval`], [`Model::eval_with_gradient`]) run on the `kernels-gen` interpreter, with
/// the bits of `#[model]`'s per-point functions. The tapes are compiled once per model hash
/// and process ([`crate::block::tapes_for`]).
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
    tapes: Arc<ModelTapes>,
    simd: Simd,
    /// For a constrained model: every original parameter from the free ones.
    map: Option<Arc<ParamMap>>,
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
        let compiled = Compiled::new(ir);
        let tapes = tapes_for(compiled.hash, &compiled.ir);
        ExprModel {
            compiled,
            names,
            value,
            with_gradient,
            tapes,
            simd: Simd::Auto.resolve(),
            map: None,
        }
    }

    /// The model of the free parameters when `constraints` fix or tie some (see
    /// [`crate::params`]): compiled and differentiated by `kernels-gen` like any model, with
    /// the parameters in the original order less the fixed and tied ones. Fits of it report
    /// every parameter of this model.
    ///
    /// ```
    /// use nlsq_runtime::params::Constraints;
    /// use nlsq_runtime::{ExprModel, Model};
    /// let m = ExprModel::parse("a * exp(-b * x) + c").unwrap();
    /// let free = m.constrain(&Constraints::new().fix("c", 0.5)).unwrap();
    /// assert_eq!(free.param_names(), ["a", "b"]);
    /// let bad = m.constrain(&Constraints::new().tie("a", "a + b")).unwrap_err();
    /// assert_eq!(bad.to_string(), "tie `a = a + b` refers to `a` itself");
    /// ```
    pub fn constrain(&self, constraints: &Constraints) -> Result<ExprModel, ConstraintError> {
        if self.map.is_some() {
            return Err(ConstraintError::AlreadyConstrained);
        }
        let r = reparameterize(&self.compiled.ir, constraints.roles())?;
        let mut model = ExprModel::from_ir(r.model).with_simd(self.simd);
        model.map = Some(Arc::new(r.map));
        Ok(model)
    }

    /// Runs the block tapes with the vector instructions `simd` (resolved against the
    /// processor) instead of the widest available. Every choice gives the same bits; this is
    /// for tests, benchmarks and diagnosis.
    pub fn with_simd(mut self, simd: Simd) -> Self {
        self.simd = simd.resolve();
        self
    }

    /// The model's block tapes.
    pub fn tapes(&self) -> &ModelTapes {
        &self.tapes
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
    #[inline]
    fn eval_block(&self, x: &[&[f64; BLOCK]], p: &[f64], value: &mut [f64; BLOCK]) {
        self.tapes.value.run(self.simd, x, p, value, &mut []);
    }
    #[inline]
    fn eval_with_gradient_block(
        &self,
        x: &[&[f64; BLOCK]],
        p: &[f64],
        value: &mut [f64; BLOCK],
        grad: &mut [[f64; BLOCK]],
    ) {
        self.tapes.with_gradient.run(self.simd, x, p, value, grad);
    }
    fn gradient_tape(&self) -> Option<(&BlockTape, Simd)> {
        Some((&self.tapes.with_gradient, self.simd))
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
    fn param_map(&self) -> Option<&ParamMap> {
        self.map.as_deref()
    }
    fn param_roles(&self) -> Option<Vec<kernels_gen::roles::Role>> {
        Some(kernels_gen::roles::param_roles(&self.compiled.ir))
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
