//! The one backend selector, for single fits and batch fits: the backend asked for, or for
//! [`Backend::Auto`] CUDA, then a hardware wgpu adapter (never a software one such as lavapipe:
//! the CPU backend is faster than the same kernels through a shader compiler on the same
//! cores), then the CPU. The chosen [`Device`] then builds the objective of a fit, so the
//! `#[cfg]` arms of the backends live here.

#[cfg(any(feature = "cuda", feature = "wgpu"))]
use super::ResidentData;
use super::chunked::{ChunkedObjective, ChunkedSpec};
use super::{AUTO_GPU_MIN_FITS, AUTO_GPU_MIN_POINTS, Backend, CudaDevices};
use crate::data::{FitData, NanPolicy};
use crate::error::FitError;
use crate::loss::Loss;
use crate::memory::{DataPlan, MemoryLimits};
use crate::model::Model;
use crate::solve::Objective;
use crate::stream::{ChunkReader, DataSource};
use kernels_gen::Precision;

/// What a backend is chosen for.
// Each GPU backend reads its own fields.
#[cfg_attr(not(all(feature = "cuda", feature = "wgpu")), allow(dead_code))]
pub(crate) enum Work {
    /// One fit of `points` points; `dense`: a covariance sigma (CPU only); `streamed`: data
    /// read chunk by chunk (not on wgpu).
    Fit {
        points: usize,
        dense: bool,
        streamed: bool,
    },
    /// `fits` independent fits; whether the model has CUDA and WGSL batch kernels.
    Batch {
        fits: usize,
        cuda_kernels: bool,
        wgsl_kernels: bool,
    },
}

impl Work {
    /// "N points" or "N fits", for the reasons.
    #[cfg_attr(not(any(feature = "cuda", feature = "wgpu")), allow(dead_code))]
    fn size(&self) -> String {
        match self {
            Work::Fit { points, .. } => format!("{points} points"),
            Work::Batch { fits, .. } => format!("{fits} fits"),
        }
    }

    /// Below this size `Auto` stays on the CPU: the size, the threshold and their unit.
    fn small(&self) -> Option<(usize, usize, &'static str)> {
        let (n, min, unit) = match self {
            Work::Fit { points, .. } => (*points, AUTO_GPU_MIN_POINTS, "points"),
            Work::Batch { fits, .. } => (*fits, AUTO_GPU_MIN_FITS, "fits"),
        };
        (n < min).then_some((n, min, unit))
    }
}

/// Where the work runs.
#[derive(Clone)]
pub(crate) enum Device {
    Cpu,
    #[cfg(feature = "cuda")]
    Cuda(std::sync::Arc<super::cuda::Gpu>),
    /// One dataset split over several CUDA devices ([`CudaDevices`]).
    #[cfg(feature = "cuda")]
    CudaMulti(std::sync::Arc<Vec<std::sync::Arc<super::cuda::Gpu>>>),
    #[cfg(feature = "wgpu")]
    Wgpu(std::sync::Arc<super::wgpu::Gpu>),
}

/// A device and the reason the result reports.
pub(crate) struct Selected {
    pub(crate) device: Device,
    pub(crate) why: String,
}

/// Chooses where `work` runs for `backend` in `precision`.
pub(crate) fn select(
    backend: Backend,
    precision: Precision,
    work: &Work,
) -> Result<Selected, FitError> {
    let cpu = |why: String| {
        Ok(Selected {
            device: Device::Cpu,
            why,
        })
    };
    let dense = matches!(work, Work::Fit { dense: true, .. });
    match backend {
        Backend::Cpu => cpu("cpu (chosen)".into()),
        Backend::Cuda | Backend::Wgpu if dense => Err(FitError::InvalidOption {
            option: "backend".into(),
            reason: "a covariance sigma is fitted on the CPU only".into(),
        }),
        Backend::Cuda => explicit_cuda(precision),
        Backend::Wgpu => explicit_wgpu(precision, work),
        Backend::Auto if dense => cpu("cpu (auto: a covariance sigma is fitted on the CPU)".into()),
        Backend::Auto => match work.small() {
            Some((n, min, unit)) => cpu(format!(
                "cpu (auto: {n} {unit}, below the {min} where a GPU wins)"
            )),
            None => Ok(auto(precision, work)),
        },
    }
}

/// The device [`on_devices`] chooses for in-memory data, without the reason it reports (which
/// costs a formatted string): for plans that only need to know where the data will go.
pub(crate) fn device(
    backend: Backend,
    devices: &CudaDevices,
    precision: Precision,
    work: &Work,
) -> Device {
    let dense = matches!(work, Work::Fit { dense: true, .. });
    match backend {
        Backend::Cpu => Device::Cpu,
        Backend::Auto if dense || work.small().is_some() => Device::Cpu,
        _ => select(backend, precision, work)
            .and_then(|s| on_devices(s, devices, true))
            .map_or(Device::Cpu, |s| s.device),
    }
}

/// A selection of CUDA moved to the devices asked for: for in-memory data (`split`), several
/// devices become one [`Device::CudaMulti`]; otherwise (streamed or chunked data) the first of
/// them runs the fit. Any other selection, and the default [`CudaDevices::First`], stay.
#[cfg_attr(not(feature = "cuda"), allow(unused_variables))]
pub(crate) fn on_devices(
    selected: Selected,
    devices: &CudaDevices,
    split: bool,
) -> Result<Selected, FitError> {
    #[cfg(feature = "cuda")]
    if let (Device::Cuda(_), false) = (&selected.device, *devices == CudaDevices::First) {
        use super::cuda::Gpu;
        let ordinals: Vec<usize> = match devices {
            CudaDevices::List(l) => l.clone(),
            _ => (0..Gpu::count()?).collect(),
        };
        let take = if split { ordinals.len() } else { 1 };
        let gpus = ordinals[..take.min(ordinals.len())]
            .iter()
            .map(|&o| Gpu::shared_on(o))
            .collect::<Result<Vec<_>, _>>()?;
        let names: Vec<String> = ordinals[..gpus.len()]
            .iter()
            .zip(&gpus)
            .map(|(o, g)| format!("{o}: {} ({})", g.name, g.arch))
            .collect();
        let why = format!("{}, on CUDA device {}", selected.why, names.join(", "));
        return Ok(Selected {
            device: match gpus.len() {
                1 => Device::Cuda(gpus[0].clone()),
                _ => Device::CudaMulti(std::sync::Arc::new(gpus)),
            },
            why,
        });
    }
    Ok(selected)
}

#[cfg_attr(not(feature = "cuda"), allow(unused_variables))]
fn explicit_cuda(precision: Precision) -> Result<Selected, FitError> {
    #[cfg(feature = "cuda")]
    {
        let gpu = super::cuda::Gpu::shared()?;
        let why = format!("cuda {} ({}), {precision} (chosen)", gpu.name, gpu.arch);
        Ok(Selected {
            device: Device::Cuda(gpu),
            why,
        })
    }
    #[cfg(not(feature = "cuda"))]
    Err(FitError::Backend {
        backend: "cuda".into(),
        message: "this build has no CUDA support: enable the `cuda` feature".into(),
    })
}

#[cfg_attr(not(feature = "wgpu"), allow(unused_variables))]
fn explicit_wgpu(precision: Precision, work: &Work) -> Result<Selected, FitError> {
    #[cfg(feature = "wgpu")]
    {
        let gpu = super::wgpu::Gpu::shared()?;
        if matches!(work, Work::Fit { streamed: true, .. }) {
            return Err(FitError::InvalidOption {
                option: "backend".into(),
                reason: format!(
                    "the wgpu backend ({}) fits in-memory data only; chunked and streamed data run on the CPU or CUDA",
                    gpu.describe()
                ),
            });
        }
        if matches!(work, Work::Fit { .. }) {
            gpu.check_precision(precision)?;
        }
        let why = format!("wgpu {}, {precision} (chosen)", gpu.describe());
        Ok(Selected {
            device: Device::Wgpu(gpu),
            why,
        })
    }
    #[cfg(not(feature = "wgpu"))]
    Err(FitError::Backend {
        backend: "wgpu".into(),
        message: "this build has no wgpu support: enable the `wgpu` feature".into(),
    })
}

/// `Backend::Auto` for large work: CUDA, then a hardware wgpu adapter, then the CPU, saying
/// why each GPU was passed over.
#[cfg_attr(
    not(any(feature = "cuda", feature = "wgpu")),
    allow(unused_variables, unused_mut)
)]
fn auto(precision: Precision, work: &Work) -> Selected {
    let mut why_not: Vec<String> = Vec::new();
    #[cfg(feature = "cuda")]
    match auto_cuda(precision, work) {
        Ok(selected) => return selected,
        Err(why) => why_not.push(why),
    }
    #[cfg(feature = "wgpu")]
    match auto_wgpu(precision, work) {
        Ok(selected) => return selected,
        Err(why) => why_not.push(why),
    }
    let why = if why_not.is_empty() {
        "cpu (auto: built without GPU backends)".to_string()
    } else {
        format!("cpu (auto: no usable GPU: {})", why_not.join("; "))
    };
    Selected {
        device: Device::Cpu,
        why,
    }
}

/// CUDA for `Auto`, or why not.
#[cfg(feature = "cuda")]
fn auto_cuda(precision: Precision, work: &Work) -> Result<Selected, String> {
    if matches!(
        work,
        Work::Batch {
            cuda_kernels: false,
            ..
        }
    ) {
        return Err("the model has no CUDA batch kernels".into());
    }
    let gpu = super::cuda::Gpu::shared().map_err(|e| e.to_string())?;
    let why = format!(
        "cuda {} ({}), {precision} (auto: {})",
        gpu.name,
        gpu.arch,
        work.size()
    );
    Ok(Selected {
        device: Device::Cuda(gpu),
        why,
    })
}

/// A hardware wgpu adapter for `Auto`, or why not. A software adapter (lavapipe, WARP) runs
/// the same kernels on the CPU through a shader compiler and a driver: slower than the CPU
/// backend, which is parallel already.
#[cfg(feature = "wgpu")]
fn auto_wgpu(precision: Precision, work: &Work) -> Result<Selected, String> {
    if matches!(
        work,
        Work::Batch {
            wgsl_kernels: false,
            ..
        }
    ) {
        return Err("the model has no WGSL batch kernels".into());
    }
    let gpu = super::wgpu::Gpu::shared().map_err(|e| e.to_string())?;
    let name = gpu.describe();
    if gpu.is_software() {
        return Err(format!(
            "wgpu adapter {name} is a software implementation on the CPU, slower than the CPU backend"
        ));
    }
    if gpu.check_precision(precision).is_err() {
        return Err(format!(
            "wgpu adapter {name} has no SHADER_F64 for f64 work"
        ));
    }
    if matches!(work, Work::Fit { streamed: true, .. }) {
        return Err(format!(
            "the wgpu backend ({name}) fits in-memory data only"
        ));
    }
    let why = format!("wgpu {name}, {precision} (auto: {})", work.size());
    Ok(Selected {
        device: Device::Wgpu(gpu),
        why,
    })
}

/// Host data as a device holds it: in place on the CPU, uploaded on a GPU.
pub(crate) enum Uploaded {
    Host,
    #[cfg(feature = "cuda")]
    Cuda(Box<super::cuda::DeviceData>),
    #[cfg(feature = "cuda")]
    CudaMulti(Box<super::cuda::MultiDeviceData>),
    #[cfg(feature = "wgpu")]
    Wgpu(Box<super::wgpu::DeviceData>),
}

impl Device {
    /// Whether this device checks the finiteness of host data itself once it is uploaded in
    /// `precision` ([`Uploaded::first_nonfinite`]): CUDA in f64 (in f32, a finite double can
    /// round to an infinite float, so the host checks the doubles).
    #[cfg_attr(not(feature = "cuda"), allow(unused_variables))]
    pub(crate) fn checks_data(&self, precision: Precision) -> bool {
        match self {
            #[cfg(feature = "cuda")]
            Device::Cuda(_) | Device::CudaMulti(_) => precision == Precision::F64,
            _ => false,
        }
    }

    /// The plan of in-memory data of `n` points that exceed this device's memory: CUDA passes
    /// them through two fixed device buffers; other devices hold what the host holds.
    #[cfg_attr(not(feature = "cuda"), allow(unused_variables))]
    pub(crate) fn chunked_plan(
        &self,
        limits: &MemoryLimits,
        n: usize,
        k: usize,
        sigma: bool,
        precision: Precision,
        host: &DataPlan,
    ) -> Option<DataPlan> {
        match self {
            #[cfg(feature = "cuda")]
            Device::Cuda(gpu) => {
                super::cuda::chunked::device_plan(gpu, limits, n, k, sigma, precision, host)
            }
            // In memory when every device holds its share; otherwise the chunked driver on the
            // first device (the chunked route runs there).
            #[cfg(feature = "cuda")]
            Device::CudaMulti(gpus) => {
                let memory: Vec<usize> = gpus.iter().map(|g| g.total_memory).collect();
                let shares = super::cuda::multi::shares(n, &memory);
                let fits = gpus.iter().zip(shares).all(|(gpu, share)| {
                    super::cuda::chunked::device_plan(
                        gpu,
                        limits,
                        share.len(),
                        k,
                        sigma,
                        precision,
                        host,
                    )
                    .is_none()
                });
                if fits {
                    return None;
                }
                let mut plan = super::cuda::chunked::device_plan(
                    &gpus[0], limits, n, k, sigma, precision, host,
                )?;
                plan.reason = format!(
                    "the shares exceed a device's budget: chunked on the first device; {}",
                    plan.reason
                );
                Some(plan)
            }
            _ => None,
        }
    }

    /// Puts validated host data where this device reads it.
    #[cfg_attr(not(any(feature = "cuda", feature = "wgpu")), allow(unused_variables))]
    pub(crate) fn upload(
        &self,
        data: &FitData<'_>,
        precision: Precision,
    ) -> Result<Uploaded, FitError> {
        Ok(match self {
            Device::Cpu => Uploaded::Host,
            #[cfg(feature = "cuda")]
            Device::Cuda(gpu) => Uploaded::Cuda(Box::new(super::cuda::DeviceData::upload(
                gpu, data, precision,
            )?)),
            #[cfg(feature = "cuda")]
            Device::CudaMulti(gpus) => Uploaded::CudaMulti(Box::new(
                super::cuda::MultiDeviceData::upload(gpus, data, precision)?,
            )),
            #[cfg(feature = "wgpu")]
            Device::Wgpu(gpu) => Uploaded::Wgpu(Box::new(super::wgpu::DeviceData::upload(
                gpu, data, precision,
            )?)),
        })
    }

    /// The objective of `model` over the chunks of `source` on this device, sized by `plan`
    /// (CUDA fills in the device budget and sets the chunk size to its buffers' capacity).
    pub(crate) fn chunked_objective<'s, M: Model>(
        &self,
        model: &'s M,
        source: &'s mut dyn DataSource,
        nan_policy: NanPolicy,
        spec: ChunkedSpec,
        plan: &mut DataPlan,
    ) -> Result<Box<dyn ChunkedObjective<'s> + 's>, FitError> {
        match self {
            #[cfg(feature = "cuda")]
            Device::Cuda(gpu) => Ok(Box::new(super::cuda::chunked::chunked_objective(
                model, gpu, source, nan_policy, spec, plan,
            )?)),
            #[cfg(feature = "cuda")]
            Device::CudaMulti(gpus) => Ok(Box::new(super::cuda::chunked::chunked_objective(
                model, &gpus[0], source, nan_policy, spec, plan,
            )?)),
            #[cfg(feature = "wgpu")]
            Device::Wgpu(gpu) => Err(FitError::InvalidOption {
                option: "backend".into(),
                reason: format!(
                    "the wgpu backend ({}) fits in-memory data only; {} data runs on the CPU or CUDA",
                    gpu.describe(),
                    plan.mode
                ),
            }),
            Device::Cpu => {
                let reader = ChunkReader::new(source, nan_policy, plan.chunk_points);
                Ok(Box::new(super::cpu_chunks::CpuChunked::new(
                    model,
                    reader,
                    spec.loss,
                    spec.f_scale,
                )))
            }
        }
    }
}

impl Uploaded {
    /// [`Uploaded::objective`], after a device that [checks data](Device::checks_data) has
    /// checked it when `check`: the first point whose `x` or `y` is not finite is `data`'s
    /// [`NanPolicy::Raise`] error, the one a host scan gives.
    #[cfg_attr(not(feature = "cuda"), allow(unused_variables))]
    pub(crate) fn checked_objective<'d, M: Model>(
        &'d self,
        model: &'d M,
        data: &'d FitData<'d>,
        loss: Loss,
        f_scale: f64,
        check: bool,
    ) -> Result<Box<dyn Objective + 'd>, FitError> {
        match self {
            #[cfg(feature = "cuda")]
            Uploaded::Cuda(d) if check => {
                let objective = super::cuda::CudaObjective::new(model, d, loss, f_scale)?;
                if let Some(i) = objective.first_nonfinite()? {
                    return Err(data.nonfinite_error(i));
                }
                Ok(Box::new(objective))
            }
            #[cfg(feature = "cuda")]
            Uploaded::CudaMulti(d) if check => {
                let objective = d.objective(model, loss, f_scale)?;
                if let Some(i) = objective.first_nonfinite()? {
                    return Err(data.nonfinite_error(i));
                }
                Ok(Box::new(objective))
            }
            _ => self.objective(model, data, loss, f_scale),
        }
    }

    /// The pass objective of `model` over `data` (already uploaded to this device).
    pub(crate) fn objective<'d, M: Model>(
        &'d self,
        model: &'d M,
        data: &'d FitData<'d>,
        loss: Loss,
        f_scale: f64,
    ) -> Result<Box<dyn Objective + 'd>, FitError> {
        match self {
            Uploaded::Host => Ok(Box::new(super::CpuBackend::new(model, data, loss, f_scale))),
            #[cfg(feature = "cuda")]
            Uploaded::Cuda(d) => d.objective(model, loss, f_scale),
            #[cfg(feature = "cuda")]
            Uploaded::CudaMulti(d) => Ok(Box::new(d.objective(model, loss, f_scale)?)),
            #[cfg(feature = "wgpu")]
            Uploaded::Wgpu(d) => d.objective(model, loss, f_scale),
        }
    }
}
