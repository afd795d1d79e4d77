//! How close two values must be: the case's tolerance, or `torch.testing.assert_close`'s
//! defaults by dtype, and the closeness test itself. Below both the comparator and the numerics
//! oracle, which judge with the same rule.

use crate::backend::DType;
use crate::case::Tolerance;

/// Comparison tolerances: the case's, or `torch.testing.assert_close`'s defaults by dtype.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tol {
    pub case: Option<(f64, f64)>,
    /// The program holds a float32 tensor somewhere, so a float64 value may carry float32
    /// rounding (`x.double()`, `f32 + f64`): float64 is then compared at float32's tolerance.
    pub f32_in_program: bool,
}

impl Tol {
    pub fn new(t: Option<&Tolerance>) -> Self {
        Tol {
            case: t.map(|t| (t.rtol, t.atol)),
            f32_in_program: false,
        }
    }

    pub fn for_dtype(self, d: DType) -> (f64, f64) {
        match (d, self.case) {
            (DType::Bool | DType::I8 | DType::I16 | DType::I32 | DType::I64, _) => (0.0, 0.0),
            (_, Some(c)) => c,
            (DType::F32, None) => (1.3e-6, 1e-5),
            (DType::F64, None) if self.f32_in_program => (1.3e-6, 1e-5),
            (DType::F64, None) => (1e-7, 1e-7),
        }
    }
}

/// NaN equals NaN, infinities must match exactly, otherwise `|a - b| <= atol + rtol * |b|`.
pub fn close(a: f64, b: f64, rtol: f64, atol: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= atol + rtol * b.abs()
}
