/*
 * test_sdk_plugin_cors.c — plugins/cors on the mock host: preflight
 * answers, origin globs, credentials, expose headers.
 */
#include "sdk_plugin_harness.h"
#include "../../plugins/cors/cors.c"
#include "sdk_mock_host.h"
#include "tap.h"

int main(void)
{
    check(mock_configure("{\"allow_origins\":[\"https://app.example.com\",\"https://*.dev.io\"],"
                         "\"allow_methods\":[\"GET\",\"POST\"],\"allow_headers\":[\"content-type\","
                         "\"x-token\"],\"expose_headers\":[\"x-trace\"],\"allow_credentials\":true,"
                         "\"max_age\":600}"),
          "cors configures");
    uint32_t a, id;
    id = mock_request(&a, "OPTIONS", "/", "origin", "https://a.dev.io",
                      "access-control-request-method", "POST", "access-control-request-headers",
                      "Content-Type, X-Token", NULL);
    check(mock_status() == 204 && a != 0 &&
              strcmp(mock_reply_header("access-control-allow-origin"), "https://a.dev.io") == 0 &&
              strcmp(mock_reply_header("access-control-allow-methods"), "GET,POST") == 0 &&
              strcmp(mock_reply_header("access-control-max-age"), "600") == 0 &&
              strcmp(mock_reply_header("access-control-allow-credentials"), "true") == 0,
          "preflight from a glob origin: 204 with CORS headers");
    mock_finish(id);
    id = mock_request(&a, "OPTIONS", "/", "origin", "https://evil.com",
                      "access-control-request-method", "GET", NULL);
    check(mock_status() == 403, "preflight from another origin: 403");
    mock_finish(id);
    id = mock_request(&a, "OPTIONS", "/", "origin", "https://app.example.com",
                      "access-control-request-method", "DELETE", NULL);
    check(mock_status() == 403, "preflight for a method not allowed: 403");
    mock_finish(id);
    id = mock_request(&a, "OPTIONS", "/", "origin", "https://app.example.com",
                      "access-control-request-method", "GET", "access-control-request-headers",
                      "x-other", NULL);
    check(mock_status() == 403, "preflight for a header not allowed: 403");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", "origin", "https://app.example.com", NULL);
    mock_response(id, "200");
    check(mock_status() == 200 &&
              strcmp(mock_resp_header("access-control-allow-origin"), "https://app.example.com") == 0 &&
              strcmp(mock_resp_header("access-control-expose-headers"), "x-trace") == 0 &&
              strcmp(mock_resp_header("vary"), "Origin") == 0,
          "actual request: response decorated");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", "origin", "https://evil.com", NULL);
    mock_response(id, "200");
    check(mock_status() == 200 && !mock_resp_header("access-control-allow-origin"),
          "disallowed origin: passed through without CORS headers");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", NULL);
    mock_response(id, "200");
    check(!mock_resp_header("access-control-allow-origin"), "no Origin: not a CORS request");
    mock_finish(id);
    mock_configure("{}");
    id = mock_request(&a, "GET", "/", "origin", "https://x.org", NULL);
    mock_response(id, "200");
    check(strcmp(mock_resp_header("access-control-allow-origin"), "*") == 0,
          "default config: any origin, '*' without credentials");
    mock_finish(id);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
