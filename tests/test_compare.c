/* test_compare.c: accelerator mixes (solver/mix.h) and `capplan compare`.
 *
 * The mix's scenario keeps every offering but gives those of other accelerators no
 * capacity; the metrics are checked on a hand-worked plan; the command is run end to end
 * (Monte Carlo on the CPU backend, few samples) on a scenario where one mix is infeasible.
 */
#define _DEFAULT_SOURCE /* mkstemps */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mix.h"
#include "plan.h"
#include "support.h"

/* cheap H100 at 2.00 (capacity 60), dear H100 at 3.00 with availability 0.8, a TPU offering
 * at 1.50 that only workload `any` may use; H100 draws 1.3 kW. */
static const char scenario_yaml[] =
    "version: 1\nname: mixes\nreference: H100\n"
    "periods:\n  - {id: p1, hours: 1000}\n"
    "accelerators:\n  - {id: H100, power_kw: 1.3}\n  - {id: TPU, power_kw: 0.6}\n"
    "providers:\n  - {id: a}\n  - {id: g}\n"
    "regions:\n  - {id: ra, provider: a, geo: us}\n  - {id: rg, provider: g, geo: us}\n"
    "offerings:\n"
    "  - {id: cheap, region: ra, accelerator: H100, pricing: reserved, price: 2.00, "
    "capacity: 60}\n"
    "  - {id: dear, region: ra, accelerator: H100, pricing: on_demand, price: 3.00, "
    "capacity: 1000, availability: 0.8}\n"
    "  - {id: tpu, region: rg, accelerator: TPU, pricing: reserved, price: 1.50, "
    "capacity: 1000}\n"
    "workloads:\n"
    "  - {id: w, kind: training, demand: 100, throughput: {H100: 1.0}}\n"
    "uncertainty:\n  samples: 2000\n";

static bool *parse(const cap_scenario *s, const char *text, cap_status expected)
{
    bool *in_mix = calloc((size_t)s->accelerator_count, sizeof *in_mix);
    cap_diag diag;
    cap_diag_init(&diag);
    cap_status rc = cap_mix_parse(s, text, in_mix, &diag);
    cr_assert_eq(rc, expected, "--mix %s: status %d", text, (int)rc);
    if (rc == CAP_ERR_INPUT && strcmp(text, ",") != 0)
        cr_assert_geq(cap_diag_find(&diag, "valid: H100, TPU"), 0, "%s",
                      diag.count ? diag.lines[0] : "");
    cap_diag_free(&diag);
    return in_mix;
}

Test(compare, parse_mixes)
{
    cap_scenario *s = cap_test_scenario(scenario_yaml);
    bool *m = parse(s, "H100", CAP_OK);
    cr_assert(m[0] && !m[1]);
    free(m);
    m = parse(s, " H100 , TPU ", CAP_OK);
    cr_assert(m[0] && m[1]);
    free(m);
    m = parse(s, "all", CAP_OK);
    cr_assert(m[0] && m[1]);
    free(m);
    free(parse(s, "B200", CAP_ERR_INPUT));
    free(parse(s, ",", CAP_ERR_INPUT));
    cap_scenario_free(s);
}

Test(compare, mix_scenario_zeroes_other_capacity)
{
    cap_scenario *s = cap_test_scenario(scenario_yaml);
    bool in_mix[2] = {false, true};
    cap_scenario *mix = cap_mix_scenario(s, in_mix);
    cr_assert_not_null(mix);
    cr_assert_eq(mix->offering_count, 3);
    cr_assert_eq(mix->offerings[0].capacity[0], 0.0);
    cr_assert_eq(mix->offerings[1].capacity[0], 0.0);
    cr_assert_eq(mix->offerings[2].capacity[0], 1000.0);
    cr_assert_eq(s->offerings[0].capacity[0], 60.0, "the original must not change");
    cap_scenario_free(mix);
    cap_scenario_free(s);
}

/* Mix H100: 60 cheap (60 H100e) + 50 dear (40 H100e) = 270,000 USD for 100 H100e over 1000
 * hours: 2.70 USD per delivered H100e-hour; 110 accelerators * 1.3 kW = 0.143 MW; all of
 * it from provider a. */
Test(compare, metrics_by_hand)
{
    cap_scenario *s = cap_test_scenario(scenario_yaml);
    bool in_mix[2] = {true, false};
    cap_scenario *mix = cap_mix_scenario(s, in_mix);
    cap_plan_options options;
    cap_plan_options_init(&options);
    cap_diag diag;
    cap_diag_init(&diag);
    cap_plan *plan = NULL;
    cr_assert_eq(cap_plan_solve(mix, &options, &plan, &diag), CAP_OK);
    cr_assert_eq(plan->status, CAP_PLAN_OPTIMAL);
    cap_mix_metrics m;
    cr_assert_eq(cap_mix_metrics_compute(mix, plan, &m, &diag), CAP_OK);
    cr_assert_float_eq(m.paid_usd, 270000.0, 1e-6);
    cr_assert_float_eq(m.delivered_h100e_hours, 100000.0, 1e-6);
    cr_assert_float_eq(m.usd_per_h100e_hour, 2.7, 1e-9);
    cr_assert_float_eq(m.peak_power_mw, 0.143, 1e-9);
    cr_assert_float_eq(m.provider_share[0], 1.0, 1e-12);
    cr_assert_float_eq(m.accelerator_share[0], 1.0, 1e-12);
    cap_mix_metrics_free(&m);
    cap_plan_free(plan);
    cap_diag_free(&diag);
    cap_scenario_free(mix);
    cap_scenario_free(s);
}

/* ---- the command ------------------------------------------------------------------------ */

/* Writes the scenario (text) to a file the command can read; returns its path (static). */
static const char *scenario_file_of(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/capplan-compare-XXXXXX.yaml");
    int fd = mkstemps(path, 5);
    cr_assert(fd >= 0);
    FILE *file = fdopen(fd, "w");
    fputs(text, file);
    fclose(file);
    return path;
}

static const char *scenario_file(void)
{
    return scenario_file_of(scenario_yaml);
}

/* Mix TPU cannot serve workload w (no TPU throughput, hard demand): its row says
 * infeasible and the command still succeeds because the other mixes planned. */
Test(compare, command_reports_infeasible_mix)
{
    const char *path = scenario_file();
    char dir[4096], args[8192], *output = NULL;
    snprintf(args, sizeof args,
             "compare '%s' --mix H100 --mix TPU --mix all --samples 2000 --backend cpu "
             "--out out --no-plots",
             path);
    int code = cap_test_run(args, &output, dir, sizeof dir);
    cr_assert_eq(code, 0, "exit %d: %s", code, output ? output : "");
    cr_assert_not_null(strstr(output, "infeasible"), "%s", output);
    /* and why: w's hard demand, which no TPU can serve */
    cr_assert_not_null(strstr(output, "cannot hold together:\n    demand of workload 'w'"), "%s",
                       output);
    free(output);
    char csv_path[8192];
    snprintf(csv_path, sizeof csv_path, "%s/out/compare.csv", dir);
    char *csv = cap_test_read_file(csv_path);
    cr_assert_not_null(csv);
    cr_assert(strncmp(csv, "mix,status,objective_usd", 24) == 0, "%s", csv);
    cr_assert_not_null(strstr(csv, "\nH100,optimal,270000,"), "%s", csv);
    cr_assert_not_null(strstr(csv, "\nTPU,infeasible,"), "%s", csv);
    cr_assert_not_null(strstr(csv, "\nall,optimal,270000,"), "%s", csv);
    free(csv);
    snprintf(args, sizeof args, "compare '%s' --mix TPU --samples 100 --backend cpu", path);
    cr_assert_eq(cap_test_run(args, NULL, NULL, 0), 3, "every mix infeasible: exit 3");
    snprintf(args, sizeof args, "compare '%s' --mix H100,B200", path);
    cr_assert_eq(cap_test_run(args, &output, NULL, 0), 2);
    cr_assert_not_null(strstr(output, "B200"));
    free(output);
    unlink(path);
}

/* Ids may hold commas and quotes: the CSV header quotes such a column name and doubles its
 * quotes (RFC 4180), so the header keeps one column per field. */
Test(compare, csv_header_quotes_ids)
{
    char yaml[sizeof scenario_yaml + 64];
    const char *from = strstr(scenario_yaml, "  - {id: w, kind");
    cr_assert_not_null(from);
    snprintf(yaml, sizeof yaml, "%.*s  - {id: 'w \"1\", x', kind%s", (int)(from - scenario_yaml),
             scenario_yaml, from + strlen("  - {id: w, kind"));
    const char *path = scenario_file_of(yaml);
    char dir[4096], args[8192], *output = NULL;
    snprintf(args, sizeof args,
             "compare '%s' --mix H100 --samples 200 --backend cpu --out out --no-plots", path);
    int code = cap_test_run(args, &output, dir, sizeof dir);
    cr_assert_eq(code, 0, "exit %d: %s", code, output ? output : "");
    free(output);
    char csv_path[8192];
    snprintf(csv_path, sizeof csv_path, "%s/out/compare.csv", dir);
    char *csv = cap_test_read_file(csv_path);
    cr_assert_not_null(csv);
    cr_assert_not_null(strstr(csv, ",mean_power_mw,\"p_shortfall:w \"\"1\"\", x\",share:a,share:g,"
                                   "accelerator_share:H100,accelerator_share:TPU\n"),
                       "%s", csv);
    free(csv);
    unlink(path);
}
