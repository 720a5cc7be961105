/*
 * store.h - the replicated certificate database (the Raft FSM state).
 *
 * Holds certificates, key metadata, small named documents (profiles,
 * issuers, CRL state, members, role bindings, protocol state, alert
 * de-duplication), the audit hash chain and the table of recent request
 * ids. Mutated only by cs_cmd_apply() (cert/cmd.h) with committed log
 * entries, in log order; everything here is read-only.
 *
 * Records are immutable: a change (revocation, new owner) makes a new
 * version of the record and drops the old one. That is what lets a
 * snapshot be taken by reference, without copying or encoding on the event
 * loop (cert/snapshot.h). Each record is a flat, pointer-free byte layout
 * that is at the same time its snapshot encoding.
 *
 * Indexes (rebuilt on restore): fingerprint, serial within issuer, key id,
 * issuer, subject, SAN text, owner, tag, revoked set, and not_after in
 * order (expiry windows answer in O(log n + k)).
 *
 * Invariant S1: replicas that applied the same entries compare equal
 *               (cs_snapshot_hash()).
 * Invariant S2: a certificate's seq is never reused; certificates and keys
 *               are never removed, only change state.
 *
 * Pure: no I/O, no clock, no logging; times are parameters. Loop thread
 * only. Views returned here stay valid until the next cs_cmd_apply() or
 * snapshot restore, unless said otherwise.
 */
#ifndef CS_STORE_H
#define CS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert/serial.h"
#include "cert/x509.h"

struct cs_store;

struct cs_store *cs_store_new(void);    /* never NULL */
void cs_store_free(struct cs_store *s); /* NULL is a no-op */

/* Log index of the last command applied (0 for an empty store). */
uint64_t cs_store_applied_index(const struct cs_store *s);

/* ---- enumerations shared with the API ---- */

enum cs_cert_status {
	CS_STATUS_VALID = 0,
	CS_STATUS_REVOKED = 1,
	CS_STATUS_EXPIRED = 2, /* derived from time, never stored */
	CS_STATUS__MAX
};

enum cs_cert_source {
	CS_SOURCE_IMPORTED = 0,
	CS_SOURCE_ISSUED,
	CS_SOURCE_DISCOVERED,
	CS_SOURCE_ACME,
	CS_SOURCE_EST,
	CS_SOURCE_SCEP,
	CS_SOURCE__MAX
};

/* RFC 5280 CRLReason codes (7 is unused by the RFC). */
enum cs_reason {
	CS_REASON_UNSPECIFIED = 0,
	CS_REASON_KEY_COMPROMISE = 1,
	CS_REASON_CA_COMPROMISE = 2,
	CS_REASON_AFFILIATION_CHANGED = 3,
	CS_REASON_SUPERSEDED = 4,
	CS_REASON_CESSATION = 5,
	CS_REASON_CERTIFICATE_HOLD = 6,
	CS_REASON_REMOVE_FROM_CRL = 8,
	CS_REASON_PRIVILEGE_WITHDRAWN = 9,
	CS_REASON_AA_COMPROMISE = 10,
	CS_REASON__MAX
};

enum cs_key_state {
	CS_KEY_ACTIVE = 0,
	CS_KEY_COMPROMISED,
	CS_KEY_DESTROYED,
	CS_KEY_STATE__MAX
};

enum cs_key_location {
	CS_KEYLOC_UNKNOWN = 0,
	CS_KEYLOC_DEVICE,
	CS_KEYLOC_HSM,
	CS_KEYLOC_SOFTWARE,
	CS_KEYLOC__MAX
};

/* Names as the API writes them ("valid", "keyCompromise", "issued",
 * "compromised", "hsm"); parse is the exact inverse and returns CS_EINVAL
 * for anything else (reason 7 has no name). */
const char *cs_status_name(enum cs_cert_status v);
int cs_status_parse(const char *s, enum cs_cert_status *out);
const char *cs_source_name(enum cs_cert_source v);
int cs_source_parse(const char *s, enum cs_cert_source *out);
const char *cs_reason_name(enum cs_reason v);
int cs_reason_parse(const char *s, enum cs_reason *out);
const char *cs_key_state_name(enum cs_key_state v);
int cs_key_state_parse(const char *s, enum cs_key_state *out);
const char *cs_keyloc_name(enum cs_key_location v);
int cs_keyloc_parse(const char *s, enum cs_key_location *out);

/* ---- certificate records ---- */

/*
 * One version of a certificate. The fixed part is public for reading; the
 * variable part (strings, serial, DER) is reached through the accessors.
 * The whole record is `size` contiguous bytes, its snapshot encoding.
 */
struct cs_cert {
	uint32_t size;  /* bytes of the record, a multiple of 8 */
	uint16_t rtype; /* record type (private) */
	uint16_t rver;  /* record format version (private) */
	uint32_t seq;   /* from 1, in creation order, never reused */
	uint16_t key_bits;
	uint8_t key_type; /* enum cs_key_type */
	uint8_t status;   /* CS_STATUS_VALID or CS_STATUS_REVOKED */
	uint8_t fingerprint[CS_SHA256_LEN];
	uint8_t key_id[CS_SHA256_LEN];
	int64_t not_before;
	int64_t not_after;
	int64_t revoked_at;      /* 0 unless revoked */
	int64_t invalidity_date; /* 0 if none given */
	uint64_t created_index;  /* log index that created it */
	uint64_t updated_index;  /* log index that last changed it */
	uint8_t reason;          /* enum cs_reason, when revoked */
	uint8_t source;          /* enum cs_cert_source */
	uint8_t ca;
	uint8_t serial_neg;
	uint8_t serial_len;
	uint8_t pad0[3];
	uint16_t n_tags, n_dns, n_ip, n_uri, n_email;
	uint16_t pad1[3];
	uint32_t der_off; /* from the start of the record */
	uint32_t der_len;
	/* then: serial bytes, NUL-terminated strings (issuer, subject,
	 * profile, owner, curve, tags..., dns..., ip..., uri..., email...),
	 * DER, zero padding to 8 */
};

/* The fields of a certificate that are lists of strings. */
enum cs_cert_list {
	CS_LIST_TAGS = 0,
	CS_LIST_DNS,
	CS_LIST_IP,
	CS_LIST_URI,
	CS_LIST_EMAIL,
	CS_LIST__MAX
};

const char *cs_cert_issuer(const struct cs_cert *c);
const char *cs_cert_subject(const struct cs_cert *c);
const char *cs_cert_profile(const struct cs_cert *c); /* "" if none */
const char *cs_cert_owner(const struct cs_cert *c);   /* "" if none */
const char *cs_cert_curve(const struct cs_cert *c);   /* "" if not EC */
/* First string of a list and its length; walk with cs_str_next(). */
const char *cs_cert_list(const struct cs_cert *c, enum cs_cert_list l,
    size_t *n);
const char *cs_str_next(const char *p);
void cs_cert_serial(const struct cs_cert *c, struct cs_serial *out);
const uint8_t *cs_cert_der(const struct cs_cert *c, size_t *len);
/* Status at time now: revoked, else expired if not_after < now, else
 * valid. */
enum cs_cert_status cs_cert_status_at(const struct cs_cert *c, int64_t now);

/* ---- key records ---- */

struct cs_key {
	uint32_t size;
	uint16_t rtype;
	uint16_t rver;
	uint32_t seq;
	uint16_t key_bits;
	uint8_t key_type; /* enum cs_key_type */
	uint8_t state;    /* enum cs_key_state */
	uint8_t key_id[CS_SHA256_LEN];
	int64_t state_time; /* when the state last changed (0: never) */
	uint64_t created_index;
	uint64_t updated_index;
	uint8_t location; /* enum cs_key_location */
	uint8_t pad[7];
	/* then: curve, state actor (NUL-terminated), zero padding to 8 */
};

const char *cs_key_curve(const struct cs_key *k);
const char *cs_key_actor(const struct cs_key *k); /* "" if never changed */

/* ---- lookups ---- */

size_t cs_store_cert_count(const struct cs_store *s);
size_t cs_store_key_count(const struct cs_store *s);
/* By seq (1..count); NULL when out of range. */
const struct cs_cert *cs_store_cert(const struct cs_store *s, uint32_t seq);
const struct cs_cert *cs_store_get_fp(const struct cs_store *s,
    const uint8_t fp[CS_SHA256_LEN]);
/* Certificates with this serial; issuer (RFC 4514) may be NULL for any
 * issuer. Returns up to max in out, the total count as the result. */
size_t cs_store_get_serial(const struct cs_store *s, const char *issuer,
    const struct cs_serial *serial, const struct cs_cert **out, size_t max);
const struct cs_key *cs_store_get_key(const struct cs_store *s,
    const uint8_t key_id[CS_SHA256_LEN]);

/* ---- search ---- */

/*
 * A search over certificates: every non-NULL / non-default field must
 * match. Results come in seq order, after the cursor `after`, at most
 * limit (1..CS_QUERY_MAX_LIMIT). The store picks the most selective index
 * and filters the rest.
 *
 * subject, issuer and owner match exactly; san matches any SAN value
 * (DNS names and e-mail addresses case-insensitively); tag matches one of
 * the tags; status matches cs_cert_status_at(now); expires_after and
 * expires_before bound not_after (inclusive, exclusive; 0 = unbounded).
 */
#define CS_QUERY_MAX_LIMIT 10000

struct cs_query {
	const char *subject;
	const char *san;
	const char *issuer;
	const char *owner;
	const char *tag;
	const char *profile;
	const uint8_t *key_id; /* CS_SHA256_LEN bytes */
	const struct cs_serial *serial;
	int status; /* -1 any, else enum cs_cert_status */
	int source; /* -1 any, else enum cs_cert_source */
	int64_t expires_after;
	int64_t expires_before;
	int64_t now;
	uint32_t after; /* cursor: 0 to start */
	size_t limit;
};

/* Initialises q to "everything", limit 100. */
void cs_query_init(struct cs_query *q, int64_t now);

/* Fills out[0..*n) and sets *next to the cursor for the next page (0 when
 * there is none). */
void cs_store_search(const struct cs_store *s, const struct cs_query *q,
    const struct cs_cert **out, size_t *n, uint32_t *next);

/* Valid (not revoked) certificates with from <= not_after < to, in
 * not_after order, after the cursor (after_time, after_seq) (exclusive;
 * pass INT64_MIN, 0 to start). Fills out[0..*n), at most limit; *more is
 * set when more follow. Covers "expiring within" (from = now) and
 * "expired" (from = INT64_MIN, to = now). */
void cs_store_expiring(const struct cs_store *s, int64_t from, int64_t to,
    int64_t after_time, uint32_t after_seq, size_t limit,
    const struct cs_cert **out, size_t *n, bool *more);

/* Revoked certificates of one issuer (NULL: all), in seq order after the
 * cursor. Same paging contract as cs_store_search(). */
void cs_store_revoked(const struct cs_store *s, const char *issuer,
    uint32_t after, size_t limit, const struct cs_cert **out, size_t *n,
    uint32_t *next);
size_t cs_store_revoked_count(const struct cs_store *s);

/* What a CRL of issuer (RFC 4514) lists, one call of fn per certificate:
 * with changed_after 0 (a full CRL), every revoked certificate; else (a
 * delta CRL on a base published at log index changed_after) the revoked
 * certificates and the released holds (status valid, reason
 * removeFromCRL, revoked_at the release time) changed after that index.
 * Revoked ones come first, each group in seq order. */
void cs_store_crl_entries(const struct cs_store *s, const char *issuer,
    uint64_t changed_after, void (*fn)(void *arg, const struct cs_cert *c),
    void *arg);

/* The log index of the last CRL publication applied since this store was
 * loaded (0 after a restore), and of the last change to any certificate's
 * revocation status (revoked, hold released). For the CRL jobs. */
uint64_t cs_store_crl_index(const struct cs_store *s);
uint64_t cs_store_revocation_index(const struct cs_store *s);

/* Counts by status at time now, and valid certificates expiring in
 * [now, now + within). For metrics. O(1) and O(log n + k). */
void cs_store_counts(const struct cs_store *s, int64_t now, size_t *valid,
    size_t *revoked, size_t *expired);
size_t cs_store_count_expiring(const struct cs_store *s, int64_t now,
    int64_t within);

/* ---- named documents (profiles, issuers, members, ...) ---- */

enum cs_ns {
	CS_NS_PROFILE = 1, /* name -> cs_profile document */
	CS_NS_ISSUER,      /* name -> issuer document */
	CS_NS_CRL,         /* issuer name -> CRL state (cmd CRL_PUBLISH) */
	CS_NS_MEMBER,      /* raft id (decimal) -> member document */
	CS_NS_ROLE,        /* identity -> role binding document */
	CS_NS_NOTIFY,      /* alert key -> last sent (alert de-duplication) */
	CS_NS_ACME,        /* ACME accounts, orders, authorizations */
	CS_NS_EST,         /* EST/SCEP enrolment secrets (hashed) */
	CS_NS__MAX
};
const char *cs_ns_name(enum cs_ns ns);

/* A counter that changes whenever a document of ns is put or deleted in
 * this store (a cache key together with the store's address: a restore
 * makes a new store). */
uint64_t cs_store_doc_version(const struct cs_store *s, enum cs_ns ns);

/* The value stored under (ns, key), or NULL. Views. */
const uint8_t *cs_store_doc(const struct cs_store *s, enum cs_ns ns,
    const char *key, size_t *len);

/* Iterates the keys of one namespace in byte order, starting after
 * `after` (NULL: from the first). Returns the next key or NULL; *val and
 * *vlen receive its value. */
const char *cs_store_doc_next(const struct cs_store *s, enum cs_ns ns,
    const char *after, const uint8_t **val, size_t *vlen);

#endif
