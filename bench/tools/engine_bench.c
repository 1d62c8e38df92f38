/*
 * engine_bench.c — engine-level costs that the kernels do not show:
 *   load      decode + validate + lower a module (ms, MB/s), for each file
 *             given on the command line;
 *   inst      instantiate + free a small module with a 1-page memory, a
 *             table, globals and a data segment (µs per instance);
 *   call      call a trivial export on a live instance (ns per call);
 *   memory    resident memory of an idle instance beyond the module (KB),
 *             from /proc/self/statm over 1000 live instances;
 *   hello     with --hello FILE (a wasi-libc "hello" command, e.g.
 *             build/bench/wasm/hello.wasm): the WAGI request path, one
 *             linker with WASI built once and an instance per request:
 *             instantiate+free, and wasi_ctx_new + instantiate + _start to
 *             completion (stdout to a sink) + free. Median over batches.
 * Usage: engine_bench [--load-only] [--hello FILE] [module.wasm...]. Built
 * and run by bench/run.sh; links build/libsluice.a through the public
 * headers only (sluice/vm.h, and wasi.h for --hello). Prints one
 * "name: value" line per measurement.
 */
#include <sluice/vm.h>

#include "../../src/wasi/wasi.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = n > 0 ? malloc((size_t)n) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* (module (memory 1) (table 4 funcref) (global (mut i32) (i32.const 7))
 *   (func (export "f") (result i32) global.get 0)
 *   (data (i32.const 16) "hello, instance")) */
static const uint8_t small_module[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, /* header */
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,       /* type () -> i32 */
    0x03, 0x02, 0x01, 0x00,                         /* func 0: type 0 */
    0x04, 0x04, 0x01, 0x70, 0x00, 0x04,             /* table 4 funcref */
    0x05, 0x03, 0x01, 0x00, 0x01,                   /* memory 1 */
    0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x07, 0x0b, /* global mut i32 = 7 */
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00,       /* export "f" func 0 */
    0x0a, 0x06, 0x01, 0x04, 0x00, 0x23, 0x00, 0x0b, /* code: global.get 0 */
    0x0b, 0x15, 0x01, 0x00, 0x41, 0x10, 0x0b, 0x0f, /* data at 16, 15 bytes */
    'h', 'e', 'l', 'l', 'o', ',', ' ', 'i', 'n', 's', 't', 'a', 'n', 'c', 'e',
};

static long
rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int
bench_load(sl_engine *e, const char *path)
{
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    if (!bytes) {
        fprintf(stderr, "engine_bench: cannot read %s\n", path);
        return 1;
    }
    double best = 1e30;
    for (int i = 0; i < 5; i++) {
        sl_module *m;
        sl_diag d;
        double t0 = now_us();
        if (sl_module_new(e, bytes, len, &m, &d)) {
            fprintf(stderr, "engine_bench: %s: %s\n", path, d.msg);
            free(bytes);
            return 1;
        }
        double t = now_us() - t0;
        best = t < best ? t : best;
        sl_module_free(m);
    }
    printf("load %s: %.0f KB in %.2f ms (%.0f MB/s)\n", path, (double)len / 1024, best / 1e3,
           (double)len / best);
    free(bytes);
    return 0;
}

static int
bench_instances(sl_engine *e)
{
    sl_module *m;
    sl_diag d;
    if (sl_module_new(e, small_module, sizeof small_module, &m, &d)) {
        fprintf(stderr, "engine_bench: small module: %s\n", d.msg);
        return 1;
    }
    sl_linker *l = sl_linker_new(e);
    enum { N = 20000, LIVE = 1000 };
    double t0 = now_us();
    for (int i = 0; i < N; i++) {
        sl_instance *inst;
        sl_trap *t = NULL;
        if (sl_instantiate(l, m, NULL, &inst, &d, &t)) {
            fprintf(stderr, "engine_bench: instantiate: %s\n", d.msg);
            return 1;
        }
        sl_instance_free(inst);
    }
    printf("instantiate+free (1-page memory, table, global, data): %.2f us\n",
           (now_us() - t0) / N);

    sl_instance *inst;
    sl_trap *t = NULL;
    if (sl_instantiate(l, m, NULL, &inst, &d, &t))
        return 1;
    sl_func *f = sl_instance_func(inst, "f");
    sl_val res[1];
    t0 = now_us();
    for (int i = 0; i < N * 10; i++)
        if ((t = sl_func_call(f, NULL, res)) != NULL)
            return 1;
    printf("call (host -> trivial export): %.0f ns\n", (now_us() - t0) * 1e3 / (N * 10));
    sl_instance_free(inst);

    static sl_instance *live[LIVE];
    long before = rss_kb();
    for (int i = 0; i < LIVE; i++)
        if (sl_instantiate(l, m, NULL, &live[i], &d, &t))
            return 1;
    long after = rss_kb();
    printf("idle instance memory: %.1f KB (RSS over %d live instances)\n",
           (double)(after - before) / LIVE, LIVE);
    for (int i = 0; i < LIVE; i++)
        sl_instance_free(live[i]);
    sl_linker_free(l);
    sl_module_free(m);
    return 0;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int
discard(void *user, const uint8_t *p, size_t n)
{
    (void)p;
    *(size_t *)user += n;
    return 0;
}

/* One WAGI-style request: a fresh WASI context and instance, _start to the
 * end, everything freed. run = false: instantiate + free only. */
static int
hello_once(sl_linker *l, const sl_module *m, bool run, size_t *out_bytes)
{
    static const char *argv[] = {"hello"};
    wasi_config wc = {.argc = 1, .argv = argv, .stdout_sink = discard, .sink_user = out_bytes};
    wasi_ctx *w = NULL;
    if (run && !(w = wasi_ctx_new(&wc)))
        return 1;
    sl_instance_config cfg = {.user_data = w};
    sl_instance *inst;
    sl_trap *t = NULL;
    sl_diag d;
    if (sl_instantiate(l, m, &cfg, &inst, &d, &t)) {
        fprintf(stderr, "engine_bench: hello: %s\n", d.msg);
        sl_trap_free(t);
        wasi_ctx_free(w);
        return 1;
    }
    int rc = 0;
    if (run) {
        t = sl_func_call(sl_instance_func(inst, "_start"), NULL, NULL);
        if (t && !(sl_trap_kind_of(t) == SL_TRAP_EXIT && sl_trap_exit_code(t) == 0))
            rc = 1;
        sl_trap_free(t);
    }
    sl_instance_free(inst);
    wasi_ctx_free(w);
    return rc;
}

static int
bench_hello(sl_engine *e, const char *path)
{
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    sl_module *m;
    sl_diag d;
    if (!bytes || sl_module_new(e, bytes, len, &m, &d)) {
        fprintf(stderr, "engine_bench: %s: cannot load\n", path);
        free(bytes);
        return 1;
    }
    free(bytes);
    sl_linker *l = sl_linker_new(e);
    if (!l || wasi_link(l, NULL) != SL_OK)
        return 1;
    enum { BATCHES = 51, PER = 400 };
    static const char *what[2] = {"instantiate+free", "instantiate+run _start+free (WASI ctx)"};
    size_t out_bytes = 0;
    for (int run = 0; run < 2; run++) {
        double med[BATCHES];
        for (int i = 0; i < 200; i++) /* warm up: thread stacks, pools, images */
            if (hello_once(l, m, run, &out_bytes))
                return 1;
        for (int b = 0; b < BATCHES; b++) {
            double t0 = now_us();
            for (int i = 0; i < PER; i++)
                if (hello_once(l, m, run, &out_bytes))
                    return 1;
            med[b] = (now_us() - t0) / PER;
        }
        qsort(med, BATCHES, sizeof *med, cmp_double);
        printf("hello %s: %.2f us (median of %d batches of %d; min %.2f, max %.2f)\n",
               what[run], med[BATCHES / 2], BATCHES, PER, med[0], med[BATCHES - 1]);
    }
    sl_linker_free(l);
    sl_module_free(m);
    return 0;
}

int
main(int argc, char **argv)
{
    sl_engine *e = sl_engine_new(NULL);
    int first = 1, rc = 0;
    bool load_only = false;
    const char *hello = NULL;
    for (; first < argc; first++) {
        if (!strcmp(argv[first], "--load-only"))
            load_only = true; /* for profiling the loader alone */
        else if (!strcmp(argv[first], "--hello") && first + 1 < argc)
            hello = argv[++first];
        else
            break;
    }
    if (hello)
        rc |= bench_hello(e, hello);
    if (!load_only)
        rc |= bench_instances(e);
    for (int i = first; i < argc; i++)
        rc |= bench_load(e, argv[i]);
    sl_engine_free(e);
    return rc;
}
