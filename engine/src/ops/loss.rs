//! Loss functions: the `reduction=` argument they share and `mse_loss`
//! (`MseLossBackward0`).

use super::cast;
use crate::DType;
use crate::autograd::{Recorder, opt};
use crate::cpu::contiguous;
use crate::error::{Error, Result};
use crate::layout::broadcast_shapes;
use crate::storage::StorageElem;
use crate::tensor::Tensor;

/// `reduction=` of the loss functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    None,
    #[default]
    Mean,
    Sum,
}

impl Tensor {
    /// `torch.nn.functional.mse_loss` as `at::mse_loss` computes it: operands broadcast and
    /// promote (`MseLossBackward0`).
    pub fn mse_loss(&self, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
        crate::autograd::precheck(&[self, target])?;
        let dt =
            crate::dtype::promote_tensors(self.dtype(), self.ndim(), target.dtype(), target.ndim());
        if !dt.is_float() {
            return Err(Error::DtypeNotSupported {
                op: "mse_cpu",
                dtype: dt.scalar_type_name(),
            });
        }
        broadcast_shapes(&self.shape(), &target.shape())?;
        // The fused kernels read contiguous host runs; an empty view may sit past its storage.
        // Elsewhere (CUDA included) the loss is composed of ops.
        let fast = self.device() == crate::Device::Cpu
            && target.device() == crate::Device::Cpu
            && self.shape() == target.shape()
            && self.dtype() == target.dtype()
            && self.numel() > 0
            && self.is_contiguous()
            && target.is_contiguous();
        let out = if fast {
            mse_forward_fused(self, target, reduction)?
        } else {
            crate::with_no_grad(|| -> Result<Tensor> {
                // Promoted first, as TensorIterator does: a bool operand is no subtraction.
                let d = cast(self, dt)?.sub(&cast(target, dt)?)?;
                let sq = d.mul(&d)?;
                match reduction {
                    Reduction::None => Ok(sq),
                    Reduction::Sum => sq.sum(None, false),
                    Reduction::Mean => sq.mean(None, false),
                }
            })?
        };
        if let Some(mut rec) = Recorder::new("MseLossBackward0", &[self, target])? {
            let si = rec.save(self);
            let st = rec.save(target);
            let need = [rec.needs(0), rec.needs(1)];
            rec.finish(&out, move |ctx, g| {
                let (x, t) = (ctx.unpack(si)?, ctx.unpack(st)?);
                if fast {
                    let gx = mse_backward_fused(&x, &t, &g, reduction)?;
                    return Ok(vec![
                        need[0].then(|| gx.clone()),
                        opt(need[1], || gx.neg())?,
                    ]);
                }
                let diff = cast(&x, dt)?.sub(&cast(&t, dt)?)?;
                let scale = match reduction {
                    Reduction::Mean => 2.0 / diff.numel() as f64,
                    _ => 2.0,
                };
                let gx = diff.mul(scale)?.mul(&g)?;
                Ok(vec![
                    need[0].then(|| gx.clone()),
                    opt(need[1], || gx.neg())?,
                ])
            })?;
        }
        Ok(out)
    }
}

/// The elements of a host tensor in row-major order, borrowed when contiguous.
fn with_contiguous<T: StorageElem, R>(t: &Tensor, f: impl FnOnce(&[T]) -> R) -> Result<R> {
    t.with_slice(|s: &[T], l| f(&contiguous(s, l)))
}

/// `mse_loss` of same-shape, same-dtype host operands in one pass (sums accumulate in f64).
fn mse_forward_fused(x: &Tensor, t: &Tensor, reduction: Reduction) -> Result<Tensor> {
    fn typed<T: crate::cpu::Float + StorageElem>(
        x: &Tensor,
        t: &Tensor,
        reduction: Reduction,
    ) -> Result<Tensor> {
        let n = x.numel();
        with_contiguous(x, |xs: &[T]| {
            with_contiguous(t, |ts: &[T]| match reduction {
                Reduction::None => {
                    let v: Vec<T> = xs
                        .iter()
                        .zip(ts)
                        .map(|(&a, &b)| (a - b) * (a - b))
                        .collect();
                    Tensor::from_vec(v, &x.shape())
                }
                _ => {
                    let mut sum = 0f64;
                    for (&a, &b) in xs.iter().zip(ts) {
                        let d = (a - b).to_f64();
                        sum += d * d;
                    }
                    if reduction == Reduction::Mean {
                        sum /= n as f64;
                    }
                    Tensor::from_vec(vec![T::from_f64(sum)], &[])
                }
            })
        })??
    }
    match x.dtype() {
        DType::F32 => typed::<f32>(x, t, reduction),
        DType::F64 => typed::<f64>(x, t, reduction),
        d => Err(Error::DtypeNotSupported {
            op: "mse_cpu",
            dtype: d.scalar_type_name(),
        }),
    }
}

/// `d mse / d input` for same-shape host operands: `scale * (x - t) * g`, with `g` a scalar for
/// the reduced losses.
fn mse_backward_fused(x: &Tensor, t: &Tensor, g: &Tensor, reduction: Reduction) -> Result<Tensor> {
    fn typed<T: crate::cpu::Float + StorageElem>(
        x: &Tensor,
        t: &Tensor,
        g: &Tensor,
        reduction: Reduction,
    ) -> Result<Tensor> {
        let n = x.numel();
        let scale = match reduction {
            Reduction::Mean => T::from_f64(2.0 / n as f64),
            _ => T::from_f64(2.0),
        };
        let g = if g.dtype() == T::DTYPE {
            g.clone()
        } else {
            cast(g, T::DTYPE)?
        };
        let g = if reduction == Reduction::None {
            g
        } else {
            g.expand_raw(&x.shape())?
        };
        with_contiguous(x, |xs: &[T]| {
            with_contiguous(t, |ts: &[T]| {
                with_contiguous(&g, |gs: &[T]| {
                    let v: Vec<T> = xs
                        .iter()
                        .zip(ts)
                        .zip(gs)
                        .map(|((&a, &b), &gv)| scale * (a - b) * gv)
                        .collect();
                    Tensor::from_vec(v, &x.shape())
                })
            })
        })???
    }
    match x.dtype() {
        DType::F32 => typed::<f32>(x, t, g, reduction),
        DType::F64 => typed::<f64>(x, t, g, reduction),
        d => Err(Error::DtypeNotSupported {
            op: "mse_backward_cpu",
            dtype: d.scalar_type_name(),
        }),
    }
}
