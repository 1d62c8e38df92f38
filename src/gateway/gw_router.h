/*
 * gw_router.h — picks the route for a request: the first route of the
 * generation, in config order, whose every condition holds.
 *
 * Layer:     gateway. Pure: no I/O, no allocation on the match path.
 * Owns:      host matching (exact, "*.suffix" wildcard, "*"; case-insensitive,
 *            port stripped), path matching (exact, prefix, PCRE2 regex on
 *            the path without the query), method and header conditions,
 *            and building the rewritten path for prefix_rewrite.
 * Not here:  what the route does (gw_proxy.c and friends).
 */
#ifndef GW_ROUTER_H
#define GW_ROUTER_H

#include "gw_config.h"
#include "gw_http1.h"

typedef struct gw_route_request {
    gw_str method;
    gw_str host;   /* Host header value (may carry ":port"), or empty */
    gw_str path;   /* request target up to '?' */
    const gw_header *headers;
    size_t n_headers;
} gw_route_request;

/* The matching route, or NULL (the caller answers 404). Thread-safe:
 * regex matching uses per-thread match data. */
const gw_route_conf *gw_router_match(const gw_config *c, const gw_route_request *req);

/* For a PREFIX route with prefix_rewrite: appends the rewritten target
 * (rewrite + rest of path + original query) to out. Otherwise appends the
 * target unchanged. */
void gw_router_rewrite_target(const gw_route_conf *r, gw_str target, ut_buf *out);

#endif
