/*
 * fuzz_http1.c — libFuzzer target: the HTTP/1.1 framing parser and body
 * decoder (src/gateway/gw_http1.h).
 *
 * Owns:   gw_http1_parse_head on arbitrary bytes as a request, a response or
 *         a response to HEAD (never reads past len, never crashes or hits
 *         UB), resumability (the head fed in two pieces, and byte by byte
 *         for inputs up to 4 KiB, gives exactly the one-call result), the
 *         invariants of a parsed head (strings inside the buffer, limits
 *         kept, statuses from the documented set), and gw_http1_body_decode
 *         on the bytes after the head: fed in pseudo-random pieces it must
 *         deliver the same payload, end at the same byte and fail the same
 *         way as when fed in one piece. Also calls the helpers on every
 *         parsed field.
 * Input:  byte 0 picks the mode (% 3: request, response, response to HEAD)
 *         and the split point of the head (byte 0 / 3, scaled to the
 *         length); the rest is the message. Byte 0 also seeds the piece
 *         sizes for the body.
 * Build:  as fuzz_json.c, with -Isrc/gateway.
 */
#include "gw_http1.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                   \
    do {                           \
        if (!(c))                  \
            __builtin_trap();      \
    } while (0)

enum { CAP = 48 };

static const gw_http1_limits limits = {
    .max_head_bytes = 4096,
    .max_headers = 32,
    .max_request_line = 1024,
};

typedef struct run {
    gw_http1_parser p;
    gw_http1_head h;
    gw_header hdr[CAP];
    ssize_t r;
} run;

static void start(run *x, bool resp, bool was_head)
{
    memset(x, 0, sizeof *x);
    gw_http1_parser_init(&x->p, resp, &limits, x->hdr, CAP);
    x->p.request_was_head = was_head;
}

static bool inside(gw_str s, const char *buf, size_t len)
{
    if (s.len == 0)
        return true;
    return s.base >= buf && s.len <= len && (size_t)(s.base - buf) <= len - s.len;
}

static void same_result(const run *a, const run *b)
{
    CHECK(a->r == b->r);
    if (a->r == GW_HTTP1_ERROR) {
        CHECK(a->p.status == b->p.status);
        CHECK(a->p.error == b->p.error);
        return;
    }
    if (a->r < 0)
        return;
    const gw_http1_head *x = &a->h, *y = &b->h;
    CHECK(x->method.base == y->method.base && x->method.len == y->method.len);
    CHECK(x->target.base == y->target.base && x->target.len == y->target.len);
    CHECK(x->reason.base == y->reason.base && x->reason.len == y->reason.len);
    CHECK(x->status == y->status && x->minor_version == y->minor_version);
    CHECK(x->n_headers == y->n_headers && x->head_len == y->head_len);
    CHECK(x->body == y->body && x->content_length == y->content_length);
    CHECK(x->connection == y->connection && x->keep_alive == y->keep_alive);
    CHECK(x->expect_continue == y->expect_continue);
    CHECK((x->host == NULL) == (y->host == NULL));
    if (x->host)
        CHECK(x->host - x->headers == y->host - y->headers);
    for (size_t i = 0; i < x->n_headers; i++) {
        CHECK(x->headers[i].name.base == y->headers[i].name.base);
        CHECK(x->headers[i].name.len == y->headers[i].name.len);
        CHECK(x->headers[i].value.base == y->headers[i].value.base);
        CHECK(x->headers[i].value.len == y->headers[i].value.len);
    }
}

static void invariants(const run *x, const char *buf, size_t len, bool resp)
{
    if (x->r == GW_HTTP1_AGAIN) {
        CHECK(len < limits.max_head_bytes);
        return;
    }
    if (x->r == GW_HTTP1_ERROR) {
        int s = x->p.status;
        CHECK(x->p.error != NULL);
        if (resp)
            CHECK(s == 502);
        else
            CHECK(s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505);
        return;
    }
    const gw_http1_head *h = &x->h;
    CHECK(x->r > 0 && (size_t)x->r <= len && (size_t)x->r == h->head_len);
    CHECK(h->head_len <= limits.max_head_bytes && h->head_len >= 4);
    CHECK(memcmp(buf + h->head_len - 4, "\r\n\r\n", 4) == 0);
    CHECK(h->n_headers <= limits.max_headers && h->headers == x->hdr);
    CHECK(h->minor_version == 0 || h->minor_version == 1);
    CHECK(inside(h->method, buf, h->head_len) && inside(h->target, buf, h->head_len));
    CHECK(inside(h->reason, buf, h->head_len));
    if (resp) {
        CHECK(h->status >= 100 && h->status <= 999 && h->host == NULL);
        CHECK(h->method.len == 0 && h->target.len == 0);
    } else {
        CHECK(h->method.len > 0 && h->target.len > 0 && h->status == 0);
        CHECK(h->body != GW_BODY_UNTIL_CLOSE);
        if (h->minor_version == 1)
            CHECK(h->host != NULL);
    }
    for (size_t i = 0; i < h->n_headers; i++) {
        const gw_header *f = &h->headers[i];
        CHECK(f->name.len > 0 && inside(f->name, buf, h->head_len));
        CHECK(inside(f->value, buf, h->head_len));
        for (size_t k = 0; k < f->value.len; k++) {
            unsigned char c = (unsigned char)f->value.base[k];
            CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
        }
        if (f->value.len) {
            CHECK(f->value.base[0] != ' ' && f->value.base[0] != '\t');
            char last = f->value.base[f->value.len - 1];
            CHECK(last != ' ' && last != '\t');
        }
        /* Helpers must cope with anything the parser hands out. */
        (void)gw_http1_is_hop_by_hop(h, f->name);
        CHECK(gw_str_ieq(f->name, "x") == (f->name.len == 1 && (f->name.base[0] | 0x20) == 'x'));
    }
    /* The body kind follows from the fields that frame it. */
    const gw_header *cl = gw_http1_find(h, "content-length");
    const gw_header *te = gw_http1_find(h, "transfer-encoding");
    CHECK(!(cl && te));
    if (h->body == GW_BODY_LENGTH)
        CHECK(cl != NULL);
    if (h->body == GW_BODY_CHUNKED)
        CHECK(te != NULL && h->minor_version == 1);
    if (h->body == GW_BODY_UNTIL_CLOSE)
        CHECK(!cl && !te && !h->keep_alive);
    if (resp && (x->p.request_was_head || h->status < 200 || h->status == 204 ||
                 h->status == 304))
        CHECK(h->body == GW_BODY_NONE);
    if (!resp && h->body == GW_BODY_NONE)
        CHECK(!cl && !te);
    if (h->connection & GW_CONN_CLOSE)
        CHECK(!h->keep_alive);
    CHECK(gw_http1_reason(h->status) != NULL);
}

typedef struct body_run {
    char *out;
    size_t out_len;
    size_t consumed;
    bool error;
    const char *why;
    bool done;
} body_run;

/* Decodes in[0..len), fed in pieces whose sizes come from `seed` (0: one
 * piece). */
static void decode(const gw_http1_head *h, const char *in, size_t len, uint32_t seed,
                   body_run *o)
{
    gw_http1_body b;
    memset(&b, 0, sizeof b);
    gw_http1_body_init(&b, h, 64);
    o->out_len = 0;
    o->error = false;
    o->why = NULL;
    size_t pos = 0;
    while (!b.done && !o->error) {
        size_t end = len;
        if (seed) {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            size_t piece = (seed & 7) == 0 ? 1 + (seed >> 8) % 200 : 1 + (seed >> 8) % 4;
            end = pos + piece < len ? pos + piece : len;
        }
        bool stalled = false;
        while (pos < end && !b.done) {
            const char *d = NULL;
            size_t dl = 12345;
            ssize_t r = gw_http1_body_decode(&b, in + pos, end - pos, &d, &dl);
            if (r == GW_HTTP1_ERROR) {
                CHECK(b.error != NULL);
                o->error = true;
                o->why = b.error;
                break;
            }
            CHECK(r >= 0 && (size_t)r <= end - pos);
            CHECK(dl <= (size_t)r);
            if (dl) {
                CHECK(d >= in + pos && d + dl <= in + pos + r);
                memcpy(o->out + o->out_len, d, dl);
                o->out_len += dl;
            }
            pos += (size_t)r;
            if (r == 0) {
                stalled = !b.done;
                break;
            }
        }
        CHECK(!stalled); /* a decoder given bytes must make progress */
        if (end == len)
            break;
    }
    CHECK(o->error || b.received == o->out_len);
    if (h->body == GW_BODY_UNTIL_CLOSE && !o->error)
        CHECK(pos == len && !b.done);
    if (h->body == GW_BODY_NONE)
        CHECK(b.done && pos == 0);
    o->consumed = pos;
    o->done = b.done;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0] % 3;
    bool resp = mode != 0, was_head = mode == 2;
    /* An exact-size copy, so reading past the message is caught. */
    size_t n = size - 1;
    char *buf = malloc(n ? n : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, n);
    size_t split = (size_t)((uint64_t)n * (data[0] / 3) / 85);

    static run whole, two, bytes;
    start(&whole, resp, was_head);
    whole.r = gw_http1_parse_head(&whole.p, buf, n, &whole.h);
    invariants(&whole, buf, n, resp);

    start(&two, resp, was_head);
    two.r = gw_http1_parse_head(&two.p, buf, split, &two.h);
    if (two.r == GW_HTTP1_AGAIN) {
        CHECK(two.p.scanned <= split);
        two.r = gw_http1_parse_head(&two.p, buf, n, &two.h);
    }
    same_result(&whole, &two);

    if (n <= 4096) {
        start(&bytes, resp, was_head);
        bytes.r = GW_HTTP1_AGAIN;
        for (size_t k = 0; k <= n && bytes.r == GW_HTTP1_AGAIN; k++)
            bytes.r = gw_http1_parse_head(&bytes.p, buf, k, &bytes.h);
        same_result(&whole, &bytes);
    }

    if (whole.r > 0) {
        size_t off = (size_t)whole.r;
        size_t rest = n - off;
        static body_run one, many;
        one.out = malloc(rest + 1);
        many.out = malloc(rest + 1);
        if (one.out && many.out) {
            decode(&whole.h, buf + off, rest, 0, &one);
            decode(&whole.h, buf + off, rest, 0x9e3779b9u ^ data[0] ^ (uint32_t)n << 8, &many);
            CHECK(one.error == many.error && one.done == many.done);
            CHECK(one.out_len == many.out_len && memcmp(one.out, many.out, one.out_len) == 0);
            if (!one.error)
                CHECK(one.consumed == many.consumed);
            else
                CHECK(one.why == many.why);
        }
        free(one.out);
        free(many.out);
    }
    free(buf);
    return 0;
}
