//! In-place ops: libtorch's `check_inplace` (leaf, view-of-leaf and no_grad-view rules), the
//! version bump, and history rebasing (`CopySlices` on the base when a view is written); the
//! binary ones, fills, `copy_`, `clamp_` and `pow_` here, the unary ones from their table rows.
//!
//! Each op computes its result out of place with grad mode off, writes it through the
//! tensor's layout (so views write into their base's storage), bumps the shared version
//! counter, and then records its node with the tensor's *previous* history as the `self` edge.

use super::cast;
use crate::autograd::{BackwardCtx, InputMeta, Node, NodeKind, Recorder, opt};
use crate::error::{Error, Result, Shape};
use crate::layout::Layout;
use crate::ops::elementwise::Operand;
use crate::tensor::{CreationMeta, Tensor};
use crate::{DType, Scalar};
use std::sync::Arc;

/// libtorch's `check_inplace`.
pub(crate) fn check_inplace(t: &Tensor, requires_grad: bool) -> Result<()> {
    if requires_grad && crate::is_grad_enabled() {
        if let Some(v) = t.view_info() {
            if v.creation_meta == CreationMeta::MultiOutputNode {
                let view_of = t.no_grad_view_node();
                return Err(Error::MultiOutputViewInplace {
                    view_of,
                    indirect: false,
                });
            }
            if v.creation_meta != CreationMeta::Default {
                return Err(Error::NoGradViewInplace {
                    view_of: t.no_grad_view_node(),
                });
            }
            if t.requires_grad() && v.base.is_leaf() {
                return Err(Error::ViewOfLeafInplace);
            }
        }
        if t.requires_grad() && t.is_leaf() {
            return Err(Error::LeafInplace);
        }
    }
    Ok(())
}

/// Whether a result of dtype `from` may be written into a tensor of dtype `to`.
fn can_cast(from: DType, to: DType) -> bool {
    !(from.is_float() && !to.is_float() || from != DType::Bool && to == DType::Bool)
}

/// ATen's `get_overlap_status(a, b) == Partial`: the two tensors cover overlapping storage
/// without being the same elements in the same order. Aliases ATen cannot judge cheaply
/// (either one not non-overlapping-and-dense, e.g. `x[::2]`) pass, as they do there.
fn partially_overlaps(a: &Tensor, b: &Tensor) -> bool {
    if a.same(b) || a.numel() == 0 || b.numel() == 0 || !a.shares_storage(b) {
        return false;
    }
    let (la, lb) = (a.layout(), b.layout());
    if !la.is_non_overlapping_and_dense() || !lb.is_non_overlapping_and_dense() {
        return false;
    }
    let (a0, a1) = (la.offset, la.offset + la.numel());
    let (b0, b1) = (lb.offset, lb.offset + lb.numel());
    if (a0, a1) == (b0, b1) {
        return la.strides != lb.strides;
    }
    a0 < b1 && b0 < a1
}

/// Whether an input aliases the output at other positions than each element's own: ATen
/// lets that through when the layouts are too hard to judge (`x += x[:, :1]`).
fn reads_what_it_writes(t: &Tensor, o: &Tensor) -> bool {
    if o.same(t) || !o.shares_storage(t) || t.numel() < 2 {
        return false;
    }
    let (lt, lo) = (t.layout(), o.layout());
    lo.offset != lt.offset || lo.broadcast_strides(&lt.shape) != lt.strides
}

/// ATen's TensorIterator writes element by element, so a later element reads the values
/// earlier ones wrote (tensors this small never reach its vectorised loop). The engine's ops
/// compute whole results, so each element is recomputed from the current storage, in the
/// iterator's order, and written at once: quadratic, and taken only when an input aliases
/// the output.
fn write_in_iteration_order(
    t: &Tensor,
    others: &[&Tensor],
    result: &impl Fn() -> Result<Tensor>,
) -> Result<()> {
    let lt = t.layout();
    let shape = lt.shape.clone();
    let mut layouts = vec![lt.clone()];
    layouts.extend(others.iter().map(|o| o.layout()));
    let refs: Vec<&Layout> = layouts.iter().collect();
    let order = crate::memory_format::iteration_order(&shape, &refs);
    let mut idx = vec![0usize; shape.len()];
    for _ in 0..t.numel() {
        let r = cast(&crate::grad_mode::with_no_grad(result)?, t.dtype())?;
        let at = |l: &Layout| -> usize {
            let off = idx
                .iter()
                .zip(&l.strides)
                .map(|(&i, &s)| i as isize * s)
                .sum::<isize>();
            (l.offset as isize + off) as usize
        };
        let rl = r.layout();
        let value = element(&r, at(&rl));
        element(t, at(&lt)).write_from(&value)?;
        // Advance the multi-index, fastest dim first.
        for &d in &order {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Ok(())
}

/// A 0-dim alias of one storage element, without autograd.
fn element(x: &Tensor, offset: usize) -> Tensor {
    let d = x.data_ref();
    Tensor::from_parts(
        d.storage,
        Layout {
            shape: Vec::new(),
            strides: Vec::new(),
            offset,
        },
        d.dtype,
    )
}

/// Which memory-overlap checks an in-place op makes, as its ATen kernel does.
pub(crate) enum Overlap<'a> {
    /// `fill_(number)` and `zero_()` write one value everywhere, so an expanded target is fine.
    Unchecked,
    /// The target must not overlap itself, nor partially overlap these inputs.
    Checked(&'a [&'a Tensor]),
}

/// Sets `node` as the new history of `t` (libtorch's `rebase_history`).
fn rebase_history(t: &Tensor, node: Arc<Node>) -> Result<()> {
    let Some(view) = t.view_info() else {
        t.set_grad_fn(Some(node), 0);
        return Ok(());
    };
    let base = view.base;
    let mut next = vec![base.gradient_edge()?];
    next.extend(node.next.iter().skip(1).cloned());
    let meta = InputMeta {
        shape: base.shape(),
        dtype: base.dtype(),
    };
    let kind = NodeKind::CopySlices {
        base: base.layout(),
        view: t.layout(),
        inner: node,
    };
    base.set_grad_fn(
        Some(Node::new("CopySlices", next, meta, Vec::new(), kind)),
        0,
    );
    // The view's own grad_fn is regenerated (AsStridedBackward0) now that its version moved.
    t.grad_fn()?;
    Ok(())
}

/// The `CopySlices` backward: run the in-place op's own rule on the view's part of the
/// gradient and put the result back into the base-shaped gradient. The gradient is laid out
/// in a buffer shaped like the base's storage, so that the view's elements are where the view
/// reads them; every step is a storage copy or write, so it runs on the gradient's device.
pub(crate) fn copy_slices_backward(
    base: &Layout,
    view: &Layout,
    inner: &Arc<Node>,
    grad: Tensor,
) -> Result<Vec<Option<Tensor>>> {
    let span = |l: &Layout| l.indices().max().map_or(0, |m| m + 1);
    let zeros = Tensor::zeros(&[span(base).max(span(view))], grad.dtype())?;
    let buf = super::to_device_raw(&zeros, grad.device())?;
    let at = |l: &Layout| {
        let d = buf.data_ref();
        Tensor::from_parts(d.storage, l.clone(), d.dtype)
    };
    at(base).write_from(&grad)?;
    let grad_slice = super::copy_raw(&at(view))?;
    let NodeKind::Op(f) = &inner.kind else {
        unreachable!("CopySlices wraps an op node")
    };
    let mut res = f(&BackwardCtx { node: inner }, grad_slice)?;
    let first = if res.is_empty() { None } else { res.remove(0) };
    match first {
        // `grad_slice.copy_(res[0])`: TensorIterator refuses an output whose elements share
        // memory, so a written view that is expanded (only `index_put_` lets one be written)
        // fails here, in backward.
        Some(_) if view.has_internal_overlap() => return Err(Error::InplaceOverlap),
        Some(r) => at(view).write_from(&cast(&r.sum_to(&view.shape)?, grad.dtype())?)?,
        None => at(view).write_from(&super::to_device_raw(
            &Tensor::zeros(&view.shape, grad.dtype())?,
            grad.device(),
        )?)?,
    }
    let mut all = vec![Some(super::copy_raw(&at(base))?)];
    all.extend(res);
    Ok(all)
}

/// Runs one in-place op on `t`: checks, writes `result` (computed out of place), bumps the
/// version, and if grad is needed records the node that `record` builds. An output `record`
/// saves (`Recorder::save_output(t)`) is saved at the version after the write, as libtorch
/// saves `result` after its in-place kernel.
pub(crate) fn inplace(
    t: &Tensor,
    others: &[&Tensor],
    overlap: Overlap,
    name: &'static str,
    result: impl Fn() -> Result<Tensor>,
    record: impl FnOnce(&mut Recorder) -> Result<Box<crate::autograd::BackwardFn>>,
) -> Result<()> {
    inplace_with_meta(t, others, overlap, name, || Ok(()), result, record)
}

/// [`inplace`] for ops whose ATen meta function checks its arguments (`meta`): that runs inside
/// the kernel, after the autograd wrapper's checks and saves and before TensorIterator's.
pub(crate) fn inplace_with_meta(
    t: &Tensor,
    others: &[&Tensor],
    overlap: Overlap,
    name: &'static str,
    meta: impl FnOnce() -> Result<()>,
    result: impl Fn() -> Result<Tensor>,
    record: impl FnOnce(&mut Recorder) -> Result<Box<crate::autograd::BackwardFn>>,
) -> Result<()> {
    // The hand-written `copy_` narrows `requires_grad` by `isDifferentiableType(self)`, so an
    // integer `self` gets no history from it; the generated in-place ops do not narrow: torch
    // 2.13 gives an int64 `self` an `AddBackward0` (or `FillBackward3`) when another input
    // requires grad.
    let differentiable = t.dtype().is_float() || name != "CopyBackwards";
    let any_requires_grad = t.requires_grad() || others.iter().any(|o| o.requires_grad());
    let requires_grad = differentiable && any_requires_grad;
    // Generated in-place ops run `check_inplace` on the inputs' flag before the dtype narrows
    // it; the hand-written `copy_` narrows first.
    let copy = name == "CopyBackwards";
    check_inplace(
        t,
        if copy {
            requires_grad
        } else {
            any_requires_grad
        },
    )?;
    let mut inputs = vec![t];
    inputs.extend_from_slice(others);
    if !copy || requires_grad {
        crate::autograd::precheck(&inputs)?;
    }
    // libtorch's wrapper builds the node and saves its inputs before calling the kernel, so
    // saving happens before the write (a saved `self` is the value before the op) and before the
    // kernel's overlap, broadcast and cast checks.
    let mut rec = if requires_grad && crate::is_grad_enabled() {
        let mut next = vec![t.gradient_edge()?];
        for o in others {
            next.push(o.gradient_edge()?);
        }
        Some(Recorder::with_edges(name, next))
    } else {
        None
    };
    let f = rec.as_mut().map(record).transpose()?;
    meta()?;
    if let Overlap::Checked(inputs) = overlap {
        if t.layout().has_internal_overlap() {
            return Err(Error::InplaceOverlap);
        }
        if inputs.iter().any(|o| partially_overlaps(t, o)) {
            return Err(Error::InplacePartialOverlap);
        }
    }
    let r = crate::grad_mode::with_no_grad(&result)?;
    let shape = t.shape();
    if r.shape() != shape {
        return Err(Error::InplaceBroadcast {
            output: Shape(shape),
            broadcast: Shape(r.shape()),
        });
    }
    if !can_cast(r.dtype(), t.dtype()) {
        return Err(Error::CastInplace {
            result: r.dtype().scalar_type_name(),
            output: t.dtype().scalar_type_name(),
        });
    }
    if others.iter().any(|o| reads_what_it_writes(t, o)) {
        write_in_iteration_order(t, others, &result)?;
    } else {
        t.write_from(&cast(&r, t.dtype())?)?;
    }
    t.bump_version();
    if let (Some(mut rec), Some(f)) = (rec, f) {
        rec.resave_outputs();
        let meta = InputMeta {
            shape: t.shape(),
            dtype: t.dtype(),
        };
        let node = rec.into_node(meta, move |ctx, g| f(ctx, g));
        rebase_history(t, node)?;
    }
    Ok(())
}

fn no_rule() -> Result<Box<crate::autograd::BackwardFn>> {
    Ok(Box::new(|_, g| Ok(vec![Some(g.zeros_like()?)])))
}

impl Tensor {
    fn other_tensor(&self, other: Operand) -> Tensor {
        match other {
            Operand::Tensor(t) => t,
            Operand::Scalar(s) => {
                Tensor::scalar(s, crate::dtype::promote_with_scalar(self.dtype(), s))
            }
        }
    }

    /// `add_` / `+=`.
    pub fn add_(&self, other: impl Into<Operand>) -> Result<&Self> {
        let o = self.other_tensor(other.into());
        inplace(
            self,
            &[&o],
            Overlap::Checked(&[&o]),
            "AddBackward0",
            || self.add(&o),
            |_| Ok(Box::new(|_, g| Ok(vec![Some(g.clone()), Some(g)]))),
        )?;
        Ok(self)
    }

    /// `sub_` / `-=`.
    pub fn sub_(&self, other: impl Into<Operand>) -> Result<&Self> {
        let other = other.into();
        // Autograd's checks (leaf, then input edges) run before the kernel's bool check.
        if let Operand::Tensor(o) = &other {
            // The inputs' flag, before any dtype narrowing, as for every generated in-place op.
            check_inplace(self, self.requires_grad() || o.requires_grad())?;
            crate::autograd::precheck(&[self, o])?;
        }
        // Before wrapping: a Python bool would wrap to self's dtype and hide the check.
        super::elementwise::sub_check(
            self.dtype() == DType::Bool,
            super::elementwise::operand_is_bool(&other),
        )?;
        let o = self.other_tensor(other);
        inplace(
            self,
            &[&o],
            Overlap::Checked(&[&o]),
            "SubBackward0",
            || self.sub(&o),
            |_| Ok(Box::new(|_, g| Ok(vec![Some(g.clone()), Some(g.neg()?)]))),
        )?;
        Ok(self)
    }

    /// `mul_` / `*=`.
    pub fn mul_(&self, other: impl Into<Operand>) -> Result<&Self> {
        let o = self.other_tensor(other.into());
        inplace(
            self,
            &[&o],
            Overlap::Checked(&[&o]),
            "MulBackward0",
            || self.mul(&o),
            |rec| {
                let so = rec.needs(0).then(|| rec.save(&o));
                let ss = match rec.needs(1) {
                    true => Some(rec.save_original_self(self)?),
                    false => None,
                };
                Ok(Box::new(move |ctx, g| {
                    Ok(vec![
                        opt(so.is_some(), || g.mul(&ctx.unpack(so.unwrap())?))?,
                        opt(ss.is_some(), || g.mul(&ctx.unpack(ss.unwrap())?))?,
                    ])
                }))
            },
        )?;
        Ok(self)
    }

    /// `div_` / `/=`.
    pub fn div_(&self, other: impl Into<Operand>) -> Result<&Self> {
        let o = self.other_tensor(other.into());
        inplace(
            self,
            &[&o],
            Overlap::Checked(&[&o]),
            "DivBackward0",
            || self.div(&o),
            |rec| {
                let so = rec.save(&o);
                let na = rec.needs(0);
                let ss = match rec.needs(1) {
                    true => Some(rec.save_original_self(self)?),
                    false => None,
                };
                Ok(Box::new(move |ctx, g| {
                    let other = ctx.unpack(so)?;
                    Ok(vec![
                        opt(na, || g.div(&other))?,
                        opt(ss.is_some(), || {
                            let s = ctx.unpack(ss.unwrap())?;
                            // div_tensor_other_backward: `-grad * ((self / other) / other)`, rounded as libtorch does.
                            g.neg()?.mul(&s.div(&other)?.div(&other)?)
                        })?,
                    ])
                }))
            },
        )?;
        Ok(self)
    }

    /// `zero_()` (`ZeroBackward0`).
    pub fn zero_(&self) -> Result<&Self> {
        inplace(
            self,
            &[],
            Overlap::Unchecked,
            "ZeroBackward0",
            || self.zeros_like(),
            |_| no_rule(),
        )?;
        Ok(self)
    }

    /// `fill_(number)` (`FillBackward2`).
    pub fn fill_(&self, value: impl Into<Scalar>) -> Result<&Self> {
        let v = value.into();
        inplace(
            self,
            &[],
            Overlap::Unchecked,
            "FillBackward2",
            || Tensor::full(&self.shape(), v, self.dtype()),
            |_| no_rule(),
        )?;
        Ok(self)
    }

    /// `fill_(0-dim tensor)` (`FillBackward3`); what `x[i] = number` does.
    pub fn fill_tensor_(&self, value: &Tensor) -> Result<&Self> {
        if value.ndim() != 0 {
            return Err(Error::InvalidArgument(format!(
                "fill_ only supports 0-dimension value tensor but got tensor with {} dimensions.",
                value.ndim()
            )));
        }
        // The value is cast as `copy_` casts it (NaN into int64 is INT64_MIN on x86).
        let v = cast(value, self.dtype())?.item()?;
        inplace(
            self,
            &[value],
            Overlap::Checked(&[]),
            "FillBackward3",
            || Tensor::full(&self.shape(), v, self.dtype()),
            |_| {
                Ok(Box::new(|_, g| {
                    Ok(vec![Some(g.zeros_like()?), Some(g.sum(None, false)?)])
                }))
            },
        )?;
        Ok(self)
    }

    /// `copy_(src)`, broadcasting `src` to `self`'s shape and casting to its dtype
    /// (`CopyBackwards`).
    pub fn copy_(&self, src: &Tensor) -> Result<&Self> {
        super::check_same_device(self, src)?;
        let shape = self.shape();
        // ATen's `copy_impl` returns before its overlap checks when both sides are the very
        // same elements (`is_same` or the same offset, strides, sizes and dtype); autograd
        // still records the copy and bumps the version.
        let (ls, lo) = (self.layout(), src.layout());
        let same_data =
            self.same(src) || (self.shares_storage(src) && ls == lo && self.dtype() == src.dtype());
        let overlap = if same_data {
            Overlap::Unchecked
        } else {
            Overlap::Checked(&[src])
        };
        inplace(
            self,
            &[src],
            overlap,
            "CopyBackwards",
            || {
                let b = crate::layout::broadcast_shapes(&shape, &src.shape())?;
                if b != shape {
                    return Err(Error::InplaceBroadcast {
                        output: Shape(shape.clone()),
                        broadcast: Shape(b),
                    });
                }
                cast(&super::copy_raw(&src.expand_raw(&shape)?)?, self.dtype())
            },
            |_| Ok(Box::new(|_, g| Ok(vec![Some(g.zeros_like()?), Some(g)]))),
        )?;
        Ok(self)
    }

    /// `pow_(exponent)`: a Python-number exponent gives `PowBackward0`, a tensor one
    /// `PowBackward1`, as for [`Tensor::pow`]; returns this tensor. `self` is saved as
    /// `original_self` (a clone before the write), the result after it.
    pub fn pow_(&self, exponent: impl Into<Operand>) -> Result<Tensor> {
        match exponent.into() {
            Operand::Scalar(e) => {
                let p = e.as_f64();
                inplace(
                    self,
                    &[],
                    Overlap::Checked(&[]),
                    "PowBackward0",
                    || self.pow(e),
                    |rec| {
                        let ss = rec.save_original_self(self)?;
                        Ok(Box::new(move |ctx, g| {
                            let rule = super::elementwise::pow0_rule(&g, || ctx.unpack(ss), p);
                            Ok(vec![Some(rule?)])
                        }))
                    },
                )?;
            }
            Operand::Tensor(e) => {
                inplace(
                    self,
                    &[&e],
                    Overlap::Checked(&[&e]),
                    "PowBackward1",
                    || self.pow(&e),
                    |rec| {
                        let need = [rec.needs(0), rec.needs(1)];
                        let ss = rec.save_original_self(self)?;
                        let se = rec.save(&e);
                        let so = rec.save_output(self);
                        Ok(Box::new(move |ctx, g| {
                            let (x, p, r) = (ctx.unpack(ss)?, ctx.unpack(se)?, ctx.unpack(so)?);
                            super::elementwise::pow1_rule(&g, &x, &p, &r, need)
                        }))
                    },
                )?;
            }
        }
        Ok(self.clone())
    }

    /// `clamp_(min, max)` (`ClampBackward1`).
    pub fn clamp_(&self, min: Option<Scalar>, max: Option<Scalar>) -> Result<&Self> {
        // ATen's clamp meta function refuses a promoting in-place clamp before the iterator's
        // overlap checks, naming the output by its C type.
        let meta = || {
            let mut dt = self.dtype();
            for s in [min, max].into_iter().flatten() {
                dt = crate::dtype::promote_with_scalar(dt, s);
            }
            if !self.dtype().is_float() && dt != self.dtype() {
                return Err(Error::CastInplace {
                    result: dt.scalar_type_name(),
                    output: self.dtype().c_name(),
                });
            }
            Ok(())
        };
        let (lo, hi) = (min.map(|s| s.as_f64()), max.map(|s| s.as_f64()));
        inplace_with_meta(
            self,
            &[],
            Overlap::Checked(&[]),
            "ClampBackward1",
            meta,
            || self.clamp(min, max),
            |rec| {
                let ss = rec.save_original_self(self)?;
                Ok(Box::new(move |ctx, g| {
                    let x = ctx.unpack(ss)?;
                    let inside = super::elementwise::clamp_mask(&x, lo, hi)?;
                    Ok(vec![Some(inside.where_(
                        &Operand::Tensor(g),
                        &Operand::Scalar(Scalar::Float(0.0)),
                    )?)])
                }))
            },
        )?;
        Ok(self)
    }
}
