/* support.h: helpers shared by the Criterion tests. */
#ifndef CAP_TEST_SUPPORT_H
#define CAP_TEST_SUPPORT_H

#include <stddef.h>

#include "diag.h"
#include "scenario.h"

/* Absolute path of a file in the source tree: cap_test_path("tests/data/x.yaml"). The
 * returned string is static storage overwritten by the next call. */
const char *cap_test_path(const char *relative);

/* Loads a scenario from YAML text (name "test.yaml" in messages); aborts the test with the
 * loader's messages when it is invalid. */
cap_scenario *cap_test_scenario(const char *yaml);

/* Runs the capplan binary with `args` (a shell-quoted string) in a fresh temporary folder,
 * capturing stdout+stderr into *output (malloc'd, may be NULL). Returns the exit code,
 * or -1 when it died on a signal. The folder's path is written to `dir` when non-NULL. */
int cap_test_run(const char *args, char **output, char *dir, size_t dir_size);

/* Reads a whole file (malloc'd, NUL-terminated), NULL when it cannot. */
char *cap_test_read_file(const char *path);

#endif
