/*
 * gw_config_yaml.c — the typed YAML reader the config schema files walk
 * libyaml's node tree with (declared in gw_config_int.h).
 *
 * Owns:      the arena, field paths and error messages, node access with
 *            the work budget, mapping key checks (unknown / duplicate),
 *            scalar syntax (${ENV} expansion, numbers, booleans, durations,
 *            sizes, the runtime enum shared by plugins and WAGI modules).
 * Not here:  which keys exist and what they mean (gw_config.c,
 *            gw_config_routes.c), addresses (gw_config_addr.c).
 */
#include "gw_config_int.h"
#include "ut_units.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---------------------------------------------------------------- */

struct gwc_block {
    gwc_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

#define BLOCK_SIZE 16384

void *gwc_alloc(gwc_reader *r, size_t size)
{
    if (r->failed)
        return NULL;
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    gwc_block *b = *r->arena;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > BLOCK_SIZE / 2 ? size : BLOCK_SIZE;
        if (cap > SIZE_MAX - sizeof(gwc_block)) {
            gwc_fail(r, NULL, "out of memory");
            return NULL;
        }
        gwc_block *nb = malloc(sizeof(gwc_block) + cap);
        if (!nb) {
            gwc_fail(r, NULL, "out of memory");
            return NULL;
        }
        nb->used = 0;
        nb->cap = cap;
        if (b && cap != BLOCK_SIZE) { /* big one-off: keep filling the current block */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            *r->arena = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

void *gwc_array(gwc_reader *r, size_t n, size_t elem)
{
    if (elem && n > SIZE_MAX / 2 / elem) {
        gwc_fail(r, NULL, "out of memory");
        return NULL;
    }
    return gwc_alloc(r, n * elem);
}

char *gwc_strndup(gwc_reader *r, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = gwc_alloc(r, n + 1);
    if (p && n)
        memcpy(p, s, n);
    return p;
}

void gwc_arena_free(gwc_block *head)
{
    while (head) {
        gwc_block *next = head->next;
        free(head);
        head = next;
    }
}

/* ---- paths and errors ----------------------------------------------------- */

static size_t path_append(gwc_reader *r, const char *s)
{
    size_t mark = r->path_len;
    size_t n = strlen(s);
    size_t room = sizeof r->path - 1 - r->path_len;
    if (n > room)
        n = room;
    memcpy(r->path + r->path_len, s, n);
    r->path_len += n;
    r->path[r->path_len] = '\0';
    return mark;
}

size_t gwc_push_key(gwc_reader *r, const char *key)
{
    size_t mark = r->path_len;
    if (r->path_len)
        path_append(r, ".");
    path_append(r, key);
    return mark;
}

size_t gwc_push_index(gwc_reader *r, size_t i)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "[%zu]", i);
    size_t mark = r->path_len;
    path_append(r, tmp);
    return mark;
}

void gwc_pop(gwc_reader *r, size_t mark)
{
    if (mark <= r->path_len) {
        r->path_len = mark;
        r->path[mark] = '\0';
    }
}

void gwc_quote(char *out, size_t cap, const char *s, size_t n)
{
    if (cap == 0)
        return;
    size_t max = cap - 1, o = 0;
    bool cut = n > max;
    if (cut)
        n = max > 3 ? max - 3 : 0;
    for (size_t i = 0; i < n && o < max; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    for (int k = 0; cut && k < 3 && o < max; k++)
        out[o++] = '.';
    out[o] = '\0';
}

void gwc_fail(gwc_reader *r, const yaml_node_t *at, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = true;
    if (!r->err || r->err_len == 0)
        return;
    size_t line = at ? at->start_mark.line + 1 : 1;
    size_t col = at ? at->start_mark.column + 1 : 1;
    int n = snprintf(r->err, r->err_len, "%s:%zu:%zu: %s: ", r->source, line, col,
                     r->path_len ? r->path : "config");
    if (n < 0 || (size_t)n >= r->err_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err + n, r->err_len - (size_t)n, fmt, ap);
    va_end(ap);
}

/* ---- nodes ---------------------------------------------------------------- */

yaml_node_t *gwc_node(gwc_reader *r, int index)
{
    if (r->failed)
        return NULL;
    yaml_node_t *n = yaml_document_get_node(r->doc, index);
    if (r->budget == 0) {
        gwc_fail(r, n, "config too large: too many values after expanding aliases (use "
                       "fewer aliases of large lists or mappings)");
        return NULL;
    }
    r->budget--;
    return n;
}

bool gwc_is_null(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    return len == 0 || (len == 1 && s[0] == '~') ||
           (len == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

const char *gwc_kind(const yaml_node_t *n)
{
    if (!n)
        return "nothing";
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "mapping";
    case YAML_SEQUENCE_NODE:
        return "list";
    default:
        return gwc_is_null(n) ? "null" : "single value";
    }
}

static bool key_is(const yaml_node_t *k, const char *key)
{
    size_t n = strlen(key);
    return k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == n &&
           memcmp(k->data.scalar.value, key, n) == 0;
}

static void list_keys(char *out, size_t cap, const char *const *keys)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; keys[i] && o + 1 < cap; i++) {
        int n = snprintf(out + o, cap - o, "%s%s", i ? ", " : "", keys[i]);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

static void unknown_key(gwc_reader *r, const yaml_node_t *k, const char *const *keys)
{
    char name[64], expected[256];
    gwc_quote(name, sizeof name, (const char *)k->data.scalar.value, k->data.scalar.length);
    list_keys(expected, sizeof expected, keys);
    size_t mark = gwc_push_key(r, name);
    if (k->data.scalar.length == 2 && !memcmp(k->data.scalar.value, "<<", 2))
        gwc_fail(r, k, "YAML merge keys (<<) are not supported; repeat the keys or use an "
                       "alias for the whole value");
    else
        gwc_fail(r, k, "unknown key (expected one of: %s)", expected);
    gwc_pop(r, mark);
}

bool gwc_check_keys(gwc_reader *r, yaml_node_t *map, const char *const *keys)
{
    if (r->failed || !map)
        return false;
    if (map->type != YAML_MAPPING_NODE) {
        gwc_fail(r, map, "expected a mapping (key: value pairs), got a %s", gwc_kind(map));
        return false;
    }
    uint32_t seen = 0;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = gwc_node(r, p->key);
        if (!k)
            return false;
        if (k->type != YAML_SCALAR_NODE) {
            gwc_fail(r, k, "keys must be plain names, got a %s", gwc_kind(k));
            return false;
        }
        size_t i = 0;
        while (keys[i] && !key_is(k, keys[i]))
            i++;
        if (!keys[i]) {
            unknown_key(r, k, keys);
            return false;
        }
        if (i < 32 && (seen & (1u << i))) {
            size_t mark = gwc_push_key(r, keys[i]);
            gwc_fail(r, k, "duplicate key");
            gwc_pop(r, mark);
            return false;
        }
        if (i < 32)
            seen |= 1u << i;
    }
    return true;
}

yaml_node_t *gwc_get(gwc_reader *r, yaml_node_t *map, const char *key)
{
    if (r->failed || !map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        if (key_is(yaml_document_get_node(r->doc, p->key), key)) {
            yaml_node_t *v = gwc_node(r, p->value);
            return gwc_is_null(v) ? NULL : v;
        }
    }
    return NULL;
}

yaml_node_t *gwc_require(gwc_reader *r, yaml_node_t *map, const char *key)
{
    yaml_node_t *v = gwc_get(r, map, key);
    if (!v && !r->failed) {
        size_t mark = gwc_push_key(r, key);
        gwc_fail(r, map, "required");
        gwc_pop(r, mark);
    }
    return v;
}

size_t gwc_seq_len(gwc_reader *r, yaml_node_t *n)
{
    if (r->failed || !n)
        return 0;
    if (n->type != YAML_SEQUENCE_NODE) {
        gwc_fail(r, n, "expected a list, got a %s", gwc_kind(n));
        return 0;
    }
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *gwc_seq_at(gwc_reader *r, yaml_node_t *seq, size_t i)
{
    if (r->failed || !seq || seq->type != YAML_SEQUENCE_NODE)
        return NULL;
    return gwc_node(r, seq->data.sequence.items.start[i]);
}

/* ---- scalars -------------------------------------------------------------- */

static bool is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

/* Appends the expansion of "${...}" starting at s[i] (s[i..] == "${");
 * returns the index just past the closing brace, or 0 after failing. */
static size_t expand_var(gwc_reader *r, yaml_node_t *n, const char *s, size_t len, size_t i,
                         ut_buf *out)
{
    const char *close = memchr(s + i + 2, '}', len - i - 2);
    if (!close) {
        gwc_fail(r, n, "unterminated '${' (write '$${' for a literal '${')");
        return 0;
    }
    const char *name = s + i + 2, *end = close, *def = NULL;
    const char *sep = memmem(name, (size_t)(end - name), ":-", 2);
    if (sep) {
        def = sep + 2;
        end = sep;
    }
    size_t nlen = (size_t)(end - name);
    bool ok = nlen > 0 && nlen < 128 && is_name_start(name[0]);
    for (size_t k = 1; ok && k < nlen; k++)
        ok = is_name_start(name[k]) || (name[k] >= '0' && name[k] <= '9');
    char var[128];
    if (!ok) {
        gwc_quote(var, sizeof var, name, (size_t)(close - name));
        gwc_fail(r, n, "bad environment variable reference '${%s}': use ${NAME} or "
                       "${NAME:-default}", var);
        return 0;
    }
    memcpy(var, name, nlen);
    var[nlen] = '\0';
    const char *val = getenv(var);
    if (def && (!val || !*val))
        ut_buf_append(out, def, (size_t)(close - def));
    else if (val)
        ut_buf_puts(out, val);
    else {
        gwc_fail(r, n, "environment variable %s is not set (give a default: ${%s:-value})", var,
                 var);
        return 0;
    }
    return (size_t)(close - s) + 1;
}

static const char *expand(gwc_reader *r, yaml_node_t *n, const char *s, size_t len, size_t *out_len)
{
    ut_buf out = {0};
    const char *result = NULL;
    for (size_t i = 0; i < len;) {
        if (s[i] == '$' && i + 2 < len && s[i + 1] == '$' && s[i + 2] == '{') {
            ut_buf_append(&out, "${", 2);
            i += 3;
        } else if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
            i = expand_var(r, n, s, len, i, &out);
            if (!i)
                goto done;
        } else {
            ut_buf_putc(&out, s[i++]);
        }
    }
    if (out.oom) {
        gwc_fail(r, n, "out of memory");
        goto done;
    }
    *out_len = out.len;
    result = gwc_strndup(r, out.len ? out.data : "", out.len);
done:
    ut_buf_free(&out);
    return result;
}

const char *gwc_text(gwc_reader *r, yaml_node_t *n, size_t *len)
{
    if (r->failed || !n)
        return NULL;
    if (n->type != YAML_SCALAR_NODE || gwc_is_null(n)) {
        gwc_fail(r, n, "expected a single value, got a %s", gwc_kind(n));
        return NULL;
    }
    const char *s = (const char *)n->data.scalar.value;
    size_t l = n->data.scalar.length;
    if (!memmem(s, l, "${", 2)) {
        *len = l;
        return s;
    }
    return expand(r, n, s, l, len);
}

char *gwc_string(gwc_reader *r, yaml_node_t *n)
{
    size_t len = 0;
    const char *s = gwc_text(r, n, &len);
    if (!s)
        return NULL;
    if (memchr(s, '\0', len)) {
        gwc_fail(r, n, "must not contain a NUL character");
        return NULL;
    }
    return gwc_strndup(r, s, len);
}

/* Whole decimal number s[0..len): digits only, no overflow. */
bool gwc_parse_uint(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Reads a scalar with parse, then checks min..max; messages name the unit. */
static bool ranged(gwc_reader *r, yaml_node_t *n, uint64_t min, uint64_t max, uint64_t *out,
                   bool (*parse)(const char *, size_t, uint64_t *), const char *bad_fmt,
                   const char *unit)
{
    size_t len = 0;
    const char *s = gwc_text(r, n, &len);
    uint64_t v;
    char q[64];
    if (!s)
        return false;
    if (!parse(s, len, &v)) {
        gwc_quote(q, sizeof q, s, len);
        gwc_fail(r, n, bad_fmt, q);
        return false;
    }
    if (v < min || v > max) {
        gwc_fail(r, n, "must be between %llu and %llu%s, got %llu", (unsigned long long)min,
                 (unsigned long long)max, unit, (unsigned long long)v);
        return false;
    }
    *out = v;
    return true;
}

bool gwc_uint(gwc_reader *r, yaml_node_t *n, uint64_t min, uint64_t max, uint64_t *out)
{
    return ranged(r, n, min, max, out, gwc_parse_uint, "expected a whole number, got '%s'", "");
}

bool gwc_bool(gwc_reader *r, yaml_node_t *n, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False",
                                                                             "FALSE"};
    size_t len = 0;
    const char *s = gwc_text(r, n, &len);
    char q[64];
    if (!s)
        return false;
    for (int i = 0; i < 3; i++) {
        if (len == strlen(yes[i]) && !memcmp(s, yes[i], len)) {
            *out = true;
            return true;
        }
        if (len == strlen(no[i]) && !memcmp(s, no[i], len)) {
            *out = false;
            return true;
        }
    }
    gwc_quote(q, sizeof q, s, len);
    gwc_fail(r, n, "expected true or false, got '%s'", q);
    return false;
}

#define MAX_DURATION_MS 86400000u /* 24h */


bool gwc_duration(gwc_reader *r, yaml_node_t *n, uint32_t min_ms, uint32_t *out)
{
    size_t len = 0;
    const char *s = gwc_text(r, n, &len);
    uint64_t ms;
    char q[64];
    if (!s)
        return false;
    if (!ut_parse_duration_ms(s, len, &ms)) {
        gwc_quote(q, sizeof q, s, len);
        gwc_fail(r, n, "bad duration '%s' (use e.g. 250ms, 30s, 1.5m, 2h, or a whole number "
                       "of milliseconds)", q);
        return false;
    }
    if (ms < min_ms || ms > MAX_DURATION_MS) {
        gwc_fail(r, n, "must be between %ums and 24h, got %llums", (unsigned)min_ms,
                 (unsigned long long)ms);
        return false;
    }
    *out = (uint32_t)ms;
    return true;
}


bool gwc_size(gwc_reader *r, yaml_node_t *n, uint64_t min, uint64_t max, uint64_t *out)
{
    return ranged(r, n, min, max, out, ut_parse_size,
                  "bad size '%s' (use a number of bytes or e.g. 64KiB, 1MiB, 10MB)", " bytes");
}

/* ---- optional members ----------------------------------------------------- */

void gwc_opt_string(gwc_reader *r, yaml_node_t *map, const char *key, char **out)
{
    yaml_node_t *v = gwc_get(r, map, key);
    if (!v)
        return;
    size_t mark = gwc_push_key(r, key);
    char *s = gwc_string(r, v);
    if (s)
        *out = s;
    gwc_pop(r, mark);
}

void gwc_opt_u32(gwc_reader *r, yaml_node_t *map, const char *key, uint32_t min, uint32_t max,
                 uint32_t *out)
{
    yaml_node_t *v = gwc_get(r, map, key);
    if (!v)
        return;
    size_t mark = gwc_push_key(r, key);
    uint64_t x;
    if (gwc_uint(r, v, min, max, &x))
        *out = (uint32_t)x;
    gwc_pop(r, mark);
}

void gwc_opt_bool(gwc_reader *r, yaml_node_t *map, const char *key, bool *out)
{
    yaml_node_t *v = gwc_get(r, map, key);
    if (!v)
        return;
    size_t mark = gwc_push_key(r, key);
    gwc_bool(r, v, out);
    gwc_pop(r, mark);
}

void gwc_opt_duration(gwc_reader *r, yaml_node_t *map, const char *key, uint32_t min_ms,
                      uint32_t *out)
{
    yaml_node_t *v = gwc_get(r, map, key);
    if (!v)
        return;
    size_t mark = gwc_push_key(r, key);
    gwc_duration(r, v, min_ms, out);
    gwc_pop(r, mark);
}

void gwc_opt_size(gwc_reader *r, yaml_node_t *map, const char *key, uint64_t min, uint64_t max,
                  uint64_t *out)
{
    yaml_node_t *v = gwc_get(r, map, key);
    if (!v)
        return;
    size_t mark = gwc_push_key(r, key);
    gwc_size(r, v, min, max, out);
    gwc_pop(r, mark);
}

const char *gw_runtime_name(gw_runtime r)
{
    return r == GW_RUNTIME_AOT ? "aot" : r == GW_RUNTIME_AUTO ? "auto" : "interp";
}

void gwc_opt_runtime(gwc_reader *r, yaml_node_t *map, gw_runtime *out)
{
    static const gw_runtime all[] = {GW_RUNTIME_INTERP, GW_RUNTIME_AOT, GW_RUNTIME_AUTO};
    yaml_node_t *v = gwc_get(r, map, "runtime");
    if (!v)
        return;
    size_t mark = gwc_push_key(r, "runtime");
    char *s = gwc_string(r, v), q[64];
    bool ok = false;
    for (size_t i = 0; s && i < sizeof all / sizeof all[0] && !ok; i++)
        if (!strcmp(s, gw_runtime_name(all[i]))) {
            *out = all[i];
            ok = true;
        }
    if (s && !ok) {
        gwc_quote(q, sizeof q, s, strlen(s));
        gwc_fail(r, v, "unknown runtime '%s' (expected interp, aot or auto)", q);
    }
    gwc_pop(r, mark);
}
