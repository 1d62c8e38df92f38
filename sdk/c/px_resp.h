/*
 * px_resp.h — RESP (Redis serialization protocol, v2) for plugins that talk
 * to Redis through Higress' proxy_redis_call.
 *
 * Owns:     encoding a command as an array of bulk strings; parsing one
 *           reply (simple string, error, integer, bulk / null bulk, array /
 *           null array, nested up to PX_RESP_MAX_DEPTH).
 * Not here: the hostcalls (proxy_wasm.h: px_redis_call).
 */
#ifndef PX_RESP_H
#define PX_RESP_H

#include <stddef.h>
#include <stdint.h>

#define PX_RESP_MAX_DEPTH 8

typedef enum {
    PX_RESP_SIMPLE,  /* +OK */
    PX_RESP_ERROR,   /* -ERR ... */
    PX_RESP_INTEGER, /* :42 */
    PX_RESP_BULK,    /* $3\r\nfoo */
    PX_RESP_ARRAY,   /* *2 ... */
    PX_RESP_NIL      /* $-1 or *-1 */
} px_resp_type;

typedef struct px_resp px_resp;
struct px_resp {
    px_resp_type type;
    int64_t integer;   /* INTEGER */
    const char *str;   /* SIMPLE/ERROR/BULK: points into the parsed buffer */
    size_t len;
    size_t count;      /* ARRAY */
    px_resp *items;    /* ARRAY: malloc'd */
};

/* Encodes argv[0..argc) as "*argc\r\n$len\r\narg\r\n…" (malloc'd, *len set). */
char *px_resp_command(size_t *len, int argc, const char *const *argv);

/* Parses one reply from buf. Returns the bytes consumed (> 0), 0 when buf
 * holds an incomplete reply, -1 when it is malformed. Strings in *out point
 * into buf; release arrays with px_resp_free. */
long px_resp_parse(const char *buf, size_t len, px_resp *out);
void px_resp_free(px_resp *r);

#endif
