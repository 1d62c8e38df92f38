/*
 * pw_map.c — header maps (pw_map) and the serialized pair format (§2.7).
 *
 * Owns:      entry storage (key, NUL, value, NUL per entry, bump-allocated
 *            in chunks that live until the map is cleared: building a
 *            request's map costs one or two mallocs, not one per field;
 *            .value points just after its key), case-insensitive lookup,
 *            serialization into a caller-sized buffer (guest memory directly)
 *            and the strict parser: count ≤ 1024, ≤ 1 MiB, size table must
 *            fit, NUL after every key and value, input consumed exactly;
 *            the three empty forms (size 0, a single 0x00, a zero count).
 * Not here:  guest memory (pw_link.c), which map a hostcall means.
 */
#include <stdlib.h>

#include "pw_int.h"

static inline char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

bool pw__key_eq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

struct pw_map_chunk {
    struct pw_map_chunk *next;
    size_t used, cap;
    char data[];
};

#define CHUNK_BYTES 2048

static char *chunk_alloc(pw_map *m, size_t need)
{
    struct pw_map_chunk *c = m->chunks;
    if (!c || c->cap - c->used < need) {
        size_t cap = need > CHUNK_BYTES ? need : CHUNK_BYTES;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = m->chunks;
        m->chunks = c;
    }
    char *p = c->data + c->used;
    c->used += need;
    return p;
}

bool pw_map_add(pw_map *m, const char *key, size_t key_len, const char *value, size_t value_len)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        pw_map_entry *e = realloc(m->e, cap * sizeof *e);
        if (!e)
            return false;
        m->e = e;
        m->cap = cap;
    }
    if (key_len > SIZE_MAX / 4 || value_len > SIZE_MAX / 4)
        return false;
    char *blk = chunk_alloc(m, key_len + value_len + 2);
    if (!blk)
        return false;
    for (size_t i = 0; i < key_len; i++)
        blk[i] = lower(key[i]);
    blk[key_len] = '\0';
    if (value_len)
        memcpy(blk + key_len + 1, value, value_len);
    blk[key_len + 1 + value_len] = '\0';
    m->e[m->n++] = (pw_map_entry){blk, key_len, blk + key_len + 1, value_len};
    m->present = true;
    return true;
}

const pw_map_entry *pw_map_get(const pw_map *m, const char *key, size_t key_len)
{
    for (size_t i = 0; i < m->n; i++)
        if (pw__key_eq(m->e[i].key, m->e[i].key_len, key, key_len))
            return &m->e[i];
    return NULL;
}

void pw_map_clear(pw_map *m)
{
    /* keep the newest chunk (a map is usually refilled to a similar size) */
    struct pw_map_chunk *c = m->chunks;
    if (c) {
        for (struct pw_map_chunk *o = c->next, *next; o; o = next) {
            next = o->next;
            free(o);
        }
        c->next = NULL;
        c->used = 0;
    }
    m->n = 0;
}

void pw_map_free(pw_map *m)
{
    for (struct pw_map_chunk *c = m->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    m->chunks = NULL;
    m->n = 0;
    free(m->e);
    m->e = NULL;
    m->cap = 0;
}

size_t pw__map_remove(pw_map *m, const char *key, size_t key_len)
{
    size_t j = 0, removed = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (pw__key_eq(m->e[i].key, m->e[i].key_len, key, key_len)) {
            removed++; /* its bytes stay in the chunk until the map is cleared */
        } else {
            m->e[j++] = m->e[i];
        }
    }
    m->n = j;
    return removed;
}

size_t pw__map_bytes(const pw_map *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++)
        n += m->e[i].key_len + m->e[i].value_len;
    return n;
}

size_t pw__map_serialized_size(const pw_map *m)
{
    if (!m->n)
        return 0;
    size_t n = 4 + 8 * m->n;
    for (size_t i = 0; i < m->n; i++)
        n += m->e[i].key_len + m->e[i].value_len + 2;
    return n;
}

static inline void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void pw__map_serialize(const pw_map *m, uint8_t *out)
{
    put32(out, (uint32_t)m->n);
    uint8_t *sz = out + 4, *d = out + 4 + 8 * m->n;
    for (size_t i = 0; i < m->n; i++) {
        const pw_map_entry *e = &m->e[i];
        put32(sz, (uint32_t)e->key_len);
        put32(sz + 4, (uint32_t)e->value_len);
        sz += 8;
        memcpy(d, e->key, e->key_len);
        d += e->key_len;
        *d++ = 0;
        if (e->value_len)
            memcpy(d, e->value, e->value_len);
        d += e->value_len;
        *d++ = 0;
    }
}

pw_status pw__map_parse(const uint8_t *p, size_t n, pw_map *m)
{
    if (n == 0 || (n == 1 && p[0] == 0))
        return PW_OK;
    if (n < 4 || n > PW__MAP_MAX_BYTES)
        return PW_BAD_ARGUMENT;
    uint64_t count = get32(p);
    if (count > PW__MAP_MAX_PAIRS)
        return PW_BAD_ARGUMENT;
    uint64_t off = 4 + 8 * count;
    if (off > n)
        return PW_BAD_ARGUMENT;
    /* validate everything before mutating m */
    uint64_t d = off;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t kl = get32(p + 4 + 8 * i), vl = get32(p + 8 + 8 * i);
        if (d + kl + 1 > n || p[d + kl] != 0)
            return PW_BAD_ARGUMENT;
        d += kl + 1;
        if (d + vl + 1 > n || p[d + vl] != 0)
            return PW_BAD_ARGUMENT;
        d += vl + 1;
    }
    if (d != n)
        return PW_BAD_ARGUMENT;
    d = off;
    for (uint64_t i = 0; i < count; i++) {
        size_t kl = get32(p + 4 + 8 * i), vl = get32(p + 8 + 8 * i);
        if (!pw_map_add(m, (const char *)p + d, kl, (const char *)p + d + kl + 1, vl))
            return PW_INTERNAL_FAILURE;
        d += kl + vl + 2;
    }
    m->present = true;
    return PW_OK;
}
