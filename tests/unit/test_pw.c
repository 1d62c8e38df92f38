/*
 * test_pw.c — the proxy-wasm host (src/proxywasm) driven with real guests
 * (the .wasm files in build/wasm/tests/proxywasm/, built by make from
 * tests/proxywasm/guests) and an in-test host: pw_host.http_call records
 * the request and the test completes it with pw_vm_http_call_done;
 * pw_host.post queues work for the owning thread; the stream host serves
 * one property and counts wakes. The guest logs every callback; checks
 * assert on that log.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pw.h"
#include "pw_int.h"
#include "tap.h"

#define WASM "build/wasm/tests/proxywasm/"

/* ---- log capture ---------------------------------------------------------------- */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static ut_buf logbuf;

static void capture(void *u, const char *plugin, pw_log_level lvl, const char *msg, size_t len)
{
    if (getenv("PW_DEBUG"))
        printf("# log: %.*s\n", (int)len, msg);
    pthread_mutex_lock(&log_mu);
    ut_buf_append(&logbuf, msg, len);
    ut_buf_putc(&logbuf, '\n');
    pthread_mutex_unlock(&log_mu);
}

static void log_reset(void)
{
    pthread_mutex_lock(&log_mu);
    ut_buf_reset(&logbuf);
    pthread_mutex_unlock(&log_mu);
}

static bool logged(const char *line)
{
    pthread_mutex_lock(&log_mu);
    bool r = logbuf.data && strstr(logbuf.data, line) != NULL;
    pthread_mutex_unlock(&log_mu);
    return r;
}

/* The lines of the log that start with one of the given prefixes, joined by '|'. */
static char seqbuf[4096];
static const char *seq(const char *const *prefixes)
{
    seqbuf[0] = 0;
    pthread_mutex_lock(&log_mu);
    const char *p = logbuf.data ? logbuf.data : "";
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        for (const char *const *q = prefixes; *q; q++)
            if (n >= strlen(*q) && !strncmp(p, *q, strlen(*q))) {
                if (seqbuf[0])
                    strcat(seqbuf, "|");
                strncat(seqbuf, p, n < 200 ? n : 200);
                break;
            }
        p += n + (e ? 1 : 0);
    }
    pthread_mutex_unlock(&log_mu);
    return seqbuf;
}

static const char *const LIFECYCLE[] = {"create ", "vm_start ", "configure ", "req_", "resp_",
                                        "log ", "done ", "delete ", NULL};

/* ---- the in-test host ------------------------------------------------------------- */

typedef struct calls {
    int n;
    uint32_t token;
    char cluster[64];
    char body[64];
    pw_map headers;
    int ticks;
    uint32_t tick_ms;
} calls;

static calls C;

static pw_status t_http_call(void *user, pw_vm *vm, uint32_t token, const char *cluster,
                             size_t cluster_len, const pw_map *headers, const uint8_t *body,
                             size_t body_len, const pw_map *trailers, uint32_t timeout_ms)
{
    C.n++;
    C.token = token;
    snprintf(C.cluster, sizeof C.cluster, "%.*s", (int)cluster_len, cluster);
    snprintf(C.body, sizeof C.body, "%.*s", (int)body_len, (const char *)body);
    pw_map_clear(&C.headers);
    for (size_t i = 0; i < headers->n; i++)
        pw_map_add(&C.headers, headers->e[i].key, headers->e[i].key_len, headers->e[i].value,
                   headers->e[i].value_len);
    return PW_OK;
}

static void t_set_tick(void *user, pw_vm *vm, size_t root, uint32_t ms)
{
    C.ticks++;
    C.tick_ms = ms;
}

/* post: a per-thread work list */
typedef struct postq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void (*fn[16])(void *);
    void *arg[16];
    int n;
} postq;

static void t_post(void *user, void (*fn)(void *), void *arg)
{
    postq *q = user;
    pthread_mutex_lock(&q->mu);
    if (q->n < 16) {
        q->fn[q->n] = fn;
        q->arg[q->n++] = arg;
    }
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static pw_host HOST = {.http_call = t_http_call, .set_tick = t_set_tick};

static int wakes;
static bool wake_saw_continue;
static pw_stream_state wake_state;

static pw_status t_property(void *user, const char *path, ut_buf *out)
{
    if (!strcmp(path, "source.address")) {
        ut_buf_puts(out, "10.0.0.1:1234");
        return PW_OK;
    }
    return PW_NOT_FOUND;
}

static void t_wake(void *user, pw_stream *s)
{
    wakes++;
    wake_saw_continue = logged("continue=0");
    wake_state = pw_stream_state_of(s);
}

static pw_stream_host SHOST = {.property = t_property, .wake = t_wake};

/* ---- helpers ------------------------------------------------------------------------ */

static sl_engine *engine;

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static pw_module *load(const char *name, char *err, size_t errlen)
{
    char path[256];
    snprintf(path, sizeof path, WASM "%s", name);
    size_t n;
    uint8_t *b = slurp(path, &n);
    if (!b) {
        snprintf(err, errlen, "cannot read %s", path);
        return NULL;
    }
    pw_module *m = pw_module_load(engine, b, n, NULL, err, errlen);
    free(b);
    return m;
}

typedef struct popts {
    const char *name, *vm_id, *cfg;
    pw_failure_policy failure;
    uint32_t cpu_ms, max_pages;
    int stop_iter;
} popts;

static pw_plugin *plugin(pw_module *m, popts o)
{
    pw_root_conf root = {.root_id = "myroot",
                         .configuration = (const uint8_t *)(o.cfg ? o.cfg : "CFG"),
                         .configuration_len = strlen(o.cfg ? o.cfg : "CFG"),
                         .failure = o.failure};
    const char *env[] = {"A=1"};
    pw_plugin_conf c = {.name = o.name ? o.name : "test",
                        .vm_id = o.vm_id ? o.vm_id : "",
                        .vm_configuration = (const uint8_t *)"VMCFG",
                        .vm_configuration_len = 5,
                        .env = env,
                        .env_count = 1,
                        .max_memory_pages = o.max_pages,
                        .callback_cpu_ms = o.cpu_ms,
                        .header_stop_iteration = o.stop_iter,
                        .roots = &root,
                        .root_count = 1};
    char err[256];
    pw_plugin *p = pw_plugin_new(m, &c, err, sizeof err);
    if (!p)
        printf("# pw_plugin_new: %s\n", err);
    return p;
}

static void add(pw_map *m, const char *k, const char *v)
{
    pw_map_add(m, k, strlen(k), v, strlen(v));
}

static pw_stream *stream(pw_vm *vm, const char *mode)
{
    pw_stream *s = pw_stream_new(vm, 0, &SHOST);
    pw_map *h = pw_stream_map(s, PW_MAP_REQUEST_HEADERS);
    add(h, ":method", "GET");
    add(h, ":path", "/a/b?x=1#frag");
    add(h, ":authority", "example.com");
    add(h, ":scheme", "https");
    add(h, "user-agent", "ua/1");
    add(h, "x-request-id", "rid-7");
    add(h, "referer", "http://ref/");
    add(h, "x-del", "gone");
    if (mode)
        add(h, "x-test", mode);
    return s;
}

static const char *hval(pw_stream *s, const char *k)
{
    const pw_map_entry *e = pw_map_get(pw_stream_map(s, PW_MAP_REQUEST_HEADERS), k, strlen(k));
    return e ? e->value : NULL;
}

static pw_module *basic;

static pw_vm *vm_of(popts o, pw_plugin **pp)
{
    pw_plugin *p = plugin(basic, o);
    char err[256];
    pw_vm *vm = p ? pw_vm_new(p, engine, &HOST, err, sizeof err) : NULL;
    if (!vm)
        printf("# pw_vm_new: %s\n", err);
    if (pp)
        *pp = p;
    else
        pw_plugin_unref(p);
    return vm;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_load(void)
{
    char err[256];
    pw_module *m = load("abi010.wasm", err, sizeof err);
    check(m && pw_module_abi(m) == PW_ABI_0_1_0, "load: ABI 0.1.0 marker detected");
    pw_module_unref(m);
    check(basic && pw_module_abi(basic) == PW_ABI_0_2_1, "load: ABI 0.2.1 marker detected");
    m = load("bad_nomarker.wasm", err, sizeof err);
    check(!m && strstr(err, "ABI"), "load: module without marker rejected");
    printf("# %s\n", err);
    m = load("bad_import.wasm", err, sizeof err);
    check(!m && strstr(err, "proxy_does_not_exist"), "load: unknown import named in the error");
    printf("# %s\n", err);
    m = load("bad_sig.wasm", err, sizeof err);
    check(!m && strstr(err, "proxy_log"), "load: import with a wrong signature named");
    printf("# %s\n", err);
    m = load("bad_noalloc.wasm", err, sizeof err);
    check(!m && strstr(err, "malloc"), "load: module without allocator rejected");
    printf("# %s\n", err);
    m = pw_module_load(engine, (const uint8_t *)"\0asm\2\0\0\0", 8, NULL, err, sizeof err);
    check(!m && err[0], "load: malformed bytes rejected");
}

static void test_order(void)
{
    log_reset();
    pw_vm *vm = vm_of((popts){0}, NULL);
    check(vm != NULL, "order: VM created");
    if (!vm)
        return;
    const char *boot = seq(LIFECYCLE);
    check(!strcmp(boot, "create 1 0|vm_start 1 5|configure 1 3"), "order: root create, vm_start, configure with root id");
    printf("# %s\n", boot);
    check(logged("root_id=myroot|0"), "order: plugin_root_id readable in root on_context_create");
    check(logged("ctxcfg=CFG|0"), "order: PLUGIN_CONFIGURATION readable in root on_context_create");
    check(logged("vmcfg=VMCFG|0"), "order: VM_CONFIGURATION readable in on_vm_start");
    check(logged("cfg_in_start=|1"), "order: PLUGIN_CONFIGURATION not readable in on_vm_start");
    check(logged("cfg=CFG"), "order: PLUGIN_CONFIGURATION readable in on_configure");

    log_reset();
    pw_stream *s = stream(vm, NULL);
    check(!strcmp(seq(LIFECYCLE), ""), "order: no callback before the first stream callback");
    check(pw_stream_request_headers(s, true) == PW_CONTINUE, "order: headers continue");
    pw_map *rh = pw_stream_map(s, PW_MAP_RESPONSE_HEADERS);
    add(rh, ":status", "200");
    check(pw_stream_response_headers(s, true) == PW_CONTINUE, "order: response headers continue");
    pw_stream_finish(s);
    const char *got = seq(LIFECYCLE);
    check(!strcmp(got, "create 2 1|req_headers 2 9|resp_headers 2 1 1|log 2|done 2|delete 2") ||
              !strcmp(got, "create 2 1|req_headers 2 8 1|resp_headers 2 1 1|log 2|done 2|delete 2"),
          "order: create, headers, log before done and delete");
    printf("# %s\n", got);

    log_reset();
    s = stream(vm, NULL);
    pw_stream_finish(s);
    check(!strcmp(seq(LIFECYCLE), "create 3 1|log 3|done 3|delete 3"),
          "order: stream ended before headers still logs (created lazily), delete once");
    log_reset();
    pw_vm_unref(vm);
    check(!strcmp(seq(LIFECYCLE), "done 1|delete 1"), "order: root done+delete at VM teardown");
}

static void test_maps(pw_vm *vm)
{
    log_reset();
    pw_stream *s = stream(vm, "maps");
    pw_stream_request_headers(s, false);
    check(logged("dup=a|0"), "maps: first of duplicated values, case-insensitive key");
    check(logged("deleted|1"), "maps: removed header NOT_FOUND");
    check(logged("setpairs|0"), "maps: set_pairs of get_pairs OK");
    pw_map *h = pw_stream_map(s, PW_MAP_REQUEST_HEADERS);
    int dups = 0;
    for (size_t i = 0; i < h->n; i++)
        if (!strcmp(h->e[i].key, "x-dup"))
            dups++;
    check(dups == 2, "maps: both duplicates survive the round trip");
    check(hval(s, "x-rep") && !strcmp(hval(s, "x-rep"), "new"), "maps: replace adds");
    check(!hval(s, "x-del"), "maps: remove");
    const pw_map_entry *b = pw_map_get(h, "x-bin", 5);
    check(b && b->value_len == 3 && !memcmp(b->value, "\0\001\377", 3), "maps: binary value round trip");
    check(h->dirty, "maps: dirty set");
    check(h->n > 0 && !strcmp(h->e[0].key, ":method"), "maps: order kept");
    pw_stream_finish(s);

    log_reset();
    s = stream(vm, "malformed");
    pw_stream_request_headers(s, false);
    check(logged("malformed 2 2 2 2 0 0 0 0"),
          "maps: malformed pairs BAD_ARGUMENT; the three empty forms OK");
    printf("# %s\n", seq((const char *const[]){"malformed", NULL}));
    const pw_map *tr = pw_stream_map(s, PW_MAP_REQUEST_TRAILERS);
    check(tr->n == 1 && !strcmp(tr->e[0].key, "k"), "maps: valid pairs replace the map");
    pw_stream_finish(s);
}

static void test_local_reply(pw_vm *vm)
{
    log_reset();
    pw_stream *s = stream(vm, "local");
    pw_action a = pw_stream_request_headers(s, false);
    check(a == PW_LOCAL_REPLY, "local: Continue after send_local_response forced to a local reply");
    const pw_local_reply *r = pw_stream_local_reply(s);
    check(r && r->status == 403 && !strcmp(r->details, "denied_by_test") && r->body_len == 4 &&
              !memcmp(r->body, "nope", 4),
          "local: status, details (spaces → _), body");
    check(r && r->headers->n == 1 && !strcmp(r->headers->e[0].key, "x-a"), "local: extra headers");
    check(logged("local=0"), "local: send_local_response returns OK");
    log_reset();
    check(pw_stream_request_body(s, true) == PW_LOCAL_REPLY && !logged("req_body"),
          "local: no request callbacks after a local reply");
    pw_stream_finish(s);
}

static void test_pause_http(pw_vm *vm)
{
    log_reset();
    memset(&C, 0, sizeof C);
    wakes = 0;
    pw_stream *s = stream(vm, "pause");
    pw_action a = pw_stream_request_headers(s, true);
    check(a == PW_PAUSE, "pause: headers Pause (1 → 4) holds the request");
    check(pw_stream_state_of(s).request_paused && !pw_stream_state_of(s).request_body_wanted,
          "pause: state paused, no body callbacks wanted (converted to StopAll)");
    check(C.n == 1 && C.token % 4 == 0 && C.token && !strcmp(C.cluster, "auth-cluster") &&
              !strcmp(C.body, "q"),
          "pause: http_call reached the host (token ≡ 0 mod 4)");
    check(pw_map_get(&C.headers, ":authority", 10) != NULL, "pause: call headers passed");
    check(logged("http_call_bad=2"), "pause: call without :path/:authority BAD_ARGUMENT");
    check(wakes == 0, "pause: no wake during the stream's own callback");

    pw_vm_http_call_done(vm, C.token + 4, 0, NULL, NULL, 0, NULL);
    check(!logged("http_resp"), "pause: unknown token ignored");

    pw_map rh = {0};
    add(&rh, ":status", "200");
    char want[64];
    pw_vm_http_call_done(vm, C.token, 0, &rh, (const uint8_t *)"ok", 2, NULL);
    snprintf(want, sizeof want, "http_resp 1 %u 1 2 0", C.token);
    check(logged(want), "pause: on_http_call_response on the root with counts");
    check(logged("effective=0 bad=2"), "pause: set_effective_context stream OK, unknown BAD_ARGUMENT");
    check(logged("callout status=200"), "pause: map 6 readable in the response callback");
    check(hval(s, "x-auth") && !strcmp(hval(s, "x-auth"), "ok"),
          "pause: buffer 4 read, header added to the paused stream");
    check(wakes == 1 && wake_saw_continue && !wake_state.request_paused,
          "pause: continue_stream → wake once, after the guest returned");
    log_reset();
    pw_vm_http_call_done(vm, C.token, 0, &rh, (const uint8_t *)"ok", 2, NULL);
    check(!logged("http_resp"), "pause: a token is delivered once");
    pw_stream_finish(s);

    /* failed call: counts 0, status 11 "reset" */
    log_reset();
    wakes = 0;
    s = stream(vm, "pause-fail");
    pw_stream_request_headers(s, true);
    pw_vm_http_call_done(vm, C.token, 503, NULL, NULL, 0, NULL);
    check(logged("status=11 reset"), "pause: failed call → get_status 11 reset, counts 0");
    const pw_local_reply *r = pw_stream_local_reply(s);
    check(wakes == 1 && r && r->status == 500, "pause: local reply from the async callback wakes the stream");
    pw_stream_finish(s);
    pw_map_free(&rh);
    pw_map_free(&C.headers);
}

static void test_props(pw_vm *vm)
{
    log_reset();
    pw_stream *s = stream(vm, "props");
    add(pw_stream_map(s, PW_MAP_REQUEST_HEADERS), "x-dup", "1");
    add(pw_stream_map(s, PW_MAP_REQUEST_HEADERS), "x-dup", "2");
    pw_stream_request_headers(s, false);
    check(logged("p:path0=/a/b?x=1#frag|0") && logged("p:path1=/a/b?x=1#frag|0") &&
              logged("p:path2=/a/b?x=1#frag|0"),
          "props: the three path encodings");
    check(logged("p:url_path=/a/b|0"), "props: request.url_path");
    check(logged("p:query=x=1|0"), "props: request.query without ? and #fragment");
    check(logged("p:host=example.com|0") && logged("p:method=GET|0") &&
              logged("p:scheme=https|0"),
          "props: host, method, scheme");
    check(logged("p:ua=ua/1|0") && logged("p:id=rid-7|0") && logged("p:referer=http://ref/|0"),
          "props: useragent, id, referer");
    check(logged("p:hdr=1,2|0"), "props: request.headers.<name> comma-joined");
    check(logged("p:name=test|0") && logged("p:vm_id=|0"), "props: plugin_name, empty plugin_vm_id");
    char want[64];
    snprintf(want, sizeof want, "p:vm_memory=%llu|0", (unsigned long long)pw_vm_memory_bytes(vm));
    check(logged(want), "props: plugin_vm_memory u64 LE");
    check(logged("p:src=10.0.0.1:1234|0"), "props: other paths asked of the stream host (dotted)");
    check(logged("p:missing=|1"), "props: unknown → NOT_FOUND");
    check(logged("set=0") && logged("p:fs=v1|0"), "props: set_property readable back");
    pw_stream_finish(s);
}

static void test_body(pw_vm *vm)
{
    log_reset();
    pw_stream *s = stream(vm, "body");
    pw_stream_request_headers(s, false);
    ut_buf *b = pw_stream_body(s, false);
    ut_buf_puts(b, "hello");
    check(pw_stream_request_body(s, false) == PW_BUFFER, "body: Pause from a body callback buffers");
    ut_buf_puts(b, " world");
    check(pw_stream_request_body(s, true) == PW_CONTINUE, "body: Continue at end of stream");
    check(logged("req_body 2 5 0") || logged("req_body"), "body: size passed");
    check(logged("body=hello world|0"), "body: whole buffered body readable");
    check(logged("splice 0 0 0 2"), "body: prepend/append/splice OK, read-only buffer BAD_ARGUMENT");
    check(b->len == strlen("PRE-[mid] world-POST") && !strcmp(b->data, "PRE-[mid] world-POST"),
          "body: spliced body is what the gateway forwards");
    printf("# body: %s\n", b->data);
    check(logged("beyond 0 0 0"), "body: start beyond the end → OK, ptr 0 / size 0");
    pw_stream_finish(s);
}

static void test_badptr(pw_vm *vm)
{
    log_reset();
    pw_stream *s = stream(vm, "badptr");
    pw_action a = pw_stream_request_headers(s, false);
    check(logged("badptr 6 6 6 6 6 6"), "badptr: every bad pointer → status 6");
    check(a == PW_CONTINUE && !pw_vm_failed(vm), "badptr: VM still healthy");
    pw_stream_finish(s);
}

static void test_metrics(pw_vm *vm)
{
    log_reset();
    pw_stream *s = stream(vm, "metrics");
    pw_stream_request_headers(s, false);
    check(logged("metrics 0 2 0 0 0 2 1 gauge=-5"),
          "metrics: counter +1, negative BAD_ARGUMENT, gauge, histogram, get, unknown");
    pw_stream_finish(s);
    ut_buf out = {0};
    pw_metrics_write_prometheus(&out);
    check(out.data && strstr(out.data, "# TYPE sluice_plugin_reqs_total counter") &&
              strstr(out.data, "sluice_plugin_latency_count 1") &&
              strstr(out.data, "sluice_plugin_gauge -5"),
          "metrics: Prometheus text");
    ut_buf_free(&out);
}

static void test_misc(pw_vm *vm)
{
    log_reset();
    pw_stream *s = stream(vm, "close");
    check(pw_stream_request_headers(s, false) == PW_CLOSE, "close: proxy_close_stream → PW_CLOSE");
    pw_stream_finish(s);

    memset(&C, 0, sizeof C);
    s = stream(vm, "tick");
    pw_stream_request_headers(s, false);
    check(C.ticks == 1 && C.tick_ms == 100, "tick: set_tick_period reaches the host for the root");
    pw_stream_finish(s);
    log_reset();
    pw_vm_tick(vm, 0);
    check(logged("tick 1"), "tick: on_tick(root id)");

    s = stream(vm, "redis");
    pw_stream_request_headers(s, false);
    check(logged("redis_init=2"), "redis: no host support → BAD_ARGUMENT");
    pw_stream_finish(s);
}

static void test_abi010(void)
{
    char err[256];
    pw_module *m = load("abi010.wasm", err, sizeof err);
    if (!m) {
        check(0, "abi010: load");
        return;
    }
    log_reset();
    pw_plugin *p = plugin(m, (popts){.cfg = "CONF01"});
    pw_vm *vm = p ? pw_vm_new(p, engine, &HOST, err, sizeof err) : NULL;
    check(vm && logged("CONF01"), "abi010: proxy_get_configuration in on_configure");
    if (vm) {
        pw_stream *s = stream(vm, NULL);
        check(pw_stream_request_headers(s, false) == PW_CONTINUE && logged("ok-empty"),
              "abi010: 2-arg header callback; missing header → OK + empty");
        pw_stream_finish(s);
        pw_vm_unref(vm);
    }
    pw_plugin_unref(p);
    pw_module_unref(m);
}

static void test_stop_iteration(void)
{
    pw_vm *vm = vm_of((popts){.stop_iter = 1}, NULL);
    if (!vm)
        return;
    pw_stream *s = stream(vm, "stopiter");
    check(pw_stream_request_headers(s, false) == PW_PAUSE &&
              pw_stream_state_of(s).request_body_wanted,
          "stopiter: honoured StopIteration keeps body callbacks coming");
    ut_buf_puts(pw_stream_body(s, false), "x");
    check(pw_stream_request_body(s, false) == PW_BUFFER, "stopiter: body buffered");
    check(pw_stream_request_body(s, true) == PW_CONTINUE && !pw_stream_state_of(s).request_paused,
          "stopiter: Continue from the body releases headers");
    pw_stream_finish(s);
    pw_vm_unref(vm);
}

static void test_failures(void)
{
    log_reset();
    pw_vm *vm = vm_of((popts){.name = "trapper"}, NULL);
    if (!vm)
        return;
    pw_stream *s = stream(vm, "trap");
    pw_action a = pw_stream_request_headers(s, false);
    const pw_local_reply *r = pw_stream_local_reply(s);
    check(a == PW_LOCAL_REPLY && r && r->status == 503 && !strcmp(r->details, "wasm_fail_stream"),
          "trap: fail-closed → 503 wasm_fail_stream");
    check(pw_vm_failed(vm), "trap: VM failed");
    check(logged("VM failed (trap): unreachable") && logged("on_request_headers"),
          "trap: message and backtrace logged");
    log_reset();
    pw_stream_finish(s);
    check(!logged("log "), "trap: no guest calls on a failed VM (finish is safe)");
    pw_stream *s2 = stream(vm, NULL);
    check(pw_stream_request_headers(s2, false) == PW_LOCAL_REPLY, "trap: later streams fail closed");
    add(pw_stream_map(s2, PW_MAP_RESPONSE_HEADERS), ":status", "503");
    check(pw_stream_response_headers(s2, true) == PW_CONTINUE,
          "trap: our 503 passes the response path (no reply loop)");
    pw_stream_finish(s2);
    /* a trap in a response callback of a fail-closed plugin replaces the response */
    pw_vm *vm2 = vm_of((popts){.name = "trapper"}, NULL);
    pw_stream *s3 = stream(vm2, "resp-trap");
    check(pw_stream_request_headers(s3, true) == PW_CONTINUE, "trap: request passes before the trap");
    add(pw_stream_map(s3, PW_MAP_RESPONSE_HEADERS), ":status", "200");
    pw_action ra = pw_stream_response_headers(s3, true);
    r = pw_stream_local_reply(s3);
    check(ra == PW_LOCAL_REPLY && r && r->status == 503, "trap: in response headers → 503 local reply");
    pw_stream_finish(s3);
    pw_vm_unref(vm2);
    pw_vm_unref(vm);
    ut_buf out = {0};
    pw_stats_write_prometheus(&out);
    check(out.data && strstr(out.data, "sluice_wasm_traps_total{plugin=\"trapper\"} 2"),
          "trap: counted in pw_stats");
    ut_buf_free(&out);

    vm = vm_of((popts){.name = "open", .failure = PW_FAIL_OPEN}, NULL);
    s = stream(vm, "trap");
    check(pw_stream_request_headers(s, false) == PW_CONTINUE && !pw_stream_local_reply(s),
          "trap: fail-open → continue");
    pw_stream_finish(s);
    pw_vm_unref(vm);

    /* CPU limit */
    vm = vm_of((popts){.name = "looper", .cpu_ms = 50}, NULL);
    s = stream(vm, "loop");
    uint64_t t0 = sl_clock_ns();
    a = pw_stream_request_headers(s, false);
    uint64_t ms = (sl_clock_ns() - t0) / 1000000u;
    check(a == PW_LOCAL_REPLY && pw_vm_failed(vm) && ms < 2000,
          "cpu: infinite loop stopped by callback_cpu_ms, VM failed");
    printf("# loop stopped after %llu ms\n", (unsigned long long)ms);
    check(logged("CPU time limit"), "cpu: logged");
    pw_stream_finish(s);
    pw_vm_unref(vm);

    /* memory limit */
    vm = vm_of((popts){.name = "grower", .max_pages = 64}, NULL);
    check(vm != NULL, "memory: VM starts under the limit");
    if (vm) {
        s = stream(vm, "grow");
        a = pw_stream_request_headers(s, false);
        check(a == PW_LOCAL_REPLY && pw_vm_failed(vm) &&
                  pw_vm_memory_bytes(vm) <= 64u * 65536u,
              "memory: growth beyond max_memory_pages fails the VM");
        pw_stream_finish(s);
        pw_vm_unref(vm);
    }

    /* configure returning false / trapping */
    pw_plugin *p = plugin(basic, (popts){.cfg = "reject"});
    char err[256];
    check(p && !pw_vm_new(p, engine, &HOST, err, sizeof err) && strstr(err, "on_configure"),
          "configure false → pw_vm_new fails naming it");
    check(p && pw_plugin_check(p, engine, err, sizeof err) == -1, "canary rejects the configuration");
    pw_plugin_unref(p);
    p = plugin(basic, (popts){.cfg = "trap"});
    check(p && !pw_vm_new(p, engine, &HOST, err, sizeof err), "configure trap → pw_vm_new fails");
    printf("# %s\n", err);
    pw_plugin_unref(p);
}

static void test_slot(void)
{
    pw_plugin *p = plugin(basic, (popts){.name = "slotted"});
    pw_slot slot;
    pw_slot_init(&slot, p, engine, &HOST);
    pw_plugin_unref(p);
    pw_vm *vm = pw_slot_vm(&slot, 10000);
    check(vm != NULL && pw_slot_vm(&slot, 10001) == vm, "slot: creates once, reuses");
    pw_stream *s = stream(vm, "trap");
    pw_stream_request_headers(s, false); /* the stream keeps the failed VM alive */
    check(pw_slot_vm(&slot, 10500) == NULL, "slot: no re-creation within PW_RECOVER_MIN_MS");
    pw_vm *vm2 = pw_slot_vm(&slot, 10000 + PW_RECOVER_MIN_MS);
    check(vm2 && vm2 != vm && !pw_vm_failed(vm2), "slot: recovered after PW_RECOVER_MIN_MS");
    pw_stream_finish(s);

    s = stream(vm2, "rebuild");
    pw_stream_request_headers(s, false);
    check(logged("rebuild=0"), "rebuild: wasm_need_rebuild accepted");
    pw_stream_finish(s);
    check(pw_slot_vm(&slot, 10000 + PW_RECOVER_MIN_MS + 10) == vm2, "rebuild: not before the interval");
    pw_vm *vm3 = pw_slot_vm(&slot, 10000 + 3 * PW_RECOVER_MIN_MS);
    check(vm3 && vm3 != vm2, "rebuild: slot rebuilt the VM");
    pw_slot_fini(&slot);
    ut_buf out = {0};
    pw_stats_write_prometheus(&out);
    check(out.data && strstr(out.data, "sluice_wasm_recoveries_total{plugin=\"slotted\"} 1") &&
              strstr(out.data, "sluice_wasm_rebuilds_total{plugin=\"slotted\"} 1"),
          "slot: recoveries and rebuilds counted");
    ut_buf_free(&out);
}

/* ---- two threads ------------------------------------------------------------------------ */

static void *cas_thread(void *arg)
{
    pw_vm *vm = vm_of((popts){.vm_id = "cas-test"}, NULL);
    for (int i = 0; vm && i < 5; i++) {
        pw_stream *s = stream(vm, "cas-inc");
        pw_stream_request_headers(s, false);
        pw_stream_finish(s);
    }
    pw_vm_unref(vm);
    return NULL;
}

static void test_cas_threads(void)
{
    /* Seed the key: with ABI semantics a set with cas 0 is unconditional, so two
     * guests that both saw NOT_FOUND would race on the first write (lost
     * increments that are the guest's race, not the host's). */
    uint32_t zero = 0;
    check(pw__shared_set("cas-test", "counter", 7, (const uint8_t *)&zero, 4, 0) == PW_OK,
          "shared: seeded");
    pthread_t a, b;
    pthread_create(&a, NULL, cas_thread, NULL);
    pthread_create(&b, NULL, cas_thread, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    ut_buf out = {0};
    uint32_t cas = 0, v = 0;
    pw_status st = pw__shared_get("cas-test", "counter", 7, &out, &cas);
    if (!st && out.len == 4)
        memcpy(&v, out.data, 4);
    check(st == PW_OK && v == 2000, "shared: CAS increments from two threads lose nothing");
    printf("# counter=%u cas=%u\n", v, cas);
    check(!logged("cas error"), "shared: only OK / CAS_MISMATCH seen");
    ut_buf_free(&out);
}

static postq owner_q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, {0}, 0};
static pthread_mutex_t phase_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t phase_cv = PTHREAD_COND_INITIALIZER;
static int phase;

static void *owner_thread(void *arg)
{
    pw_host h = HOST;
    h.post = t_post;
    h.user = &owner_q;
    pw_plugin *p = plugin(basic, (popts){.vm_id = "queue-test", .cfg = "queue-owner"});
    char err[256];
    pw_vm *vm = pw_vm_new(p, engine, &h, err, sizeof err);
    pw_plugin_unref(p);
    pthread_mutex_lock(&phase_mu);
    phase = 1;
    pthread_cond_broadcast(&phase_cv);
    pthread_mutex_unlock(&phase_mu);
    /* run posted work on this thread, up to 5 s */
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 5;
    pthread_mutex_lock(&owner_q.mu);
    while (!owner_q.n && pthread_cond_timedwait(&owner_q.cv, &owner_q.mu, &dl) == 0)
        ;
    int n = owner_q.n;
    owner_q.n = 0;
    pthread_mutex_unlock(&owner_q.mu);
    for (int i = 0; i < n; i++)
        owner_q.fn[i](owner_q.arg[i]);
    pw_vm_unref(vm);
    return NULL;
}

static void *enqueuer_thread(void *arg)
{
    pthread_mutex_lock(&phase_mu);
    while (!phase)
        pthread_cond_wait(&phase_cv, &phase_mu);
    pthread_mutex_unlock(&phase_mu);
    pw_vm *vm = vm_of((popts){.vm_id = "queue-test"}, NULL);
    pw_stream *s = stream(vm, "enqueue");
    pw_stream_request_headers(s, false);
    pw_stream_finish(s);
    pw_vm_unref(vm);
    return NULL;
}

static void test_queue_threads(void)
{
    log_reset();
    pthread_t a, b;
    pthread_create(&a, NULL, owner_thread, NULL);
    pthread_create(&b, NULL, enqueuer_thread, NULL);
    pthread_join(b, NULL);
    pthread_join(a, NULL);
    check(logged("registered 0 "), "queue: registered in on_configure");
    check(logged("enqueue 0 0 1"), "queue: resolve (own vm_id) and enqueue OK, unknown id NOT_FOUND");
    check(logged("queue_ready 1 ") && logged(" 0 hello 7"),
          "queue: on_queue_ready delivered on the owner's thread via post; dequeue then EMPTY");
    printf("# %s\n", seq((const char *const[]){"queue_ready", "enqueue", NULL}));
}

/* Cost of one stream (create, request headers with a header lookup, log,
 * done, delete) through the host; informative, loosely bounded. */
static void test_cost(void)
{
    pw_vm *vm = vm_of((popts){.name = "bench"}, NULL);
    if (!vm)
        return;
    pw_set_log(capture, NULL, PW_LOG_ERROR); /* guest logs still formatted, not stored */
    int n = 2000;
    uint64_t t0 = sl_clock_ns();
    for (int i = 0; i < n; i++) {
        pw_stream *s = stream(vm, NULL);
        pw_stream_request_headers(s, true);
        pw_stream_finish(s);
    }
    uint64_t per = (sl_clock_ns() - t0) / (uint64_t)n;
    pw_set_log(capture, NULL, PW_LOG_TRACE);
    printf("# one stream (5 callbacks, 6 log calls, map fill) costs %llu ns\n",
           (unsigned long long)per);
    check(per < 400000, "cost: a logging stream through the host stays well under 400 us");
    pw_vm_unref(vm);

    /* key-auth-like guest: the plugin cost target is <= 3 us CPU per request */
    char err[256];
    pw_module *m = load("keyauth.wasm", err, sizeof err);
    pw_plugin *p = m ? plugin(m, (popts){.name = "keyauth"}) : NULL;
    vm = p ? pw_vm_new(p, engine, &HOST, err, sizeof err) : NULL;
    check(vm != NULL, "cost: key-auth guest loads");
    if (vm) {
        pw_stream *s = stream(vm, NULL);
        add(pw_stream_map(s, PW_MAP_REQUEST_HEADERS), "x-api-key", "secret");
        check(pw_stream_request_headers(s, true) == PW_CONTINUE, "cost: right key passes");
        pw_stream_finish(s);
        s = stream(vm, NULL);
        add(pw_stream_map(s, PW_MAP_REQUEST_HEADERS), "x-api-key", "wrong!");
        check(pw_stream_request_headers(s, true) == PW_LOCAL_REPLY &&
                  pw_stream_local_reply(s)->status == 401,
              "cost: wrong key → 401");
        pw_stream_finish(s);
        /* host-side cost only: the maps are filled once, outside the loop */
        s = stream(vm, NULL);
        add(pw_stream_map(s, PW_MAP_REQUEST_HEADERS), "x-api-key", "secret");
        uint64_t best = UINT64_MAX;
        for (int round = 0; round < 5; round++) {
            uint64_t t = sl_clock_ns();
            for (int i = 0; i < n; i++)
                pw_stream_request_headers(s, true);
            uint64_t d = (sl_clock_ns() - t) / (uint64_t)n;
            best = d < best ? d : best;
        }
        pw_stream_finish(s);
        printf("# key-auth request headers callback: %llu ns\n", (unsigned long long)best);
        check(best < 20000, "cost: key-auth callback well under 20 us (target 3 us, release build)");
        pw_vm_unref(vm);
    }
    pw_plugin_unref(p);
    pw_module_unref(m);
}

int main(void)
{
    pw_set_log(capture, NULL, PW_LOG_TRACE);
    engine = sl_engine_new(NULL);
    char err[256];
    basic = load("basic.wasm", err, sizeof err);
    if (!basic)
        printf("# basic.wasm: %s\n", err);
    test_load();
    if (basic) {
        test_order();
        pw_vm *vm = vm_of((popts){0}, NULL);
        if (vm) {
            test_maps(vm);
            test_local_reply(vm);
            test_pause_http(vm);
            test_props(vm);
            test_body(vm);
            test_badptr(vm);
            test_metrics(vm);
            test_misc(vm);
            pw_vm_unref(vm);
        }
        test_abi010();
        test_stop_iteration();
        test_failures();
        test_slot();
        test_cas_threads();
        test_queue_threads();
        test_cost();
    }
    pw_module_unref(basic);
    sl_engine_free(engine);
    ut_buf_free(&logbuf);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
