/* mc_report.c: what `capplan simulate` shows and writes: mc.json, cost_hist.csv, plots.
 *
 * mc.json keeps the statistics apart from the timings ("timing"), so that two runs with
 * the same seed give byte-identical statistics whatever the backend or thread count.
 */
#define _POSIX_C_SOURCE 200809L
#include "mc_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "plot.h"
#include "report.h"

static json_t *cost_json(const cap_mc_cost_stats *cost)
{
    json_t *o = json_object();
    cap_json_set_number(o, "mean", cost->mean);
    cap_json_set_number(o, "std", cost->std);
    cap_json_set_number(o, "p5", cost->p5);
    cap_json_set_number(o, "p50", cost->p50);
    cap_json_set_number(o, "p95", cost->p95);
    cap_json_set_number(o, "p99", cost->p99);
    cap_json_set_number(o, "cvar95", cost->cvar95);
    cap_json_set_number(o, "min", cost->min);
    cap_json_set_number(o, "max", cost->max);
    json_object_set_new(o, "quantiles_exact", json_boolean(cost->quantiles_exact));
    if (!cost->quantiles_exact)
        cap_json_set_number(o, "quantile_error_usd", cost->quantile_error);
    return o;
}

static json_t *workloads_json(const cap_scenario *s, const cap_mc_scale_result *r)
{
    json_t *list = json_array();
    for (int w = 0; w < s->workload_count; w++) {
        const cap_mc_workload_stats *ws = &r->workloads[w];
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(s->workloads[w].id));
        json_object_set_new(o, "hard_demand", json_boolean(!s->workloads[w].has_penalty));
        cap_json_set_number(o, "p_shortfall", ws->p_shortfall);
        cap_json_set_number(o, "expected_unmet_h100e_hours", ws->expected_unmet_h100e_hours);
        cap_json_set_number(o, "p95_unmet_h100e_hours", ws->p95_unmet_h100e_hours);
        cap_json_set_number(o, "service_level", ws->service_level);
        json_t *periods = json_array();
        for (int t = 0; t < s->period_count; t++) {
            json_t *p = json_object();
            json_object_set_new(p, "period", json_string(s->periods[t].id));
            cap_json_set_number(p, "p_shortfall", ws->period_p_shortfall[t]);
            cap_json_set_number(p, "expected_shortfall_h100e", ws->period_expected_shortfall[t]);
            cap_json_set_number(p, "p95_shortfall_h100e", ws->period_p95_shortfall[t]);
            cap_json_set_number(p, "service_level", ws->period_service_level[t]);
            json_array_append_new(periods, p);
        }
        json_object_set_new(o, "periods", periods);
        json_array_append_new(list, o);
    }
    return list;
}

int cap_mc_report_main_scale(const cap_mc_result *result)
{
    for (int i = 0; i < result->scale_count; i++)
        if (result->scales[i].scale == 1.0)
            return i;
    return 0;
}

json_t *cap_mc_report_json(const cap_scenario *s, const cap_mc_result *result,
                           const cap_mc_report_info *info)
{
    const cap_mc_scale_result *main = &result->scales[cap_mc_report_main_scale(result)];
    json_t *root = json_object();
    json_object_set_new(root, "scenario", json_string(s->name));
    json_object_set_new(root, "samples", json_integer((json_int_t)result->samples));
    json_object_set_new(root, "seed", json_integer((json_int_t)result->seed));
    json_object_set_new(root, "backend", json_string(info->backend_kind));
    json_object_set_new(root, "recourse", json_string(info->recourse));
    json_object_set_new(root, "plan_source", json_string(info->plan_source));
    cap_json_set_number(root, "plan_cost_usd", info->plan_cost);
    cap_json_set_number(root, "scale", main->scale);
    json_object_set_new(root, "cost_usd", cost_json(&main->cost));
    json_object_set_new(root, "workloads", workloads_json(s, main));
    json_t *histogram = json_object();
    cap_json_set_number(histogram, "lo", main->histogram_lo);
    cap_json_set_number(histogram, "hi", main->histogram_hi);
    json_t *counts = json_array();
    for (int b = 0; b < main->histogram_bins; b++)
        json_array_append_new(counts, json_integer((json_int_t)main->histogram[b]));
    json_object_set_new(histogram, "counts", counts);
    json_object_set_new(root, "cost_histogram", histogram);
    /* every scale run, the one scale 1 too when there is no --demand-scale, so that scripts
     * always find the list */
    json_t *sweep = json_array();
    for (int i = 0; i < result->scale_count; i++) {
        json_t *point = json_object();
        cap_json_set_number(point, "scale", result->scales[i].scale);
        json_object_set_new(point, "cost_usd", cost_json(&result->scales[i].cost));
        json_object_set_new(point, "workloads", workloads_json(s, &result->scales[i]));
        json_array_append_new(sweep, point);
    }
    json_object_set_new(root, "sweep", sweep);
    json_t *timing = json_object();
    json_object_set_new(timing, "device", json_string(result->device));
    json_object_set_new(timing, "threads", json_integer(result->threads));
    cap_json_set_number(timing, "seconds", result->seconds);
    cap_json_set_number(timing, "samples_per_second",
                        result->seconds > 0
                            ? (double)result->samples * result->scale_count / result->seconds
                            : 0.0);
    json_object_set_new(root, "timing", timing);
    return root;
}

void cap_mc_report_print(FILE *out, const cap_scenario *s, const cap_mc_result *result,
                         const cap_mc_report_info *info)
{
    const cap_mc_scale_result *main = &result->scales[cap_mc_report_main_scale(result)];
    char a[32], b[32], c[32], d[32], e[32];
    fprintf(out, "capplan simulate: %s: %lld samples, seed %llu, %s (%s), recourse %s, %.2f s\n",
            s->name, (long long)result->samples, (unsigned long long)result->seed, result->backend,
            result->device, info->recourse, result->seconds);
    cap_format_usd(info->plan_cost, a, sizeof a);
    fprintf(out, "plan cost %s USD (%s)\n", a, info->plan_source);
    cap_format_usd(main->cost.mean, a, sizeof a);
    cap_format_usd(main->cost.p5, b, sizeof b);
    cap_format_usd(main->cost.p50, c, sizeof c);
    cap_format_usd(main->cost.p95, d, sizeof d);
    cap_format_usd(main->cost.cvar95, e, sizeof e);
    fprintf(out, "cost USD: mean %s  P5 %s  P50 %s  P95 %s  CVaR95 %s%s\n", a, b, c, d, e,
            main->cost.quantiles_exact ? "" : " (quantiles from histogram)");
    fprintf(out, "\n  %-24s %12s %16s %16s %9s\n", "workload", "P(short)", "E[unmet] H100e-h",
            "P95 unmet", "service");
    for (int w = 0; w < s->workload_count; w++) {
        const cap_mc_workload_stats *ws = &main->workloads[w];
        fprintf(out, "  %-24s %12.4f %16.6g %16.6g %8.3f%%%s\n", s->workloads[w].id,
                ws->p_shortfall, ws->expected_unmet_h100e_hours, ws->p95_unmet_h100e_hours,
                100.0 * ws->service_level, s->workloads[w].has_penalty ? "" : "  (hard)");
    }
    if (result->scale_count > 1) {
        fprintf(out, "\n  %-8s %16s %16s\n", "scale", "mean cost", "P95 cost");
        for (int i = 0; i < result->scale_count; i++) {
            cap_format_usd(result->scales[i].cost.mean, a, sizeof a);
            cap_format_usd(result->scales[i].cost.p95, b, sizeof b);
            fprintf(out, "  %-8.4g %16s %16s\n", result->scales[i].scale, a, b);
        }
    }
}

/* ---- files and plots ------------------------------------------------------------------ */

static cap_status write_histogram(cap_outset *set, const cap_mc_scale_result *r, int64_t samples,
                                  cap_diag *diag)
{
    cap_outfile out;
    cap_status rc = cap_outset_open(set, &out, "cost_hist.csv", diag);
    if (rc != CAP_OK)
        return rc;
    fputs("bin_lo_usd,bin_hi_usd,count,fraction\n", out.file);
    double width =
        (r->histogram_hi - r->histogram_lo) / (r->histogram_bins > 0 ? r->histogram_bins : 1);
    for (int b = 0; b < r->histogram_bins; b++)
        fprintf(out.file, "%.17g,%.17g,%lld,%.17g\n", r->histogram_lo + b * width,
                r->histogram_lo + (b + 1) * width, (long long)r->histogram[b],
                samples > 0 ? (double)r->histogram[b] / (double)samples : 0.0);
    return cap_outfile_commit(&out, diag);
}

static cap_status write_shortfall(cap_outset *set, const cap_scenario *s,
                                  const cap_mc_scale_result *r, cap_diag *diag)
{
    cap_outfile out;
    cap_status rc = cap_outset_open(set, &out, "shortfall.dat", diag);
    if (rc != CAP_OK)
        return rc;
    fputs("workload,p_shortfall,service_level\n", out.file);
    for (int w = 0; w < s->workload_count; w++) {
        cap_csv_field(out.file, s->workloads[w].id); /* quoted as in every CSV; gnuplot reads it */
        fprintf(out.file, ",%.17g,%.17g\n", r->workloads[w].p_shortfall,
                r->workloads[w].service_level);
    }
    return cap_outfile_commit(&out, diag);
}

static cap_status write_sweep(cap_outset *set, const cap_scenario *s, const cap_mc_result *result,
                              cap_diag *diag)
{
    cap_outfile out;
    cap_status rc = cap_outset_open(set, &out, "sweep.csv", diag);
    if (rc != CAP_OK)
        return rc;
    fputs("scale,mean_usd,p5_usd,p50_usd,p95_usd,cvar95_usd", out.file);
    for (int w = 0; w < s->workload_count; w++) {
        fputc(',', out.file);
        cap_csv_field_affixed(out.file, "p_shortfall_", s->workloads[w].id, "");
    }
    fputc('\n', out.file);
    for (int i = 0; i < result->scale_count; i++) {
        const cap_mc_scale_result *r = &result->scales[i];
        fprintf(out.file, "%.17g,%.17g,%.17g,%.17g,%.17g,%.17g", r->scale, r->cost.mean, r->cost.p5,
                r->cost.p50, r->cost.p95, r->cost.cvar95);
        for (int w = 0; w < s->workload_count; w++)
            fprintf(out.file, ",%.17g", r->workloads[w].p_shortfall);
        fputc('\n', out.file);
    }
    return cap_outfile_commit(&out, diag);
}

static cap_status draw_plots(cap_outset *set, const cap_scenario *s, const cap_mc_result *result,
                             cap_diag *diag)
{
    cap_status rc =
        cap_plot_render(set, "cost_hist",
                        "set title 'Total cost over the horizon (Monte Carlo)'\n"
                        "set xlabel 'cost, billion USD'\nset ylabel 'fraction of samples'\n"
                        "set style fill solid 0.6 border -1\nset key off\n"
                        "plot 'cost_hist.csv' skip 1 using (($1+$2)/2e9):4:(($2-$1)/1e9) with "
                        "boxes lc rgb '#3a6ea5'",
                        diag);
    if (rc != CAP_OK)
        return rc;
    rc =
        cap_plot_render(set, "shortfall",
                        "set title 'Probability that each workload falls short in any period'\n"
                        "set ylabel 'P(shortfall)'\nset yrange [0:*]\nset key off\n"
                        "set style fill solid 0.6 border -1\nset boxwidth 0.6\n"
                        "set xtics rotate by -30\n"
                        "plot 'shortfall.dat' skip 1 using 0:2:xtic(1) with boxes lc rgb '#c0504d'",
                        diag);
    if (rc != CAP_OK || result->scale_count < 2)
        return rc;
    char body[4096];
    int n = snprintf(body, sizeof body,
                     "set title 'Demand sweep (same random numbers at every scale)'\n"
                     "set xlabel 'demand scale'\nset ylabel 'cost, billion USD'\n"
                     "set y2label 'P(shortfall)'\nset y2tics\nset y2range [0:1]\nset key outside\n"
                     "plot 'sweep.csv' skip 1 using 1:($2/1e9) with linespoints lw 2 title 'mean', "
                     "'' skip 1 using 1:($5/1e9) with linespoints title 'P95'");
    for (int w = 0; w < s->workload_count && n > 0 && (size_t)n < sizeof body - 200; w++) {
        char title[41]; /* at most 40 bytes of the id */
        cap_plot_text(s->workloads[w].id, title, sizeof title);
        n += snprintf(body + n, sizeof body - (size_t)n,
                      ", '' skip 1 using 1:%d axes x1y2 with lines dt 2 title 'P(short) %s'", 7 + w,
                      title);
    }
    return cap_plot_render(set, "sweep", body, diag);
}

/* Everything `capplan simulate` may write into a folder; what a run does not write (a sweep
 * it was not asked for, plots with --no-plots) is removed, so no file of an earlier run is
 * taken for this one's. */
static const char *const simulate_outputs[] = {"mc.json",
                                               "cost_hist.csv",
                                               "shortfall.dat",
                                               "sweep.csv",
                                               "cost_hist.gp",
                                               "cost_hist.png",
                                               "shortfall.gp",
                                               "shortfall.png",
                                               "sweep.gp",
                                               "sweep.png",
                                               NULL};

cap_status cap_mc_report_write(const char *dir, const cap_scenario *s, const cap_mc_result *result,
                               const cap_mc_report_info *info, bool plots, cap_diag *diag)
{
    cap_outset set;
    cap_status rc = cap_outset_begin(&set, dir, diag);
    if (rc != CAP_OK)
        return rc;
    const cap_mc_scale_result *main = &result->scales[cap_mc_report_main_scale(result)];
    json_t *root = cap_mc_report_json(s, result, info);
    rc = cap_report_write_json(&set, "mc.json", root, diag);
    json_decref(root);
    if (rc == CAP_OK)
        rc = write_histogram(&set, main, result->samples, diag);
    if (rc == CAP_OK)
        rc = write_shortfall(&set, s, main, diag);
    if (rc == CAP_OK && result->scale_count > 1)
        rc = write_sweep(&set, s, result, diag);
    cap_status plot_rc = rc == CAP_OK && plots ? draw_plots(&set, s, result, diag) : CAP_OK;
    return cap_outset_finish(&set, rc, plot_rc, simulate_outputs, diag);
}
