/*
 * pw_stream.c — one HTTP request/response pair on one root context.
 *
 * Owns:      lazy context creation (on_context_create just before the first
 *            callback), the six stream callbacks and the mapping of their
 *            results to pw_action (§3.3: headers >4 → 4, 1 → 4 unless the
 *            plugin honours StopIteration, data >3 → 3, trailers >1 → 1; a
 *            local reply in the callback forces LOCAL_REPLY; close forces
 *            CLOSE; continue_stream during the callback turns a stop into
 *            CONTINUE), deferred effects of hostcalls (recorded here, read by
 *            the gateway after return; wakes when changed from outside the
 *            stream's own callback), failure policy (fail-open CONTINUE,
 *            fail-closed 503 "wasm_fail_stream"), and finish (on_log →
 *            on_done → on_delete, only for a created context, exactly once).
 * Not here:  the hostcalls that record effects (pw_hostcalls_*.c).
 */
#include <stdlib.h>

#include "pw_int.h"

pw_stream *pw_stream_new(pw_vm *vm, size_t root_index, const pw_stream_host *host)
{
    pw_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->vm = pw_vm_ref(vm);
    s->root = root_index < vm->plugin->root_count ? root_index : 0;
    if (host)
        s->host = *host;
    s->maps[PW_MAP_REQUEST_HEADERS].present = true;
    s->maps[PW_MAP_RESPONSE_HEADERS].present = true;
    return s;
}

pw_map *pw_stream_map(pw_stream *s, pw_map_type type)
{
    return type < PW_MAP_COUNT_STREAM ? &s->maps[type] : NULL;
}

ut_buf *pw_stream_body(pw_stream *s, bool response)
{
    return &s->body[response];
}

bool pw_stream_has_body_callback(const pw_stream *s, bool response)
{
    return s->vm->plugin->module->has_cb[response ? PW__CB_RESPONSE_BODY : PW__CB_REQUEST_BODY];
}

pw_stream_state pw_stream_state_of(const pw_stream *s)
{
    pw_stream_state st = s->st;
    st.request_body_wanted = s->body_wanted[0] && st.request_paused;
    st.response_body_wanted = s->body_wanted[1] && st.response_paused;
    return st;
}

const pw_local_reply *pw_stream_local_reply(const pw_stream *s)
{
    return s->st.local_reply ? &s->reply : NULL;
}

void pw__stream_touched(pw_stream *s)
{
    if (!s->in_cb)
        pw__wake_add(s->vm, s);
}

void pw__stream_set_reply(pw_stream *s, int status, const char *details, size_t details_len,
                          const uint8_t *body, size_t body_len)
{
    char *d = malloc(details_len + 1);
    uint8_t *b = malloc(body_len ? body_len : 1);
    if (!d || !b) {
        free(d);
        free(b);
        d = NULL, b = NULL, details_len = body_len = 0;
    } else {
        for (size_t i = 0; i < details_len; i++) /* Envoy: whitespace → '_' */
            d[i] = (details[i] == ' ' || details[i] == '\t' || details[i] == '\n' ||
                    details[i] == '\r') ? '_' : details[i];
        d[details_len] = '\0';
        if (body_len)
            memcpy(b, body, body_len);
    }
    free(s->reply_details);
    free(s->reply_body);
    s->reply_details = d;
    s->reply_body = b;
    s->reply = (pw_local_reply){status, d ? d : "", b, body_len, &s->reply_headers};
    s->st.local_reply = true;
    s->st.request_paused = s->st.response_paused = false;
    s->lr_now = true;
    pw__stream_touched(s);
}

static void apply_policy(pw_stream *s)
{
    if (pw_plugin_failure(s->vm->plugin, s->root) == PW_FAIL_CLOSED) {
        if (!s->st.local_reply) {
            pw_map_clear(&s->reply_headers);
            static const char det[] = "wasm_fail_stream";
            pw__stream_set_reply(s, 503, det, sizeof det - 1, NULL, 0);
        }
    } else {
        s->st.request_paused = s->st.response_paused = false;
    }
}

void pw__stream_vm_failed(pw_stream *s)
{
    bool was_paused = s->st.request_paused || s->st.response_paused;
    apply_policy(s);
    if (was_paused)
        pw__stream_touched(s);
}

static bool ensure_created(pw_stream *s)
{
    if (s->created)
        return true;
    pw_vm *vm = s->vm;
    if (vm->failed)
        return false;
    s->id = pw__ctx_new_id(vm, s->root, s);
    if (!s->id)
        return false;
    s->created = true;
    uint32_t ret, a[2] = {s->id, vm->roots[s->root].id};
    return pw__cb_call(vm, PW__CB_CONTEXT_CREATE, a, 2, &ret, 0);
}

enum kind { K_HEADERS, K_BODY, K_TRAILERS };

/* The VM failed (before or during this callback). lr_now says whether a
 * reply was set during this callback (by the guest or by the failure). */
static pw_action failed_action(pw_stream *s, bool response)
{
    bool in_cb = s->in_cb;
    s->in_cb = true; /* the caller acts on the result: no wake */
    apply_policy(s);
    s->in_cb = in_cb;
    if (pw_plugin_failure(s->vm->plugin, s->root) == PW_FAIL_OPEN)
        return PW_CONTINUE;
    if (!response || s->lr_now)
        return PW_LOCAL_REPLY;
    return PW_CONTINUE; /* our 503, set earlier, passing through the response path */
}

static pw_action run(pw_stream *s, pw__cb cb, enum kind k, bool response, uint32_t n, bool eos,
                     bool pass_eos)
{
    pw_vm *vm = s->vm;
    s->lr_now = false;
    if (s->finished)
        return PW_CONTINUE;
    if (s->st.closed)
        return PW_CLOSE;
    if (!response && s->st.local_reply)
        return PW_LOCAL_REPLY; /* no more request callbacks after a local reply */
    if (vm->failed)
        return failed_action(s, response);
    pw__ctxref sc = vm->cur;
    pw__phase sp = vm->phase;
    vm->cur = (pw__ctxref){0, s->root, s};
    vm->phase = PW__PH_STREAM;
    s->in_cb = true;
    s->cont[0] = s->cont[1] = false;
    bool ok = ensure_created(s);
    uint32_t r = 0;
    if (ok) {
        vm->cur.id = s->id;
        uint32_t a[3] = {s->id, n, eos ? 1u : 0u};
        ok = pw__cb_call(vm, cb, a, pass_eos ? 3 : 2, &r, 0);
    }
    s->in_cb = false;
    vm->cur = sc;
    vm->phase = sp;
    if (!ok)
        return failed_action(s, response);
    if (s->st.closed)
        return PW_CLOSE;
    if (s->lr_now)
        return PW_LOCAL_REPLY;
    bool *paused = response ? &s->st.response_paused : &s->st.request_paused;
    bool cont = s->cont[response];
    pw_action act = PW_CONTINUE;
    switch (k) {
    case K_HEADERS:
        if (r > 4)
            r = 4;
        if (r == 1 && vm->plugin->honour_stop_iteration) {
            s->body_wanted[response] = !eos;
            act = PW_PAUSE;
        } else if (r == 1 || r == 3 || r == 4) {
            act = PW_PAUSE;
        }
        break;
    case K_BODY:
        if (r > 3)
            r = 3;
        if (r == 1 || r == 2) {
            act = PW_BUFFER;
        } else if (r == 3) {
            s->body[response].len = 0; /* StopIterationNoBuffer: the plugin keeps this chunk */
            if (s->body[response].data)
                s->body[response].data[0] = '\0';
        }
        break;
    case K_TRAILERS:
        if (r >= 1)
            act = PW_PAUSE;
        break;
    }
    if (cont && act != PW_CONTINUE)
        act = PW_CONTINUE;
    if (act == PW_PAUSE) {
        *paused = true;
    } else if (act == PW_CONTINUE) {
        *paused = false;
        s->body_wanted[response] = false;
    }
    return act;
}

pw_action pw_stream_request_headers(pw_stream *s, bool eos)
{
    return run(s, PW__CB_REQUEST_HEADERS, K_HEADERS, false,
               (uint32_t)s->maps[PW_MAP_REQUEST_HEADERS].n, eos,
               s->vm->plugin->module->header_params == 3);
}

pw_action pw_stream_request_body(pw_stream *s, bool eos)
{
    return run(s, PW__CB_REQUEST_BODY, K_BODY, false, (uint32_t)s->body[0].len, eos, true);
}

pw_action pw_stream_request_trailers(pw_stream *s)
{
    return run(s, PW__CB_REQUEST_TRAILERS, K_TRAILERS, false,
               (uint32_t)s->maps[PW_MAP_REQUEST_TRAILERS].n, false, false);
}

pw_action pw_stream_response_headers(pw_stream *s, bool eos)
{
    return run(s, PW__CB_RESPONSE_HEADERS, K_HEADERS, true,
               (uint32_t)s->maps[PW_MAP_RESPONSE_HEADERS].n, eos,
               s->vm->plugin->module->header_params == 3);
}

pw_action pw_stream_response_body(pw_stream *s, bool eos)
{
    return run(s, PW__CB_RESPONSE_BODY, K_BODY, true, (uint32_t)s->body[1].len, eos, true);
}

pw_action pw_stream_response_trailers(pw_stream *s)
{
    return run(s, PW__CB_RESPONSE_TRAILERS, K_TRAILERS, true,
               (uint32_t)s->maps[PW_MAP_RESPONSE_TRAILERS].n, false, false);
}

void pw_stream_finish(pw_stream *s)
{
    if (!s || s->finished)
        return;
    s->finished = true;
    pw_vm *vm = s->vm;
    pw__wake_remove(vm, s);
    if (!vm->failed && !vm->depth) {
        pw__ctxref sc = vm->cur;
        pw__phase sp = vm->phase;
        vm->cur = (pw__ctxref){0, s->root, s};
        vm->phase = PW__PH_STREAM;
        s->in_cb = true; /* effects during log/done/delete wake nothing */
        if (ensure_created(s)) {
            vm->cur.id = s->id;
            uint32_t ret, a[1] = {s->id};
            if (pw__cb_call(vm, PW__CB_LOG, a, 1, &ret, 0) &&
                pw__cb_call(vm, PW__CB_DONE, a, 1, &ret, 1))
                pw__cb_call(vm, PW__CB_DELETE, a, 1, &ret, 0);
        }
        vm->cur = sc;
        vm->phase = sp;
    }
    pw__wake_remove(vm, s);
    if (s->id)
        pw__ctx_remove(vm, s->id);
    for (int i = 0; i < PW_MAP_COUNT_STREAM; i++)
        pw_map_free(&s->maps[i]);
    ut_buf_free(&s->body[0]);
    ut_buf_free(&s->body[1]);
    pw_map_free(&s->reply_headers);
    free(s->reply_details);
    free(s->reply_body);
    for (size_t i = 0; i < s->fs_n; i++) {
        free(s->fs[i].key);
        free(s->fs[i].val);
    }
    free(s->fs);
    free(s);
    pw_vm_unref(vm);
}
