//! Every op that is not elementwise, one row each: creation, clamp and where, reductions and
//! products, `nn.functional`, shapes and views, casts, in-place writes, autograd methods and
//! the methods that read values. The rows generate [`ROWS`]; the interpreter expands the same
//! rows into its lowering.

use super::{Family, Spelling};

/// The ops that are not elementwise, handed to the callback macro `$cb`. A row:
///
/// - `"narrow"`: the Python name;
/// - `spelled`: where it may be written ([`Spelling`]);
/// - `sig`: the function signature, as PyTorch's docs write it (`names::Signature` reads it);
///   the receiver of a method is the parameter `input`, and the method's signature is `sig`
///   without it, or `method_sig` where the two differ (`x.view(2, 3)` against
///   `torch.reshape(x, (2, 3))`);
/// - `ret`: what a call returns (`names::Ret`: `tensor`, `int`, `bool`, `list`, `none`, `any`);
/// - `family`: the generator family that draws it ([`Family`]);
/// - `doc`: what it does, for its line in `cases/FORMAT.md`;
/// - `lower`: `|it, a|` with the interpreter `it` and the bound arguments `a`
///   (`interp/builtins/args.rs`), the op's backend calls; it returns the Python value.
///
/// The rows continue in the area files that follow this one in the chain
/// (`rows_math.rs`, `rows_index.rs`, `rows_nn.rs`): each area's macro takes the rows so far and
/// passes them on with its own appended, and the last hands them all to `$cb`. Every row ends
/// with a comma.
macro_rules! op_rows {
    ($cb:ident) => {
        $crate::ops::math_rows! { $cb;
            // ---- creation ----
            "tensor" { spelled: [Torch],
                sig: "data: any, *, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: Create,
                doc: "a tensor of nested lists of numbers, its dtype inferred as PyTorch infers it",
                lower: |it, a| it.make_tensor(a) },
            "ones" { spelled: [Torch],
                sig: "*size: ints, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: Create, doc: "ones of shape `size` (float32 unless `dtype`)",
                lower: |it, a| it.filled(a, Scalar::Int(1)) },
            "zeros" { spelled: [Torch],
                sig: "*size: ints, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: Create, doc: "zeros of shape `size`",
                lower: |it, a| it.filled(a, Scalar::Int(0)) },
            "empty" { spelled: [Torch],
                sig: "*size: ints, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: Create,
                doc: "PyTorch leaves its memory uninitialised; what uninitialised memory holds is \
                      no observable, so both backends run it as `zeros`",
                lower: |it, a| it.filled(a, Scalar::Int(0)) },
            "full" { spelled: [Torch],
                sig: "size: ints, fill_value: number, *, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: Create,
                doc: "`fill_value` in shape `size`; the dtype follows the number",
                lower: |it, a| it.full(a) },
            "arange" { spelled: [Torch],
                sig: "start: number, end: number = None, step: number = 1, *, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: Create,
                doc: "`arange(end)` or `arange(start, end, step)`; int64 for integer arguments",
                lower: |it, a| it.arange(a) },
            "linspace" { spelled: [Torch],
                sig: "start: number, end: number, steps: int, *, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: No, doc: "`steps` evenly spaced values from `start` to `end`",
                lower: |it, a| it.linspace(a) },
            "eye" { spelled: [Torch],
                sig: "n: int, m: int = None, *, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: No, doc: "the `n` by `m` identity",
                lower: |it, a| it.eye(a) },
            "randn" { spelled: [Torch],
                sig: "*size: ints, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: Create,
                doc: "standard normal values, drawn by the harness from the case's seed",
                lower: |it, a| it.random_fn(a, true) },
            "rand" { spelled: [Torch],
                sig: "*size: ints, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: Create,
                doc: "uniform values in [0, 1), drawn by the harness from the case's seed",
                lower: |it, a| it.random_fn(a, false) },
            "ones_like" { spelled: [Torch],
                sig: "input: tensor, *, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: Create, doc: "ones of `input`'s shape and dtype",
                lower: |it, a| it.like(a, Some(Scalar::Int(1)), false) },
            "zeros_like" { spelled: [Torch],
                sig: "input: tensor, *, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: Create, doc: "zeros of `input`'s shape and dtype",
                lower: |it, a| it.like(a, Some(Scalar::Int(0)), false) },
            "randn_like" { spelled: [Torch],
                sig: "input: tensor, *, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: No, doc: "`randn` of `input`'s shape and dtype",
                lower: |it, a| it.like(a, None, true) },
            "rand_like" { spelled: [Torch],
                sig: "input: tensor, *, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: No, doc: "`rand` of `input`'s shape and dtype",
                lower: |it, a| it.like(a, None, false) },
            "new_ones" { spelled: [Method],
                sig: "input: tensor, *size: ints, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: Create,
                doc: "ones of shape `size` with the receiver's dtype unless `dtype` is given: a new \
                      leaf, not requiring grad unless asked",
                lower: |it, a| it.new_filled(a, Scalar::Int(1)) },
            "new_zeros" { spelled: [Method],
                sig: "input: tensor, *size: ints, dtype: dtype = None, device: str = None, requires_grad: bool = False",
                ret: "tensor", family: Create, doc: "zeros, as `new_ones`",
                lower: |it, a| it.new_filled(a, Scalar::Int(0)) },

            // ---- elementwise, beyond the elementwise table ----
            "clamp" { spelled: [Method, Torch],
                sig: "input: tensor, min: number = None, max: number = None",
                ret: "tensor", family: Elementwise, doc: "`input` limited to `[min, max]`",
                lower: |it, a| {
                    let x = a.input()?;
                    let (min, max) = (a.opt_scalar("min")?, a.opt_scalar("max")?);
                    it.call(Call::Clamp { x, min, max })
                } },
            "clamp_min" { spelled: [Method, Torch], sig: "input: tensor, min: number",
                ret: "tensor", family: Elementwise,
                doc: "`input` raised to at least `min` (`ClampMinBackward0`: the gradient passes \
                      where `input >= min`)",
                lower: |it, a| {
                    let (x, bound) = (a.input()?, a.number("min")?);
                    it.call(Call::ClampSide { x, bound, is_min: true })
                } },
            "clamp_max" { spelled: [Method, Torch], sig: "input: tensor, max: number",
                ret: "tensor", family: Elementwise,
                doc: "`input` lowered to at most `max` (`ClampMaxBackward0`: the gradient passes \
                      where `input <= max`)",
                lower: |it, a| {
                    let (x, bound) = (a.input()?, a.number("max")?);
                    it.call(Call::ClampSide { x, bound, is_min: false })
                } },
            "where" { spelled: [Method, Torch],
                sig: "condition: tensor, input: tensor_or_number, other: tensor_or_number",
                ret: "tensor", family: Elementwise,
                doc: "`input` where `condition` holds, else `other`",
                lower: |it, a| {
                    let cond = a.tensor("condition")?;
                    let (x, y) = (a.operand("input")?, a.operand("other")?);
                    it.call(Call::Where { cond, a: x, b: y })
                } },

            // ---- reductions and products ----
            "sum" { spelled: [Method, Torch],
                sig: "input: tensor, dim: ints = None, keepdim: bool = False",
                ret: "tensor", family: Reduce,
                doc: "the sum over `dim` (every dim by default); int64 for integers and bools",
                lower: |it, a| {
                    let (x, dims, keepdim) = (a.input()?, a.dims("dim")?, a.flag("keepdim", false)?);
                    it.call(Call::Sum { x, dims, keepdim })
                } },
            "mean" { spelled: [Method, Torch],
                sig: "input: tensor, dim: ints = None, keepdim: bool = False",
                ret: "tensor", family: Reduce, doc: "the mean over `dim`; floats only",
                lower: |it, a| {
                    let (x, dims, keepdim) = (a.input()?, a.dims("dim")?, a.flag("keepdim", false)?);
                    it.call(Call::Mean { x, dims, keepdim })
                } },
            "max" { spelled: [Method, Torch],
                sig: "input: tensor, dim: int = None, keepdim: bool = False",
                ret: "any", family: Reduce,
                doc: "the largest element; with an int `dim` a `(values, indices)` pair, with a \
                      tensor `maximum`",
                lower: |it, a| it.max_min(a, true) },
            "min" { spelled: [Method, Torch],
                sig: "input: tensor, dim: int = None, keepdim: bool = False",
                ret: "any", family: Reduce, doc: "as `max`, the smallest",
                lower: |it, a| it.max_min(a, false) },
            "softmax" { spelled: [Method, Torch, F], sig: "input: tensor, dim: int",
                ret: "tensor", family: Reduce, doc: "softmax along `dim`",
                lower: |it, a| {
                    let (x, dim) = (a.input()?, a.int("dim")?);
                    it.call(Call::Softmax { x, dim })
                } },
            "log_softmax" { spelled: [Method, Torch, F], sig: "input: tensor, dim: int",
                ret: "tensor", family: Reduce, doc: "log of softmax along `dim`",
                lower: |it, a| {
                    let (x, dim) = (a.input()?, a.int("dim")?);
                    it.call(Call::LogSoftmax { x, dim })
                } },
            "matmul" { spelled: [Method, Torch], sig: "input: tensor, other: tensor",
                ret: "tensor", family: Reduce, doc: "the matrix product, batched and broadcast (`@`)",
                lower: |it, a| {
                    let (x, b) = (a.input()?, a.tensor("other")?);
                    it.call(Call::Matmul { a: x, b })
                } },
            "mm" { spelled: [Method, Torch], sig: "input: tensor, mat2: tensor",
                ret: "tensor", family: Reduce, doc: "the product of two matrices",
                lower: |it, a| {
                    let (x, b) = (a.input()?, a.tensor("mat2")?);
                    it.call(Call::Mm { a: x, b })
                } },
            "bmm" { spelled: [Method, Torch], sig: "input: tensor, mat2: tensor",
                ret: "tensor", family: Reduce, doc: "the product of two batches of matrices",
                lower: |it, a| {
                    let (x, b) = (a.input()?, a.tensor("mat2")?);
                    it.call(Call::Bmm { a: x, b })
                } },

            // ---- nn.functional ----
            "linear" { spelled: [F], sig: "input: tensor, weight: tensor, bias: tensor = None",
                ret: "tensor", family: Reduce, doc: "`input @ weight.T + bias`",
                lower: |it, a| {
                    let (x, weight, bias) = (a.input()?, a.tensor("weight")?, a.opt_tensor("bias")?);
                    it.call(Call::Linear { x, weight, bias })
                } },
            "conv2d" { spelled: [F],
                sig: "input: tensor, weight: tensor, bias: tensor = None, stride: ints = 1, padding: ints = 0, dilation: ints = 1, groups: int = 1",
                ret: "tensor", family: No, doc: "2-d convolution of a batch of images",
                lower: |it, a| it.conv2d(a) },
            "mse_loss" { spelled: [F],
                sig: "input: tensor, target: tensor, reduction: str = 'mean'",
                ret: "tensor", family: Reduce,
                doc: "the squared error, reduced by `reduction` (`'mean'`, `'sum'`, `'none'`); \
                      differing sizes warn and broadcast, as Python's does",
                lower: |it, a| {
                    let (input, target, reduction) = (a.input()?, a.tensor("target")?, a.reduction()?);
                    it.call(Call::MseLoss { input, target, reduction })
                } },

            // ---- shapes and views ----
            "view" { spelled: [Method], sig: "input: tensor, *shape: ints",
                ret: "tensor", family: View, doc: "a view with another shape (one size may be -1)",
                lower: |it, a| {
                    let (x, shape) = (a.input()?, a.sizes("shape")?);
                    it.call(Call::View { x, shape })
                } },
            "view_as" { spelled: [Method], sig: "input: tensor, other: tensor",
                ret: "tensor", family: View, doc: "`view` to `other`'s shape (`ViewBackward0`)",
                lower: |it, a| {
                    let x = a.input()?;
                    let shape = it.sizes_of(&a.tensor("other")?)?;
                    it.call(Call::View { x, shape })
                } },
            "reshape" { spelled: [Method, Torch], sig: "input: tensor, shape: ints",
                method_sig: "*shape: ints",
                ret: "tensor", family: View, doc: "a view where the strides allow one, else a copy",
                lower: |it, a| {
                    let (x, shape) = (a.input()?, a.sizes("shape")?);
                    it.call(Call::Reshape { x, shape })
                } },
            "squeeze" { spelled: [Method, Torch], sig: "input: tensor, dim: int = None",
                ret: "tensor", family: View, doc: "drops `dim`, or every dim, of size 1",
                lower: |it, a| {
                    let (x, dim) = (a.input()?, a.opt_int("dim")?);
                    it.call(Call::Squeeze { x, dim })
                } },
            "unsqueeze" { spelled: [Method, Torch], sig: "input: tensor, dim: int",
                ret: "tensor", family: View, doc: "inserts a dim of size 1 at `dim`",
                lower: |it, a| {
                    let (x, dim) = (a.input()?, a.int("dim")?);
                    it.call(Call::Unsqueeze { x, dim })
                } },
            "flatten" { spelled: [Method, Torch],
                sig: "input: tensor, start_dim: int = 0, end_dim: int = -1",
                ret: "tensor", family: View, doc: "merges the dims `start_dim..=end_dim`",
                lower: |it, a| {
                    let x = a.input()?;
                    let (start, end) = (a.int_or("start_dim", 0)?, a.int_or("end_dim", -1)?);
                    it.call(Call::Flatten { x, start, end })
                } },
            "t" { spelled: [Method, Torch], sig: "input: tensor",
                ret: "tensor", family: View, doc: "the transpose of a tensor of at most 2 dims",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::T { x })
                } },
            // Drawn as `.t()`.
            "T" { spelled: [Attr], sig: "input: tensor",
                ret: "tensor", family: No, doc: "`t()`, as an attribute",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::T { x })
                } },
            "mT" { spelled: [Attr], sig: "input: tensor",
                ret: "tensor", family: View,
                doc: "the last two dims swapped, `transpose(-2, -1)` (`TransposeBackward0`); fewer \
                      than 2 dims raise",
                lower: |it, a| it.matrix_t(a) },
            "transpose" { spelled: [Method, Torch], sig: "input: tensor, dim0: int, dim1: int",
                ret: "tensor", family: View, doc: "`dim0` and `dim1` swapped",
                lower: |it, a| {
                    let (x, dim0, dim1) = (a.input()?, a.int("dim0")?, a.int("dim1")?);
                    it.call(Call::Transpose { x, dim0, dim1 })
                } },
            "permute" { spelled: [Method, Torch], sig: "input: tensor, dims: ints",
                method_sig: "*dims: ints",
                ret: "tensor", family: View, doc: "the dims reordered",
                lower: |it, a| {
                    let (x, dims) = (a.input()?, a.sizes("dims")?);
                    it.call(Call::Permute { x, dims })
                } },
            "expand" { spelled: [Method], sig: "input: tensor, *sizes: ints",
                ret: "tensor", family: View,
                doc: "size-1 dims repeated without copying (-1 keeps a size)",
                lower: |it, a| {
                    let (x, sizes) = (a.input()?, a.sizes("sizes")?);
                    it.call(Call::Expand { x, sizes })
                } },
            "expand_as" { spelled: [Method], sig: "input: tensor, other: tensor",
                ret: "tensor", family: View, doc: "`expand` to `other`'s shape (`ExpandBackward0`)",
                lower: |it, a| {
                    let x = a.input()?;
                    let sizes = it.sizes_of(&a.tensor("other")?)?;
                    it.call(Call::Expand { x, sizes })
                } },
            "narrow" { spelled: [Method, Torch],
                sig: "input: tensor, dim: int, start: int, length: int",
                ret: "tensor", family: View, doc: "`length` elements of `dim` from `start`",
                lower: |it, a| {
                    let (x, dim) = (a.input()?, a.int("dim")?);
                    let (start, length) = (a.int("start")?, a.int("length")?);
                    it.call(Call::Narrow { x, dim, start, length })
                } },
            "select" { spelled: [Method, Torch], sig: "input: tensor, dim: int, index: int",
                ret: "tensor", family: View, doc: "element `index` of `dim`, the dim dropped",
                lower: |it, a| {
                    let (x, dim, index) = (a.input()?, a.int("dim")?, a.int("index")?);
                    it.call(Call::Select { x, dim, index })
                } },
            "contiguous" { spelled: [Method], sig: "input: tensor",
                ret: "tensor", family: View, doc: "the tensor itself if contiguous, else a copy",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::Contiguous { x })
                } },
            "clone" { spelled: [Method, Torch], sig: "input: tensor",
                ret: "tensor", family: View, doc: "a copy (`CloneBackward0`)",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::Clone { x })
                } },
            "cat" { spelled: [Torch], sig: "tensors: tensors, dim: int = 0",
                ret: "tensor", family: View, doc: "the tensors joined along `dim`",
                lower: |it, a| {
                    let (xs, dim) = (a.tensors("tensors")?, a.int_or("dim", 0)?);
                    it.call(Call::Cat { xs, dim })
                } },
            "stack" { spelled: [Torch], sig: "tensors: tensors, dim: int = 0",
                ret: "tensor", family: View, doc: "the tensors joined along a new dim `dim`",
                lower: |it, a| {
                    let (xs, dim) = (a.tensors("tensors")?, a.int_or("dim", 0)?);
                    it.call(Call::Stack { xs, dim })
                } },

            // ---- dtypes and devices ----
            "to" { spelled: [Method], sig: "input: tensor, dtype: dtype",
                ret: "tensor", family: Elementwise,
                doc: "a cast to `dtype` (`'cpu'` and `torch.device('cpu')` give the tensor itself)",
                lower: |it, a| it.to(a) },
            "double" { spelled: [Method], sig: "input: tensor",
                ret: "tensor", family: Elementwise, doc: "`to(torch.float64)`",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::ToDtype { x, dtype: DType::F64 })
                } },
            "float" { spelled: [Method], sig: "input: tensor",
                ret: "tensor", family: Elementwise, doc: "`to(torch.float32)`",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::ToDtype { x, dtype: DType::F32 })
                } },
            "long" { spelled: [Method], sig: "input: tensor",
                ret: "tensor", family: No, doc: "`to(torch.int64)`",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::ToDtype { x, dtype: DType::I64 })
                } },
            "int" { spelled: [Method], sig: "input: tensor",
                ret: "tensor", family: No, doc: "`to(torch.int32)`",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::ToDtype { x, dtype: DType::I32 })
                } },
            "short" { spelled: [Method], sig: "input: tensor",
                ret: "tensor", family: No, doc: "`to(torch.int16)`",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::ToDtype { x, dtype: DType::I16 })
                } },
            "char" { spelled: [Method], sig: "input: tensor",
                ret: "tensor", family: No, doc: "`to(torch.int8)`",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::ToDtype { x, dtype: DType::I8 })
                } },
            "bool" { spelled: [Method], sig: "input: tensor",
                ret: "tensor", family: No, doc: "`to(torch.bool)`",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::ToDtype { x, dtype: DType::Bool })
                } },
            "cpu" { spelled: [Method], sig: "input: tensor",
                ret: "tensor", family: No, doc: "the tensor itself (programs run on the CPU)",
                lower: |_, a| Ok(PyVal::Tensor(a.input()?)) },

            // ---- in-place writes, beyond the binary table's ----
            "zero_" { spelled: [Method], sig: "input: tensor",
                ret: "tensor", family: Inplace, doc: "fills with zeros",
                lower: |it, a| {
                    let x = a.input()?;
                    it.in_place(x.clone(), Call::Zero_ { x })
                } },
            "fill_" { spelled: [Method], sig: "input: tensor, value: number",
                ret: "tensor", family: Inplace, doc: "fills with `value`",
                lower: |it, a| {
                    let (x, value) = (a.input()?, a.number("value")?);
                    it.in_place(x.clone(), Call::Fill_ { x, value })
                } },
            "copy_" { spelled: [Method], sig: "input: tensor, src: tensor",
                ret: "tensor", family: Inplace, doc: "copies `src` in, broadcast and cast",
                lower: |it, a| {
                    let (x, src) = (a.input()?, a.tensor("src")?);
                    it.in_place(x.clone(), Call::Copy_ { x, src })
                } },
            "clamp_" { spelled: [Method], sig: "input: tensor, min: number = None, max: number = None",
                ret: "tensor", family: Inplace, doc: "`clamp`, in place",
                lower: |it, a| {
                    let x = a.input()?;
                    let (min, max) = (a.opt_scalar("min")?, a.opt_scalar("max")?);
                    it.in_place(x.clone(), Call::Clamp_ { x, min, max })
                } },
            "clamp_min_" { spelled: [Method], sig: "input: tensor, min: number",
                ret: "tensor", family: Inplace, doc: "`clamp_min`, in place",
                lower: |it, a| {
                    let (x, bound) = (a.input()?, a.number("min")?);
                    it.in_place(x.clone(), Call::ClampSide_ { x, bound, is_min: true })
                } },
            "clamp_max_" { spelled: [Method], sig: "input: tensor, max: number",
                ret: "tensor", family: Inplace, doc: "`clamp_max`, in place",
                lower: |it, a| {
                    let (x, bound) = (a.input()?, a.number("max")?);
                    it.in_place(x.clone(), Call::ClampSide_ { x, bound, is_min: false })
                } },

            // ---- autograd ----
            "requires_grad_" { spelled: [Method],
                sig: "input: tensor, requires_grad: bool = True",
                ret: "tensor", family: Autograd,
                doc: "sets `requires_grad` (C++'s rule: a non-leaf may be switched on, never off)",
                lower: |it, a| {
                    let (x, flag) = (a.input()?, a.flag("requires_grad", true)?);
                    it.in_place(x.clone(), Call::RequiresGrad_ { x, flag })
                } },
            "retain_grad" { spelled: [Method], sig: "input: tensor",
                ret: "none", family: Autograd, doc: "keeps a non-leaf's `.grad` after backward",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::RetainGrad { x })
                } },
            "detach" { spelled: [Method, Torch], sig: "input: tensor",
                ret: "tensor", family: Autograd,
                doc: "the same data without history, sharing the version counter",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::Detach { x })
                } },
            "detach_" { spelled: [Method], sig: "input: tensor",
                ret: "tensor", family: Autograd, doc: "`detach`, in place",
                lower: |it, a| {
                    let x = a.input()?;
                    it.in_place(x.clone(), Call::Detach_ { x })
                } },
            "backward" { spelled: [Method],
                sig: "input: tensor, gradient: tensor = None, retain_graph: bool = None, create_graph: bool = False",
                ret: "none", family: Autograd,
                doc: "`torch.autograd.backward`, with Python's checks of `gradient`",
                lower: |it, a| {
                    let (root, gradient) = (a.input()?, a.opt_tensor("gradient")?);
                    let retain_graph = a.opt_flag("retain_graph")?;
                    let create_graph = a.flag("create_graph", false)?;
                    it.call(Call::Backward { root, gradient, retain_graph, create_graph })
                } },
            "_is_view" { spelled: [Method], sig: "input: tensor",
                ret: "bool", family: No, doc: "whether the tensor is a view",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::GetAttr { x, attr: TensorAttr::IsView })
                } },

            // ---- values ----
            "item" { spelled: [Method], sig: "input: tensor",
                ret: "any", family: Autograd, doc: "the one element, as a Python number",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::Item { x })
                } },
            "tolist" { spelled: [Method], sig: "input: tensor",
                ret: "list", family: Autograd, doc: "the elements, as nested Python lists",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::ToList { x })
                } },
            "size" { spelled: [Method], sig: "input: tensor, dim: int = None",
                ret: "any", family: No, doc: "the shape, or the size of `dim`",
                lower: |it, a| it.size(a) },
            "dim" { spelled: [Method], sig: "input: tensor",
                ret: "int", family: No, doc: "the number of dims",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::GetAttr { x, attr: TensorAttr::Ndim })
                } },
            "numel" { spelled: [Method, Torch], sig: "input: tensor",
                ret: "int", family: No, doc: "the number of elements",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::GetAttr { x, attr: TensorAttr::Numel })
                } },
            "is_contiguous" { spelled: [Method], sig: "input: tensor",
                ret: "bool", family: Autograd,
                doc: "whether the elements lie in row-major order without gaps",
                lower: |it, a| {
                    let x = a.input()?;
                    it.call(Call::GetAttr { x, attr: TensorAttr::IsContiguous })
                } },
        }
    };
}
pub(crate) use op_rows;

/// One op of [`op_rows`], without its lowering.
#[derive(Debug)]
pub struct OpRow {
    pub name: &'static str,
    pub spelled: &'static [Spelling],
    pub sig: &'static str,
    pub method_sig: Option<&'static str>,
    pub ret: &'static str,
    pub family: Family,
    pub doc: &'static str,
}

macro_rules! meta_rows {
    ($( $name:literal { spelled: [$($sp:ident),*], sig: $sig:literal,
        $(method_sig: $msig:literal,)? ret: $ret:literal, family: $family:ident, doc: $doc:literal,
        lower: $lower:expr $(,)? } ),* $(,)?) => {
        /// Every row of [`op_rows`], in table order.
        pub static ROWS: &[OpRow] = &[$(
            OpRow {
                name: $name,
                spelled: &[$(Spelling::$sp),*],
                sig: $sig,
                method_sig: first_of!($($msig)?),
                ret: $ret,
                family: Family::$family,
                doc: $doc,
            }
        ),*];
    };
}

macro_rules! first_of {
    () => {
        None
    };
    ($l:literal) => {
        Some($l)
    };
}

op_rows!(meta_rows);

#[cfg(test)]
mod tests {
    use super::ROWS;

    #[test]
    fn names_are_unique_and_attributes_take_no_arguments() {
        let mut names: Vec<&str> = ROWS.iter().map(|r| r.name).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "a name is in two rows");
        for r in ROWS {
            if r.spelled.contains(&super::Spelling::Attr) {
                assert_eq!(r.sig, "input: tensor", "{}", r.name);
            }
        }
    }
}
