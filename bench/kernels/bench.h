/*
 * bench.h — shared helpers for the sluice compute kernels.
 *
 * Every kernel is plain C11 that builds both natively (gcc -O2) and for
 * wasm32-wasi (clang -O2). It uses only printf/snprintf, malloc/free,
 * string.h and clock_gettime, so the same source runs everywhere.
 *
 * Output contract (parsed by bench/run.sh), one key=value per line:
 *     kernel=<name>
 *     checksum=<string>     must be identical for every runtime
 *     time_ms=<float>       kernel section only (setup/start-up excluded)
 *
 * Sizes come from volatile globals so that no compiler can fold the work
 * away at build time.
 */
#ifndef BENCH_H
#define BENCH_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline void bench_report(const char *kernel, const char *checksum, double ms)
{
    printf("kernel=%s\nchecksum=%s\ntime_ms=%.3f\n", kernel, checksum, ms);
    fflush(stdout);
}

static inline void bench_report_u64(const char *kernel, uint64_t checksum, double ms)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%016llx", (unsigned long long)checksum);
    bench_report(kernel, buf, ms);
}

/* 64-bit FNV-1a step, used to fold results into a checksum. */
static inline uint64_t bench_fnv(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 0x100000001b3ULL;
    }
    return h;
}
#define BENCH_FNV_INIT 0xcbf29ce484222325ULL

/* Fold a double's bit pattern (exact, no printf rounding involved). */
static inline uint64_t bench_fnv_f64(uint64_t h, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bench_fnv(h, bits);
}

/* xorshift64*: deterministic input data. */
static inline uint64_t bench_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static inline void *bench_alloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        printf("error=out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

static inline void bench_fail(const char *what)
{
    printf("error=%s\n", what);
    exit(1);
}

#endif
