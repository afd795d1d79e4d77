// The part of libtorch's autograd surface that tch 0.26 does not bind, as a C API for
// `shim.rs`, plus the few Python-layer behaviours (torch/csrc/autograd/python_*.cpp) that live in
// libtorch_python and so are absent from the C++ library: the `.grad` and `.requires_grad`
// setters' checks, wrapped-number scalars, and Python's indexing entry points.
//
// Conventions: tensors cross as `at::Tensor*` (tch's `C_tensor`); a tensor returned through an
// out-parameter is a new heap handle that Rust owns and frees with tch's `at_free`. Every entry
// point catches every C++ exception and returns the message without the C++ backtrace as a
// malloc'd string (NULL on success), so no libtorch error can unwind into Rust or abort.

#include <c10/util/Logging.h>
#include <ATen/ScalarOps.h>
#include <ATen/TensorIndexing.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/accumulate_grad.h>
#include <torch/csrc/autograd/generated/variable_factories.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/headeronly/version.h>
#include <ATen/ATen.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

char* dup(const char* s) {
  size_t n = std::strlen(s);
  char* out = static_cast<char*>(std::malloc(n + 1));
  if (out != nullptr) {
    std::memcpy(out, s, n + 1);
  }
  return out;
}

char* dup(const std::string& s) { return dup(s.c_str()); }

// Collects warnings for the thread it is installed on; c10 keeps the handler pointer
// thread-local, so each backend thread sees only its own warnings.
struct Collector : c10::WarningHandler {
  std::vector<std::string> messages;
  void process(const c10::Warning& warning) override {
    messages.push_back(warning.msg());
  }
};

thread_local Collector collector;

void install_collector() {
  if (c10::WarningUtils::get_warning_handler() != &collector) {
    c10::WarningUtils::set_warning_handler(&collector);
  }
}

at::Tensor* boxed(at::Tensor t) { return new at::Tensor(std::move(t)); }

// Node::name() qualifies the nodes written by hand (AccumulateGrad, CopySlices, GraphRoot) with
// their C++ namespace; Python prints type(node).__name__, the bare class name.
std::string node_name(const torch::autograd::Node& node) {
  std::string name = node.name();
  const std::string prefix = "torch::autograd::";
  if (name.rfind(prefix, 0) == 0) {
    name = name.substr(prefix.size());
  }
  return name;
}

// torch/csrc/autograd/utils/error_messages.h, which Python's setters and requires_grad_ use.
std::string requires_grad_leaf_error(bool requires_grad) {
  std::string msg = "you can only change requires_grad flags of leaf variables.";
  if (!requires_grad) {
    msg +=
        " If you want to use a computed variable in a subgraph that doesn't require "
        "differentiation use var_no_grad = var.detach().";
  }
  return msg;
}

bool differentiable(const at::Tensor& t) {
  return at::isFloatingType(t.scalar_type()) || at::isComplexType(t.scalar_type());
}

std::string sizes_string(at::IntArrayRef sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(sizes[i]);
  }
  return s + "]";
}

// Scalar kinds shared with Rust: 0 bool, 1 int, 2 float.
c10::Scalar make_scalar(int kind, double f, int64_t i) {
  switch (kind) {
    case 0:
      return c10::Scalar(i != 0);
    case 1:
      return c10::Scalar(i);
    default:
      return c10::Scalar(f);
  }
}

// Index item kinds shared with Rust: 0 int, 1 slice, 2 None (new axis), 3 Ellipsis.
std::vector<at::indexing::TensorIndex> make_indices(const int32_t* kinds, const int64_t* a,
                                                    const int64_t* b, const int64_t* c,
                                                    const uint8_t* has_a, const uint8_t* has_b,
                                                    size_t n) {
  using namespace at::indexing;
  std::vector<TensorIndex> out;
  out.reserve(n);
  for (size_t k = 0; k < n; ++k) {
    switch (kinds[k]) {
      case 0:
        out.emplace_back(a[k]);
        break;
      case 1: {
        std::optional<c10::SymInt> start, stop;
        if (has_a[k]) start = c10::SymInt(a[k]);
        if (has_b[k]) stop = c10::SymInt(b[k]);
        out.emplace_back(Slice(start, stop, c10::SymInt(c[k])));
        break;
      }
      case 2:
        out.emplace_back(None);
        break;
      default:
        out.emplace_back(Ellipsis);
        break;
    }
  }
  return out;
}

}  // namespace

#define SHIM_TRY(...)                                    \
  install_collector();                                   \
  try {                                                  \
    __VA_ARGS__                                          \
  } catch (const c10::Error& e) {                        \
    return dup(e.what_without_backtrace());              \
  } catch (const std::exception& e) {                    \
    return dup(e.what());                                \
  } catch (...) {                                        \
    return dup("unknown C++ exception in autograd shim"); \
  }                                                      \
  return nullptr;

extern "C" {

typedef void (*shim_str_sink)(void* ctx, const char* s);
typedef void (*shim_node_sink)(void* ctx, const char* name, const int64_t* leaf_shape,
                               int64_t leaf_ndim);
typedef void (*shim_edge_sink)(void* ctx, size_t from, size_t to);

void shim_free(char* s) { std::free(s); }

void shim_install_warning_handler() {
  install_collector();
  // Errors are classified from their text without the backtrace, yet tch's error path calls
  // what(), which symbolises the captured frames (dladdr over libtorch's symbols, about a
  // millisecond per error: most of a fuzz campaign's time). Capture no frames at all.
  static const bool no_backtraces = [] {
    c10::SetStackTraceFetcher([]() -> std::string { return std::string(); });
    return true;
  }();
  (void)no_backtraces;
}

// TORCH_WARN_ONCE warns once per process, which would make a warning depend on which case ran
// first; with warn-always on, the Rust side keeps "once" per backend instance instead.
void shim_set_warn_always(int on) { c10::WarningUtils::set_warnAlways(on != 0); }

void shim_take_warnings(shim_str_sink sink, void* ctx) {
  install_collector();
  for (const auto& m : collector.messages) {
    sink(ctx, m.c_str());
  }
  collector.messages.clear();
}

const void* shim_impl_ptr(const at::Tensor* t) {
  return t->defined() ? static_cast<const void*>(t->unsafeGetTensorImpl()) : nullptr;
}

int shim_defined(const at::Tensor* t) { return t->defined() ? 1 : 0; }

char* shim_grad_fn_name(const at::Tensor* t, shim_str_sink sink, void* ctx) {
  SHIM_TRY({
    const auto& fn = t->grad_fn();
    if (fn) {
      sink(ctx, node_name(*fn).c_str());
    }
  })
}

char* shim_graph(const at::Tensor* t, shim_node_sink node_sink, shim_edge_sink edge_sink,
                 void* ctx) {
  SHIM_TRY({
    const auto& root = t->grad_fn();
    if (!root) return nullptr;
    std::unordered_map<const torch::autograd::Node*, size_t> ids;
    std::vector<torch::autograd::Node*> order;
    auto visit = [&](torch::autograd::Node* n) -> size_t {
      auto it = ids.find(n);
      if (it != ids.end()) return it->second;
      size_t id = order.size();
      ids.emplace(n, id);
      order.push_back(n);
      std::vector<int64_t> shape;
      int64_t ndim = -1;
      if (auto* acc = dynamic_cast<torch::autograd::AccumulateGrad*>(n)) {
        if (acc->variable.defined()) {
          auto s = acc->variable.sizes();
          shape.assign(s.begin(), s.end());
          ndim = static_cast<int64_t>(shape.size());
        }
      }
      node_sink(ctx, node_name(*n).c_str(), shape.data(), ndim);
      return id;
    };
    visit(root.get());
    for (size_t k = 0; k < order.size(); ++k) {
      for (const auto& edge : order[k]->next_edges()) {
        if (!edge.function) continue;
        size_t to = visit(edge.function.get());
        edge_sink(ctx, k, to);
      }
    }
  })
}

// `torch.autograd.backward([root], [grad], retain_graph, create_graph)` after Python's
// `_make_grads`, which the Rust side has already applied (its messages are Python's).
char* shim_backward(const at::Tensor* root, const at::Tensor* grad, int retain_graph,
                    int create_graph) {
  SHIM_TRY({
    torch::autograd::variable_list grads;
    if (grad != nullptr) grads.push_back(*grad);
    torch::autograd::backward({*root}, grads, std::optional<bool>(retain_graph != 0),
                              create_graph != 0);
  })
}

char* shim_retain_grad(const at::Tensor* t) { SHIM_TRY({ t->retain_grad(); }) }

char* shim_flags(const at::Tensor* t, int* requires_grad, int* is_leaf, int* retains_grad,
                 int* is_view, int64_t* version) {
  SHIM_TRY({
    *requires_grad = t->requires_grad() ? 1 : 0;
    *is_leaf = t->is_leaf() ? 1 : 0;
    *retains_grad = t->retains_grad() ? 1 : 0;
    *is_view = t->is_view() ? 1 : 0;
    *version = static_cast<int64_t>(t->_version());
  })
}

// THPVariable_requires_grad_ (python_variable_methods.cpp).
char* shim_requires_grad_(const at::Tensor* t, int flag) {
  SHIM_TRY({
    bool requires_grad = flag != 0;
    if (!t->is_leaf() && !requires_grad) {
      throw std::runtime_error(requires_grad_leaf_error(requires_grad));
    }
    if (requires_grad && !differentiable(*t)) {
      throw std::runtime_error("only Tensors of floating point dtype can require gradients");
    }
    t->set_requires_grad(requires_grad);
  })
}

// THPVariable_set_requires_grad (python_variable.cpp): the `x.requires_grad = flag` setter.
char* shim_set_requires_grad(const at::Tensor* t, int flag) {
  SHIM_TRY({
    bool requires_grad = flag != 0;
    if (!t->is_leaf()) {
      throw std::runtime_error(requires_grad_leaf_error(requires_grad));
    }
    if (requires_grad && !differentiable(*t)) {
      throw std::runtime_error(
          "only Tensors of floating point and complex dtype can require gradients");
    }
    t->set_requires_grad(requires_grad);
  })
}

char* shim_detach_(at::Tensor* t) { SHIM_TRY({ t->detach_(); }) }

// `.data`: same storage, a fresh version counter, no autograd history.
char* shim_variable_data(const at::Tensor* t, at::Tensor** out) {
  SHIM_TRY({ *out = boxed(t->variable_data()); })
}

char* shim_set_data(const at::Tensor* t, const at::Tensor* data) {
  SHIM_TRY({ t->set_data(*data); })
}

// `.grad` read. With `warn`, through TensorBase::grad(), which raises the non-leaf warning as
// Python's getter does; without, straight from the AutogradMeta. `*out` is NULL for None.
char* shim_grad(const at::Tensor* t, int warn, at::Tensor** out) {
  SHIM_TRY({
    at::Tensor g = warn ? t->grad() : t->mutable_grad();
    *out = g.defined() ? boxed(g) : nullptr;
  })
}

// THPVariable_set_grad (python_variable.cpp, torch 2.13): the `x.grad = g` setter's checks, in
// its order, with its messages. `grad` NULL means `x.grad = None`.
char* shim_set_grad(const at::Tensor* t, const at::Tensor* grad) {
  SHIM_TRY({
    if (grad == nullptr || !grad->defined()) {
      t->mutable_grad().reset();
      return nullptr;
    }
    if (grad->unsafeGetTensorImpl() == t->unsafeGetTensorImpl()) {
      throw std::runtime_error("can't assign Variable as its own grad");
    }
    if (grad->dtype() != t->dtype()) {
      throw std::runtime_error(
          std::string("attempting to assign a gradient with dtype '") + std::string(grad->dtype().name()) +
          "' to a tensor with grad_dtype '" + c10::toString(t->scalar_type()) +
          "'. The gradient must match the tensor's grad_dtype (defaults to the tensor's dtype). "
          "You can set the tensor's grad_dtype attribute with a specific dtype, or None to "
          "allow any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and "
          "its gradient may break downstream systems that assume they match.");
    }
    if (grad->sizes() != t->sizes()) {
      throw std::runtime_error("attempting to assign a gradient of size '" +
                               sizes_string(grad->sizes()) + "' to a tensor of size '" +
                               sizes_string(t->sizes()) +
                               "'. Please ensure that the gradient and the tensor are the same "
                               "size");
    }
    t->mutable_grad() = *grad;
  })
}

// What CPython's argument parser makes of a Python number passed for a Tensor parameter
// (`x * 2`): a 0-dim tensor flagged as a wrapped number, which type promotion ranks below any
// real tensor, and which the Tensor overloads (MulBackward0, ...) then save like any tensor.
char* shim_wrapped_scalar(int kind, double f, int64_t i, at::Tensor** out) {
  SHIM_TRY({
    at::Tensor t = c10::scalar_to_tensor(make_scalar(kind, f, i));
    t.unsafeGetTensorImpl()->set_wrapped_number(true);
    *out = boxed(std::move(t));
  })
}

// `x[items]`: THPVariable_getitem, which at::indexing::get_item mirrors.
char* shim_get_item(const at::Tensor* t, const int32_t* kinds, const int64_t* a, const int64_t* b,
                    const int64_t* c, const uint8_t* has_a, const uint8_t* has_b, size_t n,
                    at::Tensor** out) {
  SHIM_TRY({
    auto idx = make_indices(kinds, a, b, c, has_a, has_b, n);
    *out = boxed(at::indexing::get_item(*t, idx));
  })
}

// `x[items] = value`: THPVariable_setitem. A Python number becomes a tensor of x's dtype
// (valueToTensor), then at::indexing::set_item copies or fills it into the view.
char* shim_set_item(const at::Tensor* t, const int32_t* kinds, const int64_t* a, const int64_t* b,
                    const int64_t* c, const uint8_t* has_a, const uint8_t* has_b, size_t n,
                    const at::Tensor* value, int scalar_kind, double f, int64_t i) {
  SHIM_TRY({
    auto idx = make_indices(kinds, a, b, c, has_a, has_b, n);
    at::Tensor v = value != nullptr
                       ? *value
                       : at::indexing::scalarToTensor(make_scalar(scalar_kind, f, i),
                                                      t->options(), t->device());
    at::indexing::set_item(*t, idx, v);
  })
}

// `x.item()`: *kind is 0 bool, 1 int, 2 float, following x's dtype as Python's item() does.
char* shim_item(const at::Tensor* t, int* kind, double* f, int64_t* i) {
  SHIM_TRY({
    c10::Scalar s = t->item();
    if (t->scalar_type() == at::kBool) {
      *kind = 0;
      *i = s.toBool() ? 1 : 0;
    } else if (at::isIntegralType(t->scalar_type(), /*includeBool=*/false)) {
      *kind = 1;
      *i = s.toLong();
    } else {
      *kind = 2;
      *f = s.toDouble();
    }
  })
}

int shim_set_grad_enabled(int enabled) {
  bool prev = at::GradMode::is_enabled();
  at::GradMode::set_enabled(enabled != 0);
  return prev ? 1 : 0;
}

int shim_is_grad_enabled() { return at::GradMode::is_enabled() ? 1 : 0; }

// One step of torch.optim.SGD as Python 2.13 runs it on CPU (`_single_tensor_sgd`), under
// no_grad. torch::optim::SGD is not used: it updates `p.data()`, whose fresh version counter
// leaves `p._version` unchanged, where Python's `param.add_` bumps it. `bufs[k]` are handles
// owned by Rust, undefined until the first step makes the momentum buffer.
char* shim_sgd_step(at::Tensor** params, at::Tensor** bufs, size_t n, double lr, double momentum,
                    double dampening, double weight_decay, int nesterov) {
  SHIM_TRY({
    at::NoGradGuard no_grad;
    for (size_t k = 0; k < n; ++k) {
      at::Tensor& p = *params[k];
      at::Tensor grad = p.mutable_grad();
      if (!grad.defined()) continue;
      if (weight_decay != 0) {
        grad = grad.add(p, weight_decay);
      }
      if (momentum != 0) {
        at::Tensor& buf = *bufs[k];
        if (!buf.defined()) {
          buf = grad.clone().detach();
        } else {
          buf.mul_(momentum).add_(grad, 1 - dampening);
        }
        if (nesterov) {
          grad = grad.add(buf, momentum);
        } else {
          grad = buf;
        }
      }
      p.add_(grad, -lr);
    }
  })
}


// `torch.tensor(data)`: a fresh contiguous leaf (never a view of a temporary), version 0.
// dtype codes shared with Rust: 0 bool, 1 int64, 2 float32, 3 float64, 4 int8, 5 int16,
// 6 int32.
char* shim_from_data(const double* values, const int64_t* shape, size_t ndim, int dtype,
                     at::Tensor** out) {
  SHIM_TRY({
    static const at::ScalarType types[] = {at::kBool, at::kLong, at::kFloat, at::kDouble,
                                           at::kChar, at::kShort, at::kInt};
    if (dtype < 0 || dtype > 6) throw std::invalid_argument("unknown dtype code");
    std::vector<int64_t> sizes(shape, shape + ndim);
    at::NoGradGuard no_grad;
    at::Tensor src = at::from_blob(const_cast<double*>(values), sizes, at::kDouble);
    *out = boxed(src.to(types[dtype], /*non_blocking=*/false, /*copy=*/true));
  })
}

// `x.clone()` (tch binds only clone.out).
char* shim_clone(const at::Tensor* t, at::Tensor** out) { SHIM_TRY({ *out = boxed(t->clone()); }) }

// `x.clamp(min, max)` / `x.clamp_(min, max)` with optional Python numbers: the
// clamp(Tensor, Scalar?, Scalar?) overload (ClampBackward1), which tch binds only with both set.
char* shim_clamp(const at::Tensor* t, int has_min, int min_kind, double min_f, int64_t min_i,
                 int has_max, int max_kind, double max_f, int64_t max_i, int inplace,
                 at::Tensor** out) {
  SHIM_TRY({
    std::optional<c10::Scalar> lo, hi;
    if (has_min) lo = make_scalar(min_kind, min_f, min_i);
    if (has_max) hi = make_scalar(max_kind, max_f, max_i);
    if (inplace) {
      at::Tensor self = *t;
      self.clamp_(lo, hi);
      *out = nullptr;
    } else {
      *out = boxed(t->clamp(lo, hi));
    }
  })
}

// `x.clamp_min(v)` / `x.clamp_max(v)` and their in-place forms with a Python number: the
// Scalar overloads (ClampMinBackward0, ClampMaxBackward0), taken here for tch's Scalar panic.
char* shim_clamp_side(const at::Tensor* t, int is_min, int kind, double f, int64_t i, int inplace,
                      at::Tensor** out) {
  SHIM_TRY({
    c10::Scalar v = make_scalar(kind, f, i);
    at::Tensor self = *t;
    if (inplace) {
      if (is_min) self.clamp_min_(v); else self.clamp_max_(v);
      *out = nullptr;
    } else {
      *out = boxed(is_min ? self.clamp_min(v) : self.clamp_max(v));
    }
  })
}

// The libtorch this was built against, as "2.13.0".
char* shim_torch_version() {
  return dup(std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
             "." + std::to_string(TORCH_VERSION_PATCH));
}


// Factories use torch::, not at::: like Python's bindings, torch:: runs the kernel below the
// ADInplaceOrView key, so the fill_ inside full() does not bump the new tensor's version.
//
// The calls below take Python numbers. They are here, not in tch, because tch 0.26 frees its
// Scalar wrapper with a check that panics on the error the op itself just left behind, so any
// failing tch op with a Scalar argument would panic instead of returning Err.

at::ScalarType scalar_type_code(int dtype) {
  static const at::ScalarType types[] = {at::kBool, at::kLong, at::kFloat, at::kDouble,
                                         at::kChar, at::kShort, at::kInt};
  if (dtype < 0 || dtype > 6) throw std::invalid_argument("unknown dtype code");
  return types[dtype];
}

// torch.full(shape, value, dtype=...), zeros, ones.
char* shim_full(const int64_t* shape, size_t ndim, int kind, double f, int64_t i, int dtype,
                at::Tensor** out) {
  SHIM_TRY({
    std::vector<int64_t> sizes(shape, shape + ndim);
    *out = boxed(torch::full(sizes, make_scalar(kind, f, i), at::TensorOptions().dtype(scalar_type_code(dtype))));
  })
}

// torch.arange(start, end, step, dtype=...).
char* shim_arange(int sk, double sf, int64_t si, int ek, double ef, int64_t ei, int tk, double tf,
                  int64_t ti, int dtype, at::Tensor** out) {
  SHIM_TRY({
    *out = boxed(torch::arange(make_scalar(sk, sf, si), make_scalar(ek, ef, ei),
                            make_scalar(tk, tf, ti),
                            at::TensorOptions().dtype(scalar_type_code(dtype))));
  })
}

// torch.linspace(start, end, steps, dtype=...).
char* shim_linspace(double start, double end, int64_t steps, int dtype, at::Tensor** out) {
  SHIM_TRY({
    *out = boxed(torch::linspace(start, end, steps,
                              at::TensorOptions().dtype(scalar_type_code(dtype))));
  })
}

// x.fill_(number): the fill_.Scalar overload.
char* shim_fill_(const at::Tensor* t, int kind, double f, int64_t i) {
  SHIM_TRY({
    at::Tensor self = *t;
    self.fill_(make_scalar(kind, f, i));
  })
}

// x ** number: pow.Tensor_Scalar (PowBackward0).
char* shim_pow_tensor_scalar(const at::Tensor* t, int kind, double f, int64_t i,
                             at::Tensor** out) {
  SHIM_TRY({ *out = boxed(at::pow(*t, make_scalar(kind, f, i))); })
}

// x.pow_(number), x **= number: pow_.Scalar (PowBackward0).
char* shim_pow_inplace_scalar(const at::Tensor* t, int kind, double f, int64_t i) {
  SHIM_TRY({
    at::Tensor self = *t;
    self.pow_(make_scalar(kind, f, i));
  })
}

// x % number: remainder.Scalar (RemainderBackward0), the overload Python's __mod__ binds a
// number to.
char* shim_remainder_scalar(const at::Tensor* t, int kind, double f, int64_t i,
                            at::Tensor** out) {
  SHIM_TRY({ *out = boxed(at::remainder(*t, make_scalar(kind, f, i))); })
}

// number ** x: pow.Scalar (PowBackward2).
char* shim_pow_scalar(int kind, double f, int64_t i, const at::Tensor* exp, at::Tensor** out) {
  SHIM_TRY({ *out = boxed(at::pow(make_scalar(kind, f, i), *exp)); })
}

// number - x: x.__rsub__(number), rsub.Scalar (RsubBackward1).
char* shim_rsub_scalar(const at::Tensor* t, int kind, double f, int64_t i, at::Tensor** out) {
  SHIM_TRY({ *out = boxed(at::rsub(*t, make_scalar(kind, f, i))); })
}

// torch.where(cond, a, b) where a or b (NULL) may be a number: the where.self,
// where.ScalarSelf, where.ScalarOther and where.Scalar overloads Python's parser picks.
char* shim_where(const at::Tensor* cond, const at::Tensor* a, int ak, double af, int64_t ai,
                 const at::Tensor* b, int bk, double bf, int64_t bi, at::Tensor** out) {
  SHIM_TRY({
    at::Tensor r;
    if (a != nullptr && b != nullptr) {
      r = at::where(*cond, *a, *b);
    } else if (a != nullptr) {
      r = at::where(*cond, *a, make_scalar(bk, bf, bi));
    } else if (b != nullptr) {
      r = at::where(*cond, make_scalar(ak, af, ai), *b);
    } else {
      r = at::where(*cond, make_scalar(ak, af, ai), make_scalar(bk, bf, bi));
    }
    *out = boxed(std::move(r));
  })
}

// ---- index ----
// Python's indexing with tensors among the items. The index arrays are make_indices' with one
// more kind: 4, the tensor tensors[a[k]]. at::indexing's get_item/set_item apply the basic items
// as views and hand the tensors to index/index_put_ as THPVariable_getitem/setitem do, which
// places the advanced dims where Python does for mixed basic and advanced items.
static std::vector<at::indexing::TensorIndex> make_adv_indices(
    const int32_t* kinds, const int64_t* a, const int64_t* b, const int64_t* c,
    const uint8_t* has_a, const uint8_t* has_b, size_t n, const at::Tensor* const* tensors) {
  std::vector<at::indexing::TensorIndex> out;
  out.reserve(n);
  for (size_t k = 0; k < n; ++k) {
    if (kinds[k] == 4) {
      out.emplace_back(*tensors[a[k]]);
    } else {
      auto one = make_indices(kinds + k, a + k, b + k, c + k, has_a + k, has_b + k, 1);
      out.push_back(std::move(one[0]));
    }
  }
  return out;
}

char* shim_get_item_adv(const at::Tensor* t, const int32_t* kinds, const int64_t* a,
                        const int64_t* b, const int64_t* c, const uint8_t* has_a,
                        const uint8_t* has_b, size_t n, const at::Tensor* const* tensors,
                        at::Tensor** out) {
  SHIM_TRY({
    auto idx = make_adv_indices(kinds, a, b, c, has_a, has_b, n, tensors);
    *out = boxed(at::indexing::get_item(*t, idx));
  })
}

// A Python number becomes a tensor of x's dtype (valueToTensor), as in shim_set_item.
char* shim_set_item_adv(const at::Tensor* t, const int32_t* kinds, const int64_t* a,
                        const int64_t* b, const int64_t* c, const uint8_t* has_a,
                        const uint8_t* has_b, size_t n, const at::Tensor* const* tensors,
                        const at::Tensor* value, int scalar_kind, double f, int64_t i) {
  SHIM_TRY({
    auto idx = make_adv_indices(kinds, a, b, c, has_a, has_b, n, tensors);
    at::Tensor v = value != nullptr
                       ? *value
                       : at::indexing::scalarToTensor(make_scalar(scalar_kind, f, i),
                                                      t->options(), t->device());
    at::indexing::set_item(*t, idx, v);
  })
}

}  // extern "C"
