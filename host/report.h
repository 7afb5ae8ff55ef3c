/* report.h: what `capplan plan` shows and writes: the terminal table, plan.csv and
 * summary.json (SPEC §5). */
#ifndef CAP_REPORT_H
#define CAP_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "diag.h"
#include "outfile.h"
#include "plan.h"
#include "scenario.h"

/* Per period: accelerators, H100e, share and cost by provider and by accelerator; unmet
 * demand; commitment top-ups; totals. */
void cap_report_table(FILE *out, const cap_scenario *scenario, const cap_plan *plan);

/* Prints a plan's infeasibility diagnosis (lines ending in '\n') with `indent` spaces
 * before each line. */
void cap_report_diagnosis(FILE *out, const char *diagnosis, int indent);

/* summary.json as a jansson object (new reference). `integer` says which mode solved. */
json_t *cap_report_summary(const cap_scenario *scenario, const cap_plan *plan, bool integer);

/* Writes plan.csv and summary.json into `dir` as one output set (outfile.h): both appear
 * together, and a run without a plan removes an earlier plan.csv. */
cap_status cap_report_write(const char *dir, const cap_scenario *scenario, const cap_plan *plan,
                            bool integer, cap_diag *diag);

/* Sets object[key] to a number, or null when it is not finite (JSON has no NaN or inf). */
void cap_json_set_number(json_t *object, const char *key, double value);

/* Writes a jansson value as `name` in an output set. */
cap_status cap_report_write_json(cap_outset *set, const char *name, const json_t *value,
                                 cap_diag *diag);

/* Writes one CSV field, quoted (RFC 4180: inner quotes doubled) when it holds a
 * separator, a quote or a line break. */
void cap_csv_field(FILE *out, const char *text);
/* The field prefix text suffix, quoted as text needs it (prefix and suffix, fixed column
 * names' parts, hold no separator, quote or line break). */
void cap_csv_field_affixed(FILE *out, const char *prefix, const char *text, const char *suffix);

/* "1.23 B", "45.6 M", "789 K", "12.3": a short human form of a USD amount. */
void cap_format_usd(double value, char *buffer, size_t size);

/* Per-period totals, shared by the table, the JSON and the studies. */
typedef struct {
    double *provider_accelerators, *provider_h100e, *provider_cost; /* [P] */
    double *accelerator_count, *accelerator_cost;                   /* [A] */
    double total_h100e, total_cost, power_kw;
} cap_period_totals;

bool cap_period_totals_compute(const cap_scenario *scenario, const cap_plan *plan, int t,
                               cap_period_totals *totals);
void cap_period_totals_free(cap_period_totals *totals);

#endif
