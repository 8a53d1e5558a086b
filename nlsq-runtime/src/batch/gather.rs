//! Where the results of a batch split over MPI ranks go ([`ResultsOn`]).

use super::result::{BatchResult, FitState};
use crate::distributed::{Dist, ResultsOn};
use crate::error::FitError;

/// The results of a distributed batch, placed as `on` says: every rank's concatenated in
/// rank order on every rank, on rank 0 only, or each rank's own (after a check that every
/// rank's batch succeeded).
pub(super) fn results(
    dist: &Dist,
    own: BatchResult,
    on: ResultsOn,
) -> Result<BatchResult, FitError> {
    match on {
        ResultsOn::Every => {
            let all = dist.all_gather(&encode(&own))?;
            concatenate(dist, own, &all)
        }
        ResultsOn::Root => {
            let v = encode(&own);
            let lens = dist.all_gather(&[v.len() as f64])?;
            if dist.rank() != 0 {
                dist.send(0, v)?;
                return Ok(this_ranks(dist, own));
            }
            let mut all = vec![v];
            for (r, len) in lens.iter().enumerate().skip(1) {
                all.push(dist.receive(r, len[0] as usize)?);
            }
            concatenate(dist, own, &all)
        }
        ResultsOn::Own => {
            // The exchange fails on every rank when any rank's batch failed.
            dist.all_gather(&[])?;
            Ok(this_ranks(dist, own))
        }
    }
}

/// `own`, its reason saying that it holds this rank's fits only.
fn this_ranks(dist: &Dist, mut own: BatchResult) -> BatchResult {
    own.reason = format!(
        "{} (MPI: {} ranks; the fits of rank {} only)",
        own.reason,
        dist.size(),
        dist.rank()
    );
    own
}

/// A batch result as one vector: `n`, `P`, whether it has covariances, then parameters,
/// states, χ², iterations and covariances.
fn encode(own: &BatchResult) -> Vec<f64> {
    let p = own.n_params;
    let mut v = vec![
        own.n_fits as f64,
        p as f64,
        f64::from(u8::from(own.covariance.is_some())),
    ];
    v.extend_from_slice(&own.params);
    v.extend(own.states.iter().map(|s| f64::from(s.code())));
    v.extend_from_slice(&own.chi2);
    v.extend(own.iterations.iter().map(|&i| f64::from(i)));
    if let Some(c) = &own.covariance {
        v.extend_from_slice(c);
    }
    v
}

/// Every rank's [`encode`]d result in `all`, in rank order, concatenated into `own`.
fn concatenate(
    dist: &Dist,
    mut own: BatchResult,
    all: &[Vec<f64>],
) -> Result<BatchResult, FitError> {
    let p = own.n_params;
    let v = [0.0, p as f64, f64::from(u8::from(own.covariance.is_some()))];
    if let Some(r) = all.iter().position(|a| a[1] as usize != p || a[2] != v[2]) {
        let e = FitError::Distributed {
            rank: r,
            message: "batch fits of another shape (parameters or covariance) than rank 0's".into(),
        };
        return Err(e);
    }
    let (mut params, mut states, mut chi2, mut iterations) = (vec![], vec![], vec![], vec![]);
    let mut covariance = own.covariance.as_ref().map(|_| Vec::new());
    for a in all {
        let n = a[0] as usize;
        let mut at = 3;
        let mut take = |len: usize| {
            let s = &a[at..at + len];
            at += len;
            s
        };
        params.extend_from_slice(take(n * p));
        states.extend(
            take(n)
                .iter()
                .map(|&c| FitState::from_code(c as u8).unwrap_or(FitState::InvalidInput)),
        );
        chi2.extend_from_slice(take(n));
        iterations.extend(take(n).iter().map(|&i| i as u32));
        if let Some(c) = covariance.as_mut() {
            c.extend_from_slice(take(n * p * p));
        }
    }
    own.n_fits = states.len();
    own.perr = covariance.as_ref().map(|c: &Vec<f64>| {
        (0..own.n_fits * p)
            .map(|e| c[(e / p) * p * p + (e % p) * (p + 1)].sqrt())
            .collect()
    });
    own.params = params;
    own.states = states;
    own.chi2 = chi2;
    own.iterations = iterations;
    own.covariance = covariance;
    if dist.size() > 1 {
        own.reason = format!("{} (MPI: {} ranks)", own.reason, dist.size());
    }
    Ok(own)
}
