/*
 * fuzz_json.c — libFuzzer target: the JSON reader (src/util/ut_json.h) that
 * reads wabt's wast2json output.
 *
 * Owns:   ut_json_parse on arbitrary bytes (never reads past len, never
 *         crashes, leaks or hits UB; a failure fills the error with a
 *         terminated message), and every accessor on the resulting tree,
 *         including on nodes of the wrong type.
 * Build:  as fuzz_decode.c; needs only the util layer (-Isrc/util).
 */
#include "ut_json.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static size_t
walk(const ut_json *v, unsigned depth)
{
    size_t sum = (size_t)ut_json_type_of(v);
    double d;
    bool b;
    size_t len = 0;
    const char *s = ut_json_strn(v, &len);
    if (s) {
        if (s[len] != 0)
            __builtin_trap(); /* strings are NUL-terminated at their length */
        sum += len;
    }
    if (ut_json_num(v, &d))
        sum += (size_t)(d == d);
    if (ut_json_bool(v, &b))
        sum += b;
    /* Wrong-type and out-of-range queries must be harmless. */
    sum += (ut_json_at(v, ut_json_len(v)) != NULL);
    sum += (ut_json_get(v, "type") != NULL);
    sum += (ut_json_key_at(v, ut_json_len(v), NULL) != NULL);
    if (depth > 200)
        return sum;
    for (size_t i = 0; i < ut_json_len(v); i++) {
        const ut_json *child = ut_json_at(v, i);
        if (ut_json_type_of(v) == UT_JSON_OBJECT) {
            const char *key = ut_json_key_at(v, i, &child);
            if (!key)
                __builtin_trap();
            if (ut_json_get(v, key) == NULL)
                __builtin_trap(); /* every key must be found */
            sum += strlen(key);
        }
        sum += walk(child, depth + 1);
    }
    return sum;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ut_json_err err;
    memset(&err, 0, sizeof err);
    /* Small limit on the first byte's parity: exercise both the default and
     * a tight nesting limit. */
    unsigned depth = (size > 0 && (data[0] & 1)) ? 8 : 0;
    ut_json *root = ut_json_parse((const char *)data, size, depth, &err);
    if (!root) {
        if (memchr(err.msg, 0, sizeof err.msg) == NULL || err.line == 0 || err.col == 0)
            __builtin_trap();
        return 0;
    }
    (void)walk(root, 0);
    ut_json_free(root);
    return 0;
}
