//! Backends: where passes over the data run.

pub mod cpu;

pub use cpu::CpuBackend;
