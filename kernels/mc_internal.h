/* mc_internal.h: what the engine (mc.c) and its backends (mc_cpu.c, mc_cuda.cu) share.
 *
 * A backend is a small struct of function pointers, ggml style: a name, `run` that
 * simulates one chunk of samples (a job) and `free`, and optionally `keep` and
 * `cost_quantiles` (rows kept where the backend runs, costs selected there). The engine owns
 * everything else: the chunk loop, progress and cancel, merging block partials in block
 * order, the other quantiles. A job always starts on a block boundary, so the blocks (and
 * the statistics) are the same for any chunk size. Backends are created only after the engine
 * decided which one runs, so CUDA is never touched by a CPU run.
 */
#ifndef CAP_MC_INTERNAL_H
#define CAP_MC_INTERNAL_H

#include "mc.h"
#include "mc_sample.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Histogram rows filled in pass 2: record row `row[i]` binned over [lo[i], ...) with
 * bins[i] bins at offset[i] of counts; values <= lo[i] go to at_min[i]. */
typedef struct {
    int row_count;
    const int64_t *row;
    const double *lo, *inv_width;
    const int64_t *bins, *offset;
    int64_t total_bins;
    int64_t *counts; /* [total_bins], host: backends add into it */
    int64_t *at_min; /* [row_count] */
} cap_mc_hist;

typedef enum {
    CAP_MC_JOB_MOMENTS = 1, /* pass 1: block partials, and per-sample rows into store */
    CAP_MC_JOB_HISTOGRAM,   /* pass 2: add the chunk's values into hist */
    CAP_MC_JOB_FLUSH        /* pass 2 is over: make sure hist->counts holds everything */
} cap_mc_job_kind;

typedef struct {
    cap_mc_job_kind kind;
    int64_t first_sample; /* multiple of CAP_MC_BLOCK */
    int64_t sample_count; /* <= backend chunk */
    double *partial_d;    /* MOMENTS: [blocks][S * PD], block b of this job at b */
    int64_t *partial_c;   /* MOMENTS: [blocks][S * PC] */
    double *store;        /* MOMENTS, optional: row r of sample s at store[r * pitch + s]; the
                             same array in every job of a run, which the backend may pin
                             until it is freed */
    int64_t store_pitch;
    int64_t store_rows; /* record rows 0 .. store_rows-1 are kept (the costs) */
    /* MOMENTS, optional: the nonzero values of record rows sparse_row0 + r (unmet hours and
     * shortfalls, mostly 0) are appended, in any order, at sparse[r][sparse_count[r]++]:
     * quantiles need the multiset only, and zeros are N - count. */
    double **sparse;
    int64_t *sparse_count;
    int64_t sparse_row0, sparse_rows;
    const cap_mc_hist *hist; /* HISTOGRAM and FLUSH */
    /* Optional: once *cancel is set a backend may skip the rest of the job (the CPU one
     * checks before each block, so Ctrl-C stops within a block, not a whole chunk); the
     * caller then discards the job's results. */
    volatile int *cancel;
} cap_mc_job;

typedef struct cap_mc_backend cap_mc_backend;
struct cap_mc_backend {
    const char *name; /* "cpu" or "cuda" */
    char device[256]; /* what runs it, for the result */
    int threads;
    int64_t chunk; /* samples per job, multiple of CAP_MC_BLOCK */
    /* Runs one job. Returns CAP_MC_OK or CAP_MC_ERR_RUNTIME with a message in error. */
    int (*run)(cap_mc_backend *backend, const cap_mc_job *job, char *error, int error_size);
    void (*free)(cap_mc_backend *backend);
    /* Optional (NULL: not offered). Called once, before the first job: keep record rows
     * 0 .. rows-1 of all `samples` samples where the backend runs. Pass 2 then bins those
     * rows instead of simulating again, and cost_quantiles reads the costs. Returns true
     * when they are kept. */
    bool (*keep)(cap_mc_backend *backend, int64_t samples, int64_t rows);
    /* Optional, once pass 1 is over and keep succeeded: the exact cost quantiles of scale
     * k, CVaR95 and the coarse histogram (added into s->histogram), the same figures as
     * cap_mc_cost_quantiles_binned on the same costs; lo and hi are their min and max.
     * Returns CAP_MC_OK or CAP_MC_ERR_RUNTIME with a message. */
    int (*cost_quantiles)(cap_mc_backend *backend, int k, double lo, double hi, int threads,
                          cap_mc_scale_result *s, char *error, int error_size);
    void *state;
};

/* Backend constructors: CAP_MC_OK, CAP_MC_ERR_BACKEND (unavailable) or CAP_MC_ERR_RUNTIME.
 * `model` and the arrays it points to outlive the backend. */
int cap_mc_backend_cpu_create(const cap_mc_model *model, const cap_mc_options *options,
                              cap_mc_backend **out, char *error, int error_size);
int cap_mc_backend_cuda_create(const cap_mc_model *model, const cap_mc_options *options,
                               cap_mc_backend **out, char *error, int error_size);

/* Exact cost quantiles (p5, p50, p95, p99: the ceil(qN)-th smallest), CVaR95 (mean of the
 * ceil(5% N) largest) and the coarse histogram (s->histogram_bins bins over [lo, hi], added
 * into s->histogram) of a[0..n), n >= 1, whose minimum and maximum are lo and hi. Parallel
 * on `threads` threads, the same figures for any thread count; a is not modified. Returns
 * 0, or -1 when out of memory. */
int cap_mc_cost_quantiles_binned(const double *a, int64_t n, double lo, double hi, int threads,
                                 cap_mc_scale_result *s);

/* The host's exact cost quantiles as the engine takes them: cap_mc_cost_quantiles_binned,
 * or, when that runs out of memory, a serial selection that reorders a. Same arguments. */
void cap_mc_cost_quantiles_host(double *a, int64_t n, double lo, double hi, int threads,
                                cap_mc_scale_result *s);

/* The steps of cap_mc_cost_quantiles_binned around its two passes over the costs, shared
 * with the CUDA backend, which makes the passes on the device:
 *   start:  the wanted ranks and the bins' scales;
 *   pass 1: total[b] = costs in selection bin b (cap_mc_select_bin with lo, inv_width), and
 *           the coarse histogram (cap_mc_bin with lo, coarse_inv; below lo counts in bin 0);
 *   locate: the bin holding each wanted rank (bin, below, len) from the totals;
 *   pass 2: values[w] = the len[w] costs in bin[w], in sample order (a copy for each w),
 *           above[j] = Neumaier sum, in sample order, of the costs of samples
 *           [j, j + 1) * CAP_MC_TAIL_BLOCK whose bin is above bin[CAP_MC_SEL_TAIL];
 *   finish: selection in values (reordered), CVaR95 from above and the tail bin. */
enum {
    CAP_MC_SEL_P5,
    CAP_MC_SEL_P50,
    CAP_MC_SEL_P95,
    CAP_MC_SEL_P99,
    CAP_MC_SEL_TAIL,
    CAP_MC_SEL_WANTED
};
typedef struct {
    int64_t n, tail_blocks;
    double lo, inv_width, coarse_inv;
    int64_t rank[CAP_MC_SEL_WANTED], bin[CAP_MC_SEL_WANTED], below[CAP_MC_SEL_WANTED],
        len[CAP_MC_SEL_WANTED];
    /* Set by a caller that knows bin[w] holds len[w] copies of one value (ties: a plan that
     * covers most samples gives most of them the same cost); finish then reads value[w]
     * instead of values[w], which may be NULL. */
    bool constant[CAP_MC_SEL_WANTED];
    double value[CAP_MC_SEL_WANTED];
} cap_mc_select;
void cap_mc_select_start(cap_mc_select *sel, int64_t n, double lo, double hi, int64_t hbins);
void cap_mc_select_locate(cap_mc_select *sel, const int64_t *total);
void cap_mc_select_finish(const cap_mc_select *sel, double *const *values, const cap_mc_ksum *above,
                          cap_mc_cost_stats *c);

/* Tests and benchmarks: the CUDA backend's cost quantiles of the n host values a (min lo,
 * max hi), copied to the device first; CAP_MC_ERR_BACKEND without a GPU. */
int cap_mc_cuda_cost_quantiles(const double *a, int64_t n, double lo, double hi,
                               cap_mc_scale_result *s, char *error, int error_size);

/* Tests: the CPU backend simulates with cap_mc_simulate_path (the CUDA fused kernel's
 * driver) instead of cap_mc_simulate, so the two are compared on machines without a GPU. */
void cap_mc_cpu_use_path_driver(bool on);

/* Monotonic clock, seconds. */
double cap_mc_seconds(void);
/* CAPPLAN_MC_PROFILE is set (and not "0"): runs print where their time went on stderr. */
bool cap_mc_profiling(void);

/* Device count with the reason when it is 0 (message may be NULL). */
int cap_mc_cuda_probe(char *message, int message_size);

#ifdef __cplusplus
}
#endif

#endif
