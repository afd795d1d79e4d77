//! libtorch links and runs at test time. A small graph is built through tch
//! directly, backward runs, and `.grad` is checked against derivatives worked out by hand.

use tch::{Kind, Tensor};

#[test]
fn polynomial_gradient_matches_hand_computed_values() {
    // y = sum(x^2 + 3x)  =>  dy/dx = 2x + 3
    let x = Tensor::from_slice(&[1.0f64, 2.0, 3.0]).set_requires_grad(true);
    let y = (&x * &x + &x * 3.0).sum(Kind::Double);
    y.backward();
    let g: Vec<f64> = Vec::try_from(&x.grad()).unwrap();
    assert_eq!(g, vec![5.0, 7.0, 9.0]);
}

#[test]
fn product_rule_through_two_leaves() {
    // z = sum(a * b)  =>  dz/da = b, dz/db = a
    let a = Tensor::from_slice(&[1.0f64, -2.0]).set_requires_grad(true);
    let b = Tensor::from_slice(&[0.5f64, 4.0]).set_requires_grad(true);
    (&a * &b).sum(Kind::Double).backward();
    assert_eq!(Vec::<f64>::try_from(&a.grad()).unwrap(), vec![0.5, 4.0]);
    assert_eq!(Vec::<f64>::try_from(&b.grad()).unwrap(), vec![1.0, -2.0]);
}

#[test]
fn library_smoke_function() {
    // d/dt[1] sum(t * t) at t = [1, 2] is 2 * 2.
    assert_eq!(harness::backend::libtorch::smoke(), 4.0);
}
