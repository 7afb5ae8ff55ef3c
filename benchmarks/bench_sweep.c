/* bench_sweep.c: checks sweeps re-solved from the previous basis, then times them.
 *
 * On a generated scenario (default 50 workloads x 300 offerings x 8 periods):
 * 1. Check: for each sweep below, every point solved warm must equal the same point solved
 *    cold (rebuilt, period-block start) to 1e-9 relative, and the last point must equal a
 *    plain cap_plan_solve of the swept scenario; otherwise exit 1 before any timing.
 * 2. Time per point, warm against cold, for sweeps that edit right-hand sides (demand),
 *    costs and coefficients (H100 prices, which also sit in a commitment row) and
 *    coefficients only (one provider's availability). The warm figure is the mean over
 *    the points that started warm (each thread's first point is cold).
 * 3. Throughput (points per second, wall and CPU time) of longer demand and availability
 *    sweeps on 1 and 2 threads.
 *
 * usage: bench_sweep [--workloads W] [--offerings O] [--periods T] [--seed S]
 *                    [--points N (8)] [--throughput-points N (24)] [--threads-list 1,2]
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "generate.h"
#include "plan.h"
#include "sweep.h"

typedef struct {
    cap_generate_options size;
    int points, throughput_points;
    int threads[8], thread_count;
} bench_args;

static bool parse_args(int argc, char **argv, bench_args *a)
{
    *a = (bench_args){.size = {50, 300, 8, 1},
                      .points = 8,
                      .throughput_points = 24,
                      .threads = {1, 2},
                      .thread_count = 2};
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value)
            return false;
        if (strcmp(argv[i], "--workloads") == 0)
            a->size.workloads = atoi(value);
        else if (strcmp(argv[i], "--offerings") == 0)
            a->size.offerings = atoi(value);
        else if (strcmp(argv[i], "--periods") == 0)
            a->size.periods = atoi(value);
        else if (strcmp(argv[i], "--seed") == 0)
            a->size.seed = strtoull(value, NULL, 10);
        else if (strcmp(argv[i], "--points") == 0)
            a->points = atoi(value);
        else if (strcmp(argv[i], "--throughput-points") == 0)
            a->throughput_points = atoi(value);
        else if (strcmp(argv[i], "--threads-list") == 0) {
            a->thread_count = 0;
            char *copy = strdup(value), *save = NULL;
            for (char *t = strtok_r(copy, ",", &save); t && a->thread_count < 8;
                 t = strtok_r(NULL, ",", &save))
                a->threads[a->thread_count++] = atoi(t);
            free(copy);
        } else
            return false;
        i++;
    }
    return a->points >= 2 && a->throughput_points >= 2 && a->thread_count > 0;
}

/* ---- running ---------------------------------------------------------------------------- */

static cap_sweep_result *sweep(const cap_scenario *s, const cap_sweep_axis *axis, bool cold,
                               int threads)
{
    cap_sweep_options o;
    cap_sweep_options_for_axis(&o, axis);
    o.cold = cold;
    o.threads = threads;
    cap_diag diag;
    cap_diag_init(&diag);
    cap_sweep_result *r = NULL;
    cap_status rc = cap_sweep_run(s, &o, &r, &diag);
    cap_diag_print(&diag, stderr);
    cap_diag_free(&diag);
    return rc == CAP_OK ? r : NULL;
}

static bool axis_for(const cap_scenario *s, const char *spec, cap_sweep_axis *axis)
{
    cap_diag diag;
    cap_diag_init(&diag);
    cap_status rc = cap_sweep_axis_parse(s, spec, axis, &diag);
    cap_diag_print(&diag, stderr);
    cap_diag_free(&diag);
    return rc == CAP_OK;
}

static double plan_objective(const cap_scenario *base, const cap_sweep_axis *axis, double value)
{
    cap_scenario *s = cap_scenario_clone(base);
    cap_sweep_apply(base, s, axis, 1, &value);
    cap_plan_options options;
    cap_plan_options_init(&options);
    cap_diag diag;
    cap_diag_init(&diag);
    cap_plan *plan = NULL;
    double objective = NAN;
    if (cap_plan_solve(s, &options, &plan, &diag) == CAP_OK && plan->status == CAP_PLAN_OPTIMAL)
        objective = plan->objective_usd;
    cap_plan_free(plan);
    cap_diag_free(&diag);
    cap_scenario_free(s);
    return objective;
}

static bool same(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

/* ---- check, then time ------------------------------------------------------------------- */

typedef struct {
    const char *what, *spec;
    double warm_per_point, cold_per_point, warm_sweep_s, cold_sweep_s;
    int warm_points;
} timing;

static bool check_and_time(const cap_scenario *s, timing *t)
{
    cap_sweep_axis axis;
    if (!axis_for(s, t->spec, &axis))
        return false;
    cap_sweep_result *warm = sweep(s, &axis, false, 1), *cold = sweep(s, &axis, true, 1);
    bool ok = warm && cold;
    double warm_total = 0.0, cold_total = 0.0;
    for (int p = 0; ok && p < warm->point_count; p++) {
        const cap_sweep_point *w = &warm->points[p], *c = &cold->points[p];
        ok = w->status == CAP_PLAN_OPTIMAL && c->status == CAP_PLAN_OPTIMAL &&
             same(w->objective_usd, c->objective_usd);
        if (!ok)
            fprintf(stderr, "CHECK FAILED: %s point %d: warm %.15g (%s) cold %.15g (%s)\n", t->spec,
                    p, w->objective_usd, cap_plan_status_name(w->status), c->objective_usd,
                    cap_plan_status_name(c->status));
        if (w->warm) {
            warm_total += w->seconds;
            t->warm_points++;
        }
        cold_total += c->seconds;
    }
    int last = axis.value_count - 1;
    double reference = ok ? plan_objective(s, &axis, axis.values[last]) : NAN;
    if (ok && !same(warm->points[last].objective_usd, reference)) {
        fprintf(stderr, "CHECK FAILED: %s last point %.15g, cap_plan_solve %.15g\n", t->spec,
                warm->points[last].objective_usd, reference);
        ok = false;
    }
    if (ok) {
        t->warm_per_point = t->warm_points ? warm_total / t->warm_points : NAN;
        t->cold_per_point = cold_total / cold->point_count;
        t->warm_sweep_s = warm->seconds;
        t->cold_sweep_s = cold->seconds;
    }
    cap_sweep_result_free(warm);
    cap_sweep_result_free(cold);
    cap_sweep_axis_free(&axis);
    return ok;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Points per second of one sweep on each thread count; CPU seconds too, since on a shared
 * machine the wall time also measures the neighbours. */
static void throughput(const cap_scenario *s, const bench_args *a, const char *what,
                       const char *spec)
{
    cap_sweep_axis axis;
    if (!axis_for(s, spec, &axis))
        return;
    printf("\nthroughput, warm %s sweep of %d points (threads after the first start from "
           "point 1's basis):\n",
           what, axis.value_count);
    printf("  %-8s %12s %12s %14s %10s\n", "threads", "wall s", "cpu s", "points/s", "speedup");
    double base = NAN;
    for (int i = 0; i < a->thread_count; i++) {
        double cpu = cpu_seconds();
        cap_sweep_result *r = sweep(s, &axis, false, a->threads[i]);
        cpu = cpu_seconds() - cpu;
        if (!r)
            continue;
        double rate = r->point_count / r->seconds;
        if (isnan(base))
            base = rate;
        printf("  %-8d %12.3f %12.3f %14.2f %9.2fx\n", r->threads, r->seconds, cpu, rate,
               rate / base);
        cap_sweep_result_free(r);
    }
    cap_sweep_axis_free(&axis);
}

int main(int argc, char **argv)
{
    bench_args a;
    if (!parse_args(argc, argv, &a)) {
        fprintf(stderr, "usage: bench_sweep [--workloads W] [--offerings O] [--periods T] "
                        "[--seed S] [--points N] [--throughput-points N] [--threads-list 1,2]\n");
        return 2;
    }
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *s = NULL;
    if (cap_scenario_generate(&a.size, &s, &diag) != CAP_OK) {
        cap_diag_print(&diag, stderr);
        return 2;
    }
    cap_diag_free(&diag);
    char demand[96], price[96], availability[96];
    double step = 0.2 / (a.points - 1);
    snprintf(demand, sizeof demand, "wl1.demand=x0.9:1.1:%.17g", step);
    snprintf(price, sizeof price, "accelerator:H100.price=x0.9:1.1:%.17g", step);
    snprintf(availability, sizeof availability, "cloud2.availability=x0.9:1:%.17g",
             0.1 / (a.points - 1));
    timing timings[] = {{.what = "demand (rhs, dual simplex)", .spec = demand},
                        {.what = "H100 price (costs + commitment row)", .spec = price},
                        {.what = "availability (coefficients)", .spec = availability}};
    int count = (int)(sizeof timings / sizeof *timings);
    printf("bench_sweep: generated %dx%dx%d (seed %llu), %d points per sweep\n", a.size.workloads,
           a.size.offerings, a.size.periods, (unsigned long long)a.size.seed, a.points);
    for (int i = 0; i < count; i++)
        if (!check_and_time(s, &timings[i])) {
            cap_scenario_free(s);
            return 1;
        }
    printf("check: every warm point equals its cold solve (1e-9 relative) and the last point "
           "equals cap_plan_solve\n\n");
    printf("  %-38s %14s %14s %9s %12s %12s\n", "sweep", "warm s/point", "cold s/point", "speedup",
           "warm sweep s", "cold sweep s");
    for (int i = 0; i < count; i++)
        printf("  %-38s %14.4f %14.4f %8.1fx %12.2f %12.2f\n", timings[i].what,
               timings[i].warm_per_point, timings[i].cold_per_point,
               timings[i].cold_per_point / timings[i].warm_per_point, timings[i].warm_sweep_s,
               timings[i].cold_sweep_s);
    double step_long = 0.2 / (a.throughput_points - 1);
    snprintf(demand, sizeof demand, "wl1.demand=x0.9:1.1:%.17g", step_long);
    snprintf(availability, sizeof availability, "cloud2.availability=x0.9:1:%.17g",
             0.1 / (a.throughput_points - 1));
    throughput(s, &a, "demand", demand);
    throughput(s, &a, "availability", availability);
    cap_scenario_free(s);
    return 0;
}
