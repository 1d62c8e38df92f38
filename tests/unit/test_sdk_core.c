/*
 * test_sdk_core.c — the SDK's dispatcher (sdk/c/proxy_wasm.c) on the mock
 * host, with a small test plugin defined here: raw configuration access
 * without parse_config, context data lifecycle, HTTP callouts resumed on
 * the issuing stream (and dropped when it is gone), ticks, property paths,
 * log formatting, unknown context ids.
 */
#include "sdk_plugin_harness.h"

static int deleted_streams, ticks, callbacks, callbacks_without_stream;
static uint32_t last_callback_ctx;
static char property_seen[64];

static px_headers_action t_on_request_headers(px_context *ctx, uint32_t n, bool eos)
{
    (void)n;
    (void)eos;
    ctx->data = strdup("stream data");
    px_bytes b;
    if (px_get_property(&b, "request", "path", NULL) == PX_OK)
        snprintf(property_seen, sizeof property_seen, "%s", b.data);
    px_bytes_free(&b);
    char *path = px_get_request_header(":path");
    bool call = strcmp(path, "/call") == 0;
    free(path);
    if (!call)
        return PX_HEADERS_CONTINUE;
    px_pairs h;
    px_pairs_init(&h);
    px_pairs_add(&h, ":method", "GET");
    px_pairs_add(&h, ":path", "/auth");
    px_pairs_add(&h, ":authority", "auth");
    px_status s = px_http_call("auth-cluster", &h, NULL, 0, NULL, 1000, NULL, NULL);
    px_pairs_free(&h);
    return s == PX_OK ? PX_HEADERS_STOP_ALL_AND_WATERMARK : PX_HEADERS_CONTINUE;
}

static void t_on_delete(px_context *ctx)
{
    if (ctx->root != ctx) {
        deleted_streams += ctx->data && strcmp(ctx->data, "stream data") == 0;
        free(ctx->data);
    }
}

static bool t_on_configure(px_context *root)
{
    size_t n;
    const char *text = px_config_text(root, &n);
    px_set_tick_period_ms(100);
    return n == 0 || strcmp(text, "reject") != 0;
}

static void t_on_tick(px_context *root)
{
    (void)root;
    ticks++;
}

const px_plugin px_plugin_def = {
    .name = "core-test",
    .on_configure = t_on_configure,
    .on_tick = t_on_tick,
    .on_request_headers = t_on_request_headers,
    .on_delete = t_on_delete,
};

#include "sdk_mock_host.h"
#include "tap.h"

/* The test plugin issues calls with a NULL callback; route them here. */
static void cb(px_context *ctx, uint32_t nh, size_t body, uint32_t nt, void *arg)
{
    (void)nh;
    (void)body;
    (void)nt;
    (void)arg;
    callbacks++;
    if (!ctx)
        callbacks_without_stream++;
    else
        last_callback_ctx = ctx->id;
    if (ctx)
        px_continue_stream(PX_STREAM_REQUEST);
}

int main(void)
{
    check(mock_configure("anything, not JSON") == 1, "no parse_config: raw text accepted");
    check(mock_configure("reject") == 0, "plugin on_configure can refuse");
    uint32_t a, id = mock_request(&a, "GET", "/x", NULL);
    check(a == 0 && strcmp(property_seen, "") == 0, "missing property reads as NOT_FOUND");
    mock_finish(id);
    check(deleted_streams == 1, "on_delete sees the stream's data");
    px_pairs_add(&mock.props, "request.path", "/x");
    id = mock_request(&a, "GET", "/x", NULL);
    check(strcmp(property_seen, "/x") == 0, "property path segments joined with NUL");
    mock_finish(id);

    id = mock_request(&a, "GET", "/call", NULL);
    check(a == PX_HEADERS_STOP_ALL_AND_WATERMARK && pendings, "http call recorded, stream paused");
    pendings->http_cb = cb;
    proxy_on_http_call_response(MOCK_ROOT, 4, 2, 0, 0);
    check(callbacks == 1 && last_callback_ctx == id && mock.continued == 1 &&
              px_current_context() && px_current_context()->id == id,
          "call response resumes the issuing stream");
    proxy_on_http_call_response(MOCK_ROOT, 4, 2, 0, 0);
    check(callbacks == 1, "a token is delivered once");
    mock_finish(id);

    id = mock_request(&a, "GET", "/call", NULL);
    pendings->http_cb = cb;
    mock_finish(id);
    proxy_on_http_call_response(MOCK_ROOT, 4, 2, 0, 0);
    check(callbacks == 2 && callbacks_without_stream == 1,
          "response after the stream is gone: callback with NULL context");

    proxy_on_tick(MOCK_ROOT);
    proxy_on_tick(MOCK_ROOT);
    check(ticks == 2, "ticks reach the plugin");
    check(proxy_on_request_headers(999, 1, 1) == 0 && proxy_on_vm_start(999, 0) == 1,
          "unknown context ids are harmless");
    px_info("value %d and %s", 42, "text");
    check(strcmp(mock.last_log, "value 42 and text") == 0, "printf-style logging");
    char *big = malloc(3000);
    memset(big, 'x', 2999);
    big[2999] = '\0';
    px_info("%s", big);
    check(strlen(mock.last_log) == 1023, "long log lines are truncated, not overflowed");
    free(big);
    check(px_get_log_level() == PX_LOG_INFO, "log level");
    char *p = proxy_on_memory_allocate(5);
    check(p != NULL && p[5] == '\0', "allocator export NUL-terminates");
    free(p);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
