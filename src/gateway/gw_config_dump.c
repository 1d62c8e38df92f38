/*
 * gw_config_dump.c — gw_config_dump_json: one generation as JSON (for the
 * admin endpoint GET /config_dump), every field with defaults filled in.
 *
 * Owns:      the JSON shape: the YAML key names, durations as *_ms
 *            numbers, addresses both as written and as resolved.
 * Not here:  loading (gw_config.c); the admin endpoint (gw_admin.c).
 *            Reads only the public structs (and gwc_format_addr).
 */
#include <inttypes.h>
#include <string.h>

#include "gw_config.h"
#include "gw_config_int.h"

static void str(ut_buf *b, const char *s)
{
    if (s)
        ut_buf_json_str(b, s, strlen(s));
    else
        ut_buf_puts(b, "null");
}

/* ,"key": with the comma when not first */
static void key(ut_buf *b, const char *k, bool *first)
{
    if (!*first)
        ut_buf_putc(b, ',');
    *first = false;
    ut_buf_json_str(b, k, strlen(k));
    ut_buf_putc(b, ':');
}

static void kstr(ut_buf *b, const char *k, const char *v, bool *first)
{
    key(b, k, first);
    str(b, v);
}

static void knum(ut_buf *b, const char *k, uint64_t v, bool *first)
{
    key(b, k, first);
    ut_buf_printf(b, "%" PRIu64, v);
}

static void kbool(ut_buf *b, const char *k, bool v, bool *first)
{
    key(b, k, first);
    ut_buf_puts(b, v ? "true" : "false");
}

static void kaddr(ut_buf *b, const char *k, const gw_sockaddr *a, bool *first)
{
    char tmp[80];
    gwc_format_addr(a, tmp, sizeof tmp);
    kstr(b, k, tmp, first);
}

static void str_array(ut_buf *b, char *const *v, size_t n)
{
    ut_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            ut_buf_putc(b, ',');
        str(b, v[i]);
    }
    ut_buf_putc(b, ']');
}

static void dump_listeners(const gw_config *c, ut_buf *b)
{
    ut_buf_putc(b, '[');
    for (size_t i = 0; i < c->n_listeners; i++) {
        const gw_listener_conf *l = &c->listeners[i];
        bool f = true;
        ut_buf_puts(b, i ? ",{" : "{");
        kstr(b, "name", l->name, &f);
        kstr(b, "address", l->address, &f);
        kaddr(b, "resolved", &l->addr, &f);
        key(b, "tls", &f);
        if (l->tls_cert) {
            bool g = true;
            ut_buf_putc(b, '{');
            kstr(b, "cert", l->tls_cert, &g);
            kstr(b, "key", l->tls_key, &g);
            ut_buf_putc(b, '}');
        } else {
            ut_buf_puts(b, "null");
        }
        ut_buf_putc(b, '}');
    }
    ut_buf_putc(b, ']');
}

static void dump_health(const gw_health_conf *h, ut_buf *b)
{
    bool f = true;
    ut_buf_putc(b, '{');
    kbool(b, "enabled", h->enabled, &f);
    kstr(b, "path", h->path, &f);
    kstr(b, "host", h->host, &f);
    knum(b, "interval_ms", h->interval_ms, &f);
    knum(b, "timeout_ms", h->timeout_ms, &f);
    knum(b, "healthy_threshold", h->healthy_threshold, &f);
    knum(b, "unhealthy_threshold", h->unhealthy_threshold, &f);
    ut_buf_putc(b, '}');
}

static void dump_cluster(const gw_cluster_conf *cl, ut_buf *b)
{
    static const char *const lb[] = {"round_robin", "least_request", "random"};
    bool f = true, g;
    ut_buf_putc(b, '{');
    kstr(b, "name", cl->name, &f);
    key(b, "endpoints", &f);
    ut_buf_putc(b, '[');
    for (size_t i = 0; i < cl->n_endpoints; i++) {
        const gw_endpoint_conf *e = &cl->endpoints[i];
        g = true;
        ut_buf_puts(b, i ? ",{" : "{");
        kstr(b, "address", e->address, &g);
        kstr(b, "host", e->host, &g);
        knum(b, "port", e->port, &g);
        kaddr(b, "resolved", &e->addr, &g);
        ut_buf_putc(b, '}');
    }
    ut_buf_putc(b, ']');
    kstr(b, "lb", (unsigned)cl->lb < 3 ? lb[cl->lb] : "?", &f);
    knum(b, "connect_timeout_ms", cl->connect_timeout_ms, &f);
    knum(b, "request_timeout_ms", cl->request_timeout_ms, &f);
    knum(b, "idle_timeout_ms", cl->idle_timeout_ms, &f);
    knum(b, "max_connections", cl->max_connections, &f);
    key(b, "retries", &f);
    g = true;
    ut_buf_putc(b, '{');
    knum(b, "attempts", cl->retries, &g);
    kbool(b, "on_connect_failure", cl->retry_on_connect_failure, &g);
    kbool(b, "on_5xx", cl->retry_on_5xx, &g);
    ut_buf_putc(b, '}');
    key(b, "health_check", &f);
    dump_health(&cl->health, b);
    key(b, "outlier", &f);
    g = true;
    ut_buf_putc(b, '{');
    knum(b, "consecutive_failures", cl->eject_consecutive_failures, &g);
    knum(b, "ejection_time_ms", cl->eject_ms, &g);
    ut_buf_putc(b, '}');
    ut_buf_putc(b, '}');
}

static void dump_match(const gw_route_conf *r, ut_buf *b)
{
    static const char *const kinds[] = {"any", "exact", "prefix", "regex"};
    bool f = true, g = true;
    ut_buf_putc(b, '{');
    key(b, "host", &f);
    str_array(b, r->hosts, r->n_hosts);
    key(b, "path", &f);
    ut_buf_putc(b, '{');
    kstr(b, "kind", (unsigned)r->path_kind < 4 ? kinds[r->path_kind] : "?", &g);
    kstr(b, "value", r->path, &g);
    ut_buf_putc(b, '}');
    key(b, "methods", &f);
    str_array(b, r->methods, r->n_methods);
    key(b, "headers", &f);
    ut_buf_putc(b, '[');
    for (size_t i = 0; i < r->n_headers; i++) {
        g = true;
        ut_buf_puts(b, i ? ",{" : "{");
        kstr(b, "name", r->headers[i].name, &g);
        kstr(b, "value", r->headers[i].value, &g);
        ut_buf_putc(b, '}');
    }
    ut_buf_puts(b, "]}");
}

static void dump_action(const gw_route_conf *r, ut_buf *b, bool *f)
{
    bool g = true;
    if (r->action == GW_ACTION_PROXY) {
        key(b, "proxy", f);
        ut_buf_putc(b, '{');
        kstr(b, "cluster", r->cluster_name, &g);
        kstr(b, "prefix_rewrite", r->prefix_rewrite, &g);
        kstr(b, "host_rewrite", r->host_rewrite, &g);
    } else if (r->action == GW_ACTION_DIRECT) {
        key(b, "direct", f);
        ut_buf_putc(b, '{');
        knum(b, "status", (uint64_t)r->status, &g);
        key(b, "body", &g);
        ut_buf_json_str(b, r->body ? r->body : "", r->body ? r->body_len : 0);
        key(b, "headers", &g);
        ut_buf_putc(b, '{');
        bool h = true;
        for (size_t i = 0; i < r->n_response_headers; i++)
            kstr(b, r->response_headers[i].name, r->response_headers[i].value, &h);
        ut_buf_putc(b, '}');
    } else if (r->action == GW_ACTION_WAGI) {
        key(b, "wagi", f);
        ut_buf_putc(b, '{');
        if (r->wagi_modules) {
            kstr(b, "modules", r->wagi_modules, &g);
        } else {
            kstr(b, "module", r->wagi_module, &g);
            if (r->wagi_init)
                kstr(b, "init", r->wagi_init, &g);
            knum(b, "max_concurrency", r->wagi_max_concurrency, &g);
            kstr(b, "runtime", gw_runtime_name(r->wagi_runtime), &g);
            kstr(b, "entrypoint", r->wagi_entrypoint ? r->wagi_entrypoint : "_start", &g);
            kstr(b, "argv", r->wagi_argv, &g);
            kstr(b, "script_name", r->wagi_script_name, &g);
            for (int which = 0; which < 2; which++) {
                const gw_kv *kv = which ? r->wagi_volumes : r->wagi_env;
                size_t n = which ? r->n_wagi_volumes : r->n_wagi_env;
                key(b, which ? "volumes" : "env", &g);
                ut_buf_putc(b, '{');
                bool h = true;
                for (size_t i = 0; i < n; i++)
                    kstr(b, kv[i].name, kv[i].value, &h);
                ut_buf_putc(b, '}');
            }
            knum(b, "timeout_ms", r->wagi_timeout_ms, &g);
            knum(b, "max_memory_pages", r->wagi_max_memory_pages, &g);
        }
        knum(b, "max_body", r->wagi_max_body_bytes, &g);
    } else {
        key(b, "redirect", f);
        ut_buf_putc(b, '{');
        knum(b, "status", (uint64_t)r->redirect_status, &g);
        kstr(b, "scheme", r->redirect_scheme, &g);
        kstr(b, "host", r->redirect_host, &g);
        kstr(b, "path", r->redirect_path, &g);
    }
    ut_buf_putc(b, '}');
}

static void dump_routes(const gw_config *c, ut_buf *b)
{
    ut_buf_putc(b, '[');
    for (size_t i = 0; i < c->n_routes; i++) {
        const gw_route_conf *r = &c->routes[i];
        bool f = true;
        ut_buf_puts(b, i ? ",{" : "{");
        kstr(b, "name", r->name, &f);
        key(b, "match", &f);
        dump_match(r, b);
        dump_action(r, b, &f);
        ut_buf_putc(b, '}');
    }
    ut_buf_putc(b, ']');
}

static void dump_chain(const gw_config *c, const gw_plugin_chain *ch, ut_buf *b)
{
    ut_buf_putc(b, '[');
    for (size_t i = 0; ch && i < ch->n; i++) {
        bool g = true;
        ut_buf_puts(b, i ? ",{" : "{");
        kstr(b, "plugin", c->plugins[ch->refs[i].plugin].name, &g);
        knum(b, "configuration", ch->refs[i].config, &g);
        ut_buf_putc(b, '}');
    }
    ut_buf_putc(b, ']');
}

/* Plugins, the configuration table and every route's resolved chains.
 * Configurations are JSON text, dumped as strings (as the plugin gets them). */
static void dump_plugins(const gw_config *c, ut_buf *b, bool *f)
{
    static const char *const pol[] = {"fail_closed", "fail_open"};
    key(b, "plugin_cache_dir", f);
    str(b, c->plugin_cache_dir);
    key(b, "aot_cache", f);
    str(b, c->aot_cache); /* null = the engine's default */
    key(b, "plugins", f);
    ut_buf_putc(b, '[');
    for (size_t i = 0; i < c->n_plugins; i++) {
        const gw_plugin_conf *p = &c->plugins[i];
        bool g = true, h = true;
        ut_buf_puts(b, i ? ",{" : "{");
        kstr(b, "name", p->name, &g);
        kstr(b, "module", p->module, &g);
        kstr(b, "url", p->url, &g);
        kstr(b, "cache_path", p->cache_path, &g);
        kstr(b, "sha256", p->sha256_hex, &g);
        knum(b, "module_bytes", p->module_len, &g);
        kstr(b, "root_id", p->root_id, &g);
        kstr(b, "vm_id", p->vm_id, &g);
        key(b, "vm_config", &g);
        if (p->vm_config)
            ut_buf_json_str(b, p->vm_config, p->vm_config_len);
        else
            ut_buf_puts(b, "null");
        key(b, "env", &g);
        ut_buf_putc(b, '{');
        for (size_t k = 0; k < p->n_env; k++)
            kstr(b, p->env[k].name, p->env[k].value, &h);
        ut_buf_putc(b, '}');
        key(b, "limits", &g);
        h = true;
        ut_buf_putc(b, '{');
        knum(b, "max_memory_bytes", p->max_memory_bytes, &h);
        knum(b, "cpu_per_callback_ms", p->cpu_per_callback_ms, &h);
        ut_buf_putc(b, '}');
        kstr(b, "failure_policy", pol[p->failure_policy == GW_PLUGIN_FAIL_OPEN], &g);
        kstr(b, "runtime", gw_runtime_name(p->runtime), &g);
        key(b, "configuration", &g);
        ut_buf_json_str(b, p->configuration, p->configuration_len);
        key(b, "header_stop_iteration", &g);
        ut_buf_puts(b, !p->header_stop_iteration_set ? "null"
                       : p->header_stop_iteration    ? "true"
                                                     : "false");
        ut_buf_putc(b, '}');
    }
    ut_buf_putc(b, ']');
    key(b, "plugin_configurations", f);
    ut_buf_putc(b, '[');
    for (size_t i = 0; i < c->n_plugin_configs; i++) {
        const gw_plugin_config *e = &c->plugin_configs[i];
        bool g = true;
        ut_buf_puts(b, i ? ",{" : "{");
        kstr(b, "plugin", c->plugins[e->plugin].name, &g);
        key(b, "json", &g);
        ut_buf_json_str(b, e->json, e->json_len);
        ut_buf_putc(b, '}');
    }
    ut_buf_putc(b, ']');
    key(b, "plugin_domains", f);
    ut_buf_putc(b, '[');
    for (size_t d = 0; d < c->n_plugin_domains; d++) {
        bool g = true;
        ut_buf_puts(b, d ? ",{" : "{");
        key(b, "hosts", &g);
        str_array(b, c->plugin_domains[d].hosts, c->plugin_domains[d].n_hosts);
        ut_buf_putc(b, '}');
    }
    ut_buf_putc(b, ']');
    /* route name -> [chain for no domain, chain for domain 0, ...] */
    key(b, "plugin_chains", f);
    ut_buf_putc(b, '{');
    bool g = true;
    for (size_t i = 0; i < c->n_routes; i++) {
        const gw_route_conf *r = &c->routes[i];
        if (!r->plugin_chains)
            continue;
        key(b, r->name, &g);
        ut_buf_putc(b, '[');
        for (size_t d = 0; d <= c->n_plugin_domains; d++) {
            if (d)
                ut_buf_putc(b, ',');
            dump_chain(c, &r->plugin_chains[d], b);
        }
        ut_buf_putc(b, ']');
    }
    ut_buf_putc(b, '}');
}

void gw_config_dump_json(const gw_config *c, ut_buf *b)
{
    bool f = true, g;
    if (!c) {
        ut_buf_puts(b, "null");
        return;
    }
    ut_buf_putc(b, '{');
    knum(b, "generation", c->generation, &f);
    kstr(b, "source", c->source, &f);
    key(b, "listeners", &f);
    dump_listeners(c, b);
    key(b, "admin", &f);
    g = true;
    ut_buf_putc(b, '{');
    kstr(b, "address", c->admin_address, &g);
    kaddr(b, "resolved", &c->admin_addr, &g);
    ut_buf_putc(b, '}');
    knum(b, "workers", c->workers, &f);
    kbool(b, "access_log", c->access_log, &f);
    key(b, "limits", &f);
    g = true;
    ut_buf_putc(b, '{');
    knum(b, "max_header_bytes", c->limits.max_header_bytes, &g);
    knum(b, "max_headers", c->limits.max_headers, &g);
    knum(b, "max_request_line", c->limits.max_request_line, &g);
    knum(b, "max_body_bytes", c->limits.max_body_bytes, &g);
    knum(b, "max_connections", c->limits.max_connections, &g);
    ut_buf_putc(b, '}');
    key(b, "timeouts", &f);
    g = true;
    ut_buf_putc(b, '{');
    knum(b, "header_ms", c->timeouts.header_timeout_ms, &g);
    knum(b, "keepalive_ms", c->timeouts.keepalive_timeout_ms, &g);
    knum(b, "drain_ms", c->timeouts.drain_timeout_ms, &g);
    ut_buf_putc(b, '}');
    key(b, "clusters", &f);
    ut_buf_putc(b, '[');
    for (size_t i = 0; i < c->n_clusters; i++) {
        if (i)
            ut_buf_putc(b, ',');
        dump_cluster(&c->clusters[i], b);
    }
    ut_buf_putc(b, ']');
    key(b, "routes", &f);
    dump_routes(c, b);
    dump_plugins(c, b, &f);
    ut_buf_putc(b, '}');
}
