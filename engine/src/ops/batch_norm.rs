//! `torch.batch_norm` (`at::batch_norm` → `native_batch_norm`, `NativeBatchNormBackward0` in
//! training and in evaluation) for `(N, C, ...)` inputs, as ATen's CPU kernels compute it
//! (`Normalization.cpp`, `batch_norm_kernel.cpp`):
//!
//! - training: per-channel mean (sum in double) and biased variance (squares of float
//!   deviations summed in double), `invstd = 1 / sqrt(var + eps)` in double; the running stats
//!   are updated in place with the unbiased variance, *without* a version bump (they are not
//!   outputs of the op);
//! - evaluation: the running stats, `invstd` in the input's type;
//! - output `x * alpha + beta` (fused) with `alpha = invstd * weight`, `beta = bias - mean * alpha`.
//!
//! The backward is `batch_norm_cpu_backward_contiguous_impl`'s arithmetic, in the same order.

use crate::autograd::{Recorder, opt};
use crate::error::{Error, Result};
use crate::storage::StorageElem;
use crate::tensor::Tensor;
use crate::{DType, with_no_grad};
use num_traits::Float;

// `Float`'s constants (the storage element trait has its own `zero`/`one`).
fn z<T: Float>() -> T {
    T::zero()
}
fn o<T: Float>() -> T {
    T::one()
}
fn from<T: Float>(v: f64) -> T {
    T::from(v).unwrap_or(T::nan())
}

/// `(N, C, image)` geometry of a contiguous `(N, C, ...)` input.
#[derive(Clone, Copy)]
struct Geometry {
    n: usize,
    c: usize,
    image: usize,
}

impl Geometry {
    fn of(shape: &[usize]) -> Self {
        Geometry {
            n: shape[0],
            c: shape[1],
            image: shape[2..].iter().product(),
        }
    }
    /// Offsets of channel `c`'s plane in each batch entry.
    fn planes(self, c: usize) -> impl Iterator<Item = usize> {
        (0..self.n).map(move |b| (b * self.c + c) * self.image)
    }
    /// Elements per channel.
    fn count(self) -> usize {
        self.n * self.image
    }
}

fn values<T: StorageElem>(t: Option<&Tensor>) -> Result<Option<Vec<T>>> {
    t.map(|t| t.contiguous_vec::<T>()).transpose()
}

/// Forward: output, save_mean and save_invstd (empty in evaluation, as ATen's are), and the
/// running stats' new values in training.
#[allow(clippy::type_complexity)]
fn forward<T: Float + StorageElem>(
    x: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    running: Option<(&Tensor, &Tensor)>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Result<(Vec<T>, Vec<T>, Vec<T>, Option<(Vec<T>, Vec<T>)>)> {
    let g = Geometry::of(&x.shape());
    let xv = x.contiguous_vec::<T>()?;
    let (wv, bv) = (values::<T>(weight)?, values::<T>(bias)?);
    let mut mean = vec![z::<T>(); g.c];
    let mut invstd = vec![z::<T>(); g.c];
    let mut new_running = None;
    if training {
        let count = g.count();
        let mut var_sum = vec![z::<T>(); g.c];
        for c in 0..g.c {
            let mut sum = 0f64;
            for p in g.planes(c) {
                for &v in &xv[p..p + g.image] {
                    sum += v.to_f64();
                }
            }
            let m: T = from(sum / count as f64);
            let mut vs = 0f64;
            for p in g.planes(c) {
                for &v in &xv[p..p + g.image] {
                    let d = v - m;
                    vs += (d * d).to_f64();
                }
            }
            mean[c] = m;
            var_sum[c] = from(vs);
            // InvStd<double> of the float variance `var_sum / n`.
            let var: f64 = (var_sum[c] / from(count as f64)).to_f64();
            invstd[c] = if var != 0.0 || eps != 0.0 {
                from(1.0 / (var + eps).sqrt())
            } else {
                z()
            };
        }
        if let Some((rm, rv)) = running {
            let (rm, rv) = (rm.contiguous_vec::<T>()?, rv.contiguous_vec::<T>()?);
            let mom: T = from(momentum);
            let mom64 = mom.to_f64();
            let new_mean = (0..g.c)
                .map(|c| mom * mean[c] + (o::<T>() - mom) * rm[c])
                .collect();
            let new_var = (0..g.c)
                .map(|c| {
                    let unbiased = (var_sum[c] / from((count as f64) - 1.0)).to_f64();
                    let keep = ((o::<T>() - mom) * rv[c]).to_f64();
                    from(mom64 * unbiased + keep)
                })
                .collect();
            new_running = Some((new_mean, new_var));
        }
    } else if let Some((rm, rv)) = running {
        let (rm, rv) = (rm.contiguous_vec::<T>()?, rv.contiguous_vec::<T>()?);
        for c in 0..g.c {
            mean[c] = rm[c];
            invstd[c] = o::<T>() / (rv[c] + from(eps)).sqrt();
        }
    }
    // ATen's contiguous kernel computes `x * alpha + beta` as one `fmadd`; any other layout
    // goes through TensorIterator's `input * alpha + beta`, which libtorch builds without FMA
    // contraction (a constant channel then normalises to exactly 0).
    let fused = x.is_contiguous();
    let mut out = vec![z::<T>(); xv.len()];
    for c in 0..g.c {
        let w = wv.as_ref().map_or(o::<T>(), |w| w[c]);
        let b = bv.as_ref().map_or(z::<T>(), |b| b[c]);
        let alpha = invstd[c] * w;
        let beta = b - mean[c] * alpha;
        for p in g.planes(c) {
            for i in p..p + g.image {
                out[i] = if fused {
                    xv[i].mul_add(alpha, beta)
                } else {
                    xv[i] * alpha + beta
                };
            }
        }
    }
    let (save_mean, save_invstd) = if training {
        (mean, invstd)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok((out, save_mean, save_invstd, new_running))
}

/// `native_batch_norm_backward`: gradients of input, weight and bias (as asked).
#[allow(clippy::too_many_arguments)]
fn backward<T: Float + StorageElem>(
    dy: &Tensor,
    x: &Tensor,
    weight: Option<&Tensor>,
    running: Option<(&Tensor, &Tensor)>,
    save: (&[T], &[T]),
    training: bool,
    eps: f64,
    needs: [bool; 3],
) -> Result<[Option<Tensor>; 3]> {
    let shape = x.shape();
    let g = Geometry::of(&shape);
    let (xv, dyv) = (x.contiguous_vec::<T>()?, dy.contiguous_vec::<T>()?);
    let wv = values::<T>(weight)?;
    let running = match running {
        Some((rm, rv)) => Some((rm.contiguous_vec::<T>()?, rv.contiguous_vec::<T>()?)),
        None => None,
    };
    let mut gi = vec![z::<T>(); xv.len()];
    let mut gw = vec![z::<T>(); g.c];
    let mut gb = vec![z::<T>(); g.c];
    let n = from::<T>(g.count() as f64);
    for c in 0..g.c {
        let w = wv.as_ref().map_or(o::<T>(), |w| w[c]);
        let (mean, invstd) = if training {
            (save.0[c], save.1[c])
        } else {
            let (rm, rv) = running.as_ref().ok_or_else(|| {
                Error::InvalidArgument("running_mean must be defined in evaluation mode".into())
            })?;
            let rv = rv[c].to_f64();
            (rm[c], from(1.0 / (rv + eps).sqrt()))
        };
        // Per plane, a float fold (vec::reduce_all), accumulated across planes in double.
        let (mut sum, mut dotp) = (0f64, 0f64);
        for p in g.planes(c) {
            let (mut s, mut d) = (z::<T>(), z::<T>());
            for i in p..p + g.image {
                s = s + dyv[i];
                d = d + (xv[i] - mean) * dyv[i];
            }
            sum += s.to_f64();
            dotp += d.to_f64();
        }
        if needs[0] {
            if training {
                let k = from::<T>(dotp) * invstd * invstd / n;
                let grad_mean = from::<T>(sum / g.count() as f64);
                for p in g.planes(c) {
                    for i in p..p + g.image {
                        // `dy - grad_mean - (x - mean) * k`, contracted to one FMA by the
                        // compiler in ATen's vectorised kernel.
                        let t = dyv[i] - grad_mean;
                        gi[i] = (-(xv[i] - mean)).mul_add(k, t) * invstd * w;
                    }
                }
            } else {
                for p in g.planes(c) {
                    for i in p..p + g.image {
                        gi[i] = dyv[i] * invstd * w;
                    }
                }
            }
        }
        gw[c] = from(dotp * invstd.to_f64());
        gb[c] = from(sum);
    }
    Ok([
        opt(needs[0], || Tensor::from_vec(gi, &shape))?,
        opt(needs[1], || Tensor::from_vec(gw, &[g.c]))?,
        opt(needs[2], || Tensor::from_vec(gb, &[g.c]))?,
    ])
}

fn check_features(name: &str, expected: usize, t: Option<&Tensor>) -> Result<()> {
    if let Some(t) = t
        && t.numel() != expected
    {
        return Err(Error::InvalidArgument(format!(
            "{name} should contain {expected} elements not {}",
            t.numel()
        )));
    }
    Ok(())
}

impl Tensor {
    /// `torch.batch_norm(input, weight, bias, running_mean, running_var, training, momentum,
    /// eps)` for an `(N, C, ...)` input (`NativeBatchNormBackward0`). In training the running
    /// stats (when given) are updated in place.
    #[allow(clippy::too_many_arguments)]
    pub fn batch_norm(
        &self,
        weight: Option<&Tensor>,
        bias: Option<&Tensor>,
        running_mean: Option<&Tensor>,
        running_var: Option<&Tensor>,
        training: bool,
        momentum: f64,
        eps: f64,
    ) -> Result<Tensor> {
        let all = [Some(self), weight, bias, running_mean, running_var];
        if all.iter().flatten().any(|t| t.device().is_cuda()) {
            return Err(Error::NotSupportedOnCuda { op: "batch_norm" });
        }
        let diff: Vec<&Tensor> = [Some(self), weight, bias].into_iter().flatten().collect();
        crate::autograd::precheck(&diff)?;
        let shape = self.shape();
        if shape.len() < 2 {
            return Err(Error::DimOutOfRange {
                dim: 1,
                min: -(shape.len().max(1) as i64),
                max: shape.len().max(1) as i64 - 1,
            });
        }
        let c = shape[1];
        if self.numel() == 0 {
            return with_no_grad(|| self.clone_tensor());
        }
        check_features("running_mean", c, running_mean)?;
        if running_mean.is_none() && !training {
            return Err(Error::InvalidArgument(
                "running_mean must be defined in evaluation mode".into(),
            ));
        }
        check_features("running_var", c, running_var)?;
        if running_var.is_none() && !training {
            return Err(Error::InvalidArgument(
                "running_var must be defined in evaluation mode".into(),
            ));
        }
        check_features("weight", c, weight)?;
        check_features("bias", c, bias)?;
        if !self.dtype().is_float() {
            return Err(Error::DtypeNotSupported {
                op: "batch_norm",
                dtype: self.dtype().scalar_type_name(),
            });
        }
        for t in [weight, bias, running_mean, running_var]
            .into_iter()
            .flatten()
        {
            if t.dtype() != self.dtype() {
                return Err(Error::DtypeMismatch(format!(
                    "expected scalar type {} but found {}",
                    self.dtype().scalar_type_name(),
                    t.dtype().scalar_type_name()
                )));
            }
        }
        let running = running_mean.zip(running_var);
        let (out, save_mean, save_invstd) = match self.dtype() {
            DType::F32 => {
                let (o, m, s, r) =
                    forward::<f32>(self, weight, bias, running, training, momentum, eps)?;
                if let (Some((rm, rv)), Some((nm, nv))) = (running, r) {
                    rm.write_values(&f32::wrap(nm))?;
                    rv.write_values(&f32::wrap(nv))?;
                }
                let f = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<_>>();
                (Tensor::from_vec(o, &shape)?, f(m), f(s))
            }
            _ => {
                let (o, m, s, r) =
                    forward::<f64>(self, weight, bias, running, training, momentum, eps)?;
                if let (Some((rm, rv)), Some((nm, nv))) = (running, r) {
                    rm.write_values(&f64::wrap(nm))?;
                    rv.write_values(&f64::wrap(nv))?;
                }
                (Tensor::from_vec(o, &shape)?, m, s)
            }
        };
        // libtorch's node has an edge per input, weight and bias (None for an absent one).
        let absent = Tensor::zeros(&[0], self.dtype())?;
        let (w_given, b_given) = (weight.is_some(), bias.is_some());
        let recorded = [self, weight.unwrap_or(&absent), bias.unwrap_or(&absent)];
        if let Some(mut rec) = Recorder::new("NativeBatchNormBackward0", &recorded)? {
            let needs = [rec.needs(0), rec.needs(1), rec.needs(2)];
            let sx = rec.save(self);
            let sw = weight.map(|w| rec.save(w));
            let srm = running_mean.map(|t| rec.save(t));
            let srv = running_var.map(|t| rec.save(t));
            let dtype = self.dtype();
            rec.finish(&out, move |ctx, g| {
                let x = ctx.unpack(sx)?;
                let w = sw.map(|s| ctx.unpack(s)).transpose()?;
                let rm = srm.map(|s| ctx.unpack(s)).transpose()?;
                let rv = srv.map(|s| ctx.unpack(s)).transpose()?;
                let running = rm.as_ref().zip(rv.as_ref());
                let g = with_no_grad(|| g.to_dtype(dtype))?;
                let [gi, gw, gb] = match dtype {
                    DType::F32 => {
                        let m: Vec<f32> = save_mean.iter().map(|&v| v as f32).collect();
                        let s: Vec<f32> = save_invstd.iter().map(|&v| v as f32).collect();
                        backward::<f32>(
                            &g,
                            &x,
                            w.as_ref(),
                            running,
                            (&m, &s),
                            training,
                            eps,
                            needs,
                        )?
                    }
                    _ => backward::<f64>(
                        &g,
                        &x,
                        w.as_ref(),
                        running,
                        (&save_mean, &save_invstd),
                        training,
                        eps,
                        needs,
                    )?,
                };
                Ok(vec![gi, gw.filter(|_| w_given), gb.filter(|_| b_given)])
            })?;
        }
        Ok(out)
    }
}
