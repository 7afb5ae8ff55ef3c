/* cli.h: the capplan commands. Each takes the arguments after its name (argv[0] is the
 * command name) and returns the process exit code (SPEC §6); only main() exits. */
#ifndef CAP_CLI_H
#define CAP_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "plan.h"

int cap_cmd_plan(int argc, char **argv);
int cap_cmd_validate(int argc, char **argv);
int cap_cmd_simulate(int argc, char **argv);
int cap_cmd_devices(int argc, char **argv);
int cap_cmd_generate(int argc, char **argv);
int cap_cmd_sensitivity(int argc, char **argv);
int cap_cmd_sweep(int argc, char **argv);
int cap_cmd_compare(int argc, char **argv);

/* Set by the SIGINT/SIGTERM handler; long loops poll it and stop cleanly. */
extern volatile int cap_interrupted;
/* Set while a loop that polls cap_interrupted runs; otherwise a signal exits at once. */
extern volatile int cap_interrupt_polled;

/* Argument helpers: parse the whole string or report "OPTION: ..." on stderr. */
bool cap_parse_double(const char *option, const char *text, double *value);
bool cap_parse_int64(const char *option, const char *text, int64_t lo, int64_t hi, int64_t *value);

/* A seed: decimal digits, 0 to CAP_SEED_MAX, read exactly (not through a double, which
 * rounds above 2^53); or a message on stderr. */
bool cap_parse_seed(const char *option, const char *text, uint64_t *value);

/* The solve options of every command that takes --integer: -i/--integer, --mip-gap G,
 * --time-limit S and --node-limit N. CAP_MIP_LONG_OPTIONS lists their getopt_long entries
 * (-i is 'i'; the others have the codes below); the optstring still names "i". */
enum { CAP_OPT_MIP_GAP = 0x1000, CAP_OPT_TIME_LIMIT, CAP_OPT_NODE_LIMIT };
#define CAP_MIP_LONG_OPTIONS                                                                       \
    {"integer", no_argument, NULL, 'i'}, {"mip-gap", required_argument, NULL, CAP_OPT_MIP_GAP},    \
        {"time-limit", required_argument, NULL, CAP_OPT_TIME_LIMIT},                               \
    {                                                                                              \
        "node-limit", required_argument, NULL, CAP_OPT_NODE_LIMIT                                  \
    }

/* Sets `solve` from one of those options: 1 done, 0 `code` is not one of them, -1 a bad
 * value (said on stderr). */
int cap_parse_mip_option(int code, const char *text, cap_plan_options *solve);

/* The one scenario operand of `capplan COMMAND` (argv[first] when it is the last argument);
 * otherwise says so with the usage on stderr and returns NULL. */
const char *cap_one_scenario(const char *command, int argc, char **argv, int first,
                             const char *usage);

/* The exit code once a command wrote its outputs to dir with status rc (0 when written):
 * the first failure wins; when all went well and announce is set, "results written to
 * DIR/" on stderr. */
int cap_outputs_done(const char *dir, int rc, int code, bool announce);

/* The folder name for a scenario in a batch: its file name without folder and extension. */
void cap_scenario_stem(const char *path, char *buffer, size_t size);

#endif
