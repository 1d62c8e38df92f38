/*
 * gw_wagi_cache.c — compiled WAGI handlers reused across reloads (see
 * gw_wagi_cache.h for the contract).
 *
 * The cache is a short list (one entry per distinct handler of the current
 * generation, plus those of a reload in progress): a linear scan with a
 * key compare per lookup costs nothing next to reading and hashing the
 * module file, which every lookup does anyway.
 */
#include "gw_wagi_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "gw_worker.h" /* gw_log */
#include "ut_buf.h"

#define MAX_MODULE_BYTES ((size_t)1 << 30)

typedef struct entry {
    struct entry *next;
    ut_buf key;
    wagi_handler *h; /* the cache's reference */
    bool current;    /* used by the applied generation */
    bool pending;    /* used by the reload in progress */
    int routes_rc;   /* -2: not run yet */
    char *routes;
    size_t routes_len;
    char routes_err[512];
} entry;

struct gw_wagi_cache {
    sl_engine *engine;
    entry *head;
    uint64_t compiles, hits;
};

gw_wagi_cache *gw_wagi_cache_new(sl_engine *engine)
{
    gw_wagi_cache *c = calloc(1, sizeof *c);
    if (c)
        c->engine = engine;
    return c;
}

static void entry_free(entry *e)
{
    wagi_handler_free(e->h);
    ut_buf_free(&e->key);
    free(e->routes);
    free(e);
}

/* Drops the entries for which keep is false. */
static void prune(gw_wagi_cache *c, bool by_pending)
{
    for (entry **p = &c->head; *p;) {
        entry *e = *p;
        if (by_pending)
            e->current = e->pending;
        e->pending = false;
        if (!e->current) {
            *p = e->next;
            entry_free(e);
        } else {
            p = &e->next;
        }
    }
}

void gw_wagi_cache_free(gw_wagi_cache *c)
{
    if (!c)
        return;
    while (c->head) {
        entry *e = c->head;
        c->head = e->next;
        entry_free(e);
    }
    free(c);
}

void gw_wagi_cache_begin(gw_wagi_cache *c)
{
    for (entry *e = c->head; e; e = e->next)
        e->pending = false;
}

void gw_wagi_cache_commit(gw_wagi_cache *c)
{
    prune(c, true);
}

void gw_wagi_cache_abort(gw_wagi_cache *c)
{
    prune(c, false);
}

uint64_t gw_wagi_cache_compiles(const gw_wagi_cache *c)
{
    return c ? c->compiles : 0;
}

uint64_t gw_wagi_cache_hits(const gw_wagi_cache *c)
{
    return c ? c->hits : 0;
}

/* ---- the key ---------------------------------------------------------------- */

static void put_field(ut_buf *k, const void *p, size_t n)
{
    ut_buf_put_u64(k, n); /* length-prefixed: no two field lists collide */
    ut_buf_putc(k, ':');
    if (n)
        ut_buf_append(k, p, n);
}

static void put_str(ut_buf *k, const char *s)
{
    if (!s) {
        ut_buf_puts(k, "-;");
        return;
    }
    put_field(k, s, strlen(s));
}

static void put_num(ut_buf *k, uint64_t v)
{
    ut_buf_put_u64(k, v);
    ut_buf_putc(k, ';');
}

static bool sha256(const uint8_t *p, size_t n, unsigned char md[32])
{
    unsigned int len = 0;
    return EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) == 1 && len == 32;
}

/* Reads the module file (bounded) with its stat. */
static uint8_t *read_module(const char *path, size_t *len, struct stat *st, char *err,
                            size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, st) != 0) {
        snprintf(err, err_len, "cannot open %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!S_ISREG(st->st_mode) || (uint64_t)st->st_size > MAX_MODULE_BYTES) {
        snprintf(err, err_len, "%s: %s", path,
                 S_ISREG(st->st_mode) ? "larger than 1 GiB" : "not a regular file");
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st->st_size, n = 0;
    uint8_t *b = malloc(cap ? cap : 1);
    while (b && n < cap) {
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (!b || n != cap) {
        snprintf(err, err_len, "cannot read %s: %s", path, b ? "short read" : "out of memory");
        free(b);
        return NULL;
    }
    *len = n;
    return b;
}

wagi_handler *gw_wagi_cache_get(gw_wagi_cache *c, const wagi_handler_conf *conf, char *err,
                                size_t err_len)
{
    struct stat st;
    size_t len = 0;
    uint8_t *bytes = read_module(conf->module_path, &len, &st, err, err_len);
    if (!bytes)
        return NULL;
    unsigned char md[32];
    ut_buf k = {0};
    if (!sha256(bytes, len, md)) {
        snprintf(err, err_len, "%s: SHA-256 failed", conf->module_path);
        free(bytes);
        return NULL;
    }
    put_str(&k, conf->module_path);
    put_num(&k, (uint64_t)st.st_size);
    put_num(&k, (uint64_t)st.st_mtim.tv_sec);
    put_num(&k, (uint64_t)st.st_mtim.tv_nsec);
    put_num(&k, (uint64_t)st.st_dev);
    put_num(&k, (uint64_t)st.st_ino);
    put_field(&k, md, sizeof md);
    put_str(&k, conf->route);
    put_str(&k, conf->entrypoint);
    put_str(&k, conf->argv);
    put_str(&k, conf->init);
    put_num(&k, conf->n_env);
    for (size_t i = 0; i < conf->n_env; i++) {
        put_str(&k, conf->env[i].name);
        put_str(&k, conf->env[i].value);
    }
    put_num(&k, conf->n_volumes);
    for (size_t i = 0; i < conf->n_volumes; i++) {
        put_str(&k, conf->volumes[i].name);
        put_str(&k, conf->volumes[i].value);
    }
    put_num(&k, conf->timeout_ms);
    put_num(&k, conf->max_memory_pages);
    put_num(&k, conf->max_output_bytes);
    put_num(&k, conf->max_concurrency);
    put_num(&k, (uint64_t)conf->runtime);
    put_str(&k, conf->aot_cache);
    put_field(&k, &conf->log, sizeof conf->log);
    put_field(&k, &conf->log_user, sizeof conf->log_user);
    if (k.oom) {
        snprintf(err, err_len, "out of memory");
        free(bytes);
        ut_buf_free(&k);
        return NULL;
    }
    for (entry *e = c->head; e; e = e->next) {
        if (e->key.len == k.len && !memcmp(e->key.data, k.data, k.len)) {
            free(bytes);
            ut_buf_free(&k);
            e->pending = true;
            c->hits++;
            return wagi_handler_ref(e->h);
        }
    }
    wagi_handler_conf hc = *conf;
    hc.module_bytes = bytes;
    hc.module_len = len;
    c->compiles++;
    wagi_handler *h = wagi_handler_new(c->engine, &hc, err, err_len);
    free(bytes);
    entry *e = h ? calloc(1, sizeof *e) : NULL;
    if (!e) {
        if (h)
            snprintf(err, err_len, "out of memory");
        wagi_handler_free(h);
        ut_buf_free(&k);
        return NULL;
    }
    e->key = k;
    e->h = h;
    e->pending = true;
    e->routes_rc = -2;
    e->next = c->head;
    c->head = e;
    return wagi_handler_ref(h);
}

int gw_wagi_cache_routes(gw_wagi_cache *c, const wagi_handler *h, const char **out,
                         size_t *out_len, char *err, size_t err_len)
{
    entry *e = c->head;
    while (e && e->h != h)
        e = e->next;
    if (!e) {
        snprintf(err, err_len, "handler not in the cache");
        return -1;
    }
    if (e->routes_rc == -2)
        e->routes_rc = wagi_handler_routes(e->h, &e->routes, &e->routes_len, e->routes_err,
                                           sizeof e->routes_err);
    if (e->routes_rc < 0)
        snprintf(err, err_len, "%s", e->routes_err);
    *out = e->routes;
    *out_len = e->routes_len;
    return e->routes_rc;
}

void gw_wagi_log_runtime(const char *name, const wagi_handler_conf *conf, const wagi_handler *h)
{
    if (conf->runtime != SL_RUNTIME_INTERP)
        gw_log("info", "wagi %s: runtime %s (%s)", name, sl_runtime_name(conf->runtime),
               wagi_handler_native(h) ? "native"
                                      : "interpreting; compiling in the background");
}
