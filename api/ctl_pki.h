/*
 * ctl_pki.h - certctl's local PKI work: new keys in files nobody else can
 * read, PKCS#10 requests, self-signed CA certificates, and the checks of
 * the values people type for them (RFC 4514 names, subject alternative
 * names, key algorithms, issuer names).
 *
 * A private key made here never leaves this machine: the server gets a
 * request or a certificate, the key goes to a file of mode 0600 that
 * certctl creates and never overwrites.
 *
 * Pure (OpenSSL computation) except the key file functions, which touch
 * the file system. Random serials are parameters.
 */
#ifndef CS_CTL_PKI_H
#define CS_CTL_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert/x509.h"
#include "lib/buf.h"

struct evp_pkey_st;

/* The keys certctl makes. */
enum cs_ctl_pki_alg {
	CS_CTL_PKI_P256 = 1,
	CS_CTL_PKI_P384,
	CS_CTL_PKI_ED25519,
	CS_CTL_PKI__MAX
};

/* "p256", "p384", "ed25519" (only with allow_ed25519: a CA key is ECDSA).
 * CS_EINVAL otherwise. */
int cs_ctl_pki_alg_parse(const char *name, bool allow_ed25519,
    enum cs_ctl_pki_alg *out);

/* An issuer name as certctl creates them: 1 to 64 of [A-Za-z0-9._-],
 * not starting with '.' or '-'. The name ends up in the URLs written into
 * every certificate the issuer signs (/crl/NAME.crl, /ca/NAME.crt), so it
 * must need no encoding there. */
bool cs_ctl_pki_issuer_name_ok(const char *name);

/* RFC 4514 text ("CN=Device CA,O=Hospital", most significant RDN last,
 * "\," and "\2C" escapes, "+" between the attributes of one RDN) into a
 * DER Name appended to der. Attribute types are OpenSSL's short or long
 * names or dotted OIDs; values are UTF-8. CS_EINVAL with errmsg naming
 * the attribute at fault. */
int cs_ctl_pki_name_parse(const char *text, struct cs_buf *der, char *errmsg);

/* Subject alternative name kinds. */
enum cs_ctl_pki_san {
	CS_CTL_PKI_SAN_DNS,
	CS_CTL_PKI_SAN_IP,
	CS_CTL_PKI_SAN_URI,
	CS_CTL_PKI_SAN_EMAIL
};

/* Checks one name of a kind: a host name (labels of letters, digits, '-'
 * and '_', a leading "*." allowed), an IPv4 or IPv6 address, a URI with a
 * scheme, an e-mail address; printable ASCII without blanks. CS_EINVAL
 * with errmsg. */
int cs_ctl_pki_san_check(enum cs_ctl_pki_san kind, const char *value,
    char *errmsg);

/* A new key. Returns 0 with *out new (EVP_PKEY_free()), or CS_ECRYPTO. */
int cs_ctl_pki_keygen(enum cs_ctl_pki_alg alg, struct evp_pkey_st **out,
    char *errmsg);

/* A key file being written: created exclusively (O_EXCL, mode 0600)
 * before anything is sent, so an existing file is never touched and a
 * name is reserved before a request depends on it; removed again when
 * the request fails for sure. */
struct cs_ctl_pki_keyfile {
	char *path; /* absolute (the name a key_ref uses); NULL: closed */
	int fd;     /* private; -1 once written */
};

/* CS_EEXIST when path exists, CS_EIO for anything else the file system
 * says (errmsg names the file). */
int cs_ctl_pki_keyfile_open(struct cs_ctl_pki_keyfile *k, const char *path,
    char *errmsg);
/* Writes key as unencrypted PKCS#8 PEM and syncs it. CS_EIO/CS_ECRYPTO. */
int cs_ctl_pki_keyfile_write(struct cs_ctl_pki_keyfile *k,
    struct evp_pkey_st *key, char *errmsg);
/* Keeps the file (closes k). */
void cs_ctl_pki_keyfile_keep(struct cs_ctl_pki_keyfile *k);
/* Removes the file (closes k); a closed k is a no-op. */
void cs_ctl_pki_keyfile_remove(struct cs_ctl_pki_keyfile *k);
/* At the end of a command that made a key: ok keeps it; otherwise it is
 * removed when nothing can refer to it (never sent, or refused with a
 * 4xx: status), and kept with a warning naming the file and maybe_text
 * when the write may yet commit (a 5xx, or no answer). Closes k. */
void cs_ctl_pki_keyfile_end(struct cs_ctl_pki_keyfile *k, bool ok, bool sent,
    int status, const char *maybe_text);

/* A PKCS#10 request for key with the DER Name subject (NULL: empty) and
 * the names sans (NULL: none), signed with SHA-256 (P-256, RSA), SHA-384
 * (P-384) or Ed25519. Works with HSM keys (an engine's EVP_PKEY). Returns
 * 0 with *pem new (free()), CS_EINVAL (a name OpenSSL refuses) or
 * CS_ECRYPTO. */
int cs_ctl_pki_csr(struct evp_pkey_st *key, const uint8_t *subject,
    size_t subject_len, const struct cs_names *sans, char **pem, char *errmsg);

/* A self-signed CA certificate for key: subject as subject and issuer,
 * basicConstraints critical cA (pathLenConstraint path_len, -1: none),
 * keyUsage keyCertSign, cRLSign, digitalSignature, subject and authority
 * key identifiers; serial from 20 random bytes; appended to der (DER). */
int cs_ctl_pki_self_signed(struct evp_pkey_st *key, const uint8_t *subject,
    size_t subject_len, int64_t not_before, int64_t not_after, int path_len,
    const uint8_t rnd[20], struct cs_buf *der, char *errmsg);

#endif
