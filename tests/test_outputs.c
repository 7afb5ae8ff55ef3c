/* test_outputs.c: outputs appear whole or not at all, and only inside --out (SPEC §5, §6).
 *
 * Runs the real binary as a child process and interrupts it: kill -9 mid-run and at many
 * moments of a run's writes (a final file is then absent or complete; kill -9 can leave a
 * hidden ".NAME.tmp-XXXXXX" file, since nothing runs after SIGKILL, but never a partial
 * final file), SIGINT and SIGTERM (a clean stop within a chunk, exit 128 + signal, a
 * message, and no file at all, temporary or not), and a killed re-run over an existing
 * result (the old result stays, byte for byte). Then a batch and a simulation whose
 * scenario names and file names try to climb out of --out ("../", "/", dot files, a gnuplot
 * quote), after which every file under the temporary root is listed: all lie in --out.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"
#include "plot.h"
#include "report.h"
#include "support.h"

#define SCENARIO "scenarios/openai-multicloud-2026.yaml"

#if defined(__SANITIZE_ADDRESS__)
#define SLOWDOWN 4.0 /* sanitizer builds run several times slower */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOWDOWN 4.0
#endif
#endif
#ifndef SLOWDOWN
#define SLOWDOWN 1.0
#endif

TestSuite(outputs, .timeout = 180);

/* ---- child processes ------------------------------------------------------------------ */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_seconds(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Starts `capplan ARGV...` (argv[0] is ignored) in `cwd`, output into cwd/../NAME.log. */
static pid_t spawn(const char *cwd, const char *log_path, char *const argv[])
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork failed");
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || chdir(cwd) != 0)
            _exit(126);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execv(CAPPLAN_BINARY, argv);
        _exit(127);
    }
    return pid;
}

/* Waits at most `seconds` for the child; -1 when it had to be killed, else its wait status. */
static int wait_for(pid_t pid, double seconds)
{
    double deadline = now_seconds() + seconds;
    int status;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (now_seconds() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        sleep_seconds(0.01);
    }
    return status;
}

static int exit_code(int status)
{
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs to completion (at most 120 s) and returns the exit code. */
static int run_to_end(const char *cwd, const char *log_path, char *const argv[])
{
    return exit_code(wait_for(spawn(cwd, log_path, argv), 120.0 * SLOWDOWN));
}

/* ---- files ---------------------------------------------------------------------------- */

typedef struct {
    char root[256];
    char work[300]; /* the commands' working folder */
    char log[300];  /* their output, outside every --out */
} sandbox;

static void sandbox_open(sandbox *box)
{
    char template[] = "/tmp/capplan-outputs-XXXXXX";
    cr_assert_not_null(mkdtemp(template));
    snprintf(box->root, sizeof box->root, "%s", template);
    snprintf(box->work, sizeof box->work, "%s/work", box->root);
    snprintf(box->log, sizeof box->log, "%s/run.log", box->root);
    cr_assert_eq(mkdir(box->work, 0755), 0);
}

static void sandbox_close(sandbox *box)
{
    char command[700];
    snprintf(command, sizeof command, "rm -rf '%s'", box->root);
    cr_assert_eq(system(command), 0);
}

static bool is_hidden_temp(const char *name)
{
    return name[0] == '.' && strstr(name, ".tmp-") != NULL;
}

static bool json_file_valid(const char *path)
{
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    if (!root)
        cr_log_error("%s: %s (line %d)", path, error.text, error.line);
    json_decref(root);
    return root != NULL;
}

/* Calls visit(path, name) for every file under dir (recursively); returns how many. */
static int walk(const char *dir, void (*visit)(const char *path, const char *name, void *user),
                void *user)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        char path[4096];
        int length = snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        cr_assert_lt(length, (int)sizeof path, "path too long under %s", dir);
        struct stat st;
        cr_assert_eq(lstat(path, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            count += walk(path, visit, user);
        } else {
            visit(path, entry->d_name, user);
            count++;
        }
    }
    closedir(d);
    return count;
}

static char *read_or_null(const char *path)
{
    return access(path, F_OK) == 0 ? cap_test_read_file(path) : NULL;
}

/* ---- kill -9 -------------------------------------------------------------------------- */

/* After kill -9: final files are complete JSON; anything else is a hidden temporary file. */
static void check_after_kill(const char *path, const char *name, void *user)
{
    (void)user;
    if (is_hidden_temp(name))
        return;
    cr_assert_str_eq(name, "mc.json", "unexpected file after kill -9: %s", path);
    cr_assert(json_file_valid(path), "%s is not complete JSON", path);
}

Test(outputs, kill_9_mid_simulate_leaves_no_partial_file)
{
    sandbox box;
    sandbox_open(&box);
    char *argv[] = {"capplan",   "simulate",   (char *)cap_test_path(SCENARIO),
                    "--samples", "1e9",        "--backend",
                    "cpu",       "--no-plots", "--quiet",
                    "--out",     "out",        NULL};
    pid_t pid = spawn(box.work, box.log, argv);
    sleep_seconds(1.0 * SLOWDOWN);
    cr_assert_eq(kill(pid, SIGKILL), 0);
    cr_assert_eq(wait_for(pid, 10.0), SIGKILL, "the run was not killed by SIGKILL");
    walk(box.work, check_after_kill, NULL);
    sandbox_close(&box);
}

typedef struct {
    const char *reference_csv; /* plan.csv of a complete run */
} plan_reference;

static void check_plan_files(const char *path, const char *name, void *user)
{
    const plan_reference *ref = user;
    if (is_hidden_temp(name))
        return;
    if (strcmp(name, "summary.json") == 0) {
        cr_assert(json_file_valid(path), "partial %s", path);
        return;
    }
    cr_assert_str_eq(name, "plan.csv", "unexpected file %s", path);
    char *text = cap_test_read_file(path);
    cr_assert_not_null(text);
    cr_assert_str_eq(text, ref->reference_csv, "partial or different %s", path);
    free(text);
}

/* kill -9 at a spread of moments over a whole `plan --out`, writes included. */
Test(outputs, kill_9_at_many_moments_of_a_plan)
{
    sandbox box;
    sandbox_open(&box);
    char *argv[] = {"capplan",   "plan", (char *)cap_test_path(SCENARIO), "--quiet", "--out",
                    "reference", NULL};
    double start = now_seconds();
    cr_assert_eq(run_to_end(box.work, box.log, argv), 0);
    double length = now_seconds() - start;
    char path[512];
    snprintf(path, sizeof path, "%s/reference/plan.csv", box.work);
    plan_reference ref = {cap_test_read_file(path)};
    cr_assert_not_null(ref.reference_csv);
    argv[5] = "out";
    for (int i = 0; i < 12; i++) {
        pid_t pid = spawn(box.work, box.log, argv);
        sleep_seconds(length * (0.5 + 0.05 * i));
        kill(pid, SIGKILL);
        wait_for(pid, 10.0);
        snprintf(path, sizeof path, "%s/out", box.work);
        walk(path, check_plan_files, &ref);
    }
    free((char *)ref.reference_csv);
    sandbox_close(&box);
}

/* ---- SIGINT and SIGTERM --------------------------------------------------------------- */

static void refuse_any_file(const char *path, const char *name, void *user)
{
    (void)name;
    (void)user;
    cr_assert_fail("a file was left behind: %s", path);
}

static void check_clean_stop(int signo)
{
    sandbox box;
    sandbox_open(&box);
    char *argv[] = {"capplan",   "simulate",   (char *)cap_test_path(SCENARIO),
                    "--samples", "1e9",        "--backend",
                    "cpu",       "--no-plots", "--quiet",
                    "--out",     "out",        NULL};
    pid_t pid = spawn(box.work, box.log, argv);
    sleep_seconds(1.0 * SLOWDOWN);
    cr_assert_eq(kill(pid, signo), 0);
    double sent = now_seconds();
    int status = wait_for(pid, 30.0 * SLOWDOWN);
    double stop = now_seconds() - sent;
    cr_assert_neq(status, -1, "the run did not stop within %.0f s", 30.0 * SLOWDOWN);
    cr_assert(WIFEXITED(status), "the run died on signal %d instead of stopping cleanly",
              WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    cr_assert_eq(WEXITSTATUS(status), 128 + signo);
    cr_assert_lt(stop, 5.0 * SLOWDOWN, "stopping took %.1f s", stop);
    char *log = cap_test_read_file(box.log);
    cr_assert(log && strstr(log, "interrupted"), "no message: %s", log ? log : "");
    free(log);
    cr_assert_eq(walk(box.work, refuse_any_file, NULL), 0);
    cr_log_info("signal %d: stopped in %.2f s", signo, stop);
    sandbox_close(&box);
}

Test(outputs, sigint_stops_a_long_simulate_cleanly)
{
    check_clean_stop(SIGINT);
}

Test(outputs, sigterm_stops_a_long_simulate_cleanly)
{
    check_clean_stop(SIGTERM);
}

/* ---- an existing result is replaced only by a complete one ---------------------------- */

static void check_survivor(const char *path, const char *name, void *user)
{
    (void)path;
    (void)user;
    static const char *const kept[] = {"mc.json", "cost_hist.csv", "shortfall.dat"};
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
        if (strcmp(name, kept[i]) == 0)
            return;
    cr_assert(is_hidden_temp(name), "unexpected file %s", path);
}

static void check_rerun_keeps_result(int signo)
{
    sandbox box;
    sandbox_open(&box);
    char *first[] = {"capplan",   "simulate",   (char *)cap_test_path(SCENARIO),
                     "--samples", "4096",       "--backend",
                     "cpu",       "--no-plots", "--quiet",
                     "--out",     "out",        NULL};
    cr_assert_eq(run_to_end(box.work, box.log, first), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/out/mc.json", box.work);
    char *before = cap_test_read_file(path);
    cr_assert_not_null(before);
    char *second[] = {"capplan",   "simulate",   (char *)cap_test_path(SCENARIO),
                      "--samples", "1e9",        "--backend",
                      "cpu",       "--no-plots", "--quiet",
                      "--out",     "out",        NULL};
    pid_t pid = spawn(box.work, box.log, second);
    sleep_seconds(1.0 * SLOWDOWN);
    kill(pid, signo);
    cr_assert_neq(wait_for(pid, 30.0 * SLOWDOWN), -1);
    char *after = read_or_null(path);
    cr_assert_not_null(after, "the first result was removed");
    cr_assert_str_eq(after, before, "the first result changed");
    cr_assert(json_file_valid(path));
    snprintf(path, sizeof path, "%s/out", box.work);
    walk(path, check_survivor, NULL);
    free(before);
    free(after);
    sandbox_close(&box);
}

Test(outputs, killed_rerun_keeps_the_first_result)
{
    check_rerun_keeps_result(SIGKILL);
}

Test(outputs, interrupted_rerun_keeps_the_first_result)
{
    check_rerun_keeps_result(SIGINT);
}

/* ---- nothing outside --out ------------------------------------------------------------ */

static const char scenario_text[] =
    "version: 1\n"
    "name: %s\n"
    "periods: [{id: q1, hours: 100}, {id: q2, hours: 100}]\n"
    "accelerators: [{id: H100}]\n"
    "providers: [{id: p}]\n"
    "regions: [{id: r, provider: p, geo: us}]\n"
    "offerings:\n"
    "  - {id: o, region: r, accelerator: H100, pricing: on_demand, price: 1, capacity: 100}\n"
    "workloads:\n"
    "  - {id: %s, demand: 50, throughput: {H100: 1}, penalty: 5, sigma: 0.2}\n";

static void write_scenario(const char *dir, const char *file, const char *name,
                           const char *workload)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *out = fopen(path, "w");
    cr_assert_not_null(out, "cannot create %s", path);
    fprintf(out, scenario_text, name, workload);
    cr_assert_eq(fclose(out), 0);
}

typedef struct {
    const char *work;
    int outputs;
} escape_check;

/* Every file under the sandbox is an input (work/in), a log, or lies in work/out*. */
static void check_inside(const char *path, const char *name, void *user)
{
    escape_check *check = user;
    (void)name;
    char inputs[512], outputs[512];
    snprintf(inputs, sizeof inputs, "%s/in/", check->work);
    snprintf(outputs, sizeof outputs, "%s/out", check->work);
    if (strncmp(path, inputs, strlen(inputs)) == 0 || strstr(path, "/run.log"))
        return;
    cr_assert(strncmp(path, outputs, strlen(outputs)) == 0, "written outside --out: %s", path);
    cr_assert_null(strstr(path, "PWNED"), "a plot script ran a command: %s", path);
    check->outputs++;
}

Test(outputs, nothing_is_written_outside_out)
{
    sandbox box;
    sandbox_open(&box);
    char in[400];
    snprintf(in, sizeof in, "%s/in", box.work);
    cr_assert_eq(mkdir(in, 0755), 0);
    /* Scenario names are data, never paths; batch folders come from file stems. */
    write_scenario(in, "..yaml", "'../../../escape'", "w");
    write_scenario(in, "...yaml", "'/tmp/capplan-escape'", "w");
    write_scenario(in, ".yaml", "'..'", "w");
    write_scenario(in, "a b.yaml", "'a/../../b'", "w");
    write_scenario(in, "x.y.yaml", "'.'", "w");
    /* A workload id that would end a gnuplot string and run a command. */
    write_scenario(in, "quote.yaml", "'../quote'", "\"x'; system('touch ../../../PWNED'); y='\"");
    char *plan[] = {"capplan",  "plan",        "in/..yaml",   "in/...yaml",
                    "in/.yaml", "in/a b.yaml", "in/x.y.yaml", "in/quote.yaml",
                    "--quiet",  "--out",       "out/batch",   NULL};
    cr_assert_eq(run_to_end(box.work, box.log, plan), 0);
    char *single[] = {"capplan", "plan", "in/..yaml", "--quiet", "--out", "out/single", NULL};
    cr_assert_eq(run_to_end(box.work, box.log, single), 0);
    char *simulate[] = {
        "capplan",   "simulate", "in/quote.yaml", "--samples", "4096", "--demand-scale",
        "1:1.2:0.1", "--quiet",  "--out",         "out/sim",   NULL};
    cr_assert_eq(run_to_end(box.work, box.log, simulate), 0);
    escape_check check = {box.work, 0};
    walk(box.root, check_inside, &check);
    cr_assert_eq(access("/tmp/capplan-escape", F_OK), -1);
    /* 6 folders of plan.csv + summary.json, batch_summary.csv, the single plan, and the
     * simulation's data (plots too when gnuplot is there). */
    cr_assert_geq(check.outputs, 6 * 2 + 1 + 2 + 4, "only %d outputs", check.outputs);
    if (!cap_plot_available())
        cr_log_info("gnuplot not found: the plot-script quoting was not exercised");
    sandbox_close(&box);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *out = fopen(path, "w");
    cr_assert_not_null(out, "cannot create %s", path);
    fputs(text, out);
    cr_assert_eq(fclose(out), 0);
}

/* Hard demand 500 H100e against capacity 100: infeasible. */
static const char hard_yaml[] =
    "version: 1\nname: hard\nperiods: [{id: q1, hours: 100}]\naccelerators: [{id: H100}]\n"
    "providers: [{id: p}]\nregions: [{id: r, provider: p, geo: us}]\n"
    "offerings:\n  - {id: o, region: r, accelerator: H100, pricing: on_demand, price: 1, "
    "capacity: 100}\n"
    "workloads:\n  - {id: w, demand: 500, throughput: {H100: 1}}\n";

/* A batch's summary row for a scenario with no plan leaves the cost cells empty (zeros would
 * read as a free plan). ok.yaml: demand 50 H100e on an offering at 1 USD/h, 2 periods of 100
 * h: 1 * 100 * 50 * 2 = 10,000 USD. hard.yaml: hard demand 500 H100e against capacity 100,
 * infeasible (exit 3, the batch's worst). */
Test(outputs, batch_summary_leaves_costs_of_unplanned_scenarios_empty)
{
    sandbox box;
    sandbox_open(&box);
    write_scenario(box.work, "ok.yaml", "ok", "w");
    write_text(box.work, "hard.yaml", hard_yaml);
    char *plan[] = {"capplan", "plan", "ok.yaml", "hard.yaml", "--quiet", "--out", "batch", NULL};
    cr_assert_eq(run_to_end(box.work, box.log, plan), 3);
    char csv_path[400];
    snprintf(csv_path, sizeof csv_path, "%s/batch/batch_summary.csv", box.work);
    char *csv = cap_test_read_file(csv_path);
    cr_assert_not_null(csv);
    cr_assert_not_null(strstr(csv, "\nok.yaml,ok,optimal,0,10000,10000,0,0,0,"), "%s", csv);
    cr_assert_not_null(strstr(csv, "\nhard.yaml,hard,infeasible,3,,,,,,"), "%s", csv);
    free(csv);
    sandbox_close(&box);
}

/* ---- a reused --out holds one run's outputs ------------------------------------------ */

static bool exists(const char *dir, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static char *read_in(const char *dir, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return read_or_null(path);
}

/* The names in dir that start with '.', other than "." and "..": a staging folder or a
 * temporary file left behind. */
static int hidden_entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot list %s", dir);
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL)
        if (entry->d_name[0] == '.' && strcmp(entry->d_name, ".") != 0 &&
            strcmp(entry->d_name, "..") != 0)
            count++;
    closedir(d);
    return count;
}

/* A batch stopped by SIGINT: the scenario being solved finishes and is written whole, no
 * other starts, batch_summary.csv lists every scenario (the ones not run as interrupted,
 * exit 130, with no folder), and the batch exits 130. */
Test(outputs, interrupted_batch_writes_its_summary)
{
    sandbox box;
    sandbox_open(&box);
    enum { COUNT = 16 };
    char *plan[COUNT + 8] = {"capplan", "plan", "--threads", "1", "--quiet", "--out", "out"};
    char names[COUNT][16];
    for (int i = 0; i < COUNT; i++) {
        snprintf(names[i], sizeof names[i], "g%02d.yaml", i);
        char seed[16];
        snprintf(seed, sizeof seed, "%d", i + 1);
        char *generate[] = {"capplan", "generate",  "--workloads", "30",     "--offerings",
                            "200",     "--periods", "8",           "--seed", seed,
                            "--out",   names[i],    NULL};
        cr_assert_eq(run_to_end(box.work, box.log, generate), 0);
        plan[7 + i] = names[i];
    }
    pid_t pid = spawn(box.work, box.log, plan);
    char first[512];
    snprintf(first, sizeof first, "%s/out/g00/plan.csv", box.work);
    double deadline = now_seconds() + 60.0 * SLOWDOWN;
    while (access(first, F_OK) != 0 && now_seconds() < deadline)
        sleep_seconds(0.002);
    cr_assert_eq(kill(pid, SIGINT), 0);
    int status = wait_for(pid, 60.0 * SLOWDOWN);
    cr_assert_eq(exit_code(status), 130, "status %d", status);
    char out[400];
    snprintf(out, sizeof out, "%s/out", box.work);
    char *summary = read_in(out, "batch_summary.csv");
    cr_assert_not_null(summary, "no batch_summary.csv");
    int planned = 0, interrupted = 0;
    for (char *line = strchr(summary, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        char name[16], status_text[32];
        int code = -1;
        cr_assert_eq(sscanf(line + 1, "%15[^,],%*[^,],%31[^,],%d", name, status_text, &code), 3,
                     "%s", line + 1);
        char folder[16];
        snprintf(folder, sizeof folder, "%.3s", name);
        char plan_csv[64];
        snprintf(plan_csv, sizeof plan_csv, "%s/plan.csv", folder);
        if (strcmp(status_text, "interrupted") == 0) {
            interrupted++;
            cr_expect_eq(code, 130);
            cr_expect(!exists(out, folder), "%s was not run but has a folder", name);
        } else {
            planned++;
            cr_expect_str_eq(status_text, "optimal");
            cr_expect(exists(out, plan_csv), "%s has no plan.csv", name);
            char inside[500];
            snprintf(inside, sizeof inside, "%s/%s", out, folder);
            cr_expect_eq(hidden_entries(inside), 0, "a staging or temporary file in %s", inside);
        }
    }
    cr_expect_eq(planned + interrupted, COUNT);
    cr_expect_geq(planned, 1);
    cr_expect_geq(interrupted, 1, "the batch ended before the signal: nothing to check");
    free(summary);
    char *log = cap_test_read_file(box.log);
    cr_expect(log && strstr(log, "interrupted:"), "%s", log ? log : "");
    free(log);
    cr_assert_eq(hidden_entries(out), 0, "a staging folder or temporary file is left");
    sandbox_close(&box);
}

/* A simulation with a demand sweep, then one without a sweep or plots into the same --out:
 * the sweep's table and every plot of the first run go (they would read as the second's),
 * a file of the user's stays. */
Test(outputs, rerun_removes_what_it_did_not_write)
{
    sandbox box;
    sandbox_open(&box);
    write_scenario(box.work, "s.yaml", "s", "w");
    char out[400];
    snprintf(out, sizeof out, "%s/out", box.work);
    char *first[] = {"capplan",   "simulate", "s.yaml", "--samples", "4096", "--demand-scale",
                     "1:1.2:0.1", "--quiet",  "--out",  "out",       NULL};
    cr_assert_eq(run_to_end(box.work, box.log, first), 0);
    cr_assert(exists(out, "sweep.csv"));
    if (cap_plot_available())
        cr_assert(exists(out, "sweep.png") && exists(out, "cost_hist.png"));
    write_text(out, "notes.txt", "mine\n");
    char *second[] = {"capplan", "simulate", "s.yaml", "--samples",  "4096",
                      "--quiet", "--out",    "out",    "--no-plots", NULL};
    cr_assert_eq(run_to_end(box.work, box.log, second), 0);
    static const char *const gone[] = {"sweep.csv",    "sweep.gp",      "sweep.png",
                                       "cost_hist.gp", "cost_hist.png", "shortfall.gp",
                                       "shortfall.png"};
    for (size_t i = 0; i < sizeof gone / sizeof *gone; i++)
        cr_assert(!exists(out, gone[i]), "%s of the first run is still there", gone[i]);
    static const char *const kept[] = {"mc.json", "cost_hist.csv", "shortfall.dat", "notes.txt"};
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
        cr_assert(exists(out, kept[i]), "%s is missing", kept[i]);
    cr_assert_eq(hidden_entries(out), 0, "a staging folder or temporary file is left");
    sandbox_close(&box);
}

/* write_scenario's scenario with workload `workload`, simulated over the demand scales
 * `scales` into box/work/out (no plots); asserts it exits 0. */
static void simulate_sweep(const sandbox *box, const char *workload, char *scales)
{
    write_scenario(box->work, "s.yaml", "s", workload);
    char *args[] = {"capplan", "simulate", "s.yaml",     "--samples", "4096", "--demand-scale",
                    scales,    "--quiet",  "--no-plots", "--out",     "out",  NULL};
    cr_assert_eq(run_to_end(box->work, box->log, args), 0);
}

/* --demand-scale 0.1:1.3:0.3 reaches 1 (0.1 + 3 * 0.3 is 0.9999999999999999 in binary):
 * mc.json's headline statistics are the 1.0 run's, and every scale is the decimal written. */
Test(outputs, demand_sweep_scales_are_the_values_written)
{
    sandbox box;
    sandbox_open(&box);
    simulate_sweep(&box, "w", "0.1:1.3:0.3");
    char path[400];
    snprintf(path, sizeof path, "%s/out/mc.json", box.work);
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    cr_assert_not_null(root, "%s: %s", path, error.text);
    cr_expect_eq(json_number_value(json_object_get(root, "scale")), 1.0);
    json_t *sweep = json_object_get(root, "sweep");
    static const char *const written[] = {"0.1", "0.4", "0.7", "1", "1.3"};
    cr_assert_eq(json_array_size(sweep), 5);
    for (size_t i = 0; i < 5; i++) {
        double scale = json_number_value(json_object_get(json_array_get(sweep, i), "scale"));
        cr_expect_eq(scale, strtod(written[i], NULL), "scale %zu: %.17g", i, scale);
    }
    json_decref(root);
    sandbox_close(&box);
}

/* Fields of one CSV line (RFC 4180: a quoted field may hold commas and doubled quotes). */
static int csv_fields(const char *line)
{
    int fields = 1;
    bool quoted = false;
    for (const char *c = line; *c && *c != '\n'; c++) {
        if (*c == '"')
            quoted = !quoted; /* a doubled quote toggles twice */
        else if (*c == ',' && !quoted)
            fields++;
    }
    return fields;
}

/* A workload id with a comma: sweep.csv's header and shortfall.dat quote it as plan.csv
 * does, so every line has as many fields as the header (the header had one more). */
Test(outputs, simulate_tables_quote_ids)
{
    sandbox box;
    sandbox_open(&box);
    simulate_sweep(&box, "'inf,er'", "0.9:1.1:0.1");
    char out[400];
    snprintf(out, sizeof out, "%s/out", box.work);
    char *sweep = read_in(out, "sweep.csv");
    cr_assert_not_null(sweep);
    cr_expect_not_null(strstr(sweep, ",\"p_shortfall_inf,er\"\n"), "%s", sweep);
    int columns = csv_fields(sweep), lines = 0;
    for (const char *line = strchr(sweep, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        cr_expect_eq(csv_fields(line + 1), columns, "%s", line + 1);
        lines++;
    }
    cr_expect_eq(lines, 3);
    free(sweep);
    char *shortfall = read_in(out, "shortfall.dat");
    cr_assert_not_null(shortfall);
    cr_expect_not_null(strstr(shortfall, "\n\"inf,er\","), "%s", shortfall);
    cr_expect_eq(csv_fields(strchr(shortfall, '\n') + 1), 3, "%s", shortfall);
    free(shortfall);
    sandbox_close(&box);
}

/* A plan, then an infeasible scenario planned into the same --out: exit 3, and summary.json
 * says infeasible with no plan.csv beside it (the first run's would read as this one's). */
Test(outputs, infeasible_rerun_removes_the_earlier_plan)
{
    sandbox box;
    sandbox_open(&box);
    write_scenario(box.work, "ok.yaml", "ok", "w");
    write_text(box.work, "hard.yaml", hard_yaml);
    char out[400];
    snprintf(out, sizeof out, "%s/out", box.work);
    char *first[] = {"capplan", "plan", "ok.yaml", "--quiet", "--out", "out", NULL};
    cr_assert_eq(run_to_end(box.work, box.log, first), 0);
    cr_assert(exists(out, "plan.csv"));
    char *second[] = {"capplan", "plan", "hard.yaml", "--quiet", "--out", "out", NULL};
    cr_assert_eq(run_to_end(box.work, box.log, second), 3);
    cr_assert(!exists(out, "plan.csv"), "the feasible run's plan.csv is still there");
    char *summary = read_in(out, "summary.json");
    cr_assert_not_null(summary);
    cr_assert_not_null(strstr(summary, "\"status\": \"infeasible\""), "%s", summary);
    free(summary);
    /* sensitivity: the tables of the feasible run go with it */
    char *sens_ok[] = {"capplan",    "sensitivity", "ok.yaml", "--quiet",
                       "--no-plots", "--out",       "sens",    NULL};
    cr_assert_eq(run_to_end(box.work, box.log, sens_ok), 0);
    snprintf(out, sizeof out, "%s/sens", box.work);
    cr_assert(exists(out, "price_ranges.csv") && exists(out, "reduced_costs.csv"));
    char *sens_hard[] = {"capplan",    "sensitivity", "hard.yaml", "--quiet",
                         "--no-plots", "--out",       "sens",      NULL};
    cr_assert_eq(run_to_end(box.work, box.log, sens_hard), 3);
    static const char *const gone[] = {"sensitivity.csv", "reduced_costs.csv", "price_ranges.csv"};
    for (size_t i = 0; i < sizeof gone / sizeof *gone; i++)
        cr_assert(!exists(out, gone[i]), "%s of the feasible run is still there", gone[i]);
    cr_assert(exists(out, "sensitivity.json"));
    sandbox_close(&box);
}

/* A batch writes its scenarios' folders from many threads at once: every folder gets its
 * plan.csv and summary.json (the tables of open files and sets are shared by the threads). */
Test(outputs, batch_on_many_threads_writes_every_folder)
{
    sandbox box;
    sandbox_open(&box);
    enum { SCENARIOS = 24 };
    char *argv[SCENARIOS + 8];
    char names[SCENARIOS][32];
    int argc = 0;
    argv[argc++] = "capplan";
    argv[argc++] = "plan";
    for (int i = 0; i < SCENARIOS; i++) {
        snprintf(names[i], sizeof names[i], "s%02d.yaml", i);
        write_scenario(box.work, names[i], names[i], "w");
        argv[argc++] = names[i];
    }
    argv[argc++] = "--threads";
    argv[argc++] = "24";
    argv[argc++] = "--quiet";
    argv[argc++] = "--out";
    argv[argc++] = "out";
    argv[argc] = NULL;
    cr_assert_eq(run_to_end(box.work, box.log, argv), 0);
    for (int i = 0; i < SCENARIOS; i++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/out/s%02d", box.work, i);
        cr_assert(exists(dir, "plan.csv") && exists(dir, "summary.json"), "%s is incomplete", dir);
        cr_assert_eq(hidden_entries(dir), 0, "%s: a staging folder is left", dir);
    }
    sandbox_close(&box);
}

/* An output name taken by a folder in --out: the rerun is refused (exit 2) before anything
 * in the folder changes, not after some of its files were replaced. */
Test(outputs, a_folder_in_the_way_changes_nothing)
{
    sandbox box;
    sandbox_open(&box);
    write_scenario(box.work, "s.yaml", "s", "w");
    char out[400];
    snprintf(out, sizeof out, "%s/out", box.work);
    char *first[] = {"capplan", "simulate",   "s.yaml",  "--samples", "4096", "--seed",
                     "1",       "--no-plots", "--quiet", "--out",     "out",  NULL};
    cr_assert_eq(run_to_end(box.work, box.log, first), 0);
    char *json = read_in(out, "mc.json"), *hist = read_in(out, "cost_hist.csv");
    char path[700];
    snprintf(path, sizeof path, "%s/shortfall.dat", out);
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(mkdir(path, 0755), 0);
    char *second[] = {"capplan", "simulate",   "s.yaml",  "--samples", "4096", "--seed",
                      "2",       "--no-plots", "--quiet", "--out",     "out",  NULL};
    cr_assert_eq(run_to_end(box.work, box.log, second), 2);
    char *json_after = read_in(out, "mc.json"), *hist_after = read_in(out, "cost_hist.csv");
    cr_assert_str_eq(json_after, json, "mc.json was replaced");
    cr_assert_str_eq(hist_after, hist, "cost_hist.csv was replaced");
    cr_assert_eq(hidden_entries(out), 0, "a staging folder is left");
    free(json);
    free(hist);
    free(json_after);
    free(hist_after);
    sandbox_close(&box);
}

/* --out naming a file, or a folder under a file, is bad usage (exit 2) for every command,
 * and nothing is created. */
Test(outputs, out_under_a_file_is_bad_usage)
{
    sandbox box;
    sandbox_open(&box);
    write_scenario(box.work, "s.yaml", "s", "w");
    write_text(box.work, "f", "a file\n");
    static const char *const outs[] = {"f", "f/sub", "f/sub/deeper"};
    for (size_t i = 0; i < sizeof outs / sizeof *outs; i++) {
        char *plan[] = {"capplan", "plan", "s.yaml", "--quiet", "--out", (char *)outs[i], NULL};
        cr_assert_eq(run_to_end(box.work, box.log, plan), 2, "plan --out %s", outs[i]);
        char *simulate[] = {"capplan", "simulate", "s.yaml",        "--samples", "64",
                            "--quiet", "--out",    (char *)outs[i], NULL};
        cr_assert_eq(run_to_end(box.work, box.log, simulate), 2, "simulate --out %s", outs[i]);
    }
    char *log = cap_test_read_file(box.log);
    cr_assert_not_null(strstr(log, "f/sub: cannot create folder: a part of the path is a file"),
                       "%s", log);
    free(log);
    char *text = read_in(box.work, "f");
    cr_assert_str_eq(text, "a file\n");
    free(text);
    sandbox_close(&box);
}

/* The set API itself: nothing in the folder changes before publish; a discarded set leaves
 * it as it was; a published one replaces its files, removes the owned names it did not
 * write, keeps others, and leaves no staging folder. */
Test(outputs, output_set_publishes_all_or_nothing)
{
    sandbox box;
    sandbox_open(&box);
    write_text(box.work, "a.csv", "old a\n");
    write_text(box.work, "c.csv", "old c\n");
    write_text(box.work, "keep.txt", "user\n");
    cap_diag diag;
    cap_diag_init(&diag);
    for (int round = 0; round < 2; round++) {
        cap_outset set;
        cr_assert_eq(cap_outset_begin(&set, box.work, &diag), CAP_OK);
        static const char *const names[] = {"a.csv", "b.csv"};
        for (int i = 0; i < 2; i++) {
            cap_outfile out;
            cr_assert_eq(cap_outset_open(&set, &out, names[i], &diag), CAP_OK);
            fprintf(out.file, "new %c\n", names[i][0]);
            cr_assert_eq(cap_outfile_commit(&out, &diag), CAP_OK);
        }
        char *a = read_in(box.work, "a.csv");
        cr_assert_str_eq(a, "old a\n", "a.csv changed before the set was published");
        free(a);
        cr_assert(!exists(box.work, "b.csv"));
        cr_assert_eq(hidden_entries(box.work), 1, "one staging folder while the set is open");
        if (round == 0) {
            cap_outset_discard(&set);
            a = read_in(box.work, "a.csv");
            cr_assert_str_eq(a, "old a\n");
            free(a);
            cr_assert(!exists(box.work, "b.csv"));
        } else {
            static const char *const owned[] = {"a.csv", "b.csv", "c.csv", NULL};
            cr_assert_eq(cap_outset_publish(&set, owned, &diag), CAP_OK);
            a = read_in(box.work, "a.csv");
            char *b = read_in(box.work, "b.csv"), *keep = read_in(box.work, "keep.txt");
            cr_assert_str_eq(a, "new a\n");
            cr_assert_str_eq(b, "new b\n");
            cr_assert_str_eq(keep, "user\n");
            free(a);
            free(b);
            free(keep);
            cr_assert(!exists(box.work, "c.csv"), "an owned name the set did not write stays");
        }
        cr_assert_eq(hidden_entries(box.work), 0, "the staging folder is left");
    }
    cr_assert_eq(diag.count, 0);
    cap_diag_free(&diag);
    sandbox_close(&box);
}

/* Text inside a single-quoted gnuplot string: quotes doubled, control characters '?', and
 * gnuplot itself reads it back as the original. */
Test(outputs, plot_text_survives_gnuplot_quoting)
{
    char buffer[64];
    cap_plot_text("it's a\nb\\c", buffer, sizeof buffer);
    cr_assert_str_eq(buffer, "it''s a?b\\c");
    /* No room for the second quote of a pair: the pair is left out whole. */
    cap_plot_text("ab'c", buffer, 4);
    cr_assert_str_eq(buffer, "ab");
    cap_plot_text("ab'c", buffer, 5);
    cr_assert_str_eq(buffer, "ab''");
    cap_plot_text("x", buffer, 1);
    cr_assert_str_eq(buffer, "");
    if (!cap_plot_available()) {
        cr_log_info("gnuplot not found: the quoted text was not read back by gnuplot");
        return;
    }
    cap_plot_text("x'; system('echo PWNED'); y='", buffer, sizeof buffer);
    char command[256];
    snprintf(command, sizeof command, "gnuplot -e \"print '%s'\" 2>&1", buffer);
    FILE *pipe = popen(command, "r");
    cr_assert_not_null(pipe);
    char line[256] = "";
    cr_assert_not_null(fgets(line, sizeof line, pipe));
    char rest[256];
    cr_assert_null(fgets(rest, sizeof rest, pipe), "gnuplot printed more: %s", rest);
    cr_assert_eq(pclose(pipe), 0);
    cr_assert_str_eq(line, "x'; system('echo PWNED'); y='\n");
}

/* Table amounts: B, M, K below 1e15 USD, then 4 significant digits with an exponent (a
 * fixed "%.3f B" of 3.76e45 overflowed its 32-byte buffer into a wrong number). */
Test(outputs, usd_amounts_of_any_size)
{
    char text[32];
    cap_format_usd(1.5e9, text, sizeof text);
    cr_assert_str_eq(text, "1.500 B");
    cap_format_usd(999999.9994e9, text, sizeof text);
    cr_assert_str_eq(text, "999999.999 B");
    cap_format_usd(3.76e45, text, sizeof text);
    cr_assert_str_eq(text, "3.76e+45");
    cap_format_usd(-2.5e300, text, sizeof text);
    cr_assert_str_eq(text, "-2.5e+300");
    cap_format_usd(12.5, text, sizeof text);
    cr_assert_str_eq(text, "12.50");
}
