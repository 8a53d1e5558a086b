//! The batch-fitting fixtures: seeded random problems, models, and the comparisons of a batch
//! with single fits and with the CPU batch backend.

pub mod cases;
pub mod support;
