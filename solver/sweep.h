/* sweep.h: re-solve a scenario over a grid of parameter values (`capplan sweep`, and the
 * tornado of `capplan sensitivity`).
 *
 * An axis is one parameter written TARGET.FIELD=VALUES (SPEC §4): TARGET is an id (an
 * offering, workload, provider or region; `offering:ID`, `workload:ID`, `provider:ID`,
 * `region:ID` when an id is ambiguous) or `accelerator:ID` for all offerings of one
 * accelerator; VALUES is A:B:STEP (or one number) and sets the field, xA:B:STEP scales it.
 * Offering fields (price, capacity, availability, outage) may also name a provider, region
 * or accelerator: they then apply to every offering it holds. Per-period fields are set or
 * scaled in every period.
 *
 * A point's scenario is built from the base every time: fields reset to the base values,
 * then the axes are applied in the order given (a set replaces, a scale multiplies the
 * current value), so overlapping axes compose and no point depends on the one before.
 * The model, though, is edited in place from point to point and re-solved from the
 * previous optimal basis; points are spread over OpenMP threads in contiguous runs, each
 * thread with its own scenario copy and GLPK problem, each starting from the first point's
 * optimal basis.
 */
#ifndef CAP_SWEEP_H
#define CAP_SWEEP_H

#include "diag.h"
#include "plan.h"
#include "scenario.h"

typedef enum {
    CAP_TARGET_OFFERING = 0,
    CAP_TARGET_WORKLOAD,
    CAP_TARGET_PROVIDER,
    CAP_TARGET_REGION,
    CAP_TARGET_ACCELERATOR,
    CAP_TARGET_ALL_OFFERINGS /* every offering (the tornado's global availability) */
} cap_target_kind;

typedef enum {
    CAP_FIELD_PRICE = 0,      /* offering: USD per accelerator-hour, per period */
    CAP_FIELD_CAPACITY,       /* offering: accelerators, per period */
    CAP_FIELD_AVAILABILITY,   /* offering: [0, 1] */
    CAP_FIELD_OUTAGE,         /* offering: [0, 1] */
    CAP_FIELD_DEMAND,         /* workload: H100e, per period */
    CAP_FIELD_PENALTY,        /* workload: USD per unmet H100e-hour */
    CAP_FIELD_MAX_SPOT_SHARE, /* workload: [0, 1] */
    CAP_FIELD_MAX_SHARE,      /* provider: [0, 1] */
    CAP_FIELD_MIN_SHARE,      /* provider: [0, 1] */
    CAP_FIELD_COMMITMENT,     /* provider: USD */
    CAP_FIELD_POWER_MW,       /* region: MW, per period */
    CAP_FIELD_COUNT
} cap_field;

const char *cap_field_name(cap_field field);

typedef struct {
    char *label; /* the TARGET.FIELD as written, for headers */
    cap_target_kind kind;
    int index; /* the target's index in its kind (-1 for all offerings) */
    cap_field field;
    bool scale; /* values multiply the base instead of replacing it */
    bool clamp; /* clip values into their domain: [0, 1] for probabilities and shares,
                   [0, 1e15] for the rest (tornado) */
    int value_count;
    double *values;
} cap_sweep_axis;

/* Value i of a range A:B:STEP as its user wrote it: from + i * step, rounded to 12
 * significant digits when that moves it by less than step / 1e9 (0.1:1.3:0.3 reaches 1,
 * not 0.9999999999999999, and 0.9:1.3:0.1 gives 1.2, not 1.2000000000000002); the last
 * value lands on `to` when the steps reach it. */
double cap_range_value(double from, double to, double step, int i, int count);

/* Parses "TARGET.FIELD=A:B:STEP" (or =xA:B:STEP, or one value) against `scenario`, checking
 * that every value gives a valid scenario. Returns CAP_OK or CAP_ERR_INPUT with one clear
 * message in `diag` (an unknown target names the valid ids). */
cap_status cap_sweep_axis_parse(const cap_scenario *scenario, const char *text,
                                cap_sweep_axis *axis, cap_diag *diag);

/* An axis built in code (no parsing): the caller owns `values`' copy made here. */
cap_status cap_sweep_axis_make(const cap_scenario *scenario, cap_target_kind kind, int index,
                               cap_field field, bool scale, const double *values, int count,
                               cap_sweep_axis *axis, cap_diag *diag);

void cap_sweep_axis_free(cap_sweep_axis *axis);

/* The cartesian grid of the axes' values, first axis slowest:
 * (*values)[point * axis_count + a]. At most 1,000,000 points. */
cap_status cap_sweep_grid(const cap_sweep_axis *axes, int axis_count, double **values,
                          int *point_count, cap_diag *diag);

typedef struct {
    const cap_sweep_axis *axes;
    int axis_count;
    const double *values; /* [point * axis_count + a] */
    int point_count;
    cap_plan_options solve; /* integer, mip_gap, time limit */
    int threads;            /* 0 = OpenMP's default; never more than the points */
    bool cold;              /* rebuild and solve every point from scratch (benchmarks) */
} cap_sweep_options;

void cap_sweep_options_init(cap_sweep_options *options);
/* Defaults, sweeping one axis over its own values. */
void cap_sweep_options_for_axis(cap_sweep_options *options, const cap_sweep_axis *axis);

typedef struct {
    cap_plan_status status;
    bool solved; /* false: skipped (no memory for a worker) or the solver failed */
    bool warm;   /* solved from a previous point's basis */
    int thread;
    double objective_usd, capacity_usd, penalty_usd, topup_usd, unmet_h100e_hours;
    double seconds; /* the whole point: scenario, model edits or build, solve */
} cap_sweep_point;

typedef struct {
    int point_count, axis_count, threads;
    cap_sweep_point *points; /* [point_count] */
    double seconds;          /* wall time of the whole sweep */
} cap_sweep_result;

/* Solves every point. Returns CAP_OK when the sweep ran (each point has its own status;
 * solver failures are listed in `diag`), CAP_ERR_INPUT when a point's composed values are
 * invalid, CAP_ERR_RUNTIME when out of memory. */
cap_status cap_sweep_run(const cap_scenario *scenario, const cap_sweep_options *options,
                         cap_sweep_result **out, cap_diag *diag);

void cap_sweep_result_free(cap_sweep_result *result);

/* Checks that every point of `options` gives a valid scenario (overlapping axes compose, so
 * a point can leave a domain that no axis leaves alone). CAP_ERR_INPUT names the point. */
cap_status cap_sweep_check(const cap_scenario *scenario, const cap_sweep_options *options,
                           cap_diag *diag);

/* True when the axis changes offering o (an offering field on any kind of target). */
bool cap_sweep_axis_has_offering(const cap_scenario *scenario, const cap_sweep_axis *axis,
                                 int offering);

/* Writes the scenario of point `values` (one per axis) into `work`, a clone of `base`.
 * Exposed for tests: a sweep point must equal a plan run of this scenario. */
void cap_sweep_apply(const cap_scenario *base, cap_scenario *work, const cap_sweep_axis *axes,
                     int axis_count, const double *values);

#endif
