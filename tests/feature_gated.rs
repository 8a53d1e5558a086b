//! The test targets that need a cargo feature are not built without it; each shows here as an
//! ignored test naming the command that runs it, so `cargo test --workspace` counts them.

#[cfg(not(feature = "wgpu"))]
#[test]
#[ignore = "fit_wgpu, nist_wgpu, no_adapter_wgpu and batch_wgpu need the wgpu feature (lavapipe or a GPU): cargo test --features wgpu --test fit_wgpu --test nist_wgpu --test no_adapter_wgpu --test batch_wgpu"]
fn wgpu_suites() {}

#[cfg(not(feature = "cuda"))]
#[test]
#[ignore = "fit_cuda, streaming_cuda and profile_cuda need the cuda feature: cargo test --features cuda --test fit_cuda --test streaming_cuda --test profile_cuda (their GPU tests then run with --ignored on a CUDA machine)"]
fn cuda_suites() {}
