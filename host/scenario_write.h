/* scenario_write.h: write a cap_scenario as YAML (SPEC §3) that loads back to the same
 * scenario (numbers are written with 17 significant digits). Used by `capplan generate`. */
#ifndef CAP_SCENARIO_WRITE_H
#define CAP_SCENARIO_WRITE_H

#include <stdio.h>

#include "scenario.h"

void cap_scenario_write_yaml(FILE *out, const cap_scenario *scenario);

#endif
