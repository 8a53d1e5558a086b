//! Batch fitting, acceptance: every batch fit equals the single-fit solver's result (CurveFit,
//! tight tolerances, the same weights and bounds; fixed parameters against a single fit of the
//! reduced model) to 1e-8 relative on 10,000 random problems: exponential decays of variable
//! lengths with their own predictors and weights, 1-D Gaussians with bounds on a shared grid,
//! Gpufit's 2-D Gaussian on a 5 x 5 grid, and the same with per-fit fixed parameters. The
//! covariances agree with CurveFit's `pcov` too.
//!
//! The same problems run on the devices in tests/batch_cuda.rs and tests/batch_wgpu.rs (the
//! suite of `nlsq_testkit::testgen_batch!`).

use nlsq::Backend;
use nlsq_testkit::suite::{Device, batch_fits_equal_single_fits};

#[test]
fn ten_thousand_batch_fits_equal_single_fits_on_the_cpu() {
    batch_fits_equal_single_fits(Device {
        backend: Backend::Cpu,
        name: "cpu",
    });
}
