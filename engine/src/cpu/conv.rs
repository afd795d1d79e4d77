//! 2-D convolution (cross-correlation, as `torch.nn.functional.conv2d` computes it) and its
//! three gradients, by im2col + GEMM.
//!
//! The column buffer is built one image at a time per worker thread, never for the whole
//! batch: for seed 000's stack a whole-batch buffer would be larger than every activation put
//! together, and peak memory is held to libtorch's. Work is split over images when the batch
//! is at least as large as the thread count, otherwise each GEMM is split instead.
//!
//! Layouts: input `[n, c_in, h, w]`, weight `[c_out, c_in / groups, kh, kw]`, output
//! `[n, c_out, oh, ow]`, all contiguous row-major.

use super::gemm::{Accumulate, MatLayout, matmul};
use super::{Float, KernelError, num_threads};
use rayon::prelude::*;

/// Everything that fixes the shapes of a 2-D convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dGeometry {
    pub batch: usize,
    pub in_channels: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub out_channels: usize,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub dilation: (usize, usize),
    pub groups: usize,
}

impl Conv2dGeometry {
    /// Output height and width; None when the (dilated) kernel does not fit the padded input.
    pub fn out_hw(&self) -> Option<(usize, usize)> {
        let dim = |len: usize, k: usize, s: usize, p: usize, d: usize| {
            let span = d.checked_mul(k.checked_sub(1)?)?.checked_add(1)?;
            let padded = len.checked_add(2 * p)?;
            (s > 0 && padded >= span).then(|| (padded - span) / s + 1)
        };
        Some((
            dim(
                self.in_h,
                self.kernel.0,
                self.stride.0,
                self.padding.0,
                self.dilation.0,
            )?,
            dim(
                self.in_w,
                self.kernel.1,
                self.stride.1,
                self.padding.1,
                self.dilation.1,
            )?,
        ))
    }

    pub fn input_len(&self) -> usize {
        self.batch * self.in_channels * self.in_h * self.in_w
    }

    pub fn weight_len(&self) -> usize {
        self.out_channels * self.group_in() * self.kernel.0 * self.kernel.1
    }

    pub fn output_len(&self) -> usize {
        let (oh, ow) = self.out_hw().unwrap_or((0, 0));
        self.batch * self.out_channels * oh * ow
    }

    fn group_in(&self) -> usize {
        self.in_channels / self.groups.max(1)
    }

    fn group_out(&self) -> usize {
        self.out_channels / self.groups.max(1)
    }

    /// Rows of a group's column matrix: one per (input channel, kernel row, kernel column).
    fn col_rows(&self) -> usize {
        self.group_in() * self.kernel.0 * self.kernel.1
    }

    /// A 1×1 kernel with unit stride and no padding reads the image itself as its columns.
    fn is_pointwise(&self) -> bool {
        self.kernel == (1, 1) && self.stride == (1, 1) && self.padding == (0, 0)
    }

    fn validate(&self) -> Result<(usize, usize), KernelError> {
        let bad = |m: String| Err(KernelError::InvalidGeometry(m));
        if self.groups == 0
            || !self.in_channels.is_multiple_of(self.groups)
            || !self.out_channels.is_multiple_of(self.groups)
        {
            return bad(format!(
                "groups {} must divide in_channels {} and out_channels {}",
                self.groups, self.in_channels, self.out_channels
            ));
        }
        if self.dilation.0 == 0 || self.dilation.1 == 0 || self.kernel.0 == 0 || self.kernel.1 == 0
        {
            return bad("kernel and dilation must be positive".into());
        }
        match self.out_hw() {
            Some(hw) => Ok(hw),
            None => bad(format!("kernel does not fit the padded input: {self:?}")),
        }
    }
}

fn check_len(what: &'static str, len: usize, want: usize) -> Result<(), KernelError> {
    if len == want {
        Ok(())
    } else {
        Err(KernelError::ShapeMismatch {
            what,
            detail: format!("buffer holds {len} elements, geometry needs {want}"),
        })
    }
}

/// For kernel offset `k_off` (already dilated) along one axis: the range of output positions
/// whose input position `o * stride + k_off - pad` lies inside `0..len`.
fn valid_range(out: usize, len: usize, stride: usize, k_off: usize, pad: usize) -> (usize, usize) {
    // o * stride + k_off >= pad  <=>  o >= ceil((pad - k_off) / stride)
    let lo = if k_off >= pad {
        0
    } else {
        (pad - k_off).div_ceil(stride)
    };
    // o * stride + k_off - pad < len  <=>  o * stride < len + pad - k_off
    let hi = if len + pad <= k_off {
        0
    } else {
        (len + pad - k_off).div_ceil(stride)
    };
    (lo.min(out), hi.min(out).max(lo.min(out)))
}

/// Writes the column matrix `[c * kh * kw, oh * ow]` of one group of one image
/// (`img` is `[c, h, w]`). Padding reads as zero.
fn im2col<T: Float>(g: &Conv2dGeometry, oh: usize, ow: usize, img: &[T], col: &mut [T]) {
    let (h, w) = (g.in_h, g.in_w);
    let (kh, kw) = g.kernel;
    let (sh, sw) = g.stride;
    let (ph, pw) = g.padding;
    let (dh, dw) = g.dilation;
    let l = oh * ow;
    for c in 0..g.group_in() {
        let plane = &img[c * h * w..(c + 1) * h * w];
        for ki in 0..kh {
            let (oy_lo, oy_hi) = valid_range(oh, h, sh, ki * dh, ph);
            for kj in 0..kw {
                let (ox_lo, ox_hi) = valid_range(ow, w, sw, kj * dw, pw);
                let row = &mut col[((c * kh + ki) * kw + kj) * l..][..l];
                row[..oy_lo * ow].fill(T::ZERO);
                row[oy_hi * ow..].fill(T::ZERO);
                for oy in oy_lo..oy_hi {
                    let iy = oy * sh + ki * dh - ph;
                    let src = &plane[iy * w..(iy + 1) * w];
                    let dst = &mut row[oy * ow..(oy + 1) * ow];
                    dst[..ox_lo].fill(T::ZERO);
                    dst[ox_hi..].fill(T::ZERO);
                    let x0 = ox_lo * sw + kj * dw - pw;
                    if sw == 1 {
                        dst[ox_lo..ox_hi].copy_from_slice(&src[x0..x0 + (ox_hi - ox_lo)]);
                    } else {
                        for (d, s) in dst[ox_lo..ox_hi]
                            .iter_mut()
                            .zip(src[x0..].iter().step_by(sw))
                        {
                            *d = *s;
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds each column entry back onto the input pixel it was read
/// from (`img` must be zeroed or hold a gradient to add to).
fn col2im<T: Float>(g: &Conv2dGeometry, oh: usize, ow: usize, col: &[T], img: &mut [T]) {
    let (h, w) = (g.in_h, g.in_w);
    let (kh, kw) = g.kernel;
    let (sh, sw) = g.stride;
    let (ph, pw) = g.padding;
    let (dh, dw) = g.dilation;
    let l = oh * ow;
    for c in 0..g.group_in() {
        let plane = &mut img[c * h * w..(c + 1) * h * w];
        for ki in 0..kh {
            let (oy_lo, oy_hi) = valid_range(oh, h, sh, ki * dh, ph);
            for kj in 0..kw {
                let (ox_lo, ox_hi) = valid_range(ow, w, sw, kj * dw, pw);
                let row = &col[((c * kh + ki) * kw + kj) * l..][..l];
                for oy in oy_lo..oy_hi {
                    let iy = oy * sh + ki * dh - ph;
                    let dst = &mut plane[iy * w..(iy + 1) * w];
                    let src = &row[oy * ow + ox_lo..oy * ow + ox_hi];
                    let x0 = ox_lo * sw + kj * dw - pw;
                    if sw == 1 {
                        for (d, s) in dst[x0..x0 + src.len()].iter_mut().zip(src) {
                            *d += *s;
                        }
                    } else {
                        for (d, s) in dst[x0..].iter_mut().step_by(sw).zip(src) {
                            *d += *s;
                        }
                    }
                }
            }
        }
    }
}

/// How many images each worker takes: all of them on one thread when the batch is smaller
/// than the thread count (the GEMMs are split instead).
fn images_per_task(batch: usize) -> usize {
    let t = num_threads();
    if t > 1 && batch >= t && rayon::current_thread_index().is_none() {
        batch.div_ceil(t)
    } else {
        batch.max(1)
    }
}

/// `output = conv2d(input, weight) + bias`.
pub fn conv2d_forward<T: Float>(
    g: &Conv2dGeometry,
    input: &[T],
    weight: &[T],
    bias: Option<&[T]>,
    output: &mut [T],
) -> Result<(), KernelError> {
    let (oh, ow) = g.validate()?;
    check_len("conv2d input", input.len(), g.input_len())?;
    check_len("conv2d weight", weight.len(), g.weight_len())?;
    check_len("conv2d output", output.len(), g.output_len())?;
    if let Some(b) = bias {
        check_len("conv2d bias", b.len(), g.out_channels)?;
    }
    let (img_in, img_out) = (g.in_channels * g.in_h * g.in_w, g.out_channels * oh * ow);
    if img_out == 0 {
        return Ok(());
    }
    let (k, l, ocg) = (g.col_rows(), oh * ow, g.group_out());
    let per_task = images_per_task(g.batch);
    output
        .par_chunks_mut(per_task * img_out)
        .enumerate()
        .try_for_each(|(task, out_chunk)| {
            let mut col = if g.is_pointwise() {
                Vec::new()
            } else {
                vec![T::ZERO; k * l]
            };
            for (i, out_img) in out_chunk.chunks_mut(img_out).enumerate() {
                let n = task * per_task + i;
                let img = &input[n * img_in..(n + 1) * img_in];
                for gi in 0..g.groups {
                    let group_img = &img[gi * g.group_in() * g.in_h * g.in_w..];
                    let cols: &[T] = if g.is_pointwise() {
                        &group_img[..k * l]
                    } else {
                        im2col(g, oh, ow, group_img, &mut col);
                        &col
                    };
                    matmul(
                        weight,
                        MatLayout::contiguous_at(ocg, k, gi * ocg * k),
                        cols,
                        MatLayout::contiguous(k, l),
                        out_img,
                        MatLayout::contiguous_at(ocg, l, gi * ocg * l),
                        Accumulate::Overwrite,
                    )?;
                }
                if let Some(b) = bias {
                    for (plane, &bc) in out_img.chunks_mut(l).zip(b) {
                        plane.iter_mut().for_each(|v| *v += bc);
                    }
                }
            }
            Ok(())
        })
}

/// `grad_input` (overwritten) from `grad_output` and the weight.
pub fn conv2d_backward_input<T: Float>(
    g: &Conv2dGeometry,
    grad_output: &[T],
    weight: &[T],
    grad_input: &mut [T],
) -> Result<(), KernelError> {
    let (oh, ow) = g.validate()?;
    check_len("conv2d grad_output", grad_output.len(), g.output_len())?;
    check_len("conv2d weight", weight.len(), g.weight_len())?;
    check_len("conv2d grad_input", grad_input.len(), g.input_len())?;
    let (img_in, img_out) = (g.in_channels * g.in_h * g.in_w, g.out_channels * oh * ow);
    if img_in == 0 {
        return Ok(());
    }
    let (k, l, ocg) = (g.col_rows(), oh * ow, g.group_out());
    let group_in_len = g.group_in() * g.in_h * g.in_w;
    let per_task = images_per_task(g.batch);
    grad_input
        .par_chunks_mut(per_task * img_in)
        .enumerate()
        .try_for_each(|(task, gin_chunk)| {
            let mut dcol = if g.is_pointwise() {
                Vec::new()
            } else {
                vec![T::ZERO; k * l]
            };
            for (i, gin_img) in gin_chunk.chunks_mut(img_in).enumerate() {
                let n = task * per_task + i;
                let gout = &grad_output[n * img_out..(n + 1) * img_out];
                for gi in 0..g.groups {
                    let w_t = MatLayout::contiguous_at(ocg, k, gi * ocg * k).t();
                    let gout_g = MatLayout::contiguous_at(ocg, l, gi * ocg * l);
                    let gin_g = &mut gin_img[gi * group_in_len..(gi + 1) * group_in_len];
                    if g.is_pointwise() {
                        matmul(
                            weight,
                            w_t,
                            gout,
                            gout_g,
                            gin_g,
                            MatLayout::contiguous(k, l),
                            Accumulate::Overwrite,
                        )?;
                    } else {
                        matmul(
                            weight,
                            w_t,
                            gout,
                            gout_g,
                            &mut dcol,
                            MatLayout::contiguous(k, l),
                            Accumulate::Overwrite,
                        )?;
                        gin_g.fill(T::ZERO);
                        col2im(g, oh, ow, &dcol, gin_g);
                    }
                }
            }
            Ok(())
        })
}

/// `grad_weight` (overwritten) from the input and `grad_output`, summed over the batch.
pub fn conv2d_backward_weight<T: Float>(
    g: &Conv2dGeometry,
    input: &[T],
    grad_output: &[T],
    grad_weight: &mut [T],
) -> Result<(), KernelError> {
    let (oh, ow) = g.validate()?;
    check_len("conv2d input", input.len(), g.input_len())?;
    check_len("conv2d grad_output", grad_output.len(), g.output_len())?;
    check_len("conv2d grad_weight", grad_weight.len(), g.weight_len())?;
    let (img_in, img_out) = (g.in_channels * g.in_h * g.in_w, g.out_channels * oh * ow);
    let (k, l, ocg) = (g.col_rows(), oh * ow, g.group_out());
    grad_weight.fill(T::ZERO);
    if g.batch == 0 || l == 0 {
        return Ok(());
    }
    let per_task = images_per_task(g.batch);
    let tasks = g.batch.div_ceil(per_task);
    // Each task sums its images into its own partial gradient; the partials are added at the
    // end (the weight is small next to the activations).
    let work = |task: usize, acc: &mut [T]| -> Result<(), KernelError> {
        let mut col = if g.is_pointwise() {
            Vec::new()
        } else {
            vec![T::ZERO; k * l]
        };
        for n in task * per_task..((task + 1) * per_task).min(g.batch) {
            let img = &input[n * img_in..(n + 1) * img_in];
            let gout = &grad_output[n * img_out..(n + 1) * img_out];
            for gi in 0..g.groups {
                let group_img = &img[gi * g.group_in() * g.in_h * g.in_w..];
                let cols: &[T] = if g.is_pointwise() {
                    &group_img[..k * l]
                } else {
                    im2col(g, oh, ow, group_img, &mut col);
                    &col
                };
                // dW_g (ocg x k) += dOut_g (ocg x l) @ cols^T (l x k)
                matmul(
                    gout,
                    MatLayout::contiguous_at(ocg, l, gi * ocg * l),
                    cols,
                    MatLayout::contiguous(k, l).t(),
                    acc,
                    MatLayout::contiguous_at(ocg, k, gi * ocg * k),
                    Accumulate::Add,
                )?;
            }
        }
        Ok(())
    };
    if tasks == 1 {
        return work(0, grad_weight);
    }
    let partials = (0..tasks)
        .into_par_iter()
        .map(|task| {
            let mut acc = vec![T::ZERO; grad_weight.len()];
            work(task, &mut acc).map(|()| acc)
        })
        .collect::<Result<Vec<_>, _>>()?;
    for p in partials {
        for (d, s) in grad_weight.iter_mut().zip(p) {
            *d += s;
        }
    }
    Ok(())
}

/// `grad_bias` (overwritten): `grad_output` summed over batch and space.
pub fn conv2d_backward_bias<T: Float>(
    g: &Conv2dGeometry,
    grad_output: &[T],
    grad_bias: &mut [T],
) -> Result<(), KernelError> {
    let (oh, ow) = g.validate()?;
    check_len("conv2d grad_output", grad_output.len(), g.output_len())?;
    check_len("conv2d grad_bias", grad_bias.len(), g.out_channels)?;
    grad_bias.fill(T::ZERO);
    let l = oh * ow;
    if l == 0 {
        return Ok(());
    }
    for (plane_idx, plane) in grad_output.chunks(l).enumerate() {
        // Eight independent partial sums: a single running sum is bound by add latency and
        // cannot be vectorised (float addition is not associative).
        let mut lanes = [T::ZERO; 8];
        let mut chunks = plane.chunks_exact(8);
        for c in &mut chunks {
            for (acc, &v) in lanes.iter_mut().zip(c) {
                *acc += v;
            }
        }
        let mut s = T::ZERO;
        for &v in chunks.remainder() {
            s += v;
        }
        for v in lanes {
            s += v;
        }
        grad_bias[plane_idx % g.out_channels] += s;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The definition of conv2d as nested loops, with input and weight indexers.
    fn naive_forward(g: &Conv2dGeometry, x: &[f64], w: &[f64], b: Option<&[f64]>) -> Vec<f64> {
        let (oh, ow) = g.out_hw().unwrap();
        let (icg, ocg) = (g.group_in(), g.group_out());
        let (kh, kw) = g.kernel;
        let mut out = vec![0.0; g.output_len()];
        for n in 0..g.batch {
            for oc in 0..g.out_channels {
                let gi = oc / ocg;
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut s = b.map_or(0.0, |b| b[oc]);
                        for c in 0..icg {
                            let ic = gi * icg + c;
                            for ki in 0..kh {
                                for kj in 0..kw {
                                    let iy = (oy * g.stride.0 + ki * g.dilation.0) as isize
                                        - g.padding.0 as isize;
                                    let ix = (ox * g.stride.1 + kj * g.dilation.1) as isize
                                        - g.padding.1 as isize;
                                    if iy < 0
                                        || ix < 0
                                        || iy >= g.in_h as isize
                                        || ix >= g.in_w as isize
                                    {
                                        continue;
                                    }
                                    let xi = ((n * g.in_channels + ic) * g.in_h + iy as usize)
                                        * g.in_w
                                        + ix as usize;
                                    let wi = ((oc * icg + c) * kh + ki) * kw + kj;
                                    s += x[xi] * w[wi];
                                }
                            }
                        }
                        out[((n * g.out_channels + oc) * oh + oy) * ow + ox] = s;
                    }
                }
            }
        }
        out
    }

    fn random(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
        (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    fn dot(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    fn geometries() -> Vec<Conv2dGeometry> {
        let base = Conv2dGeometry {
            batch: 2,
            in_channels: 3,
            in_h: 7,
            in_w: 9,
            out_channels: 4,
            kernel: (3, 3),
            stride: (1, 1),
            padding: (0, 0),
            dilation: (1, 1),
            groups: 1,
        };
        vec![
            base,
            Conv2dGeometry {
                stride: (2, 3),
                padding: (1, 2),
                ..base
            },
            Conv2dGeometry {
                dilation: (2, 1),
                padding: (2, 0),
                kernel: (2, 3),
                ..base
            },
            Conv2dGeometry {
                in_channels: 4,
                out_channels: 6,
                groups: 2,
                stride: (2, 2),
                padding: (1, 1),
                ..base
            },
            Conv2dGeometry {
                kernel: (1, 1),
                ..base
            },
            Conv2dGeometry {
                batch: 5,
                in_channels: 6,
                out_channels: 6,
                groups: 3,
                kernel: (1, 1),
                ..base
            },
            Conv2dGeometry {
                batch: 1,
                in_h: 3,
                in_w: 3,
                padding: (3, 3),
                stride: (4, 2),
                ..base
            },
        ]
    }

    #[test]
    fn forward_matches_the_definition() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for g in geometries() {
            let x = random(&mut rng, g.input_len());
            let w = random(&mut rng, g.weight_len());
            let b = random(&mut rng, g.out_channels);
            let mut out = vec![f64::NAN; g.output_len()];
            conv2d_forward(&g, &x, &w, Some(&b), &mut out).unwrap();
            let want = naive_forward(&g, &x, &w, Some(&b));
            for (o, e) in out.iter().zip(&want) {
                assert!((o - e).abs() < 1e-10, "{g:?}: {o} vs {e}");
            }
        }
    }

    /// The backward kernels are the adjoints of the (linear) forward map: for any `dy`,
    /// `<dy, conv(x, w)> = <conv_backward_input(dy, w), x> = <conv_backward_weight(x, dy), w>`.
    /// Checked against the naive forward, so the test does not trust the im2col code.
    #[test]
    fn backward_kernels_are_adjoints_of_the_definition() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for g in geometries() {
            let x = random(&mut rng, g.input_len());
            let w = random(&mut rng, g.weight_len());
            let dy = random(&mut rng, g.output_len());
            let y = naive_forward(&g, &x, &w, None);
            let lhs = dot(&dy, &y);

            let mut dx = vec![f64::NAN; g.input_len()];
            conv2d_backward_input(&g, &dy, &w, &mut dx).unwrap();
            assert!((dot(&dx, &x) - lhs).abs() < 1e-9, "{g:?} input grad");

            let mut dw = vec![f64::NAN; g.weight_len()];
            conv2d_backward_weight(&g, &x, &dy, &mut dw).unwrap();
            assert!((dot(&dw, &w) - lhs).abs() < 1e-9, "{g:?} weight grad");

            // And elementwise: the gradient of <dy, y> w.r.t. one input pixel is the change
            // in the naive output under a unit perturbation.
            let probe = rng.random_range(0..x.len());
            let mut x1 = x.clone();
            x1[probe] += 1.0;
            let y1 = naive_forward(&g, &x1, &w, None);
            assert!((dot(&dy, &y1) - lhs - dx[probe]).abs() < 1e-9);

            let mut db = vec![f64::NAN; g.out_channels];
            conv2d_backward_bias(&g, &dy, &mut db).unwrap();
            let ones = vec![1.0; g.out_channels];
            let y_b = naive_forward(&g, &x, &vec![0.0; g.weight_len()], Some(&ones));
            assert!((dot(&db, &ones) - dot(&dy, &y_b)).abs() < 1e-9);
        }
    }

    #[test]
    fn f32_batch_split_matches_f64() {
        // batch 8 >= threads, so images are spread over workers with partial weight grads.
        let g = Conv2dGeometry {
            batch: 8,
            in_channels: 3,
            in_h: 12,
            in_w: 20,
            out_channels: 5,
            kernel: (3, 3),
            stride: (1, 1),
            padding: (1, 1),
            dilation: (1, 1),
            groups: 1,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let x = random(&mut rng, g.input_len());
        let w = random(&mut rng, g.weight_len());
        let dy = random(&mut rng, g.output_len());
        let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
        let (x32, w32, dy32) = (f(&x), f(&w), f(&dy));
        let mut dw64 = vec![0.0; g.weight_len()];
        conv2d_backward_weight(&g, &x, &dy, &mut dw64).unwrap();
        let mut dw32 = vec![0.0f32; g.weight_len()];
        conv2d_backward_weight(&g, &x32, &dy32, &mut dw32).unwrap();
        for (a, b) in dw32.iter().zip(&dw64) {
            assert!((*a as f64 - b).abs() < 1e-3 * (1.0 + b.abs()));
        }
        let mut y32 = vec![0.0f32; g.output_len()];
        conv2d_forward(&g, &x32, &w32, None, &mut y32).unwrap();
        let y = naive_forward(&g, &x, &w, None);
        for (a, b) in y32.iter().zip(&y) {
            assert!((*a as f64 - b).abs() < 1e-4);
        }
    }

    #[test]
    fn invalid_geometry_is_an_error() {
        let g = Conv2dGeometry {
            batch: 1,
            in_channels: 3,
            in_h: 2,
            in_w: 2,
            out_channels: 4,
            kernel: (3, 3),
            stride: (1, 1),
            padding: (0, 0),
            dilation: (1, 1),
            groups: 1,
        };
        let mut out = vec![];
        let r = conv2d_forward(&g, &[0.0; 12], &[0.0; 108], None, &mut out);
        assert!(matches!(r, Err(KernelError::InvalidGeometry(_))));
        let g2 = Conv2dGeometry {
            groups: 2,
            in_h: 5,
            in_w: 5,
            ..g
        };
        let r = conv2d_forward(&g2, &[0.0; 75], &[0.0; 54], None, &mut out);
        assert!(matches!(r, Err(KernelError::InvalidGeometry(_))));
    }
}
