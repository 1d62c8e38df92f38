/*
 * test_sdk_plugin_oauth.c — plugins/oauth on the mock host: token
 * endpoint (form body, query, HTTP Basic), errors, bearer validation,
 * expiry.
 */
#include "sdk_plugin_harness.h"
#include "../../plugins/oauth/oauth.c"
#include "sdk_mock_host.h"
#include "tap.h"

/* Pulls access_token out of the last reply body into tok. */
static int token_from_reply(char *tok, size_t n)
{
    px_json *j = px_json_parse(mock.reply_body, strlen(mock.reply_body), NULL, 0);
    const char *t = px_json_get_str(j, "access_token", NULL);
    int ok = t && px_json_get_num(j, "expires_in", 0) == 60 &&
             strcmp(px_json_get_str(j, "token_type", ""), "bearer") == 0;
    if (t)
        snprintf(tok, n, "%s", t);
    px_json_free(j);
    return ok;
}

int main(void)
{
    mock.now_ns = 1700000000ull * 1000000000ull;
    check(mock_configure("{\"consumers\":[{\"name\":\"c1\",\"client_id\":\"id1\","
                         "\"client_secret\":\"sec1\"}],\"signing_key\":\"0123456789abcdef-key\","
                         "\"token_ttl\":60}"),
          "oauth configures");
    check(!mock_configure("{\"consumers\":[{\"name\":\"c1\",\"client_id\":\"id1\","
                          "\"client_secret\":\"sec1\"}]}"),
          "missing signing_key refused");
    mock_configure("{\"consumers\":[{\"name\":\"c1\",\"client_id\":\"id1\","
                   "\"client_secret\":\"sec1\"}],\"signing_key\":\"0123456789abcdef-key\","
                   "\"token_ttl\":60}");
    uint32_t a, id;
    char tok[600], bearer[640];
    mock.request_has_body = 1;
    id = mock_request(&a, "POST", "/oauth2/token", "content-type",
                      "application/x-www-form-urlencoded", NULL);
    check(a == 0 && mock.reply_status == 0, "token POST waits for its body");
    mock_request_body(id, "grant_type=client_credentials&client_id=id1&client_secret=sec1");
    check(mock_status() == 200 && token_from_reply(tok, sizeof tok) &&
              strcmp(mock_reply_header("content-type"), "application/json") == 0,
          "client credentials in the form body: 200 with a bearer token");
    mock_finish(id);
    mock.request_has_body = 0;

    snprintf(bearer, sizeof bearer, "Bearer %s", tok);
    id = mock_request(&a, "GET", "/api", "authorization", bearer, NULL);
    check(mock_status() == 200 && strcmp(mock_req_header("x-mse-consumer"), "c1") == 0,
          "issued token is accepted on other requests");
    mock_finish(id);
    id = mock_request(&a, "GET", "/api", NULL);
    check(mock_status() == 401, "no token: 401");
    mock_finish(id);

    id = mock_request(&a, "GET", "/oauth2/token?grant_type=client_credentials&client_id=id1"
                                 "&client_secret=bad", NULL);
    check(mock_status() == 401 && strstr(mock.reply_body, "invalid_client"),
          "wrong secret: 401 invalid_client");
    mock_finish(id);
    id = mock_request(&a, "GET", "/oauth2/token?grant_type=password", NULL);
    check(mock_status() == 400 && strstr(mock.reply_body, "unsupported_grant_type"),
          "other grant type: 400");
    mock_finish(id);
    /* id1:sec1 */
    id = mock_request(&a, "GET", "/oauth2/token?grant_type=client_credentials", "authorization",
                      "Basic aWQxOnNlYzE=", NULL);
    check(mock_status() == 200, "client_secret_basic");
    mock_finish(id);

    mock.now_ns += 61ull * 1000000000ull + 60ull * 1000000000ull;
    id = mock_request(&a, "GET", "/api", "authorization", bearer, NULL);
    check(mock_status() == 401 && strstr(mock.reply_body, "expired"),
          "token past expiry (+ skew): 401");
    mock_finish(id);
    char *noexp = px_jwt_sign_hs256(NULL, "{\"iss\":\"sluice\",\"sub\":\"c1\",\"client_id\":\"id1\"}",
                                    "0123456789abcdef-key", 20);
    char hdr[600];
    snprintf(hdr, sizeof hdr, "Bearer %s", noexp);
    id = mock_request(&a, "GET", "/api", "authorization", hdr, NULL);
    check(mock_status() == 401, "token without exp (signed with the key): 401");
    mock_finish(id);
    free(noexp);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
