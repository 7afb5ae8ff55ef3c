/* sweep.c: parameter sweeps re-solved from the previous basis (see sweep.h).
 *
 * Three parts: parsing an axis against the scenario (every value checked before anything is
 * solved), applying a point to a scenario copy, and syncing the GLPK model with that copy.
 * The sync says what kind of change it made, which picks the simplex for the warm solve:
 *   right-hand sides and bounds (demand, capacity, spot cap, commitment, power) -> dual;
 *   costs only (price, penalty) -> primal;
 *   coefficients (availability, outage, shares; prices and penalties that also sit in a
 *   commitment or budget row) -> the column or row is rewritten, dual then primal;
 *   structure (a share cap, commitment or penalty that appears or goes) -> rebuild, with
 *   the basis carried over by row and column identity.
 * Rewritten columns and rows reproduce model.c's coefficients exactly.
 */
#define _POSIX_C_SOURCE 200809L
#include "sweep.h"

#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "resolve.h"

enum { AXIS_MAX_VALUES = 10000, GRID_MAX_POINTS = 1000000 };

static const char *const field_names[CAP_FIELD_COUNT] = {
    "price",     "capacity",  "availability", "outage",     "demand",  "penalty",
    "max_spot_share", "max_share", "min_share", "commitment", "power_mw"};

const char *cap_field_name(cap_field field)
{
    return (unsigned)field < CAP_FIELD_COUNT ? field_names[field] : "field";
}

static const char *target_kind_name(cap_target_kind kind)
{
    static const char *const names[] = {"offering", "workload",    "provider",
                                        "region",   "accelerator", "all offerings"};
    return names[kind];
}

static bool is_offering_field(cap_field f)
{
    return f == CAP_FIELD_PRICE || f == CAP_FIELD_CAPACITY || f == CAP_FIELD_AVAILABILITY ||
           f == CAP_FIELD_OUTAGE;
}

static bool is_fraction_field(cap_field f)
{
    return f == CAP_FIELD_AVAILABILITY || f == CAP_FIELD_OUTAGE ||
           f == CAP_FIELD_MAX_SPOT_SHARE || f == CAP_FIELD_MAX_SHARE ||
           f == CAP_FIELD_MIN_SHARE;
}

/* Which fields a target kind takes. A provider's own `outage` is Monte Carlo only, so
 * provider.outage is refused rather than silently read as its offerings' outage. */
static bool kind_accepts(cap_target_kind kind, cap_field f)
{
    switch (kind) {
    case CAP_TARGET_OFFERING:
    case CAP_TARGET_ACCELERATOR:
    case CAP_TARGET_ALL_OFFERINGS:
        return is_offering_field(f);
    case CAP_TARGET_WORKLOAD:
        return f == CAP_FIELD_DEMAND || f == CAP_FIELD_PENALTY || f == CAP_FIELD_MAX_SPOT_SHARE;
    case CAP_TARGET_PROVIDER:
        return f == CAP_FIELD_MAX_SHARE || f == CAP_FIELD_MIN_SHARE ||
               f == CAP_FIELD_COMMITMENT ||
               (is_offering_field(f) && f != CAP_FIELD_OUTAGE);
    case CAP_TARGET_REGION:
        return f == CAP_FIELD_POWER_MW || is_offering_field(f);
    }
    return false;
}

/* True when axis `a` changes offering o. */
static bool offering_in(const cap_scenario *s, const cap_sweep_axis *a, int o)
{
    switch (a->kind) {
    case CAP_TARGET_OFFERING:
        return o == a->index;
    case CAP_TARGET_ACCELERATOR:
        return s->offerings[o].accelerator == a->index;
    case CAP_TARGET_PROVIDER:
        return cap_offering_provider(s, o) == a->index;
    case CAP_TARGET_REGION:
        return s->offerings[o].region == a->index;
    case CAP_TARGET_ALL_OFFERINGS:
        return true;
    case CAP_TARGET_WORKLOAD:
        break;
    }
    return false;
}

/* ---- applying values ------------------------------------------------------------------ */

static double changed(double current, const cap_sweep_axis *a, double value)
{
    double v = a->scale ? current * value : value;
    if (a->clamp && is_fraction_field(a->field))
        v = fmin(fmax(v, 0.0), 1.0);
    return v;
}

/* reset: copy the base's values of the axis's field; else apply `value` to the work's. */
static void offering_field(const cap_scenario *base, cap_scenario *work, const cap_sweep_axis *a,
                           bool reset, double value)
{
    int T = work->period_count;
    for (int o = 0; o < work->offering_count; o++) {
        if (!offering_in(work, a, o))
            continue;
        cap_offering *to = &work->offerings[o];
        const cap_offering *from = &base->offerings[o];
        switch (a->field) {
        case CAP_FIELD_PRICE:
            for (int t = 0; t < T; t++)
                to->price[t] = reset ? from->price[t] : changed(to->price[t], a, value);
            break;
        case CAP_FIELD_CAPACITY:
            for (int t = 0; t < T; t++)
                to->capacity[t] = reset ? from->capacity[t] : changed(to->capacity[t], a, value);
            break;
        case CAP_FIELD_AVAILABILITY:
            to->availability = reset ? from->availability : changed(to->availability, a, value);
            break;
        case CAP_FIELD_OUTAGE:
            to->outage = reset ? from->outage : changed(to->outage, a, value);
            break;
        default:
            break;
        }
    }
}

static void workload_field(const cap_scenario *base, cap_scenario *work, const cap_sweep_axis *a,
                           bool reset, double value)
{
    cap_workload *to = &work->workloads[a->index];
    const cap_workload *from = &base->workloads[a->index];
    switch (a->field) {
    case CAP_FIELD_DEMAND:
        for (int t = 0; t < work->period_count; t++)
            to->demand[t] = reset ? from->demand[t] : changed(to->demand[t], a, value);
        break;
    case CAP_FIELD_PENALTY:
        to->penalty = reset ? from->penalty : changed(to->penalty, a, value);
        to->has_penalty = reset ? from->has_penalty : true;
        break;
    case CAP_FIELD_MAX_SPOT_SHARE:
        to->max_spot_share = reset ? from->max_spot_share : changed(to->max_spot_share, a, value);
        break;
    default:
        break;
    }
}

static void provider_field(const cap_scenario *base, cap_scenario *work, const cap_sweep_axis *a,
                           bool reset, double value)
{
    cap_provider *to = &work->providers[a->index];
    const cap_provider *from = &base->providers[a->index];
    switch (a->field) {
    case CAP_FIELD_MAX_SHARE:
        to->max_share = reset ? from->max_share : changed(to->max_share, a, value);
        to->has_max_share = reset ? from->has_max_share : true;
        break;
    case CAP_FIELD_MIN_SHARE:
        to->min_share = reset ? from->min_share : changed(to->min_share, a, value);
        to->has_min_share = reset ? from->has_min_share : true;
        break;
    case CAP_FIELD_COMMITMENT:
        to->commitment = reset ? from->commitment : changed(to->commitment, a, value);
        break;
    default:
        offering_field(base, work, a, reset, value);
        break;
    }
}

static void region_field(const cap_scenario *base, cap_scenario *work, const cap_sweep_axis *a,
                         bool reset, double value)
{
    if (a->field != CAP_FIELD_POWER_MW) {
        offering_field(base, work, a, reset, value);
        return;
    }
    double *to = work->regions[a->index].power_mw;
    const double *from = base->regions[a->index].power_mw;
    for (int t = 0; to && from && t < work->period_count; t++)
        to[t] = reset ? from[t] : changed(to[t], a, value);
}

static void axis_touch(const cap_scenario *base, cap_scenario *work, const cap_sweep_axis *a,
                       bool reset, double value)
{
    switch (a->kind) {
    case CAP_TARGET_WORKLOAD:
        workload_field(base, work, a, reset, value);
        break;
    case CAP_TARGET_PROVIDER:
        provider_field(base, work, a, reset, value);
        break;
    case CAP_TARGET_REGION:
        region_field(base, work, a, reset, value);
        break;
    default:
        offering_field(base, work, a, reset, value);
        break;
    }
}

void cap_sweep_apply(const cap_scenario *base, cap_scenario *work, const cap_sweep_axis *axes,
                     int axis_count, const double *values)
{
    for (int i = 0; i < axis_count; i++)
        axis_touch(base, work, &axes[i], true, 0.0);
    for (int i = 0; i < axis_count; i++)
        axis_touch(base, work, &axes[i], false, values[i]);
}

/* ---- checking values ------------------------------------------------------------------ */

static bool value_ok(cap_field f, double v)
{
    if (!isfinite(v) || v < 0.0)
        return false;
    return !is_fraction_field(f) || v <= 1.0;
}

/* The first value of the axis's field in `work` that is out of its domain, or NAN. */
static double axis_bad_value(const cap_scenario *work, const cap_sweep_axis *a)
{
    int T = work->period_count;
    cap_field f = a->field;
    if (a->kind == CAP_TARGET_WORKLOAD) {
        const cap_workload *w = &work->workloads[a->index];
        for (int t = 0; f == CAP_FIELD_DEMAND && t < T; t++)
            if (!value_ok(f, w->demand[t]))
                return w->demand[t];
        double v = f == CAP_FIELD_PENALTY ? w->penalty : w->max_spot_share;
        return f != CAP_FIELD_DEMAND && !value_ok(f, v) ? v : NAN;
    }
    if (a->kind == CAP_TARGET_PROVIDER && !is_offering_field(f)) {
        const cap_provider *p = &work->providers[a->index];
        double v = f == CAP_FIELD_MAX_SHARE   ? p->max_share
                   : f == CAP_FIELD_MIN_SHARE ? p->min_share
                                              : p->commitment;
        return value_ok(f, v) ? NAN : v;
    }
    if (f == CAP_FIELD_POWER_MW) {
        const double *mw = work->regions[a->index].power_mw;
        for (int t = 0; mw && t < T; t++)
            if (!value_ok(f, mw[t]))
                return mw[t];
        return NAN;
    }
    for (int o = 0; o < work->offering_count; o++) {
        if (!offering_in(work, a, o))
            continue;
        const cap_offering *off = &work->offerings[o];
        for (int t = 0; t < T; t++) {
            double v = f == CAP_FIELD_PRICE      ? off->price[t]
                       : f == CAP_FIELD_CAPACITY ? off->capacity[t]
                       : f == CAP_FIELD_OUTAGE   ? off->outage
                                                 : off->availability;
            if (!value_ok(f, v))
                return v;
        }
    }
    return NAN;
}

/* Every point of the sweep gives a valid scenario (composed axes included). */
static cap_status points_check(const cap_scenario *base, const cap_sweep_options *o,
                               cap_diag *diag)
{
    cap_scenario *work = cap_scenario_clone(base);
    if (!work) {
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    cap_status rc = CAP_OK;
    for (int p = 0; p < o->point_count && rc == CAP_OK; p++) {
        const double *values = o->values + (size_t)p * o->axis_count;
        cap_sweep_apply(base, work, o->axes, o->axis_count, values);
        for (int i = 0; i < o->axis_count && rc == CAP_OK; i++) {
            double bad = axis_bad_value(work, &o->axes[i]);
            if (isnan(bad))
                continue;
            cap_diag_add(diag, "sweep point %d: %s becomes %.6g, outside its domain (%s)", p + 1,
                         o->axes[i].label ? o->axes[i].label : cap_field_name(o->axes[i].field),
                         bad, is_fraction_field(o->axes[i].field) ? "0 to 1" : ">= 0");
            rc = CAP_ERR_INPUT;
        }
    }
    cap_scenario_free(work);
    return rc;
}

/* ---- parsing -------------------------------------------------------------------------- */

static int find_field(const char *name)
{
    for (int f = 0; f < CAP_FIELD_COUNT; f++)
        if (strcmp(name, field_names[f]) == 0)
            return f;
    return -1;
}

static int find_in_kind(const cap_scenario *s, cap_target_kind kind, const char *id)
{
    switch (kind) {
    case CAP_TARGET_OFFERING:
        return cap_scenario_find_offering(s, id);
    case CAP_TARGET_WORKLOAD:
        return cap_scenario_find_workload(s, id);
    case CAP_TARGET_PROVIDER:
        return cap_scenario_find_provider(s, id);
    case CAP_TARGET_REGION:
        return cap_scenario_find_region(s, id);
    case CAP_TARGET_ACCELERATOR:
        return cap_scenario_find_accelerator(s, id);
    case CAP_TARGET_ALL_OFFERINGS:
        break;
    }
    return -1;
}

static int kind_count(const cap_scenario *s, cap_target_kind kind)
{
    switch (kind) {
    case CAP_TARGET_OFFERING:
        return s->offering_count;
    case CAP_TARGET_WORKLOAD:
        return s->workload_count;
    case CAP_TARGET_PROVIDER:
        return s->provider_count;
    case CAP_TARGET_REGION:
        return s->region_count;
    case CAP_TARGET_ACCELERATOR:
        return s->accelerator_count;
    case CAP_TARGET_ALL_OFFERINGS:
        break;
    }
    return 0;
}

static const char *kind_id(const cap_scenario *s, cap_target_kind kind, int i)
{
    switch (kind) {
    case CAP_TARGET_OFFERING:
        return s->offerings[i].id;
    case CAP_TARGET_WORKLOAD:
        return s->workloads[i].id;
    case CAP_TARGET_PROVIDER:
        return s->providers[i].id;
    case CAP_TARGET_REGION:
        return s->regions[i].id;
    case CAP_TARGET_ACCELERATOR:
        return s->accelerators[i].id;
    case CAP_TARGET_ALL_OFFERINGS:
        break;
    }
    return "";
}

/* Appends to a fixed buffer, truncating quietly. */
static void append(char *buffer, size_t size, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buffer, size_t size, size_t *used, const char *fmt, ...)
{
    if (*used + 1 >= size)
        return;
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(buffer + *used, size - *used, fmt, args);
    va_end(args);
    if (n > 0)
        *used = *used + (size_t)n < size ? *used + (size_t)n : size - 1;
}

/* "unknown target 'x' for field f; valid targets: workload a, b, c; ..." (at most 12 ids
 * of a kind). */
static void report_unknown_target(const cap_scenario *s, const char *id, cap_field f,
                                  cap_diag *diag)
{
    char list[2048] = "";
    size_t used = 0;
    for (int k = CAP_TARGET_OFFERING; k <= CAP_TARGET_ACCELERATOR; k++) {
        int count = kind_count(s, (cap_target_kind)k);
        if (!kind_accepts((cap_target_kind)k, f) || count == 0)
            continue;
        append(list, sizeof list, &used, "%s%s ", used ? "; " : "",
               k == CAP_TARGET_ACCELERATOR ? "accelerator:ID with ID" : target_kind_name((cap_target_kind)k));
        for (int i = 0; i < count && i < 12; i++)
            append(list, sizeof list, &used, "%s%s", i ? ", " : "",
                   kind_id(s, (cap_target_kind)k, i));
        if (count > 12)
            append(list, sizeof list, &used, ", ... (%d in all)", count);
    }
    cap_diag_add(diag, "--vary: unknown target '%s' for field '%s'; valid targets: %s", id,
                 cap_field_name(f), list);
}

/* Finds the target: an explicit KIND:ID, else the one kind that accepts the field and has
 * the id. Returns false with a message. */
static bool resolve_target(const cap_scenario *s, const char *target, cap_field f,
                           cap_sweep_axis *axis, cap_diag *diag)
{
    static const char *const prefixes[] = {"offering:", "workload:", "provider:", "region:",
                                           "accelerator:"};
    for (int k = 0; k < 5; k++) {
        size_t n = strlen(prefixes[k]);
        if (strncmp(target, prefixes[k], n) != 0)
            continue;
        axis->kind = (cap_target_kind)k;
        axis->index = find_in_kind(s, axis->kind, target + n);
        if (axis->index < 0) {
            report_unknown_target(s, target, f, diag);
            return false;
        }
        if (!kind_accepts(axis->kind, f)) {
            cap_diag_add(diag, "--vary %s: a %s has no field '%s' to vary", target,
                         target_kind_name(axis->kind), cap_field_name(f));
            return false;
        }
        return true;
    }
    int found = 0;
    for (int k = CAP_TARGET_OFFERING; k <= CAP_TARGET_REGION; k++) {
        int index = find_in_kind(s, (cap_target_kind)k, target);
        if (index < 0 || !kind_accepts((cap_target_kind)k, f))
            continue;
        if (found++ == 0) {
            axis->kind = (cap_target_kind)k;
            axis->index = index;
        }
    }
    if (found == 1)
        return true;
    if (found > 1)
        cap_diag_add(diag, "--vary: '%s' names several kinds of target; write KIND:%s "
                           "(offering:, workload:, provider:, region:)", target, target);
    else
        report_unknown_target(s, target, f, diag);
    return false;
}

/* "A:B:STEP", "A" (one value), with an optional leading 'x' for a scale. */
static bool parse_values(const char *text, cap_sweep_axis *axis, cap_diag *diag)
{
    const char *p = text;
    axis->scale = *p == 'x' || *p == 'X';
    if (axis->scale)
        p++;
    double from, to, step;
    char extra;
    int got = sscanf(p, "%lf:%lf:%lf%c", &from, &to, &step, &extra);
    if (got == 1 && sscanf(p, "%lf%c", &from, &extra) == 1) {
        to = from;
        step = 1.0;
    } else if (got != 3 || !isfinite(from) || !isfinite(to) || !isfinite(step) || step <= 0.0 ||
               to < from) {
        cap_diag_add(diag,
                     "--vary %s: bad range '%s': want A:B:STEP with A <= B and STEP > 0 "
                     "(xA:B:STEP to scale), or one value",
                     axis->label, text);
        return false;
    }
    double points = floor((to - from) / step + 1e-9) + 1.0;
    if (points > AXIS_MAX_VALUES) {
        cap_diag_add(diag, "--vary %s: '%s' gives %.0f values (at most %d)", axis->label, text,
                     points, AXIS_MAX_VALUES);
        return false;
    }
    axis->value_count = (int)points;
    axis->values = malloc((size_t)axis->value_count * sizeof *axis->values);
    if (!axis->values) {
        cap_diag_add(diag, "out of memory");
        return false;
    }
    for (int i = 0; i < axis->value_count; i++)
        axis->values[i] = from + i * step;
    /* Land exactly on B when the steps reach it, so end points match a plan run of B. */
    if (fabs(axis->values[axis->value_count - 1] - to) <= 1e-9 * step)
        axis->values[axis->value_count - 1] = to;
    return true;
}

/* Values that make no sense on this target, independent of the numbers. */
static bool target_fits(const cap_scenario *s, const cap_sweep_axis *a, cap_diag *diag)
{
    if (a->field == CAP_FIELD_POWER_MW && !s->regions[a->index].power_mw) {
        cap_diag_add(diag, "--vary %s: region '%s' has no power envelope (power_mw) to vary",
                     a->label, s->regions[a->index].id);
        return false;
    }
    if (!a->scale)
        return true;
    const char *missing = NULL;
    if (a->field == CAP_FIELD_PENALTY && !s->workloads[a->index].has_penalty)
        missing = "penalty (its demand is hard)";
    else if (a->field == CAP_FIELD_MAX_SHARE && !s->providers[a->index].has_max_share)
        missing = "max_share";
    else if (a->field == CAP_FIELD_MIN_SHARE && !s->providers[a->index].has_min_share)
        missing = "min_share";
    if (missing) {
        cap_diag_add(diag, "--vary %s: nothing to scale: the scenario gives no %s; set values "
                           "instead of xA:B:STEP", a->label, missing);
        return false;
    }
    return true;
}

static cap_status axis_validate(const cap_scenario *s, cap_sweep_axis *axis, cap_diag *diag)
{
    if (!target_fits(s, axis, diag))
        return CAP_ERR_INPUT;
    cap_sweep_options o;
    cap_sweep_options_init(&o);
    o.axes = axis;
    o.axis_count = 1;
    o.values = axis->values;
    o.point_count = axis->value_count;
    return points_check(s, &o, diag);
}

cap_status cap_sweep_axis_parse(const cap_scenario *s, const char *text, cap_sweep_axis *axis,
                                cap_diag *diag)
{
    memset(axis, 0, sizeof *axis);
    const char *equals = strrchr(text, '=');
    const char *dot = NULL;
    for (const char *p = text; equals && p < equals; p++)
        if (*p == '.')
            dot = p;
    if (!equals || !dot || dot == text || dot + 1 == equals) {
        cap_diag_add(diag, "--vary '%s': want TARGET.FIELD=A:B:STEP", text);
        return CAP_ERR_INPUT;
    }
    axis->label = strndup(text, (size_t)(equals - text));
    char *target = strndup(text, (size_t)(dot - text));
    char *field = strndup(dot + 1, (size_t)(equals - dot - 1));
    cap_status rc = axis->label && target && field ? CAP_OK : CAP_ERR_RUNTIME;
    int f = rc == CAP_OK ? find_field(field) : -1;
    if (rc == CAP_OK && f < 0) {
        cap_diag_add(diag,
                     "--vary %s: unknown field '%s'; fields: price, capacity, availability, "
                     "outage (offerings; also on a provider, region or accelerator:ID), demand, "
                     "penalty, max_spot_share (workloads), max_share, min_share, commitment "
                     "(providers), power_mw (regions)",
                     axis->label, field);
        rc = CAP_ERR_INPUT;
    }
    if (rc == CAP_OK) {
        axis->field = (cap_field)f;
        if (!resolve_target(s, target, axis->field, axis, diag) ||
            !parse_values(equals + 1, axis, diag))
            rc = CAP_ERR_INPUT;
    }
    if (rc == CAP_OK)
        rc = axis_validate(s, axis, diag);
    if (rc == CAP_ERR_RUNTIME)
        cap_diag_add(diag, "out of memory");
    free(target);
    free(field);
    if (rc != CAP_OK)
        cap_sweep_axis_free(axis);
    return rc;
}

cap_status cap_sweep_axis_make(const cap_scenario *s, cap_target_kind kind, int index,
                               cap_field field, bool scale, const double *values, int count,
                               cap_sweep_axis *axis, cap_diag *diag)
{
    memset(axis, 0, sizeof *axis);
    char label[512];
    snprintf(label, sizeof label, "%s%s.%s", kind == CAP_TARGET_ACCELERATOR ? "accelerator:" : "",
             kind == CAP_TARGET_ALL_OFFERINGS ? "all" : kind_id(s, kind, index),
             cap_field_name(field));
    axis->label = strdup(label);
    axis->kind = kind;
    axis->index = index;
    axis->field = field;
    axis->scale = scale;
    axis->value_count = count;
    axis->values = malloc(((size_t)count + 1) * sizeof *axis->values);
    if (!axis->label || !axis->values) {
        cap_sweep_axis_free(axis);
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    memcpy(axis->values, values, (size_t)count * sizeof *values);
    return CAP_OK;
}

void cap_sweep_axis_free(cap_sweep_axis *axis)
{
    free(axis->label);
    free(axis->values);
    memset(axis, 0, sizeof *axis);
}

cap_status cap_sweep_grid(const cap_sweep_axis *axes, int axis_count, double **values,
                          int *point_count, cap_diag *diag)
{
    *values = NULL;
    *point_count = 0;
    double total = 1.0;
    for (int a = 0; a < axis_count; a++)
        total *= axes[a].value_count;
    if (axis_count < 1 || total < 1.0 || total > GRID_MAX_POINTS) {
        cap_diag_add(diag, "the sweep grid has %.0f points (1 to %d allowed)", total,
                     GRID_MAX_POINTS);
        return CAP_ERR_INPUT;
    }
    int count = (int)total;
    double *grid = malloc((size_t)count * axis_count * sizeof *grid);
    if (!grid) {
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    for (int p = 0; p < count; p++) {
        int rest = p;
        for (int a = axis_count - 1; a >= 0; a--) {
            grid[(size_t)p * axis_count + a] = axes[a].values[rest % axes[a].value_count];
            rest /= axes[a].value_count;
        }
    }
    *values = grid;
    *point_count = count;
    return CAP_OK;
}

/* ---- syncing the model with the scenario ---------------------------------------------- */

enum { SYNC_RHS = 1, SYNC_COST = 2, SYNC_MATRIX = 4, SYNC_REBUILD = 8 };

typedef struct {
    int *index;
    double *value;
    int count;
} entries;

static void push(entries *e, int row, double value)
{
    if (row && value != 0.0) {
        e->count++;
        e->index[e->count] = row;
        e->value[e->count] = value;
    }
}

/* Column x[w,o,t] as model.c builds it. */
static void x_column_rewrite(cap_resolver *r, entries *e, int c)
{
    cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    const cap_col_info *info = &m->columns[c - 1];
    int w = info->w, o = info->o, t = info->t, p = cap_offering_provider(s, o);
    const cap_offering *off = &s->offerings[o];
    double k = cap_workload_throughput(s, w, o) * cap_offering_eff(s, o);
    e->count = 0;
    push(e, cap_resolver_row(r, CAP_ROW_DEMAND, w, t), k);
    push(e, cap_resolver_row(r, CAP_ROW_CAPACITY, o, t), 1.0);
    push(e, cap_resolver_row(r, CAP_ROW_UNITS, o, t), 1.0);
    for (int q = 0; q < s->provider_count; q++) {
        double own = q == p ? 1.0 : 0.0;
        push(e, cap_resolver_row(r, CAP_ROW_MAX_SHARE, q, t),
             (own - s->providers[q].max_share) * k);
        push(e, cap_resolver_row(r, CAP_ROW_MIN_SHARE, q, t),
             (own - s->providers[q].min_share) * k);
    }
    push(e, cap_resolver_row(r, CAP_ROW_POWER, off->region, t),
         s->accelerators[off->accelerator].power_kw);
    if (off->pricing == CAP_PRICING_SPOT)
        push(e, cap_resolver_row(r, CAP_ROW_SPOT, w, t), k);
    push(e, cap_resolver_row(r, CAP_ROW_COMMITMENT, p, -1), m->cost[c - 1]);
    push(e, m->budget_row, m->cost[c - 1]);
    glp_set_mat_col(m->lp, c, e->count, e->index, e->value);
}

/* Column unmet[w,t]: demand row, budget row, max_served row. */
static void unmet_column_rewrite(cap_resolver *r, entries *e, int c)
{
    cap_model *m = r->model;
    const cap_col_info *info = &m->columns[c - 1];
    e->count = 0;
    push(e, cap_resolver_row(r, CAP_ROW_DEMAND, info->w, info->t), 1.0);
    push(e, m->budget_row, m->cost[c - 1]);
    push(e, r->served_row, m->weight_hours[c - 1]);
    glp_set_mat_col(m->lp, c, e->count, e->index, e->value);
}

/* Share row of provider p in period t: delivered(p) - share * delivered(all). */
static void share_row_rewrite(cap_resolver *r, entries *e, int row, int p, int t, double share)
{
    cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    e->count = 0;
    for (int w = 0; w < s->workload_count; w++)
        for (int o = 0; o < s->offering_count; o++) {
            int c = m->x_column[((size_t)t * s->workload_count + w) * s->offering_count + o];
            if (!c)
                continue;
            double own = cap_offering_provider(s, o) == p ? 1.0 : 0.0;
            double k = cap_workload_throughput(s, w, o) * cap_offering_eff(s, o);
            push(e, c, (own - share) * k);
        }
    glp_set_mat_row(m->lp, row, e->count, e->index, e->value);
}

static int x_col(const cap_model *m, int t, int w, int o)
{
    const cap_scenario *s = m->scenario;
    return m->x_column[((size_t)t * s->workload_count + w) * s->offering_count + o];
}

static int sync_offerings(cap_resolver *r, entries *e, const cap_sweep_axis *a)
{
    cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    int T = s->period_count, flags = 0;
    for (int o = 0; o < s->offering_count; o++) {
        if (!offering_in(s, a, o))
            continue;
        const cap_offering *off = &s->offerings[o];
        bool linked = m->budget_row || cap_resolver_row(r, CAP_ROW_COMMITMENT,
                                                        cap_offering_provider(s, o), -1);
        for (int t = 0; t < T; t++) {
            if (a->field == CAP_FIELD_CAPACITY) {
                glp_set_row_bnds(m->lp, cap_resolver_row(r, CAP_ROW_CAPACITY, o, t), GLP_UP, 0.0,
                                 off->capacity[t]);
                int u = m->units_column[o * T + t];
                if (u) {
                    double most = floor(off->capacity[t] / s->accelerators[off->accelerator].unit);
                    glp_set_col_bnds(m->lp, u, most > 0.0 ? GLP_DB : GLP_FX, 0.0,
                                     most > 0.0 ? most : 0.0);
                }
                flags |= SYNC_RHS;
                continue;
            }
            for (int w = 0; w < s->workload_count; w++) {
                int c = x_col(m, t, w, o);
                if (!c)
                    continue;
                if (a->field == CAP_FIELD_PRICE) {
                    m->cost[c - 1] = off->price[t] * s->periods[t].hours;
                    flags |= SYNC_COST;
                    if (!linked)
                        continue;
                }
                x_column_rewrite(r, e, c);
                flags |= SYNC_MATRIX;
            }
        }
    }
    return flags;
}

/* A row that exists only for some values (model.c leaves non-binding ones out). */
static bool share_row_wanted(const cap_provider *p, cap_row_kind kind)
{
    return kind == CAP_ROW_MAX_SHARE ? p->has_max_share && p->max_share < 1.0
                                     : p->has_min_share && p->min_share > 0.0;
}

static int sync_provider(cap_resolver *r, entries *e, const cap_sweep_axis *a)
{
    cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    const cap_provider *p = &s->providers[a->index];
    if (a->field == CAP_FIELD_COMMITMENT) {
        int row = cap_resolver_row(r, CAP_ROW_COMMITMENT, a->index, -1);
        if ((row != 0) != (p->commitment > 0.0))
            return SYNC_REBUILD;
        if (row)
            glp_set_row_bnds(m->lp, row, GLP_LO, p->commitment, p->commitment);
        return SYNC_RHS;
    }
    cap_row_kind kind = a->field == CAP_FIELD_MAX_SHARE ? CAP_ROW_MAX_SHARE : CAP_ROW_MIN_SHARE;
    double share = a->field == CAP_FIELD_MAX_SHARE ? p->max_share : p->min_share;
    bool wanted = share_row_wanted(p, kind);
    if ((cap_resolver_row(r, kind, a->index, 0) != 0) != wanted)
        return SYNC_REBUILD;
    for (int t = 0; wanted && t < s->period_count; t++)
        share_row_rewrite(r, e, cap_resolver_row(r, kind, a->index, t), a->index, t, share);
    return SYNC_MATRIX;
}

static int sync_workload(cap_resolver *r, entries *e, const cap_sweep_axis *a)
{
    cap_model *m = r->model;
    const cap_scenario *s = m->scenario;
    const cap_workload *w = &s->workloads[a->index];
    int T = s->period_count, flags = 0;
    for (int t = 0; t < T; t++) {
        if (a->field == CAP_FIELD_PENALTY) {
            int c = m->unmet_column[a->index * T + t];
            if (!c)
                return SYNC_REBUILD; /* a penalty given to hard demand adds unmet columns */
            m->cost[c - 1] = w->penalty * s->periods[t].hours;
            flags |= SYNC_COST;
            if (m->budget_row) {
                unmet_column_rewrite(r, e, c);
                flags |= SYNC_MATRIX;
            }
            continue;
        }
        if (a->field == CAP_FIELD_DEMAND)
            glp_set_row_bnds(m->lp, cap_resolver_row(r, CAP_ROW_DEMAND, a->index, t), GLP_LO,
                             w->demand[t], w->demand[t]);
        int spot = cap_resolver_row(r, CAP_ROW_SPOT, a->index, t);
        if (spot)
            glp_set_row_bnds(m->lp, spot, GLP_UP, 0.0, w->max_spot_share * w->demand[t]);
        flags |= SYNC_RHS;
    }
    return flags;
}

static int sync_axis(cap_resolver *r, entries *e, const cap_sweep_axis *a)
{
    if (a->kind == CAP_TARGET_WORKLOAD)
        return sync_workload(r, e, a);
    if (a->kind == CAP_TARGET_PROVIDER && !is_offering_field(a->field))
        return sync_provider(r, e, a);
    if (a->field == CAP_FIELD_POWER_MW) {
        const cap_scenario *s = r->model->scenario;
        for (int t = 0; t < s->period_count; t++) {
            int row = cap_resolver_row(r, CAP_ROW_POWER, a->index, t);
            if (row)
                glp_set_row_bnds(r->model->lp, row, GLP_UP, 0.0,
                                 1000.0 * s->regions[a->index].power_mw[t]);
        }
        return SYNC_RHS;
    }
    return sync_offerings(r, e, a);
}

static cap_start start_for(int flags)
{
    if (flags & (SYNC_MATRIX | SYNC_REBUILD))
        return CAP_START_ANY;
    if ((flags & SYNC_RHS) && (flags & SYNC_COST))
        return CAP_START_ANY;
    return flags & SYNC_COST ? CAP_START_PRIMAL : CAP_START_DUAL;
}

/* ---- the worker threads --------------------------------------------------------------- */

typedef struct {
    const cap_scenario *base;
    const cap_sweep_options *options;
    cap_sweep_point *points;
    cap_diag *diags; /* [threads] */
    int threads;
    bool failed_memory;
} sweep_run;

typedef struct {
    cap_scenario *work;
    cap_resolver *resolver;
    entries scratch;
    const double *previous; /* the values the model holds, NULL before the first point */
} worker;

static bool scratch_fit(worker *k)
{
    const cap_model *m = k->resolver->model;
    int size = (m->row_count > m->column_count ? m->row_count : m->column_count) + 2;
    free(k->scratch.index);
    free(k->scratch.value);
    k->scratch.index = malloc((size_t)size * sizeof *k->scratch.index);
    k->scratch.value = malloc((size_t)size * sizeof *k->scratch.value);
    return k->scratch.index && k->scratch.value;
}

/* Brings the model to the point's values; returns how the next solve should start. */
static cap_status worker_sync(const sweep_run *run, worker *k, const double *values,
                              cap_start *start, cap_diag *diag)
{
    const cap_sweep_options *o = run->options;
    if (!k->resolver || o->cold) {
        cap_resolver_free(k->resolver);
        k->resolver = NULL;
        cap_status rc = cap_resolver_create(k->work, &o->solve, &k->resolver, diag);
        if (rc == CAP_OK && !scratch_fit(k))
            rc = CAP_ERR_RUNTIME;
        *start = CAP_START_COLD;
        return rc;
    }
    int flags = 0;
    for (int a = 0; a < o->axis_count; a++)
        if (values[a] != k->previous[a])
            flags |= sync_axis(k->resolver, &k->scratch, &o->axes[a]);
    if (!(flags & SYNC_REBUILD)) {
        *start = start_for(flags);
        return CAP_OK;
    }
    cap_status rc = cap_resolver_rebuild(k->resolver, start, diag);
    if (rc == CAP_OK && !scratch_fit(k))
        rc = CAP_ERR_RUNTIME;
    return rc;
}

static void worker_point(const sweep_run *run, worker *k, int p, cap_diag *diag)
{
    const cap_sweep_options *o = run->options;
    const double *values = o->values + (size_t)p * o->axis_count;
    cap_sweep_point *point = &run->points[p];
    cap_sweep_apply(run->base, k->work, o->axes, o->axis_count, values);
    cap_start start = CAP_START_COLD;
    cap_status rc = worker_sync(run, k, values, &start, diag);
    cap_resolve_info info = {CAP_PLAN_UNDEFINED, false, 0.0};
    if (rc == CAP_OK)
        rc = cap_resolver_solve(k->resolver, start, &info, diag);
    point->thread = omp_get_thread_num();
    point->status = info.status;
    point->warm = info.warm;
    point->seconds = info.seconds;
    point->solved = rc == CAP_OK;
    if (rc != CAP_OK) {
        cap_diag_add(diag, "sweep point %d: the solver failed", p + 1);
        cap_resolver_free(k->resolver); /* start the next point from scratch */
        k->resolver = NULL;
        k->previous = NULL;
        return;
    }
    k->previous = values;
    if (info.status == CAP_PLAN_OPTIMAL || info.status == CAP_PLAN_FEASIBLE) {
        cap_resolve_costs costs;
        cap_resolver_costs(k->resolver, &costs);
        point->objective_usd = costs.objective_usd;
        point->capacity_usd = costs.capacity_usd;
        point->penalty_usd = costs.penalty_usd;
        point->topup_usd = costs.topup_usd;
        point->unmet_h100e_hours = costs.unmet_h100e_hours;
    }
}

static void worker_run(sweep_run *run)
{
    int me = omp_get_thread_num(), team = omp_get_num_threads();
    const cap_sweep_options *o = run->options;
    int first = (int)((long long)o->point_count * me / team);
    int last = (int)((long long)o->point_count * (me + 1) / team);
    worker k = {.work = cap_scenario_clone(run->base)};
    if (!k.work) {
#pragma omp atomic write
        run->failed_memory = true;
    }
    for (int p = first; p < last && k.work; p++) {
        if (o->cancel && *o->cancel)
            break;
        worker_point(run, &k, p, &run->diags[me]);
    }
    cap_resolver_free(k.resolver);
    cap_scenario_free(k.work);
    free(k.scratch.index);
    free(k.scratch.value);
}

void cap_sweep_options_init(cap_sweep_options *options)
{
    memset(options, 0, sizeof *options);
    cap_plan_options_init(&options->solve);
}

cap_status cap_sweep_run(const cap_scenario *base, const cap_sweep_options *o,
                         cap_sweep_result **out, cap_diag *diag)
{
    *out = NULL;
    cap_status rc = points_check(base, o, diag);
    if (rc != CAP_OK)
        return rc;
    cap_sweep_result *result = calloc(1, sizeof *result);
    int team = o->threads > 0 ? o->threads : omp_get_max_threads();
    if (team > o->point_count)
        team = o->point_count > 0 ? o->point_count : 1;
    sweep_run run = {.base = base, .options = o, .threads = team};
    run.points = calloc((size_t)o->point_count + 1, sizeof *run.points);
    run.diags = calloc((size_t)team, sizeof *run.diags);
    if (!result || !run.points || !run.diags) {
        free(result);
        free(run.points);
        free(run.diags);
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    for (int i = 0; i < o->point_count; i++)
        run.points[i].status = CAP_PLAN_UNDEFINED;
    double start = omp_get_wtime();
    /* Period blocks inside a point run on one thread when the points are spread. */
    cap_sweep_options inner = *o;
    if (team > 1)
        inner.solve.threads = 1;
    run.options = &inner;
#pragma omp parallel num_threads(team)
    {
        cap_diag_init(&run.diags[omp_get_thread_num()]);
        worker_run(&run);
        /* Workers' GLPK environments go; the caller's thread may still hold problems. */
        if (omp_get_thread_num() != 0)
            glp_free_env();
    }
    result->seconds = omp_get_wtime() - start;
    for (int i = 0; i < team; i++) {
        cap_diag_extend(diag, &run.diags[i]);
        cap_diag_free(&run.diags[i]);
    }
    free(run.diags);
    result->points = run.points;
    result->point_count = o->point_count;
    result->axis_count = o->axis_count;
    result->threads = team;
    if (run.failed_memory) {
        cap_diag_add(diag, "out of memory");
        cap_sweep_result_free(result);
        return CAP_ERR_RUNTIME;
    }
    *out = result;
    return CAP_OK;
}

void cap_sweep_result_free(cap_sweep_result *result)
{
    if (!result)
        return;
    free(result->points);
    free(result);
}
