/* generate.h: random valid scenarios that exercise every constraint family (issue #5),
 * for scale tests, benchmarks and solver cross-checks. */
#ifndef CAP_GENERATE_H
#define CAP_GENERATE_H

#include <stdint.h>

#include "diag.h"
#include "scenario.h"

/* Sizes it takes: no more workloads than the scenario loader accepts, and sizes it writes
 * in seconds (whether the whole loads back is the caller's check). */
enum {
    CAP_GENERATE_MAX_WORKLOADS = 2048,
    CAP_GENERATE_MAX_OFFERINGS = 100000,
    CAP_GENERATE_MAX_PERIODS = 1000
};

typedef struct {
    int workloads, offerings, periods;
    uint64_t seed;
} cap_generate_options;

/* Builds a feasible scenario of the given size; the same options give the same scenario.
 * Returns CAP_OK, CAP_ERR_INPUT for sizes out of range, CAP_ERR_RUNTIME when out of memory. */
cap_status cap_scenario_generate(const cap_generate_options *options, cap_scenario **out,
                                 cap_diag *diag);

#endif
