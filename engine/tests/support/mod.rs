//! Helpers shared by the test files of the statistics, masking, indexing, splitting, einsum,
//! loss and nn groups: f64 leaves and a finite-difference gradient check with
//! `torch.autograd.gradcheck`'s tolerances.
#![allow(dead_code)]

use engine::{Result, Tensor, with_no_grad};

const EPS: f64 = 1e-6;
const ATOL: f64 = 1e-5;
const RTOL: f64 = 1e-3;

/// An f64 leaf that requires grad.
pub fn leaf(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape)
        .unwrap()
        .with_requires_grad(true)
        .unwrap()
}

/// An f64 tensor without grad.
pub fn t64(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape).unwrap()
}

pub fn i64s(v: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape).unwrap()
}

pub fn bools(v: &[bool], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape).unwrap()
}

pub fn grad(t: &Tensor) -> Option<Vec<f64>> {
    t.grad_quiet().map(|g| g.to_vec_f64())
}

pub fn name(t: &Tensor) -> Option<&'static str> {
    t.grad_fn_name().unwrap()
}

pub fn err<T: std::fmt::Debug>(r: Result<T>) -> String {
    r.unwrap_err().to_string()
}

/// Values equal within `tol` (NaN equals NaN, infinities equal by sign).
pub fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(&x, &y)| {
            (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= tol * (1.0 + y.abs())
        })
}

#[track_caller]
pub fn assert_close(a: &[f64], b: &[f64]) {
    assert!(close(a, b, 1e-12), "{a:?} != {b:?}");
}

/// Fixed, non-uniform weights so that every output element matters differently.
fn weights(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|i| 0.5 + (i % 7) as f64 * 0.25).collect(), shape).unwrap()
}

fn loss(op: &dyn Fn(&[Tensor]) -> Result<Tensor>, inputs: &[(Vec<f64>, Vec<usize>)]) -> f64 {
    with_no_grad(|| {
        let xs: Vec<Tensor> = inputs.iter().map(|(v, s)| t64(v, s)).collect();
        let out = op(&xs).unwrap();
        out.mul(weights(&out.shape()))
            .unwrap()
            .sum(None, false)
            .unwrap()
            .to_vec_f64()[0]
    })
}

/// Checks every input's analytic gradient of `sum(op(inputs) * w)` against central finite
/// differences in f64.
#[track_caller]
pub fn gradcheck(op: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[(&[f64], &[usize])]) {
    let inputs: Vec<(Vec<f64>, Vec<usize>)> = inputs
        .iter()
        .map(|(v, s)| (v.to_vec(), s.to_vec()))
        .collect();
    let xs: Vec<Tensor> = inputs.iter().map(|(v, s)| leaf(v, s)).collect();
    let out = op(&xs).unwrap();
    out.mul(weights(&out.shape()))
        .unwrap()
        .sum(None, false)
        .unwrap()
        .backward()
        .unwrap();
    for (k, x) in xs.iter().enumerate() {
        let analytic = grad(x).unwrap_or(vec![0.0; x.numel()]);
        for (j, &a) in analytic.iter().enumerate() {
            let mut p = inputs.clone();
            p[k].0[j] += EPS;
            let mut m = inputs.clone();
            m[k].0[j] -= EPS;
            let numeric = (loss(&op, &p) - loss(&op, &m)) / (2.0 * EPS);
            assert!(
                (a - numeric).abs() <= ATOL + RTOL * numeric.abs(),
                "input {k} element {j}: analytic {a} vs numeric {numeric}"
            );
        }
    }
}
