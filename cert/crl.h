/*
 * crl.h - X.509 CRLs (RFC 5280 section 5), full and delta, built by hand.
 *
 * Every node builds the same CRL content from its replicated state: the
 * CRL number, thisUpdate and nextUpdate were decided through the log
 * (CS_CMD_CRL_PUBLISH), and the entries come from the store as of that
 * log index (cs_crl_collect()). Only the signature differs between nodes
 * (ECDSA signatures are randomised).
 *
 * A CRL is v2 with: AuthorityKeyIdentifier (when the CA has an SKI),
 * CRLNumber, and for a delta CRL a critical DeltaCRLIndicator naming the
 * base; a full CRL may carry FreshestCRL pointing at the delta's URL.
 * Entries carry reasonCode (omitted for unspecified, as RFC 5280
 * recommends) and invalidityDate when known; a delta lists released
 * holds with removeFromCRL.
 *
 * Encoding 100,000 entries takes a few tens of milliseconds; signing is
 * one signature. Still, callers build on the thread pool, never on the
 * loop: cs_crl_build() touches nothing but its arguments.
 *
 * Pure. Thread-safe.
 */
#ifndef CS_CRL_H
#define CS_CRL_H

#include <stddef.h>
#include <stdint.h>

#include "cert/serial.h"
#include "cert/signer.h"
#include "cert/store.h"
#include "lib/buf.h"

#define CS_CRL_MAX_BYTES (256u << 20) /* cap on one encoded CRL */

struct cs_crl_entry {
	struct cs_serial serial;
	int64_t time;            /* revocation (or hold release) time */
	uint8_t reason;          /* enum cs_reason */
	int64_t invalidity_date; /* 0: none */
};

struct cs_crl_params {
	const uint8_t *issuer_name; /* DER Name: the CA certificate's subject */
	size_t issuer_name_len;
	const uint8_t *issuer_ski; /* the CA's subjectKeyIdentifier, or NULL */
	size_t issuer_ski_len;
	uint64_t number;
	int64_t this_update;
	int64_t next_update;
	uint64_t delta_base;      /* 0: a full CRL; else the base CRL number */
	const char *freshest_url; /* full CRLs: FreshestCRL URL, or NULL;
				     ignored for a delta (RFC 5280 5.2.6) */
	const struct cs_crl_entry *entries;
	size_t n;
};

/* Appends the DER CRL to out (CS_ETOOBIG past out's cap). CS_EINVAL for
 * impossible parameters (next_update <= this_update, number 0, a delta
 * base not below number, an issuer that is not one DER Name, a reason
 * that does not exist or removeFromCRL on a full CRL, times outside the
 * years 0000..9999). On error errmsg says why and out is as it was. */
int cs_crl_build(const struct cs_crl_params *p, const struct cs_signer *signer,
    struct cs_buf *out, char *errmsg);

/* The entries of issuer (RFC 4514 text, as the store keeps it) for a full
 * CRL (changed_after 0) or a delta on a base published at log index
 * changed_after, copied out of the store so that the build can run on
 * another thread. *out is new (free()); may be NULL when *n is 0. */
void cs_crl_collect(const struct cs_store *s, const char *issuer,
    uint64_t changed_after, struct cs_crl_entry **out, size_t *n);

#endif
