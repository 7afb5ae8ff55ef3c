/* main.c: capplan's command line. Dispatches to the commands; the only place that exits.
 *
 * SIGINT/SIGTERM: while a run that polls cap_interrupted is going (the Monte Carlo engine),
 * the first one sets the flag and the run stops cleanly at its next chunk; otherwise, or
 * at a second signal, any half-written output is removed and the program exits at once
 * with 128 + the signal number. Outputs are
 * written under temporary names and renamed, so an interrupted run leaves no partial file.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
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

static void on_signal(int signo)
{
    /* Only the Monte Carlo loop polls cap_interrupted; elsewhere (a GLPK solve) stop now. */
    if (cap_interrupted || !cap_interrupt_polled) {
        cap_outfile_cleanup_signal();
        static const char message[] = "\ncapplan: interrupted\n";
        ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
        (void)ignored;
        _exit(128 + signo);
    }
    cap_interrupted = signo;
}

static void install_signal_handlers(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
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
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("capplan 0.1.0\n");
        return 0;
    }
    install_signal_handlers();
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "capplan: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
