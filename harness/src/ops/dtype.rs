//! The dtypes the case language has, and libtorch's type promotion between them: the
//! vocabulary of every op row's result-dtype rule. Goldens name them by their serde names
//! (`bool`, `i8`, `i16`, `i32`, `i64`, `f32`, `f64`).

use serde::{Deserialize, Serialize};

/// In `torch.promote_types` order: between two of them the later one wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    Bool,
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
}

impl DType {
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// The signed integer dtypes, int8 through int64.
    pub fn is_int(self) -> bool {
        matches!(self, DType::I8 | DType::I16 | DType::I32 | DType::I64)
    }

    /// Every dtype, in promotion order.
    pub const ALL: [DType; 7] = [
        DType::Bool,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::F32,
        DType::F64,
    ];

    /// PyTorch's spelling: `torch.float32`.
    pub fn torch_name(self) -> &'static str {
        match self {
            DType::Bool => "torch.bool",
            DType::I8 => "torch.int8",
            DType::I16 => "torch.int16",
            DType::I32 => "torch.int32",
            DType::I64 => "torch.int64",
            DType::F32 => "torch.float32",
            DType::F64 => "torch.float64",
        }
    }

    /// The ScalarType name libtorch's messages use (`Char` is int8).
    pub fn scalar_type_name(self) -> &'static str {
        match self {
            DType::Bool => "Bool",
            DType::I8 => "Char",
            DType::I16 => "Short",
            DType::I32 => "Int",
            DType::I64 => "Long",
            DType::F32 => "Float",
            DType::F64 => "Double",
        }
    }

    /// Two tensors' common dtype (`torch.promote_types`): the later in promotion order.
    pub fn promote(self, other: DType) -> DType {
        self.max(other)
    }

    /// A tensor of this dtype with a Python number: a float lifts integers and bools to the
    /// default float dtype, an int lifts bools to int64, and neither widens a tensor of its
    /// own category (`int8 tensor + 1000` stays int8).
    pub fn promote_number(self, number_is_float: bool) -> DType {
        match (self, number_is_float) {
            (d, true) if !d.is_float() => DType::F32,
            (DType::Bool, false) => DType::I64,
            (d, _) => d,
        }
    }

    /// What an op that computes in floating point (`exp`, `/`) gives for this input dtype:
    /// integers and bools compute in the default float dtype.
    pub fn to_float(self) -> DType {
        if self.is_float() { self } else { DType::F32 }
    }
}

#[cfg(test)]
mod tests {
    use super::DType::*;

    #[test]
    fn promotion_table_matches_torch() {
        // torch.promote_types(a, b) over bool, int8, int16, int32, int64, float32, float64,
        // printed by torch 2.13.0: row int8 is int8 int8 int16 int32 int64 float32 float64.
        let rows = [
            [Bool, I8, I16, I32, I64, F32, F64],
            [I8, I8, I16, I32, I64, F32, F64],
            [I16, I16, I16, I32, I64, F32, F64],
            [I32, I32, I32, I32, I64, F32, F64],
            [I64, I64, I64, I64, I64, F32, F64],
            [F32, F32, F32, F32, F32, F32, F64],
            [F64, F64, F64, F64, F64, F64, F64],
        ];
        for (a, row) in crate::ops::DType::ALL.iter().zip(rows) {
            for (b, want) in crate::ops::DType::ALL.iter().zip(row) {
                assert_eq!(a.promote(*b), want, "{a:?} with {b:?}");
            }
        }
        // int8 tensor + 1.5 is float32; int16 tensor + 1000 stays int16.
        assert_eq!(I8.promote_number(true), F32);
        assert_eq!(I16.promote_number(false), I16);
        assert_eq!(I32.to_float(), F32);
    }

    #[test]
    fn promotion_follows_torch_promote_types() {
        // torch.promote_types over the four dtypes, as torch 2.13 prints it.
        assert_eq!(Bool.promote(Bool), Bool);
        assert_eq!(Bool.promote(I64), I64);
        assert_eq!(I64.promote(F32), F32);
        assert_eq!(F32.promote(F64), F64);
        assert_eq!(Bool.promote_number(false), I64);
        assert_eq!(I64.promote_number(true), F32);
        assert_eq!(F64.promote_number(true), F64);
        assert_eq!(I64.to_float(), F32);
        assert_eq!(F64.to_float(), F64);
    }
}
