/*
 * wasi_misc.c — the WASI preview1 functions that are not about fds or
 * paths (15 of the 46): args_*, environ_*, clock_*, random_get,
 * poll_oneoff, proc_exit, proc_raise, sched_yield, sock_*.
 *
 * Layer:     WASI host layer; guest memory only via sl_mem_slice.
 * Real:      args/environ (from the context's blobs), the four clocks
 *            (clock_gettime), random_get (getrandom, /dev/urandom if the
 *            syscall is missing), poll_oneoff (clock subscriptions sleep
 *            with ppoll's ns timeout; fd subscriptions on host stdio are
 *            really polled, every other fd is reported ready at once),
 *            proc_exit (returns sl_trap_exit(code): the engine unwinds),
 *            sched_yield.
 * Not real:  proc_raise → ENOSYS. sock_* → EBADF for a closed fd, else
 *            ENOTSUP (a context never holds sockets).
 * Blocking:  poll_oneoff sleeps in the host; sl_instance_interrupt cannot
 *            cut a sleep short (the embedder's timeout fires after it). It
 *            takes at most 65536 subscriptions per call (else EINVAL).
 * wasi_unstable: poll_oneoff has a preview0 variant (56-byte subscription
 *            whose clock record starts with an extra u64 identifier).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "wasi_int.h"

/* ---- args, environ ---------------------------------------------------------- */

static int sizes_get(sl_instance *inst, const sl_val *a, uint32_t count, uint32_t len)
{
    uint8_t *c, *l;
    if (!sl_mem_slice(inst, wasi__u32(a[0]), 4, &c) || !sl_mem_slice(inst, wasi__u32(a[1]), 4, &l))
        return WASI_EFAULT;
    wasi__st32(c, count);
    wasi__st32(l, len);
    return 0;
}

/* Writes count pointers at a[0] into the copy of blob placed at a[1]. */
static int strings_get(sl_instance *inst, const sl_val *a, const char *blob, uint32_t len,
                       const uint32_t *off, uint32_t count)
{
    uint32_t ptrs = wasi__u32(a[0]), buf = wasi__u32(a[1]);
    uint8_t *p, *b;
    if (!sl_mem_slice(inst, ptrs, (uint64_t)count * 4, &p) || !sl_mem_slice(inst, buf, len, &b))
        return WASI_EFAULT;
    memcpy(b, blob, len);
    for (uint32_t i = 0; i < count; i++)
        wasi__st32(p + 4 * i, buf + off[i]); /* fits: buf + len is in memory */
    return 0;
}

static int args_sizes_get(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return sizes_get(inst, a, ctx->argc, ctx->args_len);
}
static int args_get(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return strings_get(inst, a, ctx->args_buf, ctx->args_len, ctx->args_off, ctx->argc);
}
static int environ_sizes_get(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return sizes_get(inst, a, ctx->envc, ctx->env_len);
}
static int environ_get(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return strings_get(inst, a, ctx->env_buf, ctx->env_len, ctx->env_off, ctx->envc);
}

/* ---- clocks ------------------------------------------------------------------- */

static bool host_clock(uint32_t id, clockid_t *out)
{
    switch (id) {
    case WASI_CLOCK_REALTIME: *out = CLOCK_REALTIME; return true;
    case WASI_CLOCK_MONOTONIC: *out = CLOCK_MONOTONIC; return true;
    case WASI_CLOCK_PROCESS_CPUTIME: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case WASI_CLOCK_THREAD_CPUTIME: *out = CLOCK_THREAD_CPUTIME_ID; return true;
    default: return false;
    }
}

static uint64_t ns_of(struct timespec t)
{
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int clock_res_get(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    uint8_t *out;
    clockid_t id;
    struct timespec t;
    if (!sl_mem_slice(inst, wasi__u32(a[1]), 8, &out))
        return WASI_EFAULT;
    if (!host_clock(wasi__u32(a[0]), &id))
        return WASI_EINVAL;
    if (clock_getres(id, &t) < 0)
        return wasi__errno(errno);
    wasi__st64(out, ns_of(t));
    return 0;
}

static int clock_time_get(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    uint8_t *out;
    clockid_t id;
    struct timespec t;
    if (!sl_mem_slice(inst, wasi__u32(a[2]), 8, &out))
        return WASI_EFAULT;
    if (!host_clock(wasi__u32(a[0]), &id))
        return WASI_EINVAL;
    if (clock_gettime(id, &t) < 0)
        return wasi__errno(errno);
    wasi__st64(out, ns_of(t));
    return 0;
}

/* ---- random --------------------------------------------------------------------- */

static int urandom(uint8_t *p, size_t n)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return wasi__errno(errno);
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            int err = r < 0 ? wasi__errno(errno) : WASI_EIO;
            close(fd);
            return err;
        }
        p += r;
        n -= (size_t)r;
    }
    close(fd);
    return 0;
}

static int random_get(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    uint32_t len = wasi__u32(a[1]);
    uint8_t *p;
    if (!sl_mem_slice(inst, wasi__u32(a[0]), len, &p))
        return WASI_EFAULT;
    size_t n = len;
    while (n) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOSYS || errno == EPERM)
                return urandom(p, n);
            return wasi__errno(errno);
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* ---- poll_oneoff ------------------------------------------------------------------- */

#define MAX_SUBSCRIPTIONS 65536

struct sub {
    uint64_t userdata;
    uint8_t type;      /* WASI_EVENT_* */
    uint16_t error;    /* nonzero: report at once with this errno */
    bool ready;
    uint16_t flags;    /* event fd_readwrite flags (HANGUP) */
    uint64_t nbytes;
    clockid_t clock;   /* clock subscriptions: deadline on this clock */
    uint64_t deadline;
    int pollidx;       /* index into pollfds, or -1 */
};

static uint64_t now_on(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return ns_of(t);
}

/* Parses one subscription; preview0 clock records carry an extra leading
 * u64 "identifier". */
static void sub_parse(wasi_ctx *ctx, const uint8_t *s, bool preview0, struct sub *out,
                      struct pollfd *pfds, int *n_pfds)
{
    memset(out, 0, sizeof *out);
    out->pollidx = -1;
    out->userdata = wasi__ld64(s);
    out->type = s[8];
    const uint8_t *u = s + 16;
    if (out->type == WASI_EVENT_CLOCK) {
        if (preview0)
            u += 8;
        uint32_t id = wasi__ld32(u);
        uint64_t timeout = wasi__ld64(u + 8);
        uint16_t flags = wasi__ld16(u + 24);
        clockid_t c;
        if (!host_clock(id, &c) || c == CLOCK_PROCESS_CPUTIME_ID || c == CLOCK_THREAD_CPUTIME_ID) {
            out->error = WASI_EINVAL; /* only realtime and monotonic can be slept on */
            return;
        }
        out->clock = c;
        if (flags & WASI_SUBCLOCK_ABSTIME) {
            out->deadline = timeout;
        } else {
            uint64_t now = now_on(c);
            out->deadline = timeout > UINT64_MAX - now ? UINT64_MAX : now + timeout;
        }
        return;
    }
    if (out->type != WASI_EVENT_FD_READ && out->type != WASI_EVENT_FD_WRITE) {
        out->error = WASI_EINVAL;
        return;
    }
    struct wasi_fd *e = wasi__fd_get(ctx, wasi__ld32(u));
    if (!e) {
        out->error = WASI_EBADF;
        return;
    }
    bool rd = out->type == WASI_EVENT_FD_READ;
    switch (e->kind) {
    case WASI_FD_STDIN_BUF:
        if (!rd) {
            out->error = WASI_EBADF;
            return;
        }
        out->nbytes = ctx->stdin_len - ctx->stdin_pos;
        out->ready = true;
        return;
    case WASI_FD_SINK:
        if (rd) {
            out->error = WASI_EBADF;
            return;
        }
        out->ready = true;
        return;
    case WASI_FD_HOST_STDIO:
        out->pollidx = (*n_pfds)++;
        pfds[out->pollidx].fd = e->host;
        pfds[out->pollidx].events = rd ? POLLIN : POLLOUT;
        pfds[out->pollidx].revents = 0;
        return;
    default: { /* files and directories are always ready */
        struct stat st;
        if (rd && e->kind == WASI_FD_FILE && fstat(e->host, &st) == 0) {
            off_t pos = lseek(e->host, 0, SEEK_CUR);
            if (pos >= 0 && st.st_size > pos)
                out->nbytes = (uint64_t)(st.st_size - pos);
        }
        out->ready = true;
        return;
    }
    }
}

static int poll_impl(wasi_ctx *ctx, sl_instance *inst, const sl_val *a, bool preview0)
{
    uint32_t n = wasi__u32(a[2]);
    size_t sub_size = preview0 ? WASI_SUB0_SIZE : WASI_SUB_SIZE;
    uint8_t *in, *out, *nout;
    if (!sl_mem_slice(inst, wasi__u32(a[3]), 4, &nout) ||
        !sl_mem_slice(inst, wasi__u32(a[0]), (uint64_t)n * sub_size, &in) ||
        !sl_mem_slice(inst, wasi__u32(a[1]), (uint64_t)n * WASI_EVENT_SIZE, &out))
        return WASI_EFAULT;
    /* Zero subscriptions would wait forever; a huge count would make the
     * host allocate in proportion to guest memory. */
    if (n == 0 || n > MAX_SUBSCRIPTIONS)
        return WASI_EINVAL;
    struct sub *subs = malloc(n * sizeof *subs);
    struct pollfd *pfds = malloc(n * sizeof *pfds);
    if (!subs || !pfds) {
        free(subs);
        free(pfds);
        return WASI_ENOMEM;
    }
    int n_pfds = 0;
    for (uint32_t i = 0; i < n; i++)
        sub_parse(ctx, in + i * sub_size, preview0, &subs[i], pfds, &n_pfds);

    int err = 0;
    uint32_t n_events = 0;
    for (;;) {
        bool any = false, has_clock = false;
        uint64_t wait = UINT64_MAX; /* ns */
        for (uint32_t i = 0; i < n; i++) {
            struct sub *s = &subs[i];
            if (s->error || s->ready) {
                any = true;
            } else if (s->type == WASI_EVENT_CLOCK) {
                uint64_t now = now_on(s->clock);
                uint64_t left = s->deadline > now ? s->deadline - now : 0;
                has_clock = true;
                if (left == 0)
                    s->ready = any = true;
                if (left < wait)
                    wait = left;
            }
        }
        struct timespec ts = {0, 0}, *tp = &ts;
        if (!any) {
            if (!has_clock)
                tp = NULL; /* only host fds: wait for them */
            else {
                ts.tv_sec = (time_t)(wait / 1000000000u);
                ts.tv_nsec = (long)(wait % 1000000000u);
            }
        }
        if (n_pfds || tp != &ts || ts.tv_sec || ts.tv_nsec) {
            int r = ppoll(pfds, (nfds_t)n_pfds, tp, NULL);
            if (r < 0 && errno != EINTR) {
                err = wasi__errno(errno);
                break;
            }
        }
        for (uint32_t i = 0; i < n; i++) {
            struct sub *s = &subs[i];
            if (s->pollidx >= 0 && !s->error && !s->ready) {
                short re = pfds[s->pollidx].revents;
                if (re & POLLNVAL)
                    s->error = WASI_EBADF;
                else if (re & (POLLIN | POLLOUT | POLLHUP | POLLERR)) {
                    s->ready = true;
                    if (re & POLLHUP)
                        s->flags |= WASI_EVENT_FD_HANGUP;
                    int avail;
                    if (s->type == WASI_EVENT_FD_READ &&
                        ioctl(pfds[s->pollidx].fd, FIONREAD, &avail) == 0 && avail > 0)
                        s->nbytes = (uint64_t)avail;
                }
            } else if (s->type == WASI_EVENT_CLOCK && !s->error && !s->ready &&
                       now_on(s->clock) >= s->deadline) {
                s->ready = true;
            }
        }
        for (uint32_t i = 0; i < n; i++) {
            struct sub *s = &subs[i];
            if (!s->error && !s->ready)
                continue;
            uint8_t *ev = out + n_events++ * WASI_EVENT_SIZE;
            memset(ev, 0, WASI_EVENT_SIZE);
            wasi__st64(ev, s->userdata);
            wasi__st16(ev + 8, s->error);
            ev[10] = s->type;
            if (s->type != WASI_EVENT_CLOCK) {
                wasi__st64(ev + 16, s->nbytes);
                wasi__st16(ev + 24, s->flags);
            }
        }
        if (n_events)
            break;
    }
    free(subs);
    free(pfds);
    if (!err)
        wasi__st32(nout, n_events);
    return err;
}

static int poll_oneoff(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return poll_impl(ctx, inst, a, false);
}
static int poll_oneoff0(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return poll_impl(ctx, inst, a, true);
}

/* ---- proc, sched, sock -------------------------------------------------------------- */

static sl_trap *h_proc_exit(sl_instance *caller, sl_val *args, void *user)
{
    /* No context needed: the engine unwinds and the embedder reads the code
     * with sl_trap_exit_code. */
    return sl_trap_exit(args[0].i32);
}

static int proc_raise(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return WASI_ENOSYS;
}

static int sched_yield_(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    sched_yield();
    return 0;
}

static int sock_any(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return wasi__fd_get(ctx, wasi__u32(a[0])) ? WASI_ENOTSUP : WASI_EBADF;
}

WASI_HANDLER(args_get)
WASI_HANDLER(args_sizes_get)
WASI_HANDLER(environ_get)
WASI_HANDLER(environ_sizes_get)
WASI_HANDLER(clock_res_get)
WASI_HANDLER(clock_time_get)
WASI_HANDLER(random_get)
WASI_HANDLER(poll_oneoff)
WASI_HANDLER(poll_oneoff0)
WASI_HANDLER(proc_raise)
WASI_HANDLER(sched_yield_)
WASI_HANDLER(sock_any)

const wasi__def wasi__misc_defs[] = {
    {"args_get", "ii:i", h_args_get, NULL},
    {"args_sizes_get", "ii:i", h_args_sizes_get, NULL},
    {"environ_get", "ii:i", h_environ_get, NULL},
    {"environ_sizes_get", "ii:i", h_environ_sizes_get, NULL},
    {"clock_res_get", "ii:i", h_clock_res_get, NULL},
    {"clock_time_get", "iIi:i", h_clock_time_get, NULL},
    {"poll_oneoff", "iiii:i", h_poll_oneoff, h_poll_oneoff0},
    {"proc_exit", "i:", h_proc_exit, NULL},
    {"proc_raise", "i:i", h_proc_raise, NULL},
    {"sched_yield", ":i", h_sched_yield_, NULL},
    {"random_get", "ii:i", h_random_get, NULL},
    {"sock_accept", "iii:i", h_sock_any, NULL},
    {"sock_recv", "iiiiii:i", h_sock_any, NULL},
    {"sock_send", "iiiii:i", h_sock_any, NULL},
    {"sock_shutdown", "ii:i", h_sock_any, NULL},
    {NULL, NULL, NULL, NULL},
};
