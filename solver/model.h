/* model.h: the GLPK form of a scenario's planning model (SPEC §1).
 *
 * cap_model_build turns a validated scenario into a glp_prob and keeps a map from every
 * GLPK row and column back to what it means (kind, workload, offering, provider, region,
 * period), so that solutions, duals and diagnoses can be reported in scenario terms.
 * GLPK is 1-based: row r of the problem is rows[r - 1] here; the conversion happens only
 * in this module and its users that touch glp_ calls.
 *
 * Invariants: the model only ever holds finite coefficients and bounds; a column exists
 * for x[w,o,t] exactly when workload w may run on offering o (throughput > 0 after the
 * geo and provider allow-lists).
 */
#ifndef CAP_MODEL_H
#define CAP_MODEL_H

#include <glpk.h>

#include "diag.h"
#include "scenario.h"

typedef enum {
    CAP_ROW_DEMAND = 0, /* a = workload */
    CAP_ROW_CAPACITY,   /* a = offering */
    CAP_ROW_MAX_SHARE,  /* a = provider */
    CAP_ROW_MIN_SHARE,  /* a = provider */
    CAP_ROW_COMMITMENT, /* a = provider, period -1 */
    CAP_ROW_POWER,      /* a = region */
    CAP_ROW_SPOT,       /* a = workload */
    CAP_ROW_BUDGET,     /* period -1 */
    CAP_ROW_UNITS,      /* a = offering: sum_w x - unit*n = 0 (integer mode) */
    CAP_ROW_SERVED,     /* max_served second phase: unmet hours <= optimum */
    CAP_ROW_KIND_COUNT
} cap_row_kind;

typedef enum {
    CAP_COL_X = 0,  /* w, o, t */
    CAP_COL_UNMET,  /* w, t */
    CAP_COL_TOPUP,  /* p in w */
    CAP_COL_UNITS,  /* o, t */
    CAP_COL_ELASTIC /* diagnosis slack; w holds its row */
} cap_col_kind;

typedef struct {
    cap_row_kind kind;
    int a;      /* workload, offering, provider or region; -1 for budget */
    int period; /* -1 for horizon rows */
} cap_row_info;

typedef struct {
    cap_col_kind kind;
    int w, o, t;
} cap_col_info;

typedef struct {
    glp_prob *lp;
    const cap_scenario *scenario;
    bool integer;
    int row_count, column_count;
    long nonzeros;
    cap_row_info *rows;    /* [row_count], row r of GLPK is rows[r-1] */
    cap_col_info *columns; /* [column_count] */
    int *x_column;         /* [(t*W + w)*O + o] GLPK column, 0 = none */
    int *unmet_column;     /* [w*T + t], 0 = none */
    int *topup_column;     /* [provider], 0 = none */
    int *units_column;     /* [o*T + t], 0 = none (integer mode) */
    int budget_row;        /* 0 = none */
    double *cost;          /* [column_count] true cost coefficient of each column, USD */
    double *weight_hours;  /* [column_count] hours weight for max_served's first phase */
} cap_model;

/* Builds the model in one bulk load. Returns CAP_OK or CAP_ERR_RUNTIME (out of memory). */
cap_status cap_model_build(const cap_scenario *scenario, bool integer, cap_model **out,
                           cap_diag *diag);

void cap_model_free(cap_model *model);

/* The model's formulas, for code that rewrites part of a built model (sweep.c) and must
 * match a fresh build exactly: the H100e an accelerator of offering o delivers to workload
 * w; the cost of one accelerator of o in period t; of one unmet H100e of w in t; and the
 * bounds of the units column of (o, t). */
double cap_model_delivered(const cap_scenario *scenario, int w, int o);
double cap_model_x_cost(const cap_scenario *scenario, int o, int t);
double cap_model_unmet_cost(const cap_scenario *scenario, int w, int t);
void cap_model_set_units_bounds(cap_model *model, int column, int o, int t);

/* Adds max_served's row: sum of hours * unmet, free (the caller bounds it at phase 1's
 * optimum). Returns its index, or 0 when out of memory (the model is then as it was). */
int cap_model_add_served_row(cap_model *model);

/* Sets the objective to the true cost (min_cost) or to unmet hours (max_served phase 1). */
void cap_model_set_cost_objective(cap_model *model);
void cap_model_set_unmet_objective(cap_model *model);

/* A readable name for row r (1-based), e.g. "demand[pretrain,2026Q1]". */
void cap_model_row_name(const cap_model *model, int r, char *buffer, size_t size);
void cap_model_column_name(const cap_model *model, int c, char *buffer, size_t size);

const char *cap_row_kind_name(cap_row_kind kind);

/* Gives every row and column its readable name in the glp_prob (for MPS/LP export). */
void cap_model_name_all(cap_model *model);

#endif
