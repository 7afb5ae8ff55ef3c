#!/usr/bin/env bash
# gpu-run.sh: the checks and benchmarks that need an NVIDIA GPU, run on a machine that has
# one from a build made elsewhere (it needs no compiler and no package registry).
#
#   scripts/gpu-run.sh BUILD_DIR OUT_DIR [STAGE...]
#
# BUILD_DIR is a CUDA build (cmake -DCAPPLAN_CUDA=ON), or the lean copy of one that
# scripts/gpu-carry.sh makes when the build folder is too large to carry; its test binary
# reads data from the source tree it was configured in and runs `capplan` from the folder
# it was built in, so when those paths do not exist here they are made links to this
# checkout and to BUILD_DIR. Libraries missing on the GPU machine come from
# .gpu/ (../shared/tools/gpu-bundle). Stages (default: all, in this order):
#   info       nvidia-smi, cores, `capplan devices`
#   tests      the whole Criterion suite (CUDA tests included), then mc/* alone
#   sanitizer  compute-sanitizer memcheck, racecheck, initcheck, synccheck on the CUDA test
#              and on `capplan simulate --backend cuda`
#   bench      bench_mc: CUDA against the CPU on fresh inputs, then every variant timed
#              against the CPU (all cores), NumPy and cuRAND
#   threads    bench_mc on the CPU with 1, 2, 4, 8 and all threads
#   samples    time and peak memory of `capplan simulate` from 1e4 to 1e9 samples (cuda)
#              and to 1e8 (cpu)
# Everything goes to OUT_DIR/gpu-run.log; a summary of each stage's exit code is printed last.
set -u
build=$(cd "$1" && pwd)
out=$2
shift 2
stages=${*:-info tests bench threads sanitizer samples}
mkdir -p "$out"
log=$out/gpu-run.log
root=$(pwd)
export LD_LIBRARY_PATH=$root/.gpu/root/usr/lib/x86_64-linux-gnu:$root/.gpu/root/lib/x86_64-linux-gnu:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export PATH=/usr/local/cuda/bin:$PATH
source_dir=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
if [ -n "$source_dir" ] && [ ! -e "$source_dir/CMakeLists.txt" ]; then
    mkdir -p "$(dirname "$source_dir")" && ln -sfn "$root" "$source_dir"
fi
binary_dir=$(sed -n 's/^CMAKE_CACHEFILE_DIR:INTERNAL=//p' "$build/CMakeCache.txt")
if [ -n "$binary_dir" ] && [ ! -e "$binary_dir" ]; then
    mkdir -p "$(dirname "$binary_dir")" && ln -sfn "$build" "$binary_dir"
elif [ -n "$binary_dir" ] && [ ! -e "$binary_dir/capplan" ]; then
    echo "gpu-run.sh: $binary_dir has no capplan: the tests that run it will fail" >&2
fi
python=$(command -v python3)
scenario=scenarios/openai-multicloud-2026.yaml
summary=()

stage() { # NAME LIMIT_S COMMAND...
    local name=$1 limit=$2
    shift 2
    echo "===== $name: $*" | tee -a "$log"
    local start=$SECONDS
    timeout "$limit" "$@" >>"$log" 2>&1
    local rc=$?
    summary+=("$name rc=$rc $((SECONDS - start))s")
    echo "===== $name rc=$rc in $((SECONDS - start)) s" | tee -a "$log"
}

sanitizer_args() { # TOOL
    echo --tool "$1" --error-exitcode 1 --target-processes all
    [ "$1" = memcheck ] && echo --leak-check full
}

for s in $stages; do
    case $s in
    info)
        stage nvidia-smi 30 nvidia-smi
        stage nproc 5 bash -c 'nproc; free -g; uname -r'
        stage devices 30 "$build/capplan" devices
        ;;
    tests)
        stage tests-all 300 "$build/tests/capplan_tests" -j"$(nproc)"
        stage tests-mc 120 "$build/tests/capplan_tests" --filter 'mc/*' --verbose
        ;;
    sanitizer)
        for tool in memcheck racecheck initcheck synccheck; do
            stage "sanitizer-$tool-test" 150 compute-sanitizer $(sanitizer_args "$tool") \
                "$build/tests/capplan_tests" \
                --filter 'mc/cuda_*' --jobs 1
        done
        for tool in memcheck racecheck initcheck; do
            stage "sanitizer-$tool-simulate" 150 compute-sanitizer $(sanitizer_args "$tool") \
                "$build/capplan" simulate \
                "$scenario" --backend cuda --samples 20000 --demand-scale 0.9:1.1:0.1 \
                --recourse greedy --quiet --json
        done
        ;;
    bench)
        stage bench-mc 300 "$build/benchmarks/bench_mc" --python "$python" \
            --script benchmarks/mc_numpy_ref.py
        ;;
    threads)
        for t in 1 2 4 8 "$(nproc)"; do # samples so that one thread runs a few seconds
            for size in small:4000000 medium:1000000 large:200000; do
                stage "threads-$t-${size%%:*}" 120 "$build/benchmarks/bench_mc" --no-cuda \
                    --no-numpy --threads "$t" --repeat 2 --sizes "${size%%:*}" \
                    --samples "${size##*:}"
            done
        done
        ;;
    samples)
        stage samples-cuda 240 "$python" benchmarks/mc_samples.py "$build/capplan" \
            "$scenario" --backend cuda --max 1e9 --timeout 200
        stage samples-cpu 180 "$python" benchmarks/mc_samples.py "$build/capplan" \
            "$scenario" --backend cpu --max 1e8 --timeout 150
        ;;
    *) echo "gpu-run.sh: unknown stage $s" >&2 ;;
    esac
done
printf '%s\n' "${summary[@]}" | tee -a "$log"
