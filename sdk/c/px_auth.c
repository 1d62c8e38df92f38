/*
 * px_auth.c — shared allow-list / consumer-header / reply logic for the
 * auth plugins.
 *
 * Owns:     what px_auth.h declares.
 * Not here: credentials.
 */
#include "px_auth.h"

#include "proxy_wasm.h"

const px_json *px_auth_consumers(const px_json *obj, char *err, size_t err_len)
{
    const px_json *cs = px_json_get(obj, "consumers");
    if (!cs || cs->type != PX_JSON_ARRAY || cs->count == 0) {
        snprintf(err, err_len, "consumers must be a non-empty array");
        return NULL;
    }
    return cs;
}

bool px_auth_common_parse(const px_json *obj, px_auth_common *a, char *err, size_t err_len)
{
    memset(a, 0, sizeof *a);
    if (!px_json_get_strv(obj, "allow", &a->allow, NULL)) {
        snprintf(err, err_len, "allow must be an array of consumer names");
        return false;
    }
    a->consumer_header = strdup(px_json_get_str(obj, "consumer_header", "x-mse-consumer"));
    a->realm = strdup(px_json_get_str(obj, "realm", "sluice"));
    return a->consumer_header && a->realm;
}

void px_auth_common_free(px_auth_common *a)
{
    px_strv_free(a->allow);
    free(a->consumer_header);
    free(a->realm);
    memset(a, 0, sizeof *a);
}

void px_auth_unauthorized(const char *www_authenticate, const char *message)
{
    if (www_authenticate)
        px_reply(401, message, "www-authenticate", www_authenticate, NULL);
    else
        px_reply(401, message, NULL);
}

bool px_auth_accept(const px_auth_common *a, const char *consumer)
{
    if (a->allow && a->allow[0]) {
        bool ok = false;
        for (char **p = a->allow; *p && !ok; p++)
            ok = strcmp(*p, consumer) == 0;
        if (!ok) {
            px_reply(403, "consumer not allowed on this route\n", NULL);
            return false;
        }
    }
    if (a->consumer_header && a->consumer_header[0])
        px_replace_header(PX_MAP_REQUEST_HEADERS, a->consumer_header, consumer);
    return true;
}
