/* test_determinism.c: the same inputs give the same results, byte for byte.
 *
 * Monte Carlo (kernels/mc.h): every variate is a pure function of (seed, sample, period,
 * stream, index) and block partials are merged in block order, so mc.json's statistics
 * (everything but its "timing" object) and cost_hist.csv must be byte-identical for
 * --threads 1, 2 and 4 and for any --chunk. Planning: plan.csv and summary.json (less the
 * solver's timings) must be identical across runs and thread counts, since the period
 * blocks are solved in parallel but combined in a fixed order. --no-decompose starts the
 * simplex cold: a different path that may end at a different optimal vertex of a
 * degenerate LP, so only the objective is compared there, to 1e-9 relative
 * (docs/hardening.md).
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define SCENARIO "scenarios/openai-multicloud-2026.yaml"

TestSuite(determinism, .timeout = 300);

/* ---- helpers -------------------------------------------------------------------------- */

typedef struct {
    char dir[256]; /* the run's temporary folder; outputs in dir/out */
} run;

static void run_ok(run *r, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void run_ok(run *r, const char *format, ...)
{
    char args[4096];
    va_list ap;
    va_start(ap, format);
    vsnprintf(args, sizeof args, format, ap);
    va_end(ap);
    char *output = NULL;
    int code = cap_test_run(args, &output, r->dir, sizeof r->dir);
    cr_assert_eq(code, 0, "capplan %s exited %d:\n%s", args, code, output ? output : "");
    free(output);
}

static void run_remove(const run *r)
{
    char command[400];
    snprintf(command, sizeof command, "rm -rf '%s'", r->dir);
    cr_assert_eq(system(command), 0);
}

static char *out_file(const run *r, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/out/%s", r->dir, name);
    char *text = cap_test_read_file(path);
    cr_assert_not_null(text, "%s was not written", path);
    return text;
}

/* A JSON file with some members removed, as canonical text (sorted keys, every digit). */
static char *json_without(const run *r, const char *name, const char *const *drop,
                          const char *const *drop_solver)
{
    char path[512];
    snprintf(path, sizeof path, "%s/out/%s", r->dir, name);
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    cr_assert_not_null(root, "%s: %s", path, error.text);
    for (; drop && *drop; drop++)
        json_object_del(root, *drop);
    json_t *solver = json_object_get(root, "solver");
    for (; solver && drop_solver && *drop_solver; drop_solver++)
        json_object_del(solver, *drop_solver);
    char *text = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    json_decref(root);
    cr_assert_not_null(text);
    return text;
}

static double json_number_at(const run *r, const char *name, const char *key)
{
    char path[512];
    snprintf(path, sizeof path, "%s/out/%s", r->dir, name);
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    cr_assert_not_null(root, "%s: %s", path, error.text);
    json_t *value = json_object_get(root, key);
    cr_assert(json_is_number(value), "%s has no number '%s'", path, key);
    double number = json_number_value(value);
    json_decref(root);
    return number;
}

static void assert_same_text(const char *expected, const char *actual, const char *what)
{
    if (strcmp(expected, actual) == 0)
        return;
    size_t i = 0;
    while (expected[i] && expected[i] == actual[i])
        i++;
    size_t from = i > 80 ? i - 80 : 0;
    cr_assert_fail("%s differs at byte %zu:\n  expected ...%.160s\n  actual   ...%.160s", what, i,
                   expected + from, actual + from);
}

/* ---- Monte Carlo ---------------------------------------------------------------------- */

static const char *const mc_timing[] = {"timing", NULL};

/* Runs simulate with the common arguments plus `variant`, compares with the first run. */
static void compare_simulations(const char *common, const char *const *variants, int count)
{
    char *first_json = NULL, *first_hist = NULL;
    for (int i = 0; i < count; i++) {
        run r;
        run_ok(&r, "simulate '%s' %s %s --backend cpu --no-plots --quiet --out out",
               cap_test_path(SCENARIO), common, variants[i]);
        char *json = json_without(&r, "mc.json", mc_timing, NULL);
        char *hist = out_file(&r, "cost_hist.csv");
        if (i == 0) {
            first_json = json;
            first_hist = hist;
        } else {
            char what[256];
            snprintf(what, sizeof what, "mc.json of '%s' against '%s'", variants[i], variants[0]);
            assert_same_text(first_json, json, what);
            snprintf(what, sizeof what, "cost_hist.csv of '%s'", variants[i]);
            assert_same_text(first_hist, hist, what);
            free(json);
            free(hist);
        }
        run_remove(&r);
    }
    free(first_json);
    free(first_hist);
}

/* The sweep entry at `scale` of a run's mc.json, as canonical text. */
static char *sweep_entry(const run *r, double scale, int expected_entries)
{
    char path[512];
    snprintf(path, sizeof path, "%s/out/mc.json", r->dir);
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    cr_assert_not_null(root, "%s: %s", path, error.text);
    json_t *sweep = json_object_get(root, "sweep");
    cr_assert(json_is_array(sweep), "%s has no sweep list", path);
    cr_assert_eq((int)json_array_size(sweep), expected_entries);
    char *text = NULL;
    for (size_t i = 0; i < json_array_size(sweep); i++) {
        json_t *entry = json_array_get(sweep, i);
        if (fabs(json_number_value(json_object_get(entry, "scale")) - scale) < 1e-12)
            text = json_dumps(entry, JSON_SORT_KEYS | JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    }
    json_decref(root);
    cr_assert_not_null(text, "%s: no sweep entry at scale %g", path, scale);
    return text;
}

/* mc.json always lists the scales run: a plain run its one scale 1, and (every scale on the
 * same random numbers) that entry equals a demand sweep's entry at scale 1. */
Test(determinism, mc_json_sweep_lists_the_plain_run_too)
{
    run plain, swept;
    run_ok(&plain,
           "simulate '%s' --samples 5000 --seed 3 --backend cpu --no-plots --quiet --out out",
           cap_test_path(SCENARIO));
    run_ok(&swept,
           "simulate '%s' --samples 5000 --seed 3 --demand-scale 0.9:1.1:0.1 --backend cpu "
           "--no-plots --quiet --out out",
           cap_test_path(SCENARIO));
    char *alone = sweep_entry(&plain, 1.0, 1), *among = sweep_entry(&swept, 1.0, 3);
    assert_same_text(among, alone, "the scale-1 sweep entry");
    free(alone);
    free(among);
    run_remove(&plain);
    run_remove(&swept);
}

Test(determinism, mc_same_statistics_for_threads_and_chunks)
{
    const char *const variants[] = {"--threads 1",
                                    "--threads 2",
                                    "--threads 4",
                                    "--threads 2 --chunk 4096",
                                    "--threads 2 --chunk 65536",
                                    ""};
    compare_simulations("--samples 20000 --seed 7", variants, 6);
}

Test(determinism, mc_sweep_with_greedy_recourse_same_for_threads_and_chunks)
{
    const char *const variants[] = {"--threads 1", "--threads 4 --chunk 4096",
                                    "--threads 3 --chunk 65536"};
    compare_simulations("--samples 12000 --seed 3 --recourse greedy --demand-scale 0.9:1.1:0.1",
                        variants, 3);
}

/* ---- planning ------------------------------------------------------------------------- */

static const char *const solver_timings[] = {"seconds", "build_seconds", "solve_seconds", NULL};

/* A generated model with enough periods for the parallel blocks to matter. */
static void generate(run *g)
{
    run_ok(g, "generate --workloads 30 --offerings 150 --periods 6 --seed 5 --out gen.yaml");
}

static void compare_plans(const char *scenario, const char *const *variants, int count)
{
    char *first_csv = NULL, *first_summary = NULL;
    for (int i = 0; i < count; i++) {
        run r;
        run_ok(&r, "plan '%s' %s --quiet --out out", scenario, variants[i]);
        char *csv = out_file(&r, "plan.csv");
        char *summary = json_without(&r, "summary.json", NULL, solver_timings);
        if (i == 0) {
            first_csv = csv;
            first_summary = summary;
        } else {
            char what[256];
            snprintf(what, sizeof what, "plan.csv of '%s' against '%s'", variants[i], variants[0]);
            assert_same_text(first_csv, csv, what);
            snprintf(what, sizeof what, "summary.json of '%s'", variants[i]);
            assert_same_text(first_summary, summary, what);
            free(csv);
            free(summary);
        }
        run_remove(&r);
    }
    free(first_csv);
    free(first_summary);
}

Test(determinism, plan_same_across_runs_and_threads)
{
    const char *const variants[] = {"", "", "--threads 1", "--threads 2"};
    compare_plans(cap_test_path(SCENARIO), variants, 4);
}

Test(determinism, generated_plan_same_across_runs_and_threads)
{
    run g;
    generate(&g);
    char path[512];
    snprintf(path, sizeof path, "%s/gen.yaml", g.dir);
    const char *const variants[] = {"--threads 1", "--threads 1", "--threads 2", "--threads 4"};
    compare_plans(path, variants, 4);
    run_remove(&g);
}

/* Cold and warm starts reach the same optimum; the vertex (plan.csv) may differ. */
static void check_same_objective(const char *scenario)
{
    run warm, cold;
    run_ok(&warm, "plan '%s' --quiet --out out", scenario);
    run_ok(&cold, "plan '%s' --no-decompose --quiet --out out", scenario);
    double a = json_number_at(&warm, "summary.json", "objective_usd");
    double b = json_number_at(&cold, "summary.json", "objective_usd");
    cr_assert_leq(fabs(a - b), 1e-9 * fmax(1.0, fabs(a)), "objective %.17g warm, %.17g cold", a, b);
    run_remove(&warm);
    run_remove(&cold);
}

Test(determinism, no_decompose_reaches_the_same_objective)
{
    check_same_objective(cap_test_path(SCENARIO));
    run g;
    generate(&g);
    char path[512];
    snprintf(path, sizeof path, "%s/gen.yaml", g.dir);
    check_same_objective(path);
    run_remove(&g);
}
