#!/usr/bin/env python3
"""mc_samples.py: time and peak memory of `capplan simulate` as the sample count grows.

The time should grow linearly and the memory stay flat once the exact-quantile store is
full (kernels/mc.c then estimates quantiles from a fine histogram in a second pass). Each
run's peak resident memory comes from wait4 on that run alone. Before any time is
trusted, each run's mean cost must agree with the largest run's within 4 standard errors
(the runs use the same seed, so they share their first samples).

Usage: benchmarks/mc_samples.py CAPPLAN SCENARIO [--backend cpu|cuda] [--max N]
                                [--threads N] [--timeout S]
Prints a Markdown table; exits 1 when a run fails or disagrees.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time


def run_one(capplan, scenario, samples, backend, threads, timeout):
    cmd = [capplan, "simulate", scenario, "--samples", str(samples), "--backend", backend,
           "--quiet", "--json"]
    if threads:
        cmd += ["--threads", str(threads)]
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                return None, f"timed out after {timeout} s"
            time.sleep(0.02)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            return None, f"exit {code}: {proc.stderr.read().decode()[-300:]}"
        out.seek(0)
        result = json.load(out)
    cost = result["cost_usd"]
    return {"samples": samples, "wall": wall, "peak_mib": usage.ru_maxrss / 1024.0,
            "mean": cost["mean"], "std": cost["std"], "exact": cost["quantiles_exact"]}, None


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("capplan")
    parser.add_argument("scenario")
    parser.add_argument("--backend", default="cpu")
    parser.add_argument("--max", type=float, default=1e7)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    rows, wrong = [], []
    n = 10_000
    while n <= args.max:
        row, error = run_one(args.capplan, args.scenario, n, args.backend, args.threads,
                             args.timeout)
        if error:
            wrong.append(f"--samples {n}: {error}")
            break
        rows.append(row)
        print(f"  {n:.0e} samples: {row['wall']:.2f} s, {row['peak_mib']:.0f} MiB",
              file=sys.stderr, flush=True)
        n *= 10
    if rows:
        last = rows[-1]
        for r in rows[:-1]:
            se = math.sqrt(r["std"] ** 2 / r["samples"] + last["std"] ** 2 / last["samples"])
            if abs(r["mean"] - last["mean"]) > 4 * se:
                wrong.append(f"--samples {r['samples']}: mean cost {r['mean']:.6g} vs "
                             f"{last['mean']:.6g} at {last['samples']} (4 se {4 * se:.3g})")
    print(f"| samples | wall s | samples/s | peak RSS MiB | quantiles |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['samples']:.0e} | {r['wall']:.2f} | {r['samples'] / r['wall']:.3g} | "
              f"{r['peak_mib']:.0f} | {'exact' if r['exact'] else 'histogram'} |")
    for w in wrong:
        print(f"WRONG: {w}")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
