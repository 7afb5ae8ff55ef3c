/* report.c: the terminal table, plan.csv and summary.json of a plan (see report.h).
 *
 * Every figure is recomputed from the plan's x and the scenario's prices, so the table,
 * the CSV and the JSON always agree with each other.
 */
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "outfile.h"

void cap_format_usd(double value, char *buffer, size_t size)
{
    double magnitude = fabs(value);
    if (!isfinite(value) || magnitude >= 1e15) /* beyond "999999.999 B": 4 digits, exponent */
        snprintf(buffer, size, "%.4g", value);
    else if (magnitude >= 1e9)
        snprintf(buffer, size, "%.3f B", value / 1e9);
    else if (magnitude >= 1e6)
        snprintf(buffer, size, "%.3f M", value / 1e6);
    else if (magnitude >= 1e3)
        snprintf(buffer, size, "%.2f K", value / 1e3);
    else
        snprintf(buffer, size, "%.2f", value);
}

/* ---- per-period totals ---------------------------------------------------------------- */

void cap_period_totals_free(cap_period_totals *totals)
{
    free(totals->provider_accelerators);
    free(totals->provider_h100e);
    free(totals->provider_cost);
    free(totals->accelerator_count);
    free(totals->accelerator_cost);
    memset(totals, 0, sizeof *totals);
}

bool cap_period_totals_compute(const cap_scenario *s, const cap_plan *plan, int t,
                               cap_period_totals *totals)
{
    memset(totals, 0, sizeof *totals);
    size_t P = (size_t)s->provider_count + 1, A = (size_t)s->accelerator_count + 1;
    totals->provider_accelerators = calloc(P, sizeof(double));
    totals->provider_h100e = calloc(P, sizeof(double));
    totals->provider_cost = calloc(P, sizeof(double));
    totals->accelerator_count = calloc(A, sizeof(double));
    totals->accelerator_cost = calloc(A, sizeof(double));
    if (!totals->provider_accelerators || !totals->provider_h100e || !totals->provider_cost ||
        !totals->accelerator_count || !totals->accelerator_cost) {
        cap_period_totals_free(totals);
        return false;
    }
    for (int w = 0; w < s->workload_count; w++)
        for (int o = 0; o < s->offering_count; o++) {
            double x = plan->x[cap_plan_index(plan, t, w, o)];
            if (x <= 0.0)
                continue;
            const cap_offering *offering = &s->offerings[o];
            int p = cap_offering_provider(s, o), a = offering->accelerator;
            double h100e = x * cap_workload_throughput(s, w, o) * cap_offering_eff(s, o);
            double cost = x * offering->price[t] * s->periods[t].hours;
            totals->provider_accelerators[p] += x;
            totals->provider_h100e[p] += h100e;
            totals->provider_cost[p] += cost;
            totals->accelerator_count[a] += x;
            totals->accelerator_cost[a] += cost;
            totals->total_h100e += h100e;
            totals->total_cost += cost;
            totals->power_kw += x * s->accelerators[a].power_kw;
        }
    return true;
}

/* ---- terminal table ------------------------------------------------------------------- */

static void table_period(FILE *out, const cap_scenario *s, const cap_plan *plan, int t)
{
    cap_period_totals totals;
    if (!cap_period_totals_compute(s, plan, t, &totals))
        return;
    char usd[32];
    cap_format_usd(totals.total_cost, usd, sizeof usd);
    fprintf(out, "\n%s (%.0f h): %.0f H100e delivered, %s USD, %.1f MW\n", s->periods[t].id,
            s->periods[t].hours, totals.total_h100e, usd, totals.power_kw / 1000.0);
    fprintf(out, "  %-18s %14s %12s %7s %14s\n", "provider", "accelerators", "H100e", "share",
            "cost USD");
    for (int p = 0; p < s->provider_count; p++) {
        if (totals.provider_accelerators[p] <= 0.0)
            continue;
        double share = totals.total_h100e > 0 ? totals.provider_h100e[p] / totals.total_h100e : 0;
        cap_format_usd(totals.provider_cost[p], usd, sizeof usd);
        fprintf(out, "  %-18s %14.1f %12.1f %6.1f%% %14s\n", s->providers[p].id,
                totals.provider_accelerators[p], totals.provider_h100e[p], 100.0 * share, usd);
    }
    fprintf(out, "  %-18s %14s %12s %7s %14s\n", "accelerator", "accelerators", "", "", "cost USD");
    for (int a = 0; a < s->accelerator_count; a++) {
        if (totals.accelerator_count[a] <= 0.0)
            continue;
        cap_format_usd(totals.accelerator_cost[a], usd, sizeof usd);
        fprintf(out, "  %-18s %14.1f %12s %7s %14s\n", s->accelerators[a].id,
                totals.accelerator_count[a], "", "", usd);
    }
    for (int w = 0; w < s->workload_count; w++) {
        double unmet = plan->unmet[w * s->period_count + t];
        if (unmet > 1e-9 * fmax(1.0, s->workloads[w].demand[t]))
            fprintf(out, "  unmet: %s %.1f of %.1f H100e (%.1f%%)\n", s->workloads[w].id, unmet,
                    s->workloads[w].demand[t], 100.0 * unmet / s->workloads[w].demand[t]);
    }
    cap_period_totals_free(&totals);
}

void cap_report_table(FILE *out, const cap_scenario *s, const cap_plan *plan)
{
    char usd[32];
    fprintf(out, "capplan plan: %s: %s", s->name, cap_plan_status_name(plan->status));
    if (plan->status != CAP_PLAN_OPTIMAL && plan->status != CAP_PLAN_FEASIBLE) {
        fprintf(out, "\n");
        return;
    }
    cap_format_usd(plan->objective_usd, usd, sizeof usd);
    fprintf(out, ", total %s USD (%d rows x %d columns, %ld non-zeros, %.2f s)\n", usd, plan->rows,
            plan->columns, plan->nonzeros, plan->build_seconds + plan->solve_seconds);
    if (plan->units)
        fprintf(out, "integer mode: gap %.4g%% (bound %.6g USD)\n", 100.0 * plan->mip_gap,
                plan->lp_bound_usd);
    for (int t = 0; t < s->period_count; t++)
        table_period(out, s, plan, t);
    fprintf(out, "\ntotals:\n");
    cap_format_usd(plan->capacity_usd, usd, sizeof usd);
    fprintf(out, "  capacity            %14s USD\n", usd);
    cap_format_usd(plan->penalty_usd, usd, sizeof usd);
    fprintf(out, "  unmet-demand penalty %13s USD (%.4g H100e-hours unmet)\n", usd,
            plan->unmet_h100e_hours);
    for (int p = 0; p < s->provider_count; p++)
        if (s->providers[p].commitment > 0.0) {
            cap_format_usd(plan->topup[p], usd, sizeof usd);
            fprintf(out, "  commitment top-up   %14s USD  %s (commitment %.6g USD)\n", usd,
                    s->providers[p].id, s->providers[p].commitment);
        }
    cap_format_usd(plan->objective_usd, usd, sizeof usd);
    fprintf(out, "  total               %14s USD\n", usd);
}

/* ---- plan.csv ------------------------------------------------------------------------- */

void cap_csv_field_affixed(FILE *out, const char *prefix, const char *text, const char *suffix)
{
    bool quote = strpbrk(text, ",\"\n\r") != NULL;
    if (quote)
        fputc('"', out);
    fputs(prefix, out);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputs(suffix, out);
    if (quote)
        fputc('"', out);
}

void cap_csv_field(FILE *out, const char *text)
{
    cap_csv_field_affixed(out, "", text, "");
}

static void plan_csv(FILE *out, const cap_scenario *s, const cap_plan *plan)
{
    fputs("period,workload,offering,provider,region,accelerator,pricing,accelerators,h100e,"
          "cost_usd\n",
          out);
    for (int t = 0; t < s->period_count; t++)
        for (int w = 0; w < s->workload_count; w++)
            for (int o = 0; o < s->offering_count; o++) {
                double x = plan->x[cap_plan_index(plan, t, w, o)];
                if (x <= 0.0)
                    continue;
                const cap_offering *offering = &s->offerings[o];
                const cap_region *region = &s->regions[offering->region];
                const char *fields[] = {s->periods[t].id,
                                        s->workloads[w].id,
                                        offering->id,
                                        s->providers[region->provider].id,
                                        region->id,
                                        s->accelerators[offering->accelerator].id,
                                        cap_pricing_name(offering->pricing)};
                for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
                    cap_csv_field(out, fields[i]);
                    fputc(',', out);
                }
                fprintf(out, "%.17g,%.17g,%.17g\n", x,
                        x * cap_workload_throughput(s, w, o) * cap_offering_eff(s, o),
                        x * offering->price[t] * s->periods[t].hours);
            }
}

void cap_report_diagnosis(FILE *out, const char *diagnosis, int indent)
{
    for (const char *line = diagnosis; *line;) {
        const char *end = strchr(line, '\n');
        int length = end ? (int)(end - line) : (int)strlen(line);
        fprintf(out, "%*s%.*s\n", indent, "", length, line);
        line += length + (end ? 1 : 0);
    }
}

/* ---- summary.json --------------------------------------------------------------------- */

void cap_json_set_number(json_t *object, const char *key, double value)
{
    json_object_set_new(object, key, isfinite(value) ? json_real(value) : json_null());
}

static json_t *summary_costs(const cap_scenario *s, const cap_plan *plan, json_t *shares,
                             json_t *power)
{
    json_t *cost = json_object();
    json_t *by_provider = json_object(), *by_accelerator = json_object(),
           *by_period = json_object(), *penalty_by_period = json_object();
    double *provider = calloc((size_t)s->provider_count + 1, sizeof *provider);
    double *accelerator = calloc((size_t)s->accelerator_count + 1, sizeof *accelerator);
    for (int t = 0; provider && accelerator && t < s->period_count; t++) {
        cap_period_totals totals;
        if (!cap_period_totals_compute(s, plan, t, &totals))
            break;
        json_t *period_shares = json_object();
        for (int p = 0; p < s->provider_count; p++) {
            provider[p] += totals.provider_cost[p];
            if (totals.total_h100e > 0 && totals.provider_h100e[p] > 0)
                cap_json_set_number(period_shares, s->providers[p].id,
                                    totals.provider_h100e[p] / totals.total_h100e);
        }
        for (int a = 0; a < s->accelerator_count; a++)
            accelerator[a] += totals.accelerator_cost[a];
        cap_json_set_number(by_period, s->periods[t].id, totals.total_cost);
        double penalty = 0.0;
        for (int w = 0; plan->unmet && w < s->workload_count; w++)
            if (s->workloads[w].has_penalty)
                penalty += cap_model_unmet_cost(s, w, t) * plan->unmet[w * s->period_count + t];
        cap_json_set_number(penalty_by_period, s->periods[t].id, penalty);
        json_object_set_new(shares, s->periods[t].id, period_shares);
        cap_json_set_number(power, s->periods[t].id, totals.power_kw / 1000.0);
        cap_period_totals_free(&totals);
    }
    for (int p = 0; provider && p < s->provider_count; p++)
        if (provider[p] > 0)
            cap_json_set_number(by_provider, s->providers[p].id, provider[p]);
    for (int a = 0; accelerator && a < s->accelerator_count; a++)
        if (accelerator[a] > 0)
            cap_json_set_number(by_accelerator, s->accelerators[a].id, accelerator[a]);
    free(provider);
    free(accelerator);
    cap_json_set_number(cost, "total", plan->objective_usd);
    cap_json_set_number(cost, "capacity", plan->capacity_usd);
    cap_json_set_number(cost, "penalty", plan->penalty_usd);
    cap_json_set_number(cost, "commitment_topup", plan->topup_usd);
    json_object_set_new(cost, "by_provider", by_provider);
    json_object_set_new(cost, "by_accelerator", by_accelerator);
    json_object_set_new(cost, "by_period", by_period);
    json_object_set_new(cost, "penalty_by_period", penalty_by_period);
    json_t *topups = json_object();
    for (int p = 0; p < s->provider_count; p++)
        if (s->providers[p].commitment > 0.0)
            cap_json_set_number(topups, s->providers[p].id, plan->topup[p]);
    json_object_set_new(cost, "commitment_topup_by_provider", topups);
    return cost;
}

static json_t *summary_unmet(const cap_scenario *s, const cap_plan *plan)
{
    json_t *unmet = json_object();
    int T = s->period_count;
    for (int w = 0; w < s->workload_count; w++) {
        double hours = 0.0;
        for (int t = 0; t < T; t++)
            hours += plan->unmet[w * T + t] * s->periods[t].hours;
        cap_json_set_number(unmet, s->workloads[w].id, hours);
    }
    return unmet;
}

json_t *cap_report_summary(const cap_scenario *s, const cap_plan *plan, bool integer)
{
    json_t *root = json_object();
    json_object_set_new(root, "scenario", json_string(s->name));
    json_object_set_new(root, "status", json_string(cap_plan_status_name(plan->status)));
    json_object_set_new(
        root, "objective",
        json_string(s->objective == CAP_OBJECTIVE_MAX_SERVED ? "max_served" : "min_cost"));
    bool solved = plan->status == CAP_PLAN_OPTIMAL || plan->status == CAP_PLAN_FEASIBLE;
    if (solved) {
        json_t *shares = json_object(), *power = json_object();
        cap_json_set_number(root, "objective_usd", plan->objective_usd);
        json_object_set_new(root, "cost_usd", summary_costs(s, plan, shares, power));
        cap_json_set_number(root, "unmet_h100e_hours", plan->unmet_h100e_hours);
        json_object_set_new(root, "unmet_h100e_hours_by_workload", summary_unmet(s, plan));
        json_object_set_new(root, "shares", shares);
        json_object_set_new(root, "power_mw", power);
    }
    if (plan->diagnosis)
        json_object_set_new(root, "diagnosis", json_string(plan->diagnosis));
    json_t *solver = json_object();
    json_object_set_new(solver, "name", json_string("glpk"));
    json_object_set_new(solver, "version", json_string(glp_version()));
    json_object_set_new(solver, "mode", json_string(integer ? "mip" : "lp"));
    cap_json_set_number(solver, "seconds", plan->build_seconds + plan->solve_seconds);
    cap_json_set_number(solver, "build_seconds", plan->build_seconds);
    cap_json_set_number(solver, "solve_seconds", plan->solve_seconds);
    json_object_set_new(solver, "rows", json_integer(plan->rows));
    json_object_set_new(solver, "columns", json_integer(plan->columns));
    json_object_set_new(solver, "nonzeros", json_integer(plan->nonzeros));
    json_object_set_new(solver, "decomposed", json_boolean(plan->decomposed));
    if (integer && solved) {
        cap_json_set_number(solver, "mip_gap", plan->mip_gap);
        cap_json_set_number(solver, "bound_usd", plan->lp_bound_usd);
    }
    json_object_set_new(root, "solver", solver);
    return root;
}

cap_status cap_report_write_json(cap_outset *set, const char *name, const json_t *value,
                                 cap_diag *diag)
{
    cap_outfile out;
    cap_status rc = cap_outset_open(set, &out, name, diag);
    if (rc != CAP_OK)
        return rc;
    if (json_dumpf(value, out.file, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) != 0) {
        cap_outfile_abort(&out);
        cap_diag_add(diag, "%s/%s: cannot write JSON", set->dir, name);
        return CAP_ERR_RUNTIME;
    }
    fputc('\n', out.file);
    return cap_outfile_commit(&out, diag);
}

/* What `capplan plan` writes into a folder: an infeasible re-run removes the plan.csv of an
 * earlier feasible one. */
static const char *const plan_outputs[] = {"plan.csv", "summary.json", NULL};

cap_status cap_report_write(const char *dir, const cap_scenario *s, const cap_plan *plan,
                            bool integer, cap_diag *diag)
{
    cap_outset set;
    cap_status rc = cap_outset_begin(&set, dir, diag);
    if (rc != CAP_OK)
        return rc;
    if (plan->status == CAP_PLAN_OPTIMAL || plan->status == CAP_PLAN_FEASIBLE) {
        cap_outfile out;
        rc = cap_outset_open(&set, &out, "plan.csv", diag);
        if (rc == CAP_OK) {
            plan_csv(out.file, s, plan);
            rc = cap_outfile_commit(&out, diag);
        }
    }
    if (rc == CAP_OK) {
        json_t *summary = cap_report_summary(s, plan, integer);
        rc = cap_report_write_json(&set, "summary.json", summary, diag);
        json_decref(summary);
    }
    return cap_outset_finish(&set, rc, CAP_OK, plan_outputs, diag);
}
