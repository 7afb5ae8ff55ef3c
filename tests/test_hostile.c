/* test_hostile.c: nothing a planner feeds capplan may crash it, hang it or cost a result.
 *
 * Every file of tests/data/hostile/ (and some made at test time: a list with millions of
 * entries, a 70 MB file, a folder, a dangling link, a FIFO, /dev/zero, a 1 MB id, a file
 * with thousands of problems, plan dimensions too large to hold) goes through the real
 * binary twice, `capplan validate` and `capplan plan --out`, under `timeout 20` and
 * `ulimit -v 4000000` (under ASan: no memory limit, since it reserves terabytes of address
 * space, and three times the time). Each run must exit with the expected code (2:
 * invalid), print a "FILE:LINE:COL: message" at the position worked out by reading the
 * file, with a word that names the problem, not die on a signal, finish within 10 s, and
 * write nothing. Hostile plan files for `simulate --plan` get the same checks. The
 * fuzzer's crashing inputs (tests/fuzz/regressions/) are replayed in-process through the
 * loader, the model builder and a short solve, as the fuzz target does.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <glpk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include "plan.h"
#include "scenario_load.h"
#include "support.h"

#define HOSTILE "tests/data/hostile/"

#if defined(__SANITIZE_ADDRESS__)
#define CAP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CAP_ASAN 1
#endif
#endif

#ifdef CAP_ASAN
/* ASan maps terabytes of shadow memory (no ulimit -v) and runs several times slower. */
#define MEMORY_LIMIT ""
#define TIMEOUT      "timeout 60 "
#define MAX_SECONDS  30.0
#else
#define MEMORY_LIMIT "ulimit -v 4000000; "
#define TIMEOUT      "timeout 20 "
#define MAX_SECONDS  10.0
#endif

/* ---- running the binary --------------------------------------------------------------- */

typedef struct {
    int code; /* exit code; -1 when killed by a signal, 124 when timeout stopped it */
    double seconds;
    char *output; /* stdout and stderr */
} run_result;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs `capplan ARGS` in folder `cwd`, bounded in time and memory. */
static run_result run_bounded(const char *cwd, const char *args)
{
    char output_path[] = "/tmp/capplan-hostile-out-XXXXXX";
    int fd = mkstemp(output_path);
    cr_assert_geq(fd, 0, "mkstemp failed");
    close(fd);
    char command[16384];
    snprintf(command, sizeof command, "cd '%s' && (%s%s'%s' %s) > '%s' 2>&1", cwd, MEMORY_LIMIT,
             TIMEOUT, CAPPLAN_BINARY, args, output_path);
    double start = now_seconds();
    int raw = system(command);
    run_result result = {-1, now_seconds() - start, cap_test_read_file(output_path)};
    unlink(output_path);
    if (raw != -1 && WIFEXITED(raw))
        result.code = WEXITSTATUS(raw) > 128 && WEXITSTATUS(raw) != 124 ? -1 : WEXITSTATUS(raw);
    if (!result.output)
        result.output = strdup("");
    return result;
}

static char *make_temp_dir(void)
{
    char template[] = "/tmp/capplan-hostile-XXXXXX";
    char *dir = mkdtemp(template);
    cr_assert_not_null(dir, "mkdtemp failed");
    return strdup(dir);
}

static void remove_tree(const char *dir)
{
    char command[4200];
    snprintf(command, sizeof command, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", dir, dir);
    cr_assert_eq(system(command), 0);
}

/* True when `dir` holds nothing but `allowed` (which may be NULL). */
static bool folder_holds_only(const char *dir, const char *allowed)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot list %s", dir);
    bool clean = true;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        const char *name = entry->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        if (!allowed || strcmp(name, allowed) != 0) {
            cr_log_error("unexpected file %s/%s", dir, name);
            clean = false;
        }
    }
    closedir(d);
    return clean;
}

/* ---- one hostile input ---------------------------------------------------------------- */

typedef struct {
    const char *cwd;      /* folder the command runs in */
    const char *arg;      /* the scenario argument as given on the command line */
    int code;             /* expected exit code */
    const char *where;    /* expected "FILE:LINE:COL: " prefix of one message, or NULL */
    const char *keyword;  /* a word that message must contain */
    const char *leave_be; /* a file in cwd that the run may find there (the input) */
} hostile_case;

static bool has_message(const char *output, const char *where, const char *keyword)
{
    for (const char *line = output; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t length = end ? (size_t)(end - line) : strlen(line);
        char *copy = strndup(line, length);
        bool found = strncmp(copy, where, strlen(where)) == 0 && strstr(copy, keyword);
        free(copy);
        if (found)
            return true;
        line = end ? end + 1 : NULL;
    }
    return false;
}

static void check_run(const hostile_case *c, const char *command, const char *args)
{
    run_result r = run_bounded(c->cwd, args);
    cr_assert_neq(r.code, -1, "%s %s died on a signal:\n%.4000s", command, c->arg, r.output);
    cr_assert_neq(r.code, 124, "%s %s hung (stopped by timeout)", command, c->arg);
    cr_assert_lt(r.seconds, MAX_SECONDS, "%s %s took %.1f s", command, c->arg, r.seconds);
    cr_assert_eq(r.code, c->code, "%s %s exited %d, expected %d:\n%.4000s", command, c->arg, r.code,
                 c->code, r.output);
    if (c->where) {
        char prefix[512];
        snprintf(prefix, sizeof prefix, "%s: ", c->where);
        cr_assert(has_message(r.output, prefix, c->keyword),
                  "%s %s: no message starting '%s' with '%s' in:\n%.4000s", command, c->arg, prefix,
                  c->keyword, r.output);
    }
    free(r.output);
}

/* validate, then plan --out: same verdict, and an invalid scenario writes nothing. */
static void check_hostile(const hostile_case *c)
{
    char args[8192];
    snprintf(args, sizeof args, "validate '%s'", c->arg);
    check_run(c, "validate", args);
    snprintf(args, sizeof args, "plan '%s' --out out", c->arg);
    check_run(c, "plan", args);
    if (c->code == 2)
        cr_assert(folder_holds_only(c->cwd, c->leave_be), "plan wrote into %s", c->cwd);
}

/* A committed file of tests/data/hostile/, run from that folder so messages name it plainly;
 * --out then points into a fresh temporary folder. */
static void check_file(const char *name, int code, const char *where, const char *keyword)
{
    char *out_root = make_temp_dir();
    char data_dir[4200];
    snprintf(data_dir, sizeof data_dir, "%s", cap_test_path(HOSTILE));
    hostile_case c = {data_dir, name, code, where, keyword, NULL};
    char args[8192];
    snprintf(args, sizeof args, "validate '%s'", name);
    check_run(&c, "validate", args);
    snprintf(args, sizeof args, "plan '%s' --out '%s/out' --quiet", name, out_root);
    check_run(&c, "plan", args);
    if (code == 2)
        cr_assert(folder_holds_only(out_root, NULL), "plan wrote into %s", out_root);
    remove_tree(out_root);
    free(out_root);
}

TestSuite(hostile, .timeout = 120);

#define HOSTILE_FILE(test, file, where, keyword)                                                   \
    Test(hostile, test)                                                                            \
    {                                                                                              \
        check_file(file, 2, where, keyword);                                                       \
    }

/* ---- the committed corpus: expected positions worked out by reading each file ---------- */

/* Empty and shapeless documents. */
HOSTILE_FILE(empty_file, "empty.yaml", "empty.yaml:1:1", "empty scenario")
HOSTILE_FILE(comments_only, "comments_only.yaml", "comments_only.yaml:1:1", "empty scenario")
HOSTILE_FILE(null_document, "null_document.yaml", "null_document.yaml:1:1", "empty scenario")
HOSTILE_FILE(top_level_list, "top_level_list.yaml", "top_level_list.yaml:2:1", "must be a mapping")
HOSTILE_FILE(top_level_scalar, "top_level_scalar.yaml", "top_level_scalar.yaml:2:1",
             "must be a mapping")
/* Broken YAML: where libyaml notices (end of stream, the ':' that cannot be there, the tab). */
HOSTILE_FILE(truncated_flow, "truncated_flow.yaml", "truncated_flow.yaml:5:1", "YAML syntax error")
HOSTILE_FILE(truncated_quote, "truncated_quote.yaml", "truncated_quote.yaml:5:1",
             "quoted scalar at line 3, column 7")
HOSTILE_FILE(bad_indentation, "bad_indentation.yaml", "bad_indentation.yaml:5:11",
             "mapping values are not allowed")
HOSTILE_FILE(tab_indentation, "tabs.yaml", "tabs.yaml:4:1", "cannot start any token")
HOSTILE_FILE(deep_nesting, "deep_nesting.yaml", "deep_nesting.yaml:3:73", "nesting deeper than 64")
HOSTILE_FILE(multiple_documents, "multiple_documents.yaml", "multiple_documents.yaml:16:1",
             "more than one YAML document")
/* Bytes that are not UTF-8 text: at the byte that breaks the sequence. */
HOSTILE_FILE(non_utf8, "non_utf8.yaml", "non_utf8.yaml:15:13", "UTF-8")
HOSTILE_FILE(nul_byte, "nul_byte.yaml", "nul_byte.yaml:15:12", "control characters")
HOSTILE_FILE(utf16_truncated, "utf16_truncated.yaml", "utf16_truncated.yaml:2:1",
             "incomplete UTF-16 character")
HOSTILE_FILE(control_char_id, "control_char_id.yaml", "control_char_id.yaml:15:10",
             "control characters")
/* Aliases: a billion laughs, and a merge key (which needs one). */
HOSTILE_FILE(alias_bomb, "alias_bomb.yaml", "alias_bomb.yaml:4:8", "aliases are not supported")
HOSTILE_FILE(merge_key, "merge_key.yaml", "merge_key.yaml:6:10", "aliases are not supported")
/* Wrong types. */
HOSTILE_FILE(wrong_type_periods, "wrong_type_periods.yaml", "wrong_type_periods.yaml:3:10",
             "periods must be a list")
HOSTILE_FILE(wrong_type_hours, "wrong_type_hours.yaml", "wrong_type_hours.yaml:5:21",
             "hours must be a number")
HOSTILE_FILE(wrong_type_entity, "wrong_type_entity.yaml", "wrong_type_entity.yaml:7:5",
             "accelerator must be a mapping")
HOSTILE_FILE(wrong_type_throughput, "wrong_type_throughput.yaml",
             "wrong_type_throughput.yaml:15:49", "throughput must be a mapping")
HOSTILE_FILE(quoted_number, "quoted_number.yaml", "quoted_number.yaml:13:82", "quoted string")
HOSTILE_FILE(null_value, "null_value.yaml", "null_value.yaml:5:21", "got nothing")
HOSTILE_FILE(key_not_string, "key_not_string.yaml", "key_not_string.yaml:6:3",
             "keys in scenario must be strings")
HOSTILE_FILE(empty_id, "empty_id.yaml", "empty_id.yaml:5:10", "non-empty string")
/* Numbers: huge, tiny, beyond double, not numbers, out of range. */
HOSTILE_FILE(huge_1e308, "huge_1e308.yaml", "huge_1e308.yaml:13:82", "too large")
HOSTILE_FILE(tiny_1e_320, "tiny_1e-320.yaml", "tiny_1e-320.yaml:15:56", "too small")
HOSTILE_FILE(overflow_1e999, "overflow_1e999.yaml", "overflow_1e999.yaml:15:31",
             "must be a finite number")
HOSTILE_FILE(nan, "nan.yaml", "nan.yaml:13:82", "must be a finite number")
HOSTILE_FILE(inf, "inf.yaml", "inf.yaml:13:97", "must be a finite number")
HOSTILE_FILE(neg_inf, "neg_inf.yaml", "neg_inf.yaml:15:26", "must be a finite number")
HOSTILE_FILE(negative_capacity, "negative_capacity.yaml", "negative_capacity.yaml:13:97",
             "capacity must be >= 0")
HOSTILE_FILE(zero_hours, "zero_hours.yaml", "zero_hours.yaml:4:21", "hours must be > 0")
HOSTILE_FILE(samples_huge, "samples_huge.yaml", "samples_huge.yaml:16:24", "samples must be")
HOSTILE_FILE(seed_negative, "seed_negative.yaml", "seed_negative.yaml:16:21", "seed must be")
HOSTILE_FILE(correlation_range, "correlation_range.yaml", "correlation_range.yaml:16:28",
             "between -1 and 1")
HOSTILE_FILE(unit_zero, "unit_zero.yaml", "unit_zero.yaml:7:37", "unit must be a whole number")
HOSTILE_FILE(version_2, "version_2.yaml", "version_2.yaml:2:10", "unsupported version 2")
/* Empty lists, lengths, duplicates, unknown references and keys. */
HOSTILE_FILE(empty_periods, "empty_periods.yaml", "empty_periods.yaml:3:10", "periods is empty")
HOSTILE_FILE(empty_accelerators, "empty_accelerators.yaml", "empty_accelerators.yaml:6:15",
             "accelerators is empty")
HOSTILE_FILE(period_length, "period_length.yaml", "period_length.yaml:15:25",
             "3 entries but there are 2 periods")
HOSTILE_FILE(duplicate_top_key, "duplicate_top_key.yaml", "duplicate_top_key.yaml:16:1",
             "duplicate key 'periods' (first given at line 3, column 1)")
HOSTILE_FILE(duplicate_field, "duplicate_field.yaml", "duplicate_field.yaml:13:87",
             "duplicate key 'price' (first given at line 13, column 75)")
HOSTILE_FILE(duplicate_id, "duplicate_id.yaml", "duplicate_id.yaml:5:10",
             "duplicate period id 'q1' (first defined at duplicate_id.yaml:4:10)")
HOSTILE_FILE(unknown_region, "unknown_region.yaml", "unknown_region.yaml:13:27",
             "unknown region 'us-west'; did you mean 'us-east'?")
HOSTILE_FILE(unknown_throughput_key, "unknown_throughput_key.yaml",
             "unknown_throughput_key.yaml:15:61", "unknown accelerator 'B200'")
HOSTILE_FILE(unknown_provider_allow, "unknown_provider_allow.yaml",
             "unknown_provider_allow.yaml:15:92", "unknown provider 'gcp'")
HOSTILE_FILE(unknown_key, "unknown_key.yaml", "unknown_key.yaml:13:75", "unknown key 'discount'")
HOSTILE_FILE(max_served_no_budget, "max_served_no_budget.yaml", "max_served_no_budget.yaml:16:12",
             "needs a budget")
/* Includes: cycles (reported where the cycle closes), a missing file, a folder, an endless
 * device, a mapping. */
HOSTILE_FILE(include_cycle, "include_cycle_a.yaml", "include_cycle_b.yaml:2:10",
             "include cycle: include_cycle_a.yaml -> include_cycle_b.yaml -> include_cycle_a.yaml")
HOSTILE_FILE(include_cycle_other_way, "include_cycle_b.yaml", "include_cycle_a.yaml:2:10",
             "include cycle")
HOSTILE_FILE(include_self, "include_self.yaml", "include_self.yaml:2:11", "include cycle")
HOSTILE_FILE(include_missing, "include_missing.yaml", "include_missing.yaml:2:10",
             "No such file or directory")
HOSTILE_FILE(include_directory, "include_directory.yaml", "include_directory.yaml:2:10",
             "it is a directory")
HOSTILE_FILE(include_dev_zero, "include_dev_zero.yaml", "include_dev_zero.yaml:2:10",
             "larger than 64 MiB")
HOSTILE_FILE(include_mapping, "include_mapping.yaml", "include_mapping.yaml:2:10",
             "include must be a file name")

/* A byte order mark and CRLF line endings are fine: these must load and solve. */
Test(hostile, bom_loads)
{
    check_file("bom_valid.yaml", 0, NULL, NULL);
}

Test(hostile, crlf_loads)
{
    check_file("crlf_valid.yaml", 0, NULL, NULL);
}

/* ---- inputs made at test time --------------------------------------------------------- */

static void write_bytes(const char *path, const char *bytes, size_t size)
{
    FILE *file = fopen(path, "wb");
    cr_assert_not_null(file, "cannot create %s", path);
    cr_assert_eq(fwrite(bytes, 1, size, file), size);
    cr_assert_eq(fclose(file), 0);
}

/* Writes `head`, then `line` `count` times, then `tail` into dir/name. */
static void write_repeated(const char *dir, const char *name, const char *head, const char *line,
                           long count, const char *tail)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "wb");
    cr_assert_not_null(file, "cannot create %s", path);
    fputs(head, file);
    for (long i = 0; i < count; i++)
        fputs(line, file);
    fputs(tail, file);
    cr_assert_eq(fclose(file), 0);
}

static void check_generated(const char *dir, const char *arg, const char *where,
                            const char *keyword, const char *input)
{
    hostile_case c = {dir, arg, 2, where, keyword, input};
    check_hostile(&c);
}

/* Two million list entries, one per line: refused at the list, after 1,000,001 entries. */
Test(hostile, list_with_millions_of_entries)
{
    char *dir = make_temp_dir();
    write_repeated(dir, "million.yaml", "version: 1\nperiods:\n", "  - 1\n", 2000000, "");
    check_generated(dir, "million.yaml", "million.yaml:3:3", "more than 1000000 entries",
                    "million.yaml");
    remove_tree(dir);
    free(dir);
}

/* The same on a single 6 MB line (a flow list). */
Test(hostile, very_long_line)
{
    char *dir = make_temp_dir();
    write_repeated(dir, "long_line.yaml", "version: 1\nperiods: [", "1, ", 2000000, "1]\n");
    check_generated(dir, "long_line.yaml", "long_line.yaml:2:10", "more than 1000000 entries",
                    "long_line.yaml");
    remove_tree(dir);
    free(dir);
}

/* 70 MB: refused before it is read. */
Test(hostile, file_of_70_mb)
{
    char *dir = make_temp_dir();
    char line[1025];
    memset(line, 'x', sizeof line - 1);
    line[0] = '#';
    line[sizeof line - 2] = '\n';
    line[sizeof line - 1] = '\0';
    write_repeated(dir, "big.yaml", "version: 1\n", line, 70 * 1024, "");
    check_generated(dir, "big.yaml", "big.yaml:1:1", "larger than 64 MiB", "big.yaml");
    remove_tree(dir);
    free(dir);
}

/* One id of a million characters: the message quotes a short, cut piece of it. */
Test(hostile, id_of_a_million_characters)
{
    char *dir = make_temp_dir();
    write_repeated(dir, "long_id.yaml",
                   "version: 1\nperiods: [{id: q1, hours: 1}]\naccelerators: [{id: H100}]\n"
                   "providers: [{id: p}]\nregions: [{id: r, provider: p, geo: us}]\n"
                   "offerings:\n  - {id: o, accelerator: H100, pricing: spot, price: 1, "
                   "capacity: 1, region: r",
                   "x", 1000000, "}\n");
    check_generated(dir, "long_id.yaml", "long_id.yaml:7:78", "unknown region 'rxxxxxxx",
                    "long_id.yaml");
    run_result r = run_bounded(dir, "validate long_id.yaml");
    cr_assert_lt(strlen(r.output), 1000, "the message quotes the whole id:\n%.2000s", r.output);
    free(r.output);
    remove_tree(dir);
    free(dir);
}

/* Five thousand bad periods: the first thousand problems are shown, the rest counted. */
Test(hostile, thousands_of_problems)
{
    char *dir = make_temp_dir();
    write_repeated(dir, "many.yaml", "version: 1\nperiods:\n", "  - {id: q, hours: -1}\n", 5000,
                   "");
    check_generated(dir, "many.yaml", "many.yaml:3:20", "hours must be > 0", "many.yaml");
    run_result r = run_bounded(dir, "validate many.yaml");
    cr_assert(has_message(r.output, "many.yaml:1:1: ", "more problems not shown"), "%.1000s",
              r.output + (strlen(r.output) > 1000 ? strlen(r.output) - 1000 : 0));
    size_t lines = 0;
    for (const char *p = r.output; *p; p++)
        lines += *p == '\n';
    cr_assert_leq(lines, 1001, "%zu lines of messages", lines);
    free(r.output);
    remove_tree(dir);
    free(dir);
}

/* 100 periods x 1000 workloads x 2000 offerings: a valid shape whose dense plan (2e8
 * entries) would exhaust memory or never solve; refused before anything is allocated. */
Test(hostile, plan_too_large_to_hold)
{
    char *dir = make_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/huge.yaml", dir);
    FILE *file = fopen(path, "w");
    cr_assert_not_null(file);
    fputs("version: 1\naccelerators: [{id: H100}]\nproviders: [{id: p}]\n"
          "regions: [{id: r, provider: p, geo: us}]\nperiods:\n",
          file);
    for (int t = 0; t < 100; t++)
        fprintf(file, "  - {id: t%d, hours: 1}\n", t);
    fputs("offerings:\n", file);
    for (int o = 0; o < 2000; o++)
        fprintf(file,
                "  - {id: o%d, region: r, accelerator: H100, pricing: spot, price: 1, "
                "capacity: 1}\n",
                o);
    fputs("workloads:\n", file);
    for (int w = 0; w < 1000; w++)
        fprintf(file, "  - {id: w%d, demand: 1, throughput: {H100: 1}}\n", w);
    cr_assert_eq(fclose(file), 0);
    check_generated(dir, "huge.yaml", "huge.yaml:1:1", "scenario too large", "huge.yaml");
    remove_tree(dir);
    free(dir);
}

Test(hostile, directory)
{
    char *dir = make_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/scenario.yaml", dir);
    cr_assert_eq(mkdir(path, 0755), 0);
    check_generated(dir, "scenario.yaml", "scenario.yaml:1:1", "it is a directory",
                    "scenario.yaml");
    remove_tree(dir);
    free(dir);
}

Test(hostile, missing_file)
{
    char *dir = make_temp_dir();
    check_generated(dir, "no-such.yaml", "no-such.yaml:1:1", "No such file or directory", NULL);
    remove_tree(dir);
    free(dir);
}

/* A link to nowhere: a path that cannot be opened even by root. */
Test(hostile, dangling_symlink)
{
    char *dir = make_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/link.yaml", dir);
    cr_assert_eq(symlink("/nonexistent/capplan/target.yaml", path), 0);
    check_generated(dir, "link.yaml", "link.yaml:1:1", "No such file or directory", "link.yaml");
    remove_tree(dir);
    free(dir);
}

/* chmod 000 stops reads except for root, who reads anything: then there is nothing to test. */
Test(hostile, unreadable_file)
{
    if (geteuid() == 0) {
        cr_log_info("unreadable_file: skipped, running as root (chmod 000 does not stop root; "
                    "dangling_symlink covers a path that cannot be opened)");
        return;
    }
    char *dir = make_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/locked.yaml", dir);
    write_bytes(path, "version: 1\n", 11);
    cr_assert_eq(chmod(path, 0), 0);
    check_generated(dir, "locked.yaml", "locked.yaml:1:1", "Permission denied", "locked.yaml");
    remove_tree(dir);
    free(dir);
}

/* A FIFO nobody writes to must not block the loader. */
Test(hostile, fifo_without_writer)
{
    char *dir = make_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/pipe.yaml", dir);
    cr_assert_eq(mkfifo(path, 0644), 0);
    check_generated(dir, "pipe.yaml", "pipe.yaml:1:1", "empty scenario", "pipe.yaml");
    remove_tree(dir);
    free(dir);
}

/* An endless device named as the scenario: read up to the size limit, then refused. */
Test(hostile, dev_zero)
{
    char *dir = make_temp_dir();
    check_generated(dir, "/dev/zero", "/dev/zero:1:1", "larger than 64 MiB", NULL);
    remove_tree(dir);
    free(dir);
}

/* ---- hostile plans for simulate --plan ------------------------------------------------ */

/* `simulate --plan FILE --out out` must refuse FILE (exit 2, message at `where`), promptly,
 * writing nothing. */
static void check_plan_file(const char *dir, const char *plan, const char *where,
                            const char *keyword)
{
    char args[8192];
    snprintf(args, sizeof args,
             "simulate '%s' --plan '%s' --samples 4096 --no-plots --quiet --out out",
             cap_test_path("scenarios/openai-multicloud-2026.yaml"), plan);
    hostile_case c = {dir, plan, 2, where, keyword, NULL};
    check_run(&c, "simulate --plan", args);
    char out[4200];
    snprintf(out, sizeof out, "%s/out", dir);
    cr_assert_eq(access(out, F_OK), -1, "simulate wrote results for a refused plan");
}

static void write_in(const char *dir, const char *name, const char *text)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_bytes(path, text, strlen(text));
}

/* Positions: column 44 is the accelerators field of
 * "2026Q1,pretrain,azure-eastus-h100-reserved,", column 17 the offering of "2026Q1,pretrain,". */
Test(hostile, plan_csv_hostile_files)
{
    char *dir = make_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/fifo.csv", dir);
    cr_assert_eq(mkfifo(path, 0644), 0);
    check_plan_file(dir, "fifo.csv", "fifo.csv:1:1", "empty plan file");
    write_in(dir, "huge.csv",
             "period,workload,offering,accelerators\n"
             "2026Q1,pretrain,azure-eastus-h100-reserved,1e308\n");
    check_plan_file(dir, "huge.csv", "huge.csv:2:44", "accelerators must be a number from 0");
    write_in(dir, "nan.csv",
             "period,workload,offering,accelerators\n"
             "2026Q1,pretrain,azure-eastus-h100-reserved,nan\n");
    check_plan_file(dir, "nan.csv", "nan.csv:2:44", "accelerators must be a number from 0");
    write_in(dir, "unknown.csv",
             "period,workload,offering,accelerators\n2026Q1,pretrain,nowhere,1\n");
    check_plan_file(dir, "unknown.csv", "unknown.csv:2:17", "unknown offering 'nowhere'");
    write_repeated(dir, "long.csv", "period,workload,offering,accelerators\n", "x", 200000, "\n");
    check_plan_file(dir, "long.csv", "long.csv:2:1", "line longer than 65536 bytes");
    check_plan_file(dir, ".", ".", "it is a directory");
    check_plan_file(dir, "/dev/zero", "/dev/zero:1:1", "missing column 'period'");
    remove_tree(dir);
    free(dir);
}

/* The spot cap too, and an empty plan: demand 100 H100e with max_spot_share 0.2 allows 20 H100e
 * from spot; a plan of 50 spot accelerators (throughput 1, availability 1, no outage: 50 H100e)
 * breaks it and is warned about, 20 of them do not. */
Test(hostile, plan_over_the_spot_cap_is_warned_about)
{
    char *dir = make_temp_dir();
    write_in(dir, "s.yaml",
             "version: 1\nperiods: [{id: q1, hours: 10}]\naccelerators: [{id: H100}]\n"
             "providers: [{id: p}]\nregions: [{id: r, provider: p, geo: us}]\n"
             "offerings:\n  - {id: spot, region: r, accelerator: H100, pricing: spot, price: 1, "
             "capacity: 1000}\n  - {id: res, region: r, accelerator: H100, pricing: reserved, "
             "price: 2, capacity: 1000}\n"
             "workloads:\n  - {id: w, demand: 100, penalty: 5, max_spot_share: 0.2, "
             "throughput: {H100: 1}}\n");
    write_in(dir, "over.csv", "period,workload,offering,accelerators\nq1,w,spot,50\nq1,w,res,50\n");
    write_in(dir, "within.csv",
             "period,workload,offering,accelerators\nq1,w,spot,20\nq1,w,res,80\n");
    write_in(dir, "none.csv", "period,workload,offering,accelerators\n");
    const char *names[] = {"over.csv", "within.csv", "none.csv"};
    for (int i = 0; i < 3; i++) {
        char args[8192], *output = NULL;
        snprintf(args, sizeof args,
                 "simulate '%s/s.yaml' --plan '%s/%s' --samples 100 --backend cpu --no-plots "
                 "--quiet",
                 dir, dir, names[i]);
        int code = cap_test_run(args, &output, NULL, 0);
        cr_assert_eq(code, 0, "exit %d: %s", code, output ? output : "");
        if (i == 0)
            cr_assert_not_null(strstr(output, "workload 'w' in q1: the plan takes 50 H100e from "
                                              "spot offerings, its cap is 20"),
                               "%s", output);
        else if (i == 1)
            cr_assert_null(strstr(output, "warning"), "%s", output);
        else /* a header and no rows: said, not simulated silently as 100% shortfall */
            cr_assert_not_null(strstr(output, "the plan holds no accelerators"), "%s", output);
        free(output);
    }
    remove_tree(dir);
    free(dir);
}

/* A plan over the scenario's limits is simulated as written, with a warning naming each
 * limit. teach-power.yaml: oracle-abilene-demo-gb200 sells 2880 GB200 (1.8 kW each) in a
 * 2.0 MW envelope in 2026Q1; 4000 of them exceed both (4000 * 1.8 kW = 7.2 MW). 100 of
 * them (0.18 MW) exceed neither. */
Test(hostile, plan_over_the_limits_is_simulated_with_a_warning)
{
    char *dir = make_temp_dir();
    write_in(
        dir, "over.csv",
        "period,workload,offering,accelerators\n2026Q1,train,oracle-abilene-demo-gb200,4000\n");
    write_in(dir, "within.csv",
             "period,workload,offering,accelerators\n2026Q1,train,oracle-abilene-demo-gb200,100\n");
    const char *names[] = {"over.csv", "within.csv"};
    for (int i = 0; i < 2; i++) {
        char args[8192], *output = NULL;
        snprintf(args, sizeof args,
                 "simulate '%s' --plan '%s/%s' --samples 1000 --backend cpu --no-plots --quiet",
                 cap_test_path("scenarios/teach-power.yaml"), dir, names[i]);
        int code = cap_test_run(args, &output, NULL, 0);
        cr_assert_eq(code, 0, "exit %d: %s", code, output ? output : "");
        cr_assert_not_null(output);
        if (i == 0) {
            cr_assert_not_null(strstr(output, "offering 'oracle-abilene-demo-gb200' in 2026Q1: the "
                                              "plan holds 4000 accelerators, its capacity is 2880"),
                               "%s", output);
            cr_assert_not_null(strstr(output, "region 'oracle-abilene-demo' in 2026Q1: the plan "
                                              "draws 7.2 MW, its power envelope is 2 MW"),
                               "%s", output);
        } else {
            cr_assert_null(strstr(output, "warning"), "%s", output);
        }
        free(output);
    }
    /* --integer would solve a plan that --plan reads instead: refused, not ignored */
    char args[8192], *output = NULL;
    snprintf(args, sizeof args, "simulate '%s' --plan '%s/within.csv' --integer --samples 100",
             cap_test_path("scenarios/teach-power.yaml"), dir);
    cr_assert_eq(cap_test_run(args, &output, NULL, 0), 2, "%s", output ? output : "");
    free(output);
    remove_tree(dir);
    free(dir);
}

/* An output name held by a FIFO or a symbolic link (or, as root, a device: /dev/null) is
 * refused, exit 2, and left as it was: the rename of a finished output would replace it. */
Test(hostile, outputs_never_replace_what_is_not_a_regular_file)
{
    char *dir = make_temp_dir();
    char fifo[4200], link[4200], link_lp[4200];
    snprintf(fifo, sizeof fifo, "%s/fifo.yaml", dir);
    snprintf(link, sizeof link, "%s/link.yaml", dir);
    snprintf(link_lp, sizeof link_lp, "%s/link.lp", dir);
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    cr_assert_eq(symlink("elsewhere", link), 0);
    cr_assert_eq(symlink("elsewhere", link_lp), 0);
    const char *targets[] = {fifo, link};
    for (int i = 0; i < 2; i++) {
        char args[8192], *output = NULL;
        snprintf(args, sizeof args, "generate --out '%s'", targets[i]);
        int code = cap_test_run(args, &output, NULL, 0);
        cr_assert_eq(code, 2, "exit %d: %s", code, output ? output : "");
        cr_assert_not_null(strstr(output, "is not a regular file"), "%s", output);
        free(output);
    }
    char args[8192], *output = NULL;
    snprintf(args, sizeof args, "plan '%s' --export '%s' --quiet",
             cap_test_path("scenarios/teach-power.yaml"), link_lp);
    int code = cap_test_run(args, &output, NULL, 0);
    cr_assert_eq(code, 2, "exit %d: %s", code, output ? output : "");
    free(output);
    struct stat st;
    cr_assert(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode), "the FIFO was replaced");
    cr_assert(lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "the link was replaced");
    cr_assert(lstat(link_lp, &st) == 0 && S_ISLNK(st.st_mode), "the link was replaced");
    remove_tree(dir);
    free(dir);
}

/* Output that cannot be written (stdout on a full device) fails the run: exit 1 and a
 * message, never a silent 0. */
Test(hostile, stdout_write_failure_is_an_error)
{
    if (access("/dev/full", W_OK) != 0) {
        cr_log_info("no writable /dev/full here: not checked");
        return;
    }
    char *dir = make_temp_dir();
    const char *commands[] = {"plan '%s' --json", "validate '%s'", "--help"};
    for (int i = 0; i < 3; i++) {
        char args[4300], command[8192];
        snprintf(args, sizeof args, commands[i], cap_test_path("scenarios/teach-power.yaml"));
        snprintf(command, sizeof command, "'%s' %s > /dev/full 2> '%s/err'", CAPPLAN_BINARY, args,
                 dir);
        int raw = system(command);
        cr_assert(WIFEXITED(raw) && WEXITSTATUS(raw) == 1, "capplan %s: exit %d", args,
                  WIFEXITED(raw) ? WEXITSTATUS(raw) : -1);
        char err[4300];
        snprintf(err, sizeof err, "%s/err", dir);
        char *text = cap_test_read_file(err);
        cr_assert_not_null(text);
        cr_assert_not_null(strstr(text, "standard output: write failed"), "%s", text);
        free(text);
    }
    remove_tree(dir);
    free(dir);
}

/* ---- fuzzer regressions --------------------------------------------------------------- */

/* What tests/fuzz/fuzz_scenario.c does with one input. */
static void replay(const char *name, const char *data, size_t size)
{
    glp_term_out(GLP_OFF);
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *scenario = NULL;
    if (cap_scenario_load_buffer(name, data, size, &scenario, &diag) == CAP_OK) {
        cap_model *model = NULL;
        if (cap_model_build(scenario, false, &model, &diag) == CAP_OK) {
            cap_plan_options options;
            cap_plan_options_init(&options);
            options.threads = 1;
            options.time_limit_s = 1.0;
            cap_plan *plan = NULL;
            if (model->column_count <= 2000 &&
                cap_plan_solve(scenario, &options, &plan, &diag) == CAP_OK)
                cap_plan_free(plan);
            cap_model_free(model);
        }
        if (cap_model_build(scenario, true, &model, &diag) == CAP_OK)
            cap_model_free(model);
        cap_scenario_free(scenario);
    }
    cap_diag_free(&diag);
}

static char *read_whole(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    cr_assert_not_null(file, "cannot open %s", path);
    cr_assert_eq(fseek(file, 0, SEEK_END), 0);
    long length = ftell(file);
    rewind(file);
    char *bytes = malloc((size_t)length + 1);
    cr_assert_not_null(bytes);
    cr_assert_eq(fread(bytes, 1, (size_t)length, file), (size_t)length);
    fclose(file);
    *size = (size_t)length;
    return bytes;
}

Test(hostile, fuzz_regressions_replay, .timeout = 60)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", cap_test_path("tests/fuzz/regressions"));
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot list %s", dir);
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        char path[8400];
        snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        size_t size;
        char *bytes = read_whole(path, &size);
        replay(entry->d_name, bytes, size);
        free(bytes);
        count++;
    }
    closedir(d);
    cr_log_info("replayed %d fuzzer regressions", count);
    cr_assert_gt(count, 0, "no inputs in %s", dir);
}

/* ---- numbers that overflow in the model ----------------------------------------------- */

/* Every constraint family, one period, small enough to check by counting. */
static const char *const model_yaml =
    "version: 1\n"
    "name: overflow\n"
    "reference: H100\n"
    "periods:\n"
    "  - {id: p1, hours: 1000}\n"
    "accelerators:\n"
    "  - {id: H100, power_kw: 1.3}\n"
    "providers:\n"
    "  - {id: a, max_share: 0.7, commitment: 1000}\n"
    "  - {id: b, min_share: 0.1}\n"
    "regions:\n"
    "  - {id: ra, provider: a, geo: us, power_mw: 1}\n"
    "  - {id: rb, provider: b, geo: us}\n"
    "offerings:\n"
    "  - {id: a-od, region: ra, accelerator: H100, pricing: on_demand, price: 2, "
    "capacity: 100}\n"
    "  - {id: b-spot, region: rb, accelerator: H100, pricing: spot, price: 1, capacity: 100}\n"
    "workloads:\n"
    "  - {id: w, kind: training, demand: 50, throughput: {H100: 1.0}, max_spot_share: 0.5, "
    "penalty: 10}\n"
    "budget: 1.0e9\n";

static cap_status build_status(const cap_scenario *s)
{
    cap_diag diag;
    cap_diag_init(&diag);
    cap_model *model = NULL;
    cap_status status = cap_model_build(s, false, &model, &diag);
    cr_assert((status == CAP_OK) == (model != NULL));
    if (status == CAP_ERR_INPUT)
        cr_assert(diag.count > 0 && strstr(diag.lines[0], "not finite"), "no message");
    cap_model_free(model);
    cap_diag_free(&diag);
    return status;
}

/* The model is streamed into GLPK row by row; what GLPK holds is what the builder counted,
 * and a coefficient, bound or cost that overflows (a sweep can scale a number past the
 * loader's limits) is refused with CAP_ERR_INPUT before GLPK sees it, wherever it sits. */
Test(hostile, model_numbers_that_overflow)
{
    glp_term_out(GLP_OFF);
    cap_scenario *s = cap_test_scenario(model_yaml);
    cap_diag diag;
    cap_diag_init(&diag);
    cap_model *model = NULL;
    cr_assert_eq(cap_model_build(s, false, &model, &diag), CAP_OK);
    /* demand 2+1, capacity 2, max and min share 2+2, power 1, spot 1, commitment 1+1,
     * budget 2 + unmet 1 + top-up 1 */
    cr_assert_eq(model->nonzeros, 17);
    cr_assert_eq(glp_get_num_nz(model->lp), 17);
    cr_assert_eq(glp_get_num_rows(model->lp), model->row_count);
    cr_assert_eq(glp_get_num_cols(model->lp), model->column_count);
    cap_model_free(model);
    cap_diag_free(&diag);

    double saved = s->workloads[0].demand[0];
    s->workloads[0].demand[0] = 1e308 * 10.0; /* a row bound */
    cr_assert_eq(build_status(s), CAP_ERR_INPUT);
    s->workloads[0].demand[0] = saved;

    saved = s->accelerators[0].power_kw;
    s->accelerators[0].power_kw = 1e308 * 10.0; /* a power row coefficient */
    cr_assert_eq(build_status(s), CAP_ERR_INPUT);
    s->accelerators[0].power_kw = saved;

    saved = s->offerings[1].price[0];
    s->offerings[1].price[0] = 1e306; /* price * hours: a cost and budget coefficient */
    cr_assert_eq(build_status(s), CAP_ERR_INPUT);
    s->offerings[1].price[0] = saved;

    cr_assert_eq(build_status(s), CAP_OK);
    cap_scenario_free(s);
}

/* generate writes only scenarios the loader takes back: over its workload limit the option
 * is refused, sizes past 2^27 plan entries are refused before anything is generated
 * (2048 x 100 x 1000 = 204,800,000), and sizes that together make too many YAML nodes exit
 * 2; none writes anything. */
Test(hostile, generate_stays_within_what_loads)
{
    char *dir = make_temp_dir();
    const char *sizes[] = {"--workloads 2049", "--workloads 2048 --periods 1000 --offerings 100",
                           "--workloads 2048 --periods 1000 --offerings 60"};
    const char *said[] = {"[1, 2048]", "204800000 plan entries", "too large to load"};
    for (int i = 0; i < 3; i++) {
        char args[8192], *output = NULL, out[4200];
        snprintf(out, sizeof out, "%s/g.yaml", dir);
        snprintf(args, sizeof args, "generate %s --out '%s'", sizes[i], out);
        int code = cap_test_run(args, &output, NULL, 0);
        cr_assert_eq(code, 2, "%s: exit %d: %s", sizes[i], code, output ? output : "");
        cr_assert_not_null(strstr(output, said[i]), "%s", output);
        cr_assert_eq(access(out, F_OK), -1, "%s: wrote a scenario", sizes[i]);
        free(output);
    }
    remove_tree(dir);
    free(dir);
}

/* A --out that is a file fails before the run, not after it: with 1e9 samples on the CPU the
 * run would take minutes, past this suite's time limit. */
Test(hostile, simulate_out_that_is_a_file_fails_first)
{
    char *dir = make_temp_dir();
    write_in(dir, "file", "not a folder\n");
    char args[8192], *output = NULL;
    snprintf(args, sizeof args, "simulate '%s' --samples 1e9 --backend cpu --out '%s/file' -q",
             cap_test_path("scenarios/openai-multicloud-2026.yaml"), dir);
    int code = cap_test_run(args, &output, NULL, 0);
    cr_assert_eq(code, 2, "exit %d: %s", code, output ? output : "");
    cr_assert_not_null(strstr(output, "not a folder"), "%s", output);
    free(output);
    remove_tree(dir);
    free(dir);
}

/* T periods, W workloads and O offerings, every workload allowed on every offering: a model
 * of about T * W * O columns from a file of a few kilobytes. */
static void write_shape(const char *dir, const char *name, int T, int W, int O)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "wb");
    cr_assert_not_null(file, "cannot create %s", path);
    fputs("version: 1\nperiods:\n", file);
    for (int t = 0; t < T; t++)
        fprintf(file, "  - {id: P%d, hours: 1}\n", t);
    fputs("accelerators: [{id: H100}]\nproviders: [{id: p}]\n"
          "regions: [{id: r, provider: p, geo: us}]\nofferings:\n",
          file);
    for (int o = 0; o < O; o++)
        fprintf(file,
                "  - {id: o%d, region: r, accelerator: H100, pricing: reserved, price: %d, "
                "capacity: 100}\n",
                o, o + 1);
    fputs("workloads:\n", file);
    for (int w = 0; w < W; w++)
        fprintf(file, "  - {id: w%d, demand: 50, penalty: 1000, throughput: {H100: 1}}\n", w);
    cr_assert_eq(fclose(file), 0);
}

/* Valid scenarios whose models are too large: past GLPK's column limit (it aborted the
 * process in glp_add_cols: exit 134), refused as input (exit 2) before anything is built;
 * and, under the 4 GB limit these tests run with, one that needs some 4.3 GB (GLPK's
 * glp_alloc aborted, or the kernel killed a larger one), refused as a runtime limit (exit
 * 1) with the memory it needs. Neither writes anything. */
Test(hostile, models_too_large_are_refused)
{
    char *dir = make_temp_dir();
    write_shape(dir, "wide.yaml", 1000, 2048, 65); /* 1.33e8 columns, under the loader's 2^27 */
    hostile_case c = {dir, "wide.yaml", 2, "wide.yaml", "past GLPK's limit", "wide.yaml"};
    check_run(&c, "plan", "plan wide.yaml --out out");
    check_run(&c, "simulate", "simulate wide.yaml --samples 100 --out out");
    cr_assert(folder_holds_only(dir, "wide.yaml"), "wrote into %s", dir);
#ifndef CAP_ASAN
    write_shape(dir, "deep.yaml", 100, 600, 120); /* 7.2e6 columns: about 4.3 GB */
    hostile_case d = {dir, "deep.yaml", 1, "deep.yaml", "GiB to solve", NULL};
    check_run(&d, "plan", "plan deep.yaml --quiet");
#endif
    remove_tree(dir);
    free(dir);
}

/* validate takes files only: an option (a typo, or --out from another command) is refused,
 * not read as a file named "--bogus". */
Test(hostile, validate_refuses_options)
{
    char *output = NULL;
    int code = cap_test_run("validate --bogus scenarios/x.yaml", &output, NULL, 0);
    cr_assert_eq(code, 2, "exit %d: %s", code, output ? output : "");
    cr_assert_not_null(strstr(output, "unknown option '--bogus'"), "%s", output);
    free(output);
}

/* A scenario with no workloads is valid and plans (nothing to buy), but there is no demand
 * to simulate: simulate and compare say so, naming the file, and exit 2 (the engine's own
 * "sizes W=0" message was all they printed). */
Test(hostile, simulate_without_workloads_exits_2)
{
    char *dir = make_temp_dir();
    write_in(dir, "empty.yaml",
             "version: 1\nperiods: [{id: P1, hours: 10}]\naccelerators: [{id: H100}]\n");
    hostile_case c = {dir, "empty.yaml", 0, NULL, NULL, NULL};
    check_run(&c, "plan", "plan empty.yaml --quiet");
    c.code = 2, c.where = "empty.yaml", c.keyword = "no workloads: nothing to simulate";
    check_run(&c, "simulate", "simulate empty.yaml --samples 100 --no-plots --out out");
    check_run(&c, "compare", "compare empty.yaml --mix H100 --samples 100");
    cr_assert(folder_holds_only(dir, "empty.yaml"), "simulate wrote into %s", dir);
    remove_tree(dir);
    free(dir);
}

/* --seed is read exactly: 2^53 + 1 went through a double and ran as 2^53, and 2^63 became
 * -2^63 in mc.json. Anything but digits up to 2^63 - 1 exits 2. */
Test(hostile, seed_is_read_exactly)
{
    char args[8192], *output = NULL;
    snprintf(args, sizeof args, "simulate '%s' --samples 100 --seed 9007199254740993 --json",
             cap_test_path("scenarios/teach-power.yaml"));
    int code = cap_test_run(args, &output, NULL, 0);
    cr_assert_eq(code, 0, "exit %d: %s", code, output ? output : "");
    cr_assert_not_null(strstr(output, "\"seed\": 9007199254740993,"), "%s", output);
    free(output);
    const char *seeds[] = {"9223372036854775808", "18446744073709551616", "-1", "1e3", "1.5", "x"};
    for (int i = 0; i < 6; i++) {
        snprintf(args, sizeof args, "simulate '%s' --samples 100 --seed %s",
                 cap_test_path("scenarios/teach-power.yaml"), seeds[i]);
        code = cap_test_run(args, &output, NULL, 0);
        cr_assert_eq(code, 2, "%s: exit %d: %s", seeds[i], code, output ? output : "");
        cr_assert_not_null(strstr(output, "--seed"), "%s", output);
        free(output);
    }
}

/* --demand-scale stays within 0..1000 (1e300 overflowed the costs to inf, null in mc.json). */
Test(hostile, demand_scale_out_of_range_exits_2)
{
    const char *ranges[] = {"1e300:1e301:1e299", "0.5:1001:100", "-1:1:1", "1:0.5:0.1"};
    for (int i = 0; i < 4; i++) {
        char args[8192], *output = NULL;
        snprintf(args, sizeof args, "simulate '%s' --demand-scale %s --samples 100",
                 cap_test_path("scenarios/teach-power.yaml"), ranges[i]);
        int code = cap_test_run(args, &output, NULL, 0);
        cr_assert_eq(code, 2, "%s: exit %d: %s", ranges[i], code, output ? output : "");
        cr_assert_not_null(strstr(output, "--demand-scale wants"), "%s", output);
        free(output);
    }
}
