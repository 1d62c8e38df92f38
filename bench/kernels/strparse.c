/* strparse — a JSON-lines parser: generates a few MB of JSON-like records
 * (objects, arrays, escaped strings, integers, decimals, true/false/null),
 * then tokenizes and parses them with a recursive-descent parser several
 * times. Keys are looked up in a field table with memcmp, strings are
 * decoded (escapes, \uXXXX) and hashed, numbers are parsed to fixed point.
 * Byte-at-a-time branches, calls and small memcmp: typical gateway work. */
#include "bench.h"

volatile uint32_t STRPARSE_RECORDS = 25000;
volatile uint32_t STRPARSE_PASSES = 30;

/* ---- generator -------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1 << 16;
        while (cap < b->len + n)
            cap *= 2;
        char *nb = bench_alloc(cap);
        if (b->len)
            memcpy(nb, b->buf, b->len);
        free(b->buf);
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}
static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }
static void putu(sbuf *b, uint64_t v)
{
    char t[24];
    int i = 24;
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(b, t + i, 24 - i);
}
static void putdec(sbuf *b, int64_t milli) /* fixed point with 3 decimals */
{
    if (milli < 0) {
        put(b, "-", 1);
        milli = -milli;
    }
    putu(b, (uint64_t)milli / 1000);
    char f[4] = {'.', (char)('0' + milli / 100 % 10), (char)('0' + milli / 10 % 10),
                 (char)('0' + milli % 10)};
    put(b, f, 4);
}
static void putword(sbuf *b, uint64_t *s, int minlen, int maxlen, int escapes)
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz_0123456789";
    int n = minlen + (int)(bench_rand(s) % (uint64_t)(maxlen - minlen + 1));
    put(b, "\"", 1);
    for (int i = 0; i < n; i++) {
        uint64_t r = bench_rand(s);
        if (escapes && r % 23 == 0) {
            static const char *esc[] = {"\\\"", "\\\\", "\\n", "\\t", "\\u00e9", "\\u2603", "\\/"};
            puts_(b, esc[(r >> 8) % 7]);
        } else {
            put(b, &alpha[(r >> 8) % (sizeof alpha - 1)], 1);
        }
    }
    put(b, "\"", 1);
}

static char *generate(uint32_t records, size_t *len)
{
    sbuf b = {0};
    uint64_t s = 0x5eed5eed5eed5eedULL;
    for (uint32_t i = 0; i < records; i++) {
        puts_(&b, "{\"id\":");
        putu(&b, 100000 + i);
        puts_(&b, ",\"user\":");
        putword(&b, &s, 4, 12, 0);
        puts_(&b, ",\"email\":");
        putword(&b, &s, 8, 24, 1);
        puts_(&b, ",\"score\":");
        putdec(&b, (int64_t)(bench_rand(&s) % 2000000) - 1000000);
        puts_(&b, ",\"active\":");
        puts_(&b, bench_rand(&s) & 1 ? "true" : "false");
        puts_(&b, ",\"tags\":[");
        int nt = (int)(bench_rand(&s) % 5);
        for (int t = 0; t < nt; t++) {
            if (t)
                put(&b, ",", 1);
            putword(&b, &s, 2, 8, 0);
        }
        puts_(&b, "],\"geo\":{\"lat\":");
        putdec(&b, (int64_t)(bench_rand(&s) % 180000) - 90000);
        puts_(&b, ",\"lon\":");
        putdec(&b, (int64_t)(bench_rand(&s) % 360000) - 180000);
        puts_(&b, "},\"counts\":[");
        int nc = 1 + (int)(bench_rand(&s) % 6);
        for (int c = 0; c < nc; c++) {
            if (c)
                put(&b, ", ", 2);
            putu(&b, bench_rand(&s) % 100000);
        }
        puts_(&b, "],\"note\":");
        if (bench_rand(&s) % 3)
            puts_(&b, "null");
        else
            putword(&b, &s, 10, 40, 1);
        puts_(&b, "}\n");
    }
    put(&b, "", 1); /* NUL terminator: the parser may peek one past the end */
    *len = b.len - 1;
    return b.buf;
}

/* ---- parser ----------------------------------------------------------- */

enum { F_ID, F_USER, F_EMAIL, F_SCORE, F_ACTIVE, F_TAGS, F_GEO, F_LAT, F_LON, F_COUNTS, F_NOTE, F_UNKNOWN };
static const struct { const char *name; uint32_t len; } fields[] = {
    {"id", 2}, {"user", 4}, {"email", 5}, {"score", 5}, {"active", 6}, {"tags", 4},
    {"geo", 3}, {"lat", 3}, {"lon", 3}, {"counts", 6}, {"note", 4},
};

typedef struct {
    const char *p, *end;
    uint64_t strhash;   /* hash of every decoded string value */
    int64_t numsum[F_UNKNOWN + 1];
    uint32_t objects, arrays, strings, numbers, trues, falses, nulls, bytes_out;
    int error;
} parser;

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r'))
        ps->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes a string into out (UTF-8); returns its length, or -1. */
static int parse_string(parser *ps, char *out, int cap)
{
    if (*ps->p != '"')
        return -1;
    ps->p++;
    int n = 0;
    while (ps->p < ps->end) {
        char c = *ps->p++;
        if (c == '"')
            return n;
        if (c == '\\') {
            char e = *ps->p++;
            uint32_t cp;
            switch (e) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u': {
                cp = 0;
                for (int i = 0; i < 4; i++) {
                    int v = hexval(*ps->p++);
                    if (v < 0)
                        return -1;
                    cp = cp << 4 | (uint32_t)v;
                }
                break;
            }
            default: return -1;
            }
            if (n + 3 > cap)
                return -1;
            if (cp < 0x80) {
                out[n++] = (char)cp;
            } else if (cp < 0x800) {
                out[n++] = (char)(0xC0 | cp >> 6);
                out[n++] = (char)(0x80 | (cp & 0x3F));
            } else {
                out[n++] = (char)(0xE0 | cp >> 12);
                out[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
                out[n++] = (char)(0x80 | (cp & 0x3F));
            }
        } else {
            if (n + 1 > cap)
                return -1;
            out[n++] = c;
        }
    }
    return -1;
}

/* Integer or decimal, returned in thousandths. */
static int parse_number(parser *ps, int64_t *milli)
{
    int neg = 0;
    if (*ps->p == '-') {
        neg = 1;
        ps->p++;
    }
    if (*ps->p < '0' || *ps->p > '9')
        return -1;
    int64_t v = 0;
    while (*ps->p >= '0' && *ps->p <= '9')
        v = v * 10 + (*ps->p++ - '0');
    int64_t frac = 0;
    int digits = 0;
    if (*ps->p == '.') {
        ps->p++;
        while (*ps->p >= '0' && *ps->p <= '9') {
            if (digits < 3) {
                frac = frac * 10 + (*ps->p - '0');
                digits++;
            }
            ps->p++;
        }
    }
    while (digits < 3) {
        frac *= 10;
        digits++;
    }
    v = v * 1000 + frac;
    *milli = neg ? -v : v;
    return 0;
}

static int lookup_field(const char *k, int n)
{
    for (int i = 0; i < F_UNKNOWN; i++)
        if (fields[i].len == (uint32_t)n && memcmp(fields[i].name, k, (size_t)n) == 0)
            return i;
    return F_UNKNOWN;
}

static int parse_value(parser *ps, int field, int depth);

static int parse_object(parser *ps, int depth)
{
    ps->p++; /* '{' */
    ps->objects++;
    skip_ws(ps);
    if (*ps->p == '}') {
        ps->p++;
        return 0;
    }
    for (;;) {
        char key[64];
        skip_ws(ps);
        int kn = parse_string(ps, key, sizeof key);
        if (kn < 0)
            return -1;
        int field = lookup_field(key, kn);
        skip_ws(ps);
        if (*ps->p++ != ':')
            return -1;
        if (parse_value(ps, field, depth + 1))
            return -1;
        skip_ws(ps);
        char c = *ps->p++;
        if (c == '}')
            return 0;
        if (c != ',')
            return -1;
    }
}

static int parse_array(parser *ps, int field, int depth)
{
    ps->p++; /* '[' */
    ps->arrays++;
    skip_ws(ps);
    if (*ps->p == ']') {
        ps->p++;
        return 0;
    }
    for (;;) {
        if (parse_value(ps, field, depth + 1))
            return -1;
        skip_ws(ps);
        char c = *ps->p++;
        if (c == ']')
            return 0;
        if (c != ',')
            return -1;
    }
}

static int parse_value(parser *ps, int field, int depth)
{
    if (depth > 32)
        return -1;
    skip_ws(ps);
    char c = *ps->p;
    if (c == '{')
        return parse_object(ps, depth);
    if (c == '[')
        return parse_array(ps, field, depth);
    if (c == '"') {
        char s[256];
        int n = parse_string(ps, s, sizeof s);
        if (n < 0)
            return -1;
        uint64_t h = BENCH_FNV_INIT ^ (uint64_t)field;
        for (int i = 0; i < n; i++) {
            h ^= (uint8_t)s[i];
            h *= 0x100000001b3ULL;
        }
        ps->strhash += h;
        ps->strings++;
        ps->bytes_out += (uint32_t)n;
        return 0;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        int64_t v;
        if (parse_number(ps, &v))
            return -1;
        ps->numsum[field] += v;
        ps->numbers++;
        return 0;
    }
    if (ps->end - ps->p >= 4 && memcmp(ps->p, "true", 4) == 0) {
        ps->p += 4;
        ps->trues++;
        return 0;
    }
    if (ps->end - ps->p >= 5 && memcmp(ps->p, "false", 5) == 0) {
        ps->p += 5;
        ps->falses++;
        return 0;
    }
    if (ps->end - ps->p >= 4 && memcmp(ps->p, "null", 4) == 0) {
        ps->p += 4;
        ps->nulls++;
        return 0;
    }
    return -1;
}

static uint64_t parse_all(const char *text, size_t len)
{
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.p = text;
    ps.end = text + len;
    uint32_t lines = 0;
    for (;;) {
        skip_ws(&ps);
        if (ps.p >= ps.end)
            break;
        if (parse_value(&ps, F_UNKNOWN, 0))
            bench_fail("strparse: syntax error");
        lines++;
    }
    uint64_t h = BENCH_FNV_INIT;
    h = bench_fnv(h, lines);
    h = bench_fnv(h, ps.strhash);
    for (int i = 0; i <= F_UNKNOWN; i++)
        h = bench_fnv(h, (uint64_t)ps.numsum[i]);
    h = bench_fnv(h, ps.objects);
    h = bench_fnv(h, ps.arrays);
    h = bench_fnv(h, ps.strings);
    h = bench_fnv(h, ps.numbers);
    h = bench_fnv(h, (uint64_t)ps.trues << 32 | ps.falses);
    h = bench_fnv(h, ps.nulls);
    h = bench_fnv(h, ps.bytes_out);
    return h;
}

int main(void)
{
    size_t len;
    char *text = generate(STRPARSE_RECORDS, &len);
    uint32_t passes = STRPARSE_PASSES;
    uint64_t h = BENCH_FNV_INIT;
    double t0 = bench_now_ms();
    for (uint32_t p = 0; p < passes; p++)
        h = bench_fnv(h, parse_all(text, len));
    double t1 = bench_now_ms();
    char buf[64];
    snprintf(buf, sizeof buf, "%016llx/%zu", (unsigned long long)h, len);
    bench_report("strparse", buf, t1 - t0);
    free(text);
    return 0;
}
