/*
 * gw_tls.h — server-side TLS over memory buffers (OpenSSL 3), for
 * connections whose I/O someone else does.
 *
 * Layer:     gateway. Knows nothing of sockets, libuv, HTTP or config
 *            files: the connection code reads ciphertext from its stream,
 *            gw_tls_feed()s it, gw_tls_read()s plaintext, gw_tls_write()s
 *            plaintext and sends whatever gw_tls_take_output() hands back.
 * Owns:      the listener's SSL_CTX (certificate chain + key, TLS 1.2 and
 *            1.3 only, AEAD cipher suites, ALPN "http/1.1", renegotiation
 *            off), the per-connection SSL state machine, its memory BIO
 *            (a view of the session's ciphertext input/output buffers),
 *            the queue of plaintext written before the handshake
 *            finished, and error texts for logs.
 * Not here:  sockets and timers (the connection code), certificate
 *            reloading policy (the config code: it builds a new ctx and
 *            frees the old one), client certificates, SNI-based selection
 *            of several certificates, outbound (upstream) TLS.
 *
 * Typical loop, per connection:
 *
 *     on_read(bytes):  if (gw_tls_feed(t, bytes, n) < 0) goto fail;
 *                      while ((r = gw_tls_read(t, buf, sizeof buf)) > 0)
 *                          http_input(buf, r);
 *                      flush();                // take_output + uv_write
 *                      if (r == GW_TLS_EOF)   -> peer is done (half-close)
 *                      if (r == GW_TLS_ERROR) -> flush() (alert), close
 *     to send:         gw_tls_write(t, p, n); flush();
 *     to close:        gw_tls_shutdown(t); flush(); close after the write
 *     flush():         gw_tls_take_output(t, &out); uv_write(out) ...
 *
 * Memory: a session keeps no record buffers while idle
 * (SSL_MODE_RELEASE_BUFFERS), and its ciphertext buffers are freed once
 * drained if they grew past 4 KiB, so a 1 MiB response does not leave
 * 1 MiB behind per keep-alive connection. Ciphertext produced
 * by gw_tls_write() stays inside the session until gw_tls_take_output():
 * call it after every feed/read/write/shutdown. Likewise ciphertext fed
 * and not yet read stays buffered: read after every feed.
 *
 * Threads: a ctx may be shared by sessions on any threads; one session
 * must be used by one thread at a time. Errors are taken from the calling
 * thread's OpenSSL error queue, which every call clears first.
 */
#ifndef GW_TLS_H
#define GW_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ut_buf.h"

/* ---- per listener ---------------------------------------------------- */

typedef struct gw_tls_ctx gw_tls_ctx;

/* Loads a PEM certificate chain (leaf first) and a PEM private key that
 * must match the leaf. Encrypted keys are refused (no passphrase prompt).
 * On failure returns NULL and writes a one-line reason naming the file to
 * err (if err_len > 0), e.g.
 *   "cannot open certificate file '/x/cert.pem': No such file or directory"
 *   "private key '/x/key.pem' does not match certificate '/x/cert.pem'" */
gw_tls_ctx *gw_tls_ctx_new(const char *cert_pem_path, const char *key_pem_path, char *err,
                           size_t err_len);

/* Drops the caller's reference. Sessions created from c keep what they
 * need alive (the SSL_CTX is reference-counted by OpenSSL), so a reload
 * may free the old ctx while its connections drain. NULL is a no-op. */
void gw_tls_ctx_free(gw_tls_ctx *c);

/* ---- per connection -------------------------------------------------- */

typedef struct gw_tls gw_tls;

/* A server-side session in accept state. NULL on OOM. */
gw_tls *gw_tls_new(gw_tls_ctx *c);
void gw_tls_free(gw_tls *t); /* NULL is a no-op */

#define GW_TLS_AGAIN 0     /* need more ciphertext */
#define GW_TLS_ERROR (-1)  /* fatal: handshake failure, bad record, ... (send pending output, then close) */
#define GW_TLS_EOF   (-2)  /* peer sent close_notify */

/* Ciphertext received from the network. Returns 0 or GW_TLS_ERROR (OOM,
 * or the session already failed). */
int gw_tls_feed(gw_tls *t, const char *in, size_t n);

/* Decrypted application data into out[0..cap). Returns >0 bytes,
 * GW_TLS_AGAIN, GW_TLS_ERROR or GW_TLS_EOF. Drives the handshake as
 * needed; when it completes, plaintext queued by gw_tls_write() is
 * encrypted. Call repeatedly after each feed until it returns <= 0.
 * cap == 0 only drives the handshake and returns GW_TLS_AGAIN (or an
 * error). Once GW_TLS_ERROR or GW_TLS_EOF is returned, later calls
 * return the same value. */
ssize_t gw_tls_read(gw_tls *t, char *out, size_t cap);

/* Encrypts plaintext (may be called before the handshake completes: data
 * is queued and sent in order once it does). Returns 0 or GW_TLS_ERROR
 * (OOM, session failed, or gw_tls_shutdown() was already called). */
int gw_tls_write(gw_tls *t, const char *in, size_t n);

/* Moves all ciphertext that must be sent (handshake records, encrypted
 * data, alerts) to the end of out. Returns the number of bytes appended
 * (0 if none, or if out could not grow: then out->oom is set and the
 * ciphertext stays in the session). The caller sends them (uv_write) —
 * call after every feed/read/write/shutdown. When out has no storage yet
 * (zero-initialised, e.g. a fresh buffer per uv_write request), the
 * session's buffer itself is handed over: no copy. */
size_t gw_tls_take_output(gw_tls *t, ut_buf *out);

/* Queues a close_notify alert (take_output afterwards). Later writes fail.
 * Before the handshake has completed there is nothing to close cleanly:
 * no alert is queued and the caller just closes the socket. Idempotent. */
void gw_tls_shutdown(gw_tls *t);

bool gw_tls_handshake_done(const gw_tls *t);

/* Last error text for logs, or "". */
const char *gw_tls_error(const gw_tls *t);

/* Additions (for access logs and debugging; valid once the handshake is
 * done, "" before): the negotiated protocol version ("TLSv1.3") and
 * cipher suite name ("TLS_AES_128_GCM_SHA256"). */
const char *gw_tls_version(const gw_tls *t);
const char *gw_tls_cipher(const gw_tls *t);

#endif
