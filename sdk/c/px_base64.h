/*
 * px_base64.h — base64 (RFC 4648 §4, padded) and base64url (§5, unpadded on
 * output, padding optional on input) for the guest SDK.
 *
 * Owns:     encoding and strict decoding (bad characters, bad padding and
 *           non-zero trailing bits are rejected).
 * Not here: line-wrapped (MIME) base64.
 */
#ifndef PX_BASE64_H
#define PX_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* Encoded length without NUL: padded for base64, unpadded for base64url. */
size_t px_base64_encoded_len(size_t n, bool url);
/* Writes the encoding plus a NUL into out (px_base64_encoded_len + 1 bytes);
 * returns the length without NUL. */
size_t px_base64_encode(const void *data, size_t n, char *out, bool url);
/* Decodes in[0..n) into out (at least n*3/4+1 bytes); *out_len gets the
 * length. Returns false on invalid input. Standard alphabet requires correct
 * '=' padding; the url alphabet accepts it with or without padding. */
bool px_base64_decode(const char *in, size_t n, void *out, size_t *out_len, bool url);

#endif
