//! Turning a solver's output into a [`FitResult`]: covariance with scipy's rules, standard
//! errors, confidence intervals and goodness-of-fit statistics.

use crate::covariance::{Cause, covariance};
use crate::data::DataSummary;
use crate::loss::Loss;
use crate::model::Model;
use crate::params::{Expanded, expand};
use crate::result::{CovarianceIssue, FitResult, ParamKind};
use crate::solve::Method;
use crate::solve::SolverOutput;
use std::time::Instant;

/// The result of `out`. `ssr` is `Σ(y − f)²` unweighted (for R² and RMSE), `weighted_ssr`
/// `Σ(w r)²` (χ² of a robust fit; unused for the linear loss, whose χ² is `Σρ`, bit for bit).
#[allow(clippy::too_many_arguments)]
pub(crate) fn assemble<M: Model>(
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
    let names: Vec<String> = model.param_names().iter().map(|s| s.to_string()).collect();
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
    let all = match model.param_map() {
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
    let t = t_quantile_975(dof);
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
        model: model.name().to_string(),
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
        backend,
        data_plan: Default::default(),
        wall_time_s: start.elapsed().as_secs_f64(),
        profile: None,
        checkpoint: None,
        popt: all.popt,
    }
}

/// The 0.975 quantile of Student's t with `dof` degrees of freedom (`+∞` for none): closed
/// forms for 1 and 2, the Cornish–Fisher expansion around the normal quantile for
/// `dof > 1000` (error below 1e-12 there), and in between Newton's method on the distribution
/// function from that expansion — a few evaluations instead of a generic inversion, which took
/// a noticeable share of a small fit.
fn t_quantile_975(dof: usize) -> f64 {
    use statrs::distribution::{Continuous, ContinuousCDF, StudentsT};
    const P: f64 = 0.975;
    let v = dof as f64;
    match dof {
        0 => return f64::INFINITY,
        1 => return (std::f64::consts::PI * (P - 0.5)).tan(),
        2 => return (2.0 * P - 1.0) / (2.0 * P * (1.0 - P)).sqrt(),
        _ => {}
    }
    let z = 1.959_963_984_540_054_f64;
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    let expansion = z
        + (z3 + z) / (4.0 * v)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v);
    if dof > 1000 {
        return expansion;
    }
    let Ok(dist) = StudentsT::new(0.0, 1.0, v) else {
        return f64::NAN;
    };
    // Quadratic convergence: once a step is below 1e-10 of t, the next error is far below
    // the distribution function's own rounding, so stop there.
    let mut t = expansion;
    for _ in 0..10 {
        let step = (dist.cdf(t) - P) / dist.pdf(t);
        if !step.is_finite() {
            break;
        }
        t -= step;
        if step.abs() <= 1e-10 * t {
            return t;
        }
    }
    dist.inverse_cdf(P)
}

#[cfg(test)]
mod tests {
    use super::t_quantile_975;

    #[test]
    fn t_quantiles_match_tables_and_the_expansion_joins_smoothly() {
        // Tables: t_0.975(1) = 12.7062, (10) = 2.2281, (30) = 2.0423, (1000) = 1.9623.
        for (dof, t) in [(1, 12.7062), (10, 2.2281), (30, 2.0423), (1000, 1.9623)] {
            assert!((t_quantile_975(dof) - t).abs() < 1e-4, "dof {dof}");
        }
        let (a, b) = (t_quantile_975(1000), t_quantile_975(1001));
        assert!(a > b && a - b < 1e-5);
        assert!((t_quantile_975(100_000_000) - 1.959963984540054).abs() < 1e-7);
    }

    #[test]
    fn t_quantiles_equal_the_generic_inversion() {
        use statrs::distribution::{ContinuousCDF, StudentsT};
        for dof in 1..=1000 {
            let want = StudentsT::new(0.0, 1.0, dof as f64)
                .unwrap()
                .inverse_cdf(0.975);
            let got = t_quantile_975(dof);
            assert!(
                (got - want).abs() <= 1e-12 * want,
                "dof {dof}: {got} vs {want}"
            );
        }
    }
}
