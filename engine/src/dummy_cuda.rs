//! The CUDA backend as it exists without the `cuda` feature: every request is a typed error,
//! so code can name `Device::Cuda` unconditionally (the way candle keeps a dummy backend).

use crate::{Device, Error, Result};

/// Stands in for device memory; it can never be constructed.
#[derive(Debug)]
pub enum CudaStorage {}

impl CudaStorage {
    pub fn device(&self) -> Device {
        match *self {}
    }
    pub fn len(&self) -> usize {
        match *self {}
    }
    pub fn is_empty(&self) -> bool {
        match *self {}
    }
    pub fn dtype(&self) -> crate::DType {
        match *self {}
    }
    pub fn to_cpu(&self) -> Result<crate::storage::CpuStorage> {
        match *self {}
    }
}

pub fn device_count() -> usize {
    0
}

pub fn upload(_cpu: &crate::storage::CpuStorage, device: Device) -> Result<CudaStorage> {
    Err(Error::NoCuda(device))
}

pub fn download(
    storage: &CudaStorage,
    _layout: &crate::layout::Layout,
) -> Result<crate::storage::CpuStorage> {
    match *storage {}
}
