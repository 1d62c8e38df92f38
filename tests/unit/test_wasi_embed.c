/*
 * test_wasi_embed.c — unit tests for the embedder side of src/wasi (what
 * WAGI uses and `sluice run` does not): stdin from a buffer, stdout/stderr
 * sinks, a sink that fails, one linker made with wasi_link(l, NULL) serving
 * instances with different contexts through sl_instance_config.user_data,
 * the trap for an instance without a context, and wasi_ctx_new errors.
 *
 * Uses the real engine and the guests built by `make wasm`
 * (build/wasm/tests/stdin_echo.wasm, args_env.wasm); run from the repo root.
 * Build and run:
 *   cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Iinclude -Isrc/wasi \
 *      tests/unit/test_wasi_embed.c build/libsluice.a -lm -lpthread \
 *      -o build/test_wasi_embed && build/test_wasi_embed
 * Prints "ok - X" / "not ok - X"; ends with "N passed, N failed".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/vm.h>

#include "wasi.h"

static int n_pass, n_fail;

static void check(bool ok, const char *what, const char *detail)
{
    if (ok) {
        n_pass++;
        printf("ok - %s\n", what);
    } else {
        n_fail++;
        printf("not ok - %s (%s)\n", what, detail ? detail : "failed");
    }
}

struct sink {
    char data[8192];
    size_t len;
    int calls;
    bool fail;
};

static int sink_fn(void *user, const uint8_t *p, size_t n)
{
    struct sink *s = user;
    s->calls++;
    if (s->fail)
        return -1;
    if (s->len + n > sizeof s->data - 1)
        n = sizeof s->data - 1 - s->len;
    memcpy(s->data + s->len, p, n);
    s->len += n;
    s->data[s->len] = '\0';
    return 0;
}

static uint8_t *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Instantiates m through l with user_data ud and runs _start. Returns -1 for
 * a normal return, the exit code for proc_exit, -2 - kind for other traps. */
static int run_start(sl_linker *l, sl_module *m, void *ud)
{
    sl_instance_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.user_data = ud;
    sl_instance *inst = NULL;
    sl_trap *trap = NULL;
    sl_diag d;
    if (sl_instantiate(l, m, &cfg, &inst, &d, &trap) != SL_OK) {
        if (trap)
            sl_trap_free(trap);
        return -100;
    }
    int r = -1;
    trap = sl_func_call(sl_instance_func(inst, "_start"), NULL, NULL);
    if (trap) {
        r = sl_trap_kind_of(trap) == SL_TRAP_EXIT ? sl_trap_exit_code(trap)
                                                   : -2 - (int)sl_trap_kind_of(trap);
        sl_trap_free(trap);
    }
    sl_instance_free(inst);
    return r;
}

int main(void)
{
    size_t echo_len, args_len;
    uint8_t *echo = load("build/wasm/tests/stdin_echo.wasm", &echo_len);
    uint8_t *args = load("build/wasm/tests/args_env.wasm", &args_len);
    if (!echo || !args) {
        check(false, "load guests", "build/wasm/tests/*.wasm missing: run make wasm");
        printf("%d passed, %d failed\n", n_pass, n_fail);
        return 1;
    }
    sl_engine *e = sl_engine_new(NULL);
    sl_module *m_echo = NULL, *m_args = NULL;
    sl_diag d;
    if (!e || sl_module_new(e, echo, echo_len, &m_echo, &d) ||
        sl_module_new(e, args, args_len, &m_args, &d)) {
        check(false, "compile guests", d.msg);
        printf("%d passed, %d failed\n", n_pass, n_fail);
        return 1;
    }

    /* stdin buffer + sinks, context bound at link time. One sink serves
     * both streams, so stdout and stderr land in one buffer, in order. */
    {
        static const char input[] = "first line\nsecond line\n";
        struct sink s;
        memset(&s, 0, sizeof s);
        wasi_config cfg = {
            .argc = 1, .argv = (const char *[]){"stdin_echo"},
            .stdin_buf = (const uint8_t *)input, .stdin_len = sizeof input - 1,
            .stdin_from_buf = true, .stdout_sink = sink_fn, .stderr_sink = sink_fn,
            .sink_user = &s,
        };
        wasi_ctx *w = wasi_ctx_new(&cfg);
        sl_linker *l = sl_linker_new(e);
        check(w && l && wasi_link(l, w) == SL_OK, "ctx with stdin buffer and sinks links", NULL);
        int r = run_start(l, m_echo, NULL);
        char want[256];
        snprintf(want, sizeof want, "%sstdin_echo: %zu bytes\n", input, sizeof input - 1);
        check(r == -1, "stdin_echo returns normally", NULL);
        check(strcmp(s.data, want) == 0, "sinks get stdout then stderr, stdin hits EOF", s.data);
        sl_linker_free(l);
        wasi_ctx_free(w);
    }

    /* a sink that fails: fwrite fails, the guest exits 2 */
    {
        struct sink s;
        memset(&s, 0, sizeof s);
        s.fail = true;
        wasi_config cfg = {
            .stdin_buf = (const uint8_t *)"data\n", .stdin_len = 5, .stdin_from_buf = true,
            .stdout_sink = sink_fn, .sink_user = &s,
        };
        wasi_ctx *w = wasi_ctx_new(&cfg);
        sl_linker *l = sl_linker_new(e);
        wasi_link(l, w);
        int r = run_start(l, m_echo, NULL);
        char detail[64];
        snprintf(detail, sizeof detail, "result %d, %d sink calls", r, s.calls);
        check(r == 2 && s.calls > 0, "a failing sink makes the guest's write fail (EPIPE)",
              detail);
        sl_linker_free(l);
        wasi_ctx_free(w);
    }

    /* one linker, per-instance contexts via user_data */
    {
        sl_linker *l = sl_linker_new(e);
        check(l && wasi_link(l, NULL) == SL_OK, "wasi_link(l, NULL)", NULL);
        struct sink s1, s2;
        memset(&s1, 0, sizeof s1);
        memset(&s2, 0, sizeof s2);
        wasi_config c1 = {
            .argc = 2, .argv = (const char *[]){"args_env", "alpha"},
            .envc = 1, .envp = (const char *[]){"FOO=one"},
            .stdout_sink = sink_fn, .sink_user = &s1,
        };
        wasi_config c2 = {
            .argc = 1, .argv = (const char *[]){"args_env"},
            .envc = 2, .envp = (const char *[]){"FOO=two", "EMPTY="},
            .stdout_sink = sink_fn, .sink_user = &s2,
        };
        wasi_ctx *w1 = wasi_ctx_new(&c1), *w2 = wasi_ctx_new(&c2);
        int r1 = run_start(l, m_args, w1), r2 = run_start(l, m_args, w2);
        check(r1 == -1 && r2 == -1, "two instances run", NULL);
        check(strcmp(s1.data, "argc=2\nargv[0]=args_env\nargv[1]=alpha\nFOO=one\nEMPTY=<unset>\n"
                              "MISSING=<unset>\nenviron=1\n") == 0,
              "instance 1 sees context 1", s1.data);
        check(strcmp(s2.data, "argc=1\nargv[0]=args_env\nFOO=two\nEMPTY=\n"
                              "MISSING=<unset>\nenviron=2\n") == 0,
              "instance 2 sees context 2", s2.data);
        int r3 = run_start(l, m_args, NULL);
        char detail[64];
        snprintf(detail, sizeof detail, "result %d", r3);
        check(r3 == -2 - (int)SL_TRAP_HOST, "no user_data: host trap, no crash", detail);
        sl_linker_free(l);
        wasi_ctx_free(w1);
        wasi_ctx_free(w2);
    }

    /* construction errors */
    {
        wasi_config bad = {
            .n_preopens = 1,
            .preopen_host = (const char *[]){"/nonexistent/sluice-test"},
            .preopen_guest = (const char *[]){"/data"},
        };
        errno = 0;
        wasi_ctx *w = wasi_ctx_new(&bad);
        check(!w && errno == ENOENT, "missing preopen dir: NULL, errno ENOENT", NULL);
        wasi_config bad2 = {.argc = 2, .argv = (const char *[]){"x", NULL}};
        errno = 0;
        w = wasi_ctx_new(&bad2);
        check(!w && errno == EINVAL, "NULL argv entry: NULL, errno EINVAL", NULL);
        w = wasi_ctx_new(NULL);
        check(w != NULL, "NULL config means defaults", NULL);
        wasi_ctx_free(w);
        wasi_ctx_free(NULL);
    }

    sl_module_free(m_echo);
    sl_module_free(m_args);
    sl_engine_free(e);
    free(echo);
    free(args);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
