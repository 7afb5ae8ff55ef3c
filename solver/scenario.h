/* scenario.h: the in-memory form of a capplan scenario (SPEC §3).
 *
 * Plain structs, no YAML types: host/scenario_load.c fills them, everything else reads
 * them. Invariants once a scenario has been loaded and validated:
 *   - every index (region->provider, offering->region, ...) is in range;
 *   - every per-period array has exactly period_count entries (scalars are expanded);
 *   - every number is finite, probabilities and shares lie in [0,1];
 *   - ids are unique within their kind.
 * Arrays indexed by period are [period]; by workload and period are [w * period_count + t].
 */
#ifndef CAP_SCENARIO_H
#define CAP_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest Monte Carlo seed: mc.json records the seed as a JSON integer, which its
 * readers (and jansson) hold as a signed 64-bit number. */
#define CAP_SEED_MAX ((uint64_t)INT64_MAX)

/* At most this many periods x workloads x offerings: a plan is dense over them (the model's
 * columns, cap_plan.x, the Monte Carlo's copy), 1 GiB of x. The loader refuses more, and
 * generate does not make more. */
#define CAP_MAX_PLAN_CELLS ((uint64_t)1 << 27)

typedef enum { CAP_PRICING_RESERVED = 0, CAP_PRICING_ON_DEMAND, CAP_PRICING_SPOT } cap_pricing;
typedef enum { CAP_OBJECTIVE_MIN_COST = 0, CAP_OBJECTIVE_MAX_SERVED } cap_objective;

typedef struct {
    char *id;
    double hours;
} cap_period;

typedef struct {
    char *id;
    double power_kw; /* per accelerator, 0 when not given */
    int unit;        /* accelerators per whole node / rack / slice, default 1 */
} cap_accelerator;

typedef struct {
    char *id;
    bool has_max_share, has_min_share;
    double max_share, min_share; /* fraction of delivered H100e per period */
    double commitment;           /* take-or-pay USD over the horizon, 0 = none */
    double outage;               /* P(provider down) per sample and period */
} cap_provider;

typedef struct {
    char *id;
    int provider;
    int geo;          /* index into cap_scenario.geos */
    double *power_mw; /* [period] or NULL when the region has no power envelope */
} cap_region;

typedef struct {
    char *id;
    int region;
    int accelerator;
    cap_pricing pricing;
    double *price;    /* [period] USD per accelerator-hour */
    double *capacity; /* [period] accelerators */
    double availability;
    double outage;
} cap_offering;

typedef struct {
    char *id;
    char *kind;
    double *demand;         /* [period] H100e */
    double *throughput;     /* [accelerator] H100e per accelerator, 0 = cannot run */
    bool *geo_allowed;      /* [geo_count] or NULL = every geo */
    bool *provider_allowed; /* [provider_count] or NULL = every provider */
    double max_spot_share;  /* default 0 */
    bool has_penalty;
    double penalty; /* USD per unmet H100e-hour */
    double sigma;   /* per-period log-volatility of demand */
} cap_workload;

typedef struct {
    char *name;
    char *path;      /* file it was loaded from, for messages */
    char *reference; /* accelerator id that defines 1 H100e */

    int period_count, accelerator_count, provider_count, region_count, offering_count,
        workload_count, geo_count;
    cap_period *periods;
    cap_accelerator *accelerators;
    cap_provider *providers;
    cap_region *regions;
    cap_offering *offerings;
    cap_workload *workloads;
    char **geos; /* distinct geo names, in order of first appearance */

    double *correlation; /* [workload_count * workload_count], symmetric, unit diagonal */
    int64_t samples;     /* default 100000 */
    uint64_t seed;       /* default 1; at most CAP_SEED_MAX */

    cap_objective objective;
    bool has_budget;
    double budget;
} cap_scenario;

/* Frees everything the scenario owns, then the scenario itself. NULL is a no-op. */
void cap_scenario_free(cap_scenario *scenario);

/* Deep copy; NULL when out of memory. */
cap_scenario *cap_scenario_clone(const cap_scenario *scenario);

/* Lookup by id; -1 when absent. */
int cap_scenario_find_workload(const cap_scenario *s, const char *id);
int cap_scenario_find_offering(const cap_scenario *s, const char *id);
int cap_scenario_find_provider(const cap_scenario *s, const char *id);
int cap_scenario_find_region(const cap_scenario *s, const char *id);
int cap_scenario_find_accelerator(const cap_scenario *s, const char *id);
int cap_scenario_find_period(const cap_scenario *s, const char *id);

/* Provider of an offering, and the effective availability availability*(1-outage). */
int cap_offering_provider(const cap_scenario *s, int offering);
double cap_offering_eff(const cap_scenario *s, int offering);

/* H100e per accelerator of offering o for workload w, after geo and provider allow-lists:
 * 0 when workload w may not run on o. */
double cap_workload_throughput(const cap_scenario *s, int workload, int offering);

const char *cap_pricing_name(cap_pricing pricing);

#endif
