/*
 * jwt-auth.c — proxy-wasm plugin: JWT (HS256) authentication. Tokens come
 * from headers (with a prefix such as "Bearer "), query parameters or
 * cookies; each consumer has a shared secret; exp/nbf are enforced with a
 * clock skew; selected claims are copied into request headers.
 *
 * Owns:     token extraction, consumer matching, claims → headers.
 * Not here: RS256/ES256/JWKS (px_jwt.h supports HS256 only).
 */
#include "proxy_wasm.h"
#include "px_auth.h"

typedef struct {
    char *name, *issuer;
    char *secret;
    size_t secret_len;
} consumer;

typedef struct {
    char *name, *prefix;
} header_source;

typedef struct {
    char *claim, *header;
    bool override;
} claim_header;

typedef struct {
    consumer *consumers;
    size_t count;
    header_source *headers;
    size_t n_headers;
    char **params, **cookies;
    claim_header *claims;
    size_t n_claims;
    int64_t clock_skew;
    bool keep_token;
    px_auth_common auth;
} config;

static void config_free(void *p)
{
    config *c = p;
    for (size_t i = 0; i < c->count; i++) {
        free(c->consumers[i].name);
        free(c->consumers[i].issuer);
        free(c->consumers[i].secret);
    }
    free(c->consumers);
    for (size_t i = 0; i < c->n_headers; i++) {
        free(c->headers[i].name);
        free(c->headers[i].prefix);
    }
    free(c->headers);
    for (size_t i = 0; i < c->n_claims; i++) {
        free(c->claims[i].claim);
        free(c->claims[i].header);
    }
    free(c->claims);
    px_strv_free(c->params);
    px_strv_free(c->cookies);
    px_auth_common_free(&c->auth);
    free(c);
}

static bool parse_consumers(config *c, const px_json *cs, char *err, size_t err_len)
{
    if (!cs)
        return false; /* err set by px_auth_consumers */
    c->consumers = calloc(cs->count, sizeof *c->consumers);
    for (size_t i = 0; c->consumers && i < cs->count; i++) {
        const px_json *o = cs->items[i];
        const char *name = px_json_get_str(o, "name", NULL);
        const char *secret = px_json_get_str(o, "secret", NULL);
        const char *iss = px_json_get_str(o, "issuer", NULL);
        if (!name || !secret || !secret[0]) {
            snprintf(err, err_len, "consumers[%zu] needs name and secret", i);
            return false;
        }
        consumer *k = &c->consumers[c->count++];
        k->name = strdup(name);
        k->issuer = iss ? strdup(iss) : NULL;
        size_t sl = strlen(secret);
        k->secret = malloc(sl + 1);
        if (!k->secret)
            return false;
        if (px_json_get_bool(o, "secret_base64", false)) {
            bool url = strpbrk(secret, "-_") != NULL;
            if (!px_base64_decode(secret, sl, k->secret, &k->secret_len, url)) {
                snprintf(err, err_len, "consumers[%zu].secret is not valid base64", i);
                return false;
            }
        } else {
            memcpy(k->secret, secret, sl + 1);
            k->secret_len = sl;
        }
    }
    return c->consumers != NULL;
}

static void *config_parse(const px_json *obj, char *err, size_t err_len)
{
    config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (!parse_consumers(c, px_auth_consumers(obj, err, err_len), err, err_len))
        goto bad;
    const px_json *fh = px_json_get(obj, "from_headers");
    size_t nh = fh && fh->type == PX_JSON_ARRAY ? fh->count : 0;
    c->headers = calloc(nh ? nh : 1, sizeof *c->headers);
    if (!c->headers)
        goto bad;
    for (size_t i = 0; i < nh; i++) {
        const char *name = px_json_get_str(fh->items[i], "name", NULL);
        if (!name) {
            snprintf(err, err_len, "from_headers[%zu].name is required", i);
            goto bad;
        }
        c->headers[i].name = strdup(name);
        c->headers[i].prefix = strdup(px_json_get_str(fh->items[i], "value_prefix", ""));
        c->n_headers++;
    }
    if (!px_json_get_strv(obj, "from_params", &c->params, NULL) ||
        !px_json_get_strv(obj, "from_cookies", &c->cookies, NULL)) {
        snprintf(err, err_len, "from_params / from_cookies must be arrays of names");
        goto bad;
    }
    if (!fh && !c->params[0] && !c->cookies[0]) { /* default: Authorization: Bearer */
        c->headers[0].name = strdup("authorization");
        c->headers[0].prefix = strdup("Bearer ");
        c->n_headers = 1;
    }
    const px_json *ch = px_json_get(obj, "claims_to_headers");
    size_t nc = ch && ch->type == PX_JSON_ARRAY ? ch->count : 0;
    c->claims = calloc(nc ? nc : 1, sizeof *c->claims);
    if (!c->claims)
        goto bad;
    for (size_t i = 0; i < nc; i++) {
        const char *claim = px_json_get_str(ch->items[i], "claim", NULL);
        const char *header = px_json_get_str(ch->items[i], "header", NULL);
        if (!claim || !header) {
            snprintf(err, err_len, "claims_to_headers[%zu] needs claim and header", i);
            goto bad;
        }
        c->claims[i].claim = strdup(claim);
        c->claims[i].header = strdup(header);
        c->claims[i].override = px_json_get_bool(ch->items[i], "override", true);
        c->n_claims++;
    }
    c->clock_skew = (int64_t)px_json_get_num(obj, "clock_skew_seconds", 60);
    c->keep_token = px_json_get_bool(obj, "keep_token", true);
    if (!px_auth_common_parse(obj, &c->auth, err, err_len))
        goto bad;
    return c;
bad:
    config_free(c);
    return NULL;
}

/* The token and, when it came from a header, that header's name. */
static char *find_token(const config *c, const char **from_header)
{
    *from_header = NULL;
    for (size_t i = 0; i < c->n_headers; i++) {
        char *v = px_get_request_header(c->headers[i].name);
        if (!v)
            continue;
        size_t pl = strlen(c->headers[i].prefix);
        if (strncasecmp(v, c->headers[i].prefix, pl) == 0 && v[pl]) {
            char *t = strdup(v + pl);
            free(v);
            *from_header = c->headers[i].name;
            return t;
        }
        free(v);
    }
    if (c->params[0]) {
        char *path = px_get_request_header(":path");
        for (char **p = c->params; path && *p; p++) {
            char *t = px_query_param(path, *p);
            if (t && t[0]) {
                free(path);
                return t;
            }
            free(t);
        }
        free(path);
    }
    if (c->cookies[0]) {
        char *cookie = px_get_request_header("cookie");
        for (char **k = c->cookies; cookie && *k; k++) {
            char *t = px_cookie_value(cookie, *k);
            if (t && t[0]) {
                free(cookie);
                return t;
            }
            free(t);
        }
        free(cookie);
    }
    return NULL;
}

static void claims_to_headers(const config *c, const px_json *claims)
{
    for (size_t i = 0; i < c->n_claims; i++) {
        const px_json *v = px_json_get(claims, c->claims[i].claim);
        char num[32];
        const char *text = NULL;
        if (!v)
            ; /* absent: text stays NULL */
        else if (v->type == PX_JSON_STRING)
            text = v->string;
        else if (v->type == PX_JSON_NUMBER) {
            snprintf(num, sizeof num, "%.15g", v->number);
            text = num;
        } else if (v->type == PX_JSON_BOOL)
            text = v->boolean ? "true" : "false";
        /* A claim that cannot be a header value (CR, LF, other controls)
         * is skipped: copying it would make the request head invalid. */
        for (const char *q = text; q && *q; q++)
            if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f) {
                text = NULL;
                break;
            }
        if (!text) {
            /* override: the header must not keep a client-sent value */
            if (c->claims[i].override)
                px_remove_header(PX_MAP_REQUEST_HEADERS, c->claims[i].header);
            continue;
        }
        if (c->claims[i].override)
            px_replace_header(PX_MAP_REQUEST_HEADERS, c->claims[i].header, text);
        else
            px_add_header(PX_MAP_REQUEST_HEADERS, c->claims[i].header, text);
    }
}

static px_headers_action deny(const config *c, const char *error, const char *msg)
{
    char www[200];
    if (error)
        snprintf(www, sizeof www, "Bearer realm=\"%s\", error=\"%s\"", c->auth.realm, error);
    else
        snprintf(www, sizeof www, "Bearer realm=\"%s\"", c->auth.realm);
    px_auth_unauthorized(www, msg);
    return PX_HEADERS_STOP_ALL_AND_WATERMARK;
}

static px_headers_action on_request_headers(px_context *ctx, uint32_t n, bool eos)
{
    (void)n;
    (void)eos;
    const config *c = px_config(ctx);
    const char *from_header;
    char *token = find_token(c, &from_header);
    if (!token)
        return deny(c, NULL, "missing JWT\n");
    int64_t now = px_now_seconds();
    px_jwt_result r = PX_JWT_BAD_SIGNATURE;
    px_json *claims = NULL;
    const consumer *who = NULL;
    for (size_t i = 0; i < c->count; i++) {
        px_json *pl = NULL;
        px_jwt_result ri = px_jwt_verify_hs256(token, strlen(token), c->consumers[i].secret,
                                               c->consumers[i].secret_len, now, c->clock_skew,
                                               &pl);
        if (ri == PX_JWT_BAD_SIGNATURE)
            continue;
        if (ri == PX_JWT_OK && c->consumers[i].issuer &&
            strcmp(px_json_get_str(pl, "iss", ""), c->consumers[i].issuer) != 0) {
            px_json_free(pl);
            continue; /* same secret, other issuer: not this consumer */
        }
        r = ri;
        claims = pl;
        who = &c->consumers[i];
        break;
    }
    free(token);
    if (r != PX_JWT_OK) {
        px_json_free(claims);
        char msg[64];
        snprintf(msg, sizeof msg, "invalid JWT: %s\n", px_jwt_result_str(r));
        return deny(c, "invalid_token", msg);
    }
    px_headers_action a = PX_HEADERS_STOP_ALL_AND_WATERMARK;
    if (px_auth_accept(&c->auth, who->name)) {
        claims_to_headers(c, claims);
        if (!c->keep_token && from_header)
            px_remove_header(PX_MAP_REQUEST_HEADERS, from_header);
        a = PX_HEADERS_CONTINUE;
    }
    px_json_free(claims);
    return a;
}

const px_plugin px_plugin_def = {
    .name = "jwt-auth",
    .parse_config = config_parse,
    .free_config = config_free,
    .on_request_headers = on_request_headers,
};
