/* export.h: write a scenario's model for other solvers (MPS free format or CPLEX LP). */
#ifndef CAP_EXPORT_H
#define CAP_EXPORT_H

#include "diag.h"
#include "scenario.h"

/* Writes the min-cost model (integer mode adds the unit columns) to `path`; the format
 * follows the extension: .mps (free MPS) or .lp (CPLEX LP). The file appears whole or not
 * at all. Returns CAP_OK, CAP_ERR_INPUT for an unknown extension, CAP_ERR_RUNTIME on I/O
 * failure. */
cap_status cap_model_export(const cap_scenario *scenario, bool integer, const char *path,
                            cap_diag *diag);

#endif
