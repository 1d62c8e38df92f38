/*
 * gw_config_fetch.c — gwc_http_fetch: a bounded, blocking HTTP/1.1 GET for
 * the config loader (url plugin modules), over TCP or TLS (OpenSSL, peer
 * and host name verified against the system CA store).
 *
 * Owns:      URL syntax (http://host[:port]/path, https://...), one
 *            "Connection: close" request, a total deadline (poll), the
 *            size cap, response framing with gw_http1 (Content-Length,
 *            chunked, until close). Only status 200 is accepted; redirects
 *            are reported, not followed.
 * Not here:  caching and sha256 checks (gw_config_plugins.c).
 * Threading: runs on the loading thread; blocks up to the deadline.
 */
#include "gw_config_int.h"
#include "gw_http1.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct fetch {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    uint64_t deadline; /* CLOCK_MONOTONIC ms */
    char *err;
    size_t err_len;
} fetch;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events; false on timeout or error. */
static bool wait_fd(fetch *f, short events)
{
    for (;;) {
        uint64_t now = now_ms();
        if (now >= f->deadline) {
            snprintf(f->err, f->err_len, "timed out");
            return false;
        }
        struct pollfd p = {.fd = f->fd, .events = events};
        int k = poll(&p, 1, (int)(f->deadline - now));
        if (k > 0)
            return true;
        if (k < 0 && errno != EINTR) {
            snprintf(f->err, f->err_len, "poll: %s", strerror(errno));
            return false;
        }
    }
}

/* TLS: retry on WANT_READ / WANT_WRITE; returns the SSL result. */
static int ssl_step(fetch *f, int r)
{
    int e = SSL_get_error(f->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return wait_fd(f, POLLIN) ? 1 : -1;
    if (e == SSL_ERROR_WANT_WRITE)
        return wait_fd(f, POLLOUT) ? 1 : -1;
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    unsigned long le = ERR_get_error();
    char buf[160] = "connection reset";
    if (le)
        ERR_error_string_n(le, buf, sizeof buf);
    snprintf(f->err, f->err_len, "tls: %s", buf);
    return -1;
}

static bool send_all(fetch *f, const char *p, size_t n)
{
    while (n) {
        ssize_t k;
        if (f->ssl) {
            int r = SSL_write(f->ssl, p, (int)n);
            if (r <= 0) {
                if (ssl_step(f, r) > 0)
                    continue;
                if (!f->err[0])
                    snprintf(f->err, f->err_len, "connection closed while sending");
                return false;
            }
            k = r;
        } else {
            k = send(f->fd, p, n, MSG_NOSIGNAL);
            if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (!wait_fd(f, POLLOUT))
                    return false;
                continue;
            }
            if (k < 0) {
                snprintf(f->err, f->err_len, "send: %s", strerror(errno));
                return false;
            }
        }
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* Reads some bytes: >0, 0 at EOF, -1 on error / timeout. */
static ssize_t recv_some(fetch *f, char *buf, size_t cap)
{
    for (;;) {
        if (f->ssl) {
            int r = SSL_read(f->ssl, buf, (int)cap);
            if (r > 0)
                return r;
            int s = ssl_step(f, r);
            if (s > 0)
                continue;
            if (s == 0)
                return 0;
            /* A peer closing without close_notify is common: treat as EOF
             * (the framing decides whether the body is complete). */
            if (SSL_get_error(f->ssl, r) == SSL_ERROR_SYSCALL && !strstr(f->err, "timed out"))
                return 0;
            return -1;
        }
        ssize_t k = recv(f->fd, buf, cap, 0);
        if (k >= 0)
            return k;
        if (errno == EAGAIN || errno == EINTR) {
            if (!wait_fd(f, POLLIN))
                return -1;
            continue;
        }
        snprintf(f->err, f->err_len, "recv: %s", strerror(errno));
        return -1;
    }
}

static bool parse_url(const char *url, bool *tls, char *host, size_t host_cap, bool *v6,
                      uint16_t *port, const char **path, char *err, size_t err_len)
{
    const char *p;
    if (!strncmp(url, "http://", 7)) {
        *tls = false;
        p = url + 7;
    } else if (!strncmp(url, "https://", 8)) {
        *tls = true;
        p = url + 8;
    } else {
        snprintf(err, err_len, "not an http:// or https:// URL");
        return false;
    }
    const char *end = p + strcspn(p, "/?#");
    *path = *end == '/' ? end : "/";
    if (*end == '?' || *end == '#' || end == p) {
        snprintf(err, err_len, "bad URL (expected scheme://host[:port]/path)");
        return false;
    }
    char auth[GWC_HOST_MAX + 16];
    if ((size_t)(end - p) >= sizeof auth) {
        snprintf(err, err_len, "host too long");
        return false;
    }
    memcpy(auth, p, (size_t)(end - p));
    auth[end - p] = '\0';
    const char *colon = strrchr(auth, ':');
    bool has_port = colon && (auth[0] != '[' || colon > strchr(auth, ']'));
    if (!has_port)
        strcat(auth, *tls ? ":443" : ":80");
    if (gwc_split_address(auth, host, host_cap, port, v6, err, err_len) != 0)
        return false;
    if (!host[0] || *port == 0) {
        snprintf(err, err_len, "bad URL host or port");
        return false;
    }
    return true;
}

int gwc_http_fetch(const char *url, uint32_t timeout_ms, size_t max_bytes, ut_buf *out,
                   char *err, size_t err_len)
{
    fetch f = {.fd = -1, .err = err, .err_len = err_len};
    char host[GWC_HOST_MAX];
    uint16_t port;
    bool tls, v6;
    const char *path;
    gw_sockaddr addr;
    ut_buf req = {0}, in = {0};
    int rc = -1;
    err[0] = '\0';
    f.deadline = now_ms() + timeout_ms;
    if (!parse_url(url, &tls, host, sizeof host, &v6, &port, &path, err, err_len) ||
        gwc_resolve(host, v6, port, &addr, err, err_len) != 0)
        return -1;
    f.fd = socket(addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f.fd < 0) {
        snprintf(err, err_len, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(f.fd, (struct sockaddr *)&addr.ss, addr.len) != 0) {
        if (errno != EINPROGRESS) {
            snprintf(err, err_len, "connect: %s", strerror(errno));
            goto out;
        }
        if (!wait_fd(&f, POLLOUT))
            goto out;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        getsockopt(f.fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr) {
            snprintf(err, err_len, "connect: %s", strerror(soerr));
            goto out;
        }
    }
    if (tls) {
        f.ctx = SSL_CTX_new(TLS_client_method());
        if (!f.ctx || !(f.ssl = SSL_new(f.ctx))) {
            snprintf(err, err_len, "tls: out of memory");
            goto out;
        }
        SSL_CTX_set_default_verify_paths(f.ctx);
        SSL_set_verify(f.ssl, SSL_VERIFY_PEER, NULL);
        SSL_set_tlsext_host_name(f.ssl, host);
        SSL_set1_host(f.ssl, host);
        SSL_set_fd(f.ssl, f.fd);
        for (;;) {
            int r = SSL_connect(f.ssl);
            if (r == 1)
                break;
            if (ssl_step(&f, r) <= 0) {
                long v = SSL_get_verify_result(f.ssl);
                if (v != X509_V_OK)
                    snprintf(err, err_len, "tls: certificate verification failed: %s",
                             X509_verify_cert_error_string(v));
                else if (!err[0])
                    snprintf(err, err_len, "tls: handshake failed");
                goto out;
            }
        }
    }
    bool bracket = strchr(host, ':') != NULL;
    ut_buf_printf(&req, "GET %s HTTP/1.1\r\nHost: %s%s%s", path, bracket ? "[" : "", host,
                  bracket ? "]" : "");
    if (port != (tls ? 443 : 80))
        ut_buf_printf(&req, ":%u", (unsigned)port);
    ut_buf_puts(&req, "\r\nUser-Agent: sluice\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    if (req.oom || !send_all(&f, req.data, req.len))
        goto out;

    gw_header headers[128];
    gw_http1_limits lim = {65536, 128, 8192};
    gw_http1_parser p;
    gw_http1_head head;
    gw_http1_parser_init(&p, true, &lim, headers, 128);
    ssize_t hl;
    char chunk[16384];
    bool eof = false;
    for (;;) {
        hl = gw_http1_parse_head(&p, in.data ? in.data : "", in.len, &head);
        if (hl == GW_HTTP1_ERROR) {
            snprintf(err, err_len, "malformed response: %s", p.error ? p.error : "?");
            goto out;
        }
        if (hl > 0 && head.status >= 200)
            break;
        if (hl > 0) { /* 1xx: drop it */
            memmove(in.data, in.data + hl, in.len - (size_t)hl);
            in.len -= (size_t)hl;
            p.scanned = 0;
            continue;
        }
        ssize_t k = recv_some(&f, chunk, sizeof chunk);
        if (k < 0)
            goto out;
        if (k == 0) {
            snprintf(err, err_len, "connection closed before the response head");
            goto out;
        }
        ut_buf_append(&in, chunk, (size_t)k);
        if (in.oom) {
            snprintf(err, err_len, "out of memory");
            goto out;
        }
    }
    if (head.status != 200) {
        const gw_header *loc = gw_http1_find(&head, "location");
        snprintf(err, err_len, "HTTP status %d%s%.*s%s", head.status, loc ? " (redirect to " : "",
                 loc ? (int)(loc->value.len > 200 ? 200 : loc->value.len) : 0,
                 loc ? loc->value.base : "", loc ? "; redirects are not followed)" : "");
        goto out;
    }
    if (head.body == GW_BODY_LENGTH && head.content_length > max_bytes) {
        snprintf(err, err_len, "module larger than %zu bytes", max_bytes);
        goto out;
    }
    gw_http1_body body = {0};
    gw_http1_body_init(&body, &head, 65536);
    size_t pos = (size_t)hl;
    for (;;) {
        while (pos < in.len && !body.done) {
            const char *data;
            size_t dl;
            ssize_t used = gw_http1_body_decode(&body, in.data + pos, in.len - pos, &data, &dl);
            if (used == GW_HTTP1_ERROR) {
                snprintf(err, err_len, "malformed response body: %s", body.error);
                goto out;
            }
            pos += (size_t)used;
            if (out->len + dl > max_bytes) {
                snprintf(err, err_len, "module larger than %zu bytes", max_bytes);
                goto out;
            }
            ut_buf_append(out, data, dl);
        }
        if (body.done)
            break;
        if (eof) {
            if (body.kind == GW_BODY_UNTIL_CLOSE)
                break;
            snprintf(err, err_len, "connection closed mid-body");
            goto out;
        }
        in.len = pos = 0;
        ssize_t k = recv_some(&f, chunk, sizeof chunk);
        if (k < 0)
            goto out;
        if (k == 0)
            eof = true;
        else
            ut_buf_append(&in, chunk, (size_t)k);
    }
    if (out->oom) {
        snprintf(err, err_len, "out of memory");
        goto out;
    }
    rc = 0;
out:
    if (f.ssl)
        SSL_free(f.ssl);
    if (f.ctx)
        SSL_CTX_free(f.ctx);
    if (f.fd >= 0)
        close(f.fd);
    ut_buf_free(&req);
    ut_buf_free(&in);
    if (rc != 0 && !err[0])
        snprintf(err, err_len, "failed");
    return rc;
}
