//! `masked_fill`/`masked_fill_`, `clamp_min`/`clamp_max` (and in place), `add`/`sub` with
//! `alpha`, `floor_divide` and `remainder`: values, dtypes, grad_fn names and messages as
//! observed from libtorch 2.13 (through tch 0.26 and the harness's shim), gradients against
//! finite differences in f64.

mod support;
use engine::{DType, Scalar, Tensor};
use support::*;

fn x22() -> Tensor {
    leaf(&[1., 2., 3., 4.], &[2, 2])
}
fn m22() -> Tensor {
    bools(&[true, false, false, true], &[2, 2])
}

#[test]
fn masked_fill_values_names_and_gradients() {
    let x = x22();
    // Observed from libtorch 2.13.
    let y = x.masked_fill(&m22(), 9.0).unwrap();
    assert_eq!(y.to_vec_f64(), [9., 2., 3., 9.]);
    assert_eq!(name(&y), Some("MaskedFillBackward0"));
    let y = x.masked_fill(&bools(&[true, false], &[2]), 9.0).unwrap();
    assert_eq!(y.to_vec_f64(), [9., 2., 9., 4.]);
    let v = leaf(&[7.], &[]);
    let y = x.masked_fill(&m22(), &v).unwrap();
    assert_eq!(y.to_vec_f64(), [7., 2., 3., 7.]);
    assert_eq!(name(&y), Some("MaskedFillBackward1"));
    y.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(grad(&x).unwrap(), [0., 1., 1., 0.]);
    assert_eq!(grad(&v).unwrap(), [2.]);
    // Only the value requires grad.
    let v = leaf(&[7.], &[]);
    let y = t64(&[1., 2., 3., 4.], &[2, 2])
        .masked_fill(&m22(), &v)
        .unwrap();
    assert_eq!(name(&y), Some("MaskedFillBackward1"));
    y.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(grad(&v).unwrap(), [2.]);
    // The mask broadcasts the result.
    let big = bools(
        &[true, false, false, true, true, true, false, false],
        &[2, 2, 2],
    );
    let y = x.masked_fill(&big, 0.0).unwrap();
    assert_eq!(y.shape(), vec![2, 2, 2]);
    assert_eq!(y.to_vec_f64(), [0., 2., 3., 0., 0., 0., 3., 4.]);
    // The value is converted to the tensor's dtype.
    let i = i64s(&[1, 2], &[2])
        .masked_fill(&bools(&[true, false], &[2]), 2.5)
        .unwrap();
    assert_eq!((i.dtype(), i.to_vec_f64()), (DType::I64, vec![2., 2.]));
    gradcheck(
        |x| x[0].masked_fill(&m22(), &x[1]),
        &[(&[0.5, -1.5, 2.5, 3.0], &[2, 2]), (&[0.25], &[])],
    );
}

#[test]
fn masked_fill_errors() {
    let x = x22();
    // Observed from libtorch 2.13.
    assert_eq!(
        err(x.masked_fill(&m22(), leaf(&[7.], &[1]))),
        "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 dimension(s)."
    );
    let mf = Tensor::from_vec(vec![1.0f32, 0., 0., 1.], &[2, 2]).unwrap();
    assert_eq!(
        err(x.masked_fill(&mf, 9.0)),
        "masked_fill_ only supports boolean masks, but got mask with dtype float"
    );
    assert_eq!(
        err(x.masked_fill(&i64s(&[1, 0, 0, 1], &[2, 2]), 9.0)),
        "masked_fill_ only supports boolean masks, but got mask with dtype long int"
    );
    assert_eq!(
        err(x.masked_fill(&bools(&[true, false, true], &[3]), 1.0)),
        "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1"
    );
    assert_eq!(
        err(x.masked_fill_(&m22(), 0.0)),
        "a leaf Variable that requires grad is being used in an in-place operation."
    );
    let big = bools(
        &[true, false, false, true, true, true, false, false],
        &[2, 2, 2],
    );
    assert_eq!(
        err(x.mul(1.0).unwrap().masked_fill_(&big, 0.0)),
        "output with shape [2, 2] doesn't match the broadcast shape [2, 2, 2]"
    );
}

#[test]
fn masked_fill_in_place_and_saved_mask() {
    let x = x22();
    let y = x.mul(1.0).unwrap();
    y.masked_fill_(&m22(), 0.0).unwrap();
    // Observed from libtorch 2.13.
    assert_eq!(y.to_vec_f64(), [0., 2., 3., 0.]);
    assert_eq!(name(&y), Some("MaskedFillBackward0"));
    assert_eq!(y.version(), 1);
    let v = leaf(&[7.], &[]);
    let y = x.mul(1.0).unwrap();
    y.masked_fill_(&m22(), &v).unwrap();
    assert_eq!(y.to_vec_f64(), [7., 2., 3., 7.]);
    assert_eq!(name(&y), Some("MaskedFillBackward1"));
    y.mul(3.0)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(grad(&x).unwrap(), [0., 3., 3., 0.]);
    assert_eq!(grad(&v).unwrap(), [6.]);
    let i = i64s(&[1, 2], &[2]);
    i.masked_fill_(&bools(&[true, false], &[2]), 2.5).unwrap();
    assert_eq!(i.to_vec_f64(), [2., 2.]);
    // The mask is saved: writing it before backward fails the version check, as in libtorch
    // ("[CPUBoolType [2, 2]] is at version 1; expected version 0 instead").
    let mask = m22();
    let y = x.masked_fill(&mask, 0.0).unwrap().sum(None, false).unwrap();
    mask.fill_(true).unwrap();
    let e = err(y.backward());
    assert!(
        e.contains("[torch.BoolTensor [2, 2]] is at version 1; expected version 0 instead"),
        "{e}"
    );
}

#[test]
fn clamp_min_and_max() {
    let x = x22();
    // Observed from libtorch 2.13.
    let y = x.clamp_min(2.0).unwrap();
    assert_eq!(
        (y.to_vec_f64(), name(&y)),
        (vec![2., 2., 3., 4.], Some("ClampMinBackward0"))
    );
    let y = x.clamp_max(2.0).unwrap();
    assert_eq!(
        (y.to_vec_f64(), name(&y)),
        (vec![1., 2., 2., 2.], Some("ClampMaxBackward0"))
    );
    // At the bound the gradient passes.
    let t = leaf(&[1., 2., 3.], &[3]);
    t.clamp_min(2.0)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(grad(&t).unwrap(), [0., 1., 1.]);
    let t = leaf(&[1., 2., 3.], &[3]);
    t.clamp_max(2.0)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(grad(&t).unwrap(), [1., 1., 0.]);
    let y = x.mul(1.0).unwrap();
    y.clamp_min_(2.0).unwrap();
    assert_eq!(
        (y.to_vec_f64(), name(&y)),
        (vec![2., 2., 3., 4.], Some("ClampMinBackward0"))
    );
    let y = x.mul(1.0).unwrap();
    y.clamp_max_(2.0).unwrap();
    assert_eq!(
        (y.to_vec_f64(), name(&y)),
        (vec![1., 2., 2., 2.], Some("ClampMaxBackward0"))
    );
    assert_eq!(y.version(), 1);
    let i = i64s(&[1, 2, 3], &[3]);
    let f = i.clamp_min(1.5).unwrap();
    assert_eq!((f.dtype(), f.to_vec_f64()), (DType::F32, vec![1.5, 2., 3.]));
    assert_eq!(
        err(i.clamp_min_(1.5)),
        "result type Float can't be cast to the desired output type long int"
    );
    let n = Tensor::from_vec(vec![f32::NAN, 1.0], &[2])
        .unwrap()
        .clamp_min(2.0)
        .unwrap();
    assert!(n.to_vec_f64()[0].is_nan() && n.to_vec_f64()[1] == 2.0);
    let b = bools(&[true, false], &[2]).clamp_min(0).unwrap();
    assert_eq!((b.dtype(), b.to_vec_f64()), (DType::I64, vec![1., 0.]));
    assert_eq!(
        err(x.clamp_min_(0.0)),
        "a leaf Variable that requires grad is being used in an in-place operation."
    );
    let v = [0.5, -1.5, 2.5, 3.0, -0.25, 1.25];
    gradcheck(|x| x[0].clamp_min(0.0), &[(&v, &[2, 3])]);
    gradcheck(|x| x[0].clamp_max(1.0), &[(&v, &[2, 3])]);
}

#[test]
fn add_and_sub_with_alpha() {
    // The node is add.Tensor's / sub.Tensor's (derivatives.yaml: `other: maybe_multiply(grad,
    // alpha)`), and alpha_check's messages are BinaryOps.cpp's.
    let a = leaf(&[1., 2.], &[2]);
    let b = leaf(&[3., 4.], &[2]);
    let y = a.add_scaled(&b, 3).unwrap();
    assert_eq!(
        (y.to_vec_f64(), name(&y)),
        (vec![10., 14.], Some("AddBackward0"))
    );
    y.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(
        (grad(&a).unwrap(), grad(&b).unwrap()),
        (vec![1., 1.], vec![3., 3.])
    );
    let y = a.sub_scaled(&b, 0.5).unwrap();
    assert_eq!(
        (y.to_vec_f64(), name(&y)),
        (vec![-0.5, 0.0], Some("SubBackward0"))
    );
    let i = i64s(&[1, 2], &[2]);
    let r = i.add_scaled(i64s(&[3, 4], &[2]), 2).unwrap();
    assert_eq!((r.dtype(), r.to_vec_f64()), (DType::I64, vec![7., 10.]));
    // An integer alpha with float tensors is fine; a float alpha with integers is not.
    let f = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
    assert_eq!(f.add_scaled(&f, 2).unwrap().to_vec_f64(), [3., 6.]);
    assert_eq!(
        err(i.add_scaled(&i, 2.5)),
        "For integral input tensors, argument alpha must not be a floating point number."
    );
    assert_eq!(
        err(f.add_scaled(&f, true)),
        "Boolean alpha only supported for Boolean results."
    );
    assert_eq!(
        err(bools(&[true], &[1]).sub_scaled(bools(&[true], &[1]), 1)),
        "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead."
    );
    // ATen's add is one fused multiply-add; the values are libtorch 2.13's fused
    // `addcmul(a, b, 2.5)`, the same formula.
    let fa = Tensor::from_vec(
        vec![1.0f32, 2.0, -3.0, 0.1, 1e-3, 7.5, -0.25, 3.3, 1.7],
        &[9],
    )
    .unwrap();
    let fb =
        Tensor::from_vec(vec![0.3f32, -1.7, 2.2, 5.5, 1e3, -0.1, 0.7, 0.9, 1.1], &[9]).unwrap();
    assert_eq!(
        fa.add_scaled(&fb, 2.5).unwrap().to_vec_f64(),
        [
            1.75,
            -2.25,
            2.5,
            13.850000381469727,
            2500.0009765625,
            7.25,
            1.5,
            5.549999713897705,
            4.450000286102295
        ]
    );
    gradcheck(
        |x| x[0].add_scaled(&x[1], 2.5),
        &[(&[1., 2., 3.], &[3]), (&[0.5], &[1])],
    );
    gradcheck(
        |x| x[0].sub_scaled(&x[1], -1.5),
        &[(&[1., 2., 3.], &[3]), (&[0.5, 1., 2.], &[3])],
    );
    let _ = Scalar::Int(0);
}

#[test]
fn floor_divide_values_and_not_implemented_backward() {
    let a = leaf(&[7., -7., 7.5, -7.5, 1., -1., 0.], &[7]);
    let b = t64(&[2., 2., -2., 2., 0., 0., 0.], &[7]);
    // Observed from libtorch 2.13.
    let y = a.floor_divide(&b).unwrap();
    let v = y.to_vec_f64();
    assert_eq!(
        v[..6],
        [3., -4., -4., -4., f64::INFINITY, f64::NEG_INFINITY]
    );
    assert!(v[6].is_nan());
    assert_eq!(name(&y), Some("NotImplemented"));
    assert_eq!(
        err(y.sum(None, false).unwrap().backward()),
        "derivative for aten::floor_divide is not implemented"
    );
    let y = a.floor_divide(2).unwrap();
    assert_eq!(
        (y.to_vec_f64(), name(&y)),
        (vec![3., -4., 3., -4., 0., -1., 0.], Some("NotImplemented"))
    );
    let i = i64s(&[7, -7], &[2]);
    let q = i.floor_divide(2).unwrap();
    assert_eq!((q.dtype(), q.to_vec_f64()), (DType::I64, vec![3., -4.]));
    assert_eq!(err(i.floor_divide(0)), "ZeroDivisionError");
    let q = i.floor_divide(2.0).unwrap();
    assert_eq!((q.dtype(), q.to_vec_f64()), (DType::F32, vec![3., -4.]));
    assert_eq!(
        i64s(&[7, -7, 0], &[3])
            .floor_divide(-2)
            .unwrap()
            .to_vec_f64(),
        [-4., 3., 0.]
    );
    assert_eq!(
        err(bools(&[true], &[1]).floor_divide(bools(&[true], &[1]))),
        "\"div_floor_cpu\" not implemented for 'Bool'"
    );
    let f = Tensor::from_vec(vec![-0.5f32, 0.5], &[2]).unwrap();
    assert_eq!(f.floor_divide(2).unwrap().to_vec_f64(), [-1., 0.]);
    let f = Tensor::from_vec(vec![1.0f32, -1.0, 5.0], &[3]).unwrap();
    assert_eq!(
        f.floor_divide(f64::INFINITY).unwrap().to_vec_f64(),
        [0., -1., 0.]
    );
    let f = Tensor::from_vec(vec![0.3f32, -0.3, 7.0, 1e-30], &[4]).unwrap();
    assert_eq!(
        f.floor_divide(0.1).unwrap().to_vec_f64(),
        [3., -4., 69., 0.]
    );
}

#[test]
fn remainder_values_names_and_gradients() {
    let a = leaf(&[7., -7., 7.5, -7.5, 1., -1., 0.], &[7]);
    // Observed from libtorch 2.13.
    let r = a
        .remainder(t64(&[2., 2., -2., 2., 0., 0., 0.], &[7]))
        .unwrap();
    let v = r.to_vec_f64();
    assert_eq!(v[..4], [1., 1., -0.5, 0.5]);
    assert!(v[4..].iter().all(|x| x.is_nan()));
    assert_eq!(name(&r), Some("RemainderBackward1"));
    let r = a.remainder(2).unwrap();
    assert_eq!(
        (r.to_vec_f64(), name(&r)),
        (
            vec![1., 1., 1.5, 0.5, 1., 1., 0.],
            Some("RemainderBackward0")
        )
    );
    assert_eq!(
        a.remainder(-2.0).unwrap().to_vec_f64(),
        [-1., -1., -0.5, -1.5, -1., -1., 0.]
    );
    let b = leaf(&[2., 2., -2., 2., 3., 3., 3.], &[7]);
    a.remainder(&b)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(grad(&a).unwrap(), [1.; 7]);
    let gb = grad(&b).unwrap();
    assert_eq!(gb, [-3., 4., 4., 4., -0., 1., -0.]);
    assert!(gb[4].is_sign_negative() && gb[6].is_sign_negative());
    let r = i64s(&[7, -7, 7, -7], &[4])
        .remainder(i64s(&[2, 2, -2, -2], &[4]))
        .unwrap();
    assert_eq!(
        (r.dtype(), r.to_vec_f64()),
        (DType::I64, vec![1., 1., -1., -1.])
    );
    assert_eq!(err(i64s(&[7], &[1]).remainder(0)), "ZeroDivisionError");
    let r = bools(&[true], &[1]).remainder(1).unwrap();
    assert_eq!((r.dtype(), r.to_vec_f64()), (DType::I64, vec![0.]));
    assert_eq!(
        err(bools(&[true], &[1]).remainder(bools(&[true], &[1]))),
        "\"remainder_cpu\" not implemented for 'Bool'"
    );
    let f = Tensor::from_vec(vec![-0.0f32, 4.0, -4.0], &[3])
        .unwrap()
        .remainder(2)
        .unwrap();
    let v = f.to_vec_f64();
    assert_eq!(v, [0., 0., 0.]);
    assert!(v[0].is_sign_negative() && v[1].is_sign_positive() && v[2].is_sign_negative());
    let f = Tensor::from_vec(vec![1.0f32, -1.0, 5.0], &[3]).unwrap();
    assert_eq!(
        f.remainder(f64::INFINITY).unwrap().to_vec_f64(),
        [1., f64::INFINITY, 5.]
    );
    let f = Tensor::from_vec(vec![0.3f32, -0.3, 7.0, 1e-30], &[4]).unwrap();
    assert_eq!(
        f.remainder(0.1).unwrap().to_vec_f64(),
        [
            7.450580596923828e-9,
            0.09999999403953552,
            0.09999989718198776,
            1.0000000031710769e-30
        ]
    );
    gradcheck(
        |x| x[0].remainder(&x[1]),
        &[
            (&[7.3, -5.2, 2.9, -0.7], &[4]),
            (&[2.1, 1.7, -1.3, 0.9], &[4]),
        ],
    );
}
