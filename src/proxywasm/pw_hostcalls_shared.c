/*
 * pw_hostcalls_shared.c — shared data, shared queues, metrics: guest-memory
 * side of pw_shared.c and pw_metrics.c.
 *
 * Status choices: get_shared_data missing → NOT_FOUND; set → OK or
 * CAS_MISMATCH; resolve unknown → NOT_FOUND (empty vm_id = own); enqueue
 * unknown → NOT_FOUND; dequeue empty → EMPTY; metrics per §2.14.
 */
#include "pw_int.h"

static pw_status get_shared_data(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *k;
    uint8_t *q;
    if (!pw__rd(vm, PW__A(0), PW__A(1), &k) || !sl_mem_slice(vm->inst, PW__A(4), 4, &q))
        return PW_INVALID_MEMORY_ACCESS;
    ut_buf *out = &vm->scratch;
    ut_buf_reset(out);
    uint32_t cas = 0;
    pw_status st = pw__shared_get(vm->plugin->vm_id, (const char *)k, PW__A(1), out, &cas);
    if (st)
        return st;
    if ((st = pw__ret_bytes(vm, PW__A(2), PW__A(3), out->data, out->len)))
        return st;
    return pw__wr32(vm, PW__A(4), cas) ? PW_OK : PW_INVALID_MEMORY_ACCESS;
}

static pw_status set_shared_data(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *k, *v;
    if (!pw__rd(vm, PW__A(0), PW__A(1), &k) || !pw__rd(vm, PW__A(2), PW__A(3), &v))
        return PW_INVALID_MEMORY_ACCESS;
    return pw__shared_set(vm->plugin->vm_id, (const char *)k, PW__A(1), v, PW__A(3), PW__A(4));
}

static pw_status register_shared_queue(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *n;
    uint8_t *q;
    if (!pw__rd(vm, PW__A(0), PW__A(1), &n) || !sl_mem_slice(vm->inst, PW__A(2), 4, &q))
        return PW_INVALID_MEMORY_ACCESS;
    uint32_t id = 0;
    pw_status st = pw__queue_register(vm, (const char *)n, PW__A(1), &id);
    if (st)
        return st;
    return pw__wr32(vm, PW__A(2), id) ? PW_OK : PW_INVALID_MEMORY_ACCESS;
}

static pw_status resolve_shared_queue(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *vid, *n;
    uint8_t *q;
    if (!pw__rd(vm, PW__A(0), PW__A(1), &vid) || !pw__rd(vm, PW__A(2), PW__A(3), &n) ||
        !sl_mem_slice(vm->inst, PW__A(4), 4, &q))
        return PW_INVALID_MEMORY_ACCESS;
    const char *v = (const char *)vid;
    size_t vn = PW__A(1);
    if (!vn)
        v = vm->plugin->vm_id, vn = strlen(v);
    uint32_t id = 0;
    pw_status st = pw__queue_resolve(v, vn, (const char *)n, PW__A(3), &id);
    if (st)
        return st;
    return pw__wr32(vm, PW__A(4), id) ? PW_OK : PW_INVALID_MEMORY_ACCESS;
}

static pw_status enqueue_shared_queue(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *v;
    if (!pw__rd(vm, PW__A(1), PW__A(2), &v))
        return PW_INVALID_MEMORY_ACCESS;
    return pw__queue_enqueue(PW__A(0), v, PW__A(2));
}

static pw_status dequeue_shared_queue(pw_vm *vm, const sl_val *a_)
{
    uint8_t *q;
    if (!sl_mem_slice(vm->inst, PW__A(1), 4, &q) || !sl_mem_slice(vm->inst, PW__A(2), 4, &q))
        return PW_INVALID_MEMORY_ACCESS;
    ut_buf *out = &vm->scratch;
    ut_buf_reset(out);
    pw_status st = pw__queue_dequeue(PW__A(0), out);
    if (st)
        return st;
    return pw__ret_bytes(vm, PW__A(1), PW__A(2), out->data, out->len);
}

static pw_status define_metric(pw_vm *vm, const sl_val *a_)
{
    const uint8_t *n;
    uint8_t *q;
    if (!pw__rd(vm, PW__A(1), PW__A(2), &n) || !sl_mem_slice(vm->inst, PW__A(3), 4, &q))
        return PW_INVALID_MEMORY_ACCESS;
    uint32_t id = 0;
    pw_status st = pw__metric_define(PW__A(0), (const char *)n, PW__A(2), &id);
    if (st)
        return st;
    return pw__wr32(vm, PW__A(3), id) ? PW_OK : PW_INVALID_MEMORY_ACCESS;
}

static pw_status increment_metric(pw_vm *vm, const sl_val *a_)
{
    return pw__metric_increment(PW__A(0), a_[1].i64);
}

static pw_status record_metric(pw_vm *vm, const sl_val *a_)
{
    return pw__metric_record(PW__A(0), (uint64_t)a_[1].i64);
}

static pw_status get_metric(pw_vm *vm, const sl_val *a_)
{
    uint8_t *q;
    if (!sl_mem_slice(vm->inst, PW__A(1), 8, &q))
        return PW_INVALID_MEMORY_ACCESS;
    uint64_t v = 0;
    pw_status st = pw__metric_get(PW__A(0), &v);
    if (st)
        return st;
    return pw__wr64(vm, PW__A(1), v) ? PW_OK : PW_INVALID_MEMORY_ACCESS;
}

PW__HOSTCALL(get_shared_data)
PW__HOSTCALL(set_shared_data)
PW__HOSTCALL(register_shared_queue)
PW__HOSTCALL(resolve_shared_queue)
PW__HOSTCALL(enqueue_shared_queue)
PW__HOSTCALL(dequeue_shared_queue)
PW__HOSTCALL(define_metric)
PW__HOSTCALL(increment_metric)
PW__HOSTCALL(record_metric)
PW__HOSTCALL(get_metric)

const pw__def pw__defs_shared[] = {
    {"proxy_get_shared_data", "iiiii:i", h_get_shared_data},
    {"proxy_set_shared_data", "iiiii:i", h_set_shared_data},
    {"proxy_register_shared_queue", "iii:i", h_register_shared_queue},
    {"proxy_resolve_shared_queue", "iiiii:i", h_resolve_shared_queue},
    {"proxy_enqueue_shared_queue", "iii:i", h_enqueue_shared_queue},
    {"proxy_dequeue_shared_queue", "iii:i", h_dequeue_shared_queue},
    {"proxy_define_metric", "iiii:i", h_define_metric},
    {"proxy_increment_metric", "iI:i", h_increment_metric},
    {"proxy_record_metric", "iI:i", h_record_metric},
    {"proxy_get_metric", "ii:i", h_get_metric},
    {NULL, NULL, NULL},
};
