/* mc_sample.h: the per-sample Monte Carlo model (SPEC §2), written once for gcc and nvcc.
 *
 * Every function here is inline and, under nvcc, __host__ __device__: the OpenMP backend
 * and the CUDA kernels run this code and nothing else for the model. Invariants:
 *
 * - Arithmetic is +, -, *, /, sqrt and comparisons on doubles in a fixed order; exp, log,
 *   sin and cos are the polynomials below, not libm's or CUDA's. kernels/ is compiled with
 *   contraction off (gcc -ffp-contract=off, nvcc -fmad=false), so a sample gives the same
 *   bits on either compiler (docs/monte-carlo.md, "CPU against CUDA").
 * - Every variate is a pure function of (seed, sample, period, stream, call): Philox4x32-10
 *   with key {seed lo, seed hi} and counter {sample lo, sample hi, period, stream<<24|call}.
 *   cap_mc_philox is the only place that builds a counter.
 * - Per-sample state lives in lane arrays: item i of lane j is base[i * stride + j], with
 *   one stride for the workspace and one for the records. The CPU runs CAP_MC_CPU_LANES
 *   lanes per call, items outer and lanes inner so the lane loops vectorise; a CUDA thread
 *   is one lane (lane_end = lane_begin + 1): its records sit in chunk-wide arrays, its
 *   workspace in shared memory, in a per-block slice of device memory, or chunk-wide (the
 *   column-major layout cuBLAS reads), as kernels/mc_cuda.cu chooses.
 * - Statistics are reduced per block of CAP_MC_BLOCK consecutive samples in an order fixed
 *   by the sample index (cap_mc_reduce_unit); blocks are merged in block order by mc.c.
 *   Nothing depends on threads, chunks or the backend.
 */
#ifndef CAP_MC_SAMPLE_H
#define CAP_MC_SAMPLE_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <Random123/philox.h>

#if defined(__CUDACC__)
#define CAP_MC_HD       static inline __host__ __device__
#define CAP_MC_RESTRICT __restrict__
#else
/* Forced: the CPU's vector clones (mc_cpu.c) vectorise only what is inlined into them. */
#define CAP_MC_HD       static inline __attribute__((always_inline))
#define CAP_MC_RESTRICT restrict
#endif

#define CAP_MC_BLOCK     4096 /* samples per reduction block; chunks are whole blocks */
#define CAP_MC_CPU_LANES 64   /* samples the CPU simulates side by side */
#define CAP_MC_SHORT_TOL 1e-9 /* falls short: shortfall > CAP_MC_SHORT_TOL * demanded */

/* Philox streams (top byte of counter word 3). */
#define CAP_MC_STREAM_NORMAL   1u /* call = pair of workloads: normals 2*call, 2*call+1 */
#define CAP_MC_STREAM_PROVIDER 2u /* call = group of 4 providers, one 32-bit word each */
#define CAP_MC_STREAM_OFFERING 3u /* call = group of 4 offerings, one 32-bit word each */
#define CAP_MC_MAX_CALLS       (1 << 24)

/* ---- the flat model the backends read (built by mc.c, copied as is to the GPU) ---------- */

/* The figures a recourse step reads for entry e of the (t, w) lists (recourse_offering[e]
 * names the offering o), side by side: thr[w,o] * availability[o] (the product
 * cap_mc_greedy_recourse forms when it steps: an offering it steps on is up), price * hours of
 * period t, and the spare capacity o starts the period with. */
typedef struct {
    double thr_a, price_hours, spare;
} cap_mc_recourse_entry;

typedef struct {
    int workload_count, offering_count, provider_count, period_count, scale_count;
    int normal_rows;   /* workload_count rounded up to even */
    int provider_rows; /* multiple of 4, > provider_count: row provider_count is always up */
    int offering_rows; /* offering_count rounded up to a multiple of 4 (padding: never up) */
    int greedy;        /* recourse greedy */
    int any_sigma;     /* some sigma > 0: draw normals */
    int chol_identity; /* z = n, skip the product */
    uint32_t key0, key1;
    double plan_cost;
    const double *sigma;               /* [W] */
    const double *half_var;            /* [W] sigma^2 / 2 */
    const double *chol;                /* [W*W] lower triangular, row-major */
    const double *demand;              /* [W*T] */
    const double *hours;               /* [T] */
    const double *scales;              /* [S] */
    const double *penalty_hours;       /* [W*T] penalty*hours, 0 for hard demand */
    const int64_t *provider_threshold; /* [provider_rows] down iff word < threshold */
    const int64_t *offering_threshold; /* [offering_rows] */
    const int *offering_provider;      /* [offering_rows] provider_count when none */
    const double *availability;        /* [offering_rows] 0 for padding */
    const int64_t *delivery_start;     /* [T*W+1] CSR over (t,w): offerings that deliver */
    const int *delivery_offering;      /* [nnz] */
    const double *delivery_coef;       /* [nnz] thr[w,o] * plan[t,w,o] */
    const double *delivery_avail;      /* [nnz] delivery_coef * availability[o] (the product
                                          cap_mc_deliver makes while o is up) */
    const double *thr;                 /* [W*O] */
    const double *spare_capacity;      /* [O*T] capacity - planned if recourse_ok, else 0 */
    const double *price_hours;         /* [O*T] price * hours */
    const int *priority;               /* [W] recourse order: hard demand, then penalty desc */
    const int64_t *recourse_start;     /* [T*W+1] CSR over (t,w) */
    const int *recourse_offering;      /* offerings by price per delivered H100e, ascending */
    const cap_mc_recourse_entry *recourse_entry; /* [nnz] figures of those entries */
} cap_mc_model;

/* A run of lanes: samples first_sample + lane_begin .. first_sample + lane_end - 1. */
typedef struct {
    double *ws;                    /* workspace rows (cap_mc_ws_rows) */
    double *rec;                   /* record rows (cap_mc_rec_rows) */
    int64_t ws_stride, rec_stride; /* lane arrays: item i of lane j at base[i * stride + j] */
    int lane_begin, lane_end;
    uint64_t first_sample; /* sample of lane 0 */
} cap_mc_lanes;

/* ---- workspace rows ----------------------------------------------------------------------- */

CAP_MC_HD int64_t cap_mc_row_m(const cap_mc_model *m, int w)
{
    (void)m;
    return w;
}
CAP_MC_HD int64_t cap_mc_row_n(const cap_mc_model *m, int i)
{
    return m->workload_count + i;
}
CAP_MC_HD int64_t cap_mc_row_z(const cap_mc_model *m, int w)
{
    return m->workload_count + m->normal_rows + w;
}
CAP_MC_HD int64_t cap_mc_row_pdown(const cap_mc_model *m, int p)
{
    return 2 * m->workload_count + m->normal_rows + p;
}
CAP_MC_HD int64_t cap_mc_row_a(const cap_mc_model *m, int o)
{
    return 2 * m->workload_count + m->normal_rows + m->provider_rows + o;
}
CAP_MC_HD int64_t cap_mc_row_d(const cap_mc_model *m, int w)
{
    return 2 * m->workload_count + m->normal_rows + m->provider_rows + m->offering_rows + w;
}
CAP_MC_HD int64_t cap_mc_row_short(const cap_mc_model *m, int w)
{
    return 3 * m->workload_count + m->normal_rows + m->provider_rows + m->offering_rows + w;
}
CAP_MC_HD int64_t cap_mc_row_spare(const cap_mc_model *m, int o)
{
    return 4 * m->workload_count + m->normal_rows + m->provider_rows + m->offering_rows + o;
}
CAP_MC_HD int64_t cap_mc_ws_rows(const cap_mc_model *m)
{
    return cap_mc_row_spare(m, m->offering_count);
}

/* ---- record rows: what one sample leaves for the statistics --------------------------------
 * cost[k], unmet[k][w], shortfall[k][w][t] come first (the rows kept for exact quantiles),
 * then any[k][w] (0/1: fell short in some period) and m[w][t] (demand multiplier). */

CAP_MC_HD int64_t cap_mc_rec_cost(const cap_mc_model *m, int k)
{
    (void)m;
    return k;
}
CAP_MC_HD int64_t cap_mc_rec_unmet(const cap_mc_model *m, int k, int w)
{
    return m->scale_count + (int64_t)k * m->workload_count + w;
}
CAP_MC_HD int64_t cap_mc_rec_short(const cap_mc_model *m, int k, int w, int t)
{
    int64_t S = m->scale_count, W = m->workload_count;
    return S + S * W + ((int64_t)k * W + w) * m->period_count + t;
}
CAP_MC_HD int64_t cap_mc_rec_store_rows(const cap_mc_model *m)
{
    int64_t S = m->scale_count, W = m->workload_count;
    return S * (1 + W + W * m->period_count);
}
CAP_MC_HD int64_t cap_mc_rec_any(const cap_mc_model *m, int k, int w)
{
    return cap_mc_rec_store_rows(m) + (int64_t)k * m->workload_count + w;
}
CAP_MC_HD int64_t cap_mc_rec_mult(const cap_mc_model *m, int w, int t)
{
    int64_t S = m->scale_count, W = m->workload_count;
    return cap_mc_rec_store_rows(m) + S * W + (int64_t)w * m->period_count + t;
}
CAP_MC_HD int64_t cap_mc_rec_rows(const cap_mc_model *m)
{
    return cap_mc_rec_mult(m, m->workload_count, 0);
}

/* Where a sample's record rows are: rows below `split` at kept[row * kept_stride], the
 * others at rec[row * rec_stride]. The CUDA backend writes the rows it keeps for the whole
 * run in place; elsewhere split is 0. */
typedef struct {
    double *rec;
    int64_t rec_stride;
    double *kept;
    int64_t kept_stride, split;
} cap_mc_rec_out;

CAP_MC_HD double *cap_mc_rec_at(cap_mc_rec_out o, int64_t row)
{
    return row < o.split ? o.kept + row * o.kept_stride : o.rec + row * o.rec_stride;
}

/* ---- bit casts and elementary functions -------------------------------------------------- */

CAP_MC_HD uint64_t cap_mc_bits(double x)
{
#if defined(__CUDA_ARCH__)
    return (uint64_t)__double_as_longlong(x);
#else
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
#endif
}

CAP_MC_HD double cap_mc_double(uint64_t bits)
{
#if defined(__CUDA_ARCH__)
    return __longlong_as_double((long long)bits);
#else
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
#endif
}

/* Natural log of a positive normal double, within 1 ulp: x = 2^k f with f in [sqrt(1/2),
 * sqrt(2)), log f = 2 atanh(s), s = (f-1)/(f+1), |s| < 0.172, series to s^23. */
CAP_MC_HD double cap_mc_log(double x)
{
    uint64_t ix = cap_mc_bits(x);
    uint64_t tmp = ix - 0x3fe6a09e667f3bcdull; /* bits of sqrt(1/2) */
    double kv = cap_mc_double(0x4330000000000000ull | (tmp >> 52)) - 0x1p52;
    double k = kv >= 2048.0 ? kv - 4096.0 : kv;
    double f = cap_mc_double(ix - (tmp & 0xfff0000000000000ull));
    double s = (f - 1.0) / (f + 1.0);
    double s2 = s * s;
    double p = 0x1.642c8590b2164p-5; /* 1/23 */
    p = p * s2 + 0x1.8618618618618p-5;
    p = p * s2 + 0x1.af286bca1af28p-5;
    p = p * s2 + 0x1.e1e1e1e1e1e1ep-5;
    p = p * s2 + 0x1.1111111111111p-4;
    p = p * s2 + 0x1.3b13b13b13b14p-4;
    p = p * s2 + 0x1.745d1745d1746p-4;
    p = p * s2 + 0x1.c71c71c71c71cp-4;
    p = p * s2 + 0x1.2492492492492p-3;
    p = p * s2 + 0x1.999999999999ap-3;
    p = p * s2 + 0x1.5555555555555p-2; /* 1/3 */
    double log_f = 2.0 * s + 2.0 * s * s2 * p;
    return k * 0x1.62e42fee00000p-1 + (k * 0x1.a39ef35793c76p-33 + log_f);
}

/* exp(x) within 1 ulp for x in [-708, 709] (x is clamped to that range): x = k ln2 + r,
 * |r| <= ln2/2, Taylor series to r^13, times 2^k built from the exponent bits. */
CAP_MC_HD double cap_mc_exp(double x)
{
    x = x < -708.0 ? -708.0 : x;
    x = x > 709.0 ? 709.0 : x;
    double y = x * 0x1.71547652b82fep+0 + 0x1.8p52; /* round(x / ln2) in the low bits */
    double k = y - 0x1.8p52;
    double r = (x - k * 0x1.62e42fee00000p-1) - k * 0x1.a39ef35793c76p-33;
    double p = 0x1.6124613a86d09p-33; /* 1/13! */
    p = p * r + 0x1.1eed8eff8d898p-29;
    p = p * r + 0x1.ae64567f544e4p-26;
    p = p * r + 0x1.27e4fb7789f5cp-22;
    p = p * r + 0x1.71de3a556c734p-19;
    p = p * r + 0x1.a01a01a01a01ap-16;
    p = p * r + 0x1.a01a01a01a01ap-13;
    p = p * r + 0x1.6c16c16c16c17p-10;
    p = p * r + 0x1.1111111111111p-7;
    p = p * r + 0x1.5555555555555p-5;
    p = p * r + 0x1.5555555555555p-3;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return p * cap_mc_double((cap_mc_bits(y) + 1023u) << 52);
}

/* cos(2 pi u) and sin(2 pi u) for u in [0, 1): 4u = q + f exactly, |f| <= 1/2, angle
 * f pi/2 in [-pi/4, pi/4] by Taylor series, then rotated by the quadrant q. */
CAP_MC_HD void cap_mc_sincos_2pi(double u, double *cos_out, double *sin_out)
{
    double a = 4.0 * u;
    double y = a + 0x1.8p52;
    uint64_t quadrant = cap_mc_bits(y) & 3u;
    double f = a - (y - 0x1.8p52);
    double phi = f * 0x1.921fb54442d18p+0;
    double p2 = phi * phi;
    double s = 0x1.952c77030ad4ap-49; /* 1/17! */
    s = s * p2 - 0x1.ae7f3e733b81fp-41;
    s = s * p2 + 0x1.6124613a86d09p-33;
    s = s * p2 - 0x1.ae64567f544e4p-26;
    s = s * p2 + 0x1.71de3a556c734p-19;
    s = s * p2 - 0x1.a01a01a01a01ap-13;
    s = s * p2 + 0x1.1111111111111p-7;
    s = s * p2 - 0x1.5555555555555p-3;
    double sin_phi = phi + phi * p2 * s;
    double c = 0x1.ae7f3e733b81fp-45; /* 1/16! */
    c = c * p2 - 0x1.93974a8c07c9dp-37;
    c = c * p2 + 0x1.1eed8eff8d898p-29;
    c = c * p2 - 0x1.27e4fb7789f5cp-22;
    c = c * p2 + 0x1.a01a01a01a01ap-16;
    c = c * p2 - 0x1.6c16c16c16c17p-10;
    c = c * p2 + 0x1.5555555555555p-5;
    c = c * p2 - 0.5;
    double cos_phi = 1.0 + p2 * c;
    double cos_swapped = (quadrant & 1u) ? sin_phi : cos_phi;
    double sin_swapped = (quadrant & 1u) ? cos_phi : sin_phi;
    *cos_out = ((quadrant + 1u) & 2u) ? -cos_swapped : cos_swapped;
    *sin_out = (quadrant & 2u) ? -sin_swapped : sin_swapped;
}

/* ---- random numbers ----------------------------------------------------------------------- */

/* The one place a Philox counter is built. */
CAP_MC_HD philox4x32_ctr_t cap_mc_philox(const cap_mc_model *m, uint64_t sample, uint32_t period,
                                         uint32_t stream, uint32_t call)
{
    philox4x32_ctr_t counter = {
        {(uint32_t)sample, (uint32_t)(sample >> 32), period, (stream << 24) | call}};
    philox4x32_key_t key = {{m->key0, m->key1}};
    return philox4x32_R(10, counter, key);
}

/* Uniform (2 mant + 1) 2^-53 in [2^-53, 1 - 2^-53] from 52 bits of (hi, lo): exact, never
 * 0 or 1. */
CAP_MC_HD double cap_mc_uniform(uint32_t hi, uint32_t lo)
{
    uint64_t mant = ((uint64_t)hi << 20) | (lo >> 12);
    return (cap_mc_double(0x3ff0000000000000ull | mant) - 1.0) + 0x1p-53;
}

/* Box-Muller: u1 from words 0-1, u2 from words 2-3; n0 = r cos(2 pi u2), n1 = r sin(2 pi u2),
 * r = sqrt(-2 log u1). */
CAP_MC_HD void cap_mc_normal_pair(philox4x32_ctr_t r, double *n0, double *n1)
{
    double u1 = cap_mc_uniform(r.v[1], r.v[0]);
    double u2 = cap_mc_uniform(r.v[3], r.v[2]);
    double radius = sqrt(-2.0 * cap_mc_log(u1));
    double c, s;
    cap_mc_sincos_2pi(u2, &c, &s);
    *n0 = radius * c;
    *n1 = radius * s;
}

/* P(down) = ceil(p 2^32) / 2^32 for a 32-bit word: within 2.4e-10 of p, exactly 0 and 1 at
 * the ends. */
CAP_MC_HD int64_t cap_mc_outage_threshold(double probability)
{
    return (int64_t)ceil(probability * 4294967296.0);
}

/* ---- one period of one run of lanes ------------------------------------------------------- */

/* Demand multipliers at t = 0 are 1: shocks start at t = 1 (SPEC §2). */
CAP_MC_HD void cap_mc_demand_start(const cap_mc_model *m, cap_mc_lanes l)
{
    for (int w = 0; w < m->workload_count; w++) {
        double *CAP_MC_RESTRICT mult = l.ws + cap_mc_row_m(m, w) * l.ws_stride;
        for (int j = l.lane_begin; j < l.lane_end; j++)
            mult[j] = 1.0;
    }
}

/* Independent standard normals n[0..normal_rows) for period t >= 1. */
CAP_MC_HD void cap_mc_draw_normals(const cap_mc_model *m, cap_mc_lanes l, int t)
{
    for (int pair = 0; 2 * pair < m->normal_rows; pair++) {
        double *CAP_MC_RESTRICT n0 = l.ws + cap_mc_row_n(m, 2 * pair) * l.ws_stride;
        double *CAP_MC_RESTRICT n1 = n0 + l.ws_stride;
        for (int j = l.lane_begin; j < l.lane_end; j++) {
            philox4x32_ctr_t r = cap_mc_philox(m, l.first_sample + (uint64_t)j, (uint32_t)t,
                                               CAP_MC_STREAM_NORMAL, (uint32_t)pair);
            cap_mc_normal_pair(r, &n0[j], &n1[j]);
        }
    }
}

/* z = L n, summed over k ascending from 0.0; zero entries of L are skipped (adding 0*n
 * changes nothing). With L = I, z is n itself and cap_mc_z_row says so. */
CAP_MC_HD void cap_mc_correlate(const cap_mc_model *m, cap_mc_lanes l)
{
    int W = m->workload_count;
    if (m->chol_identity)
        return;
    for (int i = 0; i < W; i++) {
        double *CAP_MC_RESTRICT z = l.ws + cap_mc_row_z(m, i) * l.ws_stride;
#if defined(__CUDA_ARCH__)
        /* One lane a thread: the sum stays in a register instead of a read-modify-write of
         * the workspace per term. The same operations in the same order, so the same bits. */
        for (int j = l.lane_begin; j < l.lane_end; j++) {
            double sum = 0.0;
            for (int k = 0; k <= i; k++) {
                double coef = m->chol[i * W + k];
                if (coef != 0.0)
                    sum += coef * l.ws[cap_mc_row_n(m, k) * l.ws_stride + j];
            }
            z[j] = sum;
        }
#else
        for (int j = l.lane_begin; j < l.lane_end; j++)
            z[j] = 0.0;
        for (int k = 0; k <= i; k++) {
            double coef = m->chol[i * W + k];
            if (coef == 0.0)
                continue;
            const double *CAP_MC_RESTRICT n = l.ws + cap_mc_row_n(m, k) * l.ws_stride;
            for (int j = l.lane_begin; j < l.lane_end; j++)
                z[j] += coef * n[j];
        }
#endif
    }
}

CAP_MC_HD int64_t cap_mc_z_row(const cap_mc_model *m, int w)
{
    return m->chol_identity ? cap_mc_row_n(m, w) : cap_mc_row_z(m, w);
}

/* m[w] *= exp(sigma z - sigma^2/2) for workloads with sigma > 0 (others keep m: the factor
 * would be exactly 1). */
CAP_MC_HD void cap_mc_apply_shocks(const cap_mc_model *m, cap_mc_lanes l)
{
    for (int w = 0; w < m->workload_count; w++) {
        double sigma = m->sigma[w], half_var = m->half_var[w];
        if (sigma == 0.0)
            continue;
        double *CAP_MC_RESTRICT mult = l.ws + cap_mc_row_m(m, w) * l.ws_stride;
        const double *CAP_MC_RESTRICT z = l.ws + cap_mc_z_row(m, w) * l.ws_stride;
        for (int j = l.lane_begin; j < l.lane_end; j++)
            mult[j] *= cap_mc_exp(sigma * z[j] - half_var);
    }
}

CAP_MC_HD void cap_mc_record_demand(const cap_mc_model *m, cap_mc_lanes l, int t)
{
    for (int w = 0; w < m->workload_count; w++) {
        const double *CAP_MC_RESTRICT mult = l.ws + cap_mc_row_m(m, w) * l.ws_stride;
        double *CAP_MC_RESTRICT out = l.rec + cap_mc_rec_mult(m, w, t) * l.rec_stride;
        for (int j = l.lane_begin; j < l.lane_end; j++)
            out[j] = mult[j];
    }
}

/* pdown[p] = 1 when provider p is out, A[o] = availability unless offering o or its
 * provider is out. Groups of 4 items share one Philox call; a group whose thresholds are
 * all 0 is not drawn (it could never be out). */
CAP_MC_HD void cap_mc_draw_outages(const cap_mc_model *m, cap_mc_lanes l, int t)
{
    for (int g = 0; g < m->provider_rows; g += 4) {
        const int64_t *thr = m->provider_threshold + g;
        double *CAP_MC_RESTRICT d0 = l.ws + cap_mc_row_pdown(m, g) * l.ws_stride;
        double *CAP_MC_RESTRICT d1 = d0 + l.ws_stride;
        double *CAP_MC_RESTRICT d2 = d1 + l.ws_stride;
        double *CAP_MC_RESTRICT d3 = d2 + l.ws_stride;
        if ((thr[0] | thr[1] | thr[2] | thr[3]) == 0) {
            for (int j = l.lane_begin; j < l.lane_end; j++)
                d0[j] = d1[j] = d2[j] = d3[j] = 0.0;
            continue;
        }
        for (int j = l.lane_begin; j < l.lane_end; j++) {
            philox4x32_ctr_t r = cap_mc_philox(m, l.first_sample + (uint64_t)j, (uint32_t)t,
                                               CAP_MC_STREAM_PROVIDER, (uint32_t)(g / 4));
            d0[j] = (int64_t)r.v[0] < thr[0] ? 1.0 : 0.0;
            d1[j] = (int64_t)r.v[1] < thr[1] ? 1.0 : 0.0;
            d2[j] = (int64_t)r.v[2] < thr[2] ? 1.0 : 0.0;
            d3[j] = (int64_t)r.v[3] < thr[3] ? 1.0 : 0.0;
        }
    }
    for (int g = 0; g < m->offering_rows; g += 4) {
        const int64_t *thr = m->offering_threshold + g;
        double av0 = m->availability[g], av1 = m->availability[g + 1];
        double av2 = m->availability[g + 2], av3 = m->availability[g + 3];
        double *CAP_MC_RESTRICT a0 = l.ws + cap_mc_row_a(m, g) * l.ws_stride;
        double *CAP_MC_RESTRICT a1 = a0 + l.ws_stride;
        double *CAP_MC_RESTRICT a2 = a1 + l.ws_stride;
        double *CAP_MC_RESTRICT a3 = a2 + l.ws_stride;
        const double *CAP_MC_RESTRICT p0 =
            l.ws + cap_mc_row_pdown(m, m->offering_provider[g]) * l.ws_stride;
        const double *CAP_MC_RESTRICT p1 =
            l.ws + cap_mc_row_pdown(m, m->offering_provider[g + 1]) * l.ws_stride;
        const double *CAP_MC_RESTRICT p2 =
            l.ws + cap_mc_row_pdown(m, m->offering_provider[g + 2]) * l.ws_stride;
        const double *CAP_MC_RESTRICT p3 =
            l.ws + cap_mc_row_pdown(m, m->offering_provider[g + 3]) * l.ws_stride;
        if ((thr[0] | thr[1] | thr[2] | thr[3]) == 0) {
            for (int j = l.lane_begin; j < l.lane_end; j++) {
                a0[j] = p0[j] != 0.0 ? 0.0 : av0;
                a1[j] = p1[j] != 0.0 ? 0.0 : av1;
                a2[j] = p2[j] != 0.0 ? 0.0 : av2;
                a3[j] = p3[j] != 0.0 ? 0.0 : av3;
            }
            continue;
        }
        for (int j = l.lane_begin; j < l.lane_end; j++) {
            philox4x32_ctr_t r = cap_mc_philox(m, l.first_sample + (uint64_t)j, (uint32_t)t,
                                               CAP_MC_STREAM_OFFERING, (uint32_t)(g / 4));
            a0[j] = ((int64_t)r.v[0] < thr[0] || p0[j] != 0.0) ? 0.0 : av0;
            a1[j] = ((int64_t)r.v[1] < thr[1] || p1[j] != 0.0) ? 0.0 : av1;
            a2[j] = ((int64_t)r.v[2] < thr[2] || p2[j] != 0.0) ? 0.0 : av2;
            a3[j] = ((int64_t)r.v[3] < thr[3] || p3[j] != 0.0) ? 0.0 : av3;
        }
    }
}

/* delivered[w] = sum over the plan's offerings o, ascending, of thr*plan * A[o], from 0.0. */
CAP_MC_HD void cap_mc_deliver(const cap_mc_model *m, cap_mc_lanes l, int t)
{
    for (int w = 0; w < m->workload_count; w++) {
        double *CAP_MC_RESTRICT d = l.ws + cap_mc_row_d(m, w) * l.ws_stride;
        int64_t begin = m->delivery_start[t * m->workload_count + w];
        int64_t end = m->delivery_start[t * m->workload_count + w + 1];
#if defined(__CUDA_ARCH__) /* the sum in a register, as in cap_mc_correlate */
        for (int j = l.lane_begin; j < l.lane_end; j++) {
            double sum = 0.0;
            for (int64_t e = begin; e < end; e++)
                sum += m->delivery_coef[e] *
                       l.ws[cap_mc_row_a(m, m->delivery_offering[e]) * l.ws_stride + j];
            d[j] = sum;
        }
#else
        for (int j = l.lane_begin; j < l.lane_end; j++)
            d[j] = 0.0;
        for (int64_t e = begin; e < end; e++) {
            double coef = m->delivery_coef[e];
            const double *CAP_MC_RESTRICT a =
                l.ws + cap_mc_row_a(m, m->delivery_offering[e]) * l.ws_stride;
            for (int j = l.lane_begin; j < l.lane_end; j++)
                d[j] += coef * a[j];
        }
#endif
    }
}

CAP_MC_HD double cap_mc_demanded(double mult, double demand, double scale)
{
    return mult * demand * scale;
}

/* One lane covering what it can of its shortfall from one offering (thr_a = thr * A > 0). */
CAP_MC_HD void cap_mc_recourse_step(double thr_a, double price_hours, double *left, double *spare,
                                    double *cost)
{
    double lf = *left, sp = *spare;
    double need = lf / thr_a;
    bool fits = need <= sp;
    double used = fits ? need : sp;
    *left = fits ? 0.0 : lf - used * thr_a;
    *spare = sp - used;
    *cost += used * price_hours;
}

/* Greedy recourse: workloads in priority order take spare capacity of recourse offerings
 * that are up, cheapest per delivered H100e first, paying price*hours per accelerator; adds
 * what they pay to cost. A lane steps only while it is short and the offering has spare
 * (spare is 0 when the offering is out, so thr * A > 0 then). Branch-free over lanes so it
 * vectorises; a workload stops at the first offering where no lane is short any more. */
CAP_MC_HD void cap_mc_greedy_recourse(const cap_mc_model *m, cap_mc_lanes l, int t,
                                      double *CAP_MC_RESTRICT cost)
{
    int W = m->workload_count, O = m->offering_count, T = m->period_count;
    for (int i = 0; i < W; i++) {
        int w = m->priority[i];
        double *CAP_MC_RESTRICT left = l.ws + cap_mc_row_short(m, w) * l.ws_stride;
        int64_t begin = m->recourse_start[t * W + w], end = m->recourse_start[t * W + w + 1];
        for (int64_t e = begin; e < end; e++) {
            int short_lanes = 0; /* a separate loop: folded into the next, it won't vectorise */
            for (int j = l.lane_begin; j < l.lane_end; j++)
                short_lanes += left[j] > 0.0;
            if (short_lanes == 0)
                break;
            int o = m->recourse_offering[e];
            double thr = m->thr[w * O + o], price_hours = m->price_hours[o * T + t];
            const double *CAP_MC_RESTRICT a = l.ws + cap_mc_row_a(m, o) * l.ws_stride;
            double *CAP_MC_RESTRICT spare = l.ws + cap_mc_row_spare(m, o) * l.ws_stride;
            for (int j = l.lane_begin; j < l.lane_end; j++) {
                double lf = left[j], sp = spare[j], c = cost[j];
                bool active = lf > 0.0 && sp > 0.0;
                double lf2 = lf, sp2 = sp, c2 = c;
                cap_mc_recourse_step(thr * a[j], price_hours, &lf2, &sp2, &c2);
                left[j] = active ? lf2 : lf;
                spare[j] = active ? sp2 : sp;
                cost[j] = active ? c2 : c;
            }
        }
    }
}

/* Shortfall, recourse, penalties and records of period t at scale index k. Records hold
 * cost[k] (from plan_cost), unmet[k][w] and any[k][w] accumulated over periods in order. */
CAP_MC_HD void cap_mc_settle(const cap_mc_model *m, cap_mc_lanes l, int t, int k)
{
    int W = m->workload_count, O = m->offering_count, T = m->period_count;
    double scale = m->scales[k];
    for (int w = 0; w < W; w++) {
        const double *CAP_MC_RESTRICT mult = l.ws + cap_mc_row_m(m, w) * l.ws_stride;
        const double *CAP_MC_RESTRICT d = l.ws + cap_mc_row_d(m, w) * l.ws_stride;
        double *CAP_MC_RESTRICT sh = l.ws + cap_mc_row_short(m, w) * l.ws_stride;
        double demand = m->demand[w * T + t];
        for (int j = l.lane_begin; j < l.lane_end; j++) {
            double gap = cap_mc_demanded(mult[j], demand, scale) - d[j];
            sh[j] = gap > 0.0 ? gap : 0.0;
        }
    }
    double *CAP_MC_RESTRICT cost = l.rec + cap_mc_rec_cost(m, k) * l.rec_stride;
    int short_lanes = 0; /* recourse changes nothing unless some lane falls short */
    for (int w = 0; m->greedy && w < W; w++) {
        const double *CAP_MC_RESTRICT sh = l.ws + cap_mc_row_short(m, w) * l.ws_stride;
        for (int j = l.lane_begin; j < l.lane_end; j++)
            short_lanes += sh[j] > 0.0;
    }
    if (short_lanes > 0) {
        for (int o = 0; o < O; o++) {
            double cap = m->spare_capacity[o * T + t];
            const double *CAP_MC_RESTRICT a = l.ws + cap_mc_row_a(m, o) * l.ws_stride;
            double *CAP_MC_RESTRICT spare = l.ws + cap_mc_row_spare(m, o) * l.ws_stride;
            for (int j = l.lane_begin; j < l.lane_end; j++)
                spare[j] = a[j] > 0.0 ? cap : 0.0;
        }
        cap_mc_greedy_recourse(m, l, t, cost);
    }
    double hours = m->hours[t];
    for (int w = 0; w < W; w++) {
        const double *CAP_MC_RESTRICT mult = l.ws + cap_mc_row_m(m, w) * l.ws_stride;
        const double *CAP_MC_RESTRICT sh = l.ws + cap_mc_row_short(m, w) * l.ws_stride;
        double *CAP_MC_RESTRICT rec_short = l.rec + cap_mc_rec_short(m, k, w, t) * l.rec_stride;
        double *CAP_MC_RESTRICT unmet = l.rec + cap_mc_rec_unmet(m, k, w) * l.rec_stride;
        double *CAP_MC_RESTRICT any = l.rec + cap_mc_rec_any(m, k, w) * l.rec_stride;
        double demand = m->demand[w * T + t], pen = m->penalty_hours[w * T + t];
        /* Four loops, not one: gcc vectorises loops with few pointers to check for aliasing. */
        for (int j = l.lane_begin; j < l.lane_end; j++)
            rec_short[j] = sh[j];
        for (int j = l.lane_begin; j < l.lane_end; j++)
            unmet[j] += sh[j] * hours;
        for (int j = l.lane_begin; j < l.lane_end; j++)
            any[j] =
                sh[j] > CAP_MC_SHORT_TOL * cap_mc_demanded(mult[j], demand, scale) ? 1.0 : any[j];
        for (int j = l.lane_begin; j < l.lane_end; j++)
            cost[j] += pen * sh[j];
    }
}

CAP_MC_HD void cap_mc_records_start(const cap_mc_model *m, cap_mc_lanes l)
{
    for (int k = 0; k < m->scale_count; k++) {
        double *CAP_MC_RESTRICT cost = l.rec + cap_mc_rec_cost(m, k) * l.rec_stride;
        for (int j = l.lane_begin; j < l.lane_end; j++)
            cost[j] = m->plan_cost;
        for (int w = 0; w < m->workload_count; w++) {
            double *CAP_MC_RESTRICT unmet = l.rec + cap_mc_rec_unmet(m, k, w) * l.rec_stride;
            double *CAP_MC_RESTRICT any = l.rec + cap_mc_rec_any(m, k, w) * l.rec_stride;
            for (int j = l.lane_begin; j < l.lane_end; j++)
                unmet[j] = any[j] = 0.0;
        }
    }
}

/* The whole sample path of a run of lanes (the CPU backend and the fused CUDA kernel). */
CAP_MC_HD void cap_mc_simulate(const cap_mc_model *m, cap_mc_lanes l)
{
    cap_mc_records_start(m, l);
    for (int t = 0; t < m->period_count; t++) {
        if (t == 0) {
            cap_mc_demand_start(m, l);
        } else if (m->any_sigma) {
            cap_mc_draw_normals(m, l, t);
            cap_mc_correlate(m, l);
            cap_mc_apply_shocks(m, l);
        }
        cap_mc_record_demand(m, l, t);
        cap_mc_draw_outages(m, l, t);
        cap_mc_deliver(m, l, t);
        for (int k = 0; k < m->scale_count; k++)
            cap_mc_settle(m, l, t, k);
    }
}

/* ---- one sample in a compact state (the CUDA fused kernel) -------------------------------
 * cap_mc_simulate_path runs the model of cap_mc_simulate for one sample and one scale, the
 * same operations in the same order (so the same bits: tests/test_mc.c compares the two on
 * the CPU), in a state a GPU thread can keep on chip: 3W doubles (multipliers; the correlated
 * shocks, then the shortfalls; unmet hours), a few words of bits (offerings up, providers
 * down, offerings recourse has visited, workloads that fell short, offerings recourse has
 * spent) and, touched only when a workload falls short and only for the offerings recourse
 * leaves with some spare capacity, that capacity. The workspace rows of the lane version
 * hold W + normal_rows + W + provider_rows + offering_rows + W + W + O doubles instead,
 * rewritten every period: on a GPU that traffic, not the arithmetic, set the pace
 * (docs/monte-carlo.md §5). Differences that change no value: a sample's delivered H100e is
 * summed when its shortfall is computed; correlated shocks are summed as the normal pairs
 * arrive (k ascending, as in cap_mc_correlate); spare capacity is set when recourse first
 * visits an offering, and a spent offering is skipped on its bit (its spare capacity is 0:
 * no step would change anything); a scale at a time (the random numbers are drawn again for
 * each scale: the same numbers). */

typedef struct {
    double *x;      /* [3W]: multipliers, work (shocks, then shortfalls), unmet H100e-hours */
    uint32_t *bits; /* [cap_mc_path_words]; may lie apart from x (GPU: in shared memory) */
    double *spare;  /* [O] */
    int stride;     /* item i of this sample at x[i * stride], bits[i * stride], spare[...] */
} cap_mc_path;

CAP_MC_HD int cap_mc_path_up_words(const cap_mc_model *m)
{
    return (m->offering_rows + 31) / 32;
}
CAP_MC_HD int cap_mc_path_down_words(const cap_mc_model *m)
{
    return (m->provider_rows + 31) / 32;
}
CAP_MC_HD int cap_mc_path_visit_words(const cap_mc_model *m)
{
    return (m->offering_count + 31) / 32;
}
CAP_MC_HD int cap_mc_path_any_words(const cap_mc_model *m)
{
    return (m->workload_count + 31) / 32;
}
CAP_MC_HD int cap_mc_path_words(const cap_mc_model *m)
{
    return cap_mc_path_up_words(m) + cap_mc_path_down_words(m) + 2 * cap_mc_path_visit_words(m) +
           cap_mc_path_any_words(m);
}
CAP_MC_HD int64_t cap_mc_path_x_rows(const cap_mc_model *m)
{
    return 3 * (int64_t)m->workload_count;
}
/* Doubles a sample's state takes besides spare capacity (bit words rounded up to doubles). */
CAP_MC_HD int64_t cap_mc_path_doubles(const cap_mc_model *m)
{
    return cap_mc_path_x_rows(m) + (cap_mc_path_words(m) + 1) / 2;
}

/* The bit rows, in order: offerings up, providers down, offerings visited, workloads short,
 * offerings spent (no spare capacity left this period). */
CAP_MC_HD uint32_t *cap_mc_path_down(const cap_mc_model *m, cap_mc_path p)
{
    return p.bits + cap_mc_path_up_words(m) * p.stride;
}
CAP_MC_HD uint32_t *cap_mc_path_visited(const cap_mc_model *m, cap_mc_path p)
{
    return cap_mc_path_down(m, p) + cap_mc_path_down_words(m) * p.stride;
}
CAP_MC_HD uint32_t *cap_mc_path_any(const cap_mc_model *m, cap_mc_path p)
{
    return cap_mc_path_visited(m, p) + cap_mc_path_visit_words(m) * p.stride;
}
CAP_MC_HD uint32_t *cap_mc_path_spent(const cap_mc_model *m, cap_mc_path p)
{
    return cap_mc_path_any(m, p) + cap_mc_path_any_words(m) * p.stride;
}

CAP_MC_HD bool cap_mc_bit(const uint32_t *words, int stride, int i)
{
    return (words[(i >> 5) * stride] >> (i & 31)) & 1u;
}
CAP_MC_HD void cap_mc_bit_set(uint32_t *words, int stride, int i)
{
    words[(i >> 5) * stride] |= 1u << (i & 31);
}
CAP_MC_HD void cap_mc_bits_clear(uint32_t *words, int stride, int count)
{
    for (int i = 0; i < count; i++)
        words[i * stride] = 0u;
}

/* Multipliers of period t: 1 at t = 0, then the correlated shocks (cap_mc_draw_normals,
 * cap_mc_correlate, cap_mc_apply_shocks). z_w is summed into work[w] as pairs arrive. */
CAP_MC_HD void cap_mc_path_demand(const cap_mc_model *m, cap_mc_path p, uint64_t sample, int t)
{
    int W = m->workload_count;
    int st = p.stride;
    double *mult = p.x, *z = p.x + W * st;
    if (t == 0) {
        for (int w = 0; w < W; w++)
            mult[w * st] = 1.0;
        return;
    }
    if (!m->any_sigma)
        return;
    if (!m->chol_identity)
        for (int w = 0; w < W; w++)
            z[w * st] = 0.0;
    for (int pair = 0; 2 * pair < m->normal_rows; pair++) {
        double n[2];
        cap_mc_normal_pair(
            cap_mc_philox(m, sample, (uint32_t)t, CAP_MC_STREAM_NORMAL, (uint32_t)pair), &n[0],
            &n[1]);
        for (int h = 0; h < 2; h++) {
            int k = 2 * pair + h;
            if (k >= W)
                break;
            if (m->chol_identity) {
                z[k * st] = n[h];
                continue;
            }
            for (int w = k; w < W; w++) {
                double coef = m->chol[w * W + k];
                if (coef != 0.0)
                    z[w * st] += coef * n[h];
            }
        }
    }
    for (int w = 0; w < W; w++)
        if (m->sigma[w] != 0.0)
            mult[w * st] *= cap_mc_exp(m->sigma[w] * z[w * st] - m->half_var[w]);
}

/* Outage bits of period t, from the words cap_mc_draw_outages compares. Each bit word is
 * built in a register and stored once (groups of 4 never cross a word). */
CAP_MC_HD void cap_mc_path_outages(const cap_mc_model *m, cap_mc_path p, uint64_t sample, int t)
{
    int st = p.stride;
    uint32_t *up = p.bits, *down = cap_mc_path_down(m, p);
    for (int w0 = 0; w0 < m->provider_rows; w0 += 32) {
        uint32_t word = 0u;
        for (int g = w0; g < w0 + 32 && g < m->provider_rows; g += 4) {
            const int64_t *thr = m->provider_threshold + g;
            if ((thr[0] | thr[1] | thr[2] | thr[3]) == 0)
                continue;
            philox4x32_ctr_t r =
                cap_mc_philox(m, sample, (uint32_t)t, CAP_MC_STREAM_PROVIDER, (uint32_t)(g / 4));
            for (int q = 0; q < 4; q++)
                word |= (uint32_t)((int64_t)r.v[q] < thr[q]) << ((g + q) & 31);
        }
        down[(w0 >> 5) * st] = word;
    }
    for (int w0 = 0; w0 < m->offering_rows; w0 += 32) {
        uint32_t word = 0u;
        for (int g = w0; g < w0 + 32 && g < m->offering_rows; g += 4) {
            const int64_t *thr = m->offering_threshold + g;
            bool drawn = (thr[0] | thr[1] | thr[2] | thr[3]) != 0;
            philox4x32_ctr_t r = {{0u, 0u, 0u, 0u}};
            if (drawn)
                r = cap_mc_philox(m, sample, (uint32_t)t, CAP_MC_STREAM_OFFERING,
                                  (uint32_t)(g / 4));
            for (int q = 0; q < 4; q++) {
                bool out = (drawn && (int64_t)r.v[q] < thr[q]) ||
                           cap_mc_bit(down, st, m->offering_provider[g + q]);
                word |= (uint32_t)!out << ((g + q) & 31);
            }
        }
        up[(w0 >> 5) * st] = word;
    }
}

/* One step of the path's recourse on entry r. The spare capacity of r's offering is set when
 * recourse first visits it this period (as cap_mc_settle sets it); an offering with none left
 * is marked spent, so later steps on it read one bit (greedy takes all an offering has, except
 * at the step that covers a workload: few offerings keep a spare capacity in memory). */
CAP_MC_HD void cap_mc_path_step(cap_mc_path p, const uint32_t *up, uint32_t *visited,
                                uint32_t *spent, int o, const cap_mc_recourse_entry *entry,
                                double *left, double *cost)
{
    int st = p.stride;
    if (cap_mc_bit(spent, st, o))
        return;
    cap_mc_recourse_entry r = *entry;
    double spare;
    if (cap_mc_bit(visited, st, o)) {
        spare = p.spare[o * st];
    } else {
        spare = cap_mc_bit(up, st, o) ? r.spare : 0.0;
        cap_mc_bit_set(visited, st, o);
    }
    if (spare > 0.0)
        cap_mc_recourse_step(r.thr_a, r.price_hours, left, &spare, cost);
    if (spare > 0.0)
        p.spare[o * st] = spare;
    else
        cap_mc_bit_set(spent, st, o);
}

/* cap_mc_greedy_recourse for one sample: work[w] holds the shortfalls; spare capacity of an
 * offering is set (as cap_mc_settle sets it) when recourse first visits it. */
CAP_MC_HD void cap_mc_path_recourse(const cap_mc_model *m, cap_mc_path p, int t, double *cost)
{
    int W = m->workload_count;
    int st = p.stride;
    double *left_row = p.x + W * st;
    const uint32_t *up = p.bits;
    uint32_t *visited = cap_mc_path_visited(m, p), *spent = cap_mc_path_spent(m, p);
    cap_mc_bits_clear(visited, st, cap_mc_path_visit_words(m));
    cap_mc_bits_clear(spent, st, cap_mc_path_visit_words(m));
    for (int i = 0; i < W; i++) {
        int w = m->priority[i];
        double left = left_row[w * st];
        /* int: the lists hold at most T*W*O < 2^31 entries (check_problem) */
        int begin = (int)m->recourse_start[t * W + w], end = (int)m->recourse_start[t * W + w + 1];
        for (int e = begin; e < end && left > 0.0; e++)
            cap_mc_path_step(p, up, visited, spent, m->recourse_offering[e], m->recourse_entry + e,
                             &left, cost);
        left_row[w * st] = left;
    }
}

/* The whole path of one sample at scale k: records as cap_mc_simulate leaves them (the
 * multiplier rows only for k = 0: they do not depend on the scale). */
CAP_MC_HD void cap_mc_simulate_path(const cap_mc_model *m, cap_mc_path p, cap_mc_rec_out rec,
                                    uint64_t sample, int k)
{
    int W = m->workload_count, T = m->period_count;
    int st = p.stride;
    double *mult = p.x, *work = p.x + W * st, *unmet = p.x + 2 * W * st;
    const uint32_t *up = p.bits;
    uint32_t *any = cap_mc_path_any(m, p);
    double scale = m->scales[k], cost = m->plan_cost;
    for (int w = 0; w < W; w++)
        unmet[w * st] = 0.0;
    cap_mc_bits_clear(any, st, cap_mc_path_any_words(m));
    for (int t = 0; t < T; t++) {
        cap_mc_path_demand(m, p, sample, t);
        if (k == 0)
            for (int w = 0; w < W; w++)
                *cap_mc_rec_at(rec, cap_mc_rec_mult(m, w, t)) = mult[w * st];
        cap_mc_path_outages(m, p, sample, t);
        bool some_short = false;
        for (int w = 0; w < W; w++) {
            int begin = (int)m->delivery_start[t * W + w];
            int end = (int)m->delivery_start[t * W + w + 1];
            double delivered = 0.0;
            for (int e = begin; e < end; e++) /* an offering out adds coef * 0 = +0 */
                if (cap_mc_bit(up, st, m->delivery_offering[e]))
                    delivered += m->delivery_avail[e];
            double gap = cap_mc_demanded(mult[w * st], m->demand[w * T + t], scale) - delivered;
            work[w * st] = gap > 0.0 ? gap : 0.0;
            some_short = some_short || gap > 0.0;
        }
        if (m->greedy && some_short)
            cap_mc_path_recourse(m, p, t, &cost);
        double hours = m->hours[t];
        for (int w = 0; w < W; w++) {
            double sh = work[w * st], demand = m->demand[w * T + t];
            *cap_mc_rec_at(rec, cap_mc_rec_short(m, k, w, t)) = sh;
            unmet[w * st] += sh * hours;
            if (sh > CAP_MC_SHORT_TOL * cap_mc_demanded(mult[w * st], demand, scale))
                cap_mc_bit_set(any, st, w);
            cost += m->penalty_hours[w * T + t] * sh;
        }
    }
    *cap_mc_rec_at(rec, cap_mc_rec_cost(m, k)) = cost;
    for (int w = 0; w < W; w++) {
        *cap_mc_rec_at(rec, cap_mc_rec_unmet(m, k, w)) = unmet[w * st];
        *cap_mc_rec_at(rec, cap_mc_rec_any(m, k, w)) = cap_mc_bit(any, st, w) ? 1.0 : 0.0;
    }
}

/* ---- per-block reduction ------------------------------------------------------------------
 * A block partial holds, per scale k, PD doubles and PC counts:
 *   doubles: cost mean, cost M2, cost min, cost max; per (w,t): sum shortfall, sum service,
 *            max shortfall; per w: sum unmet, max unmet
 *   counts:  samples; per (w,t): fell short; per w: fell short in some period
 * A reduction unit is one of: the cost (u = 0), a (w,t) (u = 1 + w*T + t), a workload
 * (u = 1 + W*T + w); unit k*U + u. Each unit folds lanes in ascending order. */

CAP_MC_HD int64_t cap_mc_partial_doubles(const cap_mc_model *m)
{
    int64_t W = m->workload_count, T = m->period_count;
    return 4 + 3 * W * T + 2 * W;
}
CAP_MC_HD int64_t cap_mc_partial_counts(const cap_mc_model *m)
{
    int64_t W = m->workload_count, T = m->period_count;
    return 1 + W * T + W;
}
CAP_MC_HD int64_t cap_mc_units(const cap_mc_model *m)
{
    return cap_mc_partial_counts(m);
}

/* Empty partial entries of one unit (each unit owns its entries: a CUDA thread starts and
 * fills its own). */
CAP_MC_HD void cap_mc_unit_start(const cap_mc_model *m, int64_t unit, double *pd, int64_t *pc)
{
    int64_t W = m->workload_count, T = m->period_count, U = cap_mc_units(m);
    int k = (int)(unit / U);
    int64_t u = unit % U;
    double *d = pd + k * cap_mc_partial_doubles(m);
    int64_t *c = pc + k * cap_mc_partial_counts(m);
    c[u] = 0;
    if (u == 0) {
        d[0] = d[1] = 0.0;
        d[2] = 0x1.fffffffffffffp+1023;  /* min */
        d[3] = -0x1.fffffffffffffp+1023; /* max */
    } else if (u <= W * T) {
        double *dd = d + 4 + 3 * (u - 1);
        dd[0] = dd[1] = dd[2] = 0.0;
    } else {
        double *dd = d + 4 + 3 * W * T + 2 * (u - 1 - W * T);
        dd[0] = dd[1] = 0.0;
    }
}

CAP_MC_HD void cap_mc_partial_start(const cap_mc_model *m, double *pd, int64_t *pc)
{
    for (int64_t unit = 0; unit < cap_mc_units(m) * m->scale_count; unit++)
        cap_mc_unit_start(m, unit, pd, pc);
}

/* Chan et al.'s update: (n, mean, m2) absorbs a second set (nb, mean_b, m2_b). */
CAP_MC_HD void cap_mc_moments_merge(double *n, double *mean, double *m2, double nb, double mean_b,
                                    double m2_b)
{
    if (nb == 0.0)
        return;
    double na = *n, total = na + nb, delta = mean_b - *mean;
    *mean += delta * (nb / total);
    *m2 += m2_b + delta * delta * (na * nb / total);
    *n = total;
}

CAP_MC_HD double cap_mc_sum8(const double a[8])
{
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/* The order of every floating-point fold below is fixed by the sample index alone: a block
 * is cut into batches of CAP_MC_CPU_LANES samples; inside a batch, sample j goes to way
 * (j - batch start) mod 8 in sample order, the 8 ways are combined as a fixed tree, and the
 * batch is added to the block in batch order. Eight ways let the CPU vectorise the fold. */

/* One value into one way of the folds below (Welford's update, minimum, maximum). */
CAP_MC_HD void cap_mc_cost_step(double v, double *n, double *mean, double *m2, double *lo,
                                double *hi)
{
    *n += 1.0;
    double delta = v - *mean;
    *mean += delta / *n;
    *m2 += delta * (v - *mean);
    *lo = v < *lo ? v : *lo;
    *hi = v > *hi ? v : *hi;
}

CAP_MC_HD void cap_mc_reduce_cost(const double *x, int b0, int b1, double *d, int64_t *c)
{
    double n8[8] = {0}, mean8[8] = {0}, m28[8] = {0}, lo8[8], hi8[8];
    for (int q = 0; q < 8; q++)
        lo8[q] = d[2], hi8[q] = d[3];
    int g = b0;
    for (; g + 8 <= b1; g += 8)
        for (int q = 0; q < 8; q++)
            cap_mc_cost_step(x[g + q], &n8[q], &mean8[q], &m28[q], &lo8[q], &hi8[q]);
    for (int q = 0; q < 8; q++)
        if (g + q < b1)
            cap_mc_cost_step(x[g + q], &n8[q], &mean8[q], &m28[q], &lo8[q], &hi8[q]);
    for (int step = 1; step < 8; step *= 2)
        for (int q = 0; q + step < 8; q += 2 * step)
            cap_mc_moments_merge(&n8[q], &mean8[q], &m28[q], n8[q + step], mean8[q + step],
                                 m28[q + step]);
    double n = (double)c[0];
    cap_mc_moments_merge(&n, &d[0], &d[1], n8[0], mean8[0], m28[0]);
    c[0] = (int64_t)n;
    for (int q = 0; q < 8; q++) {
        d[2] = lo8[q] < d[2] ? lo8[q] : d[2];
        d[3] = hi8[q] > d[3] ? hi8[q] : d[3];
    }
}

CAP_MC_HD void cap_mc_period_step(double s, double demanded, int64_t *count, double *sum,
                                  double *service, double *hi)
{
    *count += s > CAP_MC_SHORT_TOL * demanded;
    *sum += s;
    *service += demanded > 0.0 ? 1.0 - s / demanded : 1.0;
    *hi = s > *hi ? s : *hi;
}

/* (w,t): counts of falling short, sums of shortfall and service level, maximum shortfall. */
CAP_MC_HD void cap_mc_reduce_period(const double *x, const double *mult, double demand,
                                    double scale, int b0, int b1, double *dd, int64_t *count)
{
    double sum8[8] = {0}, service8[8] = {0}, hi8[8] = {0};
    int64_t count8[8] = {0};
    int g = b0;
    for (; g + 8 <= b1; g += 8)
        for (int q = 0; q < 8; q++)
            cap_mc_period_step(x[g + q], cap_mc_demanded(mult[g + q], demand, scale), &count8[q],
                               &sum8[q], &service8[q], &hi8[q]);
    for (int q = 0; q < 8; q++)
        if (g + q < b1)
            cap_mc_period_step(x[g + q], cap_mc_demanded(mult[g + q], demand, scale), &count8[q],
                               &sum8[q], &service8[q], &hi8[q]);
    dd[0] += cap_mc_sum8(sum8);
    dd[1] += cap_mc_sum8(service8);
    for (int q = 0; q < 8; q++) {
        *count += count8[q];
        dd[2] = hi8[q] > dd[2] ? hi8[q] : dd[2];
    }
}

CAP_MC_HD void cap_mc_workload_step(double x, double any, int64_t *count, double *sum, double *hi)
{
    *count += any != 0.0;
    *sum += x;
    *hi = x > *hi ? x : *hi;
}

/* w: counts of falling short in some period, sum and maximum of unmet H100e-hours. */
CAP_MC_HD void cap_mc_reduce_workload(const double *x, const double *any, int b0, int b1,
                                      double *dd, int64_t *count)
{
    double sum8[8] = {0}, hi8[8] = {0};
    int64_t count8[8] = {0};
    int g = b0;
    for (; g + 8 <= b1; g += 8)
        for (int q = 0; q < 8; q++)
            cap_mc_workload_step(x[g + q], any[g + q], &count8[q], &sum8[q], &hi8[q]);
    for (int q = 0; q < 8; q++)
        if (g + q < b1)
            cap_mc_workload_step(x[g + q], any[g + q], &count8[q], &sum8[q], &hi8[q]);
    dd[0] += cap_mc_sum8(sum8);
    for (int q = 0; q < 8; q++) {
        *count += count8[q];
        dd[1] = hi8[q] > dd[1] ? hi8[q] : dd[1];
    }
}

/* Folds lanes [lane_begin, lane_end) of a block into the partial entries of one unit;
 * lane_begin is a batch boundary of the block (the CPU passes one batch, a CUDA thread a
 * whole block). */
CAP_MC_HD void cap_mc_reduce_unit(const cap_mc_model *m, int64_t unit, const double *rec,
                                  int64_t stride, int lane_begin, int lane_end, double *pd,
                                  int64_t *pc)
{
    int64_t W = m->workload_count, T = m->period_count, U = cap_mc_units(m);
    int k = (int)(unit / U);
    int64_t u = unit % U;
    double *d = pd + k * cap_mc_partial_doubles(m);
    int64_t *c = pc + k * cap_mc_partial_counts(m);
    for (int b0 = lane_begin; b0 < lane_end; b0 += CAP_MC_CPU_LANES) {
        int b1 = b0 + CAP_MC_CPU_LANES < lane_end ? b0 + CAP_MC_CPU_LANES : lane_end;
        if (u == 0) {
            cap_mc_reduce_cost(rec + cap_mc_rec_cost(m, k) * stride, b0, b1, d, c);
        } else if (u <= W * T) {
            int w = (int)((u - 1) / T), t = (int)((u - 1) % T);
            cap_mc_reduce_period(rec + cap_mc_rec_short(m, k, w, t) * stride,
                                 rec + cap_mc_rec_mult(m, w, t) * stride, m->demand[w * T + t],
                                 m->scales[k], b0, b1, d + 4 + 3 * (u - 1), &c[u]);
        } else {
            int w = (int)(u - 1 - W * T);
            cap_mc_reduce_workload(rec + cap_mc_rec_unmet(m, k, w) * stride,
                                   rec + cap_mc_rec_any(m, k, w) * stride, b0, b1,
                                   d + 4 + 3 * W * T + 2 * w, &c[u]);
        }
    }
}

/* ---- histograms (quantiles beyond the exact-quantile memory) ------------------------------ */

/* Bin of x in [lo, lo + bins/inv_width]: -1 when x <= lo (counted apart: quantiles that
 * land on the minimum are then exact), else floor((x - lo) * inv_width) capped at bins-1. */
CAP_MC_HD int64_t cap_mc_bin(double x, double lo, double inv_width, int64_t bins)
{
    if (!(x > lo))
        return -1;
    double f = (x - lo) * inv_width;
    return f >= (double)bins ? bins - 1 : (int64_t)f;
}

/* ---- exact cost quantiles: selection bins and compensated sums (mc.c, mc_cuda.cu) ---------
 * The kept costs are counted in CAP_MC_SELECT_BINS equal bins over [min, max]; the bin index
 * is monotone in the value, so a bin holds consecutive ranks. CVaR95 sums the costs above
 * the tail's bin per run of CAP_MC_TAIL_BLOCK consecutive samples, in sample order, and the
 * runs in run order: the same sum on either backend. */
#define CAP_MC_SELECT_BINS 65536
#define CAP_MC_TAIL_BLOCK  4096

typedef struct {
    double sum, c; /* Neumaier: value sum + c */
} cap_mc_ksum;

CAP_MC_HD void cap_mc_ksum_add(cap_mc_ksum *k, double x)
{
    double t = k->sum + x;
    k->c += fabs(k->sum) >= fabs(x) ? (k->sum - t) + x : (x - t) + k->sum;
    k->sum = t;
}

CAP_MC_HD int64_t cap_mc_select_bin(double x, double lo, double inv_width)
{
    double f = (x - lo) * inv_width;
    return f >= (double)(CAP_MC_SELECT_BINS - 1) ? CAP_MC_SELECT_BINS - 1
                                                 : (f > 0.0 ? (int64_t)f : 0);
}

#endif
