// clamp(min, max) over a strided input, written to a contiguous output: a NaN input stays NaN,
// then the lower bound applies and then the upper one, as the CPU kernel does (so min > max
// gives max). An absent bound is passed as -inf / +inf.
#define CLAMP(T, SUFFIX)                                                                      \
    extern "C" __global__ void clamp_##SUFFIX(u64 n, int ndim, const i64 *info, const T *inp, \
                                              i64 off, T lo, T hi, T *out) {                  \
        const i64 *shape = info, *strides = info + ndim;                                     \
        GRID_STRIDE_LOOP(i, n) {                                                              \
            T x = inp[off + strided_offset(i, ndim, shape, strides)];                         \
            T r = x < lo ? lo : x;                                                            \
            r = r > hi ? hi : r;                                                              \
            out[i] = (x != x) ? x : r;                                                        \
        }                                                                                     \
    }
CLAMP(float, f32)
CLAMP(double, f64)
