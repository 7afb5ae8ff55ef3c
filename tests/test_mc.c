/* test_mc.c: the Monte Carlo engine (kernels/mc.h) against numbers worked out apart from it:
 * lognormal closed forms, outage probabilities, a greedy recourse worked by hand, Cholesky
 * factors, Philox's published answers; and its reproducibility (threads, chunks, passes,
 * CPU against CUDA). Problems are built by hand as arrays. CUDA is touched only inside a
 * test body (Criterion forks its workers).
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "mc.h"
#include "mc_internal.h"
#include "mc_sample.h"

#define PI 3.14159265358979323846

static double normal_cdf(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

/* ---- a small problem owned by the test ---------------------------------------------------- */

#define MAX_W 4
#define MAX_O 6
#define MAX_P 3
#define MAX_T 4

typedef struct {
    cap_mc_problem p;
    double hours[MAX_T], demand[MAX_W * MAX_T], sigma[MAX_W], chol[MAX_W * MAX_W];
    double penalty[MAX_W], availability[MAX_O], offering_outage[MAX_O];
    double provider_outage[MAX_P], price[MAX_O * MAX_T], capacity[MAX_O * MAX_T];
    double thr[MAX_W * MAX_O], plan[MAX_T * MAX_W * MAX_O];
    unsigned char has_penalty[MAX_W], recourse_ok[MAX_O];
    int offering_provider[MAX_O];
} problem;

static void problem_init(problem *pb, int W, int O, int P, int T)
{
    memset(pb, 0, sizeof *pb);
    pb->p.workload_count = W, pb->p.offering_count = O;
    pb->p.provider_count = P, pb->p.period_count = T;
    for (int t = 0; t < T; t++)
        pb->hours[t] = 1.0;
    for (int i = 0; i < W; i++)
        pb->chol[i * W + i] = 1.0, pb->has_penalty[i] = 1;
    for (int o = 0; o < O; o++)
        pb->availability[o] = 1.0;
    pb->p.hours = pb->hours, pb->p.demand = pb->demand, pb->p.sigma = pb->sigma;
    pb->p.chol = pb->chol, pb->p.penalty = pb->penalty, pb->p.has_penalty = pb->has_penalty;
    pb->p.availability = pb->availability, pb->p.offering_outage = pb->offering_outage;
    pb->p.offering_provider = P > 0 ? pb->offering_provider : NULL;
    pb->p.provider_outage = pb->provider_outage, pb->p.price = pb->price;
    pb->p.capacity = pb->capacity, pb->p.recourse_ok = pb->recourse_ok;
    pb->p.thr = pb->thr, pb->p.plan = pb->plan;
}

static double *plan_at(problem *pb, int t, int w, int o)
{
    return &pb->plan[(t * pb->p.workload_count + w) * pb->p.offering_count + o];
}

static cap_mc_result *run_ok(const problem *pb, const cap_mc_options *o)
{
    cap_mc_result *r = NULL;
    char error[256];
    int status = cap_mc_run(&pb->p, o, &r, error, sizeof error);
    cr_assert_eq(status, CAP_MC_OK, "cap_mc_run: %d %s", status, error);
    cr_assert_not_null(r);
    return r;
}

/* The GPU tests skip, with the reason, where there is no device. */
#define SKIP_WITHOUT_CUDA()                                                                        \
    do {                                                                                           \
        if (cap_mc_cuda_device_count() == 0) {                                                     \
            cr_skip_test("no CUDA device: %s", cap_mc_cuda_compiled() ? "no GPU or driver found"   \
                                                                      : "built without CUDA");     \
            return;                                                                                \
        }                                                                                          \
    } while (0)

static cap_mc_options cpu_options(int64_t samples)
{
    cap_mc_options o;
    cap_mc_options_init(&o);
    o.backend = CAP_MC_BACKEND_CPU;
    o.samples = samples;
    return o;
}

/* ---- (a) closed form: lognormal demand against a plan that covers D exactly --------------- *
 * Period 1 demand is lambda D m with m lognormal of mean 1 and log-sd sigma; the plan
 * delivers D. Shortfall = (lambda D m - D)+: E = lambda D Phi(d1) - D Phi(d2),
 * P = Phi(d2), E[S^2] = (lambda D)^2 e^{s^2} Phi(d1 + s) - 2 lambda D^2 Phi(d1) + D^2 Phi(d2),
 * service E[min(1, D / (lambda D m))] = Phi(-d2) + e^{s^2} Phi(d2 - s) / lambda. Period 0
 * has no shock (m = 1). */

static void lognormal_problem(problem *pb, double demand, double sigma, double penalty)
{
    problem_init(pb, 1, 1, 0, 2);
    pb->hours[0] = 10.0, pb->hours[1] = 20.0;
    pb->demand[0] = pb->demand[1] = demand;
    pb->sigma[0] = sigma;
    pb->penalty[0] = penalty;
    pb->thr[0] = 1.0;
    *plan_at(pb, 0, 0, 0) = *plan_at(pb, 1, 0, 0) = demand;
    pb->p.plan_cost = 1234.0;
}

Test(mc, closed_form_lognormal_shortfall)
{
    const double D = 1000.0, s = 0.25, penalty = 3.0;
    const double lambdas[] = {0.8, 1.0, 1.3};
    const int64_t N = 200000;
    problem pb;
    lognormal_problem(&pb, D, s, penalty);
    cap_mc_options o = cpu_options(N);
    o.scales = lambdas, o.scale_count = 3;
    cap_mc_result *r = run_ok(&pb, &o);
    for (int k = 0; k < 3; k++) {
        double lam = lambdas[k], F = lam * D;
        double d1 = (log(lam) + 0.5 * s * s) / s, d2 = d1 - s;
        double mean = F * normal_cdf(d1) - D * normal_cdf(d2);
        double second = F * F * exp(s * s) * normal_cdf(d1 + s) - 2.0 * F * D * normal_cdf(d1) +
                        D * D * normal_cdf(d2);
        double se_mean = sqrt((second - mean * mean) / (double)N);
        double p = normal_cdf(d2), se_p = sqrt(p * (1.0 - p) / (double)N);
        double service = normal_cdf(-d2) + exp(s * s) * normal_cdf(d2 - s) / lam;
        const cap_mc_workload_stats *w = &r->scales[k].workloads[0];
        cr_assert_eq(r->scales[k].scale, lam);
        cr_expect(fabs(w->period_expected_shortfall[1] - mean) <= 4.0 * se_mean,
                  "lambda %g: E shortfall %g, closed form %g (se %g)", lam,
                  w->period_expected_shortfall[1], mean, se_mean);
        cr_expect(fabs(w->period_p_shortfall[1] - p) <= 4.0 * se_p,
                  "lambda %g: P shortfall %g, closed form %g (se %g)", lam,
                  w->period_p_shortfall[1], p, se_p);
        cr_expect(fabs(w->period_service_level[1] - service) <= 4.0 * 0.5 / sqrt((double)N),
                  "lambda %g: service %g, closed form %g", lam, w->period_service_level[1],
                  service);
        /* period 0: no shock, the shortfall is (lambda - 1)+ D in every sample */
        double short0 = lam > 1.0 ? (lam - 1.0) * D : 0.0;
        cr_expect_float_eq(w->period_expected_shortfall[0], short0, 1e-9 * D);
        cr_expect_eq(w->period_p_shortfall[0], lam > 1.0 ? 1.0 : 0.0);
        /* cost = plan cost + penalty * hours * shortfall over both periods */
        double cost = 1234.0 + penalty * (10.0 * short0 + 20.0 * mean);
        cr_expect(fabs(r->scales[k].cost.mean - cost) <= 4.0 * penalty * 20.0 * se_mean,
                  "lambda %g: mean cost %g, closed form %g", lam, r->scales[k].cost.mean, cost);
        cr_expect(r->scales[k].cost.quantiles_exact);
    }
    cap_mc_result_free(r);
}

/* Plan 0: shortfall = demand itself, D m_t with m a martingale: E = D in every period, and
 * the P95 is D exp(-t s^2/2 + s sqrt(t) z95). */
Test(mc, demand_path_is_a_lognormal_martingale)
{
    const double D = 500.0, s = 0.2, z95 = 1.6448536269514722;
    const int64_t N = 100000;
    problem pb;
    problem_init(&pb, 1, 1, 0, 4);
    for (int t = 0; t < 4; t++)
        pb.demand[t] = D;
    pb.sigma[0] = s;
    pb.thr[0] = 1.0;
    cap_mc_options o = cpu_options(N);
    cap_mc_result *r = run_ok(&pb, &o);
    const cap_mc_workload_stats *w = &r->scales[0].workloads[0];
    for (int t = 0; t < 4; t++) {
        double v = s * s * t;
        double se = D * sqrt(exp(v) - 1.0) / sqrt((double)N);
        cr_expect(fabs(w->period_expected_shortfall[t] - D) <= 4.0 * se + 1e-9 * D,
                  "t=%d: E shortfall %g, want %g (se %g)", t, w->period_expected_shortfall[t], D,
                  se);
        double q = D * exp(-0.5 * v + sqrt(v) * z95);
        /* quantile standard error: sqrt(p(1-p)/N) / density at q */
        double density = t > 0 ? exp(-0.5 * z95 * z95) / sqrt(2 * PI) / (q * sqrt(v)) : 0.0;
        double se_q = t > 0 ? sqrt(0.95 * 0.05 / (double)N) / density : 0.0;
        cr_expect(fabs(w->period_p95_shortfall[t] - q) <= 4.0 * se_q + 1e-9 * D,
                  "t=%d: P95 shortfall %g, want %g (se %g)", t, w->period_p95_shortfall[t], q,
                  se_q);
    }
    cap_mc_result_free(r);
}

/* Two workloads with plan 0: cost = plan cost + pen * D * sum_t (m_A + m_B) hours; in
 * period 1 only, Var(m_A + m_B) = 2 (e^{s^2} - 1) + 2 (e^{rho s^2} - 1). */
Test(mc, correlation_reaches_the_cost_variance)
{
    const double D = 100.0, s = 0.3, rho = 0.6, pen = 2.0;
    const int64_t N = 200000;
    problem pb;
    problem_init(&pb, 2, 1, 0, 2);
    double corr[4] = {1.0, rho, rho, 1.0};
    cr_assert_eq(cap_mc_cholesky(2, corr, pb.chol), 0);
    for (int w = 0; w < 2; w++) {
        pb.sigma[w] = s;
        pb.penalty[w] = pen;
        pb.demand[w * 2 + 0] = pb.demand[w * 2 + 1] = D;
        pb.thr[w] = 1.0;
    }
    cap_mc_options o = cpu_options(N);
    cap_mc_result *r = run_ok(&pb, &o);
    double want = pen * D * sqrt(2.0 * (exp(s * s) - 1.0) + 2.0 * (exp(rho * s * s) - 1.0));
    cr_expect(fabs(r->scales[0].cost.std / want - 1.0) < 0.01, "std %g, want %g",
              r->scales[0].cost.std, want);
    cr_expect(fabs(r->scales[0].cost.mean - pen * D * 4.0) < 4.0 * want / sqrt((double)N),
              "mean %g", r->scales[0].cost.mean);
    cap_mc_result_free(r);
}

/* ---- (b) outages ---------------------------------------------------------------------------
 * sigma 0, the plan covers D exactly: a period falls short iff an offering it uses is out,
 * so P = 1 - (1 - p_p)(1 - p_o)^n for n offerings of one provider; and periods are
 * independent: P(any of T) = 1 - (1 - P)^T. */

Test(mc, outage_probabilities_are_recovered)
{
    const double po = 0.1, pp = 0.05, D = 80.0;
    const int64_t N = 100000;
    const int T = 3;
    for (int n = 1; n <= 2; n++) {
        problem pb;
        problem_init(&pb, 1, n, 1, T);
        for (int t = 0; t < T; t++)
            pb.demand[t] = D;
        pb.provider_outage[0] = pp;
        pb.penalty[0] = 1.0;
        for (int o = 0; o < n; o++) {
            pb.offering_outage[o] = po;
            pb.offering_provider[o] = 0;
            pb.availability[o] = 0.8;
            pb.thr[o] = 1.25; /* delivers thr * availability = 1 H100e per accelerator */
            for (int t = 0; t < T; t++)
                *plan_at(&pb, t, 0, o) = D / n;
        }
        cap_mc_options o = cpu_options(N);
        o.seed = 7;
        cap_mc_result *r = run_ok(&pb, &o);
        const cap_mc_workload_stats *w = &r->scales[0].workloads[0];
        double p = 1.0 - (1.0 - pp) * pow(1.0 - po, n);
        double se = sqrt(p * (1.0 - p) / (double)N);
        for (int t = 0; t < T; t++)
            cr_expect(fabs(w->period_p_shortfall[t] - p) <= 4.0 * se,
                      "n=%d t=%d: P shortfall %g, want %g (se %g)", n, t, w->period_p_shortfall[t],
                      p, se);
        double any = 1.0 - pow(1.0 - p, T);
        cr_expect(fabs(w->p_shortfall - any) <= 4.0 * sqrt(any * (1.0 - any) / (double)N),
                  "n=%d: P(any) %g, want %g", n, w->p_shortfall, any);
        /* one offering: a shortfall is all of D; E = p D */
        if (n == 1)
            cr_expect(fabs(w->period_expected_shortfall[0] - p * D) <= 4.0 * se * D);
        cap_mc_result_free(r);
    }
}

Test(mc, certain_and_impossible_outages)
{
    problem pb;
    problem_init(&pb, 1, 2, 2, 1);
    pb.demand[0] = 10.0;
    pb.thr[0] = pb.thr[1] = 1.0;
    pb.offering_provider[0] = 0, pb.offering_provider[1] = 1;
    pb.provider_outage[0] = 1.0; /* provider 0 is always out */
    *plan_at(&pb, 0, 0, 0) = 4.0;
    *plan_at(&pb, 0, 0, 1) = 6.0;
    cap_mc_options o = cpu_options(5000);
    cap_mc_result *r = run_ok(&pb, &o);
    cr_expect_eq(r->scales[0].workloads[0].period_p_shortfall[0], 1.0);
    cr_expect_float_eq(r->scales[0].workloads[0].period_expected_shortfall[0], 4.0, 1e-12);
    cr_expect_float_eq(r->scales[0].workloads[0].period_service_level[0], 0.6, 1e-12);
    cap_mc_result_free(r);
}

/* ---- (e) greedy recourse, worked by hand ---------------------------------------------------
 * One period of 10 hours, sigma 0, no outages. Offerings: o0 reserved (price 2, capacity 80,
 * all planned), o1 on demand (price 4, capacity 40, none planned), o2 spot (price 6,
 * capacity 10, availability 0.5). Workload A: demand 100, penalty 10, runs on o0, o1 at thr 1
 * and on o2 at thr 2; plan 60 on o0. Workload B: demand 50, penalty 20, runs on o0, o1 at
 * thr 1; plan 20 on o0. Shortfalls before recourse: A 40, B 30. Plan cost 80*2*10 = 1600.
 *
 * Both pay penalties: B (penalty 20) goes first: 30 on o1 (4 USD per H100e) = 1200 USD.
 * A: o1 (4 USD/H100e) has 10 left: 400 USD; o2 (6 / (2 * 0.5) = 6 USD/H100e) delivers
 * 10 * 1.0 = 10 H100e for 10 * 6 * 10 = 600 USD; 20 H100e unmet at 10 * 10 = 2000 USD.
 * Cost 1600 + 1200 + 400 + 600 + 2000 = 5800; A unmet 200 H100e-hours, service 0.8.
 * Without recourse: 1600 + 10*10*40 + 20*10*30 = 11600.
 * A hard, B penalty 20: A (hard demand first) takes 40 on o1 = 1600 USD; B finds nothing
 * (o1 empty, o2 not allowed): 30 unmet, 6000 USD. Cost 1600 + 1600 + 6000 = 9200. */

static void recourse_problem(problem *pb)
{
    problem_init(pb, 2, 3, 0, 1);
    pb->hours[0] = 10.0;
    pb->demand[0] = 100.0, pb->demand[1] = 50.0;
    pb->penalty[0] = 10.0, pb->penalty[1] = 20.0;
    double price[3] = {2.0, 4.0, 6.0}, capacity[3] = {80.0, 40.0, 10.0};
    for (int o = 0; o < 3; o++)
        pb->price[o] = price[o], pb->capacity[o] = capacity[o];
    pb->availability[2] = 0.5;
    pb->recourse_ok[1] = pb->recourse_ok[2] = 1;
    double thr[6] = {1.0, 1.0, 2.0, 1.0, 1.0, 0.0};
    memcpy(pb->thr, thr, sizeof thr);
    *plan_at(pb, 0, 0, 0) = 60.0;
    *plan_at(pb, 0, 1, 0) = 20.0;
    pb->p.plan_cost = 1600.0;
}

Test(mc, greedy_recourse_by_hand)
{
    problem pb;
    recourse_problem(&pb);
    cap_mc_options o = cpu_options(4096 + 17);
    o.recourse = CAP_MC_RECOURSE_GREEDY;
    cap_mc_result *r = run_ok(&pb, &o);
    const cap_mc_scale_result *s = &r->scales[0];
    cr_expect_float_eq(s->cost.mean, 5800.0, 1e-9);
    cr_expect_float_eq(s->cost.p5, 5800.0, 1e-9);
    cr_expect_float_eq(s->cost.p99, 5800.0, 1e-9);
    cr_expect_float_eq(s->cost.cvar95, 5800.0, 1e-9);
    cr_expect(s->cost.std < 1e-9);
    cr_expect_eq(s->workloads[0].p_shortfall, 1.0);
    cr_expect_eq(s->workloads[1].p_shortfall, 0.0);
    cr_expect_float_eq(s->workloads[0].expected_unmet_h100e_hours, 200.0, 1e-9);
    cr_expect_float_eq(s->workloads[0].p95_unmet_h100e_hours, 200.0, 1e-9);
    cr_expect_float_eq(s->workloads[0].service_level, 0.8, 1e-12);
    cr_expect_float_eq(s->workloads[1].service_level, 1.0, 1e-12);
    cap_mc_result_free(r);

    o.recourse = CAP_MC_RECOURSE_NONE;
    r = run_ok(&pb, &o);
    cr_expect_float_eq(r->scales[0].cost.mean, 11600.0, 1e-9);
    cr_expect_float_eq(r->scales[0].workloads[1].expected_unmet_h100e_hours, 300.0, 1e-9);
    cap_mc_result_free(r);

    pb.has_penalty[0] = 0;
    o.recourse = CAP_MC_RECOURSE_GREEDY;
    r = run_ok(&pb, &o);
    cr_expect_float_eq(r->scales[0].cost.mean, 9200.0, 1e-9);
    cr_expect_eq(r->scales[0].workloads[0].p_shortfall, 0.0);
    cr_expect_float_eq(r->scales[0].workloads[1].expected_unmet_h100e_hours, 300.0, 1e-9);
    cap_mc_result_free(r);
}

/* A recourse offering that is out serves nothing: o1 always out leaves only o2 for A and B. */
Test(mc, greedy_recourse_skips_offerings_that_are_out)
{
    problem pb;
    recourse_problem(&pb);
    pb.offering_outage[1] = 1.0;
    cap_mc_options o = cpu_options(1000);
    o.recourse = CAP_MC_RECOURSE_GREEDY;
    cap_mc_result *r = run_ok(&pb, &o);
    /* B: nothing (o2 not allowed), 30 unmet = 6000; A: o2 10 H100e = 600, 30 unmet = 3000 */
    cr_expect_float_eq(r->scales[0].cost.mean, 1600.0 + 6000.0 + 600.0 + 3000.0, 1e-9);
    cap_mc_result_free(r);
}

/* ---- (c) reproducibility: threads, chunks, passes, scales ----------------------------------- */

static void mixed_problem(problem *pb)
{
    problem_init(pb, 3, 5, 2, 3);
    double hours[3] = {100.0, 100.0, 120.0};
    double demand[9] = {100, 120, 140, 50, 50, 60, 30, 40, 50};
    double corr[9] = {1.0, 0.5, 0.2, 0.5, 1.0, 0.3, 0.2, 0.3, 1.0};
    memcpy(pb->hours, hours, sizeof hours);
    memcpy(pb->demand, demand, sizeof demand);
    cr_assert_eq(cap_mc_cholesky(3, corr, pb->chol), 0);
    pb->sigma[0] = 0.2, pb->sigma[1] = 0.3, pb->sigma[2] = 0.1;
    pb->penalty[0] = 40.0, pb->penalty[1] = 60.0;
    pb->has_penalty[2] = 0;
    double avail[5] = {0.98, 1.0, 0.95, 0.9, 1.0}, outage[5] = {0.01, 0.02, 0.0, 0.05, 0.01};
    int provider[5] = {0, 0, 1, 1, 1};
    unsigned char rec[5] = {0, 1, 0, 1, 1};
    double price[5] = {2.0, 4.0, 5.0, 1.5, 9.0}, capacity[5] = {120, 80, 40, 50, 30};
    double thr[15] = {1, 1, 2.5, 1, 2.5, 1, 1, 0, 1, 0, 0, 1, 2.5, 1, 2.5};
    for (int o = 0; o < 5; o++) {
        pb->availability[o] = avail[o], pb->offering_outage[o] = outage[o];
        pb->offering_provider[o] = provider[o], pb->recourse_ok[o] = rec[o];
        for (int t = 0; t < 3; t++)
            pb->price[o * 3 + t] = price[o], pb->capacity[o * 3 + t] = capacity[o];
    }
    memcpy(pb->thr, thr, sizeof thr);
    pb->provider_outage[0] = 0.01, pb->provider_outage[1] = 0.02;
    double cost = 0.0;
    for (int t = 0; t < 3; t++) {
        *plan_at(pb, t, 0, 0) = 70.0 + 10.0 * t;
        *plan_at(pb, t, 0, 2) = 20.0;
        *plan_at(pb, t, 1, 0) = 40.0;
        *plan_at(pb, t, 1, 1) = 10.0 + 5.0 * t;
        *plan_at(pb, t, 2, 2) = 14.0 + 4.0 * t;
        *plan_at(pb, t, 2, 3) = 5.0;
        for (int w = 0; w < 3; w++)
            for (int o = 0; o < 5; o++)
                cost += price[o] * hours[t] * *plan_at(pb, t, w, o);
    }
    pb->p.plan_cost = cost;
}

static bool same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Tolerance 0: bit-for-bit. Otherwise |a-b| <= tol * max(1, |a|, |b|) for values, and
 * probabilities within count_tol / N. */
static void expect_results_match(const cap_mc_result *a, const cap_mc_result *b, double tol,
                                 double count_tol, const char *what)
{
    cr_assert_eq(a->scale_count, b->scale_count);
    cr_assert_eq(a->samples, b->samples);
    double n = (double)a->samples;
#define NEAR(x, y, t)                                                                              \
    ((t) == 0.0 ? same_double(x, y) : fabs((x) - (y)) <= (t)*fmax(1.0, fmax(fabs(x), fabs(y))))
#define EXPECT_NEAR(x, y) cr_expect(NEAR(x, y, tol), "%s: %s: %.17g vs %.17g", what, #x, x, y)
#define EXPECT_PROB(x, y)                                                                          \
    cr_expect(count_tol == 0.0 ? same_double(x, y) : fabs((x) - (y)) * n <= count_tol + 1e-9,      \
              "%s: %s: %.17g vs %.17g", what, #x, x, y)
    for (int k = 0; k < a->scale_count; k++) {
        const cap_mc_scale_result *sa = &a->scales[k], *sb = &b->scales[k];
        const cap_mc_cost_stats *ca = &sa->cost, *cb = &sb->cost;
        EXPECT_NEAR(ca->mean, cb->mean);
        EXPECT_NEAR(ca->std, cb->std);
        EXPECT_NEAR(ca->p5, cb->p5);
        EXPECT_NEAR(ca->p50, cb->p50);
        EXPECT_NEAR(ca->p95, cb->p95);
        EXPECT_NEAR(ca->p99, cb->p99);
        EXPECT_NEAR(ca->cvar95, cb->cvar95);
        EXPECT_NEAR(ca->min, cb->min);
        EXPECT_NEAR(ca->max, cb->max);
        cr_expect_eq(ca->quantiles_exact, cb->quantiles_exact);
        for (int i = 0; i < sa->histogram_bins; i++)
            cr_expect(tol == 0.0 ? sa->histogram[i] == sb->histogram[i]
                                 : llabs(sa->histogram[i] - sb->histogram[i]) <= 2,
                      "%s: histogram[%d] %lld vs %lld", what, i, (long long)sa->histogram[i],
                      (long long)sb->histogram[i]);
        for (int w = 0; w < a->workload_count; w++) {
            const cap_mc_workload_stats *wa = &sa->workloads[w], *wb = &sb->workloads[w];
            EXPECT_PROB(wa->p_shortfall, wb->p_shortfall);
            EXPECT_NEAR(wa->expected_unmet_h100e_hours, wb->expected_unmet_h100e_hours);
            EXPECT_NEAR(wa->p95_unmet_h100e_hours, wb->p95_unmet_h100e_hours);
            EXPECT_NEAR(wa->service_level, wb->service_level);
            for (int t = 0; t < a->period_count; t++) {
                EXPECT_PROB(wa->period_p_shortfall[t], wb->period_p_shortfall[t]);
                EXPECT_NEAR(wa->period_expected_shortfall[t], wb->period_expected_shortfall[t]);
                EXPECT_NEAR(wa->period_p95_shortfall[t], wb->period_p95_shortfall[t]);
                EXPECT_NEAR(wa->period_service_level[t], wb->period_service_level[t]);
            }
        }
    }
#undef EXPECT_PROB
#undef EXPECT_NEAR
#undef NEAR
}

Test(mc, identical_for_any_threads_and_chunk)
{
    problem pb;
    mixed_problem(&pb);
    const double scales[2] = {1.0, 1.2};
    const int threads[4] = {1, 2, 3, 4};
    const int64_t chunks[4] = {0, 4096, 8192, 5000};
    cap_mc_options o = cpu_options(3 * 4096 + 123);
    o.recourse = CAP_MC_RECOURSE_GREEDY;
    o.scales = scales, o.scale_count = 2;
    o.seed = 42;
    for (int exact = 1; exact >= 0; exact--) {
        o.exact_quantile_bytes = exact ? (int64_t)1 << 30 : 0;
        o.threads = 1, o.chunk = 0;
        cap_mc_result *base = run_ok(&pb, &o);
        cr_expect_eq(base->passes, exact ? 1 : 2);
        for (int i = 1; i < 4; i++) {
            o.threads = threads[i], o.chunk = chunks[i];
            cap_mc_result *r = run_ok(&pb, &o);
            expect_results_match(base, r, 0.0, 0.0, exact ? "exact" : "histogram");
            cap_mc_result_free(r);
        }
        cap_mc_result_free(base);
    }
}

/* Common random numbers: a scale's statistics do not depend on the other scales run with it,
 * and (penalties >= 0) the cost grows with the scale in every sample, so in the mean. */
Test(mc, demand_sweep_uses_common_random_numbers)
{
    problem pb;
    mixed_problem(&pb);
    const double sweep[3] = {0.9, 1.0, 1.1}, one[1] = {1.0};
    cap_mc_options o = cpu_options(20000);
    o.scales = sweep, o.scale_count = 3;
    cap_mc_result *all = run_ok(&pb, &o);
    o.scales = one, o.scale_count = 1;
    cap_mc_result *single = run_ok(&pb, &o);
    cap_mc_result view = *all;
    view.scale_count = 1;
    view.scales = &all->scales[1];
    expect_results_match(&view, single, 0.0, 0.0, "scale 1.0 alone");
    cr_expect(all->scales[0].cost.mean <= all->scales[1].cost.mean);
    cr_expect(all->scales[1].cost.mean <= all->scales[2].cost.mean);
    cr_expect(all->scales[0].cost.p95 <= all->scales[1].cost.p95);
    cap_mc_result_free(all);
    cap_mc_result_free(single);
}

/* Histogram quantiles (second pass) stay within their stated error of the exact ones; the
 * moments are the same numbers. */
Test(mc, histogram_quantiles_within_stated_error)
{
    problem pb;
    mixed_problem(&pb);
    cap_mc_options o = cpu_options(30000);
    cap_mc_result *exact = run_ok(&pb, &o);
    o.exact_quantile_bytes = 8 * 30000; /* room for the costs only */
    cap_mc_result *mixed = run_ok(&pb, &o);
    o.exact_quantile_bytes = 0;
    cap_mc_result *hist = run_ok(&pb, &o);
    cr_assert(exact->scales[0].cost.quantiles_exact && exact->passes == 1);
    cr_assert(mixed->scales[0].cost.quantiles_exact && mixed->passes == 2);
    cr_assert(!hist->scales[0].cost.quantiles_exact && hist->passes == 2);
    const cap_mc_cost_stats *e = &exact->scales[0].cost, *h = &hist->scales[0].cost;
    cr_expect(h->quantile_error > 0.0 && h->quantile_error < 1e-4 * (h->max - h->min));
    double err = h->quantile_error * (1.0 + 1e-9);
    cr_expect(fabs(e->p5 - h->p5) <= err, "p5 %g %g", e->p5, h->p5);
    cr_expect(fabs(e->p50 - h->p50) <= err, "p50 %g %g", e->p50, h->p50);
    cr_expect(fabs(e->p95 - h->p95) <= err, "p95 %g %g", e->p95, h->p95);
    cr_expect(fabs(e->p99 - h->p99) <= err, "p99 %g %g", e->p99, h->p99);
    cr_expect(fabs(e->cvar95 - h->cvar95) <= err, "cvar %g %g", e->cvar95, h->cvar95);
    cr_expect(same_double(e->mean, h->mean) && same_double(e->std, h->std));
    for (int i = 0; i < exact->scales[0].histogram_bins; i++)
        cr_expect_eq(exact->scales[0].histogram[i], hist->scales[0].histogram[i]);
    for (int w = 0; w < 3; w++) {
        const cap_mc_workload_stats *we = &exact->scales[0].workloads[w];
        const cap_mc_workload_stats *wh = &hist->scales[0].workloads[w];
        const cap_mc_workload_stats *wm = &mixed->scales[0].workloads[w];
        cr_expect(!wh->quantiles_exact && !wm->quantiles_exact && we->quantiles_exact);
        cr_expect(fabs(we->p95_unmet_h100e_hours - wh->p95_unmet_h100e_hours) <=
                  wh->unmet_quantile_error * (1.0 + 1e-9) + 1e-12);
        for (int t = 0; t < 3; t++)
            cr_expect(fabs(we->period_p95_shortfall[t] - wh->period_p95_shortfall[t]) <=
                          wh->shortfall_quantile_error * (1.0 + 1e-9) + 1e-12,
                      "w%d t%d: %g vs %g (error %g)", w, t, we->period_p95_shortfall[t],
                      wh->period_p95_shortfall[t], wh->shortfall_quantile_error);
    }
    int64_t total = 0;
    for (int i = 0; i < hist->scales[0].histogram_bins; i++)
        total += hist->scales[0].histogram[i];
    cr_expect_eq(total, 30000);
    cap_mc_result_free(exact);
    cap_mc_result_free(mixed);
    cap_mc_result_free(hist);
}

/* ---- exact cost quantiles by bins, against a sort -------------------------------------------- */

static int compare_doubles(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Lognormal-ish costs, with ties and a heavy tail. */
static void heavy_tailed_costs(double *a, int64_t n, uint64_t *state)
{
    for (int64_t i = 0; i < n; i++) {
        *state = *state * 6364136223846793005ull + 1442695040888963407ull;
        double u = ((double)(*state >> 11) + 0.5) * 0x1p-53;
        double x = 1e9 * exp(2.0 * (u - 0.5)) / (1.0 - 0.99 * u);
        a[i] = i % 5 == 0 ? floor(x / 1e8) * 1e8 : x;
    }
}

/* Kinds of costs: 0 heavy-tailed; 1 three in five at the least (the 5th and 50th
 * percentiles fall among ties of a bin that holds other costs too); 2 one in 25 at the least
 * and about half just above it, in the same bin (the percentiles fall past the ties); 3 three
 * values only (bins of a million ties); 4 one repeated value. */
static void tied_costs(double *a, int64_t n, int kind, uint64_t *state)
{
    heavy_tailed_costs(a, n, state);
    for (int64_t i = 0; kind == 1 && i < n; i++)
        a[i] = i % 5 < 3 ? 3e8 : 3e8 + fmax(a[i] - 3.7e8, 1.0);
    for (int64_t i = 0; kind == 2 && i < n; i++)
        a[i] = i % 25 == 0  ? 1000.0
               : i % 2 == 0 ? 1000.0 + 1e-6 * (double)(1 + i % 7)
                            : 1000.0 + a[i];
    for (int64_t i = 0; kind == 3 && i < n; i++)
        a[i] = 1e9 * (double)(1 + (int64_t)(a[i] / 1e9) % 3);
    for (int64_t i = 0; kind == 4 && i < n; i++)
        a[i] = 2.5e9;
}

Test(mc, binned_exact_quantiles_match_a_sort)
{
    const int64_t sizes[] = {1, 2, 7, 100, 100003, 3 * 1048576 + 17};
    uint64_t state = 12345;
    for (int kind = 0; kind < 3; kind++)
        for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
            int64_t n = sizes[z];
            double *a = malloc((size_t)n * sizeof *a), *sorted = malloc((size_t)n * sizeof *a);
            cr_assert(a && sorted);
            tied_costs(a, n, kind, &state);
            memcpy(sorted, a, (size_t)n * sizeof *a);
            qsort(sorted, (size_t)n, sizeof *sorted, compare_doubles);
            double lo = sorted[0], hi = sorted[n - 1];
            const int pct[4] = {5, 50, 95, 99};
            double want[4];
            for (int q = 0; q < 4; q++) { /* the ceil(qN)-th smallest */
                int64_t k = (n * pct[q] + 99) / 100;
                want[q] = sorted[(k < 1 ? 1 : k) - 1];
            }
            int64_t worst = (n * 5 + 99) / 100;
            long double tail = 0.0L;
            for (int64_t i = n - worst; i < n; i++)
                tail += sorted[i];
            double cvar = (double)(tail / (long double)worst);
            int64_t coarse[10] = {0};
            double inv = hi > lo ? 10.0 / (hi - lo) : 0.0;
            for (int64_t i = 0; i < n; i++) {
                int64_t b = cap_mc_bin(a[i], lo, inv, 10);
                coarse[b < 0 ? 0 : b]++;
            }
            cap_mc_scale_result r[2];
            int64_t hist[2][10];
            for (int t = 0; t < 2; t++) {
                memset(&r[t], 0, sizeof r[t]);
                memset(hist[t], 0, sizeof hist[t]);
                r[t].histogram = hist[t], r[t].histogram_bins = 10;
                cr_assert_eq(cap_mc_cost_quantiles_binned(a, n, lo, hi, t ? 4 : 1, &r[t]), 0);
                const cap_mc_cost_stats *c = &r[t].cost;
                const double got[4] = {c->p5, c->p50, c->p95, c->p99};
                for (int q = 0; q < 4; q++)
                    cr_expect_eq(got[q], want[q], "kind %d n %lld p%d: %.17g vs %.17g", kind,
                                 (long long)n, pct[q], got[q], want[q]);
                cr_expect(fabs(c->cvar95 - cvar) <= 1e-13 * fabs(cvar),
                          "kind %d n %lld cvar %.17g vs %.17g", kind, (long long)n, c->cvar95,
                          cvar);
                cr_expect(c->quantiles_exact);
                for (int b = 0; b < 10; b++)
                    cr_expect_eq(hist[t][b], coarse[b], "n %lld bin %d", (long long)n, b);
            }
            cr_expect(memcmp(&r[0].cost, &r[1].cost, sizeof r[0].cost) == 0,
                      "kind %d n %lld: 1 and 4 threads differ", kind, (long long)n);
            free(a), free(sorted);
        }
}

/* The device's selection (cap_mc_cuda_cost_quantiles) against a sort for the quantiles and
 * against the host's selection bit for bit (CVaR95: the same sums in the same order), on
 * heavy-tailed costs, on costs that take three values only (bins of a million ties), on
 * one repeated value, and on tied_costs' kinds 1 and 2 (ties at the least cost of a bin that
 * holds other costs too, which the device counts apart). */
Test(mc, cuda_cost_quantiles_match_the_host)
{
    SKIP_WITHOUT_CUDA();
    const int64_t sizes[] = {1, 7, 4097, 100003, 3 * 1048576 + 17};
    uint64_t state = 777;
    for (int kind = 0; kind < 5; kind++)
        for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
            int64_t n = sizes[z];
            double *a = malloc((size_t)n * sizeof *a), *sorted = malloc((size_t)n * sizeof *a);
            cr_assert(a && sorted);
            static const int kinds[] = {0, 3, 4, 1, 2}; /* the order this test draws them in */
            tied_costs(a, n, kinds[kind], &state);
            memcpy(sorted, a, (size_t)n * sizeof *a);
            qsort(sorted, (size_t)n, sizeof *sorted, compare_doubles);
            double lo = sorted[0], hi = sorted[n - 1];
            cap_mc_scale_result host, device;
            int64_t hist_host[20] = {0}, hist_device[20] = {0};
            memset(&host, 0, sizeof host), memset(&device, 0, sizeof device);
            host.histogram = hist_host, device.histogram = hist_device;
            host.histogram_bins = device.histogram_bins = 20;
            cr_assert_eq(cap_mc_cost_quantiles_binned(a, n, lo, hi, 2, &host), 0);
            char error[256];
            cr_assert_eq(cap_mc_cuda_cost_quantiles(a, n, lo, hi, &device, error, sizeof error),
                         CAP_MC_OK, "%s", error);
            const cap_mc_cost_stats *c = &device.cost;
            const int pct[4] = {5, 50, 95, 99};
            const double got[4] = {c->p5, c->p50, c->p95, c->p99};
            for (int q = 0; q < 4; q++) { /* the ceil(qN)-th smallest */
                int64_t k = (n * pct[q] + 99) / 100;
                cr_expect_eq(got[q], sorted[(k < 1 ? 1 : k) - 1], "kind %d n %lld p%d", kind,
                             (long long)n, pct[q]);
            }
            cr_expect(memcmp(&host.cost, &device.cost, sizeof host.cost) == 0,
                      "kind %d n %lld: cvar %.17g (host) vs %.17g (device)", kind, (long long)n,
                      host.cost.cvar95, device.cost.cvar95);
            for (int b = 0; b < 20; b++)
                cr_expect_eq(hist_device[b], hist_host[b], "kind %d n %lld bin %d", kind,
                             (long long)n, b);
            free(a), free(sorted);
        }
}

/* ---- the CUDA kernel's driver against the lane driver, on the CPU -------------------------- *
 * cap_mc_simulate_path (one sample in a compact state: the fused CUDA kernel runs it) must
 * give the bits of cap_mc_simulate. Compared through the whole engine on problems large
 * enough to cross bit-word boundaries (37 workloads, 70 offerings, 9 providers), with zero
 * and nonzero correlations, workloads without volatility, groups of 4 never out, hard
 * demand, greedy and no recourse, one and three scales, exact and two-pass quantiles. */

typedef struct {
    cap_mc_problem p;
    double *mem;
    unsigned char *bytes;
    int *provider;
} big_problem;

static double lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) * 0x1p-53;
}

static void big_problem_make(big_problem *b, int W, int O, int P, int T, uint64_t seed,
                             bool identity, bool volatile_demand)
{
    size_t doubles =
        (size_t)(T + 2 * W * T + 2 * W + W * W + 2 * O + P + 2 * O * T + W * O + T * W * O);
    b->mem = calloc(doubles, sizeof(double));
    b->bytes = calloc((size_t)(W + O), 1);
    b->provider = calloc((size_t)O, sizeof(int));
    cr_assert(b->mem && b->bytes && b->provider);
    double *x = b->mem;
    double *hours = x, *demand = (x += T), *sigma = (x += W * T), *chol = (x += W);
    double *penalty = (x += W * W), *avail = (x += W), *outage = (x += O);
    double *pout = (x += O), *price = (x += P), *cap = (x += O * T), *thr = (x += O * T);
    double *plan = (x += W * O);
    unsigned char *has_penalty = b->bytes, *rec_ok = b->bytes + W;
    uint64_t s = seed;
    for (int t = 0; t < T; t++)
        hours[t] = 700.0 + 60.0 * lcg(&s);
    double *corr = calloc((size_t)W * W, sizeof(double));
    cr_assert(corr);
    for (int w = 0; w < W; w++) {
        for (int t = 0; t < T; t++)
            demand[w * T + t] = (50.0 + 400.0 * lcg(&s)) * (1.0 + 0.04 * t);
        sigma[w] = volatile_demand && w % 5 != 3 ? 0.05 + 0.3 * lcg(&s) : 0.0;
        penalty[w] = 10.0 + 80.0 * lcg(&s);
        has_penalty[w] = w % 7 != 2;
        for (int k = 0; k < W; k++) /* blocks of 4 correlated workloads: zeros in L */
            corr[w * W + k] = w == k ? 1.0 : (!identity && w / 4 == k / 4 ? 0.4 : 0.0);
    }
    cr_assert_eq(cap_mc_cholesky(W, corr, chol), 0);
    free(corr);
    for (int p = 0; p < P; p++)
        pout[p] = p % 4 == 1 ? 0.0 : 0.02 * lcg(&s);
    for (int o = 0; o < O; o++) {
        b->provider[o] = o % P;
        avail[o] = 0.85 + 0.15 * lcg(&s);
        outage[o] = o / 4 % 3 == 2 ? 0.0 : 0.06 * lcg(&s); /* some groups never out */
        rec_ok[o] = o % 3 != 0;
        for (int t = 0; t < T; t++)
            price[o * T + t] = 1.0 + 4.0 * lcg(&s);
        for (int w = 0; w < W; w++)
            thr[w * O + o] = lcg(&s) < 0.3 ? 0.5 + 2.0 * lcg(&s) : 0.0;
    }
    for (int w = 0; w < W; w++)
        for (int o = 0, used = 0; o < O && used < 3; o++) {
            int oo = (w * 11 + o) % O;
            if (thr[w * O + oo] == 0.0)
                continue;
            used++;
            for (int t = 0; t < T; t++) /* about 90% of the expected demand: shortfalls */
                plan[(t * W + w) * O + oo] = 0.3 * demand[w * T + t] / thr[w * O + oo];
        }
    for (int o = 0; o < O; o++)
        for (int t = 0; t < T; t++) {
            double planned = 0.0;
            for (int w = 0; w < W; w++)
                planned += plan[(t * W + w) * O + o];
            cap[o * T + t] = 1.2 * planned + 5.0 * lcg(&s);
        }
    memset(&b->p, 0, sizeof b->p);
    b->p.workload_count = W, b->p.offering_count = O, b->p.provider_count = P;
    b->p.period_count = T;
    b->p.hours = hours, b->p.demand = demand, b->p.sigma = sigma, b->p.chol = chol;
    b->p.penalty = penalty, b->p.has_penalty = has_penalty, b->p.availability = avail;
    b->p.offering_outage = outage, b->p.offering_provider = b->provider;
    b->p.provider_outage = pout, b->p.price = price, b->p.capacity = cap;
    b->p.recourse_ok = rec_ok, b->p.thr = thr, b->p.plan = plan;
    b->p.plan_cost = 1e6;
}

static void big_problem_free(big_problem *b)
{
    free(b->mem), free(b->bytes), free(b->provider);
}

static cap_mc_result *run_problem(const cap_mc_problem *p, const cap_mc_options *o)
{
    cap_mc_result *r = NULL;
    char error[256];
    int status = cap_mc_run(p, o, &r, error, sizeof error);
    cr_assert_eq(status, CAP_MC_OK, "cap_mc_run: %d %s", status, error);
    return r;
}

Test(mc, path_driver_matches_lane_driver)
{
    const double sweep[3] = {0.9, 1.0, 1.25};
    struct {
        int W, O, P, T;
        bool identity, volatile_demand, greedy;
        int scales;
        int64_t exact_bytes;
    } cases[] = {
        {37, 70, 9, 5, false, true, true, 3, (int64_t)1 << 30},
        {37, 70, 9, 5, false, true, true, 1, 0},
        {8, 40, 4, 6, true, true, true, 1, (int64_t)1 << 30},
        {5, 9, 2, 4, false, true, false, 3, (int64_t)1 << 30},
        {6, 12, 3, 3, true, false, true, 1, (int64_t)1 << 30},
        {3, 33, 1, 4, false, true, true, 1, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        big_problem b;
        big_problem_make(&b, cases[c].W, cases[c].O, cases[c].P, cases[c].T, 100 + c,
                         cases[c].identity, cases[c].volatile_demand);
        cap_mc_options o = cpu_options(2 * 4096 + 301);
        o.seed = 7 + c;
        o.threads = 2;
        o.recourse = cases[c].greedy ? CAP_MC_RECOURSE_GREEDY : CAP_MC_RECOURSE_NONE;
        o.scales = sweep, o.scale_count = cases[c].scales;
        o.exact_quantile_bytes = cases[c].exact_bytes;
        cap_mc_cpu_use_path_driver(false);
        cap_mc_result *lanes = run_problem(&b.p, &o);
        cap_mc_cpu_use_path_driver(true);
        cap_mc_result *path = run_problem(&b.p, &o);
        cap_mc_cpu_use_path_driver(false);
        char what[64];
        snprintf(what, sizeof what, "case %zu", c);
        /* the problems must exercise what they are meant to: shortfalls and recourse */
        cr_expect(lanes->scales[0].workloads[0].period_expected_shortfall[1] > 0.0 ||
                      lanes->scales[0].workloads[1].period_expected_shortfall[1] > 0.0,
                  "%s: no shortfall to compare", what);
        expect_results_match(lanes, path, 0.0, 0.0, what);
        cap_mc_result_free(lanes);
        cap_mc_result_free(path);
        big_problem_free(&b);
    }
}

/* ---- (d) CPU against CUDA ------------------------------------------------------------------ */

Test(mc, cuda_matches_cpu)
{
    SKIP_WITHOUT_CUDA();
    problem pb;
    mixed_problem(&pb);
    const double scales[2] = {1.0, 1.2};
    cap_mc_options o = cpu_options(5 * 4096 + 77);
    o.recourse = CAP_MC_RECOURSE_GREEDY;
    o.scales = scales, o.scale_count = 2;
    cap_mc_result *cpu = run_ok(&pb, &o);
    o.backend = CAP_MC_BACKEND_CUDA;
    o.chunk = 2 * 4096;
    /* Same formulas, no contraction: expected bit-for-bit; asserted within 1e-12 and
     * 2 samples' worth of probability (docs/monte-carlo.md). Every workspace layout. */
    const cap_mc_cuda_variant fused_variants[] = {CAP_MC_CUDA_FUSED, CAP_MC_CUDA_FUSED_SHARED,
                                                  CAP_MC_CUDA_FUSED_BLOCK, CAP_MC_CUDA_FUSED_CHUNK};
    for (size_t i = 0; i < sizeof fused_variants / sizeof *fused_variants; i++) {
        o.cuda_variant = fused_variants[i];
        cap_mc_result *fused = run_ok(&pb, &o);
        cr_expect_str_eq(fused->backend, "cuda");
        expect_results_match(cpu, fused, 1e-12, 2.0, fused->device);
        cap_mc_result_free(fused);
    }
    /* two passes (no exact-quantile memory): pass 2 bins the records kept on the device */
    cap_mc_options oh = o;
    oh.backend = CAP_MC_BACKEND_CPU;
    oh.exact_quantile_bytes = 0;
    cap_mc_result *cpu_hist = run_ok(&pb, &oh);
    oh.backend = CAP_MC_BACKEND_CUDA;
    oh.cuda_variant = CAP_MC_CUDA_FUSED;
    cap_mc_result *fused_hist = run_ok(&pb, &oh);
    cr_expect_eq(fused_hist->passes, 2);
    expect_results_match(cpu_hist, fused_hist, 1e-12, 2.0, "fused, two passes");
    cap_mc_result_free(cpu_hist);
    cap_mc_result_free(fused_hist);
    /* the costs exact (selected on the device), the unmet hours and shortfalls binned */
    oh.exact_quantile_bytes = (int64_t)(8 * 2 * o.samples);
    oh.backend = CAP_MC_BACKEND_CPU;
    cpu_hist = run_ok(&pb, &oh);
    oh.backend = CAP_MC_BACKEND_CUDA;
    fused_hist = run_ok(&pb, &oh);
    cr_expect_eq(fused_hist->passes, 2);
    cr_expect(fused_hist->scales[1].cost.quantiles_exact);
    cr_expect(!fused_hist->scales[1].workloads[0].quantiles_exact);
    expect_results_match(cpu_hist, fused_hist, 1e-12, 2.0, "fused, exact costs, two passes");
    cap_mc_result_free(cpu_hist);
    cap_mc_result_free(fused_hist);
    o.cuda_variant = CAP_MC_CUDA_GEMM;
    o.chunk = 0;
    cap_mc_result *gemm = run_ok(&pb, &o);
    /* cuBLAS sums in its own order: rounding-level differences */
    expect_results_match(cpu, gemm, 1e-9, 2.0, "cuda gemm");
    o.exact_quantile_bytes = 0;
    cap_mc_result *gemm_hist = run_ok(&pb, &o);
    cr_expect_eq(gemm_hist->passes, 2);
    cr_expect(fabs(gemm_hist->scales[0].cost.p95 - cpu->scales[0].cost.p95) <=
              gemm_hist->scales[0].cost.quantile_error * 1.001 + 1e-6);
    cap_mc_result_free(cpu);
    cap_mc_result_free(gemm);
    cap_mc_result_free(gemm_hist);
}

/* A model whose bit words exceed the shared memory of a block of 32 (some 19,000 offerings
 * on an H100) runs with the chunk layout by default; the block layout, asked for by name,
 * declines it. Either way nothing differs from the CPU. */
Test(mc, cuda_wide_model_takes_the_chunk_layout)
{
    SKIP_WITHOUT_CUDA();
    big_problem b;
    big_problem_make(&b, 2, 24000, 3, 2, 77, false, true);
    cap_mc_options o = cpu_options(4096 + 19);
    o.threads = 0;
    o.recourse = CAP_MC_RECOURSE_GREEDY;
    cap_mc_result *cpu = run_problem(&b.p, &o);
    o.backend = CAP_MC_BACKEND_CUDA;
    cap_mc_result *gpu = run_problem(&b.p, &o);
    cr_expect_str_eq(gpu->backend, "cuda");
    cr_expect(strstr(gpu->device, "chunk") != NULL, "layout: %s", gpu->device);
    expect_results_match(cpu, gpu, 1e-12, 2.0, gpu->device);
    o.cuda_variant = CAP_MC_CUDA_FUSED_BLOCK;
    cap_mc_result *r = NULL;
    char error[256] = "";
    cr_expect_eq(cap_mc_run(&b.p, &o, &r, error, sizeof error), CAP_MC_ERR_BACKEND);
    cr_expect_null(r);
    cr_expect(strstr(error, "shared memory") != NULL, "message: %s", error);
    cap_mc_result_free(cpu);
    cap_mc_result_free(gpu);
    big_problem_free(&b);
}

/* ---- errors and options ---------------------------------------------------------------------- */

Test(mc, cuda_backend_without_device_is_a_backend_error)
{
    if (cap_mc_cuda_device_count() > 0) {
        cr_skip_test("a CUDA device is present");
        return;
    }
    problem pb;
    lognormal_problem(&pb, 10.0, 0.1, 1.0);
    cap_mc_options o = cpu_options(100);
    o.backend = CAP_MC_BACKEND_CUDA;
    cap_mc_result *r = NULL;
    char error[256] = "";
    cr_expect_eq(cap_mc_run(&pb.p, &o, &r, error, sizeof error), CAP_MC_ERR_BACKEND);
    cr_expect_null(r);
    cr_expect(strstr(error, "CUDA") != NULL, "message: %s", error);
    o.backend = CAP_MC_BACKEND_AUTO; /* falls back to the CPU */
    cr_expect_eq(cap_mc_run(&pb.p, &o, &r, error, sizeof error), CAP_MC_OK, "%s", error);
    cr_expect_str_eq(r->backend, "cpu");
    cap_mc_result_free(r);
}

Test(mc, bad_input_is_an_input_error)
{
    problem pb;
    lognormal_problem(&pb, 10.0, 0.1, 1.0);
    cap_mc_options o = cpu_options(100);
    cap_mc_result *r = NULL;
    char error[256];
    pb.demand[1] = -1.0;
    cr_expect_eq(cap_mc_run(&pb.p, &o, &r, error, sizeof error), CAP_MC_ERR_INPUT);
    cr_expect(strstr(error, "demand") != NULL, "message: %s", error);
    pb.demand[1] = NAN;
    cr_expect_eq(cap_mc_run(&pb.p, &o, &r, error, sizeof error), CAP_MC_ERR_INPUT);
    lognormal_problem(&pb, 10.0, 0.1, 1.0);
    o.samples = 0;
    cr_expect_eq(cap_mc_run(&pb.p, &o, &r, error, sizeof error), CAP_MC_ERR_INPUT);
    o.samples = 100;
    problem bad;
    recourse_problem(&bad);
    bad.p.provider_count = 1;
    bad.p.offering_provider = bad.offering_provider;
    bad.offering_provider[2] = 3;
    cr_expect_eq(cap_mc_run(&bad.p, &o, &r, error, sizeof error), CAP_MC_ERR_INPUT);
    cr_expect_null(r);
    /* each factor finite, their product (the delivery coefficient) not */
    lognormal_problem(&pb, 10.0, 0.1, 1.0);
    pb.thr[0] = 1e200;
    *plan_at(&pb, 1, 0, 0) = 1e200;
    cr_expect_eq(cap_mc_run(&pb.p, &o, &r, error, sizeof error), CAP_MC_ERR_INPUT);
    cr_expect(strstr(error, "overflows") != NULL, "message: %s", error);
    cr_expect_null(r);
}

static void count_progress(void *user, double fraction)
{
    double *last = user;
    cr_expect(fraction >= *last && fraction <= 1.0);
    *last = fraction;
}

Test(mc, progress_and_cancel)
{
    problem pb;
    mixed_problem(&pb);
    cap_mc_options o = cpu_options(50000);
    o.chunk = 4096;
    double last = 0.0;
    o.progress = count_progress, o.progress_user = &last;
    cap_mc_result *r = run_ok(&pb, &o);
    cr_expect_float_eq(last, 1.0, 1e-12);
    cap_mc_result_free(r);
    volatile int cancel = 1;
    o.cancel = &cancel;
    char error[256];
    cr_expect_eq(cap_mc_run(&pb.p, &o, &r, error, sizeof error), CAP_MC_ERR_RUNTIME);
    cr_expect_null(r);
}

/* ---- Cholesky ---------------------------------------------------------------------------------
 */

Test(mc, cholesky_known_factors)
{
    double a[4] = {1.0, 0.5, 0.5, 1.0}, l[4];
    cr_assert_eq(cap_mc_cholesky(2, a, l), 0);
    cr_expect_float_eq(l[0], 1.0, 1e-15);
    cr_expect_float_eq(l[1], 0.0, 1e-15);
    cr_expect_float_eq(l[2], 0.5, 1e-15);
    cr_expect_float_eq(l[3], sqrt(0.75), 1e-15);
    /* [[4,2,-2],[2,10,2],[-2,2,5]] = L L^T with L = [[2,0,0],[1,3,0],[-1,1,sqrt(3)]] */
    double b[9] = {4, 2, -2, 2, 10, 2, -2, 2, 5}, lb[9];
    double want[9] = {2, 0, 0, 1, 3, 0, -1, 1, sqrt(3.0)};
    cr_assert_eq(cap_mc_cholesky(3, b, lb), 0);
    for (int i = 0; i < 9; i++)
        cr_expect_float_eq(lb[i], want[i], 1e-14, "entry %d: %g", i, lb[i]);
}

Test(mc, cholesky_semidefinite_and_indefinite)
{
    double ones[4] = {1.0, 1.0, 1.0, 1.0}, l[4];
    cr_assert_eq(cap_mc_cholesky(2, ones, l), 0); /* rho = 1: the second copies the first */
    cr_expect_float_eq(l[2], 1.0, 1e-15);
    cr_expect_float_eq(l[3], 0.0, 1e-15);
    double bad[4] = {1.0, 2.0, 2.0, 1.0};
    cr_expect_eq(cap_mc_cholesky(2, bad, l), -1);
    double nan_matrix[4] = {1.0, NAN, NAN, 1.0};
    cr_expect_eq(cap_mc_cholesky(2, nan_matrix, l), -1);
}

/* ---- the random numbers and the elementary functions --------------------------------------- */

/* Known answers published with Random123 (kat_vectors: philox4x32 10 rounds). */
Test(mc, philox_known_answers)
{
    philox4x32_ctr_t c0 = {{0, 0, 0, 0}};
    philox4x32_key_t k0 = {{0, 0}};
    philox4x32_ctr_t r = philox4x32_R(10, c0, k0);
    cr_expect_eq(r.v[0], 0x6627e8d5u);
    cr_expect_eq(r.v[1], 0xe169c58du);
    cr_expect_eq(r.v[2], 0xbc57ac4cu);
    cr_expect_eq(r.v[3], 0x9b00dbd8u);
    philox4x32_ctr_t c1 = {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}};
    philox4x32_key_t k1 = {{0xa4093822u, 0x299f31d0u}};
    r = philox4x32_R(10, c1, k1);
    cr_expect_eq(r.v[0], 0xd16cfe09u);
    cr_expect_eq(r.v[1], 0x94fdccebu);
    cr_expect_eq(r.v[2], 0x5001e420u);
    cr_expect_eq(r.v[3], 0x24126ea1u);
    /* the engine's counter layout: key = seed, counter = {sample lo, hi, period, stream|call} */
    cap_mc_model m;
    memset(&m, 0, sizeof m);
    m.key0 = 0xa4093822u, m.key1 = 0x299f31d0u;
    r = cap_mc_philox(&m, 0x85a308d3243f6a88ull, 0x13198a2eu, 0x03u, 0x707344u);
    cr_expect_eq(r.v[0], 0xd16cfe09u);
}

Test(mc, elementary_functions_within_two_ulps)
{
    double worst_log = 0.0, worst_exp = 0.0, worst_trig = 0.0;
    for (int i = 1; i <= 200000; i++) {
        double u = i / 200001.0;
        worst_log = fmax(worst_log, fabs(cap_mc_log(u) - log(u)) / fabs(log(u)));
        double x = -30.0 + 60.0 * u;
        worst_exp = fmax(worst_exp, fabs(cap_mc_exp(x) - exp(x)) / exp(x));
        double c, s;
        cap_mc_sincos_2pi(u, &c, &s);
        /* against libm on the exact reduced argument: cos(2 pi u) = cos(pi/2 (4u)) */
        worst_trig =
            fmax(worst_trig, fmax(fabs(c - cos(2.0 * PI * u)), fabs(s - sin(2.0 * PI * u))));
    }
    cr_expect(worst_log < 4.5e-16, "log relative error %g", worst_log);
    cr_expect(worst_exp < 4.5e-16, "exp relative error %g", worst_exp);
    cr_expect(worst_trig < 2e-15, "sincos error %g", worst_trig);
    cr_expect_eq(cap_mc_exp(0.0), 1.0);
    cr_expect_eq(cap_mc_log(1.0), 0.0);
    cr_expect(cap_mc_log(1.0 - 0x1p-53) < 0.0);
    cr_expect_eq(cap_mc_uniform(0, 0), 0x1p-53);
    cr_expect_eq(cap_mc_uniform(0xffffffffu, 0xffffffffu), 1.0 - 0x1p-53);
}

/* Normals from the engine's Box-Muller: mean 0, variance 1, and P(n < 1.96) = 0.975. */
Test(mc, box_muller_normals_are_standard)
{
    cap_mc_model m;
    memset(&m, 0, sizeof m);
    m.key0 = 3;
    const int N = 200000;
    double sum = 0.0, sum2 = 0.0;
    int below = 0;
    for (int i = 0; i < N / 2; i++) {
        double a, b;
        cap_mc_normal_pair(cap_mc_philox(&m, (uint64_t)i, 1, CAP_MC_STREAM_NORMAL, 0), &a, &b);
        sum += a + b, sum2 += a * a + b * b;
        below += (a < 1.959963984540054) + (b < 1.959963984540054);
    }
    cr_expect(fabs(sum / N) < 4.0 / sqrt(N), "mean %g", sum / N);
    cr_expect(fabs(sum2 / N - 1.0) < 4.0 * sqrt(2.0 / N), "variance %g", sum2 / N);
    cr_expect(fabs((double)below / N - 0.975) < 4.0 * sqrt(0.975 * 0.025 / N));
}

/* The CUDA backend opens cuBLAS and cuRAND by name on first use; check the names and
 * symbols resolve (no GPU needed), so the GEMM variant and the cuRAND timing can start. */
Test(mc, cuda_libraries_load)
{
    if (!cap_mc_cuda_compiled())
        cr_skip_test("built without CUDA: nothing to load");
    char error[512] = "";
    cr_assert_eq(cap_mc_cuda_load_libraries(error, sizeof error), CAP_MC_OK, "%s", error);
}
