/*
 * px_resp.c — RESP v2 encoder and reply parser.
 *
 * Owns:     the wire grammar.
 * Not here: connection handling (the host owns the Redis client).
 */
#include "px_resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *px_resp_command(size_t *len, int argc, const char *const *argv)
{
    size_t total = 16;
    for (int i = 0; i < argc; i++)
        total += strlen(argv[i]) + 32;
    char *b = malloc(total);
    if (!b)
        return NULL;
    size_t o = (size_t)snprintf(b, total, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        o += (size_t)snprintf(b + o, total - o, "$%zu\r\n", n);
        memcpy(b + o, argv[i], n);
        o += n;
        b[o++] = '\r';
        b[o++] = '\n';
    }
    b[o] = '\0';
    *len = o;
    return b;
}

/* Finds "\r\n" from pos; returns its offset or -1 if absent. */
static long find_crlf(const char *buf, size_t len, size_t pos)
{
    for (size_t i = pos; i + 1 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n')
            return (long)i;
    return -1;
}

static int parse_int(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (n == 0)
        return -1;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n || n - i > 18)
        return -1;
    int64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

static long parse_at(const char *buf, size_t len, size_t pos, px_resp *out, int depth)
{
    memset(out, 0, sizeof *out);
    if (depth > PX_RESP_MAX_DEPTH)
        return -1;
    if (pos >= len)
        return 0;
    char t = buf[pos];
    long eol = find_crlf(buf, len, pos + 1);
    if (eol < 0)
        return 0;
    const char *line = buf + pos + 1;
    size_t line_len = (size_t)eol - pos - 1;
    size_t next = (size_t)eol + 2;
    int64_t n;
    switch (t) {
    case '+':
    case '-':
        out->type = t == '+' ? PX_RESP_SIMPLE : PX_RESP_ERROR;
        out->str = line;
        out->len = line_len;
        return (long)(next - pos);
    case ':':
        out->type = PX_RESP_INTEGER;
        if (parse_int(line, line_len, &out->integer))
            return -1;
        return (long)(next - pos);
    case '$':
        if (parse_int(line, line_len, &n) || n < -1)
            return -1;
        if (n == -1) {
            out->type = PX_RESP_NIL;
            return (long)(next - pos);
        }
        if ((uint64_t)n + 2 > len - next)
            return 0;
        if (buf[next + (size_t)n] != '\r' || buf[next + (size_t)n + 1] != '\n')
            return -1;
        out->type = PX_RESP_BULK;
        out->str = buf + next;
        out->len = (size_t)n;
        return (long)(next + (size_t)n + 2 - pos);
    case '*':
        if (parse_int(line, line_len, &n) || n < -1 || n > 1 << 20)
            return -1;
        if (n == -1) {
            out->type = PX_RESP_NIL;
            return (long)(next - pos);
        }
        out->type = PX_RESP_ARRAY;
        if (n == 0)
            return (long)(next - pos);
        if ((size_t)n > len - next) /* each element needs at least 3 bytes */
            return 0;
        out->items = calloc((size_t)n, sizeof *out->items);
        if (!out->items)
            return -1;
        for (int64_t i = 0; i < n; i++) {
            long used = parse_at(buf, len, next, &out->items[i], depth + 1);
            if (used <= 0) {
                out->count = (size_t)i + 1;
                px_resp_free(out);
                return used;
            }
            out->count++;
            next += (size_t)used;
        }
        return (long)(next - pos);
    default:
        return -1;
    }
}

long px_resp_parse(const char *buf, size_t len, px_resp *out)
{
    return parse_at(buf, len, 0, out, 0);
}

void px_resp_free(px_resp *r)
{
    if (r->type == PX_RESP_ARRAY) {
        for (size_t i = 0; i < r->count; i++)
            px_resp_free(&r->items[i]);
        free(r->items);
    }
    r->items = NULL;
    r->count = 0;
}
