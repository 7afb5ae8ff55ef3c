/* sweep_axis.c: sweep axes (see sweep.h): parsing TARGET.FIELD=VALUES against a scenario,
 * applying a point's values to a scenario copy, and checking that every point gives a valid
 * scenario before anything is solved.
 *
 * Invariant: an axis that parsed names an existing target of a kind that has the field,
 * and every one of its values, applied alone to the base scenario, stays in the field's
 * domain (probabilities and shares in [0, 1], everything else in [0, 1e15]).
 */
#define _POSIX_C_SOURCE 200809L
#include "sweep.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { AXIS_MAX_VALUES = 10000, GRID_MAX_POINTS = 1000000 };

static const char *const field_names[CAP_FIELD_COUNT] = {
    "price",          "capacity",  "availability", "outage",     "demand",  "penalty",
    "max_spot_share", "max_share", "min_share",    "commitment", "power_mw"};

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
    return f == CAP_FIELD_AVAILABILITY || f == CAP_FIELD_OUTAGE || f == CAP_FIELD_MAX_SPOT_SHARE ||
           f == CAP_FIELD_MAX_SHARE || f == CAP_FIELD_MIN_SHARE;
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
        return f == CAP_FIELD_MAX_SHARE || f == CAP_FIELD_MIN_SHARE || f == CAP_FIELD_COMMITMENT ||
               (is_offering_field(f) && f != CAP_FIELD_OUTAGE);
    case CAP_TARGET_REGION:
        return f == CAP_FIELD_POWER_MW || is_offering_field(f);
    }
    return false;
}

bool cap_sweep_axis_has_offering(const cap_scenario *s, const cap_sweep_axis *a, int o)
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

/* The loader's bound on every number but probabilities and shares: past it a price times
 * hours, or a demand times a throughput, could overflow what GLPK takes; no planning number
 * comes near it. */
#define VALUE_MAX 1e15

static double changed(double current, const cap_sweep_axis *a, double value)
{
    double v = a->scale ? current * value : value;
    if (a->clamp)
        v = fmin(fmax(v, 0.0), is_fraction_field(a->field) ? 1.0 : VALUE_MAX);
    return v;
}

/* reset: copy the base's values of the axis's field; else apply `value` to the work's. */
static void offering_field(const cap_scenario *base, cap_scenario *work, const cap_sweep_axis *a,
                           bool reset, double value)
{
    int T = work->period_count;
    for (int o = 0; o < work->offering_count; o++) {
        if (!cap_sweep_axis_has_offering(work, a, o))
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
    if (!isfinite(v) || v < 0.0 || v > VALUE_MAX)
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
        if (!cap_sweep_axis_has_offering(work, a, o))
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

cap_status cap_sweep_check(const cap_scenario *base, const cap_sweep_options *o, cap_diag *diag)
{
    /* two axes on one field of one target: the second would overwrite the first */
    for (int i = 0; i < o->axis_count; i++)
        for (int j = i + 1; j < o->axis_count; j++) {
            const cap_sweep_axis *a = &o->axes[i], *b = &o->axes[j];
            if (a->kind == b->kind && a->index == b->index && a->field == b->field) {
                cap_diag_add(diag, "--vary %s and --vary %s set the same field; give it once",
                             a->label ? a->label : "axis", b->label ? b->label : "axis");
                return CAP_ERR_INPUT;
            }
        }
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
            const char *label = o->axes[i].label ? o->axes[i].label : "axis";
            const char *domain = is_fraction_field(o->axes[i].field) ? "0 to 1" : "0 to 1e15";
            if (o->axis_count == 1)
                cap_diag_add(diag, "--vary %s: value %.6g makes %s %.6g, outside %s", label,
                             values[0], cap_field_name(o->axes[i].field), bad, domain);
            else
                cap_diag_add(diag, "sweep point %d: %s becomes %.6g, outside %s", p + 1, label, bad,
                             domain);
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
               k == CAP_TARGET_ACCELERATOR ? "accelerator:ID with ID"
                                           : target_kind_name((cap_target_kind)k));
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
    static const char *const prefixes[] = {
        "offering:", "workload:", "provider:", "region:", "accelerator:"};
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
        cap_diag_add(diag,
                     "--vary: '%s' names several kinds of target; write KIND:%s "
                     "(offering:, workload:, provider:, region:)",
                     target, target);
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
    if (got == 1 && sscanf(p, "%lf%c", &from, &extra) == 1 && isfinite(from)) {
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
        axis->values[i] = cap_range_value(from, to, step, i, axis->value_count);
    return true;
}

double cap_range_value(double from, double to, double step, int i, int count)
{
    double value = from + i * step;
    /* Land exactly on B when the steps reach it, so end points match a plan run of B. */
    if (i == count - 1 && fabs(value - to) <= 1e-9 * step)
        return to;
    char text[32];
    snprintf(text, sizeof text, "%.12g", value);
    double rounded = strtod(text, NULL);
    return fabs(rounded - value) <= 1e-9 * step ? rounded : value;
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
        cap_diag_add(diag,
                     "--vary %s: nothing to scale: the scenario gives no %s; set values "
                     "instead of xA:B:STEP",
                     a->label, missing);
        return false;
    }
    return true;
}

static cap_status axis_validate(const cap_scenario *s, cap_sweep_axis *axis, cap_diag *diag)
{
    if (!target_fits(s, axis, diag))
        return CAP_ERR_INPUT;
    cap_sweep_options o;
    cap_sweep_options_for_axis(&o, axis);
    return cap_sweep_check(s, &o, diag);
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
