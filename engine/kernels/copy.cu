// Fill, strided copy (gather a strided view into a contiguous buffer), strided write
// (scatter a contiguous buffer into a strided view: in-place ops and slice assignment),
// and dtype casts. info = [shape(ndim), strides(ndim)].

#define COPY_FAMILY(T, SUFFIX)                                                                 \
    extern "C" __global__ void fill_##SUFFIX(u64 n, int ndim, const i64 *info, T *dst,       \
                                             i64 off, T value) {                              \
        GRID_STRIDE_LOOP(i, n) { dst[off + strided_offset(i, ndim, info, info + ndim)] = value; } \
    }                                                                                         \
    extern "C" __global__ void strided_copy_##SUFFIX(u64 n, int ndim, const i64 *info,       \
                                                     const T *src, i64 off, T *dst) {        \
        GRID_STRIDE_LOOP(i, n) { dst[i] = src[off + strided_offset(i, ndim, info, info + ndim)]; } \
    }                                                                                         \
    extern "C" __global__ void strided_write_##SUFFIX(u64 n, int ndim, const i64 *info,      \
                                                      const T *src, T *dst, i64 off) {       \
        GRID_STRIDE_LOOP(i, n) { dst[off + strided_offset(i, ndim, info, info + ndim)] = src[i]; } \
    }

COPY_FAMILY(float, f32)
COPY_FAMILY(double, f64)
COPY_FAMILY(i64, i64)
COPY_FAMILY(u8, bool)

// Casts between contiguous buffers: cast_<from>_<to>. Float to integer truncates toward
// zero and anything nonzero becomes true, as `.to(dtype)` does.
#define CAST(FROM, FS, TO, TS, EXPR)                                                           \
    extern "C" __global__ void cast_##FS##_##TS(u64 n, const FROM *src, TO *dst) {            \
        GRID_STRIDE_LOOP(i, n) { FROM x = src[i]; dst[i] = (EXPR); }                          \
    }
#define CAST_TO_ALL(FROM, FS)                                                                  \
    CAST(FROM, FS, float, f32, (float)x)                                                      \
    CAST(FROM, FS, double, f64, (double)x)                                                    \
    CAST(FROM, FS, i64, i64, (i64)x)                                                          \
    CAST(FROM, FS, u8, bool, (u8)(x != 0))
CAST_TO_ALL(float, f32)
CAST_TO_ALL(double, f64)
CAST_TO_ALL(i64, i64)
CAST_TO_ALL(u8, bool)
