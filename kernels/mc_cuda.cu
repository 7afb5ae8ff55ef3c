/* mc_cuda.cu: the CUDA backend, device discovery and the RNG timing hook.
 *
 * A job (chunk) runs as: simulate (one fused kernel, or per period small kernels around
 * cuBLAS GEMMs), then reduce (one warp per block of CAP_MC_BLOCK samples and statistic,
 * folding lanes in sample order exactly as the CPU does), then copies the block partials
 * and, when asked, the kept per-sample rows to the host. Rows the engine asked it to keep
 * for the run stay in device memory (cuda_keep); the exact cost quantiles are then
 * selected there (cuda_cost_quantiles), with the CPU's algorithm and figures. Per-sample
 * state lives in chunk-wide lane arrays (item i of lane j at i * stride + j), which is
 * coalesced for the kernels and column-major for cuBLAS. Device memory is the chunk's, plus
 * the rows kept for the run only when they fit in half of what is free. Invariants: every
 * CUDA call and kernel launch is checked (CAP_CUDA_CHECK); CUDA is initialised only by the
 * functions here, which the engine calls only when the CUDA backend runs or a device count
 * is asked for; cuBLAS only when the GEMM variant runs on a device. Built with -fmad=false:
 * the model's arithmetic is not contracted, as on the CPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dlfcn.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <curand.h>

#include <cub/device/device_select.cuh>

#include "mc_internal.h"

#define CAP_CUDA_THREADS        128
#define CAP_CUDA_MAX_CHUNK      ((int64_t)16 << 20)
#define CAP_CUDA_MEMORY_DEFAULT ((double)(8ll << 30)) /* at most 8 GiB of lane arrays */
#define CAP_CUDA_STAGING        ((int64_t)64 << 20)   /* host staging for copy_sparse */

/* ---- cuBLAS and cuRAND, loaded on first use ------------------------------------------------ */

/* The two libraries are opened with dlopen when a run needs them (the GEMM variant, the
 * cuRAND timing), not linked: they weigh about 600 MB (libcublasLt alone 541 MB), and
 * linking them made every capplan command, `plan` included, take 0.8 s to start instead
 * of 0.02 s. The pointer types come from the headers, so the signatures cannot drift. */
#define CAP_STR2(x) #x
#define CAP_STR(x)  CAP_STR2(x)

typedef struct {
    bool tried, ok;
    decltype(&cublasCreate_v2) create;
    decltype(&cublasDestroy_v2) destroy;
    decltype(&cublasDgemm_v2) dgemm;
    decltype(&cublasGetStatusString) status_string;
} cap_blas_api;

typedef struct {
    bool tried, ok;
    decltype(&curandCreateGenerator) create;
    decltype(&curandDestroyGenerator) destroy;
    decltype(&curandSetPseudoRandomGeneratorSeed) seed;
    decltype(&curandGenerateNormalDouble) normal_double;
    decltype(&curandGenerate) generate;
} cap_rand_api;

static cap_blas_api cap_blas;
static cap_rand_api cap_rand;

/* Opens the library by its versioned name (found through RUNPATH or LD_LIBRARY_PATH),
 * then by its plain name. */
static void *cap_cuda_dlopen(const char *versioned, const char *plain)
{
    void *handle = dlopen(versioned, RTLD_NOW | RTLD_LOCAL);
    return handle ? handle : dlopen(plain, RTLD_NOW | RTLD_LOCAL);
}

template <typename T> static bool cap_cuda_symbol(void *handle, const char *name, T *out)
{
    *out = (T)dlsym(handle, name);
    return *out != NULL;
}

static int cap_blas_load(char *error, int error_size)
{
    if (!cap_blas.tried) {
        cap_blas.tried = true;
        void *h = cap_cuda_dlopen("libcublas.so." CAP_STR(CUBLAS_VER_MAJOR), "libcublas.so");
        cap_blas.ok = h && cap_cuda_symbol(h, "cublasCreate_v2", &cap_blas.create) &&
                      cap_cuda_symbol(h, "cublasDestroy_v2", &cap_blas.destroy) &&
                      cap_cuda_symbol(h, "cublasDgemm_v2", &cap_blas.dgemm) &&
                      cap_cuda_symbol(h, "cublasGetStatusString", &cap_blas.status_string);
    }
    if (cap_blas.ok)
        return CAP_MC_OK;
    snprintf(error, (size_t)error_size,
             "mc: CUDA: cannot load cuBLAS (libcublas.so." CAP_STR(CUBLAS_VER_MAJOR) "): %s",
             dlerror() ? dlerror() : "symbol missing");
    return CAP_MC_ERR_BACKEND;
}

static int cap_rand_load(char *error, int error_size)
{
    if (!cap_rand.tried) {
        cap_rand.tried = true;
        void *h = cap_cuda_dlopen("libcurand.so." CAP_STR(CURAND_VER_MAJOR), "libcurand.so");
        cap_rand.ok = h && cap_cuda_symbol(h, "curandCreateGenerator", &cap_rand.create) &&
                      cap_cuda_symbol(h, "curandDestroyGenerator", &cap_rand.destroy) &&
                      cap_cuda_symbol(h, "curandSetPseudoRandomGeneratorSeed", &cap_rand.seed) &&
                      cap_cuda_symbol(h, "curandGenerateNormalDouble", &cap_rand.normal_double) &&
                      cap_cuda_symbol(h, "curandGenerate", &cap_rand.generate);
    }
    if (cap_rand.ok)
        return CAP_MC_OK;
    snprintf(error, (size_t)error_size,
             "mc: CUDA: cannot load cuRAND (libcurand.so." CAP_STR(CURAND_VER_MAJOR) "): %s",
             dlerror() ? dlerror() : "symbol missing");
    return CAP_MC_ERR_BACKEND;
}

/* ---- the one error check: statement, file, line ------------------------------------------- */

static bool cap_cuda_failed(cudaError_t status)
{
    return status != cudaSuccess;
}
static bool cap_cuda_failed(cublasStatus_t status)
{
    return status != CUBLAS_STATUS_SUCCESS;
}
static bool cap_cuda_failed(curandStatus_t status)
{
    return status != CURAND_STATUS_SUCCESS;
}
static const char *cap_cuda_describe(cudaError_t status)
{
    return cudaGetErrorString(status);
}
static const char *cap_cuda_describe(cublasStatus_t status)
{
    static char text[32];
    if (cap_blas.ok)
        return cap_blas.status_string(status);
    snprintf(text, sizeof text, "cuBLAS status %d", (int)status);
    return text;
}
static const char *cap_cuda_describe(curandStatus_t status)
{
    static char text[32];
    snprintf(text, sizeof text, "cuRAND status %d", (int)status);
    return text;
}

static int cap_cuda_fail(const char *what, const char *statement, const char *file, int line,
                         char *error, int error_size)
{
    if (error && error_size > 0)
        snprintf(error, (size_t)error_size, "mc: CUDA: %s:%d: %s: %s", file, line, statement, what);
    return CAP_MC_ERR_RUNTIME;
}

/* Needs `error` and `error_size` in scope; returns CAP_MC_ERR_RUNTIME from the caller. */
#define CAP_CUDA_CHECK(statement)                                                                  \
    do {                                                                                           \
        auto status_ = (statement);                                                                \
        if (cap_cuda_failed(status_))                                                              \
            return cap_cuda_fail(cap_cuda_describe(status_), #statement, __FILE__, __LINE__,       \
                                 error, error_size);                                               \
    } while (0)

/* ---- discovery ---------------------------------------------------------------------------- */

extern "C" int cap_mc_cuda_load_libraries(char *error, int error_size)
{
    int status = cap_blas_load(error, error_size);
    return status != CAP_MC_OK ? status : cap_rand_load(error, error_size);
}

extern "C" bool cap_mc_cuda_compiled(void)
{
    return true;
}

extern "C" int cap_mc_cuda_probe(char *message, int message_size)
{
    int count = 0;
    cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
        if (message && message_size > 0)
            snprintf(message, (size_t)message_size, "%s", cudaGetErrorString(status));
        cudaGetLastError(); /* clear the sticky-free error so later calls start clean */
        return 0;
    }
    if (count == 0 && message && message_size > 0)
        snprintf(message, (size_t)message_size, "no CUDA device");
    return count;
}

extern "C" int cap_mc_cuda_device_count(void)
{
    return cap_mc_cuda_probe(NULL, 0);
}

extern "C" int cap_mc_cuda_device_info(int index, cap_mc_device *device)
{
    if (index < 0 || index >= cap_mc_cuda_device_count())
        return CAP_MC_ERR_BACKEND;
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, index) != cudaSuccess) {
        cudaGetLastError();
        return CAP_MC_ERR_BACKEND;
    }
    memset(device, 0, sizeof *device);
    snprintf(device->name, sizeof device->name, "%s", prop.name);
    device->memory_gib = (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0);
    device->major = prop.major;
    device->minor = prop.minor;
    device->multiprocessors = prop.multiProcessorCount;
    return CAP_MC_OK;
}

/* ---- kernels ------------------------------------------------------------------------------ */

/* Where the fused kernel keeps a sample's compact state (cap_mc_path): in shared memory
 * (SHARED; spare capacity, touched only when recourse runs, in the block's slice of `ws`)
 * or in the block's own slice of `ws` but for its bit words, which stay in shared memory
 * (BLOCK). */
enum { CAP_WS_SHARED = 0, CAP_WS_BLOCK, CAP_WS_CHUNK };

/* The register budget: ptxas left to itself takes 120-130 registers (3 blocks of 128 a
 * multiprocessor); held to 64 (8 blocks) it spills a few bytes and runs faster on every
 * bench_mc problem (H100, 2026-11-23: small +10%, medium +7%, large +21%, docs/monte-carlo.md
 * §5). */
#define CAP_CUDA_PATH_MIN_BLOCKS 8

/* One thread per sample, every scale in turn (mc_sample.h, cap_mc_simulate_path). Records
 * go to the chunk-wide lane arrays, the rows kept for the run in place (rec.split). A block's slice
 * of `ws` holds (state + O) doubles a thread, item i of thread j at i * THREADS + j. THREADS
 * (the block size, the state's stride) is a constant so that the indexing of the state
 * compiles to shifts and immediate offsets. */
template <int PLACE, int THREADS>
__global__ void __launch_bounds__(CAP_CUDA_THREADS, CAP_CUDA_PATH_MIN_BLOCKS)
    cap_mc_path_kernel(cap_mc_model m, double *ws, cap_mc_rec_out rec, int lanes,
                       uint64_t first_sample)
{
    extern __shared__ double shared_ws[];
    int lane = blockIdx.x * THREADS + threadIdx.x;
    if (lane >= lanes)
        return;
    int64_t threads = THREADS, state = cap_mc_path_doubles(&m);
    double *slice = ws + (int64_t)blockIdx.x * (state + m.offering_count) * threads;
    double *base = PLACE == CAP_WS_SHARED ? shared_ws : slice;
    double *spare = PLACE == CAP_WS_SHARED ? slice : slice + state * threads;
    uint32_t *bits = PLACE == CAP_WS_SHARED ? (uint32_t *)(base + cap_mc_path_x_rows(&m) * threads)
                                            : (uint32_t *)shared_ws;
    cap_mc_path p = {base + threadIdx.x, bits + threadIdx.x, spare + threadIdx.x, THREADS};
    rec.rec += lane, rec.kept += lane;
    for (int k = 0; k < m.scale_count; k++)
        cap_mc_simulate_path(&m, p, rec, first_sample + (uint64_t)lane, k);
}

/* The lane driver (cap_mc_simulate, as the CPU runs it) with its workspace rows in chunk-
 * wide lane arrays: the kernel capplan used before cap_mc_simulate_path, kept as
 * CAP_MC_CUDA_FUSED_CHUNK for comparison. */
__global__ void __launch_bounds__(CAP_CUDA_THREADS)
    cap_mc_lanes_kernel(cap_mc_model m, double *ws, double *rec, int64_t stride, int lanes,
                        uint64_t first_sample)
{
    int lane = blockIdx.x * blockDim.x + threadIdx.x;
    if (lane >= lanes)
        return;
    cap_mc_lanes l = {ws, rec, stride, stride, lane, lane + 1, first_sample};
    cap_mc_simulate(&m, l);
}

/* GEMM variant, period t: the steps of cap_mc_simulate around the two GEMMs. */
__global__ void cap_mc_start_kernel(cap_mc_model m, double *ws, double *rec, int64_t stride,
                                    int lanes, uint64_t first_sample)
{
    int lane = blockIdx.x * blockDim.x + threadIdx.x;
    if (lane >= lanes)
        return;
    cap_mc_lanes l = {ws, rec, stride, stride, lane, lane + 1, first_sample};
    cap_mc_records_start(&m, l);
    cap_mc_demand_start(&m, l);
    cap_mc_record_demand(&m, l, 0);
    cap_mc_draw_outages(&m, l, 0);
}

__global__ void cap_mc_normals_kernel(cap_mc_model m, double *ws, int64_t stride, int lanes,
                                      uint64_t first_sample, int t)
{
    int lane = blockIdx.x * blockDim.x + threadIdx.x;
    if (lane >= lanes)
        return;
    cap_mc_lanes l = {ws, NULL, stride, stride, lane, lane + 1, first_sample};
    cap_mc_draw_normals(&m, l, t);
}

__global__ void cap_mc_shocks_kernel(cap_mc_model m, double *ws, double *rec, int64_t stride,
                                     int lanes, uint64_t first_sample, int t)
{
    int lane = blockIdx.x * blockDim.x + threadIdx.x;
    if (lane >= lanes)
        return;
    cap_mc_lanes l = {ws, rec, stride, stride, lane, lane + 1, first_sample};
    cap_mc_apply_shocks(&m, l);
    cap_mc_record_demand(&m, l, t);
    cap_mc_draw_outages(&m, l, t);
}

__global__ void cap_mc_settle_kernel(cap_mc_model m, double *ws, double *rec, int64_t stride,
                                     int lanes, uint64_t first_sample, int t)
{
    int lane = blockIdx.x * blockDim.x + threadIdx.x;
    if (lane >= lanes)
        return;
    cap_mc_lanes l = {ws, rec, stride, stride, lane, lane + 1, first_sample};
    for (int k = 0; k < m.scale_count; k++)
        cap_mc_settle(&m, l, t, k);
}

/* The fold of cap_mc_reduce_unit with one warp per (block, unit) instead of one thread:
 * lanes 8g .. 8g+7 are the 8 ways of batch g of four consecutive batches (so a load takes
 * four runs of 8 consecutive records, not 32 scattered ones), each way folds its samples in
 * order with the same step functions, the ways meet in the same tree through shuffles, and
 * lane 0 adds the batches to the block's partial in batch order: the CPU's operations in
 * the CPU's order, so the same bits (mc::cuda_matches_cpu, bench_mc's check). */
#define CAP_CUDA_REDUCE_BATCHES 4 /* batches a warp folds at once: 32 lanes / 8 ways */

/* The samples first, first + 8, ... below end of one way of a batch (CAP_MC_CPU_LANES / 8 of
 * them), loaded together before the way folds them: with a load in each step of the fold,
 * each step waited for device memory (the reduction read its records at 1.4 TB/s). */
#define CAP_CUDA_WAY_SAMPLES (CAP_MC_CPU_LANES / 8)

static __device__ void load_way(const double *x, int first, int end, double v[CAP_CUDA_WAY_SAMPLES])
{
#pragma unroll
    for (int i = 0; i < CAP_CUDA_WAY_SAMPLES; i++)
        v[i] = first + 8 * i < end ? x[first + 8 * i] : 0.0;
}

static __device__ double shfl_down(double v, int by)
{
    return __shfl_down_sync(0xffffffffu, v, by);
}
static __device__ double shfl_from(double v, int lane)
{
    return __shfl_sync(0xffffffffu, v, lane);
}
static __device__ long long shfl_from(long long v, int lane)
{
    return __shfl_sync(0xffffffffu, v, lane);
}

/* cap_mc_sum8's tree over the 8 ways of each group: lane 8g ends with ((a0+a1)+(a2+a3)) +
 * ((a4+a5)+(a6+a7)). */
static __device__ double tree_sum8(double v, int q)
{
    for (int step = 1; step < 8; step *= 2) {
        double other = shfl_down(v, step);
        if (q % (2 * step) == 0)
            v = v + other;
    }
    return v;
}
static __device__ double group_max(double v)
{
    for (int step = 1; step < 8; step *= 2) {
        double other = shfl_down(v, step);
        v = other > v ? other : v;
    }
    return v;
}
static __device__ double group_min(double v)
{
    for (int step = 1; step < 8; step *= 2) {
        double other = shfl_down(v, step);
        v = other < v ? other : v;
    }
    return v;
}
static __device__ long long group_sum(long long v)
{
    for (int step = 1; step < 8; step *= 2)
        v += __shfl_down_sync(0xffffffffu, v, step);
    return v;
}

__global__ void cap_mc_reduce_kernel(cap_mc_model m, cap_mc_rec_out rec, int lanes, double *pd,
                                     int64_t *pc)
{
    int64_t W = m.workload_count, T = m.period_count, U = cap_mc_units(&m);
    int64_t units = U * m.scale_count;
    int64_t blocks = (lanes + CAP_MC_BLOCK - 1) / CAP_MC_BLOCK;
    int64_t pdn = cap_mc_partial_doubles(&m) * m.scale_count;
    int64_t pcn = cap_mc_partial_counts(&m) * m.scale_count;
    int lane = threadIdx.x & 31, g = lane >> 3, q = lane & 7;
    int64_t warps = (int64_t)gridDim.x * blockDim.x / 32;
    for (int64_t id = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) / 32; id < blocks * units;
         id += warps) {
        int64_t block = id / units, unit = id % units;
        int begin = (int)(block * CAP_MC_BLOCK);
        int end = begin + CAP_MC_BLOCK < lanes ? begin + CAP_MC_BLOCK : lanes;
        int k = (int)(unit / U);
        int64_t u = unit % U;
        double *d = pd + block * pdn + k * cap_mc_partial_doubles(&m);
        int64_t *c = pc + block * pcn + k * cap_mc_partial_counts(&m);
        /* Lane 0's share of the block partial stays in registers until the block is done
         * (the empty values of cap_mc_unit_start); stored and read back after every batch,
         * each addition waited on the one before through L2. The count of the cost's moments is a
         * double, exact below 2^53, as the CPU's int64_t converted at every merge. */
        double a_n = 0.0, a_mean = 0.0, a_m2 = 0.0, a_sum = 0.0, a_service = 0.0;
        double a_lo = 0x1.fffffffffffffp+1023, a_hi = u == 0 ? -0x1.fffffffffffffp+1023 : 0.0;
        long long a_count = 0;
        /* the unit's rows: the cost; a (w,t)'s shortfall and multiplier; a w's unmet hours and
         * whether it fell short */
        bool period = u >= 1 && u <= W * T;
        int w = (int)(period ? (u - 1) / T : u - 1 - W * T), t = period ? (int)((u - 1) % T) : 0;
        const double *x = cap_mc_rec_at(rec, u == 0   ? cap_mc_rec_cost(&m, k)
                                             : period ? cap_mc_rec_short(&m, k, w, t)
                                                      : cap_mc_rec_unmet(&m, k, w));
        const double *y = u == 0   ? NULL
                          : period ? cap_mc_rec_at(rec, cap_mc_rec_mult(&m, w, t))
                                   : cap_mc_rec_at(rec, cap_mc_rec_any(&m, k, w));
        double demand = period ? m.demand[w * T + t] : 0.0, scale = m.scales[k];
        for (int b0 = begin; b0 < end; b0 += CAP_CUDA_REDUCE_BATCHES * CAP_MC_CPU_LANES) {
            int mb = b0 + g * CAP_MC_CPU_LANES; /* this group's batch */
            int mb1 = mb + CAP_MC_CPU_LANES < end ? mb + CAP_MC_CPU_LANES : end;
            double v[CAP_CUDA_WAY_SAMPLES];
            load_way(x, mb + q, mb1, v);
            if (u == 0) {
                double n = 0.0, mean = 0.0, m2 = 0.0;
                double lo = 0x1.fffffffffffffp+1023, hi = -0x1.fffffffffffffp+1023;
#pragma unroll
                for (int i = 0; i < CAP_CUDA_WAY_SAMPLES; i++)
                    if (mb + q + 8 * i < mb1)
                        cap_mc_cost_step(v[i], &n, &mean, &m2, &lo, &hi);
                for (int step = 1; step < 8; step *= 2) {
                    double nb = shfl_down(n, step), mb_ = shfl_down(mean, step);
                    double m2b = shfl_down(m2, step);
                    if (q % (2 * step) == 0)
                        cap_mc_moments_merge(&n, &mean, &m2, nb, mb_, m2b);
                }
                lo = group_min(lo), hi = group_max(hi);
                for (int h = 0; h < CAP_CUDA_REDUCE_BATCHES; h++) {
                    double bn = shfl_from(n, 8 * h), bmean = shfl_from(mean, 8 * h);
                    double bm2 = shfl_from(m2, 8 * h), blo = shfl_from(lo, 8 * h);
                    double bhi = shfl_from(hi, 8 * h);
                    if (lane == 0 && b0 + h * CAP_MC_CPU_LANES < end) {
                        cap_mc_moments_merge(&a_n, &a_mean, &a_m2, bn, bmean, bm2);
                        a_lo = blo < a_lo ? blo : a_lo;
                        a_hi = bhi > a_hi ? bhi : a_hi;
                    }
                }
                continue;
            }
            double f[CAP_CUDA_WAY_SAMPLES], sum = 0.0, service = 0.0, hi = 0.0;
            int64_t count = 0;
            load_way(y, mb + q, mb1, f);
#pragma unroll
            for (int i = 0; i < CAP_CUDA_WAY_SAMPLES; i++) {
                if (mb + q + 8 * i >= mb1)
                    continue;
                if (period)
                    cap_mc_period_step(v[i], cap_mc_demanded(f[i], demand, scale), &count, &sum,
                                       &service, &hi);
                else
                    cap_mc_workload_step(v[i], f[i], &count, &sum, &hi);
            }
            sum = tree_sum8(sum, q), service = tree_sum8(service, q); /* service: periods' */
            hi = group_max(hi);
            long long cnt = group_sum((long long)count);
            for (int h = 0; h < CAP_CUDA_REDUCE_BATCHES; h++) {
                double bs = shfl_from(sum, 8 * h), bv = shfl_from(service, 8 * h);
                double bh = shfl_from(hi, 8 * h);
                long long bc = shfl_from(cnt, 8 * h);
                if (lane == 0 && b0 + h * CAP_MC_CPU_LANES < end) {
                    a_sum += bs;
                    a_service += bv;
                    a_count += bc;
                    a_hi = bh > a_hi ? bh : a_hi;
                }
            }
        }
        if (lane != 0)
            continue;
        if (u == 0) {
            c[0] = (int64_t)a_n;
            d[0] = a_mean, d[1] = a_m2, d[2] = a_lo, d[3] = a_hi;
        } else if (period) {
            double *dd = d + 4 + 3 * (u - 1);
            c[u] = a_count;
            dd[0] = a_sum, dd[1] = a_service, dd[2] = a_hi;
        } else {
            double *dd = d + 4 + 3 * W * T + 2 * w;
            c[u] = a_count;
            dd[0] = a_sum, dd[1] = a_hi;
        }
    }
}

/* Pass 2: row i of the records binned (cap_mc_bin) into counts[offset[i] + b], values at the
 * minimum into at_min[i]. A CUDA block takes one row (blockIdx.y) and a grid-stride share of
 * the lanes; rows of at most CAP_CUDA_HIST_SHARED bins count in shared memory and add to
 * the device counts once per block and bin (global atomics per value, most of all on the
 * minimum that most shortfalls hit, serialised the kernel); larger rows (the fine cost
 * histogram) add to the device counts directly. Integer counts: order-free. */
#define CAP_CUDA_HIST_SHARED  4096
#define CAP_CUDA_HIST_THREADS 256

__global__ void __launch_bounds__(CAP_CUDA_HIST_THREADS)
    cap_mc_histogram_kernel(cap_mc_rec_out rec, int lanes, int rows, const int64_t *row,
                            const double *lo, const double *inv_width, const int64_t *bins,
                            const int64_t *offset, unsigned long long *counts,
                            unsigned long long *at_min)
{
    __shared__ unsigned int local[CAP_CUDA_HIST_SHARED];
    __shared__ unsigned int low;
    for (int i = blockIdx.y; i < rows; i += gridDim.y) {
        int64_t nb = bins[i];
        bool in_shared = nb <= CAP_CUDA_HIST_SHARED;
        for (int b = threadIdx.x; in_shared && b < nb; b += blockDim.x)
            local[b] = 0u;
        if (threadIdx.x == 0)
            low = 0u;
        __syncthreads();
        const double *x = cap_mc_rec_at(rec, row[i]);
        unsigned int my_low = 0;
        for (int lane = blockIdx.x * blockDim.x + threadIdx.x; lane < lanes;
             lane += gridDim.x * blockDim.x) {
            int64_t b = cap_mc_bin(x[lane], lo[i], inv_width[i], nb);
            if (b < 0)
                my_low++;
            else if (in_shared)
                atomicAdd(&local[b], 1u);
            else
                atomicAdd(&counts[offset[i] + b], 1ull);
        }
        my_low = __reduce_add_sync(0xffffffffu, my_low); /* blockDim is a multiple of 32 */
        if ((threadIdx.x & 31u) == 0 && my_low)
            atomicAdd(&low, my_low);
        __syncthreads();
        for (int b = threadIdx.x; in_shared && b < nb; b += blockDim.x)
            if (local[b])
                atomicAdd(&counts[offset[i] + b], (unsigned long long)local[b]);
        if (threadIdx.x == 0 && low)
            atomicAdd(&at_min[i], (unsigned long long)low);
        __syncthreads();
    }
}

/* Exact cost quantiles on the device: the two passes of cap_mc_cost_quantiles_binned
 * (mc.c, cap_mc_select_*) over the costs kept in device memory. The selection bins' counts
 * are found in two rounds so that every count is in shared memory (65536 would not fit):
 * first per group of CAP_CUDA_SELECT_GROUP bins (and the coarse histogram, in shared memory
 * when it has at most CAP_CUDA_HIST_SHARED bins), then bin by bin inside the few groups
 * that hold a wanted rank. The counts outside those groups are not needed to locate the
 * ranks. Integer counts: order-free. */
#define CAP_CUDA_SELECT_THREADS 256
#define CAP_CUDA_SELECT_GROUP   16
#define CAP_CUDA_SELECT_GROUPS  (CAP_MC_SELECT_BINS / CAP_CUDA_SELECT_GROUP)

/* A few distinct group or bin numbers, passed by value to the kernels. */
typedef struct {
    int count;
    long long id[CAP_MC_SEL_WANTED];
} cap_mc_id_set;

/* The index of id in the set, added when new. */
static int id_set_slot(cap_mc_id_set *set, long long id)
{
    int j = 0;
    while (j < set->count && set->id[j] != id)
        j++;
    if (j == set->count)
        set->id[set->count++] = id;
    return j;
}

/* refine.count 0: count by groups; else count bin by bin inside the groups refine.id. */

__global__ void __launch_bounds__(CAP_CUDA_SELECT_THREADS)
    cap_mc_select_count_kernel(const double *a, int64_t n, double lo, double inv_width,
                               double coarse_inv, int64_t hbins, cap_mc_id_set refine,
                               unsigned long long *counts, unsigned long long *coarse)
{
    __shared__ unsigned int local[CAP_CUDA_SELECT_GROUPS];
    __shared__ unsigned int local_coarse[CAP_CUDA_HIST_SHARED];
    int slots = refine.count ? refine.count * CAP_CUDA_SELECT_GROUP : CAP_CUDA_SELECT_GROUPS;
    bool coarse_shared = refine.count == 0 && hbins <= CAP_CUDA_HIST_SHARED;
    for (int b = threadIdx.x; b < slots; b += blockDim.x)
        local[b] = 0u;
    for (int b = threadIdx.x; coarse_shared && b < hbins; b += blockDim.x)
        local_coarse[b] = 0u;
    __syncthreads();
    int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
        double x = a[i];
        int64_t bin = cap_mc_select_bin(x, lo, inv_width), group = bin / CAP_CUDA_SELECT_GROUP;
        if (refine.count == 0) {
            atomicAdd(&local[group], 1u);
            int64_t k = cap_mc_bin(x, lo, coarse_inv, hbins);
            k = k < 0 ? 0 : k;
            if (coarse_shared)
                atomicAdd(&local_coarse[k], 1u);
            else
                atomicAdd(&coarse[k], 1ull);
        } else {
            for (int j = 0; j < refine.count; j++)
                if (group == refine.id[j])
                    atomicAdd(&local[j * CAP_CUDA_SELECT_GROUP + bin % CAP_CUDA_SELECT_GROUP], 1u);
        }
    }
    __syncthreads();
    for (int b = threadIdx.x; b < slots; b += blockDim.x)
        if (local[b])
            atomicAdd(&counts[b], (unsigned long long)local[b]);
    for (int b = threadIdx.x; coarse_shared && b < hbins; b += blockDim.x)
        if (local_coarse[b])
            atomicAdd(&coarse[b], (unsigned long long)local_coarse[b]);
}

/* Pass 2's sums: one warp per run of CAP_MC_TAIL_BLOCK samples adds, in sample order, the
 * costs whose bin is above tail_bin (every lane keeps the same sum: each flagged value is
 * broadcast in turn), as the CPU does. The loads of four rounds are issued together. */
#define CAP_CUDA_TAIL_UNROLL 4

__global__ void __launch_bounds__(CAP_CUDA_THREADS)
    cap_mc_select_above_kernel(const double *a, int64_t n, double lo, double inv_width,
                               int64_t tail_bin, int64_t tail_blocks, cap_mc_ksum *above)
{
    int64_t j = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (j >= tail_blocks)
        return; /* the whole warp */
    int lane = (int)(threadIdx.x & 31u);
    int64_t begin = j * CAP_MC_TAIL_BLOCK;
    int64_t end = begin + CAP_MC_TAIL_BLOCK < n ? begin + CAP_MC_TAIL_BLOCK : n;
    cap_mc_ksum sum = {0.0, 0.0};
    for (int64_t base = begin; base < end; base += 32 * CAP_CUDA_TAIL_UNROLL) {
        double x[CAP_CUDA_TAIL_UNROLL];
        bool hot[CAP_CUDA_TAIL_UNROLL];
#pragma unroll
        for (int u = 0; u < CAP_CUDA_TAIL_UNROLL; u++) {
            int64_t i = base + 32 * u + lane;
            x[u] = i < end ? a[i] : 0.0;
            hot[u] = i < end && cap_mc_select_bin(x[u], lo, inv_width) > tail_bin;
        }
#pragma unroll
        for (int u = 0; u < CAP_CUDA_TAIL_UNROLL; u++) {
            for (unsigned mask = __ballot_sync(0xffffffffu, hot[u]); mask; mask &= mask - 1u)
                cap_mc_ksum_add(&sum, __shfl_sync(0xffffffffu, x[u], __ffs(mask) - 1));
        }
    }
    if (lane == 0)
        above[j] = sum;
}

/* Before pass 2's copies: the least and greatest cost in each wanted bin (bins.id), as
 * order-preserving keys, so that a bin of one repeated value needs
 * no copy. Each thread keeps its own, then one atomic a warp and bin. */
static __device__ unsigned long long cap_mc_order_key(double x)
{
    unsigned long long u = (unsigned long long)__double_as_longlong(x);
    return u >> 63 ? ~u : u | (1ull << 63);
}

static __host__ __device__ double cap_mc_order_value(unsigned long long key)
{
    unsigned long long u = key >> 63 ? key & ~(1ull << 63) : ~key;
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

__global__ void __launch_bounds__(CAP_CUDA_SELECT_THREADS)
    cap_mc_select_range_kernel(const double *a, int64_t n, double lo, double inv_width,
                               cap_mc_id_set bins, unsigned long long *range)
{
    unsigned long long least[CAP_MC_SEL_WANTED], most[CAP_MC_SEL_WANTED];
#pragma unroll
    for (int j = 0; j < CAP_MC_SEL_WANTED; j++)
        least[j] = ~0ull, most[j] = 0ull;
    int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
        double x = a[i];
        long long bin = (long long)cap_mc_select_bin(x, lo, inv_width);
        unsigned long long key = cap_mc_order_key(x);
#pragma unroll
        for (int j = 0; j < CAP_MC_SEL_WANTED; j++)
            if (j < bins.count && bin == bins.id[j]) {
                least[j] = key < least[j] ? key : least[j];
                most[j] = key > most[j] ? key : most[j];
            }
    }
#pragma unroll
    for (int j = 0; j < CAP_MC_SEL_WANTED; j++) {
        for (int by = 16; by > 0; by /= 2) {
            unsigned long long l = __shfl_xor_sync(0xffffffffu, least[j], by);
            unsigned long long m = __shfl_xor_sync(0xffffffffu, most[j], by);
            least[j] = l < least[j] ? l : least[j];
            most[j] = m > most[j] ? m : most[j];
        }
        if ((threadIdx.x & 31u) == 0 && j < bins.count) {
            atomicMin(&range[2 * j], least[j]);
            atomicMax(&range[2 * j + 1], most[j]);
        }
    }
}

/* Sub-bins of one selection bin whose least cost is lo: sub-bin 0 holds lo alone (ties: a
 * plan that covers most samples gives many of them the same least cost, and an order
 * statistic that falls among them needs no copy), sub-bins 1 .. CAP_CUDA_SUB_BINS - 1 are
 * equal parts of (lo, greatest cost] (inv = their count over the width). Monotone in x, as
 * the bins are, so the values of sub-bin j are above those of every sub-bin before it, and an
 * order statistic of the bin is one of the sub-bin holding its rank. */
#define CAP_CUDA_SUB_BINS 2048
#define CAP_CUDA_SUB_MIN  8192 /* a wanted bin of more values is refined */

static __device__ int cap_mc_sub_bin(double x, double lo, double inv)
{
    if (__double_as_longlong(x) == __double_as_longlong(lo)) /* bits: -0 is not +0 */
        return 0;
    double f = (x - lo) * inv;
    return 1 +
           (f >= (double)(CAP_CUDA_SUB_BINS - 2) ? CAP_CUDA_SUB_BINS - 2 : (f > 0.0 ? (int)f : 0));
}

/* The wanted bins to refine (id) and their sub-bins' scales, passed by value. */
typedef struct {
    cap_mc_id_set bins;
    double lo[CAP_MC_SEL_WANTED], inv[CAP_MC_SEL_WANTED];
} cap_mc_sub_set;

/* counts[j * CAP_CUDA_SUB_BINS + b]: costs of bin set.id[j] in its sub-bin b. */
__global__ void __launch_bounds__(CAP_CUDA_SELECT_THREADS)
    cap_mc_select_sub_kernel(const double *a, int64_t n, double lo, double inv_width,
                             cap_mc_sub_set set, unsigned long long *counts)
{
    __shared__ unsigned int local[(CAP_MC_SEL_WANTED - 1) * CAP_CUDA_SUB_BINS];
    int slots = set.bins.count * CAP_CUDA_SUB_BINS;
    for (int b = threadIdx.x; b < slots; b += blockDim.x)
        local[b] = 0u;
    __syncthreads();
    int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
        double x = a[i];
        long long bin = (long long)cap_mc_select_bin(x, lo, inv_width);
        for (int j = 0; j < set.bins.count; j++)
            if (bin == set.bins.id[j])
                atomicAdd(&local[j * CAP_CUDA_SUB_BINS + cap_mc_sub_bin(x, set.lo[j], set.inv[j])],
                          1u);
    }
    __syncthreads();
    for (int b = threadIdx.x; b < slots; b += blockDim.x)
        if (local[b])
            atomicAdd(&counts[b], (unsigned long long)local[b]);
}

/* Pass 2's copies: the costs in one selection bin (in one of its sub-bins when sub >= 0),
 * kept in sample order (cub's select). */
struct cap_mc_in_bin {
    double lo, inv_width;
    int64_t bin;
    int sub;
    double sub_lo, sub_inv;
    __device__ bool operator()(const double &x) const
    {
        return cap_mc_select_bin(x, lo, inv_width) == bin &&
               (sub < 0 || cap_mc_sub_bin(x, sub_lo, sub_inv) == sub);
    }
};

__global__ void cap_mc_rng_kernel(cap_mc_model m, double *out, int64_t pairs)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < pairs;
         i += (int64_t)gridDim.x * blockDim.x)
        cap_mc_normal_pair(cap_mc_philox(&m, (uint64_t)i, 1, CAP_MC_STREAM_NORMAL, 0), &out[2 * i],
                           &out[2 * i + 1]);
}

static unsigned grid_for(int64_t threads)
{
    int64_t blocks = (threads + CAP_CUDA_THREADS - 1) / CAP_CUDA_THREADS;
    return (unsigned)(blocks < 1 ? 1 : (blocks > 65535 * 32 ? 65535 * 32 : blocks));
}

/* ---- backend state ------------------------------------------------------------------------ */

typedef struct {
    cap_mc_model model; /* device pointers */
    void *arrays[32];
    int array_count;
    int device;
    cap_mc_cuda_variant variant;
    bool profile;              /* CAPPLAN_MC_PROFILE set: time each stage (synchronising) */
    double prof_last, prof[7]; /* seconds: the PROF_* stages */
    int place;                 /* fused: CAP_WS_* */
    int fused_threads;         /* fused: threads per block */
    int multiprocessors;
    size_t fused_smem; /* fused: dynamic shared memory per block */
    int64_t stride;    /* lanes per chunk, multiple of CAP_MC_BLOCK */
    double *ws, *rec, *pd;
    int64_t *pc;
    double *gemm_coef; /* [T][W * offering_rows]: column-major O_r x W per period */
    double *staging;   /* host, for copy_sparse */
    double *nonzero;   /* device: one row's nonzeros (copy_sparse_on_device) */
    int *nonzero_count;
    void *nonzero_temp; /* cub's scratch */
    size_t nonzero_temp_bytes;
    bool nonzero_failed; /* no room for them: the host compacts */
    cublasHandle_t blas;
    bool have_blas;
    /* pass 2 */
    double *pinned; /* the engine's cost store, registered with cudaHostRegister */
    bool pin_tried;
    double *kept; /* [kept_rows][kept_pitch]: pass 1's records (cuda_keep) */
    int64_t kept_rows, kept_pitch;
    int64_t split; /* record rows below it are written in place in kept (the path kernel) */
    bool hist_ready, hist_in_kept; /* hist_in_kept: pass 2's rows are all kept */
    int hist_rows;
    int64_t *d_row, *d_bins, *d_offset;
    double *d_lo, *d_inv_width;
    unsigned long long *d_counts, *d_at_min;
} cuda_state;

template <typename T>
static int upload(cuda_state *st, const T *host, int64_t count, const T **out, char *error,
                  int error_size)
{
    T *dev = NULL;
    size_t bytes = (size_t)(count > 0 ? count : 1) * sizeof(T);
    CAP_CUDA_CHECK(cudaMalloc((void **)&dev, bytes));
    st->arrays[st->array_count++] = dev;
    if (count > 0 && host)
        CAP_CUDA_CHECK(cudaMemcpy(dev, host, (size_t)count * sizeof(T), cudaMemcpyHostToDevice));
    else
        CAP_CUDA_CHECK(cudaMemset(dev, 0, bytes));
    *out = dev;
    return CAP_MC_OK;
}

static int upload_model(cuda_state *st, const cap_mc_model *h, char *error, int error_size)
{
    cap_mc_model *d = &st->model;
    *d = *h;
    int64_t W = h->workload_count, O = h->offering_count, T = h->period_count;
    int64_t nnz = h->delivery_start[T * W], rnnz = h->recourse_start[T * W];
    int s = CAP_MC_OK;
#define UP(field, count)                                                                           \
    if ((s = upload(st, h->field, (count), &d->field, error, error_size)) != CAP_MC_OK)            \
    return s
    UP(sigma, W);
    UP(half_var, W);
    UP(chol, W * W);
    UP(demand, W * T);
    UP(hours, T);
    UP(scales, h->scale_count);
    UP(penalty_hours, W * T);
    UP(provider_threshold, h->provider_rows);
    UP(offering_threshold, h->offering_rows);
    UP(offering_provider, h->offering_rows);
    UP(availability, h->offering_rows);
    UP(delivery_start, T * W + 1);
    UP(delivery_offering, nnz);
    UP(delivery_coef, nnz);
    UP(delivery_avail, nnz);
    UP(thr, W * O);
    UP(spare_capacity, O * T);
    UP(price_hours, O * T);
    UP(priority, W);
    UP(recourse_start, T * W + 1);
    UP(recourse_offering, rnnz);
    UP(recourse_entry, rnnz);
#undef UP
    return CAP_MC_OK;
}

/* Dense per-period coefficients thr * plan for the delivered-H100e GEMM, from the CSR. */
static int upload_gemm_coef(cuda_state *st, const cap_mc_model *h, char *error, int error_size)
{
    int64_t W = h->workload_count, T = h->period_count, OR = h->offering_rows;
    size_t count = (size_t)(T * W * OR > 0 ? T * W * OR : 1);
    double *dense = (double *)calloc(count, sizeof(double));
    if (!dense)
        return cap_cuda_fail("out of host memory", "calloc", __FILE__, __LINE__, error, error_size);
    for (int64_t t = 0; t < T; t++)
        for (int64_t w = 0; w < W; w++)
            for (int64_t e = h->delivery_start[t * W + w]; e < h->delivery_start[t * W + w + 1];
                 e++)
                dense[t * W * OR + w * OR + h->delivery_offering[e]] = h->delivery_coef[e];
    const double *dev = NULL;
    int status = upload(st, dense, (int64_t)count, &dev, error, error_size);
    free(dense);
    st->gemm_coef = (double *)dev;
    return status;
}

/* Profiling (CAPPLAN_MC_PROFILE=1): waits for the device and charges the time since the
 * last mark to one stage; a run then prints where its device time went. */
enum { PROF_SIM, PROF_REDUCE, PROF_PARTIALS, PROF_STORE, PROF_SPARSE, PROF_HIST, PROF_QUANTILES };

static void prof_mark(cuda_state *st, int stage)
{
    if (!st->profile)
        return;
    cudaDeviceSynchronize();
    double now = cap_mc_seconds();
    if (stage >= 0)
        st->prof[stage] += now - st->prof_last;
    st->prof_last = now;
}

static void cuda_free(cap_mc_backend *backend)
{
    if (!backend)
        return;
    cuda_state *st = (cuda_state *)backend->state;
    if (st && st->profile)
        fprintf(stderr,
                "mc profile (cuda): simulate %.3f s, reduce %.3f s, partials to host %.3f s, "
                "costs to host %.3f s, nonzeros to host %.3f s, histograms %.3f s, cost "
                "quantiles %.3f s\n",
                st->prof[PROF_SIM], st->prof[PROF_REDUCE], st->prof[PROF_PARTIALS],
                st->prof[PROF_STORE], st->prof[PROF_SPARSE], st->prof[PROF_HIST],
                st->prof[PROF_QUANTILES]);
    if (st) {
        cudaSetDevice(st->device);
        for (int i = 0; i < st->array_count; i++)
            cudaFree(st->arrays[i]);
        cudaFree(st->ws), cudaFree(st->rec), cudaFree(st->pd), cudaFree(st->pc);
        cudaFree(st->nonzero), cudaFree(st->nonzero_count), cudaFree(st->nonzero_temp);
        cudaFree(st->d_row), cudaFree(st->d_bins), cudaFree(st->d_offset);
        cudaFree(st->d_lo), cudaFree(st->d_inv_width), cudaFree(st->d_counts);
        cudaFree(st->d_at_min);
        cudaFree(st->kept);
        if (st->pinned)
            cudaHostUnregister(st->pinned);
        if (st->have_blas)
            cap_blas.destroy(st->blas);
        free(st->staging);
        cudaGetLastError();
        free(st);
    }
    free(backend);
}

/* ---- one job ------------------------------------------------------------------------------ */

typedef void (*cap_path_kernel_fn)(cap_mc_model, double *, cap_mc_rec_out, int, uint64_t);

/* The records of the chunk that starts at sample `first`: kept rows in place (split). */
static cap_mc_rec_out chunk_records(const cuda_state *st, int64_t first)
{
    cap_mc_rec_out out = {st->rec, st->stride, st->kept ? st->kept + first : st->rec,
                          st->kept ? st->kept_pitch : st->stride, st->split};
    return out;
}

/* Row `row` of those records and the distance between its rows (for copies of row ranges
 * that lie on one side of the split, as every range copied here does). */
static const double *chunk_row(const cuda_state *st, int64_t first, int64_t row, int64_t *pitch)
{
    *pitch = row < st->split ? st->kept_pitch : st->stride;
    return cap_mc_rec_at(chunk_records(st, first), row);
}

static cap_path_kernel_fn path_kernel(int place, int threads)
{
    if (place == CAP_WS_SHARED)
        return threads == 128  ? cap_mc_path_kernel<CAP_WS_SHARED, 128>
               : threads == 64 ? cap_mc_path_kernel<CAP_WS_SHARED, 64>
                               : cap_mc_path_kernel<CAP_WS_SHARED, 32>;
    return threads == 128  ? cap_mc_path_kernel<CAP_WS_BLOCK, 128>
           : threads == 64 ? cap_mc_path_kernel<CAP_WS_BLOCK, 64>
                           : cap_mc_path_kernel<CAP_WS_BLOCK, 32>;
}

static int simulate_fused(cuda_state *st, int lanes, uint64_t first, char *error, int error_size)
{
    unsigned threads = (unsigned)st->fused_threads;
    unsigned grid = (unsigned)((lanes + threads - 1) / threads);
    if (st->place == CAP_WS_CHUNK)
        cap_mc_lanes_kernel<<<grid, threads>>>(st->model, st->ws, st->rec, st->stride, lanes,
                                               first);
    else
        path_kernel(st->place, (int)threads)<<<grid, threads, st->fused_smem>>>(
            st->model, st->ws, chunk_records(st, (int64_t)first), lanes, first);
    CAP_CUDA_CHECK(cudaGetLastError());
    return CAP_MC_OK;
}

/* Fused kernel layout. SHARED takes the block size (128, 64 or 32 threads) that keeps the
 * most warps resident per multiprocessor, its state (cap_mc_path_doubles a thread) within
 * the opt-in shared-memory limit; CAP_MC_CUDA_FUSED uses it when at least
 * CAP_CUDA_SHARED_MIN_WARPS warps fit, and otherwise the per-block slice of device memory
 * (measured in docs/monte-carlo.md §5). */
#define CAP_CUDA_SHARED_MIN_WARPS 16

/* Shared memory of a BLOCK-placed path kernel: the bit words of its threads. */
static size_t path_bit_bytes(const cap_mc_model *m, int threads)
{
    return (size_t)cap_mc_path_words(m) * sizeof(uint32_t) * (size_t)threads;
}

/* BLOCK: the state in the block's slice of `ws`, its bit words in shared memory (a bit is
 * tested at every recourse step: in device memory each test waited on a load), with as many
 * threads a block (128, 64, 32) as the words allow. When even 32 threads' words do not fit
 * (some 19,000 offerings on an H100) the layout is CHUNK, whose words live in device memory,
 * unless the BLOCK variant was asked for by name: that is an error. */
static int block_layout(cuda_state *st, const cudaDeviceProp *prop, char *error, int error_size)
{
    size_t limit = prop->sharedMemPerBlockOptin;
    int threads = CAP_CUDA_THREADS;
    while (threads > 32 && path_bit_bytes(&st->model, threads) > limit)
        threads /= 2;
    size_t bytes = path_bit_bytes(&st->model, threads);
    if (bytes > limit) {
        if (st->variant != CAP_MC_CUDA_FUSED_BLOCK)
            return CAP_MC_OK; /* CHUNK, as choose_fused_layout set it */
        if (error && error_size > 0)
            snprintf(error, (size_t)error_size,
                     "mc: the BLOCK layout holds a sample's bit words in shared memory, and %d "
                     "offerings need %zu bytes a block of 32 threads, more than the device's %zu",
                     st->model.offering_count, bytes, limit);
        return CAP_MC_ERR_BACKEND;
    }
    CAP_CUDA_CHECK(cudaFuncSetAttribute(path_kernel(CAP_WS_BLOCK, threads),
                                        cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes));
    st->place = CAP_WS_BLOCK;
    st->fused_threads = threads;
    st->fused_smem = bytes;
    return CAP_MC_OK;
}

static int choose_fused_layout(cuda_state *st, const cudaDeviceProp *prop, char *error,
                               int error_size)
{
    st->place = CAP_WS_CHUNK;
    st->fused_threads = CAP_CUDA_THREADS;
    st->fused_smem = 0;
    if (st->variant == CAP_MC_CUDA_FUSED_CHUNK)
        return CAP_MC_OK;
    if (st->variant == CAP_MC_CUDA_FUSED_BLOCK)
        return block_layout(st, prop, error, error_size);
    size_t per_thread = (size_t)cap_mc_path_doubles(&st->model) * sizeof(double);
    size_t limit = prop->sharedMemPerBlockOptin;
    int best_warps = 0, best_threads = 0;
    for (int threads = 128; threads >= 32; threads /= 2) {
        size_t bytes = per_thread * (size_t)threads;
        if (bytes > limit)
            continue;
        cap_path_kernel_fn kernel = path_kernel(CAP_WS_SHARED, threads);
        CAP_CUDA_CHECK(
            cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)limit));
        int blocks = 0;
        CAP_CUDA_CHECK(
            cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, threads, bytes));
        int warps = blocks * threads / 32;
        if (warps > best_warps)
            best_warps = warps, best_threads = threads;
    }
    bool use = best_warps > 0 &&
               (st->variant == CAP_MC_CUDA_FUSED_SHARED || best_warps >= CAP_CUDA_SHARED_MIN_WARPS);
    if (!use)
        return block_layout(st, prop, error, error_size);
    st->place = CAP_WS_SHARED;
    st->fused_threads = best_threads;
    st->fused_smem = per_thread * (size_t)best_threads;
    return CAP_MC_OK;
}

static int simulate_gemm(cuda_state *st, int lanes, uint64_t first, char *error, int error_size)
{
    const cap_mc_model *m = &st->model;
    int W = m->workload_count, OR = m->offering_rows;
    int64_t ld = st->stride;
    const double one = 1.0, zero = 0.0;
    unsigned grid = grid_for(lanes);
    double *n_rows = st->ws + cap_mc_row_n(m, 0) * ld, *z_rows = st->ws + cap_mc_row_z(m, 0) * ld;
    double *a_rows = st->ws + cap_mc_row_a(m, 0) * ld, *d_rows = st->ws + cap_mc_row_d(m, 0) * ld;
    for (int t = 0; t < m->period_count; t++) {
        if (t == 0) {
            cap_mc_start_kernel<<<grid, CAP_CUDA_THREADS>>>(*m, st->ws, st->rec, ld, lanes, first);
            CAP_CUDA_CHECK(cudaGetLastError());
        } else {
            if (m->any_sigma) {
                cap_mc_normals_kernel<<<grid, CAP_CUDA_THREADS>>>(*m, st->ws, ld, lanes, first, t);
                CAP_CUDA_CHECK(cudaGetLastError());
                if (!m->chol_identity) /* Z' (lanes x W) = N' (lanes x W) L^T */
                    CAP_CUDA_CHECK(cap_blas.dgemm(st->blas, CUBLAS_OP_N, CUBLAS_OP_N, lanes, W, W,
                                                  &one, n_rows, ld, m->chol, W, &zero, z_rows, ld));
            }
            cap_mc_shocks_kernel<<<grid, CAP_CUDA_THREADS>>>(*m, st->ws, st->rec, ld, lanes, first,
                                                             t);
            CAP_CUDA_CHECK(cudaGetLastError());
        }
        /* D' (lanes x W) = A' (lanes x O_r) G_t^T, G_t^T stored column-major O_r x W */
        if (OR > 0)
            CAP_CUDA_CHECK(cap_blas.dgemm(st->blas, CUBLAS_OP_N, CUBLAS_OP_N, lanes, W, OR, &one,
                                          a_rows, ld, st->gemm_coef + (int64_t)t * W * OR, OR,
                                          &zero, d_rows, ld));
        else
            CAP_CUDA_CHECK(cudaMemset2D(d_rows, (size_t)ld * sizeof(double), 0,
                                        (size_t)lanes * sizeof(double), (size_t)W));
        cap_mc_settle_kernel<<<grid, CAP_CUDA_THREADS>>>(*m, st->ws, st->rec, ld, lanes, first, t);
        CAP_CUDA_CHECK(cudaGetLastError());
    }
    return CAP_MC_OK;
}

static int prepare_histograms(cuda_state *st, const cap_mc_hist *h, char *error, int error_size)
{
    size_t rows = (size_t)(h->row_count > 0 ? h->row_count : 1);
    size_t bins = (size_t)(h->total_bins > 0 ? h->total_bins : 1);
    CAP_CUDA_CHECK(cudaMalloc((void **)&st->d_row, rows * sizeof(int64_t)));
    CAP_CUDA_CHECK(cudaMalloc((void **)&st->d_bins, rows * sizeof(int64_t)));
    CAP_CUDA_CHECK(cudaMalloc((void **)&st->d_offset, rows * sizeof(int64_t)));
    CAP_CUDA_CHECK(cudaMalloc((void **)&st->d_lo, rows * sizeof(double)));
    CAP_CUDA_CHECK(cudaMalloc((void **)&st->d_inv_width, rows * sizeof(double)));
    CAP_CUDA_CHECK(cudaMalloc((void **)&st->d_at_min, rows * sizeof(unsigned long long)));
    CAP_CUDA_CHECK(cudaMalloc((void **)&st->d_counts, bins * sizeof(unsigned long long)));
    size_t n = (size_t)h->row_count;
    CAP_CUDA_CHECK(cudaMemcpy(st->d_row, h->row, n * sizeof(int64_t), cudaMemcpyHostToDevice));
    CAP_CUDA_CHECK(cudaMemcpy(st->d_bins, h->bins, n * sizeof(int64_t), cudaMemcpyHostToDevice));
    CAP_CUDA_CHECK(
        cudaMemcpy(st->d_offset, h->offset, n * sizeof(int64_t), cudaMemcpyHostToDevice));
    CAP_CUDA_CHECK(cudaMemcpy(st->d_lo, h->lo, n * sizeof(double), cudaMemcpyHostToDevice));
    CAP_CUDA_CHECK(
        cudaMemcpy(st->d_inv_width, h->inv_width, n * sizeof(double), cudaMemcpyHostToDevice));
    CAP_CUDA_CHECK(cudaMemset(st->d_at_min, 0, rows * sizeof(unsigned long long)));
    CAP_CUDA_CHECK(cudaMemset(st->d_counts, 0, bins * sizeof(unsigned long long)));
    st->hist_rows = h->row_count;
    st->hist_ready = true;
    st->hist_in_kept = st->kept != NULL;
    for (int i = 0; i < h->row_count; i++)
        st->hist_in_kept = st->hist_in_kept && h->row[i] < st->kept_rows;
    return CAP_MC_OK;
}

static int flush_histograms(cuda_state *st, const cap_mc_hist *h, char *error, int error_size)
{
    if (!st->hist_ready)
        return CAP_MC_OK;
    size_t rows = (size_t)h->row_count, bins = (size_t)h->total_bins;
    unsigned long long *counts = (unsigned long long *)malloc((bins + rows + 1) * sizeof *counts);
    if (!counts)
        return cap_cuda_fail("out of host memory", "malloc", __FILE__, __LINE__, error, error_size);
    cudaError_t a = cudaMemcpy(counts, st->d_counts, bins * sizeof *counts, cudaMemcpyDeviceToHost);
    cudaError_t b =
        cudaMemcpy(counts + bins, st->d_at_min, rows * sizeof *counts, cudaMemcpyDeviceToHost);
    if (a == cudaSuccess && b == cudaSuccess) {
        for (size_t i = 0; i < bins; i++)
            h->counts[i] += (int64_t)counts[i];
        for (size_t i = 0; i < rows; i++)
            h->at_min[i] += (int64_t)counts[bins + i];
    }
    free(counts);
    CAP_CUDA_CHECK(a);
    CAP_CUDA_CHECK(b);
    CAP_CUDA_CHECK(cudaMemset(st->d_counts, 0, (bins ? bins : 1) * sizeof(unsigned long long)));
    CAP_CUDA_CHECK(cudaMemset(st->d_at_min, 0, (rows ? rows : 1) * sizeof(unsigned long long)));
    return CAP_MC_OK;
}

/* The nonzero values of a record row (cub's select keeps them in sample order; the engine
 * needs them in any order). */
struct cap_mc_nonzero {
    __device__ bool operator()(const double &x) const
    {
        return x != 0.0;
    }
};

/* Nonzero unmet hours and shortfalls to the host: each row compacted on the device, then
 * only its nonzeros copied (1e6 samples of the default scenario: 0.56 s when whole rows
 * crossed to the host to be compacted there, the path below, kept for when the device has
 * no room for a row's scratch). */
static int copy_sparse_on_device(cuda_state *st, const cap_mc_job *job, int lanes, char *error,
                                 int error_size)
{
    if (!st->nonzero) {
        size_t temp_bytes = 0;
        CAP_CUDA_CHECK(cub::DeviceSelect::If(NULL, temp_bytes, st->rec, st->rec, (int *)NULL,
                                             (int)st->stride, cap_mc_nonzero()));
        if (cudaMalloc((void **)&st->nonzero, (size_t)st->stride * sizeof(double)) != cudaSuccess ||
            cudaMalloc((void **)&st->nonzero_count, sizeof(int)) != cudaSuccess ||
            cudaMalloc(&st->nonzero_temp, temp_bytes > 0 ? temp_bytes : 1) != cudaSuccess) {
            cudaGetLastError(); /* no room: the host compacts */
            cudaFree(st->nonzero), cudaFree(st->nonzero_count), cudaFree(st->nonzero_temp);
            st->nonzero = NULL, st->nonzero_count = NULL, st->nonzero_temp = NULL;
            return CAP_MC_ERR_BACKEND;
        }
        st->nonzero_temp_bytes = temp_bytes;
    }
    for (int64_t r = 0; r < job->sparse_rows; r++) {
        int64_t pitch = 0;
        const double *row = chunk_row(st, job->first_sample, job->sparse_row0 + r, &pitch);
        size_t temp_bytes = st->nonzero_temp_bytes;
        int count = 0;
        CAP_CUDA_CHECK(cub::DeviceSelect::If(st->nonzero_temp, temp_bytes, row, st->nonzero,
                                             st->nonzero_count, lanes, cap_mc_nonzero()));
        CAP_CUDA_CHECK(cudaMemcpy(&count, st->nonzero_count, sizeof count, cudaMemcpyDeviceToHost));
        if (count > 0)
            CAP_CUDA_CHECK(cudaMemcpy(job->sparse[r] + job->sparse_count[r], st->nonzero,
                                      (size_t)count * sizeof(double), cudaMemcpyDeviceToHost));
        job->sparse_count[r] += count;
    }
    return CAP_MC_OK;
}

/* Nonzero unmet hours and shortfalls to the host, through a staging buffer of at most
 * CAP_CUDA_STAGING bytes (the engine keeps these only for runs within its exact-quantile
 * memory, so the traffic is bounded too). */
static int copy_sparse(cuda_state *st, const cap_mc_job *job, int lanes, char *error,
                       int error_size)
{
    if (!st->nonzero_failed) {
        int status = copy_sparse_on_device(st, job, lanes, error, error_size);
        if (status != CAP_MC_ERR_BACKEND)
            return status;
        st->nonzero_failed = true;
    }
    int64_t rows = job->sparse_rows;
    int64_t slice = CAP_CUDA_STAGING / (rows * (int64_t)sizeof(double));
    slice = slice < 1 ? 1 : (slice > st->stride ? st->stride : slice); /* fixed per run */
    if (!st->staging) {
        st->staging = (double *)malloc((size_t)(slice * rows) * sizeof(double));
        if (!st->staging)
            return cap_cuda_fail("out of host memory", "malloc", __FILE__, __LINE__, error,
                                 error_size);
    }
    for (int64_t first = 0; first < lanes; first += slice) {
        int64_t len = lanes - first < slice ? lanes - first : slice;
        int64_t pitch = 0;
        const double *from = chunk_row(st, job->first_sample, job->sparse_row0, &pitch) + first;
        CAP_CUDA_CHECK(cudaMemcpy2D(st->staging, (size_t)len * sizeof(double), from,
                                    (size_t)pitch * sizeof(double), (size_t)len * sizeof(double),
                                    (size_t)rows, cudaMemcpyDeviceToHost));
        for (int64_t r = 0; r < rows; r++) {
            const double *x = st->staging + r * len;
            double *out = job->sparse[r];
            int64_t count = job->sparse_count[r];
            for (int64_t j = 0; j < len; j++)
                if (x[j] != 0.0)
                    out[count++] = x[j];
            job->sparse_count[r] = count;
        }
    }
    return CAP_MC_OK;
}

/* Record rows kept in device memory for the whole run (cap_mc_backend.keep): pass 2's
 * rows in two-pass runs, so pass 2 bins them instead of simulating every sample again
 * (same values, so the same histograms), or the costs, selected in place. At most half of
 * what is free; otherwise pass 2 simulates again and the costs go to the host. */
#define CAP_CUDA_KEEP_FRACTION 0.5

static bool cuda_keep(cap_mc_backend *backend, int64_t samples, int64_t rows)
{
    cuda_state *st = (cuda_state *)backend->state;
    size_t free_bytes = 0, total_bytes = 0;
    if (st->kept || cudaSetDevice(st->device) != cudaSuccess ||
        cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
        cudaGetLastError();
        return false;
    }
    double bytes = (double)rows * (double)samples * sizeof(double);
    if (bytes > CAP_CUDA_KEEP_FRACTION * (double)free_bytes)
        return false;
    if (cudaMalloc((void **)&st->kept, (size_t)bytes) != cudaSuccess) {
        cudaGetLastError();
        st->kept = NULL;
        return false;
    }
    st->kept_rows = rows;
    st->kept_pitch = samples;
    bool in_place = st->variant != CAP_MC_CUDA_GEMM && st->place != CAP_WS_CHUNK;
    st->split = in_place ? rows : 0;
    return true;
}

/* The costs kept for exact quantiles (8 bytes a sample and scale, up to the 1 GiB budget)
 * cross to the host at about 3 GB/s into pageable memory and at the link's speed into
 * pinned memory, so the store is registered once for the run (the engine frees it only
 * after the backend). Failing to register just leaves the slower copy. */
static void pin_store(cuda_state *st, const cap_mc_job *job)
{
    st->pin_tried = true;
    size_t bytes = (size_t)(job->store_rows * job->store_pitch) * sizeof(double);
    if (cudaHostRegister(job->store, bytes, cudaHostRegisterDefault) == cudaSuccess)
        st->pinned = job->store;
    else
        cudaGetLastError();
}

static int cuda_run(cap_mc_backend *backend, const cap_mc_job *job, char *error, int error_size)
{
    cuda_state *st = (cuda_state *)backend->state;
    const cap_mc_model *m = &st->model;
    CAP_CUDA_CHECK(cudaSetDevice(st->device));
    if (job->kind == CAP_MC_JOB_FLUSH)
        return flush_histograms(st, job->hist, error, error_size);
    int lanes = (int)job->sample_count;
    uint64_t first = (uint64_t)job->first_sample;
    int status = CAP_MC_OK;
    if (job->kind == CAP_MC_JOB_HISTOGRAM && !st->hist_ready &&
        (status = prepare_histograms(st, job->hist, error, error_size)) != CAP_MC_OK)
        return status;
    bool replay = job->kind == CAP_MC_JOB_HISTOGRAM && st->hist_in_kept;
    prof_mark(st, -1);
    if (!replay)
        status = st->variant == CAP_MC_CUDA_GEMM
                     ? simulate_gemm(st, lanes, first, error, error_size)
                     : simulate_fused(st, lanes, first, error, error_size);
    if (status != CAP_MC_OK)
        return status;
    prof_mark(st, PROF_SIM);
    if (job->kind == CAP_MC_JOB_HISTOGRAM) {
        if (st->hist_rows > 0) {
            /* pass 2 bins pass 1's kept records, or the records just simulated again */
            cap_mc_rec_out rec = chunk_records(st, job->first_sample);
            if (replay)
                rec.split = st->kept_rows;
            /* about 8 blocks a multiprocessor in all, each over many lanes (its shared
             * counts are added to the device's once per block) */
            int per_row = 8 * st->multiprocessors / st->hist_rows;
            int64_t most = (lanes + CAP_CUDA_HIST_THREADS - 1) / CAP_CUDA_HIST_THREADS;
            per_row = per_row < 1 ? 1 : (per_row > most ? (int)most : per_row);
            dim3 grid((unsigned)per_row, st->hist_rows < 65535 ? st->hist_rows : 65535);
            cap_mc_histogram_kernel<<<grid, CAP_CUDA_HIST_THREADS>>>(
                rec, lanes, st->hist_rows, st->d_row, st->d_lo, st->d_inv_width, st->d_bins,
                st->d_offset, st->d_counts, st->d_at_min);
            CAP_CUDA_CHECK(cudaGetLastError());
        }
        CAP_CUDA_CHECK(cudaDeviceSynchronize());
        prof_mark(st, PROF_HIST);
        return CAP_MC_OK;
    }
    int64_t blocks = (lanes + CAP_MC_BLOCK - 1) / CAP_MC_BLOCK;
    int64_t units = cap_mc_units(m) * m->scale_count;
    cap_mc_reduce_kernel<<<grid_for(blocks * units * 32), CAP_CUDA_THREADS>>>(
        *m, chunk_records(st, job->first_sample), lanes, st->pd, st->pc);
    CAP_CUDA_CHECK(cudaGetLastError());
    prof_mark(st, PROF_REDUCE);
    size_t pd_bytes =
        (size_t)(blocks * cap_mc_partial_doubles(m) * m->scale_count) * sizeof(double);
    size_t pc_bytes =
        (size_t)(blocks * cap_mc_partial_counts(m) * m->scale_count) * sizeof(int64_t);
    CAP_CUDA_CHECK(cudaMemcpy(job->partial_d, st->pd, pd_bytes, cudaMemcpyDeviceToHost));
    CAP_CUDA_CHECK(cudaMemcpy(job->partial_c, st->pc, pc_bytes, cudaMemcpyDeviceToHost));
    prof_mark(st, PROF_PARTIALS);
    if (st->kept && st->split == 0) /* kernels that cannot write them in place */
        CAP_CUDA_CHECK(cudaMemcpy2D(
            st->kept + job->first_sample, (size_t)st->kept_pitch * sizeof(double), st->rec,
            (size_t)st->stride * sizeof(double), (size_t)lanes * sizeof(double),
            (size_t)st->kept_rows, cudaMemcpyDeviceToDevice));
    if (job->store && job->store_rows > 0 && !st->pin_tried)
        pin_store(st, job);
    if (job->store && job->store_rows > 0) {
        int64_t pitch = 0;
        const double *costs = chunk_row(st, job->first_sample, 0, &pitch);
        CAP_CUDA_CHECK(cudaMemcpy2D(job->store + job->first_sample,
                                    (size_t)job->store_pitch * sizeof(double), costs,
                                    (size_t)pitch * sizeof(double), (size_t)lanes * sizeof(double),
                                    (size_t)job->store_rows, cudaMemcpyDeviceToHost));
    }
    prof_mark(st, PROF_STORE);
    if (job->sparse && job->sparse_rows > 0)
        status = copy_sparse(st, job, lanes, error, error_size);
    prof_mark(st, PROF_SPARSE);
    return status;
}

/* ---- exact cost quantiles ------------------------------------------------------------------ */

#define CAP_CUDA_SELECT_SEGMENT ((int64_t)1 << 30) /* items per cub call (its counts are int) */

typedef struct {
    unsigned long long *counts, *coarse; /* device: group or bin counts, coarse histogram */
    cap_mc_ksum *above;                  /* device: [tail_blocks] */
    double *out;                         /* device: one bin's values */
    int *selected;                       /* device: cub's count */
    void *temp;                          /* device: cub's scratch */
    size_t temp_bytes;
    unsigned long long *sub_counts;  /* device: sub-bin counts of the refined bins */
    unsigned long long *host_counts; /* [CAP_MC_SELECT_BINS + hbins] */
    unsigned long long *host_sub;    /* the sub-bin counts */
    int64_t *total;
    cap_mc_ksum *host_above;
    double *values[CAP_MC_SEL_WANTED];
    bool short_of_memory; /* an allocation failed: the host can select instead */
} select_scratch;

static void select_scratch_free(select_scratch *x)
{
    cudaFree(x->counts), cudaFree(x->coarse), cudaFree(x->above), cudaFree(x->out);
    cudaFree(x->selected), cudaFree(x->temp), cudaFree(x->sub_counts);
    free(x->host_counts), free(x->total), free(x->host_above), free(x->host_sub);
    for (int w = 0; w < CAP_MC_SEL_WANTED; w++)
        free(x->values[w]);
}

/* cudaMalloc that records a shortage instead of failing the run. */
static cudaError_t select_alloc(select_scratch *x, void **p, size_t bytes)
{
    cudaError_t status = cudaMalloc(p, bytes);
    if (status == cudaErrorMemoryAllocation)
        x->short_of_memory = true;
    return status;
}

/* The len costs of a[0, n) that in_bin takes, in sample order, into host `out`. */
static int gather_bin(select_scratch *x, const double *a, int64_t n, cap_mc_in_bin in_bin,
                      int64_t len, double *out, char *error, int error_size)
{
    int64_t got = 0;
    for (int64_t first = 0; first < n; first += CAP_CUDA_SELECT_SEGMENT) {
        int items =
            (int)(n - first < CAP_CUDA_SELECT_SEGMENT ? n - first : CAP_CUDA_SELECT_SEGMENT);
        int selected = 0;
        CAP_CUDA_CHECK(cub::DeviceSelect::If(x->temp, x->temp_bytes, a + first, x->out + got,
                                             x->selected, items, in_bin));
        CAP_CUDA_CHECK(cudaMemcpy(&selected, x->selected, sizeof selected, cudaMemcpyDeviceToHost));
        got += selected;
    }
    if (got != len)
        return cap_cuda_fail("the selection disagrees with the counts", "gather_bin", __FILE__,
                             __LINE__, error, error_size);
    CAP_CUDA_CHECK(cudaMemcpy(out, x->out, (size_t)len * sizeof(double), cudaMemcpyDeviceToHost));
    return CAP_MC_OK;
}

/* CAPPLAN_MC_PROFILE: the time of each step of select_on_device (waiting for the device). */
typedef struct {
    bool on;
    int ticks;
    double t[6];
} select_clock;

static void select_tick(select_clock *c)
{
    if (!c->on || c->ticks >= 6)
        return;
    cudaDeviceSynchronize();
    c->t[c->ticks++] = cap_mc_seconds();
}

/* cap_mc_cost_quantiles_binned's figures for the n device values a (min lo, max hi): its
 * two passes on the device, the steps between them on the host (cap_mc_select_*). */
static int select_on_device(select_scratch *x, const double *a, int64_t n, double lo, double hi,
                            int multiprocessors, cap_mc_scale_result *s, char *error,
                            int error_size)
{
    cap_mc_select sel;
    int64_t hbins = s->histogram_bins;
    cap_mc_select_start(&sel, n, lo, hi, hbins);
    select_clock clock = {cap_mc_profiling(), 0, {0.0}};
    select_tick(&clock);
    size_t bins = CAP_MC_SELECT_BINS, groups = CAP_CUDA_SELECT_GROUPS;
    size_t refine_slots = CAP_MC_SEL_WANTED * CAP_CUDA_SELECT_GROUP;
    x->host_counts = (unsigned long long *)malloc((groups + refine_slots + (size_t)hbins) *
                                                  sizeof *x->host_counts);
    x->total = (int64_t *)malloc(bins * sizeof *x->total);
    x->host_above = (cap_mc_ksum *)malloc((size_t)sel.tail_blocks * sizeof *x->host_above);
    if (!x->host_counts || !x->total || !x->host_above) {
        x->short_of_memory = true;
        return cap_cuda_fail("out of host memory", "malloc", __FILE__, __LINE__, error, error_size);
    }
    CAP_CUDA_CHECK(select_alloc(x, (void **)&x->counts, groups * sizeof *x->counts));
    CAP_CUDA_CHECK(select_alloc(x, (void **)&x->coarse, (size_t)hbins * sizeof *x->coarse));
    CAP_CUDA_CHECK(select_alloc(x, (void **)&x->above, (size_t)sel.tail_blocks * sizeof *x->above));
    CAP_CUDA_CHECK(cudaMemset(x->counts, 0, groups * sizeof *x->counts));
    CAP_CUDA_CHECK(cudaMemset(x->coarse, 0, (size_t)hbins * sizeof *x->coarse));
    /* pass 1, first round: the groups and the coarse histogram */
    int64_t most = (n + CAP_CUDA_SELECT_THREADS - 1) / CAP_CUDA_SELECT_THREADS;
    unsigned grid = (unsigned)(8 * (int64_t)multiprocessors < most ? 8 * multiprocessors : most);
    cap_mc_id_set refine;
    memset(&refine, 0, sizeof refine);
    cap_mc_select_count_kernel<<<grid, CAP_CUDA_SELECT_THREADS>>>(
        a, n, sel.lo, sel.inv_width, sel.coarse_inv, hbins, refine, x->counts, x->coarse);
    CAP_CUDA_CHECK(cudaGetLastError());
    unsigned long long *group_count = x->host_counts, *fine = x->host_counts + groups,
                       *coarse = fine + refine_slots;
    CAP_CUDA_CHECK(
        cudaMemcpy(group_count, x->counts, groups * sizeof *x->counts, cudaMemcpyDeviceToHost));
    CAP_CUDA_CHECK(
        cudaMemcpy(coarse, x->coarse, (size_t)hbins * sizeof *x->coarse, cudaMemcpyDeviceToHost));
    /* the groups holding a wanted rank */
    for (int w = 0; w < CAP_MC_SEL_WANTED; w++) {
        int64_t seen = 0, g = 0;
        while (seen + (int64_t)group_count[g] <= sel.rank[w])
            seen += (int64_t)group_count[g++];
        id_set_slot(&refine, g);
    }
    select_tick(&clock);
    /* second round: bin by bin inside them */
    CAP_CUDA_CHECK(cudaMemset(x->counts, 0, refine_slots * sizeof *x->counts));
    cap_mc_select_count_kernel<<<grid, CAP_CUDA_SELECT_THREADS>>>(
        a, n, sel.lo, sel.inv_width, sel.coarse_inv, hbins, refine, x->counts, x->coarse);
    CAP_CUDA_CHECK(cudaGetLastError());
    CAP_CUDA_CHECK(
        cudaMemcpy(fine, x->counts, refine_slots * sizeof *x->counts, cudaMemcpyDeviceToHost));
    /* totals for cap_mc_select_locate: exact inside the refined groups; elsewhere a group's
     * count in its first bin, which locates the same bins (no wanted rank falls there) */
    memset(x->total, 0, bins * sizeof *x->total);
    for (size_t g = 0; g < groups; g++)
        x->total[g * CAP_CUDA_SELECT_GROUP] = (int64_t)group_count[g];
    for (int j = 0; j < refine.count; j++) {
        int64_t sum = 0, *t = x->total + refine.id[j] * CAP_CUDA_SELECT_GROUP;
        for (int f = 0; f < CAP_CUDA_SELECT_GROUP; f++)
            sum += t[f] = (int64_t)fine[j * CAP_CUDA_SELECT_GROUP + f];
        if (sum != (int64_t)group_count[refine.id[j]])
            return cap_cuda_fail("the two rounds of counts disagree", "select_on_device", __FILE__,
                                 __LINE__, error, error_size);
    }
    cap_mc_select_locate(&sel, x->total);
    select_tick(&clock);
    /* pass 2 */
    int64_t warps = CAP_CUDA_THREADS / 32;
    cap_mc_select_above_kernel<<<(unsigned)((sel.tail_blocks + warps - 1) / warps),
                                 CAP_CUDA_THREADS>>>(
        a, n, sel.lo, sel.inv_width, sel.bin[CAP_MC_SEL_TAIL], sel.tail_blocks, x->above);
    CAP_CUDA_CHECK(cudaGetLastError());
    select_tick(&clock);
    /* the wanted bins that hold one value only */
    cap_mc_id_set wanted;
    memset(&wanted, 0, sizeof wanted);
    int slot[CAP_MC_SEL_WANTED];
    for (int w = 0; w < CAP_MC_SEL_WANTED; w++)
        slot[w] = id_set_slot(&wanted, sel.bin[w]);
    unsigned long long range[2 * CAP_MC_SEL_WANTED];
    for (int j = 0; j < CAP_MC_SEL_WANTED; j++)
        range[2 * j] = ~0ull, range[2 * j + 1] = 0ull;
    CAP_CUDA_CHECK(cudaMemcpy(x->counts, range, sizeof range, cudaMemcpyHostToDevice));
    cap_mc_select_range_kernel<<<grid, CAP_CUDA_SELECT_THREADS>>>(a, n, sel.lo, sel.inv_width,
                                                                  wanted, x->counts);
    CAP_CUDA_CHECK(cudaGetLastError());
    CAP_CUDA_CHECK(cudaMemcpy(range, x->counts, sizeof range, cudaMemcpyDeviceToHost));
    cap_mc_in_bin take[CAP_MC_SEL_WANTED];
    cap_mc_sub_set sub;
    memset(&sub, 0, sizeof sub);
    for (int w = 0; w < CAP_MC_SEL_WANTED; w++) {
        sel.constant[w] = range[2 * slot[w]] == range[2 * slot[w] + 1];
        sel.value[w] = cap_mc_order_value(range[2 * slot[w]]);
        take[w] = {sel.lo, sel.inv_width, sel.bin[w], -1, 0.0, 0.0};
        /* a large bin read for its order statistic only (not the tail's, whose top CVaR95
         * sums): only the sub-bin holding the rank is copied */
        if (w != CAP_MC_SEL_TAIL && !sel.constant[w] && sel.len[w] > CAP_CUDA_SUB_MIN &&
            sel.bin[w] != sel.bin[CAP_MC_SEL_TAIL]) {
            int before = sub.bins.count, j = id_set_slot(&sub.bins, sel.bin[w]);
            if (j == before) {
                double least = sel.value[w];
                double most = cap_mc_order_value(range[2 * slot[w] + 1]);
                sub.lo[j] = least;
                sub.inv[j] = (double)(CAP_CUDA_SUB_BINS - 1) / (most - least);
            }
            take[w].sub = j; /* for now: the slot; the sub-bin below */
        }
    }
    if (sub.bins.count > 0) {
        size_t slots = (size_t)sub.bins.count * CAP_CUDA_SUB_BINS;
        CAP_CUDA_CHECK(select_alloc(x, (void **)&x->sub_counts, slots * sizeof *x->sub_counts));
        CAP_CUDA_CHECK(cudaMemset(x->sub_counts, 0, slots * sizeof *x->sub_counts));
        cap_mc_select_sub_kernel<<<grid, CAP_CUDA_SELECT_THREADS>>>(a, n, sel.lo, sel.inv_width,
                                                                    sub, x->sub_counts);
        CAP_CUDA_CHECK(cudaGetLastError());
        x->host_sub = (unsigned long long *)malloc(slots * sizeof *x->host_sub);
        if (!x->host_sub) {
            x->short_of_memory = true;
            return cap_cuda_fail("out of host memory", "malloc", __FILE__, __LINE__, error,
                                 error_size);
        }
        const unsigned long long *host_sub = x->host_sub;
        CAP_CUDA_CHECK(cudaMemcpy(x->host_sub, x->sub_counts, slots * sizeof *x->sub_counts,
                                  cudaMemcpyDeviceToHost));
        for (int w = 0; w < CAP_MC_SEL_WANTED; w++) {
            if (take[w].sub < 0)
                continue;
            int j = take[w].sub, b = 0;
            const unsigned long long *c = host_sub + (size_t)j * CAP_CUDA_SUB_BINS;
            int64_t seen = 0, total = 0, want = sel.rank[w] - sel.below[w];
            for (int f = 0; f < CAP_CUDA_SUB_BINS; f++)
                total += (int64_t)c[f];
            if (total != sel.len[w])
                return cap_cuda_fail("the sub-bin counts disagree with the bin's",
                                     "select_on_device", __FILE__, __LINE__, error, error_size);
            while (seen + (int64_t)c[b] <= want)
                seen += (int64_t)c[b++];
            take[w] = {sel.lo, sel.inv_width, sel.bin[w], b, sub.lo[j], sub.inv[j]};
            sel.below[w] += seen; /* finish selects rank - below among len values */
            sel.len[w] = (int64_t)c[b];
            if (b == 0) /* among the copies of the bin's least cost */
                sel.constant[w] = true, sel.value[w] = sub.lo[j];
        }
    }
    int64_t widest = 1;
    for (int w = 0; w < CAP_MC_SEL_WANTED; w++)
        if (!sel.constant[w])
            widest = sel.len[w] > widest ? sel.len[w] : widest;
    CAP_CUDA_CHECK(select_alloc(x, (void **)&x->out, (size_t)widest * sizeof(double)));
    CAP_CUDA_CHECK(select_alloc(x, (void **)&x->selected, sizeof(int)));
    int most_items = (int)(n < CAP_CUDA_SELECT_SEGMENT ? n : CAP_CUDA_SELECT_SEGMENT);
    CAP_CUDA_CHECK(
        cub::DeviceSelect::If(NULL, x->temp_bytes, a, x->out, x->selected, most_items, take[0]));
    CAP_CUDA_CHECK(select_alloc(x, &x->temp, x->temp_bytes > 0 ? x->temp_bytes : 1));
    for (int w = 0; w < CAP_MC_SEL_WANTED; w++) {
        if (sel.constant[w])
            continue; /* finish reads sel.value[w] */
        x->values[w] = (double *)malloc((size_t)(sel.len[w] > 0 ? sel.len[w] : 1) * sizeof(double));
        if (!x->values[w]) {
            x->short_of_memory = true;
            return cap_cuda_fail("out of host memory", "malloc", __FILE__, __LINE__, error,
                                 error_size);
        }
        int same = 0; /* each set of values crosses once; a later w taking it copies it */
        while (sel.constant[same] || take[same].bin != take[w].bin || take[same].sub != take[w].sub)
            same++;
        if (same < w) {
            memcpy(x->values[w], x->values[same], (size_t)sel.len[w] * sizeof(double));
            continue;
        }
        int status = gather_bin(x, a, n, take[w], sel.len[w], x->values[w], error, error_size);
        if (status != CAP_MC_OK)
            return status;
    }
    CAP_CUDA_CHECK(cudaMemcpy(x->host_above, x->above,
                              (size_t)sel.tail_blocks * sizeof *x->host_above,
                              cudaMemcpyDeviceToHost));
    select_tick(&clock);
    for (int64_t k = 0; k < hbins; k++)
        s->histogram[k] += (int64_t)coarse[k];
    cap_mc_select_finish(&sel, x->values, x->host_above, &s->cost);
    select_tick(&clock);
    if (clock.on)
        fprintf(stderr,
                "mc profile (cuda cost quantiles, %lld costs): groups %.4f s, bins %.4f s, sums "
                "%.4f s, gather %.4f s, select %.4f s\n",
                (long long)n, clock.t[1] - clock.t[0], clock.t[2] - clock.t[1],
                clock.t[3] - clock.t[2], clock.t[4] - clock.t[3], clock.t[5] - clock.t[4]);
    return CAP_MC_OK;
}

/* cap_mc_backend.cost_quantiles: on the device; the host selects instead when device (or
 * host) memory runs short for the scratch. */
static int cuda_cost_quantiles(cap_mc_backend *backend, int k, double lo, double hi, int threads,
                               cap_mc_scale_result *s, char *error, int error_size)
{
    cuda_state *st = (cuda_state *)backend->state;
    CAP_CUDA_CHECK(cudaSetDevice(st->device));
    const double *a = st->kept + cap_mc_rec_cost(&st->model, k) * st->kept_pitch;
    int64_t n = st->kept_pitch;
    prof_mark(st, -1);
    select_scratch x;
    memset(&x, 0, sizeof x);
    int status = select_on_device(&x, a, n, lo, hi, st->multiprocessors, s, error, error_size);
    select_scratch_free(&x);
    if (status != CAP_MC_OK && x.short_of_memory) {
        cudaGetLastError();
        double *host = (double *)malloc((size_t)n * sizeof(double));
        if (host && cudaMemcpy(host, a, (size_t)n * sizeof(double), cudaMemcpyDeviceToHost) ==
                        cudaSuccess) {
            cap_mc_cost_quantiles_host(host, n, lo, hi, threads, s);
            status = CAP_MC_OK;
        }
        free(host);
    }
    prof_mark(st, PROF_QUANTILES);
    return status;
}

extern "C" int cap_mc_cuda_cost_quantiles(const double *a, int64_t n, double lo, double hi,
                                          cap_mc_scale_result *s, char *error, int error_size)
{
    if (cap_mc_cuda_device_count() <= 0) {
        snprintf(error, (size_t)error_size, "mc: no CUDA device");
        return CAP_MC_ERR_BACKEND;
    }
    cudaDeviceProp prop;
    CAP_CUDA_CHECK(cudaSetDevice(0));
    CAP_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    double *d = NULL;
    CAP_CUDA_CHECK(cudaMalloc((void **)&d, (size_t)(n > 0 ? n : 1) * sizeof(double)));
    select_scratch x;
    memset(&x, 0, sizeof x);
    int status = CAP_MC_OK;
    if (cudaMemcpy(d, a, (size_t)n * sizeof(double), cudaMemcpyHostToDevice) != cudaSuccess)
        status = cap_cuda_fail("copy failed", "cudaMemcpy", __FILE__, __LINE__, error, error_size);
    else
        status = select_on_device(&x, d, n, lo, hi, prop.multiProcessorCount, s, error, error_size);
    select_scratch_free(&x);
    cudaFree(d);
    return status;
}

/* ---- creation ----------------------------------------------------------------------------- */

/* Lanes per chunk: what the user asked (rounded up to whole blocks) or, by default, what fits
 * in a quarter of the free device memory (at most 8 GiB); never more than fits, than the
 * samples need, or 16M lanes (the kernels' grids assume it). */
static int64_t choose_stride(const cap_mc_model *m, const cap_mc_options *o, size_t free_bytes)
{
    double per_lane = 8.0 * (double)(cap_mc_ws_rows(m) + cap_mc_rec_rows(m)) +
                      8.0 * (double)(cap_mc_partial_doubles(m) + cap_mc_partial_counts(m)) *
                          m->scale_count / CAP_MC_BLOCK;
    double budget = 0.25 * (double)free_bytes;
    if (budget > CAP_CUDA_MEMORY_DEFAULT)
        budget = CAP_CUDA_MEMORY_DEFAULT;
    int64_t fit = (int64_t)(budget / per_lane) / CAP_MC_BLOCK * CAP_MC_BLOCK;
    int64_t chunk =
        o->chunk > 0 ? (o->chunk + CAP_MC_BLOCK - 1) / CAP_MC_BLOCK * CAP_MC_BLOCK : fit;
    if (chunk > fit)
        chunk = fit; /* the user's chunk too: it changes memory use only */
    int64_t needed = (o->samples + CAP_MC_BLOCK - 1) / CAP_MC_BLOCK * CAP_MC_BLOCK;
    if (chunk > needed)
        chunk = needed; /* small runs: no larger buffers than the samples need */
    if (chunk > CAP_CUDA_MAX_CHUNK)
        chunk = CAP_CUDA_MAX_CHUNK;
    return chunk < CAP_MC_BLOCK ? CAP_MC_BLOCK : chunk;
}

static int cuda_setup(cap_mc_backend *b, cuda_state *st, const cap_mc_model *model,
                      const cap_mc_options *options, char *error, int error_size)
{
    CAP_CUDA_CHECK(cudaSetDevice(st->device));
    cudaDeviceProp prop;
    CAP_CUDA_CHECK(cudaGetDeviceProperties(&prop, st->device));
    size_t free_bytes = 0, total_bytes = 0;
    CAP_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    int status = upload_model(st, model, error, error_size);
    if (status != CAP_MC_OK)
        return status;
    st->stride = choose_stride(model, options, free_bytes);
    st->multiprocessors = prop.multiProcessorCount;
    const cap_mc_model *m = &st->model;
    size_t lanes = (size_t)st->stride, blocks = lanes / CAP_MC_BLOCK;
    CAP_CUDA_CHECK(
        cudaMalloc((void **)&st->ws, (size_t)cap_mc_ws_rows(m) * lanes * sizeof(double)));
    CAP_CUDA_CHECK(
        cudaMalloc((void **)&st->rec, (size_t)cap_mc_rec_rows(m) * lanes * sizeof(double)));
    CAP_CUDA_CHECK(cudaMalloc((void **)&st->pd, blocks * (size_t)cap_mc_partial_doubles(m) *
                                                    (size_t)m->scale_count * sizeof(double)));
    CAP_CUDA_CHECK(cudaMalloc((void **)&st->pc, blocks * (size_t)cap_mc_partial_counts(m) *
                                                    (size_t)m->scale_count * sizeof(int64_t)));
    if (st->variant == CAP_MC_CUDA_GEMM) {
        if ((status = cap_blas_load(error, error_size)) != CAP_MC_OK)
            return status;
        CAP_CUDA_CHECK(cap_blas.create(&st->blas));
        st->have_blas = true;
        if ((status = upload_gemm_coef(st, model, error, error_size)) != CAP_MC_OK)
            return status;
        snprintf(b->device, sizeof b->device, "%s (gemm, device %d)", prop.name, st->device);
    } else {
        if ((status = choose_fused_layout(st, &prop, error, error_size)) != CAP_MC_OK)
            return status;
        static const char *const places[] = {"shared", "block", "chunk"};
        snprintf(b->device, sizeof b->device, "%s (fused %s/%d, device %d)", prop.name,
                 places[st->place], st->fused_threads, st->device);
    }
    b->chunk = st->stride;
    return CAP_MC_OK;
}

extern "C" int cap_mc_backend_cuda_create(const cap_mc_model *model, const cap_mc_options *options,
                                          cap_mc_backend **out, char *error, int error_size)
{
    *out = NULL;
    cap_mc_backend *b = (cap_mc_backend *)calloc(1, sizeof *b);
    cuda_state *st = (cuda_state *)calloc(1, sizeof *st);
    if (!b || !st) {
        free(b), free(st);
        snprintf(error, (size_t)error_size, "mc: out of memory");
        return CAP_MC_ERR_RUNTIME;
    }
    b->name = "cuda";
    b->threads = 1;
    b->run = cuda_run;
    b->free = cuda_free;
    b->keep = cuda_keep;
    b->cost_quantiles = cuda_cost_quantiles;
    b->state = st;
    st->device = options->device;
    st->variant = options->cuda_variant;
    st->profile = cap_mc_profiling();
    int status = cuda_setup(b, st, model, options, error, error_size);
    if (status != CAP_MC_OK) {
        cuda_free(b);
        return status;
    }
    *out = b;
    return CAP_MC_OK;
}

/* ---- RNG timing (benchmarks) --------------------------------------------------------------- */

#define CAP_RNG_REPEAT 5

static float median_ms(float *ms, int n)
{
    for (int i = 1; i < n; i++) /* insertion sort of a handful */
        for (int j = i; j > 0 && ms[j] < ms[j - 1]; j--) {
            float x = ms[j];
            ms[j] = ms[j - 1], ms[j - 1] = x;
        }
    return ms[n / 2];
}

/* Times `what` (0: cuRAND double normals, 1: cuRAND 32-bit words, 2: this engine's Philox +
 * Box-Muller) on `count` variates into buffer: one warm-up, then the median of
 * CAP_RNG_REPEAT runs timed with events. */
static int time_one(int what, double *buffer, int64_t count, curandGenerator_t generator,
                    cudaEvent_t start, cudaEvent_t stop, double *per_s, char *error, int error_size)
{
    float ms[CAP_RNG_REPEAT];
    cap_mc_model m;
    memset(&m, 0, sizeof m);
    m.key0 = 1;
    int64_t pairs = count / 2;
    for (int i = -1; i < CAP_RNG_REPEAT; i++) {
        CAP_CUDA_CHECK(cudaEventRecord(start));
        if (what == 0)
            CAP_CUDA_CHECK(cap_rand.normal_double(generator, buffer, (size_t)count, 0.0, 1.0));
        else if (what == 1)
            CAP_CUDA_CHECK(cap_rand.generate(generator, (unsigned int *)buffer, (size_t)count));
        else
            cap_mc_rng_kernel<<<grid_for(pairs), CAP_CUDA_THREADS>>>(m, buffer, pairs);
        CAP_CUDA_CHECK(cudaGetLastError());
        CAP_CUDA_CHECK(cudaEventRecord(stop));
        CAP_CUDA_CHECK(cudaEventSynchronize(stop));
        if (i >= 0)
            CAP_CUDA_CHECK(cudaEventElapsedTime(&ms[i], start, stop));
    }
    *per_s = (double)count / (1e-3 * (double)median_ms(ms, CAP_RNG_REPEAT));
    return CAP_MC_OK;
}

extern "C" int cap_mc_cuda_time_rng(int64_t count, cap_mc_rng_rates *rates, char *error,
                                    int error_size)
{
    memset(rates, 0, sizeof *rates);
    if (cap_mc_cuda_device_count() <= 0) {
        snprintf(error, (size_t)error_size, "mc: no CUDA device");
        return CAP_MC_ERR_BACKEND;
    }
    int status = cap_rand_load(error, error_size);
    if (status != CAP_MC_OK)
        return status;
    count = count < 2 ? 2 : count / 2 * 2;
    double *buffer = NULL;
    curandGenerator_t generator = NULL;
    cudaEvent_t start = NULL, stop = NULL;
    CAP_CUDA_CHECK(cudaSetDevice(0));
    CAP_CUDA_CHECK(cudaMalloc((void **)&buffer, (size_t)count * sizeof(double)));
    status = CAP_MC_ERR_RUNTIME;
    if (cudaEventCreate(&start) != cudaSuccess || cudaEventCreate(&stop) != cudaSuccess)
        snprintf(error, (size_t)error_size, "mc: CUDA: cudaEventCreate failed");
    else if (cap_rand.create(&generator, CURAND_RNG_PSEUDO_PHILOX4_32_10) !=
                 CURAND_STATUS_SUCCESS ||
             cap_rand.seed(generator, 1) != CURAND_STATUS_SUCCESS)
        snprintf(error, (size_t)error_size, "mc: cuRAND: cannot create a Philox generator");
    else if ((status = time_one(0, buffer, count, generator, start, stop,
                                &rates->curand_normal_per_s, error, error_size)) == CAP_MC_OK &&
             (status = time_one(1, buffer, count, generator, start, stop, &rates->curand_word_per_s,
                                error, error_size)) == CAP_MC_OK)
        status = time_one(2, buffer, count, generator, start, stop, &rates->engine_normal_per_s,
                          error, error_size);
    if (generator)
        cap_rand.destroy(generator);
    if (start)
        cudaEventDestroy(start);
    if (stop)
        cudaEventDestroy(stop);
    cudaFree(buffer);
    return status;
}
