//! Host memory: the CPU storage's typed buffers and typed access to them.

use crate::DType;
use crate::dtype::Elem;

/// Typed host buffers.
#[derive(Debug, Clone, PartialEq)]
pub enum CpuStorage {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I64(Vec<i64>),
    I32(Vec<i32>),
    I16(Vec<i16>),
    I8(Vec<i8>),
    Bool(Vec<bool>),
}

/// Typed access to a [`CpuStorage`] buffer; implemented for every element type.
pub trait StorageElem: Elem {
    fn slice(s: &CpuStorage) -> Option<&[Self]>;
    fn slice_mut(s: &mut CpuStorage) -> Option<&mut [Self]>;
    fn wrap(v: Vec<Self>) -> CpuStorage;
}

macro_rules! storage_elem {
    ($t:ty, $v:ident) => {
        impl StorageElem for $t {
            #[inline]
            fn slice(s: &CpuStorage) -> Option<&[Self]> {
                match s {
                    CpuStorage::$v(v) => Some(v),
                    _ => None,
                }
            }
            #[inline]
            fn slice_mut(s: &mut CpuStorage) -> Option<&mut [Self]> {
                match s {
                    CpuStorage::$v(v) => Some(v),
                    _ => None,
                }
            }
            #[inline]
            fn wrap(v: Vec<Self>) -> CpuStorage {
                CpuStorage::$v(v)
            }
        }
    };
}
storage_elem!(f32, F32);
storage_elem!(f64, F64);
storage_elem!(i64, I64);
storage_elem!(i32, I32);
storage_elem!(i16, I16);
storage_elem!(i8, I8);
storage_elem!(bool, Bool);

impl CpuStorage {
    pub fn dtype(&self) -> DType {
        match self {
            CpuStorage::F32(_) => DType::F32,
            CpuStorage::F64(_) => DType::F64,
            CpuStorage::I64(_) => DType::I64,
            CpuStorage::I32(_) => DType::I32,
            CpuStorage::I16(_) => DType::I16,
            CpuStorage::I8(_) => DType::I8,
            CpuStorage::Bool(_) => DType::Bool,
        }
    }
    pub fn len(&self) -> usize {
        match self {
            CpuStorage::F32(v) => v.len(),
            CpuStorage::F64(v) => v.len(),
            CpuStorage::I64(v) => v.len(),
            CpuStorage::I32(v) => v.len(),
            CpuStorage::I16(v) => v.len(),
            CpuStorage::I8(v) => v.len(),
            CpuStorage::Bool(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn zeros(dtype: DType, n: usize) -> Self {
        match dtype {
            DType::F32 => CpuStorage::F32(vec![0.0; n]),
            DType::F64 => CpuStorage::F64(vec![0.0; n]),
            DType::I64 => CpuStorage::I64(vec![0; n]),
            DType::I32 => CpuStorage::I32(vec![0; n]),
            DType::I16 => CpuStorage::I16(vec![0; n]),
            DType::I8 => CpuStorage::I8(vec![0; n]),
            DType::Bool => CpuStorage::Bool(vec![false; n]),
        }
    }
    /// Builds a buffer of `dtype` from f64 values (exact for |v| < 2^53 integers).
    pub fn from_f64(dtype: DType, values: impl IntoIterator<Item = f64>) -> Self {
        let it = values.into_iter();
        match dtype {
            DType::F32 => CpuStorage::F32(it.map(|v| v as f32).collect()),
            DType::F64 => CpuStorage::F64(it.collect()),
            DType::I64 => CpuStorage::I64(it.map(|v| v as i64).collect()),
            DType::I32 => CpuStorage::I32(it.map(i32::from_f64).collect()),
            DType::I16 => CpuStorage::I16(it.map(i16::from_f64).collect()),
            DType::I8 => CpuStorage::I8(it.map(i8::from_f64).collect()),
            DType::Bool => CpuStorage::Bool(it.map(|v| v != 0.0).collect()),
        }
    }
    /// Element `i` as f64.
    #[inline]
    pub fn get_f64(&self, i: usize) -> f64 {
        match self {
            CpuStorage::F32(v) => v[i] as f64,
            CpuStorage::F64(v) => v[i],
            CpuStorage::I64(v) => v[i] as f64,
            CpuStorage::I32(v) => v[i] as f64,
            CpuStorage::I16(v) => v[i] as f64,
            CpuStorage::I8(v) => v[i] as f64,
            CpuStorage::Bool(v) => v[i] as i64 as f64,
        }
    }
}
