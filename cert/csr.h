/*
 * csr.h - parse and verify PKCS#10 certificate signing requests.
 *
 * Accepts PEM ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST") or DER.
 * A request is accepted only when its self-signature verifies and its key
 * is one certstore issues for: RSA 2048 to 4096 bits, ECDSA P-256 or
 * P-384, Ed25519. Anything else is CS_EINVAL with the reason in errmsg
 * ("key: RSA 1024 bits is below 2048"); a bad signature is CS_ECRYPTO.
 *
 * Pure. Thread-safe.
 */
#ifndef CS_CSR_H
#define CS_CSR_H

#include <stddef.h>
#include <stdint.h>

#include "cert/x509.h"

#define CS_CSR_MAX_DER (32 * 1024)

struct cs_csr_info {
	char *subject;         /* RFC 4514, may be "" */
	struct cs_names names; /* from the extensionRequest SAN, if any */
	enum cs_key_type key_type;
	int key_bits;
	char curve[32];                /* "P-256", "P-384", "" */
	uint8_t key_id[CS_SHA256_LEN]; /* SHA-256 of spki */
	uint8_t *subject_der;          /* the DER Name */
	size_t subject_der_len;
	char *cn;          /* the subject's commonName, or NULL (none, or more
			      than one: ncn says) */
	uint8_t *cn_value; /* its value TLV as the request encoded it */
	size_t cn_value_len;
	int ncn;       /* commonName attributes in the subject */
	uint8_t *spki; /* DER SubjectPublicKeyInfo */
	size_t spki_len;
	uint8_t *der; /* the whole request, DER */
	size_t der_len;
};

/* On success *out is new (cs_csr_info_free()); on error untouched. */
int cs_csr_parse(const uint8_t *in, size_t len, struct cs_csr_info **out,
    char *errmsg);

void cs_csr_info_free(struct cs_csr_info *ci);

#endif
