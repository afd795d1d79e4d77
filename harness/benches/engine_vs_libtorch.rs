//! The engine against libtorch (through tch) on the four workloads of issue 3, in one run,
//! both sides on 2 threads and fed the same input bytes. Each workload is a criterion group
//! with an `engine` and a `libtorch` function; after criterion has run, a table of
//! engine/libtorch ratios is printed from criterion's own estimates, together with the peak
//! memory of the conv workload measured in child processes (one per side).
//!
//! `cargo bench -p harness --bench engine_vs_libtorch`

use criterion::Criterion;
use engine::Generator;
use engine::nn::{Conv2d, Flatten, Linear, MSELoss, Module, Sequential};
use engine::ops::linalg::Reduction;
use engine::optim::{SGD, SgdOptions};
use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, SystemTime};
use tch::Kind;

mod common;
use common::{
    POLY_B0, POLY_STEPS, POLY_W0, criterion_dir, fmt_time, libtorch_conv_stack_step, mean_ns,
    polyfit_data, uniform,
};

/// Threads per side: 2 (issue 3's setting) unless `ENGINE_VS_LIBTORCH_THREADS` says otherwise
/// (1 gives a comparison that is less sensitive to other load on the machine).
fn threads() -> usize {
    std::env::var("ENGINE_VS_LIBTORCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(2)
}
/// Set in the child processes that measure one side's peak memory.
const MEM_CHILD_ENV: &str = "ENGINE_VS_LIBTORCH_MEM_CHILD";

struct Workload {
    group: &'static str,
    title: &'static str,
    target: f64,
}

const WORKLOADS: [Workload; 4] = [
    Workload {
        group: "dispatch_50x3_ops",
        title: "50 x (mul, sigmoid, add) on 3 elements, sum, backward",
        target: 0.2,
    },
    Workload {
        group: "polyfit_2000_steps",
        title: "seed 002 polynomial fit, 2000 SGD steps",
        target: 0.5,
    },
    Workload {
        group: "matmul_512_fwd_bwd",
        title: "512x512 matmul, forward + backward",
        target: 1.2,
    },
    Workload {
        group: "conv_stack_fwd_bwd",
        title: "seed 000 conv stack, forward + backward",
        target: 1.5,
    },
];

// ---------------------------------------------------------------------------- inputs

fn eng(data: &[f32], shape: &[usize], requires_grad: bool) -> engine::Tensor {
    engine::Tensor::from_vec(data.to_vec(), shape)
        .and_then(|t| t.with_requires_grad(requires_grad))
        .expect("engine tensor")
}

fn lt(data: &[f32], shape: &[usize], requires_grad: bool) -> tch::Tensor {
    let s: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    tch::Tensor::from_slice(data)
        .view(s.as_slice())
        .set_requires_grad(requires_grad)
}

// ---------------------------------------------------------------------------- workloads

struct Dispatch {
    x: engine::Tensor,
    w: engine::Tensor,
    b: engine::Tensor,
    tx: tch::Tensor,
    tw: tch::Tensor,
    tb: tch::Tensor,
}

impl Dispatch {
    fn new() -> Self {
        let (x, w, b) = (
            [0.5f32, -0.3, 0.8],
            [1.01f32, 0.99, 1.02],
            [0.01f32, 0.02, 0.03],
        );
        Dispatch {
            x: eng(&x, &[3], true),
            w: eng(&w, &[3], false),
            b: eng(&b, &[3], false),
            tx: lt(&x, &[3], true),
            tw: lt(&w, &[3], false),
            tb: lt(&b, &[3], false),
        }
    }

    fn engine(&self) {
        if let Some(g) = self.x.grad() {
            g.zero_().expect("zero_");
        }
        let mut h = self.x.clone();
        for _ in 0..50 {
            h = h
                .mul(&self.w)
                .and_then(|t| t.sigmoid())
                .and_then(|t| t.add(&self.b))
                .expect("ops");
        }
        h.sum(None, false)
            .and_then(|s| s.backward())
            .expect("backward");
    }

    fn libtorch(&mut self) {
        self.tx.zero_grad();
        let mut h = self.tx.shallow_clone();
        for _ in 0..50 {
            h = (&h * &self.tw).sigmoid() + &self.tb;
        }
        h.sum(Kind::Float).backward();
    }
}

struct Polyfit {
    xx: Vec<f32>,
    y: Vec<f32>,
}

impl Polyfit {
    fn engine(&self) -> f64 {
        let xx = eng(&self.xx, &[2000, 3], false);
        let y = eng(&self.y, &[2000], false);
        let linear = Linear::from_tensors(
            eng(&POLY_W0, &[1, 3], true),
            Some(eng(&POLY_B0, &[1], true)),
        )
        .expect("linear");
        let model = Sequential::new(vec![Box::new(linear), Box::new(Flatten::new(0, 1))]);
        let loss_fn = MSELoss::new(Reduction::Sum);
        let mut opt = SGD::new(model.parameters(), SgdOptions::lr(1e-6)).expect("sgd");
        let mut last = 0.0;
        for _ in 0..POLY_STEPS {
            let loss = model
                .forward(&xx)
                .and_then(|p| loss_fn.forward(&p, &y))
                .expect("forward");
            opt.zero_grad().expect("zero_grad");
            loss.backward().expect("backward");
            opt.step().expect("step");
            last = loss.item().expect("item").as_f64();
        }
        last
    }

    fn libtorch(&self) -> f64 {
        let xx = lt(&self.xx, &[2000, 3], false);
        let y = lt(&self.y, &[2000], false);
        let w = lt(&POLY_W0, &[1, 3], true);
        let b = lt(&POLY_B0, &[1], true);
        let mut opt = tch::COptimizer::sgd(1e-6, 0.0, 0.0, 0.0, false).expect("sgd");
        opt.add_parameters(&w, 0).expect("params");
        opt.add_parameters(&b, 0).expect("params");
        let mut last = 0.0;
        for _ in 0..POLY_STEPS {
            let pred = xx.linear(&w, Some(&b)).flatten(0, 1);
            let loss = pred.mse_loss(&y, tch::Reduction::Sum);
            opt.zero_grad().expect("zero_grad");
            loss.backward();
            opt.step().expect("step");
            last = loss.double_value(&[]);
        }
        last
    }
}

struct Matmul {
    a: engine::Tensor,
    b: engine::Tensor,
    ta: tch::Tensor,
    tb: tch::Tensor,
}

impl Matmul {
    fn new() -> Self {
        let (va, vb) = (uniform(512 * 512, 1), uniform(512 * 512, 2));
        Matmul {
            a: eng(&va, &[512, 512], true),
            b: eng(&vb, &[512, 512], true),
            ta: lt(&va, &[512, 512], true),
            tb: lt(&vb, &[512, 512], true),
        }
    }

    fn engine(&self) {
        for p in [&self.a, &self.b] {
            if let Some(g) = p.grad() {
                g.zero_().expect("zero_");
            }
        }
        self.a
            .matmul(&self.b)
            .and_then(|c| c.sum(None, false))
            .and_then(|s| s.backward())
            .expect("matmul");
    }

    fn libtorch(&mut self) {
        self.ta.zero_grad();
        self.tb.zero_grad();
        self.ta.matmul(&self.tb).sum(Kind::Float).backward();
    }
}

/// Seed 000: `input = randn(8, 3, 50, 100)`, `Sequential(Conv2d(3, 16, 3, 1), Conv2d(16, 32, 3, 1))`.
struct ConvStack {
    net: Sequential,
    input: engine::Tensor,
    params: Vec<tch::Tensor>,
    tinput: tch::Tensor,
}

impl ConvStack {
    fn new() -> Self {
        let mut g = Generator::new(0);
        let net = Sequential::new(vec![
            Box::new(Conv2d::simple(3, 16, 3, 1, &mut g).expect("conv")),
            Box::new(Conv2d::simple(16, 32, 3, 1, &mut g).expect("conv")),
        ]);
        let params = net
            .parameters()
            .iter()
            .map(|p| lt(&p.to_vec::<f32>().expect("f32"), &p.shape(), true))
            .collect();
        let x = uniform(8 * 3 * 50 * 100, 3);
        ConvStack {
            net,
            input: eng(&x, &[8, 3, 50, 100], false),
            params,
            tinput: lt(&x, &[8, 3, 50, 100], false),
        }
    }

    fn engine(&self) {
        self.net.zero_grad().expect("zero_grad");
        self.net
            .forward(&self.input)
            .and_then(|y| y.sum(None, false))
            .and_then(|s| s.backward())
            .expect("conv stack");
    }

    fn libtorch(&mut self) {
        libtorch_conv_stack_step(&mut self.params, &self.tinput);
    }
}

// ---------------------------------------------------------------------------- criterion

fn set_threads() {
    let n = threads();
    tch::set_num_threads(n as i32);
    engine::cpu::set_num_threads(n);
    // The engine's kernels run on rayon's global pool; size it like libtorch's.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global();
}

fn run_criterion(c: &mut Criterion) {
    let mut d = Dispatch::new();
    let mut g = c.benchmark_group(WORKLOADS[0].group);
    g.bench_function("engine", |b| b.iter(|| d.engine()));
    g.bench_function("libtorch", |b| b.iter(|| d.libtorch()));
    g.finish();

    let (xx, y) = polyfit_data();
    let p = Polyfit { xx, y };
    let (le, ll) = (p.engine(), p.libtorch());
    assert!(
        (le - ll).abs() <= 1e-2 * ll.abs().max(1.0),
        "polyfit final losses differ: engine {le}, libtorch {ll}"
    );
    let mut g = c.benchmark_group(WORKLOADS[1].group);
    g.sample_size(10);
    g.bench_function("engine", |b| b.iter(|| black_box(p.engine())));
    g.bench_function("libtorch", |b| b.iter(|| black_box(p.libtorch())));
    g.finish();

    let mut m = Matmul::new();
    let mut g = c.benchmark_group(WORKLOADS[2].group);
    g.bench_function("engine", |b| b.iter(|| m.engine()));
    g.bench_function("libtorch", |b| b.iter(|| m.libtorch()));
    g.finish();

    let mut s = ConvStack::new();
    let mut g = c.benchmark_group(WORKLOADS[3].group);
    g.bench_function("engine", |b| b.iter(|| s.engine()));
    g.bench_function("libtorch", |b| b.iter(|| s.libtorch()));
    g.finish();
}

// ---------------------------------------------------------------------------- peak memory

fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

unsafe extern "C" {
    /// glibc: returns freed heap memory to the OS, so the baseline is not inflated by (or
    /// the peak hidden in) pages freed by the warm-up run.
    fn malloc_trim(pad: usize) -> i32;
}

/// In a child process: one warm-up run (thread pools, kernel caches), then the peak resident
/// set of one more run over the resident set before it, in bytes.
fn mem_child(side: &str) {
    set_threads();
    let run = |s: &mut ConvStack| match side {
        "engine" => s.engine(),
        _ => s.libtorch(),
    };
    // The warm-up's tensors (grads included) are dropped; what it leaves behind is what
    // persists across runs: thread pools and kernel caches.
    run(&mut ConvStack::new());
    let mut s = ConvStack::new();
    // SAFETY: plain glibc call without pointers.
    unsafe { malloc_trim(0) };
    let base = status_kib("VmRSS:").unwrap_or(0);
    // Resets VmHWM to the current RSS (Linux >= 4.0); if refused, the warm-up peak counts,
    // which is the same workload.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    run(&mut s);
    let peak = status_kib("VmHWM:").unwrap_or(0);
    println!("PEAK_BYTES {}", peak.saturating_sub(base) * 1024);
}

fn measure_peak(side: &str) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let out = Command::new(exe).env(MEM_CHILD_ENV, side).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("PEAK_BYTES "))
        .and_then(|v| v.trim().parse().ok())
}

// ---------------------------------------------------------------------------- summary

fn verdict(ratio: f64, target: f64) -> &'static str {
    if ratio <= target { "met" } else { "MISSED" }
}

fn print_summary(since: SystemTime, mem: Option<(u64, u64)>) {
    let dir = criterion_dir();
    println!(
        "\nengine vs libtorch ({} threads each), ratio = engine / libtorch",
        threads()
    );
    println!(
        "{:<55} {:>11} {:>11} {:>7} {:>7}",
        "workload", "engine", "libtorch", "ratio", "target"
    );
    for w in &WORKLOADS {
        let e = mean_ns(&dir, w.group, "engine", since);
        let l = mean_ns(&dir, w.group, "libtorch", since);
        match (e, l) {
            (Some(e), Some(l)) => println!(
                "{:<55} {:>11} {:>11} {:>7.2} {:>7}  {}",
                w.title,
                fmt_time(e),
                fmt_time(l),
                e / l,
                format!("<= {}", w.target),
                verdict(e / l, w.target)
            ),
            _ => println!("{:<55} (not run)", w.title),
        }
    }
    match mem {
        Some((e, l)) if l > 0 => println!(
            "{:<55} {:>8.1} MiB {:>7.1} MiB {:>7.2} {:>7}  {}",
            "seed 000 conv stack, peak memory over baseline",
            e as f64 / 1048576.0,
            l as f64 / 1048576.0,
            e as f64 / l as f64,
            "<= 1.5",
            verdict(e as f64 / l as f64, 1.5)
        ),
        _ => println!("{:<55} (not measured)", "seed 000 conv stack, peak memory"),
    }
}

fn main() {
    if let Ok(side) = std::env::var(MEM_CHILD_ENV) {
        mem_child(&side);
        return;
    }
    set_threads();
    let since = SystemTime::now() - Duration::from_secs(1);
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .configure_from_args();
    run_criterion(&mut c);
    c.final_summary();
    let mem = match (measure_peak("engine"), measure_peak("libtorch")) {
        (Some(e), Some(l)) => Some((e, l)),
        _ => None,
    };
    print_summary(since, mem);
}
