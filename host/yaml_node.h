/* yaml_node.h: typed reading of YAML nodes for the scenario loader (private to host/).
 *
 * Each reader checks one node against what the scenario format wants (a number in a range,
 * an integer, a string, a number-or-per-period list, a mapping with known keys) and reports
 * every mismatch at the node's position. Readers return true when the value is usable;
 * on false the problem has been reported (or memory ran out) and outputs are untouched
 * or NULL. Strings handed out are borrowed from the YAML document (valid until
 * yl_ctx_free). Also here: the id table that resolves references in O(1).
 */
#ifndef CAP_YAML_NODE_H
#define CAP_YAML_NODE_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "yaml_doc.h"

/* ---- node shape ----------------------------------------------------------------------- */

bool yl_present(yl_node n);
bool yl_is_list(yl_node n);
bool yl_is_mapping(yl_node n);
bool yl_is_null(yl_node n);  /* a plain scalar YAML reads as null: empty, ~, null */
size_t yl_length(yl_node n); /* entries of a list or pairs of a mapping, else 0 */
yl_node yl_item(yl_node list, size_t i);
yl_node yl_key(yl_node mapping, size_t i);
yl_node yl_value(yl_node mapping, size_t i);

/* A user value made safe and short for a message: quoted, at most about 40 characters,
 * control characters replaced. */
typedef struct {
    char text[64];
} yl_snippet;
yl_snippet yl_quote(const char *text);

/* What a node is, for "expected X, got Y" messages: "a list", "'abc'", "nothing", ... */
yl_snippet yl_describe(yl_node n);

/* ---- mappings with known keys -------------------------------------------------------- */

#define YL_MAX_KEYS 16

typedef struct {
    const char *what; /* "offering": names the mapping in messages */
    const char *const *keys;
    int key_count; /* at most YL_MAX_KEYS */
} yl_schema;

/* Sets values[k] to the value of schema->keys[k] (absent when not given). Reports a node
 * that is not a mapping, keys that are not strings, unknown keys (with a did-you-mean or
 * the allowed list) and duplicate keys. False only when `mapping` is not a mapping. */
bool yl_fields(yl_ctx *ctx, yl_node mapping, const yl_schema *schema, yl_node *values);

/* Reports "missing required key" at the mapping when values[key] is absent. */
bool yl_require(yl_ctx *ctx, yl_node mapping, const yl_schema *schema, const yl_node *values,
                int key);

/* ---- scalars -------------------------------------------------------------------------- */

typedef struct {
    double low, high;
    bool low_open; /* low itself is not allowed */
} yl_range;

#define YL_ANY_NUMBER  ((yl_range){-INFINITY, INFINITY, false})
#define YL_NONNEGATIVE ((yl_range){0.0, INFINITY, false})
#define YL_POSITIVE    ((yl_range){0.0, INFINITY, true})
#define YL_FRACTION    ((yl_range){0.0, 1.0, false})
#define YL_CORRELATION ((yl_range){-1.0, 1.0, false})

/* Every number of a scenario is 0 or has a magnitude in [YL_MIN_MAGNITUDE,
 * YL_MAX_MAGNITUDE], so that the model built from it (products of a few of them, and their
 * reciprocals in the simplex) stays finite: far beyond any real price, capacity, demand
 * or budget, and far below any meaningful fraction. */
#define YL_MAX_MAGNITUDE 1e15
#define YL_MIN_MAGNITUDE 1e-12

/* A finite number in `range` and within the magnitudes above. Only plain scalars are
 * numbers: "5" in quotes is a string. */
bool yl_number(yl_ctx *ctx, yl_node n, const char *field, yl_range range, double *out);

/* Same, but an absent node gives `fallback`. */
bool yl_number_or(yl_ctx *ctx, yl_node n, const char *field, yl_range range, double fallback,
                  double *out);

/* A whole number in [low, high] (both at most 2^53, where doubles are exact). */
bool yl_integer(yl_ctx *ctx, yl_node n, const char *field, double low, double high, double *out);

/* A whole number in 0..max, read exactly (decimal digits). */
bool yl_uint64(yl_ctx *ctx, yl_node n, const char *field, uint64_t max, uint64_t *out);

/* A non-empty string scalar (any quoting). */
bool yl_string(yl_ctx *ctx, yl_node n, const char *field, const char **out);

/* Reports unless n is a list. */
bool yl_list(yl_ctx *ctx, yl_node n, const char *field);

/* A number, expanded to period_count entries, or a list of exactly period_count numbers.
 * *out is malloc'd. When period_count is 0 (periods missing: reported elsewhere) any length
 * is accepted so that the entries are still checked. */
bool yl_per_period(yl_ctx *ctx, yl_node n, const char *field, yl_range range, int period_count,
                   double **out);

/* ---- ids ------------------------------------------------------------------------------ */

typedef struct {
    const char *id; /* borrowed; NULL marks an empty slot */
    int index;
    yl_node where;
} yl_id;

typedef struct {
    yl_id *slots;
    size_t capacity, count; /* capacity is a power of two, at least twice count */
} yl_ids;

void yl_ids_init(yl_ids *ids);
void yl_ids_free(yl_ids *ids);

/* Adds id -> index. A duplicate is reported as "duplicate KIND id 'x' (first defined at
 * F:L:C)" and returns false; so does running out of memory. */
bool yl_ids_add(yl_ctx *ctx, yl_ids *ids, const char *kind, const char *id, int index,
                yl_node where);

/* Index of id, or -1. */
int yl_ids_find(const yl_ids *ids, const char *id);

/* Resolves a reference node: the index of the id it names, or -1 when it is not a string
 * or names nothing ("unknown KIND 'x'; did you mean 'y'?"). */
int yl_reference(yl_ctx *ctx, yl_node n, const char *field, const yl_ids *ids, const char *kind);

#endif
