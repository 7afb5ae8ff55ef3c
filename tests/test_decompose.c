/* test_decompose.c: the period-block warm start changes the starting point only.
 *
 * On generated scenarios (every constraint family), the decomposed solve and GLPK's solve
 * of the whole model from scratch must reach the same optimum (1e-9 relative), whether the
 * take-or-pay commitment is slack, binding (the Lagrangian coordination has to move), or
 * out of reach (a top-up is paid), and with a budget row linking the periods too.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "generate.h"
#include "plan.h"

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
