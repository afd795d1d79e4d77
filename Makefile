# The two commands of the README, and the steps they share.
# Every target first runs scripts/setup.sh, which makes libtorch 2.13.0 available (once per machine).

.PHONY: suite test setup fmt-check clippy cargo-test bench fuzz-build

CARGO ?= cargo
# Incremental state is only worth its disk (1.8 GB for this workspace) when editing; a fresh clone
# builds once. Set CARGO_INCREMENTAL=1 to keep it.
export CARGO_INCREMENTAL ?= 0

## Command one: the conformance suite, engine vs libtorch, writing reports/index.html.
suite: setup
	$(CARGO) run -p harness --bin harness -- run cases/

## Command two: every test, with the formatting and lint gates.
test: setup fmt-check clippy cargo-test

setup:
	@./scripts/setup.sh

fmt-check:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p engine --features cuda --all-targets -- -D warnings
	$(CARGO) clippy -p harness --features cuda --all-targets -- -D warnings

cargo-test:
	$(CARGO) test --workspace
	# The CUDA kernels compile to PTX with NVRTC from the torch wheel; no GPU needed.
	$(CARGO) test -p engine --features cuda --test nvrtc_compile --test cuda

## Not part of the two commands: the engine-vs-libtorch benchmarks (several minutes).
bench: setup
	$(CARGO) bench -p harness --bench engine_vs_libtorch
