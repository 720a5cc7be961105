/*
 * store_int.h - the store's internals, shared by store.c, store_query.c,
 * cmd.c, audit.c and snapshot.c only (cert/-private: cs_store__ prefix).
 *
 * Record memory. Records are immutable once built. The store owns the
 * current version of each record; a replaced (or deleted) record is
 * retired: freed at once, or, while snapshots are outstanding, kept on the
 * graveyard until the last one is released, because a snapshot's buffers
 * point at the records of the moment it was taken. Taking a snapshot thus
 * copies two arrays and touches no record, and a snapshot may hand the
 * record bytes to another thread (raft_uv compresses and writes snapshots
 * on its threadpool) while the loop goes on replacing records.
 *
 * A record is allocated on its own (cs_store__rec_alloc()) or lives in a
 * slab: the buffer a snapshot was restored from, used in place, freed when
 * its last record is retired. A store freed while snapshots are
 * outstanding lives on as a zombie until the last one is released.
 */
#ifndef CS_STORE_INT_H
#define CS_STORE_INT_H

#include "cert/audit.h"
#include "cert/cmd.h"
#include "cert/index.h"
#include "cert/store.h"

/* Record types (first header fields of every record). */
enum {
	CS_REC_CERT = 1,
	CS_REC_KEY = 2,
	CS_REC_DOC = 3
};
#define CS_REC_VERSION 1

/* A named document: (ns, key) -> value. */
struct cs_doc {
	uint32_t size;
	uint16_t rtype;
	uint16_t rver;
	uint8_t ns;
	uint8_t pad[3];
	uint32_t klen; /* without the NUL */
	uint32_t vlen;
	uint32_t pad2;
	uint64_t created_index;
	uint64_t updated_index;
	/* then key, NUL, value, zero padding to 8 */
};

#define CS_AUDIT_CHUNK 2048 /* entries per chunk; chunks never move */

struct cs_slab {
	uint8_t *base;
	size_t len;
	size_t live;             /* records still in use */
	void (*free_fn)(void *); /* NULL: not ours (a failed load) */
};

struct cs_dedupe_entry {
	uint8_t id[CS_REQUEST_ID_LEN];
	struct cs_result res;
};

/* A sorted set of certificate seqs. */
struct cs_seqset {
	uint32_t *v;
	size_t n, cap;
};

struct cs_store {
	uint64_t applied_index;

	/* certificates: certs[seq], seq 1..ncerts; cert_sizes[seq] mirrors
	 * certs[seq]->size so a snapshot never touches the records */
	struct cs_cert **certs;
	uint32_t *cert_sizes;
	size_t ncerts, capcerts;
	struct cs_index *by_fp;         /* fingerprint -> seq */
	struct cs_index *by_serial;     /* [neg][serial bytes] -> seqs */
	struct cs_index *by_key;        /* key id -> seqs */
	struct cs_index *by_issuer;     /* issuer text -> seqs */
	struct cs_index *by_subject;    /* subject text -> seqs */
	struct cs_index *by_san;        /* lower-cased SAN text -> seqs */
	struct cs_index *by_owner;      /* owner -> seqs */
	struct cs_index *by_tag;        /* tag -> seqs */
	struct cs_tindex *by_not_after; /* flag 1: revoked */
	uint64_t crl_index;             /* last CRL_PUBLISH applied (not kept in
					   snapshots: a restore rebuilds CRLs) */
	uint64_t revocation_index; /* last change of any revocation status */
	uint64_t doc_version[CS_NS__MAX]; /* changes per namespace (not kept
					     in snapshots) */
	struct cs_seqset revoked;         /* status revoked */
	struct cs_seqset released; /* holds removed (reason removeFromCRL):
				      delta CRLs list them */

	/* keys: keys[seq], seq 1..nkeys */
	struct cs_key **keys;
	uint32_t *key_sizes;
	size_t nkeys, capkeys;
	struct cs_index *key_by_id; /* key id -> key seq */

	/* documents, sorted by (ns, key bytes) */
	struct cs_doc **docs;
	size_t ndocs, capdocs;

	/* audit chain */
	struct cs_audit **audit; /* chunks of CS_AUDIT_CHUNK entries,
				    reference-counted (snapshots) */
	size_t naudit, nchunks;
	uint8_t audit_head[CS_SHA256_LEN];
	char **actors; /* interned actor names, in first-seen order */
	size_t nactors, capactors;
	struct cs_index *actor_by_name;

	/* recent request ids: a ring in arrival order */
	struct cs_dedupe_entry *dedupe; /* grows to CS_DEDUPE_MAX slots */
	size_t capdedupe;
	size_t ndedupe;                /* filled slots */
	size_t dedupe_next;            /* slot of the next insertion */
	struct cs_index *dedupe_by_id; /* id -> slot + 1 */

	/* record memory (see the top of this file) */
	unsigned nsnaps;    /* outstanding snapshots */
	bool zombie;        /* freed, waiting for its snapshots */
	const void **grave; /* retired while snapshots were outstanding */
	size_t ngrave, capgrave;
	struct cs_slab *slabs;
	size_t nslabs;
	bool bulk; /* loading: the ordered index comes at the end */
	struct cs_bytes *snap_bufs; /* a snapshot's buffer array, kept for
				       the next one (snapshot.c) */
	size_t cap_snap_bufs;
};

/* ---- records ---- */

/* Returns a new zeroed record of size bytes (rounded up to 8, stored in
 * its first field). */
void *cs_store__rec_alloc(size_t size);
/* Drops the store's record: see the top of this file. NULL is a no-op. */
void cs_store__retire(struct cs_store *s, const void *rec);
/* Records of [base, base + len) are in use, live of them. The slab is
 * freed with free_fn once all are retired and cs_store__slab_own() gave
 * it to the store. */
void cs_store__slab_add(struct cs_store *s, uint8_t *base, size_t len,
    size_t live);
void cs_store__slab_own(struct cs_store *s, uint8_t *base,
    void (*free_fn)(void *));
/* A snapshot starts or stops pointing at the store's records. */
void cs_store__snap_hold(struct cs_store *s);
void cs_store__snap_drop(struct cs_store *s);
/* A bulk load of about ncerts/nkeys records: indexes are sized once and
 * the ordered index is built at cs_store__bulk_end(). */
void cs_store__bulk_begin(struct cs_store *s, size_t ncerts, size_t nkeys);
void cs_store__bulk_end(struct cs_store *s);

/* Everything a certificate record is made of. Lists are packed
 * NUL-terminated strings: n strings in `bytes` bytes. */
struct cs_packed {
	const char *p;
	size_t bytes;
	size_t n;
};

struct cs_cert_parts {
	struct cs_cert hdr; /* fixed fields; size and offsets are computed */
	const uint8_t *serial;
	const char *issuer, *subject, *profile, *owner, *curve;
	struct cs_packed list[CS_LIST__MAX];
	const uint8_t *der;
	size_t der_len;
};

/* Builds a new record from parts (one reference). */
struct cs_cert *cs_store__cert_build(const struct cs_cert_parts *p);
/* Fills parts with views of an existing record, for making a new
 * version of it. */
void cs_store__cert_parts(const struct cs_cert *c, struct cs_cert_parts *p);
/* Packs a string vector (views into v, no copy of the pointers' targets
 * is kept: the result points into *scratch, which the caller frees). */
void cs_store__pack(const char *const *v, size_t n, char **scratch,
    struct cs_packed *out);

/* ---- mutations (used by cmd.c; each keeps every index consistent) ---- */

/* Appends a new certificate record (the store takes it). Its seq must be
 * ncerts + 1. */
void cs_store__cert_insert(struct cs_store *s, struct cs_cert *c);
/* Replaces certs[c->seq] with a new version (the store takes it and
 * retires the old one), updating the owner, tag and revoked indexes. */
void cs_store__cert_replace(struct cs_store *s, struct cs_cert *c);

struct cs_key *cs_store__key_build(const struct cs_key *hdr, const char *curve,
    const char *actor);
void cs_store__key_insert(struct cs_store *s, struct cs_key *k);
void cs_store__key_replace(struct cs_store *s, struct cs_key *k);

struct cs_doc *cs_store__doc_build(enum cs_ns ns, const char *key, size_t klen,
    const uint8_t *val, size_t vlen, uint64_t created, uint64_t updated);
/* Inserts or replaces (the store takes d). */
void cs_store__doc_put(struct cs_store *s, struct cs_doc *d);
/* Returns 0 or CS_ENOTFOUND. */
int cs_store__doc_del(struct cs_store *s, enum cs_ns ns, const char *key,
    size_t klen);
const struct cs_doc *cs_store__doc_find(const struct cs_store *s, enum cs_ns ns,
    const char *key, size_t klen);
const char *cs_store__doc_key(const struct cs_doc *d);
const uint8_t *cs_store__doc_value(const struct cs_doc *d);

void cs_store__dedupe_put(struct cs_store *s,
    const uint8_t id[CS_REQUEST_ID_LEN], const struct cs_result *res);

/* The by_serial key of a serial: [negative flag][magnitude]. key has
 * room for 1 + CS_SERIAL_MAX bytes. */
void cs_store__serial_key(const struct cs_serial *sn, uint8_t *key,
    size_t *klen);

/* Lower-cases ASCII into out (len + 1 bytes). */
void cs_store__lower(const char *in, size_t len, char *out);

#endif
