/*
 * wasi_sandbox.c — resolves guest paths beneath a preopened directory so
 * that no path, "..", or symlink can reach anything outside it.
 *
 * Layer:     WASI host layer, leaf file: plain POSIX/Linux calls, no guest
 *            memory and no engine calls. wasi_path.c is its only user (and
 *            tests/unit/test_wasi_paths.c).
 * How:       1. wasi__path_check rejects, lexically, empty paths, NULs,
 *               absolute paths and any ".." that climbs above the start.
 *            2. wasi__sandbox_open asks the kernel to do the rest with
 *               openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), which
 *               fails with EXDEV on any escape (→ ENOTCAPABLE). Where
 *               openat2 is missing (kernel < 5.6, seccomp) it walks the
 *               path itself: one openat(O_PATH | O_NOFOLLOW) per component,
 *               a stack of directory fds for "..", and symlinks expanded by
 *               hand (absolute targets refused, at most 40 expansions), so
 *               it never holds an fd outside root.
 *            3. Operations that name an entry (mkdir, unlink, rename, ...)
 *               go through wasi__sandbox_parent: the directory part is
 *               opened as in 2 and the last component must be a plain name,
 *               so the *at() call acts on an entry inside the sandbox.
 * Threads:   reentrant. The one global, "openat2 is unavailable", is an
 *            atomic that only ever goes from 0 to 1.
 * Limits:    the lexical ".." check is stricter than the filesystem: with
 *            a → x/y, "a/../.." is refused although it would stay inside.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi_int.h"

#define MAX_SYMLINKS 40

/* ---- lexical checks --------------------------------------------------------- */

int wasi__path_check(const char *path, size_t len)
{
    if (len == 0)
        return WASI_ENOENT;
    if (memchr(path, '\0', len))
        return WASI_EINVAL;
    if (path[0] == '/')
        return WASI_ENOTCAPABLE;
    if (len > WASI_PATH_MAX)
        return WASI_ENAMETOOLONG;
    size_t depth = 0, i = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && path[i] != '/')
            i++;
        size_t n = i - start;
        if (n == 2 && path[start] == '.' && path[start + 1] == '.') {
            if (depth == 0)
                return WASI_ENOTCAPABLE;
            depth--;
        } else if (n > 0 && !(n == 1 && path[start] == '.')) {
            depth++;
        }
        while (i < len && path[i] == '/')
            i++;
    }
    return 0;
}

int wasi__path_dup(const uint8_t *path, size_t len, char **out)
{
    *out = NULL;
    int err = wasi__path_check((const char *)path, len);
    if (err)
        return err;
    char *s = malloc(len + 1);
    if (!s)
        return WASI_ENOMEM;
    memcpy(s, path, len);
    s[len] = '\0';
    *out = s;
    return 0;
}

void wasi__path_split(const char *path, size_t *dir_len, const char **last, size_t *last_len,
                      bool *trailing)
{
    size_t end = strlen(path);
    *trailing = false;
    while (end > 0 && path[end - 1] == '/') {
        end--;
        *trailing = true;
    }
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    *last = path + start;
    *last_len = end - start;
    /* Drop the separator(s) between the directory part and the name. */
    size_t d = start;
    while (d > 0 && path[d - 1] == '/')
        d--;
    *dir_len = d;
    if (end == 0) /* "" or "///": no last component at all */
        *trailing = false;
}

static bool is_dots(const char *s, size_t n)
{
    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

/* ---- openat2 ----------------------------------------------------------------- */

#if defined(__linux__) && defined(SYS_openat2)
#define HAVE_OPENAT2 1
struct sandbox_open_how { /* struct open_how, <linux/openat2.h> */
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};
#define SANDBOX_RESOLVE_NO_MAGICLINKS 0x02
#define SANDBOX_RESOLVE_BENEATH 0x08
#else
#define HAVE_OPENAT2 0
#endif

static atomic_int openat2_missing; /* 0 = try it, 1 = known unavailable */
static atomic_int openat2_disabled; /* tests: force the fallback */

void wasi__sandbox_use_openat2(bool on)
{
    atomic_store(&openat2_disabled, on ? 0 : 1);
}

/* Returns 1 when openat2 answered (fd in *out or -errno), 0 when it cannot
 * be used and the walk must run instead. */
static int try_openat2(int root, const char *path, int flags, unsigned mode, int *out)
{
#if HAVE_OPENAT2
    if (atomic_load(&openat2_missing) || atomic_load(&openat2_disabled))
        return 0;
    struct sandbox_open_how how = {
        .flags = (uint64_t)(unsigned)flags,
        .mode = (flags & O_CREAT || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0,
        .resolve = SANDBOX_RESOLVE_BENEATH | SANDBOX_RESOLVE_NO_MAGICLINKS,
    };
    for (int tries = 0;; tries++) {
        long fd = syscall(SYS_openat2, root, path, &how, sizeof how);
        if (fd >= 0) {
            *out = (int)fd;
            return 1;
        }
        /* EAGAIN: a concurrent rename raced the ".." check; retry. */
        if (errno == EAGAIN && tries < 8)
            continue;
        if (errno == ENOSYS) {
            atomic_store(&openat2_missing, 1);
            return 0;
        }
        if (errno == EPERM) /* some seccomp filters say EPERM: let the walk decide */
            return 0;
        *out = -errno;
        return 1;
    }
#else
    (void)root, (void)path, (void)flags, (void)mode, (void)out;
    return 0;
#endif
}

/* ---- the component walk ---------------------------------------------------------- */

struct walk {
    int *stack; /* owned O_PATH fds of the directories below root */
    size_t depth, cap;
    int root;
};

static int walk_cur(const struct walk *w)
{
    return w->depth ? w->stack[w->depth - 1] : w->root;
}

static int walk_push(struct walk *w, int fd)
{
    if (w->depth == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        int *s = realloc(w->stack, cap * sizeof *s);
        if (!s) {
            close(fd);
            return WASI_ENOMEM;
        }
        w->stack = s;
        w->cap = cap;
    }
    w->stack[w->depth++] = fd;
    return 0;
}

static void walk_free(struct walk *w)
{
    while (w->depth)
        close(w->stack[--w->depth]);
    free(w->stack);
}

/* Reads the symlink dir/name and returns a new path: target + "/" + rest.
 * Returns 0 (not a symlink: *out NULL), or a WASI errno. */
static int expand_link(int dir, const char *name, const char *rest, bool trailing, int *n_links,
                       char **out)
{
    *out = NULL;
    char target[PATH_MAX + 1];
    ssize_t n = readlinkat(dir, name, target, PATH_MAX);
    if (n < 0)
        return errno == EINVAL ? 0 : wasi__errno(errno);
    if (++*n_links > MAX_SYMLINKS)
        return WASI_ELOOP;
    if (n == 0)
        return WASI_ENOENT;
    if (target[0] == '/')
        return WASI_ENOTCAPABLE;
    size_t rest_len = strlen(rest);
    char *s = malloc((size_t)n + rest_len + 3);
    if (!s)
        return WASI_ENOMEM;
    memcpy(s, target, (size_t)n);
    size_t k = (size_t)n;
    if (rest_len || trailing)
        s[k++] = '/';
    memcpy(s + k, rest, rest_len);
    s[k + rest_len] = '\0';
    *out = s;
    return 0;
}

static int walk_open(int root, const char *path, int flags, unsigned mode, bool follow, int *out)
{
    struct walk w = {.root = root};
    int n_links = 0, err = 0, fd;
    char *buf = strdup(path);
    if (!buf)
        return WASI_ENOMEM;
    const char *p = buf;
    char name[WASI_NAME_MAX + 1];

    for (;;) {
        while (*p == '/')
            p++;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - s);
        const char *rest = p;
        while (*rest == '/')
            rest++;
        bool last = *rest == '\0';
        bool trailing = last && rest != p;

        if (n > WASI_NAME_MAX) {
            err = WASI_ENAMETOOLONG;
            goto out;
        }
        memcpy(name, s, n);
        name[n] = '\0';

        if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (w.depth == 0) {
                err = WASI_ENOTCAPABLE;
                goto out;
            }
            close(w.stack[--w.depth]);
        }
        if (n == 0 || is_dots(s, n)) {
            if (!last)
                continue;
            /* The object is the current directory itself. */
            fd = openat(walk_cur(&w), ".", flags | O_CLOEXEC, mode);
            err = fd < 0 ? wasi__errno(errno) : 0;
            if (!err)
                *out = fd;
            goto out;
        }

        char *next = NULL;
        if (!last) {
            fd = openat(walk_cur(&w), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) {
                err = wasi__errno(errno);
                goto out;
            }
            struct stat st;
            if (fstat(fd, &st) < 0) {
                err = wasi__errno(errno);
                close(fd);
                goto out;
            }
            if (S_ISDIR(st.st_mode)) {
                if ((err = walk_push(&w, fd)))
                    goto out;
                continue;
            }
            close(fd);
            if (!S_ISLNK(st.st_mode)) {
                err = WASI_ENOTDIR;
                goto out;
            }
            err = expand_link(walk_cur(&w), name, rest, false, &n_links, &next);
        } else {
            bool deref = follow || trailing;
            fd = openat(walk_cur(&w), name,
                        flags | O_NOFOLLOW | O_CLOEXEC | (trailing ? O_DIRECTORY : 0), mode);
            if (fd >= 0) {
                struct stat st;
                /* O_PATH | O_NOFOLLOW opens a symlink itself: follow it here. */
                if (!(deref && flags & O_PATH && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode))) {
                    *out = fd;
                    goto out;
                }
                close(fd);
            } else if (!deref || (errno != ELOOP && errno != ENOTDIR)) {
                err = wasi__errno(errno);
                goto out;
            }
            int open_errno = errno;
            err = expand_link(walk_cur(&w), name, "", trailing, &n_links, &next);
            if (!err && !next)
                err = wasi__errno(open_errno); /* ELOOP/ENOTDIR for a real reason */
        }
        if (err)
            goto out;
        if (!next) {
            err = WASI_ENOTDIR;
            goto out;
        }
        free(buf);
        buf = next;
        p = buf;
    }
out:
    walk_free(&w);
    free(buf);
    return err;
}

int wasi__sandbox_open(int root, const char *path, int flags, unsigned mode, bool follow,
                       int *out)
{
    *out = -1;
    int err = wasi__path_check(path, strlen(path));
    if (err)
        return err;
    int fd;
    if (try_openat2(root, path, flags | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW), mode, &fd)) {
        if (fd >= 0) {
            *out = fd;
            return 0;
        }
        return -fd == EXDEV ? WASI_ENOTCAPABLE : wasi__errno(-fd);
    }
    return walk_open(root, path, flags, mode, follow, out);
}

int wasi__sandbox_parent(int root, const char *path, bool follow, int *dirfd,
                         char name[WASI_NAME_MAX + 1])
{
    *dirfd = -1;
    name[0] = '\0';
    int err = wasi__path_check(path, strlen(path));
    if (err)
        return err;
    char *cur = strdup(path);
    if (!cur)
        return WASI_ENOMEM;
    int n_links = 0, fd = -1;

    for (;;) {
        size_t dir_len, last_len;
        const char *last;
        bool trailing;
        wasi__path_split(cur, &dir_len, &last, &last_len, &trailing);
        if (last_len == 0 || is_dots(last, last_len)) {
            /* "x/.." or ".": the object is a directory; hand it back itself. */
            err = wasi__sandbox_open(root, cur, O_PATH | O_DIRECTORY, 0, true, &fd);
            break;
        }
        if (last_len > WASI_NAME_MAX) {
            err = WASI_ENAMETOOLONG;
            break;
        }
        memcpy(name, last, last_len);
        name[last_len] = '\0';
        char save = cur[dir_len];
        cur[dir_len] = '\0';
        err = wasi__sandbox_open(root, dir_len ? cur : ".", O_PATH | O_DIRECTORY, 0, true, &fd);
        cur[dir_len] = save;
        if (err)
            break;
        if (follow || trailing) {
            char *next;
            /* Rebuild "dir/target" and resolve again from root, so the
             * target is held to the same rules as any guest path. */
            err = expand_link(fd, name, "", trailing, &n_links, &next);
            if (err)
                break;
            if (next) {
                size_t nl = strlen(next);
                char *joined = malloc(dir_len + nl + 2);
                if (!joined) {
                    free(next);
                    err = WASI_ENOMEM;
                    break;
                }
                size_t k = 0;
                if (dir_len) {
                    memcpy(joined, cur, dir_len);
                    joined[dir_len] = '/';
                    k = dir_len + 1;
                }
                memcpy(joined + k, next, nl + 1);
                free(next);
                free(cur);
                cur = joined;
                close(fd);
                fd = -1;
                name[0] = '\0';
                /* A relative symlink target may climb: check it like input. */
                if ((err = wasi__path_check(cur, strlen(cur))))
                    break;
                continue;
            }
        }
        if (trailing) {
            struct stat st;
            if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
                err = WASI_ENOTDIR;
        }
        break;
    }
    free(cur);
    if (err) {
        if (fd >= 0)
            close(fd);
        name[0] = '\0';
        return err;
    }
    *dirfd = fd;
    return 0;
}
