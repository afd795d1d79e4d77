//! libtorch 2.13 through tch, plus a C++ shim for what tch lacks.

pub mod ffi;

pub fn smoke() -> f64 {
    let t = tch::Tensor::from_slice(&[1.0f64, 2.0]).set_requires_grad(true);
    let y = (&t * &t).sum(tch::Kind::Double);
    y.backward();
    t.grad().double_value(&[1])
}
