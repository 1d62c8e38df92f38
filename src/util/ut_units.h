/*
 * ut_units.h — parse config-file durations and sizes (see ut_units.c).
 */
#ifndef UT_UNITS_H
#define UT_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "250ms", "30s", "1.5m", "2h" or a bare number of ms: milliseconds,
 * exactly (a value finer than 1 ms is rejected). */
bool ut_parse_duration_ms(const char *s, size_t len, uint64_t *ms);

/* "65536", "64KiB", "1 GiB", "10MB" (SI: KB/MB/GB = 1000^n; IEC: KiB/Ki,
 * MiB/Mi, GiB/Gi = 1024^n): bytes, without overflow. */
bool ut_parse_size(const char *s, size_t len, uint64_t *out);

#endif
