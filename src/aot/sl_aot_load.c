/*
 * sl_aot_load.c — artifacts in: checks, loading and attaching; the cache
 * directory; runtime selection and the background compile (tier-up).
 *
 * Layer:     src/aot. Attaches through sl__module_attach_native (the
 *            engine's only door for native code).
 * Checks:    before a byte of the payload is handed to the dynamic loader:
 *            the file is at least a header long, the magic, the engine ABI
 *            version, the hash of the headers the code was generated
 *            against (any drift in sl_native.h or an operation's
 *            definition), the target, the module's SHA-256 against the bytes
 *            the module was made from, the payload length against the file
 *            size (truncation) and the payload's SHA-256 (corruption).
 *            After dlopen (from a sealed memfd, never from a path someone
 *            could swap): the manifest's ABI, hash and function count.
 * Tier-up:   sl_aot_prepare in auto mode without a cached artifact starts
 *            a detached thread that compiles into the cache and attaches;
 *            a module freed meanwhile is forgotten first (the engine's free
 *            hook), so the thread never touches a freed module.
 */
#include "sl_aot.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- loading ------------------------------------------------------------------ */

/* The memfd stays open while the library is loaded: the dynamic loader
 * recognises objects by path name, and "/proc/self/fd/N" of a reused N
 * would hand back the previous library. */
typedef struct loaded {
    sl_native_lib lib; /* first */
    int fd;
} loaded;

static void
release_lib(sl_native_lib *lib)
{
    loaded *l = (loaded *)lib;
    if (lib->handle)
        dlclose(lib->handle);
    if (l->fd >= 0)
        close(l->fd);
    free(l);
}

typedef struct text_range {
    uintptr_t base, lo, hi;
} text_range;

static int
find_text(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    text_range *r = arg;
    if (info->dlpi_addr != r->base)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            r->lo = info->dlpi_addr + ph->p_vaddr;
            r->hi = r->lo + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

static uint8_t *
read_all(const char *path, size_t *len, sl_diag *diag)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sl__diag(diag, SL_ERR_IO, SIZE_MAX, "aot: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)1 << 32) {
        close(fd);
        sl__diag(diag, SL_ERR_ARG, SIZE_MAX, "aot: %s is not a plausible artifact", path);
        return NULL;
    }
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(n ? n : 1);
    while (buf && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != n) {
        free(buf);
        sl__diag(diag, SL_ERR_IO, SIZE_MAX, "aot: cannot read %s", path);
        return NULL;
    }
    *len = n;
    return buf;
}

/* sl_aot_load with the module's SHA-256 already computed (the cache path
 * needs it too: a 2 MB module costs ~1 ms to hash). */
static sl_err
load_hashed(sl_module *m, const uint8_t module_sha[32], const char *path, sl_diag *diag)
{
    if (sl_module_native(m))
        return SL_OK;
    size_t n = 0;
    uint8_t *file = read_all(path, &n, diag);
    if (!file)
        return diag ? diag->err : SL_ERR_IO;
    sl_err err = SL_OK;
    sl_aot_header h;
    uint8_t sha[32];
    if (n < sizeof h) {
        err = sl__diag(diag, SL_ERR_ARG, SIZE_MAX, "aot: %s is truncated (no header)", path);
        goto out;
    }
    memcpy(&h, file, sizeof h);
    if (memcmp(h.magic, SL_AOT_MAGIC, 8) != 0) {
        err = sl__diag(diag, SL_ERR_ARG, SIZE_MAX, "aot: %s is not a sluice artifact", path);
        goto out;
    }
    if (h.abi != SL_NATIVE_ABI || h.header_size != sizeof h) {
        err = sl__diag(diag, SL_ERR_ARG, SIZE_MAX,
                       "aot: %s was built for engine ABI %u, this engine has ABI %u", path,
                       (unsigned)h.abi, SL_NATIVE_ABI);
        goto out;
    }
    if (memcmp(h.headers_sha256, sl__aot_files_sha256(), 32) != 0) {
        err = sl__diag(diag, SL_ERR_ARG, SIZE_MAX,
                       "aot: %s was built by another sluice build (engine headers differ)", path);
        goto out;
    }
    if (strncmp(h.target, sl__aot_target(), sizeof h.target) != 0) {
        err = sl__diag(diag, SL_ERR_ARG, SIZE_MAX, "aot: %s targets %.*s, this engine is %s",
                       path, (int)sizeof h.target, h.target, sl__aot_target());
        goto out;
    }
    if (memcmp(module_sha, h.module_sha256, 32) != 0) {
        err = sl__diag(diag, SL_ERR_ARG, SIZE_MAX,
                       "aot: %s was compiled from another module (hash mismatch)", path);
        goto out;
    }
    if (h.payload_len != n - sizeof h) {
        err = sl__diag(diag, SL_ERR_ARG, SIZE_MAX,
                       "aot: %s is truncated or has trailing bytes (payload %llu, file %zu)", path,
                       (unsigned long long)h.payload_len, n);
        goto out;
    }
    sl__aot_sha256(file + sizeof h, n - sizeof h, sha);
    if (memcmp(sha, h.payload_sha256, 32) != 0) {
        err = sl__diag(diag, SL_ERR_ARG, SIZE_MAX, "aot: %s is corrupted (payload hash mismatch)",
                       path);
        goto out;
    }

    /* Checked: hand the payload to the dynamic loader from a sealed memfd. */
    int fd = memfd_create("sluice-aot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        err = sl__diag(diag, SL_ERR_IO, SIZE_MAX, "aot: memfd_create: %s", strerror(errno));
        goto out;
    }
    const uint8_t *p = file + sizeof h;
    size_t left = n - sizeof h;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        p += w;
        left -= (size_t)w;
    }
    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
    char fdpath[64];
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
    void *handle = left ? NULL : dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
    const char *dlerr = handle ? NULL : dlerror();
    if (!handle) {
        close(fd);
        err = sl__diag(diag, SL_ERR_ARG, SIZE_MAX, "aot: cannot load %s: %s", path,
                       dlerr ? dlerr : "write failed");
        goto out;
    }
    const sl_nmanifest *man = dlsym(handle, "sl_aot_manifest");
    if (!man || man->abi != SL_NATIVE_ABI || memcmp(man->module_sha256, h.module_sha256, 32) ||
        man->n_funcs != m->n_funcs - m->n_func_imports) {
        dlclose(handle);
        close(fd);
        err = sl__diag(diag, SL_ERR_ARG, SIZE_MAX, "aot: %s: manifest does not match the module",
                       path);
        goto out;
    }
    loaded *ld = calloc(1, sizeof *ld);
    sl_native_lib *lib = ld ? &ld->lib : NULL;
    if (!lib) {
        dlclose(handle);
        close(fd);
        err = sl__diag(diag, SL_ERR_NOMEM, SIZE_MAX, "out of memory");
        goto out;
    }
    ld->fd = fd;
    lib->man = man;
    lib->handle = handle;
    lib->release = release_lib;
    struct link_map *lm = NULL;
    text_range r = {0};
    if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0 && lm) {
        r.base = lm->l_addr;
        dl_iterate_phdr(find_text, &r);
    }
    lib->text_lo = r.lo;
    lib->text_hi = r.hi;
    err = sl__module_attach_native(m, lib);
    if (err) {
        release_lib(lib);
        if (sl_module_native(m))
            err = SL_OK; /* someone attached first: same code */
        else
            sl__diag(diag, err, SIZE_MAX, "aot: cannot attach %s", path);
    }
out:
    free(file);
    return err;
}

sl_err
sl_aot_load(sl_module *m, const uint8_t *bytes, size_t len, const char *path, sl_diag *diag)
{
    if (!m || !bytes || !path)
        return sl__diag(diag, SL_ERR_ARG, SIZE_MAX, "bad argument");
    uint8_t sha[32];
    sl__aot_sha256(bytes, len, sha);
    return load_hashed(m, sha, path, diag);
}

/* ---- the cache --------------------------------------------------------------------- */

static bool
cache_path_hashed(const char *dir, const uint8_t sha[32], char *out, size_t n)
{
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", sha[i]);
    int w = snprintf(out, n, "%s/%s.%s.slaot", dir, hex, sl__aot_target());
    return w > 0 && (size_t)w < n;
}

bool
sl_aot_cache_path(const char *dir, const uint8_t *bytes, size_t len, char *out, size_t n)
{
    uint8_t sha[32];
    sl__aot_sha256(bytes, len, sha);
    return cache_path_hashed(dir, sha, out, n);
}

static void
default_cache_dir(char *out, size_t n)
{
    const char *e = getenv("SLUICE_AOT_CACHE");
    if (e && *e) {
        snprintf(out, n, "%s", e);
        return;
    }
    e = getenv("XDG_CACHE_HOME");
    if (e && *e) {
        snprintf(out, n, "%s/sluice/aot", e);
        return;
    }
    e = getenv("HOME");
    snprintf(out, n, "%s/.cache/sluice/aot", e && *e ? e : "/tmp");
}

/* mkdir -p */
static bool
make_dirs(const char *dir)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return false;
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                return false;
            *s = '/';
        }
    return mkdir(p, 0755) == 0 || errno == EEXIST;
}

bool
sl_runtime_parse(const char *s, sl_runtime *out)
{
    if (!s || !strcmp(s, "interp"))
        *out = SL_RUNTIME_INTERP;
    else if (!strcmp(s, "aot"))
        *out = SL_RUNTIME_AOT;
    else if (!strcmp(s, "auto"))
        *out = SL_RUNTIME_AUTO;
    else
        return false;
    return true;
}

const char *
sl_runtime_name(sl_runtime r)
{
    return r == SL_RUNTIME_AOT ? "aot" : r == SL_RUNTIME_AUTO ? "auto" : "interp";
}

/* ---- background compiles ----------------------------------------------------------- */

typedef struct job {
    struct job *next;
    sl_module *module; /* NULL once the module is freed */
    sl_engine *engine;
    uint8_t *bytes;
    size_t len;
    char path[4096];
} job;

static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cv = PTHREAD_COND_INITIALIZER;
static job *jobs;
static unsigned jobs_running;

static void
forget_module(const sl_module *m)
{
    pthread_mutex_lock(&jobs_mu);
    for (job *j = jobs; j; j = j->next)
        if (j->module == m)
            j->module = NULL;
    pthread_mutex_unlock(&jobs_mu);
}

static void *
job_main(void *arg)
{
    job *j = arg;
    sl_diag d = {0};
    sl_aot_options o = {.quiet = true, .jobs = 1};
    sl_err err = sl_aot_compile(j->engine, j->bytes, j->len, j->path, &o, &d);
    pthread_mutex_lock(&jobs_mu);
    if (err) {
        fprintf(stderr, "sluice: background AOT compile failed, staying on the interpreter: %s\n",
                d.msg);
    } else if (j->module) {
        sl_diag d2 = {0};
        if (sl_aot_load(j->module, j->bytes, j->len, j->path, &d2))
            fprintf(stderr, "sluice: AOT artifact not used: %s\n", d2.msg);
    }
    for (job **p = &jobs; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            break;
        }
    jobs_running--;
    pthread_cond_broadcast(&jobs_cv);
    pthread_mutex_unlock(&jobs_mu);
    free(j->bytes);
    free(j);
    return NULL;
}

void
sl_aot_wait_idle(void)
{
    pthread_mutex_lock(&jobs_mu);
    while (jobs_running)
        pthread_cond_wait(&jobs_cv, &jobs_mu);
    pthread_mutex_unlock(&jobs_mu);
}

static sl_err
start_job(sl_module *m, const uint8_t *bytes, size_t len, const char *path, sl_diag *diag)
{
    job *j = calloc(1, sizeof *j);
    if (!j || !(j->bytes = malloc(len ? len : 1))) {
        free(j);
        return sl__diag(diag, SL_ERR_NOMEM, SIZE_MAX, "out of memory");
    }
    memcpy(j->bytes, bytes, len);
    j->len = len;
    j->module = m;
    j->engine = m->engine;
    snprintf(j->path, sizeof j->path, "%.4000s", path);
    sl__module_free_hook = forget_module;
    pthread_mutex_lock(&jobs_mu);
    j->next = jobs;
    jobs = j;
    jobs_running++;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int r = pthread_create(&t, &a, job_main, j);
    pthread_attr_destroy(&a);
    if (r != 0) {
        jobs = j->next;
        jobs_running--;
    }
    pthread_mutex_unlock(&jobs_mu);
    if (r != 0) {
        free(j->bytes);
        free(j);
        return sl__diag(diag, SL_ERR_NOMEM, SIZE_MAX, "aot: cannot start a compile thread");
    }
    return SL_OK;
}

sl_err
sl_aot_prepare(sl_module *m, const uint8_t *bytes, size_t len, sl_runtime mode,
               const char *cache_dir, sl_diag *diag)
{
    if (mode == SL_RUNTIME_INTERP || sl_module_native(m))
        return SL_OK;
    char dir[4096], path[4200];
    if (cache_dir && *cache_dir)
        snprintf(dir, sizeof dir, "%s", cache_dir);
    else
        default_cache_dir(dir, sizeof dir);
    uint8_t sha[32];
    sl__aot_sha256(bytes, len, sha);
    if (!make_dirs(dir) || !cache_path_hashed(dir, sha, path, sizeof path)) {
        sl__diag(diag, SL_ERR_IO, SIZE_MAX, "aot: cannot use the cache directory %s", dir);
        return mode == SL_RUNTIME_AOT ? SL_ERR_IO : SL_OK;
    }
    sl_diag d = {0};
    if (access(path, R_OK) == 0) {
        sl_err err = load_hashed(m, sha, path, &d);
        if (!err)
            return SL_OK;
        /* A bad cached artifact is replaced, never used. */
        fprintf(stderr, "sluice: %s; recompiling\n", d.msg);
        unlink(path);
    }
    if (mode == SL_RUNTIME_AUTO)
        return start_job(m, bytes, len, path, diag);
    sl_err err = sl_aot_compile(m->engine, bytes, len, path, NULL, diag);
    if (!err)
        err = load_hashed(m, sha, path, diag);
    return err;
}
