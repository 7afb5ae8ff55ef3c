#!/usr/bin/env bash
# gpu-carry.sh: the lean copy of a CUDA build that scripts/gpu-run.sh needs on a GPU machine
# (the programs and CMakeCache.txt, without object files), for when the build folder is
# larger than what a call to the GPU machine can carry.
#
#   scripts/gpu-carry.sh BUILD_DIR DEST     (DEST is emptied first)
set -eu
build=$1
dest=$2
rm -rf "$dest"
mkdir -p "$dest/tests" "$dest/benchmarks"
cp "$build/CMakeCache.txt" "$build/capplan" "$dest/"
cp "$build/tests/capplan_tests" "$dest/tests/"
cp "$build/benchmarks/bench_mc" "$dest/benchmarks/"
du -sh "$dest"
