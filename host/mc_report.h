/* mc_report.h: what `capplan simulate` prints and writes (SPEC §5): mc.json,
 * cost_hist.csv, shortfall and sweep data, and gnuplot plots. */
#ifndef CAP_MC_REPORT_H
#define CAP_MC_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "diag.h"
#include "mc.h"
#include "scenario.h"

typedef struct {
    const char *backend_kind; /* "cpu" or "cuda" */
    const char *recourse;     /* "none" or "greedy" */
    const char *plan_source;  /* "lp", "mip" or the plan.csv path */
    double plan_cost;
} cap_mc_report_info;

/* The scale reported at the top level: 1.0 when swept, else the first. */
int cap_mc_report_main_scale(const cap_mc_result *result);

json_t *cap_mc_report_json(const cap_scenario *scenario, const cap_mc_result *result,
                           const cap_mc_report_info *info);

void cap_mc_report_print(FILE *out, const cap_scenario *scenario, const cap_mc_result *result,
                         const cap_mc_report_info *info);

cap_status cap_mc_report_write(const char *dir, const cap_scenario *scenario,
                               const cap_mc_result *result, const cap_mc_report_info *info,
                               bool plots, cap_diag *diag);

#endif
