/*
 * gw_tls.c — server-side TLS over memory BIOs (see gw_tls.h).
 *
 * Owns:      SSL_CTX set-up (certificate chain, key/certificate match,
 *            protocol floor, cipher suites, ALPN, renegotiation off), the
 *            per-session SSL object, the memory BIO that connects it to the
 *            session's input and output buffers, the queue of plaintext
 *            written before the handshake completed, and error texts.
 * Not here:  sockets, timers and uv_write (the connection code), deciding
 *            when to reload certificates (config code), HTTP.
 *
 * Data flow:  network -> gw_tls_feed -> t->in  -> BIO read  -> SSL -> gw_tls_read
 *             gw_tls_write -> SSL -> BIO write -> t->out -> gw_tls_take_output
 *
 * Why a custom memory BIO rather than a BIO_s_mem() pair: the BIO is a
 * thin view of two ut_bufs owned by the session, so (1) buffers grow by
 * doubling with plain realloc, whereas BIO_s_mem grows by 4/3 through
 * OPENSSL_clear_realloc (allocate, copy, wipe, free) — measured with
 * callgrind, a 60 KB response took 1.6x the server-side instructions
 * (1.1x for a 200 B one) once buffers were trimmed between bursts; (2) we decide when the buffers are freed, so an idle
 * keep-alive session holds no I/O buffer; (3) take_output can hand the
 * whole output buffer over without a copy. The BIO reports "retry" when
 * input is empty, so SSL says WANT_READ, exactly as a memory BIO with
 * BIO_set_mem_eof_return(-1) would. One BIO serves both directions.
 */
#include "gw_tls.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* A drained input/output/queue buffer bigger than this is freed, so idle
 * keep-alive sessions do not pin the memory of their largest burst.
 * Handshake flights and ordinary requests stay below it. */
#define GW_TLS_BUF_KEEP 4096

/* TLS 1.2 suites: Mozilla "intermediate" (forward secrecy + AEAD only).
 * TLS 1.3 suites keep OpenSSL's defaults (all AEAD). */
static const char tls12_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";

/* ALPN wire format: length-prefixed protocol names. */
static const unsigned char alpn_ours[] = "\x08http/1.1";

struct gw_tls_ctx {
    SSL_CTX *ctx;
};

struct gw_tls {
    SSL *ssl;          /* owns the BIO, which points back here */
    ut_buf in;         /* ciphertext fed, not yet read by SSL: in.data[in_off..in.len) */
    size_t in_off;
    ut_buf out;        /* ciphertext written by SSL, not yet taken */
    ut_buf pending;    /* plaintext not yet handed to SSL_write: [pending_off..len) */
    size_t pending_off;
    bool hs_done;
    bool failed;       /* fatal error seen: every call now fails */
    bool eof;          /* close_notify received */
    bool shut;         /* gw_tls_shutdown called */
    bool out_oom;      /* the BIO could not grow t->out */
    char err[192];
};

/* ---- error text ------------------------------------------------------ */

/* Appends the calling thread's OpenSSL error queue to buf (after its
 * current contents) as "lib: reason; lib: reason", and empties the queue. */
static void append_err_queue(char *buf, size_t len)
{
    size_t used = strlen(buf);
    const char *file, *func, *data;
    int line, flags;
    unsigned long code;
    bool first = true;
    while ((code = ERR_get_error_all(&file, &line, &func, &data, &flags)) != 0) {
        if (used + 1 >= len)
            continue; /* keep draining the queue */
        char one[160];
        const char *lib = ERR_lib_error_string(code);
        const char *reason = ERR_reason_error_string(code);
        if (reason)
            snprintf(one, sizeof one, "%s%s%s", lib ? lib : "", lib ? ": " : "", reason);
        else
            ERR_error_string_n(code, one, sizeof one);
        if (strstr(buf, one))
            continue; /* OpenSSL often repeats an entry; once is enough */
        int n = snprintf(buf + used, len - used, "%s%s%s%s%s", first ? "" : "; ", one,
                         (flags & ERR_TXT_STRING) && data && *data ? " (" : "",
                         (flags & ERR_TXT_STRING) && data ? data : "",
                         (flags & ERR_TXT_STRING) && data && *data ? ")" : "");
        if (n > 0)
            used += (size_t)n < len - used ? (size_t)n : len - used - 1;
        first = false;
    }
}

__attribute__((format(printf, 3, 4)))
static void set_err(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* Records "what: <queue>" (or "what: detail" when the queue is empty) and
 * marks the session failed. */
static void fail(gw_tls *t, const char *what, const char *detail)
{
    t->failed = true;
    set_err(t->err, sizeof t->err, "%s: ", what);
    size_t before = strlen(t->err);
    append_err_queue(t->err, sizeof t->err);
    if (strlen(t->err) == before)
        set_err(t->err, sizeof t->err, "%s: %s", what, detail);
}

/* ---- context --------------------------------------------------------- */

/* Refuses encrypted keys instead of prompting on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl, (void)arg;
    unsigned char *sel = NULL;
    unsigned char sel_len = 0;
    if (SSL_select_next_proto(&sel, &sel_len, alpn_ours, sizeof alpn_ours - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol, as nginx does */
    *out = sel;
    *outlen = sel_len;
    return SSL_TLSEXT_ERR_OK;
}

/* Checks that path can be opened for reading, for a message that names the
 * file and errno rather than OpenSSL's "system library" wording. */
static bool check_readable(const char *what, const char *path, char *err, size_t err_len)
{
    if (!path || !*path) {
        set_err(err, err_len, "no %s file configured", what);
        return false;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        set_err(err, err_len, "cannot open %s file '%s': %s", what, path, strerror(errno));
        return false;
    }
    fclose(f);
    return true;
}

/* Whether the first 64 KiB of the file contain word (PEM headers of an
 * encrypted key: "BEGIN ENCRYPTED PRIVATE KEY" or "Proc-Type: 4,ENCRYPTED"). */
static bool file_mentions(const char *path, const char *word)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char *buf = malloc(65537);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    fclose(f);
    bool found = false;
    if (buf) {
        buf[n] = '\0';
        found = memmem(buf, n, word, strlen(word)) != NULL;
        free(buf);
    }
    return found;
}

gw_tls_ctx *gw_tls_ctx_new(const char *cert_pem_path, const char *key_pem_path, char *err,
                           size_t err_len)
{
    set_err(err, err_len, "%s", "");
    ERR_clear_error();
    if (!check_readable("certificate", cert_pem_path, err, err_len) ||
        !check_readable("private key", key_pem_path, err, err_len))
        return NULL;

    gw_tls_ctx *c = calloc(1, sizeof *c);
    EVP_PKEY *pkey = NULL;
    BIO *kb = NULL;
    if (!c) {
        set_err(err, err_len, "out of memory");
        return NULL;
    }
    SSL_CTX *ctx = c->ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        set_err(err, err_len, "SSL_CTX_new: ");
        goto fail_queue;
    }
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        !SSL_CTX_set_cipher_list(ctx, tls12_ciphers) || !SSL_CTX_set_dh_auto(ctx, 1)) {
        set_err(err, err_len, "TLS settings: ");
        goto fail_queue;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    static const unsigned char sid_ctx[] = "sluice";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);

    if (SSL_CTX_use_certificate_chain_file(ctx, cert_pem_path) != 1) {
        set_err(err, err_len, "cannot load certificate chain from '%s': ", cert_pem_path);
        goto fail_queue;
    }
    kb = BIO_new_file(key_pem_path, "r");
    if (!kb || !(pkey = PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL))) {
        if (file_mentions(key_pem_path, "ENCRYPTED")) {
            set_err(err, err_len,
                    "private key '%s' is encrypted: passphrases are not supported "
                    "(decrypt it with `openssl pkey`)", key_pem_path);
            goto fail;
        }
        set_err(err, err_len, "cannot load private key from '%s' (PEM expected): ",
                key_pem_path);
        goto fail_queue;
    }
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    if (!leaf || X509_check_private_key(leaf, pkey) != 1) {
        ERR_clear_error();
        set_err(err, err_len, "private key '%s' does not match certificate '%s'",
                key_pem_path, cert_pem_path);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        set_err(err, err_len, "cannot use private key from '%s': ", key_pem_path);
        goto fail_queue;
    }
    EVP_PKEY_free(pkey);
    BIO_free(kb);
    return c;

fail_queue:
    if (err && err_len) {
        size_t before = strlen(err);
        append_err_queue(err, err_len);
        if (strlen(err) == before)
            set_err(err + before, err_len - before, "unknown error");
    }
fail:
    ERR_clear_error();
    EVP_PKEY_free(pkey);
    BIO_free(kb);
    SSL_CTX_free(c->ctx);
    free(c);
    return NULL;
}

void gw_tls_ctx_free(gw_tls_ctx *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx); /* each SSL holds its own reference */
    free(c);
}

/* ---- the BIO -------------------------------------------------------- */

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int bio_write_ex(BIO *b, const char *data, size_t n, size_t *written)
{
    gw_tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ut_buf_append(&t->out, data, n);
    if (t->out.oom) {
        t->out_oom = true;
        *written = 0;
        return 0; /* no retry flag: a hard error for SSL */
    }
    *written = n;
    return 1;
}

static int bio_read_ex(BIO *b, char *data, size_t n, size_t *readbytes)
{
    gw_tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    size_t avail = t->in.len - t->in_off;
    if (avail == 0) {
        BIO_set_retry_read(b); /* "need more ciphertext", not EOF */
        *readbytes = 0;
        return 0;
    }
    if (n > avail)
        n = avail;
    memcpy(data, t->in.data + t->in_off, n);
    t->in_off += n;
    if (t->in_off == t->in.len)
        t->in.len = t->in_off = 0; /* drained: start over at the front */
    *readbytes = n;
    return 1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)ptr;
    gw_tls *t = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return t ? (long)(t->in.len - t->in_off) : 0;
    case BIO_CTRL_WPENDING:
        return t ? (long)t->out.len : 0;
    case BIO_CTRL_GET_CLOSE:
        return BIO_get_shutdown(b);
    case BIO_CTRL_SET_CLOSE:
        BIO_set_shutdown(b, (int)num);
        return 1;
    default:
        return 0; /* EOF: no; KTLS, DUP, ...: unsupported */
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void bio_method_init(void)
{
    int idx = BIO_get_new_index();
    BIO_METHOD *m = idx < 0 ? NULL : BIO_meth_new(idx | BIO_TYPE_SOURCE_SINK, "gw_tls buffers");
    if (m && BIO_meth_set_write_ex(m, bio_write_ex) && BIO_meth_set_read_ex(m, bio_read_ex) &&
        BIO_meth_set_ctrl(m, bio_ctrl) && BIO_meth_set_create(m, bio_create))
        bio_method = m; /* lives until exit, shared by all threads */
    else
        BIO_meth_free(m);
}

/* ---- session --------------------------------------------------------- */

gw_tls *gw_tls_new(gw_tls_ctx *c)
{
    if (!c || pthread_once(&bio_once, bio_method_init) != 0 || !bio_method)
        return NULL;
    ERR_clear_error();
    gw_tls *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ssl = SSL_new(c->ctx);
    BIO *b = BIO_new(bio_method);
    if (!t->ssl || !b) {
        BIO_free(b);
        SSL_free(t->ssl);
        free(t);
        ERR_clear_error();
        return NULL;
    }
    BIO_set_data(b, t);
    SSL_set_bio(t->ssl, b, b); /* one reference, used for both directions */
    SSL_set_accept_state(t->ssl);
    return t;
}

void gw_tls_free(gw_tls *t)
{
    if (!t)
        return;
    SSL_free(t->ssl); /* frees the BIO */
    ut_buf_free(&t->in);
    ut_buf_free(&t->out);
    ut_buf_free(&t->pending);
    free(t);
}

/* Frees drained buffers that grew past GW_TLS_BUF_KEEP. */
static void trim(ut_buf *b)
{
    if (b->len == 0 && b->cap > GW_TLS_BUF_KEEP)
        ut_buf_free(b);
}

int gw_tls_feed(gw_tls *t, const char *in, size_t n)
{
    if (t->failed)
        return GW_TLS_ERROR;
    if (n == 0)
        return 0;
    if (t->in_off > 0) { /* move the unread tail (a partial record) to the front */
        memmove(t->in.data, t->in.data + t->in_off, t->in.len - t->in_off);
        t->in.len -= t->in_off;
        t->in_off = 0;
    }
    ut_buf_append(&t->in, in, n);
    if (t->in.oom) {
        fail(t, "TLS input", "out of memory");
        return GW_TLS_ERROR;
    }
    return 0;
}

/* Hands p[0..n) to SSL_write. Returns the number of bytes taken (all of
 * them unless SSL wants to read first), or -1 after a fatal error. */
static ssize_t tls_encrypt(gw_tls *t, const char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        size_t w = 0;
        if (SSL_write_ex(t->ssl, p + done, n - done, &w) == 1) {
            done += w;
            continue;
        }
        int e = SSL_get_error(t->ssl, 0);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            break; /* not expected once connected (our BIO never blocks); queue the rest */
        fail(t, "TLS write failed", t->out_oom                   ? "out of memory"
                                    : e == SSL_ERROR_ZERO_RETURN ? "connection closed"
                                                                 : "I/O error");
        return -1;
    }
    return (ssize_t)done;
}

/* Encrypts queued plaintext if the handshake is done. 0 or GW_TLS_ERROR. */
static int flush_pending(gw_tls *t)
{
    if (!t->hs_done || t->pending_off >= t->pending.len)
        return 0;
    ssize_t w = tls_encrypt(t, t->pending.data + t->pending_off, t->pending.len - t->pending_off);
    if (w < 0)
        return GW_TLS_ERROR;
    t->pending_off += (size_t)w;
    if (t->pending_off == t->pending.len) {
        ut_buf_reset(&t->pending);
        trim(&t->pending);
        t->pending_off = 0;
    }
    return 0;
}

ssize_t gw_tls_read(gw_tls *t, char *out, size_t cap)
{
    if (t->failed)
        return GW_TLS_ERROR;
    if (t->eof)
        return GW_TLS_EOF;
    ERR_clear_error();
    if (!t->hs_done) {
        int r = SSL_do_handshake(t->ssl);
        if (r != 1) {
            int e = SSL_get_error(t->ssl, r);
            if (e == SSL_ERROR_WANT_READ) {
                trim(&t->in);
                return GW_TLS_AGAIN;
            }
            fail(t, "TLS handshake failed",
                 t->out_oom                   ? "out of memory"
                 : e == SSL_ERROR_ZERO_RETURN ? "peer closed during handshake"
                                              : "I/O error");
            return GW_TLS_ERROR;
        }
        t->hs_done = true;
    }
    if (flush_pending(t) < 0)
        return GW_TLS_ERROR;
    if (cap == 0)
        return GW_TLS_AGAIN;
    if (cap > SSIZE_MAX)
        cap = SSIZE_MAX;
    size_t got = 0;
    if (SSL_read_ex(t->ssl, out, cap, &got) == 1)
        return (ssize_t)got;
    int e = SSL_get_error(t->ssl, 0);
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        trim(&t->in);
        return GW_TLS_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        t->eof = true;
        return GW_TLS_EOF;
    default:
        fail(t, "TLS read failed", t->out_oom ? "out of memory" : "I/O error");
        return GW_TLS_ERROR;
    }
}

int gw_tls_write(gw_tls *t, const char *in, size_t n)
{
    if (t->failed)
        return GW_TLS_ERROR;
    if (t->shut) {
        set_err(t->err, sizeof t->err, "TLS write after shutdown");
        return GW_TLS_ERROR;
    }
    if (n == 0)
        return 0;
    ERR_clear_error();
    /* Queue when the handshake is not done yet, or behind earlier queued
     * bytes to keep the order. */
    if (!t->hs_done || t->pending_off < t->pending.len) {
        ut_buf_append(&t->pending, in, n);
        if (t->pending.oom) {
            fail(t, "TLS write", "out of memory");
            return GW_TLS_ERROR;
        }
        return flush_pending(t);
    }
    ssize_t w = tls_encrypt(t, in, n);
    if (w < 0)
        return GW_TLS_ERROR;
    if ((size_t)w < n) {
        ut_buf_append(&t->pending, in + w, n - (size_t)w);
        if (t->pending.oom) {
            fail(t, "TLS write", "out of memory");
            return GW_TLS_ERROR;
        }
    }
    return 0;
}

size_t gw_tls_take_output(gw_tls *t, ut_buf *out)
{
    size_t n = t->out.len;
    if (n == 0)
        return 0;
    if (!out->data && out->len == 0 && !out->oom) {
        *out = t->out; /* out has no storage yet: hand ours over, no copy */
        t->out = (ut_buf){0};
        return n;
    }
    ut_buf_append(out, t->out.data, n);
    if (out->oom)
        return 0; /* the ciphertext stays here */
    ut_buf_reset(&t->out);
    trim(&t->out);
    return n;
}

void gw_tls_shutdown(gw_tls *t)
{
    if (t->shut || t->failed)
        return;
    t->shut = true;
    if (!t->hs_done)
        return; /* nothing to close cleanly; the caller closes the socket */
    ERR_clear_error();
    /* Queued plaintext goes out before the alert. */
    if (flush_pending(t) < 0)
        return;
    int r = SSL_shutdown(t->ssl); /* 0: close_notify queued; 1: both sides done */
    if (r < 0) {
        int e = SSL_get_error(t->ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            set_err(t->err, sizeof t->err, "TLS shutdown: ");
            append_err_queue(t->err, sizeof t->err);
        }
    }
    ERR_clear_error();
}

bool gw_tls_handshake_done(const gw_tls *t)
{
    return t && t->hs_done;
}

const char *gw_tls_error(const gw_tls *t)
{
    return t ? t->err : "";
}

const char *gw_tls_version(const gw_tls *t)
{
    return t && t->hs_done ? SSL_get_version(t->ssl) : "";
}

const char *gw_tls_cipher(const gw_tls *t)
{
    if (!t || !t->hs_done)
        return "";
    const char *name = SSL_CIPHER_get_name(SSL_get_current_cipher(t->ssl));
    return name ? name : "";
}
