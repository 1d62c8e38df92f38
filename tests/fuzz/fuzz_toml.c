/*
 * fuzz_toml.c — libFuzzer target for the TOML reader (src/util/ut_toml.h,
 * which reads WAGI's modules.toml).
 *
 * Owns:   feeding arbitrary bytes to ut_toml_parse (with the default and a
 *         tight nesting limit, chosen by the first byte's parity) and
 *         checking what it promises: a failure has a position (line, col >=
 *         1, offset <= size) and a NUL-terminated message; a success is a
 *         table whose every node has a position, whose strings and keys are
 *         NUL-terminated at their length, whose keys are all found again by
 *         ut_toml_getn, and whose depth stays within the limit. Every
 *         accessor is also called on nodes of the wrong type and with
 *         out-of-range indexes.
 * Not here: modules.toml semantics (wagi_modules.c stats and hashes the
 *         files a document names, which a fuzzer must not steer).
 * Build:  as fuzz_decode.c; needs only the util layer (-Isrc/util).
 */
#include "ut_toml.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static size_t walk(const ut_toml *v, unsigned depth, unsigned max_depth)
{
    size_t sum = (size_t)ut_toml_type_of(v);
    size_t len = 0, line = 0, col = 0;
    int64_t i;
    double d;
    bool b;
    ut_toml_dt_kind k;
    if (!ut_toml_pos(v, &line, &col) || line == 0 || col == 0)
        __builtin_trap();
    const char *s = ut_toml_strn(v, &len);
    if (s) {
        if (s[len] != 0)
            __builtin_trap(); /* strings are NUL-terminated at their length */
        sum += len;
    }
    const char *dt = ut_toml_datetime(v, &k);
    if (dt)
        sum += strlen(dt) + (size_t)k;
    if (ut_toml_int(v, &i))
        sum += (size_t)i;
    if (ut_toml_float(v, &d))
        sum += (size_t)(d == d);
    if (ut_toml_bool(v, &b))
        sum += b;
    /* Wrong-type and out-of-range queries must be harmless. */
    sum += (ut_toml_at(v, ut_toml_len(v)) != NULL);
    sum += (ut_toml_get(v, "module") != NULL);
    sum += (ut_toml_key_at(v, ut_toml_len(v), NULL, NULL) != NULL);
    sum += ut_toml_key_pos(v, ut_toml_len(v), NULL, NULL);
    if (ut_toml_type_of(v) == UT_TOML_TABLE || ut_toml_type_of(v) == UT_TOML_ARRAY) {
        if (depth > max_depth)
            __builtin_trap(); /* the nesting limit holds for every path */
    }
    for (size_t n = 0; n < ut_toml_len(v); n++) {
        const ut_toml *child = ut_toml_at(v, n);
        if (ut_toml_type_of(v) == UT_TOML_TABLE) {
            size_t kl = 0;
            const char *key = ut_toml_key_at(v, n, &kl, &child);
            if (!key || key[kl] != 0 || !child)
                __builtin_trap();
            if (ut_toml_getn(v, key, kl) != child)
                __builtin_trap(); /* every key is found, and keys are unique */
            if (!ut_toml_key_pos(v, n, &line, &col) || line == 0 || col == 0)
                __builtin_trap();
            sum += kl;
        } else if (!child) {
            __builtin_trap();
        }
        sum += walk(child, depth + 1, max_depth);
    }
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ut_toml_err err;
    memset(&err, 0, sizeof err);
    unsigned depth = (size > 0 && (data[0] & 1)) ? 4 : 0;
    ut_toml *root = ut_toml_parse((const char *)data, size, depth, &err);
    if (!root) {
        if (memchr(err.msg, 0, sizeof err.msg) == NULL || err.msg[0] == 0 || err.line == 0 ||
            err.col == 0 || err.offset > size)
            __builtin_trap();
        return 0;
    }
    if (ut_toml_type_of(root) != UT_TOML_TABLE)
        __builtin_trap();
    (void)walk(root, 0, depth ? depth : UT_TOML_DEFAULT_DEPTH);
    ut_toml_free(root);
    return 0;
}
