//! Global fits with datasets on different backends (feature `wgpu`; lavapipe in CI): two
//! datasets on wgpu and one on the CPU equal the fit of the concatenated problem and scipy's
//! to 1e-9. Without an adapter with f64 the test says it skipped, and fails under `CI=true`
//! (as every wgpu test, `nlsq_testkit::wgpu`).

#![cfg(feature = "wgpu")]

use nlsq::{Backend, Precision};
use nlsq_testkit::global::{Setup, assert_agree, fit_concatenated, fit_global, reference};

#[test]
fn datasets_on_wgpu_and_the_cpu_fit_together() {
    if !nlsq_testkit::wgpu::ready(Precision::F64) {
        return;
    }
    let r = reference();
    let setups = [
        Setup::memory(Backend::Wgpu),
        Setup::memory(Backend::Cpu),
        Setup::memory(Backend::Wgpu),
    ];
    let got = fit_global(&r, setups, None);
    assert!(
        got.backend.contains("0: wgpu") && got.backend.contains("1: cpu"),
        "{}",
        got.backend
    );
    let hand = fit_concatenated(&r, None);
    assert_agree(
        "wgpu+cpu vs concatenated",
        &got,
        &hand.popt,
        &hand.pcov,
        1e-9,
        1e-6,
    );
    assert_agree("wgpu+cpu vs scipy", &got, &r.popt, &r.pcov, 1e-9, 1e-6);
}
