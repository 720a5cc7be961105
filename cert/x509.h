/*
 * x509.h - parse X.509 certificates (PEM, PEM bundles, DER) into records.
 *
 * The record (struct cs_cert_info) is a plain value: everything certstore
 * indexes and shows, extracted once, plus a copy of the DER. Names are
 * RFC 4514 text in UTF-8, as `openssl x509 -nameopt RFC2253,-esc_msb`
 * prints them (most specific RDN first, special characters escaped).
 *
 * Caps (bad input gets CS_EINVAL/CS_ETOOBIG and a message, never a crash):
 * CS_X509_MAX_DER bytes per certificate, CS_X509_MAX_SANS names per
 * certificate, and the bundle limits given to cs_x509_parse_bundle().
 * Trailing bytes after a DER certificate are an error.
 *
 * Pure: no I/O, clock or logging. OpenSSL computation only. Thread-safe.
 */
#ifndef CS_X509_H
#define CS_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert/serial.h"

#define CS_X509_MAX_DER  (64 * 1024)
#define CS_X509_MAX_SANS 1024
#define CS_SHA256_LEN    32

enum cs_key_type {
	CS_KEY_UNKNOWN = 0,
	CS_KEY_RSA,
	CS_KEY_EC,
	CS_KEY_ED25519,
	CS_KEY_ED448,
	CS_KEY_DSA,
	CS_KEY__MAX
};

/* "rsa", "ec", "ed25519", "ed448", "dsa", "unknown". */
const char *cs_key_type_name(enum cs_key_type t);
/* Inverse of cs_key_type_name(); CS_EINVAL for unknown names. */
int cs_key_type_parse(const char *name, enum cs_key_type *out);

/* A list of NUL-terminated strings, owned by the containing record. */
struct cs_strv {
	size_t n;
	char **v;
};

/* Subject alternative names by kind. IP addresses are text ("10.0.0.1",
 * "2001:db8::1"): IPv4 as openssl prints it, IPv6 in the RFC 5952 form of
 * inet_ntop() (openssl 3.0 prints "2001:DB8:0:0:0:0:0:1" instead). DNS,
 * URI and e-mail names are printable ASCII (0x20-0x7e); anything else in
 * them makes the certificate CS_EINVAL. */
struct cs_names {
	struct cs_strv dns, ip, uri, email;
};

/* Key usage bits, as X509_get_key_usage() returns them (KU_* values). */
#define CS_KU_DIGITAL_SIGNATURE 0x0080
#define CS_KU_NON_REPUDIATION   0x0040
#define CS_KU_KEY_ENCIPHERMENT  0x0020
#define CS_KU_DATA_ENCIPHERMENT 0x0010
#define CS_KU_KEY_AGREEMENT     0x0008
#define CS_KU_KEY_CERT_SIGN     0x0004
#define CS_KU_CRL_SIGN          0x0002
#define CS_KU_ENCIPHER_ONLY     0x0001
#define CS_KU_DECIPHER_ONLY     0x8000

struct cs_cert_info {
	struct cs_serial serial;
	char *subject; /* RFC 4514 */
	char *issuer;  /* RFC 4514 */
	struct cs_names sans;
	int64_t not_before; /* Unix seconds */
	int64_t not_after;
	uint8_t key_id[CS_SHA256_LEN]; /* SHA-256 of the SPKI DER */
	enum cs_key_type key_type;
	int key_bits;   /* RSA/DSA modulus bits, EC field bits, 255/448 */
	char curve[32]; /* "P-256", "P-384", "P-521", other NIST or SN
			   name for EC; "" otherwise */
	uint8_t fingerprint[CS_SHA256_LEN]; /* SHA-256 of the DER */
	bool ca;                            /* basicConstraints cA */
	int path_len;                       /* -1 when absent */
	bool has_key_usage;
	uint32_t key_usage; /* CS_KU_* bits */
	struct cs_strv eku; /* short names ("serverAuth") or dotted OIDs */
	uint8_t ski[64];
	size_t ski_len; /* 0 when absent */
	uint8_t aki[64];
	size_t aki_len;            /* 0 when absent (keyIdentifier only) */
	struct cs_strv crl_dp;     /* CRL distribution point URIs */
	struct cs_strv ocsp;       /* AIA OCSP URLs */
	struct cs_strv ca_issuers; /* AIA caIssuers URLs */
	uint8_t *der;
	size_t der_len;
};

/* Parses one DER certificate (exactly len bytes; trailing data is an
 * error). On success *out is new (cs_cert_info_free()). On error *out is
 * untouched and errmsg says why. */
int cs_x509_parse_der(const uint8_t *der, size_t len, struct cs_cert_info **out,
    char *errmsg);

/* Parses PEM text holding one or more CERTIFICATE blocks (text between
 * blocks is ignored, like openssl does; other block types are skipped), or
 * a single DER certificate when the input does not look like PEM.
 * At most max_certs certificates; zero certificates is CS_EINVAL.
 * On success *out is a new array of *n new records
 * (cs_cert_info_free_all()). A PEM block without its END line, bad base64
 * or a certificate that does not parse fails the whole bundle, naming the
 * block number in errmsg. */
int cs_x509_parse_bundle(const uint8_t *in, size_t len, size_t max_certs,
    struct cs_cert_info ***out, size_t *n, char *errmsg);

void cs_cert_info_free(struct cs_cert_info *ci);
void cs_cert_info_free_all(struct cs_cert_info **v, size_t n);

/* PEM text of a DER certificate; returns new NUL-terminated text. */
char *cs_x509_der_to_pem(const uint8_t *der, size_t len);

/* Helpers shared with csr.c and later issue.c (cross-file, cert/ only). */
void cs_strv_push(struct cs_strv *v, char *s); /* takes s */
void cs_strv_free(struct cs_strv *v);
void cs_names_free(struct cs_names *n);
size_t cs_names_count(const struct cs_names *n);

/*
 * Private to cert/ (double underscore): the OpenSSL-facing pieces that
 * x509.c and csr.c share. OpenSSL types appear by their struct tags so
 * that including this header does not pull in OpenSSL.
 */
struct X509_name_st;          /* X509_NAME */
struct X509_pubkey_st;        /* X509_PUBKEY */
struct evp_pkey_st;           /* EVP_PKEY */
struct stack_st_GENERAL_NAME; /* GENERAL_NAMES */

/* RFC 4514 text of name, byte for byte what `openssl x509 -nameopt
 * RFC2253,-esc_msb` prints. Borrows name. Returns 0 with *out new
 * (free()), or CS_EINVAL (the name does not print or is not UTF-8). */
int cs_x509__name_text(const struct X509_name_st *name, char **out,
    char *errmsg);

/* The same text straight from the DER Name (the whole TLV) when the name
 * is simple (cert/dn.c): returns 1 with *out new, or 0 when OpenSSL must
 * print it (nothing allocated). Pure. */
int cs_dn_fast(const uint8_t *der, size_t len, char **out);

/* The extension fields of ci (ca, path_len, has_key_usage, key_usage,
 * sans, eku, ski, aki, crl_dp, ocsp, ca_issuers) straight from the DER
 * Extensions (the whole TLV; len 0 when the certificate has none) when
 * they are encoded plainly (cert/ext.c): returns 1 with those fields set
 * (ci's lists must be empty), or 0 when OpenSSL must decode them (ci
 * untouched). Never refuses: what x509.c would refuse gets 0. Pure. */
int cs_ext_fast(const uint8_t *der, size_t len, struct cs_cert_info *ci);

/* cs_x509_parse_der() with the fast paths off: names, times and
 * extensions all decoded by OpenSSL, as before cert/dn.c and cert/ext.c.
 * For the tests and the fuzzer, which compare the two. */
int cs_x509__parse_der_openssl(const uint8_t *der, size_t len,
    struct cs_cert_info **out, char *errmsg);

/* Appends the DNS, IP, URI and e-mail entries of gens to out; other kinds
 * are ignored. CS_ETOOBIG when gens has more than CS_X509_MAX_SANS
 * entries, CS_EINVAL for a malformed entry. On error out may hold some
 * entries: the caller frees it either way. */
int cs_x509__names_add(struct cs_names *out,
    const struct stack_st_GENERAL_NAME *gens, char *errmsg);

/* Type, size ("key_bits" of struct cs_cert_info) and curve of a key.
 * CS_KEY_UNKNOWN, 0 and "" for what certstore does not know. */
void cs_x509__key_describe(const struct evp_pkey_st *pkey,
    enum cs_key_type *type, int *bits, char curve[32]);

/* DER of a SubjectPublicKeyInfo and its SHA-256 (the key id). der may be
 * NULL when only the id is wanted; otherwise *der is new (free()).
 * CS_ECRYPTO on failure. */
int cs_x509__spki(const struct X509_pubkey_st *pub, uint8_t **der, size_t *len,
    uint8_t key_id[CS_SHA256_LEN], char *errmsg);

/* Writes "<context>: <OpenSSL's reason>" into errmsg and empties the
 * thread's OpenSSL error queue. The public functions of cert/ empty that
 * queue on entry and on return, so a reason is always their own. */
void cs_x509__crypto_errmsg(char *errmsg, const char *context);

#endif
