/* yaml_doc.c: reading, pre-scanning and parsing YAML files for the scenario loader, and
 * "FILE:LINE:COL: message" reporting (see yaml_doc.h).
 *
 * Every file goes through two libyaml passes: a streaming pre-scan over events that keeps
 * no tree (it rejects aliases, extra documents, deep nesting and huge collections while
 * memory is still small), then yaml_parser_load for the tree whose nodes carry marks.
 */
#define _POSIX_C_SOURCE 200809L
#include "yaml_doc.h"
#include "outfile.h"
#include "yaml_node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- context and reporting ----------------------------------------------------------- */

void yl_ctx_init(yl_ctx *ctx, cap_diag *diag)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->diag = diag;
}

void yl_ctx_free(yl_ctx *ctx)
{
    for (int i = 0; i < ctx->file_count; i++) {
        yl_file *file = ctx->files[i];
        yaml_document_delete(&file->document);
        free(file->path);
        free(file->dir);
        free(file);
    }
    free(ctx->files);
    ctx->files = NULL;
    ctx->file_count = ctx->file_capacity = 0;
}

bool yl_failed(const yl_ctx *ctx)
{
    return ctx->problem_count > 0 || ctx->out_of_memory;
}

void yl_out_of_memory(yl_ctx *ctx)
{
    ctx->out_of_memory = true;
}

static void report_v(yl_ctx *ctx, const char *path, size_t line, size_t column, const char *fmt,
                     va_list ap)
{
    /* Count every problem but keep only the first YL_MAX_MESSAGES: a hostile file with a
     * million bad entries must not turn into a million messages. */
    if (++ctx->problem_count > YL_MAX_MESSAGES)
        return;
    va_list copy;
    va_copy(copy, ap);
    int length = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    char *message = length >= 0 ? malloc((size_t)length + 1) : NULL;
    if (!message) {
        yl_out_of_memory(ctx);
        return;
    }
    vsnprintf(message, (size_t)length + 1, fmt, ap);
    cap_diag_add(ctx->diag, "%s:%zu:%zu: %s", path, line, column, message);
    free(message);
}

void yl_report(yl_ctx *ctx, const char *path, size_t line, size_t column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_v(ctx, path, line, column, fmt, ap);
    va_end(ap);
}

void yl_error(yl_ctx *ctx, yl_node at, const char *fmt, ...)
{
    const char *path = at.file ? at.file->path : "?";
    size_t line = at.node ? at.node->start_mark.line + 1 : 1;
    size_t column = at.node ? at.node->start_mark.column + 1 : 1;
    va_list ap;
    va_start(ap, fmt);
    report_v(ctx, path, line, column, fmt, ap);
    va_end(ap);
}

void yl_finish(yl_ctx *ctx, const char *path)
{
    if (ctx->problem_count > YL_MAX_MESSAGES)
        cap_diag_add(ctx->diag, "%s:1:1: %ld more problems not shown", path,
                     ctx->problem_count - YL_MAX_MESSAGES);
}

/* ---- reading files -------------------------------------------------------------------- */

/* Reports a file that cannot be used: at the include entry that named it, else at 1:1. */
static bool source_problem(yl_ctx *ctx, const char *path, yl_node site, const char *problem)
{
    if (site.node)
        yl_error(ctx, site, "cannot read included file '%s': %s", path, problem);
    else
        yl_report(ctx, path, 1, 1, "cannot read scenario: %s", problem);
    return false;
}

static bool errno_problem(yl_ctx *ctx, const char *path, yl_node site, int error)
{
    char text[256];
    if (strerror_r(error, text, sizeof text) != 0)
        snprintf(text, sizeof text, "error %d", error);
    return source_problem(ctx, path, site, text);
}

/* Reads fd to the end, refusing more than YL_MAX_FILE_BYTES. 0, or an errno value, or -1
 * when the file is too large. */
static int read_all(int fd, size_t size_hint, char **bytes, size_t *size)
{
    size_t capacity = size_hint < YL_MAX_FILE_BYTES ? size_hint + 1 : YL_MAX_FILE_BYTES + 1;
    if (capacity < 4096)
        capacity = 4096;
    size_t length = 0;
    char *buffer = malloc(capacity);
    if (!buffer)
        return ENOMEM;
    for (;;) {
        if (length == capacity) {
            if (capacity > YL_MAX_FILE_BYTES) {
                free(buffer);
                return -1;
            }
            size_t grown_capacity =
                2 * capacity > YL_MAX_FILE_BYTES + 1 ? YL_MAX_FILE_BYTES + 1 : 2 * capacity;
            char *grown = realloc(buffer, grown_capacity);
            if (!grown) {
                free(buffer);
                return ENOMEM;
            }
            buffer = grown;
            capacity = grown_capacity;
        }
        ssize_t got = read(fd, buffer + length, capacity - length);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int error = errno;
            free(buffer);
            return error;
        }
        if (got == 0)
            break;
        length += (size_t)got;
    }
    if (length > YL_MAX_FILE_BYTES) {
        free(buffer);
        return -1;
    }
    *bytes = buffer;
    *size = length;
    return 0;
}

bool yl_read_file(yl_ctx *ctx, const char *path, yl_node site, yl_source *out)
{
    memset(out, 0, sizeof *out);
    struct stat info;
    int fd = cap_infile_open(path, &info); /* a FIFO nobody writes to cannot hang */
    if (fd < 0)
        return errno_problem(ctx, path, site, errno);
    if (S_ISDIR(info.st_mode)) {
        close(fd);
        return source_problem(ctx, path, site, "it is a directory");
    }
    size_t hint = S_ISREG(info.st_mode) ? (size_t)info.st_size : 0;
    int status = -1;
    if (!S_ISREG(info.st_mode) || (uintmax_t)info.st_size <= YL_MAX_FILE_BYTES)
        status = read_all(fd, hint, &out->bytes, &out->size);
    close(fd);
    if (status == -1)
        return source_problem(ctx, path, site, "file is larger than 64 MiB");
    if (status == ENOMEM) {
        yl_out_of_memory(ctx);
        return false;
    }
    if (status != 0)
        return errno_problem(ctx, path, site, status);
    out->device = info.st_dev;
    out->inode = info.st_ino;
    return true;
}

/* ---- libyaml errors ------------------------------------------------------------------- */

/* 1-based line and column of byte `offset` in UTF-16 text (after its byte order mark),
 * counting code units that are not the second half of a surrogate pair. */
static void locate_utf16(const unsigned char *bytes, size_t offset, bool big_endian, size_t *line,
                         size_t *column)
{
    for (size_t i = 2; i + 1 < offset; i += 2) {
        unsigned unit = big_endian ? (unsigned)bytes[i] << 8 | bytes[i + 1]
                                   : (unsigned)bytes[i + 1] << 8 | bytes[i];
        if (unit == '\n') {
            (*line)++;
            *column = 1;
        } else if (unit != '\r' && (unit < 0xDC00 || unit > 0xDFFF)) {
            (*column)++;
        }
    }
}

/* 1-based line and column of byte `offset`, counting columns in characters as libyaml
 * does (a byte order mark is not a column). Used for reader errors, which libyaml gives
 * as a byte offset only. */
static void locate(const char *text, size_t size, size_t offset, size_t *line, size_t *column)
{
    const unsigned char *bytes = (const unsigned char *)text;
    *line = 1;
    *column = 1;
    if (offset > size)
        offset = size;
    bool utf16_le = size >= 2 && bytes[0] == 0xFF && bytes[1] == 0xFE;
    bool utf16_be = size >= 2 && bytes[0] == 0xFE && bytes[1] == 0xFF;
    if (utf16_le || utf16_be) {
        locate_utf16(bytes, offset, utf16_be, line, column);
        return;
    }
    size_t i = size >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
    for (; i < offset; i++) {
        unsigned char c = bytes[i];
        if (c == '\n' || (c == '\r' && (i + 1 >= size || bytes[i + 1] != '\n'))) {
            (*line)++;
            *column = 1;
        } else if ((c & 0xC0) != 0x80 && c != '\r') {
            (*column)++;
        }
    }
}

static void report_parser_error(yl_ctx *ctx, const char *path, const yaml_parser_t *parser,
                                const char *bytes, size_t size)
{
    if (parser->error == YAML_MEMORY_ERROR) {
        yl_out_of_memory(ctx);
        return;
    }
    const char *problem = parser->problem ? parser->problem : "unknown problem";
    if (parser->error == YAML_READER_ERROR) {
        size_t line, column;
        locate(bytes, size, parser->problem_offset, &line, &column);
        if (parser->problem_value >= 0)
            yl_report(ctx, path, line, column,
                      "invalid input: %s (0x%02X); scenario files must be UTF-8 text", problem,
                      (unsigned)parser->problem_value);
        else
            yl_report(ctx, path, line, column, "invalid input: %s", problem);
        return;
    }
    yaml_mark_t at = parser->problem_mark;
    if (parser->context) {
        yaml_mark_t context = parser->context_mark;
        yl_report(ctx, path, at.line + 1, at.column + 1,
                  "YAML syntax error: %s (%s at line %zu, column %zu)", problem, parser->context,
                  context.line + 1, context.column + 1);
    } else {
        yl_report(ctx, path, at.line + 1, at.column + 1, "YAML syntax error: %s", problem);
    }
}

/* ---- pre-scan ------------------------------------------------------------------------- */

typedef struct {
    yaml_mark_t start;
    size_t entries; /* children; a mapping counts keys and values */
    bool is_mapping;
} scan_level;

typedef struct {
    yl_ctx *ctx;
    const char *path;
    int documents;
    int depth;
    bool alias_seen;
    bool tag_seen;
    scan_level levels[YL_MAX_DEPTH];
} scan_state;

/* Counts one node against the load's node budget and its parent's entry limit. */
static bool scan_count(scan_state *st, const yaml_event_t *event)
{
    if (++st->ctx->node_count > YL_MAX_NODES) {
        yl_report(st->ctx, st->path, event->start_mark.line + 1, event->start_mark.column + 1,
                  "scenario too large: more than %d YAML nodes", YL_MAX_NODES);
        return false;
    }
    if (st->depth == 0)
        return true;
    scan_level *parent = &st->levels[st->depth - 1];
    size_t limit = parent->is_mapping ? 2 * (size_t)YL_MAX_ENTRIES : (size_t)YL_MAX_ENTRIES;
    if (++parent->entries > limit) {
        yl_report(st->ctx, st->path, parent->start.line + 1, parent->start.column + 1,
                  "%s has more than %d entries", parent->is_mapping ? "mapping" : "list",
                  YL_MAX_ENTRIES);
        return false;
    }
    return true;
}

static bool scan_open(scan_state *st, const yaml_event_t *event, bool is_mapping)
{
    if (!scan_count(st, event))
        return false;
    if (st->depth == YL_MAX_DEPTH) {
        yl_report(st->ctx, st->path, event->start_mark.line + 1, event->start_mark.column + 1,
                  "nesting deeper than %d levels", YL_MAX_DEPTH);
        return false;
    }
    st->levels[st->depth++] = (scan_level){event->start_mark, 0, is_mapping};
    return true;
}

/* An explicit tag changes what a value means to a YAML reader (`!!str 5` is a string, and
 * tools write their own, such as `!!python/object`), while capplan reads values by their
 * text: so a tag is reported rather than ignored. `!!map` on a mapping and `!!seq` on a
 * list say what they already are and pass. */
static void scan_tag(scan_state *st, const yaml_event_t *event, const yaml_char_t *tag,
                     const char *allowed)
{
    static const char core[] = "tag:yaml.org,2002:";
    if (!tag)
        return;
    const char *text = (const char *)tag;
    bool is_core = strncmp(text, core, sizeof core - 1) == 0;
    if (is_core && allowed && strcmp(text + sizeof core - 1, allowed) == 0)
        return;
    st->tag_seen = true;
    char shown[64];
    snprintf(shown, sizeof shown, "%s%s", is_core ? "!!" : "",
             is_core ? text + sizeof core - 1 : text);
    yl_report(st->ctx, st->path, event->start_mark.line + 1, event->start_mark.column + 1,
              "YAML tag %s is not supported (capplan reads plain values: remove the tag; "
              "quotes make a value a string)",
              yl_quote(shown).text);
}

/* Checks one event; false stops the scan. Aliases and tags are reported but do not stop
 * it, so that every one in the file is named. */
static bool scan_event(scan_state *st, const yaml_event_t *event)
{
    const yaml_mark_t *at = &event->start_mark;
    switch (event->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++st->documents > 1) {
            yl_report(st->ctx, st->path, at->line + 1, at->column + 1,
                      "more than one YAML document in one file (only one is allowed)");
            return false;
        }
        return true;
    case YAML_ALIAS_EVENT:
        /* Aliases would let a few bytes expand into an exponential tree (billion laughs). */
        st->alias_seen = true;
        yl_report(st->ctx, st->path, at->line + 1, at->column + 1,
                  "aliases are not supported (write the value out)");
        return scan_count(st, event);
    case YAML_SCALAR_EVENT:
        scan_tag(st, event, event->data.scalar.tag, NULL);
        return scan_count(st, event);
    case YAML_SEQUENCE_START_EVENT:
        scan_tag(st, event, event->data.sequence_start.tag, "seq");
        return scan_open(st, event, false);
    case YAML_MAPPING_START_EVENT:
        scan_tag(st, event, event->data.mapping_start.tag, "map");
        return scan_open(st, event, true);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (st->depth > 0)
            st->depth--;
        return true;
    default:
        return true;
    }
}

static bool prescan(yl_ctx *ctx, const char *path, const char *bytes, size_t size)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        yl_out_of_memory(ctx);
        return false;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)bytes, size);
    scan_state st = {.ctx = ctx, .path = path};
    bool ok = true;
    for (;;) {
        yaml_event_t event;
        if (!yaml_parser_parse(&parser, &event)) {
            report_parser_error(ctx, path, &parser, bytes, size);
            ok = false;
            break;
        }
        bool end = event.type == YAML_STREAM_END_EVENT;
        ok = scan_event(&st, &event);
        yaml_event_delete(&event);
        if (!ok || end)
            break;
    }
    yaml_parser_delete(&parser);
    return ok && !st.alias_seen && !st.tag_seen;
}

/* ---- parsing -------------------------------------------------------------------------- */

static bool add_file(yl_ctx *ctx, yl_file *file)
{
    if (ctx->file_count == ctx->file_capacity) {
        int capacity = ctx->file_capacity ? 2 * ctx->file_capacity : 4;
        yl_file **files = realloc(ctx->files, (size_t)capacity * sizeof *files);
        if (!files)
            return false;
        ctx->files = files;
        ctx->file_capacity = capacity;
    }
    ctx->files[ctx->file_count++] = file;
    return true;
}

static void file_free(yl_file *file, bool loaded)
{
    if (loaded)
        yaml_document_delete(&file->document);
    free(file->path);
    free(file->dir);
    free(file);
}

yl_file *yl_parse(yl_ctx *ctx, const char *path, const char *dir, const char *bytes, size_t size)
{
    if (!prescan(ctx, path, bytes, size))
        return NULL;
    yl_file *file = calloc(1, sizeof *file);
    if (file) {
        file->path = strdup(path);
        file->dir = strdup(dir);
    }
    if (!file || !file->path || !file->dir) {
        if (file)
            file_free(file, false);
        yl_out_of_memory(ctx);
        return NULL;
    }
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        file_free(file, false);
        yl_out_of_memory(ctx);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)bytes, size);
    /* On failure yaml_parser_load frees the partial document itself. */
    int loaded = yaml_parser_load(&parser, &file->document);
    if (!loaded)
        report_parser_error(ctx, path, &parser, bytes, size);
    yaml_parser_delete(&parser);
    if (!loaded || !add_file(ctx, file)) {
        if (loaded)
            yl_out_of_memory(ctx);
        file_free(file, loaded);
        return NULL;
    }
    return file;
}

yl_node yl_root(yl_file *file)
{
    return (yl_node){file, yaml_document_get_root_node(&file->document)};
}
