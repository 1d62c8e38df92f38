/*
 * ut_buf.h — a growable byte buffer for building text (JSON, Prometheus,
 * HTTP heads, log lines).
 *
 * Layer:     util. No policy.
 * Ownership: the buffer owns .data (malloc'd); ut_buf_free releases it.
 *            A zero-initialised ut_buf is empty and valid.
 * Errors:    allocation failure sets .oom and turns later appends into
 *            no-ops, so a builder can append freely and check once at the
 *            end (`if (b.oom) ...`). .data is always NUL-terminated when
 *            .len > 0 and !oom.
 */
#ifndef UT_BUF_H
#define UT_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ut_buf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;
} ut_buf;

/* Makes room for n more bytes (plus a NUL). Returns false on OOM. */
static inline bool ut_buf_reserve(ut_buf *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->len + n + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1) {
        if (cap > ((size_t)-1) / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

static inline void ut_buf_append(ut_buf *b, const void *p, size_t n)
{
    if (!ut_buf_reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static inline void ut_buf_puts(ut_buf *b, const char *s)
{
    ut_buf_append(b, s, strlen(s));
}

static inline void ut_buf_putc(ut_buf *b, char c)
{
    ut_buf_append(b, &c, 1);
}

__attribute__((format(printf, 2, 3)))
static inline void ut_buf_printf(ut_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof tmp) {
        ut_buf_append(b, tmp, (size_t)n);
        return;
    }
    if (!ut_buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Writes v in decimal (base 10) or lowercase hex (base 16) to out, which
 * must hold 21 bytes; returns the length (no NUL). No locale, no printf. */
static inline size_t ut_u64_to_text(uint64_t v, unsigned base, char *out)
{
    char tmp[24];
    size_t n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

static inline void ut_buf_put_u64(ut_buf *b, uint64_t v)
{
    char tmp[24];
    ut_buf_append(b, tmp, ut_u64_to_text(v, 10, tmp));
}

/* Appends s as a JSON string literal, quotes included. */
static inline void ut_buf_json_str(ut_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    ut_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            ut_buf_append(b, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            ut_buf_append(b, esc, 6);
        } else {
            ut_buf_putc(b, (char)c);
        }
    }
    ut_buf_putc(b, '"');
}

static inline void ut_buf_reset(ut_buf *b)
{
    b->len = 0;
    b->oom = false;
    if (b->data)
        b->data[0] = '\0';
}

static inline void ut_buf_free(ut_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

#endif
