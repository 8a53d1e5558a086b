//! Batch fitting, acceptance: every batch fit equals the single-fit solver's result (CurveFit,
//! tight tolerances, the same weights and bounds; fixed parameters against a single fit of the
//! reduced model) to 1e-8 relative on 10,000 random problems: exponential decays of variable
//! lengths with their own predictors and weights, 1-D Gaussians with bounds on a shared grid,
//! Gpufit's 2-D Gaussian on a 5 x 5 grid, and the same with per-fit fixed parameters. The
//! covariances agree with CurveFit's `pcov` too.
//!
//! CUDA: the same problems run on the GPU under `NLSQ_TEST_CUDA=1` (see tests/batch_cuda.rs).

#[path = "common/batch_cases.rs"]
mod batch_cases;
#[path = "common/batch_support.rs"]
mod batch_support;

use batch_cases::{Case, acceptance_cases, compare_with_single_fits};
use nlsq::{Backend, Precision};

#[test]
fn ten_thousand_batch_fits_equal_single_fits_on_the_cpu() {
    let cases = acceptance_cases();
    assert_eq!(cases.iter().map(Case::n_fits).sum::<usize>(), 10_000);
    let bad: usize = cases
        .iter()
        .map(|c| compare_with_single_fits(c, Backend::Cpu, Precision::F64))
        .sum();
    assert_eq!(bad, 0, "batch fits differ from single fits");
}
