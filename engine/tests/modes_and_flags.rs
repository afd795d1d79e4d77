//! Issue 3, items 2, 3, 9, 10, 11, 14: propagation, leaves, grad mode, `.data`, `detach`,
//! `requires_grad_`.

use engine::{DType, Error, Tensor, is_grad_enabled, no_grad, set_grad_enabled, with_no_grad};

fn leaf() -> Tensor {
    Tensor::ones(&[2], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap()
}

#[test]
fn propagation_and_leaves() {
    let x = leaf();
    let c = Tensor::ones(&[2], DType::F32).unwrap();
    assert!(x.is_leaf() && x.requires_grad());
    assert!(c.is_leaf() && !c.requires_grad());
    let y = x.mul(&c).unwrap();
    assert!(y.requires_grad() && !y.is_leaf());
    let z = c.mul(&c).unwrap();
    assert!(!z.requires_grad() && z.is_leaf());
}

#[test]
fn grad_mode_guard_closure_and_setter_nest() {
    let x = leaf();
    assert!(is_grad_enabled());
    {
        let _g = no_grad();
        assert!(!is_grad_enabled());
        let y = x.mul(2.0).unwrap();
        assert!(!y.requires_grad() && y.is_leaf());
        {
            let _e = engine::enable_grad();
            assert!(x.mul(2.0).unwrap().requires_grad());
            with_no_grad(|| assert!(!x.mul(2.0).unwrap().requires_grad()));
            assert!(is_grad_enabled());
        }
        assert!(!is_grad_enabled());
    }
    assert!(is_grad_enabled());
    assert!(set_grad_enabled(false));
    assert!(!x.exp().unwrap().requires_grad());
    assert!(!set_grad_enabled(true));
    // Grad mode is per thread.
    let _g = no_grad();
    std::thread::spawn(|| assert!(is_grad_enabled()))
        .join()
        .unwrap();
}

#[test]
fn data_shares_storage_with_fresh_version_counter() {
    let x = leaf();
    let d = x.data();
    assert!(!d.requires_grad() && d.is_leaf() && !d.is_view());
    assert!(d.shares_storage(&x) && !d.shares_version_counter(&x));
    d.add_(1.0).unwrap();
    assert_eq!((x.version(), d.version()), (0, 1));
    assert_eq!(x.to_vec_f64(), vec![2.0, 2.0]);
}

#[test]
fn detach_shares_storage_and_version_counter() {
    let x = leaf();
    let y = x.mul(2.0).unwrap();
    let d = y.detach();
    assert!(!d.requires_grad() && d.is_leaf() && !d.is_view());
    assert!(d.shares_storage(&y) && d.shares_version_counter(&y));
    d.zero_().unwrap();
    assert_eq!((y.version(), d.version()), (1, 1));
    assert_eq!(
        d.sum(None, false).unwrap().backward(),
        Err(Error::NoGradFn(0))
    );
}

#[test]
fn detach_in_place() {
    let x = leaf();
    let y = x.mul(2.0).unwrap();
    y.detach_().unwrap();
    assert!(!y.requires_grad() && y.is_leaf() && y.grad_fn().unwrap().is_none());
    let v = x.mul(2.0).unwrap().narrow(0, 0, 1).unwrap();
    assert!(
        v.detach_()
            .unwrap_err()
            .to_string()
            .starts_with("Can't detach views in-place. Use detach() instead.")
    );
}

#[test]
fn requires_grad_cpp_and_python_semantics() {
    let t = Tensor::ones(&[2], DType::F32).unwrap();
    t.requires_grad_(true).unwrap();
    assert!(t.requires_grad());
    t.requires_grad_(false).unwrap();
    assert!(!t.requires_grad());
    let y = leaf().mul(2.0).unwrap();
    // C++: turning it on for a non-leaf is a no-op; off fails.
    y.requires_grad_(true).unwrap();
    assert_eq!(
        y.requires_grad_(false).unwrap_err().to_string(),
        "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
    );
    // Python's setter: any change on a non-leaf fails.
    assert_eq!(
        y.set_requires_grad(true).unwrap_err().to_string(),
        "you can only change requires_grad flags of leaf variables."
    );
    assert_eq!(
        y.set_requires_grad(false),
        Err(Error::NonLeafRequiresGradOff)
    );
    let i = Tensor::ones(&[2], DType::I64).unwrap();
    assert_eq!(
        i.requires_grad_(true).unwrap_err().to_string(),
        "only Tensors of floating point dtype can require gradients"
    );
}

#[test]
fn freezing_a_leaf_stops_propagation() {
    let w = leaf();
    w.set_requires_grad(false).unwrap();
    let c = Tensor::ones(&[2], DType::F32).unwrap();
    assert!(!w.mul(&c).unwrap().requires_grad());
}

#[test]
fn seed_001_data_times_100_is_not_tracked() {
    // x = ones(1, requires_grad=True); y = 2 * x; x.data *= 100; y.backward()
    // -> x = [100.], x.grad = [2.]
    let x = Tensor::ones(&[1], DType::F32)
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let y = x.mul(2i64).unwrap();
    let d = x.data();
    d.mul_(100i64).unwrap();
    x.set_data(&d).unwrap();
    assert_eq!(x.to_vec_f64(), vec![100.0]);
    assert!(!x.data().requires_grad());
    y.backward().unwrap();
    assert_eq!(x.grad_quiet().unwrap().to_vec_f64(), vec![2.0]);
    assert_eq!(x.version(), 0);
}

// Fuzz regression ff48a2a0: Python torch 2.13 keeps retains_grad True after detach_().
#[test]
fn detach_inplace_keeps_retains_grad() {
    let t1 = Tensor::from_vec(vec![1.0f64], &[])
        .unwrap()
        .with_requires_grad(true)
        .unwrap();
    let t5 = t1.neg().unwrap();
    t5.retain_grad().unwrap();
    t5.detach_().unwrap();
    assert!(t5.retains_grad());
    assert!(!t5.requires_grad());
    assert!(t5.is_leaf());
}
