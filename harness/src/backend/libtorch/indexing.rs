//! libtorch's arm for the indexing area's calls ([`IndexCall`]): Python's `getitem`/`setitem`
//! with tensors among the items go through the shim's `at::indexing::get_item`/`set_item` (the
//! code `THPVariable_getitem`/`setitem` run, so mixed basic and advanced items place their dims
//! as Python does), and the multi-output views are tch's `split`, `split_with_sizes`, `chunk`
//! and `unbind` (the ATen ops Python's `Tensor.split`/`torch.chunk`/`unbind` call).

use super::ffi::{RawIndices, ShimResult, check, owned, raw_indices, scalar_parts};
use super::{OrFail, R, TorchTensor};
use crate::backend::indexing::{AdvIndex, IndexCall};
use crate::backend::{Operand, Scalar, Value};
use std::ffi::{c_char, c_int};
use tch::Tensor;
use torch_sys::C_tensor;

unsafe extern "C" {
    fn shim_get_item_adv(
        t: *const C_tensor,
        kinds: *const i32,
        a: *const i64,
        b: *const i64,
        c: *const i64,
        has_a: *const u8,
        has_b: *const u8,
        n: usize,
        tensors: *const *const C_tensor,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn shim_set_item_adv(
        t: *const C_tensor,
        kinds: *const i32,
        a: *const i64,
        b: *const i64,
        c: *const i64,
        has_a: *const u8,
        has_b: *const u8,
        n: usize,
        tensors: *const *const C_tensor,
        value: *const C_tensor,
        scalar_kind: c_int,
        f: f64,
        i: i64,
    ) -> *mut c_char;
}

/// The shim's index arrays for `items`, a tensor item as kind 4 naming its slot in the
/// returned pointer list. The pointers borrow `items`.
fn raw(items: &[AdvIndex<TorchTensor>]) -> (RawIndices, Vec<*const C_tensor>) {
    let mut r = raw_indices(&[]);
    let mut tensors = Vec::new();
    for item in items {
        match item {
            AdvIndex::Basic(b) => {
                let one = raw_indices(std::slice::from_ref(b));
                r.kinds.extend(one.kinds);
                r.a.extend(one.a);
                r.b.extend(one.b);
                r.c.extend(one.c);
                r.has_a.extend(one.has_a);
                r.has_b.extend(one.has_b);
            }
            AdvIndex::Tensor(t) => {
                r.kinds.push(4);
                r.a.push(tensors.len() as i64);
                r.b.push(0);
                r.c.push(0);
                r.has_a.push(0);
                r.has_b.push(0);
                tensors.push(t.0.as_ptr());
            }
        }
    }
    (r, tensors)
}

/// `x[items]`, as Python's `__getitem__`.
fn get_item(t: &Tensor, items: &[AdvIndex<TorchTensor>]) -> ShimResult<Tensor> {
    let (r, tensors) = raw(items);
    let mut out = std::ptr::null_mut();
    // SAFETY: every array has `items.len()` entries and the tensor pointers outlive the call.
    check(unsafe {
        shim_get_item_adv(
            t.as_ptr(),
            r.kinds.as_ptr(),
            r.a.as_ptr(),
            r.b.as_ptr(),
            r.c.as_ptr(),
            r.has_a.as_ptr(),
            r.has_b.as_ptr(),
            items.len(),
            tensors.as_ptr(),
            &mut out,
        )
    })?;
    owned(out).ok_or_else(|| "get_item returned no tensor".to_owned())
}

/// `x[items] = value`, as Python's `__setitem__`: a tensor, or a number (`Err` side).
fn set_item(
    t: &Tensor,
    items: &[AdvIndex<TorchTensor>],
    value: Result<&Tensor, Scalar>,
) -> ShimResult<()> {
    let (r, tensors) = raw(items);
    let (vptr, (kind, f, i)) = match value {
        Ok(v) => (v.as_ptr(), (0, 0.0, 0)),
        Err(s) => (std::ptr::null(), scalar_parts(s)),
    };
    // SAFETY: as in `get_item`; `vptr` is NULL or a live tensor.
    check(unsafe {
        shim_set_item_adv(
            t.as_ptr(),
            r.kinds.as_ptr(),
            r.a.as_ptr(),
            r.b.as_ptr(),
            r.c.as_ptr(),
            r.has_a.as_ptr(),
            r.has_b.as_ptr(),
            items.len(),
            tensors.as_ptr(),
            vptr,
            kind,
            f,
            i,
        )
    })
}

fn tuple(xs: Vec<Tensor>) -> Value<TorchTensor> {
    Value::Tuple(
        xs.into_iter()
            .map(|t| Value::Tensor(TorchTensor(t)))
            .collect(),
    )
}

pub(super) fn dispatch(call: IndexCall<TorchTensor>) -> R<Value<TorchTensor>> {
    match call {
        IndexCall::Get { x, items } => {
            let r = get_item(&x.0, &items).or_fail()?;
            Ok(Value::Tensor(TorchTensor(r)))
        }
        IndexCall::Set { x, items, value } => {
            let value = match &value {
                Operand::Tensor(v) => Ok(&v.0),
                Operand::Scalar(s) => Err(*s),
            };
            set_item(&x.0, &items, value).or_fail()?;
            Ok(Value::None)
        }
        IndexCall::Split { x, size, dim } => x.0.f_split(size, dim).map(tuple).or_fail(),
        IndexCall::SplitWithSizes { x, sizes, dim } => {
            x.0.f_split_with_sizes(sizes.as_slice(), dim)
                .map(tuple)
                .or_fail()
        }
        IndexCall::Chunk { x, chunks, dim } => x.0.f_chunk(chunks, dim).map(tuple).or_fail(),
        IndexCall::Unbind { x, dim } => x.0.f_unbind(dim).map(tuple).or_fail(),
    }
}
