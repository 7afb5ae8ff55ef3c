/* cmd_simulate.c: `capplan simulate` and `capplan devices`.
 *
 * simulate: load the scenario, take the plan (the LP's, the MIP's with --integer, or one
 * read back with --plan plan.csv), hand the flat problem to the Monte Carlo engine, print
 * the statistics and write mc.json, cost_hist.csv and plots. A progress bar goes to stderr
 * when it is a terminal and the run lasts over about two seconds.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lp.h"
#include "mc_bridge.h"
#include "mc_report.h"
#include "outfile.h"
#include "plan.h"
#include "plan_csv.h"
#include "scenario_load.h"
#include "sweep.h"

static const char simulate_usage[] =
    "usage: capplan simulate SCENARIO [options]\n"
    "Stress-test a plan against uncertain demand and outages with Monte Carlo.\n"
    "\n"
    "  -n, --samples N           samples (default: the scenario's uncertainty.samples)\n"
    "  -s, --seed S              seed, 0 to 2^63-1 (default: the scenario's\n"
    "                            uncertainty.seed)\n"
    "  -b, --backend B           auto (GPU when present), cpu or cuda (default auto)\n"
    "  -d, --demand-scale A:B:STEP  rerun at demand scales A..B (0 <= A <= B <= 1000) on\n"
    "                            the same random numbers (at most 10000 scales)\n"
    "  -r, --recourse R          none (shortfall pays its penalty) or greedy (unused\n"
    "                            on-demand/spot capacity covers it first); default none\n"
    "  -p, --plan FILE           evaluate this plan.csv instead of solving the LP\n"
    "  -i, --integer             solve the plan in integer mode first\n"
    "      --mip-gap G           with -i: relative gap at which the MIP search stops\n"
    "                            (default 1e-4)\n"
    "      --time-limit S        stop the solve after S seconds (with -i: 60 by default)\n"
    "      --node-limit N        with -i: stop the MIP search after N nodes (the same plan\n"
    "                            on every run and machine)\n"
    "  -o, --out DIR             write mc.json, cost_hist.csv and plots into DIR\n"
    "      --threads N           CPU threads (default: all)\n"
    "      --chunk N             samples per chunk (memory bound; results do not change)\n"
    "      --bins N              cost histogram bins (default 50)\n"
    "      --no-plots            do not run gnuplot\n"
    "  -j, --json                print mc.json to stdout instead of the table\n"
    "  -q, --quiet               no progress bar, no table\n"
    "  -h, --help                this text\n"
    "\n"
    "Exit codes: 0 done, 2 bad usage or invalid scenario or plan, 3 infeasible plan model,\n"
    "4 the requested backend is not available, 1 runtime failure.\n";

typedef struct {
    const char *scenario_path, *plan_path, *out_dir;
    cap_mc_cli mc;
    int64_t chunk, bins;
    cap_plan_options solve; /* integer and the MIP limits */
    bool plots, json, quiet;
    double *scales;
    int scale_count;
} simulate_args;

/* "A:B:STEP" -> A, A+STEP, ..., B (inclusive; cap_range_value). */
static bool parse_scales(const char *text, simulate_args *args)
{
    double from, to, step;
    char extra;
    if (sscanf(text, "%lf:%lf:%lf%c", &from, &to, &step, &extra) != 3 || !isfinite(from) ||
        !isfinite(to) || !isfinite(step) || from < 0 || to < from || step <= 0 || to > 1000) {
        /* 1000x a forecast is far past any planning question, and keeps costs finite */
        fprintf(stderr,
                "capplan simulate: --demand-scale wants FROM:TO:STEP with "
                "0 <= FROM <= TO <= 1000 and STEP > 0, got '%s'\n",
                text);
        return false;
    }
    double points = floor((to - from) / step + 1e-9) + 1;
    if (points > 10000) {
        fprintf(stderr, "capplan simulate: --demand-scale gives %.0f points (at most 10000)\n",
                points);
        return false;
    }
    free(args->scales);
    args->scale_count = (int)points;
    args->scales = malloc((size_t)args->scale_count * sizeof *args->scales);
    if (!args->scales)
        return false;
    for (int i = 0; i < args->scale_count; i++)
        args->scales[i] = cap_range_value(from, to, step, i, args->scale_count);
    return true;
}

static int parse_simulate_args(int argc, char **argv, simulate_args *args)
{
    static const struct option options[] = {{"samples", required_argument, NULL, 'n'},
                                            {"seed", required_argument, NULL, 's'},
                                            {"backend", required_argument, NULL, 'b'},
                                            {"demand-scale", required_argument, NULL, 'd'},
                                            {"recourse", required_argument, NULL, 'r'},
                                            {"plan", required_argument, NULL, 'p'},
                                            {"out", required_argument, NULL, 'o'},
                                            {"threads", required_argument, NULL, 'T'},
                                            {"chunk", required_argument, NULL, 'C'},
                                            {"bins", required_argument, NULL, 'B'},
                                            {"no-plots", no_argument, NULL, 'P'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"quiet", no_argument, NULL, 'q'},
                                            {"help", no_argument, NULL, 'h'},
                                            CAP_MIP_LONG_OPTIONS,
                                            {NULL, 0, NULL, 0}};
    memset(args, 0, sizeof *args);
    cap_plan_options_init(&args->solve);
    args->plots = true;
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "n:s:b:d:r:p:io:jqh", options, NULL)) != -1) {
        int shared = cap_parse_mip_option(c, optarg, &args->solve);
        if (shared == 0)
            shared = cap_mc_cli_parse(c, optarg, &args->mc);
        if (shared != 0) {
            if (shared < 0)
                return 2;
            continue;
        }
        switch (c) {
        case 'b':
            if (strcmp(optarg, "auto") == 0)
                args->mc.backend = CAP_MC_BACKEND_AUTO;
            else if (strcmp(optarg, "cpu") == 0)
                args->mc.backend = CAP_MC_BACKEND_CPU;
            else if (strcmp(optarg, "cuda") == 0)
                args->mc.backend = CAP_MC_BACKEND_CUDA;
            else {
                fprintf(stderr, "capplan simulate: --backend must be auto, cpu or cuda\n");
                return 2;
            }
            break;
        case 'd':
            if (!parse_scales(optarg, args))
                return 2;
            break;
        case 'r':
            if (strcmp(optarg, "none") == 0)
                args->mc.recourse = CAP_MC_RECOURSE_NONE;
            else if (strcmp(optarg, "greedy") == 0)
                args->mc.recourse = CAP_MC_RECOURSE_GREEDY;
            else {
                fprintf(stderr, "capplan simulate: --recourse must be none or greedy\n");
                return 2;
            }
            break;
        case 'p':
            args->plan_path = optarg;
            break;
        case 'o':
            args->out_dir = optarg;
            break;
        case 'C':
            if (!cap_parse_int64("--chunk", optarg, 1, INT64_C(1) << 40, &args->chunk))
                return 2;
            break;
        case 'B':
            if (!cap_parse_int64("--bins", optarg, 1, 100000, &args->bins))
                return 2;
            break;
        case 'P':
            args->plots = false;
            break;
        case 'j':
            args->json = true;
            break;
        case 'q':
            args->quiet = true;
            break;
        case 'h':
            fputs(simulate_usage, stdout);
            return -1;
        default:
            fputs(simulate_usage, stderr);
            return 2;
        }
    }
    args->scenario_path = cap_one_scenario("simulate", argc, argv, optind, simulate_usage);
    if (!args->scenario_path)
        return 2;
    if (args->plan_path && args->solve.integer) {
        fprintf(stderr, "capplan simulate: --integer solves the plan; --plan reads one instead: "
                        "give one of them\n");
        return 2;
    }
    return 0;
}

/* ---- progress bar --------------------------------------------------------------------- */

typedef struct {
    double start, last_draw;
    bool enabled, drawn;
} progress_state;

static void progress_draw(void *user, double done)
{
    progress_state *p = user;
    if (!p->enabled)
        return;
    double now = cap_now_seconds(), elapsed = now - p->start;
    if (elapsed < 2.0 || (now - p->last_draw < 0.1 && done < 1.0))
        return;
    p->last_draw = now;
    p->drawn = true;
    int filled = (int)(done * 30.0 + 0.5);
    char bar[31];
    for (int i = 0; i < 30; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[30] = '\0';
    double eta = done > 0 ? elapsed * (1.0 - done) / done : 0.0;
    fprintf(stderr, "\r[%s] %5.1f%%  %.0f s elapsed, %.0f s left ", bar, 100.0 * done, elapsed,
            eta);
    fflush(stderr);
}

/* ---- the command ---------------------------------------------------------------------- */

static int obtain_plan(const simulate_args *args, const cap_scenario *s, cap_plan **plan)
{
    cap_diag diag;
    cap_diag_init(&diag);
    cap_status rc;
    if (args->plan_path) {
        rc = cap_plan_read_csv(args->plan_path, s, plan, &diag);
        cap_diag notes;
        cap_diag_init(&notes);
        if (rc == CAP_OK && cap_plan_limits_check(s, *plan, &notes) > 0) {
            fprintf(stderr,
                    "%s: warning: the plan exceeds the scenario's limits (simulated as "
                    "written):\n",
                    args->plan_path);
            for (int i = 0; i < notes.count; i++)
                fprintf(stderr, "  %s\n", notes.lines[i]);
        }
        cap_diag_free(&notes);
        size_t cells = (size_t)s->period_count * s->workload_count * s->offering_count;
        double held = 0.0;
        for (size_t i = 0; rc == CAP_OK && i < cells; i++)
            held += (*plan)->x[i];
        if (rc == CAP_OK && held == 0.0 && s->workload_count > 0)
            fprintf(stderr,
                    "%s: warning: the plan holds no accelerators: only recourse can serve the "
                    "demand\n",
                    args->plan_path);
    } else {
        rc = cap_plan_solve(s, &args->solve, plan, &diag);
        if (rc == CAP_OK && (*plan)->status != CAP_PLAN_OPTIMAL &&
            (*plan)->status != CAP_PLAN_FEASIBLE) {
            fprintf(stderr, "%s: the planning model is %s; nothing to simulate\n",
                    args->scenario_path, cap_plan_status_name((*plan)->status));
            if ((*plan)->diagnosis)
                fprintf(stderr, "%s", (*plan)->diagnosis);
            rc = (*plan)->status == CAP_PLAN_UNDEFINED ? CAP_ERR_RUNTIME : CAP_ERR_INFEASIBLE;
            cap_plan_free(*plan);
            *plan = NULL;
        }
    }
    cap_diag_print(&diag, stderr);
    cap_diag_free(&diag);
    return rc;
}

static int run_simulation(const simulate_args *args, const cap_scenario *s, const cap_plan *plan)
{
    cap_diag diag;
    cap_diag_init(&diag);
    cap_mc_bridge bridge;
    cap_status rc = cap_mc_bridge_build(s, plan, &bridge, &diag);
    /* A --out that cannot be a folder fails now, not after the run. */
    if (rc == CAP_OK && args->out_dir && (rc = cap_outdir_prepare(args->out_dir, &diag)) != CAP_OK)
        cap_mc_bridge_free(&bridge);
    if (rc != CAP_OK) {
        cap_diag_print(&diag, stderr);
        cap_diag_free(&diag);
        return rc;
    }
    cap_mc_options options;
    cap_mc_options_init(&options);
    cap_mc_cli_apply(&args->mc, s, &options);
    options.scales = args->scales;
    options.scale_count = args->scale_count;
    options.chunk = args->chunk;
    if (args->bins > 0)
        options.histogram_bins = (int)args->bins;
    progress_state progress = {cap_now_seconds(), 0.0, !args->quiet && isatty(STDERR_FILENO),
                               false};
    options.progress = progress_draw;
    options.progress_user = &progress;
    options.cancel = &cap_interrupted;

    cap_mc_result *result = NULL;
    char error[512] = "";
    cap_interrupt_polled = 1;
    int code = cap_mc_run(&bridge.problem, &options, &result, error, sizeof error);
    cap_interrupt_polled = 0;
    if (progress.drawn)
        fputc('\n', stderr);
    if (code != CAP_MC_OK) {
        fprintf(stderr, "capplan simulate: %s\n",
                cap_interrupted ? "interrupted; no results written" : error);
        cap_mc_bridge_free(&bridge);
        cap_diag_free(&diag);
        return cap_interrupted ? 128 + cap_interrupted : code;
    }
    cap_mc_report_info info = {
        .backend_kind = strncmp(result->backend, "cuda", 4) == 0 ? "cuda" : "cpu",
        .recourse = args->mc.recourse == CAP_MC_RECOURSE_GREEDY ? "greedy" : "none",
        .plan_source = args->plan_path       ? args->plan_path
                       : args->solve.integer ? "mip"
                                             : "lp",
        .plan_cost = bridge.problem.plan_cost,
    };
    if (args->json) {
        json_t *root = cap_mc_report_json(s, result, &info);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        fputc('\n', stdout);
        json_decref(root);
    } else if (!args->quiet) {
        cap_mc_report_print(stdout, s, result, &info);
    }
    if (args->out_dir) {
        rc = cap_mc_report_write(args->out_dir, s, result, &info, args->plots, &diag);
        cap_diag_print(&diag, stderr);
        code = cap_outputs_done(args->out_dir, rc, code, !args->quiet && !args->json);
    }
    cap_mc_result_free(result);
    cap_mc_bridge_free(&bridge);
    cap_diag_free(&diag);
    return code;
}

int cap_cmd_simulate(int argc, char **argv)
{
    simulate_args args;
    int code = parse_simulate_args(argc, argv, &args);
    if (code != 0) {
        free(args.scales);
        return code < 0 ? 0 : code;
    }
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *s = NULL;
    code = cap_scenario_load(args.scenario_path, &s, &diag);
    cap_plan *plan = NULL;
    if (code == CAP_OK)
        code = obtain_plan(&args, s, &plan);
    cap_diag_print(&diag, stderr);
    cap_diag_free(&diag);
    if (code == CAP_OK)
        code = run_simulation(&args, s, plan);
    cap_plan_free(plan);
    cap_scenario_free(s);
    free(args.scales);
    return code;
}

int cap_cmd_devices(int argc, char **argv)
{
    static const char usage[] = "usage: capplan devices\nList the Monte Carlo backends found: "
                                "CUDA devices and OpenMP threads.\n";
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "capplan devices: unexpected argument '%s'\n\n%s", argv[1], usage);
        return 2;
    }
    printf("cpu: OpenMP, %d threads\n", cap_mc_cpu_threads());
    if (!cap_mc_cuda_compiled()) {
        printf("cuda: not built (configure with nvcc present, or -DCAPPLAN_CUDA=ON)\n");
        return 0;
    }
    char error[512];
    if (cap_mc_cuda_load_libraries(error, sizeof error) == CAP_MC_OK)
        printf("cuda: cuBLAS and cuRAND load\n");
    else
        printf("cuda: %s\n", error);
    int count = cap_mc_cuda_device_count();
    if (count == 0)
        printf("cuda: built, but no CUDA device or driver found\n");
    for (int i = 0; i < count; i++) {
        cap_mc_device device;
        if (cap_mc_cuda_device_info(i, &device) == 0)
            printf("cuda:%d: %s, %.1f GiB, compute capability %d.%d, %d multiprocessors\n", i,
                   device.name, device.memory_gib, device.major, device.minor,
                   device.multiprocessors);
    }
    return 0;
}
