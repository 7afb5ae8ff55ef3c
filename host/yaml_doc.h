/* yaml_doc.h: the scenario loader's YAML layer (private to host/).
 *
 * Holds every YAML file of one load in memory (libyaml documents, so each node keeps its
 * line and column), and reports problems as "FILE:LINE:COL: message" into a cap_diag.
 * Invariants:
 *   - a yl_file is parsed only after a streaming pre-scan accepted it: no aliases, one
 *     document, nesting at most YL_MAX_DEPTH, no collection over YL_MAX_ENTRIES, and at most
 *     YL_MAX_NODES nodes over the whole load; so hostile input cannot blow memory or time;
 *   - files live until yl_ctx_free, so yl_node handles stay valid for the whole load;
 *   - nothing here prints or exits.
 */
#ifndef CAP_YAML_DOC_H
#define CAP_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <yaml.h>

#include "diag.h"

#define YL_MAX_FILE_BYTES ((size_t)64 << 20) /* 64 MiB per file */
#define YL_MAX_ENTRIES    1000000            /* entries in one list or mapping */
#define YL_MAX_NODES      2000000 /* over all files of a load: ~400 MB in libyaml at most */
#define YL_MAX_DEPTH      64      /* nested lists and mappings; a scenario needs 5 */
#define YL_MAX_MESSAGES   1000    /* messages shown; further problems are only counted */

typedef struct {
    char *path; /* as shown in messages */
    char *dir;  /* prefix for relative includes: "" (current folder) or ends with '/' */
    bool has_identity;
    dev_t device; /* identity of the file read, to find include cycles */
    ino_t inode;
    yaml_document_t document;
} yl_file;

/* One node and the file it came from. node == NULL means "absent". */
typedef struct {
    yl_file *file;
    yaml_node_t *node;
} yl_node;

typedef struct {
    cap_diag *diag;
    long problem_count; /* problems found (shown or not) */
    bool out_of_memory;
    yl_file **files;
    int file_count, file_capacity;
    size_t node_count; /* nodes over every file, against YL_MAX_NODES */
} yl_ctx;

/* Bytes read from a file, with the file's identity. */
typedef struct {
    char *bytes;
    size_t size;
    dev_t device;
    ino_t inode;
} yl_source;

void yl_ctx_init(yl_ctx *ctx, cap_diag *diag);
void yl_ctx_free(yl_ctx *ctx);

/* True once any problem was reported or memory ran out. */
bool yl_failed(const yl_ctx *ctx);

/* Reports "PATH:LINE:COL: message" (LINE and COL 1-based). */
void yl_report(yl_ctx *ctx, const char *path, size_t line, size_t column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Reports at a node's position. */
void yl_error(yl_ctx *ctx, yl_node at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void yl_out_of_memory(yl_ctx *ctx);

/* Adds the closing "N more problems not shown" line when messages were held back. */
void yl_finish(yl_ctx *ctx, const char *path);

/* Reads a whole file of at most YL_MAX_FILE_BYTES. On failure reports at `site` (the include
 * entry naming the file) or, when site is absent, at PATH:1:1, and returns false. */
bool yl_read_file(yl_ctx *ctx, const char *path, yl_node site, yl_source *out);

/* Pre-scans and parses `size` bytes into a new file owned by ctx. `dir` is the prefix
 * for relative includes. NULL when the bytes are not one acceptable YAML document
 * (reported). */
yl_file *yl_parse(yl_ctx *ctx, const char *path, const char *dir, const char *bytes, size_t size);

/* The root node; absent for an empty document. */
yl_node yl_root(yl_file *file);

#endif
