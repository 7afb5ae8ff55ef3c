/* mix.h: accelerator mixes for `capplan compare`.
 *
 * A mix is a set of accelerators ("H100,GB200", or "all"). The mix's scenario is a copy of
 * the original in which every offering of another accelerator has capacity 0 in every
 * period: the offerings keep their indices, so plans of different mixes line up and the
 * Monte Carlo draws the same outages for the same offering (common random numbers).
 * The metrics are computed from a plan exactly as the plan report computes them.
 */
#ifndef CAP_MIX_H
#define CAP_MIX_H

#include "diag.h"
#include "plan.h"
#include "scenario.h"

/* Fills in_mix[accelerator_count] from "ID,ID,..." or "all" (case-sensitive ids; spaces
 * around ids allowed). Returns CAP_ERR_INPUT naming the unknown id and the valid ones. */
cap_status cap_mix_parse(const cap_scenario *scenario, const char *text, bool *in_mix,
                         cap_diag *diag);

/* The mix's scenario (see above); NULL when out of memory. */
cap_scenario *cap_mix_scenario(const cap_scenario *scenario, const bool *in_mix);

typedef struct {
    double paid_usd;                     /* capacity + unused commitment: what the plan pays */
    double delivered_h100e_hours;        /* sum over periods of hours * delivered H100e (LP eff) */
    double usd_per_h100e_hour;           /* paid_usd / delivered_h100e_hours; NAN when none */
    double peak_power_mw, mean_power_mw; /* over periods, planned accelerators * power_kw */
    double *provider_share;              /* [provider] share of delivered H100e-hours */
    double *accelerator_share;           /* [accelerator] share of delivered H100e-hours */
} cap_mix_metrics;

/* Returns CAP_OK or CAP_ERR_RUNTIME (out of memory). `plan` must hold a solution. */
cap_status cap_mix_metrics_compute(const cap_scenario *scenario, const cap_plan *plan,
                                   cap_mix_metrics *metrics, cap_diag *diag);

void cap_mix_metrics_free(cap_mix_metrics *metrics);

#endif
