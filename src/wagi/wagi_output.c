/*
 * wagi_output.c — a module's stdout becomes an HTTP response (RFC 3875 §6,
 * docs/wagi.md "stdout"), and the error responses WAGI makes itself.
 *
 * Owns:      wagi__cgi_parse (header section, CGI fields, document /
 *            client redirect / local redirect, the 500 and 502 rules for
 *            bad output, the "complete output" test used when a module
 *            exits non-zero), wagi__fail, wagi_response_free.
 * Not here:  running the module and deciding which outcome applies
 *            (wagi_handler.c); argv and environ (wagi_cgi.c).
 * Rules:     the header section ends at the first empty line; every CR in
 *            it is ignored, so LF LF, CRLF CRLF and mixes all end it; the
 *            body after it is kept byte for byte. Header names must be
 *            tokens, values VCHAR / obs-text / SP / HTAB. Order and
 *            duplicates of ordinary headers are kept; each CGI field
 *            (Content-Type, Location, Status) may appear once. The module's
 *            Content-Length and Transfer-Encoding are framing: dropped (the
 *            caller frames the body), Content-Length still feeds the
 *            complete-output test. An explicit Status wins; Location alone
 *            is 302; "Location: /abs-path" alone with no body is also a
 *            local redirect.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wagi_int.h"

/* ---- our own error responses -------------------------------------------------- */

static const char *status_text(int status)
{
    switch (status) {
    case 502:
        return "Bad Gateway\n";
    case 503:
        return "Service Unavailable\n";
    case 504:
        return "Gateway Timeout\n";
    default:
        return "Internal Server Error\n";
    }
}

void wagi__fail(wagi_response *resp, int status, const char *error, const char *fmt, ...)
{
    ut_buf_reset(&resp->headers);
    ut_buf_puts(&resp->headers, "Content-Type: text/plain; charset=utf-8\r\n");
    resp->status = status;
    resp->body = (const uint8_t *)status_text(status);
    resp->body_len = strlen(status_text(status));
    resp->error = error;
    resp->detail[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(resp->detail, sizeof resp->detail, fmt, ap);
        va_end(ap);
    }
    free(resp->local_redirect);
    resp->local_redirect = NULL;
}

/* A printable excerpt of module output for resp->detail. */
static const char *excerpt(char *dst, size_t cap, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (n && k < n && k + 4 <= cap) {
        memcpy(dst + k, "...", 3);
        k += 3;
    }
    dst[k] = '\0';
    return dst;
}

/* ---- parsing stdout ----------------------------------------------------------------- */

typedef struct fields {
    int n_ct, n_loc, n_status;
    const char *loc;
    size_t loc_len;
    int status;
    bool has_cl;
    uint64_t cl;
    size_t n_other; /* header lines kept besides Content-Type and Location */
} fields;

static bool trim_ows(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t'))
        (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
    return *n > 0;
}

static bool parse_status(const char *v, size_t n, int *out)
{
    if (n < 3)
        return false;
    int code = 0;
    for (int i = 0; i < 3; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        code = code * 10 + (v[i] - '0');
    }
    if (n > 3 && v[3] != ' ' && v[3] != '\t')
        return false;
    if (code < 200 || code > 599) /* 1xx cannot be a final response */
        return false;
    *out = code;
    return true;
}

static bool parse_length(const char *v, size_t n, uint64_t *out)
{
    if (!n || n > 18)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return true;
}

static void keep(wagi_response *resp, const char *name, size_t nl, const char *v, size_t vl)
{
    ut_buf *b = &resp->headers;
    if (!ut_buf_reserve(b, nl + vl + 4))
        return;
    ut_buf_append(b, name, nl);
    ut_buf_append(b, ": ", 2);
    ut_buf_append(b, v, vl);
    ut_buf_append(b, "\r\n", 2);
}

/* One header line (CRs already removed, no LF). False: resp is an error. */
static bool header_line(wagi_response *resp, fields *f, const char *s, size_t n)
{
    char ex[64];
    const char *colon = memchr(s, ':', n);
    if (!colon) {
        wagi__fail(resp, 500, "bad CGI output: header line without ':'", "\"%s\"",
                   excerpt(ex, sizeof ex, s, n));
        return false;
    }
    const char *name = s, *v = colon + 1;
    size_t nl = (size_t)(colon - s), vl = n - nl - 1;
    trim_ows(&name, &nl);
    bool token = nl > 0;
    for (size_t i = 0; token && i < nl; i++)
        token = wagi__is_tchar((unsigned char)name[i]);
    if (!token) {
        wagi__fail(resp, 500, "bad CGI output: invalid header name", "\"%s\"",
                   excerpt(ex, sizeof ex, s, nl));
        return false;
    }
    trim_ows(&v, &vl);
    for (size_t i = 0; i < vl; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            wagi__fail(resp, 500, "bad CGI output: invalid header value",
                       "%s: control byte 0x%02x", excerpt(ex, sizeof ex, name, nl), c);
            return false;
        }
    }
    int *count = wagi__ieq(name, nl, "content-type") ? &f->n_ct
                 : wagi__ieq(name, nl, "location")   ? &f->n_loc
                 : wagi__ieq(name, nl, "status")     ? &f->n_status
                                               : NULL;
    if (count && (*count)++) {
        wagi__fail(resp, 500, "bad CGI output: a CGI field appears twice", "%s",
                   excerpt(ex, sizeof ex, name, nl));
        return false;
    }
    if (count == &f->n_status) {
        if (!parse_status(v, vl, &f->status)) {
            wagi__fail(resp, 502, "bad CGI output: invalid Status", "\"%s\"",
                       excerpt(ex, sizeof ex, v, vl));
            return false;
        }
        return true;
    }
    if (count == &f->n_loc) {
        if (!vl) {
            wagi__fail(resp, 500, "bad CGI output: empty Location", NULL);
            return false;
        }
        f->loc = v;
        f->loc_len = vl;
    } else if (wagi__ieq(name, nl, "content-length")) {
        uint64_t x;
        if (!parse_length(v, vl, &x) || (f->has_cl && f->cl != x)) {
            wagi__fail(resp, 500, "bad CGI output: invalid Content-Length", "\"%s\"",
                       excerpt(ex, sizeof ex, v, vl));
            return false;
        }
        f->has_cl = true;
        f->cl = x;
        return true;
    } else if (wagi__ieq(name, nl, "transfer-encoding")) {
        return true;
    } else if (!count) {
        f->n_other++;
    }
    keep(resp, name, nl, v, vl);
    return true;
}

bool wagi__cgi_parse(wagi_response *resp)
{
    char *p = resp->out.data;
    size_t n = p ? resp->out.len : 0, pos = 0, body = 0;
    bool ended = false;
    fields f = {0};
    ut_buf_reset(&resp->headers);
    free(resp->local_redirect);
    resp->local_redirect = NULL;
    while (pos < n) {
        char *lf = memchr(p + pos, '\n', n - pos);
        if (!lf)
            break;
        size_t end = (size_t)(lf - p), k = pos;
        for (size_t i = pos; i < end; i++) /* CRs in the header section are ignored */
            if (p[i] != '\r')
                p[k++] = p[i];
        if (k == pos) {
            ended = true;
            body = end + 1;
            break;
        }
        if (!header_line(resp, &f, p + pos, k - pos))
            return false;
        pos = end + 1;
    }
    if (!ended) {
        wagi__fail(resp, 500, "bad CGI output: no empty line after the headers",
                   n ? "%zu bytes of output" : "no output", n);
        return false;
    }
    if (!f.n_ct && !f.n_loc && !f.n_status) {
        wagi__fail(resp, 500, "bad CGI output: no Content-Type, Location or Status", NULL);
        return false;
    }
    if (resp->headers.oom) {
        wagi__fail(resp, 500, "out of memory", NULL);
        return false;
    }
    resp->body = (const uint8_t *)p + body;
    resp->body_len = n - body;
    resp->status = f.n_status ? f.status : f.n_loc ? 302 : 200;
    resp->error = NULL;
    if (f.n_loc && !f.n_status && !f.n_ct && !f.n_other && !resp->body_len &&
        f.loc[0] == '/' && (f.loc_len == 1 || f.loc[1] != '/')) {
        /* RFC 3875 §6.2.2 (a "//host" Location is a client redirect) */
        resp->local_redirect = malloc(f.loc_len + 1);
        if (!resp->local_redirect) {
            wagi__fail(resp, 500, "out of memory", NULL);
            return false;
        }
        memcpy(resp->local_redirect, f.loc, f.loc_len);
        resp->local_redirect[f.loc_len] = '\0';
    }
    return !f.has_cl || f.cl == resp->body_len;
}

void wagi_response_free(wagi_response *resp)
{
    if (!resp)
        return;
    ut_buf_free(&resp->headers);
    ut_buf_free(&resp->out);
    free(resp->local_redirect);
    resp->local_redirect = NULL;
    resp->body = NULL;
    resp->body_len = 0;
}
