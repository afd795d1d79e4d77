//! The elementwise ops that are more than a table row: the binary ops with broadcasting and
//! PyTorch's type promotion (their kernels are rows of [`super::table`]) and their backward
//! rules (derivatives.yaml), comparisons, `pow`, `clamp`, `where`, copies and dtype conversions.
//! Python scalars are wrapped into 0-dim tensors, as libtorch does, so `x * 2` saves the
//! wrapped `2`.

use super::{
    binary_kernel, binary_table, cast, check_same_device, compare_kernel, cpu_only, float_map,
    map1, map2,
};
use crate::DType;
use crate::autograd::{Recorder, opt};
use crate::dtype::{Scalar, promote_tensors, promote_with_scalar};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The right-hand side of a binary op: a tensor or a Python number.
#[derive(Debug, Clone)]
pub enum Operand {
    Tensor(Tensor),
    Scalar(Scalar),
}

impl From<&Tensor> for Operand {
    fn from(t: &Tensor) -> Self {
        Operand::Tensor(t.clone())
    }
}
impl From<Tensor> for Operand {
    fn from(t: Tensor) -> Self {
        Operand::Tensor(t)
    }
}
impl From<Scalar> for Operand {
    fn from(s: Scalar) -> Self {
        Operand::Scalar(s)
    }
}
impl From<f64> for Operand {
    fn from(v: f64) -> Self {
        Operand::Scalar(Scalar::Float(v))
    }
}
impl From<i64> for Operand {
    fn from(v: i64) -> Self {
        Operand::Scalar(Scalar::Int(v))
    }
}
impl From<bool> for Operand {
    fn from(v: bool) -> Self {
        Operand::Scalar(Scalar::Bool(v))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// The other operand as a tensor, and the dtype the op computes in.
fn promote(a: &Tensor, b: Operand) -> Result<(Tensor, DType)> {
    Ok(match b {
        Operand::Tensor(t) => {
            check_same_device(a, &t)?;
            // Dims only matter for promotion when the dtypes differ.
            let d = if a.dtype() == t.dtype() {
                a.dtype()
            } else {
                promote_tensors(a.dtype(), a.ndim(), t.dtype(), t.ndim())
            };
            (t, d)
        }
        Operand::Scalar(s) => {
            let d = promote_with_scalar(a.dtype(), s);
            (Tensor::scalar(s, d), d)
        }
    })
}

/// Whether an operand is bool once wrapped (a Python `bool` wraps to a bool tensor).
pub(crate) fn operand_is_bool(o: &Operand) -> bool {
    match o {
        Operand::Tensor(t) => t.dtype() == DType::Bool,
        Operand::Scalar(s) => matches!(s, Scalar::Bool(_)),
    }
}

/// libtorch's `sub_check`: it runs before type promotion, so it wins over any cast error
/// of an in-place subtraction.
pub(crate) fn sub_check(a_bool: bool, b_bool: bool) -> Result<()> {
    if a_bool && b_bool {
        return Err(Error::InvalidArgument("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.".into()));
    }
    if a_bool || b_bool {
        return Err(Error::InvalidArgument("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.".into()));
    }
    Ok(())
}

impl Tensor {
    // ---------------------------------------------------------------- arithmetic

    pub fn add(&self, other: impl Into<Operand>) -> Result<Tensor> {
        let (b, dt) = promote(self, other.into())?;
        crate::autograd::precheck(&[self, &b])?;
        let out = binary_kernel::<binary_table::add>(&cast(self, dt)?, &cast(&b, dt)?)?;
        if let Some(rec) = Recorder::new("AddBackward0", &[self, &b])? {
            rec.finish(&out, |_, g| Ok(vec![Some(g.clone()), Some(g)]))?;
        }
        Ok(out)
    }

    pub fn sub(&self, other: impl Into<Operand>) -> Result<Tensor> {
        let other = other.into();
        let other_bool = operand_is_bool(&other);
        let (b, dt) = promote(self, other)?;
        crate::autograd::precheck(&[self, &b])?;
        sub_check(self.dtype() == DType::Bool, other_bool)?;
        let out = binary_kernel::<binary_table::sub>(&cast(self, dt)?, &cast(&b, dt)?)?;
        if let Some(rec) = Recorder::new("SubBackward0", &[self, &b])? {
            let nb = rec.needs(1);
            rec.finish(&out, move |_, g| {
                Ok(vec![Some(g.clone()), opt(nb, || g.neg())?])
            })?;
        }
        Ok(out)
    }

    /// `s - self` (Python's `1 - x`).
    pub fn rsub(&self, s: impl Into<Scalar>) -> Result<Tensor> {
        let s = s.into();
        sub_check(self.dtype() == DType::Bool, matches!(s, Scalar::Bool(_)))?;
        let dt = promote_with_scalar(self.dtype(), s);
        let b = Tensor::scalar(s, dt);
        let out = binary_kernel::<binary_table::sub>(&b, &cast(self, dt)?)?;
        if let Some(rec) = Recorder::new("RsubBackward1", &[self])? {
            rec.finish(&out, |_, g| Ok(vec![Some(g.neg()?)]))?;
        }
        Ok(out)
    }

    pub fn mul(&self, other: impl Into<Operand>) -> Result<Tensor> {
        let (b, dt) = promote(self, other.into())?;
        crate::autograd::precheck(&[self, &b])?;
        let out = binary_kernel::<binary_table::mul>(&cast(self, dt)?, &cast(&b, dt)?)?;
        if let Some(mut rec) = Recorder::new("MulBackward0", &[self, &b])? {
            let sb = rec.needs(0).then(|| rec.save(&b));
            let sa = rec.needs(1).then(|| rec.save(self));
            rec.finish(&out, move |ctx, g| {
                Ok(vec![
                    opt(sb.is_some(), || g.mul(&ctx.unpack(sb.unwrap())?))?,
                    opt(sa.is_some(), || g.mul(&ctx.unpack(sa.unwrap())?))?,
                ])
            })?;
        }
        Ok(out)
    }

    pub fn div(&self, other: impl Into<Operand>) -> Result<Tensor> {
        let (b, dt) = promote(self, other.into())?;
        crate::autograd::precheck(&[self, &b])?;
        let dt = dt.to_float();
        let out = binary_kernel::<binary_table::div>(&cast(self, dt)?, &cast(&b, dt)?)?;
        if let Some(mut rec) = Recorder::new("DivBackward0", &[self, &b])? {
            let sb = rec.save(&b);
            let sa = rec.needs(1).then(|| rec.save(self));
            let na = rec.needs(0);
            rec.finish(&out, move |ctx, g| {
                let other = ctx.unpack(sb)?;
                Ok(vec![
                    opt(na, || g.div(&other))?,
                    opt(sa.is_some(), || {
                        let s = ctx.unpack(sa.unwrap())?;
                        // div_tensor_other_backward: `-grad * ((self / other) / other)`, rounded as libtorch does.
                        g.neg()?.mul(&s.div(&other)?.div(&other)?)
                    })?,
                ])
            })?;
        }
        Ok(out)
    }

    /// `self ** exponent`: a scalar exponent gives `PowBackward0`, a tensor `PowBackward1`.
    pub fn pow(&self, exponent: impl Into<Operand>) -> Result<Tensor> {
        match exponent.into() {
            Operand::Scalar(e) => self.pow_scalar(e),
            Operand::Tensor(t) => self.pow_tensor(&t),
        }
    }

    fn pow_scalar(&self, e: Scalar) -> Result<Tensor> {
        cpu_only("pow", &[self])?;
        let dt = promote_with_scalar(self.dtype(), e);
        if dt.is_narrow_int() {
            // No gradient flows through integers: the int64 power, wrapped back.
            refuse_int_history(&[self], dt)?;
            return cast(&cast(self, DType::I64)?.pow_scalar(e)?, dt);
        }
        let x = cast(self, dt)?;
        let out = match dt {
            DType::I64 => {
                let p = e.as_f64() as i64;
                if p < 0 {
                    return Err(Error::NegativeIntPower);
                }
                map1::<i64, i64>(&x, |v| powi(v, p))?
            }
            DType::Bool => cast(&map1::<bool, i64>(&x, |v| v as i64)?, DType::Bool)?,
            _ => {
                let p = e.as_f64();
                float_map!(&x, "pow", |v| v.powf(p as _))?
            }
        };
        if let Some(mut rec) = Recorder::new("PowBackward0", &[self])? {
            let s = rec.save(self);
            let p = e.as_f64();
            rec.finish(&out, move |ctx, g| {
                Ok(vec![Some(pow0_rule(&g, || ctx.unpack(s), p)?)])
            })?;
        }
        Ok(out)
    }

    fn pow_tensor(&self, e: &Tensor) -> Result<Tensor> {
        check_same_device(self, e)?;
        cpu_only("pow", &[self, e])?;
        let dt = promote_tensors(self.dtype(), self.ndim(), e.dtype(), e.ndim());
        if dt.is_narrow_int() {
            refuse_int_history(&[self, e], dt)?;
            let (a, b) = (cast(self, DType::I64)?, cast(e, DType::I64)?);
            return cast(&a.pow_tensor(&b)?, dt);
        }
        let (a, b) = (cast(self, dt)?, cast(e, dt)?);
        let out = match dt {
            DType::I64 => map2::<i64, i64, i64>(&a, &b, |x, y| {
                if y < 0 {
                    if x == 1 {
                        1
                    } else if x == -1 {
                        if y % 2 == 0 { 1 } else { -1 }
                    } else {
                        0
                    }
                } else {
                    powi(x, y)
                }
            })?,
            DType::F32 => map2::<f32, f32, f32>(&a, &b, |x, y| x.powf(y))?,
            DType::F64 => map2::<f64, f64, f64>(&a, &b, |x, y| x.powf(y))?,
            DType::I8 | DType::I16 | DType::I32 => unreachable!("narrow ints return above"),
            // ATen's pow kernel has no bool loop; the iterator's broadcast check comes first.
            DType::Bool => {
                crate::layout::broadcast_shapes(&a.shape(), &b.shape())?;
                return Err(Error::DtypeNotSupported {
                    op: "pow",
                    dtype: "Bool",
                });
            }
        };
        if let Some(mut rec) = Recorder::new("PowBackward1", &[self, e])? {
            let (na, nb) = (rec.needs(0), rec.needs(1));
            let ss = rec.save(self);
            let se = rec.save(e);
            // libtorch saves the result whichever input needs a gradient, and its node
            // unpacks every saved tensor first, so a modified result fails either way.
            let so = rec.save_output(&out);
            rec.finish(&out, move |ctx, g| {
                let (x, p, r) = (ctx.unpack(ss)?, ctx.unpack(se)?, ctx.unpack(so)?);
                pow1_rule(&g, &x, &p, &r, [na, nb])
            })?;
        }
        Ok(out)
    }

    /// `base ** self` for a Python number `base` (`PowBackward2`).
    pub fn pow_scalar_base(&self, base: impl Into<Scalar>) -> Result<Tensor> {
        let base = base.into();
        let dt = promote_with_scalar(self.dtype(), base);
        if dt.is_narrow_int() {
            refuse_int_history(&[self], dt)?;
            return cast(&cast(self, DType::I64)?.pow_scalar_base(base)?, dt);
        }
        let b = Tensor::scalar(base, dt);
        let out = match dt {
            DType::I64 => {
                let bv = base.as_f64() as i64;
                map1::<i64, i64>(&cast(self, dt)?, |y| {
                    if y < 0 {
                        if bv == 1 { 1 } else { 0 }
                    } else {
                        powi(bv, y)
                    }
                })?
            }
            _ => {
                let bv = base.as_f64();
                float_map!(&cast(self, dt)?, "pow", |y| num_traits::Float::powf(
                    num_traits::cast(bv).unwrap(),
                    y
                ))?
            }
        };
        let _ = b;
        // ATen's `pow(Scalar, Tensor)` allocates its result contiguous, whatever the
        // exponent's layout (unlike the other elementwise ops).
        let out = if out.is_contiguous() {
            out
        } else {
            super::copy_raw(&out)?
        };
        if let Some(mut rec) = Recorder::new("PowBackward2", &[self])? {
            let so = rec.save_output(&out);
            let se = rec.save(self);
            let bv = base.as_f64();
            rec.finish(&out, move |ctx, g| {
                // libtorch's node unpacks every saved variable, so a modified exponent fails
                // the version check even when the rule does not read it.
                let e = ctx.unpack(se)?;
                let r = ctx.unpack(so)?;
                let d = r.mul(bv.ln())?;
                if bv == 0.0 {
                    let d = e
                        .ge(0.0)?
                        .where_(&Operand::Scalar(Scalar::Float(0.0)), &d.into())?;
                    return Ok(vec![Some(g.mul(&d)?)]);
                }
                Ok(vec![Some(g.mul(&d)?)])
            })?;
        }
        Ok(out)
    }

    /// `clamp(min, max)` with Python-number bounds (`ClampBackward1`).
    pub fn clamp(&self, min: Option<Scalar>, max: Option<Scalar>) -> Result<Tensor> {
        if min.is_none() && max.is_none() {
            return Err(Error::InvalidArgument(
                "torch.clamp: At least one of 'min' or 'max' must not be None".into(),
            ));
        }
        let mut dt = self.dtype();
        for s in [min, max].into_iter().flatten() {
            dt = promote_with_scalar(dt, s);
        }
        let (lo, hi) = (min.map(|s| s.as_f64()), max.map(|s| s.as_f64()));
        let x = cast(self, dt)?;
        let (l, h) = (lo.unwrap_or(f64::NEG_INFINITY), hi.unwrap_or(f64::INFINITY));
        let (s, shape, strides) = x.with_storage(|s, xl| {
            let st = crate::memory_format::iterator_strides(&xl.shape, &[xl]);
            s.clamp(xl, l, h, &st).map(|r| (r, xl.shape.clone(), st))
        })?;
        let out = Tensor::from_new_storage(s, shape, strides);
        if let Some(mut rec) = Recorder::new("ClampBackward1", &[self])? {
            let s = rec.save(self);
            rec.finish(&out, move |ctx, g| {
                let x = ctx.unpack(s)?;
                // libtorch's clamp_backward selects (`where`), so a NaN gradient outside the
                // range becomes 0 rather than NaN * 0.
                let inside = clamp_mask(&x, lo, hi)?;
                Ok(vec![Some(inside.where_(
                    &Operand::Tensor(g),
                    &Operand::Scalar(Scalar::Float(0.0)),
                )?)])
            })?;
        }
        Ok(out)
    }

    pub fn maximum(&self, other: &Tensor) -> Result<Tensor> {
        crate::autograd::precheck(&[self, other])?;
        self.min_max(other, true)
    }
    pub fn minimum(&self, other: &Tensor) -> Result<Tensor> {
        crate::autograd::precheck(&[self, other])?;
        self.min_max(other, false)
    }
    fn min_max(&self, other: &Tensor, is_max: bool) -> Result<Tensor> {
        check_same_device(self, other)?;
        let dt = promote_tensors(self.dtype(), self.ndim(), other.dtype(), other.ndim());
        let (a, b) = (cast(self, dt)?, cast(other, dt)?);
        let out = if is_max {
            binary_kernel::<binary_table::maximum>(&a, &b)?
        } else {
            binary_kernel::<binary_table::minimum>(&a, &b)?
        };
        let name = if is_max {
            "MaximumBackward0"
        } else {
            "MinimumBackward0"
        };
        if let Some(mut rec) = Recorder::new(name, &[self, other])? {
            let (na, nb) = (rec.needs(0), rec.needs(1));
            let sa = rec.save(self);
            let sb = rec.save(other);
            rec.finish(&out, move |ctx, g| {
                let (x, y) = (ctx.unpack(sa)?, ctx.unpack(sb)?);
                // derivatives.yaml: `where(self == other, grad / 2, grad)` with the losing side
                // masked to 0, so a NaN operand (no tie, no loser) passes the whole gradient
                // to both sides.
                let split = x
                    .eq_(&y)?
                    .where_(&Operand::Tensor(g.mul(0.5)?), &Operand::Tensor(g.clone()))?;
                let zero = Operand::Scalar(Scalar::Float(0.0));
                let masked = |lost: Tensor| lost.where_(&zero, &Operand::Tensor(split.clone()));
                let (lost_a, lost_b) = if is_max {
                    (x.lt(&y)?, x.gt(&y)?)
                } else {
                    (x.gt(&y)?, x.lt(&y)?)
                };
                Ok(vec![
                    opt(na, || masked(lost_a))?,
                    opt(nb, || masked(lost_b))?,
                ])
            })?;
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- comparisons

    pub fn compare(&self, other: impl Into<Operand>, op: Cmp) -> Result<Tensor> {
        let (b, dt) = promote(self, other.into())?;
        let (a, b) = (cast(self, dt)?, cast(&b, dt)?);
        match op {
            Cmp::Eq => compare_kernel::<binary_table::eq>(&a, &b),
            Cmp::Ne => compare_kernel::<binary_table::ne>(&a, &b),
            Cmp::Lt => compare_kernel::<binary_table::lt>(&a, &b),
            Cmp::Le => compare_kernel::<binary_table::le>(&a, &b),
            Cmp::Gt => compare_kernel::<binary_table::gt>(&a, &b),
            Cmp::Ge => compare_kernel::<binary_table::ge>(&a, &b),
        }
    }
    /// `self == other` elementwise (named `eq_` to leave `PartialEq`-like names free).
    pub fn eq_(&self, other: impl Into<Operand>) -> Result<Tensor> {
        self.compare(other, Cmp::Eq)
    }
    pub fn ne(&self, other: impl Into<Operand>) -> Result<Tensor> {
        self.compare(other, Cmp::Ne)
    }
    pub fn lt(&self, other: impl Into<Operand>) -> Result<Tensor> {
        self.compare(other, Cmp::Lt)
    }
    pub fn le(&self, other: impl Into<Operand>) -> Result<Tensor> {
        self.compare(other, Cmp::Le)
    }
    pub fn gt(&self, other: impl Into<Operand>) -> Result<Tensor> {
        self.compare(other, Cmp::Gt)
    }
    pub fn ge(&self, other: impl Into<Operand>) -> Result<Tensor> {
        self.compare(other, Cmp::Ge)
    }

    /// `torch.where(self, a, b)` with `self` the condition.
    pub fn where_(&self, a: &Operand, b: &Operand) -> Result<Tensor> {
        // The autograd wrapper collects the value operands' edges before the kernel checks the
        // condition's dtype and broadcasts.
        let values: Vec<&Tensor> = [a, b]
            .into_iter()
            .filter_map(|o| match o {
                Operand::Tensor(t) => Some(t),
                Operand::Scalar(_) => None,
            })
            .collect();
        crate::autograd::precheck(&values)?;
        if self.dtype() != DType::Bool {
            return Err(Error::DtypeMismatch(format!(
                "where expected condition to be a boolean tensor, but got a tensor with dtype {}",
                self.dtype().scalar_type_name()
            )));
        }
        let cond = self.clone();
        // Scalars take part in promotion as wrapped numbers.
        let (ta, tb, dt) = match (a, b) {
            (Operand::Tensor(x), Operand::Tensor(y)) => (
                x.clone(),
                y.clone(),
                promote_tensors(x.dtype(), x.ndim(), y.dtype(), y.ndim()),
            ),
            (Operand::Tensor(x), Operand::Scalar(s)) => {
                let d = promote_with_scalar(x.dtype(), *s);
                (x.clone(), Tensor::scalar(*s, d), d)
            }
            (Operand::Scalar(s), Operand::Tensor(y)) => {
                let d = promote_with_scalar(y.dtype(), *s);
                (Tensor::scalar(*s, d), y.clone(), d)
            }
            (Operand::Scalar(s), Operand::Scalar(t)) => {
                let d = DType::promote(s.wrapped_dtype(), t.wrapped_dtype());
                (Tensor::scalar(*s, d), Tensor::scalar(*t, d), d)
            }
        };
        let [cond, ca, cb] = super::co_locate([&cond, &cast(&ta, dt)?, &cast(&tb, dt)?])?;
        // Broadcast the branches first, then select by the condition.
        let (lc, la, lb) = (cond.layout(), ca.layout(), cb.layout());
        let shape = crate::layout::broadcast_shapes(
            &crate::layout::broadcast_shapes(&lc.shape, &la.shape)?,
            &lb.shape,
        )?;
        let strides = crate::memory_format::iterator_strides(&shape, &[&lc, &la, &lb]);
        let s = cond.with_storage(|sc, _| {
            ca.with_storage(|sa, _| {
                cb.with_storage(|sb, _| sc.select(&lc, sa, &la, sb, &lb, &shape, &strides))
            })
        })?;
        let out = Tensor::from_new_storage(s, shape, strides);
        if let Some(mut rec) = Recorder::new("WhereBackward0", &[&ta, &tb])? {
            let (na, nb) = (rec.needs(0), rec.needs(1));
            let sc = rec.save(&cond);
            rec.finish(&out, move |ctx, g| {
                let c = ctx.unpack(sc)?;
                let z = Operand::Scalar(Scalar::Float(0.0));
                Ok(vec![
                    opt(na, || c.where_(&Operand::Tensor(g.clone()), &z))?,
                    opt(nb, || c.where_(&z, &Operand::Tensor(g.clone())))?,
                ])
            })?;
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- copies and dtypes

    /// `clone()` (`CloneBackward0`), keeping the source's layout (`preserve_format`).
    pub fn clone_tensor(&self) -> Result<Tensor> {
        let strides = crate::memory_format::preserve_strides(&self.layout());
        self.record_clone(super::copy_strided(self, strides)?)
    }

    /// `clone(memory_format=torch.contiguous_format)` (`CloneBackward0`).
    pub fn clone_contiguous(&self) -> Result<Tensor> {
        self.record_clone(super::copy_raw(self)?)
    }

    fn record_clone(&self, out: Tensor) -> Result<Tensor> {
        if let Some(rec) = Recorder::new("CloneBackward0", &[self])? {
            rec.finish(&out, |_, g| Ok(vec![Some(g)]))?;
        }
        Ok(out)
    }

    /// A contiguous copy without autograd history.
    pub fn clone_detached(&self) -> Result<Tensor> {
        super::copy_raw(self)
    }

    /// `contiguous()`: the tensor itself when already contiguous, else a clone.
    pub fn contiguous(&self) -> Result<Tensor> {
        if self.is_contiguous() {
            return Ok(self.clone());
        }
        self.clone_contiguous()
    }

    /// `to(dtype)`: the tensor itself when the dtype matches, else a copy (`ToCopyBackward0`).
    pub fn to_dtype(&self, dtype: DType) -> Result<Tensor> {
        // A no-op returns before autograd; an integer result has no history to collect.
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        if dtype.is_float() {
            crate::autograd::precheck(&[self])?;
        }
        let out = cast(self, dtype)?;
        if dtype.is_float()
            && let Some(rec) = Recorder::new("ToCopyBackward0", &[self])?
        {
            rec.finish(&out, |_, g| Ok(vec![Some(g)]))?;
        }
        Ok(out)
    }

    pub fn zeros_like(&self) -> Result<Tensor> {
        self.full_like(Scalar::Int(0))
    }
    pub fn ones_like(&self) -> Result<Tensor> {
        self.full_like(Scalar::Int(1))
    }
    /// `full_like`: `empty_like` (`preserve_format`) filled.
    pub fn full_like(&self, value: Scalar) -> Result<Tensor> {
        let t = Tensor::full(&self.shape(), value, self.dtype())?;
        let t = if self.is_contiguous() && self.layout().strides == t.strides() {
            t
        } else {
            super::copy_strided(&t, crate::memory_format::preserve_strides(&self.layout()))?
        };
        // `empty_like` allocates on `self`'s device.
        if self.device().is_cuda() {
            return super::to_device_raw(&t, self.device());
        }
        Ok(t)
    }
}

/// `PowBackward0`'s rule for `x ** p` (`x` the saved input, unpacked only when read):
/// `g * p * x^(p-1)`, and zeros for `p == 0`.
pub(crate) fn pow0_rule(g: &Tensor, x: impl FnOnce() -> Result<Tensor>, p: f64) -> Result<Tensor> {
    if p == 0.0 {
        return g.zeros_like();
    }
    g.mul(&x()?.pow(p - 1.0)?.mul(p)?)
}

/// `PowBackward1`'s rule for `r = x ** p` (`need`: whether `x` and `p` need gradients).
pub(crate) fn pow1_rule(
    g: &Tensor,
    x: &Tensor,
    p: &Tensor,
    r: &Tensor,
    need: [bool; 2],
) -> Result<Vec<Option<Tensor>>> {
    let zero = || Operand::Scalar(Scalar::Float(0.0));
    let ga = opt(need[0], || {
        // d/dx x^p = p x^(p-1), and exactly 0 where p == 0.
        let d = p.mul(&x.pow(&p.sub(1.0)?)?)?;
        g.mul(&p.eq_(0.0)?.where_(&zero(), &d.into())?)
    })?;
    let gb = opt(need[1], || {
        // d/dp x^p = x^p ln x, masked to 0 where x == 0 and p >= 0.
        let d = r.mul(&x.log()?)?;
        let mask = x.eq_(0.0)?.mul(&p.ge(0.0)?)?;
        g.mul(&mask.where_(&zero(), &d.into())?)
    })?;
    Ok(vec![ga, gb])
}

/// Where `lo <= x <= hi` (the clamp gradient mask; NaN is outside), as bools.
pub(crate) fn clamp_mask(x: &Tensor, lo: Option<f64>, hi: Option<f64>) -> Result<Tensor> {
    let lo_ok = x.ge(lo.unwrap_or(f64::NEG_INFINITY))?;
    let hi_ok = x.le(hi.unwrap_or(f64::INFINITY))?;
    lo_ok.mul(&hi_ok)
}

/// `a ** b` for integers and `b >= 0`, as ATen's `powi` computes it: squaring with wrapping
/// products, over the whole 64-bit exponent (a `u32` exponent would drop its high bits).
fn powi(a: i64, b: i64) -> i64 {
    let (mut acc, mut base, mut e) = (1i64, a, b as u64);
    while e > 0 {
        if e & 1 == 1 {
            acc = acc.wrapping_mul(base);
        }
        e >>= 1;
        base = base.wrapping_mul(base);
    }
    acc
}

/// An integer result cannot carry history: what `Recorder::finish` refuses for the int64 path
/// (an integer tensor has history only through `fill_`/`copy_` from one that requires grad).
fn refuse_int_history(inputs: &[&Tensor], dt: DType) -> Result<()> {
    if crate::is_grad_enabled() && inputs.iter().any(|t| t.requires_grad()) {
        return Err(Error::AutogradDtype(dt.scalar_type_name()));
    }
    Ok(())
}
