/*
 * test_sdk_rules.c — unit tests for the guest SDK's Higress rule matcher
 * (sdk/c/px_rules.c), compiled natively.
 *
 * Owns:     parsing of _rules_ (global part, rule validation, merging of
 *           global keys into rules, _disable_), domain patterns (*.x, x*,
 *           exact, port stripped, case), service names, route and route
 *           prefix matching, first-match order.
 * Not here: reading route_name / :authority from a host (proxy_wasm.c).
 */
#include "../../sdk/c/px_json.c"
#include "../../sdk/c/px_rules.c"
#include "../../sdk/c/px_text.c"

#include <stdio.h>

#include "tap.h"

/* Test config: the "name" member plus the "limit" member as text. */
typedef struct {
    char name[64];
    int limit;
} cfg;

static void *parse(const px_json *obj, char *err, size_t err_len)
{
    if (px_json_get(obj, "fail")) {
        snprintf(err, err_len, "asked to fail");
        return NULL;
    }
    cfg *c = calloc(1, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", px_json_get_str(obj, "name", "global"));
    c->limit = (int)px_json_get_num(obj, "limit", -1);
    return c;
}

static const char *pick(const px_ruleset *rs, const char *route, const char *host,
                        const char *cluster)
{
    const cfg *c = px_ruleset_match(rs, route, host, cluster);
    return c ? c->name : "(none)";
}

static int load(px_ruleset *rs, const char *json)
{
    char err[200];
    int ok = px_ruleset_parse(rs, json, strlen(json), parse, free, err, sizeof err);
    if (!ok)
        printf("# %s\n", err);
    return ok;
}

int main(void)
{
    check(px_domain_match("*.example.com", "a.example.com") &&
              px_domain_match("*.example.com", "a.b.example.com") &&
              !px_domain_match("*.example.com", "example.com") &&
              !px_domain_match("*.example.com", "aexample.com"),
          "domain *.x suffix keeps the dot");
    check(px_domain_match("api*", "api.example.com") && px_domain_match("api*", "api") &&
              !px_domain_match("api*", "xapi.com"),
          "domain x* prefix");
    check(px_domain_match("test.com", "TEST.com") && !px_domain_match("test.com", "test.co") &&
              !px_domain_match("test.com", "a.test.com"),
          "domain exact, case-insensitive");
    check(px_service_match("svc.ns.svc.cluster.local", "outbound|80||svc.ns.svc.cluster.local") &&
              px_service_match("svc.ns.svc.cluster.local:80",
                               "outbound|80||svc.ns.svc.cluster.local") &&
              !px_service_match("svc.ns.svc.cluster.local:8080",
                                "outbound|80||svc.ns.svc.cluster.local") &&
              !px_service_match("svc", "outbound|80||svc.ns") &&
              !px_service_match("svc", "svc") && !px_service_match("a", "outbound|80|x|a|b"),
          "service fqdn and fqdn:port against four-part cluster names");

    px_ruleset rs;
    check(load(&rs, "") && rs.global && rs.count == 0 && strcmp(pick(&rs, 0, 0, 0), "global") == 0,
          "empty configuration = global with empty config");
    px_ruleset_free(&rs);
    check(load(&rs, "{\"name\":\"g\"}") && strcmp(pick(&rs, "r", "h", "c"), "g") == 0,
          "plain config without _rules_ is global");
    px_ruleset_free(&rs);

    const char *doc =
        "{\"name\":\"g\",\"limit\":5,\"_rules_\":["
        "{\"_match_route_\":[\"route-a\",\"route-b\"],\"name\":\"routes\"},"
        "{\"_match_domain_\":[\"*.example.com\",\"test.com\"],\"name\":\"domains\",\"limit\":9},"
        "{\"_match_route_prefix_\":[\"api-\"],\"name\":\"prefix\"},"
        "{\"_match_service_\":[\"svc.ns.svc.cluster.local:80\"],\"name\":\"service\"},"
        "{\"_match_domain_\":[\"off.com\"],\"_disable_\":true},"
        "{\"_match_domain_\":[\"a.example.com\"],\"name\":\"never (shadowed)\"}]}";
    check(load(&rs, doc) && rs.count == 6, "rules parse");
    check(strcmp(pick(&rs, "route-b", "x.org", ""), "routes") == 0, "route match");
    check(strcmp(pick(&rs, "other", "a.example.com:8080", ""), "domains") == 0,
          "domain match with port stripped; first match wins over a later rule");
    check(strcmp(pick(&rs, "route-a", "a.example.com", ""), "routes") == 0,
          "first matching rule in order wins");
    check(strcmp(pick(&rs, "api-v1", "x.org", ""), "prefix") == 0, "route prefix match");
    check(strcmp(pick(&rs, "", "x.org", "outbound|80||svc.ns.svc.cluster.local"), "service") == 0,
          "service match");
    check(strcmp(pick(&rs, "", "off.com", ""), "(none)") == 0, "_disable_ rule turns the plugin off");
    check(strcmp(pick(&rs, "zzz", "x.org", ""), "g") == 0, "no match falls back to global");
    const cfg *d = px_ruleset_match(&rs, "", "test.com", "");
    const cfg *r = px_ruleset_match(&rs, "route-a", "", "");
    check(d && d->limit == 9 && r && r->limit == 5, "rule keys override, global keys are inherited");
    px_ruleset_free(&rs);

    check(load(&rs, "{\"_rules_\":[{\"_match_route_\":[\"r\"],\"name\":\"only\"}]}") &&
              strcmp(pick(&rs, "x", "h", ""), "(none)") == 0 &&
              strcmp(pick(&rs, "r", "h", ""), "only") == 0,
          "rules only: no global config, unmatched requests skip the plugin");
    px_ruleset_free(&rs);
    check(load(&rs, "{\"_rules_\":[{\"_match_route_\":[\"r\"],\"_match_service_\":[\"s.ns\"],"
                    "\"name\":\"both\"}]}") &&
              strcmp(pick(&rs, "r", "", "outbound|80||s.ns"), "both") == 0 &&
              strcmp(pick(&rs, "r", "", "outbound|80||t.ns"), "(none)") == 0,
          "route + service rule needs both");
    px_ruleset_free(&rs);
    check(load(&rs, "{\"fail\":1,\"_rules_\":[{\"_match_route_\":[\"r\"],\"fail\":null,\"name\":\"x\"}]}") == 0,
          "a rule whose own keys fail to parse fails configuration");
    check(load(&rs, "{\"fail\":1,\"_rules_\":[{\"_match_route_\":[\"r\"],\"name\":\"x\"}]}") == 0,
          "a rule inheriting a failing global key fails configuration");
    check(!load(&rs, "{\"fail\":1}"), "global failure without rules fails configuration");
    check(!load(&rs, "{\"_rules_\":[{\"name\":\"no match keys\"}]}"),
          "rule without match keys fails configuration");
    check(!load(&rs, "{\"_rules_\":[{\"_match_route_\":\"r\"}]}"),
          "match keys must be arrays");
    check(!load(&rs, "{\"_rules_\":{}}") && !load(&rs, "[1]") && !load(&rs, "{bad"),
          "_rules_ must be an array; config must be an object of valid JSON");
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
