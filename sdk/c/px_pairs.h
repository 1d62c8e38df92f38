/*
 * px_pairs.h — header-style key/value lists and the proxy-wasm serialized
 * map format (ABI §2.7: u32 count, count × (u32 key_len, u32 value_len),
 * then each key and value followed by a NUL; little-endian).
 *
 * Owns:     building, looking up, serializing and parsing such lists.
 * Not here: talking to the host (proxy_wasm.h wraps the hostcalls).
 */
#ifndef PX_PAIRS_H
#define PX_PAIRS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *key;        /* NUL-terminated */
    size_t key_len;
    char *value;      /* NUL-terminated */
    size_t value_len;
} px_pair;

typedef struct {
    px_pair *items;
    size_t count, cap;
    char *raw;        /* parsed buffer that keys/values point into, or NULL */
    bool *owned;      /* owned[i]: items[i] strings are separate allocations */
} px_pairs;

void px_pairs_init(px_pairs *p);
void px_pairs_free(px_pairs *p);
/* Appends copies of key and value. */
bool px_pairs_add(px_pairs *p, const char *key, const char *value);
bool px_pairs_addn(px_pairs *p, const char *key, size_t key_len, const char *value,
                   size_t value_len);
/* First value whose key equals key (ASCII case-insensitive), or NULL. */
const char *px_pairs_get(const px_pairs *p, const char *key);

/* Serializes into a malloc'd buffer; *len gets its size (an empty list is 4
 * bytes: count 0). */
char *px_pairs_serialize(const px_pairs *p, size_t *len);
/* Parses buf (taking ownership of it: it must be malloc'd and is freed with
 * the list). Accepts the empty forms (len 0, a lone NUL, count 0). Returns
 * false (and frees buf) on malformed input. */
bool px_pairs_parse(px_pairs *p, char *buf, size_t len);

#endif
