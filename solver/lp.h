/* lp.h: the GLPK calls every solve of a planning model shares: the simplex with its
 * fallbacks, the branch-and-bound search with capplan's rounding heuristic, the start from
 * scratch, and GLPK's statuses in capplan's terms. Used by cap_plan_solve (solve.c) and by
 * the resolver behind sensitivity and sweeps (resolve.c), so both solve alike. */
#ifndef CAP_LP_H
#define CAP_LP_H

#include "model.h"
#include "plan.h"

/* Branch and bound can run for hours; planners get the best plan found in a minute, with
 * its gap, unless they ask for longer (--time-limit). */
#define CAP_MIP_DEFAULT_TIME_LIMIT 60.0

/* GLPK aborts the process on an internal error (memory it cannot get, a model past its own
 * limits). cap_lp_set_fatal_hook makes it call `hook` instead (the program's, which reports
 * and exits: the hook must not return) in the calling thread; cap_lp_thread_start, at the
 * start of every other thread that calls GLPK, does the same there (GLPK's error handling
 * is per thread). With no hook set, thread start does nothing. */
void cap_lp_set_fatal_hook(void (*hook)(void));
void cap_lp_thread_start(void);

/* Monotonic wall-clock seconds, for the timings plans and studies report. */
double cap_now_seconds(void);

/* A starting point for a solve from scratch: GLPK's scaling and crash basis, for the
 * primal simplex. Measured on one period of a generated 200x1000 model: 4.1 CPU-s and 2041
 * iterations, against 10.3 CPU-s and 4389 iterations for the dual simplex from the slack
 * basis; on 50x300 models the two are equal (0.09 s). Does nothing when GLPK's presolver
 * is on: it builds its own. */
void cap_lp_cold_start(glp_prob *lp, const cap_plan_options *options);

/* The simplex from the basis `lp` holds, with `method` (GLP_PRIMAL, GLP_DUAL, GLP_DUALP).
 * A basis that no longer factorises is replaced by a crash basis. Returns CAP_OK when GLPK
 * ran (*status says what it found), CAP_ERR_RUNTIME when it failed. */
cap_status cap_lp_simplex(glp_prob *lp, const cap_plan_options *options, int method,
                          cap_plan_status *status, cap_diag *diag);

/* What the basis `lp` holds is, once its basic solution is computed (glp_warm_up: one
 * factorisation when there is none): SINGULAR when it does not factorise; DUAL_ONLY when
 * glp_warm_up finds it dual but not primal feasible (the dual simplex can go on); OPTIMAL
 * when it is dual feasible and every basic value lies within 1e-9 (relative; absolute near
 * zero) of its bounds, tighter than glp_warm_up's own test and the simplex's tolerance: the
 * solution is then the simplex's answer and no simplex needs to run; OTHER otherwise. */
typedef enum {
    CAP_BASIS_SINGULAR,
    CAP_BASIS_OPTIMAL,
    CAP_BASIS_DUAL_ONLY,
    CAP_BASIS_OTHER
} cap_basis_state;
cap_basis_state cap_lp_basis_state(glp_prob *lp);

/* The simplex with `method`, then, for an integer model whose relaxation is optimal,
 * branch and bound from it, stopping at options->mip_gap (reported optimal) or the time
 * limit (reported feasible); *gap and *bound receive the relative gap and best bound
 * reached when a plan was found. */
cap_status cap_lp_solve_stage(cap_model *m, const cap_plan_options *options, int method,
                              cap_plan_status *status, double *gap, double *bound, cap_diag *diag);

#endif
