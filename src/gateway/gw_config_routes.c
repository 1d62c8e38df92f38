/*
 * gw_config_routes.c — the config schema for clusters and routes: reads,
 * validates and fills defaults for clusters[] (endpoints resolved) and
 * routes[] (match conditions, regexes compiled, exactly one action, the
 * proxy's cluster resolved).
 *
 * Owns:      the keys, types, ranges and defaults of clusters and routes,
 *            host-pattern and method normalization, cluster references.
 * Not here:  loading and the top level (gw_config.c), scalar syntax
 *            (gw_config_yaml.c), matching requests (gw_router.c).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "gw_config_int.h"

#include <pcre2.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_DIRECT_HEADERS 100

/* ---- clusters ------------------------------------------------------------- */

static void read_endpoint(gwc_reader *r, yaml_node_t *n, gw_endpoint_conf *e)
{
    char host[GWC_HOST_MAX], q[80];
    uint16_t port = 0;
    bool v6 = false;
    e->address = gwc_string(r, n);
    if (!gwc_read_address(r, n, e->address, &e->addr, host, &port, &v6))
        return;
    gwc_quote(q, sizeof q, e->address, strlen(e->address));
    if (!host[0])
        gwc_fail(r, n, "endpoint '%s' needs a host, e.g. 127.0.0.1:%u", q, (unsigned)port);
    else if (port == 0)
        gwc_fail(r, n, "endpoint '%s' needs a port (1-65535)", q);
    char buf[GWC_HOST_MAX + 2];
    snprintf(buf, sizeof buf, v6 ? "[%s]" : "%s", host);
    e->host = gwc_strndup(r, buf, strlen(buf));
    e->port = port;
}

static void read_endpoints(gwc_reader *r, gw_cluster_conf *cl, yaml_node_t *map)
{
    yaml_node_t *seq = gwc_require(r, map, "endpoints");
    size_t mark = gwc_push_key(r, "endpoints");
    size_t n = gwc_seq_len(r, seq);
    if (!r->failed && n == 0)
        gwc_fail(r, seq, "at least one endpoint (host:port) is required");
    cl->endpoints = gwc_array(r, n, sizeof *cl->endpoints);
    for (size_t i = 0; i < n && !r->failed; i++) {
        size_t m = gwc_push_index(r, i);
        read_endpoint(r, gwc_seq_at(r, seq, i), &cl->endpoints[i]);
        gwc_pop(r, m);
    }
    cl->n_endpoints = r->failed ? 0 : n;
    gwc_pop(r, mark);
}

static void read_lb(gwc_reader *r, gw_cluster_conf *cl, yaml_node_t *map)
{
    static const char *const names[] = {"round_robin", "least_request", "random"};
    yaml_node_t *v = gwc_get(r, map, "lb");
    size_t mark = gwc_push_key(r, "lb");
    char *s = gwc_string(r, v), q[64];
    if (s) {
        size_t k = 0;
        while (k < 3 && strcmp(s, names[k]) != 0)
            k++;
        gwc_quote(q, sizeof q, s, strlen(s));
        if (k == 3)
            gwc_fail(r, v, "unknown policy '%s' (expected round_robin, least_request or random)",
                     q);
        else
            cl->lb = (gw_lb_kind)k;
    }
    gwc_pop(r, mark);
}

static void read_retries(gwc_reader *r, gw_cluster_conf *cl, yaml_node_t *map)
{
    static const char *const keys[] = {"attempts", "on_connect_failure", "on_5xx", NULL};
    yaml_node_t *n = gwc_get(r, map, "retries");
    size_t mark = gwc_push_key(r, "retries");
    if (n && gwc_check_keys(r, n, keys)) {
        gwc_opt_u32(r, n, "attempts", 0, 10, &cl->retries);
        gwc_opt_bool(r, n, "on_connect_failure", &cl->retry_on_connect_failure);
        gwc_opt_bool(r, n, "on_5xx", &cl->retry_on_5xx);
    }
    gwc_pop(r, mark);
}

static void read_health(gwc_reader *r, gw_cluster_conf *cl, yaml_node_t *map)
{
    static const char *const keys[] = {"path", "host", "interval", "timeout",
                                       "healthy_threshold", "unhealthy_threshold", NULL};
    gw_health_conf *h = &cl->health;
    yaml_node_t *n = gwc_get(r, map, "health_check");
    size_t mark = gwc_push_key(r, "health_check");
    if (n && gwc_check_keys(r, n, keys)) {
        h->enabled = true;
        gwc_opt_string(r, n, "path", &h->path);
        if (h->path && !gwc_valid_path(h->path, true)) {
            size_t m = gwc_push_key(r, "path");
            gwc_fail(r, gwc_get(r, n, "path"), "must start with '/' and be visible ASCII");
            gwc_pop(r, m);
        }
        gwc_opt_string(r, n, "host", &h->host);
        if (h->host && !gwc_valid_authority(h->host)) {
            size_t m = gwc_push_key(r, "host");
            gwc_fail(r, gwc_get(r, n, "host"), "bad host (expected name or name:port)");
            gwc_pop(r, m);
        }
        gwc_opt_duration(r, n, "interval", 1, &h->interval_ms);
        gwc_opt_duration(r, n, "timeout", 1, &h->timeout_ms);
        gwc_opt_u32(r, n, "healthy_threshold", 1, 1000, &h->healthy_threshold);
        gwc_opt_u32(r, n, "unhealthy_threshold", 1, 1000, &h->unhealthy_threshold);
    }
    gwc_pop(r, mark);
}

static void read_outlier(gwc_reader *r, gw_cluster_conf *cl, yaml_node_t *map)
{
    static const char *const keys[] = {"consecutive_failures", "ejection_time", NULL};
    yaml_node_t *n = gwc_get(r, map, "outlier");
    size_t mark = gwc_push_key(r, "outlier");
    if (n && gwc_check_keys(r, n, keys)) {
        gwc_opt_u32(r, n, "consecutive_failures", 0, 1000000, &cl->eject_consecutive_failures);
        gwc_opt_duration(r, n, "ejection_time", 1, &cl->eject_ms);
    }
    gwc_pop(r, mark);
}

static void cluster_defaults(gwc_reader *r, gw_cluster_conf *cl)
{
    cl->lb = GW_LB_ROUND_ROBIN;
    cl->connect_timeout_ms = 2000;
    cl->request_timeout_ms = 15000;
    cl->idle_timeout_ms = 60000;
    cl->max_connections = 1024;
    cl->retries = 1;
    cl->retry_on_connect_failure = true;
    cl->retry_on_5xx = false;
    cl->health.path = gwc_strndup(r, "/healthz", 8);
    cl->health.interval_ms = 5000;
    cl->health.timeout_ms = 1000;
    cl->health.healthy_threshold = 2;
    cl->health.unhealthy_threshold = 3;
    cl->eject_consecutive_failures = 5;
    cl->eject_ms = 10000;
}

static void read_cluster(gwc_loader *L, yaml_node_t *n, size_t i)
{
    static const char *const keys[] = {"name", "endpoints", "lb", "connect_timeout",
                                       "request_timeout", "idle_timeout", "max_connections",
                                       "retries", "health_check", "outlier", NULL};
    gwc_reader *r = &L->r;
    gw_cluster_conf *cl = &L->c->clusters[i];
    cluster_defaults(r, cl);
    if (!gwc_check_keys(r, n, keys))
        return;
    cl->name = gwc_read_name(r, n, true, &L->clusters, "clusters", i);
    read_endpoints(r, cl, n);
    read_lb(r, cl, n);
    gwc_opt_duration(r, n, "connect_timeout", 1, &cl->connect_timeout_ms);
    gwc_opt_duration(r, n, "request_timeout", 1, &cl->request_timeout_ms);
    gwc_opt_duration(r, n, "idle_timeout", 1, &cl->idle_timeout_ms);
    gwc_opt_u32(r, n, "max_connections", 0, 1000000, &cl->max_connections);
    read_retries(r, cl, n);
    read_health(r, cl, n);
    read_outlier(r, cl, n);
}

void gwc_read_clusters(gwc_loader *L, yaml_node_t *root)
{
    gwc_reader *r = &L->r;
    yaml_node_t *seq = gwc_get(r, root, "clusters");
    size_t mark = gwc_push_key(r, "clusters");
    size_t n = gwc_seq_len(r, seq);
    L->c->clusters = gwc_array(r, n, sizeof *L->c->clusters);
    gwc_names_init(r, &L->clusters, n);
    for (size_t i = 0; i < n && !r->failed; i++) {
        size_t m = gwc_push_index(r, i);
        read_cluster(L, gwc_seq_at(r, seq, i), i);
        gwc_pop(r, m);
    }
    L->c->n_clusters = r->failed ? 0 : n;
    gwc_pop(r, mark);
}

/* ---- routes: match -------------------------------------------------------- */

/* "example.com", "*.example.com", "*", "[::1]"; stored lowercase, without a
 * trailing dot. */
static const char *host_pattern_problem(char *s)
{
    size_t n = strlen(s);
    if (n > 1 && s[n - 1] == '.')
        s[--n] = '\0';
    gwc_lower(s);
    if (!strcmp(s, "*"))
        return NULL;
    if (s[0] == '[')
        return s[n - 1] == ']' && n > 2 && strspn(s + 1, "0123456789abcdef:.") == n - 2
                   ? NULL
                   : "bad IPv6 host (expected e.g. [::1], without a port)";
    const char *name = strncmp(s, "*.", 2) == 0 ? s + 2 : s;
    if (strchr(name, '*'))
        return "'*' is only allowed alone or as a leading '*.' (e.g. *.example.com)";
    if (strchr(name, ':'))
        return "host patterns match without the port: remove the ':port'";
    if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-._") != strlen(name))
        return "bad host name (letters, digits, '-', '.', '_')";
    return NULL;
}

static const char *method_problem(char *s)
{
    gwc_upper(s);
    return gwc_valid_token(s) ? NULL : "not a method name (e.g. GET, POST)";
}

/* A string or a list of strings, each checked (and normalized) by check. */
static void read_str_list(gwc_reader *r, yaml_node_t *map, const char *key, char ***out,
                          size_t *n_out, const char *(*check)(char *))
{
    yaml_node_t *v = gwc_get(r, map, key);
    size_t mark = gwc_push_key(r, key);
    bool single = v && v->type == YAML_SCALAR_NODE;
    size_t n = single ? 1 : gwc_seq_len(r, v);
    if (v && !r->failed && n == 0)
        gwc_fail(r, v, "empty list; leave the key out to match any");
    char **arr = gwc_array(r, n, sizeof *arr);
    for (size_t i = 0; i < n && !r->failed; i++) {
        size_t m = single ? mark : gwc_push_index(r, i);
        yaml_node_t *item = single ? v : gwc_seq_at(r, v, i);
        char q[80];
        arr[i] = gwc_string(r, item);
        const char *problem = arr[i] ? check(arr[i]) : NULL;
        if (problem) {
            gwc_quote(q, sizeof q, arr[i], strlen(arr[i]));
            gwc_fail(r, item, "'%s': %s", q, problem);
        }
        if (!single)
            gwc_pop(r, m);
    }
    *out = arr;
    *n_out = r->failed ? 0 : n;
    gwc_pop(r, mark);
}

static void read_header_match(gwc_reader *r, yaml_node_t *n, gw_header_match *h)
{
    static const char *const keys[] = {"name", "value", NULL};
    if (!gwc_check_keys(r, n, keys))
        return;
    yaml_node_t *nn = gwc_require(r, n, "name");
    size_t mark = gwc_push_key(r, "name");
    h->name = gwc_string(r, nn);
    if (h->name && !gwc_valid_token(h->name))
        gwc_fail(r, nn, "not a header name");
    if (h->name)
        gwc_lower(h->name);
    gwc_pop(r, mark);
    gwc_opt_string(r, n, "value", &h->value);
    if (h->value && !gwc_valid_field_value(h->value)) {
        mark = gwc_push_key(r, "value");
        gwc_fail(r, gwc_get(r, n, "value"), "control characters are not allowed");
        gwc_pop(r, mark);
    }
}

static void read_header_matches(gwc_reader *r, gw_route_conf *rt, yaml_node_t *map)
{
    yaml_node_t *seq = gwc_get(r, map, "headers");
    size_t mark = gwc_push_key(r, "headers");
    size_t n = gwc_seq_len(r, seq);
    rt->headers = gwc_array(r, n, sizeof *rt->headers);
    for (size_t i = 0; i < n && !r->failed; i++) {
        size_t m = gwc_push_index(r, i);
        read_header_match(r, gwc_seq_at(r, seq, i), &rt->headers[i]);
        gwc_pop(r, m);
    }
    rt->n_headers = r->failed ? 0 : n;
    gwc_pop(r, mark);
}

/* Compiles once per YAML node: aliases of one regex share the code. */
static void *compile_regex(gwc_loader *L, yaml_node_t *n, const char *src)
{
    gwc_reader *r = &L->r;
    size_t idx = (size_t)(n - r->doc->nodes.start);
    if (idx < r->n_nodes && r->node_cache[idx])
        return r->node_cache[idx];
    int code_err;
    PCRE2_SIZE off;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)src, strlen(src),
                                     PCRE2_ANCHORED | PCRE2_ENDANCHORED, &code_err, &off, NULL);
    if (!code) {
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(code_err, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", code_err);
        gwc_fail(r, n, "bad regex at offset %zu: %s", (size_t)off, (const char *)msg);
        return NULL;
    }
    L->im->codes[L->im->n_codes++] = code;
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* the interpreter is the fallback */
    if (idx < r->n_nodes)
        r->node_cache[idx] = code;
    return code;
}

/* Which one of keys (mutually exclusive) map has, in document order; -1
 * if none. A second one fails with "WHAT (also has X)". A null value
 * counts as present (its reader then says what it expected). */
static int one_of(gwc_reader *r, yaml_node_t *map, const char *const *keys, const char *what,
                  yaml_node_t **val)
{
    int found = -1;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top && !r->failed; p++) {
        yaml_node_t *k = yaml_document_get_node(r->doc, p->key);
        yaml_node_t *v = gwc_node(r, p->value);
        int j = 0;
        while (keys[j] && (!k || k->type != YAML_SCALAR_NODE ||
                           strcmp((const char *)k->data.scalar.value, keys[j]) != 0))
            j++;
        if (!keys[j] || !v)
            continue;
        if (found >= 0) {
            size_t m = gwc_push_key(r, keys[j]);
            gwc_fail(r, v, "%s (also has %s)", what, keys[found]);
            gwc_pop(r, m);
        } else {
            found = j;
            *val = v;
        }
    }
    return r->failed ? -1 : found;
}

static void read_path(gwc_loader *L, gw_route_conf *rt, yaml_node_t *map)
{
    static const char *const keys[] = {"exact", "prefix", "regex", NULL};
    static const gw_path_kind kinds[] = {GW_PATH_EXACT, GW_PATH_PREFIX, GW_PATH_REGEX};
    gwc_reader *r = &L->r;
    yaml_node_t *n = gwc_get(r, map, "path"), *v = NULL;
    size_t mark = gwc_push_key(r, "path");
    int k = -1;
    if (n && gwc_check_keys(r, n, keys)) {
        k = one_of(r, n, keys, "only one of exact, prefix or regex is allowed", &v);
        if (k < 0)
            gwc_fail(r, n, "give one of exact, prefix or regex");
    }
    if (k >= 0 && !r->failed) {
        size_t m = gwc_push_key(r, keys[k]);
        rt->path_kind = kinds[k];
        rt->path = gwc_string(r, v);
        if (rt->path && k < 2 && !gwc_valid_path(rt->path, false))
            gwc_fail(r, v, "must start with '/' and be visible ASCII without '?' or '#' "
                           "(paths are matched without the query)");
        else if (rt->path && k == 2)
            rt->path_regex = compile_regex(L, v, rt->path);
        gwc_pop(r, m);
    }
    gwc_pop(r, mark);
}

static void read_match(gwc_loader *L, gw_route_conf *rt, yaml_node_t *route)
{
    static const char *const keys[] = {"host", "path", "methods", "headers", NULL};
    gwc_reader *r = &L->r;
    yaml_node_t *n = gwc_get(r, route, "match");
    size_t mark = gwc_push_key(r, "match");
    if (n && gwc_check_keys(r, n, keys)) {
        read_str_list(r, n, "host", &rt->hosts, &rt->n_hosts, host_pattern_problem);
        read_path(L, rt, n);
        read_str_list(r, n, "methods", &rt->methods, &rt->n_methods, method_problem);
        read_header_matches(r, rt, n);
    }
    gwc_pop(r, mark);
}

/* ---- routes: actions ------------------------------------------------------ */

static void list_clusters(const gw_config *c, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < c->n_clusters && o + 1 < cap; i++) {
        int k = snprintf(out + o, cap - o, "%s%s", i ? ", " : "", c->clusters[i].name);
        if (k < 0)
            break;
        o += (size_t)k;
    }
}

static void read_proxy(gwc_loader *L, gw_route_conf *rt, yaml_node_t *n)
{
    static const char *const keys[] = {"cluster", "prefix_rewrite", "host_rewrite", NULL};
    gwc_reader *r = &L->r;
    char q[80], known[200];
    rt->action = GW_ACTION_PROXY;
    if (!gwc_check_keys(r, n, keys))
        return;
    yaml_node_t *v = gwc_require(r, n, "cluster");
    size_t mark = gwc_push_key(r, "cluster");
    rt->cluster_name = gwc_string(r, v);
    const gwc_name *e = rt->cluster_name ? gwc_names_find(&L->clusters, rt->cluster_name) : NULL;
    if (rt->cluster_name && !e) {
        gwc_quote(q, sizeof q, rt->cluster_name, strlen(rt->cluster_name));
        list_clusters(L->c, known, sizeof known);
        gwc_fail(r, v, "unknown cluster '%s' (%s%s)", q, known[0] ? "defined: " : "",
                 known[0] ? known : "no clusters are defined");
    } else if (e) {
        rt->cluster = &L->c->clusters[e->idx];
    }
    gwc_pop(r, mark);
    gwc_opt_string(r, n, "prefix_rewrite", &rt->prefix_rewrite);
    gwc_opt_string(r, n, "host_rewrite", &rt->host_rewrite);
    mark = gwc_push_key(r, "prefix_rewrite");
    if (rt->prefix_rewrite && rt->path_kind != GW_PATH_PREFIX)
        gwc_fail(r, gwc_get(r, n, "prefix_rewrite"), "needs a route with match.path.prefix");
    else if (rt->prefix_rewrite && !gwc_valid_path(rt->prefix_rewrite, false))
        gwc_fail(r, gwc_get(r, n, "prefix_rewrite"),
                 "must start with '/' and be visible ASCII without '?' or '#'");
    gwc_pop(r, mark);
    mark = gwc_push_key(r, "host_rewrite");
    if (rt->host_rewrite && !gwc_valid_authority(rt->host_rewrite))
        gwc_fail(r, gwc_get(r, n, "host_rewrite"), "bad host (expected name or name:port)");
    gwc_pop(r, mark);
}

static void read_response_headers(gwc_reader *r, gw_route_conf *rt, yaml_node_t *map)
{
    yaml_node_t *n = gwc_get(r, map, "headers");
    size_t mark = gwc_push_key(r, "headers");
    if (n && n->type != YAML_MAPPING_NODE)
        gwc_fail(r, n, "expected a mapping (name: value), got a %s", gwc_kind(n));
    size_t count = n && !r->failed ? (size_t)(n->data.mapping.pairs.top -
                                              n->data.mapping.pairs.start) : 0;
    if (count > MAX_DIRECT_HEADERS)
        gwc_fail(r, n, "at most %d headers", MAX_DIRECT_HEADERS);
    rt->response_headers = gwc_array(r, count, sizeof *rt->response_headers);
    for (size_t i = 0; i < count && !r->failed; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        yaml_node_t *k = gwc_node(r, p->key), *v = gwc_node(r, p->value);
        gw_kv *kv = &rt->response_headers[i];
        char q[80];
        kv->name = gwc_string(r, k);
        if (!kv->name)
            break;
        gwc_quote(q, sizeof q, kv->name, strlen(kv->name));
        size_t m = gwc_push_key(r, q);
        if (!gwc_valid_token(kv->name))
            gwc_fail(r, k, "not a header name");
        else if (!strcasecmp(kv->name, "content-length") ||
                 !strcasecmp(kv->name, "transfer-encoding") ||
                 !strcasecmp(kv->name, "connection"))
            gwc_fail(r, k, "set by the gateway; remove it");
        for (size_t j = 0; j < i && !r->failed; j++)
            if (!strcasecmp(rt->response_headers[j].name, kv->name))
                gwc_fail(r, k, "duplicate header");
        kv->value = gwc_is_null(v) ? gwc_strndup(r, "", 0) : gwc_string(r, v);
        if (kv->value && !gwc_valid_field_value(kv->value))
            gwc_fail(r, v, "control characters are not allowed");
        gwc_pop(r, m);
    }
    rt->n_response_headers = r->failed ? 0 : count;
    gwc_pop(r, mark);
}

static void read_direct(gwc_reader *r, gw_route_conf *rt, yaml_node_t *n)
{
    static const char *const keys[] = {"status", "body", "headers", NULL};
    uint32_t status = 200;
    rt->action = GW_ACTION_DIRECT;
    if (!gwc_check_keys(r, n, keys))
        return;
    gwc_opt_u32(r, n, "status", 200, 599, &status);
    rt->status = (int)status;
    yaml_node_t *b = gwc_get(r, n, "body");
    size_t mark = gwc_push_key(r, "body"), len = 0;
    const char *body = b ? gwc_text(r, b, &len) : "";
    rt->body = body ? gwc_strndup(r, body, len) : NULL;
    rt->body_len = len;
    if (len && (status == 204 || status == 304))
        gwc_fail(r, b, "a %u response has no body", (unsigned)status);
    gwc_pop(r, mark);
    read_response_headers(r, rt, n);
}

static void read_redirect(gwc_reader *r, gw_route_conf *rt, yaml_node_t *n)
{
    static const char *const keys[] = {"status", "scheme", "host", "path", NULL};
    uint32_t status = 301;
    rt->action = GW_ACTION_REDIRECT;
    if (!gwc_check_keys(r, n, keys))
        return;
    gwc_opt_u32(r, n, "status", 0, 999, &status);
    size_t mark = gwc_push_key(r, "status");
    if (!r->failed && status != 301 && status != 302 && status != 303 && status != 307 &&
        status != 308)
        gwc_fail(r, gwc_get(r, n, "status"), "must be 301, 302, 303, 307 or 308");
    rt->redirect_status = (int)status;
    gwc_pop(r, mark);
    gwc_opt_string(r, n, "scheme", &rt->redirect_scheme);
    gwc_opt_string(r, n, "host", &rt->redirect_host);
    gwc_opt_string(r, n, "path", &rt->redirect_path);
    if (rt->redirect_scheme)
        gwc_lower(rt->redirect_scheme);
    mark = gwc_push_key(r, "scheme");
    if (rt->redirect_scheme && strcmp(rt->redirect_scheme, "http") != 0 &&
        strcmp(rt->redirect_scheme, "https") != 0)
        gwc_fail(r, gwc_get(r, n, "scheme"), "must be http or https");
    gwc_pop(r, mark);
    mark = gwc_push_key(r, "host");
    if (rt->redirect_host && !gwc_valid_authority(rt->redirect_host))
        gwc_fail(r, gwc_get(r, n, "host"), "bad host (expected name or name:port)");
    gwc_pop(r, mark);
    mark = gwc_push_key(r, "path");
    if (rt->redirect_path && !gwc_valid_path(rt->redirect_path, true))
        gwc_fail(r, gwc_get(r, n, "path"), "must start with '/' and be visible ASCII");
    gwc_pop(r, mark);
    if (!r->failed && !rt->redirect_scheme && !rt->redirect_host && !rt->redirect_path)
        gwc_fail(r, n, "give at least one of scheme, host or path (else it redirects to "
                       "itself)");
}

/* name: value pairs of a mapping (env, volumes) into an arena array. */
static gw_kv *read_pairs(gwc_reader *r, yaml_node_t *map, const char *key, size_t *n_out)
{
    yaml_node_t *n = gwc_get(r, map, key);
    size_t mark = gwc_push_key(r, key);
    gw_kv *kv = NULL;
    size_t count = 0;
    if (n && n->type != YAML_MAPPING_NODE)
        gwc_fail(r, n, "expected a mapping (name: value), got a %s", gwc_kind(n));
    else if (n)
        count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (count > 1024)
        gwc_fail(r, n, "at most 1024 entries");
    kv = r->failed ? NULL : gwc_array(r, count, sizeof *kv);
    for (size_t i = 0; kv && i < count && !r->failed; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        kv[i].name = gwc_string(r, gwc_node(r, p->key));
        yaml_node_t *v = gwc_node(r, p->value);
        kv[i].value = gwc_is_null(v) ? gwc_strndup(r, "", 0) : gwc_string(r, v);
        if (kv[i].name && strchr(kv[i].name, '='))
            gwc_fail(r, gwc_node(r, p->key), "a name may not contain '='");
    }
    *n_out = r->failed ? 0 : count;
    gwc_pop(r, mark);
    return kv;
}

static void read_wagi(gwc_reader *r, gw_route_conf *rt, yaml_node_t *n)
{
    static const char *const keys[] = {"module",     "modules", "entrypoint",      "argv",
                                       "script_name", "env",     "volumes",         "timeout",
                                       "max_memory",  "init",    "max_concurrency", "max_body",
                                       "runtime",     NULL};
    /* the keys a modules.toml sets per module itself */
    static const char *const per_module[] = {"entrypoint", "argv",       "script_name",
                                             "env",        "volumes",    "timeout",
                                             "max_memory", "init",       "max_concurrency",
                                             "runtime",    NULL};
    rt->action = GW_ACTION_WAGI;
    if (!gwc_check_keys(r, n, keys))
        return;
    rt->wagi_max_body_bytes = 16u << 20;
    gwc_opt_size(r, n, "max_body", 0, 1ull << 40, &rt->wagi_max_body_bytes);
    rt->wagi_timeout_ms = 30000;
    if (gwc_get(r, n, "modules")) {
        if (gwc_get(r, n, "module")) {
            gwc_fail(r, n, "give either 'module' (one .wasm) or 'modules' (a modules.toml)");
            return;
        }
        for (size_t i = 0; per_module[i]; i++) {
            yaml_node_t *k = gwc_get(r, n, per_module[i]);
            if (k) {
                gwc_fail(r, k, "with 'modules', '%s' belongs in the modules.toml", per_module[i]);
                return;
            }
        }
        gwc_opt_string(r, n, "modules", &rt->wagi_modules);
        if (rt->wagi_modules && !rt->wagi_modules[0])
            gwc_fail(r, gwc_get(r, n, "modules"), "give the path of a modules.toml");
        return;
    }
    yaml_node_t *m = gwc_require(r, n, "module");
    size_t mark = gwc_push_key(r, "module");
    rt->wagi_module = m ? gwc_string(r, m) : NULL;
    if (rt->wagi_module && !rt->wagi_module[0])
        gwc_fail(r, m, "give the path of a .wasm file");
    gwc_pop(r, mark);
    gwc_opt_string(r, n, "entrypoint", &rt->wagi_entrypoint);
    gwc_opt_string(r, n, "argv", &rt->wagi_argv);
    gwc_opt_string(r, n, "script_name", &rt->wagi_script_name);
    gwc_opt_string(r, n, "init", &rt->wagi_init);
    gwc_opt_runtime(r, n, &rt->wagi_runtime);
    gwc_opt_u32(r, n, "max_concurrency", 0, UINT32_MAX, &rt->wagi_max_concurrency);
    rt->wagi_env = read_pairs(r, n, "env", &rt->n_wagi_env);
    rt->wagi_volumes = read_pairs(r, n, "volumes", &rt->n_wagi_volumes);
    gwc_opt_duration(r, n, "timeout", 1, &rt->wagi_timeout_ms);
    uint64_t mem = 0;
    gwc_opt_size(r, n, "max_memory", 65536, 65536ull * 65536ull, &mem);
    rt->wagi_max_memory_pages = (uint32_t)((mem + 65535) / 65536);
}

static void read_route(gwc_loader *L, yaml_node_t *n, size_t i, gwc_names *names)
{
    static const char *const keys[] = {"name", "match", "proxy", "direct", "redirect", "wagi",
                                       "plugins", NULL};
    static const char *const actions[] = {"proxy", "direct", "redirect", "wagi", NULL};
    gwc_reader *r = &L->r;
    gw_route_conf *rt = &L->c->routes[i];
    rt->redirect_status = 301;
    rt->status = 200;
    if (!gwc_check_keys(r, n, keys))
        return;
    rt->name = gwc_read_name(r, n, false, names, "routes", i);
    read_match(L, rt, n);
    yaml_node_t *a = NULL;
    int k = one_of(r, n, actions,
                   "a route has exactly one action: proxy, direct, redirect or wagi", &a);
    size_t mark = k >= 0 ? gwc_push_key(r, actions[k]) : 0;
    if (k == 0)
        read_proxy(L, rt, a);
    else if (k == 1)
        read_direct(r, rt, a);
    else if (k == 2)
        read_redirect(r, rt, a);
    else if (k == 3)
        read_wagi(r, rt, a);
    if (k >= 0)
        gwc_pop(r, mark);
    if (k < 0)
        gwc_fail(r, n, "give an action: proxy, direct, redirect or wagi");
}

void gwc_read_routes(gwc_loader *L, yaml_node_t *root)
{
    gwc_reader *r = &L->r;
    gw_config *c = L->c;
    yaml_node_t *seq = gwc_get(r, root, "routes");
    size_t mark = gwc_push_key(r, "routes");
    size_t n = gwc_seq_len(r, seq);
    gwc_names names = {0};
    c->routes = gwc_array(r, n, sizeof *c->routes);
    L->im->codes = gwc_array(r, n, sizeof *L->im->codes);
    gwc_names_init(r, &names, n);
    for (size_t i = 0; i < n && !r->failed; i++) {
        size_t m = gwc_push_index(r, i);
        read_route(L, gwc_seq_at(r, seq, i), i, &names);
        gwc_pop(r, m);
    }
    for (size_t i = 0; i < n && !r->failed; i++)
        if (!c->routes[i].name)
            c->routes[i].name = gwc_default_name(r, &names, "route", i);
    c->n_routes = r->failed ? 0 : n;
    gwc_pop(r, mark);
}

