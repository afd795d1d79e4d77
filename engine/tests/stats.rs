//! `var`, `std`, `norm`, `prod`, `cumsum`, `argmax`/`argmin`: values, dtypes, grad_fn names,
//! warnings and messages as observed from libtorch 2.13 (through tch 0.26 and the harness's
//! shim), and every backward rule against finite differences in f64.

// The expected values are libtorch's printed outputs, digits as printed.
#![allow(clippy::approx_constant)]

mod support;
use engine::{DType, Tensor, take_warnings};
use support::*;

const X: [f64; 6] = [1., 2., 4., 7., 3., 3.];

#[test]
fn var_and_std_values_and_names() {
    let x = leaf(&X, &[2, 3]);
    // Observed from libtorch 2.13.
    let v = x.var(None, None, false).unwrap();
    assert_close(&v.to_vec_f64(), &[4.266666666666667]);
    assert_eq!(name(&v), Some("VarBackward0"));
    let v = x.var(Some(&[1]), None, false).unwrap();
    assert_close(&v.to_vec_f64(), &[2.333333333333333, 5.333333333333333]);
    assert_eq!(name(&v), Some("VarBackward0"));
    let v = x.var(Some(&[0, 1]), Some(0.0), true).unwrap();
    assert_eq!(v.shape(), vec![1, 1]);
    assert_close(&v.to_vec_f64(), &[3.5555555555555554]);
    // `dim=[]` reduces everything.
    let v = x.var(Some(&[]), None, false).unwrap();
    assert_close(&v.to_vec_f64(), &[4.266666666666667]);
    let v = x.var(None, Some(2.5), false).unwrap();
    assert_close(&v.to_vec_f64(), &[6.095238095238095]);
    let s = x.std(None, None, false).unwrap();
    assert_close(&s.to_vec_f64(), &[2.065591117977289]);
    assert_eq!(name(&s), Some("StdBackward0"));
    let s = x.std(Some(&[0]), None, false).unwrap();
    assert_close(
        &s.to_vec_f64(),
        &[4.242640687119285, 0.7071067811865476, 0.7071067811865476],
    );
    let s = x.std(None, Some(0.0), false).unwrap();
    assert_close(&s.to_vec_f64(), &[1.8856180831641267]);
    // float32: observed bits.
    let f = Tensor::from_vec(vec![1.1f32, 1.3, 1.7, 2.9, 3.1], &[5]).unwrap();
    assert_eq!(
        f.var(None, None, false).unwrap().to_vec_f64(),
        [0.8519999980926514]
    );
}

#[test]
fn var_errors_and_degrees_of_freedom() {
    let i = i64s(&[1, 2, 3], &[3]);
    // Observed from libtorch 2.13.
    assert_eq!(
        err(i.var(None, None, false)),
        "std and var only support floating point and complex dtypes"
    );
    assert_eq!(
        err(i.std(None, None, false)),
        "std and var only support floating point and complex dtypes"
    );
    let x = leaf(&X, &[2, 3]);
    assert_eq!(
        err(x.var(Some(&[5]), None, false)),
        "Dimension out of range (expected to be in range of [-2, 1], but got 5)"
    );
    take_warnings();
    let one = leaf(&[5.], &[1]);
    assert!(one.var(None, None, false).unwrap().to_vec_f64()[0].is_nan());
    assert_eq!(
        take_warnings(),
        [
            "var(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor (input numel divided by output numel)."
        ]
    );
    let e = Tensor::zeros(&[0], DType::F32).unwrap();
    assert!(e.var(None, None, false).unwrap().to_vec_f64()[0].is_nan());
    assert_eq!(take_warnings().len(), 1);
}

#[test]
fn var_and_std_gradients_match_libtorch_at_the_edges() {
    // Observed from libtorch 2.13: `dim=[]` takes var_backward's per-dim branch, whose count of
    // an empty list is 1, so 2 / (1 - 1) is infinite.
    let x = leaf(&X, &[2, 3]);
    x.var(Some(&[]), None, false).unwrap().backward().unwrap();
    assert_eq!(
        grad(&x).unwrap(),
        [
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY
        ]
    );
    let x = leaf(&[1., 2., 4.], &[3]);
    let v = x.var(None, Some(3.0), false).unwrap();
    assert_eq!(v.to_vec_f64(), [f64::INFINITY]);
    v.backward().unwrap();
    assert_eq!(grad(&x).unwrap(), [f64::INFINITY; 3]);
    let c = leaf(&[2., 2., 2.], &[3]);
    c.std(None, None, false).unwrap().backward().unwrap();
    assert_eq!(grad(&c).unwrap(), [0.0; 3]);
    let x = leaf(&X, &[2, 3]);
    let s = x.std(Some(&[1]), None, true).unwrap();
    assert_eq!(s.shape(), vec![2, 1]);
    s.sum(None, false).unwrap().backward().unwrap();
    assert_close(
        &grad(&x).unwrap(),
        &[
            -0.43643578047198484,
            -0.10910894511799625,
            0.5455447255899809,
            0.5773502691896258,
            -0.28867513459481287,
            -0.28867513459481287,
        ],
    );
    take_warnings();
}

#[test]
fn var_and_std_gradcheck() {
    let v: Vec<f64> = (0..24).map(|i| ((i * 7) % 11) as f64 * 0.3 - 1.2).collect();
    for (dims, keep) in [
        (None, false),
        (Some(vec![1i64]), false),
        (Some(vec![0, 2]), true),
        (Some(vec![-1]), false),
    ] {
        for c in [0.0, 1.0, 2.0] {
            let d = dims.clone();
            gradcheck(
                move |x| x[0].var(d.as_deref(), Some(c), keep),
                &[(&v, &[2, 3, 4])],
            );
            let d = dims.clone();
            gradcheck(
                move |x| x[0].std(d.as_deref(), Some(c), keep),
                &[(&v, &[2, 3, 4])],
            );
        }
    }
}

#[test]
fn var_saves_its_input() {
    let x = leaf(&X, &[2, 3]);
    let y = x.mul(1.0).unwrap();
    let v = y.var(None, None, false).unwrap();
    y.mul_(2.0).unwrap();
    let e = err(v.backward());
    assert!(e.starts_with("one of the variables needed for gradient computation has been modified by an inplace operation: [torch.DoubleTensor [2, 3]]"), "{e}");
}

#[test]
fn norm_values_names_and_subgradients() {
    let x = leaf(&[3., -4., 0., 1., 2., -2.], &[2, 3]);
    // Observed from libtorch 2.13.
    let n = x.norm(2.0, None, false).unwrap();
    assert_close(&n.to_vec_f64(), &[5.830951894845301]);
    assert_eq!(name(&n), Some("NormBackward0"));
    let cases: [(f64, &[f64]); 7] = [
        (2.0, &[5.0, 3.0]),
        (1.0, &[7.0, 5.0]),
        (f64::INFINITY, &[4.0, 2.0]),
        (0.0, &[2.0, 3.0]),
        (f64::NEG_INFINITY, &[0.0, 1.0]),
        (0.5, &[13.928203230275509, 14.656854249492378]),
        (-1.0, &[0.0, 0.5]),
    ];
    for (p, want) in cases {
        let n = x.norm(p, Some(&[1]), false).unwrap();
        assert_eq!(name(&n), Some("NormBackward1"));
        assert!(
            close(&n.to_vec_f64(), want, 1e-12),
            "p={p}: {:?}",
            n.to_vec_f64()
        );
    }
    assert_eq!(x.norm(1.0, Some(&[1]), true).unwrap().shape(), vec![2, 1]);
    let n = x.norm(3.0, Some(&[0, 1]), false).unwrap();
    assert_close(&n.to_vec_f64(), &[4.762203155904598]);
    assert_eq!(
        err(i64s(&[1, 2], &[2]).norm(2.0, None, false)),
        "norm(): input dtype should be either floating point or complex. Got Long instead."
    );
    let f = Tensor::from_vec(vec![1.1f32, 1.3, 1.7, 2.9, 3.1], &[5]).unwrap();
    assert_eq!(
        f.norm(2.0, None, false).unwrap().to_vec_f64(),
        [4.879549026489258]
    );
    assert_eq!(
        f.norm(3.0, Some(&[0]), false).unwrap().to_vec_f64(),
        [3.971062183380127]
    );

    // Subgradients observed from libtorch 2.13.
    for (p, v, want) in [
        (2.0, [0., 0., 0.], Some(vec![0., 0., 0.])),
        (1.0, [0., 0., 0.], Some(vec![0., 0., 0.])),
        (3.0, [0., 0., 0.], Some(vec![0., 0., 0.])),
        (f64::INFINITY, [1., -3., 3.], Some(vec![0., -0.5, 0.5])),
        (
            0.5,
            [0., 1., 2.],
            Some(vec![0., 2.414213562373095, 1.7071067811865472]),
        ),
        // p = 0 has no gradient: the leaf's .grad stays None.
        (0.0, [0., 1., 2.], None),
    ] {
        let z = leaf(&v, &[3]);
        let dims: Option<&[i64]> = if p == 2.0 { None } else { Some(&[0]) };
        z.norm(p, dims, false).unwrap().backward().unwrap();
        match (grad(&z), want) {
            (Some(g), Some(w)) => assert!(close(&g, &w, 1e-12), "p={p}: {g:?}"),
            (g, w) => assert_eq!(g, w, "p={p}"),
        }
    }
}

#[test]
fn norm_gradcheck() {
    let v = [
        0.7, -1.3, 2.1, -0.4, 1.9, -2.6, 0.9, 1.1, -1.7, 0.6, -0.8, 1.4,
    ];
    for p in [1.0, 2.0, 3.0, 1.5, 0.5, f64::INFINITY, -1.0, 4.0] {
        gradcheck(move |x| x[0].norm(p, None, false), &[(&v, &[3, 4])]);
        gradcheck(move |x| x[0].norm(p, Some(&[1]), false), &[(&v, &[3, 4])]);
        gradcheck(move |x| x[0].norm(p, Some(&[0]), true), &[(&v, &[3, 4])]);
    }
}

#[test]
fn prod_values_names_and_gradients_with_zeros() {
    let x = leaf(&[1., 2., 0., 4., 0., 0.], &[2, 3]);
    // Observed from libtorch 2.13.
    let p = x.prod().unwrap();
    assert_eq!(p.to_vec_f64(), [0.0]);
    assert_eq!(name(&p), Some("ProdBackward0"));
    let p = x.prod_dim(1, false).unwrap();
    assert_eq!(name(&p), Some("ProdBackward1"));
    assert_eq!(x.prod_dim(1, true).unwrap().shape(), vec![2, 1]);
    p.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(grad(&x).unwrap(), [0., 0., 2., 0., 0., 0.]);
    let x = leaf(&[2., 3., 0., 5.], &[4]);
    x.prod().unwrap().backward().unwrap();
    assert_eq!(grad(&x).unwrap(), [0., 0., 30., 0.]);
    let x = leaf(&[2., 0., 3., 0.], &[4]);
    x.prod().unwrap().backward().unwrap();
    assert_eq!(grad(&x).unwrap(), [0., 0., 0., 0.]);
    let x = leaf(&[2., 0., 3., 0., 1., 2.], &[2, 3]);
    x.prod_dim(0, false)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(grad(&x).unwrap(), [0., 1., 2., 2., 0., 3.]);
    let x = leaf(&[0., 0., 3., 4.], &[2, 2]);
    x.prod_dim(1, false)
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(grad(&x).unwrap(), [0., 0., 4., 3.]);
    let s = leaf(&[3.], &[]);
    let p = s.prod_dim(0, false).unwrap();
    assert_eq!((p.shape(), name(&p)), (vec![], Some("ProdBackward1")));

    let i = i64s(&[1, 2, 3], &[3]);
    let p = i.prod().unwrap();
    assert_eq!((p.dtype(), p.to_vec_f64()), (DType::I64, vec![6.0]));
    assert_eq!(i.prod_dim(0, false).unwrap().dtype(), DType::I64);
    let b = bools(&[true, false], &[2]).prod().unwrap();
    assert_eq!((b.dtype(), b.to_vec_f64()), (DType::I64, vec![0.0]));
    let e = Tensor::zeros(&[0], DType::F32).unwrap().prod().unwrap();
    assert_eq!(e.to_vec_f64(), [1.0]);
    assert_eq!(
        err(leaf(&[3.], &[1]).prod_dim(1, false)),
        "Dimension out of range (expected to be in range of [-1, 0], but got 1)"
    );
    let f = Tensor::from_vec(vec![1.1f32, 1.3, 1.7, 2.9, 3.1], &[5]).unwrap();
    assert_eq!(f.prod().unwrap().to_vec_f64(), [21.85468864440918]);
}

#[test]
fn prod_gradcheck() {
    let v = [
        0.7, -1.3, 2.1, -0.4, 1.9, -2.6, 0.9, 1.1, -1.7, 0.6, -0.8, 1.4,
    ];
    gradcheck(|x| x[0].prod(), &[(&v, &[3, 4])]);
    gradcheck(|x| x[0].prod_dim(1, false), &[(&v, &[3, 4])]);
    gradcheck(|x| x[0].prod_dim(0, true), &[(&v, &[3, 4])]);
    // With a zero in one row: the safe path (the function is polynomial, so differences hold).
    let z = [
        0.7, 0.0, 2.1, -0.4, 1.9, -2.6, 0.9, 1.1, -1.7, 0.6, -0.8, 1.4,
    ];
    gradcheck(|x| x[0].prod_dim(1, false), &[(&z, &[3, 4])]);
    gradcheck(|x| x[0].prod(), &[(&z, &[3, 4])]);
}

#[test]
fn cumsum_values_dtypes_and_gradient() {
    let x = leaf(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    // Observed from libtorch 2.13.
    let c = x.cumsum(1).unwrap();
    assert_eq!(c.to_vec_f64(), [1., 3., 6., 4., 9., 15.]);
    assert_eq!(name(&c), Some("CumsumBackward0"));
    let i = i64s(&[1, 2, 3], &[3]).cumsum(0).unwrap();
    assert_eq!((i.dtype(), i.to_vec_f64()), (DType::I64, vec![1., 3., 6.]));
    let b = bools(&[true, true], &[2]).cumsum(0).unwrap();
    assert_eq!((b.dtype(), b.to_vec_f64()), (DType::I64, vec![1., 2.]));
    assert_eq!(
        err(x.cumsum(2)),
        "Dimension out of range (expected to be in range of [-2, 1], but got 2)"
    );
    let s = leaf(&[3.], &[]).cumsum(0).unwrap();
    assert_eq!((s.shape(), name(&s)), (vec![], Some("CumsumBackward0")));
    // ATen accumulates float32 in double.
    let f = Tensor::from_vec(vec![1e8f32, 1.0, -1e8], &[3]).unwrap();
    assert_eq!(f.cumsum(0).unwrap().to_vec_f64(), [1e8, 1e8, 1.0]);
    let v = [
        0.7, -1.3, 2.1, -0.4, 1.9, -2.6, 0.9, 1.1, -1.7, 0.6, -0.8, 1.4,
    ];
    gradcheck(|x| x[0].cumsum(1), &[(&v, &[3, 4])]);
    gradcheck(|x| x[0].cumsum(-2), &[(&v, &[3, 4])]);
}

#[test]
fn argmax_and_argmin() {
    let t = leaf(&[1., 3., 3., 0., 3., 1.], &[2, 3]);
    // Observed from libtorch 2.13: ties pick the first index.
    let a = t.argmax(None, false).unwrap();
    assert_eq!(
        (a.dtype(), a.shape(), a.to_vec_f64()),
        (DType::I64, vec![], vec![1.])
    );
    assert_eq!(name(&a), None);
    assert_eq!(t.argmax(Some(1), false).unwrap().to_vec_f64(), [1., 1.]);
    let k = t.argmax(Some(0), true).unwrap();
    assert_eq!((k.shape(), k.to_vec_f64()), (vec![1, 3], vec![0., 0., 0.]));
    assert_eq!(t.argmin(Some(1), false).unwrap().to_vec_f64(), [0., 0.]);
    assert_eq!(t.argmax(None, true).unwrap().shape(), vec![1, 1]);
    let n = Tensor::from_vec(vec![1.0f32, f32::NAN, 5.0], &[3]).unwrap();
    assert_eq!(n.argmax(None, false).unwrap().to_vec_f64(), [1.]);
    assert_eq!(n.argmin(None, false).unwrap().to_vec_f64(), [1.]);
    let s = leaf(&[3.], &[]).argmax(Some(0), true).unwrap();
    assert_eq!((s.shape(), s.to_vec_f64()), (vec![], vec![0.]));
    assert_eq!(
        err(Tensor::zeros(&[0], DType::F32).unwrap().argmax(None, false)),
        "argmax(): Expected reduction dim to be specified for input.numel() == 0."
    );
    assert_eq!(
        err(Tensor::zeros(&[2, 0], DType::F32)
            .unwrap()
            .argmax(Some(1), false)),
        "argmax(): Expected reduction dim 1 to have non-zero size."
    );
    assert_eq!(
        err(bools(&[false, true], &[2]).argmax(None, false)),
        "argmax(): does not support bool input"
    );
    let big = i64s(&[i64::MAX - 1, i64::MAX, 0], &[3]);
    assert_eq!(big.argmax(None, false).unwrap().to_vec_f64(), [1.]);
}
