/* decompose.h: warm-start the whole model from its period blocks solved in parallel.
 * Exact: only the starting basis changes, the final solve is the whole model's. */
#ifndef CAP_DECOMPOSE_H
#define CAP_DECOMPOSE_H

#include "model.h"

/* Solves each period's block alone on up to `threads` OpenMP threads (0 = OpenMP's
 * default) and installs the combined basis in `model`. Returns false, leaving the model's
 * basis as it was, when the model has fewer than two periods or 2,000 columns (then a cold
 * solve is as fast) or a block cannot be solved alone (then the caller solves from
 * scratch). */
bool cap_model_warm_start_from_blocks(cap_model *model, int threads);

#endif
