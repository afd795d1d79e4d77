//! Programs per second through the differential oracle, one core: generation, two interpreter
//! runs with full observation, and the comparator, for the campaign's program mix (about 20
//! statements; every tenth differentiable, with gradcheck). `harness fuzz --time N` reports the
//! same figure across all cores.
//!
//! Run: `cargo bench -p harness --bench fuzz_throughput`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use harness::backend::engine::EngineBackend;
use harness::backend::libtorch::LibtorchBackend;
use harness::fuzzing::campaign::config_for;
use harness::fuzzing::generate;
use harness::fuzzing::oracle::Differential;
use std::hint::black_box;

const PROGRAMS: u64 = 100;

fn bench(c: &mut Criterion) {
    tch::set_num_threads(1);
    let mut g = c.benchmark_group("fuzz_throughput");
    g.throughput(Throughput::Elements(PROGRAMS));
    g.sample_size(10);
    let programs: Vec<_> = (0..PROGRAMS)
        .map(|s| generate::program_from_seed(s, &config_for(s)))
        .collect();
    let stmts: usize = programs.iter().map(|p| p.stmts.len()).sum();
    eprintln!(
        "{PROGRAMS} programs, {:.1} statements each",
        stmts as f64 / PROGRAMS as f64
    );

    g.bench_function("generate", |b| {
        b.iter(|| {
            for s in 0..PROGRAMS {
                black_box(generate::program_from_seed(s, &config_for(s)));
            }
        })
    });
    let mut lt = Differential::new(LibtorchBackend::new(), LibtorchBackend::new());
    g.bench_function("libtorch_vs_libtorch", |b| {
        b.iter(|| {
            for p in &programs {
                black_box(lt.check(p));
            }
        })
    });
    let mut en = Differential::new(EngineBackend::default(), LibtorchBackend::new());
    g.bench_function("engine_vs_libtorch", |b| {
        b.iter(|| {
            for p in &programs {
                black_box(en.check(p));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
