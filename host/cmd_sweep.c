/* cmd_sweep.c: `capplan sweep`: re-solve a scenario over a grid of parameter values.
 *
 * Each --vary is one axis (solver/sweep.h); several make a cartesian grid, first axis
 * slowest. Points are solved warm from the previous point's basis on OpenMP threads. The
 * table and sweep.csv have one row per point: the varied values, status, objective, its
 * capacity / penalty / top-up parts, unmet H100e-hours, seconds and whether the point
 * started warm. sweep.png is a line plot (one axis), a heat map (two) or the objective by
 * point number (more), drawn from sweep.dat by sweep.gp.
 * Exit code: 0 when at least one point has a plan (infeasible points are data, not
 * errors), 3 when none has, 2 for a bad --vary, 1 for failures.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "outfile.h"
#include "plot.h"
#include "report.h"
#include "scenario_load.h"
#include "sweep.h"

static const char sweep_usage[] =
    "usage: capplan sweep SCENARIO --vary TARGET.FIELD=A:B:STEP [--vary ...] [options]\n"
    "Re-solve the plan over a grid of parameter values, each point warm from the last.\n"
    "\n"
    "  -V, --vary SPEC          one axis; several make a grid (first axis slowest).\n"
    "                           TARGET is an offering, workload, provider or region id\n"
    "                           (KIND:ID when ambiguous) or accelerator:ID (all its\n"
    "                           offerings). A:B:STEP sets the field, xA:B:STEP scales it,\n"
    "                           one number sets one value. Fields:\n"
    "                             offering      price capacity availability outage\n"
    "                             workload      demand penalty max_spot_share\n"
    "                             provider      max_share min_share commitment\n"
    "                                           (and price capacity availability of its\n"
    "                                           offerings)\n"
    "                             region        power_mw (and its offerings' fields)\n"
    "                           per-period fields are set or scaled in every period\n"
    "  -o, --out DIR            write sweep.csv and sweep.png (with .dat and .gp) into DIR\n"
    "  -i, --integer            whole units (MIP at every point)\n"
    "      --mip-gap G          with -i: relative gap at which the MIP search stops\n"
    "                           (default 1e-4)\n"
    "      --time-limit S       stop each solve after S seconds (with -i: 60 by default)\n"
    "      --node-limit N       with -i: stop each MIP search after N nodes (the same\n"
    "                           plan on every run and machine)\n"
    "      --threads N          threads (default: OpenMP's); each solves a contiguous run\n"
    "      --cold               solve every point from scratch (to time the warm starts)\n"
    "      --no-plots           do not run gnuplot\n"
    "  -q, --quiet              no table\n"
    "  -h, --help               this text\n"
    "\n"
    "Example: capplan sweep s.yaml --vary accelerator:GB300.price=x0.5:1.0:0.1 \\\n"
    "                              --vary azure.max_share=0.3:0.6:0.1 --out out/sweep\n"
    "Exit codes: 0 some point solved, 3 no point feasible, 2 bad usage or scenario,\n"
    "1 runtime failure.\n";

typedef struct {
    const char *scenario_path, *out_dir;
    char **specs;
    int spec_count;
    cap_sweep_options sweep;
    bool quiet, plots;
} sweep_args;

static bool spec_add(sweep_args *args, char *spec)
{
    char **grown = realloc(args->specs, ((size_t)args->spec_count + 1) * sizeof *grown);
    if (!grown)
        return false;
    args->specs = grown;
    args->specs[args->spec_count++] = spec;
    return true;
}

static int parse_args(int argc, char **argv, sweep_args *args)
{
    static const struct option options[] = {{"vary", required_argument, NULL, 'V'},
                                            {"out", required_argument, NULL, 'o'},
                                            CAP_MIP_LONG_OPTIONS,
                                            {"threads", required_argument, NULL, 'T'},
                                            {"cold", no_argument, NULL, 'C'},
                                            {"no-plots", no_argument, NULL, 'P'},
                                            {"quiet", no_argument, NULL, 'q'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    memset(args, 0, sizeof *args);
    cap_sweep_options_init(&args->sweep);
    args->plots = true;
    optind = 0;
    int c;
    int64_t n;
    while ((c = getopt_long(argc, argv, "V:o:iqh", options, NULL)) != -1) {
        int solve_option = cap_parse_mip_option(c, optarg, &args->sweep.solve);
        if (solve_option != 0) {
            if (solve_option < 0)
                return 2;
            continue;
        }
        switch (c) {
        case 'V':
            if (!spec_add(args, optarg))
                return 1;
            break;
        case 'o':
            args->out_dir = optarg;
            break;
        case 'T':
            if (!cap_parse_int64("--threads", optarg, 1, 1024, &n))
                return 2;
            args->sweep.threads = (int)n;
            break;
        case 'C':
            args->sweep.cold = true;
            break;
        case 'P':
            args->plots = false;
            break;
        case 'q':
            args->quiet = true;
            break;
        case 'h':
            fputs(sweep_usage, stdout);
            return -1;
        default:
            fputs(sweep_usage, stderr);
            return 2;
        }
    }
    args->scenario_path = cap_one_scenario("sweep", argc, argv, optind, sweep_usage);
    if (!args->scenario_path)
        return 2;
    if (args->spec_count == 0) {
        fprintf(stderr, "capplan sweep: give at least one --vary TARGET.FIELD=A:B:STEP\n\n%s",
                sweep_usage);
        return 2;
    }
    return 0;
}

/* ---- outputs -------------------------------------------------------------------------- */

static bool point_solved(const cap_sweep_point *point)
{
    return point->solved &&
           (point->status == CAP_PLAN_OPTIMAL || point->status == CAP_PLAN_FEASIBLE);
}

static bool any_point_solved(const cap_sweep_result *r)
{
    for (int p = 0; p < r->point_count; p++)
        if (point_solved(&r->points[p]))
            return true;
    return false;
}

static const char *point_status(const cap_sweep_point *point)
{
    return point->solved ? cap_plan_status_name(point->status) : "skipped";
}

static void csv_label(FILE *out, const cap_sweep_axis *axis)
{
    cap_csv_field_affixed(out, "", axis->label, axis->scale ? "_scale" : "");
    fputc(',', out);
}

static void write_csv(FILE *out, const cap_sweep_options *o, const cap_sweep_result *r)
{
    for (int a = 0; a < o->axis_count; a++)
        csv_label(out, &o->axes[a]);
    fputs("status,objective_usd,capacity_usd,penalty_usd,commitment_topup_usd,"
          "unmet_h100e_hours,seconds,start,thread\n",
          out);
    for (int p = 0; p < r->point_count; p++) {
        const cap_sweep_point *point = &r->points[p];
        for (int a = 0; a < o->axis_count; a++)
            fprintf(out, "%.17g,", o->values[(size_t)p * o->axis_count + a]);
        fprintf(out, "%s", point_status(point));
        if (point_solved(point))
            fprintf(out, ",%.17g,%.17g,%.17g,%.17g,%.17g", point->objective_usd,
                    point->capacity_usd, point->penalty_usd, point->topup_usd,
                    point->unmet_h100e_hours);
        else
            fputs(",,,,,", out);
        fprintf(out, ",%.6f,%s,%d\n", point->seconds, point->warm ? "warm" : "cold", point->thread);
    }
}

/* sweep.dat: the axis values (or the point number past two axes), objective in million USD
 * and unmet H100e-hours; NaN where a point has no plan, which gnuplot leaves blank. */
static void write_dat(FILE *out, const cap_sweep_options *o, const cap_sweep_result *r)
{
    fputs("# values...,objective_musd,unmet_h100e_hours\n", out);
    for (int p = 0; p < r->point_count; p++) {
        const cap_sweep_point *point = &r->points[p];
        if (o->axis_count > 2)
            fprintf(out, "%d,", p + 1);
        else
            for (int a = 0; a < o->axis_count; a++)
                fprintf(out, "%.17g,", o->values[(size_t)p * o->axis_count + a]);
        if (point_solved(point))
            fprintf(out, "%.17g,%.17g\n", point->objective_usd / 1e6, point->unmet_h100e_hours);
        else
            fputs("NaN,NaN\n", out);
        /* gnuplot's image style reads a grid row by row: a blank line ends each row */
        if (o->axis_count == 2 && (p + 1) % o->axes[1].value_count == 0)
            fputc('\n', out);
    }
}

/* An axis label safe inside a single-quoted gnuplot string. */
static void plot_label(const cap_sweep_axis *axis, char *buffer, size_t size)
{
    char label[300];
    snprintf(label, sizeof label, "%s%s", axis->label, axis->scale ? " (scale)" : "");
    cap_plot_text(label, buffer, size);
}

static void plot_body(const cap_sweep_options *o, const cap_sweep_result *r, char *body,
                      size_t size)
{
    char first[300], second[300];
    plot_label(&o->axes[0], first, sizeof first);
    plot_label(&o->axes[o->axis_count > 1 ? 1 : 0], second, sizeof second);
    bool unmet = false;
    for (int p = 0; p < r->point_count; p++)
        unmet = unmet || r->points[p].unmet_h100e_hours > 0.0;
    if (o->axis_count == 1)
        snprintf(body, size,
                 "set termoption noenhanced\n"
                 "set title 'capplan sweep: total cost over %s'\n"
                 "set xlabel '%s'\nset ylabel 'total cost (million USD)'\n"
                 "set key top left\n%s"
                 "plot 'sweep.dat' using 1:2 with linespoints lw 2 title 'total cost'%s\n",
                 first, first,
                 unmet ? "set y2label 'unmet H100e-hours'\nset y2tics\nset ytics nomirror\n" : "",
                 unmet ? ", \\\n     '' using 1:3 axes x1y2 with linespoints dt 2 "
                         "title 'unmet H100e-hours'"
                       : "");
    else if (o->axis_count == 2)
        snprintf(body, size,
                 "set termoption noenhanced\n"
                 "set title 'capplan sweep: total cost (million USD)'\n"
                 "set xlabel '%s'\nset ylabel '%s'\nset cblabel 'million USD'\n"
                 "set view map\nset palette rgbformulae 33,13,10\nunset grid\n"
                 "plot 'sweep.dat' using 2:1:3 with image notitle\n",
                 second, first);
    else
        snprintf(body, size,
                 "set termoption noenhanced\n"
                 "set title 'capplan sweep: total cost by grid point (first axis slowest)'\n"
                 "set xlabel 'point'\nset ylabel 'total cost (million USD)'\n"
                 "plot 'sweep.dat' using 1:2 with linespoints title 'total cost'\n");
}

typedef void (*file_writer)(FILE *out, const cap_sweep_options *o, const cap_sweep_result *r);

static cap_status write_file(cap_outset *set, const char *name, file_writer writer,
                             const cap_sweep_options *o, const cap_sweep_result *r, cap_diag *diag)
{
    cap_outfile out;
    cap_status rc = cap_outset_open(set, &out, name, diag);
    if (rc != CAP_OK)
        return rc;
    writer(out.file, o, r);
    return cap_outfile_commit(&out, diag);
}

static cap_status write_plot(const sweep_args *args, cap_outset *set, const cap_sweep_result *r,
                             cap_diag *diag)
{
    cap_status rc = write_file(set, "sweep.dat", write_dat, &args->sweep, r, diag);
    if (rc == CAP_OK && !any_point_solved(r)) {
        cap_diag_add(diag, "no point has a plan: %s/sweep.png not drawn", set->dir);
        return CAP_OK;
    }
    char body[4096];
    plot_body(&args->sweep, r, body, sizeof body);
    return rc == CAP_OK ? cap_plot_render(set, "sweep", body, diag) : rc;
}

/* Everything `capplan sweep` may write into a folder (outfile.h: what a run does not write
 * is removed). */
static const char *const sweep_outputs[] = {"sweep.csv", "sweep.dat", "sweep.gp", "sweep.png",
                                            NULL};

static cap_status write_outputs(const sweep_args *args, const cap_sweep_result *r, cap_diag *diag)
{
    cap_outset set;
    cap_status rc = cap_outset_begin(&set, args->out_dir, diag);
    if (rc == CAP_OK)
        rc = write_file(&set, "sweep.csv", write_csv, &args->sweep, r, diag);
    cap_status plot_rc = rc == CAP_OK && args->plots ? write_plot(args, &set, r, diag) : CAP_OK;
    return cap_outset_finish(&set, rc, plot_rc, sweep_outputs, diag);
}

static int column_width(const cap_sweep_axis *axis)
{
    int length = (int)strlen(axis->label) + (axis->scale ? 6 : 0);
    return length > 12 ? (length < 40 ? length : 40) : 12;
}

static void print_table(const cap_sweep_options *o, const cap_sweep_result *r)
{
    const cap_sweep_axis *axes = o->axes;
    for (int a = 0; a < o->axis_count; a++) {
        int label = column_width(&axes[a]) - (axes[a].scale ? 6 : 0); /* then "_scale" */
        printf("%-*.*s%s ", label, label, axes[a].label, axes[a].scale ? "_scale" : "");
    }
    printf("%-10s %16s %16s %9s %5s\n", "status", "total USD", "unmet H100e-h", "seconds", "start");
    for (int p = 0; p < r->point_count; p++) {
        const cap_sweep_point *point = &r->points[p];
        for (int a = 0; a < o->axis_count; a++)
            printf("%-*.6g ", column_width(&axes[a]), o->values[(size_t)p * o->axis_count + a]);
        char usd[32] = "-";
        if (point_solved(point))
            cap_format_usd(point->objective_usd, usd, sizeof usd);
        printf("%-10s %16s %16.6g %9.3f %5s\n", point_status(point), usd,
               point_solved(point) ? point->unmet_h100e_hours : NAN, point->seconds,
               point->warm ? "warm" : "cold");
    }
    printf("%d points in %.2f s on %d thread%s\n", r->point_count, r->seconds, r->threads,
           r->threads == 1 ? "" : "s");
    fflush(stdout);
}

/* ---- the command ---------------------------------------------------------------------- */

static int sweep_exit_code(const cap_sweep_result *r)
{
    bool any_failure = false;
    for (int p = 0; p < r->point_count; p++)
        any_failure =
            any_failure || !r->points[p].solved || r->points[p].status == CAP_PLAN_UNDEFINED;
    if (any_point_solved(r))
        return 0;
    return any_failure ? 1 : 3;
}

static int run_sweep(sweep_args *args, const cap_scenario *s, cap_sweep_axis *axes, cap_diag *diag)
{
    double *values = NULL;
    int count = 0;
    cap_status rc = cap_sweep_grid(axes, args->spec_count, &values, &count, diag);
    if (rc != CAP_OK)
        return rc;
    args->sweep.axes = axes;
    args->sweep.axis_count = args->spec_count;
    args->sweep.values = values;
    args->sweep.point_count = count;
    cap_sweep_result *result = NULL;
    rc = cap_sweep_run(s, &args->sweep, &result, diag);
    int code = rc;
    if (rc == CAP_OK) {
        if (!args->quiet)
            print_table(&args->sweep, result);
        code = sweep_exit_code(result);
        if (args->out_dir) {
            rc = write_outputs(args, result, diag);
            code = cap_outputs_done(args->out_dir, rc, code, !args->quiet);
        }
    }
    cap_sweep_result_free(result);
    free(values);
    return code;
}

int cap_cmd_sweep(int argc, char **argv)
{
    sweep_args args;
    int code = parse_args(argc, argv, &args);
    if (code != 0) {
        free(args.specs);
        return code < 0 ? 0 : code;
    }
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *s = NULL;
    cap_sweep_axis *axes = calloc((size_t)args.spec_count, sizeof *axes);
    code = axes ? cap_scenario_load(args.scenario_path, &s, &diag) : CAP_ERR_RUNTIME;
    for (int a = 0; code == CAP_OK && a < args.spec_count; a++)
        code = cap_sweep_axis_parse(s, args.specs[a], &axes[a], &diag);
    if (code == CAP_OK)
        code = run_sweep(&args, s, axes, &diag);
    cap_diag_print(&diag, stderr);
    cap_diag_free(&diag);
    for (int a = 0; axes && a < args.spec_count; a++)
        cap_sweep_axis_free(&axes[a]);
    free(axes);
    free(args.specs);
    cap_scenario_free(s);
    return code;
}
