#!/usr/bin/python3
"""mc_numpy_ref.py: a vectorised NumPy implementation of capplan's Monte Carlo model
(SPEC section 2), the reference bench_mc races and checks its mean cost against.

usage: mc_numpy_ref.py PROBLEM.json SAMPLES [REPEAT]

PROBLEM.json is written by bench_mc (flat arrays in kernels/mc.h layouts). The script
simulates SAMPLES samples in chunks, computes the same statistics as the engine (cost
mean/std/quantiles/CVaR95; per workload and period P(shortfall), E and P95 shortfall,
service level; per workload P(any shortfall), E and P95 unmet H100e-hours) and prints one
line: samples_per_s=... mean_cost=... std_cost=... seconds=... cpu_seconds=... (time excludes
loading; the
best of REPEAT runs, default 1, as the machine may be shared; statistics of the first run).

It uses NumPy's own generator (PCG64), not the engine's Philox streams: the two agree in
distribution, so means agree within statistical error, not sample by sample.
"""
import json
import sys
import time

import numpy as np

CHUNK = 65536
TOL = 1e-9  # falls short: shortfall > TOL * demanded


def load(path):
    with open(path) as f:
        pb = json.load(f)
    W, O, P, T = pb["W"], pb["O"], pb["P"], pb["T"]
    a = {k: np.asarray(v, dtype=float) for k, v in pb.items()
         if isinstance(v, list) and k not in ("offering_provider",)}
    a["offering_provider"] = np.asarray(pb["offering_provider"], dtype=int)
    a["demand"] = a["demand"].reshape(W, T)
    a["chol"] = a["chol"].reshape(W, W)
    a["price"] = a["price"].reshape(O, T)
    a["capacity"] = a["capacity"].reshape(O, T)
    a["thr"] = a["thr"].reshape(W, O)
    a["plan"] = a["plan"].reshape(T, W, O)
    return pb, a


def prepare(pb, a):
    """Derived arrays, as the engine builds them (kernels/mc.c model_build)."""
    W, O, T = pb["W"], pb["O"], pb["T"]
    d = {}
    d["G"] = a["thr"][None, :, :] * a["plan"]  # [T, W, O] thr * plan
    pays = a["has_penalty"] > 0
    d["pen_h"] = np.where(pays[:, None], a["penalty"][:, None] * a["hours"][None, :], 0.0)
    planned = a["plan"].sum(axis=1).T  # [O, T]
    rec = a["recourse_ok"] > 0
    d["spare"] = np.where(rec[:, None], np.maximum(a["capacity"] - planned, 0.0), 0.0)
    hard = ~pays
    d["priority"] = sorted(range(W), key=lambda w: (0 if hard[w] else 1,
                                                    0.0 if hard[w] else -a["penalty"][w], w))
    order = {}
    for t in range(T):
        for w in range(W):
            eff = a["thr"][w] * a["availability"]
            cand = [o for o in range(O) if d["spare"][o, t] > 0 and eff[o] > 0]
            order[t, w] = sorted(cand, key=lambda o: (a["price"][o, t] / eff[o], o))
    d["order"] = order
    d["half_var"] = 0.5 * a["sigma"] ** 2
    return d


def simulate(pb, a, d, rng, n):
    """One chunk: per-sample cost [n], shortfall [n, W, T], demanded [n, W, T]."""
    W, O, P, T = pb["W"], pb["O"], pb["P"], pb["T"]
    greedy = pb["greedy"]
    m = np.ones((n, W))
    cost = np.full(n, pb["plan_cost"])
    short_all = np.empty((n, W, T))
    demanded_all = np.empty((n, W, T))
    any_sigma = bool(np.any(a["sigma"] > 0))
    for t in range(T):
        if t > 0 and any_sigma:
            z = rng.standard_normal((n, W)) @ a["chol"].T
            m *= np.exp(a["sigma"] * z - d["half_var"])
        up = rng.random((n, O)) >= a["offering_outage"]
        if P > 0:
            provider_up = rng.random((n, P)) >= a["provider_outage"]
            up &= provider_up[:, a["offering_provider"]]
        A = a["availability"] * up
        delivered = A @ d["G"][t].T
        demanded = m * a["demand"][:, t]
        short = np.maximum(demanded - delivered, 0.0)
        if greedy:
            spare = np.where(A > 0, d["spare"][:, t], 0.0)
            for w in d["priority"]:
                for o in d["order"][t, w]:
                    left = short[:, w]
                    eff = a["thr"][w, o] * A[:, o]
                    need = np.divide(left, eff, out=np.full(n, np.inf), where=eff > 0)
                    used = np.where(left > 0, np.minimum(need, spare[:, o]), 0.0)
                    short[:, w] = np.where(need <= spare[:, o], 0.0, left - used * eff)
                    spare[:, o] -= used
                    cost += used * (a["price"][o, t] * a["hours"][t])
        cost += short @ d["pen_h"][:, t]
        short_all[:, :, t] = short
        demanded_all[:, :, t] = demanded
    return cost, short_all, demanded_all


def statistics(pb, a, cost, short, demanded):
    n = cost.shape[0]
    q = dict(method="inverted_cdf")
    stats = {"mean": cost.mean(), "std": cost.std(ddof=1)}
    stats.update(zip(("p5", "p50", "p95", "p99"), np.quantile(cost, [0.05, 0.5, 0.95, 0.99], **q)))
    tail = -(-5 * n // 100)
    stats["cvar95"] = np.partition(cost, n - tail)[n - tail:].mean()
    falls = short > TOL * demanded
    service = np.where(demanded > 0, 1.0 - short / np.where(demanded > 0, demanded, 1.0), 1.0)
    unmet = short @ a["hours"]
    stats["period_p_shortfall"] = falls.mean(axis=0)
    stats["period_expected_shortfall"] = short.mean(axis=0)
    stats["period_p95_shortfall"] = np.quantile(short, 0.95, axis=0, **q)
    stats["period_service_level"] = service.mean(axis=0)
    stats["p_shortfall"] = falls.any(axis=2).mean(axis=0)
    stats["expected_unmet"] = unmet.mean(axis=0)
    stats["p95_unmet"] = np.quantile(unmet, 0.95, axis=0, **q)
    return stats


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    pb, a = load(sys.argv[1])
    samples = int(sys.argv[2])
    repeat = int(sys.argv[3]) if len(sys.argv) == 4 else 1
    rng = np.random.default_rng(pb.get("seed", 1))
    d = prepare(pb, a)
    best, best_cpu, first = None, None, None
    for _ in range(max(1, repeat)):
        start, start_cpu = time.perf_counter(), time.process_time()
        parts = []
        for at in range(0, samples, CHUNK):
            parts.append(simulate(pb, a, d, rng, min(CHUNK, samples - at)))
        cost = np.concatenate([p[0] for p in parts])
        short = np.concatenate([p[1] for p in parts])
        demanded = np.concatenate([p[2] for p in parts])
        stats = statistics(pb, a, cost, short, demanded)
        seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        first = first or stats
        best = seconds if best is None else min(best, seconds)
        best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
    print(f"samples_per_s={samples / best:.6g} mean_cost={first['mean']:.17g} "
          f"std_cost={first['std']:.17g} seconds={best:.6g} cpu_seconds={best_cpu:.6g}")


if __name__ == "__main__":
    main()
