//! Issue 3, item 4: `grad_fn` names are libtorch 2.13's, as printed by
//! `type(t.grad_fn).__name__` in Python torch 2.13.0.

use engine::ops::elementwise::Operand;
use engine::{DType, IndexItem, Scalar, Tensor};

fn x() -> Tensor {
    Tensor::ones(&[2, 3], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap()
}

fn name(t: engine::Result<Tensor>) -> &'static str {
    t.unwrap().grad_fn_name().unwrap().unwrap_or("None")
}

#[test]
fn arithmetic_names() {
    let x = x();
    assert_eq!(name(x.mul(2.0)), "MulBackward0");
    assert_eq!(name(x.add(2.0)), "AddBackward0");
    assert_eq!(name(x.rsub(1.0)), "RsubBackward1");
    assert_eq!(name(x.sub(1.0)), "SubBackward0");
    assert_eq!(name(x.div(2.0)), "DivBackward0");
    assert_eq!(name(x.pow(2.0)), "PowBackward0");
    assert_eq!(name(x.pow(&x)), "PowBackward1");
    assert_eq!(name(x.pow_scalar_base(2.0)), "PowBackward2");
    assert_eq!(name(x.neg()), "NegBackward0");
    assert_eq!(
        name(x.clamp(Some(Scalar::Int(0)), Some(Scalar::Int(1)))),
        "ClampBackward1"
    );
    assert_eq!(name(x.clamp(Some(Scalar::Int(0)), None)), "ClampBackward1");
    assert_eq!(name(x.relu()), "ReluBackward0");
    assert_eq!(name(x.maximum(&x.mul(2.0).unwrap())), "MaximumBackward0");
    assert_eq!(name(x.minimum(&x.mul(2.0).unwrap())), "MinimumBackward0");
    assert_eq!(name(x.exp()), "ExpBackward0");
    assert_eq!(name(x.log()), "LogBackward0");
    assert_eq!(name(x.sqrt()), "SqrtBackward0");
    assert_eq!(name(x.abs()), "AbsBackward0");
    assert_eq!(name(x.sin()), "SinBackward0");
    assert_eq!(name(x.cos()), "CosBackward0");
    assert_eq!(name(x.tanh()), "TanhBackward0");
    assert_eq!(name(x.sigmoid()), "SigmoidBackward0");
    assert_eq!(name(x.reciprocal()), "ReciprocalBackward0");
}

#[test]
fn reduction_names() {
    let x = x();
    assert_eq!(name(x.sum(None, false)), "SumBackward0");
    assert_eq!(name(x.sum(Some(&[0]), false)), "SumBackward1");
    assert_eq!(name(x.mean(None, false)), "MeanBackward0");
    assert_eq!(name(x.mean(Some(&[0]), false)), "MeanBackward1");
    assert_eq!(name(x.max_all()), "MaxBackward1");
    assert_eq!(name(x.min_all()), "MinBackward1");
    assert_eq!(name(x.max_dim(0, false).map(|p| p.0)), "MaxBackward0");
    assert_eq!(name(x.min_dim(0, false).map(|p| p.0)), "MinBackward0");
    assert_eq!(name(x.softmax(0)), "SoftmaxBackward0");
    assert_eq!(name(x.log_softmax(0)), "LogSoftmaxBackward0");
}

#[test]
fn view_and_copy_names() {
    let x = x();
    assert_eq!(name(x.view(&[6])), "ViewBackward0");
    assert_eq!(name(x.reshape(&[6])), "ViewBackward0");
    assert_eq!(name(x.t().unwrap().reshape(&[6])), "UnsafeViewBackward0");
    assert_eq!(
        name(x.view(&[1, 6]).unwrap().squeeze(None)),
        "SqueezeBackward0"
    );
    assert_eq!(
        name(x.view(&[1, 6]).unwrap().squeeze(Some(0))),
        "SqueezeBackward1"
    );
    assert_eq!(name(x.unsqueeze(0)), "UnsqueezeBackward0");
    assert_eq!(name(x.flatten(0, -1)), "ViewBackward0");
    assert_eq!(name(x.t()), "TBackward0");
    assert_eq!(name(x.transpose(0, 1)), "TransposeBackward0");
    assert_eq!(name(x.permute(&[1, 0])), "PermuteBackward0");
    assert_eq!(
        name(x.narrow(0, 0, 1).unwrap().expand(&[4, 3])),
        "ExpandBackward0"
    );
    assert_eq!(name(x.narrow(1, 0, 2)), "SliceBackward0");
    assert_eq!(name(x.select(0, 1)), "SelectBackward0");
    assert_eq!(name(x.t().unwrap().contiguous()), "CloneBackward0");
    assert_eq!(name(x.clone_tensor()), "CloneBackward0");
    assert_eq!(
        name(Tensor::cat(&[x.clone(), x.clone()], 0)),
        "CatBackward0"
    );
    assert_eq!(
        name(Tensor::stack(&[x.clone(), x.clone()], 0)),
        "StackBackward0"
    );
    let c = x.gt(0.0).unwrap();
    assert_eq!(
        name(c.where_(&Operand::from(&x), &Operand::from(&x.mul(2.0).unwrap()))),
        "WhereBackward0"
    );
    assert_eq!(
        name(c.where_(&Operand::from(&x), &Operand::from(0.0))),
        "WhereBackward0"
    );
    assert_eq!(name(x.to_dtype(DType::F64)), "ToCopyBackward0");
    // `x.float()` on a float tensor is the tensor itself: a leaf.
    assert_eq!(name(x.to_dtype(DType::F32)), "None");
    assert_eq!(name(Ok(x.detach())), "None");
}

#[test]
fn indexing_names() {
    let x = x();
    let sl = |s: Option<i64>, e: Option<i64>, st: i64| IndexItem::Slice {
        start: s,
        stop: e,
        step: st,
    };
    assert_eq!(name(x.index(&[IndexItem::Int(0)])), "SelectBackward0");
    assert_eq!(name(x.index(&[sl(Some(0), Some(1), 1)])), "SliceBackward0");
    assert_eq!(
        name(x.index(&[sl(None, None, 1), IndexItem::Int(0)])),
        "SelectBackward0"
    );
    assert_eq!(name(x.index(&[sl(None, None, 1)])), "SliceBackward0");
    assert_eq!(name(x.index(&[IndexItem::Ellipsis])), "AliasBackward0");
    assert_eq!(name(x.index(&[IndexItem::NewAxis])), "UnsqueezeBackward0");
    assert_eq!(
        name(x.index(&[sl(None, None, 1), IndexItem::NewAxis])),
        "UnsqueezeBackward0"
    );
    assert_eq!(
        name(x.index(&[IndexItem::Int(0), IndexItem::Int(1)])),
        "SelectBackward0"
    );
    assert_eq!(name(x.index(&[sl(None, None, 2)])), "SliceBackward0");
}

#[test]
fn inplace_names() {
    let x = x();
    let b = || x.mul(2.0).unwrap();
    let t = b();
    t.add_(1.0).unwrap();
    assert_eq!(t.grad_fn_name().unwrap(), Some("AddBackward0"));
    let t = b();
    t.zero_().unwrap();
    assert_eq!(t.grad_fn_name().unwrap(), Some("ZeroBackward0"));
    let t = b();
    t.fill_(1.0).unwrap();
    assert_eq!(t.grad_fn_name().unwrap(), Some("FillBackward2"));
    let t = b();
    t.copy_(&x).unwrap();
    assert_eq!(t.grad_fn_name().unwrap(), Some("CopyBackwards"));
    let t = b();
    t.clamp_(Some(Scalar::Int(0)), Some(Scalar::Int(1)))
        .unwrap();
    assert_eq!(t.grad_fn_name().unwrap(), Some("ClampBackward1"));
    for (f, n) in [
        (
            Tensor::sub_ as fn(&Tensor, Operand) -> engine::Result<&Tensor>,
            "SubBackward0",
        ),
        (Tensor::div_, "DivBackward0"),
        (Tensor::mul_, "MulBackward0"),
    ] {
        let t = b();
        f(&t, Operand::from(2.0)).unwrap();
        assert_eq!(t.grad_fn_name().unwrap(), Some(n));
    }
    // seed 000: `b[0] = 1000.0` makes the base's grad_fn CopySlices.
    let t = b();
    t.index_set(&[IndexItem::Int(0)], 1000.0).unwrap();
    assert_eq!(t.grad_fn_name().unwrap(), Some("CopySlices"));
    let next: Vec<_> = t
        .grad_fn()
        .unwrap()
        .unwrap()
        .next_functions()
        .iter()
        .map(|e| e.as_ref().map(|e| e.node.name()))
        .collect();
    assert_eq!(next, vec![Some("MulBackward0"), None]);
    // `b[:] = 0` writes into b itself: FillBackward3, no CopySlices.
    let t = b();
    t.index_set(
        &[IndexItem::Slice {
            start: None,
            stop: None,
            step: 1,
        }],
        0.0,
    )
    .unwrap();
    assert_eq!(t.grad_fn_name().unwrap(), Some("FillBackward3"));
    // The written view's own grad_fn is regenerated as AsStridedBackward0.
    let t = b();
    let v = t.narrow(0, 0, 1).unwrap();
    v.mul_(2.0).unwrap();
    assert_eq!(v.grad_fn_name().unwrap(), Some("AsStridedBackward0"));
    assert_eq!(t.grad_fn_name().unwrap(), Some("CopySlices"));
}

#[test]
fn leaf_edges_are_accumulate_grad() {
    let x = x();
    let y = x.mul(2.0).unwrap();
    let n = y.grad_fn().unwrap().unwrap();
    let names: Vec<_> = n
        .next_functions()
        .iter()
        .map(|e| e.as_ref().map(|e| e.node.name()))
        .collect();
    assert_eq!(names, vec![Some("AccumulateGrad"), None]);
}

#[test]
fn reshape_of_a_viewable_non_contiguous_tensor_is_an_alias() {
    // torch: randn(4,3)[:, :2].reshape(4,2,1) -> ReshapeAliasBackward0; .view -> ViewBackward0
    let x = Tensor::ones(&[4, 3], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let y = x.narrow(1, 0, 2).unwrap();
    let r = y.reshape(&[4, 2, 1]).unwrap();
    assert_eq!(r.grad_fn_name().unwrap(), Some("ReshapeAliasBackward0"));
    assert!(r.is_view() && r.shares_storage(&x));
    assert_eq!(name(y.view(&[4, 2, 1])), "ViewBackward0");
    let e = x.narrow(0, 0, 1).unwrap().expand(&[2, 3]).unwrap();
    assert_eq!(name(e.reshape(&[2, 3, 1])), "ReshapeAliasBackward0");
}

#[test]
fn reshape_and_flatten_of_an_empty_tensor_are_plain_views() {
    // torch: randn(3, 0, 1).flatten() and zeros(1, 3, 0).reshape(0) -> ViewBackward0, because
    // libtorch calls every empty tensor contiguous whatever its strides.
    let a = Tensor::zeros(&[3, 0, 1], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    assert!(a.is_contiguous());
    let f = a.flatten(0, -1).unwrap();
    assert_eq!(f.grad_fn_name().unwrap(), Some("ViewBackward0"));
    assert!(f.is_view());
    let b = Tensor::zeros(&[1, 3, 0], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    assert_eq!(name(b.reshape(&[0])), "ViewBackward0");
}

#[test]
fn setitem_of_a_zero_dim_tensor_into_a_full_slice_is_a_fill() {
    // torch: t0 = tensor([-0.25], float64, requires_grad=True); v = t0.sum()
    //   t4 = zeros_like(t0); t4[0:] = v -> FillBackward3 (Python's copy_to fills with a 0-dim
    //   value); t4[0:] = t0 -> CopyBackwards; zeros(())[...] = v -> CopyBackwards;
    //   zeros(3)[1:] = v -> CopySlices, and backward of its sum gives t0.grad = 2.
    let t0 = Tensor::from_vec(vec![-0.25f64], &[1])
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let v = t0.sum(None, false).unwrap();
    let full = IndexItem::Slice {
        start: Some(0),
        stop: None,
        step: 1,
    };
    let t4 = Tensor::zeros(&[1], DType::F64).unwrap();
    t4.index_set(&[full], &v).unwrap();
    assert_eq!(t4.grad_fn_name().unwrap(), Some("FillBackward3"));
    let t4 = Tensor::zeros(&[1], DType::F64).unwrap();
    t4.index_set(&[full], &t0).unwrap();
    assert_eq!(t4.grad_fn_name().unwrap(), Some("CopyBackwards"));
    let s = Tensor::zeros(&[], DType::F64).unwrap();
    s.index_set(&[IndexItem::Ellipsis], &v).unwrap();
    assert_eq!(s.grad_fn_name().unwrap(), Some("CopyBackwards"));
    let t = Tensor::zeros(&[3], DType::F64).unwrap();
    let tail = IndexItem::Slice {
        start: Some(1),
        stop: None,
        step: 1,
    };
    t.index_set(&[tail], &v).unwrap();
    assert_eq!(t.grad_fn_name().unwrap(), Some("CopySlices"));
    t.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(t0.grad_quiet().unwrap().to_vec_f64(), vec![2.0]);
}
