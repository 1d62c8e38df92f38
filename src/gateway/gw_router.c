/*
 * gw_router.c — picks a request's route (gw_router.h): the first route of
 * the generation, in config order, whose every condition holds; and the
 * prefix_rewrite of the request target.
 *
 * Owns:      host matching (exact, "*.suffix", "*"; ASCII case-insensitive;
 *            ":port" and one trailing dot ignored; "[v6]:port" keeps its
 *            brackets), path matching (exact, prefix, PCRE2 regex on the
 *            path without the query), methods (case-sensitive, RFC 9110),
 *            header conditions (name case-insensitive, value exact, any of
 *            several fields with the name), and the per-thread regex match
 *            data.
 * Not here:  what a route does (gw_proxy.c and friends); validating the
 *            patterns (gw_config_routes.c: hosts and header names arrive
 *            lowercase, methods uppercase).
 * Cost:      no allocation on the match path (one match data per thread,
 *            made on first use and freed at thread exit); cheap conditions
 *            first, lengths before bytes, the regex last.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "gw_router.h"

#include <pcre2.h>
#include <pthread.h>
#include <string.h>

/* Backtracking bound for one regex match: a pathological pattern on a
 * long path fails to match instead of eating the worker. */
#define REGEX_MATCH_LIMIT 100000u

static pthread_once_t regex_once = PTHREAD_ONCE_INIT;
static pthread_key_t md_key;
static pcre2_match_context *match_ctx; /* shared, read-only after init */
static _Thread_local pcre2_match_data *tl_md;

static void md_destroy(void *p) /* at thread exit */
{
    pcre2_match_data_free(p);
    tl_md = NULL; /* a later match in another destructor makes a new one */
}

static void regex_init(void)
{
    (void)pthread_key_create(&md_key, md_destroy);
    match_ctx = pcre2_match_context_create(NULL);
    if (match_ctx) {
        pcre2_set_match_limit(match_ctx, REGEX_MATCH_LIMIT);
        pcre2_set_depth_limit(match_ctx, REGEX_MATCH_LIMIT);
    }
}

static pcre2_match_data *thread_match_data(void)
{
    if (tl_md)
        return tl_md;
    pthread_once(&regex_once, regex_init);
    tl_md = pcre2_match_data_create(32, NULL);
    if (tl_md)
        (void)pthread_setspecific(md_key, tl_md);
    return tl_md;
}

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* a (any case) equals lc (lowercase) over n bytes */
static bool eq_lower(const char *a, const char *lc, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != (unsigned char)lc[i])
            return false;
    return true;
}

/* The host without ":port" and without one trailing dot. */
static gw_str host_part(gw_str h)
{
    if (h.len == 0)
        return h;
    if (h.base[0] == '[') {
        const char *close = memchr(h.base, ']', h.len);
        if (close)
            h.len = (size_t)(close - h.base) + 1;
        return h;
    }
    const char *colon = memchr(h.base, ':', h.len);
    if (colon)
        h.len = (size_t)(colon - h.base);
    if (h.len > 1 && h.base[h.len - 1] == '.')
        h.len--;
    return h;
}

static bool host_ok(const gw_route_conf *r, gw_str host)
{
    for (size_t i = 0; i < r->n_hosts; i++) {
        const char *p = r->hosts[i];
        if (p[0] == '*') {
            if (p[1] == '\0')
                return true;
            size_t sl = strlen(p + 1); /* ".example.com": at least one label before */
            if (host.len > sl && eq_lower(host.base + host.len - sl, p + 1, sl))
                return true;
        } else {
            size_t pl = strlen(p);
            if (pl == host.len && eq_lower(host.base, p, pl))
                return true;
        }
    }
    return false;
}

static bool method_ok(const gw_route_conf *r, gw_str m)
{
    for (size_t i = 0; i < r->n_methods; i++) {
        size_t n = strlen(r->methods[i]);
        if (n == m.len && memcmp(r->methods[i], m.base, n) == 0)
            return true;
    }
    return false;
}

static bool header_ok(const gw_header_match *hm, const gw_header *hs, size_t n)
{
    size_t nl = strlen(hm->name);
    size_t vl = hm->value ? strlen(hm->value) : 0;
    for (size_t i = 0; i < n; i++) {
        const gw_header *h = &hs[i];
        if (h->name.len != nl || !eq_lower(h->name.base, hm->name, nl))
            continue;
        if (!hm->value || (h->value.len == vl && (vl == 0 || !memcmp(h->value.base, hm->value, vl))))
            return true;
    }
    return false;
}

static bool headers_ok(const gw_route_conf *r, const gw_route_request *req)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (!header_ok(&r->headers[i], req->headers, req->n_headers))
            return false;
    return true;
}

/* Exact and prefix paths; regexes are left to regex_ok. */
static bool path_ok(const gw_route_conf *r, gw_str path)
{
    size_t n;
    switch (r->path_kind) {
    case GW_PATH_EXACT:
        n = strlen(r->path);
        return n == path.len && memcmp(r->path, path.base, n) == 0;
    case GW_PATH_PREFIX:
        n = strlen(r->path);
        return n <= path.len && memcmp(r->path, path.base, n) == 0;
    default:
        return true;
    }
}

static bool regex_ok(const gw_route_conf *r, gw_str path)
{
    if (r->path_kind != GW_PATH_REGEX)
        return true;
    pcre2_match_data *md = thread_match_data();
    if (!md || !r->path_regex)
        return false;
    int rc = pcre2_match((const pcre2_code *)r->path_regex, (PCRE2_SPTR)path.base, path.len, 0,
                         0, md, match_ctx);
    return rc >= 0;
}

/* The path up to '?' (the caller usually did this already). */
static gw_str strip_query(gw_str p)
{
    if (!p.base) {
        p.base = "";
        p.len = 0;
    }
    const char *q = p.len ? memchr(p.base, '?', p.len) : NULL;
    if (q)
        p.len = (size_t)(q - p.base);
    return p;
}

const gw_route_conf *gw_router_match(const gw_config *c, const gw_route_request *req)
{
    if (!c || !req)
        return NULL;
    gw_str path = strip_query(req->path);
    gw_str host = req->host.base ? host_part(req->host) : (gw_str){"", 0};
    for (size_t i = 0; i < c->n_routes; i++) {
        const gw_route_conf *r = &c->routes[i];
        if (!path_ok(r, path))
            continue;
        if (r->n_methods && !method_ok(r, req->method))
            continue;
        if (r->n_hosts && !host_ok(r, host))
            continue;
        if (r->n_headers && !headers_ok(r, req))
            continue;
        if (!regex_ok(r, path))
            continue;
        return r;
    }
    return NULL;
}

void gw_router_rewrite_target(const gw_route_conf *r, gw_str target, ut_buf *out)
{
    if (!target.base)
        target = (gw_str){"", 0};
    if (r && r->action == GW_ACTION_PROXY && r->path_kind == GW_PATH_PREFIX &&
        r->prefix_rewrite && r->path) {
        size_t pl = strlen(r->path);
        gw_str path = strip_query(target);
        if (path.len >= pl && memcmp(path.base, r->path, pl) == 0) {
            const char *rest = target.base + pl;
            size_t rest_len = target.len - pl;
            size_t rl = strlen(r->prefix_rewrite);
            /* "/api" -> "/" on "/api/x" gives "/x", not "//x" */
            if (rl && r->prefix_rewrite[rl - 1] == '/' && rest_len && rest[0] == '/') {
                rest++;
                rest_len--;
            }
            ut_buf_append(out, r->prefix_rewrite, rl);
            ut_buf_append(out, rest, rest_len);
            return;
        }
    }
    ut_buf_append(out, target.base, target.len);
}
