//! The `nn` modules and the optimizer: `nn.Linear(...)` and friends built out of backend calls
//! (parameters initialised from the case's seed as PyTorch initialises them), their methods,
//! their forward passes (`BatchNorm2d`'s as `_BatchNorm.forward` runs it), `optim.SGD` and
//! `optim.Adam`.

use super::args::{Args, as_f64, as_int, as_tensor, opt_bool, pair, reduction};
use super::forward_args;
use crate::backend::nn::{AdamOptions, NnCall};
use crate::backend::{
    Backend, Call, DType, Failure, InplaceOp, Operand, Scalar, TensorAttr, UnaryOp,
};
use crate::error_kind::ErrorKind;
use crate::interp::value::{ModKind, ModRef, Module, PyVal, type_error, unsupported};
use crate::interp::{Interp, Res};
use std::cell::RefCell;
use std::rc::Rc;

/// Python's `repr(float)` for the numbers the modules' and Adam's checks put in their messages.
fn py_float(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

impl<B: Backend> Interp<'_, B> {
    fn new_param(&mut self, shape: Vec<usize>, bound: f64) -> Res<B::Tensor> {
        let n = shape.iter().product();
        let values = self.draw_uniform(n, bound);
        let t = as_tensor(
            self.tensor_from_values(shape, DType::F32, values)?,
            "Parameter",
        )?;
        self.call(Call::RequiresGrad_ {
            x: t.clone(),
            flag: true,
        })?;
        Ok(t)
    }

    /// A new tensor of `value`, written once in place as `nn.init` and `reset_running_stats` do.
    fn reset_filled(&mut self, shape: Vec<usize>, dtype: DType, value: f64) -> Res<B::Tensor> {
        let t = as_tensor(
            self.call(Call::Full {
                shape,
                value: Scalar::Int(0),
                dtype,
            })?,
            "BatchNorm2d",
        )?;
        let value = if dtype == DType::I64 {
            Scalar::Int(value as i64)
        } else {
            Scalar::Float(value)
        };
        self.call(Call::Fill_ {
            x: t.clone(),
            value,
        })?;
        Ok(t)
    }

    pub(super) fn make_module(
        &mut self,
        name: &str,
        mut a: Args<B::Tensor>,
    ) -> Res<PyVal<B::Tensor>> {
        let size = |a: &mut Args<B::Tensor>, key: &str| -> Res<usize> {
            let v = as_int(&a.req(key)?, name)?;
            usize::try_from(v).map_err(|_| {
                Failure::new(
                    ErrorKind::InvalidArgument,
                    format!("{name}(): {key} must be non-negative, got {v}"),
                )
            })
        };
        let m = match name {
            "Linear" => {
                let fin = size(&mut a, "in_features")?;
                let fout = size(&mut a, "out_features")?;
                let bias = opt_bool(a.take("bias"), true, name)?;
                // kaiming_uniform_(a=sqrt(5)) and the bias rule both give U(-1/sqrt(fan_in), ..).
                let bound = if fin > 0 {
                    1.0 / (fin as f64).sqrt()
                } else {
                    0.0
                };
                let mut m = Module::new(ModKind::Linear);
                let w = self.new_param(vec![fout, fin], bound)?;
                m.params.push(("weight".into(), Some(w)));
                let b = if bias {
                    Some(self.new_param(vec![fout], bound)?)
                } else {
                    None
                };
                m.params.push(("bias".into(), b));
                m
            }
            "Conv2d" => {
                let cin = size(&mut a, "in_channels")?;
                let cout = size(&mut a, "out_channels")?;
                let k = pair(Some(a.req("kernel_size")?), 1, name)?;
                let stride = pair(a.take("stride"), 1, name)?;
                let padding = match a.take("padding") {
                    Some(PyVal::Str(s)) if s == "same" => {
                        return Err(unsupported("padding='same'"));
                    }
                    p => pair(p, 0, name)?,
                };
                let dilation = pair(a.take("dilation"), 1, name)?;
                let groups = a
                    .take("groups")
                    .map(|g| as_int(&g, name))
                    .transpose()?
                    .unwrap_or(1);
                let bias = opt_bool(a.take("bias"), true, name)?;
                let groups = match usize::try_from(groups) {
                    Ok(g) if g > 0 && cin % g == 0 && cout % g == 0 => g,
                    _ => {
                        return Err(Failure::new(
                            ErrorKind::InvalidArgument,
                            "ValueError: in_channels and out_channels must be divisible by groups",
                        ));
                    }
                };
                let fan_in = cin / groups * k[0] * k[1];
                let bound = if fan_in > 0 {
                    1.0 / (fan_in as f64).sqrt()
                } else {
                    0.0
                };
                let mut m = Module::new(ModKind::Conv2d {
                    stride,
                    padding,
                    dilation,
                    groups,
                });
                let w = self.new_param(vec![cout, cin / groups, k[0], k[1]], bound)?;
                m.params.push(("weight".into(), Some(w)));
                let b = if bias {
                    Some(self.new_param(vec![cout], bound)?)
                } else {
                    None
                };
                m.params.push(("bias".into(), b));
                m
            }
            "Sequential" => {
                let mut m = Module::new(ModKind::Sequential);
                for (i, v) in a.rest.drain(..).enumerate() {
                    match v {
                        PyVal::Module(c) => m.children.push((i.to_string(), c)),
                        other => {
                            return Err(type_error(format!(
                                "{} is not a Module subclass",
                                other.type_name()
                            )));
                        }
                    }
                }
                m
            }
            "Flatten" => {
                let start = a.take("start_dim").map(|v| as_int(&v, name)).transpose()?;
                let end = a.take("end_dim").map(|v| as_int(&v, name)).transpose()?;
                Module::new(ModKind::Flatten {
                    start: start.unwrap_or(1),
                    end: end.unwrap_or(-1),
                })
            }
            "ReLU" => Module::new(ModKind::ReLU),
            "Sigmoid" => Module::new(ModKind::Sigmoid),
            "Tanh" => Module::new(ModKind::Tanh),
            "Dropout" => {
                let p = a.take("p").map(|v| as_f64(&v, name)).transpose()?;
                if opt_bool(a.take("inplace"), false, name)? {
                    return Err(unsupported("nn.Dropout(inplace=True)"));
                }
                let p = p.unwrap_or(0.5);
                // nn.Dropout.__init__ checks `p` as F.dropout does.
                if !(0.0..=1.0).contains(&p) {
                    return Err(Failure::new(
                        ErrorKind::InvalidArgument,
                        format!(
                            "dropout probability has to be between 0 and 1, but got {}",
                            py_float(p)
                        ),
                    ));
                }
                Module::new(ModKind::Dropout(p))
            }
            "BatchNorm2d" => {
                let c = size(&mut a, "num_features")?;
                let eps = a.take("eps").map(|v| as_f64(&v, name)).transpose()?;
                let momentum = match a.take("momentum") {
                    None => Some(0.1),
                    Some(PyVal::None) => None,
                    Some(v) => Some(as_f64(&v, name)?),
                };
                let affine = opt_bool(a.take("affine"), true, name)?;
                let track = opt_bool(a.take("track_running_stats"), true, name)?;
                let mut m = Module::new(ModKind::BatchNorm2d {
                    eps: eps.unwrap_or(1e-5),
                    momentum,
                });
                // `_NormBase.__init__`: allocated, then `reset_parameters` fills each in place
                // (so each is at version 1): ones/zeros for weight/bias, zero_()/fill_(1)/zero_()
                // for the running stats.
                for (pname, v) in [("weight", 1.0), ("bias", 0.0)] {
                    let t = if affine {
                        let t = self.reset_filled(vec![c], DType::F32, v)?;
                        self.call(Call::RequiresGrad_ {
                            x: t.clone(),
                            flag: true,
                        })?;
                        Some(t)
                    } else {
                        None
                    };
                    m.params.push((pname.into(), t));
                }
                for (bname, shape, dtype, v) in [
                    ("running_mean", vec![c], DType::F32, 0.0),
                    ("running_var", vec![c], DType::F32, 1.0),
                    ("num_batches_tracked", vec![], DType::I64, 0.0),
                ] {
                    let t = if track {
                        Some(self.reset_filled(shape, dtype, v)?)
                    } else {
                        None
                    };
                    m.buffers.push((bname.into(), t));
                }
                m
            }
            _ => {
                let r = reduction(a.take("reduction"))?;
                Module::new(ModKind::MseLoss(r))
            }
        };
        Ok(PyVal::Module(Rc::new(RefCell::new(m))))
    }

    pub(super) fn make_sgd(&mut self, mut a: Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let params = Self::optim_params(&mut a, "SGD")?;
        let num = |a: &mut Args<B::Tensor>, key: &str, d: f64| -> Res<f64> {
            a.take(key)
                .map(|v| as_f64(&v, "SGD"))
                .transpose()
                .map(|v| v.unwrap_or(d))
        };
        let lr = num(&mut a, "lr", 1e-3)?;
        let momentum = num(&mut a, "momentum", 0.0)?;
        let dampening = num(&mut a, "dampening", 0.0)?;
        let weight_decay = num(&mut a, "weight_decay", 0.0)?;
        let nesterov = opt_bool(a.take("nesterov"), false, "SGD")?;
        self.call(Call::SgdNew {
            params,
            lr,
            momentum,
            dampening,
            weight_decay,
            nesterov,
        })
    }

    /// `optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    /// amsgrad=False)`; the checks of `Adam.__init__` are the backends'.
    pub(super) fn make_adam(&mut self, mut a: Args<B::Tensor>) -> Res<PyVal<B::Tensor>> {
        let params = Self::optim_params(&mut a, "Adam")?;
        let num = |a: &mut Args<B::Tensor>, key: &str, d: f64| -> Res<f64> {
            a.take(key)
                .map(|v| as_f64(&v, "Adam"))
                .transpose()
                .map(|v| v.unwrap_or(d))
        };
        let lr = num(&mut a, "lr", 1e-3)?;
        let betas = match a.take("betas") {
            None | Some(PyVal::None) => (0.9, 0.999),
            Some(PyVal::Tuple(b) | PyVal::List(b)) if b.len() == 2 => {
                (as_f64(&b[0], "Adam")?, as_f64(&b[1], "Adam")?)
            }
            Some(other) => {
                return Err(type_error(format!(
                    "Adam(): betas must be a pair of numbers, not {}",
                    other.type_name()
                )));
            }
        };
        let eps = num(&mut a, "eps", 1e-8)?;
        let weight_decay = num(&mut a, "weight_decay", 0.0)?;
        let amsgrad = opt_bool(a.take("amsgrad"), false, "Adam")?;
        let options = AdamOptions {
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
        };
        match self.call(Call::Nn(NnCall::AdamNew { params, options }))? {
            PyVal::Optimizer(i) => Ok(PyVal::Adam(i)),
            _ => Err(type_error("Adam(): the backend gave no optimizer")),
        }
    }

    /// `adam.step()` and `adam.zero_grad()`.
    pub(super) fn adam_method(
        &mut self,
        optimizer: usize,
        name: &str,
        a: &mut Args<B::Tensor>,
    ) -> Res<PyVal<B::Tensor>> {
        if name == "step" {
            return self.call(Call::Nn(NnCall::AdamStep { optimizer }));
        }
        if !opt_bool(a.take("set_to_none"), true, name)? {
            return Err(unsupported("Adam.zero_grad(set_to_none=False)"));
        }
        self.call(Call::Nn(NnCall::AdamZeroGrad { optimizer }))
    }

    /// An optimizer's `params`: a list or tuple of tensors (parameter groups are not supported).
    fn optim_params(a: &mut Args<B::Tensor>, opt: &str) -> Res<Vec<B::Tensor>> {
        Ok(match a.req("params")? {
            PyVal::List(xs) | PyVal::Tuple(xs) => xs
                .into_iter()
                .map(|x| as_tensor(x, opt))
                .collect::<Res<Vec<_>>>()?,
            PyVal::Tensor(_) => {
                return Err(type_error(
                    "params argument given to the optimizer should be an iterable of Tensors or dicts, but got torch.FloatTensor",
                ));
            }
            other => {
                return Err(type_error(format!(
                    "{opt}(): params must be a list of tensors, not {}",
                    other.type_name()
                )));
            }
        })
    }

    /// `_BatchNorm.forward` (torch/nn/modules/batchnorm.py), line for line.
    fn batch_norm2d(
        &mut self,
        m: &ModRef<B::Tensor>,
        x: B::Tensor,
        eps: f64,
        momentum: Option<f64>,
    ) -> Res<PyVal<B::Tensor>> {
        let ndim = match self.call(Call::GetAttr {
            x: x.clone(),
            attr: TensorAttr::Ndim,
        })? {
            PyVal::Int(n) => n,
            _ => return Err(type_error("BatchNorm2d: ndim is no int")),
        };
        if ndim != 4 {
            return Err(Failure::new(
                ErrorKind::InvalidShape,
                format!("expected 4D input (got {ndim}D input)"),
            ));
        }
        let mb = m.borrow();
        let training = mb.training;
        let (weight, bias) = (mb.param("weight").flatten(), mb.param("bias").flatten());
        let running_mean = mb.buffer("running_mean").flatten();
        let running_var = mb.buffer("running_var").flatten();
        let tracked = mb.buffer("num_batches_tracked").flatten();
        drop(mb);
        let track = running_mean.is_some();
        let mut factor = momentum.unwrap_or(0.0);
        if training
            && track
            && let Some(n) = tracked
        {
            self.call(Call::Inplace {
                op: InplaceOp::Add,
                x: n.clone(),
                other: Operand::Scalar(Scalar::Int(1)),
            })?;
            if momentum.is_none() {
                factor = match self.call(Call::Item { x: n })? {
                    PyVal::Int(k) => 1.0 / k as f64,
                    PyVal::Float(k) => 1.0 / k,
                    _ => return Err(type_error("num_batches_tracked is no number")),
                };
            }
        }
        let bn_training = training || (running_mean.is_none() && running_var.is_none());
        let (running_mean, running_var) = if !training || track {
            (running_mean, running_var)
        } else {
            (None, None)
        };
        self.call(Call::Nn(NnCall::BatchNorm {
            x,
            running_mean,
            running_var,
            weight,
            bias,
            training: bn_training,
            momentum: factor,
            eps,
        }))
    }

    fn module_params(m: &ModRef<B::Tensor>) -> Vec<(String, B::Tensor)> {
        let mut ps = Vec::new();
        m.borrow().named_parameters("", &mut ps);
        ps
    }

    pub(super) fn module_method(
        &mut self,
        m: &ModRef<B::Tensor>,
        name: &str,
        mut a: Args<B::Tensor>,
    ) -> Res<PyVal<B::Tensor>> {
        match name {
            "parameters" | "named_parameters" => {
                let _ = a.take(if name == "parameters" {
                    "recurse"
                } else {
                    "prefix"
                });
                let ps = Self::module_params(m);
                Ok(PyVal::List(
                    ps.into_iter()
                        .map(|(n, t)| {
                            if name == "parameters" {
                                PyVal::Tensor(t)
                            } else {
                                PyVal::Tuple(vec![PyVal::Str(n), PyVal::Tensor(t)])
                            }
                        })
                        .collect(),
                ))
            }
            "zero_grad" => {
                let set_to_none = opt_bool(a.take("set_to_none"), true, name)?;
                for (_, p) in Self::module_params(m) {
                    if set_to_none {
                        self.call(Call::SetGrad { x: p, grad: None })?;
                    } else if let PyVal::Tensor(g) = self.call(Call::GetAttr {
                        x: p,
                        attr: TensorAttr::Grad,
                    })? {
                        self.call(Call::Zero_ { x: g })?;
                    }
                }
                Ok(PyVal::None)
            }
            "requires_grad_" => {
                let flag = opt_bool(a.take("requires_grad"), true, name)?;
                for (_, p) in Self::module_params(m) {
                    self.call(Call::RequiresGrad_ { x: p, flag })?;
                }
                Ok(PyVal::Module(m.clone()))
            }
            "train" | "eval" => {
                let mode = name == "train" && opt_bool(a.take("mode"), true, name)?;
                m.borrow_mut().set_training(mode);
                Ok(PyVal::Module(m.clone()))
            }
            "children" => Ok(PyVal::List(
                m.borrow()
                    .children
                    .iter()
                    .map(|(_, c)| PyVal::Module(c.clone()))
                    .collect(),
            )),
            _ => self.call_module(m, a),
        }
    }

    /// `module(x)`: the forward pass, as backend calls.
    pub(super) fn call_module(
        &mut self,
        m: &ModRef<B::Tensor>,
        mut a: Args<B::Tensor>,
    ) -> Res<PyVal<B::Tensor>> {
        let kind = m.borrow().kind.clone();
        let x = as_tensor(a.req("input")?, "forward")?;
        let call = match kind {
            ModKind::Sequential => {
                let children: Vec<_> = m.borrow().children.iter().map(|(_, c)| c.clone()).collect();
                let mut cur = PyVal::Tensor(x);
                for c in children {
                    cur = self.call_module(&c, forward_args(vec![cur], Vec::new())?)?;
                }
                return Ok(cur);
            }
            ModKind::Linear => {
                let mb = m.borrow();
                let weight = mb.param("weight").flatten();
                let bias = mb.param("bias").flatten();
                drop(mb);
                let weight = weight.ok_or_else(|| type_error("Linear has no weight"))?;
                Call::Linear { x, weight, bias }
            }
            ModKind::Conv2d {
                stride,
                padding,
                dilation,
                groups,
            } => {
                let mb = m.borrow();
                let weight = mb.param("weight").flatten();
                let bias = mb.param("bias").flatten();
                drop(mb);
                let weight = weight.ok_or_else(|| type_error("Conv2d has no weight"))?;
                Call::Conv2d {
                    x,
                    weight,
                    bias,
                    stride,
                    padding,
                    dilation,
                    groups,
                }
            }
            ModKind::Flatten { start, end } => Call::Flatten { x, start, end },
            ModKind::ReLU => Call::Unary {
                op: UnaryOp::Relu,
                x,
            },
            ModKind::Sigmoid => Call::Unary {
                op: UnaryOp::Sigmoid,
                x,
            },
            ModKind::Tanh => Call::Unary {
                op: UnaryOp::Tanh,
                x,
            },
            ModKind::Dropout(p) => {
                let training = m.borrow().training;
                return self.dropout(x, p, training);
            }
            ModKind::BatchNorm2d { eps, momentum } => {
                return self.batch_norm2d(m, x, eps, momentum);
            }
            ModKind::MseLoss(reduction) => {
                let target = as_tensor(a.req("target")?, "MSELoss")?;
                Call::MseLoss {
                    input: x,
                    target,
                    reduction,
                }
            }
        };
        self.call(call)
    }
}
