/*
 * wasi_ctx.c — the WASI context: argv/environ blobs, stdio setup,
 * preopened directories and the fd table; and wasi_link, which registers
 * every function of the layer on a linker.
 *
 * Layer:     WASI host layer. Public API in wasi.h; the fd-table helpers
 *            (wasi__fd_*) serve wasi_fd.c, wasi_path.c and wasi_misc.c.
 * Invariant: fds[i].kind == WASI_FD_FREE for every closed slot; an open
 *            entry's host fd is owned unless the kind is HOST_STDIO.
 * Ownership: the context owns copies of everything in wasi_config and every
 *            host fd it opened; wasi_ctx_free releases them all.
 * Not here:  the functions themselves (wasi_fd.c, wasi_path.c, wasi_misc.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "wasi_int.h"

/* Copies n strings into one NUL-separated blob plus an offset table. */
static int pack_strings(int n, const char *const *v, char **buf, uint32_t *len, uint32_t **off)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (!v || !v[i])
            return EINVAL;
        total += strlen(v[i]) + 1;
        if (total > UINT32_MAX / 2)
            return E2BIG;
    }
    *buf = malloc(total ? total : 1);
    *off = malloc(n ? (size_t)n * sizeof **off : 1);
    if (!*buf || !*off)
        return ENOMEM;
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(v[i]) + 1;
        memcpy(*buf + k, v[i], l);
        (*off)[i] = (uint32_t)k;
        k += l;
    }
    *len = (uint32_t)total;
    return 0;
}

static void setup_stdio(wasi_ctx *ctx, const wasi_config *cfg, int i)
{
    struct wasi_fd *e = &ctx->fds[i];
    e->stdio = (uint8_t)i;
    e->host = -1;
    /* Never a TTY-looking char device and never seekable (docs §3.6): the
     * guest's libc then buffers stdout fully and seeks fail with ESPIPE. */
    e->filetype = WASI_FT_UNKNOWN;
    e->rights_base = (i == 0 ? WASI_R_FD_READ : WASI_R_FD_WRITE) | WASI_R_FD_FDSTAT_SET_FLAGS |
                     WASI_R_FD_FILESTAT_GET | WASI_R_POLL_FD_READWRITE | WASI_R_FD_SYNC |
                     WASI_R_FD_DATASYNC;
    if (i == 0 && cfg->stdin_from_buf)
        e->kind = WASI_FD_STDIN_BUF;
    else if (i > 0 && ctx->sink[i])
        e->kind = WASI_FD_SINK;
    else {
        e->kind = WASI_FD_HOST_STDIO;
        e->host = i;
    }
}

wasi_ctx *wasi_ctx_new(const wasi_config *cfg)
{
    static const wasi_config none = {0};
    if (!cfg)
        cfg = &none;
    int err = EINVAL;
    if (cfg->argc < 0 || cfg->envc < 0 || cfg->n_preopens < 0 ||
        cfg->n_preopens > WASI_MAX_FDS - 3 ||
        (cfg->n_preopens && (!cfg->preopen_host || !cfg->preopen_guest)) ||
        (cfg->stdin_from_buf && cfg->stdin_len && !cfg->stdin_buf)) {
        errno = EINVAL;
        return NULL;
    }
    wasi_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        errno = ENOMEM;
        return NULL;
    }
    if ((err = pack_strings(cfg->argc, cfg->argv, &ctx->args_buf, &ctx->args_len,
                            &ctx->args_off)))
        goto fail;
    ctx->argc = (uint32_t)cfg->argc;
    if ((err = pack_strings(cfg->envc, cfg->envp, &ctx->env_buf, &ctx->env_len, &ctx->env_off)))
        goto fail;
    ctx->envc = (uint32_t)cfg->envc;

    if (cfg->stdin_from_buf && cfg->stdin_len) {
        ctx->stdin_buf = malloc(cfg->stdin_len);
        if (!ctx->stdin_buf) {
            err = ENOMEM;
            goto fail;
        }
        memcpy(ctx->stdin_buf, cfg->stdin_buf, cfg->stdin_len);
        ctx->stdin_len = cfg->stdin_len;
    }
    ctx->sink[1] = cfg->stdout_sink;
    ctx->sink[2] = cfg->stderr_sink;
    ctx->sink_user = cfg->sink_user;

    ctx->n_fds = 3 + (uint32_t)cfg->n_preopens;
    ctx->fds = calloc(ctx->n_fds, sizeof *ctx->fds);
    if (!ctx->fds) {
        err = ENOMEM;
        goto fail;
    }
    for (uint32_t i = 0; i < ctx->n_fds; i++)
        ctx->fds[i].host = -1;
    for (int i = 0; i < 3; i++)
        setup_stdio(ctx, cfg, i);

    for (int i = 0; i < cfg->n_preopens; i++) {
        struct wasi_fd *e = &ctx->fds[3 + i];
        const char *host = cfg->preopen_host[i], *guest = cfg->preopen_guest[i];
        if (!host || !guest) {
            err = EINVAL;
            goto fail;
        }
        e->preopen = strdup(guest);
        if (!e->preopen) {
            err = ENOMEM;
            goto fail;
        }
        e->preopen_len = (uint32_t)strlen(guest);
        e->host = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (e->host < 0) {
            err = errno;
            goto fail;
        }
        e->kind = WASI_FD_DIR;
        e->filetype = WASI_FT_DIRECTORY;
        e->rights_base = WASI_R_DIR;
        e->rights_inheriting = WASI_R_FILE | WASI_R_DIR;
    }
    return ctx;

fail:
    wasi_ctx_free(ctx);
    errno = err;
    return NULL;
}

void wasi_ctx_free(wasi_ctx *ctx)
{
    if (!ctx)
        return;
    for (uint32_t i = 0; ctx->fds && i < ctx->n_fds; i++)
        wasi__fd_release(&ctx->fds[i]);
    free(ctx->fds);
    free(ctx->args_buf);
    free(ctx->args_off);
    free(ctx->env_buf);
    free(ctx->env_off);
    free(ctx->stdin_buf);
    free(ctx);
}

/* ---- fd table ------------------------------------------------------------------ */

struct wasi_fd *wasi__fd_get(wasi_ctx *ctx, uint32_t fd)
{
    if (fd >= ctx->n_fds || ctx->fds[fd].kind == WASI_FD_FREE)
        return NULL;
    return &ctx->fds[fd];
}

int wasi__fd_alloc(wasi_ctx *ctx, uint32_t *out)
{
    uint32_t i = 0;
    while (i < ctx->n_fds && ctx->fds[i].kind != WASI_FD_FREE)
        i++;
    if (i == ctx->n_fds) {
        if (ctx->n_fds >= WASI_MAX_FDS)
            return WASI_EMFILE;
        uint32_t n = ctx->n_fds < 8 ? 16 : ctx->n_fds * 2;
        if (n > WASI_MAX_FDS)
            n = WASI_MAX_FDS;
        struct wasi_fd *f = realloc(ctx->fds, n * sizeof *f);
        if (!f)
            return WASI_ENOMEM;
        memset(f + ctx->n_fds, 0, (n - ctx->n_fds) * sizeof *f);
        for (uint32_t k = ctx->n_fds; k < n; k++)
            f[k].host = -1;
        ctx->fds = f;
        ctx->n_fds = n;
    }
    memset(&ctx->fds[i], 0, sizeof ctx->fds[i]);
    ctx->fds[i].host = -1;
    *out = i;
    return 0;
}

void wasi__fd_release(struct wasi_fd *e)
{
    if (e->dir)
        closedir(e->dir);
    if ((e->kind == WASI_FD_FILE || e->kind == WASI_FD_DIR) && e->host >= 0)
        close(e->host);
    free(e->preopen);
    memset(e, 0, sizeof *e);
    e->host = -1;
}

/* ---- linking ---------------------------------------------------------------------- */

sl_trap *wasi__no_ctx_trap(void)
{
    return sl_trap_new(SL_TRAP_HOST, "wasi: the calling instance has no wasi_ctx "
                                     "(wasi_link(l, NULL) needs sl_instance_config.user_data)");
}

sl_err wasi_link(sl_linker *l, wasi_ctx *ctx)
{
    static const wasi__def *const tables[] = {wasi__fd_defs, wasi__path_defs, wasi__misc_defs};
    if (!l)
        return SL_ERR_ARG;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        for (const wasi__def *d = tables[t]; d->name; d++) {
            sl_err err = sl_linker_define_func(l, "wasi_snapshot_preview1", d->name, d->sig,
                                               d->fn, ctx);
            if (!err)
                err = sl_linker_define_func(l, "wasi_unstable", d->name, d->sig,
                                            d->fn0 ? d->fn0 : d->fn, ctx);
            if (err)
                return err;
        }
    }
    return SL_OK;
}
