#!/usr/bin/env bash
# build.sh: install the Debian packages capplan needs (when missing), then configure and
# build everything (Release) into build/. Extra arguments go to CMake's configure step,
# e.g. scripts/build.sh -DCAPPLAN_CUDA=OFF or -DCAPPLAN_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=${CAPPLAN_BUILD_DIR:-build}
# nvcc is found through PATH or the usual CUDA location; without it the CPU build is made.
[ -x /usr/local/cuda/bin/nvcc ] && export PATH="/usr/local/cuda/bin:$PATH"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
