/* generate.c: random valid scenarios for scale tests and cross-checks (see generate.h).
 *
 * Every constraint family of SPEC §1 appears: per-period prices and capacities, geo and
 * provider allow-lists, spot caps, max and min provider shares, a take-or-pay commitment,
 * regional power envelopes, penalties and hard demand. Feasibility is kept by
 * construction: hard-demand workloads are small and may run anywhere on H100, every
 * other workload has a penalty, total demand is about half of the deliverable capacity,
 * and share caps leave room (max_share >= 0.45 with at least three providers).
 * The generator uses its own splitmix64 stream, so a seed gives the same scenario on
 * every machine.
 */
#define _POSIX_C_SOURCE 200809L
#include "generate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t state;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rng_uniform(rng *r, double lo, double hi)
{
    return lo + (hi - lo) * ((double)(rng_next(r) >> 11) * 0x1.0p-53);
}

static int rng_int(rng *r, int n)
{
    return (int)(rng_next(r) % (uint64_t)n);
}

/* Rounds to 4 significant digits so the YAML form reads well and round-trips exactly. */
static double round4(double value)
{
    if (value == 0.0)
        return 0.0;
    double scale = pow(10.0, 3 - floor(log10(fabs(value))));
    return round(value * scale) / scale;
}

static char *make_id(const char *prefix, int index)
{
    char buffer[64];
    snprintf(buffer, sizeof buffer, "%s%d", prefix, index);
    return strdup(buffer);
}

static double *per_period(int T)
{
    return calloc((size_t)T + 1, sizeof(double));
}

typedef struct {
    const char *id;
    double power_kw;
    int unit;
    double speed;      /* H100e per accelerator for a typical workload */
    double base_price; /* USD per accelerator-hour, reserved */
} accelerator_kind;

static const accelerator_kind kinds[] = {
    {"H100", 1.3, 8, 1.0, 2.2},   {"H200", 1.4, 8, 1.3, 2.9},    {"GB200", 1.9, 72, 2.4, 5.6},
    {"GB300", 2.0, 72, 2.8, 6.8}, {"TPUv6e", 0.6, 8, 0.85, 1.9}, {"TPUv5p", 0.7, 8, 0.45, 1.4},
};
enum { KIND_COUNT = sizeof kinds / sizeof *kinds };
static const char *const geo_names[] = {"us", "eu", "asia"};

static bool gen_fixed_parts(cap_scenario *s, const cap_generate_options *g, rng *r)
{
    int T = g->periods;
    s->period_count = T;
    s->periods = calloc((size_t)T, sizeof *s->periods);
    s->accelerator_count = KIND_COUNT;
    s->accelerators = calloc(KIND_COUNT, sizeof *s->accelerators);
    s->geo_count = 3;
    s->geos = calloc(3, sizeof *s->geos);
    if (!s->periods || !s->accelerators || !s->geos)
        return false;
    for (int t = 0; t < T; t++) {
        char id[32];
        snprintf(id, sizeof id, "%dQ%d", 2026 + t / 4, 1 + t % 4);
        s->periods[t].id = strdup(id);
        s->periods[t].hours = t % 4 == 0 ? 2160 : t % 4 == 1 ? 2184 : 2208;
    }
    for (int a = 0; a < KIND_COUNT; a++) {
        s->accelerators[a].id = strdup(kinds[a].id);
        s->accelerators[a].power_kw = kinds[a].power_kw;
        s->accelerators[a].unit = kinds[a].unit;
    }
    for (int i = 0; i < 3; i++)
        s->geos[i] = strdup(geo_names[i]);

    int P = g->offerings >= 60 ? 6 : g->offerings >= 12 ? 4 : 3;
    s->provider_count = P;
    s->providers = calloc((size_t)P, sizeof *s->providers);
    if (!s->providers)
        return false;
    for (int p = 0; p < P; p++) {
        cap_provider *provider = &s->providers[p];
        provider->id = make_id("cloud", p);
        provider->outage = round4(rng_uniform(r, 0.0, 0.01));
        if (p < P - 1) { /* the last provider stays uncapped: share rows always have room */
            provider->has_max_share = true;
            provider->max_share = p == 0 ? 0.45 : round4(rng_uniform(r, 0.5, 0.9));
        }
        if (p == 1) {
            provider->has_min_share = true;
            provider->min_share = 0.05;
        }
    }
    return true;
}

static bool gen_regions(cap_scenario *s, const cap_generate_options *g, rng *r)
{
    int R = g->offerings / 4 > s->provider_count ? g->offerings / 4 : s->provider_count;
    s->region_count = R;
    s->regions = calloc((size_t)R, sizeof *s->regions);
    if (!s->regions)
        return false;
    for (int i = 0; i < R; i++) {
        cap_region *region = &s->regions[i];
        region->id = make_id("region", i);
        region->provider = i % s->provider_count;
        region->geo = i < s->geo_count ? i : rng_int(r, s->geo_count);
        if (i % 3 == 2) { /* a power envelope on every third region; sized later */
            region->power_mw = per_period(g->periods);
            if (!region->power_mw)
                return false;
        }
    }
    return true;
}

static bool gen_offerings(cap_scenario *s, const cap_generate_options *g, rng *r)
{
    int O = g->offerings, T = g->periods;
    s->offering_count = O;
    s->offerings = calloc((size_t)O, sizeof *s->offerings);
    if (!s->offerings)
        return false;
    for (int i = 0; i < O; i++) {
        cap_offering *o = &s->offerings[i];
        o->id = make_id("off", i);
        o->region = i % s->region_count;
        o->accelerator = i < KIND_COUNT ? 0 : rng_int(r, KIND_COUNT); /* H100 everywhere first */
        o->pricing = (cap_pricing)(i % 5 == 3   ? CAP_PRICING_SPOT
                                   : i % 5 == 4 ? CAP_PRICING_ON_DEMAND
                                                : CAP_PRICING_RESERVED);
        double factor = o->pricing == CAP_PRICING_SPOT        ? 0.45
                        : o->pricing == CAP_PRICING_ON_DEMAND ? 1.8
                                                              : 1.0;
        o->availability = round4(rng_uniform(r, 0.9, 1.0));
        o->outage = round4(rng_uniform(r, 0.0, 0.02));
        o->price = per_period(T);
        o->capacity = per_period(T);
        if (!o->price || !o->capacity)
            return false;
        double price = kinds[o->accelerator].base_price * factor * rng_uniform(r, 0.8, 1.25);
        double capacity = rng_uniform(r, 2000, 20000) / kinds[o->accelerator].speed;
        for (int t = 0; t < T; t++) {
            o->price[t] = round4(price * (1.0 - 0.02 * t));
            o->capacity[t] = round(capacity * (1.0 + 0.05 * t));
        }
    }
    return true;
}

static bool gen_workloads(cap_scenario *s, const cap_generate_options *g, rng *r)
{
    int W = g->workloads, T = g->periods, A = s->accelerator_count;
    s->workload_count = W;
    s->workloads = calloc((size_t)W, sizeof *s->workloads);
    s->correlation = calloc((size_t)W * W + 1, sizeof *s->correlation);
    if (!s->workloads || !s->correlation)
        return false;
    for (int i = 0; i < W; i++) {
        cap_workload *w = &s->workloads[i];
        w->id = make_id("wl", i);
        w->kind = strdup(i % 3 == 0 ? "training" : i % 3 == 1 ? "inference" : "research");
        w->demand = per_period(T);
        w->throughput = calloc((size_t)A, sizeof *w->throughput);
        if (!w->kind || !w->demand || !w->throughput)
            return false;
        bool hard = i % 7 == 0;
        for (int a = 0; a < A; a++)
            if (a == 0 || (!hard && rng_uniform(r, 0, 1) < 0.6))
                w->throughput[a] = round4(kinds[a].speed * rng_uniform(r, 0.7, 1.1));
        if (!hard) {
            w->has_penalty = true;
            w->penalty = round4(rng_uniform(r, 6.0, 40.0));
            w->max_spot_share = i % 3 == 2 ? 0.5 : round4(rng_uniform(r, 0.0, 0.2));
            if (i % 5 == 1) { /* data residency */
                w->geo_allowed = calloc((size_t)s->geo_count, sizeof *w->geo_allowed);
                if (!w->geo_allowed)
                    return false;
                w->geo_allowed[rng_int(r, s->geo_count)] = true;
            }
            if (i % 6 == 4) { /* provider allow-list: every provider but one */
                w->provider_allowed = calloc((size_t)s->provider_count, sizeof(bool));
                if (!w->provider_allowed)
                    return false;
                int excluded = rng_int(r, s->provider_count);
                for (int p = 0; p < s->provider_count; p++)
                    w->provider_allowed[p] = p != excluded;
            }
        }
        w->sigma = round4(rng_uniform(r, 0.02, 0.2));
        s->correlation[i * W + i] = 1.0;
        for (int j = 0; j < i; j++)
            s->correlation[i * W + j] = s->correlation[j * W + i] = 0.3;
    }
    return true;
}

/* Demand at about half of what the offerings can deliver; hard demand small. */
static void size_demand_and_power(cap_scenario *s, rng *r)
{
    int T = s->period_count, W = s->workload_count;
    for (int t = 0; t < T; t++) {
        double deliverable = 0.0;
        for (int o = 0; o < s->offering_count; o++)
            deliverable += s->offerings[o].capacity[t] * kinds[s->offerings[o].accelerator].speed *
                           cap_offering_eff(s, o);
        double share = 0.5 * deliverable / W;
        for (int w = 0; w < W; w++) {
            double scale = s->workloads[w].has_penalty ? rng_uniform(r, 0.5, 1.5) : 0.1;
            s->workloads[w].demand[t] = round(share * scale);
        }
        for (int g = 0; g < s->region_count; g++) {
            if (!s->regions[g].power_mw)
                continue;
            double full = 0.0;
            for (int o = 0; o < s->offering_count; o++)
                if (s->offerings[o].region == g)
                    full += s->offerings[o].capacity[t] *
                            s->accelerators[s->offerings[o].accelerator].power_kw;
            s->regions[g].power_mw[t] = round4(0.6 * full / 1000.0 + 1.0);
        }
    }
}

/* A commitment on provider 0 at about a third of what its cheapest use would cost. */
static void size_commitment(cap_scenario *s)
{
    double spend = 0.0;
    for (int o = 0; o < s->offering_count; o++)
        if (cap_offering_provider(s, o) == 0)
            for (int t = 0; t < s->period_count; t++)
                spend += 0.3 * s->offerings[o].capacity[t] * s->offerings[o].price[t] *
                         s->periods[t].hours;
    s->providers[0].commitment = round4(spend);
}

cap_status cap_scenario_generate(const cap_generate_options *g, cap_scenario **out, cap_diag *diag)
{
    *out = NULL;
    if (g->workloads < 1 || g->offerings < 1 || g->periods < 1 ||
        g->workloads > CAP_GENERATE_MAX_WORKLOADS || g->offerings > CAP_GENERATE_MAX_OFFERINGS ||
        g->periods > CAP_GENERATE_MAX_PERIODS) {
        cap_diag_add(
            diag, "generate: sizes must be workloads 1..%d, offerings 1..%d, periods 1..%d",
            CAP_GENERATE_MAX_WORKLOADS, CAP_GENERATE_MAX_OFFERINGS, CAP_GENERATE_MAX_PERIODS);
        return CAP_ERR_INPUT;
    }
    cap_scenario *s = calloc(1, sizeof *s);
    if (!s) {
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    rng r = {g->seed * 0x9e3779b97f4a7c15ULL + 12345};
    char name[128];
    snprintf(name, sizeof name, "generated-%dx%dx%d-seed%llu", g->workloads, g->offerings,
             g->periods, (unsigned long long)g->seed);
    s->name = strdup(name);
    s->path = strdup(name);
    s->reference = strdup("H100");
    s->samples = 100000;
    s->seed = g->seed;
    bool ok = s->name && s->path && s->reference && gen_fixed_parts(s, g, &r) &&
              gen_regions(s, g, &r) && gen_offerings(s, g, &r) && gen_workloads(s, g, &r);
    if (!ok) {
        cap_scenario_free(s);
        cap_diag_add(diag, "out of memory generating a scenario");
        return CAP_ERR_RUNTIME;
    }
    size_demand_and_power(s, &r);
    size_commitment(s);
    *out = s;
    return CAP_OK;
}
