//! Compiled pipelines: an in-memory LRU keyed by (model hash, precision, adapter, module kind):
//! the fit module's four pipelines (and its K-vector pass, built at first use), and the batch
//! module's one (`nlsq_batch_lm`, eight bindings, see [`kernels_gen::kernels::abi`]).
//!
//! Every pipeline of a model shares one explicit bind-group layout (the kernel ABI's six
//! bindings), so the same bind groups serve the pass and the evaluation kernels. Shader and
//! pipeline creation run inside a validation error scope: a module the device rejects is a
//! [`FitError::Backend`] naming the model, never a panic.

use super::{Gpu, backend_error};
pub use crate::backend::kernel_cache::CacheStats;
use crate::backend::kernel_cache::Memo;
use crate::error::FitError;
use crate::model::Model;
use kernels_gen::{ModelHash, Precision};
use std::sync::{Arc, OnceLock};

/// The compute pipelines of one model, precision and adapter.
pub struct Pipelines {
    /// The layout of bind group 0 (kernel ABI bindings 0..=5).
    pub layout: wgpu::BindGroupLayout,
    /// `nlsq_pass`.
    pub pass: wgpu::ComputePipeline,
    /// `nlsq_eval`.
    pub eval: wgpu::ComputePipeline,
    /// `nlsq_residuals`.
    pub residuals: wgpu::ComputePipeline,
    /// `nlsq_jacobian`.
    pub jacobian: wgpu::ComputePipeline,
    /// The module and pipeline layout the K-vector pass is built from at its first use.
    module: wgpu::ShaderModule,
    pipeline_layout: wgpu::PipelineLayout,
    /// `nlsq_pass_k`, built by [`Pipelines::pass_k`] (only multi-start searches use it).
    pass_k: OnceLock<wgpu::ComputePipeline>,
}

impl Pipelines {
    /// The K-vector pass `nlsq_pass_k` (the kernel ABI's), built at its first use: a fit
    /// without a multi-start search never compiles it.
    pub fn pass_k(&self, gpu: &Gpu) -> Result<&wgpu::ComputePipeline, FitError> {
        if let Some(p) = self.pass_k.get() {
            return Ok(p);
        }
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let pipeline = pipeline(gpu, &self.pipeline_layout, &self.module, "nlsq_pass_k");
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(backend_error(format!(
                "the K-vector pass could not be created on {}: {e}",
                gpu.describe()
            )));
        }
        Ok(self.pass_k.get_or_init(|| pipeline))
    }
}

/// The batch-fit pipeline of one model, precision and adapter.
pub struct BatchPipeline {
    /// The layout of bind group 0 (batch ABI bindings 0..=7).
    pub layout: wgpu::BindGroupLayout,
    /// `nlsq_batch_lm`.
    pub pipeline: wgpu::ComputePipeline,
}

type Key = (ModelHash, Precision, String);

/// In-memory LRU of compiled pipelines.
pub struct PipelineCache {
    memory: Memo<Key, Arc<Pipelines>>,
    batch: Memo<Key, Arc<BatchPipeline>>,
    stats: CacheStats,
}

impl Default for PipelineCache {
    fn default() -> Self {
        Self::new()
    }
}

fn layout_entry(binding: u32, ty: wgpu::BindingType) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty,
        count: None,
    }
}

fn storage(read_only: bool) -> wgpu::BindingType {
    wgpu::BindingType::Buffer {
        ty: wgpu::BufferBindingType::Storage { read_only },
        has_dynamic_offset: false,
        min_binding_size: None,
    }
}

impl PipelineCache {
    /// An empty cache.
    pub fn new() -> Self {
        PipelineCache {
            memory: Memo::new(),
            batch: Memo::new(),
            stats: CacheStats::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// The pipelines of `model` in `precision` on `gpu`, built on first use.
    pub fn pipelines<M: Model + ?Sized>(
        &mut self,
        gpu: &Gpu,
        model: &M,
        precision: Precision,
    ) -> Result<Arc<Pipelines>, FitError> {
        let key: Key = (model.hash(), precision, gpu.adapter_key());
        self.memory.get_or_make(&mut self.stats, key, |stats| {
            let source = model.wgsl_source(precision);
            let p = stats.build(|| build(gpu, model.name(), source, precision))?;
            tracing::debug!(model = model.name(), %precision, adapter = %gpu.info.name, "built wgpu pipelines");
            Ok(Arc::new(p))
        })
    }
}

impl PipelineCache {
    /// The batch pipeline of `model` in `precision` on `gpu`, built on first use; an error
    /// when the model has no batch module (more than [`kernels_gen::kernels::abi::BATCH_MAX_P`]
    /// parameters) or the device lacks `precision`.
    pub fn batch_pipeline<M: Model + ?Sized>(
        &mut self,
        gpu: &Gpu,
        model: &M,
        precision: Precision,
    ) -> Result<Arc<BatchPipeline>, FitError> {
        let key: Key = (model.hash(), precision, gpu.adapter_key());
        self.batch.get_or_make(&mut self.stats, key, |stats| {
            let source = model.wgsl_batch_source(precision).ok_or_else(|| {
                backend_error(format!(
                    "model `{}` has no WGSL batch module ({} parameters; the batch kernels take at most {})",
                    model.name(),
                    model.n_params(),
                    kernels_gen::kernels::abi::BATCH_MAX_P
                ))
            })?;
            let p = stats.build(|| build_batch(gpu, model.name(), source, precision))?;
            tracing::debug!(model = model.name(), %precision, adapter = %gpu.info.name, "built wgpu batch pipeline");
            Ok(Arc::new(p))
        })
    }
}

/// The uniform binding type of every module.
fn uniform() -> wgpu::BindingType {
    wgpu::BindingType::Buffer {
        ty: wgpu::BufferBindingType::Uniform,
        has_dynamic_offset: false,
        min_binding_size: None,
    }
}

/// A compiled WGSL module: its bind-group layout, pipeline layout, module, and one pipeline per
/// entry point asked for.
struct CompiledModule {
    layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    module: wgpu::ShaderModule,
    pipelines: Vec<wgpu::ComputePipeline>,
}

/// The compute pipeline of `entry` in `module`.
fn pipeline(
    gpu: &Gpu,
    layout: &wgpu::PipelineLayout,
    module: &wgpu::ShaderModule,
    entry: &str,
) -> wgpu::ComputePipeline {
    gpu.device
        .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: Some(layout),
            module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        })
}

/// Compiles `source` (a WGSL module of model `name`, `what` for messages) with bindings
/// `0..bindings.len()` into one pipeline per entry point, inside a validation error scope so
/// that a rejected shader becomes an error naming the model.
fn compile(
    gpu: &Gpu,
    name: &str,
    what: &str,
    source: &str,
    precision: Precision,
    bindings: &[wgpu::BindingType],
    entry_points: &[&str],
) -> Result<CompiledModule, FitError> {
    gpu.check_precision(precision)?;
    let device = &gpu.device;
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(name),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let entries: Vec<wgpu::BindGroupLayoutEntry> = bindings
        .iter()
        .enumerate()
        .map(|(i, ty)| layout_entry(i as u32, *ty))
        .collect();
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(what),
        entries: &entries,
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(name),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let pipelines = entry_points
        .iter()
        .map(|entry| pipeline(gpu, &pipeline_layout, &module, entry))
        .collect();
    if let Some(e) = pollster::block_on(scope.pop()) {
        return Err(backend_error(format!(
            "model `{name}`: the {precision} {what} could not be created on {}: {e}",
            gpu.describe()
        )));
    }
    Ok(CompiledModule {
        layout,
        pipeline_layout,
        module,
        pipelines,
    })
}

/// Compiles `source` (the WGSL batch module of model `name`) into its pipeline.
pub fn build_batch(
    gpu: &Gpu,
    name: &str,
    source: &str,
    precision: Precision,
) -> Result<BatchPipeline, FitError> {
    let (r, w) = (storage(true), storage(false));
    let mut c = compile(
        gpu,
        name,
        "WGSL batch pipeline",
        source,
        precision,
        &[r, r, r, r, r, uniform(), w, w],
        &["nlsq_batch_lm"],
    )?;
    let pipeline = c.pipelines.remove(0);
    Ok(BatchPipeline {
        layout: c.layout,
        pipeline,
    })
}

/// Compiles `source` (the WGSL module of model `name`) into the four pipelines (the K-vector
/// pass is built at its first use).
pub fn build(
    gpu: &Gpu,
    name: &str,
    source: &str,
    precision: Precision,
) -> Result<Pipelines, FitError> {
    let (r, w) = (storage(true), storage(false));
    let c = compile(
        gpu,
        name,
        "WGSL pipelines",
        source,
        precision,
        &[r, r, r, r, uniform(), w],
        &["nlsq_pass", "nlsq_eval", "nlsq_residuals", "nlsq_jacobian"],
    )?;
    let [pass, eval, residuals, jacobian]: [wgpu::ComputePipeline; 4] = c
        .pipelines
        .try_into()
        .map_err(|_| backend_error("four entry points give four pipelines"))?;
    Ok(Pipelines {
        pass,
        eval,
        residuals,
        jacobian,
        layout: c.layout,
        module: c.module,
        pipeline_layout: c.pipeline_layout,
        pass_k: OnceLock::new(),
    })
}
