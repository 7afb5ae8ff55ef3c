/* diagnose.h: explain an infeasible model in scenario terms.
 *
 * The hard rows of a copy of the model get elastic slack columns, the copy minimises the
 * total slack (each weighted by 1/max(1,|rhs|), so the stretch is relative), and every
 * row that had to stretch is named with the amount, e.g.
 *   "demand of workload 'pretrain' in 2026Q1 (60000 H100e) cannot be met: short by 1500".
 */
#ifndef CAP_DIAGNOSE_H
#define CAP_DIAGNOSE_H

#include "model.h"
#include "plan.h"

/* Fills *text (malloc'd, one finding per line) for the infeasible `model`. Returns CAP_OK
 * or CAP_ERR_RUNTIME. Never changes `model`. */
cap_status cap_model_diagnose(const cap_model *model, const cap_plan_options *options, char **text,
                              cap_diag *diag);

#endif
