/*
 * test_sdk_codec.c — unit tests for the guest SDK's encoders, compiled
 * natively: base64 / base64url (sdk/c/px_base64.c), JWT HS256
 * (sdk/c/px_jwt.c, RFC 7515 appendix A.1), RESP (sdk/c/px_resp.c) and the
 * proxy-wasm serialized map (sdk/c/px_pairs.c).
 *
 * Owns:     RFC 4648 vectors, round trips, rejection of malformed input,
 *           JWT sign/verify/time claims, RESP encode/parse incl. partial
 *           and malformed replies, pair-map wire format.
 * Not here: hashing (test_sdk_crypto.c), JSON (test_sdk_json.c).
 */
#include "../../sdk/c/px_base64.c"
#include "../../sdk/c/px_crypto.c"
#include "../../sdk/c/px_json.c"
#include "../../sdk/c/px_jwt.c"
#include "../../sdk/c/px_pairs.c"
#include "../../sdk/c/px_resp.c"
#include "../../sdk/c/px_text.c"

#include <stdio.h>

#include "tap.h"

static int enc_is(const char *in, bool url, const char *want)
{
    char out[128];
    size_t n = px_base64_encode(in, strlen(in), out, url);
    return n == strlen(want) && strcmp(out, want) == 0 &&
           px_base64_encoded_len(strlen(in), url) == n;
}

static int dec_is(const char *in, bool url, const char *want)
{
    char out[128];
    size_t n;
    if (!px_base64_decode(in, strlen(in), out, &n, url))
        return 0;
    return n == strlen(want) && memcmp(out, want, n) == 0;
}

static int dec_rejects(const char *in, bool url)
{
    char out[128];
    size_t n;
    return !px_base64_decode(in, strlen(in), out, &n, url);
}

static void test_base64(void)
{
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *std[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    static const char *url[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    int ok = 1;
    for (int i = 0; i < 7; i++)
        ok &= enc_is(plain[i], false, std[i]) && dec_is(std[i], false, plain[i]);
    check(ok, "base64 RFC 4648 vectors encode and decode");
    ok = 1;
    for (int i = 0; i < 7; i++)
        ok &= enc_is(plain[i], true, url[i]) && dec_is(url[i], true, plain[i]) &&
              dec_is(std[i], true, plain[i]);
    check(ok, "base64url vectors, padding optional on input");
    check(enc_is("\xfb\xff", false, "+/8=") && enc_is("\xfb\xff", true, "-_8"),
          "base64 vs base64url alphabets");
    check(dec_rejects("-_8=", false) && dec_rejects("+/8", true), "alphabets are not mixed");
    check(dec_rejects("Zg=", false), "base64 rejects bad length");
    check(dec_rejects("Zh==", false), "base64 rejects non-zero trailing bits");
    check(dec_rejects("Zm9v!A==", false), "base64 rejects bad characters");
    check(dec_rejects("Z===", false) && dec_rejects("Z", true), "base64 rejects a lone sextet");
    check(dec_rejects("Zm8=Zm8=", false), "base64 rejects padding in the middle");
    check(dec_rejects("Zg=", true), "base64url rejects partial padding");
    /* round trip of every byte value at every length up to 64 */
    uint8_t data[64], out[64];
    char enc[100];
    for (int i = 0; i < 64; i++)
        data[i] = (uint8_t)(i * 37 + 11);
    ok = 1;
    for (size_t n = 0; n <= 64; n++) {
        for (int u = 0; u < 2; u++) {
            size_t m, el = px_base64_encode(data, n, enc, u);
            ok &= px_base64_decode(enc, el, out, &m, u) && m == n && memcmp(out, data, n) == 0;
        }
    }
    check(ok, "base64 and base64url round trips, lengths 0..64");
}

/* RFC 7515 appendix A.1 */
static const char *A1_HEADER = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
static const char *A1_PAYLOAD =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
static const char *A1_KEY_B64 =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
static const char *A1_TOKEN =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

static void test_jwt(void)
{
    uint8_t key[128];
    size_t kl;
    check(px_base64_decode(A1_KEY_B64, strlen(A1_KEY_B64), key, &kl, true) && kl == 64,
          "jwt RFC 7515 A.1 key decodes to 64 bytes");
    char *tok = px_jwt_sign_hs256(A1_HEADER, A1_PAYLOAD, key, kl);
    check(tok && strcmp(tok, A1_TOKEN) == 0, "jwt RFC 7515 A.1 signature matches");
    free(tok);
    px_json *claims = NULL;
    size_t tl = strlen(A1_TOKEN);
    check(px_jwt_verify_hs256(A1_TOKEN, tl, key, kl, 1300819379, 0, &claims) == PX_JWT_OK &&
              strcmp(px_json_get_str(claims, "iss", ""), "joe") == 0 &&
              px_json_get_bool(claims, "http://example.com/is_root", false),
          "jwt A.1 verifies before exp and exposes claims");
    px_json_free(claims);
    check(px_jwt_verify_hs256(A1_TOKEN, tl, key, kl, 1300819380, 0, NULL) == PX_JWT_EXPIRED,
          "jwt expired at exp");
    check(px_jwt_verify_hs256(A1_TOKEN, tl, key, kl, 1300819400, 30, NULL) == PX_JWT_OK,
          "jwt clock skew tolerates a recently expired token");
    check(px_jwt_verify_hs256(A1_TOKEN, tl, "wrong", 5, 0, 0, NULL) == PX_JWT_BAD_SIGNATURE,
          "jwt wrong key");
    char bad[400];
    strcpy(bad, A1_TOKEN);
    bad[tl - 1] = bad[tl - 1] == 'k' ? 'j' : 'k';
    check(px_jwt_verify_hs256(bad, tl, key, kl, 0, 0, NULL) != PX_JWT_OK, "jwt tampered signature");
    strcpy(bad, A1_TOKEN);
    bad[50] = bad[50] == 'a' ? 'b' : 'a';
    check(px_jwt_verify_hs256(bad, tl, key, kl, 0, 0, NULL) != PX_JWT_OK, "jwt tampered payload");
    check(px_jwt_verify_hs256("a.b", 3, key, kl, 0, 0, NULL) == PX_JWT_MALFORMED &&
              px_jwt_verify_hs256("a.b.c.d", 7, key, kl, 0, 0, NULL) == PX_JWT_MALFORMED,
          "jwt wrong number of parts");
    char *none = px_jwt_sign_hs256("{\"alg\":\"none\"}", "{}", key, kl);
    check(px_jwt_verify_hs256(none, strlen(none), key, kl, 0, 0, NULL) == PX_JWT_BAD_ALG,
          "jwt alg other than HS256 is refused");
    free(none);
    char *nbf = px_jwt_sign_hs256(NULL, "{\"nbf\":1000,\"exp\":2000}", "k", 1);
    check(px_jwt_verify_hs256(nbf, strlen(nbf), "k", 1, 900, 60, NULL) == PX_JWT_NOT_YET_VALID &&
              px_jwt_verify_hs256(nbf, strlen(nbf), "k", 1, 950, 60, NULL) == PX_JWT_OK &&
              px_jwt_verify_hs256(nbf, strlen(nbf), "k", 1, 1500, 0, NULL) == PX_JWT_OK,
          "jwt nbf with skew");
    free(nbf);
    const char *odd[] = {"{\"exp\":\"1\"}", "{\"nbf\":\"9999999999\"}", "{\"exp\":null}", "[1]", "\"x\""};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        char *t = px_jwt_sign_hs256(NULL, odd[i], "k", 1);
        check(t && px_jwt_verify_hs256(t, strlen(t), "k", 1, 100, 0, NULL) == PX_JWT_MALFORMED,
              "jwt claims that are not an object, or a non-numeric exp/nbf, are malformed");
        free(t);
    }
}

static void test_resp(void)
{
    const char *argv[] = {"SET", "key", "hello world"};
    size_t n;
    char *cmd = px_resp_command(&n, 3, argv);
    const char *want = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$11\r\nhello world\r\n";
    check(cmd && n == strlen(want) && memcmp(cmd, want, n) == 0, "resp command encoding");
    px_resp r;
    check(px_resp_parse(cmd, n, &r) == (long)n && r.type == PX_RESP_ARRAY && r.count == 3 &&
              r.items[2].len == 11 && memcmp(r.items[2].str, "hello world", 11) == 0,
          "resp parses its own command back");
    px_resp_free(&r);
    free(cmd);
    check(px_resp_parse("+OK\r\n", 5, &r) == 5 && r.type == PX_RESP_SIMPLE && r.len == 2,
          "resp simple string");
    check(px_resp_parse("-ERR wrong\r\n", 12, &r) == 12 && r.type == PX_RESP_ERROR &&
              r.len == 9,
          "resp error");
    check(px_resp_parse(":-42\r\n", 6, &r) == 6 && r.type == PX_RESP_INTEGER && r.integer == -42,
          "resp integer");
    check(px_resp_parse("$-1\r\n", 5, &r) == 5 && r.type == PX_RESP_NIL, "resp null bulk");
    check(px_resp_parse("*-1\r\n", 5, &r) == 5 && r.type == PX_RESP_NIL, "resp null array");
    check(px_resp_parse("$0\r\n\r\n", 6, &r) == 6 && r.type == PX_RESP_BULK && r.len == 0,
          "resp empty bulk");
    check(px_resp_parse("$5\r\nhel", 7, &r) == 0 && px_resp_parse(":12", 3, &r) == 0 &&
              px_resp_parse("*2\r\n:1\r\n", 8, &r) == 0,
          "resp incomplete replies return 0");
    check(px_resp_parse("$3\r\nabcd\r\n", 10, &r) == -1 && px_resp_parse("?x\r\n", 4, &r) == -1 &&
              px_resp_parse(":1x\r\n", 5, &r) == -1,
          "resp malformed replies return -1");
    const char *nested = "*2\r\n*1\r\n:7\r\n$1\r\nz\r\n";
    check(px_resp_parse(nested, strlen(nested), &r) == (long)strlen(nested) &&
              r.items[0].type == PX_RESP_ARRAY && r.items[0].items[0].integer == 7,
          "resp nested arrays");
    px_resp_free(&r);
    char deep[64] = "";
    for (int i = 0; i < 12; i++)
        strcat(deep, "*1\r\n");
    strcat(deep, ":1\r\n");
    check(px_resp_parse(deep, strlen(deep), &r) == -1, "resp nesting limit");
}

static void test_pairs(void)
{
    px_pairs p;
    px_pairs_init(&p);
    px_pairs_add(&p, "a", "1");
    px_pairs_add(&p, "b", "22");
    size_t n;
    char *buf = px_pairs_serialize(&p, &n);
    static const char want[29] = {2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
                                  'a', 0, '1', 0, 'b', 0, '2', '2', 0};
    check(n == 29 && memcmp(buf, want, 29) == 0, "pairs serialize matches ABI §2.7 example");
    px_pairs q;
    check(px_pairs_parse(&q, buf, n) && q.count == 2 && strcmp(px_pairs_get(&q, "B"), "22") == 0,
          "pairs parse and case-insensitive get");
    px_pairs_add(&q, "c", "3");
    check(q.count == 3 && strcmp(px_pairs_get(&q, "c"), "3") == 0 &&
              strcmp(px_pairs_get(&q, "a"), "1") == 0,
          "pairs add after parse keeps parsed entries");
    px_pairs_free(&q);
    px_pairs_free(&p);
    check(px_pairs_parse(&q, NULL, 0) && q.count == 0, "pairs empty (size 0)");
    px_pairs_free(&q);
    char *zero = calloc(1, 4);
    check(px_pairs_parse(&q, zero, 4) && q.count == 0, "pairs empty (count 0)");
    px_pairs_free(&q);
    char *bad = malloc(28);
    memcpy(bad, want, 28);
    check(!px_pairs_parse(&q, bad, 28), "pairs truncated map rejected");
    bad = malloc(29);
    memcpy(bad, want, 29);
    bad[23] = 'x';
    check(!px_pairs_parse(&q, bad, 29), "pairs missing NUL separator rejected");
    bad = malloc(29);
    memcpy(bad, want, 29);
    bad[0] = 100;
    check(!px_pairs_parse(&q, bad, 29), "pairs absurd count rejected");
}

static void test_text(void)
{
    char *v = px_query_param("/p?a=1&key=abc%20d&x", "key");
    check(v && strcmp(v, "abc d") == 0, "query param percent-decoded");
    free(v);
    v = px_query_param("/p?a=1&x", "x");
    check(v && v[0] == '\0', "query param without value");
    free(v);
    check(px_query_param("/p?a=1", "b") == NULL && px_query_param("/p", "a") == NULL,
          "query param absent");
    v = px_cookie_value("a=1; jwt=\"tok\"; b=2", "jwt");
    check(v && strcmp(v, "tok") == 0, "cookie value (quoted)");
    free(v);
    check(px_cookie_value("ajwt=1", "jwt") == NULL, "cookie name must match whole");
    check(px_glob_match("/api/*", "/api/v1") && !px_glob_match("/api/*", "/ap") &&
              px_glob_imatch("https://*.EXAMPLE.com", "https://a.b.example.com") &&
              !px_glob_imatch("https://*.example.com", "https://example.com"),
          "glob matching");
    v = px_host_strip_port("example.com:8080");
    check(strcmp(v, "example.com") == 0, "host port stripped");
    free(v);
    v = px_host_strip_port("[::1]:80");
    check(strcmp(v, "[::1]") == 0, "IPv6 host port stripped");
    free(v);
    int64_t t;
    check(px_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &t) && t == 784111777,
          "http date IMF-fixdate");
    check(px_parse_http_date("1700000000", &t) && t == 1700000000, "http date unix seconds");
    check(!px_parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", &t) &&
              !px_parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT", &t),
          "http date rejects other formats");
}

int main(void)
{
    test_base64();
    test_jwt();
    test_resp();
    test_pairs();
    test_text();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
