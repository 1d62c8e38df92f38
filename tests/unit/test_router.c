/*
 * test_router.c — unit tests for route matching and prefix rewriting
 * (src/gateway/gw_router.c), on configs loaded from YAML.
 *
 * Owns:     first-match order; host matching (exact, "*.suffix", "*",
 *           case, ":port" and "[v6]:port" stripping, trailing dot); exact,
 *           prefix and regex paths (anchoring, query stripping); methods;
 *           header presence and values; prefix_rewrite with queries; regex
 *           matching from several threads.
 * Not here: loading and validation (test_config.c).
 * Output:   "ok - NAME" / "not ok - NAME" lines, then "N passed, N failed".
 */
#include "gw_router.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"

static gw_str S(const char *s)
{
    return (gw_str){s, s ? strlen(s) : 0};
}

static const char *const table =
    "listeners: [{address: 127.0.0.1:8080}]\n"
    "clusters: [{name: c, endpoints: [127.0.0.1:1]}]\n"
    "routes:\n"
    "  - {name: exact-host, match: {host: API.example.com, path: {exact: /x}}, direct: {}}\n"
    "  - {name: wild, match: {host: \"*.example.com\", path: {exact: /x}}, direct: {}}\n"
    "  - {name: v6, match: {host: \"[::1]\", path: {exact: /x}}, direct: {}}\n"
    "  - {name: two-hosts, match: {host: [a.test, b.test], path: {exact: /x}}, direct: {}}\n"
    "  - {name: methods, match: {path: {prefix: /m/}, methods: [GET, HEAD]}, direct: {}}\n"
    "  - name: hdr-val\n"
    "    match: {path: {prefix: /h/}, headers: [{name: X-Env, value: canary}]}\n"
    "    direct: {}\n"
    "  - {name: hdr-present, match: {path: {prefix: /h/}, headers: [{name: x-debug}]},\n"
    "     direct: {}}\n"
    "  - name: hdr-both\n"
    "    match: {path: {prefix: /hb/}, headers: [{name: a, value: \"1\"}, {name: b}]}\n"
    "    direct: {}\n"
    "  - {name: hdr-empty, match: {path: {prefix: /he/}, headers: [{name: e, value: \"\"}]},\n"
    "     direct: {}}\n"
    "  - {name: regex, match: {path: {regex: \"/items/[0-9]+\"}}, direct: {}}\n"
    "  - {name: regex-alt, match: {path: {regex: \"/a|/b\"}}, direct: {}}\n"
    "  - {name: api, match: {path: {prefix: /api/}}, proxy: {cluster: c, prefix_rewrite: /v2/}}\n"
    "  - {name: svc, match: {path: {prefix: /svc}}, proxy: {cluster: c, prefix_rewrite: /}}\n"
    "  - {name: plain, match: {path: {prefix: /plain/}}, proxy: {cluster: c}}\n"
    "  - {name: root, match: {path: {exact: /}}, direct: {}}\n"
    "  - {name: star, match: {host: \"*\", path: {prefix: /star/}}, direct: {}}\n";

static gw_config *load(const char *yaml)
{
    char err[512];
    gw_config *c = gw_config_load_string(yaml, strlen(yaml), "router.yaml", err, sizeof err);
    if (!c)
        printf("# %s\n", err);
    return c;
}

/* Name of the route for (method, host, path, headers...), or "-" for none. */
static const char *route_for(const gw_config *c, const char *method, const char *host,
                             const char *path, const gw_header *hs, size_t n)
{
    gw_route_request req = {S(method), S(host), S(path), hs, n};
    const gw_route_conf *r = gw_router_match(c, &req);
    return r ? r->name : "-";
}

static void expect(const gw_config *c, const char *method, const char *host, const char *path,
                   const char *want)
{
    char name[256];
    const char *got = route_for(c, method, host, path, NULL, 0);
    snprintf(name, sizeof name, "%s %s Host: %s -> %s", method, path, host ? host : "(none)",
             want);
    check(!strcmp(got, want), name);
    if (strcmp(got, want))
        printf("#   got %s\n", got);
}

static void test_hosts(const gw_config *c)
{
    expect(c, "GET", "api.example.com", "/x", "exact-host");
    expect(c, "GET", "API.Example.COM", "/x", "exact-host");
    expect(c, "GET", "api.example.com:8080", "/x", "exact-host");
    expect(c, "GET", "api.example.com.", "/x", "exact-host");
    expect(c, "GET", "api.example.com.:443", "/x", "exact-host");
    expect(c, "GET", "a.example.com", "/x", "wild");
    expect(c, "GET", "A.B.Example.com:1", "/x", "wild");
    expect(c, "GET", "example.com", "/x", "-");
    expect(c, "GET", ".example.com", "/x", "-");
    expect(c, "GET", "xexample.com", "/x", "-");
    expect(c, "GET", "example.com.evil", "/x", "-");
    expect(c, "GET", "[::1]:8080", "/x", "v6");
    expect(c, "GET", "[::1]", "/x", "v6");
    expect(c, "GET", "[::2]:8080", "/x", "-");
    expect(c, "GET", "b.test", "/x", "two-hosts");
    expect(c, "GET", "c.test", "/x", "-");
    expect(c, "GET", "", "/x", "-");
    expect(c, "GET", NULL, "/x", "-");
    expect(c, "GET", "", "/star/1", "star");
    expect(c, "GET", "any.where:9", "/star/1", "star");
}

static void test_paths(const gw_config *c)
{
    expect(c, "GET", "api.example.com", "/x?y=1", "exact-host");
    expect(c, "GET", "api.example.com", "/xy", "-");
    expect(c, "GET", "api.example.com", "/X", "-");
    expect(c, "GET", "h", "/", "root");
    expect(c, "GET", "h", "/?q", "root");
    expect(c, "GET", "h", "", "-");
    expect(c, "GET", "h", NULL, "-");
    expect(c, "GET", "h", "/items/42", "regex");
    expect(c, "GET", "h", "/items/42?x=/items/a", "regex");
    expect(c, "GET", "h", "/items/4a", "-");
    expect(c, "GET", "h", "/items/", "-");
    expect(c, "GET", "h", "/v/items/42", "-");
    expect(c, "GET", "h", "/items/42/x", "-");
    expect(c, "GET", "h", "/a", "regex-alt");
    expect(c, "GET", "h", "/b", "regex-alt");
    expect(c, "GET", "h", "/ab", "-");
    expect(c, "GET", "h", "/xa", "-");
    expect(c, "GET", "h", "/api/", "api");
    expect(c, "GET", "h", "/api/users/1", "api");
    expect(c, "GET", "h", "/api", "-");
    expect(c, "GET", "h", "/API/users", "-");
    expect(c, "GET", "h", "/api?x=/api/", "-");
    expect(c, "GET", "h", "/svcx", "svc");
}

static void test_methods(const gw_config *c)
{
    expect(c, "GET", "h", "/m/a", "methods");
    expect(c, "HEAD", "h", "/m/a", "methods");
    expect(c, "POST", "h", "/m/a", "-");
    expect(c, "get", "h", "/m/a", "-");
    expect(c, "GE", "h", "/m/a", "-");
    expect(c, "GETS", "h", "/m/a", "-");
    expect(c, "", "h", "/m/a", "-");
}

static void expect_h(const gw_config *c, const char *path, const gw_header *hs, size_t n,
                     const char *want, const char *name)
{
    const char *got = route_for(c, "GET", "h", path, hs, n);
    check(!strcmp(got, want), name);
    if (strcmp(got, want))
        printf("#   got %s\n", got);
}

static void test_headers(const gw_config *c)
{
    gw_header canary[] = {{S("x-env"), S("canary")}};
    gw_header canary_uc[] = {{S("Host"), S("h")}, {S("X-ENV"), S("canary")}};
    gw_header wrong_case[] = {{S("x-env"), S("Canary")}};
    gw_header prefix_val[] = {{S("x-env"), S("canary2")}};
    gw_header two[] = {{S("x-env"), S("prod")}, {S("x-env"), S("canary")}};
    gw_header debug[] = {{S("x-debug"), S("")}};
    gw_header debugx[] = {{S("x-debugx"), S("1")}};
    gw_header ab[] = {{S("b"), S("anything")}, {S("A"), S("1")}};
    gw_header a_only[] = {{S("a"), S("1")}};
    gw_header empty[] = {{S("e"), S("")}};
    gw_header nonempty[] = {{S("e"), S("x")}};
    expect_h(c, "/h/1", canary, 1, "hdr-val", "header value matches");
    expect_h(c, "/h/1", canary_uc, 2, "hdr-val", "header name is case-insensitive");
    expect_h(c, "/h/1", wrong_case, 1, "-", "header value is case-sensitive");
    expect_h(c, "/h/1", prefix_val, 1, "-", "header value is exact, not a prefix");
    expect_h(c, "/h/1", two, 2, "hdr-val", "any of several fields with the name");
    expect_h(c, "/h/1", NULL, 0, "-", "missing header: no match");
    expect_h(c, "/h/1", debug, 1, "hdr-present", "presence condition (empty value)");
    expect_h(c, "/h/1", debugx, 1, "-", "presence needs the exact name");
    expect_h(c, "/hb/1", ab, 2, "hdr-both", "all header conditions hold");
    expect_h(c, "/hb/1", a_only, 1, "-", "one header condition missing");
    expect_h(c, "/he/1", empty, 1, "hdr-empty", "value \"\" matches an empty field");
    expect_h(c, "/he/1", nonempty, 1, "-", "value \"\" does not match a non-empty field");
}

static void test_order(void)
{
    gw_config *c = load("listeners: [{address: 127.0.0.1:8080}]\n"
                        "routes:\n"
                        "  - {name: first, match: {path: {prefix: /}}, direct: {}}\n"
                        "  - {name: second, match: {path: {exact: /a}}, direct: {}}\n");
    check(c && !strcmp(route_for(c, "GET", "h", "/a", NULL, 0), "first"),
          "first matching route wins, in config order");
    gw_config_unref(c);
    c = load("listeners: [{address: 127.0.0.1:8080}]\n"
             "routes:\n"
             "  - {name: specific, match: {host: a.com, path: {exact: /a}}, direct: {}}\n"
             "  - {name: any, direct: {}}\n");
    check(c && !strcmp(route_for(c, "GET", "a.com", "/a", NULL, 0), "specific") &&
              !strcmp(route_for(c, "GET", "b.com", "/a", NULL, 0), "any") &&
              !strcmp(route_for(c, "PURGE", "", "*", NULL, 0), "any"),
          "a route without match catches everything after the specific ones");
    gw_config_unref(c);
    c = load("listeners: [{address: 127.0.0.1:8080}]\n");
    check(c && !strcmp(route_for(c, "GET", "h", "/", NULL, 0), "-"), "no routes: no match");
    gw_route_request req = {S("GET"), S("h"), S("/"), NULL, 0};
    check(gw_router_match(NULL, &req) == NULL && gw_router_match(c, NULL) == NULL,
          "NULL config or request: no match");
    gw_config_unref(c);
}

static void expect_rw(const gw_config *c, const char *route, const char *target,
                      const char *want)
{
    const gw_route_conf *r = NULL;
    for (size_t i = 0; c && i < c->n_routes; i++)
        if (!strcmp(c->routes[i].name, route))
            r = &c->routes[i];
    ut_buf b = {0};
    gw_router_rewrite_target(r, S(target), &b);
    char name[256];
    snprintf(name, sizeof name, "rewrite %s %s -> %s", route, target, want);
    check(!b.oom && b.len == strlen(want) && (b.len == 0 || !memcmp(b.data, want, b.len)), name);
    if (b.len != strlen(want) || (b.len && memcmp(b.data, want, b.len)))
        printf("#   got %.*s\n", (int)b.len, b.data ? b.data : "");
    ut_buf_free(&b);
}

static void test_rewrite(const gw_config *c)
{
    expect_rw(c, "api", "/api/users/1", "/v2/users/1");
    expect_rw(c, "api", "/api/users?id=1&x=/api/", "/v2/users?id=1&x=/api/");
    expect_rw(c, "api", "/api/", "/v2/");
    expect_rw(c, "api", "/api/?q", "/v2/?q");
    expect_rw(c, "api", "/api//x", "/v2/x");
    expect_rw(c, "svc", "/svc/a?b=c", "/a?b=c");
    expect_rw(c, "svc", "/svc", "/");
    expect_rw(c, "svc", "/svc?x=1", "/?x=1");
    expect_rw(c, "svc", "/svcx/y", "/x/y");
    expect_rw(c, "svc", "/other", "/other");
    expect_rw(c, "svc", "/sv?c", "/sv?c");
    expect_rw(c, "plain", "/plain/a?b", "/plain/a?b");
    expect_rw(c, "root", "/?q=1", "/?q=1");
    expect_rw(c, "none", "/x?y", "/x?y");
    expect_rw(c, "none", "", "");
}

typedef struct worker_arg {
    const gw_config *c;
    int matched;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    for (int i = 0; i < 2000; i++) {
        char path[32];
        snprintf(path, sizeof path, "/items/%d", i);
        if (!strcmp(route_for(a->c, "GET", "h", path, NULL, 0), "regex"))
            a->matched++;
    }
    return NULL;
}

static void test_threads(const gw_config *c)
{
    pthread_t t[4];
    worker_arg a[4];
    int started = 0, total = 0;
    for (int i = 0; i < 4; i++) {
        a[i] = (worker_arg){c, 0};
        if (pthread_create(&t[i], NULL, worker, &a[i]) == 0)
            started++;
        else
            break;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        total += a[i].matched;
    }
    check(started == 4 && total == 4 * 2000, "regex matching from several threads");
}

static void test_speed(const gw_config *c)
{
    gw_header hs[] = {{S("user-agent"), S("curl/8")}, {S("accept"), S("*/*")}};
    struct timespec t0, t1;
    const int n = 200000;
    int hits = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        gw_route_request req = {S("GET"), S("svc.example.org:8080"), S("/api/users/42"), hs, 2};
        hits += gw_router_match(c, &req) != NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / n;
    printf("# %.0f ns per match through %zu routes (incl. 2 regexes)\n", ns, c->n_routes);
    check(hits == n, "match loop");
}

int main(void)
{
    gw_config *c = load(table);
    check(c != NULL, "routing table loads");
    if (c) {
        test_hosts(c);
        test_paths(c);
        test_methods(c);
        test_headers(c);
        test_rewrite(c);
        test_threads(c);
        test_speed(c);
    }
    test_order();
    gw_config_unref(c);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
