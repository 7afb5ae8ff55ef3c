/* sensitivity.c: duals, reduced costs, ranging and the tornado (see sensitivity.h).
 *
 * Price ranges of basic columns come from ranging.c (GLPK's arithmetic, one btran per
 * column, much faster than glp_analyze_coef, which stays available for cross-checks).
 * GLPK's ranging routines abort the program when their preconditions fail, so every call
 * is guarded: the basic solution must be optimal (glp_get_status == GLP_OPT), the basis
 * factorised (glp_bf_exists, else glp_factorize must succeed), glp_analyze_bound is only
 * given non-basic variables and glp_analyze_coef only basic ones. When any of that cannot
 * be had, duals are still reported and the ranges are left unknown (NAN).
 *
 * Units: GLPK's power rows are in kW; reported per MW (shadow price * 1000, rhs / 1000).
 * Share rows are delivered(p) - share * delivered(all) <= 0 in H100e; moving the share by
 * ds moves that row like a rhs change of D * ds (D = delivered H100e of the period at the
 * optimum), so the shadow price per unit of share is dual * D and the rhs range maps to
 * share + range / D (first order: the share also scales the row's other coefficients).
 */
#define _POSIX_C_SOURCE 200809L
#include "sensitivity.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "ranging.h"
#include "resolve.h"
#include "sweep.h"

void cap_sensitivity_options_init(cap_sensitivity_options *options)
{
    memset(options, 0, sizeof *options);
    cap_plan_options_init(&options->solve);
    options->tornado_step = 0.2;
}

const char *cap_row_rhs_unit(cap_row_kind kind)
{
    switch (kind) {
    case CAP_ROW_DEMAND:
    case CAP_ROW_SPOT:
        return "H100e";
    case CAP_ROW_CAPACITY:
    case CAP_ROW_UNITS:
        return "accelerators";
    case CAP_ROW_MAX_SHARE:
    case CAP_ROW_MIN_SHARE:
        return "share";
    case CAP_ROW_COMMITMENT:
    case CAP_ROW_BUDGET:
        return "USD";
    case CAP_ROW_POWER:
        return "MW";
    case CAP_ROW_SERVED:
        return "H100e-hours";
    case CAP_ROW_KIND_COUNT:
        break;
    }
    return "";
}

static double unlimited(double value)
{
    if (value >= DBL_MAX)
        return INFINITY;
    if (value <= -DBL_MAX)
        return -INFINITY;
    return value;
}

static char *text_append(char *text, const char *more)
{
    size_t old = text ? strlen(text) : 0;
    char *grown = realloc(text, old + strlen(more) + 2);
    if (!grown)
        return text;
    if (old)
        grown[old++] = ' ';
    strcpy(grown + old, more);
    return grown;
}

/* ---- rows ----------------------------------------------------------------------------- */

/* Delivered H100e of every period at the LP solution: the share rows' scale. */
static double *delivered_by_period(const cap_model *m)
{
    const cap_scenario *s = m->scenario;
    double *delivered = calloc((size_t)s->period_count + 1, sizeof *delivered);
    for (int c = 1; delivered && c <= m->column_count; c++) {
        const cap_col_info *info = &m->columns[c - 1];
        if (info->kind == CAP_COL_X)
            delivered[info->t] += glp_get_col_prim(m->lp, c) *
                                  cap_workload_throughput(s, info->w, info->o) *
                                  cap_offering_eff(s, info->o);
    }
    return delivered;
}

/* The rhs range of row r in GLPK units. */
static void row_range(glp_prob *lp, int r, bool ranging, double *low, double *high)
{
    *low = *high = NAN;
    if (!ranging)
        return;
    double activity = glp_get_row_prim(lp, r);
    int type = glp_get_row_type(lp, r);
    if (glp_get_row_stat(lp, r) != GLP_BS) {
        glp_analyze_bound(lp, r, low, NULL, high, NULL);
        *low = unlimited(*low);
        *high = unlimited(*high);
    } else if (type == GLP_UP) {
        *low = activity, *high = INFINITY;
    } else if (type == GLP_LO) {
        *low = -INFINITY, *high = activity;
    } else if (type == GLP_FX) {
        *low = *high = activity;
    } else {
        *low = -INFINITY, *high = INFINITY;
    }
}

/* Moves a share row into share units; see the file comment. */
static void share_units(cap_row_sensitivity *row, const cap_scenario *s, double delivered)
{
    const cap_provider *p = &s->providers[row->a];
    double share = row->kind == CAP_ROW_MAX_SHARE ? p->max_share : p->min_share;
    /* activity is own - share * all; own / all is the provider's share */
    double own = row->activity + share * delivered;
    row->rhs = share;
    row->unmet_hours_price = NAN; /* phase 1's delivered total is not kept */
    if (delivered <= 0.0) {
        row->activity = 0.0;
        row->shadow_price = 0.0;
        row->rhs_low = row->rhs_high = NAN;
        return;
    }
    row->activity = own / delivered;
    row->shadow_price *= delivered;
    row->rhs_low = share + row->rhs_low / delivered;
    row->rhs_high = share + row->rhs_high / delivered;
}

static void row_fill(const cap_resolver *r, int index, bool ranging, const double *delivered,
                     cap_row_sensitivity *row)
{
    const cap_model *m = r->model;
    glp_prob *lp = m->lp;
    const cap_row_info *info = &m->rows[index - 1];
    row->kind = info->kind;
    row->a = info->a;
    row->period = info->period;
    row->activity = glp_get_row_prim(lp, index);
    int type = glp_get_row_type(lp, index);
    row->rhs = type == GLP_UP ? glp_get_row_ub(lp, index) : glp_get_row_lb(lp, index);
    row->shadow_price = glp_get_row_dual(lp, index);
    row->binding = glp_get_row_stat(lp, index) != GLP_BS;
    row->unmet_hours_price = r->phase1_dual && !m->integer ? r->phase1_dual[index] : NAN;
    row_range(lp, index, ranging, &row->rhs_low, &row->rhs_high);
    if (info->kind == CAP_ROW_POWER) {
        row->activity /= 1000.0;
        row->rhs /= 1000.0;
        row->rhs_low /= 1000.0;
        row->rhs_high /= 1000.0;
        row->shadow_price *= 1000.0;
        row->unmet_hours_price *= 1000.0;
    } else if (info->kind == CAP_ROW_MAX_SHARE || info->kind == CAP_ROW_MIN_SHARE) {
        share_units(row, m->scenario, delivered[info->period]);
    }
}

static bool rows_collect(const cap_resolver *r, bool ranging, cap_sensitivity *result)
{
    const cap_model *m = r->model;
    double *delivered = delivered_by_period(m);
    result->rows = calloc((size_t)m->row_count + 1, sizeof *result->rows);
    if (!delivered || !result->rows) {
        free(delivered);
        return false;
    }
    for (int row = 1; row <= m->row_count; row++)
        row_fill(r, row, ranging, delivered, &result->rows[row - 1]);
    result->row_count = m->row_count;
    free(delivered);
    return true;
}

/* ---- columns -------------------------------------------------------------------------- */

/* 1 - dual(commitment of the offering's provider) - dual(budget): how the reduced cost of
 * an x column moves per USD of its cost, since its cost also sits in those rows. */
static double cost_factor(const cap_resolver *r, int o, bool *linked)
{
    const cap_model *m = r->model;
    int commitment =
        cap_resolver_row(r, CAP_ROW_COMMITMENT, cap_offering_provider(m->scenario, o), -1);
    *linked = commitment || m->budget_row;
    double factor = 1.0;
    if (commitment)
        factor -= glp_get_row_dual(m->lp, commitment);
    if (m->budget_row)
        factor -= glp_get_row_dual(m->lp, m->budget_row);
    return factor;
}

/* A non-basic column stays out while its reduced cost, linear in its price, is >= 0. */
static void nonbasic_price_range(cap_column_sensitivity *col, double hours, double factor)
{
    col->price_high = INFINITY;
    if (factor <= 1e-12) {
        col->price_low = -INFINITY; /* its cost is sunk in a commitment: price cannot help */
        return;
    }
    col->price_low = col->price - fmax(col->reduced_cost, 0.0) / (hours * factor);
}

static void column_fill(const cap_resolver *r, int c, cap_column_sensitivity *col)
{
    const cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    const cap_col_info *info = &m->columns[c - 1];
    col->w = info->w;
    col->o = info->o;
    col->t = info->t;
    col->accelerators = fmax(glp_get_col_prim(m->lp, c), 0.0);
    col->reduced_cost = glp_get_col_dual(m->lp, c);
    col->price = s->offerings[info->o].price[info->t];
    col->basic = glp_get_col_stat(m->lp, c) == GLP_BS;
    col->price_low = col->price_high = NAN;
}

/* Integer mode: the offering's unit count in period t is fixed at 0, so its accelerators
 * are fixed at 0 too whatever they cost. */
static bool no_units_left(const cap_resolver *r, int o, int t)
{
    const cap_model *m = r->model;
    if (!r->integers_fixed)
        return false;
    int c = m->units_column[o * m->scenario->period_count + t];
    return c && glp_get_col_ub(m->lp, c) <= 0.0;
}

/* A column that a row with right-hand side 0 holds at 0 whatever its price: a spot
 * offering for a workload with no spot allowance that period, an offering with no capacity,
 * or one in a region whose power envelope is 0. The plan is the same at any price. */
static bool held_at_zero(const cap_scenario *s, const cap_column_sensitivity *col)
{
    const cap_offering *offering = &s->offerings[col->o];
    const cap_workload *workload = &s->workloads[col->w];
    const double *power = s->regions[offering->region].power_mw;
    double kw = s->accelerators[offering->accelerator].power_kw;
    return (offering->pricing == CAP_PRICING_SPOT &&
            workload->max_spot_share * workload->demand[col->t] <= 0.0) ||
           offering->capacity[col->t] <= 0.0 || (power && kw > 0.0 && power[col->t] <= 0.0);
}

/* Price ranges: analytic for non-basic columns, tableau ratio tests for basic ones. */
static bool columns_range(const cap_resolver *r, const int *column_of, cap_sensitivity *result,
                          bool glpk_ranging)
{
    const cap_model *m = r->model;
    int count = result->column_count, basic = 0;
    int *list = malloc(((size_t)count + 1) * sizeof *list);
    double *low = malloc(((size_t)count + 1) * sizeof *low);
    double *high = malloc(((size_t)count + 1) * sizeof *high);
    bool ok = list && low && high;
    for (int k = 0; ok && k < count; k++)
        if (result->columns[k].basic)
            list[basic++] = column_of[k];
    if (ok && glpk_ranging)
        for (int i = 0; i < basic; i++)
            glp_analyze_coef(m->lp, m->row_count + list[i], &low[i], NULL, NULL, &high[i], NULL,
                             NULL);
    else if (ok)
        ok = cap_cost_ranges(m->lp, list, basic, low, high);
    for (int k = 0, i = 0; ok && k < count; k++) {
        cap_column_sensitivity *col = &result->columns[k];
        double hours = m->scenario->periods[col->t].hours;
        double factor = cost_factor(r, col->o, &col->linked);
        if (!col->basic) {
            nonbasic_price_range(col, hours, factor);
            if (no_units_left(r, col->o, col->t))
                col->price_low = -INFINITY; /* no price brings it in without a whole unit */
        } else {
            col->price_low = unlimited(low[i]) / hours;
            col->price_high = unlimited(high[i]) / hours;
            i++;
        }
        /* held at 0 (basic or not): the plan is the same at any price */
        if (held_at_zero(m->scenario, col)) {
            col->price_low = -INFINITY;
            col->price_high = INFINITY;
        }
    }
    free(list);
    free(low);
    free(high);
    return ok;
}

typedef struct {
    int o, t, k; /* k: index into result->columns */
} pair_member;

static int by_offering_period(const void *left, const void *right)
{
    const pair_member *a = left, *b = right;
    if (a->o != b->o)
        return a->o < b->o ? -1 : 1;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return (a->k > b->k) - (a->k < b->k);
}

/* Price ranges of each (offering, period): its x columns' costs move by hours per USD of
 * price, together. */
static bool offerings_range(const cap_resolver *r, const int *column_of, bool ranging,
                            cap_sensitivity *result)
{
    const cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    int count = result->column_count;
    pair_member *sorted = malloc(((size_t)count + 1) * sizeof *sorted);
    int *start = malloc(((size_t)count + 2) * sizeof *start); /* direction d's first entry */
    int *columns = malloc(((size_t)count + 1) * sizeof *columns);
    double *coef = malloc(((size_t)count + 1) * sizeof *coef);
    double *low = malloc(((size_t)count + 1) * sizeof *low);
    double *high = malloc(((size_t)count + 1) * sizeof *high);
    result->offerings = calloc((size_t)count + 1, sizeof *result->offerings);
    bool ok = sorted && start && columns && coef && low && high && result->offerings;
    for (int k = 0; ok && k < count; k++)
        sorted[k] = (pair_member){result->columns[k].o, result->columns[k].t, k};
    if (ok)
        qsort(sorted, (size_t)count, sizeof *sorted, by_offering_period);
    int n = 0;
    for (int e = 0; ok && e < count; n++) { /* one direction per run of equal (o, t) */
        cap_offering_sensitivity *os = &result->offerings[n];
        os->o = sorted[e].o;
        os->t = sorted[e].t;
        os->price = s->offerings[os->o].price[os->t];
        cost_factor(r, os->o, &os->linked);
        start[n] = e;
        bool held = true;
        for (; e < count && sorted[e].o == os->o && sorted[e].t == os->t; e++) {
            const cap_column_sensitivity *col = &result->columns[sorted[e].k];
            columns[e] = column_of[sorted[e].k];
            coef[e] = s->periods[os->t].hours;
            os->accelerators += col->accelerators;
            held = held && held_at_zero(s, col);
        }
        /* held at 0, or no whole unit left (integer mode): the same plan at any price */
        held = held || no_units_left(r, os->o, os->t);
        os->price_low = held ? -INFINITY : NAN;
        os->price_high = held ? INFINITY : NAN;
    }
    if (ok)
        start[n] = count;
    result->offering_count = n;
    if (ok && ranging)
        ok = cap_direction_ranges(m->lp, start, columns, coef, n, low, high);
    for (int i = 0; ok && ranging && i < n; i++) {
        cap_offering_sensitivity *os = &result->offerings[i];
        if (isnan(os->price_low)) {
            os->price_low = os->price + low[i];
            os->price_high = os->price + high[i];
        }
    }
    free(sorted);
    free(start);
    free(columns);
    free(coef);
    free(low);
    free(high);
    return ok;
}

static bool columns_collect(const cap_resolver *r, bool ranging, bool glpk_ranging,
                            cap_sensitivity *result)
{
    const cap_model *m = r->model;
    int count = 0;
    for (int c = 1; c <= m->column_count; c++)
        count += m->columns[c - 1].kind == CAP_COL_X;
    result->columns = calloc((size_t)count + 1, sizeof *result->columns);
    int *column_of = malloc(((size_t)count + 1) * sizeof *column_of);
    bool ok = result->columns && column_of;
    for (int c = 1, k = 0; ok && c <= m->column_count; c++)
        if (m->columns[c - 1].kind == CAP_COL_X) {
            column_of[k] = c;
            column_fill(r, c, &result->columns[k++]);
        }
    if (ok) {
        result->column_count = count;
        if (ranging)
            ok = columns_range(r, column_of, result, glpk_ranging);
        if (ok)
            ok = offerings_range(r, column_of, ranging, result);
    }
    free(column_of);
    return ok;
}

/* ---- the optimal basis ------------------------------------------------------------------ */

/* True when GLPK's ranging routines may be called: optimal and factorised. */
static bool ranging_ready(glp_prob *lp)
{
    if (glp_get_status(lp) != GLP_OPT)
        return false;
    return glp_bf_exists(lp) || glp_factorize(lp) == 0;
}

/* Integer mode: duals of the LP with the unit columns fixed at the MIP's values. */
static cap_status fix_integers(cap_resolver *r, cap_sensitivity *result, cap_diag *diag)
{
    cap_plan_status status;
    cap_status rc = cap_resolver_fix_integers(r, &status, diag);
    if (rc != CAP_OK)
        return rc;
    result->note = text_append(result->note,
                               "integer mode: shadow prices, reduced costs and ranges are those "
                               "of the LP with the whole-unit counts fixed at the MIP's values;");
    if (status != CAP_PLAN_OPTIMAL)
        result->note = text_append(result->note, "that LP did not solve to optimality;");
    return CAP_OK;
}

static cap_status analyze_basis(cap_resolver *r, bool glpk_ranging, cap_sensitivity *result,
                                cap_diag *diag)
{
    if (r->model->integer) {
        cap_status rc = fix_integers(r, result, diag);
        if (rc != CAP_OK)
            return rc;
    }
    result->ranging = ranging_ready(r->model->lp);
    if (!result->ranging)
        result->note = text_append(result->note, "ranging unavailable: no optimal factorised "
                                                 "basis; ranges are left empty;");
    if (!rows_collect(r, result->ranging, result) ||
        !columns_collect(r, result->ranging, glpk_ranging, result)) {
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    return CAP_OK;
}

/* ---- tornado -------------------------------------------------------------------------- */

typedef struct {
    cap_target_kind kind;
    int index;
    cap_field field;
    const char *group;
} tornado_group;

static bool accelerator_offered(const cap_scenario *s, int a)
{
    for (int o = 0; o < s->offering_count; o++)
        if (s->offerings[o].accelerator == a)
            return true;
    return false;
}

static bool provider_offers(const cap_scenario *s, int p)
{
    for (int o = 0; o < s->offering_count; o++)
        if (cap_offering_provider(s, o) == p)
            return true;
    return false;
}

/* price per accelerator, demand per workload, capacity and availability per provider,
 * availability everywhere. Returns the count; groups has room for A + W + 2P + 1. */
static int tornado_groups(const cap_scenario *s, tornado_group *groups)
{
    int n = 0;
    for (int a = 0; a < s->accelerator_count; a++)
        if (accelerator_offered(s, a))
            groups[n++] = (tornado_group){CAP_TARGET_ACCELERATOR, a, CAP_FIELD_PRICE, "price"};
    for (int w = 0; w < s->workload_count; w++)
        groups[n++] = (tornado_group){CAP_TARGET_WORKLOAD, w, CAP_FIELD_DEMAND, "demand"};
    for (int p = 0; p < s->provider_count; p++)
        if (provider_offers(s, p))
            groups[n++] = (tornado_group){CAP_TARGET_PROVIDER, p, CAP_FIELD_CAPACITY, "capacity"};
    for (int p = 0; p < s->provider_count; p++)
        if (provider_offers(s, p))
            groups[n++] =
                (tornado_group){CAP_TARGET_PROVIDER, p, CAP_FIELD_AVAILABILITY, "availability"};
    if (s->offering_count > 0)
        groups[n++] =
            (tornado_group){CAP_TARGET_ALL_OFFERINGS, -1, CAP_FIELD_AVAILABILITY, "availability"};
    return n;
}

static const char *group_id(const cap_scenario *s, const tornado_group *g)
{
    switch (g->kind) {
    case CAP_TARGET_ACCELERATOR:
        return s->accelerators[g->index].id;
    case CAP_TARGET_WORKLOAD:
        return s->workloads[g->index].id;
    case CAP_TARGET_PROVIDER:
        return s->providers[g->index].id;
    default:
        return "all";
    }
}

static bool side_solved(const cap_sweep_point *point)
{
    return point->solved &&
           (point->status == CAP_PLAN_OPTIMAL || point->status == CAP_PLAN_FEASIBLE);
}

static void bar_fill(const cap_scenario *s, const tornado_group *g, const cap_sweep_point *low,
                     const cap_sweep_point *high, cap_tornado_bar *bar)
{
    char label[512];
    snprintf(label, sizeof label, "%s %s", g->group, group_id(s, g));
    bar->label = strdup(label);
    bar->group = strdup(g->group);
    bar->id = strdup(group_id(s, g));
    bar->status_low = low->status;
    bar->status_high = high->status;
    bar->cost_low = side_solved(low) ? low->objective_usd : NAN;
    bar->cost_high = side_solved(high) ? high->objective_usd : NAN;
    bar->unmet_low = side_solved(low) ? low->unmet_h100e_hours : NAN;
    bar->unmet_high = side_solved(high) ? high->unmet_h100e_hours : NAN;
    bool infeasible = low->status == CAP_PLAN_INFEASIBLE || high->status == CAP_PLAN_INFEASIBLE;
    bool max_served = s->objective == CAP_OBJECTIVE_MAX_SERVED;
    bar->impact = infeasible   ? INFINITY
                  : max_served ? fabs(bar->unmet_high - bar->unmet_low)
                               : fabs(bar->cost_high - bar->cost_low);
}

/* Largest impact first; infeasible sides (INFINITY) lead, unknowns (NAN) trail. */
static int bar_order(const void *left, const void *right)
{
    double a = ((const cap_tornado_bar *)left)->impact;
    double b = ((const cap_tornado_bar *)right)->impact;
    if (isnan(a) || isnan(b))
        return isnan(a) - isnan(b);
    return (a < b) - (a > b);
}

/* One scaled axis per group, all at 1 but one: point 2g moves group g down, 2g+1 up. */
static cap_status tornado_axes(const cap_scenario *s, const tornado_group *groups, int count,
                               cap_sweep_axis *axes, double **values, cap_diag *diag)
{
    const double one = 1.0;
    for (int g = 0; g < count; g++) {
        cap_status rc = cap_sweep_axis_make(s, groups[g].kind, groups[g].index, groups[g].field,
                                            true, &one, 1, &axes[g], diag);
        if (rc != CAP_OK)
            return rc;
        axes[g].clamp = true; /* availability 0.9 * 1.2 stops at 1, a capacity at 1e15 */
    }
    *values = malloc((size_t)2 * count * count * sizeof **values + 1);
    if (!*values) {
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    for (int p = 0; p < 2 * count; p++)
        for (int g = 0; g < count; g++)
            (*values)[(size_t)p * count + g] = 1.0;
    return CAP_OK;
}

static cap_status tornado_run(const cap_scenario *s, const cap_sensitivity_options *options,
                              cap_sensitivity *result, cap_diag *diag)
{
    size_t room = (size_t)s->accelerator_count + s->workload_count + 2 * s->provider_count + 2;
    tornado_group *groups = calloc(room, sizeof *groups);
    cap_sweep_axis *axes = calloc(room, sizeof *axes);
    double *values = NULL;
    int count = groups ? tornado_groups(s, groups) : 0;
    cap_status rc =
        groups && axes ? tornado_axes(s, groups, count, axes, &values, diag) : CAP_ERR_RUNTIME;
    double step = options->tornado_step;
    for (int g = 0; rc == CAP_OK && g < count; g++) {
        values[(size_t)(2 * g) * count + g] = 1.0 - step;
        values[(size_t)(2 * g + 1) * count + g] = 1.0 + step;
    }
    cap_sweep_result *sweep = NULL;
    if (rc == CAP_OK && count > 0) {
        cap_sweep_options o;
        cap_sweep_options_init(&o);
        o.axes = axes;
        o.axis_count = count;
        o.values = values;
        o.point_count = 2 * count;
        o.solve = options->solve;
        o.threads = options->threads;
        rc = cap_sweep_run(s, &o, &sweep, diag);
    }
    if (rc == CAP_OK && count > 0) {
        result->bars = calloc((size_t)count, sizeof *result->bars);
        if (!result->bars)
            rc = CAP_ERR_RUNTIME;
        for (int g = 0; result->bars && g < count; g++)
            bar_fill(s, &groups[g], &sweep->points[2 * g], &sweep->points[2 * g + 1],
                     &result->bars[g]);
        double base = result->max_served ? result->base_unmet_hours : result->base_cost;
        for (int g = 0; result->bars && g < count; g++)
            if (result->bars[g].impact <= 1e-9 * fmax(1.0, fabs(base)))
                result->bars[g].impact = 0.0; /* solver tolerance, not a swing */
        if (result->bars) {
            result->bar_count = count;
            qsort(result->bars, (size_t)count, sizeof *result->bars, bar_order);
        }
    }
    for (int g = 0; axes && g < count; g++)
        cap_sweep_axis_free(&axes[g]);
    cap_sweep_result_free(sweep);
    free(values);
    free(axes);
    free(groups);
    if (rc == CAP_ERR_RUNTIME && diag->count == 0)
        cap_diag_add(diag, "out of memory");
    return rc;
}

/* ---- public --------------------------------------------------------------------------- */

static cap_status solve_base(const cap_sensitivity_options *options, cap_resolver *r,
                             cap_sensitivity *result, cap_diag *diag)
{
    cap_resolve_info info;
    cap_status rc = cap_resolver_solve(r, CAP_START_COLD, &info, diag);
    if (rc != CAP_OK)
        return rc;
    result->status = info.status;
    if (info.status == CAP_PLAN_INFEASIBLE && options->solve.diagnose)
        return cap_model_diagnose(r->model, &options->solve, &result->diagnosis, diag);
    if (info.status != CAP_PLAN_OPTIMAL && info.status != CAP_PLAN_FEASIBLE)
        return CAP_OK;
    result->plan = cap_resolver_plan(r, info.status);
    if (!result->plan) {
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    result->base_cost = result->plan->objective_usd;
    result->base_unmet_hours = result->plan->unmet_h100e_hours;
    return analyze_basis(r, options->glpk_ranging, result, diag);
}

cap_status cap_sensitivity_analyze(const cap_scenario *s, const cap_sensitivity_options *options,
                                   cap_sensitivity **out, cap_diag *diag)
{
    *out = NULL;
    cap_sensitivity_options defaults;
    if (!options) {
        cap_sensitivity_options_init(&defaults);
        options = &defaults;
    }
    cap_sensitivity *result = calloc(1, sizeof *result);
    cap_resolver *r = NULL;
    cap_status rc = result ? cap_resolver_create(s, &options->solve, &r, diag) : CAP_ERR_RUNTIME;
    if (rc == CAP_OK) {
        result->max_served = s->objective == CAP_OBJECTIVE_MAX_SERVED;
        result->tornado_step = options->tornado_step;
        r->keep_phase1_duals = result->max_served;
        rc = solve_base(options, r, result, diag);
    }
    cap_resolver_free(r);
    bool solved =
        result && (result->status == CAP_PLAN_OPTIMAL || result->status == CAP_PLAN_FEASIBLE);
    if (rc == CAP_OK && solved && options->tornado_step > 0.0)
        rc = tornado_run(s, options, result, diag);
    if (rc != CAP_OK) {
        if (!result)
            cap_diag_add(diag, "out of memory");
        cap_sensitivity_free(result);
        return rc;
    }
    *out = result;
    return CAP_OK;
}

void cap_sensitivity_free(cap_sensitivity *result)
{
    if (!result)
        return;
    cap_plan_free(result->plan);
    free(result->diagnosis);
    free(result->rows);
    free(result->columns);
    free(result->offerings);
    free(result->note);
    for (int i = 0; i < result->bar_count; i++) {
        free(result->bars[i].label);
        free(result->bars[i].group);
        free(result->bars[i].id);
    }
    free(result->bars);
    free(result);
}
