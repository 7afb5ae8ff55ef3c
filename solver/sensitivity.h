/* sensitivity.h: what the optimal plan is worth at the margin (`capplan sensitivity`).
 *
 * From the optimal basis of the whole model (presolve off, so the basis is the model's):
 *   - the shadow price of every constraint row, d(objective)/d(rhs) in USD per unit of the
 *     row's right-hand side in scenario units: per H100e of demand (or of spot allowance),
 *     per accelerator of capacity, per MW of power, per USD of commitment or budget, per
 *     unit of share (a fraction: divide by 100 for one percentage point);
 *   - right-hand-side ranging: the interval of the rhs over which the basis stays optimal
 *     (glp_analyze_bound on binding rows; a slack row keeps its basis from its activity on);
 *   - the reduced cost of every x[w,o,t] column, USD per accelerator over the period (how
 *     much cheaper one accelerator of the offering for the period must get to enter), and
 *     the price range, USD per accelerator-hour, over which the plan stays optimal;
 *   - the same price range for each offering and period, its price moved for every
 *     workload at once (ranging along a direction, ranging.h);
 *   - a tornado: the objective with each parameter group moved down and up by a step and
 *     re-solved (warm, through sweep.h); with max_served the swing is in unmet hours.
 * Signs follow GLPK for a minimisation: a >= row (demand, commitment, min_share) has a
 * shadow price >= 0, a <= row (capacity, power, max_share, spot, budget) one <= 0.
 * Integer mode: the MIP is solved, its unit columns are fixed at their values and the LP
 * re-solved; every dual and range is that LP's (`note` says so).
 */
#ifndef CAP_SENSITIVITY_H
#define CAP_SENSITIVITY_H

#include "diag.h"
#include "model.h"
#include "plan.h"
#include "scenario.h"

typedef struct {
    cap_row_kind kind;
    int a;                    /* workload, offering, provider or region; -1 for budget and served */
    int period;               /* -1 for horizon rows */
    double activity, rhs;     /* scenario units (MW for power, a fraction for shares) */
    double shadow_price;      /* USD per unit of rhs */
    double rhs_low, rhs_high; /* +-INFINITY when unlimited, NAN when unknown */
    double unmet_hours_price; /* max_served: d(unmet H100e-hours)/d(rhs) in phase 1; else NAN */
    bool binding;             /* the row's slack is non-basic */
} cap_row_sensitivity;

typedef struct {
    int w, o, t;
    double accelerators;          /* x in the plan the duals belong to */
    double reduced_cost;          /* USD per accelerator over the period */
    double price;                 /* USD per accelerator-hour */
    double price_low, price_high; /* USD per accelerator-hour; +-INFINITY unlimited; NAN unknown */
    bool basic;
    bool linked; /* the price also sits in a commitment or budget row: basic ranges are those
                    of the cost coefficient alone */
} cap_column_sensitivity;

/* An offering's price in one period, moved for every workload at once (what a provider's
 * price change does; the columns' own ranges move one workload's cost alone, and are zero
 * wide wherever workloads could swap offerings at equal cost). */
typedef struct {
    int o, t;
    double price;                 /* USD per accelerator-hour */
    double accelerators;          /* over all workloads, in the plan the duals belong to */
    double price_low, price_high; /* USD per accelerator-hour over which the plan stays
                                     optimal; +-INFINITY unlimited; NAN unknown */
    bool linked; /* the price also sits in a commitment or budget row: the range is that of
                    the cost coefficients alone */
} cap_offering_sensitivity;

typedef struct {
    char *label; /* "price H100", "demand pretrain", "capacity azure", ... */
    char *group; /* price, demand, capacity, availability */
    char *id;    /* accelerator, workload or provider id; "all" */
    cap_plan_status status_low, status_high;
    double cost_low, cost_high;   /* cost at (1 - step) and (1 + step), USD; NAN unsolved */
    double unmet_low, unmet_high; /* unmet H100e-hours at each side; NAN unsolved */
    double impact;                /* the objective's swing: |cost_high - cost_low| USD (min_cost) or
                                     |unmet_high - unmet_low| H100e-hours (max_served); INFINITY when a
                                     side is infeasible */
} cap_tornado_bar;

typedef struct {
    cap_plan_options solve; /* integer, mip_gap, time limit */
    double tornado_step;    /* relative move of each group, default 0.2; 0 = no tornado */
    int threads;            /* tornado threads, 0 = OpenMP's default */
    bool glpk_ranging;      /* basic columns' price ranges by glp_analyze_coef (slow on large
                               models) instead of ranging.h's equal, faster computation */
} cap_sensitivity_options;

void cap_sensitivity_options_init(cap_sensitivity_options *options);

typedef struct {
    cap_plan_status status; /* of the plan; rows and columns are empty unless solved */
    cap_plan *plan;         /* the optimal plan (the MIP's in integer mode) */
    char *diagnosis;        /* infeasible: the rows that cannot hold together */
    int row_count;
    cap_row_sensitivity *rows;
    int column_count;
    cap_column_sensitivity *columns;
    int offering_count; /* (offering, period) pairs with at least one column */
    cap_offering_sensitivity *offerings;
    bool ranging; /* false when GLPK had no optimal factorised basis to range */
    bool max_served;
    char *note; /* integer-mode caveat and anything else to tell; NULL if none */
    double tornado_step, base_cost, base_unmet_hours;
    int bar_count;
    cap_tornado_bar *bars; /* sorted by impact, largest first */
} cap_sensitivity;

/* Solves and analyses `scenario`. Returns CAP_OK when the solver ran (result->status says
 * whether there is anything to analyse), CAP_ERR_RUNTIME on memory or solver failure. */
cap_status cap_sensitivity_analyze(const cap_scenario *scenario,
                                   const cap_sensitivity_options *options, cap_sensitivity **out,
                                   cap_diag *diag);

void cap_sensitivity_free(cap_sensitivity *result);

/* The unit of a row kind's right-hand side in scenario terms: "H100e", "accelerators",
 * "MW", "USD", "share", "H100e-hours". */
const char *cap_row_rhs_unit(cap_row_kind kind);

#endif
