/*
 * oauth.c — proxy-wasm plugin: OAuth 2.0 client-credentials grant. A POST
 * (or GET) to the configured token path with client_id/client_secret
 * (form body, query or HTTP Basic) returns a signed HS256 JWT access
 * token; every other request must carry "Authorization: Bearer <token>".
 *
 * Owns:     the token endpoint, token claims, bearer validation.
 * Not here: other grant types, refresh tokens, revocation.
 */
#include "proxy_wasm.h"
#include "px_auth.h"

typedef struct {
    char *name, *client_id, *client_secret;
} consumer;

typedef struct {
    consumer *consumers;
    size_t count;
    char *issuer, *auth_path, *signing_key;
    int64_t token_ttl, clock_skew;
    bool keep_token;
    px_auth_common auth;
} config;

typedef struct {
    bool token_request;
} stream;

static void config_free(void *p)
{
    config *c = p;
    for (size_t i = 0; i < c->count; i++) {
        free(c->consumers[i].name);
        free(c->consumers[i].client_id);
        free(c->consumers[i].client_secret);
    }
    free(c->consumers);
    free(c->issuer);
    free(c->auth_path);
    free(c->signing_key);
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
        const char *name = px_json_get_str(o, "name", NULL);
        const char *id = px_json_get_str(o, "client_id", NULL);
        const char *secret = px_json_get_str(o, "client_secret", NULL);
        if (!name || !id || !secret || !id[0] || !secret[0]) {
            snprintf(err, err_len, "consumers[%zu] needs name, client_id, client_secret", i);
            goto bad;
        }
        if (strpbrk(name, "\"\\") || strpbrk(id, "\"\\")) {
            snprintf(err, err_len, "consumers[%zu]: name and client_id must not contain '\"' or '\\'", i);
            goto bad;
        }
        consumer *k = &c->consumers[c->count++];
        k->name = strdup(name);
        k->client_id = strdup(id);
        k->client_secret = strdup(secret);
    }
    const char *key = px_json_get_str(obj, "signing_key", NULL);
    if (!key || strlen(key) < 16) {
        snprintf(err, err_len, "signing_key is required (at least 16 bytes)");
        goto bad;
    }
    c->signing_key = strdup(key);
    c->issuer = strdup(px_json_get_str(obj, "issuer", "sluice"));
    if (strpbrk(c->issuer, "\"\\")) {
        snprintf(err, err_len, "issuer must not contain '\"' or '\\'");
        goto bad;
    }
    c->auth_path = strdup(px_json_get_str(obj, "auth_path", "/oauth2/token"));
    c->token_ttl = (int64_t)px_json_get_num(obj, "token_ttl", 7200);
    c->clock_skew = (int64_t)px_json_get_num(obj, "clock_skew_seconds", 60);
    c->keep_token = px_json_get_bool(obj, "keep_token", true);
    if (c->token_ttl <= 0) {
        snprintf(err, err_len, "token_ttl must be positive");
        goto bad;
    }
    if (!px_auth_common_parse(obj, &c->auth, err, err_len))
        goto bad;
    return c;
bad:
    config_free(c);
    return NULL;
}

static void json_reply(uint32_t status, const char *body)
{
    px_reply(status, body, "content-type", "application/json", "cache-control", "no-store",
             NULL);
}

/* Looks a client up; constant-time on the secret. */
static const consumer *find_client(const config *c, const char *id, const char *secret)
{
    const consumer *who = NULL;
    for (size_t i = 0; i < c->count; i++) {
        const consumer *k = &c->consumers[i];
        if (strcmp(k->client_id, id) != 0)
            continue;
        size_t sl = strlen(secret);
        if (strlen(k->client_secret) == sl && px_ct_equal(k->client_secret, secret, sl))
            who = k;
    }
    return who;
}

/* Answers a token request whose parameters are in form ("?a=b&c=d"). */
static void issue_token(const config *c, const char *form)
{
    char *grant = px_query_param(form, "grant_type");
    char *id = px_query_param(form, "client_id");
    char *secret = px_query_param(form, "client_secret");
    if ((!id || !secret)) { /* client_secret_basic */
        char *h = px_get_request_header("authorization");
        if (h && strncasecmp(h, "Basic ", 6) == 0) {
            size_t l = strlen(h + 6);
            char *dec = malloc(l + 1);
            size_t dl;
            if (dec && px_base64_decode(h + 6, l, dec, &dl, false)) {
                dec[dl] = '\0';
                char *colon = strchr(dec, ':');
                if (colon) {
                    free(id);
                    free(secret);
                    id = px_strndup(dec, (size_t)(colon - dec));
                    secret = strdup(colon + 1);
                }
            }
            free(dec);
        }
        free(h);
    }
    if (!grant || strcmp(grant, "client_credentials") != 0) {
        json_reply(400, "{\"error\":\"unsupported_grant_type\"}");
    } else if (!id || !secret) {
        json_reply(400, "{\"error\":\"invalid_request\"}");
    } else {
        const consumer *who = find_client(c, id, secret);
        if (!who) {
            json_reply(401, "{\"error\":\"invalid_client\"}");
        } else {
            int64_t now = px_now_seconds();
            char payload[512];
            snprintf(payload, sizeof payload,
                     "{\"iss\":\"%s\",\"sub\":\"%s\",\"client_id\":\"%s\",\"iat\":%lld,\"exp\":%lld}",
                     c->issuer, who->name, who->client_id, (long long)now,
                     (long long)(now + c->token_ttl));
            char *jwt = px_jwt_sign_hs256(NULL, payload, c->signing_key, strlen(c->signing_key));
            char *body = jwt ? malloc(strlen(jwt) + 128) : NULL;
            if (body) {
                sprintf(body, "{\"token_type\":\"bearer\",\"access_token\":\"%s\",\"expires_in\":%lld}",
                        jwt, (long long)c->token_ttl);
                json_reply(200, body);
            } else {
                json_reply(500, "{\"error\":\"server_error\"}");
            }
            free(body);
            free(jwt);
        }
    }
    free(grant);
    free(id);
    free(secret);
}

static bool is_token_path(const config *c, const char *path)
{
    size_t n = strcspn(path, "?"), al = strlen(c->auth_path);
    return n >= al && memcmp(path + n - al, c->auth_path, al) == 0;
}

static px_headers_action deny(const config *c, const char *msg)
{
    char www[200];
    snprintf(www, sizeof www, "Bearer realm=\"%s\", error=\"invalid_token\"", c->auth.realm);
    px_auth_unauthorized(www, msg);
    return PX_HEADERS_STOP_ALL_AND_WATERMARK;
}

static px_headers_action validate_bearer(const config *c)
{
    char *h = px_get_request_header("authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
        free(h);
        return deny(c, "missing bearer token\n");
    }
    px_json *claims = NULL;
    const char *tok = h + 7;
    px_jwt_result r = px_jwt_verify_hs256(tok, strlen(tok), c->signing_key,
                                          strlen(c->signing_key), px_now_seconds(),
                                          c->clock_skew, &claims);
    free(h);
    const consumer *who = NULL;
    /* every token we issue has exp: one without it never expires, refuse it */
    if (r == PX_JWT_OK && strcmp(px_json_get_str(claims, "iss", ""), c->issuer) == 0 &&
        px_json_get(claims, "exp")) {
        const char *id = px_json_get_str(claims, "client_id", "");
        for (size_t i = 0; i < c->count && !who; i++)
            if (strcmp(c->consumers[i].client_id, id) == 0)
                who = &c->consumers[i];
    }
    px_json_free(claims);
    if (!who)
        return deny(c, r == PX_JWT_EXPIRED ? "token expired\n" : "invalid token\n");
    if (!px_auth_accept(&c->auth, who->name))
        return PX_HEADERS_STOP_ALL_AND_WATERMARK;
    if (!c->keep_token)
        px_remove_header(PX_MAP_REQUEST_HEADERS, "authorization");
    return PX_HEADERS_CONTINUE;
}

static px_headers_action on_request_headers(px_context *ctx, uint32_t n, bool eos)
{
    (void)n;
    const config *c = px_config(ctx);
    char *path = px_get_request_header(":path");
    if (!path)
        return deny(c, "no path\n");
    if (!is_token_path(c, path)) {
        free(path);
        return validate_bearer(c);
    }
    char *method = px_get_request_header(":method");
    bool post = method && strcmp(method, "POST") == 0;
    free(method);
    if (post && !eos) { /* parameters in the body: wait for it */
        stream *s = calloc(1, sizeof *s);
        if (s)
            s->token_request = true;
        ctx->data = s;
        free(path);
        return PX_HEADERS_CONTINUE;
    }
    const char *q = strchr(path, '?');
    issue_token(c, q ? q : "?");
    free(path);
    return PX_HEADERS_STOP_ALL_AND_WATERMARK;
}

static px_data_action on_request_body(px_context *ctx, size_t size, bool eos)
{
    stream *s = ctx->data;
    if (!s || !s->token_request)
        return PX_DATA_CONTINUE;
    if (!eos)
        return PX_DATA_STOP_AND_BUFFER;
    px_bytes body;
    px_get_buffer(PX_BUFFER_REQUEST_BODY, 0, size, &body);
    char *form = malloc(body.len + 2);
    if (form) {
        form[0] = '?';
        memcpy(form + 1, body.data ? body.data : "", body.len);
        form[body.len + 1] = '\0';
        issue_token(px_config(ctx), form);
        free(form);
    }
    px_bytes_free(&body);
    s->token_request = false;
    return PX_DATA_STOP_NO_BUFFER;
}

static void on_delete(px_context *ctx)
{
    if (ctx->root != ctx)
        free(ctx->data);
    ctx->data = NULL;
}

const px_plugin px_plugin_def = {
    .name = "oauth",
    .parse_config = config_parse,
    .free_config = config_free,
    .on_request_headers = on_request_headers,
    .on_request_body = on_request_body,
    .on_delete = on_delete,
};
