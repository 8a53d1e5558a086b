//! The adapter of the wgpu tests: present, or a visible skip (a failure under `CI=true`).

use crate::batch::cases::Case;
use nlsq::Precision;
use nlsq::backend::wgpu::Gpu;
use std::sync::Arc;

/// The shared adapter, or `None` after saying the test skipped (a failure under `CI=true`).
pub fn gpu() -> Option<Arc<Gpu>> {
    match Gpu::shared() {
        Ok(g) => {
            eprintln!("wgpu adapter: {} (f64: {})", g.describe(), g.has_f64);
            Some(g)
        }
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but no wgpu adapter: {e} (install mesa-vulkan-drivers libvulkan1)")
        }
        Err(e) => {
            eprintln!("SKIPPED: no wgpu adapter ({e}); install mesa-vulkan-drivers libvulkan1");
            None
        }
    }
}

/// Whether a test in `precision` can run: an adapter (see [`gpu`]) that, for f64, has
/// `SHADER_F64`; says what is skipped otherwise. The `ready` of the wgpu suites.
pub fn ready(precision: Precision) -> bool {
    let Some(g) = gpu() else { return false };
    if precision == Precision::F64 && !g.has_f64 {
        let msg = format!("adapter {} has no SHADER_F64", g.describe());
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "CI=true but {msg}"
        );
        eprintln!("SKIPPED: {msg}");
        return false;
    }
    true
}

/// The f32 iteration budget on a software adapter: llvmpipe runs 65535 loop iterations per
/// invocation (SIMD group) in all, about 250 LM iterations of 30 points (the longest decay
/// fits); the 1000 of [`Case::MAX_ITERATIONS`] are cut short there (a clear error).
pub const F32_SOFTWARE_ITERATIONS: u32 = 250;

/// The iteration budget of f32 batch fits on the shared adapter: [`F32_SOFTWARE_ITERATIONS`]
/// on a software one, [`Case::MAX_ITERATIONS`] otherwise.
pub fn f32_batch_iterations() -> u32 {
    match gpu() {
        Some(g) if g.is_software() => F32_SOFTWARE_ITERATIONS,
        _ => Case::MAX_ITERATIONS,
    }
}
