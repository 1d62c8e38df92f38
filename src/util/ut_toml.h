/*
 * ut_toml.h — a small, strict TOML v1.0.0 reader that builds a read-only
 * tree (for config files such as WAGI's modules.toml).
 *
 * Layer:     util. No policy, no engine types. What a document means is the
 *            caller's business (src/wagi/wagi_modules.c reads modules.toml).
 * Owns:      the TOML 1.0 grammar and its table rules: comments, bare /
 *            quoted / dotted keys, basic and literal strings (single and
 *            multi-line; escapes \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX),
 *            integers (decimal, 0x / 0o / 0b, underscores between digits,
 *            exact 64-bit range), floats (incl. inf and nan), booleans,
 *            arrays (mixed element types allowed, as in 1.0), inline tables,
 *            [tables], [[arrays of tables]], and every "defined twice" error
 *            (duplicate keys, a [table] twice, dotted keys reopening a
 *            [table] or an inline table, [[x]] on a static array, ...).
 * Not here:  writing TOML; TOML 1.1 additions (newlines and trailing commas
 *            in inline tables, \e and \xHH escapes, times without seconds
 *            are all rejected).
 * Dates and times are validated (RFC 3339 shapes, month/day/hour ranges,
 *            leap years) but kept as text: a UT_TOML_DATETIME node holds
 *            the literal as written plus its kind (offset date-time, local
 *            date-time, local date, local time). No time arithmetic.
 * Ownership: ut_toml_parse returns an owned tree (the root table); free it
 *            with ut_toml_free. Every node and string returned by the
 *            accessors is valid until the tree is freed. The input is only
 *            borrowed during the call.
 * Safety:    never reads past len; the input need not be NUL-terminated and
 *            must be valid UTF-8 (checked first). Container nesting — inline
 *            arrays/tables and table paths alike — is bounded by max_depth,
 *            so recursion (parse, free) is bounded too. Every problem is an
 *            error with line and column, never a crash.
 * Positions: line and column are 1-based; the column counts characters
 *            (UTF-8 code points, a tab is one) from the start of the line.
 *            CRLF is accepted wherever LF is; a lone CR is an error.
 *            Multi-line strings are returned with CRLF normalised to LF.
 * Accessors: accept NULL and nodes of the wrong type and then return
 *            NULL / 0 / false, so lookups chain without checks:
 *                const char *r = ut_toml_str(ut_toml_get(ut_toml_at(mods, 0), "route"));
 */
#ifndef UT_TOML_H
#define UT_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ut_toml_type {
    UT_TOML_NONE, /* only for NULL */
    UT_TOML_STRING,
    UT_TOML_INTEGER,
    UT_TOML_FLOAT,
    UT_TOML_BOOL,
    UT_TOML_DATETIME,
    UT_TOML_ARRAY,
    UT_TOML_TABLE,
} ut_toml_type;

typedef enum ut_toml_dt_kind {
    UT_TOML_DT_OFFSET,     /* 1979-05-27T07:32:00Z, ...-07:00 */
    UT_TOML_DT_LOCAL,      /* 1979-05-27T07:32:00 */
    UT_TOML_DT_DATE,       /* 1979-05-27 */
    UT_TOML_DT_TIME,       /* 07:32:00.999 */
} ut_toml_dt_kind;

typedef struct ut_toml ut_toml;

/* Where and why parsing failed. line and col are 1-based (see Positions);
 * offset is the byte offset of the problem. msg is NUL-terminated. */
typedef struct ut_toml_err {
    size_t offset;
    size_t line;
    size_t col;
    char msg[128];
} ut_toml_err;

#define UT_TOML_DEFAULT_DEPTH 64
#define UT_TOML_MAX_DEPTH 512 /* larger max_depth values are clamped to this */

/* Parses text[0..len) as one TOML document. max_depth bounds nesting (0
 * means UT_TOML_DEFAULT_DEPTH): the root table is depth 0, each table,
 * array or array-of-tables element below it one more. Returns the root
 * table, or NULL with *err filled (err may be NULL). An empty document is
 * an empty table. A leading UTF-8 BOM is skipped. */
ut_toml *ut_toml_parse(const char *text, size_t len, unsigned max_depth, ut_toml_err *err);
void ut_toml_free(ut_toml *root);

ut_toml_type ut_toml_type_of(const ut_toml *v); /* UT_TOML_NONE for NULL */
/* "string", "integer", "float", "boolean", "datetime", "array", "table"
 * ("nothing" for UT_TOML_NONE): for error messages. */
const char *ut_toml_type_name(ut_toml_type t);

/* String value (NUL-terminated; *len gets the byte length, which differs
 * from strlen when the string contains \u0000). NULL if v is not a string
 * (a datetime is not a string: see ut_toml_datetime). len may be NULL. */
const char *ut_toml_str(const ut_toml *v);
const char *ut_toml_strn(const ut_toml *v, size_t *len);
/* Integer value into *out; false if v is not an integer. */
bool ut_toml_int(const ut_toml *v, int64_t *out);
/* Float value into *out; false if v is not a float (integers are not
 * converted: TOML keeps the two apart). */
bool ut_toml_float(const ut_toml *v, double *out);
/* Boolean value into *out; false if v is not a boolean. */
bool ut_toml_bool(const ut_toml *v, bool *out);
/* Date/time literal as written (e.g. "1979-05-27 07:32:00Z") and its kind
 * (kind may be NULL); NULL if v is not a datetime. */
const char *ut_toml_datetime(const ut_toml *v, ut_toml_dt_kind *kind);

/* Arrays and tables: element / member count (0 for other types). */
size_t ut_toml_len(const ut_toml *v);
/* Array element i, or NULL (out of range / not an array). An array of
 * tables ([[x]]) is an array whose elements are tables. */
const ut_toml *ut_toml_at(const ut_toml *v, size_t i);
/* Table member by key, or NULL. Keys are unique. getn takes a key that may
 * contain NUL bytes. */
const ut_toml *ut_toml_get(const ut_toml *v, const char *key);
const ut_toml *ut_toml_getn(const ut_toml *v, const char *key, size_t key_len);
/* Table member i in document order: its key (NULL if out of range), the
 * key's byte length and value (both optional). */
const char *ut_toml_key_at(const ut_toml *v, size_t i, size_t *key_len, const ut_toml **value);

/* Where v starts in the document: a value's first character; for tables
 * made by a [header] or [[header]], the header's '['; for tables made
 * implicitly by a dotted key or header path, the key part that named them.
 * The root is 1:1. false (and 0:0) for NULL. */
bool ut_toml_pos(const ut_toml *v, size_t *line, size_t *col);
/* Where the key of table member i was written (for "unknown key" errors);
 * for a member defined in several places (a table opened by [a.b] and
 * later [a]), the first. false if out of range. */
bool ut_toml_key_pos(const ut_toml *v, size_t i, size_t *line, size_t *col);

#endif /* UT_TOML_H */
