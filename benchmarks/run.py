#!/usr/bin/python3
"""run.py: capplan's benchmark suite (issue #5), measured against the references.

Builds capplan in Release, then at sizes S (10x50x4), M (50x300x8) and L (200x1000x12):
  - LP: `capplan plan` (period-block warm start), the same with --no-decompose (GLPK's
    dual simplex on the whole model), Clp on capplan's MPS export, and an independent
    PuLP model solved with CBC (benchmarks/lp_pulp_ref.py). Every optimum must agree to
    1e-6 relative before any time is trusted.
  - Scaling: plan time against non-zeros, with the fitted exponent and a plot.
  - Monte Carlo and sweeps: bench_mc and bench_sweep (they check, then time).
Prints a table of ratios and writes it to benchmarks/RESULTS.md between the markers
'<!-- run.py -->' and '<!-- /run.py -->'. Exits non-zero only when a result is wrong,
never because something is slow.

Usage: benchmarks/run.py [--sizes S,M,L] [--skip-pulp-l] [--no-build] [--no-write]
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build-bench")
CAPPLAN = os.path.join(BUILD, "capplan")
SIZES = {"S": (10, 50, 4), "M": (50, 300, 8), "L": (200, 1000, 12)}
PYTHON = "/usr/bin/python3"
wrong = []


def run(cmd, **kw):
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return proc, time.perf_counter() - start


def check_close(what, a, b, tol=1e-6):
    if a is None or b is None or not math.isfinite(a) or not math.isfinite(b) or \
            abs(a - b) > tol * max(1.0, abs(b)):
        wrong.append(f"{what}: {a} vs {b}")
        return False
    return True


def build():
    subprocess.run([os.path.join(ROOT, "scripts", "install-deps.sh")], check=True)
    subprocess.run(["cmake", "-S", ROOT, "-B", BUILD, "-DCMAKE_BUILD_TYPE=Release",
                    "-DCAPPLAN_TESTS=OFF"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", BUILD, "-j", str(os.cpu_count())], check=True,
                   stdout=subprocess.DEVNULL)


def capplan_plan(path, *extra):
    proc, wall = run([CAPPLAN, "plan", path, "--json", *extra])
    if proc.returncode != 0:
        wrong.append(f"capplan plan {path} {extra}: exit {proc.returncode}: {proc.stderr[-300:]}")
        return None
    summary = json.loads(proc.stdout)
    solver = summary["solver"]
    return {"objective": summary["objective_usd"], "wall": wall,
            "build": solver["build_seconds"], "solve": solver["solve_seconds"],
            "nonzeros": solver["nonzeros"], "columns": solver["columns"]}


def clp_solve(mps):
    proc, wall = run(["clp", mps, "-dualsimplex", "-quit"])
    m = re.search(r"Optimal objective\s+([-+0-9.eE]+)", proc.stdout)
    t = re.search(r"Optimal objective .* time ([0-9.]+)", proc.stdout)
    return {"objective": float(m.group(1)) if m else None, "wall": wall,
            "solve": float(t.group(1)) if t else wall}


def pulp_solve(path):
    proc, wall = run([PYTHON, os.path.join(ROOT, "benchmarks", "lp_pulp_ref.py"), path])
    if proc.returncode != 0:
        wrong.append(f"PuLP reference on {path}: {proc.stderr[-300:]}")
        return None
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def lp_benchmarks(sizes, tmp, skip_pulp_l, monolithic_l):
    rows, scaling = [], []
    for name in sizes:
        w, o, t = SIZES[name]
        path = os.path.join(tmp, f"{name}.yaml")
        subprocess.run([CAPPLAN, "generate", "--workloads", str(w), "--offerings", str(o),
                        "--periods", str(t), "--seed", "1", "--out", path], check=True)
        mps = os.path.join(tmp, f"{name}.mps")
        subprocess.run([CAPPLAN, "plan", path, "--quiet", "--export", mps], check=True)
        fast = capplan_plan(path)
        mono = capplan_plan(path, "--no-decompose") if name != "L" or monolithic_l else None
        clp = clp_solve(mps)
        pulp = None if (name == "L" and skip_pulp_l) else pulp_solve(path)
        if fast:
            scaling.append((fast["nonzeros"], fast["wall"]))
            check_close(f"{name}: capplan vs clp", fast["objective"], clp["objective"])
            if mono:
                check_close(f"{name}: decomposed vs monolithic", fast["objective"],
                            mono["objective"])
            if pulp:
                check_close(f"{name}: capplan vs PuLP+CBC", fast["objective"], pulp["objective"])
        rows.append((name, fast, mono, clp, pulp))
    return rows, scaling


def fit_exponent(points):
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(s) for _, s in points]
    if len(points) < 2:
        return float("nan")
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def scaling_curve(tmp):
    points = []
    for w, o, t in [(5, 25, 2), (10, 50, 4), (20, 100, 6), (30, 200, 8), (50, 300, 8),
                    (80, 500, 10)]:
        path = os.path.join(tmp, f"scale-{w}-{o}-{t}.yaml")
        subprocess.run([CAPPLAN, "generate", "--workloads", str(w), "--offerings", str(o),
                        "--periods", str(t), "--out", path], check=True)
        result = capplan_plan(path)
        if result:
            points.append((result["nonzeros"], result["wall"]))
    data = os.path.join(ROOT, "benchmarks", "scaling.dat")
    with open(data, "w") as f:
        f.write("nonzeros,seconds\n")
        for n, s in points:
            f.write(f"{n},{s:.6f}\n")
    exponent = fit_exponent(points)
    script = os.path.join(ROOT, "benchmarks", "scaling.gp")
    with open(script, "w") as f:
        f.write("set terminal pngcairo size 900,560 font 'sans,10'\n"
                "set output 'scaling.png'\nset datafile separator ','\nset logscale xy\n"
                "set grid\nset xlabel 'non-zeros'\nset ylabel 'capplan plan, seconds'\n"
                f"set title 'Plan time against model size (fitted exponent {exponent:.2f})'\n"
                "plot 'scaling.dat' skip 1 using 1:2 with linespoints lw 2 title 'capplan plan'\n")
    subprocess.run(["gnuplot", "scaling.gp"], cwd=os.path.join(ROOT, "benchmarks"))
    return points, exponent


def mc_scaling(max_samples):
    """Wall time and peak memory of `capplan simulate` on the default scenario as samples
    grow: the time should grow linearly and the memory stay flat once the exact-quantile
    store is full (kernels/mc.c switches to histograms beyond it)."""
    rows = []
    scenario = os.path.join(ROOT, "scenarios", "openai-multicloud-2026.yaml")
    n = 10_000
    while n <= max_samples:
        proc, wall = run(["/usr/bin/time", "-f", "%M", CAPPLAN, "simulate", scenario,
                          "--samples", str(n), "--backend", "cpu", "--quiet", "--json"])
        if proc.returncode != 0:
            wrong.append(f"simulate --samples {n}: exit {proc.returncode}")
            break
        peak_kib = int(proc.stderr.strip().splitlines()[-1])
        rows.append((n, wall, peak_kib / 1024.0))
        n *= 10
    return rows


def fmt(x, unit="s"):
    return "-" if x is None else f"{x:.3f} {unit}"


def lp_table(rows):
    out = ["| size | capplan plan (build + solve = wall) | GLPK whole model | Clp solve | "
           "PuLP build + CBC | capplan vs PuLP | capplan vs Clp |",
           "|---|---|---|---|---|---|---|"]
    for name, fast, mono, clp, pulp in rows:
        if not fast:
            continue
        pulp_total = pulp["build_s"] + pulp["solve_s"] if pulp else None
        out.append(
            f"| {name} {SIZES[name]} | {fast['build']:.3f} + {fast['solve']:.3f} = "
            f"{fast['wall']:.3f} s (build {100 * fast['build'] / fast['wall']:.0f}%) | "
            f"{fmt(mono['wall'] if mono else None)} | {fmt(clp['solve'])} | "
            + (f"{pulp['build_s']:.2f} + {pulp['solve_s']:.2f} s" if pulp else "-") + " | "
            + (f"{pulp_total / fast['wall']:.1f}x faster" if pulp else "-") + " | "
            + f"{clp['solve'] / fast['wall']:.2f}x |")
    return out


def bench_program(name, *args):
    exe = os.path.join(BUILD, "benchmarks", name)
    if not os.path.exists(exe):
        return [f"({name} not built)"]
    proc, _ = run([exe, *args])
    if proc.returncode != 0:
        wrong.append(f"{name}: exit {proc.returncode}: {proc.stdout[-500:]}{proc.stderr[-500:]}")
    return proc.stdout.rstrip().splitlines()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--skip-pulp-l", action="store_true",
                        help="skip PuLP+CBC on L (about 5 minutes on 2 cores)")
    parser.add_argument("--monolithic-l", action="store_true",
                        help="also time GLPK on the whole L model (several minutes)")
    parser.add_argument("--mc-max-samples", type=float, default=1e7,
                        help="largest sample count of the Monte Carlo scaling run")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        build()
    sizes = [s for s in args.sizes.split(",") if s in SIZES]
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    header = [f"Measured {datetime.date.today()} at commit {commit} on {platform.node()}: "
              f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}."]
    with tempfile.TemporaryDirectory() as tmp:
        rows, _ = lp_benchmarks(sizes, tmp, args.skip_pulp_l, args.monolithic_l)
        points, exponent = scaling_curve(tmp)
    lines = header + ["", "### LP: capplan plan against the references", ""] + lp_table(rows)
    lines += ["", f"### Scaling: plan time against non-zeros (fitted exponent {exponent:.2f}, "
              "plot benchmarks/scaling.png)", "", "| non-zeros | seconds |", "|---|---|"]
    lines += [f"| {n} | {s:.3f} |" for n, s in points]
    lines += ["", "### Monte Carlo (bench_mc)", "", "```"] + bench_program("bench_mc") + ["```"]
    scaling_rows = mc_scaling(int(args.mc_max_samples))
    lines += ["", "### Monte Carlo: time and peak memory against samples "
              "(default scenario, CPU, `capplan simulate`)", "",
              "| samples | wall s | samples/s | peak RSS MiB |", "|---|---|---|---|"]
    lines += [f"| {n:.0e} | {w:.2f} | {n / w:.3g} | {m:.0f} |" for n, w, m in scaling_rows]
    lines += ["", "### Sweeps (bench_sweep)", "", "```"] + bench_program("bench_sweep") + ["```"]
    if wrong:
        lines += ["", "### WRONG RESULTS", ""] + [f"- {w}" for w in wrong]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        path = os.path.join(ROOT, "benchmarks", "RESULTS.md")
        old = open(path).read() if os.path.exists(path) else "# Benchmark results\n"
        block = f"<!-- run.py -->\n{text}\n<!-- /run.py -->"
        if "<!-- run.py -->" in old:
            old = re.sub(r"<!-- run.py -->.*<!-- /run.py -->", lambda _: block, old, flags=re.S)
        else:
            old = old.rstrip() + "\n\n## Latest run of benchmarks/run.py\n\n" + block + "\n"
        with open(path, "w") as f:
            f.write(old)
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
