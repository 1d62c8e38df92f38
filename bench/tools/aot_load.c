/*
 * aot_load.c — how long a cached AOT artifact takes to load, in process:
 * for each "module.wasm artifact.slaot" pair, RUNS times: sl_module_new
 * (decode, validate, lower: what the interpreter needs anyway) and then
 * sl_aot_load (read the artifact, check its header, the module's SHA-256 and
 * the payload's, memfd + dlopen, attach), each timed on its own with
 * CLOCK_MONOTONIC; prints the medians and minimums in ms.
 * Usage: aot_load [--runs N] module.wasm artifact.slaot [...]. Built and run
 * by bench/aot.sh; links build/libsluice.a through sluice/vm.h and
 * sluice/aot.h only. Exit status 1 when any load fails.
 */
#include <sluice/aot.h>
#include <sluice/vm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
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

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    int runs = 21, i = 1, status = 0;
    if (argc > 2 && strcmp(argv[1], "--runs") == 0) {
        runs = atoi(argv[2]);
        i = 3;
    }
    if (runs < 1 || runs > 1000 || (argc - i) < 2 || (argc - i) % 2) {
        fprintf(stderr, "usage: aot_load [--runs N] module.wasm artifact.slaot [...]\n");
        return 2;
    }
    sl_engine *e = sl_engine_new(NULL);
    double *tm = calloc((size_t)runs, sizeof *tm), *ta = calloc((size_t)runs, sizeof *ta);
    for (; i + 1 < argc; i += 2) {
        size_t len;
        uint8_t *bytes = read_file(argv[i], &len);
        if (!bytes) {
            printf("%s: cannot read\n", argv[i]);
            status = 1;
            continue;
        }
        int ok = 1;
        for (int r = 0; r < runs && ok; r++) {
            sl_module *m = NULL;
            sl_diag d;
            memset(&d, 0, sizeof d);
            double t0 = now_ms();
            if (sl_module_new(e, bytes, len, &m, &d)) {
                printf("%s: module: %s\n", argv[i], d.msg);
                ok = 0;
                break;
            }
            double t1 = now_ms();
            sl_err err = sl_aot_load(m, bytes, len, argv[i + 1], &d);
            double t2 = now_ms();
            if (err) {
                printf("%s: aot load: %s\n", argv[i + 1], d.msg);
                ok = 0;
            }
            sl_module_free(m);
            tm[r] = t1 - t0;
            ta[r] = t2 - t1;
        }
        free(bytes);
        if (!ok) {
            status = 1;
            continue;
        }
        qsort(tm, (size_t)runs, sizeof *tm, cmp);
        qsort(ta, (size_t)runs, sizeof *ta, cmp);
        printf("load %s (%zu KB wasm): module %.2f ms (min %.2f), + artifact %.2f ms (min %.2f), %d runs\n",
               argv[i + 1], len / 1000, tm[runs / 2], tm[0], ta[runs / 2], ta[0], runs);
    }
    free(tm);
    free(ta);
    sl_engine_free(e);
    return status;
}
