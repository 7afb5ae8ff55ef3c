/* mc_bridge.c: build the Monte Carlo engine's flat problem (see mc_bridge.h). */
#include "mc_bridge.h"

#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cap_mc_bridge_free(cap_mc_bridge *b)
{
    free(b->hours);
    free(b->demand);
    free(b->sigma);
    free(b->chol);
    free(b->penalty);
    free(b->availability);
    free(b->offering_outage);
    free(b->provider_outage);
    free(b->price);
    free(b->capacity);
    free(b->thr);
    free(b->plan);
    free(b->has_penalty);
    free(b->recourse_ok);
    free(b->offering_provider);
    memset(b, 0, sizeof *b);
}

double cap_plan_paid_cost(const cap_scenario *s, const cap_plan *plan)
{
    double *spend = calloc((size_t)s->provider_count + 1, sizeof *spend);
    if (!spend)
        return NAN;
    for (int t = 0; t < s->period_count; t++)
        for (int w = 0; w < s->workload_count; w++)
            for (int o = 0; o < s->offering_count; o++)
                spend[cap_offering_provider(s, o)] += plan->x[cap_plan_index(plan, t, w, o)] *
                                                      s->offerings[o].price[t] *
                                                      s->periods[t].hours;
    double total = 0.0;
    for (int p = 0; p < s->provider_count; p++)
        total += spend[p] + fmax(0.0, s->providers[p].commitment - spend[p]);
    free(spend);
    return total;
}

#define ALLOC(field, count) (b->field = calloc((size_t)(count) + 1, sizeof *b->field)) != NULL

cap_status cap_mc_bridge_build(const cap_scenario *s, const cap_plan *plan, cap_mc_bridge *b,
                               cap_diag *diag)
{
    memset(b, 0, sizeof *b);
    int T = s->period_count, W = s->workload_count, O = s->offering_count, P = s->provider_count;
    if (W == 0) { /* a valid scenario (plan prices its commitments) with no demand to draw */
        cap_diag_add(diag, "%s: no workloads: nothing to simulate", s->path);
        return CAP_ERR_INPUT;
    }
    bool ok = ALLOC(hours, T) && ALLOC(demand, (size_t)W * T) && ALLOC(sigma, W) &&
              ALLOC(chol, (size_t)W * W) && ALLOC(penalty, W) && ALLOC(availability, O) &&
              ALLOC(offering_outage, O) && ALLOC(provider_outage, P) &&
              ALLOC(price, (size_t)O * T) && ALLOC(capacity, (size_t)O * T) &&
              ALLOC(thr, (size_t)W * O) && ALLOC(plan, (size_t)T * W * O) &&
              ALLOC(has_penalty, W) && ALLOC(recourse_ok, O) && ALLOC(offering_provider, O);
    if (!ok) {
        cap_mc_bridge_free(b);
        cap_diag_add(diag, "out of memory building the Monte Carlo problem");
        return CAP_ERR_RUNTIME;
    }
    for (int t = 0; t < T; t++)
        b->hours[t] = s->periods[t].hours;
    for (int w = 0; w < W; w++) {
        const cap_workload *wl = &s->workloads[w];
        memcpy(b->demand + (size_t)w * T, wl->demand, (size_t)T * sizeof *wl->demand);
        b->sigma[w] = wl->sigma;
        b->penalty[w] = wl->has_penalty ? wl->penalty : 0.0;
        b->has_penalty[w] = wl->has_penalty;
        for (int o = 0; o < O; o++)
            b->thr[(size_t)w * O + o] = cap_workload_throughput(s, w, o);
    }
    for (int o = 0; o < O; o++) {
        const cap_offering *offering = &s->offerings[o];
        b->availability[o] = offering->availability;
        b->offering_outage[o] = offering->outage;
        b->offering_provider[o] = cap_offering_provider(s, o);
        b->recourse_ok[o] = offering->pricing != CAP_PRICING_RESERVED;
        memcpy(b->price + (size_t)o * T, offering->price, (size_t)T * sizeof(double));
        memcpy(b->capacity + (size_t)o * T, offering->capacity, (size_t)T * sizeof(double));
    }
    for (int p = 0; p < P; p++)
        b->provider_outage[p] = s->providers[p].outage;
    memcpy(b->plan, plan->x, (size_t)T * W * O * sizeof *b->plan);
    if (W > 0 && cap_mc_cholesky(W, s->correlation, b->chol) != 0) {
        cap_mc_bridge_free(b);
        cap_diag_add(diag, "%s: the workload correlation matrix is not positive semidefinite",
                     s->path ? s->path : s->name);
        return CAP_ERR_INPUT;
    }
    double paid = cap_plan_paid_cost(s, plan);
    if (isnan(paid)) {
        cap_mc_bridge_free(b);
        cap_diag_add(diag, "out of memory building the Monte Carlo problem");
        return CAP_ERR_RUNTIME;
    }
    b->problem = (cap_mc_problem){
        .workload_count = W,
        .offering_count = O,
        .provider_count = P,
        .period_count = T,
        .hours = b->hours,
        .demand = b->demand,
        .sigma = b->sigma,
        .chol = b->chol,
        .penalty = b->penalty,
        .has_penalty = b->has_penalty,
        .availability = b->availability,
        .offering_outage = b->offering_outage,
        .offering_provider = b->offering_provider,
        .provider_outage = b->provider_outage,
        .price = b->price,
        .capacity = b->capacity,
        .recourse_ok = b->recourse_ok,
        .thr = b->thr,
        .plan = b->plan,
        .plan_cost = paid,
    };
    return CAP_OK;
}

int cap_mc_cli_parse(int code, const char *text, cap_mc_cli *cli)
{
    switch (code) {
    case 'n':
        cli->has_samples = true;
        return cap_parse_int64("--samples", text, 1, INT64_C(1000000000000), &cli->samples) ? 1
                                                                                            : -1;
    case 's':
        cli->has_seed = true;
        return cap_parse_seed("--seed", text, &cli->seed) ? 1 : -1;
    case 'T':
        return cap_parse_int64("--threads", text, 1, 1024, &cli->threads) ? 1 : -1;
    default:
        return 0;
    }
}

void cap_mc_cli_apply(const cap_mc_cli *cli, const cap_scenario *scenario, cap_mc_options *o)
{
    o->samples = cli->has_samples ? cli->samples : scenario->samples;
    o->seed = cli->has_seed ? cli->seed : scenario->seed;
    o->backend = cli->backend;
    o->recourse = cli->recourse;
    o->threads = (int)cli->threads;
}
