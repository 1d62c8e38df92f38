/*
 * px_text.h — small string helpers plugins keep needing (guest SDK, also
 * compiles natively).
 *
 * Owns:     case-insensitive compare, '*' glob match, query-string and
 *           cookie lookup, percent-decoding, host port stripping.
 * Not here: regular expressions (use <regex.h> from wasi-libc), JSON.
 */
#ifndef PX_TEXT_H
#define PX_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool px_str_ieq(const char *a, const char *b);
bool px_str_starts_with(const char *s, const char *prefix);
bool px_str_ends_with(const char *s, const char *suffix);
/* Case-sensitive glob: '*' matches any run of bytes (including none). */
bool px_glob_match(const char *pattern, const char *s);
/* Case-insensitive version of px_glob_match (for origins, hosts). */
bool px_glob_imatch(const char *pattern, const char *s);

/* Value of query parameter name in path ("/x?a=1&b=2"), percent-decoded,
 * malloc'd; NULL when absent. */
char *px_query_param(const char *path, const char *name);
/* Value of cookie name in a Cookie header value, malloc'd; NULL if absent. */
char *px_cookie_value(const char *cookie_header, const char *name);
/* Percent-decodes (and '+' → ' ' when form is true) into a malloc'd string. */
char *px_url_decode(const char *s, size_t n, bool form);
/* Host without ":port" (IPv6 "[::1]:80" → "[::1]"), malloc'd. */
char *px_host_strip_port(const char *host);
/* Parses an HTTP date (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT") or a
 * decimal Unix timestamp into seconds since the epoch. */
bool px_parse_http_date(const char *s, int64_t *epoch);
/* Copy of s[0..n) with NUL, malloc'd. */
char *px_strndup(const char *s, size_t n);

#endif
