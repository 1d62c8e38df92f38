/*
 * pw_hostcalls_core.c — logging, time, ticks, configuration (0.1.0),
 * status of the last callout, stream control (continue, close, local
 * reply), effective context, proxy_done.
 *
 * Status choices: proxy_log is OK for any level (clamped to CRITICAL);
 * get_log_level never writes 6; continue_stream on a stream that is not
 * paused is OK; UPSTREAM/DOWNSTREAM stream types → UNIMPLEMENTED, > 3 →
 * BAD_ARGUMENT; send_local_response is OK even with no stream (dropped);
 * close_stream / continue with no stream → NOT_FOUND; set_effective_context
 * to an unknown id → BAD_ARGUMENT; proxy_done → NOT_FOUND (we never park a
 * root in "pending done": on_done's result is not waited for).
 * Not here:  maps, buffers, properties, async calls.
 */
#include <time.h>

#include "pw_int.h"

static pw_status log_(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *msg;
    if (!pw__rd(vm, PW__A(1), PW__A(2), &msg))
        return PW_INVALID_MEMORY_ACCESS;
    uint32_t lvl = PW__A(0);
    pw__log(vm->plugin->name, lvl > PW_LOG_CRITICAL ? PW_LOG_CRITICAL : (pw_log_level)lvl,
            (const char *)msg, PW__A(2));
    return PW_OK;
}

static pw_status get_log_level(pw_vm *vm, const sl_val *a_)
{
    return pw__wr32(vm, PW__A(0), pw__log_min()) ? PW_OK : PW_INVALID_MEMORY_ACCESS;
}

static pw_status get_time(pw_vm *vm, const sl_val *a_)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return pw__wr64(vm, PW__A(0), ns) ? PW_OK : PW_INVALID_MEMORY_ACCESS;
}

static pw_status set_tick(pw_vm *vm, const sl_val *a_)
{
    size_t root = vm->eff.root;
    if (root < vm->plugin->root_count) {
        vm->roots[root].tick_ms = PW__A(0);
        if (vm->host.set_tick)
            vm->host.set_tick(vm->host.user, vm, root, PW__A(0));
    }
    return PW_OK;
}

static pw_status get_configuration(pw_vm *vm, const sl_val *a_)
{
    const pw_plugin *p = vm->plugin;
    if (vm->phase == PW__PH_CONFIGURE || vm->phase == PW__PH_ROOT_CREATE) {
        const pw__root_conf *r = &p->roots[vm->eff.root];
        return pw__ret_bytes(vm, PW__A(0), PW__A(1), r->configuration, r->configuration_len);
    }
    return pw__ret_bytes(vm, PW__A(0), PW__A(1), p->vm_configuration, p->vm_configuration_len);
}

static pw_status get_status(pw_vm *vm, const sl_val *a_)
{
    uint8_t *q;
    if (!sl_mem_slice(vm->inst, PW__A(0), 4, &q))
        return PW_INVALID_MEMORY_ACCESS;
    const char *m = vm->status_msg ? vm->status_msg : "";
    pw_status st = pw__ret_bytes(vm, PW__A(1), PW__A(2), m, strlen(m));
    if (st)
        return st;
    return pw__wr32(vm, PW__A(0), vm->status_code) ? PW_OK : PW_INVALID_MEMORY_ACCESS;
}

static pw_status do_continue(pw_vm *vm, uint32_t type)
{
    if (type > 3)
        return PW_BAD_ARGUMENT;
    if (type > 1)
        return PW_UNIMPLEMENTED;
    pw_stream *s = vm->eff.s;
    if (!s)
        return PW_NOT_FOUND;
    if (s->in_cb)
        s->cont[type] = true; /* effective after the callback returns */
    bool *paused = type ? &s->st.response_paused : &s->st.request_paused;
    if (*paused) {
        *paused = false;
        s->body_wanted[type] = false;
        pw__stream_touched(s);
    }
    return PW_OK;
}

static pw_status continue_stream(pw_vm *vm, const sl_val *a_)
{
    return do_continue(vm, PW__A(0));
}

static pw_status continue_request(pw_vm *vm, const sl_val *a_)
{
    return do_continue(vm, 0);
}

static pw_status continue_response(pw_vm *vm, const sl_val *a_)
{
    return do_continue(vm, 1);
}

static pw_status close_stream(pw_vm *vm, const sl_val *a_)
{
    if (PW__A(0) > 3)
        return PW_BAD_ARGUMENT;
    pw_stream *s = vm->eff.s;
    if (!s)
        return PW_NOT_FOUND;
    if (!s->st.closed) {
        s->st.closed = true;
        pw__stream_touched(s);
    }
    return PW_OK;
}

static pw_status send_local_response(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *det, *body, *hdrs;
    if (!pw__rd(vm, PW__A(1), PW__A(2), &det) || !pw__rd(vm, PW__A(3), PW__A(4), &body) ||
        !pw__rd(vm, PW__A(5), PW__A(6), &hdrs))
        return PW_INVALID_MEMORY_ACCESS;
    pw_stream *s = vm->eff.s;
    if (!s)
        return PW_OK; /* no stream: dropped (Rust panics on anything but OK) */
    pw_map tmp = {0};
    pw_status st = pw__map_parse(hdrs, PW__A(6), &tmp);
    if (st) {
        pw_map_free(&tmp);
        return st;
    }
    pw_map_free(&s->reply_headers);
    s->reply_headers = tmp;
    pw__stream_set_reply(s, (int)PW__A(0), (const char *)det, PW__A(2), body, PW__A(4));
    return PW_OK;
}

static pw_status clear_route_cache(pw_vm *vm, const sl_val *a_)
{
    return PW_OK;
}

static pw_status set_effective_context(pw_vm *vm, const sl_val *a_)
{
    const pw__ctx_ent *e = pw__ctx_find(vm, PW__A(0));
    if (!e)
        return PW_BAD_ARGUMENT;
    vm->eff = (pw__ctxref){e->id, e->root, e->s};
    return PW_OK;
}

static pw_status done(pw_vm *vm, const sl_val *a_)
{
    return PW_NOT_FOUND;
}

PW__HOSTCALL(log_)
PW__HOSTCALL(get_log_level)
PW__HOSTCALL(get_time)
PW__HOSTCALL(set_tick)
PW__HOSTCALL(get_configuration)
PW__HOSTCALL(get_status)
PW__HOSTCALL(continue_stream)
PW__HOSTCALL(continue_request)
PW__HOSTCALL(continue_response)
PW__HOSTCALL(close_stream)
PW__HOSTCALL(send_local_response)
PW__HOSTCALL(clear_route_cache)
PW__HOSTCALL(set_effective_context)
PW__HOSTCALL(done)

const pw__def pw__defs_core[] = {
    {"proxy_log", "iii:i", h_log_},
    {"proxy_get_log_level", "i:i", h_get_log_level},
    {"proxy_get_current_time_nanoseconds", "i:i", h_get_time},
    {"proxy_set_tick_period_milliseconds", "i:i", h_set_tick},
    {"proxy_get_configuration", "ii:i", h_get_configuration},
    {"proxy_get_status", "iii:i", h_get_status},
    {"proxy_continue_stream", "i:i", h_continue_stream},
    {"proxy_continue_request", ":i", h_continue_request},
    {"proxy_continue_response", ":i", h_continue_response},
    {"proxy_close_stream", "i:i", h_close_stream},
    {"proxy_send_local_response", "iiiiiiii:i", h_send_local_response},
    {"proxy_clear_route_cache", ":i", h_clear_route_cache},
    {"proxy_set_effective_context", "i:i", h_set_effective_context},
    {"proxy_done", ":i", h_done},
    {NULL, NULL, NULL},
};
