/*
 * test_config_plugins.c — unit tests for the plugin part of the gateway
 * config (src/gateway/gw_config_plugins.c, gw_config_fetch.c).
 *
 * Owns:     plugins[] (module files relative to the config, sha256 checks,
 *           url modules fetched from a tiny HTTP server thread and cached
 *           on disk), defaults, every error with FILE:LINE:COL, chain
 *           resolution (global, domain, route; override, disabled; dedupe
 *           of configurations), YAML -> JSON, the dump, "same plugins"
 *           across generations.
 * Output:   "ok - NAME" / "not ok - NAME" lines, then "N passed, N failed".
 */
#include "gw_config.h"
#include "ut_json.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

static char err[1024];
static char dir[256];  /* temp dir with the modules */
static char src[300];  /* "dir/gw.yaml": the source name, for relative paths */

#define HEAD "listeners: [{address: 127.0.0.1:8080}]\n"
static const char wasm_a[] = "\0asm\1\0\0\0AAAA";
static const char wasm_b[] = "\0asm\1\0\0\0BBBB";

static void sha_hex(const void *d, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int l = 32;
    EVP_Digest(d, n, md, &l, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

static void write_file(const char *name, const void *d, size_t n)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    fwrite(d, 1, n, f);
    fclose(f);
}

static gw_config *load(const char *yaml)
{
    return gw_config_load_string(yaml, strlen(yaml), src, err, sizeof err);
}

/* Loads yaml, expects failure with an error starting "SRC:LINE:COL: " and
 * containing `want`. */
static void expect_err(const char *yaml, int line, int col, const char *want, const char *name)
{
    gw_config *c = load(yaml);
    char prefix[400];
    snprintf(prefix, sizeof prefix, "%s:%d:%d: ", src, line, col);
    bool ok = !c && !strncmp(err, prefix, strlen(prefix)) && strstr(err, want);
    if (!ok)
        printf("# got: %s\n# want: %s...%s\n", c ? "(loaded)" : err, prefix, want);
    check(ok, name);
    gw_config_unref(c);
}

static void json_case(const char *yaml, const char *want, const char *name)
{
    char e[200];
    char *j = gw_config_yaml_to_json(yaml, strlen(yaml), e, sizeof e);
    bool ok = j && !strcmp(j, want);
    if (!ok)
        printf("# got: %s (%s)\n# want: %s\n", j ? j : "NULL", e, want);
    check(ok, name);
    free(j);
}

/* ---- YAML -> JSON -------------------------------------------------------- */

static void test_yaml_json(void)
{
    json_case("{a: 1, b: two, c: true, d: null, e: ~, f: 1.5e3}",
              "{\"a\":1,\"b\":\"two\",\"c\":true,\"d\":null,\"e\":null,\"f\":1.5e3}", "json: map scalars");
    json_case("[\"1\", '2', 3, -0.5, 0x1f, +1, 012, .5, yes, False]",
              "[\"1\",\"2\",3,-0.5,\"0x1f\",\"+1\",\"012\",\".5\",\"yes\",false]",
              "json: quoted stay strings, only JSON numbers are numbers");
    json_case("a:\n  - {x: [1, {y: \"q\\\"\\n\"}]}\n  - []\n  - {}\n",
              "{\"a\":[{\"x\":[1,{\"y\":\"q\\\"\\u000a\"}]},[],{}]}", "json: nesting, escapes");
    json_case("'{\"k\": [1, 2]}'", "{\"k\": [1, 2]}", "json: a quoted JSON string is taken as-is");
    json_case("hello", "hello", "json: a scalar configuration is passed as its text (Envoy StringValue)");
    json_case("x: &A [1, 2]\ny: *A\n", "{\"x\":[1,2],\"y\":[1,2]}", "json: aliases expand");
    setenv("GWTEST_V", "v1", 1);
    json_case("k: \"${GWTEST_V}\"\nn: ${GWTEST_N:-42}\n", "{\"k\":\"v1\",\"n\":42}",
              "json: ${VAR} expansion, number after expansion");
    char e[200];
    char *j = gw_config_yaml_to_json("'{bad json'", 11, e, sizeof e);
    check(!j && strstr(e, "does not parse"), "json: a broken JSON string is an error");
    free(j);
    j = gw_config_yaml_to_json("{a: 1, a: 2}", 12, e, sizeof e);
    check(!j && strstr(e, "duplicate key"), "json: duplicate keys are an error");
    free(j);
}

/* ---- plugins ------------------------------------------------------------- */

static void test_plugins_basic(void)
{
    char hex[65], yaml[4096];
    sha_hex(wasm_a, sizeof wasm_a - 1, hex);
    snprintf(yaml, sizeof yaml,
             HEAD "plugins:\n"
                  "  - name: auth\n"
                  "    module: a.wasm\n"
                  "    sha256: %s\n"
                  "    root_id: r1\n"
                  "    vm_config: {gc: true}\n"
                  "    env: {MODE: strict, EMPTY: }\n"
                  "    limits: {max_memory: 32MiB, cpu_per_callback: 1s}\n"
                  "    failure_policy: fail_open\n"
                  "    configuration: {keys: [k1, k2], n: 3}\n"
                  "    header_stop_iteration: true\n"
                  "  - name: plain\n"
                  "    module: %s/a.wasm\n",
             hex, dir);
    gw_config *c = load(yaml);
    if (!c)
        printf("# %s\n", err);
    check(c && c->n_plugins == 2, "plugins: two load");
    if (!c)
        return;
    const gw_plugin_conf *p = &c->plugins[0], *q = &c->plugins[1];
    char want_path[400];
    snprintf(want_path, sizeof want_path, "%s/a.wasm", dir);
    check(!strcmp(p->module, want_path), "plugins: module path relative to the config file");
    check(p->module_len == sizeof wasm_a - 1 && !memcmp(p->module_bytes, wasm_a, p->module_len),
          "plugins: module bytes read");
    check(p->sha256_given && !strcmp(p->sha256_hex, hex), "plugins: sha256 checked and kept");
    check(q->module_bytes == p->module_bytes && !strcmp(q->sha256_hex, hex),
          "plugins: identical modules share one copy");
    check(!strcmp(p->root_id, "r1") && !strcmp(p->vm_id, "") && !strcmp(q->root_id, ""),
          "plugins: root_id / vm_id");
    check(p->vm_config && !strcmp(p->vm_config, "{\"gc\":true}") && !q->vm_config,
          "plugins: vm_config as JSON");
    check(p->n_env == 2 && !strcmp(p->env[0].name, "MODE") && !strcmp(p->env[0].value, "strict") &&
              !strcmp(p->env[1].value, ""),
          "plugins: env");
    check(p->max_memory_bytes == 32u << 20 && p->cpu_per_callback_ms == 1000 &&
              q->max_memory_bytes == 16u << 20 && q->cpu_per_callback_ms == 50,
          "plugins: limits and defaults");
    check(p->failure_policy == GW_PLUGIN_FAIL_OPEN && q->failure_policy == GW_PLUGIN_FAIL_CLOSED,
          "plugins: failure_policy");
    check(!strcmp(p->configuration, "{\"keys\":[\"k1\",\"k2\"],\"n\":3}") &&
              !strcmp(q->configuration, "") && q->configuration_len == 0,
          "plugins: configuration JSON, empty by default");
    check(p->header_stop_iteration_set && p->header_stop_iteration &&
              !q->header_stop_iteration_set,
          "plugins: header_stop_iteration");
    check(c->n_plugin_configs == 2, "plugins: default configurations in the table");

    /* Dump parses and carries the plugins. */
    ut_buf b = {0};
    gw_config_dump_json(c, &b);
    ut_json *j = ut_json_parse(b.data, b.len, 0, NULL);
    const ut_json *pl = ut_json_at(ut_json_get(j, "plugins"), 0);
    check(j && !strcmp(ut_json_str(ut_json_get(pl, "name")) ?: "", "auth") &&
              !strcmp(ut_json_str(ut_json_get(pl, "sha256")) ?: "", hex) &&
              ut_json_len(ut_json_get(j, "plugin_configurations")) == 2,
          "plugins: /config_dump");
    ut_json_free(j);
    ut_buf_free(&b);

    /* Reload detection. */
    gw_config *c2 = load(yaml);
    check(c2 && gw_config_plugins_same(c, c2), "plugins: identical generations are the same");
    gw_config_unref(c2);
    char yaml2[4096];
    snprintf(yaml2, sizeof yaml2, "%s", yaml);
    char *at = strstr(yaml2, "n: 3");
    at[3] = '4';
    c2 = load(yaml2);
    check(c2 && !gw_config_plugins_same(c, c2) &&
              !gw_plugin_conf_same(&c->plugins[0], &c2->plugins[0]) &&
              gw_plugin_conf_same(&c->plugins[1], &c2->plugins[1]),
          "plugins: a changed configuration is detected per plugin");
    gw_config_unref(c2);
    write_file("a2.wasm", wasm_b, sizeof wasm_b - 1);
    snprintf(yaml2, sizeof yaml2, HEAD "plugins: [{name: plain, module: a2.wasm}]\n");
    c2 = load(yaml2);
    check(c2 && !gw_plugin_conf_same(&c->plugins[1], &c2->plugins[0]),
          "plugins: a changed module is detected");
    gw_config_unref(c2);
    gw_config_unref(c);
}

static void test_plugin_errors(void)
{
    char yaml[2048], hex[65];
    expect_err(HEAD "plugins:\n  - name: x\n    modul: a.wasm\n", 4, 5, "plugins[0].modul: unknown key",
               "errors: unknown key");
    expect_err(HEAD "plugins:\n  - {name: x, module: a.wasm}\n  - {name: x, module: a.wasm}\n", 4, 12,
               "plugins[1].name: duplicate name 'x'", "errors: duplicate name");
    expect_err(HEAD "plugins:\n  - {name: x}\n", 3, 5, "plugins[0]: give module",
               "errors: no module");
    expect_err(HEAD "plugins:\n  - {name: x, module: nope.wasm}\n", 3, 23,
               "plugins[0].module: cannot read module", "errors: missing file");
    sha_hex(wasm_b, sizeof wasm_b - 1, hex);
    snprintf(yaml, sizeof yaml, HEAD "plugins:\n  - name: x\n    module: a.wasm\n    sha256: %s\n",
             hex);
    expect_err(yaml, 4, 13, "sha256 mismatch", "errors: sha256 mismatch (file)");
    expect_err(HEAD "plugins:\n  - {name: x, module: a.wasm, sha256: abc}\n", 3, 39,
               "plugins[0].sha256: expected 64 hex digits", "errors: bad sha256");
    expect_err(HEAD "plugins:\n  - {name: x, url: 'http://127.0.0.1:1/x.wasm'}\n", 3, 5,
               "plugins[0].sha256: required for url modules", "errors: url without sha256");
    expect_err(HEAD "plugins:\n  - {name: x, url: 'ftp://h/x'}\n", 3, 20,
               "plugins[0].url: must start with http", "errors: url scheme");
    expect_err(HEAD "plugins:\n  - {name: x, module: a.wasm, url: 'http://h/x'}\n", 3, 36,
               "give module (a file) or url, not both", "errors: module and url");
    expect_err(HEAD "plugins:\n  - {name: x, module: a.wasm, failure_policy: maybe}\n", 3, 47,
               "unknown policy 'maybe'", "errors: failure_policy");
    expect_err(HEAD "plugins:\n  - {name: x, module: a.wasm, limits: {max_memory: lots}}\n", 3,
               52, "plugins[0].limits.max_memory: bad size", "errors: limits size");
    expect_err(HEAD "plugins:\n  - {name: x, module: a.wasm, limits: {cpu_per_callback: 1us}}\n",
               3, 58, "plugins[0].limits.cpu_per_callback: bad duration", "errors: limits duration");
    expect_err(HEAD "plugins:\n  - {name: x, module: a.wasm, header_stop_iteration: 2}\n", 3, 54,
               "expected true or false", "errors: header_stop_iteration");
    expect_err(HEAD "plugins:\n  - {name: x, module: a.wasm, env: [A]}\n", 3, 36,
               "plugins[0].env: expected a mapping", "errors: env type");
    expect_err(HEAD "plugins:\n  - {name: x, module: a.wasm, configuration: '{\"a\":'}\n", 3, 46,
               "plugins[0].configuration: looks like JSON but does not parse",
               "errors: broken JSON configuration");
    expect_err(HEAD "plugins: [{name: x, module: a.wasm}]\nplugin_chain: [y]\n", 3, 16,
               "plugin_chain[0]: unknown plugin 'y' (defined: x)", "errors: unknown plugin in chain");
    expect_err(HEAD "plugins: [{name: x, module: a.wasm}]\nplugin_chain: [x, {plugin: x}]\n", 3,
               28, "plugin_chain[1].plugin: plugin 'x' is attached twice",
               "errors: attached twice");
    expect_err(HEAD "plugins: [{name: x, module: a.wasm}]\nplugin_chain: [{plugin: x, disable: true}]\n",
               3, 28, "plugin_chain[0].disable: unknown key", "errors: attachment unknown key");
    expect_err(HEAD "plugins: [{name: x, module: a.wasm}]\nplugin_chain: [[x]]\n", 3, 16,
               "expected a plugin name or", "errors: attachment type");
    expect_err(HEAD "plugins: [{name: x, module: a.wasm}]\n"
                    "plugin_domains: [{hosts: ['a.com:80'], plugins: [x]}]\n",
               3, 27, "plugin_domains[0].hosts[0]: bad host pattern", "errors: domain host");
    expect_err(HEAD "plugins: [{name: x, module: a.wasm}]\n"
                    "plugin_domains: [{hosts: [a.com], plugins: [z]}]\n",
               3, 45, "plugin_domains[0].plugins[0]: unknown plugin 'z'",
               "errors: unknown plugin in a domain");
    expect_err(HEAD "plugins: [{name: x, module: a.wasm}]\nroutes:\n"
                    "  - {direct: {status: 200}, plugins: [{plugin: q}]}\n",
               4, 48, "routes[0].plugins[0].plugin: unknown plugin 'q'",
               "errors: unknown plugin in a route");
    expect_err(HEAD "routes:\n  - {direct: {status: 200}, plugins: [x]}\n", 3, 38,
               "routes[0].plugins: no plugins are defined", "errors: route plugins without plugins");
    expect_err(HEAD "plugin_cache_dir: ''\n", 2, 19, "plugin_cache_dir: must not be empty",
               "errors: empty cache dir");
}

/* runtime (plugins and WAGI routes) and aot_cache: parsed, defaults,
 * dumped, part of "same plugin", bad values named. */
static void test_runtime(void)
{
    gw_config *c = load(HEAD "aot_cache: aot\n"
                             "plugins:\n"
                             "  - {name: n, module: a.wasm, runtime: aot}\n"
                             "  - {name: a, module: a.wasm, runtime: auto}\n"
                             "  - {name: d, module: a.wasm}\n"
                             "routes:\n"
                             "  - {match: {path: {exact: /x}}, wagi: {module: a.wasm, runtime: aot}}\n"
                             "  - {match: {path: {exact: /y}}, wagi: {module: a.wasm}}\n");
    if (!c)
        printf("# %s\n", err);
    check(c && c->plugins[0].runtime == GW_RUNTIME_AOT && c->plugins[1].runtime == GW_RUNTIME_AUTO &&
              c->plugins[2].runtime == GW_RUNTIME_INTERP,
          "runtime: plugins aot / auto / default interp");
    check(c && c->routes[0].wagi_runtime == GW_RUNTIME_AOT &&
              c->routes[1].wagi_runtime == GW_RUNTIME_INTERP,
          "runtime: WAGI routes aot / default interp");
    char want[400];
    snprintf(want, sizeof want, "%s/aot", dir);
    check(c && c->aot_cache && !strcmp(c->aot_cache, want),
          "runtime: aot_cache relative to the config file");
    check(c && !gw_plugin_conf_same(&c->plugins[0], &c->plugins[2]) &&
              gw_plugin_conf_same(&c->plugins[2], &c->plugins[2]),
          "runtime: a different runtime is a different plugin");
    if (c) {
        ut_buf b = {0};
        gw_config_dump_json(c, &b);
        ut_json *j = ut_json_parse(b.data, b.len, 0, NULL);
        const ut_json *pl = ut_json_at(ut_json_get(j, "plugins"), 0);
        check(j && !strcmp(ut_json_str(ut_json_get(pl, "runtime")) ?: "", "aot") &&
                  !strcmp(ut_json_str(ut_json_get(j, "aot_cache")) ?: "", want),
              "runtime: /config_dump shows runtime and aot_cache");
        ut_json_free(j);
        ut_buf_free(&b);
    }
    gw_config_unref(c);
    c = load(HEAD "plugins: [{name: d, module: a.wasm}]\n");
    check(c && !c->aot_cache, "runtime: no aot_cache = the engine's default (NULL)");
    gw_config_unref(c);
    expect_err(HEAD "plugins:\n  - {name: x, module: a.wasm, runtime: jit}\n", 3, 40,
               "plugins[0].runtime: unknown runtime 'jit' (expected interp, aot or auto)",
               "errors: plugin runtime: jit");
    expect_err(HEAD "routes: [{match: {path: {exact: /x}}, wagi: {module: a.wasm, runtime: jit}}]\n",
               2, 71, "routes[0].wagi.runtime: unknown runtime 'jit'", "errors: WAGI runtime: jit");
    expect_err(HEAD "aot_cache: ''\nplugins: [{name: d, module: a.wasm}]\n", 2, 12,
               "aot_cache: must not be empty", "errors: empty aot_cache");
}

static void test_chains(void)
{
    const char *yaml =
        HEAD "plugins:\n"
             "  - {name: a, module: a.wasm, configuration: {v: 1}}\n"
             "  - {name: b, module: a.wasm}\n"
             "  - {name: c, module: a.wasm}\n"
             "plugin_chain: [a, b]\n"
             "plugin_domains:\n"
             "  - hosts: [api.example.com, '*.example.org']\n"
             "    plugins: [{plugin: a, configuration: {v: 2}}, c]\n"
             "  - hosts: ['*']\n"
             "    plugins: [{plugin: b, disabled: true}]\n"
             "routes:\n"
             "  - name: r0\n"
             "    direct: {status: 200}\n"
             "  - name: r1\n"
             "    plugins: [{plugin: a, configuration: {v: 2}}, {plugin: b, disabled: true}, c]\n"
             "    direct: {status: 200}\n"
             "  - name: r2\n"
             "    plugins: [{plugin: a, configuration: '{\"v\": 1}'}, {plugin: c, configuration: {v: 1}}]\n"
             "    direct: {status: 200}\n";
    gw_config *c = load(yaml);
    if (!c)
        printf("# %s\n", err);
    check(c != NULL, "chains: loads");
    if (!c)
        return;
    /* Table: defaults a{v:1}=0, b""=1, c""=2; a{v:2}=3; a '{"v": 1}'=4; c{v:1}=5 */
    check(c->n_plugin_configs == 6, "chains: distinct (plugin, configuration) pairs deduped");
    check(c->plugin_configs[3].plugin == 0 && !strcmp(c->plugin_configs[3].json, "{\"v\":2}"),
          "chains: override configuration in the table");
    const gw_route_conf *r0 = &c->routes[0], *r1 = &c->routes[1], *r2 = &c->routes[2];
    const gw_plugin_chain *ch = &r0->plugin_chains[0];
    check(ch && ch->n == 2 && ch->refs[0].plugin == 0 && ch->refs[0].config == 0 &&
              ch->refs[1].plugin == 1 && ch->refs[1].config == 1,
          "chains: global chain (no domain)");
    ch = gw_config_plugin_chain(c, r0, "API.example.com:8080", 20);
    check(ch && ch->n == 3 && ch->refs[0].plugin == 0 && ch->refs[0].config == 3 &&
              ch->refs[1].plugin == 1 && ch->refs[2].plugin == 2,
          "chains: domain overrides keep the position, add plugins (port, case ignored)");
    ch = gw_config_plugin_chain(c, r0, "x.y.example.org", 15);
    check(ch == &r0->plugin_chains[1], "chains: wildcard domain");
    check(gw_config_plugin_chain(c, r0, "example.org", 11) == &r0->plugin_chains[2],
          "chains: '*.x' needs a label; '*' domain catches the rest");
    ch = &r0->plugin_chains[2];
    check(ch->n == 1 && ch->refs[0].plugin == 0, "chains: a domain disables a global plugin");
    ch = &r1->plugin_chains[0];
    check(ch->n == 2 && ch->refs[0].plugin == 0 && ch->refs[0].config == 3 &&
              ch->refs[1].plugin == 2 && ch->refs[1].config == 2,
          "chains: route overrides, disables, appends");
    ch = &r1->plugin_chains[1];
    check(ch->n == 2 && ch->refs[0].config == 3 && ch->refs[1].plugin == 2,
          "chains: global, then domain, then route");
    ch = &r2->plugin_chains[0];
    check(ch->n == 3 && ch->refs[0].config == 4 && ch->refs[2].plugin == 2 &&
              ch->refs[2].config == 5,
          "chains: as-is JSON is its own entry; same JSON for another plugin is another entry");
    gw_config *plain = load(HEAD "routes: [{direct: {status: 200}}]\n");
    check(plain && plain->n_plugins == 0 && !plain->routes[0].plugin_chains &&
              !gw_config_plugin_chain(plain, &plain->routes[0], "a", 1),
          "chains: none without plugins");
    gw_config_unref(plain);
    gw_config_unref(c);
}

/* ---- url modules: a one-connection-at-a-time HTTP server thread ---------- */

static int srv_fd;
static int srv_hits;
static const char *srv_body;
static size_t srv_len;
static bool srv_chunked;

static void *serve(void *arg)
{
    for (;;) {
        int fd = accept(srv_fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        char req[4096];
        size_t got = 0;
        while (got < sizeof req - 1) {
            ssize_t k = read(fd, req + got, sizeof req - 1 - got);
            if (k <= 0)
                break;
            got += (size_t)k;
            req[got] = '\0';
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        __atomic_add_fetch(&srv_hits, 1, __ATOMIC_SEQ_CST);
        char head[256];
        if (strstr(req, "GET /missing")) {
            const char *r = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
            (void)!write(fd, r, strlen(r));
        } else if (srv_chunked) {
            snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n",
                     srv_len);
            (void)!write(fd, head, strlen(head));
            (void)!write(fd, srv_body, srv_len);
            (void)!write(fd, "\r\n0\r\n\r\n", 7);
        } else {
            snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", srv_len);
            (void)!write(fd, head, strlen(head));
            (void)!write(fd, srv_body, srv_len);
        }
        close(fd);
    }
}

static void test_url(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    srv_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(srv_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(srv_fd, 8) != 0) {
        check(0, "url: test server");
        return;
    }
    getsockname(srv_fd, (struct sockaddr *)&a, &al);
    unsigned port = ntohs(a.sin_port);
    pthread_t th;
    pthread_create(&th, NULL, serve, NULL);
    srv_body = wasm_b;
    srv_len = sizeof wasm_b - 1;
    char hex[65], yaml[2048];
    sha_hex(wasm_b, srv_len, hex);
    snprintf(yaml, sizeof yaml,
             HEAD "plugin_cache_dir: %s/cache/sub\n"
                  "plugins:\n  - name: u\n    url: http://127.0.0.1:%u/m.wasm\n    sha256: %s\n",
             dir, port, hex);
    gw_config *c = load(yaml);
    if (!c)
        printf("# %s\n", err);
    check(c && c->plugins[0].module_len == srv_len &&
              !memcmp(c->plugins[0].module_bytes, wasm_b, srv_len) && srv_hits == 1,
          "url: fetched and verified");
    char cache[512];
    snprintf(cache, sizeof cache, "%s/cache/sub/%s.wasm", dir, hex);
    struct stat st;
    check(c && !strcmp(c->plugins[0].cache_path, cache) && stat(cache, &st) == 0 &&
              (size_t)st.st_size == srv_len,
          "url: cached on disk by sha256");
    gw_config_unref(c);
    c = load(yaml);
    check(c && srv_hits == 1 && c->plugins[0].module_len == srv_len,
          "url: a second load uses the cache (no fetch)");
    gw_config_unref(c);
    /* A corrupted cache entry is refetched. */
    FILE *f = fopen(cache, "wb");
    fputs("junk", f);
    fclose(f);
    srv_chunked = true;
    c = load(yaml);
    check(c && srv_hits == 2 && c->plugins[0].module_len == srv_len,
          "url: a bad cache entry is refetched (chunked response)");
    gw_config_unref(c);
    srv_chunked = false;

    /* sha256 mismatch on the fetched bytes. */
    sha_hex(wasm_a, sizeof wasm_a - 1, hex);
    snprintf(yaml, sizeof yaml,
             HEAD "plugin_cache_dir: %s/cache\n"
                  "plugins:\n  - name: u\n    url: http://127.0.0.1:%u/m.wasm\n    sha256: %s\n",
             dir, port, hex);
    expect_err(yaml, 5, 10, "sha256 mismatch for 'http://127.0.0.1", "url: sha256 mismatch");
    snprintf(yaml, sizeof yaml,
             HEAD "plugin_cache_dir: %s/cache\n"
                  "plugins:\n  - name: u\n    url: http://127.0.0.1:%u/missing\n    sha256: %s\n",
             dir, port, hex);
    expect_err(yaml, 5, 10, "HTTP status 404", "url: HTTP error status");
    shutdown(srv_fd, SHUT_RDWR);
    close(srv_fd);
    pthread_join(th, NULL);
    /* Connection refused (the port is closed now). */
    expect_err(yaml, 5, 10, "cannot fetch", "url: connection refused");
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sluice-test-plugins-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(src, sizeof src, "%s/gw.yaml", dir);
    write_file("a.wasm", wasm_a, sizeof wasm_a - 1);
    gw_config_set_name_lookups(false);
    test_yaml_json();
    test_plugins_basic();
    test_plugin_errors();
    test_runtime();
    test_chains();
    test_url();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
