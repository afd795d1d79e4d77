//! The CUDA backend as it exists without the `cuda` feature: every request is a typed error,
//! so code can name `Device::Cuda` unconditionally (the way candle keeps a dummy backend).
//! [`CudaStorage`] can never be constructed, so its op methods (the same as the real backend's
//! `cuda/storage.rs`) are never reached; they keep the `Storage` dispatch free of `cfg`s.

use crate::cpu::{Conv2dGeometry, CpuStorage};
use crate::kernel::{BinaryKernel, CompareKernel, UnaryKernel};
use crate::layout::Layout;
use crate::{DType, Device, Error, Result};

/// Stands in for device memory; it can never be constructed.
#[derive(Debug)]
pub enum CudaStorage {}

// The kernel type parameters mirror the real backend's signatures.
#[allow(clippy::extra_unused_type_parameters)]
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
    pub fn dtype(&self) -> DType {
        match *self {}
    }
    pub fn to_cpu(&self) -> Result<CpuStorage> {
        match *self {}
    }
    pub(crate) fn unary<U: UnaryKernel>(&self, _: &Layout, _: &[isize]) -> Result<CudaStorage> {
        match *self {}
    }
    pub(crate) fn binary<B: BinaryKernel>(
        &self,
        _: &Layout,
        _: &CudaStorage,
        _: &Layout,
        _: &[usize],
        _: &[isize],
    ) -> Result<CudaStorage> {
        match *self {}
    }
    pub(crate) fn compare<K: CompareKernel>(
        &self,
        _: &Layout,
        _: &CudaStorage,
        _: &Layout,
        _: &[usize],
        _: &[isize],
    ) -> Result<CudaStorage> {
        match *self {}
    }
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn select(
        &self,
        _: &Layout,
        _: &CudaStorage,
        _: &Layout,
        _: &CudaStorage,
        _: &Layout,
        _: &[usize],
        _: &[isize],
    ) -> Result<CudaStorage> {
        match *self {}
    }
    pub(crate) fn clamp(&self, _: &Layout, _: f64, _: f64, _: &[isize]) -> Result<CudaStorage> {
        match *self {}
    }
    pub(crate) fn cast(&self, _: &Layout, _: DType, _: &[isize]) -> Result<CudaStorage> {
        match *self {}
    }
    pub(crate) fn copy(&self, _: &Layout, _: &[isize]) -> Result<CudaStorage> {
        match *self {}
    }
    pub(crate) fn write(&mut self, _: &Layout, _: &CudaStorage, _: &Layout) -> Result<()> {
        match *self {}
    }
    pub(crate) fn write_host(&mut self, _: &Layout, _: &CpuStorage) -> Result<()> {
        match *self {}
    }
    pub(crate) fn sum(&self, _: &Layout, _: &[bool], _: DType) -> Result<CudaStorage> {
        match *self {}
    }
    pub(crate) fn extreme_all(&self, _: &Layout, _: bool) -> Result<CudaStorage> {
        match *self {}
    }
    pub(crate) fn softmax(&self, _: &Layout, _: usize, _: bool) -> Result<CudaStorage> {
        match *self {}
    }
    pub(crate) fn matmul(&self, _: &Layout, _: &CudaStorage, _: &Layout) -> Result<CudaStorage> {
        match *self {}
    }
    pub(crate) fn bmm(&self, _: &Layout, _: &CudaStorage, _: &Layout) -> Result<CudaStorage> {
        match *self {}
    }
    pub(crate) fn addmm(
        &self,
        _: &Layout,
        _: &CudaStorage,
        _: &Layout,
        _: &CudaStorage,
        _: &Layout,
    ) -> Result<CudaStorage> {
        match *self {}
    }
    pub(crate) fn conv2d(
        &self,
        _: &Layout,
        _: &CudaStorage,
        _: &Layout,
        _: Option<(&CudaStorage, &Layout)>,
        _: &Conv2dGeometry,
    ) -> Result<CudaStorage> {
        match *self {}
    }
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn conv2d_backward(
        &self,
        _: &Layout,
        _: &CudaStorage,
        _: &Layout,
        _: &CudaStorage,
        _: &Layout,
        _: &Conv2dGeometry,
        _: [bool; 3],
    ) -> Result<[Option<CudaStorage>; 3]> {
        match *self {}
    }
}

pub fn device_count() -> usize {
    0
}

pub fn upload(_cpu: &CpuStorage, device: Device) -> Result<CudaStorage> {
    Err(Error::NoCuda(device))
}

pub fn download(storage: &CudaStorage, _layout: &Layout) -> Result<CpuStorage> {
    match *storage {}
}
