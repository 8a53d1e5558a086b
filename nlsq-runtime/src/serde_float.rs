//! Serde for floats that may be infinite or NaN (an indeterminate covariance is all `+∞`):
//! finite values stay JSON numbers; the others become the strings `"inf"`, `"-inf"`, `"nan"`,
//! so every result survives a round trip through JSON unchanged.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Repr {
    Number(f64),
    Text(String),
}

fn to_repr(v: f64) -> Repr {
    if v.is_finite() {
        Repr::Number(v)
    } else if v.is_nan() {
        Repr::Text("nan".into())
    } else if v > 0.0 {
        Repr::Text("inf".into())
    } else {
        Repr::Text("-inf".into())
    }
}

fn from_repr<E: serde::de::Error>(r: Repr) -> Result<f64, E> {
    match r {
        Repr::Number(v) => Ok(v),
        Repr::Text(t) => match t.as_str() {
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            "nan" => Ok(f64::NAN),
            other => Err(E::custom(format!(
                "expected a number, \"inf\", \"-inf\" or \"nan\", found \"{other}\""
            ))),
        },
    }
}

/// One float.
pub mod scalar {
    use super::*;

    /// Serializes one float.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        to_repr(*v).serialize(s)
    }

    /// Deserializes one float.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        from_repr(Repr::deserialize(d)?)
    }
}

/// A vector of floats.
pub mod vec {
    use super::*;

    /// Serializes a vector.
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|x| to_repr(*x))
            .collect::<Vec<_>>()
            .serialize(s)
    }

    /// Deserializes a vector.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Vec::<Repr>::deserialize(d)?
            .into_iter()
            .map(from_repr)
            .collect()
    }
}

/// A matrix as rows of floats.
pub mod rows {
    use super::*;

    /// Serializes rows.
    pub fn serialize<S: Serializer>(v: &[Vec<f64>], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|r| r.iter().map(|x| to_repr(*x)).collect::<Vec<_>>())
            .collect::<Vec<_>>()
            .serialize(s)
    }

    /// Deserializes rows.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
        Vec::<Vec<Repr>>::deserialize(d)?
            .into_iter()
            .map(|r| r.into_iter().map(from_repr).collect())
            .collect()
    }
}

/// A vector of intervals.
pub mod pairs {
    use super::*;

    /// Serializes intervals.
    pub fn serialize<S: Serializer>(v: &[(f64, f64)], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|(a, b)| (to_repr(*a), to_repr(*b)))
            .collect::<Vec<_>>()
            .serialize(s)
    }

    /// Deserializes intervals.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(f64, f64)>, D::Error> {
        Vec::<(Repr, Repr)>::deserialize(d)?
            .into_iter()
            .map(|(a, b)| Ok((from_repr(a)?, from_repr(b)?)))
            .collect()
    }
}
