/*
 * bot-detect.c — proxy-wasm plugin: classify the User-Agent with regular
 * expressions (POSIX extended, case-insensitive): allow list first, then
 * the configured deny list, then a built-in list of common crawlers and
 * scanners.
 *
 * Owns:     the pattern lists and the default deny list, the 403 reply.
 * Not here: behavioural bot detection (rates, fingerprints).
 */
#include "proxy_wasm.h"

#include <regex.h>

/* Built-in deny list (disable with "use_default_deny": false). */
static const char *const DEFAULT_DENY[] = {
    "[a-z0-9_-]*bot([/ ;)+]|$)", "spider", "crawl", "slurp", "scrapy", "headlesschrome",
    "phantomjs", "nikto", "sqlmap", "masscan", "zgrab", "nmap scripting engine", "semrush",
    "ahrefs", "petalbot", "bytespider", "yandex", "baiduspider", "facebookexternalhit",
    "python-urllib", "libwww-perl", "go-http-client/1\\.1$", NULL};

typedef struct {
    regex_t *items;
    char **sources;
    size_t count;
} pattern_list;

typedef struct {
    pattern_list allow, deny;
    uint32_t blocked_code;
    char *blocked_message;
    bool block_empty;
} config;

static void free_list(pattern_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        regfree(&l->items[i]);
        free(l->sources[i]);
    }
    free(l->items);
    free(l->sources);
}

static void config_free(void *p)
{
    config *c = p;
    free_list(&c->allow);
    free_list(&c->deny);
    free(c->blocked_message);
    free(c);
}

static bool add_pattern(pattern_list *l, const char *src, char *err, size_t err_len)
{
    regex_t *items = realloc(l->items, (l->count + 1) * sizeof *items);
    if (!items)
        return false;
    l->items = items;
    char **sources = realloc(l->sources, (l->count + 1) * sizeof *sources);
    if (!sources)
        return false;
    l->sources = sources;
    if (regcomp(&l->items[l->count], src, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0) {
        snprintf(err, err_len, "invalid regular expression: %s", src);
        return false;
    }
    l->sources[l->count++] = strdup(src);
    return true;
}

static bool add_list(pattern_list *l, const px_json *obj, const char *key, char *err,
                     size_t err_len)
{
    char **v;
    if (!px_json_get_strv(obj, key, &v, NULL)) {
        snprintf(err, err_len, "%s must be an array of regular expressions", key);
        return false;
    }
    bool ok = true;
    for (char **p = v; *p && ok; p++)
        ok = add_pattern(l, *p, err, err_len);
    px_strv_free(v);
    return ok;
}

static void *config_parse(const px_json *obj, char *err, size_t err_len)
{
    config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (!add_list(&c->allow, obj, "allow", err, err_len) ||
        !add_list(&c->deny, obj, "deny", err, err_len))
        goto bad;
    if (px_json_get_bool(obj, "use_default_deny", true))
        for (const char *const *p = DEFAULT_DENY; *p; p++)
            if (!add_pattern(&c->deny, *p, err, err_len))
                goto bad;
    c->blocked_code = (uint32_t)px_json_get_num(obj, "blocked_code", 403);
    c->blocked_message = strdup(px_json_get_str(obj, "blocked_message", "bot detected\n"));
    c->block_empty = px_json_get_bool(obj, "block_empty_user_agent", false);
    if (c->blocked_code < 100 || c->blocked_code > 599) {
        snprintf(err, err_len, "blocked_code must be an HTTP status (100-599)");
        goto bad;
    }
    return c;
bad:
    config_free(c);
    return NULL;
}

static const char *first_match(const pattern_list *l, const char *ua)
{
    for (size_t i = 0; i < l->count; i++)
        if (regexec(&l->items[i], ua, 0, NULL, 0) == 0)
            return l->sources[i];
    return NULL;
}

static px_headers_action on_request_headers(px_context *ctx, uint32_t n, bool eos)
{
    (void)n;
    (void)eos;
    const config *c = px_config(ctx);
    char *ua = px_get_request_header("user-agent");
    px_headers_action a = PX_HEADERS_CONTINUE;
    if (!ua || !ua[0]) {
        if (c->block_empty) {
            px_reply(c->blocked_code, c->blocked_message, NULL);
            a = PX_HEADERS_STOP_ALL_AND_WATERMARK;
        }
    } else if (!first_match(&c->allow, ua)) {
        const char *hit = first_match(&c->deny, ua);
        if (hit) {
            px_info("bot-detect: user-agent \"%s\" matches \"%s\"", ua, hit);
            px_reply(c->blocked_code, c->blocked_message, NULL);
            a = PX_HEADERS_STOP_ALL_AND_WATERMARK;
        }
    }
    free(ua);
    return a;
}

const px_plugin px_plugin_def = {
    .name = "bot-detect",
    .parse_config = config_parse,
    .free_config = config_free,
    .on_request_headers = on_request_headers,
};
