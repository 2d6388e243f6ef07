#!/usr/bin/env bash
# Set up everything `rag` needs on a fresh machine: a virtualenv in .venv with the pinned
# CPU torch first (an unpinned torch pulls GBs of CUDA), then this package and its extras.
# Safe to run again: it does nothing when pyproject.toml has not changed since the last run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv" >&2
    "$PY" -m venv .venv
fi
stamp=.venv/.rag-setup-stamp
want="$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing torch==2.13.0 (CPU) and rag's dependencies; llama-cpp-python compiles once (~5-15 min)" >&2
    .venv/bin/pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/pip install --quiet --disable-pip-version-check "torch==2.13.0"
    # llama.cpp is built for this CPU (-march=native) but without its AMX kernels: on Sapphire Rapids VMs they
    # segfault in the first decode (llama.cpp issue 20824); the AVX-512 kernels are used instead. GCC lets
    # these -mno-* win over -march=native whatever their order. --no-cache-dir: never reuse a wheel built
    # on another CPU or with other flags.
    no_amx=""
    if [ "$(uname -m)" = x86_64 ]; then no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"; fi
    CFLAGS="${CFLAGS:-} $no_amx" CXXFLAGS="${CXXFLAGS:-} $no_amx" \
        CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" .venv/bin/pip install --quiet --disable-pip-version-check --no-cache-dir -e ".[dev]"
    echo "$want" > "$stamp"
fi
