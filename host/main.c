/* main.c: capplan's command line. Dispatches to the commands; the only place that exits.
 *
 * SIGINT/SIGTERM: while a run that polls cap_interrupted is going (the Monte Carlo engine,
 * a batch of plans), the first one sets the flag and the run stops cleanly at its next
 * chunk (after the scenarios being solved, for a batch); otherwise, or
 * at a second signal, any half-written output is removed and the program exits at once
 * with 128 + the signal number. Outputs are
 * written under temporary names and renamed, so an interrupted run leaves no partial file.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "lp.h"
#include "outfile.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"plan", cap_cmd_plan, "solve the planning LP/MIP of one or more scenarios"},
    {"simulate", cap_cmd_simulate, "Monte Carlo of a plan under uncertain demand and outages"},
    {"validate", cap_cmd_validate, "check scenarios and report every problem"},
    {"generate", cap_cmd_generate, "write a random valid scenario of a given size"},
    {"sensitivity", cap_cmd_sensitivity, "shadow prices, reduced costs, ranging and a tornado"},
    {"sweep", cap_cmd_sweep, "re-solve over a grid of parameter values (warm starts)"},
    {"compare", cap_cmd_compare, "plan and simulate each accelerator mix side by side"},
    {"devices", cap_cmd_devices, "list the backends found: CUDA devices, OpenMP threads"},
};

static void usage(FILE *out)
{
    fputs("usage: capplan COMMAND [ARGS...]\n"
          "capplan plans accelerator capacity across clouds, regions and pricing classes.\n\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fputs("\n`capplan COMMAND --help` describes a command. Exit codes: 0 success, 1 runtime\n"
          "failure, 2 bad usage or invalid scenario, 3 infeasible or unbounded model,\n"
          "4 requested backend unavailable.\n",
          out);
}

/* Transparent huge pages for `plan`, which builds big GLPK models (issue #5).
 *
 * GLPK keeps 56 bytes per non-zero in small pool blocks from malloc: 36 MB for the
 * generated 50x300x8 model, 0.7 GB for 200x1000x12, and as much again for the period
 * blocks of the warm start. Touching that memory for the first time was most of the model
 * build: on the development VM a fresh 4 KiB page costs about 11 us to fault in, so the
 * 50x300x8 build spent 0.10 of its 0.12 s in page faults and the 200x1000x12 one about
 * 2 of 2.5 s. Where the kernel gives huge pages only to memory that asks for them
 * (transparent_hugepage "madvise", the common default), glibc asks for them when its
 * tunable glibc.malloc.hugetlb=1 is set, which it reads only at program start. So `plan`
 * starts itself again once with the tunable added; same arguments, same process id.
 * The exec costs about 5 ms, so it is done only for scenario files of 32 KiB or more
 * (measured: a generated 10x50x4 scenario, 17 KiB, 33 ms plan, 5 ms slower; 30x150x6,
 * 57 KiB, 125 ms, 20 ms faster; 50x300x8 0.42 s -> 0.31 s).
 * Nothing changes where the tunable is already set, where huge pages are "always" or
 * "never", under valgrind or a sanitizer (their own malloc), or when the exec fails.
 * CAPPLAN_HUGEPAGES=0 turns it off. */
enum { HUGEPAGES_MIN_SCENARIO_BYTES = 32 * 1024 };

#if defined(__SANITIZE_ADDRESS__)
#define CAP_OWN_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define CAP_OWN_MALLOC 1
#endif
#endif

static bool hugepages_wanted(int argc, char **argv)
{
#if defined(__linux__) && defined(__GLIBC__) && !defined(CAP_OWN_MALLOC)
    if (strcmp(argv[1], "plan") != 0)
        return false;
    const char *off = getenv("CAPPLAN_HUGEPAGES");
    if (off && strcmp(off, "0") == 0)
        return false;
    const char *tunables = getenv("GLIBC_TUNABLES");
    if (tunables && strstr(tunables, "glibc.malloc.hugetlb"))
        return false; /* set by the user, or by this function before the exec */
    const char *preload = getenv("LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload"))
        return false;    /* valgrind: an exec would leave it */
    long long bytes = 0; /* of the arguments that are files: the scenarios */
    for (int i = 2; i < argc; i++) {
        struct stat info;
        if (stat(argv[i], &info) == 0 && S_ISREG(info.st_mode))
            bytes += (long long)info.st_size;
    }
    if (bytes < HUGEPAGES_MIN_SCENARIO_BYTES)
        return false;
    FILE *file = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!file)
        return false;
    char mode[128] = "";
    bool advised = fgets(mode, sizeof mode, file) && strstr(mode, "[madvise]");
    fclose(file);
    return advised;
#else
    (void)argc;
    (void)argv;
    return false;
#endif
}

static void hugepages_reexec(int argc, char **argv)
{
    if (!hugepages_wanted(argc, argv))
        return;
    const char *old = getenv("GLIBC_TUNABLES");
    static const char tunable[] = "glibc.malloc.hugetlb=1";
    char value[4096];
    int n = old && *old ? snprintf(value, sizeof value, "%s:%s", old, tunable)
                        : snprintf(value, sizeof value, "%s", tunable);
    if (n < 0 || (size_t)n >= sizeof value)
        return;
    char *saved = old ? strdup(old) : NULL;
    if (old && !saved)
        return;
    if (setenv("GLIBC_TUNABLES", value, 1) == 0) {
        fflush(NULL);
        execv("/proc/self/exe", argv);
        /* Still here: run as we are, with the environment as it was. */
        if (saved)
            setenv("GLIBC_TUNABLES", saved, 1);
        else
            unsetenv("GLIBC_TUNABLES");
    }
    free(saved);
}

static void on_signal(int signo)
{
    /* Only the Monte Carlo loop and a batch poll cap_interrupted; elsewhere (one GLPK solve)
     * stop now. */
    if (cap_interrupted || !cap_interrupt_polled) {
        if (!cap_outfile_cleanup_signal(signo))
            return; /* outputs being renamed into place: raised again when they are */
        static const char message[] = "\ncapplan: interrupted\n";
        ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
        (void)ignored;
        _exit(128 + signo);
    }
    cap_interrupted = signo;
    static const char message[] = "\ncapplan: stopping (a second Ctrl-C stops at once)\n";
    ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
    (void)ignored;
}

/* GLPK's internal error (cap_lp_set_fatal_hook): memory it could not get, a model past its
 * limits. Its own message, when its terminal output is on, is above; the run's outputs are
 * not published (their temporary files are removed) and the exit is a runtime failure. */
static void on_glpk_fatal(void)
{
    static const char message[] =
        "capplan: the LP solver (GLPK) stopped on an internal error, most often memory: the "
        "model is too large for this machine; nothing was written\n";
    while (!cap_outfile_cleanup_signal(0)) /* another thread renaming outputs: GLPK never */
        sched_yield();                     /* runs inside that section, so it ends */
    ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
    (void)ignored;
    _exit(1);
}

static void install_signal_handlers(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask); /* one handler at a time on a thread: SIGTERM waits for a
                                     SIGINT handler's clean-up, and the other way round */
    sigaddset(&action.sa_mask, SIGINT);
    sigaddset(&action.sa_mask, SIGTERM);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
}

/* A table or JSON that could not be written (a full disk, a closed pipe) is a failure. */
static int stdout_checked(int code)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "capplan: standard output: write failed: %s\n",
                errno ? strerror(errno) : "error");
        return code == 0 ? 1 : code;
    }
    return code;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return stdout_checked(0);
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("capplan 0.1.0\n");
        return stdout_checked(0);
    }
    hugepages_reexec(argc, argv);
    install_signal_handlers();
    cap_lp_set_fatal_hook(on_glpk_fatal);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return stdout_checked(commands[i].run(argc - 1, argv + 1));
    fprintf(stderr, "capplan: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
