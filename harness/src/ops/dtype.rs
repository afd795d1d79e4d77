//! The four dtypes the case language has, and libtorch's type promotion between them: the
//! vocabulary of every op row's result-dtype rule.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    Bool,
    I64,
    F32,
    F64,
}

impl DType {
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// PyTorch's spelling: `torch.float32`.
    pub fn torch_name(self) -> &'static str {
        match self {
            DType::Bool => "torch.bool",
            DType::I64 => "torch.int64",
            DType::F32 => "torch.float32",
            DType::F64 => "torch.float64",
        }
    }

    /// Two tensors' common dtype (`torch.promote_types`).
    pub fn promote(self, other: DType) -> DType {
        use DType::*;
        match (self, other) {
            (F64, _) | (_, F64) => F64,
            (F32, _) | (_, F32) => F32,
            (I64, _) | (_, I64) => I64,
            _ => Bool,
        }
    }

    /// A tensor of this dtype with a Python number: a float lifts integers and bools to the
    /// default float dtype, an int lifts bools to int64, and neither widens a float tensor.
    pub fn promote_number(self, number_is_float: bool) -> DType {
        match (self, number_is_float) {
            (DType::I64 | DType::Bool, true) => DType::F32,
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
