/*
 * ut_units.c — durations and sizes as people write them in config files
 * ("250ms", "1.5m", "64MiB"); one syntax for the gateway's YAML and WAGI's
 * modules.toml (docs/config.md, "Value syntax").
 *
 * Layer:     util. No policy beyond the syntax; range checks are the
 *            caller's.
 */
#include "ut_units.h"

#include <stdint.h>
#include <string.h>

bool ut_parse_duration_ms(const char *s, size_t len, uint64_t *ms)
{
    size_t i = 0;
    uint64_t whole = 0, frac = 0, scale = 1;
    while (i < len && s[i] >= '0' && s[i] <= '9' && whole < 1000000000000ull)
        whole = whole * 10 + (uint64_t)(s[i++] - '0');
    if (i == 0 || (i < len && s[i] >= '0' && s[i] <= '9'))
        return false;
    bool has_frac = i < len && s[i] == '.';
    if (has_frac) {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 9) {
            frac = frac * 10 + (uint64_t)(s[i++] - '0');
            scale *= 10;
        }
        if (i == start || (i < len && s[i] >= '0' && s[i] <= '9'))
            return false;
    }
    const char *unit = s + i;
    size_t ulen = len - i;
    uint64_t mult;
    if (ulen == 0 && !has_frac)
        mult = 1;
    else if (ulen == 2 && !memcmp(unit, "ms", 2))
        mult = 1;
    else if (ulen == 1 && unit[0] == 's')
        mult = 1000;
    else if (ulen == 1 && unit[0] == 'm')
        mult = 60000;
    else if (ulen == 1 && unit[0] == 'h')
        mult = 3600000;
    else
        return false;
    if ((frac * mult) % scale != 0)
        return false; /* finer than a millisecond */
    *ms = whole * mult + frac * mult / scale;
    return true;
}

static const struct {
    const char *suffix;
    uint64_t mult;
} size_units[] = {
    {"B", 1},
    {"KB", 1000}, {"kB", 1000}, {"MB", 1000000}, {"GB", 1000000000},
    {"KiB", 1024}, {"Ki", 1024}, {"MiB", 1048576}, {"Mi", 1048576},
    {"GiB", 1073741824}, {"Gi", 1073741824},
};

bool ut_parse_size(const char *s, size_t len, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i++] - '0');
    }
    if (i == 0)
        return false;
    if (i < len && s[i] == ' ')
        i++;
    if (i == len) {
        *out = v;
        return true;
    }
    for (size_t k = 0; k < sizeof size_units / sizeof size_units[0]; k++) {
        size_t sl = strlen(size_units[k].suffix);
        if (len - i == sl && !memcmp(s + i, size_units[k].suffix, sl)) {
            if (v > UINT64_MAX / size_units[k].mult)
                return false;
            *out = v * size_units[k].mult;
            return true;
        }
    }
    return false;
}
