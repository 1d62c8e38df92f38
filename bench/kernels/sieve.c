/* sieve — Sieve of Eratosthenes over a byte array: tight loops with
 * strided byte stores and loads (memory bound, bounds checks matter).
 * Several passes with slightly different limits so no pass is redundant. */
#include "bench.h"

volatile uint32_t SIEVE_N = 10000000;
volatile uint32_t SIEVE_PASSES = 12;

int main(void)
{
    uint32_t n = SIEVE_N, passes = SIEVE_PASSES;
    uint8_t *composite = bench_alloc(n + 1);
    uint64_t h = BENCH_FNV_INIT;
    double t0 = bench_now_ms();
    for (uint32_t p = 0; p < passes; p++) {
        uint32_t lim = n - p * 1000;
        memset(composite, 0, lim + 1);
        for (uint32_t i = 2; (uint64_t)i * i <= lim; i++)
            if (!composite[i])
                for (uint32_t j = i * i; j <= lim; j += i)
                    composite[j] = 1;
        uint32_t count = 0;
        uint64_t sum = 0;
        for (uint32_t i = 2; i <= lim; i++)
            if (!composite[i]) {
                count++;
                sum += i;
            }
        h = bench_fnv(h, count);
        h = bench_fnv(h, sum);
    }
    double t1 = bench_now_ms();
    bench_report_u64("sieve", h, t1 - t0);
    free(composite);
    return 0;
}
