/* cmd_generate.c: `capplan generate`, random valid scenarios for scale tests. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "generate.h"
#include "outfile.h"
#include "scenario_write.h"

static const char generate_usage[] =
    "usage: capplan generate [--workloads W] [--offerings O] [--periods T] [--seed S]\n"
    "                        [--out FILE]\n"
    "Write a random valid scenario that exercises every constraint family (per-period\n"
    "prices, allow-lists, spot caps, provider shares, a commitment, power envelopes,\n"
    "penalties and hard demand). Defaults: 10 workloads, 50 offerings, 4 periods, seed 1.\n"
    "Without --out the YAML goes to stdout.\n";

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
            if (!cap_parse_int64(c == 'w'   ? "--workloads"
                                 : c == 'o' ? "--offerings"
                                            : "--periods",
                                 optarg, 1, 1000000, &n))
                return 2;
            *(c == 'w' ? &g.workloads : c == 'o' ? &g.offerings : &g.periods) = (int)n;
            break;
        case 's':
            if (!cap_parse_int64("--seed", optarg, 0, INT64_MAX, &n))
                return 2;
            g.seed = (uint64_t)n;
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
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *s = NULL;
    cap_status rc = cap_scenario_generate(&g, &s, &diag);
    if (rc == CAP_OK && !out_path) {
        cap_scenario_write_yaml(stdout, s);
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
            cap_scenario_write_yaml(out.file, s);
            rc = cap_outfile_commit(&out, &diag);
        }
    }
    cap_diag_print(&diag, stderr);
    cap_diag_free(&diag);
    cap_scenario_free(s);
    return rc;
}
