// Elementwise unary ops over a strided input, written to a contiguous output.
// One kernel per (op, dtype): `<op>_<f32|f64>`.

#define UNARY(NAME, T, SUFFIX, EXPR)                                                          \
    extern "C" __global__ void NAME##_##SUFFIX(u64 n, int ndim, const i64 *info,            \
                                               const T *inp, i64 off, T *out) {             \
        const i64 *shape = info, *strides = info + ndim;                                    \
        GRID_STRIDE_LOOP(i, n) {                                                             \
            T x = inp[off + strided_offset(i, ndim, shape, strides)];                        \
            out[i] = (EXPR);                                                                 \
        }                                                                                    \
    }

#define UNARY_FLOAT(NAME, EXPR_F, EXPR_D) UNARY(NAME, float, f32, EXPR_F) UNARY(NAME, double, f64, EXPR_D)

UNARY_FLOAT(neg, -x, -x)
UNARY_FLOAT(exp, expf(x), exp(x))
UNARY_FLOAT(log, logf(x), log(x))
UNARY_FLOAT(sqrt, sqrtf(x), sqrt(x))
UNARY_FLOAT(sin, sinf(x), sin(x))
UNARY_FLOAT(cos, cosf(x), cos(x))
UNARY_FLOAT(tanh, tanhf(x), tanh(x))
UNARY_FLOAT(sigmoid, 1.0f / (1.0f + expf(-x)), 1.0 / (1.0 + exp(-x)))
UNARY_FLOAT(reciprocal, 1.0f / x, 1.0 / x)
UNARY_FLOAT(abs, fabsf(x), fabs(x))
// relu and sgn propagate NaN as libtorch does; sgn keeps the sign of a zero (x * 0).
UNARY_FLOAT(relu, (x > 0.0f || x != x) ? x : 0.0f, (x > 0.0 || x != x) ? x : 0.0)
UNARY_FLOAT(sgn, x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x * 0.0f, x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : x * 0.0)

UNARY(neg, i64, i64, -x)
UNARY(abs, i64, i64, x < 0 ? -x : x)
UNARY(sgn, i64, i64, (i64)((x > 0) - (x < 0)))

// clamp(min, max): a NaN bound or input propagates; an absent bound is passed as +-inf.
#define CLAMP(T, SUFFIX)                                                                      \
    extern "C" __global__ void clamp_##SUFFIX(u64 n, int ndim, const i64 *info, const T *inp, \
                                              i64 off, T lo, T hi, T *out) {                  \
        const i64 *shape = info, *strides = info + ndim;                                     \
        GRID_STRIDE_LOOP(i, n) {                                                              \
            T x = inp[off + strided_offset(i, ndim, shape, strides)];                         \
            T r = x < lo ? lo : x;                                                            \
            r = r > hi ? hi : r;                                                              \
            out[i] = (x != x) ? x : (lo != lo) ? lo : (hi != hi) ? hi : r;                       \
        }                                                                                     \
    }
CLAMP(float, f32)
CLAMP(double, f64)
