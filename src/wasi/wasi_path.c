/*
 * wasi_path.c — the path_* functions of WASI preview1 (10 of the 46):
 * open, stat, times, mkdir, rmdir, unlink, rename, link, symlink, readlink.
 *
 * Layer:     WASI host layer. Every path is relative to a directory fd of
 *            the guest (a preopen or a directory it opened) and is resolved
 *            by wasi_sandbox.c, which guarantees it stays beneath that
 *            directory: absolute paths, ".." above it, and symlinks leading
 *            out of it all give ENOTCAPABLE (76).
 * Shape:     path_open resolves the whole path. The others resolve the
 *            directory part and act on the last name with the *at() call
 *            (mkdirat, unlinkat, renameat, ...), which never follows a
 *            symlink in that last place unless the guest asked and the
 *            sandbox resolved it first.
 * Policy:    path_symlink refuses absolute targets (ENOTCAPABLE); relative
 *            targets that point outside may be created but never followed.
 * wasi_unstable: path_filestat_get has a preview0 variant (56-byte record).
 * Not here:  I/O on the fds path_open returns (wasi_fd.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "wasi_int.h"

/* The host fd behind the guest's directory fd. */
static int dir_of(wasi_ctx *ctx, uint32_t fd, int *host)
{
    struct wasi_fd *e = wasi__fd_get(ctx, fd);
    if (!e)
        return WASI_EBADF;
    if (e->kind != WASI_FD_DIR)
        return WASI_ENOTDIR;
    *host = e->host;
    return 0;
}

/* Fetches, checks and copies the guest path at [ptr, ptr+len). */
static int guest_path(sl_instance *inst, uint32_t ptr, uint32_t len, char **out)
{
    uint8_t *p;
    *out = NULL;
    if (len > WASI_PATH_MAX)
        return WASI_ENAMETOOLONG;
    if (!sl_mem_slice(inst, ptr, len, &p))
        return WASI_EFAULT;
    return wasi__path_dup(p, len, out);
}

/* dir fd + guest path → owned O_PATH fd of the parent + last name (see
 * wasi__sandbox_parent; name "" means *dfd is the object itself). */
static int resolve(wasi_ctx *ctx, sl_instance *inst, uint32_t fd, uint32_t ptr, uint32_t len,
                   bool follow, int *dfd, char name[WASI_NAME_MAX + 1])
{
    int root, err;
    char *path;
    *dfd = -1;
    if ((err = dir_of(ctx, fd, &root)))
        return err;
    if ((err = guest_path(inst, ptr, len, &path)))
        return err;
    err = wasi__sandbox_parent(root, path, follow, dfd, name);
    free(path);
    return err;
}

static int errno_close(int dfd, int rc)
{
    int err = rc < 0 ? wasi__errno(errno) : 0;
    if (dfd >= 0)
        close(dfd);
    return err;
}

/* ---- path_open ---------------------------------------------------------------- */

static int path_open(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    uint32_t dirflags = wasi__u32(a[1]), oflags = wasi__u32(a[4]) & 0xffff;
    uint64_t rights = (uint64_t)a[5].i64, rights_inh = (uint64_t)a[6].i64;
    uint32_t fdflags = wasi__u32(a[7]) & 0xffff;
    uint8_t *out;
    if (!sl_mem_slice(inst, wasi__u32(a[8]), 4, &out))
        return WASI_EFAULT;
    struct wasi_fd *d = wasi__fd_get(ctx, wasi__u32(a[0]));
    if (!d)
        return WASI_EBADF;
    if (d->kind != WASI_FD_DIR)
        return WASI_ENOTDIR;
    int root = d->host;
    uint64_t inheritable = d->rights_inheriting;
    if (oflags & ~15u || fdflags & ~31u)
        return WASI_EINVAL;

    /* Open mode from the rights, as wasi-libc and Wasmtime agree. */
    bool rd = rights & (WASI_R_FD_READ | WASI_R_FD_READDIR);
    bool wr = rights & (WASI_R_FD_DATASYNC | WASI_R_FD_WRITE | WASI_R_FD_ALLOCATE |
                        WASI_R_FD_FILESTAT_SET_SIZE);
    if (oflags & WASI_O_DIRECTORY)
        wr = false;
    int flags = rd && wr ? O_RDWR : wr ? O_WRONLY : O_RDONLY;
    /* O_NONBLOCK so a FIFO in the sandbox cannot hang the open; cleared
     * below unless the guest asked for it. */
    flags |= O_NOCTTY | O_NONBLOCK;
    /* WASI oflags (low byte here) and fdflags (shifted up 8) -> open(2) flags */
    static const struct { uint32_t wasi; int host; } open_flags[] = {
        {WASI_O_CREAT, O_CREAT},
        {WASI_O_DIRECTORY, O_DIRECTORY},
        {WASI_O_EXCL, O_EXCL},
        {WASI_O_TRUNC, O_TRUNC},
        {(uint32_t)WASI_FDFLAG_APPEND << 8, O_APPEND},
        {(uint32_t)WASI_FDFLAG_DSYNC << 8, O_DSYNC},
        {(uint32_t)WASI_FDFLAG_RSYNC << 8, O_RSYNC},
        {(uint32_t)WASI_FDFLAG_SYNC << 8, O_SYNC},
    };
    uint32_t wanted = (uint32_t)(oflags & 0xFF) | ((uint32_t)(fdflags & 0xFF) << 8);
    for (size_t i = 0; i < sizeof open_flags / sizeof open_flags[0]; i++)
        if (wanted & open_flags[i].wasi)
            flags |= open_flags[i].host;

    char *path;
    int err = guest_path(inst, wasi__u32(a[2]), wasi__u32(a[3]), &path);
    if (err)
        return err;
    int hfd;
    err = wasi__sandbox_open(root, path, flags, 0666, dirflags & WASI_LOOKUP_SYMLINK_FOLLOW, &hfd);
    free(path);
    if (err)
        return err;
    struct stat st;
    if (!(fdflags & WASI_FDFLAG_NONBLOCK))
        (void)fcntl(hfd, F_SETFL, fcntl(hfd, F_GETFL) & ~O_NONBLOCK);
    if (fstat(hfd, &st) < 0) {
        err = wasi__errno(errno);
        close(hfd);
        return err;
    }
    uint32_t nfd;
    if ((err = wasi__fd_alloc(ctx, &nfd))) {
        close(hfd);
        return err;
    }
    struct wasi_fd *e = &ctx->fds[nfd];
    bool is_dir = S_ISDIR(st.st_mode);
    e->kind = is_dir ? WASI_FD_DIR : WASI_FD_FILE;
    e->host = hfd;
    e->filetype = wasi__filetype(st.st_mode);
    e->rights_base = rights & inheritable & (is_dir ? WASI_R_DIR : WASI_R_FILE);
    e->rights_inheriting = rights_inh & inheritable;
    wasi__st32(out, nfd);
    return 0;
}

/* ---- stat and times ------------------------------------------------------------- */

static int filestat_get(wasi_ctx *ctx, sl_instance *inst, const sl_val *a, bool preview0)
{
    uint8_t *out;
    if (!sl_mem_slice(inst, wasi__u32(a[4]), preview0 ? WASI_FILESTAT0_SIZE : WASI_FILESTAT_SIZE,
                      &out))
        return WASI_EFAULT;
    int dfd;
    char name[WASI_NAME_MAX + 1];
    int err = resolve(ctx, inst, wasi__u32(a[0]), wasi__u32(a[2]), wasi__u32(a[3]),
                      wasi__u32(a[1]) & WASI_LOOKUP_SYMLINK_FOLLOW, &dfd, name);
    if (err)
        return err;
    struct stat st;
    int rc = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW | (name[0] ? 0 : AT_EMPTY_PATH));
    if ((err = errno_close(dfd, rc)))
        return err;
    wasi__filestat_put(out, &st, preview0);
    return 0;
}

static int path_filestat_get(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return filestat_get(ctx, inst, a, false);
}
static int path_filestat_get0(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    return filestat_get(ctx, inst, a, true);
}

static int path_filestat_set_times(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    struct timespec ts[2];
    int err = wasi__times(ts, (uint64_t)a[4].i64, (uint64_t)a[5].i64, wasi__u32(a[6]) & 0xffff);
    if (err)
        return err;
    int dfd;
    char name[WASI_NAME_MAX + 1];
    err = resolve(ctx, inst, wasi__u32(a[0]), wasi__u32(a[2]), wasi__u32(a[3]),
                  wasi__u32(a[1]) & WASI_LOOKUP_SYMLINK_FOLLOW, &dfd, name);
    if (err)
        return err;
    if (name[0])
        return errno_close(dfd, utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW));
    /* The object is the directory dfd itself (an O_PATH fd). */
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno_close(dfd, -1);
    int rc = futimens(fd, ts);
    err = errno_close(fd, rc);
    close(dfd);
    return err;
}

/* ---- entries: mkdir, rmdir, unlink, readlink ------------------------------------------ */

static int path_create_directory(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    int dfd;
    char name[WASI_NAME_MAX + 1];
    int err = resolve(ctx, inst, wasi__u32(a[0]), wasi__u32(a[1]), wasi__u32(a[2]), false, &dfd,
                      name);
    if (err)
        return err;
    if (!name[0]) {
        close(dfd);
        return WASI_EEXIST; /* ".", "x/.." */
    }
    return errno_close(dfd, mkdirat(dfd, name, 0777));
}

static int path_remove_directory(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    int dfd;
    char name[WASI_NAME_MAX + 1];
    int err = resolve(ctx, inst, wasi__u32(a[0]), wasi__u32(a[1]), wasi__u32(a[2]), false, &dfd,
                      name);
    if (err)
        return err;
    if (!name[0]) {
        close(dfd);
        return WASI_EINVAL; /* rmdir(".") */
    }
    return errno_close(dfd, unlinkat(dfd, name, AT_REMOVEDIR));
}

static int path_unlink_file(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    int dfd;
    char name[WASI_NAME_MAX + 1];
    int err = resolve(ctx, inst, wasi__u32(a[0]), wasi__u32(a[1]), wasi__u32(a[2]), false, &dfd,
                      name);
    if (err)
        return err;
    if (!name[0]) {
        close(dfd);
        return WASI_EISDIR;
    }
    return errno_close(dfd, unlinkat(dfd, name, 0));
}

static int path_readlink(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    uint32_t buf_len = wasi__u32(a[4]);
    uint8_t *buf, *out;
    if (!sl_mem_slice(inst, wasi__u32(a[5]), 4, &out) ||
        !sl_mem_slice(inst, wasi__u32(a[3]), buf_len, &buf))
        return WASI_EFAULT;
    int dfd;
    char name[WASI_NAME_MAX + 1];
    int err = resolve(ctx, inst, wasi__u32(a[0]), wasi__u32(a[1]), wasi__u32(a[2]), false, &dfd,
                      name);
    if (err)
        return err;
    if (!name[0]) {
        close(dfd);
        return WASI_EINVAL; /* a directory is not a symlink */
    }
    /* A target longer than the buffer is truncated, as readlink(2) does. */
    ssize_t n = buf_len ? readlinkat(dfd, name, (char *)buf, buf_len) : 0;
    if ((err = errno_close(dfd, (int)(n < 0 ? -1 : 0))))
        return err;
    wasi__st32(out, (uint32_t)n);
    return 0;
}

/* ---- two-path operations: rename, link, symlink ------------------------------------------- */

static int path_rename(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    int ofd, nfd;
    char oname[WASI_NAME_MAX + 1], nname[WASI_NAME_MAX + 1];
    int err = resolve(ctx, inst, wasi__u32(a[0]), wasi__u32(a[1]), wasi__u32(a[2]), false, &ofd,
                      oname);
    if (err)
        return err;
    err = resolve(ctx, inst, wasi__u32(a[3]), wasi__u32(a[4]), wasi__u32(a[5]), false, &nfd, nname);
    if (err) {
        close(ofd);
        return err;
    }
    int rc = -1;
    if (!oname[0] || !nname[0])
        err = WASI_EBUSY; /* renaming "." or ".." */
    else
        rc = renameat(ofd, oname, nfd, nname);
    if (!err)
        err = rc < 0 ? wasi__errno(errno) : 0;
    close(ofd);
    close(nfd);
    return err;
}

static int path_link(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    int ofd, nfd;
    char oname[WASI_NAME_MAX + 1], nname[WASI_NAME_MAX + 1];
    int err = resolve(ctx, inst, wasi__u32(a[0]), wasi__u32(a[2]), wasi__u32(a[3]),
                      wasi__u32(a[1]) & WASI_LOOKUP_SYMLINK_FOLLOW, &ofd, oname);
    if (err)
        return err;
    err = resolve(ctx, inst, wasi__u32(a[4]), wasi__u32(a[5]), wasi__u32(a[6]), false, &nfd, nname);
    if (err) {
        close(ofd);
        return err;
    }
    int rc = -1;
    if (!oname[0])
        err = WASI_EPERM; /* hard link to a directory */
    else if (!nname[0])
        err = WASI_EEXIST;
    else
        rc = linkat(ofd, oname, nfd, nname, 0);
    if (!err)
        err = rc < 0 ? wasi__errno(errno) : 0;
    close(ofd);
    close(nfd);
    return err;
}

static int path_symlink(wasi_ctx *ctx, sl_instance *inst, const sl_val *a)
{
    uint32_t tlen = wasi__u32(a[1]);
    uint8_t *tp;
    if (tlen > WASI_PATH_MAX)
        return WASI_ENAMETOOLONG;
    if (!sl_mem_slice(inst, wasi__u32(a[0]), tlen, &tp))
        return WASI_EFAULT;
    if (tlen == 0)
        return WASI_ENOENT;
    if (memchr(tp, '\0', tlen))
        return WASI_EINVAL;
    if (tp[0] == '/')
        return WASI_ENOTCAPABLE;
    char *target = malloc(tlen + 1);
    if (!target)
        return WASI_ENOMEM;
    memcpy(target, tp, tlen);
    target[tlen] = '\0';
    int dfd;
    char name[WASI_NAME_MAX + 1];
    int err = resolve(ctx, inst, wasi__u32(a[2]), wasi__u32(a[3]), wasi__u32(a[4]), false, &dfd,
                      name);
    if (!err && !name[0]) {
        close(dfd);
        err = WASI_EEXIST;
    } else if (!err) {
        err = errno_close(dfd, symlinkat(target, dfd, name));
    }
    free(target);
    return err;
}

WASI_HANDLER(path_create_directory)
WASI_HANDLER(path_filestat_get)
WASI_HANDLER(path_filestat_get0)
WASI_HANDLER(path_filestat_set_times)
WASI_HANDLER(path_link)
WASI_HANDLER(path_open)
WASI_HANDLER(path_readlink)
WASI_HANDLER(path_remove_directory)
WASI_HANDLER(path_rename)
WASI_HANDLER(path_symlink)
WASI_HANDLER(path_unlink_file)

const wasi__def wasi__path_defs[] = {
    {"path_create_directory", "iii:i", h_path_create_directory, NULL},
    {"path_filestat_get", "iiiii:i", h_path_filestat_get, h_path_filestat_get0},
    {"path_filestat_set_times", "iiiiIIi:i", h_path_filestat_set_times, NULL},
    {"path_link", "iiiiiii:i", h_path_link, NULL},
    {"path_open", "iiiiiIIii:i", h_path_open, NULL},
    {"path_readlink", "iiiiii:i", h_path_readlink, NULL},
    {"path_remove_directory", "iii:i", h_path_remove_directory, NULL},
    {"path_rename", "iiiiii:i", h_path_rename, NULL},
    {"path_symlink", "iiiii:i", h_path_symlink, NULL},
    {"path_unlink_file", "iii:i", h_path_unlink_file, NULL},
    {NULL, NULL, NULL, NULL},
};
