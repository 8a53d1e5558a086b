//! Turning a solver's output into a [`FitResult`]: covariance with scipy's rules, standard
//! errors, confidence intervals and goodness-of-fit statistics.

use crate::covariance::{Cause, covariance};
use crate::data::DataSummary;
use crate::loss::Loss;
use crate::model::ParamSpace;
use crate::params::{Expanded, expand};
use crate::quantile::quantile_95;
use crate::result::{CovarianceIssue, FitResult, ParamKind};
use crate::solve::Method;
use crate::solve::SolverOutput;
use std::time::Instant;

/// The result of `out`. `ssr` is `Σ(y − f)²` unweighted (for R² and RMSE), `weighted_ssr`
/// `Σ(w r)²` (χ² of a robust fit; unused for the linear loss, whose χ² is `Σρ`, bit for bit).
#[allow(clippy::too_many_arguments)]
pub(crate) fn assemble<M: ParamSpace + ?Sized>(
    model: &M,
    data: &DataSummary,
    out: SolverOutput,
    ssr: f64,
    weighted_ssr: f64,
    method: Method,
    loss: Loss,
    f_scale: f64,
    absolute_sigma: bool,
    backend: String,
    start: Instant,
) -> FitResult {
    let np = out.x.len();
    let n = data.n;
    let sum_rho = 2.0 * out.pass.cost;
    let cov = covariance(&out.pass.jtj, n, sum_rho, absolute_sigma);
    let names: Vec<String> = model.space_names().iter().map(|s| s.to_string()).collect();
    let covariance_issue = cov.cause.map(|cause| match cause {
        Cause::RankDeficient => CovarianceIssue::RankDeficient {
            directions: cov.rank_deficiency,
            parameters: cov
                .undetermined
                .iter()
                .map(|&j| names.get(j).cloned().unwrap_or_else(|| format!("p{j}")))
                .collect(),
        },
        Cause::NoDegreesOfFreedom => CovarianceIssue::NoDegreesOfFreedom,
        Cause::NotFinite => CovarianceIssue::NotFinite,
    });
    let all = match model.space_map() {
        Some(map) => expand(map, &out.x, &cov.matrix, &out.active_mask),
        None => Expanded {
            kinds: vec![ParamKind::Free; np],
            names,
            popt: out.x.clone(),
            pcov: cov.matrix.clone(),
            active_mask: out.active_mask.clone(),
        },
    };
    let dof = n - np;
    let t = quantile_95(dof, absolute_sigma);
    let perr: Vec<f64> = (0..all.popt.len())
        .map(|j| match all.kinds[j] {
            ParamKind::Fixed => f64::NAN,
            _ => all.pcov[(j, j)].sqrt(),
        })
        .collect();
    let ci95 = (0..all.popt.len())
        .map(|j| (all.popt[j] - t * perr[j], all.popt[j] + t * perr[j]))
        .collect();
    let sst = data.sst;
    let nf = n as f64;
    let chi2 = if loss == Loss::Linear {
        sum_rho
    } else {
        weighted_ssr
    };
    let ll = nf * (chi2 / nf).ln();
    FitResult {
        model: model.space_name().to_string(),
        param_names: all.names,
        param_kinds: all.kinds,
        pcov: all
            .pcov
            .row_iter()
            .map(|r| r.iter().copied().collect())
            .collect(),
        covariance_indeterminate: cov.indeterminate,
        covariance_issue,
        perr,
        ci95,
        cost: out.pass.cost,
        sum_rho,
        chi2,
        reduced_chi2: if dof > 0 {
            chi2 / dof as f64
        } else {
            f64::INFINITY
        },
        r_squared: 1.0 - ssr / sst,
        rmse: (ssr / nf).sqrt(),
        aic: ll + 2.0 * np as f64,
        bic: ll + np as f64 * nf.ln(),
        n_points: n,
        n_omitted: data.omitted,
        dof,
        nfev: out.nfev,
        njev: out.njev,
        iterations: out.nit,
        optimality: out.optimality,
        active_mask: all.active_mask,
        success: out.status.converged(),
        message: out.status.message().to_string(),
        status: out.status,
        method,
        loss,
        f_scale,
        absolute_sigma,
        backend,
        data_plan: Default::default(),
        wall_time_s: start.elapsed().as_secs_f64(),
        profile: None,
        checkpoint: None,
        datasets: Vec::new(),
        search: None,
        popt: all.popt,
    }
}
