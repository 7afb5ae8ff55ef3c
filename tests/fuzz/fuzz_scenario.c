/* fuzz_scenario.c: libFuzzer target for the scenario loader, validator and model builder.
 *
 * Each input is one YAML scenario held in memory. It goes through cap_scenario_load_buffer
 * (parse, pre-scan, include merging, every validation rule); when it loads, the GLPK model
 * is built with cap_model_build (LP and integer mode) and freed, and a small LP is also
 * solved (one thread, a short time limit) so that the solver, the decomposition and the
 * infeasibility diagnosis see fuzzed scenarios too. Nothing here may crash, hang (libFuzzer
 * -timeout) or leak (LeakSanitizer at exit and per input).
 *
 * Built by scripts/fuzz.sh (clang -fsanitize=fuzzer,address,undefined); see
 * docs/hardening.md. tests/test_hostile.c replays tests/fuzz/regressions/ the same way.
 */
#include <glpk.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "plan.h"
#include "scenario_load.h"

/* Solving is cheap for models this small; larger ones are only built. */
#define FUZZ_SOLVE_MAX_COLUMNS 2000

static void solve_small(const cap_scenario *scenario, const cap_model *model)
{
    if (model->column_count > FUZZ_SOLVE_MAX_COLUMNS)
        return;
    cap_plan_options options;
    cap_plan_options_init(&options);
    options.threads = 1;
    options.time_limit_s = 1.0;
    cap_diag diag;
    cap_diag_init(&diag);
    cap_plan *plan = NULL;
    if (cap_plan_solve(scenario, &options, &plan, &diag) == CAP_OK)
        cap_plan_free(plan);
    cap_diag_free(&diag);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    glp_term_out(GLP_OFF);
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *scenario = NULL;
    if (cap_scenario_load_buffer("fuzz.yaml", (const char *)data, size, &scenario, &diag) ==
        CAP_OK) {
        cap_model *model = NULL;
        if (cap_model_build(scenario, false, &model, &diag) == CAP_OK) {
            solve_small(scenario, model);
            cap_model_free(model);
        }
        if (cap_model_build(scenario, true, &model, &diag) == CAP_OK) /* integer mode */
            cap_model_free(model);
        cap_scenario_free(scenario);
    }
    cap_diag_free(&diag);
    return 0;
}
