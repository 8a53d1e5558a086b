//! Composite models: sums of library models, `"gaussian:g1 + gaussian:g2 + linear"`.

use super::catalog::lookup;
use super::error::{LibraryError, SpecProblem};
use super::estimate::Samples;
use super::model::{Estimator, LibraryModel, check_shape};
use super::polynomial;
use super::spec::{parse, rename_identifiers};
use crate::{ExprModel, Model};

/// A sum of library models with prefixed parameter names, from [`compose`].
#[derive(Clone, Debug)]
pub struct Composite {
    spec: String,
    parts: Vec<LibraryModel>,
    prefixes: Vec<Option<String>>,
    expr: String,
    params: Vec<String>,
    n_inputs: usize,
}

/// Parses a spec such as `"gaussian:g1 + gaussian:g2 + linear"` into a [`Composite`]: the
/// sum of the parts, each part's parameters prefixed with `prefix_` when it has a
/// `:prefix`. A single name is a composite of one part.
pub fn compose(spec: &str) -> Result<Composite, LibraryError> {
    let mut parts = Vec::new();
    let mut prefixes = Vec::new();
    let mut params: Vec<String> = Vec::new();
    let mut terms = Vec::new();
    let mut n_inputs = None;
    for p in parse(spec)? {
        let model = lookup(&p.name, p.at)?;
        let expected = *n_inputs.get_or_insert(model.n_inputs());
        if model.n_inputs() != expected {
            return Err(LibraryError::BadSpec {
                position: p.at,
                problem: SpecProblem::MixedPredictors {
                    model: model.name().to_string(),
                    inputs: model.n_inputs(),
                    expected,
                },
            });
        }
        let named = |n: &str| match &p.prefix {
            Some(pre) => format!("{pre}_{n}"),
            None => n.to_string(),
        };
        for n in model.param_names() {
            let name = named(n);
            if params.contains(&name) {
                return Err(LibraryError::DuplicateParameter {
                    name,
                    position: p.at,
                });
            }
            params.push(name);
        }
        let own = model.param_names().to_vec();
        let term = rename_identifiers(model.expr(), &|w| {
            own.iter().any(|n| n == w).then(|| named(w))
        });
        terms.push(if parts.is_empty() {
            term
        } else {
            format!("({term})")
        });
        parts.push(model);
        prefixes.push(p.prefix);
    }
    Ok(Composite {
        spec: spec.to_string(),
        parts,
        prefixes,
        expr: terms.join(" + "),
        params,
        n_inputs: n_inputs.unwrap_or(1),
    })
}

impl Composite {
    /// The spec it was made from.
    pub fn spec(&self) -> &str {
        &self.spec
    }

    /// The formula of the sum, in the model language.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The parameter names, prefixed, in the order of p0 and `popt`.
    pub fn param_names(&self) -> &[String] {
        &self.params
    }

    /// The number of predictors.
    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    /// The parts, with their own (unprefixed) parameter names.
    pub fn parts(&self) -> &[LibraryModel] {
        &self.parts
    }

    /// The prefix of each part (`None` for a part written without `:prefix`).
    pub fn prefixes(&self) -> &[Option<String>] {
        &self.prefixes
    }

    /// The sum compiled for fitting.
    pub fn model(&self) -> Result<ExprModel, LibraryError> {
        let names: Vec<&str> = self.params.iter().map(String::as_str).collect();
        ExprModel::parse_with_params(&self.expr, &names).map_err(|e| LibraryError::Model {
            model: self.spec.clone(),
            message: e.to_string(),
        })
    }

    /// Starting values for the sum, in the order of [`Self::param_names`]. `x` holds
    /// [`Self::n_inputs`] columns of `y.len()` values.
    ///
    /// # Starting values of a sum
    ///
    /// 1. The background parts (`constant`, `linear`, `polynomialN`) together form one
    ///    polynomial of the largest of their degrees. With other parts present it is fitted
    ///    robustly (to the outer 20 % of the points on each side for degree ≤ 1, then refitted
    ///    with sigma clipping: features that cover less than about half the points do not pull
    ///    it) and subtracted; alone, it is fitted exactly.
    /// 2. The other parts are estimated one after another in the order of the spec, each on what
    ///    the parts before it left: a peak takes the largest remaining feature outside the
    ///    regions (centre ± 2 widths) of the peaks found before it. Each estimate is subtracted
    ///    before the next part.
    /// 3. The background is fitted again, exactly, to the data minus the other parts.
    ///
    /// The polynomial goes to the first background part of the largest degree; other background
    /// parts start at zero (a sum of two backgrounds is degenerate anyway).
    pub fn estimate_p0(&self, x: &[&[f64]], y: &[f64]) -> Result<Vec<f64>, LibraryError> {
        check_shape(&self.spec, self.n_inputs, x, y)?;
        let s = Samples::new(x, y);
        if let [only] = self.parts.as_slice() {
            return only.estimate_samples(&s, &[]);
        }
        let degree = self.parts.iter().filter_map(background_degree).max();
        let others = self.parts.iter().any(|m| background_degree(m).is_none());
        let background = |y: &[f64], robust: bool| {
            let d = degree.unwrap_or(0);
            let r = if robust {
                polynomial::robust(&s.with_y(y.to_vec()), d)
            } else {
                polynomial::fit(s.x0(), y, d)
            };
            r.map_err(|reason| LibraryError::CannotEstimate {
                model: format!("background of `{}`", self.spec),
                reason,
            })
        };
        let mut poly = match degree {
            Some(_) => background(&s.y, others)?,
            None => Vec::new(),
        };
        let mut resid: Vec<f64> = (0..s.len())
            .map(|i| s.y[i] - polynomial::eval(&poly, s.x[0][i]))
            .collect();
        let mut found: Vec<Option<Vec<f64>>> = vec![None; self.parts.len()];
        let mut exclude = Vec::new();
        for (k, part) in self.parts.iter().enumerate() {
            if background_degree(part).is_some() {
                continue;
            }
            let p = part.estimate_samples(&s.with_y(resid.clone()), &exclude)?;
            if let Estimator::Peak(_) = part.estimator {
                exclude.push((p[1] - 2.0 * p[2].abs(), p[1] + 2.0 * p[2].abs()));
            }
            subtract(part, &p, &s, &mut resid)?;
            found[k] = Some(p);
        }
        if degree.is_some() && others {
            let with_bg: Vec<f64> = (0..s.len())
                .map(|i| resid[i] + polynomial::eval(&poly, s.x[0][i]))
                .collect();
            poly = background(&with_bg, false).unwrap_or(poly);
        }
        Ok(self.assemble(found, &poly, degree.unwrap_or(0)))
    }

    /// Concatenates the parts' estimates; the background polynomial goes to the first
    /// background part of the largest degree, zeros to the others.
    fn assemble(&self, found: Vec<Option<Vec<f64>>>, poly: &[f64], degree: usize) -> Vec<f64> {
        let mut given = false;
        let mut p0 = Vec::with_capacity(self.params.len());
        for (part, f) in self.parts.iter().zip(found) {
            match (f, part.estimator) {
                (Some(v), _) => p0.extend(v),
                (
                    None,
                    Estimator::Polynomial {
                        degree: d,
                        descending,
                    },
                ) => {
                    let mut c = vec![0.0; d + 1];
                    if d == degree && !given {
                        given = true;
                        c.copy_from_slice(&poly[..=d]);
                    }
                    if descending {
                        c.reverse();
                    }
                    p0.extend(c);
                }
                (None, _) => p0.extend(vec![0.0; part.param_names().len()]),
            }
        }
        p0
    }
}

/// The degree of a background part, `None` for other parts.
fn background_degree(m: &LibraryModel) -> Option<usize> {
    match m.estimator {
        Estimator::Polynomial { degree, .. } => Some(degree),
        _ => None,
    }
}

/// Subtracts the part's curve at `p` from `resid`.
fn subtract(
    part: &LibraryModel,
    p: &[f64],
    s: &Samples,
    resid: &mut [f64],
) -> Result<(), LibraryError> {
    let model = part.model()?;
    let mut xi = vec![0.0; s.x.len()];
    for (i, r) in resid.iter_mut().enumerate() {
        for (k, c) in s.x.iter().enumerate() {
            xi[k] = c[i];
        }
        let v = model.eval(&xi, p);
        if v.is_finite() {
            *r -= v;
        }
    }
    Ok(())
}
