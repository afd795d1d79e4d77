//! The libtorch backend through the `Backend` trait, against what CPython torch 2.13.0 does.
//!
//! Every expected value was printed by the Python torch 2.13.0 that shares this libtorch
//! (`~/.cache/autograd-conformance/torch-2.13.0-cuda/bin/python`, from
//! `AUTOGRAD_CONFORMANCE_TORCH=cuda scripts/setup.sh`); the snippet is in a comment. The tests
//! are in two rooms: `ops.rs` (grad_fn names, warnings, error classes, promotion) and
//! `autograd.rs` (backward, flags, `.grad`, `.data`, values, SGD, graphs, factories).

use harness::backend::libtorch::{LibtorchBackend, TorchTensor};
use harness::backend::{
    Backend, BinaryOp, Call, DType, Index, InplaceOp, Operand, Reduction, Scalar, TensorAttr,
    TensorData, UnaryOp, Value,
};
use harness::error_kind::ErrorKind;

#[path = "../support/mod.rs"]
mod support;
use support::{ok, tensor};

type B = LibtorchBackend;

fn data(shape: &[usize], values: &[f64], dtype: DType) -> Call<TorchTensor> {
    Call::FromData {
        data: TensorData {
            shape: shape.to_vec(),
            dtype,
            values: values.to_vec(),
        },
    }
}

/// `torch.tensor(values, requires_grad=True)` (float32).
fn leaf(b: &mut B, values: &[f64]) -> TorchTensor {
    let x = tensor(b, data(&[values.len()], values, DType::F32));
    tensor(b, Call::RequiresGrad_ { x, flag: true })
}

fn plain(b: &mut B, values: &[f64]) -> TorchTensor {
    tensor(b, data(&[values.len()], values, DType::F32))
}

fn grad_fn(b: &mut B, x: &TorchTensor) -> Option<String> {
    match ok(
        b,
        Call::GetAttr {
            x: x.clone(),
            attr: TensorAttr::GradFn,
        },
    ) {
        Value::Str(s) => Some(s),
        Value::None => None,
        other => panic!("grad_fn is {other:?}"),
    }
}

fn bin(op: BinaryOp, a: &TorchTensor, s: f64) -> Call<TorchTensor> {
    Call::Binary {
        op,
        a: a.clone(),
        b: Operand::Scalar(Scalar::Float(s)),
    }
}

fn sum(x: &TorchTensor) -> Call<TorchTensor> {
    Call::Sum {
        x: x.clone(),
        dims: None,
        keepdim: false,
    }
}

fn backward(root: &TorchTensor, retain_graph: Option<bool>) -> Call<TorchTensor> {
    Call::Backward {
        root: root.clone(),
        gradient: None,
        retain_graph,
        create_graph: false,
    }
}

fn grad_values(b: &mut B, x: &TorchTensor) -> Option<Vec<f64>> {
    b.observe(x).grad.map(|g| g.values)
}

mod autograd;
mod ops;
