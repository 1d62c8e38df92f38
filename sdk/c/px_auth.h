/*
 * px_auth.h — the parts every authentication plugin shares (guest SDK):
 * the "allow" consumer list of a route, the header that carries the
 * authenticated consumer upstream, and the 401 / 403 replies.
 *
 * Owns:     config keys "allow" (array of consumer names; empty = any
 *           authenticated consumer), "consumer_header" (default
 *           "x-mse-consumer", "" = none), "realm" (default "sluice").
 * Not here: credential checking (each plugin).
 */
#ifndef PX_AUTH_H
#define PX_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "px_json.h"

typedef struct {
    char **allow;
    char *consumer_header;
    char *realm;
} px_auth_common;

bool px_auth_common_parse(const px_json *obj, px_auth_common *a, char *err, size_t err_len);
/* The configuration's "consumers": a non-empty array, or NULL with err. */
const px_json *px_auth_consumers(const px_json *obj, char *err, size_t err_len);
void px_auth_common_free(px_auth_common *a);
/* 401 with the given WWW-Authenticate value (may be NULL) and message. */
void px_auth_unauthorized(const char *www_authenticate, const char *message);
/* For an authenticated consumer: 403 when the route's allow list excludes
 * it (returns false), else sets the consumer header and returns true. */
bool px_auth_accept(const px_auth_common *a, const char *consumer);

#endif
