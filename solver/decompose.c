/* decompose.c: a warm start for the whole model from its period blocks (see decompose.h).
 *
 * The model is block-structured: every row but the commitment and budget rows belongs to
 * one period, and so does every column but the top-ups. Each period's block is solved
 * alone (in parallel, one GLPK problem per thread) and the block bases are put together
 * into one basis of the whole model, with the slacks of the linking rows basic and the
 * top-ups at zero. That basis is dual feasible (the linking rows' duals are 0, so every
 * reduced cost is the block's own, and a top-up's is 1), so the dual simplex of the whole
 * model starts from it and only repairs the linking rows that the blocks violate. The
 * optimum is the whole model's own: the decomposition changes the starting point only.
 *
 * A take-or-pay commitment links the periods: at the block optimum a provider may be
 * under its commitment, and then the whole model's optimum spends more with it. So the
 * blocks are coordinated by Lagrangian prices first: provider p's offerings cost
 * (1 - lambda_p) of their price in every block, and lambda_p is bisected in [0, 1] until
 * the blocks' spend with p just covers its commitment. Each round re-solves every block
 * from its previous basis. The combined basis then makes each top-up basic where the blocks
 * still fall short and the commitment slack basic where they do not, so it is primal
 * feasible, and the whole model's primal simplex finishes from it.
 *
 * Block order matches the whole model's: rows and x columns are emitted period by period
 * in the same order (model.c), so block row i of period t is whole-model row
 * first_row[t] + i, and likewise for x columns; unmet and unit columns are mapped by index.
 *
 * The blocks are kept (cap_blocks): a one-shot start (cap_model_warm_start_from_blocks)
 * makes them, starts the model and frees them; a sweep keeps them between its solves. Each warm
 * start copies the whole model's costs and bounds into them, and the coefficients set since the
 * last start, and re-solves each block from its own optimum: after a change of prices or
 * availability that is a few pivots a block, each about a third of the cost of a pivot of the whole
 * model (measured on the generated 50x300x8 model: about 150 pivots a point either way, 0.1 ms a
 * block pivot against 0.3 ms a whole-model one), and a block that nothing touched is not solved at
 * all. When the blocks meet every commitment at their true prices and no other row links
 * the periods, their combined basis is optimal for the whole model by construction (see
 * blocks_start) and their values are the answer: the whole model then needs no simplex,
 * which would cost more than all the blocks (GLPK copies the whole problem into its solver
 * at every call, 10 to 35 ms here). The threads are the blocks' own, made with them: a GLPK
 * problem must stay in the thread whose environment made it, which OpenMP's pool does not
 * promise across parallel regions.
 */
#define _POSIX_C_SOURCE 200809L
#include "decompose.h"

#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lp.h"

/* A one-period view of the scenario: per-period arrays point into the original at t. */
typedef struct {
    cap_scenario view;
    cap_region *regions;
    cap_offering *offerings;
    cap_workload *workloads;
    cap_provider *providers;
} period_view;

static bool view_make(const cap_scenario *s, int t, period_view *v)
{
    memset(v, 0, sizeof *v);
    v->view = *s;
    v->regions = malloc(((size_t)s->region_count + 1) * sizeof *v->regions);
    v->offerings = malloc(((size_t)s->offering_count + 1) * sizeof *v->offerings);
    v->workloads = malloc(((size_t)s->workload_count + 1) * sizeof *v->workloads);
    v->providers = malloc(((size_t)s->provider_count + 1) * sizeof *v->providers);
    if (!v->regions || !v->offerings || !v->workloads || !v->providers)
        return false;
    for (int i = 0; i < s->region_count; i++) {
        v->regions[i] = s->regions[i];
        if (s->regions[i].power_mw)
            v->regions[i].power_mw = s->regions[i].power_mw + t;
    }
    for (int i = 0; i < s->offering_count; i++) {
        v->offerings[i] = s->offerings[i];
        v->offerings[i].price = s->offerings[i].price + t;
        v->offerings[i].capacity = s->offerings[i].capacity + t;
    }
    for (int i = 0; i < s->workload_count; i++) {
        v->workloads[i] = s->workloads[i];
        v->workloads[i].demand = s->workloads[i].demand + t;
    }
    for (int i = 0; i < s->provider_count; i++) {
        v->providers[i] = s->providers[i];
        v->providers[i].commitment = 0.0; /* linking rows stay in the whole model */
    }
    v->view.period_count = 1;
    v->view.periods = s->periods + t;
    v->view.regions = v->regions;
    v->view.offerings = v->offerings;
    v->view.workloads = v->workloads;
    v->view.providers = v->providers;
    v->view.has_budget = false;
    v->view.objective = CAP_OBJECTIVE_MIN_COST;
    return true;
}

static void view_free(period_view *v)
{
    free(v->regions);
    free(v->offerings);
    free(v->workloads);
    free(v->providers);
}

/* First whole-model row and x column of every period; false when the layout is not the
 * period-contiguous one this module relies on. */
static bool block_offsets(const cap_model *m, int *first_row, int *first_x)
{
    int T = m->scenario->period_count;
    for (int t = 0; t <= T; t++)
        first_row[t] = first_x[t] = 0;
    int expected = 0, last = -1;
    for (int r = 1; r <= m->row_count; r++) {
        int period = m->rows[r - 1].period;
        if (period < 0)
            continue;
        if (period < last)
            return false; /* not period-contiguous */
        last = period;
        while (expected <= period)
            first_row[expected++] = r;
    }
    for (int c = m->column_count; c >= 1; c--)
        if (m->columns[c - 1].kind == CAP_COL_X)
            first_x[m->columns[c - 1].t] = c;
    return expected == T;
}

/* ---- blocks and their coordination ---------------------------------------------------- */

enum { LAGRANGE_ROUNDS = 10, CHAIN_COUNT = 4 };

/* Below this many columns a cold solve takes milliseconds and the period-block warm start
 * costs more than it saves (measured: 625 columns 0.03 s plain, 0.18 s with blocks;
 * 2,721 columns 0.11 s against 0.08 s; 8,993 columns 0.50 s against 0.20 s). */
enum { DECOMPOSE_MIN_COLUMNS = 2000 };

static int chain_begin(int periods, int chains, int k)
{
    return (int)((long)periods * k / chains);
}

static int chain_end(int periods, int chains, int k)
{
    return chain_begin(periods, chains, k + 1);
}

typedef struct {
    const cap_model *whole;
    int T, P;
    int *first_row, *first_x;
    int *row_stat, *col_stat;
    double *lambda, *lo, *hi; /* [P] */
    double *spend;            /* [T * P] spend with each provider in each block */
    bool done;
} coordination;

/* The arrays of a coordination of model m's T periods and P providers, block offsets
 * included; false when out of memory or when a row or column lies outside the periods
 * (what the arrays hold then is freed by coordination_free). */
static bool coordination_make(coordination *c, const cap_model *m, int T, int P)
{
    *c = (coordination){.whole = m, .T = T, .P = P};
    c->first_row = calloc((size_t)T + 1, sizeof *c->first_row);
    c->first_x = calloc((size_t)T + 1, sizeof *c->first_x);
    c->row_stat = malloc(((size_t)m->row_count + 1) * sizeof *c->row_stat);
    c->col_stat = malloc(((size_t)m->column_count + 1) * sizeof *c->col_stat);
    c->lambda = calloc((size_t)P + 1, sizeof *c->lambda);
    c->lo = calloc((size_t)P + 1, sizeof *c->lo);
    c->hi = calloc((size_t)P + 1, sizeof *c->hi);
    c->spend = calloc((size_t)T * P + 1, sizeof *c->spend);
    return c->first_row && c->first_x && c->row_stat && c->col_stat && c->lambda && c->lo &&
           c->hi && c->spend && block_offsets(m, c->first_row, c->first_x);
}

static void coordination_free(coordination *c)
{
    free(c->first_row);
    free(c->first_x);
    free(c->row_stat);
    free(c->col_stat);
    free(c->lambda);
    free(c->lo);
    free(c->hi);
    free(c->spend);
}

/* Starts `block` from the optimal basis of the previous period's block: the blocks have
 * the same rows and columns (their structure does not depend on the period) and periods
 * differ by drifting prices, capacities and demand, so the previous optimum is close.
 * Measured on one period of a generated 200x1000 model: 653 iterations (1.1 CPU-s)
 * against 1942 (3.6 CPU-s) from the crash basis. */
static bool basis_copy(cap_model *block, const cap_model *previous)
{
    if (previous->row_count != block->row_count || previous->column_count != block->column_count)
        return false;
    for (int r = 1; r <= block->row_count; r++)
        glp_set_row_stat(block->lp, r, glp_get_row_stat(previous->lp, r));
    for (int col = 1; col <= block->column_count; col++)
        glp_set_col_stat(block->lp, col, glp_get_col_stat(previous->lp, col));
    return true;
}

/* Bisects every linked provider's lambda on whether its commitment is met; the last round
 * runs at the smallest lambda known to meet it. Sets done when nothing is left to do. */
static void coordinate(coordination *c, int round)
{
    const cap_scenario *s = c->whole->scenario;
    bool all_met = true;
    for (int p = 0; p < c->P; p++) {
        double commitment = s->providers[p].commitment, spend = 0.0;
        if (commitment <= 0.0)
            continue;
        for (int t = 0; t < c->T; t++)
            spend += c->spend[t * c->P + p];
        bool met = spend >= commitment * (1.0 - 1e-12);
        if (met)
            c->hi[p] = c->lambda[p];
        else
            c->lo[p] = c->lambda[p];
        all_met = all_met && met;
    }
    if ((round == 0 && all_met) || round == LAGRANGE_ROUNDS) {
        c->done = true;
        return;
    }
    for (int p = 0; p < c->P; p++)
        if (s->providers[p].commitment > 0.0)
            c->lambda[p] = round == LAGRANGE_ROUNDS - 1 ? c->hi[p] : 0.5 * (c->lo[p] + c->hi[p]);
}

/* Linking rows: the commitment slack is basic where the blocks meet the commitment, else
 * the top-up is, so the combined basis is primal feasible. The budget slack is basic. */
static void linking_basis(coordination *c)
{
    const cap_model *m = c->whole;
    const cap_scenario *s = m->scenario;
    for (int r = 1; r <= m->row_count; r++) {
        const cap_row_info *info = &m->rows[r - 1];
        if (info->kind != CAP_ROW_COMMITMENT)
            continue;
        int p = info->a;
        double spend = 0.0;
        for (int t = 0; t < c->T; t++)
            spend += c->spend[t * c->P + p];
        if (spend < s->providers[p].commitment) {
            c->row_stat[r] = GLP_NL;
            c->col_stat[m->topup_column[p]] = GLP_BS;
        }
    }
}

/* ---- period blocks kept between solves ------------------------------------------------ */

/* One period's block, built from its period view: block row i is whole row first_row + i - 1, block
 * column j is whole column whole_column[j]. */
typedef struct {
    period_view view;
    cap_model *model;
    glp_prob *lp; /* model->lp */
    int period, rows, columns, first_row;
    int *whole_column; /* [columns + 1] */
    int *provider;     /* [columns + 1] the provider of an x column, -1 for other columns */
    bool bounds_changed, matrix_changed; /* since the block's last solve */
    bool solved;                         /* the block holds its optimum for its current objective */
} kept_block;

/* Scratch space of one thread: one column or row of the whole model. */
typedef struct {
    int *index;
    double *value;
} scratch;

static bool scratch_make(const cap_model *m, scratch *s)
{
    size_t line = (size_t)(m->row_count > m->column_count ? m->row_count : m->column_count) + 1;
    s->index = malloc(line * sizeof *s->index);
    s->value = malloc(line * sizeof *s->value);
    return s->index && s->value;
}

static void scratch_free(scratch *s)
{
    free(s->index);
    free(s->value);
}

/* The coefficients set in the whole model's columns and rows, in the order they were set,
 * until both the blocks and the whole model have taken them: entry k is column line[k]
 * (row -line[k] when negative) set to index[start[k]] .. index[start[k + 1] - 1] (whole
 * rows for a column, whole columns for a row) with the same values. Index 0 of index and
 * value is never used, so index + start[k] - 1 is a GLPK-style 1-based array. */
typedef struct {
    int *line, *start, *index;
    double *value;
    unsigned char *stale; /* [capacity] a later entry sets the same line */
    int count, capacity;  /* entries */
    int used, room;       /* of index, value */
    int synced, applied;  /* entries the blocks, and the whole model, have taken */
} change_log;

static bool log_push(change_log *l, int line, int count, const int *index, const double *value)
{
    if (l->count + 2 > l->capacity) {
        int capacity = l->capacity ? 2 * l->capacity : 1024;
        int *lines = realloc(l->line, (size_t)capacity * sizeof *lines);
        if (lines)
            l->line = lines;
        int *start = realloc(l->start, (size_t)capacity * sizeof *start);
        if (start)
            l->start = start;
        unsigned char *stale = realloc(l->stale, (size_t)capacity * sizeof *stale);
        if (stale)
            l->stale = stale;
        if (!lines || !start || !stale)
            return false;
        l->capacity = capacity;
    }
    if (l->used == 0)
        l->used = 1; /* index 0 stays unused */
    if (l->used + count > l->room) {
        int room = l->room ? l->room : 16384;
        while (room < l->used + count)
            room *= 2;
        int *indices = realloc(l->index, (size_t)room * sizeof *indices);
        if (indices)
            l->index = indices;
        double *values = realloc(l->value, (size_t)room * sizeof *values);
        if (values)
            l->value = values;
        if (!indices || !values)
            return false;
        l->room = room;
    }
    l->line[l->count] = line;
    l->start[l->count] = l->used;
    memcpy(l->index + l->used, index + 1, (size_t)count * sizeof *index);
    memcpy(l->value + l->used, value + 1, (size_t)count * sizeof *value);
    l->used += count;
    l->count++;
    l->start[l->count] = l->used;
    return true;
}

/* Empties the log once the blocks and the whole model have taken everything in it. */
static void log_settle(change_log *l)
{
    if (l->synced == l->count && l->applied == l->count)
        l->count = l->used = l->synced = l->applied = 0;
}

static void log_free(change_log *l)
{
    free(l->line);
    free(l->start);
    free(l->index);
    free(l->value);
    free(l->stale);
}

/* What every thread does to its own blocks. */
typedef enum {
    TASK_MAKE,  /* build the blocks */
    TASK_START, /* take the model's changes, then solve a round as TASK_SOLVE does */
    TASK_SOLVE, /* solve a round and hand the statuses and values to the whole model */
    TASK_EXIT   /* free the blocks */
} kept_task;

/* How a round solves a block: from a crash basis (or the chain predecessor's optimum), from
 * its own basis after costs changed, or after anything changed. */
typedef enum { SOLVE_FIRST, SOLVE_COSTS, SOLVE_ANY } solve_mode;

typedef struct {
    struct cap_blocks *owner;
    int me;
} helper_arg;

struct cap_blocks {
    coordination c;              /* layout, prices, spends and statuses; c.whole is the model */
    kept_block *blocks;          /* [T] */
    int *column_period;          /* [whole column] the period of its block, -1 for none */
    int *block_column;           /* [whole column] its column in that block */
    change_log log;              /* coefficients set in the whole model (cap_blocks_column_set) */
    int *seen_column, *seen_row; /* [whole columns, rows + 1] stamps for cap_blocks_apply */
    int stamp;
    int chains, team; /* chain k belongs to thread k % team; thread 0 is the caller's */
    /* helper threads: each makes, solves and frees its own blocks in its own GLPK
     * environment; the caller hands out one task at a time and waits for all of them */
    pthread_t *helpers;
    helper_arg *args;
    pthread_mutex_t lock;
    pthread_cond_t go, done;
    bool lock_made, go_made, done_made;
    kept_task task;
    solve_mode mode;
    long generation; /* bumped for every task handed out */
    int busy;        /* helpers still at the current task */
    bool failed;     /* a thread failed at the current task */
    scratch own;     /* the calling thread's */
    /* the last start: its column values (top-ups 0), and whether the combined basis is
     * optimal for the whole model by construction (see blocks_start) */
    double *solution; /* [whole columns + 1] */
    bool optimal;
    bool linked_by_commitments_only; /* every linking row is a commitment row */
};

static void kept_block_free(kept_block *k)
{
    cap_model_free(k->model);
    view_free(&k->view);
    free(k->whole_column);
    free(k->provider);
    memset(k, 0, sizeof *k);
}

/* Builds block t from its period view (the scenario the model mirrors) and starts it
 * from the model's basis restricted to it when that is a basis of the block (no linking
 * row binds), else from the slack basis. False when out of memory or when the block's rows
 * and columns are not the model's period-t rows and columns in the same order. */
static bool kept_block_make(cap_blocks *b, kept_block *k, int t)
{
    const cap_model *m = b->c.whole;
    k->period = t;
    k->first_row = b->c.first_row[t];
    cap_diag diag;
    cap_diag_init(&diag);
    bool ok = view_make(m->scenario, t, &k->view) &&
              cap_model_build(&k->view.view, m->integer, &k->model, &diag) == CAP_OK;
    cap_diag_free(&diag);
    if (!ok)
        return false;
    const cap_model *block = k->model;
    k->lp = block->lp;
    k->rows = block->row_count;
    k->columns = block->column_count;
    int rows = 0;
    for (int r = 1; r <= m->row_count; r++)
        rows += m->rows[r - 1].period == t;
    k->whole_column = malloc(((size_t)k->columns + 1) * sizeof *k->whole_column);
    k->provider = malloc(((size_t)k->columns + 1) * sizeof *k->provider);
    if (!k->whole_column || !k->provider || rows != k->rows ||
        k->first_row + k->rows - 1 > m->row_count)
        return false;
    int basic = 0;
    for (int i = 1; i <= k->rows; i++) {
        const cap_row_info *mine = &block->rows[i - 1];
        const cap_row_info *theirs = &m->rows[k->first_row + i - 2];
        if (mine->kind != theirs->kind || mine->a != theirs->a || theirs->period != t)
            return false;
        int stat = glp_get_row_stat(m->lp, k->first_row + i - 1);
        glp_set_row_stat(k->lp, i, stat);
        basic += stat == GLP_BS;
    }
    for (int j = 1; j <= k->columns; j++) {
        const cap_col_info *info = &block->columns[j - 1];
        int c = info->kind == CAP_COL_X       ? b->c.first_x[t] + j - 1
                : info->kind == CAP_COL_UNMET ? m->unmet_column[info->w * b->c.T + t]
                : info->kind == CAP_COL_UNITS ? m->units_column[info->o * b->c.T + t]
                                              : 0;
        if (c < 1 || c > m->column_count || b->column_period[c] != t || b->block_column[c] != j ||
            m->columns[c - 1].kind != info->kind || m->columns[c - 1].w != info->w ||
            m->columns[c - 1].o != info->o)
            return false;
        k->whole_column[j] = c;
        k->provider[j] =
            info->kind == CAP_COL_X ? cap_offering_provider(&k->view.view, info->o) : -1;
        int stat = glp_get_col_stat(m->lp, c);
        glp_set_col_stat(k->lp, j, stat);
        basic += stat == GLP_BS;
    }
    if (basic != k->rows)
        glp_std_basis(k->lp);
    k->matrix_changed = true;
    return true;
}

/* Log entry e, a column of block k's period, into the block: its entries in the block's
 * rows. */
static void column_copy(cap_blocks *b, kept_block *k, int e, scratch *s)
{
    const cap_model *m = b->c.whole;
    const change_log *l = &b->log;
    int kept = 0;
    for (int i = l->start[e]; i < l->start[e + 1]; i++)
        if (m->rows[l->index[i] - 1].period == k->period) {
            kept++;
            s->index[kept] = l->index[i] - k->first_row + 1;
            s->value[kept] = l->value[i];
        }
    glp_set_mat_col(k->lp, b->block_column[l->line[e]], kept, s->index, s->value);
    k->matrix_changed = true;
}

/* Log entry e, a row of block k's period, into the block: its entries in the block's
 * columns. */
static void row_copy(cap_blocks *b, kept_block *k, int e, scratch *s)
{
    const change_log *l = &b->log;
    int kept = 0;
    for (int i = l->start[e]; i < l->start[e + 1]; i++)
        if (b->column_period[l->index[i]] == k->period) {
            kept++;
            s->index[kept] = b->block_column[l->index[i]];
            s->value[kept] = l->value[i];
        }
    glp_set_mat_row(k->lp, -l->line[e] - k->first_row + 1, kept, s->index, s->value);
    k->matrix_changed = true;
}

/* Brings block k to the whole model: bounds, and the coefficients of the rows and columns set
 * since the last start (costs are read from the whole model when the block solves). */
static void kept_block_sync(cap_blocks *b, kept_block *k, scratch *s)
{
    const cap_model *m = b->c.whole;
    for (int j = 1; j <= k->columns; j++) {
        int c = k->whole_column[j];
        int type = glp_get_col_type(m->lp, c);
        double lb = glp_get_col_lb(m->lp, c), ub = glp_get_col_ub(m->lp, c);
        if (type != glp_get_col_type(k->lp, j) || lb != glp_get_col_lb(k->lp, j) ||
            ub != glp_get_col_ub(k->lp, j)) {
            glp_set_col_bnds(k->lp, j, type, lb, ub);
            k->bounds_changed = true;
        }
    }
    for (int i = 1; i <= k->rows; i++) {
        int r = k->first_row + i - 1;
        int type = glp_get_row_type(m->lp, r);
        double lb = glp_get_row_lb(m->lp, r), ub = glp_get_row_ub(m->lp, r);
        if (type != glp_get_row_type(k->lp, i) || lb != glp_get_row_lb(k->lp, i) ||
            ub != glp_get_row_ub(k->lp, i)) {
            glp_set_row_bnds(k->lp, i, type, lb, ub);
            k->bounds_changed = true;
        }
    }
    for (int e = b->log.synced; e < b->log.count; e++) {
        int line = b->log.line[e];
        if (line > 0 && b->column_period[line] == k->period)
            column_copy(b, k, e, s);
        else if (line < 0 && m->rows[-line - 1].period == k->period)
            row_copy(b, k, e, s);
    }
}

/* Solves block k at the current prices (x columns of provider p cost 1 - lambda_p of their
 * price), then records its spend. SOLVE_FIRST: the primal simplex from a crash basis of the
 * scaled block, or from `previous`'s optimum (the chain predecessor); that measured fastest
 * (one period of the 200x1000 model: 4.1 CPU-s, against 10.3 for the dual simplex from the
 * slack basis). Otherwise from the block's own basis: nothing to do
 * when nothing changed; primal after costs only (the basis stays primal feasible); dual
 * after bounds only (it stays dual feasible); after coefficients, or costs and bounds
 * together, whichever simplex can go on (glp_warm_up looks: dual when only dual feasible,
 * else primal), none when the basis is still optimal. */
static bool kept_block_solve(kept_block *k, const kept_block *previous, coordination *c,
                             solve_mode mode)
{
    bool costs = false;
    for (int j = 1; j <= k->columns; j++) {
        double whole = c->whole->cost[k->whole_column[j] - 1];
        double cost = k->provider[j] >= 0 ? whole * (1.0 - c->lambda[k->provider[j]]) : whole;
        if (cost != glp_get_obj_coef(k->lp, j)) {
            glp_set_obj_coef(k->lp, j, cost);
            costs = true;
        }
    }
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.meth = GLP_PRIMAL;
    bool changed = k->bounds_changed || k->matrix_changed;
    bool optimal = k->solved && !changed && !costs && mode != SOLVE_FIRST;
    if (mode == SOLVE_FIRST) {
        glp_scale_prob(k->lp, GLP_SF_AUTO);
        if (!previous || !basis_copy(k->model, previous->model))
            glp_adv_basis(k->lp, 0);
    } else if (k->solved && !k->matrix_changed && !costs && k->bounds_changed) {
        parm.meth = GLP_DUALP; /* bounds only: the basis stays dual feasible */
    } else if (!k->solved || k->matrix_changed || (k->bounds_changed && costs)) {
        cap_basis_state state = cap_lp_basis_state(k->lp);
        if (state == CAP_BASIS_SINGULAR)
            glp_adv_basis(k->lp, 0); /* singular after a column changed: crash a new one */
        optimal = state == CAP_BASIS_OPTIMAL;
        if (state == CAP_BASIS_DUAL_ONLY)
            parm.meth = GLP_DUALP;
    }
    k->solved = false;
    if (!optimal && (glp_simplex(k->lp, &parm) != 0 || glp_get_status(k->lp) != GLP_OPT))
        return false;
    k->solved = true;
    k->bounds_changed = k->matrix_changed = false;
    int t = k->period;
    for (int p = 0; p < c->P; p++)
        c->spend[t * c->P + p] = 0.0;
    for (int j = 1; j <= k->columns; j++)
        if (k->provider[j] >= 0)
            c->spend[t * c->P + k->provider[j]] +=
                c->whole->cost[k->whole_column[j] - 1] * glp_get_col_prim(k->lp, j);
    return true;
}

/* The block's statuses into the whole model's basis, and its values into `solution`. */
static void kept_block_export(const kept_block *k, coordination *c, double *solution)
{
    for (int i = 1; i <= k->rows; i++)
        c->row_stat[k->first_row + i - 1] = glp_get_row_stat(k->lp, i);
    for (int j = 1; j <= k->columns; j++) {
        c->col_stat[k->whole_column[j]] = glp_get_col_stat(k->lp, j);
        solution[k->whole_column[j]] = glp_get_col_prim(k->lp, j);
    }
}

/* Thread `me`'s part of the current task: its chains, each in period order. */
static bool task_run(cap_blocks *b, int me, scratch *s)
{
    bool ok = true;
    for (int chain = me; b->blocks && chain < b->chains; chain += b->team) {
        int begin = chain_begin(b->c.T, b->chains, chain),
            end = chain_end(b->c.T, b->chains, chain);
        for (int t = begin; t < end; t++) {
            kept_block *k = &b->blocks[t];
            switch (b->task) {
            case TASK_MAKE:
                ok = ok && kept_block_make(b, k, t);
                break;
            case TASK_START:
                kept_block_sync(b, k, s); /* every block, even after one failed */
                /* fall through */
            case TASK_SOLVE:
                ok =
                    ok && kept_block_solve(k, t > begin ? &b->blocks[t - 1] : NULL, &b->c, b->mode);
                if (ok)
                    kept_block_export(k, &b->c, b->solution);
                break;
            case TASK_EXIT:
                kept_block_free(k);
                break;
            }
        }
    }
    return ok;
}

static void *helper_main(void *arg)
{
    cap_blocks *b = ((helper_arg *)arg)->owner;
    int me = ((helper_arg *)arg)->me;
    glp_term_out(GLP_OFF); /* GLPK's terminal switch is per thread */
    cap_lp_thread_start();
    scratch s;
    bool ready = scratch_make(b->c.whole, &s);
    long seen = 0;
    for (;;) {
        pthread_mutex_lock(&b->lock);
        while (b->generation == seen)
            pthread_cond_wait(&b->go, &b->lock);
        seen = b->generation;
        kept_task task = b->task;
        pthread_mutex_unlock(&b->lock);
        bool ok = ready && task_run(b, me, &s);
        pthread_mutex_lock(&b->lock);
        b->failed = b->failed || !ok;
        if (--b->busy == 0)
            pthread_cond_signal(&b->done);
        pthread_mutex_unlock(&b->lock);
        if (task == TASK_EXIT)
            break;
    }
    scratch_free(&s);
    glp_free_env(); /* this thread's blocks are gone; the caller's environment stays */
    return NULL;
}

/* Runs `task` on every thread's blocks; false when a thread failed at it. */
static bool task_all(cap_blocks *b, kept_task task)
{
    int helpers = b->team - 1;
    if (helpers > 0) {
        pthread_mutex_lock(&b->lock);
        b->task = task;
        b->failed = false;
        b->busy = helpers;
        b->generation++;
        pthread_cond_broadcast(&b->go);
        pthread_mutex_unlock(&b->lock);
    } else {
        b->task = task;
        b->failed = false;
    }
    bool ok = task_run(b, 0, &b->own);
    if (helpers > 0) {
        pthread_mutex_lock(&b->lock);
        while (b->busy > 0)
            pthread_cond_wait(&b->done, &b->lock);
        ok = ok && !b->failed;
        pthread_mutex_unlock(&b->lock);
    }
    return ok;
}

void cap_blocks_free(cap_blocks *b)
{
    if (!b)
        return;
    task_all(b, TASK_EXIT); /* every thread frees its own blocks and stops */
    for (int h = 0; h < b->team - 1; h++)
        pthread_join(b->helpers[h], NULL);
    if (b->lock_made)
        pthread_mutex_destroy(&b->lock);
    if (b->go_made)
        pthread_cond_destroy(&b->go);
    if (b->done_made)
        pthread_cond_destroy(&b->done);
    scratch_free(&b->own);
    free(b->solution);
    free(b->helpers);
    free(b->args);
    free(b->blocks);
    free(b->column_period);
    free(b->block_column);
    log_free(&b->log);
    free(b->seen_column);
    free(b->seen_row);
    coordination_free(&b->c);
    free(b);
}

/* Which block every whole column belongs to; false when a column other than a top-up lies
 * outside the periods. */
static bool columns_map(cap_blocks *b)
{
    const cap_model *m = b->c.whole;
    int *count = calloc((size_t)b->c.T + 1, sizeof *count);
    if (!count)
        return false;
    bool ok = true;
    for (int c = 1; c <= m->column_count; c++) {
        const cap_col_info *info = &m->columns[c - 1];
        b->column_period[c] = -1;
        if (info->kind == CAP_COL_TOPUP)
            continue;
        if (info->t < 0 || info->t >= b->c.T) {
            ok = false;
            continue;
        }
        b->column_period[c] = info->t;
        b->block_column[c] = ++count[info->t];
    }
    free(count);
    return ok;
}

cap_blocks *cap_blocks_create(const cap_model *m, int threads)
{
    const cap_scenario *s = m->scenario;
    int T = s->period_count, P = s->provider_count;
    if (T < 2 || m->column_count < DECOMPOSE_MIN_COLUMNS)
        return NULL;
    cap_blocks *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    bool made = coordination_make(&b->c, m, T, P);
    b->column_period = malloc(((size_t)m->column_count + 1) * sizeof *b->column_period);
    b->block_column = calloc((size_t)m->column_count + 1, sizeof *b->block_column);
    b->solution = calloc((size_t)m->column_count + 1, sizeof *b->solution);
    b->seen_column = calloc((size_t)m->column_count + 1, sizeof *b->seen_column);
    b->seen_row = calloc((size_t)m->row_count + 1, sizeof *b->seen_row);
    b->linked_by_commitments_only = true;
    for (int r = 1; r <= m->row_count; r++)
        if (m->rows[r - 1].period < 0 && m->rows[r - 1].kind != CAP_ROW_COMMITMENT)
            b->linked_by_commitments_only = false;
    b->chains = T < CHAIN_COUNT ? T : CHAIN_COUNT;
    int team = threads > 0 ? threads : omp_get_max_threads();
    team = team < 1 ? 1 : team > b->chains ? b->chains : team;
    b->helpers = calloc((size_t)team, sizeof *b->helpers);
    b->args = calloc((size_t)team, sizeof *b->args);
    b->team = 1;
    bool ok = made && b->column_period && b->block_column && b->helpers && b->args && b->solution &&
              b->seen_column && b->seen_row && columns_map(b);
    if (ok && team > 1) {
        b->lock_made = pthread_mutex_init(&b->lock, NULL) == 0;
        b->go_made = pthread_cond_init(&b->go, NULL) == 0;
        b->done_made = pthread_cond_init(&b->done, NULL) == 0;
        /* without them, or with fewer threads than asked for, the caller's thread does more */
        for (int h = 0; b->lock_made && b->go_made && b->done_made && h < team - 1; h++) {
            b->args[h] = (helper_arg){b, h + 1};
            if (pthread_create(&b->helpers[h], NULL, helper_main, &b->args[h]) != 0)
                break;
            b->team++;
        }
    }
    if (ok) {
        b->blocks = calloc((size_t)T, sizeof *b->blocks);
        ok = b->blocks && scratch_make(m, &b->own) && task_all(b, TASK_MAKE);
    }
    if (!ok) {
        cap_blocks_free(b);
        return NULL;
    }
    return b;
}

bool cap_blocks_column_set(cap_blocks *b, int column, int count, const int *index,
                           const double *value)
{
    return log_push(&b->log, column, count, index, value);
}

bool cap_blocks_row_set(cap_blocks *b, int row, int count, const int *index, const double *value)
{
    return log_push(&b->log, -row, count, index, value);
}

void cap_blocks_apply(cap_blocks *b, cap_model *m)
{
    change_log *l = &b->log;
    if (l->applied == l->count || m != b->c.whole)
        return;
    /* only the last setting of a line counts: every setting is the whole line, and one set
     * later than another of a crossing line still comes after it */
    b->stamp++;
    for (int e = l->count - 1; e >= l->applied; e--) {
        int *seen = l->line[e] > 0 ? &b->seen_column[l->line[e]] : &b->seen_row[-l->line[e]];
        l->stale[e] = *seen == b->stamp;
        *seen = b->stamp;
    }
    for (int e = l->applied; e < l->count; e++) {
        if (l->stale[e])
            continue;
        int count = l->start[e + 1] - l->start[e];
        const int *index = l->index + l->start[e] - 1;
        const double *value = l->value + l->start[e] - 1;
        if (l->line[e] > 0)
            glp_set_mat_col(m->lp, l->line[e], count, index, value);
        else
            glp_set_mat_row(m->lp, -l->line[e], count, index, value);
    }
    l->applied = l->count;
    log_settle(l);
}

/* Takes the model's changes, coordinates the commitments over rounds of `first` then
 * SOLVE_COSTS and installs the combined basis in the whole model. One
 * hand-over to the threads a round: the first round takes the changes too, and every round
 * hands its statuses and values over, so a point whose blocks meet the commitments at once
 * waits for its helpers only once. */
static bool blocks_start(cap_blocks *b, cap_model *m, solve_mode first)
{
    coordination *c = &b->c;
    if (m != c->whole)
        return false;
    for (int p = 0; p < c->P; p++) {
        c->lambda[p] = c->lo[p] = 0.0;
        c->hi[p] = 1.0;
    }
    c->done = false;
    b->optimal = false;
    int round = 0;
    for (; round <= LAGRANGE_ROUNDS && !c->done; round++) {
        b->mode = round == 0 ? first : SOLVE_COSTS;
        bool ok = task_all(b, round == 0 ? TASK_START : TASK_SOLVE);
        if (round == 0) {
            b->log.synced = b->log.count;
            /* The whole model takes the logged coefficients when a solve needs them (the
             * blocks' answer does not), or here once they outgrow it: the log stays bounded. */
            if (b->log.used > glp_get_num_nz(m->lp))
                cap_blocks_apply(b, m);
            log_settle(&b->log);
        }
        if (!ok)
            return false;
        coordinate(c, round);
    }
    /* Every block at its optimum for its true costs (no price moved: the blocks met every
     * commitment in the first round) and no linking row but commitments: the combined
     * basis is then optimal for the whole model. It is primal feasible (each block's rows
     * hold, every commitment is met with its slack basic, the top-ups are 0) and dual
     * feasible: the commitment rows' duals are 0, so every column's reduced cost is its
     * block's (>= 0) and a top-up's is 1. */
    b->optimal = round == 1 && b->linked_by_commitments_only;
    for (int r = 1; r <= m->row_count; r++)
        if (m->rows[r - 1].period < 0)
            c->row_stat[r] = GLP_BS; /* the blocks set every other row and column */
    for (int p = 0; p < c->P; p++)
        if (m->topup_column[p])
            c->col_stat[m->topup_column[p]] = GLP_NL;
    linking_basis(c);
    for (int p = 0; p < c->P; p++) {
        int topup = m->topup_column[p];
        if (!topup)
            continue;
        double spend = 0.0;
        for (int t = 0; t < c->T; t++)
            spend += c->spend[t * c->P + p];
        b->solution[topup] =
            c->col_stat[topup] == GLP_BS ? m->scenario->providers[p].commitment - spend : 0.0;
    }
    for (int r = 1; r <= m->row_count; r++)
        glp_set_row_stat(m->lp, r, c->row_stat[r]);
    for (int col = 1; col <= m->column_count; col++)
        glp_set_col_stat(m->lp, col, c->col_stat[col]);
    return true;
}

bool cap_blocks_cold_start(cap_blocks *b, cap_model *m)
{
    return blocks_start(b, m, SOLVE_FIRST);
}

bool cap_blocks_warm_start(cap_blocks *b, cap_model *m)
{
    return blocks_start(b, m, SOLVE_ANY);
}

const double *cap_blocks_solution(const cap_blocks *b)
{
    return b->optimal ? b->solution : NULL;
}

bool cap_model_warm_start_from_blocks(cap_model *m, int threads)
{
    cap_blocks *b = cap_blocks_create(m, threads);
    bool ok = b && cap_blocks_cold_start(b, m);
    cap_blocks_free(b);
    return ok;
}
