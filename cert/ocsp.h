/*
 * ocsp.h - OCSP (RFC 6960): parse requests, build signed responses.
 *
 * Requests: an OCSPRequest with 1..CS_OCSP_MAX_IDS single requests, each
 * a CertID hashed with SHA-1, SHA-256, SHA-384 or SHA-512, and the nonce
 * extension (RFC 8954: 1..32 bytes). A signed request is accepted and its
 * signature ignored (RFC 6960 leaves requiring it to the responder).
 * Everything is parsed strictly (DER, caps) into views of the caller's
 * bytes; anything else is CS_EINVAL, answered malformedRequest.
 *
 * Responses: a BasicOCSPResponse signed by the node's delegated responder
 * key, ResponderID byKey, one SingleResponse per CertID (echoed exactly as
 * received), the nonce when the request had one, and the responder's
 * certificate in `certs` so that relying parties can check the
 * delegation. cs_ocsp_error() gives the unsigned error responses.
 *
 * Pure. Thread-safe.
 */
#ifndef CS_OCSP_H
#define CS_OCSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert/der.h"
#include "cert/serial.h"
#include "cert/signer.h"
#include "lib/buf.h"

#define CS_OCSP_MAX_REQUEST 8192 /* bytes of a request */
#define CS_OCSP_MAX_IDS     8    /* single requests in one request */
#define CS_OCSP_MAX_NONCE   32
#define CS_OCSP_HASH_MAX    64

enum cs_ocsp_hash {
	CS_OCSP_SHA1 = 0,
	CS_OCSP_SHA256,
	CS_OCSP_SHA384,
	CS_OCSP_SHA512,
	CS_OCSP_HASH__MAX
};

struct cs_ocsp_certid {
	enum cs_ocsp_hash hash;
	struct cs_der name_hash; /* issuerNameHash contents */
	struct cs_der key_hash;  /* issuerKeyHash contents */
	struct cs_serial serial;
	struct cs_der whole; /* the CertID TLV, echoed in the response */
};

struct cs_ocsp_request {
	size_t n;
	struct cs_ocsp_certid ids[CS_OCSP_MAX_IDS];
	struct cs_der nonce; /* the nonce's octets; len 0 when absent */
};

/* Parses a DER OCSPRequest; views into der (valid while der is). No
 * allocation. CS_ETOOBIG over CS_OCSP_MAX_REQUEST bytes or
 * CS_OCSP_MAX_IDS CertIDs; CS_EINVAL for anything malformed, an unknown
 * hash, hashes of the wrong length, a nonce outside 1..32 bytes, an
 * unknown critical extension. errmsg says which; out is untouched on
 * error. Values equal to a DEFAULT (version v1, critical FALSE) are
 * accepted when written out, although DER leaves them out. */
int cs_ocsp_parse_request(const uint8_t *der, size_t len,
    struct cs_ocsp_request *out, char *errmsg);

/* Hash length (20, 32, 48, 64) of an algorithm; 0 for another value. */
size_t cs_ocsp_hash_len(enum cs_ocsp_hash h);

/* An issuer's CertID hashes with algorithm h: of its DER subject Name and
 * of the subjectPublicKey bits of its SPKI (RFC 6960 4.1.1). CS_EINVAL
 * for a bad h or a malformed SPKI. */
int cs_ocsp_issuer_hashes(enum cs_ocsp_hash h, const uint8_t *name_der,
    size_t name_len, const uint8_t *spki, size_t spki_len,
    uint8_t name_hash[CS_OCSP_HASH_MAX], uint8_t key_hash[CS_OCSP_HASH_MAX]);

enum cs_ocsp_cert_status {
	CS_OCSP_GOOD = 0,
	CS_OCSP_REVOKED = 1,
	CS_OCSP_UNKNOWN = 2
};

struct cs_ocsp_single {
	struct cs_der certid; /* the CertID TLV to echo */
	enum cs_ocsp_cert_status status;
	int64_t revoked_at; /* CS_OCSP_REVOKED */
	int reason;         /* enum cs_reason, or -1 to omit */
	int64_t this_update;
	int64_t next_update; /* 0: omitted */
};

struct cs_ocsp_response {
	const struct cs_ocsp_single *singles;
	size_t n;
	int64_t produced_at;
	const uint8_t *nonce; /* NULL: no nonce extension */
	size_t nonce_len;
	const uint8_t *signer_cert; /* DER of the responder certificate, or
				       NULL when the CA key signs itself */
	size_t signer_cert_len;
};

/* Appends a successful OCSPResponse (responseStatus 0, id-pkix-ocsp-basic)
 * signed with signer, whose public key gives the ResponderID byKey.
 * CS_EINVAL (no single, a CertID that is not one DER SEQUENCE, an unknown
 * status or reason, next_update not after this_update, a nonce over
 * CS_OCSP_MAX_NONCE, a signer_cert that is not DER), CS_ETOOBIG past
 * out's cap, CS_ECRYPTO: errmsg says why and out is as it was. */
int cs_ocsp_build(const struct cs_ocsp_response *r,
    const struct cs_signer *signer, struct cs_buf *out, char *errmsg);

enum cs_ocsp_error_status {
	CS_OCSP_MALFORMED = 1,
	CS_OCSP_INTERNAL = 2,
	CS_OCSP_TRY_LATER = 3,
	CS_OCSP_SIG_REQUIRED = 5,
	CS_OCSP_UNAUTHORIZED = 6
};

/* The 5-byte unsigned OCSPResponse for an error status (a static view);
 * NULL and *len 0 for a value that is not one of the enum. */
const uint8_t *cs_ocsp_error(enum cs_ocsp_error_status st, size_t *len);

#endif
