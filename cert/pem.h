/*
 * pem.h - PEM text (RFC 7468) and base64: the framing around DER.
 *
 * The reader names the block an error is in ("block 3: no END line"), so
 * an operator importing a bundle of hundreds of certificates learns which
 * one is broken. Pure.
 */
#ifndef CS_PEM_H
#define CS_PEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when in should be read as PEM text: it holds a "-----BEGIN " and is
 * not itself one exact DER SEQUENCE. */
bool cs_pem_detect(const uint8_t *in, size_t len);

/* An iterator over the PEM blocks of a text. Text outside blocks is
 * skipped, as openssl does. Borrows the text. */
struct cs_pem {
	const uint8_t *p;   /* private: next line */
	const uint8_t *end; /* private */
	size_t block;       /* 1-based number of the last block returned */
};
void cs_pem_init(struct cs_pem *it, const uint8_t *in, size_t len);
/* Returns 1 with the block's label (NUL-terminated, truncated to
 * label_size) and a view of its body (base64 and any headers), 0 when no
 * block is left, or CS_EINVAL for a block with no END line (before the
 * next BEGIN or the end of the text) or a mismatched one (errmsg names
 * the block). */
int cs_pem_next(struct cs_pem *it, char *label, size_t label_size,
    const uint8_t **body, size_t *body_len, char *errmsg);

/* Decodes base64 (whitespace ignored, padding required) into at most max
 * bytes. Returns 0 with *out new (free()), CS_EINVAL for bad base64 or
 * CS_ETOOBIG. */
int cs_base64_decode(const uint8_t *in, size_t len, size_t max, uint8_t **out,
    size_t *out_len, char *errmsg);

/* PEM text of DER bytes under label ("CERTIFICATE", "X509 CRL"), 64
 * characters a line. Returns new NUL-terminated text (free()). */
char *cs_pem_encode(const char *label, const uint8_t *der, size_t len);

#endif
