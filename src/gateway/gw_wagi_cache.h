/*
 * gw_wagi_cache.h — compiled WAGI handlers kept across config reloads.
 *
 * Layer:     gateway, main thread only (the server builds generations
 *            there). Handlers are reference counted (wagi.h), so a worker
 *            dropping an old generation never touches the cache.
 * Owns:      the key of a handler: the module file's path, size, mtime,
 *            device/inode and the SHA-256 of its bytes, plus every setting
 *            that goes into wagi_handler_new (route, entrypoint, argv, env,
 *            volumes, limits, init, runtime and AOT cache directory). Same key: the old handler is reused
 *            (one more reference); otherwise it is compiled from the bytes
 *            just hashed, so what is hashed is what is compiled. Also the
 *            output of each handler's _routes export, run once per
 *            compiled handler.
 * Lifetime:  a reload brackets its lookups with gw_wagi_cache_begin and
 *            gw_wagi_cache_commit (the new generation is applied: entries
 *            it did not use are dropped) or gw_wagi_cache_abort (it failed:
 *            entries only it created are dropped).
 * Counters:  compiles (wagi_handler_new calls that succeeded or failed)
 *            and hits, for /stats (sluice_wagi_module_compiles_total,
 *            sluice_wagi_module_cache_hits_total).
 */
#ifndef GW_WAGI_CACHE_H
#define GW_WAGI_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "wagi.h"

typedef struct gw_wagi_cache gw_wagi_cache;

gw_wagi_cache *gw_wagi_cache_new(sl_engine *engine);
void gw_wagi_cache_free(gw_wagi_cache *c);

void gw_wagi_cache_begin(gw_wagi_cache *c);
void gw_wagi_cache_commit(gw_wagi_cache *c);
void gw_wagi_cache_abort(gw_wagi_cache *c);

/* A handler for conf (conf->module_path names the file; module_bytes is
 * ignored): a new reference, released with wagi_handler_free. NULL with
 * err set when the file cannot be read or the module does not load. */
wagi_handler *gw_wagi_cache_get(gw_wagi_cache *c, const wagi_handler_conf *conf, char *err,
                                size_t err_len);

/* The _routes output of a handler gw_wagi_cache_get returned, run on first
 * use (wagi_handler_routes): 1 with *out (owned by the cache), 0 without
 * the export, -1 with err set. */
int gw_wagi_cache_routes(gw_wagi_cache *c, const wagi_handler *h, const char **out,
                         size_t *out_len, char *err, size_t err_len);

/* Logs "wagi NAME: runtime aot (native)" for a handler whose conf asked
 * for a runtime other than the interpreter (nothing otherwise). */
void gw_wagi_log_runtime(const char *name, const wagi_handler_conf *conf, const wagi_handler *h);

uint64_t gw_wagi_cache_compiles(const gw_wagi_cache *c);
uint64_t gw_wagi_cache_hits(const gw_wagi_cache *c);

#endif
