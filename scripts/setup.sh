#!/usr/bin/env bash
# Makes libtorch 2.13.0 available to cargo, from nothing, idempotently.
#
# libtorch comes from the torch==2.13.0 wheel on the Python package registry (libtorch's own
# download site is unreachable from our machines). The wheel goes into a virtualenv kept in a
# cache keyed by the torch version, outside the checkout, so every clone on a machine shares it.
# The checkout then gets a git-ignored symlink `.libtorch` to the wheel's `torch/` folder, which
# `.cargo/config.toml` names as LIBTORCH; nothing needs exporting by hand.
#
# Overrides:
#   LIBTORCH=/path/to/libtorch        use an existing libtorch 2.13.0 and skip the download
#   AUTOGRAD_CONFORMANCE_CACHE=/dir   where the virtualenv lives (default ~/.cache/autograd-conformance)
#   PYTHON=python3.11                 the interpreter that creates the virtualenv
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

if [ -n "${LIBTORCH:-}" ] && [ "$LIBTORCH" != "$link" ]; then
  if [ -f "$LIBTORCH/build-version" ] && ! grep -q "^$TORCH_VERSION" "$LIBTORCH/build-version"; then
    fail "LIBTORCH=$LIBTORCH is libtorch $(cat "$LIBTORCH/build-version"), but tch 0.26 needs $TORCH_VERSION."
  fi
  point_at "$LIBTORCH"
  echo "setup: using LIBTORCH=$LIBTORCH"
  exit 0
fi

cache="${AUTOGRAD_CONFORMANCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/autograd-conformance}"
venv="$cache/torch-$TORCH_VERSION"
marker="$venv/.installed"

if [ ! -f "$marker" ]; then
  python="${PYTHON:-python3}"
  command -v "$python" >/dev/null || fail "no Python interpreter '$python' on PATH."
  echo "setup: installing torch==$TORCH_VERSION into $venv (about 90 s and 4.7 GB, once per machine)"
  rm -rf "$venv"
  mkdir -p "$cache"
  "$python" -m venv "$venv" || fail "'$python -m venv $venv' failed (is the venv module installed?)."
  "$venv/bin/pip" install --quiet --disable-pip-version-check "torch==$TORCH_VERSION" \
    || fail "pip could not install torch==$TORCH_VERSION into $venv."
  "$venv/bin/python" - <<PY > "$venv/torch-dir" || fail "torch installed but does not import."
import os, torch
assert torch.__version__.split("+")[0] == "$TORCH_VERSION", torch.__version__
print(os.path.dirname(torch.__file__))
PY
  touch "$marker"
fi

point_at "$(cat "$venv/torch-dir")"
echo "setup: libtorch $TORCH_VERSION at $(readlink "$link")"
