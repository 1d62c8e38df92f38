/*
 * test_sdk_plugin_jwt_auth.c — plugins/jwt-auth on the mock host: token
 * sources, consumers by secret, exp/nbf with skew, claims to headers.
 */
#include "sdk_plugin_harness.h"
#include "../../plugins/jwt-auth/jwt-auth.c"
#include "sdk_mock_host.h"
#include "tap.h"

int main(void)
{
    mock.now_ns = 1700000000ull * 1000000000ull;
    check(mock_configure("{\"consumers\":[{\"name\":\"svc\",\"secret\":\"s3cret-one\"},"
                         "{\"name\":\"other\",\"secret\":\"s3cret-two\",\"issuer\":\"them\"}],"
                         "\"from_headers\":[{\"name\":\"authorization\",\"value_prefix\":\"Bearer \"}],"
                         "\"from_params\":[\"access_token\"],\"from_cookies\":[\"jwt\"],"
                         "\"clock_skew_seconds\":30,"
                         "\"claims_to_headers\":[{\"claim\":\"sub\",\"header\":\"x-jwt-sub\"},"
                         "{\"claim\":\"n\",\"header\":\"x-jwt-n\"}]}"),
          "jwt-auth configures");
    char *good = px_jwt_sign_hs256(NULL, "{\"sub\":\"u1\",\"n\":42,\"exp\":1700000100}",
                                   "s3cret-one", 10);
    char *expired = px_jwt_sign_hs256(NULL, "{\"sub\":\"u1\",\"exp\":1699999960}", "s3cret-one", 10);
    char *skewed = px_jwt_sign_hs256(NULL, "{\"sub\":\"u1\",\"exp\":1699999990}", "s3cret-one", 10);
    char *future = px_jwt_sign_hs256(NULL, "{\"nbf\":1700000100}", "s3cret-one", 10);
    char *bad_iss = px_jwt_sign_hs256(NULL, "{\"iss\":\"me\"}", "s3cret-two", 10);
    char *good_iss = px_jwt_sign_hs256(NULL, "{\"iss\":\"them\"}", "s3cret-two", 10);
    char bearer[600], cookie[600], path[600];
    uint32_t a, id;

    id = mock_request(&a, "GET", "/", NULL);
    check(mock_status() == 401 && strstr(mock_reply_header("www-authenticate"), "Bearer"),
          "no token: 401 Bearer");
    mock_finish(id);
    snprintf(bearer, sizeof bearer, "Bearer %s", good);
    id = mock_request(&a, "GET", "/", "authorization", bearer, NULL);
    check(mock_status() == 200 && strcmp(mock_req_header("x-jwt-sub"), "u1") == 0 &&
              strcmp(mock_req_header("x-jwt-n"), "42") == 0 &&
              strcmp(mock_req_header("x-mse-consumer"), "svc") == 0,
          "valid bearer: claims copied to headers, consumer set");
    mock_finish(id);
    snprintf(path, sizeof path, "/x?access_token=%s", good);
    id = mock_request(&a, "GET", path, NULL);
    check(mock_status() == 200, "token from query parameter");
    mock_finish(id);
    snprintf(cookie, sizeof cookie, "a=b; jwt=%s", good);
    id = mock_request(&a, "GET", "/", "cookie", cookie, NULL);
    check(mock_status() == 200, "token from cookie");
    mock_finish(id);
    snprintf(bearer, sizeof bearer, "Bearer %s", expired);
    id = mock_request(&a, "GET", "/", "authorization", bearer, NULL);
    check(mock_status() == 401 && strstr(mock.reply_body, "expired"), "expired token: 401");
    mock_finish(id);
    snprintf(bearer, sizeof bearer, "Bearer %s", skewed);
    id = mock_request(&a, "GET", "/", "authorization", bearer, NULL);
    check(mock_status() == 200, "expired within clock skew passes");
    mock_finish(id);
    snprintf(bearer, sizeof bearer, "Bearer %s", future);
    id = mock_request(&a, "GET", "/", "authorization", bearer, NULL);
    check(mock_status() == 401, "nbf in the future: 401");
    mock_finish(id);
    snprintf(bearer, sizeof bearer, "Bearer %sx", good);
    id = mock_request(&a, "GET", "/", "authorization", bearer, NULL);
    check(mock_status() == 401, "tampered token: 401");
    mock_finish(id);
    snprintf(bearer, sizeof bearer, "Bearer %s", bad_iss);
    id = mock_request(&a, "GET", "/", "authorization", bearer, NULL);
    check(mock_status() == 401, "consumer issuer mismatch: 401");
    mock_finish(id);
    snprintf(bearer, sizeof bearer, "Bearer %s", good_iss);
    id = mock_request(&a, "GET", "/", "authorization", bearer, NULL);
    check(mock_status() == 200 && strcmp(mock_req_header("x-mse-consumer"), "other") == 0,
          "second consumer by secret and issuer");
    mock_finish(id);
    char *nosub = px_jwt_sign_hs256(NULL, "{\"exp\":1700000100}", "s3cret-one", 10);
    snprintf(bearer, sizeof bearer, "Bearer %s", nosub);
    id = mock_request(&a, "GET", "/", "authorization", bearer, "x-jwt-sub", "root", NULL);
    check(mock_status() == 200 && px_pairs_get(&mock.req, "x-jwt-sub") == NULL,
          "claim absent: a client-sent header is removed (override)");
    mock_finish(id);
    free(nosub);
    char *nl = px_jwt_sign_hs256(NULL, "{\"sub\":\"a\\r\\nx-evil: 1\",\"exp\":1700000100}", "s3cret-one", 10);
    snprintf(bearer, sizeof bearer, "Bearer %s", nl);
    id = mock_request(&a, "GET", "/", "authorization", bearer, NULL);
    check(mock_status() == 200 && px_pairs_get(&mock.req, "x-jwt-sub") == NULL,
          "claim with CR LF is not copied into a header");
    mock_finish(id);
    free(nl);
    free(good);
    free(expired);
    free(skewed);
    free(future);
    free(bad_iss);
    free(good_iss);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
