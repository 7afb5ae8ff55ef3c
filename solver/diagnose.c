/* diagnose.c: elastic re-solve of an infeasible model (see diagnose.h). */
#define _POSIX_C_SOURCE 200809L
#include "diagnose.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *text;
    size_t length, capacity;
} text_buffer;

/* Appends `length` bytes of `text`, keeping the buffer a C string. */
static void text_append(text_buffer *b, const char *text, size_t length)
{
    if (b->length + length + 1 > b->capacity) {
        size_t capacity = (b->capacity + length + 1) * 2;
        char *grown = realloc(b->text, capacity);
        if (!grown)
            return;
        b->text = grown;
        b->capacity = capacity;
    }
    memcpy(b->text + b->length, text, length);
    b->length += length;
    b->text[b->length] = '\0';
}

static void text_add(text_buffer *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(text_buffer *b, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    text_append(b, line, strlen(line));
    text_append(b, "\n", 1);
}

/* The constraint row r stands for, in planners' words, with its right-hand side. */
static void subject(const cap_model *m, int r, double rhs, char *buffer, size_t size)
{
    const cap_scenario *s = m->scenario;
    const cap_row_info *info = &m->rows[r - 1];
    const char *period = info->period >= 0 ? s->periods[info->period].id : "the horizon";
    switch (info->kind) {
    case CAP_ROW_DEMAND:
        snprintf(buffer, size, "demand of workload '%s' in %s (%.6g H100e)",
                 s->workloads[info->a].id, period, rhs);
        break;
    case CAP_ROW_CAPACITY:
        snprintf(buffer, size, "capacity of offering '%s' in %s (%.6g accelerators)",
                 s->offerings[info->a].id, period, rhs);
        break;
    case CAP_ROW_MAX_SHARE:
        snprintf(buffer, size, "max_share of provider '%s' in %s (%.6g)", s->providers[info->a].id,
                 period, s->providers[info->a].max_share);
        break;
    case CAP_ROW_MIN_SHARE:
        snprintf(buffer, size, "min_share of provider '%s' in %s (%.6g)", s->providers[info->a].id,
                 period, s->providers[info->a].min_share);
        break;
    case CAP_ROW_POWER:
        snprintf(buffer, size, "power envelope of region '%s' in %s (%.6g MW)",
                 s->regions[info->a].id, period, rhs / 1000.0);
        break;
    case CAP_ROW_SPOT:
        snprintf(buffer, size, "spot cap of workload '%s' in %s (%.6g H100e)",
                 s->workloads[info->a].id, period, rhs);
        break;
    case CAP_ROW_BUDGET:
        snprintf(buffer, size, "budget (%.6g USD)", rhs);
        break;
    case CAP_ROW_UNITS:
        snprintf(buffer, size, "whole units of offering '%s' in %s", s->offerings[info->a].id,
                 period);
        break;
    default:
        cap_model_row_name(m, r, buffer, size);
    }
}

/* Says what stretching row r by `amount` means. */
static void describe(const cap_model *m, int r, double rhs, double amount, text_buffer *out)
{
    char what[600];
    subject(m, r, rhs, what, sizeof what);
    switch (m->rows[r - 1].kind) {
    case CAP_ROW_DEMAND:
        text_add(out, "%s cannot be met: short by %.6g H100e", what, amount);
        break;
    case CAP_ROW_CAPACITY:
        text_add(out, "%s is too small: needs %.6g more", what, amount);
        break;
    case CAP_ROW_MAX_SHARE:
    case CAP_ROW_SPOT:
        text_add(out, "%s cannot hold: over by %.6g H100e", what, amount);
        break;
    case CAP_ROW_MIN_SHARE:
        text_add(out, "%s cannot be reached: short by %.6g H100e", what, amount);
        break;
    case CAP_ROW_POWER:
        text_add(out, "%s is too small: needs %.6g MW more", what, amount / 1000.0);
        break;
    case CAP_ROW_BUDGET:
        text_add(out, "%s is too small: needs %.6g USD more", what, amount);
        break;
    case CAP_ROW_UNITS:
        text_add(out, "%s cannot match: off by %.6g accelerators", what, amount);
        break;
    default:
        text_add(out, "%s cannot hold: off by %.6g", what, amount);
    }
}

/* At most this many binding rows are listed; the rest are counted. */
#define DIAGNOSE_BINDING_LINES 20

static bool elastic_row(cap_row_kind kind)
{
    return kind != CAP_ROW_COMMITMENT; /* commitments always hold: the top-up pays them */
}

/* Adds one elastic column with coefficient `sign` in row r; returns its index. */
static int add_elastic(glp_prob *lp, int r, double sign, double weight)
{
    int c = glp_add_cols(lp, 1);
    int index[2] = {0, r};
    double value[2] = {0.0, sign};
    glp_set_mat_col(lp, c, 1, index, value);
    glp_set_col_bnds(lp, c, GLP_LO, 0.0, 0.0);
    glp_set_obj_coef(lp, c, weight);
    return c;
}

cap_status cap_model_diagnose(const cap_model *m, const cap_plan_options *options, char **text,
                              cap_diag *diag)
{
    *text = NULL;
    glp_prob *lp = glp_create_prob();
    glp_copy_prob(lp, m->lp, GLP_OFF);
    int original_columns = glp_get_num_cols(lp);
    for (int c = 1; c <= original_columns; c++) {
        glp_set_obj_coef(lp, c, 0.0);
        glp_set_col_kind(lp, c, GLP_CV);
    }
    int rows = glp_get_num_rows(lp);
    /* elastic[2r], elastic[2r+1]: the columns that relax row r up and down */
    int *elastic = calloc(2 * ((size_t)rows + 1), sizeof *elastic);
    if (!elastic) {
        glp_delete_prob(lp);
        cap_diag_add(diag, "out of memory diagnosing infeasibility");
        return CAP_ERR_RUNTIME;
    }
    for (int r = 1; r <= rows; r++) {
        if (r > m->row_count || !elastic_row(m->rows[r - 1].kind))
            continue;
        int type = glp_get_row_type(lp, r);
        double rhs = type == GLP_UP ? glp_get_row_ub(lp, r) : glp_get_row_lb(lp, r);
        double weight = 1.0 / fmax(1.0, fabs(rhs));
        if (type == GLP_LO || type == GLP_FX)
            elastic[2 * r] = add_elastic(lp, r, 1.0, weight);
        if (type == GLP_UP || type == GLP_FX)
            elastic[2 * r + 1] = add_elastic(lp, r, -1.0, weight);
    }
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = options->verbose ? GLP_MSG_ON : GLP_MSG_OFF;
    parm.meth = GLP_DUALP;
    glp_std_basis(lp);
    int ret = glp_simplex(lp, &parm);
    text_buffer out = {0};
    if (ret != 0 || glp_get_status(lp) != GLP_OPT) {
        text_add(&out, "the elastic re-solve found no explanation (GLPK code %d)", ret);
    } else {
        /* The rows that stretch, then the others of the conflict: the rows that hold
         * exactly and whose dual is not 0 (loosening one would shrink the stretch). */
        text_buffer held = {0};
        int found = 0, binding = 0;
        for (int r = 1; r <= m->row_count; r++) {
            int type = glp_get_row_type(lp, r);
            double rhs = type == GLP_UP ? glp_get_row_ub(lp, r) : glp_get_row_lb(lp, r);
            double tolerance = 1e-7 * fmax(1.0, fabs(rhs));
            bool stretched = false;
            for (int side = 0; side < 2; side++) {
                int c = elastic[2 * r + side];
                double amount = c ? glp_get_col_prim(lp, c) : 0.0;
                if (amount > tolerance) {
                    describe(m, r, rhs, amount, &out);
                    found++;
                    stretched = true;
                }
            }
            cap_row_kind kind = m->rows[r - 1].kind;
            if (stretched || !elastic_row(kind) || kind == CAP_ROW_UNITS ||
                fabs(glp_get_row_dual(lp, r)) <= 1e-9)
                continue;
            if (binding++ < DIAGNOSE_BINDING_LINES) {
                char what[600];
                subject(m, r, rhs, what, sizeof what);
                text_add(&held, "  %s", what);
            }
        }
        if (found > 0 && binding > 0) {
            text_add(&out, "held back by these binding constraints:");
            text_append(&out, held.text ? held.text : "", held.length);
            if (binding > DIAGNOSE_BINDING_LINES)
                text_add(&out, "  and %d more", binding - DIAGNOSE_BINDING_LINES);
        }
        free(held.text);
        if (found == 0)
            text_add(&out, "the LP relaxation is feasible: whole units (accelerator 'unit' "
                           "sizes) make the integer model infeasible");
    }
    free(elastic);
    glp_delete_prob(lp);
    if (!out.text) {
        cap_diag_add(diag, "out of memory diagnosing infeasibility");
        return CAP_ERR_RUNTIME;
    }
    *text = out.text;
    return CAP_OK;
}
