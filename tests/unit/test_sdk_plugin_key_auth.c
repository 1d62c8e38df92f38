/*
 * test_sdk_plugin_auth.c — plugins/key-auth on the mock host: header and
 * query keys, consumers, 401 + WWW-Authenticate, per-route allow (403),
 * consumer header.
 */
#include "sdk_plugin_harness.h"
#include "../../plugins/key-auth/key-auth.c"
#include "sdk_mock_host.h"
#include "tap.h"

int main(void)
{
    check(mock_configure("{\"consumers\":[{\"name\":\"alice\",\"credential\":\"k-alice\"},"
                         "{\"name\":\"bob\",\"credentials\":[\"k-bob\",\"k-bob2\"]}],"
                         "\"keys\":[\"x-api-key\",\"apikey\"],\"in_query\":true,"
                         "\"_rules_\":[{\"_match_route_\":[\"admin\"],\"allow\":[\"alice\"]}]}"),
          "key-auth configures");
    uint32_t a, id;
    id = mock_request(&a, "GET", "/", NULL);
    check(mock_status() == 401 && a != 0 && mock_reply_header("www-authenticate") &&
              strstr(mock_reply_header("www-authenticate"), "Key realm=\"sluice\""),
          "no key: 401 with WWW-Authenticate");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", "x-api-key", "wrong", NULL);
    check(mock_status() == 401, "wrong key: 401");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", "x-api-key", "k-alice", NULL);
    check(mock_status() == 200 && a == 0 && strcmp(mock_req_header("x-mse-consumer"), "alice") == 0,
          "header key: passes with x-mse-consumer");
    mock_finish(id);
    id = mock_request(&a, "GET", "/p?apikey=k-bob2", NULL);
    check(mock_status() == 200 && strcmp(mock_req_header("x-mse-consumer"), "bob") == 0,
          "query key (second name, second credential)");
    mock_finish(id);
    px_pairs_add(&mock.props, "route_name", "admin");
    id = mock_request(&a, "GET", "/", "x-api-key", "k-bob", NULL);
    check(mock_status() == 403, "route allow list excludes bob: 403");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", "x-api-key", "k-alice", NULL);
    check(mock_status() == 200, "route allow list admits alice");
    mock_finish(id);
    check(!mock_configure("{\"keys\":[\"x\"]}"), "config without consumers is refused");
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
