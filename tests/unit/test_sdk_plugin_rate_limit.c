/*
 * test_sdk_plugin_rate_limit.c — plugins/rate-limit on the mock host:
 * local fixed windows through shared data (CAS retries, per-key buckets,
 * window reset, X-RateLimit-* headers) and global mode through
 * proxy_redis_call (INCR, EXPIRE on the first hit, 429, fail-open).
 */
#include "sdk_plugin_harness.h"
#include "../../plugins/rate-limit/rate-limit.c"
#include "sdk_mock_host.h"
#include "tap.h"

static uint32_t hit(const char *user, uint32_t *id_out)
{
    uint32_t a, id = mock_request(&a, "GET", "/", "x-user", user, NULL);
    if (id_out)
        *id_out = id;
    else
        mock_finish(id);
    return mock_status();
}

static void redis_reply(const char *resp, uint32_t status)
{
    snprintf(mock.redis_reply, sizeof mock.redis_reply, "%s", resp);
    proxy_on_redis_call_response(MOCK_ROOT, mock.redis_token, status, strlen(resp));
}

int main(void)
{
    mock.now_ns = 1000ull * 60 * 1000000000ull + 10ull * 1000000000ull; /* 10 s into a window */
    check(mock_configure("{\"key\":{\"type\":\"header\",\"name\":\"x-user\"},\"limit\":2,"
                         "\"window_seconds\":60}"),
          "local rate-limit configures");
    uint32_t id;
    check(hit("u1", &id) == 200, "first request passes");
    mock_response(id, "200");
    check(strcmp(mock_resp_header("x-ratelimit-limit"), "2") == 0 &&
              strcmp(mock_resp_header("x-ratelimit-remaining"), "1") == 0 &&
              strcmp(mock_resp_header("x-ratelimit-reset"), "50") == 0,
          "X-RateLimit-* on the response");
    mock_finish(id);
    mock.cas_conflicts = 3;
    check(hit("u1", NULL) == 200 && mock.cas_conflicts == 0, "second passes after CAS retries");
    check(hit("u1", NULL) == 429 && strcmp(mock_reply_header("x-ratelimit-remaining"), "0") == 0 &&
              strcmp(mock_reply_header("retry-after"), "50") == 0,
          "third in the window: 429 with headers");
    check(hit("u2", NULL) == 200, "another key has its own bucket");
    uint32_t a;
    id = mock_request(&a, "GET", "/", NULL);
    check(mock_status() == 200 && a == 0, "request without the key header is not limited");
    mock_finish(id);
    mock.now_ns += 50ull * 1000000000ull;
    check(hit("u1", NULL) == 200, "next window resets the count");

    check(mock_configure("{\"mode\":\"global\",\"key\":{\"type\":\"header\",\"name\":\"x-user\"},"
                         "\"limit\":2,\"window_seconds\":60,\"redis\":{\"cluster\":"
                         "\"outbound|6379||redis.static\"}}"),
          "global rate-limit configures");
    mock.redis_calls = 0;
    id = mock_request(&a, "GET", "/", "x-user", "u1", NULL);
    check(a != 0 && mock.redis_calls == 1 && strncmp(mock.redis_query, "*2\r\n$4\r\nINCR\r\n", 14) == 0,
          "global: request paused on a Redis INCR");
    redis_reply(":1\r\n", 0);
    check(mock.continued == 1 && mock.reply_status == 0 && mock.redis_calls == 2 &&
              strncmp(mock.redis_query, "*3\r\n$6\r\nEXPIRE\r\n", 16) == 0,
          "first hit: resumed and EXPIRE sent");
    redis_reply("+OK\r\n", 0); /* reply to EXPIRE: ignored */
    mock_response(id, "200");
    check(strcmp(mock_resp_header("x-ratelimit-remaining"), "1") == 0, "remaining from Redis count");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", "x-user", "u1", NULL);
    redis_reply(":3\r\n", 0);
    check(mock.reply_status == 429 && mock.continued == 0, "count above limit: 429");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", "x-user", "u1", NULL);
    redis_reply("", 1);
    check(mock.continued == 1 && mock.reply_status == 0, "redis transport error: fail open");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", "x-user", "u1", NULL);
    redis_reply("-ERR no\r\n", 0);
    check(mock.continued == 1 && mock.reply_status == 0, "redis error reply: fail open");
    mock_finish(id);
    id = mock_request(&a, "GET", "/", "x-user", "u1", NULL);
    mock_finish(id);
    int before = mock.continued;
    redis_reply(":9\r\n", 0);
    check(mock.continued == before && mock.reply_status == 0,
          "reply after the stream is gone is dropped");
    check(!mock_configure("{\"mode\":\"global\",\"limit\":1}"), "global without redis refused");
    check(!mock_configure("{\"key\":{\"type\":\"cookie\"},\"limit\":1}"), "unknown key type refused");
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
