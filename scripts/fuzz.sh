#!/usr/bin/env bash
# fuzz.sh: build the libFuzzer target (tests/fuzz/fuzz_scenario.c: scenario loader,
# validator, model builder, small solves) with clang -fsanitize=fuzzer,address,undefined
# into build-fuzz/, then run a campaign or replay the kept crashing inputs.
#
#   scripts/fuzz.sh [SECONDS] [LIBFUZZER ARGS...]   fuzz for SECONDS (default 300)
#   scripts/fuzz.sh --replay                        run every tests/fuzz/regressions/ input once
#
# The growing corpus lives in build-fuzz/corpus (seeded from scenarios/, tests/data/loader/,
# tests/data/hostile/ and tests/fuzz/regressions/); inputs that crash, hang or leak land in
# tests/fuzz/findings/ (ignored by git): minimise one with `-minimize_crash=1`, fix the bug,
# and keep the input in tests/fuzz/regressions/, which the Criterion suite replays.
# Fuzzing is a manual step, not part of scripts/test.sh. Needs clang with libFuzzer (Debian:
# clang and libclang-rt-*-dev). See docs/hardening.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${CAPPLAN_FUZZ_BUILD_DIR:-build-fuzz}
CC=${CC:-clang}
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
    "$CC" -x c -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
  echo "fuzz.sh: $CC cannot link -fsanitize=fuzzer (Debian: apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
CC=$CC cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAPPLAN_FUZZ=ON \
  -DCAPPLAN_CUDA=OFF -DCAPPLAN_WERROR=OFF -DCAPPLAN_TESTS=OFF -DCAPPLAN_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_scenario >/dev/null
target=$root/$build/tests/fuzz/fuzz_scenario

# Includes in a buffer are relative to the current folder: give the fuzzer files to find.
work=$build/work
mkdir -p "$work/include" "$build/corpus" tests/fuzz/findings
cp -r tests/data/loader/include/. scenarios/include/. "$work/include/"
cp tests/data/loader/cycle_*.yaml tests/data/loader/dup_catalog.yaml "$work/"
common=(-dict="$root/tests/fuzz/scenario.dict" -max_len=65536 -timeout=10 -rss_limit_mb=2048
        -artifact_prefix="$root/tests/fuzz/findings/")

if [ "${1:-}" = "--replay" ]; then
  shopt -s nullglob
  inputs=("$root"/tests/fuzz/regressions/*)
  [ ${#inputs[@]} -gt 0 ] || { echo "fuzz.sh: no regression inputs"; exit 0; }
  cd "$work" && exec "$target" "${common[@]}" -runs=1 "${inputs[@]}"
fi

seconds=${1:-300}
shift || true
cd "$work"
exec "$target" "${common[@]}" -max_total_time="$seconds" -print_final_stats=1 "$@" \
  "$root/$build/corpus" "$root/scenarios" "$root/tests/data/loader" \
  "$root/tests/data/hostile" "$root/tests/fuzz/regressions"
