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
