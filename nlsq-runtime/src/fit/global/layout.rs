//! The parameter vector of a global fit: which of each dataset's parameters are shared, the
//! names of the others, and where every dataset's parameters sit in the global vector.

use crate::error::FitError;
use crate::model::ParamSpace;
use kernels_gen::ModelHash;
use kernels_gen::reparam::ParamMap;
use std::collections::HashMap;

/// One dataset's parameters as the layout reads them: its label, its model's name, its
/// parameter names, starting values and bounds (`±∞` where none).
pub(super) struct DatasetParams<'d> {
    pub(super) label: &'d str,
    pub(super) model: &'d str,
    pub(super) hash: ModelHash,
    pub(super) names: Vec<&'d str>,
    pub(super) p0: &'d [f64],
    pub(super) lower: Vec<f64>,
    pub(super) upper: Vec<f64>,
}

/// The global parameter vector: shared parameters keep their model's name; a dataset's own
/// parameters are named `name[label]`. Parameters appear in the order the datasets first name
/// them.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    name: String,
    pub(super) names: Vec<String>,
    hash: ModelHash,
    pub(super) p0: Vec<f64>,
    pub(super) lower: Vec<f64>,
    pub(super) upper: Vec<f64>,
    /// Per dataset, the global index of each of its parameters.
    pub(super) maps: Vec<Vec<usize>>,
}

impl Layout {
    /// Lays out the parameters of `datasets`, sharing those named in `shared`: a shared
    /// parameter starts from the first dataset that has it and is bounded by the intersection
    /// of every dataset's bounds on it.
    pub(super) fn new(datasets: &[DatasetParams<'_>], shared: &[String]) -> Result<Self, FitError> {
        check_shared(datasets, shared)?;
        let mut layout = Layout {
            name: name(datasets),
            names: Vec::new(),
            hash: ModelHash([0; 32]),
            p0: Vec::new(),
            lower: Vec::new(),
            upper: Vec::new(),
            maps: Vec::with_capacity(datasets.len()),
        };
        let mut shared_at: HashMap<&str, usize> = HashMap::new();
        for d in datasets {
            let mut map = Vec::with_capacity(d.names.len());
            for (j, &n) in d.names.iter().enumerate() {
                let is_shared = shared.iter().any(|s| s == n);
                let g = match shared_at.get(n) {
                    Some(&g) if is_shared => {
                        layout.lower[g] = layout.lower[g].max(d.lower[j]);
                        layout.upper[g] = layout.upper[g].min(d.upper[j]);
                        g
                    }
                    _ => {
                        let g = layout.names.len();
                        layout.names.push(if is_shared {
                            shared_at.insert(n, g);
                            n.to_string()
                        } else {
                            format!("{n}[{}]", d.label)
                        });
                        layout.p0.push(d.p0[j]);
                        layout.lower.push(d.lower[j]);
                        layout.upper.push(d.upper[j]);
                        g
                    }
                };
                map.push(g);
            }
            layout.maps.push(map);
        }
        layout.check_bounds()?;
        layout.hash = layout.hash_of(datasets);
        Ok(layout)
    }

    /// Whether any bound is finite.
    pub(super) fn bounded(&self) -> bool {
        self.lower.iter().chain(&self.upper).any(|v| v.is_finite())
    }

    /// A shared parameter's intersected bounds are ordered and hold its starting value.
    fn check_bounds(&self) -> Result<(), FitError> {
        for (g, name) in self.names.iter().enumerate() {
            let (l, h, p) = (self.lower[g], self.upper[g], self.p0[g]);
            let reason = if l >= h {
                format!("the datasets' bounds on it do not overlap: [{l}, {h}]")
            } else if !(l <= p && p <= h) {
                format!("p0 = {p} (from the first dataset that has it) is outside [{l}, {h}]")
            } else {
                continue;
            };
            return Err(FitError::BadBounds {
                name: name.clone(),
                reason,
            });
        }
        Ok(())
    }

    /// What identifies the layout's parameters: every dataset's model hash and map.
    fn hash_of(&self, datasets: &[DatasetParams<'_>]) -> ModelHash {
        let mut h = blake3::Hasher::new();
        h.update(b"nlsq global fit v1");
        for (d, map) in datasets.iter().zip(&self.maps) {
            h.update(d.hash.as_bytes());
            for &g in map {
                h.update(&(g as u64).to_le_bytes());
            }
        }
        for n in &self.names {
            h.update(n.as_bytes());
            h.update(&[0]);
        }
        ModelHash(*h.finalize().as_bytes())
    }
}

/// Every shared name is a parameter of some dataset.
fn check_shared(datasets: &[DatasetParams<'_>], shared: &[String]) -> Result<(), FitError> {
    for s in shared {
        if !datasets.iter().any(|d| d.names.contains(&s.as_str())) {
            let known: Vec<&str> = datasets.iter().flat_map(|d| d.names.clone()).collect();
            return Err(FitError::InvalidOption {
                option: "shared".into(),
                reason: format!(
                    "`{s}` is not a parameter of any dataset's model (they have: {})",
                    known.join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// "global(a*exp(-b*x) ×3)" or "global(m1, m2)".
fn name(datasets: &[DatasetParams<'_>]) -> String {
    let first = datasets.first().map_or("", |d| d.model);
    if datasets.iter().all(|d| d.model == first) {
        format!("global({first} ×{})", datasets.len())
    } else {
        let names: Vec<&str> = datasets.iter().map(|d| d.model).collect();
        format!("global({})", names.join(", "))
    }
}

impl ParamSpace for Layout {
    fn space_name(&self) -> &str {
        &self.name
    }
    fn space_len(&self) -> usize {
        self.names.len()
    }
    fn space_names(&self) -> Vec<&str> {
        self.names.iter().map(String::as_str).collect()
    }
    fn space_hash(&self) -> ModelHash {
        self.hash
    }
    fn space_map(&self) -> Option<&ParamMap> {
        None
    }
    fn space_roles(&self) -> Option<Vec<kernels_gen::roles::Role>> {
        None
    }
}
