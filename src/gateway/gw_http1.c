/*
 * gw_http1.c — HTTP/1.1 message framing (RFC 9110/9112): the resumable head
 * parser for requests and responses, the body-framing decoder
 * (Content-Length, chunked, until-close) and the small helpers the proxy
 * uses when forwarding (hop-by-hop test, field lookup, reason phrases).
 *
 * Layer:     gateway. Pure: no I/O, no allocation, no global state; every
 *            string handed out points into the caller's buffer.
 * Owns:      the byte-level grammar, the smuggling defences listed in
 *            gw_http1.h, and which status a bad head gets.
 * Not here:  what to forward (gw_proxy.c), sockets and buffers, routing.
 *
 * How a head is parsed. Phase 1 finds the end of the head: it looks at each
 * LF among the bytes not scanned yet (parser->scanned), checks that a CR
 * precedes it (else 400, bare LF) and whether it ends "\r\n\r\n". Phase 1
 * is bounded by max_head_bytes (431 past it) and checks the request-line
 * limit (414) exactly once, on the call where the buffer first reaches it,
 * so feeding a head byte by byte costs O(n) and gives the same answer as
 * parsing it whole. Phase 2 runs once, on the complete head: methods,
 * targets, names and values are classified 16 bytes at a time (SSE2; on
 * other CPUs values go 8 at a time), a 256-entry class table finishes each
 * run, and the framing fields are interpreted as they are met.
 *
 * Leniencies, all RFC-sanctioned: up to MAX_EMPTY_LINES empty lines (CRLF)
 * before a request line are skipped (RFC 9112 §2.2); several Content-Length
 * values that agree are accepted; Expect: 100-continue is honoured on
 * HTTP/1.1 only (RFC 9110 §10.1.1). Strictness beyond gw_http1.h: empty
 * elements in Content-Length and Transfer-Encoding lists, and transfer
 * codings with parameters, are 400; a Host value must consist of URI host
 * characters (RFC 9112 §3.2: an invalid Host is 400); a Content-Length that
 * does not fit in 63 bits is 413; chunked applied twice is 400. On
 * responses every error is 502, and a response whose body runs until close
 * is never keep-alive.
 */
#include "gw_http1.h"

#include <string.h>

/* ---- character classes --------------------------------------------------- */

enum {
    C_TCHAR = 1,  /* token character (RFC 9110 §5.6.2) */
    C_VALUE = 2,  /* field-vchar / obs-text / SP / HTAB */
    C_TARGET = 4, /* request-target: VCHAR (0x21..0x7e) */
    C_HOST = 8,   /* URI host and port: unreserved, pct, sub-delims, ":[]" */
};

#define IS_ALNUM(c) \
    (((c) >= '0' && (c) <= '9') || ((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z'))
#define IS_TCHAR(c)                                                                            \
    (IS_ALNUM(c) || (c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' || (c) == '&' ||      \
     (c) == '\'' || (c) == '*' || (c) == '+' || (c) == '-' || (c) == '.' || (c) == '^' ||      \
     (c) == '_' || (c) == '`' || (c) == '|' || (c) == '~')
#define IS_VALUE(c) ((c) == '\t' || ((c) >= 0x20 && (c) != 0x7f))
#define IS_TARGET(c) ((c) > 0x20 && (c) < 0x7f)
#define IS_HOST(c)                                                                             \
    (IS_ALNUM(c) || (c) == '-' || (c) == '.' || (c) == '_' || (c) == '~' || (c) == '%' ||      \
     (c) == '!' || (c) == '$' || (c) == '&' || (c) == '\'' || (c) == '(' || (c) == ')' ||      \
     (c) == '*' || (c) == '+' || (c) == ',' || (c) == ';' || (c) == '=' || (c) == ':' ||       \
     (c) == '[' || (c) == ']')
#define CLS(c)                                                                                 \
    ((IS_TCHAR(c) ? C_TCHAR : 0) | (IS_VALUE(c) ? C_VALUE : 0) | (IS_TARGET(c) ? C_TARGET : 0) | \
     (IS_HOST(c) ? C_HOST : 0))
#define LOWER(c) ((c) + ((c) >= 'A' && (c) <= 'Z' ? 32 : 0))
#define HEXV(c)                                                              \
    ((c) >= '0' && (c) <= '9'   ? (c) - '0'                                  \
     : (c) >= 'a' && (c) <= 'f' ? (c) - 'a' + 10                             \
     : (c) >= 'A' && (c) <= 'F' ? (c) - 'A' + 10                             \
                                : -1)

#define ROW16(F, b)                                                                         \
    F((b) + 0), F((b) + 1), F((b) + 2), F((b) + 3), F((b) + 4), F((b) + 5), F((b) + 6),     \
        F((b) + 7), F((b) + 8), F((b) + 9), F((b) + 10), F((b) + 11), F((b) + 12),          \
        F((b) + 13), F((b) + 14), F((b) + 15)
#define TABLE256(F)                                                                         \
    ROW16(F, 0x00), ROW16(F, 0x10), ROW16(F, 0x20), ROW16(F, 0x30), ROW16(F, 0x40),         \
        ROW16(F, 0x50), ROW16(F, 0x60), ROW16(F, 0x70), ROW16(F, 0x80), ROW16(F, 0x90),     \
        ROW16(F, 0xa0), ROW16(F, 0xb0), ROW16(F, 0xc0), ROW16(F, 0xd0), ROW16(F, 0xe0),     \
        ROW16(F, 0xf0)

static const unsigned char cls[256] = {TABLE256(CLS)};
static const unsigned char lower[256] = {TABLE256(LOWER)};
static const signed char hexval[256] = {TABLE256(HEXV)};

/* ---- scanners ------------------------------------------------------------
 * Each returns the first index >= i whose byte is outside its class. The
 * caller guarantees such a byte before `end` (the CR ending the line) and
 * that s[i..end) may be read. With SSE2 (every x86-64) 16 bytes are
 * classified at a time; elsewhere field values go 8 at a time (SWAR) and
 * the rest byte by byte through the table. Both give the same answer. */

#if defined(__SSE2__)
#include <emmintrin.h>
#define V16(c) _mm_set1_epi8((char)(c))

/* 16-bit mask of the bytes of v that are unsigned < c. */
static inline int below(__m128i v, int c)
{
    return _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, V16(c - 1)), v));
}
#endif

/* Token characters (field names, methods). The vector loop knows the
 * usual ones (letters, digits, '-'); the table takes over at any other. */
static inline size_t scan_token(const unsigned char *s, size_t i, size_t end)
{
#if defined(__SSE2__)
    while (end - i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        __m128i lo = _mm_or_si128(v, V16(0x20));
        __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lo, V16('a' - 1)),
                                      _mm_cmplt_epi8(lo, V16('z' + 1)));
        __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, V16('0' - 1)),
                                      _mm_cmplt_epi8(v, V16('9' + 1)));
        __m128i dash = _mm_cmpeq_epi8(v, V16('-'));
        unsigned ok = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(alpha, digit), dash));
        if (ok != 0xffff) {
            i += (size_t)__builtin_ctz(~ok);
            break;
        }
        i += 16;
    }
#else
    (void)end;
#endif
    while (cls[s[i]] & C_TCHAR)
        i++;
    return i;
}

/* Field-value bytes: anything but CTLs other than HTAB, and DEL. */
static inline size_t scan_value(const unsigned char *s, size_t i, size_t end)
{
#if defined(__SSE2__)
    while (end - i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        int bad = below(v, 0x20) & ~_mm_movemask_epi8(_mm_cmpeq_epi8(v, V16('\t')));
        bad |= _mm_movemask_epi8(_mm_cmpeq_epi8(v, V16(0x7f)));
        if (bad)
            return i + (size_t)__builtin_ctz((unsigned)bad);
        i += 16;
    }
#else
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (end - i >= 8) {
        uint64_t w, x;
        memcpy(&w, s + i, 8);
        x = w ^ (ones * 0x7f);
        if (((w - ones * 0x20) & ~w & highs) | ((x - ones) & ~x & highs))
            break; /* a byte < 0x20 or 0x7f: exact for existence */
        i += 8;
    }
#endif
    while (cls[s[i]] & C_VALUE)
        i++;
    return i;
}

/* Request-target bytes: VCHAR, 0x21..0x7e. */
static inline size_t scan_target(const unsigned char *s, size_t i, size_t end)
{
#if defined(__SSE2__)
    while (end - i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        int bad = below(v, 0x21) |
                  _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, V16(0x7f)), v));
        if (bad)
            return i + (size_t)__builtin_ctz((unsigned)bad);
        i += 16;
    }
#else
    (void)end;
#endif
    while (cls[s[i]] & C_TARGET)
        i++;
    return i;
}

/* The first LF in s[i..end), or end. Lines are short: scan inline first,
 * then leave long stretches to memchr. */
static inline size_t find_lf(const unsigned char *s, size_t i, size_t end)
{
#if defined(__SSE2__)
    for (int k = 0; k < 8 && end - i >= 16; k++) {
        int m = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i)),
                                                 V16('\n')));
        if (m)
            return i + (size_t)__builtin_ctz((unsigned)m);
        i += 16;
    }
#endif
    if (end - i < 16) {
        while (i < end && s[i] != '\n')
            i++;
        return i;
    }
    const unsigned char *lf = memchr(s + i, '\n', end - i);
    return lf ? (size_t)(lf - s) : end;
}

/* s[0..n) equals the lower-case literal lit[0..n), ignoring ASCII case. */
static inline bool ieq_lit(const unsigned char *s, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower[s[i]] != (unsigned char)lit[i])
            return false;
    return true;
}

static inline bool is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* ---- limits and errors --------------------------------------------------- */

#define MAX_EMPTY_LINES 16      /* CRLFs tolerated before a request line */
#define MAX_CHUNK_LINE 4096     /* bytes of a chunk-size line with extensions */
#define MAX_CHUNK_DIGITS 16
#define MAX_INT63 0x7fffffffffffffffull

static ssize_t fail(gw_http1_parser *p, int status, const char *why)
{
    p->status = p->is_response ? 502 : status;
    p->error = why;
    return GW_HTTP1_ERROR;
}

/* ---- parser -------------------------------------------------------------- */

void gw_http1_parser_init(gw_http1_parser *p, bool is_response, const gw_http1_limits *limits,
                          gw_header *headers, size_t cap)
{
    memset(p, 0, sizeof *p);
    if (limits)
        p->limits = *limits;
    p->headers = headers;
    p->cap = headers ? cap : 0;
    p->is_response = is_response;
}

/* What phase 2 accumulates from the framing fields. */
typedef struct fields {
    size_t n_host;
    const gw_header *host;
    bool have_cl;
    uint64_t cl;
    bool have_te;
    bool te_last_chunked; /* the last coding seen so far is chunked */
    unsigned te_chunked;  /* how many times chunked appears */
    unsigned te_other;    /* codings other than chunked */
    unsigned connection;
    bool expect_continue;
} fields;

/* A walk over the elements of a comma-separated list v[0..len). */
typedef struct list_iter {
    const unsigned char *v;
    size_t len, pos;
    bool end;
} list_iter;

/* The next element, OWS-trimmed and possibly empty, in *e and *elen; false
 * after the last. */
static bool next_element(list_iter *it, const unsigned char **e, size_t *elen)
{
    if (it->end)
        return false;
    size_t a = it->pos, z;
    const unsigned char *comma = it->pos < it->len ? memchr(it->v + a, ',', it->len - a) : NULL;
    z = comma ? (size_t)(comma - it->v) : it->len;
    it->end = comma == NULL;
    it->pos = z + 1;
    while (a < z && is_ows(it->v[a]))
        a++;
    while (z > a && is_ows(it->v[z - 1]))
        z--;
    *e = it->v + a;
    *elen = z - a;
    return true;
}

static ssize_t field_content_length(gw_http1_parser *p, fields *f, const unsigned char *v,
                                    size_t vlen)
{
    list_iter it = {v, vlen, 0, false};
    const unsigned char *e;
    size_t elen;
    while (next_element(&it, &e, &elen)) {
        if (elen == 0)
            return fail(p, 400, "empty Content-Length");
        uint64_t n = 0;
        for (size_t i = 0; i < elen; i++) {
            unsigned d = (unsigned)e[i] - '0';
            if (d > 9)
                return fail(p, 400, "Content-Length is not a number");
            if (n > (MAX_INT63 - d) / 10)
                return fail(p, 413, "Content-Length too large");
            n = n * 10 + d;
        }
        if (f->have_cl && f->cl != n)
            return fail(p, 400, "conflicting Content-Length values");
        f->have_cl = true;
        f->cl = n;
    }
    return 0;
}

static ssize_t field_transfer_encoding(gw_http1_parser *p, fields *f, const unsigned char *v,
                                       size_t vlen)
{
    f->have_te = true;
    list_iter it = {v, vlen, 0, false};
    const unsigned char *e;
    size_t elen;
    while (next_element(&it, &e, &elen)) {
        if (elen == 0)
            return fail(p, 400, "empty transfer coding");
        for (size_t i = 0; i < elen; i++)
            if (!(cls[e[i]] & C_TCHAR))
                return fail(p, 400, "invalid transfer coding");
        if (elen == 7 && ieq_lit(e, "chunked", 7)) {
            f->te_chunked++;
            f->te_last_chunked = true;
        } else {
            f->te_other++;
            f->te_last_chunked = false;
        }
    }
    return 0;
}

static void field_connection(fields *f, const unsigned char *v, size_t vlen)
{
    list_iter it = {v, vlen, 0, false};
    const unsigned char *e;
    size_t elen;
    while (next_element(&it, &e, &elen)) {
        if (elen == 5 && ieq_lit(e, "close", 5))
            f->connection |= GW_CONN_CLOSE;
        else if (elen == 10 && ieq_lit(e, "keep-alive", 10))
            f->connection |= GW_CONN_KEEP_ALIVE;
        else if (elen == 7 && ieq_lit(e, "upgrade", 7))
            f->connection |= GW_CONN_UPGRADE;
        else if (elen)
            f->connection |= GW_CONN_OTHER;
    }
}

/* Interprets one field if it is one of those that frame the message. */
static ssize_t field(gw_http1_parser *p, fields *f, const gw_header *h)
{
    const unsigned char *n = (const unsigned char *)h->name.base;
    const unsigned char *v = (const unsigned char *)h->value.base;
    size_t vlen = h->value.len;
    switch (h->name.len) {
    case 4:
        if (!p->is_response && ieq_lit(n, "host", 4)) {
            for (size_t i = 0; i < vlen; i++)
                if (!(cls[v[i]] & C_HOST))
                    return fail(p, 400, "invalid Host");
            if (++f->n_host > 1)
                return fail(p, 400, "more than one Host");
            f->host = h;
        }
        break;
    case 6:
        if (!p->is_response && ieq_lit(n, "expect", 6) && vlen == 12 &&
            ieq_lit(v, "100-continue", 12))
            f->expect_continue = true;
        break;
    case 10:
        if (ieq_lit(n, "connection", 10))
            field_connection(f, v, vlen);
        break;
    case 14:
        if (ieq_lit(n, "content-length", 14))
            return field_content_length(p, f, v, vlen);
        break;
    case 17:
        if (ieq_lit(n, "transfer-encoding", 17))
            return field_transfer_encoding(p, f, v, vlen);
        break;
    default:
        break;
    }
    return 0;
}

/* Request line at s[i..cr); sets method, target, minor_version. */
static ssize_t request_line(gw_http1_parser *p, const unsigned char *s, size_t i, size_t cr,
                            gw_http1_head *head)
{
    size_t m0 = i;
    i = scan_token(s, i, cr);
    if (i == m0 || s[i] != ' ')
        return fail(p, 400, "invalid method");
    head->method.base = (const char *)s + m0;
    head->method.len = i - m0;
    size_t t0 = ++i;
    i = scan_target(s, i, cr);
    if (i == t0 || s[i] != ' ')
        return fail(p, 400, "invalid request target");
    head->target.base = (const char *)s + t0;
    head->target.len = i - t0;
    i++;
    if (cr - i == 8 && memcmp(s + i, "HTTP/1.", 7) == 0 && (s[i + 7] == '0' || s[i + 7] == '1')) {
        head->minor_version = s[i + 7] - '0';
        return 0;
    }
    if (cr - i == 8 && memcmp(s + i, "HTTP/", 5) == 0 && (unsigned)(s[i + 5] - '0') < 10 &&
        s[i + 6] == '.' && (unsigned)(s[i + 7] - '0') < 10)
        return fail(p, 505, "HTTP version not supported");
    return fail(p, 400, "invalid HTTP version");
}

/* Status line at s[i..cr); sets status, reason, minor_version. */
static ssize_t status_line(gw_http1_parser *p, const unsigned char *s, size_t i, size_t cr,
                           gw_http1_head *head)
{
    if (cr - i < 12 || memcmp(s + i, "HTTP/1.", 7) != 0 || (s[i + 7] != '0' && s[i + 7] != '1'))
        return fail(p, 502, "invalid status line");
    head->minor_version = s[i + 7] - '0';
    const unsigned char *d = s + i + 9;
    if (s[i + 8] != ' ' || d[0] < '1' || d[0] > '9' || (unsigned)(d[1] - '0') >= 10 ||
        (unsigned)(d[2] - '0') >= 10)
        return fail(p, 502, "invalid status code");
    head->status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    i += 12;
    head->reason.base = (const char *)s + i;
    head->reason.len = 0;
    if (i == cr)
        return 0;
    if (s[i] != ' ')
        return fail(p, 502, "invalid status line");
    size_t r0 = ++i;
    i = scan_value(s, i, cr);
    if (i != cr)
        return fail(p, 502, "invalid character in reason phrase");
    head->reason.base = (const char *)s + r0;
    head->reason.len = cr - r0;
    return 0;
}

/* Phase 2: the complete head s[start..head_len), ending in "\r\n\r\n",
 * every LF in it preceded by CR. Scans stop at the CR of the current line
 * at the latest, so the inner loops need no bounds checks. */
static ssize_t parse_complete(gw_http1_parser *p, const unsigned char *s, size_t start,
                              size_t head_len, gw_http1_head *h)
{
    memset(h, 0, sizeof *h);
    h->headers = p->headers;
    size_t cr = find_lf(s, start, head_len) - 1;
    ssize_t r;
    if (p->is_response) {
        r = status_line(p, s, start, cr, h);
    } else {
        if (cr - start > p->limits.max_request_line)
            return fail(p, 414, "request line too long");
        r = request_line(p, s, start, cr, h);
    }
    if (r < 0)
        return r;

    fields f;
    memset(&f, 0, sizeof f);
    size_t max = p->limits.max_headers < p->cap ? p->limits.max_headers : p->cap;
    size_t end = head_len - 2; /* the final empty line */
    size_t i = cr + 2;
    while (i < end) {
        size_t n0 = i;
        i = scan_token(s, i, head_len);
        if (s[i] != ':' || i == n0) {
            if (i == n0 && is_ows(s[i]))
                return fail(p, 400, "obs-fold (line folding) in header");
            if (is_ows(s[i]))
                return fail(p, 400, "whitespace before colon in header");
            if (s[i] == '\r')
                return fail(p, 400,
                            s[i + 1] == '\n' ? "header line without colon" : "bare CR in header");
            return fail(p, 400, "invalid character in header name");
        }
        size_t n1 = i++;
        while (is_ows(s[i]))
            i++;
        size_t v0 = i;
        i = scan_value(s, i, head_len);
        if (s[i] != '\r')
            return fail(p, 400, "invalid character in header value");
        if (s[i + 1] != '\n')
            return fail(p, 400, "bare CR in header");
        size_t v1 = i;
        while (v1 > v0 && is_ows(s[v1 - 1]))
            v1--;
        i += 2;
        if (h->n_headers >= max)
            return fail(p, 431, "too many header fields");
        gw_header *hd = &p->headers[h->n_headers++];
        hd->name.base = (const char *)s + n0;
        hd->name.len = n1 - n0;
        hd->value.base = (const char *)s + v0;
        hd->value.len = v1 - v0;
        if ((r = field(p, &f, hd)) < 0)
            return r;
    }

    if (f.have_te) {
        if (h->minor_version == 0)
            return fail(p, 400, "Transfer-Encoding in an HTTP/1.0 message");
        if (f.have_cl)
            return fail(p, 400, "both Content-Length and Transfer-Encoding");
        if (!f.te_last_chunked)
            return fail(p, 400, "Transfer-Encoding does not end in chunked");
        if (f.te_chunked > 1)
            return fail(p, 400, "chunked applied more than once");
        if (f.te_other)
            return fail(p, 501, "transfer coding not implemented");
    }
    if (!p->is_response && h->minor_version == 1 && f.n_host == 0)
        return fail(p, 400, "missing Host");

    h->connection = f.connection;
    h->host = f.host;
    h->expect_continue = f.expect_continue && h->minor_version == 1;
    h->content_length = f.cl;
    if (h->minor_version == 1)
        h->keep_alive = !(f.connection & GW_CONN_CLOSE);
    else
        h->keep_alive = (f.connection & (GW_CONN_CLOSE | GW_CONN_KEEP_ALIVE)) == GW_CONN_KEEP_ALIVE;
    if (p->is_response &&
        (p->request_was_head || h->status < 200 || h->status == 204 || h->status == 304)) {
        h->body = GW_BODY_NONE;
    } else if (f.have_te) {
        h->body = GW_BODY_CHUNKED;
    } else if (f.have_cl) {
        h->body = GW_BODY_LENGTH;
    } else if (p->is_response) {
        h->body = GW_BODY_UNTIL_CLOSE;
        h->keep_alive = false;
    } else {
        h->body = GW_BODY_NONE;
    }
    h->head_len = head_len;
    return (ssize_t)head_len;
}

ssize_t gw_http1_parse_head(gw_http1_parser *p, const char *buf, size_t len, gw_http1_head *head)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t max_head = p->limits.max_head_bytes;
    if (len == 0)
        return GW_HTTP1_AGAIN;

    /* Empty lines before a request line (prefix-determined, so the same
     * whatever the feeding). */
    size_t start = 0;
    if (!p->is_response) {
        while (start + 1 < len && s[start] == '\r' && s[start + 1] == '\n') {
            if (start == 2 * MAX_EMPTY_LINES)
                return fail(p, 400, "too many empty lines before the request line");
            start += 2;
        }
    }

    /* 414 once, on the call where the buffer first holds max_request_line
     * + CRLF bytes of the request line: no LF among them means too long.
     * (When that is past max_head_bytes the 431 below comes first.) */
    size_t old = p->scanned;
    if (!p->is_response) {
        size_t w = p->limits.max_request_line;
        if (w <= max_head && max_head - w >= start + 2) {
            w += start + 2;
            if (old < w && w <= len && !memchr(s + start, '\n', w - start))
                return fail(p, 414, "request line too long");
        }
    }

    /* Phase 1: the LFs not looked at yet, in order. */
    size_t from = old > start ? old : start;
    size_t to = len < max_head ? len : max_head;
    while (from < to) {
        size_t i = find_lf(s, from, to);
        if (i == to)
            break;
        if (i == start || s[i - 1] != '\r')
            return fail(p, 400, "bare LF in header");
        if (i >= start + 3 && s[i - 2] == '\n' && s[i - 3] == '\r') {
            p->scanned = i + 1;
            return parse_complete(p, s, start, i + 1, head);
        }
        from = i + 1;
    }
    if (len >= max_head)
        return fail(p, 431, "header section too large");
    p->scanned = len;
    return GW_HTTP1_AGAIN;
}

/* ---- body ---------------------------------------------------------------- */

enum {
    CH_SIZE_FIRST,   /* first hex digit of a chunk size */
    CH_SIZE,         /* more digits, ';' or CR */
    CH_EXT,          /* chunk extensions up to CR */
    CH_SIZE_LF,      /* LF ending the size line */
    CH_DATA,         /* chunk data */
    CH_DATA_CR,      /* CR after chunk data */
    CH_DATA_LF,      /* LF after chunk data */
    CH_TRAILER,      /* start of a trailer line, or CR of the final CRLF */
    CH_TRAILER_NAME, /* trailer field name up to ':' */
    CH_TRAILER_VALUE,/* trailer field value up to CR */
    CH_TRAILER_LF,   /* LF ending a trailer line */
    CH_FINAL_LF,     /* LF of the final CRLF */
    CH_ERROR,
};

void gw_http1_body_init(gw_http1_body *b, const gw_http1_head *head, size_t max_trailer_bytes)
{
    memset(b, 0, sizeof *b);
    b->max_trailer_bytes = max_trailer_bytes;
    b->kind = head ? head->body : GW_BODY_NONE;
    b->state = CH_SIZE_FIRST;
    if (b->kind == GW_BODY_LENGTH)
        b->remaining = head->content_length;
    b->done = b->kind == GW_BODY_NONE || (b->kind == GW_BODY_LENGTH && b->remaining == 0);
}

/* The chunked state machine. Stops before a second data span so that one
 * call reports at most one. An error found after this call already took a
 * span is left for the next call (the span is delivered, the bad byte is
 * not consumed), so the payload seen never depends on how input is split. */
static ssize_t decode_chunked(gw_http1_body *b, const unsigned char *in, size_t len,
                              const char **data, size_t *data_len)
{
    size_t i = 0;
    bool have_span = false;
    const char *why;
    while (i < len) {
        unsigned char c = in[i];
        switch (b->state) {
        case CH_SIZE_FIRST:
        case CH_SIZE: {
            int h = hexval[c];
            if (h >= 0) {
                if (b->line_bytes >= MAX_CHUNK_DIGITS) {
                    why = "chunk size has more than 16 hex digits";
                    goto bad;
                }
                if (b->remaining >> 59) {
                    why = "chunk size too large";
                    goto bad;
                }
                b->remaining = b->remaining << 4 | (unsigned)h;
                b->line_bytes++;
                b->state = CH_SIZE;
                i++;
                continue;
            }
            if (b->state == CH_SIZE_FIRST) {
                why = "missing chunk size";
                goto bad;
            }
            if (c == ';') {
                b->state = CH_EXT;
                b->line_bytes++;
                i++;
            } else if (c == '\r') {
                b->state = CH_SIZE_LF;
                i++;
            } else {
                why = "invalid character in chunk size";
                goto bad;
            }
            continue;
        }
        case CH_EXT:
            while (i < len && (cls[in[i]] & C_VALUE)) {
                if (b->line_bytes >= MAX_CHUNK_LINE) {
                    why = "chunk extensions too long";
                    goto bad;
                }
                b->line_bytes++;
                i++;
            }
            if (i == len)
                continue;
            if (in[i] != '\r') {
                why = "invalid character in chunk extension";
                goto bad;
            }
            b->state = CH_SIZE_LF;
            i++;
            continue;
        case CH_SIZE_LF:
            if (c != '\n') {
                why = "chunk size line not ended by CRLF";
                goto bad;
            }
            i++;
            b->line_bytes = 0;
            b->state = b->remaining ? CH_DATA : CH_TRAILER;
            continue;
        case CH_DATA: {
            if (have_span)
                goto out;
            size_t n = len - i;
            if (b->remaining < n)
                n = (size_t)b->remaining;
            *data = (const char *)in + i;
            *data_len = n;
            have_span = true;
            i += n;
            b->remaining -= n;
            b->received += n;
            if (b->remaining == 0)
                b->state = CH_DATA_CR;
            continue;
        }
        case CH_DATA_CR:
        case CH_DATA_LF:
            if (c != (b->state == CH_DATA_CR ? '\r' : '\n')) {
                why = "chunk data not followed by CRLF";
                goto bad;
            }
            i++;
            b->state = b->state == CH_DATA_CR ? CH_DATA_LF : CH_SIZE_FIRST;
            continue;
        case CH_TRAILER:
        case CH_TRAILER_NAME:
        case CH_TRAILER_VALUE:
        case CH_TRAILER_LF: {
            int next = b->state;
            if (b->state == CH_TRAILER) {
                if (c == '\r') {
                    b->state = CH_FINAL_LF;
                    i++;
                    continue;
                }
                if (!(cls[c] & C_TCHAR)) {
                    why = is_ows(c) ? "obs-fold in trailer" : "invalid trailer field name";
                    goto bad;
                }
                next = CH_TRAILER_NAME;
            } else if (b->state == CH_TRAILER_NAME) {
                if (c == ':')
                    next = CH_TRAILER_VALUE;
                else if (!(cls[c] & C_TCHAR)) {
                    why = "invalid character in trailer field name";
                    goto bad;
                }
            } else if (b->state == CH_TRAILER_VALUE) {
                if (c == '\r')
                    next = CH_TRAILER_LF;
                else if (!(cls[c] & C_VALUE)) {
                    why = "invalid character in trailer field value";
                    goto bad;
                }
            } else {
                if (c != '\n') {
                    why = "bare CR in trailer";
                    goto bad;
                }
                next = CH_TRAILER;
            }
            if (b->trailer_bytes >= b->max_trailer_bytes) {
                why = "trailer section too large";
                goto bad;
            }
            b->trailer_bytes++;
            b->state = next;
            i++;
            continue;
        }
        case CH_FINAL_LF:
            if (c != '\n') {
                why = "chunked body not ended by CRLF";
                goto bad;
            }
            b->done = true;
            i++;
            goto out;
        default:
            why = "invalid chunked decoder state";
            goto bad;
        }
    }
out:
    return (ssize_t)i;
bad:
    /* Every `goto bad` leaves the state as it was before in[i]. */
    if (have_span)
        return (ssize_t)i;
    b->state = CH_ERROR;
    b->error = why;
    return GW_HTTP1_ERROR;
}

ssize_t gw_http1_body_decode(gw_http1_body *b, const char *in, size_t len, const char **data,
                             size_t *data_len)
{
    const char *d_dummy;
    size_t l_dummy;
    if (!data)
        data = &d_dummy;
    if (!data_len)
        data_len = &l_dummy;
    *data = in;
    *data_len = 0;
    if (b->error)
        return GW_HTTP1_ERROR;
    if (b->done || len == 0)
        return 0;
    switch (b->kind) {
    case GW_BODY_NONE:
        b->done = true;
        return 0;
    case GW_BODY_LENGTH: {
        size_t n = len;
        if (b->remaining < n)
            n = (size_t)b->remaining;
        *data_len = n;
        b->remaining -= n;
        b->received += n;
        b->done = b->remaining == 0;
        return (ssize_t)n;
    }
    case GW_BODY_UNTIL_CLOSE:
        *data_len = len;
        b->received += len;
        return (ssize_t)len;
    case GW_BODY_CHUNKED:
        return decode_chunked(b, (const unsigned char *)in, len, data, data_len);
    }
    b->error = "invalid body kind";
    return GW_HTTP1_ERROR;
}

/* ---- helpers ------------------------------------------------------------- */

bool gw_str_ieq(gw_str a, const char *b)
{
    const unsigned char *s = (const unsigned char *)a.base;
    for (size_t i = 0; i < a.len; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c == 0 || lower[s[i]] != lower[c])
            return false;
    }
    return b[a.len] == 0;
}

const gw_header *gw_http1_find(const gw_http1_head *head, const char *name)
{
    if (!head || !name)
        return NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i < head->n_headers; i++) {
        const gw_header *h = &head->headers[i];
        if (h->name.len == n && gw_str_ieq(h->name, name))
            return h;
    }
    return NULL;
}

static bool ieq_str(gw_str a, const unsigned char *b, size_t n)
{
    if (a.len != n)
        return false;
    const unsigned char *s = (const unsigned char *)a.base;
    for (size_t i = 0; i < n; i++)
        if (lower[s[i]] != lower[b[i]])
            return false;
    return true;
}

bool gw_http1_is_hop_by_hop(const gw_http1_head *head, gw_str name)
{
    const unsigned char *n = (const unsigned char *)name.base;
    switch (name.len) {
    case 2:
        if (ieq_lit(n, "te", 2))
            return true;
        break;
    case 7:
        if (ieq_lit(n, "trailer", 7) || ieq_lit(n, "upgrade", 7))
            return true;
        break;
    case 10:
        if (ieq_lit(n, "connection", 10) || ieq_lit(n, "keep-alive", 10))
            return true;
        break;
    case 16:
        if (ieq_lit(n, "proxy-connection", 16))
            return true;
        break;
    case 17:
        if (ieq_lit(n, "transfer-encoding", 17))
            return true;
        break;
    case 18:
        if (ieq_lit(n, "proxy-authenticate", 18))
            return true;
        break;
    case 19:
        if (ieq_lit(n, "proxy-authorization", 19))
            return true;
        break;
    default:
        break;
    }
    /* close, keep-alive and upgrade name fields handled above (or none), so
     * only other Connection tokens need the scan below. */
    if (!head || name.len == 0 || !(head->connection & GW_CONN_OTHER))
        return false;
    for (size_t i = 0; i < head->n_headers; i++) {
        const gw_header *h = &head->headers[i];
        if (h->name.len != 10 || !ieq_lit((const unsigned char *)h->name.base, "connection", 10))
            continue;
        list_iter it = {(const unsigned char *)h->value.base, h->value.len, 0, false};
        const unsigned char *e;
        size_t elen;
        while (next_element(&it, &e, &elen))
            if (ieq_str(name, e, elen))
                return true;
    }
    return false;
}

const char *gw_http1_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 418: return "I'm a teapot";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
