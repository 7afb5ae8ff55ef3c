/* plan_csv.h: read a plan back from plan.csv (SPEC §5) to evaluate it with `simulate --plan`.
 *
 * Needs the columns period, workload, offering and accelerators (others are ignored, in
 * any order). Rows for the same (period, workload, offering) add up. Every problem is
 * reported as FILE:LINE:COL: message.
 */
#ifndef CAP_PLAN_CSV_H
#define CAP_PLAN_CSV_H

#include "diag.h"
#include "plan.h"
#include "scenario.h"

cap_status cap_plan_read_csv(const char *path, const cap_scenario *scenario, cap_plan **out,
                             cap_diag *diag);

#endif
