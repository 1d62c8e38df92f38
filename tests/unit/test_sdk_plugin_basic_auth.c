/*
 * test_sdk_plugin_basic_auth.c — plugins/basic-auth on the mock host.
 */
#include "sdk_plugin_harness.h"
#include "../../plugins/basic-auth/basic-auth.c"
#include "sdk_mock_host.h"
#include "tap.h"

int main(void)
{
    check(mock_configure("{\"consumers\":[{\"name\":\"c1\",\"credential\":\"admin:123456\"},"
                         "{\"credential\":\"guest:pw\"}],\"realm\":\"test\","
                         "\"_rules_\":[{\"_match_domain_\":[\"*.admin.io\"],\"allow\":[\"c1\"]}]}"),
          "basic-auth configures");
    uint32_t a, id;
    id = mock_request(&a, "GET", "/", NULL);
    check(mock_status() == 401 && strcmp(mock_reply_header("www-authenticate"),
                                         "Basic realm=\"test\"") == 0,
          "no credentials: 401 Basic realm");
    mock_finish(id);
    /* admin:123456 */
    id = mock_request(&a, "GET", "/", "authorization", "Basic YWRtaW46MTIzNDU2", NULL);
    check(mock_status() == 200 && strcmp(mock_req_header("x-mse-consumer"), "c1") == 0,
          "valid credentials pass with consumer header");
    mock_finish(id);
    /* admin:wrong */
    id = mock_request(&a, "GET", "/", "authorization", "Basic YWRtaW46d3Jvbmc=", NULL);
    check(mock_status() == 401, "wrong password: 401");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", "authorization", "Basic !!!", NULL);
    check(mock_status() == 401, "malformed base64: 401");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", "authorization", "Bearer abc", NULL);
    check(mock_status() == 401, "other scheme: 401");
    mock_finish(id);
    /* guest:pw on a domain that only allows c1 */
    id = mock_request(&a, "GET", "/", ":authority", "x.admin.io:8443", "authorization",
                      "Basic Z3Vlc3Q6cHc=", NULL);
    check(mock_status() == 403, "domain rule allow list: guest gets 403");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", "authorization", "Basic Z3Vlc3Q6cHc=", NULL);
    check(mock_status() == 200 && strcmp(mock_req_header("x-mse-consumer"), "guest") == 0,
          "consumer name defaults to the user");
    mock_finish(id);
    check(!mock_configure("{\"consumers\":[{\"credential\":\"nocolon\"}]}"),
          "credential without ':' is refused");
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
