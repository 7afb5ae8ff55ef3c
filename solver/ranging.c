/* ranging.c: objective-coefficient ranging of basic columns (see ranging.h). */
#include "ranging.h"

#include <math.h>
#include <stdlib.h>

/* The structural matrix, column-compressed (1-based columns, entries from start[j]). */
typedef struct {
    int *start, *row;
    double *value;
} csc;

static void csc_free(csc *a)
{
    free(a->start);
    free(a->row);
    free(a->value);
}

static bool csc_load(glp_prob *lp, int m, int n, csc *a)
{
    int nonzeros = glp_get_num_nz(lp);
    a->start = malloc(((size_t)n + 2) * sizeof *a->start);
    a->row = malloc(((size_t)nonzeros + 1) * sizeof *a->row);
    a->value = malloc(((size_t)nonzeros + 1) * sizeof *a->value);
    int *index = malloc(((size_t)m + 1) * sizeof *index);
    double *value = malloc(((size_t)m + 1) * sizeof *value);
    bool ok = a->start && a->row && a->value && index && value;
    int used = 0;
    for (int j = 1; ok && j <= n; j++) {
        a->start[j] = used;
        int len = glp_get_mat_col(lp, j, index, value); /* entries 1..len */
        for (int e = 1; e <= len && used < nonzeros; e++, used++) {
            a->row[used] = index[e];
            a->value[used] = value[e];
        }
    }
    if (ok)
        a->start[n + 1] = used;
    free(index);
    free(value);
    return ok;
}

/* The non-basic variables and their reduced costs, clipped as GLPK's dual ratio test does:
 * a variable at its lower bound with a slightly negative d counts as 0. */
typedef struct {
    int *stat; /* [m + n + 1], GLPK status of x_k (rows 1..m, columns m+1..m+n) */
    double *d; /* [m + n + 1] */
} nonbasic;

static bool nonbasic_load(glp_prob *lp, int m, int n, nonbasic *nb)
{
    nb->stat = malloc(((size_t)m + n + 1) * sizeof *nb->stat);
    nb->d = malloc(((size_t)m + n + 1) * sizeof *nb->d);
    if (!nb->stat || !nb->d)
        return false;
    for (int k = 1; k <= m + n; k++) {
        bool row = k <= m;
        int stat = row ? glp_get_row_stat(lp, k) : glp_get_col_stat(lp, k - m);
        double d = row ? glp_get_row_dual(lp, k) : glp_get_col_dual(lp, k - m);
        if (stat == GLP_NL && d < 0.0)
            d = 0.0;
        if (stat == GLP_NU && d > 0.0)
            d = 0.0;
        nb->stat[k] = stat;
        nb->d[k] = d;
    }
    return true;
}

/* Narrows [*lo, *hi] (the allowed change of c_k) by non-basic x_j with tableau entry alpha. */
static void ratio(int stat, double d, double alpha, double *lo, double *hi)
{
    if (stat == GLP_BS || stat == GLP_NS || fabs(alpha) < 1e-9)
        return;
    double limit = -d / alpha;                      /* where d + delta alpha reaches 0 */
    bool rises = (stat == GLP_NL) == (alpha > 0.0); /* NL: d + delta alpha >= 0 */
    if (stat == GLP_NF) {
        *lo = fmax(*lo, 0.0);
        *hi = fmin(*hi, 0.0);
    } else if (rises) {
        *lo = fmax(*lo, limit); /* delta may fall only to the limit */
    } else {
        *hi = fmin(*hi, limit);
    }
}

bool cap_direction_ranges(glp_prob *lp, const int *start, const int *columns, const double *coef,
                          int count, double *low, double *high)
{
    int m = glp_get_num_rows(lp), n = glp_get_num_cols(lp);
    csc a = {0};
    nonbasic nb = {0};
    int *position = calloc((size_t)n + 1, sizeof *position);
    double *rho = malloc(((size_t)m + 1) * sizeof *rho);
    double *change = calloc((size_t)n + 1, sizeof *change); /* d c_j / dt of this direction */
    bool ok = position && rho && change && csc_load(lp, m, n, &a) && nonbasic_load(lp, m, n, &nb);
    for (int i = 1; ok && i <= m; i++) {
        int k = glp_get_bhead(lp, i);
        if (k > m)
            position[k - m] = i;
    }
    for (int d = 0; ok && d < count; d++) {
        /* pi moves by t rho, rho = B^-T (the direction on the basic columns), so a non-basic
         * x_j's reduced cost moves by t (change_j + rho . a_j), a row's by -t rho_r. */
        bool any_basic = false;
        for (int i = 1; i <= m; i++)
            rho[i] = 0.0;
        for (int e = start[d]; ok && e < start[d + 1]; e++) {
            int j = columns[e];
            ok = j >= 1 && j <= n;
            if (ok && position[j]) {
                rho[position[j]] += coef[e];
                any_basic = true;
            } else if (ok) {
                change[j] += coef[e];
            }
        }
        if (!ok)
            break;
        double lo = -INFINITY, hi = INFINITY;
        if (any_basic) {
            glp_btran(lp, rho);
            for (int r = 1; r <= m; r++)
                if (nb.stat[r] != GLP_BS && rho[r] != 0.0)
                    ratio(nb.stat[r], nb.d[r], -rho[r], &lo, &hi);
            for (int j = 1; j <= n; j++) {
                int k = m + j;
                if (nb.stat[k] == GLP_BS || nb.stat[k] == GLP_NS)
                    continue;
                double alpha = change[j];
                for (int e = a.start[j]; e < a.start[j + 1]; e++)
                    alpha += rho[a.row[e]] * a.value[e];
                ratio(nb.stat[k], nb.d[k], alpha, &lo, &hi);
            }
        } else { /* rho is 0: only the direction's own columns move */
            for (int e = start[d]; e < start[d + 1]; e++) {
                int k = m + columns[e];
                ratio(nb.stat[k], nb.d[k], change[columns[e]], &lo, &hi);
                change[columns[e]] = 0.0; /* a column listed twice counts once */
            }
        }
        for (int e = start[d]; e < start[d + 1]; e++)
            change[columns[e]] = 0.0;
        low[d] = lo;
        high[d] = hi;
    }
    csc_free(&a);
    free(nb.stat);
    free(nb.d);
    free(position);
    free(rho);
    free(change);
    return ok;
}

bool cap_cost_ranges(glp_prob *lp, const int *columns, int count, double *low, double *high)
{
    /* Each basic column alone, with a unit step: direction i is columns[i] with coefficient 1. */
    int *start = malloc(((size_t)count + 1) * sizeof *start);
    double *ones = malloc(((size_t)count + 1) * sizeof *ones);
    bool ok = start && ones;
    for (int i = 0; ok && i < count; i++) {
        ok = columns[i] >= 1 && columns[i] <= glp_get_num_cols(lp) &&
             glp_get_col_stat(lp, columns[i]) == GLP_BS;
        start[i] = i;
        ones[i] = 1.0;
    }
    if (ok) {
        start[count] = count;
        ok = cap_direction_ranges(lp, start, columns, ones, count, low, high);
    }
    for (int i = 0; ok && i < count; i++) {
        double c = glp_get_obj_coef(lp, columns[i]);
        low[i] += c;
        high[i] += c;
    }
    free(start);
    free(ones);
    return ok;
}
