// Index ops for forward and backward: index_select along one dimension and its backward,
// index_add (atomic scatter-add, so repeated indices accumulate as in IndexBackward0).
// Inputs are contiguous and viewed as [outer, dim, inner].

#define INDEX_FAMILY(T, SUFFIX)                                                                \
    extern "C" __global__ void index_select_##SUFFIX(u64 outer, u64 dim, u64 inner,          \
                                                     const i64 *idx, u64 n_idx,               \
                                                     const T *src, T *dst) {                  \
        GRID_STRIDE_LOOP(i, outer * n_idx * inner) {                                          \
            u64 in = i % inner, k = (i / inner) % n_idx, o = i / (inner * n_idx);             \
            i64 j = idx[k] < 0 ? idx[k] + (i64)dim : idx[k];                                  \
            dst[i] = src[(o * dim + (u64)j) * inner + in];                                    \
        }                                                                                     \
    }                                                                                         \
    extern "C" __global__ void index_add_##SUFFIX(u64 outer, u64 dim, u64 inner,             \
                                                  const i64 *idx, u64 n_idx, const T *src,   \
                                                  T *dst) {                                   \
        GRID_STRIDE_LOOP(i, outer * n_idx * inner) {                                          \
            u64 in = i % inner, k = (i / inner) % n_idx, o = i / (inner * n_idx);             \
            i64 j = idx[k] < 0 ? idx[k] + (i64)dim : idx[k];                                  \
            atomicAdd(&dst[(o * dim + (u64)j) * inner + in], src[i]);                         \
        }                                                                                     \
    }

INDEX_FAMILY(float, f32)
INDEX_FAMILY(double, f64)
