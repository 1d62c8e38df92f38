/*
 * gw_config_plugins.c — the config schema for proxy-wasm plugins:
 * plugins[] (definitions), plugin_cache_dir, aot_cache (also used by
 * WAGI modules), plugin_domains[], and the
 * attachments plugin_chain (global), plugin_domains[].plugins (per domain)
 * and routes[].plugins (per route), resolved at load time into one chain
 * per (route, domain) and a table of distinct (plugin, configuration JSON)
 * pairs. Also the YAML -> JSON serializer for configuration values.
 *
 * Owns:      the keys, types and defaults of plugins; reading each module
 *            once per generation (files, or url modules fetched once and
 *            cached on disk by sha256), sha256 checks (OpenSSL EVP); chain
 *            resolution and configuration dedupe; host matching of plugin
 *            domains; "same plugin" comparison across generations.
 * Not here:  running plugins (src/proxywasm, and the gateway glue), the
 *            HTTP client used for url modules (gw_config_fetch.c).
 * Memory:    everything lives in the generation's arena, module bytes too.
 */
#include "gw_config_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ut_json.h"

#define MAX_PLUGINS 256
#define MAX_MODULE_BYTES (64u << 20)
#define MAX_JSON_DEPTH 64
#define MAX_ATTACH 256
#define MAX_CONFIGS 65536
#define FETCH_TIMEOUT_MS 30000

/* ---- YAML -> JSON --------------------------------------------------------- */

static bool is_json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n || !isdigit((unsigned char)s[i]))
        return false;
    if (s[i] == '0')
        i++;
    else
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !isdigit((unsigned char)s[i]))
            return false;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !isdigit((unsigned char)s[i]))
            return false;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
    }
    return i == n;
}

static bool word_is(const char *s, size_t n, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == n && !memcmp(s, *words, n))
            return true;
    return false;
}

/* A scalar: plain scalars that read as null / booleans / JSON numbers
 * become those; everything else (and every quoted or block scalar) is a
 * string. ${VAR} expansion applies to every scalar. */
static bool scalar_json(gwc_reader *r, yaml_node_t *n, ut_buf *out)
{
    static const char *const yes[] = {"true", "True", "TRUE", NULL};
    static const char *const no[] = {"false", "False", "FALSE", NULL};
    if (gwc_is_null(n)) {
        ut_buf_puts(out, "null");
        return true;
    }
    size_t len = 0;
    const char *s = gwc_text(r, n, &len);
    if (!s)
        return false;
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (word_is(s, len, yes)) {
            ut_buf_puts(out, "true");
            return true;
        }
        if (word_is(s, len, no)) {
            ut_buf_puts(out, "false");
            return true;
        }
        if (is_json_number(s, len)) {
            ut_buf_append(out, s, len);
            return true;
        }
    }
    ut_buf_json_str(out, s, len);
    return true;
}

static bool to_json(gwc_reader *r, yaml_node_t *n, ut_buf *out, int depth)
{
    if (r->failed || !n)
        return false;
    if (depth > MAX_JSON_DEPTH) {
        gwc_fail(r, n, "nested more than %d levels deep", MAX_JSON_DEPTH);
        return false;
    }
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return scalar_json(r, n, out);
    case YAML_SEQUENCE_NODE:
        ut_buf_putc(out, '[');
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            if (it != n->data.sequence.items.start)
                ut_buf_putc(out, ',');
            if (!to_json(r, gwc_node(r, *it), out, depth + 1))
                return false;
        }
        ut_buf_putc(out, ']');
        return true;
    case YAML_MAPPING_NODE:
        ut_buf_putc(out, '{');
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = gwc_node(r, p->key);
            if (!k)
                return false;
            if (k->type != YAML_SCALAR_NODE) {
                gwc_fail(r, k, "keys must be plain names, got a %s", gwc_kind(k));
                return false;
            }
            size_t klen = 0;
            const char *ks = gwc_is_null(k) ? "" : gwc_text(r, k, &klen);
            if (!ks)
                return false;
            /* JSON objects with a repeated key are ambiguous: reject. */
            for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
                yaml_node_t *k2 = yaml_document_get_node(r->doc, q->key);
                if (k2 && k2->type == YAML_SCALAR_NODE && k2->data.scalar.length == k->data.scalar.length &&
                    !memcmp(k2->data.scalar.value, k->data.scalar.value, k->data.scalar.length)) {
                    char qk[64];
                    gwc_quote(qk, sizeof qk, ks, klen);
                    gwc_fail(r, k, "duplicate key '%s'", qk);
                    return false;
                }
            }
            if (p != n->data.mapping.pairs.start)
                ut_buf_putc(out, ',');
            ut_buf_json_str(out, ks, klen);
            ut_buf_putc(out, ':');
            if (!to_json(r, gwc_node(r, p->value), out, depth + 1))
                return false;
        }
        ut_buf_putc(out, '}');
        return true;
    default:
        gwc_fail(r, n, "unsupported YAML value");
        return false;
    }
}

/* A configuration value as the bytes the plugin reads: a mapping or a
 * sequence is serialized to JSON; a scalar is passed as its text, like
 * Envoy passes a google.protobuf.StringValue (so `configuration: hello`
 * gives the plugin "hello", and a quoted JSON document is taken as-is,
 * after checking that it parses). A plain empty / ~ / null is empty. */
static char *value_json(gwc_reader *r, yaml_node_t *n, size_t *len)
{
    ut_buf out = {0};
    char *res = NULL;
    if (!n || r->failed)
        return NULL;
    if (n->type == YAML_SCALAR_NODE) {
        size_t l = 0;
        const char *s = gwc_text(r, n, &l);
        if (!s)
            return NULL;
        if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
            (l == 0 || (l == 1 && s[0] == '~') || (l == 4 && !memcmp(s, "null", 4)))) {
            *len = 0;
            return gwc_strndup(r, "", 0);
        }
        size_t i = 0;
        while (i < l && isspace((unsigned char)s[i]))
            i++;
        if (i < l && (s[i] == '{' || s[i] == '[')) {
            ut_json_err je;
            ut_json *j = ut_json_parse(s, l, 0, &je);
            if (!j) {
                gwc_fail(r, n, "looks like JSON but does not parse: %s at line %zu column %zu",
                         je.msg, je.line, je.col);
                return NULL;
            }
            ut_json_free(j);
        }
        *len = l;
        return gwc_strndup(r, s, l);
    }
    if (to_json(r, n, &out, 0)) {
        if (out.oom)
            gwc_fail(r, n, "out of memory");
        else {
            res = gwc_strndup(r, out.data ? out.data : "", out.len);
            *len = out.len;
        }
    }
    ut_buf_free(&out);
    return res;
}

/* ---- modules -------------------------------------------------------------- */

static void sha256(const void *data, size_t len, unsigned char md[32])
{
    unsigned int n = 32;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
}

static void to_hex(const unsigned char md[32], char hex[65])
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = d[md[i] >> 4];
        hex[2 * i + 1] = d[md[i] & 15];
    }
    hex[64] = '\0';
}

static bool parse_hex(const char *s, unsigned char md[32])
{
    if (strlen(s) != 64)
        return false;
    for (int i = 0; i < 64; i++) {
        int c = tolower((unsigned char)s[i]), v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else
            return false;
        if (i % 2)
            md[i / 2] = (unsigned char)(md[i / 2] | v);
        else
            md[i / 2] = (unsigned char)(v << 4);
    }
    return true;
}

/* Reads a regular file of at most MAX_MODULE_BYTES into the arena. Returns
 * NULL with a message in msg. */
static unsigned char *read_module(gwc_reader *r, const char *path, size_t *len, char *msg,
                                  size_t cap)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    unsigned char *buf = NULL;
    if (fd < 0) {
        snprintf(msg, cap, "%s", strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(msg, cap, "not a regular file");
        goto out;
    }
    if ((uint64_t)st.st_size > MAX_MODULE_BYTES) {
        snprintf(msg, cap, "larger than 64 MiB");
        goto out;
    }
    buf = gwc_alloc(r, (size_t)st.st_size + 1);
    if (!buf)
        goto out;
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            snprintf(msg, cap, "read error: %s", k < 0 ? strerror(errno) : "file shrank");
            buf = NULL;
            goto out;
        }
        got += (size_t)k;
    }
    *len = got;
out:
    close(fd);
    return buf;
}

/* Joins a relative path to the config file's directory. */
static char *resolve_path(gwc_reader *r, const char *p)
{
    const char *slash = strrchr(r->source, '/');
    if (p[0] == '/' || !slash)
        return gwc_strndup(r, p, strlen(p));
    size_t dl = (size_t)(slash - r->source), pl = strlen(p);
    char *out = gwc_alloc(r, dl + pl + 2);
    if (out) {
        memcpy(out, r->source, dl);
        out[dl] = '/';
        memcpy(out + dl + 1, p, pl);
    }
    return out;
}

static void mkdir_p(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0700);
            *p = '/';
        }
    mkdir(tmp, 0700);
}

/* Best effort: the cache is an optimization, a write failure is not an
 * error (the next start fetches again). */
static void cache_store(const char *path, const void *data, size_t len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    size_t off = 0;
    while (off < len) {
        ssize_t k = write(fd, (const char *)data + off, len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        off += (size_t)k;
    }
    if (close(fd) == 0 && off == len && rename(tmp, path) == 0)
        return;
    unlink(tmp);
}

/* Module bytes of a plugin: a file, or a url (cache first). */
static void load_module(gwc_loader *L, gw_plugin_conf *p, yaml_node_t *at, size_t idx)
{
    gwc_reader *r = &L->r;
    char msg[300], q[200];
    if (p->module) {
        char *path = resolve_path(r, p->module);
        if (!path)
            return;
        p->module = path;
        p->module_bytes = read_module(r, path, &p->module_len, msg, sizeof msg);
        gwc_quote(q, sizeof q, path, strlen(path));
        if (!p->module_bytes && !r->failed) {
            gwc_fail(r, at, "cannot read module '%s': %s", q, msg);
            return;
        }
    } else {
        char hex[65];
        to_hex(p->sha256, hex);
        const char *dir = L->c->plugin_cache_dir;
        size_t n = strlen(dir) + 80;
        p->cache_path = gwc_alloc(r, n);
        if (!p->cache_path)
            return;
        snprintf(p->cache_path, n, "%s/%s.wasm", dir, hex);
        size_t len = 0;
        unsigned char *bytes = read_module(r, p->cache_path, &len, msg, sizeof msg);
        unsigned char md[32];
        if (bytes) {
            sha256(bytes, len, md);
            if (memcmp(md, p->sha256, 32) == 0) {
                p->module_bytes = bytes;
                p->module_len = len;
            }
        }
        if (!p->module_bytes && !r->failed) {
            ut_buf body = {0};
            gwc_quote(q, sizeof q, p->url, strlen(p->url));
            if (gwc_http_fetch(p->url, FETCH_TIMEOUT_MS, MAX_MODULE_BYTES, &body, msg,
                               sizeof msg) != 0) {
                gwc_fail(r, at, "cannot fetch '%s': %s", q, msg);
                ut_buf_free(&body);
                return;
            }
            sha256(body.data ? body.data : "", body.len, md);
            if (memcmp(md, p->sha256, 32) != 0) {
                char got[65];
                to_hex(md, got);
                gwc_fail(r, at, "sha256 mismatch for '%s': expected %s, got %s", q, hex, got);
                ut_buf_free(&body);
                return;
            }
            unsigned char *copy = gwc_alloc(r, body.len + 1);
            if (copy) {
                memcpy(copy, body.data ? body.data : "", body.len);
                p->module_bytes = copy;
                p->module_len = body.len;
                mkdir_p(dir);
                cache_store(p->cache_path, copy, body.len);
            }
            ut_buf_free(&body);
        }
        gwc_quote(q, sizeof q, p->url, strlen(p->url));
    }
    if (r->failed)
        return;
    unsigned char md[32];
    sha256(p->module_bytes, p->module_len, md);
    if (p->sha256_given && memcmp(md, p->sha256, 32) != 0) {
        char want[65], got[65];
        to_hex(p->sha256, want);
        to_hex(md, got);
        gwc_fail(r, at, "sha256 mismatch for module '%s': expected %s, got %s", q, want, got);
        return;
    }
    memcpy(p->sha256, md, 32);
    to_hex(md, p->sha256_hex);
    /* One copy per generation of identical modules. */
    for (size_t k = 0; k < idx; k++) {
        gw_plugin_conf *o = &L->c->plugins[k];
        if (o->module_len == p->module_len && !memcmp(o->sha256, p->sha256, 32)) {
            p->module_bytes = o->module_bytes;
            break;
        }
    }
}

/* ---- plugins[] ------------------------------------------------------------ */

static void read_env(gwc_reader *r, gw_plugin_conf *p, yaml_node_t *map)
{
    yaml_node_t *n = gwc_get(r, map, "env");
    size_t mark = gwc_push_key(r, "env");
    size_t count = 0;
    if (n && n->type != YAML_MAPPING_NODE)
        gwc_fail(r, n, "expected a mapping (NAME: value), got a %s", gwc_kind(n));
    else if (n)
        count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (count > 1024)
        gwc_fail(r, n, "at most 1024 entries");
    p->env = r->failed ? NULL : gwc_array(r, count, sizeof *p->env);
    for (size_t i = 0; p->env && i < count && !r->failed; i++) {
        yaml_node_pair_t *pr = &n->data.mapping.pairs.start[i];
        yaml_node_t *k = gwc_node(r, pr->key), *v = gwc_node(r, pr->value);
        p->env[i].name = gwc_string(r, k);
        p->env[i].value = gwc_is_null(v) ? gwc_strndup(r, "", 0) : gwc_string(r, v);
        if (p->env[i].name && (!p->env[i].name[0] || strchr(p->env[i].name, '=')))
            gwc_fail(r, k, "a name must be non-empty and may not contain '='");
        for (size_t j = 0; j < i && !r->failed; j++)
            if (!strcmp(p->env[j].name, p->env[i].name))
                gwc_fail(r, k, "duplicate name '%s'", p->env[i].name);
    }
    p->n_env = r->failed ? 0 : count;
    gwc_pop(r, mark);
}

static void read_plugin_limits(gwc_reader *r, gw_plugin_conf *p, yaml_node_t *map)
{
    static const char *const keys[] = {"max_memory", "cpu_per_callback", NULL};
    yaml_node_t *n = gwc_get(r, map, "limits");
    size_t mark = gwc_push_key(r, "limits");
    if (n && gwc_check_keys(r, n, keys)) {
        gwc_opt_size(r, n, "max_memory", 65536, 4ull << 30, &p->max_memory_bytes);
        gwc_opt_duration(r, n, "cpu_per_callback", 1, &p->cpu_per_callback_ms);
    }
    gwc_pop(r, mark);
}

static void read_id(gwc_reader *r, yaml_node_t *map, const char *key, char **out)
{
    *out = gwc_strndup(r, "", 0);
    gwc_opt_string(r, map, key, out);
}

static void read_plugin(gwc_loader *L, yaml_node_t *n, size_t i)
{
    static const char *const keys[] = {"name", "module", "url", "sha256", "root_id", "vm_id",
                                       "vm_config", "env", "limits", "failure_policy",
                                       "configuration", "header_stop_iteration", "runtime", NULL};
    gwc_reader *r = &L->r;
    gw_plugin_conf *p = &L->c->plugins[i];
    p->max_memory_bytes = 16u << 20;
    p->cpu_per_callback_ms = 50;
    p->failure_policy = GW_PLUGIN_FAIL_CLOSED;
    p->configuration = gwc_strndup(r, "", 0);
    if (!gwc_check_keys(r, n, keys))
        return;
    p->name = gwc_read_name(r, n, true, &L->plugins, "plugins", i);

    yaml_node_t *mod = gwc_get(r, n, "module"), *url = gwc_get(r, n, "url");
    yaml_node_t *src = mod ? mod : url;
    size_t mark;
    if (!r->failed && mod && url) {
        mark = gwc_push_key(r, "url");
        gwc_fail(r, url, "give module (a file) or url, not both");
        gwc_pop(r, mark);
    } else if (!r->failed && !src) {
        gwc_fail(r, n, "give module (a .wasm file path) or url (with sha256)");
    }
    mark = gwc_push_key(r, mod ? "module" : "url");
    if (mod) {
        p->module = gwc_string(r, mod);
        if (p->module && !p->module[0])
            gwc_fail(r, mod, "give the path of a .wasm file");
    } else if (url) {
        p->url = gwc_string(r, url);
        if (p->url && strncmp(p->url, "http://", 7) != 0 && strncmp(p->url, "https://", 8) != 0)
            gwc_fail(r, url, "must start with http:// or https://");
    }
    gwc_pop(r, mark);

    yaml_node_t *sha = gwc_get(r, n, "sha256");
    mark = gwc_push_key(r, "sha256");
    char *hex = gwc_string(r, sha);
    if (hex && !parse_hex(hex, p->sha256))
        gwc_fail(r, sha, "expected 64 hex digits");
    else if (hex)
        p->sha256_given = true;
    else if (!r->failed && url)
        gwc_fail(r, n, "required for url modules");
    gwc_pop(r, mark);

    read_id(r, n, "root_id", &p->root_id);
    read_id(r, n, "vm_id", &p->vm_id);
    yaml_node_t *vc = gwc_get(r, n, "vm_config");
    mark = gwc_push_key(r, "vm_config");
    if (vc)
        p->vm_config = value_json(r, vc, &p->vm_config_len);
    gwc_pop(r, mark);
    read_env(r, p, n);
    read_plugin_limits(r, p, n);

    yaml_node_t *fp = gwc_get(r, n, "failure_policy");
    mark = gwc_push_key(r, "failure_policy");
    char *pol = gwc_string(r, fp), q[64];
    if (pol && !strcmp(pol, "fail_open"))
        p->failure_policy = GW_PLUGIN_FAIL_OPEN;
    else if (pol && strcmp(pol, "fail_closed") != 0) {
        gwc_quote(q, sizeof q, pol, strlen(pol));
        gwc_fail(r, fp, "unknown policy '%s' (expected fail_closed or fail_open)", q);
    }
    gwc_pop(r, mark);

    yaml_node_t *cfg = gwc_get(r, n, "configuration");
    mark = gwc_push_key(r, "configuration");
    if (cfg) {
        char *j = value_json(r, cfg, &p->configuration_len);
        if (j)
            p->configuration = j;
    }
    gwc_pop(r, mark);

    if (gwc_get(r, n, "header_stop_iteration")) {
        p->header_stop_iteration_set = true;
        gwc_opt_bool(r, n, "header_stop_iteration", &p->header_stop_iteration);
    }
    gwc_opt_runtime(r, n, &p->runtime);
    mark = gwc_push_key(r, mod ? "module" : "url");
    if (!r->failed)
        load_module(L, p, src, i);
    gwc_pop(r, mark);
}

static bool valid_domain_pattern(char *s)
{
    size_t n = strlen(s);
    if (n > 1 && s[n - 1] == '.')
        s[--n] = '\0';
    gwc_lower(s);
    if (!strcmp(s, "*"))
        return true;
    const char *name = strncmp(s, "*.", 2) == 0 ? s + 2 : s;
    return *name && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-._") == strlen(name);
}

static void read_domains(gwc_loader *L, yaml_node_t *root)
{
    static const char *const keys[] = {"hosts", "plugins", NULL};
    gwc_reader *r = &L->r;
    yaml_node_t *seq = gwc_get(r, root, "plugin_domains");
    size_t mark = gwc_push_key(r, "plugin_domains");
    size_t n = gwc_seq_len(r, seq);
    if (n > MAX_ATTACH)
        gwc_fail(r, seq, "at most %d domains", MAX_ATTACH);
    L->c->plugin_domains = gwc_array(r, n, sizeof *L->c->plugin_domains);
    for (size_t i = 0; i < n && !r->failed; i++) {
        size_t m = gwc_push_index(r, i);
        yaml_node_t *d = gwc_seq_at(r, seq, i);
        gw_plugin_domain *pd = &L->c->plugin_domains[i];
        if (gwc_check_keys(r, d, keys)) {
            yaml_node_t *h = gwc_require(r, d, "hosts");
            size_t m2 = gwc_push_key(r, "hosts");
            bool single = h && h->type == YAML_SCALAR_NODE;
            size_t nh = single ? 1 : gwc_seq_len(r, h);
            if (h && !r->failed && nh == 0)
                gwc_fail(r, h, "give at least one host pattern");
            pd->hosts = gwc_array(r, nh, sizeof *pd->hosts);
            for (size_t k = 0; k < nh && !r->failed; k++) {
                size_t m3 = single ? r->path_len : gwc_push_index(r, k);
                yaml_node_t *item = single ? h : gwc_seq_at(r, h, k);
                pd->hosts[k] = gwc_string(r, item);
                if (pd->hosts[k] && !valid_domain_pattern(pd->hosts[k]))
                    gwc_fail(r, item, "bad host pattern (use example.com, *.example.com or *; "
                                      "no port)");
                gwc_pop(r, m3);
            }
            pd->n_hosts = r->failed ? 0 : nh;
            gwc_pop(r, m2);
        }
        gwc_pop(r, m);
    }
    L->c->n_plugin_domains = r->failed ? 0 : n;
    gwc_pop(r, mark);
}

void gwc_read_plugins(gwc_loader *L, yaml_node_t *root)
{
    gwc_reader *r = &L->r;
    gw_config *c = L->c;
    const char *xdg = getenv("XDG_CACHE_HOME");
    char def[4096];
    if (xdg && xdg[0] == '/')
        snprintf(def, sizeof def, "%s/sluice", xdg);
    else
        snprintf(def, sizeof def, "/tmp/sluice-cache");
    c->plugin_cache_dir = gwc_strndup(r, def, strlen(def));
    gwc_opt_string(r, root, "plugin_cache_dir", &c->plugin_cache_dir);
    if (c->plugin_cache_dir && !c->plugin_cache_dir[0]) {
        size_t m = gwc_push_key(r, "plugin_cache_dir");
        gwc_fail(r, gwc_get(r, root, "plugin_cache_dir"), "must not be empty");
        gwc_pop(r, m);
    }

    /* aot_cache serves WAGI modules too; read here for resolve_path */
    yaml_node_t *ac = gwc_get(r, root, "aot_cache");
    if (ac) {
        size_t m = gwc_push_key(r, "aot_cache");
        char *dir = gwc_string(r, ac);
        if (dir && !dir[0])
            gwc_fail(r, ac, "must not be empty (leave it out for the default)");
        else if (dir)
            c->aot_cache = resolve_path(r, dir);
        gwc_pop(r, m);
    }

    yaml_node_t *seq = gwc_get(r, root, "plugins");
    size_t mark = gwc_push_key(r, "plugins");
    size_t n = gwc_seq_len(r, seq);
    if (n > MAX_PLUGINS)
        gwc_fail(r, seq, "at most %d plugins", MAX_PLUGINS);
    c->plugins = gwc_array(r, n, sizeof *c->plugins);
    gwc_names_init(r, &L->plugins, n);
    for (size_t i = 0; i < n && !r->failed; i++) {
        size_t m = gwc_push_index(r, i);
        read_plugin(L, gwc_seq_at(r, seq, i), i);
        gwc_pop(r, m);
    }
    c->n_plugins = r->failed ? 0 : n;
    gwc_pop(r, mark);
    read_domains(L, root);
}

/* ---- attachments and chains ----------------------------------------------- */

typedef struct att {
    uint32_t plugin;
    bool disabled;
    uint32_t config; /* index in the table (override or the plugin's default) */
} att;

typedef struct att_list {
    att *v;
    size_t n;
} att_list;

static void list_plugins(const gw_config *c, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < c->n_plugins && o + 1 < cap; i++) {
        int k = snprintf(out + o, cap - o, "%s%s", i ? ", " : "", c->plugins[i].name);
        if (k < 0)
            break;
        o += (size_t)k;
    }
}

/* Index of (plugin, json) in the table, adding it when new. */
static uint32_t config_index(gwc_loader *L, yaml_node_t *at, size_t *cap, uint32_t plugin,
                             const char *json, size_t len)
{
    gw_config *c = L->c;
    gwc_reader *r = &L->r;
    for (size_t i = 0; i < c->n_plugin_configs; i++) {
        const gw_plugin_config *e = &c->plugin_configs[i];
        if (e->plugin == plugin && e->json_len == len && !memcmp(e->json, json, len))
            return (uint32_t)i;
    }
    if (c->n_plugin_configs >= MAX_CONFIGS) {
        gwc_fail(r, at, "too many distinct plugin configurations (at most %d)", MAX_CONFIGS);
        return 0;
    }
    if (c->n_plugin_configs == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        gw_plugin_config *nv = gwc_array(r, nc, sizeof *nv);
        if (!nv)
            return 0;
        if (c->n_plugin_configs)
            memcpy(nv, c->plugin_configs, c->n_plugin_configs * sizeof *nv);
        c->plugin_configs = nv; /* the old array stays in the arena */
        *cap = nc;
    }
    gw_plugin_config *e = &c->plugin_configs[c->n_plugin_configs];
    e->plugin = plugin;
    e->json = json;
    e->json_len = len;
    return (uint32_t)c->n_plugin_configs++;
}

static void read_attach_list(gwc_loader *L, yaml_node_t *seq, att_list *out, size_t *cfg_cap)
{
    static const char *const keys[] = {"plugin", "configuration", "disabled", NULL};
    gwc_reader *r = &L->r;
    char q[80], known[300];
    size_t n = gwc_seq_len(r, seq);
    if (n > MAX_ATTACH)
        gwc_fail(r, seq, "at most %d entries", MAX_ATTACH);
    out->v = gwc_array(r, n, sizeof *out->v);
    for (size_t i = 0; i < n && !r->failed; i++) {
        size_t m = gwc_push_index(r, i);
        yaml_node_t *item = gwc_seq_at(r, seq, i), *name_node = item, *cfg = NULL;
        att *a = &out->v[i];
        if (item && item->type == YAML_MAPPING_NODE) {
            if (gwc_check_keys(r, item, keys)) {
                name_node = gwc_require(r, item, "plugin");
                cfg = gwc_get(r, item, "configuration");
                gwc_opt_bool(r, item, "disabled", &a->disabled);
            }
        } else if (item && item->type != YAML_SCALAR_NODE) {
            gwc_fail(r, item, "expected a plugin name or {plugin: NAME, configuration: ..., "
                              "disabled: true}, got a %s", gwc_kind(item));
        }
        size_t m2 = item && item->type == YAML_MAPPING_NODE ? gwc_push_key(r, "plugin")
                                                           : r->path_len;
        char *name = gwc_string(r, name_node);
        const gwc_name *e = name ? gwc_names_find(&L->plugins, name) : NULL;
        if (name && !e) {
            gwc_quote(q, sizeof q, name, strlen(name));
            list_plugins(L->c, known, sizeof known);
            gwc_fail(r, name_node, "unknown plugin '%s' (%s%s)", q, known[0] ? "defined: " : "",
                     known[0] ? known : "no plugins are defined");
        }
        if (e) {
            a->plugin = (uint32_t)e->idx;
            for (size_t k = 0; k < i && !r->failed; k++)
                if (out->v[k].plugin == a->plugin)
                    gwc_fail(r, name_node, "plugin '%s' is attached twice in this list (also [%zu])",
                             name, k);
        }
        gwc_pop(r, m2);
        if (!r->failed && e) {
            const gw_plugin_conf *p = &L->c->plugins[a->plugin];
            const char *json = p->configuration;
            size_t len = p->configuration_len;
            if (cfg) {
                size_t m3 = gwc_push_key(r, "configuration");
                json = value_json(r, cfg, &len);
                gwc_pop(r, m3);
            }
            if (json)
                a->config = config_index(L, item, cfg_cap, a->plugin, json, len);
        }
        gwc_pop(r, m);
    }
    out->n = r->failed ? 0 : n;
}

/* Applies one level's list to a chain under construction: a plugin keeps
 * the position where it was first attached; a later level replaces its
 * configuration; disabled removes it. */
static void apply(gw_plugin_ref *chain, size_t *n, const att_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const att *a = &l->v[i];
        size_t k = 0;
        while (k < *n && chain[k].plugin != a->plugin)
            k++;
        if (a->disabled) {
            if (k < *n) {
                memmove(chain + k, chain + k + 1, (*n - k - 1) * sizeof *chain);
                (*n)--;
            }
        } else if (k < *n) {
            chain[k].config = a->config;
        } else {
            chain[(*n)++] = (gw_plugin_ref){a->plugin, a->config};
        }
    }
}

void gwc_resolve_plugin_chains(gwc_loader *L, yaml_node_t *root)
{
    gwc_reader *r = &L->r;
    gw_config *c = L->c;
    size_t cfg_cap = 0, mark;
    att_list global = {0};
    att_list *domains = NULL, route = {0};
    if (r->failed)
        return;
    /* Every plugin's default configuration gets an index, in plugin order. */
    for (size_t i = 0; i < c->n_plugins && !r->failed; i++)
        config_index(L, root, &cfg_cap, (uint32_t)i, c->plugins[i].configuration,
                     c->plugins[i].configuration_len);

    mark = gwc_push_key(r, "plugin_chain");
    yaml_node_t *g = gwc_get(r, root, "plugin_chain");
    if (g)
        read_attach_list(L, g, &global, &cfg_cap);
    gwc_pop(r, mark);

    domains = gwc_array(r, c->n_plugin_domains + 1, sizeof *domains);
    yaml_node_t *dseq = gwc_get(r, root, "plugin_domains");
    mark = gwc_push_key(r, "plugin_domains");
    for (size_t d = 0; d < c->n_plugin_domains && !r->failed; d++) {
        size_t m = gwc_push_index(r, d);
        yaml_node_t *pl = gwc_get(r, gwc_seq_at(r, dseq, d), "plugins");
        size_t m2 = gwc_push_key(r, "plugins");
        if (pl)
            read_attach_list(L, pl, &domains[d], &cfg_cap);
        gwc_pop(r, m2);
        gwc_pop(r, m);
    }
    gwc_pop(r, mark);

    yaml_node_t *rseq = gwc_get(r, root, "routes");
    size_t nd = c->n_plugin_domains;
    mark = gwc_push_key(r, "routes");
    for (size_t i = 0; i < c->n_routes && !r->failed; i++) {
        size_t m = gwc_push_index(r, i);
        yaml_node_t *pl = gwc_get(r, gwc_seq_at(r, rseq, i), "plugins");
        size_t m2 = gwc_push_key(r, "plugins");
        route.n = 0;
        if (pl && c->n_plugins == 0)
            gwc_fail(r, pl, "no plugins are defined (top-level plugins:)");
        else if (pl)
            read_attach_list(L, pl, &route, &cfg_cap);
        gwc_pop(r, m2);
        gwc_pop(r, m);
        if (c->n_plugins == 0 || r->failed)
            continue;
        gw_route_conf *rt = &c->routes[i];
        rt->plugin_chains = gwc_array(r, nd + 1, sizeof *rt->plugin_chains);
        for (size_t d = 0; d <= nd && rt->plugin_chains; d++) {
            gw_plugin_ref *refs = gwc_array(r, c->n_plugins, sizeof *refs);
            size_t n = 0;
            if (!refs)
                break;
            apply(refs, &n, &global);
            if (d > 0)
                apply(refs, &n, &domains[d - 1]);
            apply(refs, &n, &route);
            rt->plugin_chains[d].refs = refs;
            rt->plugin_chains[d].n = n;
        }
    }
    gwc_pop(r, mark);
    if (!r->failed && c->n_plugins == 0 && (global.n || g)) {
        mark = gwc_push_key(r, "plugin_chain");
        gwc_fail(r, g, "no plugins are defined (top-level plugins:)");
        gwc_pop(r, mark);
    }
}

/* ---- lookups -------------------------------------------------------------- */

static bool host_matches(const char *pat, const char *h, size_t n)
{
    if (!strcmp(pat, "*"))
        return true;
    if (!strncmp(pat, "*.", 2)) {
        size_t sl = strlen(pat + 1); /* ".example.com" */
        return n > sl && !strncasecmp(h + n - sl, pat + 1, sl);
    }
    return strlen(pat) == n && !strncasecmp(pat, h, n);
}

const gw_plugin_chain *gw_config_plugin_chain(const gw_config *c, const gw_route_conf *rt,
                                              const char *host, size_t len)
{
    if (!c || !rt || !rt->plugin_chains)
        return NULL;
    /* Strip the port ("[v6]:port" aware) and a trailing dot. */
    if (host && len && host[0] == '[') {
        const char *close = memchr(host, ']', len);
        if (close)
            len = (size_t)(close - host) + 1;
    } else if (host) {
        const char *colon = memchr(host, ':', len);
        if (colon)
            len = (size_t)(colon - host);
    }
    if (len && host[len - 1] == '.')
        len--;
    for (size_t d = 0; host && d < c->n_plugin_domains; d++)
        for (size_t k = 0; k < c->plugin_domains[d].n_hosts; k++)
            if (host_matches(c->plugin_domains[d].hosts[k], host, len))
                return &rt->plugin_chains[d + 1];
    return &rt->plugin_chains[0];
}

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

bool gw_plugin_conf_same(const gw_plugin_conf *a, const gw_plugin_conf *b)
{
    if (!str_eq(a->name, b->name) || memcmp(a->sha256, b->sha256, 32) != 0 ||
        a->module_len != b->module_len || !str_eq(a->root_id, b->root_id) ||
        !str_eq(a->vm_id, b->vm_id) || a->vm_config_len != b->vm_config_len ||
        !str_eq(a->vm_config, b->vm_config) || a->n_env != b->n_env ||
        a->max_memory_bytes != b->max_memory_bytes ||
        a->cpu_per_callback_ms != b->cpu_per_callback_ms ||
        a->failure_policy != b->failure_policy || a->configuration_len != b->configuration_len ||
        memcmp(a->configuration, b->configuration, a->configuration_len) != 0 ||
        a->header_stop_iteration_set != b->header_stop_iteration_set ||
        a->header_stop_iteration != b->header_stop_iteration || a->runtime != b->runtime)
        return false;
    for (size_t i = 0; i < a->n_env; i++)
        if (!str_eq(a->env[i].name, b->env[i].name) || !str_eq(a->env[i].value, b->env[i].value))
            return false;
    return true;
}

bool gw_config_plugins_same(const gw_config *a, const gw_config *b)
{
    if (!a || !b || a->n_plugins != b->n_plugins || a->n_plugin_configs != b->n_plugin_configs)
        return false;
    for (size_t i = 0; i < a->n_plugins; i++)
        if (!gw_plugin_conf_same(&a->plugins[i], &b->plugins[i]))
            return false;
    for (size_t i = 0; i < a->n_plugin_configs; i++) {
        const gw_plugin_config *x = &a->plugin_configs[i], *y = &b->plugin_configs[i];
        if (x->plugin != y->plugin || x->json_len != y->json_len ||
            memcmp(x->json, y->json, x->json_len) != 0)
            return false;
    }
    return true;
}

/* ---- standalone YAML -> JSON ---------------------------------------------- */

char *gw_config_yaml_to_json(const char *yaml, size_t len, char *err, size_t err_len)
{
    yaml_parser_t p;
    yaml_document_t doc;
    gwc_block *arena = NULL;
    gwc_reader r = {0};
    char *res = NULL;
    if (err && err_len)
        err[0] = '\0';
    if (!yaml_parser_initialize(&p))
        return NULL;
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&p, &doc)) {
        if (err && err_len)
            snprintf(err, err_len, "yaml: %s", p.problem ? p.problem : "syntax error");
        yaml_parser_delete(&p);
        return NULL;
    }
    r.doc = &doc;
    r.source = "<yaml>";
    r.err = err;
    r.err_len = err_len;
    r.arena = &arena;
    r.n_nodes = (size_t)(doc.nodes.top - doc.nodes.start);
    r.budget = 8 * r.n_nodes + 100000;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    size_t n = 0;
    char *j = root ? value_json(&r, root, &n) : NULL;
    if (!root) {
        res = strdup("null");
    } else if (j) {
        res = malloc(n + 1);
        if (res) {
            memcpy(res, j, n);
            res[n] = '\0';
        }
    }
    gwc_arena_free(arena);
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return res;
}
