/*
 * cli_util.c — helpers shared by the sluice subcommands (see cli.h).
 *
 * Owns:      reading whole files, the wording of load-error and trap
 *            reports on stderr, and the textual form of values on the
 *            command line (parsing --invoke arguments, printing results).
 * Not here:  option parsing (each subcommand owns its own), anything that
 *            runs code.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return ENOMEM;
    }
    for (;;) {
        if (n == cap) {
            uint8_t *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int err = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (err) {
        free(buf);
        return err;
    }
    *data = buf;
    *len = n;
    return 0;
}

const char *cli_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

void cli_diag_message(const sl_diag *d, char *buf, size_t n)
{
    const char *msg = d->msg[0] ? d->msg : sl_err_str(d->err);
    if (d->offset != SIZE_MAX)
        snprintf(buf, n, "%s at offset 0x%zx", msg, d->offset);
    else
        snprintf(buf, n, "%s", msg);
}

void cli_print_diag(const char *file, const sl_diag *d)
{
    char msg[320];
    cli_diag_message(d, msg, sizeof msg);
    fprintf(stderr, "sluice: %s: %s\n", file, msg);
}

void cli_print_trap(const sl_trap *trap)
{
    const char *msg = sl_trap_message(trap);
    fprintf(stderr, "sluice: trap: %s\n", msg ? msg : "(no message)");
    size_t n = sl_trap_frame_count(trap);
    for (size_t i = 0; i < n; i++) {
        const char *name = sl_trap_frame_name(trap, i);
        if (name)
            fprintf(stderr, "  %zu: %s\n", i, name);
        else
            fprintf(stderr, "  %zu: func[%" PRIu32 "]\n", i, sl_trap_frame_func(trap, i));
    }
}

const char *cli_valtype_name(sl_valtype t)
{
    switch (t) {
    case SL_I32: return "i32";
    case SL_I64: return "i64";
    case SL_F32: return "f32";
    case SL_F64: return "f64";
    case SL_V128: return "v128";
    case SL_FUNCREF: return "funcref";
    case SL_EXTERNREF: return "externref";
    }
    return "?";
}

/* ---- parsing ------------------------------------------------------------- */

/* Integer of `bits` bits: [-]digits or [-]0xhex. Accepts the signed and the
 * unsigned range (for i32: -2147483648 .. 4294967295). */
static bool parse_int(const char *s, unsigned bits, uint64_t *out)
{
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    for (const char *q = s; *q; q++)
        if (base == 10 ? !(*q >= '0' && *q <= '9')
                       : !((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') ||
                           (*q >= 'A' && *q <= 'F')))
            return false;
    errno = 0;
    unsigned long long mag = strtoull(s, NULL, base);
    if (errno == ERANGE)
        return false;
    uint64_t umax = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    uint64_t nmax = UINT64_C(1) << (bits - 1);
    if (neg ? mag > nmax : mag > umax)
        return false;
    *out = neg ? (uint64_t)0 - (uint64_t)mag : (uint64_t)mag;
    return true;
}

/* "nan:0xPAYLOAD" with an optional sign; writes the float's bit pattern. */
static bool parse_nan_payload(const char *s, unsigned bits, uint64_t *out)
{
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (strncmp(s, "nan:0x", 6) != 0)
        return false;
    uint64_t payload;
    if (!parse_int(s + 4, 64, &payload))
        return false;
    unsigned mant = bits == 32 ? 23 : 52;
    uint64_t mant_mask = (UINT64_C(1) << mant) - 1;
    if (payload == 0 || payload > mant_mask)
        return false;
    uint64_t exp = bits == 32 ? UINT64_C(0xFF) << 23 : UINT64_C(0x7FF) << 52;
    uint64_t sign = neg ? UINT64_C(1) << (bits - 1) : 0;
    *out = sign | exp | payload;
    return true;
}

bool cli_val_parse(sl_valtype t, const char *s, sl_val *out)
{
    sl_val v;
    v.bits = 0;
    uint64_t u;
    char *end;
    switch (t) {
    case SL_I32:
        if (!parse_int(s, 32, &u))
            return false;
        v.i32 = (int32_t)(uint32_t)u;
        break;
    case SL_I64:
        if (!parse_int(s, 64, &u))
            return false;
        v.i64 = (int64_t)u;
        break;
    case SL_F32:
        if (parse_nan_payload(s, 32, &u)) {
            uint32_t b = (uint32_t)u;
            memcpy(&v.f32, &b, sizeof b);
            break;
        }
        errno = 0;
        v.f32 = strtof(s, &end);
        if (end == s || *end)
            return false;
        break;
    case SL_F64:
        if (parse_nan_payload(s, 64, &u)) {
            memcpy(&v.f64, &u, sizeof u);
            break;
        }
        v.f64 = strtod(s, &end);
        if (end == s || *end)
            return false;
        break;
    case SL_EXTERNREF:
        if (strcmp(s, "null") == 0) {
            v.ref = NULL;
            break;
        }
        if (!parse_int(s, 64, &u) || *s == '-' || u >= UINTPTR_MAX)
            return false;
        v.ref = (void *)(uintptr_t)(u + 1);
        break;
    case SL_FUNCREF:
        if (strcmp(s, "null") != 0)
            return false;
        v.ref = NULL;
        break;
    default:
        return false;
    }
    *out = v;
    return true;
}

/* ---- printing ------------------------------------------------------------ */

static void format_f32(uint32_t b, char *buf, size_t n)
{
    float f;
    memcpy(&f, &b, sizeof f);
    const char *sign = (b >> 31) ? "-" : "";
    uint32_t payload = b & 0x7FFFFF;
    if (isnan(f)) {
        if (payload == 0x400000)
            snprintf(buf, n, "%snan", sign);
        else
            snprintf(buf, n, "%snan:0x%" PRIx32, sign, payload);
        return;
    }
    if (isinf(f)) {
        snprintf(buf, n, "%sinf", sign);
        return;
    }
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, n, "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f)
            return;
    }
}

static void format_f64(uint64_t b, char *buf, size_t n)
{
    double d;
    memcpy(&d, &b, sizeof d);
    const char *sign = (b >> 63) ? "-" : "";
    uint64_t payload = b & ((UINT64_C(1) << 52) - 1);
    if (isnan(d)) {
        if (payload == UINT64_C(1) << 51)
            snprintf(buf, n, "%snan", sign);
        else
            snprintf(buf, n, "%snan:0x%" PRIx64, sign, payload);
        return;
    }
    if (isinf(d)) {
        snprintf(buf, n, "%sinf", sign);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

void cli_val_format(sl_valtype t, sl_val v, char *buf, size_t n)
{
    uint32_t b32;
    switch (t) {
    case SL_I32:
        snprintf(buf, n, "%" PRId32, v.i32);
        break;
    case SL_I64:
        snprintf(buf, n, "%" PRId64, v.i64);
        break;
    case SL_F32:
        memcpy(&b32, &v.f32, sizeof b32);
        format_f32(b32, buf, n);
        break;
    case SL_F64:
        format_f64(v.bits, buf, n);
        break;
    case SL_EXTERNREF:
        if (!v.ref)
            snprintf(buf, n, "null");
        else
            snprintf(buf, n, "%" PRIuPTR, (uintptr_t)v.ref - 1);
        break;
    case SL_FUNCREF:
        snprintf(buf, n, v.ref ? "<funcref>" : "null");
        break;
    default:
        snprintf(buf, n, "<%s>", cli_valtype_name(t));
        break;
    }
}
