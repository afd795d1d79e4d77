//! The tensor handle: an `Arc` onto storage + layout + version counter + autograd metadata.
//! Cloning a `Tensor` is Python's assignment (`y = x`): the same tensor object.

use crate::autograd::{Edge, InputMeta, Node, NodeKind};
use crate::dtype::{Elem, Scalar};
use crate::error::{Error, Result, Shape};
use crate::layout::Layout;
use crate::storage::{CpuStorage, Storage, StorageElem};
use crate::{DType, Device};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

/// Shared by every tensor of a storage-sharing group as libtorch defines it (views and
/// `detach()`; not `.data`).
#[derive(Debug, Default)]
pub struct VersionCounter(AtomicU64);

impl VersionCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// How a view was made; non-default views may not be modified in place with grad on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreationMeta {
    Default,
    NoGradMode,
    /// An output of a function that returns several views (`split`, `chunk`, `unbind`).
    MultiOutputNode,
}

#[derive(Clone)]
pub(crate) struct ViewInfo {
    /// The root base (never itself a view).
    pub(crate) base: Tensor,
    pub(crate) creation_meta: CreationMeta,
}

#[derive(Clone)]
pub(crate) struct DataRef {
    pub(crate) storage: Arc<RwLock<Storage>>,
    pub(crate) layout: Layout,
    pub(crate) dtype: DType,
}

#[derive(Default)]
pub(crate) struct AutogradMeta {
    pub(crate) requires_grad: bool,
    pub(crate) grad: Option<Tensor>,
    pub(crate) grad_fn: Option<Arc<Node>>,
    pub(crate) output_nr: usize,
    pub(crate) retains_grad: bool,
    pub(crate) grad_accumulator: Weak<Node>,
    pub(crate) view: Option<ViewInfo>,
    /// For views: the version at which `grad_fn` was last set or regenerated.
    pub(crate) attr_version: u64,
}

pub struct TensorImpl {
    /// Fixed for the tensor's life (`set_data` refuses another dtype), so read without a lock.
    pub(crate) dtype: DType,
    pub(crate) device: Device,
    pub(crate) data: RwLock<DataRef>,
    pub(crate) version: Arc<VersionCounter>,
    pub(crate) meta: Mutex<AutogradMeta>,
}

/// A tensor. `Send + Sync`; cheap to clone (the clone is the same tensor object).
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<TensorImpl>);

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Tensor({:?}, shape={:?}, dtype={:?}",
            self.to_vec_f64(),
            self.shape(),
            self.dtype()
        )?;
        if let Some(n) = self.grad_fn_unchecked() {
            write!(f, ", grad_fn=<{}>", n.name())?;
        } else if self.requires_grad() {
            write!(f, ", requires_grad=True")?;
        }
        write!(f, ")")
    }
}

/// Nested-list output (`tolist()`).
#[derive(Debug, Clone, PartialEq)]
pub enum NestedList {
    Scalar(Scalar),
    List(Vec<NestedList>),
}

fn scalar_of(dtype: DType, v: f64) -> Scalar {
    match dtype {
        DType::Bool => Scalar::Bool(v != 0.0),
        DType::I8 | DType::I16 | DType::I32 | DType::I64 => Scalar::Int(v as i64),
        DType::F32 | DType::F64 => Scalar::Float(v),
    }
}

impl Tensor {
    // ------------------------------------------------------------------ construction

    pub(crate) fn from_parts(storage: Arc<RwLock<Storage>>, layout: Layout, dtype: DType) -> Self {
        let device = match &*storage.read().unwrap() {
            Storage::Cpu(_) => Device::Cpu,
            Storage::Cuda(c) => c.device(),
        };
        Tensor(Arc::new(TensorImpl {
            dtype,
            device,
            data: RwLock::new(DataRef {
                storage,
                layout,
                dtype,
            }),
            version: Arc::new(VersionCounter::default()),
            meta: Mutex::new(AutogradMeta::default()),
        }))
    }

    /// A new leaf tensor over a contiguous buffer.
    pub fn from_storage(storage: CpuStorage, shape: &[usize]) -> Result<Self> {
        let numel: usize = shape.iter().product();
        if storage.len() != numel {
            return Err(Error::InvalidArgument(format!(
                "shape '{}' is invalid for input of size {}",
                Shape(shape.to_vec()),
                storage.len()
            )));
        }
        let dtype = storage.dtype();
        Ok(Self::from_parts(
            Arc::new(RwLock::new(Storage::Cpu(storage))),
            Layout::contiguous(shape),
            dtype,
        ))
    }

    /// Like [`Tensor::from_vec`], taking the shape by value (kernels already own one).
    pub fn from_vec_shape<T: StorageElem>(data: Vec<T>, shape: Vec<usize>) -> Result<Self> {
        if data.len() != shape.iter().product::<usize>() {
            return Self::from_vec(data, &shape);
        }
        let strides = crate::layout::contiguous_strides(&shape);
        Ok(Self::from_parts(
            Arc::new(RwLock::new(Storage::Cpu(T::wrap(data)))),
            Layout {
                shape,
                strides,
                offset: 0,
            },
            T::DTYPE,
        ))
    }

    /// A tensor with `strides` (a dense layout, see [`crate::memory_format`]) holding `data`
    /// given in row-major order.
    pub fn from_vec_strided<T: StorageElem>(
        data: Vec<T>,
        shape: Vec<usize>,
        strides: Vec<isize>,
    ) -> Result<Self> {
        if data.len() != shape.iter().product::<usize>()
            || strides == crate::layout::contiguous_strides(&shape)
        {
            return Self::from_vec_shape(data, shape);
        }
        let mut buf = data.clone();
        for (v, i) in data
            .into_iter()
            .zip(crate::layout::StridedIndex::new(&shape, &strides, 0))
        {
            buf[i] = v;
        }
        Ok(Self::from_parts(
            Arc::new(RwLock::new(Storage::Cpu(T::wrap(buf)))),
            Layout {
                shape,
                strides,
                offset: 0,
            },
            T::DTYPE,
        ))
    }

    /// Whether the shape equals `shape` (without copying it out).
    pub fn shape_eq(&self, shape: &[usize]) -> bool {
        self.0.data.read().unwrap().layout.shape == shape
    }

    /// `torch.tensor(data)` with data given row-major.
    pub fn from_vec<T: StorageElem>(data: Vec<T>, shape: &[usize]) -> Result<Self> {
        Self::from_storage(T::wrap(data), shape)
    }

    /// From f64 values, converted to `dtype` (integers and bools exactly).
    pub fn from_f64(values: &[f64], shape: &[usize], dtype: DType) -> Result<Self> {
        Self::from_storage(CpuStorage::from_f64(dtype, values.iter().copied()), shape)
    }

    /// A 0-dim tensor.
    pub fn scalar(value: Scalar, dtype: DType) -> Self {
        Self::from_storage(CpuStorage::from_f64(dtype, [value.as_f64()]), &[]).expect("one element")
    }

    /// `requires_grad=True` given at creation: integer and bool tensors fail with the factory
    /// functions' message.
    pub fn with_requires_grad(self, requires_grad: bool) -> Result<Self> {
        if requires_grad {
            if !self.dtype().is_float() {
                return Err(Error::RequiresGradDtypeCreation);
            }
            self.0.meta.lock().unwrap().requires_grad = true;
        }
        Ok(self)
    }

    /// `.to(device)`: the same tensor when it is already there, else a differentiable copy
    /// (grad_fn `ToCopyBackward0`, whose rule copies the gradient back). Without CUDA support
    /// compiled in, or without a device, CUDA fails with [`Error::NoCuda`].
    pub fn to_device(&self, device: Device) -> Result<Tensor> {
        if device == self.device() {
            return Ok(self.clone());
        }
        let host = self.host_storage()?;
        let shape = self.shape();
        let out = match device {
            Device::Cpu => Tensor::from_storage(host, &shape)?,
            Device::Cuda(_) => {
                let dev = crate::cuda_backend::upload(&host, device)?;
                Tensor::from_parts(
                    Arc::new(RwLock::new(Storage::Cuda(dev))),
                    Layout::contiguous(&shape),
                    self.dtype(),
                )
            }
        };
        if self.dtype().is_float()
            && let Some(rec) = crate::Recorder::new("ToCopyBackward0", &[self])?
        {
            let back = self.device();
            rec.finish(&out, move |_, g| Ok(vec![Some(g.to_device(back)?)]))?;
        }
        Ok(out)
    }

    /// `.cuda()`: to CUDA device 0.
    pub fn cuda(&self) -> Result<Tensor> {
        self.to_device(Device::Cuda(0))
    }

    /// `.cpu()`
    pub fn cpu(&self) -> Result<Tensor> {
        self.to_device(Device::Cpu)
    }

    /// The elements row-major in a fresh host buffer, from either device.
    fn host_storage(&self) -> Result<CpuStorage> {
        let d = self.data_ref();
        let s = d.storage.read().unwrap();
        match &*s {
            Storage::Cpu(_) => {
                drop(s);
                self.contiguous_storage()
            }
            Storage::Cuda(c) => crate::cuda_backend::download(c, &d.layout),
        }
    }

    // ------------------------------------------------------------------ plain accessors

    pub(crate) fn data_ref(&self) -> DataRef {
        self.0.data.read().unwrap().clone()
    }
    pub fn layout(&self) -> Layout {
        self.0.data.read().unwrap().layout.clone()
    }
    pub fn shape(&self) -> Vec<usize> {
        self.0.data.read().unwrap().layout.shape.clone()
    }
    pub fn strides(&self) -> Vec<isize> {
        self.0.data.read().unwrap().layout.strides.clone()
    }
    pub fn ndim(&self) -> usize {
        self.0.data.read().unwrap().layout.shape.len()
    }
    pub fn numel(&self) -> usize {
        self.0.data.read().unwrap().layout.numel()
    }
    #[inline]
    pub fn dtype(&self) -> DType {
        self.0.dtype
    }
    #[inline]
    pub fn device(&self) -> Device {
        self.0.device
    }
    pub fn is_contiguous(&self) -> bool {
        self.0.data.read().unwrap().layout.is_contiguous()
    }
    /// `._version`
    pub fn version(&self) -> u64 {
        self.0.version.get()
    }
    pub(crate) fn bump_version(&self) {
        self.0.version.bump()
    }
    /// Python's `is`.
    pub fn same(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
    /// Whether two tensors share one storage buffer.
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.data_ref().storage, &other.data_ref().storage)
    }
    /// Whether two tensors share one version counter.
    pub fn shares_version_counter(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0.version, &other.0.version)
    }

    /// Runs `f` on the typed storage slice and the layout (`Err` for device or dtype mismatch).
    pub fn with_slice<T: StorageElem, R>(&self, f: impl FnOnce(&[T], &Layout) -> R) -> Result<R> {
        let d = self.0.data.read().unwrap();
        let s = d.storage.read().unwrap();
        let cpu = s.cpu().ok_or(Error::DeviceUnsupported {
            op: "host access",
            device: s.device(),
        })?;
        let slice = T::slice(cpu).ok_or_else(|| {
            Error::DtypeMismatch(format!(
                "expected scalar type {} but found {}",
                T::DTYPE.scalar_type_name(),
                d.dtype.scalar_type_name()
            ))
        })?;
        Ok(f(slice, &d.layout))
    }

    /// The elements in row-major order as `T` (which must be the tensor's dtype).
    pub fn contiguous_vec<T: StorageElem>(&self) -> Result<Vec<T>> {
        self.with_slice(|s: &[T], l| {
            // An empty view may sit at an offset past the end of its storage.
            if l.numel() == 0 {
                Vec::new()
            } else if l.is_contiguous() {
                s[l.offset..l.offset + l.numel()].to_vec()
            } else {
                l.indices().map(|i| s[i]).collect()
            }
        })
    }

    /// The elements in row-major order as a fresh contiguous host buffer of the tensor's
    /// dtype (copied back from a device: every caller writes it into a tensor again).
    pub fn contiguous_storage(&self) -> Result<CpuStorage> {
        if self.device().is_cuda() {
            return self.host_storage();
        }
        Ok(match self.dtype() {
            DType::F32 => CpuStorage::F32(self.contiguous_vec()?),
            DType::F64 => CpuStorage::F64(self.contiguous_vec()?),
            DType::I64 => CpuStorage::I64(self.contiguous_vec()?),
            DType::I32 => CpuStorage::I32(self.contiguous_vec()?),
            DType::I16 => CpuStorage::I16(self.contiguous_vec()?),
            DType::I8 => CpuStorage::I8(self.contiguous_vec()?),
            DType::Bool => CpuStorage::Bool(self.contiguous_vec()?),
        })
    }

    /// All elements as f64, row-major (integers and bools exactly). Empty for device tensors.
    pub fn to_vec_f64(&self) -> Vec<f64> {
        let d = self.0.data.read().unwrap();
        let s = d.storage.read().unwrap();
        match s.cpu() {
            Some(cpu) => d.layout.indices().map(|i| cpu.get_f64(i)).collect(),
            None => Vec::new(),
        }
    }

    /// `to_vec` in the tensor's own element type.
    pub fn to_vec<T: StorageElem>(&self) -> Result<Vec<T>> {
        self.contiguous_vec()
    }

    /// `item()`: exactly one element.
    pub fn item(&self) -> Result<Scalar> {
        let n = self.numel();
        if n != 1 {
            return Err(Error::ItemNumel(n));
        }
        if self.device().is_cuda() {
            // item() copies the element back to the host, as libtorch does.
            return Ok(scalar_of(self.dtype(), self.host_storage()?.get_f64(0)));
        }
        Ok(scalar_of(self.dtype(), self.to_vec_f64()[0]))
    }

    /// `tolist()`
    pub fn to_list(&self) -> NestedList {
        fn build(vals: &[f64], shape: &[usize], dtype: DType) -> NestedList {
            if shape.is_empty() {
                return NestedList::Scalar(scalar_of(dtype, vals[0]));
            }
            let inner: usize = shape[1..].iter().product();
            NestedList::List(
                (0..shape[0])
                    .map(|i| build(&vals[i * inner..(i + 1) * inner], &shape[1..], dtype))
                    .collect(),
            )
        }
        if self.device().is_cuda() {
            // Copied back first, as `tolist()` does; a failed copy gives an empty list rather
            // than indexing values that are not there.
            return match self.host_storage() {
                Ok(h) => {
                    let vals: Vec<f64> = (0..h.len()).map(|i| h.get_f64(i)).collect();
                    build(&vals, &self.shape(), self.dtype())
                }
                Err(_) => NestedList::List(Vec::new()),
            };
        }
        build(&self.to_vec_f64(), &self.shape(), self.dtype())
    }

    /// Like `numpy()`: refuses tensors that require grad.
    pub fn to_ndarray<T: StorageElem>(&self) -> Result<ndarray::ArrayD<T>> {
        // Checked before requires_grad, in numpy()'s order.
        if self.device().is_cuda() {
            return Err(Error::Cuda(format!(
                "can't convert {} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.",
                self.device()
            )));
        }
        if self.requires_grad() {
            return Err(Error::NumpyRequiresGrad(
                "Can't call to_ndarray() on Tensor that requires grad. Use tensor.detach().to_ndarray() instead.".into(),
            ));
        }
        let v = self.contiguous_vec::<T>()?;
        Ok(
            ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&self.shape()), v)
                .expect("shape matches numel"),
        )
    }

    /// A new leaf tensor with a copy of the array's elements.
    pub fn from_ndarray<T: StorageElem>(a: &ndarray::ArrayD<T>) -> Result<Tensor> {
        let shape = a.shape().to_vec();
        Tensor::from_vec(a.iter().copied().collect(), &shape)
    }

    // ------------------------------------------------------------------ autograd metadata

    /// Whether the tensor requires grad: its own flag, a `grad_fn`, or (for a view) its base's.
    pub fn requires_grad(&self) -> bool {
        let m = self.0.meta.lock().unwrap();
        if m.requires_grad || m.grad_fn.is_some() {
            return true;
        }
        match &m.view {
            Some(v) => v.base.requires_grad(),
            None => false,
        }
    }

    /// The stored node of a view, as libtorch's no_grad-view messages name it.
    pub(crate) fn no_grad_view_node(&self) -> Option<(usize, String)> {
        let m = self.0.meta.lock().unwrap();
        m.grad_fn
            .as_ref()
            .map(|n| (m.output_nr, crate::autograd::message_name(n.name)))
    }

    /// `grad_fn`, regenerating a view's node when its storage was written since (libtorch's
    /// `VariableHooks::grad_fn`).
    pub fn grad_fn(&self) -> Result<Option<Arc<Node>>> {
        let mut m = self.0.meta.lock().unwrap();
        let Some(view) = m.view.clone() else {
            return Ok(m.grad_fn.clone());
        };
        if m.grad_fn.is_none() && !view.base.requires_grad() {
            return Ok(None);
        }
        let current = self.version();
        if m.attr_version != current {
            if view.creation_meta == CreationMeta::MultiOutputNode {
                let view_of = m
                    .grad_fn
                    .as_ref()
                    .map(|n| (m.output_nr, crate::autograd::message_name(n.name)));
                return Err(Error::MultiOutputViewInplace {
                    view_of,
                    indirect: true,
                });
            }
            if view.creation_meta != CreationMeta::Default {
                let view_of = m
                    .grad_fn
                    .as_ref()
                    .map(|n| (m.output_nr, crate::autograd::message_name(n.name)));
                return Err(Error::NoGradViewBaseModified { view_of });
            }
            let base_edge = view.base.gradient_edge()?;
            let base_layout = view.base.layout();
            let view_layout = self.layout();
            let meta = InputMeta {
                shape: view_layout.shape.clone(),
                dtype: self.dtype(),
            };
            let node = crate::autograd::Recorder::with_edges("AsStridedBackward0", vec![base_edge])
                .into_node(meta, move |_, g| {
                    Ok(vec![Some(scatter_into_base(
                        &g,
                        &base_layout,
                        &view_layout,
                    )?)])
                });
            if let Some(old) = &m.grad_fn
                && m.retains_grad
            {
                old.remove_retains(self);
                node.add_retains(self);
            }
            m.grad_fn = Some(node);
            m.output_nr = 0;
            m.attr_version = current;
        }
        Ok(m.grad_fn.clone())
    }

    /// `grad_fn` without view regeneration (never fails); for display and graph walks.
    pub fn grad_fn_unchecked(&self) -> Option<Arc<Node>> {
        self.grad_fn()
            .unwrap_or_else(|_| self.0.meta.lock().unwrap().grad_fn.clone())
    }

    /// The node's name, as libtorch prints it (`MulBackward0`), or `None` for leaves.
    pub fn grad_fn_name(&self) -> Result<Option<&'static str>> {
        Ok(self.grad_fn()?.map(|n| n.name()))
    }

    /// C++ `is_leaf()`: the stored `grad_fn` only, without regenerating a stale view's node
    /// (libtorch's `VariableHooks::is_leaf`; Python's `.is_leaf` property regenerates first).
    pub fn is_leaf(&self) -> bool {
        self.0.meta.lock().unwrap().grad_fn.is_none()
    }

    pub fn output_nr(&self) -> usize {
        self.0.meta.lock().unwrap().output_nr
    }

    pub fn retains_grad(&self) -> bool {
        self.0.meta.lock().unwrap().retains_grad
    }

    /// Whether this tensor is a view (shares its base's storage through a view op).
    pub fn is_view(&self) -> bool {
        self.0.meta.lock().unwrap().view.is_some()
    }

    /// `._base`
    pub fn base(&self) -> Option<Tensor> {
        self.0
            .meta
            .lock()
            .unwrap()
            .view
            .as_ref()
            .map(|v| v.base.clone())
    }

    pub(crate) fn view_info(&self) -> Option<ViewInfo> {
        self.0.meta.lock().unwrap().view.clone()
    }

    pub(crate) fn set_grad_fn(&self, node: Option<Arc<Node>>, output_nr: usize) {
        let mut m = self.0.meta.lock().unwrap();
        if m.retains_grad {
            if let Some(old) = &m.grad_fn {
                old.remove_retains(self);
            }
            if let Some(n) = &node {
                n.add_retains(self);
            }
        }
        m.grad_fn = node;
        m.output_nr = output_nr;
        if m.view.is_some() {
            m.attr_version = self.0.version.get();
        }
    }

    /// The edge a consumer of this tensor points to: its `grad_fn`, or the accumulator of a leaf
    /// that requires grad, or `None`.
    pub(crate) fn gradient_edge(&self) -> Result<Option<Edge>> {
        {
            // Fast path for non-views: one lock.
            let m = self.0.meta.lock().unwrap();
            if m.view.is_none() {
                if let Some(node) = &m.grad_fn {
                    return Ok(Some(Edge {
                        node: node.clone(),
                        input_nr: m.output_nr,
                    }));
                }
                if !m.requires_grad {
                    return Ok(None);
                }
            }
        }
        if let Some(node) = self.grad_fn()? {
            return Ok(Some(Edge {
                node,
                input_nr: self.output_nr(),
            }));
        }
        let mut m = self.0.meta.lock().unwrap();
        // libtorch's grad_accumulator() looks at the tensor's own flag, not at a view's base:
        // a view made under no_grad of a leaf that requires grad has no edge at all.
        if !m.requires_grad {
            return Ok(None);
        }
        if let Some(acc) = m.grad_accumulator.upgrade() {
            return Ok(Some(Edge {
                node: acc,
                input_nr: 0,
            }));
        }
        drop(m);
        let meta = InputMeta {
            shape: self.shape(),
            dtype: self.dtype(),
        };
        let acc = Node::new(
            "AccumulateGrad",
            Vec::new(),
            meta,
            Vec::new(),
            NodeKind::AccumulateGrad(self.clone()),
        );
        m = self.0.meta.lock().unwrap();
        m.grad_accumulator = Arc::downgrade(&acc);
        Ok(Some(Edge {
            node: acc,
            input_nr: 0,
        }))
    }

    /// `.grad`: reading it on a non-leaf that does not retain grad returns `None` and records
    /// libtorch's warning (see [`crate::take_warnings`]).
    pub fn grad(&self) -> Option<Tensor> {
        let is_leaf = self.is_leaf();
        let m = self.0.meta.lock().unwrap();
        if !is_leaf && !m.retains_grad && m.grad.is_none() {
            crate::warnings::warn(crate::warnings::NON_LEAF_GRAD);
        }
        m.grad.clone()
    }

    /// `.grad` without the warning (for observers).
    pub fn grad_quiet(&self) -> Option<Tensor> {
        self.0.meta.lock().unwrap().grad.clone()
    }

    /// `x.grad = g` / `x.grad = None`, with libtorch's size and dtype checks.
    pub fn set_grad(&self, grad: Option<Tensor>) -> Result<()> {
        if let Some(g) = &grad {
            if g.shape() != self.shape() {
                return Err(Error::GradAssignShape {
                    got: Shape(g.shape()),
                    expected: Shape(self.shape()),
                });
            }
            if g.dtype() != self.dtype() {
                return Err(Error::GradAssignDtype {
                    got: g.dtype().c_name(),
                    expected: self.dtype().scalar_type_name(),
                });
            }
        }
        self.0.meta.lock().unwrap().grad = grad;
        Ok(())
    }

    /// `retain_grad()`: a no-op on leaves; fails on tensors that do not require grad.
    pub fn retain_grad(&self) -> Result<()> {
        if !self.requires_grad() {
            return Err(Error::RetainGradNoGrad);
        }
        if self.is_leaf() {
            return Ok(());
        }
        let node = self.grad_fn()?;
        let mut m = self.0.meta.lock().unwrap();
        if m.retains_grad {
            return Ok(());
        }
        m.retains_grad = true;
        if let Some(n) = node {
            n.add_retains(self);
        }
        Ok(())
    }

    /// C++ `requires_grad_(flag)`: sets the flag on leaves; on a non-leaf, turning it on is a
    /// no-op and turning it off fails.
    pub fn requires_grad_(&self, flag: bool) -> Result<&Self> {
        // The dtype is checked first, even on a non-leaf (an integer tensor that got history
        // from `fill_(tensor)`).
        if flag && !self.dtype().is_float() {
            return Err(Error::RequiresGradDtype);
        }
        if !self.is_leaf() {
            if flag {
                return Ok(self);
            }
            return Err(Error::NonLeafRequiresGradOff);
        }
        if flag && !self.dtype().is_float() {
            return Err(Error::RequiresGradDtype);
        }
        self.0.meta.lock().unwrap().requires_grad = flag;
        Ok(self)
    }

    /// Python's `x.requires_grad = flag`: any change on a non-leaf fails.
    pub fn set_requires_grad(&self, flag: bool) -> Result<()> {
        if !self.is_leaf() {
            return Err(if flag {
                Error::NonLeafRequiresGrad
            } else {
                Error::NonLeafRequiresGradOff
            });
        }
        self.requires_grad_(flag).map(|_| ())
    }

    /// `detach()`: shares storage and the version counter; no autograd history.
    pub fn detach(&self) -> Tensor {
        let d = self.data_ref();
        Tensor(Arc::new(TensorImpl {
            dtype: self.0.dtype,
            device: self.0.device,
            data: RwLock::new(d),
            version: self.0.version.clone(),
            meta: Mutex::new(AutogradMeta::default()),
        }))
    }

    /// `detach_()`: fails on views.
    pub fn detach_(&self) -> Result<&Self> {
        if self.is_view() {
            return Err(Error::DetachViewInplace);
        }
        let mut m = self.0.meta.lock().unwrap();
        // libtorch leaves retains_grad set and its hook on the old node: detach_ drops the
        // history, not the hook, so a later backward through that node still fills `.grad`.
        m.grad_fn = None;
        m.output_nr = 0;
        m.requires_grad = false;
        Ok(self)
    }

    /// `.data`: shares storage, gets a fresh version counter, never requires grad.
    pub fn data(&self) -> Tensor {
        let d = self.data_ref();
        Tensor(Arc::new(TensorImpl {
            dtype: self.0.dtype,
            device: self.0.device,
            data: RwLock::new(d),
            version: Arc::new(VersionCounter::default()),
            meta: Mutex::new(AutogradMeta::default()),
        }))
    }

    /// `x.data = y`: `x` now reads `y`'s storage and layout and keeps its own autograd
    /// metadata and version counter (libtorch's `set_data`).
    pub fn set_data(&self, new: &Tensor) -> Result<()> {
        if new.dtype() != self.dtype() || new.device() != self.device() {
            return Err(Error::DtypeMismatch(
                "Attempted to call `variable.set_data(tensor)`, but `variable` and `tensor` have incompatible tensor type.".into(),
            ));
        }
        let d = new.data_ref();
        *self.0.data.write().unwrap() = d;
        Ok(())
    }

    /// The alias a node saves: same storage and version counter, no autograd metadata.
    pub(crate) fn alias_for_save(&self) -> Tensor {
        self.detach()
    }

    /// A view of `self` with `layout` (same storage and version counter), recorded as a view
    /// in libtorch's sense; the caller records its backward node.
    pub(crate) fn make_view(&self, layout: Layout) -> Tensor {
        let d = self.data_ref();
        let (base, creation_meta) = match self.view_info() {
            Some(v) => (
                v.base,
                if crate::is_grad_enabled() {
                    v.creation_meta
                } else {
                    CreationMeta::NoGradMode
                },
            ),
            None => (
                self.clone(),
                if crate::is_grad_enabled() {
                    CreationMeta::Default
                } else {
                    CreationMeta::NoGradMode
                },
            ),
        };
        Tensor(Arc::new(TensorImpl {
            dtype: self.0.dtype,
            device: self.0.device,
            data: RwLock::new(DataRef {
                storage: d.storage,
                layout,
                dtype: d.dtype,
            }),
            version: self.0.version.clone(),
            meta: Mutex::new(AutogradMeta {
                view: Some(ViewInfo {
                    base,
                    creation_meta,
                }),
                attr_version: self.0.version.get(),
                ..AutogradMeta::default()
            }),
        }))
    }

    /// Writes row-major `values` (already of this tensor's dtype and numel) into the tensor's
    /// elements, through its layout.
    pub(crate) fn write_values(&self, values: &CpuStorage) -> Result<()> {
        let d = self.0.data.read().unwrap();
        let mut s = d.storage.write().unwrap();
        s.write_host(&d.layout, values)
    }

    /// Writes `src`'s elements (this tensor's shape and dtype, any device) into the tensor's
    /// elements, through both layouts.
    pub(crate) fn write_from(&self, src: &Tensor) -> Result<()> {
        let s = src.data_ref();
        let d = self.0.data.read().unwrap();
        if Arc::ptr_eq(&s.storage, &d.storage) {
            // A source over the same buffer is copied out first: the write locks the buffer.
            let rows = Layout::contiguous(&s.layout.shape);
            let packed = s.storage.read().unwrap().copy(&s.layout, &rows.strides)?;
            return d.storage.write().unwrap().write(&d.layout, &packed, &rows);
        }
        let src_storage = s.storage.read().unwrap();
        d.storage
            .write()
            .unwrap()
            .write(&d.layout, &src_storage, &s.layout)
    }

    /// A fresh tensor over a new buffer `storage`, whose dense layout for `shape` has `strides`.
    pub(crate) fn from_new_storage(
        storage: Storage,
        shape: Vec<usize>,
        strides: Vec<isize>,
    ) -> Self {
        let dtype = storage.dtype();
        Self::from_parts(
            Arc::new(RwLock::new(storage)),
            Layout {
                shape,
                strides,
                offset: 0,
            },
            dtype,
        )
    }

    /// Runs `f` on the tensor's storage and layout (read-locked).
    pub(crate) fn with_storage<R>(&self, f: impl FnOnce(&Storage, &Layout) -> R) -> R {
        let d = self.0.data.read().unwrap();
        let s = d.storage.read().unwrap();
        f(&s, &d.layout)
    }
}

/// Gradient of a strided view (`AsStridedBackward0`, the node a written view regenerates):
/// `g`, shaped like the view, added into zeros laid out like the base, returned with the
/// base's shape. A host loop: a CUDA gradient is refused by name rather than read as empty.
fn scatter_into_base(g: &Tensor, base: &Layout, view: &Layout) -> Result<Tensor> {
    if g.device().is_cuda() {
        return Err(Error::NotSupportedOnCuda {
            op: "as_strided_backward",
        });
    }
    let span = |l: &Layout| l.indices().max().map_or(0, |m| m + 1);
    let mut buf = vec![0f64; span(base).max(span(view))];
    for (i, v) in view.indices().zip(g.to_vec_f64()) {
        buf[i] += v;
    }
    let vals: Vec<f64> = base.indices().map(|i| buf[i]).collect();
    Tensor::from_f64(&vals, &base.shape, g.dtype())
}

/// `T` accessors for tests and callers that know the dtype.
impl Tensor {
    pub fn to_scalar<T: StorageElem>(&self) -> Result<T> {
        let n = self.numel();
        if n != 1 {
            return Err(Error::ItemNumel(n));
        }
        Ok(T::from_f64(self.item()?.as_f64()))
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Tensor>();
    is::<Node>();
    let _ = <f32 as Elem>::zero;
}
