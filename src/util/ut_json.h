/*
 * ut_json.h — a small JSON reader (RFC 8259) that builds a read-only tree.
 *
 * Layer:     util. No policy, no engine types. Used by the CLI's spectest
 *            runner to read wabt's wast2json output, and by anything else
 *            that needs to read a small JSON document.
 * Ownership: ut_json_parse returns an owned tree; free it with ut_json_free.
 *            Every node and string returned by the accessors is valid until
 *            the tree is freed.
 * Safety:    the parser is recursive descent with a nesting limit, never
 *            reads past len, and reports every problem as an error (with
 *            line and column) instead of crashing. Input need not be
 *            NUL-terminated.
 * Accessors: accept NULL and nodes of the wrong type and then return
 *            NULL / 0 / false, so lookups chain without checks:
 *                const char *t = ut_json_str(ut_json_get(cmd, "type"));
 */
#ifndef UT_JSON_H
#define UT_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum ut_json_type {
    UT_JSON_NULL,
    UT_JSON_BOOL,
    UT_JSON_NUMBER,
    UT_JSON_STRING,
    UT_JSON_ARRAY,
    UT_JSON_OBJECT,
} ut_json_type;

typedef struct ut_json ut_json;

/* Where and why parsing failed. line and col are 1-based; offset is the
 * byte offset of the problem. */
typedef struct ut_json_err {
    size_t offset;
    size_t line;
    size_t col;
    char msg[96];
} ut_json_err;

#define UT_JSON_DEFAULT_DEPTH 128

/* Parses text[0..len). max_depth bounds array/object nesting (0 means
 * UT_JSON_DEFAULT_DEPTH). Returns an owned tree, or NULL with *err filled
 * (err may be NULL). Borrows text. */
ut_json *ut_json_parse(const char *text, size_t len, unsigned max_depth, ut_json_err *err);
void ut_json_free(ut_json *root);

ut_json_type ut_json_type_of(const ut_json *v); /* UT_JSON_NULL for NULL */

/* String value (NUL-terminated; *len gets the byte length, which differs
 * from strlen when the string contains \u0000). NULL if v is not a string.
 * len may be NULL. */
const char *ut_json_str(const ut_json *v);
const char *ut_json_strn(const ut_json *v, size_t *len);
/* Number value into *out; false if v is not a number. */
bool ut_json_num(const ut_json *v, double *out);
/* Boolean value into *out; false if v is not a boolean. */
bool ut_json_bool(const ut_json *v, bool *out);

/* Arrays and objects: element/member count (0 for other types). */
size_t ut_json_len(const ut_json *v);
/* Array element i, or NULL (out of range / not an array). */
const ut_json *ut_json_at(const ut_json *v, size_t i);
/* Object member by key (the first one if a key repeats), or NULL. */
const ut_json *ut_json_get(const ut_json *v, const char *key);
/* Object member i: its key (NULL if out of range) and value. */
const char *ut_json_key_at(const ut_json *v, size_t i, const ut_json **value);

#endif /* UT_JSON_H */
