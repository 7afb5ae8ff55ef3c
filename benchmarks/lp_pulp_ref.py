#!/usr/bin/python3
"""lp_pulp_ref.py: the reference to race for `capplan plan`.

The planning LP of SPEC §1 written in PuLP the way a competent PuLP user would
(dictionaries of variables, expressions grouped per row with lpSum over prepared lists,
no quadratic loops) and solved with CBC (Debian coinor-cbc through PuLP's COIN_CMD).
This is the stack SkyPilot and Mélange use. It reads the scenario YAML itself, so it
shares no code with capplan's model builder, and prints one JSON line:
    {"build_s": ..., "solve_s": ..., "objective": ..., "status": ...}

Usage: lp_pulp_ref.py SCENARIO.yaml   (scenarios without include:, as `capplan generate`
writes them)
"""
import json
import sys
import time

import pulp
import yaml


def per_period(value, periods):
    return list(value) if isinstance(value, list) else [value] * periods


def build(scenario):
    T = len(scenario["periods"])
    hours = [p["hours"] for p in scenario["periods"]]
    accel = {a["id"]: a for a in scenario["accelerators"]}
    providers = {p["id"]: p for p in scenario["providers"]}
    regions = {r["id"]: r for r in scenario["regions"]}
    offerings = scenario["offerings"]
    workloads = scenario["workloads"]

    prob = pulp.LpProblem("capplan", pulp.LpMinimize)
    x = {}
    delivered = {}  # (w, o) -> H100e per accelerator
    for w in workloads:
        geos = set(w["geos"]) if "geos" in w else None
        allowed = set(w["providers"]) if "providers" in w else None
        for o in offerings:
            region = regions[o["region"]]
            thr = w["throughput"].get(o["accelerator"], 0.0)
            if thr <= 0 or (geos is not None and region["geo"] not in geos):
                continue
            if allowed is not None and region["provider"] not in allowed:
                continue
            eff = o.get("availability", 1.0) * (1.0 - o.get("outage", 0.0))
            delivered[w["id"], o["id"]] = thr * eff
            for t in range(T):
                x[w["id"], o["id"], t] = pulp.LpVariable(f"x_{w['id']}_{o['id']}_{t}", lowBound=0)
    unmet = {(w["id"], t): pulp.LpVariable(f"u_{w['id']}_{t}", lowBound=0)
             for w in workloads if "penalty" in w for t in range(T)}
    topup = {p: pulp.LpVariable(f"y_{p}", lowBound=0)
             for p, v in providers.items() if v.get("commitment", 0) > 0}

    price = {o["id"]: per_period(o["price"], T) for o in offerings}
    capacity = {o["id"]: per_period(o["capacity"], T) for o in offerings}
    provider_of = {o["id"]: regions[o["region"]]["provider"] for o in offerings}
    region_of = {o["id"]: o["region"] for o in offerings}
    cost_terms = [(var, price[o][t] * hours[t]) for (w, o, t), var in x.items()]
    penalty = {w["id"]: w.get("penalty", 0.0) for w in workloads}
    cost_terms += [(var, penalty[w] * hours[t]) for (w, t), var in unmet.items()]
    cost_terms += [(var, 1.0) for var in topup.values()]
    prob += pulp.LpAffineExpression(cost_terms)

    # Group the columns once so that every row is built from its own short list.
    by_wt, by_ot, by_pt, by_rt, by_t, spot_wt = {}, {}, {}, {}, {}, {}
    spend = {p: [] for p in topup}
    for (w, o, t), var in x.items():
        d = delivered[w, o]
        by_wt.setdefault((w, t), []).append((var, d))
        by_ot.setdefault((o, t), []).append((var, 1.0))
        by_pt.setdefault((provider_of[o], t), []).append((var, d))
        power_kw = accel[offering_by_id[o]["accelerator"]].get("power_kw", 0.0)
        by_rt.setdefault((region_of[o], t), []).append((var, power_kw))
        by_t.setdefault(t, []).append((var, d))
        if offering_by_id[o]["pricing"] == "spot":
            spot_wt.setdefault((w, t), []).append((var, d))
        if provider_of[o] in spend:
            spend[provider_of[o]].append((var, price[o][t] * hours[t]))

    for w in workloads:
        demand = per_period(w["demand"], T)
        for t in range(T):
            terms = list(by_wt.get((w["id"], t), []))
            if (w["id"], t) in unmet:
                terms.append((unmet[w["id"], t], 1.0))
            prob += pulp.LpAffineExpression(terms) >= demand[t]
            if (w["id"], t) in spot_wt:
                prob += (pulp.LpAffineExpression(spot_wt[w["id"], t])
                         <= w.get("max_spot_share", 0.0) * demand[t])
    for (o, t), terms in by_ot.items():
        prob += pulp.LpAffineExpression(terms) <= capacity[o][t]
    for p, v in providers.items():
        for t in range(T):
            own = by_pt.get((p, t), [])
            if "max_share" in v and v["max_share"] < 1:
                prob += (pulp.LpAffineExpression(own)
                         - v["max_share"] * pulp.LpAffineExpression(by_t.get(t, [])) <= 0)
            if "min_share" in v and v["min_share"] > 0:
                prob += (pulp.LpAffineExpression(own)
                         - v["min_share"] * pulp.LpAffineExpression(by_t.get(t, [])) >= 0)
    for p, var in topup.items():
        prob += pulp.LpAffineExpression(spend[p] + [(var, 1.0)]) >= providers[p]["commitment"]
    for r, v in regions.items():
        if "power_mw" in v:
            power = per_period(v["power_mw"], T)
            for t in range(T):
                if (r, t) in by_rt:
                    prob += pulp.LpAffineExpression(by_rt[r, t]) <= 1000.0 * power[t]
    if "budget" in scenario:
        prob += pulp.LpAffineExpression(cost_terms) <= scenario["budget"]
    return prob


offering_by_id = {}


def main():
    with open(sys.argv[1]) as f:
        scenario = yaml.safe_load(f)
    offering_by_id.update({o["id"]: o for o in scenario["offerings"]})
    start = time.perf_counter()
    prob = build(scenario)
    built = time.perf_counter()
    status = prob.solve(pulp.COIN_CMD(msg=False))
    solved = time.perf_counter()
    print(json.dumps({"build_s": built - start, "solve_s": solved - built,
                      "objective": pulp.value(prob.objective),
                      "status": pulp.LpStatus[status]}))


if __name__ == "__main__":
    main()
