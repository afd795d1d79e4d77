//! The ops table's lowerings of methods that have no backend call of their own (`expand_as`,
//! `view_as`, `x.mT`, `new_ones`, `x % 2`), held against libtorch's own method through tch: a
//! lowering must build the graph libtorch's method builds and raise the error it raises.

use harness::backend::libtorch::{LibtorchBackend, ffi};
use harness::backend::{DType, Failure, TensorObs};
use harness::error_kind::ErrorKind;
use harness::interp::{self, Options};
use tch::{Device, Kind, Tensor};

/// The program run on libtorch through the interpreter: each statement's error, and the last
/// step's observation of every variable.
fn run(src: &str) -> (Vec<Option<Failure>>, Vec<(String, TensorObs)>) {
    let program = harness::program::parse(src).expect("the program parses");
    let run = interp::run(
        &mut LibtorchBackend::new(),
        &program,
        0,
        &Options::default(),
    );
    let errors = run.steps.iter().map(|s| s.error.clone()).collect();
    let last = run.steps.last().expect("the program ran");
    let vars = last
        .vars
        .iter()
        .map(|v| (v.name.clone(), v.obs.clone()))
        .collect();
    (errors, vars)
}

fn var<'a>(vars: &'a [(String, TensorObs)], name: &str) -> &'a TensorObs {
    &vars
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no variable {name}"))
        .1
}

fn leaf(values: &[f32], shape: &[i64]) -> Tensor {
    Tensor::from_slice(values)
        .reshape(shape)
        .set_requires_grad(true)
}

fn grad_fn(t: &Tensor) -> Option<String> {
    ffi::grad_fn_name(t).expect("grad_fn reads")
}

#[test]
fn expand_as_records_libtorchs_expand_as_graph() {
    let x = leaf(&[1.0, 2.0], &[2, 1]);
    let y = x
        .f_expand_as(&Tensor::zeros([2, 3], (Kind::Float, Device::Cpu)))
        .unwrap();
    let (errors, vars) = run(
        "x = torch.tensor([[1.0], [2.0]], requires_grad=True)\ny = x.expand_as(torch.zeros(2, 3))\n",
    );
    assert!(errors.iter().all(Option::is_none), "{errors:?}");
    let obs = var(&vars, "y");
    assert_eq!(obs.grad_fn, grad_fn(&y));
    assert_eq!(obs.grad_fn.as_deref(), Some("ExpandBackward0"));
    assert_eq!(obs.is_view, ffi::flags(&y).unwrap().is_view);
    assert_eq!(obs.data.shape, vec![2, 3]);
}

#[test]
fn view_as_records_libtorchs_view_as_graph() {
    let x = leaf(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let y = x
        .f_view_as(&Tensor::zeros([3, 2], (Kind::Float, Device::Cpu)))
        .unwrap();
    let (errors, vars) = run(
        "x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)\n\
         y = x.view_as(torch.zeros(3, 2))\n",
    );
    assert!(errors.iter().all(Option::is_none), "{errors:?}");
    let obs = var(&vars, "y");
    assert_eq!(obs.grad_fn, grad_fn(&y));
    assert_eq!(obs.grad_fn.as_deref(), Some("ViewBackward0"));
    assert_eq!(obs.is_view, ffi::flags(&y).unwrap().is_view);
}

#[test]
fn m_t_records_libtorchs_graph_and_raises_its_error() {
    let x = leaf(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1, 2, 3]);
    let y = x.f_mt().unwrap();
    let (errors, vars) = run(
        "x = torch.tensor([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]], requires_grad=True)\n\
         y = x.mT\n\
         v = torch.ones(3).mT\n",
    );
    let obs = var(&vars, "y");
    assert_eq!(obs.grad_fn, grad_fn(&y));
    assert_eq!(obs.grad_fn.as_deref(), Some("TransposeBackward0"));
    assert_eq!(obs.data.shape, vec![1, 3, 2]);
    let libtorch = match Tensor::ones([3], (Kind::Float, Device::Cpu)).f_mt() {
        Err(tch::TchError::Torch(m)) => harness::classify::strip_backtrace(&m).to_owned(),
        other => panic!("libtorch's mT of a vector did not fail: {other:?}"),
    };
    let ours = errors[2].as_ref().expect("the vector's mT fails");
    assert_eq!(ours.message, libtorch);
    assert_eq!(ours.kind, ErrorKind::InvalidArgument);
}

#[test]
fn new_ones_follows_libtorchs_new_ones() {
    let x = Tensor::from_slice(&[1.0f64, 2.0]).set_requires_grad(true);
    let y = x.f_new_ones([2, 3], (Kind::Double, Device::Cpu)).unwrap();
    let (errors, vars) = run(
        "x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)\n\
         y = x.new_ones(2, 3)\n",
    );
    assert!(errors.iter().all(Option::is_none), "{errors:?}");
    let obs = var(&vars, "y");
    let flags = ffi::flags(&y).unwrap();
    assert_eq!(obs.data.dtype, DType::F64);
    assert_eq!(y.kind(), Kind::Double);
    assert_eq!(
        (obs.requires_grad, obs.is_leaf),
        (flags.requires_grad, flags.is_leaf)
    );
    assert_eq!(obs.grad_fn, grad_fn(&y));
}

#[test]
fn remainder_by_a_number_is_the_scalar_overload() {
    let x = leaf(&[7.0, -7.0], &[2]);
    let by_number = x.f_remainder(2).unwrap();
    let by_tensor = x
        .f_remainder_tensor(&Tensor::from_slice(&[2.0f32, 2.0]))
        .unwrap();
    let (errors, vars) = run("x = torch.tensor([7.0, -7.0], requires_grad=True)\n\
         s = x % 2\n\
         t = x % torch.tensor([2.0, 2.0])\n");
    assert!(errors.iter().all(Option::is_none), "{errors:?}");
    assert_eq!(var(&vars, "s").grad_fn, grad_fn(&by_number));
    assert_eq!(var(&vars, "t").grad_fn, grad_fn(&by_tensor));
    assert_ne!(var(&vars, "s").grad_fn, var(&vars, "t").grad_fn);
    assert_eq!(var(&vars, "s").data.values, vec![1.0, 1.0]);
}
