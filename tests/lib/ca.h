/*
 * ca.h - a throwaway test PKI generated at run time (tests only).
 *
 * Keys, CAs, leaf certificates and CSRs made with OpenSSL in memory, so
 * unit tests need no fixture files. Everything here aborts on failure
 * (a broken test PKI is a broken test, not a case to handle).
 */
#ifndef CS_TEST_CA_H
#define CS_TEST_CA_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

enum cs_test_key {
	CS_TEST_P256 = 0,
	CS_TEST_P384,
	CS_TEST_P521,
	CS_TEST_RSA1024, /* below policy: for negative tests */
	CS_TEST_RSA2048,
	CS_TEST_RSA3072,
	CS_TEST_RSA4096,
	CS_TEST_ED25519,
	CS_TEST_ED448,
	CS_TEST_SECP256K1, /* an EC curve certstore does not issue for */
	CS_TEST_KEY__MAX
};

/* Returns a new key (EVP_PKEY_free()). RSA keys are cached per size for
 * the life of the process (generation is slow); the caller still gets its
 * own reference. */
EVP_PKEY *cs_test_key_new(enum cs_test_key type);

struct cs_test_ca {
	EVP_PKEY *key;
	X509 *cert;
	uint8_t *der;
	size_t der_len;
	char *pem;
};

/* A CA named cn. parent NULL makes a self-signed root; otherwise an
 * intermediate signed by parent. Valid from now - 1 day for 10 years.
 * basicConstraints is critical CA:TRUE, with pathlen:0 for intermediates
 * and no path length for roots; keyUsage is keyCertSign and cRLSign; SKI
 * and AKI are key ids. */
struct cs_test_ca *cs_test_ca_new(const char *cn, enum cs_test_key type,
    const struct cs_test_ca *parent);
void cs_test_ca_free(struct cs_test_ca *ca);
/* A CA from PEM files (an unencrypted key that matches the certificate):
 * key and cert set, der and pem NULL; or NULL after a message on stderr
 * that starts with who. */
struct cs_test_ca *cs_test_ca_load(const char *cert_file, const char *key_file,
    const char *who);

/* What a leaf gets. Zero/NULL fields take defaults. */
struct cs_test_leaf {
	const char *cn;            /* default "leaf" */
	const char *subject_extra; /* e.g. "O=Hospital,OU=Cardiology" (comma
				      separated k=v, added before CN; '+'
				      instead of ',' joins the next pair to
				      the same RDN; '\\' quotes the next
				      character; values are UTF-8) */
	const char *const *dns;    /* NULL-terminated lists */
	const char *const *ip;
	const char *const *uri;
	const char *const *email;
	int64_t not_before;   /* default now - 1 h */
	int64_t not_after;    /* default not_before + 90 days */
	uint64_t serial;      /* default random 16 bytes */
	EVP_PKEY *key;        /* borrowed; default a new P-256 key */
	int ca;               /* basicConstraints cA=TRUE (critical, no
				 path length); otherwise CA:FALSE */
	const char *ocsp_url; /* AIA OCSP */
	const char *ca_issuers_url;
	const char *crl_url;   /* CRL distribution point */
	const char *eku;       /* e.g. "serverAuth,clientAuth" */
	const char *key_usage; /* e.g. "digitalSignature,keyEncipherment" */
};

/* Issues a leaf from ca. Returns new DER (free()), *len set. If cert_out
 * is not NULL it receives a new X509 * as well. */
uint8_t *cs_test_issue(const struct cs_test_ca *ca,
    const struct cs_test_leaf *leaf, size_t *len, X509 **cert_out);

/* DER to PEM text; returns new (free()). */
char *cs_test_pem(const uint8_t *der, size_t len);

/* A signed PKCS#10 request for key with subject CN=cn and the given DNS
 * SANs (NULL-terminated list, may be NULL). Returns new DER (free()). */
uint8_t *cs_test_csr(EVP_PKEY *key, const char *cn, const char *const *dns,
    size_t *len);

/* Writes len bytes to a new file under dir (created if missing), named
 * name. Returns the path (free()). For tests that need real files. */
char *cs_test_write_file(const char *dir, const char *name, const void *p,
    size_t len);

#endif
