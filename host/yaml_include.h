/* yaml_include.h: a scenario file and everything it includes, merged into one view
 * (private to host/).
 *
 * Merge semantics (SPEC §3 `include:`):
 *   - `include:` names a file or a list of files, relative to the including file's folder
 *     (to the current folder for a scenario given as a buffer); absolute names are kept;
 *   - included files are loaded first, depth first, in the order they are listed;
 *   - list sections (periods, accelerators, providers, regions, offerings, workloads) are
 *     concatenated: included entries first, the including file's own entries last;
 *   - every other top-level key (version, name, reference, uncertainty, objective,
 *     budget) is replaced whole: the including file wins over what it includes, and a
 *     later include wins over an earlier one; a mapping such as `uncertainty` is not
 *     merged key by key;
 *   - a file reached a second time by another path (a shared catalog included by two
 *     files) is used once, where it was first included; a file that includes itself,
 *     directly or not, is an include cycle; includes nest at most YL_MAX_INCLUDE_DEPTH deep.
 */
#ifndef CAP_YAML_INCLUDE_H
#define CAP_YAML_INCLUDE_H

#include "yaml_doc.h"

#define YL_MAX_INCLUDE_DEPTH 16

typedef enum {
    YL_TOP_VERSION,
    YL_TOP_NAME,
    YL_TOP_REFERENCE,
    YL_TOP_PERIODS,
    YL_TOP_ACCELERATORS,
    YL_TOP_PROVIDERS,
    YL_TOP_REGIONS,
    YL_TOP_OFFERINGS,
    YL_TOP_WORKLOADS,
    YL_TOP_UNCERTAINTY,
    YL_TOP_OBJECTIVE,
    YL_TOP_BUDGET,
    YL_TOP_INCLUDE,
    YL_TOP_COUNT
} yl_top_key;

typedef struct {
    yl_node *nodes;
    size_t count, capacity;
} yl_nodes;

typedef struct {
    yl_file *top; /* the file the user named; NULL when it could not be loaded */
    bool broken;  /* a file could not be read, parsed or included: entries are missing */
    /* The value that wins for each key; for a list section, the last list seen. Absent
     * when no file gives the key. */
    yl_node value[YL_TOP_COUNT];
    /* List sections: every entry, in merged order. Other keys: every value given, in load
     * order (so that each file's `version` can be checked). */
    yl_nodes entries[YL_TOP_COUNT];
} yl_merged;

/* The top-level key names, indexed by yl_top_key. */
extern const char *const yl_top_key_names[YL_TOP_COUNT];

bool yl_top_key_is_list(yl_top_key key);

/* Loads `path` and its includes into *merged (which the caller frees). Problems are
 * reported in ctx. */
void yl_load_tree(yl_ctx *ctx, const char *path, yl_merged *merged);

/* Same for a scenario held in memory; `name` is used in messages. */
void yl_load_tree_buffer(yl_ctx *ctx, const char *name, const char *data, size_t size,
                         yl_merged *merged);

void yl_merged_free(yl_merged *merged);

#endif
