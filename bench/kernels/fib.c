/* fib — naive doubly-recursive Fibonacci: call/return overhead, small
 * frames, integer adds, branch on n < 2. Measures the cost of a wasm call. */
#include "bench.h"

volatile uint32_t FIB_N = 41;

static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int main(void)
{
    uint32_t n = FIB_N;
    double t0 = bench_now_ms();
    uint32_t r = fib(n);
    double t1 = bench_now_ms();
    char buf[32];
    snprintf(buf, sizeof buf, "fib(%u)=%u", n, r);
    bench_report("fib", buf, t1 - t0);
    return 0;
}
