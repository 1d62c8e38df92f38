/*
 * wagi_cgi.c — the request side of WAGI's CGI contract: one request
 * becomes argv and environ (docs/wagi.md "Environment", "argv").
 *
 * Owns:      compiling the configured env and the argv template once
 *            (wagi__cgi_prepare: names every request sets are dropped from
 *            the configured env, later duplicates replace earlier ones, the
 *            template is cut into text / ${SCRIPT_NAME} / ${ARGS} pieces);
 *            building argv + environ per request into one buffer and one
 *            pointer table (wagi__cgi_build), with no parsing of anything
 *            the handler already knows.
 * Not here:  stdout → response (wagi_output.c); running the module
 *            (wagi_handler.c).
 * Rules:     request-derived values with bytes outside visible ASCII, SP
 *            and HTAB become "CORRUPT VALUE" (PATH_INFO, once
 *            percent-decoded, may hold bytes >= 0x80 but no control byte).
 *            Repeated request headers are joined into one HTTP_ variable
 *            with ", " (Cookie: "; "); header names that are not tokens are
 *            skipped. Configured variables have the lowest precedence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wagi_int.h"

static const char CORRUPT[] = "CORRUPT VALUE";

/* ---- byte classes ----------------------------------------------------------- */

static bool is_token(const char *s, size_t n)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!wagi__is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

/* Visible ASCII, SP, HTAB: what we pass from a request into the environment. */
static bool is_visible(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c >= 0x7f)
            return false;
    }
    return true;
}

static unsigned char env_char(unsigned char c)
{
    if (c >= 'a' && c <= 'z')
        return (unsigned char)(c - 32);
    return c == '-' ? '_' : c;
}

/* Same HTTP_ variable name: case-insensitive, '-' and '_' alike. */
static bool same_env_name(const wagi_header *a, const wagi_header *b)
{
    if (a->name_len != b->name_len)
        return false;
    for (size_t i = 0; i < a->name_len; i++)
        if (env_char((unsigned char)a->name[i]) != env_char((unsigned char)b->name[i]))
            return false;
    return true;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- load time: configured env and the argv template ------------------------ */

/* Every request sets these, so a configured variable of the same name is
 * dropped at load (request-derived variables win). */
static const char *const fixed_names[] = {
    "AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE", "GATEWAY_INTERFACE", "PATH_INFO",
    "PATH_TRANSLATED", "QUERY_STRING", "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_USER",
    "REQUEST_METHOD", "SCRIPT_NAME", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL",
    "SERVER_SOFTWARE", "X_MATCHED_ROUTE", "X_FULL_URL", "X_RAW_PATH_INFO",
};

static bool compile_argv(wagi_handler *h)
{
    static const struct {
        const char *s;
        wagi__seg_kind kind;
    } vars[] = {{"${SCRIPT_NAME}", WAGI_SEG_PATH}, {"${ARGS}", WAGI_SEG_ARGS}};
    const char *p = h->argv_tmpl;
    size_t n = strlen(p), cap = 4;
    h->segs = malloc(cap * sizeof *h->segs);
    if (!h->segs)
        return false;
    size_t lit = 0, i = 0;
    while (i <= n) {
        int which = -1;
        for (int v = 0; i < n && v < 2; v++)
            if (!strncmp(p + i, vars[v].s, strlen(vars[v].s)))
                which = v;
        if (which < 0 && i < n) {
            i++;
            continue;
        }
        if (h->n_segs + 2 > cap) {
            cap *= 2;
            wagi__seg *s = realloc(h->segs, cap * sizeof *s);
            if (!s)
                return false;
            h->segs = s;
        }
        if (i > lit)
            h->segs[h->n_segs++] = (wagi__seg){WAGI_SEG_TEXT, p + lit, i - lit};
        if (which < 0)
            break;
        h->segs[h->n_segs++] = (wagi__seg){vars[which].kind, NULL, 0};
        i += strlen(vars[which].s);
        lit = i;
    }
    return true;
}

/* The variables every request gets unchanged, as one block of
 * "NAME=VALUE\0" strings copied per request with one memcpy: the constant
 * CGI ones and the configured
 * variables no request header can override (all but HTTP_*). */
static bool build_const(wagi_handler *h)
{
    static const char *const fixed[] = {"AUTH_TYPE=", "GATEWAY_INTERFACE=CGI/1.1",
                                        "REMOTE_USER=", "SERVER_SOFTWARE=sluice"};
    size_t n = sizeof fixed / sizeof fixed[0] + 1 + h->n_env;
    ut_buf b = {0};
    h->const_off = malloc(n * sizeof *h->const_off);
    if (!h->const_off)
        return false;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        h->const_off[h->n_const++] = b.len;
        ut_buf_append(&b, fixed[i], strlen(fixed[i]) + 1);
    }
    for (size_t i = 0; i < h->n_env; i++) {
        if (h->env[i].http)
            continue;
        h->const_off[h->n_const++] = b.len;
        ut_buf_append(&b, h->env[i].kv, h->env[i].kv_len + 1);
    }
    if (b.oom) {
        ut_buf_free(&b);
        return false;
    }
    h->const_env = b.data;
    h->const_len = b.len;
    return true;
}

bool wagi__cgi_prepare(wagi_handler *h, const wagi_handler_conf *conf, char *err,
                       size_t err_len)
{
    if (conf->argv) {
        h->argv_tmpl = strdup(conf->argv);
        if (!h->argv_tmpl || !compile_argv(h))
            goto nomem;
    }
    if (conf->n_env && !conf->env) {
        snprintf(err, err_len, "env: n_env is %zu but env is NULL", conf->n_env);
        return false;
    }
    h->env = calloc(conf->n_env ? conf->n_env : 1, sizeof *h->env);
    if (!h->env)
        goto nomem;
    for (size_t i = 0; i < conf->n_env; i++) {
        const char *name = conf->env[i].name, *value = conf->env[i].value;
        if (!name || !*name || strchr(name, '=')) {
            snprintf(err, err_len, "env[%zu]: the name \"%s\" is empty or holds '='", i,
                     name ? name : "(null)");
            return false;
        }
        if (!value)
            value = "";
        bool fixed = false;
        for (size_t k = 0; k < sizeof fixed_names / sizeof fixed_names[0]; k++)
            if (!strcmp(name, fixed_names[k]))
                fixed = true;
        if (fixed)
            continue;
        size_t nl = strlen(name), vl = strlen(value);
        wagi__envvar *slot = NULL;
        for (size_t k = 0; k < h->n_env; k++)
            if (h->env[k].name_len == nl && !memcmp(h->env[k].kv, name, nl))
                slot = &h->env[k]; /* a later definition replaces an earlier one */
        if (slot) {
            h->env_bytes -= slot->kv_len + 1;
            free(slot->kv);
        } else {
            slot = &h->env[h->n_env++];
        }
        slot->kv = malloc(nl + vl + 2);
        if (!slot->kv)
            goto nomem;
        memcpy(slot->kv, name, nl);
        slot->kv[nl] = '=';
        memcpy(slot->kv + nl + 1, value, vl + 1);
        slot->name_len = nl;
        slot->kv_len = nl + 1 + vl;
        slot->http = nl > 5 && !memcmp(name, "HTTP_", 5);
        h->env_bytes += slot->kv_len + 1;
    }
    if (!build_const(h))
        goto nomem;
    return true;
nomem:
    snprintf(err, err_len, "out of memory");
    return false;
}

void wagi__cgi_unprepare(wagi_handler *h)
{
    free(h->const_env);
    free(h->const_off);
    for (size_t i = 0; h->env && i < h->n_env; i++)
        free(h->env[i].kv);
    free(h->env);
    free(h->segs);
    free(h->argv_tmpl);
}

/* ---- per request: argv and environ -------------------------------------------- */

static bool start_str(wagi__cgi *c)
{
    if (c->n == c->cap) {
        size_t cap = c->cap * 2;
        wagi__slot *s = realloc(c->slots, cap * sizeof *s);
        if (!s)
            return false;
        c->slots = s;
        c->cap = cap;
    }
    c->slots[c->n++].off = c->buf.len;
    return true;
}

static void end_str(wagi__cgi *c)
{
    ut_buf_putc(&c->buf, '\0');
}

/* Appends v, or CORRUPT when it holds anything but visible ASCII/SP/HTAB. */
static void put_value(wagi__cgi *c, const char *v, size_t n)
{
    if (is_visible(v, n))
        ut_buf_append(&c->buf, v, n);
    else
        ut_buf_append(&c->buf, CORRUPT, sizeof CORRUPT - 1);
}

/* Replaces what was appended since `from` with CORRUPT if it is not visible. */
static void check_since(wagi__cgi *c, size_t from)
{
    if (c->buf.oom || is_visible(c->buf.data + from, c->buf.len - from))
        return;
    c->buf.len = from;
    ut_buf_append(&c->buf, CORRUPT, sizeof CORRUPT - 1);
}

static bool var_n(wagi__cgi *c, const char *name, size_t name_len, const char *v, size_t n)
{
    if (!start_str(c) || !ut_buf_reserve(&c->buf, name_len + n + 16))
        return false;
    ut_buf_append(&c->buf, name, name_len);
    put_value(c, v, n);
    end_str(c);
    return true;
}

/* NAME_EQ is a string literal "NAME=". */
#define VAR(c, NAME_EQ, v, n) var_n(c, NAME_EQ, sizeof NAME_EQ - 1, v, n)
#define VAR_S(c, NAME_EQ, s) VAR(c, NAME_EQ, (s) ? (s) : "", (s) ? strlen(s) : 0)

static bool arg(wagi__cgi *c, const char *v, size_t n)
{
    if (!start_str(c))
        return false;
    put_value(c, v, n);
    end_str(c);
    return true;
}

typedef struct target {
    const char *path, *query, *pq; /* pq: path + "?query" as sent */
    size_t path_len, query_len, pq_len;
    bool has_query;
} target;

static target split_target(const wagi_request *req)
{
    target t = {0};
    const char *s = req->target ? req->target : "";
    size_t n = req->target ? req->target_len : 0, start = 0;
    if (n && s[0] != '/' && s[0] != '*') { /* absolute-form: skip scheme://authority */
        const char *sep = memchr(s, ':', n);
        if (sep && (size_t)(sep - s) + 3 <= n && sep[1] == '/' && sep[2] == '/') {
            start = (size_t)(sep - s) + 3;
            while (start < n && s[start] != '/' && s[start] != '?')
                start++;
        }
    }
    t.pq = s + start;
    t.pq_len = n - start;
    const char *q = memchr(t.pq, '?', t.pq_len);
    t.path = t.pq;
    t.path_len = q ? (size_t)(q - t.pq) : t.pq_len;
    if (q) {
        t.has_query = true;
        t.query = q + 1;
        t.query_len = t.pq_len - t.path_len - 1;
    } else {
        t.query = "";
    }
    return t;
}

static const wagi_header *find_header(const wagi_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (wagi__ieq(req->headers[i].name, req->headers[i].name_len, name))
            return &req->headers[i];
    return NULL;
}

static bool default_argv(wagi__cgi *c, const target *t)
{
    if (!arg(c, t->path, t->path_len))
        return false;
    if (!t->has_query || !t->query_len)
        return true;
    size_t from = 0;
    for (size_t i = 0; i <= t->query_len; i++) {
        if (i == t->query_len || t->query[i] == '&') {
            if (!arg(c, t->query + from, i - from))
                return false;
            from = i + 1;
        }
    }
    return true;
}

/* Expands the template and splits it on whitespace in one pass. */
static bool template_argv(const wagi_handler *h, wagi__cgi *c, const target *t)
{
    bool in_word = false;
    size_t word = 0;
    for (size_t s = 0; s < h->n_segs; s++) {
        const wagi__seg *g = &h->segs[s];
        const char *p = g->kind == WAGI_SEG_TEXT ? g->text
                        : g->kind == WAGI_SEG_PATH ? t->path
                                                   : t->query;
        size_t n = g->kind == WAGI_SEG_TEXT ? g->len
                   : g->kind == WAGI_SEG_PATH ? t->path_len
                                              : t->query_len;
        for (size_t i = 0; i < n; i++) {
            char ch = p[i];
            if (g->kind == WAGI_SEG_ARGS && ch == '&')
                ch = ' ';
            if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v') {
                if (in_word) {
                    check_since(c, word);
                    end_str(c);
                    in_word = false;
                }
                continue;
            }
            if (!in_word) {
                if (!start_str(c))
                    return false;
                word = c->buf.len;
                in_word = true;
            }
            ut_buf_putc(&c->buf, ch);
        }
    }
    if (in_word) {
        check_since(c, word);
        end_str(c);
    }
    return true;
}

/* PATH_INFO: percent-decoded; a decoded control byte (NUL included) makes it
 * CORRUPT, bytes >= 0x80 (UTF-8) are kept. */
static void put_decoded(wagi__cgi *c, const char *s, size_t n)
{
    if (!is_visible(s, n)) {
        ut_buf_append(&c->buf, CORRUPT, sizeof CORRUPT - 1);
        return;
    }
    size_t from = c->buf.len;
    if (!ut_buf_reserve(&c->buf, n))
        return;
    char *o = c->buf.data + c->buf.len;
    bool bad = false;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        unsigned char b = (unsigned char)s[i];
        if (b == '%' && i + 2 < n && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            b = (unsigned char)(hi * 16 + lo);
            i += 2;
            if (b < 0x20 || b == 0x7f)
                bad = true;
        }
        *o++ = (char)b;
    }
    c->buf.len = (size_t)(o - c->buf.data);
    c->buf.data[c->buf.len] = '\0';
    if (bad) {
        c->buf.len = from;
        ut_buf_append(&c->buf, CORRUPT, sizeof CORRUPT - 1);
    }
}

static bool http_vars(wagi__cgi *c, const wagi_request *req)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        const wagi_header *hd = &req->headers[i];
        if (!hd->name || !is_token(hd->name, hd->name_len) ||
            wagi__ieq(hd->name, hd->name_len, "authorization") ||
            wagi__ieq(hd->name, hd->name_len, "connection"))
            continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = same_env_name(hd, &req->headers[j]);
        if (seen)
            continue; /* joined into the first occurrence */
        if (!start_str(c) || !ut_buf_reserve(&c->buf, hd->name_len + hd->value_len + 8))
            return false;
        char *o = c->buf.data + c->buf.len;
        memcpy(o, "HTTP_", 5);
        for (size_t k = 0; k < hd->name_len; k++)
            o[5 + k] = (char)env_char((unsigned char)hd->name[k]);
        o[5 + hd->name_len] = '=';
        c->buf.len += hd->name_len + 6;
        size_t from = c->buf.len;
        const char *sep = wagi__ieq(hd->name, hd->name_len, "cookie") ? "; " : ", ";
        ut_buf_append(&c->buf, hd->value, hd->value ? hd->value_len : 0);
        for (size_t k = i + 1; k < req->n_headers; k++) {
            if (same_env_name(hd, &req->headers[k])) {
                ut_buf_append(&c->buf, sep, 2);
                ut_buf_append(&c->buf, req->headers[k].value,
                              req->headers[k].value ? req->headers[k].value_len : 0);
            }
        }
        check_since(c, from);
        end_str(c);
    }
    return true;
}

/* Does the request carry a header whose HTTP_ name is `name` (already
 * "HTTP_..." uppercase)? */
static bool header_sets(const wagi_request *req, const char *name, size_t name_len)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        const wagi_header *hd = &req->headers[i];
        if (!hd->name || hd->name_len + 5 != name_len || !is_token(hd->name, hd->name_len) ||
            wagi__ieq(hd->name, hd->name_len, "authorization") ||
            wagi__ieq(hd->name, hd->name_len, "connection"))
            continue;
        size_t k = 0;
        while (k < hd->name_len && env_char((unsigned char)hd->name[k]) == (unsigned char)name[5 + k])
            k++;
        if (k == hd->name_len)
            return true;
    }
    return false;
}

bool wagi__cgi_build(const wagi_handler *h, const wagi_request *req, wagi__cgi *c)
{
    memset(c, 0, sizeof *c);
    target t = split_target(req);
    size_t hdr_bytes = 0;
    for (size_t i = 0; i < req->n_headers; i++)
        hdr_bytes += req->headers[i].name_len + req->headers[i].value_len + 8;
    c->cap = 24 + h->n_const + req->n_headers + h->n_env + (t.query_len + h->n_segs) / 2;
    c->slots = malloc(c->cap * sizeof *c->slots);
    if (!c->slots || !ut_buf_reserve(&c->buf, 512 + 6 * req->target_len + hdr_bytes +
                                                  h->const_len + h->env_bytes))
        return false;

    /* argv */
    if (!(h->argv_tmpl ? template_argv(h, c, &t) : default_argv(c, &t)))
        return false;
    c->argc = (int)c->n;

    /* Host → SERVER_NAME / SERVER_PORT */
    const char *scheme = req->scheme ? req->scheme : "http";
    const char *sname = req->default_host ? req->default_host : "localhost";
    size_t sname_len = strlen(sname);
    char portbuf[24];
    const char *sport = portbuf;
    size_t sport_len;
    unsigned dport = req->default_port ? req->default_port : !strcmp(scheme, "https") ? 443 : 80;
    sport_len = ut_u64_to_text(dport, 10, portbuf);
    const wagi_header *host = find_header(req, "host");
    if (host && host->value && host->value_len) {
        const char *v = host->value;
        size_t n = host->value_len, name_end = n;
        if (v[0] == '[') {
            const char *rb = memchr(v, ']', n);
            name_end = rb ? (size_t)(rb - v) + 1 : n;
        } else {
            const char *colon = memchr(v, ':', n);
            if (colon)
                name_end = (size_t)(colon - v);
        }
        size_t plen = name_end < n && v[name_end] == ':' ? n - name_end - 1 : 0;
        bool port_ok = plen >= 1 && plen <= 5;
        for (size_t i = 0; port_ok && i < plen; i++)
            port_ok = v[name_end + 1 + i] >= '0' && v[name_end + 1 + i] <= '9';
        sname = v;
        sname_len = name_end;
        if (port_ok) {
            sport = v + name_end + 1;
            sport_len = plen;
        }
    }

    /* PATH_INFO: the raw path after SCRIPT_NAME (at a segment boundary), or
     * the whole path when the route prefix does not match it. */
    const char *sn = req->script_name ? req->script_name : "";
    size_t sn_len = req->script_name ? req->script_name_len : 0;
    const char *pi = t.path;
    size_t pi_len = t.path_len;
    if (t.path_len >= sn_len && !memcmp(t.path, sn, sn_len) &&
        (t.path_len == sn_len || t.path[sn_len] == '/' || (sn_len && sn[sn_len - 1] == '/'))) {
        pi = t.path + sn_len;
        pi_len = t.path_len - sn_len;
    }

    /* the variables that are the same for every request, then the rest */
    if (!ut_buf_reserve(&c->buf, h->const_len))
        return false;
    for (size_t i = 0; i < h->n_const; i++) {
        if (!start_str(c))
            return false;
        c->slots[c->n - 1].off = c->buf.len + h->const_off[i];
    }
    ut_buf_append(&c->buf, h->const_env, h->const_len);

    char clen[24];
    size_t clen_len = ut_u64_to_text(req->body_len, 10, clen);
    const wagi_header *ctype = find_header(req, "content-type");
    bool ok = VAR(c, "CONTENT_LENGTH=", clen, clen_len) &&
              VAR(c, "CONTENT_TYPE=", ctype && ctype->value ? ctype->value : "",
                  ctype && ctype->value ? ctype->value_len : 0);
    if (!ok || !start_str(c))
        return false;
    ut_buf_puts(&c->buf, "PATH_INFO=");
    size_t pi_from = c->buf.len;
    put_decoded(c, pi, pi_len);
    size_t pi_to = c->buf.len;
    end_str(c);
    if (!start_str(c))
        return false;
    ut_buf_puts(&c->buf, "PATH_TRANSLATED=");
    /* reserve first: the append then copies from a buffer that cannot move */
    if (ut_buf_reserve(&c->buf, pi_to - pi_from))
        ut_buf_append(&c->buf, c->buf.data + pi_from, pi_to - pi_from);
    end_str(c);
    ok = VAR(c, "QUERY_STRING=", t.query, t.query_len) &&
         VAR_S(c, "REMOTE_ADDR=", req->remote_addr) &&
         VAR_S(c, "REMOTE_HOST=", req->remote_addr) &&
         VAR(c, "REQUEST_METHOD=", req->method ? req->method : "",
             req->method ? req->method_len : 0) &&
         VAR(c, "SCRIPT_NAME=", sn, sn_len) && VAR(c, "SERVER_NAME=", sname, sname_len) &&
         VAR(c, "SERVER_PORT=", sport, sport_len) &&
         VAR_S(c, "SERVER_PROTOCOL=", req->server_protocol ? req->server_protocol : "HTTP/1.1") &&
         (req->matched_route ? VAR_S(c, "X_MATCHED_ROUTE=", req->matched_route)
          : h->route_len     ? VAR(c, "X_MATCHED_ROUTE=", h->route, h->route_len)
                             : VAR(c, "X_MATCHED_ROUTE=", sn, sn_len)) &&
         VAR(c, "X_RAW_PATH_INFO=", pi, pi_len);
    if (!ok || !start_str(c))
        return false;
    ut_buf_puts(&c->buf, "X_FULL_URL=");
    size_t from = c->buf.len;
    ut_buf_puts(&c->buf, scheme);
    ut_buf_append(&c->buf, "://", 3);
    ut_buf_append(&c->buf, sname, sname_len);
    ut_buf_putc(&c->buf, ':');
    ut_buf_append(&c->buf, sport, sport_len);
    ut_buf_append(&c->buf, t.pq, t.pq_len);
    check_since(c, from);
    end_str(c);
    if (!http_vars(c, req))
        return false;

    /* configured HTTP_* variables, unless a request header sets the same name
     * (the others are in the constant block) */
    for (size_t i = 0; i < h->n_env; i++) {
        const wagi__envvar *e = &h->env[i];
        if (!e->http || header_sets(req, e->kv, e->name_len))
            continue;
        if (!start_str(c))
            return false;
        ut_buf_append(&c->buf, e->kv, e->kv_len + 1);
    }
    if (c->buf.oom)
        return false;
    c->envc = (int)c->n - c->argc;

    /* the buffer stops moving here: offsets become pointers in place */
    for (size_t i = 0; i < c->n; i++)
        c->slots[i].ptr = c->buf.data + c->slots[i].off;
    c->ptrs = &c->slots[0].ptr;
    return true;
}

void wagi__cgi_free(wagi__cgi *c)
{
    ut_buf_free(&c->buf);
    free(c->slots);
    c->slots = NULL;
    c->ptrs = NULL;
}
