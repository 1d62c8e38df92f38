/*
 * px_pairs.c — key/value lists and their wire format.
 *
 * Owns:     px_pairs storage, serialize, strict parse.
 * Not here: header semantics (case folding of names is the host's job).
 */
#include "px_pairs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "px_text.h"

void px_pairs_init(px_pairs *p)
{
    memset(p, 0, sizeof *p);
}

void px_pairs_free(px_pairs *p)
{
    for (size_t i = 0; i < p->count; i++) {
        if (p->owned[i]) {
            free(p->items[i].key);
            free(p->items[i].value);
        }
    }
    free(p->items);
    free(p->owned);
    free(p->raw);
    px_pairs_init(p);
}

static bool grow(px_pairs *p)
{
    if (p->count < p->cap)
        return true;
    size_t cap = p->cap ? p->cap * 2 : 8;
    px_pair *items = realloc(p->items, cap * sizeof *items);
    if (!items)
        return false;
    p->items = items;
    bool *owned = realloc(p->owned, cap * sizeof *owned);
    if (!owned)
        return false;
    p->owned = owned;
    p->cap = cap;
    return true;
}

bool px_pairs_addn(px_pairs *p, const char *key, size_t key_len, const char *value,
                   size_t value_len)
{
    if (!grow(p))
        return false;
    char *k = px_strndup(key, key_len), *v = px_strndup(value, value_len);
    if (!k || !v) {
        free(k);
        free(v);
        return false;
    }
    p->items[p->count] = (px_pair){k, key_len, v, value_len};
    p->owned[p->count] = true;
    p->count++;
    return true;
}

bool px_pairs_add(px_pairs *p, const char *key, const char *value)
{
    return px_pairs_addn(p, key, strlen(key), value, strlen(value));
}

const char *px_pairs_get(const px_pairs *p, const char *key)
{
    for (size_t i = 0; i < p->count; i++)
        if (px_str_ieq(p->items[i].key, key))
            return p->items[i].value;
    return NULL;
}

static void put32(char *b, uint32_t v)
{
    b[0] = (char)v;
    b[1] = (char)(v >> 8);
    b[2] = (char)(v >> 16);
    b[3] = (char)(v >> 24);
}

static uint32_t get32(const char *b)
{
    const unsigned char *u = (const unsigned char *)b;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

char *px_pairs_serialize(const px_pairs *p, size_t *len)
{
    size_t total = 4 + 8 * p->count;
    for (size_t i = 0; i < p->count; i++)
        total += p->items[i].key_len + p->items[i].value_len + 2;
    char *b = malloc(total);
    if (!b)
        return NULL;
    put32(b, (uint32_t)p->count);
    size_t o = 4 + 8 * p->count;
    for (size_t i = 0; i < p->count; i++) {
        const px_pair *e = &p->items[i];
        put32(b + 4 + 8 * i, (uint32_t)e->key_len);
        put32(b + 8 + 8 * i, (uint32_t)e->value_len);
        memcpy(b + o, e->key, e->key_len);
        o += e->key_len;
        b[o++] = '\0';
        memcpy(b + o, e->value, e->value_len);
        o += e->value_len;
        b[o++] = '\0';
    }
    *len = total;
    return b;
}

bool px_pairs_parse(px_pairs *p, char *buf, size_t len)
{
    px_pairs_init(p);
    if (len == 0 || (len == 1 && buf[0] == '\0')) {
        free(buf);
        return true;
    }
    if (len < 4)
        goto bad;
    uint32_t count = get32(buf);
    if (count > (len - 4) / 8)
        goto bad;
    size_t o = 4 + 8 * (size_t)count;
    p->items = calloc(count ? count : 1, sizeof *p->items);
    p->owned = calloc(count ? count : 1, sizeof *p->owned);
    if (!p->items || !p->owned)
        goto bad;
    p->cap = count;
    for (uint32_t i = 0; i < count; i++) {
        size_t kl = get32(buf + 4 + 8 * i), vl = get32(buf + 8 + 8 * i);
        if (kl > len - o || len - o - kl < 1 || buf[o + kl] != '\0')
            goto bad;
        char *k = buf + o;
        o += kl + 1;
        if (vl > len - o || len - o - vl < 1 || buf[o + vl] != '\0')
            goto bad;
        char *v = buf + o;
        o += vl + 1;
        p->items[i] = (px_pair){k, kl, v, vl};
        p->count++;
    }
    if (o != len)
        goto bad;
    p->raw = buf;
    return true;
bad:
    free(p->items);
    free(p->owned);
    px_pairs_init(p);
    free(buf);
    return false;
}
