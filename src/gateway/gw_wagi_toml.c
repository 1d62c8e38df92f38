/*
 * gw_wagi_toml.c — a WAGI modules.toml on the gateway's data plane.
 *
 * Owns:      `sluice wagi -c modules.toml` as a gateway config (listeners,
 *            admin, WAGI's built-in /healthz first, then one catch-all
 *            route whose wagi action is the modules.toml), and loading a
 *            modules.toml into a gw_wagi_table: the loader's warnings are
 *            logged here, handlers come from the compiled-module cache,
 *            _routes sub-routes are added. Requests are matched against
 *            the table by wagi_modules_lookup (gw_wagi.c) — the one
 *            matcher, most specific route wins — not by gateway routes.
 * Not here:  reading modules.toml (src/wagi/wagi_modules.c), running the
 *            modules (src/wagi/wagi_handler.c), the cache
 *            (gw_wagi_cache.c).
 *
 * The YAML is generated with every string as a JSON string literal (valid
 * YAML double-quoted scalars), so no value can change the structure of
 * the generated document.
 */
#include "gw_wagi_toml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_worker.h" /* gw_log */

static void str(ut_buf *b, const char *s)
{
    ut_buf_json_str(b, s ? s : "", s ? strlen(s) : 0);
}

char *gw_wagi_toml_to_yaml(const char *source, const gw_wagi_toml_opts *o, size_t *out_len,
                           char *err, size_t err_len)
{
    ut_buf b = {0};
    ut_buf_puts(&b, "# generated for ");
    ut_buf_puts(&b, source);
    ut_buf_puts(&b, "\nlisteners:\n  - address: ");
    str(&b, o->listen ? o->listen : "127.0.0.1:3000");
    ut_buf_puts(&b, "\nadmin:\n  address: ");
    str(&b, o->admin ? o->admin : "127.0.0.1:9901");
    ut_buf_printf(&b, "\nworkers: %u\naccess_log: %s\nroutes:\n", o->workers,
                  o->access_log ? "true" : "false");
    /* WAGI's built-in health check comes first and cannot be overridden. */
    ut_buf_puts(&b, "  - name: \"_healthz\"\n    match: { path: { exact: \"/healthz\" } }\n"
                    "    direct: { status: 200, body: \"OK\" }\n"
                    "  - name: \"wagi\"\n    match: { path: { prefix: \"/\" } }\n"
                    "    wagi: { modules: ");
    str(&b, source);
    ut_buf_puts(&b, " }\n");
    if (b.oom) {
        snprintf(err, err_len, "out of memory");
        ut_buf_free(&b);
        return NULL;
    }
    *out_len = b.len;
    return b.data;
}

void gw_wagi_table_free(gw_wagi_table *t)
{
    if (!t)
        return;
    if (t->h)
        for (size_t i = 0; i < t->mods.n; i++)
            wagi_handler_free(t->h[i]);
    free(t->h);
    wagi_modules_free(&t->mods);
    free(t);
}

gw_wagi_table *gw_wagi_table_load(const char *path, gw_wagi_cache *cache, const char *aot_cache,
                                  char *err, size_t err_len)
{
    gw_wagi_table *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    if (wagi_modules_load_file(path, &t->mods, err, err_len) < 0) {
        free(t);
        return NULL;
    }
    for (size_t i = 0; i < t->mods.n_warnings; i++)
        gw_log("warn", "%s", t->mods.warnings[i]);
    if (!(t->h = calloc(t->mods.n, sizeof *t->h))) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < t->mods.n; i++) {
        const wagi_module_spec *m = &t->mods.items[i];
        wagi_kv *vol = calloc(m->n_volumes + 1, sizeof *vol);
        if (!vol) {
            snprintf(err, err_len, "out of memory");
            goto fail;
        }
        for (size_t j = 0; j < m->n_volumes; j++)
            vol[j] = (wagi_kv){m->volumes[j].name, m->volumes[j].value};
        wagi_handler_conf hc = {
            .route = m->route,
            .module_path = m->module,
            .entrypoint = m->entrypoint,
            .argv = m->argv,
            .env = m->env,
            .n_env = m->n_env,
            .volumes = vol,
            .n_volumes = m->n_volumes,
            .timeout_ms = m->timeout_ms,
            .max_memory_pages = m->max_memory_pages,
            .max_concurrency = m->http_max_concurrency,
            .init = m->init,
            .runtime = m->runtime,
            .aot_cache = aot_cache,
        };
        char herr[768] = "";
        t->h[i] = gw_wagi_cache_get(cache, &hc, herr, sizeof herr);
        free(vol);
        if (!t->h[i]) {
            snprintf(err, err_len, "%s: module[%zu] (route %s): %s", path, i, m->route, herr);
            goto fail;
        }
        gw_wagi_log_runtime(m->route, &hc, t->h[i]);
        const char *out;
        size_t out_len;
        int rc = gw_wagi_cache_routes(cache, t->h[i], &out, &out_len, herr, sizeof herr);
        if (rc > 0)
            rc = wagi_modules_add_subroutes(&t->mods, i, out, out_len, herr, sizeof herr);
        if (rc < 0) {
            snprintf(err, err_len, "%s: module[%zu] (route %s): %s", path, i, m->route, herr);
            goto fail;
        }
    }
    for (size_t i = 0; i < t->mods.n_subs; i++) {
        const wagi_subroute *s = &t->mods.subs[i];
        char herr[512] = "";
        if (wagi_handler_check_entrypoint(t->h[s->module], s->entrypoint, herr, sizeof herr) < 0) {
            snprintf(err, err_len, "%s: module[%zu] (route %s): _routes line %zu (%s): %s", path,
                     s->module, t->mods.items[s->module].route, s->seq, s->route, herr);
            goto fail;
        }
    }
    return t;
fail:
    gw_wagi_table_free(t);
    return NULL;
}
