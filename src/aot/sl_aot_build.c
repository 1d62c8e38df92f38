/*
 * sl_aot_build.c — `sluice compile`: decode and validate the module, write
 * its translation in parts next to the shipped headers, run the C compiler
 * on the parts in parallel, link them into a shared object and pack that
 * into an artifact (sl_aot.h's header, then the object).
 *
 * Layer:     src/aot. Processes: posix_spawnp of the compiler, at most
 *            `jobs` at a time; nothing runs through a shell.
 * Compiler:  gcc (the flags below are gcc's; clang lacks several, and
 *            without -fsignaling-nans it folds x * 1.0 to x).
 * Flags:     -O2 -fPIC, frame pointers kept (native backtraces walk them),
 *            no cold-code splitting (a frame's address must fall inside its
 *            function; no partial inlining or cloning either: a clone such
 *            as w1.part.0 is not in the manifest's address table),
 *            no unwind tables and a stripped object (nothing unwinds native
 *            frames but our frame-pointer walk: smaller artifacts load
 *            faster), -ffp-contract=off (no fused multiply-add: Wasm
 *            rounds every operation), no strict aliasing (memory is bytes),
 *            -fsignaling-nans (x * 1.0 must quiet a signalling NaN, not
 *            fold to x), no sibling-call optimisation (Wasm has no tail calls here:
 *            endless recursion must exhaust the stack, not loop).
 *            The target is the baseline of the architecture, not -march=
 *            native: an artifact in a cache or an image must run on any
 *            machine of the architecture.
 * Not here:  loading (sl_aot_load.c).
 */
#include "sl_aot.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *
sl__aot_target(void)
{
#if defined(__x86_64__)
#define SL_ARCH_ "x86_64"
#elif defined(__aarch64__)
#define SL_ARCH_ "aarch64"
#else
#define SL_ARCH_ "other"
#endif
    return SL_MEM_GUARDED ? SL_ARCH_ "-linux-guard" : SL_ARCH_ "-linux-explicit";
}

void
sl__aot_sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
    unsigned len = 32;
    if (!EVP_Digest(p, n, out, &len, EVP_sha256(), NULL))
        memset(out, 0, 32);
}

static bool
write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return false;
    const uint8_t *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return false;
        }
        p += w;
        len -= (size_t)w;
    }
    return close(fd) == 0;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    bool err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Runs argv; returns the pid or -1. The child's stdout goes to stderr. */
static pid_t
spawn(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, 2, 1);
    pid_t pid;
    int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return r == 0 ? pid : -1;
}

static bool
wait_ok(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return false;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void
remove_tree(const char *dir, unsigned parts)
{
    char p[4200];
    for (size_t i = 0; i < sl__aot_n_files; i++) {
        snprintf(p, sizeof p, "%.4000s/%s", dir, sl__aot_files[i].name);
        unlink(p);
    }
    for (unsigned i = 0; i < parts; i++) {
        snprintf(p, sizeof p, "%.4000s/part%u.c", dir, i);
        unlink(p);
        snprintf(p, sizeof p, "%.4000s/part%u.o", dir, i);
        unlink(p);
    }
    snprintf(p, sizeof p, "%.4000s/sluice", dir);
    rmdir(p);
    snprintf(p, sizeof p, "%.4000s/module.so", dir);
    unlink(p);
    rmdir(dir);
}

/* Compiles parts into dir/module.so with at most jobs processes. */
static sl_err
run_compiler(const char *cc, const char *dir, unsigned parts, unsigned jobs, sl_diag *diag)
{
    char inc[4200];
    snprintf(inc, sizeof inc, "-I%.4000s", dir);
    pid_t *pids = calloc(parts, sizeof *pids);
    if (!pids)
        return sl__diag(diag, SL_ERR_NOMEM, SIZE_MAX, "out of memory");
    unsigned next = 0, running = 0, done = 0;
    bool ok = true;
    while (done < parts) {
        while (ok && next < parts && running < jobs) {
            char src[4200], obj[4200];
            snprintf(src, sizeof src, "%.4000s/part%u.c", dir, next);
            snprintf(obj, sizeof obj, "%.4000s/part%u.o", dir, next);
            char *argv[] = {(char *)cc, "-std=gnu11", "-O2", "-fPIC", "-w",
                            "-fno-omit-frame-pointer", "-fno-strict-aliasing",
                            "-ffp-contract=off", "-fno-math-errno",
                            "-fno-reorder-blocks-and-partition", "-fvisibility=hidden",
                            "-fno-optimize-sibling-calls", "-fsignaling-nans",
                            "-fno-partial-inlining", "-fno-ipa-sra", "-fno-ipa-cp-clone",
                            "-fno-asynchronous-unwind-tables", "-fno-unwind-tables",
                            SL_MEM_GUARDED ? "-DSL_AOT_GUARD" : "-DSL_MEMCHECK_EXPLICIT",
                            inc, "-c", src, "-o", obj, NULL};
            pid_t pid = spawn(argv);
            if (pid < 0) {
                ok = false;
                break;
            }
            pids[next++] = pid;
            running++;
        }
        if (!running)
            break;
        /* Wait for the oldest running one (parts are of similar size);
         * waitpid by pid: never reap a child that is not ours. */
        unsigned k = done;
        int st;
        if (waitpid(pids[k], &st, 0) < 0) {
            if (errno == EINTR)
                continue;
            ok = false;
            pids[k] = -1;
        } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            ok = false;
        }
        pids[k] = -1;
        running--;
        done++;
    }
    for (unsigned k = done; k < next; k++) /* after a failure: reap the rest */
        if (pids[k] > 0)
            wait_ok(pids[k]);
    free(pids);
    if (!ok)
        return sl__diag(diag, SL_ERR_IO, SIZE_MAX,
                        "aot: the C compiler '%s' failed or is missing (install gcc, or set "
                        "SLUICE_CC)",
                        cc);
    /* link */
    size_t argc = 0;
    char **argv = calloc(parts + 12, sizeof *argv);
    char **objs = calloc(parts, sizeof *objs);
    char out[4200];
    snprintf(out, sizeof out, "%.4000s/module.so", dir);
    if (!argv || !objs) {
        free(argv);
        free(objs);
        return sl__diag(diag, SL_ERR_NOMEM, SIZE_MAX, "out of memory");
    }
    argv[argc++] = (char *)cc;
    argv[argc++] = "-shared";
    argv[argc++] = "-Wl,-z,now";
    argv[argc++] = "-Wl,-s"; /* no symbol table: backtraces use the manifest */
    argv[argc++] = "-o";
    argv[argc++] = out;
    for (unsigned i = 0; i < parts; i++) {
        objs[i] = malloc(4200);
        if (objs[i]) {
            snprintf(objs[i], 4200, "%.4000s/part%u.o", dir, i);
            argv[argc++] = objs[i];
        }
    }
    argv[argc++] = "-lm";
    argv[argc] = NULL;
    pid_t pid = spawn(argv);
    ok = pid > 0 && wait_ok(pid);
    for (unsigned i = 0; i < parts; i++)
        free(objs[i]);
    free(objs);
    free(argv);
    if (!ok)
        return sl__diag(diag, SL_ERR_IO, SIZE_MAX, "aot: linking with '%s' failed", cc);
    return SL_OK;
}

static unsigned
online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

static sl_err
pack(const char *so_path, const uint8_t module_sha[32], const char *out_path, sl_diag *diag)
{
    size_t len = 0;
    uint8_t *so = read_file(so_path, &len);
    if (!so)
        return sl__diag(diag, SL_ERR_IO, SIZE_MAX, "aot: cannot read %s", so_path);
    sl_aot_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, SL_AOT_MAGIC, 8);
    h.abi = SL_NATIVE_ABI;
    h.header_size = sizeof h;
    memcpy(h.module_sha256, module_sha, 32);
    h.payload_len = len;
    sl__aot_sha256(so, len, h.payload_sha256);
    snprintf(h.target, sizeof h.target, "%s", sl__aot_target());
    memcpy(h.headers_sha256, sl__aot_files_sha256(), 32);
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%.4000s.tmp.%ld", out_path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0;
    if (ok) {
        FILE *f = fdopen(fd, "wb");
        ok = f && fwrite(&h, sizeof h, 1, f) == 1 && fwrite(so, 1, len, f) == len;
        if (f)
            ok = fclose(f) == 0 && ok;
        else
            close(fd);
    }
    free(so);
    if (!ok || rename(tmp, out_path) != 0) {
        unlink(tmp);
        return sl__diag(diag, SL_ERR_IO, SIZE_MAX, "aot: cannot write %s: %s", out_path,
                        strerror(errno));
    }
    return SL_OK;
}

sl_err
sl_aot_compile(sl_engine *engine, const uint8_t *bytes, size_t len, const char *out_path,
               const sl_aot_options *opt, sl_diag *diag)
{
    sl_aot_options o = opt ? *opt : (sl_aot_options){0};
    if (!o.cc)
        o.cc = getenv("SLUICE_CC") && *getenv("SLUICE_CC") ? getenv("SLUICE_CC") : "cc";
    if (!o.jobs)
        o.jobs = online_cpus();
    if (!o.work_dir)
        o.work_dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    if (!engine || !bytes || !out_path)
        return sl__diag(diag, SL_ERR_ARG, SIZE_MAX, "bad argument");

    sl_module *m = NULL;
    sl_err err = sl_module_new(engine, bytes, len, &m, diag);
    if (err)
        return err;
    uint8_t sha[32];
    sl__aot_sha256(bytes, len, sha);

    /* One part per ~32 KiB of code (a part is the unit of parallelism and
     * of load balance), at most 4 per job and 64 in all. */
    uint64_t code = 0;
    for (uint32_t i = 0; i < m->n_funcs - m->n_func_imports; i++)
        code += m->funcs[i].body_len;
    unsigned parts = (unsigned)(code / (32 * 1024)) + 1;
    if (parts > 4 * o.jobs)
        parts = 4 * o.jobs;
    if (parts > 64)
        parts = 64;
    ut_buf *src = calloc(parts, sizeof *src);
    char dir[4200];
    snprintf(dir, sizeof dir, "%.4000s/sluice-aot-XXXXXX", o.work_dir);
    if (!src) {
        sl_module_free(m);
        return sl__diag(diag, SL_ERR_NOMEM, SIZE_MAX, "out of memory");
    }
    err = sl__aot_emit(m, bytes, sha, parts, src, diag);
    sl_module_free(m);
    if (!err && !mkdtemp(dir))
        err = sl__diag(diag, SL_ERR_IO, SIZE_MAX, "aot: cannot create a directory in %s: %s",
                       o.work_dir, strerror(errno));
    bool made_dir = !err;
    if (!err) {
        char p[4400];
        snprintf(p, sizeof p, "%.4000s/sluice", dir);
        mkdir(p, 0755);
        for (size_t i = 0; i < sl__aot_n_files && !err; i++) {
            snprintf(p, sizeof p, "%.4000s/%s", dir, sl__aot_files[i].name);
            if (!write_file(p, sl__aot_files[i].text, strlen(sl__aot_files[i].text)))
                err = sl__diag(diag, SL_ERR_IO, SIZE_MAX, "aot: cannot write %s", p);
        }
        for (unsigned i = 0; i < parts && !err; i++) {
            snprintf(p, sizeof p, "%.4000s/part%u.c", dir, i);
            if (!write_file(p, src[i].data, src[i].len))
                err = sl__diag(diag, SL_ERR_IO, SIZE_MAX, "aot: cannot write %s", p);
        }
    }
    for (unsigned i = 0; i < parts; i++)
        ut_buf_free(&src[i]);
    free(src);
    if (!err)
        err = run_compiler(o.cc, dir, parts, o.jobs, diag);
    if (!err) {
        char so[4400];
        snprintf(so, sizeof so, "%.4000s/module.so", dir);
        err = pack(so, sha, out_path, diag);
    }
    if (made_dir) {
        if (o.keep_sources) {
            if (!o.quiet)
                fprintf(stderr, "sluice compile: sources kept in %s\n", dir);
        } else {
            remove_tree(dir, parts);
        }
    }
    return err;
}
