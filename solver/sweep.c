/* sweep.c: parameter sweeps re-solved from the previous basis (see sweep.h; the axes are
 * parsed, applied and checked in sweep_axis.c).
 *
 * Each point's scenario copy is synced into the thread's GLPK model, and the sync says what
 * kind of change it made, which picks the simplex for the warm solve:
 *   right-hand sides and bounds (demand, capacity, spot cap, commitment, power) -> dual;
 *   costs only (price, penalty) -> primal;
 *   coefficients (availability, outage, shares; prices and penalties that also sit in a
 *   commitment or budget row) -> the column or row is rewritten (for prices, the
 *   commitment and budget rows once each), dual then primal;
 *   structure (a share cap, commitment or penalty that appears or goes) -> rebuild, with
 *   the basis carried over by row and column identity.
 * Rewritten columns and rows reproduce model.c's coefficients exactly, and go through the
 * resolver (cap_resolver_set_column, _row) so that the period blocks it keeps for warm
 * points (LP models big enough for the period-block start; never with --cold) follow.
 *
 * Threads: the first point is solved once in the caller's thread; every other thread builds
 * its own model (a GLPK problem belongs to the thread that made it) and starts from that
 * point's optimal basis instead of from scratch, then walks its contiguous run of points.
 */
#define _POSIX_C_SOURCE 200809L
#include "sweep.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "lp.h"
#include "model.h"
#include "resolve.h"

/* ---- syncing the model with the scenario ---------------------------------------------- */

enum { SYNC_RHS = 1, SYNC_COST = 2, SYNC_MATRIX = 4, SYNC_REBUILD = 8 };

typedef struct {
    int *index;
    double *value;
    int count;
    bool *linked; /* [providers + 1]: sync_prices's scratch */
} entries;

static void push(entries *e, int row, double value)
{
    if (row && value != 0.0) {
        e->count++;
        e->index[e->count] = row;
        e->value[e->count] = value;
    }
}

/* Column x[w,o,t] as model.c builds it. */
static void x_column_rewrite(cap_resolver *r, entries *e, int c)
{
    cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    const cap_col_info *info = &m->columns[c - 1];
    int w = info->w, o = info->o, t = info->t, p = cap_offering_provider(s, o);
    const cap_offering *off = &s->offerings[o];
    double k = cap_model_delivered(s, w, o);
    e->count = 0;
    push(e, cap_resolver_row(r, CAP_ROW_DEMAND, w, t), k);
    push(e, cap_resolver_row(r, CAP_ROW_CAPACITY, o, t), 1.0);
    push(e, cap_resolver_row(r, CAP_ROW_UNITS, o, t), 1.0);
    for (int q = 0; q < s->provider_count; q++) {
        double own = q == p ? 1.0 : 0.0;
        push(e, cap_resolver_row(r, CAP_ROW_MAX_SHARE, q, t),
             (own - s->providers[q].max_share) * k);
        push(e, cap_resolver_row(r, CAP_ROW_MIN_SHARE, q, t),
             (own - s->providers[q].min_share) * k);
    }
    push(e, cap_resolver_row(r, CAP_ROW_POWER, off->region, t),
         s->accelerators[off->accelerator].power_kw);
    if (off->pricing == CAP_PRICING_SPOT)
        push(e, cap_resolver_row(r, CAP_ROW_SPOT, w, t), k);
    push(e, cap_resolver_row(r, CAP_ROW_COMMITMENT, p, -1), m->cost[c - 1]);
    push(e, m->budget_row, m->cost[c - 1]);
    cap_resolver_set_column(r, c, e->count, e->index, e->value);
}

/* The commitment row of provider p as model.c builds it: the provider's x columns at their
 * costs and its top-up. Rewritten once after prices change instead of every column. */
static void commitment_row_rewrite(cap_resolver *r, entries *e, int p)
{
    cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    int row = cap_resolver_row(r, CAP_ROW_COMMITMENT, p, -1);
    if (!row)
        return;
    e->count = 0;
    for (int c = 1; c <= m->column_count; c++) {
        const cap_col_info *info = &m->columns[c - 1];
        if (info->kind == CAP_COL_X && cap_offering_provider(s, info->o) == p)
            push(e, c, m->cost[c - 1]);
    }
    push(e, m->topup_column[p], 1.0);
    cap_resolver_set_row(r, row, e->count, e->index, e->value);
}

/* The budget row as model.c builds it: every column at its cost. */
static void budget_row_rewrite(cap_resolver *r, entries *e)
{
    cap_model *m = r->model;
    e->count = 0;
    for (int c = 1; c <= m->column_count; c++)
        push(e, c, m->cost[c - 1]);
    cap_resolver_set_row(r, m->budget_row, e->count, e->index, e->value);
}

/* Column unmet[w,t]: demand row, budget row, max_served row. */
static void unmet_column_rewrite(cap_resolver *r, entries *e, int c)
{
    cap_model *m = r->model;
    const cap_col_info *info = &m->columns[c - 1];
    e->count = 0;
    push(e, cap_resolver_row(r, CAP_ROW_DEMAND, info->w, info->t), 1.0);
    push(e, m->budget_row, m->cost[c - 1]);
    push(e, r->served_row, m->weight_hours[c - 1]);
    cap_resolver_set_column(r, c, e->count, e->index, e->value);
}

/* Share row of provider p in period t: delivered(p) - share * delivered(all). */
static void share_row_rewrite(cap_resolver *r, entries *e, int row, int p, int t, double share)
{
    cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    e->count = 0;
    for (int w = 0; w < s->workload_count; w++)
        for (int o = 0; o < s->offering_count; o++) {
            int c = m->x_column[((size_t)t * s->workload_count + w) * s->offering_count + o];
            if (!c)
                continue;
            double own = cap_offering_provider(s, o) == p ? 1.0 : 0.0;
            double k = cap_model_delivered(s, w, o);
            push(e, c, (own - share) * k);
        }
    cap_resolver_set_row(r, row, e->count, e->index, e->value);
}

/* Prices: the costs, and the commitment and budget rows they also sit in. */
static int sync_prices(cap_resolver *r, entries *e, const cap_sweep_axis *a)
{
    cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    int P = s->provider_count;
    bool *linked = e->linked;
    memset(linked, 0, ((size_t)P + 1) * sizeof *linked);
    for (int c = 1; c <= m->column_count; c++) {
        const cap_col_info *info = &m->columns[c - 1];
        if (info->kind != CAP_COL_X || !cap_sweep_axis_has_offering(s, a, info->o))
            continue;
        m->cost[c - 1] = cap_model_x_cost(s, info->o, info->t);
        linked[cap_offering_provider(s, info->o)] = true;
    }
    int flags = SYNC_COST;
    for (int p = 0; p < P; p++)
        if (linked[p] && cap_resolver_row(r, CAP_ROW_COMMITMENT, p, -1)) {
            commitment_row_rewrite(r, e, p);
            flags |= SYNC_MATRIX;
        }
    if (m->budget_row) {
        budget_row_rewrite(r, e);
        flags |= SYNC_MATRIX;
    }
    return flags;
}

static int sync_offerings(cap_resolver *r, entries *e, const cap_sweep_axis *a)
{
    cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    int T = s->period_count;
    if (a->field == CAP_FIELD_PRICE)
        return sync_prices(r, e, a);
    if (a->field == CAP_FIELD_CAPACITY) {
        for (int o = 0; o < s->offering_count; o++) {
            if (!cap_sweep_axis_has_offering(s, a, o))
                continue;
            const cap_offering *off = &s->offerings[o];
            for (int t = 0; t < T; t++) {
                int row = cap_resolver_row(r, CAP_ROW_CAPACITY, o, t);
                if (row) /* an offering no workload may use has no capacity row */
                    glp_set_row_bnds(m->lp, row, GLP_UP, 0.0, off->capacity[t]);
                int u = m->units_column[o * T + t];
                if (u)
                    cap_model_set_units_bounds(m, u, o, t);
            }
        }
        return SYNC_RHS;
    }
    /* availability, outage: the columns' coefficients, in column order (GLPK's row lists
     * hold neighbouring columns next to each other, so rewriting in that order stays in
     * cache) */
    int flags = 0;
    for (int c = 1; c <= m->column_count; c++) {
        const cap_col_info *info = &m->columns[c - 1];
        if (info->kind == CAP_COL_X && cap_sweep_axis_has_offering(s, a, info->o)) {
            x_column_rewrite(r, e, c);
            flags |= SYNC_MATRIX;
        }
    }
    return flags;
}

/* A row that exists only for some values (model.c leaves non-binding ones out). */
static bool share_row_wanted(const cap_provider *p, cap_row_kind kind)
{
    return kind == CAP_ROW_MAX_SHARE ? p->has_max_share && p->max_share < 1.0
                                     : p->has_min_share && p->min_share > 0.0;
}

static int sync_provider(cap_resolver *r, entries *e, const cap_sweep_axis *a)
{
    cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    const cap_provider *p = &s->providers[a->index];
    if (a->field == CAP_FIELD_COMMITMENT) {
        int row = cap_resolver_row(r, CAP_ROW_COMMITMENT, a->index, -1);
        if ((row != 0) != (p->commitment > 0.0))
            return SYNC_REBUILD;
        if (row)
            glp_set_row_bnds(m->lp, row, GLP_LO, p->commitment, p->commitment);
        return SYNC_RHS;
    }
    cap_row_kind kind = a->field == CAP_FIELD_MAX_SHARE ? CAP_ROW_MAX_SHARE : CAP_ROW_MIN_SHARE;
    double share = a->field == CAP_FIELD_MAX_SHARE ? p->max_share : p->min_share;
    bool wanted = share_row_wanted(p, kind);
    if ((cap_resolver_row(r, kind, a->index, 0) != 0) != wanted)
        return SYNC_REBUILD;
    for (int t = 0; wanted && t < s->period_count; t++)
        share_row_rewrite(r, e, cap_resolver_row(r, kind, a->index, t), a->index, t, share);
    return SYNC_MATRIX;
}

static int sync_workload(cap_resolver *r, entries *e, const cap_sweep_axis *a)
{
    cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    const cap_workload *w = &s->workloads[a->index];
    int T = s->period_count, flags = 0;
    for (int t = 0; t < T; t++) {
        if (a->field == CAP_FIELD_PENALTY) {
            int c = m->unmet_column[a->index * T + t];
            if (!c)
                return SYNC_REBUILD; /* a penalty given to hard demand adds unmet columns */
            m->cost[c - 1] = cap_model_unmet_cost(s, a->index, t);
            flags |= SYNC_COST;
            if (m->budget_row) {
                unmet_column_rewrite(r, e, c);
                flags |= SYNC_MATRIX;
            }
            continue;
        }
        int demand = cap_resolver_row(r, CAP_ROW_DEMAND, a->index, t);
        if (a->field == CAP_FIELD_DEMAND && demand)
            glp_set_row_bnds(m->lp, demand, GLP_LO, w->demand[t], w->demand[t]);
        int spot = cap_resolver_row(r, CAP_ROW_SPOT, a->index, t);
        if (spot)
            glp_set_row_bnds(m->lp, spot, GLP_UP, 0.0, w->max_spot_share * w->demand[t]);
        flags |= SYNC_RHS;
    }
    return flags;
}

static int sync_axis(cap_resolver *r, entries *e, const cap_sweep_axis *a)
{
    if (a->kind == CAP_TARGET_WORKLOAD)
        return sync_workload(r, e, a);
    if (a->field == CAP_FIELD_MAX_SHARE || a->field == CAP_FIELD_MIN_SHARE ||
        a->field == CAP_FIELD_COMMITMENT)
        return sync_provider(r, e, a);
    if (a->field == CAP_FIELD_POWER_MW) {
        const cap_scenario *s = r->model->scenario;
        for (int t = 0; t < s->period_count; t++) {
            int row = cap_resolver_row(r, CAP_ROW_POWER, a->index, t);
            if (row)
                glp_set_row_bnds(r->model->lp, row, GLP_UP, 0.0,
                                 1000.0 * s->regions[a->index].power_mw[t]);
        }
        return SYNC_RHS;
    }
    return sync_offerings(r, e, a);
}

static cap_start start_for(int flags)
{
    if (flags & (SYNC_MATRIX | SYNC_REBUILD))
        return CAP_START_ANY;
    if ((flags & SYNC_RHS) && (flags & SYNC_COST))
        return CAP_START_ANY;
    return flags & SYNC_COST ? CAP_START_PRIMAL : CAP_START_DUAL;
}

/* ---- the worker threads --------------------------------------------------------------- */

typedef struct {
    int *row_stat, *col_stat; /* 1-based */
    int rows, columns;
} basis_copy;

typedef struct {
    cap_scenario *work;
    cap_resolver *resolver;
    entries scratch;
    const double *previous; /* the values the model holds, NULL before the first point */
} worker;

typedef struct {
    const cap_scenario *base;
    const cap_sweep_options *options;
    cap_sweep_point *points;
    cap_diag *diags;  /* [threads] */
    worker *first;    /* thread 0's worker, which solved point 1 before the threads */
    basis_copy start; /* point 1's optimal basis for the other threads (rows 0 = none) */
    bool failed_memory;
} sweep_run;

static bool scratch_fit(worker *k)
{
    const cap_model *m = k->resolver->model;
    int size = (m->row_count > m->column_count ? m->row_count : m->column_count) + 2;
    free(k->scratch.index);
    free(k->scratch.value);
    free(k->scratch.linked);
    k->scratch.index = malloc((size_t)size * sizeof *k->scratch.index);
    k->scratch.value = malloc((size_t)size * sizeof *k->scratch.value);
    k->scratch.linked = malloc(((size_t)m->scenario->provider_count + 1) * sizeof(bool));
    return k->scratch.index && k->scratch.value && k->scratch.linked;
}

static void basis_save(const cap_resolver *r, basis_copy *b)
{
    const cap_model *m = r->model;
    b->row_stat = malloc(((size_t)m->row_count + 1) * sizeof *b->row_stat);
    b->col_stat = malloc(((size_t)m->column_count + 1) * sizeof *b->col_stat);
    if (!b->row_stat || !b->col_stat)
        return; /* the other threads then start cold */
    for (int row = 1; row <= m->row_count; row++)
        b->row_stat[row] = glp_get_row_stat(m->lp, row);
    for (int c = 1; c <= m->column_count; c++)
        b->col_stat[c] = glp_get_col_stat(m->lp, c);
    b->rows = m->row_count;
    b->columns = m->column_count;
}

/* Installs a saved basis when the model has the same shape; true when it did. */
static bool basis_install(cap_resolver *r, const basis_copy *b)
{
    cap_model *m = r->model;
    if (b->rows == 0 || b->rows != m->row_count || b->columns != m->column_count)
        return false;
    for (int row = 1; row <= m->row_count; row++)
        glp_set_row_stat(m->lp, row, b->row_stat[row]);
    for (int c = 1; c <= m->column_count; c++)
        glp_set_col_stat(m->lp, c, b->col_stat[c]);
    return true;
}

static cap_status worker_start(const sweep_run *run, worker *k, cap_start *start, cap_diag *diag)
{
    const cap_sweep_options *o = run->options;
    cap_resolver_free(k->resolver);
    k->resolver = NULL;
    cap_status rc = cap_resolver_create(k->work, &o->solve, &k->resolver, diag);
    if (rc == CAP_OK && !scratch_fit(k))
        rc = CAP_ERR_RUNTIME;
    if (rc == CAP_OK)
        k->resolver->keep_blocks = !o->cold; /* warm points re-solve the period blocks */
    *start = CAP_START_COLD;
    if (rc == CAP_OK && !o->cold && basis_install(k->resolver, &run->start))
        *start = CAP_START_ANY;
    return rc;
}

/* Brings the model to the point's values; returns how the next solve should start. */
static cap_status worker_sync(const sweep_run *run, worker *k, const double *values,
                              cap_start *start, cap_diag *diag)
{
    const cap_sweep_options *o = run->options;
    if (!k->resolver || !k->previous || o->cold)
        return worker_start(run, k, start, diag);
    int flags = 0;
    for (int a = 0; a < o->axis_count; a++)
        if (values[a] != k->previous[a])
            flags |= sync_axis(k->resolver, &k->scratch, &o->axes[a]);
    if (!(flags & SYNC_REBUILD)) {
        *start = start_for(flags);
        return CAP_OK;
    }
    cap_status rc = cap_resolver_rebuild(k->resolver, start, diag);
    if (rc == CAP_OK && !scratch_fit(k))
        rc = CAP_ERR_RUNTIME;
    return rc;
}

static void worker_point(const sweep_run *run, worker *k, int p, cap_diag *diag)
{
    const cap_sweep_options *o = run->options;
    const double *values = o->values + (size_t)p * o->axis_count;
    cap_sweep_point *point = &run->points[p];
    double begin = omp_get_wtime();
    cap_sweep_apply(run->base, k->work, o->axes, o->axis_count, values);
    cap_start start = CAP_START_COLD;
    cap_status rc = worker_sync(run, k, values, &start, diag);
    cap_resolve_info info = {CAP_PLAN_UNDEFINED, false};
    if (rc == CAP_OK)
        rc = cap_resolver_solve(k->resolver, start, &info, diag);
    point->thread = omp_get_thread_num();
    point->status = info.status;
    point->warm = info.warm;
    point->solved = rc == CAP_OK;
    k->previous = rc == CAP_OK ? values : NULL; /* a failure starts the next point afresh */
    if (rc != CAP_OK)
        cap_diag_add(diag, "sweep point %d: the solver failed", p + 1);
    if (rc == CAP_OK && (info.status == CAP_PLAN_OPTIMAL || info.status == CAP_PLAN_FEASIBLE)) {
        cap_resolve_costs costs;
        cap_resolver_costs(k->resolver, &costs);
        point->objective_usd = costs.objective_usd;
        point->capacity_usd = costs.capacity_usd;
        point->penalty_usd = costs.penalty_usd;
        point->topup_usd = costs.topup_usd;
        point->unmet_h100e_hours = costs.unmet_h100e_hours;
    }
    point->seconds = omp_get_wtime() - begin; /* the whole point: apply, sync, solve */
}

static void worker_free(worker *k)
{
    if (!k)
        return;
    cap_resolver_free(k->resolver);
    cap_scenario_free(k->work);
    free(k->scratch.index);
    free(k->scratch.value);
    free(k->scratch.linked);
    memset(k, 0, sizeof *k);
}

static void worker_run(sweep_run *run)
{
    int me = omp_get_thread_num(), team = omp_get_num_threads();
    const cap_sweep_options *o = run->options;
    int first = (int)((long long)o->point_count * me / team);
    int last = (int)((long long)o->point_count * (me + 1) / team);
    worker own = {0};
    worker *k = me == 0 && run->first ? run->first : &own;
    if (k == run->first)
        first++; /* point 1 is already solved */
    else
        k->work = cap_scenario_clone(run->base);
    if (!k->work) {
#pragma omp atomic write
        run->failed_memory = true;
    }
    for (int p = first; p < last && k->work; p++)
        worker_point(run, k, p, &run->diags[me]);
    worker_free(&own);
}

void cap_sweep_options_init(cap_sweep_options *options)
{
    memset(options, 0, sizeof *options);
    cap_plan_options_init(&options->solve);
}

void cap_sweep_options_for_axis(cap_sweep_options *options, const cap_sweep_axis *axis)
{
    cap_sweep_options_init(options);
    options->axes = axis;
    options->axis_count = 1;
    options->values = axis->values;
    options->point_count = axis->value_count;
}

/* Solves point 1 in the caller's thread (with every thread for its period blocks) and
 * keeps its basis for the other threads' first points; the caller's worker then goes on
 * with the inner options' thread count. */
static void first_point(sweep_run *run, worker *first, const cap_sweep_options *outer)
{
    first->work = cap_scenario_clone(run->base);
    if (!first->work)
        return;
    const cap_sweep_options *inner = run->options;
    run->options = outer;
    worker_point(run, first, 0, &run->diags[0]);
    run->options = inner;
    const cap_sweep_point *point = &run->points[0];
    if (first->resolver && point->solved && point->status == CAP_PLAN_OPTIMAL)
        basis_save(first->resolver, &run->start);
    /* Its other points share the machine with the other threads, as theirs do: kept period
     * blocks with a thread each would oversubscribe it. */
    if (first->resolver)
        cap_resolver_set_threads(first->resolver, inner->solve.threads);
    run->first = first;
}

static void run_threads(sweep_run *run, int team)
{
#pragma omp parallel num_threads(team)
    {
        cap_lp_thread_start();
        worker_run(run);
        /* Workers' GLPK environments go; the caller's thread still holds thread 0's. */
        if (omp_get_thread_num() != 0)
            glp_free_env();
    }
}

cap_status cap_sweep_run(const cap_scenario *base, const cap_sweep_options *o,
                         cap_sweep_result **out, cap_diag *diag)
{
    *out = NULL;
    cap_status rc = cap_sweep_check(base, o, diag);
    if (rc != CAP_OK)
        return rc;
    cap_sweep_result *result = calloc(1, sizeof *result);
    int team = o->threads > 0 ? o->threads : omp_get_max_threads();
    if (team > o->point_count)
        team = o->point_count > 0 ? o->point_count : 1;
    /* Period blocks inside a point run on one thread when the points are spread. */
    cap_sweep_options inner = *o;
    if (team > 1)
        inner.solve.threads = 1;
    sweep_run run = {.base = base, .options = &inner};
    run.points = calloc((size_t)o->point_count + 1, sizeof *run.points);
    run.diags = calloc((size_t)team, sizeof *run.diags);
    if (!result || !run.points || !run.diags) {
        free(result);
        free(run.points);
        free(run.diags);
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    for (int i = 0; i < team; i++)
        cap_diag_init(&run.diags[i]);
    for (int i = 0; i < o->point_count; i++)
        run.points[i].status = CAP_PLAN_UNDEFINED;
    double start = omp_get_wtime();
    worker first = {0};
    if (team > 1 && !o->cold)
        first_point(&run, &first, o);
    run_threads(&run, team);
    worker_free(&first);
    free(run.start.row_stat);
    free(run.start.col_stat);
    result->seconds = omp_get_wtime() - start;
    for (int i = 0; i < team; i++) {
        cap_diag_extend(diag, &run.diags[i]);
        cap_diag_free(&run.diags[i]);
    }
    free(run.diags);
    result->points = run.points;
    result->point_count = o->point_count;
    result->axis_count = o->axis_count;
    result->threads = team;
    if (run.failed_memory) {
        cap_diag_add(diag, "out of memory");
        cap_sweep_result_free(result);
        return CAP_ERR_RUNTIME;
    }
    *out = result;
    return CAP_OK;
}

void cap_sweep_result_free(cap_sweep_result *result)
{
    if (!result)
        return;
    free(result->points);
    free(result);
}
