/* plan_csv.c: read plan.csv back into a cap_plan (see plan_csv.h). */
#define _POSIX_C_SOURCE 200809L
#include "plan_csv.h"
#include "model.h"
#include "outfile.h"
#include "yaml_node.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { FIELD_PERIOD, FIELD_WORKLOAD, FIELD_OFFERING, FIELD_ACCELERATORS, FIELD_COUNT };
static const char *const field_names[FIELD_COUNT] = {"period", "workload", "offering",
                                                     "accelerators"};
#define MAX_FIELDS 64
#define MAX_LINE   65536
#define MAX_X      YL_MAX_MAGNITUDE /* accelerators in one row: the loader's largest number */

typedef struct {
    char *text[MAX_FIELDS];
    int column[MAX_FIELDS]; /* 1-based column where each field starts */
    int count;
} csv_row;

/* Splits one line in place (RFC 4180 quoting, no embedded line breaks). */
static bool csv_split(char *line, csv_row *row)
{
    row->count = 0;
    char *read = line, *write = line;
    for (;;) {
        if (row->count == MAX_FIELDS)
            return false;
        row->column[row->count] = (int)(read - line) + 1;
        row->text[row->count++] = write;
        if (*read == '"') {
            read++;
            while (*read && !(*read == '"' && read[1] != '"')) {
                if (*read == '"')
                    read++;
                *write++ = *read++;
            }
            if (*read != '"')
                return false;
            read++;
        } else {
            while (*read && *read != ',')
                *write++ = *read++;
        }
        if (*read != ',') {
            *write = '\0';
            return *read == '\0';
        }
        *write++ = '\0';
        read++;
    }
}

static void chomp(char *line)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
}

static bool header_map(const char *path, char *line, int *index, cap_diag *diag)
{
    csv_row row;
    chomp(line);
    if (!csv_split(line, &row)) {
        cap_diag_add(diag, "%s:1:1: malformed CSV header", path);
        return false;
    }
    bool ok = true;
    for (int f = 0; f < FIELD_COUNT; f++) {
        index[f] = -1;
        for (int i = 0; i < row.count; i++)
            if (strcmp(row.text[i], field_names[f]) == 0)
                index[f] = i;
        if (index[f] < 0) {
            cap_diag_add(diag, "%s:1:1: missing column '%s'", path, field_names[f]);
            ok = false;
        }
    }
    return ok;
}

static void read_row(const char *path, int line_number, char *line, const int *index,
                     const cap_scenario *s, cap_plan *plan, cap_diag *diag)
{
    csv_row row;
    chomp(line);
    if (line[0] == '\0')
        return;
    if (!csv_split(line, &row)) {
        cap_diag_add(diag, "%s:%d:1: malformed CSV row", path, line_number);
        return;
    }
    int at[FIELD_COUNT];
    for (int f = 0; f < FIELD_COUNT; f++) {
        if (index[f] >= row.count) {
            cap_diag_add(diag, "%s:%d:1: row has %d fields, needs '%s'", path, line_number,
                         row.count, field_names[f]);
            return;
        }
        at[f] = index[f];
    }
    int t = cap_scenario_find_period(s, row.text[at[FIELD_PERIOD]]);
    int w = cap_scenario_find_workload(s, row.text[at[FIELD_WORKLOAD]]);
    int o = cap_scenario_find_offering(s, row.text[at[FIELD_OFFERING]]);
    const char *what[3] = {"period", "workload", "offering"};
    int found[3] = {t, w, o};
    for (int f = 0; f < 3; f++)
        if (found[f] < 0)
            cap_diag_add(diag, "%s:%d:%d: unknown %s '%s'", path, line_number, row.column[at[f]],
                         what[f], row.text[at[f]]);
    char *end = NULL;
    const char *number = row.text[at[FIELD_ACCELERATORS]];
    errno = 0;
    double x = strtod(number, &end);
    if (end == number || *end != '\0' || errno == ERANGE || !isfinite(x) || x < 0 || x > MAX_X) {
        cap_diag_add(diag, "%s:%d:%d: accelerators must be a number from 0 to %g, got '%s'", path,
                     line_number, row.column[at[FIELD_ACCELERATORS]], MAX_X, number);
        return;
    }
    if (t < 0 || w < 0 || o < 0)
        return;
    if (x > 0 && cap_workload_throughput(s, w, o) <= 0.0) {
        cap_diag_add(diag, "%s:%d:%d: workload '%s' may not run on offering '%s'", path,
                     line_number, row.column[at[FIELD_OFFERING]], s->workloads[w].id,
                     s->offerings[o].id);
        return;
    }
    plan->x[cap_plan_index(plan, t, w, o)] += x;
}

/* Opens a plan file for reading (cap_infile_open: a FIFO nobody writes to reads as empty,
 * as in the scenario loader); a folder is refused. */
static FILE *open_plan(const char *path, cap_diag *diag)
{
    struct stat info;
    int fd = cap_infile_open(path, &info);
    if (fd < 0) {
        cap_diag_add(diag, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(info.st_mode)) {
        cap_diag_add(diag, "%s: cannot open: it is a directory", path);
    } else {
        FILE *file = fdopen(fd, "r");
        if (file)
            return file;
        cap_diag_add(diag, "%s: cannot open: %s", path, strerror(errno));
    }
    close(fd);
    return NULL;
}

cap_status cap_plan_read_csv(const char *path, const cap_scenario *s, cap_plan **out,
                             cap_diag *diag)
{
    *out = NULL;
    FILE *file = open_plan(path, diag);
    if (!file)
        return CAP_ERR_INPUT;
    cap_plan *plan = calloc(1, sizeof *plan);
    size_t cells = (size_t)s->period_count * s->workload_count * s->offering_count;
    if (plan) {
        plan->period_count = s->period_count;
        plan->workload_count = s->workload_count;
        plan->offering_count = s->offering_count;
        plan->provider_count = s->provider_count;
        plan->x = calloc(cells + 1, sizeof *plan->x);
        plan->unmet = calloc((size_t)s->workload_count * s->period_count + 1, sizeof(double));
        plan->topup = calloc((size_t)s->provider_count + 1, sizeof(double));
    }
    char *line = malloc(MAX_LINE);
    if (!plan || !plan->x || !plan->unmet || !plan->topup || !line) {
        fclose(file);
        free(line);
        cap_plan_free(plan);
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    int index[FIELD_COUNT];
    int before = diag->count, line_number = 1;
    if (!fgets(line, MAX_LINE, file))
        cap_diag_add(diag, "%s:1:1: empty plan file", path);
    else if (header_map(path, line, index, diag))
        while (fgets(line, MAX_LINE, file) && diag->count - before < 100) {
            line_number++;
            if (!strchr(line, '\n') && !feof(file)) {
                cap_diag_add(diag, "%s:%d:1: line longer than %d bytes", path, line_number,
                             MAX_LINE);
                break;
            }
            read_row(path, line_number, line, index, s, plan, diag);
        }
    fclose(file);
    free(line);
    if (diag->count > before) {
        cap_plan_free(plan);
        return CAP_ERR_INPUT;
    }
    plan->status = CAP_PLAN_OPTIMAL;
    plan->capacity_usd = cap_plan_capacity_cost(s, plan);
    plan->objective_usd = plan->capacity_usd;
    *out = plan;
    return CAP_OK;
}

#define LIMIT_LINES 10

static void limit_note(cap_diag *notes, int exceeded, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static void limit_note(cap_diag *notes, int exceeded, const char *format, ...)
{
    if (exceeded > LIMIT_LINES)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, format);
    vsnprintf(line, sizeof line, format, ap);
    va_end(ap);
    cap_diag_add(notes, "%s", line);
}

int cap_plan_limits_check(const cap_scenario *s, const cap_plan *plan, cap_diag *notes)
{
    double *kw = malloc(((size_t)s->region_count + 1) * sizeof *kw); /* [region] this period */
    if (!kw) {
        cap_diag_add(notes, "out of memory checking the plan's limits");
        return 0;
    }
    int exceeded = 0;
    for (int t = 0; t < s->period_count; t++) {
        memset(kw, 0, ((size_t)s->region_count + 1) * sizeof *kw);
        for (int o = 0; o < s->offering_count; o++) {
            const cap_offering *offering = &s->offerings[o];
            double held = 0.0;
            for (int w = 0; w < s->workload_count; w++)
                held += plan->x[cap_plan_index(plan, t, w, o)];
            kw[offering->region] += held * s->accelerators[offering->accelerator].power_kw;
            double capacity = offering->capacity[t];
            if (held > capacity + 1e-9 * fmax(1.0, capacity))
                limit_note(notes, ++exceeded,
                           "offering '%s' in %s: the plan holds %.6g accelerators, its "
                           "capacity is %.6g",
                           offering->id, s->periods[t].id, held, capacity);
        }
        for (int g = 0; g < s->region_count; g++) {
            if (!s->regions[g].power_mw)
                continue;
            double envelope = 1000.0 * s->regions[g].power_mw[t];
            if (kw[g] > envelope + 1e-9 * fmax(1.0, envelope))
                limit_note(notes, ++exceeded,
                           "region '%s' in %s: the plan draws %.6g MW, its power envelope is "
                           "%.6g MW",
                           s->regions[g].id, s->periods[t].id, kw[g] / 1000.0, envelope / 1000.0);
        }
        for (int w = 0; w < s->workload_count; w++) {
            const cap_workload *wl = &s->workloads[w];
            double spot = 0.0;
            for (int o = 0; o < s->offering_count; o++)
                if (s->offerings[o].pricing == CAP_PRICING_SPOT)
                    spot += plan->x[cap_plan_index(plan, t, w, o)] * cap_model_delivered(s, w, o);
            double cap = wl->max_spot_share * wl->demand[t];
            if (spot > cap + 1e-9 * fmax(1.0, cap))
                limit_note(notes, ++exceeded,
                           "workload '%s' in %s: the plan takes %.6g H100e from spot offerings, "
                           "its cap is %.6g (max_spot_share %.6g of demand %.6g)",
                           wl->id, s->periods[t].id, spot, cap, wl->max_spot_share, wl->demand[t]);
        }
    }
    free(kw);
    if (exceeded > LIMIT_LINES)
        cap_diag_add(notes, "and %d more limits exceeded", exceeded - LIMIT_LINES);
    return exceeded;
}
