/*
 * px_json.c — recursive-descent JSON parser for the guest SDK.
 *
 * Owns:     grammar (RFC 8259), string unescaping, depth limit, accessors.
 * Not here: number formatting, serialisation.
 */
#include "px_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t len, pos;
    char *err;
    size_t err_len;
    bool failed;
} parser;

static void fail(parser *p, const char *msg)
{
    if (p->failed)
        return;
    p->failed = true;
    if (p->err && p->err_len)
        snprintf(p->err, p->err_len, "json: %s at offset %zu", msg, p->pos);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static px_json *new_value(px_json_type t)
{
    px_json *v = calloc(1, sizeof *v);
    if (v)
        v->type = t;
    return v;
}

static bool push_item(px_json *parent, px_json *item)
{
    size_t n = parent->count;
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) { /* capacity 4, 8, 16, ... */
        size_t cap = n ? n * 2 : 4;
        px_json **n = realloc(parent->items, cap * sizeof *n);
        if (!n)
            return false;
        parent->items = n;
    }
    parent->items[parent->count++] = item;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool read_hex4(parser *p, uint32_t *out)
{
    if (p->len - p->pos < 4) {
        fail(p, "truncated \\u escape");
        return false;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p->s[p->pos + i]);
        if (h < 0) {
            fail(p, "bad \\u escape");
            return false;
        }
        v = v << 4 | (uint32_t)h;
    }
    p->pos += 4;
    *out = v;
    return true;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* At the opening quote. Decoded output is never longer than the input. */
static bool parse_string(parser *p, char **out, size_t *out_len)
{
    p->pos++; /* '"' */
    size_t start = p->pos;
    size_t end = start;
    while (end < p->len && p->s[end] != '"') {
        if (p->s[end] == '\\')
            end++;
        end++;
    }
    if (end >= p->len) {
        fail(p, "unterminated string");
        return false;
    }
    char *buf = malloc(end - start + 1);
    if (!buf) {
        fail(p, "out of memory");
        return false;
    }
    size_t n = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) {
            fail(p, "control character in string");
            goto bad;
        }
        if (c != '\\') {
            buf[n++] = (char)c;
            p->pos++;
            continue;
        }
        p->pos++;
        char e = p->s[p->pos++];
        switch (e) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u': {
            uint32_t cp;
            if (!read_hex4(p, &cp))
                goto bad;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (p->pos + 2 > end || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                    fail(p, "lone high surrogate");
                    goto bad;
                }
                p->pos += 2;
                if (!read_hex4(p, &lo))
                    goto bad;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    fail(p, "bad low surrogate");
                    goto bad;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fail(p, "lone low surrogate");
                goto bad;
            }
            n += put_utf8(buf + n, cp);
            break;
        }
        default:
            fail(p, "bad escape");
            goto bad;
        }
    }
    p->pos = end + 1;
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return true;
bad:
    free(buf);
    return false;
}

static bool parse_number(parser *p, double *out)
{
    size_t i = p->pos;
    const char *s = p->s;
    if (i < p->len && s[i] == '-')
        i++;
    if (i >= p->len)
        goto bad;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < p->len && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        goto bad;
    }
    if (i < p->len && s[i] == '.') {
        i++;
        if (i >= p->len || s[i] < '0' || s[i] > '9')
            goto bad;
        while (i < p->len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= p->len || s[i] < '0' || s[i] > '9')
            goto bad;
        while (i < p->len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    char tmp[64];
    size_t n = i - p->pos;
    if (n >= sizeof tmp) {
        char *big = malloc(n + 1);
        if (!big)
            goto bad;
        memcpy(big, s + p->pos, n);
        big[n] = '\0';
        *out = strtod(big, NULL);
        free(big);
    } else {
        memcpy(tmp, s + p->pos, n);
        tmp[n] = '\0';
        *out = strtod(tmp, NULL);
    }
    p->pos = i;
    return true;
bad:
    fail(p, "bad number");
    return false;
}

static bool literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos >= n && memcmp(p->s + p->pos, word, n) == 0) {
        p->pos += n;
        return true;
    }
    fail(p, "unexpected token");
    return false;
}

static px_json *parse_value(parser *p, int depth);

static px_json *parse_container(parser *p, int depth, bool is_object)
{
    px_json *v = new_value(is_object ? PX_JSON_OBJECT : PX_JSON_ARRAY);
    if (!v) {
        fail(p, "out of memory");
        return NULL;
    }
    char close = is_object ? '}' : ']';
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        size_t key_len = 0;
        skip_ws(p);
        if (is_object) {
            if (p->pos >= p->len || p->s[p->pos] != '"') {
                fail(p, "expected object key");
                goto bad;
            }
            if (!parse_string(p, &key, &key_len))
                goto bad;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                free(key);
                fail(p, "expected ':'");
                goto bad;
            }
            p->pos++;
        }
        px_json *item = parse_value(p, depth + 1);
        if (!item) {
            free(key);
            goto bad;
        }
        item->key = key;
        item->key_len = key_len;
        if (!push_item(v, item)) {
            px_json_free(item);
            fail(p, "out of memory");
            goto bad;
        }
        skip_ws(p);
        if (p->pos >= p->len) {
            fail(p, "unterminated container");
            goto bad;
        }
        char c = p->s[p->pos++];
        if (c == close)
            return v;
        if (c != ',') {
            p->pos--;
            fail(p, "expected ',' or closing bracket");
            goto bad;
        }
    }
bad:
    px_json_free(v);
    return NULL;
}

static px_json *parse_value(parser *p, int depth)
{
    if (depth > PX_JSON_MAX_DEPTH) {
        fail(p, "nesting too deep");
        return NULL;
    }
    skip_ws(p);
    if (p->pos >= p->len) {
        fail(p, "unexpected end of input");
        return NULL;
    }
    char c = p->s[p->pos];
    px_json *v;
    switch (c) {
    case '{':
    case '[':
        return parse_container(p, depth, c == '{');
    case '"':
        v = new_value(PX_JSON_STRING);
        if (v && parse_string(p, &v->string, &v->string_len))
            return v;
        free(v);
        if (!v)
            fail(p, "out of memory");
        return NULL;
    case 't':
    case 'f':
        if (!literal(p, c == 't' ? "true" : "false"))
            return NULL;
        v = new_value(PX_JSON_BOOL);
        if (v)
            v->boolean = c == 't';
        return v;
    case 'n':
        return literal(p, "null") ? new_value(PX_JSON_NULL) : NULL;
    default: {
        double d;
        if (!parse_number(p, &d))
            return NULL;
        v = new_value(PX_JSON_NUMBER);
        if (v)
            v->number = d;
        return v;
    }
    }
}

px_json *px_json_parse(const char *text, size_t len, char *err, size_t err_len)
{
    parser p = {text, len, 0, err, err_len, false};
    if (err && err_len)
        err[0] = '\0';
    px_json *v = parse_value(&p, 1);
    if (!v) {
        fail(&p, "parse error");
        return NULL;
    }
    skip_ws(&p);
    if (p.pos != p.len) {
        fail(&p, "trailing characters");
        px_json_free(v);
        return NULL;
    }
    return v;
}

void px_json_free(px_json *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->count; i++)
        px_json_free(v->items[i]);
    free(v->items);
    free(v->string);
    free(v->key);
    free(v);
}

const px_json *px_json_get(const px_json *v, const char *key)
{
    if (!v || v->type != PX_JSON_OBJECT)
        return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < v->count; i++)
        if (v->items[i]->key_len == n && memcmp(v->items[i]->key, key, n) == 0)
            return v->items[i];
    return NULL;
}

const px_json *px_json_at(const px_json *v, size_t i)
{
    if (!v || (v->type != PX_JSON_ARRAY && v->type != PX_JSON_OBJECT) || i >= v->count)
        return NULL;
    return v->items[i];
}

size_t px_json_len(const px_json *v)
{
    return v && (v->type == PX_JSON_ARRAY || v->type == PX_JSON_OBJECT) ? v->count : 0;
}

const char *px_json_get_str(const px_json *obj, const char *key, const char *dflt)
{
    const px_json *v = px_json_get(obj, key);
    return v && v->type == PX_JSON_STRING ? v->string : dflt;
}

double px_json_get_num(const px_json *obj, const char *key, double dflt)
{
    const px_json *v = px_json_get(obj, key);
    return v && v->type == PX_JSON_NUMBER ? v->number : dflt;
}

bool px_json_get_bool(const px_json *obj, const char *key, bool dflt)
{
    const px_json *v = px_json_get(obj, key);
    return v && v->type == PX_JSON_BOOL ? v->boolean : dflt;
}

bool px_json_get_strv(const px_json *obj, const char *key, char ***out, size_t *n)
{
    const px_json *v = px_json_get(obj, key);
    size_t count = 0;
    *out = NULL;
    if (n)
        *n = 0;
    if (v && v->type != PX_JSON_ARRAY)
        return false;
    if (v)
        count = v->count;
    char **vec = calloc(count + 1, sizeof *vec);
    if (!vec)
        return false;
    for (size_t i = 0; i < count; i++) {
        const px_json *it = v->items[i];
        if (it->type != PX_JSON_STRING || !(vec[i] = strdup(it->string))) {
            px_strv_free(vec);
            return false;
        }
    }
    *out = vec;
    if (n)
        *n = count;
    return true;
}

void px_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}
