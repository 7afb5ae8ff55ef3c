/* test_clp.c: capplan's optimum against an independent solver.
 *
 * Generated scenarios (every constraint family) are solved by capplan and exported as MPS;
 * Clp (Debian coinor-clp) solves the MPS and the two optima must agree to 1e-6 relative.
 * Skipped, with a message, when clp is not installed.
 */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export.h"
#include "generate.h"
#include "plan.h"
#include "support.h"

/* Runs clp on an MPS file; returns its optimal objective or NAN. */
static double clp_objective(const char *mps)
{
    char command[1024];
    snprintf(command, sizeof command, "clp '%s' -dualsimplex -quit 2>&1", mps);
    FILE *pipe = popen(command, "r");
    cr_assert_not_null(pipe);
    char line[1024];
    double objective = NAN;
    while (fgets(line, sizeof line, pipe)) {
        const char *at = strstr(line, "Optimal objective ");
        if (at)
            objective = strtod(at + strlen("Optimal objective "), NULL);
    }
    pclose(pipe);
    return objective;
}

static void cross_check(int workloads, int offerings, int periods, uint64_t seed)
{
    if (system("command -v clp >/dev/null 2>&1") != 0)
        cr_skip_test("clp not installed (Debian coinor-clp): cross-check skipped");
    cap_generate_options g = {workloads, offerings, periods, seed};
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *s = NULL;
    cr_assert_eq(cap_scenario_generate(&g, &s, &diag), CAP_OK);
    char mps[] = "/tmp/capplan-clp-XXXXXX.mps";
    int fd = mkstemps(mps, 4);
    cr_assert(fd >= 0);
    close(fd);
    cr_assert_eq(cap_model_export(s, false, mps, &diag), CAP_OK);
    cap_plan_options options;
    cap_plan_options_init(&options);
    cap_plan *plan = NULL;
    cr_assert_eq(cap_plan_solve(s, &options, &plan, &diag), CAP_OK);
    cr_assert_eq(plan->status, CAP_PLAN_OPTIMAL, "generated scenario %dx%dx%d seed %llu: %s",
                 workloads, offerings, periods, (unsigned long long)seed,
                 cap_plan_status_name(plan->status));
    double clp = clp_objective(mps);
    unlink(mps);
    cr_assert(isfinite(clp), "clp gave no optimum");
    /* Clp prints ten significant digits. */
    cr_assert_float_eq(plan->objective_usd, clp, 1e-6 * fabs(clp) + 1e-6,
                       "capplan %.10g vs clp %.10g (%dx%dx%d seed %llu)", plan->objective_usd, clp,
                       workloads, offerings, periods, (unsigned long long)seed);
    cap_plan_free(plan);
    cap_scenario_free(s);
    cap_diag_free(&diag);
}

Test(clp, small_generated_seeds)
{
    for (uint64_t seed = 1; seed <= 6; seed++)
        cross_check(4 + (int)seed, 12 + 6 * (int)seed, 1 + (int)(seed % 4), seed);
}

Test(clp, medium_generated)
{
    cross_check(10, 50, 4, 42);
}

Test(clp, one_period_many_offerings)
{
    cross_check(20, 120, 1, 7);
}
