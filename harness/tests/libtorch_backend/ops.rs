//! The libtorch backend's ops against CPython torch: grad_fn names, warnings, error classes,
//! saved tensors and promotion.

use super::*;
use support::{err, ok, tensor};

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
