//! The engine's CUDA backend against libtorch on CUDA, on the four workloads of
//! `engine_vs_libtorch.rs` (dispatch, polyfit, matmul, conv), every tensor on `cuda:0` and fed
//! the same input bytes. Each workload is a criterion group with an `engine-cuda` and a
//! `libtorch-cuda` function; both sides wait for their device at the end of each iteration, so
//! the times include the GPU work. A table of engine/libtorch ratios follows criterion's output.
//!
//! Without a GPU (or without the harness's `cuda` feature, which gives the engine its CUDA
//! backend) it prints why and exits 0. A workload the engine cannot run on CUDA (an op without a
//! CUDA kernel) is reported with the engine's error instead of a time.
//!
//! `cargo bench -p harness --features cuda --bench cuda`

use criterion::Criterion;
use engine::nn::{Conv2d, Flatten, Linear, MSELoss, Module, Sequential};
use engine::ops::linalg::{Conv2dOptions, Reduction};
use engine::optim::{SGD, SgdOptions};
use engine::{Device, Generator};
use harness::backend::cuda::{engine_cuda_available, libtorch_cuda_available};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, SystemTime};
use tch::Kind;

mod common;
use common::{
    POLY_B0, POLY_STEPS, POLY_W0, criterion_dir, fmt_time, libtorch_conv_stack_step, mean_ns,
    polyfit_data, uniform,
};

const GPU: Device = Device::Cuda(0);
const TGPU: tch::Device = tch::Device::Cuda(0);

const WORKLOADS: [(&str, &str); 4] = [
    (
        "cuda_dispatch_50x3_ops",
        "50 x (mul, sigmoid, add) on 3 elements, sum, backward",
    ),
    (
        "cuda_polyfit_2000_steps",
        "seed 002 polynomial fit, 2000 SGD steps",
    ),
    (
        "cuda_matmul_512_fwd_bwd",
        "512x512 matmul, forward + backward",
    ),
    (
        "cuda_conv_stack_fwd_bwd",
        "seed 000 conv stack, forward + backward",
    ),
];

type R<T> = engine::Result<T>;

// ---------------------------------------------------------------------------- inputs

/// An engine leaf on the GPU: the host tensor is copied without history, then marked.
fn eng(data: &[f32], shape: &[usize], requires_grad: bool) -> R<engine::Tensor> {
    engine::Tensor::from_vec(data.to_vec(), shape)?
        .to_device(GPU)?
        .with_requires_grad(requires_grad)
}

fn lt(data: &[f32], shape: &[usize], requires_grad: bool) -> tch::Tensor {
    let s: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    tch::Tensor::from_slice(data)
        .view(s.as_slice())
        .to_device(TGPU)
        .set_requires_grad(requires_grad)
}

/// Waits for the engine's queued device work, so that a timing includes it.
fn engine_sync() -> R<()> {
    #[cfg(feature = "cuda")]
    {
        engine::cuda::synchronize(GPU)
    }
    #[cfg(not(feature = "cuda"))]
    {
        Err(engine::Error::NoCuda(GPU))
    }
}

fn zero_grads(ps: &[&engine::Tensor]) -> R<()> {
    for p in ps {
        if let Some(g) = p.grad() {
            g.zero_()?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------- workloads

struct Dispatch {
    e: [engine::Tensor; 3],
    t: [tch::Tensor; 3],
}

impl Dispatch {
    fn new() -> R<Self> {
        let (x, w, b) = (
            [0.5f32, -0.3, 0.8],
            [1.01f32, 0.99, 1.02],
            [0.01f32, 0.02, 0.03],
        );
        Ok(Dispatch {
            e: [
                eng(&x, &[3], true)?,
                eng(&w, &[3], false)?,
                eng(&b, &[3], false)?,
            ],
            t: [lt(&x, &[3], true), lt(&w, &[3], false), lt(&b, &[3], false)],
        })
    }
    fn engine(&self) -> R<()> {
        let [x, w, b] = &self.e;
        zero_grads(&[x])?;
        let mut h = x.clone();
        for _ in 0..50 {
            h = h.mul(w)?.sigmoid()?.add(b)?;
        }
        h.sum(None, false)?.backward()?;
        engine_sync()
    }
    fn libtorch(&mut self) {
        let [x, w, b] = &mut self.t;
        x.zero_grad();
        let mut h = x.shallow_clone();
        for _ in 0..50 {
            h = (&h * &*w).sigmoid() + &*b;
        }
        h.sum(Kind::Float).backward();
        tch::Cuda::synchronize(0);
    }
}

struct Polyfit {
    xx: Vec<f32>,
    y: Vec<f32>,
}

impl Polyfit {
    fn engine(&self) -> R<f64> {
        let xx = eng(&self.xx, &[2000, 3], false)?;
        let y = eng(&self.y, &[2000], false)?;
        let linear = Linear::from_tensors(
            eng(&POLY_W0, &[1, 3], true)?,
            Some(eng(&POLY_B0, &[1], true)?),
        )?;
        let model = Sequential::new(vec![Box::new(linear), Box::new(Flatten::new(0, 1))]);
        let loss_fn = MSELoss::new(Reduction::Sum);
        let mut opt = SGD::new(model.parameters(), SgdOptions::lr(1e-6))?;
        let mut last = 0.0;
        for _ in 0..POLY_STEPS {
            let loss = loss_fn.forward(&model.forward(&xx)?, &y)?;
            opt.zero_grad()?;
            loss.backward()?;
            opt.step()?;
            // item() copies back, which waits for the step, as `loss.item()` does in Python.
            last = loss.item()?.as_f64();
        }
        Ok(last)
    }
    fn libtorch(&self) -> f64 {
        let xx = lt(&self.xx, &[2000, 3], false);
        let y = lt(&self.y, &[2000], false);
        let w = lt(&POLY_W0, &[1, 3], true);
        let b = lt(&POLY_B0, &[1], true);
        let Ok(mut opt) = tch::COptimizer::sgd(1e-6, 0.0, 0.0, 0.0, false) else {
            return f64::NAN;
        };
        let _ = opt.add_parameters(&w, 0);
        let _ = opt.add_parameters(&b, 0);
        let mut last = 0.0;
        for _ in 0..POLY_STEPS {
            let pred = xx.linear(&w, Some(&b)).flatten(0, 1);
            let loss = pred.mse_loss(&y, tch::Reduction::Sum);
            let _ = opt.zero_grad();
            loss.backward();
            let _ = opt.step();
            last = loss.double_value(&[]);
        }
        last
    }
}

struct Matmul {
    e: [engine::Tensor; 2],
    t: [tch::Tensor; 2],
}

impl Matmul {
    fn new() -> R<Self> {
        let (va, vb) = (uniform(512 * 512, 1), uniform(512 * 512, 2));
        Ok(Matmul {
            e: [eng(&va, &[512, 512], true)?, eng(&vb, &[512, 512], true)?],
            t: [lt(&va, &[512, 512], true), lt(&vb, &[512, 512], true)],
        })
    }
    fn engine(&self) -> R<()> {
        let [a, b] = &self.e;
        zero_grads(&[a, b])?;
        a.matmul(b)?.sum(None, false)?.backward()?;
        engine_sync()
    }
    fn libtorch(&mut self) {
        let [a, b] = &mut self.t;
        a.zero_grad();
        b.zero_grad();
        a.matmul(b).sum(Kind::Float).backward();
        tch::Cuda::synchronize(0);
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
    fn new() -> R<Self> {
        let mut g = Generator::new(0);
        let host = [
            Conv2d::simple(3, 16, 3, 1, &mut g)?,
            Conv2d::simple(16, 32, 3, 1, &mut g)?,
        ];
        let mut params = Vec::new();
        let mut layers: Vec<Box<dyn Module>> = Vec::new();
        for conv in &host {
            let ps = conv.parameters();
            let on_gpu = |p: &engine::Tensor| -> R<engine::Tensor> {
                eng(&p.to_vec::<f32>()?, &p.shape(), true)
            };
            layers.push(Box::new(Conv2d::from_tensors(
                on_gpu(&ps[0])?,
                Some(on_gpu(&ps[1])?),
                Conv2dOptions::default(),
            )?));
            for p in &ps {
                params.push(lt(&p.to_vec::<f32>()?, &p.shape(), true));
            }
        }
        let x = uniform(8 * 3 * 50 * 100, 3);
        Ok(ConvStack {
            net: Sequential::new(layers),
            input: eng(&x, &[8, 3, 50, 100], false)?,
            params,
            tinput: lt(&x, &[8, 3, 50, 100], false),
        })
    }
    fn engine(&self) -> R<()> {
        self.net.zero_grad()?;
        self.net
            .forward(&self.input)?
            .sum(None, false)?
            .backward()?;
        engine_sync()
    }
    fn libtorch(&mut self) {
        libtorch_conv_stack_step(&mut self.params, &self.tinput);
        tch::Cuda::synchronize(0);
    }
}

// ---------------------------------------------------------------------------- criterion

/// Runs one workload's group: the engine's function only when a first run succeeded (the
/// error is kept for the summary), libtorch's always.
fn group(
    c: &mut Criterion,
    name: &str,
    samples: usize,
    skipped: &mut BTreeMap<String, String>,
    mut engine: impl FnMut() -> R<()>,
    mut libtorch: impl FnMut(),
) {
    let first = engine();
    let mut g = c.benchmark_group(name);
    g.sample_size(samples);
    match first {
        Ok(()) => {
            g.bench_function("engine-cuda", |b| b.iter(|| black_box(engine().is_ok())));
        }
        Err(e) => {
            skipped.insert(name.to_string(), e.to_string());
        }
    }
    g.bench_function("libtorch-cuda", |b| b.iter(&mut libtorch));
    g.finish();
}

fn run_criterion(c: &mut Criterion) -> BTreeMap<String, String> {
    let mut skipped = BTreeMap::new();
    let mut note = |name: &str, e: engine::Error| {
        skipped.insert(name.to_string(), format!("setup: {e}"));
    };
    let mut s = BTreeMap::new();
    match Dispatch::new() {
        Ok(d) => {
            let d = std::cell::RefCell::new(d);
            group(
                c,
                WORKLOADS[0].0,
                20,
                &mut s,
                || d.borrow().engine(),
                || d.borrow_mut().libtorch(),
            );
        }
        Err(e) => note(WORKLOADS[0].0, e),
    }
    let (xx, y) = polyfit_data();
    let p = Polyfit { xx, y };
    group(
        c,
        WORKLOADS[1].0,
        10,
        &mut s,
        || {
            p.engine().map(|l| {
                black_box(l);
            })
        },
        || {
            black_box(p.libtorch());
        },
    );
    match Matmul::new() {
        Ok(m) => {
            let m = std::cell::RefCell::new(m);
            group(
                c,
                WORKLOADS[2].0,
                20,
                &mut s,
                || m.borrow().engine(),
                || m.borrow_mut().libtorch(),
            );
        }
        Err(e) => note(WORKLOADS[2].0, e),
    }
    match ConvStack::new() {
        Ok(k) => {
            let k = std::cell::RefCell::new(k);
            group(
                c,
                WORKLOADS[3].0,
                20,
                &mut s,
                || k.borrow().engine(),
                || k.borrow_mut().libtorch(),
            );
        }
        Err(e) => note(WORKLOADS[3].0, e),
    }
    skipped.extend(s);
    skipped
}

// ---------------------------------------------------------------------------- summary

fn print_summary(since: SystemTime, skipped: &BTreeMap<String, String>) {
    let dir = criterion_dir();
    println!("\nengine-cuda vs libtorch-cuda on cuda:0, ratio = engine / libtorch");
    println!(
        "{:<55} {:>11} {:>11} {:>7}",
        "workload", "engine", "libtorch", "ratio"
    );
    for (group, title) in WORKLOADS {
        let e = mean_ns(&dir, group, "engine-cuda", since);
        let l = mean_ns(&dir, group, "libtorch-cuda", since);
        match (e, l, skipped.get(group)) {
            (Some(e), Some(l), _) => println!(
                "{:<55} {:>11} {:>11} {:>7.2}",
                title,
                fmt_time(e),
                fmt_time(l),
                e / l
            ),
            (_, l, Some(why)) => println!(
                "{:<55} {:>11} {:>11}  engine: {why}",
                title,
                "-",
                l.map_or("-".into(), fmt_time)
            ),
            _ => println!("{title:<55} (not run)"),
        }
    }
}

fn main() {
    if let Err(e) = engine_cuda_available().and_then(|()| libtorch_cuda_available()) {
        println!("cuda bench skipped: {e}");
        return;
    }
    let since = SystemTime::now() - Duration::from_secs(1);
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let skipped = run_criterion(&mut c);
    c.final_summary();
    print_summary(since, &skipped);
}
