/*
 * px_json.h — the SDK's JSON reader for plugin configurations (guest side,
 * also compiles natively for unit tests).
 *
 * Owns:     parsing RFC 8259 JSON text into a read-only tree, accessors.
 * Not here: writing JSON, streaming, comments or other extensions.
 *
 * A parsed document is one allocation tree freed with px_json_free(). Strings
 * are decoded (escapes, \u surrogate pairs → UTF-8) and NUL-terminated; their
 * byte length is kept too (they may contain NUL from \u0000).
 */
#ifndef PX_JSON_H
#define PX_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define PX_JSON_MAX_DEPTH 64

typedef enum {
    PX_JSON_NULL,
    PX_JSON_BOOL,
    PX_JSON_NUMBER,
    PX_JSON_STRING,
    PX_JSON_ARRAY,
    PX_JSON_OBJECT
} px_json_type;

typedef struct px_json px_json;
struct px_json {
    px_json_type type;
    bool boolean;
    double number;
    char *string;      /* PX_JSON_STRING: decoded, NUL-terminated */
    size_t string_len;
    char *key;         /* set when this value is an object member */
    size_t key_len;
    size_t count;      /* ARRAY/OBJECT: number of items */
    px_json **items;   /* ARRAY/OBJECT: items in document order */
};

/* Parses text[0..len). Returns NULL on error and writes a message with the
 * byte offset into err (if err_len > 0). Nesting deeper than
 * PX_JSON_MAX_DEPTH is an error. Trailing non-space text is an error. */
px_json *px_json_parse(const char *text, size_t len, char *err, size_t err_len);
void px_json_free(px_json *v);

/* Object member by key (first match), or NULL (also when v is not an object). */
const px_json *px_json_get(const px_json *v, const char *key);
/* Array/object item i, or NULL. */
const px_json *px_json_at(const px_json *v, size_t i);
size_t px_json_len(const px_json *v);

/* Typed member lookups with defaults (wrong type → default). */
const char *px_json_get_str(const px_json *obj, const char *key, const char *dflt);
double px_json_get_num(const px_json *obj, const char *key, double dflt);
bool px_json_get_bool(const px_json *obj, const char *key, bool dflt);

/* Copies an array of strings member into a NULL-terminated malloc'd vector
 * of malloc'd strings; *n gets the count. A non-array or a non-string item
 * returns false. A missing member gives an empty vector and true. */
bool px_json_get_strv(const px_json *obj, const char *key, char ***out, size_t *n);
void px_strv_free(char **v);

#endif
