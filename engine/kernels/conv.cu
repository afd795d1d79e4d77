// im2col for conv2d forward (the GEMM runs in cuBLAS) and col2im for the input gradient.
// Input [C, H, W] contiguous for one image; columns [C*KH*KW, OH*OW].

#define CONV_FAMILY(T, SUFFIX)                                                                 \
    extern "C" __global__ void im2col_##SUFFIX(u64 c, u64 h, u64 w, u64 kh, u64 kw,           \
                                               u64 sh, u64 sw, u64 ph, u64 pw, u64 dh,        \
                                               u64 dw, u64 oh, u64 ow, const T *img,          \
                                               T *col) {                                      \
        GRID_STRIDE_LOOP(i, c * kh * kw * oh * ow) {                                          \
            u64 x = i % ow, y = (i / ow) % oh, row = i / (oh * ow);                           \
            u64 kx = row % kw, ky = (row / kw) % kh, ch = row / (kw * kh);                    \
            i64 iy = (i64)(y * sh + ky * dh) - (i64)ph;                                       \
            i64 ix = (i64)(x * sw + kx * dw) - (i64)pw;                                       \
            col[i] = (iy >= 0 && iy < (i64)h && ix >= 0 && ix < (i64)w)                       \
                         ? img[(ch * h + (u64)iy) * w + (u64)ix]                              \
                         : (T)0;                                                              \
        }                                                                                     \
    }                                                                                         \
    extern "C" __global__ void col2im_##SUFFIX(u64 c, u64 h, u64 w, u64 kh, u64 kw,           \
                                               u64 sh, u64 sw, u64 ph, u64 pw, u64 dh,        \
                                               u64 dw, u64 oh, u64 ow, const T *col,          \
                                               T *img) {                                      \
        GRID_STRIDE_LOOP(i, c * kh * kw * oh * ow) {                                          \
            u64 x = i % ow, y = (i / ow) % oh, row = i / (oh * ow);                           \
            u64 kx = row % kw, ky = (row / kw) % kh, ch = row / (kw * kh);                    \
            i64 iy = (i64)(y * sh + ky * dh) - (i64)ph;                                       \
            i64 ix = (i64)(x * sw + kx * dw) - (i64)pw;                                       \
            if (iy >= 0 && iy < (i64)h && ix >= 0 && ix < (i64)w)                             \
                atomicAdd(&img[(ch * h + (u64)iy) * w + (u64)ix], col[i]);                    \
        }                                                                                     \
    }

CONV_FAMILY(float, f32)
CONV_FAMILY(double, f64)
