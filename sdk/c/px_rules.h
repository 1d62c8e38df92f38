/*
 * px_rules.h — the Higress per-route configuration convention (ABI doc §5.3)
 * for guest plugins: a global config plus "_rules_" entries selected by
 * "_match_route_", "_match_domain_", "_match_service_" and
 * "_match_route_prefix_"; "_disable_": true turns the plugin off for a match.
 *
 * Owns:     parsing the convention (with a plugin-supplied parser for the
 *           plugin's own keys), and the pure matching function.
 * Not here: reading route_name / cluster_name / :authority from the host
 *           (proxy_wasm.c does that and calls px_ruleset_match).
 */
#ifndef PX_RULES_H
#define PX_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "px_json.h"

/* Builds the plugin's config object from a JSON object (the global part, or
 * one rule). Returns NULL and writes err on invalid configuration. */
typedef void *(*px_config_parse_fn)(const px_json *obj, char *err, size_t err_len);
typedef void (*px_config_free_fn)(void *config);

typedef enum {
    PX_RULE_ROUTE,          /* _match_route_ (route_name equals one) */
    PX_RULE_ROUTE_SERVICE,  /* _match_route_ and _match_service_ both match */
    PX_RULE_DOMAIN,         /* _match_domain_ */
    PX_RULE_SERVICE,        /* _match_service_ */
    PX_RULE_ROUTE_PREFIX    /* _match_route_prefix_ (route_name starts with one) */
} px_rule_category;

typedef struct {
    px_rule_category category;
    char **routes, **domains, **services, **route_prefixes; /* NULL-terminated */
    bool disabled;
    void *config;
} px_rule;

typedef struct {
    void *global;          /* NULL when there is no global config */
    px_rule *rules;
    size_t count;
    px_config_free_fn free_config;
} px_ruleset;

/* Parses a plugin configuration. Empty text or "{}" → global config parsed
 * from {}. Keys besides _rules_ (and _plugin_id_) → global config; if that
 * fails while rules exist, the global config is just absent. A rule without
 * any match key fails the whole configuration. A rule's config is parsed
 * from the rule's members merged over the global members (rule keys win),
 * so rules only need the keys they change. Returns false with err. */
bool px_ruleset_parse(px_ruleset *rs, const char *text, size_t len, px_config_parse_fn parse,
                      px_config_free_fn free_config, char *err, size_t err_len);
void px_ruleset_free(px_ruleset *rs);

/* Selects the config for a request: the first matching rule (its config, or
 * NULL when it is "_disable_"), else the global config (may be NULL).
 * route/host/cluster may be NULL (treated as ""); host may carry a port. */
const void *px_ruleset_match(const px_ruleset *rs, const char *route, const char *host,
                             const char *cluster);

/* Domain pattern: "*.x" suffix (keeps the dot), "x*" prefix, else exact,
 * ASCII case-insensitive. host must already have its port stripped. */
bool px_domain_match(const char *pattern, const char *host);
/* Service pattern "fqdn" or "fqdn:port" against an Istio cluster name
 * "outbound|port|subset|fqdn" (exactly four parts). */
bool px_service_match(const char *pattern, const char *cluster);

#endif
