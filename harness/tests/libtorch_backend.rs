//! The libtorch backend through the `Backend` trait, against what CPython torch 2.13.0 does.
//!
//! Every expected value was printed by the Python torch 2.13.0 that shares this libtorch
//! (`~/.cache/autograd-conformance/torch-2.13.0-cuda/bin/python`, from
//! `AUTOGRAD_CONFORMANCE_TORCH=cuda scripts/setup.sh`); the snippet is in a comment.

use harness::backend::libtorch::{LibtorchBackend, TorchTensor};
use harness::backend::{
    Backend, BinaryOp, Call, DType, Index, InplaceOp, Operand, Reduction, Scalar, TensorAttr,
    TensorData, UnaryOp, Value,
};
use harness::error_kind::ErrorKind;

mod support;
use support::{err, ok, tensor};

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

#[test]
fn grad_fn_names_match_python() {
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    let m = tensor(
        &mut b,
        data(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], DType::F32),
    );
    let w = tensor(&mut b, Call::RequiresGrad_ { x: m, flag: true });
    let cond = tensor(&mut b, bin(BinaryOp::Gt, &x, 1.5));
    let slice = |start, stop| Index::Slice {
        start,
        stop,
        step: 1,
    };
    // x = torch.ones(3, requires_grad=True); type(f(x).grad_fn).__name__
    let cases: Vec<(Call<TorchTensor>, &str)> = vec![
        (bin(BinaryOp::Mul, &x, 2.0), "MulBackward0"),
        (bin(BinaryOp::Add, &x, 2.0), "AddBackward0"),
        (bin(BinaryOp::Sub, &x, 2.0), "SubBackward0"),
        (bin(BinaryOp::Div, &x, 2.0), "DivBackward0"),
        (bin(BinaryOp::Pow, &x, 2.0), "PowBackward0"),
        (
            Call::Binary {
                op: BinaryOp::Pow,
                a: x.clone(),
                b: Operand::Tensor(x.clone()),
            },
            "PowBackward1",
        ),
        (
            Call::PowScalarBase {
                base: Scalar::Int(2),
                exp: x.clone(),
            },
            "PowBackward2",
        ),
        (
            Call::Rsub {
                a: x.clone(),
                b: Scalar::Int(1),
            },
            "RsubBackward1",
        ),
        (
            Call::Index {
                x: x.clone(),
                items: vec![slice(None, None)],
            },
            "SliceBackward0",
        ),
        (
            Call::Index {
                x: x.clone(),
                items: vec![Index::Ellipsis],
            },
            "AliasBackward0",
        ),
        (
            Call::Index {
                x: x.clone(),
                items: vec![Index::Int(0)],
            },
            "SelectBackward0",
        ),
        (
            Call::Index {
                x: x.clone(),
                items: vec![Index::NewAxis],
            },
            "UnsqueezeBackward0",
        ),
        (
            Call::Index {
                x: x.clone(),
                items: vec![Index::NewAxis, slice(Some(0), Some(2))],
            },
            "SliceBackward0",
        ),
        (
            Call::Where {
                cond: cond.clone(),
                a: Operand::Tensor(x.clone()),
                b: Operand::Scalar(Scalar::Float(0.0)),
            },
            "WhereBackward0",
        ),
        (
            Call::Clamp {
                x: x.clone(),
                min: Some(Scalar::Int(0)),
                max: None,
            },
            "ClampBackward1",
        ),
        (Call::T { x: x.clone() }, "TBackward0"),
        (
            Call::View {
                x: x.clone(),
                shape: vec![3, 1],
            },
            "ViewBackward0",
        ),
        (
            Call::Reshape {
                x: x.clone(),
                shape: vec![3, 1],
            },
            "ViewBackward0",
        ),
        (
            Call::Expand {
                x: x.clone(),
                sizes: vec![2, 3],
            },
            "ExpandBackward0",
        ),
        (
            Call::ToDtype {
                x: x.clone(),
                dtype: DType::F64,
            },
            "ToCopyBackward0",
        ),
        (Call::MaxAll { x: x.clone() }, "MaxBackward1"),
        (
            Call::Mean {
                x: x.clone(),
                dims: None,
                keepdim: false,
            },
            "MeanBackward0",
        ),
        (sum(&x), "SumBackward0"),
        (
            Call::Sum {
                x: x.clone(),
                dims: Some(vec![0]),
                keepdim: false,
            },
            "SumBackward1",
        ),
        (
            Call::Sum {
                x: x.clone(),
                dims: None,
                keepdim: true,
            },
            "SumBackward1",
        ),
        (
            Call::Softmax {
                x: x.clone(),
                dim: 0,
            },
            "SoftmaxBackward0",
        ),
        (
            Call::Unary {
                op: UnaryOp::Relu,
                x: x.clone(),
            },
            "ReluBackward0",
        ),
        (
            Call::Unary {
                op: UnaryOp::Reciprocal,
                x: x.clone(),
            },
            "ReciprocalBackward0",
        ),
        (
            Call::Cat {
                xs: vec![x.clone(), x.clone()],
                dim: 0,
            },
            "CatBackward0",
        ),
        (
            Call::Stack {
                xs: vec![x.clone(), x.clone()],
                dim: 0,
            },
            "StackBackward0",
        ),
        (
            // F.linear(ones(3), w) with w of shape (2, 3)
            Call::Linear {
                x: x.clone(),
                weight: w.clone(),
                bias: None,
            },
            "SqueezeBackward4",
        ),
        (
            Call::MseLoss {
                input: x.clone(),
                target: x.clone(),
                reduction: Reduction::Mean,
            },
            "MseLossBackward0",
        ),
    ];
    for (call, expected) in cases {
        let desc = format!("{call:?}");
        let y = tensor(&mut b, call);
        assert_eq!(grad_fn(&mut b, &y).as_deref(), Some(expected), "{desc}");
    }

    // max(0) returns (values, indices): values have MaxBackward0.
    match ok(
        &mut b,
        Call::MaxDim {
            x: x.clone(),
            dim: 0,
            keepdim: false,
        },
    ) {
        Value::Tuple(v) => match &v[0] {
            Value::Tensor(t) => assert_eq!(grad_fn(&mut b, t).as_deref(), Some("MaxBackward0")),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }

    // A leaf has no grad_fn; x.contiguous() and x.float() are x itself.
    assert_eq!(grad_fn(&mut b, &x), None);
    let c = tensor(&mut b, Call::Contiguous { x: x.clone() });
    assert!(b.same(&c, &x));
    let f = tensor(
        &mut b,
        Call::ToDtype {
            x: x.clone(),
            dtype: DType::F32,
        },
    );
    assert!(b.same(&f, &x));
    let d = tensor(&mut b, Call::Detach { x: x.clone() });
    assert!(!b.same(&d, &x));
}

#[test]
fn inplace_grad_fn_names_match_python() {
    // a = ones(3, requires_grad=True) * 1; c = a.clone(); c.fill_(2) -> FillBackward2;
    // c.zero_() -> ZeroBackward0; c.copy_(a) -> CopyBackwards; b.clamp_(min=0) -> ClampBackward1
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    let a = tensor(&mut b, bin(BinaryOp::Mul, &x, 1.0));
    let c = tensor(&mut b, Call::Clone { x: a.clone() });
    assert_eq!(grad_fn(&mut b, &c).as_deref(), Some("CloneBackward0"));
    ok(
        &mut b,
        Call::Fill_ {
            x: c.clone(),
            value: Scalar::Int(2),
        },
    );
    assert_eq!(grad_fn(&mut b, &c).as_deref(), Some("FillBackward2"));
    ok(&mut b, Call::Zero_ { x: c.clone() });
    assert_eq!(grad_fn(&mut b, &c).as_deref(), Some("ZeroBackward0"));
    ok(
        &mut b,
        Call::Copy_ {
            x: c.clone(),
            src: a.clone(),
        },
    );
    assert_eq!(grad_fn(&mut b, &c).as_deref(), Some("CopyBackwards"));
    ok(
        &mut b,
        Call::Clamp_ {
            x: c.clone(),
            min: Some(Scalar::Int(0)),
            max: None,
        },
    );
    assert_eq!(grad_fn(&mut b, &c).as_deref(), Some("ClampBackward1"));
    assert_eq!(b.observe(&c).version, 4);
}

#[test]
fn non_leaf_grad_read_warns_and_observe_does_not() {
    // y = x * 2; y.grad  ->  None, with a UserWarning
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0]);
    let y = tensor(&mut b, bin(BinaryOp::Mul, &x, 2.0));
    assert!(b.take_warnings().is_empty());
    b.observe(&y);
    assert!(b.take_warnings().is_empty(), "observe must not warn");
    let g = ok(
        &mut b,
        Call::GetAttr {
            x: y.clone(),
            attr: TensorAttr::Grad,
        },
    );
    assert!(matches!(g, Value::None));
    let w = b.take_warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with(
            "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed."
        ),
        "{w:?}"
    );
    assert!(b.take_warnings().is_empty(), "taking drains");
    // A leaf's .grad does not warn; neither does a non-leaf that retains its grad.
    ok(
        &mut b,
        Call::GetAttr {
            x: x.clone(),
            attr: TensorAttr::Grad,
        },
    );
    ok(&mut b, Call::RetainGrad { x: y.clone() });
    ok(
        &mut b,
        Call::GetAttr {
            x: y.clone(),
            attr: TensorAttr::Grad,
        },
    );
    assert!(b.take_warnings().is_empty());
    assert!(b.observe(&y).retains_grad);
}

#[test]
fn mse_loss_size_mismatch_warns_like_python() {
    // F.mse_loss(ones(3, requires_grad=True), zeros(1))
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 1.0, 1.0]);
    let t = plain(&mut b, &[0.0]);
    let l = tensor(
        &mut b,
        Call::MseLoss {
            input: x,
            target: t,
            reduction: Reduction::Mean,
        },
    );
    assert_eq!(grad_fn(&mut b, &l).as_deref(), Some("MseLossBackward0"));
    assert_eq!(
        b.take_warnings(),
        vec!["Using a target size (torch.Size([1])) that is different to the input size (torch.Size([3])). This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.".to_owned()]
    );
}

#[test]
fn inplace_errors_are_classified() {
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    // x.add_(1)
    let f = err(
        &mut b,
        Call::Inplace {
            op: InplaceOp::Add,
            x: x.clone(),
            other: Operand::Scalar(Scalar::Int(1)),
        },
    );
    assert_eq!(f.kind, ErrorKind::LeafInplace);
    assert_eq!(
        f.message,
        "a leaf Variable that requires grad is being used in an in-place operation."
    );
    // x[0].add_(1)
    let v = tensor(
        &mut b,
        Call::Select {
            x: x.clone(),
            dim: 0,
            index: 0,
        },
    );
    let f = err(
        &mut b,
        Call::Inplace {
            op: InplaceOp::Add,
            x: v,
            other: Operand::Scalar(Scalar::Int(1)),
        },
    );
    assert_eq!(f.kind, ErrorKind::ViewOfLeafInplace);
    // x[0] = 1000.0
    let f = err(
        &mut b,
        Call::SetIndex {
            x: x.clone(),
            items: vec![Index::Int(0)],
            value: Operand::Scalar(Scalar::Float(1000.0)),
        },
    );
    assert_eq!(f.kind, ErrorKind::ViewOfLeafInplace);
    // x[:] = 0 fails at once: the full slice is x itself.
    let f = err(
        &mut b,
        Call::SetIndex {
            x: x.clone(),
            items: vec![Index::Slice {
                start: None,
                stop: None,
                step: 1,
            }],
            value: Operand::Scalar(Scalar::Int(0)),
        },
    );
    assert_eq!(f.kind, ErrorKind::LeafInplace);
    // y = x * 1; with no_grad(): w = y[:2]; w.mul_(2)
    let y = tensor(&mut b, bin(BinaryOp::Mul, &x, 1.0));
    assert_eq!(
        ok(&mut b, Call::SetGradEnabled { enabled: false }).clone_bool(),
        Some(true)
    );
    let w = tensor(
        &mut b,
        Call::Narrow {
            x: y.clone(),
            dim: 0,
            start: 0,
            length: 2,
        },
    );
    ok(&mut b, Call::SetGradEnabled { enabled: true });
    let f = err(
        &mut b,
        Call::Inplace {
            op: InplaceOp::Mul,
            x: w,
            other: Operand::Scalar(Scalar::Int(2)),
        },
    );
    assert_eq!(f.kind, ErrorKind::NoGradViewInplace);
    // y[:2].detach_()
    let v = tensor(
        &mut b,
        Call::Index {
            x: y.clone(),
            items: vec![Index::Slice {
                start: None,
                stop: Some(2),
                step: 1,
            }],
        },
    );
    assert_eq!(
        err(&mut b, Call::Detach_ { x: v }).kind,
        ErrorKind::DetachViewInplace
    );
    // Nothing above left x modified.
    assert_eq!(b.observe(&x).data.values, vec![1.0, 2.0, 3.0]);
    assert_eq!(b.observe(&x).version, 0);
}

trait BoolValue {
    fn clone_bool(&self) -> Option<bool>;
}
impl BoolValue for Value<TorchTensor> {
    fn clone_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(v) => Some(*v),
            _ => None,
        }
    }
}

#[test]
fn modified_by_inplace_is_classified() {
    // b = (x * 1).sigmoid(); b.mul_(2); b.sum().backward()
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    let a = tensor(&mut b, bin(BinaryOp::Mul, &x, 1.0));
    let s = tensor(
        &mut b,
        Call::Unary {
            op: UnaryOp::Sigmoid,
            x: a,
        },
    );
    ok(
        &mut b,
        Call::Inplace {
            op: InplaceOp::Mul,
            x: s.clone(),
            other: Operand::Scalar(Scalar::Int(2)),
        },
    );
    let total = tensor(&mut b, sum(&s));
    let f = err(&mut b, backward(&total, None));
    assert_eq!(f.kind, ErrorKind::ModifiedByInplace);
    assert!(
        f.message.contains(
            "[torch.FloatTensor [3]], which is output 0 of Sigmoid, is at version 1; expected version 0 instead."
        ),
        "{}",
        f.message
    );
    assert!(!f.message.contains("Exception raised from"));
}

#[test]
fn mul_by_python_number_saves_tensors_add_does_not() {
    // y = x * 2; s = y.sum(); s.backward(); s.backward()  -> RuntimeError (backward twice)
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    let y = tensor(&mut b, bin(BinaryOp::Mul, &x, 2.0));
    let s = tensor(&mut b, sum(&y));
    ok(&mut b, backward(&s, None));
    let f = err(&mut b, backward(&s, None));
    assert_eq!(f.kind, ErrorKind::BackwardTwice);
    assert!(
        f.message
            .starts_with("Trying to backward through the graph a second time")
    );
    assert_eq!(grad_values(&mut b, &x), Some(vec![2.0, 2.0, 2.0]));

    // y = x + 2; s = y.sum(); s.backward(); s.backward()  -> x.grad == [2, 2, 2]
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    let y = tensor(&mut b, bin(BinaryOp::Add, &x, 2.0));
    let s = tensor(&mut b, sum(&y));
    ok(&mut b, backward(&s, None));
    ok(&mut b, backward(&s, None));
    assert_eq!(grad_values(&mut b, &x), Some(vec![2.0, 2.0, 2.0]));

    // retain_graph=True makes the second x * 2 backward legal.
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    let y = tensor(&mut b, bin(BinaryOp::Mul, &x, 2.0));
    let s = tensor(&mut b, sum(&y));
    ok(&mut b, backward(&s, Some(true)));
    ok(&mut b, backward(&s, None));
    assert_eq!(grad_values(&mut b, &x), Some(vec![4.0, 4.0, 4.0]));
}

#[test]
fn wrapped_numbers_promote_like_python() {
    // (tensor([1, 2, 3]) * 2.5).dtype == float32; (tensor([1, 2]) + True).dtype == int64
    let mut b = B::new();
    let i = tensor(&mut b, data(&[3], &[1.0, 2.0, 3.0], DType::I64));
    let r = tensor(&mut b, bin(BinaryOp::Mul, &i, 2.5));
    let o = b.observe(&r);
    assert_eq!(o.data.dtype, DType::F32);
    assert_eq!(o.data.values, vec![2.5, 5.0, 7.5]);
    let r = tensor(
        &mut b,
        Call::Binary {
            op: BinaryOp::Add,
            a: i.clone(),
            b: Operand::Scalar(Scalar::Bool(true)),
        },
    );
    assert_eq!(b.observe(&r).data.dtype, DType::I64);
    // ones(3, dtype=int64).add_(1.5) -> can't cast
    let f = err(
        &mut b,
        Call::Inplace {
            op: InplaceOp::Add,
            x: i,
            other: Operand::Scalar(Scalar::Float(1.5)),
        },
    );
    assert_eq!(f.kind, ErrorKind::DtypeMismatch);
    assert_eq!(
        f.message,
        "result type Float can't be cast to the desired output type Long"
    );
}

#[test]
fn setitem_on_a_non_leaf_makes_copyslices() {
    // x = tensor([1., 2., 3.], requires_grad=True); b = x * 1; b[0] = 1000.0
    // b.grad_fn -> CopySlices, b._version -> 1; b.sum().backward(); x.grad -> [0., 1., 1.]
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    let y = tensor(&mut b, bin(BinaryOp::Mul, &x, 1.0));
    let r = ok(
        &mut b,
        Call::SetIndex {
            x: y.clone(),
            items: vec![Index::Int(0)],
            value: Operand::Scalar(Scalar::Float(1000.0)),
        },
    );
    assert!(matches!(r, Value::None));
    let o = b.observe(&y);
    assert_eq!(o.grad_fn.as_deref(), Some("CopySlices"));
    assert_eq!(o.version, 1);
    assert_eq!(o.data.values, vec![1000.0, 2.0, 3.0]);
    let s = tensor(&mut b, sum(&y));
    ok(&mut b, backward(&s, None));
    assert_eq!(grad_values(&mut b, &x), Some(vec![0.0, 1.0, 1.0]));
}

#[test]
fn cpp_errors_come_back_as_failures_without_backtraces() {
    let mut b = B::new();
    let a = tensor(&mut b, data(&[2, 3], &[0.0; 6], DType::F32));
    // ones(2, 3).mm(ones(2, 3))
    let f = err(
        &mut b,
        Call::Mm {
            a: a.clone(),
            b: a.clone(),
        },
    );
    assert_eq!(f.kind, ErrorKind::MatmulShape);
    assert_eq!(
        f.message,
        "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"
    );
    // ones(3)[5]
    let v = plain(&mut b, &[1.0, 2.0, 3.0]);
    let f = err(
        &mut b,
        Call::Index {
            x: v.clone(),
            items: vec![Index::Int(5)],
        },
    );
    assert_eq!(f.kind, ErrorKind::IndexOutOfRange);
    assert_eq!(
        f.message,
        "index 5 is out of bounds for dimension 0 with size 3"
    );
    // ones(3).sum(1)
    let f = err(
        &mut b,
        Call::Sum {
            x: v.clone(),
            dims: Some(vec![1]),
            keepdim: false,
        },
    );
    assert_eq!(f.kind, ErrorKind::DimOutOfRange);
    // ones(4).view(3, 3)
    let four = plain(&mut b, &[1.0; 4]);
    let f = err(
        &mut b,
        Call::View {
            x: four.clone(),
            shape: vec![3, 3],
        },
    );
    assert_eq!(f.kind, ErrorKind::InvalidShape);
    assert_eq!(f.message, "shape '[3, 3]' is invalid for input of size 4");
    // ones(4).item()
    let f = err(&mut b, Call::Item { x: four });
    assert_eq!(f.kind, ErrorKind::ItemNumel);
    // ones(3)[::0] and ones(3)[::-1]
    let f = err(
        &mut b,
        Call::Index {
            x: v.clone(),
            items: vec![Index::Slice {
                start: None,
                stop: None,
                step: 0,
            }],
        },
    );
    assert_eq!(f.message, "slice step cannot be zero");
    let f = err(
        &mut b,
        Call::Index {
            x: v.clone(),
            items: vec![Index::Slice {
                start: None,
                stop: None,
                step: -1,
            }],
        },
    );
    assert_eq!(f.message, "step must be greater than zero");
    // torch.maximum(x, 2)
    let f = err(
        &mut b,
        Call::Binary {
            op: BinaryOp::Maximum,
            a: v.clone(),
            b: Operand::Scalar(Scalar::Int(2)),
        },
    );
    assert_eq!(f.kind, ErrorKind::TypeError);
    // ones(3).clamp()
    let f = err(
        &mut b,
        Call::Clamp {
            x: v.clone(),
            min: None,
            max: None,
        },
    );
    assert_eq!(f.kind, ErrorKind::InvalidArgument);
    // The backend is still usable after all of that.
    let s = tensor(&mut b, sum(&v));
    assert!(matches!(ok(&mut b, Call::Item { x: s }), Value::Float(v) if v == 6.0));
}

#[test]
fn backward_checks_match_python() {
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    let y = tensor(&mut b, bin(BinaryOp::Mul, &x, 2.0));
    // (x * 2).backward()
    let f = err(&mut b, backward(&y, None));
    assert_eq!(f.kind, ErrorKind::ImplicitGradNonScalar);
    assert_eq!(
        f.message,
        "grad can be implicitly created only for scalar outputs"
    );
    // (x * 2).backward(ones(2))
    let g = plain(&mut b, &[1.0, 1.0]);
    let f = err(
        &mut b,
        Call::Backward {
            root: y.clone(),
            gradient: Some(g),
            retain_graph: None,
            create_graph: false,
        },
    );
    assert_eq!(f.kind, ErrorKind::GradShape);
    assert_eq!(
        f.message,
        "Mismatch in shape: grad_output[0] has a shape of torch.Size([2]) and output[0] has a shape of torch.Size([3])."
    );
    // ones(2).sum().backward()
    let p = plain(&mut b, &[1.0, 1.0]);
    let s = tensor(&mut b, sum(&p));
    let f = err(&mut b, backward(&s, None));
    assert_eq!(f.kind, ErrorKind::NoGradFn);
    assert_eq!(
        f.message,
        "element 0 of tensors does not require grad and does not have a grad_fn"
    );
    // (x * 2).backward(tensor([1., 10., 100.])) -> x.grad == [2, 20, 200]
    let g = plain(&mut b, &[1.0, 10.0, 100.0]);
    ok(
        &mut b,
        Call::Backward {
            root: y,
            gradient: Some(g),
            retain_graph: None,
            create_graph: false,
        },
    );
    assert_eq!(grad_values(&mut b, &x), Some(vec![2.0, 20.0, 200.0]));
}

#[test]
fn flag_setters_follow_python() {
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0]);
    let y = tensor(&mut b, bin(BinaryOp::Mul, &x, 2.0));
    // (x * 2).requires_grad = True
    let f = err(
        &mut b,
        Call::SetRequiresGrad {
            x: y.clone(),
            flag: true,
        },
    );
    assert_eq!(f.kind, ErrorKind::NonLeafRequiresGrad);
    assert_eq!(
        f.message,
        "you can only change requires_grad flags of leaf variables."
    );
    // (x * 2).requires_grad = False
    let f = err(
        &mut b,
        Call::SetRequiresGrad {
            x: y.clone(),
            flag: false,
        },
    );
    assert!(f.message.ends_with("use var_no_grad = var.detach()."));
    // (x * 2).requires_grad_(True) is fine; requires_grad_(False) is not.
    ok(
        &mut b,
        Call::RequiresGrad_ {
            x: y.clone(),
            flag: true,
        },
    );
    assert_eq!(
        err(
            &mut b,
            Call::RequiresGrad_ {
                x: y.clone(),
                flag: false
            }
        )
        .kind,
        ErrorKind::NonLeafRequiresGrad
    );
    // ones(2, dtype=int64).requires_grad_()
    let i = tensor(&mut b, data(&[2], &[1.0, 1.0], DType::I64));
    let f = err(
        &mut b,
        Call::RequiresGrad_ {
            x: i.clone(),
            flag: true,
        },
    );
    assert_eq!(
        f.message,
        "only Tensors of floating point dtype can require gradients"
    );
    let f = err(&mut b, Call::SetRequiresGrad { x: i, flag: true });
    assert_eq!(
        f.message,
        "only Tensors of floating point and complex dtype can require gradients"
    );
    assert_eq!(f.kind, ErrorKind::RequiresGradDtype);
    // ones(2).retain_grad()
    let p = plain(&mut b, &[1.0, 1.0]);
    assert_eq!(
        err(&mut b, Call::RetainGrad { x: p }).kind,
        ErrorKind::RetainGradNoGrad
    );
}

#[test]
fn grad_setter_checks_follow_python() {
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    // x.grad = ones(2)
    let g2 = plain(&mut b, &[1.0, 1.0]);
    let f = err(
        &mut b,
        Call::SetGrad {
            x: x.clone(),
            grad: Some(g2),
        },
    );
    assert_eq!(f.kind, ErrorKind::GradAssign);
    assert_eq!(
        f.message,
        "attempting to assign a gradient of size '[2]' to a tensor of size '[3]'. Please ensure that the gradient and the tensor are the same size"
    );
    // x.grad = ones(3, dtype=float64)
    let gd = tensor(&mut b, data(&[3], &[1.0; 3], DType::F64));
    let f = err(
        &mut b,
        Call::SetGrad {
            x: x.clone(),
            grad: Some(gd),
        },
    );
    assert!(
        f.message
            .starts_with("attempting to assign a gradient with dtype 'double' to a tensor with grad_dtype 'Float'."),
        "{}",
        f.message
    );
    // x.grad = g; x.grad is g; x.grad = None
    let g = plain(&mut b, &[5.0, 6.0, 7.0]);
    ok(
        &mut b,
        Call::SetGrad {
            x: x.clone(),
            grad: Some(g.clone()),
        },
    );
    match ok(
        &mut b,
        Call::GetAttr {
            x: x.clone(),
            attr: TensorAttr::Grad,
        },
    ) {
        Value::Tensor(t) => assert!(b.same(&t, &g)),
        other => panic!("{other:?}"),
    }
    ok(
        &mut b,
        Call::SetGrad {
            x: x.clone(),
            grad: None,
        },
    );
    assert_eq!(b.observe(&x).grad, None);
}

#[test]
fn data_and_detach_version_counters() {
    // d = x.detach(): shares x's version counter; x.data: a fresh one.
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0]);
    let d = tensor(&mut b, Call::Detach { x: x.clone() });
    ok(
        &mut b,
        Call::Inplace {
            op: InplaceOp::Add,
            x: d.clone(),
            other: Operand::Scalar(Scalar::Int(1)),
        },
    );
    assert_eq!(b.observe(&x).version, 1);
    assert_eq!(b.observe(&x).data.values, vec![2.0, 3.0]);
    let data = tensor(
        &mut b,
        Call::GetAttr {
            x: x.clone(),
            attr: TensorAttr::Data,
        },
    );
    ok(
        &mut b,
        Call::Inplace {
            op: InplaceOp::Add,
            x: data.clone(),
            other: Operand::Scalar(Scalar::Int(1)),
        },
    );
    let (ox, od) = (b.observe(&x), b.observe(&data));
    assert_eq!((ox.version, od.version), (1, 1));
    assert_eq!(ox.data.values, vec![3.0, 4.0]);
    assert!(!od.requires_grad && od.is_leaf && !od.is_view);
}

#[test]
fn item_and_tolist_types_follow_dtype() {
    let mut b = B::new();
    let i = tensor(&mut b, data(&[2], &[1.0, 2.0], DType::I64));
    let s = tensor(&mut b, sum(&i));
    // tensor([1, 2]).sum().item() -> 3 (int)
    assert!(matches!(ok(&mut b, Call::Item { x: s }), Value::Int(3)));
    let t = tensor(&mut b, data(&[1], &[1.0], DType::Bool));
    assert!(matches!(ok(&mut b, Call::Item { x: t }), Value::Bool(true)));
    // tensor([[1., 2.]]).tolist() -> [[1.0, 2.0]]; tensor(3).tolist() -> 3
    let m = tensor(&mut b, data(&[1, 2], &[1.0, 2.0], DType::F32));
    match ok(&mut b, Call::ToList { x: m }) {
        Value::List(rows) => match rows.as_slice() {
            [Value::List(r)] => {
                assert!(
                    matches!(r.as_slice(), [Value::Float(a), Value::Float(b)] if *a == 1.0 && *b == 2.0)
                )
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    let z = tensor(&mut b, data(&[], &[3.0], DType::I64));
    assert!(matches!(ok(&mut b, Call::ToList { x: z }), Value::Int(3)));
}

#[test]
fn sgd_follows_torch_optim() {
    // p = tensor([1., 2.], requires_grad=True)
    // opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    // twice: opt.zero_grad(); (p * p).sum().backward(); opt.step()
    // -> [0.7990000247955322, 1.5980000495910645], _version 1
    // -> [0.45750102400779724, 0.9150020480155945], _version 2; opt.zero_grad(); p.grad -> None
    let mut b = B::new();
    let p = leaf(&mut b, &[1.0, 2.0]);
    let opt = match ok(
        &mut b,
        Call::SgdNew {
            params: vec![p.clone()],
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.0,
            weight_decay: 0.01,
            nesterov: false,
        },
    ) {
        Value::Optimizer(h) => h,
        other => panic!("{other:?}"),
    };
    let expected = [
        [0.7990000247955322, 1.5980000495910645],
        [0.45750102400779724, 0.9150020480155945],
    ];
    for (k, want) in expected.iter().enumerate() {
        ok(&mut b, Call::SgdZeroGrad { optimizer: opt });
        let sq = tensor(
            &mut b,
            Call::Binary {
                op: BinaryOp::Mul,
                a: p.clone(),
                b: Operand::Tensor(p.clone()),
            },
        );
        let s = tensor(&mut b, sum(&sq));
        ok(&mut b, backward(&s, None));
        ok(&mut b, Call::SgdStep { optimizer: opt });
        let o = b.observe(&p);
        assert_eq!(o.data.values, want.to_vec());
        assert_eq!(o.version, k as u64 + 1);
    }
    ok(&mut b, Call::SgdZeroGrad { optimizer: opt });
    assert_eq!(b.observe(&p).grad, None);

    // SGD([p], lr=0.1, nesterov=True); SGD([p * 2], lr=0.1)
    let f = err(
        &mut b,
        Call::SgdNew {
            params: vec![p.clone()],
            lr: 0.1,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: true,
        },
    );
    assert_eq!(
        f.message,
        "Nesterov momentum requires a momentum and zero dampening"
    );
    let q = tensor(&mut b, bin(BinaryOp::Mul, &p, 2.0));
    let f = err(
        &mut b,
        Call::SgdNew {
            params: vec![q],
            lr: 0.1,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        },
    );
    assert_eq!(f.message, "can't optimize a non-leaf Tensor");
}

#[test]
fn graph_and_version_are_reported() {
    // y = x * 2: y.grad_fn.next_functions -> ((AccumulateGrad, 0), (None, 0))
    let mut b = B::new();
    assert_eq!(b.version(), "libtorch 2.13.0");
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    let y = tensor(&mut b, bin(BinaryOp::Mul, &x, 2.0));
    let g = b.graph(&y);
    let names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, vec!["MulBackward0", "AccumulateGrad"]);
    assert_eq!(g.edges, vec![(0, 1)]);
    assert_eq!(g.nodes[1].leaf_shape, Some(vec![3]));
    assert!(b.graph(&x).nodes.is_empty());
    let o = b.observe(&y);
    assert!(!o.is_leaf && o.requires_grad && !o.is_view);
    assert_eq!(o.data.values, vec![2.0, 4.0, 6.0]);
}

#[test]
fn warn_once_messages_are_once_per_backend() {
    // (x * x).sum().backward(create_graph=True), twice: Python warns once per process
    // ("Using backward() with create_graph=True will create a reference cycle ..."); each
    // backend instance stands for one process.
    for _ in 0..2 {
        let mut b = B::new();
        let x = leaf(&mut b, &[1.0, 2.0]);
        let mut seen = Vec::new();
        for _ in 0..2 {
            let sq = tensor(
                &mut b,
                Call::Binary {
                    op: BinaryOp::Mul,
                    a: x.clone(),
                    b: Operand::Tensor(x.clone()),
                },
            );
            let s = tensor(&mut b, sum(&sq));
            ok(
                &mut b,
                Call::Backward {
                    root: s,
                    gradient: None,
                    retain_graph: None,
                    create_graph: true,
                },
            );
            seen.extend(b.take_warnings());
        }
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(seen[0].starts_with("Using backward() with create_graph=True"));
        // x.grad is 2x + 2x, built with a graph: AddBackward0.
        let o = b.observe(&x);
        assert_eq!(o.grad.map(|g| g.values), Some(vec![4.0, 8.0]));
    }
}

#[test]
fn failing_ops_with_number_arguments_do_not_panic() {
    // tch frees its Scalar wrapper with a panicking error check, so every op taking a Python
    // number goes through the shim; each of these errors must come back as a Failure.
    let mut b = B::new();
    let x = leaf(&mut b, &[1.0, 2.0, 3.0]);
    // x.fill_(5.0) on a leaf
    let f = err(
        &mut b,
        Call::Fill_ {
            x: x.clone(),
            value: Scalar::Float(5.0),
        },
    );
    assert_eq!(f.kind, ErrorKind::LeafInplace);
    // torch.ones(3, dtype=torch.int64) ** -1
    let i = tensor(&mut b, data(&[3], &[1.0; 3], DType::I64));
    let f = err(
        &mut b,
        Call::Binary {
            op: BinaryOp::Pow,
            a: i.clone(),
            b: Operand::Scalar(Scalar::Int(-1)),
        },
    );
    assert_eq!(
        f.message,
        "Integers to negative integer powers are not allowed."
    );
    // torch.arange(0, 1, 0)
    let f = err(
        &mut b,
        Call::Arange {
            start: 0.0,
            end: 1.0,
            step: 0.0,
            dtype: DType::I64,
        },
    );
    assert_eq!(f.message, "step must be nonzero");
    // torch.where(ones(3), ones(3), 0.0)
    let c = plain(&mut b, &[1.0; 3]);
    let f = err(
        &mut b,
        Call::Where {
            cond: c.clone(),
            a: Operand::Tensor(c.clone()),
            b: Operand::Scalar(Scalar::Float(0.0)),
        },
    );
    assert_eq!(f.kind, ErrorKind::DtypeMismatch);
    // torch.where(cond, 1.0, 0.0).dtype == torch.float32
    let cond = tensor(&mut b, data(&[2], &[1.0, 0.0], DType::Bool));
    let w = tensor(
        &mut b,
        Call::Where {
            cond,
            a: Operand::Scalar(Scalar::Float(1.0)),
            b: Operand::Scalar(Scalar::Float(0.0)),
        },
    );
    let o = b.observe(&w);
    assert_eq!((o.data.dtype, o.data.values), (DType::F32, vec![1.0, 0.0]));
    // torch.arange(5) and torch.arange(0, 5, 1.5) values
    let a = tensor(
        &mut b,
        Call::Arange {
            start: 0.0,
            end: 5.0,
            step: 1.5,
            dtype: DType::F32,
        },
    );
    assert_eq!(b.observe(&a).data.values, vec![0.0, 1.5, 3.0, 4.5]);
    // The backend is still usable, and x is untouched.
    assert_eq!(b.observe(&x).data.values, vec![1.0, 2.0, 3.0]);
}

#[test]
fn factories_start_at_version_zero() {
    // torch.ones(3)._version, torch.full((2,), True)._version, torch.arange(3)._version,
    // torch.linspace(0, 1, 3)._version, torch.eye(2)._version, torch.tensor([1., 2.])._version
    // -> all 0 (Python's factories run below the version-bumping in-place kernel)
    let mut b = B::new();
    let calls: Vec<Call<TorchTensor>> = vec![
        Call::Full {
            shape: vec![3],
            value: Scalar::Float(1.0),
            dtype: DType::F32,
        },
        Call::Full {
            shape: vec![2],
            value: Scalar::Bool(true),
            dtype: DType::Bool,
        },
        Call::Arange {
            start: 0.0,
            end: 3.0,
            step: 1.0,
            dtype: DType::I64,
        },
        Call::Linspace {
            start: 0.0,
            end: 1.0,
            steps: 3,
            dtype: DType::F32,
        },
        Call::Eye {
            n: 2,
            m: 2,
            dtype: DType::F32,
        },
        data(&[2], &[1.0, 2.0], DType::F32),
    ];
    for call in calls {
        let desc = format!("{call:?}");
        let t = tensor(&mut b, call);
        let o = b.observe(&t);
        assert_eq!(o.version, 0, "{desc}");
        assert!(o.is_leaf && !o.is_view && !o.requires_grad, "{desc}");
    }
}
