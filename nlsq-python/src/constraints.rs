//! Fixed and tied parameters of one fit, by name (`fixed=`, `ties=` in Python): the runtime's
//! [`Constraints`] compiled into a model of the free parameters, with the fit's options of
//! every parameter narrowed to the free ones.

use crate::errors::bad;
use nlsq_runtime::params::{Constraints, ParamMap, free_bounds, free_values};
use nlsq_runtime::{ExprModel, Model};
use pyo3::prelude::*;

/// The fixed parameters with their values and the tied ones with their expressions.
#[derive(Default)]
pub struct Named {
    /// Fixed parameters: (name, value).
    pub fixed: Vec<(String, f64)>,
    /// Tied parameters: (name, expression of other parameters).
    pub ties: Vec<(String, String)>,
}

impl Named {
    /// Whether no parameter is fixed or tied.
    pub fn is_empty(&self) -> bool {
        self.fixed.is_empty() && self.ties.is_empty()
    }

    /// The model of the free parameters of `model` under these constraints, or a `ValueError`
    /// naming what is wrong (an unknown name, a cycle of ties, a tie that does not parse, ...).
    pub fn constrain(&self, model: &ExprModel) -> PyResult<ExprModel> {
        let mut c = Constraints::new();
        for (name, value) in &self.fixed {
            c = c.fix(name.as_str(), *value);
        }
        for (name, expr) in &self.ties {
            c = c.tie(name.as_str(), expr.as_str());
        }
        model.constrain(&c).map_err(|e| bad(e.to_string()))
    }
}

/// The free parameters' entries of `p0`, bounds and `x_scale` given for every parameter
/// (bounds on a fixed or tied parameter are refused).
pub fn narrow(
    free: &ExprModel,
    p0: &mut Vec<f64>,
    bounds: &mut Option<(Vec<f64>, Vec<f64>)>,
    x_scale: &mut Option<Vec<f64>>,
) -> PyResult<()> {
    let map: &ParamMap = free
        .param_map()
        .ok_or_else(|| bad("internal: a constrained model without its parameter map".into()))?;
    let err = |e: nlsq_runtime::params::ConstraintError| bad(e.to_string());
    *p0 = free_values(map, p0).map_err(err)?;
    if let Some((l, u)) = bounds.take() {
        *bounds = Some(free_bounds(map, &l, &u).map_err(err)?);
    }
    if let Some(s) = x_scale.take() {
        *x_scale = Some(free_values(map, &s).map_err(err)?);
    }
    Ok(())
}
