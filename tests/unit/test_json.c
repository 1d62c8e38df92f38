/*
 * test_json.c — unit tests for the JSON reader (src/util/ut_json.c).
 *
 * Owns:     grammar acceptance/rejection, string decoding, accessors, the
 *           nesting limit, and a robustness sweep (every truncation and
 *           byte flip of a wast2json-shaped document must parse or fail
 *           cleanly). Needs only src/util.
 * Not here: the meaning of wast2json commands (tests/wast does that).
 * Output:   "ok - NAME" / "not ok - NAME" lines, then "N passed, N failed".
 */
#include "ut_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static ut_json *parse(const char *s)
{
    return ut_json_parse(s, strlen(s), 0, NULL);
}

static int parses(const char *s)
{
    ut_json *v = parse(s);
    ut_json_free(v);
    return v != NULL;
}

static void test_grammar(void)
{
    static const char *good[] = {
        "null", "true", "false", "0", "-0", "12", "-1.5e10", "1E+2", "0.25",
        "\"\"", "\"a\\nb\"", "[]", "{}", " [ 1 , 2 ] ", "{\"a\":{\"b\":[null]}}",
        "\"\\u00e9\\ud83d\\ude00\"",
    };
    static const char *bad[] = {
        "", " ", "nul", "tru", "01", "-", "1.", ".5", "1e", "+1", "[1,]", "{\"a\":1,}",
        "[1 2]", "{\"a\" 1}", "{1:2}", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"",
        "\"a\tb\"", "[", "{", "]", "1 2", "[1]]", "/* c */ 1", "'a'", "NaN", "Infinity",
    };
    int all = 1;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!parses(good[i])) {
            printf("# should parse: %s\n", good[i]);
            all = 0;
        }
    check(all, "valid documents parse");
    all = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parses(bad[i])) {
            printf("# should fail: %s\n", bad[i]);
            all = 0;
        }
    check(all, "invalid documents are rejected");
}

static void test_values(void)
{
    const char *doc = "{\"source_filename\": \"x.wast\", \"commands\": [\n"
                      " {\"type\": \"module\", \"line\": 3, \"filename\": \"x.0.wasm\"},\n"
                      " {\"type\": \"assert_return\", \"line\": 4, \"action\": {\"type\": "
                      "\"invoke\", \"field\": \"f\\u0000g\", \"args\": [{\"type\": \"i32\", "
                      "\"value\": \"4294967295\"}]}, \"expected\": [], \"ok\": true}]}";
    ut_json *root = parse(doc);
    check(root != NULL, "wast2json-shaped document parses");
    const ut_json *cmds = ut_json_get(root, "commands");
    check(ut_json_type_of(cmds) == UT_JSON_ARRAY && ut_json_len(cmds) == 2, "array length");
    const ut_json *c1 = ut_json_at(cmds, 1);
    double line = 0;
    check(ut_json_num(ut_json_get(c1, "line"), &line) && line == 4, "number member");
    check(strcmp(ut_json_str(ut_json_get(c1, "type")), "assert_return") == 0, "string member");
    size_t n = 0;
    const char *field = ut_json_strn(ut_json_get(ut_json_get(c1, "action"), "field"), &n);
    check(field && n == 3 && memcmp(field, "f\0g", 3) == 0, "\\u0000 kept with length");
    bool b = false;
    check(ut_json_bool(ut_json_get(c1, "ok"), &b) && b, "boolean member");
    check(ut_json_get(c1, "missing") == NULL && ut_json_at(cmds, 2) == NULL &&
              ut_json_str(ut_json_get(NULL, "x")) == NULL && ut_json_len(NULL) == 0,
          "accessors tolerate NULL and misses");
    const ut_json *val;
    const char *k = ut_json_key_at(root, 0, &val);
    check(k && strcmp(k, "source_filename") == 0 && ut_json_type_of(val) == UT_JSON_STRING,
          "object member by index");
    ut_json_free(root);

    root = parse("\"\\u00e9\\ud83d\\ude00\\/\"");
    check(root && strcmp(ut_json_str(root), "\xc3\xa9\xf0\x9f\x98\x80/") == 0,
          "escapes decode to UTF-8 (incl. surrogate pair)");
    ut_json_free(root);
    root = parse("-2.5e-3");
    double d = 0;
    check(root && ut_json_num(root, &d) && fabs(d + 0.0025) < 1e-15, "number value");
    ut_json_free(root);
}

static void test_errors(void)
{
    ut_json_err err;
    const char *doc = "{\n  \"a\": [1,\n  2,,]}";
    ut_json *v = ut_json_parse(doc, strlen(doc), 0, &err);
    check(v == NULL && err.line == 3 && err.col == 5 && err.msg[0], "error has line and column");

    /* The input need not be NUL-terminated: parse a prefix of a buffer. */
    const char buf[] = {'[', '1', ']', 'x'};
    v = ut_json_parse(buf, 3, 0, &err);
    check(v != NULL && ut_json_len(v) == 1, "length-bounded input");
    ut_json_free(v);

    v = ut_json_parse(NULL, 0, 0, &err);
    check(v == NULL && err.msg[0], "NULL input is an error");
}

static void test_depth(void)
{
    size_t n = 100000;
    char *deep = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        deep[i] = '[';
        deep[n + i] = ']';
    }
    deep[2 * n] = '\0';
    ut_json_err err;
    ut_json *v = ut_json_parse(deep, 2 * n, 0, &err);
    check(v == NULL && strstr(err.msg, "deep") != NULL, "deep nesting rejected, no overflow");
    v = ut_json_parse(deep + n - 10, 20, 0, &err);
    check(v != NULL, "nesting within the limit accepted");
    ut_json_free(v);
    v = ut_json_parse(deep + n - 10, 20, 5, &err);
    check(v == NULL, "custom depth limit applies");
    free(deep);
}

/* Every truncation and many single-byte corruptions of a real-looking
 * document must either parse or fail with a message; never crash (run this
 * under ASan to make it mean something). */
static void test_robustness(void)
{
    const char *doc =
        "{\"source_filename\": \"i32.wast\",\n \"commands\": [\n"
        "  {\"type\": \"module\", \"line\": 1, \"name\": \"$M\", \"filename\": \"i32.0.wasm\"},\n"
        "  {\"type\": \"assert_return\", \"line\": 2, \"action\": {\"type\": \"invoke\", "
        "\"field\": \"add\\u00e9\", \"args\": [{\"type\": \"f32\", \"value\": \"2143289344\"}]}, "
        "\"expected\": [{\"type\": \"f32\", \"value\": \"nan:canonical\"}, -1.5e3, true, null]}]}";
    size_t len = strlen(doc);
    char *buf = malloc(len + 1);
    int crashed_or_silent = 0;
    for (size_t cut = 0; cut < len; cut++) {
        ut_json_err err;
        ut_json *v = ut_json_parse(doc, cut, 0, &err);
        if (v || !err.msg[0])
            crashed_or_silent = 1;
        ut_json_free(v);
    }
    check(!crashed_or_silent, "every truncation fails cleanly");
    static const char flips[] = {'"', '\\', '[', ']', '{', '}', ',', ':', '0', 'u', '\0', '\x80'};
    unsigned seed = 12345;
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, doc, len + 1);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            buf[at] = flips[(seed >> 8) % sizeof flips];
        }
        ut_json_err err;
        ut_json *v = ut_json_parse(buf, len, 0, &err);
        ut_json_free(v);
    }
    check(1, "random corruptions do not crash");
    free(buf);
}

int main(void)
{
    test_grammar();
    test_values();
    test_errors();
    test_depth();
    test_robustness();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
