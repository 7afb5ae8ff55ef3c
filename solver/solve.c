/* solve.c: cap_plan_solve, the LP/MIP solve of a scenario (see plan.h).
 *
 * GLPK options, chosen by measurement (issue #2, see cold_start and decompose.c): presolve
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
#include <time.h>

#include "decompose.h"
#include "diagnose.h"
#include "model.h"

/* Branch and bound can run for hours; planners get the best plan found in a minute, with
 * its gap, unless they ask for longer (--time-limit). */
#define CAP_MIP_DEFAULT_TIME_LIMIT 60.0

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

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- one LP or MIP solve -------------------------------------------------------------- */

typedef struct {
    const cap_model *model;
    double gap;          /* last relative gap seen by the branch-and-bound callback */
    double bound;        /* best bound */
    bool rounding_tried; /* the rounding heuristic runs once, at the root */
} mip_progress;

/* Rounds every unit column of the relaxation (up, nearest or down), fixes it, and solves
 * the LP that is left for x on a copy. A feasible result is handed to GLPK as an incumbent,
 * so the search always has a plan to improve and a gap to report. */
static void rounding_try(glp_tree *tree, const cap_model *m, int mode)
{
    glp_prob *relaxed = glp_ios_get_prob(tree);
    glp_prob *copy = glp_create_prob();
    glp_copy_prob(copy, relaxed, GLP_OFF);
    for (int c = 1; c <= m->column_count; c++) {
        glp_set_col_kind(copy, c, GLP_CV);
        if (m->columns[c - 1].kind != CAP_COL_UNITS)
            continue;
        double value = glp_get_col_prim(relaxed, c), most = glp_get_col_ub(relaxed, c);
        double n = mode == 0   ? ceil(value - 1e-9)
                   : mode == 1 ? floor(value + 0.5)
                               : floor(value + 1e-9);
        n = fmax(0.0, fmin(n, most));
        glp_set_col_bnds(copy, c, GLP_FX, n, n);
    }
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.meth = GLP_DUALP;
    glp_std_basis(copy);
    if (glp_simplex(copy, &parm) == 0 && glp_get_status(copy) == GLP_OPT) {
        double *x = malloc(((size_t)m->column_count + 1) * sizeof *x);
        if (x) {
            for (int c = 1; c <= m->column_count; c++)
                x[c] = glp_get_col_prim(copy, c);
            glp_ios_heur_sol(tree, x);
            free(x);
        }
    }
    glp_delete_prob(copy);
}

static void mip_callback(glp_tree *tree, void *info)
{
    mip_progress *progress = info;
    int reason = glp_ios_reason(tree);
    if (reason == GLP_IHEUR && !progress->rounding_tried && progress->model) {
        progress->rounding_tried = true;
        for (int mode = 0; mode < 3; mode++)
            rounding_try(tree, progress->model, mode);
    }
    if (reason == GLP_IBINGO || reason == GLP_ISELECT) {
        progress->gap = glp_ios_mip_gap(tree);
        int node = glp_ios_best_node(tree);
        if (node)
            progress->bound = glp_ios_node_bound(tree, node);
    }
}

static cap_plan_status lp_status(int glpk_status)
{
    switch (glpk_status) {
    case GLP_OPT:
        return CAP_PLAN_OPTIMAL;
    case GLP_FEAS:
        return CAP_PLAN_FEASIBLE;
    case GLP_NOFEAS:
    case GLP_INFEAS:
        return CAP_PLAN_INFEASIBLE;
    case GLP_UNBND:
        return CAP_PLAN_UNBOUNDED;
    default:
        return CAP_PLAN_UNDEFINED;
    }
}

/* Solves the LP with the simplex. Returns CAP_OK when GLPK ran; *status says what it found. */
static cap_status solve_lp(cap_model *m, const cap_plan_options *options, int method,
                           cap_plan_status *status, cap_diag *diag)
{
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = options->verbose ? GLP_MSG_ON : GLP_MSG_OFF;
    parm.meth = method;
    parm.presolve = options->presolve ? GLP_ON : GLP_OFF;
    if (options->time_limit_s > 0)
        parm.tm_lim = (int)fmin(options->time_limit_s * 1000.0, 2e9);
    int ret = glp_simplex(m->lp, &parm);
    if (ret == GLP_ESING || ret == GLP_ECOND || ret == GLP_EBADB) {
        /* A numerically bad basis: restart from a crash basis with the primal simplex. */
        glp_adv_basis(m->lp, 0);
        parm.meth = GLP_PRIMAL;
        ret = glp_simplex(m->lp, &parm);
    }
    if (options->presolve && (ret == GLP_ENOPFS || ret == GLP_ENODFS)) {
        *status = ret == GLP_ENOPFS ? CAP_PLAN_INFEASIBLE : CAP_PLAN_UNBOUNDED;
        return CAP_OK;
    }
    if (ret == GLP_ETMLIM) {
        *status = CAP_PLAN_UNDEFINED;
        cap_diag_add(diag, "time limit reached before the LP was solved");
        return CAP_OK;
    }
    if (ret != 0) {
        cap_diag_add(diag, "GLPK simplex failed (code %d)", ret);
        return CAP_ERR_RUNTIME;
    }
    *status = lp_status(glp_get_status(m->lp));
    if (*status == CAP_PLAN_FEASIBLE || *status == CAP_PLAN_UNDEFINED) {
        /* The dual simplex may stop primal-infeasible without proof; confirm with primal. */
        int dual = glp_get_dual_stat(m->lp);
        if (glp_get_prim_stat(m->lp) == GLP_NOFEAS || dual == GLP_NOFEAS)
            *status = lp_status(glp_get_prim_stat(m->lp) == GLP_NOFEAS ? GLP_NOFEAS : GLP_UNBND);
    }
    return CAP_OK;
}

static cap_status solve_mip(cap_model *m, const cap_plan_options *options, cap_plan_status *status,
                            mip_progress *progress, cap_diag *diag)
{
    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.msg_lev = options->verbose ? GLP_MSG_ON : GLP_MSG_OFF;
    parm.mip_gap = options->mip_gap;
    parm.presolve = GLP_OFF; /* the LP relaxation's optimal basis is already there */
    parm.cb_func = mip_callback;
    parm.cb_info = progress;
    double limit = options->time_limit_s > 0 ? options->time_limit_s : CAP_MIP_DEFAULT_TIME_LIMIT;
    parm.tm_lim = (int)fmin(limit * 1000.0, 2e9);
    int ret = glp_intopt(m->lp, &parm);
    if (ret != 0 && ret != GLP_ETMLIM && ret != GLP_EMIPGAP && ret != GLP_ENOPFS &&
        ret != GLP_ENODFS) {
        cap_diag_add(diag, "GLPK branch-and-bound failed (code %d)", ret);
        return CAP_ERR_RUNTIME;
    }
    int mip = glp_mip_status(m->lp);
    /* Stopping at the requested relative gap is optimality to that tolerance. */
    if ((mip == GLP_OPT && ret == 0) || ((mip == GLP_OPT || mip == GLP_FEAS) && ret == GLP_EMIPGAP))
        *status = CAP_PLAN_OPTIMAL;
    else if (mip == GLP_OPT || mip == GLP_FEAS)
        *status = CAP_PLAN_FEASIBLE;
    else if (mip == GLP_NOFEAS)
        *status = CAP_PLAN_INFEASIBLE;
    else
        *status = CAP_PLAN_UNDEFINED;
    return CAP_OK;
}

/* One stage: LP, then MIP in integer mode. */
static cap_status solve_stage(cap_model *m, const cap_plan_options *options, int method,
                              cap_plan_status *status, mip_progress *progress, cap_diag *diag)
{
    cap_status rc = solve_lp(m, options, method, status, diag);
    if (rc != CAP_OK || *status != CAP_PLAN_OPTIMAL || !m->integer)
        return rc;
    return solve_mip(m, options, status, progress, diag);
}

/* ---- max_served phase 2: keep the unmet optimum, minimise cost -------------------------- */

static void add_served_row(cap_model *m, double unmet_hours)
{
    int columns = 0;
    for (int c = 1; c <= m->column_count; c++)
        if (m->weight_hours[c - 1] != 0.0)
            columns++;
    int *index = malloc(((size_t)columns + 1) * sizeof *index);
    double *value = malloc(((size_t)columns + 1) * sizeof *value);
    cap_row_info *rows = realloc(m->rows, ((size_t)m->row_count + 1) * sizeof *rows);
    if (!index || !value || !rows) {
        free(index);
        free(value);
        if (rows)
            m->rows = rows;
        return; /* phase 2 then runs without the row: cost-optimal, still feasible */
    }
    m->rows = rows;
    int k = 0;
    for (int c = 1; c <= m->column_count; c++)
        if (m->weight_hours[c - 1] != 0.0) {
            k++;
            index[k] = c;
            value[k] = m->weight_hours[c - 1];
        }
    int r = glp_add_rows(m->lp, 1);
    /* A relative slack for the solver's tolerance; none at zero, where the phase-1 point
     * meets the bound exactly (an absolute slack would let phase 2 trade served demand for
     * a rounding-sized saving). */
    glp_set_row_bnds(m->lp, r, GLP_UP, 0.0, unmet_hours * (1.0 + 1e-9));
    glp_set_mat_row(m->lp, r, k, index, value);
    m->rows[m->row_count++] = (cap_row_info){CAP_ROW_SERVED, -1, -1};
    m->nonzeros += k;
    free(index);
    free(value);
}

/* ---- extracting the plan -------------------------------------------------------------- */

static double column_value(const cap_model *m, int c)
{
    double v = m->integer ? glp_mip_col_val(m->lp, c) : glp_get_col_prim(m->lp, c);
    return v > 0.0 ? v : 0.0; /* clear -0 and tolerance-sized negatives */
}

static cap_plan *plan_alloc(const cap_scenario *s, bool integer)
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

/* A starting point for a solve from scratch: GLPK's scaling and crash basis, for the primal
 * simplex. Measured on one period of a generated 200x1000 model: 4.1 CPU-s and 2041
 * iterations, against 10.3 CPU-s and 4389 iterations for the dual simplex from the slack
 * basis; on 50x300 models the two are equal (0.09 s). GLPK's presolver builds its own. */
static void cold_start(cap_model *m, const cap_plan_options *options)
{
    if (options->presolve)
        return;
    glp_scale_prob(m->lp, GLP_SF_AUTO);
    glp_adv_basis(m->lp, 0);
}

/* ---- public --------------------------------------------------------------------------- */

static cap_status solve_model(cap_model *m, const cap_scenario *s, const cap_plan_options *options,
                              cap_plan *plan, cap_diag *diag)
{
    mip_progress progress = {m, 0.0, NAN, false};
    cap_plan_status status = CAP_PLAN_UNDEFINED;
    cap_status rc;
    if (s->objective == CAP_OBJECTIVE_MAX_SERVED) {
        cap_model_set_unmet_objective(m);
        cold_start(m, options);
        rc = solve_stage(m, options, GLP_PRIMAL, &status, &progress, diag);
        if (rc == CAP_OK && status == CAP_PLAN_OPTIMAL) {
            double unmet = m->integer ? glp_mip_obj_val(m->lp) : glp_get_obj_val(m->lp);
            add_served_row(m, fmax(unmet, 0.0));
            cap_model_set_cost_objective(m);
            rc = solve_stage(m, options, GLP_PRIMAL, &status, &progress, diag);
        }
    } else {
        /* The combined block basis is primal feasible: finish with the primal simplex. */
        bool warm = options->decompose && !options->presolve &&
                    cap_model_warm_start_from_blocks(m, options->threads);
        if (!warm)
            cold_start(m, options);
        rc = solve_stage(m, options, GLP_PRIMAL, &status, &progress, diag);
    }
    if (rc != CAP_OK)
        return rc;
    plan->status = status;
    if (status == CAP_PLAN_OPTIMAL || status == CAP_PLAN_FEASIBLE)
        plan_extract(m, plan);
    if (m->integer && (status == CAP_PLAN_OPTIMAL || status == CAP_PLAN_FEASIBLE)) {
        double value = glp_mip_obj_val(m->lp);
        plan->lp_bound_usd = isnan(progress.bound) ? value : progress.bound;
        plan->mip_gap = fabs(value - plan->lp_bound_usd) / (fabs(value) + 1e-10);
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
    double start = now_seconds();
    cap_model *m = NULL;
    cap_status rc = cap_model_build(s, options->integer, &m, diag);
    if (rc != CAP_OK)
        return rc;
    cap_plan *plan = plan_alloc(s, options->integer);
    if (!plan) {
        cap_model_free(m);
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    plan->rows = m->row_count;
    plan->columns = m->column_count;
    plan->nonzeros = m->nonzeros;
    plan->build_seconds = now_seconds() - start;

    start = now_seconds();
    rc = solve_model(m, s, options, plan, diag);
    plan->solve_seconds = now_seconds() - start;
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
