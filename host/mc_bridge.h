/* mc_bridge.h: scenario + plan -> the Monte Carlo engine's flat problem (kernels/mc.h).
 *
 * The bridge owns every array the problem points to; free it with cap_mc_bridge_free.
 * The plan cost handed to the engine is what the plan pays for all its capacity plus any
 * unused take-or-pay commitment; LP penalties are not part of it (SPEC §2).
 */
#ifndef CAP_MC_BRIDGE_H
#define CAP_MC_BRIDGE_H

#include "diag.h"
#include "mc.h"
#include "plan.h"
#include "scenario.h"

typedef struct {
    cap_mc_problem problem;
    double *hours, *demand, *sigma, *chol, *penalty, *availability, *offering_outage,
        *provider_outage, *price, *capacity, *thr, *plan;
    unsigned char *has_penalty, *recourse_ok;
    int *offering_provider;
} cap_mc_bridge;

/* Fills `bridge` from the scenario and the plan's x. Returns CAP_OK, CAP_ERR_INPUT when the
 * correlation matrix is not positive semidefinite, CAP_ERR_RUNTIME when out of memory. */
cap_status cap_mc_bridge_build(const cap_scenario *scenario, const cap_plan *plan,
                               cap_mc_bridge *bridge, cap_diag *diag);

void cap_mc_bridge_free(cap_mc_bridge *bridge);

/* The Monte Carlo options `simulate` and `compare` both take (-n, -s, --backend,
 * --recourse, --threads); samples and seed fall back to the scenario's. */
typedef struct {
    int64_t samples, threads;
    uint64_t seed;
    bool has_samples, has_seed;
    cap_mc_backend_kind backend;
    cap_mc_recourse recourse;
} cap_mc_cli;

/* Parses getopt's option `code` with its text into cli when it is -n, -s or --threads
 * ('T'): 1 when it was one of them, -1 when its value is bad (the message is printed), 0 when
 * it is another option. --backend and --recourse each command words its own way. */
int cap_mc_cli_parse(int code, const char *text, cap_mc_cli *cli);

/* Sets those options in o (initialised by cap_mc_options_init). */
void cap_mc_cli_apply(const cap_mc_cli *cli, const cap_scenario *scenario, cap_mc_options *o);

/* Capacity cost of x plus the unused part of each provider's commitment; NAN when out
 * of memory. */
double cap_plan_paid_cost(const cap_scenario *scenario, const cap_plan *plan);

#endif
