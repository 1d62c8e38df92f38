/*
 * wasi_int.h — internals shared by the files of src/wasi (not installed).
 *
 * Layer:     WASI host layer. Includes <sluice/vm.h> only; never the files in src/vm.
 * What:      the WASI preview1 constants we use (errno, file types, flags,
 *            rights), the context and fd-table structures, little-endian
 *            guest-memory stores, and the wasi__* functions one file of the
 *            layer provides to another:
 *              wasi_ctx.c      context, fd table, wasi_link
 *              wasi_conv.c     host errno / stat → WASI values and records
 *              wasi_sandbox.c  path checks and beneath-root resolution
 *              wasi_fd.c       fd_* functions
 *              wasi_path.c     path_* functions
 *              wasi_misc.c     args, environ, clocks, random, poll, proc,
 *                              sched, sock
 * Rule:      guest memory is reached only through sl_mem_slice, and every
 *            out-pointer is checked before the call has any side effect.
 */
#ifndef SLUICE_WASI_INT_H
#define SLUICE_WASI_INT_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <sluice/vm.h>

#include "wasi.h"

/* ---- WASI preview1 constants (witx order; see docs §3.4) ------------------ */

enum {
    WASI_ESUCCESS = 0, WASI_E2BIG = 1, WASI_EACCES = 2, WASI_EADDRINUSE = 3,
    WASI_EADDRNOTAVAIL = 4, WASI_EAFNOSUPPORT = 5, WASI_EAGAIN = 6, WASI_EALREADY = 7,
    WASI_EBADF = 8, WASI_EBADMSG = 9, WASI_EBUSY = 10, WASI_ECANCELED = 11,
    WASI_ECHILD = 12, WASI_ECONNABORTED = 13, WASI_ECONNREFUSED = 14, WASI_ECONNRESET = 15,
    WASI_EDEADLK = 16, WASI_EDESTADDRREQ = 17, WASI_EDOM = 18, WASI_EDQUOT = 19,
    WASI_EEXIST = 20, WASI_EFAULT = 21, WASI_EFBIG = 22, WASI_EHOSTUNREACH = 23,
    WASI_EIDRM = 24, WASI_EILSEQ = 25, WASI_EINPROGRESS = 26, WASI_EINTR = 27,
    WASI_EINVAL = 28, WASI_EIO = 29, WASI_EISCONN = 30, WASI_EISDIR = 31,
    WASI_ELOOP = 32, WASI_EMFILE = 33, WASI_EMLINK = 34, WASI_EMSGSIZE = 35,
    WASI_EMULTIHOP = 36, WASI_ENAMETOOLONG = 37, WASI_ENETDOWN = 38, WASI_ENETRESET = 39,
    WASI_ENETUNREACH = 40, WASI_ENFILE = 41, WASI_ENOBUFS = 42, WASI_ENODEV = 43,
    WASI_ENOENT = 44, WASI_ENOEXEC = 45, WASI_ENOLCK = 46, WASI_ENOLINK = 47,
    WASI_ENOMEM = 48, WASI_ENOMSG = 49, WASI_ENOPROTOOPT = 50, WASI_ENOSPC = 51,
    WASI_ENOSYS = 52, WASI_ENOTCONN = 53, WASI_ENOTDIR = 54, WASI_ENOTEMPTY = 55,
    WASI_ENOTRECOVERABLE = 56, WASI_ENOTSOCK = 57, WASI_ENOTSUP = 58, WASI_ENOTTY = 59,
    WASI_ENXIO = 60, WASI_EOVERFLOW = 61, WASI_EOWNERDEAD = 62, WASI_EPERM = 63,
    WASI_EPIPE = 64, WASI_EPROTO = 65, WASI_EPROTONOSUPPORT = 66, WASI_EPROTOTYPE = 67,
    WASI_ERANGE = 68, WASI_EROFS = 69, WASI_ESPIPE = 70, WASI_ESRCH = 71,
    WASI_ESTALE = 72, WASI_ETIMEDOUT = 73, WASI_ETXTBSY = 74, WASI_EXDEV = 75,
    WASI_ENOTCAPABLE = 76,
};

enum { /* filetype */
    WASI_FT_UNKNOWN = 0, WASI_FT_BLOCK_DEVICE = 1, WASI_FT_CHARACTER_DEVICE = 2,
    WASI_FT_DIRECTORY = 3, WASI_FT_REGULAR_FILE = 4, WASI_FT_SOCKET_DGRAM = 5,
    WASI_FT_SOCKET_STREAM = 6, WASI_FT_SYMBOLIC_LINK = 7,
};

enum { WASI_CLOCK_REALTIME = 0, WASI_CLOCK_MONOTONIC = 1,
       WASI_CLOCK_PROCESS_CPUTIME = 2, WASI_CLOCK_THREAD_CPUTIME = 3 };
enum { WASI_WHENCE_SET = 0, WASI_WHENCE_CUR = 1, WASI_WHENCE_END = 2 };
enum { WASI_EVENT_CLOCK = 0, WASI_EVENT_FD_READ = 1, WASI_EVENT_FD_WRITE = 2 };
enum { WASI_SUBCLOCK_ABSTIME = 1, WASI_EVENT_FD_HANGUP = 1 };

enum { /* oflags */
    WASI_O_CREAT = 1, WASI_O_DIRECTORY = 2, WASI_O_EXCL = 4, WASI_O_TRUNC = 8,
};
enum { /* fdflags */
    WASI_FDFLAG_APPEND = 1, WASI_FDFLAG_DSYNC = 2, WASI_FDFLAG_NONBLOCK = 4,
    WASI_FDFLAG_RSYNC = 8, WASI_FDFLAG_SYNC = 16,
};
enum { WASI_LOOKUP_SYMLINK_FOLLOW = 1 };
enum { /* fstflags */
    WASI_FST_ATIM = 1, WASI_FST_ATIM_NOW = 2, WASI_FST_MTIM = 4, WASI_FST_MTIM_NOW = 8,
};

/* rights, bit = witx order */
#define WASI_R_FD_DATASYNC            (UINT64_C(1) << 0)
#define WASI_R_FD_READ                (UINT64_C(1) << 1)
#define WASI_R_FD_SEEK                (UINT64_C(1) << 2)
#define WASI_R_FD_FDSTAT_SET_FLAGS    (UINT64_C(1) << 3)
#define WASI_R_FD_SYNC                (UINT64_C(1) << 4)
#define WASI_R_FD_TELL                (UINT64_C(1) << 5)
#define WASI_R_FD_WRITE               (UINT64_C(1) << 6)
#define WASI_R_FD_ADVISE              (UINT64_C(1) << 7)
#define WASI_R_FD_ALLOCATE            (UINT64_C(1) << 8)
#define WASI_R_PATH_CREATE_DIRECTORY  (UINT64_C(1) << 9)
#define WASI_R_PATH_CREATE_FILE       (UINT64_C(1) << 10)
#define WASI_R_PATH_LINK_SOURCE       (UINT64_C(1) << 11)
#define WASI_R_PATH_LINK_TARGET       (UINT64_C(1) << 12)
#define WASI_R_PATH_OPEN              (UINT64_C(1) << 13)
#define WASI_R_FD_READDIR             (UINT64_C(1) << 14)
#define WASI_R_PATH_READLINK          (UINT64_C(1) << 15)
#define WASI_R_PATH_RENAME_SOURCE     (UINT64_C(1) << 16)
#define WASI_R_PATH_RENAME_TARGET     (UINT64_C(1) << 17)
#define WASI_R_PATH_FILESTAT_GET      (UINT64_C(1) << 18)
#define WASI_R_PATH_FILESTAT_SET_SIZE (UINT64_C(1) << 19)
#define WASI_R_PATH_FILESTAT_SET_TIMES (UINT64_C(1) << 20)
#define WASI_R_FD_FILESTAT_GET        (UINT64_C(1) << 21)
#define WASI_R_FD_FILESTAT_SET_SIZE   (UINT64_C(1) << 22)
#define WASI_R_FD_FILESTAT_SET_TIMES  (UINT64_C(1) << 23)
#define WASI_R_PATH_SYMLINK           (UINT64_C(1) << 24)
#define WASI_R_PATH_REMOVE_DIRECTORY  (UINT64_C(1) << 25)
#define WASI_R_PATH_UNLINK_FILE       (UINT64_C(1) << 26)
#define WASI_R_POLL_FD_READWRITE      (UINT64_C(1) << 27)
#define WASI_R_SOCK_SHUTDOWN          (UINT64_C(1) << 28)
#define WASI_R_SOCK_ACCEPT            (UINT64_C(1) << 29)
#define WASI_R_ALL                    ((UINT64_C(1) << 30) - 1)

/* What a regular file / a directory can do (the rest makes no sense). */
#define WASI_R_FILE                                                              \
    (WASI_R_FD_DATASYNC | WASI_R_FD_READ | WASI_R_FD_SEEK | WASI_R_FD_FDSTAT_SET_FLAGS | \
     WASI_R_FD_SYNC | WASI_R_FD_TELL | WASI_R_FD_WRITE | WASI_R_FD_ADVISE |         \
     WASI_R_FD_ALLOCATE | WASI_R_FD_FILESTAT_GET | WASI_R_FD_FILESTAT_SET_SIZE |     \
     WASI_R_FD_FILESTAT_SET_TIMES | WASI_R_POLL_FD_READWRITE)
#define WASI_R_DIR                                                               \
    (WASI_R_FD_FDSTAT_SET_FLAGS | WASI_R_FD_SYNC | WASI_R_FD_ADVISE |               \
     WASI_R_PATH_CREATE_DIRECTORY | WASI_R_PATH_CREATE_FILE | WASI_R_PATH_LINK_SOURCE | \
     WASI_R_PATH_LINK_TARGET | WASI_R_PATH_OPEN | WASI_R_FD_READDIR |                \
     WASI_R_PATH_READLINK | WASI_R_PATH_RENAME_SOURCE | WASI_R_PATH_RENAME_TARGET |  \
     WASI_R_PATH_FILESTAT_GET | WASI_R_PATH_FILESTAT_SET_SIZE |                      \
     WASI_R_PATH_FILESTAT_SET_TIMES | WASI_R_FD_FILESTAT_GET |                       \
     WASI_R_FD_FILESTAT_SET_TIMES | WASI_R_PATH_SYMLINK |                            \
     WASI_R_PATH_REMOVE_DIRECTORY | WASI_R_PATH_UNLINK_FILE)

/* Sizes of the records we write. */
enum { WASI_FILESTAT_SIZE = 64, WASI_FILESTAT0_SIZE = 56 /* wasi_unstable */,
       WASI_FDSTAT_SIZE = 24, WASI_DIRENT_SIZE = 24, WASI_EVENT_SIZE = 32,
       WASI_SUB_SIZE = 48, WASI_SUB0_SIZE = 56 /* wasi_unstable */ };

/* Longest guest path we accept, and longest single component. */
#define WASI_PATH_MAX 4096
#define WASI_NAME_MAX 255
/* Most fds one context may hold at once (host limits may bite first). */
#define WASI_MAX_FDS 4096

/* ---- context and fd table ------------------------------------------------- */

typedef enum wasi_fd_kind {
    WASI_FD_FREE = 0,
    WASI_FD_HOST_STDIO, /* host fd 0/1/2, never closed by us */
    WASI_FD_STDIN_BUF,  /* reads come from ctx->stdin_buf, then EOF */
    WASI_FD_SINK,       /* writes go to ctx->sink[stdio] */
    WASI_FD_FILE,       /* owned host fd: anything that is not a directory */
    WASI_FD_DIR,        /* owned host fd, O_DIRECTORY; preopens are these */
} wasi_fd_kind;

struct wasi_fd {
    wasi_fd_kind kind;
    uint8_t filetype;   /* WASI_FT_*, as reported by fd_fdstat_get */
    uint8_t stdio;      /* 0, 1, 2 for the stdio kinds */
    uint16_t fdflags;   /* for kinds without a host fd */
    int host;           /* host fd, or -1 */
    uint64_t rights_base, rights_inheriting;
    char *preopen;      /* guest name of a preopen (owned), else NULL */
    uint32_t preopen_len;
    DIR *dir;           /* fd_readdir stream on a dup of host (owned) */
    uint64_t dir_next;  /* index of the entry readdir(dir) returns next */
};

struct wasi_ctx {
    char *args_buf;      /* "a\0b\0": exactly what args_get copies */
    uint32_t args_len, argc;
    uint32_t *args_off;  /* argc offsets into args_buf */
    char *env_buf;
    uint32_t env_len, envc;
    uint32_t *env_off;
    struct wasi_fd *fds; /* index = guest fd */
    uint32_t n_fds;
    uint8_t *stdin_buf;
    size_t stdin_len, stdin_pos;
    wasi_sink_fn sink[3]; /* [1] stdout, [2] stderr */
    void *sink_user;
};

/* The entry for guest fd, or NULL when it is not open. Valid until the next
 * wasi__fd_alloc (which may move the table). */
struct wasi_fd *wasi__fd_get(wasi_ctx *ctx, uint32_t fd);
/* Finds the lowest free fd; *out receives its number and the entry is left
 * zeroed with host = -1. Returns 0 or WASI_EMFILE / WASI_ENOMEM. */
int wasi__fd_alloc(wasi_ctx *ctx, uint32_t *out);
/* Closes what the entry owns and marks it free. */
void wasi__fd_release(struct wasi_fd *e);

/* The context of a call: user (wasi_link's ctx) or the instance's data. */
static inline wasi_ctx *wasi__ctx_of(sl_instance *caller, void *user)
{
    return user ? (wasi_ctx *)user : (wasi_ctx *)sl_instance_user_data(caller);
}
/* Returns owned: the trap for a call from an instance without a context. */
sl_trap *wasi__no_ctx_trap(void);

/* Defines a host function h_NAME that finds the context and stores the errno
 * returned by `static int NAME(wasi_ctx *, sl_instance *, const sl_val *)`. */
#define WASI_HANDLER(NAME)                                                   \
    static sl_trap *h_##NAME(sl_instance *caller, sl_val *args, void *user)  \
    {                                                                        \
        wasi_ctx *ctx = wasi__ctx_of(caller, user);                          \
        if (!ctx)                                                            \
            return wasi__no_ctx_trap();                                      \
        args[0].i32 = NAME(ctx, caller, args);                               \
        return NULL;                                                         \
    }

/* One import: fn serves "wasi_snapshot_preview1"; fn0, when not NULL,
 * replaces it under "wasi_unstable" (preview0 layouts). */
typedef struct wasi__def {
    const char *name;
    const char *sig;
    sl_host_fn fn;
    sl_host_fn fn0;
} wasi__def;

extern const wasi__def wasi__fd_defs[];   /* NULL-name terminated */
extern const wasi__def wasi__path_defs[];
extern const wasi__def wasi__misc_defs[];

/* ---- guest memory stores (little-endian, unaligned) ------------------------- */

static inline uint32_t wasi__ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t wasi__ld64(const uint8_t *p)
{
    return (uint64_t)wasi__ld32(p) | (uint64_t)wasi__ld32(p + 4) << 32;
}
static inline uint16_t wasi__ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline void wasi__st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void wasi__st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void wasi__st64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
/* An i32 argument as the unsigned guest value it is. */
static inline uint32_t wasi__u32(sl_val v)
{
    return (uint32_t)v.i32;
}

/* ---- conversions (wasi_conv.c) ------------------------------------------------ */

/* Host errno → WASI errno (WASI_EIO for anything unmapped). */
int wasi__errno(int host_errno);
/* st_mode → WASI_FT_*. */
uint8_t wasi__filetype(unsigned mode);
/* Writes a filestat record: 64 bytes, or 56 with preview0's u32 nlink. */
void wasi__filestat_put(uint8_t *out, const struct stat *st, bool preview0);
/* Builds the two timespecs for futimens/utimensat from WASI arguments;
 * returns 0 or WASI_EINVAL (e.g. ATIM with ATIM_NOW). */
int wasi__times(struct timespec ts[2], uint64_t atim, uint64_t mtim, uint32_t fst_flags);

/* ---- sandbox (wasi_sandbox.c) --------------------------------------------------- */

/* Lexical check of a guest path: not empty (ENOENT), no NUL (EINVAL), not
 * absolute (ENOTCAPABLE), not longer than WASI_PATH_MAX (ENAMETOOLONG), and
 * no ".." that climbs above the start (ENOTCAPABLE). Returns 0 or errno. */
int wasi__path_check(const char *path, size_t len);
/* Checks path (as above) and returns a NUL-terminated copy in *out (owned;
 * free()). Returns 0 or a WASI errno. */
int wasi__path_dup(const uint8_t *path, size_t len, char **out);
/* Splits path into the directory part [0, *dir_len) and the last component
 * [*last, *last + *last_len); trailing slashes are not part of either and
 * set *trailing. "a" gives dir_len 0; "" and "///" give last_len 0. */
void wasi__path_split(const char *path, size_t *dir_len, const char **last, size_t *last_len,
                      bool *trailing);

/* Opens path beneath the directory root with open(2) flags and mode. The
 * final component's symlink is followed only when follow is true; symlinks
 * in the middle are always followed but may never leave root. O_CLOEXEC is
 * added. Returns 0 with *out set (owned), or a WASI errno: ENOTCAPABLE for
 * any escape (absolute path, "..", absolute or escaping symlink). */
int wasi__sandbox_open(int root, const char *path, int flags, unsigned mode, bool follow,
                       int *out);
/* Resolves everything but the last component of path beneath root: *dirfd
 * (owned, O_PATH) is the directory that holds the entry named name[]. With
 * follow, a symlink in the last place is resolved (staying beneath root)
 * until it is not one. When the last component is "." or "..", *dirfd is
 * the object itself and name is "". A trailing slash on an existing
 * non-directory gives ENOTDIR. Returns 0 or a WASI errno. */
int wasi__sandbox_parent(int root, const char *path, bool follow, int *dirfd,
                         char name[WASI_NAME_MAX + 1]);
/* Tests only: false = never use openat2, always walk component by component. */
void wasi__sandbox_use_openat2(bool on);

#endif /* SLUICE_WASI_INT_H */
