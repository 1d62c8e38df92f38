/*
 * px_jwt.h — JSON Web Tokens signed with HS256 (RFC 7519 / RFC 7515 JWS
 * compact serialization), guest SDK.
 *
 * Owns:     signing a header+payload, verifying the signature (constant
 *           time), decoding the payload, checking exp / nbf with skew.
 * Not here: other algorithms (RS256/ES256), JWKS, JWE.
 */
#ifndef PX_JWT_H
#define PX_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "px_json.h"

typedef enum {
    PX_JWT_OK = 0,
    PX_JWT_MALFORMED,     /* not three base64url parts / bad JSON */
    PX_JWT_BAD_ALG,       /* header alg is not HS256 */
    PX_JWT_BAD_SIGNATURE,
    PX_JWT_EXPIRED,       /* now >= exp + skew */
    PX_JWT_NOT_YET_VALID  /* now + skew < nbf */
} px_jwt_result;

/* Returns "b64url(header).b64url(payload).b64url(HMAC)" (malloc'd) for the
 * given JSON texts, signing with key. header_json NULL means
 * {"alg":"HS256","typ":"JWT"}. */
char *px_jwt_sign_hs256(const char *header_json, const char *payload_json, const void *key,
                        size_t key_len);

/* Verifies token[0..len) with key and, when *payload is non-NULL on return,
 * hands out the parsed payload object (caller frees with px_json_free).
 * Checks signature first, then the time claims: a numeric exp/nbf is
 * checked against now (seconds) with skew seconds of tolerance. */
px_jwt_result px_jwt_verify_hs256(const char *token, size_t len, const void *key,
                                  size_t key_len, int64_t now, int64_t skew,
                                  px_json **payload);

const char *px_jwt_result_str(px_jwt_result r);

#endif
