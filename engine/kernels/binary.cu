// Elementwise binary ops with broadcasting through strides: both operands are read through
// their own (broadcast, possibly 0-stride) strides over the output shape; the output is
// contiguous. info = [shape(ndim), lhs_strides(ndim), rhs_strides(ndim)].

#define BINARY(NAME, TIN, TOUT, SUFFIX, EXPR)                                                  \
    extern "C" __global__ void NAME##_##SUFFIX(u64 n, int ndim, const i64 *info,             \
                                               const TIN *lhs, i64 loff, const TIN *rhs,     \
                                               i64 roff, TOUT *out) {                        \
        const i64 *shape = info, *ls = info + ndim, *rs = info + 2 * ndim;                   \
        GRID_STRIDE_LOOP(i, n) {                                                              \
            TIN a = lhs[loff + strided_offset(i, ndim, shape, ls)];                           \
            TIN b = rhs[roff + strided_offset(i, ndim, shape, rs)];                           \
            out[i] = (EXPR);                                                                  \
        }                                                                                     \
    }

#define ARITH(T, SUFFIX)                                                                      \
    BINARY(add, T, T, SUFFIX, a + b)                                                          \
    BINARY(sub, T, T, SUFFIX, a - b)                                                          \
    BINARY(mul, T, T, SUFFIX, a * b)                                                          \
    BINARY(eq, T, u8, SUFFIX, a == b)                                                         \
    BINARY(ne, T, u8, SUFFIX, a != b)                                                         \
    BINARY(lt, T, u8, SUFFIX, a < b)                                                          \
    BINARY(le, T, u8, SUFFIX, a <= b)                                                         \
    BINARY(gt, T, u8, SUFFIX, a > b)                                                          \
    BINARY(ge, T, u8, SUFFIX, a >= b)

ARITH(float, f32)
ARITH(double, f64)
ARITH(i64, i64)
BINARY(eq, u8, u8, bool, a == b)
BINARY(ne, u8, u8, bool, a != b)

BINARY(div, float, float, f32, a / b)
BINARY(div, double, double, f64, a / b)
BINARY(pow, float, float, f32, powf(a, b))
BINARY(pow, double, double, f64, pow(a, b))
// maximum/minimum propagate NaN from either side, as torch.maximum does.
BINARY(maximum, float, float, f32, (a != a || b != b) ? a + b : fmaxf(a, b))
BINARY(maximum, double, double, f64, (a != a || b != b) ? a + b : fmax(a, b))
BINARY(minimum, float, float, f32, (a != a || b != b) ? a + b : fminf(a, b))
BINARY(minimum, double, double, f64, (a != a || b != b) ? a + b : fmin(a, b))
BINARY(maximum, i64, i64, i64, a > b ? a : b)
BINARY(minimum, i64, i64, i64, a < b ? a : b)

// where(cond, a, b): three strided operands; info = [shape, cond_s, a_s, b_s].
#define WHERE(T, SUFFIX)                                                                      \
    extern "C" __global__ void where_##SUFFIX(u64 n, int ndim, const i64 *info,              \
                                              const u8 *c, i64 coff, const T *a, i64 aoff,   \
                                              const T *b, i64 boff, T *out) {                \
        const i64 *shape = info;                                                              \
        GRID_STRIDE_LOOP(i, n) {                                                              \
            bool k = c[coff + strided_offset(i, ndim, shape, info + ndim)];                   \
            out[i] = k ? a[aoff + strided_offset(i, ndim, shape, info + 2 * ndim)]            \
                       : b[boff + strided_offset(i, ndim, shape, info + 3 * ndim)];           \
        }                                                                                     \
    }
WHERE(float, f32)
WHERE(double, f64)
WHERE(i64, i64)
WHERE(u8, bool)
