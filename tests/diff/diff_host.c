/*
 * diff_host.c — the sluice side of the differential tests (tests/diff/).
 *
 * Owns:   running one `wasm-opt -ttf` module in sluice and printing a log
 *         that tests/diff/run_node.mjs prints identically for V8: the
 *         "fuzzing-support" log-* imports print their argument; every
 *         exported function is called in export order with zero arguments
 *         (after "hangLimitInitializer", when exported, resets the module's
 *         own loop/recursion budget), then its results or trap class and a
 *         hash of the exported memory are printed.
 * Usage:  diff_host MODULE.wasm [CALL_MS]   (CALL_MS default 2000)
 * Output: one line per event (the format is shared with run_node.mjs):
 *           instantiate ok | instantiate error MSG | instantiate trap CLASS
 *           call NAME
 *           log i32 -5 | log i64 7 | log f32 0x3f800000 | log f64 nan
 *           result i32:1 i64:-2 f32:0x... f64:0x... ref:null|ref:func
 *           trap CLASS        (unreachable memory divzero intconv table
 *                              stack oom host other:MSG)
 *           skip NAME interrupted   (watchdog: the run stops here)
 *           mem SIZE HASH     (FNV-1a 32 of the memory exported as "memory")
 *           end
 *         Floats print as raw bits, except any NaN prints as "nan": NaN
 *         payloads and signs may differ between engines.
 * Limit:  a watchdog thread calls sl_instance_interrupt when a call runs
 *         longer than CALL_MS; the harness then treats the rest of the
 *         module as not comparable.
 */
#include <sluice/aot.h>
#include <sluice/vm.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- formatting ---------------------------------------------------------------- */

static void
print_f32(float f)
{
    if (f != f) {
        fputs("nan", stdout);
        return;
    }
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    printf("0x%08" PRIx32, b);
}

static void
print_f64(double d)
{
    if (d != d) {
        fputs("nan", stdout);
        return;
    }
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    printf("0x%016" PRIx64, b);
}

static const char *
trap_class(const sl_trap *t)
{
    switch (sl_trap_kind_of(t)) {
    case SL_TRAP_UNREACHABLE: return "unreachable";
    case SL_TRAP_MEMORY_OOB: return "memory";
    case SL_TRAP_DIV_ZERO: return "divzero";
    case SL_TRAP_INT_OVERFLOW:
    case SL_TRAP_INVALID_CONVERSION: return "intconv";
    case SL_TRAP_TABLE_OOB:
    case SL_TRAP_UNDEFINED_ELEMENT:
    case SL_TRAP_UNINITIALIZED_ELEMENT:
    case SL_TRAP_INDIRECT_TYPE: return "table";
    case SL_TRAP_STACK_EXHAUSTED: return "stack";
    case SL_TRAP_OOM: return "oom";
    case SL_TRAP_HOST: return "host";
    default: return NULL;
    }
}

static void
print_trap(const char *prefix, const sl_trap *t)
{
    const char *c = trap_class(t);
    if (c)
        printf("%s %s\n", prefix, c);
    else
        printf("%s other:%s\n", prefix, sl_trap_message(t));
}

/* ---- imports --------------------------------------------------------------------- */

static sl_trap *
log_i32(sl_instance *caller, sl_val *args, void *user)
{
    (void)caller;
    (void)user;
    printf("log i32 %" PRId32 "\n", args[0].i32);
    return NULL;
}

static sl_trap *
log_i64(sl_instance *caller, sl_val *args, void *user)
{
    (void)caller;
    (void)user;
    printf("log i64 %" PRId64 "\n", args[0].i64);
    return NULL;
}

static sl_trap *
log_f32(sl_instance *caller, sl_val *args, void *user)
{
    (void)caller;
    (void)user;
    fputs("log f32 ", stdout);
    print_f32(args[0].f32);
    putchar('\n');
    return NULL;
}

static sl_trap *
log_f64(sl_instance *caller, sl_val *args, void *user)
{
    (void)caller;
    (void)user;
    fputs("log f64 ", stdout);
    print_f64(args[0].f64);
    putchar('\n');
    return NULL;
}

/* ---- watchdog -------------------------------------------------------------------- */

static pthread_mutex_t wd_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cv;
static sl_instance *wd_inst; /* armed while non-NULL */
static bool wd_quit;
static struct timespec wd_deadline;
static long call_ms = 2000;

static void
ts_after_ms(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *
wd_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&wd_mu);
    while (!wd_quit) {
        if (!wd_inst) {
            pthread_cond_wait(&wd_cv, &wd_mu);
            continue;
        }
        if (pthread_cond_timedwait(&wd_cv, &wd_mu, &wd_deadline) == ETIMEDOUT && wd_inst) {
            sl_instance_interrupt(wd_inst);
            ts_after_ms(&wd_deadline, 10);
        }
    }
    pthread_mutex_unlock(&wd_mu);
    return NULL;
}

static void
wd_set(sl_instance *inst)
{
    pthread_mutex_lock(&wd_mu);
    wd_inst = inst;
    if (inst)
        ts_after_ms(&wd_deadline, call_ms);
    pthread_cond_signal(&wd_cv);
    pthread_mutex_unlock(&wd_mu);
}

/* ---- running ---------------------------------------------------------------------- */

static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *len = n;
    return buf;
}

static void
print_memory(sl_instance *inst)
{
    sl_memory *mem = sl_instance_memory(inst, "memory");
    if (!mem)
        return;
    const uint8_t *p = sl_memory_data(mem);
    uint64_t size = sl_memory_size(mem);
    uint32_t h = 2166136261u;
    for (uint64_t i = 0; i < size; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    printf("mem %" PRIu64 " %08" PRIx32 "\n", size, h);
}

/* Calls f with zero arguments under the watchdog. Returns false when the
 * call was interrupted. */
static bool
call(sl_instance *inst, sl_func *f, const char *name, bool quiet)
{
    size_t np = sl_func_param_count(f), nr = sl_func_result_count(f);
    sl_val *args = calloc(np + 1, sizeof *args);
    sl_val *res = calloc(nr + 1, sizeof *res);
    if (!args || !res) {
        fprintf(stderr, "diff_host: out of memory\n");
        exit(2);
    }
    wd_set(inst);
    sl_trap *t = sl_func_call(f, args, res);
    wd_set(NULL);
    bool ok = true;
    if (t && sl_trap_kind_of(t) == SL_TRAP_INTERRUPTED) {
        printf("skip %s interrupted\n", name);
        ok = false;
    } else if (t) {
        print_trap("trap", t);
    } else if (!quiet) {
        fputs("result", stdout);
        for (size_t i = 0; i < nr; i++) {
            putchar(' ');
            switch (sl_func_result_type(f, i)) {
            case SL_I32: printf("i32:%" PRId32, res[i].i32); break;
            case SL_I64: printf("i64:%" PRId64, res[i].i64); break;
            case SL_F32: fputs("f32:", stdout); print_f32(res[i].f32); break;
            case SL_F64: fputs("f64:", stdout); print_f64(res[i].f64); break;
            case SL_FUNCREF: printf("ref:%s", res[i].ref ? "func" : "null"); break;
            case SL_EXTERNREF: printf("ref:%s", res[i].ref ? "extern" : "null"); break;
            default: printf("unknown-type:%d", (int)sl_func_result_type(f, i)); break;
            }
        }
        putchar('\n');
    }
    sl_trap_free(t);
    free(args);
    free(res);
    return ok;
}

int
main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s MODULE.wasm [CALL_MS]\n", argv[0]);
        return 2;
    }
    if (argc == 3)
        call_ms = strtol(argv[2], NULL, 10);
    setvbuf(stdout, NULL, _IOLBF, 0);
    size_t len;
    uint8_t *bytes = read_file(argv[1], &len);
    if (!bytes) {
        fprintf(stderr, "%s: cannot read\n", argv[1]);
        return 2;
    }
    sl_engine *e = sl_engine_new(NULL);
    sl_module *m;
    sl_diag d;
    if (sl_module_new(e, bytes, len, &m, &d) != SL_OK) {
        printf("load error %s\n", d.msg);
        printf("end\n");
        free(bytes);
        sl_engine_free(e);
        return 0;
    }
    /* SLUICE_DIFF_AOT=DIR: run the module's AOT-compiled native code (the
     * artifact cached in DIR), for the interpreter-vs-AOT comparison. */
    const char *aot = getenv("SLUICE_DIFF_AOT");
    if (aot && *aot && sl_aot_prepare(m, bytes, len, SL_RUNTIME_AOT, aot, &d) != SL_OK) {
        fprintf(stderr, "aot: %s\n", d.msg);
        return 3;
    }
    free(bytes);
    sl_linker *l = sl_linker_new(e);
    sl_linker_define_func(l, "fuzzing-support", "log-i32", "i:", log_i32, NULL);
    sl_linker_define_func(l, "fuzzing-support", "log-i64", "I:", log_i64, NULL);
    sl_linker_define_func(l, "fuzzing-support", "log-f32", "f:", log_f32, NULL);
    sl_linker_define_func(l, "fuzzing-support", "log-f64", "F:", log_f64, NULL);

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wd_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_t wd;
    if (pthread_create(&wd, NULL, wd_main, NULL) != 0) {
        fprintf(stderr, "diff_host: cannot start the watchdog\n");
        return 2;
    }

    sl_instance *inst = NULL;
    sl_trap *trap = NULL;
    sl_err err = sl_instantiate(l, m, NULL, &inst, &d, &trap);
    if (err == SL_ERR_TRAP) {
        print_trap("instantiate trap", trap);
        sl_trap_free(trap);
    } else if (err != SL_OK) {
        printf("instantiate error %s\n", d.msg);
    } else {
        printf("instantiate ok\n");
        sl_func *reset = sl_instance_func(inst, "hangLimitInitializer");
        for (size_t i = 0; i < sl_module_export_count(m); i++) {
            const char *name;
            sl_externkind kind;
            sl_module_export(m, i, &name, &kind);
            if (kind != SL_EXTERN_FUNC || strcmp(name, "hangLimitInitializer") == 0)
                continue;
            sl_func *f = sl_instance_func(inst, name);
            if (!f) {
                printf("error export %s not found\n", name);
                continue;
            }
            if (reset && !call(inst, reset, "hangLimitInitializer", true))
                break;
            printf("call %s\n", name);
            if (!call(inst, f, name, false))
                break;
            print_memory(inst);
        }
        sl_instance_free(inst);
    }
    printf("end\n");

    pthread_mutex_lock(&wd_mu);
    wd_quit = true;
    pthread_cond_signal(&wd_cv);
    pthread_mutex_unlock(&wd_mu);
    pthread_join(wd, NULL);
    pthread_cond_destroy(&wd_cv);
    sl_linker_free(l);
    sl_module_free(m);
    sl_engine_free(e);
    return 0;
}
