//! `torch.nn` for the engine: a [`Module`] trait with PyTorch's parameter and buffer naming and
//! train/eval mode, and the layers the documents use (`Linear`, `Conv2d`, `Sequential`,
//! `Flatten`, `ReLU`, `Sigmoid`, `Tanh`, `Dropout`, `BatchNorm2d`) plus the `MSELoss`
//! criterion and the functional `dropout` and `batch_norm`.
//!
//! Parameters are ordinary leaf tensors that require grad, initialised as PyTorch 2 does
//! (`kaiming_uniform_(a=sqrt(5))`, i.e. uniform in ±1/sqrt(fan_in), for weights and biases)
//! from a seeded [`Generator`]. PyTorch fills them in place after allocation, so a fresh
//! parameter is at version 1 here too. A harness that must feed both backends the same bytes
//! builds layers with `from_tensors`.

use crate::DType;
use crate::creation::Generator;
use crate::error::{Error, Result};
use crate::ops::linalg::{Conv2dOptions, Reduction};
use crate::tensor::Tensor;
use std::any::Any;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// A layer or a container of layers, like `torch.nn.Module`.
pub trait Module: Send + Sync + Any {
    fn forward(&self, x: &Tensor) -> Result<Tensor>;

    /// This module's own parameters (not its children's), in registration order.
    fn own_parameters(&self) -> Vec<(&'static str, Tensor)> {
        Vec::new()
    }

    /// Direct submodules with their names, in registration order.
    fn children(&self) -> Vec<(String, &dyn Module)> {
        Vec::new()
    }

    /// PyTorch's `repr` of the module.
    fn repr(&self) -> String;

    /// For downcasting a child back to its layer type (`model[0].weight`).
    fn as_any(&self) -> &dyn Any;

    /// `named_parameters()`: own parameters first, then each child's under `"child."`, with a
    /// tensor reachable twice (a shared layer) listed once, under its first name.
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out: Vec<(String, Tensor)> = Vec::new();
        collect_named(self.as_dyn(), "", &mut out);
        out
    }

    /// `parameters()`, in `named_parameters()` order.
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters()
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    /// `zero_grad()`: PyTorch 2 sets every parameter's `.grad` to None.
    fn zero_grad(&self) -> Result<()> {
        for p in self.parameters() {
            p.set_grad(None)?;
        }
        Ok(())
    }

    /// `requires_grad_(flag)` on every parameter (freezing with `false`).
    fn requires_grad_(&self, flag: bool) -> Result<()> {
        for p in self.parameters() {
            p.requires_grad_(flag)?;
        }
        Ok(())
    }

    /// `self` as a trait object (lets the provided methods recurse).
    fn as_dyn(&self) -> &dyn Module;

    /// This module's own buffers (not its children's), in registration order.
    fn own_buffers(&self) -> Vec<(&'static str, Tensor)> {
        Vec::new()
    }

    /// `named_buffers()`: own buffers first, then each child's under `"child."`.
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        collect_buffers(self.as_dyn(), "", &mut out);
        out
    }

    /// `buffers()`, in `named_buffers()` order.
    fn buffers(&self) -> Vec<Tensor> {
        self.named_buffers().into_iter().map(|(_, t)| t).collect()
    }

    /// Sets this module's own training flag; layers whose forward depends on it override this.
    fn set_training(&self, _mode: bool) {}

    /// `training`, for layers with a mode-dependent forward (others report `true`).
    fn is_training(&self) -> bool {
        true
    }

    /// `train(mode)`: this module and every submodule.
    fn train(&self, mode: bool) {
        self.set_training(mode);
        for (_, c) in self.children() {
            c.train(mode);
        }
    }

    /// `eval()`: `train(false)`.
    fn eval(&self) {
        self.train(false);
    }
}

fn collect_buffers(m: &dyn Module, prefix: &str, out: &mut Vec<(String, Tensor)>) {
    for (name, t) in m.own_buffers() {
        out.push((format!("{prefix}{name}"), t));
    }
    for (name, child) in m.children() {
        collect_buffers(child, &format!("{prefix}{name}."), out);
    }
}

fn collect_named(m: &dyn Module, prefix: &str, out: &mut Vec<(String, Tensor)>) {
    for (name, t) in m.own_parameters() {
        if !out.iter().any(|(_, seen)| seen.same(&t)) {
            out.push((format!("{prefix}{name}"), t));
        }
    }
    for (name, child) in m.children() {
        collect_named(child, &format!("{prefix}{name}."), out);
    }
}

/// A leaf parameter: uniform in `[-bound, bound)`, requiring grad, at version 1 like a tensor
/// PyTorch initialised in place.
fn uniform_param(shape: &[usize], bound: f64, dtype: DType, g: &mut Generator) -> Result<Tensor> {
    let u = Tensor::rand(shape, dtype, g)?.to_vec_f64();
    let v: Vec<f64> = u.iter().map(|&x| (2.0 * x - 1.0) * bound).collect();
    let t = Tensor::from_f64(&v, shape, dtype)?.with_requires_grad(true)?;
    t.bump_version();
    Ok(t)
}

fn check_param(t: &Tensor, what: &str) -> Result<()> {
    if !t.is_leaf() {
        return Err(Error::InvalidArgument(format!(
            "cannot assign a non-leaf tensor as parameter '{what}' (parameters must be leaves)"
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------- Linear

/// `nn.Linear(in_features, out_features, bias)`: `y = x @ weight.T + bias`.
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl Linear {
    /// Initialised like PyTorch: weight and bias uniform in ±1/sqrt(in_features), f32.
    pub fn new(
        in_features: usize,
        out_features: usize,
        bias: bool,
        g: &mut Generator,
    ) -> Result<Self> {
        Self::new_with_dtype(in_features, out_features, bias, DType::F32, g)
    }

    pub fn new_with_dtype(
        in_features: usize,
        out_features: usize,
        bias: bool,
        dtype: DType,
        g: &mut Generator,
    ) -> Result<Self> {
        let bound = if in_features > 0 {
            1.0 / (in_features as f64).sqrt()
        } else {
            0.0
        };
        let weight = uniform_param(&[out_features, in_features], bound, dtype, g)?;
        let bias = bias
            .then(|| uniform_param(&[out_features], bound, dtype, g))
            .transpose()?;
        Ok(Linear { weight, bias })
    }

    /// A layer over given leaf tensors (`weight: [out, in]`, `bias: [out]`).
    pub fn from_tensors(weight: Tensor, bias: Option<Tensor>) -> Result<Self> {
        check_param(&weight, "weight")?;
        if let Some(b) = &bias {
            check_param(b, "bias")?;
        }
        Ok(Linear { weight, bias })
    }

    pub fn in_features(&self) -> usize {
        self.weight.shape().get(1).copied().unwrap_or(0)
    }

    pub fn out_features(&self) -> usize {
        self.weight.shape().first().copied().unwrap_or(0)
    }
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.linear(&self.weight, self.bias.as_ref())
    }
    fn own_parameters(&self) -> Vec<(&'static str, Tensor)> {
        let mut v = vec![("weight", self.weight.clone())];
        if let Some(b) = &self.bias {
            v.push(("bias", b.clone()));
        }
        v
    }
    fn repr(&self) -> String {
        format!(
            "Linear(in_features={}, out_features={}, bias={})",
            self.in_features(),
            self.out_features(),
            if self.bias.is_some() { "True" } else { "False" }
        )
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

// ---------------------------------------------------------------------------- Conv2d

/// `nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias)`.
pub struct Conv2d {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub options: Conv2dOptions,
}

impl Conv2d {
    /// Initialised like PyTorch: uniform in ±1/sqrt(in_channels / groups * kh * kw), f32.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel_size: (usize, usize),
        options: Conv2dOptions,
        bias: bool,
        g: &mut Generator,
    ) -> Result<Self> {
        let groups = options.groups;
        if groups == 0 {
            return Err(Error::InvalidArgument(
                "groups must be a positive integer".into(),
            ));
        }
        if !in_channels.is_multiple_of(groups) {
            return Err(Error::InvalidArgument(
                "in_channels must be divisible by groups".into(),
            ));
        }
        if !out_channels.is_multiple_of(groups) {
            return Err(Error::InvalidArgument(
                "out_channels must be divisible by groups".into(),
            ));
        }
        let fan_in = in_channels / groups * kernel_size.0 * kernel_size.1;
        let bound = if fan_in > 0 {
            1.0 / (fan_in as f64).sqrt()
        } else {
            0.0
        };
        let shape = [
            out_channels,
            in_channels / groups,
            kernel_size.0,
            kernel_size.1,
        ];
        let weight = uniform_param(&shape, bound, DType::F32, g)?;
        let bias = bias
            .then(|| uniform_param(&[out_channels], bound, DType::F32, g))
            .transpose()?;
        Ok(Conv2d {
            weight,
            bias,
            options,
        })
    }

    /// `nn.Conv2d(cin, cout, k, stride)` as the documents write it: square kernel, no padding.
    pub fn simple(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        g: &mut Generator,
    ) -> Result<Self> {
        let options = Conv2dOptions {
            stride: [stride, stride],
            ..Conv2dOptions::default()
        };
        Self::new(
            in_channels,
            out_channels,
            (kernel, kernel),
            options,
            true,
            g,
        )
    }

    /// A layer over given leaf tensors (`weight: [out, in / groups, kh, kw]`, `bias: [out]`).
    pub fn from_tensors(
        weight: Tensor,
        bias: Option<Tensor>,
        options: Conv2dOptions,
    ) -> Result<Self> {
        check_param(&weight, "weight")?;
        if let Some(b) = &bias {
            check_param(b, "bias")?;
        }
        Ok(Conv2d {
            weight,
            bias,
            options,
        })
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.conv2d(&self.weight, self.bias.as_ref(), self.options)
    }
    fn own_parameters(&self) -> Vec<(&'static str, Tensor)> {
        let mut v = vec![("weight", self.weight.clone())];
        if let Some(b) = &self.bias {
            v.push(("bias", b.clone()));
        }
        v
    }
    fn repr(&self) -> String {
        let s = self.weight.shape();
        let o = &self.options;
        let mut r = format!(
            "Conv2d({}, {}, kernel_size=({}, {}), stride=({}, {})",
            s.get(1).copied().unwrap_or(0) * o.groups,
            s.first().copied().unwrap_or(0),
            s.get(2).copied().unwrap_or(0),
            s.get(3).copied().unwrap_or(0),
            o.stride[0],
            o.stride[1]
        );
        if o.padding != [0, 0] {
            r += &format!(", padding=({}, {})", o.padding[0], o.padding[1]);
        }
        if o.dilation != [1, 1] {
            r += &format!(", dilation=({}, {})", o.dilation[0], o.dilation[1]);
        }
        if o.groups != 1 {
            r += &format!(", groups={}", o.groups);
        }
        if self.bias.is_none() {
            r += ", bias=False";
        }
        r + ")"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

// ---------------------------------------------------------------------------- activations

/// `nn.Flatten(start_dim, end_dim)` (PyTorch's defaults are 1 and -1).
pub struct Flatten {
    pub start_dim: i64,
    pub end_dim: i64,
}

impl Flatten {
    pub fn new(start_dim: i64, end_dim: i64) -> Self {
        Flatten { start_dim, end_dim }
    }
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten::new(1, -1)
    }
}

impl Module for Flatten {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.flatten(self.start_dim, self.end_dim)
    }
    fn repr(&self) -> String {
        format!(
            "Flatten(start_dim={}, end_dim={})",
            self.start_dim, self.end_dim
        )
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

/// `nn.ReLU()`
#[derive(Default)]
pub struct ReLU;

impl Module for ReLU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.relu()
    }
    fn repr(&self) -> String {
        "ReLU()".into()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

/// `nn.Sigmoid()`
#[derive(Default)]
pub struct Sigmoid;

impl Module for Sigmoid {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.sigmoid()
    }
    fn repr(&self) -> String {
        "Sigmoid()".into()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

/// `nn.Tanh()`
#[derive(Default)]
pub struct Tanh;

impl Module for Tanh {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.tanh()
    }
    fn repr(&self) -> String {
        "Tanh()".into()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

// ---------------------------------------------------------------------------- Dropout

fn check_dropout_p(p: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::InvalidArgument(format!(
            "dropout probability has to be between 0 and 1, but got {}",
            crate::optim::py_float(p)
        )));
    }
    Ok(())
}

impl Tensor {
    /// `F.dropout(x, p, training)` with the keep-mask supplied by the caller (the engine draws
    /// no random numbers; any dtype, nonzero = keep), computed as libtorch's CPU `dropout`:
    /// the input itself when not training, `p == 0` or empty; `x * zeros(())` for `p == 1`;
    /// else `x * (mask / (1 - p))` (`MulBackward0`).
    pub fn dropout_with_mask(
        &self,
        p: f64,
        training: bool,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        check_dropout_p(p)?;
        if !training || p == 0.0 || self.numel() == 0 {
            return Ok(self.clone());
        }
        if p == 1.0 {
            return self.mul(Tensor::zeros(&[], self.dtype())?);
        }
        let mask = mask.ok_or_else(|| {
            Error::InvalidArgument(
                "dropout in training mode needs the keep mask: the engine draws no random numbers (Dropout::set_mask)".into(),
            )
        })?;
        if !self.dtype().is_float() {
            // The noise tensor has the input's dtype; dividing it by (1 - p) in place fails.
            return Err(Error::CastInplace {
                result: "Float",
                output: self.dtype().scalar_type_name(),
            });
        }
        if !mask.shape_eq(&self.shape()) {
            return Err(Error::InvalidArgument(format!(
                "dropout mask of shape {} for an input of shape {}",
                crate::error::Shape(mask.shape()),
                crate::error::Shape(self.shape())
            )));
        }
        let noise = crate::with_no_grad(|| mask.ne(0)?.to_dtype(self.dtype())?.div(1.0 - p))?;
        self.mul(&noise)
    }
}

/// `nn.Dropout(p)`. In training mode each forward with `0 < p < 1` consumes the keep-mask set
/// by [`Dropout::set_mask`]; in eval mode it is the identity (the input itself, no node).
pub struct Dropout {
    pub p: f64,
    training: AtomicBool,
    mask: Mutex<Option<Tensor>>,
}

impl Dropout {
    /// Fails like `nn.Dropout.__init__` for `p` outside `[0, 1]`.
    pub fn new(p: f64) -> Result<Self> {
        check_dropout_p(p)?;
        Ok(Dropout {
            p,
            training: AtomicBool::new(true),
            mask: Mutex::new(None),
        })
    }

    /// The keep-mask (input-shaped, nonzero = keep) for the next training forward.
    pub fn set_mask(&self, mask: Tensor) {
        *self.mask.lock().unwrap() = Some(mask);
    }
}

impl Module for Dropout {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let training = self.is_training();
        let needs_mask = training && self.p > 0.0 && self.p < 1.0 && x.numel() > 0;
        let mask = if needs_mask {
            self.mask.lock().unwrap().take()
        } else {
            None
        };
        x.dropout_with_mask(self.p, training, mask.as_ref())
    }
    fn repr(&self) -> String {
        format!(
            "Dropout(p={}, inplace=False)",
            crate::optim::py_float(self.p)
        )
    }
    fn set_training(&self, mode: bool) {
        self.training.store(mode, Ordering::Relaxed);
    }
    fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

// ---------------------------------------------------------------------------- BatchNorm2d

/// `F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)`:
/// Python's check of the batch size in training, then `torch.batch_norm`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm(
    input: &Tensor,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Result<Tensor> {
    let size = input.shape();
    if training && size.len() >= 2 {
        let prod: usize = size[0] * size[2..].iter().product::<usize>();
        if prod == 1 {
            let dims: Vec<String> = size.iter().map(|d| d.to_string()).collect();
            return Err(Error::InvalidArgument(format!(
                "Expected more than 1 value per channel when training, got input size torch.Size([{}])",
                dims.join(", ")
            )));
        }
    }
    input.batch_norm(
        weight,
        bias,
        running_mean,
        running_var,
        training,
        momentum,
        eps,
    )
}

/// `nn.BatchNorm2d(num_features, eps, momentum, affine, track_running_stats)`: parameters
/// `weight` (ones) and `bias` (zeros), buffers `running_mean` (zeros), `running_var` (ones) and
/// `num_batches_tracked` (int64 0), all filled in place after allocation as PyTorch's
/// `reset_parameters` does (so each is at version 1). `momentum: None` is the cumulative
/// average.
pub struct BatchNorm2d {
    pub num_features: usize,
    pub eps: f64,
    pub momentum: Option<f64>,
    pub weight: Option<Tensor>,
    pub bias: Option<Tensor>,
    pub running_mean: Option<Tensor>,
    pub running_var: Option<Tensor>,
    pub num_batches_tracked: Option<Tensor>,
    training: AtomicBool,
}

impl BatchNorm2d {
    /// PyTorch's defaults are `eps=1e-5, momentum=Some(0.1), affine=true,
    /// track_running_stats=true`; float32.
    pub fn new(
        num_features: usize,
        eps: f64,
        momentum: Option<f64>,
        affine: bool,
        track_running_stats: bool,
    ) -> Result<Self> {
        Self::new_with_dtype(
            num_features,
            eps,
            momentum,
            affine,
            track_running_stats,
            DType::F32,
        )
    }

    pub fn new_with_dtype(
        num_features: usize,
        eps: f64,
        momentum: Option<f64>,
        affine: bool,
        track_running_stats: bool,
        dtype: DType,
    ) -> Result<Self> {
        // Allocated, then filled in place (version 1), as reset_parameters does.
        let filled = |v: i64, dt: DType, shape: &[usize]| -> Result<Tensor> {
            let t = Tensor::full(shape, v, dt)?;
            t.bump_version();
            Ok(t)
        };
        let n = [num_features];
        let (weight, bias) = if affine {
            (
                Some(filled(1, dtype, &n)?.with_requires_grad(true)?),
                Some(filled(0, dtype, &n)?.with_requires_grad(true)?),
            )
        } else {
            (None, None)
        };
        let (running_mean, running_var, num_batches_tracked) = if track_running_stats {
            (
                Some(filled(0, dtype, &n)?),
                Some(filled(1, dtype, &n)?),
                Some(filled(0, DType::I64, &[])?),
            )
        } else {
            (None, None, None)
        };
        Ok(BatchNorm2d {
            num_features,
            eps,
            momentum,
            weight,
            bias,
            running_mean,
            running_var,
            num_batches_tracked,
            training: AtomicBool::new(true),
        })
    }
}

impl Module for BatchNorm2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.ndim() != 4 {
            return Err(Error::InvalidArgument(format!(
                "expected 4D input (got {}D input)",
                x.ndim()
            )));
        }
        let training = self.is_training();
        let track = self.running_mean.is_some();
        let mut factor = self.momentum.unwrap_or(0.0);
        if training && let Some(n) = &self.num_batches_tracked {
            n.add_(1)?;
            if self.momentum.is_none() {
                factor = 1.0 / n.item()?.as_f64();
            }
        }
        let bn_training = training || (self.running_mean.is_none() && self.running_var.is_none());
        let use_stats = !training || track;
        let (rm, rv) = if use_stats {
            (self.running_mean.as_ref(), self.running_var.as_ref())
        } else {
            (None, None)
        };
        batch_norm(
            x,
            rm,
            rv,
            self.weight.as_ref(),
            self.bias.as_ref(),
            bn_training,
            factor,
            self.eps,
        )
    }
    fn own_parameters(&self) -> Vec<(&'static str, Tensor)> {
        let mut v = Vec::new();
        if let Some(w) = &self.weight {
            v.push(("weight", w.clone()));
        }
        if let Some(b) = &self.bias {
            v.push(("bias", b.clone()));
        }
        v
    }
    fn own_buffers(&self) -> Vec<(&'static str, Tensor)> {
        let mut v = Vec::new();
        for (n, t) in [
            ("running_mean", &self.running_mean),
            ("running_var", &self.running_var),
            ("num_batches_tracked", &self.num_batches_tracked),
        ] {
            if let Some(t) = t {
                v.push((n, t.clone()));
            }
        }
        v
    }
    fn repr(&self) -> String {
        format!(
            "BatchNorm2d({}, eps={}, momentum={}, affine={}, track_running_stats={})",
            self.num_features,
            crate::optim::py_float(self.eps),
            self.momentum.map_or("None".into(), crate::optim::py_float),
            if self.weight.is_some() {
                "True"
            } else {
                "False"
            },
            if self.running_mean.is_some() {
                "True"
            } else {
                "False"
            }
        )
    }
    fn set_training(&self, mode: bool) {
        self.training.store(mode, Ordering::Relaxed);
    }
    fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

// ---------------------------------------------------------------------------- Sequential

/// `nn.Sequential`: named children run in order. Positional children are named `"0"`,
/// `"1"`, ...; [`Sequential::set`] replaces a child by name in place or appends a new one, as
/// `model.fc = nn.Linear(512, 100)` does on a PyTorch module.
#[derive(Default)]
pub struct Sequential {
    children: Vec<(String, Box<dyn Module>)>,
}

impl Sequential {
    pub fn new(layers: Vec<Box<dyn Module>>) -> Self {
        Sequential {
            children: layers
                .into_iter()
                .enumerate()
                .map(|(i, m)| (i.to_string(), m))
                .collect(),
        }
    }

    /// `Sequential(OrderedDict(...))`
    pub fn from_named(layers: Vec<(String, Box<dyn Module>)>) -> Self {
        let mut s = Sequential::default();
        for (name, m) in layers {
            s.set(&name, m);
        }
        s
    }

    /// `append(module)`: named by its position.
    pub fn push(&mut self, m: Box<dyn Module>) {
        let name = self.children.len().to_string();
        self.set(&name, m);
    }

    /// `setattr(model, name, module)`: replaces the child called `name` where it stands, or
    /// appends it under that name.
    pub fn set(&mut self, name: &str, m: Box<dyn Module>) {
        match self.children.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = m,
            None => self.children.push((name.to_string(), m)),
        }
    }

    pub fn len(&self) -> usize {
        self.children.len()
    }

    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// `model[i]`
    pub fn get(&self, index: usize) -> Option<&dyn Module> {
        self.children.get(index).map(|(_, m)| m.as_ref())
    }

    /// `model.name`
    pub fn child(&self, name: &str) -> Option<&dyn Module> {
        self.children
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m.as_ref())
    }

    /// `model[i]` as its concrete layer type.
    pub fn get_as<M: Module>(&self, index: usize) -> Option<&M> {
        self.get(index)?.as_any().downcast_ref::<M>()
    }

    /// `model[i] = module`
    pub fn replace(&mut self, index: usize, m: Box<dyn Module>) -> Result<()> {
        let len = self.children.len();
        match self.children.get_mut(index) {
            Some(slot) => {
                slot.1 = m;
                Ok(())
            }
            None => Err(Error::InvalidArgument(format!(
                "index {index} is out of range for Sequential of length {len}"
            ))),
        }
    }
}

impl std::ops::Index<usize> for Sequential {
    type Output = dyn Module;
    fn index(&self, i: usize) -> &Self::Output {
        self.children[i].1.as_ref()
    }
}

impl Module for Sequential {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for (_, m) in &self.children {
            h = m.forward(&h)?;
        }
        Ok(h)
    }
    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.children
            .iter()
            .map(|(n, m)| (n.clone(), m.as_ref()))
            .collect()
    }
    fn repr(&self) -> String {
        let mut r = String::from("Sequential(\n");
        for (n, m) in &self.children {
            let inner = m.repr().replace('\n', "\n  ");
            r += &format!("  ({n}): {inner}\n");
        }
        r + ")"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

// ---------------------------------------------------------------------------- losses

/// `nn.MSELoss(reduction)`: a criterion of two tensors, so not a [`Module`].
#[derive(Debug, Clone, Copy, Default)]
pub struct MSELoss {
    pub reduction: Reduction,
}

impl MSELoss {
    pub fn new(reduction: Reduction) -> Self {
        MSELoss { reduction }
    }

    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        input.mse_loss(target, self.reduction)
    }
}
