/*
 * test_sdk_json.c — unit tests for the guest SDK's JSON reader
 * (sdk/c/px_json.c), compiled natively.
 *
 * Owns:     accepted and rejected documents, escapes and surrogates,
 *           numbers, the depth limit, accessors, and a truncation sweep.
 * Not here: the _rules_ convention (test_sdk_rules.c).
 */
#include "../../sdk/c/px_json.c"

#include <math.h>
#include <stdio.h>

#include "tap.h"

static int parses(const char *s)
{
    px_json *v = px_json_parse(s, strlen(s), NULL, 0);
    px_json_free(v);
    return v != NULL;
}

static double num(const char *s)
{
    px_json *v = px_json_parse(s, strlen(s), NULL, 0);
    double d = v && v->type == PX_JSON_NUMBER ? v->number : NAN;
    px_json_free(v);
    return d;
}

static int string_is(const char *doc, const char *want, size_t want_len)
{
    px_json *v = px_json_parse(doc, strlen(doc), NULL, 0);
    int ok = v && v->type == PX_JSON_STRING && v->string_len == want_len &&
             memcmp(v->string, want, want_len) == 0;
    px_json_free(v);
    return ok;
}

int main(void)
{
    check(parses("{}") && parses("[]") && parses(" {\"a\" : [1, 2, {\"b\": null}]} ") &&
              parses("true") && parses("\"x\"") && parses("-0.5e+3"),
          "valid documents parse");
    static const char *bad[] = {"", " ", "{", "}", "[1,]", "{\"a\":1,}", "{a:1}", "{\"a\" 1}",
                                "[1 2]", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul",
                                "\"abc", "\"a\\x\"", "\"\t\"", "[1]]", "{} x", "'a'",
                                "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "NaN"};
    int rejected = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parses(bad[i])) {
            printf("# accepted invalid: %s\n", bad[i]);
            rejected = 0;
        }
    check(rejected, "invalid documents are rejected");

    char err[128];
    px_json *v = px_json_parse("{\"a\": x}", 8, err, sizeof err);
    check(!v && strstr(err, "offset 6"), "error message carries the offset");

    check(string_is("\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\"", "a\"b\\c/d\n\t\r\b\f", 12),
          "simple escapes");
    check(string_is("\"\\u00e9\\u4e2d\"", "\xc3\xa9\xe4\xb8\xad", 5), "\\u escapes to UTF-8");
    check(string_is("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4), "surrogate pair to UTF-8");
    check(string_is("\"a\\u0000b\"", "a\0b", 3), "\\u0000 kept with length");

    check(num("0") == 0 && num("-12") == -12 && num("3.25") == 3.25 && num("1e3") == 1000 &&
              num("2E-2") == 0.02,
          "numbers");
    check(num("123456789012") == 123456789012.0, "large integers are exact");

    char deep[300] = "";
    for (int i = 0; i < PX_JSON_MAX_DEPTH; i++)
        strcat(deep, "[");
    for (int i = 0; i < PX_JSON_MAX_DEPTH; i++)
        strcat(deep, "]");
    check(parses(deep), "nesting at the limit parses");
    char deeper[300] = "[";
    strcat(deeper, deep);
    strcat(deeper, "]");
    check(!parses(deeper), "nesting beyond the limit is rejected");

    const char *doc = "{\"s\":\"v\",\"n\":5,\"b\":true,\"l\":[\"x\",\"y\"],\"bad\":[1],"
                      "\"o\":{\"k\":1},\"dup\":1,\"dup\":2}";
    v = px_json_parse(doc, strlen(doc), NULL, 0);
    check(v && v->count == 8, "object members counted");
    check(strcmp(px_json_get_str(v, "s", ""), "v") == 0 && px_json_get_num(v, "n", 0) == 5 &&
              px_json_get_bool(v, "b", false) && px_json_get_num(v, "s", 7) == 7 &&
              px_json_get_str(v, "missing", NULL) == NULL,
          "typed getters with defaults");
    check(px_json_get_num(v, "dup", 0) == 1, "duplicate keys: first wins");
    char **sv;
    size_t n;
    check(px_json_get_strv(v, "l", &sv, &n) && n == 2 && strcmp(sv[1], "y") == 0 && !sv[2],
          "string vector");
    px_strv_free(sv);
    check(!px_json_get_strv(v, "bad", &sv, &n), "string vector rejects non-strings");
    check(px_json_get_strv(v, "missing", &sv, &n) && n == 0 && sv && !sv[0],
          "string vector of a missing key is empty");
    px_strv_free(sv);
    check(px_json_len(px_json_get(v, "l")) == 2 &&
              px_json_at(px_json_get(v, "l"), 0)->type == PX_JSON_STRING &&
              px_json_at(px_json_get(v, "l"), 2) == NULL,
          "array access");
    px_json_free(v);

    /* every prefix of a document must parse or fail cleanly (run under ASan in CI) */
    const char *full = "{\"a\":[1,2.5e1,\"\\u00e9x\",{\"b\":[true,false,null]}],\"c\":\"d\"}";
    int clean = 1;
    size_t fl = strlen(full);
    for (size_t i = 0; i < fl; i++) {
        char *copy = malloc(i ? i : 1);
        memcpy(copy, full, i);
        px_json *t = px_json_parse(copy, i, NULL, 0);
        if (t)
            clean = 0; /* no proper prefix of this document is valid */
        px_json_free(t);
        free(copy);
    }
    check(clean, "every truncation is rejected without crashing");
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
