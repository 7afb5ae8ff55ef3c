/* test_plan_hand.c: tiny planning models whose optimal plans were worked out on paper.
 *
 * One test per constraint family of SPEC §1. Above each test, the derivation: which
 * offering is cheapest per delivered H100e (price / (throughput * eff), eff =
 * availability * (1 - outage)), what binds, and the arithmetic of the objective. The
 * expected numbers come from those derivations, never from the program's output.
 *
 * Conventions: every period has 1000 hours unless said otherwise, so a price of p USD per
 * accelerator-hour costs 1000 p USD per accelerator over a period. Where the optimum is
 * degenerate (several optimal x), only the objective and what is unique are asserted.
 */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <glpk.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "export.h"
#include "plan.h"
#include "report.h"
#include "scenario_load.h"
#include "support.h"

/* ---- helpers ---------------------------------------------------------------------------- */

typedef struct {
    cap_scenario *scenario;
    cap_plan *plan;
} solved;

static solved solve_yaml_with(const char *yaml, const cap_plan_options *options)
{
    solved r;
    r.scenario = cap_test_scenario(yaml);
    cap_diag diag;
    cap_diag_init(&diag);
    r.plan = NULL;
    cap_status status = cap_plan_solve(r.scenario, options, &r.plan, &diag);
    for (int i = 0; i < diag.count; i++)
        cr_log_info("%s", diag.lines[i]);
    cap_diag_free(&diag);
    cr_assert_eq(status, CAP_OK, "cap_plan_solve did not run (status %d)", (int)status);
    cr_assert_not_null(r.plan);
    return r;
}

static solved solve_yaml(const char *yaml, bool integer)
{
    cap_plan_options options;
    cap_plan_options_init(&options);
    options.integer = integer;
    return solve_yaml_with(yaml, &options);
}

static void solved_free(solved *r)
{
    cap_plan_free(r->plan);
    cap_scenario_free(r->scenario);
}

static void assert_near(double actual, double expected, const char *what)
{
    double tolerance = 1e-6 * fmax(1.0, fabs(expected));
    cr_assert(fabs(actual - expected) <= tolerance, "%s: got %.9g, expected %.9g", what, actual,
              expected);
}

static void assert_optimal(const solved *r, double objective_usd)
{
    cr_assert_eq(r->plan->status, CAP_PLAN_OPTIMAL, "plan status %s, expected optimal",
                 cap_plan_status_name(r->plan->status));
    assert_near(r->plan->objective_usd, objective_usd, "objective_usd");
}

/* Accelerators of offering `offering` given to `workload` in period t. */
static double x_of(const solved *r, int t, const char *workload, const char *offering)
{
    int w = cap_scenario_find_workload(r->scenario, workload);
    int o = cap_scenario_find_offering(r->scenario, offering);
    cr_assert(w >= 0 && o >= 0, "unknown workload %s or offering %s", workload, offering);
    return r->plan->x[cap_plan_index(r->plan, t, w, o)];
}

static void assert_x(const solved *r, int t, const char *workload, const char *offering,
                     double expected)
{
    char what[256];
    snprintf(what, sizeof what, "x[%s,%s,t=%d]", workload, offering, t);
    assert_near(x_of(r, t, workload, offering), expected, what);
}

static double unmet_of(const solved *r, int t, const char *workload)
{
    int w = cap_scenario_find_workload(r->scenario, workload);
    cr_assert(w >= 0, "unknown workload %s", workload);
    return r->plan->unmet[w * r->plan->period_count + t];
}

static double topup_of(const solved *r, const char *provider)
{
    int p = cap_scenario_find_provider(r->scenario, provider);
    cr_assert(p >= 0, "unknown provider %s", provider);
    return r->plan->topup[p];
}

/* Common head of the scenarios: one 1000-hour period, H100 as the reference. */
#define HEAD_ONE_PERIOD                                                                            \
    "version: 1\n"                                                                                 \
    "name: hand\n"                                                                                 \
    "reference: H100\n"                                                                            \
    "periods:\n"                                                                                   \
    "  - {id: p1, hours: 1000}\n"

/* ---- (1) cheapest offering per delivered H100e, with availability derating --------------- */

/* Demand 100 H100e, throughput 1, capacity ample everywhere.
 *   cheap-avail: 2.00 / (1 * 0.80)            = 2.500 USD per delivered H100e-hour
 *   cheap-out:   1.90 / (1 * 1.00 * (1-0.25)) = 2.533
 *   plain:       2.40 / (1 * 1.00)            = 2.400   <- cheapest
 * The two offerings with the lower hourly price lose once derated. Only `plain` is used:
 * x = 100 accelerators, cost = 2.40 * 1000 * 100 = 240,000 USD. Unique: any accelerator
 * moved to another offering raises the cost per delivered H100e. */
Test(hand, cheapest_offering_after_derating)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "providers:\n"
                                          "  - {id: a}\n"
                                          "regions:\n"
                                          "  - {id: ra, provider: a, geo: us}\n"
                                          "offerings:\n"
                                          "  - {id: cheap-avail, region: ra, accelerator: H100, "
                                          "pricing: on_demand, price: 2.00, capacity: 1000, "
                                          "availability: 0.8}\n"
                                          "  - {id: cheap-out, region: ra, accelerator: H100, "
                                          "pricing: on_demand, price: 1.90, capacity: 1000, "
                                          "outage: 0.25}\n"
                                          "  - {id: plain, region: ra, accelerator: H100, "
                                          "pricing: on_demand, price: 2.40, capacity: 1000}\n"
                                          "workloads:\n"
                                          "  - {id: w, kind: training, demand: 100, "
                                          "throughput: {H100: 1.0}}\n",
                          false);
    assert_optimal(&r, 240000.0);
    assert_x(&r, 0, "w", "plain", 100.0);
    assert_x(&r, 0, "w", "cheap-avail", 0.0);
    assert_x(&r, 0, "w", "cheap-out", 0.0);
    assert_near(r.plan->capacity_usd, 240000.0, "capacity_usd");
    solved_free(&r);
}

/* ---- (2) capacity binds: a second, dearer offering fills the gap -------------------------- */

/* Demand 100 H100e.
 *   cheap: 2.00 per delivered H100e, capacity 60   -> binds: x = 60, delivers 60
 *   dear:  3.00 / 0.8 = 3.75 per delivered H100e   -> covers the other 40 H100e,
 *          which takes 40 / 0.8 = 50 accelerators.
 * Cost = 1000 * (2.00 * 60 + 3.00 * 50) = 1000 * (120 + 150) = 270,000 USD. */
Test(hand, capacity_binds_second_offering)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "providers:\n"
                                          "  - {id: a}\n"
                                          "regions:\n"
                                          "  - {id: ra, provider: a, geo: us}\n"
                                          "offerings:\n"
                                          "  - {id: cheap, region: ra, accelerator: H100, "
                                          "pricing: reserved, price: 2.00, capacity: 60}\n"
                                          "  - {id: dear, region: ra, accelerator: H100, "
                                          "pricing: on_demand, price: 3.00, capacity: 1000, "
                                          "availability: 0.8}\n"
                                          "workloads:\n"
                                          "  - {id: w, kind: training, demand: 100, "
                                          "throughput: {H100: 1.0}}\n",
                          false);
    assert_optimal(&r, 270000.0);
    assert_x(&r, 0, "w", "cheap", 60.0);
    assert_x(&r, 0, "w", "dear", 50.0);
    solved_free(&r);
}

/* ---- (3a) take-or-pay: the unused commitment is paid as a top-up -------------------------- */

/* Provider az has a 500,000 USD commitment; its offering costs 2.00 and holds only 100
 * accelerators. Provider cw sells at 1.00 (half the price). Demand 100 H100e.
 * Total cost = 1000 * 1.00 * x_cw + max(500,000, 1000 * 2.00 * x_az): az's money is sunk,
 * so each az accelerator up to the commitment costs nothing extra, while each cw one costs
 * 1000 USD. With x_az <= 100 and x_az + x_cw >= 100 the cost is 500,000 + 1000 x_cw,
 * least at x_cw = 0, x_az = 100.
 * az spend = 2.00 * 1000 * 100 = 200,000 USD, top-up y = 500,000 - 200,000 = 300,000 USD,
 * objective = 200,000 + 300,000 = 500,000 USD. (Buying everything at cw would cost
 * 100,000 + 500,000 = 600,000.) The capacity of 100 makes x_az unique: with more az
 * capacity any x_az in [100, 250] would be optimal. */
Test(hand, commitment_topup_paid)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "providers:\n"
                                          "  - {id: az, commitment: 500000}\n"
                                          "  - {id: cw}\n"
                                          "regions:\n"
                                          "  - {id: az-us, provider: az, geo: us}\n"
                                          "  - {id: cw-us, provider: cw, geo: us}\n"
                                          "offerings:\n"
                                          "  - {id: az-h100, region: az-us, accelerator: H100, "
                                          "pricing: reserved, price: 2.00, capacity: 100}\n"
                                          "  - {id: cw-h100, region: cw-us, accelerator: H100, "
                                          "pricing: on_demand, price: 1.00, capacity: 1000}\n"
                                          "workloads:\n"
                                          "  - {id: w, kind: training, demand: 100, "
                                          "throughput: {H100: 1.0}}\n",
                          false);
    assert_optimal(&r, 500000.0);
    assert_x(&r, 0, "w", "az-h100", 100.0);
    assert_x(&r, 0, "w", "cw-h100", 0.0);
    assert_near(topup_of(&r, "az"), 300000.0, "topup[az]");
    assert_near(r.plan->topup_usd, 300000.0, "topup_usd");
    assert_near(r.plan->capacity_usd, 200000.0, "capacity_usd");
    solved_free(&r);
}

/* ---- (3b) take-or-pay pulls spend toward the committed provider ------------------------- */

/* az (commitment 120,000 USD) sells at 3.00, cw at 2.00; both have ample capacity.
 * Demand 100 H100e: x_az + x_cw = 100 (over-buying only adds cost).
 * Cost(x_az) = 2000 (100 - x_az) + max(120,000, 3000 x_az).
 *   x_az <= 40: cost = 200,000 - 2000 x_az + 120,000, falling in x_az;
 *   x_az >= 40: cost = 200,000 + 1000 x_az, rising.
 * Optimum at x_az = 40 (az spend exactly 3.00 * 1000 * 40 = 120,000, top-up 0), x_cw = 60:
 * cost = 120,000 + 120,000 = 240,000 USD. The naive plan (all cw, pay the commitment
 * unused) would cost 200,000 + 120,000 = 320,000 USD. */
Test(hand, commitment_pulls_spend)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "providers:\n"
                                          "  - {id: az, commitment: 120000}\n"
                                          "  - {id: cw}\n"
                                          "regions:\n"
                                          "  - {id: az-us, provider: az, geo: us}\n"
                                          "  - {id: cw-us, provider: cw, geo: us}\n"
                                          "offerings:\n"
                                          "  - {id: az-h100, region: az-us, accelerator: H100, "
                                          "pricing: reserved, price: 3.00, capacity: 1000}\n"
                                          "  - {id: cw-h100, region: cw-us, accelerator: H100, "
                                          "pricing: on_demand, price: 2.00, capacity: 1000}\n"
                                          "workloads:\n"
                                          "  - {id: w, kind: training, demand: 100, "
                                          "throughput: {H100: 1.0}}\n",
                          false);
    assert_optimal(&r, 240000.0);
    assert_x(&r, 0, "w", "az-h100", 40.0);
    assert_x(&r, 0, "w", "cw-h100", 60.0);
    assert_near(topup_of(&r, "az"), 0.0, "topup[az]");
    solved_free(&r);
}

/* ---- (3c) take-or-pay is over the whole horizon, not per period ------------------------- */

/* Two periods of 1000 hours, demand 100 H100e in each. az (commitment 300,000 USD) sells at
 * 2.00 in both periods, cw at 1.00. All az accelerators, in either period, count toward the
 * same commitment: cost = 1000 (x_cw1 + x_cw2) + max(300,000, 2000 (x_az1 + x_az2)).
 * With x_az1 + x_az2 = A <= 150 (the point where az spend reaches the commitment) every az
 * accelerator saves one cw accelerator at no extra cost: cost = 300,000 + 1000 (200 - A),
 * falling in A. Past A = 150 each az accelerator costs 2000 and saves 1000. So A = 150,
 * x_cw1 + x_cw2 = 50, top-up 0, cost = 300,000 + 50,000 = 350,000 USD.
 * How A splits between the periods is degenerate (any x_az1 in [50, 100]); assert only the
 * sums. A per-period commitment reading would give something else. */
Test(hand, commitment_over_horizon)
{
    solved r = solve_yaml("version: 1\n"
                          "name: hand\n"
                          "reference: H100\n"
                          "periods:\n"
                          "  - {id: p1, hours: 1000}\n"
                          "  - {id: p2, hours: 1000}\n"
                          "accelerators:\n"
                          "  - {id: H100}\n"
                          "providers:\n"
                          "  - {id: az, commitment: 300000}\n"
                          "  - {id: cw}\n"
                          "regions:\n"
                          "  - {id: az-us, provider: az, geo: us}\n"
                          "  - {id: cw-us, provider: cw, geo: us}\n"
                          "offerings:\n"
                          "  - {id: az-h100, region: az-us, accelerator: H100, "
                          "pricing: reserved, price: 2.00, capacity: 1000}\n"
                          "  - {id: cw-h100, region: cw-us, accelerator: H100, "
                          "pricing: on_demand, price: 1.00, capacity: 1000}\n"
                          "workloads:\n"
                          "  - {id: w, kind: training, demand: [100, 100], "
                          "throughput: {H100: 1.0}}\n",
                          false);
    assert_optimal(&r, 350000.0);
    double az = x_of(&r, 0, "w", "az-h100") + x_of(&r, 1, "w", "az-h100");
    double cw = x_of(&r, 0, "w", "cw-h100") + x_of(&r, 1, "w", "cw-h100");
    assert_near(az, 150.0, "az accelerators over both periods");
    assert_near(cw, 50.0, "cw accelerators over both periods");
    assert_near(topup_of(&r, "az"), 0.0, "topup[az]");
    for (int t = 0; t < 2; t++)
        assert_near(cap_plan_delivered(r.scenario, r.plan, 0, t), 100.0, "delivered");
    solved_free(&r);
}

/* ---- (4) max_share binds ---------------------------------------------------------------- */

/* Provider a sells at 1.00 (max_share 0.6), b at 2.00. Demand 100 H100e, eff 1.
 * With D = total delivered >= 100 and a <= 0.6 D, cost = 1000 (a + 2 b) is least with
 * a = 0.6 D, b = 0.4 D: 1000 * 1.4 D, smallest at D = 100. So a = 60, b = 40,
 * cost = 1000 * (60 + 80) = 140,000 USD. */
Test(hand, max_share_binds)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "providers:\n"
                                          "  - {id: a, max_share: 0.6}\n"
                                          "  - {id: b}\n"
                                          "regions:\n"
                                          "  - {id: ra, provider: a, geo: us}\n"
                                          "  - {id: rb, provider: b, geo: us}\n"
                                          "offerings:\n"
                                          "  - {id: a-h100, region: ra, accelerator: H100, "
                                          "pricing: on_demand, price: 1.00, capacity: 1000}\n"
                                          "  - {id: b-h100, region: rb, accelerator: H100, "
                                          "pricing: on_demand, price: 2.00, capacity: 1000}\n"
                                          "workloads:\n"
                                          "  - {id: w, kind: training, demand: 100, "
                                          "throughput: {H100: 1.0}}\n",
                          false);
    assert_optimal(&r, 140000.0);
    assert_x(&r, 0, "w", "a-h100", 60.0);
    assert_x(&r, 0, "w", "b-h100", 40.0);
    solved_free(&r);
}

/* ---- (4b) the share is counted in delivered H100e, not in accelerators ------------------ */

/* Provider a sells GB200 (throughput 2.5) at 4.00 = 1.60 per H100e, max_share 0.5;
 * b sells H100 at 2.00 = 2.00 per H100e. Demand 100 H100e.
 * Share in delivered H100e: 2.5 g <= 0.5 (2.5 g + h). Cost 1000 (4 g + 2 h) with
 * D = 2.5 g + h: a's H100e at 1.6, b's at 2.0, a's part at most half, so
 * cost = 1000 (1.6 * 0.5 D + 2.0 * 0.5 D) = 1800 D, least at D = 100:
 * g = 50 / 2.5 = 20 GB200, h = 50 H100, cost = 1000 (80 + 100) = 180,000 USD.
 * (Counting accelerators instead, g <= h, would give g = h = 100/3.5 and 171,428.57.) */
Test(hand, max_share_counts_delivered_h100e)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "  - {id: GB200}\n"
                                          "providers:\n"
                                          "  - {id: a, max_share: 0.5}\n"
                                          "  - {id: b}\n"
                                          "regions:\n"
                                          "  - {id: ra, provider: a, geo: us}\n"
                                          "  - {id: rb, provider: b, geo: us}\n"
                                          "offerings:\n"
                                          "  - {id: a-gb200, region: ra, accelerator: GB200, "
                                          "pricing: on_demand, price: 4.00, capacity: 1000}\n"
                                          "  - {id: b-h100, region: rb, accelerator: H100, "
                                          "pricing: on_demand, price: 2.00, capacity: 1000}\n"
                                          "workloads:\n"
                                          "  - {id: w, kind: training, demand: 100, "
                                          "throughput: {H100: 1.0, GB200: 2.5}}\n",
                          false);
    assert_optimal(&r, 180000.0);
    assert_x(&r, 0, "w", "a-gb200", 20.0);
    assert_x(&r, 0, "w", "b-h100", 50.0);
    solved_free(&r);
}

/* ---- (5) min_share binds ---------------------------------------------------------------- */

/* Provider a sells at 1.00, b at 2.00 with min_share 0.3. Demand 100 H100e, eff 1.
 * b >= 0.3 D; cost = 1000 (a + 2 b) = 1000 (D + b) >= 1000 * 1.3 D, least at D = 100,
 * b = 30. So a = 70, b = 30, cost = 1000 * (70 + 60) = 130,000 USD. */
Test(hand, min_share_binds)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "providers:\n"
                                          "  - {id: a}\n"
                                          "  - {id: b, min_share: 0.3}\n"
                                          "regions:\n"
                                          "  - {id: ra, provider: a, geo: us}\n"
                                          "  - {id: rb, provider: b, geo: eu}\n"
                                          "offerings:\n"
                                          "  - {id: a-h100, region: ra, accelerator: H100, "
                                          "pricing: on_demand, price: 1.00, capacity: 1000}\n"
                                          "  - {id: b-h100, region: rb, accelerator: H100, "
                                          "pricing: on_demand, price: 2.00, capacity: 1000}\n"
                                          "workloads:\n"
                                          "  - {id: w, kind: training, demand: 100, "
                                          "throughput: {H100: 1.0}}\n",
                          false);
    assert_optimal(&r, 130000.0);
    assert_x(&r, 0, "w", "a-h100", 70.0);
    assert_x(&r, 0, "w", "b-h100", 30.0);
    solved_free(&r);
}

/* ---- (6) power envelope binds: the denser accelerator enters ---------------------------- */

/* One region with power_mw 0.09 = 90 kW. H100: 1.0 kW, 2.00 USD/h, 1 H100e (2.00 per H100e,
 * 1.0 kW per H100e). GB200: 2.0 kW, 6.00 USD/h, 2.5 H100e (2.40 per H100e, 0.8 kW per H100e).
 * Demand 100 H100e. Without the envelope it would be 100 H100 (100 kW): too much power.
 * LP: min 2h + 6g  s.t.  h + 2.5g >= 100 (demand),  h + 2g <= 90 (power).
 * Vertices of the feasible set: (h, g) = (50, 20) where both bind; (0, 40); (0, 45).
 * Costs per hour: 100 + 120 = 220; 240; 270. Optimum h = 50, g = 20:
 * cost = 220 * 1000 = 220,000 USD; power = 50 + 40 = 90 kW, binding. */
Test(hand, power_envelope_binds)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100, power_kw: 1.0}\n"
                                          "  - {id: GB200, power_kw: 2.0}\n"
                                          "providers:\n"
                                          "  - {id: a}\n"
                                          "regions:\n"
                                          "  - {id: ra, provider: a, geo: us, power_mw: 0.09}\n"
                                          "offerings:\n"
                                          "  - {id: h100, region: ra, accelerator: H100, "
                                          "pricing: reserved, price: 2.00, capacity: 1000}\n"
                                          "  - {id: gb200, region: ra, accelerator: GB200, "
                                          "pricing: reserved, price: 6.00, capacity: 1000}\n"
                                          "workloads:\n"
                                          "  - {id: w, kind: training, demand: 100, "
                                          "throughput: {H100: 1.0, GB200: 2.5}}\n",
                          false);
    assert_optimal(&r, 220000.0);
    assert_x(&r, 0, "w", "h100", 50.0);
    assert_x(&r, 0, "w", "gb200", 20.0);
    solved_free(&r);
}

/* ---- (7) spot cap ----------------------------------------------------------------------- */

/* research (max_spot_share 0.25, demand 100) and serve (no max_spot_share: default 0, so
 * no spot at all; demand 50).
 *   spot: 0.50 / 0.8 = 0.625 per delivered H100e (availability 0.8), ample capacity;
 *   od:   2.00 per delivered H100e.
 * research: spot delivered <= 0.25 * 100 = 25 H100e, i.e. 25 / 0.8 = 31.25 accelerators;
 * the rest, 75 H100e, on od. serve: 50 on od.
 * Cost = 1000 * (0.50 * 31.25 + 2.00 * 75 + 2.00 * 50) = 15,625 + 150,000 + 100,000
 *      = 265,625 USD. */
Test(hand, spot_cap)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "providers:\n"
                                          "  - {id: a}\n"
                                          "regions:\n"
                                          "  - {id: ra, provider: a, geo: us}\n"
                                          "offerings:\n"
                                          "  - {id: spot, region: ra, accelerator: H100, "
                                          "pricing: spot, price: 0.50, capacity: 1000, "
                                          "availability: 0.8}\n"
                                          "  - {id: od, region: ra, accelerator: H100, "
                                          "pricing: on_demand, price: 2.00, capacity: 1000}\n"
                                          "workloads:\n"
                                          "  - {id: research, kind: research, demand: 100, "
                                          "throughput: {H100: 1.0}, max_spot_share: 0.25}\n"
                                          "  - {id: serve, kind: inference, demand: 50, "
                                          "throughput: {H100: 1.0}}\n",
                          false);
    assert_optimal(&r, 265625.0);
    assert_x(&r, 0, "research", "spot", 31.25);
    assert_x(&r, 0, "research", "od", 75.0);
    assert_x(&r, 0, "serve", "spot", 0.0);
    assert_x(&r, 0, "serve", "od", 50.0);
    solved_free(&r);
}

/* ---- (8) a penalty cheaper than buying leaves demand unmet ------------------------------ */

/* Demand 100 H100e, penalty 1.50 USD per unmet H100e-hour.
 *   cheap: 1.00 per H100e, capacity 40 -> worth buying (1.00 < 1.50): x = 40;
 *   dear:  2.00 per H100e              -> dearer than the penalty: not bought.
 * u = 60 H100e. Cost = 1000 * (1.00 * 40) + 1.50 * 1000 * 60 = 40,000 + 90,000
 *   = 130,000 USD; unmet H100e-hours = 60 * 1000 = 60,000. */
Test(hand, penalty_cheaper_than_buying)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "providers:\n"
                                          "  - {id: a}\n"
                                          "regions:\n"
                                          "  - {id: ra, provider: a, geo: us}\n"
                                          "offerings:\n"
                                          "  - {id: cheap, region: ra, accelerator: H100, "
                                          "pricing: reserved, price: 1.00, capacity: 40}\n"
                                          "  - {id: dear, region: ra, accelerator: H100, "
                                          "pricing: on_demand, price: 2.00, capacity: 1000}\n"
                                          "workloads:\n"
                                          "  - {id: w, kind: inference, demand: 100, "
                                          "throughput: {H100: 1.0}, penalty: 1.5}\n",
                          false);
    assert_optimal(&r, 130000.0);
    assert_x(&r, 0, "w", "cheap", 40.0);
    assert_x(&r, 0, "w", "dear", 0.0);
    assert_near(unmet_of(&r, 0, "w"), 60.0, "unmet[w]");
    assert_near(r.plan->penalty_usd, 90000.0, "penalty_usd");
    assert_near(r.plan->capacity_usd, 40000.0, "capacity_usd");
    assert_near(r.plan->unmet_h100e_hours, 60000.0, "unmet_h100e_hours");
    /* summary.json splits the period's cost the same way */
    json_t *summary = cap_report_summary(r.scenario, r.plan, false);
    json_t *cost = json_object_get(summary, "cost_usd");
    assert_near(json_number_value(json_object_get(json_object_get(cost, "by_period"), "p1")),
                40000.0, "cost_usd.by_period.p1");
    assert_near(
        json_number_value(json_object_get(json_object_get(cost, "penalty_by_period"), "p1")),
        90000.0, "cost_usd.penalty_by_period.p1");
    json_decref(summary);
    solved_free(&r);
}

/* ---- (9) data residency: a geo allow-list forces a dearer region ------------------------ */

/* chat-eu may only run in geo eu (demand 50); chat-us may run anywhere (demand 100).
 *   us-h100: 1.00 per H100e;  eu-h100: 1.80 per H100e.
 * chat-eu: 50 in eu = 1000 * 1.80 * 50 = 90,000; chat-us: 100 in us = 100,000.
 * Total 190,000 USD. */
Test(hand, geo_residency)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "providers:\n"
                                          "  - {id: a}\n"
                                          "regions:\n"
                                          "  - {id: us-east, provider: a, geo: us}\n"
                                          "  - {id: eu-west, provider: a, geo: eu}\n"
                                          "offerings:\n"
                                          "  - {id: us-h100, region: us-east, accelerator: H100, "
                                          "pricing: on_demand, price: 1.00, capacity: 1000}\n"
                                          "  - {id: eu-h100, region: eu-west, accelerator: H100, "
                                          "pricing: on_demand, price: 1.80, capacity: 1000}\n"
                                          "workloads:\n"
                                          "  - {id: chat-eu, kind: inference, demand: 50, "
                                          "throughput: {H100: 1.0}, geos: [eu]}\n"
                                          "  - {id: chat-us, kind: inference, demand: 100, "
                                          "throughput: {H100: 1.0}}\n",
                          false);
    assert_optimal(&r, 190000.0);
    assert_x(&r, 0, "chat-eu", "eu-h100", 50.0);
    assert_x(&r, 0, "chat-us", "us-h100", 100.0);
    assert_x(&r, 0, "chat-us", "eu-h100", 0.0);
    solved_free(&r);
}

/* ---- (10) provider allow-list ----------------------------------------------------------- */

/* Providers a (1.00), c (1.20, capacity 60), b (1.50). w1 may use only [b, c] (demand 100);
 * w2 may use any provider (demand 50).
 * w2: a is cheapest and unlimited -> 50 on a = 50,000 (it has no reason to take c).
 * w1: c first, capacity 60 -> 1000 * 1.20 * 60 = 72,000; the other 40 on b
 *     -> 1000 * 1.50 * 40 = 60,000.
 * Total 50,000 + 72,000 + 60,000 = 182,000 USD. */
Test(hand, provider_allow_list)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "providers:\n"
                                          "  - {id: a}\n"
                                          "  - {id: b}\n"
                                          "  - {id: c}\n"
                                          "regions:\n"
                                          "  - {id: ra, provider: a, geo: us}\n"
                                          "  - {id: rb, provider: b, geo: us}\n"
                                          "  - {id: rc, provider: c, geo: us}\n"
                                          "offerings:\n"
                                          "  - {id: a-h100, region: ra, accelerator: H100, "
                                          "pricing: on_demand, price: 1.00, capacity: 1000}\n"
                                          "  - {id: b-h100, region: rb, accelerator: H100, "
                                          "pricing: on_demand, price: 1.50, capacity: 1000}\n"
                                          "  - {id: c-h100, region: rc, accelerator: H100, "
                                          "pricing: on_demand, price: 1.20, capacity: 60}\n"
                                          "workloads:\n"
                                          "  - {id: w1, kind: training, demand: 100, "
                                          "throughput: {H100: 1.0}, providers: [b, c]}\n"
                                          "  - {id: w2, kind: training, demand: 50, "
                                          "throughput: {H100: 1.0}}\n",
                          false);
    assert_optimal(&r, 182000.0);
    assert_x(&r, 0, "w1", "a-h100", 0.0);
    assert_x(&r, 0, "w1", "c-h100", 60.0);
    assert_x(&r, 0, "w1", "b-h100", 40.0);
    assert_x(&r, 0, "w2", "a-h100", 50.0);
    solved_free(&r);
}

/* ---- (11) integer units ----------------------------------------------------------------- */

/* Demand 10 H100e. H100 comes in nodes of 8 at 2.00 (2.00 per H100e); L4 comes one at a
 * time (unit 1) at 0.60 with throughput 0.25 (2.40 per H100e).
 * LP relaxation: 10 H100 = 1000 * 2.00 * 10 = 20,000 USD.
 * Integer: n H100 nodes, the rest on L4 (x_L4 = (10 - 8n) / 0.25 accelerators):
 *   n = 0: 40 L4                = 1000 * 0.60 * 40            = 24,000
 *   n = 1: 8 H100 + 8 L4        = 1000 * (2.00 * 8 + 0.60 * 8) = 20,800  <- optimum
 *   n = 2: 16 H100              = 1000 * 2.00 * 16            = 32,000
 * (n = 1 with fewer than 8 L4 leaves demand uncovered; more L4 only costs more.) */
Test(hand, integer_units_node)
{
    const char *yaml = HEAD_ONE_PERIOD "accelerators:\n"
                                       "  - {id: H100, unit: 8}\n"
                                       "  - {id: L4, unit: 1}\n"
                                       "providers:\n"
                                       "  - {id: a}\n"
                                       "regions:\n"
                                       "  - {id: ra, provider: a, geo: us}\n"
                                       "offerings:\n"
                                       "  - {id: h100, region: ra, accelerator: H100, "
                                       "pricing: on_demand, price: 2.00, capacity: 1000}\n"
                                       "  - {id: l4, region: ra, accelerator: L4, "
                                       "pricing: on_demand, price: 0.60, capacity: 1000}\n"
                                       "workloads:\n"
                                       "  - {id: w, kind: inference, demand: 10, "
                                       "throughput: {H100: 1.0, L4: 0.25}}\n";
    solved lp = solve_yaml(yaml, false);
    assert_optimal(&lp, 20000.0);
    assert_x(&lp, 0, "w", "h100", 10.0);
    assert_x(&lp, 0, "w", "l4", 0.0);
    solved_free(&lp);

    solved mip = solve_yaml(yaml, true);
    assert_optimal(&mip, 20800.0);
    assert_x(&mip, 0, "w", "h100", 8.0);
    assert_x(&mip, 0, "w", "l4", 8.0);
    cr_assert_not_null(mip.plan->units);
    int h100 = cap_scenario_find_offering(mip.scenario, "h100");
    assert_near(mip.plan->units[h100 * mip.plan->period_count + 0], 1.0, "units[h100]");
    solved_free(&mip);
}

/* ---- (11b) integer units: whole NVL72 racks flip the choice ----------------------------- */

/* Demand 100 H100e. GB200 in racks of 72, 5.00 USD/h, throughput 2.5 (2.00 per H100e);
 * H100 in nodes of 8, 2.20 USD/h (2.20 per H100e).
 * LP relaxation: GB200 is cheaper per H100e: 100 / 2.5 = 40 GB200 = 1000 * 5 * 40
 *   = 200,000 USD.
 * Integer: one rack (72 GB200 = 180 H100e) costs 1000 * 5 * 72 = 360,000 on its own.
 * Without a rack: ceil(100 / 8) = 13 nodes = 104 H100 = 1000 * 2.20 * 104 = 228,800 USD.
 * Any plan with a rack costs at least 360,000, so the optimum is 13 H100 nodes, 0 racks. */
static const char rack_yaml[] = HEAD_ONE_PERIOD "accelerators:\n"
                                                "  - {id: H100, unit: 8}\n"
                                                "  - {id: GB200, unit: 72}\n"
                                                "providers:\n"
                                                "  - {id: a}\n"
                                                "regions:\n"
                                                "  - {id: ra, provider: a, geo: us}\n"
                                                "offerings:\n"
                                                "  - {id: h100, region: ra, accelerator: H100, "
                                                "pricing: on_demand, price: 2.20, capacity: 1000}\n"
                                                "  - {id: gb200, region: ra, accelerator: GB200, "
                                                "pricing: on_demand, price: 5.00, capacity: 720}\n"
                                                "workloads:\n"
                                                "  - {id: w, kind: training, demand: 100, "
                                                "throughput: {H100: 1.0, GB200: 2.5}}\n";

Test(hand, integer_units_rack)
{
    const char *yaml = rack_yaml;
    solved lp = solve_yaml(yaml, false);
    assert_optimal(&lp, 200000.0);
    assert_x(&lp, 0, "w", "gb200", 40.0);
    assert_x(&lp, 0, "w", "h100", 0.0);
    solved_free(&lp);

    solved mip = solve_yaml(yaml, true);
    assert_optimal(&mip, 228800.0);
    assert_x(&mip, 0, "w", "h100", 104.0);
    assert_x(&mip, 0, "w", "gb200", 0.0);
    solved_free(&mip);
}

/* ---- (11c) a node limit stops the search where it is ------------------------------------- */

/* The rack scenario of (11b) with the search stopped after its first node. At the root the
 * LP relaxation (200,000 USD, 40/72 of a rack) is the bound, and the rounding heuristic's
 * incumbents are: units rounded up or to nearest = one rack and no H100 node, 72 GB200
 * (180 H100e) for 1000 * 5 * 72 = 360,000 USD; rounded down = nothing, infeasible. So the
 * plan is that one rack, reported feasible with gap (360,000 - 200,000) / 360,000 = 4/9.
 * With room for the whole search the optimum of (11b), 228,800 USD, is found. */
Test(hand, integer_node_limit_stops_at_the_root)
{
    cap_plan_options options;
    cap_plan_options_init(&options);
    options.integer = true;
    options.node_limit = 1;
    solved root = solve_yaml_with(rack_yaml, &options);
    cr_assert_eq(root.plan->status, CAP_PLAN_FEASIBLE, "plan status %s, expected feasible",
                 cap_plan_status_name(root.plan->status));
    assert_near(root.plan->objective_usd, 360000.0, "objective_usd");
    assert_x(&root, 0, "w", "gb200", 72.0);
    assert_x(&root, 0, "w", "h100", 0.0);
    assert_near(root.plan->mip_gap, 4.0 / 9.0, "mip_gap");
    solved_free(&root);

    options.node_limit = 1000;
    solved whole = solve_yaml_with(rack_yaml, &options);
    assert_optimal(&whole, 228800.0);
    solved_free(&whole);
}

/* A search stopped before it has any plan says so, and which limit to raise. On
 * teach-power.yaml the root's roundings all break a power envelope or fall short of the
 * hard demand (GLPK's log: "mip = not found yet" after the root), so one node leaves the
 * search with no plan; the whole search finds one. */
Test(hand, integer_node_limit_before_any_plan)
{
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *s = NULL;
    cr_assert_eq(cap_scenario_load(cap_test_path("scenarios/teach-power.yaml"), &s, &diag), CAP_OK);
    cap_plan_options options;
    cap_plan_options_init(&options);
    options.integer = true;
    options.node_limit = 1;
    cap_plan *plan = NULL;
    cr_assert_eq(cap_plan_solve(s, &options, &plan, &diag), CAP_OK);
    cr_assert_eq(plan->status, CAP_PLAN_UNDEFINED, "plan status %s, expected undefined",
                 cap_plan_status_name(plan->status));
    bool said = false;
    for (int i = 0; i < diag.count; i++)
        said = said || strstr(diag.lines[i], "raise --node-limit") != NULL;
    cr_assert(said, "no word of the node limit");
    cap_plan_free(plan);
    options.node_limit = 0;
    cr_assert_eq(cap_plan_solve(s, &options, &plan, &diag), CAP_OK);
    cr_assert_eq(plan->status, CAP_PLAN_OPTIMAL, "plan status %s, expected optimal",
                 cap_plan_status_name(plan->status));
    cap_plan_free(plan);
    cap_diag_free(&diag);
    cap_scenario_free(s);
}

/* ---- (12) max_served under a budget ----------------------------------------------------- */

/* The market of the max_served tests below, up to the budget. */
#define MAX_SERVED_MARKET                                                                          \
    "accelerators:\n  - {id: H100}\nproviders:\n  - {id: a}\nregions:\n"                           \
    "  - {id: ra, provider: a, geo: us}\nofferings:\n"                                             \
    "  - {id: cheap, region: ra, accelerator: H100, pricing: reserved, price: 1.00, "              \
    "capacity: 50}\n"                                                                              \
    "  - {id: dear, region: ra, accelerator: H100, pricing: on_demand, price: 2.00, "              \
    "capacity: 1000}\n"                                                                            \
    "workloads:\n  - {id: w, kind: inference, demand: 100, throughput: {H100: 1.0}, "              \
    "penalty: 0}\nobjective: max_served\n"

/* objective max_served: minimise unmet H100e-hours, then cost, with cost <= budget.
 * Demand 100 H100e; cheap 1.00 per H100e (capacity 50), dear 2.00 per H100e (ample).
 * The workload's penalty is 0 so that the budget row (capacity + penalty + top-ups) holds
 * the capacity spend only, whichever way penalties are read.
 * Budget 130,000: cheap first, 50 H100e for 50,000; the remaining 80,000 buys
 * 80,000 / 2000 = 40 dear. Served 90, unmet 10 H100e = 10,000 H100e-hours, cost = the
 * whole budget 130,000 USD. (Any other spend serves less per dollar.) */
Test(hand, max_served_budget_binds)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD MAX_SERVED_MARKET "budget: 130000\n", false);
    assert_optimal(&r, 130000.0);
    assert_near(r.plan->unmet_h100e_hours, 10000.0, "unmet_h100e_hours");
    assert_near(unmet_of(&r, 0, "w"), 10.0, "unmet[w]");
    assert_x(&r, 0, "w", "cheap", 50.0);
    assert_x(&r, 0, "w", "dear", 40.0);
    solved_free(&r);
}

/* --export of that model writes its first stage: minimise unmet H100e-hours under every
 * constraint, the budget too. Read back and solved by GLPK's own reader and simplex, its
 * optimum is the 10,000 H100e-hours worked out above (the min-cost model would give
 * 0 USD: buy nothing). */
Test(hand, max_served_export_is_the_first_stage)
{
    cap_scenario *s = cap_test_scenario(HEAD_ONE_PERIOD MAX_SERVED_MARKET "budget: 130000\n");
    char path[] = "/tmp/capplan-export-XXXXXX.lp";
    int fd = mkstemps(path, 3);
    cr_assert(fd >= 0);
    close(fd);
    cap_diag diag;
    cap_diag_init(&diag);
    cr_assert_eq(cap_model_export(s, false, path, &diag), CAP_OK);
    glp_prob *lp = glp_create_prob();
    glp_term_out(GLP_OFF);
    cr_assert_eq(glp_read_lp(lp, NULL, path), 0);
    unlink(path);
    cr_expect_str_eq(glp_get_obj_name(lp), "unmet_h100e_hours");
    cr_expect_eq(glp_get_obj_dir(lp), GLP_MIN);
    glp_smcp parm;
    glp_init_smcp(&parm);
    cr_assert_eq(glp_simplex(lp, &parm), 0);
    cr_assert_eq(glp_get_status(lp), GLP_OPT);
    cr_expect(fabs(glp_get_obj_val(lp) - 10000.0) <= 1e-6, "%.10g", glp_get_obj_val(lp));
    glp_delete_prob(lp);
    cap_diag_free(&diag);
    cap_scenario_free(s);
}

/* Same model with a budget of 1,000,000 USD: everything can be served (unmet 0), and the
 * second phase (least cost among plans that serve everything) picks cheap first:
 * 50 * 1000 * 1.00 + 50 * 1000 * 2.00 = 150,000 USD, not the budget. */
Test(hand, max_served_then_cost)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD MAX_SERVED_MARKET "budget: 1000000\n", false);
    assert_optimal(&r, 150000.0);
    assert_near(r.plan->unmet_h100e_hours, 0.0, "unmet_h100e_hours");
    assert_x(&r, 0, "w", "cheap", 50.0);
    assert_x(&r, 0, "w", "dear", 50.0);
    solved_free(&r);
}

/* ---- (13) hard demand that cannot be met: infeasible, and the diagnosis names it -------- */

/* pretrain needs 100 H100e with no penalty; its only offering holds 60 accelerators. The
 * demand row (>= 100) and the capacity row (<= 60) cannot hold together. serve (demand 10,
 * own offering) is feasible on its own. */
Test(hand, hard_demand_infeasible)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "providers:\n"
                                          "  - {id: a}\n"
                                          "regions:\n"
                                          "  - {id: ra, provider: a, geo: us}\n"
                                          "  - {id: rb, provider: a, geo: eu}\n"
                                          "offerings:\n"
                                          "  - {id: small, region: ra, accelerator: H100, "
                                          "pricing: reserved, price: 2.00, capacity: 60}\n"
                                          "  - {id: eu-h100, region: rb, accelerator: H100, "
                                          "pricing: reserved, price: 2.00, capacity: 100}\n"
                                          "workloads:\n"
                                          "  - {id: pretrain, kind: training, demand: 100, "
                                          "throughput: {H100: 1.0}, geos: [us]}\n"
                                          "  - {id: serve, kind: inference, demand: 10, "
                                          "throughput: {H100: 1.0}, geos: [eu]}\n",
                          false);
    cr_assert_eq(r.plan->status, CAP_PLAN_INFEASIBLE, "plan status %s, expected infeasible",
                 cap_plan_status_name(r.plan->status));
    cr_assert_not_null(r.plan->diagnosis);
    cr_assert(strstr(r.plan->diagnosis, "pretrain") != NULL,
              "diagnosis does not name the demand of pretrain: %s", r.plan->diagnosis);
    /* Stretching the demand by 40 costs 40/100 of its size, the capacity 40/60 of its: the
     * demand stretches, and the capacity row is named as what holds it back. eu-h100 (in
     * geo eu, out of pretrain's reach) plays no part. */
    cr_assert(strstr(r.plan->diagnosis, "short by 40 H100e") != NULL, "%s", r.plan->diagnosis);
    cr_assert(strstr(r.plan->diagnosis, "binding constraints:\n  capacity of offering 'small' "
                                        "in p1 (60 accelerators)\n") != NULL,
              "diagnosis does not name the capacity of small: %s", r.plan->diagnosis);
    cr_assert(strstr(r.plan->diagnosis, "eu-h100") == NULL, "%s", r.plan->diagnosis);
    solved_free(&r);
}

/* A hard workload with nowhere to run: chat-eu may only use geo eu, and the only eu
 * offering sells GB200, on which chat-eu has no throughput. No x column exists for it, so
 * its demand row reads 0 >= 50 and cannot hold. Still infeasible, still named. */
Test(hand, hard_demand_no_allowed_offering)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "  - {id: GB200}\n"
                                          "providers:\n"
                                          "  - {id: a}\n"
                                          "regions:\n"
                                          "  - {id: ra, provider: a, geo: us}\n"
                                          "  - {id: rb, provider: a, geo: eu}\n"
                                          "offerings:\n"
                                          "  - {id: us-h100, region: ra, accelerator: H100, "
                                          "pricing: reserved, price: 2.00, capacity: 1000}\n"
                                          "  - {id: eu-gb200, region: rb, accelerator: GB200, "
                                          "pricing: reserved, price: 5.00, capacity: 1000}\n"
                                          "workloads:\n"
                                          "  - {id: chat-eu, kind: inference, demand: 50, "
                                          "throughput: {H100: 1.0}, geos: [eu]}\n",
                          false);
    cr_assert_eq(r.plan->status, CAP_PLAN_INFEASIBLE, "plan status %s, expected infeasible",
                 cap_plan_status_name(r.plan->status));
    cr_assert_not_null(r.plan->diagnosis);
    cr_assert(strstr(r.plan->diagnosis, "chat-eu") != NULL,
              "diagnosis does not name the demand of chat-eu: %s", r.plan->diagnosis);
    solved_free(&r);
}

/* ---- (14) throughput ratios decide per workload ----------------------------------------- */

/* H100 at 2.00, GB200 at 6.00 (3x the price).
 * train: GB200 throughput 2.5 -> 6.00 / 2.5 = 2.40 per H100e > 2.00: H100 wins.
 *        100 H100 = 1000 * 2.00 * 100 = 200,000.
 * infer: GB200 throughput 4.0 -> 6.00 / 4.0 = 1.50 per H100e < 2.00: GB200 wins.
 *        100 / 4 = 25 GB200 = 1000 * 6.00 * 25 = 150,000.
 * Total 350,000 USD. */
Test(hand, throughput_ratio_per_workload)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "  - {id: GB200}\n"
                                          "providers:\n"
                                          "  - {id: a}\n"
                                          "regions:\n"
                                          "  - {id: ra, provider: a, geo: us}\n"
                                          "offerings:\n"
                                          "  - {id: h100, region: ra, accelerator: H100, "
                                          "pricing: on_demand, price: 2.00, capacity: 1000}\n"
                                          "  - {id: gb200, region: ra, accelerator: GB200, "
                                          "pricing: on_demand, price: 6.00, capacity: 1000}\n"
                                          "workloads:\n"
                                          "  - {id: train, kind: training, demand: 100, "
                                          "throughput: {H100: 1.0, GB200: 2.5}}\n"
                                          "  - {id: infer, kind: inference, demand: 100, "
                                          "throughput: {H100: 1.0, GB200: 4.0}}\n",
                          false);
    assert_optimal(&r, 350000.0);
    assert_x(&r, 0, "train", "h100", 100.0);
    assert_x(&r, 0, "train", "gb200", 0.0);
    assert_x(&r, 0, "infer", "gb200", 25.0);
    assert_x(&r, 0, "infer", "h100", 0.0);
    solved_free(&r);
}

/* ---- (15) several periods with per-period prices, capacities and hours ------------------ */

/* p1: 2000 hours, p2: 1000 hours; demand 100 H100e in each.
 *   A: price [1.00, 1.50], capacity [1000, 50];  B: price 2.00, capacity 1000.
 * p1: A is cheaper and unlimited: 100 A = 1.00 * 2000 * 100 = 200,000.
 * p2: A still cheaper but capped at 50: 50 A = 1.50 * 1000 * 50 = 75,000, plus
 *     50 B = 2.00 * 1000 * 50 = 100,000.
 * Total 375,000 USD. */
Test(hand, multi_period_lists)
{
    solved r = solve_yaml("version: 1\n"
                          "name: hand\n"
                          "reference: H100\n"
                          "periods:\n"
                          "  - {id: p1, hours: 2000}\n"
                          "  - {id: p2, hours: 1000}\n"
                          "accelerators:\n"
                          "  - {id: H100}\n"
                          "providers:\n"
                          "  - {id: a}\n"
                          "regions:\n"
                          "  - {id: ra, provider: a, geo: us}\n"
                          "offerings:\n"
                          "  - {id: A, region: ra, accelerator: H100, pricing: reserved, "
                          "price: [1.00, 1.50], capacity: [1000, 50]}\n"
                          "  - {id: B, region: ra, accelerator: H100, pricing: on_demand, "
                          "price: 2.00, capacity: 1000}\n"
                          "workloads:\n"
                          "  - {id: w, kind: training, demand: [100, 100], "
                          "throughput: {H100: 1.0}}\n",
                          false);
    assert_optimal(&r, 375000.0);
    assert_x(&r, 0, "w", "A", 100.0);
    assert_x(&r, 0, "w", "B", 0.0);
    assert_x(&r, 1, "w", "A", 50.0);
    assert_x(&r, 1, "w", "B", 50.0);
    solved_free(&r);
}

/* ---- (15b) per-period power envelope and share cap -------------------------------------- */

/* Two 1000-hour periods, demand [100, 200]. Provider a (region with power_mw [0.06, 0.5],
 * H100 at 1.0 kW, price 1.00, max_share 0.5); provider b: H100 at 3.00, no envelope.
 * p1: a <= 60 kW -> 60 H100 by power; <= 0.5 * 100 = 50 by share: share binds, a = 50,
 *     b = 50: 1000 * (50 + 150) = 200,000.
 * p2: a <= 500 by power, <= 0.5 * 200 = 100 by share: a = 100, b = 100:
 *     1000 * (100 + 300) = 400,000.
 * Why no over-delivery: with D = a + b delivered, cost per hour = a + 3 (D - a) = 3D - 2a and
 * a <= min(0.5 D, power cap). While 0.5 D is below the power cap the cost is 2D, rising
 * in D; past it, 3D - 2 cap, rising too; so D = demand. Total 600,000 USD.
 * Then p1's power tightened to 0.04 MW: a <= 40 < 0.5 * 100, power binds instead of share:
 * a = 40, b = 60: 1000 * (40 + 180) = 220,000; total 620,000 USD. */
Test(hand, per_period_power_and_share)
{
    const char *fmt = "version: 1\n"
                      "name: hand\n"
                      "reference: H100\n"
                      "periods:\n"
                      "  - {id: p1, hours: 1000}\n"
                      "  - {id: p2, hours: 1000}\n"
                      "accelerators:\n"
                      "  - {id: H100, power_kw: 1.0}\n"
                      "providers:\n"
                      "  - {id: a, max_share: 0.5}\n"
                      "  - {id: b}\n"
                      "regions:\n"
                      "  - {id: ra, provider: a, geo: us, power_mw: [%s, 0.5]}\n"
                      "  - {id: rb, provider: b, geo: us}\n"
                      "offerings:\n"
                      "  - {id: a-h100, region: ra, accelerator: H100, pricing: reserved, "
                      "price: 1.00, capacity: 1000}\n"
                      "  - {id: b-h100, region: rb, accelerator: H100, pricing: on_demand, "
                      "price: 3.00, capacity: 1000}\n"
                      "workloads:\n"
                      "  - {id: w, kind: training, demand: [100, 200], "
                      "throughput: {H100: 1.0}}\n";
    char yaml[2048];

    snprintf(yaml, sizeof yaml, fmt, "0.06");
    solved share = solve_yaml(yaml, false);
    assert_optimal(&share, 600000.0);
    assert_x(&share, 0, "w", "a-h100", 50.0);
    assert_x(&share, 0, "w", "b-h100", 50.0);
    assert_x(&share, 1, "w", "a-h100", 100.0);
    assert_x(&share, 1, "w", "b-h100", 100.0);
    solved_free(&share);

    snprintf(yaml, sizeof yaml, fmt, "0.04");
    solved power = solve_yaml(yaml, false);
    assert_optimal(&power, 620000.0);
    assert_x(&power, 0, "w", "a-h100", 40.0);
    assert_x(&power, 0, "w", "b-h100", 60.0);
    assert_x(&power, 1, "w", "a-h100", 100.0);
    solved_free(&power);
}

/* ---- (16) a degenerate tie: only the objective and the delivered total are unique ------- */

/* A: 2.00 per H100e (eff 1). B: 1.60 with availability 0.8 -> 1.60 / 0.8 = 2.00 per H100e.
 * Demand 100: any mix with x_A + 0.8 x_B = 100 costs 1000 * 2.00 * 100 = 200,000 USD.
 * Over-delivering costs more, so delivered is exactly 100. */
Test(hand, degenerate_tie)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "providers:\n"
                                          "  - {id: a}\n"
                                          "regions:\n"
                                          "  - {id: ra, provider: a, geo: us}\n"
                                          "offerings:\n"
                                          "  - {id: A, region: ra, accelerator: H100, "
                                          "pricing: on_demand, price: 2.00, capacity: 1000}\n"
                                          "  - {id: B, region: ra, accelerator: H100, "
                                          "pricing: on_demand, price: 1.60, capacity: 1000, "
                                          "availability: 0.8}\n"
                                          "workloads:\n"
                                          "  - {id: w, kind: training, demand: 100, "
                                          "throughput: {H100: 1.0}}\n",
                          false);
    assert_optimal(&r, 200000.0);
    assert_near(cap_plan_delivered(r.scenario, r.plan, 0, 0), 100.0, "delivered");
    assert_near(x_of(&r, 0, "w", "A") + 0.8 * x_of(&r, 0, "w", "B"), 100.0, "x_A + 0.8 x_B");
    solved_free(&r);
}

/* ---- (16b) a provider's outage is not an LP derating -------------------------------------- */

/* SPEC §1: eff[o] = availability[o] * (1 - outage[o]) with the offering's own outage; a
 * provider's outage only enters the Monte Carlo. Provider a (outage 0.2) sells at 2.00,
 * b at 2.20. If the provider outage derated, a would cost 2.00 / 0.8 = 2.50 per H100e and
 * lose; per the contract a wins: 100 a = 200,000 USD. */
Test(hand, provider_outage_not_in_lp)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "providers:\n"
                                          "  - {id: a, outage: 0.2}\n"
                                          "  - {id: b}\n"
                                          "regions:\n"
                                          "  - {id: ra, provider: a, geo: us}\n"
                                          "  - {id: rb, provider: b, geo: us}\n"
                                          "offerings:\n"
                                          "  - {id: a-h100, region: ra, accelerator: H100, "
                                          "pricing: on_demand, price: 2.00, capacity: 1000}\n"
                                          "  - {id: b-h100, region: rb, accelerator: H100, "
                                          "pricing: on_demand, price: 2.20, capacity: 1000}\n"
                                          "workloads:\n"
                                          "  - {id: w, kind: training, demand: 100, "
                                          "throughput: {H100: 1.0}}\n",
                          false);
    assert_optimal(&r, 200000.0);
    assert_x(&r, 0, "w", "a-h100", 100.0);
    assert_x(&r, 0, "w", "b-h100", 0.0);
    solved_free(&r);
}

/* ---- (17) zero demand costs nothing, even with a spot cap and a penalty ----------------- */

/* Demand 0: nothing is bought, nothing is unmet, objective 0. */
Test(hand, zero_demand)
{
    solved r = solve_yaml(HEAD_ONE_PERIOD "accelerators:\n"
                                          "  - {id: H100}\n"
                                          "providers:\n"
                                          "  - {id: a}\n"
                                          "regions:\n"
                                          "  - {id: ra, provider: a, geo: us}\n"
                                          "offerings:\n"
                                          "  - {id: spot, region: ra, accelerator: H100, "
                                          "pricing: spot, price: 0.50, capacity: 1000}\n"
                                          "workloads:\n"
                                          "  - {id: w, kind: research, demand: 0, "
                                          "throughput: {H100: 1.0}, max_spot_share: 0.5, "
                                          "penalty: 10}\n",
                          false);
    assert_optimal(&r, 0.0);
    assert_x(&r, 0, "w", "spot", 0.0);
    assert_near(r.plan->unmet_h100e_hours, 0.0, "unmet_h100e_hours");
    solved_free(&r);
}
