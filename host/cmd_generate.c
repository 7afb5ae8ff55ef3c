/* cmd_generate.c: `capplan generate`, random valid scenarios for scale tests. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "generate.h"
#include "outfile.h"
#include "scenario_load.h"
#include "scenario_write.h"

static const char generate_usage[] =
    "usage: capplan generate [--workloads W] [--offerings O] [--periods T] [--seed S]\n"
    "                        [--out FILE]\n"
    "Write a random valid scenario that exercises every constraint family (per-period\n"
    "prices, allow-lists, spot caps, provider shares, a commitment, power envelopes,\n"
    "penalties and hard demand). Defaults: 10 workloads, 50 offerings, 4 periods, seed 1.\n"
    "Without --out the YAML goes to stdout. Sizes: workloads 1..2048, offerings\n"
    "1..100000, periods 1..1000, and together no larger than the loader takes (2,000,000\n"
    "YAML nodes, 2^27 plan entries): the scenario is loaded back before it is written,\n"
    "and a size that makes it too large exits 2.\n";

/* The scenario as YAML, refused (exit 2) when the loader would not take it back: "a random
 * valid scenario" holds for every size the options allow. */
static cap_status generated_text(const cap_scenario *s, char **text, size_t *length, cap_diag *diag)
{
    FILE *memory = open_memstream(text, length);
    if (!memory) {
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    cap_scenario_write_yaml(memory, s);
    if (fclose(memory) != 0 || !*text) {
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    cap_diag check;
    cap_diag_init(&check);
    cap_scenario *back = NULL;
    cap_status rc = cap_scenario_load_buffer("generated", *text, *length, &back, &check);
    cap_scenario_free(back);
    if (rc == CAP_ERR_INPUT)
        cap_diag_add(diag, "capplan generate: a scenario of these sizes is too large to load: %s",
                     check.count > 0 ? check.lines[0] : "invalid");
    else if (rc != CAP_OK)
        cap_diag_extend(diag, &check);
    cap_diag_free(&check);
    if (rc != CAP_OK) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

int cap_cmd_generate(int argc, char **argv)
{
    static const struct option options[] = {{"workloads", required_argument, NULL, 'w'},
                                            {"offerings", required_argument, NULL, 'o'},
                                            {"periods", required_argument, NULL, 't'},
                                            {"seed", required_argument, NULL, 's'},
                                            {"out", required_argument, NULL, 'O'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    cap_generate_options g = {10, 50, 4, 1};
    const char *out_path = NULL;
    int64_t n;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'w':
        case 'o':
        case 't':
            /* the loader's limits: no more workloads than it takes, and sizes it reads in
             * seconds (the whole scenario is checked against it below) */
            if (!cap_parse_int64(c == 'w'   ? "--workloads"
                                 : c == 'o' ? "--offerings"
                                            : "--periods",
                                 optarg, 1,
                                 c == 'w'   ? CAP_GENERATE_MAX_WORKLOADS
                                 : c == 'o' ? CAP_GENERATE_MAX_OFFERINGS
                                            : CAP_GENERATE_MAX_PERIODS,
                                 &n))
                return 2;
            *(c == 'w' ? &g.workloads : c == 'o' ? &g.offerings : &g.periods) = (int)n;
            break;
        case 's':
            if (!cap_parse_seed("--seed", optarg, &g.seed))
                return 2;
            break;
        case 'O':
            out_path = optarg;
            break;
        case 'h':
            fputs(generate_usage, stdout);
            return 0;
        default:
            fputs(generate_usage, stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fputs(generate_usage, stderr);
        return 2;
    }
    /* The loader's plan-entry limit, checked before minutes of generating what it refuses. */
    double cells = (double)g.workloads * g.offerings * g.periods;
    if (cells > (double)CAP_MAX_PLAN_CELLS) {
        fprintf(stderr,
                "capplan generate: %d workloads x %d offerings x %d periods = %.0f plan "
                "entries, more than a scenario may have (2^27 = %llu)\n",
                g.workloads, g.offerings, g.periods, cells, (unsigned long long)CAP_MAX_PLAN_CELLS);
        return 2;
    }
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *s = NULL;
    cap_status rc = cap_scenario_generate(&g, &s, &diag);
    char *text = NULL;
    size_t length = 0;
    if (rc == CAP_OK) /* written once, checked with the loader, then copied out */
        rc = generated_text(s, &text, &length, &diag);
    if (rc == CAP_OK && !out_path) {
        fwrite(text, 1, length, stdout);
    } else if (rc == CAP_OK) {
        /* FILE may name a folder: split into folder and plain name for the atomic write. */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", out_path);
        char *slash = strrchr(dir, '/');
        const char *name = slash ? slash + 1 : out_path;
        if (slash)
            *slash = '\0';
        cap_outfile out;
        rc = cap_outfile_open(&out, slash ? (dir[0] ? dir : "/") : ".", name, &diag);
        if (rc == CAP_OK) {
            fwrite(text, 1, length, out.file);
            rc = cap_outfile_commit(&out, &diag);
        }
    }
    free(text);
    cap_diag_print(&diag, stderr);
    cap_diag_free(&diag);
    cap_scenario_free(s);
    return rc;
}
