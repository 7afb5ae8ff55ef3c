/* mc_cpu.c: the OpenMP backend, the fallback and the oracle for the CUDA one.
 *
 * A job's blocks of CAP_MC_BLOCK samples are shared among threads (dynamic schedule); a
 * thread simulates a block CAP_MC_CPU_LANES samples at a time with mc_sample.h and folds
 * them, in sample order, into that block's own partial. No state is shared between blocks,
 * so which thread ran a block changes nothing. The lane loops vectorise; the simulation is
 * compiled for x86-64, x86-64-v3 (AVX2) and x86-64-v4 (AVX-512) and picked at load time
 * (IEEE arithmetic without contraction is the same on all three).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "mc_internal.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) &&       \
    !defined(CAPPLAN_NO_CLONES)
#define CAP_MC_CLONES      __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#define CAP_MC_HAVE_CLONES 1
#else
#define CAP_MC_CLONES
#define CAP_MC_HAVE_CLONES 0
#endif

#define CAP_MC_CPU_DEFAULT_CHUNK ((int64_t)256 * CAP_MC_BLOCK)

const char *cap_mc_cpu_simd(void)
{
#if CAP_MC_HAVE_CLONES
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2"))
        return "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        __builtin_cpu_supports("bmi2"))
        return "avx2";
    return "sse2";
#else
    return "generic";
#endif
}

static inline __attribute__((always_inline)) void
reduce_lanes(const cap_mc_model *m, const cap_mc_job *job, const double *rec, int lanes,
             int64_t first_sample, double *pd, int64_t *pc)
{
    int64_t units = cap_mc_units(m) * m->scale_count;
    for (int64_t u = 0; u < units; u++)
        cap_mc_reduce_unit(m, u, rec, CAP_MC_CPU_LANES, 0, lanes, pd, pc);
    for (int64_t r = 0; job->store && r < job->store_rows; r++)
        memcpy(job->store + r * job->store_pitch + first_sample, rec + r * CAP_MC_CPU_LANES,
               (size_t)lanes * sizeof(double));
    for (int64_t r = 0; job->sparse && r < job->sparse_rows; r++) {
        const double *x = rec + (job->sparse_row0 + r) * CAP_MC_CPU_LANES;
        double packed[CAP_MC_CPU_LANES];
        int64_t nonzero = 0, at;
        for (int j = 0; j < lanes; j++) { /* branch-free: zeros are unpredictable */
            packed[nonzero] = x[j];
            nonzero += x[j] != 0.0;
        }
        if (nonzero == 0)
            continue;
#pragma omp atomic capture
        {
            at = job->sparse_count[r];
            job->sparse_count[r] += nonzero;
        }
        memcpy(job->sparse[r] + at, packed, (size_t)nonzero * sizeof(double));
    }
}

/* Bins the batch's values into this thread's own counts (added to the job's at the end of
 * the job): atomics on shared counters, most of all the one for values at the minimum that
 * most shortfalls hit, serialised the threads. */
static inline __attribute__((always_inline)) void histogram_lanes(const cap_mc_hist *h,
                                                                  const double *rec, int lanes,
                                                                  int64_t *counts, int64_t *at_min)
{
    for (int i = 0; i < h->row_count; i++) {
        const double *x = rec + h->row[i] * CAP_MC_CPU_LANES;
        int64_t *row_counts = counts + h->offset[i], low = 0;
        for (int j = 0; j < lanes; j++) {
            int64_t b = cap_mc_bin(x[j], h->lo[i], h->inv_width[i], h->bins[i]);
            if (b < 0)
                low++;
            else
                row_counts[b]++;
        }
        at_min[i] += low;
    }
}

static bool cpu_path_driver; /* tests: simulate with cap_mc_simulate_path */

void cap_mc_cpu_use_path_driver(bool on)
{
    cpu_path_driver = on;
}

/* The CUDA kernel's driver, one sample and scale at a time, in the same record layout. */
static void simulate_paths(const cap_mc_model *m, double *ws, double *rec, int lanes,
                           int64_t first_sample)
{
    cap_mc_path p = {ws, (uint32_t *)(ws + cap_mc_path_x_rows(m)), ws + cap_mc_path_doubles(m), 1};
    for (int j = 0; j < lanes; j++) {
        cap_mc_rec_out out = {rec + j, CAP_MC_CPU_LANES, rec + j, CAP_MC_CPU_LANES, 0};
        for (int k = 0; k < m->scale_count; k++)
            cap_mc_simulate_path(m, p, out, (uint64_t)(first_sample + j), k);
    }
}

/* One batch of lanes: simulate, then fold or bin. The vector clones cover all of it. */
CAP_MC_CLONES
static void run_batch(const cap_mc_model *m, const cap_mc_job *job, double *ws, double *rec,
                      int lanes, int64_t first_sample, double *pd, int64_t *pc, int64_t *counts,
                      int64_t *at_min)
{
    cap_mc_lanes l = {ws, rec,   CAP_MC_CPU_LANES,      CAP_MC_CPU_LANES,
                      0,  lanes, (uint64_t)first_sample};
    if (cpu_path_driver)
        simulate_paths(m, ws, rec, lanes, first_sample);
    else
        cap_mc_simulate(m, l);
    if (job->kind == CAP_MC_JOB_MOMENTS)
        reduce_lanes(m, job, rec, lanes, first_sample, pd, pc);
    else
        histogram_lanes(job->hist, rec, lanes, counts, at_min);
}

static void run_block(const cap_mc_model *m, const cap_mc_job *job, int64_t block, double *ws,
                      double *rec, int64_t *counts, int64_t *at_min)
{
    int64_t first = job->first_sample + block * CAP_MC_BLOCK;
    int64_t end = job->first_sample + job->sample_count;
    int64_t count = end - first < CAP_MC_BLOCK ? end - first : CAP_MC_BLOCK;
    double *pd = job->partial_d + block * cap_mc_partial_doubles(m) * m->scale_count;
    int64_t *pc = job->partial_c + block * cap_mc_partial_counts(m) * m->scale_count;
    if (job->kind == CAP_MC_JOB_MOMENTS)
        cap_mc_partial_start(m, pd, pc);
    for (int64_t off = 0; off < count; off += CAP_MC_CPU_LANES) {
        int lanes = (int)(count - off < CAP_MC_CPU_LANES ? count - off : CAP_MC_CPU_LANES);
        run_batch(m, job, ws, rec, lanes, first + off, pd, pc, counts, at_min);
    }
}

static int cpu_run(cap_mc_backend *backend, const cap_mc_job *job, char *error, int error_size)
{
    const cap_mc_model *m = backend->state;
    if (job->kind == CAP_MC_JOB_FLUSH)
        return CAP_MC_OK; /* histogram counts were added in place */
    int64_t blocks = (job->sample_count + CAP_MC_BLOCK - 1) / CAP_MC_BLOCK;
    size_t ws_size = (size_t)cap_mc_ws_rows(m) * CAP_MC_CPU_LANES * sizeof(double);
    size_t rec_size = (size_t)cap_mc_rec_rows(m) * CAP_MC_CPU_LANES * sizeof(double);
    int failed = 0;
    const cap_mc_hist *h = job->kind == CAP_MC_JOB_HISTOGRAM ? job->hist : NULL;
    size_t hist_size = h ? (size_t)(h->total_bins + h->row_count) : 0;
#pragma omp parallel num_threads(backend->threads)
    {
        double *ws = malloc(ws_size), *rec = malloc(rec_size);
        int64_t *counts = h ? calloc(hist_size, sizeof(int64_t)) : NULL;
        int64_t *at_min = counts ? counts + h->total_bins : NULL;
        if (!ws || !rec || (h && !counts)) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = 0; b < blocks; b++) {
            int stop;
#pragma omp atomic read
            stop = failed;
            if (!stop && !(job->cancel && *job->cancel))
                run_block(m, job, b, ws, rec, counts, at_min);
        }
        if (counts) { /* integer sums: the same totals whatever the order */
#pragma omp critical(cap_mc_histogram)
            {
                for (int64_t i = 0; i < h->total_bins; i++)
                    h->counts[i] += counts[i];
                for (int i = 0; i < h->row_count; i++)
                    h->at_min[i] += at_min[i];
            }
        }
        free(counts);
        free(ws);
        free(rec);
    }
    if (failed) {
        snprintf(error, (size_t)error_size, "mc: out of memory for the CPU workspace");
        return CAP_MC_ERR_RUNTIME;
    }
    return CAP_MC_OK;
}

static void cpu_free(cap_mc_backend *backend)
{
    free(backend);
}

int cap_mc_backend_cpu_create(const cap_mc_model *model, const cap_mc_options *options,
                              cap_mc_backend **out, char *error, int error_size)
{
    cap_mc_backend *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(error, (size_t)error_size, "mc: out of memory");
        return CAP_MC_ERR_RUNTIME;
    }
    b->name = "cpu";
    b->threads = options->threads > 0 ? options->threads : omp_get_max_threads();
    int64_t chunk = options->chunk > 0 ? options->chunk : CAP_MC_CPU_DEFAULT_CHUNK;
    b->chunk = (chunk + CAP_MC_BLOCK - 1) / CAP_MC_BLOCK * CAP_MC_BLOCK;
    snprintf(b->device, sizeof b->device, "OpenMP, %d threads, %s", b->threads, cap_mc_cpu_simd());
    b->run = cpu_run;
    b->free = cpu_free;
    b->state = (void *)model;
    *out = b;
    return CAP_MC_OK;
}
