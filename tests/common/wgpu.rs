//! The adapter of the wgpu tests: present, or a visible skip (a failure under `CI=true`).
#![allow(dead_code)]

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
