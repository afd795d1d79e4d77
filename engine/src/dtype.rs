//! Element types and PyTorch's type-promotion rules.

/// The engine's element types. `f32` is the default float dtype, as in PyTorch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    Bool,
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
}

/// Promotion category, in PyTorch's order: a higher category in a scalar operand wins over a
/// tensor of a lower one ("wrapped numbers" only participate by category).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Category {
    Bool,
    Int,
    Float,
}

impl DType {
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }
    /// The signed integer dtypes (int8 through int64).
    pub fn is_int(self) -> bool {
        matches!(self, DType::I8 | DType::I16 | DType::I32 | DType::I64)
    }
    /// int8, int16 and int32: stored in their width, computed through the int64 kernels and
    /// wrapped back (two's complement, as ATen's integer arithmetic wraps).
    pub fn is_narrow_int(self) -> bool {
        matches!(self, DType::I8 | DType::I16 | DType::I32)
    }
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::Bool | DType::I8 => 1,
            DType::I16 => 2,
            DType::F32 | DType::I32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }
    pub(crate) fn category(self) -> Category {
        match self {
            DType::Bool => Category::Bool,
            DType::I8 | DType::I16 | DType::I32 | DType::I64 => Category::Int,
            DType::F32 | DType::F64 => Category::Float,
        }
    }
    /// `torch.float32`
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
    /// The ScalarType name libtorch's messages use: `Float`, `Double`, `Long`, `Int`, `Short`,
    /// `Char` (int8), `Bool`.
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
    /// The C type name libtorch uses in some messages: `float`, `double`, `long int`, `bool`.
    pub fn c_name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I8 => "signed char",
            DType::I16 => "short int",
            DType::I32 => "int",
            DType::I64 => "long int",
            DType::F32 => "float",
            DType::F64 => "double",
        }
    }
    /// `torch.FloatTensor`, as in the "modified by an inplace operation" message.
    pub fn legacy_type_name(self) -> &'static str {
        match self {
            DType::Bool => "torch.BoolTensor",
            DType::I8 => "torch.CharTensor",
            DType::I16 => "torch.ShortTensor",
            DType::I32 => "torch.IntTensor",
            DType::I64 => "torch.LongTensor",
            DType::F32 => "torch.FloatTensor",
            DType::F64 => "torch.DoubleTensor",
        }
    }
    /// Promotion of two tensor dtypes (both "dimensioned" or both wrapped): the variants are
    /// in `torch.promote_types` order over these dtypes (bool < int8 < ... < float64).
    pub fn promote(a: DType, b: DType) -> DType {
        a.max(b)
    }
    /// The float dtype an op like `exp` or `/` computes in: floats stay, others become f32.
    pub fn to_float(self) -> DType {
        if self.is_float() { self } else { DType::F32 }
    }
}

/// The CUDA storage holds no int8/int16/int32 buffers: placing one there (or casting to one
/// there) is this typed refusal, naming the dtype.
#[cfg_attr(not(feature = "cuda"), allow(dead_code))]
pub(crate) fn narrow_int_on_cuda(d: DType) -> crate::Error {
    crate::Error::NotSupportedOnCuda {
        op: match d {
            DType::I8 => "int8 tensors",
            DType::I16 => "int16 tensors",
            _ => "int32 tensors",
        },
    }
}

/// A Python number operand.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
}

impl Scalar {
    pub fn as_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => b as i64 as f64,
            Scalar::Int(i) => i as f64,
            Scalar::Float(f) => f,
        }
    }
    /// The dtype a wrapped number has: `2` is i64, `2.0` is the default float (f32).
    pub fn wrapped_dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int(_) => DType::I64,
            Scalar::Float(_) => DType::F32,
        }
    }
}

impl From<f64> for Scalar {
    fn from(v: f64) -> Self {
        Scalar::Float(v)
    }
}
impl From<f32> for Scalar {
    fn from(v: f32) -> Self {
        Scalar::Float(v as f64)
    }
}
impl From<i64> for Scalar {
    fn from(v: i64) -> Self {
        Scalar::Int(v)
    }
}
impl From<i32> for Scalar {
    fn from(v: i32) -> Self {
        Scalar::Int(v as i64)
    }
}
impl From<bool> for Scalar {
    fn from(v: bool) -> Self {
        Scalar::Bool(v)
    }
}

/// The result dtype of a binary op between a tensor and a wrapped Python number: the number
/// only matters when its category is higher than the tensor's (then the default dtype of that
/// category is used).
pub(crate) fn promote_with_scalar(t: DType, s: Scalar) -> DType {
    let sd = s.wrapped_dtype();
    if sd.category() > t.category() { sd } else { t }
}

/// `result_type` over tensors, where a 0-dim tensor counts as "wrapped-like" only by category
/// when the other operand has dimensions (PyTorch's dim/zero-dim priority).
pub(crate) fn promote_tensors(a: DType, a_dims: usize, b: DType, b_dims: usize) -> DType {
    match (a_dims == 0, b_dims == 0) {
        (false, true) => {
            if b.category() > a.category() {
                b
            } else {
                a
            }
        }
        (true, false) => {
            if a.category() > b.category() {
                a
            } else {
                b
            }
        }
        _ => DType::promote(a, b),
    }
}

/// Element types the CPU storage holds.
pub trait Elem: Copy + Send + Sync + std::fmt::Debug + PartialOrd + 'static {
    const DTYPE: DType;
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
    fn zero() -> Self;
    fn one() -> Self;
    /// Integers and bools as int64 (exact); floats truncated (only the int casts call it on
    /// integer sources).
    fn to_i64(self) -> i64;
}

macro_rules! elem {
    ($t:ty, $d:ident, $z:expr, $o:expr, $to:expr, $from:expr) => {
        impl Elem for $t {
            const DTYPE: DType = DType::$d;
            #[inline]
            fn to_f64(self) -> f64 {
                ($to)(self)
            }
            #[inline]
            fn from_f64(v: f64) -> Self {
                ($from)(v)
            }
            #[inline]
            fn zero() -> Self {
                $z
            }
            #[inline]
            fn one() -> Self {
                $o
            }
            #[inline]
            fn to_i64(self) -> i64 {
                self as i64
            }
        }
    };
}
elem!(f32, F32, 0.0, 1.0, |x: f32| x as f64, |v: f64| v as f32);
elem!(f64, F64, 0.0, 1.0, |x: f64| x, |v: f64| v);
elem!(i64, I64, 0, 1, |x: i64| x as f64, |v: f64| v as i64);
// The narrow integers take an f64 through int64 and wrap, as a C++ cast of an in-range
// integral value does.
elem!(i32, I32, 0, 1, |x: i32| x as f64, |v: f64| v as i64 as i32);
elem!(i16, I16, 0, 1, |x: i16| x as f64, |v: f64| v as i64 as i16);
elem!(i8, I8, 0, 1, |x: i8| x as f64, |v: f64| v as i64 as i8);
elem!(
    bool,
    Bool,
    false,
    true,
    |x: bool| x as i64 as f64,
    |v: f64| v != 0.0
);

/// Float element types, for the math kernels.
pub trait FloatElem: Elem + num_traits::Float {}
impl FloatElem for f32 {}
impl FloatElem for f64 {}
