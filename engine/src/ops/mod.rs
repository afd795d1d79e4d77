//! Every op, its forward kernel and its backward rule side by side. An op's forward asks its
//! inputs' storage to run the kernel ([`crate::storage::Storage`]), so the same op code runs on
//! either backend; the elementwise ops' kernels and rules are rows of [`table`].
//!
//! Ops whose kernels exist for the CPU only read host memory directly (`map1`, `map2`,
//! `with_slice`); they call `cpu_only` first, so that a CUDA input fails with
//! [`Error::NotSupportedOnCuda`] naming the op.

/// Whether a table row's optional clause is there (`table.rs`, `binary_table.rs`); defined
/// before the modules so that both see it.
macro_rules! present {
    () => {
        false
    };
    ($c:literal) => {
        true
    };
}

pub mod advanced_index;
pub mod arith;
pub mod batch_norm;
pub mod binary_table;
pub mod conv;
pub mod einsum;
pub mod elementwise;
pub mod index;
pub mod inplace;
pub mod linalg;
pub mod loss;
pub mod masked;
pub mod nll;
pub mod reduce;
pub mod shape;
pub mod split;
pub mod stats;
pub mod table;

use crate::error::{Error, Result};
use crate::kernel::{BinaryKernel, CompareKernel, UnaryKernel};
use crate::layout::{Layout, broadcast_shapes, contiguous_strides};
use crate::memory_format;
use crate::storage::StorageElem;
use crate::tensor::Tensor;
use crate::{DType, Device};

/// The kernel `U` over `x`, on `x`'s storage; the result's strides follow TensorIterator's
/// (see [`crate::memory_format::iterator_strides`]).
pub(crate) fn unary_kernel<U: UnaryKernel>(x: &Tensor) -> Result<Tensor> {
    let (s, shape, strides) = x.with_storage(|s, l| {
        let st = memory_format::iterator_strides(&l.shape, &[l]);
        s.unary::<U>(l, &st).map(|r| (r, l.shape.clone(), st))
    })?;
    Ok(Tensor::from_new_storage(s, shape, strides))
}

/// The operands of an op on one device: a 0-dim CPU operand (a wrapped Python number) of an
/// op on another device goes there first, as libtorch lets CPU scalars join; operands on two
/// devices otherwise are libtorch's "Expected all tensors to be on the same device".
pub(crate) fn co_locate<const N: usize>(ts: [&Tensor; N]) -> Result<[Tensor; N]> {
    let placed = ts.map(|t| (t.device(), t.ndim()));
    let device = common_device(&placed)?;
    let mut out = ts.map(|t| t.clone());
    for t in &mut out {
        if t.device() != device {
            *t = to_device_raw(t, device)?;
        }
    }
    Ok(out)
}

/// The broadcast shape and TensorIterator's result strides of two operands.
pub(crate) fn broadcast_out(la: &Layout, lb: &Layout) -> Result<(Vec<usize>, Vec<isize>)> {
    let shape = broadcast_shapes(&la.shape, &lb.shape)?;
    let strides = memory_format::iterator_strides(&shape, &[la, lb]);
    Ok((shape, strides))
}

/// The kernel `B` over two same-dtype operands with broadcasting, on their storage.
pub(crate) fn binary_kernel<B: BinaryKernel>(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let [a, b] = co_locate([a, b])?;
    let (la, lb) = (a.layout(), b.layout());
    let (shape, strides) = broadcast_out(&la, &lb)?;
    let s = a.with_storage(|sa, _| {
        b.with_storage(|sb, _| sa.binary::<B>(&la, sb, &lb, &shape, &strides))
    })?;
    Ok(Tensor::from_new_storage(s, shape, strides))
}

/// The comparison `K` over two same-dtype operands with broadcasting: a bool tensor.
pub(crate) fn compare_kernel<K: CompareKernel>(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let [a, b] = co_locate([a, b])?;
    let (la, lb) = (a.layout(), b.layout());
    let (shape, strides) = broadcast_out(&la, &lb)?;
    let s = a.with_storage(|sa, _| {
        b.with_storage(|sb, _| sa.compare::<K>(&la, sb, &lb, &shape, &strides))
    })?;
    Ok(Tensor::from_new_storage(s, shape, strides))
}

/// For ops whose kernels are CPU-only: CPU inputs (and 0-dim CPU operands joining a CUDA
/// op) pass, inputs on two devices fail with libtorch's "Expected all tensors to be on the same
/// device", and CUDA inputs fail with [`Error::NotSupportedOnCuda`] naming `op` (rather than a
/// generic host-access error from deep inside the CPU kernel).
pub(crate) fn cpu_only(op: &'static str, inputs: &[&Tensor]) -> Result<()> {
    if !inputs.iter().any(|t| t.device().is_cuda()) {
        return Ok(());
    }
    let placed: Vec<(Device, usize)> = inputs.iter().map(|t| (t.device(), t.ndim())).collect();
    refuse_cuda(op, &placed)
}

/// The device an op runs on, from its inputs' devices and dims: the one they are all on, a
/// 0-dim CPU tensor joining any device (libtorch's CPU scalars); inputs on two devices fail
/// with libtorch's message, which names the first device and then the first other one.
fn common_device(inputs: &[(Device, usize)]) -> Result<Device> {
    let mut devices = inputs
        .iter()
        .filter(|&&(d, ndim)| !(d == Device::Cpu && ndim == 0))
        .map(|&(d, _)| d);
    let Some(first) = devices.next() else {
        return Ok(Device::Cpu);
    };
    if let Some(other) = devices.find(|&d| d != first) {
        return Err(Error::DeviceMismatch(first, other));
    }
    Ok(first)
}

/// [`cpu_only`]'s decision from the inputs' devices and dims.
fn refuse_cuda(op: &'static str, inputs: &[(Device, usize)]) -> Result<()> {
    match common_device(inputs)? {
        Device::Cpu => Ok(()),
        Device::Cuda(_) => Err(Error::NotSupportedOnCuda { op }),
    }
}

/// Elementwise map of a CPU closure; the result's strides follow TensorIterator's (see
/// [`crate::memory_format::iterator_strides`]).
pub(crate) fn map1<A: StorageElem, O: StorageElem>(
    x: &Tensor,
    f: impl Fn(A) -> O,
) -> Result<Tensor> {
    let (shape, st, out) = x.with_slice(|s: &[A], l| {
        // An empty view may sit at an offset past the end of its (empty) storage.
        let v: Vec<O> = if l.numel() == 0 {
            Vec::new()
        } else if l.is_contiguous() {
            s[l.offset..l.offset + l.numel()]
                .iter()
                .map(|&v| f(v))
                .collect()
        } else {
            l.indices().map(|i| f(s[i])).collect()
        };
        let st = memory_format::iterator_strides(&l.shape, &[l]);
        (l.shape.clone(), st, v)
    })?;
    Tensor::from_vec_strided(out, shape, st)
}

/// Elementwise map of a CPU closure over two tensors with broadcasting; strides as
/// TensorIterator gives them.
pub(crate) fn map2<A: StorageElem, B: StorageElem, O: StorageElem>(
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(A, B) -> O,
) -> Result<Tensor> {
    let (shape, st, out) = a.with_slice(|sa: &[A], la| {
        b.with_slice(|sb: &[B], lb| -> Result<(Vec<usize>, Vec<isize>, Vec<O>)> {
            if la.shape == lb.shape && la.is_contiguous() && lb.is_contiguous() && la.numel() > 0 {
                let n = la.numel();
                let xa = &sa[la.offset..la.offset + n];
                let xb = &sb[lb.offset..lb.offset + n];
                return Ok((
                    la.shape.clone(),
                    contiguous_strides(&la.shape),
                    xa.iter().zip(xb).map(|(&x, &y)| f(x, y)).collect(),
                ));
            }
            let (shape, st) = broadcast_out(la, lb)?;
            let mut v = Vec::with_capacity(shape.iter().product());
            let sta = la.broadcast_strides(&shape);
            let stb = lb.broadcast_strides(&shape);
            crate::layout::for_each2(&shape, &sta, la.offset, &stb, lb.offset, |i, j| {
                v.push(f(sa[i], sb[j]))
            });
            Ok((shape, st, v))
        })
    })???;
    Tensor::from_vec_strided(out, shape, st)
}

/// Dispatches a CPU closure body over the float dtypes: `float_map!(x, "op", |v| v.powf(p))`.
/// CUDA inputs fail with [`Error::NotSupportedOnCuda`] naming the op.
macro_rules! float_map {
    ($x:expr, $op:expr, |$v:ident| $body:expr) => {{
        let x: &$crate::Tensor = $x;
        match x.dtype() {
            _ if x.device().is_cuda() => Err($crate::Error::NotSupportedOnCuda { op: $op }),
            $crate::DType::F32 => $crate::ops::map1::<f32, f32>(x, |$v: f32| $body),
            $crate::DType::F64 => $crate::ops::map1::<f64, f64>(x, |$v: f64| $body),
            d => Err($crate::Error::DtypeNotSupported {
                op: $op,
                dtype: d.scalar_type_name(),
            }),
        }
    }};
}
pub(crate) use float_map;

/// Copy with a dtype conversion (no autograd); the same tensor when the dtype already matches.
pub(crate) fn cast(x: &Tensor, dtype: DType) -> Result<Tensor> {
    if x.dtype() == dtype {
        return Ok(x.clone());
    }
    // `.to(dtype)` allocates with `empty_like(preserve_format)`.
    let (s, shape, st) = x.with_storage(|s, l| {
        let st = memory_format::preserve_strides(l);
        s.cast(l, dtype, &st).map(|r| (r, l.shape.clone(), st))
    })?;
    Ok(Tensor::from_new_storage(s, shape, st))
}

/// A plain contiguous copy (no autograd).
pub(crate) fn copy_raw(x: &Tensor) -> Result<Tensor> {
    copy_strided(x, contiguous_strides(&x.shape()))
}

/// A copy with `strides` (a dense layout for `x`'s shape), no autograd.
pub(crate) fn copy_strided(x: &Tensor, strides: Vec<isize>) -> Result<Tensor> {
    let (s, shape) = x.with_storage(|s, l| s.copy(l, &strides).map(|r| (r, l.shape.clone())))?;
    Ok(Tensor::from_new_storage(s, shape, strides))
}

pub(crate) use crate::layout::split_rows;

/// `t` on `device` without autograd history (a gradient made on the host, such as the seed of
/// `backward()`, going to its input's device).
pub(crate) fn to_device_raw(t: &Tensor, device: Device) -> Result<Tensor> {
    crate::grad_mode::with_no_grad(|| t.to_device(device))
}

pub(crate) fn check_same_device(a: &Tensor, b: &Tensor) -> Result<()> {
    let (da, db) = (a.device(), b.device());
    // libtorch lets a 0-dim CPU tensor join an op on another device (as a CPU scalar).
    let cpu_scalar = |t: &Tensor, other: crate::Device| {
        other.is_cuda() && t.device() == crate::Device::Cpu && t.ndim() == 0
    };
    if da != db && !cpu_scalar(a, db) && !cpu_scalar(b, da) {
        return Err(Error::DeviceMismatch(da, db));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPU: Device = Device::Cpu;
    const GPU: Device = Device::Cuda(0);

    #[test]
    fn host_inputs_pass_whatever_the_op() {
        assert_eq!(refuse_cuda("index_select", &[(CPU, 2), (CPU, 1)]), Ok(()));
        assert_eq!(refuse_cuda("cat", &[]), Ok(()));
    }

    #[test]
    fn cuda_inputs_of_a_cpu_only_op_name_the_op() {
        for op in ["index_select", "clamp", "pow", "cat", "where"] {
            let e = refuse_cuda(op, &[(GPU, 2)]).unwrap_err();
            assert_eq!(e, Error::NotSupportedOnCuda { op });
            assert!(
                e.to_string()
                    .starts_with(&format!("{op}: not supported on CUDA")),
                "{e}"
            );
        }
        // A 0-dim CPU operand joins: still the op's refusal, not a device mismatch.
        assert_eq!(
            refuse_cuda("pow", &[(GPU, 2), (CPU, 0)]),
            Err(Error::NotSupportedOnCuda { op: "pow" })
        );
    }

    #[test]
    fn mixed_devices_fail_with_libtorchs_message_first() {
        let e = refuse_cuda("cat", &[(GPU, 1), (CPU, 1)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"
        );
        assert_eq!(
            refuse_cuda("cat", &[(CPU, 1), (GPU, 1)]),
            Err(Error::DeviceMismatch(CPU, GPU))
        );
        assert_eq!(
            refuse_cuda("cat", &[(GPU, 1), (Device::Cuda(1), 1)]),
            Err(Error::DeviceMismatch(GPU, Device::Cuda(1)))
        );
    }

    #[test]
    fn cpu_scalars_join_the_device_of_the_others() {
        assert_eq!(common_device(&[(CPU, 0), (GPU, 2)]), Ok(GPU));
        assert_eq!(common_device(&[(GPU, 0), (CPU, 0)]), Ok(GPU));
        assert_eq!(common_device(&[(CPU, 0), (CPU, 0)]), Ok(CPU));
        assert_eq!(
            common_device(&[(CPU, 1), (GPU, 0)]),
            Err(Error::DeviceMismatch(CPU, GPU))
        );
    }

    #[test]
    fn host_tensors_are_never_refused() {
        let x = Tensor::from_f64(&[1.0, 2.0], &[2], DType::F32).unwrap();
        let s = Tensor::from_f64(&[3.0], &[], DType::F32).unwrap();
        assert_eq!(cpu_only("where", &[&x, &s]), Ok(()));
    }
}
