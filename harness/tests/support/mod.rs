//! Call helpers shared by the trait-level backend tests (`engine_backend.rs`, `libtorch_backend.rs`).

use harness::backend::{Backend, Call, Failure, Value};
use std::fmt::Debug;

/// The call's value; a failure fails the test.
pub fn ok<B: Backend>(b: &mut B, call: Call<B::Tensor>) -> Value<B::Tensor>
where
    B::Tensor: Debug,
{
    match b.call(call) {
        Ok(v) => v,
        Err(f) => panic!("unexpected failure: {f:?}"),
    }
}

/// The tensor the call returns; anything else fails the test.
pub fn tensor<B: Backend>(b: &mut B, call: Call<B::Tensor>) -> B::Tensor
where
    B::Tensor: Debug,
{
    match ok(b, call) {
        Value::Tensor(t) => t,
        other => panic!("expected a tensor, got {other:?}"),
    }
}

/// The call's failure; success fails the test.
pub fn err<B: Backend>(b: &mut B, call: Call<B::Tensor>) -> Failure
where
    B::Tensor: Debug,
{
    match b.call(call) {
        Ok(v) => panic!("expected a failure, got {v:?}"),
        Err(f) => f,
    }
}
