/*
 * basic-auth.c — proxy-wasm plugin: HTTP Basic authentication (RFC 7617)
 * against consumers configured as "user:password".
 *
 * Owns:     Authorization header parsing, credential comparison, 401 with
 *           WWW-Authenticate: Basic realm, 403 for consumers not allowed.
 * Not here: password hashing (credentials are configured in clear text).
 */
#include "proxy_wasm.h"
#include "px_auth.h"

typedef struct {
    char *name;
    char *credential; /* "user:password" */
} consumer;

typedef struct {
    consumer *consumers;
    size_t count;
    bool hide_credentials;
    px_auth_common auth;
} config;

static void config_free(void *p)
{
    config *c = p;
    for (size_t i = 0; i < c->count; i++) {
        free(c->consumers[i].name);
        free(c->consumers[i].credential);
    }
    free(c->consumers);
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
        const char *cred = px_json_get_str(cs->items[i], "credential", NULL);
        const char *name = px_json_get_str(cs->items[i], "name", NULL);
        if (!cred || !strchr(cred, ':')) {
            snprintf(err, err_len, "consumers[%zu].credential must be \"user:password\"", i);
            goto bad;
        }
        consumer *k = &c->consumers[c->count++];
        k->credential = strdup(cred);
        /* default consumer name: the user part */
        k->name = name ? strdup(name) : px_strndup(cred, strcspn(cred, ":"));
    }
    c->hide_credentials = px_json_get_bool(obj, "hide_credentials", false);
    if (!px_auth_common_parse(obj, &c->auth, err, err_len))
        goto bad;
    return c;
bad:
    config_free(c);
    return NULL;
}

static px_headers_action deny(const config *c, const char *msg)
{
    char www[160];
    snprintf(www, sizeof www, "Basic realm=\"%s\"", c->auth.realm);
    px_auth_unauthorized(www, msg);
    return PX_HEADERS_STOP_ALL_AND_WATERMARK;
}

static px_headers_action on_request_headers(px_context *ctx, uint32_t n, bool eos)
{
    (void)n;
    (void)eos;
    const config *c = px_config(ctx);
    char *h = px_get_request_header("authorization");
    if (!h)
        return deny(c, "missing credentials\n");
    const char *p = h;
    if (strncasecmp(p, "Basic ", 6) != 0) {
        free(h);
        return deny(c, "authorization scheme must be Basic\n");
    }
    p += 6;
    while (*p == ' ')
        p++;
    size_t len = strlen(p);
    char *decoded = malloc(len + 1);
    size_t dl = 0;
    bool ok = decoded && px_base64_decode(p, len, decoded, &dl, false);
    free(h);
    if (!ok) {
        free(decoded);
        return deny(c, "malformed Basic credentials\n");
    }
    const consumer *who = NULL;
    for (size_t i = 0; i < c->count; i++) {
        const char *cred = c->consumers[i].credential;
        if (strlen(cred) == dl && px_ct_equal(cred, decoded, dl) && !who)
            who = &c->consumers[i];
    }
    free(decoded);
    if (!who)
        return deny(c, "invalid username or password\n");
    if (!px_auth_accept(&c->auth, who->name))
        return PX_HEADERS_STOP_ALL_AND_WATERMARK;
    if (c->hide_credentials)
        px_remove_header(PX_MAP_REQUEST_HEADERS, "authorization");
    return PX_HEADERS_CONTINUE;
}

const px_plugin px_plugin_def = {
    .name = "basic-auth",
    .parse_config = config_parse,
    .free_config = config_free,
    .on_request_headers = on_request_headers,
};
