//! Engine fixes for the 10-minute fuzz campaign's findings, each against torch 2.13.0's result
//! (the regression cases in `cases/regressions/` diff the same programs against libtorch).

use engine::{DType, Scalar, Tensor};

/// 70c3ad1b: integer sums wrap like ATen's integer addition (INT64_MIN + INT64_MIN == 0).
#[test]
fn integer_sum_wraps() {
    let t = Tensor::from_vec(vec![i64::MIN, i64::MIN], &[2]).unwrap();
    assert_eq!(
        t.sum(None, false).unwrap().to_vec::<i64>().unwrap(),
        vec![0]
    );
    let big = Tensor::from_vec(vec![(1i64 << 53) + 1, 1], &[2]).unwrap();
    assert_eq!(
        big.sum(None, false).unwrap().to_vec::<i64>().unwrap(),
        vec![(1i64 << 53) + 2]
    );
}

/// b80dfe49: clamp's backward selects, so a NaN gradient outside the range becomes 0
/// (`clamp(-0.25, -2.5, -1.5).sqrt().backward()` gives `x.grad == [0.]`).
#[test]
fn clamp_backward_selects_instead_of_multiplying() {
    let x = Tensor::from_vec(vec![-0.25f32], &[1])
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let y = x
        .clamp(Some(Scalar::Float(-2.5)), Some(Scalar::Float(-1.5)))
        .unwrap()
        .sqrt()
        .unwrap();
    y.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec_f64(), vec![0.0]);
}

/// b1b17ab7: `tensor ** tensor` saves its result even when only the base needs a gradient,
/// so modifying the result in place makes backward fail.
#[test]
fn pow_of_tensors_checks_its_saved_result() {
    let x = Tensor::ones(&[1], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let e = Tensor::from_vec(vec![4i64], &[1]).unwrap();
    let y = x.add(1.0).unwrap().pow(&e).unwrap();
    assert_eq!(y.grad_fn_name().unwrap(), Some("PowBackward1"));
    y.fill_(1.75).unwrap();
    let err = y.sum(None, false).unwrap().backward().unwrap_err();
    assert!(
        err.to_string().contains("which is output 0 of Pow1,"),
        "{err}"
    );
}
