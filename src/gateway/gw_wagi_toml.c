/*
 * gw_wagi_toml.c — `sluice wagi -c modules.toml`: turns a WAGI modules.toml
 * into the gateway's own config (YAML text), so WAGI deployments run on
 * the same data plane, with the same reload, drain, stats and limits.
 *
 * Owns:      the mapping of WAGI's route table onto gateway routes:
 *            the built-in /healthz first, then modules in file order
 *            (first match wins, as in WAGI); "P/..." becomes one route
 *            matching P and P/anything (an anchored regex), with
 *            SCRIPT_NAME = P.
 * Not here:  reading modules.toml (src/wagi/wagi_modules.c), running the
 *            modules (src/wagi/wagi_handler.c).
 *
 * The YAML is generated with every string as a JSON string literal (valid
 * YAML double-quoted scalars), so no value from the TOML can change the
 * structure of the generated document.
 */
#include "gw_wagi_toml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wagi_modules.h"

static void str(ut_buf *b, const char *s)
{
    ut_buf_json_str(b, s ? s : "", s ? strlen(s) : 0);
}

/* PCRE2 for "P" or "P/anything": P quoted literally. */
static bool prefix_regex(ut_buf *b, const char *p, size_t len)
{
    ut_buf out = {0};
    ut_buf_puts(&out, "\\Q");
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\\' && i + 1 < len && p[i + 1] == 'E') {
            ut_buf_free(&out);
            return false; /* cannot quote "\E" inside \Q...\E */
        }
        ut_buf_putc(&out, p[i]);
    }
    ut_buf_puts(&out, "\\E(/.*)?");
    str(b, out.data);
    ut_buf_free(&out);
    return true;
}

char *gw_wagi_toml_to_yaml(const char *toml, size_t len, const char *source,
                           const gw_wagi_toml_opts *o, size_t *out_len, char *err, size_t err_len)
{
    char dir[4096] = ".";
    const char *slash = strrchr(source, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - source), source);
    wagi_modules mods = {0};
    if (wagi_modules_load_string(toml, len, source, dir, &mods, err, err_len) < 0)
        return NULL;

    ut_buf b = {0};
    ut_buf_puts(&b, "# generated from ");
    ut_buf_puts(&b, source);
    ut_buf_puts(&b, "\nlisteners:\n  - address: ");
    str(&b, o->listen ? o->listen : "127.0.0.1:3000");
    ut_buf_puts(&b, "\nadmin:\n  address: ");
    str(&b, o->admin ? o->admin : "127.0.0.1:9901");
    ut_buf_printf(&b, "\nworkers: %u\naccess_log: %s\nroutes:\n", o->workers,
                  o->access_log ? "true" : "false");
    /* WAGI's built-in health check comes first and cannot be overridden. */
    ut_buf_puts(&b, "  - name: \"_healthz\"\n    match: { path: { exact: \"/healthz\" } }\n"
                    "    direct: { status: 200, body: \"OK\" }\n");
    for (size_t i = 0; i < mods.n; i++) {
        const wagi_module_spec *m = &mods.items[i];
        const char *route = m->route;
        size_t rl = strlen(route);
        bool prefix = rl >= 4 && !strcmp(route + rl - 4, "/...");
        ut_buf_printf(&b, "  - name: \"module%zu\"\n    match: { path: { ", i);
        if (prefix) {
            ut_buf_puts(&b, "regex: ");
            if (!prefix_regex(&b, route, rl - 4)) {
                snprintf(err, err_len, "%s: module[%zu].route: cannot contain \"\\E\"", source, i);
                goto fail;
            }
        } else {
            ut_buf_puts(&b, "exact: ");
            str(&b, route);
        }
        ut_buf_puts(&b, " } }\n    wagi:\n      module: ");
        str(&b, m->module);
        ut_buf_puts(&b, "\n      script_name: ");
        ut_buf_json_str(&b, route, prefix ? rl - 4 : rl);
        if (m->entrypoint) {
            ut_buf_puts(&b, "\n      entrypoint: ");
            str(&b, m->entrypoint);
        }
        if (m->argv) {
            ut_buf_puts(&b, "\n      argv: ");
            str(&b, m->argv);
        }
        if (m->timeout_ms)
            ut_buf_printf(&b, "\n      timeout: %ums", m->timeout_ms);
        if (m->max_memory_pages)
            ut_buf_printf(&b, "\n      max_memory: %llu",
                          (unsigned long long)m->max_memory_pages * 65536ull);
        for (int which = 0; which < 2; which++) {
            const wagi_kv *kv = which ? m->volumes : m->env;
            size_t n = which ? m->n_volumes : m->n_env;
            if (!n)
                continue;
            ut_buf_puts(&b, which ? "\n      volumes: {" : "\n      env: {");
            for (size_t j = 0; j < n; j++) {
                ut_buf_puts(&b, j ? ", " : " ");
                str(&b, kv[j].name);
                ut_buf_puts(&b, ": ");
                str(&b, kv[j].value);
            }
            ut_buf_puts(&b, " }");
        }
        ut_buf_putc(&b, '\n');
    }
    wagi_modules_free(&mods);
    if (b.oom) {
        snprintf(err, err_len, "out of memory");
        ut_buf_free(&b);
        return NULL;
    }
    *out_len = b.len;
    return b.data;
fail:
    wagi_modules_free(&mods);
    ut_buf_free(&b);
    return NULL;
}
