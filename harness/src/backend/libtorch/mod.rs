//! The reference backend: libtorch 2.13 through tch, plus a C++ shim (`shim.cpp`, bound in
//! [`ffi`]) for the autograd surface tch lacks.
//!
//! Every [`Call`] is carried out the way CPython torch 2.13 carries out the Python line it stands
//! for, because the Python behaviour is what the seed documents describe: a Python number given
//! to `+ - * /` becomes a wrapped-number tensor (so `x * 2` is `MulBackward0`, which saves its
//! operands), `x[i] = v` goes through Python's `__setitem__`, the `.grad` and `.requires_grad`
//! setters apply Python's checks, `backward` applies `torch.autograd.backward`'s `_make_grads`,
//! and `SGD` follows `torch.optim.SGD`'s single-tensor update. libtorch errors come back as
//! [`Failure`]s classified by [`crate::classify`]; no libtorch error can panic or abort.

pub mod ffi;
mod nn;
// ---- index ----
mod indexing;

use crate::backend::{
    Backend, BinaryOp, Call, DType, Failure, GraphNode, GraphObs, InplaceOp, Operand, Reduction,
    Scalar, TensorAttr, TensorData, TensorObs, UnaryOp, Value,
};
use crate::error_kind::ErrorKind;
use tch::{Device, Kind, TchError, Tensor};

/// A Python tensor reference: cloning the handle shares the TensorImpl, as Python names do.
pub struct TorchTensor(Tensor);

impl TorchTensor {
    pub fn new(t: Tensor) -> Self {
        TorchTensor(t)
    }
    /// The underlying tch tensor (for tests and benchmarks that build graphs directly).
    pub fn tch(&self) -> &Tensor {
        &self.0
    }
}

impl Clone for TorchTensor {
    fn clone(&self) -> Self {
        TorchTensor(self.0.shallow_clone())
    }
}

impl std::fmt::Debug for TorchTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TorchTensor({:?})", ffi::impl_ptr(&self.0))
    }
}

struct Sgd {
    params: Vec<Tensor>,
    bufs: Vec<Tensor>,
    options: ffi::SgdOptions,
}

/// libtorch as a [`Backend`]. One instance per program run; it holds the optimizers a program
/// made and the warnings not yet taken. Grad mode is libtorch's thread-local mode, so an
/// instance must be driven from one thread. Threading of libtorch's kernels is left to the
/// caller (`tch::set_num_threads`).
pub struct LibtorchBackend {
    optimizers: Vec<Sgd>,
    warnings: Vec<String>,
    /// `TORCH_WARN_ONCE` messages this instance has already reported.
    warned_once: std::collections::HashSet<String>,
    // ---- nn ----
    nn: nn::NnState,
}

/// Starts of libtorch's `TORCH_WARN_ONCE` messages that a program can trigger. Python shows each
/// once per process; a case is one program, so each is reported once per backend instance
/// (libtorch itself is switched to warn-always, so process history cannot leak between cases).
const WARN_ONCE: &[&str] =
    &["Using backward() with create_graph=True will create a reference cycle"];

impl Default for LibtorchBackend {
    fn default() -> Self {
        Self::new()
    }
}

type R<T> = Result<T, Failure>;

/// A failure from libtorch message text.
fn fail(message: impl AsRef<str>) -> Failure {
    let message = pythonize_type_names(crate::classify::strip_backtrace(message.as_ref()));
    Failure::new(crate::classify::classify(&message), message)
}

/// libtorch prints a tensor's type as `CPUFloatType`; with Python loaded, torch registers its
/// own printer and the same message reads `torch.FloatTensor` (seen in the "modified by an
/// inplace operation" error). Messages follow Python's spelling.
fn pythonize_type_names(message: &str) -> String {
    const NAMES: &[(&str, &str)] = &[
        ("CPUFloatType", "torch.FloatTensor"),
        ("CPUDoubleType", "torch.DoubleTensor"),
        ("CPULongType", "torch.LongTensor"),
        ("CPUBoolType", "torch.BoolTensor"),
        ("CPUIntType", "torch.IntTensor"),
        ("CPUHalfType", "torch.HalfTensor"),
        ("CPUBFloat16Type", "torch.BFloat16Tensor"),
    ];
    let mut out = message.to_owned();
    for (cpp, py) in NAMES {
        if out.contains(cpp) {
            out = out.replace(cpp, py);
        }
    }
    out
}

fn tch_fail(e: TchError) -> Failure {
    match e {
        TchError::Torch(m) => fail(m),
        other => fail(other.to_string()),
    }
}

trait OrFail<T> {
    fn or_fail(self) -> R<T>;
}

impl<T> OrFail<T> for Result<T, TchError> {
    fn or_fail(self) -> R<T> {
        self.map_err(tch_fail)
    }
}

impl<T> OrFail<T> for Result<T, String> {
    fn or_fail(self) -> R<T> {
        self.map_err(fail)
    }
}

fn kind_of(dtype: DType) -> Kind {
    match dtype {
        DType::Bool => Kind::Bool,
        DType::I8 => Kind::Int8,
        DType::I16 => Kind::Int16,
        DType::I32 => Kind::Int,
        DType::I64 => Kind::Int64,
        DType::F32 => Kind::Float,
        DType::F64 => Kind::Double,
    }
}

fn dtype_of(t: &Tensor) -> R<DType> {
    match t.f_kind().or_fail()? {
        Kind::Bool => Ok(DType::Bool),
        Kind::Int8 => Ok(DType::I8),
        Kind::Int16 => Ok(DType::I16),
        Kind::Int => Ok(DType::I32),
        Kind::Int64 => Ok(DType::I64),
        Kind::Float => Ok(DType::F32),
        Kind::Double => Ok(DType::F64),
        other => Err(Failure::new(
            ErrorKind::NotImplemented,
            format!("dtype {other:?} is outside the conformance surface"),
        )),
    }
}

/// Python's `str(torch.Size([...]))`.
fn torch_size(shape: &[i64]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("torch.Size([{}])", dims.join(", "))
}

/// Python's `repr(float)` for the numbers SGD puts in its messages.
fn py_float(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// A tensor's contents as [`TensorData`], read without autograd and without warnings.
fn read_data(t: &Tensor) -> R<TensorData> {
    let dtype = dtype_of(t)?;
    let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
    let numel: usize = shape.iter().product();
    // CUDA tensors (`libtorch-cuda`) are read through a host copy.
    let flat = t
        .f_detach()
        .or_fail()?
        .f_to_device(Device::Cpu)
        .or_fail()?
        .f_to_kind(Kind::Double)
        .or_fail()?;
    let mut values = vec![0.0f64; numel];
    if numel > 0 {
        flat.f_copy_data(&mut values, numel).or_fail()?;
    }
    Ok(TensorData {
        shape,
        dtype,
        values,
    })
}

fn scalar_value<T>(dtype: DType, v: f64) -> Value<T> {
    match dtype {
        DType::Bool => Value::Bool(v != 0.0),
        DType::I8 | DType::I16 | DType::I32 | DType::I64 => Value::Int(v as i64),
        DType::F32 | DType::F64 => Value::Float(v),
    }
}

/// `x.tolist()`: nested lists of Python numbers; a 0-dim tensor gives the number itself.
fn to_list<T>(data: &TensorData) -> Value<T> {
    fn build<T>(dtype: DType, shape: &[usize], values: &[f64]) -> Value<T> {
        match shape.split_first() {
            None => scalar_value(dtype, values[0]),
            Some((&n, rest)) => {
                let stride: usize = rest.iter().product();
                Value::List(
                    (0..n)
                        .map(|k| build(dtype, rest, &values[k * stride..(k + 1) * stride]))
                        .collect(),
                )
            }
        }
    }
    build(data.dtype, &data.shape, &data.values)
}

/// A Python number where Python's argument parser takes only a tensor
/// (`torch.maximum(x, 2)`): its TypeError.
fn refused_number(op: BinaryOp, s: Scalar) -> Failure {
    let ty = match s {
        Scalar::Bool(_) => "bool",
        Scalar::Int(_) => "int",
        Scalar::Float(_) => "float",
    };
    fail(format!(
        "{}(): argument 'other' (position 2) must be Tensor, not {ty}",
        op.name()
    ))
}

/// The unary ops, from their rows (`crate::ops::unary_table`): each row's `tch` method, and its
/// in-place method where the row has one.
macro_rules! libtorch_unary {
    ($( $V:ident { engine: $e:ident, tch: $t:ident, in_place: [$($ie:ident, $it:ident)?],
        $($rest:tt)* } ),* $(,)?) => {
        fn unary(op: UnaryOp, x: &Tensor) -> R<Tensor> {
            match op {
                $( UnaryOp::$V => x.$t(), )*
            }
            .or_fail()
        }

        // `x` goes unused while no row has an in-place method.
        #[allow(unused_variables)]
        fn unary_(op: UnaryOp, x: &Tensor) -> R<()> {
            #[allow(unreachable_patterns)]
            match op {
                $( $( UnaryOp::$V => x.shallow_clone().$it().map(drop).or_fail(), )? )*
                _ => Err(Failure::new(
                    ErrorKind::NotImplemented,
                    format!("`{}_` is not in the ops table", op.name()),
                )),
            }
        }
    };
}
crate::ops::unary_table!(libtorch_unary);

/// The binary ops, from their rows (`crate::ops::binary_table`): each row's `tch` method on two
/// tensors; a Python number goes the way the row's `number` column says Python passes it.
macro_rules! libtorch_binary {
    (@number Wrapped, $a:ident, $op:ident, $s:expr, $t:ident) => {
        $a.$t(&ffi::wrapped_scalar($s).or_fail()?).or_fail()
    };
    (@number Scalar($f:path), $a:ident, $op:ident, $s:expr, $t:ident) => {
        $f($a, $s).or_fail()
    };
    (@number Refused, $a:ident, $op:ident, $s:expr, $t:ident) => {
        Err(refused_number($op, $s))
    };
    // In place, a number goes to tch's Scalar overload where the row names one, else wrapped.
    (@number_ $h:ident, $s:expr, $it:ident) => {
        $h.$it(&ffi::wrapped_scalar($s).or_fail()?).map(drop).or_fail()
    };
    (@number_ $h:ident, $s:expr, $it:ident, $itn:path) => {
        $itn(&$h, $s).or_fail()
    };
    ($( $V:ident { engine: [$($e:ident)?], tch: $t:ident, number: $num:ident $(($nf:path))?,
        in_place: [$($ie:ident, $it:ident $(, $itn:path)?)?], $($rest:tt)* } ),* $(,)?) => {
        fn binary(op: BinaryOp, a: &Tensor, b: &Operand<TorchTensor>) -> R<Tensor> {
            match b {
                Operand::Tensor(t) => match op {
                    $( BinaryOp::$V => a.$t(&t.0).or_fail(), )*
                },
                Operand::Scalar(s) => match op {
                    $( BinaryOp::$V => libtorch_binary!(@number $num $(($nf))?, a, op, *s, $t), )*
                },
            }
        }

        fn binary_(op: InplaceOp, x: &Tensor, b: &Operand<TorchTensor>) -> R<()> {
            let mut h = x.shallow_clone();
            match b {
                Operand::Tensor(t) => match op {
                    $( $( InplaceOp::$V => h.$it(&t.0).map(drop).or_fail(), )? )*
                },
                Operand::Scalar(s) => match op {
                    $( $( InplaceOp::$V => libtorch_binary!(@number_ h, *s, $it $(, $itn)?), )? )*
                },
            }
        }
    };
}
crate::ops::binary_table!(libtorch_binary);

impl LibtorchBackend {
    pub fn new() -> Self {
        ffi::install_warning_handler();
        ffi::set_warn_always(true);
        LibtorchBackend {
            optimizers: Vec::new(),
            warnings: Vec::new(),
            warned_once: Default::default(),
            nn: Default::default(),
        }
    }

    /// Moves libtorch's pending warnings into ours, keeping their order with Python-level ones.
    fn drain_shim_warnings(&mut self) {
        for w in ffi::take_warnings() {
            if WARN_ONCE.iter().any(|p| w.starts_with(p)) && !self.warned_once.insert(w.clone()) {
                continue;
            }
            self.warnings.push(w);
        }
    }

    fn wrap(t: Tensor) -> Value<TorchTensor> {
        Value::Tensor(TorchTensor(t))
    }

    /// `torch.autograd.backward(root, gradient, retain_graph, create_graph)`, with the checks of
    /// Python's `_make_grads` in front (their messages differ from C++'s).
    fn backward(
        &mut self,
        root: &Tensor,
        gradient: Option<&Tensor>,
        retain_graph: Option<bool>,
        create_graph: bool,
    ) -> R<()> {
        let flags = ffi::flags(root).or_fail()?;
        let implicit;
        let grad = match gradient {
            Some(g) => {
                if g.size() != root.size() {
                    return Err(fail(format!(
                        "Mismatch in shape: grad_output[0] has a shape of {} and output[0] has a shape of {}.",
                        torch_size(&g.size()),
                        torch_size(&root.size())
                    )));
                }
                Some(g)
            }
            None if flags.requires_grad => {
                if root.numel() != 1 {
                    return Err(fail(
                        "grad can be implicitly created only for scalar outputs",
                    ));
                }
                let dtype = dtype_of(root)?;
                if !dtype.is_float() {
                    return Err(fail(format!(
                        "grad can be implicitly created only for real scalar outputs but got {}",
                        dtype.torch_name()
                    )));
                }
                implicit = root.f_ones_like().or_fail()?;
                Some(&implicit)
            }
            None => None,
        };
        let retain = retain_graph.unwrap_or(create_graph);
        ffi::backward(root, grad, retain, create_graph).or_fail()
    }

    fn sgd_new(&mut self, params: Vec<TorchTensor>, options: ffi::SgdOptions) -> R<usize> {
        // torch/optim/sgd.py SGD.__init__, then Optimizer.__init__ / add_param_group, in order.
        if options.lr < 0.0 {
            return Err(fail(format!(
                "Invalid learning rate: {}",
                py_float(options.lr)
            )));
        }
        if options.momentum < 0.0 {
            return Err(fail(format!(
                "Invalid momentum value: {}",
                py_float(options.momentum)
            )));
        }
        if options.weight_decay < 0.0 {
            return Err(fail(format!(
                "Invalid weight_decay value: {}",
                py_float(options.weight_decay)
            )));
        }
        if options.nesterov && (options.momentum <= 0.0 || options.dampening != 0.0) {
            return Err(fail(
                "Nesterov momentum requires a momentum and zero dampening",
            ));
        }
        if params.is_empty() {
            return Err(fail("optimizer got an empty parameter list"));
        }
        for p in &params {
            if !ffi::flags(&p.0).or_fail()?.is_leaf {
                return Err(fail("can't optimize a non-leaf Tensor"));
            }
        }
        let bufs = params.iter().map(|_| Tensor::new()).collect();
        self.optimizers.push(Sgd {
            params: params.into_iter().map(|p| p.0).collect(),
            bufs,
            options,
        });
        Ok(self.optimizers.len() - 1)
    }

    fn optimizer(&mut self, index: usize) -> R<&mut Sgd> {
        self.optimizers.get_mut(index).ok_or_else(|| {
            Failure::new(
                ErrorKind::TypeError,
                format!("no optimizer with handle {index}"),
            )
        })
    }

    fn get_attr(&mut self, x: &Tensor, attr: TensorAttr) -> R<Value<TorchTensor>> {
        Ok(match attr {
            TensorAttr::Grad => match ffi::grad(x, true).or_fail()? {
                Some(g) => Self::wrap(g),
                None => Value::None,
            },
            TensorAttr::Data => Self::wrap(ffi::variable_data(x).or_fail()?),
            TensorAttr::IsLeaf => Value::Bool(ffi::flags(x).or_fail()?.is_leaf),
            TensorAttr::RequiresGrad => Value::Bool(ffi::flags(x).or_fail()?.requires_grad),
            TensorAttr::GradFn => match ffi::grad_fn_name(x).or_fail()? {
                Some(name) => Value::Str(name),
                None => Value::None,
            },
            TensorAttr::Version => Value::Int(ffi::flags(x).or_fail()?.version as i64),
            TensorAttr::RetainsGrad => Value::Bool(ffi::flags(x).or_fail()?.retains_grad),
            TensorAttr::IsView => Value::Bool(ffi::flags(x).or_fail()?.is_view),
            TensorAttr::Shape => Value::Tuple(x.size().into_iter().map(Value::Int).collect()),
            TensorAttr::Dtype => Value::Dtype(dtype_of(x)?),
            TensorAttr::Ndim => Value::Int(x.dim() as i64),
            TensorAttr::Numel => Value::Int(x.numel() as i64),
            TensorAttr::IsContiguous => Value::Bool(x.is_contiguous()),
        })
    }

    fn dispatch(&mut self, call: Call<TorchTensor>) -> R<Value<TorchTensor>> {
        let cpu = Device::Cpu;
        let t = |r: R<Tensor>| r.map(Self::wrap);
        match call {
            // ---- creation ----
            Call::FromData { data } => {
                t(ffi::from_data(&data.values, &data.shape, data.dtype).or_fail())
            }
            Call::Full {
                shape,
                value,
                dtype,
            } => t(ffi::full(&shape, value, dtype).or_fail()),
            Call::Arange {
                start,
                end,
                step,
                dtype,
            } => {
                // Python passes ints for an integer arange, and arange sizes its result in the
                // scalars' own type, so integral values travel as ints.
                let integral = [start, end, step].iter().all(|v| v.fract() == 0.0);
                let num = |v: f64| {
                    if integral && dtype.is_int() {
                        Scalar::Int(v as i64)
                    } else {
                        Scalar::Float(v)
                    }
                };
                t(ffi::arange(num(start), num(end), num(step), dtype).or_fail())
            }
            Call::Linspace {
                start,
                end,
                steps,
                dtype,
            } => t(ffi::linspace(start, end, steps as i64, dtype).or_fail()),
            Call::Eye { n, m, dtype } => {
                t(Tensor::f_eye_m(n as i64, m as i64, (kind_of(dtype), cpu)).or_fail())
            }

            // ---- elementwise ----
            Call::Binary { op, a, b } => t(binary(op, &a.0, &b)),
            Call::Rsub { a, b } => t(ffi::rsub_scalar(&a.0, b).or_fail()),
            Call::PowScalarBase { base, exp } => t(ffi::pow_scalar(base, &exp.0).or_fail()),
            Call::Unary { op, x } => t(unary(op, &x.0)),
            Call::Clamp { x, min, max } => match ffi::clamp(&x.0, min, max, false).or_fail()? {
                Some(r) => Ok(Self::wrap(r)),
                None => Err(fail("clamp returned no tensor")),
            },
            Call::ClampSide { x, bound, is_min } => {
                match ffi::clamp_side(&x.0, bound, is_min, false).or_fail()? {
                    Some(r) => Ok(Self::wrap(r)),
                    None => Err(fail("clamp_min/clamp_max returned no tensor")),
                }
            }
            Call::Where { cond, a, b } => {
                let side = |o: &Operand<TorchTensor>| match o {
                    Operand::Tensor(t) => Ok(t.0.shallow_clone()),
                    Operand::Scalar(s) => Err(*s),
                };
                let (a, b) = (side(&a), side(&b));
                t(ffi::where_(
                    &cond.0,
                    a.as_ref().map_err(|s| *s),
                    b.as_ref().map_err(|s| *s),
                )
                .or_fail())
            }

            // ---- reductions ----
            Call::Sum { x, dims, keepdim } => t(match (dims, keepdim) {
                (None, false) => x.0.f_sum(None::<Kind>),
                (dims, keepdim) => {
                    x.0.f_sum_dim_intlist(dims.as_deref(), keepdim, None::<Kind>)
                }
            }
            .or_fail()),
            Call::Mean { x, dims, keepdim } => t(match (dims, keepdim) {
                (None, false) => x.0.f_mean(None::<Kind>),
                (dims, keepdim) => x.0.f_mean_dim(dims.as_deref(), keepdim, None::<Kind>),
            }
            .or_fail()),
            Call::MaxAll { x } => t(x.0.f_max().or_fail()),
            Call::MinAll { x } => t(x.0.f_min().or_fail()),
            Call::MaxDim { x, dim, keepdim } => {
                let (v, i) = x.0.f_max_dim(dim, keepdim).or_fail()?;
                Ok(Value::Tuple(vec![Self::wrap(v), Self::wrap(i)]))
            }
            Call::MinDim { x, dim, keepdim } => {
                let (v, i) = x.0.f_min_dim(dim, keepdim).or_fail()?;
                Ok(Value::Tuple(vec![Self::wrap(v), Self::wrap(i)]))
            }
            Call::Softmax { x, dim } => t(x.0.f_softmax(dim, None::<Kind>).or_fail()),
            Call::LogSoftmax { x, dim } => t(x.0.f_log_softmax(dim, None::<Kind>).or_fail()),

            // ---- linear algebra and nn.functional ----
            Call::Matmul { a, b } => t(a.0.f_matmul(&b.0).or_fail()),
            Call::Mm { a, b } => t(a.0.f_mm(&b.0).or_fail()),
            Call::Bmm { a, b } => t(a.0.f_bmm(&b.0).or_fail()),
            Call::Linear { x, weight, bias } => t(x
                .0
                .f_linear(&weight.0, bias.as_ref().map(|b| &b.0))
                .or_fail()),
            Call::Conv2d {
                x,
                weight,
                bias,
                stride,
                padding,
                dilation,
                groups,
            } => {
                let i = |a: [usize; 2]| [a[0] as i64, a[1] as i64];
                t(x.0
                    .f_conv2d(
                        &weight.0,
                        bias.as_ref().map(|b| &b.0),
                        i(stride),
                        i(padding),
                        i(dilation),
                        groups as i64,
                    )
                    .or_fail())
            }
            Call::MseLoss {
                input,
                target,
                reduction,
            } => {
                // torch.nn.functional.mse_loss: a Python warning on differing sizes, then
                // broadcast_tensors, then the ATen op.
                if input.0.size() != target.0.size() {
                    self.drain_shim_warnings();
                    self.warnings.push(format!(
                        "Using a target size ({}) that is different to the input size ({}). This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
                        torch_size(&target.0.size()),
                        torch_size(&input.0.size())
                    ));
                }
                let b = Tensor::f_broadcast_tensors(&[&input.0, &target.0]).or_fail()?;
                let reduction = match reduction {
                    Reduction::None => tch::Reduction::None,
                    Reduction::Mean => tch::Reduction::Mean,
                    Reduction::Sum => tch::Reduction::Sum,
                };
                t(b[0].f_mse_loss(&b[1], reduction).or_fail())
            }

            // ---- shapes and views ----
            Call::View { x, shape } => t(x.0.f_view_(shape.as_slice()).or_fail()),
            Call::Reshape { x, shape } => t(x.0.f_reshape(shape.as_slice()).or_fail()),
            Call::Squeeze { x, dim } => t(match dim {
                None => x.0.f_squeeze(),
                Some(d) => x.0.f_squeeze_dim(d),
            }
            .or_fail()),
            Call::Unsqueeze { x, dim } => t(x.0.f_unsqueeze(dim).or_fail()),
            Call::Flatten { x, start, end } => t(x.0.f_flatten(start, end).or_fail()),
            Call::T { x } => t(x.0.f_tr().or_fail()),
            Call::Transpose { x, dim0, dim1 } => t(x.0.f_transpose(dim0, dim1).or_fail()),
            Call::Permute { x, dims } => t(x.0.f_permute(dims.as_slice()).or_fail()),
            Call::Expand { x, sizes } => t(x.0.f_expand(sizes.as_slice(), false).or_fail()),
            Call::Narrow {
                x,
                dim,
                start,
                length,
            } => t(x.0.f_narrow(dim, start, length).or_fail()),
            Call::Select { x, dim, index } => t(x.0.f_select(dim, index).or_fail()),
            Call::Index { x, items } => t(ffi::get_item(&x.0, &items).or_fail()),
            Call::Contiguous { x } => t(x.0.f_contiguous().or_fail()),
            Call::Clone { x } => t(ffi::clone(&x.0).or_fail()),
            Call::Cat { xs, dim } => {
                let xs: Vec<&Tensor> = xs.iter().map(|x| &x.0).collect();
                t(Tensor::f_cat(&xs, dim).or_fail())
            }
            Call::Stack { xs, dim } => {
                let xs: Vec<&Tensor> = xs.iter().map(|x| &x.0).collect();
                t(Tensor::f_stack(&xs, dim).or_fail())
            }
            Call::ToDtype { x, dtype } => t(x.0.f_to_dtype(kind_of(dtype), false, false).or_fail()),

            // ---- in-place: the result is the same Python object ----
            Call::Unary_ { op, x } => {
                unary_(op, &x.0)?;
                Ok(Value::Tensor(x))
            }
            Call::Inplace { op, x, other } => {
                binary_(op, &x.0, &other)?;
                Ok(Value::Tensor(x))
            }
            Call::Zero_ { x } => {
                let _ = x.0.shallow_clone().f_zero_().or_fail()?;
                Ok(Value::Tensor(x))
            }
            Call::Fill_ { x, value } => {
                ffi::fill_(&x.0, value).or_fail()?;
                Ok(Value::Tensor(x))
            }
            Call::Copy_ { x, src } => {
                x.0.shallow_clone().f_copy_(&src.0).or_fail()?;
                Ok(Value::Tensor(x))
            }
            Call::Clamp_ { x, min, max } => {
                ffi::clamp(&x.0, min, max, true).or_fail()?;
                Ok(Value::Tensor(x))
            }
            Call::ClampSide_ { x, bound, is_min } => {
                ffi::clamp_side(&x.0, bound, is_min, true).or_fail()?;
                Ok(Value::Tensor(x))
            }
            Call::SetIndex { x, items, value } => {
                let value = match &value {
                    Operand::Tensor(v) => Ok(&v.0),
                    Operand::Scalar(s) => Err(*s),
                };
                ffi::set_item(&x.0, &items, value).or_fail()?;
                Ok(Value::None)
            }

            // ---- autograd ----
            Call::GetAttr { x, attr } => self.get_attr(&x.0, attr),
            Call::SetGrad { x, grad } => {
                ffi::set_grad(&x.0, grad.as_ref().map(|g| &g.0)).or_fail()?;
                Ok(Value::None)
            }
            Call::SetData { x, data } => {
                ffi::set_data(&x.0, &data.0).or_fail()?;
                Ok(Value::None)
            }
            Call::RequiresGrad_ { x, flag } => {
                ffi::requires_grad_(&x.0, flag).or_fail()?;
                Ok(Value::Tensor(x))
            }
            Call::SetRequiresGrad { x, flag } => {
                ffi::set_requires_grad(&x.0, flag).or_fail()?;
                Ok(Value::None)
            }
            Call::RetainGrad { x } => {
                ffi::retain_grad(&x.0).or_fail()?;
                Ok(Value::None)
            }
            Call::Detach { x } => t(x.0.f_detach().or_fail()),
            Call::Detach_ { x } => {
                ffi::detach_(&x.0).or_fail()?;
                Ok(Value::Tensor(x))
            }
            Call::Backward {
                root,
                gradient,
                retain_graph,
                create_graph,
            } => {
                self.backward(
                    &root.0,
                    gradient.as_ref().map(|g| &g.0),
                    retain_graph,
                    create_graph,
                )?;
                Ok(Value::None)
            }
            Call::Item { x } => Ok(match ffi::item(&x.0).or_fail()? {
                Scalar::Bool(b) => Value::Bool(b),
                Scalar::Int(i) => Value::Int(i),
                Scalar::Float(f) => Value::Float(f),
            }),
            Call::ToList { x } => Ok(to_list(&read_data(&x.0)?)),

            // ---- grad mode ----
            Call::SetGradEnabled { enabled } => Ok(Value::Bool(ffi::set_grad_enabled(enabled))),
            Call::IsGradEnabled => Ok(Value::Bool(ffi::is_grad_enabled())),

            // ---- optim ----
            Call::SgdNew {
                params,
                lr,
                momentum,
                dampening,
                weight_decay,
                nesterov,
            } => {
                let options = ffi::SgdOptions {
                    lr,
                    momentum,
                    dampening,
                    weight_decay,
                    nesterov,
                };
                Ok(Value::Optimizer(self.sgd_new(params, options)?))
            }
            Call::SgdStep { optimizer } => {
                let opt = self.optimizer(optimizer)?;
                ffi::sgd_step(&opt.params, &mut opt.bufs, opt.options).or_fail()?;
                Ok(Value::None)
            }
            Call::SgdZeroGrad { optimizer } => {
                let opt = self.optimizer(optimizer)?;
                for p in &opt.params {
                    ffi::set_grad(p, None).or_fail()?;
                }
                Ok(Value::None)
            }

            // ---- nn ----
            Call::Nn(c) => self.nn_call(c),
            // ---- index ----
            Call::Indexing(c) => indexing::dispatch(c),
        }
    }

    fn observe_inner(&mut self, x: &Tensor) -> R<TensorObs> {
        let flags = ffi::flags(x).or_fail()?;
        let grad = match ffi::grad(x, false).or_fail()? {
            Some(g) => Some(read_data(&g)?),
            None => None,
        };
        Ok(TensorObs {
            data: read_data(x)?,
            requires_grad: flags.requires_grad,
            is_leaf: flags.is_leaf,
            grad_fn: ffi::grad_fn_name(x).or_fail()?,
            grad,
            version: flags.version,
            retains_grad: flags.retains_grad,
            is_view: flags.is_view,
        })
    }
}

impl Backend for LibtorchBackend {
    type Tensor = TorchTensor;

    fn name(&self) -> &'static str {
        "libtorch"
    }

    fn version(&self) -> String {
        format!("libtorch {}", ffi::torch_version())
    }

    fn call(&mut self, call: Call<TorchTensor>) -> Result<Value<TorchTensor>, Failure> {
        ffi::install_warning_handler();
        let r = self.dispatch(call);
        self.drain_shim_warnings();
        r
    }

    fn observe(&mut self, x: &TorchTensor) -> TensorObs {
        ffi::install_warning_handler();
        self.drain_shim_warnings();
        let obs = self.observe_inner(&x.0);
        // Observation must leave no trace, warnings included.
        let _ = ffi::take_warnings();
        obs.unwrap_or_else(|f| {
            // Reading a live tensor cannot fail for the dtypes the IR creates; if it ever does,
            // the observation says so instead of panicking.
            TensorObs {
                data: TensorData {
                    shape: vec![],
                    dtype: DType::F64,
                    values: vec![],
                },
                requires_grad: false,
                is_leaf: false,
                grad_fn: Some(format!("<unobservable: {}>", f.message)),
                grad: None,
                version: 0,
                retains_grad: false,
                is_view: false,
            }
        })
    }

    fn same(&self, a: &TorchTensor, b: &TorchTensor) -> bool {
        ffi::impl_ptr(&a.0) == ffi::impl_ptr(&b.0)
    }

    fn graph(&mut self, x: &TorchTensor) -> GraphObs {
        match ffi::graph(&x.0) {
            Ok(ffi::RawGraph { nodes, edges }) => GraphObs {
                nodes: nodes
                    .into_iter()
                    .map(|n| GraphNode {
                        name: n.name,
                        leaf_shape: n.leaf_shape,
                        // Saved tensors are private to each generated node class.
                        saved_versions: Vec::new(),
                    })
                    .collect(),
                edges,
            },
            Err(_) => GraphObs::default(),
        }
    }

    fn take_warnings(&mut self) -> Vec<String> {
        self.drain_shim_warnings();
        std::mem::take(&mut self.warnings)
    }
}

/// A link check of libtorch through tch: `y = sum(t * t)`, backward, `dy/dt[1] = 2 * t[1] = 4`.
pub fn smoke() -> f64 {
    let t = Tensor::from_slice(&[1.0f64, 2.0]).set_requires_grad(true);
    let y = (&t * &t).sum(Kind::Double);
    y.backward();
    t.grad().double_value(&[1])
}
