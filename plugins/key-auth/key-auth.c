/*
 * key-auth.c — proxy-wasm plugin: API-key authentication. Keys are looked
 * up in configured request headers and/or query parameters and mapped to
 * named consumers.
 *
 * Owns:     consumers {name, credential(s)}, key locations, 401/403.
 * Not here: key storage outside the configuration.
 */
#include "proxy_wasm.h"
#include "px_auth.h"

typedef struct {
    char *name;
    char **credentials;
} consumer;

typedef struct {
    consumer *consumers;
    size_t count;
    char **keys;
    bool in_header, in_query, hide_credentials;
    px_auth_common auth;
} config;

static void config_free(void *p)
{
    config *c = p;
    for (size_t i = 0; i < c->count; i++) {
        free(c->consumers[i].name);
        px_strv_free(c->consumers[i].credentials);
    }
    free(c->consumers);
    px_strv_free(c->keys);
    px_auth_common_free(&c->auth);
    free(c);
}

static void *config_parse(const px_json *obj, char *err, size_t err_len)
{
    config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    const px_json *cs = px_auth_consumers(obj, err, err_len);
    if (!cs)
        goto bad;
    c->consumers = calloc(cs->count, sizeof *c->consumers);
    for (size_t i = 0; c->consumers && i < cs->count; i++) {
        const px_json *o = cs->items[i];
        consumer *k = &c->consumers[c->count++];
        const char *name = px_json_get_str(o, "name", NULL);
        const char *cred = px_json_get_str(o, "credential", NULL);
        if (!name || !px_json_get_strv(o, "credentials", &k->credentials, NULL)) {
            snprintf(err, err_len, "consumers[%zu] needs a name and credential(s)", i);
            goto bad;
        }
        k->name = strdup(name);
        if (cred) { /* single "credential" joins the list */
            size_t n = 0;
            while (k->credentials[n])
                n++;
            char **v = realloc(k->credentials, (n + 2) * sizeof *v);
            if (!v)
                goto bad;
            v[n] = strdup(cred);
            v[n + 1] = NULL;
            k->credentials = v;
        }
        if (!k->credentials[0]) {
            snprintf(err, err_len, "consumers[%zu] has no credential", i);
            goto bad;
        }
    }
    if (!px_json_get_strv(obj, "keys", &c->keys, NULL)) {
        snprintf(err, err_len, "keys must be an array of names");
        goto bad;
    }
    if (!c->keys[0]) {
        px_strv_free(c->keys);
        c->keys = calloc(2, sizeof *c->keys);
        c->keys[0] = strdup("x-api-key");
    }
    c->in_header = px_json_get_bool(obj, "in_header", true);
    c->in_query = px_json_get_bool(obj, "in_query", false);
    c->hide_credentials = px_json_get_bool(obj, "hide_credentials", false);
    if (!c->in_header && !c->in_query) {
        snprintf(err, err_len, "at least one of in_header / in_query must be true");
        goto bad;
    }
    if (!px_auth_common_parse(obj, &c->auth, err, err_len))
        goto bad;
    return c;
bad:
    config_free(c);
    return NULL;
}

static const consumer *find_consumer(const config *c, const char *key)
{
    size_t kl = strlen(key);
    const consumer *found = NULL;
    for (size_t i = 0; i < c->count; i++)
        for (char **cr = c->consumers[i].credentials; *cr; cr++)
            if (strlen(*cr) == kl && px_ct_equal(*cr, key, kl) && !found)
                found = &c->consumers[i];
    return found;
}

static px_headers_action on_request_headers(px_context *ctx, uint32_t n, bool eos)
{
    (void)n;
    (void)eos;
    const config *c = px_config(ctx);
    char *key = NULL;
    const char *from_header = NULL;
    for (char **k = c->keys; *k && !key && c->in_header; k++)
        if ((key = px_get_request_header(*k)))
            from_header = *k;
    if (!key && c->in_query) {
        char *path = px_get_request_header(":path");
        for (char **k = c->keys; path && *k && !key; k++)
            key = px_query_param(path, *k);
        free(path);
    }
    if (!key || !key[0]) {
        free(key);
        char www[160];
        snprintf(www, sizeof www, "Key realm=\"%s\"", c->auth.realm);
        px_auth_unauthorized(www, "missing API key\n");
        return PX_HEADERS_STOP_ALL_AND_WATERMARK;
    }
    const consumer *who = find_consumer(c, key);
    free(key);
    if (!who) {
        char www[160];
        snprintf(www, sizeof www, "Key realm=\"%s\"", c->auth.realm);
        px_auth_unauthorized(www, "invalid API key\n");
        return PX_HEADERS_STOP_ALL_AND_WATERMARK;
    }
    if (!px_auth_accept(&c->auth, who->name))
        return PX_HEADERS_STOP_ALL_AND_WATERMARK;
    if (c->hide_credentials && from_header)
        px_remove_header(PX_MAP_REQUEST_HEADERS, from_header);
    return PX_HEADERS_CONTINUE;
}

const px_plugin px_plugin_def = {
    .name = "key-auth",
    .parse_config = config_parse,
    .free_config = config_free,
    .on_request_headers = on_request_headers,
};
