/*
 * cors.c — proxy-wasm plugin: Cross-Origin Resource Sharing. Answers
 * preflight requests itself and decorates actual responses.
 *
 * Owns:     origin matching (exact, "*", and globs such as
 *           "https://STAR.example.com" where STAR is a star), preflight replies, response headers.
 * Not here: CSRF protection, cookie policy.
 */
#include "proxy_wasm.h"

typedef struct {
    char **origins;      /* "*" = any; may contain '*' globs */
    char *methods;       /* comma-joined */
    char **allow_headers;
    char *allow_headers_joined;
    char *expose_headers;
    bool credentials;
    bool forbid_disallowed;
    int max_age;
    bool any_origin;
} config;

typedef struct {
    char *origin;  /* allowed origin of this request, or NULL */
} stream;

static char *join(char **v)
{
    size_t n = 1;
    for (char **p = v; p && *p; p++)
        n += strlen(*p) + 1;
    char *o = calloc(1, n);
    for (char **p = v; o && p && *p; p++) {
        if (p != v)
            strcat(o, ",");
        strcat(o, *p);
    }
    return o;
}

static void config_free(void *p)
{
    config *c = p;
    px_strv_free(c->origins);
    px_strv_free(c->allow_headers);
    free(c->methods);
    free(c->allow_headers_joined);
    free(c->expose_headers);
    free(c);
}

static void *config_parse(const px_json *obj, char *err, size_t err_len)
{
    config *c = calloc(1, sizeof *c);
    char **methods = NULL, **expose = NULL;
    if (!c)
        return NULL;
    if (!px_json_get_strv(obj, "allow_origins", &c->origins, NULL) ||
        !px_json_get_strv(obj, "allow_methods", &methods, NULL) ||
        !px_json_get_strv(obj, "allow_headers", &c->allow_headers, NULL) ||
        !px_json_get_strv(obj, "expose_headers", &expose, NULL)) {
        snprintf(err, err_len, "allow_origins/allow_methods/allow_headers/expose_headers must be arrays of strings");
        px_strv_free(methods);
        px_strv_free(expose);
        config_free(c);
        return NULL;
    }
    if (!c->origins[0]) { /* default: any origin */
        px_strv_free(c->origins);
        c->origins = calloc(2, sizeof *c->origins);
        c->origins[0] = strdup("*");
    }
    for (char **o = c->origins; *o; o++)
        if (strcmp(*o, "*") == 0)
            c->any_origin = true;
    c->methods = methods[0] ? join(methods) : strdup("GET,PUT,POST,DELETE,PATCH,OPTIONS");
    c->allow_headers_joined = join(c->allow_headers);
    c->expose_headers = join(expose);
    c->credentials = px_json_get_bool(obj, "allow_credentials", false);
    c->forbid_disallowed = px_json_get_bool(obj, "forbid_disallowed", false);
    c->max_age = (int)px_json_get_num(obj, "max_age", 86400);
    px_strv_free(methods);
    px_strv_free(expose);
    if (c->credentials && c->any_origin && c->origins[1] == NULL)
        px_info("cors: allow_credentials with any origin: the request origin is echoed");
    return c;
}

static bool origin_allowed(const config *c, const char *origin)
{
    for (char **o = c->origins; *o; o++)
        if (px_glob_imatch(*o, origin))
            return true;
    return false;
}

/* The Access-Control-Allow-Origin value for an allowed origin. */
static const char *allow_origin_value(const config *c, const char *origin)
{
    return c->any_origin && !c->credentials ? "*" : origin;
}

/* Every requested header must be allowed (case-insensitive), unless "*". */
static bool headers_allowed(const config *c, const char *requested)
{
    if (!requested || !requested[0])
        return true;
    for (char **h = c->allow_headers; *h; h++)
        if (strcmp(*h, "*") == 0)
            return true;
    char *copy = strdup(requested), *save = NULL;
    bool ok = true;
    for (char *t = strtok_r(copy, ", ", &save); t && ok; t = strtok_r(NULL, ", ", &save)) {
        bool found = false;
        for (char **h = c->allow_headers; *h && !found; h++)
            found = px_str_ieq(*h, t);
        ok = found;
    }
    free(copy);
    return ok;
}

static bool method_allowed(const config *c, const char *m)
{
    char *copy = strdup(c->methods), *save = NULL;
    bool ok = false;
    for (char *t = strtok_r(copy, ",", &save); t && !ok; t = strtok_r(NULL, ",", &save))
        ok = strcmp(t, "*") == 0 || px_str_ieq(t, m);
    free(copy);
    return ok;
}

static px_headers_action preflight(const config *c, const char *origin)
{
    char *req_method = px_get_request_header("access-control-request-method");
    char *req_headers = px_get_request_header("access-control-request-headers");
    bool ok = origin_allowed(c, origin) && method_allowed(c, req_method) &&
              headers_allowed(c, req_headers);
    if (!ok) {
        px_reply(403, "CORS preflight rejected\n", "vary", "Origin", NULL);
    } else {
        px_pairs h;
        char age[16];
        px_pairs_init(&h);
        px_pairs_add(&h, "access-control-allow-origin", allow_origin_value(c, origin));
        px_pairs_add(&h, "access-control-allow-methods", c->methods);
        const char *allow_h = c->allow_headers_joined;
        if (strcmp(allow_h, "*") == 0 && req_headers) /* echo what was asked */
            allow_h = req_headers;
        if (allow_h[0])
            px_pairs_add(&h, "access-control-allow-headers", allow_h);
        snprintf(age, sizeof age, "%d", c->max_age);
        px_pairs_add(&h, "access-control-max-age", age);
        if (c->credentials)
            px_pairs_add(&h, "access-control-allow-credentials", "true");
        px_pairs_add(&h, "vary", "Origin");
        px_send_local_response(204, "cors_preflight", NULL, 0, &h, -1);
        px_pairs_free(&h);
    }
    free(req_method);
    free(req_headers);
    return PX_HEADERS_STOP_ALL_AND_WATERMARK;
}

static px_headers_action on_request_headers(px_context *ctx, uint32_t n, bool eos)
{
    (void)n;
    (void)eos;
    const config *c = px_config(ctx);
    char *origin = px_get_request_header("origin");
    if (!origin)
        return PX_HEADERS_CONTINUE; /* not a CORS request */
    char *method = px_get_request_header(":method");
    char *acrm = px_get_request_header("access-control-request-method");
    bool is_preflight = method && strcmp(method, "OPTIONS") == 0 && acrm;
    free(method);
    free(acrm);
    if (is_preflight) {
        px_headers_action a = preflight(c, origin);
        free(origin);
        return a;
    }
    if (!origin_allowed(c, origin)) {
        free(origin);
        if (c->forbid_disallowed) {
            px_reply(403, "CORS origin not allowed\n", NULL);
            return PX_HEADERS_STOP_ALL_AND_WATERMARK;
        }
        return PX_HEADERS_CONTINUE;
    }
    stream *s = calloc(1, sizeof *s);
    if (s) {
        s->origin = origin;
        ctx->data = s;
    } else {
        free(origin);
    }
    return PX_HEADERS_CONTINUE;
}

static px_headers_action on_response_headers(px_context *ctx, uint32_t n, bool eos)
{
    (void)n;
    (void)eos;
    const config *c = px_config(ctx);
    stream *s = ctx->data;
    if (!s)
        return PX_HEADERS_CONTINUE;
    px_replace_header(PX_MAP_RESPONSE_HEADERS, "access-control-allow-origin",
                      allow_origin_value(c, s->origin));
    if (c->credentials)
        px_replace_header(PX_MAP_RESPONSE_HEADERS, "access-control-allow-credentials", "true");
    if (c->expose_headers[0])
        px_replace_header(PX_MAP_RESPONSE_HEADERS, "access-control-expose-headers",
                          c->expose_headers);
    px_add_header(PX_MAP_RESPONSE_HEADERS, "vary", "Origin");
    return PX_HEADERS_CONTINUE;
}

static void on_delete(px_context *ctx)
{
    stream *s = ctx->data;
    if (s && ctx->root != ctx) {
        free(s->origin);
        free(s);
    }
    ctx->data = NULL;
}

const px_plugin px_plugin_def = {
    .name = "cors",
    .parse_config = config_parse,
    .free_config = config_free,
    .on_request_headers = on_request_headers,
    .on_response_headers = on_response_headers,
    .on_delete = on_delete,
};
