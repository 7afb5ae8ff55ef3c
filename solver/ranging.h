/* ranging.h: objective-coefficient ranging of basic columns, fast.
 *
 * glp_analyze_coef computes one range at a time through glp_eval_tab_row, which reads the
 * matrix column by column through the API: 5.6 ms per basic column on a generated
 * 58,000-column model, 10 s for its 1,765 basic columns. This computes the same ranges from
 * one glp_btran per basic column and a compressed copy of the matrix made once: 0.66 s
 * there. The
 * arithmetic is GLPK's own (glp_eval_tab_row, then the dual ratio test of
 * glp_analyze_coef); tests hold the two to each other.
 *
 * With the simplex tableau row alpha of basic variable x_k (x_B[i] = sum_j alpha_j x_N[j]),
 * moving c_k by delta moves the reduced cost of each non-basic x_j to d_j + delta alpha_j;
 * the basis stays optimal (minimisation) while non-basic variables at their lower bound
 * keep d_j >= 0, those at their upper bound d_j <= 0, free ones d_j = 0 (fixed ones any).
 */
#ifndef CAP_RANGING_H
#define CAP_RANGING_H

#include <glpk.h>
#include <stdbool.h>

/* For each of the `count` basic structural columns (1-based GLPK numbers), the lowest and
 * highest objective coefficient at which the current basis stays optimal (+-INFINITY when
 * unlimited). The problem must be a minimisation with an optimal basic solution and a
 * valid factorisation (glp_bf_exists). Returns false when out of memory or when a column
 * is not basic. */
bool cap_cost_ranges(glp_prob *lp, const int *columns, int count, double *low, double *high);

/* Ranging along directions: direction d moves the objective coefficients of the structural
 * columns columns[start[d] .. start[d+1]-1] together, c_j + t coef_j (an offering's price
 * moves the cost of every workload's column of it). For each direction, the interval
 * [low[d], high[d]] of t (+-INFINITY when unlimited) over which the current basis stays
 * optimal; the columns may be basic or not. Same preconditions as cap_cost_ranges; returns
 * false when out of memory or a column number is out of range. One glp_btran per direction
 * that holds a basic column. */
bool cap_direction_ranges(glp_prob *lp, const int *start, const int *columns, const double *coef,
                          int count, double *low, double *high);

#endif
