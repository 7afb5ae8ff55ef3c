/* yaml_include.c: loads a scenario file and its includes and merges their top-level keys
 * (semantics in yaml_include.h).
 *
 * Recursion follows includes only, so it is at most YL_MAX_INCLUDE_DEPTH deep. Files on
 * the current include chain are kept on a stack, compared by device and inode (so that
 * "a.yaml" and "./a.yaml" are the same file) to find cycles.
 */
#define _POSIX_C_SOURCE 200809L
#include "yaml_include.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yaml_node.h"

const char *const yl_top_key_names[YL_TOP_COUNT] = {
    "version",   "name",      "reference",   "periods",   "accelerators", "providers", "regions",
    "offerings", "workloads", "uncertainty", "objective", "budget",       "include",
};

static const yl_schema top_schema = {"scenario", yl_top_key_names, YL_TOP_COUNT};

bool yl_top_key_is_list(yl_top_key key)
{
    return key >= YL_TOP_PERIODS && key <= YL_TOP_WORKLOADS;
}

typedef struct {
    yl_ctx *ctx;
    yl_merged *merged;
    const yl_file *stack[YL_MAX_INCLUDE_DEPTH + 1]; /* the include chain, outermost first */
    int depth;
} tree_loader;

static void load_file(tree_loader *tl, yl_file *file);

/* ---- paths ---------------------------------------------------------------------------- */

/* The folder part of a path, with its trailing '/', or "" for a bare file name. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t length = slash ? (size_t)(slash - path) + 1 : 0;
    char *dir = malloc(length + 1);
    if (dir) {
        memcpy(dir, path, length);
        dir[length] = '\0';
    }
    return dir;
}

static char *join(const char *dir, const char *name)
{
    if (name[0] == '/')
        dir = "";
    size_t dir_length = strlen(dir), name_length = strlen(name);
    char *path = malloc(dir_length + name_length + 1);
    if (path) {
        memcpy(path, dir, dir_length);
        memcpy(path + dir_length, name, name_length + 1);
    }
    return path;
}

/* ---- merging -------------------------------------------------------------------------- */

static bool nodes_push(yl_nodes *list, yl_node node)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? 2 * list->capacity : 16;
        yl_node *nodes = realloc(list->nodes, capacity * sizeof *nodes);
        if (!nodes)
            return false;
        list->nodes = nodes;
        list->capacity = capacity;
    }
    list->nodes[list->count++] = node;
    return true;
}

/* Adds one file's top-level values; runs after the file's includes, so the file's own
 * list entries come after theirs and its other keys replace theirs. */
static void merge(tree_loader *tl, const yl_node *values)
{
    yl_merged *m = tl->merged;
    for (int k = 0; k < YL_TOP_COUNT; k++) {
        yl_node value = values[k];
        if (k == YL_TOP_INCLUDE || !value.node)
            continue;
        bool ok = true;
        if (yl_top_key_is_list((yl_top_key)k)) {
            if (!yl_list(tl->ctx, value, yl_top_key_names[k]))
                continue;
            for (size_t i = 0; ok && i < yl_length(value); i++)
                ok = nodes_push(&m->entries[k], yl_item(value, i));
        } else {
            ok = nodes_push(&m->entries[k], value);
        }
        if (!ok)
            yl_out_of_memory(tl->ctx);
        m->value[k] = value;
    }
}

/* ---- includes ------------------------------------------------------------------------- */

static bool same_file(const yl_file *file, const yl_source *source)
{
    return file->has_identity && file->device == source->device && file->inode == source->inode;
}

static void report_cycle(tree_loader *tl, yl_node site, int first, const char *path)
{
    char chain[1024] = "";
    size_t used = 0;
    for (int i = first; i < tl->depth && used < sizeof chain; i++)
        used += (size_t)snprintf(chain + used, sizeof chain - used, "%s -> ", tl->stack[i]->path);
    if (used < sizeof chain)
        snprintf(chain + used, sizeof chain - used, "%s", path);
    yl_error(tl->ctx, site, "include cycle: %s", chain);
}

/* Reads, parses and loads one included file unless it is a cycle or was loaded before. */
static void include_source(tree_loader *tl, yl_node site, const char *path, yl_source *source)
{
    for (int i = 0; i < tl->depth; i++)
        if (same_file(tl->stack[i], source)) {
            report_cycle(tl, site, i, path);
            tl->merged->broken = true;
            return;
        }
    for (int i = 0; i < tl->ctx->file_count; i++)
        if (same_file(tl->ctx->files[i], source))
            return; /* already merged where it was first included */
    char *dir = dir_of(path);
    yl_file *file = dir ? yl_parse(tl->ctx, path, dir, source->bytes, source->size) : NULL;
    if (!dir)
        yl_out_of_memory(tl->ctx);
    free(dir);
    if (!file) {
        tl->merged->broken = true;
        return;
    }
    file->has_identity = true;
    file->device = source->device;
    file->inode = source->inode;
    load_file(tl, file);
}

static void include_one(tree_loader *tl, const yl_file *from, yl_node entry)
{
    const char *name;
    if (!yl_string(tl->ctx, entry, "include", &name)) {
        tl->merged->broken = true;
        return;
    }
    if (tl->depth > YL_MAX_INCLUDE_DEPTH) {
        yl_error(tl->ctx, entry, "includes nested deeper than %d levels", YL_MAX_INCLUDE_DEPTH);
        tl->merged->broken = true;
        return;
    }
    char *path = join(from->dir, name);
    yl_source source;
    if (!path)
        yl_out_of_memory(tl->ctx);
    else if (yl_read_file(tl->ctx, path, entry, &source)) {
        include_source(tl, entry, path, &source);
        free(source.bytes);
    } else {
        tl->merged->broken = true;
    }
    free(path);
}

static void load_includes(tree_loader *tl, const yl_file *from, yl_node include)
{
    if (yl_is_list(include)) {
        for (size_t i = 0; i < yl_length(include); i++)
            include_one(tl, from, yl_item(include, i));
    } else if (yl_is_mapping(include)) {
        yl_error(tl->ctx, include, "include must be a file name or a list of file names");
        tl->merged->broken = true;
    } else {
        include_one(tl, from, include);
    }
}

/* ---- files ---------------------------------------------------------------------------- */

static void load_file(tree_loader *tl, yl_file *file)
{
    yl_node root = yl_root(file);
    if (!root.node || yl_is_null(root)) {
        yl_report(tl->ctx, file->path, 1, 1, "empty scenario");
        tl->merged->broken = true;
        return;
    }
    yl_node values[YL_TOP_COUNT];
    if (!yl_fields(tl->ctx, root, &top_schema, values)) {
        tl->merged->broken = true;
        return;
    }
    tl->stack[tl->depth++] = file;
    if (values[YL_TOP_INCLUDE].node)
        load_includes(tl, file, values[YL_TOP_INCLUDE]);
    tl->depth--;
    merge(tl, values);
}

static void load_top(yl_ctx *ctx, yl_merged *merged, yl_file *file)
{
    merged->top = file;
    if (!file) {
        merged->broken = true;
        return;
    }
    tree_loader tl = {.ctx = ctx, .merged = merged};
    load_file(&tl, file);
}

void yl_load_tree(yl_ctx *ctx, const char *path, yl_merged *merged)
{
    memset(merged, 0, sizeof *merged);
    yl_source source;
    if (!yl_read_file(ctx, path, (yl_node){NULL, NULL}, &source)) {
        merged->broken = true;
        return;
    }
    char *dir = dir_of(path);
    yl_file *file = dir ? yl_parse(ctx, path, dir, source.bytes, source.size) : NULL;
    if (!dir)
        yl_out_of_memory(ctx);
    if (file) {
        file->has_identity = true;
        file->device = source.device;
        file->inode = source.inode;
    }
    free(dir);
    free(source.bytes);
    load_top(ctx, merged, file);
}

void yl_load_tree_buffer(yl_ctx *ctx, const char *name, const char *data, size_t size,
                         yl_merged *merged)
{
    memset(merged, 0, sizeof *merged);
    if (size > YL_MAX_FILE_BYTES) {
        yl_report(ctx, name, 1, 1, "cannot read scenario: file is larger than 64 MiB");
        merged->broken = true;
        return;
    }
    load_top(ctx, merged, yl_parse(ctx, name, "", data, size));
}

void yl_merged_free(yl_merged *merged)
{
    for (int k = 0; k < YL_TOP_COUNT; k++)
        free(merged->entries[k].nodes);
    memset(merged, 0, sizeof *merged);
}
