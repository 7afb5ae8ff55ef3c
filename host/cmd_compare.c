/* cmd_compare.c: `capplan compare`: plan and simulate each accelerator mix side by side.
 *
 * For every --mix (solver/mix.h: offerings of other accelerators get capacity 0), solve
 * the plan, then run the Monte Carlo engine on it (host/mc_bridge.h, same seed for every
 * mix, so outages and demand paths are common random numbers). One row per mix: status,
 * total cost, USD per delivered H100e-hour, unmet demand, Monte Carlo cost statistics,
 * P(shortfall) per workload, power drawn and provider shares; a terminal table,
 * compare.csv and compare.png (grouped bars, with compare.dat and compare.gp).
 * A mix whose plan is infeasible keeps its row, marked infeasible. Exit code: 0 when at
 * least one mix has a plan, 3 when none has, 2 bad usage, 4 backend unavailable,
 * 1 runtime failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mc_bridge.h"
#include "mix.h"
#include "outfile.h"
#include "plot.h"
#include "report.h"
#include "scenario_load.h"

static const char compare_usage[] =
    "usage: capplan compare SCENARIO --mix IDS [--mix IDS ...] [options]\n"
    "Plan and simulate the scenario with its offerings restricted to each accelerator mix.\n"
    "\n"
    "  -m, --mix IDS            accelerators, comma-separated (H100,GB200), or all\n"
    "  -n, --samples N          Monte Carlo samples per mix (default: the scenario's)\n"
    "  -s, --seed S             seed (default: the scenario's); the same for every mix\n"
    "  -b, --backend B          auto (GPU when present), cpu or cuda (default auto)\n"
    "  -r, --recourse R         none or greedy (see capplan simulate; default none)\n"
    "  -i, --integer            whole units (MIP) for every plan\n"
    "      --mip-gap G          with -i: relative gap at which the MIP search stops\n"
    "                           (default 1e-4)\n"
    "      --time-limit S       stop each solve after S seconds (with -i: 60 by default)\n"
    "      --node-limit N       with -i: stop each MIP search after N nodes (the same\n"
    "                           plan on every run and machine)\n"
    "  -o, --out DIR            write compare.csv and compare.png (with .dat, .gp)\n"
    "      --threads N          CPU threads for the Monte Carlo (default: all)\n"
    "      --no-plots           do not run gnuplot\n"
    "  -q, --quiet              no table\n"
    "  -h, --help               this text\n"
    "\n"
    "USD per H100e-hour is what the plan pays (capacity plus unused commitment) over the\n"
    "H100e-hours it delivers (derated by availability and outage).\n"
    "Exit codes: 0 some mix planned, 3 every mix infeasible, 2 bad usage or scenario,\n"
    "4 backend unavailable, 1 runtime failure.\n";

typedef struct {
    const char *scenario_path, *out_dir;
    char **mixes;
    int mix_count;
    cap_mc_cli mc;
    cap_plan_options solve; /* integer and the MIP limits */
    bool plots, quiet;
} compare_args;

static int parse_choice(const char *option, const char *text, const char *const *names, int count,
                        int *value)
{
    for (int i = 0; i < count; i++)
        if (strcmp(text, names[i]) == 0) {
            *value = i;
            return 0;
        }
    fprintf(stderr, "capplan compare: %s: '%s' is not one of", option, text);
    for (int i = 0; i < count; i++)
        fprintf(stderr, " %s", names[i]);
    fputc('\n', stderr);
    return 2;
}

static int parse_option(int c, compare_args *args)
{
    static const char *const backends[] = {"auto", "cpu", "cuda"};
    static const char *const recourses[] = {"none", "greedy"};
    int choice = 0;
    int shared = cap_parse_mip_option(c, optarg, &args->solve);
    if (shared == 0)
        shared = cap_mc_cli_parse(c, optarg, &args->mc);
    if (shared != 0)
        return shared < 0 ? 2 : 0;
    switch (c) {
    case 'm': {
        char **grown = realloc(args->mixes, ((size_t)args->mix_count + 1) * sizeof *grown);
        if (!grown)
            return 1;
        args->mixes = grown;
        args->mixes[args->mix_count++] = optarg;
        return 0;
    }
    case 'b':
        if (parse_choice("--backend", optarg, backends, 3, &choice))
            return 2;
        args->mc.backend = (cap_mc_backend_kind)choice;
        return 0;
    case 'r':
        if (parse_choice("--recourse", optarg, recourses, 2, &choice))
            return 2;
        args->mc.recourse = (cap_mc_recourse)choice;
        return 0;
    case 'o':
        args->out_dir = optarg;
        return 0;
    case 'P':
        args->plots = false;
        return 0;
    case 'q':
        args->quiet = true;
        return 0;
    case 'h':
        fputs(compare_usage, stdout);
        return -1;
    default:
        fputs(compare_usage, stderr);
        return 2;
    }
}

static int parse_args(int argc, char **argv, compare_args *args)
{
    static const struct option options[] = {{"mix", required_argument, NULL, 'm'},
                                            {"samples", required_argument, NULL, 'n'},
                                            {"seed", required_argument, NULL, 's'},
                                            {"backend", required_argument, NULL, 'b'},
                                            {"recourse", required_argument, NULL, 'r'},
                                            {"out", required_argument, NULL, 'o'},
                                            {"threads", required_argument, NULL, 'T'},
                                            {"no-plots", no_argument, NULL, 'P'},
                                            {"quiet", no_argument, NULL, 'q'},
                                            {"help", no_argument, NULL, 'h'},
                                            CAP_MIP_LONG_OPTIONS,
                                            {NULL, 0, NULL, 0}};
    memset(args, 0, sizeof *args);
    cap_plan_options_init(&args->solve);
    args->plots = true;
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "m:n:s:b:r:io:qh", options, NULL)) != -1) {
        int rc = parse_option(c, args);
        if (rc != 0)
            return rc;
    }
    args->scenario_path = cap_one_scenario("compare", argc, argv, optind, compare_usage);
    if (!args->scenario_path)
        return 2;
    if (args->mix_count == 0) {
        fprintf(stderr, "capplan compare: give at least one --mix\n\n%s", compare_usage);
        return 2;
    }
    return 0;
}

/* ---- one mix -------------------------------------------------------------------------- */

typedef struct {
    char label[256]; /* "H100+GB200": commas would split the plot's data file */
    cap_plan_status status;
    bool planned, simulated;
    cap_plan *plan;
    cap_mix_metrics metrics;
    double mc_mean, mc_std, mc_p95, mc_cvar95, mc_unmet_hours;
    double *p_shortfall; /* [workload] */
} mix_row;

static void mix_label(const char *text, char *label, size_t size)
{
    snprintf(label, size, "%s", text);
    for (char *p = label; *p; p++)
        if (*p == ',' || *p == '"' || *p == ' ')
            *p = *p == ',' ? '+' : '_';
}

static int simulate(const compare_args *args, const cap_scenario *s, mix_row *row, cap_diag *diag)
{
    cap_mc_bridge bridge;
    cap_status rc = cap_mc_bridge_build(s, row->plan, &bridge, diag);
    if (rc != CAP_OK)
        return rc;
    cap_mc_options options;
    cap_mc_options_init(&options);
    cap_mc_cli_apply(&args->mc, s, &options);
    cap_mc_result *result = NULL;
    char error[512] = "";
    int code = cap_mc_run(&bridge.problem, &options, &result, error, sizeof error);
    cap_mc_bridge_free(&bridge);
    if (code != CAP_MC_OK) {
        cap_diag_add(diag, "capplan compare: mix %s: %s", row->label, error);
        return code;
    }
    const cap_mc_scale_result *scale = &result->scales[0];
    row->mc_mean = scale->cost.mean;
    row->mc_std = scale->cost.std;
    row->mc_p95 = scale->cost.p95;
    row->mc_cvar95 = scale->cost.cvar95;
    for (int w = 0; w < s->workload_count; w++) {
        row->p_shortfall[w] = scale->workloads[w].p_shortfall;
        row->mc_unmet_hours += scale->workloads[w].expected_unmet_h100e_hours;
    }
    row->simulated = true;
    cap_mc_result_free(result);
    return 0;
}

/* Plans and simulates one mix (text, parsed as in_mix). Returns 0, or an exit code that
 * stops the comparison. */
static int run_mix(const compare_args *args, const cap_scenario *base, const char *text,
                   const bool *in_mix, mix_row *row, cap_diag *diag)
{
    mix_label(text, row->label, sizeof row->label);
    row->status = CAP_PLAN_UNDEFINED;
    row->p_shortfall = calloc((size_t)base->workload_count + 1, sizeof *row->p_shortfall);
    if (!row->p_shortfall)
        return CAP_ERR_RUNTIME;
    cap_scenario *s = cap_mix_scenario(base, in_mix);
    if (!s)
        return CAP_ERR_RUNTIME;
    cap_plan_options options = args->solve;
    options.diagnose = !args->quiet; /* the table says why a mix is infeasible */
    cap_status rc = cap_plan_solve(s, &options, &row->plan, diag);
    int code = rc;
    if (rc == CAP_OK) {
        row->status = row->plan->status;
        row->planned = row->status == CAP_PLAN_OPTIMAL || row->status == CAP_PLAN_FEASIBLE;
    }
    if (row->planned)
        code = cap_mix_metrics_compute(s, row->plan, &row->metrics, diag);
    if (code == 0 && row->planned)
        code = simulate(args, s, row, diag);
    cap_scenario_free(s);
    return code;
}

static void mix_row_free(mix_row *row)
{
    cap_plan_free(row->plan);
    cap_mix_metrics_free(&row->metrics);
    free(row->p_shortfall);
}

/* ---- outputs -------------------------------------------------------------------------- */

/* ",PREFIXID" as one CSV field (the id quoted as it needs). */
static void csv_name(FILE *out, const char *prefix, const char *id)
{
    fputc(',', out);
    cap_csv_field_affixed(out, prefix, id, "");
}

static void csv_header(FILE *out, const cap_scenario *s)
{
    fputs("mix,status,objective_usd,capacity_usd,penalty_usd,commitment_topup_usd,paid_usd,"
          "usd_per_h100e_hour,delivered_h100e_hours,unmet_h100e_hours,mc_mean_usd,mc_std_usd,"
          "mc_p95_usd,mc_cvar95_usd,mc_expected_unmet_h100e_hours,peak_power_mw,"
          "mean_power_mw",
          out);
    for (int w = 0; w < s->workload_count; w++)
        csv_name(out, "p_shortfall:", s->workloads[w].id);
    for (int p = 0; p < s->provider_count; p++)
        csv_name(out, "share:", s->providers[p].id);
    for (int a = 0; a < s->accelerator_count; a++)
        csv_name(out, "accelerator_share:", s->accelerators[a].id);
    fputc('\n', out);
}

static void csv_value(FILE *out, bool known, double value)
{
    if (known && isfinite(value))
        fprintf(out, ",%.17g", value);
    else
        fputc(',', out);
}

static void csv_row(FILE *out, const cap_scenario *s, const mix_row *row)
{
    bool p = row->planned, m = row->simulated;
    const cap_plan *plan = row->plan;
    fprintf(out, "%s,%s", row->label, cap_plan_status_name(row->status));
    csv_value(out, p, p ? plan->objective_usd : 0);
    csv_value(out, p, p ? plan->capacity_usd : 0);
    csv_value(out, p, p ? plan->penalty_usd : 0);
    csv_value(out, p, p ? plan->topup_usd : 0);
    csv_value(out, p, row->metrics.paid_usd);
    csv_value(out, p, row->metrics.usd_per_h100e_hour);
    csv_value(out, p, row->metrics.delivered_h100e_hours);
    csv_value(out, p, p ? plan->unmet_h100e_hours : 0);
    csv_value(out, m, row->mc_mean);
    csv_value(out, m, row->mc_std);
    csv_value(out, m, row->mc_p95);
    csv_value(out, m, row->mc_cvar95);
    csv_value(out, m, row->mc_unmet_hours);
    csv_value(out, p, row->metrics.peak_power_mw);
    csv_value(out, p, row->metrics.mean_power_mw);
    for (int w = 0; w < s->workload_count; w++)
        csv_value(out, m, row->p_shortfall[w]);
    for (int i = 0; i < s->provider_count; i++)
        csv_value(out, p, p ? row->metrics.provider_share[i] : 0);
    for (int a = 0; a < s->accelerator_count; a++)
        csv_value(out, p, p ? row->metrics.accelerator_share[a] : 0);
    fputc('\n', out);
}

static cap_status write_csv(cap_outset *set, const cap_scenario *s, const mix_row *rows, int count,
                            cap_diag *diag)
{
    cap_outfile out;
    cap_status rc = cap_outset_open(set, &out, "compare.csv", diag);
    if (rc != CAP_OK)
        return rc;
    csv_header(out.file, s);
    for (int i = 0; i < count; i++)
        csv_row(out.file, s, &rows[i]);
    return cap_outfile_commit(&out, diag);
}

/* Millions or billions of USD, whichever reads better for the largest bar. */
static double plot_unit(const mix_row *rows, int count, const char **name)
{
    double largest = 0.0;
    for (int i = 0; i < count; i++)
        if (rows[i].simulated)
            largest = fmax(largest, fmax(rows[i].mc_cvar95, rows[i].plan->objective_usd));
    *name = largest >= 1e10 ? "billion USD" : "million USD";
    return largest >= 1e10 ? 1e9 : 1e6;
}

static double in_unit(bool known, double value, double unit)
{
    return known ? value / unit : NAN;
}

static cap_status write_plot(cap_outset *set, const mix_row *rows, int count, cap_diag *diag)
{
    const char *unit_name;
    double unit = plot_unit(rows, count, &unit_name);
    cap_outfile out;
    cap_status rc = cap_outset_open(set, &out, "compare.dat", diag);
    if (rc != CAP_OK)
        return rc;
    fprintf(out.file, "# mix,plan_cost,mc_mean,mc_p95,mc_cvar95 (%s)\n", unit_name);
    for (int i = 0; i < count; i++) {
        const mix_row *r = &rows[i];
        fprintf(out.file, "%s%s,%.17g,%.17g,%.17g,%.17g\n", r->label,
                r->planned ? "" : " (infeasible)",
                in_unit(r->planned, r->planned ? r->plan->objective_usd : 0, unit),
                in_unit(r->simulated, r->mc_mean, unit), in_unit(r->simulated, r->mc_p95, unit),
                in_unit(r->simulated, r->mc_cvar95, unit));
    }
    rc = cap_outfile_commit(&out, diag);
    if (rc != CAP_OK)
        return rc;
    char body[2048];
    snprintf(body, sizeof body,
             "set termoption noenhanced\n"
             "set title 'capplan compare: cost by accelerator mix'\n"
             "set ylabel '%s'\n"
             "set yrange [0:*]\n"
             "set style data histogram\n"
             "set style histogram clustered gap 1\n"
             "set style fill solid 0.85 border -1\n"
             "set boxwidth 0.9\n"
             "set xtics rotate by -20\n"
             "set grid ytics\n"
             "set key top left\n"
             "plot 'compare.dat' using 2:xtic(1) title 'plan cost (LP)', \\\n"
             "     '' using 3 title 'Monte Carlo mean', \\\n"
             "     '' using 4 title 'Monte Carlo P95', \\\n"
             "     '' using 5 title 'CVaR 95%%'\n",
             unit_name);
    return cap_plot_render(set, "compare", body, diag);
}

/* A number in a fixed width, or "-" when there is none. */
static void cell(char *buffer, size_t size, bool known, const char *format, double value)
{
    if (known && isfinite(value))
        snprintf(buffer, size, format, value);
    else
        snprintf(buffer, size, "-");
}

static void print_row(const cap_scenario *s, const mix_row *r)
{
    char total[32] = "-", mean[32] = "-", p95[32] = "-", rate[32], unmet[32], power[32];
    if (r->planned)
        cap_format_usd(r->plan->objective_usd, total, sizeof total);
    if (r->simulated) {
        cap_format_usd(r->mc_mean, mean, sizeof mean);
        cap_format_usd(r->mc_p95, p95, sizeof p95);
    }
    cell(rate, sizeof rate, r->planned, "%.4f", r->metrics.usd_per_h100e_hour);
    cell(unmet, sizeof unmet, r->planned, "%.6g", r->planned ? r->plan->unmet_h100e_hours : 0);
    cell(power, sizeof power, r->planned, "%.2f", r->metrics.peak_power_mw);
    printf("%-22.22s %-10s %14s %11s %14s %14s %14s %9s\n", r->label,
           cap_plan_status_name(r->status), total, rate, unmet, mean, p95, power);
    if (!r->planned && r->plan && r->plan->diagnosis) {
        printf("  these constraints cannot hold together:\n");
        cap_report_diagnosis(stdout, r->plan->diagnosis, 4);
    }
    if (!r->simulated)
        return;
    printf("  P(shortfall):");
    for (int w = 0; w < s->workload_count; w++)
        printf(" %s %.4f", s->workloads[w].id, r->p_shortfall[w]);
    printf("\n  shares:");
    for (int p = 0; p < s->provider_count; p++)
        if (r->metrics.provider_share[p] > 0)
            printf(" %s %.1f%%", s->providers[p].id, 100.0 * r->metrics.provider_share[p]);
    printf("\n");
}

static void print_table(const cap_scenario *s, const mix_row *rows, int count)
{
    printf("%-22s %-10s %14s %11s %14s %14s %14s %9s\n", "mix", "status", "total USD",
           "USD/H100e-h", "unmet H100e-h", "MC mean USD", "MC P95 USD", "peak MW");
    for (int i = 0; i < count; i++)
        print_row(s, &rows[i]);
    fflush(stdout);
}

/* ---- the command ---------------------------------------------------------------------- */

static int compare_exit_code(const mix_row *rows, int count)
{
    for (int i = 0; i < count; i++)
        if (rows[i].planned)
            return 0;
    for (int i = 0; i < count; i++)
        if (rows[i].status == CAP_PLAN_UNDEFINED)
            return 1;
    return 3;
}

/* masks: mix i's accelerators at masks[i * stride]. */
/* Everything `capplan compare` may write into a folder (outfile.h: what a run does not write
 * is removed). */
static const char *const compare_outputs[] = {"compare.csv", "compare.dat", "compare.gp",
                                              "compare.png", NULL};

static cap_status write_outputs(const compare_args *args, const cap_scenario *s,
                                const mix_row *rows, int count, cap_diag *diag)
{
    cap_outset set;
    cap_status rc = cap_outset_begin(&set, args->out_dir, diag);
    if (rc == CAP_OK)
        rc = write_csv(&set, s, rows, count, diag);
    cap_status plot_rc = rc == CAP_OK && args->plots ? write_plot(&set, rows, count, diag) : CAP_OK;
    return cap_outset_finish(&set, rc, plot_rc, compare_outputs, diag);
}

static int compare_run(const compare_args *args, const cap_scenario *s, const bool *masks,
                       size_t stride, cap_diag *diag)
{
    mix_row *rows = calloc((size_t)args->mix_count, sizeof *rows);
    if (!rows)
        return CAP_ERR_RUNTIME;
    int code = 0, done = 0;
    for (; done < args->mix_count && code == 0; done++)
        code =
            run_mix(args, s, args->mixes[done], masks + (size_t)done * stride, &rows[done], diag);
    if (code == 0) {
        code = compare_exit_code(rows, done);
        if (!args->quiet)
            print_table(s, rows, done);
        if (args->out_dir)
            code = cap_outputs_done(args->out_dir, write_outputs(args, s, rows, done, diag), code,
                                    !args->quiet);
    }
    for (int i = 0; i < args->mix_count; i++)
        mix_row_free(&rows[i]);
    free(rows);
    return code;
}

int cap_cmd_compare(int argc, char **argv)
{
    compare_args args;
    int code = parse_args(argc, argv, &args);
    if (code != 0) {
        free(args.mixes);
        return code < 0 ? 0 : code;
    }
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *s = NULL;
    code = cap_scenario_load(args.scenario_path, &s, &diag);
    /* Every mix parsed before any is solved, so a typo fails fast. */
    size_t stride = s ? (size_t)s->accelerator_count + 1 : 0;
    bool *masks = s ? calloc((size_t)args.mix_count * stride, sizeof *masks) : NULL;
    for (int i = 0; code == CAP_OK && i < args.mix_count; i++)
        code = masks ? cap_mix_parse(s, args.mixes[i], masks + (size_t)i * stride, &diag)
                     : CAP_ERR_RUNTIME;
    if (code == CAP_OK && args.out_dir) /* a --out that cannot be a folder fails now */
        code = cap_outdir_prepare(args.out_dir, &diag);
    if (code == CAP_OK)
        code = compare_run(&args, s, masks, stride, &diag);
    free(masks);
    cap_diag_print(&diag, stderr);
    cap_diag_free(&diag);
    cap_scenario_free(s);
    free(args.mixes);
    return code;
}
