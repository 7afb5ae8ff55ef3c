/* test_decompose.c: the period-block warm start changes the starting point only.
 *
 * On generated scenarios (every constraint family), the decomposed solve and GLPK's solve
 * of the whole model from scratch must reach the same optimum (1e-9 relative), whether the
 * take-or-pay commitment is slack, binding (the Lagrangian coordination has to move), or
 * out of reach (a top-up is paid), and with a budget row linking the periods too. The
 * period blocks a sweep's resolver keeps between solves must follow every edit and reach
 * the optimum GLPK finds alone for the same edited LP.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "generate.h"
#include "plan.h"
#include "resolve.h"

/* Spend with provider 0 under the plan, USD. */
static double provider0_spend(const cap_scenario *s, const cap_plan *plan)
{
    double spend = 0.0;
    for (int t = 0; t < s->period_count; t++)
        for (int w = 0; w < s->workload_count; w++)
            for (int o = 0; o < s->offering_count; o++)
                if (cap_offering_provider(s, o) == 0)
                    spend += plan->x[cap_plan_index(plan, t, w, o)] * s->offerings[o].price[t] *
                             s->periods[t].hours;
    return spend;
}

static double solve(const cap_scenario *s, bool decompose, double *topup, double *spend)
{
    cap_plan_options options;
    cap_plan_options_init(&options);
    options.decompose = decompose;
    cap_plan *plan = NULL;
    cap_diag diag;
    cap_diag_init(&diag);
    cr_assert_eq(cap_plan_solve(s, &options, &plan, &diag), CAP_OK);
    cr_assert_eq(plan->status, CAP_PLAN_OPTIMAL, "status %s", cap_plan_status_name(plan->status));
    cr_assert_eq(plan->decomposed, decompose, "the period-block start %s",
                 decompose ? "did not run: make the model larger" : "ran though switched off");
    double objective = plan->objective_usd;
    *topup = plan->topup_usd;
    *spend = provider0_spend(s, plan);
    cap_plan_free(plan);
    cap_diag_free(&diag);
    return objective;
}

typedef struct {
    double commitment, spend, topup;
} regime;

/* Solves with the commitment of provider 0 scaled by `factor`, both ways, and says which
 * regime the decomposed solve was in, so each test can check it exercised the one it
 * names. */
static regime compare(int workloads, int offerings, int periods, uint64_t seed, double factor,
                      double budget)
{
    cap_generate_options g = {workloads, offerings, periods, seed};
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *s = NULL;
    cr_assert_eq(cap_scenario_generate(&g, &s, &diag), CAP_OK);
    s->providers[0].commitment *= factor;
    if (budget > 0) {
        s->has_budget = true;
        s->budget = budget;
    }
    regime r = {s->providers[0].commitment, 0.0, 0.0};
    double topup_whole, spend_whole;
    double fast = solve(s, true, &r.topup, &r.spend);
    double whole = solve(s, false, &topup_whole, &spend_whole);
    cr_assert_float_eq(fast, whole, 1e-9 * fabs(whole),
                       "decomposed %.12g vs whole %.12g (%dx%dx%d seed %llu, commitment x%g)", fast,
                       whole, workloads, offerings, periods, (unsigned long long)seed, factor);
    cap_scenario_free(s);
    cap_diag_free(&diag);
    return r;
}

/* Regimes: a tenth of the generated commitment is below what the cheapest plan spends with
 * provider 0 anyway; 5% above that free spend binds; a thousand times the generated
 * commitment exceeds what provider 0's whole capacity can cost. Each test checks it is in
 * the regime it names. */
Test(decompose, slack_commitment)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        regime r = compare(20, 60, 4, seed, 0.1, 0.0);
        cr_assert_gt(r.spend, r.commitment * (1 + 1e-6), "the commitment should be slack");
    }
}

/* The factor that puts provider 0's commitment 5% above what the plan spends there when
 * nothing is committed: then the commitment must bind. */
static double binding_factor(int workloads, int offerings, int periods, uint64_t seed)
{
    cap_generate_options g = {workloads, offerings, periods, seed};
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *s = NULL;
    cr_assert_eq(cap_scenario_generate(&g, &s, &diag), CAP_OK);
    double generated = s->providers[0].commitment, topup, spend;
    s->providers[0].commitment = 0.0;
    solve(s, false, &topup, &spend);
    cap_scenario_free(s);
    cap_diag_free(&diag);
    return 1.05 * spend / generated;
}

Test(decompose, binding_commitment)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        regime r = compare(20, 60, 5, seed, binding_factor(20, 60, 5, seed), 0.0);
        cr_assert_float_eq(r.spend, r.commitment, 1e-6 * r.commitment,
                           "the commitment should bind: spend %.9g, commitment %.9g", r.spend,
                           r.commitment);
        cr_assert_lt(r.topup, 1e-6 * r.commitment, "a binding commitment pays no top-up");
    }
}

Test(decompose, unreachable_commitment_pays_topup)
{
    regime r = compare(24, 60, 3, 11, 1000.0, 0.0);
    cr_assert_float_eq(r.topup, r.commitment - r.spend, 1e-6 * r.commitment,
                       "the unused commitment is paid as a top-up");
    cr_assert_gt(r.topup, 0.0);
}

Test(decompose, budget_row_links_periods)
{
    compare(20, 60, 4, 5, 1.0, 1e15);
}

Test(decompose, medium_model)
{
    compare(30, 150, 6, 2, binding_factor(30, 150, 6, 2), 0.0);
}

/* ---- period blocks kept between solves (resolve.h, keep_blocks) ------------------------- */

/* A resolver that keeps its period blocks, and a mirror of its LP that the test edits
 * alongside it, directly in GLPK: the resolver's model may take its coefficients late (the
 * blocks answer alone), the mirror never does. */
typedef struct {
    cap_scenario *s;
    cap_resolver *r;
    glp_prob *mirror;
    int *index;
    double *value;
} kept;

/* GLPK's own solve of a copy of the mirror at the resolver's costs, with the presolver and
 * its own starting basis: the optimum the kept blocks must reach. */
static double independent_optimum(const kept *k)
{
    glp_prob *copy = glp_create_prob();
    glp_copy_prob(copy, k->mirror, GLP_OFF);
    for (int c = 1; c <= k->r->model->column_count; c++)
        glp_set_obj_coef(copy, c, k->r->model->cost[c - 1]);
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.presolve = GLP_ON;
    cr_assert_eq(glp_simplex(copy, &parm), 0);
    cr_assert_eq(glp_get_status(copy), GLP_OPT);
    double optimum = glp_get_obj_val(copy);
    glp_delete_prob(copy);
    return optimum;
}

/* Solves as `start` says and holds the answer to the independent optimum, which the edit
 * before must have moved; `from_blocks`: whether the answer must be the blocks' own (no
 * linking row binds) or the whole model's simplex must have finished (a commitment binds). */
static double resolve_and_check(kept *k, cap_start start, bool from_blocks, double before,
                                const char *what)
{
    cap_resolve_info info;
    cap_diag diag;
    cap_diag_init(&diag);
    cr_assert_eq(cap_resolver_solve(k->r, start, &info, &diag), CAP_OK, "%s", what);
    cap_diag_free(&diag);
    cr_assert_eq(info.status, CAP_PLAN_OPTIMAL, "%s: %s", what, cap_plan_status_name(info.status));
    cr_assert(k->r->blocks, "%s: the period blocks were not kept", what);
    cr_assert_eq(k->r->solution != NULL, from_blocks, "%s: the answer %s the blocks' own", what,
                 from_blocks ? "is not" : "is");
    cr_assert_eq(info.warm, start != CAP_START_COLD, "%s", what);
    cap_resolve_costs costs;
    cap_resolver_costs(k->r, &costs);
    double expected = independent_optimum(k);
    cr_assert_float_eq(costs.objective_usd, expected, 1e-9 * fabs(expected),
                       "%s: %.15g, GLPK alone %.15g", what, costs.objective_usd, expected);
    cr_assert(fabs(expected - before) > 1e-6 * fabs(before),
              "%s did not move the optimum (%.15g): nothing was checked", what, expected);
    return expected;
}

/* Column c of both to the mirror's entries with those in rows of `kind` scaled. */
static void column_scale(kept *k, int c, cap_row_kind kind, int row, double factor)
{
    const cap_model *m = k->r->model;
    int count = glp_get_mat_col(k->mirror, c, k->index, k->value);
    for (int e = 1; e <= count; e++)
        if (m->rows[k->index[e] - 1].kind == kind && (!row || k->index[e] == row))
            k->value[e] *= factor;
    glp_set_mat_col(k->mirror, c, count, k->index, k->value);
    cap_resolver_set_column(k->r, c, count, k->index, k->value);
}

static void row_bound(kept *k, int row, double lb)
{
    glp_set_row_bnds(k->mirror, row, GLP_LO, lb, 0.0);
    glp_set_row_bnds(k->r->model->lp, row, GLP_LO, lb, 0.0);
}

/* Every kind of edit a sweep makes, on one resolver that keeps its blocks, on one thread
 * and with a helper thread: prices (costs only: provider 1 has no commitment row), demand
 * (bounds), delivered coefficients rewritten column by column, a share row rewritten, then
 * the columns that cross it, and at last provider 0's commitment raised until it binds, so
 * that the whole model solves from every coefficient the blocks answered alone before. */
Test(decompose, kept_blocks_follow_every_edit)
{
    for (int threads = 1; threads <= 2; threads++) {
        cap_generate_options g = {20, 60, 4, 1};
        cap_diag diag;
        cap_diag_init(&diag);
        kept k = {0};
        cr_assert_eq(cap_scenario_generate(&g, &k.s, &diag), CAP_OK);
        cap_scenario *s = k.s;
        s->providers[0].commitment *= 0.1; /* slack, so the blocks' answer stands */
        cap_plan_options options;
        cap_plan_options_init(&options);
        options.threads = threads;
        cr_assert_eq(cap_resolver_create(s, &options, &k.r, &diag), CAP_OK);
        k.r->keep_blocks = true;
        cap_model *m = k.r->model;
        k.mirror = glp_create_prob();
        glp_copy_prob(k.mirror, m->lp, GLP_OFF);
        k.index = malloc(((size_t)m->row_count + m->column_count + 1) * sizeof *k.index);
        k.value = malloc(((size_t)m->row_count + m->column_count + 1) * sizeof *k.value);
        double optimum = resolve_and_check(&k, CAP_START_COLD, true, 0.0, "cold");

        for (int c = 1; c <= m->column_count; c++) {
            const cap_col_info *info = &m->columns[c - 1];
            if (info->kind == CAP_COL_X && info->w == 0 && cap_offering_provider(s, info->o) == 1)
                s->offerings[info->o].price[info->t] *= 1.3; /* once per offering */
        }
        for (int c = 1; c <= m->column_count; c++) {
            const cap_col_info *info = &m->columns[c - 1];
            if (info->kind == CAP_COL_X && cap_offering_provider(s, info->o) == 1)
                m->cost[c - 1] = s->offerings[info->o].price[info->t] * s->periods[info->t].hours;
        }
        optimum = resolve_and_check(&k, CAP_START_PRIMAL, true, optimum, "prices");

        for (int t = 0; t < s->period_count; t++) {
            int row = cap_resolver_row(k.r, CAP_ROW_DEMAND, 2, t);
            row_bound(&k, row, 1.3 * glp_get_row_lb(k.mirror, row));
        }
        optimum = resolve_and_check(&k, CAP_START_DUAL, true, optimum, "demand");

        for (int c = 1; c <= m->column_count; c++) {
            const cap_col_info *info = &m->columns[c - 1];
            if (info->kind == CAP_COL_X && cap_offering_provider(s, info->o) == 2)
                column_scale(&k, c, CAP_ROW_DEMAND, 0, 0.7);
        }
        optimum = resolve_and_check(&k, CAP_START_ANY, true, optimum, "delivered coefficients");

        int share = cap_resolver_row(k.r, CAP_ROW_MAX_SHARE, 1, 2);
        cr_assert(share, "provider 1 has a share cap");
        int count = glp_get_mat_row(k.mirror, share, k.index, k.value);
        for (int e = 1; e <= count; e++)
            if (k.value[e] > 0.0)
                k.value[e] *= 5.0; /* provider 1's own columns: a much tighter cap */
        glp_set_mat_row(k.mirror, share, count, k.index, k.value);
        cap_resolver_set_row(k.r, share, count, k.index, k.value);
        optimum = resolve_and_check(&k, CAP_START_ANY, true, optimum, "share row");

        for (int c = 1; c <= m->column_count; c++) {
            const cap_col_info *info = &m->columns[c - 1];
            if (info->kind == CAP_COL_X && info->t == 2 && cap_offering_provider(s, info->o) == 1)
                column_scale(&k, c, CAP_ROW_MAX_SHARE, share, 0.5);
        }
        optimum = resolve_and_check(&k, CAP_START_ANY, true, optimum, "share row's columns");

        cap_plan *plan = cap_resolver_plan(k.r, CAP_PLAN_OPTIMAL);
        s->providers[0].commitment = 1.05 * provider0_spend(s, plan);
        cap_plan_free(plan);
        row_bound(&k, cap_resolver_row(k.r, CAP_ROW_COMMITMENT, 0, -1), s->providers[0].commitment);
        optimum = resolve_and_check(&k, CAP_START_DUAL, false, optimum, "binding commitment");

        row_bound(&k, cap_resolver_row(k.r, CAP_ROW_DEMAND, 3, 1),
                  1.2 * glp_get_row_lb(k.mirror, cap_resolver_row(k.r, CAP_ROW_DEMAND, 3, 1)));
        resolve_and_check(&k, CAP_START_ANY, false, optimum, "binding commitment, more demand");

        free(k.index);
        free(k.value);
        glp_delete_prob(k.mirror);
        cap_resolver_free(k.r);
        cap_scenario_free(s);
        cap_diag_free(&diag);
    }
}
