//! Dense matrix products over strided slices, through the `gemm` crate.
//!
//! Strides are passed straight to `gemm`, so transposed and otherwise non-contiguous operands
//! (a `t()` view, a column slice) cost no copy. Small products run on the calling thread: for
//! them rayon's hand-off costs more than the arithmetic.

use super::{Float, KernelError, num_threads};
use gemm::Parallelism;
use rayon::prelude::*;

/// Below this many multiply-adds a product stays single-threaded.
const PARALLEL_THRESHOLD: usize = 64 * 64 * 64;

/// Up to this many multiply-adds a product runs as plain loops: for tiny and skinny shapes
/// (a `2000 × 3` input times a `3 × 1` weight) `gemm`'s dispatch and packing cost more than
/// the arithmetic.
const SMALL_PRODUCT: usize = 32 * 32 * 32;

/// `ENGINE_GEMM=portable` runs every product through the plain loops instead of the `gemm`
/// crate, whose micro-kernels it picks by CPU feature (FMA or scalar): one machine can then run
/// the engine on a path that is the same on every x86-64 CPU, as `ATEN_CPU_CAPABILITY` does for
/// libtorch. Read once.
fn portable() -> bool {
    static PORTABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PORTABLE.get_or_init(|| std::env::var("ENGINE_GEMM").is_ok_and(|v| v == "portable"))
}

/// Where a `rows × cols` matrix lives inside a slice: element `(i, j)` is at
/// `offset + i * row_stride + j * col_stride`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatLayout {
    pub rows: usize,
    pub cols: usize,
    pub offset: usize,
    pub row_stride: isize,
    pub col_stride: isize,
}

impl MatLayout {
    /// A row-major contiguous matrix starting at element 0.
    pub fn contiguous(rows: usize, cols: usize) -> Self {
        Self::contiguous_at(rows, cols, 0)
    }

    /// A row-major contiguous matrix starting at `offset`.
    pub fn contiguous_at(rows: usize, cols: usize, offset: usize) -> Self {
        MatLayout {
            rows,
            cols,
            offset,
            row_stride: cols as isize,
            col_stride: 1,
        }
    }

    /// The same memory read as the transposed matrix.
    /// The same matrix as a 2-D tensor layout.
    pub fn to_layout(self) -> crate::layout::Layout {
        crate::layout::Layout {
            shape: vec![self.rows, self.cols],
            strides: vec![self.row_stride, self.col_stride],
            offset: self.offset,
        }
    }
    pub fn t(self) -> Self {
        MatLayout {
            rows: self.cols,
            cols: self.rows,
            offset: self.offset,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    fn is_empty(&self) -> bool {
        self.rows == 0 || self.cols == 0
    }

    /// Lowest and highest element index the layout touches (None when empty).
    fn span(&self) -> Option<(isize, isize)> {
        if self.is_empty() {
            return None;
        }
        let (mut lo, mut hi) = (self.offset as isize, self.offset as isize);
        for (n, s) in [(self.rows, self.row_stride), (self.cols, self.col_stride)] {
            let reach = (n as isize - 1) * s;
            if reach < 0 {
                lo += reach;
            } else {
                hi += reach;
            }
        }
        Some((lo, hi))
    }

    fn check_bounds(&self, what: &'static str, len: usize) -> Result<(), KernelError> {
        if let Some((lo, hi)) = self.span() {
            if lo < 0 {
                return Err(KernelError::OutOfBounds {
                    what,
                    index: lo,
                    len,
                });
            }
            if hi >= len as isize {
                return Err(KernelError::OutOfBounds {
                    what,
                    index: hi,
                    len,
                });
            }
        }
        Ok(())
    }

    /// True when no two elements share memory, which an output needs so that parallel writes
    /// never race. Sufficient test: one dimension's stride steps over the whole other one.
    fn is_injective(&self) -> bool {
        if self.is_empty() {
            return true;
        }
        let (r, c) = (
            self.row_stride.unsigned_abs(),
            self.col_stride.unsigned_abs(),
        );
        match (self.rows, self.cols) {
            (1, 1) => true,
            (1, _) => c >= 1,
            (_, 1) => r >= 1,
            (rows, cols) => (c >= 1 && r >= cols * c) || (r >= 1 && c >= rows * r),
        }
    }
}

/// What happens to the values already in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accumulate {
    /// `c = a @ b`
    Overwrite,
    /// `c += a @ b`
    Add,
}

fn check_product(
    what: &'static str,
    la: &MatLayout,
    lb: &MatLayout,
    lc: &MatLayout,
) -> Result<(), KernelError> {
    if la.cols != lb.rows || lc.rows != la.rows || lc.cols != lb.cols {
        return Err(KernelError::ShapeMismatch {
            what,
            detail: format!(
                "({}x{}) @ ({}x{}) into ({}x{})",
                la.rows, la.cols, lb.rows, lb.cols, lc.rows, lc.cols
            ),
        });
    }
    if !lc.is_injective() {
        return Err(KernelError::OverlappingOutput { what });
    }
    Ok(())
}

fn parallelism(m: usize, n: usize, k: usize) -> Parallelism {
    let threads = num_threads();
    // Inside a rayon worker the caller already splits work across threads.
    if threads > 1 && rayon::current_thread_index().is_none() && m * n * k >= PARALLEL_THRESHOLD {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    }
}

/// Raw product on layouts already checked against their buffers.
///
/// # Safety
/// `a`, `b`, `c` must point at buffers that contain every element their layouts reach, and
/// `lc` must be injective.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_raw<T: Float>(
    a: *const T,
    la: &MatLayout,
    b: *const T,
    lb: &MatLayout,
    c: *mut T,
    lc: &MatLayout,
    acc: Accumulate,
    par: Parallelism,
) {
    let (m, n, k) = (lc.rows, lc.cols, la.cols);
    if m == 0 || n == 0 {
        return;
    }
    let c0 = unsafe { c.add(lc.offset) };
    if k == 0 {
        // An empty sum: the product is zero.
        if acc == Accumulate::Overwrite {
            for i in 0..m {
                for j in 0..n {
                    let idx = i as isize * lc.row_stride + j as isize * lc.col_stride;
                    unsafe { *c0.offset(idx) = T::ZERO };
                }
            }
        }
        return;
    }
    if m * n * k <= SMALL_PRODUCT || portable() {
        unsafe { small_gemm(a, la, b, lb, c0, lc, acc) };
        return;
    }
    // gemm computes dst = alpha * dst + beta * lhs @ rhs (alpha read only when read_dst).
    let (read_dst, alpha) = match acc {
        Accumulate::Overwrite => (false, T::ZERO),
        Accumulate::Add => (true, T::ONE),
    };
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c0,
            lc.col_stride,
            lc.row_stride,
            read_dst,
            a.add(la.offset),
            la.col_stride,
            la.row_stride,
            b.add(lb.offset),
            lb.col_stride,
            lb.row_stride,
            alpha,
            T::ONE,
            false,
            false,
            false,
            par,
        );
    }
}

/// Dot products along `k` with four accumulators (breaking the add dependency chain lets
/// the loop run at load throughput even with strided operands).
///
/// # Safety
/// As [`gemm_raw`]; `c0` already points at the output's offset.
unsafe fn small_gemm<T: Float>(
    a: *const T,
    la: &MatLayout,
    b: *const T,
    lb: &MatLayout,
    c0: *mut T,
    lc: &MatLayout,
    acc: Accumulate,
) {
    let (m, n, k) = (lc.rows, lc.cols, la.cols);
    let (ars, acs, brs, bcs) = (la.row_stride, la.col_stride, lb.row_stride, lb.col_stride);
    unsafe {
        let a0 = a.add(la.offset);
        let b0 = b.add(lb.offset);
        for i in 0..m {
            let pa = a0.offset(i as isize * ars);
            for j in 0..n {
                let pb = b0.offset(j as isize * bcs);
                let mut s = [T::ZERO; 4];
                let mut p = 0;
                while p + 4 <= k {
                    for (q, sq) in s.iter_mut().enumerate() {
                        let pp = (p + q) as isize;
                        *sq += *pa.offset(pp * acs) * *pb.offset(pp * brs);
                    }
                    p += 4;
                }
                let mut v = (s[0] + s[1]) + (s[2] + s[3]);
                while p < k {
                    v += *pa.offset(p as isize * acs) * *pb.offset(p as isize * brs);
                    p += 1;
                }
                let dst = c0.offset(i as isize * lc.row_stride + j as isize * lc.col_stride);
                *dst = match acc {
                    Accumulate::Overwrite => v,
                    Accumulate::Add => *dst + v,
                };
            }
        }
    }
}

/// `c (=|+=) a @ b` for matrices described by layouts into their slices.
pub fn matmul<T: Float>(
    a: &[T],
    la: MatLayout,
    b: &[T],
    lb: MatLayout,
    c: &mut [T],
    lc: MatLayout,
    acc: Accumulate,
) -> Result<(), KernelError> {
    check_product("matmul", &la, &lb, &lc)?;
    la.check_bounds("matmul lhs", a.len())?;
    lb.check_bounds("matmul rhs", b.len())?;
    lc.check_bounds("matmul out", c.len())?;
    let par = parallelism(lc.rows, lc.cols, la.cols);
    // SAFETY: every layout was checked against its buffer, and lc is injective.
    unsafe {
        gemm_raw(
            a.as_ptr(),
            &la,
            b.as_ptr(),
            &lb,
            c.as_mut_ptr(),
            &lc,
            acc,
            par,
        )
    };
    Ok(())
}

/// [`matmul`] with the sign of a zero product as libtorch (MKL) gives it. A matrix product
/// (both result dimensions at least 2) over an inner dimension of 1 is the elementwise product
/// itself, so `0 * negative` stays `-0.0`, where the `gemm` crate, starting its accumulators at
/// `+0.0`, gives `+0.0` (and `1 / x` then `inf` for `-inf`). Over 2 or more terms MKL's sums
/// start from `+0.0` as the engine's do, and so do its matrix-vector products (a result with
/// one row or one column), whatever the inner dimension. With `Accumulate::Add` the product is
/// added to what was there, so the element stays `-0.0` only if it was. Only zero results are
/// looked at again, so the cost is nil unless the product is mostly zeros. Convolutions keep
/// plain [`matmul`].
pub fn matmul_signed_zeros<T: Float>(
    a: &[T],
    la: MatLayout,
    b: &[T],
    lb: MatLayout,
    c: &mut [T],
    lc: MatLayout,
    acc: Accumulate,
) -> Result<(), KernelError> {
    let at = |l: &MatLayout, i: usize, j: usize| {
        (l.offset as isize + i as isize * l.row_stride + j as isize * l.col_stride) as usize
    };
    let was_neg_zero: Vec<bool> = match acc {
        Accumulate::Add if !lc.is_empty() && lc.check_bounds("matmul out", c.len()).is_ok() => (0
            ..lc.rows * lc.cols)
            .map(|q| {
                let v = c[at(&lc, q / lc.cols, q % lc.cols)];
                v == T::ZERO && v.is_sign_negative()
            })
            .collect(),
        _ => Vec::new(),
    };
    matmul(a, la, b, lb, c, lc, acc)?;
    for i in 0..lc.rows {
        for j in 0..lc.cols {
            let dst = at(&lc, i, j);
            let v = c[dst];
            if v != T::ZERO || v.is_sign_negative() || la.cols != 1 || lc.rows < 2 || lc.cols < 2 {
                continue;
            }
            if acc == Accumulate::Add && !was_neg_zero[i * lc.cols + j] {
                continue;
            }
            let all_neg_zero = (0..la.cols).all(|p| {
                let x = a[at(&la, i, p)] * b[at(&lb, p, j)];
                x == T::ZERO && x.is_sign_negative()
            });
            if all_neg_zero {
                c[dst] = T::NEG_ZERO;
            }
        }
    }
    Ok(())
}

/// Matrix `i` of a batch lives at the layout's offset plus `i * batch_stride`.
fn batch_entry(l: &MatLayout, stride: isize, i: usize) -> Option<MatLayout> {
    let off = l.offset as isize + stride * i as isize;
    (off >= 0).then_some(MatLayout {
        offset: off as usize,
        ..*l
    })
}

#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
// SAFETY: only used to hand disjoint output matrices to rayon workers.
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

/// `c[i] (=|+=) a[i] @ b[i]` for `i < batch`. Each operand's matrix `i` starts
/// `i * stride` elements after its layout's offset; a stride of 0 broadcasts one matrix over
/// the batch (allowed for inputs only).
#[allow(clippy::too_many_arguments)]
pub fn batched_matmul<T: Float>(
    batch: usize,
    a: &[T],
    la: MatLayout,
    a_stride: isize,
    b: &[T],
    lb: MatLayout,
    b_stride: isize,
    c: &mut [T],
    lc: MatLayout,
    c_stride: isize,
    acc: Accumulate,
) -> Result<(), KernelError> {
    check_product("bmm", &la, &lb, &lc)?;
    if batch == 0 {
        return Ok(());
    }
    let mut entries = Vec::with_capacity(batch);
    for i in 0..batch {
        let ea = batch_entry(&la, a_stride, i);
        let eb = batch_entry(&lb, b_stride, i);
        let ec = batch_entry(&lc, c_stride, i);
        let oob = |what| KernelError::OutOfBounds {
            what,
            index: -1,
            len: 0,
        };
        let (ea, eb, ec) = (
            ea.ok_or_else(|| oob("bmm lhs"))?,
            eb.ok_or_else(|| oob("bmm rhs"))?,
            ec.ok_or_else(|| oob("bmm out"))?,
        );
        ea.check_bounds("bmm lhs", a.len())?;
        eb.check_bounds("bmm rhs", b.len())?;
        ec.check_bounds("bmm out", c.len())?;
        entries.push((ea, eb, ec));
    }
    if batch > 1 && !outputs_disjoint(&lc, c_stride) {
        return Err(KernelError::OverlappingOutput { what: "bmm out" });
    }
    let (m, n, k) = (lc.rows, lc.cols, la.cols);
    let threads = num_threads();
    let (ap, bp, cp) = (
        SendPtr(a.as_ptr() as *mut T),
        SendPtr(b.as_ptr() as *mut T),
        SendPtr(c.as_mut_ptr()),
    );
    // Many small products: spread whole products over threads. Few large ones: let gemm
    // split each product instead.
    let split_batch = threads > 1
        && batch >= threads
        && rayon::current_thread_index().is_none()
        && batch * m * n * k >= PARALLEL_THRESHOLD;
    let run = |(ea, eb, ec): &(MatLayout, MatLayout, MatLayout), par| {
        let (ap, bp, cp) = (ap, bp, cp);
        // SAFETY: bounds checked above for every entry; outputs are pairwise disjoint and
        // each is injective, so concurrent writes never touch the same element.
        unsafe {
            gemm_raw(
                ap.0 as *const T,
                ea,
                bp.0 as *const T,
                eb,
                cp.0,
                ec,
                acc,
                par,
            )
        }
    };
    if split_batch {
        entries.par_iter().for_each(|e| run(e, Parallelism::None));
    } else {
        let par = parallelism(m, n, k);
        entries.iter().for_each(|e| run(e, par));
    }
    Ok(())
}

/// Whether the batch's output matrices occupy disjoint memory: each matrix's span must end
/// before the next one starts (strides are compared by magnitude).
fn outputs_disjoint(lc: &MatLayout, c_stride: isize) -> bool {
    let Some((lo, hi)) = lc.span() else {
        return true;
    };
    c_stride.unsigned_abs() as isize > hi - lo
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn naive(a: &[f64], la: MatLayout, b: &[f64], lb: MatLayout) -> Vec<f64> {
        let mut out = vec![0.0; la.rows * lb.cols];
        for i in 0..la.rows {
            for j in 0..lb.cols {
                let mut s = 0.0;
                for p in 0..la.cols {
                    let ai = la.offset as isize
                        + i as isize * la.row_stride
                        + p as isize * la.col_stride;
                    let bi = lb.offset as isize
                        + p as isize * lb.row_stride
                        + j as isize * lb.col_stride;
                    s += a[ai as usize] * b[bi as usize];
                }
                out[i * lb.cols + j] = s;
            }
        }
        out
    }

    fn random(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
        (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    /// A layout for a `rows × cols` matrix inside a bigger buffer: row-major, column-major
    /// (transposed storage), or row-major with padded rows (a slice of a wider matrix).
    fn layout(rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> (MatLayout, usize) {
        let offset = rng.random_range(0..3);
        match rng.random_range(0..3) {
            0 => (
                MatLayout::contiguous_at(rows, cols, offset),
                offset + rows * cols,
            ),
            1 => (
                MatLayout::contiguous_at(cols, rows, offset).t(),
                offset + rows * cols,
            ),
            _ => {
                let pad = rng.random_range(1..4);
                let l = MatLayout {
                    rows,
                    cols,
                    offset,
                    row_stride: (cols + pad) as isize,
                    col_stride: 1,
                };
                (l, offset + rows * (cols + pad))
            }
        }
    }

    fn assert_close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 1e-9 * (1.0 + w.abs()), "{g} vs {w}");
        }
    }

    #[test]
    fn strided_products_match_naive_loops() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for &(m, n, k) in &[
            (1, 1, 1),
            (3, 5, 4),
            (17, 9, 33),
            (64, 70, 65),
            (130, 70, 90),
            (0, 3, 2),
            (3, 2, 0),
        ] {
            for _ in 0..4 {
                let (la, na) = layout(&mut rng, m, k);
                let (lb, nb) = layout(&mut rng, k, n);
                let a = random(&mut rng, na);
                let b = random(&mut rng, nb);
                let want = naive(&a, la, &b, lb);
                let mut c = vec![f64::NAN; m * n];
                matmul(
                    &a,
                    la,
                    &b,
                    lb,
                    &mut c,
                    MatLayout::contiguous(m, n),
                    Accumulate::Overwrite,
                )
                .unwrap();
                assert_close(&c, &want);

                // Accumulating into a transposed output adds to what is there.
                let mut ct = vec![1.5; m * n];
                let lct = MatLayout::contiguous(n, m).t();
                matmul(&a, la, &b, lb, &mut ct, lct, Accumulate::Add).unwrap();
                for i in 0..m {
                    for j in 0..n {
                        let w = want[i * n + j] + 1.5;
                        assert!((ct[j * m + i] - w).abs() <= 1e-9 * (1.0 + w.abs()));
                    }
                }
            }
        }
    }

    /// Expanded operands (stride 0, as `expand` makes them) are read in place, on both the
    /// small-loop and the `gemm` path.
    #[test]
    fn broadcast_operands_with_zero_strides() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for &(m, n, k) in &[(3, 4, 5), (70, 80, 90)] {
            let row = random(&mut rng, k);
            let la = MatLayout {
                rows: m,
                cols: k,
                offset: 0,
                row_stride: 0,
                col_stride: 1,
            };
            let (lb, nb) = layout(&mut rng, k, n);
            let b = random(&mut rng, nb);
            let dense: Vec<f64> = (0..m).flat_map(|_| row.iter().copied()).collect();
            let want = naive(&dense, MatLayout::contiguous(m, k), &b, lb);
            let mut c = vec![0.0; m * n];
            matmul(
                &row,
                la,
                &b,
                lb,
                &mut c,
                MatLayout::contiguous(m, n),
                Accumulate::Overwrite,
            )
            .unwrap();
            assert_close(&c, &want);
        }
    }

    #[test]
    fn f32_large_product_uses_threads_and_matches() {
        let (m, n, k) = (200, 150, 120);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let a64 = random(&mut rng, m * k);
        let b64 = random(&mut rng, k * n);
        let want = naive(
            &a64,
            MatLayout::contiguous(m, k),
            &b64,
            MatLayout::contiguous(k, n),
        );
        let a: Vec<f32> = a64.iter().map(|&x| x as f32).collect();
        let b: Vec<f32> = b64.iter().map(|&x| x as f32).collect();
        let mut c = vec![0f32; m * n];
        matmul(
            &a,
            MatLayout::contiguous(m, k),
            &b,
            MatLayout::contiguous(k, n),
            &mut c,
            MatLayout::contiguous(m, n),
            Accumulate::Overwrite,
        )
        .unwrap();
        for (g, w) in c.iter().zip(&want) {
            assert!((*g as f64 - w).abs() < 1e-4, "{g} vs {w}");
        }
    }

    #[test]
    fn batched_products_match_and_broadcast() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for &(batch, m, n, k) in &[
            (1, 2, 3, 4),
            (5, 7, 6, 8),
            (64, 16, 16, 16),
            (3, 80, 70, 60),
        ] {
            let a = random(&mut rng, batch * m * k);
            // b is one matrix broadcast over the batch.
            let b = random(&mut rng, k * n);
            let mut c = vec![0.0; batch * m * n];
            batched_matmul(
                batch,
                &a,
                MatLayout::contiguous(m, k),
                (m * k) as isize,
                &b,
                MatLayout::contiguous(k, n),
                0,
                &mut c,
                MatLayout::contiguous(m, n),
                (m * n) as isize,
                Accumulate::Overwrite,
            )
            .unwrap();
            for i in 0..batch {
                let want = naive(
                    &a,
                    MatLayout::contiguous_at(m, k, i * m * k),
                    &b,
                    MatLayout::contiguous(k, n),
                );
                assert_close(&c[i * m * n..(i + 1) * m * n], &want);
            }
        }
    }

    #[test]
    fn bad_layouts_are_errors_not_ub() {
        let a = vec![0.0f64; 6];
        let mut c = vec![0.0f64; 4];
        let la = MatLayout::contiguous(2, 3);
        // rhs buffer too short for a 3x2 matrix.
        let err = matmul(
            &a,
            la,
            &a[..5],
            MatLayout::contiguous(3, 2),
            &mut c,
            MatLayout::contiguous(2, 2),
            Accumulate::Overwrite,
        );
        assert!(matches!(err, Err(KernelError::OutOfBounds { .. })));
        // inner dimensions disagree.
        let err = matmul(
            &a,
            la,
            &a,
            MatLayout::contiguous(2, 3),
            &mut c,
            MatLayout::contiguous(2, 3),
            Accumulate::Overwrite,
        );
        assert!(matches!(err, Err(KernelError::ShapeMismatch { .. })));
        // an expanded (stride 0) output would race.
        let lc = MatLayout {
            rows: 2,
            cols: 2,
            offset: 0,
            row_stride: 0,
            col_stride: 1,
        };
        let err = matmul(
            &a,
            la,
            &a,
            MatLayout::contiguous(3, 2),
            &mut c,
            lc,
            Accumulate::Overwrite,
        );
        assert!(matches!(err, Err(KernelError::OverlappingOutput { .. })));
        // batch outputs that overlap each other.
        let err = batched_matmul(
            2,
            &a,
            MatLayout::contiguous(1, 3),
            3,
            &a,
            MatLayout::contiguous(3, 1),
            0,
            &mut c,
            MatLayout::contiguous(1, 1),
            0,
            Accumulate::Overwrite,
        );
        assert!(matches!(err, Err(KernelError::OverlappingOutput { .. })));
    }
}
