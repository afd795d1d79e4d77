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

/// The refusal of an op without a CUDA kernel names the op, not a generic host access.
#[test]
fn not_supported_on_cuda_names_the_op() {
    let e = Error::NotSupportedOnCuda { op: "index_select" };
    assert_eq!(
        e.to_string(),
        "index_select: not supported on CUDA by this engine (no CUDA kernel); move the tensors to the CPU with .cpu() first"
    );
}

// ------------------------------------------------- routed ops: CUDA against the CPU engine

/// A leaf on `device` holding `values` (f64, so that the comparison is tight).
fn leaf(values: &[f64], shape: &[usize], device: Device) -> Tensor {
    Tensor::from_f64(values, shape, DType::F64)
        .and_then(|t| t.to_device(device))
        .and_then(|t| t.with_requires_grad(true))
        .unwrap()
}

fn host_values(t: &Tensor) -> Vec<f64> {
    t.detach().cpu().unwrap().to_vec_f64()
}

fn assert_close(what: &str, a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (x, y) in a.iter().zip(b) {
        let ok = (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-9 * (1.0 + y.abs());
        assert!(ok, "{what}: cuda {a:?} vs cpu {b:?}");
    }
}

/// Runs `f` on CPU leaves and on CUDA leaves of the same values, backpropagates the sum of the
/// result, and compares result values, grad_fn names and every input's gradient.
fn same_on_both(
    name: &str,
    inputs: &[(&[f64], &[usize])],
    f: impl Fn(&[Tensor]) -> engine::Result<Tensor>,
) {
    let run = |device: Device| {
        let xs: Vec<Tensor> = inputs.iter().map(|(v, s)| leaf(v, s, device)).collect();
        let y = f(&xs).unwrap_or_else(|e| panic!("{name} on {device}: {e}"));
        assert_eq!(y.device(), device, "{name}: result device");
        let grad_fn = y.grad_fn_name().unwrap().map(str::to_string);
        y.sum(None, false)
            .and_then(|s| s.backward())
            .unwrap_or_else(|e| panic!("{name} backward on {device}: {e}"));
        let grads: Vec<Vec<f64>> = xs
            .iter()
            .map(|x| x.grad().map(|g| host_values(&g)).unwrap_or_default())
            .collect();
        (host_values(&y), y.shape(), grad_fn, grads)
    };
    let (cv, cs, cf, cg) = run(Device::Cpu);
    let (gv, gs, gf, gg) = run(Device::Cuda(0));
    assert_eq!(gs, cs, "{name}: shape");
    assert_eq!(gf, cf, "{name}: grad_fn");
    assert_close(&format!("{name}: values"), &gv, &cv);
    for (i, (g, c)) in gg.iter().zip(&cg).enumerate() {
        assert_close(&format!("{name}: grad of input {i}"), g, c);
    }
}

const X: &[f64] = &[0.5, -1.25, 2.0, 0.75, -0.1, 3.0];
const POS: &[f64] = &[0.5, 1.25, 2.0, 0.75, 0.1, 3.0];
const S23: &[usize] = &[2, 3];

#[test]
fn gpu_unary_ops_match_the_cpu() {
    if !have_gpu() {
        return;
    }
    type Op = fn(&Tensor) -> engine::Result<Tensor>;
    let ops: [(&str, &[f64], Op); 14] = [
        ("neg", X, |x| x.neg()),
        ("exp", X, |x| x.exp()),
        ("log", POS, |x| x.log()),
        ("sqrt", POS, |x| x.sqrt()),
        ("sin", X, |x| x.sin()),
        ("cos", X, |x| x.cos()),
        ("tanh", X, |x| x.tanh()),
        ("sigmoid", X, |x| x.sigmoid()),
        ("reciprocal", X, |x| x.reciprocal()),
        ("abs", X, |x| x.abs()),
        ("relu", X, |x| x.relu()),
        ("transposed exp", X, |x| x.t()?.exp()),
        ("sgn", X, |x| x.sgn()),
        ("in-place tanh of a copy", X, |x| x.mul(1.0)?.tanh_()),
    ];
    for (name, v, op) in ops {
        same_on_both(name, &[(v, S23)], |xs| op(&xs[0]));
    }
}

#[test]
fn gpu_binary_ops_broadcast_and_scalars_match_the_cpu() {
    if !have_gpu() {
        return;
    }
    let row: &[f64] = &[2.0, -0.5, 4.0];
    type Op = fn(&Tensor, &Tensor) -> engine::Result<Tensor>;
    let ops: [(&str, Op); 6] = [
        ("add", |a, b| a.add(b)),
        ("sub", |a, b| a.sub(b)),
        ("mul", |a, b| a.mul(b)),
        ("div", |a, b| a.div(b)),
        ("add scalar", |a, _| a.add(2.5)),
        ("rsub scalar", |a, b| a.rsub(1.0)?.mul(b)),
    ];
    for (name, op) in ops {
        same_on_both(name, &[(X, S23), (row, &[3])], |xs| op(&xs[0], &xs[1]));
    }
}

#[test]
fn gpu_reductions_softmax_and_products_match_the_cpu() {
    if !have_gpu() {
        return;
    }
    same_on_both("sum(dim)", &[(X, S23)], |xs| xs[0].sum(Some(&[1]), true));
    same_on_both("mean", &[(X, S23)], |xs| xs[0].mean(None, false));
    same_on_both("softmax(0)", &[(X, S23)], |xs| xs[0].softmax(0));
    same_on_both("log_softmax(1)", &[(X, S23)], |xs| xs[0].log_softmax(1));
    let w: &[f64] = &[1.0, 0.5, -0.5, 2.0, 0.25, -1.0];
    same_on_both("mm", &[(X, S23), (w, &[3, 2])], |xs| xs[0].mm(&xs[1]));
    same_on_both("matmul of a transpose", &[(X, S23), (w, &[2, 3])], |xs| {
        xs[0].matmul(&xs[1].t()?)
    });
    same_on_both("bmm", &[(X, &[1, 2, 3]), (w, &[1, 3, 2])], |xs| {
        xs[0].bmm(&xs[1])
    });
    same_on_both(
        "linear",
        &[(X, S23), (w, &[2, 3]), (&[0.5, -0.5], &[2])],
        |xs| xs[0].linear(&xs[1], Some(&xs[2])),
    );
    same_on_both("mse_loss", &[(X, S23), (POS, S23)], |xs| {
        xs[0].mse_loss(&xs[1], engine::Reduction::Mean)
    });
    same_on_both("to float32", &[(X, S23)], |xs| xs[0].to_dtype(DType::F32));
    same_on_both("clamp", &[(X, S23)], |xs| {
        xs[0].clamp(
            Some(engine::Scalar::Float(-0.5)),
            Some(engine::Scalar::Float(2.0)),
        )
    });
    same_on_both("where of maximum", &[(X, S23), (POS, S23)], |xs| {
        xs[0].maximum(&xs[1])?.mul(&xs[0].gt(0.0)?)
    });
    // max()'s backward selects with `where`.
    same_on_both("max", &[(X, S23)], |xs| xs[0].max_all());
    same_on_both("clone", &[(X, S23)], |xs| xs[0].t()?.clone_tensor());
}

#[test]
fn gpu_conv2d_matches_the_cpu() {
    if !have_gpu() {
        return;
    }
    let vals = |n: usize, k: f64| -> Vec<f64> { (0..n).map(|i| ((i as f64) * k).sin()).collect() };
    let (x, w, b) = (
        vals(2 * 2 * 5 * 6, 0.7),
        vals(3 * 2 * 3 * 2, 1.3),
        vals(3, 2.1),
    );
    let opts = engine::ops::linalg::Conv2dOptions {
        stride: [2, 1],
        padding: [1, 2],
        dilation: [1, 2],
        groups: 1,
    };
    same_on_both(
        "conv2d",
        &[(&x, &[2, 2, 5, 6]), (&w, &[3, 2, 3, 2]), (&b, &[3])],
        |xs| xs[0].conv2d(&xs[1], Some(&xs[2]), opts),
    );
    same_on_both(
        "conv2d without bias",
        &[(&x, &[2, 2, 5, 6]), (&w, &[3, 2, 3, 2])],
        |xs| xs[0].conv2d(&xs[1], None, Default::default()),
    );
}

#[test]
fn gpu_inplace_writes_bump_versions_like_the_cpu() {
    if !have_gpu() {
        return;
    }
    same_on_both("add_ and mul_", &[(X, S23)], |xs| {
        let y = xs[0].mul(2.0)?;
        y.add_(1.0)?;
        y.mul_(&xs[0])?;
        assert_eq!(y.version(), 2);
        Ok(y)
    });
    let z = Tensor::from_f64(X, S23, DType::F64)
        .and_then(|t| t.cuda())
        .unwrap();
    z.fill_(3.0).unwrap();
    z.t().unwrap().select(0, 1).unwrap().zero_().unwrap();
    assert_eq!(host_values(&z), vec![3.0, 0.0, 3.0, 3.0, 0.0, 3.0]);
    assert_eq!(z.version(), 2);
}

#[test]
fn gpu_ops_without_a_kernel_fail_naming_the_op() {
    if !have_gpu() {
        return;
    }
    let x = Tensor::from_f64(&[1.0; 16], &[1, 1, 4, 4], DType::F32)
        .and_then(|t| t.cuda())
        .unwrap();
    let w = Tensor::from_f64(&[1.0; 4], &[2, 1, 1, 2], DType::F32)
        .and_then(|t| t.cuda())
        .unwrap();
    // Grouped convolutions have no im2col kernel yet.
    let opts = engine::ops::linalg::Conv2dOptions {
        groups: 2,
        ..Default::default()
    };
    let x2 = Tensor::from_f64(&[1.0; 32], &[1, 2, 4, 4], DType::F32)
        .and_then(|t| t.cuda())
        .unwrap();
    let e = x2.conv2d(&w, None, opts).unwrap_err();
    assert_eq!(e, Error::NotSupportedOnCuda { op: "conv2d" });
    // clamp has a float kernel only.
    let i = Tensor::from_f64(&[1.0, -2.0], &[2], DType::I64)
        .and_then(|t| t.cuda())
        .unwrap();
    let e = i.clamp(Some(engine::Scalar::Int(0)), None).unwrap_err();
    assert_eq!(e, Error::NotSupportedOnCuda { op: "clamp" });
    let e = Tensor::cat(&[x.clone(), x], 0).unwrap_err();
    assert_eq!(e, Error::NotSupportedOnCuda { op: "cat" });
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
            let same = x.is_nan() && y.is_nan() || (x - y).abs() <= 1e-5 * (1.0 + y.abs());
            assert!(same, "{a:?} vs {b:?}");
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
        for row in engine::ops::table::UNARY_ROWS {
            let module = (row.name, row.cuda);
            let out = ops::unary(module, &format!("{}_f32", row.name), &s, &l).unwrap();
            let want: Vec<f32> = x.iter().map(|&v| (row.f64)(v as f64) as f32).collect();
            close(&host(&out), &want);
        }
        // Broadcast a [3] row over [2, 3] with a 0 stride.
        let row = up(&[1.0, 2.0, 3.0]);
        let rl = Layout {
            shape: vec![2, 3],
            strides: vec![0, 1],
            offset: 0,
        };
        let add = engine::ops::table::BINARY_ROWS
            .iter()
            .find(|r| r.name == "add")
            .map(|r| (r.name, r.cuda))
            .unwrap();
        let sum = ops::binary(add, "add_f32", DType::F32, &s, &l, &row, &rl).unwrap();
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

    #[test]
    fn index_select_and_its_scatter_add_match_host() {
        if !have_gpu() {
            return;
        }
        // [2, 3] viewed as [outer 2, dim 3, inner 1]; rows 2, -3 (= 0) and 2 again.
        let s = up(&[0.5, -1.0, 2.0, -3.5, 4.0, 0.0]);
        let idx = [2i64, -3, 2];
        let sel = ops::index_select(&s, (2, 3, 1), &idx, 1).unwrap();
        close(&host(&sel), &[2.0, 0.5, 2.0, 0.0, -3.5, 0.0]);
        let g = up(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let back = ops::index_add(&g, (2, 3, 1), &idx, 1).unwrap();
        // Row 2 was picked twice: its gradients add up.
        close(&host(&back), &[2.0, 0.0, 4.0, 5.0, 0.0, 10.0]);
        let e = ops::index_select(&s, (2, 3, 1), &[3], 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "index 3 is out of bounds for dimension 1 with size 3"
        );
    }
}
