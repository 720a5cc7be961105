/*
 * doc.h - the typed documents kept in the store's namespaces.
 *
 * A document is a msgpack map with string keys. Decoding is strict about
 * the fields it knows (type, size caps) and skips fields it does not know,
 * so a newer node's documents remain readable by an older one during a
 * rolling upgrade. Every document type is described by one field table
 * (doc.c), so encode, decode and free are a single piece of code.
 *
 * The DOC_PUT command validates a value by decoding it with the
 * namespace's type (cs_doc_validate()) before storing it.
 *
 * Pure.
 */
#ifndef CS_DOC_H
#define CS_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert/store.h"
#include "cert/x509.h"
#include "lib/buf.h"

/* Key types and sizes a profile may allow (bit set). */
enum {
	CS_KEYSPEC_RSA2048 = 1u << 0,
	CS_KEYSPEC_RSA3072 = 1u << 1,
	CS_KEYSPEC_RSA4096 = 1u << 2,
	CS_KEYSPEC_P256 = 1u << 3,
	CS_KEYSPEC_P384 = 1u << 4,
	CS_KEYSPEC_ED25519 = 1u << 5,
	CS_KEYSPEC_ALL = (1u << 6) - 1
};

/* CS_NS_PROFILE: an issuance policy. */
struct cs_profile {
	char *issuer;             /* name of the issuer that signs */
	uint32_t key_specs;       /* CS_KEYSPEC_* */
	int64_t max_validity;     /* seconds */
	int64_t rotate_after;     /* seconds of age after which rotation is
				     due; 0 = only expiry matters */
	struct cs_names allow;    /* allowed name patterns: DNS with wildcards,
				     IP ranges in CIDR, URI and e-mail globs */
	struct cs_strv allow_cn;  /* globs for the subject CN; empty: the CN
				     must be one of the request's SANs or
				     match allow.dns */
	bool allow_no_san;        /* accept CSRs that name nothing in SANs */
	uint32_t key_usage;       /* CS_KU_* */
	struct cs_strv eku;       /* short names or dotted OIDs */
	struct cs_strv crl_urls;  /* CRL distribution points to embed */
	struct cs_strv ocsp_urls; /* AIA OCSP URLs to embed */
	char *description;
};

/* CS_NS_ISSUER: a CA that signs. The key itself never enters the store:
 * key_ref names where each node finds it ("file:/path", "pkcs11:..."). */
struct cs_issuer {
	uint8_t *cert; /* the CA certificate, DER */
	size_t cert_len;
	char *chain_pem; /* intermediates up to (excluding) the root */
	char *key_ref;
	char *description;
};

/* CS_NS_CRL: per issuer, the CRL numbering decided through the log. */
struct cs_crl_state {
	uint64_t number;     /* last number used (full or delta) */
	int64_t this_update; /* of the last publication */
	int64_t next_update;
	uint64_t full_number; /* number of the last full CRL */
	int64_t full_this_update;
	int64_t full_next_update;
	uint64_t delta_base; /* base of the last delta (0: none yet) */
	uint64_t index;      /* log index of the last publication */
	uint64_t full_index; /* log index of the last full CRL */
};

/* CS_NS_MEMBER: a node of the cluster (key: raft id in decimal). */
enum cs_member_role {
	CS_MEMBER_VOTER = 0,
	CS_MEMBER_STANDBY,
	CS_MEMBER_SPARE,
	CS_MEMBER__MAX
};
struct cs_member {
	uint64_t id;
	char *raft_address; /* a.b.c.d:port */
	char *api_url;      /* https://host:port of the mTLS API */
	char *public_url;   /* https://host:port of the public listener */
	char *http_url;     /* http://host:port (OCSP, CRL, CA certs) */
	char *site;
	uint64_t role; /* enum cs_member_role */
};

/* CS_NS_ROLE: identity -> role (key: the identity, see api/auth). */
struct cs_role_binding {
	char *role;              /* admin, operator, enroller, auditor */
	struct cs_strv profiles; /* enroller: the profiles it may use */
};

/* CS_NS_NOTIFY: the last time an alert was sent. */
struct cs_notify {
	int64_t sent;
	char *detail;
};

int cs_profile_encode(const struct cs_profile *p, struct cs_buf *out);
int cs_profile_decode(const uint8_t *in, size_t len, struct cs_profile *out,
    char *errmsg);
void cs_profile_close(struct cs_profile *p);

int cs_issuer_encode(const struct cs_issuer *p, struct cs_buf *out);
int cs_issuer_decode(const uint8_t *in, size_t len, struct cs_issuer *out,
    char *errmsg);
void cs_issuer_close(struct cs_issuer *p);

int cs_crl_state_encode(const struct cs_crl_state *p, struct cs_buf *out);
int cs_crl_state_decode(const uint8_t *in, size_t len, struct cs_crl_state *out,
    char *errmsg);

int cs_member_encode(const struct cs_member *p, struct cs_buf *out);
int cs_member_decode(const uint8_t *in, size_t len, struct cs_member *out,
    char *errmsg);
void cs_member_close(struct cs_member *p);

int cs_role_encode(const struct cs_role_binding *p, struct cs_buf *out);
int cs_role_decode(const uint8_t *in, size_t len, struct cs_role_binding *out,
    char *errmsg);
void cs_role_close(struct cs_role_binding *p);

int cs_notify_encode(const struct cs_notify *p, struct cs_buf *out);
int cs_notify_decode(const uint8_t *in, size_t len, struct cs_notify *out,
    char *errmsg);
void cs_notify_close(struct cs_notify *p);

/* Checks that value is a valid document for ns (ACME and EST: any map).
 * 0 or CS_EINVAL with the reason. */
int cs_doc_validate(enum cs_ns ns, const uint8_t *value, size_t len,
    char *errmsg);

#endif
