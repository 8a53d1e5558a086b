//! Fixed and tied parameters on wgpu (feature `wgpu`; lavapipe in CI): every case of
//! `nlsq_testkit::params` equals the wgpu fit of the hand-substituted model to 1e-12
//! (parameters, covariance, cost; every case but the chunked one, a route wgpu does not
//! have). Without an adapter with f64 the test says it skipped, and
//! fails under `CI=true` (as every wgpu test, `nlsq_testkit::wgpu`).

#![cfg(feature = "wgpu")]

use nlsq::{Backend, Precision};
use nlsq_testkit::params::{cases, check};

#[test]
fn constrained_fits_equal_the_hand_substituted_fits_on_wgpu() {
    if !nlsq_testkit::wgpu::ready(Precision::F64) {
        return;
    }
    // wgpu fits in-memory data only: the chunked case runs on the CPU (tests/params.rs).
    for case in cases()
        .into_iter()
        .filter(|c| c.options.chunk_points.is_none())
    {
        let (got, want) = check(&case, Backend::Wgpu, 1e-12);
        assert!(
            got.backend.contains("wgpu"),
            "{}: {}",
            case.name,
            got.backend
        );
        eprintln!(
            "{}: cost {:e} (hand {:e}), {} passes on {}",
            case.name, got.cost, want.cost, got.nfev, got.backend
        );
    }
}
