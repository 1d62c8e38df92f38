/*
 * test_wagi_modules.c — unit tests for modules.toml loading and route
 * matching (src/wagi/wagi_modules.c).
 *
 * Owns:     every key of the schema and its default, path resolution
 *           (relative to the TOML file, file:// URLs, refused schemes),
 *           the sha256 check against a temporary file, every error's
 *           "FILE:LINE:COL: module[N].key: problem" text, warnings for
 *           WAGI keys sluice does not act on, and the matcher's precedence
 *           (exact, then longest prefix, whatever the file order).
 *           Works in a private mkdtemp directory it removes at the end.
 * Not here: TOML syntax (test_toml.c), running modules (tests/wagi).
 * Output:   "ok - NAME" / "not ok - NAME" lines, then "N passed, N failed".
 */
#include "wagi_modules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

static char tmp[256]; /* the private directory */
static char err[512];

static void write_file(const char *rel, const char *content)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    FILE *f = fopen(p, "wb");
    if (!f) {
        perror(p);
        exit(1);
    }
    fputs(content, f);
    fclose(f);
}

static void make_dir(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    mkdir(p, 0755);
}

static const char *in_tmp(const char *rel)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmp, rel);
    return p[k];
}

/* Loads toml as "m.toml" with relative paths resolved against tmp. */
static int load(const char *toml, wagi_modules *m)
{
    return wagi_modules_load_string(toml, strlen(toml), "m.toml", tmp, m, err, sizeof err);
}

/* The document must fail with an error starting with want. */
static int fails_with(const char *toml, const char *want)
{
    wagi_modules m;
    memset(&m, 0x5a, sizeof m);
    err[0] = '\0';
    int rc = load(toml, &m);
    int ok = rc == -1 && strncmp(err, want, strlen(want)) == 0 && m.items == NULL && m.n == 0 &&
             m.warnings == NULL;
    if (!ok)
        printf("# want \"%s...\"\n#  got rc %d \"%s\"\n", want, rc, err);
    if (rc == 0)
        wagi_modules_free(&m);
    return ok;
}

static void test_full_example(void)
{
    make_dir("conf");
    make_dir("conf/handlers");
    make_dir("conf/data");
    make_dir("conf/cache");
    write_file("conf/handlers/hello.wasm", "abc");
    write_file("conf/handlers/api.wasm", "api");
    char toml[2048];
    snprintf(toml, sizeof toml,
             "# WAGI modules\n"
             "[[module]]\n"
             "route = \"/hello\"\n"
             "module = \"handlers/hello.wasm\"\n"
             "sha256 = \"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\"\n"
             "\n"
             "[[module]]\n"
             "route = \"/api/...\"\n"
             "module = \"file://%s/conf/handlers/api.wasm\"\n"
             "entrypoint = \"serve\"\n"
             "argv = \"${SCRIPT_NAME} --verbose ${ARGS}\"\n"
             "volumes = { \"/data\" = \"data\", \"/cache\" = \"./cache/\" }\n"
             "environment = { GREETING = \"hi\", \"MODE\" = 'prod', EMPTY = \"\" }\n"
             "allowed_hosts = [\"https://backend.internal\", \"http://localhost:8080\"]\n"
             "http_max_concurrency = 4\n"
             "timeout = \"1.5s\"\n"
             "max_memory = \"64MiB\"\n",
             tmp);
    write_file("conf/modules.toml", toml);
    wagi_modules m;
    int rc = wagi_modules_load_file(in_tmp("conf/modules.toml"), &m, err, sizeof err);
    check(rc == 0 && m.n == 2, "full example loads from a file");
    if (rc != 0) {
        printf("# %s\n", err);
        return;
    }
    const wagi_module_spec *a = &m.items[0], *b = &m.items[1];
    check(strcmp(a->route, "/hello") == 0 &&
              strcmp(a->module, in_tmp("conf/handlers/hello.wasm")) == 0,
          "relative module path resolved against the TOML file's directory");
    check(a->sha256 && strcmp(a->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
          "sha256 verified and kept in lowercase");
    check(strcmp(a->entrypoint, "_start") == 0 && a->argv == NULL && a->n_env == 0 &&
              a->n_volumes == 0 && a->n_allowed_hosts == 0 && a->timeout_ms == 0 &&
              a->max_memory_pages == 0 && a->http_max_concurrency == 0 && !a->has_subroutes &&
              a->line == 2,
          "defaults: _start, no argv/env/volumes/hosts, limits unset; line of [[module]]");
    check(strcmp(b->module, in_tmp("conf/handlers/api.wasm")) == 0 && b->sha256 == NULL,
          "file:// URL");
    check(strcmp(b->entrypoint, "serve") == 0 &&
              strcmp(b->argv, "${SCRIPT_NAME} --verbose ${ARGS}") == 0,
          "entrypoint and argv");
    check(b->n_volumes == 2 && strcmp(b->volumes[0].name, in_tmp("conf/data")) == 0 &&
              strcmp(b->volumes[0].value, "/data") == 0 &&
              strcmp(b->volumes[1].name, in_tmp("conf/cache/")) == 0 &&
              strcmp(b->volumes[1].value, "/cache") == 0,
          "volumes: name = resolved host dir, value = guest path");
    check(b->n_env == 3 && strcmp(b->env[0].name, "GREETING") == 0 &&
              strcmp(b->env[0].value, "hi") == 0 && strcmp(b->env[1].name, "MODE") == 0 &&
              strcmp(b->env[1].value, "prod") == 0 && strcmp(b->env[2].value, "") == 0,
          "environment in file order");
    check(b->n_allowed_hosts == 2 && strcmp(b->allowed_hosts[1], "http://localhost:8080") == 0 &&
              b->http_max_concurrency == 4,
          "allowed_hosts and http_max_concurrency stored");
    check(b->timeout_ms == 1500 && b->max_memory_pages == 1024, "timeout and max_memory");
    check(m.n_warnings == 1 && strstr(m.warnings[0], "/conf/modules.toml:14:17: "
                                                     "module[1].allowed_hosts: stored, but"),
          "a warning for allowed_hosts (stored, not acted on), with its position; "
          "http_max_concurrency is acted on: no warning");
    size_t sn = 0;
    check(wagi_modules_match(&m, "/api/v1/x", 9, &sn) == 1 && sn == 4 &&
              wagi_modules_match(&m, "/hello", 6, &sn) == 0 && sn == 6,
          "loaded routes match");
    wagi_modules_free(&m);
    check(m.items == NULL && m.n == 0 && m.warnings == NULL, "free zeroes");
    wagi_modules_free(&m);
    wagi_modules_free(NULL);
    check(1, "free is idempotent and accepts NULL");
}

static void test_paths(void)
{
    wagi_modules m;
    write_file("top.wasm", "x");
    make_dir("sub");
    write_file("sub/a b.wasm", "x");
    /* base_dir joins; "./" dropped; absolute paths kept. */
    int rc = load("[[module]]\nroute = \"/a\"\nmodule = \"./top.wasm\"\n"
                  "[[module]]\nroute = \"/b\"\nmodule = \"./sub/../top.wasm\"\n", &m);
    check(rc == 0 && strcmp(m.items[0].module, in_tmp("top.wasm")) == 0 &&
              strcmp(m.items[1].module, in_tmp("sub/../top.wasm")) == 0,
          "relative paths: './' dropped, '..' kept lexically");
    wagi_modules_free(&m);
    char toml[1024];
    snprintf(toml, sizeof toml, "[[module]]\nroute = \"/a\"\nmodule = \"%s\"\n", in_tmp("top.wasm"));
    rc = wagi_modules_load_string(toml, strlen(toml), NULL, "/nonexistent", &m, err, sizeof err);
    check(rc == 0 && strcmp(m.items[0].module, in_tmp("top.wasm")) == 0,
          "absolute paths ignore base_dir");
    wagi_modules_free(&m);
    snprintf(toml, sizeof toml, "[[module]]\nroute = \"/a\"\nmodule = \"file://localhost%s\"\n"
                                "[[module]]\nroute = \"/b\"\nmodule = \"file://%s/sub/a%%20b.wasm\"\n",
             in_tmp("top.wasm"), tmp);
    rc = load(toml, &m);
    check(rc == 0 && strcmp(m.items[0].module, in_tmp("top.wasm")) == 0 &&
              strcmp(m.items[1].module, in_tmp("sub/a b.wasm")) == 0,
          "file://localhost/ and percent-decoding in file URLs");
    if (rc)
        printf("# %s\n", err);
    wagi_modules_free(&m);

    /* base_dir NULL: relative to the current directory, left as written. */
    char cwd[1024];
    if (!getcwd(cwd, sizeof cwd) || chdir(tmp) != 0) {
        check(0, "chdir into the temporary directory");
        return;
    }
    static const char rel[] = "[[module]]\nroute = \"/a\"\nmodule = \"sub/a b.wasm\"\n";
    rc = wagi_modules_load_string(rel, strlen(rel), "x.toml", NULL, &m, err, sizeof err);
    check(rc == 0 && strcmp(m.items[0].module, "sub/a b.wasm") == 0,
          "base_dir NULL leaves relative paths relative");
    wagi_modules_free(&m);
    /* load_file with a relative path: the directory is made absolute. */
    write_file("sub/m.toml", "[[module]]\nroute = \"/a\"\nmodule = \"a b.wasm\"\n"
                             "volumes = { \"/\" = \".\" }\n");
    rc = wagi_modules_load_file("sub/m.toml", &m, err, sizeof err);
    char here[1024], want[1100], want_dir[1100];
    if (!getcwd(here, sizeof here))
        here[0] = '\0';
    snprintf(want, sizeof want, "%s/sub/a b.wasm", here);
    snprintf(want_dir, sizeof want_dir, "%s/sub", here);
    check(rc == 0 && strcmp(m.items[0].module, want) == 0 &&
              strcmp(m.items[0].volumes[0].name, want_dir) == 0 &&
              strcmp(m.items[0].volumes[0].value, "/") == 0,
          "load_file with a relative path resolves against an absolute directory");
    if (rc)
        printf("# %s\n", err);
    wagi_modules_free(&m);
    write_file("m2.toml", "[[module]]\nroute = \"/a\"\nmodule = \"top.wasm\"\n");
    rc = wagi_modules_load_file("m2.toml", &m, err, sizeof err);
    snprintf(want, sizeof want, "%s/top.wasm", here);
    check(rc == 0 && strcmp(m.items[0].module, want) == 0, "load_file of a bare file name");
    wagi_modules_free(&m);
    rc = wagi_modules_load_file("./m2.toml", &m, err, sizeof err);
    check(rc == 0 && strcmp(m.items[0].module, want) == 0, "load_file of ./name");
    wagi_modules_free(&m);
    if (chdir(cwd) != 0)
        check(0, "chdir back");
}

static void test_sha256(void)
{
    wagi_modules m;
    write_file("abc.wasm", "abc");
    check(fails_with("[[module]]\nroute = \"/a\"\nmodule = \"abc.wasm\"\nsha256 = "
                     "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ae\"\n",
                     "m.toml:4:10: module[0].sha256: ") &&
              strstr(err, "abc.wasm does not match: its SHA-256 is "
                          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
          "sha256 mismatch names the file and its real digest");
    check(fails_with("[[module]]\nroute = \"/a\"\nmodule = \"abc.wasm\"\nsha256 = \"abc\"\n",
                     "m.toml:4:10: module[0].sha256: expected 64 hexadecimal digits"),
          "sha256 must be 64 hex digits");
    check(fails_with("[[module]]\nroute = \"/a\"\nmodule = \"abc.wasm\"\nsha256 = "
                     "\"zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"\n",
                     "m.toml:4:10: module[0].sha256: expected 64 hexadecimal digits"),
          "sha256 rejects non-hex");
    write_file("empty.wasm", "");
    int rc = load("[[module]]\nroute = \"/a\"\nmodule = \"empty.wasm\"\nsha256 = "
                  "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"\n", &m);
    check(rc == 0, "sha256 of an empty file");
    wagi_modules_free(&m);
    /* A larger file, read in several chunks: 200000 'a's. */
    char *big = malloc(200001);
    memset(big, 'a', 200000);
    big[200000] = '\0';
    write_file("big.wasm", big);
    free(big);
    rc = load("[[module]]\nroute = \"/a\"\nmodule = \"big.wasm\"\nsha256 = "
              "\"2287d207f24a941ff3b56c04c8a25ad56b63e3023207b3bb5b4ac0c9869d74be\"\n", &m);
    if (rc)
        printf("# %s\n", err);
    wagi_modules_free(&m);
    check(rc == 0, "a file larger than the read buffer is hashed whole");
}

static void test_errors(void)
{
    write_file("x.wasm", "x");
    make_dir("adir");
    static const struct {
        const char *toml;
        const char *want;
    } cases[] = {
        /* document level */
        {"", "m.toml: no [[module]] entries"},
        {"# nothing\n", "m.toml: no [[module]] entries"},
        {"module = []\n", "m.toml:1:10: 'module' must be a non-empty array of tables"},
        {"module = 1\n", "m.toml:1:10: 'module' must be a non-empty array of tables"},
        {"module = [1]\n", "m.toml:1:11: module[0]: expected a table ([[module]]), got integer"},
        {"title = \"x\"\n[[module]]\n", "m.toml:1:1: unknown top-level key 'title'"},
        {"[[module]]\nroute = \"/a\"\n[[modules]]\n",
         "m.toml:3:3: unknown top-level key 'modules'"},
        {"[[module]]\nroute = \"/a\n", "m.toml:2:12: newline in a single-line string"},
        {"[[module]]\nroute = \"/a", "m.toml:2:9: unterminated string"},
        {"[[module]]\nroute = \"/a\"\nroute = \"/b\"\n", "m.toml:3:1: duplicate key 'route'"},
        {"[module]\nroute = \"/a\"\n", "m.toml:1:1: 'module' must be a non-empty array of tables"},
        /* required keys, unknown keys */
        {"[[module]]\nmodule = \"x.wasm\"\n", "m.toml:1:1: module[0]: missing required key 'route'"},
        {"[[module]]\nroute = \"/a\"\n", "m.toml:1:1: module[0]: missing required key 'module'"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\n[[module]]\nroute = \"/b\"\n"
         "module = \"x.wasm\"\n\n[[module]]\n  rout = \"/c\"\n",
         "m.toml:9:3: module[2]: unknown key 'rout' (did you mean 'route'?)"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nenv = { A = \"1\" }\n",
         "m.toml:4:1: module[0]: unknown key 'env' (did you mean 'environment'?)"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nentrypiont = \"f\"\n",
         "m.toml:4:1: module[0]: unknown key 'entrypiont' (did you mean 'entrypoint'?)"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nhost = \"example.com\"\n",
         "m.toml:4:1: module[0]: unknown key 'host' (per-module virtual hosts were removed"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nzzzzzz = 1\n",
         "m.toml:4:1: module[0]: unknown key 'zzzzzz' (known: route, module,"},
        /* route */
        {"[[module]]\nroute = 1\nmodule = \"x.wasm\"\n",
         "m.toml:2:9: module[0].route: expected a string, got an integer"},
        {"[[module]]\nroute = \"\"\nmodule = \"x.wasm\"\n", "m.toml:2:9: module[0].route: must not be empty"},
        {"[[module]]\nroute = \"hello\"\nmodule = \"x.wasm\"\n",
         "m.toml:2:9: module[0].route: a route starts with '/'"},
        {"[[module]]\nroute = \"/a b\"\nmodule = \"x.wasm\"\n",
         "m.toml:2:9: module[0].route: a route cannot contain spaces"},
        {"[[module]]\nroute = \"/a?x=1\"\nmodule = \"x.wasm\"\n",
         "m.toml:2:9: module[0].route: a route cannot contain a query"},
        {"[[module]]\nroute = \"/a/.../b\"\nmodule = \"x.wasm\"\n",
         "m.toml:2:9: module[0].route: '...' is only allowed at the end"},
        {"[[module]]\nroute = \"/a...\"\nmodule = \"x.wasm\"\n",
         "m.toml:2:9: module[0].route: '...' is only allowed at the end"},
        {"[[module]]\nroute = \"/a/\\u0000\"\nmodule = \"x.wasm\"\n",
         "m.toml:2:9: module[0].route: NUL character"},
        {"[[module]]\nroute = \"/a/...\"\nmodule = \"x.wasm\"\n[[module]]\nroute = \"/a/...\"\n"
         "module = \"x.wasm\"\n",
         "m.toml:5:9: module[1].route: route \"/a/...\" is already used by module[0] (line 1)"},
        /* module */
        {"[[module]]\nroute = \"/a\"\nmodule = \"missing.wasm\"\n",
         "m.toml:3:10: module[0].module: "},
        {"[[module]]\nroute = \"/a\"\nmodule = \"adir\"\n", "m.toml:3:10: module[0].module: "},
        {"[[module]]\nroute = \"/a\"\nmodule = \"oci:registry/x:1\"\n",
         "m.toml:3:10: module[0].module: module references of the form \"oci:...\" are not "
         "supported"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"bindle:x/1.0\"\n",
         "m.toml:3:10: module[0].module: module references of the form \"bindle:...\" are not"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"https://example.com/x.wasm\"\n",
         "m.toml:3:10: module[0].module: module references of the form \"https:...\" are not"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"file:x.wasm\"\n",
         "m.toml:3:10: module[0].module: a file URL must be file:///absolute/path"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"file://server/x.wasm\"\n",
         "m.toml:3:10: module[0].module: file URLs with a host are not supported"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"file:///x.wasm?v=1\"\n",
         "m.toml:3:10: module[0].module: file URLs with a query or fragment"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"file:///x%00.wasm\"\n",
         "m.toml:3:10: module[0].module: bad percent-escape"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"file:///x%zz.wasm\"\n",
         "m.toml:3:10: module[0].module: bad percent-escape"},
        {"[[module]]\nroute = \"/a\"\nmodule = [\"x.wasm\"]\n",
         "m.toml:3:10: module[0].module: expected a string, got an array"},
        /* entrypoint, argv */
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nentrypoint = \"\"\n",
         "m.toml:4:14: module[0].entrypoint: must not be empty"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nargv = true\n",
         "m.toml:4:8: module[0].argv: expected a string, got a boolean"},
        /* environment */
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nenvironment = [\"A=1\"]\n",
         "m.toml:4:15: module[0].environment: expected a table"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nenvironment = { PORT = 8080 }\n",
         "m.toml:4:24: module[0].environment.PORT: expected a string, got integer (quote it"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nenvironment = { \"A=B\" = \"x\" }\n",
         "m.toml:4:17: module[0].environment[\"A=B\"]: an environment variable name must be"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\n[module.environment]\n\"\" = \"x\"\n",
         "m.toml:5:1: module[0].environment[\"\"]: an environment variable name must be"},
        /* volumes */
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nvolumes = { \"/data\" = \"nodir\" }\n",
         "m.toml:4:23: module[0].volumes[\"/data\"]: "},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nvolumes = { \"/data\" = \"x.wasm\" }\n",
         "m.toml:4:23: module[0].volumes[\"/data\"]: "},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nvolumes = { data = 1 }\n",
         "m.toml:4:20: module[0].volumes.data: expected a string, got an integer"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nvolumes = \"adir\"\n",
         "m.toml:4:11: module[0].volumes: expected a table"},
        /* allowed_hosts, http_max_concurrency */
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nallowed_hosts = \"*\"\n",
         "m.toml:4:17: module[0].allowed_hosts: expected an array of strings, got string"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nallowed_hosts = [\"a\", 1]\n",
         "m.toml:4:23: module[0].allowed_hosts[1]: expected a string, got an integer"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nhttp_max_concurrency = -1\n",
         "m.toml:4:24: module[0].http_max_concurrency: must be between 0 and 4294967295"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nhttp_max_concurrency = \"4\"\n",
         "m.toml:4:24: module[0].http_max_concurrency: expected an integer, got string"},
        /* timeout */
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\ntimeout = \"5x\"\n",
         "m.toml:4:11: module[0].timeout: bad duration \"5x\""},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\ntimeout = \"0.5ms\"\n",
         "m.toml:4:11: module[0].timeout: bad duration"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\ntimeout = 0\n",
         "m.toml:4:11: module[0].timeout: must be between 1ms and 24h"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\ntimeout = -5\n",
         "m.toml:4:11: module[0].timeout: must be between 1ms and 24h"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\ntimeout = \"25h\"\n",
         "m.toml:4:11: module[0].timeout: must be between 1ms and 24h"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\ntimeout = 1.5\n",
         "m.toml:4:11: module[0].timeout: expected a duration"},
        /* max_memory */
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nmax_memory = 0\n",
         "m.toml:4:14: module[0].max_memory: an integer is a number of 64 KiB pages: 1 to 65536"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nmax_memory = 65537\n",
         "m.toml:4:14: module[0].max_memory: an integer is a number of 64 KiB pages"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nmax_memory = \"5GiB\"\n",
         "m.toml:4:14: module[0].max_memory: must be between 1 byte"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nmax_memory = \"0\"\n",
         "m.toml:4:14: module[0].max_memory: must be between 1 byte"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nmax_memory = \"64mb\"\n",
         "m.toml:4:14: module[0].max_memory: bad size \"64mb\""},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nmax_memory = \"99999999999999999999999\"\n",
         "m.toml:4:14: module[0].max_memory: bad size"},
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nmax_memory = true\n",
         "m.toml:4:14: module[0].max_memory: expected a size"},
        /* WAGI keys accepted with a warning still get their type checked */
        {"[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nbindle_server = 1\n",
         "m.toml:4:17: module[0].bindle_server: expected a string"},
    };
    int all = 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        all &= fails_with(cases[i].toml, cases[i].want);
    check(all, "every error: FILE:LINE:COL: module[N].key: problem");
    check(fails_with("[[module]]\nroute = \"/a\"\nmodule = \"missing.wasm\"\n", "m.toml:3:10") &&
              strstr(err, "missing.wasm: No such file or directory"),
          "a missing module file is named with the system's reason");
    check(fails_with("[[module]]\nroute = \"/a\"\nmodule = \"adir\"\n", "m.toml") &&
              strstr(err, "adir: not a regular file"),
          "a directory is not a module");
    check(fails_with("[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\n"
                     "volumes = { \"/data\" = \"x.wasm\" }\n", "m.toml") &&
              strstr(err, "x.wasm: not a directory"),
          "a volume must be a directory");
    /* Truncated messages stay NUL-terminated. */
    char small[16];
    wagi_modules m;
    int rc = wagi_modules_load_string("", 0, "m.toml", NULL, &m, small, sizeof small);
    check(rc == -1 && strlen(small) == 15 && strncmp(small, "m.toml: no [[mo", 15) == 0,
          "errors are truncated to err_len");
    rc = wagi_modules_load_string("x", 1, NULL, NULL, &m, NULL, 0);
    check(rc == -1, "err may be NULL");
    rc = wagi_modules_load_string("", 0, NULL, NULL, &m, err, sizeof err);
    check(rc == -1 && strncmp(err, "<modules.toml>: ", 16) == 0, "default source name");
    rc = wagi_modules_load_file(in_tmp("nope.toml"), &m, err, sizeof err);
    check(rc == -1 && strstr(err, "nope.toml: No such file or directory") && m.n == 0,
          "load_file: a missing file");
    rc = wagi_modules_load_file(tmp, &m, err, sizeof err);
    check(rc == -1 && strstr(err, tmp), "load_file: a directory");
}

static void test_values(void)
{
    wagi_modules m;
    static const struct {
        const char *timeout;
        uint32_t ms;
    } durations[] = {
        {"250", 250}, {"\"250ms\"", 250}, {"\"30s\"", 30000}, {"\"1.5m\"", 90000},
        {"\"2h\"", 7200000}, {"\"24h\"", 86400000}, {"\"0.5s\"", 500}, {"1", 1}, {"\"1500\"", 1500},
    };
    int all = 1;
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        char toml[256];
        snprintf(toml, sizeof toml, "[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\ntimeout = %s\n",
                 durations[i].timeout);
        if (load(toml, &m) != 0 || m.items[0].timeout_ms != durations[i].ms) {
            printf("# timeout = %s: %s\n", durations[i].timeout, err);
            all = 0;
        }
        wagi_modules_free(&m);
    }
    check(all, "timeout: durations and integers of milliseconds");
    static const struct {
        const char *mem;
        uint32_t pages;
    } sizes[] = {
        {"16", 16}, {"1", 1}, {"65536", 65536}, {"\"64MiB\"", 1024}, {"\"64 MiB\"", 1024},
        {"\"1\"", 1}, {"\"65536\"", 1}, {"\"65537\"", 2}, {"\"100000\"", 2}, {"\"1KiB\"", 1},
        {"\"4GiB\"", 65536}, {"\"1MB\"", 16}, {"\"64Mi\"", 1024}, {"\"4Gi\"", 65536},
    };
    all = 1;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char toml[256];
        snprintf(toml, sizeof toml,
                 "[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nmax_memory = %s\n", sizes[i].mem);
        if (load(toml, &m) != 0 || m.items[0].max_memory_pages != sizes[i].pages) {
            printf("# max_memory = %s: got %u, %s\n", sizes[i].mem,
                   m.n ? m.items[0].max_memory_pages : 0, err);
            all = 0;
        }
        wagi_modules_free(&m);
    }
    check(all, "max_memory: integers are pages, strings are bytes rounded up to pages");

    int rc = load("module = [ { route = \"/a\", module = \"x.wasm\" },\n"
                  "           { route = \"/b/...\", module = \"x.wasm\", argv = \"\" } ]\n",
                  &m);
    check(rc == 0 && m.n == 2 && strcmp(m.items[1].route, "/b/...") == 0 &&
              m.items[1].argv && m.items[1].argv[0] == '\0' && m.items[1].line == 2,
          "inline array of tables; empty argv kept");
    wagi_modules_free(&m);

    rc = load("[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\nbindle_server = \"https://b\"\n"
              "repository = { anything = [1] }\nallowed_hosts = []\n",
              &m);
    check(rc == 0 && m.n_warnings == 2 &&
              strcmp(m.warnings[0], "m.toml:4:17: module[0].bindle_server: ignored (bindle: "
                                    "module references are not supported)") == 0 &&
              strcmp(m.warnings[1], "m.toml:5:14: module[0].repository: ignored (reserved by "
                                    "WAGI)") == 0 &&
              m.items[0].n_allowed_hosts == 0,
          "WAGI's bindle_server and repository load with warnings; empty allowed_hosts is quiet");
    wagi_modules_free(&m);

    rc = load("[[module]]\nroute = \"/\"\nmodule = \"x.wasm\"\n[[module]]\nroute = \"/...\"\n"
              "module = \"x.wasm\"\n[[module]]\nroute = \"/a/\"\nmodule = \"x.wasm\"\n"
              "[[module]]\nroute = \"/a\"\nmodule = \"x.wasm\"\n[[module]]\nroute = \"/%41\"\n"
              "module = \"x.wasm\"\n",
              &m);
    check(rc == 0 && m.n == 5, "routes '/', '/...', '/a/', '/a', '/%41' are all distinct");
    wagi_modules_free(&m);
}

static void test_match(void)
{
    /* Deliberately in an order where "first match" would give other answers. */
    static const char *routes[] = {
        "/...",  "/static/...", "/static/img/...", "/static/img/logo.png", "/hello",
        "/hello/", "/foo/...",   "/",
    };
    enum { N = sizeof routes / sizeof routes[0] };
    wagi_module_spec items[N];
    memset(items, 0, sizeof items);
    for (int i = 0; i < N; i++)
        items[i].route = (char *)routes[i];
    wagi_modules m = {items, N, NULL, 0};
    static const struct {
        const char *path;
        const char *route; /* NULL: no match */
        size_t script_name;
    } cases[] = {
        {"/hello", "/hello", 6},
        {"/hello/", "/hello/", 7},
        {"/hello/x", "/...", 0},
        {"/HELLO", "/...", 0},
        {"/static", "/static/...", 7},
        {"/static/", "/static/...", 7},
        {"/static/css/a.css", "/static/...", 7},
        {"/staticx", "/...", 0},
        {"/static/img", "/static/img/...", 11},
        {"/static/img/a.png", "/static/img/...", 11},
        {"/static/img/logo.png", "/static/img/logo.png", 20},
        {"/static/img/logo.png?v=2", "/static/img/logo.png", 20},
        {"/static/img/logo.pngx", "/static/img/...", 11},
        {"/foo", "/foo/...", 4},
        {"/foo?x", "/foo/...", 4},
        {"/foo/bar/baz", "/foo/...", 4},
        {"/foobar", "/...", 0},
        {"/", "/", 1},
        {"/?q", "/", 1},
        {"", "/...", 0},
        {"/%2e%2e/x", "/...", 0},
    };
    int all = 1, all_rev = 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t sn = 999;
        int got = wagi_modules_match(&m, cases[i].path, strlen(cases[i].path), &sn);
        const char *gr = got >= 0 ? routes[got] : NULL;
        if (!gr || strcmp(gr, cases[i].route) != 0 || sn != cases[i].script_name) {
            printf("# %s: got %s (%zu), want %s (%zu)\n", cases[i].path, gr ? gr : "none", sn,
                   cases[i].route, cases[i].script_name);
            all = 0;
        }
    }
    check(all, "most specific route wins: exact, then the longest prefix");
    /* The same table reversed gives the same answers. */
    wagi_module_spec rev[N];
    for (int i = 0; i < N; i++)
        rev[i] = items[N - 1 - i];
    wagi_modules mr = {rev, N, NULL, 0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t sn = 999;
        int got = wagi_modules_match(&mr, cases[i].path, strlen(cases[i].path), &sn);
        if (got < 0 || strcmp(rev[got].route, cases[i].route) != 0 || sn != cases[i].script_name)
            all_rev = 0;
    }
    check(all_rev, "precedence does not depend on file order");
    /* Without a catch-all, unmatched paths give -1 and leave *len alone. */
    wagi_modules few = {items + 1, 2, NULL, 0}; /* "/static/...", "/static/img/..." */
    size_t sn = 77;
    check(wagi_modules_match(&few, "/hello", 6, &sn) == -1 && sn == 77 &&
              wagi_modules_match(&few, "/stati", 6, &sn) == -1 &&
              wagi_modules_match(&few, "/static", 7, NULL) == 0,
          "no match is -1; script_name_len may be NULL");
    /* The path need not be NUL-terminated: only path_len bytes count. */
    char buf[16];
    memcpy(buf, "/hello/xxxxxxxxx", 16);
    check(wagi_modules_match(&m, buf, 6, &sn) == 4 && sn == 6 &&
              wagi_modules_match(&m, buf, 7, &sn) == 5 && sn == 7,
          "path_len bounds the path");
    wagi_modules empty = {0};
    check(wagi_modules_match(NULL, "/", 1, &sn) == -1 && wagi_modules_match(&empty, "/", 1, &sn) == -1 &&
              wagi_modules_match(&m, NULL, 0, &sn) == 0 && sn == 0,
          "NULL table, empty table, empty path");
}

static void test_shadow_warnings(void)
{
    write_file("s.wasm", "x");
    wagi_modules m;
    int rc = load("[[module]]\nroute = \"/...\"\nmodule = \"s.wasm\"\n"
                  "[[module]]\nroute = \"/a/...\"\nmodule = \"s.wasm\"\n"
                  "[[module]]\nroute = \"/a/b\"\nmodule = \"s.wasm\"\n"
                  "[[module]]\nroute = \"/b\"\nmodule = \"s.wasm\"\n",
                  &m);
    check(rc == 0 && m.n_warnings == 3 &&
              strstr(m.warnings[0], "m.toml:5:9: module[1].route: \"/a/...\" comes after "
                                    "\"/...\" (module[0]), which covers it: WAGI 0.8.1") &&
              strstr(m.warnings[1], "m.toml:8:9: module[2].route: \"/a/b\" comes after \"/...\"") &&
              strstr(m.warnings[2], "module[3].route: \"/b\" comes after \"/...\""),
          "a route WAGI's first-match order would never reach is warned about, at its position");
    if (rc == 0)
        wagi_modules_free(&m);
    rc = load("[[module]]\nroute = \"/a/b\"\nmodule = \"s.wasm\"\n"
              "[[module]]\nroute = \"/a/...\"\nmodule = \"s.wasm\"\n"
              "[[module]]\nroute = \"/ab/...\"\nmodule = \"s.wasm\"\n"
              "[[module]]\nroute = \"/...\"\nmodule = \"s.wasm\"\n",
              &m);
    check(rc == 0 && m.n_warnings == 0,
          "specific-first files (same meaning under WAGI) load without warnings");
    if (rc == 0)
        wagi_modules_free(&m);
    rc = load("[[module]]\nroute = \"/a\"\nmodule = \"s.wasm\"\ninit = \"wizer.initialize\"\n"
              "http_max_concurrency = 3\n", &m);
    check(rc == 0 && m.items[0].init && !strcmp(m.items[0].init, "wizer.initialize") &&
              m.items[0].http_max_concurrency == 3 && m.n_warnings == 0,
          "init names an export; http_max_concurrency stored without a warning");
    if (rc == 0)
        wagi_modules_free(&m);
    check(fails_with("[[module]]\nroute = \"/a\"\nmodule = \"s.wasm\"\ninit = \"\"\n",
                     "m.toml:4:8: module[0].init: must not be empty"),
          "init must not be empty");
}

static void test_subroutes(void)
{
    write_file("s.wasm", "x");
    wagi_modules m;
    int rc = load("[[module]]\nroute = \"/x/...\"\nmodule = \"s.wasm\"\n"
                  "[[module]]\nroute = \"/y\"\nmodule = \"s.wasm\"\n"
                  "[[module]]\nroute = \"/other\"\nmodule = \"s.wasm\"\n",
                  &m);
    check(rc == 0, "sub-route table loads");
    if (rc)
        return;
    const char *out = "/hello hello\n\n  /deep/... deep  \r\n/hello hello2\n/main _start\n";
    rc = wagi_modules_add_subroutes(&m, 0, out, strlen(out), err, sizeof err);
    check(rc == 0 && m.n_subs == 4 && !strcmp(m.subs[0].route, "/x/hello") &&
              !strcmp(m.subs[1].route, "/x/deep/...") && !strcmp(m.subs[3].route, "/x/main") &&
              m.subs[3].seq == 5 && m.items[0].has_subroutes,
          "_routes lines joined onto the parent's fixed part; blank lines skipped");
    wagi_match f;
    check(wagi_modules_lookup(&m, "/x/hello", 8, &f) && f.sub && !strcmp(f.entrypoint, "hello2") &&
              !strcmp(f.route, "/x/hello") && f.module == 0 && f.script_name_len == 8,
          "a later _routes line wins over an earlier one with the same route");
    check(wagi_modules_lookup(&m, "/x/deep/a/b", 11, &f) && !strcmp(f.entrypoint, "deep") &&
              f.script_name_len == 7 && !strcmp(f.route, "/x/deep/..."),
          "a prefix sub-route: SCRIPT_NAME is the joined fixed part");
    check(wagi_modules_lookup(&m, "/x/other", 8, &f) && !f.sub && !strcmp(f.entrypoint, "_start") &&
              !strcmp(f.route, "/x/...") && f.script_name_len == 2,
          "the parent route still serves what no sub-route matches");
    const char *same = "/... catchall\n";
    rc = wagi_modules_add_subroutes(&m, 0, same, strlen(same), err, sizeof err);
    check(rc == 0 && wagi_modules_lookup(&m, "/x/zzz", 6, &f) && f.sub &&
              !strcmp(f.entrypoint, "catchall"),
          "a sub-route with the parent's own pattern beats the parent");
    const char *y = "/ root\n";
    rc = wagi_modules_add_subroutes(&m, 1, y, strlen(y), err, sizeof err);
    check(rc == 0 && wagi_modules_lookup(&m, "/y/", 3, &f) && !strcmp(f.entrypoint, "root") &&
              wagi_modules_lookup(&m, "/y", 2, &f) && !f.sub,
          "exact parent \"/y\" + \"/\" = \"/y/\"");
    size_t before = m.n_subs;
    static const struct {
        const char *out, *want;
    } bad[] = {
        {"", "_routes printed no routes"},
        {"\n \n", "_routes printed no routes"},
        {"/a\n", "_routes line 1: expected \"SUBPATH ENTRYPOINT\", got 1 field"},
        {"/a b\n/c d e\n", "_routes line 2: expected \"SUBPATH ENTRYPOINT\", got 3 fields"},
        {"/a?b e\n", "_routes line 1: the route \"/y/a?b\" holds"},
        {"/a/.../b e\n", "_routes line 1: the route \"/y/a/.../b\" has '...'"},
    };
    int all = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        rc = wagi_modules_add_subroutes(&m, 1, bad[i].out, strlen(bad[i].out), err, sizeof err);
        if (rc != -1 || strncmp(err, bad[i].want, strlen(bad[i].want)) || m.n_subs != before) {
            printf("# %s: rc %d err \"%s\"\n", bad[i].out, rc, err);
            all = 0;
        }
    }
    check(all, "bad _routes output is an error naming the line; nothing is added");
    const char *clash = "/other e\n";
    wagi_modules m2;
    rc = load("[[module]]\nroute = \"/...\"\nmodule = \"s.wasm\"\n"
              "[[module]]\nroute = \"/other\"\nmodule = \"s.wasm\"\n", &m2);
    check(rc == 0 &&
              wagi_modules_add_subroutes(&m2, 0, clash, strlen(clash), err, sizeof err) == -1 &&
              strstr(err, "\"/other\" is already the route of another module") &&
              wagi_modules_add_subroutes(&m2, 1, "/s e\n", 5, err, sizeof err) == 0 &&
              wagi_modules_add_subroutes(&m2, 0, "/other/s f\n", 11, err, sizeof err) == -1 &&
              strstr(err, "already a sub-route of another module"),
          "a sub-route may not take another module's route or sub-route");
    if (rc == 0)
        wagi_modules_free(&m2);
    wagi_modules_free(&m);
}

static void cleanup(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmp);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/sluice-wagi-modules-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        printf("0 passed, 1 failed\n");
        return 1;
    }
    test_full_example();
    test_paths();
    test_sha256();
    test_errors();
    test_values();
    test_match();
    test_shadow_warnings();
    test_subroutes();
    cleanup();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
