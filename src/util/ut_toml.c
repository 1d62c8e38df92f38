/*
 * ut_toml.c — recursive-descent TOML v1.0.0 reader behind ut_toml.h.
 *
 * Owns:      the grammar (strict 1.0: see ut_toml.h for what is accepted
 *            and what is not), the table-definition rules and the node
 *            tree. Strings are decoded to UTF-8; the whole input is checked
 *            to be UTF-8 first, so every string in the tree is too.
 * Not here:  any meaning of the document (src/wagi/wagi_modules.c gives
 *            modules.toml its meaning), writing TOML, time arithmetic.
 * Table rules (TOML 1.0 "Table" / "Inline Table" / "Array of Tables"): each
 *            table remembers how it came to be —
 *              IMPLICIT  made as an intermediate of a [a.b.c] header path;
 *                        may later be defined once by its own [header]
 *              EXPLICIT  defined by a [header] or a [[header]] element
 *              DOTTED    made (or extended) by dotted keys a.b = 1; a
 *                        [header] naming it is a redefinition, but headers
 *                        may define sub-tables below it
 *              INLINE    an inline table { ... }: closed, nothing may add
 *                        to it afterwards
 *            and each array whether it is STATIC ([1, 2]) or an array of
 *            tables (AOT, [[x]]), which only [[x]] may append to.
 * Invariant: the cursor never passes end; every allocation failure and
 *            syntax error sets ps->failed and unwinds to ut_toml_parse,
 *            which frees the partial tree (all nodes are linked into it as
 *            soon as they are made, or freed by their maker). Nesting is
 *            bounded by max_depth, so recursion is too.
 * Ownership: nodes, keys and strings are malloc'd one by one and freed by
 *            ut_toml_free.
 */
#include "ut_toml.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TBL_IMPLICIT = 1, TBL_EXPLICIT, TBL_DOTTED, TBL_INLINE };
enum { ARR_STATIC = 1, ARR_AOT };

typedef struct member {
    char *key; /* NUL-terminated, klen bytes */
    size_t klen;
    ut_toml *val;
    size_t line, col; /* of the key */
} member;

struct ut_toml {
    ut_toml_type type;
    unsigned char kind; /* TBL_* for tables, ARR_* for arrays, dt kind for datetimes */
    unsigned depth;
    size_t line, col;
    size_t n, cap; /* elements / members */
    union {
        bool b;
        int64_t i;
        double f;
        struct {
            char *s; /* NUL-terminated, len bytes */
            size_t len;
        } str;
        ut_toml **items;
        member *members;
    } u;
};

typedef struct parser {
    const char *start; /* the text as given (offsets count from here) */
    const char *body;  /* after a BOM: line 1, column 1 */
    const char *p;
    const char *end;
    unsigned max_depth;
    ut_toml_err *err;
    bool failed;
    ut_toml *root;
    ut_toml *cur; /* the table key/value lines go into */
    /* Position cache: positions are asked for in mostly increasing order. */
    const char *pc_at;
    size_t pc_line, pc_col;
} parser;

typedef struct keypart {
    char *s;
    size_t len;
    const char *at;
    size_t line, col; /* of at */
} keypart;

typedef struct keypath {
    keypart *parts;
    size_t n, cap;
} keypath;

typedef struct strbuf {
    char *data;
    size_t len, cap;
} strbuf;

static ut_toml *parse_value(parser *ps, unsigned depth);

/* ---- positions and errors ---------------------------------------------------- */

/* Line and column of at. Positions are asked for in nearly increasing
 * order; going back (a key after its value) costs the distance back, plus
 * the length of at's line when a newline is crossed. */
static void locate(parser *ps, const char *at, size_t *line, size_t *col)
{
    if (at > ps->end)
        at = ps->end;
    if (at < ps->body) {
        *line = 1;
        *col = 1;
        return;
    }
    const char *q = ps->pc_at;
    size_t l = ps->pc_line, c = ps->pc_col;
    if (at < q) {
        bool crossed = false;
        while (q > at) {
            q--;
            if (*q == '\n') {
                l--;
                crossed = true;
            } else if (((unsigned char)*q & 0xC0) != 0x80) {
                c--;
            }
        }
        if (crossed) {
            const char *ls = at;
            while (ls > ps->body && ls[-1] != '\n')
                ls--;
            for (c = 1; ls < at; ls++)
                if (((unsigned char)*ls & 0xC0) != 0x80)
                    c++;
        }
    }
    for (; q < at; q++) {
        if (*q == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)*q & 0xC0) != 0x80) {
            c++;
        }
    }
    ps->pc_at = at;
    ps->pc_line = l;
    ps->pc_col = c;
    *line = l;
    *col = c;
}

__attribute__((format(printf, 3, 4)))
static void fail_at(parser *ps, const char *at, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = true;
    if (!ps->err)
        return;
    if (at > ps->end)
        at = ps->end;
    locate(ps, at, &ps->err->line, &ps->err->col);
    ps->err->offset = (size_t)(at - ps->start);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err->msg, sizeof ps->err->msg, fmt, ap);
    va_end(ap);
}

#define fail(ps, ...) fail_at((ps), (ps)->p, __VA_ARGS__)

/* A key or token for a message: printable ASCII as is, other bytes as
 * \xHH, cut to fit out (32 bytes). */
static const char *quote(char out[32], const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool plain = c >= 0x20 && c < 0x7f && c != '\\';
        size_t need = plain ? 1 : 4;
        if (o + need > 27) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (plain) {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}

/* The character at p for a message: 'x', "end of input", "a newline", or
 * a code point. */
static const char *describe(parser *ps, const char *p, char out[32])
{
    if (p >= ps->end)
        return "the end of the input";
    unsigned char c = (unsigned char)*p;
    if (c == '\n' || c == '\r')
        return "the end of the line";
    if (c >= 0x20 && c < 0x7f) {
        snprintf(out, 32, "'%c'", (char)c);
        return out;
    }
    if (c < 0x80) {
        snprintf(out, 32, "control character U+%04X", (unsigned)c);
        return out;
    }
    return "a non-ASCII character";
}

/* ---- characters ---------------------------------------------------------------- */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_bare(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' ||
           c == '-';
}

/* Control characters not allowed in strings and comments (tab is fine). */
static bool is_ctrl(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && is_ws(*ps->p))
        ps->p++;
}

static bool at_newline(const parser *ps, const char *p)
{
    return p < ps->end && (*p == '\n' || (*p == '\r' && p + 1 < ps->end && p[1] == '\n'));
}

static bool eat_newline(parser *ps)
{
    if (ps->p < ps->end && *ps->p == '\n') {
        ps->p++;
        return true;
    }
    if (at_newline(ps, ps->p)) {
        ps->p += 2;
        return true;
    }
    return false;
}

/* At '#': to the end of the line (the newline is left). */
static bool skip_comment(parser *ps)
{
    ps->p++;
    while (ps->p < ps->end && *ps->p != '\n') {
        unsigned char c = (unsigned char)*ps->p;
        if (c == '\r') {
            if (at_newline(ps, ps->p))
                break;
            fail(ps, "carriage return not followed by a newline");
            return false;
        }
        if (is_ctrl(c)) {
            fail(ps, "control character U+%04X in a comment", (unsigned)c);
            return false;
        }
        ps->p++;
    }
    return true;
}

/* Whitespace, newlines and comments (between array elements). */
static bool skip_ws_nl(parser *ps)
{
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end)
            return true;
        if (*ps->p == '#') {
            if (!skip_comment(ps))
                return false;
            continue;
        }
        if (eat_newline(ps))
            continue;
        if (*ps->p == '\r') {
            fail(ps, "carriage return not followed by a newline");
            return false;
        }
        return true;
    }
}

/* First byte of s[0..n) that is not valid UTF-8 (overlong forms,
 * surrogates and code points past U+10FFFF are invalid), or NULL. */
static const char *utf8_invalid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return (const char *)p;
        }
        if ((size_t)(end - p) <= need)
            return (const char *)p;
        if (p[1] < lo || p[1] > hi)
            return (const char *)p;
        for (size_t k = 2; k <= need; k++)
            if ((p[k] & 0xC0) != 0x80)
                return (const char *)p;
        p += need + 1;
    }
    return NULL;
}

/* ---- nodes ------------------------------------------------------------------------ */

static ut_toml *new_node(parser *ps, ut_toml_type t, unsigned depth, const char *at)
{
    if ((t == UT_TOML_TABLE || t == UT_TOML_ARRAY) && depth > ps->max_depth) {
        fail_at(ps, at, "nesting deeper than %u levels", ps->max_depth);
        return NULL;
    }
    ut_toml *v = calloc(1, sizeof *v);
    if (!v) {
        fail_at(ps, at, "out of memory");
        return NULL;
    }
    v->type = t;
    v->depth = depth;
    locate(ps, at, &v->line, &v->col);
    return v;
}

static member *lookup(const ut_toml *t, const char *key, size_t klen)
{
    for (size_t i = 0; i < t->n; i++) {
        member *m = &t->u.members[i];
        if (m->klen == klen && memcmp(m->key, key, klen) == 0)
            return m;
    }
    return NULL;
}

/* Adds key = val to table t; takes val (freed on failure). */
static bool table_add(parser *ps, ut_toml *t, const keypart *k, ut_toml *val)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        member *m = cap <= ((size_t)-1) / sizeof *m ? realloc(t->u.members, cap * sizeof *m) : NULL;
        if (!m)
            goto oom;
        t->u.members = m;
        t->cap = cap;
    }
    char *key = malloc(k->len + 1);
    if (!key)
        goto oom;
    memcpy(key, k->s, k->len);
    key[k->len] = '\0';
    member *m = &t->u.members[t->n++];
    m->key = key;
    m->klen = k->len;
    m->val = val;
    m->line = k->line;
    m->col = k->col;
    return true;
oom:
    fail_at(ps, k->at, "out of memory");
    ut_toml_free(val);
    return false;
}

/* Appends v to array a; takes v (freed on failure). */
static bool array_push(parser *ps, ut_toml *a, ut_toml *v)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4;
        ut_toml **items =
            cap <= ((size_t)-1) / sizeof *items ? realloc(a->u.items, cap * sizeof *items) : NULL;
        if (!items) {
            fail(ps, "out of memory");
            ut_toml_free(v);
            return false;
        }
        a->u.items = items;
        a->cap = cap;
    }
    a->u.items[a->n++] = v;
    return true;
}

/* ---- strings ------------------------------------------------------------------------ */

static bool sb_put(parser *ps, strbuf *sb, const char *s, size_t n)
{
    if (n > ((size_t)-1) / 2 - sb->len)
        goto oom;
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 16;
        while (cap < sb->len + n + 1)
            cap *= 2;
        char *d = realloc(sb->data, cap);
        if (!d)
            goto oom;
        sb->data = d;
        sb->cap = cap;
    }
    if (n)
        memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
    return true;
oom:
    fail(ps, "out of memory");
    return false;
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

static size_t utf8_encode(uint32_t cp, char out[4])
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

/* Just after a backslash in a basic string: appends the decoded escape. */
static bool parse_escape(parser *ps, strbuf *sb)
{
    const char *bs = ps->p - 1;
    char tmp[32];
    if (ps->p >= ps->end) {
        fail(ps, "unterminated string");
        return false;
    }
    char c = *ps->p++;
    const char *simple = NULL;
    switch (c) {
    case 'b': simple = "\b"; break;
    case 't': simple = "\t"; break;
    case 'n': simple = "\n"; break;
    case 'f': simple = "\f"; break;
    case 'r': simple = "\r"; break;
    case '"': simple = "\""; break;
    case '\\': simple = "\\"; break;
    case 'u':
    case 'U': break;
    default:
        if (c >= 0x21 && c < 0x7f)
            fail_at(ps, bs, "invalid escape '\\%c' (TOML 1.0 has \\b \\t \\n \\f \\r \\\" \\\\ "
                            "\\uXXXX \\UXXXXXXXX)", c);
        else
            fail_at(ps, bs, "invalid escape: '\\' followed by %s", describe(ps, ps->p - 1, tmp));
        return false;
    }
    if (simple)
        return sb_put(ps, sb, simple, 1);
    int digits = c == 'u' ? 4 : 8;
    uint32_t cp = 0;
    for (int i = 0; i < digits; i++) {
        int h = ps->p < ps->end ? hexval(*ps->p) : -1;
        if (h < 0) {
            fail_at(ps, bs, "\\%c escape needs %d hex digits", c, digits);
            return false;
        }
        cp = cp * 16 + (uint32_t)h;
        ps->p++;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        fail_at(ps, bs, "escape \\%c%.*s is not a Unicode scalar value", c, digits, bs + 2);
        return false;
    }
    char buf[4];
    return sb_put(ps, sb, buf, utf8_encode(cp, buf));
}

/* Counts the run of quote characters q at ps->p. */
static size_t quote_run(const parser *ps, char q)
{
    size_t n = 0;
    while (ps->p + n < ps->end && ps->p[n] == q)
        n++;
    return n;
}

/* At the opening quote of a basic ("...") or literal ('...') string, single
 * or multi-line. Returns the decoded text (malloc'd, NUL-terminated) or NULL.
 * multi_ok = false for keys. */
static char *parse_string(parser *ps, size_t *len_out, bool multi_ok)
{
    const char *open = ps->p;
    char q = *ps->p;
    bool basic = q == '"';
    bool multi = ps->end - ps->p >= 3 && ps->p[1] == q && ps->p[2] == q;
    strbuf sb = {0};
    char tmp[32];
    if (multi && !multi_ok) {
        fail(ps, "a multi-line string cannot be a key");
        return NULL;
    }
    if (!sb_put(ps, &sb, "", 0))
        return NULL;
    ps->p += multi ? 3 : 1;
    if (multi)
        eat_newline(ps); /* a newline right after the delimiter is trimmed */
    for (;;) {
        const char *run = ps->p;
        while (ps->p < ps->end) {
            unsigned char c = (unsigned char)*ps->p;
            if (c == (unsigned char)q || (basic && c == '\\') || c == '\r' ||
                (is_ctrl(c) && !(multi && c == '\n')))
                break;
            ps->p++;
        }
        if (ps->p > run && !sb_put(ps, &sb, run, (size_t)(ps->p - run)))
            goto fail;
        if (ps->p >= ps->end) {
            fail_at(ps, open, multi ? "unterminated multi-line string" : "unterminated string");
            goto fail;
        }
        char c = *ps->p;
        if (c == q) {
            if (!multi) {
                ps->p++;
                break;
            }
            size_t n = quote_run(ps, q);
            if (n >= 3) {
                if (n > 5) {
                    fail(ps, "too many %s in a row in a multi-line string (escape some)",
                         basic ? "'\"'" : "\"'\"");
                    goto fail;
                }
                if (!sb_put(ps, &sb, ps->p, n - 3))
                    goto fail;
                ps->p += n;
                break;
            }
            if (!sb_put(ps, &sb, ps->p, n))
                goto fail;
            ps->p += n;
            continue;
        }
        if (c == '\r') {
            if (multi && at_newline(ps, ps->p)) {
                if (!sb_put(ps, &sb, "\n", 1))
                    goto fail;
                ps->p += 2;
                continue;
            }
            if (!multi && at_newline(ps, ps->p))
                fail(ps, "newline in a single-line string (use %s for multi-line strings)",
                     basic ? "\"\"\"" : "'''");
            else
                fail(ps, "carriage return not followed by a newline");
            goto fail;
        }
        if (c == '\\') {
            /* Line-ending backslash: trims whitespace and newlines up to the
             * next other character. */
            const char *e = ps->p + 1;
            while (e < ps->end && is_ws(*e))
                e++;
            if (multi && at_newline(ps, e)) {
                ps->p = e;
                for (;;) {
                    skip_ws(ps);
                    if (!eat_newline(ps))
                        break;
                }
                continue;
            }
            ps->p++;
            if (!parse_escape(ps, &sb))
                goto fail;
            continue;
        }
        if (c == '\n')
            fail(ps, "newline in a single-line string (use %s for multi-line strings)",
                 basic ? "\"\"\"" : "'''");
        else
            fail(ps, "%s in a string (escape it)", describe(ps, ps->p, tmp));
        goto fail;
    }
    *len_out = sb.len;
    return sb.data;
fail:
    free(sb.data);
    return NULL;
}

/* ---- keys ---------------------------------------------------------------------------- */

static void keypath_free(keypath *kp)
{
    for (size_t i = 0; i < kp->n; i++)
        free(kp->parts[i].s);
    free(kp->parts);
    kp->parts = NULL;
    kp->n = kp->cap = 0;
}

/* A simple or dotted key: parts separated by '.', whitespace around dots
 * allowed. Leaves the cursor after the last part (and its whitespace). */
static bool parse_key(parser *ps, keypath *kp)
{
    char tmp[32];
    for (;;) {
        skip_ws(ps);
        const char *at = ps->p;
        char *s = NULL;
        size_t n = 0;
        if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '\'')) {
            s = parse_string(ps, &n, false);
            if (!s)
                return false;
        } else if (ps->p < ps->end && is_bare(*ps->p)) {
            while (ps->p < ps->end && is_bare(*ps->p))
                ps->p++;
            n = (size_t)(ps->p - at);
            s = malloc(n + 1);
            if (!s) {
                fail(ps, "out of memory");
                return false;
            }
            memcpy(s, at, n);
            s[n] = '\0';
        } else {
            fail(ps, "expected a key, got %s", describe(ps, ps->p, tmp));
            return false;
        }
        if (kp->n == kp->cap) {
            size_t cap = kp->cap ? kp->cap * 2 : 4;
            keypart *p = kp->n > UT_TOML_MAX_DEPTH ? NULL : realloc(kp->parts, cap * sizeof *p);
            if (!p) {
                free(s);
                fail_at(ps, at, kp->n > UT_TOML_MAX_DEPTH ? "key has too many parts"
                                                          : "out of memory");
                return false;
            }
            kp->parts = p;
            kp->cap = cap;
        }
        keypart *part = &kp->parts[kp->n++];
        *part = (keypart){.s = s, .len = n, .at = at};
        locate(ps, at, &part->line, &part->col);
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == '.') {
            ps->p++;
            continue;
        }
        return true;
    }
}

/* For `a.b.c = v` in table t: walks (making) the tables a and a.b and
 * returns the table c goes into, after checking c is new. */
static ut_toml *resolve_dotted(parser *ps, ut_toml *t, const keypath *kp)
{
    char tmp[32];
    for (size_t i = 0; i + 1 < kp->n; i++) {
        const keypart *k = &kp->parts[i];
        member *m = lookup(t, k->s, k->len);
        if (!m) {
            ut_toml *c = new_node(ps, UT_TOML_TABLE, t->depth + 1, k->at);
            if (!c)
                return NULL;
            c->kind = TBL_DOTTED;
            if (!table_add(ps, t, k, c))
                return NULL;
            t = c;
            continue;
        }
        ut_toml *c = m->val;
        if (c->type == UT_TOML_ARRAY && c->kind == ARR_AOT) {
            fail_at(ps, k->at, "'%s' is an array of tables: dotted keys cannot add to it",
                    quote(tmp, k->s, k->len));
            return NULL;
        }
        if (c->type != UT_TOML_TABLE) {
            fail_at(ps, k->at, "'%s' is already defined as a%s %s, not a table",
                    quote(tmp, k->s, k->len), c->type == UT_TOML_ARRAY ? "n" : "",
                    ut_toml_type_name(c->type));
            return NULL;
        }
        if (c->kind == TBL_INLINE) {
            fail_at(ps, k->at, "'%s' is an inline table: nothing can be added to it",
                    quote(tmp, k->s, k->len));
            return NULL;
        }
        if (c->kind == TBL_EXPLICIT) {
            fail_at(ps, k->at, "table '%s' is already defined by a [header]: dotted keys cannot "
                               "add to it", quote(tmp, k->s, k->len));
            return NULL;
        }
        c->kind = TBL_DOTTED; /* IMPLICIT: now defined, by dotted keys */
        t = c;
    }
    const keypart *last = &kp->parts[kp->n - 1];
    if (lookup(t, last->s, last->len)) {
        fail_at(ps, last->at, "duplicate key '%s'", quote(tmp, last->s, last->len));
        return NULL;
    }
    return t;
}

/* key = value (the cursor at the key), into table t. */
static bool parse_keyval(parser *ps, ut_toml *t)
{
    keypath kp = {0};
    bool ok = false;
    char tmp[32];
    if (!parse_key(ps, &kp))
        goto out;
    if (ps->p >= ps->end || *ps->p != '=') {
        fail(ps, "expected '=' after the key, got %s", describe(ps, ps->p, tmp));
        goto out;
    }
    ps->p++;
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '#') {
        fail(ps, "missing value after '='");
        goto out;
    }
    ut_toml *target = resolve_dotted(ps, t, &kp);
    if (!target)
        goto out;
    ut_toml *v = parse_value(ps, target->depth + 1);
    if (!v)
        goto out;
    ok = table_add(ps, target, &kp.parts[kp.n - 1], v);
out:
    keypath_free(&kp);
    return ok;
}

/* ---- numbers, booleans, dates ------------------------------------------------------------ */

/* Digits of base with '_' only between two digits; n > 0. */
static bool digits_ok(const char *s, size_t n, int base)
{
    if (n == 0 || s[0] == '_' || s[n - 1] == '_')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_') {
            if (s[i + 1] == '_')
                return false;
            continue;
        }
        int h = hexval(s[i]);
        if (h < 0 || h >= base)
            return false;
    }
    return true;
}

/* Span of digits and underscores from s[i]. */
static size_t digit_span(const char *s, size_t n, size_t i)
{
    size_t j = i;
    while (j < n && (is_digit(s[j]) || s[j] == '_'))
        j++;
    return j - i;
}

/* Reads the token s[0..n) as an integer or a float into v. Returns NULL, or
 * the reason it is not a number. */
static const char *read_number(const char *s, size_t n, ut_toml *v)
{
    size_t i = 0;
    bool neg = false, sign = false;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        sign = true;
        neg = s[0] == '-';
        i = 1;
    }
    const char *r = s + i;
    size_t rn = n - i;
    if (rn == 3 && (memcmp(r, "inf", 3) == 0 || memcmp(r, "nan", 3) == 0)) {
        v->type = UT_TOML_FLOAT;
        v->u.f = r[0] == 'i' ? (double)INFINITY : (double)NAN;
        if (neg)
            v->u.f = -v->u.f;
        return NULL;
    }
    if (rn >= 2 && r[0] == '0' && (r[1] == 'x' || r[1] == 'o' || r[1] == 'b')) {
        int base = r[1] == 'x' ? 16 : r[1] == 'o' ? 8 : 2;
        if (sign)
            return "a sign is not allowed on hexadecimal, octal or binary integers";
        if (!digits_ok(r + 2, rn - 2, base))
            return base == 16 ? "invalid hexadecimal integer"
                 : base == 8  ? "invalid octal integer"
                              : "invalid binary integer";
        uint64_t x = 0;
        for (size_t k = 2; k < rn; k++) {
            if (r[k] == '_')
                continue;
            uint64_t d = (uint64_t)hexval(r[k]);
            if (x > (uint64_t)(INT64_MAX - (int64_t)d) / (uint64_t)base)
                return "integer out of range (64-bit signed)";
            x = x * (uint64_t)base + d;
        }
        v->type = UT_TOML_INTEGER;
        v->u.i = (int64_t)x;
        return NULL;
    }
    /* Decimal integer or float: int [. frac] [e [+-] exp] */
    size_t ilen = digit_span(r, rn, 0);
    if (ilen == 0)
        return "invalid number";
    if (!digits_ok(r, ilen, 10))
        return "'_' in a number must be between two digits";
    if (r[0] == '0' && ilen > 1)
        return "leading zeros are not allowed";
    size_t j = ilen;
    bool is_float = false;
    if (j < rn && r[j] == '.') {
        is_float = true;
        size_t f = digit_span(r, rn, j + 1);
        if (f == 0 || !is_digit(r[j + 1]))
            return "a digit must follow the decimal point";
        if (!digits_ok(r + j + 1, f, 10))
            return "'_' in a number must be between two digits";
        j += 1 + f;
    }
    if (j < rn && (r[j] == 'e' || r[j] == 'E')) {
        is_float = true;
        j++;
        if (j < rn && (r[j] == '+' || r[j] == '-'))
            j++;
        size_t e = digit_span(r, rn, j);
        if (e == 0 || !digits_ok(r + j, e, 10))
            return "invalid exponent";
        j += e;
    }
    if (j != rn)
        return "invalid number";
    if (!is_float) {
        uint64_t x = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (size_t k = 0; k < rn; k++) {
            if (r[k] == '_')
                continue;
            uint64_t d = (uint64_t)(r[k] - '0');
            if (x > (limit - d) / 10)
                return "integer out of range (64-bit signed)";
            x = x * 10 + d;
        }
        v->type = UT_TOML_INTEGER;
        v->u.i = neg ? (int64_t)(0 - x) : (int64_t)x;
        return NULL;
    }
    /* strtod wants a NUL-terminated copy without underscores. */
    char small[64];
    char *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf)
        return "out of memory";
    size_t o = 0;
    for (size_t k = 0; k < n; k++)
        if (s[k] != '_')
            buf[o++] = s[k];
    buf[o] = '\0';
    char *endp = NULL;
    double d = strtod(buf, &endp);
    bool whole = endp == buf + o;
    if (buf != small)
        free(buf);
    if (!whole)
        return "invalid number";
    if (isinf(d))
        return "float out of range";
    v->type = UT_TOML_FLOAT;
    v->u.f = d;
    return NULL;
}

/* n decimal digits at p, or -1. */
static int read_digits(const parser *ps, const char *p, int n)
{
    if (ps->end - p < n)
        return -1;
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* HH:MM:SS[.frac] at p; returns the end or NULL. */
static const char *read_time(const parser *ps, const char *p, const char **why)
{
    int h = read_digits(ps, p, 2);
    int m = h < 0 || p + 2 >= ps->end || p[2] != ':' ? -1 : read_digits(ps, p + 3, 2);
    int s = m < 0 || p + 5 >= ps->end || p[5] != ':' ? -1 : read_digits(ps, p + 6, 2);
    if (s < 0) {
        *why = "invalid time (expected HH:MM:SS; TOML 1.0 requires the seconds)";
        return NULL;
    }
    if (h > 23 || m > 59 || s > 60) {
        *why = "time out of range";
        return NULL;
    }
    p += 8;
    if (p < ps->end && *p == '.') {
        p++;
        if (p >= ps->end || !is_digit(*p)) {
            *why = "a digit must follow the decimal point in a time";
            return NULL;
        }
        while (p < ps->end && is_digit(*p))
            p++;
    }
    return p;
}

/* At a value that starts like a date (DDDD-) or a time (DD:). */
static ut_toml *parse_datetime(parser *ps, unsigned depth)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *s = ps->p, *q = s, *why = NULL;
    ut_toml_dt_kind kind;
    if (read_digits(ps, s, 4) >= 0 && s + 4 < ps->end && s[4] == '-') {
        int y = read_digits(ps, s, 4);
        int mo = s + 7 < ps->end && s[7] == '-' ? read_digits(ps, s + 5, 2) : -1;
        int d = mo >= 0 ? read_digits(ps, s + 8, 2) : -1;
        if (d < 0) {
            fail(ps, "invalid date (expected YYYY-MM-DD)");
            return NULL;
        }
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap)) {
            fail(ps, "date out of range");
            return NULL;
        }
        q = s + 10;
        kind = UT_TOML_DT_DATE;
        bool t = q < ps->end && (*q == 'T' || *q == 't');
        bool space = q < ps->end && *q == ' ' && read_digits(ps, q + 1, 2) >= 0 &&
                     q + 3 < ps->end && q[3] == ':';
        if (t || space) {
            q = read_time(ps, q + 1, &why);
            if (!q)
                goto bad;
            kind = UT_TOML_DT_LOCAL;
            if (q < ps->end && (*q == 'Z' || *q == 'z')) {
                q++;
                kind = UT_TOML_DT_OFFSET;
            } else if (q < ps->end && (*q == '+' || *q == '-')) {
                int oh = read_digits(ps, q + 1, 2);
                int om = oh < 0 || q + 3 >= ps->end || q[3] != ':' ? -1 : read_digits(ps, q + 4, 2);
                if (om < 0 || oh > 23 || om > 59) {
                    why = "invalid time offset (expected +HH:MM or -HH:MM)";
                    goto bad;
                }
                q += 6;
                kind = UT_TOML_DT_OFFSET;
            }
        }
    } else {
        q = read_time(ps, s, &why);
        if (!q)
            goto bad;
        kind = UT_TOML_DT_TIME;
    }
    if (q < ps->end && (is_bare(*q) || *q == '.' || *q == ':' || *q == '+')) {
        why = kind == UT_TOML_DT_TIME && (*q == 'Z' || *q == 'z' || *q == '+' || *q == '-')
                  ? "a local time cannot have an offset"
                  : "invalid date or time";
        goto bad;
    }
    ut_toml *v = new_node(ps, UT_TOML_DATETIME, depth, s);
    if (!v)
        return NULL;
    size_t n = (size_t)(q - s);
    v->kind = (unsigned char)kind;
    v->u.str.s = malloc(n + 1);
    if (!v->u.str.s) {
        free(v);
        fail_at(ps, s, "out of memory");
        return NULL;
    }
    memcpy(v->u.str.s, s, n);
    v->u.str.s[n] = '\0';
    v->u.str.len = n;
    ps->p = q;
    return v;
bad:
    fail_at(ps, s, "%s", why);
    return NULL;
}

/* Numbers, booleans, inf/nan, and anything else unquoted (an error). */
static ut_toml *parse_bare_value(parser *ps, unsigned depth)
{
    const char *s = ps->p;
    char tmp[32];
    if (read_digits(ps, s, 4) >= 0 && s + 4 < ps->end && s[4] == '-')
        return parse_datetime(ps, depth);
    if (read_digits(ps, s, 2) >= 0 && s + 2 < ps->end && s[2] == ':')
        return parse_datetime(ps, depth);
    const char *q = s;
    while (q < ps->end && (is_bare(*q) || *q == '+' || *q == '.'))
        q++;
    size_t n = (size_t)(q - s);
    if (n == 0) {
        fail(ps, "expected a value, got %s", describe(ps, s, tmp));
        return NULL;
    }
    ut_toml *v = new_node(ps, UT_TOML_BOOL, depth, s);
    if (!v)
        return NULL;
    if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0)) {
        v->u.b = n == 4;
        ps->p = q;
        return v;
    }
    bool numeric = is_digit(s[0]) || s[0] == '+' || s[0] == '-' || s[0] == '.' ||
                   (n == 3 && (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0));
    const char *why = numeric ? read_number(s, n, v) : "";
    if (why) {
        free(v);
        if (numeric)
            fail_at(ps, s, "%s: '%s'", why, quote(tmp, s, n));
        else
            fail_at(ps, s, "invalid value '%s' (strings must be quoted)", quote(tmp, s, n));
        return NULL;
    }
    ps->p = q;
    return v;
}

/* ---- arrays and inline tables ---------------------------------------------------------------- */

static ut_toml *parse_array(parser *ps, unsigned depth)
{
    const char *open = ps->p;
    char tmp[32];
    ut_toml *a = new_node(ps, UT_TOML_ARRAY, depth, open);
    if (!a)
        return NULL;
    a->kind = ARR_STATIC;
    ps->p++;
    for (;;) {
        if (!skip_ws_nl(ps))
            goto fail;
        if (ps->p >= ps->end)
            goto unterminated;
        if (*ps->p == ']') {
            ps->p++;
            return a;
        }
        ut_toml *v = parse_value(ps, depth + 1);
        if (!v || !array_push(ps, a, v))
            goto fail;
        if (!skip_ws_nl(ps))
            goto fail;
        if (ps->p >= ps->end)
            goto unterminated;
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == ']') {
            ps->p++;
            return a;
        }
        fail(ps, "expected ',' or ']' in an array, got %s", describe(ps, ps->p, tmp));
        goto fail;
    }
unterminated:
    fail_at(ps, open, "unterminated array");
fail:
    ut_toml_free(a);
    return NULL;
}

static ut_toml *parse_inline_table(parser *ps, unsigned depth)
{
    const char *open = ps->p;
    char tmp[32];
    ut_toml *t = new_node(ps, UT_TOML_TABLE, depth, open);
    if (!t)
        return NULL;
    t->kind = TBL_DOTTED; /* while it is being filled: dotted keys may extend */
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        t->kind = TBL_INLINE;
        return t;
    }
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '#') {
            if (ps->p >= ps->end)
                fail_at(ps, open, "unterminated inline table");
            else
                fail(ps, "inline tables must be on one line (TOML 1.0)");
            goto fail;
        }
        if (*ps->p == '}') {
            fail(ps, "trailing comma in an inline table (not allowed in TOML 1.0)");
            goto fail;
        }
        if (!parse_keyval(ps, t))
            goto fail;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            t->kind = TBL_INLINE;
            return t;
        }
        if (ps->p >= ps->end)
            fail_at(ps, open, "unterminated inline table");
        else if (*ps->p == '\n' || *ps->p == '\r' || *ps->p == '#')
            fail(ps, "inline tables must be on one line (TOML 1.0)");
        else
            fail(ps, "expected ',' or '}' in an inline table, got %s", describe(ps, ps->p, tmp));
        goto fail;
    }
fail:
    ut_toml_free(t);
    return NULL;
}

static ut_toml *parse_value(parser *ps, unsigned depth)
{
    char tmp[32];
    if (ps->p >= ps->end) {
        fail(ps, "expected a value, got the end of the input");
        return NULL;
    }
    const char *at = ps->p;
    switch (*ps->p) {
    case '"':
    case '\'': {
        size_t n = 0;
        char *s = parse_string(ps, &n, true);
        if (!s)
            return NULL;
        ut_toml *v = new_node(ps, UT_TOML_STRING, depth, at);
        if (!v) {
            free(s);
            return NULL;
        }
        v->u.str.s = s;
        v->u.str.len = n;
        return v;
    }
    case '[':
        return parse_array(ps, depth);
    case '{':
        return parse_inline_table(ps, depth);
    default:
        if (is_bare(*ps->p) || *ps->p == '+' || *ps->p == '.')
            return parse_bare_value(ps, depth);
        fail(ps, "expected a value, got %s", describe(ps, ps->p, tmp));
        return NULL;
    }
}

/* ---- [table] and [[array of tables]] headers ------------------------------------------------------ */

static bool parse_header(parser *ps)
{
    const char *open = ps->p;
    char tmp[32];
    bool aot = ps->end - ps->p >= 2 && ps->p[1] == '[';
    keypath kp = {0};
    bool ok = false;
    ps->p += aot ? 2 : 1;
    if (!parse_key(ps, &kp))
        goto out;
    if (aot) {
        if (ps->end - ps->p < 2 || ps->p[0] != ']' || ps->p[1] != ']') {
            fail(ps, "expected ']]' to close the [[array of tables]] header, got %s",
                 describe(ps, ps->p, tmp));
            goto out;
        }
        ps->p += 2;
    } else {
        if (ps->p >= ps->end || *ps->p != ']') {
            fail(ps, "expected ']' to close the [table] header, got %s", describe(ps, ps->p, tmp));
            goto out;
        }
        ps->p++;
    }
    ut_toml *t = ps->root;
    for (size_t i = 0; i + 1 < kp.n; i++) {
        const keypart *k = &kp.parts[i];
        member *m = lookup(t, k->s, k->len);
        ut_toml *c;
        if (!m) {
            c = new_node(ps, UT_TOML_TABLE, t->depth + 1, k->at);
            if (!c)
                goto out;
            c->kind = TBL_IMPLICIT;
            if (!table_add(ps, t, k, c))
                goto out;
        } else {
            c = m->val;
            if (c->type == UT_TOML_ARRAY && c->kind == ARR_AOT) {
                c = c->u.items[c->n - 1]; /* the most recent element */
            } else if (c->type == UT_TOML_TABLE && c->kind == TBL_INLINE) {
                fail_at(ps, k->at, "'%s' is an inline table: nothing can be added to it",
                        quote(tmp, k->s, k->len));
                goto out;
            } else if (c->type != UT_TOML_TABLE) {
                fail_at(ps, k->at, "'%s' is already defined as a%s %s, not a table",
                        quote(tmp, k->s, k->len), c->type == UT_TOML_ARRAY ? "n" : "",
                        ut_toml_type_name(c->type));
                goto out;
            }
        }
        t = c;
    }
    const keypart *last = &kp.parts[kp.n - 1];
    member *m = lookup(t, last->s, last->len);
    const char *name = quote(tmp, last->s, last->len);
    if (!aot) {
        ut_toml *c;
        if (!m) {
            c = new_node(ps, UT_TOML_TABLE, t->depth + 1, open);
            if (!c)
                goto out;
            c->kind = TBL_EXPLICIT;
            if (!table_add(ps, t, last, c))
                goto out;
        } else if (m->val->type == UT_TOML_TABLE && m->val->kind == TBL_IMPLICIT) {
            c = m->val;
            c->kind = TBL_EXPLICIT;
            locate(ps, open, &c->line, &c->col);
        } else {
            ut_toml *o = m->val;
            if (o->type != UT_TOML_TABLE)
                fail_at(ps, last->at, "'%s' is already defined as a%s %s, not a table", name,
                        o->type == UT_TOML_ARRAY ? "n" : "", ut_toml_type_name(o->type));
            else if (o->kind == TBL_EXPLICIT)
                fail_at(ps, open, "table '%s' is defined twice", name);
            else if (o->kind == TBL_DOTTED)
                fail_at(ps, open, "table '%s' is already defined by dotted keys", name);
            else
                fail_at(ps, open, "table '%s' is already defined as an inline table", name);
            goto out;
        }
        ps->cur = c;
    } else {
        ut_toml *arr;
        if (!m) {
            arr = new_node(ps, UT_TOML_ARRAY, t->depth + 1, open);
            if (!arr)
                goto out;
            arr->kind = ARR_AOT;
            if (!table_add(ps, t, last, arr))
                goto out;
        } else if (m->val->type == UT_TOML_ARRAY && m->val->kind == ARR_AOT) {
            arr = m->val;
        } else {
            if (m->val->type == UT_TOML_ARRAY)
                fail_at(ps, open, "'%s' is a static array: [[%s]] cannot append to it", name,
                        name);
            else
                fail_at(ps, open, "'%s' is already defined as a%s %s, not an array of tables",
                        name, "", ut_toml_type_name(m->val->type));
            goto out;
        }
        ut_toml *elem = new_node(ps, UT_TOML_TABLE, arr->depth + 1, open);
        if (!elem || !array_push(ps, arr, elem))
            goto out;
        elem->kind = TBL_EXPLICIT;
        ps->cur = elem;
    }
    ok = true;
out:
    keypath_free(&kp);
    return ok;
}

/* ---- the document ------------------------------------------------------------------------------------ */

ut_toml *ut_toml_parse(const char *text, size_t len, unsigned max_depth, ut_toml_err *err)
{
    parser ps = {
        .start = text ? text : "",
        .max_depth = max_depth == 0                   ? UT_TOML_DEFAULT_DEPTH
                     : max_depth > UT_TOML_MAX_DEPTH ? UT_TOML_MAX_DEPTH
                                                      : max_depth,
        .err = err,
    };
    if (err)
        memset(err, 0, sizeof *err);
    ps.body = ps.p = ps.pc_at = ps.start;
    ps.end = text ? text + len : ps.start;
    ps.pc_line = ps.pc_col = 1;
    if (!text && len) {
        fail(&ps, "no input");
        return NULL;
    }
    const char *bad = utf8_invalid(ps.p, (size_t)(ps.end - ps.p));
    if (bad) {
        fail_at(&ps, bad, "invalid UTF-8 (byte 0x%02x)", (unsigned)(unsigned char)*bad);
        return NULL;
    }
    if (ps.end - ps.p >= 3 && memcmp(ps.p, "\xEF\xBB\xBF", 3) == 0)
        ps.body = ps.p = ps.pc_at = ps.p + 3;
    ps.root = new_node(&ps, UT_TOML_TABLE, 0, ps.p);
    if (!ps.root)
        return NULL;
    ps.root->kind = TBL_EXPLICIT;
    ps.cur = ps.root;
    char tmp[32];
    while (!ps.failed && ps.p < ps.end) {
        skip_ws(&ps);
        if (ps.p >= ps.end)
            break;
        const char *what = NULL;
        if (*ps.p == '[') {
            if (!parse_header(&ps))
                break;
            what = "the table header";
        } else if (*ps.p != '#' && *ps.p != '\n' && *ps.p != '\r') {
            if (!parse_keyval(&ps, ps.cur))
                break;
            what = "the value";
        }
        skip_ws(&ps);
        if (ps.p < ps.end && *ps.p == '#' && !skip_comment(&ps))
            break;
        if (ps.p >= ps.end)
            break;
        if (!eat_newline(&ps)) {
            if (*ps.p == '\r')
                fail(&ps, "carriage return not followed by a newline");
            else if (what)
                fail(&ps, "expected the end of the line after %s, got %s", what,
                     describe(&ps, ps.p, tmp));
            else
                fail(&ps, "unexpected %s", describe(&ps, ps.p, tmp));
        }
    }
    if (ps.failed) {
        ut_toml_free(ps.root);
        return NULL;
    }
    return ps.root;
}

void ut_toml_free(ut_toml *v)
{
    if (!v)
        return;
    switch (v->type) {
    case UT_TOML_STRING:
    case UT_TOML_DATETIME:
        free(v->u.str.s);
        break;
    case UT_TOML_ARRAY:
        for (size_t i = 0; i < v->n; i++)
            ut_toml_free(v->u.items[i]);
        free(v->u.items);
        break;
    case UT_TOML_TABLE:
        for (size_t i = 0; i < v->n; i++) {
            free(v->u.members[i].key);
            ut_toml_free(v->u.members[i].val);
        }
        free(v->u.members);
        break;
    default:
        break;
    }
    free(v);
}

/* ---- accessors ------------------------------------------------------------------------------------ */

ut_toml_type ut_toml_type_of(const ut_toml *v)
{
    return v ? v->type : UT_TOML_NONE;
}

const char *ut_toml_type_name(ut_toml_type t)
{
    switch (t) {
    case UT_TOML_STRING: return "string";
    case UT_TOML_INTEGER: return "integer";
    case UT_TOML_FLOAT: return "float";
    case UT_TOML_BOOL: return "boolean";
    case UT_TOML_DATETIME: return "datetime";
    case UT_TOML_ARRAY: return "array";
    case UT_TOML_TABLE: return "table";
    default: return "nothing";
    }
}

const char *ut_toml_strn(const ut_toml *v, size_t *len)
{
    if (!v || v->type != UT_TOML_STRING)
        return NULL;
    if (len)
        *len = v->u.str.len;
    return v->u.str.s;
}

const char *ut_toml_str(const ut_toml *v)
{
    return ut_toml_strn(v, NULL);
}

bool ut_toml_int(const ut_toml *v, int64_t *out)
{
    if (!v || v->type != UT_TOML_INTEGER)
        return false;
    *out = v->u.i;
    return true;
}

bool ut_toml_float(const ut_toml *v, double *out)
{
    if (!v || v->type != UT_TOML_FLOAT)
        return false;
    *out = v->u.f;
    return true;
}

bool ut_toml_bool(const ut_toml *v, bool *out)
{
    if (!v || v->type != UT_TOML_BOOL)
        return false;
    *out = v->u.b;
    return true;
}

const char *ut_toml_datetime(const ut_toml *v, ut_toml_dt_kind *kind)
{
    if (!v || v->type != UT_TOML_DATETIME)
        return NULL;
    if (kind)
        *kind = (ut_toml_dt_kind)v->kind;
    return v->u.str.s;
}

size_t ut_toml_len(const ut_toml *v)
{
    if (!v || (v->type != UT_TOML_ARRAY && v->type != UT_TOML_TABLE))
        return 0;
    return v->n;
}

const ut_toml *ut_toml_at(const ut_toml *v, size_t i)
{
    if (!v || v->type != UT_TOML_ARRAY || i >= v->n)
        return NULL;
    return v->u.items[i];
}

const ut_toml *ut_toml_getn(const ut_toml *v, const char *key, size_t key_len)
{
    if (!v || v->type != UT_TOML_TABLE || !key)
        return NULL;
    const member *m = lookup(v, key, key_len);
    return m ? m->val : NULL;
}

const ut_toml *ut_toml_get(const ut_toml *v, const char *key)
{
    return key ? ut_toml_getn(v, key, strlen(key)) : NULL;
}

const char *ut_toml_key_at(const ut_toml *v, size_t i, size_t *key_len, const ut_toml **value)
{
    if (!v || v->type != UT_TOML_TABLE || i >= v->n) {
        if (key_len)
            *key_len = 0;
        if (value)
            *value = NULL;
        return NULL;
    }
    if (key_len)
        *key_len = v->u.members[i].klen;
    if (value)
        *value = v->u.members[i].val;
    return v->u.members[i].key;
}

bool ut_toml_pos(const ut_toml *v, size_t *line, size_t *col)
{
    size_t l = v ? v->line : 0, c = v ? v->col : 0;
    if (line)
        *line = l;
    if (col)
        *col = c;
    return v != NULL;
}

bool ut_toml_key_pos(const ut_toml *v, size_t i, size_t *line, size_t *col)
{
    bool ok = v && v->type == UT_TOML_TABLE && i < v->n;
    if (line)
        *line = ok ? v->u.members[i].line : 0;
    if (col)
        *col = ok ? v->u.members[i].col : 0;
    return ok;
}
