//! The engine's one error type. Each variant carries what libtorch's message carries, and its
//! `Display` is libtorch's message (first line) wherever libtorch has one, so that a harness can
//! classify engine and libtorch failures with the same table.

use crate::DType;

/// Shapes print like libtorch's `[2, 3]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape(pub Vec<usize>);

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{d}")?;
        }
        write!(f, "]")
    }
}

impl From<&[usize]> for Shape {
    fn from(s: &[usize]) -> Self {
        Shape(s.to_vec())
    }
}

const INPLACE_HINT: &str = "Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).";

const NO_GRAD_VIEW_HINT: &str = "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked).";

/// libtorch's `handle_view_on_rebase` message for a view made by a function that returns several
/// views (`split`, `chunk`, `unbind`).
fn multi_output_message(view_of: &Option<(usize, String)>, indirect: bool) -> String {
    let what = if indirect {
        "its base or another view of its base has been"
    } else {
        "is being"
    };
    let head = match view_of {
        Some((nr, name)) => format!("Output {nr} of {name} is a view and {what} modified inplace."),
        None => format!(
            "A view was created in no_grad mode and {what} modified inplace with grad mode enabled."
        ),
    };
    format!(
        "{head} This view is the output of a function that returns multiple views. Such functions do not allow the output views to be modified inplace. You should replace the inplace operation by an out-of-place one."
    )
}

/// libtorch's `handle_view_on_rebase` header.
fn no_grad_view_prefix(view_of: &Option<(usize, String)>) -> String {
    match view_of {
        Some((nr, name)) => {
            format!("Output {nr} of {name} is a view of a view which was created in")
        }
        None => "A view was created in".to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    // ---- in-place and views ----
    #[error("a leaf Variable that requires grad is being used in an in-place operation.")]
    LeafInplace,
    #[error("a view of a leaf Variable that requires grad is being used in an in-place operation.")]
    ViewOfLeafInplace,
    /// `view_of`: the view's own node (`(output_nr, name)`) when it has one, i.e. it is a view
    /// of a no_grad view made with grad mode on; libtorch's message then names it.
    #[error(
        "{} no_grad mode and is being modified inplace with grad mode enabled. {NO_GRAD_VIEW_HINT}",
        no_grad_view_prefix(view_of)
    )]
    NoGradViewInplace { view_of: Option<(usize, String)> },
    /// Raised when reading `grad_fn` of a no_grad view whose base was modified with grad on.
    #[error(
        "{} no_grad mode and its base or another view of its base has been modified inplace with grad mode enabled. {NO_GRAD_VIEW_HINT}",
        no_grad_view_prefix(view_of)
    )]
    NoGradViewBaseModified { view_of: Option<(usize, String)> },
    /// An in-place write to (`indirect: false`) or through the base of (`indirect: true`, raised
    /// when `grad_fn` is read) an output of `split`/`chunk`/`unbind`; `view_of` is the view's node.
    #[error("{}", multi_output_message(view_of, *indirect))]
    MultiOutputViewInplace {
        view_of: Option<(usize, String)>,
        indirect: bool,
    },
    #[error(
        "unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation."
    )]
    InplaceOverlap,
    /// ATen's `assert_no_partial_overlap` between an in-place op's output and one of its inputs.
    #[error(
        "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single memory location. Please clone() the tensor before performing the operation."
    )]
    InplacePartialOverlap,
    /// `tensor`: `torch.FloatTensor`; `output_of`: `Some((0, "Mul"))` unless the tensor is a leaf.
    #[error(
        "one of the variables needed for gradient computation has been modified by an inplace operation: [{tensor_type} {shape}]{} is at version {current}; expected version {expected} instead. {INPLACE_HINT}",
        match output_of { Some((nr, node)) => format!(", which is output {nr} of {node},"), None => String::new() }
    )]
    ModifiedByInplace {
        tensor_type: &'static str,
        shape: Shape,
        output_of: Option<(usize, String)>,
        current: u64,
        expected: u64,
    },
    #[error(
        "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and hence detach_() cannot be called on these gradients. To fix this error, please refer to the Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution."
    )]
    DetachViewInplace,
    #[error(
        "Trying to use a saved tensor that has been detached in-place, i.e. with .detach_().This is not supported, please use out-of-place `.detach()` instead"
    )]
    SavedTensorDetached,
    #[error("Autograd not support dtype: {0}")]
    AutogradDtype(&'static str),

    // ---- backward ----
    #[error(
        "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward."
    )]
    BackwardTwice,
    #[error("leaf variable has been moved into the graph interior")]
    LeafMovedIntoGraph,
    #[error("grad can be implicitly created only for scalar outputs")]
    ImplicitGradNonScalar,
    #[error("grad can be computed only for real scalar outputs but got {0}")]
    ImplicitGradDtype(DTypeName),
    #[error("element {0} of tensors does not require grad and does not have a grad_fn")]
    NoGradFn(usize),
    /// The C++ engine's check on a gradient handed to `backward(gradient)`.
    #[error(
        "invalid gradient at index {index} - got {got} but expected shape compatible with {expected}"
    )]
    GradShape {
        index: usize,
        got: Shape,
        expected: Shape,
    },
    /// Backward through a `NotImplemented` node (`floor_divide`, `remainder(Scalar, Tensor)`).
    #[error("derivative for aten::{op} is not implemented")]
    DerivativeNotImplemented { op: &'static str },
    /// An argument that must not require grad does (`nll_loss`'s weight).
    #[error(
        "The function '{op}' is not differentiable with respect to argument '{arg}'. This input cannot have requires_grad True."
    )]
    NotDifferentiable { op: &'static str, arg: &'static str },
    #[error("create_graph=True (higher-order gradients) is not supported by this engine")]
    CreateGraphUnsupported,

    // ---- requires_grad and .grad ----
    #[error("Only Tensors of floating point and complex dtype can require gradients")]
    RequiresGradDtypeCreation,
    #[error("only Tensors of floating point dtype can require gradients")]
    RequiresGradDtype,
    #[error(
        "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
    )]
    NonLeafRequiresGradOff,
    #[error("you can only change requires_grad flags of leaf variables.")]
    NonLeafRequiresGrad,
    #[error("can't retain_grad on Tensor that has requires_grad=False")]
    RetainGradNoGrad,
    #[error(
        "attempting to assign a gradient of size '{got}' to a tensor of size '{expected}'. Please ensure that the gradient and the tensor are the same size"
    )]
    GradAssignShape { got: Shape, expected: Shape },
    #[error(
        "attempting to assign a gradient with dtype '{got}' to a tensor with grad_dtype '{expected}'. The gradient must match the tensor's grad_dtype (defaults to the tensor's dtype). You can set the tensor's grad_dtype attribute with a specific dtype, or None to allow any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its gradient may break downstream systems that assume they match."
    )]
    GradAssignDtype {
        got: &'static str,
        expected: &'static str,
    },

    // ---- shapes, dims, indices ----
    #[error(
        "The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton dimension {dim}"
    )]
    BroadcastShape { a: usize, b: usize, dim: usize },
    #[error("output with shape {output} doesn't match the broadcast shape {broadcast}")]
    InplaceBroadcast { output: Shape, broadcast: Shape },
    #[error("shape '{shape}' is invalid for input of size {numel}")]
    InvalidShape { shape: ShapeI, numel: usize },
    #[error(
        "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead."
    )]
    ViewStride,
    #[error("Dimension out of range (expected to be in range of [{min}, {max}], but got {dim})")]
    DimOutOfRange { dim: i64, min: i64, max: i64 },
    #[error("dimension specified as {dim} but tensor has no dimensions")]
    DimOfScalar { dim: i64 },
    #[error("index {index} is out of bounds for dimension {dim} with size {size}")]
    IndexOutOfRange { index: i64, dim: usize, size: usize },
    #[error("index is out of bounds for dimension with size 0")]
    IndexEmptyDim,
    #[error("select(): index {index} out of range for tensor of size {shape} at dimension {dim}")]
    SelectOutOfRange { index: i64, shape: Shape, dim: i64 },
    #[error("start out of range (expected to be in range of [-{size}, {size}], but got {start})")]
    NarrowStartOutOfRange { start: i64, size: usize },
    #[error("start ({start}) + length ({length}) exceeds dimension size ({size}).")]
    NarrowOutOfRange {
        start: i64,
        length: i64,
        size: usize,
    },
    #[error(
        "The expanded size of the tensor ({target}) must match the existing size ({existing}) at non-singleton dimension {dim}.  Target sizes: {target_sizes}.  Tensor sizes: {sizes}"
    )]
    ExpandShape {
        target: i64,
        existing: usize,
        dim: usize,
        target_sizes: ShapeI,
        sizes: Shape,
    },
    #[error(
        "Sizes of tensors must match except in dimension {dim}. Expected size {expected} but got size {got} for tensor number {index} in the list."
    )]
    CatShape {
        dim: usize,
        expected: usize,
        got: usize,
        index: usize,
    },
    #[error(
        "stack expects each tensor to be equal size, but got {first} at entry 0 and {other} at entry {index}"
    )]
    StackShape {
        first: Shape,
        other: Shape,
        index: usize,
    },
    #[error("{op}(): expected a non-empty list of Tensors")]
    EmptyList { op: &'static str },
    #[error("zero-dimensional tensor (at position {index}) cannot be concatenated")]
    CatZeroDim { index: usize },
    #[error("a Tensor with {0} elements cannot be converted to Scalar")]
    ItemNumel(usize),
    #[error(
        "{op}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument."
    )]
    EmptyReduction { op: &'static str },
    /// Bad argument values (negative sizes, zero steps, duplicate dims, ...): libtorch's text.
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    MatmulShape(String),
    /// Advanced indexing with a tensor that is not long, int, byte or bool.
    #[error("tensors used as indices must be long, int, byte or bool tensors")]
    IndexDtype,
    #[error(
        "shape mismatch: value tensor of shape {value} cannot be broadcast to indexing result of shape {result}"
    )]
    IndexPutShape { value: Shape, result: Shape },
    #[error(
        "Index put requires the source and destination dtypes match, got {dest} for the destination and {src} for the source."
    )]
    IndexPutDtype {
        dest: &'static str,
        src: &'static str,
    },
    /// `nll_loss` with a class index outside `[0, n_classes)` (not the ignore_index).
    #[error("Target {target} is out of bounds.")]
    TargetOutOfBounds { target: i64 },
    /// Integer division or remainder by zero.
    #[error("ZeroDivisionError")]
    ZeroDivision,

    // ---- dtypes ----
    #[error("result type {result} can't be cast to the desired output type {output}")]
    CastInplace {
        result: &'static str,
        output: &'static str,
    },
    #[error("\"{op}\" not implemented for '{dtype}'")]
    DtypeNotSupported {
        op: &'static str,
        dtype: &'static str,
    },
    #[error("{0}")]
    DtypeMismatch(String),
    /// `masked_fill` with a mask that is not bool; `dtype` is the C type name (`float`).
    #[error("masked_fill_ only supports boolean masks, but got mask with dtype {dtype}")]
    MaskDtype { dtype: &'static str },
    #[error("Integers to negative integer powers are not allowed.")]
    NegativeIntPower,
    #[error(
        "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
    )]
    NegBool,
    #[error("{0}")]
    NumpyRequiresGrad(String),

    // ---- devices ----
    #[error(
        "no CUDA device: {0} was requested, but the engine was built without the `cuda` feature or no CUDA driver and device were found"
    )]
    NoCuda(crate::Device),
    #[error(
        "Expected all tensors to be on the same device, but found at least two devices, {0} and {1}!"
    )]
    DeviceMismatch(crate::Device, crate::Device),
    #[error("{op} is not supported on {device}")]
    DeviceUnsupported {
        op: &'static str,
        device: crate::Device,
    },
    #[error("CUDA error: {0}")]
    Cuda(String),
    /// An op with CUDA inputs that the engine's CUDA backend has no kernel for (`op` is its
    /// libtorch name). A missing feature of the engine, not a user mistake.
    #[error(
        "{op}: not supported on CUDA by this engine (no CUDA kernel); move the tensors to the CPU with .cpu() first"
    )]
    NotSupportedOnCuda { op: &'static str },
}

impl Error {
    pub(crate) fn modified(
        dtype: DType,
        shape: &[usize],
        output_of: Option<(usize, String)>,
        current: u64,
        expected: u64,
    ) -> Self {
        Error::ModifiedByInplace {
            tensor_type: dtype.legacy_type_name(),
            shape: Shape(shape.to_vec()),
            output_of,
            current,
            expected,
        }
    }
}

/// Signed shapes (as requested by the user, `-1` allowed) print like libtorch's `[-1, 3]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeI(pub Vec<i64>);

impl std::fmt::Display for ShapeI {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{d}")?;
        }
        write!(f, "]")
    }
}

/// A dtype as libtorch's messages spell it (`Float`, `Long`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DTypeName(pub DType);

impl std::fmt::Display for DTypeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.scalar_type_name())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
