#!/usr/bin/env bash
# Makes libtorch 2.13.0 available to cargo, from nothing, idempotently.
#
# libtorch comes from the torch==2.13.0 wheel on the Python package registry (libtorch's own
# download site is unreachable from our machines). The wheel goes into a virtualenv kept in a
# cache keyed by the torch version and flavour, outside the checkout, so every clone on a machine
# shares it. The checkout then gets a git-ignored symlink `.libtorch` to a libtorch folder
# (include/ and lib/), which `.cargo/config.toml` names as LIBTORCH; nothing needs exporting.
#
# Two flavours of the same wheel:
#   cpu   (default on a machine without an NVIDIA driver) installs torch without its CUDA
#         dependency wheels (2.7 GB of cuDNN, cuBLAS, NCCL... plus 0.7 GB of triton), keeping only
#         the three small ones libtorch_cpu.so and the engine's NVRTC tests load: cudart, cupti
#         and nvrtc. libtorch.so and libtorch_cuda.so need the rest, so cargo links against a
#         folder `libtorch-cpu/` beside `torch/` that leaves them out (see make_cpu_view). CPU
#         semantics are libtorch_cpu's either way; CUDA is then unavailable to tch.
#   cuda  (default where /proc/driver/nvidia exists) installs the wheel with everything, for the
#         libtorch-cuda oracle; its Python `torch` also imports, for checking behaviour by hand.
#
# Overrides:
#   LIBTORCH=/path/to/libtorch          use an existing libtorch 2.13.0 and skip the download
#   AUTOGRAD_CONFORMANCE_TORCH=cpu|cuda pick the flavour
#   AUTOGRAD_CONFORMANCE_CACHE=/dir     where the virtualenvs live (default ~/.cache/autograd-conformance)
#   PYTHON=python3.11                   the interpreter that creates the virtualenv
set -euo pipefail

TORCH_VERSION=2.13.0
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
link="$root/.libtorch"

fail() {
  cat >&2 <<MSG
setup: $1

Two ways to fix this:
  1. Make the Python package registry reachable (pip must be able to install torch==$TORCH_VERSION
     with ${PYTHON:-python3}), then run this again. PYTHON=... picks another interpreter (3.10 to 3.13).
  2. Point LIBTORCH at an existing libtorch $TORCH_VERSION (a folder with include/ and lib/),
     for example: LIBTORCH=/opt/libtorch make suite
MSG
  exit 1
}

point_at() { # $1: a libtorch folder (with include/ and lib/)
  [ -d "$1/include" ] && [ -d "$1/lib" ] || fail "'$1' has no include/ and lib/ folders; it is not a libtorch."
  if [ "$(readlink "$link" 2>/dev/null)" != "$1" ]; then
    ln -sfn "$1" "$link"
  fi
}

# $1: the wheel's torch/ folder. Writes $1/../libtorch-cpu: include/ is the wheel's, lib/ links
# every library of the wheel but the CUDA ones, and libtorch.so becomes a linker script naming
# libtorch_cpu.so (the wheel's libtorch.so is an empty library whose only job is to pull in
# libtorch_cpu.so and libtorch_cuda.so). The folder sits beside torch/ so that libtorch_cpu.so's
# RPATH ($ORIGIN/../../nvidia/cu13/lib) finds cudart and cupti through either path.
make_cpu_view() {
  local torch="$1" view
  view="$(dirname "$1")/libtorch-cpu"
  rm -rf "$view"
  mkdir -p "$view/lib"
  ln -s ../torch/include "$view/include"
  local f name
  for f in "$torch"/lib/*.so*; do
    name="$(basename "$f")"
    case "$name" in
      libtorch.so | libtorch_cuda* | libc10_cuda* | libtorch_nvshmem* | libcaffe2_nvrtc* | libtorch_python*) ;;
      *) ln -s "../../torch/lib/$name" "$view/lib/$name" ;;
    esac
  done
  printf '%s\n' "/* CPU-only view of the torch wheel (scripts/setup.sh): libtorch without libtorch_cuda. */" \
    "INPUT(AS_NEEDED(libtorch_cpu.so))" > "$view/lib/libtorch.so"
  echo "$view"
}

if [ -n "${LIBTORCH:-}" ] && [ "$LIBTORCH" != "$link" ]; then
  if [ -f "$LIBTORCH/build-version" ] && ! grep -q "^$TORCH_VERSION" "$LIBTORCH/build-version"; then
    fail "LIBTORCH=$LIBTORCH is libtorch $(cat "$LIBTORCH/build-version"), but tch 0.26 needs $TORCH_VERSION."
  fi
  point_at "$LIBTORCH"
  echo "setup: using LIBTORCH=$LIBTORCH"
  exit 0
fi

flavour="${AUTOGRAD_CONFORMANCE_TORCH:-}"
if [ -z "$flavour" ]; then
  if [ -e /proc/driver/nvidia/version ]; then flavour=cuda; else flavour=cpu; fi
fi
case "$flavour" in cpu | cuda) ;; *) fail "AUTOGRAD_CONFORMANCE_TORCH must be cpu or cuda, not '$flavour'." ;; esac

cache="${AUTOGRAD_CONFORMANCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/autograd-conformance}"
venv="$cache/torch-$TORCH_VERSION-$flavour"
marker="$venv/.installed"

if [ ! -f "$marker" ]; then
  python="${PYTHON:-python3}"
  command -v "$python" >/dev/null || fail "no Python interpreter '$python' on PATH."
  rm -rf "$venv"
  mkdir -p "$cache"
  "$python" -m venv "$venv" || fail "'$python -m venv $venv' failed (is the venv module installed?)."
  # No pip cache: the wheels would be kept twice, and disk is what CI machines run short of.
  pip=("$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir)
  if [ "$flavour" = cuda ]; then
    echo "setup: installing torch==$TORCH_VERSION with its CUDA libraries into $venv (about 90 s and 4.7 GB, once per machine)"
    "${pip[@]}" "torch==$TORCH_VERSION" || fail "pip could not install torch==$TORCH_VERSION into $venv."
  else
    echo "setup: installing torch==$TORCH_VERSION (CPU libtorch, no CUDA wheels) into $venv (about 1.4 GB, once per machine)"
    "${pip[@]}" --no-deps "torch==$TORCH_VERSION" || fail "pip could not install torch==$TORCH_VERSION into $venv."
    # The CUDA toolkit pin is torch's own (its Requires-Dist), narrowed to the three libraries.
    toolkit="$("$venv/bin/python" - <<'PY'
import re
from importlib.metadata import requires
pin = next(r for r in requires("torch") if r.startswith("cuda-toolkit"))
print(re.sub(r"\[[^\]]*\]", "[cudart,cupti,nvrtc]", pin.split(";")[0]).replace(" ", ""))
PY
)" || fail "the torch==$TORCH_VERSION wheel does not name its cuda-toolkit version."
    # pip then complains that torch's other requirements are missing, which is the point; its
    # output is shown only if the install fails.
    "${pip[@]}" "$toolkit" > "$venv/pip-toolkit.log" 2>&1 \
      || { cat "$venv/pip-toolkit.log" >&2; fail "pip could not install $toolkit into $venv."; }
  fi
  "$venv/bin/python" - <<PY > "$venv/torch-dir" || fail "torch installed but its files are not where pip says."
import os, sysconfig
from importlib.metadata import version
assert version("torch").split("+")[0] == "$TORCH_VERSION", version("torch")
torch = os.path.join(sysconfig.get_paths()["purelib"], "torch")
assert os.path.isfile(os.path.join(torch, "lib", "libtorch_cpu.so")), torch
print(torch)
PY
  if [ "$flavour" = cpu ]; then
    make_cpu_view "$(cat "$venv/torch-dir")" > "$venv/libtorch-dir"
  else
    cp "$venv/torch-dir" "$venv/libtorch-dir"
  fi
  touch "$marker"
fi

point_at "$(cat "$venv/libtorch-dir")"
echo "setup: libtorch $TORCH_VERSION ($flavour) at $(readlink "$link")"
