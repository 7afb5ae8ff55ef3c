/* support.c: helpers shared by the Criterion tests (see support.h). */
#define _POSIX_C_SOURCE 200809L
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "scenario_load.h"

const char *cap_test_path(const char *relative)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", CAPPLAN_SOURCE_DIR, relative);
    return path;
}

cap_scenario *cap_test_scenario(const char *yaml)
{
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *scenario = NULL;
    cap_status status = cap_scenario_load_buffer("test.yaml", yaml, strlen(yaml), &scenario, &diag);
    if (status != CAP_OK) {
        for (int i = 0; i < diag.count; i++)
            cr_log_error("%s", diag.lines[i]);
        cap_diag_free(&diag);
        cr_assert_fail("test scenario did not load");
    }
    cap_diag_free(&diag);
    return scenario;
}

char *cap_test_read_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return NULL;
    size_t capacity = 4096, length = 0;
    char *text = malloc(capacity);
    size_t got;
    while (text && (got = fread(text + length, 1, capacity - length - 1, file)) > 0) {
        length += got;
        if (capacity - length < 2) {
            char *grown = realloc(text, capacity * 2);
            if (!grown) {
                free(text);
                text = NULL;
                break;
            }
            text = grown;
            capacity *= 2;
        }
    }
    fclose(file);
    if (text)
        text[length] = '\0';
    return text;
}

int cap_test_run(const char *args, char **output, char *dir, size_t dir_size)
{
    char template[] = "/tmp/capplan-test-XXXXXX";
    char *tmp = mkdtemp(template);
    cr_assert_not_null(tmp, "mkdtemp failed");
    if (dir)
        snprintf(dir, dir_size, "%s", tmp);
    char command[8192];
    snprintf(command, sizeof command, "cd '%s' && '%s' %s > '%s/.output' 2>&1", tmp, CAPPLAN_BINARY,
             args, tmp);
    int raw = system(command);
    char output_path[4096];
    snprintf(output_path, sizeof output_path, "%s/.output", tmp);
    if (output)
        *output = cap_test_read_file(output_path);
    if (raw == -1 || !WIFEXITED(raw))
        return -1;
    int code = WEXITSTATUS(raw);
    return code >= 128 ? -1 : code; /* the shell reports a signal as 128+n */
}
