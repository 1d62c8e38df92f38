/*
 * hmac-auth.c — proxy-wasm plugin: request signing with HMAC-SHA256.
 * A client signs the method, path, its access key, the Date header and a
 * list of headers with its secret key; the plugin recomputes and compares
 * in constant time and enforces a clock-skew window.
 *
 * Owns:     the signing-string layout (README.md), consumers
 *           {name, access_key, secret_key}, 401/403 decisions.
 * Not here: body digests, replay caches.
 */
#include "proxy_wasm.h"
#include "px_auth.h"

#include <ctype.h>

typedef struct {
    char *name, *access_key, *secret_key;
} consumer;

typedef struct {
    consumer *consumers;
    size_t count;
    char **signed_headers;  /* headers every request must sign */
    int64_t clock_skew;
    px_auth_common auth;
} config;

static void config_free(void *p)
{
    config *c = p;
    for (size_t i = 0; i < c->count; i++) {
        free(c->consumers[i].name);
        free(c->consumers[i].access_key);
        free(c->consumers[i].secret_key);
    }
    free(c->consumers);
    px_strv_free(c->signed_headers);
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
        const char *ak = px_json_get_str(o, "access_key", NULL);
        const char *sk = px_json_get_str(o, "secret_key", NULL);
        if (!name || !ak || !sk || !ak[0] || !sk[0]) {
            snprintf(err, err_len, "consumers[%zu] needs name, access_key and secret_key", i);
            goto bad;
        }
        consumer *k = &c->consumers[c->count++];
        k->name = strdup(name);
        k->access_key = strdup(ak);
        k->secret_key = strdup(sk);
    }
    if (!px_json_get_strv(obj, "signed_headers", &c->signed_headers, NULL)) {
        snprintf(err, err_len, "signed_headers must be an array of header names");
        goto bad;
    }
    c->clock_skew = (int64_t)px_json_get_num(obj, "clock_skew", 300);
    if (!px_auth_common_parse(obj, &c->auth, err, err_len))
        goto bad;
    return c;
bad:
    config_free(c);
    return NULL;
}

/* Appends s and a newline to a growing buffer. */
static bool append_line(char **buf, size_t *len, const char *a, const char *b)
{
    size_t al = strlen(a), bl = b ? strlen(b) : 0;
    char *n = realloc(*buf, *len + al + bl + 3);
    if (!n)
        return false;
    memcpy(n + *len, a, al);
    *len += al;
    if (b) {
        n[(*len)++] = ':';
        memcpy(n + *len, b, bl);
        *len += bl;
    }
    n[(*len)++] = '\n';
    n[*len] = '\0';
    *buf = n;
    return true;
}

static bool list_has(const char *list, const char *name)
{
    char *copy = strdup(list), *save = NULL;
    bool found = false;
    for (char *t = strtok_r(copy, ";, ", &save); t && !found; t = strtok_r(NULL, ";, ", &save))
        found = px_str_ieq(t, name);
    free(copy);
    return found;
}

static px_headers_action deny(const config *c, const char *msg)
{
    char www[160];
    snprintf(www, sizeof www, "HMAC-SHA256 realm=\"%s\"", c->auth.realm);
    px_auth_unauthorized(www, msg);
    return PX_HEADERS_STOP_ALL_AND_WATERMARK;
}

static px_headers_action on_request_headers(px_context *ctx, uint32_t n, bool eos)
{
    (void)n;
    (void)eos;
    const config *c = px_config(ctx);
    char *ak = px_get_request_header("x-hmac-access-key");
    char *sig = px_get_request_header("x-hmac-signature");
    char *date = px_get_request_header("date");
    char *listed = px_get_request_header("x-hmac-signed-headers");
    char *method = px_get_request_header(":method");
    char *path = px_get_request_header(":path");
    char *signing = NULL;
    size_t slen = 0;
    px_headers_action result = PX_HEADERS_STOP_ALL_AND_WATERMARK;
    const consumer *who = NULL;
    int64_t t;

    if (!ak || !sig || !date || !method || !path) {
        result = deny(c, "missing x-hmac-access-key, x-hmac-signature or date\n");
        goto done;
    }
    if (!px_parse_http_date(date, &t)) {
        result = deny(c, "unparsable date\n");
        goto done;
    }
    int64_t now = px_now_seconds();
    if (t > now + c->clock_skew || t < now - c->clock_skew) {
        result = deny(c, "date outside the allowed clock skew\n");
        goto done;
    }
    for (char **h = c->signed_headers; *h; h++) {
        if (!listed || !list_has(listed, *h)) {
            result = deny(c, "a required header is not signed\n");
            goto done;
        }
        /* Signing an absent header as "" would let a request without the
         * required header (e.g. the nonce) through. */
        char lower[128];
        size_t n = strlen(*h);
        if (n >= sizeof lower)
            n = sizeof lower - 1;
        for (size_t i = 0; i < n; i++)
            lower[i] = (char)tolower((unsigned char)(*h)[i]);
        lower[n] = '\0';
        char *v = px_get_request_header(lower);
        free(v);
        if (!v) {
            result = deny(c, "a required header is missing\n");
            goto done;
        }
    }
    for (size_t i = 0; i < c->count && !who; i++)
        if (strcmp(c->consumers[i].access_key, ak) == 0)
            who = &c->consumers[i];
    if (!who) {
        result = deny(c, "unknown access key\n");
        goto done;
    }
    if (!append_line(&signing, &slen, method, NULL) || !append_line(&signing, &slen, path, NULL) ||
        !append_line(&signing, &slen, ak, NULL) || !append_line(&signing, &slen, date, NULL))
        goto done;
    if (listed) {
        char *copy = strdup(listed), *save = NULL;
        for (char *name = strtok_r(copy, ";, ", &save); name; name = strtok_r(NULL, ";, ", &save)) {
            for (char *q = name; *q; q++)
                *q = (char)tolower((unsigned char)*q);
            char *v = px_get_request_header(name);
            append_line(&signing, &slen, name, v ? v : "");
            free(v);
        }
        free(copy);
    }
    uint8_t mac[PX_SHA256_LEN];
    px_hmac_sha256(who->secret_key, strlen(who->secret_key), signing, slen, mac);
    uint8_t given[64];
    size_t gl = 0;
    size_t sl = strlen(sig);
    if (sl > 88 || !px_base64_decode(sig, sl, given, &gl, false) || gl != PX_SHA256_LEN ||
        !px_ct_equal(given, mac, PX_SHA256_LEN)) {
        result = deny(c, "signature mismatch\n");
        goto done;
    }
    if (px_auth_accept(&c->auth, who->name))
        result = PX_HEADERS_CONTINUE;
done:
    free(ak);
    free(sig);
    free(date);
    free(listed);
    free(method);
    free(path);
    free(signing);
    return result;
}

const px_plugin px_plugin_def = {
    .name = "hmac-auth",
    .parse_config = config_parse,
    .free_config = config_free,
    .on_request_headers = on_request_headers,
};
