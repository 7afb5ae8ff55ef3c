/* scenario_load.h: read and validate a YAML scenario (SPEC §3) into a cap_scenario.
 *
 * Uses libyaml's document API so that every node keeps its line and column. Validation
 * is complete before anything is returned: every problem found is appended to `diag` as
 * "FILE:LINE:COL: message" (all of them, not only the first), and no scenario is
 * returned when there is any.
 */
#ifndef CAP_SCENARIO_LOAD_H
#define CAP_SCENARIO_LOAD_H

#include <stddef.h>

#include "diag.h"
#include "scenario.h"

/* Loads `path`, following `include:` entries relative to the including file.
 * Returns CAP_OK and sets *out, or CAP_ERR_INPUT with messages in `diag`
 * (unreadable files are input errors too: the user named them). */
cap_status cap_scenario_load(const char *path, cap_scenario **out, cap_diag *diag);

/* Same from memory; `name` is used in messages and `include:` paths are relative to the
 * current directory. For fuzzing and tests. */
cap_status cap_scenario_load_buffer(const char *name, const char *data, size_t size,
                                    cap_scenario **out, cap_diag *diag);

#endif
