/* test_sweep.c: parameter sweeps (solver/sweep.h) and `capplan sweep`.
 *
 * A sweep re-solves each point from the previous point's basis after editing the model in
 * place; these tests hold it to the answers of independent solves: every warm point equals
 * the same point solved cold (to 1e-9 relative), the end points equal plain plan runs of
 * the swept scenario, and a hand-worked sweep gives the numbers derived below. Every kind
 * of model edit is covered: right-hand sides, costs, rewritten columns and rows, rebuilds,
 * on small models (the whole model re-solved) and on models that keep their period blocks.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generate.h"
#include "plan.h"
#include "support.h"
#include "sweep.h"

/* ---- helpers -------------------------------------------------------------------------- */

static cap_scenario *generated(int workloads, int offerings, int periods, uint64_t seed)
{
    cap_generate_options g = {workloads, offerings, periods, seed};
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *s = NULL;
    cr_assert_eq(cap_scenario_generate(&g, &s, &diag), CAP_OK);
    cap_diag_free(&diag);
    return s;
}

static void parse_ok(const cap_scenario *s, const char *text, cap_sweep_axis *axis)
{
    cap_diag diag;
    cap_diag_init(&diag);
    cap_status rc = cap_sweep_axis_parse(s, text, axis, &diag);
    for (int i = 0; i < diag.count; i++)
        cr_log_error("%s", diag.lines[i]);
    cap_diag_free(&diag);
    cr_assert_eq(rc, CAP_OK, "--vary %s did not parse", text);
}

/* Parses text expecting CAP_ERR_INPUT with a message containing `needle`. */
static void parse_fails(const cap_scenario *s, const char *text, const char *needle)
{
    cap_diag diag;
    cap_diag_init(&diag);
    cap_sweep_axis axis;
    cap_status rc = cap_sweep_axis_parse(s, text, &axis, &diag);
    cr_assert_eq(rc, CAP_ERR_INPUT, "--vary %s: expected an input error", text);
    cr_assert_geq(cap_diag_find(&diag, needle), 0, "--vary %s: no message with '%s' (got '%s')",
                  text, needle, diag.count ? diag.lines[0] : "");
    cap_diag_free(&diag);
}

static cap_sweep_result *run(const cap_scenario *s, const cap_sweep_axis *axes, int count,
                             bool cold, int threads, bool integer)
{
    cap_diag diag;
    cap_diag_init(&diag);
    double *values = NULL;
    int points = 0;
    cr_assert_eq(cap_sweep_grid(axes, count, &values, &points, &diag), CAP_OK);
    cap_sweep_options o;
    cap_sweep_options_init(&o);
    o.axes = axes;
    o.axis_count = count;
    o.values = values;
    o.point_count = points;
    o.cold = cold;
    o.threads = threads;
    o.solve.integer = integer;
    cap_sweep_result *r = NULL;
    cap_status rc = cap_sweep_run(s, &o, &r, &diag);
    for (int i = 0; i < diag.count; i++)
        cr_log_error("%s", diag.lines[i]);
    cap_diag_free(&diag);
    free(values);
    cr_assert_eq(rc, CAP_OK);
    return r;
}

static bool relative_equal(double a, double b, double tolerance)
{
    return fabs(a - b) <= tolerance * fmax(1.0, fmax(fabs(a), fabs(b)));
}

static void assert_same_points(const cap_sweep_result *a, const cap_sweep_result *b,
                               const char *what)
{
    cr_assert_eq(a->point_count, b->point_count);
    for (int p = 0; p < a->point_count; p++) {
        cr_assert(a->points[p].solved && b->points[p].solved, "%s: point %d unsolved", what, p);
        cr_assert_eq(a->points[p].status, b->points[p].status, "%s: point %d status %s vs %s", what,
                     p, cap_plan_status_name(a->points[p].status),
                     cap_plan_status_name(b->points[p].status));
        if (a->points[p].status == CAP_PLAN_OPTIMAL)
            cr_assert(relative_equal(a->points[p].objective_usd, b->points[p].objective_usd, 1e-9),
                      "%s: point %d objective %.15g vs %.15g", what, p, a->points[p].objective_usd,
                      b->points[p].objective_usd);
    }
}

/* One axis, warm against cold; at least one warm point must have stayed warm. */
static void warm_equals_cold(const cap_scenario *s, const char *spec)
{
    cap_sweep_axis axis;
    parse_ok(s, spec, &axis);
    cap_sweep_result *warm = run(s, &axis, 1, false, 1, false);
    cap_sweep_result *cold = run(s, &axis, 1, true, 1, false);
    assert_same_points(warm, cold, spec);
    int warm_points = 0;
    for (int p = 0; p < warm->point_count; p++)
        warm_points += warm->points[p].warm;
    cr_assert_gt(warm_points, 0, "%s: no point solved warm", spec);
    for (int p = 0; p < cold->point_count; p++)
        cr_assert(!cold->points[p].warm);
    cap_sweep_result_free(warm);
    cap_sweep_result_free(cold);
    cap_sweep_axis_free(&axis);
}

#define HEAD "version: 1\nname: hand\nreference: H100\nperiods:\n  - {id: p1, hours: 1000}\n"

/* cheap 2.00 (capacity 60), dear 3.00 at availability 0.8; provider a also names a region. */
static const char two_offerings[] =
    HEAD "accelerators:\n  - {id: H100, unit: 8}\n"
         "providers:\n  - {id: a}\n"
         "regions:\n  - {id: a, provider: a, geo: us}\n"
         "offerings:\n"
         "  - {id: cheap, region: a, accelerator: H100, pricing: reserved, price: 2.00, "
         "capacity: 60}\n"
         "  - {id: dear, region: a, accelerator: H100, pricing: on_demand, price: 3.00, "
         "capacity: 1000, availability: 0.8}\n"
         "workloads:\n  - {id: w, kind: training, demand: 100, throughput: {H100: 1.0}}\n";

/* ---- parsing ---------------------------------------------------------------------------- */

Test(sweep, parse_errors_are_clear)
{
    cap_scenario *s = cap_test_scenario(two_offerings);
    parse_fails(s, "nope.price=1:2:1", "valid targets");
    parse_fails(s, "nope.price=1:2:1", "cheap");
    parse_fails(s, "w.prize=1:2:1", "unknown field 'prize'");
    parse_fails(s, "w.demand=3:1:1", "bad range");
    parse_fails(s, "w.demand=1:2:0", "bad range");
    parse_fails(s, "w.demand=abc", "bad range");
    parse_fails(s, "w.demand", "TARGET.FIELD=A:B:STEP");
    parse_fails(s, "cheap.availability=0.5:1.5:0.5", "outside 0 to 1");
    parse_fails(s, "w.demand=x-1:1:1", "outside");
    parse_fails(s, "a.price=1:2:1", "several kinds"); /* provider a and region a */
    parse_fails(s, "a.max_share=x0.5:1:0.5", "nothing to scale");
    parse_fails(s, "region:a.power_mw=1:2:1", "no power envelope");
    parse_fails(s, "provider:a.outage=0:0.1:0.1", "no field 'outage'");
    parse_fails(s, "accelerator:B200.price=1:2:1", "valid targets");
    cap_scenario_free(s);
}

Test(sweep, parse_ranges_and_targets)
{
    cap_scenario *s = cap_test_scenario(two_offerings);
    cap_sweep_axis axis;
    parse_ok(s, "accelerator:H100.price=x0.5:1.5:0.1", &axis);
    cr_assert_eq(axis.kind, CAP_TARGET_ACCELERATOR);
    cr_assert(axis.scale);
    cr_assert_eq(axis.value_count, 11);
    cr_assert_eq(axis.values[10], 1.5, "the last value must be B exactly");
    /* the values a user wrote, not their binary sums: 0.5 + 7 * 0.1 = 1.2000000000000002 */
    for (int i = 0; i < 11; i++) {
        char text[16];
        snprintf(text, sizeof text, "%.1f", 0.5 + 0.1 * i);
        cr_expect_eq(axis.values[i], strtod(text, NULL), "value %d: %.17g", i, axis.values[i]);
    }
    cap_sweep_axis_free(&axis);
    /* steps that do not reach B, and the rounding kept away from distinct close values */
    cr_expect_eq(cap_range_value(0.1, 1.35, 0.3, 3, 5), 1.0);
    cr_expect_eq(cap_range_value(0.1, 1.35, 0.3, 4, 5), 1.3);
    cr_expect_eq(cap_range_value(1.0, 2.0, 1e-13, 1, 2), 1.0 + 1e-13);
    parse_ok(s, "region:a.price=2.5", &axis);
    cr_assert_eq(axis.kind, CAP_TARGET_REGION);
    cr_assert(!axis.scale);
    cr_assert_eq(axis.value_count, 1);
    cap_sweep_axis_free(&axis);
    parse_ok(s, "provider:a.max_share=0.5:1:0.25", &axis);
    cr_assert_eq(axis.kind, CAP_TARGET_PROVIDER);
    cr_assert_eq(axis.field, CAP_FIELD_MAX_SHARE);
    cap_sweep_axis_free(&axis);
    cap_scenario_free(s);
}

Test(sweep, grid_is_cartesian_first_axis_slowest)
{
    cap_scenario *s = cap_test_scenario(two_offerings);
    cap_sweep_axis axes[2];
    parse_ok(s, "w.demand=80:120:20", &axes[0]);
    parse_ok(s, "dear.price=3:4:1", &axes[1]);
    double *values = NULL;
    int count = 0;
    cap_diag diag;
    cap_diag_init(&diag);
    cr_assert_eq(cap_sweep_grid(axes, 2, &values, &count, &diag), CAP_OK);
    cr_assert_eq(count, 6);
    const double expected[6][2] = {{80, 3}, {80, 4}, {100, 3}, {100, 4}, {120, 3}, {120, 4}};
    for (int p = 0; p < 6; p++)
        cr_assert(values[2 * p] == expected[p][0] && values[2 * p + 1] == expected[p][1],
                  "point %d", p);
    free(values);
    cap_diag_free(&diag);
    cap_sweep_axis_free(&axes[0]);
    cap_sweep_axis_free(&axes[1]);
    cap_scenario_free(s);
}

/* ---- hand-worked ------------------------------------------------------------------------- */

/* Demand d: 60 cheap (120,000 USD) and (d - 60) / 0.8 dear at 3000 each:
 *   80 -> 195,000; 100 -> 270,000; 120 -> 345,000. */
Test(sweep, demand_by_hand)
{
    cap_scenario *s = cap_test_scenario(two_offerings);
    cap_sweep_axis axis;
    parse_ok(s, "w.demand=80:120:20", &axis);
    cap_sweep_result *r = run(s, &axis, 1, false, 1, false);
    const double expected[] = {195000.0, 270000.0, 345000.0};
    for (int p = 0; p < 3; p++)
        cr_assert(relative_equal(r->points[p].objective_usd, expected[p], 1e-9), "point %d: %.10g",
                  p, r->points[p].objective_usd);
    cr_assert(r->points[1].warm && r->points[2].warm);
    cap_sweep_result_free(r);
    cap_sweep_axis_free(&axis);
    cap_scenario_free(s);
}

/* Integer mode, one offering at 2.00 on 8-GPU nodes: demand 100 -> 13 nodes (208,000 USD),
 * 108 -> 14 nodes (224,000), 116 -> 15 nodes (240,000). */
Test(sweep, integer_by_hand)
{
    cap_scenario *s = cap_test_scenario(
        HEAD "accelerators:\n  - {id: H100, unit: 8}\n"
             "providers:\n  - {id: a}\n"
             "regions:\n  - {id: ra, provider: a, geo: us}\n"
             "offerings:\n  - {id: A, region: ra, accelerator: H100, pricing: reserved, "
             "price: 2.00, capacity: 1000}\n"
             "workloads:\n  - {id: w, kind: training, demand: 100, throughput: {H100: 1.0}}\n");
    cap_sweep_axis axis;
    parse_ok(s, "w.demand=100:116:8", &axis);
    cap_sweep_result *r = run(s, &axis, 1, false, 1, true);
    const double expected[] = {208000.0, 224000.0, 240000.0};
    for (int p = 0; p < 3; p++)
        cr_assert(relative_equal(r->points[p].objective_usd, expected[p], 1e-9), "point %d: %.10g",
                  p, r->points[p].objective_usd);
    cap_sweep_result_free(r);
    cap_sweep_axis_free(&axis);
    cap_scenario_free(s);
}

/* max_served: budget b buys b / 2000 accelerators; unmet hours (100 - b/2000) * 1000. */
Test(sweep, max_served_by_hand)
{
    cap_scenario *s = cap_test_scenario(
        HEAD "accelerators:\n  - {id: H100}\n"
             "providers:\n  - {id: a, commitment: 1}\n"
             "regions:\n  - {id: ra, provider: a, geo: us}\n"
             "offerings:\n  - {id: A, region: ra, accelerator: H100, pricing: reserved, "
             "price: 2.00, capacity: 1000}\n"
             "workloads:\n  - {id: w, kind: training, demand: 100, penalty: 0, "
             "throughput: {H100: 1.0}}\n"
             "objective: max_served\nbudget: 100000\n");
    cap_sweep_axis axis;
    parse_ok(s, "A.price=1:2:0.5", &axis); /* price 1: 100 accelerators serve it all */
    cap_sweep_result *warm = run(s, &axis, 1, false, 1, false);
    cap_sweep_result *cold = run(s, &axis, 1, true, 1, false);
    assert_same_points(warm, cold, "max_served price");
    const double unmet[] = {0.0, 100000.0 / 3.0, 50000.0}; /* 100 - 100000/1500 = 33.33 */
    for (int p = 0; p < 3; p++)
        cr_assert(fabs(warm->points[p].unmet_h100e_hours - unmet[p]) < 1e-3,
                  "point %d: unmet %.10g", p, warm->points[p].unmet_h100e_hours);
    cap_sweep_result_free(warm);
    cap_sweep_result_free(cold);
    cap_sweep_axis_free(&axis);
    cap_scenario_free(s);
}

/* ---- warm starts equal cold solves, every kind of edit --------------------------------- */

Test(sweep, warm_equals_cold_rhs_edits)
{
    cap_scenario *s = generated(6, 12, 2, 3);
    warm_equals_cold(s, "wl1.demand=x0.8:1.2:0.2");
    warm_equals_cold(s, "off2.capacity=x0.5:1.5:0.5");
    warm_equals_cold(s, "wl2.max_spot_share=0:0.4:0.2");
    warm_equals_cold(s, "cloud1.commitment=x0.5:1.5:0.5");
    warm_equals_cold(s, "region2.power_mw=x0.5:1.5:0.5");
    cap_scenario_free(s);
}

Test(sweep, warm_equals_cold_cost_and_matrix_edits)
{
    cap_scenario *s = generated(6, 12, 2, 3);
    warm_equals_cold(s, "accelerator:H100.price=x0.8:1.2:0.2"); /* with a commitment row */
    warm_equals_cold(s, "wl1.penalty=x0.5:1.5:0.5");
    warm_equals_cold(s, "cloud0.availability=x0.9:1:0.05");
    warm_equals_cold(s, "off1.outage=0:0.5:0.25");
    warm_equals_cold(s, "cloud2.max_share=0.3:0.7:0.2");
    cap_scenario_free(s);
}

Test(sweep, warm_equals_cold_structure_edits)
{
    cap_scenario *s = generated(6, 12, 2, 3);
    warm_equals_cold(s, "cloud0.max_share=0.5:1:0.25"); /* the row goes at 1 */
    warm_equals_cold(s, "cloud1.commitment=0:2e8:1e8"); /* the row appears above 0 */
    warm_equals_cold(s, "cloud2.min_share=0:0.2:0.1");  /* the row appears above 0 */
    warm_equals_cold(s, "wl0.penalty=100:200:100");     /* hard demand gets a penalty */
    cap_scenario_free(s);
}

/* Models of at least 2,000 columns over several periods keep their period blocks between
 * points (each block re-solved from its own basis, the blocks' answer taken as it is when no
 * linking row binds): the same edits again, on such a model, and with the commitment
 * pushed until it binds or cannot be met, a budget row, infeasible points, two threads. */
static cap_scenario *blocks_model(void)
{
    cap_scenario *s = generated(20, 60, 4, 3);
    cap_plan_options options;
    cap_plan_options_init(&options);
    cap_plan *plan = NULL;
    cap_diag diag;
    cap_diag_init(&diag);
    cr_assert_eq(cap_plan_solve(s, &options, &plan, &diag), CAP_OK);
    cr_assert(plan->decomposed, "the period-block start did not run: make the model larger");
    cap_plan_free(plan);
    cap_diag_free(&diag);
    return s;
}

Test(sweep, warm_equals_cold_on_period_blocks)
{
    cap_scenario *s = blocks_model();
    warm_equals_cold(s, "wl1.demand=x0.8:1.2:0.1");
    warm_equals_cold(s, "accelerator:H100.price=x0.8:1.2:0.1"); /* with a commitment row */
    warm_equals_cold(s, "cloud2.availability=x0.8:1:0.05");
    warm_equals_cold(s, "cloud2.max_share=0.1:0.5:0.1");
    warm_equals_cold(s, "off3.capacity=x0:1:0.25");
    warm_equals_cold(s, "cloud0.commitment=x0.5:4.5:1");   /* slack, then binding */
    warm_equals_cold(s, "cloud0.commitment=x1:3001:1000"); /* out of reach: a top-up */
    warm_equals_cold(s, "cloud0.max_share=0.6:1:0.2");     /* the row goes at 1 */
    /* hard demand a hundred thousand times over cannot be met: infeasible points between
     * feasible ones, the warm starts after them included */
    cap_sweep_axis axes[2];
    parse_ok(s, "wl1.demand=x0.9:1.1:0.1", &axes[0]);
    parse_ok(s, "wl0.demand=x1:1e5:99999", &axes[1]);
    cap_sweep_result *warm = run(s, axes, 2, false, 1, false);
    cap_sweep_result *cold = run(s, axes, 2, true, 1, false);
    assert_same_points(warm, cold, "infeasible points");
    for (int p = 0; p < warm->point_count; p++)
        cr_assert_eq(warm->points[p].status, p % 2 ? CAP_PLAN_INFEASIBLE : CAP_PLAN_OPTIMAL,
                     "point %d", p);
    cr_assert(warm->points[2].warm && warm->points[4].warm, "feasible after infeasible: warm");
    cap_sweep_result_free(warm);
    cap_sweep_result_free(cold);
    cap_sweep_axis_free(&axes[0]);
    cap_sweep_axis_free(&axes[1]);
    cap_scenario_free(s);
}

/* A budget row links the periods too: here it is the base plan's cost, so dearer H100
 * prices or more demand make the plan infeasible and cheaper ones keep it feasible. */
Test(sweep, warm_equals_cold_on_period_blocks_with_a_budget)
{
    cap_scenario *s = blocks_model();
    cap_plan_options options;
    cap_plan_options_init(&options);
    cap_plan *plan = NULL;
    cap_diag diag;
    cap_diag_init(&diag);
    cr_assert_eq(cap_plan_solve(s, &options, &plan, &diag), CAP_OK);
    s->has_budget = true;
    s->budget = plan->objective_usd * (1.0 + 1e-6);
    cap_plan_free(plan);
    cap_diag_free(&diag);
    warm_equals_cold(s, "accelerator:H100.price=x0.8:1.2:0.1");
    warm_equals_cold(s, "wl2.demand=x0.8:1.2:0.2");
    cap_sweep_axis axis;
    parse_ok(s, "accelerator:H100.price=x0.9:1.1:0.1", &axis);
    cap_sweep_result *r = run(s, &axis, 1, false, 1, false);
    cr_assert_eq(r->points[0].status, CAP_PLAN_OPTIMAL);
    cr_assert_eq(r->points[2].status, CAP_PLAN_INFEASIBLE, "the budget must bind");
    cap_sweep_result_free(r);
    cap_sweep_axis_free(&axis);
    cap_scenario_free(s);
}

/* Points the blocks answer alone leave the model's own coefficients to be brought up to
 * date later: nine of them rewrite columns (availability) and rows (share caps) that cross,
 * then a commitment out of reach makes the whole model solve from those coefficients. */
Test(sweep, period_blocks_catch_the_model_up)
{
    cap_scenario *s = blocks_model();
    cap_sweep_axis axes[3];
    parse_ok(s, "cloud0.commitment=x1:3001:3000", &axes[0]);
    parse_ok(s, "cloud2.max_share=0.2:0.4:0.1", &axes[1]);
    parse_ok(s, "cloud2.availability=x0.8:1:0.1", &axes[2]); /* after the last share rows */
    cap_sweep_result *warm = run(s, axes, 3, false, 1, false);
    cap_sweep_result *cold = run(s, axes, 3, true, 1, false);
    assert_same_points(warm, cold, "catching up");
    for (int p = 1; p < warm->point_count; p++)
        cr_assert(warm->points[p].warm, "point %d solved cold", p);
    cr_assert_gt(warm->points[9].topup_usd, 0.0, "the commitment must be out of reach");
    cap_sweep_result_free(warm);
    cap_sweep_result_free(cold);
    for (int a = 0; a < 3; a++)
        cap_sweep_axis_free(&axes[a]);
    cap_scenario_free(s);
}

Test(sweep, period_blocks_on_two_threads_agree)
{
    cap_scenario *s = blocks_model();
    cap_sweep_axis axes[2];
    parse_ok(s, "cloud1.availability=x0.85:1:0.05", &axes[0]);
    parse_ok(s, "accelerator:H100.price=x0.9:1.1:0.1", &axes[1]);
    cap_sweep_result *one = run(s, axes, 2, false, 1, false);
    cap_sweep_result *two = run(s, axes, 2, false, 2, false);
    cap_sweep_result *cold = run(s, axes, 2, true, 1, false);
    assert_same_points(one, cold, "1 thread vs cold");
    assert_same_points(two, cold, "2 threads vs cold");
    cap_sweep_result_free(one);
    cap_sweep_result_free(two);
    cap_sweep_result_free(cold);
    cap_sweep_axis_free(&axes[0]);
    cap_sweep_axis_free(&axes[1]);
    cap_scenario_free(s);
}

/* ---- end points against plan runs, threads against one thread -------------------------- */

static double plan_objective(const cap_scenario *base, const cap_sweep_axis *axes, int count,
                             const double *values)
{
    cap_scenario *s = cap_scenario_clone(base);
    cap_sweep_apply(base, s, axes, count, values);
    cap_plan_options options;
    cap_plan_options_init(&options);
    cap_diag diag;
    cap_diag_init(&diag);
    cap_plan *plan = NULL;
    cr_assert_eq(cap_plan_solve(s, &options, &plan, &diag), CAP_OK);
    cr_assert_eq(plan->status, CAP_PLAN_OPTIMAL);
    double objective = plan->objective_usd;
    cap_plan_free(plan);
    cap_diag_free(&diag);
    cap_scenario_free(s);
    return objective;
}

Test(sweep, end_points_equal_plan_runs_and_threads_agree)
{
    cap_scenario *s = generated(8, 20, 3, 5);
    cap_sweep_axis axes[2];
    parse_ok(s, "accelerator:H100.price=x0.8:1.2:0.1", &axes[0]);
    parse_ok(s, "wl3.demand=x0.9:1.1:0.1", &axes[1]);
    cap_sweep_result *one = run(s, axes, 2, false, 1, false);
    cap_sweep_result *two = run(s, axes, 2, false, 2, false);
    assert_same_points(one, two, "1 vs 2 threads");
    int last = one->point_count - 1;
    double first_values[2] = {axes[0].values[0], axes[1].values[0]};
    double last_values[2] = {axes[0].values[axes[0].value_count - 1],
                             axes[1].values[axes[1].value_count - 1]};
    cr_assert_eq(last_values[0], 1.2);
    double first = plan_objective(s, axes, 2, first_values);
    double final = plan_objective(s, axes, 2, last_values);
    cr_assert(relative_equal(one->points[0].objective_usd, first, 1e-9), "first %.15g vs %.15g",
              one->points[0].objective_usd, first);
    cr_assert(relative_equal(one->points[last].objective_usd, final, 1e-9), "last %.15g vs %.15g",
              one->points[last].objective_usd, final);
    cap_sweep_result_free(one);
    cap_sweep_result_free(two);
    cap_sweep_axis_free(&axes[0]);
    cap_sweep_axis_free(&axes[1]);
    cap_scenario_free(s);
}

/* ---- the command ------------------------------------------------------------------------ */

Test(sweep, command_writes_csv)
{
    char dir[4096], *output = NULL, args[4096];
    snprintf(args, sizeof args,
             "sweep '%s' --vary accelerator:GB300.price=x0.5:1.5:0.5 "
             "--vary oracle-abilene-demo.power_mw=x1:2:1 --out out --no-plots -q",
             cap_test_path("scenarios/teach-power.yaml"));
    int code = cap_test_run(args, &output, dir, sizeof dir);
    cr_assert_eq(code, 0, "exit %d: %s", code, output ? output : "");
    free(output);
    char path[8192];
    snprintf(path, sizeof path, "%s/out/sweep.csv", dir);
    char *csv = cap_test_read_file(path);
    cr_assert_not_null(csv);
    const char *header = "accelerator:GB300.price_scale,oracle-abilene-demo.power_mw_scale,"
                         "status,objective_usd";
    cr_assert(strncmp(csv, header, strlen(header)) == 0, "%s", csv);
    int lines = 0;
    for (const char *p = csv; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 1 + 6);
    /* teach-power.yaml: 65.69 M USD at the scenario's own values (point 1,1 is the 3rd) */
    cr_assert_not_null(strstr(csv, "\n1,1,optimal,65685128."), "%s", csv);
    free(csv);
}

Test(sweep, command_unknown_target_exits_2)
{
    char *output = NULL, args[4096];
    snprintf(args, sizeof args, "sweep '%s' --vary nowhere.power_mw=1:2:1",
             cap_test_path("scenarios/teach-power.yaml"));
    int code = cap_test_run(args, &output, NULL, 0);
    cr_assert_eq(code, 2);
    cr_assert_not_null(output);
    cr_assert_not_null(strstr(output, "oracle-abilene-demo"), "%s", output);
    free(output);
}

/* The same field of the same target twice (here once by region id, once as KIND:ID) would
 * let the second axis overwrite the first at every point: refused. */
Test(sweep, command_same_axis_twice_exits_2)
{
    char *output = NULL, args[4096];
    snprintf(args, sizeof args,
             "sweep '%s' --vary oracle-abilene-demo.power_mw=x1:2:1 "
             "--vary region:oracle-abilene-demo.power_mw=x0.5:1:0.5",
             cap_test_path("scenarios/teach-power.yaml"));
    int code = cap_test_run(args, &output, NULL, 0);
    cr_assert_eq(code, 2, "exit %d: %s", code, output ? output : "");
    cr_assert_not_null(output);
    cr_assert_not_null(strstr(output, "set the same field"), "%s", output);
    free(output);
}

/* Every point infeasible (demand 100x what the market sells): exit 3, the CSV and data are
 * written, and the plot is skipped with a note instead of a gnuplot failure. */
Test(sweep, command_without_any_plan_skips_the_plot)
{
    char dir[4096], *output = NULL, args[4096];
    snprintf(args, sizeof args, "sweep '%s' --vary train.demand=x100:101:1 --out out -q",
             cap_test_path("scenarios/teach-power.yaml"));
    int code = cap_test_run(args, &output, dir, sizeof dir);
    cr_assert_eq(code, 3, "exit %d: %s", code, output ? output : "");
    cr_assert_not_null(output);
    cr_assert_null(strstr(output, "gnuplot failed"), "%s", output);
    cr_assert_not_null(strstr(output, "not drawn"), "%s", output);
    free(output);
    char path[8192];
    snprintf(path, sizeof path, "%s/out/sweep.csv", dir);
    char *csv = cap_test_read_file(path);
    cr_assert_not_null(csv);
    cr_assert_not_null(strstr(csv, "\n100,infeasible,,,,,,"), "%s", csv);
    free(csv);
}

/* One value that is not a finite number is a bad range, as in A:B:STEP (it was cast to a
 * count of values). */
Test(sweep, command_non_finite_single_value_exits_2)
{
    const char *values[] = {"nan", "inf", "1e400", "xnan"};
    for (int i = 0; i < 4; i++) {
        char *output = NULL, args[4096];
        snprintf(args, sizeof args, "sweep '%s' --vary oracle-abilene-demo-gb200.price=%s",
                 cap_test_path("scenarios/teach-power.yaml"), values[i]);
        int code = cap_test_run(args, &output, NULL, 0);
        cr_assert_eq(code, 2, "%s: exit %d: %s", values[i], code, output ? output : "");
        cr_assert_not_null(strstr(output, "bad range"), "%s", output);
        free(output);
    }
}
