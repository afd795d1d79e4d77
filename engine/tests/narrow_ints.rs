//! int8, int16 and int32: type promotion against `torch.promote_types`, wrapping arithmetic,
//! casts from floats, sums, and the errors of mean and requires_grad. Every expected value was
//! printed by torch 2.13.0 (e.g. `torch.tensor([127, -128, 5], dtype=torch.int8) + 1` is
//! `[-128, -127, 6]`, int8).

use engine::{DType, Tensor};

fn t(v: &[f64], d: DType) -> Tensor {
    Tensor::from_f64(v, &[v.len()], d).unwrap()
}

#[test]
fn tensor_promotion_follows_promote_types() {
    use DType::*;
    let all = [Bool, I8, I16, I32, I64, F32, F64];
    // torch.promote_types rows over the dtypes in this order, as torch 2.13.0 prints them.
    let rows = [
        [Bool, I8, I16, I32, I64, F32, F64],
        [I8, I8, I16, I32, I64, F32, F64],
        [I16, I16, I16, I32, I64, F32, F64],
        [I32, I32, I32, I32, I64, F32, F64],
        [I64, I64, I64, I64, I64, F32, F64],
        [F32, F32, F32, F32, F32, F32, F64],
        [F64, F64, F64, F64, F64, F64, F64],
    ];
    for (a, row) in all.iter().zip(rows) {
        for (b, want) in all.iter().zip(row) {
            let r = t(&[1.0], *a).add(t(&[1.0], *b));
            // bool + bool is a bool `or`; every pair has an add kernel.
            assert_eq!(r.unwrap().dtype(), want, "{a:?} + {b:?}");
        }
    }
}

#[test]
fn wrapped_numbers_and_zero_dim_tensors_stay_in_category() {
    let x = t(&[1.0, 2.0], DType::I8);
    // int8 + 1000 stays int8 and wraps: [-23, -22].
    let r = x.add(1000i64).unwrap();
    assert_eq!(r.dtype(), DType::I8);
    assert_eq!(r.to_vec_f64(), vec![-23.0, -22.0]);
    // int8 // 1000: the number is int8 first (-24), so 1 // -24 is -1.
    assert_eq!(
        x.floor_divide(1000i64).unwrap().to_vec_f64(),
        vec![-1.0, -1.0]
    );
    assert_eq!(x.add(1.5).unwrap().dtype(), DType::F32);
    // A 0-dim int64 tensor does not widen an int8 tensor; a 0-dim float64 one gives float64.
    let zi = Tensor::from_f64(&[2.0], &[], DType::I64).unwrap();
    assert_eq!(x.mul(&zi).unwrap().dtype(), DType::I8);
    let zf = Tensor::from_f64(&[2.5], &[], DType::F64).unwrap();
    assert_eq!(x.mul(&zf).unwrap().dtype(), DType::F64);
    // 0-dim int32 with a 1-dim int8: int8 ([6]).
    let z32 = Tensor::from_f64(&[5.0], &[], DType::I32).unwrap();
    let r = z32.add(t(&[1.0], DType::I8)).unwrap();
    assert_eq!((r.dtype(), r.to_vec_f64()), (DType::I8, vec![6.0]));
}

#[test]
fn arithmetic_wraps_in_its_width() {
    let x = t(&[127.0, -128.0, 5.0], DType::I8);
    assert_eq!(x.add(1i64).unwrap().to_vec_f64(), vec![-128.0, -127.0, 6.0]);
    assert_eq!(x.mul(2i64).unwrap().to_vec_f64(), vec![-2.0, 0.0, 10.0]);
    // 100 * 3 = 300 -> 44; 7 * 1000 -> 88.
    let h = t(&[100.0], DType::I8);
    assert_eq!(
        h.mul(t(&[3.0], DType::I8)).unwrap().to_vec_f64(),
        vec![44.0]
    );
    assert_eq!(
        t(&[7.0, -7.0], DType::I8)
            .mul(1000i64)
            .unwrap()
            .to_vec_f64(),
        vec![88.0, -88.0]
    );
    // -(-128) and (-128) // -1 are -128 in int8; 100 ** 2 is 16.
    let m = t(&[-128.0], DType::I8);
    assert_eq!(m.neg().unwrap().to_vec_f64(), vec![-128.0]);
    assert_eq!(m.floor_divide(-1i64).unwrap().to_vec_f64(), vec![-128.0]);
    assert_eq!(h.pow(2i64).unwrap().to_vec_f64(), vec![16.0]);
    // int16 abs stays int16; int32 + int32 max wraps to the minimum.
    let a = t(&[-7.0, 7.0], DType::I16).abs().unwrap();
    assert_eq!((a.dtype(), a.to_vec_f64()), (DType::I16, vec![7.0, 7.0]));
    let big = t(&[2147483647.0], DType::I32).add(1i64).unwrap();
    assert_eq!(big.to_vec_f64(), vec![-2147483648.0]);
    // [7, -7] % 3 and // 2 in int8: [1, 2] and [3, -4].
    let s = t(&[7.0, -7.0], DType::I8);
    assert_eq!(s.remainder(3i64).unwrap().to_vec_f64(), vec![1.0, 2.0]);
    assert_eq!(s.floor_divide(2i64).unwrap().to_vec_f64(), vec![3.0, -4.0]);
}

#[test]
fn casts_from_floats_truncate_and_go_through_int32() {
    let f = t(
        &[
            2.7,
            -2.7,
            300.0,
            -300.0,
            3e9,
            -3e9,
            f64::NAN,
            f64::INFINITY,
            1e20,
            40000.0,
        ],
        DType::F32,
    );
    let i8s = f.to_dtype(DType::I8).unwrap();
    assert_eq!(i8s.dtype(), DType::I8);
    assert_eq!(
        i8s.to_vec_f64(),
        vec![2.0, -2.0, 44.0, -44.0, 0.0, 0.0, 0.0, 0.0, 0.0, 64.0]
    );
    let i16s = f.to_dtype(DType::I16).unwrap().to_vec_f64();
    assert_eq!(
        i16s,
        vec![2.0, -2.0, 300.0, -300.0, 0.0, 0.0, 0.0, 0.0, 0.0, -25536.0]
    );
    let m = -2147483648.0;
    let i32s = f.to_dtype(DType::I32).unwrap().to_vec_f64();
    assert_eq!(i32s, vec![2.0, -2.0, 300.0, -300.0, m, m, m, m, m, 40000.0]);
    // Between integer widths: wrapping (int64 3000000000 -> int32 -1294967296).
    let w = t(&[3e9, 255.0], DType::I64).to_dtype(DType::I32).unwrap();
    assert_eq!(w.to_vec_f64(), vec![-1294967296.0, 255.0]);
    assert_eq!(w.to_dtype(DType::I8).unwrap().to_vec_f64(), vec![0.0, -1.0]);
}

#[test]
fn reductions_division_and_errors() {
    let x = Tensor::ones(&[2, 3], DType::I8).unwrap();
    let s = x.sum(Some(&[1]), false).unwrap();
    assert_eq!((s.dtype(), s.to_vec_f64()), (DType::I64, vec![3.0, 3.0]));
    // int8 [127, -128, 5].sum() is 4 in int64 (no int8 wrap).
    let s = t(&[127.0, -128.0, 5.0], DType::I8)
        .sum(None, false)
        .unwrap();
    assert_eq!(s.to_vec_f64(), vec![4.0]);
    let q = t(&[1.0, 2.0], DType::I32)
        .div(t(&[2.0, 4.0], DType::I32))
        .unwrap();
    assert_eq!((q.dtype(), q.to_vec_f64()), (DType::F32, vec![0.5, 0.5]));
    let e = t(&[1.0, 2.0], DType::I16).mean(None, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Short"
    );
    let e = t(&[1.0], DType::I32).requires_grad_(true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "only Tensors of floating point dtype can require gradients"
    );
    // Comparisons across widths promote first: int8 [1, 2] == int64 [1, 3].
    let c = t(&[1.0, 2.0], DType::I8)
        .eq_(t(&[1.0, 3.0], DType::I64))
        .unwrap();
    assert_eq!(c.to_vec_f64(), vec![1.0, 0.0]);
}
