/*
 * request-block.c — proxy-wasm plugin: reject requests whose path, headers
 * or body contain configured substrings or match regular expressions
 * (Higress request-block configuration keys).
 *
 * Owns:     the block lists, the body buffering needed to scan bodies, the
 *           local reply (default 403).
 * Not here: rate limiting, auth.
 */
#include "proxy_wasm.h"

#include <ctype.h>
#include <regex.h>

typedef struct {
    regex_t *items;
    size_t count;
} regex_list;

typedef struct {
    char **urls, **exact_urls, **headers, **bodies;
    regex_list regexp_urls, regexp_headers, regexp_bodies;
    bool case_sensitive;
    uint32_t blocked_code;
    char *blocked_message;
} config;

static void free_regex_list(regex_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        regfree(&l->items[i]);
    free(l->items);
}

static void config_free(void *p)
{
    config *c = p;
    px_strv_free(c->urls);
    px_strv_free(c->exact_urls);
    px_strv_free(c->headers);
    px_strv_free(c->bodies);
    free_regex_list(&c->regexp_urls);
    free_regex_list(&c->regexp_headers);
    free_regex_list(&c->regexp_bodies);
    free(c->blocked_message);
    free(c);
}

static void lower_all(char **v)
{
    for (; v && *v; v++)
        for (char *s = *v; *s; s++)
            *s = (char)tolower((unsigned char)*s);
}

static bool compile_list(const px_json *obj, const char *key, bool icase, regex_list *out,
                         char *err, size_t err_len)
{
    char **pats;
    size_t n;
    if (!px_json_get_strv(obj, key, &pats, &n)) {
        snprintf(err, err_len, "%s must be an array of strings", key);
        return false;
    }
    out->items = calloc(n ? n : 1, sizeof *out->items);
    for (size_t i = 0; out->items && i < n; i++) {
        int rc = regcomp(&out->items[i], pats[i], REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0));
        if (rc) {
            snprintf(err, err_len, "%s[%zu]: invalid regular expression", key, i);
            px_strv_free(pats);
            return false;
        }
        out->count++;
    }
    px_strv_free(pats);
    return out->items != NULL;
}

static void *config_parse(const px_json *obj, char *err, size_t err_len)
{
    config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->case_sensitive = px_json_get_bool(obj, "case_sensitive", true);
    c->blocked_code = (uint32_t)px_json_get_num(obj, "blocked_code", 403);
    c->blocked_message = strdup(px_json_get_str(obj, "blocked_message", "request blocked\n"));
    if (c->blocked_code < 100 || c->blocked_code > 599) {
        snprintf(err, err_len, "blocked_code must be an HTTP status (100-599)");
        goto bad;
    }
    if (!px_json_get_strv(obj, "block_urls", &c->urls, NULL) ||
        !px_json_get_strv(obj, "block_exact_urls", &c->exact_urls, NULL) ||
        !px_json_get_strv(obj, "block_headers", &c->headers, NULL) ||
        !px_json_get_strv(obj, "block_bodies", &c->bodies, NULL)) {
        snprintf(err, err_len, "block_* lists must be arrays of strings");
        goto bad;
    }
    bool icase = !c->case_sensitive;
    if (!compile_list(obj, "block_regexp_urls", icase, &c->regexp_urls, err, err_len) ||
        !compile_list(obj, "block_regexp_headers", icase, &c->regexp_headers, err, err_len) ||
        !compile_list(obj, "block_regexp_bodies", icase, &c->regexp_bodies, err, err_len))
        goto bad;
    if (icase) {
        lower_all(c->urls);
        lower_all(c->exact_urls);
        lower_all(c->headers);
        lower_all(c->bodies);
    }
    return c;
bad:
    config_free(c);
    return NULL;
}

/* Folds s in place when the config is case-insensitive. */
static void fold(const config *c, char *s)
{
    if (!c->case_sensitive)
        for (; *s; s++)
            *s = (char)tolower((unsigned char)*s);
}

static bool contains_any(char **needles, const char *hay)
{
    for (; needles && *needles; needles++)
        if (**needles && strstr(hay, *needles))
            return true;
    return false;
}

static bool regex_any(const regex_list *l, const char *s)
{
    for (size_t i = 0; i < l->count; i++)
        if (regexec(&l->items[i], s, 0, NULL, 0) == 0)
            return true;
    return false;
}

static void block(const config *c, const char *why)
{
    px_info("request-block: blocked (%s)", why);
    px_reply(c->blocked_code, c->blocked_message, NULL);
}

static bool check_path(const config *c)
{
    char *path = px_get_request_header(":path");
    if (!path)
        return false;
    fold(c, path);
    bool hit = contains_any(c->urls, path) || regex_any(&c->regexp_urls, path);
    for (char **e = c->exact_urls; !hit && e && *e; e++) {
        size_t n = strcspn(path, "?");
        hit = strlen(*e) == n && strncmp(*e, path, n) == 0;
        hit = hit || strcmp(*e, path) == 0;
    }
    free(path);
    return hit;
}

static bool check_headers(const config *c)
{
    if (!c->headers[0] && c->regexp_headers.count == 0)
        return false;
    px_pairs h;
    if (px_get_header_pairs(PX_MAP_REQUEST_HEADERS, &h) != PX_OK)
        return false;
    bool hit = false;
    for (size_t i = 0; i < h.count && !hit; i++) {
        const px_pair *e = &h.items[i];
        char *line = malloc(e->key_len + e->value_len + 3);
        if (!line)
            break;
        snprintf(line, e->key_len + e->value_len + 3, "%s: %s", e->key, e->value);
        fold(c, line);
        hit = contains_any(c->headers, line) || regex_any(&c->regexp_headers, line);
        free(line);
    }
    px_pairs_free(&h);
    return hit;
}

static px_headers_action on_request_headers(px_context *ctx, uint32_t n, bool eos)
{
    (void)n;
    (void)eos;
    const config *c = px_config(ctx);
    if (check_path(c)) {
        block(c, "url");
        return PX_HEADERS_STOP_ALL_AND_WATERMARK;
    }
    if (check_headers(c)) {
        block(c, "header");
        return PX_HEADERS_STOP_ALL_AND_WATERMARK;
    }
    return PX_HEADERS_CONTINUE;
}

static px_data_action on_request_body(px_context *ctx, size_t size, bool eos)
{
    const config *c = px_config(ctx);
    if (!c->bodies[0] && c->regexp_bodies.count == 0)
        return PX_DATA_CONTINUE;
    if (!eos)
        return PX_DATA_STOP_AND_BUFFER; /* scan the whole body once */
    px_bytes body;
    if (px_get_buffer(PX_BUFFER_REQUEST_BODY, 0, size, &body) != PX_OK || !body.data)
        return PX_DATA_CONTINUE;
    /* bodies may hold NUL bytes: scan it as text up to the first NUL */
    fold(c, body.data);
    bool hit = contains_any(c->bodies, body.data) || regex_any(&c->regexp_bodies, body.data);
    px_bytes_free(&body);
    if (hit) {
        block(c, "body");
        return PX_DATA_STOP_NO_BUFFER;
    }
    return PX_DATA_CONTINUE;
}

const px_plugin px_plugin_def = {
    .name = "request-block",
    .parse_config = config_parse,
    .free_config = config_free,
    .on_request_headers = on_request_headers,
    .on_request_body = on_request_body,
};
