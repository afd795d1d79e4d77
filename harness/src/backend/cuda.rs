//! The `engine-cuda` and `libtorch-cuda` backends: the engine and libtorch backends with every
//! tensor a program creates placed on CUDA device 0, so that the whole suite and the fuzzer run
//! the same programs on the GPU (engine-CUDA against libtorch on the CPU or on CUDA).
//!
//! Only creation calls (`tensor`, `zeros`, `arange`, ...) change: their result is copied to the
//! device before the program sees it, without autograd history (a factory's `requires_grad=True`
//! arrives as a separate `requires_grad_` call, so the copy is still a leaf). Every other call
//! then runs on whatever device its inputs are on. Observations copy values back to the host,
//! so they compare across devices.
//!
//! Without a device, building one of these backends fails at once with [`NoCudaDevice`]: the
//! CLI checks that before running anything, and the runner turns it into one error per case.

use super::engine::EngineBackend;
use super::libtorch::{LibtorchBackend, TorchTensor};
use super::{Backend, Call, Failure, GraphObs, TensorObs, Value};
use crate::error_kind::ErrorKind;

/// Why a CUDA backend cannot run here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no CUDA device: {0}")]
pub struct NoCudaDevice(pub String);

/// Whether the call makes a fresh tensor from nothing (the calls whose result is placed).
fn is_creation<T>(call: &Call<T>) -> bool {
    matches!(
        call,
        Call::FromData { .. }
            | Call::Full { .. }
            | Call::Arange { .. }
            | Call::Linspace { .. }
            | Call::Eye { .. }
    )
}

fn placement_failure(backend: &str, e: impl std::fmt::Display) -> Failure {
    Failure::new(
        ErrorKind::DeviceUnavailable,
        format!("{backend}: cannot place a new tensor on cuda:0: {e}"),
    )
}

/// Whether the engine can place tensors on CUDA here, and why not.
pub fn engine_cuda_available() -> Result<(), NoCudaDevice> {
    if !cfg!(feature = "cuda") {
        return Err(NoCudaDevice(
            "the harness was built without the `cuda` feature, so the engine has no CUDA backend \
             (rebuild with `--features cuda`)"
                .into(),
        ));
    }
    if !engine::Device::Cuda(0).is_available() {
        return Err(NoCudaDevice(
            "the engine found no CUDA driver or device (engine-cuda needs an NVIDIA GPU)".into(),
        ));
    }
    Ok(())
}

/// Whether libtorch can place tensors on CUDA here, and why not.
pub fn libtorch_cuda_available() -> Result<(), NoCudaDevice> {
    if tch::Cuda::is_available() {
        Ok(())
    } else {
        Err(NoCudaDevice(
            "libtorch reports torch.cuda.is_available() == False (libtorch-cuda needs an NVIDIA GPU)"
                .into(),
        ))
    }
}

/// The engine with every created tensor on `cuda:0`.
pub struct EngineCudaBackend {
    inner: EngineBackend,
}

impl EngineCudaBackend {
    pub fn new() -> Result<Self, NoCudaDevice> {
        engine_cuda_available()?;
        Ok(Self::unchecked())
    }
    /// Without the availability check, for callers that made it once up front (a campaign
    /// builds one backend per worker); without a device its creation calls then fail.
    pub fn unchecked() -> Self {
        EngineCudaBackend {
            inner: EngineBackend::new(),
        }
    }
}

impl Backend for EngineCudaBackend {
    type Tensor = engine::Tensor;

    fn name(&self) -> &'static str {
        "engine-cuda"
    }
    fn version(&self) -> String {
        format!("{} (cuda:0)", self.inner.version())
    }
    fn call(&mut self, call: Call<engine::Tensor>) -> Result<Value<engine::Tensor>, Failure> {
        let place = is_creation(&call);
        match self.inner.call(call)? {
            Value::Tensor(t) if place => engine::with_no_grad(|| t.cuda())
                .map(Value::Tensor)
                .map_err(|e| placement_failure("engine", e)),
            v => Ok(v),
        }
    }
    fn observe(&mut self, x: &engine::Tensor) -> TensorObs {
        self.inner.observe(x)
    }
    fn same(&self, a: &engine::Tensor, b: &engine::Tensor) -> bool {
        self.inner.same(a, b)
    }
    fn graph(&mut self, x: &engine::Tensor) -> GraphObs {
        self.inner.graph(x)
    }
    fn take_warnings(&mut self) -> Vec<String> {
        self.inner.take_warnings()
    }
}

/// libtorch with every created tensor on `cuda:0`.
pub struct LibtorchCudaBackend {
    inner: LibtorchBackend,
}

impl LibtorchCudaBackend {
    pub fn new() -> Result<Self, NoCudaDevice> {
        libtorch_cuda_available()?;
        Ok(Self::unchecked())
    }
    /// Without the availability check (see [`EngineCudaBackend::unchecked`]).
    pub fn unchecked() -> Self {
        LibtorchCudaBackend {
            inner: LibtorchBackend::new(),
        }
    }
}

impl Backend for LibtorchCudaBackend {
    type Tensor = TorchTensor;

    fn name(&self) -> &'static str {
        "libtorch-cuda"
    }
    fn version(&self) -> String {
        format!("{} (cuda:0)", self.inner.version())
    }
    fn call(&mut self, call: Call<TorchTensor>) -> Result<Value<TorchTensor>, Failure> {
        let place = is_creation(&call);
        match self.inner.call(call)? {
            Value::Tensor(t) if place => {
                let _guard = tch::no_grad_guard();
                t.tch()
                    .f_to_device(tch::Device::Cuda(0))
                    .map(|c| Value::Tensor(TorchTensor::new(c)))
                    .map_err(|e| placement_failure("libtorch", e))
            }
            v => Ok(v),
        }
    }
    fn observe(&mut self, x: &TorchTensor) -> TensorObs {
        self.inner.observe(x)
    }
    fn same(&self, a: &TorchTensor, b: &TorchTensor) -> bool {
        self.inner.same(a, b)
    }
    fn graph(&mut self, x: &TorchTensor) -> GraphObs {
        self.inner.graph(x)
    }
    fn take_warnings(&mut self) -> Vec<String> {
        self.inner.take_warnings()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{DType, TensorData};

    #[test]
    fn creation_calls_are_the_placed_ones() {
        let data = Call::<()>::FromData {
            data: TensorData {
                shape: vec![1],
                dtype: DType::F32,
                values: vec![1.0],
            },
        };
        assert!(is_creation(&data));
        assert!(is_creation(&Call::<()>::Eye {
            n: 2,
            m: 2,
            dtype: DType::F32
        }));
        assert!(!is_creation(&Call::Unary {
            op: crate::backend::UnaryOp::Exp,
            x: ()
        }));
    }

    /// On a machine without a GPU both backends refuse to start with one clear message, and
    /// asking does not crash libtorch or the engine.
    #[test]
    fn without_a_device_the_backends_fail_fast() {
        if tch::Cuda::is_available() {
            assert!(LibtorchCudaBackend::new().is_ok());
        } else {
            let e = LibtorchCudaBackend::new().err().unwrap();
            assert!(e.to_string().starts_with("no CUDA device: "), "{e}");
        }
        if engine::Device::Cuda(0).is_available() && cfg!(feature = "cuda") {
            assert!(EngineCudaBackend::new().is_ok());
        } else {
            let e = EngineCudaBackend::new().err().unwrap();
            assert!(e.to_string().starts_with("no CUDA device: "), "{e}");
        }
    }
}
