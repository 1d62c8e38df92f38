/*
 * ut_json.c — recursive-descent JSON reader behind ut_json.h.
 *
 * Owns:      parsing (RFC 8259 grammar, strict: no comments, no trailing
 *            commas, no leading zeros, control characters must be escaped)
 *            and the node tree. Strings are decoded to UTF-8; a lone
 *            surrogate escape is kept as its 3-byte WTF-8 form rather than
 *            rejected, and raw bytes >= 0x80 are copied as they are.
 * Not here:  any meaning of the document (the spectest runner interprets
 *            wast2json commands), writing JSON.
 * Invariant: the cursor never passes end; every allocation failure and
 *            syntax error unwinds to ut_json_parse, which frees the partial
 *            tree. Nesting is bounded by max_depth, so recursion is too.
 * Ownership: nodes are malloc'd one by one and freed by ut_json_free.
 */
#include "ut_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ut_json {
    ut_json_type type;
    size_t n;  /* string bytes, or element / member count */
    size_t cap;
    union {
        bool b;
        double num;
        char *str;     /* NUL-terminated, n bytes */
        ut_json **arr; /* n elements */
        struct {
            char **keys;
            ut_json **vals;
        } obj;
    } u;
};

typedef struct parser {
    const char *p;
    const char *start;
    const char *end;
    unsigned depth;
    unsigned max_depth;
    ut_json_err *err;
    bool failed;
} parser;

static ut_json *parse_value(parser *ps);

static void fail(parser *ps, const char *msg)
{
    if (ps->failed)
        return;
    ps->failed = true;
    if (!ps->err)
        return;
    size_t line = 1, col = 1;
    for (const char *q = ps->start; q < ps->p; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    ps->err->offset = (size_t)(ps->p - ps->start);
    ps->err->line = line;
    ps->err->col = col;
    snprintf(ps->err->msg, sizeof ps->err->msg, "%s", msg);
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static ut_json *new_node(parser *ps, ut_json_type t)
{
    ut_json *v = calloc(1, sizeof *v);
    if (!v)
        fail(ps, "out of memory");
    else
        v->type = t;
    return v;
}

/* ---- strings ----------------------------------------------------------- */

typedef struct strbuf {
    char *data;
    size_t len, cap;
} strbuf;

static bool sb_put(strbuf *sb, const char *s, size_t n)
{
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 16;
        while (cap < sb->len + n + 1)
            cap *= 2;
        char *d = realloc(sb->data, cap);
        if (!d)
            return false;
        sb->data = d;
        sb->cap = cap;
    }
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
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

/* Reads the 4 hex digits after "\u"; -1 on error. */
static long read_hex4(parser *ps)
{
    if (ps->end - ps->p < 4) {
        fail(ps, "truncated \\u escape");
        return -1;
    }
    long cp = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(ps->p[i]);
        if (h < 0) {
            fail(ps, "bad hex digit in \\u escape");
            return -1;
        }
        cp = cp * 16 + h;
    }
    ps->p += 4;
    return cp;
}

static size_t utf8_encode(unsigned long cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* After a backslash: appends the decoded escape. */
static bool parse_escape(parser *ps, strbuf *sb)
{
    if (ps->p >= ps->end) {
        fail(ps, "unterminated string");
        return false;
    }
    char c = *ps->p++;
    const char *simple = NULL;
    switch (c) {
    case '"': simple = "\""; break;
    case '\\': simple = "\\"; break;
    case '/': simple = "/"; break;
    case 'b': simple = "\b"; break;
    case 'f': simple = "\f"; break;
    case 'n': simple = "\n"; break;
    case 'r': simple = "\r"; break;
    case 't': simple = "\t"; break;
    case 'u': break;
    default:
        ps->p--;
        fail(ps, "bad escape in string");
        return false;
    }
    if (simple)
        return sb_put(sb, simple, 1) || (fail(ps, "out of memory"), false);

    long cp = read_hex4(ps);
    if (cp < 0)
        return false;
    /* A high surrogate followed by "\uDC00".."\uDFFF" is one code point. */
    if (cp >= 0xD800 && cp <= 0xDBFF && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
        ps->p[1] == 'u') {
        const char *save = ps->p;
        ps->p += 2;
        long lo = read_hex4(ps);
        if (lo < 0)
            return false;
        if (lo >= 0xDC00 && lo <= 0xDFFF)
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        else
            ps->p = save; /* not a pair: emit both separately */
    }
    char buf[4];
    size_t n = utf8_encode((unsigned long)cp, buf);
    return sb_put(sb, buf, n) || (fail(ps, "out of memory"), false);
}

/* At the opening quote. Returns the decoded string (malloc'd) or NULL. */
static char *parse_string_raw(parser *ps, size_t *len_out)
{
    strbuf sb = {0};
    ps->p++; /* opening quote */
    if (!sb_put(&sb, "", 0)) {
        fail(ps, "out of memory");
        return NULL;
    }
    for (;;) {
        const char *run = ps->p;
        while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' &&
               (unsigned char)*ps->p >= 0x20)
            ps->p++;
        if (ps->p > run && !sb_put(&sb, run, (size_t)(ps->p - run))) {
            fail(ps, "out of memory");
            goto out_free;
        }
        if (ps->p >= ps->end) {
            fail(ps, "unterminated string");
            goto out_free;
        }
        char c = *ps->p;
        if (c == '"') {
            ps->p++;
            *len_out = sb.len;
            return sb.data;
        }
        if (c != '\\') {
            fail(ps, "control character in string");
            goto out_free;
        }
        ps->p++;
        if (!parse_escape(ps, &sb))
            goto out_free;
    }
out_free:
    free(sb.data);
    return NULL;
}

static ut_json *parse_string(parser *ps)
{
    size_t n;
    char *s = parse_string_raw(ps, &n);
    if (!s)
        return NULL;
    ut_json *v = new_node(ps, UT_JSON_STRING);
    if (!v) {
        free(s);
        return NULL;
    }
    v->u.str = s;
    v->n = n;
    return v;
}

/* ---- numbers and literals ------------------------------------------------ */

static bool is_digit(const parser *ps)
{
    return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

static ut_json *parse_number(parser *ps)
{
    const char *s = ps->p;
    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (!is_digit(ps)) {
        fail(ps, "bad number");
        return NULL;
    }
    if (*ps->p == '0') {
        ps->p++;
        if (is_digit(ps)) {
            fail(ps, "leading zero in number");
            return NULL;
        }
    } else {
        while (is_digit(ps))
            ps->p++;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (!is_digit(ps)) {
            fail(ps, "digit expected after '.'");
            return NULL;
        }
        while (is_digit(ps))
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (!is_digit(ps)) {
            fail(ps, "digit expected in exponent");
            return NULL;
        }
        while (is_digit(ps))
            ps->p++;
    }
    /* strtod needs a NUL-terminated copy; the input may not have one. */
    size_t n = (size_t)(ps->p - s);
    char small[64];
    char *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf) {
        fail(ps, "out of memory");
        return NULL;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    double d = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    ut_json *v = new_node(ps, UT_JSON_NUMBER);
    if (v)
        v->u.num = d;
    return v;
}

static ut_json *parse_literal(parser *ps)
{
    static const struct {
        const char *word;
        ut_json_type type;
        bool b;
    } lits[] = {
        {"null", UT_JSON_NULL, false},
        {"true", UT_JSON_BOOL, true},
        {"false", UT_JSON_BOOL, false},
    };
    for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
        size_t n = strlen(lits[i].word);
        if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, lits[i].word, n) == 0) {
            ps->p += n;
            ut_json *v = new_node(ps, lits[i].type);
            if (v)
                v->u.b = lits[i].b;
            return v;
        }
    }
    fail(ps, "unexpected character");
    return NULL;
}

/* ---- arrays and objects ---------------------------------------------------- */

static bool grow(parser *ps, ut_json *v)
{
    if (v->n < v->cap)
        return true;
    size_t cap = v->cap ? v->cap * 2 : 4;
    if (v->type == UT_JSON_ARRAY) {
        ut_json **a = realloc(v->u.arr, cap * sizeof *a);
        if (!a)
            goto oom;
        v->u.arr = a;
    } else {
        char **k = realloc(v->u.obj.keys, cap * sizeof *k);
        if (!k)
            goto oom;
        v->u.obj.keys = k;
        ut_json **a = realloc(v->u.obj.vals, cap * sizeof *a);
        if (!a)
            goto oom;
        v->u.obj.vals = a;
    }
    v->cap = cap;
    return true;
oom:
    fail(ps, "out of memory");
    return false;
}

/* Shared loop of arrays and objects: at the opening bracket. */
static ut_json *parse_container(parser *ps, ut_json_type t)
{
    char close = t == UT_JSON_ARRAY ? ']' : '}';
    if (++ps->depth > ps->max_depth) {
        fail(ps, "nesting too deep");
        return NULL;
    }
    ps->p++;
    ut_json *v = new_node(ps, t);
    if (!v)
        return NULL;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return v;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (t == UT_JSON_OBJECT) {
            size_t klen;
            if (ps->p >= ps->end || *ps->p != '"') {
                fail(ps, "object key expected");
                goto out_free;
            }
            key = parse_string_raw(ps, &klen);
            if (!key)
                goto out_free;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                fail(ps, "':' expected");
                goto out_free;
            }
            ps->p++;
        }
        ut_json *elem = parse_value(ps);
        if (!elem || !grow(ps, v)) {
            free(key);
            ut_json_free(elem);
            goto out_free;
        }
        if (t == UT_JSON_ARRAY) {
            v->u.arr[v->n++] = elem;
        } else {
            v->u.obj.keys[v->n] = key;
            v->u.obj.vals[v->n++] = elem;
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            ps->depth--;
            return v;
        }
        fail(ps, t == UT_JSON_ARRAY ? "',' or ']' expected" : "',' or '}' expected");
        goto out_free;
    }
out_free:
    ut_json_free(v);
    return NULL;
}

static ut_json *parse_value(parser *ps)
{
    skip_ws(ps);
    if (ps->p >= ps->end) {
        fail(ps, "unexpected end of input");
        return NULL;
    }
    switch (*ps->p) {
    case '{': return parse_container(ps, UT_JSON_OBJECT);
    case '[': return parse_container(ps, UT_JSON_ARRAY);
    case '"': return parse_string(ps);
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return parse_number(ps);
    default: return parse_literal(ps);
    }
}

ut_json *ut_json_parse(const char *text, size_t len, unsigned max_depth, ut_json_err *err)
{
    parser ps = {
        .p = text ? text : "",
        .max_depth = max_depth ? max_depth : UT_JSON_DEFAULT_DEPTH,
        .err = err,
    };
    ps.start = ps.p;
    ps.end = text ? text + len : ps.p;
    if (err)
        memset(err, 0, sizeof *err);
    if (!text) {
        fail(&ps, "no input");
        return NULL;
    }
    ut_json *v = parse_value(&ps);
    if (!v)
        return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        fail(&ps, "trailing characters after the value");
        ut_json_free(v);
        return NULL;
    }
    return v;
}

void ut_json_free(ut_json *v)
{
    if (!v)
        return;
    switch (v->type) {
    case UT_JSON_STRING:
        free(v->u.str);
        break;
    case UT_JSON_ARRAY:
        for (size_t i = 0; i < v->n; i++)
            ut_json_free(v->u.arr[i]);
        free(v->u.arr);
        break;
    case UT_JSON_OBJECT:
        for (size_t i = 0; i < v->n; i++) {
            free(v->u.obj.keys[i]);
            ut_json_free(v->u.obj.vals[i]);
        }
        free(v->u.obj.keys);
        free(v->u.obj.vals);
        break;
    default:
        break;
    }
    free(v);
}

/* ---- accessors ------------------------------------------------------------- */

ut_json_type ut_json_type_of(const ut_json *v)
{
    return v ? v->type : UT_JSON_NULL;
}

const char *ut_json_strn(const ut_json *v, size_t *len)
{
    if (!v || v->type != UT_JSON_STRING)
        return NULL;
    if (len)
        *len = v->n;
    return v->u.str;
}

const char *ut_json_str(const ut_json *v)
{
    return ut_json_strn(v, NULL);
}

bool ut_json_num(const ut_json *v, double *out)
{
    if (!v || v->type != UT_JSON_NUMBER)
        return false;
    *out = v->u.num;
    return true;
}

bool ut_json_bool(const ut_json *v, bool *out)
{
    if (!v || v->type != UT_JSON_BOOL)
        return false;
    *out = v->u.b;
    return true;
}

size_t ut_json_len(const ut_json *v)
{
    if (!v || (v->type != UT_JSON_ARRAY && v->type != UT_JSON_OBJECT))
        return 0;
    return v->n;
}

const ut_json *ut_json_at(const ut_json *v, size_t i)
{
    if (!v || v->type != UT_JSON_ARRAY || i >= v->n)
        return NULL;
    return v->u.arr[i];
}

const ut_json *ut_json_get(const ut_json *v, const char *key)
{
    if (!v || v->type != UT_JSON_OBJECT || !key)
        return NULL;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->u.obj.keys[i], key) == 0)
            return v->u.obj.vals[i];
    return NULL;
}

const char *ut_json_key_at(const ut_json *v, size_t i, const ut_json **value)
{
    if (!v || v->type != UT_JSON_OBJECT || i >= v->n) {
        if (value)
            *value = NULL;
        return NULL;
    }
    if (value)
        *value = v->u.obj.vals[i];
    return v->u.obj.keys[i];
}
