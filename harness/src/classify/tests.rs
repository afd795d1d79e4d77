//! The classifier's tests: every pattern classifies a message captured from PyTorch 2.13.0.

use super::*;

/// Every message below was captured from torch 2.13.0 (the Python build of the very
/// libtorch this crate links), by running the snippet in the comment.
const CAPTURED: &[(&str, ErrorKind)] = &[
    // torch.tensor(1.).select(0, 0)
    (
        "select() cannot be applied to a 0-dim tensor.",
        ErrorKind::InvalidArgument,
    ),
    // torch.tensor(1.).narrow(0, 0, 1)
    (
        "narrow() cannot be applied to a 0-dim tensor.",
        ErrorKind::InvalidArgument,
    ),
    // torch.cat([torch.ones(1, 1, 1), torch.ones(1, 1, 1, 1)])
    (
        "Tensors must have same number of dimensions: got 3 and 4",
        ErrorKind::InvalidArgument,
    ),
    // torch.tensor(2.).expand(2, -1)
    (
        "numel: integer multiplication overflow",
        ErrorKind::InvalidShape,
    ),
    // torch.ones(2).expand(3, -1, -1)
    (
        "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension 1",
        ErrorKind::InvalidShape,
    ),
    // x = ones(2, 2, requires_grad=True).clone(); with no_grad(): nv = x[:]
    // w = nv.view(4); x.mul_(2); w.abs()
    (
        "Output 0 of View is a view of a view which was created in no_grad mode and its base or another view of its base has been modified inplace with grad mode enabled. Given that this use case is ambiguous and error-prone, it is forbidden.",
        ErrorKind::NoGradViewInplace,
    ),
    // x = ones(3, requires_grad=True); x.add_(1)
    (
        "a leaf Variable that requires grad is being used in an in-place operation.",
        ErrorKind::LeafInplace,
    ),
    // x[0].add_(1)
    (
        "a view of a leaf Variable that requires grad is being used in an in-place operation.",
        ErrorKind::ViewOfLeafInplace,
    ),
    // y = x * 1; with no_grad(): w = y[:2]; w.mul_(2)
    (
        "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked).",
        ErrorKind::NoGradViewInplace,
    ),
    // (x * 1).unbind(0)[0].mul_(2)
    (
        "Output 0 of Unbind is a view and is being modified inplace. This view is the output of a function that returns multiple views. Such functions do not allow the output views to be modified inplace. You should replace the inplace operation by an out-of-place one.",
        ErrorKind::ViewInplace,
    ),
    // y = ones(2, 3); y.split(0) (PyTorch 2.13.0)
    (
        "split_size can only be 0 if dimension size is 0, but got dimension size of 2",
        ErrorKind::InvalidArgument,
    ),
    // y.chunk(0)
    (
        "chunk expects `chunks` to be greater than 0, got: 0",
        ErrorKind::InvalidArgument,
    ),
    // torch.ones(2, 3).split([2, 2], dim=1)
    (
        "split_with_sizes expects split_sizes to sum exactly to 3 (input tensor's size at dimension 1), but got split_sizes=[2, 2]",
        ErrorKind::InvalidArgument,
    ),
    // x = torch.ones(1, requires_grad=True); y = x * 2; x.detach_(); x += w (w requires
    // grad); y.sum().backward()
    (
        "leaf variable has been moved into the graph interior",
        ErrorKind::LeafMovedIntoGraph,
    ),
    // F.nll_loss(torch.tensor(1.), torch.tensor(0))
    (
        "Expected 1 or more dimensions (got 0)",
        ErrorKind::InvalidArgument,
    ),
    // t1 = tensor([-2]); t1[0:] = w (w requires grad); (t1 + x).sum().backward()
    (
        "isDifferentiableType(grad.scalar_type()) INTERNAL ASSERT FAILED at \"/__w/pytorch/pytorch/torch/csrc/autograd/engine.cpp\":998, please report a bug to PyTorch. ",
        ErrorKind::InternalAssert,
    ),
    // torch.tensor(1.).split(1); torch.tensor(1.).chunk(2)
    (
        "split expects at least a 1-dimensional tensor",
        ErrorKind::InvalidArgument,
    ),
    (
        "chunk expects at least a 1-dimensional tensor",
        ErrorKind::InvalidArgument,
    ),
    // F.cross_entropy(torch.randn(2, 3), torch.ones(2, 3, dtype=torch.long))
    (
        "Expected floating point type for target with class probabilities, got Long",
        ErrorKind::DtypeMismatch,
    ),
    // torch.ones(3)[torch.tensor([1])] = torch.tensor([2])
    (
        "Index put requires the source and destination dtypes match, got Float for the destination and Long for the source.",
        ErrorKind::DtypeMismatch,
    ),
    // F.nll_loss(torch.randn(3), torch.tensor([1, 2]))
    (
        "For 1D input, 1D target must have size 1, but got target size: 2",
        ErrorKind::InvalidArgument,
    ),
    // b = (x * 1).sigmoid(); b.mul_(2); b.sum().backward()
    (
        "one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [3]], which is output 0 of Sigmoid, is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).",
        ErrorKind::ModifiedByInplace,
    ),
    // (x * 1)[:2].detach_()
    (
        "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and hence detach_() cannot be called on these gradients. To fix this error, please refer to the Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.",
        ErrorKind::DetachViewInplace,
    ),
    // a = (x * x).sum(); a.backward(); a.backward()
    (
        "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.",
        ErrorKind::BackwardTwice,
    ),
    // (x * 2).backward()
    (
        "grad can be implicitly created only for scalar outputs",
        ErrorKind::ImplicitGradNonScalar,
    ),
    // ones(2).sum().backward()
    (
        "element 0 of tensors does not require grad and does not have a grad_fn",
        ErrorKind::NoGradFn,
    ),
    // (x * 2).backward(ones(2))
    (
        "Mismatch in shape: grad_output[0] has a shape of torch.Size([2]) and output[0] has a shape of torch.Size([3]).",
        ErrorKind::GradShape,
    ),
    // ones(2, dtype=int64).requires_grad_()
    (
        "only Tensors of floating point dtype can require gradients",
        ErrorKind::RequiresGradDtype,
    ),
    // a = ones(2, dtype=int64); a.requires_grad = True
    (
        "only Tensors of floating point and complex dtype can require gradients",
        ErrorKind::RequiresGradDtype,
    ),
    // a = x * 2; a.requires_grad = True
    (
        "you can only change requires_grad flags of leaf variables.",
        ErrorKind::NonLeafRequiresGrad,
    ),
    // a = x * 2; a.requires_grad = False
    (
        "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().",
        ErrorKind::NonLeafRequiresGrad,
    ),
    // ones(2).retain_grad()
    (
        "can't retain_grad on Tensor that has requires_grad=False",
        ErrorKind::RetainGradNoGrad,
    ),
    // a = ones(3, requires_grad=True); a.grad = ones(2)
    (
        "attempting to assign a gradient of size '[2]' to a tensor of size '[3]'. Please ensure that the gradient and the tensor are the same size",
        ErrorKind::GradAssign,
    ),
    // a.grad = ones(3, dtype=float64)
    (
        "attempting to assign a gradient with dtype 'double' to a tensor with grad_dtype 'Float'. The gradient must match the tensor's grad_dtype (defaults to the tensor's dtype). You can set the tensor's grad_dtype attribute with a specific dtype, or None to allow any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its gradient may break downstream systems that assume they match.",
        ErrorKind::GradAssign,
    ),
    // a = ones(3); a.grad = a
    (
        "can't assign Variable as its own grad",
        ErrorKind::GradAssign,
    ),
    // ones(3) + ones(4)
    (
        "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0",
        ErrorKind::BroadcastShape,
    ),
    // ones(3).add_(ones(2, 3))
    (
        "output with shape [3] doesn't match the broadcast shape [2, 3]",
        ErrorKind::InplaceBroadcast,
    ),
    // ones(2, 3).mm(ones(2, 3))
    (
        "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)",
        ErrorKind::MatmulShape,
    ),
    // ones(3) @ ones(2)
    (
        "inconsistent tensor size, expected tensor [3] and src [2] to have the same number of elements, but got 3 and 2 elements respectively",
        ErrorKind::MatmulShape,
    ),
    // ones(2, 2, 3).bmm(ones(2, 2, 3))
    (
        "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 2].",
        ErrorKind::MatmulShape,
    ),
    // conv2d(ones(1, 3, 5, 5), ones(4, 2, 3, 3))
    (
        "Given groups=1, weight of size [4, 2, 3, 3], expected input[1, 3, 5, 5] to have 2 channels, but got 3 channels instead",
        ErrorKind::MatmulShape,
    ),
    // conv2d(ones(1, 3, 2, 2), ones(4, 3, 3, 3))
    (
        "Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). Kernel size can't be greater than actual input size",
        ErrorKind::InvalidArgument,
    ),
    // conv2d(ones(3, 5), ones(4, 3, 3, 3))
    (
        "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [3, 5]",
        ErrorKind::InvalidArgument,
    ),
    // ones(4).view(3, 3)
    (
        "shape '[3, 3]' is invalid for input of size 4",
        ErrorKind::InvalidShape,
    ),
    // ones(4).view(-1, -1)
    (
        "only one dimension can be inferred",
        ErrorKind::InvalidShape,
    ),
    // ones(3).expand(2, 4)
    (
        "The expanded size of the tensor (4) must match the existing size (3) at non-singleton dimension 1.  Target sizes: [2, 4].  Tensor sizes: [3]",
        ErrorKind::InvalidShape,
    ),
    // cat([ones(2, 3), ones(3, 2)])
    (
        "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 2 for tensor number 1 in the list.",
        ErrorKind::InvalidShape,
    ),
    // stack([ones(2), ones(3)])
    (
        "stack expects each tensor to be equal size, but got [2] at entry 0 and [3] at entry 1",
        ErrorKind::InvalidShape,
    ),
    // ones(2, 3).t().view(6)
    (
        "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.",
        ErrorKind::ViewStride,
    ),
    // ones(3).sum(1)
    (
        "Dimension out of range (expected to be in range of [-1, 0], but got 1)",
        ErrorKind::DimOutOfRange,
    ),
    // ones(3)[5]
    (
        "index 5 is out of bounds for dimension 0 with size 3",
        ErrorKind::IndexOutOfRange,
    ),
    // tensor(1.0)[0]
    (
        "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number",
        ErrorKind::IndexOutOfRange,
    ),
    // ones(3).select(0, 5)
    (
        "select(): index 5 out of range for tensor of size [3] at dimension 0",
        ErrorKind::IndexOutOfRange,
    ),
    // ones(3).narrow(0, 2, 3)
    (
        "start (2) + length (3) exceeds dimension size (3).",
        ErrorKind::IndexOutOfRange,
    ),
    // ones(2, 1).narrow(1, 2, 0)
    (
        "start out of range (expected to be in range of [-1, 1], but got 2)",
        ErrorKind::IndexOutOfRange,
    ),
    // ones(4).item()
    (
        "a Tensor with 4 elements cannot be converted to Scalar",
        ErrorKind::ItemNumel,
    ),
    // ones(-1)
    (
        "Trying to create tensor with negative dimension -1: [-1]",
        ErrorKind::InvalidArgument,
    ),
    // arange(0, 1, 0)
    ("step must be nonzero", ErrorKind::InvalidArgument),
    // ones(3)[::0]
    ("slice step cannot be zero", ErrorKind::InvalidArgument),
    // ones(3)[::-1]
    ("step must be greater than zero", ErrorKind::InvalidArgument),
    // ones(3).clamp()
    (
        "torch.clamp: At least one of 'min' or 'max' must not be None",
        ErrorKind::InvalidArgument,
    ),
    // ones(3, 2).permute(0)
    (
        "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = 2 is not equal to len(dims) = 1",
        ErrorKind::InvalidArgument,
    ),
    // cat([])
    (
        "torch.cat(): expected a non-empty list of Tensors",
        ErrorKind::InvalidArgument,
    ),
    // ones(3, dtype=int64) ** -1
    (
        "Integers to negative integer powers are not allowed.",
        ErrorKind::InvalidArgument,
    ),
    // SGD([x], lr=-1)
    ("Invalid learning rate: -1", ErrorKind::InvalidArgument),
    // SGD([x], lr=0.1, momentum=-1)
    ("Invalid momentum value: -1", ErrorKind::InvalidArgument),
    // SGD([x], lr=0.1, weight_decay=-1)
    ("Invalid weight_decay value: -1", ErrorKind::InvalidArgument),
    // SGD([x], lr=0.1, nesterov=True)
    (
        "Nesterov momentum requires a momentum and zero dampening",
        ErrorKind::InvalidArgument,
    ),
    // SGD([], lr=0.1)
    (
        "optimizer got an empty parameter list",
        ErrorKind::InvalidArgument,
    ),
    // SGD([x * 2], lr=0.1)
    (
        "can't optimize a non-leaf Tensor",
        ErrorKind::InvalidArgument,
    ),
    // ones(3, dtype=int64).add_(1.5)
    (
        "result type Float can't be cast to the desired output type Long",
        ErrorKind::DtypeMismatch,
    ),
    // ones(2, 2).mm(ones(2, 2, dtype=float64))
    (
        "expected m1 and m2 to have the same dtype, but got: float != double",
        ErrorKind::DtypeMismatch,
    ),
    // where(ones(3), ones(3), 0.0)
    (
        "where expected condition to be a boolean tensor, but got a tensor with dtype Float",
        ErrorKind::DtypeMismatch,
    ),
    // ones(2, dtype=int64).mean()
    (
        "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Long",
        ErrorKind::DtypeNotSupported,
    ),
    // ones(2, dtype=int64).softmax(0)
    (
        "\"softmax_lastdim_kernel_impl\" not implemented for 'Long'",
        ErrorKind::DtypeNotSupported,
    ),
    // maximum(x, 2)
    (
        "maximum(): argument 'other' (position 2) must be Tensor, not int",
        ErrorKind::TypeError,
    ),
    // ones(1).expand(3).add_(1)
    (
        "unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation.",
        ErrorKind::ViewInplace,
    ),
    // a = ones(3); a[1:].copy_(a[:2])
    (
        "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single memory location. Please clone() the tensor before performing the operation.",
        ErrorKind::ViewInplace,
    ),
    // a = ones(3, requires_grad=True).clone(); with no_grad(): v = a[:2]; a.mul_(2); v * 2
    (
        "A view was created in no_grad mode and its base or another view of its base has been modified inplace with grad mode enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked).",
        ErrorKind::NoGradViewInplace,
    ),
    // cat([tensor(1.), tensor(2.)])
    (
        "zero-dimensional tensor (at position 0) cannot be concatenated",
        ErrorKind::InvalidArgument,
    ),
    // ones(0).max()
    (
        "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.",
        ErrorKind::InvalidArgument,
    ),
    // a = ones(3, requires_grad=True).clone(); with no_grad(): v = a[1:]; v[1:] = -3.0
    (
        "Output 0 of Slice is a view of a view which was created in no_grad mode and is being modified inplace with grad mode enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked).",
        ErrorKind::NoGradViewInplace,
    ),
    // ones(1, 1, 0).max(-1)
    (
        "max(): Expected reduction dim 2 to have non-zero size.",
        ErrorKind::InvalidArgument,
    ),
    // ones(2)[0, 0]
    (
        "too many indices for tensor of dimension 1",
        ErrorKind::InvalidArgument,
    ),
    // ones(2, dtype=bool).relu()
    (
        "Boolean inputs not supported for relu",
        ErrorKind::DtypeNotSupported,
    ),
    // set_history on an int64 output (C++ text)
    (
        "Autograd not support dtype: Long",
        ErrorKind::DtypeNotSupported,
    ),
    // F.linear(tensor(1.), ones(2, 2))
    (
        "both arguments to linear need to be at least 1D, but they are 0D and 2D",
        ErrorKind::InvalidArgument,
    ),
    // mv(ones(2, 2), ones(3, 3))
    (
        "vector + matrix @ vector expected, got 1, 2, 2",
        ErrorKind::InvalidArgument,
    ),
    // dot(ones(2, 2), ones(2))
    (
        "1D tensors expected, but got 2D and 1D tensors",
        ErrorKind::InvalidArgument,
    ),
    // ones(2, 2, 2).t()
    (
        "t() expects a tensor with <= 2 dimensions, but self is 3D",
        ErrorKind::InvalidArgument,
    ),
    // F.conv2d(ones(1, 1, 3, 3), ones(2, 2))
    (
        "weight should have at least three dimensions",
        ErrorKind::InvalidArgument,
    ),
    // F.conv2d(ones(1, 1, 3, 3), ones(1, 1, 2))
    (
        "expected stride to be a single integer value or a list of 1 values to match the convolution dimensions, but got stride=[1, 1]",
        ErrorKind::InvalidArgument,
    ),
    // F.conv2d(ones(1, 1, 3, 3), ones(1, 1, 2, 2), dilation=0)
    (
        "dilation should be greater than zero, but got [0, 0]",
        ErrorKind::InvalidArgument,
    ),
    // F.conv2d(ones(1, 4, 3, 3), ones(3, 2, 2, 2), groups=2)
    (
        "Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of size [[3, 2, 2, 2]] instead",
        ErrorKind::InvalidArgument,
    ),
    // F.conv2d(ones(1, 4, 3, 3), ones(3, 1, 2, 2), groups=4)
    (
        "Given groups=4, expected weight to be at least 4 at dimension 0, but got weight of size [3, 1, 2, 2] instead",
        ErrorKind::InvalidArgument,
    ),
    // F.conv2d(ones(1, 1, 3, 3), ones(1, 1, 2, 2), ones(1, 1))
    (
        "Given weight of size [1, 1, 2, 2], expected bias to be 1-dimensional with 1 elements, but got bias of size [1, 1] instead",
        ErrorKind::InvalidArgument,
    ),
    // dot(ones(2), ones(2, dtype=float64))
    (
        "dot : expected both vectors to have same dtype, but found Float and Double",
        ErrorKind::DtypeMismatch,
    ),
    // mv(ones(2, 2), ones(2, dtype=float64))
    (
        "addmv input tensors must have the same dtype, but got Double, Float, and Double",
        ErrorKind::DtypeMismatch,
    ),
    // F.conv2d(ones(1, 1, 3, 3), ones(1, 1, 2, 2), ones(1, dtype=float64))
    (
        "Input type (float) and bias type (double) should be the same",
        ErrorKind::DtypeMismatch,
    ),
    // x = randn(4, requires_grad=True).clone(); a, b = x.split(2); x.mul_(2); a.exp()
    (
        "Output 0 of Split is a view and its base or another view of its base has been \
         modified inplace. This view is the output of a function that returns multiple views. \
         Such functions do not allow the output views to be modified inplace. You should \
         replace the inplace operation by an out-of-place one.",
        ErrorKind::ViewInplace,
    ),
    // x = randn(2, 3); x[tensor([True, False, True])] (PyTorch 2.13.0)
    (
        "The shape of the mask [3] at index 0 does not match the shape of the indexed tensor [2, 3] at index 0",
        ErrorKind::IndexOutOfRange,
    ),
    // x[tensor([0.5])] (PyTorch 2.13.0)
    (
        "tensors used as indices must be long, int, byte or bool tensors",
        ErrorKind::DtypeMismatch,
    ),
    // x[tensor([0, 1]), tensor([0, 1, 1])] (PyTorch 2.13.0)
    (
        "shape mismatch: indexing tensors could not be broadcast together with shapes [2], [3]",
        ErrorKind::BroadcastShape,
    ),
    // y = zeros(6); y[arange(6)] = ones(3) (PyTorch 2.13.0)
    (
        "shape mismatch: value tensor of shape [3] cannot be broadcast to indexing result of shape [6]",
        ErrorKind::InvalidShape,
    ),
    // einsum('ij,jk->ik', randn(2, 3), randn(2, 3)) (PyTorch 2.13.0)
    (
        "einsum(): subscript j has size 2 for operand 1 which does not broadcast with previously seen size 3",
        ErrorKind::InvalidArgument,
    ),
    // F.nll_loss(randn(2, 3), tensor([0, 5])) (PyTorch 2.13.0)
    ("Target 5 is out of bounds.", ErrorKind::IndexOutOfRange),
    // F.nll_loss(randn(2, 3), tensor([0., 1.])) (PyTorch 2.13.0)
    (
        "expected target dtype to be Long or Byte, but got Float",
        ErrorKind::DtypeMismatch,
    ),
    // F.nll_loss(randn(3, 3), tensor([0, 1])) (PyTorch 2.13.0)
    (
        "Expected input batch_size (3) to match target batch_size (2).",
        ErrorKind::InvalidShape,
    ),
    // F.nll_loss(randn(2, 3), tensor([0, 1]), weight=ones(2)) (PyTorch 2.13.0)
    (
        "weight tensor should be defined either for all 3 classes or no classes but got weight tensor of shape: [2]",
        ErrorKind::InvalidArgument,
    ),
    // (torch.ones(1, requires_grad=True) // 2).sum().backward() (PyTorch 2.13.0)
    (
        "derivative for aten::floor_divide is not implemented",
        ErrorKind::InvalidArgument,
    ),
    // torch.tensor([7, -7]) % 0 (PyTorch 2.13.0)
    ("ZeroDivisionError", ErrorKind::InvalidArgument),
    // F.dropout(x, 1.5) (PyTorch 2.13.0)
    (
        "dropout probability has to be between 0 and 1, but got 1.5",
        ErrorKind::InvalidArgument,
    ),
    // optim.Adam([p], eps=-1e-3) (PyTorch 2.13.0)
    ("Invalid epsilon value: -0.001", ErrorKind::InvalidArgument),
    // optim.Adam([p], betas=(1.0, 0.999)) (PyTorch 2.13.0)
    (
        "Invalid beta parameter at index 0: 1.0",
        ErrorKind::InvalidArgument,
    ),
    // nn.BatchNorm2d(2)(torch.ones(2, 2, 3)) (PyTorch 2.13.0)
    ("expected 4D input (got 3D input)", ErrorKind::InvalidShape),
    // nn.BatchNorm2d(2)(torch.ones(2, 3, 2, 2)) (PyTorch 2.13.0)
    (
        "running_mean should contain 3 elements not 2",
        ErrorKind::InvalidShape,
    ),
    // nn.BatchNorm2d(2)(torch.ones(1, 2, 1, 1)) (PyTorch 2.13.0)
    (
        "Expected more than 1 value per channel when training, got input size torch.Size([1, 2, 1, 1])",
        ErrorKind::InvalidArgument,
    ),
];

#[test]
fn every_captured_message_has_its_kind() {
    for (message, kind) in CAPTURED {
        assert_eq!(classify(message), *kind, "message: {message}");
    }
}

#[test]
fn every_table_entry_is_exercised_or_documented() {
    // Each pattern either matches a captured message or is a documented variant whose text
    // could not be produced through this API surface (legacy or CUDA-only messages).
    let variants = [
        "returned an invalid gradient at index",
        "both grad_output and output are required to have the same dtype",
        "assigned grad has data of a different",
        "size mismatch",
        "but tensor has no dimensions",
        "is not supported",
        "must be a matrix",
        "must be a 3D tensor",
        "both arguments to matmul need to be at least 1D",
        "repeated dim",
        "stack expects a non-empty TensorList",
        "must be greater or equal to the number of dimensions in the tensor",
        "expected scalar type",
        "but expected",
        "have incompatible tensor type",
        "Expected all tensors to be on the same device",
        "Torch not compiled with CUDA enabled",
        "no CUDA GPUs are available",
        "Found no NVIDIA driver",
    ];
    for (pattern, kind) in TABLE {
        let captured = CAPTURED.iter().any(|(m, _)| m.contains(pattern));
        assert!(
            captured || variants.contains(pattern),
            "pattern {pattern:?} ({kind}) has no captured message"
        );
    }
}

#[test]
fn unknown_text_is_unclassified() {
    assert_eq!(
        classify("something libtorch has never said"),
        ErrorKind::Unclassified
    );
}

#[test]
fn strips_the_cpp_backtrace() {
    let raw = "index 5 is out of bounds for dimension 0 with size 3\nException raised from applySelect at /pytorch/aten/src/ATen/TensorIndexing.h:239 (most recent call first):\nframe #0: c10::Error::Error";
    assert_eq!(
        strip_backtrace(raw),
        "index 5 is out of bounds for dimension 0 with size 3"
    );
    assert_eq!(strip_backtrace("plain"), "plain");
}
