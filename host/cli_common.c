/* cli_common.c: argument parsing helpers shared by the commands (see cli.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

volatile int cap_interrupted = 0;
volatile int cap_interrupt_polled = 0;

bool cap_parse_double(const char *option, const char *text, double *value)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v)) {
        fprintf(stderr, "capplan: %s: '%s' is not a finite number\n", option, text);
        return false;
    }
    *value = v;
    return true;
}

bool cap_parse_int64(const char *option, const char *text, int64_t lo, int64_t hi, int64_t *value)
{
    double v;
    /* Accept 1e6-style counts: planners write sample counts that way. */
    if (!cap_parse_double(option, text, &v))
        return false;
    if (v != floor(v) || v < (double)lo || v > (double)hi) {
        fprintf(stderr, "capplan: %s: '%s' must be a whole number in [%lld, %lld]\n", option, text,
                (long long)lo, (long long)hi);
        return false;
    }
    *value = (int64_t)v;
    return true;
}

bool cap_parse_seed(const char *option, const char *text, uint64_t *value)
{
    bool digits = text[0] != '\0' && strlen(text) <= 20;
    for (const char *c = text; digits && *c; c++)
        digits = *c >= '0' && *c <= '9';
    errno = 0;
    unsigned long long v = digits ? strtoull(text, NULL, 10) : 0;
    if (!digits || errno != 0 || v > CAP_SEED_MAX) {
        fprintf(stderr, "capplan: %s: '%s' must be a whole number from 0 to %llu\n", option, text,
                (unsigned long long)CAP_SEED_MAX);
        return false;
    }
    *value = (uint64_t)v;
    return true;
}

/* A finite number >= 0, or a message on stderr. */
static bool parse_nonnegative(const char *option, const char *text, double *value)
{
    double v;
    if (!cap_parse_double(option, text, &v))
        return false;
    if (v < 0) {
        fprintf(stderr, "capplan: %s: '%s' must not be negative\n", option, text);
        return false;
    }
    *value = v;
    return true;
}

int cap_parse_mip_option(int code, const char *text, cap_plan_options *solve)
{
    int64_t nodes;
    switch (code) {
    case 'i':
        solve->integer = true;
        return 1;
    case CAP_OPT_MIP_GAP:
        return parse_nonnegative("--mip-gap", text, &solve->mip_gap) ? 1 : -1;
    case CAP_OPT_TIME_LIMIT:
        return parse_nonnegative("--time-limit", text, &solve->time_limit_s) ? 1 : -1;
    case CAP_OPT_NODE_LIMIT:
        if (!cap_parse_int64("--node-limit", text, 1, INT32_MAX, &nodes))
            return -1;
        solve->node_limit = (long)nodes;
        return 1;
    default:
        return 0;
    }
}

const char *cap_one_scenario(const char *command, int argc, char **argv, int first,
                             const char *usage)
{
    if (first == argc - 1)
        return argv[first];
    fprintf(stderr, "capplan %s: give exactly one scenario\n\n%s", command, usage);
    return NULL;
}

void cap_scenario_stem(const char *path, char *buffer, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(buffer, size, "%s", base);
    char *dot = strrchr(buffer, '.');
    if (dot && dot != buffer)
        *dot = '\0';
    if (buffer[0] == '\0' || strcmp(buffer, ".") == 0 || strcmp(buffer, "..") == 0)
        snprintf(buffer, size, "scenario");
}

int cap_outputs_done(const char *dir, int rc, int code, bool announce)
{
    if (rc != 0)
        return code ? code : rc;
    if (announce)
        fprintf(stderr, "results written to %s/\n", dir);
    return code;
}
