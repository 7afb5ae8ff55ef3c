/* diag.c: growable list of error messages (see diag.h). */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cap_diag_init(cap_diag *diag)
{
    memset(diag, 0, sizeof *diag);
}

void cap_diag_clear(cap_diag *diag)
{
    for (int i = 0; i < diag->count; i++)
        free(diag->lines[i]);
    diag->count = 0;
}

void cap_diag_free(cap_diag *diag)
{
    cap_diag_clear(diag);
    free(diag->lines);
    cap_diag_init(diag);
}

static void diag_push(cap_diag *diag, char *line)
{
    if (diag->count == diag->capacity) {
        int capacity = diag->capacity ? 2 * diag->capacity : 8;
        char **lines = realloc(diag->lines, (size_t)capacity * sizeof *lines);
        if (!lines) {
            free(line);
            return;
        }
        diag->lines = lines;
        diag->capacity = capacity;
    }
    diag->lines[diag->count++] = line;
}

void cap_diag_add(cap_diag *diag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int length = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (length < 0)
        return;
    char *line = malloc((size_t)length + 1);
    if (!line)
        return;
    va_start(ap, fmt);
    vsnprintf(line, (size_t)length + 1, fmt, ap);
    va_end(ap);
    diag_push(diag, line);
}

void cap_diag_extend(cap_diag *diag, const cap_diag *from)
{
    for (int i = 0; i < from->count; i++)
        cap_diag_add(diag, "%s", from->lines[i]);
}

void cap_diag_print(const cap_diag *diag, FILE *out)
{
    for (int i = 0; i < diag->count; i++)
        fprintf(out, "%s\n", diag->lines[i]);
}

int cap_diag_find(const cap_diag *diag, const char *needle)
{
    for (int i = 0; i < diag->count; i++)
        if (strstr(diag->lines[i], needle))
            return i;
    return -1;
}
