/* diag.h: a growable list of error messages.
 *
 * Library code never prints and never exits: it appends messages here and returns a
 * status. Loader messages have the form "FILE:LINE:COL: message"; others are free text.
 */
#ifndef CAP_DIAG_H
#define CAP_DIAG_H

#include <stdio.h>

/* Status codes double as the program's exit codes (SPEC §6). */
typedef enum {
    CAP_OK = 0,
    CAP_ERR_RUNTIME = 1,    /* I/O, memory, solver failure */
    CAP_ERR_INPUT = 2,      /* bad usage or invalid scenario */
    CAP_ERR_INFEASIBLE = 3, /* infeasible or unbounded model */
    CAP_ERR_BACKEND = 4     /* a requested backend is not available */
} cap_status;

typedef struct {
    char **lines;
    int count, capacity;
} cap_diag;

void cap_diag_init(cap_diag *diag);
void cap_diag_free(cap_diag *diag);
void cap_diag_clear(cap_diag *diag);

/* Appends one formatted message; silently drops it when out of memory. */
void cap_diag_add(cap_diag *diag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends every line of `from`. */
void cap_diag_extend(cap_diag *diag, const cap_diag *from);

/* Prints each message on its own line. */
void cap_diag_print(const cap_diag *diag, FILE *out);

/* Index of the first message containing `needle`, or -1. For tests and callers. */
int cap_diag_find(const cap_diag *diag, const char *needle);

#endif
