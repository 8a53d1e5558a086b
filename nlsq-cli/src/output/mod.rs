//! What a fit writes: the JSON report, the fitted curve with its confidence band, plots.

pub mod band;
pub mod batch;
pub mod curve;
pub mod json;
pub mod plot;
