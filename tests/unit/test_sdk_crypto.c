/*
 * test_sdk_crypto.c — unit tests for the guest SDK's SHA-256, HMAC-SHA256,
 * constant-time compare and hex (sdk/c/px_crypto.c), compiled natively.
 *
 * Owns:     FIPS 180-4 / NIST example vectors (incl. empty input and one
 *           million 'a'), incremental hashing across block boundaries,
 *           RFC 4231 HMAC test cases 1-7.
 * Not here: JWT (test_sdk_jwt.c), base64 (test_sdk_base64.c).
 */
#include "../../sdk/c/px_crypto.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static int hash_is(const void *data, size_t n, const char *hex)
{
    uint8_t d[32];
    char out[65];
    px_sha256(data, n, d);
    px_hex(d, 32, out);
    return strcmp(out, hex) == 0;
}

static int hmac_is(const void *key, size_t kl, const void *msg, size_t ml, const char *hex)
{
    uint8_t d[32];
    char out[65];
    px_hmac_sha256(key, kl, msg, ml, d);
    px_hex(d, 32, out);
    return strncmp(out, hex, strlen(hex)) == 0;
}

static void test_sha256(void)
{
    check(hash_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
          "sha256 empty");
    check(hash_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
          "sha256 abc");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check(hash_is(m448, strlen(m448),
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
          "sha256 448-bit message");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    check(hash_is(m896, strlen(m896),
                  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
          "sha256 896-bit message");
    size_t n = 1000000;
    char *a = malloc(n);
    memset(a, 'a', n);
    check(hash_is(a, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
          "sha256 one million 'a'");
    /* same million in odd-sized updates */
    px_sha256_ctx c;
    uint8_t d[32], e[32];
    px_sha256_init(&c);
    for (size_t off = 0, step = 1; off < n; off += step, step = step % 97 + 1)
        px_sha256_update(&c, a + off, off + step > n ? n - off : step);
    px_sha256_final(&c, d);
    px_sha256(a, n, e);
    check(memcmp(d, e, 32) == 0, "sha256 incremental updates equal one-shot");
    free(a);
    /* lengths around the padding boundary (55, 56, 63, 64 bytes) differ */
    check(hash_is("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 55,
                  "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
          "sha256 55 bytes (one block with length)");
    check(hash_is("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 56,
                  "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
          "sha256 56 bytes (padding spills into a second block)");
}

static void test_hmac(void)
{
    uint8_t k1[20], k3[20], d3[50], k4[25], d4[50], k5[20], k6[131];
    memset(k1, 0x0b, 20);
    check(hmac_is(k1, 20, "Hi There", 8,
                  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
          "hmac rfc4231 case 1");
    const char *m2 = "what do ya want for nothing?";
    check(hmac_is("Jefe", 4, m2, strlen(m2),
                  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
          "hmac rfc4231 case 2");
    memset(k3, 0xaa, 20);
    memset(d3, 0xdd, 50);
    check(hmac_is(k3, 20, d3, 50,
                  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
          "hmac rfc4231 case 3");
    for (int i = 0; i < 25; i++)
        k4[i] = (uint8_t)(i + 1);
    memset(d4, 0xcd, 50);
    check(hmac_is(k4, 25, d4, 50,
                  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
          "hmac rfc4231 case 4");
    memset(k5, 0x0c, 20);
    check(hmac_is(k5, 20, "Test With Truncation", 20, "a3b6167473100ee06e0c796c2955552b"),
          "hmac rfc4231 case 5 (truncated to 128 bits)");
    memset(k6, 0xaa, 131);
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    check(hmac_is(k6, 131, m6, strlen(m6),
                  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
          "hmac rfc4231 case 6 (key longer than a block)");
    const char *m7 = "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the "
                     "HMAC algorithm.";
    check(hmac_is(k6, 131, m7, strlen(m7),
                  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
          "hmac rfc4231 case 7 (long key and data)");
}

static void test_ct_equal(void)
{
    check(px_ct_equal("abcdef", "abcdef", 6), "ct_equal equal");
    check(!px_ct_equal("abcdef", "abcdeg", 6), "ct_equal last byte differs");
    check(!px_ct_equal("Xbcdef", "abcdef", 6), "ct_equal first byte differs");
    check(px_ct_equal("", "x", 0), "ct_equal zero length");
}

int main(void)
{
    test_sha256();
    test_hmac();
    test_ct_equal();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
