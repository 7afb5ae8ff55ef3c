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

/* Adds a line to `notes` for each offering and period where `plan` holds more accelerators
 * than the offering's capacity, each region and period where it draws more power than the
 * envelope, and each workload and period where it takes more H100e from spot offerings than
 * max_spot_share of the demand (at most 10 lines, then a count). A plan read from a file may do
 * either; it is still simulated as written. Returns how many limits it exceeds. */
int cap_plan_limits_check(const cap_scenario *scenario, const cap_plan *plan, cap_diag *notes);

#endif
