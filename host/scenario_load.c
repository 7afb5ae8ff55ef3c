/* scenario_load.c: SPEC §3 scenario files -> cap_scenario, with complete validation.
 *
 * Three layers: yaml_doc.c reads and parses files safely (size, nesting, aliases, node
 * budget), yaml_include.c follows `include:` and merges the files (the merge semantics
 * are documented at the top of yaml_include.h), and this file gives every key its
 * meaning: defaults, scalar-to-per-period expansion, references by id, geos, the
 * correlation matrix.
 *
 * Invariants: every problem is reported (at its own FILE:LINE:COL), not only the first;
 * no scenario is returned when there is any; the scenario returned satisfies every
 * invariant listed in scenario.h. Defaults that the SPEC leaves open:
 *   - `reference` is optional: "H100" when such an accelerator exists, else the first
 *     accelerator; at least one accelerator is required;
 *   - `name` is optional: the scenario file's name without folder and extension;
 *   - a workload `geos` entry that no region has is an error (almost always a typo);
 *   - `sigma` is at most 10 (e^10 per period is no forecast, and huge values turn the
 *     Monte Carlo's demand paths into 0, inf or NaN);
 *   - at most MAX_WORKLOADS workloads (the correlation matrix is W x W, and checking it
 *     costs W^3), at most MAX_VALUES per-period and per-workload values in all, and at
 *     most CAP_MAX_PLAN_CELLS periods x workloads x offerings (the dense plan);
 *   - every number is 0 or between 1e-12 and 1e15 in magnitude (yaml_node.h), so that
 *     the model GLPK sees stays finite.
 * Numbers are read in the C locale whatever the program's locale is.
 */
#define _POSIX_C_SOURCE 200809L
#include "scenario_load.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "yaml_doc.h"
#include "yaml_include.h"
#include "yaml_node.h"

#define MAX_WORKLOADS 2048
#define MAX_VALUES    ((uint64_t)1 << 25) /* 256 MiB of doubles */
#define MAX_SIGMA     10.0
#define MAX_SAMPLES   1e12
#define MAX_UNIT      1e9
#define PSD_TOLERANCE 1e-9

typedef struct {
    yl_ctx *ctx;
    const yl_merged *merged;
    cap_scenario *s;
    yl_ids periods, accelerators, providers, regions, offerings, workloads, geos;
    double min_share_total; /* of the providers read so far */
} builder;

/* ---- helpers -------------------------------------------------------------------------- */

static const yl_nodes *section(const builder *b, yl_top_key key)
{
    return &b->merged->entries[key];
}

static char *copy_text(builder *b, const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        yl_out_of_memory(b->ctx);
    return copy;
}

/* calloc with one spare element, so that a count of 0 still gives a real pointer. */
static void *alloc_array(builder *b, size_t count, size_t size)
{
    void *array = calloc(count + 1, size);
    if (!array)
        yl_out_of_memory(b->ctx);
    return array;
}

/* Reports a required list section that is missing or empty. */
static void report_empty(builder *b, yl_top_key key, const char *why)
{
    yl_node given = b->merged->value[key];
    if (given.node)
        yl_error(b->ctx, given, "%s is empty: %s", yl_top_key_names[key], why);
    else
        yl_error(b->ctx, yl_root(b->merged->top), "scenario is missing required key '%s' (%s)",
                 yl_top_key_names[key], why);
}

/* Reads an entity's `id` (key 0 of every entity schema), registers it and keeps a copy. */
static void read_id(builder *b, yl_node item, const yl_schema *schema, const yl_node *fields,
                    yl_ids *ids, int index, char **out)
{
    const char *id;
    if (!yl_require(b->ctx, item, schema, fields, 0) || !yl_string(b->ctx, fields[0], "id", &id))
        return;
    yl_ids_add(b->ctx, ids, schema->what, id, index, fields[0]);
    *out = copy_text(b, id);
}

/* ---- periods and accelerators --------------------------------------------------------- */

enum { PERIOD_ID, PERIOD_HOURS, PERIOD_KEYS };
static const char *const period_keys[] = {"id", "hours"};
static const yl_schema period_schema = {"period", period_keys, PERIOD_KEYS};

static void load_period(builder *b, yl_node item, int index)
{
    cap_period *period = &b->s->periods[index];
    yl_node f[PERIOD_KEYS];
    if (!yl_fields(b->ctx, item, &period_schema, f))
        return;
    read_id(b, item, &period_schema, f, &b->periods, index, &period->id);
    if (yl_require(b->ctx, item, &period_schema, f, PERIOD_HOURS))
        yl_number(b->ctx, f[PERIOD_HOURS], "hours", YL_POSITIVE, &period->hours);
}

enum { ACCEL_ID, ACCEL_POWER, ACCEL_UNIT, ACCEL_KEYS };
static const char *const accelerator_keys[] = {"id", "power_kw", "unit"};
static const yl_schema accelerator_schema = {"accelerator", accelerator_keys, ACCEL_KEYS};

static void load_accelerator(builder *b, yl_node item, int index)
{
    cap_accelerator *accelerator = &b->s->accelerators[index];
    accelerator->unit = 1;
    yl_node f[ACCEL_KEYS];
    if (!yl_fields(b->ctx, item, &accelerator_schema, f))
        return;
    read_id(b, item, &accelerator_schema, f, &b->accelerators, index, &accelerator->id);
    yl_number_or(b->ctx, f[ACCEL_POWER], "power_kw", YL_NONNEGATIVE, 0.0, &accelerator->power_kw);
    double unit;
    if (f[ACCEL_UNIT].node && yl_integer(b->ctx, f[ACCEL_UNIT], "unit", 1, MAX_UNIT, &unit))
        accelerator->unit = (int)unit;
}

/* ---- providers and regions ------------------------------------------------------------ */

enum { PROV_ID, PROV_MAX_SHARE, PROV_MIN_SHARE, PROV_COMMITMENT, PROV_OUTAGE, PROV_KEYS };
static const char *const provider_keys[] = {"id", "max_share", "min_share", "commitment", "outage"};
static const yl_schema provider_schema = {"provider", provider_keys, PROV_KEYS};

static void load_provider(builder *b, yl_node item, int index)
{
    cap_provider *provider = &b->s->providers[index];
    yl_node f[PROV_KEYS];
    if (!yl_fields(b->ctx, item, &provider_schema, f))
        return;
    read_id(b, item, &provider_schema, f, &b->providers, index, &provider->id);
    provider->has_max_share =
        f[PROV_MAX_SHARE].node &&
        yl_number(b->ctx, f[PROV_MAX_SHARE], "max_share", YL_FRACTION, &provider->max_share);
    provider->has_min_share =
        f[PROV_MIN_SHARE].node &&
        yl_number(b->ctx, f[PROV_MIN_SHARE], "min_share", YL_FRACTION, &provider->min_share);
    if (provider->has_max_share && provider->has_min_share &&
        provider->min_share > provider->max_share)
        yl_error(b->ctx, f[PROV_MIN_SHARE], "min_share %g is greater than max_share %g",
                 provider->min_share, provider->max_share);
    /* Shares of one period's delivered compute: minimums above 1 in all can only be met
     * by delivering nothing. Said once, at the provider that goes over. */
    double before = b->min_share_total;
    if (provider->has_min_share)
        b->min_share_total += provider->min_share;
    if (before <= 1.0 + 1e-12 && b->min_share_total > 1.0 + 1e-12)
        yl_error(b->ctx, f[PROV_MIN_SHARE],
                 "min_share of the providers so far adds up to %g, over 1: no plan that "
                 "delivers compute can give each its minimum share",
                 b->min_share_total);
    yl_number_or(b->ctx, f[PROV_COMMITMENT], "commitment", YL_NONNEGATIVE, 0.0,
                 &provider->commitment);
    yl_number_or(b->ctx, f[PROV_OUTAGE], "outage", YL_FRACTION, 0.0, &provider->outage);
}

/* Index of a geo name, adding it on first sight (geos keep the order they appear in). */
static int geo_index(builder *b, const char *geo, yl_node where)
{
    int index = yl_ids_find(&b->geos, geo);
    if (index >= 0)
        return index;
    cap_scenario *s = b->s;
    /* The table borrows the YAML text, which outlives it; the scenario keeps a copy. */
    if (!yl_ids_add(b->ctx, &b->geos, "geo", geo, s->geo_count, where))
        return -1;
    s->geos[s->geo_count] = copy_text(b, geo); /* geos has room for one per region */
    return s->geos[s->geo_count] ? s->geo_count++ : -1;
}

enum { REGION_ID, REGION_PROVIDER, REGION_GEO, REGION_POWER, REGION_KEYS };
static const char *const region_keys[] = {"id", "provider", "geo", "power_mw"};
static const yl_schema region_schema = {"region", region_keys, REGION_KEYS};

static void load_region(builder *b, yl_node item, int index)
{
    cap_region *region = &b->s->regions[index];
    region->provider = region->geo = -1;
    yl_node f[REGION_KEYS];
    if (!yl_fields(b->ctx, item, &region_schema, f))
        return;
    read_id(b, item, &region_schema, f, &b->regions, index, &region->id);
    if (yl_require(b->ctx, item, &region_schema, f, REGION_PROVIDER))
        region->provider =
            yl_reference(b->ctx, f[REGION_PROVIDER], "provider", &b->providers, "provider");
    const char *geo;
    if (yl_require(b->ctx, item, &region_schema, f, REGION_GEO) &&
        yl_string(b->ctx, f[REGION_GEO], "geo", &geo))
        region->geo = geo_index(b, geo, f[REGION_GEO]);
    if (f[REGION_POWER].node)
        yl_per_period(b->ctx, f[REGION_POWER], "power_mw", YL_NONNEGATIVE, b->s->period_count,
                      &region->power_mw);
}

/* ---- offerings ------------------------------------------------------------------------ */

enum {
    OFFER_ID,
    OFFER_REGION,
    OFFER_ACCELERATOR,
    OFFER_PRICING,
    OFFER_PRICE,
    OFFER_CAPACITY,
    OFFER_AVAILABILITY,
    OFFER_OUTAGE,
    OFFER_KEYS
};
static const char *const offering_keys[] = {"id",    "region",   "accelerator",  "pricing",
                                            "price", "capacity", "availability", "outage"};
static const yl_schema offering_schema = {"offering", offering_keys, OFFER_KEYS};

static void read_pricing(builder *b, yl_node n, cap_pricing *out)
{
    static const cap_pricing all[] = {CAP_PRICING_RESERVED, CAP_PRICING_ON_DEMAND,
                                      CAP_PRICING_SPOT};
    const char *text;
    if (!yl_string(b->ctx, n, "pricing", &text))
        return;
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (strcmp(text, cap_pricing_name(all[i])) == 0) {
            *out = all[i];
            return;
        }
    yl_error(b->ctx, n, "unknown pricing %s (expected reserved, on_demand or spot)",
             yl_quote(text).text);
}

static void load_offering(builder *b, yl_node item, int index)
{
    cap_offering *offering = &b->s->offerings[index];
    offering->region = offering->accelerator = -1;
    yl_node f[OFFER_KEYS];
    if (!yl_fields(b->ctx, item, &offering_schema, f))
        return;
    read_id(b, item, &offering_schema, f, &b->offerings, index, &offering->id);
    if (yl_require(b->ctx, item, &offering_schema, f, OFFER_REGION))
        offering->region = yl_reference(b->ctx, f[OFFER_REGION], "region", &b->regions, "region");
    if (yl_require(b->ctx, item, &offering_schema, f, OFFER_ACCELERATOR))
        offering->accelerator = yl_reference(b->ctx, f[OFFER_ACCELERATOR], "accelerator",
                                             &b->accelerators, "accelerator");
    if (yl_require(b->ctx, item, &offering_schema, f, OFFER_PRICING))
        read_pricing(b, f[OFFER_PRICING], &offering->pricing);
    int periods = b->s->period_count;
    if (yl_require(b->ctx, item, &offering_schema, f, OFFER_PRICE))
        yl_per_period(b->ctx, f[OFFER_PRICE], "price", YL_NONNEGATIVE, periods, &offering->price);
    if (yl_require(b->ctx, item, &offering_schema, f, OFFER_CAPACITY))
        yl_per_period(b->ctx, f[OFFER_CAPACITY], "capacity", YL_NONNEGATIVE, periods,
                      &offering->capacity);
    yl_number_or(b->ctx, f[OFFER_AVAILABILITY], "availability", YL_FRACTION, 1.0,
                 &offering->availability);
    yl_number_or(b->ctx, f[OFFER_OUTAGE], "outage", YL_FRACTION, 0.0, &offering->outage);
}

/* ---- workloads ------------------------------------------------------------------------ */

enum {
    WORK_ID,
    WORK_KIND,
    WORK_DEMAND,
    WORK_THROUGHPUT,
    WORK_GEOS,
    WORK_PROVIDERS,
    WORK_MAX_SPOT,
    WORK_PENALTY,
    WORK_SIGMA,
    WORK_KEYS
};
static const char *const workload_keys[] = {"id",   "kind",      "demand",         "throughput",
                                            "geos", "providers", "max_spot_share", "penalty",
                                            "sigma"};
static const yl_schema workload_schema = {"workload", workload_keys, WORK_KEYS};

/* throughput: {accelerator id: H100e per accelerator}; an accelerator not named is 0. */
static void load_throughput(builder *b, yl_node map, cap_workload *workload)
{
    int count = b->s->accelerator_count;
    workload->throughput = alloc_array(b, (size_t)count, sizeof *workload->throughput);
    yl_node *given = alloc_array(b, (size_t)count, sizeof *given);
    if (!workload->throughput || !given) {
        free(given);
        return;
    }
    if (!yl_is_mapping(map)) {
        /* Stop here: yl_key and yl_value read a list's items as if they were pairs. */
        yl_error(b->ctx, map,
                 "throughput must be a mapping of accelerator id to H100e per accelerator, "
                 "got %s",
                 yl_describe(map).text);
        free(given);
        return;
    }
    for (size_t i = 0; i < yl_length(map); i++) {
        yl_node key = yl_key(map, i);
        int a = yl_reference(b->ctx, key, "throughput key", &b->accelerators, "accelerator");
        if (a < 0)
            continue;
        if (given[a].node) {
            yl_error(b->ctx, key, "duplicate key %s (first given at line %zu, column %zu)",
                     yl_describe(key).text, given[a].node->start_mark.line + 1,
                     given[a].node->start_mark.column + 1);
            continue;
        }
        given[a] = key;
        yl_number(b->ctx, yl_value(map, i), "throughput", YL_NONNEGATIVE, &workload->throughput[a]);
    }
    free(given);
}

/* Geos are declared nowhere but on regions: a workload geo that no region has would
 * silently match nothing, and is almost always a typo, so it is an error. */
static int resolve_geo(builder *b, yl_node entry)
{
    const char *name;
    if (!yl_string(b->ctx, entry, "geo", &name))
        return -1;
    int index = yl_ids_find(&b->geos, name);
    if (index < 0)
        yl_error(b->ctx, entry, "unknown geo %s (no region has it)", yl_quote(name).text);
    return index;
}

static int resolve_provider(builder *b, yl_node entry)
{
    return yl_reference(b->ctx, entry, "provider", &b->providers, "provider");
}

/* An allow-list: a bool per geo or provider (`count` of them), true for those named. */
static bool *load_allow_list(builder *b, yl_node list, const char *field, int count,
                             int (*resolve)(builder *b, yl_node entry))
{
    if (!yl_list(b->ctx, list, field))
        return NULL;
    bool *allowed = alloc_array(b, (size_t)count, sizeof *allowed);
    for (size_t i = 0; allowed && i < yl_length(list); i++) {
        int index = resolve(b, yl_item(list, i));
        if (index >= 0)
            allowed[index] = true;
    }
    return allowed;
}

static void load_workload_options(builder *b, const yl_node *f, cap_workload *workload)
{
    if (f[WORK_GEOS].node)
        workload->geo_allowed =
            load_allow_list(b, f[WORK_GEOS], "geos", b->s->geo_count, resolve_geo);
    if (f[WORK_PROVIDERS].node)
        workload->provider_allowed = load_allow_list(b, f[WORK_PROVIDERS], "providers",
                                                     b->s->provider_count, resolve_provider);
    yl_number_or(b->ctx, f[WORK_MAX_SPOT], "max_spot_share", YL_FRACTION, 0.0,
                 &workload->max_spot_share);
    workload->has_penalty = f[WORK_PENALTY].node && yl_number(b->ctx, f[WORK_PENALTY], "penalty",
                                                              YL_NONNEGATIVE, &workload->penalty);
    yl_number_or(b->ctx, f[WORK_SIGMA], "sigma", (yl_range){0.0, MAX_SIGMA, false}, 0.0,
                 &workload->sigma);
}

static void load_workload(builder *b, yl_node item, int index)
{
    cap_workload *workload = &b->s->workloads[index];
    yl_node f[WORK_KEYS];
    if (!yl_fields(b->ctx, item, &workload_schema, f))
        return;
    read_id(b, item, &workload_schema, f, &b->workloads, index, &workload->id);
    const char *kind = "";
    if (!f[WORK_KIND].node || yl_string(b->ctx, f[WORK_KIND], "kind", &kind))
        workload->kind = copy_text(b, kind);
    if (yl_require(b->ctx, item, &workload_schema, f, WORK_DEMAND))
        yl_per_period(b->ctx, f[WORK_DEMAND], "demand", YL_NONNEGATIVE, b->s->period_count,
                      &workload->demand);
    if (yl_require(b->ctx, item, &workload_schema, f, WORK_THROUGHPUT))
        load_throughput(b, f[WORK_THROUGHPUT], workload);
    load_workload_options(b, f, workload);
}

/* ---- correlation ---------------------------------------------------------------------- */

/* Index of the first row where a Cholesky factorisation of c + PSD_TOLERANCE*I breaks
 * down, or -1 when c is positive semidefinite (up to the tolerance). Uses `lower` (n*n)
 * as work space. */
static int cholesky_failure(const double *c, int n, double *lower)
{
    for (int j = 0; j < n; j++) {
        for (int i = j; i < n; i++) {
            double sum = c[(size_t)i * n + j] + (i == j ? PSD_TOLERANCE : 0.0);
            for (int k = 0; k < j; k++)
                sum -= lower[(size_t)i * n + k] * lower[(size_t)j * n + k];
            if (i == j && sum <= 0.0)
                return j;
            lower[(size_t)i * n + j] = i == j ? sqrt(sum) : sum / lower[(size_t)j * n + j];
        }
    }
    return -1;
}

static void check_semidefinite(builder *b, yl_node at)
{
    int n = b->s->workload_count;
    double *lower = malloc(((size_t)n * n + 1) * sizeof *lower);
    if (!lower) {
        yl_out_of_memory(b->ctx);
        return;
    }
    int row = cholesky_failure(b->s->correlation, n, lower);
    free(lower);
    if (row >= 0)
        yl_error(b->ctx, at,
                 "correlation matrix is not positive semidefinite: the pairs up to workload %s "
                 "cannot hold together",
                 yl_quote(b->s->workloads[row].id ? b->s->workloads[row].id : "?").text);
}

/* correlation: rho. The matrix (1-rho)I + rho*J has eigenvalues 1-rho and 1+(W-1)rho, so
 * it is positive semidefinite exactly when rho >= -1/(W-1): no factorisation needed. */
static void load_uniform_correlation(builder *b, yl_node n)
{
    int count = b->s->workload_count;
    double rho;
    if (!yl_number(b->ctx, n, "correlation", YL_CORRELATION, &rho))
        return;
    for (int i = 0; i < count; i++)
        for (int j = 0; j < count; j++)
            if (i != j)
                b->s->correlation[(size_t)i * count + j] = rho;
    if (count > 1 && rho < -1.0 / (count - 1) - PSD_TOLERANCE)
        yl_error(b->ctx, n,
                 "correlation %g is impossible for %d workloads (the matrix is not positive "
                 "semidefinite; the least possible is %g)",
                 rho, count, -1.0 / (count - 1));
}

static void load_pair(builder *b, yl_node pair)
{
    int count = b->s->workload_count;
    if (!yl_is_list(pair)) {
        yl_error(b->ctx, pair, "a correlation pair is [workload, workload, rho], got %s",
                 yl_describe(pair).text);
        return;
    }
    if (yl_length(pair) != 3) {
        yl_error(b->ctx, pair, "a correlation pair is [workload, workload, rho], got %zu entries",
                 yl_length(pair));
        return;
    }
    int i = yl_reference(b->ctx, yl_item(pair, 0), "workload", &b->workloads, "workload");
    int j = yl_reference(b->ctx, yl_item(pair, 1), "workload", &b->workloads, "workload");
    double rho;
    bool ok = yl_number(b->ctx, yl_item(pair, 2), "correlation", YL_CORRELATION, &rho);
    if (i < 0 || j < 0 || !ok)
        return;
    double *entry = &b->s->correlation[(size_t)i * count + j];
    if (i == j)
        yl_error(b->ctx, pair, "pair names workload %s twice (its correlation with itself is 1)",
                 yl_describe(yl_item(pair, 0)).text);
    else if (!isnan(*entry))
        yl_error(b->ctx, pair, "correlation of %s and %s is given twice",
                 yl_describe(yl_item(pair, 0)).text, yl_describe(yl_item(pair, 1)).text);
    else
        *entry = b->s->correlation[(size_t)j * count + i] = rho;
}

enum { CORR_PAIRS, CORR_KEYS };
static const char *const correlation_keys[] = {"pairs"};
static const yl_schema correlation_schema = {"correlation", correlation_keys, CORR_KEYS};

/* correlation: {pairs: [[w1, w2, rho], ...]}: pairs not given are 0. */
static void load_pair_correlation(builder *b, yl_node n)
{
    int count = b->s->workload_count;
    double *c = b->s->correlation;
    yl_node f[CORR_KEYS];
    if (!yl_fields(b->ctx, n, &correlation_schema, f) ||
        !yl_require(b->ctx, n, &correlation_schema, f, CORR_PAIRS) ||
        !yl_list(b->ctx, f[CORR_PAIRS], "pairs"))
        return;
    long problems = b->ctx->problem_count;
    /* NaN marks "not given yet", so that a pair given twice is found. */
    for (size_t k = 0; k < (size_t)count * count; k++)
        c[k] = k % ((size_t)count + 1) == 0 ? 1.0 : NAN;
    for (size_t p = 0; p < yl_length(f[CORR_PAIRS]); p++)
        load_pair(b, yl_item(f[CORR_PAIRS], p));
    for (size_t k = 0; k < (size_t)count * count; k++)
        if (isnan(c[k]))
            c[k] = 0.0;
    if (b->ctx->problem_count == problems && !b->ctx->out_of_memory)
        check_semidefinite(b, n);
}

static void load_correlation(builder *b, yl_node n)
{
    int count = b->s->workload_count;
    b->s->correlation = alloc_array(b, (size_t)count * count, sizeof *b->s->correlation);
    if (!b->s->correlation)
        return;
    for (int i = 0; i < count; i++)
        b->s->correlation[(size_t)i * count + i] = 1.0;
    if (!n.node)
        return;
    if (yl_is_mapping(n))
        load_pair_correlation(b, n);
    else
        load_uniform_correlation(b, n);
}

enum { UNC_CORRELATION, UNC_SAMPLES, UNC_SEED, UNC_KEYS };
static const char *const uncertainty_keys[] = {"correlation", "samples", "seed"};
static const yl_schema uncertainty_schema = {"uncertainty", uncertainty_keys, UNC_KEYS};

static void load_uncertainty(builder *b, yl_node n)
{
    yl_node f[UNC_KEYS] = {{NULL, NULL}};
    b->s->samples = 100000;
    b->s->seed = 1;
    if (n.node && !yl_fields(b->ctx, n, &uncertainty_schema, f))
        return;
    double samples;
    if (f[UNC_SAMPLES].node &&
        yl_integer(b->ctx, f[UNC_SAMPLES], "samples", 1, MAX_SAMPLES, &samples))
        b->s->samples = (int64_t)samples;
    if (f[UNC_SEED].node)
        yl_uint64(b->ctx, f[UNC_SEED], "seed", CAP_SEED_MAX, &b->s->seed);
    load_correlation(b, f[UNC_CORRELATION]);
}

/* ---- scenario-wide keys --------------------------------------------------------------- */

static void check_versions(builder *b)
{
    const yl_nodes *given = section(b, YL_TOP_VERSION);
    if (given->count == 0)
        yl_error(b->ctx, yl_root(b->merged->top), "scenario is missing required key 'version'");
    /* Every file that states a version must be version 1, even one that is overridden. */
    for (size_t i = 0; i < given->count; i++) {
        double version;
        if (yl_integer(b->ctx, given->nodes[i], "version", 0, 1e15, &version) && version != 1)
            yl_error(b->ctx, given->nodes[i],
                     "unsupported version %.0f (this capplan reads version 1)", version);
    }
}

/* The file name without folder and extension: the default scenario name. */
static char *default_name(builder *b, const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t length = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    char *name = malloc(length + 1);
    if (!name) {
        yl_out_of_memory(b->ctx);
        return NULL;
    }
    memcpy(name, base, length);
    name[length] = '\0';
    return name;
}

static void load_name(builder *b)
{
    yl_node given = b->merged->value[YL_TOP_NAME];
    const char *name;
    if (!given.node)
        b->s->name = default_name(b, b->merged->top->path);
    else if (yl_string(b->ctx, given, "name", &name))
        b->s->name = copy_text(b, name);
}

static void load_reference(builder *b)
{
    yl_node given = b->merged->value[YL_TOP_REFERENCE];
    const cap_scenario *s = b->s;
    int index = -1;
    if (given.node)
        index = yl_reference(b->ctx, given, "reference", &b->accelerators, "accelerator");
    else if ((index = yl_ids_find(&b->accelerators, "H100")) < 0 && s->accelerator_count > 0)
        index = 0;
    if (index >= 0 && s->accelerators[index].id)
        b->s->reference = copy_text(b, s->accelerators[index].id);
}

static void load_objective(builder *b)
{
    yl_node objective = b->merged->value[YL_TOP_OBJECTIVE];
    yl_node budget = b->merged->value[YL_TOP_BUDGET];
    b->s->has_budget =
        budget.node && yl_number(b->ctx, budget, "budget", YL_NONNEGATIVE, &b->s->budget);
    const char *text;
    if (!objective.node || !yl_string(b->ctx, objective, "objective", &text))
        return;
    if (strcmp(text, "min_cost") == 0)
        b->s->objective = CAP_OBJECTIVE_MIN_COST;
    else if (strcmp(text, "max_served") == 0)
        b->s->objective = CAP_OBJECTIVE_MAX_SERVED;
    else
        yl_error(b->ctx, objective, "unknown objective %s (expected min_cost or max_served)",
                 yl_quote(text).text);
    if (b->s->objective == CAP_OBJECTIVE_MAX_SERVED && !budget.node)
        yl_error(b->ctx, objective, "objective max_served needs a budget");
}

/* ---- the whole scenario --------------------------------------------------------------- */

/* Refuses scenarios whose arrays would be unreasonably large before allocating them. */
static bool check_size(builder *b)
{
    uint64_t periods = section(b, YL_TOP_PERIODS)->count;
    uint64_t accelerators = section(b, YL_TOP_ACCELERATORS)->count;
    uint64_t providers = section(b, YL_TOP_PROVIDERS)->count;
    uint64_t regions = section(b, YL_TOP_REGIONS)->count;
    uint64_t offerings = section(b, YL_TOP_OFFERINGS)->count;
    uint64_t workloads = section(b, YL_TOP_WORKLOADS)->count;
    if (workloads > MAX_WORKLOADS) {
        yl_error(b->ctx, b->merged->value[YL_TOP_WORKLOADS],
                 "too many workloads (%" PRIu64 "): at most %d are supported", workloads,
                 MAX_WORKLOADS);
        return false;
    }
    /* A plan is dense over (period, workload, offering): the model's columns, the plan and
     * the Monte Carlo's copy of it. Beyond this the solve would run out of memory or
     * never finish. */
    uint64_t cells = periods * workloads * offerings;
    if (cells > CAP_MAX_PLAN_CELLS) {
        yl_error(b->ctx, yl_root(b->merged->top),
                 "scenario too large: %" PRIu64 " periods x %" PRIu64 " workloads x %" PRIu64
                 " offerings = %" PRIu64 " plan entries (at most %" PRIu64 ")",
                 periods, workloads, offerings, cells, CAP_MAX_PLAN_CELLS);
        return false;
    }
    uint64_t values = periods * (2 * offerings + regions + workloads) +
                      workloads * (accelerators + providers + regions + workloads);
    if (values <= MAX_VALUES)
        return true;
    yl_error(b->ctx, yl_root(b->merged->top),
             "scenario too large: %" PRIu64 " per-period and per-workload values (at most %" PRIu64
             ")",
             values, MAX_VALUES);
    return false;
}

/* Allocates every kind's array (zeroed) before anything is loaded, since entries refer
 * to each other by index. Counts are set only with their arrays, so a partial scenario
 * always frees cleanly. */
static bool allocate(builder *b)
{
    cap_scenario *s = b->s;
    size_t periods = section(b, YL_TOP_PERIODS)->count;
    size_t accelerators = section(b, YL_TOP_ACCELERATORS)->count;
    size_t providers = section(b, YL_TOP_PROVIDERS)->count;
    size_t regions = section(b, YL_TOP_REGIONS)->count;
    size_t offerings = section(b, YL_TOP_OFFERINGS)->count;
    size_t workloads = section(b, YL_TOP_WORKLOADS)->count;
    s->periods = alloc_array(b, periods, sizeof *s->periods);
    s->accelerators = alloc_array(b, accelerators, sizeof *s->accelerators);
    s->providers = alloc_array(b, providers, sizeof *s->providers);
    s->regions = alloc_array(b, regions, sizeof *s->regions);
    s->offerings = alloc_array(b, offerings, sizeof *s->offerings);
    s->workloads = alloc_array(b, workloads, sizeof *s->workloads);
    s->geos = alloc_array(b, regions, sizeof *s->geos); /* at most one geo per region */
    if (!s->periods || !s->accelerators || !s->providers || !s->regions || !s->offerings ||
        !s->workloads || !s->geos)
        return false;
    s->period_count = (int)periods;
    s->accelerator_count = (int)accelerators;
    s->provider_count = (int)providers;
    s->region_count = (int)regions;
    s->offering_count = (int)offerings;
    s->workload_count = (int)workloads;
    return true;
}

typedef void (*load_entry_fn)(builder *b, yl_node item, int index);

static void load_section(builder *b, yl_top_key key, load_entry_fn load_entry)
{
    const yl_nodes *entries = section(b, key);
    for (size_t i = 0; i < entries->count; i++)
        load_entry(b, entries->nodes[i], (int)i);
}

/* Order matters: each kind refers only to kinds loaded before it. */
static void build(builder *b)
{
    if (!allocate(b))
        return;
    check_versions(b);
    load_name(b);
    b->s->path = copy_text(b, b->merged->top->path);
    if (section(b, YL_TOP_PERIODS)->count == 0)
        report_empty(b, YL_TOP_PERIODS, "at least one period is needed");
    if (section(b, YL_TOP_ACCELERATORS)->count == 0)
        report_empty(b, YL_TOP_ACCELERATORS,
                     "at least one accelerator is needed; one defines 1 H100e");
    load_section(b, YL_TOP_PERIODS, load_period);
    load_section(b, YL_TOP_ACCELERATORS, load_accelerator);
    load_reference(b);
    load_section(b, YL_TOP_PROVIDERS, load_provider);
    load_section(b, YL_TOP_REGIONS, load_region);
    load_section(b, YL_TOP_OFFERINGS, load_offering);
    load_section(b, YL_TOP_WORKLOADS, load_workload);
    load_uncertainty(b, b->merged->value[YL_TOP_UNCERTAINTY]);
    load_objective(b);
}

static cap_scenario *build_scenario(yl_ctx *ctx, const yl_merged *merged)
{
    /* A file that could not be read or included leaves entries missing: checking the rest
     * would only add misleading "unknown id" messages. */
    if (merged->broken || !merged->top)
        return NULL;
    builder b = {.ctx = ctx, .merged = merged};
    b.s = calloc(1, sizeof *b.s);
    if (!b.s) {
        yl_out_of_memory(ctx);
        return NULL;
    }
    if (check_size(&b))
        build(&b);
    yl_ids *tables[] = {&b.periods,   &b.accelerators, &b.providers, &b.regions,
                        &b.offerings, &b.workloads,    &b.geos};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
        yl_ids_free(tables[i]);
    if (yl_failed(ctx)) {
        cap_scenario_free(b.s);
        return NULL;
    }
    return b.s;
}

/* ---- entry points --------------------------------------------------------------------- */

typedef enum { FROM_FILE, FROM_BUFFER } load_source;

static cap_status load(load_source from, const char *name, const char *data, size_t size,
                       cap_scenario **out, cap_diag *diag)
{
    *out = NULL;
    /* strtod follows LC_NUMERIC: read numbers in the C locale whatever the program set. */
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t previous = c_locale ? uselocale(c_locale) : (locale_t)0;
    yl_ctx ctx;
    yl_ctx_init(&ctx, diag);
    yl_merged merged;
    if (from == FROM_FILE)
        yl_load_tree(&ctx, name, &merged);
    else
        yl_load_tree_buffer(&ctx, name, data, size, &merged);
    cap_scenario *scenario = build_scenario(&ctx, &merged);
    yl_finish(&ctx, name);
    yl_merged_free(&merged);
    bool out_of_memory = ctx.out_of_memory;
    yl_ctx_free(&ctx);
    if (c_locale) {
        uselocale(previous);
        freelocale(c_locale);
    }
    if (out_of_memory) {
        cap_scenario_free(scenario);
        cap_diag_add(diag, "%s: out of memory while loading the scenario", name);
        return CAP_ERR_RUNTIME;
    }
    if (!scenario)
        return CAP_ERR_INPUT;
    *out = scenario;
    return CAP_OK;
}

cap_status cap_scenario_load(const char *path, cap_scenario **out, cap_diag *diag)
{
    return load(FROM_FILE, path, NULL, 0, out, diag);
}

cap_status cap_scenario_load_buffer(const char *name, const char *data, size_t size,
                                    cap_scenario **out, cap_diag *diag)
{
    return load(FROM_BUFFER, name, data, size, out, diag);
}
