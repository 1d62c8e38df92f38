/* matmul — dense double-precision matrix multiply C = A*B (i-k-j order):
 * f64 loads, multiply-adds and stores in a streaming inner loop. The result
 * is folded by bit pattern, so every runtime must round identically
 * (no FMA contraction: build with -ffp-contract=off). */
#include "bench.h"

volatile uint32_t MATMUL_N = 720;

int main(void)
{
    uint32_t n = MATMUL_N;
    double *a = bench_alloc(sizeof(double) * n * n);
    double *b = bench_alloc(sizeof(double) * n * n);
    double *c = bench_alloc(sizeof(double) * n * n);
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    for (uint32_t i = 0; i < n * n; i++) {
        a[i] = (double)(bench_rand(&s) >> 11) / 9007199254740992.0 - 0.5;
        b[i] = (double)(bench_rand(&s) >> 11) / 9007199254740992.0 - 0.5;
    }
    double t0 = bench_now_ms();
    for (uint32_t i = 0; i < n * n; i++)
        c[i] = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        double *ci = c + (size_t)i * n;
        for (uint32_t k = 0; k < n; k++) {
            double aik = a[(size_t)i * n + k];
            const double *bk = b + (size_t)k * n;
            for (uint32_t j = 0; j < n; j++)
                ci[j] += aik * bk[j];
        }
    }
    double t1 = bench_now_ms();
    uint64_t h = BENCH_FNV_INIT;
    double trace = 0.0;
    for (uint32_t i = 0; i < n * n; i++)
        h = bench_fnv_f64(h, c[i]);
    for (uint32_t i = 0; i < n; i++)
        trace += c[(size_t)i * n + i];
    char buf[64];
    snprintf(buf, sizeof buf, "%016llx/trace=%.6f", (unsigned long long)h, trace);
    bench_report("matmul", buf, t1 - t0);
    free(a);
    free(b);
    free(c);
    return 0;
}
