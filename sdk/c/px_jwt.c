/*
 * px_jwt.c — HS256 JWT sign and verify on px_crypto + px_base64 + px_json.
 *
 * Owns:     compact-serialization splitting, alg check, time claims.
 * Not here: claim policy (issuer/audience/consumers: the jwt-auth plugin).
 */
#include "px_jwt.h"

#include <stdlib.h>
#include <string.h>

#include "px_base64.h"
#include "px_crypto.h"

static char *b64url(const void *data, size_t n)
{
    char *o = malloc(px_base64_encoded_len(n, true) + 1);
    if (o)
        px_base64_encode(data, n, o, true);
    return o;
}

char *px_jwt_sign_hs256(const char *header_json, const char *payload_json, const void *key,
                        size_t key_len)
{
    if (!header_json)
        header_json = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char *h = b64url(header_json, strlen(header_json));
    char *p = b64url(payload_json, strlen(payload_json));
    char *out = NULL;
    if (h && p) {
        size_t hl = strlen(h), pl = strlen(p);
        size_t sl = px_base64_encoded_len(PX_SHA256_LEN, true);
        out = malloc(hl + 1 + pl + 1 + sl + 1);
        if (out) {
            memcpy(out, h, hl);
            out[hl] = '.';
            memcpy(out + hl + 1, p, pl);
            uint8_t mac[PX_SHA256_LEN];
            px_hmac_sha256(key, key_len, out, hl + 1 + pl, mac);
            out[hl + 1 + pl] = '.';
            px_base64_encode(mac, sizeof mac, out + hl + 1 + pl + 1, true);
        }
    }
    free(h);
    free(p);
    return out;
}

static px_json *decode_json_part(const char *s, size_t n)
{
    char *buf = malloc(n + 1);
    size_t len;
    px_json *v = NULL;
    if (buf && px_base64_decode(s, n, buf, &len, true)) {
        v = px_json_parse(buf, len, NULL, 0);
        if (v && v->type != PX_JSON_OBJECT) {
            px_json_free(v);
            v = NULL;
        }
    }
    free(buf);
    return v;
}

px_jwt_result px_jwt_verify_hs256(const char *token, size_t len, const void *key,
                                  size_t key_len, int64_t now, int64_t skew,
                                  px_json **payload)
{
    if (payload)
        *payload = NULL;
    const char *d1 = memchr(token, '.', len);
    if (!d1)
        return PX_JWT_MALFORMED;
    const char *d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token));
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return PX_JWT_MALFORMED;
    px_json *header = decode_json_part(token, (size_t)(d1 - token));
    if (!header)
        return PX_JWT_MALFORMED;
    const char *alg = px_json_get_str(header, "alg", "");
    bool hs256 = strcmp(alg, "HS256") == 0;
    px_json_free(header);
    if (!hs256)
        return PX_JWT_BAD_ALG;

    size_t sig_len_enc = len - (size_t)(d2 + 1 - token);
    uint8_t sig[64];
    size_t sig_len;
    if (sig_len_enc > 86 || !px_base64_decode(d2 + 1, sig_len_enc, sig, &sig_len, true))
        return PX_JWT_MALFORMED;
    uint8_t mac[PX_SHA256_LEN];
    px_hmac_sha256(key, key_len, token, (size_t)(d2 - token), mac);
    if (sig_len != PX_SHA256_LEN || !px_ct_equal(sig, mac, PX_SHA256_LEN))
        return PX_JWT_BAD_SIGNATURE;

    px_json *claims = decode_json_part(d1 + 1, (size_t)(d2 - d1 - 1));
    if (!claims)
        return PX_JWT_MALFORMED;
    const px_json *exp = px_json_get(claims, "exp");
    const px_json *nbf = px_json_get(claims, "nbf");
    /* RFC 7519: the claims set is an object; exp and nbf are NumericDates. A
     * present but non-numeric exp must not read as "never expires". */
    if (claims->type != PX_JSON_OBJECT || (exp && exp->type != PX_JSON_NUMBER) ||
        (nbf && nbf->type != PX_JSON_NUMBER)) {
        px_json_free(claims);
        return PX_JWT_MALFORMED;
    }
    px_jwt_result r = PX_JWT_OK;
    if (exp && exp->type == PX_JSON_NUMBER && (double)now >= exp->number + (double)skew)
        r = PX_JWT_EXPIRED;
    else if (nbf && nbf->type == PX_JSON_NUMBER && (double)(now + skew) < nbf->number)
        r = PX_JWT_NOT_YET_VALID;
    if (payload)
        *payload = claims;
    else
        px_json_free(claims);
    return r;
}

const char *px_jwt_result_str(px_jwt_result r)
{
    switch (r) {
    case PX_JWT_OK: return "ok";
    case PX_JWT_MALFORMED: return "malformed token";
    case PX_JWT_BAD_ALG: return "unsupported alg";
    case PX_JWT_BAD_SIGNATURE: return "bad signature";
    case PX_JWT_EXPIRED: return "token expired";
    case PX_JWT_NOT_YET_VALID: return "token not yet valid";
    }
    return "?";
}
