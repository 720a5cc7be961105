/*
 * certgen.h - realistic signed certificates, fast (benchmarks, load tests).
 *
 * Building a certificate through OpenSSL's X509 API costs ~600 us, most of
 * it re-encoding the public key (shared/notes/performance.md), so a
 * million take ten minutes. certgen builds one certificate that way, the
 * template, and makes every other one by patching the template's
 * TBSCertificate bytes in place (serial, names, IP address, expiry, EC
 * point) and signing them with the CA's key: ~40k certificates per second
 * on two threads with a P-256 CA.
 *
 * Certificate number num (0 <= num < CS_CERTGEN_MAX_NUM) is, in DER of
 * ~663 bytes with a P-256 CA:
 *   serial      16 bytes: 0x4f, 11 random bytes, num (big-endian uint32);
 *               unique within a generator, random across generators
 *   subject     O=Hospital, OU=Infusion pumps, CN=<prefix><num as %07u>
 *   SAN         DNS:<CN>.site-a.hospital.test, IP:10.<num bits 23..0>
 *   key         a distinct P-256 point: (key_base + num + 1) * G
 *   validity    notBefore = now - 1 day; notAfter spread over two years:
 *               now + 1 day + ((num * 7919) mod 729) days + (num mod 86400) s
 *   extensions  basicConstraints CA:FALSE (critical), keyUsage
 *               digitalSignature (critical), EKU clientAuth, CRL DP, AIA
 *               (OCSP, caIssuers), AKI of the CA
 *   issuer      the CA's subject; signed with the CA's key and SHA-256
 *               (any key type ca.h makes; EdDSA without a digest)
 * The private keys are trivial scalars: the certificates are load, never
 * credentials.
 *
 * The same (ca, config, num) gives the same certificate except for the 11
 * random serial bytes and the signature (ECDSA is randomised).
 *
 * Like tests/lib/ca.h, everything here aborts on failure: a generator that
 * cannot build its template is a broken benchmark, not a case to handle.
 */
#ifndef CS_TEST_CERTGEN_H
#define CS_TEST_CERTGEN_H

#include <stddef.h>
#include <stdint.h>

#include "tests/lib/ca.h"

/* The names hold seven digits. */
#define CS_CERTGEN_MAX_NUM 10000000u
#define CS_CERTGEN_FP_LEN  32 /* SHA-256 */

struct cs_certgen; /* opaque: the template */

/* Zeroed fields take the defaults. Borrowed by cs_certgen_new(). */
struct cs_certgen_config {
	int64_t now;        /* validity is relative to it; 0: time(NULL) */
	const char *prefix; /* three characters of [a-z0-9] that start each
			       CN; NULL: "dev" */
	uint64_t key_base;  /* offsets every public key (see above), so that
			       separate runs make different keys; 0 makes
			       the keys 1*G, 2*G, ... */
};

/* Returns new (cs_certgen_free()). Borrows ca, which must outlive the
 * generator (its key signs every certificate); cfg may be NULL. */
struct cs_certgen *cs_certgen_new(const struct cs_test_ca *ca,
    const struct cs_certgen_config *cfg);
void cs_certgen_free(struct cs_certgen *g); /* NULL is a no-op */

/* The time the validity periods are relative to. */
int64_t cs_certgen_now(const struct cs_certgen *g);

/* Where cs_certgen_run() puts certificate first + i, for i < n. */
struct cs_certgen_out {
	uint8_t **der; /* der[i]: returns new (free() each) */
	size_t *len;   /* len[i]: its length */
	uint8_t (*fp)[CS_CERTGEN_FP_LEN]; /* nullable; fp[i]: SHA-256 of
					     der[i], the fingerprint */
};

/* Generates certificates first .. first + n - 1 on nthreads threads (the
 * caller's and nthreads - 1 more; 0 means 1), each on a contiguous share.
 * first + n must not exceed CS_CERTGEN_MAX_NUM. g is only read: several
 * runs may share it. */
void cs_certgen_run(const struct cs_certgen *g, uint32_t first, size_t n,
    unsigned nthreads, const struct cs_certgen_out *out);

#endif
