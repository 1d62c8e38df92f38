/*
 * test_sdk_plugin_bot_detect.c — plugins/bot-detect on the mock host.
 */
#include "sdk_plugin_harness.h"
#include "../../plugins/bot-detect/bot-detect.c"
#include "sdk_mock_host.h"
#include "tap.h"

static uint32_t status_for(const char *ua)
{
    uint32_t a, id = ua ? mock_request(&a, "GET", "/", "user-agent", ua, NULL)
                        : mock_request(&a, "GET", "/", NULL);
    uint32_t s = mock_status();
    mock_finish(id);
    return s;
}

int main(void)
{
    check(mock_configure("{\"allow\":[\"my-monitor-bot\"],\"deny\":[\"^curl/\"]}"),
          "bot-detect configures");
    check(status_for("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)") == 403,
          "default list: Googlebot denied");
    check(status_for("Mozilla/5.0 (compatible; bingbot/2.0)") == 403, "default list: bingbot");
    check(status_for("Baiduspider+(+http://www.baidu.com/search/spider.htm)") == 403,
          "default list: spider");
    check(status_for("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0") == 200,
          "browser passes");
    check(status_for("curl/8.0.1") == 403, "configured deny pattern");
    check(status_for("my-monitor-bot/1.0") == 200, "allow list wins over deny lists");
    check(status_for(NULL) == 200, "missing user-agent passes by default");
    check(mock_configure("{\"use_default_deny\":false,\"block_empty_user_agent\":true,"
                         "\"blocked_code\":429,\"blocked_message\":\"go away\"}"),
          "reconfigure without default list");
    check(status_for("Googlebot/2.1") == 200, "default list can be turned off");
    check(status_for(NULL) == 429 && strcmp(mock.reply_body, "go away") == 0,
          "empty user-agent blocked with custom status and message");
    check(!mock_configure("{\"deny\":[\"(\"]}"), "invalid regexp refused");
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
