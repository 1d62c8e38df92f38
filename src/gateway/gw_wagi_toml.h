/*
 * gw_wagi_toml.h — a WAGI modules.toml served by the gateway: as the
 * whole config of `sluice wagi`, or mounted on a gateway route with
 * `wagi: {modules: FILE}` (see gw_wagi_toml.c).
 */
#ifndef GW_WAGI_TOML_H
#define GW_WAGI_TOML_H

#include <stdbool.h>
#include <stddef.h>

#include "gw_wagi_cache.h"
#include "ut_buf.h"
#include "wagi_modules.h"

typedef struct gw_wagi_toml_opts {
    const char *listen; /* NULL = "127.0.0.1:3000" (WAGI's default) */
    const char *admin;  /* NULL = "127.0.0.1:9901" */
    unsigned workers;   /* 0 = CPUs */
    bool access_log;
} gw_wagi_toml_opts;

/* `sluice wagi`: the gateway config (YAML text, malloc'd, *out_len bytes)
 * that serves the modules.toml at source: WAGI's built-in /healthz, then
 * one catch-all route whose wagi action is the table (the TOML itself is
 * read when the generation is built, by gw_wagi_table_load). NULL with err
 * set on failure. */
char *gw_wagi_toml_to_yaml(const char *source, const gw_wagi_toml_opts *o, size_t *out_len,
                           char *err, size_t err_len);

/* A loaded route table: the modules.toml (plus _routes sub-routes) and a
 * handler per module. Immutable once loaded; shared by the workers. */
typedef struct gw_wagi_table {
    wagi_modules mods;
    wagi_handler **h; /* per mods.items[i], a reference each */
} gw_wagi_table;

/* Reads path, logs its warnings (gw_log "warn"), gets every module's
 * handler from the cache (compiled only when new or changed; each with the
 * runtime its entry asks for, artifacts in aot_cache, NULL = the default),
 * adds the
 * sub-routes each module's _routes export prints and checks their
 * entrypoints. NULL with err set on the first problem. */
gw_wagi_table *gw_wagi_table_load(const char *path, gw_wagi_cache *cache, const char *aot_cache,
                                  char *err, size_t err_len);
void gw_wagi_table_free(gw_wagi_table *t);

#endif
