/*
 * test_tls.c — unit tests for server-side TLS over memory BIOs
 * (src/gateway/gw_tls.c).
 *
 * Owns:     handshakes (TLS 1.3, TLS 1.2, TLS 1.1 refused), ALPN, data both
 *           ways (1 MiB in odd-sized pieces, ciphertext fed in odd-sized
 *           pieces), writes queued before the handshake, close_notify both
 *           ways, garbage input (plaintext HTTP, random bytes, mutated
 *           ClientHellos, corrupted records) failing cleanly, certificate /
 *           key loading errors, a ctx freed while its sessions live, and
 *           sessions on several threads. Also measures (never asserts)
 *           handshakes per second and per-session memory.
 * Not here: sockets and libuv (the connection code's tests).
 *
 * The peer is a plain OpenSSL client with its own memory BIOs; everything
 * runs in memory. The throwaway self-signed P-256 certificate is made with
 * the OpenSSL API in a mkdtemp() directory (no openssl CLI needed).
 * Output:   "ok - NAME" / "not ok - NAME" lines, "# ..." notes, then
 *           "N passed, N failed".
 */
#include "gw_tls.h"

#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tap.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift, deterministic */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* ---- files ----------------------------------------------------------- */

static char dir[64];
static char cert_path[128], key_path[128], other_key_path[128], junk_path[128],
    enc_key_path[128], missing_path[128];
static X509 *the_cert;

static int write_key(const char *path, EVP_PKEY *k, const char *pass)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    int ok = pass ? PEM_write_PrivateKey(f, k, EVP_aes_128_cbc(), (unsigned char *)pass,
                                         (int)strlen(pass), NULL, NULL)
                  : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    return ok;
}

static int make_files(void)
{
    strcpy(dir, "/tmp/sluice-tls-XXXXXX");
    if (!mkdtemp(dir))
        return 0;
    snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
    snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
    snprintf(other_key_path, sizeof other_key_path, "%s/other.pem", dir);
    snprintf(junk_path, sizeof junk_path, "%s/junk.pem", dir);
    snprintf(enc_key_path, sizeof enc_key_path, "%s/enc.pem", dir);
    snprintf(missing_path, sizeof missing_path, "%s/missing.pem", dir);

    EVP_PKEY *k = EVP_EC_gen("P-256");
    EVP_PKEY *k2 = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    int ok = k && k2 && x;
    if (ok) {
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(rnd() & 0x7fffffff));
        X509_gmtime_adj(X509_getm_notBefore(x), -60);
        X509_gmtime_adj(X509_getm_notAfter(x), 86400);
        X509_set_pubkey(x, k);
        X509_NAME *nm = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"localhost",
                                   -1, -1, 0);
        X509_set_issuer_name(x, nm);
        X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
                                                  "DNS:localhost");
        ok = san && X509_add_ext(x, san, -1);
        X509_EXTENSION_free(san);
        ok = ok && X509_sign(x, k, EVP_sha256()) > 0;
    }
    FILE *f = ok ? fopen(cert_path, "w") : NULL;
    if (f) {
        ok = PEM_write_X509(f, x);
        fclose(f);
    } else {
        ok = 0;
    }
    ok = ok && write_key(key_path, k, NULL) && write_key(other_key_path, k2, NULL) &&
         write_key(enc_key_path, k, "secret");
    f = fopen(junk_path, "w");
    if (f) {
        fputs("this is not a certificate\n", f);
        fclose(f);
    }
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
    if (ok)
        the_cert = x;
    else
        X509_free(x);
    return ok;
}

static void remove_files(void)
{
    const char *paths[] = {cert_path, key_path, other_key_path, junk_path, enc_key_path};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        unlink(paths[i]);
    rmdir(dir);
}

/* ---- an in-memory client/server pair ---------------------------------- */

static gw_tls_ctx *sctx;

typedef struct client_opts {
    int max_version;   /* 0: default */
    const char *alpn;  /* wire format; NULL: none */
    unsigned alpn_len;
    bool seclevel0;
} client_opts;

typedef struct pair {
    SSL *c;
    BIO *c_in, *c_out; /* c_in: to the client SSL; c_out: from it */
    gw_tls *s;
    ut_buf srv_got, cli_got;
    ssize_t srv_last;   /* last gw_tls_read status (<= 0) */
    int cli_err;        /* client SSL error other than WANT_READ, or 0 */
    bool cli_eof;
    size_t feed_piece;  /* ciphertext fed to the server in pieces of this size (0: all) */
    size_t read_cap;    /* server read buffer size */
    double srv_time;    /* seconds spent inside gw_tls_* */
} pair;

static SSL_CTX *client_ctx(const client_opts *o)
{
    SSL_CTX *cc = SSL_CTX_new(TLS_client_method());
    if (!cc)
        return NULL;
    SSL_CTX_set_verify(cc, SSL_VERIFY_PEER, NULL);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(cc), the_cert);
    if (o && o->seclevel0) {
        SSL_CTX_set_security_level(cc, 0);
        SSL_CTX_set_cipher_list(cc, "DEFAULT:@SECLEVEL=0");
        SSL_CTX_set_min_proto_version(cc, TLS1_VERSION);
    }
    if (o && o->max_version)
        SSL_CTX_set_max_proto_version(cc, o->max_version);
    if (o && o->alpn)
        SSL_CTX_set_alpn_protos(cc, (const unsigned char *)o->alpn, o->alpn_len);
    return cc;
}

static bool pair_init(pair *p, SSL_CTX *cc, gw_tls_ctx *sc)
{
    memset(p, 0, sizeof *p);
    p->read_cap = 3001;
    p->c = SSL_new(cc);
    p->c_in = BIO_new(BIO_s_mem());
    p->c_out = BIO_new(BIO_s_mem());
    p->s = gw_tls_new(sc ? sc : sctx);
    if (!p->c || !p->c_in || !p->c_out || !p->s)
        return false;
    BIO_set_mem_eof_return(p->c_in, -1);
    BIO_set_mem_eof_return(p->c_out, -1);
    SSL_set_bio(p->c, p->c_in, p->c_out);
    SSL_set_connect_state(p->c);
    SSL_set_tlsext_host_name(p->c, "localhost");
    SSL_set1_host(p->c, "localhost");
    return true;
}

static void pair_free_client(pair *p)
{
    SSL_free(p->c); /* frees its BIOs */
    p->c = NULL;
    p->c_in = p->c_out = NULL;
}

static void pair_free(pair *p)
{
    pair_free_client(p);
    gw_tls_free(p->s);
    ut_buf_free(&p->srv_got);
    ut_buf_free(&p->cli_got);
}

static void server_read_all(pair *p)
{
    char buf[70000];
    size_t cap = p->read_cap < sizeof buf ? p->read_cap : sizeof buf;
    for (;;) {
        ssize_t r = gw_tls_read(p->s, buf, cap);
        if (r <= 0) {
            p->srv_last = r;
            return;
        }
        ut_buf_append(&p->srv_got, buf, (size_t)r);
    }
}

/* Moves bytes both ways until nothing moves. Returns false if the client
 * SSL failed. */
static bool pump(pair *p)
{
    for (int round = 0; round < 10000; round++) {
        bool progress = false;
        /* client -> server */
        size_t n = BIO_ctrl_pending(p->c_out);
        if (n > 0) {
            char *tmp = malloc(n);
            int got = BIO_read(p->c_out, tmp, (int)n);
            double t0 = now_s();
            size_t piece = p->feed_piece ? p->feed_piece : (size_t)got;
            for (size_t off = 0; got > 0 && off < (size_t)got; off += piece) {
                size_t m = (size_t)got - off < piece ? (size_t)got - off : piece;
                if (gw_tls_feed(p->s, tmp + off, m) != 0)
                    p->srv_last = GW_TLS_ERROR;
                server_read_all(p);
            }
            p->srv_time += now_s() - t0;
            free(tmp);
            progress = true;
        } else {
            double t0 = now_s();
            server_read_all(p);
            p->srv_time += now_s() - t0;
        }
        /* server -> client */
        ut_buf o = {0};
        double t0 = now_s();
        size_t m = gw_tls_take_output(p->s, &o);
        p->srv_time += now_s() - t0;
        if (m > 0) {
            BIO_write(p->c_in, o.data, (int)o.len);
            progress = true;
        }
        ut_buf_free(&o);
        /* client */
        if (!p->cli_err && !p->cli_eof) {
            if (!SSL_is_init_finished(p->c)) {
                int r = SSL_do_handshake(p->c);
                if (r != 1) {
                    int e = SSL_get_error(p->c, r);
                    if (e != SSL_ERROR_WANT_READ)
                        p->cli_err = e;
                }
            }
            if (SSL_is_init_finished(p->c)) {
                char buf[20000];
                size_t got;
                while (SSL_read_ex(p->c, buf, sizeof buf, &got) == 1)
                    ut_buf_append(&p->cli_got, buf, got);
                int e = SSL_get_error(p->c, 0);
                if (e == SSL_ERROR_ZERO_RETURN)
                    p->cli_eof = true;
                else if (e != SSL_ERROR_WANT_READ)
                    p->cli_err = e;
            }
        }
        ERR_clear_error();
        if (BIO_ctrl_pending(p->c_out) > 0)
            progress = true;
        if (!progress)
            break;
    }
    return p->cli_err == 0;
}

static bool client_write(pair *p, const char *d, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t w;
        if (SSL_write_ex(p->c, d + off, n - off, &w) != 1)
            return false;
        off += w;
    }
    return true;
}

static bool handshake(pair *p)
{
    return pump(p) && SSL_is_init_finished(p->c) && gw_tls_handshake_done(p->s);
}

/* ---- tests ----------------------------------------------------------- */

static SSL_CTX *cctx; /* default client: TLS 1.3, ALPN h2,http/1.1 */

static void test_handshake_and_data(void)
{
    pair p;
    check(pair_init(&p, cctx, NULL), "pair set up");
    check(!gw_tls_handshake_done(p.s) && !strcmp(gw_tls_version(p.s), ""),
          "no handshake before any input");
    check(handshake(&p), "TLS 1.3 handshake in memory");
    check(SSL_get_verify_result(p.c) == X509_V_OK, "client verifies the certificate (CN/SAN localhost)");
    check(!strcmp(gw_tls_version(p.s), "TLSv1.3") && *gw_tls_cipher(p.s),
          "version TLSv1.3 and a cipher reported");
    printf("# negotiated %s %s\n", gw_tls_version(p.s), gw_tls_cipher(p.s));
    const unsigned char *alpn;
    unsigned alpn_len;
    SSL_get0_alpn_selected(p.c, &alpn, &alpn_len);
    check(alpn_len == 8 && !memcmp(alpn, "http/1.1", 8), "ALPN picks http/1.1 over h2");
    check(!strcmp(gw_tls_error(p.s), ""), "no error text after a good handshake");

    const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    client_write(&p, req, sizeof req - 1);
    pump(&p);
    check(p.srv_got.len == sizeof req - 1 && !memcmp(p.srv_got.data, req, sizeof req - 1),
          "client -> server plaintext");
    check(p.srv_last == GW_TLS_AGAIN, "read returns GW_TLS_AGAIN when drained");
    const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    check(gw_tls_write(p.s, resp, 10) == 0 && gw_tls_write(p.s, resp + 10, sizeof resp - 11) == 0,
          "server write");
    pump(&p);
    check(p.cli_got.len == sizeof resp - 1 && !memcmp(p.cli_got.data, resp, sizeof resp - 1),
          "server -> client plaintext");
    char dummy[1];
    check(gw_tls_read(p.s, dummy, 0) == GW_TLS_AGAIN, "read with cap 0 returns GW_TLS_AGAIN");
    pair_free(&p);
}

static void test_write_before_handshake(void)
{
    pair p;
    pair_init(&p, cctx, NULL);
    check(gw_tls_write(p.s, "hello ", 6) == 0 && gw_tls_write(p.s, "early ", 6) == 0,
          "write before handshake is accepted");
    ut_buf o = {0};
    check(gw_tls_take_output(p.s, &o) == 0, "nothing to send before the ClientHello");
    ut_buf_free(&o);
    check(handshake(&p), "handshake with queued plaintext");
    gw_tls_write(p.s, "world", 5);
    pump(&p);
    check(p.cli_got.len == 17 && !memcmp(p.cli_got.data, "hello early world", 17),
          "queued plaintext delivered in order after the handshake");
    pair_free(&p);
}

static void fill_pattern(char *b, size_t n, uint32_t seed)
{
    uint32_t x = seed;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (char)(x >> 23);
    }
}

static void test_big_payload(void)
{
    static const size_t pieces[] = {1, 7, 100, 1000, 4093, 16383, 16385, 65537, 3, 250001};
    const size_t total = 1u << 20;
    char *src = malloc(total);
    fill_pattern(src, total, 42);

    pair p;
    pair_init(&p, cctx, NULL);
    p.feed_piece = 1337;
    p.read_cap = 3001;
    check(handshake(&p), "handshake (ciphertext fed in 1337-byte pieces)");

    /* client -> server: 1 MiB in odd pieces, pumping in between */
    size_t off = 0, k = 0;
    bool ok = true;
    while (off < total) {
        size_t n = pieces[k++ % (sizeof pieces / sizeof pieces[0])];
        if (n > total - off)
            n = total - off;
        ok = ok && client_write(&p, src + off, n);
        off += n;
        if (k % 3 == 0)
            pump(&p);
    }
    pump(&p);
    check(ok && p.srv_got.len == total && !memcmp(p.srv_got.data, src, total),
          "1 MiB client -> server in odd pieces, read with cap 3001");

    /* server -> client: 1 MiB written in odd pieces, taken in one go */
    off = 0, k = 0;
    ok = true;
    while (off < total) {
        size_t n = pieces[(k++ * 7) % (sizeof pieces / sizeof pieces[0])];
        if (n > total - off)
            n = total - off;
        ok = ok && gw_tls_write(p.s, src + off, n) == 0;
        off += n;
    }
    ut_buf o = {0};
    size_t took = gw_tls_take_output(p.s, &o);
    check(ok && took > total && took < total + total / 50 && o.len == took,
          "1 MiB server -> client: ciphertext taken at once (< 2% overhead)");
    printf("# 1 MiB plaintext -> %zu bytes of records\n", took);
    BIO_write(p.c_in, o.data, (int)o.len);
    ut_buf_free(&o);
    pump(&p);
    check(p.cli_got.len == total && !memcmp(p.cli_got.data, src, total),
          "1 MiB server -> client arrives intact");

    /* both directions at once, in small pieces */
    ut_buf_reset(&p.srv_got);
    ut_buf_reset(&p.cli_got);
    off = 0;
    ok = true;
    while (off < total) {
        size_t n = 1 + (size_t)(rnd() % 9000);
        if (n > total - off)
            n = total - off;
        ok = ok && client_write(&p, src + off, n) && gw_tls_write(p.s, src + off, n) == 0;
        off += n;
        pump(&p);
    }
    check(ok && p.srv_got.len == total && !memcmp(p.srv_got.data, src, total) &&
              p.cli_got.len == total && !memcmp(p.cli_got.data, src, total),
          "1 MiB both ways interleaved in random pieces");
    pair_free(&p);
    free(src);
}

static void test_close_notify(void)
{
    pair p;
    pair_init(&p, cctx, NULL);
    handshake(&p);
    client_write(&p, "last", 4);
    SSL_shutdown(p.c);
    pump(&p);
    check(p.srv_got.len == 4 && p.srv_last == GW_TLS_EOF, "data then close_notify -> GW_TLS_EOF");
    char b[16];
    check(gw_tls_read(p.s, b, sizeof b) == GW_TLS_EOF, "GW_TLS_EOF is sticky");
    check(gw_tls_write(p.s, "bye", 3) == 0, "write after peer's close_notify (half-close)");
    gw_tls_shutdown(p.s);
    gw_tls_shutdown(p.s);
    pump(&p);
    check(p.cli_got.len == 3 && p.cli_eof, "server data then close_notify reach the client");
    check(gw_tls_write(p.s, "x", 1) == GW_TLS_ERROR && *gw_tls_error(p.s),
          "write after shutdown fails");
    printf("# %s\n", gw_tls_error(p.s));
    pair_free(&p);

    pair_init(&p, cctx, NULL);
    handshake(&p);
    gw_tls_shutdown(p.s);
    pump(&p);
    check(p.cli_eof, "server-initiated close_notify -> client sees EOF");
    SSL_shutdown(p.c);
    pump(&p);
    check(p.srv_last == GW_TLS_EOF, "client's reply close_notify -> GW_TLS_EOF");
    pair_free(&p);

    pair_init(&p, cctx, NULL);
    gw_tls_write(p.s, "never", 5);
    gw_tls_shutdown(p.s);
    ut_buf o = {0};
    check(gw_tls_take_output(p.s, &o) == 0, "shutdown before handshake queues nothing");
    ut_buf_free(&o);
    pair_free(&p);
}

static void test_garbage(void)
{
    /* plaintext HTTP on the TLS port */
    gw_tls *t = gw_tls_new(sctx);
    const char http[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    check(gw_tls_feed(t, http, sizeof http - 1) == 0, "feed accepts any bytes");
    char b[100];
    check(gw_tls_read(t, b, sizeof b) == GW_TLS_ERROR, "plaintext HTTP -> GW_TLS_ERROR");
    check(*gw_tls_error(t) != '\0', "error text recorded");
    printf("# %s\n", gw_tls_error(t));
    ut_buf o = {0};
    gw_tls_take_output(t, &o);
    printf("# %zu bytes of alert to send\n", o.len);
    ut_buf_free(&o);
    check(gw_tls_feed(t, "x", 1) == GW_TLS_ERROR && gw_tls_read(t, b, sizeof b) == GW_TLS_ERROR &&
              gw_tls_write(t, "x", 1) == GW_TLS_ERROR,
          "failed session stays failed");
    gw_tls_shutdown(t);
    gw_tls_free(t);

    /* a real ClientHello to mutate */
    pair p;
    pair_init(&p, cctx, NULL);
    SSL_do_handshake(p.c);
    size_t ch_len = BIO_ctrl_pending(p.c_out);
    char *ch = malloc(ch_len);
    BIO_read(p.c_out, ch, (int)ch_len);
    pair_free(&p);
    ERR_clear_error();

    int errors = 0, agains = 0, data = 0;
    char *buf = malloc(4096);
    for (int i = 0; i < 3000; i++) {
        t = gw_tls_new(sctx);
        size_t n;
        if (i % 3 == 0) { /* random bytes */
            n = (size_t)(rnd() % 600);
            for (size_t j = 0; j < n; j++)
                buf[j] = (char)rnd();
        } else if (i % 3 == 1) { /* a record header that looks right, random body */
            n = 5 + (size_t)(rnd() % 400);
            for (size_t j = 0; j < n; j++)
                buf[j] = (char)rnd();
            buf[0] = (char)(20 + rnd() % 4);
            buf[1] = 3;
            buf[2] = (char)(rnd() % 5);
        } else { /* the ClientHello with a few flipped bytes, maybe truncated */
            n = ch_len < 4096 ? ch_len : 4096;
            memcpy(buf, ch, n);
            int flips = 1 + (int)(rnd() % 4);
            for (int f = 0; f < flips; f++)
                buf[rnd() % n] ^= (char)(1u << (rnd() % 8));
            if (rnd() % 4 == 0)
                n = (size_t)(rnd() % n);
        }
        /* fed in two pieces */
        size_t cut = n ? (size_t)(rnd() % n) : 0;
        ssize_t r = 0;
        if (gw_tls_feed(t, buf, cut) == 0)
            while ((r = gw_tls_read(t, b, sizeof b)) > 0)
                data++;
        if (r == 0 && gw_tls_feed(t, buf + cut, n - cut) == 0)
            while ((r = gw_tls_read(t, b, sizeof b)) > 0)
                data++;
        ut_buf o2 = {0};
        gw_tls_take_output(t, &o2);
        ut_buf_free(&o2);
        if (r == GW_TLS_ERROR)
            errors++;
        else if (r == GW_TLS_AGAIN)
            agains++;
        gw_tls_free(t);
    }
    free(buf);
    free(ch);
    printf("# 3000 garbage inputs: %d errors, %d need-more, %d plaintext chunks\n", errors,
           agains, data);
    check(data == 0 && errors + agains == 3000 && errors > 1000,
          "random / mutated input fails cleanly, never yields plaintext");

    /* corrupted record after a good handshake */
    pair_init(&p, cctx, NULL);
    handshake(&p);
    client_write(&p, "0123456789", 10);
    size_t n = BIO_ctrl_pending(p.c_out);
    char rec[64];
    BIO_read(p.c_out, rec, (int)n);
    rec[n - 3] ^= 0x40; /* inside the AEAD tag */
    gw_tls_feed(p.s, rec, n);
    check(gw_tls_read(p.s, b, sizeof b) == GW_TLS_ERROR, "tampered record -> GW_TLS_ERROR");
    printf("# %s\n", gw_tls_error(p.s));
    o = (ut_buf){0};
    check(gw_tls_take_output(p.s, &o) > 0, "an alert is queued for the peer");
    ut_buf_free(&o);
    pair_free(&p);
}

static void test_versions_and_alpn(void)
{
    client_opts o12 = {.max_version = TLS1_2_VERSION, .alpn = "\x08http/1.1", .alpn_len = 9};
    SSL_CTX *c12 = client_ctx(&o12);
    pair p;
    pair_init(&p, c12, NULL);
    check(handshake(&p) && !strcmp(gw_tls_version(p.s), "TLSv1.2"), "TLS 1.2 handshake");
    printf("# negotiated %s %s\n", gw_tls_version(p.s), gw_tls_cipher(p.s));
    client_write(&p, "ping", 4);
    gw_tls_write(p.s, "pong", 4);
    pump(&p);
    check(p.srv_got.len == 4 && p.cli_got.len == 4 && !memcmp(p.cli_got.data, "pong", 4),
          "TLS 1.2 data both ways");
    /* a client asking for renegotiation is refused but the session survives */
    SSL_renegotiate(p.c);
    SSL_do_handshake(p.c);
    pump(&p);
    ERR_clear_error();
    pair_free(&p);
    SSL_CTX_free(c12);

    client_opts o11 = {.max_version = TLS1_1_VERSION, .seclevel0 = true};
    SSL_CTX *c11 = client_ctx(&o11);
    pair_init(&p, c11, NULL);
    SSL_set_security_level(p.c, 0);
    pump(&p);
    check(p.srv_last == GW_TLS_ERROR && !gw_tls_handshake_done(p.s), "TLS 1.1 client refused");
    printf("# %s\n", gw_tls_error(p.s));
    pair_free(&p);
    SSL_CTX_free(c11);

    SSL_CTX *cn = client_ctx(NULL);
    pair_init(&p, cn, NULL);
    const unsigned char *alpn;
    unsigned alpn_len = 1;
    bool ok = handshake(&p);
    SSL_get0_alpn_selected(p.c, &alpn, &alpn_len);
    check(ok && alpn_len == 0, "client without ALPN is accepted");
    pair_free(&p);
    SSL_CTX_free(cn);

    client_opts oh2 = {.alpn = "\x02h2", .alpn_len = 3};
    SSL_CTX *ch2 = client_ctx(&oh2);
    pair_init(&p, ch2, NULL);
    pump(&p);
    check(p.srv_last == GW_TLS_ERROR && p.cli_err, "client offering only h2 gets no_application_protocol");
    printf("# %s\n", gw_tls_error(p.s));
    pair_free(&p);
    SSL_CTX_free(ch2);
    ERR_clear_error();
}

static void test_ctx_errors(void)
{
    char err[300];
    gw_tls_ctx *c = gw_tls_ctx_new(missing_path, key_path, err, sizeof err);
    check(!c && strstr(err, missing_path) && strstr(err, "No such file"),
          "missing certificate file: clear error");
    printf("# %s\n", err);
    c = gw_tls_ctx_new(cert_path, missing_path, err, sizeof err);
    check(!c && strstr(err, missing_path) && strstr(err, "private key"),
          "missing key file: clear error");
    printf("# %s\n", err);
    c = gw_tls_ctx_new(cert_path, other_key_path, err, sizeof err);
    check(!c && strstr(err, "does not match") && strstr(err, other_key_path),
          "key not matching the certificate: clear error");
    printf("# %s\n", err);
    c = gw_tls_ctx_new(junk_path, key_path, err, sizeof err);
    check(!c && strstr(err, junk_path) && strstr(err, "certificate"), "not a PEM certificate");
    printf("# %s\n", err);
    c = gw_tls_ctx_new(cert_path, enc_key_path, err, sizeof err);
    check(!c && strstr(err, enc_key_path) && strstr(err, "encrypted"),
          "encrypted key refused without prompting");
    printf("# %s\n", err);
    c = gw_tls_ctx_new(cert_path, cert_path, err, sizeof err);
    check(!c && strstr(err, "private key"), "certificate given as key");
    printf("# %s\n", err);
    c = gw_tls_ctx_new(missing_path, key_path, NULL, 0);
    check(!c, "NULL err buffer is fine");
    check(ERR_peek_error() == 0, "OpenSSL error queue left empty");
}

static void test_ctx_lifetime(void)
{
    char err[200];
    gw_tls_ctx *c = gw_tls_ctx_new(cert_path, key_path, err, sizeof err);
    pair p;
    pair_init(&p, cctx, c);
    gw_tls_ctx_free(c); /* e.g. a reload while the connection lives on */
    check(handshake(&p), "session outlives its freed ctx");
    pair_free(&p);
}

static void *thread_main(void *arg)
{
    int *ok = arg;
    for (int i = 0; i < 40; i++) {
        pair p;
        if (!pair_init(&p, cctx, NULL)) {
            pair_free(&p);
            continue;
        }
        char msg[32];
        int n = snprintf(msg, sizeof msg, "msg %d", i);
        if (handshake(&p) && client_write(&p, msg, (size_t)n) && pump(&p) &&
            p.srv_got.len == (size_t)n && !memcmp(p.srv_got.data, msg, (size_t)n))
            (*ok)++;
        pair_free(&p);
    }
    OPENSSL_thread_stop();
    return NULL;
}

static void test_threads(void)
{
    pthread_t th[4];
    int ok[4] = {0};
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, thread_main, &ok[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    check(ok[0] + ok[1] + ok[2] + ok[3] == 160, "4 threads x 40 sessions on one ctx");
}

/* ---- measurements (reported, not asserted) -------------------------- */

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static void measure_rate(const char *label, SSL_CTX *cc, double budget)
{
    double t0 = now_s(), srv = 0;
    int n = 0;
    while (now_s() - t0 < budget || n < 20) {
        pair p;
        pair_init(&p, cc, NULL);
        if (handshake(&p))
            n++;
        srv += p.srv_time;
        pair_free(&p);
    }
    double dt = now_s() - t0;
    printf("# %s: %d handshakes in %.2f s = %.0f/s for client+server in one thread; "
           "server side alone %.0f/s (%.0f us each)\n",
           label, n, dt, n / dt, n / srv, srv / n * 1e6);
}

static void measure_memory(void)
{
    enum { N = 1000 };
    static pair ps[N];
    size_t base = heap_in_use();
    for (int i = 0; i < N; i++) {
        pair_init(&ps[i], cctx, NULL);
        handshake(&ps[i]);
    }
    for (int i = 0; i < N; i++) {
        pair_free_client(&ps[i]);
        ut_buf_free(&ps[i].srv_got);
        ut_buf_free(&ps[i].cli_got);
    }
    size_t after_hs = heap_in_use();
    for (int i = 0; i < N; i++)
        gw_tls_free(ps[i].s);
    size_t after_free = heap_in_use();

    /* sessions that carried one request and a 32 KiB response */
    static char body[32768];
    base = heap_in_use();
    for (int i = 0; i < N; i++) {
        pair_init(&ps[i], cctx, NULL);
        handshake(&ps[i]);
        client_write(&ps[i], "GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n", 35);
        pump(&ps[i]);
        gw_tls_write(ps[i].s, body, sizeof body);
        pump(&ps[i]);
    }
    for (int i = 0; i < N; i++) {
        pair_free_client(&ps[i]);
        ut_buf_free(&ps[i].srv_got);
        ut_buf_free(&ps[i].cli_got);
    }
    size_t after_xfer = heap_in_use();
    for (int i = 0; i < N; i++)
        gw_tls_free(ps[i].s);

    if (after_hs <= base) {
        printf("# per-session memory: n/a (allocator does not report via mallinfo2)\n");
        return;
    }
    printf("# per-session memory (mallinfo2, %d idle server sessions, TLS 1.3): "
           "%zu bytes after handshake, %zu bytes after a request + 32 KiB response "
           "(freeing them returned the heap to +%ld bytes)\n",
           N, (after_hs - base) / N, (after_xfer - base) / N,
           (long)after_free - (long)base);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!make_files()) {
        printf("# cannot create a throwaway certificate in /tmp\n");
        check(0, "test certificate");
        printf("%d passed, %d failed\n", n_pass, n_fail);
        return 1;
    }
    char err[300];
    sctx = gw_tls_ctx_new(cert_path, key_path, err, sizeof err);
    check(sctx != NULL, "gw_tls_ctx_new with a fresh P-256 certificate");
    if (!sctx) {
        printf("# %s\n", err);
        remove_files();
        printf("%d passed, %d failed\n", n_pass, n_fail);
        return 1;
    }
    client_opts def = {.alpn = "\x02h2\x08http/1.1", .alpn_len = 12};
    cctx = client_ctx(&def);

    test_handshake_and_data();
    test_write_before_handshake();
    test_big_payload();
    test_close_notify();
    test_garbage();
    test_versions_and_alpn();
    test_ctx_errors();
    test_ctx_lifetime();
    test_threads();

    measure_rate("TLS 1.3 (X25519, ECDSA P-256)", cctx, 1.0);
    client_opts o12 = {.max_version = TLS1_2_VERSION};
    SSL_CTX *c12 = client_ctx(&o12);
    measure_rate("TLS 1.2 (ECDHE-ECDSA)", c12, 0.5);
    SSL_CTX_free(c12);
    measure_memory();

    SSL_CTX_free(cctx);
    gw_tls_ctx_free(sctx);
    X509_free(the_cert);
    remove_files();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
