/* lp.c: the simplex and branch-and-bound calls shared by every solve (see lp.h). */
#define _POSIX_C_SOURCE 200809L
#include "lp.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

static void (*fatal_hook)(void);

static void glpk_error(void *info)
{
    (void)info;
    fatal_hook(); /* does not return: GLPK's state is not usable after an error */
}

void cap_lp_thread_start(void)
{
    if (fatal_hook)
        glp_error_hook(glpk_error, NULL);
}

void cap_lp_set_fatal_hook(void (*hook)(void))
{
    fatal_hook = hook;
    cap_lp_thread_start();
}

double cap_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static cap_plan_status cap_lp_status(int glpk_status)
{
    switch (glpk_status) {
    case GLP_OPT:
        return CAP_PLAN_OPTIMAL;
    case GLP_FEAS:
        return CAP_PLAN_FEASIBLE;
    case GLP_NOFEAS:
    case GLP_INFEAS:
        return CAP_PLAN_INFEASIBLE;
    case GLP_UNBND:
        return CAP_PLAN_UNBOUNDED;
    default:
        return CAP_PLAN_UNDEFINED;
    }
}

void cap_lp_cold_start(glp_prob *lp, const cap_plan_options *options)
{
    if (options->presolve)
        return;
    glp_std_basis(lp);
    glp_scale_prob(lp, GLP_SF_AUTO);
    glp_adv_basis(lp, 0);
}

cap_status cap_lp_simplex(glp_prob *lp, const cap_plan_options *options, int method,
                          cap_plan_status *status, cap_diag *diag)
{
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = options->verbose ? GLP_MSG_ON : GLP_MSG_OFF;
    parm.meth = method;
    parm.presolve = options->presolve ? GLP_ON : GLP_OFF;
    if (options->time_limit_s > 0)
        parm.tm_lim = (int)fmin(options->time_limit_s * 1000.0, 2e9);
    int ret = glp_simplex(lp, &parm);
    if (ret == GLP_ESING || ret == GLP_ECOND || ret == GLP_EBADB) {
        /* A basis that no longer factorises (a column went to zero): crash a new one. */
        glp_adv_basis(lp, 0);
        parm.meth = GLP_PRIMAL;
        ret = glp_simplex(lp, &parm);
    }
    if (options->presolve && (ret == GLP_ENOPFS || ret == GLP_ENODFS)) {
        *status = ret == GLP_ENOPFS ? CAP_PLAN_INFEASIBLE : CAP_PLAN_UNBOUNDED;
        return CAP_OK;
    }
    if (ret == GLP_ETMLIM) {
        *status = CAP_PLAN_UNDEFINED;
        cap_diag_add(diag, "time limit reached before the LP was solved");
        return CAP_OK;
    }
    if (ret != 0) {
        cap_diag_add(diag, "GLPK simplex failed (code %d)", ret);
        return CAP_ERR_RUNTIME;
    }
    *status = cap_lp_status(glp_get_status(lp));
    if (*status == CAP_PLAN_FEASIBLE || *status == CAP_PLAN_UNDEFINED) {
        /* The dual simplex may stop without a proof in its status; the primal and dual
         * statuses of the basis say which side failed. */
        int primal = glp_get_prim_stat(lp), dual = glp_get_dual_stat(lp);
        if (primal == GLP_NOFEAS || dual == GLP_NOFEAS)
            *status = primal == GLP_NOFEAS ? CAP_PLAN_INFEASIBLE : CAP_PLAN_UNBOUNDED;
    }
    return CAP_OK;
}

static bool within_bounds(int type, double value, double lb, double ub)
{
    const double eps = 1e-9;
    if ((type == GLP_LO || type == GLP_DB || type == GLP_FX) && value < lb - eps * (1.0 + fabs(lb)))
        return false;
    return !((type == GLP_UP || type == GLP_DB || type == GLP_FX) &&
             value > ub + eps * (1.0 + fabs(ub)));
}

static bool basis_feasible(glp_prob *lp)
{
    for (int r = 1; r <= glp_get_num_rows(lp); r++)
        if (glp_get_row_stat(lp, r) == GLP_BS &&
            !within_bounds(glp_get_row_type(lp, r), glp_get_row_prim(lp, r), glp_get_row_lb(lp, r),
                           glp_get_row_ub(lp, r)))
            return false;
    for (int c = 1; c <= glp_get_num_cols(lp); c++)
        if (glp_get_col_stat(lp, c) == GLP_BS &&
            !within_bounds(glp_get_col_type(lp, c), glp_get_col_prim(lp, c), glp_get_col_lb(lp, c),
                           glp_get_col_ub(lp, c)))
            return false;
    return true;
}

cap_basis_state cap_lp_basis_state(glp_prob *lp)
{
    if (glp_warm_up(lp) != 0)
        return CAP_BASIS_SINGULAR;
    bool primal = glp_get_prim_stat(lp) == GLP_FEAS, dual = glp_get_dual_stat(lp) == GLP_FEAS;
    if (dual && !primal)
        return CAP_BASIS_DUAL_ONLY;
    return primal && dual && basis_feasible(lp) ? CAP_BASIS_OPTIMAL : CAP_BASIS_OTHER;
}

/* ---- branch and bound ----------------------------------------------------------------- */

typedef struct {
    const cap_model *model;
    double bound;        /* best bound */
    bool rounding_tried; /* the rounding heuristic runs once, at the root */
    long node_limit;     /* 0 = none */
    long nodes;          /* subproblems started so far */
} mip_progress;

/* Rounds every unit column of the relaxation (up, nearest or down), fixes it, and solves
 * the LP that is left for x on a copy. A feasible result is handed to GLPK as an incumbent,
 * so the search always has a plan to improve and a gap to report. */
static void rounding_try(glp_tree *tree, const cap_model *m, int mode)
{
    glp_prob *relaxed = glp_ios_get_prob(tree);
    glp_prob *copy = glp_create_prob();
    glp_copy_prob(copy, relaxed, GLP_OFF);
    for (int c = 1; c <= m->column_count; c++) {
        glp_set_col_kind(copy, c, GLP_CV);
        if (m->columns[c - 1].kind != CAP_COL_UNITS)
            continue;
        double value = glp_get_col_prim(relaxed, c), most = glp_get_col_ub(relaxed, c);
        double n = mode == 0   ? ceil(value - 1e-9)
                   : mode == 1 ? floor(value + 0.5)
                               : floor(value + 1e-9);
        n = fmax(0.0, fmin(n, most));
        glp_set_col_bnds(copy, c, GLP_FX, n, n);
    }
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.meth = GLP_DUALP;
    glp_std_basis(copy);
    if (glp_simplex(copy, &parm) == 0 && glp_get_status(copy) == GLP_OPT) {
        double *x = malloc(((size_t)glp_get_num_cols(copy) + 1) * sizeof *x);
        if (x) {
            for (int c = 1; c <= glp_get_num_cols(copy); c++)
                x[c] = glp_get_col_prim(copy, c);
            glp_ios_heur_sol(tree, x);
            free(x);
        }
    }
    glp_delete_prob(copy);
}

static void mip_callback(glp_tree *tree, void *info)
{
    mip_progress *progress = info;
    int reason = glp_ios_reason(tree);
    if (reason == GLP_IHEUR && !progress->rounding_tried) {
        progress->rounding_tried = true;
        for (int mode = 0; mode < 3; mode++)
            rounding_try(tree, progress->model, mode);
    }
    if (reason == GLP_IBINGO || reason == GLP_ISELECT) {
        int node = glp_ios_best_node(tree);
        if (node)
            progress->bound = glp_ios_node_bound(tree, node);
    }
    /* GLPK calls for preprocessing once before it solves each subproblem, the root too */
    if (reason == GLP_IPREPRO && progress->node_limit > 0 &&
        ++progress->nodes > progress->node_limit)
        glp_ios_terminate(tree);
}

/* Branch and bound from the optimal LP relaxation `m` holds (cap_lp_solve_stage). */
static cap_status cap_mip_search(cap_model *m, const cap_plan_options *options,
                                 cap_plan_status *status, double *gap, double *bound,
                                 cap_diag *diag)
{
    mip_progress progress = {m, NAN, false, options->node_limit, 0};
    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.msg_lev = options->verbose ? GLP_MSG_ON : GLP_MSG_OFF;
    parm.mip_gap = options->mip_gap;
    parm.presolve = GLP_OFF; /* the LP relaxation's optimal basis is already there */
    parm.cb_func = mip_callback;
    parm.cb_info = &progress;
    double limit = options->time_limit_s > 0 ? options->time_limit_s : CAP_MIP_DEFAULT_TIME_LIMIT;
    parm.tm_lim = (int)fmin(limit * 1000.0, 2e9);
    double relaxation = glp_get_obj_val(m->lp); /* minimising: a lower bound */
    int ret = glp_intopt(m->lp, &parm);
    if (ret != 0 && ret != GLP_ETMLIM && ret != GLP_ESTOP && ret != GLP_EMIPGAP &&
        ret != GLP_ENOPFS && ret != GLP_ENODFS) {
        cap_diag_add(diag, "GLPK branch-and-bound failed (code %d)", ret);
        return CAP_ERR_RUNTIME;
    }
    int mip = glp_mip_status(m->lp);
    /* Stopping at the requested relative gap is optimality to that tolerance. */
    if ((mip == GLP_OPT && ret == 0) || ((mip == GLP_OPT || mip == GLP_FEAS) && ret == GLP_EMIPGAP))
        *status = CAP_PLAN_OPTIMAL;
    else if (mip == GLP_OPT || mip == GLP_FEAS)
        *status = CAP_PLAN_FEASIBLE;
    else if (mip == GLP_NOFEAS)
        *status = CAP_PLAN_INFEASIBLE;
    else
        *status = CAP_PLAN_UNDEFINED;
    if (*status == CAP_PLAN_UNDEFINED && ret == GLP_ESTOP)
        cap_diag_add(diag,
                     "the MIP search stopped at its node limit (%ld nodes) before it found a "
                     "plan: raise --node-limit",
                     options->node_limit);
    else if (*status == CAP_PLAN_UNDEFINED && ret == GLP_ETMLIM)
        cap_diag_add(diag,
                     "the MIP search stopped at its time limit (%g s) before it found a plan: "
                     "raise --time-limit",
                     limit);
    if (*status == CAP_PLAN_OPTIMAL || *status == CAP_PLAN_FEASIBLE) {
        double value = glp_mip_obj_val(m->lp);
        /* The LP relaxation's optimum bounds every integer plan; a node's bound can be
         * weaker (GLPK starts the root's at -DBL_MAX). A search run to its end proved
         * the incumbent optimal. */
        *bound = ret == 0 && mip == GLP_OPT ? value : fmax(progress.bound, relaxation);
        *gap = fabs(value - *bound) / (fabs(value) + 1e-10);
    }
    return CAP_OK;
}

cap_status cap_lp_solve_stage(cap_model *m, const cap_plan_options *options, int method,
                              cap_plan_status *status, double *gap, double *bound, cap_diag *diag)
{
    cap_status rc = cap_lp_simplex(m->lp, options, method, status, diag);
    if (rc != CAP_OK || *status != CAP_PLAN_OPTIMAL || !m->integer)
        return rc;
    return cap_mip_search(m, options, status, gap, bound, diag);
}
