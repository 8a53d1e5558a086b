//! A constrained fit's parameters and covariance, expanded to every parameter of the original
//! model (the delta method for tied parameters).

use crate::result::ParamKind;
use kernels_gen::reparam::{ParamMap, ParamRole};
use nalgebra::DMatrix;

/// Every parameter of the original model after a fit of its free parameters.
pub(crate) struct Expanded {
    pub(crate) names: Vec<String>,
    pub(crate) kinds: Vec<ParamKind>,
    pub(crate) popt: Vec<f64>,
    /// `G Σ Gᵀ`: exact copies of `Σ` for free parameters, zero for fixed ones.
    pub(crate) pcov: DMatrix<f64>,
    pub(crate) active_mask: Vec<i8>,
}

/// Expands the free parameters `x`, their covariance `cov` and active mask to every parameter.
pub(crate) fn expand(map: &ParamMap, x: &[f64], cov: &DMatrix<f64>, mask: &[i8]) -> Expanded {
    let g = map.jacobian(x);
    let n = map.len();
    let pcov = DMatrix::from_fn(n, n, |i, k| propagate(&g[i], cov, &g[k]));
    let mut active_mask = vec![0; n];
    for (j, &k) in map.free().iter().enumerate() {
        active_mask[k] = mask.get(j).copied().unwrap_or(0);
    }
    Expanded {
        names: map.names().to_vec(),
        kinds: map.roles().iter().map(kind).collect(),
        popt: map.values(x),
        pcov,
        active_mask,
    }
}

/// `gᵢ Σ gₖᵀ` over the non-zero entries of the gradients only, so that a unit gradient copies
/// `Σ` exactly and a zero one gives zero even where `Σ` is infinite.
fn propagate(gi: &[f64], cov: &DMatrix<f64>, gk: &[f64]) -> f64 {
    let mut sum = 0.0;
    for (a, &ga) in gi.iter().enumerate().filter(|(_, v)| **v != 0.0) {
        for (b, &gb) in gk.iter().enumerate().filter(|(_, v)| **v != 0.0) {
            sum += ga * cov[(a, b)] * gb;
        }
    }
    sum
}

fn kind(role: &ParamRole) -> ParamKind {
    match role {
        ParamRole::Free => ParamKind::Free,
        ParamRole::Fixed(_) => ParamKind::Fixed,
        ParamRole::Tied(e) => ParamKind::Tied { expr: e.clone() },
    }
}
