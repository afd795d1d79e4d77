//! The engine (`engine` crate) as a [`Backend`]: each [`Call`] is carried out with the engine's
//! public API, the way CPython torch would carry out the Python line it stands for, so that the
//! harness can diff the engine against libtorch statement by statement.
//!
//! What belongs to Python rather than to libtorch (the `mse_loss` size warning and its
//! `broadcast_tensors`, `_make_grads`' shape check, the `TypeError` of `torch.maximum(x, 2)`) is
//! done here, mirroring `backend::libtorch`, because the engine reproduces libtorch's C++ API
//! and the cases describe Python programs.
//!
//! Engine errors map to [`ErrorKind`]s through an exhaustive `match` on [`engine::Error`], so a
//! new engine error does not compile until someone decides its kind.

mod nn;

use super::{
    Backend, BinaryOp, Call, DType, Failure, GraphNode, GraphObs, Index, InplaceOp, Operand,
    Reduction, Scalar, TensorAttr, TensorData, TensorObs, UnaryOp, Value,
};
use crate::classify;
use crate::error_kind::ErrorKind;
use engine::ops::elementwise::Operand as EOperand;
use engine::ops::linalg::{Conv2dOptions, Reduction as EReduction};
use engine::optim::{SGD, SgdOptions};
use engine::{Error, IndexItem, NestedList, Tensor};
use std::collections::HashMap;
use std::sync::Arc;

// ---- index ----
mod indexing;

/// A Python reference to an engine tensor: cloning shares the tensor object, as Python names do.
pub type EngineTensor = Tensor;

/// The engine as a [`Backend`]. One instance per program run: it holds the optimizers the program
/// made and the warnings not yet taken. Grad mode and the warning log are the engine's
/// thread-local state, so an instance must be driven from one thread.
#[derive(Default)]
pub struct EngineBackend {
    optimizers: Vec<SGD>,
    warnings: Vec<String>,
    // ---- nn ----
    nn: nn::NnState,
}

type R<T> = Result<T, Failure>;

/// The kind libtorch's classification gives an engine error. Variants whose text is libtorch's
/// own free-form message take the kind the shared table gives that text (libtorch raises the
/// same text in more than one situation, e.g. "shape '[3]' is invalid" from a constructor),
/// falling back to the variant's own kind.
pub fn error_kind(e: &Error) -> ErrorKind {
    let by_text = |fallback: ErrorKind| match classify::classify(&e.to_string()) {
        ErrorKind::Unclassified => fallback,
        k => k,
    };
    match e {
        Error::LeafInplace => ErrorKind::LeafInplace,
        Error::ViewOfLeafInplace => ErrorKind::ViewOfLeafInplace,
        Error::NoGradViewInplace { .. } | Error::NoGradViewBaseModified { .. } => {
            ErrorKind::NoGradViewInplace
        }
        // libtorch classifies the overlap error with the other forbidden view writes.
        Error::InplaceOverlap | Error::InplacePartialOverlap => by_text(ErrorKind::ViewInplace),
        Error::ModifiedByInplace { .. } => ErrorKind::ModifiedByInplace,
        Error::DetachViewInplace => ErrorKind::DetachViewInplace,
        Error::SavedTensorDetached => by_text(ErrorKind::InvalidArgument),
        Error::AutogradDtype(_) => by_text(ErrorKind::DtypeNotSupported),
        Error::BackwardTwice => ErrorKind::BackwardTwice,
        Error::LeafMovedIntoGraph => ErrorKind::LeafMovedIntoGraph,
        Error::ImplicitGradNonScalar => ErrorKind::ImplicitGradNonScalar,
        Error::ImplicitGradDtype(_) => by_text(ErrorKind::DtypeNotSupported),
        Error::NoGradFn(_) => ErrorKind::NoGradFn,
        Error::GradShape { .. } => ErrorKind::GradShape,
        // create_graph=True is a feature the engine lacks, never a user mistake.
        Error::CreateGraphUnsupported => ErrorKind::NotImplemented,
        Error::RequiresGradDtypeCreation | Error::RequiresGradDtype => ErrorKind::RequiresGradDtype,
        Error::NonLeafRequiresGradOff | Error::NonLeafRequiresGrad => {
            ErrorKind::NonLeafRequiresGrad
        }
        Error::RetainGradNoGrad => ErrorKind::RetainGradNoGrad,
        Error::GradAssignShape { .. } | Error::GradAssignDtype { .. } => ErrorKind::GradAssign,
        Error::BroadcastShape { .. } => ErrorKind::BroadcastShape,
        Error::InplaceBroadcast { .. } => ErrorKind::InplaceBroadcast,
        Error::InvalidShape { .. } | Error::ExpandShape { .. } | Error::CatShape { .. } => {
            ErrorKind::InvalidShape
        }
        Error::StackShape { .. } => by_text(ErrorKind::InvalidShape),
        Error::ViewStride => ErrorKind::ViewStride,
        Error::DimOutOfRange { .. } | Error::DimOfScalar { .. } => ErrorKind::DimOutOfRange,
        Error::IndexOutOfRange { .. }
        | Error::IndexEmptyDim
        | Error::SelectOutOfRange { .. }
        | Error::NarrowOutOfRange { .. }
        | Error::NarrowStartOutOfRange { .. } => ErrorKind::IndexOutOfRange,
        Error::EmptyList { .. } | Error::CatZeroDim { .. } | Error::EmptyReduction { .. } => {
            by_text(ErrorKind::InvalidArgument)
        }
        Error::ItemNumel(_) => ErrorKind::ItemNumel,
        Error::InvalidArgument(_) => by_text(ErrorKind::InvalidArgument),
        Error::MatmulShape(_) => by_text(ErrorKind::MatmulShape),
        Error::CastInplace { .. } => ErrorKind::DtypeMismatch,
        Error::DtypeNotSupported { .. } => ErrorKind::DtypeNotSupported,
        Error::DtypeMismatch(_) => by_text(ErrorKind::DtypeMismatch),
        Error::NegativeIntPower | Error::NegBool => by_text(ErrorKind::InvalidArgument),
        Error::NumpyRequiresGrad(_) => by_text(ErrorKind::InvalidArgument),
        Error::NoCuda(_) | Error::DeviceUnsupported { .. } | Error::Cuda(_) => {
            ErrorKind::DeviceUnavailable
        }
        Error::DeviceMismatch(..) => ErrorKind::DeviceMismatch,
        // A kernel the engine's CUDA backend lacks: like create_graph, never a user mistake.
        Error::NotSupportedOnCuda { .. } => ErrorKind::NotImplemented,
        Error::MultiOutputViewInplace { .. } => by_text(ErrorKind::ViewInplace),
        Error::DerivativeNotImplemented { .. } => by_text(ErrorKind::NotImplemented),
        Error::NotDifferentiable { .. } | Error::ZeroDivision => {
            by_text(ErrorKind::InvalidArgument)
        }
        Error::IndexDtype | Error::IndexPutDtype { .. } | Error::MaskDtype { .. } => {
            by_text(ErrorKind::DtypeMismatch)
        }
        Error::IndexPutShape { .. } => by_text(ErrorKind::InvalidShape),
        Error::TargetOutOfBounds { .. } => by_text(ErrorKind::IndexOutOfRange),
    }
}

/// An engine error as a [`Failure`]: its kind, and its `Display` (libtorch's text) as message.
pub fn failure(e: Error) -> Failure {
    Failure::new(error_kind(&e), e.to_string())
}

trait OrFail<T> {
    fn or_fail(self) -> R<T>;
}

impl<T> OrFail<T> for engine::Result<T> {
    fn or_fail(self) -> R<T> {
        self.map_err(failure)
    }
}

fn edtype(d: DType) -> engine::DType {
    match d {
        DType::Bool => engine::DType::Bool,
        DType::I8 => engine::DType::I8,
        DType::I16 => engine::DType::I16,
        DType::I32 => engine::DType::I32,
        DType::I64 => engine::DType::I64,
        DType::F32 => engine::DType::F32,
        DType::F64 => engine::DType::F64,
    }
}

fn hdtype(d: engine::DType) -> DType {
    match d {
        engine::DType::Bool => DType::Bool,
        engine::DType::I8 => DType::I8,
        engine::DType::I16 => DType::I16,
        engine::DType::I32 => DType::I32,
        engine::DType::I64 => DType::I64,
        engine::DType::F32 => DType::F32,
        engine::DType::F64 => DType::F64,
    }
}

fn escalar(s: Scalar) -> engine::Scalar {
    match s {
        Scalar::Bool(b) => engine::Scalar::Bool(b),
        Scalar::Int(i) => engine::Scalar::Int(i),
        Scalar::Float(f) => engine::Scalar::Float(f),
    }
}

fn scalar_value(s: engine::Scalar) -> Value<Tensor> {
    match s {
        engine::Scalar::Bool(b) => Value::Bool(b),
        engine::Scalar::Int(i) => Value::Int(i),
        engine::Scalar::Float(f) => Value::Float(f),
    }
}

fn operand(o: &Operand<Tensor>) -> EOperand {
    match o {
        Operand::Tensor(t) => EOperand::Tensor(t.clone()),
        Operand::Scalar(s) => EOperand::Scalar(escalar(*s)),
    }
}

fn index_items(items: &[Index]) -> Vec<IndexItem> {
    items
        .iter()
        .map(|i| match *i {
            Index::Int(k) => IndexItem::Int(k),
            Index::Slice { start, stop, step } => IndexItem::Slice { start, stop, step },
            Index::NewAxis => IndexItem::NewAxis,
            Index::Ellipsis => IndexItem::Ellipsis,
        })
        .collect()
}

fn nested(l: NestedList) -> Value<Tensor> {
    match l {
        NestedList::Scalar(s) => scalar_value(s),
        NestedList::List(xs) => Value::List(xs.into_iter().map(nested).collect()),
    }
}

/// A tensor's contents, read without autograd and without warnings.
fn read_data(t: &Tensor) -> TensorData {
    // Device tensors are read through a host copy (`engine-cuda`), outside autograd.
    let values = match t.device() {
        engine::Device::Cpu => t.to_vec_f64(),
        _ => engine::with_no_grad(|| t.detach().cpu())
            .map(|h| h.to_vec_f64())
            .unwrap_or_default(),
    };
    TensorData {
        shape: t.shape(),
        dtype: hdtype(t.dtype()),
        values,
    }
}

/// Python's `str(torch.Size([...]))`.
fn torch_size(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("torch.Size([{}])", dims.join(", "))
}

fn wrap(t: Tensor) -> Value<Tensor> {
    Value::Tensor(t)
}

/// A Python number where Python's argument parser takes only a tensor
/// (`torch.maximum(x, 2)`): its TypeError.
fn refused_number(op: BinaryOp, s: Scalar) -> Failure {
    let ty = match s {
        Scalar::Bool(_) => "bool",
        Scalar::Int(_) => "int",
        Scalar::Float(_) => "float",
    };
    Failure::new(
        ErrorKind::TypeError,
        format!(
            "{}(): argument 'other' (position 2) must be Tensor, not {ty}",
            op.name()
        ),
    )
}

/// An op of the ops table the engine does not have yet (its row's `engine` column is empty).
fn not_in_engine(name: &str) -> Failure {
    Failure::new(
        ErrorKind::NotImplemented,
        format!("the engine has no `{name}`"),
    )
}

/// The unary ops, from their rows (`crate::ops::unary_table`): each row's `engine` method, and
/// its in-place method where the row has one.
macro_rules! engine_unary {
    ($( $V:ident { engine: $e:ident, tch: $t:ident, in_place: [$($ie:ident, $it:ident)?],
        $($rest:tt)* } ),* $(,)?) => {
        fn unary(op: UnaryOp, x: &Tensor) -> R<Tensor> {
            match op {
                $( UnaryOp::$V => x.$e(), )*
            }
            .or_fail()
        }

        // `x` goes unused while no row has an in-place method.
        #[allow(unused_variables)]
        fn unary_(op: UnaryOp, x: &Tensor) -> R<()> {
            #[allow(unreachable_patterns)]
            match op {
                $( $( UnaryOp::$V => x.$ie().map(drop).or_fail(), )? )*
                _ => Err(not_in_engine(&format!("{}_", op.name()))),
            }
        }
    };
}
crate::ops::unary_table!(engine_unary);

/// The binary ops, from their rows (`crate::ops::binary_table`): each row's `engine` method,
/// given a tensor or, for a Python number, an engine scalar; and its in-place method.
macro_rules! engine_binary {
    (@call $num:ident, $a:ident, $b:ident, $op:ident) => {
        Err(not_in_engine($op.name()))
    };
    (@call Refused, $a:ident, $b:ident, $op:ident, $e:ident) => {
        match $b {
            Operand::Tensor(t) => $a.$e(t).or_fail(),
            Operand::Scalar(s) => Err(refused_number($op, *s)),
        }
    };
    (@call $num:ident, $a:ident, $b:ident, $op:ident, $e:ident) => {
        $a.$e(operand($b)).or_fail()
    };
    ($( $V:ident { engine: [$($e:ident)?], tch: $t:ident, number: $num:ident $(($nf:path))?,
        in_place: [$($ie:ident, $it:ident $(, $itn:path)?)?], $($rest:tt)* } ),* $(,)?) => {
        fn binary(op: BinaryOp, a: &Tensor, b: &Operand<Tensor>) -> R<Tensor> {
            match op {
                $( BinaryOp::$V => engine_binary!(@call $num, a, b, op $(, $e)?), )*
            }
        }

        fn binary_(op: InplaceOp, x: &Tensor, b: &Operand<Tensor>) -> R<()> {
            match op {
                $( $( InplaceOp::$V => x.$ie(operand(b)).map(drop).or_fail(), )? )*
            }
        }
    };
}
crate::ops::binary_table!(engine_binary);

impl EngineBackend {
    pub fn new() -> Self {
        // Warnings left on this thread by an earlier run are not this program's.
        let _ = engine::take_warnings();
        Self::default()
    }

    /// Moves the engine's pending warnings into ours, keeping their order with Python-level ones.
    fn drain_engine_warnings(&mut self) {
        self.warnings.extend(engine::take_warnings());
    }

    /// `torch.nn.functional.mse_loss`: Python warns on differing sizes and broadcasts the
    /// operands with `broadcast_tensors` (an `ExpandBackward0` on each one that grows) before
    /// the ATen op.
    fn mse_loss(&mut self, input: &Tensor, target: &Tensor, reduction: Reduction) -> R<Tensor> {
        let (ishape, tshape) = (input.shape(), target.shape());
        let (mut input, mut target) = (input.clone(), target.clone());
        if ishape != tshape {
            self.drain_engine_warnings();
            self.warnings.push(format!(
                "Using a target size ({}) that is different to the input size ({}). This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
                torch_size(&tshape),
                torch_size(&ishape)
            ));
            let shape = engine::layout::broadcast_shapes(&ishape, &tshape).or_fail()?;
            let sizes: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
            if ishape != shape {
                input = input.expand(&sizes).or_fail()?;
            }
            if tshape != shape {
                target = target.expand(&sizes).or_fail()?;
            }
        }
        let reduction = match reduction {
            Reduction::None => EReduction::None,
            Reduction::Mean => EReduction::Mean,
            Reduction::Sum => EReduction::Sum,
        };
        input.mse_loss(&target, reduction).or_fail()
    }

    /// `torch.autograd.backward(root, gradient, ...)` with `_make_grads`' shape check in front
    /// (Python's message differs from the C++ engine's).
    fn backward(
        &self,
        root: &Tensor,
        gradient: Option<&Tensor>,
        retain_graph: Option<bool>,
        create_graph: bool,
    ) -> R<()> {
        if let Some(g) = gradient
            && g.shape() != root.shape()
        {
            return Err(Failure::new(
                ErrorKind::GradShape,
                format!(
                    "Mismatch in shape: grad_output[0] has a shape of {} and output[0] has a shape of {}.",
                    torch_size(&g.shape()),
                    torch_size(&root.shape())
                ),
            ));
        }
        root.backward_with(gradient, retain_graph, create_graph)
            .or_fail()
    }

    fn optimizer(&mut self, index: usize) -> R<&mut SGD> {
        self.optimizers.get_mut(index).ok_or_else(|| {
            Failure::new(
                ErrorKind::TypeError,
                format!("no optimizer with handle {index}"),
            )
        })
    }

    fn get_attr(&mut self, x: &Tensor, attr: TensorAttr) -> R<Value<Tensor>> {
        Ok(match attr {
            TensorAttr::Grad => x.grad().map_or(Value::None, wrap),
            TensorAttr::Data => wrap(x.data()),
            TensorAttr::IsLeaf => Value::Bool(x.is_leaf()),
            TensorAttr::RequiresGrad => Value::Bool(x.requires_grad()),
            TensorAttr::GradFn => match x.grad_fn_name().or_fail()? {
                Some(name) => Value::Str(name.to_string()),
                None => Value::None,
            },
            TensorAttr::Version => Value::Int(x.version() as i64),
            TensorAttr::RetainsGrad => Value::Bool(x.retains_grad()),
            TensorAttr::IsView => Value::Bool(x.is_view()),
            TensorAttr::Shape => Value::Tuple(
                x.shape()
                    .into_iter()
                    .map(|d| Value::Int(d as i64))
                    .collect(),
            ),
            TensorAttr::Dtype => Value::Dtype(hdtype(x.dtype())),
            TensorAttr::Ndim => Value::Int(x.ndim() as i64),
            TensorAttr::Numel => Value::Int(x.numel() as i64),
            TensorAttr::IsContiguous => Value::Bool(x.is_contiguous()),
        })
    }

    fn dispatch(&mut self, call: Call<Tensor>) -> R<Value<Tensor>> {
        let t = |r: engine::Result<Tensor>| r.map(wrap).or_fail();
        match call {
            // ---- creation ----
            Call::FromData { data } => t(Tensor::from_f64(
                &data.values,
                &data.shape,
                edtype(data.dtype),
            )),
            Call::Full {
                shape,
                value,
                dtype,
            } => t(Tensor::full(&shape, escalar(value), edtype(dtype))),
            Call::Arange {
                start,
                end,
                step,
                dtype,
            } => t(Tensor::arange(start, end, step, edtype(dtype))),
            Call::Linspace {
                start,
                end,
                steps,
                dtype,
            } => t(Tensor::linspace(start, end, steps, edtype(dtype))),
            Call::Eye { n, m, dtype } => t(Tensor::eye(n, m, edtype(dtype))),

            // ---- elementwise ----
            Call::Binary { op, a, b } => binary(op, &a, &b).map(wrap),
            Call::Rsub { a, b } => t(a.rsub(escalar(b))),
            Call::PowScalarBase { base, exp } => t(exp.pow_scalar_base(escalar(base))),
            Call::Unary { op, x } => unary(op, &x).map(wrap),
            Call::Clamp { x, min, max } => t(x.clamp(min.map(escalar), max.map(escalar))),
            Call::ClampSide { x, bound, is_min } => t(if is_min {
                x.clamp_min(escalar(bound))
            } else {
                x.clamp_max(escalar(bound))
            }),
            Call::Where { cond, a, b } => t(cond.where_(&operand(&a), &operand(&b))),

            // ---- reductions ----
            Call::Sum { x, dims, keepdim } => t(x.sum(dims.as_deref(), keepdim)),
            Call::Mean { x, dims, keepdim } => t(x.mean(dims.as_deref(), keepdim)),
            Call::MaxAll { x } => t(x.max_all()),
            Call::MinAll { x } => t(x.min_all()),
            Call::MaxDim { x, dim, keepdim } => {
                let (v, i) = x.max_dim(dim, keepdim).or_fail()?;
                Ok(Value::Tuple(vec![wrap(v), wrap(i)]))
            }
            Call::MinDim { x, dim, keepdim } => {
                let (v, i) = x.min_dim(dim, keepdim).or_fail()?;
                Ok(Value::Tuple(vec![wrap(v), wrap(i)]))
            }
            Call::Softmax { x, dim } => t(x.softmax(dim)),
            Call::LogSoftmax { x, dim } => t(x.log_softmax(dim)),

            // ---- linear algebra and nn.functional ----
            Call::Matmul { a, b } => t(a.matmul(&b)),
            Call::Mm { a, b } => t(a.mm(&b)),
            Call::Bmm { a, b } => t(a.bmm(&b)),
            Call::Linear { x, weight, bias } => t(x.linear(&weight, bias.as_ref())),
            Call::Conv2d {
                x,
                weight,
                bias,
                stride,
                padding,
                dilation,
                groups,
            } => t(x.conv2d(
                &weight,
                bias.as_ref(),
                Conv2dOptions {
                    stride,
                    padding,
                    dilation,
                    groups,
                },
            )),
            Call::MseLoss {
                input,
                target,
                reduction,
            } => self.mse_loss(&input, &target, reduction).map(wrap),

            // ---- shapes and views ----
            Call::View { x, shape } => t(x.view(&shape)),
            Call::Reshape { x, shape } => t(x.reshape(&shape)),
            Call::Squeeze { x, dim } => t(x.squeeze(dim)),
            Call::Unsqueeze { x, dim } => t(x.unsqueeze(dim)),
            Call::Flatten { x, start, end } => t(x.flatten(start, end)),
            Call::T { x } => t(x.t()),
            Call::Transpose { x, dim0, dim1 } => t(x.transpose(dim0, dim1)),
            Call::Permute { x, dims } => t(x.permute(&dims)),
            Call::Expand { x, sizes } => t(x.expand(&sizes)),
            Call::Narrow {
                x,
                dim,
                start,
                length,
            } => t(x.narrow(dim, start, length)),
            Call::Select { x, dim, index } => t(x.select(dim, index)),
            Call::Index { x, items } => t(x.index(&index_items(&items))),
            Call::Contiguous { x } => t(x.contiguous()),
            Call::Clone { x } => t(x.clone_tensor()),
            Call::Cat { xs, dim } => t(Tensor::cat(&xs, dim)),
            Call::Stack { xs, dim } => t(Tensor::stack(&xs, dim)),
            Call::ToDtype { x, dtype } => t(x.to_dtype(edtype(dtype))),

            // ---- in-place: the result is the same Python object ----
            Call::Unary_ { op, x } => {
                unary_(op, &x)?;
                Ok(wrap(x))
            }
            Call::Inplace { op, x, other } => {
                binary_(op, &x, &other)?;
                Ok(wrap(x))
            }
            Call::Zero_ { x } => {
                x.zero_().or_fail()?;
                Ok(wrap(x))
            }
            Call::Fill_ { x, value } => {
                x.fill_(escalar(value)).or_fail()?;
                Ok(wrap(x))
            }
            Call::Copy_ { x, src } => {
                x.copy_(&src).or_fail()?;
                Ok(wrap(x))
            }
            Call::Clamp_ { x, min, max } => {
                x.clamp_(min.map(escalar), max.map(escalar)).or_fail()?;
                Ok(wrap(x))
            }
            Call::ClampSide_ { x, bound, is_min } => {
                if is_min {
                    x.clamp_min_(escalar(bound)).or_fail()?;
                } else {
                    x.clamp_max_(escalar(bound)).or_fail()?;
                }
                Ok(wrap(x))
            }
            Call::SetIndex { x, items, value } => {
                x.index_set(&index_items(&items), operand(&value))
                    .or_fail()?;
                Ok(Value::None)
            }

            // ---- autograd ----
            Call::GetAttr { x, attr } => self.get_attr(&x, attr),
            Call::SetGrad { x, grad } => {
                x.set_grad(grad).or_fail()?;
                Ok(Value::None)
            }
            Call::SetData { x, data } => {
                x.set_data(&data).or_fail()?;
                Ok(Value::None)
            }
            Call::RequiresGrad_ { x, flag } => {
                x.requires_grad_(flag).or_fail()?;
                Ok(wrap(x))
            }
            Call::SetRequiresGrad { x, flag } => {
                x.set_requires_grad(flag).or_fail()?;
                Ok(Value::None)
            }
            Call::RetainGrad { x } => {
                x.retain_grad().or_fail()?;
                Ok(Value::None)
            }
            Call::Detach { x } => Ok(wrap(x.detach())),
            Call::Detach_ { x } => {
                x.detach_().or_fail()?;
                Ok(wrap(x))
            }
            Call::Backward {
                root,
                gradient,
                retain_graph,
                create_graph,
            } => {
                self.backward(&root, gradient.as_ref(), retain_graph, create_graph)?;
                Ok(Value::None)
            }
            Call::Item { x } => x.item().map(scalar_value).or_fail(),
            Call::ToList { x } => Ok(nested(x.to_list())),

            // ---- grad mode ----
            Call::SetGradEnabled { enabled } => Ok(Value::Bool(engine::set_grad_enabled(enabled))),
            Call::IsGradEnabled => Ok(Value::Bool(engine::is_grad_enabled())),

            // ---- optim ----
            Call::SgdNew {
                params,
                lr,
                momentum,
                dampening,
                weight_decay,
                nesterov,
            } => {
                let opt = SGD::new(
                    params,
                    SgdOptions {
                        lr,
                        momentum,
                        dampening,
                        weight_decay,
                        nesterov,
                    },
                )
                .or_fail()?;
                self.optimizers.push(opt);
                Ok(Value::Optimizer(self.optimizers.len() - 1))
            }
            Call::SgdStep { optimizer } => {
                self.optimizer(optimizer)?.step().or_fail()?;
                Ok(Value::None)
            }
            Call::SgdZeroGrad { optimizer } => {
                self.optimizer(optimizer)?.zero_grad().or_fail()?;
                Ok(Value::None)
            }

            // ---- nn ----
            Call::Nn(c) => self.nn_call(c),
            // ---- index ----
            Call::Indexing(c) => indexing::dispatch(c),
        }
    }
}

impl Backend for EngineBackend {
    type Tensor = EngineTensor;

    fn name(&self) -> &'static str {
        "engine"
    }

    fn version(&self) -> String {
        format!("engine {}", env!("CARGO_PKG_VERSION"))
    }

    fn call(&mut self, call: Call<Tensor>) -> Result<Value<Tensor>, Failure> {
        let r = self.dispatch(call);
        self.drain_engine_warnings();
        r
    }

    fn observe(&mut self, x: &Tensor) -> TensorObs {
        self.drain_engine_warnings();
        // A no_grad view whose base was modified cannot tell its grad_fn: reading it raises, as
        // in libtorch. The observation then says so in the libtorch backend's form (an empty
        // reading naming the error), so that the two sides compare equal.
        // Flags before grad_fn, as the libtorch backend reads them: reading grad_fn regenerates
        // a stale view's node, which changes C++ is_leaf.
        let (requires_grad, is_leaf) = (x.requires_grad(), x.is_leaf());
        let obs = match x.grad_fn_name() {
            Ok(name) => TensorObs {
                data: read_data(x),
                requires_grad,
                is_leaf,
                grad_fn: name.map(str::to_string),
                grad: x.grad_quiet().as_ref().map(read_data),
                version: x.version(),
                retains_grad: x.retains_grad(),
                is_view: x.is_view(),
            },
            Err(e) => TensorObs {
                data: TensorData {
                    shape: vec![],
                    dtype: DType::F64,
                    values: vec![],
                },
                requires_grad: false,
                is_leaf: false,
                grad_fn: Some(format!("<unobservable: {e}>")),
                grad: None,
                version: 0,
                retains_grad: false,
                is_view: false,
            },
        };
        // Observation must leave no trace, warnings included.
        let _ = engine::take_warnings();
        obs
    }

    fn same(&self, a: &Tensor, b: &Tensor) -> bool {
        a.same(b)
    }

    fn graph(&mut self, x: &Tensor) -> GraphObs {
        let mut g = GraphObs::default();
        let Some(root) = x.grad_fn_unchecked() else {
            return g;
        };
        // Breadth-first over next_functions, numbering nodes on first sight: the order the
        // libtorch backend's shim uses, so the two graphs line up in reports.
        let mut walk = GraphWalk::default();
        walk.visit(&root, &mut g);
        let mut k = 0;
        while k < walk.order.len() {
            let node = walk.order[k].clone();
            for e in node.next_functions().iter().flatten() {
                let to = walk.visit(&e.node, &mut g);
                g.edges.push((k, to));
            }
            k += 1;
        }
        g
    }

    fn take_warnings(&mut self) -> Vec<String> {
        self.drain_engine_warnings();
        std::mem::take(&mut self.warnings)
    }
}

/// Nodes numbered on first sight during a graph walk.
#[derive(Default)]
struct GraphWalk {
    ids: HashMap<*const engine::Node, usize>,
    order: Vec<Arc<engine::Node>>,
}

impl GraphWalk {
    fn visit(&mut self, n: &Arc<engine::Node>, g: &mut GraphObs) -> usize {
        if let Some(&id) = self.ids.get(&Arc::as_ptr(n)) {
            return id;
        }
        let id = self.order.len();
        self.ids.insert(Arc::as_ptr(n), id);
        self.order.push(n.clone());
        g.nodes.push(GraphNode {
            name: n.name().to_string(),
            leaf_shape: n.variable().map(|v| v.shape()),
            saved_versions: n.saved_versions(),
        });
        id
    }
}
