//! The one table from libtorch error text to [`ErrorKind`].
//!
//! libtorch raises errors only as text. Each entry names where its message is written (file in
//! the PyTorch 2.13 tree) so that a reworded message can be found again. Entries are tried in
//! order and the first substring that matches wins, so a more specific pattern sits above a more
//! general one ("a view of a leaf Variable" above "a leaf Variable"). A message no entry knows is
//! `Unclassified`: it agrees with nothing and fails loudly until the table learns it.

use crate::error_kind::ErrorKind;

/// `(substring, kind)`, first match wins.
const TABLE: &[(&str, ErrorKind)] = &[
    // ---- leaves, views and in-place ops ----
    // torch/csrc/autograd/VariableTypeUtils.h, check_inplace (view case first).
    (
        "a view of a leaf Variable that requires grad is being used in an in-place operation",
        ErrorKind::ViewOfLeafInplace,
    ),
    // torch/csrc/autograd/VariableTypeUtils.h, check_inplace.
    (
        "a leaf Variable that requires grad is being used in an in-place operation",
        ErrorKind::LeafInplace,
    ),
    // torch/csrc/autograd/variable.cpp, handle_view_on_rebase (CreationMeta::NO_GRAD_MODE): "A view
    // was created ..." or "Output 0 of Slice is a view of a view which was created ...".
    (
        "was created in no_grad mode and is being modified inplace",
        ErrorKind::NoGradViewInplace,
    ),
    // torch/csrc/autograd/variable.cpp, handle_view_on_rebase (MULTI_OUTPUT_NODE, IN_CUSTOM_FUNCTION,
    // INFERENCE_MODE): "Output 0 of UnbindBackward0 is a view and is being modified inplace. ..."
    (
        "is a view and is being modified inplace",
        ErrorKind::ViewInplace,
    ),
    // torch/csrc/autograd/variable.cpp, handle_view_on_rebase: the base (or a sibling view) of a
    // view made under no_grad was modified in place with grad mode on.
    // Either header: "A view was created in ..." or "Output 0 of View is a view of a view
    // which was created in ...".
    (
        "was created in no_grad mode and its base or another view of its base has been modified inplace",
        ErrorKind::NoGradViewInplace,
    ),
    // aten/src/ATen/native/TensorShape.cpp, select/narrow on a 0-dim tensor.
    (
        "cannot be applied to a 0-dim tensor",
        ErrorKind::InvalidArgument,
    ),
    // aten/src/ATen/native/TensorShape.cpp, cat of tensors of different ranks.
    (
        "Tensors must have same number of dimensions",
        ErrorKind::InvalidArgument,
    ),
    // c10/core/TensorImpl: expand of a 0-dim tensor with a -1 size.
    (
        "numel: integer multiplication overflow",
        ErrorKind::InvalidShape,
    ),
    // aten/src/ATen/ExpandUtils.cpp, inferExpandGeometry: -1 in a new leading dim.
    (
        "isn't allowed in a leading, non-existing dimension",
        ErrorKind::InvalidShape,
    ),
    // aten/src/ATen/MemoryOverlap.cpp, assert_no_internal_overlap / assert_no_partial_overlap.
    (
        "more than one element of the written-to tensor refers to a single memory location",
        ErrorKind::ViewInplace,
    ),
    (
        "some elements of the input tensor and the written-to tensor refer to a single memory location",
        ErrorKind::ViewInplace,
    ),
    // torch/csrc/autograd/saved_variable.cpp, SavedVariable::unpack (version mismatch).
    (
        "one of the variables needed for gradient computation has been modified by an inplace operation",
        ErrorKind::ModifiedByInplace,
    ),
    // torch/csrc/autograd/VariableTypeManual.cpp, detach_.
    ("Can't detach views in-place", ErrorKind::DetachViewInplace),
    // ---- backward ----
    // torch/csrc/autograd/saved_variable.cpp, ERR_BACKWARD_TWICE.
    (
        "Trying to backward through the graph a second time",
        ErrorKind::BackwardTwice,
    ),
    // torch/autograd/__init__.py, _make_grads (both the numel and the real-dtype check).
    (
        "grad can be implicitly created only for",
        ErrorKind::ImplicitGradNonScalar,
    ),
    // torch/csrc/autograd/python_engine.cpp and autograd.cpp, run_backward.
    (
        "does not require grad and does not have a grad_fn",
        ErrorKind::NoGradFn,
    ),
    // torch/autograd/__init__.py, _make_grads; torch/csrc/autograd/autograd.cpp, _make_grads.
    ("Mismatch in shape: grad_output", ErrorKind::GradShape),
    // torch/csrc/autograd/engine.cpp, validate_outputs.
    (
        "returned an invalid gradient at index",
        ErrorKind::GradDtype,
    ),
    // torch/autograd/__init__.py, _make_grads (complex/real mix).
    (
        "both grad_output and output are required to have the same dtype",
        ErrorKind::GradDtype,
    ),
    // ---- autograd flags ----
    // python_variable.cpp THPVariable_set_requires_grad ("...floating point and complex dtype..."),
    // python_variable_methods.cpp THPVariable_requires_grad_ ("...floating point dtype..."),
    // c10/core/TensorImpl / autograd_meta set_requires_grad ("Only Tensors ...").
    (
        "nly Tensors of floating point",
        ErrorKind::RequiresGradDtype,
    ),
    // torch/csrc/autograd/utils/error_messages.h, requires_grad_leaf_error.
    (
        "you can only change requires_grad flags of leaf variables",
        ErrorKind::NonLeafRequiresGrad,
    ),
    // torch/csrc/autograd/variable.cpp, VariableHooks::retain_grad.
    (
        "can't retain_grad on Tensor that has requires_grad=False",
        ErrorKind::RetainGradNoGrad,
    ),
    // torch/csrc/autograd/python_variable.cpp, THPVariable_set_grad (2.13 texts).
    ("attempting to assign a gradient", ErrorKind::GradAssign),
    // torch/csrc/autograd/python_variable.cpp, THPVariable_set_grad.
    (
        "can't assign Variable as its own grad",
        ErrorKind::GradAssign,
    ),
    // torch/csrc/autograd/python_variable.cpp, THPVariable_set_grad (texts before 2.9).
    (
        "assigned grad has data of a different",
        ErrorKind::GradAssign,
    ),
    // ---- shapes, dims, indices ----
    // aten/src/ATen/ExpandUtils.cpp, infer_size_impl.
    ("must match the size of tensor b", ErrorKind::BroadcastShape),
    // aten/src/ATen/TensorIterator.cpp, compute_shape (in-place output cannot grow).
    (
        "doesn't match the broadcast shape",
        ErrorKind::InplaceBroadcast,
    ),
    // aten/src/ATen/native/LinearAlgebra.cpp, addmm_impl / mm meta ("(2x3 and 2x3)").
    ("shapes cannot be multiplied", ErrorKind::MatmulShape),
    // aten/src/ATen/native/LinearAlgebra.cpp, bmm meta (common_checks_baddbmm_bmm).
    (
        "Expected size for first two dimensions of batch2 tensor",
        ErrorKind::MatmulShape,
    ),
    // aten/src/ATen/native/LinearAlgebra.cpp / Dot.cpp, dot_check (1-D @ 1-D).
    (
        "inconsistent tensor size, expected tensor",
        ErrorKind::MatmulShape,
    ),
    // aten/src/ATen/native/Convolution.cpp, check_shape_forward (channel mismatch).
    ("channels, but got", ErrorKind::MatmulShape),
    // Legacy THNN/mv texts: "size mismatch, m1: [...]".
    ("size mismatch", ErrorKind::MatmulShape),
    // aten/src/ATen/InferSize.h, infer_size_impl.
    ("is invalid for input of size", ErrorKind::InvalidShape),
    // aten/src/ATen/InferSize.h, infer_size_impl (two -1 entries).
    (
        "only one dimension can be inferred",
        ErrorKind::InvalidShape,
    ),
    // aten/src/ATen/ExpandUtils.cpp, inferExpandGeometry.
    ("The expanded size of the tensor", ErrorKind::InvalidShape),
    // aten/src/ATen/native/TensorShape.cpp, cat check_cat_shape_except_dim.
    (
        "Sizes of tensors must match except in dimension",
        ErrorKind::InvalidShape,
    ),
    // aten/src/ATen/native/TensorShape.cpp, stack / get_stack_inputs.
    (
        "stack expects each tensor to be equal size",
        ErrorKind::InvalidShape,
    ),
    // aten/src/ATen/native/TensorShape.cpp, view_impl.
    (
        "view size is not compatible with input tensor's size and stride",
        ErrorKind::ViewStride,
    ),
    // c10/core/WrapDimMinimal.cpp, maybe_wrap_dim_slow.
    ("Dimension out of range", ErrorKind::DimOutOfRange),
    // c10/core/WrapDimMinimal.cpp, maybe_wrap_dim_slow (0-dim tensor with a dim argument).
    ("but tensor has no dimensions", ErrorKind::DimOutOfRange),
    // aten/src/ATen/TensorIndexing.h, applySelect ("index 5 is out of bounds for dimension 0...").
    ("is out of bounds for dimension", ErrorKind::IndexOutOfRange),
    // aten/src/ATen/native/TensorShape.cpp, select ("select(): index 5 out of range for tensor...").
    (
        "out of range for tensor of size",
        ErrorKind::IndexOutOfRange,
    ),
    // aten/src/ATen/TensorIndexing.h, applySelect on a 0-dim tensor.
    (
        "invalid index of a 0-dim tensor",
        ErrorKind::IndexOutOfRange,
    ),
    // aten/src/ATen/native/TensorShape.cpp, narrow ("start (2) + length (3) exceeds dimension size (3).").
    ("exceeds dimension size", ErrorKind::IndexOutOfRange),
    // aten/src/ATen/native/TensorShape.cpp, narrow's TORCH_CHECK_INDEX on start
    // ("start out of range (expected to be in range of [-1, 1], but got 2)").
    (
        "start out of range (expected to be in range of",
        ErrorKind::IndexOutOfRange,
    ),
    // aten/src/ATen/native/Scalar.cpp, item.
    (
        "elements cannot be converted to Scalar",
        ErrorKind::ItemNumel,
    ),
    // ---- index ----
    // torch/csrc/autograd/variable.cpp, handle_view_on_rebase (MULTI_OUTPUT_NODE), when the
    // grad_fn of a split/unbind output is regenerated after its base was written.
    (
        "is a view and its base or another view of its base has been modified inplace",
        ErrorKind::ViewInplace,
    ),
    // aten/src/ATen/native/IndexingUtils.h, expandTensors (Python: IndexError).
    ("The shape of the mask", ErrorKind::IndexOutOfRange),
    // aten/src/ATen/native/IndexingUtils.h, expandTensors / TensorAdvancedIndexing.cpp.
    (
        "tensors used as indices must be long",
        ErrorKind::DtypeMismatch,
    ),
    // aten/src/ATen/native/IndexingUtils.h, expandTensors' broadcast of the index tensors.
    (
        "indexing tensors could not be broadcast together",
        ErrorKind::BroadcastShape,
    ),
    // aten/src/ATen/native/TensorAdvancedIndexing.cpp, index_put_ ("shape mismatch: value
    // tensor of shape [3] cannot be broadcast to indexing result of shape [6]").
    (
        "cannot be broadcast to indexing result of shape",
        ErrorKind::InvalidShape,
    ),
    // aten/src/ATen/native/TensorShape.cpp, split and chunk.
    (
        "split_size can only be 0 if dimension size is 0",
        ErrorKind::InvalidArgument,
    ),
    (
        "chunk expects `chunks` to be greater than 0",
        ErrorKind::InvalidArgument,
    ),
    (
        "split_with_sizes expects split_sizes to sum exactly to",
        ErrorKind::InvalidArgument,
    ),
    // aten/src/ATen/native/LossNLL.cpp, nll_loss_nd.
    (
        "Expected 1 or more dimensions (got 0)",
        ErrorKind::InvalidArgument,
    ),
    // c10/util/Exception: TORCH_INTERNAL_ASSERT, whatever the check.
    ("INTERNAL ASSERT FAILED", ErrorKind::InternalAssert),
    (
        "expects at least a 1-dimensional tensor",
        ErrorKind::InvalidArgument,
    ),
    (
        "Expected floating point type for target with class probabilities",
        ErrorKind::DtypeMismatch,
    ),
    (
        "Index put requires the source and destination dtypes match",
        ErrorKind::DtypeMismatch,
    ),
    // torch/csrc/autograd/functions/accumulate_grad.cpp: the leaf a recorded AccumulateGrad
    // stands for has since been given a grad_fn (an in-place op after `requires_grad_(False)`).
    (
        "leaf variable has been moved into the graph interior",
        ErrorKind::LeafMovedIntoGraph,
    ),
    // aten/src/ATen/native/LossNLL.cpp: a [C] input with a 1-D target of another size than 1.
    (
        "For 1D input, 1D target must have size 1",
        ErrorKind::InvalidArgument,
    ),
    // ---- argument values ----
    // c10/core/TensorImpl / empty: "Trying to create tensor with negative dimension -1: [-1]".
    (
        "Trying to create tensor with negative dimension",
        ErrorKind::InvalidArgument,
    ),
    // aten/src/ATen/native/RangeFactories.cpp, arange.
    ("step must be nonzero", ErrorKind::InvalidArgument),
    // aten/src/ATen/TensorIndexing.h, Slice (Python: PySlice_Unpack).
    ("slice step cannot be zero", ErrorKind::InvalidArgument),
    // aten/src/ATen/TensorIndexing.h, applySlice (negative step).
    ("step must be greater than zero", ErrorKind::InvalidArgument),
    // aten/src/ATen/native/TensorCompare.cpp, clamp_meta.
    (
        "At least one of 'min' or 'max' must not be None",
        ErrorKind::InvalidArgument,
    ),
    // aten/src/ATen/native/Convolution.cpp, check_shape_forward (kernel bigger than input).
    (
        "Kernel size can't be greater than actual input size",
        ErrorKind::InvalidArgument,
    ),
    // aten/src/ATen/native/Convolution.cpp, conv2d rank check.
    (
        "input to conv2d, but got input of size",
        ErrorKind::InvalidArgument,
    ),
    // aten/src/ATen/native/Convolution.cpp, ConvParams checks ("non-positive stride is not supported", ...).
    ("is not supported", ErrorKind::InvalidArgument),
    // aten/src/ATen/native/LinearAlgebra.cpp, mm/bmm rank checks ("self must be a matrix",
    // "batch1 must be a 3D tensor").
    ("must be a matrix", ErrorKind::InvalidArgument),
    ("must be a 3D tensor", ErrorKind::InvalidArgument),
    // aten/src/ATen/native/LinearAlgebra.cpp, matmul with a 0-dim argument.
    (
        "both arguments to matmul need to be at least 1D",
        ErrorKind::InvalidArgument,
    ),
    // aten/src/ATen/native/TensorShape.cpp, cat.
    ("cannot be concatenated", ErrorKind::InvalidArgument),
    // aten/src/ATen/native/ReduceOpsUtils.h, zero_numel_check_dims.
    (
        "Expected reduction dim to be specified for input.numel() == 0",
        ErrorKind::InvalidArgument,
    ),
    // aten/src/ATen/native/ReduceOpsUtils.h, zero_numel_check_dims (a dim was given).
    ("to have non-zero size", ErrorKind::InvalidArgument),
    // aten/src/ATen/TensorIndexing.h, applySlicing.
    (
        "too many indices for tensor of dimension",
        ErrorKind::InvalidArgument,
    ),
    // aten/src/ATen/native/Activation.cpp, relu.
    (
        "Boolean inputs not supported for relu",
        ErrorKind::DtypeNotSupported,
    ),
    // torch/csrc/autograd/functions/utils.h, set_history: an op recorded an integer output.
    ("Autograd not support dtype", ErrorKind::DtypeNotSupported),
    // aten/src/ATen/native/Linear.cpp, linear.
    (
        "both arguments to linear need to be at least 1D",
        ErrorKind::InvalidArgument,
    ),
    // aten/src/ATen/native/LinearAlgebra.cpp, addmv/dot rank checks.
    (
        "vector + matrix @ vector expected",
        ErrorKind::InvalidArgument,
    ),
    ("1D tensors expected", ErrorKind::InvalidArgument),
    // aten/src/ATen/native/TensorShape.cpp, t().
    (
        "t() expects a tensor with <= 2 dimensions",
        ErrorKind::InvalidArgument,
    ),
    // aten/src/ATen/native/Convolution.cpp, check_shape_forward / ConvParams / expand_param_if_needed.
    (
        "weight should have at least three dimensions",
        ErrorKind::InvalidArgument,
    ),
    (
        "expected stride to be a single integer value or a list of",
        ErrorKind::InvalidArgument,
    ),
    (
        "dilation should be greater than zero",
        ErrorKind::InvalidArgument,
    ),
    (
        "expected weight to be divisible by",
        ErrorKind::InvalidArgument,
    ),
    ("expected weight to be at least", ErrorKind::InvalidArgument),
    (
        "expected bias to be 1-dimensional",
        ErrorKind::InvalidArgument,
    ),
    // aten/src/ATen/native/TensorShape.cpp, permute ("number of dimensions in the tensor input
    // does not match the length of the desired ordering of dimensions", "repeated dim in permute").
    (
        "does not match the length of the desired ordering of dimensions",
        ErrorKind::InvalidArgument,
    ),
    ("repeated dim", ErrorKind::InvalidArgument),
    // aten/src/ATen/native/TensorShape.cpp, cat / stack with no tensors.
    (
        "expected a non-empty list of Tensors",
        ErrorKind::InvalidArgument,
    ),
    (
        "stack expects a non-empty TensorList",
        ErrorKind::InvalidArgument,
    ),
    // aten/src/ATen/native/TensorShape.cpp, expand with fewer sizes than dims.
    (
        "must be greater or equal to the number of dimensions in the tensor",
        ErrorKind::InvalidArgument,
    ),
    // aten/src/ATen/native/BinaryOps / Pow.cpp: "Integers to negative integer powers are not allowed."
    (
        "Integers to negative integer powers are not allowed",
        ErrorKind::InvalidArgument,
    ),
    // torch/optim/sgd.py, SGD.__init__.
    ("Invalid learning rate", ErrorKind::InvalidArgument),
    ("Invalid momentum value", ErrorKind::InvalidArgument),
    ("Invalid weight_decay value", ErrorKind::InvalidArgument),
    // torch/optim/adam.py, Adam.__init__.
    ("Invalid epsilon value", ErrorKind::InvalidArgument),
    ("Invalid beta parameter", ErrorKind::InvalidArgument),
    (
        "Nesterov momentum requires a momentum and zero dampening",
        ErrorKind::InvalidArgument,
    ),
    // torch/optim/optimizer.py, Optimizer.__init__ / add_param_group.
    (
        "optimizer got an empty parameter list",
        ErrorKind::InvalidArgument,
    ),
    (
        "can't optimize a non-leaf Tensor",
        ErrorKind::InvalidArgument,
    ),
    // ---- dtypes and devices ----
    // aten/src/ATen/native/TypeProperties / TensorIterator: in-place result type check.
    (
        "can't be cast to the desired output type",
        ErrorKind::DtypeMismatch,
    ),
    // aten/src/ATen/native/LinearAlgebra.cpp / Blas: "expected m1 and m2 to have the same dtype".
    ("to have the same dtype", ErrorKind::DtypeMismatch),
    // aten/src/ATen/native/LinearAlgebra.cpp (dot/vdot "... must have the same dtype", "expected
    // both vectors to have same dtype") and Convolution.cpp ("Input type (float) and bias type
    // (double) should be the same").
    ("must have the same dtype", ErrorKind::DtypeMismatch),
    ("to have same dtype", ErrorKind::DtypeMismatch),
    ("should be the same", ErrorKind::DtypeMismatch),
    // Many kernels: "expected scalar type Float but found Double".
    ("expected scalar type", ErrorKind::DtypeMismatch),
    // aten/src/ATen/native/TensorCompare.cpp, where.
    (
        "where expected condition to be a boolean tensor",
        ErrorKind::DtypeMismatch,
    ),
    // aten/src/ATen/native/Loss.cpp and others: "Found dtype Long but expected Float".
    ("but expected", ErrorKind::DtypeMismatch),
    // torch/csrc/autograd/variable.cpp, VariableHooks::set_data.
    ("have incompatible tensor type", ErrorKind::DtypeMismatch),
    // aten/src/ATen/native/ReduceOps.cpp, mean_dtype_check.
    ("could not infer output dtype", ErrorKind::DtypeNotSupported),
    // AT_DISPATCH macros (aten/src/ATen/Dispatch.h): "\"softmax_lastdim_kernel_impl\" not implemented for 'Long'".
    ("not implemented for", ErrorKind::DtypeNotSupported),
    // torch/csrc/autograd/FunctionsManual.cpp, not_implemented_base: the backward of an op
    // derivatives.yaml marks not_implemented ("derivative for aten::floor_divide is not
    // implemented"). The program asks for a gradient PyTorch does not define; `NotImplemented`
    // is kept for a backend's own gaps, and never agrees.
    ("derivative for aten::", ErrorKind::InvalidArgument),
    // aten/src/ATen/native/cpu/BinaryOpsKernel.cpp: an integer `//` or `%` by zero.
    ("ZeroDivisionError", ErrorKind::InvalidArgument),
    // aten/src/ATen/native/TensorIterator / device checks.
    (
        "Expected all tensors to be on the same device",
        ErrorKind::DeviceMismatch,
    ),
    // c10/cuda, torch/cuda: no usable CUDA.
    (
        "Torch not compiled with CUDA enabled",
        ErrorKind::DeviceUnavailable,
    ),
    ("no CUDA GPUs are available", ErrorKind::DeviceUnavailable),
    ("Found no NVIDIA driver", ErrorKind::DeviceUnavailable),
    // torch/csrc/utils/python_arg_parser.cpp: "maximum(): argument 'other' (position 2) must be
    // Tensor, not int" (a number where only a Tensor is accepted).
    ("must be Tensor, not", ErrorKind::TypeError),
    // ---- nn ----
    // aten/src/ATen/native/Linear.cpp (einsum) and torch/functional.py: the equation and the
    // operands disagree.
    ("einsum(): ", ErrorKind::InvalidArgument),
    // aten/src/ATen/native/LossNLL.cpp: a class index outside [0, C).
    ("is out of bounds.", ErrorKind::IndexOutOfRange),
    (
        "expected target dtype to be Long or Byte",
        ErrorKind::DtypeMismatch,
    ),
    ("to match target batch_size", ErrorKind::InvalidShape),
    (
        "weight tensor should be defined either for all",
        ErrorKind::InvalidArgument,
    ),
    // torch/nn/functional.py, dropout.
    (
        "dropout probability has to be between 0 and 1",
        ErrorKind::InvalidArgument,
    ),
    // torch/nn/modules/batchnorm.py, BatchNorm2d._check_input_dim.
    ("expected 4D input", ErrorKind::InvalidShape),
    // aten/src/ATen/native/Normalization.cpp: a running stat, weight or bias of another size.
    ("elements not", ErrorKind::InvalidShape),
    // torch/nn/functional.py, _verify_batch_size.
    (
        "Expected more than 1 value per channel when training",
        ErrorKind::InvalidArgument,
    ),
];

/// The kind of a libtorch error message; `Unclassified` when no entry matches.
pub fn classify(message: &str) -> ErrorKind {
    TABLE
        .iter()
        .find(|(pattern, _)| message.contains(pattern))
        .map_or(ErrorKind::Unclassified, |&(_, kind)| kind)
}

/// libtorch's text without the C++ backtrace, whichever way the message was built: tch's errors
/// carry `c10::Error::what()`, which appends "Exception raised from ..." and a frame list.
pub fn strip_backtrace(message: &str) -> &str {
    let cut = ["\nException raised from ", "Exception raised from "]
        .iter()
        .filter_map(|marker| message.find(marker))
        .min()
        .unwrap_or(message.len());
    message[..cut].trim_end()
}

#[cfg(test)]
mod tests;
