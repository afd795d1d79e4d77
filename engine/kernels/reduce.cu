// Reductions over a set of dimensions, and row-wise softmax.
//
// sum/max/min: one thread per output element walks the reduced sub-space.
// info = [out_shape(ndim) (1 at reduced dims), red_shape(ndim) (1 at kept dims), in_strides(ndim)].
// The output is contiguous with the kept-dims shape; argmax/argmin indices are the position
// inside the (single) reduced dimension, as max(dim) returns them.

#define REDUCE(NAME, T, SUFFIX, INIT, STEP)                                                    \
    extern "C" __global__ void NAME##_##SUFFIX(u64 n_out, u64 n_red, int ndim,               \
                                               const i64 *info, const T *inp, i64 off,      \
                                               T *out, i64 *arg) {                           \
        const i64 *oshape = info, *rshape = info + ndim, *st = info + 2 * ndim;              \
        GRID_STRIDE_LOOP(o, n_out) {                                                          \
            i64 base = off + strided_offset(o, ndim, oshape, st);                             \
            T acc = (INIT);                                                                   \
            i64 best = 0;                                                                     \
            for (u64 r = 0; r < n_red; ++r) {                                                 \
                T x = inp[base + strided_offset(r, ndim, rshape, st)];                        \
                STEP                                                                          \
            }                                                                                 \
            out[o] = acc;                                                                     \
            if (arg) arg[o] = best;                                                           \
        }                                                                                     \
    }

#define SUM_STEP acc += x;
// NaN wins and its first position is reported, as in libtorch's max/min.
#define MAX_STEP if (!(acc != acc) && (x != x || x > acc || r == 0)) { acc = x; best = (i64)r; }
#define MIN_STEP if (!(acc != acc) && (x != x || x < acc || r == 0)) { acc = x; best = (i64)r; }

REDUCE(sum, float, f32, 0.0f, SUM_STEP)
REDUCE(sum, double, f64, 0.0, SUM_STEP)
REDUCE(sum, i64, i64, 0, SUM_STEP)
REDUCE(max, float, f32, 0.0f, MAX_STEP)
REDUCE(max, double, f64, 0.0, MAX_STEP)
REDUCE(max, i64, i64, 0, if (x > acc || r == 0) { acc = x; best = (i64)r; })
REDUCE(min, float, f32, 0.0f, MIN_STEP)
REDUCE(min, double, f64, 0.0, MIN_STEP)
REDUCE(min, i64, i64, 0, if (x < acc || r == 0) { acc = x; best = (i64)r; })

// softmax / log_softmax over the last dimension of a contiguous [rows, cols] input:
// one thread per row, max-subtracted for stability like ATen's CPU kernel.
#define SOFTMAX(T, SUFFIX, EXP, LOG)                                                           \
    extern "C" __global__ void softmax_##SUFFIX(u64 rows, u64 cols, const T *inp, T *out,    \
                                                int log_out) {                                \
        GRID_STRIDE_LOOP(r, rows) {                                                           \
            const T *x = inp + r * cols;                                                      \
            T *y = out + r * cols;                                                            \
            T m = x[0];                                                                       \
            for (u64 c = 1; c < cols; ++c) m = x[c] > m || x[c] != x[c] ? x[c] : m;           \
            T s = 0;                                                                          \
            for (u64 c = 0; c < cols; ++c) s += EXP(x[c] - m);                                \
            for (u64 c = 0; c < cols; ++c)                                                    \
                y[c] = log_out ? x[c] - m - LOG(s) : EXP(x[c] - m) / s;                       \
        }                                                                                     \
    }
SOFTMAX(float, f32, expf, logf)
SOFTMAX(double, f64, exp, log)
