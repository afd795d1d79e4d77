// Shared by every kernel module: prepended to each .cu source before NVRTC compiles it,
// because NVRTC has no include path of its own here.
//
// Layout convention: a strided operand is described by `ndim`, a shape and element strides
// (signed, 0 for broadcast dimensions) plus an element offset, exactly as the engine's
// `Layout` holds them. `info` packs [shape(ndim), strides_a(ndim), strides_b(ndim), ...].
typedef unsigned long long u64;
typedef long long i64;
typedef unsigned char u8;

// Element offset of row-major linear index `i` under (shape, strides).
__device__ __forceinline__ i64 strided_offset(u64 i, int ndim, const i64 *shape, const i64 *strides) {
    i64 off = 0;
    for (int d = ndim - 1; d >= 0; --d) {
        i64 s = shape[d];
        off += (i64)(i % (u64)s) * strides[d];
        i /= (u64)s;
    }
    return off;
}

#define GRID_STRIDE_LOOP(i, n) \
    for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (u64)blockDim.x * gridDim.x)

// The elementwise kernels of the op table (`engine/src/ops/table.rs`). Each row's module is a
// few lines of these macros around the row's expressions, which read the operands by the names
// the row gives them (`x`; `a`, `b`; `g`, `s`) and may name their type as `T`. One expression
// serves float and double: CUDA's math functions are overloaded on both, so keep literals
// integers or `(T)` casts and the float kernel stays in float.
//
// UNARY: NAME_SUFFIX(n, ndim, info, inp, off, out), info = [shape(ndim), strides(ndim)].
#define UNARY_KERNEL(NAME, TY, SUFFIX, X, ...)                                                 \
    extern "C" __global__ void NAME##_##SUFFIX(u64 n, int ndim, const i64 *info,             \
                                               const TY *inp, i64 off, TY *out) {           \
        typedef TY T;                                                                         \
        const i64 *shape = info, *strides = info + ndim;                                     \
        GRID_STRIDE_LOOP(i, n) {                                                              \
            T X = inp[off + strided_offset(i, ndim, shape, strides)];                         \
            out[i] = (__VA_ARGS__);                                                           \
        }                                                                                     \
    }
#define UNARY_FLOAT(NAME, X, ...)                                                              \
    UNARY_KERNEL(NAME, float, f32, X, __VA_ARGS__) UNARY_KERNEL(NAME, double, f64, X, __VA_ARGS__)
#define UNARY_INT(NAME, X, ...) UNARY_KERNEL(NAME, i64, i64, X, __VA_ARGS__)

// BINARY: NAME_SUFFIX(n, ndim, info, lhs, loff, rhs, roff, out), both operands read through
// their own (broadcast, possibly 0-stride) strides; info = [shape, lhs strides, rhs strides].
#define BINARY_KERNEL(NAME, TY, TOUT, SUFFIX, A, B, ...)                                       \
    extern "C" __global__ void NAME##_##SUFFIX(u64 n, int ndim, const i64 *info,             \
                                               const TY *lhs, i64 loff, const TY *rhs,      \
                                               i64 roff, TOUT *out) {                        \
        typedef TY T;                                                                         \
        const i64 *shape = info, *ls = info + ndim, *rs = info + 2 * ndim;                   \
        GRID_STRIDE_LOOP(i, n) {                                                              \
            T A = lhs[loff + strided_offset(i, ndim, shape, ls)];                             \
            T B = rhs[roff + strided_offset(i, ndim, shape, rs)];                             \
            out[i] = (__VA_ARGS__);                                                           \
        }                                                                                     \
    }
#define BINARY_FLOAT(NAME, A, B, ...)                                                          \
    BINARY_KERNEL(NAME, float, float, f32, A, B, __VA_ARGS__)                                 \
    BINARY_KERNEL(NAME, double, double, f64, A, B, __VA_ARGS__)
#define BINARY_INT(NAME, A, B, ...) BINARY_KERNEL(NAME, i64, i64, i64, A, B, __VA_ARGS__)
// Bools are bytes (0 or 1) on the device.
#define BINARY_BOOL(NAME, A, B, ...) BINARY_KERNEL(NAME, u8, u8, bool, A, B, __VA_ARGS__)
// A comparison of every dtype, giving bools.
#define COMPARE(NAME, A, B, ...)                                                               \
    BINARY_KERNEL(NAME, float, u8, f32, A, B, __VA_ARGS__)                                    \
    BINARY_KERNEL(NAME, double, u8, f64, A, B, __VA_ARGS__)                                   \
    BINARY_KERNEL(NAME, i64, u8, i64, A, B, __VA_ARGS__)                                      \
    BINARY_KERNEL(NAME, u8, u8, bool, A, B, __VA_ARGS__)
