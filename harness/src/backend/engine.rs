//! The engine as a [`Backend`]. (stub: owned by the engine work)

use super::{Backend, Call, Failure, GraphObs, TensorObs, Value};
use crate::error_kind::ErrorKind;

#[derive(Default)]
pub struct EngineBackend;

#[derive(Clone, Debug)]
pub struct EngineTensor;

impl Backend for EngineBackend {
    type Tensor = EngineTensor;
    fn name(&self) -> &'static str {
        "engine"
    }
    fn version(&self) -> String {
        format!("engine {}", env!("CARGO_PKG_VERSION"))
    }
    fn call(&mut self, _call: Call<EngineTensor>) -> Result<Value<EngineTensor>, Failure> {
        Err(Failure::new(
            ErrorKind::NotImplemented,
            "engine backend not written yet",
        ))
    }
    fn observe(&mut self, _x: &EngineTensor) -> TensorObs {
        unimplemented!("engine backend not written yet")
    }
    fn same(&self, _a: &EngineTensor, _b: &EngineTensor) -> bool {
        false
    }
    fn graph(&mut self, _x: &EngineTensor) -> GraphObs {
        GraphObs::default()
    }
    fn take_warnings(&mut self) -> Vec<String> {
        Vec::new()
    }
}
