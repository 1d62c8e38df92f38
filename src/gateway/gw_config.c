/*
 * gw_config.c — the config schema: loads a YAML file into one immutable
 * gw_config generation, validates every field, fills defaults, resolves
 * addresses, compiles regexes (docs/config.md is the reference).
 *
 * Owns:      which keys exist, their types, ranges and defaults, cross
 *            checks (duplicate names, unknown clusters, one action per
 *            route), $PORT, and the generation's lifetime (refcount, free).
 * Not here:  YAML scalar syntax, paths and error formatting, addresses
 *            (gw_config_yaml.c); the JSON dump (gw_config_dump.c);
 *            matching (gw_router.c).
 * Memory:    everything of a generation lives in one arena, plus the
 *            compiled regexes (listed in gwc_impl.codes); a failed load
 *            frees both, so no input can leak.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "gw_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw_config_int.h"

#define MAX_LISTENERS 256
#define MAX_FILE_BYTES (16u << 20)
#define NAME_MAX_LEN 128

/* ---- names ---------------------------------------------------------------- */

void gwc_names_init(gwc_reader *r, gwc_names *s, size_t n)
{
    s->cap = 16;
    while (s->cap < 2 * n + 2)
        s->cap *= 2;
    s->e = gwc_array(r, s->cap, sizeof *s->e);
    if (!s->e)
        s->cap = 0;
}

static size_t names_slot(const gwc_names *s, const char *name)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    size_t i = (size_t)h & (s->cap - 1);
    while (s->e[i].name && strcmp(s->e[i].name, name) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

const gwc_name *gwc_names_find(const gwc_names *s, const char *name)
{
    if (!s->cap)
        return NULL;
    const gwc_name *e = &s->e[names_slot(s, name)];
    return e->name ? e : NULL;
}

static void names_add(gwc_names *s, const char *name, size_t idx)
{
    if (!s->cap)
        return;
    gwc_name *e = &s->e[names_slot(s, name)];
    e->name = name;
    e->idx = idx;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

char *gwc_read_name(gwc_reader *r, yaml_node_t *map, bool required, gwc_names *set,
                       const char *section, size_t idx)
{
    yaml_node_t *v = required ? gwc_require(r, map, "name") : gwc_get(r, map, "name");
    size_t mark = gwc_push_key(r, "name");
    char *name = gwc_string(r, v);
    char q[80];
    if (name && !valid_name(name)) {
        gwc_quote(q, sizeof q, name, strlen(name));
        gwc_fail(r, v, "bad name '%s': use 1-%d letters, digits, '_', '-' or '.'", q,
                 NAME_MAX_LEN);
    } else if (name && gwc_names_find(set, name)) {
        gwc_fail(r, v, "duplicate name '%s' (also %s[%zu])", name, section,
                 gwc_names_find(set, name)->idx);
    } else if (name) {
        names_add(set, name, idx);
    }
    gwc_pop(r, mark);
    return r->failed ? NULL : name;
}

char *gwc_default_name(gwc_reader *r, gwc_names *set, const char *base, size_t idx)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s%zu", base, idx);
    for (unsigned k = 2; gwc_names_find(set, tmp); k++)
        snprintf(tmp, sizeof tmp, "%s%zu-%u", base, idx, k);
    char *name = gwc_strndup(r, tmp, strlen(tmp));
    if (name)
        names_add(set, name, idx);
    return name;
}

/* ---- small validators ----------------------------------------------------- */

static bool is_tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

bool gwc_valid_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return false;
    return true;
}

/* Visible ASCII only (request targets are ASCII; percent-encode the rest). */
bool gwc_valid_path(const char *s, bool allow_query)
{
    if (s[0] != '/')
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '#' || (!allow_query && c == '?'))
            return false;
    }
    return true;
}

/* A Host header value: host or host:port, or [v6]:port. */
bool gwc_valid_authority(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("-._:[]", *s))
            return false;
    return true;
}

bool gwc_valid_field_value(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

void gwc_lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

void gwc_upper(char *s)
{
    for (; *s; s++)
        *s = (char)toupper((unsigned char)*s);
}

/* ---- addresses and files -------------------------------------------------- */

bool gwc_read_address(gwc_reader *r, yaml_node_t *n, const char *s, gw_sockaddr *addr,
                         char *host, uint16_t *port, bool *v6)
{
    char err[200];
    if (!s || r->failed)
        return false;
    if (!*s) {
        gwc_fail(r, n, "empty address (expected host:port, e.g. 127.0.0.1:8080)");
        return false;
    }
    if (gwc_split_address(s, host, GWC_HOST_MAX, port, v6, err, sizeof err) != 0 ||
        gwc_resolve(host, *v6, *port, addr, err, sizeof err) != 0) {
        gwc_fail(r, n, "%s", err);
        return false;
    }
    return true;
}

/* $PORT (Knative, Cloud Run) replaces the first listener's port. */
static void port_override(gwc_reader *r, yaml_node_t *n, gw_listener_conf *l, const char *host,
                          bool v6)
{
    const char *env = getenv("PORT");
    uint64_t port;
    char err[200], q[32];
    if (!env || !*env || r->failed)
        return;
    if (strlen(env) > 5 || !gwc_parse_uint(env, strlen(env), &port) || port == 0 ||
        port > 65535) {
        gwc_quote(q, sizeof q, env, strlen(env));
        gwc_fail(r, n, "environment variable PORT='%s' is not a port number (1-65535)", q);
        return;
    }
    if (gwc_resolve(host, v6, (uint16_t)port, &l->addr, err, sizeof err) != 0) {
        gwc_fail(r, n, "%s", err);
        return;
    }
    char buf[GWC_HOST_MAX + 16];
    snprintf(buf, sizeof buf, v6 ? "[%s]:%u" : "%s:%u", host, (unsigned)port);
    l->address = gwc_strndup(r, buf, strlen(buf));
}

/* A PEM path must name a readable regular file (non-blocking: a FIFO must
 * not hang the gwc_loader). */
static char *read_file_path(gwc_reader *r, yaml_node_t *map, const char *key)
{
    yaml_node_t *v = gwc_require(r, map, key);
    size_t mark = gwc_push_key(r, key);
    char *path = gwc_string(r, v);
    char q[160];
    if (path) {
        gwc_quote(q, sizeof q, path, strlen(path));
        struct stat st;
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            gwc_fail(r, v, "cannot read '%s': %s", q, strerror(errno));
        else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
            gwc_fail(r, v, "'%s' is not a regular file", q);
        if (fd >= 0)
            close(fd);
    }
    gwc_pop(r, mark);
    return path;
}

static bool same_addr(const gw_sockaddr *a, const gw_sockaddr *b)
{
    return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static uint16_t addr_port(const gw_sockaddr *a)
{
    const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
    return ntohs(in->sin_port); /* same offset in sockaddr_in6 */
}

/* ---- listeners and admin -------------------------------------------------- */

static void read_listener(gwc_reader *r, gw_config *c, yaml_node_t *n, size_t i, gwc_names *names)
{
    static const char *const keys[] = {"name", "address", "tls", NULL};
    static const char *const tls_keys[] = {"cert", "key", NULL};
    gw_listener_conf *l = &c->listeners[i];
    char host[GWC_HOST_MAX];
    uint16_t port;
    bool v6;
    if (!gwc_check_keys(r, n, keys))
        return;
    l->name = gwc_read_name(r, n, false, names, "listeners", i);
    yaml_node_t *a = gwc_require(r, n, "address");
    size_t mark = gwc_push_key(r, "address");
    l->address = gwc_string(r, a);
    if (gwc_read_address(r, a, l->address, &l->addr, host, &port, &v6) && i == 0)
        port_override(r, a, l, host, v6);
    for (size_t k = 0; k < i && !r->failed; k++)
        if (addr_port(&l->addr) != 0 && same_addr(&l->addr, &c->listeners[k].addr))
            gwc_fail(r, a, "same address as listeners[%zu]", k);
    gwc_pop(r, mark);
    yaml_node_t *t = gwc_get(r, n, "tls");
    if (!t)
        return;
    mark = gwc_push_key(r, "tls");
    if (gwc_check_keys(r, t, tls_keys)) {
        l->tls_cert = read_file_path(r, t, "cert");
        l->tls_key = read_file_path(r, t, "key");
    }
    gwc_pop(r, mark);
}

static void read_listeners(gwc_reader *r, gw_config *c, yaml_node_t *root)
{
    yaml_node_t *seq = gwc_require(r, root, "listeners");
    size_t mark = gwc_push_key(r, "listeners");
    size_t n = gwc_seq_len(r, seq);
    gwc_names names = {0};
    if (!r->failed && n == 0)
        gwc_fail(r, seq, "at least one listener is required, e.g. [{address: 0.0.0.0:8080}]");
    if (n > MAX_LISTENERS)
        gwc_fail(r, seq, "at most %d listeners", MAX_LISTENERS);
    c->listeners = gwc_array(r, n, sizeof *c->listeners);
    gwc_names_init(r, &names, n);
    for (size_t i = 0; i < n && !r->failed; i++) {
        size_t m = gwc_push_index(r, i);
        read_listener(r, c, gwc_seq_at(r, seq, i), i, &names);
        gwc_pop(r, m);
    }
    for (size_t i = 0; i < n && !r->failed; i++)
        if (!c->listeners[i].name)
            c->listeners[i].name = gwc_default_name(r, &names, "listener", i);
    c->n_listeners = r->failed ? 0 : n;
    gwc_pop(r, mark);
}

static void read_admin(gwc_reader *r, gw_config *c, yaml_node_t *root)
{
    static const char *const keys[] = {"address", NULL};
    yaml_node_t *admin = gwc_get(r, root, "admin"), *a = NULL;
    char host[GWC_HOST_MAX];
    uint16_t port = 0;
    bool v6;
    size_t mark = gwc_push_key(r, "admin");
    if (admin && gwc_check_keys(r, admin, keys))
        a = gwc_get(r, admin, "address");
    size_t m2 = gwc_push_key(r, "address");
    if (a)
        c->admin_address = gwc_string(r, a);
    else
        c->admin_address = gwc_strndup(r, "127.0.0.1:9901", 14);
    gwc_read_address(r, a ? a : root, c->admin_address, &c->admin_addr, host, &port, &v6);
    for (size_t k = 0; k < c->n_listeners && !r->failed; k++)
        if (port != 0 && same_addr(&c->admin_addr, &c->listeners[k].addr))
            gwc_fail(r, a ? a : root, "same address as listeners[%zu]", k);
    gwc_pop(r, m2);
    gwc_pop(r, mark);
}

/* ---- limits and timeouts -------------------------------------------------- */

static void read_limits(gwc_reader *r, gw_config *c, yaml_node_t *root)
{
    static const char *const keys[] = {"max_header_bytes", "max_headers", "max_request_line",
                                       "max_body_bytes", "max_connections", NULL};
    gw_limits_conf *l = &c->limits;
    yaml_node_t *n = gwc_get(r, root, "limits");
    size_t mark = gwc_push_key(r, "limits");
    if (n && gwc_check_keys(r, n, keys)) {
        uint64_t v = l->max_header_bytes;
        gwc_opt_size(r, n, "max_header_bytes", 1024, 16u << 20, &v);
        l->max_header_bytes = (uint32_t)v;
        gwc_opt_u32(r, n, "max_headers", 1, 10000, &l->max_headers);
        v = l->max_request_line;
        gwc_opt_size(r, n, "max_request_line", 64, 1u << 20, &v);
        l->max_request_line = (uint32_t)v;
        gwc_opt_size(r, n, "max_body_bytes", 0, 1ull << 62, &l->max_body_bytes);
        gwc_opt_u32(r, n, "max_connections", 1, 10000000, &l->max_connections);
    }
    gwc_pop(r, mark);
}

static void read_timeouts(gwc_reader *r, gw_config *c, yaml_node_t *root)
{
    static const char *const keys[] = {"header", "keepalive", "drain", NULL};
    gw_timeouts_conf *t = &c->timeouts;
    yaml_node_t *n = gwc_get(r, root, "timeouts");
    size_t mark = gwc_push_key(r, "timeouts");
    if (n && gwc_check_keys(r, n, keys)) {
        gwc_opt_duration(r, n, "header", 1, &t->header_timeout_ms);
        gwc_opt_duration(r, n, "keepalive", 1, &t->keepalive_timeout_ms);
        gwc_opt_duration(r, n, "drain", 0, &t->drain_timeout_ms);
    }
    gwc_pop(r, mark);
}

/* ---- the whole document --------------------------------------------------- */

static void config_defaults(gw_config *c)
{
    c->access_log = true;
    c->limits.max_header_bytes = 65536;
    c->limits.max_headers = 100;
    c->limits.max_request_line = 8192;
    c->limits.max_body_bytes = 0;
    c->limits.max_connections = 100000;
    c->timeouts.header_timeout_ms = 30000;
    c->timeouts.keepalive_timeout_ms = 60000;
    c->timeouts.drain_timeout_ms = 30000;
}

static void read_config(gwc_loader *L, yaml_node_t *root)
{
    static const char *const keys[] = {"listeners", "admin", "workers", "access_log", "limits",
                                       "timeouts", "clusters", "routes", "plugins",
                                       "plugin_chain", "plugin_domains", "plugin_cache_dir",
                                       "aot_cache", NULL};
    gwc_reader *r = &L->r;
    gw_config *c = L->c;
    if (!root || gwc_is_null(root)) {
        gwc_fail(r, root, "empty config: at least 'listeners' is required");
        return;
    }
    if (!gwc_check_keys(r, root, keys))
        return;
    read_listeners(r, c, root);
    read_admin(r, c, root);
    uint32_t workers = 0;
    gwc_opt_u32(r, root, "workers", 0, 1024, &workers);
    long cpus = workers ? workers : sysconf(_SC_NPROCESSORS_ONLN);
    c->workers = (unsigned)(cpus < 1 ? 1 : cpus > 1024 ? 1024 : cpus);
    gwc_opt_bool(r, root, "access_log", &c->access_log);
    read_limits(r, c, root);
    read_timeouts(r, c, root);
    gwc_read_clusters(L, root);
    gwc_read_plugins(L, root);
    gwc_read_routes(L, root);
    gwc_resolve_plugin_chains(L, root);
}

static void free_impl(gwc_impl *im)
{
    if (!im)
        return;
    for (size_t i = 0; i < im->n_codes; i++)
        pcre2_code_free((pcre2_code *)im->codes[i]);
    gwc_arena_free(im->arena);
    free(im);
}

/* libyaml's own errors: syntax, bad UTF-8, undefined aliases. */
static void yaml_error(gwc_reader *r, const yaml_parser_t *p, const char *text, size_t len)
{
    size_t line = p->problem_mark.line + 1, col = p->problem_mark.column + 1;
    if (p->error == YAML_READER_ERROR) {
        line = col = 1;
        for (size_t i = 0; i < p->problem_offset && i < len; i++, col++)
            if (text[i] == '\n') {
                line++;
                col = 0;
            }
    }
    r->failed = true;
    if (r->err && r->err_len)
        snprintf(r->err, r->err_len, "%s:%zu:%zu: yaml: %s%s%s%s", r->source, line, col,
                 p->error == YAML_MEMORY_ERROR ? "out of memory"
                 : p->problem                  ? p->problem
                                               : "syntax error",
                 p->context ? " (" : "", p->context ? p->context : "", p->context ? ")" : "");
}

/* Loads the first document; a second one is an error. */
static bool parse_yaml(gwc_reader *r, const char *text, size_t len, yaml_document_t *doc)
{
    yaml_parser_t p;
    yaml_document_t extra;
    bool ok = false;
    if (!yaml_parser_initialize(&p)) {
        gwc_fail(r, NULL, "out of memory");
        return false;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, doc)) {
        yaml_error(r, &p, text, len);
        goto out;
    }
    if (!yaml_parser_load(&p, &extra)) {
        yaml_error(r, &p, text, len);
        yaml_document_delete(doc);
        goto out;
    }
    yaml_node_t *second = yaml_document_get_root_node(&extra);
    if (second)
        gwc_fail(r, second, "only one YAML document is allowed (remove the second '---')");
    yaml_document_delete(&extra);
    if (second)
        yaml_document_delete(doc);
    ok = !second;
out:
    yaml_parser_delete(&p);
    return ok;
}

gw_config *gw_config_load_string(const char *yaml, size_t len, const char *source, char *err,
                                 size_t err_len)
{
    gwc_loader L = {0};
    yaml_document_t doc;
    bool have_doc = false;
    if (err && err_len)
        err[0] = '\0';
    L.r.source = source ? source : "<string>";
    L.r.err = err;
    L.r.err_len = err_len;
    L.im = calloc(1, sizeof *L.im);
    if (!L.im) {
        gwc_fail(&L.r, NULL, "out of memory");
        return NULL;
    }
    L.c = &L.im->pub;
    L.r.arena = &L.im->arena;
    atomic_init(&L.c->refs, 1);
    config_defaults(L.c);
    if (!yaml) {
        yaml = "";
        len = 0;
    }
    have_doc = parse_yaml(&L.r, yaml, len, &doc);
    if (!have_doc)
        goto out;
    L.r.doc = &doc;
    L.r.n_nodes = (size_t)(doc.nodes.top - doc.nodes.start);
    L.r.budget = 8 * L.r.n_nodes + 100000;
    L.r.node_cache = calloc(L.r.n_nodes + 1, sizeof *L.r.node_cache);
    if (!L.r.node_cache) {
        gwc_fail(&L.r, NULL, "out of memory");
        goto out;
    }
    L.c->source = gwc_strndup(&L.r, L.r.source, strlen(L.r.source));
    read_config(&L, yaml_document_get_root_node(&doc));
out:
    free(L.r.node_cache);
    if (have_doc)
        yaml_document_delete(&doc);
    if (L.r.failed) {
        free_impl(L.im);
        return NULL;
    }
    return L.c;
}

gw_config *gw_config_load_file(const char *path, char *err, size_t err_len)
{
    ut_buf text = {0};
    gw_config *c = NULL;
    char chunk[65536];
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) {
        if (err && err_len)
            snprintf(err, err_len, "%s:1:1: config: cannot open: %s", path ? path : "(null)",
                     path ? strerror(errno) : "no path");
        return NULL;
    }
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && text.len <= MAX_FILE_BYTES)
        ut_buf_append(&text, chunk, got);
    if (ferror(f) || text.oom || text.len > MAX_FILE_BYTES) {
        if (err && err_len)
            snprintf(err, err_len, "%s:1:1: config: %s", path,
                     ferror(f) ? "read error" : text.oom ? "out of memory"
                                                         : "file larger than 16 MiB");
        goto out;
    }
    c = gw_config_load_string(text.len ? text.data : "", text.len, path, err, err_len);
out:
    fclose(f);
    ut_buf_free(&text);
    return c;
}

gw_config *gw_config_ref(gw_config *c)
{
    if (c)
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void gw_config_unref(gw_config *c)
{
    if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        free_impl((gwc_impl *)c);
}
