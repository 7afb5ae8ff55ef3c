/* resolve.c: repeated solves of one model from its last basis (see resolve.h).
 *
 * The GLPK calls are cap_plan_solve's (lp.h, decompose.h): presolve off; cold solves from the
 * period-block warm start or GLPK's scaling and crash basis with the primal simplex;
 * max_served as two phases; integer mode as LP then branch and bound (60 s default limit).
 * Warm solves take the simplex that can go on from the edited basis: dual after bound
 * changes, primal after cost changes, whichever fits after coefficient changes. What is
 * new is that nothing is rebuilt between solves: the caller edits the model and says how,
 * and the simplex goes on from where it stopped. With keep_blocks the period blocks are
 * kept too and go on from where they stopped (solve_from_blocks).
 */
#define _POSIX_C_SOURCE 200809L
#include "resolve.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decompose.h"
#include "lp.h"

/* ---- row lookup ----------------------------------------------------------------------- */

static int kind_objects(const cap_scenario *s, cap_row_kind kind)
{
    switch (kind) {
    case CAP_ROW_DEMAND:
    case CAP_ROW_SPOT:
        return s->workload_count;
    case CAP_ROW_CAPACITY:
    case CAP_ROW_UNITS:
        return s->offering_count;
    case CAP_ROW_MAX_SHARE:
    case CAP_ROW_MIN_SHARE:
    case CAP_ROW_COMMITMENT:
        return s->provider_count;
    case CAP_ROW_POWER:
        return s->region_count;
    default:
        return 0; /* budget and served: object -1 only */
    }
}

static void lookup_free(cap_resolver *r)
{
    for (int k = 0; k < CAP_ROW_KIND_COUNT; k++) {
        free(r->row_lookup[k]);
        r->row_lookup[k] = NULL;
        r->lookup_size[k] = 0;
    }
}

static bool lookup_build(cap_resolver *r)
{
    const cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    int T = s->period_count;
    lookup_free(r);
    for (int k = 0; k < CAP_ROW_KIND_COUNT; k++) {
        r->lookup_size[k] = (kind_objects(s, (cap_row_kind)k) + 1) * (T + 1);
        r->row_lookup[k] = calloc((size_t)r->lookup_size[k], sizeof *r->row_lookup[k]);
        if (!r->row_lookup[k])
            return false;
    }
    for (int row = 1; row <= m->row_count; row++) {
        const cap_row_info *info = &m->rows[row - 1];
        int index = (info->a + 1) * (T + 1) + info->period + 1;
        if (index >= 0 && index < r->lookup_size[info->kind])
            r->row_lookup[info->kind][index] = row;
    }
    return true;
}

int cap_resolver_row(const cap_resolver *r, cap_row_kind kind, int a, int period)
{
    if ((unsigned)kind >= CAP_ROW_KIND_COUNT)
        return 0;
    int index = (a + 1) * (r->model->scenario->period_count + 1) + period + 1;
    if (index < 0 || index >= r->lookup_size[kind])
        return 0;
    return r->row_lookup[kind][index];
}

/* ---- building --------------------------------------------------------------------------- */

static cap_status model_make(const cap_scenario *s, const cap_plan_options *options,
                             cap_model **out, int *served_row, cap_diag *diag)
{
    cap_status rc = cap_model_build(s, options->integer, out, diag);
    if (rc != CAP_OK)
        return rc;
    *served_row = 0;
    if (s->objective == CAP_OBJECTIVE_MAX_SERVED) {
        if (!cap_model_add_served_row(*out)) {
            cap_model_free(*out);
            *out = NULL;
            cap_diag_add(diag, "out of memory building the model");
            return CAP_ERR_RUNTIME;
        }
        *served_row = (*out)->row_count;
    }
    return CAP_OK;
}

cap_status cap_resolver_create(const cap_scenario *s, const cap_plan_options *options,
                               cap_resolver **out, cap_diag *diag)
{
    *out = NULL;
    cap_resolver *r = calloc(1, sizeof *r);
    if (!r) {
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    if (options)
        r->options = *options;
    else
        cap_plan_options_init(&r->options);
    r->options.presolve = false; /* duals and warm starts need the basis of this very model */
    glp_term_out(r->options.verbose ? GLP_ON : GLP_OFF); /* this thread's GLPK environment */
    cap_status rc = model_make(s, &r->options, &r->model, &r->served_row, diag);
    if (rc == CAP_OK && !lookup_build(r)) {
        cap_diag_add(diag, "out of memory");
        rc = CAP_ERR_RUNTIME;
    }
    if (rc != CAP_OK) {
        cap_resolver_free(r);
        return rc;
    }
    *out = r;
    return CAP_OK;
}

void cap_resolver_free(cap_resolver *r)
{
    if (!r)
        return;
    cap_blocks_free(r->blocks);
    cap_model_free(r->model);
    lookup_free(r);
    free(r->phase1_dual);
    free(r);
}

/* ---- one LP or MIP -------------------------------------------------------------------- */

static cap_status solve_stage(cap_resolver *r, int method, cap_plan_status *status, cap_diag *diag)
{
    return cap_lp_solve_stage(r->model, &r->options, method, status, &r->mip_gap, &r->lp_bound,
                              diag);
}

/* After coefficient changes the basis may be primal feasible, dual feasible or neither:
 * look (glp_warm_up computes both solutions of the basis) and pick the simplex that can
 * go on from it. GLPK's dual simplex from a dual-infeasible basis can take hundreds of
 * times longer than the primal one, so "neither" goes to the primal. */
static int method_after_changes(glp_prob *lp)
{
    /* singular: cap_lp_simplex crashes a new basis */
    return cap_lp_basis_state(lp) == CAP_BASIS_DUAL_ONLY ? GLP_DUAL : GLP_PRIMAL;
}

/* The simplex for a warm start after a change of the given kind. */
static int warm_method(glp_prob *lp, cap_start start)
{
    if (start == CAP_START_PRIMAL)
        return GLP_PRIMAL; /* costs only: still primal feasible */
    if (start == CAP_START_DUAL)
        return GLP_DUALP; /* bounds only: still dual feasible */
    return method_after_changes(lp);
}

/* A solve from scratch, as cap_plan_solve starts one (lp.h). */
static int cold_start(const cap_resolver *r, glp_prob *lp)
{
    cap_lp_cold_start(lp, &r->options);
    return GLP_PRIMAL;
}

/* ---- the two objectives --------------------------------------------------------------- */

static void keep_phase1_duals(cap_resolver *r)
{
    const cap_model *m = r->model;
    free(r->phase1_dual);
    r->phase1_dual = calloc((size_t)m->row_count + 1, sizeof *r->phase1_dual);
    if (!r->phase1_dual || m->integer)
        return; /* a MIP's phase 1 has no duals: leave them zero, the caller says so */
    for (int row = 1; row <= m->row_count; row++)
        r->phase1_dual[row] = glp_get_row_dual(m->lp, row);
}

static cap_status solve_max_served(cap_resolver *r, cap_start start, cap_plan_status *status,
                                   cap_diag *diag)
{
    cap_model *m = r->model;
    glp_set_row_bnds(m->lp, r->served_row, GLP_FR, 0.0, 0.0);
    cap_model_set_unmet_objective(m);
    /* Phase 1's objective is not the one the previous basis was optimal for: look at it. */
    int method = start == CAP_START_COLD ? cold_start(r, m->lp) : method_after_changes(m->lp);
    cap_status rc = solve_stage(r, method, status, diag);
    if (rc != CAP_OK || *status != CAP_PLAN_OPTIMAL)
        return rc;
    if (r->keep_phase1_duals)
        keep_phase1_duals(r);
    double unmet = m->integer ? glp_mip_obj_val(m->lp) : glp_get_obj_val(m->lp);
    unmet = fmax(unmet, 0.0);
    /* Relative slack for the solver's tolerance, as cap_plan_solve does. */
    glp_set_row_bnds(m->lp, r->served_row, GLP_UP, 0.0, unmet * (1.0 + 1e-9));
    cap_model_set_cost_objective(m);
    return solve_stage(r, GLP_PRIMAL, status, diag);
}

/* The period blocks kept for warm starts (keep_blocks), made on first use: at a cold solve,
 * whose period-block start they then run (so they are built once, not once for the cold
 * start and again for the warm ones), or at the first warm solve after a rebuild or a
 * basis handed over from another thread, from the basis the model holds. */
static cap_blocks *kept_blocks(cap_resolver *r)
{
    if (!r->keep_blocks || r->no_blocks || !r->options.decompose || r->model->integer)
        return NULL;
    if (!r->blocks) {
        r->blocks = cap_blocks_create(r->model, r->options.threads);
        r->no_blocks = !r->blocks;
    }
    return r->blocks;
}

void cap_resolver_model_sync(cap_resolver *r)
{
    if (r->blocks)
        cap_blocks_apply(r->blocks, r->model);
}

/* Blocks that could not log a change: the model takes what they logged, and they go; the
 * next solve that wants them builds new ones from the scenario. */
static void blocks_drop(cap_resolver *r)
{
    cap_resolver_model_sync(r);
    cap_blocks_free(r->blocks);
    r->blocks = NULL;
    r->solution = NULL;
}

void cap_resolver_set_threads(cap_resolver *r, int threads)
{
    if (r->options.threads == threads)
        return;
    r->options.threads = threads;
    if (r->blocks)
        blocks_drop(r);
}

void cap_resolver_set_column(cap_resolver *r, int column, int count, const int *index,
                             const double *value)
{
    if (r->blocks && cap_blocks_column_set(r->blocks, column, count, index, value))
        return;
    if (r->blocks)
        blocks_drop(r);
    glp_set_mat_col(r->model->lp, column, count, index, value);
}

void cap_resolver_set_row(cap_resolver *r, int row, int count, const int *index,
                          const double *value)
{
    if (r->blocks && cap_blocks_row_set(r->blocks, row, count, index, value))
        return;
    if (r->blocks)
        blocks_drop(r);
    glp_set_mat_row(r->model->lp, row, count, index, value);
}

/* The whole model is about to be solved or looked at: it takes the logged coefficients and
 * its costs (the blocks read model->cost themselves; an answer of theirs needs neither). */
static void whole_model_ready(cap_resolver *r)
{
    cap_resolver_model_sync(r);
    cap_model_set_cost_objective(r->model);
}

/* A warm solve from the kept period blocks: each goes on from its own optimum. When their
 * combined basis is optimal for the whole model by construction (no linking row binds),
 * their values are the answer and no simplex of the whole model runs; otherwise the
 * combined basis is primal feasible and the whole model's primal simplex finishes from it
 * (after a look at whether it is optimal already). False when the blocks could not start. */
static bool solve_from_blocks(cap_resolver *r, cap_blocks *blocks, cap_plan_status *status,
                              cap_status *rc, cap_diag *diag)
{
    cap_model *m = r->model;
    if (!cap_blocks_warm_start(blocks, m))
        return false;
    r->solution = cap_blocks_solution(blocks);
    if (!r->solution)
        whole_model_ready(r);
    if (r->solution || cap_lp_basis_state(m->lp) == CAP_BASIS_OPTIMAL) {
        *status = CAP_PLAN_OPTIMAL;
        *rc = CAP_OK;
        return true;
    }
    *rc = solve_stage(r, GLP_PRIMAL, status, diag);
    return true;
}

static cap_status solve_once(cap_resolver *r, cap_start start, cap_plan_status *status,
                             cap_diag *diag)
{
    cap_model *m = r->model;
    *status = CAP_PLAN_UNDEFINED;
    r->solution = NULL;
    if (r->served_row) {
        cap_resolver_model_sync(r);
        return solve_max_served(r, start, status, diag);
    }
    cap_blocks *blocks = kept_blocks(r);
    cap_status rc = CAP_OK;
    /* After costs or coefficients changed the blocks are the better start; after bounds
     * only, the whole model's dual simplex is already short, and the blocks are the better
     * start only while no linking row binds (their answer then needs no simplex at all). */
    if (start != CAP_START_COLD && blocks &&
        (start != CAP_START_DUAL || cap_blocks_solution(blocks)) &&
        solve_from_blocks(r, blocks, status, &rc, diag))
        return rc;
    whole_model_ready(r);
    if (start != CAP_START_COLD)
        return solve_stage(r, warm_method(m->lp, start), status, diag);
    glp_std_basis(m->lp);
    bool started =
        blocks ? cap_blocks_cold_start(blocks, m)
               : r->options.decompose && cap_model_warm_start_from_blocks(m, r->options.threads);
    r->solution = blocks && started ? cap_blocks_solution(blocks) : NULL;
    if (r->solution) {
        *status = CAP_PLAN_OPTIMAL; /* optimal by construction, as after a warm start */
        return CAP_OK;
    }
    /* the combined block basis is primal feasible: the primal simplex finishes */
    return solve_stage(r, started ? GLP_PRIMAL : cold_start(r, m->lp), status, diag);
}

cap_status cap_resolver_solve(cap_resolver *r, cap_start start, cap_resolve_info *info,
                              cap_diag *diag)
{
    info->warm = start != CAP_START_COLD;
    cap_diag attempt;
    cap_diag_init(&attempt);
    cap_status rc = solve_once(r, start, &info->status, &attempt);
    bool settled =
        rc == CAP_OK && (info->status == CAP_PLAN_OPTIMAL || info->status == CAP_PLAN_FEASIBLE);
    if (info->warm && !settled) {
        /* Confirm anything but an optimum from scratch: a warm start must not change the
         * answer, only the time it takes. */
        cap_diag_clear(&attempt);
        info->warm = false;
        rc = solve_once(r, CAP_START_COLD, &info->status, &attempt);
    }
    cap_diag_extend(diag, &attempt);
    cap_diag_free(&attempt);
    return rc;
}

/* ---- rebuilding with the basis carried over -------------------------------------------- */

static int old_column(const cap_model *old, const cap_col_info *info)
{
    const cap_scenario *s = old->scenario;
    int T = s->period_count, W = s->workload_count, O = s->offering_count;
    switch (info->kind) {
    case CAP_COL_X:
        return old->x_column[((size_t)info->t * W + info->w) * O + info->o];
    case CAP_COL_UNMET:
        return old->unmet_column[info->w * T + info->t];
    case CAP_COL_TOPUP:
        return old->topup_column[info->w];
    case CAP_COL_UNITS:
        return old->units_column ? old->units_column[info->o * T + info->t] : 0;
    case CAP_COL_ELASTIC:
        break;
    }
    return 0;
}

/* The new model takes the statuses of the rows and columns that the old one had too; new
 * rows start basic and new columns at zero. When that is not a basis (the basic count is
 * off because a row went), the next solve is a cold one. */
cap_status cap_resolver_rebuild(cap_resolver *r, cap_start *start, cap_diag *diag)
{
    cap_model *old = r->model;
    cap_resolver fresh = *r;
    for (int k = 0; k < CAP_ROW_KIND_COUNT; k++)
        fresh.row_lookup[k] = NULL;
    cap_status rc = model_make(old->scenario, &r->options, &fresh.model, &fresh.served_row, diag);
    if (rc != CAP_OK)
        return rc;
    if (!lookup_build(&fresh)) {
        cap_model_free(fresh.model);
        lookup_free(&fresh);
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    glp_prob *lp = fresh.model->lp;
    int basic = 0;
    for (int row = 1; row <= fresh.model->row_count; row++) {
        const cap_row_info *info = &fresh.model->rows[row - 1];
        int from = info->kind == CAP_ROW_SERVED
                       ? r->served_row
                       : cap_resolver_row(r, info->kind, info->a, info->period);
        int stat = from ? glp_get_row_stat(old->lp, from) : GLP_BS;
        glp_set_row_stat(lp, row, stat);
        basic += stat == GLP_BS;
    }
    for (int c = 1; c <= fresh.model->column_count; c++) {
        int from = old_column(old, &fresh.model->columns[c - 1]);
        int stat = from ? glp_get_col_stat(old->lp, from) : GLP_NL;
        glp_set_col_stat(lp, c, stat);
        basic += stat == GLP_BS;
    }
    *start = CAP_START_ANY;
    if (basic != fresh.model->row_count) {
        glp_std_basis(lp);
        *start = CAP_START_COLD;
    }
    cap_model_free(old);
    lookup_free(r);
    cap_blocks_free(r->blocks); /* the blocks were the old model's */
    fresh.blocks = NULL;
    fresh.no_blocks = false;
    fresh.solution = NULL;
    *r = fresh;
    return CAP_OK;
}

/* ---- integer mode: duals of the LP with the integers fixed ---------------------------- */

cap_status cap_resolver_fix_integers(cap_resolver *r, cap_plan_status *status, cap_diag *diag)
{
    cap_model *m = r->model;
    cap_resolver_model_sync(r);
    for (int c = 1; c <= m->column_count; c++)
        if (m->columns[c - 1].kind == CAP_COL_UNITS) {
            double units = round(glp_mip_col_val(m->lp, c));
            glp_set_col_bnds(m->lp, c, GLP_FX, units, units);
        }
    r->integers_fixed = true;
    cap_model_set_cost_objective(m);
    return cap_lp_simplex(r->model->lp, &r->options, GLP_DUALP, status, diag);
}

/* ---- the solution --------------------------------------------------------------------- */

static double column_value(const cap_resolver *r, int c)
{
    const cap_model *m = r->model;
    double v = r->solution  ? r->solution[c]
               : m->integer ? glp_mip_col_val(m->lp, c)
                            : glp_get_col_prim(m->lp, c);
    return v > 0.0 ? v : 0.0; /* clear -0 and tolerance-sized negatives */
}

void cap_resolver_costs(const cap_resolver *r, cap_resolve_costs *costs)
{
    const cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    memset(costs, 0, sizeof *costs);
    for (int c = 1; c <= m->column_count; c++) {
        const cap_col_info *info = &m->columns[c - 1];
        double v = column_value(r, c);
        if (v == 0.0)
            continue;
        if (info->kind == CAP_COL_X) {
            costs->capacity_usd +=
                v * s->offerings[info->o].price[info->t] * s->periods[info->t].hours;
        } else if (info->kind == CAP_COL_UNMET) {
            double hours = v * s->periods[info->t].hours;
            costs->unmet_h100e_hours += hours;
            costs->penalty_usd += hours * s->workloads[info->w].penalty;
        } else if (info->kind == CAP_COL_TOPUP) {
            costs->topup_usd += v;
        }
    }
    costs->objective_usd = costs->capacity_usd + costs->penalty_usd + costs->topup_usd;
}

cap_plan *cap_resolver_plan(const cap_resolver *r, cap_plan_status status)
{
    const cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    int T = s->period_count;
    cap_plan *plan = cap_plan_alloc(s, m->integer);
    if (!plan)
        return NULL;
    plan->status = status;
    plan->rows = m->row_count;
    plan->columns = m->column_count;
    plan->nonzeros = m->nonzeros;
    if (status != CAP_PLAN_OPTIMAL && status != CAP_PLAN_FEASIBLE)
        return plan;
    for (int c = 1; c <= m->column_count; c++) {
        const cap_col_info *info = &m->columns[c - 1];
        double v = column_value(r, c);
        if (info->kind == CAP_COL_X)
            plan->x[cap_plan_index(plan, info->t, info->w, info->o)] = v;
        else if (info->kind == CAP_COL_UNMET)
            plan->unmet[info->w * T + info->t] = v;
        else if (info->kind == CAP_COL_TOPUP)
            plan->topup[info->w] = v;
        else if (info->kind == CAP_COL_UNITS)
            plan->units[info->o * T + info->t] = v;
    }
    cap_resolve_costs costs;
    cap_resolver_costs(r, &costs);
    plan->capacity_usd = cap_plan_capacity_cost(s, plan);
    plan->penalty_usd = costs.penalty_usd;
    plan->topup_usd = costs.topup_usd;
    plan->unmet_h100e_hours = costs.unmet_h100e_hours;
    plan->objective_usd = plan->capacity_usd + plan->penalty_usd + plan->topup_usd;
    if (m->integer) {
        plan->mip_gap = r->mip_gap;
        plan->lp_bound_usd = r->lp_bound;
    }
    return plan;
}
