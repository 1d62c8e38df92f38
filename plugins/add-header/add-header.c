/*
 * add-header.c — proxy-wasm plugin: add, replace and remove request and
 * response headers from configuration.
 *
 * Owns:     the config keys request_add / request_set / request_remove and
 *           the response_* equivalents.
 * Not here: value templating, conditional rules (use _rules_ per route).
 */
#include "proxy_wasm.h"

#include <stdlib.h>

typedef struct {
    px_pairs add, set;
    char **remove;
} header_ops;

typedef struct {
    header_ops request, response;
} config;

static bool parse_object_pairs(const px_json *obj, const char *key, px_pairs *out, char *err,
                               size_t err_len)
{
    const px_json *o = px_json_get(obj, key);
    px_pairs_init(out);
    if (!o)
        return true;
    if (o->type != PX_JSON_OBJECT) {
        snprintf(err, err_len, "%s must be an object of header: value", key);
        return false;
    }
    for (size_t i = 0; i < o->count; i++) {
        const px_json *v = o->items[i];
        if (v->type != PX_JSON_STRING) {
            snprintf(err, err_len, "%s.%s must be a string", key, v->key);
            return false;
        }
        px_pairs_addn(out, v->key, v->key_len, v->string, v->string_len);
    }
    return true;
}

static void free_ops(header_ops *h)
{
    px_pairs_free(&h->add);
    px_pairs_free(&h->set);
    px_strv_free(h->remove);
}

static void config_free(void *p)
{
    config *c = p;
    free_ops(&c->request);
    free_ops(&c->response);
    free(c);
}

static bool parse_ops(const px_json *obj, const char *prefix, header_ops *h, char *err,
                      size_t err_len)
{
    char k[32];
    snprintf(k, sizeof k, "%s_add", prefix);
    if (!parse_object_pairs(obj, k, &h->add, err, err_len))
        return false;
    snprintf(k, sizeof k, "%s_set", prefix);
    if (!parse_object_pairs(obj, k, &h->set, err, err_len))
        return false;
    snprintf(k, sizeof k, "%s_remove", prefix);
    if (!px_json_get_strv(obj, k, &h->remove, NULL)) {
        snprintf(err, err_len, "%s must be an array of header names", k);
        return false;
    }
    return true;
}

static void *config_parse(const px_json *obj, char *err, size_t err_len)
{
    config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (!parse_ops(obj, "request", &c->request, err, err_len) ||
        !parse_ops(obj, "response", &c->response, err, err_len)) {
        config_free(c);
        return NULL;
    }
    return c;
}

static void apply(px_map_type map, const header_ops *h)
{
    for (char **r = h->remove; r && *r; r++)
        px_remove_header(map, *r);
    for (size_t i = 0; i < h->set.count; i++)
        px_replace_header(map, h->set.items[i].key, h->set.items[i].value);
    for (size_t i = 0; i < h->add.count; i++)
        px_add_header(map, h->add.items[i].key, h->add.items[i].value);
}

static px_headers_action on_request_headers(px_context *ctx, uint32_t n, bool eos)
{
    (void)n;
    (void)eos;
    const config *c = px_config(ctx);
    apply(PX_MAP_REQUEST_HEADERS, &c->request);
    return PX_HEADERS_CONTINUE;
}

static px_headers_action on_response_headers(px_context *ctx, uint32_t n, bool eos)
{
    (void)n;
    (void)eos;
    const config *c = px_config(ctx);
    apply(PX_MAP_RESPONSE_HEADERS, &c->response);
    return PX_HEADERS_CONTINUE;
}

const px_plugin px_plugin_def = {
    .name = "add-header",
    .parse_config = config_parse,
    .free_config = config_free,
    .on_request_headers = on_request_headers,
    .on_response_headers = on_response_headers,
};
