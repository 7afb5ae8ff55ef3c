/* yaml_node.c: typed reading of YAML nodes and the id table (see yaml_node.h).
 *
 * Everything here is linear in the input (the did-you-mean search is skipped for large id
 * sets and once messages are no longer shown), so hostile files cannot make it slow.
 */
#define _POSIX_C_SOURCE 200809L
#include "yaml_node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- node shape ----------------------------------------------------------------------- */

bool yl_present(yl_node n)
{
    return n.node != NULL;
}

bool yl_is_list(yl_node n)
{
    return n.node && n.node->type == YAML_SEQUENCE_NODE;
}

bool yl_is_mapping(yl_node n)
{
    return n.node && n.node->type == YAML_MAPPING_NODE;
}

size_t yl_length(yl_node n)
{
    if (yl_is_list(n))
        return (size_t)(n.node->data.sequence.items.top - n.node->data.sequence.items.start);
    if (yl_is_mapping(n))
        return (size_t)(n.node->data.mapping.pairs.top - n.node->data.mapping.pairs.start);
    return 0;
}

static yl_node node_at(yl_node parent, int index)
{
    return (yl_node){parent.file, yaml_document_get_node(&parent.file->document, index)};
}

yl_node yl_item(yl_node list, size_t i)
{
    return node_at(list, list.node->data.sequence.items.start[i]);
}

yl_node yl_key(yl_node mapping, size_t i)
{
    return node_at(mapping, mapping.node->data.mapping.pairs.start[i].key);
}

yl_node yl_value(yl_node mapping, size_t i)
{
    return node_at(mapping, mapping.node->data.mapping.pairs.start[i].value);
}

/* The text of a scalar node, NULL for anything else. */
static const char *scalar_text(yl_node n)
{
    if (!n.node || n.node->type != YAML_SCALAR_NODE)
        return NULL;
    return (const char *)n.node->data.scalar.value;
}

static bool is_plain(yl_node n)
{
    return n.node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

bool yl_is_null(yl_node n)
{
    const char *text = scalar_text(n);
    if (!text || !is_plain(n))
        return false;
    return text[0] == '\0' || strcmp(text, "~") == 0 || strcmp(text, "null") == 0 ||
           strcmp(text, "Null") == 0 || strcmp(text, "NULL") == 0;
}

yl_snippet yl_quote(const char *text)
{
    enum { shown = 40 };
    yl_snippet s;
    size_t out = 0, i = 0;
    s.text[out++] = '\'';
    for (; text[i] && i < shown; i++) {
        unsigned char c = (unsigned char)text[i];
        s.text[out++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (text[i]) {
        /* Cut before a partial UTF-8 sequence, then mark the cut. */
        while (out > 1 && ((unsigned char)s.text[out - 1] & 0xC0) == 0x80)
            out--;
        if (out > 1 && ((unsigned char)s.text[out - 1] & 0xC0) == 0xC0)
            out--;
        memcpy(s.text + out, "...", 3);
        out += 3;
    }
    s.text[out++] = '\'';
    s.text[out] = '\0';
    return s;
}

yl_snippet yl_describe(yl_node n)
{
    yl_snippet s;
    if (!n.node || yl_is_null(n))
        snprintf(s.text, sizeof s.text, "nothing");
    else if (yl_is_list(n))
        snprintf(s.text, sizeof s.text, "a list");
    else if (yl_is_mapping(n))
        snprintf(s.text, sizeof s.text, "a mapping");
    else
        return yl_quote(scalar_text(n));
    return s;
}

/* ---- did you mean --------------------------------------------------------------------- */

/* Optimal-string-alignment distance (a swap of neighbours costs 1), or SIZE_MAX when a
 * word is too long to bother. */
static size_t edit_distance(const char *a, const char *b)
{
    enum { longest = 64 };
    size_t la = strlen(a), lb = strlen(b);
    if (la > longest || lb > longest)
        return SIZE_MAX;
    size_t rows[3][longest + 1]; /* rows i-2, i-1, i, used cyclically */
    for (size_t j = 0; j <= lb; j++)
        rows[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t *cur = rows[i % 3], *prev = rows[(i - 1) % 3], *prev2 = rows[(i + 1) % 3];
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
    }
    return rows[la % 3][lb];
}

/* Whether `candidate` is close enough to `word` to suggest: one edit for words of 3 or 4
 * characters, two for longer ones, none for shorter ones (any 1-letter id is 1 edit away). */
static bool close_enough(const char *word, const char *candidate, size_t *distance)
{
    size_t length = strlen(word);
    size_t limit = length <= 2 ? 0 : length <= 4 ? 1 : 2;
    *distance = edit_distance(word, candidate);
    return *distance <= limit;
}

static const char *closest_key(const char *word, const yl_schema *schema)
{
    const char *best = NULL;
    size_t best_distance = SIZE_MAX, distance;
    for (int k = 0; k < schema->key_count; k++)
        if (close_enough(word, schema->keys[k], &distance) && distance < best_distance) {
            best = schema->keys[k];
            best_distance = distance;
        }
    return best;
}

/* ---- mappings with known keys -------------------------------------------------------- */

static void report_unknown_key(yl_ctx *ctx, yl_node key, const yl_schema *schema, const char *name)
{
    const char *guess = closest_key(name, schema);
    if (guess) {
        yl_error(ctx, key, "unknown key %s in %s; did you mean '%s'?", yl_quote(name).text,
                 schema->what, guess);
        return;
    }
    char allowed[512] = "";
    size_t used = 0;
    for (int k = 0; k < schema->key_count && used < sizeof allowed; k++)
        used += (size_t)snprintf(allowed + used, sizeof allowed - used, "%s%s", k ? ", " : "",
                                 schema->keys[k]);
    yl_error(ctx, key, "unknown key %s in %s (allowed: %s)", yl_quote(name).text, schema->what,
             allowed);
}

static int schema_index(const yl_schema *schema, const char *name)
{
    for (int k = 0; k < schema->key_count; k++)
        if (strcmp(schema->keys[k], name) == 0)
            return k;
    return -1;
}

bool yl_fields(yl_ctx *ctx, yl_node mapping, const yl_schema *schema, yl_node *values)
{
    yl_node keys[YL_MAX_KEYS];
    for (int k = 0; k < schema->key_count; k++)
        values[k] = keys[k] = (yl_node){mapping.file, NULL};
    if (!yl_is_mapping(mapping)) {
        yl_error(ctx, mapping, "%s must be a mapping (key: value), got %s", schema->what,
                 yl_describe(mapping).text);
        return false;
    }
    size_t count = yl_length(mapping);
    for (size_t i = 0; i < count; i++) {
        yl_node key = yl_key(mapping, i);
        const char *name = scalar_text(key);
        if (!name) {
            yl_error(ctx, key, "keys in %s must be strings, got %s", schema->what,
                     yl_describe(key).text);
            continue;
        }
        int k = schema_index(schema, name);
        if (k < 0) {
            report_unknown_key(ctx, key, schema, name);
        } else if (values[k].node) {
            yl_error(ctx, key, "duplicate key '%s' (first given at line %zu, column %zu)",
                     schema->keys[k], keys[k].node->start_mark.line + 1,
                     keys[k].node->start_mark.column + 1);
        } else {
            keys[k] = key;
            values[k] = yl_value(mapping, i);
        }
    }
    return true;
}

bool yl_require(yl_ctx *ctx, yl_node mapping, const yl_schema *schema, const yl_node *values,
                int key)
{
    if (values[key].node)
        return true;
    yl_error(ctx, mapping, "%s is missing required key '%s'", schema->what, schema->keys[key]);
    return false;
}

/* ---- numbers -------------------------------------------------------------------------- */

typedef enum { NUMBER_OK, NUMBER_NONE, NUMBER_NOT_FINITE } number_kind;

/* YAML's spellings of infinity and not-a-number: .inf, -.Inf, .NaN, ... */
static bool is_yaml_special(const char *text)
{
    if (*text == '+' || *text == '-')
        text++;
    return strcasecmp(text, ".inf") == 0 || strcasecmp(text, ".nan") == 0;
}

/* Reads text as a number; the whole text must be consumed (strtod). */
static number_kind parse_text(const char *text, size_t length, double *out)
{
    if (text[0] == '\0' || strlen(text) != length)
        return NUMBER_NONE;
    if (is_yaml_special(text))
        return NUMBER_NOT_FINITE;
    char *end;
    double value = strtod(text, &end);
    if (end == text || *end != '\0')
        return NUMBER_NONE;
    if (!isfinite(value)) /* inf, nan, and overflow such as 1e999 */
        return NUMBER_NOT_FINITE;
    *out = value;
    return NUMBER_OK;
}

/* Only plain scalars are numbers: YAML quotes make a string. */
static number_kind parse_number(yl_node n, double *out)
{
    const char *text = scalar_text(n);
    if (!text || !is_plain(n))
        return NUMBER_NONE;
    return parse_text(text, n.node->data.scalar.length, out);
}

static void report_not_number(yl_ctx *ctx, yl_node n, const char *field)
{
    const char *text = scalar_text(n);
    double ignored;
    if (text && !is_plain(n) &&
        parse_text(text, n.node->data.scalar.length, &ignored) != NUMBER_NONE) {
        yl_error(ctx, n, "%s must be a number, got the quoted string %s (quotes make a string)",
                 field, yl_quote(text).text);
        return;
    }
    yl_error(ctx, n, "%s must be a number, got %s", field, yl_describe(n).text);
}

static bool in_range(double value, yl_range range)
{
    if (range.low_open ? value <= range.low : value < range.low)
        return false;
    return value <= range.high;
}

static void report_range(yl_ctx *ctx, yl_node n, const char *field, yl_range range, double value)
{
    if (isinf(range.high))
        yl_error(ctx, n, "%s must be %s %g, got %g", field, range.low_open ? ">" : ">=", range.low,
                 value);
    else
        yl_error(ctx, n, "%s must be between %g and %g, got %g", field, range.low, range.high,
                 value);
}

/* Products of scenario numbers become GLPK coefficients and bounds (price * hours, 1000 *
 * power_mw, demand / throughput in the basis); an overflow there makes GLPK abort, and a
 * denormal such as 1e-320 has no finite reciprocal. */
static bool magnitude_ok(yl_ctx *ctx, yl_node n, const char *field, double value)
{
    if (fabs(value) > YL_MAX_MAGNITUDE) {
        yl_error(ctx, n, "%s %g is too large: numbers may be at most %g in magnitude", field, value,
                 YL_MAX_MAGNITUDE);
        return false;
    }
    if (value != 0.0 && fabs(value) < YL_MIN_MAGNITUDE) {
        yl_error(ctx, n,
                 "%s %g is too small: numbers other than 0 must be at least %g in magnitude "
                 "(write 0 for none)",
                 field, value, YL_MIN_MAGNITUDE);
        return false;
    }
    return true;
}

bool yl_number(yl_ctx *ctx, yl_node n, const char *field, yl_range range, double *out)
{
    double value = 0;
    switch (parse_number(n, &value)) {
    case NUMBER_NONE:
        report_not_number(ctx, n, field);
        return false;
    case NUMBER_NOT_FINITE:
        yl_error(ctx, n, "%s must be a finite number, got %s", field, yl_describe(n).text);
        return false;
    case NUMBER_OK:
        break;
    }
    if (!in_range(value, range)) {
        report_range(ctx, n, field, range, value);
        return false;
    }
    if (!magnitude_ok(ctx, n, field, value))
        return false;
    *out = value;
    return true;
}

bool yl_number_or(yl_ctx *ctx, yl_node n, const char *field, yl_range range, double fallback,
                  double *out)
{
    if (!n.node) {
        *out = fallback;
        return true;
    }
    return yl_number(ctx, n, field, range, out);
}

bool yl_integer(yl_ctx *ctx, yl_node n, const char *field, double low, double high, double *out)
{
    double value;
    if (!yl_number(ctx, n, field, YL_ANY_NUMBER, &value))
        return false;
    if (value != floor(value) || value < low || value > high) {
        yl_error(ctx, n, "%s must be a whole number from %.15g to %.15g, got %.15g", field, low,
                 high, value);
        return false;
    }
    *out = value;
    return true;
}

bool yl_uint64(yl_ctx *ctx, yl_node n, const char *field, uint64_t max, uint64_t *out)
{
    const char *text = scalar_text(n);
    bool digits = text && is_plain(n) && text[0] != '\0' && strlen(text) <= 20;
    for (const char *c = text; digits && *c; c++)
        digits = *c >= '0' && *c <= '9';
    if (digits) {
        errno = 0;
        unsigned long long value = strtoull(text, NULL, 10);
        if (errno == 0 && value <= max) {
            *out = (uint64_t)value;
            return true;
        }
    }
    yl_error(ctx, n, "%s must be a whole number from 0 to %llu, got %s", field,
             (unsigned long long)max, yl_describe(n).text);
    return false;
}

/* ---- strings and lists ---------------------------------------------------------------- */

bool yl_string(yl_ctx *ctx, yl_node n, const char *field, const char **out)
{
    const char *text = scalar_text(n);
    if (!text || yl_is_null(n)) {
        yl_error(ctx, n, "%s must be a non-empty string, got %s", field, yl_describe(n).text);
        return false;
    }
    size_t length = n.node->data.scalar.length;
    bool clean = strlen(text) == length;
    for (size_t i = 0; clean && i < length; i++)
        clean = (unsigned char)text[i] >= 0x20 && text[i] != 0x7f;
    if (length == 0) {
        yl_error(ctx, n, "%s must be a non-empty string", field);
        return false;
    }
    if (!clean) {
        yl_error(ctx, n, "%s must not contain control characters, got %s", field,
                 yl_quote(text).text);
        return false;
    }
    *out = text;
    return true;
}

bool yl_list(yl_ctx *ctx, yl_node n, const char *field)
{
    if (yl_is_list(n))
        return true;
    yl_error(ctx, n, "%s must be a list, got %s", field, yl_describe(n).text);
    return false;
}

static bool per_period_list(yl_ctx *ctx, yl_node n, const char *field, yl_range range,
                            int period_count, double **out)
{
    size_t length = yl_length(n);
    bool ok = true;
    if (period_count > 0 && length != (size_t)period_count) {
        yl_error(ctx, n, "%s has %zu entries but there are %d periods", field, length,
                 period_count);
        ok = false;
    }
    double *values = malloc((length ? length : 1) * sizeof *values);
    if (!values) {
        yl_out_of_memory(ctx);
        return false;
    }
    for (size_t i = 0; i < length; i++)
        ok = yl_number(ctx, yl_item(n, i), field, range, &values[i]) && ok;
    if (!ok) {
        free(values);
        return false;
    }
    *out = values;
    return true;
}

bool yl_per_period(yl_ctx *ctx, yl_node n, const char *field, yl_range range, int period_count,
                   double **out)
{
    *out = NULL;
    if (yl_is_list(n))
        return per_period_list(ctx, n, field, range, period_count, out);
    double value;
    if (!yl_number(ctx, n, field, range, &value))
        return false;
    size_t count = period_count > 0 ? (size_t)period_count : 1;
    double *values = malloc(count * sizeof *values);
    if (!values) {
        yl_out_of_memory(ctx);
        return false;
    }
    for (size_t t = 0; t < count; t++)
        values[t] = value;
    *out = values;
    return true;
}

/* ---- ids ------------------------------------------------------------------------------ */

void yl_ids_init(yl_ids *ids)
{
    memset(ids, 0, sizeof *ids);
}

void yl_ids_free(yl_ids *ids)
{
    free(ids->slots);
    yl_ids_init(ids);
}

static uint64_t hash_text(const char *text)
{
    uint64_t hash = 1469598103934665603u; /* FNV-1a */
    for (; *text; text++)
        hash = (hash ^ (unsigned char)*text) * 1099511628211u;
    return hash;
}

static void place(yl_id *slots, size_t capacity, yl_id entry)
{
    size_t i = (size_t)hash_text(entry.id) & (capacity - 1);
    while (slots[i].id)
        i = (i + 1) & (capacity - 1);
    slots[i] = entry;
}

static bool grow(yl_ids *ids)
{
    size_t capacity = ids->capacity ? 2 * ids->capacity : 16;
    yl_id *slots = calloc(capacity, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < ids->capacity; i++)
        if (ids->slots[i].id)
            place(slots, capacity, ids->slots[i]);
    free(ids->slots);
    ids->slots = slots;
    ids->capacity = capacity;
    return true;
}

static const yl_id *lookup(const yl_ids *ids, const char *id)
{
    if (!ids->capacity)
        return NULL;
    size_t i = (size_t)hash_text(id) & (ids->capacity - 1);
    for (; ids->slots[i].id; i = (i + 1) & (ids->capacity - 1))
        if (strcmp(ids->slots[i].id, id) == 0)
            return &ids->slots[i];
    return NULL;
}

bool yl_ids_add(yl_ctx *ctx, yl_ids *ids, const char *kind, const char *id, int index,
                yl_node where)
{
    const yl_id *first = lookup(ids, id);
    if (first) {
        const yaml_mark_t *at = &first->where.node->start_mark;
        yl_error(ctx, where, "duplicate %s id %s (first defined at %s:%zu:%zu)", kind,
                 yl_quote(id).text, first->where.file->path, at->line + 1, at->column + 1);
        return false;
    }
    if (2 * (ids->count + 1) > ids->capacity && !grow(ids)) {
        yl_out_of_memory(ctx);
        return false;
    }
    place(ids->slots, ids->capacity, (yl_id){id, index, where});
    ids->count++;
    return true;
}

int yl_ids_find(const yl_ids *ids, const char *id)
{
    const yl_id *found = lookup(ids, id);
    return found ? found->index : -1;
}

/* The id nearest to `word`, for a did-you-mean; NULL when none is close, when the set is
 * too large to search, or when messages are no longer being shown. */
static const char *closest_id(const yl_ctx *ctx, const yl_ids *ids, const char *word)
{
    if (ids->count > 1000 || ctx->problem_count >= YL_MAX_MESSAGES)
        return NULL;
    const yl_id *best = NULL;
    size_t best_distance = SIZE_MAX, distance;
    for (size_t i = 0; i < ids->capacity; i++) {
        const yl_id *entry = &ids->slots[i];
        if (!entry->id || !close_enough(word, entry->id, &distance))
            continue;
        if (distance < best_distance || (distance == best_distance && entry->index < best->index)) {
            best = entry;
            best_distance = distance;
        }
    }
    return best ? best->id : NULL;
}

int yl_reference(yl_ctx *ctx, yl_node n, const char *field, const yl_ids *ids, const char *kind)
{
    const char *name;
    if (!yl_string(ctx, n, field, &name))
        return -1;
    int index = yl_ids_find(ids, name);
    if (index >= 0)
        return index;
    const char *guess = closest_id(ctx, ids, name);
    if (guess)
        yl_error(ctx, n, "unknown %s %s; did you mean %s?", kind, yl_quote(name).text,
                 yl_quote(guess).text);
    else
        yl_error(ctx, n, "unknown %s %s", kind, yl_quote(name).text);
    return -1;
}
