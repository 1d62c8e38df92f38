/*
 * pw_hostcalls_maps.c — header maps (§2.7) and buffers (§2.8).
 *
 * Status choices: map type > 7 → BAD_ARGUMENT; a stream map with no
 * effective stream, a gRPC map, a call-response map outside
 * on_http_call_response, or absent trailers → NOT_FOUND for getters and
 * OK+empty for get_pairs; writes to call-response/gRPC maps →
 * BAD_ARGUMENT; adding to absent trailers creates them. Maps stay readable
 * (and writable) for the whole stream (lenient, §2.7 "Host:"). Missing key:
 * NOT_FOUND, or OK + empty for ABI 0.1.0. Buffers: type > 9 →
 * BAD_ARGUMENT, not available now → NOT_FOUND, start beyond the end → OK
 * + empty, ranges in 64 bits; set_buffer_bytes does the general splice
 * (clamped) on the stream bodies, BAD_ARGUMENT on every other buffer.
 * Not here:  the pair format itself (pw_map.c).
 */
#include <stdlib.h>

#include "pw_int.h"

static pw_map *stream_map(pw_vm *vm, uint32_t type, bool write, pw_status *st)
{
    if (type > 7) {
        *st = PW_BAD_ARGUMENT;
        return NULL;
    }
    if (type <= 3) {
        pw_stream *s = vm->eff.s;
        if (!s) {
            *st = PW_NOT_FOUND;
            return NULL;
        }
        pw_map *m = &s->maps[type];
        if (!m->present && !write) {
            *st = PW_NOT_FOUND;
            return NULL;
        }
        return m;
    }
    *st = write ? PW_BAD_ARGUMENT : PW_NOT_FOUND;
    return NULL;
}

/* Read-only view of any map type. */
static const pw_map *read_map(pw_vm *vm, uint32_t type, pw_status *st)
{
    if (type == 6 || type == 7) {
        const pw_map *m = vm->phase == PW__PH_HTTP_RESPONSE
                              ? (type == 6 ? vm->call_headers : vm->call_trailers)
                              : NULL;
        if (!m)
            *st = PW_NOT_FOUND;
        return m;
    }
    return stream_map(vm, type, false, st);
}

static pw_status get_header_map_value(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *key;
    if (!pw__rd(vm, PW__A(1), PW__A(2), &key))
        return PW_INVALID_MEMORY_ACCESS;
    pw_status st = PW_OK;
    const pw_map *m = read_map(vm, PW__A(0), &st);
    const pw_map_entry *e = m ? pw_map_get(m, (const char *)key, PW__A(2)) : NULL;
    if (!e) {
        if (st == PW_BAD_ARGUMENT)
            return st;
        if (vm->plugin->module->abi == PW_ABI_0_1_0)
            return pw__ret_bytes(vm, PW__A(3), PW__A(4), NULL, 0);
        return PW_NOT_FOUND;
    }
    return pw__ret_bytes(vm, PW__A(3), PW__A(4), e->value, e->value_len);
}

static pw_status get_header_map_pairs(pw_vm *vm, const sl_val *a_)
{
    pw_status st = PW_OK;
    const pw_map *m = read_map(vm, PW__A(0), &st);
    if (st == PW_BAD_ARGUMENT)
        return st;
    return pw__ret_map(vm, PW__A(1), PW__A(2), m);
}

static pw_status get_header_map_size(pw_vm *vm, const sl_val *a_)
{
    pw_status st = PW_OK;
    const pw_map *m = read_map(vm, PW__A(0), &st);
    if (!m)
        return st;
    return pw__wr32(vm, PW__A(1), (uint32_t)pw__map_bytes(m)) ? PW_OK : PW_INVALID_MEMORY_ACCESS;
}

static pw_status add_or_replace(pw_vm *vm, const sl_val *a_, bool replace)
{
    const uint8_t *key, *val;
    if (!pw__rd(vm, PW__A(1), PW__A(2), &key) || !pw__rd(vm, PW__A(3), PW__A(4), &val))
        return PW_INVALID_MEMORY_ACCESS;
    pw_status st = PW_OK;
    pw_map *m = stream_map(vm, PW__A(0), true, &st);
    if (!m)
        return st;
    if (replace)
        pw__map_remove(m, (const char *)key, PW__A(2));
    if (!pw_map_add(m, (const char *)key, PW__A(2), (const char *)val, PW__A(4)))
        return PW_INTERNAL_FAILURE;
    m->dirty = true;
    return PW_OK;
}

static pw_status add_header_map_value(pw_vm *vm, const sl_val *a_)
{
    return add_or_replace(vm, a_, false);
}

static pw_status replace_header_map_value(pw_vm *vm, const sl_val *a_)
{
    return add_or_replace(vm, a_, true);
}

static pw_status remove_header_map_value(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *key;
    if (!pw__rd(vm, PW__A(1), PW__A(2), &key))
        return PW_INVALID_MEMORY_ACCESS;
    pw_status st = PW_OK;
    pw_map *m = stream_map(vm, PW__A(0), true, &st);
    if (!m)
        return st;
    if (pw__map_remove(m, (const char *)key, PW__A(2)))
        m->dirty = true;
    return PW_OK;
}

static pw_status set_header_map_pairs(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *p;
    if (!pw__rd(vm, PW__A(1), PW__A(2), &p))
        return PW_INVALID_MEMORY_ACCESS;
    pw_status st = PW_OK;
    pw_map *m = stream_map(vm, PW__A(0), true, &st);
    if (!m)
        return st;
    pw_map tmp = {0};
    if ((st = pw__map_parse(p, PW__A(2), &tmp))) {
        pw_map_free(&tmp);
        return st;
    }
    pw_map_free(m);
    *m = tmp;
    m->present = true;
    m->dirty = true;
    return PW_OK;
}

/* ---- buffers ------------------------------------------------------------------------ */

static pw_status buffer_of(pw_vm *vm, uint32_t type, const uint8_t **p, size_t *n,
                           ut_buf **writable)
{
    const pw_plugin *pl = vm->plugin;
    *writable = NULL;
    switch (type) {
    case 0:
    case 1:
        if (!vm->eff.s)
            return PW_NOT_FOUND;
        *writable = &vm->eff.s->body[type];
        *p = (const uint8_t *)(*writable)->data;
        *n = (*writable)->len;
        return PW_OK;
    case 4:
        if (vm->phase != PW__PH_HTTP_RESPONSE)
            return PW_NOT_FOUND;
        *p = vm->call_body, *n = vm->call_body_len;
        return PW_OK;
    case 6:
        *p = pl->vm_configuration, *n = pl->vm_configuration_len;
        return PW_OK;
    case 7:
        if (vm->phase != PW__PH_CONFIGURE && vm->phase != PW__PH_ROOT_CREATE)
            return PW_NOT_FOUND;
        *p = pl->roots[vm->eff.root].configuration;
        *n = pl->roots[vm->eff.root].configuration_len;
        return PW_OK;
    case 9:
        if (vm->phase != PW__PH_REDIS_RESPONSE)
            return PW_NOT_FOUND;
        *p = vm->call_body, *n = vm->call_body_len;
        return PW_OK;
    case 2: case 3: case 5: case 8:
        return PW_NOT_FOUND;
    default:
        return PW_BAD_ARGUMENT;
    }
}

static pw_status get_buffer_bytes(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *p = NULL;
    size_t n = 0;
    ut_buf *w;
    pw_status st = buffer_of(vm, PW__A(0), &p, &n, &w);
    if (st)
        return st;
    uint64_t start = PW__A(1), end = start + (uint64_t)PW__A(2);
    if (start >= n)
        return pw__ret_bytes(vm, PW__A(3), PW__A(4), NULL, 0);
    if (end > n)
        end = n;
    return pw__ret_bytes(vm, PW__A(3), PW__A(4), p + start, (size_t)(end - start));
}

static pw_status set_buffer_bytes(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *data;
    if (!pw__rd(vm, PW__A(3), PW__A(4), &data))
        return PW_INVALID_MEMORY_ACCESS;
    const uint8_t *p;
    size_t n;
    ut_buf *b;
    pw_status st = buffer_of(vm, PW__A(0), &p, &n, &b);
    if (st)
        return st;
    if (!b)
        return PW_BAD_ARGUMENT;
    uint64_t start = PW__A(1), size = PW__A(2), len = PW__A(4);
    if (start > n)
        start = n;
    if (size > n - start)
        size = n - start;
    uint64_t nlen = n - size + len;
    if (nlen > n && !ut_buf_reserve(b, (size_t)(nlen - n)))
        return PW_INTERNAL_FAILURE;
    if (!b->data && !ut_buf_reserve(b, 0))
        return PW_INTERNAL_FAILURE;
    memmove(b->data + start + len, b->data + start + size, (size_t)(n - start - size));
    if (len)
        memcpy(b->data + start, data, (size_t)len);
    b->len = (size_t)nlen;
    b->data[b->len] = '\0';
    return PW_OK;
}

static pw_status get_buffer_status(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *p;
    size_t n;
    ut_buf *w;
    pw_status st = buffer_of(vm, PW__A(0), &p, &n, &w);
    if (st)
        return st;
    if (!pw__wr32(vm, PW__A(1), (uint32_t)n) || !pw__wr32(vm, PW__A(2), 0))
        return PW_INVALID_MEMORY_ACCESS;
    return PW_OK;
}

PW__HOSTCALL(get_header_map_value)
PW__HOSTCALL(get_header_map_pairs)
PW__HOSTCALL(get_header_map_size)
PW__HOSTCALL(add_header_map_value)
PW__HOSTCALL(replace_header_map_value)
PW__HOSTCALL(remove_header_map_value)
PW__HOSTCALL(set_header_map_pairs)
PW__HOSTCALL(get_buffer_bytes)
PW__HOSTCALL(set_buffer_bytes)
PW__HOSTCALL(get_buffer_status)

const pw__def pw__defs_maps[] = {
    {"proxy_get_header_map_value", "iiiii:i", h_get_header_map_value},
    {"proxy_get_header_map_pairs", "iii:i", h_get_header_map_pairs},
    {"proxy_get_header_map_size", "ii:i", h_get_header_map_size},
    {"proxy_add_header_map_value", "iiiii:i", h_add_header_map_value},
    {"proxy_replace_header_map_value", "iiiii:i", h_replace_header_map_value},
    {"proxy_remove_header_map_value", "iii:i", h_remove_header_map_value},
    {"proxy_set_header_map_pairs", "iii:i", h_set_header_map_pairs},
    {"proxy_get_buffer_bytes", "iiiii:i", h_get_buffer_bytes},
    {"proxy_set_buffer_bytes", "iiiii:i", h_set_buffer_bytes},
    {"proxy_get_buffer_status", "iii:i", h_get_buffer_status},
    {NULL, NULL, NULL},
};
