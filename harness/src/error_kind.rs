//! The closed set of error kinds that both backends report.
//!
//! libtorch reports errors only as message text; `crate::classify` maps message
//! patterns to these kinds. The engine maps its typed errors directly. A libtorch message that
//! no pattern knows becomes `Unclassified`, which never matches anything: it fails loudly until
//! the table learns it. Names are snake_case in cases (`# raises: leaf_inplace`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    // ---- autograd: leaves, views and in-place ops ----
    /// "a leaf Variable that requires grad is being used in an in-place operation."
    LeafInplace,
    /// "a view of a leaf Variable that requires grad is being used in an in-place operation."
    ViewOfLeafInplace,
    /// "A view was created in no_grad mode and is being modified inplace with grad mode enabled."
    NoGradViewInplace,
    /// Other forbidden in-place writes on views (multiple-output views, detached views, ...).
    ViewInplace,
    /// "one of the variables needed for gradient computation has been modified by an inplace operation"
    ModifiedByInplace,
    /// "Can't detach views in-place. Use detach() instead."
    DetachViewInplace,
    // ---- autograd: backward ----
    /// "Trying to backward through the graph a second time ..."
    BackwardTwice,
    /// "leaf variable has been moved into the graph interior": backward reaches the leaf's
    /// recorded accumulator after an in-place op gave the leaf a grad_fn.
    LeafMovedIntoGraph,
    /// "grad can be implicitly created only for scalar outputs"
    ImplicitGradNonScalar,
    /// "element 0 of tensors does not require grad and does not have a grad_fn"
    NoGradFn,
    /// "Mismatch in shape: grad_output[0] has a shape of ..."
    GradShape,
    /// "Function ... returned an invalid gradient at index 0 - expected dtype ..." and friends
    GradDtype,
    // ---- autograd: flags ----
    /// "Only Tensors of floating point and complex dtype can require gradients"
    RequiresGradDtype,
    /// "you can only change requires_grad flags of leaf variables."
    NonLeafRequiresGrad,
    /// "can't retain_grad on Tensor that has requires_grad=False"
    RetainGradNoGrad,
    /// "assigned grad has data of a different size" and other `.grad = ...` checks
    GradAssign,
    // ---- shapes, dims, indices ----
    /// "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0"
    BroadcastShape,
    /// "output with shape [3] doesn't match the broadcast shape [2, 3]"
    InplaceBroadcast,
    /// "mat1 and mat2 shapes cannot be multiplied", "size mismatch", conv weight mismatches
    MatmulShape,
    /// "shape '[3, 3]' is invalid for input of size 4"
    InvalidShape,
    /// "view size is not compatible with input tensor's size and stride ..."
    ViewStride,
    /// "Dimension out of range (expected to be in range of [-1, 0], but got 1)"
    DimOutOfRange,
    /// "index 5 is out of bounds for dimension 0 with size 3"
    IndexOutOfRange,
    /// "a Tensor with 4 elements cannot be converted to Scalar"
    ItemNumel,
    /// Wrong argument values: negative sizes, zero step, bad conv parameters, wrong ranks.
    InvalidArgument,
    // ---- dtypes and devices ----
    /// "result type Float can't be cast to the desired output type Long", mixed-dtype mm, ...
    DtypeMismatch,
    /// An op that does not support a dtype: "\"sigmoid_cpu\" not implemented for 'Long'"
    DtypeNotSupported,
    /// "Expected all tensors to be on the same device, but found at least two devices"
    DeviceMismatch,
    /// CUDA asked for where there is none, or an op that a device does not support.
    DeviceUnavailable,
    /// "... INTERNAL ASSERT FAILED at ...": one of libtorch's own consistency checks failed, a
    /// libtorch bug ("please report a bug to PyTorch").
    InternalAssert,
    // ---- the program itself (raised by the interpreter, the same on both sides) ----
    /// Python-level type errors: calling a tensor method on an int, wrong argument types.
    TypeError,
    /// A name that is not bound.
    NameError,
    /// A backend does not implement an op. Never expected in a case; always a divergence.
    NotImplemented,
    /// A libtorch message the classification table does not know. Never equal to anything.
    Unclassified,
}

impl ErrorKind {
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::LeafInplace,
        ErrorKind::ViewOfLeafInplace,
        ErrorKind::NoGradViewInplace,
        ErrorKind::ViewInplace,
        ErrorKind::ModifiedByInplace,
        ErrorKind::DetachViewInplace,
        ErrorKind::BackwardTwice,
        ErrorKind::LeafMovedIntoGraph,
        ErrorKind::ImplicitGradNonScalar,
        ErrorKind::NoGradFn,
        ErrorKind::GradShape,
        ErrorKind::GradDtype,
        ErrorKind::RequiresGradDtype,
        ErrorKind::NonLeafRequiresGrad,
        ErrorKind::RetainGradNoGrad,
        ErrorKind::GradAssign,
        ErrorKind::BroadcastShape,
        ErrorKind::InplaceBroadcast,
        ErrorKind::MatmulShape,
        ErrorKind::InvalidShape,
        ErrorKind::ViewStride,
        ErrorKind::DimOutOfRange,
        ErrorKind::IndexOutOfRange,
        ErrorKind::ItemNumel,
        ErrorKind::InvalidArgument,
        ErrorKind::DtypeMismatch,
        ErrorKind::DtypeNotSupported,
        ErrorKind::DeviceMismatch,
        ErrorKind::DeviceUnavailable,
        ErrorKind::InternalAssert,
        ErrorKind::TypeError,
        ErrorKind::NameError,
        ErrorKind::NotImplemented,
        ErrorKind::Unclassified,
    ];

    /// The snake_case name used in cases, JSON and reports.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::LeafInplace => "leaf_inplace",
            ErrorKind::ViewOfLeafInplace => "view_of_leaf_inplace",
            ErrorKind::NoGradViewInplace => "no_grad_view_inplace",
            ErrorKind::ViewInplace => "view_inplace",
            ErrorKind::ModifiedByInplace => "modified_by_inplace",
            ErrorKind::DetachViewInplace => "detach_view_inplace",
            ErrorKind::BackwardTwice => "backward_twice",
            ErrorKind::LeafMovedIntoGraph => "leaf_moved_into_graph",
            ErrorKind::ImplicitGradNonScalar => "implicit_grad_non_scalar",
            ErrorKind::NoGradFn => "no_grad_fn",
            ErrorKind::GradShape => "grad_shape",
            ErrorKind::GradDtype => "grad_dtype",
            ErrorKind::RequiresGradDtype => "requires_grad_dtype",
            ErrorKind::NonLeafRequiresGrad => "non_leaf_requires_grad",
            ErrorKind::RetainGradNoGrad => "retain_grad_no_grad",
            ErrorKind::GradAssign => "grad_assign",
            ErrorKind::BroadcastShape => "broadcast_shape",
            ErrorKind::InplaceBroadcast => "inplace_broadcast",
            ErrorKind::MatmulShape => "matmul_shape",
            ErrorKind::InvalidShape => "invalid_shape",
            ErrorKind::ViewStride => "view_stride",
            ErrorKind::DimOutOfRange => "dim_out_of_range",
            ErrorKind::IndexOutOfRange => "index_out_of_range",
            ErrorKind::ItemNumel => "item_numel",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::DtypeMismatch => "dtype_mismatch",
            ErrorKind::DtypeNotSupported => "dtype_not_supported",
            ErrorKind::DeviceMismatch => "device_mismatch",
            ErrorKind::DeviceUnavailable => "device_unavailable",
            ErrorKind::InternalAssert => "internal_assert",
            ErrorKind::TypeError => "type_error",
            ErrorKind::NameError => "name_error",
            ErrorKind::NotImplemented => "not_implemented",
            ErrorKind::Unclassified => "unclassified",
        }
    }

    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// Two outcomes agree when the kinds are equal, except that an unclassified or
    /// unimplemented error never agrees with anything.
    pub fn agrees_with(self, other: ErrorKind) -> bool {
        self == other && !matches!(self, ErrorKind::Unclassified | ErrorKind::NotImplemented)
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &k in ErrorKind::ALL {
            assert!(seen.insert(k.name()), "duplicate name {}", k.name());
            assert_eq!(ErrorKind::from_name(k.name()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.name()));
        }
    }

    #[test]
    fn unclassified_never_agrees() {
        assert!(!ErrorKind::Unclassified.agrees_with(ErrorKind::Unclassified));
        assert!(ErrorKind::LeafInplace.agrees_with(ErrorKind::LeafInplace));
        assert!(!ErrorKind::LeafInplace.agrees_with(ErrorKind::ViewOfLeafInplace));
    }
}
