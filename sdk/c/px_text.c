/*
 * px_text.c — string helpers for plugins.
 *
 * Owns:     the functions declared in px_text.h.
 * Not here: anything that needs the host.
 */
#include "px_text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

char *px_strndup(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    if (o) {
        memcpy(o, s, n);
        o[n] = '\0';
    }
    return o;
}

bool px_str_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
    return *a == *b;
}

bool px_str_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool px_str_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return m <= n && memcmp(s + n - m, suffix, m) == 0;
}

static bool glob(const char *p, const char *s, bool fold)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        char pc = fold ? (char)tolower((unsigned char)*p) : *p;
        char sc = fold ? (char)tolower((unsigned char)*s) : *s;
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p && pc == sc) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

bool px_glob_match(const char *pattern, const char *s)
{
    return glob(pattern, s, false);
}

bool px_glob_imatch(const char *pattern, const char *s)
{
    return glob(pattern, s, true);
}

static int pct_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

char *px_url_decode(const char *s, size_t n, bool form)
{
    char *o = malloc(n + 1);
    if (!o)
        return NULL;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && pct_hexval(s[i + 1]) >= 0 && pct_hexval(s[i + 2]) >= 0) {
            o[w++] = (char)(pct_hexval(s[i + 1]) << 4 | pct_hexval(s[i + 2]));
            i += 2;
        } else if (form && s[i] == '+') {
            o[w++] = ' ';
        } else {
            o[w++] = s[i];
        }
    }
    o[w] = '\0';
    return o;
}

char *px_query_param(const char *path, const char *name)
{
    const char *q = strchr(path, '?');
    if (!q)
        return NULL;
    size_t nl = strlen(name);
    const char *p = q + 1;
    while (*p && *p != '#') {
        const char *end = p + strcspn(p, "&#");
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *kend = eq ? eq : end;
        char *key = px_url_decode(p, (size_t)(kend - p), true);
        bool hit = key && strlen(key) == nl && memcmp(key, name, nl) == 0;
        free(key);
        if (hit)
            return eq ? px_url_decode(eq + 1, (size_t)(end - eq - 1), true) : px_strndup("", 0);
        p = *end == '&' ? end + 1 : end;
    }
    return NULL;
}

char *px_cookie_value(const char *h, const char *name)
{
    size_t nl = strlen(name);
    const char *p = h;
    while (*p) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = p + strcspn(p, ";");
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq && (size_t)(eq - p) == nl && memcmp(p, name, nl) == 0) {
            const char *v = eq + 1;
            size_t vl = (size_t)(end - v);
            if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
                v++;
                vl -= 2;
            }
            return px_strndup(v, vl);
        }
        p = end;
    }
    return NULL;
}

char *px_host_strip_port(const char *host)
{
    size_t n = strlen(host);
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (close)
            n = (size_t)(close - host) + 1;
    } else {
        const char *colon = strrchr(host, ':');
        if (colon && !memchr(host, ':', (size_t)(colon - host))) /* exactly one ':' */
            n = (size_t)(colon - host);
    }
    return px_strndup(host, n);
}

/* Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

bool px_parse_http_date(const char *s, int64_t *epoch)
{
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    size_t n = strlen(s);
    if (n > 0 && n <= 12 && strspn(s, "0123456789") == n) {
        *epoch = strtoll(s, NULL, 10);
        return true;
    }
    /* "Sun, 06 Nov 1994 08:49:37 GMT" is exactly 29 bytes */
    if (n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25] != ' ' ||
        strcmp(s + 26, "GMT") != 0)
        return false;
    const int digits[] = {5, 6, 12, 13, 14, 15, 17, 18, 20, 21, 23, 24};
    for (size_t i = 0; i < sizeof digits / sizeof digits[0]; i++)
        if (!isdigit((unsigned char)s[digits[i]]))
            return false;
    int day = (s[5] - '0') * 10 + (s[6] - '0');
    int month = -1;
    for (int i = 0; i < 12; i++)
        if (strncmp(s + 8, months[i], 3) == 0)
            month = i + 1;
    int year = atoi(s + 12);
    int hh = (s[17] - '0') * 10 + (s[18] - '0');
    int mm = (s[20] - '0') * 10 + (s[21] - '0');
    int ss = (s[23] - '0') * 10 + (s[24] - '0');
    if (month < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
        return false;
    *epoch = days_from_civil(year, (unsigned)month, (unsigned)day) * 86400 + hh * 3600 +
             mm * 60 + ss;
    return true;
}
