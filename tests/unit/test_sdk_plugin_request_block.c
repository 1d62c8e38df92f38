/*
 * test_sdk_plugin_request_block.c — plugins/request-block on the mock
 * host: url / exact / regexp / header / body rules, case folding, custom
 * status and message, per-route rules.
 */
#include "sdk_plugin_harness.h"
#include "../../plugins/request-block/request-block.c"
#include "sdk_mock_host.h"
#include "tap.h"

int main(void)
{
    check(mock_configure("{\"block_urls\":[\"/admin\"],\"block_exact_urls\":[\"/exact\"],"
                         "\"block_regexp_urls\":[\"\\\\.php$\"],\"block_headers\":[\"sqlmap\"],"
                         "\"block_bodies\":[\"DROP TABLE\"],\"case_sensitive\":false,"
                         "\"_rules_\":[{\"_match_route_\":[\"special\"],\"blocked_code\":404,"
                         "\"blocked_message\":\"nope\"}]}"),
          "request-block configures");
    uint32_t a, id;
    id = mock_request(&a, "GET", "/ADMIN/users", NULL);
    check(mock_status() == 403 && a != 0, "url substring, case-insensitive: 403");
    mock_finish(id);
    id = mock_request(&a, "GET", "/exact?x=1", NULL);
    check(mock_status() == 403, "exact url (query ignored)");
    mock_finish(id);
    id = mock_request(&a, "GET", "/exact/more", NULL);
    check(mock_status() == 200, "exact url does not block longer paths");
    mock_finish(id);
    id = mock_request(&a, "GET", "/index.php", NULL);
    check(mock_status() == 403, "regexp url");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", "user-agent", "SQLMap/1.0", NULL);
    check(mock_status() == 403, "header substring");
    mock_finish(id);
    mock.request_has_body = 1;
    id = mock_request(&a, "POST", "/q", NULL);
    check(a == 0 && mock_request_body(id, "select 1; drop table users") != 0 &&
              mock_status() == 403,
          "body substring after buffering: 403");
    mock_finish(id);
    id = mock_request(&a, "POST", "/q", NULL);
    check(mock_request_body(id, "harmless body") == 0 && mock_status() == 200,
          "harmless body continues");
    mock_finish(id);
    mock.request_has_body = 0;
    px_pairs_add(&mock.props, "route_name", "special");
    id = mock_request(&a, "GET", "/admin", NULL);
    check(mock_status() == 404 && strcmp(mock.reply_body, "nope") == 0,
          "route rule: custom status and message, inherited block lists");
    mock_finish(id);
    check(!mock_configure("{\"block_regexp_urls\":[\"(\"]}"), "invalid regexp refused");
    check(!mock_configure("{\"blocked_code\":42}"), "invalid status refused");
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
