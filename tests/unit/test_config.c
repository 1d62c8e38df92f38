/*
 * test_config.c — unit tests for the gateway config loader
 * (src/gateway/gw_config*.c).
 *
 * Owns:     the example config loads; every default; value syntax
 *           (durations, sizes, booleans, ${ENV}, $PORT); every validation
 *           error carries the right FILE:LINE:COL and field path; names,
 *           aliases (shared regexes, alias bombs); gw_config_parse_address;
 *           the JSON dump read back with src/util/ut_json.h; refcounting.
 * Not here: matching requests (test_router.c), serving (tests/gateway).
 * Output:   "ok - NAME" / "not ok - NAME" lines, then "N passed, N failed".
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "gw_config.h"
#include "ut_json.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
static char err[1024];

static gw_config *load(const char *yaml)
{
    return gw_config_load_string(yaml, strlen(yaml), "t.yaml", err, sizeof err);
}

static uint16_t port_of(const gw_sockaddr *a)
{
    return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

#define L0 "listeners: [{address: 127.0.0.1:8080}]\n"

/* ---- the example and defaults --------------------------------------------- */

static void test_example(void)
{
    gw_config *c = gw_config_load_file("examples/gateway.yaml", err, sizeof err);
    if (!c)
        printf("# %s\n", err);
    check(c != NULL, "examples/gateway.yaml loads");
    if (!c)
        return;
    check(c->n_listeners == 1 && c->n_clusters == 1 && c->n_routes >= 6, "example: sizes");
    const gw_route_conf *api = NULL, *item = NULL;
    int actions[3] = {0};
    for (size_t i = 0; i < c->n_routes; i++) {
        actions[c->routes[i].action]++;
        if (!strcmp(c->routes[i].name, "api"))
            api = &c->routes[i];
        if (c->routes[i].path_kind == GW_PATH_REGEX)
            item = &c->routes[i];
    }
    check(actions[GW_ACTION_PROXY] && actions[GW_ACTION_DIRECT] && actions[GW_ACTION_REDIRECT],
          "example: proxy, direct and redirect routes");
    check(api && api->cluster == &c->clusters[0] && api->prefix_rewrite &&
              !strcmp(api->cluster_name, "self"),
          "example: /api/ proxies to the self cluster with a prefix rewrite");
    check(item && item->path_regex, "example: regex route compiled");
    check(port_of(&c->clusters[0].endpoints[0].addr) == port_of(&c->listeners[0].addr),
          "example: self cluster points at the listener");
    check(c->routes[0].body_len > 0 && strstr(c->routes[0].body, "curl") != NULL,
          "example: welcome page lists curl lines");
    gw_config_unref(c);
}

static void test_defaults(void)
{
    gw_config *c = load(L0 "clusters: [{name: a, endpoints: [127.0.0.1:1]}]\n"
                           "routes:\n"
                           "  - direct: {}\n"
                           "  - redirect: {path: /x}\n"
                           "  - proxy: {cluster: a}\n");
    if (!c)
        printf("# %s\n", err);
    check(c != NULL, "minimal config loads");
    if (!c)
        return;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    check(atomic_load(&c->refs) == 1, "refs == 1 after load");
    check(!strcmp(c->source, "t.yaml"), "source name kept");
    check(!strcmp(c->listeners[0].name, "listener0") && !c->listeners[0].tls_cert &&
              !c->listeners[0].tls_key,
          "listener defaults");
    check(!strcmp(c->admin_address, "127.0.0.1:9901") && port_of(&c->admin_addr) == 9901 &&
              c->admin_addr.ss.ss_family == AF_INET,
          "admin default 127.0.0.1:9901");
    check(c->workers == (unsigned)(cpus < 1 ? 1 : cpus), "workers 0 = CPUs");
    check(c->access_log, "access_log default true");
    check(c->limits.max_header_bytes == 65536 && c->limits.max_headers == 100 &&
              c->limits.max_request_line == 8192 && c->limits.max_body_bytes == 0 &&
              c->limits.max_connections == 100000,
          "limits defaults");
    check(c->timeouts.header_timeout_ms == 30000 && c->timeouts.keepalive_timeout_ms == 60000 &&
              c->timeouts.drain_timeout_ms == 30000,
          "timeouts defaults");
    const gw_cluster_conf *cl = &c->clusters[0];
    check(cl->lb == GW_LB_ROUND_ROBIN && cl->connect_timeout_ms == 2000 &&
              cl->request_timeout_ms == 15000 && cl->idle_timeout_ms == 60000 &&
              cl->max_connections == 1024,
          "cluster defaults");
    check(cl->retries == 1 && cl->retry_on_connect_failure && !cl->retry_on_5xx,
          "retry defaults");
    check(!cl->health.enabled && !strcmp(cl->health.path, "/healthz") && !cl->health.host &&
              cl->health.interval_ms == 5000 && cl->health.timeout_ms == 1000 &&
              cl->health.healthy_threshold == 2 && cl->health.unhealthy_threshold == 3,
          "health check defaults (disabled)");
    check(cl->eject_consecutive_failures == 5 && cl->eject_ms == 10000, "outlier defaults");
    check(cl->n_endpoints == 1 && !strcmp(cl->endpoints[0].host, "127.0.0.1") &&
              cl->endpoints[0].port == 1 && port_of(&cl->endpoints[0].addr) == 1,
          "endpoint host and port");
    const gw_route_conf *r = c->routes;
    check(!strcmp(r[0].name, "route0") && !strcmp(r[1].name, "route1") &&
              !strcmp(r[2].name, "route2"),
          "route names default to routeN");
    check(r[0].path_kind == GW_PATH_ANY && r[0].n_hosts == 0 && r[0].n_methods == 0 &&
              r[0].n_headers == 0,
          "no match block matches everything");
    check(r[0].action == GW_ACTION_DIRECT && r[0].status == 200 && r[0].body &&
              r[0].body_len == 0 && r[0].n_response_headers == 0,
          "direct defaults: 200, empty body");
    check(r[1].action == GW_ACTION_REDIRECT && r[1].redirect_status == 301 &&
              !r[1].redirect_scheme && !r[1].redirect_host && !strcmp(r[1].redirect_path, "/x"),
          "redirect defaults: 301, other parts kept");
    check(r[2].action == GW_ACTION_PROXY && r[2].cluster == cl && !r[2].prefix_rewrite &&
              !r[2].host_rewrite,
          "proxy resolves its cluster");
    gw_config_unref(c);

    c = load(L0 "clusters: [{name: a, endpoints: [127.0.0.1:1], health_check: {}}]\n");
    check(c && c->clusters[0].health.enabled && c->clusters[0].health.interval_ms == 5000,
          "empty health_check block enables it with defaults");
    gw_config_unref(c);
}

/* ---- value syntax --------------------------------------------------------- */

static void test_values(void)
{
    gw_config *c = load(
        "listeners: [{name: web, address: \"0.0.0.0:80\"}, {address: \"[::1]:8443\"}]\n"
        "admin: {address: \"9000\"}\n"
        "workers: 3\n"
        "access_log: False\n"
        "limits: {max_header_bytes: 8KiB, max_headers: 50, max_request_line: \"2 KiB\",\n"
        "         max_body_bytes: 10MB, max_connections: 7}\n"
        "timeouts: {header: 250ms, keepalive: 1.5m, drain: 0}\n"
        "clusters:\n"
        "  - name: c1\n"
        "    endpoints: [\"[::1]:81\", localhost:82]\n"
        "    lb: least_request\n"
        "    connect_timeout: 2h\n"
        "    request_timeout: 1500\n"
        "    idle_timeout: 0.5s\n"
        "    max_connections: 0\n"
        "    retries: {attempts: 0, on_connect_failure: false, on_5xx: TRUE}\n"
        "    health_check: {path: /hc, host: h.local, interval: 1s, timeout: 2s,\n"
        "                   healthy_threshold: 1, unhealthy_threshold: 9}\n"
        "    outlier: {consecutive_failures: 0, ejection_time: 1m}\n"
        "routes:\n"
        "  - name: r\n"
        "    match:\n"
        "      host: [API.Example.COM., \"*.Example.com\", \"[::1]\"]\n"
        "      path: {prefix: /v1/}\n"
        "      methods: [get, Post]\n"
        "      headers: [{name: X-Env, value: canary}, {name: x-debug}]\n"
        "    proxy: {cluster: c1, prefix_rewrite: /, host_rewrite: \"b.local:8080\"}\n"
        "  - match: {host: one.example}\n"
        "    direct:\n"
        "      status: 503\n"
        "      body: \"a\\0b\"\n"
        "      headers: {Content-Type: text/plain, x-empty: }\n"
        "  - redirect: {status: 308, scheme: HTTPS, host: \"example.com:8443\", path: "
        "\"/n?q=1\"}\n");
    if (!c)
        printf("# %s\n", err);
    check(c != NULL, "full config loads");
    if (!c)
        return;
    check(!strcmp(c->listeners[0].name, "web") && !strcmp(c->listeners[1].name, "listener1"),
          "given and default listener names");
    check(c->listeners[1].addr.ss.ss_family == AF_INET6 && port_of(&c->listeners[1].addr) == 8443,
          "[v6]:port listener");
    check(port_of(&c->admin_addr) == 9000 && c->admin_addr.ss.ss_family == AF_INET,
          "bare port = any address (0.0.0.0)");
    check(c->workers == 3 && !c->access_log, "workers and access_log");
    check(c->limits.max_header_bytes == 8192 && c->limits.max_headers == 50 &&
              c->limits.max_request_line == 2048 && c->limits.max_body_bytes == 10000000 &&
              c->limits.max_connections == 7,
          "sizes: KiB, 'N KiB', MB");
    check(c->timeouts.header_timeout_ms == 250 && c->timeouts.keepalive_timeout_ms == 90000 &&
              c->timeouts.drain_timeout_ms == 0,
          "durations: ms, fractional minutes, 0");
    const gw_cluster_conf *cl = &c->clusters[0];
    check(cl->lb == GW_LB_LEAST_REQUEST && cl->connect_timeout_ms == 7200000 &&
              cl->request_timeout_ms == 1500 && cl->idle_timeout_ms == 500 &&
              cl->max_connections == 0,
          "cluster values: hours, bare ms, 0.5s");
    check(cl->retries == 0 && !cl->retry_on_connect_failure && cl->retry_on_5xx,
          "retry values");
    check(cl->health.enabled && !strcmp(cl->health.path, "/hc") &&
              !strcmp(cl->health.host, "h.local") && cl->health.interval_ms == 1000 &&
              cl->health.timeout_ms == 2000 && cl->health.healthy_threshold == 1 &&
              cl->health.unhealthy_threshold == 9,
          "health values");
    check(cl->eject_consecutive_failures == 0 && cl->eject_ms == 60000, "outlier values");
    check(!strcmp(cl->endpoints[0].host, "[::1]") && cl->endpoints[0].port == 81 &&
              cl->endpoints[0].addr.ss.ss_family == AF_INET6,
          "v6 endpoint host keeps brackets");
    check(!strcmp(cl->endpoints[1].host, "localhost") &&
              cl->endpoints[1].addr.ss.ss_family == AF_INET && port_of(&cl->endpoints[1].addr) == 82,
          "localhost resolves, IPv4 preferred");
    const gw_route_conf *r = &c->routes[0];
    check(r->n_hosts == 3 && !strcmp(r->hosts[0], "api.example.com") &&
              !strcmp(r->hosts[1], "*.example.com") && !strcmp(r->hosts[2], "[::1]"),
          "host patterns lowercased, trailing dot dropped");
    check(r->n_methods == 2 && !strcmp(r->methods[0], "GET") && !strcmp(r->methods[1], "POST"),
          "methods uppercased");
    check(r->n_headers == 2 && !strcmp(r->headers[0].name, "x-env") &&
              !strcmp(r->headers[0].value, "canary") && !strcmp(r->headers[1].name, "x-debug") &&
              r->headers[1].value == NULL,
          "header conditions: lowercase names, value or presence");
    check(r->path_kind == GW_PATH_PREFIX && !strcmp(r->path, "/v1/") &&
              !strcmp(r->prefix_rewrite, "/") && !strcmp(r->host_rewrite, "b.local:8080"),
          "proxy rewrites");
    r = &c->routes[1];
    check(r->n_hosts == 1 && !strcmp(r->hosts[0], "one.example"), "host as a single string");
    check(r->status == 503 && r->body_len == 3 && !memcmp(r->body, "a\0b", 3),
          "direct body keeps NUL bytes with body_len");
    check(r->n_response_headers == 2 && !strcmp(r->response_headers[0].name, "Content-Type") &&
              !strcmp(r->response_headers[0].value, "text/plain") &&
              !strcmp(r->response_headers[1].value, ""),
          "direct headers (case kept, null = empty value)");
    r = &c->routes[2];
    check(r->redirect_status == 308 && !strcmp(r->redirect_scheme, "https") &&
              !strcmp(r->redirect_host, "example.com:8443") && !strcmp(r->redirect_path, "/n?q=1"),
          "redirect values (scheme lowercased)");
    gw_config_unref(c);
}

static void test_env(void)
{
    unsetenv("SLUICE_T_X");
    setenv("SLUICE_T_Y", "8123", 1);
    gw_config *c = load("listeners: [{address: \"127.0.0.1:${SLUICE_T_Y}\"}]\n"
                        "routes: [{direct: {body: \"${SLUICE_T_X:-dflt} $${lit} $5 ${SLUICE_T_Y}\"}}]\n");
    if (!c)
        printf("# %s\n", err);
    check(c && port_of(&c->listeners[0].addr) == 8123 &&
              !strcmp(c->listeners[0].address, "127.0.0.1:8123"),
          "${VAR} in an address");
    check(c && !strcmp(c->routes[0].body, "dflt ${lit} $5 8123"),
          "${VAR:-default}, $${ escape, lone $ kept");
    gw_config_unref(c);

    setenv("PORT", "9443", 1);
    c = load("listeners: [{address: \"0.0.0.0:80\"}, {address: \"127.0.0.1:81\"}]\n");
    check(c && port_of(&c->listeners[0].addr) == 9443 && !strcmp(c->listeners[0].address,
                                                                   "0.0.0.0:9443") &&
              port_of(&c->listeners[1].addr) == 81,
          "$PORT overrides the first listener's port only");
    gw_config_unref(c);
    c = load("listeners: [{address: \"[::1]:80\"}]\n");
    check(c && !strcmp(c->listeners[0].address, "[::1]:9443"), "$PORT on a v6 listener");
    gw_config_unref(c);
    setenv("PORT", "http", 1);
    c = load("listeners: [{address: \"0.0.0.0:80\"}]\n");
    check(!c && strstr(err, "t.yaml:1:23: listeners[0].address: environment variable PORT='http'"),
          "bad $PORT is an error at the first listener");
    unsetenv("PORT");
    unsetenv("SLUICE_T_Y");
}

/* ---- errors --------------------------------------------------------------- */

typedef struct bad_case {
    const char *yaml;
    const char *where; /* "LINE:COL: path" */
    const char *what;  /* substring of the problem */
} bad_case;

static const bad_case bad_cases[] = {
    /* document level */
    {"", "1:1: config", "empty config"},
    {"# just a comment\n", "1:1: config", "empty config"},
    {"[1, 2]\n", "1:1: config", "expected a mapping"},
    {"listeners: [\n", "2:1: yaml", "did not find expected node content"},
    {"a: b\n  c: d\n", "2:4: yaml", "mapping values are not allowed"},
    {"x: *nope\n", "1:4: yaml", "undefined alias"},
    {L0 "---\n" L0, "3:1: config", "only one YAML document"},
    {L0 "foo: 1\n", "2:1: foo", "unknown key (expected one of: listeners, admin, workers"},
    {L0 "listeners: []\n", "2:1: listeners", "duplicate key"},
    {L0 "<<: {a: 1}\n", "2:1: <<", "merge keys"},
    {L0 "? [a]\n: 1\n", "2:3: config", "keys must be plain names"},
    /* listeners */
    {"admin: {address: 127.0.0.1:1}\n", "1:1: listeners", "required"},
    {"listeners: []\n", "1:12: listeners", "at least one listener"},
    {"listeners: {address: x}\n", "1:12: listeners", "expected a list, got a mapping"},
    {"listeners: [127.0.0.1:80]\n", "1:13: listeners[0]", "expected a mapping"},
    {"listeners: [{name: a}]\n", "1:13: listeners[0].address", "required"},
    {"listeners: [{address: 127.0.0.1:80, adress: x}]\n", "1:37: listeners[0].adress",
     "unknown key (expected one of: name, address, tls)"},
    {"listeners:\n  - address: 127.0.0.1:99999\n", "2:14: listeners[0].address",
     "bad port '99999'"},
    {"listeners:\n  - address: 127.0.0.1\n", "2:14: listeners[0].address",
     "missing port in '127.0.0.1'"},
    {"listeners:\n  - address: example\n", "2:14: listeners[0].address", "missing port"},
    {"listeners:\n  - address: ::1:80\n", "2:14: listeners[0].address", "brackets"},
    {"listeners:\n  - address: \"[1.2.3.4]:80\"\n", "2:14: listeners[0].address",
     "not an IPv6 address"},
    {"listeners:\n  - address: \"bad host:80\"\n", "2:14: listeners[0].address",
     "bad host name"},
    {"listeners:\n  - address: \"\"\n", "2:14: listeners[0].address", "empty address"},
    {"listeners:\n  - address: [a]\n", "2:14: listeners[0].address",
     "expected a single value, got a list"},
    {"listeners: [{address: \"127.0.0.1:80\"}, {address: \"127.0.0.1:80\"}]\n",
     "1:50: listeners[1].address", "same address as listeners[0]"},
    {"listeners: [{name: a, address: 1.1.1.1:1}, {name: a, address: 1.1.1.1:2}]\n",
     "1:51: listeners[1].name", "duplicate name 'a' (also listeners[0])"},
    {"listeners: [{name: \"a b\", address: 1.1.1.1:1}]\n", "1:20: listeners[0].name",
     "bad name 'a b'"},
    {"listeners:\n  - address: 127.0.0.1:80\n    tls: {cert: /nonexistent/c.pem, key: k}\n",
     "3:17: listeners[0].tls.cert", "cannot read '/nonexistent/c.pem'"},
    {"listeners:\n  - address: 127.0.0.1:80\n    tls: {cert: /, key: /}\n",
     "3:17: listeners[0].tls.cert", "not a regular file"},
    {"listeners:\n  - address: 127.0.0.1:80\n    tls: {cert: /etc/hostname}\n",
     "3:10: listeners[0].tls.key", "required"},
    {"listeners: [{address: \"${SLUICE_T_UNSET}\"}]\n", "1:23: listeners[0].address",
     "environment variable SLUICE_T_UNSET is not set"},
    {"listeners: [{address: \"${1x}\"}]\n", "1:23: listeners[0].address",
     "bad environment variable reference"},
    {"listeners: [{address: \"${X\"}]\n", "1:23: listeners[0].address", "unterminated '${'"},
    /* admin, workers, limits, timeouts */
    {L0 "admin: {address: 127.0.0.1:8080}\n", "2:18: admin.address",
     "same address as listeners[0]"},
    {L0 "admin: {port: 1}\n", "2:9: admin.port", "unknown key (expected one of: address)"},
    {L0 "admin: 9901\n", "2:8: admin", "expected a mapping"},
    {L0 "workers: -1\n", "2:10: workers", "expected a whole number, got '-1'"},
    {L0 "workers: 5000\n", "2:10: workers", "must be between 0 and 1024, got 5000"},
    {L0 "workers: 99999999999999999999999\n", "2:10: workers", "expected a whole number"},
    {L0 "access_log: yes\n", "2:13: access_log", "expected true or false, got 'yes'"},
    {L0 "limits: {max_headers: 0}\n", "2:23: limits.max_headers", "between 1 and 10000"},
    {L0 "limits: {max_header_bytes: 64kb}\n", "2:28: limits.max_header_bytes",
     "bad size '64kb'"},
    {L0 "limits: {max_header_bytes: 100}\n", "2:28: limits.max_header_bytes",
     "between 1024 and 16777216 bytes"},
    {L0 "limits: {max_body_bytes: 99999999999GiB}\n", "2:26: limits.max_body_bytes",
     "bad size"},
    {L0 "limits: {max_conns: 1}\n", "2:10: limits.max_conns", "unknown key"},
    {L0 "timeouts: {header: 3x}\n", "2:20: timeouts.header", "bad duration '3x'"},
    {L0 "timeouts: {header: 0}\n", "2:20: timeouts.header", "between 1ms and 24h"},
    {L0 "timeouts: {keepalive: 25h}\n", "2:23: timeouts.keepalive", "between 1ms and 24h"},
    {L0 "timeouts: {header: 1.5}\n", "2:20: timeouts.header", "bad duration"},
    {L0 "timeouts: {header: 0.5ms}\n", "2:20: timeouts.header", "bad duration"},
    {L0 "timeouts: {header: -1s}\n", "2:20: timeouts.header", "bad duration"},
    {L0 "timeouts: {header: [1]}\n", "2:20: timeouts.header", "expected a single value"},
    /* clusters */
    {L0 "clusters: [{endpoints: [1.1.1.1:1]}]\n", "2:12: clusters[0].name", "required"},
    {L0 "clusters: [{name: a}]\n", "2:12: clusters[0].endpoints", "required"},
    {L0 "clusters: [{name: a, endpoints: []}]\n", "2:33: clusters[0].endpoints",
     "at least one endpoint"},
    {L0 "clusters: [{name: a, endpoints: [\":80\"]}]\n", "2:34: clusters[0].endpoints[0]",
     "needs a host"},
    {L0 "clusters: [{name: a, endpoints: [1.1.1.1:0]}]\n", "2:34: clusters[0].endpoints[0]",
     "needs a port"},
    {L0 "clusters: [{name: a, endpoints: [1.1.1.1:1, 1.1.1.1:x]}]\n",
     "2:45: clusters[0].endpoints[1]", "bad port 'x'"},
    {L0 "clusters: [{name: a, endpoints: [1.1.1.1:1]}, {name: a, endpoints: [1.1.1.1:1]}]\n",
     "2:54: clusters[1].name", "duplicate name 'a' (also clusters[0])"},
    {L0 "clusters: [{name: a, endpoints: [1.1.1.1:1], lb: rr}]\n", "2:50: clusters[0].lb",
     "unknown policy 'rr'"},
    {L0 "clusters: [{name: a, endpoints: [1.1.1.1:1], retries: {attempts: 11}}]\n",
     "2:66: clusters[0].retries.attempts", "between 0 and 10"},
    {L0 "clusters: [{name: a, endpoints: [1.1.1.1:1], retries: {tries: 1}}]\n",
     "2:56: clusters[0].retries.tries", "unknown key"},
    {L0 "clusters: [{name: a, endpoints: [1.1.1.1:1], health_check: {path: hc}}]\n",
     "2:67: clusters[0].health_check.path", "must start with '/'"},
    {L0 "clusters: [{name: a, endpoints: [1.1.1.1:1], health_check: {interval: 5}}]\n"
        "x: 1\n",
     "3:1: x", "unknown key"},
    {L0 "clusters: [{name: a, endpoints: [1.1.1.1:1], health_check: {healthy_threshold: 0}}]\n",
     "2:80: clusters[0].health_check.healthy_threshold", "between 1 and 1000"},
    {L0 "clusters: [{name: a, endpoints: [1.1.1.1:1], outlier: {ejection_time: 0}}]\n",
     "2:71: clusters[0].outlier.ejection_time", "between 1ms and 24h"},
    {L0 "clusters: [{name: a, endpoints: [1.1.1.1:1], connect_timeout: 2}]\n"
        "routes: [{proxy: {cluster: b}}]\n",
     "3:28: routes[0].proxy.cluster", "unknown cluster 'b' (defined: a)"},
    /* routes */
    {L0 "routes: [{}]\n", "2:10: routes[0]", "give an action: proxy, direct, redirect or wagi"},
    {L0 "routes:\n  - direct: {}\n    redirect: {path: /}\n", "4:15: routes[0].redirect",
     "a route has exactly one action: proxy, direct, redirect or wagi (also has direct)"},
    {L0 "routes: [{proxy: {cluster: x}}]\n", "2:28: routes[0].proxy.cluster",
     "unknown cluster 'x' (no clusters are defined)"},
    {L0 "routes: [{name: r, direct: {}}, {name: r, direct: {}}]\n", "2:40: routes[1].name",
     "duplicate name 'r' (also routes[0])"},
    {L0 "routes: [{match: {path: {prefix: /a, exact: /b}}, direct: {}}]\n",
     "2:45: routes[0].match.path.exact", "only one of exact, prefix or regex is allowed (also has prefix)"},
    {L0 "routes: [{match: {path: {}}, direct: {}}]\n", "2:25: routes[0].match.path",
     "give one of exact, prefix or regex"},
    {L0 "routes: [{match: {path: /a}, direct: {}}]\n", "2:25: routes[0].match.path",
     "expected a mapping"},
    {L0 "routes: [{match: {path: {prefix: a}}, direct: {}}]\n",
     "2:34: routes[0].match.path.prefix", "must start with '/'"},
    {L0 "routes: [{match: {path: {exact: \"/a?b=1\"}}, direct: {}}]\n",
     "2:33: routes[0].match.path.exact", "without the query"},
    {L0 "routes:\n  - match:\n      path: {regex: \"/a(\"}\n    direct: {}\n",
     "4:21: routes[0].match.path.regex", "bad regex at offset 3: missing closing parenthesis"},
    {L0 "routes: [{match: {paths: {}}, direct: {}}]\n", "2:19: routes[0].match.paths",
     "unknown key (expected one of: host, path, methods, headers)"},
    {L0 "routes: [{match: {host: []}, direct: {}}]\n", "2:25: routes[0].match.host",
     "empty list"},
    {L0 "routes: [{match: {host: [a.com, \"a*.com\"]}, direct: {}}]\n",
     "2:33: routes[0].match.host[1]", "'a*.com': '*' is only allowed"},
    {L0 "routes: [{match: {host: \"a.com:80\"}, direct: {}}]\n", "2:25: routes[0].match.host",
     "without the port"},
    {L0 "routes: [{match: {host: \"a b\"}, direct: {}}]\n", "2:25: routes[0].match.host",
     "bad host name"},
    {L0 "routes: [{match: {methods: [GET, \"P T\"]}, direct: {}}]\n",
     "2:34: routes[0].match.methods[1]", "not a method name"},
    {L0 "routes: [{match: {headers: [{value: x}]}, direct: {}}]\n",
     "2:29: routes[0].match.headers[0].name", "required"},
    {L0 "routes: [{match: {headers: [{name: \"a:b\"}]}, direct: {}}]\n",
     "2:36: routes[0].match.headers[0].name", "not a header name"},
    {L0 "routes: [{match: {headers: {name: a}}, direct: {}}]\n",
     "2:28: routes[0].match.headers", "expected a list"},
    {L0 "routes: [{match: {path: {exact: /a}}, proxy: {cluster: c, prefix_rewrite: /}}]\n"
        "clusters: [{name: c, endpoints: [1.1.1.1:1]}]\n",
     "2:75: routes[0].proxy.prefix_rewrite", "needs a route with match.path.prefix"},
    {L0 "clusters: [{name: c, endpoints: [1.1.1.1:1]}]\n"
        "routes: [{match: {path: {prefix: /a}}, proxy: {cluster: c, prefix_rewrite: x}}]\n",
     "3:76: routes[0].proxy.prefix_rewrite", "must start with '/'"},
    {L0 "clusters: [{name: c, endpoints: [1.1.1.1:1]}]\n"
        "routes: [{proxy: {cluster: c, host_rewrite: \"a/b\"}}]\n",
     "3:45: routes[0].proxy.host_rewrite", "bad host"},
    {L0 "routes: [{direct: {status: 99}}]\n", "2:28: routes[0].direct.status",
     "between 200 and 599"},
    {L0 "routes: [{direct: {status: 204, body: x}}]\n", "2:39: routes[0].direct.body",
     "a 204 response has no body"},
    {L0 "routes: [{direct: {headers: {content-length: 5}}}]\n",
     "2:30: routes[0].direct.headers.content-length", "set by the gateway"},
    {L0 "routes: [{direct: {headers: {a: 1, A: 2}}}]\n", "2:36: routes[0].direct.headers.A",
     "duplicate header"},
    {L0 "routes: [{direct: {headers: {\"a b\": 1}}}]\n", "2:30: routes[0].direct.headers.a b",
     "not a header name"},
    {L0 "routes: [{direct: {headers: {a: \"x\\ny\"}}}]\n", "2:33: routes[0].direct.headers.a",
     "control characters"},
    {L0 "routes: [{direct: {headers: [a]}}]\n", "2:29: routes[0].direct.headers",
     "expected a mapping (name: value)"},
    {L0 "routes: [{direct: {body: {a: 1}}}]\n", "2:26: routes[0].direct.body",
     "expected a single value"},
    {L0 "routes: [{redirect: {}}]\n", "2:21: routes[0].redirect",
     "at least one of scheme, host or path"},
    {L0 "routes: [{redirect: {status: 200, path: /}}]\n", "2:30: routes[0].redirect.status",
     "301, 302, 303, 307 or 308"},
    {L0 "routes: [{redirect: {scheme: ftp}}]\n", "2:30: routes[0].redirect.scheme",
     "http or https"},
    {L0 "routes: [{redirect: {path: \"no-slash\"}}]\n", "2:28: routes[0].redirect.path",
     "must start with '/'"},
    {L0 "routes: [{direct: {}, name: \"x\\0y\"}]\n", "2:29: routes[0].name", "NUL"},
    {L0 "routes: [{direct: }]\n", "2:19: routes[0].direct", "expected a mapping"},
    {L0 "routes: [{match: {path: {exact: }}, direct: {}}]\n", "2:33: routes[0].match.path.exact",
     "expected a single value, got a null"},
    {L0 "routes: {a: 1}\n", "2:9: routes", "expected a list, got a mapping"},
    {L0 "clusters: 1\n", "2:11: clusters", "expected a list, got a single value"},
};

static void test_errors(void)
{
    setenv("SLUICE_T_SET", "1", 1);
    unsetenv("SLUICE_T_UNSET");
    unsetenv("PORT");
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *bc = &bad_cases[i];
        char want[256], name[320];
        err[0] = '\0';
        gw_config *c = load(bc->yaml);
        snprintf(want, sizeof want, "t.yaml:%s: ", bc->where);
        int ok = !c && strncmp(err, want, strlen(want)) == 0 && strstr(err, bc->what) != NULL;
        snprintf(name, sizeof name, "error %s ... %s", bc->where, bc->what);
        check(ok, name);
        if (!ok)
            printf("#   got: %s\n", c ? "(loaded)" : err);
        gw_config_unref(c);
    }
}

static void test_error_buffers(void)
{
    char small[16];
    memset(small, 'x', sizeof small);
    gw_config *c = gw_config_load_string("x: 1", 4, "long-source-name.yaml", small, sizeof small);
    check(!c && memchr(small, 0, sizeof small) != NULL, "error truncated and terminated");
    c = gw_config_load_string("x: 1", 4, NULL, NULL, 0);
    check(!c, "NULL error buffer is fine");
    c = gw_config_load_string("x: 1", 4, NULL, err, sizeof err);
    check(!c && !strncmp(err, "<string>:1:1: x: ", 17), "default source name");
    c = gw_config_load_file("/nonexistent/gw.yaml", err, sizeof err);
    check(!c && strstr(err, "/nonexistent/gw.yaml:1:1:") && strstr(err, "cannot open"),
          "missing file");
    c = gw_config_load_string(L0 "x", strlen(L0) + 1, "t.yaml", err, sizeof err);
    check(!c && strstr(err, "t.yaml:3:1: yaml: could not find expected ':'"),
          "a trailing bare word is a YAML error with its position");
    const char bad_utf8[] = "listeners: [{address: \"\xff\"}]\n";
    c = gw_config_load_string(bad_utf8, strlen(bad_utf8), "t.yaml", err, sizeof err);
    check(!c && !strncmp(err, "t.yaml:1:24: yaml:", 18), "invalid UTF-8 reported with position");
}

/* ---- names, aliases ------------------------------------------------------- */

static void test_names_aliases(void)
{
    gw_config *c = load(L0 "routes: [{name: route1, direct: {}}, {direct: {}}, {direct: {}}]\n");
    check(c && !strcmp(c->routes[1].name, "route1-2") && !strcmp(c->routes[2].name, "route2"),
          "default names avoid given ones");
    gw_config_unref(c);

    c = load(L0 "routes:\n"
                "  - {name: a, match: {path: &re {regex: \"/x/[0-9]+\"}}, direct: {}}\n"
                "  - {name: b, match: {path: *re}, direct: &d {status: 201}}\n"
                "  - {name: c, match: {path: *re}, direct: *d}\n");
    if (!c)
        printf("# %s\n", err);
    check(c && c->routes[0].path_regex && c->routes[0].path_regex == c->routes[2].path_regex &&
              c->routes[2].status == 201,
          "aliases reuse values; one compiled regex for an aliased pattern");
    gw_config_unref(c);

    /* Exponential alias expansion must hit the work budget, quickly. */
    const char *bomb = L0 "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                          "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                          "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                          "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n";
    c = load(bomb);
    check(!c && strstr(err, "unknown key"), "unused anchors are just unknown keys");
    char big[4096];
    snprintf(big, sizeof big,
             L0 "clusters:\n"
                "  - &c {name: c, endpoints: &e [1.1.1.1:1, 1.1.1.1:2, 1.1.1.1:3, 1.1.1.1:4]}\n"
                "routes: &r0 [{match: {host: &h [a, b, c, d, e, f, g, h, i, j]}, direct: {}}]\n"
                "x1: &r1 [*r0, *r0, *r0, *r0, *r0, *r0, *r0, *r0, *r0, *r0]\n");
    c = load(big);
    check(!c, "anchors in unknown keys still fail");
    ut_buf y = {0};
    ut_buf_puts(&y, L0 "routes:\n  - &r {match: {host: &h [");
    for (int i = 0; i < 2000; i++)
        ut_buf_printf(&y, "%sh%d.example", i ? ", " : "", i);
    ut_buf_puts(&y, "]}, direct: {}}\n");
    for (int i = 0; i < 4000; i++)
        ut_buf_puts(&y, "  - *r\n");
    c = gw_config_load_string(y.data, y.len, "t.yaml", err, sizeof err);
    check(!c && strstr(err, "too large"), "alias amplification hits the work budget");
    ut_buf_free(&y);
}

/* ---- addresses ------------------------------------------------------------ */

static void test_parse_address(void)
{
    gw_sockaddr a;
    char e[200];
    check(gw_config_parse_address("127.0.0.1:80", &a, e, sizeof e) == 0 &&
              a.ss.ss_family == AF_INET && port_of(&a) == 80 &&
              a.len == sizeof(struct sockaddr_in),
          "parse_address v4");
    check(gw_config_parse_address("[::1]:443", &a, e, sizeof e) == 0 &&
              a.ss.ss_family == AF_INET6 && port_of(&a) == 443 &&
              a.len == sizeof(struct sockaddr_in6),
          "parse_address [v6]");
    check(gw_config_parse_address(":8080", &a, e, sizeof e) == 0 && port_of(&a) == 8080 &&
              ((struct sockaddr_in *)&a.ss)->sin_addr.s_addr == htonl(INADDR_ANY),
          "parse_address :port = any");
    check(gw_config_parse_address("8080", &a, e, sizeof e) == 0 && port_of(&a) == 8080,
          "parse_address bare port");
    check(gw_config_parse_address("localhost:9", &a, e, sizeof e) == 0 && port_of(&a) == 9,
          "parse_address localhost");
    check(gw_config_parse_address("1.2.3.4", &a, e, sizeof e) != 0 && strstr(e, "missing port"),
          "parse_address missing port");
    check(gw_config_parse_address("::1:80", &a, e, sizeof e) != 0 && strstr(e, "brackets"),
          "parse_address bare v6");
    check(gw_config_parse_address("h:65536", &a, e, sizeof e) != 0 && strstr(e, "'65536'"),
          "parse_address port range");
    check(gw_config_parse_address("[::1", &a, e, sizeof e) != 0, "parse_address unclosed [");
    check(gw_config_parse_address("", &a, e, sizeof e) != 0 && strstr(e, "empty"),
          "parse_address empty");
    check(gw_config_parse_address(NULL, &a, NULL, 0) != 0, "parse_address NULL");
    gw_config_set_name_lookups(false);
    check(gw_config_parse_address("example.com:80", &a, e, sizeof e) != 0 &&
              strstr(e, "name lookups are disabled"),
          "name lookups can be switched off");
    check(gw_config_parse_address("localhost:80", &a, e, sizeof e) == 0,
          "localhost still resolves without name lookups");
    gw_config *c = load("listeners: [{address: \"example.invalid:80\"}]");
    check(!c && strstr(err, "t.yaml:1:23: listeners[0].address: cannot resolve"),
          "config error for a name that does not resolve");
    gw_config_set_name_lookups(true);
}

static void test_tls_files(void)
{
    char dir[] = "/tmp/sluice-test-config-XXXXXX", cert[64], key[64], yaml[512];
    if (!mkdtemp(dir)) {
        check(0, "tls: temp dir");
        return;
    }
    snprintf(cert, sizeof cert, "%s/c.pem", dir);
    snprintf(key, sizeof key, "%s/k.pem", dir);
    FILE *f = fopen(cert, "w");
    if (f)
        fclose(f);
    f = fopen(key, "w");
    if (f)
        fclose(f);
    snprintf(yaml, sizeof yaml, "listeners: [{address: 127.0.0.1:1, tls: {cert: %s, key: %s}}]",
             cert, key);
    gw_config *c = load(yaml);
    check(c && !strcmp(c->listeners[0].tls_cert, cert) && !strcmp(c->listeners[0].tls_key, key),
          "tls cert and key paths kept");
    gw_config_unref(c);
    remove(cert);
    remove(key);
    rmdir(dir);
}

/* ---- dump ----------------------------------------------------------------- */

static const ut_json *path_get(const ut_json *v, const char *a, const char *b)
{
    v = ut_json_get(v, a);
    return b ? ut_json_get(v, b) : v;
}

static double num(const ut_json *v)
{
    double d = -1;
    ut_json_num(v, &d);
    return d;
}

static void test_dump(void)
{
    gw_config *c = load(
        "listeners: [{name: web, address: 127.0.0.1:8080}]\n"
        "clusters: [{name: api, endpoints: [\"127.0.0.1:81\"], lb: random,\n"
        "            health_check: {path: /hz}}]\n"
        "routes:\n"
        "  - name: p\n"
        "    match: {host: \"*.a.com\", path: {prefix: /api/}, methods: [GET],\n"
        "            headers: [{name: x-a, value: \"q\\\"\\\\\"}, {name: x-b}]}\n"
        "    proxy: {cluster: api, prefix_rewrite: /}\n"
        "  - match: {path: {regex: \"/r/.*\"}}\n"
        "    direct: {status: 201, body: \"line1\\nta\\tb \\\"q\\\" \\u00e9 \\0end\",\n"
        "             headers: {content-type: text/plain}}\n"
        "  - redirect: {scheme: https}\n");
    if (!c)
        printf("# %s\n", err);
    check(c != NULL, "dump: config loads");
    if (!c)
        return;
    c->generation = 7;
    ut_buf b = {0};
    gw_config_dump_json(c, &b);
    ut_json_err je;
    ut_json *j = b.oom ? NULL : ut_json_parse(b.data, b.len, 0, &je);
    if (!j)
        printf("# %s\n", b.data ? b.data : "(oom)");
    check(j != NULL, "dump is valid JSON");
    check(num(ut_json_get(j, "generation")) == 7 &&
              !strcmp(ut_json_str(ut_json_get(j, "source")), "t.yaml"),
          "dump: generation and source");
    const ut_json *l = ut_json_at(ut_json_get(j, "listeners"), 0);
    check(!strcmp(ut_json_str(ut_json_get(l, "name")), "web") &&
              !strcmp(ut_json_str(ut_json_get(l, "resolved")), "127.0.0.1:8080") &&
              ut_json_type_of(ut_json_get(l, "tls")) == UT_JSON_NULL,
          "dump: listener");
    check(!strcmp(ut_json_str(path_get(j, "admin", "address")), "127.0.0.1:9901"),
          "dump: admin default");
    check(num(path_get(j, "limits", "max_header_bytes")) == 65536 &&
              num(path_get(j, "limits", "max_connections")) == 100000 &&
              num(path_get(j, "timeouts", "keepalive_ms")) == 60000 &&
              num(ut_json_get(j, "workers")) == c->workers,
          "dump: limits, timeouts, workers");
    bool al = false;
    check(ut_json_bool(ut_json_get(j, "access_log"), &al) && al, "dump: access_log");
    const ut_json *cl = ut_json_at(ut_json_get(j, "clusters"), 0);
    check(!strcmp(ut_json_str(ut_json_get(cl, "lb")), "random") &&
              num(ut_json_get(cl, "connect_timeout_ms")) == 2000 &&
              num(path_get(cl, "retries", "attempts")) == 1 &&
              !strcmp(ut_json_str(path_get(cl, "health_check", "path")), "/hz") &&
              num(path_get(cl, "outlier", "ejection_time_ms")) == 10000 &&
              num(ut_json_get(ut_json_at(ut_json_get(cl, "endpoints"), 0), "port")) == 81,
          "dump: cluster with defaults");
    const ut_json *routes = ut_json_get(j, "routes");
    const ut_json *r0 = ut_json_at(routes, 0), *m = ut_json_get(r0, "match");
    check(!strcmp(ut_json_str(ut_json_at(ut_json_get(m, "host"), 0)), "*.a.com") &&
              !strcmp(ut_json_str(path_get(m, "path", "kind")), "prefix") &&
              !strcmp(ut_json_str(ut_json_at(ut_json_get(m, "methods"), 0)), "GET") &&
              !strcmp(ut_json_str(path_get(r0, "proxy", "cluster")), "api") &&
              !strcmp(ut_json_str(path_get(r0, "proxy", "prefix_rewrite")), "/"),
          "dump: proxy route");
    const ut_json *hs = ut_json_get(m, "headers");
    check(!strcmp(ut_json_str(ut_json_get(ut_json_at(hs, 0), "value")), "q\"\\") &&
              ut_json_type_of(ut_json_get(ut_json_at(hs, 1), "value")) == UT_JSON_NULL,
          "dump: header conditions, escaped");
    const ut_json *d = ut_json_get(ut_json_at(routes, 1), "direct");
    size_t blen = 0;
    const char *body = ut_json_strn(ut_json_get(d, "body"), &blen);
    check(body && blen == c->routes[1].body_len && !memcmp(body, c->routes[1].body, blen),
          "dump: body with quotes, newline, tab, UTF-8 and NUL round-trips");
    check(num(ut_json_get(d, "status")) == 201 &&
              !strcmp(ut_json_str(path_get(d, "headers", "content-type")), "text/plain"),
          "dump: direct status and headers");
    const ut_json *rd = ut_json_get(ut_json_at(routes, 2), "redirect");
    check(num(ut_json_get(rd, "status")) == 301 &&
              !strcmp(ut_json_str(ut_json_get(rd, "scheme")), "https") &&
              ut_json_type_of(ut_json_get(rd, "host")) == UT_JSON_NULL,
          "dump: redirect");
    check(!strcmp(ut_json_str(ut_json_get(ut_json_at(routes, 1), "name")), "route1"),
          "dump: default route name");
    ut_json_free(j);
    ut_buf_free(&b);

    gw_config *e = gw_config_load_file("examples/gateway.yaml", err, sizeof err);
    gw_config_dump_json(e, &b);
    j = e && !b.oom ? ut_json_parse(b.data, b.len, 0, NULL) : NULL;
    check(j && ut_json_len(ut_json_get(j, "routes")) == e->n_routes, "dump: the example");
    ut_json_free(j);
    ut_buf_free(&b);
    gw_config_unref(e);
    gw_config_unref(c);
}

static void test_refcount(void)
{
    gw_config *c = load(L0);
    check(c && gw_config_ref(c) == c && atomic_load(&c->refs) == 2, "ref returns it, counts");
    gw_config_unref(c);
    check(c && atomic_load(&c->refs) == 1, "unref counts down");
    gw_config_unref(c); /* frees; ASan/LSan check the rest */
    gw_config_unref(NULL);
    check(gw_config_ref(NULL) == NULL, "ref/unref accept NULL");
}

int main(void)
{
    unsetenv("PORT");
    test_example();
    test_defaults();
    test_values();
    test_env();
    test_errors();
    test_error_buffers();
    test_names_aliases();
    test_parse_address();
    test_tls_files();
    test_dump();
    test_refcount();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
