/* solve.c: cap_plan_solve, the LP/MIP solve of a scenario (see plan.h).
 *
 * GLPK options, chosen by measurement (issue #2, see lp.c and decompose.c): presolve
 * off; models of several periods start from the combined basis of their period blocks;
 * a solve from scratch uses GLPK's scaling and crash basis with the primal simplex.
 * max_served is lexicographic:
 * phase 1 minimises unmet H100e-hours, phase 2 fixes that optimum (with a tiny tolerance)
 * and minimises cost from the phase-1 basis. Integer mode runs the LP relaxation first,
 * then glp_intopt from its basis.
 */
#define _POSIX_C_SOURCE 200809L
#include "plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decompose.h"
#include "diagnose.h"
#include "lp.h"
#include "model.h"

void cap_plan_options_init(cap_plan_options *options)
{
    memset(options, 0, sizeof *options);
    options->mip_gap = 1e-4;
    options->diagnose = true;
    options->decompose = true;
}

const char *cap_plan_status_name(cap_plan_status status)
{
    switch (status) {
    case CAP_PLAN_OPTIMAL:
        return "optimal";
    case CAP_PLAN_FEASIBLE:
        return "feasible";
    case CAP_PLAN_INFEASIBLE:
        return "infeasible";
    case CAP_PLAN_UNBOUNDED:
        return "unbounded";
    case CAP_PLAN_UNDEFINED:
        return "undefined";
    }
    return "unknown";
}

/* ---- max_served phase 2: keep the unmet optimum, minimise cost -------------------------- */

/* The served row capped at phase 1's optimum, with a relative slack for the solver's
 * tolerance; none at zero, where the phase-1 point meets the bound exactly (an absolute
 * slack would let phase 2 trade served demand for a rounding-sized saving). Out of memory,
 * phase 2 runs without the row: cost-optimal, still feasible. */
static void add_served_row(cap_model *m, double unmet_hours)
{
    int r = cap_model_add_served_row(m);
    if (r)
        glp_set_row_bnds(m->lp, r, GLP_UP, 0.0, unmet_hours * (1.0 + 1e-9));
}

/* ---- extracting the plan -------------------------------------------------------------- */

static double column_value(const cap_model *m, int c)
{
    double v = m->integer ? glp_mip_col_val(m->lp, c) : glp_get_col_prim(m->lp, c);
    return v > 0.0 ? v : 0.0; /* clear -0 and tolerance-sized negatives */
}

cap_plan *cap_plan_alloc(const cap_scenario *s, bool integer)
{
    cap_plan *plan = calloc(1, sizeof *plan);
    if (!plan)
        return NULL;
    int T = s->period_count, W = s->workload_count, O = s->offering_count;
    plan->period_count = T;
    plan->workload_count = W;
    plan->offering_count = O;
    plan->provider_count = s->provider_count;
    plan->x = calloc((size_t)T * W * O + 1, sizeof *plan->x);
    plan->unmet = calloc((size_t)W * T + 1, sizeof *plan->unmet);
    plan->topup = calloc((size_t)s->provider_count + 1, sizeof *plan->topup);
    if (integer)
        plan->units = calloc((size_t)O * T + 1, sizeof *plan->units);
    if (!plan->x || !plan->unmet || !plan->topup || (integer && !plan->units)) {
        cap_plan_free(plan);
        return NULL;
    }
    return plan;
}

static void plan_extract(const cap_model *m, cap_plan *plan)
{
    const cap_scenario *s = m->scenario;
    int T = s->period_count;
    for (int c = 1; c <= m->column_count; c++) {
        const cap_col_info *info = &m->columns[c - 1];
        double v = column_value(m, c);
        switch (info->kind) {
        case CAP_COL_X:
            plan->x[cap_plan_index(plan, info->t, info->w, info->o)] = v;
            break;
        case CAP_COL_UNMET:
            plan->unmet[info->w * T + info->t] = v;
            break;
        case CAP_COL_TOPUP:
            plan->topup[info->w] = v;
            break;
        case CAP_COL_UNITS:
            plan->units[info->o * T + info->t] = v;
            break;
        case CAP_COL_ELASTIC:
            break;
        }
    }
    plan->capacity_usd = cap_plan_capacity_cost(s, plan);
    plan->penalty_usd = plan->unmet_h100e_hours = plan->topup_usd = 0.0;
    for (int w = 0; w < s->workload_count; w++)
        for (int t = 0; t < T; t++) {
            double hours = plan->unmet[w * T + t] * s->periods[t].hours;
            plan->unmet_h100e_hours += hours;
            plan->penalty_usd += hours * s->workloads[w].penalty;
        }
    for (int p = 0; p < s->provider_count; p++)
        plan->topup_usd += plan->topup[p];
    plan->objective_usd = plan->capacity_usd + plan->penalty_usd + plan->topup_usd;
}

/* ---- public --------------------------------------------------------------------------- */

static cap_status solve_model(cap_model *m, const cap_scenario *s, const cap_plan_options *options,
                              cap_plan *plan, cap_diag *diag)
{
    double gap = 0.0, bound = NAN; /* integer mode: relative gap and best bound reached */
    cap_plan_status status = CAP_PLAN_UNDEFINED;
    cap_status rc;
    if (s->objective == CAP_OBJECTIVE_MAX_SERVED) {
        cap_model_set_unmet_objective(m);
        cap_lp_cold_start(m->lp, options);
        rc = cap_lp_solve_stage(m, options, GLP_PRIMAL, &status, &gap, &bound, diag);
        if (rc == CAP_OK && status == CAP_PLAN_OPTIMAL) {
            double unmet = m->integer ? glp_mip_obj_val(m->lp) : glp_get_obj_val(m->lp);
            add_served_row(m, fmax(unmet, 0.0));
            cap_model_set_cost_objective(m);
            rc = cap_lp_solve_stage(m, options, GLP_PRIMAL, &status, &gap, &bound, diag);
        }
    } else {
        /* The combined block basis is primal feasible: finish with the primal simplex. */
        bool warm = options->decompose && !options->presolve &&
                    cap_model_warm_start_from_blocks(m, options->threads);
        if (!warm)
            cap_lp_cold_start(m->lp, options);
        rc = cap_lp_solve_stage(m, options, GLP_PRIMAL, &status, &gap, &bound, diag);
        plan->decomposed = warm;
    }
    if (rc != CAP_OK)
        return rc;
    plan->status = status;
    if (status == CAP_PLAN_OPTIMAL || status == CAP_PLAN_FEASIBLE)
        plan_extract(m, plan);
    if (m->integer && (status == CAP_PLAN_OPTIMAL || status == CAP_PLAN_FEASIBLE)) {
        plan->lp_bound_usd = bound;
        plan->mip_gap = gap;
    }
    return CAP_OK;
}

cap_status cap_plan_solve(const cap_scenario *s, const cap_plan_options *options, cap_plan **out,
                          cap_diag *diag)
{
    *out = NULL;
    cap_plan_options defaults;
    if (!options) {
        cap_plan_options_init(&defaults);
        options = &defaults;
    }
    glp_term_out(options->verbose ? GLP_ON : GLP_OFF);
    double start = cap_now_seconds();
    cap_model *m = NULL;
    cap_status rc = cap_model_build(s, options->integer, &m, diag);
    if (rc != CAP_OK)
        return rc;
    cap_plan *plan = cap_plan_alloc(s, options->integer);
    if (!plan) {
        cap_model_free(m);
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    plan->rows = m->row_count;
    plan->columns = m->column_count;
    plan->nonzeros = m->nonzeros;
    plan->build_seconds = cap_now_seconds() - start;

    start = cap_now_seconds();
    rc = solve_model(m, s, options, plan, diag);
    plan->solve_seconds = cap_now_seconds() - start;
    if (rc == CAP_OK && plan->status == CAP_PLAN_INFEASIBLE && options->diagnose)
        rc = cap_model_diagnose(m, options, &plan->diagnosis, diag);
    cap_model_free(m);
    if (rc != CAP_OK) {
        cap_plan_free(plan);
        return rc;
    }
    *out = plan;
    return CAP_OK;
}

void cap_plan_free(cap_plan *plan)
{
    if (!plan)
        return;
    free(plan->x);
    free(plan->unmet);
    free(plan->topup);
    free(plan->units);
    free(plan->diagnosis);
    free(plan);
}

double cap_plan_delivered(const cap_scenario *s, const cap_plan *plan, int w, int t)
{
    double delivered = 0.0;
    for (int o = 0; o < s->offering_count; o++) {
        double x = plan->x[cap_plan_index(plan, t, w, o)];
        if (x > 0.0)
            delivered += x * cap_workload_throughput(s, w, o) * cap_offering_eff(s, o);
    }
    return delivered;
}

double cap_plan_capacity_cost(const cap_scenario *s, const cap_plan *plan)
{
    double total = 0.0;
    for (int t = 0; t < s->period_count; t++)
        for (int w = 0; w < s->workload_count; w++)
            for (int o = 0; o < s->offering_count; o++)
                total += plan->x[cap_plan_index(plan, t, w, o)] * s->offerings[o].price[t] *
                         s->periods[t].hours;
    return total;
}
