/*
 * wasi_conv.c — translation from host (Linux) values to WASI preview1 ones:
 * errno numbers, file types, filestat records and the fst_flags time pair.
 *
 * Layer:     WASI host layer, leaf file: pure functions, no guest memory,
 *            no engine calls, no state.
 * Not here:  the reverse direction (WASI flags → open(2) flags) lives next
 *            to its only user in wasi_path.c / wasi_fd.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <time.h>

#include "wasi_int.h"

int wasi__errno(int e)
{
    switch (e) {
    case 0: return WASI_ESUCCESS;
    case E2BIG: return WASI_E2BIG;
    case EACCES: return WASI_EACCES;
    case EADDRINUSE: return WASI_EADDRINUSE;
    case EADDRNOTAVAIL: return WASI_EADDRNOTAVAIL;
    case EAFNOSUPPORT: return WASI_EAFNOSUPPORT;
    case EAGAIN: return WASI_EAGAIN;
    case EALREADY: return WASI_EALREADY;
    case EBADF: return WASI_EBADF;
    case EBADMSG: return WASI_EBADMSG;
    case EBUSY: return WASI_EBUSY;
    case ECANCELED: return WASI_ECANCELED;
    case ECHILD: return WASI_ECHILD;
    case ECONNABORTED: return WASI_ECONNABORTED;
    case ECONNREFUSED: return WASI_ECONNREFUSED;
    case ECONNRESET: return WASI_ECONNRESET;
    case EDEADLK: return WASI_EDEADLK;
    case EDESTADDRREQ: return WASI_EDESTADDRREQ;
    case EDOM: return WASI_EDOM;
    case EDQUOT: return WASI_EDQUOT;
    case EEXIST: return WASI_EEXIST;
    case EFAULT: return WASI_EFAULT;
    case EFBIG: return WASI_EFBIG;
    case EHOSTUNREACH: return WASI_EHOSTUNREACH;
    case EIDRM: return WASI_EIDRM;
    case EILSEQ: return WASI_EILSEQ;
    case EINPROGRESS: return WASI_EINPROGRESS;
    case EINTR: return WASI_EINTR;
    case EINVAL: return WASI_EINVAL;
    case EIO: return WASI_EIO;
    case EISCONN: return WASI_EISCONN;
    case EISDIR: return WASI_EISDIR;
    case ELOOP: return WASI_ELOOP;
    case EMFILE: return WASI_EMFILE;
    case EMLINK: return WASI_EMLINK;
    case EMSGSIZE: return WASI_EMSGSIZE;
    case EMULTIHOP: return WASI_EMULTIHOP;
    case ENAMETOOLONG: return WASI_ENAMETOOLONG;
    case ENETDOWN: return WASI_ENETDOWN;
    case ENETRESET: return WASI_ENETRESET;
    case ENETUNREACH: return WASI_ENETUNREACH;
    case ENFILE: return WASI_ENFILE;
    case ENOBUFS: return WASI_ENOBUFS;
    case ENODEV: return WASI_ENODEV;
    case ENOENT: return WASI_ENOENT;
    case ENOEXEC: return WASI_ENOEXEC;
    case ENOLCK: return WASI_ENOLCK;
    case ENOLINK: return WASI_ENOLINK;
    case ENOMEM: return WASI_ENOMEM;
    case ENOMSG: return WASI_ENOMSG;
    case ENOPROTOOPT: return WASI_ENOPROTOOPT;
    case ENOSPC: return WASI_ENOSPC;
    case ENOSYS: return WASI_ENOSYS;
    case ENOTCONN: return WASI_ENOTCONN;
    case ENOTDIR: return WASI_ENOTDIR;
    case ENOTEMPTY: return WASI_ENOTEMPTY;
    case ENOTRECOVERABLE: return WASI_ENOTRECOVERABLE;
    case ENOTSOCK: return WASI_ENOTSOCK;
    case ENOTSUP: return WASI_ENOTSUP; /* == EOPNOTSUPP on Linux */
    case ENOTTY: return WASI_ENOTTY;
    case ENXIO: return WASI_ENXIO;
    case EOVERFLOW: return WASI_EOVERFLOW;
    case EOWNERDEAD: return WASI_EOWNERDEAD;
    case EPERM: return WASI_EPERM;
    case EPIPE: return WASI_EPIPE;
    case EPROTO: return WASI_EPROTO;
    case EPROTONOSUPPORT: return WASI_EPROTONOSUPPORT;
    case EPROTOTYPE: return WASI_EPROTOTYPE;
    case ERANGE: return WASI_ERANGE;
    case EROFS: return WASI_EROFS;
    case ESPIPE: return WASI_ESPIPE;
    case ESRCH: return WASI_ESRCH;
    case ESTALE: return WASI_ESTALE;
    case ETIMEDOUT: return WASI_ETIMEDOUT;
    case ETXTBSY: return WASI_ETXTBSY;
    case EXDEV: return WASI_EXDEV;
    default: return WASI_EIO;
    }
}

uint8_t wasi__filetype(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return WASI_FT_REGULAR_FILE;
    case S_IFDIR: return WASI_FT_DIRECTORY;
    case S_IFLNK: return WASI_FT_SYMBOLIC_LINK;
    case S_IFCHR: return WASI_FT_CHARACTER_DEVICE;
    case S_IFBLK: return WASI_FT_BLOCK_DEVICE;
    case S_IFSOCK: return WASI_FT_SOCKET_STREAM; /* can't tell dgram from stat */
    default: return WASI_FT_UNKNOWN;             /* FIFOs have no WASI type */
    }
}

static uint64_t ts_ns(struct timespec t)
{
    if (t.tv_sec < 0)
        return 0;
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void wasi__filestat_put(uint8_t *out, const struct stat *st, bool preview0)
{
    wasi__st64(out + 0, (uint64_t)st->st_dev);
    wasi__st64(out + 8, (uint64_t)st->st_ino);
    memset(out + 16, 0, 8);
    out[16] = wasi__filetype(st->st_mode);
    if (preview0) { /* nlink u32 @20, then everything 8 bytes earlier */
        wasi__st32(out + 20, (uint32_t)st->st_nlink);
        out -= 8;
    } else {
        wasi__st64(out + 24, (uint64_t)st->st_nlink);
    }
    wasi__st64(out + 32, (uint64_t)(st->st_size < 0 ? 0 : st->st_size));
    wasi__st64(out + 40, ts_ns(st->st_atim));
    wasi__st64(out + 48, ts_ns(st->st_mtim));
    wasi__st64(out + 56, ts_ns(st->st_ctim));
}

int wasi__times(struct timespec ts[2], uint64_t atim, uint64_t mtim, uint32_t fst)
{
    if ((fst & WASI_FST_ATIM && fst & WASI_FST_ATIM_NOW) ||
        (fst & WASI_FST_MTIM && fst & WASI_FST_MTIM_NOW) || fst & ~15u)
        return WASI_EINVAL;
    const uint64_t t[2] = {atim, mtim};
    const uint32_t set[2] = {WASI_FST_ATIM, WASI_FST_MTIM};
    const uint32_t now[2] = {WASI_FST_ATIM_NOW, WASI_FST_MTIM_NOW};
    for (int i = 0; i < 2; i++) {
        ts[i].tv_sec = 0;
        if (fst & now[i]) {
            ts[i].tv_nsec = UTIME_NOW;
        } else if (fst & set[i]) {
            ts[i].tv_sec = (time_t)(t[i] / 1000000000u);
            ts[i].tv_nsec = (long)(t[i] % 1000000000u);
        } else {
            ts[i].tv_nsec = UTIME_OMIT;
        }
    }
    return 0;
}
