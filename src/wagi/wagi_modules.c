/*
 * wagi_modules.c — modules.toml into wagi_module_spec, and route matching
 * (behind wagi_modules.h; the file format is docs/wagi-modules.md).
 *
 * Owns:      the schema (which keys, their types, defaults and limits), the
 *            module reference forms (plain path, file:// URL; other schemes
 *            are refused by name), path resolution against the TOML file's
 *            directory, existence checks for module files and volume
 *            directories, the sha256 check, duplicate-route detection, and
 *            the most-specific-wins matcher.
 * Not here:  TOML syntax (src/util/ut_toml.c), compiling or running modules
 *            (wagi.c), _routes (the caller).
 * Durations and sizes use the gateway config's syntax (src/util/ut_units.c).
 * Ownership: the loader builds into a private wagi_modules and hands it
 *            over only when everything checked out; on any failure it frees
 *            what it built, so *out is either complete or zeroed.
 */
#include "wagi_modules.h"

#include "ut_units.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ut_toml.h"

#define MAX_FILE_BYTES (16u << 20)
#define MAX_MODULES 65536u
#define MAX_DURATION_MS 86400000u /* 24h, as the gateway config */
#define WASM_PAGE 65536u
#define MAX_PAGES 65536u /* 4 GiB: all a 32-bit memory can address */

typedef struct loader {
    const char *source;
    const char *base_dir;
    char *err;
    size_t err_len;
    bool failed;
    wagi_modules mods; /* being built */
    size_t idx;        /* current module index */
    char path[160];    /* "module[2].environment.FOO" for messages */
} loader;

/* ---- messages ----------------------------------------------------------------- */

/* Appends to L->path: ".key" when key is a plain word, else ["key"]. */
static void path_push(loader *L, const char *key, size_t klen, size_t *mark)
{
    size_t n = strlen(L->path);
    *mark = n;
    bool plain = klen > 0;
    for (size_t i = 0; i < klen && plain; i++) {
        char c = key[i];
        plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-';
    }
    char q[64];
    size_t o = 0;
    for (size_t i = 0; i < klen && o + 5 < sizeof q; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            o += (size_t)snprintf(q + o, sizeof q - o, "\\x%02x", c);
        else
            q[o++] = (char)c;
    }
    q[o] = '\0';
    snprintf(L->path + n, sizeof L->path - n, plain ? ".%s" : "[\"%s\"]", q);
}

static void path_pop(loader *L, size_t mark)
{
    L->path[mark] = '\0';
}

/* "SOURCE:LINE:COL: PATH: " (PATH omitted when empty) then fmt. */
static char *vformat(const loader *L, size_t line, size_t col, const char *fmt, va_list ap)
{
    char msg[512];
    int n = line ? snprintf(msg, sizeof msg, "%s:%zu:%zu: ", L->source, line, col)
                 : snprintf(msg, sizeof msg, "%s: ", L->source);
    size_t o = n < 0 ? 0 : (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
    if (L->path[0] && o < sizeof msg) {
        n = snprintf(msg + o, sizeof msg - o, "%s: ", L->path);
        o += n < 0 ? 0 : (size_t)n;
        if (o >= sizeof msg)
            o = sizeof msg - 1;
    }
    vsnprintf(msg + o, sizeof msg - o, fmt, ap);
    return strdup(msg);
}

__attribute__((format(printf, 5, 6)))
static void fail_pos(loader *L, size_t line, size_t col, bool with_path, const char *fmt, ...)
{
    if (L->failed)
        return;
    L->failed = true;
    if (!L->err || !L->err_len)
        return;
    char saved[sizeof L->path];
    memcpy(saved, L->path, sizeof saved);
    if (!with_path)
        L->path[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    char *m = vformat(L, line, col, fmt, ap);
    va_end(ap);
    memcpy(L->path, saved, sizeof saved);
    snprintf(L->err, L->err_len, "%s", m ? m : "out of memory");
    free(m);
}

/* Error at value v (its position), under the current path. */
#define fail_at(L, v, ...)                                                                         \
    do {                                                                                           \
        size_t l_, c_;                                                                             \
        ut_toml_pos((v), &l_, &c_);                                                                \
        fail_pos((L), l_, c_, true, __VA_ARGS__);                                                  \
    } while (0)

__attribute__((format(printf, 4, 5)))
static void warn_pos(loader *L, size_t line, size_t col, const char *fmt, ...)
{
    if (L->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *m = vformat(L, line, col, fmt, ap);
    va_end(ap);
    char **w = m ? realloc(L->mods.warnings, (L->mods.n_warnings + 1) * sizeof *w) : NULL;
    if (!w) {
        free(m);
        fail_pos(L, 0, 0, false, "out of memory");
        return;
    }
    w[L->mods.n_warnings++] = m;
    L->mods.warnings = w;
}

static void oom(loader *L)
{
    fail_pos(L, 0, 0, false, "out of memory");
}

static char *sdup(loader *L, const char *s)
{
    char *d = strdup(s);
    if (!d)
        oom(L);
    return d;
}

/* ---- values ------------------------------------------------------------------------- */

/* The string at v, checked: a string, no NUL bytes, non-empty unless
 * allow_empty. NULL (failed) otherwise. */
static const char *want_string(loader *L, const ut_toml *v, bool allow_empty)
{
    size_t len = 0;
    const char *s = ut_toml_strn(v, &len);
    if (!s) {
        fail_at(L, v, "expected a string, got %s %s",
                ut_toml_type_of(v) == UT_TOML_INTEGER || ut_toml_type_of(v) == UT_TOML_ARRAY
                    ? "an"
                    : "a",
                ut_toml_type_name(ut_toml_type_of(v)));
        return NULL;
    }
    if (memchr(s, '\0', len)) {
        fail_at(L, v, "NUL character in the string");
        return NULL;
    }
    if (!len && !allow_empty) {
        fail_at(L, v, "must not be empty");
        return NULL;
    }
    return s;
}

static const ut_toml *want_table(loader *L, const ut_toml *v)
{
    if (ut_toml_type_of(v) != UT_TOML_TABLE) {
        fail_at(L, v, "expected a table (e.g. { KEY = \"value\" }), got %s",
                ut_toml_type_name(ut_toml_type_of(v)));
        return NULL;
    }
    return v;
}

static bool want_u32(loader *L, const ut_toml *v, uint32_t *out)
{
    int64_t x;
    if (!ut_toml_int(v, &x)) {
        fail_at(L, v, "expected an integer, got %s", ut_toml_type_name(ut_toml_type_of(v)));
        return false;
    }
    if (x < 0 || x > (int64_t)UINT32_MAX) {
        fail_at(L, v, "must be between 0 and %u", (unsigned)UINT32_MAX);
        return false;
    }
    *out = (uint32_t)x;
    return true;
}

static bool want_timeout(loader *L, const ut_toml *v, uint32_t *out)
{
    int64_t x;
    uint64_t ms;
    size_t len;
    const char *s = ut_toml_strn(v, &len);
    if (ut_toml_int(v, &x)) {
        if (x < 0) {
            fail_at(L, v, "must be between 1ms and 24h");
            return false;
        }
        ms = (uint64_t)x;
    } else if (s) {
        if (!ut_parse_duration_ms(s, len, &ms)) {
            fail_at(L, v, "bad duration \"%.40s\" (use e.g. \"250ms\", \"30s\", \"1.5m\", "
                          "or an integer of milliseconds)", s);
            return false;
        }
    } else {
        fail_at(L, v, "expected a duration (\"5s\") or an integer of milliseconds, got %s",
                ut_toml_type_name(ut_toml_type_of(v)));
        return false;
    }
    if (ms < 1 || ms > MAX_DURATION_MS) {
        fail_at(L, v, "must be between 1ms and 24h");
        return false;
    }
    *out = (uint32_t)ms;
    return true;
}

static bool want_memory(loader *L, const ut_toml *v, uint32_t *out)
{
    int64_t x;
    size_t len;
    const char *s = ut_toml_strn(v, &len);
    uint64_t pages;
    if (ut_toml_int(v, &x)) {
        pages = x < 0 ? 0 : (uint64_t)x;
        if (x < 1 || x > MAX_PAGES) {
            fail_at(L, v, "an integer is a number of 64 KiB pages: 1 to %u", MAX_PAGES);
            return false;
        }
    } else if (s) {
        uint64_t bytes;
        if (!ut_parse_size(s, len, &bytes)) {
            fail_at(L, v, "bad size \"%.40s\" (use e.g. \"64MiB\", \"512KiB\", \"1GiB\", or an "
                          "integer of 64 KiB pages)", s);
            return false;
        }
        if (bytes < 1 || bytes > (uint64_t)MAX_PAGES * WASM_PAGE) {
            fail_at(L, v, "must be between 1 byte (one 64 KiB page) and 4GiB");
            return false;
        }
        pages = (bytes + WASM_PAGE - 1) / WASM_PAGE;
    } else {
        fail_at(L, v, "expected a size (\"64MiB\") or an integer of 64 KiB pages, got %s",
                ut_toml_type_name(ut_toml_type_of(v)));
        return false;
    }
    *out = (uint32_t)pages;
    return true;
}

/* ---- paths ----------------------------------------------------------------------------- */

/* base + "/" + rel (rel's leading "./" dropped); rel when absolute or no base. */
static char *resolve(loader *L, const char *rel)
{
    if (rel[0] == '/' || !L->base_dir || !L->base_dir[0])
        return sdup(L, rel);
    while (rel[0] == '.' && rel[1] == '/') {
        rel += 2;
        while (rel[0] == '/')
            rel++;
    }
    if (rel[0] == '\0' || (rel[0] == '.' && rel[1] == '\0'))
        return sdup(L, L->base_dir);
    size_t bl = strlen(L->base_dir);
    while (bl > 1 && L->base_dir[bl - 1] == '/')
        bl--;
    size_t rl = strlen(rel);
    char *p = malloc(bl + 1 + rl + 1);
    if (!p) {
        oom(L);
        return NULL;
    }
    memcpy(p, L->base_dir, bl);
    size_t o = bl;
    if (!(bl == 1 && L->base_dir[0] == '/'))
        p[o++] = '/';
    memcpy(p + o, rel, rl + 1);
    return p;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A URL scheme ("oci", "https", ...) at the start of s: its length, or 0. */
static size_t scheme_len(const char *s)
{
    size_t i = 0;
    if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return 0;
    while ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
           (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return s[i] == ':' ? i : 0;
}

/* The module reference at v into a file path (owned), or NULL (failed). */
static char *module_path(loader *L, const ut_toml *v)
{
    const char *ref = want_string(L, v, false);
    if (!ref)
        return NULL;
    size_t sl = scheme_len(ref);
    if (sl == 4 && strncmp(ref, "file", 4) == 0) {
        const char *p = ref + 5;
        if (strncmp(p, "//", 2) != 0) {
            fail_at(L, v, "a file URL must be file:///absolute/path (or give a plain path)");
            return NULL;
        }
        p += 2;
        if (strncmp(p, "localhost/", 10) == 0)
            p += 9;
        if (p[0] != '/') {
            fail_at(L, v, "file URLs with a host are not supported (use file:///absolute/path)");
            return NULL;
        }
        if (strpbrk(p, "?#")) {
            fail_at(L, v, "file URLs with a query or fragment are not supported");
            return NULL;
        }
        char *out = malloc(strlen(p) + 1);
        if (!out) {
            oom(L);
            return NULL;
        }
        size_t o = 0;
        for (size_t i = 0; p[i]; i++) {
            if (p[i] != '%') {
                out[o++] = p[i];
                continue;
            }
            int hi = hexval(p[i + 1]), lo = hi < 0 ? -1 : hexval(p[i + 2]);
            if (lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                fail_at(L, v, "bad percent-escape in the file URL");
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        }
        out[o] = '\0';
        return out;
    }
    if (sl) {
        fail_at(L, v, "module references of the form \"%.*s:...\" are not supported (WAGI's oci: "
                      "and bindle: sources are not implemented): give a file path or a file:/// "
                      "URL (write \"./%.20s\" for a relative file name with a colon)",
                (int)(sl < 16 ? sl : 16), ref, ref);
        return NULL;
    }
    return resolve(L, ref);
}

/* Checks path is an existing file (want_dir: directory). */
static bool check_path(loader *L, const ut_toml *v, const char *path, bool want_dir)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fail_at(L, v, "%s: %s", path, strerror(errno));
        return false;
    }
    if (want_dir && !S_ISDIR(st.st_mode)) {
        fail_at(L, v, "%s: not a directory", path);
        return false;
    }
    if (!want_dir && !S_ISREG(st.st_mode)) {
        fail_at(L, v, "%s: not a regular file", path);
        return false;
    }
    return true;
}

/* SHA-256 of the file at path into hex[65]; false with errno-style text in why. */
static bool file_sha256(const char *path, char hex[65], const char **why)
{
    static const char digits[] = "0123456789abcdef";
    FILE *f = fopen(path, "rb");
    if (!f) {
        *why = strerror(errno);
        return false;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    unsigned char buf[65536];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ok = EVP_DigestUpdate(ctx, buf, n) == 1;
    if (ok && ferror(f)) {
        ok = false;
        *why = "read error";
    } else if (!ok) {
        *why = "SHA-256 failed";
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (ok && (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)) {
        ok = false;
        *why = "SHA-256 failed";
    }
    EVP_MD_CTX_free(ctx);
    fclose(f);
    if (!ok)
        return false;
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
    return true;
}

/* ---- routes --------------------------------------------------------------------------- */

static bool route_is_prefix(const char *r, size_t rl)
{
    return rl >= 4 && memcmp(r + rl - 4, "/...", 4) == 0;
}

static char *want_route(loader *L, const ut_toml *v)
{
    const char *r = want_string(L, v, false);
    if (!r)
        return NULL;
    size_t rl = strlen(r);
    if (r[0] != '/') {
        fail_at(L, v, "a route starts with '/' (\"/hello\", or \"/static/...\" for a prefix)");
        return NULL;
    }
    for (size_t i = 0; i < rl; i++) {
        unsigned char c = (unsigned char)r[i];
        if (c <= 0x20 || c == 0x7f || c == '?' || c == '#') {
            fail_at(L, v, "a route cannot contain %s", c == '?' ? "a query ('?')"
                                                     : c == '#' ? "a fragment ('#')"
                                                                : "spaces or control characters");
            return NULL;
        }
    }
    const char *dots = strstr(r, "...");
    if (dots && !(route_is_prefix(r, rl) && dots == r + rl - 3)) {
        fail_at(L, v, "'...' is only allowed at the end, as \"/...\" (a prefix route: "
                      "\"/static/...\")");
        return NULL;
    }
    for (size_t i = 0; i < L->mods.n; i++) {
        if (strcmp(L->mods.items[i].route, r) == 0) {
            fail_at(L, v, "route \"%.60s\" is already used by module[%zu] (line %zu)", r, i,
                    L->mods.items[i].line);
            return NULL;
        }
    }
    return sdup(L, r);
}

/* ---- one [[module]] ------------------------------------------------------------------------ */

typedef enum key_id {
    K_ROUTE,
    K_MODULE,
    K_SHA256,
    K_ENTRYPOINT,
    K_ARGV,
    K_ENVIRONMENT,
    K_VOLUMES,
    K_ALLOWED_HOSTS,
    K_HTTP_MAX_CONCURRENCY,
    K_TIMEOUT,
    K_MAX_MEMORY,
    K_INIT,
    K_RUNTIME,
    K_BINDLE_SERVER, /* WAGI keys accepted with a warning from here on */
    K_REPOSITORY,
    K_COUNT,
} key_id;

static const char *const key_names[K_COUNT] = {
    "route", "module", "sha256", "entrypoint", "argv", "environment", "volumes",
    "allowed_hosts", "http_max_concurrency", "timeout", "max_memory", "init",
    "runtime", "bindle_server", "repository",
};

/* Levenshtein distance, capped (for "did you mean"). */
static size_t edit_distance(const char *a, size_t al, const char *b)
{
    size_t bl = strlen(b);
    if (al > 40 || bl > 40)
        return 99;
    size_t row[41];
    for (size_t j = 0; j <= bl; j++)
        row[j] = j;
    for (size_t i = 1; i <= al; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= bl; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[bl];
}

/* key for a message: at most 40 bytes, control characters as '?'. */
static void safe_key(char *out, size_t cap, const char *key, size_t klen)
{
    snprintf(out, cap, "%.*s", (int)(klen < 40 ? klen : 40), key);
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
}

static void unknown_key(loader *L, const ut_toml *tbl, size_t i, const char *key, size_t klen)
{
    size_t line, col;
    ut_toml_key_pos(tbl, i, &line, &col);
    const char *best = NULL;
    size_t bd = 3;
    for (int k = 0; k < K_COUNT; k++) {
        size_t d = edit_distance(key, klen, key_names[k]);
        if (d < bd) {
            bd = d;
            best = key_names[k];
        }
    }
    if (klen == 3 && memcmp(key, "env", 3) == 0)
        best = "environment";
    char q[48];
    safe_key(q, sizeof q, key, klen);
    if (klen == 4 && memcmp(key, "host", 4) == 0)
        fail_pos(L, line, col, true, "unknown key 'host' (per-module virtual hosts were removed "
                                     "from WAGI in 0.4; route on the host in the gateway)");
    else if (best)
        fail_pos(L, line, col, true, "unknown key '%s' (did you mean '%s'?)", q, best);
    else
        fail_pos(L, line, col, true, "unknown key '%s' (known: route, module, sha256, entrypoint, "
                                     "argv, environment, volumes, allowed_hosts, "
                                     "http_max_concurrency, timeout, max_memory, init, "
                                     "runtime)", q);
}

static bool read_env(loader *L, wagi_module_spec *s, const ut_toml *v)
{
    if (!want_table(L, v))
        return false;
    size_t n = ut_toml_len(v);
    s->env = calloc(n ? n : 1, sizeof *s->env);
    if (!s->env) {
        oom(L);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        size_t klen, mark;
        const ut_toml *val;
        const char *key = ut_toml_key_at(v, i, &klen, &val);
        path_push(L, key, klen, &mark);
        size_t line, col;
        ut_toml_key_pos(v, i, &line, &col);
        if (klen == 0 || memchr(key, '=', klen) || memchr(key, '\0', klen)) {
            fail_pos(L, line, col, true, "an environment variable name must be non-empty, "
                                         "without '=' or NUL");
            return false;
        }
        const char *sv = ut_toml_type_of(val) == UT_TOML_STRING ? want_string(L, val, true) : NULL;
        if (!sv) {
            if (!L->failed)
                fail_at(L, val, "expected a string, got %s (quote it: \"...\")",
                        ut_toml_type_name(ut_toml_type_of(val)));
            return false;
        }
        char *name = sdup(L, key), *value = sdup(L, sv);
        s->env[s->n_env].name = name;
        s->env[s->n_env].value = value;
        s->n_env++;
        if (!name || !value)
            return false;
        path_pop(L, mark);
    }
    return true;
}

static bool read_volumes(loader *L, wagi_module_spec *s, const ut_toml *v)
{
    if (!want_table(L, v))
        return false;
    size_t n = ut_toml_len(v);
    s->volumes = calloc(n ? n : 1, sizeof *s->volumes);
    if (!s->volumes) {
        oom(L);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        size_t klen, mark;
        const ut_toml *val;
        const char *guest = ut_toml_key_at(v, i, &klen, &val);
        path_push(L, guest, klen, &mark);
        size_t line, col;
        ut_toml_key_pos(v, i, &line, &col);
        if (klen == 0 || memchr(guest, '\0', klen)) {
            fail_pos(L, line, col, true, "the guest path (the key) must be non-empty, without NUL");
            return false;
        }
        const char *host = want_string(L, val, false);
        if (!host)
            return false;
        char *hdir = resolve(L, host);
        char *gpath = sdup(L, guest);
        s->volumes[s->n_volumes].name = hdir;
        s->volumes[s->n_volumes].value = gpath;
        s->n_volumes++;
        if (!hdir || !gpath || !check_path(L, val, hdir, true))
            return false;
        path_pop(L, mark);
    }
    return true;
}

static bool read_hosts(loader *L, wagi_module_spec *s, const ut_toml *v)
{
    if (ut_toml_type_of(v) != UT_TOML_ARRAY) {
        fail_at(L, v, "expected an array of strings, got %s", ut_toml_type_name(ut_toml_type_of(v)));
        return false;
    }
    size_t n = ut_toml_len(v);
    s->allowed_hosts = calloc(n ? n : 1, sizeof *s->allowed_hosts);
    if (!s->allowed_hosts) {
        oom(L);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        size_t mark = strlen(L->path);
        snprintf(L->path + mark, sizeof L->path - mark, "[%zu]", i);
        const char *h = want_string(L, ut_toml_at(v, i), false);
        if (!h)
            return false;
        if (!(s->allowed_hosts[s->n_allowed_hosts++] = sdup(L, h)))
            return false;
        path_pop(L, mark);
    }
    return true;
}

static void free_spec(wagi_module_spec *s)
{
    free(s->route);
    free(s->module);
    free(s->sha256);
    free(s->entrypoint);
    free(s->argv);
    free(s->init);
    for (size_t i = 0; i < s->n_env; i++) {
        free((char *)s->env[i].name);
        free((char *)s->env[i].value);
    }
    free(s->env);
    for (size_t i = 0; i < s->n_volumes; i++) {
        free((char *)s->volumes[i].name);
        free((char *)s->volumes[i].value);
    }
    free(s->volumes);
    for (size_t i = 0; i < s->n_allowed_hosts; i++)
        free(s->allowed_hosts[i]);
    free(s->allowed_hosts);
    memset(s, 0, sizeof *s);
}

/* Reads module table t (index L->idx) into s; s is freed by the caller. */
static bool read_module(loader *L, const ut_toml *t, wagi_module_spec *s)
{
    size_t tline, tcol;
    ut_toml_pos(t, &tline, &tcol);
    s->line = tline;
    const ut_toml *by_id[K_COUNT] = {0};
    snprintf(L->path, sizeof L->path, "module[%zu]", L->idx);
    if (ut_toml_type_of(t) != UT_TOML_TABLE) {
        fail_at(L, t, "expected a table ([[module]]), got %s", ut_toml_type_name(ut_toml_type_of(t)));
        return false;
    }
    for (size_t i = 0; i < ut_toml_len(t); i++) {
        size_t klen;
        const ut_toml *val;
        const char *key = ut_toml_key_at(t, i, &klen, &val);
        int id = -1;
        for (int k = 0; k < K_COUNT; k++)
            if (strlen(key_names[k]) == klen && memcmp(key_names[k], key, klen) == 0)
                id = k;
        if (id < 0) {
            unknown_key(L, t, i, key, klen);
            return false;
        }
        by_id[id] = val;
    }
    for (int k = K_ROUTE; k <= K_MODULE; k++) {
        if (!by_id[k]) {
            fail_pos(L, tline, tcol, true, "missing required key '%s'", key_names[k]);
            return false;
        }
    }
    size_t mark;
    for (int k = 0; k < K_COUNT; k++) {
        const ut_toml *v = by_id[k];
        if (!v)
            continue;
        path_push(L, key_names[k], strlen(key_names[k]), &mark);
        const char *str;
        bool ok = true;
        size_t vl, vc;
        ut_toml_pos(v, &vl, &vc);
        switch ((key_id)k) {
        case K_ROUTE:
            ok = (s->route = want_route(L, v)) != NULL;
            break;
        case K_MODULE:
            ok = (s->module = module_path(L, v)) != NULL && check_path(L, v, s->module, false);
            break;
        case K_SHA256: {
            ok = (str = want_string(L, v, false)) != NULL;
            if (!ok)
                break;
            bool hex = strlen(str) == 64;
            for (size_t i = 0; hex && i < 64; i++)
                hex = hexval(str[i]) >= 0;
            if (!hex) {
                fail_at(L, v, "expected 64 hexadecimal digits (the SHA-256 of the module file)");
                ok = false;
                break;
            }
            if (!(s->sha256 = sdup(L, str))) {
                ok = false;
                break;
            }
            for (char *c = s->sha256; *c; c++)
                if (*c >= 'A' && *c <= 'F')
                    *c = (char)(*c - 'A' + 'a');
            break;
        }
        case K_ENTRYPOINT:
            ok = (str = want_string(L, v, false)) != NULL && (s->entrypoint = sdup(L, str)) != NULL;
            break;
        case K_ARGV:
            ok = (str = want_string(L, v, true)) != NULL && (s->argv = sdup(L, str)) != NULL;
            break;
        case K_ENVIRONMENT:
            ok = read_env(L, s, v);
            break;
        case K_VOLUMES:
            ok = read_volumes(L, s, v);
            break;
        case K_ALLOWED_HOSTS:
            ok = read_hosts(L, s, v);
            if (ok && s->n_allowed_hosts)
                warn_pos(L, vl, vc, "stored, but outbound HTTP (wasi_experimental_http) is not "
                                    "available to modules yet");
            break;
        case K_HTTP_MAX_CONCURRENCY:
            ok = want_u32(L, v, &s->http_max_concurrency);
            break;
        case K_INIT:
            ok = (str = want_string(L, v, false)) != NULL && (s->init = sdup(L, str)) != NULL;
            break;
        case K_RUNTIME:
            ok = (str = want_string(L, v, false)) != NULL;
            if (ok && !sl_runtime_parse(str, &s->runtime)) {
                fail_at(L, v, "unknown runtime \"%.40s\" (expected interp, aot or auto)", str);
                ok = false;
            }
            break;
        case K_TIMEOUT:
            ok = want_timeout(L, v, &s->timeout_ms);
            break;
        case K_MAX_MEMORY:
            ok = want_memory(L, v, &s->max_memory_pages);
            break;
        case K_BINDLE_SERVER:
            ok = want_string(L, v, true) != NULL;
            if (ok)
                warn_pos(L, vl, vc, "ignored (bindle: module references are not supported)");
            break;
        case K_REPOSITORY:
            warn_pos(L, vl, vc, "ignored (reserved by WAGI)");
            break;
        case K_COUNT:
            break;
        }
        if (!ok || L->failed)
            return false;
        path_pop(L, mark);
    }
    if (!s->entrypoint && !(s->entrypoint = sdup(L, "_start")))
        return false;
    if (s->sha256) {
        char hex[65];
        const char *why = "";
        path_push(L, "sha256", 6, &mark);
        if (!file_sha256(s->module, hex, &why)) {
            fail_at(L, by_id[K_SHA256], "%s: %s", s->module, why);
            return false;
        }
        if (strcmp(hex, s->sha256) != 0) {
            fail_at(L, by_id[K_SHA256], "%s does not match: its SHA-256 is %s", s->module, hex);
            return false;
        }
        path_pop(L, mark);
    }
    return true;
}

/* ---- loading ------------------------------------------------------------------------------------ */

/* Route a covers every path route b matches (a is "P/..." and b is P, under
 * P/, or a prefix route inside P). */
static bool route_covers(const char *a, const char *b)
{
    size_t al = strlen(a), bl = strlen(b);
    if (!route_is_prefix(a, al))
        return false;
    size_t pl = al - 4;
    size_t bfix = route_is_prefix(b, bl) ? bl - 4 : bl; /* b's fixed part */
    return bfix >= pl && memcmp(a, b, pl) == 0 && (bfix == pl || b[pl] == '/');
}

/* WAGI 0.8.1 takes the first match in file order; sluice the most specific.
 * Where that differs (an earlier route covers a later one), say so: the
 * file means something else under WAGI. */
static void shadow_warnings(loader *L, const ut_toml *mods)
{
    for (size_t j = 1; j < L->mods.n && !L->failed; j++) {
        for (size_t i = 0; i < j; i++) {
            const wagi_module_spec *a = &L->mods.items[i], *b = &L->mods.items[j];
            if (!route_covers(a->route, b->route))
                continue;
            const ut_toml *t = ut_toml_at(mods, j);
            const ut_toml *v = ut_toml_get(t, "route");
            size_t line = b->line, col = 1;
            if (v)
                ut_toml_pos(v, &line, &col);
            snprintf(L->path, sizeof L->path, "module[%zu].route", j);
            warn_pos(L, line, col, "\"%.60s\" comes after \"%.60s\" (module[%zu]), which "
                                   "covers it: WAGI 0.8.1 (first match in file order) would "
                                   "never run this module; sluice runs the most specific route",
                     b->route, a->route, i);
            break;
        }
    }
    L->path[0] = '\0';
}

int wagi_modules_load_string(const char *toml, size_t len, const char *source, const char *base_dir,
                             wagi_modules *out, char *err, size_t err_len)
{
    loader L = {
        .source = source ? source : "<modules.toml>",
        .base_dir = base_dir,
        .err = err,
        .err_len = err_len,
    };
    if (err && err_len)
        err[0] = '\0';
    if (!out) {
        fail_pos(&L, 0, 0, false, "no output");
        return -1;
    }
    memset(out, 0, sizeof *out);
    ut_toml_err te;
    ut_toml *root = ut_toml_parse(toml, len, 0, &te);
    if (!root) {
        fail_pos(&L, te.line, te.col, false, "%s", te.msg);
        return -1;
    }
    const ut_toml *mods = NULL;
    for (size_t i = 0; i < ut_toml_len(root) && !L.failed; i++) {
        size_t klen, line, col;
        const ut_toml *v;
        const char *key = ut_toml_key_at(root, i, &klen, &v);
        ut_toml_key_pos(root, i, &line, &col);
        char q[48];
        safe_key(q, sizeof q, key, klen);
        if (klen == 6 && memcmp(key, "module", 6) == 0)
            mods = v;
        else
            fail_pos(&L, line, col, false, "unknown top-level key '%s' (a modules.toml holds "
                                           "only [[module]] tables)", q);
    }
    if (!L.failed && !mods)
        fail_pos(&L, 0, 0, false, "no [[module]] entries");
    if (!L.failed && (ut_toml_type_of(mods) != UT_TOML_ARRAY || ut_toml_len(mods) == 0)) {
        size_t line, col;
        ut_toml_pos(mods, &line, &col);
        fail_pos(&L, line, col, false, "'module' must be a non-empty array of tables "
                                       "([[module]] entries), got %s",
                 ut_toml_type_of(mods) == UT_TOML_ARRAY ? "an empty array"
                                                        : ut_toml_type_name(ut_toml_type_of(mods)));
    }
    size_t n = L.failed ? 0 : ut_toml_len(mods);
    if (n > MAX_MODULES)
        fail_pos(&L, 0, 0, false, "too many modules (%zu; at most %u)", n, MAX_MODULES);
    if (!L.failed && !(L.mods.items = calloc(n, sizeof *L.mods.items)))
        oom(&L);
    for (size_t i = 0; i < n && !L.failed; i++) {
        L.idx = i;
        bool ok = read_module(&L, ut_toml_at(mods, i), &L.mods.items[i]);
        L.mods.n = i + 1; /* owned from now on, even partially filled */
        if (!ok)
            break;
    }
    if (!L.failed)
        shadow_warnings(&L, mods);
    ut_toml_free(root);
    if (L.failed) {
        wagi_modules_free(&L.mods);
        return -1;
    }
    *out = L.mods;
    return 0;
}

/* The directory of path, absolute (the current directory prepended when
 * path is relative); lexical, no symlinks resolved. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) : 0;
    if (slash && dl == 0)
        dl = 1; /* "/x.toml" -> "/" */
    if (path[0] == '/')
        return strndup(path, dl);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    size_t cl = strlen(cwd);
    char *d = malloc(cl + 1 + dl + 1);
    if (!d)
        return NULL;
    memcpy(d, cwd, cl);
    if (dl && !(dl == 1 && path[0] == '.')) {
        if (cl > 1 || cwd[0] != '/')
            d[cl++] = '/';
        memcpy(d + cl, path, dl);
        cl += dl;
    }
    d[cl] = '\0';
    return d;
}

int wagi_modules_load_file(const char *path, wagi_modules *out, char *err, size_t err_len)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (err && err_len)
        err[0] = '\0';
    if (!path) {
        if (err && err_len)
            snprintf(err, err_len, "no modules.toml path");
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && err_len)
            snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(MAX_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
    int rerr = ferror(f);
    fclose(f);
    const char *why = !buf ? "out of memory"
                      : rerr ? "read error"
                      : n > MAX_FILE_BYTES ? "larger than 16 MiB"
                                           : NULL;
    char *dir = why ? NULL : dir_of(path);
    if (!why && !dir)
        why = "cannot determine the current directory";
    if (why) {
        if (err && err_len)
            snprintf(err, err_len, "%s: %s", path, why);
        free(buf);
        free(dir);
        return -1;
    }
    int rc = wagi_modules_load_string(buf, n, path, dir, out, err, err_len);
    free(buf);
    free(dir);
    return rc;
}

void wagi_modules_free(wagi_modules *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free_spec(&m->items[i]);
    free(m->items);
    for (size_t i = 0; i < m->n_warnings; i++)
        free(m->warnings[i]);
    free(m->warnings);
    for (size_t i = 0; i < m->n_subs; i++) {
        free(m->subs[i].route);
        free(m->subs[i].entrypoint);
    }
    free(m->subs);
    memset(m, 0, sizeof *m);
}

/* ---- matching -------------------------------------------------------------------------------------- */

/* How well route r matches path[0..len): -1 no match; else a rank where
 * higher is more specific (exact above every prefix, longer prefixes above
 * shorter), and *sn the SCRIPT_NAME length. */
static long long route_rank(const char *r, const char *path, size_t path_len, size_t *sn)
{
    size_t rl = strlen(r);
    if (!route_is_prefix(r, rl)) {
        if (rl != path_len || memcmp(r, path, rl) != 0)
            return -1;
        *sn = path_len;
        return (long long)1 << 40;
    }
    size_t pl = rl - 4;
    if (path_len < pl || memcmp(r, path, pl) != 0 || (path_len != pl && path[pl] != '/'))
        return -1;
    *sn = pl;
    return (long long)pl;
}

bool wagi_modules_lookup(const wagi_modules *m, const char *path, size_t path_len,
                         wagi_match *out)
{
    if (!m || (!path && path_len))
        return false;
    if (!path)
        path = "";
    const char *q = path_len ? memchr(path, '?', path_len) : NULL;
    if (q)
        path_len = (size_t)(q - path);
    /* rank, then sub-route over module route, then the later _routes line */
    long long best = -1;
    size_t best_seq = 0, sn = 0;
    wagi_match found = {0};
    for (size_t i = 0; i < m->n; i++) {
        const char *r = m->items[i].route;
        long long k = r ? route_rank(r, path, path_len, &sn) : -1;
        if (k > best) {
            best = k;
            best_seq = 0;
            found = (wagi_match){i, r, m->items[i].entrypoint ? m->items[i].entrypoint : "_start",
                                 sn, NULL};
        }
    }
    for (size_t i = 0; i < m->n_subs; i++) {
        const wagi_subroute *s = &m->subs[i];
        long long k = route_rank(s->route, path, path_len, &sn);
        if (k >= 0 && (k > best || (k == best && s->seq > best_seq))) {
            best = k;
            best_seq = s->seq;
            found = (wagi_match){s->module, s->route, s->entrypoint, sn, s};
        }
    }
    if (best < 0)
        return false;
    *out = found;
    return true;
}

int wagi_modules_match(const wagi_modules *m, const char *path, size_t path_len,
                       size_t *script_name_len)
{
    wagi_match f;
    if (!wagi_modules_lookup(m, path, path_len, &f))
        return -1;
    if (script_name_len)
        *script_name_len = f.script_name_len;
    return (int)f.module;
}

/* ---- _routes ---------------------------------------------------------------------------------------- */

/* A route's own checks (as want_route): starts with '/', no SP/CTL/?/#,
 * "..." only as the final "/...". NULL when fine, else why. */
static const char *route_problem(const char *r, size_t rl)
{
    if (!rl || r[0] != '/')
        return "does not start with '/'";
    for (size_t i = 0; i < rl; i++) {
        unsigned char c = (unsigned char)r[i];
        if (c <= 0x20 || c == 0x7f || c == '?' || c == '#')
            return "holds a space, a control character, '?' or '#'";
    }
    const char *dots = strstr(r, "...");
    if (dots && !(route_is_prefix(r, rl) && dots == r + rl - 3))
        return "has '...' other than as a final \"/...\"";
    return NULL;
}

int wagi_modules_add_subroutes(wagi_modules *m, size_t module, const char *text, size_t len,
                               char *err, size_t err_len)
{
    char dummy[8];
    if (!err || !err_len)
        err = dummy, err_len = sizeof dummy;
    err[0] = '\0';
    if (!m || module >= m->n || (!text && len)) {
        snprintf(err, err_len, "bad arguments");
        return -1;
    }
    const wagi_module_spec *parent = &m->items[module];
    size_t prl = strlen(parent->route);
    size_t base_len = route_is_prefix(parent->route, prl) ? prl - 4 : prl;
    while (base_len && parent->route[base_len - 1] == '/')
        base_len--;
    size_t n0 = m->n_subs, added = 0, line = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        const char *f[3];
        size_t fl[3];
        int nf = 0;
        for (const char *c = p; c < le;) {
            while (c < le && (*c == ' ' || *c == '\t' || *c == '\r'))
                c++;
            if (c == le)
                break;
            const char *st = c;
            while (c < le && *c != ' ' && *c != '\t' && *c != '\r')
                c++;
            if (nf < 3) {
                f[nf] = st;
                fl[nf] = (size_t)(c - st);
            }
            nf++;
        }
        p = nl ? nl + 1 : end;
        if (nf == 0)
            continue;
        if (nf != 2) {
            snprintf(err, err_len, "_routes line %zu: expected \"SUBPATH ENTRYPOINT\", got %d "
                                   "field%s", line, nf, nf == 1 ? "" : "s");
            goto fail;
        }
        const char *sp = f[0];
        size_t sl = fl[0];
        while (sl && sp[0] == '/')
            sp++, sl--;
        size_t rl = base_len + 1 + sl;
        char *route = malloc(rl + 1);
        char *ep = strndup(f[1], fl[1]);
        wagi_subroute *ns = realloc(m->subs, (m->n_subs + 1) * sizeof *ns);
        if (ns)
            m->subs = ns;
        if (!route || !ep || !ns || memchr(f[1], '\0', fl[1])) {
            free(route);
            free(ep);
            snprintf(err, err_len, route && ep && ns ? "_routes line %zu: NUL in the entrypoint"
                                                     : "out of memory", line);
            goto fail;
        }
        memcpy(route, parent->route, base_len);
        route[base_len] = '/';
        memcpy(route + base_len + 1, sp, sl);
        route[rl] = '\0';
        const char *why = memchr(route, '\0', rl) ? "holds a NUL" : route_problem(route, rl);
        for (size_t i = 0; !why && i < m->n; i++)
            if (i != module && !strcmp(m->items[i].route, route))
                why = "is already the route of another module";
        for (size_t i = 0; !why && i < n0; i++)
            if (m->subs[i].module != module && !strcmp(m->subs[i].route, route))
                why = "is already a sub-route of another module";
        if (why) {
            snprintf(err, err_len, "_routes line %zu: the route \"%.80s\" %s", line, route, why);
            free(route);
            free(ep);
            goto fail;
        }
        m->subs[m->n_subs++] = (wagi_subroute){route, ep, module, line};
        added++;
    }
    if (!added) {
        snprintf(err, err_len, "_routes printed no routes (WAGI requires at least one line "
                               "\"SUBPATH ENTRYPOINT\")");
        return -1;
    }
    m->items[module].has_subroutes = true;
    return 0;
fail:
    while (m->n_subs > n0) {
        m->n_subs--;
        free(m->subs[m->n_subs].route);
        free(m->subs[m->n_subs].entrypoint);
    }
    return -1;
}
