//! `nll_loss` (`NllLossBackward0`) on 1-D and 2-D inputs with class-index targets, weights and
//! `ignore_index`, computed as ATen's CPU kernel computes it (the cascade sum of
//! `nll_loss_out_frame`, in the input's type), and `cross_entropy`, composite as in ATen:
//! `log_softmax` then `nll_loss` (so `NllLossBackward0` over `LogSoftmaxBackward0`), the
//! label-smoothing mix (`AddBackward0` at the root) and probability targets (`DivBackward1`
//! for the mean).

use crate::Reduction;
use crate::autograd::Recorder;
use crate::error::{Error, Result, Shape};
use crate::storage::StorageElem;
use crate::tensor::Tensor;
use crate::{DType, Scalar};
use num_traits::Float;

// `Float`'s constants (the storage element trait has its own `zero`/`one`).
fn z<T: Float>() -> T {
    T::zero()
}
fn o<T: Float>() -> T {
    T::one()
}

/// ATen's `nll_loss_out_frame` for one input type: the loss and the total weight.
fn nll_forward<T: Float + StorageElem>(
    x: &Tensor,
    target: &[i64],
    weight: Option<&[T]>,
    reduction: Reduction,
    ignore_index: i64,
) -> Result<(Tensor, T)> {
    let shape = x.shape();
    let classes = *shape.last().unwrap_or(&1);
    let xv = x.contiguous_vec::<T>()?;
    let w = |t: usize| weight.map_or(o::<T>(), |w| w[t]);
    let check = |t: i64| -> Result<usize> {
        if t < 0 || t >= classes as i64 {
            return Err(Error::TargetOutOfBounds { target: t });
        }
        Ok(t as usize)
    };
    if reduction == Reduction::None && shape.len() == 2 {
        let mut out = vec![z::<T>(); shape[0]];
        for (i, o) in out.iter_mut().enumerate() {
            if target[i] == ignore_index {
                continue;
            }
            let t = check(target[i])?;
            *o = -xv[i * classes + t] * w(t);
        }
        return Ok((Tensor::from_vec(out, &[shape[0]])?, z::<T>()));
    }
    if target.is_empty() {
        let v = if reduction == Reduction::Mean {
            T::nan()
        } else {
            z::<T>()
        };
        return Ok((Tensor::from_vec(vec![v], &[])?, z::<T>()));
    }
    let batch = if shape.len() == 1 { 1 } else { shape[0] };
    const LEVELS: usize = 8;
    let ceil_log2 = if batch <= 1 {
        0
    } else {
        usize::BITS - (batch - 1).leading_zeros()
    } as usize;
    let level_power = 4usize.max(ceil_log2 / LEVELS);
    let level_mask = (1usize << level_power) - 1;
    let mut wsum = [z::<T>(); LEVELS];
    let mut lsum = [z::<T>(); LEVELS];
    let mut ignored = 0usize;
    for b in 0..batch {
        if target[b] == ignore_index {
            ignored += 1;
            continue;
        }
        let t = check(target[b])?;
        let data = xv[b * classes + t];
        match weight {
            Some(wv) => {
                lsum[0] = lsum[0] - data * wv[t];
                wsum[0] = wsum[0] + wv[t];
            }
            None => lsum[0] = lsum[0] - data,
        }
        for j in 0..LEVELS - 1 {
            if b & (level_mask << (j * level_power)) != 0 {
                break;
            }
            wsum[j + 1] = wsum[j + 1] + wsum[j];
            lsum[j + 1] = lsum[j + 1] + lsum[j];
            wsum[j] = z::<T>();
            lsum[j] = z::<T>();
        }
    }
    let total = match weight {
        None => T::from(batch - ignored).unwrap_or(z::<T>()),
        Some(_) => wsum.iter().fold(z::<T>(), |a, &v| a + v),
    };
    let mut out = lsum.iter().fold(z::<T>(), |a, &v| a + v);
    if reduction == Reduction::Mean {
        out = out / total;
    }
    Ok((Tensor::from_vec(vec![out], &[])?, total))
}

/// ATen's `nll_loss_backward_out_frame`.
fn nll_backward<T: Float + StorageElem>(
    g: &Tensor,
    shape: &[usize],
    target: &[i64],
    weight: Option<&[T]>,
    reduction: Reduction,
    ignore_index: i64,
    total: T,
) -> Result<Tensor> {
    let classes = *shape.last().unwrap_or(&1);
    let rows = if shape.len() == 1 { 1 } else { shape[0] };
    let mut gi = vec![z::<T>(); shape.iter().product()];
    let gv = g.contiguous_vec::<T>()?;
    let w = |t: usize| weight.map_or(o::<T>(), |w| w[t]);
    let per_row = reduction == Reduction::None && shape.len() == 2;
    let scalar = if per_row {
        z::<T>()
    } else if reduction == Reduction::Mean {
        -(gv[0] / total)
    } else {
        -gv[0]
    };
    for i in 0..rows {
        let t = target[i];
        if t == ignore_index {
            continue;
        }
        if t < 0 || t >= classes as i64 {
            return Err(Error::TargetOutOfBounds { target: t });
        }
        let t = t as usize;
        gi[i * classes + t] = if per_row {
            -w(t) * gv[i]
        } else if weight.is_some() {
            w(t) * scalar
        } else {
            scalar
        };
    }
    Tensor::from_vec(gi, shape)
}

/// A recorded `tensor * number` as C++'s `Scalar * Tensor` records it (`MulBackward1`).
fn mul_scalar1(t: &Tensor, s: f64) -> Result<Tensor> {
    let out = crate::with_no_grad(|| t.mul(s))?;
    if let Some(rec) = Recorder::new("MulBackward1", &[t])? {
        rec.finish(&out, move |_, g| Ok(vec![Some(g.mul(s)?)]))?;
    }
    Ok(out)
}

/// A recorded `tensor / number` as C++'s `Tensor / Scalar` records it (`DivBackward1`).
fn div_scalar1(t: &Tensor, s: f64) -> Result<Tensor> {
    let out = crate::with_no_grad(|| t.div(s))?;
    if let Some(rec) = Recorder::new("DivBackward1", &[t])? {
        rec.finish(&out, move |_, g| Ok(vec![Some(g.div(s)?)]))?;
    }
    Ok(out)
}

impl Tensor {
    /// `nll_loss(input, target, weight, reduction, ignore_index)` for 1-D (`[C]`, 0-dim target)
    /// and 2-D (`[N, C]`, `[N]` target) inputs (`NllLossBackward0`).
    pub fn nll_loss(
        &self,
        target: &Tensor,
        weight: Option<&Tensor>,
        reduction: Reduction,
        ignore_index: i64,
    ) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        if [Some(self), Some(target), weight]
            .iter()
            .flatten()
            .any(|t| t.device().is_cuda())
        {
            return Err(Error::NotSupportedOnCuda { op: "nll_loss" });
        }
        if weight.is_some_and(|w| w.requires_grad()) {
            return Err(Error::NotDifferentiable {
                op: "nll_loss_forward",
                arg: "weight",
            });
        }
        let shape = self.shape();
        if shape.is_empty() || shape.len() > 2 {
            return Err(Error::InvalidArgument(
                "input tensor should be 1D or 2D".into(),
            ));
        }
        if target.ndim() > 1 {
            return Err(Error::InvalidArgument(
                "0D or 1D target tensor expected, multi-target not supported".into(),
            ));
        }
        // A 1-D input takes a 0-D target, or a 1-D one of size 1 (as the same single sample:
        // the result is 0-D). The backward's check knows only the 0-D form, below.
        let one_sample_1d = shape.len() == 1 && target.ndim() == 1;
        if one_sample_1d && target.numel() != 1 {
            return Err(Error::InvalidArgument(format!(
                "For 1D input, 1D target must have size 1, but got target size: {}",
                target.numel()
            )));
        }
        let no_batch_dim = shape.len() == 1 && (target.ndim() == 0 || one_sample_1d);
        if !no_batch_dim && target.shape().first() != Some(&shape[0]) {
            return Err(Error::InvalidArgument(format!(
                "size mismatch (got input: {}, target: {})",
                Shape(shape.clone()),
                Shape(target.shape())
            )));
        }
        let classes = shape[shape.len() - 1];
        if let Some(w) = weight
            && (w.ndim() != 1 || w.numel() != classes)
        {
            return Err(Error::InvalidArgument(format!(
                "weight tensor should be defined either for all {classes} classes or no classes but got weight tensor of shape: {}",
                Shape(w.shape())
            )));
        }
        if target.dtype() != DType::I64 {
            return Err(Error::DtypeMismatch(format!(
                "expected target dtype to be Long or Byte, but got {}",
                target.dtype().scalar_type_name()
            )));
        }
        if !self.dtype().is_float() {
            return Err(Error::DtypeNotSupported {
                op: "nll_loss_out_frame",
                dtype: self.dtype().scalar_type_name(),
            });
        }
        if let Some(w) = weight
            && w.dtype() != self.dtype()
        {
            return Err(Error::DtypeMismatch(format!(
                "expected scalar type {} but found {}",
                self.dtype().scalar_type_name(),
                w.dtype().scalar_type_name()
            )));
        }
        let tv = target.contiguous_vec::<i64>()?;
        let (out, total) = match self.dtype() {
            DType::F32 => {
                let w = weight.map(|w| w.contiguous_vec::<f32>()).transpose()?;
                let (o, t) = nll_forward::<f32>(self, &tv, w.as_deref(), reduction, ignore_index)?;
                (o, t as f64)
            }
            _ => {
                let w = weight.map(|w| w.contiguous_vec::<f64>()).transpose()?;
                nll_forward::<f64>(self, &tv, w.as_deref(), reduction, ignore_index)?
            }
        };
        if let Some(mut rec) = Recorder::new("NllLossBackward0", &[self])? {
            let sx = rec.save(self);
            let st = rec.save(target);
            let sw = weight.map(|w| rec.save(w));
            rec.finish(&out, move |ctx, g| {
                let x = ctx.unpack(sx)?;
                let tv = ctx.unpack(st)?.contiguous_vec::<i64>()?;
                let w = sw.map(|s| ctx.unpack(s)).transpose()?;
                let shape = x.shape();
                // nll_loss_backward's check has no 1-D-target exception: libtorch's forward
                // accepts a [1] target for a [C] input, and its backward then fails (C > 1).
                if one_sample_1d && shape[0] != 1 {
                    return Err(Error::InvalidArgument(format!(
                        "size mismatch (got input: {}, target: [1])",
                        Shape(shape.clone())
                    )));
                }
                let g = crate::with_no_grad(|| g.to_dtype(x.dtype()))?;
                let gi = match x.dtype() {
                    DType::F32 => {
                        let w = w.map(|w| w.contiguous_vec::<f32>()).transpose()?;
                        nll_backward::<f32>(
                            &g,
                            &shape,
                            &tv,
                            w.as_deref(),
                            reduction,
                            ignore_index,
                            total as f32,
                        )?
                    }
                    _ => {
                        let w = w.map(|w| w.contiguous_vec::<f64>()).transpose()?;
                        nll_backward::<f64>(
                            &g,
                            &shape,
                            &tv,
                            w.as_deref(),
                            reduction,
                            ignore_index,
                            total,
                        )?
                    }
                };
                Ok(vec![Some(gi)])
            })?;
        }
        Ok(out)
    }

    /// `cross_entropy(input, target, weight, reduction, ignore_index, label_smoothing)`: class
    /// indices (1-D or 2-D input) or, for a target of the input's shape, class probabilities.
    pub fn cross_entropy(
        &self,
        target: &Tensor,
        weight: Option<&Tensor>,
        reduction: Reduction,
        ignore_index: i64,
        label_smoothing: f64,
    ) -> Result<Tensor> {
        if self.shape() == target.shape() {
            return self.cross_entropy_probs(
                target,
                weight,
                reduction,
                ignore_index,
                label_smoothing,
            );
        }
        let class_dim: i64 = if self.ndim() == 1 { 0 } else { 1 };
        if label_smoothing > 0.0 {
            if label_smoothing > 1.0 {
                return Err(Error::InvalidArgument(format!(
                    "label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}"
                )));
            }
            return self.cross_entropy_smoothed(
                target,
                weight,
                reduction,
                ignore_index,
                label_smoothing,
            );
        }
        let input = self.log_softmax(class_dim)?;
        input.nll_loss_nd(target, weight, reduction, ignore_index)
    }

    /// ATen's `nll_loss_nd` checks, then `nll_loss` (inputs of more than 2 dims are not
    /// supported here).
    pub fn nll_loss_nd(
        &self,
        target: &Tensor,
        weight: Option<&Tensor>,
        reduction: Reduction,
        ignore_index: i64,
    ) -> Result<Tensor> {
        let shape = self.shape();
        if shape.is_empty() {
            return Err(Error::InvalidArgument(
                "Expected 1 or more dimensions (got 0)".into(),
            ));
        }
        if shape.len() != 1 && target.shape().first() != Some(&shape[0]) {
            return Err(Error::InvalidArgument(format!(
                "Expected input batch_size ({}) to match target batch_size ({}).",
                shape[0],
                target.shape().first().copied().unwrap_or(0)
            )));
        }
        if shape.len() > 2 {
            return Err(Error::InvalidArgument(
                "nll_loss: inputs of more than 2 dims are not supported by this engine".into(),
            ));
        }
        self.nll_loss(target, weight, reduction, ignore_index)
    }

    /// `cross_entropy_loss_label_smoothing`.
    fn cross_entropy_smoothed(
        &self,
        target: &Tensor,
        weight: Option<&Tensor>,
        reduction: Reduction,
        ignore_index: i64,
        ls: f64,
    ) -> Result<Tensor> {
        let class_dim: usize = if self.ndim() == 1 { 0 } else { 1 };
        let input = self.log_softmax(class_dim as i64)?;
        let nll = input.nll_loss_nd(target, weight, reduction, ignore_index)?;
        let n_classes = input.shape()[class_dim];
        let smooth = match weight {
            Some(w) => {
                let mut bshape = vec![1i64; input.ndim()];
                bshape[class_dim] = w.shape()[0] as i64;
                input
                    .mul(&w.view(&bshape)?)?
                    .sum(Some(&[class_dim as i64]), false)?
                    .neg()?
            }
            None => input.sum(Some(&[class_dim as i64]), false)?.neg()?,
        };
        let ignore = target.eq_(ignore_index)?;
        smooth.masked_fill_(&ignore, 0.0)?;
        let ret = match reduction {
            Reduction::Mean => match weight {
                Some(w) => {
                    let kept = target.index_tensors(&[Some(ignore.logical_not_raw()?)])?;
                    smooth
                        .sum(None, false)?
                        .div(&w.index_tensors(&[Some(kept)])?.sum(None, false)?)?
                }
                None => smooth
                    .sum(None, false)?
                    .div(&ignore.logical_not_raw()?.sum(None, false)?)?,
            },
            Reduction::Sum => smooth.sum(None, false)?,
            Reduction::None => smooth,
        };
        mul_scalar1(&nll, 1.0 - ls)?.add(&mul_scalar1(&ret, ls / n_classes as f64)?)
    }

    /// `cross_entropy_loss_prob_target`: `target` holds class probabilities.
    fn cross_entropy_probs(
        &self,
        target: &Tensor,
        weight: Option<&Tensor>,
        reduction: Reduction,
        ignore_index: i64,
        ls: f64,
    ) -> Result<Tensor> {
        if !target.dtype().is_float() {
            return Err(Error::InvalidArgument(format!(
                "Expected floating point type for target with class probabilities, got {}",
                target.dtype().scalar_type_name()
            )));
        }
        if ignore_index >= 0 {
            return Err(Error::InvalidArgument(
                "ignore_index is not supported for floating point target".into(),
            ));
        }
        let class_dim: usize = if self.ndim() == 1 { 0 } else { 1 };
        let n_classes = self.shape().get(class_dim).copied().unwrap_or(1);
        if let Some(w) = weight
            && (w.ndim() != 1 || w.numel() != n_classes)
        {
            return Err(Error::InvalidArgument(format!(
                "cross_entropy: weight tensor should be defined either for all {n_classes} classes or no classes but got weight tensor of shape: {}",
                Shape(w.shape())
            )));
        }
        let input = self.log_softmax(class_dim as i64)?;
        let target = if ls > 0.0 {
            if ls > 1.0 {
                return Err(Error::InvalidArgument(format!(
                    "label_smoothing must be between 0.0 and 1.0. Got: {ls}"
                )));
            }
            target.mul(1.0 - ls)?.add(ls / n_classes as f64)?
        } else {
            target.clone()
        };
        let mut prod = input.mul(&target)?;
        if let Some(w) = weight {
            let w = if input.ndim() > 1 {
                let mut bshape = vec![1i64; input.ndim()];
                bshape[1] = w.shape()[0] as i64;
                w.view(&bshape)?
            } else {
                w.clone()
            };
            prod = prod.mul(&w)?;
        }
        match reduction {
            Reduction::Mean => {
                let s = prod.sum(None, false)?.neg()?;
                if input.numel() == 0 {
                    return s.full_like(Scalar::Float(f64::NAN));
                }
                div_scalar1(&s, (input.numel() / n_classes) as f64)
            }
            Reduction::Sum => prod.sum(None, false)?.neg(),
            Reduction::None => prod.sum(Some(&[class_dim as i64]), false)?.neg(),
        }
    }

    /// `~mask` for a bool tensor, without history.
    fn logical_not_raw(&self) -> Result<Tensor> {
        self.eq_(false)
    }
}
