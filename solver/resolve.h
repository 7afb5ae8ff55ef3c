/* resolve.h: solve one built planning model again and again, each time from the basis it
 * holds (the engine under `capplan sensitivity` and `capplan sweep`).
 *
 * A resolver owns a cap_model and keeps what repeated solves need: a lookup from
 * (row kind, object, period) to the GLPK row, the max_served row that holds phase 1's
 * optimum, and the last solve's figures. Callers change the model in place (bounds, costs,
 * coefficients) through the lookup, say what kind of change it was (cap_start), and solve
 * again: the simplex starts from the previous optimal basis. A warm solve that fails or
 * ends anything but optimal is repeated cold, so a warm answer is never less trustworthy
 * than a cold one.
 *
 * With keep_blocks (sweeps), a min_cost LP big enough for the period-block start keeps its
 * period blocks (decompose.h) from the first cold solve on: warm solves re-solve each block
 * from its own basis, and when no linking row binds the blocks' combined optimum is the
 * answer without a simplex of the whole model (see solution below).
 *
 * Invariants: the model always mirrors `scenario` (the caller's copy, which the resolver
 * reads but never frees) once the caller has synced its changes (and, with kept blocks,
 * the resolver its logged coefficients: cap_resolver_model_sync); coefficients change only
 * through cap_resolver_set_column and cap_resolver_set_row, so the kept blocks follow; the
 * max_served row, when present, is the model's last row; objective coefficients are reset
 * from model->cost at every solve, so a caller that changes a cost changes model->cost.
 */
#ifndef CAP_RESOLVE_H
#define CAP_RESOLVE_H

#include "model.h"
#include "plan.h"

typedef enum {
    CAP_START_COLD = 0, /* discard the basis: period-block warm start or standard basis */
    CAP_START_PRIMAL,   /* only costs changed: the basis is still primal feasible */
    CAP_START_DUAL,     /* only right-hand sides or bounds changed: still dual feasible */
    CAP_START_ANY       /* coefficients changed: dual simplex, falling back to primal */
} cap_start;

typedef struct {
    cap_model *model;         /* owned; rebuilt by cap_resolver_rebuild */
    cap_plan_options options; /* integer, mip_gap, time limit, decompose, threads */
    int served_row;           /* max_served: row keeping phase 1's unmet optimum; else 0 */
    int *row_lookup[CAP_ROW_KIND_COUNT]; /* [(a + 1) * (T + 1) + period + 1] -> row, 0 = none */
    int lookup_size[CAP_ROW_KIND_COUNT];
    double *phase1_dual; /* max_served: phase 1 row duals [row_count + 1] when kept */
    bool keep_phase1_duals;
    bool integers_fixed;       /* unit columns fixed at their MIP values (sensitivity) */
    bool keep_blocks;          /* keep the period blocks for warm starts (sweeps) */
    struct cap_blocks *blocks; /* the kept period blocks, NULL until a solve needs them */
    bool no_blocks;            /* the model is not one to decompose: do not try again */
    /* the last solve's column values when they came from the kept blocks (the model then
     * holds the optimal basis but GLPK has not computed its values); NULL when GLPK's
     * solution in the model is the answer */
    const double *solution;
    double mip_gap, lp_bound; /* last MIP's gap and bound */
} cap_resolver;

/* What one solve did. */
typedef struct {
    cap_plan_status status;
    bool warm; /* the answer came from the previous basis (no cold retry) */
} cap_resolve_info;

/* Builds the model of `scenario` (which must outlive the resolver). Returns CAP_OK or
 * CAP_ERR_RUNTIME (out of memory). */
cap_status cap_resolver_create(const cap_scenario *scenario, const cap_plan_options *options,
                               cap_resolver **out, cap_diag *diag);

void cap_resolver_free(cap_resolver *resolver);

/* GLPK row (1-based) of kind/object/period (period -1 for horizon rows, object -1 for the
 * budget and served rows), or 0 when the model has no such row. */
int cap_resolver_row(const cap_resolver *resolver, cap_row_kind kind, int a, int period);

/* Solves from the current basis as `start` says (max_served: both phases; integer mode:
 * the LP, then branch and bound). Returns CAP_OK when GLPK ran (info->status says what it
 * found) or CAP_ERR_RUNTIME when it failed even cold. */
cap_status cap_resolver_solve(cap_resolver *resolver, cap_start start, cap_resolve_info *info,
                              cap_diag *diag);

/* Sets column `column` (row `row`, 1-based) of the model to the given entries, as
 * glp_set_mat_col (glp_set_mat_row) does, and has the kept period blocks follow. Callers
 * change coefficients only through these; costs (model->cost) and bounds are set in the
 * model directly. With kept blocks the model itself takes the coefficients only when a
 * solve needs the whole model (cap_resolver_model_sync): a point the blocks answer alone
 * does not rewrite the model too. */
void cap_resolver_set_column(cap_resolver *resolver, int column, int count, const int *index,
                             const double *value);
void cap_resolver_set_row(cap_resolver *resolver, int row, int count, const int *index,
                          const double *value);

/* Brings the model's coefficients up to date with every cap_resolver_set_column and
 * cap_resolver_set_row; call before reading them from model->lp directly. */
void cap_resolver_model_sync(cap_resolver *resolver);

/* From now on the resolver's period blocks use `threads` threads (0: every thread).
 * Kept blocks made for another count go (the model takes their logged coefficients first),
 * and the next warm solve makes new ones from the basis the model holds. */
void cap_resolver_set_threads(cap_resolver *resolver, int threads);

/* Rebuilds the model from the scenario (after a change of structure: a row that appears or
 * goes) and carries the basis over row by row and column by column. Sets *start to the
 * start the next solve should use. */
cap_status cap_resolver_rebuild(cap_resolver *resolver, cap_start *start, cap_diag *diag);

/* Integer mode, after an optimal or feasible MIP: fixes every unit column at its MIP value
 * and re-solves the LP, so that duals exist (they are the LP's with the integers fixed).
 * Returns CAP_OK with *status optimal when the fixed LP solved. */
cap_status cap_resolver_fix_integers(cap_resolver *resolver, cap_plan_status *status,
                                     cap_diag *diag);

/* The solution as a cap_plan (MIP values in integer mode). NULL when out of memory. */
cap_plan *cap_resolver_plan(const cap_resolver *resolver, cap_plan_status status);

/* The last solution's costs without building a plan: objective, capacity, penalty,
 * top-up (USD) and unmet H100e-hours, computed exactly as cap_plan_solve computes them. */
typedef struct {
    double objective_usd, capacity_usd, penalty_usd, topup_usd, unmet_h100e_hours;
} cap_resolve_costs;

void cap_resolver_costs(const cap_resolver *resolver, cap_resolve_costs *costs);

#endif
