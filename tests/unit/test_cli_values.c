/*
 * test_cli_values.c — unit tests for the CLI's value syntax
 * (src/cli/cli_util.c): parsing `sluice run --invoke` arguments and
 * printing results.
 *
 * Owns:     cli_val_parse / cli_val_format / cli_basename / cli_diag_message.
 * Not here: running modules (tests/wast, tests/wasi).
 * Build:    cli_util.c is not in libsluice.a, so it is included here; the
 *           unit suite adds -Isrc/cli. Output: "ok - X" / "not ok - X"
 *           lines, then "N passed, N failed".
 */
#include "cli_util.c"

#include "tap.h"

static uint32_t f32_bits(sl_val v)
{
    uint32_t b;
    memcpy(&b, &v.f32, sizeof b);
    return b;
}

static int parses_to_bits(sl_valtype t, const char *s, uint64_t bits)
{
    sl_val v;
    if (!cli_val_parse(t, s, &v))
        return 0;
    if (t == SL_I32)
        return (uint32_t)v.i32 == (uint32_t)bits;
    if (t == SL_F32)
        return f32_bits(v) == (uint32_t)bits;
    return v.bits == bits;
}

static int formats_as(sl_valtype t, const char *in, const char *want)
{
    sl_val v;
    char buf[64];
    if (!cli_val_parse(t, in, &v))
        return 0;
    cli_val_format(t, v, buf, sizeof buf);
    if (strcmp(buf, want) != 0) {
        printf("# %s: got %s, want %s\n", in, buf, want);
        return 0;
    }
    return 1;
}

int main(void)
{
    check(parses_to_bits(SL_I32, "42", 42) && parses_to_bits(SL_I32, "-1", 0xFFFFFFFF) &&
              parses_to_bits(SL_I32, "4294967295", 0xFFFFFFFF) &&
              parses_to_bits(SL_I32, "0x80000000", 0x80000000) &&
              parses_to_bits(SL_I32, "-2147483648", 0x80000000),
          "i32 decimal, negative, unsigned and hex");
    sl_val v;
    check(!cli_val_parse(SL_I32, "4294967296", &v) && !cli_val_parse(SL_I32, "-2147483649", &v) &&
              !cli_val_parse(SL_I32, "", &v) && !cli_val_parse(SL_I32, "12x", &v) &&
              !cli_val_parse(SL_I32, "0x", &v) && !cli_val_parse(SL_I32, "1.5", &v),
          "i32 out of range or junk rejected");
    check(parses_to_bits(SL_I64, "-9223372036854775808", UINT64_C(0x8000000000000000)) &&
              parses_to_bits(SL_I64, "18446744073709551615", UINT64_MAX) &&
              !cli_val_parse(SL_I64, "18446744073709551616", &v),
          "i64 range");
    check(parses_to_bits(SL_F32, "1.5", 0x3FC00000) && parses_to_bits(SL_F32, "-inf", 0xFF800000) &&
              parses_to_bits(SL_F32, "nan", 0x7FC00000) &&
              parses_to_bits(SL_F32, "nan:0x200000", 0x7FA00000) &&
              parses_to_bits(SL_F32, "-nan:0x1", 0xFF800001) &&
              parses_to_bits(SL_F32, "0x1p-1", 0x3F000000),
          "f32 decimal, inf, nan payloads, hex float");
    check(parses_to_bits(SL_F64, "0.1", UINT64_C(0x3FB999999999999A)) &&
              parses_to_bits(SL_F64, "nan:0x4", UINT64_C(0x7FF0000000000004)) &&
              !cli_val_parse(SL_F64, "1.0x", &v) && !cli_val_parse(SL_F64, "nan:0x0", &v),
          "f64 parse and rejects");
    check(formats_as(SL_I32, "4294967295", "-1") && formats_as(SL_I64, "0x10", "16"),
          "ints print as signed decimal");
    check(formats_as(SL_F32, "0.1", "0.1") && formats_as(SL_F32, "3", "3") &&
              formats_as(SL_F32, "16777216", "16777216") &&
              formats_as(SL_F32, "3.4028234663852886e38", "3.4028235e+38") &&
              formats_as(SL_F32, "-0", "-0") && formats_as(SL_F32, "nan", "nan") &&
              formats_as(SL_F32, "-inf", "-inf") &&
              formats_as(SL_F32, "nan:0x200000", "nan:0x200000"),
          "f32 shortest round-trip printing");
    check(formats_as(SL_F64, "0.1", "0.1") && formats_as(SL_F64, "1e300", "1e+300") &&
              formats_as(SL_F64, "0.30000000000000004", "0.30000000000000004") &&
              formats_as(SL_F64, "-nan", "-nan") && formats_as(SL_F64, "inf", "inf"),
          "f64 shortest round-trip printing");
    check(cli_val_parse(SL_EXTERNREF, "null", &v) && v.ref == NULL &&
              cli_val_parse(SL_EXTERNREF, "0", &v) && v.ref == (void *)1 &&
              formats_as(SL_EXTERNREF, "5", "5") && formats_as(SL_EXTERNREF, "null", "null") &&
              cli_val_parse(SL_FUNCREF, "null", &v) && !cli_val_parse(SL_FUNCREF, "1", &v),
          "references");
    check(strcmp(cli_basename("a/b/c.wasm"), "c.wasm") == 0 &&
              strcmp(cli_basename("c.wasm"), "c.wasm") == 0,
          "basename");
    sl_diag d = {.err = SL_ERR_MALFORMED, .offset = 0x1f, .msg = "unexpected end"};
    char buf[128];
    cli_diag_message(&d, buf, sizeof buf);
    int ok = strcmp(buf, "unexpected end at offset 0x1f") == 0;
    d.offset = SIZE_MAX;
    d.msg[0] = '\0';
    cli_diag_message(&d, buf, sizeof buf);
    check(ok && strcmp(buf, "malformed module") == 0, "diag message with and without offset");
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
