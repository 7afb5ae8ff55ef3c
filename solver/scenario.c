/* scenario.c: ownership and lookups for the in-memory scenario (see scenario.h). */
#define _POSIX_C_SOURCE 200809L
#include "scenario.h"

#include <stdlib.h>
#include <string.h>

void cap_scenario_free(cap_scenario *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->period_count; i++)
        free(s->periods[i].id);
    for (int i = 0; i < s->accelerator_count; i++)
        free(s->accelerators[i].id);
    for (int i = 0; i < s->provider_count; i++)
        free(s->providers[i].id);
    for (int i = 0; i < s->region_count; i++) {
        free(s->regions[i].id);
        free(s->regions[i].power_mw);
    }
    for (int i = 0; i < s->offering_count; i++) {
        free(s->offerings[i].id);
        free(s->offerings[i].price);
        free(s->offerings[i].capacity);
    }
    for (int i = 0; i < s->workload_count; i++) {
        cap_workload *w = &s->workloads[i];
        free(w->id);
        free(w->kind);
        free(w->demand);
        free(w->throughput);
        free(w->geo_allowed);
        free(w->provider_allowed);
    }
    for (int i = 0; i < s->geo_count; i++)
        free(s->geos[i]);
    free(s->periods);
    free(s->accelerators);
    free(s->providers);
    free(s->regions);
    free(s->offerings);
    free(s->workloads);
    free(s->geos);
    free(s->correlation);
    free(s->name);
    free(s->path);
    free(s->reference);
    free(s);
}

/* ---- deep copy ------------------------------------------------------------------------ */

static bool copy_string(char **dst, const char *src)
{
    if (!src) {
        *dst = NULL;
        return true;
    }
    *dst = strdup(src);
    return *dst != NULL;
}

static bool copy_array(void **dst, const void *src, size_t bytes)
{
    if (!src) {
        *dst = NULL;
        return true;
    }
    *dst = malloc(bytes ? bytes : 1);
    if (!*dst)
        return false;
    memcpy(*dst, src, bytes);
    return true;
}

#define COPY_ARRAY(dst, src, count)                                                                \
    copy_array((void **)&(dst), (src), (size_t)(count) * sizeof *(src))

cap_scenario *cap_scenario_clone(const cap_scenario *s)
{
    cap_scenario *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = *s;
    /* Clear every owned pointer first so that a partial copy frees cleanly. */
    c->name = c->path = c->reference = NULL;
    c->periods = NULL;
    c->accelerators = NULL;
    c->providers = NULL;
    c->regions = NULL;
    c->offerings = NULL;
    c->workloads = NULL;
    c->geos = NULL;
    c->correlation = NULL;
    c->period_count = c->accelerator_count = c->provider_count = c->region_count = 0;
    c->offering_count = c->workload_count = c->geo_count = 0;

    int T = s->period_count, A = s->accelerator_count, P = s->provider_count;
    bool ok = copy_string(&c->name, s->name) && copy_string(&c->path, s->path) &&
              copy_string(&c->reference, s->reference) &&
              COPY_ARRAY(c->correlation, s->correlation,
                         (size_t)s->workload_count * (size_t)s->workload_count);
#define COPY_KIND(field, count_field)                                                              \
    if (ok) {                                                                                      \
        c->field = calloc((size_t)s->count_field + 1, sizeof *c->field);                           \
        ok = c->field != NULL;                                                                     \
        if (ok) {                                                                                  \
            memcpy(c->field, s->field, (size_t)s->count_field * sizeof *c->field);                 \
            for (int i = 0; i < s->count_field; i++)                                               \
                c->field[i].id = NULL;                                                             \
            c->count_field = s->count_field;                                                       \
        }                                                                                          \
    }
    COPY_KIND(periods, period_count)
    COPY_KIND(accelerators, accelerator_count)
    COPY_KIND(providers, provider_count)
    COPY_KIND(regions, region_count)
    COPY_KIND(offerings, offering_count)
    COPY_KIND(workloads, workload_count)
#undef COPY_KIND
    for (int i = 0; ok && i < c->region_count; i++)
        c->regions[i].power_mw = NULL;
    for (int i = 0; ok && i < c->offering_count; i++)
        c->offerings[i].price = c->offerings[i].capacity = NULL;
    for (int i = 0; ok && i < c->workload_count; i++) {
        cap_workload *w = &c->workloads[i];
        w->kind = NULL;
        w->demand = w->throughput = NULL;
        w->geo_allowed = w->provider_allowed = NULL;
    }
    for (int i = 0; ok && i < T; i++)
        ok = copy_string(&c->periods[i].id, s->periods[i].id);
    for (int i = 0; ok && i < A; i++)
        ok = copy_string(&c->accelerators[i].id, s->accelerators[i].id);
    for (int i = 0; ok && i < P; i++)
        ok = copy_string(&c->providers[i].id, s->providers[i].id);
    for (int i = 0; ok && i < s->region_count; i++)
        ok = copy_string(&c->regions[i].id, s->regions[i].id) &&
             COPY_ARRAY(c->regions[i].power_mw, s->regions[i].power_mw, T);
    for (int i = 0; ok && i < s->offering_count; i++)
        ok = copy_string(&c->offerings[i].id, s->offerings[i].id) &&
             COPY_ARRAY(c->offerings[i].price, s->offerings[i].price, T) &&
             COPY_ARRAY(c->offerings[i].capacity, s->offerings[i].capacity, T);
    for (int i = 0; ok && i < s->workload_count; i++) {
        const cap_workload *from = &s->workloads[i];
        cap_workload *to = &c->workloads[i];
        ok = copy_string(&to->id, from->id) && copy_string(&to->kind, from->kind) &&
             COPY_ARRAY(to->demand, from->demand, T) &&
             COPY_ARRAY(to->throughput, from->throughput, A) &&
             COPY_ARRAY(to->geo_allowed, from->geo_allowed, s->geo_count) &&
             COPY_ARRAY(to->provider_allowed, from->provider_allowed, P);
    }
    if (ok) {
        c->geos = calloc((size_t)s->geo_count + 1, sizeof *c->geos);
        ok = c->geos != NULL;
        for (int i = 0; ok && i < s->geo_count; i++) {
            ok = copy_string(&c->geos[i], s->geos[i]);
            if (ok)
                c->geo_count = i + 1;
        }
    }
    if (!ok) {
        cap_scenario_free(c);
        return NULL;
    }
    return c;
}

/* ---- lookups -------------------------------------------------------------------------- */

#define FIND_BY_ID(kind, array, count)                                                             \
    int cap_scenario_find_##kind(const cap_scenario *s, const char *id)                            \
    {                                                                                              \
        for (int i = 0; i < s->count; i++)                                                         \
            if (strcmp(s->array[i].id, id) == 0)                                                   \
                return i;                                                                          \
        return -1;                                                                                 \
    }
FIND_BY_ID(workload, workloads, workload_count)
FIND_BY_ID(offering, offerings, offering_count)
FIND_BY_ID(provider, providers, provider_count)
FIND_BY_ID(region, regions, region_count)
FIND_BY_ID(accelerator, accelerators, accelerator_count)
FIND_BY_ID(period, periods, period_count)
#undef FIND_BY_ID

int cap_offering_provider(const cap_scenario *s, int offering)
{
    return s->regions[s->offerings[offering].region].provider;
}

double cap_offering_eff(const cap_scenario *s, int offering)
{
    const cap_offering *o = &s->offerings[offering];
    return o->availability * (1.0 - o->outage);
}

double cap_workload_throughput(const cap_scenario *s, int workload, int offering)
{
    const cap_workload *w = &s->workloads[workload];
    const cap_offering *o = &s->offerings[offering];
    const cap_region *r = &s->regions[o->region];
    if (w->geo_allowed && !w->geo_allowed[r->geo])
        return 0.0;
    if (w->provider_allowed && !w->provider_allowed[r->provider])
        return 0.0;
    return w->throughput[o->accelerator];
}

const char *cap_pricing_name(cap_pricing pricing)
{
    switch (pricing) {
    case CAP_PRICING_RESERVED:
        return "reserved";
    case CAP_PRICING_ON_DEMAND:
        return "on_demand";
    case CAP_PRICING_SPOT:
        return "spot";
    }
    return "unknown";
}
