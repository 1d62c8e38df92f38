/*
 * gw_http1.h — HTTP/1.1 message framing (RFC 9110/9112): a pure, resumable
 * parser with no I/O, for requests (server side) and responses (client
 * side), plus the body-framing decoder (Content-Length and chunked).
 *
 * Layer:     gateway. Knows nothing of sockets, libuv, routes or config
 *            files; the caller owns every buffer.
 * Owns:      syntax and framing rules, and the decision of which status a
 *            malformed head deserves (400, 413, 414, 431, 501, 505).
 * Not here:  forwarding policy (which headers to add or drop: gw_proxy.c),
 *            I/O, routing.
 *
 * Strictness (request smuggling defences), enforced on requests and
 * responses alike unless noted:
 *   - lines end in CRLF; a bare CR or bare LF anywhere in the head is 400;
 *   - obs-fold (a header line starting with SP/HTAB) is 400;
 *   - header names are tokens (tchar), no whitespace before ':';
 *     values are VCHAR / obs-text / SP / HTAB only (no NUL, no CTL);
 *   - Content-Length must be 1*DIGIT (< 2^63); several Content-Length
 *     fields (or a list) must all carry the same value, else 400;
 *   - Content-Length together with Transfer-Encoding is 400;
 *   - Transfer-Encoding whose last coding is not "chunked" is 400 on a
 *     request; codings other than "chunked" before it are 501 (we do not
 *     forward transfer codings we do not implement); TE on HTTP/1.0 is 400;
 *   - request line: method = token, single SPs, target = 1*(VCHAR except
 *     SP), version exactly "HTTP/1.0" or "HTTP/1.1" (other HTTP/x.y: 505);
 *   - a request line longer than limits.max_request_line is 414; a head
 *     larger than limits.max_head_bytes or with more than
 *     limits.max_headers fields is 431;
 *   - HTTP/1.1 requests need exactly one Host field (0 or 2+ is 400);
 *   - chunk sizes are 1*HEXDIG without overflow (max 16 hex digits and
 *     < 2^63), optional chunk extensions are bounded, chunk data must be
 *     followed by CRLF, trailers are bounded by max_head_bytes.
 *
 * Resumability: gw_http1_parser remembers how far it has already scanned
 * for the end of the head, so feeding a head one byte at a time costs
 * O(n) overall, not O(n^2). The caller keeps the bytes in one contiguous
 * buffer (the head must fit in max_head_bytes anyway) and calls again with
 * the same buffer, grown, after each read. Parsed strings point into the
 * caller's buffer and live as long as it does.
 */
#ifndef GW_HTTP1_H
#define GW_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A byte range in someone else's buffer; not NUL-terminated. */
typedef struct gw_str {
    const char *base;
    size_t len;
} gw_str;

typedef struct gw_header {
    gw_str name;
    gw_str value; /* leading and trailing SP/HTAB trimmed */
} gw_header;

#define GW_HTTP1_AGAIN (-1) /* head incomplete: read more and call again */
#define GW_HTTP1_ERROR (-2) /* malformed: see parser->status / ->error */

typedef struct gw_http1_limits {
    size_t max_head_bytes;   /* whole head incl. request line; 431 past it */
    size_t max_headers;      /* number of fields; 431 past it */
    size_t max_request_line; /* 414 past it (request target too long) */
} gw_http1_limits;

/* How a message body is delimited (RFC 9112 §6.3). */
typedef enum gw_body_kind {
    GW_BODY_NONE,        /* no body (e.g. GET without CL, HEAD/204/304 response) */
    GW_BODY_LENGTH,      /* Content-Length: content_length bytes */
    GW_BODY_CHUNKED,     /* Transfer-Encoding: chunked */
    GW_BODY_UNTIL_CLOSE, /* response only: read until the connection closes */
} gw_body_kind;

/* Connection-header tokens we act on. */
#define GW_CONN_CLOSE      1u
#define GW_CONN_KEEP_ALIVE 2u
#define GW_CONN_UPGRADE    4u
#define GW_CONN_OTHER      8u /* any other token (names a hop-by-hop field) */

typedef struct gw_http1_head {
    /* request line (requests only) */
    gw_str method;
    gw_str target;
    /* status line (responses only) */
    int status; /* 100..999 */
    gw_str reason;

    int minor_version; /* 0 or 1 */
    gw_header *headers; /* caller's array, see gw_http1_parser_init */
    size_t n_headers;
    size_t head_len; /* bytes of the head, up to and including the blank line */

    /* Derived from the fields. */
    gw_body_kind body;
    uint64_t content_length;  /* valid when body == GW_BODY_LENGTH */
    unsigned connection;      /* GW_CONN_* tokens found in Connection */
    bool keep_alive;          /* per version and Connection (RFC 9112 §9.3) */
    bool expect_continue;     /* request: Expect: 100-continue */
    const gw_header *host;    /* request: the Host field, or NULL */
} gw_http1_head;

typedef struct gw_http1_parser {
    gw_http1_limits limits;
    gw_header *headers; /* caller's array of `cap` entries */
    size_t cap;
    size_t scanned; /* bytes already searched for the end of the head */
    bool is_response;
    bool request_was_head; /* response: the request was HEAD (no body) */
    /* after GW_HTTP1_ERROR: */
    int status;         /* 400, 413, 414, 431, 501 or 505 for requests; 502 for responses */
    const char *error;  /* static human-readable reason, e.g. "bare LF in header" */
} gw_http1_parser;

/* Prepares a parser for one message head. `headers` must hold at least
 * limits->max_headers entries (it may hold more; cap bounds the parse). */
void gw_http1_parser_init(gw_http1_parser *p, bool is_response, const gw_http1_limits *limits,
                          gw_header *headers, size_t cap);

/* Parses the head at the start of buf[0..len). Returns head->head_len (>0)
 * when the head is complete and valid; GW_HTTP1_AGAIN when more bytes are
 * needed (len is below the limits); GW_HTTP1_ERROR when the head is
 * malformed or over a limit (p->status and p->error say why). Call again
 * after AGAIN with the same buffer start and a larger len.
 * For responses set p->request_was_head first; 1xx, 204 and 304 responses
 * and responses to HEAD get GW_BODY_NONE; responses with neither CL nor
 * chunked get GW_BODY_UNTIL_CLOSE. */
ssize_t gw_http1_parse_head(gw_http1_parser *p, const char *buf, size_t len, gw_http1_head *head);

/* The body decoder. Zero-initialise, then gw_http1_body_init. */
typedef struct gw_http1_body {
    gw_body_kind kind;
    uint64_t remaining;   /* LENGTH: bytes left; CHUNKED: left in this chunk */
    uint64_t received;    /* payload bytes seen so far */
    int state;            /* CHUNKED: internal sub-state */
    size_t line_bytes;    /* CHUNKED: bytes of the current size/trailer line */
    size_t trailer_bytes; /* CHUNKED: bytes of trailers so far */
    size_t max_trailer_bytes;
    bool done;
    const char *error; /* set when decode returns GW_HTTP1_ERROR */
} gw_http1_body;

void gw_http1_body_init(gw_http1_body *b, const gw_http1_head *head, size_t max_trailer_bytes);

/* Consumes framing from in[0..len). Returns the number of bytes consumed
 * (0..len) or GW_HTTP1_ERROR (malformed chunked framing; b->error says
 * why). Payload found in the consumed range is reported as one span
 * *data and *data_len (a sub-range of in; *data_len may be 0): call again with
 * in+consumed while consumed < len and !b->done to get the next span.
 * When the message ends b->done is set and the bytes after it (the next
 * pipelined message) are not consumed. GW_BODY_UNTIL_CLOSE consumes
 * everything; the caller marks it done at EOF. GW_BODY_NONE is done at
 * once. Chunk-size lines, extensions and trailers are validated and
 * dropped (trailers are not forwarded). */
ssize_t gw_http1_body_decode(gw_http1_body *b, const char *in, size_t len, const char **data,
                             size_t *data_len);

/* Helpers for forwarding. */

/* True for fields that are hop-by-hop (RFC 9110 §7.6.1): Connection,
 * Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade,
 * Proxy-Authenticate, Proxy-Authorization — and any field named in this
 * head's Connection header(s). */
bool gw_http1_is_hop_by_hop(const gw_http1_head *head, gw_str name);

/* First field named `name` (case-insensitive), or NULL. */
const gw_header *gw_http1_find(const gw_http1_head *head, const char *name);

/* ASCII case-insensitive comparison of a range with a C string. */
bool gw_str_ieq(gw_str a, const char *b);

/* Reason phrase for a status code ("Bad Request"), or "Unknown". */
const char *gw_http1_reason(int status);

#endif
