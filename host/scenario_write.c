/* scenario_write.c: YAML form of a scenario (see scenario_write.h). Ids are written as
 * double-quoted YAML strings so that any id loads back unchanged. */
#include "scenario_write.h"

#include <stdbool.h>

static void write_string(FILE *out, const char *text)
{
    fputc('"', out);
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

/* A per-period list, or one number when every period has the same value. */
static void write_series(FILE *out, const double *values, int count)
{
    bool same = true;
    for (int i = 1; i < count; i++)
        same = same && values[i] == values[0];
    if (same) {
        fprintf(out, "%.17g", values[0]);
        return;
    }
    fputc('[', out);
    for (int i = 0; i < count; i++)
        fprintf(out, "%s%.17g", i ? ", " : "", values[i]);
    fputc(']', out);
}

static void write_correlation(FILE *out, const cap_scenario *s)
{
    int W = s->workload_count;
    double first = W > 1 ? s->correlation[1] : 0.0;
    bool uniform = true;
    for (int i = 0; i < W; i++)
        for (int j = 0; j < W; j++)
            if (i != j && s->correlation[i * W + j] != first)
                uniform = false;
    if (uniform) {
        fprintf(out, "  correlation: %.17g\n", first);
        return;
    }
    fprintf(out, "  correlation:\n    pairs:\n");
    for (int i = 0; i < W; i++)
        for (int j = i + 1; j < W; j++)
            if (s->correlation[i * W + j] != 0.0) {
                fprintf(out, "      - [");
                write_string(out, s->workloads[i].id);
                fprintf(out, ", ");
                write_string(out, s->workloads[j].id);
                fprintf(out, ", %.17g]\n", s->correlation[i * W + j]);
            }
}

static void write_workload(FILE *out, const cap_scenario *s, const cap_workload *w)
{
    fprintf(out, "  - id: ");
    write_string(out, w->id);
    fprintf(out, "\n    kind: ");
    write_string(out, w->kind ? w->kind : "");
    fprintf(out, "\n    demand: ");
    write_series(out, w->demand, s->period_count);
    fprintf(out, "\n    throughput: {");
    bool first = true;
    for (int a = 0; a < s->accelerator_count; a++)
        if (w->throughput[a] > 0) {
            fprintf(out, "%s", first ? "" : ", ");
            write_string(out, s->accelerators[a].id);
            fprintf(out, ": %.17g", w->throughput[a]);
            first = false;
        }
    fprintf(out, "}\n");
    if (w->geo_allowed) {
        fprintf(out, "    geos: [");
        first = true;
        for (int g = 0; g < s->geo_count; g++)
            if (w->geo_allowed[g]) {
                fprintf(out, "%s", first ? "" : ", ");
                write_string(out, s->geos[g]);
                first = false;
            }
        fprintf(out, "]\n");
    }
    if (w->provider_allowed) {
        fprintf(out, "    providers: [");
        first = true;
        for (int p = 0; p < s->provider_count; p++)
            if (w->provider_allowed[p]) {
                fprintf(out, "%s", first ? "" : ", ");
                write_string(out, s->providers[p].id);
                first = false;
            }
        fprintf(out, "]\n");
    }
    fprintf(out, "    max_spot_share: %.17g\n", w->max_spot_share);
    if (w->has_penalty)
        fprintf(out, "    penalty: %.17g\n", w->penalty);
    fprintf(out, "    sigma: %.17g\n", w->sigma);
}

void cap_scenario_write_yaml(FILE *out, const cap_scenario *s)
{
    fprintf(out, "version: 1\nname: ");
    write_string(out, s->name);
    fprintf(out, "\nreference: ");
    write_string(out, s->reference);
    fprintf(out, "\nperiods:\n");
    for (int t = 0; t < s->period_count; t++) {
        fprintf(out, "  - {id: ");
        write_string(out, s->periods[t].id);
        fprintf(out, ", hours: %.17g}\n", s->periods[t].hours);
    }
    fprintf(out, "accelerators:\n");
    for (int a = 0; a < s->accelerator_count; a++) {
        fprintf(out, "  - {id: ");
        write_string(out, s->accelerators[a].id);
        fprintf(out, ", power_kw: %.17g, unit: %d}\n", s->accelerators[a].power_kw,
                s->accelerators[a].unit);
    }
    fprintf(out, "providers:\n");
    for (int p = 0; p < s->provider_count; p++) {
        const cap_provider *provider = &s->providers[p];
        fprintf(out, "  - {id: ");
        write_string(out, provider->id);
        if (provider->has_max_share)
            fprintf(out, ", max_share: %.17g", provider->max_share);
        if (provider->has_min_share)
            fprintf(out, ", min_share: %.17g", provider->min_share);
        fprintf(out, ", commitment: %.17g, outage: %.17g}\n", provider->commitment,
                provider->outage);
    }
    fprintf(out, "regions:\n");
    for (int r = 0; r < s->region_count; r++) {
        const cap_region *region = &s->regions[r];
        fprintf(out, "  - {id: ");
        write_string(out, region->id);
        fprintf(out, ", provider: ");
        write_string(out, s->providers[region->provider].id);
        fprintf(out, ", geo: ");
        write_string(out, s->geos[region->geo]);
        if (region->power_mw) {
            fprintf(out, ", power_mw: ");
            write_series(out, region->power_mw, s->period_count);
        }
        fprintf(out, "}\n");
    }
    fprintf(out, "offerings:\n");
    for (int i = 0; i < s->offering_count; i++) {
        const cap_offering *o = &s->offerings[i];
        fprintf(out, "  - {id: ");
        write_string(out, o->id);
        fprintf(out, ", region: ");
        write_string(out, s->regions[o->region].id);
        fprintf(out, ", accelerator: ");
        write_string(out, s->accelerators[o->accelerator].id);
        fprintf(out, ", pricing: %s, price: ", cap_pricing_name(o->pricing));
        write_series(out, o->price, s->period_count);
        fprintf(out, ", capacity: ");
        write_series(out, o->capacity, s->period_count);
        fprintf(out, ", availability: %.17g, outage: %.17g}\n", o->availability, o->outage);
    }
    fprintf(out, "workloads:\n");
    for (int w = 0; w < s->workload_count; w++)
        write_workload(out, s, &s->workloads[w]);
    fprintf(out, "uncertainty:\n");
    write_correlation(out, s);
    fprintf(out, "  samples: %lld\n  seed: %llu\n", (long long)s->samples,
            (unsigned long long)s->seed);
    fprintf(out, "objective: %s\n",
            s->objective == CAP_OBJECTIVE_MAX_SERVED ? "max_served" : "min_cost");
    if (s->has_budget)
        fprintf(out, "budget: %.17g\n", s->budget);
}
