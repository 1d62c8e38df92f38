/*
 * test_sdk_plugin_path_rewrite.c — plugins/path-rewrite on the mock host.
 */
#include "sdk_plugin_harness.h"
#include "../../plugins/path-rewrite/path-rewrite.c"
#include "sdk_mock_host.h"
#include "tap.h"

int main(void)
{
    check(mock_configure("{\"rules\":[{\"match\":\"^/v1/users/([0-9]+)$\",\"replace\":\"/users?id=\\\\1\"},"
                         "{\"match\":\"^/old/(.*)\",\"replace\":\"/new/\\\\1\"},"
                         "{\"match\":\"^/old/x\",\"replace\":\"/never\"}]}"),
          "path-rewrite configures");
    uint32_t a, id;
    id = mock_request(&a, "GET", "/old/a/b?q=1", NULL);
    check(strcmp(mock_req_header(":path"), "/new/a/b?q=1") == 0,
          "capture group substituted, query kept");
    mock_finish(id);
    id = mock_request(&a, "GET", "/old/x", NULL);
    check(strcmp(mock_req_header(":path"), "/new/x") == 0, "first matching rule wins");
    mock_finish(id);
    id = mock_request(&a, "GET", "/v1/users/42", NULL);
    check(strcmp(mock_req_header(":path"), "/users?id=42") == 0, "rewrite into a query");
    mock_finish(id);
    id = mock_request(&a, "GET", "/other", NULL);
    check(strcmp(mock_req_header(":path"), "/other") == 0 && a == 0, "no match: unchanged");
    mock_finish(id);
    check(!mock_configure("{\"rules\":[{\"match\":\"[\",\"replace\":\"/\"}]}") &&
              !mock_configure("{}"),
          "invalid regexp or missing rules refused");
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
