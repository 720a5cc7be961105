/*
 * signer.h - a CA key that signs certificates, CRLs and OCSP responses.
 *
 * A signer wraps an EVP_PKEY (from a file, or from an HSM through a
 * PKCS#11 engine or provider: cs_signer does not care) and the
 * AlgorithmIdentifier that goes with it:
 *
 *   EC P-256   ecdsa-with-SHA256     RSA      sha256WithRSAEncryption
 *   EC P-384   ecdsa-with-SHA384     Ed25519  Ed25519
 *
 * Builders (cert/issue, cert/crl, cert/ocsp) write the to-be-signed
 * structure inside an outer SEQUENCE they opened, then call
 * cs_signer_append(), which signs those bytes and appends the algorithm
 * and the signature; the builder closes the SEQUENCE.
 *
 * Pure (OpenSSL computation; ECDSA draws its nonce from OpenSSL's RNG).
 * A signer may be used from several threads at once.
 */
#ifndef CS_SIGNER_H
#define CS_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert/derw.h"

struct evp_pkey_st;

enum cs_sig_alg {
	CS_SIG_ECDSA_SHA256 = 1,
	CS_SIG_ECDSA_SHA384,
	CS_SIG_RSA_SHA256,
	CS_SIG_ED25519
};

#define CS_SIG_MAX 1024 /* bytes of a signature (RSA 8192) */

struct cs_signer {
	struct evp_pkey_st *key; /* a reference is held */
	enum cs_sig_alg alg;
	uint8_t algid[32]; /* DER AlgorithmIdentifier */
	size_t algid_len;
	uint8_t *spki; /* the public key, DER SubjectPublicKeyInfo */
	size_t spki_len;
};

/* Takes a reference to key. CS_EINVAL for keys certstore does not sign
 * with (named in errmsg). */
int cs_signer_init(struct cs_signer *s, struct evp_pkey_st *key, char *errmsg);
void cs_signer_close(struct cs_signer *s);

/* Signs data; sig holds CS_SIG_MAX bytes. CS_ECRYPTO on failure. */
int cs_signer_sign(const struct cs_signer *s, const uint8_t *data, size_t len,
    uint8_t *sig, size_t *sig_len, char *errmsg);

/* Signs the bytes of w's buffer from tbs_mark to its end and appends the
 * AlgorithmIdentifier and the signature BIT STRING. */
int cs_signer_append(const struct cs_signer *s, struct cs_derw *w,
    size_t tbs_mark, char *errmsg);

/* Checks that the public key of spki is the signer's (a CA certificate
 * and the key it is registered with). */
bool cs_signer_matches(const struct cs_signer *s, const uint8_t *spki,
    size_t spki_len);

#endif
