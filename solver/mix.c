/* mix.c: accelerator mixes and their plan metrics (see mix.h). */
#define _POSIX_C_SOURCE 200809L
#include "mix.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void report_unknown(const cap_scenario *s, const char *id, cap_diag *diag)
{
    char valid[1024] = "";
    size_t used = 0;
    for (int a = 0; a < s->accelerator_count && used + 1 < sizeof valid; a++) {
        int n = snprintf(valid + used, sizeof valid - used, "%s%s", a ? ", " : "",
                         s->accelerators[a].id);
        used += n > 0 ? (size_t)n : 0;
    }
    cap_diag_add(diag, "--mix: unknown accelerator '%s'; valid: %s, or all", id, valid);
}

cap_status cap_mix_parse(const cap_scenario *s, const char *text, bool *in_mix, cap_diag *diag)
{
    for (int a = 0; a < s->accelerator_count; a++)
        in_mix[a] = strcmp(text, "all") == 0;
    if (strcmp(text, "all") == 0)
        return CAP_OK;
    char *copy = strdup(text);
    if (!copy) {
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    cap_status rc = CAP_OK;
    int count = 0;
    char *save = NULL;
    for (char *id = strtok_r(copy, ",", &save); id && rc == CAP_OK;
         id = strtok_r(NULL, ",", &save)) {
        while (*id == ' ')
            id++;
        for (char *end = id + strlen(id); end > id && end[-1] == ' ';)
            *--end = '\0';
        int a = cap_scenario_find_accelerator(s, id);
        if (a < 0) {
            report_unknown(s, id, diag);
            rc = CAP_ERR_INPUT;
        } else {
            in_mix[a] = true;
            count++;
        }
    }
    if (rc == CAP_OK && count == 0) {
        cap_diag_add(diag, "--mix '%s': name at least one accelerator (or all)", text);
        rc = CAP_ERR_INPUT;
    }
    free(copy);
    return rc;
}

cap_scenario *cap_mix_scenario(const cap_scenario *s, const bool *in_mix)
{
    cap_scenario *mix = cap_scenario_clone(s);
    if (!mix)
        return NULL;
    for (int o = 0; o < mix->offering_count; o++)
        if (!in_mix[mix->offerings[o].accelerator])
            for (int t = 0; t < mix->period_count; t++)
                mix->offerings[o].capacity[t] = 0.0;
    return mix;
}

void cap_mix_metrics_free(cap_mix_metrics *m)
{
    free(m->provider_share);
    free(m->accelerator_share);
    memset(m, 0, sizeof *m);
}

cap_status cap_mix_metrics_compute(const cap_scenario *s, const cap_plan *plan, cap_mix_metrics *m,
                                   cap_diag *diag)
{
    memset(m, 0, sizeof *m);
    m->provider_share = calloc((size_t)s->provider_count + 1, sizeof *m->provider_share);
    m->accelerator_share = calloc((size_t)s->accelerator_count + 1, sizeof *m->accelerator_share);
    if (!m->provider_share || !m->accelerator_share) {
        cap_mix_metrics_free(m);
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    for (int t = 0; t < s->period_count; t++) {
        double hours = s->periods[t].hours, kw = 0.0;
        for (int w = 0; w < s->workload_count; w++)
            for (int o = 0; o < s->offering_count; o++) {
                double x = plan->x[cap_plan_index(plan, t, w, o)];
                if (x <= 0.0)
                    continue;
                double h100e_hours =
                    x * cap_workload_throughput(s, w, o) * cap_offering_eff(s, o) * hours;
                m->delivered_h100e_hours += h100e_hours;
                m->provider_share[cap_offering_provider(s, o)] += h100e_hours;
                m->accelerator_share[s->offerings[o].accelerator] += h100e_hours;
                kw += x * s->accelerators[s->offerings[o].accelerator].power_kw;
            }
        m->peak_power_mw = fmax(m->peak_power_mw, kw / 1000.0);
        m->mean_power_mw += kw / 1000.0 / s->period_count;
    }
    for (int p = 0; p < s->provider_count; p++)
        m->provider_share[p] =
            m->delivered_h100e_hours > 0 ? m->provider_share[p] / m->delivered_h100e_hours : 0;
    for (int a = 0; a < s->accelerator_count; a++)
        m->accelerator_share[a] =
            m->delivered_h100e_hours > 0 ? m->accelerator_share[a] / m->delivered_h100e_hours : 0;
    m->paid_usd = plan->capacity_usd + plan->topup_usd;
    m->usd_per_h100e_hour =
        m->delivered_h100e_hours > 0 ? m->paid_usd / m->delivered_h100e_hours : NAN;
    return CAP_OK;
}
