/* test_sensitivity.c: shadow prices, reduced costs, ranging and the tornado.
 *
 * Two kinds of check:
 *   - hand-worked duals: tiny scenarios whose dual values follow from the reduced costs of
 *     the basic columns being zero (derivations above each test; periods of 1000 hours, so
 *     a price of p USD per accelerator-hour is 1000 p USD per accelerator over the period);
 *   - finite differences: the objective is re-solved with the right-hand side moved down
 *     and up by a step; the optimal value of an LP is convex in its right-hand side, so the
 *     shadow price must lie between the two one-sided slopes. Run on hand-worked and on
 *     generated scenarios (solver/generate.h), for every kind of row.
 * No expected number is copied from the program's output.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generate.h"
#include "plan.h"
#include "sensitivity.h"
#include "support.h"

/* ---- helpers -------------------------------------------------------------------------- */

static cap_sensitivity *analyze(const cap_scenario *s, bool integer, double tornado_step)
{
    cap_sensitivity_options options;
    cap_sensitivity_options_init(&options);
    options.solve.integer = integer;
    options.tornado_step = tornado_step;
    options.threads = 1;
    cap_diag diag;
    cap_diag_init(&diag);
    cap_sensitivity *r = NULL;
    cap_status rc = cap_sensitivity_analyze(s, &options, &r, &diag);
    for (int i = 0; i < diag.count; i++)
        cr_log_info("%s", diag.lines[i]);
    cap_diag_free(&diag);
    cr_assert_eq(rc, CAP_OK, "cap_sensitivity_analyze did not run");
    cr_assert_not_null(r);
    return r;
}

static const cap_row_sensitivity *row_of(const cap_sensitivity *r, cap_row_kind kind, int a,
                                         int period)
{
    for (int i = 0; i < r->row_count; i++)
        if (r->rows[i].kind == kind && r->rows[i].a == a && r->rows[i].period == period)
            return &r->rows[i];
    cr_assert_fail("no %s row for object %d period %d", cap_row_kind_name(kind), a, period);
    return NULL;
}

static const cap_column_sensitivity *column_of(const cap_sensitivity *r, int w, int o, int t)
{
    for (int i = 0; i < r->column_count; i++)
        if (r->columns[i].w == w && r->columns[i].o == o && r->columns[i].t == t)
            return &r->columns[i];
    cr_assert_fail("no column x[%d,%d,%d]", w, o, t);
    return NULL;
}

/* The scenario of `yaml` with the first `from` in it replaced by `to`. */
static cap_scenario *scenario_replacing(const char *yaml, const char *from, const char *to)
{
    const char *cut = strstr(yaml, from);
    cr_assert_not_null(cut, "no '%s' in the scenario", from);
    size_t size = strlen(yaml) + strlen(to) + 1;
    char *text = malloc(size);
    cr_assert_not_null(text);
    snprintf(text, size, "%.*s%s%s", (int)(cut - yaml), yaml, to, cut + strlen(from));
    cap_scenario *s = cap_test_scenario(text);
    free(text);
    return s;
}

static void assert_near(double actual, double expected, const char *what)
{
    double tolerance = 1e-6 * fmax(1.0, fabs(expected));
    cr_assert(fabs(actual - expected) <= tolerance, "%s: got %.10g, expected %.10g", what, actual,
              expected);
}

static cap_plan *solve(const cap_scenario *s)
{
    cap_plan_options options;
    cap_plan_options_init(&options);
    cap_diag diag;
    cap_diag_init(&diag);
    cap_plan *plan = NULL;
    cr_assert_eq(cap_plan_solve(s, &options, &plan, &diag), CAP_OK);
    cap_diag_free(&diag);
    cr_assert_eq(plan->status, CAP_PLAN_OPTIMAL, "re-solve ended %s",
                 cap_plan_status_name(plan->status));
    return plan;
}

/* What a finite difference measures: the cost, or (max_served) the unmet hours. */
typedef enum { MEASURE_COST, MEASURE_UNMET_HOURS } measure;

/* +INFINITY when the moved scenario is infeasible (a cap moved below what hard demand needs):
 * that side's slope is then unbounded and bounds nothing. */
static double measured(const cap_scenario *s, measure what)
{
    cap_plan_options options;
    cap_plan_options_init(&options);
    options.diagnose = false;
    options.decompose = false; /* exact either way; the block warm start costs 0.2 s on toys */
    cap_diag diag;
    cap_diag_init(&diag);
    cap_plan *plan = NULL;
    cr_assert_eq(cap_plan_solve(s, &options, &plan, &diag), CAP_OK);
    cap_diag_free(&diag);
    double value = INFINITY;
    if (plan->status == CAP_PLAN_OPTIMAL)
        value = what == MEASURE_COST ? plan->objective_usd : plan->unmet_h100e_hours;
    else
        cr_assert_eq(plan->status, CAP_PLAN_INFEASIBLE);
    cap_plan_free(plan);
    return value;
}

/* Moves one scenario parameter by delta; the shadow price under test is d(measure)/d(it). */
typedef void (*mutator)(cap_scenario *s, int a, int period, double delta);

static void move_demand(cap_scenario *s, int a, int t, double d)
{
    s->workloads[a].demand[t] += d;
}
static void move_capacity(cap_scenario *s, int a, int t, double d)
{
    s->offerings[a].capacity[t] += d;
}
static void move_power(cap_scenario *s, int a, int t, double d)
{
    s->regions[a].power_mw[t] += d;
}
static void move_commitment(cap_scenario *s, int a, int t, double d)
{
    (void)t;
    s->providers[a].commitment += d;
}
static void move_budget(cap_scenario *s, int a, int t, double d)
{
    (void)a, (void)t;
    s->budget += d;
}
static void move_max_share(cap_scenario *s, int a, int t, double d)
{
    (void)t;
    s->providers[a].max_share += d;
}
static void move_min_share(cap_scenario *s, int a, int t, double d)
{
    (void)t;
    s->providers[a].min_share += d;
}
static void move_spot_share(cap_scenario *s, int a, int t, double d)
{
    (void)t;
    s->workloads[a].max_spot_share += d;
}

/* z(p - h), z(p), z(p + h): the derivative `expected` must lie between the two one-sided
 * slopes, to the solver's accuracy. `convex` rows (rhs moves) keep their order; shares move
 * coefficients, so either order is accepted there. */
static void finite_difference(const cap_scenario *base, mutator move, int a, int period, double h,
                              double expected, measure what, bool convex, const char *label)
{
    cap_scenario *s = cap_scenario_clone(base);
    double middle = measured(s, what);
    cr_assert(isfinite(middle), "%s: the scenario itself does not solve", label);
    move(s, a, period, -h);
    double below = measured(s, what);
    move(s, a, period, 2 * h);
    double above = measured(s, what);
    cap_scenario_free(s);
    double left = (middle - below) / h, right = (above - middle) / h;
    double tolerance = 1e-7 * fmax(1.0, fabs(middle)) / h + 1e-6 * fabs(expected) + 1e-9;
    double lo = convex ? left : fmin(left, right), hi = convex ? right : fmax(left, right);
    cr_assert(expected >= lo - tolerance && expected <= hi + tolerance,
              "%s: shadow price %.10g outside the one-sided slopes [%.10g, %.10g] (h %g)", label,
              expected, left, right, h);
}

#define HEAD "version: 1\nname: hand\nreference: H100\nperiods:\n  - {id: p1, hours: 1000}\n"

/* ---- demand and capacity ---------------------------------------------------------------- */

/* Demand 100 H100e. cheap: 2.00, capacity 60, binds. dear: 3.00 at availability 0.8, so
 * 3000 / 0.8 = 3750 USD per delivered H100e over the period, covers the rest.
 * Basic columns have zero reduced cost:
 *   dear:  3000 = 0.8 y_demand                 -> y_demand = 3750
 *   cheap: 2000 = y_demand + y_capacity        -> y_capacity = -1750
 * (one more cheap accelerator saves 3750 - 2000). Ranges that keep the basis:
 *   demand: dear x = (d - 60) / 0.8 in [0, 1000]          -> d in [60, 860]
 *   cheap capacity c: dear x = (100 - c) / 0.8 >= 0, x_cheap = c >= 0 -> c in [0, 100]
 *   dear price p: y_capacity = 2000 - 1250 p <= 0        -> p >= 1.6; no upper limit
 *   cheap price q: 1000 q - 3750 <= 0                    -> q <= 3.75; no lower limit. */
static const char two_offerings[] =
    HEAD "accelerators:\n  - {id: H100}\n  - {id: TPU}\n"
         "providers:\n  - {id: a}\n"
         "regions:\n  - {id: ra, provider: a, geo: us}\n"
         "offerings:\n"
         "  - {id: cheap, region: ra, accelerator: H100, pricing: reserved, price: 2.00, "
         "capacity: 60}\n"
         "  - {id: dear, region: ra, accelerator: H100, pricing: on_demand, price: 3.00, "
         "capacity: 1000, availability: 0.8}\n"
         "workloads:\n  - {id: w, kind: training, demand: 100, throughput: {H100: 1.0}}\n";

Test(sensitivity, demand_and_capacity_by_hand)
{
    cap_scenario *s = cap_test_scenario(two_offerings);
    cap_sensitivity *r = analyze(s, false, 0.0);
    cr_assert_eq(r->status, CAP_PLAN_OPTIMAL);
    cr_assert(r->ranging);
    const cap_row_sensitivity *demand = row_of(r, CAP_ROW_DEMAND, 0, 0);
    const cap_row_sensitivity *capacity = row_of(r, CAP_ROW_CAPACITY, 0, 0);
    assert_near(demand->shadow_price, 3750.0, "demand shadow price");
    assert_near(capacity->shadow_price, -1750.0, "cheap capacity shadow price");
    assert_near(demand->rhs_low, 60.0, "demand rhs_low");
    assert_near(demand->rhs_high, 860.0, "demand rhs_high");
    assert_near(capacity->rhs_low, 0.0, "capacity rhs_low");
    assert_near(capacity->rhs_high, 100.0, "capacity rhs_high");
    const cap_column_sensitivity *dear = column_of(r, 0, 1, 0);
    const cap_column_sensitivity *cheap = column_of(r, 0, 0, 0);
    cr_assert(dear->basic && cheap->basic);
    assert_near(dear->price_low, 1.6, "dear price_low");
    cr_assert(isinf(dear->price_high) && dear->price_high > 0, "dear price_high %g",
              dear->price_high);
    assert_near(cheap->price_high, 3.75, "cheap price_high");
    cr_assert(isinf(cheap->price_low) && cheap->price_low < 0);
    finite_difference(s, move_demand, 0, 0, 1.0, demand->shadow_price, MEASURE_COST, true,
                      "demand");
    finite_difference(s, move_capacity, 0, 0, 1.0, capacity->shadow_price, MEASURE_COST, true,
                      "capacity");
    cap_sensitivity_free(r);
    cap_scenario_free(s);
}

/* ---- reduced cost: lowering the price past it makes the offering enter ------------------ */

/* The scenario above plus tpu: 5.00 USD/h, throughput 1, availability 1. Its reduced cost is
 * 5000 - 3750 = 1250 USD per accelerator, so it enters below 5.00 - 1.25 = 3.75 USD/h, and
 * with it in the market dear's price range closes above at 1250 p = 5000 -> p = 4.00. */
static const char three_offerings[] =
    HEAD "accelerators:\n  - {id: H100}\n  - {id: TPU}\n"
         "providers:\n  - {id: a}\n"
         "regions:\n  - {id: ra, provider: a, geo: us}\n"
         "offerings:\n"
         "  - {id: cheap, region: ra, accelerator: H100, pricing: reserved, price: 2.00, "
         "capacity: 60}\n"
         "  - {id: dear, region: ra, accelerator: H100, pricing: on_demand, price: 3.00, "
         "capacity: 1000, availability: 0.8}\n"
         "  - {id: tpu, region: ra, accelerator: TPU, pricing: on_demand, price: 5.00, "
         "capacity: 1000}\n"
         "workloads:\n  - {id: w, kind: training, demand: 100, throughput: {H100: 1.0, TPU: "
         "1.0}}\n";

static double tpu_accelerators_at(const cap_scenario *base, double price)
{
    cap_scenario *s = cap_scenario_clone(base);
    s->offerings[2].price[0] = price;
    cap_plan *plan = solve(s);
    double x = plan->x[cap_plan_index(plan, 0, 0, 2)];
    cap_plan_free(plan);
    cap_scenario_free(s);
    return x;
}

Test(sensitivity, reduced_cost_entry_price)
{
    cap_scenario *s = cap_test_scenario(three_offerings);
    cap_sensitivity *r = analyze(s, false, 0.0);
    const cap_column_sensitivity *tpu = column_of(r, 0, 2, 0);
    cr_assert(!tpu->basic);
    assert_near(tpu->reduced_cost, 1250.0, "tpu reduced cost (USD per accelerator)");
    assert_near(tpu->price_low, 3.75, "tpu price_low (USD per accelerator-hour)");
    cr_assert(isinf(tpu->price_high));
    assert_near(column_of(r, 0, 1, 0)->price_high, 4.0, "dear price_high");
    cr_assert_eq(tpu_accelerators_at(s, tpu->price_low + 0.01), 0.0, "entered above its price");
    cr_assert_gt(tpu_accelerators_at(s, tpu->price_low - 0.01), 1.0, "did not enter below");
    cap_sensitivity_free(r);
    cap_scenario_free(s);
}

/* ---- power ------------------------------------------------------------------------------ */

/* Region ra has 0.1 MW = 100 kW; its offering A (2.00, 1 kW per accelerator) can hold 100
 * accelerators. B (3.00) is in a region without an envelope. Demand 150:
 *   B basic: 3000 = y_demand; A basic: 2000 = y_demand + 1.0 y_power -> y_power = -1000 USD
 *   per kW = -1,000,000 USD per MW (one more MW lets 1000 A replace 1000 B). */
static const char power_scenario[] =
    HEAD "accelerators:\n  - {id: H100, power_kw: 1.0}\n"
         "providers:\n  - {id: a}\n  - {id: b}\n"
         "regions:\n  - {id: ra, provider: a, geo: us, power_mw: 0.1}\n"
         "  - {id: rb, provider: b, geo: us}\n"
         "offerings:\n"
         "  - {id: A, region: ra, accelerator: H100, pricing: reserved, price: 2.00, "
         "capacity: 1000}\n"
         "  - {id: B, region: rb, accelerator: H100, pricing: reserved, price: 3.00, "
         "capacity: 1000}\n"
         "workloads:\n  - {id: w, kind: training, demand: 150, throughput: {H100: 1.0}}\n";

Test(sensitivity, power_per_mw_by_hand)
{
    cap_scenario *s = cap_test_scenario(power_scenario);
    cap_sensitivity *r = analyze(s, false, 0.0);
    const cap_row_sensitivity *power = row_of(r, CAP_ROW_POWER, 0, 0);
    assert_near(power->shadow_price, -1e6, "power shadow price (USD per MW)");
    assert_near(power->rhs, 0.1, "power rhs (MW)");
    assert_near(power->activity, 0.1, "power activity (MW)");
    assert_near(power->rhs_high, 0.15, "power rhs_high (B reaches 0 at 150 kW)");
    finite_difference(s, move_power, 0, 0, 0.001, power->shadow_price, MEASURE_COST, true, "power");
    cap_sensitivity_free(r);
    cap_scenario_free(s);
}

/* ---- shares ----------------------------------------------------------------------------- */

/* a sells at 2.00 with max_share 0.6, b at 3.00; demand 100, so x_a = 60, x_b = 40.
 * Share row: x_a - 0.6 (x_a + x_b) <= 0.
 *   a: 2000 = y_d + 0.4 y_s; b: 3000 = y_d - 0.6 y_s  ->  y_s = -1000, y_d = 2400
 * Per unit of share: moving the cap by ds moves 100 ds H100e from b to a, saving 1000 each:
 * -1000 * 100 = -100,000 USD per unit of share (-1000 per percentage point). */
static const char max_share_scenario[] =
    HEAD "accelerators:\n  - {id: H100}\n"
         "providers:\n  - {id: a, max_share: 0.6}\n  - {id: b}\n"
         "regions:\n  - {id: ra, provider: a, geo: us}\n  - {id: rb, provider: b, geo: us}\n"
         "offerings:\n"
         "  - {id: A, region: ra, accelerator: H100, pricing: reserved, price: 2.00, "
         "capacity: 1000}\n"
         "  - {id: B, region: rb, accelerator: H100, pricing: reserved, price: 3.00, "
         "capacity: 1000}\n"
         "workloads:\n  - {id: w, kind: training, demand: 100, throughput: {H100: 1.0}}\n";

Test(sensitivity, max_share_by_hand)
{
    cap_scenario *s = cap_test_scenario(max_share_scenario);
    cap_sensitivity *r = analyze(s, false, 0.0);
    const cap_row_sensitivity *share = row_of(r, CAP_ROW_MAX_SHARE, 0, 0);
    assert_near(share->shadow_price, -1e5, "max_share shadow price (USD per unit share)");
    assert_near(share->rhs, 0.6, "max_share rhs");
    assert_near(share->activity, 0.6, "a's share");
    assert_near(row_of(r, CAP_ROW_DEMAND, 0, 0)->shadow_price, 2400.0, "demand shadow price");
    finite_difference(s, move_max_share, 0, 0, 0.01, share->shadow_price, MEASURE_COST, false,
                      "max_share");
    cap_sensitivity_free(r);
    cap_scenario_free(s);
}

/* b (3.00) must hold min_share 0.3 against a (2.00); demand 100: x_b = 30, x_a = 70.
 * Row: x_b - 0.3 (x_a + x_b) >= 0.
 *   a: 2000 = y_d - 0.3 y_m; b: 3000 = y_d + 0.7 y_m  ->  y_m = 1000, y_d = 2300
 * Per unit of share: 1000 * 100 = 100,000 USD. */
static const char min_share_scenario[] =
    HEAD "accelerators:\n  - {id: H100}\n"
         "providers:\n  - {id: a}\n  - {id: b, min_share: 0.3}\n"
         "regions:\n  - {id: ra, provider: a, geo: us}\n  - {id: rb, provider: b, geo: us}\n"
         "offerings:\n"
         "  - {id: A, region: ra, accelerator: H100, pricing: reserved, price: 2.00, "
         "capacity: 1000}\n"
         "  - {id: B, region: rb, accelerator: H100, pricing: reserved, price: 3.00, "
         "capacity: 1000}\n"
         "workloads:\n  - {id: w, kind: training, demand: 100, throughput: {H100: 1.0}}\n";

Test(sensitivity, min_share_by_hand)
{
    cap_scenario *s = cap_test_scenario(min_share_scenario);
    cap_sensitivity *r = analyze(s, false, 0.0);
    const cap_row_sensitivity *share = row_of(r, CAP_ROW_MIN_SHARE, 1, 0);
    assert_near(share->shadow_price, 1e5, "min_share shadow price");
    assert_near(row_of(r, CAP_ROW_DEMAND, 0, 0)->shadow_price, 2300.0, "demand shadow price");
    finite_difference(s, move_min_share, 1, 0, 0.01, share->shadow_price, MEASURE_COST, false,
                      "min_share");
    cap_sensitivity_free(r);
    cap_scenario_free(s);
}

/* ---- commitment ------------------------------------------------------------------------- */

/* az (commitment C = 120,000) sells at 3.00, cw at 2.00; demand 100. At the optimum az's
 * spend is exactly C: x_az = C / 3000, x_cw = 100 - C / 3000, cost = C + 2000 x_cw =
 * 200,000 + C / 3, so the commitment's shadow price is 1/3 USD per USD. Duals agree:
 * cw: 2000 = y_d; az: 3000 = y_d + 3000 y_c -> y_c = 1/3. */
static const char commitment_scenario[] =
    HEAD "accelerators:\n  - {id: H100}\n"
         "providers:\n  - {id: az, commitment: 120000}\n  - {id: cw}\n"
         "regions:\n  - {id: az-us, provider: az, geo: us}\n  - {id: cw-us, provider: cw, geo: "
         "us}\n"
         "offerings:\n"
         "  - {id: az-h100, region: az-us, accelerator: H100, pricing: reserved, price: 3.00, "
         "capacity: 1000}\n"
         "  - {id: cw-h100, region: cw-us, accelerator: H100, pricing: on_demand, price: 2.00, "
         "capacity: 1000}\n"
         "workloads:\n  - {id: w, kind: training, demand: 100, throughput: {H100: 1.0}}\n";

Test(sensitivity, commitment_by_hand)
{
    cap_scenario *s = cap_test_scenario(commitment_scenario);
    cap_sensitivity *r = analyze(s, false, 0.0);
    const cap_row_sensitivity *commitment = row_of(r, CAP_ROW_COMMITMENT, 0, -1);
    assert_near(commitment->shadow_price, 1.0 / 3.0, "commitment shadow price (USD per USD)");
    cr_assert(commitment->binding);
    finite_difference(s, move_commitment, 0, -1, 3000.0, commitment->shadow_price, MEASURE_COST,
                      true, "commitment");
    cap_sensitivity_free(r);
    cap_scenario_free(s);
}

/* ---- spot ------------------------------------------------------------------------------- */

/* Spot at 1.00, on-demand at 2.00, max_spot_share 0.2 of demand 100: spot covers 20 H100e.
 *   od: 2000 = y_d; spot: 1000 = y_d + y_spot -> y_spot = -1000 USD per H100e of spot room.
 * The spot cap's rhs is max_spot_share * demand, so d(cost)/d(max_spot_share) = -1000 * 100. */
static const char spot_scenario[] =
    HEAD "accelerators:\n  - {id: H100}\n"
         "providers:\n  - {id: a}\n"
         "regions:\n  - {id: ra, provider: a, geo: us}\n"
         "offerings:\n"
         "  - {id: spot, region: ra, accelerator: H100, pricing: spot, price: 1.00, "
         "capacity: 1000}\n"
         "  - {id: od, region: ra, accelerator: H100, pricing: on_demand, price: 2.00, "
         "capacity: 1000}\n"
         "workloads:\n  - {id: w, kind: inference, demand: 100, max_spot_share: 0.2, "
         "throughput: {H100: 1.0}}\n";

Test(sensitivity, spot_by_hand)
{
    cap_scenario *s = cap_test_scenario(spot_scenario);
    cap_sensitivity *r = analyze(s, false, 0.0);
    const cap_row_sensitivity *spot = row_of(r, CAP_ROW_SPOT, 0, 0);
    assert_near(spot->shadow_price, -1000.0, "spot shadow price (USD per H100e)");
    assert_near(spot->rhs, 20.0, "spot rhs (H100e)");
    finite_difference(s, move_spot_share, 0, 0, 0.01, spot->shadow_price * 100.0, MEASURE_COST,
                      true, "spot");
    cap_sensitivity_free(r);
    cap_scenario_free(s);
}

/* The same market without a spot allowance (max_spot_share 0, the default): the spot row
 * reads 1.0 * x_spot <= 0, so spot stays at 0 whatever it costs and the plan's price range
 * is unlimited both ways (a degenerate basis would give a finite one). At a price of 0.01
 * it indeed stays out. */
Test(sensitivity, spot_without_allowance_never_enters)
{
    cap_scenario *s = scenario_replacing(spot_scenario, "max_spot_share: 0.2, ", "");
    cap_sensitivity *r = analyze(s, false, 0.0);
    const cap_column_sensitivity *spot = column_of(r, 0, 0, 0);
    cr_assert_eq(spot->accelerators, 0.0);
    cr_assert(spot->price_low == -INFINITY, "spot price_low %g, expected -inf", spot->price_low);
    cr_assert(spot->price_high == INFINITY, "spot price_high %g, expected inf", spot->price_high);
    cap_sensitivity_free(r);
    s->offerings[0].price[0] = 0.01;
    cap_plan *plan = solve(s);
    cr_assert_eq(plan->x[cap_plan_index(plan, 0, 0, 0)], 0.0);
    cap_plan_free(plan);
    cap_scenario_free(s);
}

/* ---- budget (max_served) ---------------------------------------------------------------- */

/* max_served with budget 100,000 USD, one offering at 2.00 (2000 USD per accelerator over
 * the period), demand 100, penalty 0 (so unmet demand costs nothing against the budget).
 * Phase 1 minimises unmet hours: x = 50, unmet 50 H100e = 50,000 H100e-hours; each extra
 * USD buys 1/2000 accelerator for 1000 hours: d(unmet hours)/d(budget) = -0.5. Duals:
 * u: 1000 = y_d; x: 0 = y_d + 2000 y_b -> y_b = -0.5. */
static const char budget_scenario[] =
    HEAD "accelerators:\n  - {id: H100}\n"
         "providers:\n  - {id: a}\n"
         "regions:\n  - {id: ra, provider: a, geo: us}\n"
         "offerings:\n"
         "  - {id: A, region: ra, accelerator: H100, pricing: reserved, price: 2.00, "
         "capacity: 1000}\n"
         "workloads:\n  - {id: w, kind: training, demand: 100, penalty: 0, "
         "throughput: {H100: 1.0}}\n"
         "objective: max_served\nbudget: 100000\n";

Test(sensitivity, budget_max_served_by_hand)
{
    cap_scenario *s = cap_test_scenario(budget_scenario);
    cap_sensitivity *r = analyze(s, false, 0.0);
    cr_assert(r->max_served);
    const cap_row_sensitivity *budget = row_of(r, CAP_ROW_BUDGET, -1, -1);
    assert_near(budget->unmet_hours_price, -0.5, "budget: unmet H100e-hours per USD");
    finite_difference(s, move_budget, -1, -1, 2000.0, budget->unmet_hours_price,
                      MEASURE_UNMET_HOURS, true, "budget");
    row_of(r, CAP_ROW_SERVED, -1, -1); /* phase 2 keeps phase 1's optimum as a row */
    cap_sensitivity_free(r);
    cap_scenario_free(s);
}

/* ---- generated scenarios: every binding row against finite differences ------------------ */

/* Largest |shadow price| first, at most `most` rows of `kind`. */
static int pick_rows(const cap_sensitivity *r, cap_row_kind kind, const cap_row_sensitivity **out,
                     int most)
{
    int count = 0;
    for (int i = 0; i < r->row_count; i++) {
        const cap_row_sensitivity *row = &r->rows[i];
        if (row->kind != kind || fabs(row->shadow_price) < 1e-6)
            continue;
        /* insertion into the sorted top list; a row smaller than a full list's last drops */
        int at = count < most ? count++ : most;
        while (at > 0 && fabs(out[at - 1]->shadow_price) < fabs(row->shadow_price)) {
            if (at < most)
                out[at] = out[at - 1];
            at--;
        }
        if (at < most)
            out[at] = row;
    }
    return count;
}

/* A share cap or a spot share applies to every period: its derivative is the sum over the
 * periods of the per-period shadow prices (spot: times the period's demand). */
static double all_periods(const cap_sensitivity *r, const cap_scenario *s, cap_row_kind kind, int a)
{
    double sum = 0.0;
    for (int i = 0; i < r->row_count; i++)
        if (r->rows[i].kind == kind && r->rows[i].a == a)
            sum += r->rows[i].shadow_price *
                   (kind == CAP_ROW_SPOT ? s->workloads[a].demand[r->rows[i].period] : 1.0);
    return sum;
}

static int check_kind(const cap_scenario *s, const cap_sensitivity *r, cap_row_kind kind)
{
    const cap_row_sensitivity *rows[2];
    int count = pick_rows(r, kind, rows, 2);
    for (int i = 0; i < count; i++) {
        const cap_row_sensitivity *row = rows[i];
        char label[128];
        snprintf(label, sizeof label, "generated %s[%d,%d]", cap_row_kind_name(kind), row->a,
                 row->period);
        double rhs = fmax(1.0, fabs(row->rhs));
        switch (kind) {
        case CAP_ROW_DEMAND:
            finite_difference(s, move_demand, row->a, row->period, 1e-3 * rhs, row->shadow_price,
                              MEASURE_COST, true, label);
            break;
        case CAP_ROW_CAPACITY:
            finite_difference(s, move_capacity, row->a, row->period, 1e-3 * rhs, row->shadow_price,
                              MEASURE_COST, true, label);
            break;
        case CAP_ROW_POWER:
            finite_difference(s, move_power, row->a, row->period, 1e-3 * rhs, row->shadow_price,
                              MEASURE_COST, true, label);
            break;
        case CAP_ROW_COMMITMENT:
            finite_difference(s, move_commitment, row->a, -1, 1e-4 * rhs, row->shadow_price,
                              MEASURE_COST, true, label);
            break;
        case CAP_ROW_MAX_SHARE:
            finite_difference(s, move_max_share, row->a, -1, 1e-4, all_periods(r, s, kind, row->a),
                              MEASURE_COST, false, label);
            break;
        case CAP_ROW_MIN_SHARE:
            finite_difference(s, move_min_share, row->a, -1, 1e-4, all_periods(r, s, kind, row->a),
                              MEASURE_COST, false, label);
            break;
        case CAP_ROW_SPOT:
            finite_difference(s, move_spot_share, row->a, -1, 1e-4, all_periods(r, s, kind, row->a),
                              MEASURE_COST, true, label);
            break;
        default:
            break;
        }
    }
    return count;
}

/* A generated scenario (into *s) and its analysis, which must be optimal and ranged. */
static cap_sensitivity *analyze_generated(int workloads, int offerings, int periods, uint64_t seed,
                                          cap_scenario **s)
{
    cap_generate_options g = {workloads, offerings, periods, seed};
    cap_diag diag;
    cap_diag_init(&diag);
    cr_assert_eq(cap_scenario_generate(&g, s, &diag), CAP_OK);
    cap_diag_free(&diag);
    cap_sensitivity *r = analyze(*s, false, 0.0);
    cr_assert_eq(r->status, CAP_PLAN_OPTIMAL);
    cr_assert(r->ranging);
    return r;
}

/* Checks the binding rows of a generated scenario; returns a bit per row kind checked. */
static unsigned generated_check(int workloads, int offerings, int periods, uint64_t seed)
{
    cap_scenario *s = NULL;
    cap_sensitivity *r = analyze_generated(workloads, offerings, periods, seed, &s);
    unsigned checked = 0;
    static const cap_row_kind kinds[] = {CAP_ROW_DEMAND,     CAP_ROW_CAPACITY,  CAP_ROW_POWER,
                                         CAP_ROW_COMMITMENT, CAP_ROW_MAX_SHARE, CAP_ROW_MIN_SHARE,
                                         CAP_ROW_SPOT};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        if (check_kind(s, r, kinds[k]) > 0)
            checked |= 1u << kinds[k];
    /* Complementary slackness: a non-basic column never has a negative reduced cost at a
     * minimum, and a basic one has none at all. */
    for (int i = 0; i < r->column_count; i++) {
        const cap_column_sensitivity *c = &r->columns[i];
        double scale = 1e-7 * fmax(1.0, c->price * 2208.0);
        cr_assert(c->reduced_cost >= -scale, "negative reduced cost %g", c->reduced_cost);
        if (c->basic)
            cr_assert(fabs(c->reduced_cost) <= scale, "basic column with reduced cost %g",
                      c->reduced_cost);
        if (!c->basic && isfinite(c->price_low))
            cr_assert(c->price_low <= c->price + 1e-9, "price_low above the price");
    }
    cap_sensitivity_free(r);
    cap_scenario_free(s);
    return checked;
}

#define KIND_BIT(kind) (1u << (kind))

/* Seeds picked (by scanning) so that between them every row kind binds somewhere. */
Test(sensitivity, generated_demand_capacity_power_commitment_spot)
{
    unsigned checked = generated_check(6, 12, 2, 3);
    unsigned wanted = KIND_BIT(CAP_ROW_DEMAND) | KIND_BIT(CAP_ROW_CAPACITY) |
                      KIND_BIT(CAP_ROW_POWER) | KIND_BIT(CAP_ROW_COMMITMENT) |
                      KIND_BIT(CAP_ROW_SPOT);
    cr_assert_eq(checked & wanted, wanted, "kinds checked: %#x", checked);
}

Test(sensitivity, generated_min_share)
{
    cr_assert(generated_check(6, 12, 2, 6) & KIND_BIT(CAP_ROW_MIN_SHARE));
}

Test(sensitivity, generated_max_share)
{
    cr_assert(generated_check(8, 20, 2, 5) & KIND_BIT(CAP_ROW_MAX_SHARE));
}

/* ---- fast price ranging agrees with glp_analyze_coef ------------------------------------ */

static bool same_limit(double a, double b)
{
    if (isinf(a) || isinf(b))
        return a == b;
    return fabs(a - b) <= 1e-7 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

Test(sensitivity, fast_ranging_equals_glpk)
{
    cap_generate_options g = {10, 30, 3, 11};
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *s = NULL;
    cr_assert_eq(cap_scenario_generate(&g, &s, &diag), CAP_OK);
    cap_sensitivity_options options;
    cap_sensitivity_options_init(&options);
    options.tornado_step = 0.0;
    cap_sensitivity *fast = NULL, *glpk = NULL;
    cr_assert_eq(cap_sensitivity_analyze(s, &options, &fast, &diag), CAP_OK);
    options.glpk_ranging = true;
    cr_assert_eq(cap_sensitivity_analyze(s, &options, &glpk, &diag), CAP_OK);
    cr_assert_eq(fast->column_count, glpk->column_count);
    int basic = 0;
    for (int i = 0; i < fast->column_count; i++) {
        const cap_column_sensitivity *a = &fast->columns[i], *b = &glpk->columns[i];
        cr_assert_eq(a->basic, b->basic);
        basic += a->basic;
        cr_assert(same_limit(a->price_low, b->price_low) &&
                      same_limit(a->price_high, b->price_high),
                  "column %d: [%.12g, %.12g] vs glp_analyze_coef [%.12g, %.12g]", i, a->price_low,
                  a->price_high, b->price_low, b->price_high);
    }
    cr_assert_gt(basic, 10);
    cap_sensitivity_free(fast);
    cap_sensitivity_free(glpk);
    cap_diag_free(&diag);
    cap_scenario_free(s);
}

/* ---- offering price ranges ------------------------------------------------------------ */

static const cap_offering_sensitivity *offering_of(const cap_sensitivity *r, int o, int t)
{
    for (int i = 0; i < r->offering_count; i++)
        if (r->offerings[i].o == o && r->offerings[i].t == t)
            return &r->offerings[i];
    cr_assert_fail("no price range for offering %d period %d", o, t);
    return NULL;
}

/* Two workloads of 75 H100e (penalty 5 USD per H100e-hour) on a (1 USD/h, 100) and b (2
 * USD/h, 100): a is full, b gives 50. The workloads can swap at no cost, so their columns
 * are tied; the offerings' prices move for both at once:
 *   a stays full at any price below b's, and past 2 b would fill first: [-inf, 2];
 *   b gives 50 until it undercuts a (below 1 it fills first) or dearer than the penalty
 *   (above 5 the 50 go unmet): [1, 5]. */
Test(sensitivity, offering_price_range_by_hand)
{
    cap_scenario *s = cap_test_scenario(
        "version: 1\nname: tie\nperiods: [{id: q1, hours: 1000}]\naccelerators: [{id: H100}]\n"
        "providers: [{id: p}]\nregions: [{id: r, provider: p, geo: us}]\n"
        "offerings:\n"
        "  - {id: a, region: r, accelerator: H100, pricing: on_demand, price: 1, capacity: 100}\n"
        "  - {id: b, region: r, accelerator: H100, pricing: on_demand, price: 2, capacity: 100}\n"
        "workloads:\n"
        "  - {id: w1, demand: 75, throughput: {H100: 1}, penalty: 5}\n"
        "  - {id: w2, demand: 75, throughput: {H100: 1}, penalty: 5}\n");
    cap_sensitivity *r = analyze(s, false, 0.0);
    cr_assert_eq(r->status, CAP_PLAN_OPTIMAL);
    cr_assert_eq(r->offering_count, 2);
    const cap_offering_sensitivity *a = offering_of(r, 0, 0), *b = offering_of(r, 1, 0);
    assert_near(a->accelerators, 100.0, "a's accelerators");
    assert_near(b->accelerators, 50.0, "b's accelerators");
    cr_assert(isinf(a->price_low) && a->price_low < 0, "a's low end %g", a->price_low);
    assert_near(a->price_high, 2.0, "a's high end");
    assert_near(b->price_low, 1.0, "b's low end");
    assert_near(b->price_high, 5.0, "b's high end");
    cr_assert(!a->linked && !b->linked);
    cap_sensitivity_free(r);
    cap_scenario_free(s);
}

/* Inside an offering's price range the plan stays optimal, so a re-solve at a price there
 * costs the base plus (the price change) x hours x (the offering's accelerators in the
 * plan): checked at 90% of the way to each finite end (or at half and double the price
 * when the end is unlimited), for every offering and period of generated scenarios whose
 * price sits in no commitment or budget row. */
static int check_price_ranges(int workloads, int offerings, int periods, uint64_t seed)
{
    cap_scenario *s = NULL;
    cap_sensitivity *r = analyze_generated(workloads, offerings, periods, seed, &s);
    double base = r->plan->objective_usd;
    int checked = 0;
    for (int i = 0; i < r->offering_count; i++) {
        const cap_offering_sensitivity *os = &r->offerings[i];
        if (os->linked)
            continue;
        cr_assert(os->price_low <= os->price + 1e-9 && os->price <= os->price_high + 1e-9,
                  "the price %g lies outside its range [%g, %g]", os->price, os->price_low,
                  os->price_high);
        double *price = &s->offerings[os->o].price[os->t];
        double hours = s->periods[os->t].hours, original = *price;
        double moves[2] = {
            isfinite(os->price_low) ? original - 0.9 * (original - os->price_low) : 0.5 * original,
            isfinite(os->price_high) ? original + 0.9 * (os->price_high - original)
                                     : 2.0 * original,
        };
        for (int side = 0; side < 2; side++) {
            if (moves[side] < 0.0 || moves[side] == original)
                continue;
            *price = moves[side];
            double expected = base + (moves[side] - original) * hours * os->accelerators;
            double got = measured(s, MEASURE_COST);
            cr_assert(fabs(got - expected) <= 1e-7 * fmax(1.0, fabs(expected)),
                      "offering %d period %d at %.10g (range [%.10g, %.10g]): cost %.12g, the "
                      "same plan would cost %.12g",
                      os->o, os->t, moves[side], os->price_low, os->price_high, got, expected);
            checked++;
        }
        *price = original;
    }
    cap_sensitivity_free(r);
    cap_scenario_free(s);
    return checked;
}

Test(sensitivity, offering_price_ranges_keep_the_plan)
{
    int checked = check_price_ranges(6, 12, 2, 3) + check_price_ranges(8, 20, 2, 5) +
                  check_price_ranges(10, 30, 3, 11);
    cr_assert_gt(checked, 60, "only %d moved prices checked", checked);
}

/* ---- integer mode ----------------------------------------------------------------------- */

/* Demand 100 H100e on 8-GPU nodes at 2.00: 13 nodes = 104 accelerators, 208,000 USD. With
 * the node count fixed the LP holds x = 104 exactly: demand is slack (shadow price 0) and
 * the units row carries the whole price, 2000 USD per accelerator. */
Test(sensitivity, integer_mode_fixes_units)
{
    cap_scenario *s = cap_test_scenario(
        HEAD "accelerators:\n  - {id: H100, unit: 8}\n"
             "providers:\n  - {id: a}\n"
             "regions:\n  - {id: ra, provider: a, geo: us}\n"
             "offerings:\n  - {id: A, region: ra, accelerator: H100, pricing: reserved, "
             "price: 2.00, capacity: 1000}\n"
             "workloads:\n  - {id: w, kind: training, demand: 100, throughput: {H100: 1.0}}\n");
    cap_sensitivity *r = analyze(s, true, 0.0);
    cr_assert_eq(r->status, CAP_PLAN_OPTIMAL);
    cr_assert_not_null(r->note);
    cr_assert_not_null(strstr(r->note, "fixed"), "note: %s", r->note);
    assert_near(r->plan->objective_usd, 208000.0, "objective");
    assert_near(row_of(r, CAP_ROW_DEMAND, 0, 0)->shadow_price, 0.0, "demand shadow price");
    assert_near(row_of(r, CAP_ROW_DEMAND, 0, 0)->activity, 104.0, "delivered");
    assert_near(row_of(r, CAP_ROW_UNITS, 0, 0)->shadow_price, 2000.0, "units shadow price");
    cap_sensitivity_free(r);
    cap_scenario_free(s);
}

/* ---- tornado ---------------------------------------------------------------------------- */

/* two_offerings at +-20%:
 *   demand 80:  60 cheap + 20/0.8 = 25 dear: 120,000 + 75,000  = 195,000
 *   demand 120: 60 cheap + 60/0.8 = 75 dear: 120,000 + 225,000 = 345,000  (swing 150,000)
 *   H100 prices x0.8 / x1.2: 270,000 * 0.8 = 216,000 and 324,000 (swing 108,000)
 *   provider a's capacity x0.8 (cheap 48, dear 800): 96,000 + 65 * 3000 = 291,000;
 *                          x1.2 (cheap 72): 144,000 + 35 * 3000 = 249,000 (swing 42,000)
 * Demand swings most. */
Test(sensitivity, tornado_by_hand)
{
    cap_scenario *s = cap_test_scenario(two_offerings);
    cap_sensitivity *r = analyze(s, false, 0.2);
    cr_assert_gt(r->bar_count, 3);
    assert_near(r->base_cost, 270000.0, "base");
    const cap_tornado_bar *first = &r->bars[0];
    cr_assert_str_eq(first->group, "demand");
    assert_near(first->cost_low, 195000.0, "demand -20%");
    assert_near(first->cost_high, 345000.0, "demand +20%");
    bool price_seen = false, capacity_seen = false;
    for (int i = 0; i < r->bar_count; i++) {
        const cap_tornado_bar *bar = &r->bars[i];
        if (i > 0)
            cr_assert_leq(bar->impact, r->bars[i - 1].impact, "bars not sorted");
        if (strcmp(bar->label, "price H100") == 0) {
            assert_near(bar->cost_low, 216000.0, "price -20%");
            assert_near(bar->cost_high, 324000.0, "price +20%");
            price_seen = true;
        }
        if (strcmp(bar->label, "capacity a") == 0) {
            assert_near(bar->cost_low, 291000.0, "capacity -20%");
            assert_near(bar->cost_high, 249000.0, "capacity +20%");
            capacity_seen = true;
        }
    }
    cr_assert(price_seen && capacity_seen);
    cap_sensitivity_free(r);
    cap_scenario_free(s);
}

/* The same market with dear's capacity at 1e15, the largest a scenario takes: +20% would
 * leave that domain, so the tornado stops the value at 1e15 (dear never binds anyway) and
 * the capacity bar is the one above: 291,000 / 249,000 USD. */
Test(sensitivity, tornado_stops_values_at_their_domain)
{
    cap_scenario *s = scenario_replacing(two_offerings, "capacity: 1000,", "capacity: 1e15,");
    cap_sensitivity *r = analyze(s, false, 0.2);
    bool capacity_seen = false;
    for (int i = 0; i < r->bar_count; i++)
        if (strcmp(r->bars[i].label, "capacity a") == 0) {
            assert_near(r->bars[i].cost_low, 291000.0, "capacity -20%");
            assert_near(r->bars[i].cost_high, 249000.0, "capacity +20%");
            capacity_seen = true;
        }
    cr_assert(capacity_seen);
    cap_sensitivity_free(r);
    cap_scenario_free(s);
}

/* max_served, two periods of 1000 hours, price 2.00, budget 300,000 USD: the budget buys
 * 150 accelerator-periods against 2 x 100 needed, so 50 H100e-periods = 50,000 H100e-hours
 * go unmet, and the tornado swings unmet hours (the cost sits at the budget):
 *   demand x0.9 / x1.1: need 180 / 220 -> 30,000 / 70,000 unmet hours (swing 40,000)
 *   price x0.9 / x1.1: buys 166.67 / 136.36 -> 33,333.3 / 63,636.4 (swing 30,303) */
Test(sensitivity, tornado_max_served_by_hand)
{
    cap_scenario *s = cap_test_scenario(
        "version: 1\nname: ms\nreference: H100\nperiods:\n  - {id: p1, hours: 1000}\n"
        "  - {id: p2, hours: 1000}\naccelerators:\n  - {id: H100}\n"
        "providers:\n  - {id: a}\nregions:\n  - {id: ra, provider: a, geo: us}\n"
        "offerings:\n  - {id: A, region: ra, accelerator: H100, pricing: reserved, "
        "price: 2.00, capacity: 1000}\n"
        "workloads:\n  - {id: w, kind: training, demand: 100, penalty: 0, "
        "throughput: {H100: 1.0}}\n"
        "objective: max_served\nbudget: 300000\n");
    cap_sensitivity *r = analyze(s, false, 0.1);
    assert_near(r->base_unmet_hours, 50000.0, "base unmet hours");
    cr_assert_str_eq(r->bars[0].label, "demand w");
    assert_near(r->bars[0].unmet_low, 30000.0, "demand -10%");
    assert_near(r->bars[0].unmet_high, 70000.0, "demand +10%");
    cr_assert_str_eq(r->bars[1].label, "price H100");
    assert_near(r->bars[1].unmet_low, 100000.0 / 3.0, "price -10%");
    assert_near(r->bars[1].unmet_high, 200000.0 - 300000.0 / 2.2, "price +10%");
    cap_sensitivity_free(r);
    cap_scenario_free(s);
}

/* ---- infeasible: nothing to analyse, no abort ------------------------------------------- */

Test(sensitivity, infeasible_reports_diagnosis)
{
    cap_scenario *s = cap_test_scenario(
        HEAD "accelerators:\n  - {id: H100}\n"
             "providers:\n  - {id: a}\n"
             "regions:\n  - {id: ra, provider: a, geo: us}\n"
             "offerings:\n  - {id: A, region: ra, accelerator: H100, pricing: reserved, "
             "price: 2.00, capacity: 50}\n"
             "workloads:\n  - {id: w, kind: training, demand: 100, throughput: {H100: 1.0}}\n");
    cap_sensitivity *r = analyze(s, false, 0.2);
    cr_assert_eq(r->status, CAP_PLAN_INFEASIBLE);
    cr_assert_eq(r->row_count, 0);
    cr_assert_null(r->plan);
    cr_assert_not_null(r->diagnosis);
    cap_sensitivity_free(r);
    cap_scenario_free(s);
}

/* ---- the command ------------------------------------------------------------------------ */

Test(sensitivity, command_writes_outputs)
{
    char dir[4096], *output = NULL;
    char args[4096];
    snprintf(args, sizeof args, "sensitivity '%s' --out out --no-plots -q",
             cap_test_path("scenarios/teach-power.yaml"));
    int code = cap_test_run(args, &output, dir, sizeof dir);
    cr_assert_eq(code, 0, "exit %d: %s", code, output ? output : "");
    free(output);
    char path[8192];
    snprintf(path, sizeof path, "%s/out/sensitivity.csv", dir);
    char *csv = cap_test_read_file(path);
    cr_assert_not_null(csv);
    cr_assert(strncmp(csv, "kind,id,period,activity,rhs,shadow_price,rhs_low,rhs_high", 57) == 0);
    /* teach-power.yaml: one more kW powers 1/1.8 more Abilene GB200 (3.40 USD/h) in place
     * of CoreWeave GB200 reserved (6.30 USD/h), same throughput and availability, so a MW
     * over 2026Q1's 2160 hours is worth 1000 * 2160 * (6.30 - 3.40) / 1.8 = 3,480,000 USD. */
    const char *line = strstr(csv, "\npower,oracle-abilene-demo,2026Q1,");
    cr_assert_not_null(line, "%s", csv);
    double activity, rhs, shadow;
    cr_assert_eq(sscanf(line + strlen("\npower,oracle-abilene-demo,2026Q1,"), "%lf,%lf,%lf",
                        &activity, &rhs, &shadow),
                 3);
    assert_near(rhs, 2.0, "power rhs (MW)");
    assert_near(shadow, -3480000.0, "power shadow price (USD per MW)");
    free(csv);
    snprintf(path, sizeof path, "%s/out/reduced_costs.csv", dir);
    csv = cap_test_read_file(path);
    cr_assert_not_null(csv);
    cr_assert(strncmp(csv, "workload,offering,period,reduced_cost,price_low,price_high", 58) == 0);
    free(csv);
    snprintf(path, sizeof path, "%s/out/sensitivity.json", dir);
    char *json = cap_test_read_file(path);
    cr_assert_not_null(json);
    cr_assert_not_null(strstr(json, "\"tornado\""));
    free(json);
}
