/*
 * px_base64.c — base64 / base64url encode and strict decode.
 *
 * Owns:     both alphabets, padding rules.
 * Not here: allocation (callers size the output).
 */
#include "px_base64.h"

#include <stdint.h>

static const char STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t px_base64_encoded_len(size_t n, bool url)
{
    if (!url)
        return (n + 2) / 3 * 4;
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t px_base64_encode(const void *data, size_t n, char *out, bool url)
{
    const uint8_t *p = data;
    const char *abc = url ? URL : STD;
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = abc[(v >> 6) & 63];
        out[o++] = abc[v & 63];
    }
    size_t rest = n - i;
    if (rest) {
        uint32_t v = (uint32_t)p[i] << 16 | (rest == 2 ? (uint32_t)p[i + 1] << 8 : 0);
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        if (rest == 2)
            out[o++] = abc[(v >> 6) & 63];
        if (!url) {
            if (rest == 1)
                out[o++] = '=';
            out[o++] = '=';
        }
    }
    out[o] = '\0';
    return o;
}

static int value_of(char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

bool px_base64_decode(const char *in, size_t n, void *out, size_t *out_len, bool url)
{
    uint8_t *o = out;
    size_t pad = 0;
    while (pad < 2 && n > pad && in[n - 1 - pad] == '=')
        pad++;
    if (!url && (n % 4 != 0))
        return false;
    if (url && pad && n % 4 != 0)
        return false;
    size_t m = n - pad; /* significant characters */
    if (m % 4 == 1)
        return false;
    size_t w = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < m; i++) {
        int v = value_of(in[i], url);
        if (v < 0)
            return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[w++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits && (acc & ((1u << bits) - 1)) != 0) /* non-canonical trailing bits */
        return false;
    /* padding must match the remainder exactly */
    if (pad && (4 - m % 4) % 4 != pad)
        return false;
    *out_len = w;
    return true;
}
