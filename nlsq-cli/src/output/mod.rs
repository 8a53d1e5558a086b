//! What a fit writes: the JSON report, the fitted curve with its confidence and prediction bands, plots, profile-likelihood intervals.

pub mod batch;
pub mod curve;
pub mod json;
pub mod plot;
pub mod profile;
