/* mc.c: the Monte Carlo engine (SPEC §2): checks the problem, builds the flat model both
 * backends read, picks the backend, drives the chunks and turns block partials and kept
 * per-sample values into statistics.
 *
 * Invariants: partials of fixed blocks of CAP_MC_BLOCK samples are merged here, in block
 * order, whatever the backend, thread count or chunk; exact quantiles are order statistics
 * of the kept values (selection is deterministic); histogram quantiles come from integer
 * counts. So a run's statistics are a function of (problem, options less threads/chunk).
 * CUDA is touched only when the CUDA backend is asked for or AUTO finds a device.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <omp.h>

#include "mc_internal.h"

#define CAP_MC_FINE_COST_BINS (1 << 20) /* histogram quantiles of the cost */
#define CAP_MC_FINE_WORK_BINS 4096      /* of unmet hours and shortfalls */
#define CAP_MC_MAX_ITEMS      (1 << 22) /* workloads, offerings, providers */

/* ---- small helpers ------------------------------------------------------------------------ */

static int fail(char *error, int error_size, int status, const char *format, ...)
{
    if (error && error_size > 0) {
        va_list args;
        va_start(args, format);
        vsnprintf(error, (size_t)error_size, format, args);
        va_end(args);
    }
    return status;
}

double cap_mc_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

bool cap_mc_profiling(void)
{
    const char *profile = getenv("CAPPLAN_MC_PROFILE");
    return profile && *profile && strcmp(profile, "0") != 0;
}

static void *zalloc(size_t count, size_t size)
{
    return calloc(count ? count : 1, size);
}

/* Room for many per-sample values, touched only as they arrive: 2 MiB aligned and, where
 * the kernel allows, backed by huge pages (first touch of 4 KiB pages dominated otherwise). */
static void *big_alloc(size_t bytes)
{
    const size_t huge = (size_t)2 << 20;
    size_t rounded = (bytes + huge - 1) / huge * huge;
    void *p = aligned_alloc(huge, rounded ? rounded : huge);
#ifdef MADV_HUGEPAGE
    if (p)
        madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
}

void cap_mc_options_init(cap_mc_options *options)
{
    memset(options, 0, sizeof *options);
    options->samples = 100000;
    options->seed = 1;
    options->recourse = CAP_MC_RECOURSE_NONE;
    options->backend = CAP_MC_BACKEND_AUTO;
    options->cuda_variant = CAP_MC_CUDA_FUSED;
    options->histogram_bins = 50;
    options->exact_quantile_bytes = (int64_t)1 << 30;
}

int cap_mc_cpu_threads(void)
{
    return omp_get_max_threads();
}

/* ---- Cholesky ----------------------------------------------------------------------------- */

int cap_mc_cholesky(int n, const double *matrix, double *lower)
{
    if (n <= 0 || !matrix || !lower)
        return -1;
    double scale = 0.0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(matrix[i * n + i]))
            return -1;
        scale = fmax(scale, fabs(matrix[i * n + i]));
    }
    double tol = 1e-12 * (scale > 0.0 ? scale : 1.0);
    for (int i = 0; i < n * n; i++)
        lower[i] = 0.0;
    for (int j = 0; j < n; j++) {
        double pivot = matrix[j * n + j];
        for (int k = 0; k < j; k++)
            pivot -= lower[j * n + k] * lower[j * n + k];
        if (pivot < -tol)
            return -1;
        double diag = pivot > tol ? sqrt(pivot) : 0.0;
        lower[j * n + j] = diag;
        for (int i = j + 1; i < n; i++) {
            double v = matrix[i * n + j];
            if (!isfinite(v))
                return -1;
            for (int k = 0; k < j; k++)
                v -= lower[i * n + k] * lower[j * n + k];
            if (diag > 0.0)
                lower[i * n + j] = v / diag;
            else if (fabs(v) > sqrt(tol))
                return -1; /* zero pivot but a nonzero column: indefinite */
        }
    }
    return 0;
}

/* ---- problem checks ----------------------------------------------------------------------- */

/* Every entry finite and in [lo, hi]; NULL passes when optional. */
static int check_array(const double *a, int64_t n, double lo, double hi, bool optional,
                       const char *name, char *error, int error_size)
{
    if (!a) {
        if (optional || n == 0)
            return CAP_MC_OK;
        return fail(error, error_size, CAP_MC_ERR_INPUT, "mc: %s is missing", name);
    }
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(a[i]) || a[i] < lo || a[i] > hi)
            return fail(error, error_size, CAP_MC_ERR_INPUT,
                        "mc: %s[%lld] = %g is outside [%g, %g]", name, (long long)i, a[i], lo, hi);
    return CAP_MC_OK;
}

static int check_problem(const cap_mc_problem *p, const cap_mc_options *o, char *error,
                         int error_size)
{
    if (!p || !o)
        return fail(error, error_size, CAP_MC_ERR_INPUT, "mc: no problem or options");
    int W = p->workload_count, O = p->offering_count, P = p->provider_count, T = p->period_count;
    if (W < 1 || T < 1 || O < 0 || P < 0 || W > CAP_MC_MAX_ITEMS || O > CAP_MC_MAX_ITEMS ||
        P > CAP_MC_MAX_ITEMS || T > CAP_MC_MAX_ITEMS)
        return fail(error, error_size, CAP_MC_ERR_INPUT,
                    "mc: sizes W=%d O=%d P=%d T=%d: need W, T >= 1, all <= %d", W, O, P, T,
                    CAP_MC_MAX_ITEMS);
    /* every index product (t*W + w, w*O + o, i*W + k, (t*W + w)*O + o) then fits an int */
    if ((double)T * W * (O > 0 ? O : 1) >= 2147483647.0 || (double)W * W >= 2147483647.0)
        return fail(error, error_size, CAP_MC_ERR_INPUT,
                    "mc: problem too large (T*W*O = %g, W*W = %g; each must be < 2^31)",
                    (double)T * W * O, (double)W * W);
    bool greedy = o->recourse == CAP_MC_RECOURSE_GREEDY;
    const double big = DBL_MAX;
    int status;
#define CHECK(a, n, lo, hi, optional)                                                              \
    if ((status = check_array(a, n, lo, hi, optional, #a, error, error_size)) != CAP_MC_OK)        \
    return status
    CHECK(p->hours, T, 0.0, big, false);
    CHECK(p->demand, (int64_t)W * T, 0.0, big, false);
    CHECK(p->sigma, W, 0.0, 10.0, true);
    CHECK(p->chol, (int64_t)W * W, -big, big, true);
    CHECK(p->penalty, W, 0.0, big, true);
    CHECK(p->availability, O, 0.0, 1.0, true);
    CHECK(p->offering_outage, O, 0.0, 1.0, true);
    CHECK(p->provider_outage, P, 0.0, 1.0, true);
    CHECK(p->price, (int64_t)O * T, 0.0, big, !greedy);
    CHECK(p->capacity, (int64_t)O * T, 0.0, big, !greedy);
    CHECK(p->thr, (int64_t)W * O, 0.0, big, false);
    CHECK(p->plan, (int64_t)T * W * O, 0.0, big, false);
#undef CHECK
    /* the delivery coefficients thr * plan (and so thr * plan * availability) stay finite */
    for (int64_t t = 0; t < T; t++)
        for (int64_t w = 0; w < W; w++)
            for (int64_t i = 0; i < O; i++)
                if (!isfinite(p->thr[w * O + i] * p->plan[(t * W + w) * O + i]))
                    return fail(error, error_size, CAP_MC_ERR_INPUT,
                                "mc: thr[%lld] * plan[%lld] overflows", (long long)(w * O + i),
                                (long long)((t * W + w) * O + i));
    if (!isfinite(p->plan_cost))
        return fail(error, error_size, CAP_MC_ERR_INPUT, "mc: plan_cost is not finite");
    if (P > 0 && O > 0 && !p->offering_provider)
        return fail(error, error_size, CAP_MC_ERR_INPUT, "mc: offering_provider is missing");
    for (int i = 0; p->offering_provider && i < O; i++)
        if (p->offering_provider[i] < 0 || p->offering_provider[i] >= P)
            return fail(error, error_size, CAP_MC_ERR_INPUT,
                        "mc: offering_provider[%d] = %d is not a provider index", i,
                        p->offering_provider[i]);
    if (o->samples < 1)
        return fail(error, error_size, CAP_MC_ERR_INPUT, "mc: samples must be >= 1");
    if (o->samples > ((int64_t)1 << 50))
        return fail(error, error_size, CAP_MC_ERR_INPUT, "mc: too many samples");
    if (o->scale_count < 0 || (o->scale_count > 0 && !o->scales) || o->scale_count > 100000)
        return fail(error, error_size, CAP_MC_ERR_INPUT, "mc: bad demand scales");
    if ((status = check_array(o->scales, o->scale_count, 0.0, big, true, "scales", error,
                              error_size)) != CAP_MC_OK)
        return status;
    if (o->threads < 0 || o->chunk < 0 || o->histogram_bins < 1 || o->histogram_bins > 1000000 ||
        o->exact_quantile_bytes < 0 || o->device < 0)
        return fail(error, error_size, CAP_MC_ERR_INPUT,
                    "mc: bad options (threads, chunk, histogram_bins, exact_quantile_bytes, "
                    "device must be >= 0; bins in [1, 1e6])");
    if ((unsigned)o->recourse > CAP_MC_RECOURSE_GREEDY ||
        (unsigned)o->backend > CAP_MC_BACKEND_CUDA ||
        (unsigned)o->cuda_variant >= CAP_MC_CUDA_VARIANTS)
        return fail(error, error_size, CAP_MC_ERR_INPUT, "mc: unknown recourse or backend");
    return CAP_MC_OK;
}

/* ---- the flat model ----------------------------------------------------------------------- */

typedef struct {
    cap_mc_model model;
    double *sigma, *half_var, *chol, *scales, *penalty_hours, *availability, *delivery_coef,
        *delivery_avail, *spare_capacity, *price_hours;
    int64_t *provider_threshold, *offering_threshold, *delivery_start, *recourse_start;
    int *offering_provider, *delivery_offering, *priority, *recourse_offering;
    cap_mc_recourse_entry *recourse_entry;
} model_owner;

static void model_release(model_owner *mo)
{
    free(mo->sigma), free(mo->half_var), free(mo->chol), free(mo->scales);
    free(mo->penalty_hours), free(mo->availability), free(mo->delivery_coef);
    free(mo->delivery_avail);
    free(mo->spare_capacity), free(mo->price_hours), free(mo->provider_threshold);
    free(mo->offering_threshold), free(mo->delivery_start), free(mo->recourse_start);
    free(mo->offering_provider), free(mo->delivery_offering), free(mo->priority);
    free(mo->recourse_offering), free(mo->recourse_entry);
    memset(mo, 0, sizeof *mo);
}

/* Recourse order among workloads: hard demand first (it must be met; index order), then
 * decreasing penalty, ties by index. */
static bool priority_before(const cap_mc_problem *p, int a, int b)
{
    bool hard_a = p->has_penalty && !p->has_penalty[a];
    bool hard_b = p->has_penalty && !p->has_penalty[b];
    if (hard_a != hard_b)
        return hard_a;
    double pa = p->penalty ? p->penalty[a] : 0.0, pb = p->penalty ? p->penalty[b] : 0.0;
    if (!hard_a && pa != pb)
        return pa > pb;
    return a < b;
}

typedef struct {
    double key;
    int index;
} keyed;

static int keyed_compare(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

static int model_build_recourse(model_owner *mo, const cap_mc_problem *p)
{
    int W = p->workload_count, O = p->offering_count, T = p->period_count;
    mo->spare_capacity = zalloc((size_t)O * T, sizeof(double));
    mo->price_hours = zalloc((size_t)O * T, sizeof(double));
    mo->recourse_start = zalloc((size_t)T * W + 1, sizeof(int64_t));
    keyed *order = zalloc((size_t)O, sizeof(keyed));
    if (!mo->spare_capacity || !mo->price_hours || !mo->recourse_start || !order) {
        free(order);
        return -1;
    }
    for (int o = 0; o < O; o++)
        for (int t = 0; t < T; t++) {
            mo->price_hours[o * T + t] = p->price ? p->price[o * T + t] * p->hours[t] : 0.0;
            if (!p->recourse_ok || !p->recourse_ok[o] || !p->capacity)
                continue;
            double planned = 0.0;
            for (int w = 0; w < W; w++)
                planned += p->plan[((size_t)t * W + w) * O + o];
            double spare = p->capacity[o * T + t] - planned;
            mo->spare_capacity[o * T + t] = spare > 0.0 ? spare : 0.0;
        }
    /* Count, then fill: offerings that can serve w in t, by price per delivered H100e. */
    int64_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        total = 0;
        for (int t = 0; t < T; t++)
            for (int w = 0; w < W; w++) {
                int count = 0;
                for (int o = 0; o < O; o++) {
                    double eff = p->thr[(size_t)w * O + o] * mo->availability[o];
                    if (mo->spare_capacity[o * T + t] > 0.0 && eff > 0.0) {
                        order[count].key = (p->price ? p->price[o * T + t] : 0.0) / eff;
                        order[count].index = o;
                        count++;
                    }
                }
                if (pass == 1) {
                    qsort(order, (size_t)count, sizeof *order, keyed_compare);
                    for (int i = 0; i < count; i++) {
                        int o = order[i].index;
                        mo->recourse_offering[total + i] = o;
                        mo->recourse_entry[total + i] = (cap_mc_recourse_entry){
                            p->thr[(size_t)w * O + o] * mo->availability[o],
                            mo->price_hours[o * T + t], mo->spare_capacity[o * T + t]};
                    }
                }
                total += count;
                if (pass == 1)
                    mo->recourse_start[t * W + w + 1] = total;
            }
        if (pass == 0 &&
            (!(mo->recourse_offering = zalloc((size_t)total, sizeof(int))) ||
             !(mo->recourse_entry = zalloc((size_t)total, sizeof(cap_mc_recourse_entry))))) {
            free(order);
            return -1;
        }
    }
    free(order);
    return 0;
}

static int model_build(model_owner *mo, const cap_mc_problem *p, const cap_mc_options *o)
{
    int W = p->workload_count, O = p->offering_count, P = p->provider_count, T = p->period_count;
    int S = o->scale_count > 0 ? o->scale_count : 1;
    cap_mc_model *m = &mo->model;
    memset(mo, 0, sizeof *mo);
    m->workload_count = W, m->offering_count = O, m->provider_count = P;
    m->period_count = T, m->scale_count = S;
    m->normal_rows = (W + 1) / 2 * 2;
    m->provider_rows = (P / 4 + 1) * 4;
    m->offering_rows = (O + 3) / 4 * 4;
    m->greedy = o->recourse == CAP_MC_RECOURSE_GREEDY;
    m->key0 = (uint32_t)o->seed, m->key1 = (uint32_t)(o->seed >> 32);
    m->plan_cost = p->plan_cost;

    mo->sigma = zalloc((size_t)W, sizeof(double));
    mo->half_var = zalloc((size_t)W, sizeof(double));
    mo->chol = zalloc((size_t)W * W, sizeof(double));
    mo->scales = zalloc((size_t)S, sizeof(double));
    mo->penalty_hours = zalloc((size_t)W * T, sizeof(double));
    mo->availability = zalloc((size_t)m->offering_rows, sizeof(double));
    mo->provider_threshold = zalloc((size_t)m->provider_rows, sizeof(int64_t));
    mo->offering_threshold = zalloc((size_t)m->offering_rows, sizeof(int64_t));
    mo->offering_provider = zalloc((size_t)m->offering_rows, sizeof(int));
    mo->priority = zalloc((size_t)W, sizeof(int));
    mo->delivery_start = zalloc((size_t)T * W + 1, sizeof(int64_t));
    if (!mo->sigma || !mo->half_var || !mo->chol || !mo->scales || !mo->penalty_hours ||
        !mo->availability || !mo->provider_threshold || !mo->offering_threshold ||
        !mo->offering_provider || !mo->priority || !mo->delivery_start)
        return -1;

    m->chol_identity = 1;
    for (int w = 0; w < W; w++) {
        mo->sigma[w] = p->sigma ? p->sigma[w] : 0.0;
        mo->half_var[w] = 0.5 * mo->sigma[w] * mo->sigma[w];
        m->any_sigma |= mo->sigma[w] > 0.0;
        for (int k = 0; k <= w; k++) {
            double v = p->chol ? p->chol[w * W + k] : (k == w ? 1.0 : 0.0);
            mo->chol[w * W + k] = v;
            if (v != (k == w ? 1.0 : 0.0))
                m->chol_identity = 0;
        }
        for (int t = 0; t < T; t++) {
            bool pays = !p->has_penalty || p->has_penalty[w];
            mo->penalty_hours[w * T + t] = pays && p->penalty ? p->penalty[w] * p->hours[t] : 0.0;
        }
        mo->priority[w] = w;
    }
    for (int i = 1; i < W; i++) /* insertion sort: stable, W is small */
        for (int j = i; j > 0 && priority_before(p, mo->priority[j], mo->priority[j - 1]); j--) {
            int tmp = mo->priority[j];
            mo->priority[j] = mo->priority[j - 1];
            mo->priority[j - 1] = tmp;
        }
    for (int k = 0; k < S; k++)
        mo->scales[k] = o->scale_count > 0 ? o->scales[k] : 1.0;
    for (int i = 0; i < P; i++)
        mo->provider_threshold[i] =
            cap_mc_outage_threshold(p->provider_outage ? p->provider_outage[i] : 0.0);
    for (int i = 0; i < m->offering_rows; i++) {
        bool real = i < O;
        mo->availability[i] = real ? (p->availability ? p->availability[i] : 1.0) : 0.0;
        mo->offering_threshold[i] =
            real && p->offering_outage ? cap_mc_outage_threshold(p->offering_outage[i]) : 0;
        mo->offering_provider[i] = real && P > 0 ? p->offering_provider[i] : P;
    }

    int64_t nnz = 0;
    for (int pass = 0; pass < 2; pass++) {
        nnz = 0;
        for (int t = 0; t < T; t++)
            for (int w = 0; w < W; w++) {
                for (int i = 0; i < O; i++) {
                    double coef = p->thr[(size_t)w * O + i] * p->plan[((size_t)t * W + w) * O + i];
                    if (coef > 0.0) {
                        if (pass == 1) {
                            mo->delivery_offering[nnz] = i;
                            mo->delivery_coef[nnz] = coef;
                            mo->delivery_avail[nnz] = coef * mo->availability[i];
                        }
                        nnz++;
                    }
                }
                mo->delivery_start[t * W + w + 1] = nnz;
            }
        if (pass == 0) {
            mo->delivery_offering = zalloc((size_t)nnz, sizeof(int));
            mo->delivery_coef = zalloc((size_t)nnz, sizeof(double));
            mo->delivery_avail = zalloc((size_t)nnz, sizeof(double));
            if (!mo->delivery_offering || !mo->delivery_coef || !mo->delivery_avail)
                return -1;
        }
    }
    if (model_build_recourse(mo, p) != 0)
        return -1;

    m->sigma = mo->sigma, m->half_var = mo->half_var, m->chol = mo->chol;
    m->demand = p->demand, m->hours = p->hours, m->scales = mo->scales;
    m->penalty_hours = mo->penalty_hours;
    m->provider_threshold = mo->provider_threshold;
    m->offering_threshold = mo->offering_threshold;
    m->offering_provider = mo->offering_provider;
    m->availability = mo->availability;
    m->delivery_start = mo->delivery_start;
    m->delivery_offering = mo->delivery_offering;
    m->delivery_coef = mo->delivery_coef;
    m->delivery_avail = mo->delivery_avail;
    m->thr = p->thr;
    m->spare_capacity = mo->spare_capacity;
    m->price_hours = mo->price_hours;
    m->priority = mo->priority;
    m->recourse_start = mo->recourse_start;
    m->recourse_offering = mo->recourse_offering;
    m->recourse_entry = mo->recourse_entry;
    return 0;
}

/* ---- backend choice ----------------------------------------------------------------------- */

static int backend_open(const cap_mc_model *model, const cap_mc_options *o, cap_mc_backend **out,
                        char *error, int error_size)
{
    char why[256] = "";
    if (o->backend == CAP_MC_BACKEND_CPU)
        return cap_mc_backend_cpu_create(model, o, out, error, error_size);
    if (o->backend == CAP_MC_BACKEND_CUDA) {
        if (!cap_mc_cuda_compiled())
            return fail(error, error_size, CAP_MC_ERR_BACKEND,
                        "mc: the CUDA backend was requested, but this capplan was built without "
                        "CUDA (configure with -DCAPPLAN_CUDA=ON)");
        int count = cap_mc_cuda_probe(why, sizeof why);
        if (count <= 0)
            return fail(error, error_size, CAP_MC_ERR_BACKEND,
                        "mc: the CUDA backend was requested, but no CUDA device is usable (%s)",
                        why);
        if (o->device >= count)
            return fail(error, error_size, CAP_MC_ERR_BACKEND,
                        "mc: CUDA device %d requested, but only %d found", o->device, count);
        return cap_mc_backend_cuda_create(model, o, out, error, error_size);
    }
    if (cap_mc_cuda_compiled() && cap_mc_cuda_probe(why, sizeof why) > o->device) {
        int status = cap_mc_backend_cuda_create(model, o, out, error, error_size);
        if (status != CAP_MC_ERR_BACKEND)
            return status;
    }
    return cap_mc_backend_cpu_create(model, o, out, error, error_size);
}

/* ---- merging block partials --------------------------------------------------------------- */

/* Adds block partial (bd, bc) into total (td, tc), for every scale. Chan et al.'s update for
 * the cost mean and M2; sums add; maxima and minima. */
static void partial_merge(const cap_mc_model *m, double *td, int64_t *tc, const double *bd,
                          const int64_t *bc)
{
    int64_t PD = cap_mc_partial_doubles(m), PC = cap_mc_partial_counts(m);
    for (int k = 0; k < m->scale_count; k++) {
        double *t = td + k * PD;
        const double *b = bd + k * PD;
        int64_t *tcount = tc + k * PC;
        const int64_t *bcount = bc + k * PC;
        if (bcount[0] == 0)
            continue;
        double n = (double)tcount[0];
        cap_mc_moments_merge(&n, &t[0], &t[1], (double)bcount[0], b[0], b[1]);
        t[2] = b[2] < t[2] ? b[2] : t[2];
        t[3] = b[3] > t[3] ? b[3] : t[3];
        int64_t WT = (int64_t)m->workload_count * m->period_count;
        for (int64_t u = 0; u < WT; u++) { /* sum shortfall, sum service, max shortfall */
            double *tu = t + 4 + 3 * u;
            const double *bu = b + 4 + 3 * u;
            tu[0] += bu[0], tu[1] += bu[1];
            tu[2] = bu[2] > tu[2] ? bu[2] : tu[2];
        }
        for (int w = 0; w < m->workload_count; w++) { /* sum unmet, max unmet */
            double *tw = t + 4 + 3 * WT + 2 * w;
            const double *bw = b + 4 + 3 * WT + 2 * w;
            tw[0] += bw[0];
            tw[1] = bw[1] > tw[1] ? bw[1] : tw[1];
        }
        for (int64_t i = 0; i < PC; i++)
            tcount[i] += bcount[i];
    }
}

/* ---- quantiles: selection on kept values -------------------------------------------------- */

/* Rank (0-based) of the q-quantile, q = num/100: the ceil(qN)-th smallest. */
static int64_t quantile_rank(int64_t n, int num)
{
    int64_t r = (n * num + 99) / 100 - 1;
    return r < 0 ? 0 : r;
}

/* Floyd and Rivest's SELECT: rearranges a[left..right] so that a[k] holds the value of rank
 * k - left, smaller-or-equal values before it and greater-or-equal after. A sample of the
 * range brackets the target first, so about n + min(k, n - k) comparisons are made. No
 * randomness: the value found is the order statistic whatever the pivots. */
static void select_floyd_rivest(double *a, int64_t left, int64_t right, int64_t k)
{
    while (right > left) {
        if (right - left > 600) {
            double n = (double)(right - left + 1), i = (double)(k - left + 1);
            double z = log(n), s = 0.5 * exp(2.0 * z / 3.0);
            double sd = 0.5 * sqrt(z * s * (n - s) / n) * (i < n / 2.0 ? -1.0 : 1.0);
            int64_t new_left = (int64_t)fmax((double)left, (double)k - i * s / n + sd);
            int64_t new_right = (int64_t)fmin((double)right, (double)k + (n - i) * s / n + sd);
            select_floyd_rivest(a, new_left, new_right, k);
        }
        double t = a[k], tmp;
        int64_t i = left, j = right;
#define SWAP(x, y) (tmp = a[x], a[x] = a[y], a[y] = tmp)
        SWAP(left, k);
        if (a[right] > t)
            SWAP(right, left);
        while (i < j) {
            SWAP(i, j);
            i++, j--;
            while (a[i] < t)
                i++;
            while (a[j] > t)
                j--;
        }
        if (a[left] == t) {
            SWAP(left, j);
        } else {
            j++;
            SWAP(j, right);
        }
#undef SWAP
        if (j <= k)
            left = j + 1;
        if (k <= j)
            right = j - 1;
    }
}

/* The value of rank r - lo among a[lo, hi) (hi > r >= lo), partitioning the range around it. */
static double select_rank(double *a, int64_t lo, int64_t hi, int64_t r)
{
    select_floyd_rivest(a, lo, hi - 1, r);
    return a[r];
}

/* Neumaier-compensated sum: nearly independent of the order of the values. */
static double sum_compensated(const double *a, int64_t n)
{
    double sum = 0.0, c = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double t = sum + a[i];
        c += fabs(sum) >= fabs(a[i]) ? (sum - t) + a[i] : (a[i] - t) + sum;
        sum = t;
    }
    return sum + c;
}

/* P95 of n non-negative values given as their `count` nonzero ones: 0 when enough are 0. */
static double p95_sparse(double *nonzero, int64_t count, int64_t n)
{
    int64_t r = quantile_rank(n, 95), zeros = n - count;
    return zeros > r ? 0.0 : select_rank(nonzero, 0, count, r - zeros);
}

/* Exact cost quantiles, CVaR95 and the coarse histogram from the kept costs, in two
 * parallel passes over them instead of a serial selection over all n (1.3 s for 1e8 costs
 * against about 0.1 s). Pass 1 counts the costs in CAP_MC_SELECT_BINS equal bins over
 * [min, max] and fills the coarse histogram; pass 2 copies out, in sample order, the few
 * bins that hold a wanted rank and sums everything above the CVaR tail's bin by runs of
 * CAP_MC_TAIL_BLOCK samples; selection then runs inside those bins only. The steps around
 * the passes (cap_mc_select_*) are shared with the CUDA backend, which makes the passes on
 * the device: both give the same figures, for any thread count. */
#define CAP_MC_SELECT_BLOCK ((int64_t)1 << 20) /* a whole number of tail blocks */

void cap_mc_select_start(cap_mc_select *sel, int64_t n, double lo, double hi, int64_t hbins)
{
    memset(sel, 0, sizeof *sel);
    sel->n = n;
    sel->lo = lo;
    sel->inv_width = hi > lo ? (double)CAP_MC_SELECT_BINS / (hi - lo) : 0.0;
    sel->coarse_inv = hi > lo ? (double)hbins / (hi - lo) : 0.0;
    sel->tail_blocks = (n + CAP_MC_TAIL_BLOCK - 1) / CAP_MC_TAIL_BLOCK;
    int64_t *rank = sel->rank;
    rank[CAP_MC_SEL_P5] = quantile_rank(n, 5);
    rank[CAP_MC_SEL_P50] = quantile_rank(n, 50);
    rank[CAP_MC_SEL_P95] = quantile_rank(n, 95);
    rank[CAP_MC_SEL_P99] = quantile_rank(n, 99);
    rank[CAP_MC_SEL_TAIL] = n - (n * 5 + 99) / 100; /* the worst ceil(5% N) start here */
    if (rank[CAP_MC_SEL_TAIL] < rank[CAP_MC_SEL_P95])
        rank[CAP_MC_SEL_TAIL] = rank[CAP_MC_SEL_P95];
}

void cap_mc_select_locate(cap_mc_select *sel, const int64_t *total)
{
    for (int w = 0; w < CAP_MC_SEL_WANTED; w++) {
        int64_t seen = 0, k = 0;
        while (seen + total[k] <= sel->rank[w])
            seen += total[k++];
        sel->bin[w] = k, sel->below[w] = seen, sel->len[w] = total[k];
    }
}

void cap_mc_select_finish(const cap_mc_select *sel, double *const *values, const cap_mc_ksum *above,
                          cap_mc_cost_stats *c)
{
    double *q[] = {&c->p5, &c->p50, &c->p95, &c->p99};
    for (int w = CAP_MC_SEL_P5; w <= CAP_MC_SEL_P99; w++)
        *q[w] = sel->constant[w]
                    ? sel->value[w]
                    : select_rank(values[w], 0, sel->len[w], sel->rank[w] - sel->below[w]);
    /* CVaR95: everything above the tail's bin, then the top of that bin (the same sum when
     * the bin is known to hold one value: its copies are added one by one) */
    int64_t k = sel->rank[CAP_MC_SEL_TAIL] - sel->below[CAP_MC_SEL_TAIL];
    double *tail_bin = values[CAP_MC_SEL_TAIL];
    bool constant = sel->constant[CAP_MC_SEL_TAIL];
    if (!constant)
        select_rank(tail_bin, 0, sel->len[CAP_MC_SEL_TAIL], k);
    cap_mc_ksum tail = {0.0, 0.0};
    for (int64_t b = 0; b < sel->tail_blocks; b++) {
        cap_mc_ksum_add(&tail, above[b].sum);
        tail.c += above[b].c;
    }
    for (int64_t i = k; i < sel->len[CAP_MC_SEL_TAIL]; i++)
        cap_mc_ksum_add(&tail, constant ? sel->value[CAP_MC_SEL_TAIL] : tail_bin[i]);
    c->cvar95 = (tail.sum + tail.c) / (double)(sel->n - sel->rank[CAP_MC_SEL_TAIL]);
    c->quantiles_exact = true;
    c->quantile_error = 0.0;
}

static int64_t select_block_end(int64_t block, int64_t n)
{
    int64_t end = (block + 1) * CAP_MC_SELECT_BLOCK;
    return end < n ? end : n;
}

int cap_mc_cost_quantiles_binned(const double *a, int64_t n, double lo, double hi, int threads,
                                 cap_mc_scale_result *s)
{
    cap_mc_select sel;
    cap_mc_select_start(&sel, n, lo, hi, s->histogram_bins);
    int64_t blocks = (n + CAP_MC_SELECT_BLOCK - 1) / CAP_MC_SELECT_BLOCK;
    int hbins = s->histogram_bins;
    /* per block: bin counts, coarse counts */
    int32_t *counts = calloc((size_t)(blocks * CAP_MC_SELECT_BINS), sizeof(int32_t));
    int64_t *coarse = calloc((size_t)(blocks * hbins), sizeof(int64_t));
    if (!counts || !coarse) {
        free(counts), free(coarse);
        return -1;
    }
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t b = 0; b < blocks; b++) {
        int64_t end = select_block_end(b, n);
        int32_t *cb = counts + b * CAP_MC_SELECT_BINS;
        int64_t *hb = coarse + b * hbins;
        for (int64_t i = b * CAP_MC_SELECT_BLOCK; i < end; i++) {
            cb[cap_mc_select_bin(a[i], sel.lo, sel.inv_width)]++;
            int64_t k = cap_mc_bin(a[i], lo, sel.coarse_inv, hbins);
            hb[k < 0 ? 0 : k]++;
        }
    }
    for (int64_t b = 0; b < blocks; b++)
        for (int k = 0; k < hbins; k++)
            s->histogram[k] += coarse[b * hbins + k];
    free(coarse);
    int64_t *total = calloc(CAP_MC_SELECT_BINS, sizeof(int64_t));
    if (!total) {
        free(counts);
        return -1;
    }
    for (int64_t b = 0; b < blocks; b++)
        for (int64_t k = 0; k < CAP_MC_SELECT_BINS; k++)
            total[k] += counts[b * CAP_MC_SELECT_BINS + k];
    cap_mc_select_locate(&sel, total);
    free(total);
    /* each wanted bin's values, in index order: block b writes at its prefix offset */
    const int64_t *bin = sel.bin;
    int64_t tail_bin = bin[CAP_MC_SEL_TAIL];
    double *values[CAP_MC_SEL_WANTED] = {NULL};
    int64_t *offset = calloc((size_t)(blocks * CAP_MC_SEL_WANTED), sizeof(int64_t));
    cap_mc_ksum *above = calloc((size_t)sel.tail_blocks, sizeof(cap_mc_ksum));
    bool ok = offset && above;
    for (int w = 0; ok && w < CAP_MC_SEL_WANTED; w++) {
        values[w] = malloc((size_t)(sel.len[w] > 0 ? sel.len[w] : 1) * sizeof(double));
        ok = values[w] != NULL;
        for (int64_t b = 0, at = 0; ok && b < blocks; b++) {
            offset[b * CAP_MC_SEL_WANTED + w] = at;
            at += counts[b * CAP_MC_SELECT_BINS + bin[w]];
        }
    }
    free(counts);
    if (ok) {
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int64_t b = 0; b < blocks; b++) {
            int64_t end = select_block_end(b, n);
            int64_t *at = offset + b * CAP_MC_SEL_WANTED;
            for (int64_t i = b * CAP_MC_SELECT_BLOCK; i < end; i++) {
                int64_t k = cap_mc_select_bin(a[i], sel.lo, sel.inv_width);
                if (k > tail_bin)
                    cap_mc_ksum_add(&above[i / CAP_MC_TAIL_BLOCK], a[i]);
                for (int w = 0; w < CAP_MC_SEL_WANTED; w++)
                    if (k == bin[w])
                        values[w][at[w]++] = a[i];
            }
        }
        cap_mc_select_finish(&sel, values, above, &s->cost);
    }
    for (int w = 0; w < CAP_MC_SEL_WANTED; w++)
        free(values[w]);
    free(offset), free(above);
    return ok ? 0 : -1;
}

/* The serial fallback (and the reference the bins must agree with). */
static void cost_quantiles_exact(double *a, int64_t n, cap_mc_cost_stats *c)
{
    int64_t r5 = quantile_rank(n, 5), r50 = quantile_rank(n, 50), r95 = quantile_rank(n, 95),
            r99 = quantile_rank(n, 99);
    int64_t tail = n - (n * 5 + 99) / 100; /* worst ceil(5% N) start here */
    c->p50 = select_rank(a, 0, n, r50);
    c->p5 = select_rank(a, 0, r50 + 1, r5);
    c->p95 = select_rank(a, r50, n, r95);
    c->p99 = select_rank(a, r95, n, r99);
    if (tail < r95)
        tail = r95;
    select_rank(a, r95, n, tail); /* no-op unless tail is r95 + 1 */
    c->cvar95 = sum_compensated(a + tail, n - tail) / (double)(n - tail);
    c->quantiles_exact = true;
    c->quantile_error = 0.0;
}

/* ---- quantiles: histograms ---------------------------------------------------------------- */

typedef struct {
    const int64_t *counts;
    int64_t bins, at_min;
    double lo, hi, width; /* hi = max value */
} hist_view;

static double bin_mid(const hist_view *h, int64_t b)
{
    double v = h->lo + ((double)b + 0.5) * h->width;
    return v < h->lo ? h->lo : (v > h->hi ? h->hi : v);
}

static double hist_quantile(const hist_view *h, int64_t r)
{
    int64_t seen = h->at_min;
    if (r < seen || h->width <= 0.0)
        return h->lo;
    for (int64_t b = 0; b < h->bins; b++) {
        seen += h->counts[b];
        if (r < seen)
            return bin_mid(h, b);
    }
    return h->hi;
}

static double hist_tail_mean(const hist_view *h, int64_t tail)
{
    double sum = 0.0;
    int64_t need = tail;
    for (int64_t b = h->bins - 1; b >= 0 && need > 0; b--) {
        int64_t take = h->counts[b] < need ? h->counts[b] : need;
        sum += (double)take * bin_mid(h, b);
        need -= take;
    }
    sum += (double)need * h->lo;
    return sum / (double)tail;
}

/* ---- result ------------------------------------------------------------------------------- */

void cap_mc_result_free(cap_mc_result *result)
{
    if (!result)
        return;
    for (int k = 0; result->scales && k < result->scale_count; k++) {
        cap_mc_scale_result *s = &result->scales[k];
        if (s->workloads)
            free(s->workloads[0].period_p_shortfall); /* one block for all of them */
        free(s->workloads);
        free(s->histogram);
    }
    free(result->scales);
    free(result);
}

static cap_mc_result *result_alloc(int S, int W, int T, int bins)
{
    cap_mc_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->scale_count = S, r->workload_count = W, r->period_count = T;
    r->scales = calloc((size_t)S, sizeof *r->scales);
    if (!r->scales) {
        free(r);
        return NULL;
    }
    for (int k = 0; k < S; k++) {
        cap_mc_scale_result *s = &r->scales[k];
        s->workloads = calloc((size_t)W, sizeof *s->workloads);
        s->histogram = calloc((size_t)bins, sizeof(int64_t));
        double *block = calloc((size_t)W * T * 4, sizeof(double));
        if (!s->workloads || !s->histogram || !block) {
            free(block);
            if (s->workloads)
                s->workloads[0].period_p_shortfall = NULL;
            cap_mc_result_free(r);
            return NULL;
        }
        s->histogram_bins = bins;
        for (int w = 0; w < W; w++) {
            double *base = block + (size_t)w * T * 4;
            s->workloads[w].period_p_shortfall = base;
            s->workloads[w].period_expected_shortfall = base + T;
            s->workloads[w].period_p95_shortfall = base + 2 * T;
            s->workloads[w].period_service_level = base + 3 * T;
        }
    }
    return r;
}

/* ---- the run ------------------------------------------------------------------------------ */

typedef struct {
    const cap_mc_problem *problem;
    const cap_mc_options *options;
    const cap_mc_model *model;
    cap_mc_backend *backend;
    int64_t samples;
    int passes, pass;
    double *total_d; /* [S*PD] merged partials */
    int64_t *total_c;
    double *chunk_d; /* [blocks per chunk][S*PD] */
    int64_t *chunk_c;
    bool exact_cost, exact_work;
    bool costs_kept; /* by the backend, which selects their quantiles (cost_quantiles) */
    double *store;   /* [store_rows][samples]: the costs, on the host */
    int64_t store_rows;
    double *sparse_base, **sparse; /* [S*(W + W*T)] rows of nonzero unmet hours, shortfalls */
    int64_t *sparse_count, sparse_rows;
    /* pass 2 */
    cap_mc_hist hist;
    int64_t *hist_row, *hist_bins, *hist_offset;
    double *hist_lo, *hist_inv_width, *hist_hi;
    int64_t fine_cost_row, coarse_cost_row, fine_work_row; /* first hist row of each, or -1 */
} run_state;

static int run_chunks(run_state *rs, cap_mc_job_kind kind, char *error, int error_size)
{
    const cap_mc_model *m = rs->model;
    int64_t PD = cap_mc_partial_doubles(m) * m->scale_count;
    int64_t PC = cap_mc_partial_counts(m) * m->scale_count;
    int64_t chunk = rs->backend->chunk;
    for (int64_t first = 0; first < rs->samples; first += chunk) {
        if (rs->options->cancel && *rs->options->cancel)
            return fail(error, error_size, CAP_MC_ERR_RUNTIME, "mc: cancelled");
        cap_mc_job job;
        memset(&job, 0, sizeof job);
        job.kind = kind;
        job.first_sample = first;
        job.sample_count = rs->samples - first < chunk ? rs->samples - first : chunk;
        job.partial_d = rs->chunk_d, job.partial_c = rs->chunk_c;
        job.store = rs->store, job.store_pitch = rs->samples, job.store_rows = rs->store_rows;
        job.sparse = rs->sparse, job.sparse_count = rs->sparse_count;
        job.sparse_row0 = m->scale_count, job.sparse_rows = rs->sparse_rows;
        job.hist = &rs->hist;
        job.cancel = rs->options->cancel;
        int status = rs->backend->run(rs->backend, &job, error, error_size);
        if (status != CAP_MC_OK)
            return status;
        if (rs->options->cancel && *rs->options->cancel) /* the job may be incomplete */
            return fail(error, error_size, CAP_MC_ERR_RUNTIME, "mc: cancelled");
        if (kind == CAP_MC_JOB_MOMENTS) {
            int64_t blocks = (job.sample_count + CAP_MC_BLOCK - 1) / CAP_MC_BLOCK;
            for (int64_t b = 0; b < blocks; b++)
                partial_merge(m, rs->total_d, rs->total_c, rs->chunk_d + b * PD,
                              rs->chunk_c + b * PC);
        }
        if (rs->options->progress) {
            double done = (double)(first + job.sample_count) / (double)rs->samples;
            rs->options->progress(rs->options->progress_user,
                                  ((double)rs->pass + done) / (double)rs->passes);
        }
    }
    if (kind == CAP_MC_JOB_HISTOGRAM) {
        cap_mc_job flush;
        memset(&flush, 0, sizeof flush);
        flush.kind = CAP_MC_JOB_FLUSH;
        flush.hist = &rs->hist;
        return rs->backend->run(rs->backend, &flush, error, error_size);
    }
    return CAP_MC_OK;
}

/* No nonzero rows kept: the unmet hours and shortfalls come from histograms. */
static void drop_sparse(run_state *rs)
{
    free(rs->sparse_base), free(rs->sparse), free(rs->sparse_count);
    rs->sparse_base = NULL, rs->sparse = NULL, rs->sparse_count = NULL;
    rs->sparse_rows = 0;
}

/* Decides what is kept for exact quantiles: the costs densely, the unmet hours and
 * shortfalls as their nonzero values (room for all is reserved, pages are touched only as
 * values arrive), all within the exact-quantile memory, whichever backend runs. The costs
 * stay where the backend runs when it can keep them and select there; otherwise they come
 * to the host. In two-pass runs the backend is asked to keep what pass 2 bins. Allocation
 * failure just means histograms. */
static void plan_store(run_state *rs)
{
    const cap_mc_model *m = rs->model;
    cap_mc_backend *b = rs->backend;
    double S = m->scale_count, W = m->workload_count, T = m->period_count;
    double n = (double)rs->samples, budget = (double)rs->options->exact_quantile_bytes;
    double cost_bytes = 8.0 * S * n, work_bytes = 8.0 * S * (W + W * T) * n;
    rs->exact_cost = cost_bytes <= budget;
    rs->exact_work = rs->exact_cost && cost_bytes + work_bytes <= budget;
    if (rs->exact_work) {
        rs->sparse_rows = cap_mc_rec_store_rows(m) - m->scale_count;
        rs->sparse_base = big_alloc((size_t)rs->sparse_rows * (size_t)rs->samples * sizeof(double));
        rs->sparse = zalloc((size_t)rs->sparse_rows, sizeof(double *));
        rs->sparse_count = zalloc((size_t)rs->sparse_rows, sizeof(int64_t));
        if (!rs->sparse_base || !rs->sparse || !rs->sparse_count) {
            drop_sparse(rs);
            rs->exact_work = false;
        }
        for (int64_t r = 0; r < rs->sparse_rows; r++)
            rs->sparse[r] = rs->sparse_base + r * rs->samples;
    }
    int64_t costs = m->scale_count, all = cap_mc_rec_store_rows(m);
    int64_t want = rs->exact_cost && rs->exact_work ? costs : all; /* all: two passes */
    if (b->keep && (b->keep(b, rs->samples, want) ||
                    (want > costs && rs->exact_cost && b->keep(b, rs->samples, costs))))
        rs->costs_kept = rs->exact_cost && b->cost_quantiles;
    if (rs->exact_cost && !rs->costs_kept) {
        rs->store_rows = m->scale_count;
        rs->store = big_alloc((size_t)rs->store_rows * (size_t)rs->samples * sizeof(double));
        if (!rs->store) {
            rs->exact_cost = rs->exact_work = false, rs->store_rows = 0;
            drop_sparse(rs);
        }
    }
}

static void add_hist_row(run_state *rs, int64_t row, double lo, double hi, int64_t bins)
{
    int i = rs->hist.row_count++;
    rs->hist_row[i] = row;
    rs->hist_lo[i] = lo;
    rs->hist_hi[i] = hi;
    rs->hist_bins[i] = bins;
    rs->hist_inv_width[i] = hi > lo ? (double)bins / (hi - lo) : 0.0;
    rs->hist_offset[i] = rs->hist.total_bins;
    rs->hist.total_bins += bins;
}

/* Pass 2's rows: ranges come from pass 1 (cost min/max; unmet and shortfall from 0). */
static int plan_histograms(run_state *rs)
{
    const cap_mc_model *m = rs->model;
    int S = m->scale_count, W = m->workload_count, T = m->period_count;
    int64_t PD = cap_mc_partial_doubles(m);
    int64_t rows = (rs->exact_cost ? 0 : 2 * S) + (rs->exact_work ? 0 : (int64_t)S * W * (T + 1));
    rs->hist_row = zalloc((size_t)rows, sizeof(int64_t));
    rs->hist_bins = zalloc((size_t)rows, sizeof(int64_t));
    rs->hist_offset = zalloc((size_t)rows, sizeof(int64_t));
    rs->hist_lo = zalloc((size_t)rows, sizeof(double));
    rs->hist_hi = zalloc((size_t)rows, sizeof(double));
    rs->hist_inv_width = zalloc((size_t)rows, sizeof(double));
    rs->hist.at_min = zalloc((size_t)rows, sizeof(int64_t));
    if (!rs->hist_row || !rs->hist_bins || !rs->hist_offset || !rs->hist_lo || !rs->hist_hi ||
        !rs->hist_inv_width || !rs->hist.at_min)
        return -1;
    rs->fine_cost_row = rs->coarse_cost_row = rs->fine_work_row = -1;
    if (!rs->exact_cost) {
        rs->fine_cost_row = rs->hist.row_count;
        for (int k = 0; k < S; k++)
            add_hist_row(rs, cap_mc_rec_cost(m, k), rs->total_d[k * PD + 2],
                         rs->total_d[k * PD + 3], CAP_MC_FINE_COST_BINS);
        rs->coarse_cost_row = rs->hist.row_count;
        for (int k = 0; k < S; k++)
            add_hist_row(rs, cap_mc_rec_cost(m, k), rs->total_d[k * PD + 2],
                         rs->total_d[k * PD + 3], rs->options->histogram_bins);
    }
    if (!rs->exact_work) {
        rs->fine_work_row = rs->hist.row_count;
        for (int k = 0; k < S; k++)
            for (int w = 0; w < W; w++) {
                const double *d = rs->total_d + k * PD;
                add_hist_row(rs, cap_mc_rec_unmet(m, k, w), 0.0, d[4 + 3 * W * T + 2 * w + 1],
                             CAP_MC_FINE_WORK_BINS);
                for (int t = 0; t < T; t++)
                    add_hist_row(rs, cap_mc_rec_short(m, k, w, t), 0.0, d[4 + 3 * (w * T + t) + 2],
                                 CAP_MC_FINE_WORK_BINS);
            }
    }
    rs->hist.row = rs->hist_row, rs->hist.lo = rs->hist_lo;
    rs->hist.inv_width = rs->hist_inv_width;
    rs->hist.bins = rs->hist_bins, rs->hist.offset = rs->hist_offset;
    rs->hist.counts = zalloc((size_t)rs->hist.total_bins, sizeof(int64_t));
    return rs->hist.counts ? 0 : -1;
}

static hist_view hist_view_of(const run_state *rs, int64_t i)
{
    hist_view h;
    h.counts = rs->hist.counts + rs->hist_offset[i];
    h.bins = rs->hist_bins[i];
    h.at_min = rs->hist.at_min[i];
    h.lo = rs->hist_lo[i];
    h.hi = rs->hist_hi[i];
    h.width = rs->hist_inv_width[i] > 0.0 ? 1.0 / rs->hist_inv_width[i] : 0.0;
    return h;
}

/* Coarse cost histogram from kept costs (same binning as pass 2 would use). */
static void coarse_from_store(const double *costs, int64_t n, cap_mc_scale_result *s)
{
    int64_t bins = s->histogram_bins;
    double lo = s->histogram_lo, hi = s->histogram_hi;
    double inv_width = hi > lo ? (double)bins / (hi - lo) : 0.0;
    for (int64_t i = 0; i < n; i++) {
        int64_t b = cap_mc_bin(costs[i], lo, inv_width, bins);
        s->histogram[b < 0 ? 0 : b]++;
    }
}

void cap_mc_cost_quantiles_host(double *a, int64_t n, double lo, double hi, int threads,
                                cap_mc_scale_result *s)
{
    if (cap_mc_cost_quantiles_binned(a, n, lo, hi, threads, s) != 0) {
        memset(s->histogram, 0, (size_t)s->histogram_bins * sizeof(int64_t));
        coarse_from_store(a, n, s);
        cost_quantiles_exact(a, n, &s->cost);
    }
}

/* Means, probabilities and service levels of scale k (no quantiles). */
static void finish_moments(const run_state *rs, int k, cap_mc_result *r)
{
    const cap_mc_model *m = rs->model;
    int W = m->workload_count, T = m->period_count;
    int64_t n = rs->samples, PD = cap_mc_partial_doubles(m), PC = cap_mc_partial_counts(m);
    const double *d = rs->total_d + k * PD;
    const int64_t *c = rs->total_c + k * PC;
    cap_mc_scale_result *s = &r->scales[k];
    double dn = (double)n;
    s->scale = m->scales[k];
    s->cost.mean = d[0];
    s->cost.std = n > 1 ? sqrt(d[1] / (double)(n - 1)) : 0.0;
    s->cost.min = d[2], s->cost.max = d[3];
    s->histogram_lo = d[2], s->histogram_hi = d[3];
    for (int w = 0; w < W; w++) {
        cap_mc_workload_stats *ws = &s->workloads[w];
        const double *dw = d + 4 + 3 * (int64_t)W * T + 2 * w;
        ws->p_shortfall = (double)c[1 + W * T + w] / dn;
        ws->expected_unmet_h100e_hours = dw[0] / dn;
        ws->quantiles_exact = rs->exact_work;
        double service = 0.0;
        for (int t = 0; t < T; t++) {
            const double *dt = d + 4 + 3 * ((int64_t)w * T + t);
            ws->period_p_shortfall[t] = (double)c[1 + w * T + t] / dn;
            ws->period_expected_shortfall[t] = dt[0] / dn;
            ws->period_service_level[t] = dt[1] / dn;
            service += ws->period_service_level[t];
        }
        ws->service_level = service / T;
    }
}

/* Quantile task i of scale k: 0 = the cost (quantiles, cvar95, coarse histogram); then per
 * workload w, 1 + w (T + 1) = p95 of unmet hours and the next T = p95 shortfall per period.
 * Tasks write disjoint fields, so they run in parallel; each is deterministic. */
static void finish_quantile(const run_state *rs, int k, int64_t i, cap_mc_result *r)
{
    const cap_mc_model *m = rs->model;
    int W = m->workload_count, T = m->period_count;
    int64_t n = rs->samples;
    cap_mc_scale_result *s = &r->scales[k];
    if (i == 0 && rs->exact_cost) {
        return; /* cap_mc_cost_quantiles_binned, before the tasks */
    } else if (i == 0) {
        hist_view fine = hist_view_of(rs, rs->fine_cost_row + k);
        hist_view coarse = hist_view_of(rs, rs->coarse_cost_row + k);
        s->cost.p5 = hist_quantile(&fine, quantile_rank(n, 5));
        s->cost.p50 = hist_quantile(&fine, quantile_rank(n, 50));
        s->cost.p95 = hist_quantile(&fine, quantile_rank(n, 95));
        s->cost.p99 = hist_quantile(&fine, quantile_rank(n, 99));
        s->cost.cvar95 = hist_tail_mean(&fine, (n * 5 + 99) / 100);
        s->cost.quantiles_exact = false;
        s->cost.quantile_error = 0.5 * fine.width;
        for (int64_t b = 0; b < coarse.bins; b++)
            s->histogram[b] = coarse.counts[b];
        s->histogram[0] += coarse.at_min;
    } else {
        int w = (int)((i - 1) / (T + 1)), t = (int)((i - 1) % (T + 1)) - 1; /* t = -1: unmet */
        cap_mc_workload_stats *ws = &s->workloads[w];
        double *out = t < 0 ? &ws->p95_unmet_h100e_hours : &ws->period_p95_shortfall[t];
        if (rs->exact_work) {
            int64_t row =
                (t < 0 ? cap_mc_rec_unmet(m, k, w) : cap_mc_rec_short(m, k, w, t)) - m->scale_count;
            *out = p95_sparse(rs->sparse[row], rs->sparse_count[row], n);
        } else {
            hist_view h =
                hist_view_of(rs, rs->fine_work_row + ((int64_t)k * W + w) * (T + 1) + 1 + t);
            *out = hist_quantile(&h, quantile_rank(n, 95));
            /* errors: the widest bin of the workload's rows (written by the unmet task) */
            if (t < 0) {
                ws->unmet_quantile_error = 0.5 * h.width;
                for (int u = 0; u < T; u++) {
                    hist_view hu = hist_view_of(rs, rs->fine_work_row +
                                                        ((int64_t)k * W + w) * (T + 1) + 1 + u);
                    if (0.5 * hu.width > ws->shortfall_quantile_error)
                        ws->shortfall_quantile_error = 0.5 * hu.width;
                }
            }
        }
    }
}

static void run_release(run_state *rs)
{
    if (rs->backend) /* first: a backend may have pinned the store (mc_cuda.cu) */
        rs->backend->free(rs->backend);
    free(rs->total_d), free(rs->total_c), free(rs->chunk_d), free(rs->chunk_c);
    free(rs->store), free(rs->sparse_base), free(rs->sparse), free(rs->sparse_count);
    free(rs->hist_row), free(rs->hist_bins), free(rs->hist_offset);
    free(rs->hist_lo), free(rs->hist_hi), free(rs->hist_inv_width);
    free(rs->hist.at_min), free(rs->hist.counts);
}

int cap_mc_run(const cap_mc_problem *problem, const cap_mc_options *options, cap_mc_result **out,
               char *error, int error_size)
{
    if (error && error_size > 0)
        error[0] = '\0';
    if (!out)
        return fail(error, error_size, CAP_MC_ERR_INPUT, "mc: no result pointer");
    *out = NULL;
    int status = check_problem(problem, options, error, error_size);
    if (status != CAP_MC_OK)
        return status;
    double started = cap_mc_seconds();
    model_owner mo;
    if (model_build(&mo, problem, options) != 0) {
        model_release(&mo);
        return fail(error, error_size, CAP_MC_ERR_RUNTIME, "mc: out of memory building the model");
    }
    const cap_mc_model *m = &mo.model;
    int S = m->scale_count, W = m->workload_count, T = m->period_count;

    run_state rs;
    memset(&rs, 0, sizeof rs);
    rs.problem = problem, rs.options = options, rs.model = m, rs.samples = options->samples;
    cap_mc_result *result = NULL;
    status = backend_open(m, options, &rs.backend, error, error_size);
    if (status != CAP_MC_OK)
        goto done;
    int64_t PD = cap_mc_partial_doubles(m) * S, PC = cap_mc_partial_counts(m) * S;
    int64_t blocks = (rs.samples + CAP_MC_BLOCK - 1) / CAP_MC_BLOCK;
    if (blocks > rs.backend->chunk / CAP_MC_BLOCK)
        blocks = rs.backend->chunk / CAP_MC_BLOCK;
    rs.total_d = zalloc((size_t)PD, sizeof(double));
    rs.total_c = zalloc((size_t)PC, sizeof(int64_t));
    rs.chunk_d = zalloc((size_t)(blocks * PD), sizeof(double));
    rs.chunk_c = zalloc((size_t)(blocks * PC), sizeof(int64_t));
    result = result_alloc(S, W, T, options->histogram_bins);
    if (!rs.total_d || !rs.total_c || !rs.chunk_d || !rs.chunk_c || !result) {
        status = fail(error, error_size, CAP_MC_ERR_RUNTIME, "mc: out of memory");
        goto done;
    }
    cap_mc_partial_start(m, rs.total_d, rs.total_c);
    plan_store(&rs);
    rs.passes = rs.exact_cost && rs.exact_work ? 1 : 2;

    double t_open = cap_mc_seconds(), t_pass1 = 0.0, t_pass2 = 0.0;
    rs.pass = 0;
    status = run_chunks(&rs, CAP_MC_JOB_MOMENTS, error, error_size);
    t_pass1 = cap_mc_seconds();
    if (status == CAP_MC_OK && rs.passes == 2) {
        rs.pass = 1;
        if (plan_histograms(&rs) != 0)
            status = fail(error, error_size, CAP_MC_ERR_RUNTIME, "mc: out of memory (histograms)");
        else
            status = run_chunks(&rs, CAP_MC_JOB_HISTOGRAM, error, error_size);
    }
    t_pass2 = cap_mc_seconds();
    if (status != CAP_MC_OK)
        goto done;

    int threads = options->threads > 0 ? options->threads : omp_get_max_threads();
    int64_t tasks = 1 + (int64_t)W * (T + 1);
    for (int k = 0; k < S; k++) {
        finish_moments(&rs, k, result);
        if (!rs.exact_cost)
            continue;
        cap_mc_scale_result *sk = &result->scales[k];
        if (rs.costs_kept) {
            status = rs.backend->cost_quantiles(rs.backend, k, sk->cost.min, sk->cost.max, threads,
                                                sk, error, error_size);
            if (status != CAP_MC_OK)
                goto done;
        } else {
            double *costs = rs.store + (size_t)cap_mc_rec_cost(m, k) * (size_t)rs.samples;
            cap_mc_cost_quantiles_host(costs, rs.samples, sk->cost.min, sk->cost.max, threads, sk);
        }
    }
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int64_t i = 0; i < S * tasks; i++)
        finish_quantile(&rs, (int)(i / tasks), i % tasks, result);
    if (cap_mc_profiling())
        fprintf(stderr,
                "mc profile: %lld samples, %d pass(es): set-up %.3f s, pass 1 %.3f s, pass 2 "
                "%.3f s, quantiles %.3f s\n",
                (long long)rs.samples, rs.passes, t_open - started, t_pass1 - t_open,
                t_pass2 - t_pass1, cap_mc_seconds() - t_pass2);
    result->samples = rs.samples;
    result->seed = options->seed;
    snprintf(result->backend, sizeof result->backend, "%s", rs.backend->name);
    snprintf(result->device, sizeof result->device, "%s", rs.backend->device);
    result->threads = rs.backend->threads;
    result->chunk = rs.backend->chunk;
    result->passes = rs.passes;
    result->seconds = cap_mc_seconds() - started;

done:
    run_release(&rs);
    model_release(&mo);
    if (status != CAP_MC_OK) {
        cap_mc_result_free(result);
        return status;
    }
    *out = result;
    return CAP_MC_OK;
}
