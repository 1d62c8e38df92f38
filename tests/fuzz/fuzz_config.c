/*
 * fuzz_config.c — libFuzzer target: the gateway config loader
 * (src/gateway/gw_config*.c) and the router on what it loads.
 *
 * Owns:   gw_config_load_string on arbitrary bytes (never crashes, leaks or
 *         hits UB; a failure leaves a terminated "fuzz.yaml:LINE:COL: ..."
 *         message), gw_config_dump_json of every config that loads (must
 *         be valid JSON for src/util/ut_json.h), a few gw_router_match /
 *         gw_router_rewrite_target calls built from the routes, and unref.
 * Setup:  name lookups are switched off (gw_config_set_name_lookups), so
 *         host names other than "localhost" fail fast instead of asking
 *         DNS; $PORT is unset so inputs replay the same everywhere.
 * Build:  as fuzz_decode.c (-Isrc/util -Isrc/gateway, libsluice.a).
 */
#include "gw_config.h"
#include "gw_router.h"
#include "ut_json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    gw_config_set_name_lookups(false);
    unsetenv("PORT");
    return 0;
}

static gw_str s(const char *p)
{
    return (gw_str){p ? p : "", p ? strlen(p) : 0};
}

/* Requests aimed at each route: its own path (or the regex source) and
 * first host pattern, method and header condition. */
static void route_all(const gw_config *c)
{
    for (size_t i = 0; i < c->n_routes; i++) {
        const gw_route_conf *r = &c->routes[i];
        gw_header h = {s(r->n_headers ? r->headers[0].name : "x"),
                       s(r->n_headers ? r->headers[0].value : "")};
        gw_route_request req = {s(r->n_methods ? r->methods[0] : "GET"),
                                s(r->n_hosts ? r->hosts[0] : "h:80"), s(r->path ? r->path : "/"),
                                &h, 1};
        const gw_route_conf *m = gw_router_match(c, &req);
        if (m && (m < c->routes || m >= c->routes + c->n_routes))
            __builtin_trap();
        bool simple = r->path_kind != GW_PATH_REGEX && r->n_hosts == 0 && r->n_headers <= 1;
        if (simple && (!m || m > r))
            __builtin_trap(); /* r's own request matches r or an earlier route */
        ut_buf out = {0};
        gw_router_rewrite_target(m, req.path, &out);
        gw_router_rewrite_target(r, s("/a/b?c=d"), &out);
        ut_buf_free(&out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    memset(err, 'x', sizeof err);
    gw_config *c = gw_config_load_string((const char *)data, size, "fuzz.yaml", err, sizeof err);
    if (!c) {
        if (!memchr(err, 0, sizeof err) || strncmp(err, "fuzz.yaml:", 10) != 0)
            __builtin_trap(); /* every failure explains itself, with a position */
        return 0;
    }
    if (c->n_listeners == 0 || atomic_load(&c->refs) != 1)
        __builtin_trap();
    ut_buf b = {0};
    gw_config_dump_json(c, &b);
    if (!b.oom) {
        ut_json *j = ut_json_parse(b.data, b.len, 0, NULL);
        if (!j)
            __builtin_trap(); /* the dump must be valid JSON */
        ut_json_free(j);
    }
    ut_buf_free(&b);
    route_all(c);
    gw_config_unref(gw_config_ref(c));
    gw_config_unref(c);
    return 0;
}
