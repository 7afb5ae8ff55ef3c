/* mc.h: the Monte Carlo engine's one interface (SPEC §2).
 *
 * The engine takes a flat problem (plain arrays built by the caller) and never sees
 * GLPK or YAML. Two backends implement it: OpenMP on the CPU (the fallback and the
 * oracle) and CUDA. Every variate is a pure function of (seed, sample, period, stream,
 * index) through Philox4x32-10, and statistics are reduced per fixed block of samples in
 * block order, so the statistics are bit-for-bit the same for any thread count and chunk
 * size; CPU and CUDA agree within the tolerance of docs/monte-carlo.md.
 *
 * Layouts (W workloads, O offerings, P providers, T periods, S scales):
 *   demand[w*T+t], thr[w*O+o], plan[(t*W+w)*O+o], price[o*T+t], capacity[o*T+t],
 *   chol[i*W+j] (lower triangular; the upper part is not read).
 */
#ifndef CAP_MC_H
#define CAP_MC_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { CAP_MC_RECOURSE_NONE = 0, CAP_MC_RECOURSE_GREEDY } cap_mc_recourse;
typedef enum {
    CAP_MC_BACKEND_AUTO = 0,
    CAP_MC_BACKEND_CPU,
    CAP_MC_BACKEND_CUDA
} cap_mc_backend_kind;
/* CUDA formulations (docs/monte-carlo.md): one fused kernel per chunk, each thread one
 * sample, or cuBLAS GEMMs for the shock correlation and the delivered H100e with small
 * kernels between. The fused kernel keeps a sample's workspace in shared memory, in a
 * per-block slice of device memory, or in chunk-wide arrays; CAP_MC_CUDA_FUSED (the
 * default) picks per problem, the others force one (benchmarks compare them). Every
 * variant gives the same statistics. */
typedef enum {
    CAP_MC_CUDA_FUSED = 0,
    CAP_MC_CUDA_GEMM,
    CAP_MC_CUDA_FUSED_SHARED, /* falls back to FUSED_BLOCK when a warp's workspace won't fit */
    CAP_MC_CUDA_FUSED_BLOCK,
    CAP_MC_CUDA_FUSED_CHUNK,
    CAP_MC_CUDA_VARIANTS
} cap_mc_cuda_variant;

/* Status codes match the program's exit codes. */
enum { CAP_MC_OK = 0, CAP_MC_ERR_RUNTIME = 1, CAP_MC_ERR_INPUT = 2, CAP_MC_ERR_BACKEND = 4 };

/* Arrays marked "optional" may be NULL: the default is given. */
typedef struct {
    int workload_count, offering_count, provider_count, period_count;
    const double *hours;              /* [T] */
    const double *demand;             /* [W*T] H100e */
    const double *sigma;              /* [W] per-period log-volatility; optional, 0 */
    const double *chol;               /* [W*W] Cholesky factor of the correlation matrix;
                                         optional, identity */
    const double *penalty;            /* [W] USD per unmet H100e-hour; optional, 0 */
    const unsigned char *has_penalty; /* [W] 0 = hard demand: shortfall reported, not paid;
                                         optional, all 1 */
    const double *availability;       /* [O] usable fraction when up; optional, 1 */
    const double *offering_outage;    /* [O] P(offering down) per sample and period; opt. 0 */
    const int *offering_provider;     /* [O] in [0, P); optional when P = 0 */
    const double *provider_outage;    /* [P] P(provider down) per sample and period; opt. 0 */
    const double *price;              /* [O*T] USD per accelerator-hour; needed by greedy */
    const double *capacity;           /* [O*T] accelerators; needed by greedy */
    const unsigned char *recourse_ok; /* [O] 1 for on_demand and spot offerings; opt. 0 */
    const double *thr;                /* [W*O] H100e per accelerator; 0 = may not run */
    const double *plan;               /* [T*W*O] accelerators */
    double plan_cost;                 /* capacity paid by the plan + unused commitment, USD */
} cap_mc_problem;

typedef void (*cap_mc_progress_fn)(void *user, double fraction_done);

typedef struct {
    int64_t samples; /* default 100000 */
    uint64_t seed;   /* default 1 */
    cap_mc_recourse recourse;
    cap_mc_backend_kind backend;
    cap_mc_cuda_variant cuda_variant; /* default CAP_MC_CUDA_FUSED */
    int device;                       /* CUDA device index, default 0 */
    const double *scales;             /* demand scales, common random numbers; NULL = {1.0} */
    int scale_count;
    int threads;        /* OpenMP threads, 0 = runtime default */
    int64_t chunk;      /* samples per chunk, 0 = backend default; rounded up to a multiple of
                           4096. Changes memory use only, never the statistics. */
    int histogram_bins; /* cost histogram bins, default 50 */
    /* Host memory for per-sample values kept for exact quantiles (default 1 GiB). Costs
     * (8 bytes per sample and scale) are kept first, then unmet hours and shortfalls
     * (8 (W + W T) bytes per sample and scale); what does not fit is estimated from a fine
     * histogram in a second pass over the same samples (quantile_error says how close). */
    int64_t exact_quantile_bytes;
    cap_mc_progress_fn progress;
    void *progress_user;
    volatile int *cancel; /* when non-NULL and set, the run stops with CAP_MC_ERR_RUNTIME */
} cap_mc_options;

void cap_mc_options_init(cap_mc_options *options);

/* Quantiles are order statistics: the q-quantile of N samples is the ceil(qN)-th smallest.
 * std is the sample standard deviation (N - 1). */
typedef struct {
    double mean, std, p5, p50, p95, p99, cvar95, min, max;
    bool quantiles_exact;  /* false: from a fine histogram, error below quantile_error */
    double quantile_error; /* absolute bound on the quantile and cvar95 error, USD */
} cap_mc_cost_stats;

typedef struct {
    double p_shortfall;                /* P(falls short in any period) */
    double expected_unmet_h100e_hours; /* E[sum_t shortfall*hours] */
    double p95_unmet_h100e_hours;
    double service_level;              /* mean over periods of E[min(1, delivered/demanded)] */
    bool quantiles_exact;              /* false: p95s from histograms, errors below */
    double unmet_quantile_error;       /* bound on p95_unmet_h100e_hours' error */
    double shortfall_quantile_error;   /* bound on period_p95_shortfall's error (all t) */
    double *period_p_shortfall;        /* [T] */
    double *period_expected_shortfall; /* [T] H100e */
    double *period_p95_shortfall;      /* [T] H100e */
    double *period_service_level;      /* [T] */
} cap_mc_workload_stats;

typedef struct {
    double scale;
    cap_mc_cost_stats cost;
    cap_mc_workload_stats *workloads; /* [W] */
    int histogram_bins;
    double histogram_lo, histogram_hi; /* bin i covers [lo + i*w, lo + (i+1)*w), the last
                                          bin is closed; lo = min, hi = max of the costs */
    int64_t *histogram;                /* [histogram_bins] */
} cap_mc_scale_result;

typedef struct {
    int64_t samples;
    uint64_t seed;
    char backend[16]; /* "cpu" or "cuda" (mc.json "backend") */
    char device[256]; /* e.g. "NVIDIA H100 80GB HBM3 (fused)" or "OpenMP, 2 threads, avx512" */
    int threads;      /* OpenMP threads (cpu) */
    int64_t chunk;    /* samples per chunk used */
    int passes;       /* 1, or 2 when some quantiles came from histograms */
    double seconds;
    int scale_count, workload_count, period_count;
    cap_mc_scale_result *scales; /* [scale_count] */
} cap_mc_result;

/* Runs the simulation. Returns CAP_MC_OK, CAP_MC_ERR_INPUT for an inconsistent problem or
 * options, CAP_MC_ERR_BACKEND when the requested backend is unavailable, CAP_MC_ERR_RUNTIME
 * otherwise (memory, device failure, cancel); `error` (may be NULL) receives a one-line
 * message of at most error_size bytes. *out is set only on CAP_MC_OK. */
int cap_mc_run(const cap_mc_problem *problem, const cap_mc_options *options, cap_mc_result **out,
               char *error, int error_size);

void cap_mc_result_free(cap_mc_result *result);

/* Backend discovery for `capplan devices`. Nothing here initialises CUDA in a way that
 * fails without a driver: the count is 0 then. Call it in the process that will use CUDA
 * (not before a fork). */
typedef struct {
    char name[256];
    double memory_gib;
    int major, minor;
    int multiprocessors;
} cap_mc_device;

int cap_mc_cuda_device_count(void); /* 0 when built without CUDA or no GPU/driver */
/* Fills *device; returns CAP_MC_OK or CAP_MC_ERR_BACKEND (no such device). */
int cap_mc_cuda_device_info(int index, cap_mc_device *device);
bool cap_mc_cuda_compiled(void);
/* Loads cuBLAS and cuRAND, which the CUDA backend opens on first use rather than links.
 * Returns CAP_MC_OK, or CAP_MC_ERR_BACKEND with a message (also when built without CUDA).
 * Needs no GPU and no driver. */
int cap_mc_cuda_load_libraries(char *error, int error_size);
int cap_mc_cpu_threads(void);
const char *cap_mc_cpu_simd(void); /* vector path the CPU backend runs: avx512, avx2, sse2 */

/* Lower Cholesky factor of a symmetric positive-(semi)definite matrix (row-major n*n; the
 * lower triangle is read); returns 0 on success, -1 when the matrix is not positive
 * semidefinite or not finite. Columns of a semidefinite matrix's null space are 0. */
int cap_mc_cholesky(int n, const double *matrix, double *lower);

/* Benchmark hook: generates `count` variates into device memory with cuRAND's Philox
 * (double normals; 32-bit words) and with this engine's Philox + Box-Muller (double
 * normals), and reports each rate (median of 5 timed runs after a warm-up) in variates per
 * second. CAP_MC_ERR_BACKEND without CUDA or a device. */
typedef struct {
    double curand_normal_per_s, curand_word_per_s, engine_normal_per_s;
} cap_mc_rng_rates;
int cap_mc_cuda_time_rng(int64_t count, cap_mc_rng_rates *rates, char *error, int error_size);

#ifdef __cplusplus
}
#endif

#endif
