/*
 * issue.h - build and sign an X.509 v3 certificate.
 *
 * The leader decides everything that goes into a certificate (serial from
 * its random source, times from its clock, names checked against the
 * profile) and then calls cs_issue_build(); the log carries the signed
 * result. The builder writes the DER by hand: the subject Name and the
 * SubjectPublicKeyInfo are copied as the request carried them, never
 * decoded and re-encoded (in OpenSSL 3.0, X509_set_pubkey() alone costs
 * ~380 us).
 *
 * Extensions, in this order: basicConstraints (critical), keyUsage
 * (critical, when any bit is set), extKeyUsage, subjectKeyIdentifier
 * (SHA-1 of the public key bits, RFC 5280 4.2.1.2 method 1),
 * authorityKeyIdentifier (the issuer's SKI), subjectAltName (critical when
 * the subject is empty), cRLDistributionPoints, authorityInfoAccess (OCSP,
 * caIssuers), and id-pkix-ocsp-nocheck for OCSP responder certificates.
 *
 * Pure. Thread-safe.
 */
#ifndef CS_ISSUE_H
#define CS_ISSUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert/serial.h"
#include "cert/signer.h"
#include "cert/x509.h"
#include "lib/buf.h"

struct cs_issue_params {
	const uint8_t *subject; /* DER Name; NULL: an empty subject */
	size_t subject_len;
	const uint8_t *spki; /* DER SubjectPublicKeyInfo */
	size_t spki_len;
	const struct cs_names *sans; /* NULL: none */
	const struct cs_serial *serial;
	int64_t not_before;
	int64_t not_after;
	bool ca;
	int path_len;                    /* CA only; -1: no constraint */
	uint32_t key_usage;              /* CS_KU_* */
	const struct cs_strv *eku;       /* names or dotted OIDs; may be NULL */
	const struct cs_strv *crl_urls;  /* may be NULL */
	const struct cs_strv *ocsp_urls; /* may be NULL */
	const struct cs_strv *ca_issuers; /* may be NULL */
	bool ocsp_nocheck;
};

/* The issuing side: the CA's subject Name and subjectKeyIdentifier (NULL
 * for none; for a self-signed certificate, pass the subject and the SKI
 * that cs_issue_ski() gives for its own key) and its signer. */
struct cs_issue_ca {
	const uint8_t *name;
	size_t name_len;
	const uint8_t *ski;
	size_t ski_len;
	const struct cs_signer *signer;
};

/* Appends the signed certificate (DER) to out (on error out is as it
 * was). CS_EINVAL names what is
 * wrong with the parameters (an IP SAN that is not an address, an EKU that
 * is not an OID, not_after before not_before). */
int cs_issue_build(const struct cs_issue_params *p,
    const struct cs_issue_ca *ca, struct cs_buf *out, char *errmsg);

/* The subjectKeyIdentifier certstore writes for spki (20 bytes). */
int cs_issue_ski(const uint8_t *spki, size_t spki_len, uint8_t ski[20]);

#endif
