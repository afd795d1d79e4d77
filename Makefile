# The two commands of the README, and the steps they share.
# Every target first runs scripts/setup.sh, which makes libtorch 2.13.0 available (once per machine).

.PHONY: suite test setup fmt-check clippy cargo-test bench fuzz-build mutants

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

## Not part of the two commands: a mutation score. cargo-mutants mutates engine/src and runs the
## conformance suite (`cargo test -p harness --test cases`) and the proptest run
## (`--test fuzz_proptest`) on each mutant; .cargo/mutants.toml says what is mutated, what tests
## it, and which mutants are left out as equivalent. A mutant takes about 80 s here (rebuilding
## the engine and two test binaries; the suite itself runs in 3 s), plus one baseline per run, so
## this runs a uniform sample: shard k of n (k counts from 0) of the mutants dealt out
## round-robin; running k = 0 .. n-1 covers every mutant once. For example
## `make mutants MUTANTS_SHARD=3/20`, or `MUTANTS_ARGS=--list` to see the sample without running it.
## Results: target/mutants.out/ (caught.txt, missed.txt, timeout.txt, unviable.txt, outcomes.json).
## The copied tree builds in its own target dir, target/mutants, kept between runs so that only
## the workspace crates rebuild; it is separate from target/ so that other builds are not disturbed.
## LIBTORCH is given as this checkout's link: .cargo/config.toml's relative one would name the
## copy's temporary folder, a new path every run, and rebuild torch-sys and all above it each time.
MUTANTS_SHARD ?= 0/20
MUTANTS_ARGS ?=
# Set MUTANTS_STRICT=1 to fail when a mutant is missed or times out (cargo-mutants' exit codes 2
# and 3); by default those runs succeed and print the score.
MUTANTS_STRICT ?=
CARGO_MUTANTS_VERSION ?= 27.1.0
MUTANTS_CMD = CARGO_TARGET_DIR="$(CURDIR)/target/mutants" LIBTORCH="$${LIBTORCH:-$(CURDIR)/.libtorch}" \
	$(CARGO) mutants --sharding round-robin --shard $(MUTANTS_SHARD) --output target $(MUTANTS_ARGS)

mutants: setup
	@$(CARGO) mutants --version >/dev/null 2>&1 || \
		$(CARGO) install --locked cargo-mutants --version $(CARGO_MUTANTS_VERSION)
	$(info $(MUTANTS_CMD))
	@rc=0; $(MUTANTS_CMD) || rc=$$?; \
	$(if $(findstring --list,$(MUTANTS_ARGS)),exit $$rc;) case $$rc in 0|2|3) ;; *) exit $$rc;; esac; \
	o=target/mutants.out; c=$$(wc -l < $$o/caught.txt); m=$$(wc -l < $$o/missed.txt); \
	t=$$(wc -l < $$o/timeout.txt); u=$$(wc -l < $$o/unviable.txt); n=$$((c + m + t)); \
	echo "mutation score, shard $(MUTANTS_SHARD): $$c caught of $$n viable" \
		"($$((n ? 100 * c / n : 0))%; $$m missed, $$t timed out, $$u unviable); see $$o/"; \
	if [ -n "$(MUTANTS_STRICT)" ]; then exit $$rc; fi
