//! Option names as Python passes them (`"soft_l1"`, `"trf"`, `"cpu"`, `"f32"`, `"omit"`,
//! `"poisson"`) to the runtime's types. Pure Rust, no Python: tested by `tests/options.rs`.

use nlsq_runtime::batch::Estimator;
use nlsq_runtime::{Backend, Loss, Method, NanPolicy, Precision};

/// A loss name (scipy's: `linear`, `soft_l1`, `huber`, `cauchy`, `arctan`).
pub fn loss(name: &str) -> Result<Loss, String> {
    name.parse::<Loss>()
        .map_err(|_| format!("unknown loss {name:?}: use linear, soft_l1, huber, cauchy or arctan"))
}

/// A method name (`lm`, `trf`, `dogbox`); `None` lets the runtime choose as scipy does.
pub fn method(name: Option<&str>) -> Result<Option<Method>, String> {
    name.map(|n| {
        n.parse::<Method>()
            .map_err(|_| format!("unknown method {n:?}: use 'lm', 'trf' or 'dogbox'"))
    })
    .transpose()
}

/// A backend name (`auto`, `cpu`, `cuda`, `wgpu`).
pub fn backend(name: &str) -> Result<Backend, String> {
    match name.to_ascii_lowercase().as_str() {
        "auto" => Ok(Backend::Auto),
        "cpu" => Ok(Backend::Cpu),
        "cuda" => Ok(Backend::Cuda),
        "wgpu" => Ok(Backend::Wgpu),
        _ => Err(format!(
            "unknown backend {name:?}: use 'auto', 'cpu', 'cuda' or 'wgpu'"
        )),
    }
}

/// A precision name (`f64`/`float64`/`double`, `f32`/`float32`/`single`).
pub fn precision(name: &str) -> Result<Precision, String> {
    match name.to_ascii_lowercase().as_str() {
        "f64" | "float64" | "double" => Ok(Precision::F64),
        "f32" | "float32" | "single" => Ok(Precision::F32),
        _ => Err(format!("unknown precision {name:?}: use 'f64' or 'f32'")),
    }
}

/// The runtime's NaN policy from the Python side's resolved choice (`raise` or `omit`).
pub fn nan_policy(name: &str) -> Result<NanPolicy, String> {
    match name {
        "raise" => Ok(NanPolicy::Raise),
        "omit" => Ok(NanPolicy::Omit),
        _ => Err(format!(
            "unknown nan_policy {name:?}: use 'raise' or 'omit'"
        )),
    }
}

/// A batch estimator name (`lse`/`least_squares`, `poisson`/`mle`).
pub fn estimator(name: &str) -> Result<Estimator, String> {
    match name.to_ascii_lowercase().as_str() {
        "lse" | "least_squares" => Ok(Estimator::Lse),
        "poisson" | "mle" | "poisson_mle" => Ok(Estimator::PoissonMle),
        _ => Err(format!(
            "unknown estimator {name:?}: use 'lse' or 'poisson'"
        )),
    }
}

/// Fit-major `(n_fits, n)` values from per-fit lengths: checks that the lengths add up.
pub fn check_lengths(lengths: &[usize], total: usize) -> Result<(), String> {
    let sum = lengths.iter().try_fold(0usize, |a, &n| a.checked_add(n));
    match sum {
        Some(s) if s == total => Ok(()),
        Some(s) => Err(format!("lengths add up to {s} points but y holds {total}")),
        None => Err("lengths overflow".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(loss("soft_l1").unwrap(), Loss::SoftL1);
        assert!(loss("l2").unwrap_err().contains("soft_l1"));
        assert_eq!(method(None).unwrap(), None);
        assert_eq!(method(Some("dogbox")).unwrap(), Some(Method::Dogbox));
        assert!(method(Some("newton")).is_err());
        assert_eq!(backend("CPU").unwrap(), Backend::Cpu);
        assert!(backend("tpu").unwrap_err().contains("wgpu"));
        assert_eq!(precision("float32").unwrap(), Precision::F32);
        assert!(precision("f16").is_err());
        assert_eq!(nan_policy("omit").unwrap(), NanPolicy::Omit);
        assert!(nan_policy("propagate").is_err());
        assert_eq!(estimator("poisson").unwrap(), Estimator::PoissonMle);
        assert!(estimator("x").is_err());
        assert!(check_lengths(&[2, 3], 5).is_ok());
        assert!(check_lengths(&[2, 3], 6).unwrap_err().contains("5"));
        assert!(check_lengths(&[usize::MAX, 1], 6).is_err());
    }
}
