/*
 * cli_run.c — `sluice run`: instantiate a module with WASI and run it.
 *
 *   sluice run [--dir HOST[::GUEST]]... [--env K=V]... [--invoke FUNC]
 *              [--max-memory-pages N] [--timeout MS] MODULE.wasm [ARGS...]
 *
 * Owns:      option parsing for `run`, building the WASI context (argv[0]
 *            is the module's basename, then ARGS), choosing the entry point
 *            (_start for commands, _initialize for reactors, FUNC for
 *            --invoke; with --invoke, _initialize runs first if exported and
 *            ARGS are FUNC's arguments), printing results, the --timeout
 *            watchdog thread, and mapping outcomes to exit codes:
 *              0    _start (or FUNC) returned
 *              N    the guest called proc_exit(N)
 *              1    file, load, validation or link error
 *              2    bad command line (including FUNC arguments that do not
 *                   parse as FUNC's parameter types)
 *              134  trap (also --timeout): "sluice: trap: MSG" + backtrace
 * Not here:  the WASI functions themselves (src/wasi), the engine.
 * Ownership: everything created here is freed before returning, in the
 *            order the engine API asks: instance, linker, WASI context,
 *            module, engine.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "sluice/aot.h"
#include "wasi.h"

typedef struct run_opts {
    const char **dir_host;
    const char **dir_guest;
    int n_dirs;
    const char **envs;
    int n_envs;
    const char *invoke;
    uint32_t max_pages;
    unsigned long timeout_ms;
    const char *module;
    bool aot;              /* --aot: native code (sluice/aot.h) */
    const char *aot_cache; /* --aot-cache DIR */
    const char *aot_file;  /* --aot-file F: this artifact, not the cache */
    int n_args; /* guest ARGS, or FUNC's arguments with --invoke */
    char **args;
} run_opts;

static int run_usage(const char *why)
{
    if (why)
        fprintf(stderr, "sluice run: %s\n", why);
    fprintf(stderr, "usage: sluice run [--dir HOST[::GUEST]]... [--env K=V]... [--invoke FUNC]\n"
                    "                  [--max-memory-pages N] [--timeout MS]\n"
                    "                  [--aot] [--aot-cache DIR] [--aot-file F.slaot]\n"
                    "                  MODULE.wasm [ARGS...]\n"
                    "  --aot        run native code: the cached artifact, compiled first if none\n"
                    "  --aot-file   run native code from this artifact (sluice compile)\n");
    return CLI_EXIT_USAGE;
}

/* Matches "--name VALUE" and "--name=VALUE"; advances *i past the value. */
static bool take_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return false;
    if (a[n] == '=') {
        *val = a + n + 1;
        return true;
    }
    if (a[n] != '\0')
        return false;
    if (*i + 1 >= argc) {
        *val = NULL; /* missing value: the caller reports it */
        return true;
    }
    *val = argv[++*i];
    return true;
}

static bool parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Splits HOST::GUEST (GUEST defaults to HOST). Returns false on "". */
static bool add_dir(run_opts *o, const char *spec)
{
    const char *sep = strstr(spec, "::");
    size_t hlen = sep ? (size_t)(sep - spec) : strlen(spec);
    const char *guest = sep ? sep + 2 : spec;
    if (hlen == 0 || !*guest)
        return false;
    char *host = strndup(spec, hlen);
    if (!host)
        return false;
    o->dir_host[o->n_dirs] = host;
    o->dir_guest[o->n_dirs++] = guest;
    return true;
}

/* Returns -1 when parsing succeeded, or the exit code to return. */
static int parse_run_args(int argc, char **argv, run_opts *o)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        const char *v;
        unsigned long n;
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            run_usage(NULL);
            return CLI_EXIT_OK;
        }
        if (take_opt(argc, argv, &i, "--dir", &v)) {
            if (!v || !add_dir(o, v))
                return run_usage("--dir needs HOST or HOST::GUEST");
        } else if (take_opt(argc, argv, &i, "--env", &v)) {
            if (!v || !strchr(v, '=') || v[0] == '=')
                return run_usage("--env needs KEY=VALUE");
            o->envs[o->n_envs++] = v;
        } else if (take_opt(argc, argv, &i, "--invoke", &v)) {
            if (!v || !*v)
                return run_usage("--invoke needs a function name");
            o->invoke = v;
        } else if (take_opt(argc, argv, &i, "--max-memory-pages", &v)) {
            if (!parse_ulong(v, 1, 65536, &n))
                return run_usage("--max-memory-pages needs a number in 1..65536");
            o->max_pages = (uint32_t)n;
        } else if (strcmp(argv[i], "--aot") == 0) {
            o->aot = true;
        } else if (take_opt(argc, argv, &i, "--aot-cache", &v)) {
            if (!v || !*v)
                return run_usage("--aot-cache needs a directory");
            o->aot = true;
            o->aot_cache = v;
        } else if (take_opt(argc, argv, &i, "--aot-file", &v)) {
            if (!v || !*v)
                return run_usage("--aot-file needs an artifact");
            o->aot_file = v;
        } else if (take_opt(argc, argv, &i, "--timeout", &v)) {
            if (!parse_ulong(v, 1, 86400000UL, &n))
                return run_usage("--timeout needs milliseconds in 1..86400000");
            o->timeout_ms = n;
        } else {
            fprintf(stderr, "sluice run: unknown option '%s'\n", argv[i]);
            return run_usage(NULL);
        }
    }
    if (i >= argc)
        return run_usage("no module given");
    o->module = argv[i++];
    o->args = argv + i;
    o->n_args = argc - i;
    return -1;
}

/* ---- timeout watchdog ------------------------------------------------------ */

/* Sleeps until the deadline, then interrupts the instance — and keeps
 * interrupting every 10 ms, because the engine clears the flag when the next
 * top-level call starts (e.g. _start right after _initialize). Stopped and
 * joined by watchdog_stop as soon as the guest is done. */
typedef struct watchdog {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    bool started;
    unsigned long ms;
    sl_instance *inst;
} watchdog;

static void ts_add_ms(struct timespec *ts, unsigned long ms)
{
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *watchdog_main(void *arg)
{
    watchdog *w = arg;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    ts_add_ms(&deadline, w->ms);
    pthread_mutex_lock(&w->mu);
    while (!w->done) {
        int rc = pthread_cond_timedwait(&w->cv, &w->mu, &deadline);
        if (rc == ETIMEDOUT && !w->done) {
            sl_instance_interrupt(w->inst);
            clock_gettime(CLOCK_MONOTONIC, &deadline);
            ts_add_ms(&deadline, 10);
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static bool watchdog_start(watchdog *w, sl_instance *inst, unsigned long ms)
{
    memset(w, 0, sizeof *w);
    w->inst = inst;
    w->ms = ms;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->thread, NULL, watchdog_main, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        return false;
    }
    w->started = true;
    return true;
}

static void watchdog_stop(watchdog *w)
{
    if (!w->started)
        return;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    w->started = false;
}

/* ---- running ----------------------------------------------------------------- */

/* Exit code for a trap (owned; freed here): proc_exit's code, or 134. */
static int trap_status(sl_trap *trap)
{
    int status;
    if (sl_trap_kind_of(trap) == SL_TRAP_EXIT) {
        status = sl_trap_exit_code(trap);
    } else {
        fflush(stdout);
        cli_print_trap(trap);
        status = CLI_EXIT_TRAP;
    }
    sl_trap_free(trap);
    return status;
}

/* Calls a [] -> [] entry point (_start, _initialize). -1 when it returned. */
static int call_entry(const run_opts *o, sl_func *f, const char *name)
{
    if (sl_func_param_count(f) != 0) {
        fprintf(stderr, "sluice: %s: export '%s' must take no parameters\n", o->module, name);
        return CLI_EXIT_ERROR;
    }
    size_t nres = sl_func_result_count(f);
    sl_val *res = calloc(nres + 1, sizeof *res);
    if (!res) {
        fprintf(stderr, "sluice: out of memory\n");
        return CLI_EXIT_ERROR;
    }
    sl_val none[1] = {{.bits = 0}};
    sl_trap *trap = sl_func_call(f, none, res);
    free(res);
    return trap ? trap_status(trap) : -1;
}

/* --invoke FUNC ARGS...: parses the arguments per FUNC's parameter types,
 * calls it and prints one result per line. */
static int invoke(const run_opts *o, sl_instance *inst)
{
    sl_func *f = sl_instance_func(inst, o->invoke);
    if (!f) {
        fprintf(stderr, "sluice: %s: no exported function '%s'\n", o->module, o->invoke);
        return CLI_EXIT_ERROR;
    }
    size_t np = sl_func_param_count(f), nr = sl_func_result_count(f);
    if ((size_t)o->n_args != np) {
        fprintf(stderr, "sluice: %s expects %zu argument%s, got %d\n", o->invoke, np,
                np == 1 ? "" : "s", o->n_args);
        return CLI_EXIT_USAGE;
    }
    size_t nslots = (np > nr ? np : nr) + 1;
    sl_val *args = calloc(nslots, sizeof *args), *res = calloc(nslots, sizeof *res);
    int status = -1;
    if (!args || !res) {
        fprintf(stderr, "sluice: out of memory\n");
        status = CLI_EXIT_ERROR;
        goto out_free;
    }
    for (size_t i = 0; i < np; i++) {
        sl_valtype t = sl_func_param_type(f, i);
        if (!cli_val_parse(t, o->args[i], &args[i])) {
            fprintf(stderr, "sluice: argument %zu of %s: '%s' is not a valid %s\n", i + 1,
                    o->invoke, o->args[i], cli_valtype_name(t));
            status = CLI_EXIT_USAGE;
            goto out_free;
        }
    }
    sl_trap *trap = sl_func_call(f, args, res);
    if (trap) {
        status = trap_status(trap);
        goto out_free;
    }
    for (size_t i = 0; i < nr; i++) {
        char buf[64];
        cli_val_format(sl_func_result_type(f, i), res[i], buf, sizeof buf);
        printf("%s\n", buf);
    }
out_free:
    free(args);
    free(res);
    return status;
}

/* Chooses and runs the entry point; returns the exit code. */
static int run_instance(const run_opts *o, sl_instance *inst)
{
    watchdog wd = {0};
    if (o->timeout_ms && !watchdog_start(&wd, inst, o->timeout_ms)) {
        fprintf(stderr, "sluice: cannot start the --timeout thread\n");
        return CLI_EXIT_ERROR;
    }
    int status = -1;
    sl_func *start = sl_instance_func(inst, "_start");
    sl_func *init = sl_instance_func(inst, "_initialize");
    if (o->invoke) {
        if (init)
            status = call_entry(o, init, "_initialize");
        if (status < 0)
            status = invoke(o, inst);
    } else if (start) {
        status = call_entry(o, start, "_start");
    } else if (init) {
        status = call_entry(o, init, "_initialize");
    }
    watchdog_stop(&wd);
    fflush(stdout);
    return status < 0 ? CLI_EXIT_OK : status;
}

/* Builds the WASI context from the options (argv[0] = module basename). */
static wasi_ctx *make_wasi(const run_opts *o)
{
    const char **argv = calloc((size_t)o->n_args + 2, sizeof *argv);
    if (!argv)
        return NULL;
    int argc = 0;
    argv[argc++] = cli_basename(o->module);
    if (!o->invoke)
        for (int i = 0; i < o->n_args; i++)
            argv[argc++] = o->args[i];
    wasi_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.argc = argc;
    cfg.argv = argv;
    cfg.envc = o->n_envs;
    cfg.envp = o->envs;
    cfg.n_preopens = o->n_dirs;
    cfg.preopen_host = o->dir_host;
    cfg.preopen_guest = o->dir_guest;
    wasi_ctx *w = wasi_ctx_new(&cfg);
    free(argv);
    return w;
}

/* Preopens are checked here too, so the error names the directory. */
static bool check_dirs(const run_opts *o)
{
    for (int i = 0; i < o->n_dirs; i++) {
        struct stat st;
        if (stat(o->dir_host[i], &st) != 0) {
            fprintf(stderr, "sluice: --dir %s: %s\n", o->dir_host[i], strerror(errno));
            return false;
        }
        if (!S_ISDIR(st.st_mode)) {
            fprintf(stderr, "sluice: --dir %s: not a directory\n", o->dir_host[i]);
            return false;
        }
    }
    return true;
}

static int load_and_run(const run_opts *o)
{
    int status = CLI_EXIT_ERROR;
    uint8_t *bytes = NULL;
    size_t len = 0;
    sl_engine *engine = NULL;
    sl_module *mod = NULL;
    sl_linker *linker = NULL;
    wasi_ctx *wasi = NULL;
    sl_instance *inst = NULL;
    sl_trap *trap = NULL;
    sl_diag diag;
    memset(&diag, 0, sizeof diag);
    diag.offset = SIZE_MAX;

    int err = cli_read_file(o->module, &bytes, &len);
    if (err) {
        fprintf(stderr, "sluice: %s: %s\n", o->module, strerror(err));
        return CLI_EXIT_ERROR;
    }
    if (!check_dirs(o))
        goto out;
    engine = sl_engine_new(NULL);
    if (!engine)
        goto out_nomem;
    sl_err rc = sl_module_new(engine, bytes, len, &mod, &diag);
    if (rc != SL_OK) {
        if (diag.err == SL_OK)
            diag.err = rc;
        cli_print_diag(o->module, &diag);
        goto out;
    }
    if (o->aot_file || o->aot) {
        rc = o->aot_file ? sl_aot_load(mod, bytes, len, o->aot_file, &diag)
                         : sl_aot_prepare(mod, bytes, len, SL_RUNTIME_AOT, o->aot_cache, &diag);
        if (rc != SL_OK) {
            if (diag.err == SL_OK)
                diag.err = rc;
            cli_print_diag(o->aot_file ? o->aot_file : o->module, &diag);
            goto out;
        }
    }
    wasi = make_wasi(o);
    if (!wasi) {
        fprintf(stderr, "sluice: cannot set up WASI: %s\n", strerror(errno));
        goto out;
    }
    linker = sl_linker_new(engine);
    if (!linker || wasi_link(linker, wasi) != SL_OK)
        goto out_nomem;

    sl_instance_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.limits.max_memory_pages = o->max_pages;
    memset(&diag, 0, sizeof diag);
    diag.offset = SIZE_MAX;
    rc = sl_instantiate(linker, mod, &cfg, &inst, &diag, &trap);
    if (rc == SL_ERR_TRAP && trap) {
        inst = NULL;
        status = trap_status(trap); /* start function trapped or exited */
        goto out;
    }
    if (rc != SL_OK) {
        inst = NULL;
        if (trap)
            sl_trap_free(trap);
        if (diag.err == SL_OK)
            diag.err = rc;
        cli_print_diag(o->module, &diag);
        goto out;
    }
    status = run_instance(o, inst);
    goto out;

out_nomem:
    fprintf(stderr, "sluice: out of memory\n");
out:
    if (inst)
        sl_instance_free(inst);
    if (linker)
        sl_linker_free(linker);
    wasi_ctx_free(wasi);
    if (mod)
        sl_module_free(mod);
    if (engine)
        sl_engine_free(engine);
    free(bytes);
    return status;
}

int cli_run_main(int argc, char **argv)
{
    run_opts o;
    memset(&o, 0, sizeof o);
    /* Each option takes at most one slot; argc bounds them all. */
    o.dir_host = calloc((size_t)argc + 1, sizeof *o.dir_host);
    o.dir_guest = calloc((size_t)argc + 1, sizeof *o.dir_guest);
    o.envs = calloc((size_t)argc + 1, sizeof *o.envs);
    int status;
    if (!o.dir_host || !o.dir_guest || !o.envs) {
        fprintf(stderr, "sluice: out of memory\n");
        status = CLI_EXIT_ERROR;
    } else {
        status = parse_run_args(argc, argv, &o);
        if (status < 0)
            status = load_and_run(&o);
    }
    for (int i = 0; i < o.n_dirs; i++)
        free((char *)o.dir_host[i]);
    free(o.dir_host);
    free(o.dir_guest);
    free(o.envs);
    return status;
}
