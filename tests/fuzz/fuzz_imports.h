/*
 * fuzz_imports.h — a tiny, self-contained scanner of a wasm binary's type,
 * import and start sections, for the test harnesses (tests/fuzz/fuzz_run.c).
 *
 * Owns:      finding each import's full type (vm.h only exposes module, name
 *            and kind), so a harness can satisfy every import with a stub,
 *            and telling whether a module has a start function or an export
 *            name with a NUL byte (which no C-string lookup can find).
 * Why here:  deliberately independent of the engine's decoder (it is the
 *            code under test). Every read is bounds-checked; on anything odd
 *            the scan fails and the caller just skips linking.
 * Scope:     WebAssembly 2.0 encodings (func types 0x60, one-byte value
 *            types, limits flags 0/1). Header-only, static functions.
 */
#ifndef FUZZ_IMPORTS_H
#define FUZZ_IMPORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FI_MAX_TYPES 4096
#define FI_MAX_IMPORTS 256
#define FI_SIG_MAX 64

typedef struct fi_import {
    char module[64];
    char name[64];
    uint8_t kind;          /* 0 func, 1 table, 2 memory, 3 global */
    char sig[FI_SIG_MAX];  /* func: "params:results" in sl_linker_define_func letters */
    uint32_t nresults;     /* func */
    uint8_t valtype;       /* table: element type; global: value type */
    bool mut;              /* global */
    uint32_t min, max;     /* table/memory limits; max = UINT32_MAX when absent */
} fi_import;

typedef struct fi_module {
    size_t n_imports;
    fi_import imports[FI_MAX_IMPORTS];
    bool has_start;
    bool nul_export;       /* an export name contains a NUL byte */
} fi_module;

typedef struct fi_reader {
    const uint8_t *p;
    size_t len, pos;
    bool bad;
} fi_reader;

static uint64_t
fi_uleb(fi_reader *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->pos >= r->len) {
            r->bad = true;
            return 0;
        }
        uint8_t b = r->p[r->pos++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

static uint8_t
fi_byte(fi_reader *r)
{
    if (r->pos >= r->len) {
        r->bad = true;
        return 0;
    }
    return r->p[r->pos++];
}

static void
fi_name(fi_reader *r, char *out, size_t cap)
{
    uint64_t n = fi_uleb(r);
    if (r->bad || n > r->len - r->pos) {
        r->bad = true;
        out[0] = 0;
        return;
    }
    size_t c = n < cap - 1 ? (size_t)n : cap - 1;
    memcpy(out, r->p + r->pos, c);
    out[c] = 0;
    if (memchr(out, 0, c)) /* embedded NUL: the engine's C strings differ */
        r->bad = true;
    if (n >= cap)
        r->bad = true; /* truncated name would not match the engine's */
    r->pos += (size_t)n;
}

static char
fi_letter(uint8_t t)
{
    switch (t) {
    case 0x7f: return 'i';
    case 0x7e: return 'I';
    case 0x7d: return 'f';
    case 0x7c: return 'F';
    case 0x6f: return 'r';
    case 0x70: return 'R';
    default: return 0;
    }
}

static void
fi_limits(fi_reader *r, uint32_t *min, uint32_t *max)
{
    uint8_t flags = fi_byte(r);
    uint64_t lo = fi_uleb(r), hi = UINT32_MAX;
    if (flags == 1)
        hi = fi_uleb(r);
    else if (flags != 0)
        r->bad = true;
    if (lo > UINT32_MAX || hi > UINT32_MAX)
        r->bad = true;
    *min = (uint32_t)lo;
    *max = (uint32_t)hi;
}

/* Scans bytes; returns false when the scan gave up (the module may still be
 * valid: the caller then links nothing). Types: up to FI_MAX_TYPES kept as
 * offsets into the type section and re-read on demand. */
static bool
fi_scan(const uint8_t *bytes, size_t len, fi_module *out)
{
    static size_t type_off[FI_MAX_TYPES];
    size_t n_types = 0;
    memset(out, 0, sizeof *out);
    fi_reader r = {bytes, len, 8, false};
    if (len < 8)
        return false;
    while (r.pos < len && !r.bad) {
        uint8_t id = fi_byte(&r);
        uint64_t size = fi_uleb(&r);
        if (r.bad || size > len - r.pos)
            return false;
        fi_reader s = {bytes, r.pos + (size_t)size, r.pos, false};
        r.pos += (size_t)size;
        if (id == 8) {
            out->has_start = true;
        } else if (id == 7) {
            uint64_t n = fi_uleb(&s);
            for (uint64_t i = 0; i < n && !s.bad; i++) {
                uint64_t k = fi_uleb(&s);
                if (s.bad || k > s.len - s.pos)
                    return false;
                if (memchr(bytes + s.pos, 0, (size_t)k))
                    out->nul_export = true;
                s.pos += (size_t)k;
                fi_byte(&s);
                fi_uleb(&s);
            }
        } else if (id == 1) {
            uint64_t n = fi_uleb(&s);
            if (n > FI_MAX_TYPES)
                return false;
            for (uint64_t i = 0; i < n && !s.bad; i++) {
                type_off[n_types++] = s.pos;
                if (fi_byte(&s) != 0x60)
                    return false;
                for (int part = 0; part < 2; part++) {
                    uint64_t k = fi_uleb(&s);
                    if (k > s.len - s.pos)
                        return false;
                    s.pos += (size_t)k;
                }
            }
        } else if (id == 2) {
            uint64_t n = fi_uleb(&s);
            if (n > FI_MAX_IMPORTS)
                return false;
            for (uint64_t i = 0; i < n && !s.bad; i++) {
                fi_import *im = &out->imports[out->n_imports++];
                fi_name(&s, im->module, sizeof im->module);
                fi_name(&s, im->name, sizeof im->name);
                im->kind = fi_byte(&s);
                if (im->kind == 0) {
                    uint64_t t = fi_uleb(&s);
                    if (s.bad || t >= n_types)
                        return false;
                    fi_reader tr = {bytes, len, type_off[t] + 1, false};
                    size_t k = 0;
                    for (int part = 0; part < 2; part++) {
                        uint64_t cnt = fi_uleb(&tr);
                        if (tr.bad || cnt > FI_SIG_MAX - 3 - k)
                            return false;
                        for (uint64_t j = 0; j < cnt; j++) {
                            char c = fi_letter(fi_byte(&tr));
                            if (!c)
                                return false;
                            im->sig[k++] = c;
                        }
                        if (part == 0)
                            im->sig[k++] = ':';
                        else
                            im->nresults = (uint32_t)cnt;
                    }
                    im->sig[k] = 0;
                } else if (im->kind == 1) {
                    im->valtype = fi_byte(&s);
                    fi_limits(&s, &im->min, &im->max);
                } else if (im->kind == 2) {
                    fi_limits(&s, &im->min, &im->max);
                } else if (im->kind == 3) {
                    im->valtype = fi_byte(&s);
                    uint8_t m = fi_byte(&s);
                    if (m > 1)
                        return false;
                    im->mut = m == 1;
                } else {
                    return false;
                }
            }
            if (s.bad)
                return false;
        }
    }
    return !r.bad;
}

#endif /* FUZZ_IMPORTS_H */
