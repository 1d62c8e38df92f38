/*
 * px_rules.c — Higress _rules_ parsing and matching.
 *
 * Owns:     rule categories, first-match order, domain/service patterns.
 * Not here: the plugin's own config keys (the plugin's parse function).
 */
#include "px_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "px_text.h"

static bool is_meta_key(const char *k)
{
    return strcmp(k, "_rules_") == 0 || strcmp(k, "_plugin_id_") == 0;
}


static bool strv_nonempty(char **v)
{
    return v && v[0];
}

static void free_rule(px_rule *r, px_config_free_fn free_config)
{
    px_strv_free(r->routes);
    px_strv_free(r->domains);
    px_strv_free(r->services);
    px_strv_free(r->route_prefixes);
    if (r->config && free_config)
        free_config(r->config);
}

void px_ruleset_free(px_ruleset *rs)
{
    for (size_t i = 0; i < rs->count; i++)
        free_rule(&rs->rules[i], rs->free_config);
    free(rs->rules);
    if (rs->global && rs->free_config)
        rs->free_config(rs->global);
    memset(rs, 0, sizeof *rs);
}

/* A shallow object: the rule's members, then the global members the rule
 * does not override (meta keys dropped). Items are borrowed. */
static px_json *merge_onto_global(const px_json *global, const px_json *rule)
{
    px_json *m = calloc(1, sizeof *m);
    size_t cap = rule->count + (global ? global->count : 0);
    if (!m || !(m->items = calloc(cap ? cap : 1, sizeof *m->items))) {
        free(m);
        return NULL;
    }
    m->type = PX_JSON_OBJECT;
    for (size_t i = 0; i < rule->count; i++)
        m->items[m->count++] = rule->items[i];
    for (size_t i = 0; global && i < global->count; i++) {
        px_json *g = global->items[i];
        if (!is_meta_key(g->key) && !px_json_get(rule, g->key))
            m->items[m->count++] = g;
    }
    return m;
}

static void free_shallow(px_json *m)
{
    if (m) {
        free(m->items);
        free(m);
    }
}

static bool parse_rule(px_rule *r, const px_json *obj, const px_json *global,
                       px_config_parse_fn parse, size_t index, char *err, size_t err_len)
{
    memset(r, 0, sizeof *r);
    if (!obj || obj->type != PX_JSON_OBJECT) {
        snprintf(err, err_len, "_rules_[%zu] is not an object", index);
        return false;
    }
    if (!px_json_get_strv(obj, "_match_route_", &r->routes, NULL) ||
        !px_json_get_strv(obj, "_match_domain_", &r->domains, NULL) ||
        !px_json_get_strv(obj, "_match_service_", &r->services, NULL) ||
        !px_json_get_strv(obj, "_match_route_prefix_", &r->route_prefixes, NULL)) {
        snprintf(err, err_len, "_rules_[%zu]: match keys must be arrays of strings", index);
        return false;
    }
    if (strv_nonempty(r->routes))
        r->category = strv_nonempty(r->services) ? PX_RULE_ROUTE_SERVICE : PX_RULE_ROUTE;
    else if (strv_nonempty(r->domains))
        r->category = PX_RULE_DOMAIN;
    else if (strv_nonempty(r->services))
        r->category = PX_RULE_SERVICE;
    else if (strv_nonempty(r->route_prefixes))
        r->category = PX_RULE_ROUTE_PREFIX;
    else {
        snprintf(err, err_len,
                 "_rules_[%zu] has none of _match_route_, _match_domain_, _match_service_, "
                 "_match_route_prefix_",
                 index);
        return false;
    }
    r->disabled = px_json_get_bool(obj, "_disable_", false);
    if (!r->disabled) {
        char inner[200] = "";
        px_json *merged = merge_onto_global(global, obj);
        r->config = merged ? parse(merged, inner, sizeof inner) : NULL;
        free_shallow(merged);
        if (!r->config) {
            snprintf(err, err_len, "_rules_[%zu]: %s", index, inner[0] ? inner : "invalid");
            return false;
        }
    }
    return true;
}

bool px_ruleset_parse(px_ruleset *rs, const char *text, size_t len, px_config_parse_fn parse,
                      px_config_free_fn free_config, char *err, size_t err_len)
{
    memset(rs, 0, sizeof *rs);
    rs->free_config = free_config;
    if (err_len)
        err[0] = '\0';
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
        i++;
    px_json *root = i == len ? px_json_parse("{}", 2, err, err_len)
                             : px_json_parse(text, len, err, err_len);
    if (!root)
        return false;
    if (root->type != PX_JSON_OBJECT) {
        snprintf(err, err_len, "configuration must be a JSON object");
        px_json_free(root);
        return false;
    }
    const px_json *rules = px_json_get(root, "_rules_");
    if (rules && rules->type != PX_JSON_ARRAY) {
        snprintf(err, err_len, "_rules_ must be an array");
        goto bad;
    }
    bool has_global_keys = root->count == 0;
    for (size_t k = 0; k < root->count; k++)
        if (!is_meta_key(root->items[k]->key))
            has_global_keys = true;
    size_t nrules = rules ? rules->count : 0;
    if (has_global_keys || nrules == 0) {
        char inner[200] = "";
        rs->global = parse(root, inner, sizeof inner);
        if (!rs->global && nrules == 0) {
            snprintf(err, err_len, "%s", inner[0] ? inner : "invalid configuration");
            goto bad;
        }
    }
    if (nrules) {
        rs->rules = calloc(nrules, sizeof *rs->rules);
        if (!rs->rules) {
            snprintf(err, err_len, "out of memory");
            goto bad;
        }
        for (size_t r = 0; r < nrules; r++) {
            if (!parse_rule(&rs->rules[r], rules->items[r], root, parse, r, err, err_len)) {
                free_rule(&rs->rules[r], free_config);
                goto bad;
            }
            rs->count++;
        }
    }
    px_json_free(root);
    return true;
bad:
    px_json_free(root);
    px_ruleset_free(rs);
    return false;
}

bool px_domain_match(const char *pattern, const char *host)
{
    size_t pl = strlen(pattern), hl = strlen(host);
    if (pl >= 1 && pattern[0] == '*') { /* "*.x": suffix, keeps the dot */
        const char *suffix = pattern + 1;
        size_t sl = pl - 1;
        return hl >= sl && px_str_ieq(host + hl - sl, suffix);
    }
    if (pl >= 1 && pattern[pl - 1] == '*') /* "x*": prefix */
        return hl >= pl - 1 && strncasecmp(host, pattern, pl - 1) == 0;
    return px_str_ieq(pattern, host);
}

bool px_service_match(const char *pattern, const char *cluster)
{
    const char *parts[4];
    size_t lens[4];
    const char *p = cluster;
    for (int i = 0; i < 4; i++) {
        const char *bar = strchr(p, '|');
        if (i < 3 && !bar)
            return false;
        if (i == 3 && bar)
            return false;
        parts[i] = p;
        lens[i] = bar ? (size_t)(bar - p) : strlen(p);
        p = bar ? bar + 1 : p + lens[i];
    }
    const char *colon = strrchr(pattern, ':');
    size_t fl = colon ? (size_t)(colon - pattern) : strlen(pattern);
    if (fl != lens[3] || strncasecmp(pattern, parts[3], fl) != 0)
        return false;
    if (colon) {
        const char *port = colon + 1;
        return strlen(port) == lens[1] && strncmp(port, parts[1], lens[1]) == 0;
    }
    return true;
}

static bool any(char **v, bool (*fn)(const char *, const char *), const char *subject)
{
    for (; v && *v; v++)
        if (fn(*v, subject))
            return true;
    return false;
}

static bool eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static bool prefix_of(const char *prefix, const char *s)
{
    return px_str_starts_with(s, prefix);
}

const void *px_ruleset_match(const px_ruleset *rs, const char *route, const char *host,
                             const char *cluster)
{
    route = route ? route : "";
    cluster = cluster ? cluster : "";
    char *bare_host = px_host_strip_port(host ? host : "");
    const void *result = rs->global;
    for (size_t i = 0; i < rs->count; i++) {
        const px_rule *r = &rs->rules[i];
        bool hit = false;
        switch (r->category) {
        case PX_RULE_ROUTE: hit = route[0] && any(r->routes, eq, route); break;
        case PX_RULE_ROUTE_SERVICE:
            hit = route[0] && any(r->routes, eq, route) &&
                  any(r->services, px_service_match, cluster);
            break;
        case PX_RULE_DOMAIN: hit = bare_host && any(r->domains, px_domain_match, bare_host); break;
        case PX_RULE_SERVICE: hit = any(r->services, px_service_match, cluster); break;
        case PX_RULE_ROUTE_PREFIX: hit = route[0] && any(r->route_prefixes, prefix_of, route); break;
        }
        if (hit) {
            result = r->disabled ? NULL : r->config;
            break;
        }
    }
    free(bare_host);
    return result;
}
