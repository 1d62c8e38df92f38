/*
 * wasi_fd.c — the fd_* functions of WASI preview1 (21 of the 46): I/O,
 * seeking, fd metadata, preopen discovery, directory listing, renumbering.
 *
 * Layer:     WASI host layer. Reaches guest memory only via sl_mem_slice;
 *            uses the fd table of wasi_ctx.c.
 * stdio:     fds of kind HOST_STDIO / STDIN_BUF / SINK are streams: seek,
 *            tell, pread, pwrite and advise give ESPIPE; stdin from a
 *            buffer reads to EOF (0 bytes) and never blocks; a sink gets
 *            one call per non-empty iovec and -1 from it means EPIPE.
 * Rights:    reported by fd_fdstat_get but not enforced beyond the host
 *            open mode (the kernel refuses writes to a read-only fd) — the
 *            same as current Wasmtime. The sandbox does not rely on rights.
 * wasi_unstable: fd_seek (whence order cur, end, set) and fd_filestat_get
 *            (56-byte filestat with u32 nlink) have preview0 variants.
 * Not here:  path_* (wasi_path.c), poll_oneoff and sockets (wasi_misc.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi_int.h"

static bool is_stream(const struct wasi_fd *e)
{
    return e->kind == WASI_FD_HOST_STDIO || e->kind == WASI_FD_STDIN_BUF ||
           e->kind == WASI_FD_SINK;
}

static bool has_host_fd(const struct wasi_fd *e)
{
    return e->kind == WASI_FD_FILE || e->kind == WASI_FD_DIR || e->kind == WASI_FD_HOST_STDIO;
}

/* ---- iovecs ------------------------------------------------------------------ */

#define IOV_STACK 16

struct iov_list {
    struct iovec *v;
    size_t n;
    struct iovec stack[IOV_STACK];
};

/* Checks and collects the guest's iovec array (at most IOV_MAX entries: a
 * longer list just gives a short read or write, which callers allow).
 * Empty buffers are skipped without looking at their pointer. */
static int iov_gather(sl_instance *inst, uint32_t iovs, uint32_t n_iovs, struct iov_list *l)
{
    l->v = l->stack;
    l->n = 0;
    if (n_iovs > IOV_MAX)
        n_iovs = IOV_MAX;
    uint8_t *arr;
    if (!sl_mem_slice(inst, iovs, (uint64_t)n_iovs * 8, &arr))
        return WASI_EFAULT;
    if (n_iovs > IOV_STACK) {
        l->v = malloc(n_iovs * sizeof *l->v);
        if (!l->v)
            return WASI_ENOMEM;
    }
    for (uint32_t i = 0; i < n_iovs; i++) {
        uint32_t buf = wasi__ld32(arr + 8 * i), len = wasi__ld32(arr + 8 * i + 4);
        uint8_t *p;
        if (len == 0)
            continue;
        if (!sl_mem_slice(inst, buf, len, &p)) {
            if (l->v != l->stack)
                free(l->v);
            return WASI_EFAULT;
        }
        l->v[l->n].iov_base = p;
        l->v[l->n].iov_len = len;
        l->n++;
    }
    return 0;
}

static void iov_free(struct iov_list *l)
{
    if (l->v != l->stack)
        free(l->v);
}

/* ---- read / write ---------------------------------------------------------------- */

static int do_read(wasi_ctx *ctx, struct wasi_fd *e, struct iov_list *l, bool positioned,
                   uint64_t offset, size_t *done)
{
    *done = 0;
    if (e->kind == WASI_FD_STDIN_BUF) {
        if (positioned)
            return WASI_ESPIPE;
        for (size_t i = 0; i < l->n && ctx->stdin_pos < ctx->stdin_len; i++) {
            size_t n = ctx->stdin_len - ctx->stdin_pos;
            if (n > l->v[i].iov_len)
                n = l->v[i].iov_len;
            memcpy(l->v[i].iov_base, ctx->stdin_buf + ctx->stdin_pos, n);
            ctx->stdin_pos += n;
            *done += n;
        }
        return 0;
    }
    if (e->kind == WASI_FD_SINK || (e->kind == WASI_FD_HOST_STDIO && e->stdio != 0))
        return WASI_EBADF;
    if (positioned && is_stream(e))
        return WASI_ESPIPE;
    if (l->n == 0)
        return 0;
    ssize_t n;
    do {
        n = positioned ? preadv(e->host, l->v, (int)l->n, (off_t)offset)
                       : readv(e->host, l->v, (int)l->n);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return wasi__errno(errno);
    *done = (size_t)n;
    return 0;
}

static int do_write(wasi_ctx *ctx, struct wasi_fd *e, struct iov_list *l, bool positioned,
                    uint64_t offset, size_t *done)
{
    *done = 0;
    if (e->kind == WASI_FD_SINK) {
        if (positioned)
            return WASI_ESPIPE;
        for (size_t i = 0; i < l->n; i++) {
            if (ctx->sink[e->stdio](ctx->sink_user, l->v[i].iov_base, l->v[i].iov_len) != 0)
                return *done ? 0 : WASI_EPIPE;
            *done += l->v[i].iov_len;
        }
        return 0;
    }
    if (e->kind == WASI_FD_STDIN_BUF || (e->kind == WASI_FD_HOST_STDIO && e->stdio == 0))
        return WASI_EBADF;
    if (positioned && is_stream(e))
        return WASI_ESPIPE;
    if (l->n == 0)
        return 0;
    ssize_t n;
    do {
        n = positioned ? pwritev(e->host, l->v, (int)l->n, (off_t)offset)
                       : writev(e->host, l->v, (int)l->n);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return wasi__errno(errno);
    *done = (size_t)n;
    return 0;
}

/* fd_read, fd_write, fd_pread, fd_pwrite share one shape: (fd, iovs,
 * iovs_len, [offset,] r:size). */
static int rw(wasi_ctx *ctx, sl_instance *inst, const sl_val *a, bool write, bool positioned)
{
    struct wasi_fd *e = wasi__fd_get(ctx, wasi__u32(a[0]));
    uint64_t offset = positioned ? (uint64_t)a[3].i64 : 0;
    uint32_t out_ptr = wasi__u32(a[positioned ? 4 : 3]);
    uint8_t *out;
    if (!sl_mem_slice(inst, out_ptr, 4, &out))
        return WASI_EFAULT;
    if (!e)
        return WASI_EBADF;
    if (positioned && offset > INT64_MAX)
        return WASI_EINVAL;
    struct iov_list l;
    int err = iov_gather(inst, wasi__u32(a[1]), wasi__u32(a[2]), &l);
    if (err)
        return err;
    size_t done;
    err = write ? do_write(ctx, e, &l, positioned, offset, &done)
                : do_read(ctx, e, &l, positioned, offset, &done);
    iov_free(&l);
    if (!err)
        wasi__st32(out, (uint32_t)done);
    return err;
}

static int fd_read(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return rw(ctx, inst, a, false, false);
}
static int fd_write(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return rw(ctx, inst, a, true, false);
}
static int fd_pread(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return rw(ctx, inst, a, false, true);
}
static int fd_pwrite(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return rw(ctx, inst, a, true, true);
}

/* ---- seek / tell ----------------------------------------------------------------- */

static int seek(wasi_ctx *ctx, sl_instance *inst, uint32_t fd, int64_t off, int whence,
                uint32_t out_ptr)
{
    uint8_t *out;
    if (!sl_mem_slice(inst, out_ptr, 8, &out))
        return WASI_EFAULT;
    struct wasi_fd *e = wasi__fd_get(ctx, fd);
    if (!e)
        return WASI_EBADF;
    if (is_stream(e))
        return WASI_ESPIPE;
    if (e->kind == WASI_FD_DIR)
        return WASI_EBADF;
    int w = whence == WASI_WHENCE_SET ? SEEK_SET
          : whence == WASI_WHENCE_CUR ? SEEK_CUR
          : whence == WASI_WHENCE_END ? SEEK_END : -1;
    if (w < 0)
        return WASI_EINVAL;
    off_t r = lseek(e->host, (off_t)off, w);
    if (r < 0)
        return wasi__errno(errno);
    wasi__st64(out, (uint64_t)r);
    return 0;
}

static int fd_seek(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return seek(ctx, inst, wasi__u32(a[0]), a[1].i64, a[2].i32 & 0xff, wasi__u32(a[3]));
}

/* wasi_unstable numbers whence cur 0, end 1, set 2. */
static int fd_seek0(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    static const int map[3] = {WASI_WHENCE_CUR, WASI_WHENCE_END, WASI_WHENCE_SET};
    uint32_t w = (uint32_t)a[2].i32 & 0xff;
    return seek(ctx, inst, wasi__u32(a[0]), a[1].i64, w < 3 ? map[w] : -1, wasi__u32(a[3]));
}

static int fd_tell(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return seek(ctx, inst, wasi__u32(a[0]), 0, WASI_WHENCE_CUR, wasi__u32(a[1]));
}

/* ---- close, renumber, sync --------------------------------------------------------- */

static int fd_close(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    struct wasi_fd *e = wasi__fd_get(ctx, wasi__u32(a[0]));
    if (!e)
        return WASI_EBADF;
    wasi__fd_release(e); /* never closes the host's own stdio */
    return 0;
}

static int fd_renumber(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    uint32_t from = wasi__u32(a[0]), to = wasi__u32(a[1]);
    struct wasi_fd *f = wasi__fd_get(ctx, from), *t = wasi__fd_get(ctx, to);
    if (!f || !t)
        return WASI_EBADF;
    if (from == to)
        return 0;
    wasi__fd_release(t);
    *t = *f;
    memset(f, 0, sizeof *f); /* ownership moved: do not release */
    f->host = -1;
    return 0;
}

static int sync_fd(wasi_ctx *ctx, uint32_t fd, bool data_only)
{
    struct wasi_fd *e = wasi__fd_get(ctx, fd);
    if (!e)
        return WASI_EBADF;
    if (!has_host_fd(e))
        return 0; /* a buffer or sink has nothing to flush */
    if ((data_only ? fdatasync(e->host) : fsync(e->host)) < 0)
        return wasi__errno(errno);
    return 0;
}

static int fd_sync(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return sync_fd(ctx, wasi__u32(a[0]), false);
}
static int fd_datasync(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return sync_fd(ctx, wasi__u32(a[0]), true);
}

/* ---- advise, allocate ------------------------------------------------------------------ */

static int fd_advise(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    static const int map[6] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                               POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,   POSIX_FADV_NOREUSE};
    struct wasi_fd *e = wasi__fd_get(ctx, wasi__u32(a[0]));
    uint32_t advice = (uint32_t)a[3].i32 & 0xff;
    if (!e)
        return WASI_EBADF;
    if (is_stream(e))
        return WASI_ESPIPE;
    if (e->kind != WASI_FD_FILE)
        return WASI_EBADF;
    if (advice > 5 || a[1].i64 < 0 || a[2].i64 < 0)
        return WASI_EINVAL;
    return wasi__errno(posix_fadvise(e->host, (off_t)a[1].i64, (off_t)a[2].i64, map[advice]));
}

static int fd_allocate(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    struct wasi_fd *e = wasi__fd_get(ctx, wasi__u32(a[0]));
    if (!e)
        return WASI_EBADF;
    if (is_stream(e))
        return WASI_ESPIPE;
    if (e->kind != WASI_FD_FILE)
        return WASI_EBADF;
    int64_t off = a[1].i64, len = a[2].i64;
    if (off < 0 || len <= 0 || off > INT64_MAX - len)
        return WASI_EINVAL;
    return wasi__errno(posix_fallocate(e->host, (off_t)off, (off_t)len));
}

/* ---- fdstat ------------------------------------------------------------------------------ */

static uint16_t host_fdflags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    uint16_t r = 0;
    if (fl < 0)
        return 0;
    if (fl & O_APPEND)
        r |= WASI_FDFLAG_APPEND;
    if (fl & O_NONBLOCK)
        r |= WASI_FDFLAG_NONBLOCK;
    if ((fl & O_SYNC) == O_SYNC)
        r |= WASI_FDFLAG_SYNC;
    else if (fl & O_DSYNC)
        r |= WASI_FDFLAG_DSYNC;
    return r;
}

static int fd_fdstat_get(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    uint8_t *out;
    if (!sl_mem_slice(inst, wasi__u32(a[1]), WASI_FDSTAT_SIZE, &out))
        return WASI_EFAULT;
    struct wasi_fd *e = wasi__fd_get(ctx, wasi__u32(a[0]));
    if (!e)
        return WASI_EBADF;
    uint16_t flags = e->fdflags;
    if (e->kind == WASI_FD_FILE || e->kind == WASI_FD_DIR)
        flags = host_fdflags(e->host);
    memset(out, 0, WASI_FDSTAT_SIZE);
    out[0] = e->filetype;
    wasi__st16(out + 2, flags);
    wasi__st64(out + 8, e->rights_base);
    wasi__st64(out + 16, e->rights_inheriting);
    return 0;
}

static int fd_fdstat_set_flags(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    struct wasi_fd *e = wasi__fd_get(ctx, wasi__u32(a[0]));
    uint32_t flags = (uint32_t)a[1].i32 & 0xffff;
    if (!e)
        return WASI_EBADF;
    if (flags & ~31u)
        return WASI_EINVAL;
    if (is_stream(e)) {
        /* Never change the host's own stdio flags (they are shared with the
         * embedder); buffers and sinks never block, so NONBLOCK is moot. */
        if (e->kind == WASI_FD_HOST_STDIO && flags & WASI_FDFLAG_NONBLOCK)
            return WASI_ENOTSUP;
        e->fdflags = (uint16_t)(flags & (WASI_FDFLAG_APPEND | WASI_FDFLAG_NONBLOCK));
        return 0;
    }
    /* Like Linux F_SETFL: only APPEND and NONBLOCK can change; the sync
     * flags are fixed at open time and silently kept. */
    int fl = fcntl(e->host, F_GETFL);
    if (fl < 0)
        return wasi__errno(errno);
    fl &= ~(O_APPEND | O_NONBLOCK);
    if (flags & WASI_FDFLAG_APPEND)
        fl |= O_APPEND;
    if (flags & WASI_FDFLAG_NONBLOCK)
        fl |= O_NONBLOCK;
    if (fcntl(e->host, F_SETFL, fl) < 0)
        return wasi__errno(errno);
    return 0;
}

static int fd_fdstat_set_rights(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    struct wasi_fd *e = wasi__fd_get(ctx, wasi__u32(a[0]));
    uint64_t base = (uint64_t)a[1].i64, inh = (uint64_t)a[2].i64;
    if (!e)
        return WASI_EBADF;
    if ((base & ~e->rights_base) || (inh & ~e->rights_inheriting))
        return WASI_ENOTCAPABLE; /* rights may only shrink */
    e->rights_base = base;
    e->rights_inheriting = inh;
    return 0;
}

/* ---- filestat ------------------------------------------------------------------------------ */

static int filestat_get(wasi_ctx *ctx, sl_instance *inst, const sl_val *a, bool preview0)
{
    uint8_t *out;
    if (!sl_mem_slice(inst, wasi__u32(a[1]), preview0 ? WASI_FILESTAT0_SIZE : WASI_FILESTAT_SIZE,
                      &out))
        return WASI_EFAULT;
    struct wasi_fd *e = wasi__fd_get(ctx, wasi__u32(a[0]));
    if (!e)
        return WASI_EBADF;
    struct stat st;
    memset(&st, 0, sizeof st);
    if (has_host_fd(e) && fstat(e->host, &st) < 0)
        return wasi__errno(errno);
    wasi__filestat_put(out, &st, preview0);
    if (is_stream(e))
        out[16] = WASI_FT_UNKNOWN; /* consistent with fd_fdstat_get */
    return 0;
}

static int fd_filestat_get(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return filestat_get(ctx, inst, a, false);
}
static int fd_filestat_get0(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return filestat_get(ctx, inst, a, true);
}

static int fd_filestat_set_size(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    struct wasi_fd *e = wasi__fd_get(ctx, wasi__u32(a[0]));
    if (!e)
        return WASI_EBADF;
    if (e->kind == WASI_FD_DIR)
        return WASI_EISDIR;
    if (e->kind != WASI_FD_FILE)
        return WASI_EINVAL;
    if (a[1].i64 < 0)
        return WASI_EINVAL;
    if (ftruncate(e->host, (off_t)a[1].i64) < 0)
        return wasi__errno(errno);
    return 0;
}

static int fd_filestat_set_times(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    struct wasi_fd *e = wasi__fd_get(ctx, wasi__u32(a[0]));
    if (!e)
        return WASI_EBADF;
    if (e->kind != WASI_FD_FILE && e->kind != WASI_FD_DIR)
        return WASI_ENOTSUP; /* stdio belongs to the host */
    struct timespec ts[2];
    int err = wasi__times(ts, (uint64_t)a[1].i64, (uint64_t)a[2].i64, wasi__u32(a[3]) & 0xffff);
    if (err)
        return err;
    if (futimens(e->host, ts) < 0)
        return wasi__errno(errno);
    return 0;
}

/* ---- preopens ----------------------------------------------------------------------------------- */

static int fd_prestat_get(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    uint8_t *out;
    if (!sl_mem_slice(inst, wasi__u32(a[1]), 8, &out))
        return WASI_EFAULT;
    struct wasi_fd *e = wasi__fd_get(ctx, wasi__u32(a[0]));
    if (!e || !e->preopen)
        return WASI_EBADF; /* EBADF ends libc's preopen scan */
    memset(out, 0, 8);     /* tag 0 = dir */
    wasi__st32(out + 4, e->preopen_len);
    return 0;
}

static int fd_prestat_dir_name(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    struct wasi_fd *e = wasi__fd_get(ctx, wasi__u32(a[0]));
    uint32_t len = wasi__u32(a[2]);
    if (!e || !e->preopen)
        return WASI_EBADF;
    if (len < e->preopen_len)
        return WASI_ENAMETOOLONG;
    uint8_t *out;
    if (!sl_mem_slice(inst, wasi__u32(a[1]), e->preopen_len, &out))
        return WASI_EFAULT;
    memcpy(out, e->preopen, e->preopen_len); /* no NUL: libc adds it */
    return 0;
}

/* ---- readdir ------------------------------------------------------------------------------------- */

static uint8_t dirent_type(DIR *d, const struct dirent *de)
{
    switch (de->d_type) {
    case DT_REG: return WASI_FT_REGULAR_FILE;
    case DT_DIR: return WASI_FT_DIRECTORY;
    case DT_LNK: return WASI_FT_SYMBOLIC_LINK;
    case DT_CHR: return WASI_FT_CHARACTER_DEVICE;
    case DT_BLK: return WASI_FT_BLOCK_DEVICE;
    case DT_SOCK: return WASI_FT_SOCKET_STREAM;
    case DT_UNKNOWN: {
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            return wasi__filetype(st.st_mode);
        return WASI_FT_UNKNOWN;
    }
    default: return WASI_FT_UNKNOWN;
    }
}

/* Cookies are entry indexes: cookie N starts at the Nth entry ("." and ".."
 * included). Sequential listing costs one readdir per entry; a cookie that
 * goes backwards rewinds and skips. An entry that does not fit is written
 * partially (filling the buffer, which tells libc to retry with a bigger
 * one) and is not consumed. */
static int fd_readdir(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    uint32_t buf_len = wasi__u32(a[2]);
    uint64_t cookie = (uint64_t)a[3].i64;
    uint8_t *buf, *out;
    if (!sl_mem_slice(inst, wasi__u32(a[4]), 4, &out))
        return WASI_EFAULT;
    if (!sl_mem_slice(inst, wasi__u32(a[1]), buf_len, &buf))
        return WASI_EFAULT;
    struct wasi_fd *e = wasi__fd_get(ctx, wasi__u32(a[0]));
    if (!e)
        return WASI_EBADF;
    if (e->kind != WASI_FD_DIR)
        return WASI_ENOTDIR;
    if (!e->dir) {
        /* Our own open file description, so the stream has its own offset. */
        int fd = openat(e->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return wasi__errno(errno);
        e->dir = fdopendir(fd);
        if (!e->dir) {
            int err = errno;
            close(fd);
            return wasi__errno(err);
        }
        e->dir_next = 0;
    }
    DIR *d = e->dir;
    if (cookie < e->dir_next) {
        rewinddir(d);
        e->dir_next = 0;
    }
    while (e->dir_next < cookie) {
        errno = 0;
        if (!readdir(d)) {
            if (errno)
                return wasi__errno(errno);
            wasi__st32(out, 0); /* cookie past the end */
            return 0;
        }
        e->dir_next++;
    }
    uint32_t used = 0;
    while (used < buf_len) {
        long pos = telldir(d);
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                return wasi__errno(errno);
            break;
        }
        size_t namlen = strlen(de->d_name);
        uint8_t hdr[WASI_DIRENT_SIZE] = {0};
        wasi__st64(hdr, e->dir_next + 1);
        wasi__st64(hdr + 8, (uint64_t)de->d_ino);
        wasi__st32(hdr + 16, (uint32_t)namlen);
        hdr[20] = dirent_type(d, de);
        size_t room = buf_len - used;
        size_t n = room < WASI_DIRENT_SIZE ? room : WASI_DIRENT_SIZE;
        memcpy(buf + used, hdr, n);
        used += (uint32_t)n;
        room -= n;
        size_t m = room < namlen ? room : namlen;
        memcpy(buf + used, de->d_name, m);
        used += (uint32_t)m;
        if (n < WASI_DIRENT_SIZE || m < namlen) {
            seekdir(d, pos); /* not consumed: reread it next call */
            break;
        }
        e->dir_next++;
    }
    wasi__st32(out, used);
    return 0;
}

WASI_HANDLER(fd_advise)
WASI_HANDLER(fd_allocate)
WASI_HANDLER(fd_close)
WASI_HANDLER(fd_datasync)
WASI_HANDLER(fd_fdstat_get)
WASI_HANDLER(fd_fdstat_set_flags)
WASI_HANDLER(fd_fdstat_set_rights)
WASI_HANDLER(fd_filestat_get)
WASI_HANDLER(fd_filestat_get0)
WASI_HANDLER(fd_filestat_set_size)
WASI_HANDLER(fd_filestat_set_times)
WASI_HANDLER(fd_pread)
WASI_HANDLER(fd_prestat_get)
WASI_HANDLER(fd_prestat_dir_name)
WASI_HANDLER(fd_pwrite)
WASI_HANDLER(fd_read)
WASI_HANDLER(fd_readdir)
WASI_HANDLER(fd_renumber)
WASI_HANDLER(fd_seek)
WASI_HANDLER(fd_seek0)
WASI_HANDLER(fd_sync)
WASI_HANDLER(fd_tell)
WASI_HANDLER(fd_write)

const wasi__def wasi__fd_defs[] = {
    {"fd_advise", "iIIi:i", h_fd_advise, NULL},
    {"fd_allocate", "iII:i", h_fd_allocate, NULL},
    {"fd_close", "i:i", h_fd_close, NULL},
    {"fd_datasync", "i:i", h_fd_datasync, NULL},
    {"fd_fdstat_get", "ii:i", h_fd_fdstat_get, NULL},
    {"fd_fdstat_set_flags", "ii:i", h_fd_fdstat_set_flags, NULL},
    {"fd_fdstat_set_rights", "iII:i", h_fd_fdstat_set_rights, NULL},
    {"fd_filestat_get", "ii:i", h_fd_filestat_get, h_fd_filestat_get0},
    {"fd_filestat_set_size", "iI:i", h_fd_filestat_set_size, NULL},
    {"fd_filestat_set_times", "iIIi:i", h_fd_filestat_set_times, NULL},
    {"fd_pread", "iiiIi:i", h_fd_pread, NULL},
    {"fd_prestat_get", "ii:i", h_fd_prestat_get, NULL},
    {"fd_prestat_dir_name", "iii:i", h_fd_prestat_dir_name, NULL},
    {"fd_pwrite", "iiiIi:i", h_fd_pwrite, NULL},
    {"fd_read", "iiii:i", h_fd_read, NULL},
    {"fd_readdir", "iiiIi:i", h_fd_readdir, NULL},
    {"fd_renumber", "ii:i", h_fd_renumber, NULL},
    {"fd_seek", "iIii:i", h_fd_seek, h_fd_seek0},
    {"fd_sync", "i:i", h_fd_sync, NULL},
    {"fd_tell", "ii:i", h_fd_tell, NULL},
    {"fd_write", "iiii:i", h_fd_write, NULL},
    {NULL, NULL, NULL, NULL},
};
