/*
 * fuzz_run.c — libFuzzer target: load, link, instantiate and run a module.
 *
 * Owns:   the execution contract under arbitrary (valid) modules: every
 *         exported function is called with zero arguments; traps are fine,
 *         crashes, leaks and UB are bugs.
 * How:    imports are satisfied from the module's own import section (read
 *         by fuzz_imports.h, since vm.h does not expose import types):
 *         functions with host stubs that return zeros, memories, tables and
 *         globals with host objects of the declared shape (when small).
 *         Anything that still fails to link is skipped.
 * Bounds: small engine limits (memory pages, table size, value stack, call
 *         depth) and a watchdog thread that calls sl_instance_interrupt when
 *         a call runs longer than CALL_MS. Modules with a start function are
 *         only decoded, not instantiated: sl_instantiate cannot be
 *         interrupted (the instance does not exist yet), so a looping start
 *         function would hang the fuzzer.
 * Build:  as fuzz_decode.c (libFuzzer via tests/fuzz/run.sh, replay binary
 *         via tests/regression/suite.sh).
 */
#include "fuzz_imports.h"

#include <sluice/vm.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CALL_MS 20
#define MAX_EXPORT_CALLS 64
#define MAX_IMPORT_PAGES 16
#define MAX_IMPORT_ELEMS 10000

/* ---- watchdog: one long-lived thread, armed per call ------------------------ */

static pthread_mutex_t wd_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cv;
static sl_instance *wd_inst; /* armed while non-NULL; guarded by wd_mu */
static struct timespec wd_deadline;

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
    for (;;) {
        while (!wd_inst)
            pthread_cond_wait(&wd_cv, &wd_mu);
        int rc = pthread_cond_timedwait(&wd_cv, &wd_mu, &wd_deadline);
        if (rc == ETIMEDOUT && wd_inst) {
            /* Under wd_mu, so the instance cannot be freed meanwhile. Keep
             * poking every few ms until the call returns and disarms. */
            sl_instance_interrupt(wd_inst);
            ts_after_ms(&wd_deadline, 2);
        }
    }
    return NULL;
}

static void
wd_init(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wd_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_t t;
    if (pthread_create(&t, NULL, wd_main, NULL) == 0)
        pthread_detach(t);
}

static void
wd_arm(sl_instance *inst)
{
    pthread_mutex_lock(&wd_mu);
    wd_inst = inst;
    ts_after_ms(&wd_deadline, CALL_MS);
    pthread_cond_signal(&wd_cv);
    pthread_mutex_unlock(&wd_mu);
}

static void
wd_disarm(void)
{
    pthread_mutex_lock(&wd_mu);
    wd_inst = NULL;
    pthread_cond_signal(&wd_cv);
    pthread_mutex_unlock(&wd_mu);
}

/* ---- host stubs ------------------------------------------------------------- */

static sl_trap *
stub_zero(sl_instance *caller, sl_val *args, void *user)
{
    (void)caller;
    size_t nresults = (size_t)(uintptr_t)user;
    for (size_t i = 0; i < nresults; i++)
        args[i].bits = 0;
    return NULL;
}

static bool
define_imports(sl_linker *l, const fi_module *fm)
{
    for (size_t i = 0; i < fm->n_imports; i++) {
        const fi_import *im = &fm->imports[i];
        sl_err err = SL_OK;
        switch (im->kind) {
        case 0:
            err = sl_linker_define_func(l, im->module, im->name, im->sig, stub_zero,
                                        (void *)(uintptr_t)im->nresults);
            break;
        case 1:
            if (im->min > MAX_IMPORT_ELEMS)
                return false;
            err = sl_linker_define_table(l, im->module, im->name, (sl_valtype)im->valtype,
                                         im->min, im->max);
            break;
        case 2:
            if (im->min > MAX_IMPORT_PAGES)
                return false;
            err = sl_linker_define_memory(l, im->module, im->name, im->min, im->max);
            break;
        case 3: {
            sl_val zero = {.bits = 0};
            err = sl_linker_define_global(l, im->module, im->name, (sl_valtype)im->valtype,
                                          im->mut, zero);
            break;
        }
        default:
            return false;
        }
        if (err != SL_OK)
            return false;
    }
    return true;
}

/* ---- the target --------------------------------------------------------------- */

static sl_engine *engine;
static fi_module scan;

static void
init_once(void)
{
    sl_engine_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.limits.max_memory_pages = 64;     /* 4 MiB */
    cfg.limits.max_table_elems = 100000;
    cfg.limits.value_stack_slots = 65536; /* 512 KiB */
    cfg.limits.max_call_depth = 500;
    engine = sl_engine_new(&cfg);
    wd_init();
}

static void
call_exports(sl_instance *inst, const sl_module *m)
{
    sl_val args[64], results[64];
    size_t calls = 0;
    for (size_t i = 0; i < sl_module_export_count(m) && calls < MAX_EXPORT_CALLS; i++) {
        const char *name;
        sl_externkind kind;
        sl_module_export(m, i, &name, &kind);
        if (kind != SL_EXTERN_FUNC)
            continue;
        sl_func *f = sl_instance_func(inst, name);
        if (!f) {
            /* An exported function must be found by its name, unless the
             * name has a NUL byte (vm.h names are C strings). */
            if (!scan.nul_export)
                __builtin_trap();
            continue;
        }
        size_t np = sl_func_param_count(f), nr = sl_func_result_count(f);
        sl_val *a = args, *r = results;
        sl_val *heap_a = NULL, *heap_r = NULL;
        if (np > 64)
            a = heap_a = calloc(np, sizeof *a);
        if (nr > 64)
            r = heap_r = calloc(nr, sizeof *r);
        if (!a || !r) {
            free(heap_a);
            free(heap_r);
            continue;
        }
        memset(a, 0, (np > 64 ? np : 64) * sizeof *a);
        calls++;
        wd_arm(inst);
        sl_trap *t = sl_func_call(f, a, r);
        wd_disarm();
        if (t) {
            /* Touch the whole trap API. */
            const char *msg = sl_trap_message(t);
            size_t n = sl_trap_frame_count(t), sum = strlen(msg);
            for (size_t k = 0; k < n; k++)
                sum += strlen(sl_trap_frame_name(t, k)) + sl_trap_frame_func(t, k);
            (void)sum;
            (void)sl_trap_kind_of(t);
            sl_trap_free(t);
        }
        free(heap_a);
        free(heap_r);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
    if (!engine)
        return 0;
    sl_module *m = NULL;
    if (sl_module_new(engine, data, size, &m, NULL) != SL_OK)
        return 0;
    if (!fi_scan(data, size, &scan) || scan.has_start) {
        sl_module_free(m);
        return 0;
    }
    sl_linker *l = sl_linker_new(engine);
    if (!l) {
        sl_module_free(m);
        return 0;
    }
    if (define_imports(l, &scan)) {
        sl_instance_config icfg;
        memset(&icfg, 0, sizeof icfg);
        icfg.limits.max_memory_pages = 32;
        sl_instance *inst = NULL;
        sl_trap *trap = NULL;
        sl_diag d;
        sl_err err = sl_instantiate(l, m, &icfg, &inst, &d, &trap);
        if (err == SL_OK) {
            call_exports(inst, m);
            sl_memory *mem = sl_instance_memory(inst, "memory");
            if (mem && sl_memory_size(mem) > 0) {
                volatile uint8_t *p = sl_memory_data(mem);
                (void)p[sl_memory_size(mem) - 1]; /* the last byte is addressable */
            }
            sl_instance_free(inst);
        }
        sl_trap_free(trap);
    }
    sl_linker_free(l);
    sl_module_free(m);
    return 0;
}
