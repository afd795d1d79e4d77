//! Times the dispatch-bound workload of issue 3: 50 × (mul, sigmoid, add) on a 3-element
//! tensor, sum, backward. `cargo run --release -p engine --example dispatch`.

use engine::Tensor;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Counts heap allocations: per-op overhead here is mostly allocator traffic.
struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
}
#[global_allocator]
static GLOBAL: Counting = Counting;

fn step(x: &Tensor, w: &Tensor) -> engine::Result<()> {
    let mut h = x.clone();
    for _ in 0..50 {
        h = h.mul(w)?.sigmoid()?.add(w)?;
    }
    h.sum(None, false)?.backward()
}

fn main() -> engine::Result<()> {
    let x = Tensor::from_vec(vec![0.1f32, 0.2, 0.3], &[3])?.with_requires_grad(true)?;
    let w = Tensor::from_vec(vec![0.5f32, -0.5, 1.5], &[3])?.with_requires_grad(true)?;
    for _ in 0..200 {
        step(&x, &w)?;
    }
    let count = |label: &str, f: &dyn Fn() -> engine::Result<Tensor>| -> engine::Result<Tensor> {
        let b = ALLOCS.load(Ordering::Relaxed);
        let t = f()?;
        println!(
            "  {label}: {} allocations",
            ALLOCS.load(Ordering::Relaxed) - b
        );
        Ok(t)
    };
    let h = count("mul", &|| x.mul(&w))?;
    let s = count("sigmoid", &|| h.sigmoid())?;
    let a = count("add", &|| s.add(&w))?;
    let l = count("sum", &|| a.sum(None, false))?;
    let b = ALLOCS.load(Ordering::Relaxed);
    l.backward()?;
    println!(
        "  backward of those: {} allocations",
        ALLOCS.load(Ordering::Relaxed) - b
    );
    let before = ALLOCS.load(Ordering::Relaxed);
    step(&x, &w)?;
    println!(
        "{} allocations per iteration",
        ALLOCS.load(Ordering::Relaxed) - before
    );
    let n = 2000;
    let t = Instant::now();
    for _ in 0..n {
        step(&x, &w)?;
    }
    let per = t.elapsed().as_secs_f64() / n as f64;
    let t = Instant::now();
    for _ in 0..n {
        let mut h = x.clone();
        for _ in 0..50 {
            h = h.mul(&w)?.sigmoid()?.add(&w)?;
        }
        h.sum(None, false)?;
    }
    let fwd = t.elapsed().as_secs_f64() / n as f64;
    println!("forward alone: {:.1} µs per iteration", fwd * 1e6);
    println!(
        "{:.1} µs per iteration, {:.2} µs per op (libtorch: 1300 µs, 8.7 µs per op)",
        per * 1e6,
        per * 1e6 / 150.0
    );
    Ok(())
}
