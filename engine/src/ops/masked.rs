//! `masked_fill(mask, value)` and `masked_fill_`: a number (`MaskedFillBackward0`) or a 0-dim
//! tensor (`MaskedFillBackward1`, which also differentiates the value) written where a bool
//! mask, broadcast against the tensor, is true.
//!
//! As in ATen, the value is converted to the tensor's dtype (no type promotion), the
//! out-of-place op broadcasts the tensor against the mask and returns a contiguous result, and
//! the in-place op only warns when the target has overlapping elements.

use crate::DType;
use crate::autograd::opt;
use crate::dtype::Scalar;
use crate::error::{Error, Result, Shape};
use crate::layout::broadcast_shapes;
use crate::ops::elementwise::Operand;
use crate::ops::inplace::{Overlap, inplace};
use crate::storage::StorageElem;
use crate::tensor::Tensor;

fn check_value(value: &Operand) -> Result<()> {
    if let Operand::Tensor(v) = value
        && v.ndim() != 0
    {
        return Err(Error::InvalidArgument(format!(
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {} dimension(s).",
            v.ndim()
        )));
    }
    Ok(())
}

fn check_mask(mask: &Tensor) -> Result<()> {
    if mask.dtype() != DType::Bool {
        return Err(Error::MaskDtype {
            dtype: mask.dtype().c_name(),
        });
    }
    Ok(())
}

/// `x` broadcast to `shape`, with `v` where the broadcast mask is true: contiguous, no autograd.
fn fill<T: StorageElem>(x: &Tensor, mask: &Tensor, shape: &[usize], v: T) -> Result<Tensor> {
    let xv = x.expand_raw(shape)?.contiguous_vec::<T>()?;
    let mv = mask.expand_raw(shape)?.contiguous_vec::<bool>()?;
    let out = xv
        .into_iter()
        .zip(mv)
        .map(|(a, m)| if m { v } else { a })
        .collect();
    Tensor::from_vec(out, shape)
}

/// The value as the tensor's dtype would hold it (`value.item()` then a cast, as ATen's kernel
/// converts it; int64 values stay exact).
fn fill_as(x: &Tensor, mask: &Tensor, shape: &[usize], value: Scalar) -> Result<Tensor> {
    match x.dtype() {
        DType::F32 => fill(x, mask, shape, value.as_f64() as f32),
        DType::F64 => fill(x, mask, shape, value.as_f64()),
        DType::I64 => {
            let v = match value {
                Scalar::Int(i) => i,
                Scalar::Bool(b) => b as i64,
                Scalar::Float(f) => f64_to_i64_x86(f),
            };
            fill(x, mask, shape, v)
        }
        DType::Bool => fill(x, mask, shape, value.as_f64() != 0.0),
        // The value as int64 (a float truncates), then wrapped to the narrow width.
        d => {
            let wide = crate::ops::cast(x, DType::I64)?;
            crate::ops::cast(&fill_as(&wide, mask, shape, value)?, d)
        }
    }
}

/// C++'s float-to-int64 conversion on x86 (`cvttsd2si`): NaN and out-of-range values give
/// `INT64_MIN`, where Rust's `as` saturates.
fn f64_to_i64_x86(v: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if v.is_nan() || !(-LIMIT..LIMIT).contains(&v) {
        i64::MIN
    } else {
        v as i64
    }
}

/// The value tensor, if the value is one.
fn value_tensor(value: &Operand) -> Option<Tensor> {
    match value {
        Operand::Scalar(_) => None,
        Operand::Tensor(t) => Some(t.clone()),
    }
}

/// The value as a number (call after [`check_value`]).
fn value_scalar(value: &Operand) -> Result<Scalar> {
    match value {
        Operand::Scalar(s) => Ok(*s),
        Operand::Tensor(t) => t.item(),
    }
}

/// Gradients of `masked_fill`: the incoming gradient with the filled places zeroed for the
/// tensor, and the sum over the filled places for a tensor value.
fn masked_grads(g: &Tensor, mask: &Tensor, value_needs: bool) -> Result<Vec<Option<Tensor>>> {
    let shape = g.shape();
    let zeroed = fill_as(g, mask, &shape, Scalar::Int(0))?;
    let vg = opt(value_needs, || {
        let m = mask.expand_raw(&shape)?;
        m.where_(
            &Operand::Tensor(g.clone()),
            &Operand::Scalar(Scalar::Float(0.0)),
        )?
        .sum(None, false)
    })?;
    Ok(vec![Some(zeroed), vg])
}

impl Tensor {
    /// `masked_fill(mask, value)`: `value` a number (`MaskedFillBackward0`) or a 0-dim tensor
    /// (`MaskedFillBackward1`).
    pub fn masked_fill(&self, mask: &Tensor, value: impl Into<Operand>) -> Result<Tensor> {
        let value = value.into();
        let vt = value_tensor(&value);
        let mut inputs = vec![self];
        inputs.extend(vt.iter());
        crate::autograd::precheck(&inputs)?;
        if inputs.iter().any(|t| t.device().is_cuda()) || mask.device().is_cuda() {
            return Err(Error::NotSupportedOnCuda { op: "masked_fill" });
        }
        // expand_outplace(mask, self) comes first, then masked_fill_'s own checks.
        let shape = broadcast_shapes(&mask.shape(), &self.shape())?;
        check_value(&value)?;
        check_mask(mask)?;
        let out = fill_as(self, mask, &shape, value_scalar(&value)?)?;
        let name = if vt.is_some() {
            "MaskedFillBackward1"
        } else {
            "MaskedFillBackward0"
        };
        if let Some(mut rec) = crate::autograd::Recorder::new(name, &inputs)? {
            let sm = rec.save(mask);
            let value_needs = rec.needs(1);
            rec.finish(&out, move |ctx, g| {
                masked_grads(&g, &ctx.unpack(sm)?, value_needs)
            })?;
        }
        Ok(out)
    }

    /// `masked_fill_(mask, value)`: the mask must broadcast to the tensor's shape.
    pub fn masked_fill_(&self, mask: &Tensor, value: impl Into<Operand>) -> Result<&Self> {
        let value = value.into();
        let vt = value_tensor(&value);
        let name = if vt.is_some() {
            "MaskedFillBackward1"
        } else {
            "MaskedFillBackward0"
        };
        let others: Vec<&Tensor> = vt.iter().collect();
        if self.device().is_cuda() || mask.device().is_cuda() {
            return Err(Error::NotSupportedOnCuda { op: "masked_fill_" });
        }
        if self.layout().has_internal_overlap() {
            crate::warnings::warn(
                "Use of masked_fill_ on expanded tensors is deprecated. Please clone() the tensor before performing this operation. This also applies to advanced indexing e.g. tensor[mask] = scalar",
            );
        }
        let shape = self.shape();
        inplace(
            self,
            &others,
            Overlap::Unchecked,
            name,
            || {
                check_value(&value)?;
                check_mask(mask)?;
                let b = broadcast_shapes(&shape, &mask.shape())?;
                if b != shape {
                    return Err(Error::InplaceBroadcast {
                        output: Shape(shape.clone()),
                        broadcast: Shape(b),
                    });
                }
                fill_as(self, mask, &shape, value_scalar(&value)?)
            },
            |rec| {
                let sm = rec.save(mask);
                let value_needs = rec.needs(1);
                Ok(Box::new(move |ctx, g| {
                    masked_grads(&g, &ctx.unpack(sm)?, value_needs)
                }))
            },
        )?;
        Ok(self)
    }
}
