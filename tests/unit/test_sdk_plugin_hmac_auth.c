/*
 * test_sdk_plugin_hmac_auth.c — plugins/hmac-auth on the mock host: the
 * signing string, clock skew, required signed headers, 401/403.
 */
#include "sdk_plugin_harness.h"
#include "../../plugins/hmac-auth/hmac-auth.c"
#include "sdk_mock_host.h"
#include "tap.h"

static void sign(const char *secret, const char *text, char *out)
{
    uint8_t mac[32];
    px_hmac_sha256(secret, strlen(secret), text, strlen(text), mac);
    px_base64_encode(mac, 32, out, false);
}

int main(void)
{
    mock.now_ns = 784111777ull * 1000000000ull; /* Sun, 06 Nov 1994 08:49:37 GMT */
    check(mock_configure("{\"consumers\":[{\"name\":\"app\",\"access_key\":\"ak1\","
                         "\"secret_key\":\"sk1\"}],\"signed_headers\":[\"x-nonce\"],"
                         "\"clock_skew\":300}"),
          "hmac-auth configures");
    const char *date = "Sun, 06 Nov 1994 08:49:37 GMT";
    char sig[64];
    sign("sk1", "POST\n/api?a=1\nak1\nSun, 06 Nov 1994 08:49:37 GMT\nx-nonce:n1\n", sig);
    uint32_t a, id;
    id = mock_request(&a, "POST", "/api?a=1", "x-hmac-access-key", "ak1", "x-hmac-signature",
                      sig, "date", date, "x-hmac-signed-headers", "x-nonce", "x-nonce", "n1",
                      NULL);
    check(mock_status() == 200 && strcmp(mock_req_header("x-mse-consumer"), "app") == 0,
          "valid signature passes");
    mock_finish(id);
    id = mock_request(&a, "POST", "/api?a=2", "x-hmac-access-key", "ak1", "x-hmac-signature",
                      sig, "date", date, "x-hmac-signed-headers", "x-nonce", "x-nonce", "n1",
                      NULL);
    check(mock_status() == 401 && strstr(mock.reply_body, "signature"),
          "signature over another path: 401");
    mock_finish(id);
    id = mock_request(&a, "POST", "/api?a=1", "x-hmac-access-key", "ak1", "x-hmac-signature",
                      sig, "date", date, "x-hmac-signed-headers", "x-nonce", "x-nonce", "n2",
                      NULL);
    check(mock_status() == 401, "signed header value changed: 401");
    mock_finish(id);
    id = mock_request(&a, "POST", "/api?a=1", "x-hmac-access-key", "ak1", "x-hmac-signature",
                      sig, "date", date, NULL);
    check(mock_status() == 401 && strstr(mock.reply_body, "not signed"),
          "required header not signed: 401");
    mock_finish(id);
    char sig_empty[64];
    sign("sk1", "POST\n/api?a=1\nak1\nSun, 06 Nov 1994 08:49:37 GMT\nx-nonce:\n", sig_empty);
    id = mock_request(&a, "POST", "/api?a=1", "x-hmac-access-key", "ak1", "x-hmac-signature",
                      sig_empty, "date", date, "x-hmac-signed-headers", "x-nonce", NULL);
    check(mock_status() == 401 && strstr(mock.reply_body, "missing"),
          "required header absent (signed as empty): 401");
    mock_finish(id);
    id = mock_request(&a, "POST", "/api?a=1", "x-hmac-access-key", "nobody", "x-hmac-signature",
                      sig, "date", date, "x-hmac-signed-headers", "x-nonce", "x-nonce", "n1",
                      NULL);
    check(mock_status() == 401, "unknown access key: 401");
    mock_finish(id);
    mock.now_ns += 301ull * 1000000000ull;
    id = mock_request(&a, "POST", "/api?a=1", "x-hmac-access-key", "ak1", "x-hmac-signature",
                      sig, "date", date, "x-hmac-signed-headers", "x-nonce", "x-nonce", "n1",
                      NULL);
    check(mock_status() == 401 && strstr(mock.reply_body, "skew"), "outside clock skew: 401");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", NULL);
    check(mock_status() == 401 && strstr(mock_reply_header("www-authenticate"), "HMAC-SHA256"),
          "no signature headers: 401 with WWW-Authenticate");
    mock_finish(id);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
