//! More elementwise arithmetic with libtorch's names and rules: one-sided clamps
//! (`ClampMinBackward0`, `ClampMaxBackward0`, and in place), `add`/`sub` with `alpha`
//! (still `AddBackward0`/`SubBackward0`), `floor_divide` (a `NotImplemented` node: libtorch has
//! no derivative for it and fails in backward) and `remainder` with Python's sign convention
//! (`RemainderBackward0` for a number, `RemainderBackward1` for a tensor).
//!
//! Floating-point kernels compute in the result dtype with ATen's formulas
//! (`div_floor_floating`, `remainder` in `BinaryOpsKernel.cpp`), so float32 rounds as there.

use crate::autograd::{Recorder, opt};
use crate::dtype::{Scalar, promote_tensors, promote_with_scalar};
use crate::error::{Error, Result};
use crate::ops::elementwise::Operand;
use crate::ops::inplace::{Overlap, inplace_with_meta};
use crate::tensor::Tensor;
use crate::{DType, with_no_grad};
use num_traits::Float;

/// The other operand as a tensor (a number wrapped as a 0-dim tensor) and the dtype the op
/// computes in, by PyTorch's promotion rules.
fn promote(a: &Tensor, b: Operand) -> Result<(Tensor, DType)> {
    Ok(match b {
        Operand::Tensor(t) => {
            if a.device() != t.device() && t.ndim() != 0 && a.ndim() != 0 {
                return Err(Error::DeviceMismatch(a.device(), t.device()));
            }
            let d = promote_tensors(a.dtype(), a.ndim(), t.dtype(), t.ndim());
            (t, d)
        }
        Operand::Scalar(s) => {
            let d = promote_with_scalar(a.dtype(), s);
            (Tensor::scalar(s, d), d)
        }
    })
}

fn cpu_only(op: &'static str, ts: &[&Tensor]) -> Result<()> {
    if ts.iter().any(|t| t.device().is_cuda()) {
        return Err(Error::NotSupportedOnCuda { op });
    }
    Ok(())
}

/// `t` as `dtype`, without history.
fn as_dtype(t: &Tensor, dtype: DType) -> Result<Tensor> {
    with_no_grad(|| t.to_dtype(dtype))
}

/// Broadcast elementwise kernel over two tensors of one dtype `T`.
fn zip<T: crate::storage::StorageElem, O: crate::storage::StorageElem>(
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(T, T) -> Result<O>,
) -> Result<Tensor> {
    // The output is laid out as TensorIterator lays it out (a permuted input gives a permuted
    // result), which `is_contiguous`, `view` and `reshape` observe.
    let (shape, strides) = crate::ops::broadcast_out(&a.layout(), &b.layout())?;
    let av = a.expand_raw(&shape)?.contiguous_vec::<T>()?;
    let bv = b.expand_raw(&shape)?.contiguous_vec::<T>()?;
    let out = av
        .into_iter()
        .zip(bv)
        .map(|(x, y)| f(x, y))
        .collect::<Result<Vec<O>>>()?;
    let out = Tensor::from_vec(out, &shape)?;
    if strides == crate::layout::contiguous_strides(&shape) {
        return Ok(out);
    }
    crate::ops::copy_strided(&out, strides)
}

/// ATen's `div_floor_floating`: Python's `//`, with IEEE results for a zero divisor.
fn div_floor<T: Float>(a: T, b: T) -> T {
    if b == T::zero() {
        return a / b;
    }
    let m = a % b;
    let mut div = (a - m) / b;
    if m != T::zero() && (b < T::zero()) != (m < T::zero()) {
        div = div - T::one();
    }
    if div != T::zero() {
        let f = div.floor();
        if div - f > T::from(0.5).unwrap_or(T::zero()) {
            f + T::one()
        } else {
            f
        }
    } else {
        T::zero().copysign(a / b)
    }
}

/// ATen's `div_floor_integer`.
fn div_floor_int(a: i64, b: i64) -> Result<i64> {
    if b == 0 {
        return Err(Error::ZeroDivision);
    }
    let q = a.wrapping_div(b);
    if (a < 0) != (b < 0) && a.wrapping_rem(b) != 0 {
        return Ok(q - 1);
    }
    Ok(q)
}

/// Python's `%` for floats: `fmod` moved to the divisor's sign.
fn rem_float<T: Float>(a: T, b: T) -> T {
    let m = a % b;
    if m != T::zero() && (b < T::zero()) != (m < T::zero()) {
        m + b
    } else {
        m
    }
}

fn rem_int(a: i64, b: i64) -> Result<i64> {
    if b == 0 {
        return Err(Error::ZeroDivision);
    }
    let r = a.wrapping_rem(b);
    Ok(if r != 0 && (r < 0) != (b < 0) {
        r + b
    } else {
        r
    })
}

/// `floor_divide` of two tensors already cast to `dt`.
fn floor_div_kernel(a: &Tensor, b: &Tensor, dt: DType) -> Result<Tensor> {
    match dt {
        DType::F32 => zip::<f32, f32>(a, b, |x, y| Ok(div_floor(x, y))),
        DType::F64 => zip::<f64, f64>(a, b, |x, y| Ok(div_floor(x, y))),
        DType::I64 => zip::<i64, i64>(a, b, div_floor_int),
        // The narrow integers divide in int64 and wrap back ((-128) // -1 is -128 in int8).
        d @ (DType::I8 | DType::I16 | DType::I32) => {
            let (a, b) = (as_dtype(a, DType::I64)?, as_dtype(b, DType::I64)?);
            as_dtype(&floor_div_kernel(&a, &b, DType::I64)?, d)
        }
        // The iterator's broadcast check comes before the kernel's dtype refusal.
        DType::Bool => {
            crate::layout::broadcast_shapes(&a.shape(), &b.shape())?;
            Err(Error::DtypeNotSupported {
                op: "div_floor_cpu",
                dtype: "Bool",
            })
        }
    }
}

/// `alpha_check` of ATen's `add`/`sub`, on the computation dtype.
fn alpha_check(dt: DType, alpha: Scalar) -> Result<()> {
    if matches!(alpha, Scalar::Bool(_)) && dt != DType::Bool {
        return Err(Error::InvalidArgument(
            "Boolean alpha only supported for Boolean results.".into(),
        ));
    }
    if !dt.is_float() && matches!(alpha, Scalar::Float(_)) {
        return Err(Error::InvalidArgument(
            "For integral input tensors, argument alpha must not be a floating point number."
                .into(),
        ));
    }
    Ok(())
}

fn is_one(alpha: Scalar) -> bool {
    match alpha {
        Scalar::Float(f) => f == 1.0,
        Scalar::Int(i) => i == 1,
        Scalar::Bool(b) => b,
    }
}

impl Tensor {
    // ------------------------------------------------------------------ one-sided clamps

    /// `clamp_min(min)` (`ClampMinBackward0`): the gradient passes where `self >= min`.
    pub fn clamp_min(&self, min: impl Into<Scalar>) -> Result<Tensor> {
        self.clamp_side(min.into(), true)
    }

    /// `clamp_max(max)` (`ClampMaxBackward0`): the gradient passes where `self <= max`.
    pub fn clamp_max(&self, max: impl Into<Scalar>) -> Result<Tensor> {
        self.clamp_side(max.into(), false)
    }

    fn clamp_side(&self, v: Scalar, is_min: bool) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        let (lo, hi) = if is_min {
            (Some(v), None)
        } else {
            (None, Some(v))
        };
        let out = with_no_grad(|| self.clamp(lo, hi))?;
        let name = if is_min {
            "ClampMinBackward0"
        } else {
            "ClampMaxBackward0"
        };
        if let Some(mut rec) = Recorder::new(name, &[self])? {
            let sx = rec.save(self);
            rec.finish(&out, move |ctx, g| {
                Ok(vec![Some(clamp_side_grad(
                    &g,
                    &ctx.unpack(sx)?,
                    v,
                    is_min,
                )?)])
            })?;
        }
        Ok(out)
    }

    /// `clamp_min_(min)` (`ClampMinBackward0`).
    pub fn clamp_min_(&self, min: impl Into<Scalar>) -> Result<&Self> {
        self.clamp_side_(min.into(), true)
    }

    /// `clamp_max_(max)` (`ClampMaxBackward0`).
    pub fn clamp_max_(&self, max: impl Into<Scalar>) -> Result<&Self> {
        self.clamp_side_(max.into(), false)
    }

    fn clamp_side_(&self, v: Scalar, is_min: bool) -> Result<&Self> {
        // The structured meta function refuses a promoting in-place clamp of an integer
        // tensor, naming the output by its C type.
        let meta = || {
            let dt = promote_with_scalar(self.dtype(), v);
            if !self.dtype().is_float() && dt != self.dtype() {
                return Err(Error::CastInplace {
                    result: dt.scalar_type_name(),
                    output: self.dtype().c_name(),
                });
            }
            Ok(())
        };
        let (lo, hi) = if is_min {
            (Some(v), None)
        } else {
            (None, Some(v))
        };
        let name = if is_min {
            "ClampMinBackward0"
        } else {
            "ClampMaxBackward0"
        };
        inplace_with_meta(
            self,
            &[],
            Overlap::Checked(&[]),
            name,
            meta,
            || self.clamp(lo, hi),
            |rec| {
                let ss = rec.save_original_self(self)?;
                Ok(Box::new(move |ctx, g| {
                    Ok(vec![Some(clamp_side_grad(
                        &g,
                        &ctx.unpack(ss)?,
                        v,
                        is_min,
                    )?)])
                }))
            },
        )?;
        Ok(self)
    }

    // ------------------------------------------------------------------ add/sub with alpha

    /// `torch.add(self, other, alpha=alpha)`: `self + alpha * other` (`AddBackward0`; the
    /// other operand's gradient is `grad * alpha`).
    pub fn add_scaled(
        &self,
        other: impl Into<Operand>,
        alpha: impl Into<Scalar>,
    ) -> Result<Tensor> {
        self.add_sub_scaled(other.into(), alpha.into(), false)
    }

    /// `torch.sub(self, other, alpha=alpha)`: `self - alpha * other` (`SubBackward0`).
    pub fn sub_scaled(
        &self,
        other: impl Into<Operand>,
        alpha: impl Into<Scalar>,
    ) -> Result<Tensor> {
        self.add_sub_scaled(other.into(), alpha.into(), true)
    }

    fn add_sub_scaled(&self, other: Operand, alpha: Scalar, sub: bool) -> Result<Tensor> {
        let other_bool = crate::ops::elementwise::operand_is_bool(&other);
        let (b, dt) = promote(self, other)?;
        crate::autograd::precheck(&[self, &b])?;
        if sub {
            crate::ops::elementwise::sub_check(self.dtype() == DType::Bool, other_bool)?;
        }
        alpha_check(dt, alpha)?;
        let out = with_no_grad(|| -> Result<Tensor> {
            let (x, y) = (as_dtype(self, dt)?, as_dtype(&b, dt)?);
            if dt == DType::Bool {
                // alpha is a bool here: `self || (alpha && other)`.
                return if is_one(alpha) {
                    x.add(&y)
                } else {
                    x.add(false)
                };
            }
            // ATen's add kernel is `self + alpha * other` as one fused multiply-add
            // (`vec::fmadd(other, alpha, self)`); sub adds `-alpha * other`.
            let a = if sub { -alpha.as_f64() } else { alpha.as_f64() };
            match dt {
                DType::F32 => zip::<f32, f32>(&x, &y, |p, q| Ok(q.mul_add(a as f32, p))),
                DType::F64 => zip::<f64, f64>(&x, &y, |p, q| Ok(q.mul_add(a, p))),
                _ => {
                    let s = y.mul(Tensor::scalar(alpha, dt))?;
                    if sub { x.sub(&s) } else { x.add(&s) }
                }
            }
        })?;
        let name = if sub { "SubBackward0" } else { "AddBackward0" };
        if let Some(rec) = Recorder::new(name, &[self, &b])? {
            let nb = rec.needs(1);
            rec.finish(&out, move |_, g| {
                // maybe_multiply: the gradient itself when alpha is 1.
                let gb = opt(nb, || {
                    let s = if sub { g.neg()? } else { g.clone() };
                    if is_one(alpha) { Ok(s) } else { s.mul(alpha) }
                })?;
                Ok(vec![Some(g), gb])
            })?;
        }
        Ok(out)
    }

    // ------------------------------------------------------------------ floor_divide, remainder

    /// `self // other` (`floor_divide`): floors like Python; an integer division by zero fails
    /// with `ZeroDivisionError`, a float one gives IEEE infinities or NaN. libtorch records a
    /// `NotImplemented` node, whose backward fails.
    pub fn floor_divide(&self, other: impl Into<Operand>) -> Result<Tensor> {
        let (b, dt) = promote(self, other.into())?;
        crate::autograd::precheck(&[self, &b])?;
        cpu_only("floor_divide", &[self, &b])?;
        let out = floor_div_kernel(&as_dtype(self, dt)?, &as_dtype(&b, dt)?, dt)?;
        // The generated code sets the NotImplemented node's history only on a float result;
        // an integer one (from inputs with history) is left without, and no error.
        if !out.dtype().is_float() {
            return Ok(out);
        }
        if let Some(rec) = Recorder::new("NotImplemented", &[self, &b])? {
            rec.finish(&out, |_, _| {
                Err(Error::DerivativeNotImplemented { op: "floor_divide" })
            })?;
        }
        Ok(out)
    }

    /// `self % other` (`remainder`): the result has the divisor's sign, as in Python.
    pub fn remainder(&self, other: impl Into<Operand>) -> Result<Tensor> {
        let other = other.into();
        let is_tensor = matches!(other, Operand::Tensor(_));
        let (b, dt) = promote(self, other)?;
        crate::autograd::precheck(&[self, &b])?;
        cpu_only("remainder", &[self, &b])?;
        let (x, y) = (as_dtype(self, dt)?, as_dtype(&b, dt)?);
        let out = match dt {
            DType::F32 => zip::<f32, f32>(&x, &y, |p, q| Ok(rem_float(p, q)))?,
            DType::F64 => zip::<f64, f64>(&x, &y, |p, q| Ok(rem_float(p, q)))?,
            DType::I64 => zip::<i64, i64>(&x, &y, rem_int)?,
            d @ (DType::I8 | DType::I16 | DType::I32) => {
                let (x, y) = (as_dtype(&x, DType::I64)?, as_dtype(&y, DType::I64)?);
                as_dtype(&zip::<i64, i64>(&x, &y, rem_int)?, d)?
            }
            DType::Bool => {
                // The iterator's broadcast check comes before the kernel's dtype refusal.
                crate::layout::broadcast_shapes(&x.shape(), &y.shape())?;
                return Err(Error::DtypeNotSupported {
                    op: "remainder_cpu",
                    dtype: "Bool",
                });
            }
        };
        if !is_tensor {
            if let Some(rec) = Recorder::new("RemainderBackward0", &[self])? {
                rec.finish(&out, |_, g| Ok(vec![Some(g)]))?;
            }
            return Ok(out);
        }
        if let Some(mut rec) = Recorder::new("RemainderBackward1", &[self, &b])? {
            let nb = rec.needs(1);
            // Only `other`'s formula reads them, so libtorch saves them only when it is needed.
            let saved = nb.then(|| (rec.save(self), rec.save(&b)));
            rec.finish(&out, move |ctx, g| {
                // other: -grad * self.div(other, rounding_mode="floor").
                let gb = match saved {
                    Some((sx, sb)) => {
                        let (p, q) = (ctx.unpack(sx)?, ctx.unpack(sb)?);
                        let dt = promote_tensors(p.dtype(), p.ndim(), q.dtype(), q.ndim());
                        let f = floor_div_kernel(&as_dtype(&p, dt)?, &as_dtype(&q, dt)?, dt)?;
                        Some(g.neg()?.mul(&f)?)
                    }
                    None => None,
                };
                Ok(vec![Some(g), gb])
            })?;
        }
        Ok(out)
    }
}

/// `where(self >= min, grad, 0)` (or `self <= max`).
fn clamp_side_grad(g: &Tensor, x: &Tensor, v: Scalar, is_min: bool) -> Result<Tensor> {
    let inside = if is_min { x.ge(v)? } else { x.le(v)? };
    inside.where_(
        &Operand::Tensor(g.clone()),
        &Operand::Scalar(Scalar::Float(0.0)),
    )
}
