/* crc32 — table-driven CRC-32 (IEEE 802.3, reflected, byte at a time) over
 * a pseudo-random buffer: a dependent chain of byte loads, table lookups,
 * shifts and xors. Self-checked against the standard "123456789" vector. */
#include "bench.h"

volatile uint32_t CRC_BYTES = 32u << 20;
volatile uint32_t CRC_PASSES = 4;

static uint32_t table[256];

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

int main(void)
{
    make_table();
    if (crc32(0, (const uint8_t *)"123456789", 9) != 0xCBF43926u)
        bench_fail("crc32 self-test");
    uint32_t n = CRC_BYTES, passes = CRC_PASSES;
    uint8_t *buf = bench_alloc(n);
    uint64_t s = 0x0123456789abcdefULL;
    for (uint32_t i = 0; i < n; i += 8) {
        uint64_t r = bench_rand(&s);
        memcpy(buf + i, &r, n - i < 8 ? n - i : 8);
    }
    double t0 = bench_now_ms();
    uint32_t crc = 0;
    uint64_t h = BENCH_FNV_INIT;
    for (uint32_t p = 0; p < passes; p++) {
        crc = crc32(crc, buf + p, n - p); /* chain passes, shift the window */
        h = bench_fnv(h, crc);
    }
    double t1 = bench_now_ms();
    char out[48];
    snprintf(out, sizeof out, "%08x/%016llx", crc, (unsigned long long)h);
    bench_report("crc32", out, t1 - t0);
    free(buf);
    return 0;
}
