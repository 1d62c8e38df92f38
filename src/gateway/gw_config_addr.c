/*
 * gw_config_addr.c — address syntax and resolution for the config loader,
 * and the public gw_config_parse_address.
 *
 * Owns:      "host:port" / "[v6]:port" / ":port" / "port" syntax, numeric
 *            resolution first (AI_NUMERICHOST), then name lookups (IPv4
 *            preferred) unless gw_config_set_name_lookups(false).
 * Not here:  which fields hold addresses (gw_config.c, gw_config_routes.c).
 */
#include "gw_config_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* ---- addresses ------------------------------------------------------------ */

static atomic_bool name_lookups_off;

void gw_config_set_name_lookups(bool enabled)
{
    atomic_store(&name_lookups_off, !enabled);
}

static bool valid_hostname(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (!isalnum((unsigned char)c) && c != '-' && c != '.' && c != '_')
            return false;
    }
    return true;
}

int gwc_split_address(const char *s, char *host, size_t host_cap, uint16_t *port, bool *v6,
                      char *err, size_t err_len)
{
    char q[80];
    const char *colon, *hs = s;
    size_t hlen;
    *v6 = false;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') {
            gwc_quote(q, sizeof q, s, strlen(s));
            snprintf(err, err_len, "bad address '%s' (expected [v6-address]:port)", q);
            return -1;
        }
        hs = s + 1;
        hlen = (size_t)(close - hs);
        colon = close + 1;
        *v6 = true;
    } else {
        colon = strrchr(s, ':');
        if (colon && memchr(s, ':', (size_t)(colon - s))) {
            gwc_quote(q, sizeof q, s, strlen(s));
            snprintf(err, err_len, "bad address '%s': put IPv6 addresses in brackets, "
                                   "e.g. [::1]:8080", q);
            return -1;
        }
        hlen = colon ? (size_t)(colon - s) : 0;
    }
    const char *ps = colon ? colon + 1 : s;
    uint64_t p;
    if (strlen(ps) > 5 || !gwc_parse_uint(ps, strlen(ps), &p) || p > 65535) {
        gwc_quote(q, sizeof q, ps, strlen(ps));
        if (!colon && strspn(s, "0123456789") != strlen(s))
            snprintf(err, err_len, "missing port in '%s' (expected host:port)", q);
        else
            snprintf(err, err_len, "bad port '%s' (expected 0-65535)", q);
        return -1;
    }
    if (hlen >= host_cap || (*v6 && hlen == 0)) {
        snprintf(err, err_len, "bad host in address");
        return -1;
    }
    memcpy(host, hs, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return 0;
}

static void set_port(gw_sockaddr *a, uint16_t port)
{
    if (a->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
    else if (a->ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

/* First result, preferring IPv4 (backends on "localhost" usually listen
 * on 127.0.0.1 only). */
static const struct addrinfo *pick(const struct addrinfo *ai)
{
    for (const struct addrinfo *p = ai; p; p = p->ai_next)
        if (p->ai_family == AF_INET)
            return p;
    for (const struct addrinfo *p = ai; p; p = p->ai_next)
        if (p->ai_family == AF_INET6)
            return p;
    return NULL;
}

int gwc_resolve(const char *host, bool v6, uint16_t port, gw_sockaddr *addr, char *err,
                size_t err_len)
{
    struct addrinfo hints = {0}, *ai = NULL;
    char q[80];
    int rc = -1;
    memset(addr, 0, sizeof *addr);
    if (!*host)
        host = "0.0.0.0";
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = v6 ? AF_INET6 : AF_UNSPEC;
    hints.ai_flags = AI_NUMERICHOST;
    int g = getaddrinfo(host, NULL, &hints, &ai);
    gwc_quote(q, sizeof q, host, strlen(host));
    if (g != 0 && v6) {
        snprintf(err, err_len, "'%s' is not an IPv6 address", q);
        goto out;
    }
    if (g != 0) {
        if (!valid_hostname(host)) {
            snprintf(err, err_len, "bad host name '%s'", q);
            goto out;
        }
        if (atomic_load(&name_lookups_off) && strcmp(host, "localhost") != 0) {
            snprintf(err, err_len, "cannot resolve '%s': name lookups are disabled", q);
            goto out;
        }
        hints.ai_flags = 0;
        g = getaddrinfo(host, NULL, &hints, &ai);
        if (g != 0) {
            snprintf(err, err_len, "cannot resolve '%s': %s", q, gai_strerror(g));
            goto out;
        }
    }
    const struct addrinfo *p = pick(ai);
    if (!p || p->ai_addrlen > sizeof addr->ss) {
        snprintf(err, err_len, "cannot resolve '%s': no IPv4 or IPv6 address", q);
        goto out;
    }
    memcpy(&addr->ss, p->ai_addr, p->ai_addrlen);
    addr->len = (socklen_t)p->ai_addrlen;
    set_port(addr, port);
    rc = 0;
out:
    if (ai)
        freeaddrinfo(ai);
    return rc;
}

void gwc_format_addr(const gw_sockaddr *a, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(out, cap, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
    } else if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(out, cap, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
    } else {
        snprintf(out, cap, "?");
    }
}

int gw_config_parse_address(const char *s, gw_sockaddr *addr, char *err, size_t err_len)
{
    char host[GWC_HOST_MAX], tmp[1];
    uint16_t port;
    bool v6;
    if (!err || err_len == 0) {
        err = tmp;
        err_len = sizeof tmp;
    }
    err[0] = '\0';
    if (!s || !*s) {
        snprintf(err, err_len, "empty address (expected host:port)");
        return -1;
    }
    if (gwc_split_address(s, host, sizeof host, &port, &v6, err, err_len) != 0)
        return -1;
    return gwc_resolve(host, v6, port, addr, err, err_len);
}
