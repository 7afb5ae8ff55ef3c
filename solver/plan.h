/* plan.h: solve a scenario's planning model (SPEC §1) with GLPK.
 *
 * cap_plan_solve builds the LP (or MIP with --integer), solves it and returns the
 * solution as dense arrays in scenario units. It never lets GLPK see an invalid model:
 * the scenario must have passed validation. The call's status (did it run) is kept apart
 * from the plan's status (what the solution is), as in GLPK's own API.
 */
#ifndef CAP_PLAN_H
#define CAP_PLAN_H

#include "diag.h"
#include "scenario.h"

typedef struct {
    bool integer;        /* whole units per SPEC §1 integer mode */
    double mip_gap;      /* relative gap at which the MIP search stops (default 1e-4) */
    double time_limit_s; /* 0 = none for the LP; the MIP search defaults to 60 s */
    long node_limit;     /* MIP search: stop after this many nodes, 0 = none; unlike the
                            time limit, the same plan on every run and machine */
    bool verbose;        /* let GLPK print its progress */
    bool presolve;       /* GLPK's LP presolver (default off: measured slower here) */
    bool diagnose;       /* on infeasibility, re-solve elastically and name rows (default on) */
    bool decompose;      /* warm-start from period blocks solved in parallel (default on) */
    int threads;         /* OpenMP threads for the period blocks, 0 = OpenMP's default */
} cap_plan_options;

void cap_plan_options_init(cap_plan_options *options);

typedef enum {
    CAP_PLAN_OPTIMAL = 0,
    CAP_PLAN_FEASIBLE, /* MIP stopped at its time or node limit with an incumbent (mip_gap) */
    CAP_PLAN_INFEASIBLE,
    CAP_PLAN_UNBOUNDED,
    CAP_PLAN_UNDEFINED /* solver stopped without a solution (time limit, failure) */
} cap_plan_status;

const char *cap_plan_status_name(cap_plan_status status);

typedef struct {
    cap_plan_status status;
    int period_count, workload_count, offering_count, provider_count;

    double *x;     /* [(t * W + w) * O + o] accelerators of offering o for workload w */
    double *unmet; /* [w * T + t] unmet H100e (0 for hard-demand workloads) */
    double *topup; /* [provider] unused take-or-pay commitment, USD */
    double *units; /* [o * T + t] whole units (integer mode only, else NULL) */

    double objective_usd; /* cost of the plan: capacity + penalties + top-ups */
    double capacity_usd;  /* price * hours * x summed */
    double penalty_usd;   /* penalty * hours * unmet summed */
    double topup_usd;     /* sum of topup */
    double unmet_h100e_hours;

    double mip_gap;      /* integer mode: relative gap reached; else 0 */
    double lp_bound_usd; /* integer mode: best bound */
    int rows, columns;
    long nonzeros;
    double build_seconds, solve_seconds;
    bool decomposed; /* the solve started from the period blocks' combined basis */
    char *diagnosis; /* infeasible: rows that cannot hold together; else NULL */
} cap_plan;

/* Solves `scenario`. Returns CAP_OK when the solver ran (check plan->status),
 * CAP_ERR_RUNTIME on memory or solver failure (messages in `diag`); *out is set only on
 * CAP_OK and must be released with cap_plan_free. */
cap_status cap_plan_solve(const cap_scenario *scenario, const cap_plan_options *options,
                          cap_plan **out, cap_diag *diag);

void cap_plan_free(cap_plan *plan);

/* An empty plan shaped for `scenario` (units only when integer); NULL when out of memory. */
cap_plan *cap_plan_alloc(const cap_scenario *scenario, bool integer);

static inline size_t cap_plan_index(const cap_plan *plan, int t, int w, int o)
{
    return ((size_t)t * (size_t)plan->workload_count + (size_t)w) * (size_t)plan->offering_count +
           (size_t)o;
}

/* Delivered H100e of workload w in period t under the plan (LP derating eff[o]). */
double cap_plan_delivered(const cap_scenario *scenario, const cap_plan *plan, int w, int t);

/* Cost of the plan's capacity, computed from x and the scenario's prices. */
double cap_plan_capacity_cost(const cap_scenario *scenario, const cap_plan *plan);

#endif
