/*
 * test_sdk_plugin_add_header.c — plugins/add-header on the mock host:
 * request/response add, set, remove; per-route _rules_.
 */
#include "sdk_plugin_harness.h"
#include "../../plugins/add-header/add-header.c"
#include "sdk_mock_host.h"
#include "tap.h"

int main(void)
{
    check(mock_configure("{\"request_add\":{\"x-a\":\"1\"},\"request_set\":{\"x-b\":\"new\"},"
                         "\"request_remove\":[\"x-c\"],\"response_set\":{\"server\":\"sluice\"},"
                         "\"response_remove\":[\"x-internal\"],"
                         "\"_rules_\":[{\"_match_route_\":[\"r2\"],\"request_add\":{\"x-a\":\"2\"}}]}"),
          "add-header configures");
    uint32_t a;
    uint32_t id = mock_request(&a, "GET", "/", "x-b", "old", "x-c", "gone", NULL);
    check(a == 0 && strcmp(mock_req_header("x-a"), "1") == 0 &&
              strcmp(mock_req_header("x-b"), "new") == 0 && !mock_req_header("x-c"),
          "request add / set / remove");
    px_pairs_add(&mock.resp, "x-internal", "1");
    mock_response(id, "200");
    check(strcmp(mock_resp_header("server"), "sluice") == 0, "response set");
    mock_finish(id);
    px_pairs_add(&mock.props, "route_name", "r2");
    id = mock_request(&a, "GET", "/", NULL);
    check(strcmp(mock_req_header("x-a"), "2") == 0 && strcmp(mock_req_header("x-b"), "new") == 0,
          "route rule overrides request_add and inherits request_set");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", NULL);
    check(mock_configure("{\"response_set\":{\"server\":\"v2\"}}"), "reconfigure in place");
    mock_response(id, "200");
    check(strcmp(mock_resp_header("server"), "sluice") == 0,
          "an in-flight stream keeps the config it started with");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", NULL);
    mock_response(id, "200");
    check(strcmp(mock_resp_header("server"), "v2") == 0, "new streams use the new config");
    mock_finish(id);
    check(!mock_configure("{\"request_add\":[1]}"), "bad config is refused");
    id = mock_request(&a, "GET", "/", NULL);
    mock_response(id, "200");
    check(strcmp(mock_resp_header("server"), "v2") == 0, "a refused config keeps the previous one");
    mock_finish(id);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
