//! The engine backend through the `Backend` trait: error kinds, warnings, observation and graphs,
//! against what CPython torch 2.13.0 does.
//!
//! Every expected value was printed by the Python torch 2.13.0 that shares the suite's libtorch
//! (`~/.cache/autograd-conformance/torch-2.13.0-cuda/bin/python`, from
//! `AUTOGRAD_CONFORMANCE_TORCH=cuda scripts/setup.sh`); the snippet is in a comment.

use harness::backend::engine::{EngineBackend, EngineTensor};
use harness::backend::{
    Backend, BinaryOp, Call, DType, InplaceOp, Operand, Reduction, Scalar, TensorAttr, TensorData,
    Value,
};
use harness::error_kind::ErrorKind;

mod support;
use support::{err, ok, tensor};

type B = EngineBackend;
type T = EngineTensor;

/// `torch.tensor(values)` (f32), optionally `.requires_grad_()`.
fn leaf(b: &mut B, values: &[f64], requires_grad: bool) -> T {
    let t = tensor(
        b,
        Call::FromData {
            data: TensorData {
                shape: vec![values.len()],
                dtype: DType::F32,
                values: values.to_vec(),
            },
        },
    );
    if requires_grad {
        tensor(b, Call::RequiresGrad_ { x: t, flag: true })
    } else {
        t
    }
}

fn mul(b: &mut B, a: &T, c: &T) -> T {
    tensor(
        b,
        Call::Binary {
            op: BinaryOp::Mul,
            a: a.clone(),
            b: Operand::Tensor(c.clone()),
        },
    )
}

fn sum(b: &mut B, x: &T) -> T {
    tensor(
        b,
        Call::Sum {
            x: x.clone(),
            dims: None,
            keepdim: false,
        },
    )
}

fn backward(root: &T) -> Call<T> {
    Call::Backward {
        root: root.clone(),
        gradient: None,
        retain_graph: None,
        create_graph: false,
    }
}

fn attr(b: &mut B, x: &T, attr: TensorAttr) -> Value<T> {
    ok(b, Call::GetAttr { x: x.clone(), attr })
}

#[test]
fn in_place_on_a_leaf_that_requires_grad_is_leaf_inplace() {
    // x = torch.ones(2, requires_grad=True); x.add_(1)
    // RuntimeError: a leaf Variable that requires grad is being used in an in-place operation.
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 1.0], true);
    let f = err(
        &mut b,
        Call::Inplace {
            op: InplaceOp::Add,
            x,
            other: Operand::Scalar(Scalar::Int(1)),
        },
    );
    assert_eq!(f.kind, ErrorKind::LeafInplace);
    assert_eq!(
        f.message,
        "a leaf Variable that requires grad is being used in an in-place operation."
    );
}

#[test]
fn backward_errors_have_libtorch_kinds() {
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0], true);

    // (x * x).sum().backward(); again -> "Trying to backward through the graph a second time"
    let y = mul(&mut b, &x, &x);
    let s = sum(&mut b, &y);
    ok(&mut b, backward(&s));
    let f = err(&mut b, backward(&s));
    assert_eq!(f.kind, ErrorKind::BackwardTwice);
    assert!(
        f.message
            .starts_with("Trying to backward through the graph a second time")
    );

    // (x * x).backward() -> "grad can be implicitly created only for scalar outputs"
    let y = mul(&mut b, &x, &x);
    assert_eq!(
        err(&mut b, backward(&y)).kind,
        ErrorKind::ImplicitGradNonScalar
    );

    // torch.tensor([1., 2.]).sum().backward()
    // -> "element 0 of tensors does not require grad and does not have a grad_fn"
    let c = leaf(&mut b, &[1.0, 2.0], false);
    let s = sum(&mut b, &c);
    let f = err(&mut b, backward(&s));
    assert_eq!(f.kind, ErrorKind::NoGradFn);
    assert_eq!(
        f.message,
        "element 0 of tensors does not require grad and does not have a grad_fn"
    );

    // (x * x).backward(torch.ones(3)) -> "Mismatch in shape: grad_output[0] has a shape of
    // torch.Size([3]) and output[0] has a shape of torch.Size([2])."
    let y = mul(&mut b, &x, &x);
    let g = leaf(&mut b, &[1.0, 1.0, 1.0], false);
    let f = err(
        &mut b,
        Call::Backward {
            root: y,
            gradient: Some(g),
            retain_graph: None,
            create_graph: false,
        },
    );
    assert_eq!(f.kind, ErrorKind::GradShape);
    assert_eq!(
        f.message,
        "Mismatch in shape: grad_output[0] has a shape of torch.Size([3]) and output[0] has a shape of torch.Size([2])."
    );
}

#[test]
fn shape_dtype_and_argument_errors_have_libtorch_kinds() {
    let mut b = B::new();
    // torch.ones(3) + torch.ones(4): "The size of tensor a (3) must match the size of tensor b
    // (4) at non-singleton dimension 0"
    let a = leaf(&mut b, &[1.0; 3], false);
    let c = leaf(&mut b, &[1.0; 4], false);
    let f = err(
        &mut b,
        Call::Binary {
            op: BinaryOp::Add,
            a: a.clone(),
            b: Operand::Tensor(c),
        },
    );
    assert_eq!(f.kind, ErrorKind::BroadcastShape);
    assert_eq!(
        f.message,
        "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0"
    );

    // torch.arange(3).requires_grad_() -> "only Tensors of floating point dtype can require
    // gradients"
    let i = tensor(
        &mut b,
        Call::Arange {
            start: 0.0,
            end: 3.0,
            step: 1.0,
            dtype: DType::I64,
        },
    );
    let f = err(&mut b, Call::RequiresGrad_ { x: i, flag: true });
    assert_eq!(f.kind, ErrorKind::RequiresGradDtype);

    // torch.ones(3).view(2, 2) -> "shape '[2, 2]' is invalid for input of size 3"
    let f = err(
        &mut b,
        Call::View {
            x: a.clone(),
            shape: vec![2, 2],
        },
    );
    assert_eq!(f.kind, ErrorKind::InvalidShape);
    assert_eq!(f.message, "shape '[2, 2]' is invalid for input of size 3");

    // torch.maximum(torch.ones(3), 2) -> TypeError from Python's argument parser
    let f = err(
        &mut b,
        Call::Binary {
            op: BinaryOp::Maximum,
            a: a.clone(),
            b: Operand::Scalar(Scalar::Int(2)),
        },
    );
    assert_eq!(f.kind, ErrorKind::TypeError);
    assert_eq!(
        f.message,
        "maximum(): argument 'other' (position 2) must be Tensor, not int"
    );

    // torch.ones(3).sum(1) -> "Dimension out of range (expected to be in range of [-1, 0], but
    // got 1)"
    let f = err(
        &mut b,
        Call::Sum {
            x: a,
            dims: Some(vec![1]),
            keepdim: false,
        },
    );
    assert_eq!(f.kind, ErrorKind::DimOutOfRange);
}

#[test]
fn reading_grad_of_a_non_leaf_warns_once_and_observe_does_not() {
    // x = torch.ones(2, requires_grad=True); y = x * 2; y.grad -> None, with the UserWarning
    // "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed..."
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 1.0], true);
    let y = tensor(
        &mut b,
        Call::Binary {
            op: BinaryOp::Mul,
            a: x,
            b: Operand::Scalar(Scalar::Int(2)),
        },
    );
    assert!(b.take_warnings().is_empty());
    let _ = b.observe(&y);
    assert!(b.take_warnings().is_empty(), "observe must not warn");
    assert!(matches!(attr(&mut b, &y, TensorAttr::Grad), Value::None));
    let w = b.take_warnings();
    assert_eq!(w.len(), 1);
    assert!(w[0].starts_with(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed."
    ));
    assert!(b.take_warnings().is_empty(), "take_warnings drains");
}

#[test]
fn mse_loss_with_differing_sizes_warns_and_broadcasts_like_python() {
    // F.mse_loss(torch.ones(3, 1, requires_grad=True), torch.ones(3, 4)) warns "Using a target
    // size (torch.Size([3, 4])) that is different to the input size (torch.Size([3, 1]))..." and
    // the loss's next function is ExpandBackward0 (from broadcast_tensors).
    let mut b = B::new();
    let input = tensor(
        &mut b,
        Call::Full {
            shape: vec![3, 1],
            value: Scalar::Float(1.0),
            dtype: DType::F32,
        },
    );
    let input = tensor(
        &mut b,
        Call::RequiresGrad_ {
            x: input,
            flag: true,
        },
    );
    let target = tensor(
        &mut b,
        Call::Full {
            shape: vec![3, 4],
            value: Scalar::Float(0.0),
            dtype: DType::F32,
        },
    );
    let loss = tensor(
        &mut b,
        Call::MseLoss {
            input,
            target,
            reduction: Reduction::Mean,
        },
    );
    let w = b.take_warnings();
    assert_eq!(w.len(), 1);
    assert!(w[0].starts_with("Using a target size (torch.Size([3, 4])) that is different to the input size (torch.Size([3, 1]))."));
    let g = b.graph(&loss);
    let names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        ["MseLossBackward0", "ExpandBackward0", "AccumulateGrad"]
    );
    assert_eq!(g.edges, [(0, 1), (1, 2)]);
    assert_eq!(g.nodes[2].leaf_shape, Some(vec![3, 1]));
    assert_eq!(b.observe(&loss).data.values, [1.0]);
}

#[test]
fn observe_reads_flags_grads_and_versions() {
    // x = torch.tensor([1., 2.], requires_grad=True); y = x * x; y.sum().backward()
    // y.grad_fn -> MulBackward0; x.grad -> [2., 4.]; x.grad._version -> 1 (the two products
    // are summed in place in the input buffer, then stolen by AccumulateGrad)
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0], true);
    let y = mul(&mut b, &x, &x);
    let s = sum(&mut b, &y);
    ok(&mut b, backward(&s));

    let oy = b.observe(&y);
    assert_eq!(oy.grad_fn.as_deref(), Some("MulBackward0"));
    assert!(oy.requires_grad && !oy.is_leaf && oy.grad.is_none());
    assert_eq!(oy.data.values, [1.0, 4.0]);

    let ox = b.observe(&x);
    assert!(ox.is_leaf && ox.requires_grad && ox.grad_fn.is_none());
    assert_eq!(
        ox.grad.as_ref().map(|g| g.values.clone()),
        Some(vec![2.0, 4.0])
    );
    assert_eq!(ox.version, 0);

    let Value::Tensor(g) = attr(&mut b, &x, TensorAttr::Grad) else {
        panic!("x.grad is a tensor")
    };
    assert!(matches!(
        attr(&mut b, &g, TensorAttr::Version),
        Value::Int(1)
    ));
    assert!(b.take_warnings().is_empty());
}

#[test]
fn in_place_results_are_the_same_object_and_bump_the_version() {
    // a = torch.ones(2); b = a.add_(1); b is a -> True; a._version -> 1
    let mut b = B::new();
    let a = leaf(&mut b, &[1.0, 1.0], false);
    let r = tensor(
        &mut b,
        Call::Inplace {
            op: InplaceOp::Add,
            x: a.clone(),
            other: Operand::Scalar(Scalar::Int(1)),
        },
    );
    assert!(b.same(&a, &r));
    let d = tensor(&mut b, Call::Detach { x: a.clone() });
    assert!(!b.same(&a, &d));
    assert_eq!(b.observe(&a).version, 1);
    assert_eq!(b.observe(&a).data.values, [2.0, 2.0]);
}

#[test]
fn graph_walks_next_functions_to_accumulate_grad() {
    // (x * 2).sum().grad_fn -> SumBackward0 -> MulBackward0 -> AccumulateGrad (x: [2])
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0], true);
    let y = tensor(
        &mut b,
        Call::Binary {
            op: BinaryOp::Mul,
            a: x.clone(),
            b: Operand::Scalar(Scalar::Int(2)),
        },
    );
    let s = sum(&mut b, &y);
    let g = b.graph(&s);
    let names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["SumBackward0", "MulBackward0", "AccumulateGrad"]);
    assert_eq!(g.edges, [(0, 1), (1, 2)]);
    assert_eq!(g.nodes[2].leaf_shape, Some(vec![2]));
    assert!(b.graph(&x).nodes.is_empty(), "a leaf has no graph");
}
