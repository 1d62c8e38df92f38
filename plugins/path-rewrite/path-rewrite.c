/*
 * path-rewrite.c — proxy-wasm plugin: rewrite :path with POSIX extended
 * regular expressions (first matching rule wins), like the classic wasme
 * path-rewrite example.
 *
 * Owns:     rule compilation, \0..\9 substitution, query handling.
 * Not here: host rewriting (:authority) — use add-header's request_set.
 */
#include "proxy_wasm.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    regex_t re;
    char *replace;
} rule;

typedef struct {
    rule *rules;
    size_t count;
    bool match_query; /* match against the full path including "?query" */
} config;

static void config_free(void *p)
{
    config *c = p;
    for (size_t i = 0; i < c->count; i++) {
        regfree(&c->rules[i].re);
        free(c->rules[i].replace);
    }
    free(c->rules);
    free(c);
}

static void *config_parse(const px_json *obj, char *err, size_t err_len)
{
    const px_json *rules = px_json_get(obj, "rules");
    if (!rules || rules->type != PX_JSON_ARRAY) {
        snprintf(err, err_len, "rules must be an array of {\"match\", \"replace\"}");
        return NULL;
    }
    config *c = calloc(1, sizeof *c);
    if (!c || !(c->rules = calloc(rules->count ? rules->count : 1, sizeof *c->rules))) {
        free(c);
        return NULL;
    }
    c->match_query = px_json_get_bool(obj, "match_query", false);
    for (size_t i = 0; i < rules->count; i++) {
        const px_json *r = rules->items[i];
        const char *match = px_json_get_str(r, "match", NULL);
        const char *replace = px_json_get_str(r, "replace", NULL);
        if (!match || !replace) {
            snprintf(err, err_len, "rules[%zu] needs string match and replace", i);
            config_free(c);
            return NULL;
        }
        int rc = regcomp(&c->rules[i].re, match, REG_EXTENDED);
        if (rc != 0) {
            char msg[128];
            regerror(rc, &c->rules[i].re, msg, sizeof msg);
            snprintf(err, err_len, "rules[%zu].match: %s", i, msg);
            config_free(c);
            return NULL;
        }
        c->rules[i].replace = strdup(replace);
        c->count++;
    }
    return c;
}

/* Replaces the matched span of subject with tmpl (\N = group N, \\ = \). */
static char *substitute(const char *subject, const regmatch_t *m, const char *tmpl)
{
    size_t cap = strlen(subject) + strlen(tmpl) + 1;
    for (const char *t = tmpl; *t; t++)
        if (*t == '\\' && t[1] >= '0' && t[1] <= '9')
            cap += strlen(subject);
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = 0;
    memcpy(out, subject, (size_t)m[0].rm_so);
    o = (size_t)m[0].rm_so;
    for (const char *t = tmpl; *t; t++) {
        if (*t == '\\' && t[1] >= '0' && t[1] <= '9') {
            int g = t[1] - '0';
            if (m[g].rm_so >= 0) {
                size_t n = (size_t)(m[g].rm_eo - m[g].rm_so);
                memcpy(out + o, subject + m[g].rm_so, n);
                o += n;
            }
            t++;
        } else if (*t == '\\' && t[1] == '\\') {
            out[o++] = '\\';
            t++;
        } else {
            out[o++] = *t;
        }
    }
    size_t tail = strlen(subject + m[0].rm_eo);
    memcpy(out + o, subject + m[0].rm_eo, tail);
    out[o + tail] = '\0';
    return out;
}

static px_headers_action on_request_headers(px_context *ctx, uint32_t n, bool eos)
{
    (void)n;
    (void)eos;
    const config *c = px_config(ctx);
    char *path = px_get_request_header(":path");
    if (!path)
        return PX_HEADERS_CONTINUE;
    char *query = c->match_query ? NULL : strchr(path, '?');
    char *q_copy = query ? strdup(query) : NULL;
    if (query)
        *query = '\0';
    for (size_t i = 0; i < c->count; i++) {
        regmatch_t m[10];
        if (regexec(&c->rules[i].re, path, 10, m, 0) != 0)
            continue;
        char *rewritten = substitute(path, m, c->rules[i].replace);
        if (rewritten) {
            size_t rl = strlen(rewritten), ql = q_copy ? strlen(q_copy) : 0;
            char *full = malloc(rl + ql + 1);
            if (full) {
                memcpy(full, rewritten, rl);
                if (ql)
                    memcpy(full + rl, q_copy, ql);
                full[rl + ql] = '\0';
                px_debug("path-rewrite: %s -> %s", path, full);
                px_replace_header(PX_MAP_REQUEST_HEADERS, ":path", full);
                free(full);
            }
            free(rewritten);
        }
        break;
    }
    free(q_copy);
    free(path);
    return PX_HEADERS_CONTINUE;
}

const px_plugin px_plugin_def = {
    .name = "path-rewrite",
    .parse_config = config_parse,
    .free_config = config_free,
    .on_request_headers = on_request_headers,
};
