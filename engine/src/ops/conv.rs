//! `conv2d` (`ConvolutionBackward0`), with libtorch's argument checks in their order; the
//! forward and the three gradients are the storage's (`cpu/products.rs`, im2col + cuBLAS on
//! CUDA).

use super::cast;
use crate::autograd::Recorder;
use crate::cpu::Conv2dGeometry;
use crate::error::{Error, Result, Shape};
use crate::layout::contiguous_strides;
use crate::tensor::Tensor;

/// `conv2d`'s hyper-parameters, per spatial axis (height, width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dOptions {
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
}

impl Default for Conv2dOptions {
    fn default() -> Self {
        Conv2dOptions {
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

impl Tensor {
    /// `torch.nn.functional.conv2d` on a batched `[n, c, h, w]` or unbatched `[c, h, w]` input
    /// (`ConvolutionBackward0`).
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: Conv2dOptions,
    ) -> Result<Tensor> {
        let dim = self.ndim();
        if dim != 3 && dim != 4 {
            return Err(Error::InvalidArgument(format!(
                "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: {}",
                Shape(self.shape())
            )));
        }
        if let Some(b) = bias
            && b.dtype() != self.dtype()
        {
            return Err(Error::DtypeMismatch(format!(
                "Input type ({}) and bias type ({}) should be the same",
                self.dtype().c_name(),
                b.dtype().c_name()
            )));
        }
        if dim == 3 {
            return self
                .unsqueeze(0)?
                .convolution(weight, bias, opts)?
                .squeeze(Some(0));
        }
        self.convolution(weight, bias, opts)
    }

    /// `at::convolution` for the 2-D case on a batched input, with `check_shape_forward`'s
    /// checks in its order.
    fn convolution(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: Conv2dOptions,
    ) -> Result<Tensor> {
        let inval = |m: String| Err(Error::InvalidArgument(m));
        let wdim = weight.ndim();
        if wdim < 3 {
            return inval("weight should have at least three dimensions".into());
        }
        let groups = opts.groups;
        if groups == 0 {
            return inval("non-positive groups is not supported".into());
        }
        if wdim != 4 {
            return inval(format!(
                "expected stride to be a single integer value or a list of {} values to match the convolution dimensions, but got stride=[{}, {}]",
                wdim - 2,
                opts.stride[0],
                opts.stride[1]
            ));
        }
        if opts.stride.contains(&0) {
            return inval("non-positive stride is not supported".into());
        }
        let (xs, ws) = (self.shape(), weight.shape());
        if ws[0] < groups {
            return inval(format!(
                "Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got weight of size {} instead",
                Shape(ws)
            ));
        }
        if !ws[0].is_multiple_of(groups) {
            return inval(format!(
                "Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of size [{}] instead",
                Shape(ws)
            ));
        }
        if xs[1] != ws[1] * groups {
            return Err(Error::MatmulShape(format!(
                "Given groups={groups}, weight of size {}, expected input{} to have {} channels, but got {} channels instead",
                Shape(ws.clone()),
                Shape(xs.clone()),
                ws[1] * groups,
                xs[1]
            )));
        }
        if let Some(b) = bias
            && (b.ndim() != 1 || b.shape()[0] != ws[0])
        {
            return inval(format!(
                "Given weight of size {}, expected bias to be 1-dimensional with {} elements, but got bias of size {} instead",
                Shape(ws.clone()),
                ws[0],
                Shape(b.shape())
            ));
        }
        let padded = [xs[2] + 2 * opts.padding[0], xs[3] + 2 * opts.padding[1]];
        let kernel = [
            opts.dilation[0] * (ws[2].max(1) - 1) + 1,
            opts.dilation[1] * (ws[3].max(1) - 1) + 1,
        ];
        if padded[0] < kernel[0] || padded[1] < kernel[1] {
            return inval(format!(
                "Calculated padded input size per channel: ({} x {}). Kernel size: ({} x {}). Kernel size can't be greater than actual input size",
                padded[0], padded[1], kernel[0], kernel[1]
            ));
        }
        if opts.dilation.contains(&0) {
            return inval(format!(
                "dilation should be greater than zero, but got [{}, {}]",
                opts.dilation[0], opts.dilation[1]
            ));
        }
        super::check_same_device(self, weight)?;
        if weight.dtype() != self.dtype() {
            return Err(Error::DtypeMismatch(format!(
                "expected scalar type {} but found {}",
                self.dtype().scalar_type_name(),
                weight.dtype().scalar_type_name()
            )));
        }
        let geom = Conv2dGeometry {
            batch: xs[0],
            in_channels: xs[1],
            in_h: xs[2],
            in_w: xs[3],
            out_channels: ws[0],
            kernel: (ws[2], ws[3]),
            stride: (opts.stride[0], opts.stride[1]),
            padding: (opts.padding[0], opts.padding[1]),
            dilation: (opts.dilation[0], opts.dilation[1]),
            groups,
        };
        let out = conv_forward(&geom, self, weight, bias)?;
        // libtorch's node always has three inputs; a missing bias is an edge to nothing.
        let no_bias;
        let bias_in = match bias {
            Some(b) => b,
            None => {
                no_bias = Tensor::zeros(&[0], self.dtype())?;
                &no_bias
            }
        };
        if let Some(mut rec) = Recorder::new("ConvolutionBackward0", &[self, weight, bias_in])? {
            // One formula covers all three gradients, so libtorch saves both tensors whichever
            // inputs need a gradient.
            let si = rec.save(self);
            let sw = rec.save(weight);
            let need = [rec.needs(0), rec.needs(1), rec.needs(2) && bias.is_some()];
            rec.finish(&out, move |ctx, g| {
                let (x, w) = (ctx.unpack(si)?, ctx.unpack(sw)?);
                conv_backward(&geom, &x, &w, &g, need)
            })?;
        }
        Ok(out)
    }
}

/// The convolution's forward on its inputs' storage, contiguous `[n, o, oh, ow]`.
fn conv_forward(g: &Conv2dGeometry, x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Tensor> {
    let (oh, ow) = g.out_hw().unwrap_or((0, 0));
    let shape = vec![g.batch, g.out_channels, oh, ow];
    let s = x.with_storage(|sx, xl| {
        w.with_storage(|sw, wl| match b {
            Some(b) => b.with_storage(|sb, bl| sx.conv2d(xl, sw, wl, Some((sb, bl)), g)),
            None => sx.conv2d(xl, sw, wl, None, g),
        })
    })?;
    let strides = contiguous_strides(&shape);
    Ok(Tensor::from_new_storage(s, shape, strides))
}

/// The three gradients of a convolution (`need`: input, weight, bias), contiguous.
fn conv_backward(
    geom: &Conv2dGeometry,
    x: &Tensor,
    w: &Tensor,
    g: &Tensor,
    need: [bool; 3],
) -> Result<Vec<Option<Tensor>>> {
    let g = cast(g, x.dtype())?;
    let grads = x.with_storage(|sx, xl| {
        w.with_storage(|sw, wl| {
            g.with_storage(|sg, gl| sx.conv2d_backward(xl, sw, wl, sg, gl, geom, need))
        })
    })?;
    let shapes = [x.shape(), w.shape(), vec![geom.out_channels]];
    Ok(grads
        .into_iter()
        .zip(shapes)
        .map(|(s, shape)| {
            s.map(|s| {
                let strides = contiguous_strides(&shape);
                Tensor::from_new_storage(s, shape, strides)
            })
        })
        .collect())
}
