//! Device semantics and the CUDA backend.
//!
//! The device-error tests run everywhere. The GPU tests compare CUDA results with the CPU
//! engine's and skip, printing why, when no CUDA device is present (or the `cuda` feature is
//! off).

use engine::{DType, Device, Error, Tensor};

fn t(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_f64(values, shape, DType::F32).unwrap()
}

fn have_gpu() -> bool {
    let ok = Device::Cuda(0).is_available();
    if !ok {
        eprintln!("skipped: no CUDA device (feature `cuda` off, or no driver/device found)");
    }
    ok
}

#[test]
fn cuda_request_without_device_is_typed_error() {
    if Device::Cuda(0).is_available() {
        return;
    }
    let x = t(&[1.0, 2.0], &[2]).with_requires_grad(true).unwrap();
    for r in [x.cuda(), x.to_device(Device::Cuda(0))] {
        let e = r.unwrap_err();
        assert_eq!(e, Error::NoCuda(Device::Cuda(0)));
        assert!(
            e.to_string()
                .starts_with("no CUDA device: cuda:0 was requested")
        );
    }
    // A failed copy leaves the source untouched: no grad_fn, still a leaf.
    assert!(x.is_leaf() && x.grad_fn_name().unwrap().is_none());
    // A device past the last one is refused the same way.
    assert_eq!(
        x.to_device(Device::Cuda(7)).unwrap_err(),
        Error::NoCuda(Device::Cuda(7))
    );
}

#[test]
fn to_own_device_is_the_same_tensor() {
    let x = t(&[1.0, 2.0], &[2]).with_requires_grad(true).unwrap();
    let y = x.to_device(Device::Cpu).unwrap();
    assert!(y.same(&x));
    assert!(x.cpu().unwrap().same(&x));
    assert!(y.grad_fn_name().unwrap().is_none());
}

#[test]
fn device_mismatch_message_is_libtorchs() {
    assert_eq!(
        Error::DeviceMismatch(Device::Cuda(0), Device::Cpu).to_string(),
        "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"
    );
}

#[cfg(feature = "cuda")]
#[test]
fn device_queries_do_not_panic_without_driver() {
    // On a machine without libcuda these must answer, not panic inside cudarc.
    let n = engine::cuda::device_count();
    assert_eq!(
        n > 0,
        engine::cuda::driver_present() && Device::Cuda(0).is_available()
    );
}

// ---------------------------------------------------------------- GPU tests

#[test]
fn gpu_copies_are_differentiable_and_values_round_trip() {
    if !have_gpu() {
        return;
    }
    let x = t(&[1.0, -2.0, 3.0, 4.5], &[2, 2])
        .with_requires_grad(true)
        .unwrap();
    let y = x.cuda().unwrap();
    assert_eq!(y.device(), Device::Cuda(0));
    assert_eq!(y.grad_fn_name().unwrap(), Some("ToCopyBackward0"));
    assert!(!y.is_leaf());
    let z = y.cpu().unwrap();
    assert_eq!(z.grad_fn_name().unwrap(), Some("ToCopyBackward0"));
    assert_eq!(z.to_vec_f64(), x.to_vec_f64());
    // A strided view crosses as its own elements.
    let yt = y.t().unwrap();
    assert_eq!(yt.cpu().unwrap().to_vec_f64(), x.t().unwrap().to_vec_f64());
    z.sum(None, false).unwrap().backward().unwrap();
    assert_eq!(x.grad().unwrap().to_vec_f64(), vec![1.0; 4]);
    assert!(y.item().is_err(), "item() needs one element");
    let one = t(&[2.5], &[]).cuda().unwrap();
    assert_eq!(one.item().unwrap().as_f64(), 2.5);
    let e = y.detach().to_ndarray::<f32>().unwrap_err();
    assert!(
        e.to_string()
            .contains("Use Tensor.cpu() to copy the tensor to host memory first")
    );
}

#[test]
fn gpu_mixing_devices_fails() {
    if !have_gpu() {
        return;
    }
    let a = t(&[1.0, 2.0], &[2]);
    let b = a.cuda().unwrap();
    let e = b.add(&a).unwrap_err();
    assert_eq!(e, Error::DeviceMismatch(Device::Cuda(0), Device::Cpu));
}

#[cfg(feature = "cuda")]
mod kernels_on_gpu {
    //! Storage-level kernels against values computed on the host.
    use super::*;
    use engine::Layout;
    use engine::cuda::{download, ops, upload};
    use engine::storage::CpuStorage;

    fn up(v: &[f32]) -> engine::cuda::CudaStorage {
        upload(&CpuStorage::F32(v.to_vec()), Device::Cuda(0)).unwrap()
    }
    fn host(s: &engine::cuda::CudaStorage) -> Vec<f32> {
        match s.to_cpu().unwrap() {
            CpuStorage::F32(v) => v,
            other => panic!("expected f32, got {other:?}"),
        }
    }
    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-5 * (1.0 + y.abs()), "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn unary_binary_reduce_matmul_match_host() {
        if !have_gpu() {
            return;
        }
        let x: Vec<f32> = vec![0.5, -1.0, 2.0, -3.5, 4.0, 0.0];
        let s = up(&x);
        let l = Layout::contiguous(&[2, 3]);
        for (op, f) in [
            ("exp", f32::exp as fn(f32) -> f32),
            ("neg", |v: f32| -v),
            ("tanh", f32::tanh),
            ("relu", |v: f32| v.max(0.0)),
            ("sigmoid", |v: f32| 1.0 / (1.0 + (-v).exp())),
        ] {
            let out = ops::unary(op, &s, &l).unwrap();
            close(&host(&out), &x.iter().map(|&v| f(v)).collect::<Vec<_>>());
        }
        // Broadcast a [3] row over [2, 3] with a 0 stride.
        let row = up(&[1.0, 2.0, 3.0]);
        let rl = Layout {
            shape: vec![2, 3],
            strides: vec![0, 1],
            offset: 0,
        };
        let sum = ops::binary("add", &s, &l, &row, &rl, &[2, 3]).unwrap();
        close(&host(&sum), &[1.5, 1.0, 5.0, -2.5, 6.0, 3.0]);
        let (r, _) = ops::reduce("sum", &s, &l, &[1]).unwrap();
        close(&host(&r), &[1.5, 0.5]);
        let (m, arg) = ops::reduce("max", &s, &l, &[0]).unwrap();
        close(&host(&m), &[0.5, 4.0, 2.0]);
        assert!(arg.is_some());
        // Transposed view through strided_copy.
        let tl = Layout {
            shape: vec![3, 2],
            strides: vec![1, 3],
            offset: 0,
        };
        match download(&s, &tl).unwrap() {
            CpuStorage::F32(v) => close(&v, &[0.5, -3.5, -1.0, 4.0, 2.0, 0.0]),
            other => panic!("{other:?}"),
        }
        // [2, 3] x [3, 2]
        let w = up(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
        let p = ops::matmul(&s, &w, 2, 3, 2).unwrap();
        close(&host(&p), &[2.5, 1.0, 0.5, 0.5]);
        let sm = ops::softmax(&s, 2, 3, false).unwrap();
        let e: Vec<f32> = x.iter().map(|v| v.exp()).collect();
        let (a, b) = (e[0] + e[1] + e[2], e[3] + e[4] + e[5]);
        close(
            &host(&sm),
            &[e[0] / a, e[1] / a, e[2] / a, e[3] / b, e[4] / b, e[5] / b],
        );
        let c = ops::cast(&s, DType::F64).unwrap();
        assert_eq!(c.dtype(), DType::F64);
    }
}
