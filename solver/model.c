/* model.c: scenario -> GLPK problem (SPEC §1), streamed into GLPK row by row.
 *
 * Columns come first, in a fixed order (x by period, workload, offering; then unmet,
 * top-up and unit columns), then rows are emitted period by period. Each row's entries
 * go to one reused buffer and from there straight to glp_set_mat_row when the next row
 * opens, so the build is linear in the number of non-zeros and holds no copy of the
 * matrix besides GLPK's own. GLPK's lists come out exactly as glp_load_matrix would make
 * them from the same entries in the same order (row lists in reverse entry order, column
 * lists in decreasing row order), so the simplex sees the same problem.
 * Rows that cannot bind are left out (a max_share of 1, a min_share of 0, a zero
 * commitment); every other constraint family of SPEC §1 has one row per instance.
 *
 * Where the time goes (issue #5, measured on the 2-core development VM): the build is
 * bounded by memory, not arithmetic. GLPK keeps 56 bytes per non-zero (value, row and
 * column, four list links) plus about 128 per column, so the generated 50x300x8 model
 * (0.5M non-zeros) needs 36 MB and the 200x1000x12 one (10M) 0.7 GB, and on that VM the
 * first touch of every fresh 4 KiB page costs about 11 us. The triplet arrays this build
 * used to fill before glp_load_matrix were another 16 bytes per non-zero, grown by
 * copying, and glp_load_matrix walked the matrix twice more to link columns and drop
 * zeros; both are gone.
 */
#define _DEFAULT_SOURCE /* sysconf(_SC_PHYS_PAGES) */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ---- build state ---------------------------------------------------------------------- */

typedef struct {
    cap_model *model;
    int row_capacity; /* of model->rows */
    /* The open row: its GLPK index (0 = none, or it could not be opened) and its entries in
     * index[1..length], value[1..length], handed to GLPK when the next row opens. */
    int row;
    int length, entry_capacity;
    int *index;
    double *value;
    /* The x columns of one period, which every period has alike: pair k is workload
     * pair_w[k] on offering pair_o[k], delivering coef[k] H100e per accelerator with
     * provider pair_p[k]; workload w's pairs are wstart[w] .. wstart[w+1]-1. Period t's
     * column of pair k is t * pair_count + k + 1 (x columns are numbered first). */
    int pair_count;
    int *pair_o, *pair_p, *wstart;
    double *coef;
    bool failed;
    /* A coefficient or bound overflowed: GLPK must not see it. */
    bool nonfinite;
} builder;

/* Hands the open row's entries to GLPK. */
static void row_flush(builder *b)
{
    if (b->row && b->length > 0 && !b->failed && !b->nonfinite)
        glp_set_mat_row(b->model->lp, b->row, b->length, b->index, b->value);
    b->model->nonzeros += b->length;
    b->length = 0;
    b->row = 0;
}

/* Closes the open row, starts a new one and returns its 1-based index, or 0 when out of
 * memory. */
static int row_open(builder *b, cap_row_kind kind, int a, int period, int type, double bound)
{
    row_flush(b);
    cap_model *m = b->model;
    if (b->failed)
        return 0;
    if (m->row_count == b->row_capacity) {
        int capacity = b->row_capacity ? 2 * b->row_capacity : 256;
        cap_row_info *rows = realloc(m->rows, (size_t)capacity * sizeof *rows);
        if (!rows) {
            b->failed = true;
            return 0;
        }
        m->rows = rows;
        b->row_capacity = capacity;
    }
    m->rows[m->row_count] = (cap_row_info){kind, a, period};
    int r = glp_add_rows(m->lp, 1);
    m->row_count++;
    if (isfinite(bound))
        glp_set_row_bnds(m->lp, r, type, bound, bound);
    else
        b->nonfinite = true;
    b->row = r;
    return r;
}

/* Adds an entry to the open row; zeros are left out, as GLPK would drop them. */
static void entry(builder *b, int column, double value)
{
    if (!isfinite(value)) {
        b->nonfinite = true;
        return;
    }
    if (!b->row || !column || value == 0.0)
        return;
    if (b->length + 1 >= b->entry_capacity) {
        int capacity = b->entry_capacity ? 2 * b->entry_capacity : 1024;
        int *index = realloc(b->index, (size_t)capacity * sizeof *index);
        if (index)
            b->index = index;
        double *value_ = realloc(b->value, (size_t)capacity * sizeof *value_);
        if (value_)
            b->value = value_;
        if (!index || !value_) {
            b->failed = true;
            return;
        }
        b->entry_capacity = capacity;
    }
    b->length++;
    b->index[b->length] = column;
    b->value[b->length] = value;
}

static void builder_free(builder *b)
{
    free(b->index);
    free(b->value);
    free(b->pair_o);
    free(b->pair_p);
    free(b->wstart);
    free(b->coef);
}

static int column_add(cap_model *m, cap_col_kind kind, int w, int o, int t)
{
    m->columns[m->column_count] = (cap_col_info){kind, w, o, t};
    return ++m->column_count;
}

double cap_model_delivered(const cap_scenario *s, int w, int o)
{
    return cap_workload_throughput(s, w, o) * cap_offering_eff(s, o);
}

double cap_model_x_cost(const cap_scenario *s, int o, int t)
{
    return s->offerings[o].price[t] * s->periods[t].hours;
}

double cap_model_unmet_cost(const cap_scenario *s, int w, int t)
{
    return s->workloads[w].penalty * s->periods[t].hours;
}

void cap_model_set_units_bounds(cap_model *m, int column, int o, int t)
{
    const cap_scenario *s = m->scenario;
    const cap_offering *off = &s->offerings[o];
    double most = floor(off->capacity[t] / s->accelerators[off->accelerator].unit);
    glp_set_col_bnds(m->lp, column, most > 0.0 ? GLP_DB : GLP_FX, 0.0, most > 0.0 ? most : 0.0);
}

/* ---- columns -------------------------------------------------------------------------- */

/* The (workload, offering) pairs that get an x column, with what they deliver. */
static bool pairs_make(builder *b)
{
    const cap_scenario *s = b->model->scenario;
    int W = s->workload_count, O = s->offering_count;
    int count = 0;
    for (int w = 0; w < W; w++)
        for (int o = 0; o < O; o++)
            if (cap_workload_throughput(s, w, o) > 0.0)
                count++;
    b->pair_o = malloc(((size_t)count + 1) * sizeof *b->pair_o);
    b->pair_p = malloc(((size_t)count + 1) * sizeof *b->pair_p);
    b->coef = malloc(((size_t)count + 1) * sizeof *b->coef);
    b->wstart = malloc(((size_t)W + 1) * sizeof *b->wstart);
    if (!b->pair_o || !b->pair_p || !b->coef || !b->wstart)
        return false;
    int k = 0;
    for (int w = 0; w < W; w++) {
        b->wstart[w] = k;
        for (int o = 0; o < O; o++)
            if (cap_workload_throughput(s, w, o) > 0.0) {
                b->pair_o[k] = o;
                b->pair_p[k] = cap_offering_provider(s, o);
                b->coef[k] = cap_model_delivered(s, w, o);
                k++;
            }
    }
    b->wstart[W] = k;
    b->pair_count = count;
    return true;
}

static bool columns_assign(builder *b)
{
    cap_model *m = b->model;
    const cap_scenario *s = m->scenario;
    int T = s->period_count, W = s->workload_count, O = s->offering_count;
    size_t x_size = (size_t)T * W * O;
    size_t upper = (size_t)T * b->pair_count + (size_t)W * T + (size_t)s->provider_count +
                   (m->integer ? (size_t)O * T : 0);
    m->columns = malloc((upper + 1) * sizeof *m->columns);
    m->x_column = calloc(x_size + 1, sizeof *m->x_column);
    m->unmet_column = calloc((size_t)W * T + 1, sizeof *m->unmet_column);
    m->topup_column = calloc((size_t)s->provider_count + 1, sizeof *m->topup_column);
    m->units_column = calloc((size_t)O * T + 1, sizeof *m->units_column);
    if (!m->columns || !m->x_column || !m->unmet_column || !m->topup_column || !m->units_column)
        return false;

    for (int t = 0; t < T; t++)
        for (int w = 0; w < W; w++)
            for (int k = b->wstart[w]; k < b->wstart[w + 1]; k++) {
                int o = b->pair_o[k];
                m->x_column[((size_t)t * W + w) * O + o] = column_add(m, CAP_COL_X, w, o, t);
            }
    for (int w = 0; w < W; w++)
        if (s->workloads[w].has_penalty)
            for (int t = 0; t < T; t++)
                m->unmet_column[w * T + t] = column_add(m, CAP_COL_UNMET, w, -1, t);
    for (int p = 0; p < s->provider_count; p++)
        if (s->providers[p].commitment > 0.0)
            m->topup_column[p] = column_add(m, CAP_COL_TOPUP, p, -1, -1);
    if (m->integer)
        for (int o = 0; o < O; o++)
            for (int t = 0; t < T; t++)
                m->units_column[o * T + t] = column_add(m, CAP_COL_UNITS, -1, o, t);
    return true;
}

/* Cost and max_served weights of every column, and GLPK column bounds. */
static bool columns_cost(cap_model *m)
{
    const cap_scenario *s = m->scenario;
    m->cost = calloc((size_t)m->column_count + 1, sizeof *m->cost);
    m->weight_hours = calloc((size_t)m->column_count + 1, sizeof *m->weight_hours);
    if (!m->cost || !m->weight_hours)
        return false;
    for (int c = 1; c <= m->column_count; c++) {
        const cap_col_info *info = &m->columns[c - 1];
        switch (info->kind) {
        case CAP_COL_X:
            m->cost[c - 1] = cap_model_x_cost(s, info->o, info->t);
            glp_set_col_bnds(m->lp, c, GLP_LO, 0.0, 0.0);
            break;
        case CAP_COL_UNMET:
            m->cost[c - 1] = cap_model_unmet_cost(s, info->w, info->t);
            m->weight_hours[c - 1] = s->periods[info->t].hours;
            glp_set_col_bnds(m->lp, c, GLP_LO, 0.0, 0.0);
            break;
        case CAP_COL_TOPUP:
            m->cost[c - 1] = 1.0;
            glp_set_col_bnds(m->lp, c, GLP_LO, 0.0, 0.0);
            break;
        case CAP_COL_UNITS:
            glp_set_col_kind(m->lp, c, GLP_IV);
            cap_model_set_units_bounds(m, c, info->o, info->t);
            break;
        case CAP_COL_ELASTIC:
            break;
        }
    }
    return true;
}

/* ---- rows, one period at a time ------------------------------------------------------- */

static int x_col(const cap_model *m, int t, int w, int o)
{
    const cap_scenario *s = m->scenario;
    return m->x_column[((size_t)t * s->workload_count + w) * s->offering_count + o];
}

/* Period t's x column of pair k. */
static int pair_col(const builder *b, int t, int k)
{
    return t * b->pair_count + k + 1;
}

static void rows_demand(builder *b, int t)
{
    cap_model *m = b->model;
    const cap_scenario *s = m->scenario;
    for (int w = 0; w < s->workload_count; w++) {
        row_open(b, CAP_ROW_DEMAND, w, t, GLP_LO, s->workloads[w].demand[t]);
        for (int k = b->wstart[w]; k < b->wstart[w + 1]; k++)
            entry(b, pair_col(b, t, k), b->coef[k]);
        entry(b, m->unmet_column[w * s->period_count + t], 1.0);
    }
}

static void rows_capacity(builder *b, int t)
{
    cap_model *m = b->model;
    const cap_scenario *s = m->scenario;
    for (int o = 0; o < s->offering_count; o++) {
        bool used = false;
        for (int w = 0; w < s->workload_count && !used; w++)
            used = x_col(m, t, w, o) != 0;
        if (!used)
            continue;
        row_open(b, CAP_ROW_CAPACITY, o, t, GLP_UP, s->offerings[o].capacity[t]);
        for (int w = 0; w < s->workload_count; w++)
            entry(b, x_col(m, t, w, o), 1.0);
        if (m->integer) {
            row_open(b, CAP_ROW_UNITS, o, t, GLP_FX, 0.0);
            for (int w = 0; w < s->workload_count; w++)
                entry(b, x_col(m, t, w, o), 1.0);
            entry(b, m->units_column[o * s->period_count + t],
                  -(double)s->accelerators[s->offerings[o].accelerator].unit);
        }
    }
}

/* delivered(p) - share * delivered(all) <= 0 (max) or >= 0 (min). */
static void row_share(builder *b, int t, int p, cap_row_kind kind, double share)
{
    row_open(b, kind, p, t, kind == CAP_ROW_MAX_SHARE ? GLP_UP : GLP_LO, 0.0);
    for (int k = 0; k < b->pair_count; k++) {
        double own = b->pair_p[k] == p ? 1.0 : 0.0;
        entry(b, pair_col(b, t, k), (own - share) * b->coef[k]);
    }
}

static void rows_share(builder *b, int t)
{
    const cap_scenario *s = b->model->scenario;
    for (int p = 0; p < s->provider_count; p++) {
        const cap_provider *provider = &s->providers[p];
        if (provider->has_max_share && provider->max_share < 1.0)
            row_share(b, t, p, CAP_ROW_MAX_SHARE, provider->max_share);
        if (provider->has_min_share && provider->min_share > 0.0)
            row_share(b, t, p, CAP_ROW_MIN_SHARE, provider->min_share);
    }
}

static void rows_power(builder *b, int t)
{
    cap_model *m = b->model;
    const cap_scenario *s = m->scenario;
    for (int g = 0; g < s->region_count; g++) {
        if (!s->regions[g].power_mw)
            continue;
        row_open(b, CAP_ROW_POWER, g, t, GLP_UP, 1000.0 * s->regions[g].power_mw[t]);
        for (int o = 0; o < s->offering_count; o++) {
            if (s->offerings[o].region != g)
                continue;
            double kw = s->accelerators[s->offerings[o].accelerator].power_kw;
            for (int w = 0; w < s->workload_count; w++)
                entry(b, x_col(m, t, w, o), kw);
        }
    }
}

static void rows_spot(builder *b, int t)
{
    const cap_scenario *s = b->model->scenario;
    for (int w = 0; w < s->workload_count; w++) {
        bool any = false;
        for (int k = b->wstart[w]; k < b->wstart[w + 1] && !any; k++)
            any = s->offerings[b->pair_o[k]].pricing == CAP_PRICING_SPOT;
        if (!any)
            continue;
        const cap_workload *wl = &s->workloads[w];
        row_open(b, CAP_ROW_SPOT, w, t, GLP_UP, wl->max_spot_share * wl->demand[t]);
        for (int k = b->wstart[w]; k < b->wstart[w + 1]; k++)
            if (s->offerings[b->pair_o[k]].pricing == CAP_PRICING_SPOT)
                entry(b, pair_col(b, t, k), b->coef[k]);
    }
}

static void rows_horizon(builder *b)
{
    cap_model *m = b->model;
    const cap_scenario *s = m->scenario;
    for (int p = 0; p < s->provider_count; p++) {
        if (!m->topup_column[p])
            continue;
        row_open(b, CAP_ROW_COMMITMENT, p, -1, GLP_LO, s->providers[p].commitment);
        for (int c = 1; c <= m->column_count; c++) {
            const cap_col_info *info = &m->columns[c - 1];
            if (info->kind == CAP_COL_X && cap_offering_provider(s, info->o) == p)
                entry(b, c, m->cost[c - 1]);
        }
        entry(b, m->topup_column[p], 1.0);
    }
    if (s->has_budget) {
        m->budget_row = row_open(b, CAP_ROW_BUDGET, -1, -1, GLP_UP, s->budget);
        for (int c = 1; c <= m->column_count; c++)
            entry(b, c, m->cost[c - 1]);
    }
    row_flush(b);
}

/* ---- assembly ------------------------------------------------------------------------- */

/* GLPK holds at most this many columns (glp_add_cols aborts past it). */
#define CAP_GLPK_MAX_COLUMNS 100000000.0

/* Memory a plan of the model takes, measured with capplan plan (maximum resident size) on
 * generated shapes: about 600 bytes a column (GLPK's problem and its solver's copy, the
 * model's own tables) and 20 KB a period (a period block of the decomposition is a GLPK
 * problem of its own). 20 x 300 x 120 (720,000 columns): 424 MB; 20,000 periods of one
 * workload and one offering: 406 MB. */
#define CAP_BYTES_PER_COLUMN 600.0
#define CAP_BYTES_PER_PERIOD 20000.0

/* What this process may use: the machine's memory, or less under an address-space limit. */
static double memory_available(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double bytes = pages > 0 && page > 0 ? (double)pages * (double)page : INFINITY;
    struct rlimit limit;
    if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
        bytes = fmin(bytes, (double)limit.rlim_cur);
    return bytes;
}

/* Refuses a model GLPK cannot hold, or one that would need more memory than there is (it
 * would be killed, or GLPK would stop the process, part way through), before any of it is
 * built. */
static cap_status model_fits(const builder *b, cap_diag *diag)
{
    const cap_scenario *s = b->model->scenario;
    const char *where = s->path ? s->path : s->name ? s->name : "scenario";
    double T = s->period_count, columns = T * b->pair_count + s->workload_count * T +
                                          s->provider_count +
                                          (b->model->integer ? s->offering_count * T : 0.0);
    if (columns > CAP_GLPK_MAX_COLUMNS) {
        cap_diag_add(diag,
                     "%s: the model would have %.0f columns (periods x allowed workload-offering "
                     "pairs and more), past GLPK's limit of %.0f: fewer periods, workloads or "
                     "offerings",
                     where, columns, CAP_GLPK_MAX_COLUMNS);
        return CAP_ERR_INPUT;
    }
    double need = CAP_BYTES_PER_COLUMN * columns + CAP_BYTES_PER_PERIOD * T +
                  4.0 * T * s->workload_count * s->offering_count; /* the dense x_column table */
    double have = memory_available();
    if (need > have) {
        cap_diag_add(diag,
                     "%s: the model (%.0f columns, %.0f periods) needs about %.1f GiB to solve, "
                     "more than the %.1f GiB this process may use",
                     where, columns, T, need / 1073741824.0, have / 1073741824.0);
        return CAP_ERR_RUNTIME;
    }
    return CAP_OK;
}

cap_status cap_model_build(const cap_scenario *scenario, bool integer, cap_model **out,
                           cap_diag *diag)
{
    *out = NULL;
    cap_model *m = calloc(1, sizeof *m);
    if (!m) {
        cap_diag_add(diag, "out of memory building the model");
        return CAP_ERR_RUNTIME;
    }
    m->scenario = scenario;
    m->integer = integer;
    m->lp = glp_create_prob();
    glp_set_obj_dir(m->lp, GLP_MIN);
    builder b = {.model = m};

    if (!pairs_make(&b))
        goto fail;
    cap_status fits = model_fits(&b, diag);
    if (fits != CAP_OK) {
        builder_free(&b);
        cap_model_free(m);
        return fits;
    }
    if (!columns_assign(&b))
        goto fail;
    /* A scenario without workloads or offerings has no columns: GLPK aborts on adding 0. */
    if (m->column_count > 0)
        glp_add_cols(m->lp, m->column_count);
    if (!columns_cost(m))
        goto fail;
    for (int c = 0; c < m->column_count; c++)
        if (!isfinite(m->cost[c]))
            b.nonfinite = true;
    for (int t = 0; t < scenario->period_count && !b.failed; t++) {
        rows_demand(&b, t);
        rows_capacity(&b, t);
        rows_share(&b, t);
        rows_power(&b, t);
        rows_spot(&b, t);
    }
    rows_horizon(&b);
    if (b.nonfinite && !b.failed) {
        /* The loader's magnitude limits prevent this; callers that change a scenario in
         * memory (sweeps) could still overflow, and GLPK aborts on what it cannot handle. */
        builder_free(&b);
        cap_model_free(m);
        cap_diag_add(diag, "the model has a coefficient or bound that is not finite "
                           "(scenario numbers too large)");
        return CAP_ERR_INPUT;
    }
    if (b.failed)
        goto fail;
    cap_model_set_cost_objective(m);
    builder_free(&b);
    *out = m;
    return CAP_OK;

fail:
    builder_free(&b);
    cap_model_free(m);
    cap_diag_add(diag, "out of memory building the model");
    return CAP_ERR_RUNTIME;
}

void cap_model_free(cap_model *m)
{
    if (!m)
        return;
    if (m->lp)
        glp_delete_prob(m->lp);
    free(m->rows);
    free(m->columns);
    free(m->x_column);
    free(m->unmet_column);
    free(m->topup_column);
    free(m->units_column);
    free(m->cost);
    free(m->weight_hours);
    free(m);
}

void cap_model_set_cost_objective(cap_model *m)
{
    for (int c = 1; c <= m->column_count; c++)
        glp_set_obj_coef(m->lp, c, m->cost[c - 1]);
}

void cap_model_set_unmet_objective(cap_model *m)
{
    for (int c = 1; c <= m->column_count; c++)
        glp_set_obj_coef(m->lp, c, m->weight_hours[c - 1]);
}

/* ---- names ---------------------------------------------------------------------------- */

const char *cap_row_kind_name(cap_row_kind kind)
{
    static const char *const names[CAP_ROW_KIND_COUNT] = {
        "demand", "capacity", "max_share", "min_share", "commitment",
        "power",  "spot",     "budget",    "units",     "served"};
    return (unsigned)kind < CAP_ROW_KIND_COUNT ? names[kind] : "row";
}

void cap_model_row_name(const cap_model *m, int r, char *buffer, size_t size)
{
    const cap_scenario *s = m->scenario;
    const cap_row_info *info = &m->rows[r - 1];
    const char *what = "";
    switch (info->kind) {
    case CAP_ROW_DEMAND:
    case CAP_ROW_SPOT:
        what = s->workloads[info->a].id;
        break;
    case CAP_ROW_CAPACITY:
    case CAP_ROW_UNITS:
        what = s->offerings[info->a].id;
        break;
    case CAP_ROW_MAX_SHARE:
    case CAP_ROW_MIN_SHARE:
    case CAP_ROW_COMMITMENT:
        what = s->providers[info->a].id;
        break;
    case CAP_ROW_POWER:
        what = s->regions[info->a].id;
        break;
    default:
        break;
    }
    const char *kind = cap_row_kind_name(info->kind);
    if (info->period >= 0)
        snprintf(buffer, size, "%s[%s,%s]", kind, what, s->periods[info->period].id);
    else if (*what)
        snprintf(buffer, size, "%s[%s]", kind, what);
    else
        snprintf(buffer, size, "%s", kind);
}

void cap_model_column_name(const cap_model *m, int c, char *buffer, size_t size)
{
    const cap_scenario *s = m->scenario;
    const cap_col_info *info = &m->columns[c - 1];
    switch (info->kind) {
    case CAP_COL_X:
        snprintf(buffer, size, "x[%s,%s,%s]", s->workloads[info->w].id, s->offerings[info->o].id,
                 s->periods[info->t].id);
        break;
    case CAP_COL_UNMET:
        snprintf(buffer, size, "unmet[%s,%s]", s->workloads[info->w].id, s->periods[info->t].id);
        break;
    case CAP_COL_TOPUP:
        snprintf(buffer, size, "topup[%s]", s->providers[info->w].id);
        break;
    case CAP_COL_UNITS:
        snprintf(buffer, size, "units[%s,%s]", s->offerings[info->o].id, s->periods[info->t].id);
        break;
    case CAP_COL_ELASTIC:
        snprintf(buffer, size, "elastic[%d]", info->w);
        break;
    }
}

/* GLPK names are at most 255 characters and must be printable without spaces; ids from
 * the loader are plain YAML scalars, so replace anything unusual by '_'. */
static void sanitize_name(char *name)
{
    name[255] = '\0';
    for (char *p = name; *p; p++)
        if (*p <= ' ' || *p > '~')
            *p = '_';
}

void cap_model_name_all(cap_model *m)
{
    char name[512];
    glp_set_prob_name(m->lp, "capplan");
    glp_set_obj_name(m->lp, "cost");
    for (int r = 1; r <= m->row_count; r++) {
        cap_model_row_name(m, r, name, sizeof name);
        sanitize_name(name);
        glp_set_row_name(m->lp, r, name);
    }
    for (int c = 1; c <= m->column_count; c++) {
        cap_model_column_name(m, c, name, sizeof name);
        sanitize_name(name);
        glp_set_col_name(m->lp, c, name);
    }
}

int cap_model_add_served_row(cap_model *m)
{
    int count = 0;
    for (int c = 1; c <= m->column_count; c++)
        count += m->weight_hours[c - 1] != 0.0;
    int *index = malloc(((size_t)count + 1) * sizeof *index);
    double *value = malloc(((size_t)count + 1) * sizeof *value);
    cap_row_info *rows = realloc(m->rows, ((size_t)m->row_count + 1) * sizeof *rows);
    if (rows)
        m->rows = rows;
    if (!index || !value || !rows) {
        free(index);
        free(value);
        return 0;
    }
    int k = 0;
    for (int c = 1; c <= m->column_count; c++)
        if (m->weight_hours[c - 1] != 0.0) {
            k++;
            index[k] = c;
            value[k] = m->weight_hours[c - 1];
        }
    int row = glp_add_rows(m->lp, 1);
    glp_set_row_bnds(m->lp, row, GLP_FR, 0.0, 0.0);
    if (k > 0)
        glp_set_mat_row(m->lp, row, k, index, value);
    m->rows[m->row_count++] = (cap_row_info){CAP_ROW_SERVED, -1, -1};
    m->nonzeros += k;
    free(index);
    free(value);
    return row;
}
