//! Advanced indexing (`index` with int64 positions, bool masks and `None`; `index_put_`; Python's
//! `x[...]` and `x[...] = v` with tensors): values, shapes, grad_fn names, versions and messages
//! as observed from libtorch 2.13 (through tch 0.26 and the harness's shim), gradients against
//! finite differences in f64.

mod support;
use engine::{DType, IndexItem, Tensor, TensorIndex};
use support::*;

fn x() -> Tensor {
    leaf(&[1., 2., 3., 4., 5., 6.], &[2, 3])
}
fn mask() -> Tensor {
    bools(&[true, false, true, false, true, true], &[2, 3])
}
fn ix(v: &[i64]) -> Option<Tensor> {
    Some(i64s(v, &[v.len()]))
}

#[test]
fn index_reads() {
    let x = x();
    // Observed from libtorch 2.13.
    let y = x.index_tensors(&[Some(mask())]).unwrap();
    assert_eq!((y.shape(), y.to_vec_f64()), (vec![4], vec![1., 3., 5., 6.]));
    assert_eq!(name(&y), Some("IndexBackward0"));
    assert!(!y.is_view());
    let y = x
        .index_tensors(&[Some(bools(&[false, true], &[2]))])
        .unwrap();
    assert_eq!((y.shape(), y.to_vec_f64()), (vec![1, 3], vec![4., 5., 6.]));
    let y = x.index_tensors(&[ix(&[1, 0, 1])]).unwrap();
    assert_eq!(y.shape(), vec![3, 3]);
    assert_eq!(y.to_vec_f64(), [4., 5., 6., 1., 2., 3., 4., 5., 6.]);
    let y = x.index_tensors(&[None, ix(&[2, -1])]).unwrap();
    assert_eq!(
        (y.shape(), y.to_vec_f64()),
        (vec![2, 2], vec![3., 3., 6., 6.])
    );
    let y = x.index_tensors(&[ix(&[0, 1]), ix(&[2, 0])]).unwrap();
    assert_eq!((y.shape(), y.to_vec_f64()), (vec![2], vec![3., 4.]));
    let y = x
        .index_tensors(&[Some(i64s(&[0, 1, 1, 0], &[2, 2]))])
        .unwrap();
    assert_eq!(y.shape(), vec![2, 2, 3]);
    assert_eq!(
        y.to_vec_f64(),
        [1., 2., 3., 4., 5., 6., 4., 5., 6., 1., 2., 3.]
    );
    let y = x
        .index_tensors(&[None, Some(bools(&[true, false, true], &[3]))])
        .unwrap();
    assert_eq!(
        (y.shape(), y.to_vec_f64()),
        (vec![2, 2], vec![1., 3., 4., 6.])
    );
    let y = x.index_tensors(&[Some(i64s(&[1], &[]))]).unwrap();
    assert_eq!((y.shape(), y.to_vec_f64()), (vec![3], vec![4., 5., 6.]));
    let y = x
        .index_tensors(&[None, Some(i64s(&[0, 2], &[2, 1]))])
        .unwrap();
    assert_eq!(
        (y.shape(), y.to_vec_f64()),
        (vec![2, 2, 1], vec![1., 3., 4., 6.])
    );
    // Non-adjacent indexed dims move to the front.
    let x3 = Tensor::zeros(&[2, 3, 4], DType::F64).unwrap();
    assert_eq!(
        x3.index_tensors(&[ix(&[0, 1]), None, ix(&[0, 3])])
            .unwrap()
            .shape(),
        vec![2, 3]
    );
    assert_eq!(
        x3.index_tensors(&[None, ix(&[0, 1]), ix(&[0, 3])])
            .unwrap()
            .shape(),
        vec![2, 2]
    );
    let m2 = bools(&[true, false, true, false, true, true], &[2, 3]);
    assert_eq!(x3.index_tensors(&[Some(m2)]).unwrap().shape(), vec![4, 4]);
}

#[test]
fn index_errors() {
    let x = x();
    // Observed from libtorch 2.13.
    assert_eq!(
        err(x.index_tensors(&[ix(&[2])])),
        "index 2 is out of bounds for dimension 0 with size 2"
    );
    // The dim in the message counts the index tensors, not the tensor's dims.
    assert_eq!(
        err(x.index_tensors(&[None, ix(&[-4])])),
        "index -4 is out of bounds for dimension 0 with size 3"
    );
    let x3 = Tensor::zeros(&[2, 3, 4], DType::F64).unwrap();
    assert_eq!(
        err(x3.index_tensors(&[None, ix(&[0]), ix(&[9])])),
        "index 9 is out of bounds for dimension 1 with size 4"
    );
    assert_eq!(
        err(x.index_tensors(&[Some(bools(&[true, false, true], &[3]))])),
        "The shape of the mask [3] at index 0 does not match the shape of the indexed tensor [2, 3] at index 0"
    );
    assert_eq!(
        err(x.index_tensors(&[None, Some(bools(&[true, false], &[2]))])),
        "The shape of the mask [2] at index 0 does not match the shape of the indexed tensor [2, 3] at index 1"
    );
    let f = Tensor::from_vec(vec![0.0f32], &[1]).unwrap();
    assert_eq!(
        err(x.index_tensors(&[Some(f)])),
        "tensors used as indices must be long, int, byte or bool tensors"
    );
    assert_eq!(
        err(x.index_tensors(&[ix(&[1]), ix(&[1]), ix(&[1])])),
        "too many indices for tensor of dimension 2 (got 3)"
    );
    assert_eq!(
        err(x.index_tensors(&[ix(&[0, 1]), ix(&[2, 0, 1])])),
        "shape mismatch: indexing tensors could not be broadcast together with shapes [2], [3]"
    );
}

#[test]
fn index_gradients() {
    let x = x();
    // Observed from libtorch 2.13: duplicate positions accumulate.
    x.index_tensors(&[ix(&[1, 0, 1])])
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(grad(&x).unwrap(), [1., 1., 1., 2., 2., 2.]);
    let x = leaf(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let y = x.index_tensors(&[ix(&[0, 0, 1])]).unwrap();
    y.mul(&y)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(grad(&x).unwrap(), [4., 8., 12., 8., 10., 12.]);
    let v = [0.5, -1.5, 2.5, 3.0, -0.25, 1.25];
    gradcheck(|x| x[0].index_tensors(&[Some(mask())]), &[(&v, &[2, 3])]);
    gradcheck(
        |x| x[0].index_tensors(&[None, ix(&[2, 0, 2])]),
        &[(&v, &[2, 3])],
    );
    gradcheck(
        |x| x[0].index_tensors(&[ix(&[1, 0]), ix(&[2, 2])]),
        &[(&v, &[2, 3])],
    );
    // The indices are saved: writing a mask before backward fails the version check.
    let m = mask();
    let y = x
        .index_tensors(&[Some(m.clone())])
        .unwrap()
        .sum(None, false)
        .unwrap();
    m.fill_(true).unwrap();
    assert!(err(y.backward()).contains("is at version 1; expected version 0 instead"));
}

#[test]
fn index_put_writes() {
    let x = x();
    // Observed from libtorch 2.13.
    let y = x.mul(1.0).unwrap();
    y.index_put_(&[Some(mask())], &t64(&[9.], &[1]), false)
        .unwrap();
    assert_eq!(y.to_vec_f64(), [9., 2., 9., 4., 9., 9.]);
    assert_eq!(name(&y), Some("IndexPutBackward0"));
    assert_eq!(y.version(), 1);
    let vv = leaf(&[10., 20., 30.], &[3]);
    let y = x.mul(1.0).unwrap();
    y.index_put_(&[ix(&[1])], &vv, false).unwrap();
    assert_eq!(y.to_vec_f64(), [1., 2., 3., 10., 20., 30.]);
    y.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(grad(&x).unwrap(), [1., 1., 1., 0., 0., 0.]);
    assert_eq!(grad(&vv).unwrap(), [1., 1., 1.]);
    // The last of duplicate positions wins.
    let y = x.mul(1.0).unwrap();
    let v = t64(&[9., 8., 7., 6., 5., 4.], &[2, 3]);
    y.index_put_(&[ix(&[1, 1])], &v, false).unwrap();
    assert_eq!(y.to_vec_f64(), [1., 2., 3., 6., 5., 4.]);
    // A mask and a one-element value of another dtype: masked_fill_ inside the kernel.
    let y = x.mul(1.0).unwrap();
    y.index_put_(
        &[Some(mask())],
        &Tensor::from_vec(vec![9.0f32], &[1]).unwrap(),
        false,
    )
    .unwrap();
    assert_eq!(y.to_vec_f64(), [9., 2., 9., 4., 9., 9.]);
    let i = i64s(&[1, 2, 3], &[3]);
    i.index_put_(
        &[Some(bools(&[true, false, true], &[3]))],
        &t64(&[9.5], &[1]),
        false,
    )
    .unwrap();
    assert_eq!(i.to_vec_f64(), [9., 2., 9.]);
    // Only the value requires grad.
    let s = t64(&[1., 2., 3.], &[3]);
    let v = leaf(&[5.], &[]);
    s.index_put_(&[ix(&[1])], &v, false).unwrap();
    assert_eq!(
        (s.to_vec_f64(), name(&s)),
        (vec![1., 5., 3.], Some("IndexPutBackward0"))
    );
    let x = leaf(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let vv = leaf(&[10., 20.], &[2]);
    let y = x.mul(1.0).unwrap();
    y.index_put_(&[ix(&[0, 1]), ix(&[2, 0])], &vv, false)
        .unwrap();
    assert_eq!(y.to_vec_f64(), [1., 2., 10., 20., 5., 6.]);
    y.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(grad(&x).unwrap(), [1., 1., 0., 0., 1., 1.]);
    assert_eq!(grad(&vv).unwrap(), [1., 1.]);
}

#[test]
fn index_put_errors() {
    let x = x();
    let y = x.mul(1.0).unwrap();
    // Observed from libtorch 2.13.
    assert_eq!(
        err(y.index_put_(&[ix(&[1])], &t64(&[9., 1.], &[2]), false)),
        "shape mismatch: value tensor of shape [2] cannot be broadcast to indexing result of shape [1, 3]"
    );
    assert_eq!(
        err(y.index_put_(&[ix(&[5])], &t64(&[9.], &[1]), false)),
        "index 5 is out of bounds for dimension 0 with size 2"
    );
    assert_eq!(
        err(y.index_put_(&[Some(mask())], &t64(&[9., 1.], &[2]), false)),
        "shape mismatch: value tensor of shape [2] cannot be broadcast to indexing result of shape [4]"
    );
    let f = Tensor::from_vec(vec![9.0f32, 1.0, 2.0], &[3]).unwrap();
    assert_eq!(
        err(y.index_put_(&[ix(&[1])], &f, false)),
        "Index put requires the source and destination dtypes match, got Double for the destination and Float for the source."
    );
    let i = i64s(&[1, 2, 3], &[3]);
    assert_eq!(
        err(i.index_put_(&[ix(&[1])], &t64(&[9.], &[1]), false)),
        "Index put requires the source and destination dtypes match, got Long for the destination and Double for the source."
    );
    assert_eq!(i.to_vec_f64(), [1., 2., 3.]);
    assert_eq!(y.version(), 0);
    assert_eq!(
        err(x.index_put_(&[ix(&[1])], &t64(&[9.], &[1]), false)),
        "a leaf Variable that requires grad is being used in an in-place operation."
    );
}

#[test]
fn index_put_gradcheck() {
    let v = [0.5, -1.5, 2.5, 3.0, -0.25, 1.25];
    gradcheck(
        |x| {
            let y = x[0].mul(1.0)?;
            y.index_put_(&[None, ix(&[2, 0])], &x[1], false)?;
            Ok(y)
        },
        &[(&v, &[2, 3]), (&[7., 8.], &[2, 1])],
    );
    gradcheck(
        |x| {
            let y = x[0].mul(1.0)?;
            y.index_put_(&[ix(&[1, 1, 0])], &x[1], true)?;
            Ok(y)
        },
        &[(&v, &[2, 3]), (&[7., 8., 9.], &[3])],
    );
}

#[test]
fn python_getitem_and_setitem_with_tensors() {
    let x = x();
    let slice = |start, stop| {
        TensorIndex::Basic(IndexItem::Slice {
            start,
            stop,
            step: 1,
        })
    };
    // Python applies the basic items as views, then indexes with the tensors at their dims.
    let y = x.getitem(&[TensorIndex::Tensor(mask())]).unwrap();
    assert_eq!(y.to_vec_f64(), [1., 3., 5., 6.]);
    let y = x
        .getitem(&[slice(None, None), i64s(&[2, -1], &[2]).into()])
        .unwrap();
    assert_eq!((y.shape(), name(&y)), (vec![2, 2], Some("IndexBackward0")));
    assert_eq!(y.to_vec_f64(), [3., 3., 6., 6.]);
    let y = x
        .getitem(&[
            TensorIndex::Basic(IndexItem::Int(1)),
            i64s(&[2, -1], &[2]).into(),
        ])
        .unwrap();
    assert_eq!(y.to_vec_f64(), [6., 6.]);
    // A 0-dim int64 tensor index selects (a view), as Python's indexing does.
    let y = x.getitem(&[i64s(&[1], &[]).into()]).unwrap();
    assert_eq!(
        (y.to_vec_f64(), name(&y), y.is_view()),
        (vec![4., 5., 6.], Some("SelectBackward0"), true)
    );
    let y = x.getitem(&[bools(&[true], &[]).into()]).unwrap();
    assert_eq!(y.shape(), vec![1, 2, 3]);
    assert_eq!(
        err(x.getitem(&[mask().into(), i64s(&[0], &[1]).into()])),
        "too many indices for tensor of dimension 2"
    );

    let y = x.mul(1.0).unwrap();
    y.setitem(&[mask().into()], 0.0).unwrap();
    assert_eq!(
        (y.to_vec_f64(), name(&y)),
        (vec![0., 2., 0., 4., 0., 0.], Some("IndexPutBackward0"))
    );
    let y = x.mul(1.0).unwrap();
    y.setitem(
        &[slice(None, None), i64s(&[0], &[1]).into()],
        t64(&[7., 8.], &[2, 1]),
    )
    .unwrap();
    assert_eq!(y.to_vec_f64(), [7., 2., 3., 8., 5., 6.]);
    // Leading size-1 dims of the value are dropped before broadcasting.
    let y = x.mul(1.0).unwrap();
    y.setitem(&[i64s(&[1], &[1]).into()], t64(&[1., 1., 1.], &[1, 1, 3]))
        .unwrap();
    assert_eq!(y.to_vec_f64(), [1., 2., 3., 1., 1., 1.]);
    assert_eq!(
        err(x.setitem(&[mask().into()], 0.0)),
        "a leaf Variable that requires grad is being used in an in-place operation."
    );
    // Through a view of a non-leaf the write is rebased onto the base (CopySlices), as every
    // in-place op on a view is in libtorch.
    let y = x.mul(1.0).unwrap();
    y.setitem(
        &[
            TensorIndex::Basic(IndexItem::Int(0)),
            bools(&[true, false, true], &[3]).into(),
        ],
        0.0,
    )
    .unwrap();
    assert_eq!(
        (y.to_vec_f64(), name(&y)),
        (vec![0., 2., 0., 4., 5., 6.], Some("CopySlices"))
    );
    y.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(grad(&x).unwrap(), [0., 1., 0., 1., 1., 1.]);
}
