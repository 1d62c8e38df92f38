/*
 * pw_hostcalls_async.c — outbound calls and host extensions: HTTP calls,
 * gRPC (not implemented), Higress Redis, foreign functions, the other
 * Higress/Envoy extras.
 *
 * HTTP:      headers must hold :method, :path, :authority (else
 *            BAD_ARGUMENT); no http_call in pw_host → BAD_ARGUMENT (unknown
 *            cluster); a zero token is written first (pointer check); tokens
 *            ≡ 0 mod 4 from 4, owned by the caller's root context.
 * Redis:     tokens ≡ 3 mod 4 from 7; no host callback → BAD_ARGUMENT.
 * gRPC:      call/stream → PARSE_FAILURE (no gRPC upstream is known; Rust
 *            treats it as an error, not a panic); send/cancel/close →
 *            NOT_FOUND (no such token).
 * Foreign:   get_log_level (4-byte LE u32), set_global_max_requests_per_io_cycle
 *            and clear_route_cache (accepted, no effect); others NOT_FOUND.
 * Higress:   inject_encoded_data_to_filter_chain, set_upstream_override_host
 *            (both spellings) → UNIMPLEMENTED; get_upstream_hosts →
 *            NOT_FOUND. envoy_resolve_dns → UNIMPLEMENTED.
 */
#include <stdlib.h>

#include "pw_int.h"

static bool add_pending(pw_vm *vm, uint32_t token, size_t root)
{
    if (vm->pending_n == vm->pending_cap) {
        size_t cap = vm->pending_cap ? vm->pending_cap * 2 : 8;
        pw__pending *p = realloc(vm->pending, cap * sizeof *p);
        if (!p)
            return false;
        vm->pending = p;
        vm->pending_cap = cap;
    }
    vm->pending[vm->pending_n++] = (pw__pending){token, root};
    return true;
}

static void drop_pending(pw_vm *vm, uint32_t token)
{
    for (size_t i = 0; i < vm->pending_n; i++)
        if (vm->pending[i].token == token) {
            vm->pending[i] = vm->pending[--vm->pending_n];
            return;
        }
}

static pw_status http_call(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *up, *hp, *bp, *tp;
    if (!pw__rd(vm, PW__A(0), PW__A(1), &up) || !pw__rd(vm, PW__A(2), PW__A(3), &hp) ||
        !pw__rd(vm, PW__A(4), PW__A(5), &bp) || !pw__rd(vm, PW__A(6), PW__A(7), &tp) ||
        !pw__wr32(vm, PW__A(9), 0))
        return PW_INVALID_MEMORY_ACCESS;
    pw_map h = {0}, t = {0};
    pw_status st = pw__map_parse(hp, PW__A(3), &h);
    if (!st)
        st = pw__map_parse(tp, PW__A(7), &t);
    if (!st && (!pw_map_get(&h, ":method", 7) || !pw_map_get(&h, ":path", 5) ||
                !pw_map_get(&h, ":authority", 10)))
        st = PW_BAD_ARGUMENT;
    if (!st && !vm->host.http_call)
        st = PW_BAD_ARGUMENT;
    uint32_t token = 0;
    if (!st) {
        token = vm->next_http_token;
        vm->next_http_token += 4;
        if (!vm->next_http_token)
            vm->next_http_token = 4;
        if (!add_pending(vm, token, vm->eff.root))
            st = PW_INTERNAL_FAILURE;
    }
    if (!st) {
        st = vm->host.http_call(vm->host.user, vm, token, (const char *)up, PW__A(1), &h, bp,
                                PW__A(5), &t, PW__A(8));
        if (st)
            drop_pending(vm, token);
    }
    pw_map_free(&h);
    pw_map_free(&t);
    if (st)
        return st;
    return pw__wr32(vm, PW__A(9), token) ? PW_OK : PW_INVALID_MEMORY_ACCESS;
}

static pw_status grpc_call(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *p;
    for (int i = 0; i < 10; i += 2)
        if (!pw__rd(vm, PW__A(i), PW__A(i + 1), &p))
            return PW_INVALID_MEMORY_ACCESS;
    return PW_PARSE_FAILURE;
}

static pw_status grpc_stream(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *p;
    for (int i = 0; i < 8; i += 2)
        if (!pw__rd(vm, PW__A(i), PW__A(i + 1), &p))
            return PW_INVALID_MEMORY_ACCESS;
    return PW_PARSE_FAILURE;
}

static pw_status grpc_token(pw_vm *vm, const sl_val *a_)
{
    return PW_NOT_FOUND;
}

static pw_status redis_init(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *up, *us, *pw;
    if (!pw__rd(vm, PW__A(0), PW__A(1), &up) || !pw__rd(vm, PW__A(2), PW__A(3), &us) ||
        !pw__rd(vm, PW__A(4), PW__A(5), &pw))
        return PW_INVALID_MEMORY_ACCESS;
    if (!vm->host.redis_init)
        return PW_BAD_ARGUMENT;
    return vm->host.redis_init(vm->host.user, vm, (const char *)up, PW__A(1), (const char *)us,
                               PW__A(3), (const char *)pw, PW__A(5), PW__A(6));
}

static pw_status redis_call(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *up, *q;
    if (!pw__rd(vm, PW__A(0), PW__A(1), &up) || !pw__rd(vm, PW__A(2), PW__A(3), &q) ||
        !pw__wr32(vm, PW__A(4), 0))
        return PW_INVALID_MEMORY_ACCESS;
    if (!vm->host.redis_call)
        return PW_BAD_ARGUMENT;
    uint32_t token = vm->next_redis_token;
    vm->next_redis_token += 4;
    if (vm->next_redis_token < 7)
        vm->next_redis_token = 7;
    if (!add_pending(vm, token, vm->eff.root))
        return PW_INTERNAL_FAILURE;
    pw_status st =
        vm->host.redis_call(vm->host.user, vm, token, (const char *)up, PW__A(1), q, PW__A(3));
    if (st) {
        drop_pending(vm, token);
        return st;
    }
    return pw__wr32(vm, PW__A(4), token) ? PW_OK : PW_INVALID_MEMORY_ACCESS;
}

static bool name_is(const uint8_t *p, uint32_t n, const char *lit)
{
    return strlen(lit) == n && !memcmp(p, lit, n);
}

static pw_status call_foreign_function(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *np, *ap;
    uint32_t nn = PW__A(1);
    if (!pw__rd(vm, PW__A(0), nn, &np) || !pw__rd(vm, PW__A(2), PW__A(3), &ap))
        return PW_INVALID_MEMORY_ACCESS;
    if (name_is(np, nn, "get_log_level")) {
        uint32_t l = pw__log_min();
        uint8_t le[4] = {(uint8_t)l, 0, 0, 0};
        if (!PW__A(4))
            return PW_OK;
        return pw__ret_bytes(vm, PW__A(4), PW__A(5), le, 4);
    }
    if (name_is(np, nn, "set_global_max_requests_per_io_cycle") ||
        name_is(np, nn, "clear_route_cache")) {
        if (PW__A(4) && pw__ret_bytes(vm, PW__A(4), PW__A(5), NULL, 0))
            return PW_INVALID_MEMORY_ACCESS;
        return PW_OK;
    }
    return PW_NOT_FOUND;
}

static pw_status unimplemented_ptr2(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *p;
    if (!pw__rd(vm, PW__A(0), PW__A(1), &p))
        return PW_INVALID_MEMORY_ACCESS;
    return PW_UNIMPLEMENTED;
}

static pw_status get_upstream_hosts(pw_vm *vm, const sl_val *a_)
{
    return PW_NOT_FOUND;
}

PW__HOSTCALL(http_call)
PW__HOSTCALL(grpc_call)
PW__HOSTCALL(grpc_stream)
PW__HOSTCALL(grpc_token)
PW__HOSTCALL(redis_init)
PW__HOSTCALL(redis_call)
PW__HOSTCALL(call_foreign_function)
PW__HOSTCALL(unimplemented_ptr2)
PW__HOSTCALL(get_upstream_hosts)

const pw__def pw__defs_async[] = {
    {"proxy_http_call", "iiiiiiiiii:i", h_http_call},
    {"proxy_grpc_call", "iiiiiiiiiiii:i", h_grpc_call},
    {"proxy_grpc_stream", "iiiiiiiii:i", h_grpc_stream},
    {"proxy_grpc_send", "iiii:i", h_grpc_token},
    {"proxy_grpc_cancel", "i:i", h_grpc_token},
    {"proxy_grpc_close", "i:i", h_grpc_token},
    {"proxy_redis_init", "iiiiiii:i", h_redis_init},
    {"proxy_redis_call", "iiiii:i", h_redis_call},
    {"proxy_call_foreign_function", "iiiiii:i", h_call_foreign_function},
    {"proxy_inject_encoded_data_to_filter_chain", "iii:i", h_unimplemented_ptr2},
    {"proxy_get_upstream_hosts", "ii:i", h_get_upstream_hosts},
    {"proxy_set_upstream_override_host", "ii:i", h_unimplemented_ptr2},
    {"proxy_override_upstream_host", "ii:i", h_unimplemented_ptr2},
    {"envoy_resolve_dns", "iii:i", h_unimplemented_ptr2},
    {NULL, NULL, NULL},
};
