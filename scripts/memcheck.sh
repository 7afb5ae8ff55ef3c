#!/usr/bin/env bash
# memcheck.sh: run valgrind memcheck on `capplan plan` and `capplan simulate` of the default
# scenario; fails on any memory error or leak (definite, indirect or possible).
#
#   scripts/memcheck.sh            build build-memcheck/ (RelWithDebInfo, no CUDA) and check
#   scripts/memcheck.sh --cuda     the same with the CUDA backend built (simulate runs on the
#                                  CPU: valgrind cannot follow GPU work)
#
# Suppressions (scripts/memcheck.supp) cover two false positives outside capplan: libgomp's
# never-joined thread pool and glibc's dynamic loader while the CUDA runtime dlopens
# libcuda. Valgrind does not emulate AVX-512, so the Monte Carlo runs its AVX2/SSE2 lanes
# here (the ASan pass of scripts/test.sh covers the AVX-512 ones). Manual step, a few
# minutes; see docs/hardening.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cuda=OFF
[ "${1:-}" = "--cuda" ] && cuda=ON
command -v valgrind >/dev/null || { echo "memcheck.sh: valgrind missing (apt-get install valgrind)" >&2; exit 1; }
build=${CAPPLAN_MEMCHECK_BUILD_DIR:-build-memcheck}
[ -x /usr/local/cuda/bin/nvcc ] && export PATH="/usr/local/cuda/bin:$PATH"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAPPLAN_CUDA=$cuda \
  -DCAPPLAN_TESTS=OFF -DCAPPLAN_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target capplan >/dev/null
out=$(mktemp -d /tmp/capplan-memcheck-XXXXXX)
trap 'rm -rf "$out"' EXIT
scenario=scenarios/openai-multicloud-2026.yaml
status=0
check() {
  local name=$1
  shift
  echo "memcheck: capplan $*"
  if valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
      --errors-for-leak-kinds=definite,indirect,possible --track-origins=yes \
      --suppressions=scripts/memcheck.supp --log-file="$out/$name.log" \
      "$build/capplan" "$@" >/dev/null 2>&1; then
    grep -E "ERROR SUMMARY|definitely lost|possibly lost" "$out/$name.log" | sed 's/^==[0-9]*== /  /'
  else
    cat "$out/$name.log"
    echo "memcheck: capplan $* FAILED" >&2
    status=1
  fi
}
check plan plan "$scenario" --quiet --out "$out/plan"
check simulate simulate "$scenario" --backend cpu --samples 20000 --quiet --out "$out/sim"
[ $status -eq 0 ] && echo "memcheck: clean"
exit $status
