//! Issue 3, items 1, 15, 16, 20: creation, conversions, broadcasting and type promotion, devices.

use engine::{DType, Device, Error, Generator, NestedList, Scalar, Tensor};

#[test]
fn creation_in_every_dtype() {
    assert_eq!(
        Tensor::from_vec(vec![1.5f32, 2.5], &[2]).unwrap().dtype(),
        DType::F32
    );
    assert_eq!(
        Tensor::from_vec(vec![1.5f64], &[1]).unwrap().dtype(),
        DType::F64
    );
    assert_eq!(
        Tensor::from_vec(vec![1i64, 2], &[2]).unwrap().dtype(),
        DType::I64
    );
    assert_eq!(
        Tensor::from_vec(vec![true], &[1]).unwrap().dtype(),
        DType::Bool
    );
    assert_eq!(
        Tensor::zeros(&[2, 2], DType::F64).unwrap().to_vec_f64(),
        vec![0.0; 4]
    );
    assert_eq!(
        Tensor::ones(&[3], DType::I64).unwrap().to_vec_f64(),
        vec![1.0; 3]
    );
    assert_eq!(
        Tensor::full(&[2], 7.5, DType::F32).unwrap().to_vec_f64(),
        vec![7.5; 2]
    );
    // torch.arange(0, 1, 0.3) -> [0.0, 0.3, 0.6, 0.9]
    let a = Tensor::arange(0.0, 1.0, 0.3, DType::F32).unwrap();
    assert_eq!(a.shape(), vec![4]);
    assert!((a.to_vec_f64()[3] - 0.9).abs() < 1e-6);
    assert_eq!(
        Tensor::arange(0.0, 5.0, 2.0, DType::I64)
            .unwrap()
            .to_vec_f64(),
        vec![0.0, 2.0, 4.0]
    );
    assert_eq!(
        Tensor::linspace(0.0, 1.0, 5, DType::F32)
            .unwrap()
            .to_vec_f64(),
        vec![0.0, 0.25, 0.5, 0.75, 1.0]
    );
    assert_eq!(
        Tensor::eye(2, 3, DType::F32).unwrap().to_vec_f64(),
        vec![1., 0., 0., 0., 1., 0.]
    );
    let mut g1 = Generator::new(7);
    let mut g2 = Generator::new(7);
    let r1 = Tensor::randn(&[100], DType::F64, &mut g1)
        .unwrap()
        .to_vec_f64();
    let r2 = Tensor::randn(&[100], DType::F64, &mut g2)
        .unwrap()
        .to_vec_f64();
    assert_eq!(r1, r2, "seeded generators repeat");
    let mean = r1.iter().sum::<f64>() / 100.0;
    assert!(mean.abs() < 0.5);
    let u = Tensor::rand(&[100], DType::F32, &mut g1)
        .unwrap()
        .to_vec_f64();
    assert!(u.iter().all(|&v| (0.0..1.0).contains(&v)));
}

#[test]
fn requires_grad_at_creation() {
    let t = Tensor::ones(&[2], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    assert!(t.requires_grad() && t.is_leaf());
    for d in [DType::I64, DType::Bool] {
        let e = Tensor::ones(&[2], d)
            .unwrap()
            .with_requires_grad(true)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Only Tensors of floating point and complex dtype can require gradients"
        );
    }
}

#[test]
fn item_tolist_ndarray() {
    assert_eq!(
        Tensor::from_vec(vec![3i64], &[1]).unwrap().item().unwrap(),
        Scalar::Int(3)
    );
    assert_eq!(
        Tensor::from_vec(vec![true], &[]).unwrap().item().unwrap(),
        Scalar::Bool(true)
    );
    assert_eq!(
        Tensor::ones(&[3], DType::F32)
            .unwrap()
            .item()
            .unwrap_err()
            .to_string(),
        "a Tensor with 3 elements cannot be converted to Scalar"
    );
    let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    let f = |v: f64| NestedList::Scalar(Scalar::Float(v));
    assert_eq!(
        t.t().unwrap().to_list(),
        NestedList::List(vec![
            NestedList::List(vec![f(1.0), f(3.0)]),
            NestedList::List(vec![f(2.0), f(4.0)])
        ])
    );
    assert_eq!(t.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
    let a = t.t().unwrap().to_ndarray::<f32>().unwrap();
    assert_eq!(a[[0, 1]], 3.0);
    let back = Tensor::from_ndarray(&a).unwrap();
    assert_eq!(back.to_vec_f64(), vec![1.0, 3.0, 2.0, 4.0]);
    let rg = t.with_requires_grad(true).unwrap();
    let e = rg.to_ndarray::<f32>().unwrap_err();
    assert!(e.to_string().contains("requires grad") && e.to_string().contains("detach()"));
    assert!(rg.detach().to_ndarray::<f32>().is_ok());
}

#[test]
fn type_promotion() {
    let i = Tensor::from_vec(vec![1i64, 2], &[2]).unwrap();
    let f = Tensor::ones(&[2], DType::F32).unwrap();
    let d = Tensor::ones(&[2], DType::F64).unwrap();
    assert_eq!(i.mul(2.5).unwrap().dtype(), DType::F32);
    assert_eq!(f.mul(2i64).unwrap().dtype(), DType::F32);
    assert_eq!(f.mul(&d).unwrap().dtype(), DType::F64);
    assert_eq!(i.mul(&i).unwrap().dtype(), DType::I64);
    assert_eq!(i.div(&i).unwrap().dtype(), DType::F32);
    // A 0-dim f64 tensor does not promote a dimensioned f32 tensor...
    let s64 = Tensor::scalar(Scalar::Float(2.0), DType::F64);
    assert_eq!(f.mul(&s64).unwrap().dtype(), DType::F32);
    // ...but a higher category does.
    assert_eq!(i.add(&s64).unwrap().dtype(), DType::F64);
    assert_eq!(i.gt(1i64).unwrap().dtype(), DType::Bool);
    assert_eq!(i.pow(2i64).unwrap().dtype(), DType::I64);
    assert_eq!(i.pow(0.5).unwrap().dtype(), DType::F32);
    assert_eq!(i.exp().unwrap().dtype(), DType::F32);
    assert_eq!(i.sum(None, false).unwrap().dtype(), DType::I64);
    assert_eq!(i.abs().unwrap().dtype(), DType::I64);
    assert_eq!(i.rsub(1i64).unwrap().dtype(), DType::I64);
    assert_eq!(i.pow_scalar_base(2.5).unwrap().dtype(), DType::F32);
    assert_eq!(i.pow(-1i64).unwrap_err(), Error::NegativeIntPower);
    assert!(
        i.mean(None, false)
            .unwrap_err()
            .to_string()
            .starts_with("mean(): could not infer output dtype.")
    );
    assert_eq!(
        Tensor::from_vec(vec![true], &[1])
            .unwrap()
            .neg()
            .unwrap_err(),
        Error::NegBool
    );
}

#[test]
fn broadcasting_forward_and_gradient() {
    let a = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3, 1])
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let b = Tensor::from_vec(vec![10.0f64, 20.0], &[2])
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let c = a.mul(&b).unwrap();
    assert_eq!(c.shape(), vec![3, 2]);
    assert_eq!(c.to_vec_f64(), vec![10., 20., 20., 40., 30., 60.]);
    c.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(a.grad_quiet().unwrap().to_vec_f64(), vec![30.0, 30.0, 30.0]);
    assert_eq!(a.grad_quiet().unwrap().shape(), vec![3, 1]);
    assert_eq!(b.grad_quiet().unwrap().to_vec_f64(), vec![6.0, 6.0]);
    let e = Tensor::ones(&[2], DType::F32)
        .unwrap()
        .add(Tensor::ones(&[3], DType::F32).unwrap())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"
    );
    // f32 leaf times f64 tensor: the f32 leaf's gradient is f32.
    let x = Tensor::ones(&[2], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    x.mul(Tensor::ones(&[2], DType::F64).unwrap())
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(x.grad_quiet().unwrap().dtype(), DType::F32);
}

#[test]
fn devices() {
    assert_eq!(
        Tensor::ones(&[1], DType::F32).unwrap().device(),
        Device::Cpu
    );
    assert!(Device::Cpu.is_available());
    if !cfg!(feature = "cuda") {
        assert!(!Device::Cuda(0).is_available());
        let e = Tensor::ones(&[1], DType::F32)
            .unwrap()
            .to_device(Device::Cuda(0))
            .unwrap_err();
        assert_eq!(e, Error::NoCuda(Device::Cuda(0)));
        assert!(e.to_string().starts_with("no CUDA device"));
    }
}

#[test]
fn tensors_are_send_and_sync() {
    let x = Tensor::ones(&[2], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let y = x.mul(2.0).unwrap();
    let h = std::thread::spawn(move || {
        y.sum(None, false).unwrap().backward().unwrap();
    });
    h.join().unwrap();
    assert_eq!(x.grad_quiet().unwrap().to_vec_f64(), vec![2.0, 2.0]);
}

#[test]
fn bool_subtraction_is_rejected_before_any_cast() {
    // Texts from torch 2.13: b - b, b - 3, 3 - b, f - b, b.sub_(f), f.sub_(True).
    let two = "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.";
    let one = "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.";
    let b = Tensor::from_vec(vec![true, false], &[2]).unwrap();
    let f = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
    assert_eq!(b.sub(&b).unwrap_err().to_string(), two);
    assert_eq!(b.sub(true).unwrap_err().to_string(), two);
    assert_eq!(b.sub(3i64).unwrap_err().to_string(), one);
    assert_eq!(b.rsub(3i64).unwrap_err().to_string(), one);
    assert_eq!(f.rsub(true).unwrap_err().to_string(), one);
    assert_eq!(f.sub(&b).unwrap_err().to_string(), one);
    assert_eq!(f.sub(true).unwrap_err().to_string(), one);
    // In place, libtorch's check wins over "result type Float can't be cast to ... Bool".
    assert_eq!(b.sub_(&f).unwrap_err().to_string(), one);
    assert_eq!(f.sub_(true).unwrap_err().to_string(), one);
    assert_eq!(b.sub_(&b).unwrap_err().to_string(), two);
}

#[test]
fn float_to_int64_of_nan_inf_and_out_of_range_is_int64_min() {
    // torch 2.13 on x86: tensor([nan, inf, -inf, 1e19, -1e19, 9.3e18, -9.2e18, 2.7, -2.7],
    // dtype=float64).to(int64)
    let x = Tensor::from_vec(
        vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e19,
            -1e19,
            9.3e18,
            -9.2e18,
            2.7,
            -2.7,
        ],
        &[9],
    )
    .unwrap();
    let m = i64::MIN;
    let want = vec![m, m, m, m, m, m, -9_200_000_000_000_000_000, 2, -2];
    for src in [x.clone(), x.to_dtype(DType::F32).unwrap()] {
        let want = if src.dtype() == DType::F32 {
            // -9.2e18 rounds to -9200000267938955264 in f32.
            let mut w = want.clone();
            w[6] = -9_200_000_267_938_955_264;
            w
        } else {
            want.clone()
        };
        let y = src.to_dtype(DType::I64).unwrap();
        assert_eq!(y.contiguous_vec::<i64>().unwrap(), want);
    }
}
