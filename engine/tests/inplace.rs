//! Issue 3, item 12: in-place ops. Expected values are Python torch 2.13.0's.

use engine::{DType, Error, IndexItem, Scalar, Tensor, no_grad};

fn leaf(v: &[f32]) -> Tensor {
    Tensor::from_vec(v.to_vec(), &[v.len()])
        .unwrap()
        .with_requires_grad(true)
        .unwrap()
}
fn grad(t: &Tensor) -> Vec<f64> {
    t.grad_quiet().expect("grad").to_vec_f64()
}
fn sl(s: Option<i64>, e: Option<i64>) -> IndexItem {
    IndexItem::Slice {
        start: s,
        stop: e,
        step: 1,
    }
}

#[test]
fn every_inplace_op_bumps_the_version() {
    let t = Tensor::ones(&[3], DType::F32).unwrap();
    t.add_(1.0).unwrap();
    t.sub_(1.0).unwrap();
    t.mul_(2.0).unwrap();
    t.div_(2.0).unwrap();
    t.zero_().unwrap();
    t.fill_(2.0).unwrap();
    t.copy_(&Tensor::ones(&[3], DType::F32).unwrap()).unwrap();
    t.clamp_(Some(Scalar::Int(0)), Some(Scalar::Int(1)))
        .unwrap();
    assert_eq!(t.version(), 8);
    t.index_set(&[IndexItem::Int(0)], 5.0).unwrap();
    assert_eq!(t.version(), 9);
    assert_eq!(t.to_vec_f64(), vec![5.0, 1.0, 1.0]);
    // Views share the counter.
    let v = t.narrow(0, 0, 2).unwrap();
    v.add_(1.0).unwrap();
    assert_eq!((t.version(), v.version()), (10, 10));
    assert_eq!(t.to_vec_f64(), vec![6.0, 2.0, 1.0]);
}

#[test]
fn leaf_requiring_grad_cannot_be_modified() {
    let x = leaf(&[1.0, 2.0]);
    let e = x.add_(1.0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a leaf Variable that requires grad is being used in an in-place operation."
    );
    assert_eq!(x.version(), 0);
    let e = x.narrow(0, 0, 1).unwrap().add_(1.0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a view of a leaf Variable that requires grad is being used in an in-place operation."
    );
    assert_eq!(
        x.index_set(&[IndexItem::Int(0)], 5.0),
        Err(Error::ViewOfLeafInplace)
    );
    // `a[:] = 0` on a leaf fails at once (document drift: older torch allowed it).
    assert_eq!(x.index_set(&[sl(None, None)], 0.0), Err(Error::LeafInplace));
    // Under no_grad the write is allowed and untracked.
    {
        let _g = no_grad();
        x.add_(1.0).unwrap();
    }
    assert_eq!((x.version(), x.is_leaf()), (1, true));
    assert_eq!(x.to_vec_f64(), vec![2.0, 3.0]);
}

#[test]
fn no_grad_view_modified_with_grad_on_fails() {
    let x = leaf(&[1.0, 2.0]);
    let a = x.mul(2.0).unwrap();
    let v = {
        let _g = no_grad();
        a.narrow(0, 0, 1).unwrap()
    };
    assert!(v.requires_grad() && v.is_leaf());
    assert_eq!(
        v.mul_(2.0).unwrap_err(),
        Error::NoGradViewInplace { view_of: None }
    );
    let nv = {
        let _g = no_grad();
        x.narrow(0, 0, 1).unwrap()
    };
    assert!(nv.mul_(2.0).unwrap_err().to_string().starts_with(
        "A view was created in no_grad mode and is being modified inplace with grad mode enabled."
    ));
}

#[test]
fn copy_slices_gradient_seed_000() {
    // b = x*2; b[0] = 1000.0; b.sum().backward() -> x.grad = [0, 2, 2]
    let x = leaf(&[1.0, 2.0, 3.0]);
    let b = x.mul(2.0).unwrap();
    b.index_set(&[IndexItem::Int(0)], 1000.0).unwrap();
    assert_eq!(b.to_vec_f64(), vec![1000.0, 4.0, 6.0]);
    assert_eq!(b.version(), 1);
    b.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(grad(&x), vec![0.0, 2.0, 2.0]);
}

#[test]
fn view_write_with_tensor_operand() {
    // b = x*2; v = b[1:]; v.mul_(x[1:]); b.sum().backward() -> [2, 8, 12]
    let x = leaf(&[1.0, 2.0, 3.0]);
    let b = x.mul(2.0).unwrap();
    let v = b.index(&[sl(Some(1), None)]).unwrap();
    v.mul_(x.index(&[sl(Some(1), None)]).unwrap()).unwrap();
    b.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(grad(&x), vec![2.0, 8.0, 12.0]);
}

#[test]
fn regenerated_view_grad_fn_carries_gradient() {
    // b = x*2; v = b[1:]; v.mul_(3); (v*v).sum().backward() -> [0, 144, 216]
    let x = leaf(&[1.0, 2.0, 3.0]);
    let b = x.mul(2.0).unwrap();
    let v = b.index(&[sl(Some(1), None)]).unwrap();
    v.mul_(3.0).unwrap();
    v.mul(&v)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(grad(&x), vec![0.0, 144.0, 216.0]);
}

#[test]
fn writing_into_a_leaf_that_does_not_require_grad() {
    // l = zeros(3); l[1:] = w[1:]*2; (l*l).sum().backward() -> w.grad = [0, 16, 24]
    let l = Tensor::zeros(&[3], DType::F32).unwrap();
    let w = leaf(&[1.0, 2.0, 3.0]);
    l.index_set(
        &[sl(Some(1), None)],
        w.index(&[sl(Some(1), None)]).unwrap().mul(2.0).unwrap(),
    )
    .unwrap();
    assert_eq!(l.grad_fn_name().unwrap(), Some("CopySlices"));
    assert!(l.requires_grad() && !l.is_leaf());
    l.mul(&l)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(grad(&w), vec![0.0, 16.0, 24.0]);
    // A plain leaf becomes a non-leaf when an in-place op mixes in a tensor requiring grad.
    let p = Tensor::ones(&[3], DType::F32).unwrap();
    p.mul_(&w).unwrap();
    assert_eq!(p.grad_fn_name().unwrap(), Some("MulBackward0"));
}

#[test]
fn inplace_rules_use_values_before_the_write() {
    // b = x*1; b.mul_(x) -> d(x*x)/dx = 2x; then add_: chain a = x*2; a.add_(1); a.mul_(x) -> [5, 9]
    let x = leaf(&[1.0, 2.0]);
    let a = x.mul(2.0).unwrap();
    a.add_(1.0).unwrap();
    a.mul_(&x).unwrap();
    a.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(grad(&x), vec![5.0, 9.0]);
    let x = leaf(&[1.0, 2.0, 3.0]);
    let b = x.mul(1.0).unwrap();
    b.clamp_(Some(Scalar::Float(1.5)), Some(Scalar::Float(2.5)))
        .unwrap();
    b.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(grad(&x), vec![0.0, 1.0, 0.0]);
    let x = leaf(&[1.0, 2.0, 3.0]);
    let b = x.mul(1.0).unwrap();
    b.div_(&x).unwrap();
    b.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(grad(&x), vec![0.0, 0.0, 0.0]);
}

#[test]
fn modified_saved_tensor_error_has_libtorch_fields() {
    let x = leaf(&[1.0, 2.0]);
    let a = x.mul(2.0).unwrap();
    let b = a.mul(&a).unwrap();
    a.mul_(1.0).unwrap();
    let e = b.sum(None, false).unwrap().backward().unwrap_err();
    assert_eq!(
        e.to_string(),
        "one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [2]], which is output 0 of Mul, is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False)."
    );
    // A saved output (exp saves its result).
    let b = x.exp().unwrap();
    b.mul_(2.0).unwrap();
    let e = b.sum(None, false).unwrap().backward().unwrap_err();
    assert!(e.to_string().contains("[torch.FloatTensor [2]], which is output 0 of Exp, is at version 1; expected version 0 instead."));
    // A saved leaf modified under no_grad: no "which is output" part.
    let xl = leaf(&[1.0, 2.0]);
    let b = xl.sin().unwrap();
    {
        let _g = no_grad();
        xl.add_(1.0).unwrap();
    }
    let e = b.sum(None, false).unwrap().backward().unwrap_err();
    assert!(e.to_string().contains("modified by an inplace operation: [torch.FloatTensor [2]] is at version 1; expected version 0 instead."));
    // Through CopySlices.
    let a = x.mul(2.0).unwrap();
    let d = a.mul(&a).unwrap();
    a.narrow(0, 0, 1).unwrap().mul_(2.0).unwrap();
    let e = d.sum(None, false).unwrap().backward().unwrap_err();
    assert!(
        e.to_string()
            .contains("which is output 0 of torch::autograd::CopySlices, is at version 1")
    );
}

#[test]
fn no_error_when_the_formula_does_not_need_the_modified_value() {
    // sigmoid saves its output, not its input: modifying the input is fine.
    let x = leaf(&[1.0, 2.0]);
    let a = x.mul(2.0).unwrap();
    let b = a.sigmoid().unwrap();
    a.add_(1.0).unwrap();
    b.sum(None, false).unwrap().backward().unwrap();
    // exp saves its result; modifying the leaf input under no_grad is fine too.
    let xl = leaf(&[1.0, 2.0]);
    let b = xl.exp().unwrap();
    {
        let _g = no_grad();
        xl.add_(1.0).unwrap();
    }
    b.sum(None, false).unwrap().backward().unwrap();
}

#[test]
fn inplace_shape_and_dtype_errors() {
    let t = Tensor::ones(&[2], DType::F32).unwrap();
    let e = t
        .add_(Tensor::ones(&[2, 2], DType::F32).unwrap())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "output with shape [2] doesn't match the broadcast shape [2, 2]"
    );
    let i = Tensor::ones(&[2], DType::I64).unwrap();
    let e = i.add_(1.5).unwrap_err();
    assert_eq!(
        e.to_string(),
        "result type Float can't be cast to the desired output type Long"
    );
    let e = t
        .copy_(&Tensor::ones(&[3], DType::F32).unwrap())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"
    );
    let ex = Tensor::ones(&[2, 1], DType::F32)
        .unwrap()
        .expand(&[2, 3])
        .unwrap();
    assert_eq!(ex.add_(1.0).unwrap_err(), Error::InplaceOverlap);
    // torch 2.13.0: `fill_(number)` and `zero_()` skip the check; `fill_(tensor)` is a copy_.
    ex.fill_(2.0).unwrap();
    ex.zero_().unwrap();
    let v = Tensor::scalar(Scalar::Float(3.0), DType::F32);
    assert_eq!(ex.fill_tensor_(&v).unwrap_err(), Error::InplaceOverlap);
}

#[test]
fn data_inplace_is_untracked_seed_001() {
    // y = sigmoid(x); x.data *= 100; y.sum().backward(): silently uses the new x? No: sigmoid
    // saved its output, so the gradient is y*(1-y) of the original values.
    let x = leaf(&[1.0, 2.0]);
    let y = x.sigmoid().unwrap();
    x.data().mul_(100.0).unwrap();
    assert_eq!(x.version(), 0);
    assert_eq!(x.to_vec_f64(), vec![100.0, 200.0]);
    y.sum(None, false).unwrap().backward().unwrap();
    let g = grad(&x);
    assert!((g[0] - 0.1966).abs() < 1e-4 && (g[1] - 0.1050).abs() < 1e-4);
}

#[test]
fn no_grad_view_of_modified_base_fails_on_grad_fn_read() {
    // Python: a = x*2; with no_grad: v = a[0:1]; with no_grad: a.add_(1); v.grad_fn -> error
    let x = leaf(&[1.0, 2.0]);
    let a = x.mul(2.0).unwrap();
    let v = {
        let _g = no_grad();
        let v = a.narrow(0, 0, 1).unwrap();
        a.add_(1.0).unwrap();
        v
    };
    assert_eq!(a.grad_fn_name().unwrap(), Some("MulBackward0"));
    let e = v.grad_fn().unwrap_err();
    assert!(e.to_string().starts_with(
        "A view was created in no_grad mode and its base or another view of its base has been modified inplace with grad mode enabled."
    ));
}

#[test]
fn set_data_swaps_storage_and_keeps_autograd_identity() {
    let x = leaf(&[1.0, 2.0]);
    let y = Tensor::from_vec(vec![5.0f32, 6.0, 7.0], &[3]).unwrap();
    x.set_data(&y).unwrap();
    assert_eq!(x.to_vec_f64(), vec![5.0, 6.0, 7.0]);
    assert!(x.requires_grad() && x.is_leaf());
    let i = Tensor::ones(&[2], DType::I64).unwrap();
    assert!(x.set_data(&i).is_err());
}

#[test]
fn indexing_a_zero_dim_tensor_fails() {
    let s = Tensor::scalar(Scalar::Float(2.0), DType::F32);
    assert!(
        s.index(&[IndexItem::Int(0)])
            .unwrap_err()
            .to_string()
            .starts_with("invalid index of a 0-dim tensor.")
    );
    let x = leaf(&[1.0, 2.0, 3.0]);
    assert_eq!(
        x.index(&[IndexItem::Int(0), IndexItem::Int(0)])
            .unwrap_err()
            .to_string(),
        "too many indices for tensor of dimension 1"
    );
}

// Fuzz regression 098e0c3e: copy_ into an int64 tensor from a source that requires grad records
// nothing (Python torch 2.13: requires_grad False, is_leaf True, version 1).
#[test]
fn copy_into_integer_tensor_gets_no_history() {
    let t0 = Tensor::from_vec(vec![2.5f32], &[])
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let t2 = Tensor::from_vec(vec![2.75f32], &[])
        .unwrap()
        .maximum(&t0)
        .unwrap();
    let t4 = Tensor::from_vec(vec![-1i64], &[1]).unwrap();
    t4.copy_(&t2).unwrap();
    assert!(!t4.requires_grad());
    assert!(t4.is_leaf());
    assert_eq!(t4.version(), 1);
    assert_eq!(t4.to_vec_f64(), vec![2.0]);
}

/// ATen's `assert_no_partial_overlap` (fuzz finding: `t1.copy_(t1.reshape(2))` on a (1, 1, 2)
/// tensor). Outcomes are torch 2.13.0's: a view with the same span but other strides, or an
/// overlapping part of the span, is refused; the very same elements in the same order, an
/// alias ATen cannot judge (`x[::2]`) and `fill_` are not.
#[test]
fn partial_overlap_with_an_input_is_refused() {
    let partial = Error::InplacePartialOverlap;
    let x = Tensor::ones(&[1, 1, 2], DType::F32).unwrap();
    assert_eq!(x.copy_(&x.reshape(&[2]).unwrap()).unwrap_err(), partial);
    let y = Tensor::ones(&[2, 2], DType::F32).unwrap();
    let yt = y.transpose(0, 1).unwrap();
    assert_eq!(y.add_(&yt).unwrap_err(), partial);
    assert_eq!(y.sub_(&yt).unwrap_err(), partial);
    assert_eq!(y.mul_(&yt).unwrap_err(), partial);
    assert_eq!(y.div_(&yt).unwrap_err(), partial);
    // Checked before broadcasting: (4,) cannot broadcast to (2, 2), yet overlap is reported.
    assert_eq!(y.add_(y.view(&[4]).unwrap()).unwrap_err(), partial);
    assert_eq!(y.add_(y.select(0, 0).unwrap()).unwrap_err(), partial);
    let z = Tensor::ones(&[4], DType::F32).unwrap();
    let head = z.narrow(0, 0, 2).unwrap();
    assert_eq!(head.add_(z.narrow(0, 1, 2).unwrap()).unwrap_err(), partial);

    // Allowed: same elements, same strides; an expanded input; a strided (too hard) alias.
    let v = Tensor::ones(&[2], DType::F32).unwrap();
    v.copy_(&v.view(&[2]).unwrap()).unwrap();
    y.add_(y.expand(&[2, 2]).unwrap()).unwrap();
    head.copy_(&z.slice(0, 0, 4, 2).unwrap()).unwrap();
    y.select(0, 0)
        .unwrap()
        .fill_tensor_(&y.select(0, 1).unwrap().select(0, 0).unwrap())
        .unwrap();
    assert_eq!(y.to_vec_f64(), vec![2.0; 4]);

    // The leaf check comes first.
    let l = Tensor::ones(&[2, 2], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let lt = l.transpose(0, 1).unwrap();
    assert_eq!(l.add_(&lt).unwrap_err(), Error::LeafInplace);
}
