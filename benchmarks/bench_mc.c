/* bench_mc.c: checks the Monte Carlo engine, then times it.
 *
 * 1. Check: the closed-form lognormal case (SPEC §2 model, one workload, a plan covering
 *    demand exactly) must match lambda D Phi(d1) - D Phi(d2) within 4 standard errors;
 *    otherwise the benchmark stops with exit code 1 before timing anything.
 * 2. Time samples/s (best of --repeat runs on both sides: the machine may be shared) of the
 *    CPU backend (and the CUDA fused and GEMM variants when a device is present) on
 *    small/medium/large generated problems, and race the NumPy reference
 *    (benchmarks/mc_numpy_ref.py) on the same problem, written as JSON: its mean cost must
 *    agree with the engine's within 4 standard errors, and the ratio of rates is printed.
 * 3. With a GPU, before timing: every CUDA variant against the CPU on a freshly generated
 *    problem and seed (printed), the same samples: fused variants must agree to 1e-12
 *    relative (they are expected bit for bit), the GEMM variant to 1e-9; probabilities
 *    within 2 samples' worth. Then each variant is timed, and its rate compared with the
 *    rate at which cuRAND alone generates the variates a sample consumes (W (T-1) normals
 *    and (P + O) T 32-bit words), written to device memory.
 *
 * usage: bench_mc [--samples N] [--gpu-samples N] [--numpy-samples N] [--threads N]
 *                 [--repeat R (3)] [--sizes small,medium,large] [--variants LIST]
 *                 [--recourse none|greedy] [--python PATH] [--script PATH] [--no-numpy]
 *                 [--no-cuda] [--no-check] [--rng-only] [--rng-count N]
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mc.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of the whole process (all threads): with others on the machine, samples per
 * CPU-second compare the implementations where wall time also measures the neighbours. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double normal_cdf(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

/* ---- problems ------------------------------------------------------------------------------ */

typedef struct {
    cap_mc_problem p;
    double *hours, *demand, *sigma, *chol, *penalty, *availability, *offering_outage,
        *provider_outage, *price, *capacity, *thr, *plan;
    unsigned char *has_penalty, *recourse_ok;
    int *offering_provider;
} bench_problem;

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "bench_mc: out of memory\n");
        exit(1);
    }
    return p;
}

static void problem_alloc(bench_problem *b, int W, int O, int P, int T)
{
    memset(b, 0, sizeof *b);
    b->hours = xcalloc((size_t)T, sizeof(double));
    b->demand = xcalloc((size_t)W * T, sizeof(double));
    b->sigma = xcalloc((size_t)W, sizeof(double));
    b->chol = xcalloc((size_t)W * W, sizeof(double));
    b->penalty = xcalloc((size_t)W, sizeof(double));
    b->has_penalty = xcalloc((size_t)W, 1);
    b->availability = xcalloc((size_t)O, sizeof(double));
    b->offering_outage = xcalloc((size_t)O, sizeof(double));
    b->offering_provider = xcalloc((size_t)O, sizeof(int));
    b->provider_outage = xcalloc((size_t)P, sizeof(double));
    b->price = xcalloc((size_t)O * T, sizeof(double));
    b->capacity = xcalloc((size_t)O * T, sizeof(double));
    b->recourse_ok = xcalloc((size_t)O, 1);
    b->thr = xcalloc((size_t)W * O, sizeof(double));
    b->plan = xcalloc((size_t)T * W * O, sizeof(double));
    cap_mc_problem *p = &b->p;
    p->workload_count = W, p->offering_count = O, p->provider_count = P, p->period_count = T;
    p->hours = b->hours, p->demand = b->demand, p->sigma = b->sigma, p->chol = b->chol;
    p->penalty = b->penalty, p->has_penalty = b->has_penalty;
    p->availability = b->availability, p->offering_outage = b->offering_outage;
    p->offering_provider = P > 0 ? b->offering_provider : NULL;
    p->provider_outage = b->provider_outage, p->price = b->price, p->capacity = b->capacity;
    p->recourse_ok = b->recourse_ok, p->thr = b->thr, p->plan = b->plan;
}

static void problem_free(bench_problem *b)
{
    free(b->hours), free(b->demand), free(b->sigma), free(b->chol), free(b->penalty);
    free(b->has_penalty), free(b->availability), free(b->offering_outage);
    free(b->offering_provider), free(b->provider_outage), free(b->price), free(b->capacity);
    free(b->recourse_ok), free(b->thr), free(b->plan);
}

/* Deterministic generator for problem data (not the engine's RNG). */
static double lcg_uniform(uint64_t *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*state >> 11) * 0x1p-53;
}

/* A planner-looking problem: monthly periods, growing demand, equicorrelated shocks (0.3),
 * outages, three pricing classes (reserved, on demand, spot; the last two allow recourse),
 * each workload planned on up to 3 offerings to cover its expected demand, capacity 30%
 * above the plan. */
static void problem_generate(bench_problem *b, int W, int O, int P, int T, uint64_t seed)
{
    problem_alloc(b, W, O, P, T);
    uint64_t s = seed;
    double *corr = xcalloc((size_t)W * W, sizeof(double));
    for (int t = 0; t < T; t++)
        b->hours[t] = 730.0;
    for (int w = 0; w < W; w++) {
        double base = 100.0 + 900.0 * lcg_uniform(&s);
        for (int t = 0; t < T; t++)
            b->demand[w * T + t] = base * (1.0 + 0.05 * t);
        b->sigma[w] = 0.05 + 0.25 * lcg_uniform(&s);
        b->penalty[w] = 20.0 + 60.0 * lcg_uniform(&s);
        b->has_penalty[w] = w != W - 1;
        for (int k = 0; k < W; k++)
            corr[w * W + k] = w == k ? 1.0 : 0.3;
    }
    if (cap_mc_cholesky(W, corr, b->chol) != 0) {
        fprintf(stderr, "bench_mc: correlation not positive definite\n");
        exit(1);
    }
    free(corr);
    for (int p = 0; p < P; p++)
        b->provider_outage[p] = 0.001 + 0.009 * lcg_uniform(&s);
    const double class_price[3] = {2.0, 4.0, 1.5};
    for (int o = 0; o < O; o++) {
        b->offering_provider[o] = P > 0 ? o % P : 0;
        b->availability[o] = 0.9 + 0.1 * lcg_uniform(&s);
        b->offering_outage[o] = 0.03 * lcg_uniform(&s);
        b->recourse_ok[o] = o % 3 != 0;
        double accel = 1.0 + (double)(o % 4) * 0.5; /* accelerator generations */
        for (int t = 0; t < T; t++)
            b->price[o * T + t] = class_price[o % 3] * accel * (1.0 - 0.01 * t);
        for (int w = 0; w < W; w++)
            b->thr[w * O + o] = lcg_uniform(&s) < 0.5 ? accel * (0.8 + 0.4 * lcg_uniform(&s)) : 0.0;
    }
    for (int w = 0; w < W; w++) {
        int chosen[3], count = 0;
        for (int k = 0; k < O && count < 3; k++) {
            int o = (w * 7 + k) % O;
            if (b->thr[w * O + o] > 0.0)
                chosen[count++] = o;
        }
        for (int t = 0; t < T && count > 0; t++)
            for (int i = 0; i < count; i++) {
                int o = chosen[i];
                b->plan[((size_t)t * W + w) * O + o] =
                    b->demand[w * T + t] / (count * b->thr[w * O + o] * b->availability[o]);
            }
    }
    double cost = 0.0;
    for (int o = 0; o < O; o++)
        for (int t = 0; t < T; t++) {
            double planned = 0.0;
            for (int w = 0; w < W; w++)
                planned += b->plan[((size_t)t * W + w) * O + o];
            b->capacity[o * T + t] = 1.3 * planned + 10.0;
            cost += planned * b->price[o * T + t] * b->hours[t];
        }
    b->p.plan_cost = cost;
}

static void json_array(FILE *f, const char *name, const double *a, int64_t n)
{
    fprintf(f, "\"%s\": [", name);
    for (int64_t i = 0; i < n; i++)
        fprintf(f, "%s%.17g", i ? ", " : "", a[i]);
    fprintf(f, "],\n");
}

static void json_bytes(FILE *f, const char *name, const unsigned char *a, int64_t n)
{
    fprintf(f, "\"%s\": [", name);
    for (int64_t i = 0; i < n; i++)
        fprintf(f, "%s%d", i ? ", " : "", a[i]);
    fprintf(f, "],\n");
}

static int problem_write_json(const bench_problem *b, const char *path, bool greedy, uint64_t seed)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    const cap_mc_problem *p = &b->p;
    int W = p->workload_count, O = p->offering_count, P = p->provider_count, T = p->period_count;
    fprintf(f, "{\"W\": %d, \"O\": %d, \"P\": %d, \"T\": %d,\n", W, O, P, T);
    json_array(f, "hours", b->hours, T);
    json_array(f, "demand", b->demand, (int64_t)W * T);
    json_array(f, "sigma", b->sigma, W);
    json_array(f, "chol", b->chol, (int64_t)W * W);
    json_array(f, "penalty", b->penalty, W);
    json_bytes(f, "has_penalty", b->has_penalty, W);
    json_array(f, "availability", b->availability, O);
    json_array(f, "offering_outage", b->offering_outage, O);
    fprintf(f, "\"offering_provider\": [");
    for (int o = 0; o < O; o++)
        fprintf(f, "%s%d", o ? ", " : "", b->offering_provider[o]);
    fprintf(f, "],\n");
    json_array(f, "provider_outage", b->provider_outage, P);
    json_array(f, "price", b->price, (int64_t)O * T);
    json_array(f, "capacity", b->capacity, (int64_t)O * T);
    json_bytes(f, "recourse_ok", b->recourse_ok, O);
    json_array(f, "thr", b->thr, (int64_t)W * O);
    json_array(f, "plan", b->plan, (int64_t)T * W * O);
    fprintf(f, "\"plan_cost\": %.17g, \"greedy\": %s, \"seed\": %llu}\n", p->plan_cost,
            greedy ? "true" : "false", (unsigned long long)seed);
    return fclose(f) == 0 ? 0 : -1;
}

/* ---- check --------------------------------------------------------------------------------- */

static int check_closed_form(int threads)
{
    const double D = 1000.0, s = 0.25, lambda = 1.1;
    const int64_t N = 200000;
    bench_problem b;
    problem_alloc(&b, 1, 1, 0, 2);
    b.hours[0] = b.hours[1] = 1.0;
    b.demand[0] = b.demand[1] = D;
    b.sigma[0] = s;
    b.chol[0] = 1.0;
    b.penalty[0] = 1.0;
    b.has_penalty[0] = 1;
    b.availability[0] = 1.0;
    b.thr[0] = 1.0;
    b.plan[0] = b.plan[1] = D;
    cap_mc_options o;
    cap_mc_options_init(&o);
    o.backend = CAP_MC_BACKEND_CPU;
    o.samples = N;
    o.threads = threads;
    o.scales = &lambda, o.scale_count = 1;
    cap_mc_result *r = NULL;
    char error[256];
    int status = cap_mc_run(&b.p, &o, &r, error, sizeof error);
    problem_free(&b);
    if (status != CAP_MC_OK) {
        fprintf(stderr, "check: cap_mc_run failed: %s\n", error);
        return 1;
    }
    double F = lambda * D, d1 = (log(lambda) + 0.5 * s * s) / s, d2 = d1 - s;
    double mean = F * normal_cdf(d1) - D * normal_cdf(d2);
    double second = F * F * exp(s * s) * normal_cdf(d1 + s) - 2.0 * F * D * normal_cdf(d1) +
                    D * D * normal_cdf(d2);
    double se = sqrt((second - mean * mean) / (double)N);
    double got = r->scales[0].workloads[0].period_expected_shortfall[1];
    cap_mc_result_free(r);
    bool ok = fabs(got - mean) <= 4.0 * se;
    printf("check: closed-form E[shortfall] %.4f vs %.4f (se %.4f): %s\n", got, mean, se,
           ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

/* ---- CUDA against the CPU on fresh inputs ------------------------------------------------- */

static const struct {
    cap_mc_cuda_variant variant;
    const char *name;
    double tol; /* relative, on every statistic that is not a probability */
} cuda_variants[] = {{CAP_MC_CUDA_FUSED, "fused", 1e-12},
                     {CAP_MC_CUDA_FUSED_SHARED, "fused-shared", 1e-12},
                     {CAP_MC_CUDA_FUSED_BLOCK, "fused-block", 1e-12},
                     {CAP_MC_CUDA_FUSED_CHUNK, "fused-chunk", 1e-12},
                     {CAP_MC_CUDA_GEMM, "gemm", 1e-9}};
#define CUDA_VARIANTS ((int)(sizeof cuda_variants / sizeof *cuda_variants))

static const char *variant_filter = "fused,fused-shared,fused-block,fused-chunk,gemm";

/* Whether --variants names variant v (whole names, comma-separated). */
static bool variant_wanted(int v)
{
    const char *name = cuda_variants[v].name, *p = variant_filter;
    size_t len = strlen(name);
    while ((p = strstr(p, name)) != NULL) {
        bool starts = p == variant_filter || p[-1] == ',', ends = p[len] == ',' || !p[len];
        if (starts && ends)
            return true;
        p += len;
    }
    return false;
}

typedef struct {
    int compared, identical;
    double worst;        /* largest relative difference of a non-probability */
    double worst_counts; /* largest probability difference, in samples */
} comparison;

static void compare_value(comparison *c, double a, double b, bool probability, double samples)
{
    c->compared++;
    if (a == b || (isnan(a) && isnan(b))) {
        c->identical++;
        return;
    }
    if (probability) {
        double d = fabs(a - b) * samples;
        c->worst_counts = d > c->worst_counts ? d : c->worst_counts;
    } else {
        double d = fabs(a - b) / fmax(1.0, fmax(fabs(a), fabs(b)));
        c->worst = isnan(d) ? INFINITY : (d > c->worst ? d : c->worst);
    }
}

static comparison compare_results(const cap_mc_result *a, const cap_mc_result *b)
{
    comparison c = {0};
    double n = (double)a->samples;
    for (int k = 0; k < a->scale_count; k++) {
        const cap_mc_scale_result *sa = &a->scales[k], *sb = &b->scales[k];
        const cap_mc_cost_stats *x = &sa->cost, *y = &sb->cost;
        const double xs[] = {x->mean, x->std,    x->p5,  x->p50, x->p95,
                             x->p99,  x->cvar95, x->min, x->max};
        const double ys[] = {y->mean, y->std,    y->p5,  y->p50, y->p95,
                             y->p99,  y->cvar95, y->min, y->max};
        for (size_t i = 0; i < sizeof xs / sizeof *xs; i++)
            compare_value(&c, xs[i], ys[i], false, n);
        for (int i = 0; i < sa->histogram_bins; i++)
            compare_value(&c, (double)sa->histogram[i], (double)sb->histogram[i], true, 1.0);
        for (int w = 0; w < a->workload_count; w++) {
            const cap_mc_workload_stats *p = &sa->workloads[w], *q = &sb->workloads[w];
            compare_value(&c, p->p_shortfall, q->p_shortfall, true, n);
            compare_value(&c, p->expected_unmet_h100e_hours, q->expected_unmet_h100e_hours, false,
                          n);
            compare_value(&c, p->p95_unmet_h100e_hours, q->p95_unmet_h100e_hours, false, n);
            compare_value(&c, p->service_level, q->service_level, false, n);
            for (int t = 0; t < a->period_count; t++) {
                compare_value(&c, p->period_p_shortfall[t], q->period_p_shortfall[t], true, n);
                compare_value(&c, p->period_expected_shortfall[t], q->period_expected_shortfall[t],
                              false, n);
                compare_value(&c, p->period_p95_shortfall[t], q->period_p95_shortfall[t], false, n);
                compare_value(&c, p->period_service_level[t], q->period_service_level[t], false, n);
            }
        }
    }
    return c;
}

/* Every CUDA variant against the CPU on a problem and seed drawn now: returns failures. */
static int check_cuda_matches_cpu(int W, int O, int P, int T, int threads, bool greedy,
                                  uint64_t fresh)
{
    bench_problem b;
    problem_generate(&b, W, O, P, T, fresh);
    const double scales[2] = {1.0, 1.15};
    cap_mc_options o;
    cap_mc_options_init(&o);
    o.samples = 3 * 4096 + 1000 + (int64_t)(fresh % 3000); /* a ragged last block */
    o.seed = fresh;
    o.threads = threads;
    o.scales = scales, o.scale_count = 2;
    o.recourse = greedy ? CAP_MC_RECOURSE_GREEDY : CAP_MC_RECOURSE_NONE;
    o.backend = CAP_MC_BACKEND_CPU;
    cap_mc_result *cpu[2] = {NULL, NULL};
    char error[256];
    int failures = 0;
    int64_t exact_bytes = o.exact_quantile_bytes;
    for (int h = 0; h < 2; h++) { /* h = 1: no exact-quantile memory, two passes */
        o.exact_quantile_bytes = h ? 0 : exact_bytes;
        if (cap_mc_run(&b.p, &o, &cpu[h], error, sizeof error) != CAP_MC_OK) {
            fprintf(stderr, "check: cpu: %s\n", error);
            cap_mc_result_free(cpu[0]);
            problem_free(&b);
            return 1;
        }
    }
    for (int v = 0; v < 2 * CUDA_VARIANTS; v++) {
        int h = v / CUDA_VARIANTS;
        if (!variant_wanted(v % CUDA_VARIANTS))
            continue;
        const char *name = cuda_variants[v % CUDA_VARIANTS].name;
        double tol = cuda_variants[v % CUDA_VARIANTS].tol;
        o.exact_quantile_bytes = h ? 0 : exact_bytes;
        o.backend = CAP_MC_BACKEND_CUDA;
        o.cuda_variant = cuda_variants[v % CUDA_VARIANTS].variant;
        o.chunk = v % 2 ? 4096 : 0; /* several chunks for some */
        cap_mc_result *gpu = NULL;
        if (cap_mc_run(&b.p, &o, &gpu, error, sizeof error) != CAP_MC_OK) {
            printf("check: %dx%dx%d %s: %s: FAILED\n", W, O, T, name, error);
            failures++;
            continue;
        }
        comparison c = compare_results(cpu[h], gpu);
        /* with histogram quantiles, GEMM rounding may move a value across a bin edge: then
         * within the stated error (a bin), not 1e-9 */
        bool ok =
            (c.worst <= tol || (h && tol > 1e-12 && c.worst <= 1e-3)) && c.worst_counts <= 2.0;
        printf("check: %dx%dx%d seed %llu, %lld samples, %s, cuda %-12s (%s): %d/%d "
               "statistics bit-identical, worst relative %.2g, worst probability %.0f samples: "
               "%s\n",
               W, O, T, (unsigned long long)fresh, (long long)o.samples, h ? "two passes" : "exact",
               name, gpu->device, c.identical, c.compared, c.worst, c.worst_counts,
               ok ? "ok" : "FAILED");
        failures += !ok;
        cap_mc_result_free(gpu);
    }
    cap_mc_result_free(cpu[0]);
    cap_mc_result_free(cpu[1]);
    problem_free(&b);
    return failures;
}

/* ---- timing -------------------------------------------------------------------------------- */

typedef struct {
    double seconds, cpu_seconds, samples_per_s, mean, std;
    int64_t samples;
    char device[256];
} timing;

static int time_engine(const bench_problem *b, cap_mc_backend_kind backend,
                       cap_mc_cuda_variant variant, int64_t samples, int threads, bool greedy,
                       int repeat, timing *out)
{
    cap_mc_options o;
    cap_mc_options_init(&o);
    o.backend = backend;
    o.cuda_variant = variant;
    o.samples = samples;
    o.threads = threads;
    o.seed = 11;
    o.recourse = greedy ? CAP_MC_RECOURSE_GREEDY : CAP_MC_RECOURSE_NONE;
    cap_mc_result *r = NULL;
    char error[256];
    double best = 0.0, best_cpu = 0.0;
    for (int i = 0; i < repeat; i++) { /* best of `repeat`: others share this machine */
        cap_mc_result_free(r);
        r = NULL;
        double t0 = now_seconds(), c0 = cpu_seconds();
        int status = cap_mc_run(&b->p, &o, &r, error, sizeof error);
        double t1 = now_seconds(), c1 = cpu_seconds();
        if (status != CAP_MC_OK) {
            fprintf(stderr, "bench_mc: %s\n", error);
            return status;
        }
        if (i == 0 || t1 - t0 < best)
            best = t1 - t0, best_cpu = c1 - c0;
    }
    out->seconds = best;
    out->cpu_seconds = best_cpu;
    out->samples = samples;
    out->samples_per_s = (double)samples / out->seconds;
    out->mean = r->scales[0].cost.mean;
    out->std = r->scales[0].cost.std;
    snprintf(out->device, sizeof out->device, "%s", r->device);
    cap_mc_result_free(r);
    return CAP_MC_OK;
}

/* Runs the NumPy reference on the problem; fills *out from its "key=value" output line. */
static int run_numpy(const char *python, const char *script, const char *json, int64_t samples,
                     int repeat, timing *out)
{
    char command[16384];
    int length = snprintf(command, sizeof command, "'%s' '%s' '%s' %lld %d", python, script, json,
                          (long long)samples, repeat);
    if (length < 0 || (size_t)length >= sizeof command)
        return -1;
    FILE *pipe = popen(command, "r");
    if (!pipe)
        return -1;
    char line[1024];
    bool found = false;
    while (fgets(line, sizeof line, pipe)) {
        double rate, mean, stdev, seconds, cpu;
        if (sscanf(line, "samples_per_s=%lf mean_cost=%lf std_cost=%lf seconds=%lf cpu_seconds=%lf",
                   &rate, &mean, &stdev, &seconds, &cpu) == 5) {
            out->samples_per_s = rate, out->mean = mean, out->std = stdev;
            out->seconds = seconds, out->cpu_seconds = cpu, out->samples = samples;
            found = true;
        }
    }
    int rc = pclose(pipe);
    return found && rc == 0 ? 0 : -1;
}

static const char *default_script(void)
{
    static char path[4096];
    const char *candidates[] = {"benchmarks/mc_numpy_ref.py", "../benchmarks/mc_numpy_ref.py"};
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++)
        if (access(candidates[i], R_OK) == 0)
            return candidates[i];
    snprintf(path, sizeof path, "%s", __FILE__); /* the source tree's benchmarks/ */
    char *slash = strrchr(path, '/');
    if (slash)
        snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "mc_numpy_ref.py");
    return path;
}

typedef struct {
    const char *name;
    int W, O, P, T;
    int64_t samples, numpy_samples; /* defaults: runs of a few seconds each */
} size_spec;

/* One table row; the ratios are against the NumPy reference when there is one. Per CPU-second
 * counts all threads' CPU time. */
static void print_row(const size_spec *sp, const char *backend, const timing *t, const timing *np)
{
    char ratio[32] = "-", ratio_cpu[32] = "-";
    double per_cpu = t->cpu_seconds > 0.0 ? (double)t->samples / t->cpu_seconds : 0.0;
    if (np) {
        double np_cpu = np->cpu_seconds > 0.0 ? (double)np->samples / np->cpu_seconds : 0.0;
        snprintf(ratio, sizeof ratio, "%.1fx", t->samples_per_s / np->samples_per_s);
        if (np_cpu > 0.0)
            snprintf(ratio_cpu, sizeof ratio_cpu, "%.1fx", per_cpu / np_cpu);
    }
    printf("%-7s %4d %4d %3d %3d %-34.34s %9lld %11.4g %11.4g %9s %9s\n", sp->name, sp->W, sp->O,
           sp->P, sp->T, backend, (long long)t->samples, t->samples_per_s, per_cpu, ratio,
           ratio_cpu);
}

/* Mean costs of two runs on different random numbers agree within 4 standard errors. */
static bool means_agree(const char *what, const timing *a, const timing *b)
{
    double se = sqrt(a->std * a->std / (double)a->samples + b->std * b->std / (double)b->samples);
    bool ok = fabs(a->mean - b->mean) <= 4.0 * se;
    printf("  mean cost %.8g (engine cpu) vs %.8g (%s): %s within 4 se (%.3g)\n", a->mean, b->mean,
           what, ok ? "agree" : "MISMATCH, not", 4.0 * se);
    return ok;
}

/* Seconds cuRAND alone takes to generate the variates one sample consumes. */
static double curand_seconds_per_sample(const size_spec *sp, const cap_mc_rng_rates *r)
{
    double normals = (double)sp->W * (sp->T - 1), words = (double)(sp->P + sp->O) * sp->T;
    return normals / r->curand_normal_per_s + words / r->curand_word_per_s;
}

int main(int argc, char **argv)
{
    int64_t samples = 0, gpu_samples = 0, numpy_samples = 0, rng_count = 1 << 26;
    int threads = 0, repeat = 3;
    bool greedy = true, numpy = true, rng_only = false, cuda = true, check = true;
    const char *sizes = "small,medium,large", *python = "/usr/bin/python3";
    const char *script = default_script();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--samples") && v)
            samples = atoll(v), i++;
        else if (!strcmp(a, "--gpu-samples") && v)
            gpu_samples = atoll(v), i++;
        else if (!strcmp(a, "--numpy-samples") && v)
            numpy_samples = atoll(v), i++;
        else if (!strcmp(a, "--threads") && v)
            threads = atoi(v), i++;
        else if (!strcmp(a, "--repeat") && v)
            repeat = atoi(v) > 0 ? atoi(v) : 1, i++;
        else if (!strcmp(a, "--sizes") && v)
            sizes = v, i++;
        else if (!strcmp(a, "--variants") && v)
            variant_filter = v, i++;
        else if (!strcmp(a, "--recourse") && v)
            greedy = !strcmp(v, "greedy"), i++;
        else if (!strcmp(a, "--python") && v)
            python = v, i++;
        else if (!strcmp(a, "--script") && v)
            script = v, i++;
        else if (!strcmp(a, "--rng-count") && v)
            rng_count = atoll(v), i++;
        else if (!strcmp(a, "--no-numpy"))
            numpy = false;
        else if (!strcmp(a, "--no-cuda"))
            cuda = false;
        else if (!strcmp(a, "--rng-only"))
            rng_only = true;
        else if (!strcmp(a, "--no-check")) /* profiling: the timed runs' kernels only */
            check = false;
        else {
            fprintf(stderr,
                    "usage: %s [--samples N] [--gpu-samples N] [--numpy-samples N] "
                    "[--threads N] [--repeat R] [--sizes small,medium,large] "
                    "[--variants fused,fused-shared,fused-block,fused-chunk,gemm] "
                    "[--recourse none|greedy] [--python PATH] [--script PATH] [--no-numpy] "
                    "[--no-cuda] [--no-check] [--rng-only] [--rng-count N]\n",
                    argv[0]);
            return 2;
        }
    }
    int devices = cuda ? cap_mc_cuda_device_count() : 0;
    printf("capplan bench_mc: cpu %d threads (%s), cuda %s, %d device(s)%s\n",
           threads > 0 ? threads : cap_mc_cpu_threads(), cap_mc_cpu_simd(),
           cap_mc_cuda_compiled() ? "built" : "not built", devices, cuda ? "" : " (--no-cuda)");
    cap_mc_rng_rates rng = {0};
    if (devices > 0) {
        char error[256];
        if (cap_mc_cuda_time_rng(rng_count, &rng, error, sizeof error) == CAP_MC_OK)
            printf("rng (%lld variates, median of 5): cuRAND Philox double normals %.3g/s, "
                   "32-bit words %.3g/s; engine Philox+Box-Muller normals %.3g/s (%.2f of "
                   "cuRAND)\n",
                   (long long)rng_count, rng.curand_normal_per_s, rng.curand_word_per_s,
                   rng.engine_normal_per_s, rng.engine_normal_per_s / rng.curand_normal_per_s);
        else {
            printf("rng: %s\n", error);
            return 1;
        }
    } else {
        printf("rng: no CUDA device, cuRAND timing skipped\n");
    }
    if (rng_only)
        return 0;
    if (check_closed_form(threads) != 0)
        return 1;

    const size_spec specs[] = {{"small", 4, 12, 3, 4, 2000000, 200000},
                               {"medium", 8, 40, 4, 8, 1000000, 50000},
                               {"large", 24, 120, 6, 12, 200000, 5000}};
    int failures = 0;
    if (devices > 0 && check) {
        uint64_t fresh = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
        for (size_t i = 0; i < sizeof specs / sizeof *specs; i++)
            if (strstr(sizes, specs[i].name))
                failures += check_cuda_matches_cpu(specs[i].W, specs[i].O, specs[i].P, specs[i].T,
                                                   threads, greedy, fresh + i);
        if (failures) {
            printf("check: CUDA does not match the CPU; nothing timed\n");
            return 1;
        }
    }
    printf("\n%-7s %4s %4s %3s %3s %-34s %9s %11s %11s %9s %9s\n", "size", "W", "O", "P", "T",
           "backend", "samples", "samples/s", "per cpu-s", "vs numpy", "(cpu-s)");
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        const size_spec *sp = &specs[i];
        if (!strstr(sizes, sp->name))
            continue;
        bench_problem b;
        problem_generate(&b, sp->W, sp->O, sp->P, sp->T, 1000 + i);
        int64_t n = samples > 0 ? samples : sp->samples;
        int64_t np_samples = numpy_samples > 0 ? numpy_samples : sp->numpy_samples;
        timing np = {0}, cpu = {0};
        bool have_np = false;
        if (numpy) {
            char json[] = "/tmp/capplan_bench_mc_XXXXXX";
            int fd = mkstemp(json);
            if (fd >= 0) {
                close(fd);
                if (problem_write_json(&b, json, greedy, 5) == 0 &&
                    run_numpy(python, script, json, np_samples, repeat, &np) == 0)
                    have_np = true;
                else
                    fprintf(stderr, "bench_mc: NumPy reference failed (%s %s)\n", python, script);
                unlink(json);
            }
        }
        if (time_engine(&b, CAP_MC_BACKEND_CPU, CAP_MC_CUDA_FUSED, n, threads, greedy, repeat,
                        &cpu) != CAP_MC_OK) {
            problem_free(&b);
            return 1;
        }
        if (have_np)
            print_row(sp, "numpy reference", &np, &np);
        print_row(sp, cpu.device, &cpu, have_np ? &np : NULL);
        if (have_np)
            failures += !means_agree("numpy", &cpu, &np);
        for (int v = 0; devices > 0 && v < CUDA_VARIANTS; v++) {
            timing gpu;
            if (!variant_wanted(v))
                continue;
            int64_t gn = gpu_samples > 0 ? gpu_samples : n * 50;
            if (time_engine(&b, CAP_MC_BACKEND_CUDA, cuda_variants[v].variant, gn, threads, greedy,
                            repeat, &gpu) != CAP_MC_OK) {
                failures++;
                continue;
            }
            print_row(sp, gpu.device, &gpu, have_np ? &np : NULL);
            double curand_rate = 1.0 / curand_seconds_per_sample(sp, &rng);
            printf("  %s: %.1fx the cpu; cuRAND alone would generate this run's variates at "
                   "%.3g samples/s: %.0f%% of it\n",
                   cuda_variants[v].name, gpu.samples_per_s / cpu.samples_per_s, curand_rate,
                   100.0 * gpu.samples_per_s / curand_rate);
            failures += !means_agree("cuda", &cpu, &gpu);
        }
        problem_free(&b);
    }
    return failures ? 1 : 0;
}
