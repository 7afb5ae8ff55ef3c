/* export.h: write a scenario's model for other solvers (MPS free format or CPLEX LP). */
#ifndef CAP_EXPORT_H
#define CAP_EXPORT_H

#include "diag.h"
#include "scenario.h"

/* Writes the model (integer mode adds the unit columns) to `path`: for min_cost, the
 * min-cost model; for max_served, its first stage, which minimises unmet H100e-hours
 * (objective "unmet_h100e_hours"; capplan then minimises cost with unmet hours held at that
 * optimum, a second model that needs the first's value). The format
 * follows the extension: .mps (free MPS) or .lp (CPLEX LP). The file appears whole or not
 * at all. Returns CAP_OK, CAP_ERR_INPUT for an unknown extension, CAP_ERR_RUNTIME on I/O
 * failure. */
cap_status cap_model_export(const cap_scenario *scenario, bool integer, const char *path,
                            cap_diag *diag);

#endif
