/* test_loader.c: the scenario loader and validator (host/scenario_load.h).
 *
 * Good files must load with the values written in them, defaults filled and scalars
 * expanded. Bad files must be refused with a message at the exact FILE:LINE:COL of the
 * problem; every expected position below was worked out by reading the test file (lines
 * and columns count from 1, columns in characters).
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <fcntl.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario_load.h"
#include "support.h"

static cap_diag diag;

static void setup(void)
{
    cap_diag_init(&diag);
}

static void teardown(void)
{
    cap_diag_free(&diag);
}

TestSuite(loader, .init = setup, .fini = teardown);

#define DATA "tests/data/loader/"

static char *data_path(const char *name)
{
    char relative[512];
    snprintf(relative, sizeof relative, DATA "%s", name);
    return strdup(cap_test_path(relative));
}

static cap_scenario *load_good(const char *name)
{
    char *path = data_path(name);
    cap_scenario *scenario = NULL;
    cap_status status = cap_scenario_load(path, &scenario, &diag);
    for (int i = 0; i < diag.count; i++)
        cr_log_error("%s", diag.lines[i]);
    free(path);
    cr_assert_eq(status, CAP_OK, "%s did not load", name);
    cr_assert_not_null(scenario);
    return scenario;
}

static void print_messages(void)
{
    for (int i = 0; i < diag.count; i++)
        cr_log_info("message: %s", diag.lines[i]);
}

/* Asserts a message that starts with "PATH:LINE:COL: " and contains `word`. */
static void expect_at(const char *path, int line, int column, const char *word)
{
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "%s:%d:%d: ", path, line, column);
    for (int i = 0; i < diag.count; i++)
        if (strncmp(diag.lines[i], prefix, strlen(prefix)) == 0 && strstr(diag.lines[i], word))
            return;
    print_messages();
    cr_assert_fail("no message starting '%s' and containing '%s'", prefix, word);
}

/* Loads a test file that must be refused and asserts one message's position and word. */
static void expect_bad_file(const char *name, int line, int column, const char *word)
{
    char *path = data_path(name);
    cap_scenario *scenario = (cap_scenario *)1;
    cap_status status = cap_scenario_load(path, &scenario, &diag);
    cr_expect_eq(status, CAP_ERR_INPUT, "%s: status %d", name, status);
    cr_expect_null(scenario);
    expect_at(path, line, column, word);
    free(path);
}

static void expect_bad_buffer(const char *yaml, size_t size, int line, int column, const char *word)
{
    cap_scenario *scenario = (cap_scenario *)1;
    cap_status status = cap_scenario_load_buffer("buffer.yaml", yaml, size, &scenario, &diag);
    cr_expect_eq(status, CAP_ERR_INPUT);
    cr_expect_null(scenario);
    expect_at("buffer.yaml", line, column, word);
}

/* ---- good scenarios ------------------------------------------------------------------- */

Test(loader, good_scenario_values)
{
    cap_scenario *s = load_good("good.yaml");
    cr_expect_str_eq(s->name, "loader-good");
    cr_expect_str_eq(s->reference, "H100"); /* default: H100 exists, though not first */
    cr_assert_eq(s->period_count, 3);
    cr_expect_str_eq(s->periods[1].id, "2026Q2");
    cr_expect_eq(s->periods[2].hours, 2208.0);

    cr_assert_eq(s->accelerator_count, 3);
    cr_expect_eq(s->accelerators[0].unit, 72);
    cr_expect_eq(s->accelerators[1].power_kw, 1.3);
    cr_expect_eq(s->accelerators[2].power_kw, 0.0); /* defaults */
    cr_expect_eq(s->accelerators[2].unit, 1);

    cr_assert_eq(s->provider_count, 2);
    cr_expect(s->providers[0].has_max_share && !s->providers[0].has_min_share);
    cr_expect_eq(s->providers[0].max_share, 0.6);
    cr_expect_eq(s->providers[0].commitment, 2.0e9);
    cr_expect_eq(s->providers[0].outage, 0.002);
    cr_expect(s->providers[1].has_min_share && !s->providers[1].has_max_share);
    cr_expect_eq(s->providers[1].min_share, 0.1);
    cr_expect_eq(s->providers[1].commitment, 0.0);
    cr_expect_eq(s->providers[1].outage, 0.0);
    cap_scenario_free(s);
}

Test(loader, good_regions_and_geos)
{
    cap_scenario *s = load_good("good.yaml");
    cr_assert_eq(s->geo_count, 2);
    cr_expect_str_eq(s->geos[0], "us"); /* order of first appearance */
    cr_expect_str_eq(s->geos[1], "eu");
    cr_assert_eq(s->region_count, 3);
    cr_expect_eq(s->regions[0].provider, 0);
    cr_expect_eq(s->regions[1].geo, 1);
    cr_expect_eq(s->regions[2].geo, 0);
    cr_expect_eq(s->regions[2].provider, 1);
    cr_expect_eq(s->regions[0].power_mw[1], 450.0);
    for (int t = 0; t < 3; t++)
        cr_expect_eq(s->regions[1].power_mw[t], 200.0); /* scalar expanded */
    cr_expect_null(s->regions[2].power_mw);
    cap_scenario_free(s);
}

Test(loader, good_offerings)
{
    cap_scenario *s = load_good("good.yaml");
    cr_assert_eq(s->offering_count, 2);
    const cap_offering *reserved = &s->offerings[0], *spot = &s->offerings[1];
    cr_expect_eq(reserved->region, 0);
    cr_expect_eq(reserved->accelerator, 1);
    cr_expect_eq(reserved->pricing, CAP_PRICING_RESERVED);
    cr_expect_eq(reserved->capacity[2], 40000.0);
    for (int t = 0; t < 3; t++)
        cr_expect_eq(reserved->price[t], 2.10);
    cr_expect_eq(reserved->availability, 0.98);
    cr_expect_eq(reserved->outage, 0.01);
    cr_expect_eq(spot->pricing, CAP_PRICING_SPOT);
    cr_expect_eq(spot->price[1], 5.0);
    cr_expect_eq(spot->capacity[2], 1000.0);
    cr_expect_eq(spot->availability, 1.0);
    cr_expect_eq(spot->outage, 0.0);
    cap_scenario_free(s);
}

Test(loader, good_workloads)
{
    cap_scenario *s = load_good("good.yaml");
    cr_assert_eq(s->workload_count, 3);
    const cap_workload *pretrain = &s->workloads[0], *chat = &s->workloads[1];
    cr_expect_str_eq(pretrain->kind, "training");
    cr_expect_eq(pretrain->demand[1], 80000.0);
    cr_expect_eq(pretrain->throughput[0], 2.5); /* GB200 */
    cr_expect_eq(pretrain->throughput[1], 1.0); /* H100 */
    cr_expect_eq(pretrain->throughput[2], 0.0); /* MI300X not named */
    cr_assert_not_null(pretrain->geo_allowed);
    cr_expect(pretrain->geo_allowed[0] && !pretrain->geo_allowed[1]);
    cr_assert_not_null(pretrain->provider_allowed);
    cr_expect(pretrain->provider_allowed[0] && pretrain->provider_allowed[1]);
    cr_expect_eq(pretrain->max_spot_share, 0.2);
    cr_expect(pretrain->has_penalty);
    cr_expect_eq(pretrain->penalty, 40.0);
    cr_expect_eq(pretrain->sigma, 0.15);

    cr_expect_str_eq(chat->kind, "");
    for (int t = 0; t < 3; t++)
        cr_expect_eq(chat->demand[t], 5000.0);
    cr_expect_null(chat->geo_allowed);
    cr_expect_null(chat->provider_allowed);
    cr_expect(!chat->has_penalty);
    cr_expect_eq(chat->sigma, 0.0);
    cr_expect_eq(chat->max_spot_share, 0.0);
    const bool *batch_providers = s->workloads[2].provider_allowed;
    cr_expect(!batch_providers[0] && batch_providers[1]);
    /* aws-us-east-1 (offering 1) is GB200, which batch cannot use; pretrain can. */
    cr_expect_eq(cap_workload_throughput(s, 0, 1), 2.5);
    cr_expect_eq(cap_workload_throughput(s, 2, 1), 0.0);
    cap_scenario_free(s);
}

Test(loader, good_uncertainty_and_objective)
{
    cap_scenario *s = load_good("good.yaml");
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            cr_expect_eq(s->correlation[i * 3 + j], i == j ? 1.0 : 0.5);
    cr_expect_eq(s->samples, 2000);
    cr_expect_eq(s->seed, UINT64_C(9223372036854775807) /* 2^63 - 1, the largest */);
    cr_expect_eq(s->objective, CAP_OBJECTIVE_MAX_SERVED);
    cr_expect(s->has_budget);
    cr_expect_eq(s->budget, 5.0e10);
    cr_expect_not_null(strstr(s->path, "good.yaml"));
    cap_scenario_free(s);
}

Test(loader, defaults_of_a_minimal_scenario)
{
    cap_scenario *s = cap_test_scenario("version: 1\n"
                                        "periods: [{id: p1, hours: 1}]\n"
                                        "accelerators: [{id: A100}, {id: B200}]\n");
    cr_expect_str_eq(s->name, "test");      /* from "test.yaml" */
    cr_expect_str_eq(s->reference, "A100"); /* no H100: the first accelerator */
    cr_expect_eq(s->samples, 100000);
    cr_expect_eq(s->seed, 1);
    cr_expect_eq(s->objective, CAP_OBJECTIVE_MIN_COST);
    cr_expect(!s->has_budget);
    cr_expect_eq(s->workload_count, 0);
    cr_expect_eq(s->offering_count, 0);
    cr_expect_eq(s->geo_count, 0);
    cr_expect_not_null(s->correlation);
    cap_scenario_free(s);
}

Test(loader, explicit_reference_and_identity_correlation)
{
    cap_scenario *s = cap_test_scenario("version: 1\n"
                                        "reference: B200\n"
                                        "periods: [{id: p1, hours: 1}]\n"
                                        "accelerators: [{id: H100}, {id: B200}]\n"
                                        "workloads:\n"
                                        "  - {id: a, demand: 1, throughput: {H100: 1}}\n"
                                        "  - {id: b, demand: 1, throughput: {B200: 1}}\n");
    cr_expect_str_eq(s->reference, "B200");
    double expected[4] = {1, 0, 0, 1};
    for (int k = 0; k < 4; k++)
        cr_expect_eq(s->correlation[k], expected[k]);
    cap_scenario_free(s);
}

Test(loader, correlation_pairs)
{
    cap_scenario *s = load_good("pairs.yaml");
    /* a-b 0.3 and c-a -0.2 set symmetrically, b-c not given: 0. */
    double expected[9] = {1, 0.3, -0.2, 0.3, 1, 0, -0.2, 0, 1};
    for (int k = 0; k < 9; k++)
        cr_expect_eq(s->correlation[k], expected[k], "entry %d", k);
    cap_scenario_free(s);
}

Test(loader, include_merges_files)
{
    cap_scenario *s = load_good("include/main.yaml");
    cr_expect_str_eq(s->name, "merged"); /* the including file wins */
    cr_assert_eq(s->offering_count, 3);  /* included entries first; catalog used once */
    cr_expect_str_eq(s->offerings[0].id, "cat-offer");
    cr_expect_str_eq(s->offerings[1].id, "extra-offer");
    cr_expect_str_eq(s->offerings[2].id, "own-offer");
    cr_expect_eq(s->offerings[2].capacity[0], 10.0);
    cr_expect_eq(s->accelerator_count, 1);
    cr_expect_eq(s->region_count, 1);
    cr_expect_eq(s->workload_count, 1);
    cr_expect_eq(s->period_count, 1);
    /* uncertainty is replaced whole: samples from main.yaml, seed back to its default. */
    cr_expect_eq(s->samples, 50);
    cr_expect_eq(s->seed, 1);
    cap_scenario_free(s);
}

Test(loader, valid_base_loads)
{
    /* The file every bad_*.yaml below is a one-line variation of. */
    cap_scenario *s = load_good("valid_base.yaml");
    cr_expect_eq(s->workloads[0].demand[2], 70.0);
    cap_scenario_free(s);
}

Test(loader, numbers_ignore_the_program_locale)
{
    /* Only meaningful where a comma-decimal locale is installed; harmless elsewhere. */
    setlocale(LC_NUMERIC, "de_DE.UTF-8");
    cap_scenario *s = cap_test_scenario("version: 1\n"
                                        "periods: [{id: p1, hours: 2.5}]\n"
                                        "accelerators: [{id: H100}]\n");
    setlocale(LC_NUMERIC, "C");
    cr_expect_eq(s->periods[0].hours, 2.5);
    cap_scenario_free(s);
}

/* ---- keys and types ------------------------------------------------------------------- */

Test(loader, unknown_key_did_you_mean)
{
    expect_bad_file("bad_unknown_key.yaml", 17, 5,
                    "unknown key 'prcie' in offering; did you mean 'price'?");
}

Test(loader, unknown_key_lists_allowed_keys)
{
    expect_bad_file("bad_top_key.yaml", 23, 1,
                    "unknown key 'colour' in scenario (allowed: version,");
}

Test(loader, quoted_number_is_a_string)
{
    expect_bad_file("bad_quoted_number.yaml", 4, 21, "quoted string");
}

Test(loader, number_expected)
{
    expect_bad_file("bad_not_number.yaml", 5, 21, "hours must be a number, got 'lots'");
}

Test(loader, missing_required_field)
{
    expect_bad_file("bad_missing_field.yaml", 13, 5, "missing required key 'capacity'");
}

Test(loader, duplicate_mapping_key)
{
    expect_bad_file("bad_duplicate_key.yaml", 18, 5,
                    "duplicate key 'price' (first given at line 17");
}

Test(loader, duplicate_id_names_both_positions)
{
    char *path = data_path("bad_duplicate_id.yaml");
    char first[4200];
    snprintf(first, sizeof first, "first defined at %s:11:10", path);
    expect_bad_file("bad_duplicate_id.yaml", 12, 10, "duplicate region id 'us-east'");
    expect_at(path, 12, 10, first);
    free(path);
}

/* ---- references ----------------------------------------------------------------------- */

Test(loader, dangling_offering_region)
{
    expect_bad_file("bad_dangling_region.yaml", 14, 13,
                    "unknown region 'us-est'; did you mean 'us-east'?");
}

Test(loader, dangling_offering_accelerator)
{
    expect_bad_file("bad_dangling_accelerator.yaml", 15, 18, "unknown accelerator 'A100'");
}

Test(loader, dangling_region_provider)
{
    expect_bad_file("bad_dangling_provider.yaml", 11, 29, "unknown provider 'azur'");
}

Test(loader, dangling_throughput_accelerator)
{
    expect_bad_file("bad_throughput_key.yaml", 22, 29, "unknown accelerator 'TPUv5'");
}

Test(loader, unknown_geo_in_allow_list)
{
    expect_bad_file("bad_geo.yaml", 23, 16, "unknown geo 'uss' (no region has it)");
}

Test(loader, unknown_provider_in_allow_list)
{
    expect_bad_file("bad_provider_allow.yaml", 23, 17, "unknown provider 'gcp'");
}

/* ---- values --------------------------------------------------------------------------- */

Test(loader, per_period_list_of_wrong_length)
{
    expect_bad_file("bad_period_length.yaml", 21, 13, "has 2 entries but there are 3 periods");
}

Test(loader, hours_must_be_positive)
{
    expect_bad_file("bad_negative_hours.yaml", 4, 21, "hours must be > 0");
}

Test(loader, negative_capacity_entry)
{
    expect_bad_file("bad_negative_capacity.yaml", 18, 21, "capacity must be >= 0");
}

Test(loader, yaml_nan_is_not_finite)
{
    expect_bad_file("bad_nan.yaml", 17, 12, "price must be a finite number");
}

Test(loader, overflowing_number_is_not_finite)
{
    expect_bad_file("bad_overflow.yaml", 21, 18, "demand must be a finite number");
}

Test(loader, share_outside_unit_interval)
{
    expect_bad_file("bad_share.yaml", 9, 28, "max_share must be between 0 and 1");
}

Test(loader, min_share_above_max_share)
{
    expect_bad_file("bad_min_share.yaml", 9, 44, "min_share 0.7 is greater than max_share 0.5");
}

Test(loader, min_shares_above_one_in_all)
{
    expect_bad_file("bad_min_share_total.yaml", 7, 24, "adds up to 1.2, over 1");
}

Test(loader, unknown_pricing)
{
    expect_bad_file("bad_pricing.yaml", 16, 14, "unknown pricing 'spotty'");
}

Test(loader, unknown_objective)
{
    expect_bad_file("bad_objective.yaml", 23, 12, "unknown objective 'cheapest'");
}

Test(loader, max_served_needs_budget)
{
    expect_bad_file("bad_max_served.yaml", 23, 12, "needs a budget");
}

Test(loader, negative_budget)
{
    expect_bad_file("bad_budget.yaml", 23, 9, "budget must be >= 0");
}

Test(loader, sigma_out_of_range)
{
    expect_bad_file("bad_sigma.yaml", 23, 12, "sigma must be between 0 and 10");
}

Test(loader, periods_empty)
{
    expect_bad_file("bad_empty_periods.yaml", 2, 10, "periods is empty");
}

Test(loader, version_missing)
{
    expect_bad_file("bad_missing_version.yaml", 2, 1, "missing required key 'version'");
}

Test(loader, version_unsupported)
{
    expect_bad_file("bad_version.yaml", 1, 10, "unsupported version 2");
}

Test(loader, samples_out_of_range)
{
    expect_bad_file("bad_samples.yaml", 24, 12, "samples must be a whole number from 1 to");
}

Test(loader, seed_negative)
{
    expect_bad_file("bad_seed.yaml", 24, 9,
                    "seed must be a whole number from 0 to 9223372036854775807");
}

/* Seeds are read exactly up to 2^63 - 1 (mc.json records them as JSON integers), and one
 * past that is refused where it stands. */
Test(loader, seed_range_is_exact)
{
    cap_scenario *s = cap_test_scenario("version: 1\n"
                                        "periods: [{id: p1, hours: 1}]\n"
                                        "accelerators: [{id: H100}]\n"
                                        "uncertainty: {seed: 9223372036854775807}\n");
    cr_expect_eq(s->seed, UINT64_C(9223372036854775807));
    cap_scenario_free(s);
    const char yaml[] = "version: 1\n"
                        "periods: [{id: p1, hours: 1}]\n"
                        "accelerators: [{id: H100}]\n"
                        "uncertainty: {seed: 9223372036854775808}\n";
    expect_bad_buffer(yaml, sizeof yaml - 1, 4, 21,
                      "seed must be a whole number from 0 to 9223372036854775807");
}

Test(loader, unit_not_integral)
{
    expect_bad_file("bad_unit.yaml", 7, 37, "unit must be a whole number");
}

/* ---- correlation ---------------------------------------------------------------------- */

Test(loader, correlation_pairs_not_semidefinite)
{
    expect_bad_file("bad_correlation_psd.yaml", 25, 5, "not positive semidefinite");
}

Test(loader, uniform_correlation_impossible)
{
    expect_bad_file("bad_correlation_scalar.yaml", 24, 16,
                    "correlation -0.9 is impossible for 3 workloads");
}

Test(loader, correlation_pair_unknown_workload)
{
    expect_bad_file("bad_pair_unknown.yaml", 26, 13, "unknown workload 'd'");
}

/* ---- all problems, not the first ------------------------------------------------------ */

Test(loader, all_problems_reported)
{
    expect_bad_file("bad_three_problems.yaml", 3, 21, "hours must be > 0");
    char *path = data_path("bad_three_problems.yaml");
    expect_at(path, 16, 14, "unknown pricing 'sport'");
    expect_at(path, 21, 13, "has 2 entries but there are 3 periods");
    free(path);
    cr_expect_eq(diag.count, 3);
}

/* ---- includes ------------------------------------------------------------------------- */

Test(loader, include_cycle)
{
    char *path = data_path("cycle_a.yaml"), *b_path = data_path("cycle_b.yaml");
    cap_scenario *scenario = NULL;
    cr_expect_eq(cap_scenario_load(path, &scenario, &diag), CAP_ERR_INPUT);
    cr_expect_null(scenario);
    expect_at(b_path, 2, 11, "include cycle");
    free(path);
    free(b_path);
}

Test(loader, include_missing_file)
{
    expect_bad_file("bad_include_missing.yaml", 3, 5, "cannot read included file");
}

Test(loader, duplicate_id_across_files)
{
    char *main_path = data_path("dup_main.yaml"), *catalog = data_path("dup_catalog.yaml");
    char first[4200];
    snprintf(first, sizeof first, "first defined at %s:3:10", catalog);
    expect_bad_file("dup_main.yaml", 5, 10, "duplicate accelerator id 'H100'");
    expect_at(main_path, 5, 10, first);
    free(main_path);
    free(catalog);
}

static void write_text(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    cr_assert_not_null(file);
    fputs(text, file);
    fclose(file);
}

Test(loader, include_depth_limit)
{
    /* f0 includes f1 ... includes f17: f1..f16 nest 16 deep, f17 would be the 17th. */
    char dir[] = "/tmp/capplan-loader-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256], text[256];
    for (int i = 0; i <= 17; i++) {
        snprintf(path, sizeof path, "%s/f%d.yaml", dir, i);
        if (i < 17)
            snprintf(text, sizeof text, "include: f%d.yaml\n", i + 1);
        else
            snprintf(text, sizeof text, "version: 1\n");
        write_text(path, text);
    }
    snprintf(path, sizeof path, "%s/f0.yaml", dir);
    cap_scenario *scenario = NULL;
    cr_expect_eq(cap_scenario_load(path, &scenario, &diag), CAP_ERR_INPUT);
    snprintf(path, sizeof path, "%s/f16.yaml", dir);
    expect_at(path, 1, 10, "includes nested deeper than 16 levels");
    for (int i = 0; i <= 17; i++) {
        snprintf(path, sizeof path, "%s/f%d.yaml", dir, i);
        unlink(path);
    }
    rmdir(dir);
}

/* ---- hostile input -------------------------------------------------------------------- */

Test(loader, aliases_rejected)
{
    expect_bad_file("bad_alias.yaml", 3, 8, "aliases are not supported");
}

/* A tag changes what a value means to a YAML reader (`!!str 5` is the string "5"), so each
 * one is named where it stands, all of them; `!!map` and `!!seq` on what they name pass.
 * Columns by hand: line 2 "name: " is 6 characters, so the tag starts at 7; line 3
 * "periods: " 9, at 10; line 4 "  - {id: q1, hours: " 20, at 21. */
Test(loader, tags_rejected_where_they_stand)
{
    const char yaml[] = "version: 1\n"
                        "name: !custom t\n"
                        "periods: !!seq\n"
                        "  - {id: q1, hours: !!float 100}\n"
                        "x: !!map {a: !!str 5}\n";
    expect_bad_buffer(yaml, sizeof yaml - 1, 2, 7, "YAML tag '!custom' is not supported");
    expect_at("buffer.yaml", 4, 21, "YAML tag '!!float' is not supported");
    expect_at("buffer.yaml", 5, 14, "YAML tag '!!str' is not supported");
    cr_expect_eq(diag.count, 3, "exactly the three scalar tags, not !!seq or !!map");
}

Test(loader, several_documents_rejected)
{
    expect_bad_file("bad_two_documents.yaml", 4, 1, "more than one YAML document");
}

Test(loader, truncated_yaml)
{
    expect_bad_file("bad_truncated.yaml", 4, 1, "YAML syntax error");
}

Test(loader, invalid_utf8)
{
    expect_bad_file("bad_utf8.yaml", 2, 10, "invalid leading UTF-8 octet");
}

Test(loader, empty_file)
{
    expect_bad_file("bad_empty.yaml", 1, 1, "empty scenario");
}

Test(loader, comments_only_buffer_is_empty)
{
    const char yaml[] = "# nothing but a comment\n";
    expect_bad_buffer(yaml, sizeof yaml - 1, 1, 1, "empty scenario");
}

Test(loader, root_must_be_a_mapping)
{
    const char yaml[] = "- version\n- 1\n";
    expect_bad_buffer(yaml, sizeof yaml - 1, 1, 1, "scenario must be a mapping");
}

Test(loader, directory_rejected)
{
    char *path = data_path("");
    path[strlen(path) - 1] = '\0'; /* drop the trailing '/' */
    cap_scenario *scenario = NULL;
    cr_expect_eq(cap_scenario_load(path, &scenario, &diag), CAP_ERR_INPUT);
    expect_at(path, 1, 1, "is a directory");
    free(path);
}

Test(loader, missing_file)
{
    expect_bad_file("no_such_file.yaml", 1, 1, "No such file");
}

Test(loader, file_over_64_mib)
{
    char path[] = "/tmp/capplan-loader-big-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(ftruncate(fd, ((off_t)64 << 20) + 1), 0); /* sparse: costs no disk */
    close(fd);
    cap_scenario *scenario = NULL;
    cr_expect_eq(cap_scenario_load(path, &scenario, &diag), CAP_ERR_INPUT);
    expect_at(path, 1, 1, "larger than 64 MiB");
    unlink(path);
}

Test(loader, list_over_a_million_entries)
{
    const size_t entries = 1000001;
    const char head[] = "version: 1\nperiods: [";
    size_t size = sizeof head - 1 + 2 * entries + 2;
    char *yaml = malloc(size);
    memcpy(yaml, head, sizeof head - 1);
    char *at = yaml + sizeof head - 1;
    for (size_t i = 0; i < entries; i++, at += 2)
        memcpy(at, "1,", 2);
    memcpy(at - 1, "]\n", 2);
    expect_bad_buffer(yaml, (size_t)(at + 1 - yaml), 2, 10, "list has more than 1000000 entries");
    free(yaml);
}

Test(loader, deep_nesting)
{
    const size_t depth = 100000;
    const char head[] = "version: 1\nname: ";
    size_t size = sizeof head - 1 + depth;
    char *yaml = malloc(size);
    memcpy(yaml, head, sizeof head - 1);
    memset(yaml + sizeof head - 1, '[', depth);
    /* The root mapping is level 1, so the 64th '[' (column 6 + 64) is level 65. */
    expect_bad_buffer(yaml, size, 2, 70, "nesting deeper than 64 levels");
    free(yaml);
}

Test(loader, node_budget_over_all_lists)
{
    /* Three lists of 700,000 numbers: no list is too long, but the nodes are. Nodes so far:
     * root 1, a 2, list 3, its entries 4..700003, b 700004, list 700005, entries ..1400005,
     * c 1400006, list 1400007; node 2000001 is c's entry 599994, at column 5 + 2 * 599993. */
    const size_t entries = 700000;
    char *yaml = malloc(3 * (5 + 2 * entries) + 1), *at = yaml;
    for (const char *key = "abc"; *key; key++) {
        at += sprintf(at, "%c: [", *key);
        for (size_t i = 0; i < entries; i++, at += 2)
            memcpy(at, "1,", 2);
        memcpy(at - 1, "]\n", 2); /* the last ',' becomes ']' */
        at++;
    }
    expect_bad_buffer(yaml, (size_t)(at - yaml), 3, 1199991, "more than 2000000 YAML nodes");
    free(yaml);
}
