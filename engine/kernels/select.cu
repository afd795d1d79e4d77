// where(cond, a, b): three strided operands broadcast to the output's shape; the output is
// contiguous. info = [shape(ndim), cond_strides(ndim), a_strides(ndim), b_strides(ndim)].
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
