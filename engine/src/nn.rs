//! `torch.nn` for the engine: a [`Module`] trait with PyTorch's parameter naming, and the
//! layers the documents use (`Linear`, `Conv2d`, `Sequential`, `Flatten`, `ReLU`, `Sigmoid`)
//! plus the `MSELoss` criterion.
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
