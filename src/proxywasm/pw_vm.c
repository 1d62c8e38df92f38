/*
 * pw_vm.c — one instance of a plugin on one worker thread.
 *
 * Owns:      instantiation (per-VM linker whose hostcalls get the VM as
 *            their user pointer, WASI context from the plugin env), module
 *            init (_initialize + main/__main_void, or _start with exit(0)
 *            accepted), root contexts (create → vm_start → configure, root
 *            id passed to each), the call wrapper (top-level calls reset the
 *            effective context, arm the CPU deadline, account time, flush
 *            the wake list and fd_write lines after return; a trap, a fired
 *            deadline or an allocator returning 0 fails the VM), failure
 *            (logged with trap message and backtrace, counted, streams get
 *            their policy), async completions (HTTP call, Redis, tick,
 *            queue) on the root context, and teardown (on_done/on_delete
 *            for roots unless failed).
 * Not here:  context ids and wakes (pw_ctx.c), streams (pw_stream.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "pw_int.h"

sl_trap *pw__failed_trap(void)
{
    return sl_trap_new(SL_TRAP_HOST, "plugin VM failed");
}

/* ---- fd_write 1/2 → plugin log ------------------------------------------------------ */

static void line_flush(pw_vm *vm, int fd)
{
    if (vm->line_len[fd])
        pw__log(vm->plugin->name, fd ? PW_LOG_ERROR : PW_LOG_INFO, vm->line[fd],
                vm->line_len[fd]);
    vm->line_len[fd] = 0;
}

static int sink(pw_vm *vm, int fd, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            line_flush(vm, fd);
            continue;
        }
        if (vm->line_len[fd] == sizeof vm->line[fd])
            line_flush(vm, fd);
        vm->line[fd][vm->line_len[fd]++] = (char)p[i];
    }
    return 0;
}

static int out_sink(void *u, const uint8_t *p, size_t n)
{
    return sink(u, 0, p, n);
}

static int err_sink(void *u, const uint8_t *p, size_t n)
{
    return sink(u, 1, p, n);
}

/* ---- calls ------------------------------------------------------------------------------ */

static sl_trap *invoke(pw_vm *vm, sl_func *f, const sl_val *args, sl_val *res)
{
    bool top = vm->depth == 0;
    uint64_t t0 = 0;
    if (top) {
        vm->eff = vm->cur;
        t0 = sl_clock_ns();
        if (vm->dl_registered)
            sl_deadline_arm(&vm->dl, t0 + vm->cpu_ns);
    }
    vm->depth++;
    sl_trap *t = sl_func_call(f, args, res);
    vm->depth--;
    if (top) {
        bool fired = vm->dl_registered && sl_deadline_disarm(&vm->dl);
        pw__stats *st = vm->plugin->stats;
        atomic_fetch_add_explicit(&st->callbacks, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&st->guest_ns, sl_clock_ns() - t0, memory_order_relaxed);
        if (fired) {
            /* the instance is interrupted (or will be): never call it again */
            sl_trap_free(t);
            char msg[96];
            snprintf(msg, sizeof msg, "CPU time limit of %u ms per callback exceeded",
                     vm->plugin->callback_cpu_ms);
            t = sl_trap_new(SL_TRAP_INTERRUPTED, msg);
            atomic_fetch_add_explicit(&st->cpu_limit, 1, memory_order_relaxed);
        }
        vm->eff = (pw__ctxref){0};
    }
    return t;
}

static void after_top(pw_vm *vm)
{
    if (vm->depth)
        return;
    line_flush(vm, 0);
    line_flush(vm, 1);
    pw__wake_flush(vm);
}

bool pw__call(pw_vm *vm, sl_func *f, const sl_val *args, sl_val *res)
{
    if (vm->failed)
        return false;
    pw__ctxref saved_eff = vm->eff;
    sl_trap *t = invoke(vm, f, args, res);
    if (vm->depth)
        vm->eff = saved_eff; /* nested (allocator): keep the caller's effective context */
    if (t) {
        pw__vm_fail(vm, "trap", t);
        sl_trap_free(t);
    }
    after_top(vm);
    return !vm->failed;
}

bool pw__cb_call(pw_vm *vm, pw__cb cb, const uint32_t *args, size_t nargs, uint32_t *ret,
                 uint32_t def)
{
    *ret = def;
    if (vm->failed)
        return false;
    sl_func *f = vm->fn[cb];
    if (!f)
        return true;
    sl_val a[8], r[1];
    for (size_t i = 0; i < nargs; i++)
        a[i].bits = args[i];
    r[0].bits = def;
    if (!pw__call(vm, f, a, r))
        return false;
    if (sl_func_result_count(f))
        *ret = (uint32_t)r[0].i32;
    return true;
}

uint32_t pw__guest_alloc(pw_vm *vm, uint32_t n)
{
    sl_val a = {.bits = n}, r = {.bits = 0};
    if (!pw__call(vm, vm->alloc, &a, &r))
        return 0;
    if (!r.i32)
        pw__vm_fail(vm, "the guest allocator returned 0 (out of memory)", NULL);
    return (uint32_t)r.i32;
}

void pw__vm_fail(pw_vm *vm, const char *why, const sl_trap *trap)
{
    if (vm->failed)
        return;
    vm->failed = true;
    pw__stats *st = vm->plugin->stats;
    atomic_fetch_add_explicit(&st->vm_failed, 1, memory_order_relaxed);
    if (trap && sl_trap_kind_of(trap) != SL_TRAP_INTERRUPTED)
        atomic_fetch_add_explicit(&st->traps, 1, memory_order_relaxed);
    ut_buf b = {0};
    ut_buf_printf(&b, "VM failed (%s)", why);
    if (trap) {
        ut_buf_printf(&b, ": %s", sl_trap_message(trap));
        size_t nf = sl_trap_frame_count(trap);
        for (size_t i = 0; i < nf && i < 32; i++)
            ut_buf_printf(&b, "\n  #%zu %s", i, sl_trap_frame_name(trap, i));
    }
    if (!b.oom)
        pw__log(vm->plugin->name, PW_LOG_CRITICAL, b.data, b.len);
    ut_buf_free(&b);
    for (size_t i = 0; i < vm->ctx_cap; i++)
        if (vm->ctx[i].id && vm->ctx[i].s)
            pw__stream_vm_failed(vm->ctx[i].s);
    for (size_t i = 0; i < vm->plugin->root_count; i++)
        if (vm->roots[i].tick_ms && vm->host.set_tick) {
            vm->roots[i].tick_ms = 0;
            vm->host.set_tick(vm->host.user, vm, i, 0);
        }
}

/* ---- creation --------------------------------------------------------------------------- */

static void vm_free(pw_vm *vm)
{
    if (vm->owner) {
        vm->owner->vm = NULL;
        pw__owner_unref(vm->owner);
    }
    if (vm->roots)
        for (size_t i = 0; i < vm->plugin->root_count; i++)
            if (vm->roots[i].tick_ms && vm->host.set_tick)
                vm->host.set_tick(vm->host.user, vm, i, 0);
    if (vm->dl_registered)
        sl_deadline_unregister(&vm->dl);
    line_flush(vm, 0);
    line_flush(vm, 1);
    sl_instance_free(vm->inst);
    sl_linker_free(vm->linker);
    wasi_ctx_free(vm->wasi);
    free(vm->roots);
    free(vm->ctx);
    free(vm->pending);
    free(vm->wake);
    ut_buf_free(&vm->scratch);
    pw_plugin_unref(vm->plugin);
    free(vm);
}

static void trap_text(char *err, size_t err_len, const char *what, const sl_trap *t)
{
    size_t nf = sl_trap_frame_count(t);
    snprintf(err, err_len, "%s: %s%s%s", what, sl_trap_message(t), nf ? " in " : "",
             nf ? sl_trap_frame_name(t, 0) : "");
}

/* Runs an init export; exit(0) counts as success. */
static bool run_init(pw_vm *vm, sl_func *f, const sl_val *args, char *err, size_t err_len,
                     const char *name)
{
    sl_val res[1];
    sl_trap *t = invoke(vm, f, args, res);
    after_top(vm);
    if (!t)
        return true;
    if (sl_trap_kind_of(t) == SL_TRAP_EXIT && sl_trap_exit_code(t) == 0) {
        sl_trap_free(t);
        return true;
    }
    trap_text(err, err_len, name, t);
    pw__vm_fail(vm, name, t);
    sl_trap_free(t);
    return false;
}

pw_vm *pw_vm_new(const pw_plugin *cp, sl_engine *engine, const pw_host *host, char *err,
                 size_t err_len)
{
    char dummy[8];
    if (!err || !err_len)
        err = dummy, err_len = sizeof dummy;
    err[0] = '\0';
    pw_plugin *p = (pw_plugin *)cp;
    pw_vm *vm = calloc(1, sizeof *vm);
    if (!vm) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    vm->refs = 1;
    vm->plugin = pw_plugin_ref(p);
    vm->engine = engine;
    if (host)
        vm->host = *host;
    vm->next_id = 1;
    vm->next_http_token = 4;
    vm->next_redis_token = 7;
    vm->roots = calloc(p->root_count, sizeof *vm->roots);
    vm->owner = calloc(1, sizeof *vm->owner);
    if (!vm->roots || !vm->owner)
        goto oom;
    atomic_init(&vm->owner->refs, 1);
    vm->owner->vm = vm;
    vm->owner->post = vm->host.post;
    vm->owner->post_user = vm->host.user;

    wasi_config wc = {
        .envc = (int)p->env_count,
        .envp = (const char *const *)p->env,
        .stdout_sink = out_sink,
        .stderr_sink = err_sink,
        .sink_user = vm,
    };
    if (!(vm->wasi = wasi_ctx_new(&wc)) || !(vm->linker = pw__link(vm, engine, vm->wasi)))
        goto oom;
    sl_instance_config ic = {.limits = {.max_memory_pages = p->max_memory_pages},
                             .user_data = vm};
    sl_trap *trap = NULL;
    sl_diag d;
    d.msg[0] = '\0';
    sl_err e = sl_instantiate(vm->linker, p->module->mod, &ic, &vm->inst, &d, &trap);
    if (e) {
        if (trap)
            trap_text(err, err_len, "instantiation trapped", trap);
        else
            snprintf(err, err_len, "instantiation failed: %s%s%s", sl_err_str(e),
                     d.msg[0] ? ": " : "", d.msg);
        sl_trap_free(trap);
        vm->inst = NULL;
        goto fail;
    }
    vm->mem = sl_instance_memory(vm->inst, "memory");
    for (int cb = 0; cb < PW__CB_COUNT; cb++)
        vm->fn[cb] = p->module->has_cb[cb] ? sl_instance_func(vm->inst, pw__cb_names[cb]) : NULL;
    vm->alloc = sl_instance_func(vm->inst, "malloc");
    if (!vm->alloc)
        vm->alloc = sl_instance_func(vm->inst, "proxy_on_memory_allocate");
    if (p->callback_cpu_ms) {
        vm->cpu_ns = (uint64_t)p->callback_cpu_ms * 1000000u;
        int rc = sl_deadline_register(&vm->dl, vm->inst);
        if (rc) {
            snprintf(err, err_len, "cannot start the deadline thread: %s", strerror(rc));
            goto fail;
        }
        vm->dl_registered = true;
    }

    /* init (§1.3 step 4) */
    vm->phase = PW__PH_INIT;
    sl_func *f;
    if ((f = sl_instance_func(vm->inst, "_initialize"))) {
        if (!run_init(vm, f, NULL, err, err_len, "_initialize"))
            goto fail;
        sl_val args[2] = {{.bits = 0}, {.bits = 0}};
        if ((f = sl_instance_func(vm->inst, "main")) && sl_func_param_count(f) == 2) {
            if (!run_init(vm, f, args, err, err_len, "main"))
                goto fail;
        } else if ((f = sl_instance_func(vm->inst, "__main_void"))) {
            if (!run_init(vm, f, NULL, err, err_len, "__main_void"))
                goto fail;
        }
    } else if ((f = sl_instance_func(vm->inst, "_start"))) {
        if (!run_init(vm, f, NULL, err, err_len, "_start"))
            goto fail;
    }

    /* root contexts (§1.3 step 5) */
    for (size_t i = 0; i < p->root_count; i++) {
        pw__root *r = &vm->roots[i];
        if (!(r->id = pw__ctx_new_id(vm, i, NULL)))
            goto oom;
        vm->cur = (pw__ctxref){r->id, i, NULL};
        uint32_t ret, a[2] = {r->id, 0};
        vm->phase = PW__PH_ROOT_CREATE;
        bool ok = pw__cb_call(vm, PW__CB_CONTEXT_CREATE, a, 2, &ret, 0);
        r->created = true;
        if (ok) {
            vm->phase = PW__PH_VM_START;
            a[1] = (uint32_t)p->vm_configuration_len;
            ok = pw__cb_call(vm, PW__CB_VM_START, a, 2, &ret, 1);
            if (ok && !ret) {
                snprintf(err, err_len, "root \"%s\": proxy_on_vm_start returned false",
                         p->roots[i].root_id);
                goto fail;
            }
        }
        if (ok) {
            vm->phase = PW__PH_CONFIGURE;
            a[1] = (uint32_t)p->roots[i].configuration_len;
            ok = pw__cb_call(vm, PW__CB_CONFIGURE, a, 2, &ret, 1);
            if (ok && !ret) {
                snprintf(err, err_len, "root \"%s\": proxy_on_configure returned false",
                         p->roots[i].root_id);
                goto fail;
            }
        }
        if (!ok) {
            snprintf(err, err_len, "root \"%s\": plugin failed during start or configure",
                     p->roots[i].root_id);
            goto fail;
        }
    }
    vm->phase = PW__PH_NONE;
    vm->cur = (pw__ctxref){0};
    vm->initialized = true;
    atomic_fetch_add_explicit(&p->stats->vm_created, 1, memory_order_relaxed);
    return vm;
oom:
    snprintf(err, err_len, "out of memory");
fail:
    vm->failed = true; /* no on_done/on_delete for a VM that never started */
    vm_free(vm);
    return NULL;
}

pw_vm *pw_vm_ref(pw_vm *vm)
{
    if (vm)
        vm->refs++;
    return vm;
}

void pw_vm_unref(pw_vm *vm)
{
    if (!vm || --vm->refs > 0)
        return;
    vm->refs = 1; /* callbacks below may take and drop references */
    for (size_t i = 0; i < vm->plugin->root_count && !vm->failed; i++) {
        pw__root *r = &vm->roots[i];
        if (!r->created)
            continue;
        vm->cur = (pw__ctxref){r->id, i, NULL};
        vm->phase = PW__PH_ROOT_OTHER;
        uint32_t ret, a[1] = {r->id};
        pw__cb_call(vm, PW__CB_DONE, a, 1, &ret, 1);
        pw__cb_call(vm, PW__CB_DELETE, a, 1, &ret, 0);
        r->created = false;
        pw__ctx_remove(vm, r->id);
    }
    vm_free(vm);
}

bool pw_vm_failed(const pw_vm *vm)
{
    return vm->failed;
}

const pw_plugin *pw_vm_plugin(const pw_vm *vm)
{
    return vm->plugin;
}

size_t pw_vm_current_root(const pw_vm *vm)
{
    return vm->cur.root;
}

uint64_t pw_vm_memory_bytes(const pw_vm *vm)
{
    return vm->mem ? sl_memory_size(vm->mem) : 0;
}

/* ---- async completions -------------------------------------------------------------------- */

static bool take_pending(pw_vm *vm, uint32_t token, size_t *root)
{
    for (size_t i = 0; i < vm->pending_n; i++)
        if (vm->pending[i].token == token) {
            *root = vm->pending[i].root;
            vm->pending[i] = vm->pending[--vm->pending_n];
            return true;
        }
    return false;
}

/* Enter a root context for a host-initiated call; returns false if not possible. */
static bool enter_root(pw_vm *vm, size_t root, pw__phase ph, pw__ctxref *saved_cur,
                       pw__phase *saved_ph)
{
    if (vm->failed || vm->depth || root >= vm->plugin->root_count || !vm->roots[root].created)
        return false;
    *saved_cur = vm->cur;
    *saved_ph = vm->phase;
    vm->cur = (pw__ctxref){vm->roots[root].id, root, NULL};
    vm->phase = ph;
    return true;
}

void pw_vm_http_call_done(pw_vm *vm, uint32_t token, int status, const pw_map *headers,
                          const uint8_t *body, size_t body_len, const pw_map *trailers)
{
    size_t root;
    pw__ctxref sc;
    pw__phase sp;
    if (!vm || vm->failed || vm->depth || !take_pending(vm, token, &root))
        return;
    if (!enter_root(vm, root, PW__PH_HTTP_RESPONSE, &sc, &sp))
        return;
    pw_vm_ref(vm);
    bool ok = status == 0;
    vm->call_headers = ok ? headers : NULL;
    vm->call_trailers = ok ? trailers : NULL;
    vm->call_body = ok ? body : NULL;
    vm->call_body_len = ok && body ? body_len : 0;
    vm->status_code = ok ? 0 : PW_BROKEN_CONNECTION;
    vm->status_msg = ok ? "" : "reset";
    uint32_t ret, a[5] = {vm->roots[root].id, token,
                          (uint32_t)(vm->call_headers ? vm->call_headers->n : 0),
                          (uint32_t)vm->call_body_len,
                          (uint32_t)(vm->call_trailers ? vm->call_trailers->n : 0)};
    pw__cb_call(vm, PW__CB_HTTP_CALL_RESPONSE, a, 5, &ret, 0);
    vm->call_headers = vm->call_trailers = NULL;
    vm->call_body = NULL;
    vm->call_body_len = 0;
    vm->cur = sc;
    vm->phase = sp;
    pw_vm_unref(vm);
}

void pw_vm_redis_call_done(pw_vm *vm, uint32_t token, int status, const uint8_t *resp,
                           size_t resp_len)
{
    size_t root;
    pw__ctxref sc;
    pw__phase sp;
    if (!vm || vm->failed || vm->depth || !take_pending(vm, token, &root))
        return;
    if (!enter_root(vm, root, PW__PH_REDIS_RESPONSE, &sc, &sp))
        return;
    pw_vm_ref(vm);
    vm->call_body = status == 0 ? resp : NULL;
    vm->call_body_len = status == 0 && resp ? resp_len : 0;
    uint32_t ret, a[4] = {vm->roots[root].id, token, (uint32_t)status,
                          (uint32_t)vm->call_body_len};
    pw__cb_call(vm, PW__CB_REDIS_CALL_RESPONSE, a, 4, &ret, 0);
    vm->call_body = NULL;
    vm->call_body_len = 0;
    vm->cur = sc;
    vm->phase = sp;
    pw_vm_unref(vm);
}

static void root_call(pw_vm *vm, size_t root, pw__cb cb, uint32_t arg2, size_t nargs)
{
    pw__ctxref sc;
    pw__phase sp;
    if (!vm || !enter_root(vm, root, PW__PH_ROOT_OTHER, &sc, &sp))
        return;
    pw_vm_ref(vm);
    uint32_t ret, a[2] = {vm->roots[root].id, arg2};
    pw__cb_call(vm, cb, a, nargs, &ret, 0);
    vm->cur = sc;
    vm->phase = sp;
    pw_vm_unref(vm);
}

void pw_vm_tick(pw_vm *vm, size_t root_index)
{
    root_call(vm, root_index, PW__CB_TICK, 0, 1);
}

void pw__vm_queue_ready(pw_vm *vm, size_t root, uint32_t qid)
{
    root_call(vm, root, PW__CB_QUEUE_READY, qid, 2);
}
