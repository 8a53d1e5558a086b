//! How a [`GlobalFit`] runs: each dataset is checked as a fit of its own, the global parameter
//! vector is laid out, each dataset gets its data route, and the finishing step solves the
//! summed objective.

use super::dataset::Data;
use super::layout::{DatasetParams, Layout};
use super::route::{GlobalRoute, Part};
use super::{GlobalFit, in_dataset};
use crate::backend::select::Uploaded;
use crate::error::FitError;
use crate::fit::DEFAULT_MAX_NFEV_PER_PARAM;
use crate::fit::finish::{Route, finish};
use crate::fit::memory::{Columns, Placed, in_memory_route, place};
use crate::fit::source::{check_inputs, read_into_memory};
use crate::fit::spec::Spec;
use crate::fit::streamed::streamed_route;
use crate::loss::Loss;
use crate::memory::DataPlan;
use crate::model::Model;
use crate::profile::Began;
use crate::result::{DatasetFit, FitResult};
use crate::solve::{Method, SolverOptions, XScale};
use crate::stream::{Chunk, DataSource, SliceSource};

type DatasetSpec<'a> = Spec<&'a dyn Model>;

/// How a dataset is read, decided before any of its data is borrowed.
enum Kind {
    /// In memory (a source's data read into memory).
    Memory,
    /// In-memory data cut into chunks (beyond a budget, or by `chunk_points`).
    Chunked(DataPlan),
    /// A source read once per pass.
    Streamed(DataPlan),
}

/// A dataset ready for its route.
enum Ready<'x> {
    Memory(Placed<'x>),
    Chunked(SliceSource<'x>, DataPlan),
    Streamed(&'x mut dyn DataSource, DataPlan),
}

pub(super) fn fit(g: GlobalFit<'_>) -> Result<FitResult, FitError> {
    let start = Began::now();
    if g.datasets.is_empty() {
        return Err(FitError::InvalidOption {
            option: "datasets".into(),
            reason: "a global fit needs at least one dataset".into(),
        });
    }
    let labels = labels(&g)?;
    let mut specs = Vec::with_capacity(g.datasets.len());
    let mut data = Vec::with_capacity(g.datasets.len());
    for (d, label) in g.datasets.into_iter().zip(&labels) {
        let mut fit = d.fit.loss(g.loss).f_scale(g.f_scale);
        fit = fit.absolute_sigma(g.absolute_sigma);
        (fit.options.ftol, fit.options.xtol) = (g.options.ftol, g.options.xtol);
        fit.options.gtol = g.options.gtol;
        if let Some(m) = g.method {
            fit = fit.method(m);
        }
        let (spec, _) = fit.into_spec().map_err(|e| in_dataset(label, e))?;
        specs.push(spec);
        data.push(d.data);
    }
    let params: Vec<DatasetParams<'_>> = specs
        .iter()
        .zip(&labels)
        .map(|(s, label)| dataset_params(s, label))
        .collect();
    let layout = Layout::new(&params, &g.shared)?;
    let maps = layout.maps.clone();
    let global = GlobalOptions {
        method: g.method,
        loss: g.loss,
        f_scale: g.f_scale,
        absolute_sigma: g.absolute_sigma,
        options: g.options,
    };
    let mut spec = global_spec(layout, &specs[0], global)?;
    spec.long = g.long;
    spec.long.check()?;

    let mut kinds = Vec::with_capacity(specs.len());
    let mut loaded = Vec::with_capacity(specs.len());
    for ((s, d), label) in specs.iter().zip(data.iter_mut()).zip(&labels) {
        let (kind, chunk) = plan_dataset(s, d).map_err(|e| in_dataset(label, e))?;
        kinds.push(kind);
        loaded.push(chunk);
    }
    let mut ready = Vec::with_capacity(specs.len());
    for ((((d, chunk), kind), s), label) in data
        .iter_mut()
        .zip(&loaded)
        .zip(kinds)
        .zip(&specs)
        .zip(&labels)
    {
        ready.push(ready_dataset(s, d, chunk.as_ref(), kind).map_err(|e| in_dataset(label, e))?);
    }
    let uploads = ready
        .iter()
        .zip(&specs)
        .map(|(r, s)| match r {
            Ready::Memory(p) => p.upload(s),
            _ => Ok(None),
        })
        .collect::<Result<Vec<Option<Uploaded>>, FitError>>()?;
    let mut parts = Vec::with_capacity(specs.len());
    for ((((r, up), s), label), map) in ready
        .iter_mut()
        .zip(&uploads)
        .zip(&specs)
        .zip(&labels)
        .zip(maps)
    {
        let (route, plan) = route_of(s, r, up.as_ref()).map_err(|e| in_dataset(label, e))?;
        parts.push(Part {
            label: label.clone(),
            route,
            p: vec![0.0; map.len()],
            map,
            plan,
        });
    }
    let mut route = GlobalRoute {
        n_params: spec.p0.len(),
        parts,
    };
    let mut result = finish(&spec, g.callback, &mut route, DataPlan::default(), start)?;
    result.datasets = dataset_fits(&mut route, &specs, &result.popt)?;
    Ok(result)
}

/// Each dataset's label: its own, or its position; labels are unique and name parameters.
fn labels(g: &GlobalFit<'_>) -> Result<Vec<String>, FitError> {
    let labels: Vec<String> = g
        .datasets
        .iter()
        .enumerate()
        .map(|(i, d)| d.label.clone().unwrap_or_else(|| i.to_string()))
        .collect();
    for (i, l) in labels.iter().enumerate() {
        let reason = if l.is_empty() || l.contains(['[', ']']) {
            format!("dataset label `{l}` must be non-empty, without `[` or `]`")
        } else if labels[..i].contains(l) {
            format!("two datasets are labelled `{l}`")
        } else {
            continue;
        };
        return Err(FitError::InvalidOption {
            option: "label".into(),
            reason,
        });
    }
    Ok(labels)
}

fn dataset_params<'d>(s: &'d DatasetSpec<'_>, label: &'d str) -> DatasetParams<'d> {
    let np = s.p0.len();
    DatasetParams {
        label,
        model: s.model.name(),
        hash: s.model.hash(),
        names: s.model.param_names(),
        p0: &s.p0,
        lower: (0..np).map(|j| s.options.lower(j)).collect(),
        upper: (0..np).map(|j| s.options.upper(j)).collect(),
    }
}

/// The options of the whole fit.
struct GlobalOptions {
    method: Option<Method>,
    loss: Loss,
    f_scale: f64,
    absolute_sigma: bool,
    options: SolverOptions,
}

/// The checked specification of the global solve (its data settings are unused: each
/// dataset has its own).
fn global_spec<'a>(
    layout: Layout,
    first: &DatasetSpec<'a>,
    g: GlobalOptions,
) -> Result<Spec<Layout>, FitError> {
    let np = layout.names.len();
    let bounded = layout.bounded();
    let linear = g.loss == Loss::Linear;
    let method = g.method.unwrap_or(if bounded || !linear {
        Method::Trf
    } else {
        Method::Lm
    });
    if let XScale::Fixed(s) = &g.options.x_scale
        && !s.is_empty()
        && (s.len() != np || s.iter().any(|v| !(v.is_finite() && *v > 0.0)))
    {
        return Err(FitError::InvalidOption {
            option: "x_scale".into(),
            reason: format!("needs {np} positive finite values, one per global parameter"),
        });
    }
    let options = SolverOptions {
        max_nfev: g.options.max_nfev.or(Some(DEFAULT_MAX_NFEV_PER_PARAM * np)),
        lower: layout.lower.clone(),
        upper: layout.upper.clone(),
        ..g.options
    };
    Ok(Spec {
        p0: layout.p0.clone(),
        model: layout,
        method,
        options,
        loss: g.loss,
        f_scale: g.f_scale,
        sigma: None,
        absolute_sigma: g.absolute_sigma,
        nan_policy: first.nan_policy,
        backend: first.backend,
        cuda_devices: first.cuda_devices.clone(),
        precision: first.precision,
        memory: first.memory,
        long: Default::default(),
        #[cfg(feature = "mpi")]
        dist: None,
        multistart: None,
    })
}

/// How dataset `d` is read; a source that is read into memory is read here.
fn plan_dataset(s: &DatasetSpec<'_>, d: &mut Data<'_>) -> Result<(Kind, Option<Chunk>), FitError> {
    match d {
        Data::Slices { x, y } => {
            let weighted = s.std_sigma().is_some();
            let kind = match s.chunked_plan(y.len(), x.len(), weighted) {
                Some(plan) => Kind::Chunked(plan),
                None => Kind::Memory,
            };
            Ok((kind, None))
        }
        Data::Source(source) => {
            check_inputs(*source, &s.model)?;
            let bpp = Chunk::bytes_per_point(source.n_inputs(), source.has_sigma());
            let plan = s.memory.host_plan(source.len_hint(), bpp);
            let user_chunks = s.memory.chunk_points.is_some();
            let fits = plan.data_bytes.is_some_and(|b| b <= plan.host_budget_bytes);
            if source.reiterable() && (user_chunks || !fits) {
                return Ok((Kind::Streamed(s.memory.streaming(plan)), None));
            }
            let limit = (!fits).then_some(plan.host_budget_bytes);
            let (all, complete) = read_into_memory(*source, plan.chunk_points, bpp, limit)?;
            if !complete {
                return Err(FitError::InvalidOption {
                    option: "data".into(),
                    reason: format!(
                        "`{}` is a one-pass source larger than the host budget of {} bytes; a \
                         global fit reads every dataset at each pass, so it needs a \
                         re-iterable source or a larger budget",
                        source.origin(),
                        plan.host_budget_bytes
                    ),
                });
            }
            Ok((Kind::Memory, Some(all)))
        }
    }
}

/// Dataset `d` validated (in memory) or ready to be read (chunked, streamed).
fn ready_dataset<'x>(
    s: &'x DatasetSpec<'_>,
    d: &'x mut Data<'_>,
    loaded: Option<&'x Chunk>,
    kind: Kind,
) -> Result<Ready<'x>, FitError> {
    let columns = match (d, loaded) {
        (Data::Source(source), None) => {
            return match kind {
                Kind::Streamed(plan) => Ok(Ready::Streamed(&mut **source, plan)),
                _ => Err(FitError::InvalidOption {
                    option: "data".into(),
                    reason: "a source that was not read into memory must be streamed".into(),
                }),
            };
        }
        (_, Some(all)) => Columns {
            x: all.x.iter().map(Vec::as_slice).collect(),
            y: &all.y,
            sigma: all.sigma.as_deref(),
        },
        (Data::Slices { x, y }, None) => Columns {
            x: x.clone(),
            y,
            sigma: s.std_sigma(),
        },
    };
    match kind {
        Kind::Chunked(plan) => {
            let mut source = SliceSource::new(columns.x, columns.y);
            if let Some(sigma) = columns.sigma {
                source = source.with_sigma(sigma);
            }
            Ok(Ready::Chunked(source, plan))
        }
        _ => {
            let placed = place(s, columns, None, 0)?;
            if placed.data.is_empty() {
                return Err(FitError::InvalidOption {
                    option: "data".into(),
                    reason: "the dataset has no finite points".into(),
                });
            }
            Ok(Ready::Memory(placed))
        }
    }
}

/// The route of a ready dataset, and its data plan.
fn route_of<'r>(
    s: &'r DatasetSpec<'_>,
    ready: &'r mut Ready<'_>,
    uploaded: Option<&'r Uploaded>,
) -> Result<(Box<dyn Route + 'r>, DataPlan), FitError> {
    Ok(match ready {
        Ready::Memory(placed) => {
            let plan = placed.plan.clone();
            (Box::new(in_memory_route(s, placed, uploaded)?), plan)
        }
        Ready::Chunked(source, plan) => (Box::new(streamed_route(s, source, plan)?), plan.clone()),
        Ready::Streamed(source, plan) => (
            Box::new(streamed_route(s, &mut **source, plan)?),
            plan.clone(),
        ),
    })
}

/// Each dataset's part of the solution: its points and cost at `popt`.
fn dataset_fits(
    route: &mut GlobalRoute<'_>,
    specs: &[DatasetSpec<'_>],
    popt: &[f64],
) -> Result<Vec<DatasetFit>, FitError> {
    route
        .parts
        .iter_mut()
        .zip(specs)
        .map(|(part, s)| {
            let pass = part.pass(popt)?;
            Ok(DatasetFit {
                label: part.label.clone(),
                model: s.model.name().to_string(),
                n_points: pass.n_points as usize,
                cost: pass.cost,
                params: part.map.clone(),
            })
        })
        .collect()
}
