#!/usr/bin/env bash
# test.sh: build everything (scripts/build.sh) and run the whole Criterion test suite, then
# build the suite again with AddressSanitizer + UndefinedBehaviorSanitizer (Debug, no CUDA,
# in build-asan/) and run it once more. Tests that need a GPU skip with a message when none
# is present. CAPPLAN_SANITIZE_PASS=0 skips the sanitizer pass (it adds a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
# The tests work in /tmp/capplan-* folders; remove the ones this run made (newer than the
# marker), and only those, when it ends.
marker=$(mktemp /tmp/capplan-run-XXXXXX)
trap 'find /tmp -maxdepth 1 -name "capplan-*" -newer "$marker" -exec rm -rf {} + 2>/dev/null; rm -f "$marker"' EXIT
scripts/build.sh "$@"
build=${CAPPLAN_BUILD_DIR:-build}
# Criterion runs each test in its own worker process; two jobs suit CI's two cores.
"$build/tests/capplan_tests" --jobs "$(nproc)" --short-filename

[ "${CAPPLAN_SANITIZE_PASS:-1}" = 0 ] && exit 0
asan=${CAPPLAN_ASAN_BUILD_DIR:-build-asan}
echo "test.sh: sanitizer pass (ASan + UBSan, $asan/)"
start=$SECONDS
cmake -S . -B "$asan" -DCMAKE_BUILD_TYPE=Debug -DCAPPLAN_SANITIZE=ON -DCAPPLAN_CUDA=OFF \
  -DCAPPLAN_BENCHMARKS=OFF >/dev/null
cmake --build "$asan" -j "$(nproc)" --target capplan capplan_tests
# Every process (Criterion's workers and the capplan binaries the tests start) checks for
# leaks when it exits. Criterion has already recorded a worker's result by then and ignores
# its exit status, so reports go to files (log_path) and any file fails the pass.
reports=$(mktemp -d /tmp/capplan-sanitizer-XXXXXX)
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:log_path=$reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
suite=0
"$asan/tests/capplan_tests" --jobs "$(nproc)" --short-filename || suite=$?
# LeakSanitizer's own notice that ptrace could not read one thread's registers (seen on CI's
# virtual machines, now and then) is not a finding: LSan then scans that thread's whole stack
# as reachable and carries on. A file holding only such notices is shown, not counted.
benign='^==[0-9]+==Unable to get registers from thread [0-9]+\.$'
found=0
for report in "$reports"/*; do
  [ -e "$report" ] || continue
  if grep -Evq "$benign|^$" "$report"; then
    found=1
  else
    echo "test.sh: LeakSanitizer notice, not a finding: $(head -n 1 "$report")" >&2
    rm -f "$report"
  fi
done
if [ $found -eq 1 ]; then
  cat "$reports"/* >&2
  echo "test.sh: sanitizer reports above (also in $reports)" >&2
  exit 1
fi
[ $suite -eq 0 ] || exit $suite
rm -rf "$reports"
echo "test.sh: sanitizer pass clean in $((SECONDS - start)) s"
