/* cmd_plan.c: `capplan plan` and `capplan validate`.
 *
 * One scenario: load, solve, print the table (or JSON), write --out, export. Several
 * scenarios make a batch: solved in parallel on OpenMP threads (each thread has its own
 * GLPK environment, freed when the thread ends), each into its own folder under --out,
 * with one batch_summary.csv across them. The exit code of a batch is the worst one.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <glpk.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"
#include "lp.h"
#include "outfile.h"
#include "plan.h"
#include "report.h"
#include "scenario_load.h"

static const char plan_usage[] =
    "usage: capplan plan SCENARIO... [options]\n"
    "Solve the planning model of each SCENARIO with GLPK and report the cheapest plan.\n"
    "\n"
    "  -o, --out DIR         write plan.csv and summary.json into DIR (a batch writes\n"
    "                        DIR/<scenario>/ per scenario and DIR/batch_summary.csv)\n"
    "  -i, --integer         whole nodes/racks/slices (accelerator 'unit'), solved as a MIP\n"
    "      --mip-gap G       relative gap at which the MIP search stops (default 1e-4)\n"
    "      --time-limit S    stop the solver after S seconds (reports the best plan found;\n"
    "                        integer mode defaults to 60 s)\n"
    "      --node-limit N    stop the MIP search after N nodes: unlike --time-limit, the\n"
    "                        same plan on every run and machine\n"
    "  -j, --json            print summary.json to stdout instead of the table\n"
    "      --export FILE     write the model as FILE.mps (free MPS) or FILE.lp (CPLEX LP)\n"
    "      --threads N       threads for a batch (default: OpenMP's)\n"
    "      --presolve        use GLPK's LP presolver (off by default: slower here)\n"
    "      --no-decompose    solve the whole model from scratch instead of warm-starting\n"
    "                        it from the period blocks (same optimum; for comparison)\n"
    "  -v, --verbose         show GLPK's progress\n"
    "  -q, --quiet           print nothing but errors\n"
    "  -h, --help            this text\n"
    "\n"
    "Exit codes: 0 solved, 2 bad usage or invalid scenario, 3 infeasible or unbounded,\n"
    "1 runtime failure.\n";

typedef struct {
    cap_plan_options solve;
    const char *out_dir;
    const char *export_path;
    bool json, quiet;
    int threads;
} plan_args;

static int parse_plan_args(int argc, char **argv, plan_args *args)
{
    static const struct option options[] = {{"out", required_argument, NULL, 'o'},
                                            CAP_MIP_LONG_OPTIONS,
                                            {"json", no_argument, NULL, 'j'},
                                            {"export", required_argument, NULL, 'e'},
                                            {"threads", required_argument, NULL, 'T'},
                                            {"presolve", no_argument, NULL, 'p'},
                                            {"no-decompose", no_argument, NULL, 'D'},
                                            {"verbose", no_argument, NULL, 'v'},
                                            {"quiet", no_argument, NULL, 'q'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    memset(args, 0, sizeof *args);
    cap_plan_options_init(&args->solve);
    optind = 0;
    int c;
    int64_t n;
    while ((c = getopt_long(argc, argv, "o:ijvqh", options, NULL)) != -1) {
        int solve_option = cap_parse_mip_option(c, optarg, &args->solve);
        if (solve_option != 0) {
            if (solve_option < 0)
                return 2;
            continue;
        }
        switch (c) {
        case 'o':
            args->out_dir = optarg;
            break;
        case 'j':
            args->json = true;
            break;
        case 'e':
            args->export_path = optarg;
            break;
        case 'T':
            if (!cap_parse_int64("--threads", optarg, 1, 1024, &n))
                return 2;
            args->threads = (int)n;
            args->solve.threads = (int)n;
            break;
        case 'p':
            args->solve.presolve = true;
            break;
        case 'D':
            args->solve.decompose = false;
            break;
        case 'v':
            args->solve.verbose = true;
            break;
        case 'q':
            args->quiet = true;
            break;
        case 'h':
            fputs(plan_usage, stdout);
            return -1;
        default:
            fputs(plan_usage, stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "capplan plan: no scenario given\n\n%s", plan_usage);
        return 2;
    }
    return 0;
}

/* Loads one scenario, printing every problem; NULL when invalid. */
static cap_scenario *load_or_report(const char *path, int *code)
{
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *scenario = NULL;
    cap_status rc = cap_scenario_load(path, &scenario, &diag);
    if (rc != CAP_OK) {
        cap_diag_print(&diag, stderr);
        if (diag.count == 0)
            fprintf(stderr, "%s: cannot load scenario\n", path);
        *code = rc;
    }
    cap_diag_free(&diag);
    return scenario;
}

static int plan_exit_code(const cap_plan *plan)
{
    switch (plan->status) {
    case CAP_PLAN_OPTIMAL:
    case CAP_PLAN_FEASIBLE:
        return 0;
    case CAP_PLAN_INFEASIBLE:
    case CAP_PLAN_UNBOUNDED:
        return 3;
    default:
        return 1;
    }
}

static void report_not_solved(const char *path, const cap_plan *plan)
{
    fprintf(stderr, "%s: the model is %s\n", path, cap_plan_status_name(plan->status));
    if (plan->diagnosis) {
        fprintf(stderr, "these constraints cannot hold together (minimal relative stretch):\n");
        cap_report_diagnosis(stderr, plan->diagnosis, 2);
    }
}

/* ---- one scenario --------------------------------------------------------------------- */

static int plan_one(const char *path, const plan_args *args)
{
    int code = 0;
    cap_scenario *scenario = load_or_report(path, &code);
    if (!scenario)
        return code;
    cap_diag diag;
    cap_diag_init(&diag);
    if (args->export_path) {
        cap_status rc = cap_model_export(scenario, args->solve.integer, args->export_path, &diag);
        if (rc != CAP_OK) {
            cap_diag_print(&diag, stderr);
            cap_diag_free(&diag);
            cap_scenario_free(scenario);
            return rc;
        }
        if (!args->quiet && !args->json)
            fprintf(stderr, "model written to %s%s\n", args->export_path,
                    scenario->objective == CAP_OBJECTIVE_MAX_SERVED
                        ? " (objective max_served: its first stage, minimising unmet H100e-hours; "
                          "capplan then minimises cost with unmet hours held at that optimum)"
                        : "");
    }
    cap_plan *plan = NULL;
    cap_status rc = cap_plan_solve(scenario, &args->solve, &plan, &diag);
    if (rc != CAP_OK) {
        cap_diag_print(&diag, stderr);
        cap_diag_free(&diag);
        cap_scenario_free(scenario);
        return rc;
    }
    code = plan_exit_code(plan);
    if (code != 0) {
        report_not_solved(path, plan);
        cap_diag_print(&diag, stderr); /* why, when the solver said (a limit it reached) */
        cap_diag_clear(&diag);
    }
    if (args->json) {
        json_t *summary = cap_report_summary(scenario, plan, args->solve.integer);
        json_dumpf(summary, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        fputc('\n', stdout);
        json_decref(summary);
    } else if (!args->quiet && code == 0) {
        cap_report_table(stdout, scenario, plan);
    }
    if (args->out_dir) {
        rc = cap_report_write(args->out_dir, scenario, plan, args->solve.integer, &diag);
        if (rc != CAP_OK) {
            cap_diag_print(&diag, stderr);
            if (code == 0)
                code = (int)rc;
        } else if (!args->quiet && !args->json) {
            fprintf(stderr, "results written to %s/\n", args->out_dir);
        }
    }
    cap_plan_free(plan);
    cap_diag_free(&diag);
    cap_scenario_free(scenario);
    return code;
}

/* ---- a batch -------------------------------------------------------------------------- */

typedef struct {
    const char *path;
    char folder[256];
    int code;
    char status[32];
    bool planned; /* optimal or feasible: the costs below are a plan's */
    double objective, capacity, penalty, topup, unmet, seconds;
    char *errors; /* what the run printed, kept to print in order */
} batch_item;

static void batch_run_one(batch_item *item, const plan_args *args)
{
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *scenario = NULL;
    snprintf(item->status, sizeof item->status, "invalid");
    item->code = cap_scenario_load(item->path, &scenario, &diag);
    cap_plan *plan = NULL;
    if (item->code == CAP_OK) {
        item->code = cap_plan_solve(scenario, &args->solve, &plan, &diag);
        snprintf(item->status, sizeof item->status, "error");
    }
    if (plan) {
        item->code = plan_exit_code(plan);
        snprintf(item->status, sizeof item->status, "%s", cap_plan_status_name(plan->status));
        item->planned = plan->status == CAP_PLAN_OPTIMAL || plan->status == CAP_PLAN_FEASIBLE;
        item->objective = plan->objective_usd;
        item->capacity = plan->capacity_usd;
        item->penalty = plan->penalty_usd;
        item->topup = plan->topup_usd;
        item->unmet = plan->unmet_h100e_hours;
        item->seconds = plan->build_seconds + plan->solve_seconds;
        if (plan->diagnosis)
            cap_diag_add(&diag, "%s: infeasible:\n%s", item->path, plan->diagnosis);
        if (args->out_dir) {
            char dir[4096];
            snprintf(dir, sizeof dir, "%s/%s", args->out_dir, item->folder);
            cap_status rc = cap_report_write(dir, scenario, plan, args->solve.integer, &diag);
            if (rc != CAP_OK && item->code == 0)
                item->code = rc;
        }
    }
    size_t length = 0;
    for (int i = 0; i < diag.count; i++)
        length += strlen(diag.lines[i]) + 1;
    item->errors = calloc(length + 1, 1);
    for (int i = 0; item->errors && i < diag.count; i++) {
        strcat(item->errors, diag.lines[i]);
        strcat(item->errors, "\n");
    }
    cap_plan_free(plan);
    cap_scenario_free(scenario);
    cap_diag_free(&diag);
}

/* Folder names from file stems, made unique with a numeric suffix. */
static void batch_folders(batch_item *items, int count)
{
    for (int i = 0; i < count; i++) {
        char stem[200];
        cap_scenario_stem(items[i].path, stem, sizeof stem);
        snprintf(items[i].folder, sizeof items[i].folder, "%s", stem);
        for (int j = 0, suffix = 2; j < i; j++)
            if (strcmp(items[j].folder, items[i].folder) == 0) {
                snprintf(items[i].folder, sizeof items[i].folder, "%s-%d", stem, suffix++);
                j = -1;
            }
    }
}

static int batch_summary(const plan_args *args, const batch_item *items, int count)
{
    cap_diag diag;
    cap_diag_init(&diag);
    cap_outfile out;
    cap_outset set;
    cap_status rc = cap_outset_begin(&set, args->out_dir, &diag);
    if (rc == CAP_OK)
        rc = cap_outset_open(&set, &out, "batch_summary.csv", &diag);
    if (rc == CAP_OK) {
        fputs("scenario,folder,status,exit_code,objective_usd,capacity_usd,penalty_usd,"
              "commitment_topup_usd,unmet_h100e_hours,seconds\n",
              out.file);
        for (int i = 0; i < count; i++) {
            cap_csv_field(out.file, items[i].path);
            fputc(',', out.file);
            cap_csv_field(out.file, items[i].folder);
            const batch_item *item = &items[i];
            fprintf(out.file, ",%s,%d,", item->status, item->code);
            /* no plan, no costs: empty cells, not zeros a script would sum */
            if (item->planned)
                fprintf(out.file, "%.17g,%.17g,%.17g,%.17g,%.17g,", item->objective, item->capacity,
                        item->penalty, item->topup, item->unmet);
            else
                fputs(",,,,,", out.file);
            fprintf(out.file, "%.6f\n", item->seconds);
        }
        rc = cap_outfile_commit(&out, &diag);
    }
    rc = cap_outset_finish(&set, rc, CAP_OK, NULL, &diag);
    cap_diag_print(&diag, stderr);
    cap_diag_free(&diag);
    return rc;
}

static int plan_batch(char **paths, int count, const plan_args *args)
{
    if (args->export_path || args->json) {
        fprintf(stderr,
                "capplan plan: %s takes a single scenario (a batch writes each summary.json "
                "under --out)\n",
                args->export_path ? "--export" : "--json");
        return 2;
    }
    batch_item *items = calloc((size_t)count, sizeof *items);
    if (!items)
        return 1;
    for (int i = 0; i < count; i++)
        items[i].path = paths[i];
    batch_folders(items, count);
    int threads = args->threads > 0 ? args->threads : omp_get_max_threads();
    /* A first SIGINT or SIGTERM lets the scenarios being solved finish (each folder is
     * written whole) and starts no other; the summary then lists those as interrupted. */
    cap_interrupt_polled = 1;
#pragma omp parallel num_threads(threads)
    {
        cap_lp_thread_start();
#pragma omp for schedule(dynamic, 1)
        for (int i = 0; i < count; i++) {
            int signo = cap_interrupted;
            if (signo) {
                snprintf(items[i].status, sizeof items[i].status, "interrupted");
                items[i].code = 128 + signo;
                continue;
            }
            batch_run_one(&items[i], args);
        }
        /* Each worker thread's GLPK environment; the calling thread keeps its own. */
        if (omp_get_thread_num() != 0)
            glp_free_env();
    }
    cap_interrupt_polled = 0; /* from here on, a signal stops at once */
    int worst = 0;
    if (!args->quiet)
        printf("%-40s %-11s %18s %16s %9s\n", "scenario", "status", "total USD", "unmet H100e-h",
               "seconds");
    for (int i = 0; i < count; i++) {
        if (items[i].errors && *items[i].errors)
            fputs(items[i].errors, stderr);
        if (!args->quiet && items[i].planned)
            printf("%-40s %-11s %18.6g %16.6g %9.3f\n", items[i].path, items[i].status,
                   items[i].objective, items[i].unmet, items[i].seconds);
        else if (!args->quiet) /* no plan, no costs: not zeros a reader would take for them */
            printf("%-40s %-11s %18s %16s %9.3f\n", items[i].path, items[i].status, "-", "-",
                   items[i].seconds);
        if (items[i].code > worst)
            worst = items[i].code;
        free(items[i].errors);
    }
    int signo = cap_interrupted, planned = 0;
    for (int i = 0; i < count; i++)
        planned += strcmp(items[i].status, "interrupted") != 0;
    if (signo && planned < count) { /* a signal after the last start stopped nothing */
        fprintf(stderr, "capplan plan: interrupted: %d of %d scenarios run%s\n", planned, count,
                args->out_dir ? "; batch_summary.csv lists the others as interrupted" : "");
        if (128 + signo > worst)
            worst = 128 + signo;
    }
    if (args->out_dir) {
        int rc = batch_summary(args, items, count);
        if (rc > worst)
            worst = rc;
    }
    free(items);
    return worst;
}

int cap_cmd_plan(int argc, char **argv)
{
    plan_args args;
    int rc = parse_plan_args(argc, argv, &args);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    int count = argc - optind;
    if (count == 1)
        return plan_one(argv[optind], &args);
    return plan_batch(argv + optind, count, &args);
}

/* ---- validate ------------------------------------------------------------------------- */

int cap_cmd_validate(int argc, char **argv)
{
    static const char usage[] =
        "usage: capplan validate [--] SCENARIO...\n"
        "Check each scenario completely; print every problem as FILE:LINE:COL: message.\n"
        "Exit codes: 0 all valid, 2 any invalid.\n";
    /* The files, gathered at the front of argv; after "--" every argument is one. */
    int files = 0;
    bool options = true;
    for (int i = 1; i < argc; i++) {
        bool option = options && argv[i][0] == '-' && argv[i][1] != '\0';
        if (option && strcmp(argv[i], "--") == 0) {
            options = false;
        } else if (option && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
            fputs(usage, stdout);
            return 0;
        } else if (option) {
            fprintf(stderr,
                    "capplan validate: unknown option '%s' (it takes scenario files only)\n\n%s",
                    argv[i], usage);
            return 2;
        } else {
            argv[files++] = argv[i];
        }
    }
    if (files == 0) {
        fputs(usage, stderr);
        return 2;
    }
    int worst = 0;
    for (int i = 0; i < files; i++) {
        int code = 0;
        cap_scenario *scenario = load_or_report(argv[i], &code);
        if (scenario) {
            printf("%s: valid (%d periods, %d providers, %d regions, %d offerings, %d workloads)\n",
                   argv[i], scenario->period_count, scenario->provider_count,
                   scenario->region_count, scenario->offering_count, scenario->workload_count);
            cap_scenario_free(scenario);
        }
        if (code > worst)
            worst = code;
    }
    return worst;
}
