/*
 * basic.c — proxy-wasm test guest against the raw ABI 0.2.1 (no SDK).
 * Logs every callback ("create ID PARENT", "req_headers ID N EOS", ...) and
 * does what the request header x-test asks (see the switch in
 * proxy_on_request_headers); tests/unit/test_pw*.c assert on the log.
 * Built by make as a WASI reactor (clang --target=wasm32-wasi).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(n) __attribute__((import_module("env"), import_name(#n)))
#define EXPORT(n) __attribute__((export_name(#n)))

IMPORT(proxy_log) int proxy_log(int lvl, const char *m, size_t n);
IMPORT(proxy_get_property) int proxy_get_property(const char *p, size_t n, char **rp, size_t *rn);
IMPORT(proxy_set_property) int proxy_set_property(const char *p, size_t n, const char *v, size_t vn);
IMPORT(proxy_get_buffer_bytes) int proxy_get_buffer_bytes(int t, uint32_t s, uint32_t m, char **rp, size_t *rn);
IMPORT(proxy_set_buffer_bytes) int proxy_set_buffer_bytes(int t, uint32_t s, uint32_t sz, const char *d, size_t n);
IMPORT(proxy_get_header_map_value) int proxy_get_header_map_value(int t, const char *k, size_t kn, char **rp, size_t *rn);
IMPORT(proxy_add_header_map_value) int proxy_add_header_map_value(int t, const char *k, size_t kn, const char *v, size_t vn);
IMPORT(proxy_replace_header_map_value) int proxy_replace_header_map_value(int t, const char *k, size_t kn, const char *v, size_t vn);
IMPORT(proxy_remove_header_map_value) int proxy_remove_header_map_value(int t, const char *k, size_t kn);
IMPORT(proxy_get_header_map_pairs) int proxy_get_header_map_pairs(int t, char **rp, size_t *rn);
IMPORT(proxy_set_header_map_pairs) int proxy_set_header_map_pairs(int t, const char *p, size_t n);
IMPORT(proxy_send_local_response) int proxy_send_local_response(int st, const char *d, size_t dn, const char *b, size_t bn, const char *h, size_t hn, int grpc);
IMPORT(proxy_http_call) int proxy_http_call(const char *u, size_t un, const char *h, size_t hn, const char *b, size_t bn, const char *t, size_t tn, uint32_t to, uint32_t *tok);
IMPORT(proxy_continue_stream) int proxy_continue_stream(int t);
IMPORT(proxy_close_stream) int proxy_close_stream(int t);
IMPORT(proxy_set_effective_context) int proxy_set_effective_context(uint32_t id);
IMPORT(proxy_get_status) int proxy_get_status(uint32_t *code, char **rp, size_t *rn);
IMPORT(proxy_get_shared_data) int proxy_get_shared_data(const char *k, size_t kn, char **rp, size_t *rn, uint32_t *cas);
IMPORT(proxy_set_shared_data) int proxy_set_shared_data(const char *k, size_t kn, const char *v, size_t vn, uint32_t cas);
IMPORT(proxy_register_shared_queue) int proxy_register_shared_queue(const char *n, size_t nn, uint32_t *id);
IMPORT(proxy_resolve_shared_queue) int proxy_resolve_shared_queue(const char *v, size_t vn, const char *n, size_t nn, uint32_t *id);
IMPORT(proxy_enqueue_shared_queue) int proxy_enqueue_shared_queue(uint32_t id, const char *v, size_t vn);
IMPORT(proxy_dequeue_shared_queue) int proxy_dequeue_shared_queue(uint32_t id, char **rp, size_t *rn);
IMPORT(proxy_define_metric) int proxy_define_metric(int t, const char *n, size_t nn, uint32_t *id);
IMPORT(proxy_increment_metric) int proxy_increment_metric(uint32_t id, int64_t d);
IMPORT(proxy_record_metric) int proxy_record_metric(uint32_t id, uint64_t v);
IMPORT(proxy_get_metric) int proxy_get_metric(uint32_t id, uint64_t *v);
IMPORT(proxy_set_tick_period_milliseconds) int proxy_set_tick_period_milliseconds(uint32_t ms);
IMPORT(proxy_redis_init) int proxy_redis_init(const char *u, size_t un, const char *us, size_t usn, const char *p, size_t pn, uint32_t to);

EXPORT(proxy_abi_version_0_2_1) void abi_marker(void) {}
EXPORT(malloc) void *guest_malloc(size_t n) { return malloc(n); }

static void logf_(const char *fmt, ...)
{
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    proxy_log(2, b, n < 0 ? 0 : (size_t)n >= sizeof b ? sizeof b - 1 : (size_t)n);
}

#define S(lit) lit, sizeof(lit) - 1

/* per-stream mode (x-test) */
static struct { uint32_t id; char mode[32]; } modes[64];
static uint32_t root_id, pending_stream, pending_token;
static uint32_t m_counter, m_gauge, m_hist, queue_id;

static const char *mode_of(uint32_t id)
{
    for (int i = 0; i < 64; i++)
        if (modes[i].id == id)
            return modes[i].mode;
    return "";
}

static void set_mode(uint32_t id, const char *v, size_t n)
{
    for (int i = 0; i < 64; i++)
        if (!modes[i].id || modes[i].id == id) {
            modes[i].id = id;
            if (n > 31) n = 31;
            memcpy(modes[i].mode, v, n);
            modes[i].mode[n] = 0;
            return;
        }
}

static void put32(char *p, uint32_t v) { memcpy(p, &v, 4); }

/* serialize pairs: k0, v0, k1, v1 ... */
static size_t pairs(char *out, int n, const char *const *kv)
{
    put32(out, (uint32_t)n);
    size_t off = 4 + 8 * (size_t)n;
    for (int i = 0; i < n; i++) {
        size_t kl = strlen(kv[2 * i]), vl = strlen(kv[2 * i + 1]);
        put32(out + 4 + 8 * i, (uint32_t)kl);
        put32(out + 8 + 8 * i, (uint32_t)vl);
        memcpy(out + off, kv[2 * i], kl + 1);
        off += kl + 1;
        memcpy(out + off, kv[2 * i + 1], vl + 1);
        off += vl + 1;
    }
    return off;
}

static void log_buffer(const char *tag, int type)
{
    char *p = NULL;
    size_t n = 0;
    int st = proxy_get_buffer_bytes(type, 0, 0xffffffffu, &p, &n);
    logf_("%s=%.*s|%d", tag, (int)n, p ? p : "", st);
    free(p);
}

EXPORT(proxy_on_context_create) void on_context_create(uint32_t id, uint32_t parent)
{
    logf_("create %u %u", id, parent);
    if (!parent) {
        char *p = NULL;
        size_t n = 0;
        int st = proxy_get_property(S("plugin_root_id"), &p, &n);
        logf_("root_id=%.*s|%d", (int)n, p ? p : "", st);
        free(p);
        log_buffer("ctxcfg", 7);
        root_id = id;
    }
}

EXPORT(proxy_on_vm_start) int on_vm_start(uint32_t id, uint32_t n)
{
    logf_("vm_start %u %u", id, n);
    log_buffer("vmcfg", 6);
    log_buffer("cfg_in_start", 7);
    return 1;
}

EXPORT(proxy_on_configure) int on_configure(uint32_t id, uint32_t n)
{
    logf_("configure %u %u", id, n);
    char *p = NULL;
    size_t len = 0;
    proxy_get_buffer_bytes(7, 0, n, &p, &len);
    logf_("cfg=%.*s", (int)len, p ? p : "");
    int ok = !(len == 6 && !memcmp(p, "reject", 6));
    if (len == 11 && !memcmp(p, "queue-owner", 11)) {
        int st = proxy_register_shared_queue(S("q1"), &queue_id);
        logf_("registered %d %u", st, queue_id);
    }
    if (len == 4 && !memcmp(p, "trap", 4))
        __builtin_trap();
    free(p);
    proxy_define_metric(0, S("reqs_total"), &m_counter);
    proxy_define_metric(1, S("gauge"), &m_gauge);
    proxy_define_metric(2, S("latency"), &m_hist);
    return ok;
}

static void do_badptr(void)
{
    char *p;
    size_t n;
    int a = proxy_get_header_map_value(0, (const char *)0x7ffffff0, 1000, &p, &n);
    int b = proxy_log(2, (const char *)0xfffffff0, 100);
    int c = proxy_get_header_map_value(0, S(":path"), (char **)0xfffffffc, &n);
    int d = proxy_get_buffer_bytes(6, 0, 10, &p, (size_t *)0xfffffffe);
    int e = proxy_set_header_map_pairs(0, (const char *)0xfffff000, 0x10000);
    int f = proxy_get_property(S("plugin_name"), (char **)0, (size_t *)0xffffffff);
    logf_("badptr %d %d %d %d %d %d", a, b, c, d, e, f);
}

static void do_maps(void)
{
    proxy_add_header_map_value(0, S("X-Dup"), S("a"));
    proxy_add_header_map_value(0, S("x-dup"), S("b"));
    char *p = NULL;
    size_t n = 0;
    int st = proxy_get_header_map_value(0, S("X-DUP"), &p, &n);
    logf_("dup=%.*s|%d", (int)n, p, st);
    free(p);
    proxy_replace_header_map_value(0, S("x-rep"), S("new"));
    proxy_remove_header_map_value(0, S("x-del"));
    st = proxy_get_header_map_value(0, S("x-del"), &p, &n);
    logf_("deleted|%d", st);
    proxy_add_header_map_value(0, S("x-bin"), "\0\001\377", 3);
    char *pp = NULL;
    size_t pn = 0;
    st = proxy_get_header_map_pairs(0, &pp, &pn);
    uint32_t count = 0;
    if (pp)
        memcpy(&count, pp, 4);
    logf_("pairs=%u|%d", count, st);
    /* round trip: set the same pairs back, plus nothing else */
    st = proxy_set_header_map_pairs(0, pp, pn);
    logf_("setpairs|%d", st);
    free(pp);
    uint32_t sz = 0;
    (void)sz;
}

static void do_malformed(void)
{
    char b[64];
    int r[8];
    put32(b, 2000); /* count > 1024 */
    r[0] = proxy_set_header_map_pairs(1, b, 4);
    const char *kv[] = {"k", "v"};
    size_t n = pairs(b, 1, kv);
    r[1] = proxy_set_header_map_pairs(1, b, n - 1); /* truncated */
    b[4 + 8 + 1] = 'x';                              /* missing NUL after key */
    r[2] = proxy_set_header_map_pairs(1, b, n);
    pairs(b, 1, kv);
    r[3] = proxy_set_header_map_pairs(1, b, n + 1); /* trailing byte */
    r[4] = proxy_set_header_map_pairs(1, b, 0);     /* empty forms */
    r[5] = proxy_set_header_map_pairs(1, "", 1);
    put32(b, 0);
    r[6] = proxy_set_header_map_pairs(1, b, 4);
    pairs(b, 1, kv);
    r[7] = proxy_set_header_map_pairs(1, b, n);
    logf_("malformed %d %d %d %d %d %d %d %d", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

static void prop(const char *name, const char *path, size_t n)
{
    char *p = NULL;
    size_t len = 0;
    int st = proxy_get_property(path, n, &p, &len);
    if (len == 8 && !strcmp(name, "vm_memory")) {
        uint64_t v;
        memcpy(&v, p, 8);
        logf_("p:%s=%llu|%d", name, (unsigned long long)v, st);
    } else {
        logf_("p:%s=%.*s|%d", name, (int)len, p ? p : "", st);
    }
    free(p);
}

static void do_props(void)
{
    prop("path0", S("request\0path\0"));
    prop("path1", S("request\0path"));
    prop("path2", S("request.path"));
    prop("url_path", S("request\0url_path"));
    prop("query", S("request\0query"));
    prop("host", S("request\0host"));
    prop("method", S("request\0method"));
    prop("scheme", S("request\0scheme"));
    prop("ua", S("request\0useragent"));
    prop("id", S("request\0id"));
    prop("referer", S("request\0referer"));
    prop("hdr", S("request\0headers\0x-dup"));
    prop("name", S("plugin_name"));
    prop("vm_id", S("plugin_vm_id"));
    prop("vm_memory", S("plugin_vm_memory"));
    prop("src", S("source\0address"));
    prop("missing", S("no\0such"));
    int st = proxy_set_property(S("my.key"), S("v1"));
    logf_("set=%d", st);
    prop("fs", S("my.key"));
}

static void do_cas_inc(int times)
{
    for (int i = 0; i < times; i++) {
        for (;;) {
            char *p = NULL;
            size_t n = 0;
            uint32_t cas = 0, v = 0;
            int st = proxy_get_shared_data(S("counter"), &p, &n, &cas);
            if (st == 0 && n == 4)
                memcpy(&v, p, 4);
            free(p);
            v++;
            st = proxy_set_shared_data(S("counter"), (const char *)&v, 4, st == 0 ? cas : 0);
            if (st == 0)
                break;
            if (st != 8) {
                logf_("cas error %d", st);
                return;
            }
        }
    }
}

static void do_metrics(void)
{
    int a = proxy_increment_metric(m_counter, 1);
    int b = proxy_increment_metric(m_counter, -1);
    int c = proxy_increment_metric(m_gauge, -5);
    int d = proxy_record_metric(m_hist, 100);
    uint64_t v = 0, g = 0;
    int e = proxy_get_metric(m_counter, &v);
    proxy_get_metric(m_gauge, &g);
    int f = proxy_get_metric(m_hist, &v);
    int h = proxy_increment_metric(12345, 1);
    logf_("metrics %d %d %d %d %d %d %d gauge=%lld", a, b, c, d, e, f, h, (long long)g);
}

EXPORT(proxy_on_request_headers) int on_request_headers(uint32_t id, uint32_t n, uint32_t eos)
{
    logf_("req_headers %u %u %u", id, n, eos);
    char *p = NULL;
    size_t len = 0;
    if (proxy_get_header_map_value(0, S("x-test"), &p, &len) != 0)
        return 0;
    set_mode(id, p, len);
    free(p);
    const char *m = mode_of(id);
    if (!strcmp(m, "local")) {
        const char *kv[] = {"x-a", "1"};
        char h[64];
        size_t hn = pairs(h, 1, kv);
        int st = proxy_send_local_response(403, S("denied by test"), S("nope"), h, hn, -1);
        logf_("local=%d", st);
        return 0; /* the host must force a stop */
    }
    if (!strcmp(m, "pause") || !strcmp(m, "pause-fail")) {
        const char *kv[] = {":method", "GET", ":path", "/check", ":authority", "auth"};
        char h[128];
        size_t hn = pairs(h, 3, kv);
        int st = proxy_http_call(S("auth-cluster"), h, hn, S("q"), "", 0, 500, &pending_token);
        pending_stream = id;
        logf_("http_call=%d token=%u", st, pending_token);
        const char *bad[] = {":method", "GET"};
        hn = pairs(h, 1, bad);
        uint32_t t2 = 99;
        st = proxy_http_call(S("auth-cluster"), h, hn, "", 0, "", 0, 500, &t2);
        logf_("http_call_bad=%d", st);
        return 1;
    }
    if (!strcmp(m, "trap"))
        __builtin_trap();
    if (!strcmp(m, "loop")) {
        volatile int x = 1;
        while (x)
            ;
    }
    if (!strcmp(m, "grow")) {
        for (;;)
            if (__builtin_wasm_memory_grow(0, 16) == (size_t)-1)
                __builtin_trap();
    }
    if (!strcmp(m, "badptr"))
        do_badptr();
    if (!strcmp(m, "maps"))
        do_maps();
    if (!strcmp(m, "malformed"))
        do_malformed();
    if (!strcmp(m, "props"))
        do_props();
    if (!strcmp(m, "cas-inc"))
        do_cas_inc(200);
    if (!strcmp(m, "metrics"))
        do_metrics();
    if (!strcmp(m, "stopiter"))
        return 1;
    if (!strcmp(m, "close"))
        proxy_close_stream(0);
    if (!strcmp(m, "rebuild"))
        logf_("rebuild=%d", proxy_set_property(S("wasm_need_rebuild"), S("true")));
    if (!strcmp(m, "enqueue")) {
        uint32_t q = 0;
        int st = proxy_resolve_shared_queue("", 0, S("q1"), &q);
        int st2 = proxy_enqueue_shared_queue(q, S("hello"));
        int st3 = proxy_enqueue_shared_queue(999, S("x"));
        logf_("enqueue %d %d %d", st, st2, st3);
    }
    if (!strcmp(m, "tick"))
        proxy_set_tick_period_milliseconds(100);
    if (!strcmp(m, "redis"))
        logf_("redis_init=%d", proxy_redis_init(S("redis"), "", 0, "", 0, 100));
    return 0;
}

EXPORT(proxy_on_request_body) int on_request_body(uint32_t id, uint32_t n, uint32_t eos)
{
    logf_("req_body %u %u %u", id, n, eos);
    const char *m = mode_of(id);
    if (!strcmp(m, "body")) {
        if (!eos)
            return 1; /* buffer */
        log_buffer("body", 0);
        int a = proxy_set_buffer_bytes(0, 0, 0, S("PRE-"));          /* prepend */
        int b = proxy_set_buffer_bytes(0, 0xffffffffu, 0, S("-POST")); /* append */
        int c = proxy_set_buffer_bytes(0, 4, 5, S("[mid]"));          /* splice */
        int d = proxy_set_buffer_bytes(6, 0, 0, S("x"));              /* read-only */
        logf_("splice %d %d %d %d", a, b, c, d);
        log_buffer("body2", 0);
        char *p = NULL;
        size_t len = 0;
        int e = proxy_get_buffer_bytes(0, 1000, 10, &p, &len);
        logf_("beyond %d %zu %p", e, len, (void *)p);
    }
    if (!strcmp(m, "stopiter"))
        return eos ? 0 : 1;
    return 0;
}

EXPORT(proxy_on_response_headers) int on_response_headers(uint32_t id, uint32_t n, uint32_t eos)
{
    logf_("resp_headers %u %u %u", id, n, eos);
    if (!strcmp(mode_of(id), "resp-trap"))
        __builtin_trap();
    return 0;
}

EXPORT(proxy_on_response_body) int on_response_body(uint32_t id, uint32_t n, uint32_t eos)
{
    if (strcmp(mode_of(id), "resp-body"))
        return 0;
    logf_("resp_body %u %u %u", id, n, eos);
    if (!eos)
        return 1; /* buffer until the end */
    int st = proxy_set_buffer_bytes(1, 0xffffffffu, 0, S("-TAIL")); /* append */
    logf_("resp_append %d", st);
    return 0;
}

EXPORT(proxy_on_http_call_response) void on_http_call_response(uint32_t root, uint32_t token, uint32_t nh, uint32_t bs, uint32_t nt)
{
    logf_("http_resp %u %u %u %u %u", root, token, nh, bs, nt);
    if (token != pending_token)
        return;
    int st = proxy_set_effective_context(pending_stream);
    int bad = proxy_set_effective_context(4242);
    logf_("effective=%d bad=%d", st, bad);
    if (nh == 0) {
        uint32_t code = 0;
        char *p = NULL;
        size_t n = 0;
        proxy_get_status(&code, &p, &n);
        logf_("status=%u %.*s", code, (int)n, p ? p : "");
        free(p);
        const char *kv[] = {"x", "y"};
        char h[32];
        size_t hn = pairs(h, 1, kv);
        proxy_send_local_response(500, S("callout failed"), S("err"), h, hn, -1);
        return;
    }
    char *p = NULL;
    size_t n = 0;
    proxy_get_header_map_value(6, S(":status"), &p, &n);
    logf_("callout status=%.*s", (int)n, p);
    free(p);
    char *b = NULL;
    size_t bn = 0;
    proxy_get_buffer_bytes(4, 0, bs, &b, &bn);
    proxy_add_header_map_value(0, S("x-auth"), b, bn);
    free(b);
    logf_("continue=%d", proxy_continue_stream(0));
}

EXPORT(proxy_on_queue_ready) void on_queue_ready(uint32_t root, uint32_t qid)
{
    char *p = NULL;
    size_t n = 0;
    int st = proxy_dequeue_shared_queue(qid, &p, &n);
    int st2 = proxy_dequeue_shared_queue(qid, &p, &n);
    logf_("queue_ready %u %u %d %.5s %d", root, qid, st, p ? p : "", st2);
}

EXPORT(proxy_on_tick) void on_tick(uint32_t root) { logf_("tick %u", root); }
EXPORT(proxy_on_log) void on_log(uint32_t id) { logf_("log %u", id); }
EXPORT(proxy_on_done) int on_done(uint32_t id) { logf_("done %u", id); return 1; }
EXPORT(proxy_on_delete) void on_delete(uint32_t id) { logf_("delete %u", id); }
