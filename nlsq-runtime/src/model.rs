//! The model interface every solver and backend works against.

use crate::block::{BLOCK, BlockTape, Simd};
use kernels_gen::reparam::ParamMap;
use kernels_gen::roles::Role;
use kernels_gen::{ModelHash, Precision};

/// A model `f(x; p)` with its exact gradient and device kernels.
///
/// Implemented by `#[model]` for compiled functions and by [`ExprModel`](crate::ExprModel) for models given as
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
    /// Values at [`BLOCK`] points: `x[k][i]` is predictor `k` of point `i`; the values go to
    /// `value[i]`. The block function `#[model]` emits (see [`crate::block`]), or this default,
    /// which calls [`Model::eval`] point by point.
    #[inline(always)]
    fn eval_block(&self, x: &[&[f64; BLOCK]], p: &[f64], value: &mut [f64; BLOCK]) {
        let mut xs = vec![0.0; x.len()];
        for (i, v) in value.iter_mut().enumerate() {
            for (xk, col) in xs.iter_mut().zip(x) {
                *xk = col[i];
            }
            *v = self.eval(&xs, p);
        }
    }
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
    /// The block tape that computes [`Model::eval_with_gradient_block`], and the vector
    /// instructions it runs on, for a model given at run time ([`crate::ExprModel`]): a CPU
    /// pass readies it once per chunk of points instead of once per block. `None` (the
    /// default) for other models, whose block function the pass calls.
    fn gradient_tape(&self) -> Option<(&BlockTape, Simd)> {
        None
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
    /// For a model with fixed or tied parameters ([`crate::params`]), the map from its
    /// (free) parameters to every parameter of the original model: fits then report all of
    /// them. `None` (the default) for other models.
    fn param_map(&self) -> Option<&ParamMap> {
        None
    }
    /// What each parameter does in the model (linear, a location or a rate of a predictor;
    /// [`kernels_gen::roles`]), which a multi-start search draws its starts from
    /// ([`crate::search`]); `None` (the default) when the model does not say.
    fn param_roles(&self) -> Option<Vec<Role>> {
        None
    }
}

/// What the finishing step of a fit reads of the parameter vector it solved for: names, the
/// name and hash that identify it in reports and checkpoints, and the map back to every
/// parameter of the model. Every [`Model`] is one; a global fit's parameter layout
/// (`fit::global`) is one without being a model.
pub(crate) trait ParamSpace {
    /// The name reports give.
    fn space_name(&self) -> &str;
    /// Number of solved parameters.
    fn space_len(&self) -> usize;
    /// Their names, in order.
    fn space_names(&self) -> Vec<&str>;
    /// The hash that identifies the parameters' meaning in a checkpoint.
    fn space_hash(&self) -> ModelHash;
    /// See [`Model::param_map`].
    fn space_map(&self) -> Option<&ParamMap>;
    /// See [`Model::param_roles`].
    fn space_roles(&self) -> Option<Vec<Role>>;
}

impl<M: Model> ParamSpace for M {
    fn space_name(&self) -> &str {
        self.name()
    }
    fn space_len(&self) -> usize {
        self.n_params()
    }
    fn space_names(&self) -> Vec<&str> {
        self.param_names()
    }
    fn space_hash(&self) -> ModelHash {
        self.hash()
    }
    fn space_map(&self) -> Option<&ParamMap> {
        self.param_map()
    }
    fn space_roles(&self) -> Option<Vec<Role>> {
        self.param_roles()
    }
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
    fn eval_block(&self, x: &[&[f64; BLOCK]], p: &[f64], value: &mut [f64; BLOCK]) {
        (**self).eval_block(x, p, value)
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
    fn gradient_tape(&self) -> Option<(&BlockTape, Simd)> {
        (**self).gradient_tape()
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
    fn param_map(&self) -> Option<&ParamMap> {
        (**self).param_map()
    }
    fn param_roles(&self) -> Option<Vec<Role>> {
        (**self).param_roles()
    }
}
