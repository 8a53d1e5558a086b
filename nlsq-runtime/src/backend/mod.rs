//! Backends: where passes over the data run.

pub mod cpu;
pub mod whitened;

pub use cpu::CpuBackend;
