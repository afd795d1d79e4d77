//! The CUDA backend (feature `cuda`): device contexts, device storage, host transfers, and
//! the storage-level kernels (NVRTC-compiled CUDA C in `engine/kernels/`, GEMM in cuBLAS).
//!
//! The autograd rules are the CPU engine's own; this module only owns memory and kernels.
//! Ops reach the kernels through [`crate::storage::Storage`], whose CUDA arm calls the
//! `CudaStorage` methods of `storage.rs`; a kernel this backend lacks is
//! `Error::NotSupportedOnCuda` naming the op.
//!
//! No GPU was at hand while this backend was written: the kernels are compiled by NVRTC in the
//! tests, and the routing and error paths are tested on the CPU, but no launch here has run.
//! Every entry point checks for the driver library before touching it, because cudarc panics
//! when libcuda is absent: without one, asking for a CUDA device is [`Error::NoCuda`].

pub mod kernels;
pub mod ops;
pub mod storage;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cudarc::driver::{CudaContext, CudaModule, CudaSlice, CudaStream};

use crate::cpu::CpuStorage;
use crate::layout::Layout;
use crate::{DType, Device, Error, Result};

/// Device buffers, one variant per engine dtype (bools are bytes, as the kernels see them).
#[derive(Debug)]
pub enum CudaData {
    F32(CudaSlice<f32>),
    F64(CudaSlice<f64>),
    I64(CudaSlice<i64>),
    Bool(CudaSlice<u8>),
}

/// A tensor buffer on one CUDA device, with the stream its work is ordered on.
#[derive(Debug)]
pub struct CudaStorage {
    pub(crate) data: CudaData,
    pub(crate) ordinal: usize,
    pub(crate) stream: Arc<CudaStream>,
}

fn driver_err(e: impl std::fmt::Debug) -> Error {
    Error::Cuda(format!("{e:?}"))
}

/// Whether the driver library can be loaded at all (false on machines without a GPU driver).
pub fn driver_present() -> bool {
    // SAFETY: only tries dlopen on cudarc's candidate names for libcuda.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// How many CUDA devices the driver reports; 0 without a driver.
pub fn device_count() -> usize {
    if !driver_present() {
        return 0;
    }
    std::panic::catch_unwind(CudaContext::device_count)
        .ok()
        .and_then(|r| r.ok())
        .map_or(0, |n| n.max(0) as usize)
}

/// The context of device `ordinal`, created once per process.
pub(crate) fn context(ordinal: usize) -> Result<Arc<CudaContext>> {
    static CONTEXTS: OnceLock<Mutex<HashMap<usize, Arc<CudaContext>>>> = OnceLock::new();
    let device = Device::Cuda(ordinal);
    if ordinal >= device_count() {
        return Err(Error::NoCuda(device));
    }
    let mut map = CONTEXTS.get_or_init(Default::default).lock().unwrap();
    if let Some(c) = map.get(&ordinal) {
        return Ok(c.clone());
    }
    let ctx = std::panic::catch_unwind(|| CudaContext::new(ordinal))
        .map_err(|_| Error::NoCuda(device))?
        .map_err(driver_err)?;
    map.insert(ordinal, ctx.clone());
    Ok(ctx)
}

/// The loaded kernel module `(name, body)` on device `ordinal`: compiled by NVRTC on first use
/// and cached per (device, module name) for the life of the process.
pub(crate) fn module(ordinal: usize, (name, body): kernels::Module) -> Result<Arc<CudaModule>> {
    type Cache = Mutex<HashMap<(usize, &'static str), Arc<CudaModule>>>;
    static MODULES: OnceLock<Cache> = OnceLock::new();
    let cache = MODULES.get_or_init(Default::default);
    if let Some(m) = cache.lock().unwrap().get(&(ordinal, name)) {
        return Ok(m.clone());
    }
    // Compiled outside the lock: NVRTC takes long, and two racing compiles are harmless.
    let ptx = kernels::compile_source(name, &kernels::with_prelude(body))?;
    let m = context(ordinal)?.load_module(ptx).map_err(driver_err)?;
    cache.lock().unwrap().insert((ordinal, name), m.clone());
    Ok(m)
}

impl CudaStorage {
    pub fn device(&self) -> Device {
        Device::Cuda(self.ordinal)
    }
    pub fn len(&self) -> usize {
        match &self.data {
            CudaData::F32(s) => s.len(),
            CudaData::F64(s) => s.len(),
            CudaData::I64(s) => s.len(),
            CudaData::Bool(s) => s.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn dtype(&self) -> DType {
        match &self.data {
            CudaData::F32(_) => DType::F32,
            CudaData::F64(_) => DType::F64,
            CudaData::I64(_) => DType::I64,
            CudaData::Bool(_) => DType::Bool,
        }
    }
    /// The whole buffer copied to the host (row-major only for contiguous storage; use
    /// [`download`] to follow a layout).
    pub fn to_cpu(&self) -> Result<CpuStorage> {
        let s = &self.stream;
        Ok(match &self.data {
            CudaData::F32(d) => CpuStorage::F32(s.clone_dtoh(d).map_err(driver_err)?),
            CudaData::F64(d) => CpuStorage::F64(s.clone_dtoh(d).map_err(driver_err)?),
            CudaData::I64(d) => CpuStorage::I64(s.clone_dtoh(d).map_err(driver_err)?),
            CudaData::Bool(d) => CpuStorage::Bool(
                s.clone_dtoh(d)
                    .map_err(driver_err)?
                    .into_iter()
                    .map(|b| b != 0)
                    .collect(),
            ),
        })
    }
}

/// Waits for the work queued on `device` (its context) to finish: device work is
/// asynchronous, so timings and host reads that must see it call this first.
pub fn synchronize(device: Device) -> Result<()> {
    let Device::Cuda(ordinal) = device else {
        return Ok(());
    };
    context(ordinal)?.synchronize().map_err(driver_err)
}

/// Copies a contiguous host buffer to device `device`.
pub fn upload(cpu: &CpuStorage, device: Device) -> Result<CudaStorage> {
    let Device::Cuda(ordinal) = device else {
        return Err(Error::Cuda(format!("upload to {device}")));
    };
    let stream = context(ordinal)?.default_stream();
    let data = match cpu {
        CpuStorage::F32(v) => CudaData::F32(stream.clone_htod(v).map_err(driver_err)?),
        CpuStorage::F64(v) => CudaData::F64(stream.clone_htod(v).map_err(driver_err)?),
        CpuStorage::I64(v) => CudaData::I64(stream.clone_htod(v).map_err(driver_err)?),
        CpuStorage::I32(_) | CpuStorage::I16(_) | CpuStorage::I8(_) => {
            return Err(crate::dtype::narrow_int_on_cuda(cpu.dtype()));
        }
        CpuStorage::Bool(v) => {
            let bytes: Vec<u8> = v.iter().map(|&b| b as u8).collect();
            CudaData::Bool(stream.clone_htod(&bytes).map_err(driver_err)?)
        }
    };
    Ok(CudaStorage {
        data,
        ordinal,
        stream,
    })
}

/// The elements `layout` selects from `storage`, row-major, on the host: gathered on the
/// device first when the layout is not a contiguous run, so only numel elements cross.
pub fn download(storage: &CudaStorage, layout: &Layout) -> Result<CpuStorage> {
    let packed = ops::strided_copy(storage, layout)?;
    packed.to_cpu()
}
