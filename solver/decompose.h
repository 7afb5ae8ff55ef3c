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

/* Period blocks kept between solves of one model (a sweep's points): each block keeps its
 * own GLPK problem and optimal basis, so after a change of bounds, costs or coefficients
 * each block's simplex goes on from where it stopped (much cheaper per iteration than the
 * whole model's). Their combined basis starts the whole model's simplex, as in
 * cap_model_warm_start_from_blocks; when no linking row binds it is optimal by
 * construction and the blocks' values are the answer (cap_blocks_solution). Blocks are
 * dealt to threads as there, but the threads are the kept blocks' own (a GLPK problem must
 * stay in the thread whose environment made it): the calling thread and helper threads
 * that live as long as the blocks. */
typedef struct cap_blocks cap_blocks;

/* Builds the period blocks of `model` from its scenario (which the model must mirror; the
 * model must outlive the blocks and keep its rows and columns), each starting from
 * `model`'s basis restricted to it, on up to `threads` threads (0 = OpenMP's default).
 * NULL when the model is not one to decompose (fewer than two periods or 2,000 columns) or
 * out of memory. Integer models decompose as their relaxation (the one-shot start uses
 * them so); kept blocks are for LP sweeps (resolve.c does not keep them for integer ones). */
cap_blocks *cap_blocks_create(const cap_model *model, int threads);

/* Stops the helper threads and frees everything; call from the thread that created it. */
void cap_blocks_free(cap_blocks *blocks);

/* Sets the model's column (row) to these entries (1-based, as glp_set_mat_col and
 * glp_set_mat_row take them), for the blocks and the model: the blocks take the entries in
 * their own rows (columns) at the next start; the model takes them at cap_blocks_apply
 * (so a point the blocks answer alone does not pay for rewriting the model too). Costs and
 * bounds are set in the model directly: every start copies them. False when out of memory:
 * call cap_blocks_apply, set the line in the model directly and free the blocks. */
bool cap_blocks_column_set(cap_blocks *blocks, int column, int count, const int *index,
                           const double *value);
bool cap_blocks_row_set(cap_blocks *blocks, int row, int count, const int *index,
                        const double *value);

/* Brings the model's coefficients up to date with what cap_blocks_column_set and
 * cap_blocks_row_set logged. Call before anything reads or solves the model itself. */
void cap_blocks_apply(cap_blocks *blocks, cap_model *model);

/* Solves the blocks from scratch as cap_model_warm_start_from_blocks does and installs the
 * combined basis in `model`. False, leaving the model's basis as it was, when a block has
 * no optimum of its own. */
bool cap_blocks_cold_start(cap_blocks *blocks, cap_model *model);

/* Brings the blocks to `model`, re-solves each from its last basis (coordinating the
 * commitments as the cold start does) and installs the combined basis in `model`. False,
 * leaving the model's basis as it was, when a block has no optimum of its own. */
bool cap_blocks_warm_start(cap_blocks *blocks, cap_model *model);

/* After a start: the values of the model's columns (1-based) when the combined basis is
 * optimal for the whole model by construction (the blocks met every commitment at their
 * true prices and no other row links the periods); then they are the model's optimal
 * solution and no simplex of the whole model needs to run. NULL otherwise. */
const double *cap_blocks_solution(const cap_blocks *blocks);

#endif
