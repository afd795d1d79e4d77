//! JSON for floats that JSON has no number for: `NaN`, `inf` and `-inf` travel as the strings
//! `"nan"`, `"inf"` and `"-inf"` (serde_json would write `null` and fail to read it back), every
//! other value as a number, `-0.0` included. Used by goldens and results files alike.

use serde::de::{self, Deserializer, Visitor};
use serde::ser::{SerializeSeq, Serializer};

struct F(f64);

impl serde::Serialize for F {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_nan() {
            s.serialize_str("nan")
        } else if v.is_infinite() {
            s.serialize_str(if v > 0.0 { "inf" } else { "-inf" })
        } else {
            s.serialize_f64(v)
        }
    }
}

struct FVisitor;

impl Visitor<'_> for FVisitor {
    type Value = f64;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a number, \"nan\", \"inf\" or \"-inf\"")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        match v {
            "nan" => Ok(f64::NAN),
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
    /// Files written before non-finite values were spelled out hold `null` for them.
    fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
        Ok(f64::NAN)
    }
}

impl<'de> serde::Deserialize<'de> for F {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FVisitor).map(F)
    }
}

/// `#[serde(with = "floats::one")]` for an `f64`.
pub mod one {
    use super::*;
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&F(*v), s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        <F as serde::Deserialize>::deserialize(d).map(|f| f.0)
    }
}

/// `#[serde(with = "floats::many")]` for a `Vec<f64>`.
pub mod many {
    use super::*;
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for x in v {
            seq.serialize_element(&F(*x))?;
        }
        seq.end()
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let v: Vec<F> = serde::Deserialize::deserialize(d)?;
        Ok(v.into_iter().map(|f| f.0).collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::{DType, TensorData};

    #[test]
    fn non_finite_values_survive_a_round_trip() {
        let d = TensorData {
            shape: vec![5],
            dtype: DType::F32,
            values: vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 1.5],
        };
        let text = serde_json::to_string(&d).unwrap();
        assert!(text.contains(r#"["nan","inf","-inf",-0.0,1.5]"#), "{text}");
        let back: TensorData = serde_json::from_str(&text).unwrap();
        assert!(back.values[0].is_nan());
        assert_eq!(back.values[1..3], [f64::INFINITY, f64::NEG_INFINITY]);
        assert!(back.values[3] == 0.0 && back.values[3].is_sign_negative());
        assert_eq!(back.values[4], 1.5);
    }
}
