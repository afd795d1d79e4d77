//! Reductions (sum, mean, max/min), softmax and log_softmax, with their backward rules.

use super::{cast, cpu_only, split_rows, to_device_raw};
use crate::autograd::Recorder;
use crate::error::{Error, Result};
use crate::layout::{Layout, contiguous_strides, wrap_dim};
use crate::tensor::Tensor;
use crate::{DType, Scalar};

/// Normalised, deduplicated reduction dims (`None` = all) and the keepdim output shape.
fn reduce_dims(shape: &[usize], dims: Option<&[i64]>) -> Result<(Vec<bool>, Vec<usize>)> {
    let n = shape.len();
    // `sum(dim=[])` reduces everything, like `sum()`.
    let mut red = vec![dims.is_none_or(|d| d.is_empty()); n];
    if let Some(ds) = dims {
        let mut seen = vec![false; n.max(1)];
        for &d in ds {
            let w = wrap_dim(d, n)?;
            if seen[w] {
                return Err(Error::InvalidArgument(format!(
                    "dim {w} appears multiple times in the list of dims"
                )));
            }
            seen[w] = true;
            if n > 0 {
                red[w] = true;
            }
        }
    }
    let keep: Vec<usize> = shape
        .iter()
        .zip(&red)
        .map(|(&s, &r)| if r { 1 } else { s })
        .collect();
    Ok((red, keep))
}

fn drop_reduced(keep: &[usize], red: &[bool]) -> Vec<usize> {
    keep.iter()
        .zip(red)
        .filter(|p| !*p.1)
        .map(|p| *p.0)
        .collect()
}

impl Tensor {
    /// `sum()` over everything (`dims: None`, `SumBackward0`) or over `dims`
    /// (`SumBackward1`). Integer and bool tensors sum to i64.
    pub fn sum(&self, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        let shape = self.shape();
        let (red, keep) = reduce_dims(&shape, dims)?;
        let out_dtype = if self.dtype().is_float() {
            self.dtype()
        } else {
            DType::I64
        };
        let s = self.with_storage(|s, l| s.sum(l, &red, out_dtype))?;
        let k = Tensor::from_new_storage(s, keep.clone(), contiguous_strides(&keep));
        let out = if keepdim {
            k
        } else {
            k.raw_reshape(&drop_reduced(&keep, &red))?
        };
        let name = if dims.is_none() {
            "SumBackward0"
        } else {
            "SumBackward1"
        };
        if let Some(rec) = Recorder::new(name, &[self])? {
            // The implicit seed of `backward()` is made on the host; the expanded gradient
            // must live on the input's device (libtorch's validate_outputs moves 0-dim grads).
            let device = self.device();
            rec.finish(&out, move |_, g| {
                let g = to_device_raw(&g, device)?;
                Ok(vec![Some(g.raw_reshape(&keep)?.expand_raw(&shape)?)])
            })?;
        }
        Ok(out)
    }

    /// `mean()` / `mean(dims, keepdim)` (`MeanBackward0` / `MeanBackward1`); floats only.
    pub fn mean(&self, dims: Option<&[i64]>, keepdim: bool) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        if !self.dtype().is_float() {
            return Err(Error::InvalidArgument(format!(
                "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: {}",
                self.dtype().scalar_type_name()
            )));
        }
        let shape = self.shape();
        let (red, keep) = reduce_dims(&shape, dims)?;
        let count: usize = shape
            .iter()
            .zip(&red)
            .filter(|p| *p.1)
            .map(|p| *p.0)
            .product();
        let s = crate::grad_mode::with_no_grad(|| self.sum(dims, keepdim))?;
        let out = s.div_raw(count as f64)?;
        let name = if dims.is_none() {
            "MeanBackward0"
        } else {
            "MeanBackward1"
        };
        if let Some(rec) = Recorder::new(name, &[self])? {
            let device = self.device();
            rec.finish(&out, move |_, g| {
                let g = to_device_raw(&g, device)?;
                Ok(vec![Some(
                    g.raw_reshape(&keep)?
                        .expand_raw(&shape)?
                        .div(count as f64)?,
                )])
            })?;
        }
        Ok(out)
    }

    fn div_raw(&self, d: f64) -> Result<Tensor> {
        crate::grad_mode::with_no_grad(|| self.div(d))
    }

    /// A reshape of a contiguous result without autograd (for kernels and rules).
    pub(crate) fn raw_reshape(&self, shape: &[usize]) -> Result<Tensor> {
        let t = if self.is_contiguous() {
            self.clone()
        } else {
            super::copy_raw(self)?
        };
        let d = t.data_ref();
        let l = Layout {
            shape: shape.to_vec(),
            strides: contiguous_strides(shape),
            offset: d.layout.offset,
        };
        Ok(Tensor::from_parts(d.storage, l, d.dtype))
    }

    /// `max()` over all elements (`MaxBackward1`).
    pub fn max_all(&self) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        self.extreme_all(true)
    }
    /// `min()` over all elements (`MinBackward1`).
    pub fn min_all(&self) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        self.extreme_all(false)
    }
    fn extreme_all(&self, is_max: bool) -> Result<Tensor> {
        let op = if is_max { "max" } else { "min" };
        if self.numel() == 0 {
            return Err(Error::EmptyReduction { op });
        }
        let s = self.with_storage(|s, l| s.extreme_all(l, is_max))?;
        let out = Tensor::from_new_storage(s, Vec::new(), Vec::new());
        let name = if is_max {
            "MaxBackward1"
        } else {
            "MinBackward1"
        };
        if let Some(mut rec) = Recorder::new(name, &[self])? {
            let sx = rec.save(self);
            let so = rec.save_output(&out);
            rec.finish(&out, move |ctx, g| {
                // The gradient is shared evenly between all elements equal to the result.
                let x = ctx.unpack(sx)?;
                let r = ctx.unpack(so)?;
                // libtorch's `evenly_distribute_backward` on the CPU: zeros, then
                // `masked_fill_` (so +0.0 elsewhere, and the result is at version 1).
                // A NaN result is shared between the NaN elements (`input.isnan()`).
                let mask = if r.item()?.as_f64().is_nan() {
                    x.ne(&x)?
                } else {
                    x.eq_(&r)?
                };
                let count = cast(&mask, x.dtype())?.sum(None, false)?;
                let share = g.div(&count)?;
                let out = mask.where_(
                    &crate::ops::elementwise::Operand::Tensor(share),
                    &crate::ops::elementwise::Operand::Scalar(crate::Scalar::Float(0.0)),
                )?;
                out.0.version.bump();
                Ok(vec![Some(out)])
            })?;
        }
        Ok(out)
    }

    /// `max(dim, keepdim)` → `(values, indices)` (`MaxBackward0`).
    pub fn max_dim(&self, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
        crate::autograd::precheck(&[self])?;
        self.extreme_dim(dim, keepdim, true)
    }
    /// `min(dim, keepdim)` → `(values, indices)` (`MinBackward0`).
    pub fn min_dim(&self, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
        crate::autograd::precheck(&[self])?;
        self.extreme_dim(dim, keepdim, false)
    }
    fn extreme_dim(&self, dim: i64, keepdim: bool, is_max: bool) -> Result<(Tensor, Tensor)> {
        // The kernel walks host memory, and its backward scatters on the host.
        cpu_only(if is_max { "max" } else { "min" }, &[self])?;
        let shape = self.shape();
        let x = if shape.is_empty() {
            self.raw_reshape(&[1])?
        } else {
            self.clone()
        };
        let d = wrap_dim(dim, x.ndim())?;
        let l = x.layout();
        if l.shape[d] == 0 {
            return Err(Error::InvalidArgument(format!(
                "{}(): Expected reduction dim {d} to have non-zero size.",
                if is_max { "max" } else { "min" }
            )));
        }
        let (outer, len, stride) = split_rows(&l, d);
        let mut vals = Vec::new();
        let mut idxs = Vec::new();
        let data = x.to_flat_storage_f64();
        for start in outer.indices() {
            let mut bi = 0usize;
            let mut bv = data[start];
            for k in 1..len {
                let v = data[(start as isize + k as isize * stride) as usize];
                if bv.is_nan() {
                    break;
                }
                if v.is_nan() || ((v > bv) == is_max && v != bv) {
                    bv = v;
                    bi = k;
                }
            }
            vals.push(bv);
            idxs.push(bi as f64);
        }
        let mut keep = l.shape.clone();
        keep[d] = 1;
        let out_shape: Vec<usize> = if keepdim {
            if shape.is_empty() {
                vec![]
            } else {
                keep.clone()
            }
        } else {
            outer.shape.clone()
        };
        let out_shape = if shape.is_empty() { vec![] } else { out_shape };
        let values = Tensor::from_f64(&vals, &out_shape, self.dtype())?;
        let indices = Tensor::from_f64(&idxs, &out_shape, DType::I64)?;
        let name = if is_max {
            "MaxBackward0"
        } else {
            "MinBackward0"
        };
        if let Some(mut rec) = Recorder::new(name, &[self])? {
            let si = rec.save(&indices);
            let in_shape = l.shape.clone();
            let orig = shape.clone();
            rec.finish(&values, move |ctx, g| {
                let idx = ctx.unpack(si)?.to_vec_f64();
                let gv = g.contiguous_vec_f64();
                let z = Tensor::full(&in_shape, Scalar::Int(0), g.dtype())?;
                let zl = z.layout();
                let (zo, _, zs) = split_rows(&zl, d);
                let mut flat = vec![0f64; zl.numel()];
                let len = zl.shape[d];
                for (r, start) in zo.indices().enumerate() {
                    // The saved indices can be overwritten through `.data`; `scatter_` checks.
                    let i = idx[r] as i64;
                    if i < 0 || i >= len as i64 {
                        return Err(Error::IndexOutOfRange {
                            index: i,
                            dim: d,
                            size: len,
                        });
                    }
                    flat[(start as isize + i as isize * zs) as usize] = gv[r];
                }
                // libtorch's `value_selecting_reduction_backward`: `at::zeros` (whose `zero_`
                // is dispatched through autograd) then `scatter_`: the result is at version 2.
                let out = Tensor::from_f64(&flat, &orig, g.dtype())?;
                out.0.version.bump();
                out.0.version.bump();
                Ok(vec![Some(out)])
            })?;
        }
        Ok((values, indices))
    }

    /// The storage as f64, indexed like the storage (for kernels that walk raw indices).
    pub(crate) fn to_flat_storage_f64(&self) -> Vec<f64> {
        let d = self.data_ref();
        let s = d.storage.read().unwrap();
        match s.cpu() {
            Some(c) => (0..c.len()).map(|i| c.get_f64(i)).collect(),
            None => Vec::new(),
        }
    }

    pub(crate) fn contiguous_vec_f64(&self) -> Vec<f64> {
        self.to_vec_f64()
    }

    /// `softmax(dim)` (`SoftmaxBackward0`).
    pub fn softmax(&self, dim: i64) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        self.softmax_impl(dim, false)
    }
    /// `log_softmax(dim)` (`LogSoftmaxBackward0`).
    pub fn log_softmax(&self, dim: i64) -> Result<Tensor> {
        crate::autograd::precheck(&[self])?;
        self.softmax_impl(dim, true)
    }
    fn softmax_impl(&self, dim: i64, log: bool) -> Result<Tensor> {
        let shape = self.shape();
        let x = if shape.is_empty() {
            self.raw_reshape(&[1])?
        } else {
            self.clone()
        };
        let d = wrap_dim(dim, x.ndim())?;
        // ATen returns an empty input before dispatching on its dtype.
        if !self.dtype().is_float() && self.numel() == 0 {
            return Tensor::full(&shape, Scalar::Int(0), self.dtype());
        }
        if !self.dtype().is_float() {
            let last = d + 1 == x.ndim();
            return Err(Error::DtypeNotSupported {
                op: match (log, last) {
                    (false, true) => "softmax_lastdim_kernel_impl",
                    (false, false) => "softmax_kernel_impl",
                    (true, true) => "log_softmax_lastdim_kernel_impl",
                    (true, false) => "log_softmax_kernel_impl",
                },
                dtype: self.dtype().scalar_type_name(),
            });
        }
        let s = x.with_storage(|s, l| s.softmax(l, d, log))?;
        let out = Tensor::from_new_storage(s, shape.clone(), contiguous_strides(&shape));
        let name = if log {
            "LogSoftmaxBackward0"
        } else {
            "SoftmaxBackward0"
        };
        if let Some(mut rec) = Recorder::new(name, &[self])? {
            let so = rec.save_output(&out);
            let dd = [d as i64];
            rec.finish(&out, move |ctx, g| {
                let y = ctx.unpack(so)?;
                let (g1, y1) = if y.ndim() == 0 {
                    (g.raw_reshape(&[1])?, y.raw_reshape(&[1])?)
                } else {
                    (g.clone(), y.clone())
                };
                let r = if log {
                    g1.sub(&y1.exp()?.mul(&g1.sum(Some(&dd), true)?)?)?
                } else {
                    g1.sub(&g1.mul(&y1)?.sum(Some(&dd), true)?)?.mul(&y1)?
                };
                Ok(vec![Some(r.raw_reshape(&g.shape())?)])
            })?;
        }
        Ok(out)
    }
}
