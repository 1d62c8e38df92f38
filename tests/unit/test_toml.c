/*
 * test_toml.c — unit tests for the TOML reader (src/util/ut_toml.c).
 *
 * Owns:     grammar acceptance (the TOML 1.0 spec's examples and its tricky
 *           corners), decoded values, table-definition rules, rejection of
 *           invalid documents with the exact line:column, accessors on
 *           NULL and wrong types, positions, the nesting limit, input that
 *           is not NUL-terminated, and a robustness sweep (every truncation,
 *           byte substitutions and random mutations of a valid document
 *           must parse or fail cleanly). Needs only src/util.
 * Not here: modules.toml semantics (test_wagi_modules.c).
 * Output:   "ok - NAME" / "not ok - NAME" lines, then "N passed, N failed".
 */
#include "ut_toml.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* Parses s from an exact-size heap copy (no NUL after it), so ASan sees
 * any read past len. */
static ut_toml *parse_n(const char *s, size_t n, unsigned depth, ut_toml_err *err)
{
    char *copy = malloc(n ? n : 1);
    if (n)
        memcpy(copy, s, n);
    ut_toml *t = ut_toml_parse(copy, n, depth, err);
    free(copy);
    return t;
}

static ut_toml *parse(const char *s)
{
    return parse_n(s, strlen(s), 0, NULL);
}

static const ut_toml *path(const ut_toml *t, const char *dotted)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", dotted);
    const ut_toml *v = t;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
        v = ut_toml_get(v, k);
    return v;
}

static int str_is(const ut_toml *t, const char *p, const char *want)
{
    const char *s = ut_toml_str(path(t, p));
    if (!s || strcmp(s, want) != 0) {
        printf("# %s: got \"%s\", want \"%s\"\n", p, s ? s : "(null)", want);
        return 0;
    }
    return 1;
}

static int int_is(const ut_toml *t, const char *p, int64_t want)
{
    int64_t x = 0;
    if (!ut_toml_int(path(t, p), &x) || x != want) {
        printf("# %s: got %lld, want %lld\n", p, (long long)x, (long long)want);
        return 0;
    }
    return 1;
}

static int float_is(const ut_toml *t, const char *p, double want)
{
    double x = 0;
    if (!ut_toml_float(path(t, p), &x) || !(x == want || (isnan(x) && isnan(want)))) {
        printf("# %s: got %g, want %g\n", p, x, want);
        return 0;
    }
    return 1;
}

/* ---- the spec's examples ------------------------------------------------------ */

static const char spec_doc[] =
    "# This is a TOML document\n"
    "\n"
    "title = \"TOML Example\"\n"
    "\n"
    "[owner]\n"
    "name = \"Tom Preston-Werner\"\n"
    "dob = 1979-05-27T07:32:00-08:00\n"
    "\n"
    "[database]\n"
    "enabled = true\n"
    "ports = [ 8000, 8001, 8002 ]\n"
    "data = [ [\"delta\", \"phi\"], [3.14] ]\n"
    "temp_targets = { cpu = 79.5, case = 72.0 }\n"
    "\n"
    "[servers]\n"
    "\n"
    "[servers.alpha]\n"
    "ip = \"10.0.0.1\"\n"
    "role = \"frontend\"\n"
    "\n"
    "[servers.beta]\n"
    "ip = \"10.0.0.2\"\n"
    "role = \"backend\"\n";

static void test_spec_example(void)
{
    ut_toml_err err;
    ut_toml *t = parse_n(spec_doc, strlen(spec_doc), 0, &err);
    check(t != NULL, "spec example parses");
    if (!t) {
        printf("# %zu:%zu: %s\n", err.line, err.col, err.msg);
        return;
    }
    check(ut_toml_type_of(t) == UT_TOML_TABLE && ut_toml_len(t) == 4, "root has 4 members");
    check(str_is(t, "title", "TOML Example") && str_is(t, "owner.name", "Tom Preston-Werner"),
          "strings");
    ut_toml_dt_kind k;
    const char *dob = ut_toml_datetime(path(t, "owner.dob"), &k);
    check(dob && strcmp(dob, "1979-05-27T07:32:00-08:00") == 0 && k == UT_TOML_DT_OFFSET,
          "offset date-time kept as text");
    bool b = false;
    check(ut_toml_bool(path(t, "database.enabled"), &b) && b, "boolean");
    const ut_toml *ports = path(t, "database.ports");
    int64_t p2 = 0;
    check(ut_toml_len(ports) == 3 && ut_toml_int(ut_toml_at(ports, 2), &p2) && p2 == 8002,
          "integer array");
    const ut_toml *data = path(t, "database.data");
    double pi = 0;
    check(ut_toml_len(data) == 2 && ut_toml_float(ut_toml_at(ut_toml_at(data, 1), 0), &pi) &&
              pi == 3.14 && strcmp(ut_toml_str(ut_toml_at(ut_toml_at(data, 0), 1)), "phi") == 0,
          "nested mixed arrays");
    check(float_is(t, "database.temp_targets.case", 72.0), "inline table float");
    check(str_is(t, "servers.beta.role", "backend") && ut_toml_len(path(t, "servers")) == 2,
          "sub-tables");
    /* Document order is kept. */
    size_t kl = 0;
    const ut_toml *v = NULL;
    check(strcmp(ut_toml_key_at(t, 0, &kl, &v), "title") == 0 && kl == 5 &&
              ut_toml_type_of(v) == UT_TOML_STRING &&
              strcmp(ut_toml_key_at(t, 3, NULL, NULL), "servers") == 0,
          "key_at in document order");
    ut_toml_free(t);
}

static void test_strings(void)
{
    static const char doc[] =
        "str = \"I'm a string. \\\"You can quote me\\\". Name\\tJos\\u00E9\\nLocation\\tSF.\"\n"
        "str1 = \"\"\"\nRoses are red\nViolets are blue\"\"\"\n"
        "str3 = \"\"\"\nThe quick brown \\\n\n\n  fox jumps over \\\n    the lazy dog.\"\"\"\n"
        "str4 = \"\"\"\\\n       The quick brown \\\n       fox jumps over \\\n"
        "       the lazy dog.\\\n       \"\"\"\n"
        "str5 = \"\"\"Here are two quotation marks: \"\". Simple enough.\"\"\"\n"
        "str6 = \"\"\"Here are three quotation marks: \"\"\\\".\"\"\"\n"
        "str8 = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"\n"
        "winpath  = 'C:\\Users\\nodejs\\templates'\n"
        "winpath2 = '\\\\ServerX\\admin$\\system32\\'\n"
        "quoted   = 'Tom \"Dubs\" Preston-Werner'\n"
        "regex2 = '''I [dw]on't need \\d{2} apples'''\n"
        "lines  = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n"
        "   is preserved.\n'''\n"
        "quot15 = '''Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"'''\n"
        "str9 = ''''That,' she said, 'is still pointless.''''\n"
        "five = \"\"\"\"\"\"\"\"\n"
        "big = \"\\U0001F600|\\u0000|\\b\\f\\r\\\\\"\n"
        "tab = \"a\tb\"\n"
        "ws_bs = \"\"\"a \\   \n   b\"\"\"\n"
        "crlf = \"\"\"\r\nx\r\ny\"\"\"\r\n"
        "empty = \"\"\n"
        "empty_lit = ''\n"
        "ml_empty = \"\"\"\"\"\"\n";
    ut_toml_err err;
    ut_toml *t = parse_n(doc, strlen(doc), 0, &err);
    check(t != NULL, "string examples parse");
    if (!t) {
        printf("# %zu:%zu: %s\n", err.line, err.col, err.msg);
        return;
    }
    check(str_is(t, "str", "I'm a string. \"You can quote me\". Name\tJos\xc3\xa9\nLocation\tSF."),
          "basic string escapes incl. \\u00E9");
    check(str_is(t, "str1", "Roses are red\nViolets are blue"), "first newline trimmed");
    check(str_is(t, "str3", "The quick brown fox jumps over the lazy dog.") &&
              str_is(t, "str4", "The quick brown fox jumps over the lazy dog."),
          "line-ending backslash trims whitespace and newlines");
    check(str_is(t, "str5", "Here are two quotation marks: \"\". Simple enough.") &&
              str_is(t, "str6", "Here are three quotation marks: \"\"\"."),
          "quotes inside multi-line basic strings");
    check(str_is(t, "str8", "\"This,\" she said, \"is just a pointless statement.\""),
          "quotes next to the delimiters");
    check(str_is(t, "winpath", "C:\\Users\\nodejs\\templates") &&
              str_is(t, "winpath2", "\\\\ServerX\\admin$\\system32\\") &&
              str_is(t, "quoted", "Tom \"Dubs\" Preston-Werner"),
          "literal strings take backslashes literally");
    check(str_is(t, "regex2", "I [dw]on't need \\d{2} apples") &&
              str_is(t, "lines", "The first newline is\ntrimmed in raw strings.\n"
                                 "   All other whitespace\n   is preserved.\n"),
          "multi-line literal strings");
    check(str_is(t, "quot15", "Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"") &&
              str_is(t, "str9", "'That,' she said, 'is still pointless.'"),
          "quotes in multi-line literal strings");
    check(str_is(t, "five", "\"\""), "five quotes close with two in the content");
    size_t n = 0;
    const char *big = ut_toml_strn(path(t, "big"), &n);
    check(big && n == 4 + 1 + 1 + 1 + 4 &&
              memcmp(big, "\xF0\x9F\x98\x80|\0|\b\f\r\\", n) == 0 && big[n] == '\0',
          "\\U escape, \\u0000 kept with its length, simple escapes");
    check(str_is(t, "tab", "a\tb"), "tab allowed in a basic string");
    check(str_is(t, "ws_bs", "a b"), "line-ending backslash with trailing whitespace");
    check(str_is(t, "crlf", "x\ny"), "CRLF in multi-line strings becomes LF");
    check(str_is(t, "empty", "") && str_is(t, "empty_lit", "") && str_is(t, "ml_empty", ""),
          "empty strings");
    ut_toml_free(t);
}

static void test_numbers(void)
{
    static const char doc[] =
        "int1 = +99\nint2 = 42\nint3 = 0\nint4 = -17\nint5 = 1_000\nint6 = 5_349_221\n"
        "int7 = 53_49_221\nint8 = 1_2_3_4_5\nzero_plus = +0\nzero_minus = -0\n"
        "hex1 = 0xDEADBEEF\nhex2 = 0xdeadbeef\nhex3 = 0xdead_beef\noct1 = 0o01234567\n"
        "oct2 = 0o755\nbin1 = 0b11010110\nhex0 = 0x00\n"
        "max = 9223372036854775807\nmin = -9223372036854775808\nhexmax = 0x7FFFFFFFFFFFFFFF\n"
        "binmax = 0b111111111111111111111111111111111111111111111111111111111111111\n"
        "flt1 = +1.0\nflt2 = 3.1415\nflt3 = -0.01\nflt4 = 5e+22\nflt5 = 1e06\nflt6 = -2E-2\n"
        "flt7 = 6.626e-34\nflt8 = 224_617.445_991_228\nflt9 = 1e1_0\n"
        "sf1 = inf\nsf2 = +inf\nsf3 = -inf\nsf4 = nan\nsf5 = +nan\nsf6 = -nan\n"
        "z1 = -0.0\nz2 = +0.0\nz3 = 0e0\nz4 = 0.0e-0\ntiny = 1e-400\n"
        "bool1 = true\nbool2 = false\n"
        "arr = [1,2.5,-3,inf]\n";
    ut_toml_err err;
    ut_toml *t = parse_n(doc, strlen(doc), 0, &err);
    check(t != NULL, "number examples parse");
    if (!t) {
        printf("# %zu:%zu: %s\n", err.line, err.col, err.msg);
        return;
    }
    check(int_is(t, "int1", 99) && int_is(t, "int2", 42) && int_is(t, "int3", 0) &&
              int_is(t, "int4", -17) && int_is(t, "zero_plus", 0) && int_is(t, "zero_minus", 0),
          "decimal integers");
    check(int_is(t, "int5", 1000) && int_is(t, "int6", 5349221) && int_is(t, "int7", 5349221) &&
              int_is(t, "int8", 12345),
          "underscores between digits");
    check(int_is(t, "hex1", 0xDEADBEEF) && int_is(t, "hex2", 0xDEADBEEF) &&
              int_is(t, "hex3", 0xDEADBEEF) && int_is(t, "oct1", 01234567) &&
              int_is(t, "oct2", 0755) && int_is(t, "bin1", 214) && int_is(t, "hex0", 0),
          "hex, octal, binary");
    check(int_is(t, "max", INT64_MAX) && int_is(t, "min", INT64_MIN) &&
              int_is(t, "hexmax", INT64_MAX) && int_is(t, "binmax", INT64_MAX),
          "64-bit extremes exactly");
    check(float_is(t, "flt1", 1.0) && float_is(t, "flt2", 3.1415) && float_is(t, "flt3", -0.01) &&
              float_is(t, "flt4", 5e22) && float_is(t, "flt5", 1e6) && float_is(t, "flt6", -2e-2) &&
              float_is(t, "flt7", 6.626e-34) && float_is(t, "flt8", 224617.445991228) &&
              float_is(t, "flt9", 1e10),
          "floats");
    double d = 0;
    check(float_is(t, "sf1", INFINITY) && float_is(t, "sf2", INFINITY) &&
              float_is(t, "sf3", -INFINITY) && float_is(t, "sf4", NAN) &&
              float_is(t, "sf5", NAN) && float_is(t, "sf6", NAN),
          "inf and nan");
    check(ut_toml_float(path(t, "z1"), &d) && d == 0 && signbit(d) && float_is(t, "z3", 0) &&
              float_is(t, "z4", 0) && float_is(t, "tiny", 0),
          "signed zero, underflow to zero");
    bool b = true;
    check(ut_toml_bool(path(t, "bool2"), &b) && !b, "false");
    const ut_toml *arr = path(t, "arr");
    check(ut_toml_type_of(ut_toml_at(arr, 0)) == UT_TOML_INTEGER &&
              ut_toml_type_of(ut_toml_at(arr, 1)) == UT_TOML_FLOAT &&
              ut_toml_type_of(ut_toml_at(arr, 3)) == UT_TOML_FLOAT,
          "integers and floats stay apart in arrays");
    int64_t i = 0;
    check(!ut_toml_float(path(t, "int2"), &d) && !ut_toml_int(path(t, "flt2"), &i),
          "no implicit int/float conversion");
    ut_toml_free(t);
}

static void test_datetimes(void)
{
    static const struct {
        const char *doc;
        const char *text;
        ut_toml_dt_kind kind;
    } cases[] = {
        {"d = 1979-05-27T07:32:00Z", "1979-05-27T07:32:00Z", UT_TOML_DT_OFFSET},
        {"d = 1979-05-27T00:32:00-07:00", "1979-05-27T00:32:00-07:00", UT_TOML_DT_OFFSET},
        {"d = 1979-05-27T00:32:00.999999+05:30", "1979-05-27T00:32:00.999999+05:30",
         UT_TOML_DT_OFFSET},
        {"d = 1979-05-27 07:32:00Z", "1979-05-27 07:32:00Z", UT_TOML_DT_OFFSET},
        {"d = 1979-05-27t07:32:00z", "1979-05-27t07:32:00z", UT_TOML_DT_OFFSET},
        {"d = 1979-05-27T07:32:00", "1979-05-27T07:32:00", UT_TOML_DT_LOCAL},
        {"d = 1979-05-27T00:32:00.5 # c", "1979-05-27T00:32:00.5", UT_TOML_DT_LOCAL},
        {"d = 1979-05-27", "1979-05-27", UT_TOML_DT_DATE},
        {"d = 1979-05-27 # date, then a comment", "1979-05-27", UT_TOML_DT_DATE},
        {"d = 2000-02-29", "2000-02-29", UT_TOML_DT_DATE},
        {"d = 07:32:00", "07:32:00", UT_TOML_DT_TIME},
        {"d = 00:32:00.999999", "00:32:00.999999", UT_TOML_DT_TIME},
        {"d = 23:59:60", "23:59:60", UT_TOML_DT_TIME},
        {"d = [1979-05-27]", NULL, UT_TOML_DT_DATE},
    };
    int all = 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ut_toml *t = parse(cases[i].doc);
        const ut_toml *v = ut_toml_get(t, "d");
        if (ut_toml_type_of(v) == UT_TOML_ARRAY)
            v = ut_toml_at(v, 0);
        ut_toml_dt_kind k = UT_TOML_DT_TIME;
        const char *s = ut_toml_datetime(v, &k);
        if (!s || k != cases[i].kind || (cases[i].text && strcmp(s, cases[i].text) != 0) ||
            ut_toml_str(v) != NULL) {
            printf("# %s: got %s\n", cases[i].doc, s ? s : "(null)");
            all = 0;
        }
        ut_toml_free(t);
    }
    check(all, "dates and times: text as written and kind");
}

static void test_keys_and_tables(void)
{
    static const char doc[] =
        "key = 1\nbare_key = 2\nbare-key = 3\n1234 = 4\n\"127.0.0.1\" = 5\n"
        "\"character encoding\" = 6\n\"\xca\x8e\xc7\x9d\xca\x9e\" = 7\n'key2' = 8\n"
        "'quoted \"value\"' = 9\n\"\" = 10\n"
        "physical.color = \"orange\"\nphysical.shape = \"round\"\nsite.\"google.com\" = true\n"
        "fruit . flavor = \"banana\"\n3.14159 = \"pi\"\n\"\\u0041\" = \"A\"\n"
        "apple.type = \"fruit\"\norange.type = \"fruit\"\napple.skin = \"thin\"\n"
        "[dog.\"tater.man\"]\ntype.name = \"pug\"\n"
        "[a.b.c]\n[ d.e.f ]\n[ g .  h  . i ]\n[ j . \"\xca\x9e\" . 'l' ]\n"
        "[x.y.z.w]\n[x]\nq = 1\n"
        "[fruits]\napple.color = \"red\"\napple.taste.sweet = true\n"
        "[fruits.apple.texture]\nsmooth = true\n";
    ut_toml_err err;
    ut_toml *t = parse_n(doc, strlen(doc), 0, &err);
    check(t != NULL, "key and table examples parse");
    if (!t) {
        printf("# %zu:%zu: %s\n", err.line, err.col, err.msg);
        return;
    }
    check(int_is(t, "1234", 4) && ut_toml_get(t, "127.0.0.1") != NULL &&
              ut_toml_get(t, "character encoding") != NULL &&
              ut_toml_get(t, "\xca\x8e\xc7\x9d\xca\x9e") != NULL && ut_toml_get(t, "key2") &&
              ut_toml_get(t, "quoted \"value\"") && ut_toml_get(t, "") && ut_toml_get(t, "A"),
          "bare, quoted, literal, empty and escaped keys");
    check(str_is(t, "physical.shape", "round") && str_is(t, "fruit.flavor", "banana") &&
              ut_toml_get(ut_toml_get(t, "site"), "google.com") != NULL &&
              strcmp(ut_toml_str(ut_toml_get(ut_toml_get(t, "3"), "14159")), "pi") == 0,
          "dotted keys, whitespace around dots, 3.14159 is two keys");
    check(str_is(t, "apple.skin", "thin") && str_is(t, "orange.type", "fruit"),
          "dotted keys out of order");
    check(ut_toml_get(ut_toml_get(ut_toml_get(t, "dog"), "tater.man"), "type") != NULL,
          "quoted dot in a header");
    check(ut_toml_type_of(path(t, "a.b.c")) == UT_TOML_TABLE &&
              ut_toml_type_of(path(t, "g.h.i")) == UT_TOML_TABLE &&
              ut_toml_get(path(t, "j.\xca\x9e"), "l") != NULL,
          "headers with whitespace and quoted parts");
    check(int_is(t, "x.q", 1) && ut_toml_type_of(path(t, "x.y.z.w")) == UT_TOML_TABLE,
          "super-table defined after its sub-table");
    bool b = false;
    check(ut_toml_bool(path(t, "fruits.apple.texture.smooth"), &b) && b &&
              ut_toml_bool(path(t, "fruits.apple.taste.sweet"), &b) && b,
          "header sub-table below a dotted-key table");
    ut_toml_free(t);
}

static void test_arrays_of_tables(void)
{
    static const char doc[] =
        "[[products]]\nname = \"Hammer\"\nsku = 738594937\n\n"
        "[[products]]  # empty table within the array\n\n"
        "[[products]]\nname = \"Nail\"\nsku = 284758393\n\ncolor = \"gray\"\n"
        "[[fruits]]\nname = \"apple\"\n[fruits.physical]\ncolor = \"red\"\n"
        "[[fruits.varieties]]\nname = \"red delicious\"\n[[fruits.varieties]]\n"
        "name = \"granny smith\"\n[[fruits]]\nname = \"banana\"\n[[fruits.varieties]]\n"
        "name = \"plantain\"\n"
        "[inline]\npoints = [ { x = 1, y = 2, z = 3 },\n  { x = 7, y = 8, z = 9 },\n"
        "  { x = 2, y = 4, z = 8 } ]\n"
        "name = { first = \"Tom\", last = \"Preston-Werner\" }\n"
        "animal = { type.name = \"pug\", type.size = 1 }\nempty = {}\n"
        "mixed = [ [ 1, 2 ], [\"a\", \"b\"], 1.5, { k = 'v' }, [], 1979-05-27 ]\n"
        "trailing = [\n  1,\n  2, # comment\n]\n"
        "comments = [ # c1\n  # c2\n  1 # c3\n  , # c4\n  2 # c5\n  # c6\n] # c7\n";
    ut_toml_err err;
    ut_toml *t = parse_n(doc, strlen(doc), 0, &err);
    check(t != NULL, "array-of-tables and inline examples parse");
    if (!t) {
        printf("# %zu:%zu: %s\n", err.line, err.col, err.msg);
        return;
    }
    const ut_toml *prods = ut_toml_get(t, "products");
    check(ut_toml_type_of(prods) == UT_TOML_ARRAY && ut_toml_len(prods) == 3 &&
              ut_toml_len(ut_toml_at(prods, 1)) == 0 &&
              strcmp(ut_toml_str(ut_toml_get(ut_toml_at(prods, 2), "color")), "gray") == 0,
          "[[products]]: three tables, the middle one empty");
    const ut_toml *fruits = ut_toml_get(t, "fruits");
    const ut_toml *apple = ut_toml_at(fruits, 0), *banana = ut_toml_at(fruits, 1);
    check(ut_toml_len(fruits) == 2 && ut_toml_len(ut_toml_get(apple, "varieties")) == 2 &&
              ut_toml_len(ut_toml_get(banana, "varieties")) == 1 &&
              strcmp(ut_toml_str(ut_toml_get(ut_toml_get(apple, "physical"), "color")), "red") == 0,
          "nested arrays of tables attach to the latest element");
    const ut_toml *pts = path(t, "inline.points");
    int64_t z = 0;
    check(ut_toml_len(pts) == 3 && ut_toml_int(ut_toml_get(ut_toml_at(pts, 2), "z"), &z) && z == 8,
          "array of inline tables over several lines");
    check(str_is(t, "inline.animal.type.name", "pug") && int_is(t, "inline.animal.type.size", 1) &&
              ut_toml_type_of(path(t, "inline.empty")) == UT_TOML_TABLE &&
              ut_toml_len(path(t, "inline.empty")) == 0,
          "dotted keys inside inline tables; empty inline table");
    const ut_toml *mixed = path(t, "inline.mixed");
    check(ut_toml_len(mixed) == 6 && ut_toml_type_of(ut_toml_at(mixed, 3)) == UT_TOML_TABLE &&
              ut_toml_type_of(ut_toml_at(mixed, 5)) == UT_TOML_DATETIME &&
              ut_toml_len(ut_toml_at(mixed, 4)) == 0,
          "mixed-type arrays (TOML 1.0)");
    check(ut_toml_len(path(t, "inline.trailing")) == 2 &&
              ut_toml_len(path(t, "inline.comments")) == 2,
          "trailing comma and comments inside arrays");
    ut_toml_free(t);
}

/* Small documents that must parse. */
static void test_valid_snippets(void)
{
    static const char *good[] = {
        "", "\n", "# only a comment", "   \t\n\n# c\n", "a=1", "a = 1 # comment",
        "a = 1\r\n", "\357\273\277a = 1", "a=\"\"", "\"\"=1", "''=1", "a.b.c=1\na.b.d=2",
        "[a]\n[b]\n[a.c]", "[a.b]\n[a]", "[[a]]\n[[a]]\n[a.b]", "[[a.b]]\n[a]\nc=1",
        "a = [\n]", "a = [ ]", "a = [[]]", "a = [ [ [ 1 ] ] ]", "a = {}", "a = { }",
        "a = {b=1,c=2}", "a = {b.c=1, b.d=2}", "a = [{}, {}]", "a=1#c", "a=\"#\"#c",
        "a=\"\"\"\n\"\"\"", "a='''\n'''", "a = \"\\\\\"", "x = 0.0", "x = -0", "x = 1e-0",
        "a = \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "# \xc3\xa9 comment\n",
        "a = 1\n\n\n[t] # c\n\n b = 2", "\t[\ta\t.\tb\t]\t", "[[ a ]]", "a.\"b.c\".d = 1",
        "true = true\nfalse = false\ninf = inf\nnan = nan", "-_- = 1", "1 = 2\n2 = 3",
        "[a.b.c]\n[a]\nb.d = 1", "a = \"\\u00e9\\U0010FFFF\"", "a=1\n[[b]]\n[b.c]\nd=1\n[[b]]",
        "a = 2024-12-31T23:59:59.123456789Z", "a = 1979-05-27 07:32:00",
        "a = \"\"\"\\\n\"\"\"", "a = \"\"\"a\\\r\n   b\"\"\"",
    };
    int all = 1;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ut_toml_err err;
        ut_toml *t = parse_n(good[i], strlen(good[i]), 0, &err);
        if (!t) {
            printf("# should parse: ");
            for (const char *c = good[i]; *c; c++)
                printf(*c == '\n' ? "\\n" : *c == '\r' ? "\\r" : "%c", *c);
            printf("\n#   %zu:%zu: %s\n", err.line, err.col, err.msg);
            all = 0;
        }
        ut_toml_free(t);
    }
    check(all, "valid snippets parse");
    ut_toml *t = parse("");
    check(t && ut_toml_type_of(t) == UT_TOML_TABLE && ut_toml_len(t) == 0,
          "empty document is an empty table");
    ut_toml_free(t);
    t = ut_toml_parse(NULL, 0, 0, NULL);
    check(t && ut_toml_len(t) == 0, "NULL with length 0 is an empty document");
    ut_toml_free(t);
}

/* Invalid documents, each with the line:column of the problem and a word
 * of the message. */
static void test_invalid(void)
{
    static const struct {
        const char *doc;
        size_t line, col;
        const char *msg;
    } bad[] = {
        /* keys and key/value lines */
        {"a", 1, 2, "expected '='"},
        {"a =", 1, 4, "missing value"},
        {"a = # c", 1, 5, "missing value"},
        {"= 1", 1, 1, "expected a key"},
        {"a = 1\na = 2", 2, 1, "duplicate key 'a'"},
        {"a = 1\n\"a\" = 2", 2, 1, "duplicate key"},
        {"a.b = 1\na.b = 2", 2, 3, "duplicate key 'b'"},
        {"a = 1\na.b = 2", 2, 1, "already defined as a integer"},
        {"a = 1 b = 2", 1, 7, "end of the line"},
        {"a = 1 2", 1, 7, "end of the line"},
        {"a.  = 1", 1, 5, "expected a key"},
        {".a = 1", 1, 1, "expected a key"},
        {"a b = 1", 1, 3, "expected '='"},
        {"\"\"\"a\"\"\" = 1", 1, 1, "multi-line string cannot be a key"},
        {"a\n= 1", 1, 2, "expected '='"},
        {"a = 1\n  b", 2, 4, "expected '='"},
        {"\xc3\xa9 = 1", 1, 1, "expected a key"},
        /* strings */
        {"a = \"abc", 1, 5, "unterminated string"},
        {"a = \"a\nb\"", 1, 7, "newline in a single-line string"},
        {"a = 'a\nb'", 1, 7, "newline"},
        {"a = \"\\x41\"", 1, 6, "invalid escape '\\x'"},
        {"a = \"\\e\"", 1, 6, "invalid escape"},
        {"a = \"\\/\"", 1, 6, "invalid escape"},
        {"a = \"\\u12\"", 1, 6, "4 hex digits"},
        {"a = \"\\uD800\"", 1, 6, "not a Unicode scalar value"},
        {"a = \"\\U00110000\"", 1, 6, "not a Unicode scalar value"},
        {"a = \"\x01\"", 1, 6, "control character U+0001"},
        {"a = '\x7f'", 1, 6, "control character U+007F"},
        {"a = \"\"\"\n\x01\"\"\"", 2, 1, "control character U+0001"},
        {"a = \"\"\"abc", 1, 5, "unterminated multi-line string"},
        {"a = '''abc''''''", 1, 11, "too many"},
        {"a = \"\"\"abc\"\"\"\"\"\"", 1, 11, "too many"},
        {"a = \"a\" \"b\"", 1, 9, "end of the line"},
        {"a = \"\\\"", 1, 5, "unterminated"},
        {"a = \"\"\"a\\ b\"\"\"", 1, 9, "invalid escape"},
        /* integers and floats */
        {"a = 01", 1, 5, "leading zeros"},
        {"a = 00", 1, 5, "leading zeros"},
        {"a = 0_1", 1, 5, "leading zeros"},
        {"a = 1__2", 1, 5, "between two digits"},
        {"a = 1_", 1, 5, "between two digits"},
        {"a = _1", 1, 5, "strings must be quoted"},
        {"a = +_1", 1, 5, "between two digits"},
        {"a = 0x", 1, 5, "invalid hexadecimal"},
        {"a = 0X1F", 1, 5, "invalid number"},
        {"a = 0xG", 1, 5, "invalid hexadecimal"},
        {"a = 0x_1", 1, 5, "invalid hexadecimal"},
        {"a = 0o8", 1, 5, "invalid octal"},
        {"a = 0b2", 1, 5, "invalid binary"},
        {"a = -0x1", 1, 5, "sign is not allowed"},
        {"a = +0b1", 1, 5, "sign is not allowed"},
        {"a = 9223372036854775808", 1, 5, "out of range"},
        {"a = -9223372036854775809", 1, 5, "out of range"},
        {"a = 0x8000000000000000", 1, 5, "out of range"},
        {"a = 99999999999999999999999", 1, 5, "out of range"},
        {"a = 1.", 1, 5, "decimal point"},
        {"a = .5", 1, 5, "invalid number"},
        {"a = 1.e5", 1, 5, "decimal point"},
        {"a = 1._5", 1, 5, "decimal point"},
        {"a = 1_.5", 1, 5, "between two digits"},
        {"a = 1e", 1, 5, "invalid exponent"},
        {"a = 1e_5", 1, 5, "invalid exponent"},
        {"a = 1e5.5", 1, 5, "invalid number"},
        {"a = 1.5.5", 1, 5, "invalid number"},
        {"a = 01.5", 1, 5, "leading zeros"},
        {"a = 1e400", 1, 5, "float out of range"},
        {"a = -1e400", 1, 5, "float out of range"},
        {"a = Inf", 1, 5, "strings must be quoted"},
        {"a = infinity", 1, 5, "strings must be quoted"},
        {"a = NaN", 1, 5, "strings must be quoted"},
        {"a = ++1", 1, 5, "invalid number"},
        {"a = 1-2", 1, 5, "invalid number"},
        {"a = 1 _000", 1, 7, "end of the line"},
        /* booleans and bare words */
        {"a = True", 1, 5, "strings must be quoted"},
        {"a = truee", 1, 5, "strings must be quoted"},
        {"a = tru", 1, 5, "strings must be quoted"},
        {"a = hello", 1, 5, "strings must be quoted"},
        {"a = @", 1, 5, "expected a value"},
        /* dates and times */
        {"a = 1979-05-27T07:32", 1, 5, "requires the seconds"},
        {"a = 1979-5-27", 1, 5, "invalid date"},
        {"a = 1979-13-01", 1, 5, "date out of range"},
        {"a = 1979-02-29", 1, 5, "date out of range"},
        {"a = 1900-02-29", 1, 5, "date out of range"},
        {"a = 1979-04-31", 1, 5, "date out of range"},
        {"a = 1979-05-00", 1, 5, "date out of range"},
        {"a = 24:00:00", 1, 5, "time out of range"},
        {"a = 07:60:00", 1, 5, "time out of range"},
        {"a = 07:32:61", 1, 5, "time out of range"},
        {"a = 07:32", 1, 5, "requires the seconds"},
        {"a = 07:32:00Z", 1, 5, "local time cannot have an offset"},
        {"a = 07:32:00.", 1, 5, "digit must follow"},
        {"a = 1979-05-27T07:32:00+24:00", 1, 5, "offset"},
        {"a = 1979-05-27T07:32:00+05", 1, 5, "offset"},
        {"a = 1979-05-27T07:32:00ZZ", 1, 5, "invalid date or time"},
        {"a = 1979-05-27X07:32:00", 1, 5, "invalid date or time"},
        {"a = 1979-05-27 07:32", 1, 5, "requires the seconds"},
        /* arrays */
        {"a = [1 2]", 1, 8, "expected ',' or ']'"},
        {"a = [1,,2]", 1, 8, "expected a value"},
        {"a = [,]", 1, 6, "expected a value"},
        {"a = [1", 1, 5, "unterminated array"},
        {"a = [1,\n2,\n", 1, 5, "unterminated array"},
        {"a = [\"a\" # c ]", 1, 5, "unterminated array"},
        {"a = [1]]", 1, 8, "end of the line"},
        /* inline tables */
        {"a = {b = 1,}", 1, 12, "trailing comma"},
        {"a = {b = 1\n}", 1, 11, "one line"},
        {"a = {\nb = 1}", 1, 6, "one line"},
        {"a = {b = 1 c = 2}", 1, 12, "expected ',' or '}'"},
        {"a = {b = 1, b = 2}", 1, 13, "duplicate key 'b'"},
        {"a = {b = {c = 1}, b.d = 2}", 1, 19, "inline table"},
        {"a = {b.c = 1, b = 2}", 1, 15, "duplicate key 'b'"},
        {"a = {b = 1", 1, 5, "unterminated inline table"},
        {"a = {,}", 1, 6, "expected a key"},
        {"a = {}\na.b = 1", 2, 1, "inline table"},
        {"a = {}\n[a]", 2, 1, "already defined as an inline table"},
        {"a = {b = 1}\n[a.c]", 2, 2, "inline table"},
        {"a = {b = 1}\n[[a]]", 2, 1, "not an array of tables"},
        {"a.b = 0\na = {}", 2, 1, "duplicate key 'a'"},
        /* table headers */
        {"[a]\n[a]", 2, 1, "defined twice"},
        {"[a.b]\n[a]\n[a]", 3, 1, "defined twice"},
        {"[a]\nb = 1\n[a.b]", 3, 4, "already defined as a integer"},
        {"[a]", 0, 0, NULL},
        {"[]", 1, 2, "expected a key"},
        {"[a", 1, 3, "expected ']'"},
        {"[a.]", 1, 4, "expected a key"},
        {"[a b]", 1, 4, "expected ']'"},
        {"[a] b = 1", 1, 5, "end of the line"},
        {"[[a]", 1, 4, "expected ']]'"},
        {"[[a] ]", 1, 4, "expected ']]'"},
        {"[ [a]]", 1, 3, "expected a key"},
        {"[a]]", 1, 4, "end of the line"},
        {"[fruit]\napple.color = \"red\"\n[fruit.apple]", 3, 1, "dotted keys"},
        {"[fruit]\napple.taste.sweet = true\n[fruit.apple.taste]", 3, 1, "dotted keys"},
        {"[a.b]\nc = 1\n[a]\nb.d = 2", 4, 1, "already defined by a [header]"},
        {"[a.b.c.d]\nz = 9\n[a]\nb.c.d.k.t = 1", 4, 5, "already defined by a [header]"},
        {"[a]\nb.c = 1\n[a]", 3, 1, "defined twice"},
        {"a.b.c = 1\n[a.b]", 2, 1, "dotted keys"},
        {"[t1]\nt2.t3.v = 0\n[t1.t2]", 3, 1, "dotted keys"},
        {"a = 1\n[a]", 2, 2, "already defined as a integer"},
        {"a = 1\n[a.b]", 2, 2, "already defined as a integer"},
        /* arrays of tables */
        {"fruits = []\n[[fruits]]", 2, 1, "static array"},
        {"a = [{b = 1}]\n[a.c]", 2, 2, "already defined as an array"},
        {"[fruit.physical]\ncolor = \"red\"\n[[fruit]]", 3, 1, "not an array of tables"},
        {"[[fruits]]\n[fruits.varieties]\n[[fruits.varieties]]", 3, 1, "not an array of tables"},
        {"[[a]]\n[a]", 2, 2, "already defined as an array"},
        {"[[albums.songs]]\n[[albums]]", 2, 1, "not an array of tables"},
        {"[[a.b]]\n[a]\nb.y = 2", 3, 1, "array of tables"},
        /* whitespace, newlines, encoding */
        {"a = 1\rb = 2", 1, 6, "carriage return"},
        {"a = 1 # x\ry", 1, 10, "carriage return"},
        {"a = 1 # \x01", 1, 9, "control character U+0001 in a comment"},
        {"# \x7f", 1, 3, "control character U+007F"},
        {"a = \"\xff\"", 1, 6, "invalid UTF-8"},
        {"a = \"\xc0\xaf\"", 1, 6, "invalid UTF-8"},
        {"a = \"\xed\xa0\x80\"", 1, 6, "invalid UTF-8"},
        {"a = \"\xf4\x90\x80\x80\"", 1, 6, "invalid UTF-8"},
        {"\n\n  \xc3\xa9\xc3\xa9\xe2", 3, 5, "invalid UTF-8"},
        {"\xc3\xa9 = \"\xc3\"", 1, 6, "invalid UTF-8"},
        {"a = 1\n\x0c", 2, 1, "expected a key, got control character U+000C"},
        {"\x0b a = 1", 1, 1, "expected a key"},
        {"a\t=\t1\n\t\tb = \"\xc3\xa9\xc3\xa9\" x", 2, 12, "end of the line"},
    };
    int all_fail = 1, all_pos = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!bad[i].msg)
            continue; /* a placeholder: valid */
        ut_toml_err err;
        memset(&err, 0x55, sizeof err);
        ut_toml *t = parse_n(bad[i].doc, strlen(bad[i].doc), 0, &err);
        char shown[80];
        size_t o = 0;
        for (const char *c = bad[i].doc; *c && o < sizeof shown - 3; c++) {
            if (*c == '\n')
                shown[o++] = '|';
            else
                shown[o++] = (unsigned char)*c < 0x20 ? '?' : *c;
        }
        shown[o] = '\0';
        if (t) {
            printf("# should fail: %s\n", shown);
            all_fail = 0;
            ut_toml_free(t);
            continue;
        }
        if (err.line != bad[i].line || err.col != bad[i].col || !strstr(err.msg, bad[i].msg) ||
            !memchr(err.msg, '\0', sizeof err.msg)) {
            printf("# %s: got %zu:%zu \"%s\", want %zu:%zu \"%s\"\n", shown, err.line, err.col,
                   err.msg, bad[i].line, bad[i].col, bad[i].msg);
            all_pos = 0;
        }
    }
    check(all_fail, "invalid documents are rejected");
    check(all_pos, "errors carry the right line:column and message");
    ut_toml_err err;
    check(!ut_toml_parse(NULL, 5, 0, &err) && err.line == 1 && strstr(err.msg, "no input"),
          "NULL text with a length is an error");
}

static void test_accessors(void)
{
    ut_toml *t = parse("s = \"x\"\ni = 1\nf = 1.5\nb = true\nd = 1979-05-27\na = [1]\n"
                       "[tbl]\nk = 1");
    const ut_toml *s = ut_toml_get(t, "s"), *i = ut_toml_get(t, "i"), *a = ut_toml_get(t, "a"),
                  *tbl = ut_toml_get(t, "tbl");
    int64_t iv = 7;
    double dv = 7;
    bool bv = true;
    size_t n = 9, line = 9, col = 9;
    ut_toml_dt_kind k;
    check(ut_toml_type_of(NULL) == UT_TOML_NONE && ut_toml_str(NULL) == NULL &&
              ut_toml_strn(NULL, &n) == NULL && !ut_toml_int(NULL, &iv) &&
              !ut_toml_float(NULL, &dv) && !ut_toml_bool(NULL, &bv) &&
              ut_toml_datetime(NULL, &k) == NULL && ut_toml_len(NULL) == 0 &&
              ut_toml_at(NULL, 0) == NULL && ut_toml_get(NULL, "x") == NULL &&
              ut_toml_getn(NULL, "x", 1) == NULL && ut_toml_key_at(NULL, 0, &n, NULL) == NULL &&
              n == 0 && !ut_toml_pos(NULL, &line, &col) && line == 0 && col == 0 &&
              !ut_toml_key_pos(NULL, 0, &line, &col),
          "accessors accept NULL");
    check(ut_toml_str(i) == NULL && !ut_toml_int(s, &iv) && !ut_toml_bool(i, &bv) &&
              ut_toml_len(s) == 0 && ut_toml_at(tbl, 0) == NULL && ut_toml_get(a, "x") == NULL &&
              ut_toml_key_at(a, 0, NULL, NULL) == NULL && ut_toml_datetime(s, NULL) == NULL &&
              ut_toml_at(a, 1) == NULL && ut_toml_key_at(tbl, 1, NULL, NULL) == NULL &&
              ut_toml_get(t, NULL) == NULL && iv == 7 && bv,
          "wrong types and out-of-range indexes are harmless");
    check(strcmp(ut_toml_type_name(UT_TOML_TABLE), "table") == 0 &&
              strcmp(ut_toml_type_name(UT_TOML_NONE), "nothing") == 0 &&
              strcmp(ut_toml_type_name(ut_toml_type_of(ut_toml_get(t, "d"))), "datetime") == 0,
          "type names");
    check(ut_toml_getn(t, "s\0", 2) == NULL && ut_toml_getn(t, "sx", 1) == s,
          "getn compares the whole key");
    ut_toml_free(t);
    ut_toml_free(NULL);
    check(1, "ut_toml_free(NULL) is fine");
}

static void test_positions(void)
{
    static const char doc2[] = "# c\n"
                               "a = 1\n"
                               "  \"b\" = 'x'\n"
                               "[t.u]\n"
                               "c = \"\xc3\xa9\xc3\xa9\" \n"
                               "d = [\n  10,\n  { e = 2 } ]\n"
                               "[[aot]]\n"
                               "\t[[aot]]\n"
                               "x.y = 3\n";
    ut_toml *t = parse(doc2);
    size_t l = 0, c = 0;
    int ok = t != NULL;
    ok &= ut_toml_pos(t, &l, &c) && l == 1 && c == 1;
    ok &= ut_toml_pos(ut_toml_get(t, "a"), &l, &c) && l == 2 && c == 5;
    ok &= ut_toml_key_pos(t, 0, &l, &c) && l == 2 && c == 1;
    ok &= ut_toml_pos(ut_toml_get(t, "b"), &l, &c) && l == 3 && c == 9;
    ok &= ut_toml_key_pos(t, 1, &l, &c) && l == 3 && c == 3;
    const ut_toml *tt = ut_toml_get(t, "t");
    ok &= ut_toml_pos(tt, &l, &c) && l == 4 && c == 2; /* made implicitly by the path */
    const ut_toml *u = ut_toml_get(tt, "u");
    ok &= ut_toml_pos(u, &l, &c) && l == 4 && c == 1; /* the header */
    ok &= ut_toml_key_pos(tt, 0, &l, &c) && l == 4 && c == 4;
    ok &= ut_toml_pos(ut_toml_get(u, "c"), &l, &c) && l == 5 && c == 5;
    const ut_toml *d = ut_toml_get(u, "d");
    ok &= ut_toml_pos(ut_toml_at(d, 0), &l, &c) && l == 7 && c == 3;
    ok &= ut_toml_pos(ut_toml_get(ut_toml_at(d, 1), "e"), &l, &c) && l == 8 && c == 9;
    const ut_toml *aot = ut_toml_get(t, "aot");
    ok &= ut_toml_pos(ut_toml_at(aot, 1), &l, &c) && l == 10 && c == 2;
    const ut_toml *x = ut_toml_get(ut_toml_at(aot, 1), "x");
    ok &= ut_toml_pos(x, &l, &c) && l == 11 && c == 1;
    ok &= ut_toml_pos(ut_toml_get(x, "y"), &l, &c) && l == 11 && c == 7;
    ok &= ut_toml_key_pos(x, 0, &l, &c) && l == 11 && c == 3;
    ok &= !ut_toml_key_pos(x, 1, &l, &c);
    if (!ok)
        printf("# last position seen %zu:%zu\n", l, c);
    check(ok, "positions of values, keys and tables (columns count characters)");
    ut_toml_free(t);

    /* Implicit table later defined by its header: the header's position. */
    t = parse("[a.b]\n\n[a]\n");
    check(ut_toml_pos(ut_toml_get(t, "a"), &l, &c) && l == 3 && c == 1,
          "a super-table's position is its own header");
    ut_toml_free(t);
    /* A BOM does not count as a column. */
    t = parse("\xEF\xBB\xBF" "a = 1");
    check(ut_toml_pos(ut_toml_get(t, "a"), &l, &c) && l == 1 && c == 5, "BOM skipped");
    ut_toml_free(t);
}

static void test_depth(void)
{
    char buf[4096];
    ut_toml_err err;
    /* Default depth 64: the root is 0, a = [...] nests below it. */
    size_t n = (size_t)snprintf(buf, sizeof buf, "a = ");
    for (int i = 0; i < 64; i++)
        buf[n++] = '[';
    for (int i = 0; i < 64; i++)
        buf[n++] = ']';
    ut_toml *t = parse_n(buf, n, 0, &err);
    check(t != NULL, "64 nested arrays parse at the default limit");
    ut_toml_free(t);
    n = (size_t)snprintf(buf, sizeof buf, "a = ");
    for (int i = 0; i < 65; i++)
        buf[n++] = '[';
    for (int i = 0; i < 65; i++)
        buf[n++] = ']';
    t = parse_n(buf, n, 0, &err);
    check(!t && err.line == 1 && err.col == 69 && strstr(err.msg, "nesting"),
          "65 nested arrays: too deep, at the 65th '['");
    t = parse_n("a = {b = {c = {}}}", 18, 2, &err);
    check(!t && err.col == 15 && strstr(err.msg, "nesting"), "inline tables count (max_depth 2)");
    t = parse_n("a.b.c = 1", 9, 2, &err);
    check(t != NULL, "dotted keys at the limit");
    ut_toml_free(t);
    t = parse_n("a.b.c.d = 1", 11, 2, &err);
    check(!t && err.col == 5 && strstr(err.msg, "nesting"), "dotted keys count");
    t = parse_n("[a.b.c]", 7, 2, &err);
    check(!t && strstr(err.msg, "nesting"), "header paths count");
    t = parse_n("[[a]]\n[[a.b]]", 13, 2, &err);
    check(!t && strstr(err.msg, "nesting"), "array-of-tables elements count");
    /* A very long dotted key and very deep input end in an error, not a
     * crash, whatever max_depth says. */
    n = 0;
    for (int i = 0; i < 1500; i++) {
        buf[n++] = 'k';
        buf[n++] = '.';
    }
    memcpy(buf + n, "k = 1", 5);
    n += 5;
    t = parse_n(buf, n, 100000, &err);
    check(!t && (strstr(err.msg, "nesting") || strstr(err.msg, "too many parts")),
          "1500-part key with max_depth 100000 (clamped)");
    char *deep = malloc(200001);
    memcpy(deep, "a=", 2);
    memset(deep + 2, '[', 199999);
    t = parse_n(deep, 200001, 100000, &err);
    check(!t && strstr(err.msg, "nesting"), "200000 '[' rejected without deep recursion");
    memset(deep, '{', 200001);
    memcpy(deep, "a=", 2);
    t = parse_n(deep, 200001, 0, &err);
    check(!t && err.line == 1, "200000 '{' rejected");
    free(deep);
}

/* ---- robustness ---------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* Walks every accessor; returns a count so nothing is optimised away. */
static size_t walk(const ut_toml *v, unsigned depth, int *bad)
{
    size_t sum = (size_t)ut_toml_type_of(v);
    size_t len = 0, l, c;
    const char *s = ut_toml_strn(v, &len);
    if (s && s[len] != '\0')
        *bad = 1;
    if (!ut_toml_pos(v, &l, &c) || l == 0 || c == 0)
        *bad = 1;
    ut_toml_dt_kind k;
    if (ut_toml_datetime(v, &k))
        sum += k;
    sum += ut_toml_at(v, ut_toml_len(v)) != NULL;
    if (depth > 600)
        *bad = 1;
    for (size_t i = 0; i < ut_toml_len(v); i++) {
        const ut_toml *child = ut_toml_at(v, i);
        if (ut_toml_type_of(v) == UT_TOML_TABLE) {
            size_t kl;
            const char *key = ut_toml_key_at(v, i, &kl, &child);
            if (!key || key[kl] != '\0' || ut_toml_getn(v, key, kl) != child ||
                !ut_toml_key_pos(v, i, &l, &c) || l == 0)
                *bad = 1;
        }
        sum += walk(child, depth + 1, bad);
    }
    return sum;
}

static const char fuzz_doc[] =
    "# modules\ntitle = \"T\\u00e9st\" # c\n[[module]]\nroute = \"/hello\"\n"
    "module = 'hello.wasm'\nvolumes = { \"/data\" = \"data\" }\ntimeout = 5_000\n"
    "ratio = -1.5e3\nflags = [true, false, 0x1F, 0o7, 0b1, inf, nan]\n"
    "when = 1979-05-27T07:32:00Z\nday = 1979-05-27\nat = 07:32:00.5\n"
    "text = \"\"\"\nline \\\n  joined \"\" q\"\"\"\nraw = '''\nr\\aw'''\n"
    "[module.sub]\na.b = [ [1, 2], [\"x\"], { k = 1 } ]\n[[module]]\nroute = \"/...\"\n"
    "\"quoted key\" = ''\n[t.u.v]\n[t]\nw = 1\n";

/* Parses the mutated document; an error must have a position and a
 * message, a success must walk cleanly. */
static int try_doc(const char *s, size_t n)
{
    ut_toml_err err;
    unsigned depth = (n & 1) ? 4 : 0;
    ut_toml *t = parse_n(s, n, depth, &err);
    if (!t)
        return err.line >= 1 && err.col >= 1 && err.msg[0] && memchr(err.msg, 0, sizeof err.msg) &&
               err.offset <= n;
    int bad = 0;
    walk(t, 0, &bad);
    ut_toml_free(t);
    return !bad;
}

static void test_robustness(void)
{
    size_t len = strlen(fuzz_doc);
    ut_toml *t = parse(fuzz_doc);
    check(t != NULL, "robustness seed document parses");
    ut_toml_free(t);
    int ok = 1;
    for (size_t i = 0; i <= len; i++)
        ok &= try_doc(fuzz_doc, i);
    check(ok, "every truncation parses or fails cleanly");

    static const char subst[] = "\"'[]{}=,.#\n\r\t \\0_xeZT:+-";
    char *buf = malloc(len + 64);
    ok = 1;
    size_t cases = 0;
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < sizeof subst - 1; k++) {
            memcpy(buf, fuzz_doc, len);
            buf[i] = subst[k];
            ok &= try_doc(buf, len);
            cases++;
        }
        memcpy(buf, fuzz_doc, len);
        buf[i] = (char)0xff;
        ok &= try_doc(buf, len);
        buf[i] = '\0';
        ok &= try_doc(buf, len);
        cases += 2;
    }
    printf("# %zu single-byte substitutions\n", cases);
    check(ok, "every single-byte substitution parses or fails cleanly");

    /* Random multi-point mutations: replace, insert, delete, duplicate a
     * span (which makes redefinitions). */
    static const char *tokens[] = {"\"", "'", "\"\"\"", "'''", "[", "]", "[[", "]]", "{", "}",
                                   ",", "=", ".", "\n", "\r\n", "#", "\\", "\\u", "\\U0001",
                                   "0x", "1_0", "e+", "inf", "nan", "true", "1979-05-27",
                                   "07:32:00", "T", "Z", "a.b", "[x]\n", "[[x]]\n", "x = 1\n"};
    size_t cap = len * 4 + 256;
    char *m = malloc(cap);
    ok = 1;
    int ok_count = 0;
    const int rounds = 20000;
    for (int r = 0; r < rounds; r++) {
        size_t n = len;
        memcpy(m, fuzz_doc, len);
        int edits = 1 + (int)(rnd() % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = n ? rnd() % (n + 1) : 0;
            switch (rnd() % 5) {
            case 0:
                if (at < n)
                    m[at] = (char)(rnd() & 0xff);
                break;
            case 1: {
                const char *tk = tokens[rnd() % (sizeof tokens / sizeof tokens[0])];
                size_t tl = strlen(tk);
                if (n + tl < cap) {
                    memmove(m + at + tl, m + at, n - at);
                    memcpy(m + at, tk, tl);
                    n += tl;
                }
                break;
            }
            case 2: {
                size_t del = 1 + rnd() % 8;
                if (at + del <= n) {
                    memmove(m + at, m + at + del, n - at - del);
                    n -= del;
                }
                break;
            }
            case 3: {
                size_t from = n ? rnd() % n : 0, span = 1 + rnd() % 40;
                if (from + span <= n && n + span < cap) {
                    char tmp[40];
                    memcpy(tmp, m + from, span);
                    memmove(m + at + span, m + at, n - at);
                    memcpy(m + at, tmp, span);
                    n += span;
                }
                break;
            }
            default:
                if (at < n)
                    m[at] = subst[rnd() % (sizeof subst - 1)];
                break;
            }
        }
        ut_toml_err err;
        ut_toml *doc = parse_n(m, n, 0, &err);
        if (doc) {
            ok_count++;
            int bad = 0;
            walk(doc, 0, &bad);
            ok &= !bad;
            ut_toml_free(doc);
        } else {
            ok &= err.line >= 1 && err.col >= 1 && err.msg[0] != 0 && err.offset <= n;
        }
    }
    printf("# %d random mutations, %d still valid\n", rounds, ok_count);
    check(ok, "random mutations parse or fail cleanly");
    free(m);
    free(buf);
}

int main(void)
{
    test_spec_example();
    test_strings();
    test_numbers();
    test_datetimes();
    test_keys_and_tables();
    test_arrays_of_tables();
    test_valid_snippets();
    test_invalid();
    test_accessors();
    test_positions();
    test_depth();
    test_robustness();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
