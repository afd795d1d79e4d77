//! Grad mode is thread-local in both backends, and one worker thread runs many programs. A
//! program that switches grad mode off with a bare statement must not change the next program's
//! outcome: each program starts with grad mode on, as a fresh Python process does.

use harness::backend::Backend;
use harness::backend::engine::EngineBackend;
use harness::backend::libtorch::LibtorchBackend;
use harness::interp::{self, Options};
use harness::program::parse;

fn y_requires_grad_after_a_program_that_disabled_grad<B: Backend>(mut backend: B) -> bool {
    let leaky = parse("torch.set_grad_enabled(False)\n").expect("parses");
    let next = parse("x = ones(2, requires_grad=True)\ny = x * 2\n").expect("parses");
    let options = Options::default();
    interp::run(&mut backend, &leaky, 0, &options);
    let run = interp::run(&mut backend, &next, 0, &options);
    let last = run.steps.last().expect("the second program ran");
    let y = last
        .vars
        .iter()
        .find(|v| v.name == "y")
        .expect("y is observed");
    y.obs.requires_grad
}

#[test]
fn engine_programs_start_with_grad_mode_on() {
    assert!(y_requires_grad_after_a_program_that_disabled_grad(
        EngineBackend::new()
    ));
}

#[test]
fn libtorch_programs_start_with_grad_mode_on() {
    assert!(y_requires_grad_after_a_program_that_disabled_grad(
        LibtorchBackend::new()
    ));
}
