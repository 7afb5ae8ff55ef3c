#!/usr/bin/env bash
# test.sh: build everything (scripts/build.sh) and run the whole Criterion test suite.
# Tests that need a GPU skip with a message when none is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh "$@"
build=${CAPPLAN_BUILD_DIR:-build}
# Criterion runs each test in its own worker process; two jobs suit CI's two cores.
"$build/tests/capplan_tests" --jobs "$(nproc)" --short-filename
