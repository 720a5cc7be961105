/*
 * der.h - a strict DER reader, and a certificate split into its parts
 * without building OpenSSL objects for them.
 *
 * Why: in OpenSSL 3.0, d2i_X509() decodes the public key through the
 * provider decoders, which costs ~140 us of the ~220 us a certificate
 * takes to parse here (names and extensions take ~1 us each). Every node
 * parses every certificate it applies from the log, so cert/x509.c splits
 * the certificate with this reader and describes the key from its raw
 * SubjectPublicKeyInfo bytes. The names (cert/dn.c), times
 * (cs_der_time()) and extensions (cert/ext.c) are read with it too when
 * they are encoded plainly, which saves OpenSSL's template decoders'
 * dozens of small allocations; the rest still goes to those decoders.
 *
 * Strict DER only: definite lengths in minimal form, single-byte tags, no
 * trailing data where the structure ends. Views point into the caller's
 * buffer. Pure.
 */
#ifndef CS_DER_H
#define CS_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert/x509.h"

/* A view of DER bytes. */
struct cs_der {
	const uint8_t *p;
	size_t len;
};

/* Reads the next TLV of *in into tag, its contents and (optionally) the
 * whole TLV, and advances *in. CS_EINVAL on malformed input (in is then
 * unchanged). */
int cs_der_next(struct cs_der *in, uint8_t *tag, struct cs_der *contents,
    struct cs_der *whole);
/* The same, requiring the tag. */
int cs_der_expect(struct cs_der *in, uint8_t tag, struct cs_der *contents,
    struct cs_der *whole);
/* True when *in is not empty and starts with tag. */
bool cs_der_peek(const struct cs_der *in, uint8_t tag);

#define CS_DER_BOOLEAN      0x01
#define CS_DER_INTEGER      0x02
#define CS_DER_BIT_STRING   0x03
#define CS_DER_OCTET_STRING 0x04
#define CS_DER_NULL         0x05
#define CS_DER_OID          0x06
#define CS_DER_UTC_TIME     0x17
#define CS_DER_GEN_TIME     0x18 /* GeneralizedTime */
#define CS_DER_SEQUENCE     0x30
#define CS_DER_CTX0         0xa0 /* [0] constructed */
#define CS_DER_CTX1         0x81 /* [1] IMPLICIT primitive (issuerUniqueID) */
#define CS_DER_CTX2         0x82 /* [2] IMPLICIT primitive (subjectUniqueID) */
#define CS_DER_CTX3         0xa3 /* [3] constructed (extensions) */

/* True when c, an INTEGER's contents, is not empty and minimal (no
 * leading 0x00 or 0xff octet that could go): what OpenSSL insists on. */
bool cs_der_minimal_integer(struct cs_der c);

/* A Time TLV (RFC 5280 4.1.2.5) in the one form DER allows each type:
 * UTCTime YYMMDDHHMMSSZ (YY below 50 is 20YY, else 19YY) or
 * GeneralizedTime YYYYMMDDHHMMSSZ, naming a date and time that exist.
 * Returns true with *out in Unix seconds; false for anything else, also
 * for forms OpenSSL reads (no seconds, fractions, offsets from UTC),
 * which x509.c leaves to it. */
bool cs_der_time(struct cs_der tlv, int64_t *out);

/* Checks that in is exactly one definite-length DER SEQUENCE of at most
 * max bytes: CS_EINVAL names "empty", "truncated" or "N bytes of trailing
 * data"; CS_ETOOBIG over max. what names the object in errmsg. */
int cs_der_check(const uint8_t *in, size_t len, size_t max, const char *what,
    char *errmsg);

/* Size of the DER SEQUENCE TLV at the start of in (header included), or
 * 0 with a message when it is not one (what names the object). */
size_t cs_der_seq_size(const uint8_t *in, size_t len, const char *what,
    char *errmsg);

/* The parts of a certificate (RFC 5280 section 4.1), as views. */
struct cs_der_cert {
	struct cs_der tbs;        /* whole TBSCertificate TLV */
	int version;              /* 0, 1 or 2 (v1..v3) */
	struct cs_der serial;     /* INTEGER contents */
	struct cs_der tbs_sigalg; /* whole AlgorithmIdentifier */
	struct cs_der issuer;     /* whole Name TLV */
	struct cs_der not_before; /* whole Time TLV */
	struct cs_der not_after;
	struct cs_der subject;    /* whole Name TLV */
	struct cs_der spki;       /* whole SubjectPublicKeyInfo TLV */
	struct cs_der extensions; /* whole Extensions SEQUENCE, or empty */
	struct cs_der sigalg;     /* whole outer AlgorithmIdentifier */
	struct cs_der signature;  /* BIT STRING contents */
};

/* Splits a DER certificate; exactly len bytes (trailing data is an
 * error). CS_EINVAL with a message naming the part that is wrong. */
int cs_der_cert_split(const uint8_t *der, size_t len, struct cs_der_cert *out,
    char *errmsg);

/* Describes a SubjectPublicKeyInfo from its bytes: type, size ("bits" as
 * in struct cs_cert_info) and curve name. Keys it does not know come out
 * CS_KEY_UNKNOWN, 0, "" (not an error). CS_EINVAL if spki is malformed. */
int cs_der_spki_describe(struct cs_der spki, enum cs_key_type *type, int *bits,
    char curve[32]);

#endif
